/* SPDX-License-Identifier: MIT */
/*
 * Delivery agent connections for qmgr; see qmgr_agent.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "attr.h"
#include "ipc.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "deliver.h"

#include "qmgr_agent.h"

/* How long a connect and the request write may take. */
#define AGENT_CONNECT_MS	5000
#define AGENT_SEND_MS		10000
/* Reply frames are small: a few strings per recipient. */
#define AGENT_REPLY_MAX		(DELIVER_RCPT_MAX * 4096)

struct agent_conn {
	TAILQ_ENTRY(agent_conn) link;
	char		*transport;
	int		 fd;
	struct event	*ev;
	struct attr_reader rd;
	time_t		 idle_since;
	/* The request in flight. */
	size_t		 nrcpt;
	qmgr_agent_done_fn *fn;
	void		*ctx;
};
TAILQ_HEAD(agent_conns, agent_conn);

/* A failure reported from the loop. */
struct agent_fail {
	qmgr_agent_done_fn *fn;
	void		*ctx;
	char		*why;
};

static struct event_base *agent_base;
static int agent_timeout_s = 3600;
static struct agent_conns agent_idle = TAILQ_HEAD_INITIALIZER(agent_idle);
static size_t agent_nidle, agent_nbusy;
static struct event *agent_sweep_ev;
static struct strv agent_warned;	/* transports warned about */

static void conn_read_cb(evutil_socket_t fd, short what, void *arg);

static void
conn_free(struct agent_conn *c)
{
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->fd >= 0)
		close(c->fd);
	attr_reader_deinit(&c->rd);
	free(c->transport);
	free(c);
}

static void
fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent_fail *f = arg;

	(void)fd;
	(void)what;
	f->fn(f->ctx, NULL, f->why);
	free(f->why);
	free(f);
}

/* Reports a failure from the loop, not from the caller's stack. */
static void
fail_later(qmgr_agent_done_fn *fn, void *ctx, const char *why)
{
	struct agent_fail *f = xcalloc(1, sizeof(*f));
	static const struct timeval zero = { 0, 0 };

	f->fn = fn;
	f->ctx = ctx;
	f->why = xstrdup(why);
	if (event_base_once(agent_base, -1, EV_TIMEOUT, fail_cb, f,
	    &zero) == -1)
		fatal("event_base_once failed");
}

static void
idle_remove(struct agent_conn *c)
{
	TAILQ_REMOVE(&agent_idle, c, link);
	agent_nidle--;
}

static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent_conn *c, *next;
	time_t now = time(NULL);

	(void)fd;
	(void)what;
	(void)arg;
	for (c = TAILQ_FIRST(&agent_idle); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (now - c->idle_since >= QMGR_AGENT_IDLE_TIME) {
			idle_remove(c);
			conn_free(c);
		}
	}
}

void
qmgr_agent_init(struct event_base *base, int timeout_s)
{
	struct timeval tv = { 1, 0 };

	agent_base = base;
	agent_timeout_s = timeout_s > 0 ? timeout_s : 3600;
	strv_init(&agent_warned);
	agent_sweep_ev = event_new(base, -1, EV_PERSIST, sweep_cb, NULL);
	if (agent_sweep_ev == NULL || event_add(agent_sweep_ev, &tv) == -1)
		fatal("cannot set the agent idle timer");
}

/* The agent answered, hung up, timed out or sent garbage. */
static void
conn_finish(struct agent_conn *c, const struct deliver_reply *reply,
    const char *why)
{
	qmgr_agent_done_fn *fn = c->fn;
	void *ctx = c->ctx;

	c->fn = NULL;
	c->ctx = NULL;
	agent_nbusy--;
	if (reply != NULL && agent_nidle < QMGR_AGENT_IDLE_MAX &&
	    !attr_reader_pending(&c->rd)) {
		/* Idle: any readability now means the agent hung up. */
		event_del(c->ev);
		if (event_assign(c->ev, agent_base, c->fd, EV_READ,
		    conn_read_cb, c) == -1 || event_add(c->ev, NULL) == -1)
			fatal("cannot watch an idle agent connection");
		c->idle_since = time(NULL);
		TAILQ_INSERT_HEAD(&agent_idle, c, link);
		agent_nidle++;
	} else
		conn_free(c);
	fn(ctx, reply, why);
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent_conn *c = arg;
	struct deliver_reply reply;
	const void *body;
	const char *err;
	char why[128];
	size_t len;
	int rc;

	(void)fd;
	if (c->fn == NULL) {
		/* Idle connection: EOF or unexpected bytes; drop it. */
		idle_remove(c);
		conn_free(c);
		return;
	}
	str_fmt_buf(why, sizeof(why), "delivery agent %s died",
	    c->transport);
	if (what & EV_TIMEOUT) {
		log_warn("private/%s: no reply within %d s", c->transport,
		    agent_timeout_s);
		conn_finish(c, NULL, why);
		return;
	}
	rc = attr_reader_fill(&c->rd, c->fd, &err);
	if (rc == -1 || rc == 0) {
		if (rc == -1 || attr_reader_pending(&c->rd))
			log_warn("private/%s: %s", c->transport,
			    rc == -1 ? err : "short reply");
		conn_finish(c, NULL, why);
		return;
	}
	rc = attr_reader_next(&c->rd, &body, &len, &err);
	if (rc == 0)
		return;
	if (rc == -1 || deliver_reply_parse(body, len, c->nrcpt, &reply,
	    &err) == -1) {
		log_warn("private/%s: bad reply: %s", c->transport, err);
		conn_finish(c, NULL, why);
		return;
	}
	attr_reader_consume(&c->rd);
	conn_finish(c, &reply, NULL);
	deliver_reply_deinit(&reply);
}

