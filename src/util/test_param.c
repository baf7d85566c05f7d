/* SPDX-License-Identifier: MIT */
/* Unit tests for param.c: typed values, validation, unknown names. */
#include "config.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "param.h"
#include "test_main.h"
#include "xalloc.h"

struct capture {
	char	msg[8][512];
	int	count;
};

static void
capture_hook(enum log_level level, const char *msg, void *ctx)
{
	struct capture *c = ctx;

	(void)level;
	if (c->count < 8)
		snprintf(c->msg[c->count], sizeof(c->msg[0]), "%s", msg);
	c->count++;
}

static char *
host_default(struct param_set *ps)
{
	(void)ps;
	return xstrdup("host.example.com");
}

static char *
domain_default(struct param_set *ps)
{
	const char *h = param_str(ps, "myhostname");
	const char *dot = strchr(h, '.');

	return xstrdup(dot != NULL ? dot + 1 : "localdomain");
}

static const struct param_def defs[] = {
	{ .name = "myhostname", .type = PARAM_STR, .def_fn = host_default,
	  .flags = PARAM_F_NONEMPTY, .desc = "host name" },
	{ .name = "mydomain", .type = PARAM_STR, .def_fn = domain_default,
	  .desc = "domain" },
	{ .name = "myorigin", .type = PARAM_STR, .def = "$myhostname",
	  .desc = "origin" },
	{ .name = "mydestination", .type = PARAM_LIST,
	  .def = "$myhostname, localhost.$mydomain, localhost",
	  .desc = "local domains" },
	{ .name = "message_size_limit", .type = PARAM_SIZE, .def = "10240000",
	  .desc = "size" },
	{ .name = "default_process_limit", .type = PARAM_INT, .def = "100",
	  .min = 1, .max = 1000, .desc = "procs" },
	{ .name = "biff", .type = PARAM_BOOL, .def = "yes", .desc = "biff" },
	{ .name = "maximal_queue_lifetime", .type = PARAM_TIME, .def = "5d",
	  .unit = 'd', .desc = "lifetime" },
	{ .name = "ipc_timeout", .type = PARAM_TIME, .def = "3600s",
	  .min = 1, .max = 86400, .desc = "timeout" },
	{ .name = "alias_maps", .type = PARAM_MAP, .def = "hash:/etc/aliases",
	  .desc = "aliases" },
	{ .name = "config_directory", .type = PARAM_STR, .def = "/etc/tern",
	  .flags = PARAM_F_READONLY, .desc = "config dir" },
	{ .name = NULL },
};

static struct param_set *
load(const char *text, const char **err_r, int *rc_r)
{
	struct param_set *ps = param_set_new();

	param_set_add_table(ps, defs);
	*rc_r = param_set_load_text(ps, "main.cf", text, err_r);
	if (*rc_r == 0)
		*rc_r = param_set_validate(ps, err_r);
	return ps;
}

START_TEST(test_defaults)
{
	const char *err;
	int rc;
	struct param_set *ps = load("", &err, &rc);
	const struct strv *l;
	enum param_origin o;

	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(param_str(ps, "myhostname"), "host.example.com");
	ck_assert_str_eq(param_str(ps, "mydomain"), "example.com");
	ck_assert_str_eq(param_str(ps, "myorigin"), "host.example.com");
	ck_assert_str_eq(param_raw(ps, "myorigin", &o), "$myhostname");
	ck_assert_int_eq(o, PARAM_ORIGIN_DEFAULT);
	l = param_list(ps, "mydestination");
	ck_assert_uint_eq(l->n, 3);
	ck_assert_str_eq(l->v[1], "localhost.example.com");
	ck_assert_int_eq(param_size(ps, "message_size_limit"), 10240000);
	ck_assert_int_eq(param_int(ps, "default_process_limit"), 100);
	ck_assert(param_bool(ps, "biff"));
	ck_assert_int_eq(param_time(ps, "maximal_queue_lifetime"), 5 * 86400);
	ck_assert_int_eq(param_time(ps, "ipc_timeout"), 3600);
	ck_assert_ptr_null(param_raw(ps, "nope", NULL));
	ck_assert_ptr_null(param_find(ps, "nope"));
	param_set_free(&ps);
	ck_assert_ptr_null(ps);
}
END_TEST

