/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the connection cache, with stand-in sessions in place
 * of the protocol engine: the key, taking by key (most recent first),
 * the reuse count and age limits, cache_on_demand off, the idle timer,
 * a server that closes an idle session, the bound on idle sessions,
 * and closing everything.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <event2/event.h>

#include "test_main.h"
#include "xalloc.h"

#include "smtp.h"
#include "smtp_cache.h"
#include "smtp_session.h"

/* What smtp.c and smtp_session.c would provide. */
struct smtp_conf smtp_conf;
struct tls_client *smtp_tls;
static struct event_base *test_base;

struct event_base *
smtp_base(void)
{
	return test_base;
}

struct smtp_session {
	unsigned	 uses;
	int64_t		 started;
	smtp_session_idle_fn *fn;
	void		*ctx;
	int		 id;
};

static int nclosed;
static int last_closed;
static int nalive;

static struct smtp_session *
session(int id, unsigned uses, int64_t age)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));

	s->id = id;
	s->uses = uses;
	s->started = (int64_t)time(NULL) - age;
	nalive++;
	return s;
}

void
smtp_session_watch(struct smtp_session *s, smtp_session_idle_fn *fn,
    void *ctx)
{
	s->fn = fn;
	s->ctx = ctx;
}

void
smtp_session_close(struct smtp_session **sp)
{
	ck_assert_ptr_null((*sp)->fn);	/* no longer watched */
	last_closed = (*sp)->id;
	nclosed++;
	nalive--;
	free(*sp);
	*sp = NULL;
}

unsigned
smtp_session_uses(const struct smtp_session *s)
{
	return s->uses;
}

int64_t
smtp_session_started(const struct smtp_session *s)
{
	return s->started;
}

static void
setup(void)
{
	memset(&smtp_conf, 0, sizeof(smtp_conf));
	smtp_conf.cache_on_demand = true;
	smtp_conf.cache_time_limit = 2;
	smtp_conf.reuse_count_limit = 0;
	smtp_conf.reuse_time_limit = 300;
	test_base = event_base_new();
	ck_assert_ptr_nonnull(test_base);
	nclosed = 0;
	last_closed = 0;
	nalive = 0;
}

static void
teardown(void)
{
	smtp_cache_close_all();
	ck_assert_uint_eq(smtp_cache_count(), 0);
	ck_assert_int_eq(nalive, 0);
	event_base_free(test_base);
	test_base = NULL;
}

START_TEST(test_key)
{
	char *k = smtp_cache_key("smtp", "[mx.example]:587", TLS_LEV_MAY);

	ck_assert_str_eq(k, "smtp|[mx.example]:587|may");
	free(k);
	k = smtp_cache_key("relay", "example.com", TLS_LEV_DANE);
	ck_assert_str_eq(k, "relay|example.com|dane");
	free(k);
}
END_TEST

START_TEST(test_put_take)
{
	struct smtp_session *s = session(1, 1, 0), *s2 = session(2, 1, 0);
	struct smtp_session *t;

	ck_assert(smtp_cache_put("a", &s));
	ck_assert_ptr_null(s);
	ck_assert(smtp_cache_put("a", &s2));
	ck_assert_uint_eq(smtp_cache_count(), 2);
	ck_assert_ptr_null(smtp_cache_take("b"));
	/* The most recent first; no longer watched. */
	t = smtp_cache_take("a");
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(t->id, 2);
	ck_assert_ptr_null(t->fn);
	ck_assert_uint_eq(smtp_cache_count(), 1);
	smtp_session_close(&t);
	t = smtp_cache_take("a");
	ck_assert_int_eq(t->id, 1);
	smtp_session_close(&t);
	ck_assert_ptr_null(smtp_cache_take("a"));
	ck_assert_uint_eq(smtp_cache_count(), 0);
	/* NULL is fine. */
	ck_assert(!smtp_cache_put("a", &t));
}
END_TEST

