/* SPDX-License-Identifier: MIT */
/*
 * The SMTP/LMTP protocol engine on one connection; see smtp_session.h.
 * Commands sent and not yet answered sit in a queue (several with
 * PIPELINING, RFC 2920); each complete reply is matched to the head of
 * the queue, and the timer always guards the stage at the head (or the
 * content being written).  Results reach the caller through one deferred
 * event, so no callback runs inside the call that started a stage.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "addr.h"
#include "tls_server.h"

#include "smtp.h"
#include "smtp_reply.h"
#include "smtp_session.h"

#define CHUNK		(64 * 1024)	/* content read per pread */
#define OUT_HIGH	(256 * 1024)	/* stop converting above this */

enum cmd {
	C_GREETING, C_EHLO, C_HELO, C_STARTTLS, C_AUTH, C_AUTH_USER,
	C_AUTH_PASS, C_MAIL, C_RCPT, C_DATA, C_BDAT, C_DOT, C_RSET, C_QUIT,
};

/* What a stage is called in texts, and its timeout. */
static const char *const cmd_stage[] = {
	[C_GREETING]	= "receiving the initial server greeting",
	[C_EHLO]	= "performing the EHLO handshake",
	[C_HELO]	= "performing the HELO handshake",
	[C_STARTTLS]	= "sending STARTTLS",
	[C_AUTH]	= "performing SASL authentication",
	[C_AUTH_USER]	= "performing SASL authentication",
	[C_AUTH_PASS]	= "performing SASL authentication",
	[C_MAIL]	= "sending MAIL FROM",
	[C_RCPT]	= "sending RCPT TO",
	[C_DATA]	= "sending DATA command",
	[C_BDAT]	= "sending message body",
	[C_DOT]		= "sending end of data -- message may be sent more "
			  "than once",
	[C_RSET]	= "sending RSET",
	[C_QUIT]	= "sending QUIT",
};

/* "(in reply to %s command)" */
static const char *const cmd_name[] = {
	[C_GREETING] = "initial greeting", [C_EHLO] = "EHLO",
	[C_HELO] = "HELO", [C_STARTTLS] = "STARTTLS", [C_AUTH] = "AUTH",
	[C_AUTH_USER] = "AUTH", [C_AUTH_PASS] = "AUTH",
	[C_MAIL] = "MAIL FROM", [C_RCPT] = "RCPT TO", [C_DATA] = "DATA",
	[C_BDAT] = "BDAT", [C_DOT] = "end of DATA", [C_RSET] = "RSET",
	[C_QUIT] = "QUIT",
};

static long long
cmd_timeout(enum cmd c)
{
	switch (c) {
	case C_GREETING: case C_EHLO: case C_HELO:
	case C_AUTH: case C_AUTH_USER: case C_AUTH_PASS:
		return smtp_conf.helo_timeout;
	case C_STARTTLS:	return smtp_conf.starttls_timeout;
	case C_MAIL:		return smtp_conf.mail_timeout;
	case C_RCPT:		return smtp_conf.rcpt_timeout;
	case C_DATA:		return smtp_conf.data_init_timeout;
	case C_BDAT:		return smtp_conf.data_xfer_timeout;
	case C_DOT:		return smtp_conf.data_done_timeout;
	case C_RSET:		return smtp_conf.rset_timeout;
	case C_QUIT:		return smtp_conf.quit_timeout;
	}
	return 300;
}

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

static size_t nsessions;