START_TEST(test_set_values)
{
	const char *err;
	int rc;
	struct param_set *ps = load(
	    "myhostname = mx.Example.NET\n"
	    "maximal_queue_lifetime = 2\n"
	    "biff = NO\n"
	    "alias_maps = hash:/etc/aliases, inline:{a=b, c=d} ${x?$x}\n"
	    "x = texthash:/x\n"
	    "mydestination = $myhostname\n  $mydomain\n", &err, &rc);
	const struct strv *l;
	enum param_origin o;

	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(param_str(ps, "mydomain"), "Example.NET");
	ck_assert_int_eq(param_time(ps, "maximal_queue_lifetime"), 2 * 86400);
	ck_assert(!param_bool(ps, "biff"));
	l = param_list(ps, "alias_maps");
	ck_assert_uint_eq(l->n, 3);
	ck_assert_str_eq(l->v[1], "inline:{a=b, c=d}");
	ck_assert_str_eq(l->v[2], "texthash:/x");
	ck_assert_str_eq(param_str(ps, "mydestination"),
	    "mx.Example.NET Example.NET");
	ck_assert_int_eq(param_set_override(ps, "biff=yes", &err), 0);
	ck_assert(param_bool(ps, "biff"));
	ck_assert_str_eq(param_raw(ps, "biff", &o), "yes");
	ck_assert_int_eq(o, PARAM_ORIGIN_OVERRIDE);
	param_raw(ps, "myhostname", &o);
	ck_assert_int_eq(o, PARAM_ORIGIN_FILE);
	param_set_free(&ps);
}
END_TEST

static const struct {
	const char *in;
	const char *err;
} bad_cases[] = {
	{ "message_size_limit = 10M\n", "main.cf, line 1: message_size_limit: "
	  "expected a size in bytes, got \"10M\"" },
	{ "message_size_limit = -1\n", "main.cf, line 1: message_size_limit: "
	  "expected a size in bytes, got \"-1\"" },
	{ "message_size_limit = 99999999999999999999\n", "main.cf, line 1: "
	  "message_size_limit: expected a size in bytes, got "
	  "\"99999999999999999999\"" },
	{ "message_size_limit =\n", "main.cf, line 1: message_size_limit: "
	  "expected a size in bytes, got \"\"" },
	{ "\n\ndefault_process_limit = 0\n", "main.cf, line 3: "
	  "default_process_limit: value 0 out of range (expected 1..1000)" },
	{ "default_process_limit = 1001\n", "main.cf, line 1: "
	  "default_process_limit: value 1001 out of range (expected 1..1000)" },
	{ "default_process_limit = 1e3\n", "main.cf, line 1: "
	  "default_process_limit: expected an integer, got \"1e3\"" },
	{ "biff = true\n", "main.cf, line 1: biff: expected yes or no, got "
	  "\"true\"" },
	{ "biff = \xc3\xa4\n", "main.cf, line 1: biff: expected yes or no, "
	  "got \"\\xc3\\xa4\"" },
	{ "ipc_timeout = 99999999999999999999w\n", "main.cf, line 1: "
	  "ipc_timeout: time value 99999999999999999999w too large" },
	{ "ipc_timeout = 9999999999w\n", "main.cf, line 1: "
	  "ipc_timeout: time value 9999999999w too large" },
	{ "ipc_timeout = 2d\n", "main.cf, line 1: ipc_timeout: value 2d out "
	  "of range (expected 1..86400 seconds)" },
	{ "ipc_timeout = 0\n", "main.cf, line 1: ipc_timeout: value 0 out "
	  "of range (expected 1..86400 seconds)" },
	{ "ipc_timeout = 10y\n", "main.cf, line 1: ipc_timeout: expected a "
	  "time (a number with optional unit s, m, h, d or w), got \"10y\"" },
	{ "ipc_timeout = 10ss\n", "main.cf, line 1: ipc_timeout: expected a "
	  "time (a number with optional unit s, m, h, d or w), got \"10ss\"" },
	{ "ipc_timeout = s\n", "main.cf, line 1: ipc_timeout: expected a "
	  "time (a number with optional unit s, m, h, d or w), got \"s\"" },
	{ "ipc_timeout = -5s\n", "main.cf, line 1: ipc_timeout: expected a "
	  "time (a number with optional unit s, m, h, d or w), got \"-5s\"" },
	{ "alias_maps = /etc/aliases\n", "main.cf, line 1: alias_maps: "
	  "expected lookup tables as type:name, got \"/etc/aliases\"" },
	{ "alias_maps = hash:\n", "main.cf, line 1: alias_maps: "
	  "expected lookup tables as type:name, got \"hash:\"" },
	{ "myhostname =\n", "main.cf, line 1: myhostname: value must not be "
	  "empty" },
	{ "a = $b\nb = $a\nmyorigin = $a\n", "main.cf, line 3: myorigin: "
	  "recursive reference to parameter a" },
	{ "myhostname = $mydomain\n", "main.cf, line 1: myhostname: "
	  "recursive reference to parameter mydomain" },
	{ "myorigin = ${myhostname\n", "main.cf, line 1: myorigin: "
	  "missing '}' in \"${myhostname\"" },
	{ "x = 10M\nmessage_size_limit = $x\n", "main.cf, line 2: "
	  "message_size_limit: expected a size in bytes, got \"10M\"" },
};

