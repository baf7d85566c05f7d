/* SPDX-License-Identifier: MIT */
/*
 * The qmgr <-> delivery agent protocol (deliver.h): request and reply
 * frames, the agent's connection loop inside the server skeleton, and
 * the Postfix-shaped delivery log line.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "fdpass.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "deliver.h"
#include "qfile.h"
#include "server.h"

/* Requests are small: addresses, never content. */
#define DELIVER_FRAME_MAX	((size_t)512 * 1024)

static const char *const status_names[] = {
	[DELIVER_SENT] = "sent",
	[DELIVER_DEFER] = "deferred",
	[DELIVER_BOUNCE] = "bounced",
};

void
deliver_request_init(struct deliver_request *req)
{
	memset(req, 0, sizeof(*req));
	req->fd = -1;
	strv_init(&req->rcpt);
	strv_init(&req->orcpt);
	strv_init(&req->notify);
	buf_init(&req->body_, DELIVER_FRAME_MAX);
}

void
deliver_request_deinit(struct deliver_request *req)
{
	if (req->fd >= 0)
		close(req->fd);
	req->fd = -1;
	strv_deinit(&req->rcpt);
	strv_deinit(&req->orcpt);
	strv_deinit(&req->notify);
	buf_deinit(&req->body_);
}

int
deliver_request_send(int sock, const struct deliver_request *req,
    int timeout_ms, const char **err_r)
{
	struct attr_writer w;
	struct buf frame;
	int rc = -1;

	if (req->fd < 0 || req->rcpt.n == 0 ||
	    req->rcpt.n > DELIVER_RCPT_MAX || req->orcpt.n != req->rcpt.n ||
	    req->notify.n != req->rcpt.n) {
		*err_r = "malformed delivery request";
		return -1;
	}
	buf_init(&frame, 0);
	attr_frame_begin(&w, &frame);
	attr_put_str(&w, "request", "deliver");
	attr_put_str(&w, "queue_id", req->queue_id);
	attr_put_str(&w, "queue_name", req->queue_name);
	attr_put_u64(&w, "content_off", req->content_off);
	attr_put_u64(&w, "content_size", req->content_size);
	attr_put_i64(&w, "arrival", req->arrival);
	attr_put_i64(&w, "active", req->active);
	attr_put_str(&w, "sender", req->sender);
	attr_put_str(&w, "transport", req->transport);
	attr_put_str(&w, "nexthop", req->nexthop);
	if (req->envid != NULL)
		attr_put_str(&w, "envid", req->envid);
	if (req->ret != NULL)
		attr_put_str(&w, "ret", req->ret);
	if (req->body != NULL)
		attr_put_str(&w, "body", req->body);
	if (req->smtputf8)
		attr_put_bool(&w, "smtputf8", true);
	if (req->requiretls)
		attr_put_bool(&w, "requiretls", true);
	attr_put_strv(&w, "rcpt", &req->rcpt);
	attr_put_strv(&w, "orcpt", &req->orcpt);
	attr_put_strv(&w, "notify", &req->notify);
	if (attr_frame_end(&w, err_r) == 0 &&
	    fdpass_send_frame(sock, &frame, &req->fd, 1, timeout_ms,
	    err_r) == 0)
		rc = 0;
	buf_deinit(&frame);
	return rc;
}

/* Peeks whether the peer closed the connection before a new frame. */
static int
peer_closed(int sock, int timeout_ms, const char **err_r)
{
	char c;
	ssize_t n;

	if (attr_wait(sock, POLLIN, attr_deadline(timeout_ms), err_r) == -1)
		return -1;
	do {
		n = recv(sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == 0)
		return 1;
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
		*err_r = strerror(errno);
		return -1;
	}
	return 0;
}