static void session_free(struct smtp_session *s);
static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);
static void session_broke(struct smtp_session *s, const char *dsn,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pump(struct smtp_session *s);
static void timeout_cb(evutil_socket_t fd, short what, void *arg);

void
smtp_fail_set(struct smtp_fail *f, bool hard, const char *dsn,
    const char *fmt, ...)
{
	va_list ap;

	free(f->text);
	f->hard = hard;
	str_copy(f->dsn, dsn, sizeof(f->dsn));
	va_start(ap, fmt);
	f->text = xvasprintf(fmt, ap);
	va_end(ap);
}

void
smtp_fail_deinit(struct smtp_fail *f)
{
	free(f->text);
	memset(f, 0, sizeof(*f));
}

void
smtp_rcpt_result_deinit(struct smtp_rcpt_result *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

size_t
smtp_session_count(void)
{
	return nsessions;
}

const char *
smtp_session_relay(const struct smtp_session *s)
{
	return s->relay;
}

unsigned
smtp_session_uses(const struct smtp_session *s)
{
	return s->uses;
}

int64_t
smtp_session_started(const struct smtp_session *s)
{
	return s->started;
}

int
smtp_session_tls_trust(const struct smtp_session *s)
{
	return s->tls ? s->trust : -1;
}

/* Pending commands. */

static void
pend_push(struct smtp_session *s, enum cmd c, size_t arg)
{
	if (s->ntail == s->pcap) {
		/* Compact first, then grow. */
		if (s->phead > 0) {
			memmove(s->pend, s->pend + s->phead,
			    (s->ntail - s->phead) * sizeof(*s->pend));
			s->ntail -= s->phead;
			s->phead = 0;
		}
		if (s->ntail == s->pcap) {
			s->pcap = s->pcap == 0 ? 16 : xadd(s->pcap, s->pcap);
			s->pend = xreallocarray(s->pend, s->pcap,
			    sizeof(*s->pend));
		}
	}
	s->pend[s->ntail].cmd = c;
	s->pend[s->ntail].arg = arg;
	s->ntail++;
}

static bool
pend_empty(const struct smtp_session *s)
{
	return s->phead == s->ntail;
}

/* The timer guards the content being written or the oldest command. */
static void
arm(struct smtp_session *s)
{
	struct timeval tv = { 0, 0 };
	long long secs;

	if (s->phase == P_DONE || s->bev == NULL) {
		evtimer_del(s->timer);
		return;
	}
	if (s->xfer || s->handshaking)
		secs = s->handshaking ? smtp_conf.starttls_timeout :
		    smtp_conf.data_xfer_timeout;
	else if (!pend_empty(s))
		secs = cmd_timeout(s->pend[s->phead].cmd);
	else {
		evtimer_del(s->timer);
		return;
	}
	tv.tv_sec = secs > 0 ? (time_t)secs : 1;
	evtimer_add(s->timer, &tv);
}

static const char *
stage(const struct smtp_session *s)
{
	if (s->handshaking)
		return "performing the TLS handshake";
	if (s->xfer)
		return "sending message body";
	if (!pend_empty(s)) {
		enum cmd c = s->pend[s->phead].cmd;

		if (c == C_EHLO && smtp_conf.lmtp)
			return "performing the LHLO handshake";
		return cmd_stage[c];
	}
	return "waiting for the next command";
}

static void
send_line(struct smtp_session *s, const char *line)
{
	if (bufferevent_write(s->bev, line, strlen(line)) == -1 ||
	    bufferevent_write(s->bev, "\r\n", 2) == -1)
		fatal("cannot queue output");
}

static void
send_cmd(struct smtp_session *s, enum cmd c, size_t arg, const char *line)
{
	send_line(s, line);
	pend_push(s, c, arg);
	arm(s);
}

/* Deferred results. */

static void
defer(struct smtp_session *s, enum later kind)
{
	s->later_kind = kind;
	event_active(s->later, EV_TIMEOUT, 0);
}

static void
drop_connection(struct smtp_session *s)
{
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	s->bev = NULL;
	s->broken = true;
	s->xfer = false;
	s->handshaking = false;
	evtimer_del(s->timer);
}

static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session *s = arg;
	enum later kind = s->later_kind;

	(void)fd;
	(void)what;
	s->later_kind = L_NONE;
	switch (kind) {
	case L_NONE:
		break;
	case L_OPEN:
		if (s->failed) {
			s->open_cb(s->open_ctx, NULL, &s->fail);
			session_free(s);
			return;
		}
		s->phase = P_READY;
		s->open_cb(s->open_ctx, s, NULL);
		break;
	case L_SENT:
		s->phase = P_READY;
		s->req = NULL;
		s->sent_cb(s->sent_ctx, s, !s->broken);
		break;
	case L_RESET:
		s->phase = P_READY;
		s->reset_cb(s->reset_ctx, s, s->reset_ok && !s->broken);
		break;
	case L_FREE:
		session_free(s);
		return;
	case L_IDLE:
		if (s->idle_fn != NULL) {
			smtp_session_idle_fn *fn = s->idle_fn;

			s->idle_fn = NULL;
			fn(s->idle_ctx, s);
		}
		break;
	}
}

/* Opening. */

static void
open_fail(struct smtp_session *s, bool hard, const char *dsn,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
open_fail(struct smtp_session *s, bool hard, const char *dsn,
    const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	smtp_fail_set(&s->fail, hard, dsn, "%s", text);
	free(text);
	s->failed = true;
	drop_connection(s);
	s->phase = P_DONE;
	defer(s, L_OPEN);
}

static void
open_ready(struct smtp_session *s)
{
	s->phase = P_DONE;
	arm(s);
	defer(s, L_OPEN);
}

static void
send_ehlo(struct smtp_session *s, enum cmd c)
{
	char *line = xasprintf("%s %s", c == C_HELO ? "HELO" :
	    smtp_conf.lmtp ? "LHLO" : "EHLO",
	    smtp_conf.helo_name != NULL ? smtp_conf.helo_name : "localhost");

	send_cmd(s, c, 0, line);
	free(line);
}

/* "host[addr] said: 550 ... (in reply to X command)" */
static char *
said(const struct smtp_session *s, enum cmd c)
{
	return xasprintf("host %s said: %s (in reply to %s command)",
	    s->hostaddr, buf_cstr(&s->reply.text), cmd_name[c]);
}

static void
reply_fail_open(struct smtp_session *s, enum cmd c, bool hard)
{
	char dsn[16];
	char *text = said(s, c);

	smtp_reply_dsn(&s->reply, dsn);
	if (!hard)
		dsn[0] = '4';
	open_fail(s, hard, dsn, "%s", text);
	free(text);
}

static void
wipe_free(char **p)
{
	if (*p != NULL) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* Base64 of n bytes (RFC 4648 §4), for AUTH; the caller wipes it. */
static char *
b64(const void *p, size_t n)
{
	size_t len;
	char *out;

	if (n > 3 * 1024)
		fatal("SASL credentials too long");
	len = 4 * ((n + 2) / 3) + 1;
	out = xmalloc(len);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* Sends a line of credentials and wipes the copy. */
static void
send_secret(struct smtp_session *s, enum cmd c, char *line)
{
	send_cmd(s, c, 0, line);
	explicit_bzero(line, strlen(line));
	free(line);
}

static bool
mech_allowed(const char *name)
{
	char **m = smtp_conf.sasl_mechs;

	if (m == NULL || m[0] == NULL)
		return true;
	for (; *m != NULL; m++)
		if (str_eq_ci(*m, name))
			return true;
	return false;
}

static void
start_auth(struct smtp_session *s)
{
	char *plain, *line, *enc;
	size_t ul, pl;
	const char *pass = s->t.sasl_pass != NULL ? s->t.sasl_pass : "";

	/* SECURITY: PLAIN and LOGIN reveal the password to a listener. */
	if (!(s->tls ? smtp_conf.sasl_tls_plain_ok : smtp_conf.sasl_plain_ok)) {
		open_fail(s, false, "4.7.0", "SASL authentication failed; "
		    "cannot authenticate to server %s: no mechanism "
		    "available", s->hostaddr);
		return;
	}
	s->auth_mech = 0;
	if ((s->ehlo.auth & SMTP_AUTH_PLAIN) && mech_allowed("PLAIN"))
		s->auth_mech = SMTP_AUTH_PLAIN;
	else if ((s->ehlo.auth & SMTP_AUTH_LOGIN) && mech_allowed("LOGIN"))
		s->auth_mech = SMTP_AUTH_LOGIN;
	if (smtp_conf.sasl_mechs != NULL && smtp_conf.sasl_mechs[0] != NULL &&
	    s->auth_mech != 0) {
		/* The filter's order decides. */
		for (char **m = smtp_conf.sasl_mechs; *m != NULL; m++) {
			if (str_eq_ci(*m, "PLAIN") &&
			    (s->ehlo.auth & SMTP_AUTH_PLAIN)) {
				s->auth_mech = SMTP_AUTH_PLAIN;
				break;
			}
			if (str_eq_ci(*m, "LOGIN") &&
			    (s->ehlo.auth & SMTP_AUTH_LOGIN)) {
				s->auth_mech = SMTP_AUTH_LOGIN;
				break;
			}
		}
	}
	if (s->auth_mech == 0) {
		open_fail(s, false, "4.7.0", "SASL authentication failed; "
		    "cannot authenticate to server %s: no mechanism "
		    "available", s->hostaddr);
		return;
	}
	if (s->auth_mech == SMTP_AUTH_LOGIN) {
		send_cmd(s, C_AUTH, 0, "AUTH LOGIN");
		return;
	}
	/* RFC 4616 §2: [authzid] NUL authcid NUL passwd. */
	ul = strlen(s->t.sasl_user);
	pl = strlen(pass);
	plain = xmalloc(xadd(xadd(ul, pl), 2));
	plain[0] = '\0';
	memcpy(plain + 1, s->t.sasl_user, ul);
	plain[1 + ul] = '\0';
	memcpy(plain + 2 + ul, pass, pl);
	enc = b64(plain, ul + pl + 2);
	explicit_bzero(plain, ul + pl + 2);
	free(plain);
	line = xasprintf("AUTH PLAIN %s", enc);
	wipe_free(&enc);
	send_secret(s, C_AUTH_PASS, line);
}

static void
after_tls_step(struct smtp_session *s)
{
	if (s->t.sasl_user != NULL)
		start_auth(s);
	else
		open_ready(s);
}

static void
start_tls(struct smtp_session *s)
{
	const char *err = "no TLS engine";
	SSL *ssl = NULL;
	struct bufferevent *tb;
	struct evbuffer *in;

	if (smtp_tls != NULL)
		ssl = tls_client_ssl(smtp_tls, &s->t.tls, &err);
	if (ssl == NULL) {
		open_fail(s, false, "4.7.5", "cannot start TLS with %s: %s",
		    s->hostaddr, err);
		s->fail.retry_plain = s->t.tls.level == TLS_LEV_MAY;
		return;
	}
	/*
	 * SECURITY: RFC 3207 §4.2 (and the STARTTLS injection bugs):
	 * nothing the server sent before the handshake is trusted.
	 */
	in = bufferevent_get_input(s->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	smtp_reply_clear(&s->reply);
	tb = bufferevent_openssl_filter_new(smtp_base(), s->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (tb == NULL)
		fatal("cannot create a TLS bufferevent");
	s->bev = tb;
	bufferevent_openssl_set_allow_dirty_shutdown(tb, 1);
	bufferevent_setcb(tb, read_cb, write_cb, event_cb, s);
	if (bufferevent_enable(tb, EV_READ | EV_WRITE) == -1)
		fatal("cannot enable a bufferevent");
	s->handshaking = true;
	arm(s);
}

static void
tls_done(struct smtp_session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	enum tls_trust trust = TLS_TRUST_ANONYMOUS;
	const char *err;
	char info[TLS_INFO_MAX];

	s->handshaking = false;
	if (tls_client_check(ssl, &s->t.tls, &trust, &err) == -1) {
		open_fail(s, false, "4.7.5", "TLS is required, but the "
		    "server certificate of %s could not be verified: %s",
		    s->hostaddr, err);
		return;
	}
	s->tls = true;
	s->trust = (int)trust;
	tls_server_info(ssl, info, sizeof(info));
	log_info("%s TLS connection established to %s: %s",
	    tls_trust_name(trust), s->relay, info);
	/* RFC 3207 §4.2: forget what was learned before TLS. */
	memset(&s->ehlo, 0, sizeof(s->ehlo));
	send_ehlo(s, C_EHLO);
}

static bool
tls_required(const struct smtp_session *s)
{
	return s->t.tls.level != TLS_LEV_NONE && s->t.tls.level != TLS_LEV_MAY;
}

static void
after_ehlo(struct smtp_session *s)
{
	if (s->tls || s->t.tls.level == TLS_LEV_NONE) {
		after_tls_step(s);
		return;
	}
	if (!(s->ehlo.ext & SMTP_EXT_STARTTLS)) {
		if (tls_required(s)) {
			open_fail(s, false, "4.7.4", "TLS is required, but was "
			    "not offered by host %s", s->hostaddr);
			return;
		}
		after_tls_step(s);
		return;
	}
	if (smtp_tls == NULL) {
		if (tls_required(s)) {
			open_fail(s, false, "4.7.5", "TLS is required, but "
			    "our TLS engine is unavailable");
			return;
		}
		after_tls_step(s);
		return;
	}
	send_cmd(s, C_STARTTLS, 0, "STARTTLS");
}

static void
open_reply(struct smtp_session *s, enum cmd c)
{
	int cls = s->reply.code / 100;
	char *line, *enc;

	switch (c) {
	case C_GREETING:
		if (cls == 2) {
			send_ehlo(s, C_EHLO);
			return;
		}
		/* RFC 5321 §3.1: 554 instead of 220: go elsewhere. */
		open_fail(s, cls == 5 && !smtp_conf.skip_5xx_greeting,
		    cls == 5 && !smtp_conf.skip_5xx_greeting ? "5.0.0" :
		    "4.0.0", "host %s refused to talk to me: %s", s->hostaddr,
		    buf_cstr(&s->reply.text));
		if (s->failed) {
			smtp_reply_dsn(&s->reply, s->fail.dsn);
			if (!s->fail.hard)
				s->fail.dsn[0] = '4';
		}
		return;
	case C_EHLO:
		if (cls == 2) {
			smtp_ehlo_parse(&s->reply, &s->ehlo);
			after_ehlo(s);
			return;
		}
		/* RFC 5321 §4.1.1.1: an old server; LMTP has no HELO. */
		if (cls == 5 && !smtp_conf.lmtp && !s->tls) {
			send_ehlo(s, C_HELO);
			return;
		}
		reply_fail_open(s, c, cls == 5);
		return;
	case C_HELO:
		if (cls == 2) {
			memset(&s->ehlo, 0, sizeof(s->ehlo));
			after_ehlo(s);
			return;
		}
		reply_fail_open(s, c, cls == 5);
		return;
	case C_STARTTLS:
		if (cls == 2) {
			start_tls(s);
			return;
		}
		if (!tls_required(s)) {
			after_tls_step(s);
			return;
		}
		reply_fail_open(s, c, false);
		return;
	case C_AUTH:		/* LOGIN: "334 VXNlcm5hbWU6" */
	case C_AUTH_USER:
		if (s->reply.code == 334) {
			const char *v = c == C_AUTH ? s->t.sasl_user :
			    s->t.sasl_pass != NULL ? s->t.sasl_pass : "";

			enc = b64(v, strlen(v));
			line = xstrdup(enc);
			wipe_free(&enc);
			send_secret(s, c == C_AUTH ? C_AUTH_USER : C_AUTH_PASS,
			    line);
			return;
		}
		break;
	case C_AUTH_PASS:
		if (s->reply.code == 235) {
			wipe_free(&s->o_pass);
			s->t.sasl_pass = NULL;
			open_ready(s);
			return;
		}
		break;
	default:
		session_broke(s, "4.5.0", "host %s sent an unexpected reply "
		    "while %s: %s (protocol error)", s->hostaddr,
		    cmd_stage[c], buf_cstr(&s->reply.text));
		return;
	}
	/* RFC 4954 §6: 535 and the rest; Postfix defers. */
	{
		char dsn[16];

		smtp_reply_dsn(&s->reply, dsn);
		dsn[0] = '4';
		if (cls == 2 || cls == 3)
			str_copy(dsn, "4.7.0", sizeof(dsn));
		open_fail(s, false, dsn, "SASL authentication failed; server "
		    "%s said: %s", s->hostaddr, buf_cstr(&s->reply.text));
	}
}

void
smtp_session_open(int fd, const struct smtp_target *target,
    smtp_session_open_fn *cb, void *ctx)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));
	struct tls_client_peer *p = &s->t.tls;

	nsessions++;
	s->t = *target;
	s->t.host = s->o_host = xstrdup(target->host != NULL ? target->host :
	    "unknown");
	s->t.addr = s->o_addr = xstrdup(target->addr != NULL ? target->addr :
	    "unknown");
	s->t.nexthop = s->o_nexthop = xstrdup(target->nexthop != NULL ?
	    target->nexthop : s->o_host);
	s->t.sasl_user = s->o_user = target->sasl_user != NULL ?
	    xstrdup(target->sasl_user) : NULL;
	s->t.sasl_pass = s->o_pass = target->sasl_pass != NULL ?
	    xstrdup(target->sasl_pass) : NULL;
	p->servername = s->o_sni = p->servername != NULL ?
	    xstrdup(p->servername) : NULL;
	p->protocols = s->o_proto = p->protocols != NULL ?
	    xstrdup(p->protocols) : NULL;
	p->ciphers = s->o_ciph = p->ciphers != NULL ? xstrdup(p->ciphers) :
	    NULL;
	if (p->nmatch > 0) {
		s->match = xcalloc(xadd(p->nmatch, 1), sizeof(*s->match));
		for (size_t i = 0; i < p->nmatch; i++)
			s->match[i] = xstrdup(target->tls.match[i]);
		p->match = (const char *const *)s->match;
	} else
		p->match = NULL;
	if (p->ntlsa > 0) {
		s->tlsa = xcalloc(p->ntlsa, sizeof(*s->tlsa));
		s->tlsa_data = xcalloc(p->ntlsa, sizeof(*s->tlsa_data));
		for (size_t i = 0; i < p->ntlsa; i++) {
			s->tlsa[i] = target->tls.tlsa[i];
			s->tlsa_data[i] = xmemdup(target->tls.tlsa[i].data,
			    target->tls.tlsa[i].len);
			s->tlsa[i].data = s->tlsa_data[i];
		}
		p->tlsa = s->tlsa;
	} else
		p->tlsa = NULL;
	s->hostaddr = xasprintf("%s[%s]", s->t.host, s->t.addr);
	s->relay = target->port != 0 ? xasprintf("%s:%u", s->hostaddr,
	    target->port) : xstrdup(s->hostaddr);
	s->started = (int64_t)time(NULL);
	s->trust = -1;
	s->open_cb = cb;
	s->open_ctx = ctx;
	s->phase = P_OPEN;
	smtp_reply_init(&s->reply);
	s->timer = evtimer_new(smtp_base(), timeout_cb, s);
	s->later = evtimer_new(smtp_base(), later_cb, s);
	if (s->timer == NULL || s->later == NULL)
		fatal("cannot create a timer");
	s->bev = bufferevent_socket_new(smtp_base(), fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL)
		fatal("cannot create a bufferevent");
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	if (bufferevent_enable(s->bev, EV_READ | EV_WRITE) == -1)
		fatal("cannot enable a bufferevent");
	pend_push(s, C_GREETING, 0);
	arm(s);
}

/* Failures of the whole session. */

static void
resolve(struct smtp_session *s, size_t i, enum smtp_rcpt_status st,
    const char *dsn, const char *text)
{
	struct smtp_rcpt_result *r = &s->res[i];

	free(r->text);
	r->status = st;
	str_copy(r->dsn, dsn, sizeof(r->dsn));
	r->text = xstrdup(text);
}

/* Every recipient without a result yet gets st. */
static void
resolve_open(struct smtp_session *s, enum smtp_rcpt_status st,
    const char *dsn, const char *text)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->res[i].status == SMTP_RCPT_TODO)
			resolve(s, i, st, dsn, text);
}

static void
finish_send(struct smtp_session *s)
{
	s->xfer = false;
	s->phase = P_DONE;
	if (s->bev != NULL)
		bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	arm(s);
	defer(s, L_SENT);
}

static void
session_broke(struct smtp_session *s, const char *dsn, const char *fmt, ...)
{
	va_list ap;
	char *text;
	bool may_hs = s->handshaking && s->t.tls.level == TLS_LEV_MAY;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	switch (s->phase) {
	case P_OPEN:
		open_fail(s, false, dsn, "%s", text);
		s->fail.retry_plain = may_hs;
		break;
	case P_SEND:
		drop_connection(s);
		resolve_open(s, SMTP_RCPT_SOFT, dsn, text);
		finish_send(s);
		break;
	case P_RESET:
		drop_connection(s);
		s->reset_ok = false;
		s->phase = P_DONE;
		defer(s, L_RESET);
		break;
	case P_QUIT:
		drop_connection(s);
		s->phase = P_DONE;
		defer(s, L_FREE);
		break;
	case P_READY:
		drop_connection(s);
		if (s->idle_fn != NULL)
			defer(s, L_IDLE);
		break;
	case P_DONE:
		drop_connection(s);
		break;
	}
	free(text);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session *s = arg;

	(void)fd;
	(void)what;
	if (s->phase == P_QUIT) {
		session_broke(s, "4.4.2", "quit");
		return;
	}
	session_broke(s, "4.4.2", "conversation with %s timed out while %s",
	    s->hostaddr, stage(s));
}

/* Sending a message. */

/* Appends "<path>" in RFC 5321 form; -1 with err_r. */
static int
put_path(struct buf *b, const char *addr, unsigned flags, const char **err_r)
{
	const char *at = strrchr(addr, '@');
	char *local;
	int rc;

	if (*addr == '\0') {
		buf_adds(b, "<>");
		return 0;
	}
	buf_addc(b, '<');
	local = at != NULL ? xstrndup(addr, (size_t)(at - addr)) :
	    xstrdup(addr);
	rc = addr_quote(b, local, at != NULL ? at + 1 : NULL, flags, err_r);
	free(local);
	if (rc == -1)
		return -1;
	buf_addc(b, '>');
	return 0;
}

static unsigned
addr_flags(const struct smtp_session *s)
{
	return s->req->smtputf8 ? ADDR_SMTPUTF8 : 0;
}

static bool
has_8bit(const char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p > 127)
			return true;
	return false;
}

