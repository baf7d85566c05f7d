/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for qmgr_sched.c: grouping by destination, recipient limits
 * (one recipient per delivery makes the recipient the destination),
 * concurrency slow start and reset, round robin between destinations,
 * dropping a message, suspension of a dead destination, and the back-off
 * arithmetic with hostile times.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "str.h"
#include "test_main.h"

#include "qmgr_sched.h"

static void
limits(const char *transport, struct qmgr_sched_limits *l)
{
	if (strcmp(transport, "local") == 0) {
		l->rcpt_limit = 1;
		l->initial = 2;
		l->limit = 2;
	} else if (strcmp(transport, "zero") == 0) {
		l->rcpt_limit = 0;	/* hostile: clamped to 1 */
		l->initial = 0;
		l->limit = -5;
	} else {
		l->rcpt_limit = 3;
		l->initial = 1;
		l->limit = 3;
	}
}

static int m1, m2;

START_TEST(test_group)
{
	struct qmgr_sched *s = qmgr_sched_new(limits);
	struct qmgr_job *j;
	size_t i;

	for (i = 0; i < 5; i++)
		qmgr_sched_add(s, &m1, "smtp", "a.example", "x@a.example", i);
	qmgr_sched_add(s, &m1, "smtp", "b.example", "x@b.example", 5);
	ck_assert_uint_eq(qmgr_sched_pending(s), 6);
	ck_assert_uint_eq(qmgr_sched_ndest(s), 2);
	j = qmgr_sched_next(s);
	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_eq(j->msg, &m1);
	ck_assert_str_eq(j->transport, "smtp");
	ck_assert_str_eq(j->nexthop, "a.example");
	ck_assert_uint_eq(j->n, 3);
	ck_assert_uint_eq(j->rcpts[0], 0);
	ck_assert_uint_eq(j->rcpts[2], 2);
	/* a.example is at its window (1): b.example goes next. */
	{
		struct qmgr_job *k = qmgr_sched_next(s);

		ck_assert_ptr_nonnull(k);
		ck_assert_str_eq(k->nexthop, "b.example");
		ck_assert_uint_eq(k->n, 1);
		ck_assert_ptr_null(qmgr_sched_next(s));
		qmgr_sched_done(s, &k, true);
		ck_assert_ptr_null(k);
	}
	qmgr_sched_done(s, &j, true);
	ck_assert_int_eq(qmgr_sched_window(s, "smtp", "a.example"), 2);
	j = qmgr_sched_next(s);
	ck_assert_uint_eq(j->n, 2);
	ck_assert_uint_eq(j->rcpts[0], 3);
	ck_assert_uint_eq(qmgr_sched_pending(s), 0);
	qmgr_sched_done(s, &j, false);
	/* Idle destinations are forgotten. */
	ck_assert_uint_eq(qmgr_sched_ndest(s), 0);
	ck_assert_ptr_null(qmgr_sched_next(s));
	qmgr_sched_free(&s);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_per_rcpt)
{
	struct qmgr_sched *s = qmgr_sched_new(limits);
	struct qmgr_job *j[4];

	qmgr_sched_add(s, &m1, "local", "host", "a", 0);
	qmgr_sched_add(s, &m1, "local", "host", "b", 1);
	qmgr_sched_add(s, &m2, "local", "host", "a", 0);
	qmgr_sched_add(s, &m2, "local", "host", "a", 1);
	qmgr_sched_add(s, &m2, "local", "host", "a", 2);
	ck_assert_uint_eq(qmgr_sched_ndest(s), 2);
	/* Window 2 per recipient: a, b, a, then a waits. */
	j[0] = qmgr_sched_next(s);
	j[1] = qmgr_sched_next(s);
	j[2] = qmgr_sched_next(s);
	ck_assert_ptr_nonnull(j[2]);
	ck_assert_ptr_null(qmgr_sched_next(s));
	ck_assert_uint_eq(j[0]->n, 1);
	ck_assert_ptr_eq(j[0]->msg, &m1);
	ck_assert_ptr_eq(j[1]->msg, &m1);
	ck_assert_uint_eq(j[1]->rcpts[0], 1);
	ck_assert_ptr_eq(j[2]->msg, &m2);
	ck_assert_str_eq(j[2]->nexthop, "host");
	qmgr_sched_done(s, &j[0], true);
	j[3] = qmgr_sched_next(s);
	ck_assert_ptr_nonnull(j[3]);
	ck_assert_uint_eq(j[3]->rcpts[0], 1);
	/* Dropping m2 removes its last pending recipient. */
	ck_assert_uint_eq(qmgr_sched_drop(s, &m2), 1);
	ck_assert_uint_eq(qmgr_sched_drop(s, &m2), 0);
	ck_assert_ptr_null(qmgr_sched_next(s));
	qmgr_sched_done(s, &j[1], true);
	qmgr_sched_done(s, &j[2], true);
	qmgr_sched_done(s, &j[3], true);
	ck_assert_uint_eq(qmgr_sched_ndest(s), 0);
	qmgr_sched_free(&s);
}
END_TEST