START_TEST(test_limits)
{
	struct smtp_session *s;

	/* Reuse count: 3 messages allowed, the session has carried 3. */
	smtp_conf.reuse_count_limit = 3;
	s = session(1, 3, 0);
	ck_assert(!smtp_cache_put("a", &s));
	ck_assert_ptr_null(s);
	ck_assert_int_eq(nclosed, 1);
	s = session(2, 2, 0);
	ck_assert(smtp_cache_put("a", &s));
	/* Age: reuse_time_limit 300 s. */
	smtp_conf.reuse_count_limit = 0;
	s = session(3, 100, 300);
	ck_assert(!smtp_cache_put("a", &s));
	ck_assert_int_eq(last_closed, 3);
	s = session(4, 100, 290);
	ck_assert(smtp_cache_put("a", &s));
	/* Off. */
	smtp_conf.cache_on_demand = false;
	s = session(5, 1, 0);
	ck_assert(!smtp_cache_put("a", &s));
	ck_assert_int_eq(last_closed, 5);
	ck_assert_uint_eq(smtp_cache_count(), 2);
}
END_TEST

START_TEST(test_idle_timer)
{
	struct smtp_session *s = session(1, 1, 0);
	struct timeval tv = { 0, 500000 };

	smtp_conf.cache_time_limit = 1;
	ck_assert(smtp_cache_put("a", &s));
	/* Still there after half a second... */
	event_base_loopexit(test_base, &tv);
	event_base_dispatch(test_base);
	ck_assert_uint_eq(smtp_cache_count(), 1);
	ck_assert_int_eq(nclosed, 0);
	/* ...closed by the timer after one. */
	tv.tv_sec = 1;
	tv.tv_usec = 0;
	event_base_loopexit(test_base, &tv);
	event_base_dispatch(test_base);
	ck_assert_uint_eq(smtp_cache_count(), 0);
	ck_assert_int_eq(nclosed, 1);
	ck_assert_ptr_null(smtp_cache_take("a"));
}
END_TEST

START_TEST(test_server_closes)
{
	struct smtp_session *s = session(1, 1, 0), *s2 = session(2, 1, 0);
	struct smtp_session *watched = s;

	ck_assert(smtp_cache_put("a", &s));
	ck_assert(smtp_cache_put("b", &s2));
	ck_assert_ptr_nonnull(watched->fn);
	/* The engine reports that the server went away. */
	watched->fn(watched->ctx, watched);
	ck_assert_int_eq(nclosed, 1);
	ck_assert_int_eq(last_closed, 1);
	ck_assert_uint_eq(smtp_cache_count(), 1);
	ck_assert_ptr_null(smtp_cache_take("a"));
	s = smtp_cache_take("b");
	ck_assert_int_eq(s->id, 2);
	smtp_session_close(&s);
}
END_TEST

START_TEST(test_bound)
{
	struct smtp_session *s;
	int i;

	for (i = 0; i < SMTP_CACHE_MAX; i++) {
		s = session(i + 1, 1, 0);
		ck_assert(smtp_cache_put(i == 0 ? "first" : "other", &s));
	}
	ck_assert_uint_eq(smtp_cache_count(), SMTP_CACHE_MAX);
	/* One more: the oldest idle session gives way. */
	s = session(1000, 1, 0);
	ck_assert(smtp_cache_put("new", &s));
	ck_assert_uint_eq(smtp_cache_count(), SMTP_CACHE_MAX);
	ck_assert_int_eq(last_closed, 1);
	ck_assert_ptr_null(smtp_cache_take("first"));
	s = smtp_cache_take("new");
	ck_assert_int_eq(s->id, 1000);
	smtp_session_close(&s);
	smtp_cache_close_all();
	ck_assert_uint_eq(smtp_cache_count(), 0);
	ck_assert_int_eq(nclosed, SMTP_CACHE_MAX + 1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("smtp_cache");
	TCase *tc = tcase_create("cache");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_key);
	tcase_add_test(tc, test_put_take);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_idle_timer);
	tcase_add_test(tc, test_server_closes);
	tcase_add_test(tc, test_bound);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