/* 1 when the content has a byte above 127, 0 if not, -1 on error. */
static int
content_8bit(const struct deliver_request *req, unsigned char *tmp)
{
	uint64_t pos = 0;

	while (pos < req->content_size) {
		uint64_t left = req->content_size - pos;
		size_t want = left < CHUNK ? (size_t)left : CHUNK;
		ssize_t r = pread(req->fd, tmp, want,
		    (off_t)(req->content_off + pos));

		if (r <= 0)
			return -1;
		for (ssize_t k = 0; k < r; k++)
			if (tmp[k] > 127)
				return 1;
		pos += (uint64_t)r;
	}
	return 0;
}

/* The message-level rules; false when they decided every result. */
static bool
precheck(struct smtp_session *s)
{
	const struct deliver_request *req = s->req;
	char *text = NULL;
	const char *dsn = NULL;
	enum smtp_rcpt_status st = SMTP_RCPT_HARD;

	if ((s->ehlo.ext & SMTP_EXT_SIZE) && s->ehlo.size > 0 &&
	    req->content_size > s->ehlo.size) {
		/* RFC 1870 §6.1: do not send what the server refuses. */
		dsn = "5.3.4";
		text = xasprintf("message size %llu exceeds size limit %llu "
		    "of server %s", (unsigned long long)req->content_size,
		    (unsigned long long)s->ehlo.size, s->hostaddr);
	} else if (req->smtputf8 && !(s->ehlo.ext & SMTP_EXT_SMTPUTF8)) {
		bool utf8 = has_8bit(req->sender);

		for (size_t i = 0; i < s->n && !utf8; i++)
			utf8 = has_8bit(req->rcpt.v[s->idx[i]]);
		/* RFC 6531 §3.4: no downgrade of an 8-bit envelope. */
		if (utf8) {
			dsn = "5.6.7";
			text = xasprintf("SMTPUTF8 is required, but was not "
			    "offered by host %s", s->hostaddr);
		}
	}
	if (dsn == NULL && req->body != NULL &&
	    str_eq_ci(req->body, "8BITMIME") &&
	    !(s->ehlo.ext & SMTP_EXT_8BITMIME)) {
		int r = content_8bit(req, s->inbuf);

		if (r == -1) {
			st = SMTP_RCPT_SOFT;
			dsn = "4.3.0";
			text = xasprintf("cannot read the message content: %s",
			    errno != 0 ? strerror(errno) : "short file");
		} else if (r == 1) {
			/* RFC 6152 §3: no 8-bit data to a 7-bit server. */
			dsn = "5.6.3";
			text = xasprintf("host %s does not support 8BITMIME "
			    "and the message has 8-bit content", s->hostaddr);
		}
	}
	if (dsn == NULL && req->requiretls &&
	    (!(s->ehlo.ext & SMTP_EXT_REQUIRETLS) ||
	    s->trust != TLS_TRUST_VERIFIED || !s->tls)) {
		/* RFC 8689 §4.2: only over a verified TLS session. */
		st = SMTP_RCPT_SOFT;
		dsn = "4.7.10";
		text = !s->tls || s->trust != TLS_TRUST_VERIFIED ?
		    xasprintf("REQUIRETLS is required, but the TLS session "
		    "with host %s is not verified", s->hostaddr) :
		    xasprintf("REQUIRETLS is required, but was not offered "
		    "by host %s", s->hostaddr);
	}
	if (dsn == NULL)
		return true;
	resolve_open(s, st, dsn, text);
	free(text);
	return false;
}

