/* SPDX-License-Identifier: MIT */
/* Unit tests for mastercf.c: columns, defaults, -o, hostile input. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mastercf.h"
#include "test_main.h"

static const char good[] =
    "# service type  private unpriv  chroot  wakeup  maxproc command\n"
    "smtp      inet  n       -       n       -       -       smtpd\n"
    "127.0.0.1:2525 inet n   -       y       -       5       smtpd\n"
    "[::1]:submission inet n -       -       -       -       smtpd\n"
    "  -o syslog_name=tern/submission\n"
    "\n"
    "  -o { smtpd_client_restrictions = permit, reject }\r\n"
    "pickup    unix  n       -       n       60?     1       pickup\n"
    "qmgr      fifo  -       n       -       300     1       qmgr -v";

START_TEST(test_good)
{
	struct mastercf *mc = NULL;
	const struct mastercf_entry *e;
	const char *err = NULL;
	char *line;

	ck_assert_msg(mastercf_parse_text("master.cf", good, sizeof(good) - 1,
	    100, &mc, &err) == 0, "%s", err);
	ck_assert_uint_eq(mc->n, 5);
	e = mastercf_find(mc, "smtp", "inet");
	ck_assert_ptr_nonnull(e);
	ck_assert(!e->private_service);
	ck_assert(e->unpriv);
	ck_assert(!e->chroot);
	ck_assert_uint_eq(e->wakeup, 0);
	ck_assert_uint_eq(e->maxproc, 100);
	ck_assert_uint_eq(e->line, 2);
	e = mastercf_find(mc, "127.0.0.1:2525", "inet");
	ck_assert(e->chroot);
	ck_assert_uint_eq(e->maxproc, 5);
	e = mastercf_find(mc, "[::1]:submission", NULL);
	ck_assert_uint_eq(e->line, 4);
	ck_assert_uint_eq(e->overrides.n, 2);
	ck_assert_str_eq(e->overrides.v[1],
	    "smtpd_client_restrictions=permit, reject");
	line = mastercf_format(e);
	ck_assert_str_eq(line, "[::1]:submission inet  n       -       -     "
	    "  -       -       smtpd -o syslog_name=tern/submission -o { "
	    "smtpd_client_restrictions=permit, reject }");
	free(line);
	e = mastercf_find(mc, "pickup", "unix");
	ck_assert_uint_eq(e->wakeup, 60);
	ck_assert(e->wakeup_if_used);
	e = mastercf_find(mc, "qmgr", "fifo");
	ck_assert(e->private_service);
	ck_assert(!e->unpriv);
	ck_assert_uint_eq(e->argv.n, 2);
	ck_assert_str_eq(e->argv.v[1], "-v");
	ck_assert_ptr_null(mastercf_find(mc, "qmgr", "unix"));
	mastercf_free(&mc);
	ck_assert_ptr_null(mc);
}
END_TEST

static const struct {
	const char *in;
	size_t	    len;
	const char *err;
} bad_cases[] = {
#define T(s, e) { s, sizeof(s) - 1, e }
	T("smtp inet n - n - -\n", "M, line 1: expected 7 columns and a "
	  "command, got 7 fields"),
	T("smtp\n", "M, line 1: expected 7 columns and a command, got 1 "
	  "field"),
	T("smtp tcp n - n - - smtpd\n", "M, line 1: bad service type "
	  "\"tcp\" (expected inet, unix, unix-dgram, fifo or pass)"),
	T("smtp inet x - n - - smtpd\n", "M, line 1: private: expected y, n "
	  "or -, got \"x\""),
	T("smtp inet n yes n - - smtpd\n", "M, line 1: unpriv: expected y, n "
	  "or -, got \"yes\""),
	T("smtp inet n - Y - - smtpd\n", "M, line 1: chroot: expected y, n "
	  "or -, got \"Y\""),
	T("smtp inet n - n 1m - smtpd\n", "M, line 1: wakeup: expected a "
	  "number of seconds, optionally followed by '?', got \"1m\""),
	T("smtp inet n - n ?? - smtpd\n", "M, line 1: wakeup: expected a "
	  "number of seconds, optionally followed by '?', got \"??\""),
	T("smtp inet n - n 99999999999999999999 - smtpd\n", "M, line 1: "
	  "wakeup: expected a number of seconds, optionally followed by '?', "
	  "got \"99999999999999999999\""),
	T("smtp inet n - n - -1 smtpd\n", "M, line 1: maxproc: expected a "
	  "number, got \"-1\""),
	T("smtp inet n - n - 9999999999 smtpd\n", "M, line 1: maxproc: "
	  "expected a number, got \"9999999999\""),
	T("host:99999 inet n - n - - smtpd\n", "M, line 1: bad service name "
	  "\"host:99999\""),
	T(":25 inet n - n - - smtpd\n", "M, line 1: bad service name "
	  "\":25\""),
	T("../x unix n - n - - smtpd\n", "M, line 1: bad service name "
	  "\"../x\""),
	T("sm\xc3\xa4 unix n - n - - smtpd\n", "M, line 1: bad service name "
	  "\"sm\\xc3\\xa4\""),
	T("smtp inet n - n - - smtpd -o\n", "M, line 1: -o without "
	  "name=value"),
	T("smtp inet n - n - - smtpd -o x\n", "M, line 1: -o x: missing '=' "
	  "after attribute name"),
	T("smtp inet n - n - - smtpd -o { a = b\n", "M, line 1: missing "
	  "'}'"),
	T("smtp inet n - n - - smtpd\n# c\nsmtp inet n - n - - smtpd\n",
	  "M, line 3: duplicate service smtp/inet (first at line 1)"),
	T("smtp inet n - n - - sm\0tpd\n", "M, line 1: NUL byte in line"),
	T("smtp inet n - n - - sm\rtpd\n", "M, line 1: stray carriage "
	  "return in line"),
	T("{smtp} inet n - n - - smtpd\n", "M, line 1: service: braces not "
	  "allowed"),
#undef T
};

START_TEST(test_bad)
{
	struct mastercf *mc = NULL;
	const char *err = NULL;

	ck_assert_int_eq(mastercf_parse_text("M", bad_cases[_i].in,
	    bad_cases[_i].len, 100, &mc, &err), -1);
	ck_assert_ptr_null(mc);
	ck_assert_str_eq(err, bad_cases[_i].err);
}
END_TEST

START_TEST(test_missing_file)
{
	struct mastercf *mc = NULL;
	const char *err;

	ck_assert_int_eq(mastercf_parse_file("/nonexistent/master.cf", 100,
	    &mc, &err), -1);
	ck_assert_str_eq(err, "open /nonexistent/master.cf: No such file or "
	    "directory");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("mastercf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_good);
	tcase_add_loop_test(tc, test_bad, 0, ARRAY_LEN(bad_cases));
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
