/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for local_parse.c and local_virtual.c: alias values,
 * .forward/:include: files, item kinds, command argv splitting and
 * virtual mailbox path safety, each with hostile input.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "local.h"

/* Items joined with "|" for comparison; NULL expects an error. */
static const struct {
	const char	*in;
	size_t		 len;	/* 0: strlen */
	const char	*want;
} alias_cases[] = {
	{ "user", 0, "user" },
	{ "a, b,c", 0, "a|b|c" },
	{ "  a  ,\tb  ", 0, "a|b" },
	{ "a,,, ,b", 0, "a|b" },
	{ "\"|/bin/cmd a, b\", c", 0, "|/bin/cmd a, b|c" },
	{ "/var/log/file", 0, "/var/log/file" },
	{ ":include:/etc/list", 0, ":include:/etc/list" },
	{ "a,\n b", 0, "a|b" },
	{ "\\user, other", 0, "\\user|other" },
	{ "j\xc3\xbcrgen", 0, "j\xc3\xbcrgen" },
	/* hostile */
	{ "", 0, NULL },
	{ " , ,", 0, NULL },
	{ "\"unterminated, x", 0, NULL },
	{ "a\0b", 3, NULL },
	{ "a\001b", 0, NULL },
	{ "a\x7f", 0, NULL },
	{ "\"a\nb\"", 0, NULL },
	{ "\"a\rb\"", 0, NULL },
};

static char *
joined(const struct strv *sv)
{
	return sv->n > 0 ? strv_join(sv, "|") : xstrdup("");
}

START_TEST(test_alias_parse)
{
	struct strv items;
	const char *err = NULL, *in = alias_cases[_i].in;
	size_t len = alias_cases[_i].len ? alias_cases[_i].len : strlen(in);
	int rc;

	strv_init(&items);
	rc = local_alias_parse(in, len, &items, &err);
	if (alias_cases[_i].want == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_ptr_nonnull(err);
		ck_assert_uint_eq(items.n, 0);
	} else {
		char *j;

		ck_assert_msg(rc == 0, "case %d: %s", _i, err);
		j = joined(&items);
		ck_assert_str_eq(j, alias_cases[_i].want);
		free(j);
	}
	strv_deinit(&items);
}
END_TEST

START_TEST(test_alias_too_long)
{
	struct strv items;
	const char *err;
	char *big = xmalloc(LOCAL_ALIAS_VALUE_MAX + 2);

	memset(big, 'a', LOCAL_ALIAS_VALUE_MAX + 1);
	big[LOCAL_ALIAS_VALUE_MAX + 1] = '\0';
	strv_init(&items);
	ck_assert_int_eq(local_alias_parse(big, strlen(big), &items, &err),
	    -1);
	/* Too many items. */
	struct buf b;

	buf_init(&b, 0);
	for (int i = 0; i <= LOCAL_ALIAS_ITEMS_MAX; i++)
		buf_adds(&b, "x,");
	ck_assert_int_eq(local_alias_parse(b.data, b.len, &items, &err), -1);
	ck_assert_str_eq(err, "too many items in alias value");
	buf_deinit(&b);
	strv_deinit(&items);
	free(big);
}
END_TEST

START_TEST(test_alias_file)
{
	static const char text[] =
	    "# a comment, with a comma\n"
	    "  # indented comment\n"
	    "\\joe\n"
	    "\"|/usr/bin/vacation joe\"\n"
	    "\n"
	    "other@example.org, third\n";
	struct strv items;
	const char *err = NULL;
	char *j;

	strv_init(&items);
	ck_assert_int_eq(local_alias_parse_file(text, sizeof(text) - 1,
	    &items, &err), 0);
	j = joined(&items);
	ck_assert_str_eq(j, "\\joe||/usr/bin/vacation joe|"
	    "other@example.org|third");
	free(j);
	strv_deinit(&items);
	strv_init(&items);
	ck_assert_int_eq(local_alias_parse_file("# only\n", 7, &items, &err),
	    -1);
	ck_assert_int_eq(local_alias_parse_file("a\0b\n", 4, &items, &err),
	    -1);
	strv_deinit(&items);
}
END_TEST