static void
send_rcpt(struct smtp_session *s, size_t i)
{
	const struct deliver_request *req = s->req;
	size_t k = s->idx[i];
	struct buf b;
	const char *err;

	buf_init(&b, 0);
	buf_adds(&b, "RCPT TO:");
	if (put_path(&b, req->rcpt.v[k], addr_flags(s), &err) == -1) {
		char *text = xasprintf("bad recipient address syntax: %s", err);

		resolve(s, i, SMTP_RCPT_HARD, "5.1.3", text);
		free(text);
		buf_deinit(&b);
		return;
	}
	/* RFC 3461 §4: already xtext in the request. */
	if (s->ehlo.ext & SMTP_EXT_DSN) {
		if (k < req->notify.n && !str_eq(req->notify.v[k], "-"))
			buf_addf(&b, " NOTIFY=%s", req->notify.v[k]);
		if (k < req->orcpt.n && !str_eq(req->orcpt.v[k], "-"))
			buf_addf(&b, " ORCPT=%s", req->orcpt.v[k]);
	}
	send_cmd(s, C_RCPT, i, buf_cstr(&b));
	buf_deinit(&b);
}

/*
 * Converts n bytes of the queue file's content: LF and a lone CR end a
 * line (CR LF is one end), each as CR LF, and a "." that starts a line
 * is doubled for DATA (RFC 5321 §4.5.2).  Returns the bytes in out
 * (at most 2 n).
 */