int
deliver_request_read(int sock, struct deliver_request *req, int timeout_ms,
    const char **err_r)
{
	const char *request = NULL, *queue_id = NULL, *queue_name = NULL;
	const char *sender = NULL, *transport = NULL, *nexthop = NULL;
	const char *envid = NULL, *ret = NULL, *body = NULL;
	bool smtputf8 = false, requiretls = false;
	uint64_t off = 0, size = 0;
	int64_t arrival = 0, active = 0;
	struct attr_spec spec[] = {
		ATTR_STR("request", &request),
		ATTR_STR("queue_id", &queue_id),
		ATTR_STR("queue_name", &queue_name),
		ATTR_U64_MAX("content_off", &off, INT64_MAX),
		ATTR_U64_MAX("content_size", &size, INT64_MAX),
		ATTR_I64("arrival", &arrival),
		ATTR_I64("active", &active),
		ATTR_STR("sender", &sender),
		ATTR_STR("transport", &transport),
		ATTR_STR("nexthop", &nexthop),
		ATTR_STR_OPT("envid", &envid),
		ATTR_STR_OPT("ret", &ret),
		ATTR_STR_OPT("body", &body),
		ATTR_BOOL_OPT("smtputf8", &smtputf8),
		ATTR_BOOL_OPT("requiretls", &requiretls),
		ATTR_STRV("rcpt", &req->rcpt),
		ATTR_STRV("orcpt", &req->orcpt),
		ATTR_STRV("notify", &req->notify),
		ATTR_END
	};
	int fd = -1, closed;

	closed = peer_closed(sock, timeout_ms, err_r);
	if (closed != 0)
		return closed == 1 ? 0 : -1;
	if (fdpass_recv_frame(sock, &req->body_, DELIVER_FRAME_MAX, &fd, 1,
	    timeout_ms, err_r) == -1)
		return -1;
	req->fd = fd;
	if (attr_parse(req->body_.data, req->body_.len, spec,
	    ATTR_PARSE_STRICT, err_r) == -1)
		return -1;
	if (!str_eq(request, "deliver")) {
		*err_r = "unknown request";
		return -1;
	}
	if (req->rcpt.n == 0 || req->rcpt.n > DELIVER_RCPT_MAX ||
	    req->orcpt.n != req->rcpt.n || req->notify.n != req->rcpt.n) {
		*err_r = "bad recipient list";
		return -1;
	}
	if (ret != NULL && !str_eq(ret, "FULL") && !str_eq(ret, "HDRS")) {
		*err_r = "bad ret value";
		return -1;
	}
	if (body != NULL && !str_eq(body, "8BITMIME") && !str_eq(body, "7BIT")) {
		*err_r = "bad body value";
		return -1;
	}
	req->queue_id = queue_id;
	req->queue_name = queue_name;
	req->content_off = off;
	req->content_size = size;
	req->arrival = arrival;
	req->active = active;
	req->sender = sender;
	req->transport = transport;
	req->nexthop = nexthop;
	req->envid = envid;
	req->ret = ret;
	req->body = body;
	req->smtputf8 = smtputf8;
	req->requiretls = requiretls;
	return 1;
}

int
deliver_reply_parse(const void *body, size_t len, size_t nrcpt,
    struct deliver_reply *reply_r, const char **err_r)
{
	static const char classes[] = {
		[DELIVER_SENT] = '2', [DELIVER_DEFER] = '4',
		[DELIVER_BOUNCE] = '5',
	};
	const char *relay = NULL;
	bool dead = false;
	struct strv status, dsn, text;
	struct attr_spec spec[] = {
		ATTR_STRV("status", &status),
		ATTR_STRV("dsn", &dsn),
		ATTR_STRV("text", &text),
		ATTR_STR("relay", &relay),
		ATTR_BOOL_OPT("dead", &dead),
		ATTR_END
	};
	int rc = -1;

	memset(reply_r, 0, sizeof(*reply_r));
	strv_init(&status);
	strv_init(&dsn);
	strv_init(&text);
	if (attr_parse(body, len, spec, ATTR_PARSE_STRICT, err_r) == -1)
		goto out;
	if (status.n != nrcpt || dsn.n != nrcpt || text.n != nrcpt) {
		*err_r = "reply does not match the request";
		goto out;
	}
	deliver_reply_alloc(reply_r, nrcpt, relay);
	reply_r->dead = dead;
	for (size_t i = 0; i < nrcpt; i++) {
		enum deliver_status st;

		if (str_eq(status.v[i], "sent"))
			st = DELIVER_SENT;
		else if (str_eq(status.v[i], "deferred"))
			st = DELIVER_DEFER;
		else if (str_eq(status.v[i], "bounced"))
			st = DELIVER_BOUNCE;
		else {
			*err_r = "bad status in reply";
			goto out;
		}
		if (!qfile_dsn_valid(dsn.v[i]) || dsn.v[i][0] != classes[st]) {
			*err_r = "bad status code in reply";
			goto out;
		}
		deliver_reply_set(reply_r, i, st, dsn.v[i], text.v[i]);
	}
	rc = 0;
out:
	if (rc == -1)
		deliver_reply_deinit(reply_r);
	strv_deinit(&status);
	strv_deinit(&dsn);
	strv_deinit(&text);
	return rc;
}

