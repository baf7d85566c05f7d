/* SPDX-License-Identifier: MIT */
/*
 * One message over an open SMTP/LMTP session (see smtp_session.h): the
 * message-level rules decided before MAIL (SIZE, SMTPUTF8, 8BITMIME,
 * REQUIRETLS), MAIL FROM and RCPT TO with their parameters, DATA or BDAT
 * (smtp_content.c writes the content), in one write with PIPELINING
 * (RFC 2920) or in lock-step without, and the result of each recipient.
 * smtp_session.c feeds each complete reply to smtp_send_reply while a
 * message is being sent; the results reach the caller through the
 * deferred L_SENT event.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "addr.h"

#include "smtp.h"
#include "smtp_reply.h"
#include "smtp_session.h"
#include "smtp_session_priv.h"

/* Results. */

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
void
smtp_send_resolve_open(struct smtp_session *s, enum smtp_rcpt_status st,
    const char *dsn, const char *text)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->res[i].status == SMTP_RCPT_TODO)
			resolve(s, i, st, dsn, text);
}

void
smtp_send_finish(struct smtp_session *s)
{
	s->xfer = false;
	s->phase = P_DONE;
	if (s->bev != NULL)
		bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	smtp_session_arm(s);
	smtp_session_defer(s, L_SENT);
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
		int r = smtp_content_8bit(req, s->inbuf);

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
	smtp_send_resolve_open(s, st, dsn, text);
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
	smtp_session_send_cmd(s, C_RCPT, i, buf_cstr(&b));
	buf_deinit(&b);
}

/* The next step when nothing is outstanding. */
static void
send_step(struct smtp_session *s)
{
	if (s->tx_failed) {
		smtp_send_finish(s);
		return;
	}
	while (s->next_rcpt < s->n && smtp_session_pend_empty(s))
		send_rcpt(s, s->next_rcpt++);
	if (!smtp_session_pend_empty(s))
		return;
	if (s->naccepted == 0 || s->content_started) {
		smtp_send_finish(s);
		return;
	}
	s->content_started = true;
	if (s->bdat)
		smtp_content_start(s);
	else
		smtp_session_send_cmd(s, C_DATA, 0, "DATA");
}

static void
tx_reply_fail(struct smtp_session *s, enum cmd c, bool accepted_only)
{
	int cls = s->reply.code / 100;
	enum smtp_rcpt_status st = cls == 5 ? SMTP_RCPT_HARD : SMTP_RCPT_SOFT;
	char dsn[16];
	char *text = smtp_session_said(s, c);

	smtp_reply_dsn(&s->reply, dsn);
	if (accepted_only)
		for (size_t k = 0; k < s->naccepted; k++)
			resolve(s, s->accepted[k], st, dsn, text);
	else
		smtp_send_resolve_open(s, st, dsn, text);
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
	text = smtp_session_said(s, C_DOT);
	resolve(s, i, cls == 5 ? SMTP_RCPT_HARD : SMTP_RCPT_SOFT, dsn, text);
	free(text);
}

void
smtp_send_reply(struct smtp_session *s, enum cmd c, size_t arg)
{
	int cls = s->reply.code / 100;

	if (cls == 3 && c != C_DATA) {
		smtp_session_broke(s, "4.5.0", "host %s sent an unexpected "
		    "reply while %s: %s (protocol error)", s->hostaddr,
		    smtp_session_cmd_stage[c], buf_cstr(&s->reply.text));
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
			char *text = smtp_session_said(s, c);

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
				smtp_session_send_cmd(s, C_DOT, SIZE_MAX, ".");
				return;
			}
			smtp_content_start(s);
			return;
		}
		if (cls == 2 || cls == 3) {
			smtp_session_broke(s, "4.5.0", "host %s sent an "
			    "unexpected reply to DATA: %s (protocol error)",
			    s->hostaddr, buf_cstr(&s->reply.text));
			return;
		}
		if (!s->tx_failed)
			tx_reply_fail(s, c, true);
		break;
	case C_BDAT:
		if (cls == 2) {
			if (!s->pipelining)
				smtp_content_pump(s);
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
		smtp_session_broke(s, "4.5.0", "host %s sent an unexpected "
		    "reply while %s: %s (protocol error)", s->hostaddr,
		    smtp_session_cmd_stage[c], buf_cstr(&s->reply.text));
		return;
	}
	if (s->phase == P_SEND && smtp_session_pend_empty(s) && !s->xfer)
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

		smtp_send_resolve_open(s, SMTP_RCPT_SOFT, "4.4.2", text);
		free(text);
		s->broken = true;
		smtp_send_finish(s);
		return;
	}
	if (n == 0 || !precheck(s)) {
		smtp_send_finish(s);
		return;
	}
	s->pipelining = (s->ehlo.ext & SMTP_EXT_PIPELINING) != 0;
	s->bdat = (s->ehlo.ext & SMTP_EXT_CHUNKING) != 0;
	buf_init(&b, 0);
	buf_adds(&b, "MAIL FROM:");
	if (put_path(&b, req->sender, addr_flags(s), &err) == -1) {
		char *text = xasprintf("bad sender address syntax: %s", err);

		smtp_send_resolve_open(s, SMTP_RCPT_HARD, "5.1.7", text);
		free(text);
		buf_deinit(&b);
		smtp_send_finish(s);
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
	smtp_session_send_cmd(s, C_MAIL, 0, buf_cstr(&b));
	buf_deinit(&b);
	if (!s->pipelining)
		return;
	/* RFC 2920 §3.1: MAIL, RCPT... and DATA in one write. */
	while (s->next_rcpt < n)
		send_rcpt(s, s->next_rcpt++);
	if (!s->bdat) {
		s->content_started = true;
		smtp_session_send_cmd(s, C_DATA, 0, "DATA");
	}
}
