/* SPDX-License-Identifier: MIT */
/* Tests of the worker thread pool. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "workq.h"
#include "test_main.h"

#define JOBS	64

static pthread_t loop_thread;
static atomic_int running, max_running;

struct job {
	int		 n;
	bool		 worked;
	bool		 worked_off_loop;
	bool		 done;
	int		*done_count;
	struct event_base *base;
	int		 total;
};

static void
job_work(void *arg)
{
	struct job *j = arg;
	int now = atomic_fetch_add(&running, 1) + 1;
	int old = atomic_load(&max_running);

	while (now > old && !atomic_compare_exchange_weak(&max_running, &old,
	    now))
		;
	j->worked_off_loop = !pthread_equal(pthread_self(), loop_thread);
	usleep(20000);
	j->worked = true;
	atomic_fetch_sub(&running, 1);
}

static void
job_done(void *arg)
{
	struct job *j = arg;

	ck_assert(pthread_equal(pthread_self(), loop_thread));
	ck_assert(j->worked);
	ck_assert(!j->done);
	j->done = true;
	if (++*j->done_count == j->total)
		event_base_loopbreak(j->base);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every job runs once off the loop, then its done runs once on it. */
START_TEST(test_jobs)
{
	struct event_base *base = event_base_new();
	struct workq *q = workq_new(base, 8);
	static struct job jobs[JOBS];
	int done_count = 0;
	double t0;

	loop_thread = pthread_self();
	atomic_store(&running, 0);
	atomic_store(&max_running, 0);
	for (int i = 0; i < JOBS; i++) {
		jobs[i] = (struct job){ .n = i, .done_count = &done_count,
		    .base = base, .total = JOBS };
		workq_submit(q, job_work, job_done, &jobs[i]);
	}
	ck_assert_uint_eq(workq_pending(q), JOBS);
	t0 = now_s();
	event_base_dispatch(base);
	ck_assert_int_eq(done_count, JOBS);
	ck_assert_uint_eq(workq_pending(q), 0);
	for (int i = 0; i < JOBS; i++)
		ck_assert(jobs[i].done && jobs[i].worked_off_loop);
	/* 64 jobs of 20 ms on 8 threads: parallel, never over the cap. */
	ck_assert_int_le(atomic_load(&max_running), 8);
	ck_assert_int_ge(atomic_load(&max_running), 2);
	ck_assert(now_s() - t0 < 64 * 0.020);
	workq_free(&q);
	ck_assert_ptr_null(q);
	event_base_free(base);
}
END_TEST

/* workq_free waits for queued jobs and runs their done functions. */
START_TEST(test_free_drains)
{
	struct event_base *base = event_base_new();
	struct workq *q = workq_new(base, 1);
	static struct job jobs[5];
	int done_count = 0;

	loop_thread = pthread_self();
	for (int i = 0; i < 5; i++) {
		jobs[i] = (struct job){ .n = i, .done_count = &done_count,
		    .base = base, .total = 1000 };
		workq_submit(q, job_work, job_done, &jobs[i]);
	}
	workq_free(&q);
	ck_assert_int_eq(done_count, 5);
	event_base_free(base);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("workq");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_jobs);
	tcase_add_test(tc, test_free_drains);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
