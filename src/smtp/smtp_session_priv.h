/* SPDX-License-Identifier: MIT */
/*
 * Inside the SMTP/LMTP protocol engine: the session structure and the
 * functions its files share.  Only the engine includes this header:
 * smtp_session.c (the session, its connection, the pending commands, the
 * timer, the deferred results, input), smtp_open.c (greeting, EHLO,
 * STARTTLS, AUTH), smtp_send.c (MAIL, RCPT, DATA or BDAT, the
 * message-level rules, per-recipient results) and smtp_content.c (the
 * queue file's content converted and written).  Everyone else uses
 * smtp_session.h.
 */
#ifndef TERN_SMTP_SESSION_PRIV_H
#define TERN_SMTP_SESSION_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deliver.h"
#include "dns_mx.h"

#include "smtp_reply.h"
#include "smtp_session.h"

struct bufferevent;
struct event;

#define CHUNK		(64 * 1024)	/* content read per pread */

enum cmd {
	C_GREETING, C_EHLO, C_HELO, C_STARTTLS, C_AUTH, C_AUTH_USER,
	C_AUTH_PASS, C_MAIL, C_RCPT, C_DATA, C_BDAT, C_DOT, C_RSET, C_QUIT,
};

struct pend {
	enum cmd	 cmd;
	size_t		 arg;		/* RCPT: i; BDAT: last; DOT: i */
};

enum phase {
	P_OPEN,		/* greeting .. AUTH */
	P_READY,	/* idle */
	P_SEND,		/* smtp_session_send */
	P_RESET,	/* RSET */
	P_QUIT,		/* closing */
	P_DONE,		/* result pending in the deferred event */
};

/* What the deferred event delivers. */
enum later {
	L_NONE, L_OPEN, L_SENT, L_RESET, L_IDLE, L_FREE,
};

struct smtp_session {
	struct smtp_target t;		/* strings owned */
	char		*o_host, *o_addr, *o_nexthop;	/* behind t */
	char		*o_user, *o_pass, *o_sni, *o_proto, *o_ciph;
	char		**match;	/* owned copies behind t.tls */
	struct dns_tlsa *tlsa;
	unsigned char	**tlsa_data;
	char		*relay;
	char		*hostaddr;	/* "host[addr]" for texts */
	struct bufferevent *bev;
	struct event	*timer;
	struct event	*later;
	enum later	 later_kind;
	enum phase	 phase;
	struct smtp_reply reply;
	struct smtp_ehlo ehlo;
	struct pend	*pend;
	size_t		 phead, ntail, pcap;
	bool		 broken;	/* not reusable */
	bool		 tls;
	bool		 handshaking;
	int		 trust;
	unsigned	 uses;
	int64_t		 started;
	/* Open. */
	smtp_session_open_fn *open_cb;
	void		*open_ctx;
	struct smtp_fail fail;
	bool		 failed;
	unsigned	 auth_mech;
	/* Send. */
	const struct deliver_request *req;
	const size_t	*idx;
	size_t		 n;
	struct smtp_rcpt_result *res;
	smtp_session_sent_fn *sent_cb;
	void		*sent_ctx;
	size_t		 next_rcpt;	/* lock-step: next RCPT to send */
	size_t		 naccepted;
	size_t		*accepted;	/* i of RCPT 2xx, in order */
	bool		 tx_failed;	/* MAIL, DATA or BDAT failed */
	bool		 content_started;	/* DATA sent or BDAT begun */
	bool		 pipelining;
	bool		 bdat;
	/* Content. */
	bool		 xfer;		/* converting and writing */
	bool		 xfer_done;	/* all of it queued */
	uint64_t	 pos;
	bool		 bol, prev_cr;
	unsigned char	*inbuf, *outbuf;
	/* Reset and watch. */
	smtp_session_reset_fn *reset_cb;
	void		*reset_ctx;
	bool		 reset_ok;
	smtp_session_idle_fn *idle_fn;
	void		*idle_ctx;
};

/* smtp_session.c */

/* What a stage is called in texts ("timed out while %s"). */
extern const char *const smtp_session_cmd_stage[];

/* Pending commands: the queue of commands sent and not yet answered. */
void smtp_session_pend_push(struct smtp_session *s, enum cmd c, size_t arg);
bool smtp_session_pend_empty(const struct smtp_session *s);
/* (Re)starts or stops the timer for whatever the session waits on now. */
void smtp_session_arm(struct smtp_session *s);
/* Queues line and CRLF for the server. */
void smtp_session_send_line(struct smtp_session *s, const char *line);
/* Queues a command line, expects its reply, arms the timer. */
void smtp_session_send_cmd(struct smtp_session *s, enum cmd c, size_t arg,
    const char *line);
/* Makes the deferred event deliver kind from the event loop. */
void smtp_session_defer(struct smtp_session *s, enum later kind);
/* Frees the connection; the session is broken from then on. */
void smtp_session_drop(struct smtp_session *s);
/* "host[addr] said: 550 ... (in reply to X command)"; heap. */
char *smtp_session_said(const struct smtp_session *s, enum cmd c);
/* Wipes, frees and clears a secret string (NULL is fine). */
void smtp_session_wipe_free(char **p);
/* The connection failed or the server broke the protocol: dsn, text. */
void smtp_session_broke(struct smtp_session *s, const char *dsn,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The bufferevent callbacks (set again on the TLS filter). */
void smtp_session_read_cb(struct bufferevent *bev, void *arg);
void smtp_session_write_cb(struct bufferevent *bev, void *arg);
void smtp_session_event_cb(struct bufferevent *bev, short what, void *arg);

/* smtp_open.c */

/* Opening failed: fail is set, the connection dropped, L_OPEN deferred. */
void smtp_open_fail(struct smtp_session *s, bool hard, const char *dsn,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A complete reply to command c while the session opens. */
void smtp_open_reply(struct smtp_session *s, enum cmd c);
/* The TLS handshake completed: verify, then EHLO again. */
void smtp_open_tls_done(struct smtp_session *s);

/* smtp_send.c */

/* Every recipient without a result yet gets st. */
void smtp_send_resolve_open(struct smtp_session *s,
    enum smtp_rcpt_status st, const char *dsn, const char *text);
/* The message is done: L_SENT deferred. */
void smtp_send_finish(struct smtp_session *s);
/* A complete reply to command c (argument arg) while sending. */
void smtp_send_reply(struct smtp_session *s, enum cmd c, size_t arg);

/* smtp_content.c */

/* 1 when the content has a byte above 127, 0 if not, -1 on error. */
int smtp_content_8bit(const struct deliver_request *req, unsigned char *tmp)
    __attribute__((warn_unused_result));
/* Converts and writes content while the output has room. */
void smtp_content_pump(struct smtp_session *s);
/* Starts writing the content (after 354, or as BDAT chunks). */
void smtp_content_start(struct smtp_session *s);

#endif
