/* SPDX-License-Identifier: MIT */
/* Unit tests for cfg.c: main.cf parsing, expansion and editing. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "log.h"
#include "test_main.h"
#include "xalloc.h"

struct capture {
	char	msg[512];
	int	count;
};

static void
capture_hook(enum log_level level, const char *msg, void *ctx)
{
	struct capture *c = ctx;

	(void)level;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
	c->count++;
}

/* Parse cases: text (with length, NULs allowed) -> "name=value@line;..." */
static const struct {
	const char *in;
	size_t	    len;
	const char *out;	/* NULL: error */
	const char *err;
} parse_cases[] = {
#define T(s, o, e) { s, sizeof(s) - 1, o, e }
	T("", "", NULL),
	T("a = b\n", "a=b@1", NULL),
	T("a=b", "a=b@1", NULL),
	T("  \n# c\n\na =   x y  \n", "a=x y@4", NULL),
	T("a = 1\nb = 2\na = 3\n", "a=3@3;b=2@2", NULL),
	T("a = x\n  y\n\tz\n", "a=x y z@1", NULL),
	T("a = x\n# comment\n  y\nb = 2\n", "a=x y@1;b=2@4", NULL),
	T("a = x # not a comment\n", "a=x # not a comment@1", NULL),
	T("a = b\r\nc = d\r\n", "a=b@1;c=d@2", NULL),
	T("a =\n", "a=@1", NULL),
	T("a = \xc3\xa4\n", "a=\xc3\xa4@1", NULL),
	T("a = $b ${c} $(d)\n", "a=$b ${c} $(d)@1", NULL),
	T("  a = b\n", "a=b@1", NULL),
	T("a b\n", NULL, "F, line 1: missing '=' after attribute name"),
	T("x = 1\n= b\n", NULL, "F, line 2: missing attribute name"),
	T("a-b = c\n", NULL, "F, line 1: bad parameter name \"a-b\""),
	T("\xc3\xa4 = c\n", NULL,
	    "F, line 1: bad parameter name \"\\xc3\\xa4\""),
	T("a = b\0c\n", NULL, "F, line 1: NUL byte in line"),
	T("a = b\rc\n", NULL, "F, line 1: stray carriage return in line"),
	T("a = b\r\r\n", NULL, "F, line 1: stray carriage return in line"),
	T("a = 1\nb = \x1b[0m\n", NULL, "F, line 2: control character in line"),
	T("a = 1\n\nb\n  c\n", NULL,
	    "F, line 3: missing '=' after attribute name"),
#undef T
};

static char *
dump(const struct cfg *c)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < c->n; i++)
		buf_addf(&b, "%s%s=%s@%u", i > 0 ? ";" : "", c->e[i].name,
		    c->e[i].value, c->e[i].line);
	return buf_steal(&b);
}

START_TEST(test_parse)
{
	struct cfg *c = cfg_new();
	const char *err = NULL;
	int rc = cfg_parse_text(c, "F", parse_cases[_i].in, parse_cases[_i].len,
	    &err);

	if (parse_cases[_i].out == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, parse_cases[_i].err);
	} else {
		char *d = dump(c);

		ck_assert_msg(rc == 0, "case %d: %s", _i, err);
		ck_assert_str_eq(d, parse_cases[_i].out);
		free(d);
	}
	cfg_free(&c);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_parse_origin_and_warn)
{
	struct cfg *c = cfg_new();
	struct capture cap = { 0 };
	const struct cfg_entry *e;
	const char *err;

	log_set_hook(capture_hook, &cap);
	ck_assert_int_eq(cfg_parse_text(c, "/etc/tern/main.cf",
	    "# x\n  a = 1\nb = 2\n", 18, &err), 0);
	log_set_hook(NULL, NULL);
	ck_assert_int_eq(cap.count, 1);
	ck_assert_str_eq(cap.msg, "/etc/tern/main.cf, line 2: logical line "
	    "must not start with whitespace");
	e = cfg_find(c, "b");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->origin, "/etc/tern/main.cf, line 3");
	ck_assert_str_eq(e->file, "/etc/tern/main.cf");
	ck_assert_ptr_null(cfg_find(c, "B"));
	ck_assert_int_eq(cfg_override(c, " b = 7 ", "command line", &err), 0);
	e = cfg_find(c, "b");
	ck_assert_str_eq(e->value, "7");
	ck_assert_str_eq(e->origin, "command line");
	ck_assert_ptr_null(e->file);
	ck_assert_int_eq(cfg_override(c, "b", "command line", &err), -1);
	ck_assert_str_eq(err, "command line: missing '=' after attribute name");
	ck_assert_int_eq(cfg_override(c, "b=x\ny", "command line", &err), -1);
	ck_assert_str_eq(err, "command line: newline in value");
	ck_assert_int_eq(cfg_set(c, "a.b", "x", "here", &err), -1);
	ck_assert_str_eq(err, "here: bad parameter name \"a.b\"");
	cfg_free(&c);
}
END_TEST

