/* SPDX-License-Identifier: MIT */
/*
 * Opening an SMTP/LMTP session (see smtp_session.h): the greeting, EHLO
 * (HELO when EHLO is refused; LHLO for LMTP), STARTTLS as the TLS level
 * says and EHLO again inside TLS, then AUTH (PLAIN or LOGIN) when
 * credentials are given.  smtp_session.c feeds each complete reply to
 * smtp_open_reply while the session is opening; the outcome reaches the
 * caller through the deferred L_OPEN event.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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

#include "tls_server.h"

#include "smtp.h"
#include "smtp_reply.h"
#include "smtp_session.h"
#include "smtp_session_priv.h"

/* Opening. */

void
smtp_open_fail(struct smtp_session *s, bool hard, const char *dsn,
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
	smtp_session_drop(s);
	s->phase = P_DONE;
	smtp_session_defer(s, L_OPEN);
}

static void
open_ready(struct smtp_session *s)
{
	s->phase = P_DONE;
	smtp_session_arm(s);
	smtp_session_defer(s, L_OPEN);
}

static void
send_ehlo(struct smtp_session *s, enum cmd c)
{
	char *line = xasprintf("%s %s", c == C_HELO ? "HELO" :
	    smtp_conf.lmtp ? "LHLO" : "EHLO",
	    smtp_conf.helo_name != NULL ? smtp_conf.helo_name : "localhost");

	smtp_session_send_cmd(s, c, 0, line);
	free(line);
}

static void
reply_fail_open(struct smtp_session *s, enum cmd c, bool hard)
{
	char dsn[16];
	char *text = smtp_session_said(s, c);

	smtp_reply_dsn(&s->reply, dsn);
	if (!hard)
		dsn[0] = '4';
	smtp_open_fail(s, hard, dsn, "%s", text);
	free(text);
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
	smtp_session_send_cmd(s, c, 0, line);
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
		smtp_open_fail(s, false, "4.7.0", "SASL authentication "
		    "failed; cannot authenticate to server %s: no mechanism "
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
		smtp_open_fail(s, false, "4.7.0", "SASL authentication "
		    "failed; cannot authenticate to server %s: no mechanism "
		    "available", s->hostaddr);
		return;
	}
	if (s->auth_mech == SMTP_AUTH_LOGIN) {
		smtp_session_send_cmd(s, C_AUTH, 0, "AUTH LOGIN");
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
	smtp_session_wipe_free(&enc);
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
		smtp_open_fail(s, false, "4.7.5", "cannot start TLS with "
		    "%s: %s", s->hostaddr, err);
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
	bufferevent_setcb(tb, smtp_session_read_cb, smtp_session_write_cb,
	    smtp_session_event_cb, s);
	if (bufferevent_enable(tb, EV_READ | EV_WRITE) == -1)
		fatal("cannot enable a bufferevent");
	s->handshaking = true;
	smtp_session_arm(s);
}

void
smtp_open_tls_done(struct smtp_session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	enum tls_trust trust = TLS_TRUST_ANONYMOUS;
	const char *err;
	char info[TLS_INFO_MAX];

	s->handshaking = false;
	if (tls_client_check(ssl, &s->t.tls, &trust, &err) == -1) {
		smtp_open_fail(s, false, "4.7.5", "TLS is required, but the "
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
			smtp_open_fail(s, false, "4.7.4", "TLS is required, "
			    "but was not offered by host %s", s->hostaddr);
			return;
		}
		after_tls_step(s);
		return;
	}
	if (smtp_tls == NULL) {
		if (tls_required(s)) {
			smtp_open_fail(s, false, "4.7.5", "TLS is required, "
			    "but our TLS engine is unavailable");
			return;
		}
		after_tls_step(s);
		return;
	}
	smtp_session_send_cmd(s, C_STARTTLS, 0, "STARTTLS");
}

void
smtp_open_reply(struct smtp_session *s, enum cmd c)
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
		smtp_open_fail(s, cls == 5 && !smtp_conf.skip_5xx_greeting,
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
			smtp_session_wipe_free(&enc);
			send_secret(s, c == C_AUTH ? C_AUTH_USER : C_AUTH_PASS,
			    line);
			return;
		}
		break;
	case C_AUTH_PASS:
		if (s->reply.code == 235) {
			smtp_session_wipe_free(&s->o_pass);
			s->t.sasl_pass = NULL;
			open_ready(s);
			return;
		}
		break;
	default:
		smtp_session_broke(s, "4.5.0", "host %s sent an unexpected "
		    "reply while %s: %s (protocol error)", s->hostaddr,
		    smtp_session_cmd_stage[c], buf_cstr(&s->reply.text));
		return;
	}
	/* RFC 4954 §6: 535 and the rest; Postfix defers. */
	{
		char dsn[16];

		smtp_reply_dsn(&s->reply, dsn);
		dsn[0] = '4';
		if (cls == 2 || cls == 3)
			str_copy(dsn, "4.7.0", sizeof(dsn));
		smtp_open_fail(s, false, dsn, "SASL authentication failed; "
		    "server %s said: %s", s->hostaddr,
		    buf_cstr(&s->reply.text));
	}
}
