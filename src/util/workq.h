/* SPDX-License-Identifier: MIT */
/*
 * A small pool of worker threads for an event-loop process, to wait for
 * the disk (fsync) without stopping the loop.  A job is two functions:
 * work runs in a worker thread and must touch only its own ctx (no
 * logging, no libevent, no shared state); done runs afterwards in the
 * loop's thread, in the order jobs finish.  Threads are started on
 * demand, up to the pool's maximum, and then stay; jobs beyond that wait
 * in a queue.  Only the loop's thread calls workq functions.
 */
#ifndef TERN_WORKQ_H
#define TERN_WORKQ_H

#include <stddef.h>

struct event_base;
struct workq;

typedef void workq_fn(void *ctx);

/* A pool on base with at most max_threads threads (1..256). */
struct workq *workq_new(struct event_base *base, unsigned max_threads);
/* Runs work(ctx) in a thread, then done(ctx) in the loop. */
void workq_submit(struct workq *q, workq_fn *work, workq_fn *done,
    void *ctx);
/* Jobs submitted and not yet done. */
size_t workq_pending(const struct workq *q);
/*
 * Waits for every job (running their done functions), stops the threads
 * and frees the pool; NULL-safe.
 */
void workq_free(struct workq **qp);

#endif
