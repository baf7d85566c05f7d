/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the regexp: table: matching, flags, negation, nested
 * if/endif, substitution, other delimiters, and hostile rules that must be
 * skipped with a warning naming the file and line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dict.h"
#include "log.h"
#include "test_main.h"
#include "xalloc.h"

static const char rules[] =
    "# regexp rules\n"
    "/^(.*)@(.*)\\.example\\.com$/\tuser=$1 host=${2}x $$ $(1)\n"
    "/^CaseSens$/i\tsensitive\n"
    "if /^if-/\n"
    "if !/skip/\n"
    "/^if-(a|b)$/\tinner-$1\n"
    "endif\n"
    "/^if-skip$/\tskipped-inner\n"
    "endif\n"
    "/^if-a$/\touter-a\n"
    "#@pipe|delim@ is a comment\n"
    "@^at\\@sign@\tat-delim\n"
    "|^pi(p)e@$|\tpipe-$1\n"
    "/^multi$/ first\n"
    "  continued\n"
    "/^(x)(y)?z@/\t[$2]\n"
    "/^empty@/\n"
    "/^\xc3\xa4@/\tnon-ascii\n"
    "/^x\\.y@/\tdot\n"
    "/^ten(1)(2)(3)(4)(5)(6)(7)(8)(9)(0)@/\t$10-$1\n"
    "/^[.]no@/\tlast\n"
    "!/[.@]/\tnodot\n";

static const struct {
	const char *key;
	int	    rc;
	const char *value;
} cases[] = {
	{ "bob@mail.example.com", 1, "user=bob host=mailx $ bob" },
	{ "BOB@Mail.Example.COM", 1, "user=BOB host=Mailx $ BOB" },
	{ "CaseSens", 1, "sensitive" },
	{ "casesens", 1, "nodot" },
	{ "plain", 1, "nodot" },
	{ "if-a", 1, "inner-a" },
	{ "IF-B", 1, "inner-B" },
	{ "if-skip", 1, "skipped-inner" },
	{ "at@sign", 1, "at-delim" },
	{ "pipe@x", 0, NULL },
	{ "PIPE@", 1, "pipe-P" },
	{ "multi", 1, "first  continued" },
	{ "xz@", 1, "[]" },
	{ "xyz@", 1, "[y]" },
	{ "empty@", 1, "" },
	{ "\xc3\xa4@", 1, "non-ascii" },
	{ "x.y@", 1, "dot" },
	{ "xqy@", 0, NULL },
	{ "ten1234567890@", 1, "0-1" },
	{ ".no@", 1, "last" },
	{ "a@b", 0, NULL },
	{ "", 1, "nodot" },
};