static size_t
convert(struct smtp_session *s, const unsigned char *in, size_t n,
    unsigned char *out)
{
	size_t o = 0;

	for (size_t k = 0; k < n; k++) {
		unsigned char c = in[k];

		if (c == '\n' && s->prev_cr) {
			s->prev_cr = false;
			continue;
		}
		s->prev_cr = c == '\r';
		if (c == '\r' || c == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			s->bol = true;
			continue;
		}
		if (s->bol && c == '.' && !s->bdat)
			out[o++] = '.';
		out[o++] = c;
		s->bol = false;
	}
	return o;
}

static void
push_done(struct smtp_session *s)
{
	/* RFC 2033 §4.2: LMTP answers once per accepted recipient. */
	if (smtp_conf.lmtp)
		for (size_t k = 0; k < s->naccepted; k++)
			pend_push(s, C_DOT, k);
	else
		pend_push(s, C_DOT, 0);
}

static void
pump(struct smtp_session *s)
{
	const struct deliver_request *req = s->req;
	struct evbuffer *out;

	while (s->xfer && s->bev != NULL) {
		uint64_t left = req->content_size - s->pos;
		size_t want = left < CHUNK ? (size_t)left : CHUNK;
		ssize_t r = 0;
		size_t m;
		bool last;

		out = bufferevent_get_output(s->bev);
		if (evbuffer_get_length(out) >= OUT_HIGH)
			break;
		/* RFC 3030 §4.2: BDAT in lock-step without PIPELINING. */
		if (s->bdat && !s->pipelining && !pend_empty(s))
			break;
		if (want > 0) {
			r = pread(req->fd, s->inbuf, want,
			    (off_t)(req->content_off + s->pos));
			if (r <= 0) {
				session_broke(s, "4.3.0", "cannot read the "
				    "message content: %s", r == 0 ?
				    "short file" : strerror(errno));
				return;
			}
		}
		s->pos += (uint64_t)r;
		last = s->pos == req->content_size;
		m = convert(s, s->inbuf, (size_t)r, s->outbuf);
		if (last && !s->bol) {
			s->outbuf[m++] = '\r';
			s->outbuf[m++] = '\n';
			s->bol = true;
		}
		if (s->bdat) {
			char hdr[64];

			snprintf(hdr, sizeof(hdr), "BDAT %zu%s", m,
			    last ? " LAST" : "");
			send_line(s, hdr);
			if (!last)
				pend_push(s, C_BDAT, 0);
		}
		if (m > 0 && bufferevent_write(s->bev, s->outbuf, m) == -1)
			fatal("cannot queue output");
		if (last) {
			if (!s->bdat)
				send_line(s, ".");
			push_done(s);
			s->xfer = false;
			bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
		}
	}
	arm(s);
}