START_TEST(test_bad_values)
{
	const char *err = NULL;
	int rc;
	struct param_set *ps = load(bad_cases[_i].in, &err, &rc);

	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err, bad_cases[_i].err);
	param_set_free(&ps);
}
END_TEST

START_TEST(test_unknown_warnings)
{
	struct capture cap = { 0 };
	const char *err;
	int rc;
	struct param_set *ps;

	log_set_hook(capture_hook, &cap);
	ps = load("myhostnme = x\n"
	    "my_var = 1\n"
	    "totally_unrelated = 2\n"
	    "myorigin = ${my_var?x}\n"
	    "config_directory = /x\n", &err, &rc);
	log_set_hook(NULL, NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(cap.count, 3);
	ck_assert_str_eq(cap.msg[0], "main.cf, line 1: unknown parameter "
	    "myhostnme; did you mean myhostname?");
	ck_assert_str_eq(cap.msg[1], "main.cf, line 3: unknown parameter "
	    "totally_unrelated");
	ck_assert_str_eq(cap.msg[2], "main.cf, line 5: parameter "
	    "config_directory is read-only; ignored");
	ck_assert_str_eq(param_str(ps, "config_directory"), "/etc/tern");
	param_set_fixed(ps, "config_directory", "/srv/tern");
	ck_assert_str_eq(param_str(ps, "config_directory"), "/srv/tern");
	param_set_free(&ps);
}
END_TEST

START_TEST(test_check_and_split)
{
	static const struct param_def sz = { .name = "s", .type = PARAM_SIZE };
	struct strv sv;
	long long n = -1;
	const char *err;

	ck_assert_int_eq(param_check(&sz, "9223372036854775807", &n, &err), 0);
	ck_assert_int_eq(n, LLONG_MAX);
	ck_assert_int_eq(param_check(&sz, "9223372036854775808", &n, &err),
	    -1);
	ck_assert_int_eq(param_check(&sz, "+5", &n, &err), -1);
	ck_assert_int_eq(param_check(&sz, " 5", &n, &err), -1);
	strv_init(&sv);
	param_split_list(" a,,b\tinline:{ x, {y z} },c {unclosed d", &sv);
	ck_assert_uint_eq(sv.n, 5);
	ck_assert_str_eq(sv.v[2], "inline:{ x, {y z} }");
	ck_assert_str_eq(sv.v[4], "{unclosed d");
	strv_deinit(&sv);
}
END_TEST

START_TEST(test_expand_api)
{
	const char *err, *v;
	int rc;
	struct param_set *ps = load("u = [$myorigin]\n", &err, &rc);

	ck_assert_int_eq(param_expand(ps, "$u/$$", &v, &err), 0);
	ck_assert_str_eq(v, "[host.example.com]/$");
	ck_assert_int_eq(param_expand(ps, "${u", &v, &err), -1);
	param_set_free(&ps);
}
END_TEST

START_TEST(test_unknown_getter_panics)
{
	const char *err;
	int rc;
	struct param_set *ps = load("", &err, &rc);

	(void)param_str(ps, "no_such_parameter");
}
END_TEST

START_TEST(test_wrong_type_panics)
{
	const char *err;
	int rc;
	struct param_set *ps = load("", &err, &rc);

	(void)param_int(ps, "biff");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("param");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_set_values);
	tcase_add_loop_test(tc, test_bad_values, 0, ARRAY_LEN(bad_cases));
	tcase_add_test(tc, test_unknown_warnings);
	tcase_add_test(tc, test_check_and_split);
	tcase_add_test(tc, test_expand_api);
	tcase_add_test_raise_signal(tc, test_unknown_getter_panics, SIGABRT);
	tcase_add_test_raise_signal(tc, test_wrong_type_panics, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
