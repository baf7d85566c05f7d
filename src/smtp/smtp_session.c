/* SPDX-License-Identifier: MIT */
/*
 * The SMTP/LMTP protocol engine on one connection; see smtp_session.h.
 * Commands sent and not yet answered sit in a queue (several with
 * PIPELINING, RFC 2920); each complete reply is matched to the head of
 * the queue, and the timer always guards the stage at the head (or the
 * content being written).  Results reach the caller through one deferred
 * event, so no callback runs inside the call that started a stage.
 *
 * This file holds the session and its connection: the pending commands,
 * the timer, the deferred results, failures of the whole session, input,
 * reset, watch and close.  The stages live beside it (smtp_session_priv.h
 * is what they share): smtp_open.c opens (greeting, EHLO, STARTTLS,
 * AUTH), smtp_send.c carries a message (MAIL, RCPT, DATA or BDAT and the
 * per-recipient results), smtp_content.c reads and converts the content.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "smtp.h"
#include "smtp_reply.h"
#include "smtp_session.h"
#include "smtp_session_priv.h"

/* What a stage is called in texts, and its timeout. */
const char *const smtp_session_cmd_stage[] = {
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

static size_t nsessions;

static void session_free(struct smtp_session *s);

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

void
smtp_session_pend_push(struct smtp_session *s, enum cmd c, size_t arg)
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

bool
smtp_session_pend_empty(const struct smtp_session *s)
{
	return s->phead == s->ntail;
}

/* The timer guards the content being written or the oldest command. */
void
smtp_session_arm(struct smtp_session *s)
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
	else if (!smtp_session_pend_empty(s))
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
	if (!smtp_session_pend_empty(s)) {
		enum cmd c = s->pend[s->phead].cmd;

		if (c == C_EHLO && smtp_conf.lmtp)
			return "performing the LHLO handshake";
		return smtp_session_cmd_stage[c];
	}
	return "waiting for the next command";
}

void
smtp_session_send_line(struct smtp_session *s, const char *line)
{
	if (bufferevent_write(s->bev, line, strlen(line)) == -1 ||
	    bufferevent_write(s->bev, "\r\n", 2) == -1)
		fatal("cannot queue output");
}

void
smtp_session_send_cmd(struct smtp_session *s, enum cmd c, size_t arg,
    const char *line)
{
	smtp_session_send_line(s, line);
	smtp_session_pend_push(s, c, arg);
	smtp_session_arm(s);
}

/* Deferred results. */

void
smtp_session_defer(struct smtp_session *s, enum later kind)
{
	s->later_kind = kind;
	event_active(s->later, EV_TIMEOUT, 0);
}

void
smtp_session_drop(struct smtp_session *s)
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

/* "host[addr] said: 550 ... (in reply to X command)" */
char *
smtp_session_said(const struct smtp_session *s, enum cmd c)
{
	return xasprintf("host %s said: %s (in reply to %s command)",
	    s->hostaddr, buf_cstr(&s->reply.text), cmd_name[c]);
}

void
smtp_session_wipe_free(char **p)
{
	if (*p != NULL) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* Failures of the whole session. */

void
smtp_session_broke(struct smtp_session *s, const char *dsn, const char *fmt,
    ...)
{
	va_list ap;
	char *text;
	bool may_hs = s->handshaking && s->t.tls.level == TLS_LEV_MAY;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	switch (s->phase) {
	case P_OPEN:
		smtp_open_fail(s, false, dsn, "%s", text);
		s->fail.retry_plain = may_hs;
		break;
	case P_SEND:
		smtp_session_drop(s);
		smtp_send_resolve_open(s, SMTP_RCPT_SOFT, dsn, text);
		smtp_send_finish(s);
		break;
	case P_RESET:
		smtp_session_drop(s);
		s->reset_ok = false;
		s->phase = P_DONE;
		smtp_session_defer(s, L_RESET);
		break;
	case P_QUIT:
		smtp_session_drop(s);
		s->phase = P_DONE;
		smtp_session_defer(s, L_FREE);
		break;
	case P_READY:
		smtp_session_drop(s);
		if (s->idle_fn != NULL)
			smtp_session_defer(s, L_IDLE);
		break;
	case P_DONE:
		smtp_session_drop(s);
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
		smtp_session_broke(s, "4.4.2", "quit");
		return;
	}
	smtp_session_broke(s, "4.4.2", "conversation with %s timed out "
	    "while %s", s->hostaddr, stage(s));
}

/* The session: the dialogue it starts is in smtp_open.c. */

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
	bufferevent_setcb(s->bev, smtp_session_read_cb, smtp_session_write_cb,
	    smtp_session_event_cb, s);
	if (bufferevent_enable(s->bev, EV_READ | EV_WRITE) == -1)
		fatal("cannot enable a bufferevent");
	smtp_session_pend_push(s, C_GREETING, 0);
	smtp_session_arm(s);
}