static struct agent_conn *
conn_idle_get(const char *transport)
{
	struct agent_conn *c;

	TAILQ_FOREACH(c, &agent_idle, link)
		if (strcmp(c->transport, transport) == 0) {
			idle_remove(c);
			return c;
		}
	return NULL;
}

static struct agent_conn *
conn_open(const char *transport, const char **err_r)
{
	struct agent_conn *c;
	char path[128];
	int fd;

	str_fmt_buf(path, sizeof(path), "private/%s", transport);
	fd = ipc_connect(path, AGENT_CONNECT_MS, err_r);
	if (fd == -1)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->transport = xstrdup(transport);
	c->fd = fd;
	attr_reader_init(&c->rd, AGENT_REPLY_MAX);
	c->ev = event_new(agent_base, fd, EV_READ, conn_read_cb, c);
	if (c->ev == NULL)
		fatal("event_new failed");
	return c;
}

static int
conn_send(struct agent_conn *c, const struct deliver_request *req,
    qmgr_agent_done_fn *fn, void *ctx, const char **err_r)
{
	struct timeval tv = { agent_timeout_s, 0 };

	if (deliver_request_send(c->fd, req, AGENT_SEND_MS, err_r) == -1)
		return -1;
	event_del(c->ev);
	if (event_assign(c->ev, agent_base, c->fd, EV_READ | EV_PERSIST,
	    conn_read_cb, c) == -1 || event_add(c->ev, &tv) == -1)
		fatal("cannot watch an agent connection");
	c->nrcpt = req->rcpt.n;
	c->fn = fn;
	c->ctx = ctx;
	agent_nbusy++;
	return 0;
}

void
qmgr_agent_deliver(const struct deliver_request *req,
    qmgr_agent_done_fn *fn, void *ctx)
{
	struct agent_conn *c;
	const char *err;
	char why[128];
	long w;

	/* An idle connection may have been closed by the agent meanwhile
	 * (max_use, max_idle): then try the next, and then a new one. */
	while ((c = conn_idle_get(req->transport)) != NULL) {
		if (conn_send(c, req, fn, ctx, &err) == 0)
			return;
		conn_free(c);
	}
	c = conn_open(req->transport, &err);
	w = strv_find(&agent_warned, req->transport);
	if (c == NULL) {
		if (w == -1) {
			log_warn("connect to transport private/%s: %s",
			    req->transport, err);
			strv_push(&agent_warned, req->transport);
		}
		fail_later(fn, ctx, QMGR_AGENT_UNAVAILABLE);
		return;
	}
	if (w != -1) {
		/* Working again: warn again when it next fails. */
		free(agent_warned.v[w]);
		agent_warned.v[w] = xstrdup("");
	}
	if (conn_send(c, req, fn, ctx, &err) == 0)
		return;
	log_warn("private/%s: cannot send request: %s", req->transport, err);
	conn_free(c);
	str_fmt_buf(why, sizeof(why), "delivery agent %s died",
	    req->transport);
	fail_later(fn, ctx, why);
}

void
qmgr_agent_close_idle(void)
{
	struct agent_conn *c;

	while ((c = TAILQ_FIRST(&agent_idle)) != NULL) {
		idle_remove(c);
		conn_free(c);
	}
}

size_t
qmgr_agent_busy(void)
{
	return agent_nbusy;
}

size_t
qmgr_agent_idle(void)
{
	return agent_nidle;
}
