/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for sendmail_opts.c: every option of the list in
 * man/sendmail.1, clustered flags, attached and separate arguments, the
 * program names mailq and newaliases, recipient lists, and hostile input
 * (unknown options, missing arguments, bad NOTIFY/RET/ENVID values).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "sendmail_opts.h"

#define LONG_ENVID "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

struct opt_case {
	const char	*argv;		/* words separated by '|' */
	int		 rc;
	enum sendmail_mode mode;
	const char	*sender;	/* NULL: unset */
	const char	*rcpts;		/* joined with ' ' */
	bool		 extract;
	bool		 ignore_dot;
	const char	*notify;
	const char	*ret;
	const char	*extra;		/* "C=dir", "F=name", "V=id", "s=site" */
};

static const struct opt_case cases[] = {
	{ "sendmail|a@b", 0, SENDMAIL_MODE_DELIVER, NULL, "a@b", 0, 0, "", "",
	    NULL },
	{ "/usr/sbin/sendmail|-t", 0, SENDMAIL_MODE_DELIVER, NULL, "", 1, 0,
	    "", "", NULL },
	{ "sendmail|-ti|x", 0, SENDMAIL_MODE_DELIVER, NULL, "x", 1, 1, "", "",
	    NULL },
	{ "sendmail|-oi|x", 0, SENDMAIL_MODE_DELIVER, NULL, "x", 0, 1, "", "",
	    NULL },
	{ "sendmail|-o|i|x", 0, SENDMAIL_MODE_DELIVER, NULL, "x", 0, 1, "",
	    "", NULL },
	{ "sendmail|-i|x", 0, SENDMAIL_MODE_DELIVER, NULL, "x", 0, 1, "", "",
	    NULL },
	{ "sendmail|-fjoe@x|y", 0, SENDMAIL_MODE_DELIVER, "joe@x", "y", 0, 0,
	    "", "", NULL },
	{ "sendmail|-f|joe@x|y", 0, SENDMAIL_MODE_DELIVER, "joe@x", "y", 0, 0,
	    "", "", NULL },
	{ "sendmail|-r|<joe@x>|y", 0, SENDMAIL_MODE_DELIVER, "joe@x", "y", 0,
	    0, "", "", NULL },
	{ "sendmail|-f<>|y", 0, SENDMAIL_MODE_DELIVER, "", "y", 0, 0, "", "",
	    NULL },
	{ "sendmail|-f||y", 0, SENDMAIL_MODE_DELIVER, "", "y", 0, 0, "", "",
	    NULL },
	{ "sendmail|-F|Joe User|y", 0, SENDMAIL_MODE_DELIVER, NULL, "y", 0, 0,
	    "", "", "F=Joe User" },
	{ "sendmail|-bm|y", 0, SENDMAIL_MODE_DELIVER, NULL, "y", 0, 0, "", "",
	    NULL },
	{ "sendmail|-bs", 0, SENDMAIL_MODE_SMTP, NULL, "", 0, 0, "", "",
	    NULL },
	{ "sendmail|-bp", 0, SENDMAIL_MODE_MAILQ, NULL, "", 0, 0, "", "",
	    NULL },
	{ "sendmail|-bi", 0, SENDMAIL_MODE_NEWALIASES, NULL, "", 0, 0, "", "",
	    NULL },
	{ "sendmail|-I", 0, SENDMAIL_MODE_NEWALIASES, NULL, "", 0, 0, "", "",
	    NULL },
	{ "mailq", 0, SENDMAIL_MODE_MAILQ, NULL, "", 0, 0, "", "", NULL },
	{ "/usr/bin/newaliases", 0, SENDMAIL_MODE_NEWALIASES, NULL, "", 0, 0,
	    "", "", NULL },
	{ "sendmail|-q", 0, SENDMAIL_MODE_FLUSH, NULL, "", 0, 0, "", "",
	    NULL },
	{ "sendmail|-q30m", 0, SENDMAIL_MODE_QUEUE_RUNNER, NULL, "", 0, 0, "",
	    "", NULL },
	{ "sendmail|-qRexample.com", 0, SENDMAIL_MODE_FLUSH_SITE, NULL, "", 0,
	    0, "", "", "s=example.com" },
	{ "sendmail|-qSexample.com", 0, SENDMAIL_MODE_FLUSH_SITE, NULL, "", 0,
	    0, "", "", "s=example.com" },
	{ "sendmail|-N|success,DELAY|x", 0, SENDMAIL_MODE_DELIVER, NULL, "x",
	    0, 0, "SUCCESS,DELAY", "", NULL },
	{ "sendmail|-Nnever|x", 0, SENDMAIL_MODE_DELIVER, NULL, "x", 0, 0,
	    "NEVER", "", NULL },
	{ "sendmail|-R|hdrs|x", 0, SENDMAIL_MODE_DELIVER, NULL, "x", 0, 0, "",
	    "HDRS", NULL },
	{ "sendmail|-RFULL|x", 0, SENDMAIL_MODE_DELIVER, NULL, "x", 0, 0, "",
	    "FULL", NULL },
	{ "sendmail|-V|id 1|x", 0, SENDMAIL_MODE_DELIVER, NULL, "x", 0, 0, "",
	    "", "V=id 1" },
	{ "sendmail|-B|8BITMIME|-B7bit|x", 0, SENDMAIL_MODE_DELIVER, NULL, "x",
	    0, 0, "", "", NULL },
	{ "sendmail|-C|/etc/x|x", 0, SENDMAIL_MODE_DELIVER, NULL, "x", 0, 0,
	    "", "", "C=/etc/x" },
	{ "sendmail|-C/etc/y|x", 0, SENDMAIL_MODE_DELIVER, NULL, "x", 0, 0,
	    "", "", "C=/etc/y" },
	{ "sendmail|-v|-oem|-oee|-oep|-oeq|-oew|-odi|-odb|-odq|-om|-os|-oXy|"
	    "-oA/tmp/f|-L|lbl|-h|17|-m|-n|-U|-X|/tmp/log|x", 0,
	    SENDMAIL_MODE_DELIVER, NULL, "x", 0, 0, "", "", NULL },
	{ "sendmail|a@b,c@d, e|f", 0, SENDMAIL_MODE_DELIVER, NULL,
	    "a@b c@d e f", 0, 0, "", "", NULL },
	{ "sendmail|--|-notanoption", 0, SENDMAIL_MODE_DELIVER, NULL,
	    "-notanoption", 0, 0, "", "", NULL },
	{ "sendmail|x|-t", 0, SENDMAIL_MODE_DELIVER, NULL, "x -t", 0, 0, "",
	    "", NULL },
	{ "sendmail|,,|x", 0, SENDMAIL_MODE_DELIVER, NULL, "x", 0, 0, "", "",
	    NULL },
	/* Hostile and bad usage. */
	{ "sendmail|-Z|x", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-tZ|x", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-f", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-N", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-Nbogus|x", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-Nnever,success|x", -1, 0, NULL, NULL, 0, 0, NULL, NULL,
	    NULL },
	{ "sendmail|-Nsuccess,success|x", -1, 0, NULL, NULL, 0, 0, NULL, NULL,
	    NULL },
	{ "sendmail|-Nsuccess,|x", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-N|,|x", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-Rsome|x", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-V||x", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-V" LONG_ENVID "|x", -1, 0, NULL, NULL, 0, 0, NULL, NULL,
	    NULL },
	{ "sendmail|-B|BINARYMIME|x", -1, 0, NULL, NULL, 0, 0, NULL, NULL,
	    NULL },
	{ "sendmail|-bd", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-bv|x", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-qX", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-qR", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-h|99999999999999999999|x", -1, 0, NULL, NULL, 0, 0, NULL,
	    NULL, NULL },
	{ "sendmail|-h|-1|x", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
	{ "sendmail|-\xc3\xa9|x", -1, 0, NULL, NULL, 0, 0, NULL, NULL, NULL },
};

/* Splits at '|' into a heap argv (the strings are one heap copy). */
static char **
make_argv(const char *s, int *argc_r, char **copy_r)
{
	char *copy = xstrdup(s), *p = copy;
	char **av = xcalloc(64, sizeof(*av));
	int n = 0;

	av[n++] = p;
	while ((p = strchr(p, '|')) != NULL) {
		*p++ = '\0';
		av[n++] = p;
	}
	*argc_r = n;
	*copy_r = copy;
	return av;
}

START_TEST(test_parse)
{
	const struct opt_case *c = &cases[_i];
	struct sendmail_opts o;
	const char *err = NULL;
	char **av, *copy, *joined;
	int ac, rc;

	av = make_argv(c->argv, &ac, &copy);
	rc = sendmail_opts_parse(&o, ac, av, &err);
	ck_assert_msg(rc == c->rc, "%s: rc %d (%s)", c->argv, rc,
	    err != NULL ? err : "");
	if (rc == -1) {
		ck_assert_ptr_nonnull(err);
		ck_assert(*err != '\0');
		goto out;
	}
	ck_assert_int_eq(o.mode, c->mode);
	if (c->sender == NULL)
		ck_assert_ptr_null(o.sender);
	else
		ck_assert_str_eq(o.sender, c->sender);
	joined = strv_join(&o.rcpts, " ");
	ck_assert_str_eq(joined, c->rcpts);
	free(joined);
	ck_assert_int_eq(o.extract, c->extract);
	ck_assert_int_eq(o.ignore_dot, c->ignore_dot);
	ck_assert_str_eq(o.notify, c->notify);
	ck_assert_str_eq(o.ret, c->ret);
	if (c->extra != NULL) {
		const char *v = c->extra + 2;

		switch (c->extra[0]) {
		case 'C':
			ck_assert_str_eq(o.config_dir, v);
			break;
		case 'F':
			ck_assert_str_eq(o.fullname, v);
			break;
		case 'V':
			ck_assert_str_eq(o.envid, v);
			break;
		case 's':
			ck_assert_str_eq(o.site, v);
			break;
		}
	} else {
		ck_assert_ptr_null(o.config_dir);
		ck_assert_ptr_null(o.fullname);
		ck_assert_ptr_null(o.envid);
	}
out:
	sendmail_opts_deinit(&o);
	free(av);
	free(copy);
}
END_TEST

START_TEST(test_notify_room)
{
	char small[8];
	const char *err;

	ck_assert_int_eq(sendmail_opts_notify("success,failure", small,
	    sizeof(small), &err), -1);
	ck_assert_int_eq(sendmail_opts_notify("never", small, sizeof(small),
	    &err), 0);
	ck_assert_str_eq(small, "NEVER");
	ck_assert_int_eq(sendmail_opts_notify("", small, sizeof(small),
	    &err), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("sendmail_opts");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse, 0, ARRAY_LEN(cases));
	tcase_add_test(tc, test_notify_room);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