void
deliver_reply_alloc(struct deliver_reply *reply, size_t n, const char *relay)
{
	reply->relay = xstrdup(relay != NULL ? relay : "none");
	reply->dead = false;
	reply->n = n;
	reply->results = xcalloc(n > 0 ? n : 1, sizeof(*reply->results));
	for (size_t i = 0; i < n; i++) {
		reply->results[i].status = DELIVER_DEFER;
		reply->results[i].dsn = xstrdup("4.3.0");
		reply->results[i].text = xstrdup("");
	}
}

void
deliver_reply_set(struct deliver_reply *reply, size_t i,
    enum deliver_status status, const char *dsn, const char *text)
{
	struct deliver_result *r;

	ASSERT(i < reply->n);
	r = &reply->results[i];
	free(r->dsn);
	free(r->text);
	r->status = status;
	r->dsn = xstrdup(dsn);
	r->text = xstrdup(text != NULL ? text : "");
}

void
deliver_reply_deinit(struct deliver_reply *reply)
{
	for (size_t i = 0; i < reply->n; i++) {
		free(reply->results[i].dsn);
		free(reply->results[i].text);
	}
	free(reply->results);
	free(reply->relay);
	memset(reply, 0, sizeof(*reply));
}

int
deliver_reply_send(int sock, const struct deliver_reply *reply,
    int timeout_ms, const char **err_r)
{
	struct strv status, dsn, text;
	struct attr_writer w;
	struct buf frame;
	int rc = -1;

	strv_init(&status);
	strv_init(&dsn);
	strv_init(&text);
	for (size_t i = 0; i < reply->n; i++) {
		strv_push(&status, status_names[reply->results[i].status]);
		strv_push(&dsn, reply->results[i].dsn);
		strv_push(&text, reply->results[i].text);
	}
	buf_init(&frame, 0);
	attr_frame_begin(&w, &frame);
	attr_put_strv(&w, "status", &status);
	attr_put_strv(&w, "dsn", &dsn);
	attr_put_strv(&w, "text", &text);
	attr_put_str(&w, "relay", reply->relay);
	if (reply->dead)
		attr_put_bool(&w, "dead", true);
	if (attr_frame_end(&w, err_r) == 0 &&
	    attr_write_frame(sock, &frame, timeout_ms, err_r) == 0)
		rc = 0;
	buf_deinit(&frame);
	strv_deinit(&status);
	strv_deinit(&dsn);
	strv_deinit(&text);
	return rc;
}

/*
 * The agent side: one struct per connection from qmgr, on a list so that
 * a stop request can close the idle ones.  An asynchronous agent's
 * connection has job set while a request is out; it reads nothing then.
 */
struct deliver_conn {
	int		 fd;
	struct event	*ev;
	deliver_handler_fn *handler;
	deliver_async_fn *async;
	struct deliver_job *job;
	struct deliver_conn *next;
};

struct deliver_job {
	struct deliver_conn *conn;
	struct deliver_request req;
	struct deliver_reply reply;
};

static struct deliver_conn *conns;

/* A request is expected promptly once its first byte arrived. */
#define DELIVER_READ_TIMEOUT_MS	10000