START_TEST(test_parse_long)
{
	size_t n = CFG_LINE_MAX + 10;
	char *big = xmalloc(n + 1);
	struct cfg *c = cfg_new();
	const char *err;

	memset(big, 'x', n);
	memcpy(big, "a = ", 4);
	big[n] = '\0';
	ck_assert_int_eq(cfg_parse_text(c, "F", big, n, &err), -1);
	ck_assert_str_eq(err, "F, line 1: logical line too long (more than "
	    "262144 bytes)");
	/* The same through continuation lines. */
	free(big);
	n = 2 * CFG_LINE_MAX;
	big = xmalloc(n + 1);
	memset(big, 'x', n);
	memcpy(big, "a = ", 4);
	big[n] = '\0';
	for (size_t i = 100; i < n; i += 100)
		big[i] = '\n', big[i + 1] = ' ';
	ck_assert_int_eq(cfg_parse_text(c, "F", big, n, &err), -1);
	ck_assert_str_eq(err, "F, line 1: logical line too long (more than "
	    "262144 bytes)");
	free(big);
	cfg_free(&c);
}
END_TEST

START_TEST(test_parse_file)
{
	char dir[] = "/tmp/test_cfg.XXXXXX";
	char *path;
	struct cfg *c = cfg_new();
	const char *err;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/main.cf", dir);
	ck_assert_int_eq(cfg_parse_file(c, path, true, &err), 0);
	ck_assert_uint_eq(c->n, 0);
	ck_assert_int_eq(cfg_parse_file(c, path, false, &err), -1);
	ck_assert_str_eq(err + strlen(err) - 35,
	    "/main.cf: No such file or directory");
	ck_assert(str_has_prefix(err, "open /tmp/test_cfg."));
	f = fopen(path, "w");
	fputs("myhostname = mail.example.com\nbad line\n", f);
	fclose(f);
	ck_assert_int_eq(cfg_parse_file(c, path, false, &err), -1);
	ck_assert(str_has_suffix_ci(err,
	    "/main.cf, line 2: missing '=' after attribute name"));
	unlink(path);
	rmdir(dir);
	free(path);
	cfg_free(&c);
}
END_TEST

/* Expansion against a fixed table. */
static const char *const vars[][2] = {
	{ "a", "A" }, { "b", "$a-B" }, { "empty", "" }, { "loop1", "$loop2" },
	{ "loop2", "x${loop1}" }, { "self", "$self" }, { "e2", "$empty" },
	{ "bad", "${a" }, { "nest", "${a?{${b?[$b]}}}" },
	{ "big1", "$big0$big0$big0$big0$big0$big0$big0$big0" },
	{ "big2", "$big1$big1$big1$big1$big1$big1$big1$big1" },
	{ "big3", "$big2$big2$big2$big2$big2$big2$big2$big2" },
	{ "big4", "$big3$big3$big3$big3$big3$big3$big3$big3" },
	{ "big5", "$big4$big4$big4$big4$big4$big4$big4$big4" },
	{ "big6", "$big5$big5$big5$big5$big5$big5$big5$big5" },
	{ "big0", "0123456789012345678901234567890123456789" },
	{ "w1", "${e2?x}${e2?x}${e2?x}${e2?x}${e2?x}${e2?x}${e2?x}${e2?x}" },
	{ "w2", "$w1$w1$w1$w1$w1$w1$w1$w1$w1$w1$w1$w1$w1$w1$w1$w1" },
	{ "w3", "$w2$w2$w2$w2$w2$w2$w2$w2$w2$w2$w2$w2$w2$w2$w2$w2" },
	{ "w4", "$w3$w3$w3$w3$w3$w3$w3$w3$w3$w3$w3$w3$w3$w3$w3$w3" },
	{ "w5", "$w4$w4$w4$w4$w4$w4$w4$w4$w4$w4$w4$w4$w4$w4$w4$w4" },
};

static const char *
var_lookup(const char *name, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; i < ARRAY_LEN(vars); i++)
		if (strcmp(vars[i][0], name) == 0)
			return vars[i][1];
	if (strncmp(name, "d", 1) == 0 && name[1] >= '0' && name[1] <= '9') {
		/* d0 -> $d1 -> ... -> $d9 -> ... deep chain by name. */
		static char next[32];
		int k = atoi(name + 1);

		snprintf(next, sizeof(next), "$d%d", k + 1);
		return k >= 150 ? "end" : next;
	}
	return NULL;
}