static void
start_xfer(struct smtp_session *s)
{
	s->xfer = true;
	s->pos = 0;
	s->bol = true;
	s->prev_cr = false;
	bufferevent_setwatermark(s->bev, EV_WRITE, OUT_HIGH / 2, 0);
	pump(s);
}

/* The next step when nothing is outstanding. */
static void
send_step(struct smtp_session *s)
{
	if (s->tx_failed) {
		finish_send(s);
		return;
	}
	while (s->next_rcpt < s->n && pend_empty(s))
		send_rcpt(s, s->next_rcpt++);
	if (!pend_empty(s))
		return;
	if (s->naccepted == 0 || s->content_started) {
		finish_send(s);
		return;
	}
	s->content_started = true;
	if (s->bdat)
		start_xfer(s);
	else
		send_cmd(s, C_DATA, 0, "DATA");
}

static void
tx_reply_fail(struct smtp_session *s, enum cmd c, bool accepted_only)
{
	int cls = s->reply.code / 100;
	enum smtp_rcpt_status st = cls == 5 ? SMTP_RCPT_HARD : SMTP_RCPT_SOFT;
	char dsn[16];
	char *text = said(s, c);

	smtp_reply_dsn(&s->reply, dsn);
	if (accepted_only)
		for (size_t k = 0; k < s->naccepted; k++)
			resolve(s, s->accepted[k], st, dsn, text);
	else
		resolve_open(s, st, dsn, text);
	free(text);
	s->tx_failed = true;
}