static char *
write_rules(const char *data, size_t n)
{
	char *path = xstrdup("/tmp/test_dict_regexp.XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
	return path;
}

START_TEST(test_lookup)
{
	char *path = write_rules(rules, sizeof(rules) - 1);
	char *spec = xasprintf("regexp:%s", path);
	const char *err = NULL, *v = NULL;
	struct dict *d = dict_open(spec, DICT_FLAG_FOLD, &err);
	int rc;

	ck_assert_msg(d != NULL, "%s", err);
	rc = dict_lookup(d, cases[_i].key, &v, &err);
	ck_assert_msg(rc == cases[_i].rc, "key %s: rc %d (%s)", cases[_i].key,
	    rc, rc == 1 ? v : "");
	if (rc == 1)
		ck_assert_str_eq(v, cases[_i].value);
	dict_free(&d);
	unlink(path);
	free(spec);
	free(path);
}
END_TEST

/* Each bad rule is skipped with a warning naming file and line; the good
 * rule after it still works. */
static const struct {
	const char *rule;
	const char *warning;
} bad[] = {
	{ "/(a)/ $2", "out of range replacement index \"2\"" },
	{ "/(a)/ $10", "out of range replacement index \"10\"" },
	{ "/(a)/ $1x", "non-numeric replacement index \"1x\"" },
	{ "/a/ $", "bad replacement syntax" },
	{ "/a/ ${1", "bad replacement syntax" },
	{ "/a/ $b", "non-numeric replacement index \"b\"" },
	{ "/(a)/ $0", "out of range replacement index \"0\"" },
	{ "!/(a)/ $1", "negative match" },
	{ "/a( b", "no closing regexp delimiter" },
	{ "/a(/ x", "skipping this rule" },
	{ "/a[/ x", "skipping this rule" },
	{ "/a/q x", "unknown regexp option \"q\"" },
	{ "abc x", "invalid regexp delimiter" },
	{ "\\a\\ x", "invalid regexp delimiter" },
	{ "endif", "ignoring ENDIF without matching IF" },
	{ "if /a/\n/b/ c", "IF has no matching ENDIF" },
	{ "/a/", "no replacement text" },
	{ "/a/ x\0y", "NUL byte" },
	{ "/a/ x\ry", NULL },
	{ "if /(/\n/z/ z\nendif", "skipping this rule" },
};

static struct buf_log {
	char	text[4096];
	size_t	len;
} logged;

static void
hook(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	logged.len += snprintf(logged.text + logged.len,
	    sizeof(logged.text) - logged.len, "%s\n", msg);
	if (logged.len >= sizeof(logged.text))
		logged.len = sizeof(logged.text) - 1;
}

START_TEST(test_bad_rules)
{
	char *data = xmalloc(strlen(bad[_i].rule) + 64);
	size_t n = 0;
	char *path, *spec, *want;
	const char *err = NULL, *v;
	struct dict *d;

	/* The rule may contain a NUL: copy it with its full length. */
	n = sizeof("# x\n") - 1;
	memcpy(data, "# x\n", n);
	memcpy(data + n, bad[_i].rule, strlen(bad[_i].rule));
	n += strlen(bad[_i].rule);
	if (strcmp(bad[_i].rule, "/a/ x") == 0)
		memcpy(data + n, "\0y", 2), n += 2;
	memcpy(data + n, "\n", 1);
	n++;
	path = write_rules(data, n);
	spec = xasprintf("regexp:%s", path);
	logged.len = 0;
	logged.text[0] = '\0';
	log_set_hook(hook, NULL);
	d = dict_open(spec, 0, &err);
	log_set_hook(NULL, NULL);
	ck_assert_msg(d != NULL, "%s", err);
	if (bad[_i].warning != NULL) {
		want = xasprintf("%s, line 2", path);
		ck_assert_msg(strstr(logged.text, want) != NULL,
		    "rule %s: logged %s", bad[_i].rule, logged.text);
		ck_assert_msg(strstr(logged.text, bad[_i].warning) != NULL,
		    "rule %s: logged %s", bad[_i].rule, logged.text);
		free(want);
	}
	/* Nothing bad ever matches "q". */
	ck_assert_int_eq(dict_lookup(d, "q", &v, &err), 0);
	dict_free(&d);
	unlink(path);
	free(spec);
	free(path);
	free(data);
}
END_TEST

START_TEST(test_open_missing)
{
	const char *err = NULL;
	struct dict *d = dict_open("regexp:/nonexistent/rules", 0, &err);

	ck_assert_ptr_null(d);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/rules"));
}
END_TEST

/* A result that expands past the bound is an error, not a truncation. */
START_TEST(test_result_bound)
{
	char *rule = xmalloc(DICT_LINE_MAX);
	char *key = xmalloc(DICT_KEY_MAX + 1);
	char *path, *spec;
	const char *err = NULL, *v;
	struct dict *d;
	size_t n;

	n = (size_t)snprintf(rule, DICT_LINE_MAX, "/^(.*)$/ ");
	while (n + 3 < DICT_LINE_MAX - 2)
		memcpy(rule + n, "$1 ", 3), n += 3;
	rule[n++] = '\n';
	path = write_rules(rule, n);
	spec = xasprintf("regexp:%s", path);
	d = dict_open(spec, 0, &err);
	ck_assert_ptr_nonnull(d);
	memset(key, 'k', DICT_KEY_MAX);
	key[DICT_KEY_MAX] = '\0';
	ck_assert_int_eq(dict_lookup(d, key, &v, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
	ck_assert_int_eq(dict_lookup(d, "k", &v, &err), 1);
	dict_free(&d);
	unlink(path);
	free(spec);
	free(path);
	free(rule);
	free(key);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dict_regexp");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_lookup, 0, ARRAY_LEN(cases));
	tcase_add_loop_test(tc, test_bad_rules, 0, ARRAY_LEN(bad));
	tcase_add_test(tc, test_open_missing);
	tcase_add_test(tc, test_result_bound);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