/* Input. */

static void
handle_reply(struct smtp_session *s)
{
	struct pend p = s->pend[s->phead++];

	if (smtp_session_pend_empty(s))
		s->phead = s->ntail = 0;
	smtp_session_arm(s);
	/* RFC 5321 §3.8: 421 closes the session, whatever was asked. */
	if (s->reply.code == 421 && p.cmd != C_QUIT) {
		char dsn[16];
		char *text = smtp_session_said(s, p.cmd);

		smtp_reply_dsn(&s->reply, dsn);
		smtp_session_broke(s, dsn, "%s", text);
		free(text);
		return;
	}
	switch (s->phase) {
	case P_OPEN:
		smtp_open_reply(s, p.cmd);
		break;
	case P_SEND:
		smtp_send_reply(s, p.cmd, p.arg);
		break;
	case P_RESET:
		s->reset_ok = s->reply.code / 100 == 2;
		if (!s->reset_ok)
			s->broken = true;
		s->phase = P_DONE;
		smtp_session_arm(s);
		smtp_session_defer(s, L_RESET);
		break;
	case P_QUIT:
		smtp_session_drop(s);
		s->phase = P_DONE;
		smtp_session_defer(s, L_FREE);
		break;
	default:
		break;
	}
}

void
smtp_session_read_cb(struct bufferevent *bev, void *arg)
{
	struct smtp_session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;

	while (s->bev == bev && (len = evbuffer_get_length(in)) > 0) {
		size_t n = len < 4096 ? len : 4096, used;
		unsigned char *p;
		const char *err;
		int rc;

		if (smtp_session_pend_empty(s) || s->phase == P_DONE) {
			/* Nothing asked: the server closes or is broken. */
			evbuffer_drain(in, len);
			if (s->phase == P_READY && s->idle_fn == NULL) {
				s->broken = true;
				return;
			}
			smtp_session_broke(s, "4.5.0", "host %s sent "
			    "unexpected data while %s (protocol error)",
			    s->hostaddr, stage(s));
			return;
		}
		p = evbuffer_pullup(in, (ssize_t)n);
		rc = smtp_reply_feed(&s->reply, p, n, &used, &err);
		evbuffer_drain(in, rc == -1 ? n : used);
		if (rc == -1) {
			smtp_session_broke(s, "4.5.0", "host %s sent a "
			    "malformed reply while %s: %s (protocol error)",
			    s->hostaddr, stage(s), err);
			return;
		}
		if (rc == 0)
			continue;
		handle_reply(s);
		smtp_reply_clear(&s->reply);
	}
}

void
smtp_session_write_cb(struct bufferevent *bev, void *arg)
{
	struct smtp_session *s = arg;

	(void)bev;
	if (s->xfer)
		smtp_content_pump(s);
}

void
smtp_session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_session *s = arg;
	unsigned long e;
	char why[256];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (s->handshaking)
			smtp_open_tls_done(s);
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
		smtp_session_broke(s, "4.7.5", "TLS handshake with %s "
		    "failed: %s", s->hostaddr, why);
		return;
	}
	if (s->phase == P_READY && s->idle_fn == NULL) {
		smtp_session_drop(s);
		return;
	}
	smtp_session_broke(s, "4.4.2", "lost connection with %s while %s",
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
		smtp_session_defer(s, L_RESET);
		return;
	}
	s->phase = P_RESET;
	smtp_session_send_cmd(s, C_RSET, 0, "RSET");
}

void
smtp_session_watch(struct smtp_session *s, smtp_session_idle_fn *fn,
    void *ctx)
{
	s->idle_fn = fn;
	s->idle_ctx = ctx;
	if (fn != NULL && (s->bev == NULL || s->broken))
		smtp_session_defer(s, L_IDLE);
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
	smtp_session_wipe_free(&s->o_pass);
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
	smtp_session_send_cmd(s, C_QUIT, 0, "QUIT");
}