static const struct {
	const char *in;
	const char *out;	/* NULL: error */
	const char *err;
} exp_cases[] = {
	{ "plain", "plain", NULL },
	{ "", "", NULL },
	{ "$a", "A", NULL },
	{ "${a}x", "Ax", NULL },
	{ "$(a)x", "Ax", NULL },
	{ "$ax", "", NULL },
	{ "$a.x", "A.x", NULL },
	{ "$b", "A-B", NULL },
	{ "$$a", "$a", NULL },
	{ "$$$a", "$A", NULL },
	{ "$undefined", "", NULL },
	{ "${a?yes}", "yes", NULL },
	{ "${empty?yes}", "", NULL },
	{ "${e2?yes}", "", NULL },
	{ "${nope?yes}", "", NULL },
	{ "${a:no}", "", NULL },
	{ "${empty:no}", "no", NULL },
	{ "${nope:no $a}", "no A", NULL },
	{ "${a?{x, y}}", "x, y", NULL },
	{ "${a?{$b}:{no}}", "A-B", NULL },
	{ "${empty?{yes}:{no}}", "no", NULL },
	{ "${empty?{yes} : {n}}", "n", NULL },
	{ "${empty:{no}}", "no", NULL },
	{ "$nest", "[A-B]", NULL },
	{ "${a?${b}}", "A-B", NULL },
	{ "\xc3\xa4$a", "\xc3\xa4" "A", NULL },
	{ "$loop1", NULL, "recursive reference to parameter loop1" },
	{ "$self", NULL, "recursive reference to parameter self" },
	{ "${self?x}", NULL, "recursive reference to parameter self" },
	{ "$bad", NULL, "missing '}' in \"${a\"" },
	{ "${a", NULL, "missing '}' in \"${a\"" },
	{ "$(a", NULL, "missing ')' in \"$(a\"" },
	{ "${a}}", "A}", NULL },
	{ "$", NULL, "missing parameter name after '$' in \"$\"" },
	{ "a $ b", NULL, "missing parameter name after '$' in \"a $ b\"" },
	{ "${}", NULL, "bad parameter reference \"${}\"" },
	{ "${a-b}", NULL, "bad parameter reference \"${a-b}\"" },
	{ "${a?{x}y}", NULL, "bad conditional expression \"{x}y\"" },
	{ "${a:{x}:{y}}", NULL, "bad conditional expression \"{x}:{y}\"" },
	{ "${a?{x}:{y}", NULL, "missing '}' in \"${a?{x}:{y}\"" },
	{ "$d0", NULL, "parameter references nested too deeply (more than "
	    "100) at $d100" },
	{ "$big5", NULL, "parameter expansion too long (more than 1048576 "
	    "bytes)" },
	{ "$w5", NULL, "too many parameter references (more than 100000)" },
};

START_TEST(test_expand)
{
	struct buf b;
	const char *err = NULL;
	int rc;

	buf_init(&b, 0);
	rc = cfg_expand(exp_cases[_i].in, var_lookup, NULL, &b, &err);
	if (exp_cases[_i].out == NULL) {
		ck_assert_msg(rc == -1, "case %s gave %.50s", exp_cases[_i].in,
		    buf_cstr(&b));
		ck_assert_str_eq(err, exp_cases[_i].err);
	} else {
		ck_assert_msg(rc == 0, "case %s: %s", exp_cases[_i].in, err);
		ck_assert_str_eq(buf_cstr(&b), exp_cases[_i].out);
	}
	buf_deinit(&b);
}
END_TEST

START_TEST(test_expand_deep_braces)
{
	struct buf in, out;
	const char *err;

	/* ${a?${a?${a?...}}} nested 500 times must fail, not overflow. */
	buf_init(&in, 0);
	buf_init(&out, 0);
	for (int i = 0; i < 500; i++)
		buf_adds(&in, "${a?");
	buf_adds(&in, "x");
	for (int i = 0; i < 500; i++)
		buf_adds(&in, "}");
	ck_assert_int_eq(cfg_expand(buf_cstr(&in), var_lookup, NULL, &out,
	    &err), -1);
	ck_assert_str_eq(err, "conditional expressions nested too deeply "
	    "(more than 100)");
	buf_deinit(&in);
	buf_deinit(&out);
}
END_TEST

START_TEST(test_refs)
{
	struct strv sv;
	char *j;

	strv_init(&sv);
	cfg_refs("$a ${b?$c} $(d) $$e $$$f ${g:{x}} $ $", &sv);
	j = strv_join(&sv, ",");
	ck_assert_str_eq(j, "a,b,c,d,f,g");
	free(j);
	strv_deinit(&sv);
}
END_TEST

