/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the lookup tables of dict.c: static:, inline:, texthash:,
 * hash: (build, rebuild under an open reader, update, delete, dump),
 * aliases source format and unix:, with hostile source text.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dict.h"
#include "test_main.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/test_dict.XXXXXX";

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	memcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6);
}

/* Writes n bytes to DIR/name; returns the heap path. */
static char *
write_file(const char *name, const char *data, size_t n)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(data, 1, n, fp), n);
	ck_assert_int_eq(fclose(fp), 0);
	return path;
}

/* Looks key up in spec; returns rc and copies the value. */
static int
lookup(const char *spec, int flags, const char *key, char **value_r)
{
	const char *err = NULL, *v;
	struct dict *d = dict_open(spec, flags, &err);
	int rc;

	ck_assert_msg(d != NULL, "open %s: %s", spec, err);
	rc = dict_lookup(d, key, &v, &err);
	*value_r = rc == 1 ? xstrdup(v) : NULL;
	dict_free(&d);
	ck_assert_ptr_null(d);
	return rc;
}

static const struct {
	const char *spec, *key;
	int	    rc;
	const char *value;
} lookup_cases[] = {
	{ "static:foo", "anything", 1, "foo" },
	{ "static:", "x", 1, "" },
	{ "static:{ text with spaces }", "x", 1, "text with spaces" },
	{ "static:{}", "x", 1, "" },
	{ "inline:{k=v}", "k", 1, "v" },
	{ "inline:{K=V}", "k", 1, "V" },
	{ "inline:{k=v}", "K", 1, "v" },
	{ "inline:{ a=1, b=2 c=3,,d=4 }", "c", 1, "3" },
	{ "inline:{ a=1, { b c = text, with comma }, d=4 }", "b c", 1,
	    "text, with comma" },
	{ "inline:{ a=1, { b c = text, with comma }, d=4 }", "d", 1, "4" },
	{ "inline:{a=1}", "b", 0, NULL },
	{ "inline:{a=}", "a", 1, "" },
	{ "inline:{a=1,a=2}", "a", 1, "1" },
	{ "inline:{}", "a", 0, NULL },
	{ "inline:{x=\xc3\xa4}", "x", 1, "\xc3\xa4" },
	{ "unix:passwd.byname", "no-such-user-tern", 0, NULL },
	{ "unix:passwd.byname", "", 0, NULL },
};

START_TEST(test_lookup)
{
	char *v = NULL;
	int rc = lookup(lookup_cases[_i].spec, DICT_FLAG_FOLD,
	    lookup_cases[_i].key, &v);

	ck_assert_msg(rc == lookup_cases[_i].rc, "%s %s: rc %d",
	    lookup_cases[_i].spec, lookup_cases[_i].key, rc);
	if (rc == 1)
		ck_assert_str_eq(v, lookup_cases[_i].value);
	free(v);
}
END_TEST

static const char *const bad_specs[] = {
	"nocolon",
	"nosuch:table",
	"static:{unterminated",
	"inline:k=v",
	"inline:{k=v",
	"inline:{k}",
	"inline:{=v}",
	"inline:{ {k=v }",
	"inline:{ k=v{x=y} }",
	"inline:{ a=b, { c } }",
	"unix:group.byname",
	"texthash:/nonexistent/file",
	"hash:/nonexistent/file",
	"",
	":",
};

START_TEST(test_open_errors)
{
	const char *err = NULL;
	struct dict *d = dict_open(bad_specs[_i], 0, &err);

	ck_assert_msg(d == NULL, "%s opened", bad_specs[_i]);
	ck_assert_ptr_nonnull(err);
	ck_assert_uint_gt(strlen(err), 0);
}
END_TEST

static const char source[] =
    "# comment\n"
    "Foo\tbar\n"
    "foo baz\n"
    "  cont\n"
    "\n"
    "user@ local\n"
    "@Example.COM domain value\n"
    "  continued here\n"
    "# comment between\n"
    "\tand here\n"
    "192.168.1.2 REJECT\n"
    "crlf value\r\n"
    "novalue\n"
    "trailing value   \t\n"
    "nul\0byte here\n"
    "\xc3\xa4" "ber non-ascii\n"
    "last line-without-newline";

static const struct {
	const char *key;
	int	    rc;
	const char *value;
} source_cases[] = {
	{ "foo", 1, "bar" },
	{ "FOO", 1, "bar" },
	{ "user@", 1, "local" },
	{ "@example.com", 1,
	    "domain value  continued here\tand here" },
	{ "192.168.1.2", 1, "REJECT" },
	{ "crlf", 1, "value" },
	{ "novalue", 0, NULL },
	{ "trailing", 1, "value" },
	{ "nul", 0, NULL },
	{ "\xc3\xa4" "ber", 1, "non-ascii" },
	{ "last", 1, "line-without-newline" },
	{ "cont", 0, NULL },
	{ "", 0, NULL },
	{ "# comment", 0, NULL },
};

