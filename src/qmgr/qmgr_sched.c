/* SPDX-License-Identifier: MIT */
/*
 * Destinations, concurrency and fair job selection for qmgr; see
 * qmgr_sched.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "log.h"
#include "xalloc.h"

#include "qmgr_sched.h"

#define SCHED_BUCKETS	1024

struct sched_entry {
	TAILQ_ENTRY(sched_entry) link;
	void		*msg;
	char		*nexthop;
	size_t		 rcpt;
};
TAILQ_HEAD(sched_entries, sched_entry);

struct qmgr_dest {
	struct qmgr_dest *hnext;	/* hash chain */
	TAILQ_ENTRY(qmgr_dest) ready;	/* in the ring while pending */
	bool		 in_ring;
	char		*transport;
	char		*name;		/* nexthop, or the recipient */
	struct qmgr_sched_limits lim;
	int		 window;
	int		 active;
	size_t		 npending;
	struct sched_entries pending;
	/* Suspended (dead) until this time, seconds; 0 when not. */
	int64_t		 suspended_until;
	char		*susp_dsn;
	char		*susp_why;
	TAILQ_ENTRY(qmgr_dest) susp;	/* in s->suspended while set */
};
TAILQ_HEAD(sched_ring, qmgr_dest);

struct qmgr_sched {
	qmgr_sched_limits_fn *limits_fn;
	struct qmgr_dest *buckets[SCHED_BUCKETS];
	struct sched_ring ring;
	struct sched_ring suspended;
	size_t		 ndest;
	size_t		 npending;
};

static unsigned
hash2(const char *a, const char *b)
{
	unsigned h = 5381;

	for (; *a != '\0'; a++)
		h = h * 33 + (unsigned char)*a;
	h = h * 33 + ':';
	for (; *b != '\0'; b++)
		h = h * 33 + (unsigned char)*b;
	return h % SCHED_BUCKETS;
}

struct qmgr_sched *
qmgr_sched_new(qmgr_sched_limits_fn *limits_fn)
{
	struct qmgr_sched *s = xcalloc(1, sizeof(*s));

	s->limits_fn = limits_fn;
	TAILQ_INIT(&s->ring);
	TAILQ_INIT(&s->suspended);
	return s;
}

static void
dest_free(struct qmgr_dest *d)
{
	struct sched_entry *e;

	while ((e = TAILQ_FIRST(&d->pending)) != NULL) {
		TAILQ_REMOVE(&d->pending, e, link);
		free(e->nexthop);
		free(e);
	}
	free(d->susp_dsn);
	free(d->susp_why);
	free(d->transport);
	free(d->name);
	free(d);
}

void
qmgr_sched_free(struct qmgr_sched **sp)
{
	struct qmgr_sched *s = *sp;
	struct qmgr_dest *d, *next;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < SCHED_BUCKETS; i++)
		for (d = s->buckets[i]; d != NULL; d = next) {
			next = d->hnext;
			dest_free(d);
		}
	free(s);
	*sp = NULL;
}