static void
conn_close(struct deliver_conn *c)
{
	for (struct deliver_conn **p = &conns; *p != NULL; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	event_free(c->ev);
	close(c->fd);
	free(c);
	server_session_done();
}

/*
 * Sends the reply to req; closes the connection on failure or stop.
 * True when the connection is still open.
 */
static bool
conn_reply(struct deliver_conn *c, struct deliver_request *req,
    struct deliver_reply *reply)
{
	const char *err;
	int rc;

	ASSERT(reply->n == req->rcpt.n);
	rc = deliver_reply_send(c->fd, reply, DELIVER_READ_TIMEOUT_MS, &err);
	deliver_reply_deinit(reply);
	deliver_request_deinit(req);
	if (rc == -1) {
		log_warn("cannot reply to queue manager: %s", err);
		conn_close(c);
		return false;
	}
	if (server_stopping()) {
		conn_close(c);
		return false;
	}
	return true;
}

static void
conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct deliver_conn *c = arg;
	struct deliver_job *job;
	const char *err;
	int rc;

	(void)what;
	job = xcalloc(1, sizeof(*job));
	deliver_request_init(&job->req);
	rc = deliver_request_read(fd, &job->req, DELIVER_READ_TIMEOUT_MS,
	    &err);
	if (rc <= 0) {
		if (rc == -1)
			log_warn("bad request from queue manager: %s", err);
		deliver_request_deinit(&job->req);
		free(job);
		conn_close(c);
		return;
	}
	if (c->async == NULL) {
		c->handler(&job->req, &job->reply);
		(void)conn_reply(c, &job->req, &job->reply);
		free(job);
		return;
	}
	/* The handler may finish (deliver_done) before it returns. */
	job->conn = c;
	c->job = job;
	event_del(c->ev);
	c->async(&job->req, &job->reply, job);
}

void
deliver_done(struct deliver_job *job)
{
	struct deliver_conn *c = job->conn;

	bool open;

	c->job = NULL;
	open = conn_reply(c, &job->req, &job->reply);
	free(job);
	if (open && event_add(c->ev, NULL) == -1)
		fatal("cannot watch a queue manager connection");
}

static void
serve(int fd, deliver_handler_fn *handler, deliver_async_fn *async)
{
	struct deliver_conn *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	c->handler = handler;
	c->async = async;
	c->ev = event_new(server_event_base(), fd, EV_READ | EV_PERSIST,
	    conn_read, c);
	if (c->ev == NULL || event_add(c->ev, NULL) == -1)
		fatal("cannot watch a queue manager connection");
	c->next = conns;
	conns = c;
}

void
deliver_serve(int fd, deliver_handler_fn *handler)
{
	serve(fd, handler, NULL);
}

void
deliver_serve_async(int fd, deliver_async_fn *handler)
{
	serve(fd, NULL, handler);
}

void
deliver_serve_stop_idle(void)
{
	struct deliver_conn **p = &conns;

	/* Busy connections close when their request is done. */
	while (*p != NULL) {
		if ((*p)->job == NULL)
			conn_close(*p);
		else
			p = &(*p)->next;
	}
}

int64_t
deliver_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Formats microseconds as seconds with at most two decimals and no
 * trailing zeros ("0.12", "1.5", "0"), as Postfix's delay fields read.
 */
static const char *
fmt_delay(char *out, size_t size, int64_t us)
{
	size_t n;

	snprintf(out, size, "%.2f", us < 0 ? 0.0 : (double)us / 1e6);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
	return out;
}

void
deliver_log(const struct deliver_request *req, const char *rcpt,
    const char *orig_to, const char *relay, int64_t start_us,
    int64_t conn_us, enum deliver_status status, const char *dsn,
    const char *text)
{
	int64_t now = deliver_now_us();
	int64_t a = req->active - req->arrival;
	int64_t b = start_us - req->active;
	int64_t d = now - start_us - conn_us;
	char total[32], da[32], db[32], dc[32], dd[32];
	char *to = log_escape_str(rcpt), *otext = log_escape_str(text);
	char *orig = NULL;

	if (orig_to != NULL && !str_eq(orig_to, rcpt))
		orig = log_escape_str(orig_to);
	log_qid_info(req->queue_id, "to=<%s>%s%s%s, relay=%s, delay=%s, "
	    "delays=%s/%s/%s/%s, dsn=%s, status=%s (%s)", to,
	    orig != NULL ? ", orig_to=<" : "", orig != NULL ? orig : "",
	    orig != NULL ? ">" : "", relay,
	    fmt_delay(total, sizeof(total), now - req->arrival),
	    fmt_delay(da, sizeof(da), a), fmt_delay(db, sizeof(db), b),
	    fmt_delay(dc, sizeof(dc), conn_us), fmt_delay(dd, sizeof(dd), d),
	    dsn, status_names[status], otext);
	free(to);
	free(orig);
	free(otext);
}