START_TEST(test_texthash)
{
	char *path = write_file("map", source, sizeof(source) - 1);
	char *spec = xasprintf("texthash:%s", path);
	char *v = NULL;
	int rc = lookup(spec, DICT_FLAG_FOLD, source_cases[_i].key, &v);

	ck_assert_msg(rc == source_cases[_i].rc, "key %s: rc %d",
	    source_cases[_i].key, rc);
	if (rc == 1)
		ck_assert_str_eq(v, source_cases[_i].value);
	free(v);
	free(spec);
	free(path);
}
END_TEST

START_TEST(test_hash)
{
	char *path = write_file("map", source, sizeof(source) - 1);
	char *spec = xasprintf("hash:%s", path);
	const char *err = NULL;
	char *v = NULL;
	int rc;

	ck_assert_msg(dict_build(spec, NULL, DICT_FLAG_FOLD, &err) == 0,
	    "%s", err);
	rc = lookup(spec, DICT_FLAG_FOLD, source_cases[_i].key, &v);
	ck_assert_msg(rc == source_cases[_i].rc, "key %s: rc %d",
	    source_cases[_i].key, rc);
	if (rc == 1)
		ck_assert_str_eq(v, source_cases[_i].value);
	free(v);
	free(spec);
	free(path);
}
END_TEST

/* Overlong keys, values and lines are skipped, not truncated. */
START_TEST(test_overlong)
{
	size_t n = DICT_LINE_MAX + 100;
	char *big = xmalloc(n + DICT_KEY_MAX + 64), *path, *spec, *v = NULL;
	size_t len;

	memset(big, 'k', DICT_KEY_MAX + 1);
	len = DICT_KEY_MAX + 1;
	memcpy(big + len, " v\nshort ok\nlong ", 17);
	len += 17;
	memset(big + len, 'v', n);
	len += n;
	memcpy(big + len, "\nafter ok2\n", 11);
	len += 11;
	path = write_file("big", big, len);
	spec = xasprintf("texthash:%s", path);
	ck_assert_int_eq(lookup(spec, DICT_FLAG_FOLD, "short", &v), 1);
	ck_assert_str_eq(v, "ok");
	free(v);
	ck_assert_int_eq(lookup(spec, DICT_FLAG_FOLD, "long", &v), 0);
	ck_assert_int_eq(lookup(spec, DICT_FLAG_FOLD, "after", &v), 1);
	ck_assert_str_eq(v, "ok2");
	free(v);
	big[DICT_KEY_MAX + 1] = '\0';
	ck_assert_int_eq(lookup(spec, DICT_FLAG_FOLD, big, &v), 0);
	free(spec);
	free(path);
	free(big);
}
END_TEST

START_TEST(test_nofold)
{
	char *path = write_file("map", "Foo bar\n", 8);
	char *spec = xasprintf("hash:%s", path);
	const char *err = NULL;
	char *v = NULL;

	ck_assert_int_eq(dict_build(spec, NULL, 0, &err), 0);
	ck_assert_int_eq(lookup(spec, 0, "foo", &v), 0);
	ck_assert_int_eq(lookup(spec, 0, "Foo", &v), 1);
	ck_assert_str_eq(v, "bar");
	free(v);
	free(spec);
	free(path);
}
END_TEST

