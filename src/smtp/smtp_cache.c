/* SPDX-License-Identifier: MIT */
/*
 * The connection cache; see smtp_cache.h.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "xalloc.h"

#include "smtp.h"
#include "smtp_cache.h"
#include "smtp_session.h"

struct idle {
	char		*key;
	struct smtp_session *s;
	struct event	*timer;
	struct idle	*prev, *next;	/* oldest first */
};

static struct idle *head, *tail;
static size_t nidle;

char *
smtp_cache_key(const char *transport, const char *nexthop,
    enum tls_level level)
{
	return xasprintf("%s|%s|%s", transport, nexthop,
	    tls_level_name(level));
}

static void
unlink_idle(struct idle *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		tail = e->prev;
	nidle--;
}

/* Removes e and returns its session, no longer watched. */
static struct smtp_session *
drop(struct idle *e)
{
	struct smtp_session *s = e->s;

	unlink_idle(e);
	smtp_session_watch(s, NULL, NULL);
	if (e->timer != NULL)
		event_free(e->timer);
	free(e->key);
	free(e);
	return s;
}

static void
close_idle(struct idle *e)
{
	struct smtp_session *s = drop(e);

	smtp_session_close(&s);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	close_idle(arg);
}

static void
on_server(void *ctx, struct smtp_session *s)
{
	(void)s;
	close_idle(ctx);
}

bool
smtp_cache_put(const char *key, struct smtp_session **sp)
{
	struct smtp_session *s = *sp;
	struct timeval tv = { 0, 0 };
	struct idle *e;
	int64_t age;

	*sp = NULL;
	if (s == NULL)
		return false;
	age = (int64_t)time(NULL) - smtp_session_started(s);
	if (!smtp_conf.cache_on_demand || smtp_base() == NULL ||
	    smtp_conf.cache_time_limit <= 0 ||
	    (smtp_conf.reuse_count_limit > 0 &&
	    smtp_session_uses(s) >= smtp_conf.reuse_count_limit) ||
	    age >= smtp_conf.reuse_time_limit) {
		smtp_session_close(&s);
		return false;
	}
	if (nidle >= SMTP_CACHE_MAX)
		close_idle(head);
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->s = s;
	tv.tv_sec = (time_t)smtp_conf.cache_time_limit;
	e->timer = evtimer_new(smtp_base(), on_timer, e);
	if (e->timer == NULL || evtimer_add(e->timer, &tv) == -1) {
		log_warn("cannot set a timer for an idle connection");
		if (e->timer != NULL)
			event_free(e->timer);
		free(e->key);
		free(e);
		smtp_session_close(&s);
		return false;
	}
	e->prev = tail;
	if (tail != NULL)
		tail->next = e;
	else
		head = e;
	tail = e;
	nidle++;
	smtp_session_watch(s, on_server, e);
	return true;
}

struct smtp_session *
smtp_cache_take(const char *key)
{
	struct idle *e;

	/* The most recently used first: it is the least likely to have
	   been closed by the server meanwhile. */
	for (e = tail; e != NULL; e = e->prev)
		if (strcmp(e->key, key) == 0)
			return drop(e);
	return NULL;
}

size_t
smtp_cache_count(void)
{
	return nidle;
}

void
smtp_cache_close_all(void)
{
	while (head != NULL)
		close_idle(head);
}
