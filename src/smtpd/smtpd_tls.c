/* SPDX-License-Identifier: MIT */
/*
 * STARTTLS (RFC 3207) and implicit TLS (RFC 8314 §3.3, smtpd_tls_wrappermode)
 * for smtpd sessions, on libevent's OpenSSL bufferevents.  The socket
 * bufferevent of a plaintext session is replaced by an OpenSSL one on the
 * same descriptor once "220 Ready to start TLS" has been written; what
 * the client sent after STARTTLS and before the handshake is thrown away
 * with the old bufferevent (CVE-2011-0411: no plaintext command may be
 * taken as sent inside TLS).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "tls_server.h"

#include "smtpd.h"
#include "smtpd_session.h"

bool
smtpd_tls_offered(const struct smtpd_session *s)
{
	return smtpd_tls != NULL && smtpd_conf.tls_level != SMTPD_TLS_NONE &&
	    !smtpd_conf.wrappermode && !s->tls && !s->tls_switch;
}

void
smtpd_tls_cmd(struct smtpd_session *s, const char *args)
{
	struct evbuffer *in;

	if (s->tls) {
		smtpd_reply(s, 554, "5.5.1 Error: TLS already active");
		return;
	}
	if (!smtpd_tls_offered(s)) {
		smtpd_reply(s, 502, "5.5.1 Error: command not implemented");
		return;
	}
	if (*args != '\0') {
		smtpd_reply(s, 501, "5.5.4 Syntax: STARTTLS");
		return;
	}
	smtpd_reply(s, 220, "2.0.0 Ready to start TLS");
	/*
	 * SECURITY: RFC 3207 §4.2 and CVE-2011-0411: bytes pipelined after
	 * STARTTLS were sent in plaintext; drop them.  Bytes still in the
	 * kernel are read by OpenSSL as handshake data and fail it.
	 */
	in = bufferevent_get_input(s->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	s->tls_switch = true;
	s->input = SMTPD_IN_NONE;
	bufferevent_disable(s->bev, EV_READ);
}

int
smtpd_tls_start(struct smtpd_session *s)
{
	SSL *ssl;

	if (smtpd_tls == NULL)
		return -1;
	ssl = tls_server_ssl(smtpd_tls);
	if (s->bev != NULL) {
		/* Its unread input (plaintext after STARTTLS) goes with it. */
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	s->bev = bufferevent_openssl_socket_new(smtpd_base(), s->fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL)
		fatal("cannot create a TLS bufferevent");
	s->bev_owns_fd = true;
	s->tls_switch = true;
	s->input = SMTPD_IN_NONE;
	/* Clients that close without close_notify are the common case. */
	bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	smtpd_session_bev_setup(s);
	if (bufferevent_enable(s->bev, EV_READ | EV_WRITE) == -1)
		fatal("cannot enable a bufferevent");
	return 0;
}

void
smtpd_tls_established(struct smtpd_session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	char info[TLS_INFO_MAX];
	char *client = smtpd_session_client(s);

	tls_server_info(ssl, info, sizeof(info));
	log_info("%s TLS connection established from %s: %s",
	    tls_server_resumed(ssl) ? "Anonymous (resumed)" : "Anonymous",
	    client, info);
	free(client);
	s->tls = true;
	s->tls_switch = false;
	s->env.tls = true;
	free(s->tls_info);
	s->tls_info = xasprintf("(using %s)", info);
	/* RFC 3207 §4.2: forget everything learned before TLS. */
	smtpd_sasl_reset(s);
	smtpd_session_reset(s);
	free(s->sasl_user);
	s->sasl_user = NULL;
	s->env.sasl_user = NULL;
	free(s->helo);
	s->helo = NULL;
	s->env.helo = NULL;
	s->esmtp = false;
	s->state = SMTPD_S_INIT;
	if (s->closing)
		return;
	if (!s->greeted) {
		/* Wrapper mode: greet once the client's name is known too. */
		if (s->name != NULL && s->dnsq == NULL)
			smtpd_session_greet(s);
		return;
	}
	s->input = SMTPD_IN_CMD;
	smtpd_session_resume(s);
}

void
smtpd_tls_failed(struct smtpd_session *s)
{
	char *client = smtpd_session_client(s);
	unsigned long e = s->bev != NULL ?
	    bufferevent_get_openssl_error(s->bev) : 0;
	char why[256];

	if (e != 0)
		ERR_error_string_n(e, why, sizeof(why));
	else
		str_copy(why, "connection closed", sizeof(why));
	log_info("%s: TLS handshake failed from %s: %s",
	    smtpd_conf.wrappermode ? "SSL_accept" : "STARTTLS", client, why);
	free(client);
	ERR_clear_error();
}