/* A reader that opened the old table keeps seeing it across a rebuild. */
START_TEST(test_rebuild_consistent)
{
	char *path = write_file("map", "key old\n", 8);
	char *spec = xasprintf("hash:%s", path);
	const char *err = NULL, *v;
	int to_child[2], to_parent[2], status;
	char c;
	pid_t pid;

	ck_assert_int_eq(dict_build(spec, NULL, DICT_FLAG_FOLD, &err), 0);
	ck_assert_int_eq(pipe(to_child), 0);
	ck_assert_int_eq(pipe(to_parent), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct dict *d = dict_open(spec, DICT_FLAG_FOLD, &err);
		int ok = d != NULL && dict_lookup(d, "key", &v, &err) == 1 &&
		    strcmp(v, "old") == 0;

		if (write(to_parent[1], "o", 1) != 1 ||
		    read(to_child[0], &c, 1) != 1)
			_exit(3);
		/* After the rebuild: still the old, consistent view. */
		ok = ok && dict_lookup(d, "key", &v, &err) == 1 &&
		    strcmp(v, "old") == 0;
		dict_free(&d);
		d = dict_open(spec, DICT_FLAG_FOLD, &err);
		ok = ok && d != NULL && dict_lookup(d, "key", &v, &err) == 1 &&
		    strcmp(v, "new") == 0;
		dict_free(&d);
		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(read(to_parent[0], &c, 1), 1);
	free(write_file("map", "key new\nmore entries\n", 21));
	ck_assert_int_eq(dict_build(spec, NULL, DICT_FLAG_FOLD, &err), 0);
	ck_assert_int_eq(write(to_child[1], "g", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	free(spec);
	free(path);
}
END_TEST

START_TEST(test_update_delete_iterate)
{
	char *path = write_file("map", "a 1\nb 2\n", 8);
	char *spec = xasprintf("hash:%s", path);
	const char *err = NULL, *k, *v;
	struct dict *d;
	int n = 0, rc;

	ck_assert_int_eq(dict_build(spec, NULL, DICT_FLAG_FOLD, &err), 0);
	d = dict_open(spec, DICT_FLAG_FOLD, &err);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(dict_update(d, "c", "3", &err), -1);
	ck_assert_int_eq(dict_delete(d, "a", &err), -1);
	dict_free(&d);
	d = dict_open(spec, DICT_FLAG_FOLD | DICT_FLAG_WRITE, &err);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(dict_update(d, "C", "3", &err), 1);
	ck_assert_int_eq(dict_update(d, "c", "4", &err), 0);
	ck_assert_int_eq(dict_delete(d, "A", &err), 1);
	ck_assert_int_eq(dict_delete(d, "a", &err), 0);
	for (rc = dict_iterate(d, true, &k, &v, &err); rc == 1;
	    rc = dict_iterate(d, false, &k, &v, &err)) {
		ck_assert(strcmp(k, "b") == 0 || strcmp(k, "c") == 0);
		ck_assert_str_eq(v, strcmp(k, "b") == 0 ? "2" : "3");
		n++;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(n, 2);
	dict_free(&d);
	d = dict_open("static:x", 0, &err);
	ck_assert_int_eq(dict_iterate(d, true, &k, &v, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "not supported"));
	dict_free(&d);
	free(spec);
	free(path);
}
END_TEST

static const char aliases[] =
    "# aliases\n"
    "Postmaster: root\n"
    "list: a,b ,  \"c d\",\n"
    "  e\n"
    "\"Quoted Name\": x\n"
    "inc: :include:/etc/tern/list\n"
    "n :p\n"
    "empty:\n"
    "nocolon value\n"
    "pipe: \"|/usr/bin/prog arg\"\n";

static const struct {
	const char *key;
	int	    rc;
	const char *value;
} alias_cases[] = {
	{ "postmaster", 1, "root" },
	{ "list", 1, "a, b, \"c d\", e" },
	{ "quoted name", 1, "x" },
	{ "inc", 1, ":include:/etc/tern/list" },
	{ "n", 1, "p" },
	{ "empty", 0, NULL },
	{ "nocolon", 0, NULL },
	{ "pipe", 1, "\"|/usr/bin/prog arg\"" },
	{ "@", 1, "@" },
};

START_TEST(test_aliases)
{
	char *path = write_file("aliases", aliases, sizeof(aliases) - 1);
	char *spec = xasprintf("hash:%s", path);
	const char *err = NULL;
	char *v = NULL;
	int rc;

	ck_assert_int_eq(dict_build(spec, NULL,
	    DICT_FLAG_FOLD | DICT_FLAG_ALIAS, &err), 0);
	rc = lookup(spec, DICT_FLAG_FOLD, alias_cases[_i].key, &v);
	ck_assert_msg(rc == alias_cases[_i].rc, "key %s: rc %d",
	    alias_cases[_i].key, rc);
	if (rc == 1)
		ck_assert_str_eq(v, alias_cases[_i].value);
	free(v);
	free(spec);
	free(path);
}
END_TEST

START_TEST(test_build_errors)
{
	const char *err = NULL;
	char *spec = xasprintf("hash:%s/nosuchdir/map", tmpdir);

	ck_assert_int_eq(dict_build(spec, NULL, 0, &err), -1);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(dict_build("texthash:/x", NULL, 0, &err), -1);
	ck_assert_int_eq(dict_build("bogus:/x", NULL, 0, &err), -1);
	free(spec);
}
END_TEST

START_TEST(test_unix)
{
	char *v = NULL;

	ck_assert_int_eq(lookup("unix:passwd.byname", DICT_FLAG_FOLD, "root",
	    &v), 1);
	ck_assert(strncmp(v, "root:", 5) == 0);
	ck_assert_ptr_nonnull(strstr(v, ":0:0:"));
	free(v);
	/* Login names are case-sensitive. */
	ck_assert_int_eq(lookup("unix:passwd.byname", DICT_FLAG_FOLD, "ROOT",
	    &v), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dict");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_lookup, 0, ARRAY_LEN(lookup_cases));
	tcase_add_loop_test(tc, test_open_errors, 0, ARRAY_LEN(bad_specs));
	tcase_add_loop_test(tc, test_texthash, 0, ARRAY_LEN(source_cases));
	tcase_add_loop_test(tc, test_hash, 0, ARRAY_LEN(source_cases));
	tcase_add_loop_test(tc, test_aliases, 0, ARRAY_LEN(alias_cases));
	tcase_add_test(tc, test_overlong);
	tcase_add_test(tc, test_nofold);
	tcase_add_test(tc, test_rebuild_consistent);
	tcase_add_test(tc, test_update_delete_iterate);
	tcase_add_test(tc, test_build_errors);
	tcase_add_test(tc, test_unix);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
