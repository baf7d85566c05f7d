/* SPDX-License-Identifier: MIT */
/*
 * The protocol between qmgr and the delivery agents (local, virtual,
 * later smtp and lmtp), over the agent's UNIX socket in private/.  One
 * connection carries any number of requests, one at a time: qmgr sends a
 * request frame with the queue file's descriptor passed alongside
 * (fdpass.h; opened read-only, so agents never need queue access), the
 * agent delivers and answers with one reply frame, then waits for the next
 * request or end of file.  Frames use attr.h's format:
 *
 * request (with 1 fd):
 *   request=deliver  queue_id  queue_name  content_off:u64  content_size:u64
 *   arrival:i64 (microseconds since the epoch)  active:i64 (when qmgr took
 *   the message)  sender  transport  nexthop  [envid]  [ret]
 *   rcpt:strv  orcpt:strv  notify:strv  (same length, 1..DELIVER_RCPT_MAX;
 *   "-" for no ORCPT/NOTIFY)
 * reply:
 *   status:strv  ("sent", "deferred" or "bounced", one per recipient)
 *   dsn:strv     (enhanced status code "X.Y.Z", RFC 3463)
 *   text:strv    (diagnostic, e.g. "delivered to maildir" or the remote
 *                 server's reply; logged and quoted in DSNs)
 *   relay        (e.g. "local", "virtual", "mx.example[192.0.2.1]:25")
 *   [dead:bool]  (the destination could not be reached at all: qmgr
 *                 suspends it for a while instead of sending it more)
 *
 * The agent logs the Postfix-shaped "QID: to=<...>, relay=..., delay=...,
 * delays=a/b/c/d, dsn=..., status=... (text)" line for each recipient
 * (deliver_log); qmgr records the results in the queue file.  A request
 * that breaks the rules, or an agent that does not answer, ends the
 * connection (qmgr then defers the recipients).
 */
#ifndef TERN_DELIVER_H
#define TERN_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "str.h"

#define DELIVER_RCPT_MAX	1000

enum deliver_status {
	DELIVER_SENT,		/* delivered (or forwarded): done */
	DELIVER_DEFER,		/* temporary failure: try again later */
	DELIVER_BOUNCE,		/* permanent failure: bounce */
};

struct deliver_request {
	const char	*queue_id;
	const char	*queue_name;
	int		 fd;		/* queue file, read-only; -1 when none */
	uint64_t	 content_off;
	uint64_t	 content_size;
	int64_t		 arrival;	/* microseconds since the epoch */
	int64_t		 active;	/* microseconds since the epoch */
	const char	*sender;	/* "" for <> */
	const char	*transport;
	const char	*nexthop;
	const char	*envid;		/* NULL: none */
	const char	*ret;		/* NULL, "FULL" or "HDRS" */
	const char	*body;		/* NULL or "8BITMIME" */
	bool		 smtputf8;	/* needs SMTPUTF8 (RFC 6531) */
	bool		 requiretls;	/* REQUIRETLS (RFC 8689) */
	struct strv	 rcpt;
	struct strv	 orcpt;
	struct strv	 notify;
	struct buf	 body_;		/* owns the strings (reader side) */
};

struct deliver_result {
	enum deliver_status status;
	char		*dsn;
	char		*text;
};

struct deliver_reply {
	char		*relay;
	bool		 dead;		/* destination unreachable */
	struct deliver_result *results;
	size_t		 n;
};

/* Zeroes a request and its strvs (fd = -1). */
void deliver_request_init(struct deliver_request *req);
/* Frees what the reader allocated and closes fd when >= 0. */
void deliver_request_deinit(struct deliver_request *req);

/* qmgr: sends req (with req->fd) on sock; -1 with err_r. */
int deliver_request_send(int sock, const struct deliver_request *req,
    int timeout_ms, const char **err_r) __attribute__((warn_unused_result));
/*
 * qmgr: parses a reply frame body for a request of nrcpt recipients
 * (the lists must have exactly nrcpt entries, valid statuses, dsn codes
 * of the form D.D{1,3}.D{1,3} whose class matches the status: 2 for sent,
 * 4 for deferred, 5 for bounced).  -1 with err_r; the reply is then empty.
 */
int deliver_reply_parse(const void *body, size_t len, size_t nrcpt,
    struct deliver_reply *reply_r, const char **err_r)
    __attribute__((warn_unused_result));
void deliver_reply_deinit(struct deliver_reply *reply);

/*
 * Agent: reads one request (and its descriptor) from sock within
 * timeout_ms.  Returns 1 with *req filled (the caller deinits it), 0 at a
 * clean end of file, -1 with err_r for a broken request (the caller drops
 * the connection).
 */
int deliver_request_read(int sock, struct deliver_request *req,
    int timeout_ms, const char **err_r) __attribute__((warn_unused_result));
/* Agent: sends the reply for a request; -1 with err_r. */
int deliver_reply_send(int sock, const struct deliver_reply *reply,
    int timeout_ms, const char **err_r) __attribute__((warn_unused_result));

/*
 * Agent: serves a connection from qmgr inside the server skeleton's event
 * loop.  Each request is handed to handler, which fills reply (n equal to
 * the request's recipients; strings heap-allocated, freed by
 * deliver_reply_deinit) and returns; the reply is sent and the connection
 * waits for the next request.  At end of file, on a broken request or
 * when the server stops while idle, the connection is closed and
 * server_session_done() called.  Use from on_connect:
 *	deliver_serve(fd, local_deliver);
 */
typedef void deliver_handler_fn(const struct deliver_request *req,
    struct deliver_reply *reply);
void deliver_serve(int fd, deliver_handler_fn *handler);
/*
 * The same for agents that deliver asynchronously inside the event loop
 * (smtp, lmtp): the handler starts the delivery and returns; when it is
 * over, the agent fills reply and calls deliver_done(job), which sends
 * the reply and frees req, reply and job (do not touch them afterwards).
 * The connection reads no further request until then.  If qmgr goes
 * away meanwhile, the reply is dropped when it is sent.
 */
struct deliver_job;
typedef void deliver_async_fn(const struct deliver_request *req,
    struct deliver_reply *reply, struct deliver_job *job);
void deliver_serve_async(int fd, deliver_async_fn *handler);
void deliver_done(struct deliver_job *job);

/* Closes the idle connections deliver_serve has (from on_stop). */
void deliver_serve_stop_idle(void);

/* Allocates n results, each "deferred 4.3.0" with empty text. */
void deliver_reply_alloc(struct deliver_reply *reply, size_t n,
    const char *relay);
/* Sets result i (copies the strings). */
void deliver_reply_set(struct deliver_reply *reply, size_t i,
    enum deliver_status status, const char *dsn, const char *text);

/*
 * Logs the delivery line for recipient i of req:
 *   QID: to=<rcpt>, orig_to=<orig>, relay=RELAY, delay=D,
 *   delays=a/b/c/d, dsn=X.Y.Z, status=sent (text)
 * orig_to is left out when NULL or equal to rcpt.  a = active - arrival,
 * b = start - active (start: when the agent took the request, microseconds),
 * c = connection setup (conn_us), d = the rest; seconds with two decimals,
 * as Postfix prints them.  status is sent, deferred or bounced.
 */
void deliver_log(const struct deliver_request *req, const char *rcpt,
    const char *orig_to, const char *relay, int64_t start_us,
    int64_t conn_us, enum deliver_status status, const char *dsn,
    const char *text);
/* Microseconds since the epoch (CLOCK_REALTIME). */
int64_t deliver_now_us(void);

#endif