static const struct {
	const char	*in;
	int		 kind;	/* -1: error */
	const char	*rest;
} kind_cases[] = {
	{ "user", LOCAL_ITEM_ADDR, "user" },
	{ "user@example.org", LOCAL_ITEM_ADDR, "user@example.org" },
	{ "|/bin/cat", LOCAL_ITEM_COMMAND, "/bin/cat" },
	{ "|  /bin/cat -u", LOCAL_ITEM_COMMAND, "/bin/cat -u" },
	{ "/var/mail/x", LOCAL_ITEM_FILE, "/var/mail/x" },
	{ ":include:/etc/l", LOCAL_ITEM_INCLUDE, "/etc/l" },
	{ ":INCLUDE: /etc/l", LOCAL_ITEM_INCLUDE, "/etc/l" },
	{ "\\joe", LOCAL_ITEM_SELF, "joe" },
	{ "|", -1, NULL },
	{ "|   ", -1, NULL },
	{ ":include:relative", -1, NULL },
	{ ":include:", -1, NULL },
	{ "\\", -1, NULL },
	{ "@example.org", -1, NULL },
	{ "", -1, NULL },
};

START_TEST(test_item_kind)
{
	enum local_item_kind kind;
	const char *rest, *err;
	int rc = local_item_kind(kind_cases[_i].in, &kind, &rest, &err);

	if (kind_cases[_i].kind == -1) {
		ck_assert_int_eq(rc, -1);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq((int)kind, kind_cases[_i].kind);
		ck_assert_str_eq(rest, kind_cases[_i].rest);
	}
}
END_TEST

static const struct {
	const char	*in;
	const char	*want;	/* argv joined with "|"; NULL: error */
	bool		 shell;
} split_cases[] = {
	{ "/bin/cat", "/bin/cat", false },
	{ "  /bin/cat   -u  ", "/bin/cat|-u", false },
	{ "prog 'a b' \"c d\"", "prog|a b|c d", false },
	{ "prog a\\ b", "prog|a b", false },
	{ "prog \"x\\\"y\"", "prog|x\"y", false },
	{ "prog 'it''s'", "prog|its", false },
	{ "prog ''", "prog|", false },
	{ "prog \"caf\xc3\xa9\"", "prog|caf\xc3\xa9", false },
	/* hostile */
	{ "", NULL, false },
	{ "   ", NULL, false },
	{ "prog 'open", NULL, false },
	{ "prog \"open", NULL, false },
	{ "prog trailing\\", NULL, false },
	{ "prog a\rb", NULL, false },
	{ "prog a\nb", NULL, true },
	{ "prog \x01", NULL, false },
};

START_TEST(test_cmd_split)
{
	struct strv av;
	const char *err = NULL;
	int rc;

	strv_init(&av);
	rc = local_cmd_split(split_cases[_i].in, &av, &err);
	if (split_cases[_i].want == NULL) {
		ck_assert_msg(rc == -1, "case %d accepted", _i);
		ck_assert_ptr_nonnull(err);
		ck_assert_uint_eq(av.n, 0);
	} else {
		char *j;

		ck_assert_msg(rc == 0, "case %d: %s", _i, err);
		j = strv_join(&av, "|");
		ck_assert_str_eq(j, split_cases[_i].want);
		free(j);
	}
	ck_assert_int_eq(local_cmd_needs_shell(split_cases[_i].in),
	    split_cases[_i].shell);
	strv_deinit(&av);
}
END_TEST

