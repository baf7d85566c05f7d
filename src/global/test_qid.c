/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for qid.c: formatting, the time round trip, string order
 * following arrival order, and a table of well- and ill-formed IDs.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "qid.h"
#include "test_main.h"

START_TEST(test_format_known)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 0 };
	char id[QID_SIZE];

	qid_format(id, &tv, 1);
	ck_assert_str_eq(id, "000000000001");
	tv.tv_sec = 32;
	tv.tv_usec = 999999;
	qid_format(id, &tv, 32);
	/* 999999 = 0xF423F = 30 16 17 31 in base 32 → "UGHV". */
	ck_assert_str_eq(id, "0000010UGHV10");
	qid_format(id, &tv, (ino_t)UINT64_MAX);
	ck_assert_str_eq(id, "0000010UGHVFVVVVVVVVVVVV");
	ck_assert(qid_valid(id));
	qid_format(id, &tv, 0);
	ck_assert_uint_eq(strlen(id), QID_MIN_LEN);
	ck_assert(qid_valid(id));
}
END_TEST

static const struct {
	time_t	 sec;
	long	 usec;
	uint64_t ino;
} round_trips[] = {
	{ 0, 0, 1 },
	{ 1700000000, 123456, 42 },
	{ 1700000000, 999999, 0xffffffffULL },
	{ 4102444800, 1, 1ULL << 40 },		/* 2100-01-01 */
	{ ((time_t)1 << 35) - 1, 999999, UINT64_MAX },
};

START_TEST(test_round_trip)
{
	struct timeval tv = { round_trips[_i].sec, round_trips[_i].usec }, out;
	char id[QID_SIZE];

	qid_format(id, &tv, (ino_t)round_trips[_i].ino);
	ck_assert_msg(qid_valid(id), "%s", id);
	ck_assert_int_eq(qid_time(id, &out), 0);
	ck_assert_int_eq(out.tv_sec, tv.tv_sec);
	ck_assert_int_eq(out.tv_usec, tv.tv_usec);
}
END_TEST

/* Later arrival sorts later, whatever the inode numbers. */
START_TEST(test_sorted)
{
	struct timeval a = { 1700000000, 999999 }, b = { 1700000001, 0 };
	struct timeval c = { 1700000001, 1 };
	char ia[QID_SIZE], ib[QID_SIZE], ic[QID_SIZE];

	qid_format(ia, &a, (ino_t)UINT64_MAX);
	qid_format(ib, &b, 1);
	qid_format(ic, &c, 0);
	ck_assert_int_lt(strcmp(ia, ib), 0);
	ck_assert_int_lt(strcmp(ib, ic), 0);
	for (long s = 1; s < 100000; s += 997) {
		struct timeval x = { s, s % 1000000 }, y = { s, s % 1000000 + 1 };

		qid_format(ia, &x, (ino_t)s * 7919);
		qid_format(ib, &y, 3);
		ck_assert_int_lt(strcmp(ia, ib), 0);
	}
}
END_TEST

static const struct {
	const char *s;
	bool	    ok;
} ids[] = {
	{ "000000000001", true },
	{ "1MQ3K7F0A3C2B", true },
	{ "1MQ3K7F0A3CVVVVVVVVVVVV", true },
	{ "1MQ3K7F0A3C1VVVVVVVVVVVV", true },	/* 24 */
	{ "1MQ3K7F0A3CFVVVVVVVVVVVV", true },	/* 24: 2^64 - 1 */
	{ "1MQ3K7F0A3CG000000000000", false },	/* 2^64 */
	{ "1MQ3K7F0A3C1VVVVVVVVVVVVV", false },	/* 25 */
	{ "", false },
	{ "00000000000", false },		/* 11: no inode */
	{ "1MQ3K7F0A3C0", true },		/* inode 0 */
	{ "1MQ3K7F0A3C01", false },		/* leading zero */
	{ "1mq3k7f0a3c2b", false },		/* lower case */
	{ "1MQ3K7F0A3CW", false },		/* W is no digit */
	{ "1MQ3K7FV0003", false },		/* usec 0xF8000 > 999999 */
	{ "1MQ3K7FUGHV3", true },		/* usec 999999 */
	{ "1MQ3K7FUGI03", false },		/* usec 1000000 */
	{ ".tmp.123.abc", false },
	{ "1MQ3K7F0A3C2B ", false },
	{ " 1MQ3K7F0A3C2B", false },
	{ "1MQ3K7F0A3C2B\n", false },
	{ "1MQ3K7F0A3C/B", false },
	{ "1MQ3K7F0A3C\xc3\xa9", false },
	{ "..", false },
};

START_TEST(test_valid_table)
{
	struct timeval tv;

	ck_assert_msg(qid_valid(ids[_i].s) == ids[_i].ok, "\"%s\"",
	    ids[_i].s);
	ck_assert_int_eq(qid_time(ids[_i].s, &tv), ids[_i].ok ? 0 : -1);
}
END_TEST

START_TEST(test_null_and_embedded_nul)
{
	static const char s[] = "1MQ3K7F0A3C\0002B";

	ck_assert(!qid_valid(NULL));
	ck_assert(!qid_valid(s));	/* stops at the NUL: 11 chars */
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("qid");
	TCase *tc = tcase_create("qid");

	tcase_add_test(tc, test_format_known);
	tcase_add_loop_test(tc, test_round_trip, 0, ARRAY_LEN(round_trips));
	tcase_add_test(tc, test_sorted);
	tcase_add_loop_test(tc, test_valid_table, 0, ARRAY_LEN(ids));
	tcase_add_test(tc, test_null_and_embedded_nul);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
