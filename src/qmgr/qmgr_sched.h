/* SPDX-License-Identifier: MIT */
/*
 * The scheduler of qmgr(8): pending recipients grouped into destinations
 * (transport and next hop, or transport and recipient when a transport
 * takes one recipient per delivery, as in Postfix), per-destination
 * concurrency with slow start (initial_destination_concurrency, one more
 * per successful delivery up to the transport's limit, back to the start
 * after a failure), and fair selection: destinations take turns, and a
 * destination serves messages in arrival order.  Pure bookkeeping: a job
 * is a list of recipient indexes of one message; the caller delivers it
 * and reports back with qmgr_sched_done.  Also the retry arithmetic.
 */
#ifndef TERN_QMGR_SCHED_H
#define TERN_QMGR_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits of one transport. */
struct qmgr_sched_limits {
	size_t	rcpt_limit;	/* recipients per delivery, >= 1 */
	int	initial;	/* starting concurrency, >= 1 */
	int	limit;		/* most parallel deliveries, >= 1 */
};

typedef void qmgr_sched_limits_fn(const char *transport,
    struct qmgr_sched_limits *limits_r);

struct qmgr_sched;
struct qmgr_dest;

/* One delivery: recipients of one message to one destination. */
struct qmgr_job {
	struct qmgr_dest *dest;
	void		*msg;		/* the caller's message */
	const char	*transport;	/* valid while the job lives */
	char		*nexthop;	/* owned by the job */
	size_t		*rcpts;		/* recipient indexes, in order */
	size_t		 n;
	/*
	 * The destination is suspended (qmgr_sched_suspend): do not
	 * deliver, defer the recipients with dsn and why (owned by the job).
	 */
	bool		 suspended;
	char		*dsn;
	char		*why;
};

struct qmgr_sched *qmgr_sched_new(qmgr_sched_limits_fn *limits_fn);
/* Frees everything; jobs still out must not be used afterwards. */
void qmgr_sched_free(struct qmgr_sched **sp);

/* Queues recipient index rcpt of msg for transport/nexthop. */
void qmgr_sched_add(struct qmgr_sched *s, void *msg, const char *transport,
    const char *nexthop, const char *rcpt_addr, size_t rcpt);
/*
 * The next job to start, or NULL when nothing may start now (nothing
 * pending, or every destination with work is at its concurrency).
 */
struct qmgr_job *qmgr_sched_next(struct qmgr_sched *s);
/*
 * Ends a job: ok means the destination accepted (some recipient was not
 * deferred); false (all deferred, agent failed) resets its concurrency.
 * Frees the job and clears *jp.
 */
void qmgr_sched_done(struct qmgr_sched *s, struct qmgr_job **jp, bool ok);
/*
 * Suspends the destination of job (a dead destination: the agent could
 * not reach it at all) until the time until (seconds since the epoch), as
 * Postfix's qmgr throttles a dead destination for $minimal_backoff_time.
 * Meanwhile qmgr_sched_next hands out its recipients (pending ones and
 * any added later) at once, whatever the concurrency window, as jobs with
 * suspended set, dsn and why copied from here: the caller defers them
 * without contacting the agent.  The window goes back to its start.
 * Afterwards the destination works as before.
 */
void qmgr_sched_suspend(struct qmgr_sched *s, const struct qmgr_job *job,
    int64_t until, const char *dsn, const char *why);
/* True while transport/name is suspended (tests, logs). */
bool qmgr_sched_suspended(const struct qmgr_sched *s, const char *transport,
    const char *name);

/* Drops every pending (not started) recipient of msg; returns how many. */
size_t qmgr_sched_drop(struct qmgr_sched *s, void *msg);
/* Recipients pending (not in a job). */
size_t qmgr_sched_pending(const struct qmgr_sched *s);
/* Destinations known; and the concurrency window of one, -1 if none. */
size_t qmgr_sched_ndest(const struct qmgr_sched *s);
int qmgr_sched_window(const struct qmgr_sched *s, const char *transport,
    const char *name);

/*
 * Next retry of a deferred message (seconds): now + clamp(now - arrival,
 * min_backoff, max_backoff), so the wait about doubles each attempt.
 * Overflow-safe; an arrival in the future counts as age 0.
 */
int64_t qmgr_sched_backoff(int64_t now, int64_t arrival, int64_t min_backoff,
    int64_t max_backoff);

#endif