static struct qmgr_dest *
dest_find(const struct qmgr_sched *s, const char *transport,
    const char *name)
{
	struct qmgr_dest *d;

	for (d = s->buckets[hash2(transport, name)]; d != NULL; d = d->hnext)
		if (strcmp(d->transport, transport) == 0 &&
		    strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

/* Forgets a destination that has nothing pending and nothing active. */
static void
dest_maybe_free(struct qmgr_sched *s, struct qmgr_dest *d)
{
	struct qmgr_dest **pp;

	if (d->active > 0 || d->npending > 0 || d->suspended_until != 0)
		return;
	if (d->in_ring)
		TAILQ_REMOVE(&s->ring, d, ready);
	for (pp = &s->buckets[hash2(d->transport, d->name)]; *pp != d;
	    pp = &(*pp)->hnext)
		ASSERT(*pp != NULL);
	*pp = d->hnext;
	s->ndest--;
	dest_free(d);
}

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/* Ends the suspensions that are over; forgets idle destinations. */
static void
unsuspend_expired(struct qmgr_sched *s)
{
	struct qmgr_dest *d, *next;
	int64_t now = now_s();

	for (d = TAILQ_FIRST(&s->suspended); d != NULL; d = next) {
		next = TAILQ_NEXT(d, susp);
		if (d->suspended_until > now)
			continue;
		TAILQ_REMOVE(&s->suspended, d, susp);
		d->suspended_until = 0;
		free(d->susp_dsn);
		free(d->susp_why);
		d->susp_dsn = d->susp_why = NULL;
		dest_maybe_free(s, d);
	}
}

void
qmgr_sched_add(struct qmgr_sched *s, void *msg, const char *transport,
    const char *nexthop, const char *rcpt_addr, size_t rcpt)
{
	struct qmgr_sched_limits lim = { 1, 1, 1 };
	struct sched_entry *e;
	struct qmgr_dest *d;
	const char *name;

	s->limits_fn(transport, &lim);
	if (lim.rcpt_limit < 1)
		lim.rcpt_limit = 1;
	if (lim.limit < 1)
		lim.limit = 1;
	if (lim.initial < 1)
		lim.initial = 1;
	if (lim.initial > lim.limit)
		lim.initial = lim.limit;
	/* One recipient per delivery: the recipient is the destination. */
	name = lim.rcpt_limit == 1 ? rcpt_addr : nexthop;
	d = dest_find(s, transport, name);
	if (d == NULL) {
		unsigned h = hash2(transport, name);

		d = xcalloc(1, sizeof(*d));
		d->transport = xstrdup(transport);
		d->name = xstrdup(name);
		d->lim = lim;
		d->window = lim.initial;
		TAILQ_INIT(&d->pending);
		d->hnext = s->buckets[h];
		s->buckets[h] = d;
		s->ndest++;
	}
	e = xcalloc(1, sizeof(*e));
	e->msg = msg;
	e->nexthop = xstrdup(nexthop);
	e->rcpt = rcpt;
	TAILQ_INSERT_TAIL(&d->pending, e, link);
	d->npending++;
	s->npending++;
	if (!d->in_ring) {
		TAILQ_INSERT_TAIL(&s->ring, d, ready);
		d->in_ring = true;
	}
}

struct qmgr_job *
qmgr_sched_next(struct qmgr_sched *s)
{
	struct qmgr_dest *d;
	struct sched_entry *e, *enext, *first;
	struct qmgr_job *job;
	size_t cap;

	unsuspend_expired(s);
	/* A suspended destination's recipients are deferred at once. */
	TAILQ_FOREACH(d, &s->ring, ready)
		if (d->active < d->window || d->suspended_until != 0)
			break;
	if (d == NULL)
		return NULL;
	first = TAILQ_FIRST(&d->pending);
	ASSERT(first != NULL);
	cap = d->lim.rcpt_limit < d->npending ? d->lim.rcpt_limit :
	    d->npending;
	job = xcalloc(1, sizeof(*job));
	job->dest = d;
	job->msg = first->msg;
	job->transport = d->transport;
	job->rcpts = xreallocarray(NULL, cap, sizeof(*job->rcpts));
	/* The job owns the next hop string of its first entry. */
	job->nexthop = first->nexthop;
	first->nexthop = NULL;
	if (d->suspended_until != 0) {
		job->suspended = true;
		job->dsn = xstrdup(d->susp_dsn);
		job->why = xstrdup(d->susp_why);
	}
	for (e = first; e != NULL && job->n < cap; e = enext) {
		enext = TAILQ_NEXT(e, link);
		if (e->msg != job->msg || (e->nexthop != NULL &&
		    strcmp(e->nexthop, job->nexthop) != 0))
			continue;
		job->rcpts[job->n++] = e->rcpt;
		TAILQ_REMOVE(&d->pending, e, link);
		free(e->nexthop);
		free(e);
		d->npending--;
		s->npending--;
	}
	d->active++;
	/* Round robin: this destination goes to the back of the ring. */
	TAILQ_REMOVE(&s->ring, d, ready);
	d->in_ring = false;
	if (d->npending > 0) {
		TAILQ_INSERT_TAIL(&s->ring, d, ready);
		d->in_ring = true;
	}
	return job;
}

void
qmgr_sched_done(struct qmgr_sched *s, struct qmgr_job **jp, bool ok)
{
	struct qmgr_job *job = *jp;
	struct qmgr_dest *d;

	if (job == NULL)
		return;
	d = job->dest;
	ASSERT(d->active > 0);
	d->active--;
	if (ok) {
		if (d->window < d->lim.limit)
			d->window++;
	} else
		d->window = d->lim.initial;
	free(job->nexthop);
	free(job->rcpts);
	free(job->dsn);
	free(job->why);
	free(job);
	*jp = NULL;
	dest_maybe_free(s, d);
}

void
qmgr_sched_suspend(struct qmgr_sched *s, const struct qmgr_job *job,
    int64_t until, const char *dsn, const char *why)
{
	struct qmgr_dest *d = job->dest;

	if (until <= 0)
		until = 1;
	if (d->suspended_until == 0)
		TAILQ_INSERT_TAIL(&s->suspended, d, susp);
	d->suspended_until = until;
	free(d->susp_dsn);
	free(d->susp_why);
	d->susp_dsn = xstrdup(dsn);
	d->susp_why = xstrdup(why);
	d->window = d->lim.initial;
}

bool
qmgr_sched_suspended(const struct qmgr_sched *s, const char *transport,
    const char *name)
{
	const struct qmgr_dest *d = dest_find(s, transport, name);

	return d != NULL && d->suspended_until != 0 &&
	    d->suspended_until > now_s();
}

size_t
qmgr_sched_drop(struct qmgr_sched *s, void *msg)
{
	struct qmgr_dest *d, *dnext;
	struct sched_entry *e, *enext;
	size_t i, n = 0;

	for (i = 0; i < SCHED_BUCKETS; i++)
		for (d = s->buckets[i]; d != NULL; d = dnext) {
			dnext = d->hnext;
			for (e = TAILQ_FIRST(&d->pending); e != NULL;
			    e = enext) {
				enext = TAILQ_NEXT(e, link);
				if (e->msg != msg)
					continue;
				TAILQ_REMOVE(&d->pending, e, link);
				free(e->nexthop);
				free(e);
				d->npending--;
				s->npending--;
				n++;
			}
			if (d->npending == 0 && d->in_ring) {
				TAILQ_REMOVE(&s->ring, d, ready);
				d->in_ring = false;
			}
			dest_maybe_free(s, d);
		}
	return n;
}

size_t
qmgr_sched_pending(const struct qmgr_sched *s)
{
	return s->npending;
}

size_t
qmgr_sched_ndest(const struct qmgr_sched *s)
{
	return s->ndest;
}

int
qmgr_sched_window(const struct qmgr_sched *s, const char *transport,
    const char *name)
{
	const struct qmgr_dest *d = dest_find(s, transport, name);

	return d != NULL ? d->window : -1;
}

int64_t
qmgr_sched_backoff(int64_t now, int64_t arrival, int64_t min_backoff,
    int64_t max_backoff)
{
	int64_t age, next;

	if (min_backoff < 0)
		min_backoff = 0;
	if (max_backoff < min_backoff)
		max_backoff = min_backoff;
	if (__builtin_sub_overflow(now, arrival, &age))
		age = now > arrival ? INT64_MAX : 0;
	if (age < 0)
		age = 0;
	if (age < min_backoff)
		age = min_backoff;
	if (age > max_backoff)
		age = max_backoff;
	if (__builtin_add_overflow(now, age, &next))
		next = INT64_MAX;
	return next;
}