static void
done_reply(struct smtp_session *s, size_t i)
{
	int cls = s->reply.code / 100;
	char dsn[16];
	char *text;

	smtp_reply_dsn(&s->reply, dsn);
	if (cls == 2) {
		resolve(s, i, SMTP_RCPT_SENT, dsn, buf_cstr(&s->reply.text));
		return;
	}
	text = said(s, C_DOT);
	resolve(s, i, cls == 5 ? SMTP_RCPT_HARD : SMTP_RCPT_SOFT, dsn, text);
	free(text);
}

static void
send_reply(struct smtp_session *s, enum cmd c, size_t arg)
{
	int cls = s->reply.code / 100;

	if (cls == 3 && c != C_DATA) {
		session_broke(s, "4.5.0", "host %s sent an unexpected reply "
		    "while %s: %s (protocol error)", s->hostaddr,
		    cmd_stage[c], buf_cstr(&s->reply.text));
		return;
	}
	switch (c) {
	case C_MAIL:
		if (cls != 2)
			tx_reply_fail(s, c, false);
		break;
	case C_RCPT:
		if (s->tx_failed)
			break;
		if (cls == 2) {
			s->accepted[s->naccepted++] = arg;
		} else {
			char dsn[16];
			char *text = said(s, c);

			smtp_reply_dsn(&s->reply, dsn);
			resolve(s, arg, cls == 5 ? SMTP_RCPT_HARD :
			    SMTP_RCPT_SOFT, dsn, text);
			free(text);
		}
		break;
	case C_DATA:
		if (s->reply.code == 354) {
			if (s->tx_failed || s->naccepted == 0) {
				/* RFC 2920 §3.1: end the empty message. */
				s->tx_failed = true;
				send_cmd(s, C_DOT, SIZE_MAX, ".");
				return;
			}
			start_xfer(s);
			return;
		}
		if (cls == 2 || cls == 3) {
			session_broke(s, "4.5.0", "host %s sent an unexpected "
			    "reply to DATA: %s (protocol error)", s->hostaddr,
			    buf_cstr(&s->reply.text));
			return;
		}
		if (!s->tx_failed)
			tx_reply_fail(s, c, true);
		break;
	case C_BDAT:
		if (cls == 2) {
			if (!s->pipelining)
				pump(s);
			break;
		}
		if (!s->tx_failed)
			tx_reply_fail(s, c, true);
		/* RFC 3030 §2: the transaction is lost; stop sending. */
		s->xfer = false;
		s->broken = true;
		break;
	case C_DOT:
		if (arg == SIZE_MAX || s->tx_failed)
			break;
		if (smtp_conf.lmtp) {
			done_reply(s, s->accepted[arg]);
			break;
		}
		for (size_t k = 0; k < s->naccepted; k++)
			done_reply(s, s->accepted[k]);
		break;
	default:
		session_broke(s, "4.5.0", "host %s sent an unexpected reply "
		    "while %s: %s (protocol error)", s->hostaddr,
		    cmd_stage[c], buf_cstr(&s->reply.text));
		return;
	}
	if (s->phase == P_SEND && pend_empty(s) && !s->xfer)
		send_step(s);
}

void
smtp_session_send(struct smtp_session *s, const struct deliver_request *req,
    const size_t *idx, size_t n, struct smtp_rcpt_result *results,
    smtp_session_sent_fn *cb, void *ctx)
{
	struct buf b;
	const char *err;

	s->req = req;
	s->idx = idx;
	s->n = n;
	s->res = results;
	s->sent_cb = cb;
	s->sent_ctx = ctx;
	s->next_rcpt = 0;
	s->naccepted = 0;
	s->tx_failed = false;
	s->content_started = false;
	s->xfer = false;
	s->idle_fn = NULL;
	for (size_t i = 0; i < n; i++)
		memset(&results[i], 0, sizeof(results[i]));
	free(s->accepted);
	s->accepted = xcalloc(n > 0 ? n : 1, sizeof(*s->accepted));
	if (s->inbuf == NULL) {
		s->inbuf = xmalloc(CHUNK);
		s->outbuf = xmalloc(2 * CHUNK + 2);
	}
	s->phase = P_SEND;
	if (s->bev == NULL || s->broken) {
		char *text = xasprintf("lost connection with %s while "
		    "sending MAIL FROM", s->hostaddr);

		resolve_open(s, SMTP_RCPT_SOFT, "4.4.2", text);
		free(text);
		s->broken = true;
		finish_send(s);
		return;
	}
	if (n == 0 || !precheck(s)) {
		finish_send(s);
		return;
	}
	s->pipelining = (s->ehlo.ext & SMTP_EXT_PIPELINING) != 0;
	s->bdat = (s->ehlo.ext & SMTP_EXT_CHUNKING) != 0;
	buf_init(&b, 0);
	buf_adds(&b, "MAIL FROM:");
	if (put_path(&b, req->sender, addr_flags(s), &err) == -1) {
		char *text = xasprintf("bad sender address syntax: %s", err);

		resolve_open(s, SMTP_RCPT_HARD, "5.1.7", text);
		free(text);
		buf_deinit(&b);
		finish_send(s);
		return;
	}
	if (s->ehlo.ext & SMTP_EXT_SIZE)
		buf_addf(&b, " SIZE=%llu",
		    (unsigned long long)req->content_size);
	if (req->body != NULL && str_eq_ci(req->body, "8BITMIME") &&
	    (s->ehlo.ext & SMTP_EXT_8BITMIME))
		buf_adds(&b, " BODY=8BITMIME");
	if (req->smtputf8 && (s->ehlo.ext & SMTP_EXT_SMTPUTF8))
		buf_adds(&b, " SMTPUTF8");
	if (s->ehlo.ext & SMTP_EXT_DSN) {
		if (req->ret != NULL)
			buf_addf(&b, " RET=%s", req->ret);
		if (req->envid != NULL)
			buf_addf(&b, " ENVID=%s", req->envid);
	}
	if (req->requiretls)
		buf_adds(&b, " REQUIRETLS");
	s->uses++;
	send_cmd(s, C_MAIL, 0, buf_cstr(&b));
	buf_deinit(&b);
	if (!s->pipelining)
		return;
	/* RFC 2920 §3.1: MAIL, RCPT... and DATA in one write. */
	while (s->next_rcpt < n)
		send_rcpt(s, s->next_rcpt++);
	if (!s->bdat) {
		s->content_started = true;
		send_cmd(s, C_DATA, 0, "DATA");
	}
}

