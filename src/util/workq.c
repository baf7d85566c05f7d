/* SPDX-License-Identifier: MIT */
/*
 * Worker threads for event-loop processes; see workq.h.  Finished jobs
 * go on a list and a byte on a pipe wakes the loop, which runs their
 * done functions.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "xalloc.h"
#include "workq.h"

struct workq_job {
	workq_fn	*work;
	workq_fn	*done;
	void		*ctx;
	struct workq_job *next;
};

struct workq {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	struct workq_job *todo, **todo_tail;	/* FIFO */
	struct workq_job *finished, **finished_tail;
	unsigned	 threads, max_threads, idle;
	bool		 stopping;
	size_t		 pending;	/* loop thread only */
	pthread_t	*tids;
	int		 pipe_fd[2];
	struct event	*ev;
};

static void *
worker(void *arg)
{
	struct workq *q = arg;
	struct workq_job *j;
	bool wake;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->todo == NULL && !q->stopping) {
			q->idle++;
			pthread_cond_wait(&q->cond, &q->lock);
			q->idle--;
		}
		if (q->todo == NULL)
			break;
		j = q->todo;
		q->todo = j->next;
		if (q->todo == NULL)
			q->todo_tail = &q->todo;
		pthread_mutex_unlock(&q->lock);
		j->work(j->ctx);
		pthread_mutex_lock(&q->lock);
		j->next = NULL;
		wake = q->finished == NULL;
		*q->finished_tail = j;
		q->finished_tail = &j->next;
		if (wake) {
			/* The loop empties the list before it reads again. */
			while (write(q->pipe_fd[1], "", 1) == -1 &&
			    errno == EINTR)
				;
		}
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* Runs the done functions of the finished jobs (loop thread). */
static void
reap(struct workq *q)
{
	struct workq_job *list, *j;
	char junk[64];

	while (read(q->pipe_fd[0], junk, sizeof(junk)) > 0)
		;
	pthread_mutex_lock(&q->lock);
	list = q->finished;
	q->finished = NULL;
	q->finished_tail = &q->finished;
	pthread_mutex_unlock(&q->lock);
	while ((j = list) != NULL) {
		list = j->next;
		q->pending--;
		j->done(j->ctx);
		free(j);
	}
}

static void
pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reap(arg);
}

struct workq *
workq_new(struct event_base *base, unsigned max_threads)
{
	struct workq *q = xcalloc(1, sizeof(*q));

	ASSERT(max_threads >= 1 && max_threads <= 256);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->todo_tail = &q->todo;
	q->finished_tail = &q->finished;
	q->max_threads = max_threads;
	q->tids = xcalloc(max_threads, sizeof(*q->tids));
	if (pipe2(q->pipe_fd, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("workq: pipe: %s", strerror(errno));
	q->ev = event_new(base, q->pipe_fd[0], EV_READ | EV_PERSIST, pipe_cb,
	    q);
	if (q->ev == NULL || event_add(q->ev, NULL) == -1)
		fatal("workq: cannot watch the pipe");
	return q;
}

void
workq_submit(struct workq *q, workq_fn *work, workq_fn *done, void *ctx)
{
	struct workq_job *j = xcalloc(1, sizeof(*j));
	int err;

	j->work = work;
	j->done = done;
	j->ctx = ctx;
	q->pending++;
	pthread_mutex_lock(&q->lock);
	*q->todo_tail = j;
	q->todo_tail = &j->next;
	if (q->idle == 0 && q->threads < q->max_threads) {
		err = pthread_create(&q->tids[q->threads], NULL, worker, q);
		if (err == 0)
			q->threads++;
		else if (q->threads == 0)
			fatal("workq: cannot start a thread: %s", strerror(err));
	}
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

size_t
workq_pending(const struct workq *q)
{
	return q->pending;
}

void
workq_free(struct workq **qp)
{
	struct workq *q = *qp;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	/* Workers finish the queue before they see stopping. */
	for (unsigned i = 0; i < q->threads; i++)
		pthread_join(q->tids[i], NULL);
	reap(q);
	ASSERT(q->pending == 0);
	event_free(q->ev);
	close(q->pipe_fd[0]);
	close(q->pipe_fd[1]);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q->tids);
	free(q);
	*qp = NULL;
}