static const struct {
	const char *in;
	const char *set;	/* '|'-separated */
	const char *rm;
	const char *out;	/* NULL: error */
} edit_cases[] = {
	{ "", "a=1", "", "a = 1\n" },
	{ "a = 0\n", "a=1", "", "a = 1\n" },
	{ "# top\na = 0\n  more\n\tand more\nb = 2\n", "a = x y", "",
	  "# top\na = x y\nb = 2\n" },
	{ "a = 0\n# keep\n  cont\nb = 2\n", "a=1", "",
	  "a = 1\n# keep\nb = 2\n" },
	{ "a = 0\nb = 2", "c=3", "", "a = 0\nb = 2\nc = 3\n" },
	{ "a = 0\nb = 2", "b=3", "", "a = 0\nb = 3\n" },
	{ "a = 0\nb = 2\n", "", "a", "b = 2\n" },
	{ "a = 0\n  x\nb = 2\n", "", "a|nope", "b = 2\n" },
	{ "a=0\r\nb=1\r\n", "a=5", "", "a = 5\nb=1\r\n" },
	{ "a = 0\nab = 1\n", "a=", "", "a =\nab = 1\n" },
	{ "a = 1\na = 2\n", "a=3", "", "a = 3\na = 3\n" },
	{ "a = 1\n", "a=2|a=3", "", "a = 3\n" },
	{ "a = 1\n", "x", "", NULL },
	{ "a = 1\n", "a=b\nc=d", "", NULL },
	{ "a = 1\n", "", "a b", NULL },
	{ "a = 1\n", "b-c=1", "", NULL },
};

static void
split_bar(struct strv *sv, const char *s)
{
	if (*s != '\0')
		strv_split(sv, s, "|");
}

START_TEST(test_edit)
{
	struct strv set, rm;
	struct buf out;
	struct capture cap = { 0 };
	const char *err = NULL;
	int rc;

	strv_init(&set);
	strv_init(&rm);
	split_bar(&set, edit_cases[_i].set);
	split_bar(&rm, edit_cases[_i].rm);
	buf_init(&out, 0);
	log_set_hook(capture_hook, &cap);
	rc = cfg_edit_text(edit_cases[_i].in, strlen(edit_cases[_i].in), &set,
	    &rm, &out, &err);
	log_set_hook(NULL, NULL);
	if (edit_cases[_i].out == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_ptr_nonnull(err);
	} else {
		ck_assert_msg(rc == 0, "case %d: %s", _i, err);
		ck_assert_str_eq(buf_cstr(&out), edit_cases[_i].out);
	}
	buf_deinit(&out);
	strv_deinit(&set);
	strv_deinit(&rm);
}
END_TEST

START_TEST(test_edit_file)
{
	char dir[] = "/tmp/test_cfg.XXXXXX";
	char *path, *tmp, data[256];
	struct strv set;
	struct stat sb;
	const char *err;
	ssize_t n;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/main.cf", dir);
	tmp = xasprintf("%s.tmp", path);
	strv_init(&set);
	strv_push(&set, "relayhost = [mx.example.com]:587");
	/* Created when missing. */
	ck_assert_int_eq(cfg_edit_file(path, &set, NULL, &err), 0);
	fd = open(path, O_RDWR);
	n = read(fd, data, sizeof(data) - 1);
	ck_assert_int_ge(n, 0);
	data[n] = '\0';
	ck_assert_str_eq(data, "relayhost = [mx.example.com]:587\n");
	ck_assert_int_eq(fchmod(fd, 0640), 0);
	close(fd);
	ck_assert_int_eq(cfg_edit_file(path, NULL, &set, &err), -1);
	ck_assert_str_eq(err, "bad parameter name "
	    "\"relayhost = [mx.example.com]:587\"");
	strv_deinit(&set);
	strv_push(&set, "relayhost");
	ck_assert_int_eq(cfg_edit_file(path, NULL, &set, &err), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_size, 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0640);
	ck_assert_int_eq(access(tmp, F_OK), -1);
	unlink(path);
	rmdir(dir);
	free(path);
	free(tmp);
	strv_deinit(&set);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse, 0, ARRAY_LEN(parse_cases));
	tcase_add_test(tc, test_parse_origin_and_warn);
	tcase_add_test(tc, test_parse_long);
	tcase_add_test(tc, test_parse_file);
	tcase_add_loop_test(tc, test_expand, 0, ARRAY_LEN(exp_cases));
	tcase_add_test(tc, test_expand_deep_braces);
	tcase_add_test(tc, test_refs);
	tcase_add_loop_test(tc, test_edit, 0, ARRAY_LEN(edit_cases));
	tcase_add_test(tc, test_edit_file);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
