/* SPDX-License-Identifier: MIT */
/*
 * anvil's peers on the event loop; see anvil_service.h.  Replies are
 * written without blocking: when a peer does not read them, the rest is
 * kept and the peer is not read from until it has taken them, so a peer
 * can hold at most one read's worth of replies here.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "attr.h"
#include "buf.h"
#include "log.h"
#include "xalloc.h"

#include "anvil.h"
#include "anvil_service.h"

struct anvil_conn {
	int		 fd;
	struct event	*rev;
	struct event	*wev;
	struct attr_reader rd;
	struct buf	 out;
	struct anvil_peer *peer;
	struct anvil_conn *prev, *next;
};

static struct event_base *svc_base;
static struct anvil_table *svc_table;
static struct anvil_conn *svc_conns;
static struct event *svc_timer;
static void (*svc_on_close)(void);
static time_t svc_unit;
static time_t svc_stats_last;

static time_t
mono_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		panic("clock_gettime: %s", strerror(errno));
	return ts.tv_sec;
}

static void
stats_log(time_t now)
{
	struct buf out;
	char *line, *p;

	buf_init(&out, 0);
	anvil_table_stats(svc_table, now, time(NULL), &out);
	p = out.len > 0 ? out.data : NULL;
	while (p != NULL && (line = strsep(&p, "\n")) != NULL)
		if (line[0] != '\0')
			log_info("%s", line);
	buf_deinit(&out);
	svc_stats_last = now;
}

static void
conn_close(struct anvil_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		svc_conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	event_free(c->rev);
	event_free(c->wev);
	attr_reader_deinit(&c->rd);
	buf_deinit(&c->out);
	anvil_peer_free(&c->peer);
	close(c->fd);
	free(c);
	if (svc_on_close != NULL)
		svc_on_close();
}

/* Writes what it can; 0, or -1 when the peer is gone. */
static int
conn_flush(struct anvil_conn *c)
{
	while (c->out.len > 0) {
		ssize_t n = send(c->fd, c->out.data, c->out.len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			log_warn("cannot reply: %s", n == -1 ?
			    strerror(errno) : "no progress");
			return -1;
		}
		buf_consume(&c->out, (size_t)n);
	}
	if (c->out.len > 0) {
		event_del(c->rev);
		if (event_add(c->wev, NULL) == -1)
			fatal("cannot watch an anvil connection");
	} else {
		event_del(c->wev);
		if (event_add(c->rev, NULL) == -1)
			fatal("cannot watch an anvil connection");
	}
	return 0;
}

/* Answers every whole frame buffered; 0, or -1 to drop the peer. */
static int
conn_process(struct anvil_conn *c)
{
	time_t now = mono_now();
	const void *body;
	const char *err;
	size_t len;
	int rc;

	while ((rc = attr_reader_next(&c->rd, &body, &len, &err)) == 1) {
		if (anvil_request(svc_table, c->peer, body, len, now, &c->out,
		    &err) == -1) {
			log_warn("bad request: %s; dropping the connection",
			    err);
			return -1;
		}
		attr_reader_consume(&c->rd);
	}
	if (rc == -1) {
		log_warn("bad request: %s; dropping the connection", err);
		return -1;
	}
	return conn_flush(c);
}

static void
conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct anvil_conn *c = arg;
	const char *err;
	int rc;

	(void)what;
	rc = attr_reader_fill(&c->rd, fd, &err);
	if (rc == -1) {
		log_warn("%s; dropping the connection", err);
		conn_close(c);
		return;
	}
	if (conn_process(c) == -1) {
		conn_close(c);
		return;
	}
	if (rc == 0) {
		/* The process exited or closed; a partial frame is lost. */
		if (attr_reader_pending(&c->rd))
			log_warn("connection closed in the middle of a "
			    "request");
		conn_close(c);
	}
}

static void
conn_write(evutil_socket_t fd, short what, void *arg)
{
	struct anvil_conn *c = arg;

	(void)fd;
	(void)what;
	if (conn_flush(c) == -1)
		conn_close(c);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	time_t now = mono_now();
	time_t every = svc_unit > ANVIL_STATS_INTERVAL ? svc_unit :
	    ANVIL_STATS_INTERVAL;

	(void)fd;
	(void)what;
	(void)arg;
	anvil_table_sweep(svc_table, now);
	if (now - svc_stats_last >= every)
		stats_log(now);
}

void
anvil_service_init(struct event_base *base, time_t unit, size_t max,
    void (*on_close)(void))
{
	struct timeval tv = { .tv_sec = unit };

	ASSERT(svc_table == NULL);
	svc_base = base;
	svc_unit = unit;
	svc_on_close = on_close;
	svc_table = anvil_table_new(unit, max);
	svc_stats_last = mono_now();
	svc_timer = event_new(base, -1, EV_PERSIST, timer_cb, NULL);
	if (svc_timer == NULL || event_add(svc_timer, &tv) == -1)
		fatal("cannot start the sweep timer");
}

void
anvil_service_attach(int fd)
{
	struct anvil_conn *c = xcalloc(1, sizeof(*c));

	ASSERT(svc_table != NULL);
	c->fd = fd;
	attr_reader_init(&c->rd, ANVIL_FRAME_MAX);
	buf_init(&c->out, 0);
	c->peer = anvil_peer_new(svc_table);
	c->rev = event_new(svc_base, fd, EV_READ | EV_PERSIST, conn_read, c);
	c->wev = event_new(svc_base, fd, EV_WRITE | EV_PERSIST, conn_write,
	    c);
	if (c->rev == NULL || c->wev == NULL || event_add(c->rev, NULL) == -1)
		fatal("cannot watch an anvil connection");
	c->next = svc_conns;
	if (svc_conns != NULL)
		svc_conns->prev = c;
	svc_conns = c;
}

void
anvil_service_stop(void)
{
	if (svc_table == NULL)
		return;
	if (svc_timer != NULL) {
		stats_log(mono_now());
		event_free(svc_timer);
		svc_timer = NULL;
	}
	while (svc_conns != NULL)
		conn_close(svc_conns);
}

void
anvil_service_deinit(void)
{
	anvil_service_stop();
	anvil_table_free(&svc_table);
	svc_base = NULL;
	svc_on_close = NULL;
}

struct anvil_table *
anvil_service_table(void)
{
	return svc_table;
}