START_TEST(test_round_robin)
{
	struct qmgr_sched *s = qmgr_sched_new(limits);
	struct qmgr_job *j;
	const char *order[6];
	size_t i;

	/* Many for a, one each for b and c: a must not starve them. */
	for (i = 0; i < 9; i++)
		qmgr_sched_add(s, &m1, "smtp", "a", "x@a", i);
	qmgr_sched_add(s, &m2, "smtp", "b", "x@b", 0);
	qmgr_sched_add(s, &m2, "smtp", "c", "x@c", 1);
	for (i = 0; i < 3; i++) {
		j = qmgr_sched_next(s);
		ck_assert_ptr_nonnull(j);
		order[i] = j->nexthop[0] == 'a' ? "a" : j->nexthop[0] == 'b' ?
		    "b" : "c";
		qmgr_sched_done(s, &j, true);
	}
	ck_assert_str_eq(order[0], "a");
	ck_assert_str_eq(order[1], "b");
	ck_assert_str_eq(order[2], "c");
	while ((j = qmgr_sched_next(s)) != NULL)
		qmgr_sched_done(s, &j, true);
	ck_assert_uint_eq(qmgr_sched_pending(s), 0);
	qmgr_sched_free(&s);
}
END_TEST

START_TEST(test_mixed_nexthop)
{
	struct qmgr_sched *s = qmgr_sched_new(limits);
	struct qmgr_job *j;

	/* Same destination name but two messages: one job per message. */
	qmgr_sched_add(s, &m1, "smtp", "a", "x@a", 0);
	qmgr_sched_add(s, &m2, "smtp", "a", "y@a", 0);
	qmgr_sched_add(s, &m1, "smtp", "a", "z@a", 1);
	j = qmgr_sched_next(s);
	ck_assert_ptr_eq(j->msg, &m1);
	ck_assert_uint_eq(j->n, 2);
	ck_assert_uint_eq(j->rcpts[1], 1);
	qmgr_sched_done(s, &j, true);
	j = qmgr_sched_next(s);
	ck_assert_ptr_eq(j->msg, &m2);
	ck_assert_uint_eq(j->n, 1);
	qmgr_sched_done(s, &j, true);
	qmgr_sched_free(&s);
}
END_TEST

START_TEST(test_hostile_limits)
{
	struct qmgr_sched *s = qmgr_sched_new(limits);
	struct qmgr_job *j;

	qmgr_sched_add(s, &m1, "zero", "a", "x@a", 0);
	qmgr_sched_add(s, &m1, "zero", "a", "y@a", 1);
	j = qmgr_sched_next(s);
	ck_assert_ptr_nonnull(j);
	ck_assert_uint_eq(j->n, 1);
	ck_assert_int_eq(qmgr_sched_window(s, "zero", "x@a"), 1);
	qmgr_sched_done(s, &j, true);
	ck_assert_int_eq(qmgr_sched_window(s, "zero", "x@a"), -1);
	qmgr_sched_free(&s);
	qmgr_sched_free(&s);	/* NULL-safe */
}
END_TEST

static const struct {
	int64_t now, arrival, min, max, want;
} backoffs[] = {
	{ 1000, 1000, 300, 4000, 1300 },	/* first try */
	{ 1000, 900, 300, 4000, 1300 },
	{ 2000, 1000, 300, 4000, 3000 },	/* doubles */
	{ 100000, 0, 300, 4000, 104000 },	/* capped */
	{ 1000, 5000, 300, 4000, 1300 },	/* arrival in the future */
	{ INT64_MAX - 10, 0, 300, 4000, INT64_MAX },	/* overflow */
	{ 0, INT64_MIN, 300, 4000, 4000 },	/* age overflows */
	{ 1000, 0, 300, 100, 1300 },		/* max < min */
	{ 1000, 1000, -5, 4000, 1000 },		/* negative min */
};

START_TEST(test_backoff)
{
	ck_assert_int_eq(qmgr_sched_backoff(backoffs[_i].now,
	    backoffs[_i].arrival, backoffs[_i].min, backoffs[_i].max),
	    backoffs[_i].want);
}
END_TEST

/*
 * A dead destination: pending and new recipients come out at once as
 * suspended jobs (whatever the window), other destinations are not
 * affected, and after the suspension the destination works again.
 */