START_TEST(test_cmd_split_limits)
{
	struct strv av;
	struct buf b;
	const char *err;

	strv_init(&av);
	buf_init(&b, 0);
	buf_adds(&b, "prog");
	for (int i = 0; i < LOCAL_CMD_ARGS_MAX; i++)
		buf_adds(&b, " a");
	ck_assert_int_eq(local_cmd_split(b.data, &av, &err), -1);
	ck_assert_str_eq(err, "too many command arguments");
	buf_reset(&b);
	buf_adds(&b, "prog ");
	for (int i = 0; i < LOCAL_ALIAS_VALUE_MAX; i++)
		buf_addc(&b, 'x');
	ck_assert_int_eq(local_cmd_split(b.data, &av, &err), -1);
	ck_assert_uint_eq(av.n, 0);
	buf_deinit(&b);
	strv_deinit(&av);
	ck_assert(local_cmd_needs_shell("a | b"));
	ck_assert(local_cmd_needs_shell("echo $HOME"));
	ck_assert(local_cmd_needs_shell("cat > /tmp/x"));
	ck_assert(local_cmd_needs_shell("ls *"));
	ck_assert(local_cmd_needs_shell("cd ~"));
	ck_assert(!local_cmd_needs_shell("/usr/bin/procmail -a x"));
}
END_TEST

static const struct {
	const char	*base;
	const char	*result;
	const char	*want;	/* NULL: error */
	bool		 maildir;
} vpath_cases[] = {
	{ "/var/vmail", "example.org/joe/", "/var/vmail/example.org/joe",
	  true },
	{ "/var/vmail/", "example.org/joe", "/var/vmail/example.org/joe",
	  false },
	{ "/var/vmail", "a/.hidden/", "/var/vmail/a/.hidden", true },
	{ "/var/vmail", "a/..b/c", "/var/vmail/a/..b/c", false },
	/* hostile */
	{ "/var/vmail", "../etc/passwd", NULL, false },
	{ "/var/vmail", "a/../../etc/", NULL, false },
	{ "/var/vmail", "a/..", NULL, false },
	{ "/var/vmail", "./a", NULL, false },
	{ "/var/vmail", "/etc/passwd", NULL, false },
	{ "/var/vmail", "", NULL, false },
	{ "/var/vmail", "a\nb", NULL, false },
	{ "/var/vmail", "a\rb/", NULL, false },
	{ "", "a/", NULL, false },
	{ "relative", "a/", NULL, false },
};

START_TEST(test_virtual_path)
{
	char *path = NULL;
	const char *err = NULL;
	bool maildir = false;
	int rc = local_virtual_path(vpath_cases[_i].base,
	    vpath_cases[_i].result, &path, &maildir, &err);

	if (vpath_cases[_i].want == NULL) {
		ck_assert_msg(rc == -1, "case %d accepted", _i);
		ck_assert_ptr_nonnull(err);
	} else {
		ck_assert_msg(rc == 0, "case %d: %s", _i, err);
		ck_assert_str_eq(path, vpath_cases[_i].want);
		ck_assert_int_eq(maildir, vpath_cases[_i].maildir);
		free(path);
	}
}
END_TEST

START_TEST(test_virtual_id)
{
	long long id;
	const char *err;

	ck_assert_int_eq(local_virtual_id("5000", &id, &err), 0);
	ck_assert_int_eq(id, 5000);
	ck_assert_int_eq(local_virtual_id("-1", &id, &err), -1);
	ck_assert_int_eq(local_virtual_id("", &id, &err), -1);
	ck_assert_int_eq(local_virtual_id(" 5", &id, &err), -1);
	ck_assert_int_eq(local_virtual_id("5x", &id, &err), -1);
	ck_assert_int_eq(local_virtual_id("99999999999999999999", &id, &err),
	    -1);
	ck_assert_int_eq(local_virtual_id("4294967296", &id, &err), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("local_parse");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_alias_parse, 0, ARRAY_LEN(alias_cases));
	tcase_add_test(tc, test_alias_too_long);
	tcase_add_test(tc, test_alias_file);
	tcase_add_loop_test(tc, test_item_kind, 0, ARRAY_LEN(kind_cases));
	tcase_add_loop_test(tc, test_cmd_split, 0, ARRAY_LEN(split_cases));
	tcase_add_test(tc, test_cmd_split_limits);
	tcase_add_loop_test(tc, test_virtual_path, 0, ARRAY_LEN(vpath_cases));
	tcase_add_test(tc, test_virtual_id);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
