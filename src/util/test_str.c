/* SPDX-License-Identifier: MIT */
/* Unit tests for str.c. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "test_main.h"

static const struct {
	const char *in;
	long long   min, max;
	int	    rc;
	long long   val;
} ll_cases[] = {
	{ "0", 0, 10, 0, 0 },
	{ "10", 0, 10, 0, 10 },
	{ "11", 0, 10, -1, 0 },
	{ "-1", 0, 10, -1, 0 },
	{ "-5", -10, 10, 0, -5 },
	{ "+7", 0, 10, 0, 7 },
	{ "", 0, 10, -1, 0 },
	{ " 1", 0, 10, -1, 0 },
	{ "1 ", 0, 10, -1, 0 },
	{ "1x", 0, 10, -1, 0 },
	{ "0x10", 0, 100, -1, 0 },
	{ "-", 0, 10, -1, 0 },
	{ "99999999999999999999999", 0, LLONG_MAX, -1, 0 },
	{ "9223372036854775807", 0, LLONG_MAX, 0, LLONG_MAX },
	{ "9223372036854775808", 0, LLONG_MAX, -1, 0 },
};

START_TEST(test_to_ll)
{
	long long v = -99;
	const char *err = NULL;
	int rc = str_to_ll(ll_cases[_i].in, ll_cases[_i].min,
	    ll_cases[_i].max, &v, &err);

	ck_assert_msg(rc == ll_cases[_i].rc, "case \"%s\"", ll_cases[_i].in);
	if (rc == 0)
		ck_assert_int_eq(v, ll_cases[_i].val);
	else
		ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(test_case_and_trim)
{
	char s[] = "  MiXeD\tCase \r\n";

	ck_assert_str_eq(str_lower(str_trim(s)), "mixed\tcase");
	ck_assert(str_eq_ci("Example.COM", "example.com"));
	ck_assert(!str_eq_ci("example.com", "example.co"));
	ck_assert(!str_eq_ci("", "a"));
	ck_assert(str_has_prefix("hash:/etc/x", "hash:"));
	ck_assert(!str_has_prefix("has", "hash:"));
	ck_assert(str_has_suffix_ci("mail.Example.Com", ".example.com"));
	ck_assert(!str_has_suffix_ci("com", ".example.com"));
	/* Bytes outside ASCII are left alone by the ASCII case fold. */
	char u[] = "\xc3\x84X";
	ck_assert_str_eq(str_lower(u), "\xc3\x84x");
}
END_TEST

START_TEST(test_copy)
{
	char d[4];

	ck_assert_uint_eq(str_copy(d, "ab", sizeof(d)), 2);
	ck_assert_str_eq(d, "ab");
	ck_assert_uint_eq(str_copy(d, "abcdef", sizeof(d)), 6);
	ck_assert_str_eq(d, "abc");
	ck_assert_uint_eq(str_copy(d, "xyz", 0), 3);
	ck_assert_str_eq(d, "abc");
}
END_TEST

START_TEST(test_fmt_buf)
{
	char b[16];

	ck_assert_ptr_eq(str_fmt_buf(b, sizeof(b), "%s=%d", "n", 7), b);
	ck_assert_str_eq(b, "n=7");
	/* The old message may be an argument of the new one. */
	str_fmt_buf(b, sizeof(b), "line 2: %s", b);
	ck_assert_str_eq(b, "line 2: n=7");
	/* Cut to the buffer, always terminated. */
	str_fmt_buf(b, sizeof(b), "%s", "0123456789abcdefghij");
	ck_assert_str_eq(b, "0123456789abcde");
}
END_TEST

START_TEST(test_distance)
{
	ck_assert_uint_eq(str_distance("myhostname", "myhostname"), 0);
	ck_assert_uint_eq(str_distance("myhostnme", "myhostname"), 1);
	ck_assert_uint_eq(str_distance("MYHOSTNAME", "myhostname"), 0);
	ck_assert_uint_eq(str_distance("", "abc"), 3);
	ck_assert_uint_eq(str_distance("kitten", "sitting"), 3);
}
END_TEST

START_TEST(test_split_join)
{
	struct strv sv;
	char *j;

	strv_init(&sv);
	strv_split(&sv, " localhost, $myhostname,,\tlocalhost.$mydomain\n",
	    NULL);
	ck_assert_uint_eq(sv.n, 3);
	ck_assert_str_eq(sv.v[0], "localhost");
	ck_assert_str_eq(sv.v[1], "$myhostname");
	ck_assert_str_eq(sv.v[2], "localhost.$mydomain");
	ck_assert_ptr_null(sv.v[3]);
	ck_assert_int_eq(strv_find(&sv, "$myhostname"), 1);
	ck_assert_int_eq(strv_find(&sv, "nope"), -1);
	j = strv_join(&sv, "|");
	ck_assert_str_eq(j, "localhost|$myhostname|localhost.$mydomain");
	free(j);
	strv_deinit(&sv);

	strv_split(&sv, ",,  ,", NULL);
	ck_assert_uint_eq(sv.n, 0);
	j = strv_join(&sv, ",");
	ck_assert_str_eq(j, "");
	free(j);
	strv_deinit(&sv);
}
END_TEST

START_TEST(test_printable)
{
	ck_assert(str_is_printable("abc ~", 5));
	ck_assert(!str_is_printable("a\rb", 3));
	ck_assert(!str_is_printable("a\0b", 3));
	ck_assert(!str_is_printable("\x7f", 1));
	ck_assert(!str_is_printable("\xc3\xa4", 2));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("str");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_to_ll, 0, ARRAY_LEN(ll_cases));
	tcase_add_test(tc, test_case_and_trim);
	tcase_add_test(tc, test_copy);
	tcase_add_test(tc, test_fmt_buf);
	tcase_add_test(tc, test_distance);
	tcase_add_test(tc, test_split_join);
	tcase_add_test(tc, test_printable);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
