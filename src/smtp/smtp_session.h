/* SPDX-License-Identifier: MIT */
/*
 * The SMTP/LMTP protocol engine on one connected socket, inside the
 * event loop (libevent bufferevents; STARTTLS through an OpenSSL filter
 * bufferevent).  smtp_deliver.c decides where to connect and what to do
 * with the results; this module speaks the protocol:
 *
 *   smtp_session_open   greeting, EHLO (HELO when EHLO is refused; LHLO
 *                       for LMTP), STARTTLS as the TLS level says and
 *                       EHLO again, AUTH when credentials are given
 *   smtp_session_send   one message: MAIL, RCPT..., DATA or BDAT (with
 *                       PIPELINING when offered, RFC 2920), the content
 *                       read from the queue file (LF line ends turned
 *                       into CRLF, a lone CR also ends a line, dot-
 *                       stuffed for DATA), per-recipient results
 *   smtp_session_reset  RSET before a cached connection's next message
 *   smtp_session_close  QUIT (not waited for beyond smtp_quit_timeout)
 *
 * Every stage has its timeout from smtp_conf.  Callbacks always run from
 * the event loop, never from inside the call that started the stage.
 *
 * Texts follow Postfix: "host mx.example[192.0.2.1] said: 550 5.1.1
 * <u@example>: no such user (in reply to RCPT TO command)", "connect
 * to mx.example[192.0.2.1]:25: Connection refused", "conversation with
 * mx.example[192.0.2.1] timed out while receiving the initial server
 * greeting", "lost connection with mx.example[192.0.2.1] while sending
 * message body".  A DSN code comes from the reply's enhanced status code
 * (RFC 3463) when it has one of the same class, else X.0.0.
 */
#ifndef TERN_SMTP_SESSION_H
#define TERN_SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deliver.h"
#include "tls_client.h"

/* Who a session talks to and how. */
struct smtp_target {
	const char	*host;		/* name for texts ("mx.example") */
	const char	*addr;		/* numeric, or the socket path */
	unsigned	 port;		/* 0 for a UNIX socket */
	const char	*nexthop;	/* the destination, for texts */
	struct tls_client_peer tls;	/* level NONE: no STARTTLS */
	bool		 dane_fallback;	/* dane fell back to may (log) */
	const char	*sasl_user;	/* NULL: no AUTH */
	const char	*sasl_pass;
};

/*
 * Why a session could not be opened or broke: soft (try another host,
 * else defer) or hard (a 5xx; still tried elsewhere for the greeting
 * when smtp_skip_5xx_greeting).
 */
struct smtp_fail {
	bool		 hard;
	bool		 retry_plain;	/* level may and the TLS handshake
					   failed: the caller may try the
					   same address once without TLS */
	char		 dsn[16];	/* "4.4.1", "5.7.1", ... */
	char		*text;		/* heap */
};

void smtp_fail_set(struct smtp_fail *f, bool hard, const char *dsn,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void smtp_fail_deinit(struct smtp_fail *f);

/* One recipient's result after a delivery attempt on one host. */
enum smtp_rcpt_status {
	SMTP_RCPT_TODO,		/* not attempted (session broke before) */
	SMTP_RCPT_SENT,		/* 2xx after the content */
	SMTP_RCPT_SOFT,		/* 4xx or session failure: another host */
	SMTP_RCPT_HARD,		/* 5xx: bounce */
};

struct smtp_rcpt_result {
	enum smtp_rcpt_status status;
	char		 dsn[16];
	char		*text;		/* heap; NULL for TODO */
};

struct smtp_session;

/*
 * s is the ready session, or NULL with fail filled (the socket is closed
 * then).  fail is valid during the call.
 */
typedef void smtp_session_open_fn(void *ctx, struct smtp_session *s,
    const struct smtp_fail *fail);

/*
 * Takes over fd (connected, non-blocking) and starts the dialogue with
 * target (copied).  cb runs once.
 */
void smtp_session_open(int fd, const struct smtp_target *target,
    smtp_session_open_fn *cb, void *ctx);

/*
 * After smtp_session_send: results[] is filled for every recipient
 * given (TODO, SENT, SOFT or HARD); reusable says whether the session
 * may carry another message (its state is clean and the server did not
 * close).  When not reusable the caller closes it.
 */
typedef void smtp_session_sent_fn(void *ctx, struct smtp_session *s,
    bool reusable);

/*
 * Sends the message of req to the recipients req->rcpt.v[idx[i]], i <
 * n, writing results[i] (which the caller owns; texts are freed with
 * smtp_rcpt_result_deinit).  The message-level rules decided before
 * MAIL: a message larger than the server's SIZE is a hard 5.3.4 for all;
 * req->smtputf8 with a non-ASCII envelope address and no SMTPUTF8 from
 * the server is a hard 5.6.7; 8-bit content (req->body 8BITMIME with
 * bytes above 127) without 8BITMIME is a hard 5.6.3; req->requiretls
 * without a Verified session and REQUIRETLS from the server is a soft
 * 4.7.10 (RFC 8689 §4.2; it bounces when the message expires).
 * DSN parameters (NOTIFY, ORCPT, RET, ENVID) are passed on when the
 * server offers DSN; CHUNKING (BDAT) is used when offered.
 */
void smtp_session_send(struct smtp_session *s,
    const struct deliver_request *req, const size_t *idx, size_t n,
    struct smtp_rcpt_result *results, smtp_session_sent_fn *cb, void *ctx);
void smtp_rcpt_result_deinit(struct smtp_rcpt_result *r);

/* RSET; ok false when the session is no longer usable. */
typedef void smtp_session_reset_fn(void *ctx, struct smtp_session *s,
    bool ok);
void smtp_session_reset(struct smtp_session *s, smtp_session_reset_fn *cb,
    void *ctx);

/*
 * While a session sits idle in the cache: fn runs once if the server
 * closes the connection or sends anything (the caller then closes the
 * session).  smtp_session_watch(s, NULL, NULL) stops watching.
 */
typedef void smtp_session_idle_fn(void *ctx, struct smtp_session *s);
void smtp_session_watch(struct smtp_session *s, smtp_session_idle_fn *fn,
    void *ctx);

/* Sends QUIT when the session is healthy, then frees it; clears *sp. */
void smtp_session_close(struct smtp_session **sp);

/* "mx.example[192.0.2.1]:25" (the relay= of log lines). */
const char *smtp_session_relay(const struct smtp_session *s);
/* Messages sent over the session, and when it was opened (seconds). */
unsigned smtp_session_uses(const struct smtp_session *s);
int64_t smtp_session_started(const struct smtp_session *s);
/* The TLS trust of the session, or -1 without TLS. */
int smtp_session_tls_trust(const struct smtp_session *s);

/* Sessions alive in this process (tests, stop). */
size_t smtp_session_count(void);

#endif