/* Input. */

static void
handle_reply(struct smtp_session *s)
{
	struct pend p = s->pend[s->phead++];

	if (pend_empty(s))
		s->phead = s->ntail = 0;
	arm(s);
	/* RFC 5321 §3.8: 421 closes the session, whatever was asked. */
	if (s->reply.code == 421 && p.cmd != C_QUIT) {
		char dsn[16];
		char *text = said(s, p.cmd);

		smtp_reply_dsn(&s->reply, dsn);
		session_broke(s, dsn, "%s", text);
		free(text);
		return;
	}
	switch (s->phase) {
	case P_OPEN:
		open_reply(s, p.cmd);
		break;
	case P_SEND:
		send_reply(s, p.cmd, p.arg);
		break;
	case P_RESET:
		s->reset_ok = s->reply.code / 100 == 2;
		if (!s->reset_ok)
			s->broken = true;
		s->phase = P_DONE;
		arm(s);
		defer(s, L_RESET);
		break;
	case P_QUIT:
		drop_connection(s);
		s->phase = P_DONE;
		defer(s, L_FREE);
		break;
	default:
		break;
	}
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct smtp_session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;

	while (s->bev == bev && (len = evbuffer_get_length(in)) > 0) {
		size_t n = len < 4096 ? len : 4096, used;
		unsigned char *p;
		const char *err;
		int rc;

		if (pend_empty(s) || s->phase == P_DONE) {
			/* Nothing asked: the server closes or is broken. */
			evbuffer_drain(in, len);
			if (s->phase == P_READY && s->idle_fn == NULL) {
				s->broken = true;
				return;
			}
			session_broke(s, "4.5.0", "host %s sent unexpected "
			    "data while %s (protocol error)", s->hostaddr,
			    stage(s));
			return;
		}
		p = evbuffer_pullup(in, (ssize_t)n);
		rc = smtp_reply_feed(&s->reply, p, n, &used, &err);
		evbuffer_drain(in, rc == -1 ? n : used);
		if (rc == -1) {
			session_broke(s, "4.5.0", "host %s sent a malformed "
			    "reply while %s: %s (protocol error)",
			    s->hostaddr, stage(s), err);
			return;
		}
		if (rc == 0)
			continue;
		handle_reply(s);
		smtp_reply_clear(&s->reply);
	}
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct smtp_session *s = arg;

	(void)bev;
	if (s->xfer)
		pump(s);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_session *s = arg;
	unsigned long e;
	char why[256];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (s->handshaking)
			tls_done(s);
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (s->handshaking) {
		e = bufferevent_get_openssl_error(s->bev);
		if (e != 0)
			ERR_error_string_n(e, why, sizeof(why));
		else
			str_copy(why, "connection closed", sizeof(why));
		session_broke(s, "4.7.5", "TLS handshake with %s failed: %s",
		    s->hostaddr, why);
		return;
	}
	if (s->phase == P_READY && s->idle_fn == NULL) {
		drop_connection(s);
		return;
	}
	session_broke(s, "4.4.2", "lost connection with %s while %s",
	    s->hostaddr, stage(s));
}

/* Reset, watch, close. */

void
smtp_session_reset(struct smtp_session *s, smtp_session_reset_fn *cb,
    void *ctx)
{
	s->reset_cb = cb;
	s->reset_ctx = ctx;
	s->idle_fn = NULL;
	if (s->bev == NULL || s->broken) {
		s->reset_ok = false;
		s->phase = P_DONE;
		defer(s, L_RESET);
		return;
	}
	s->phase = P_RESET;
	send_cmd(s, C_RSET, 0, "RSET");
}

void
smtp_session_watch(struct smtp_session *s, smtp_session_idle_fn *fn,
    void *ctx)
{
	s->idle_fn = fn;
	s->idle_ctx = ctx;
	if (fn != NULL && (s->bev == NULL || s->broken))
		defer(s, L_IDLE);
}

static void
session_free(struct smtp_session *s)
{
	ASSERT(nsessions > 0);
	nsessions--;
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	event_free(s->timer);
	event_free(s->later);
	smtp_reply_deinit(&s->reply);
	smtp_fail_deinit(&s->fail);
	free(s->o_host);
	free(s->o_addr);
	free(s->o_nexthop);
	free(s->o_user);
	wipe_free(&s->o_pass);
	free(s->o_sni);
	free(s->o_proto);
	free(s->o_ciph);
	for (size_t i = 0; s->match != NULL && i < s->t.tls.nmatch; i++)
		free(s->match[i]);
	free(s->match);
	for (size_t i = 0; s->tlsa != NULL && i < s->t.tls.ntlsa; i++)
		free(s->tlsa_data[i]);
	free(s->tlsa);
	free(s->tlsa_data);
	free(s->relay);
	free(s->hostaddr);
	free(s->pend);
	free(s->accepted);
	free(s->inbuf);
	free(s->outbuf);
	free(s);
}

void
smtp_session_close(struct smtp_session **sp)
{
	struct smtp_session *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	s->idle_fn = NULL;
	event_del(s->later);
	s->later_kind = L_NONE;
	if (s->bev == NULL || s->broken) {
		session_free(s);
		return;
	}
	/* The reply, end of file or quit_timeout frees it. */
	s->xfer = false;
	s->phase = P_QUIT;
	s->phead = s->ntail = 0;
	send_cmd(s, C_QUIT, 0, "QUIT");
}