START_TEST(test_suspend)
{
	struct qmgr_sched *s = qmgr_sched_new(limits);
	struct qmgr_job *j, *k, *o;
	size_t i;

	for (i = 0; i < 5; i++)
		qmgr_sched_add(s, &m1, "smtp", "dead.example", "x@dead.example",
		    i);
	qmgr_sched_add(s, &m1, "smtp", "ok.example", "x@ok.example", 5);
	j = qmgr_sched_next(s);
	ck_assert_str_eq(j->nexthop, "dead.example");
	ck_assert(!j->suspended);
	ck_assert_uint_eq(j->n, 3);
	ck_assert(!qmgr_sched_suspended(s, "smtp", "dead.example"));
	qmgr_sched_suspend(s, j, (int64_t)time(NULL) + 2, "4.4.1",
	    "delivery temporarily suspended: connection refused");
	ck_assert(qmgr_sched_suspended(s, "smtp", "dead.example"));
	ck_assert(!qmgr_sched_suspended(s, "smtp", "ok.example"));
	ck_assert(!qmgr_sched_suspended(s, "lmtp", "dead.example"));
	qmgr_sched_done(s, &j, false);
	/* The window is 1 but a suspended destination is not limited. */
	qmgr_sched_add(s, &m2, "smtp", "dead.example", "y@dead.example", 0);
	k = qmgr_sched_next(s);
	ck_assert_ptr_nonnull(k);
	o = NULL;
	if (strcmp(k->nexthop, "ok.example") == 0) {
		o = k;
		k = qmgr_sched_next(s);
	}
	ck_assert_str_eq(k->nexthop, "dead.example");
	ck_assert(k->suspended);
	ck_assert_str_eq(k->dsn, "4.4.1");
	ck_assert_str_eq(k->why,
	    "delivery temporarily suspended: connection refused");
	ck_assert_ptr_eq(k->msg, &m1);
	ck_assert_uint_eq(k->n, 2);
	ck_assert_uint_eq(k->rcpts[0], 3);
	j = qmgr_sched_next(s);
	if (o == NULL && strcmp(j->nexthop, "ok.example") == 0) {
		o = j;
		j = qmgr_sched_next(s);
	}
	ck_assert_ptr_nonnull(j);
	ck_assert(j->suspended);
	ck_assert_ptr_eq(j->msg, &m2);
	ck_assert_uint_eq(j->n, 1);
	ck_assert_ptr_nonnull(o);
	ck_assert(!o->suspended);
	ck_assert_ptr_null(qmgr_sched_next(s));
	qmgr_sched_done(s, &k, false);
	qmgr_sched_done(s, &j, false);
	qmgr_sched_done(s, &o, true);
	/* Idle but suspended: remembered. */
	ck_assert_uint_eq(qmgr_sched_ndest(s), 1);
	ck_assert_int_eq(qmgr_sched_window(s, "smtp", "dead.example"), 1);

	/* Over: normal jobs again, within the window. */
	sleep(3);
	ck_assert(!qmgr_sched_suspended(s, "smtp", "dead.example"));
	qmgr_sched_add(s, &m2, "smtp", "dead.example", "z@dead.example", 1);
	qmgr_sched_add(s, &m1, "smtp", "dead.example", "z@dead.example", 7);
	j = qmgr_sched_next(s);
	ck_assert_ptr_nonnull(j);
	ck_assert(!j->suspended);
	ck_assert_ptr_null(j->why);
	ck_assert_ptr_null(qmgr_sched_next(s));
	qmgr_sched_done(s, &j, true);
	j = qmgr_sched_next(s);
	ck_assert_ptr_nonnull(j);
	ck_assert(!j->suspended);
	qmgr_sched_done(s, &j, true);
	ck_assert_uint_eq(qmgr_sched_ndest(s), 0);
	qmgr_sched_free(&s);
}
END_TEST

/* A suspension that has already ended, and freeing while suspended. */
START_TEST(test_suspend_past)
{
	struct qmgr_sched *s = qmgr_sched_new(limits);
	struct qmgr_job *j;

	qmgr_sched_add(s, &m1, "smtp", "d.example", "x@d.example", 0);
	qmgr_sched_add(s, &m1, "smtp", "d.example", "x@d.example", 1);
	qmgr_sched_add(s, &m1, "smtp", "e.example", "x@e.example", 2);
	j = qmgr_sched_next(s);
	qmgr_sched_suspend(s, j, (int64_t)time(NULL) - 1, "4.4.1", "gone");
	ck_assert(!qmgr_sched_suspended(s, "smtp", "d.example"));
	qmgr_sched_done(s, &j, false);
	j = qmgr_sched_next(s);
	ck_assert(!j->suspended);
	qmgr_sched_suspend(s, j, INT64_MAX, "4.4.1", "gone");
	qmgr_sched_suspend(s, j, INT64_MAX, "4.4.2", "gone again");
	qmgr_sched_done(s, &j, false);
	qmgr_sched_add(s, &m2, "smtp", "e.example", "y@e.example", 0);
	j = qmgr_sched_next(s);
	ck_assert(j->suspended);
	ck_assert_str_eq(j->dsn, "4.4.2");
	ck_assert_str_eq(j->why, "gone again");
	/* Freed with a suspended destination and a job out: no leak. */
	qmgr_sched_done(s, &j, false);
	qmgr_sched_free(&s);
	ck_assert_ptr_null(s);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("qmgr_sched");
	TCase *tc = tcase_create("sched");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_group);
	tcase_add_test(tc, test_per_rcpt);
	tcase_add_test(tc, test_round_robin);
	tcase_add_test(tc, test_mixed_nexthop);
	tcase_add_test(tc, test_hostile_limits);
	tcase_add_test(tc, test_suspend);
	tcase_add_test(tc, test_suspend_past);
	tcase_add_loop_test(tc, test_backoff, 0, ARRAY_LEN(backoffs));
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
