/* SPDX-License-Identifier: MIT */
/*
 * SMTP AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms.
 * smtpd decodes the client's responses itself and hands the user name
 * and password to authd (auth_client.h), which answers asynchronously
 * (slowly, after a failure); the session is paused meanwhile.  Decoded
 * secrets are wiped as soon as they are passed on, and nothing the
 * client sent in an AUTH exchange is logged.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "anvil_client.h"
#include "auth_client.h"

#include "smtpd.h"
#include "smtpd_session.h"

/* RFC 4954 §4: "334 " challenges, base64 encoded. */
#define LOGIN_USER_PROMPT	"VXNlcm5hbWU6"	/* "Username:" */
#define LOGIN_PASS_PROMPT	"UGFzc3dvcmQ6"	/* "Password:" */

bool
smtpd_sasl_offered(const struct smtpd_session *s)
{
	return smtpd_conf.sasl_enable && s->sasl_user == NULL &&
	    (s->tls || !smtpd_conf.tls_auth_only);
}

void
smtpd_sasl_reset(struct smtpd_session *s)
{
	auth_client_cancel(&s->authq);
	if (s->sasl_login_user != NULL) {
		explicit_bzero(s->sasl_login_user, strlen(s->sasl_login_user));
		free(s->sasl_login_user);
		s->sasl_login_user = NULL;
	}
	s->sasl_step = SMTPD_SASL_NONE;
	if (s->input == SMTPD_IN_SASL)
		s->input = SMTPD_IN_CMD;
}

/*
 * Strict base64 (RFC 4648 §4): whole quanta, the alphabet only, "=" only
 * as padding at the end.  Returns a heap buffer (NUL-terminated, for the
 * caller to wipe and free) and its length, or NULL.
 */
static unsigned char *
b64_decode(const char *in, size_t n, size_t *len_r)
{
	unsigned char *out;
	size_t pad = 0;
	int r;

	if (n % 4 != 0)
		return NULL;
	if (n > 0 && in[n - 1] == '=')
		pad = n > 1 && in[n - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < n - pad; i++) {
		unsigned char c = (unsigned char)in[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return NULL;
	}
	out = xmalloc(n / 4 * 3 + 1);
	if (n == 0) {
		*len_r = 0;
		out[0] = '\0';
		return out;
	}
	r = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	if (r < 0 || (size_t)r < pad) {
		free(out);
		return NULL;
	}
	*len_r = (size_t)r - pad;
	out[*len_r] = '\0';
	return out;
}

static void
wipe_free(unsigned char *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}

static void
auth_cb(void *ctx, const struct auth_result *res)
{
	struct smtpd_session *s = ctx;
	char *client, *why;

	s->authq = NULL;
	s->sasl_step = SMTPD_SASL_NONE;
	if (res->status == AUTH_OK) {
		s->sasl_user = xstrdup(res->user != NULL ? res->user :
		    s->sasl_login_user);
		s->env.sasl_user = s->sasl_user;
		smtpd_reply(s, 235, "2.7.0 Authentication successful");
	} else {
		client = smtpd_session_client(s);
		why = log_escape_str(res->reason != NULL ? res->reason :
		    "authentication failure");
		log_warn("%s: SASL %s authentication failed: %s", client,
		    s->sasl_method, why);
		free(client);
		free(why);
		if (res->status == AUTH_FAIL)
			smtpd_reply(s, 535, "5.7.8 Error: authentication "
			    "failed");
		else
			smtpd_reply(s, 454, "4.7.0 Temporary authentication "
			    "failure");
	}
	smtpd_sasl_reset(s);
	smtpd_session_resume(s);
	(void)smtpd_session_settle(s);
}

/* Hands the credentials to authd; the caller wipes its copies. */
static void
auth_start(struct smtpd_session *s, const char *user, const char *pass)
{
	const char *err;

	s->input = SMTPD_IN_CMD;
	if (s->sasl_login_user == NULL)
		s->sasl_login_user = xstrdup(user);
	s->authq = auth_client_start(smtpd_base(), "smtp", user, pass,
	    s->addr, s->tls, auth_cb, s, &err);
	if (s->authq == NULL) {
		log_warn("SASL authentication unavailable: %s", err);
		smtpd_sasl_reset(s);
		smtpd_reply(s, 454, "4.7.0 Temporary authentication failure");
		return;
	}
	s->sasl_step = SMTPD_SASL_WAIT;
	smtpd_session_pause(s);
}

static void
fail_syntax(struct smtpd_session *s, const char *why)
{
	smtpd_sasl_reset(s);
	smtpd_reply(s, 501, "5.5.2 %s", why);
}

/* RFC 4616 §2: [authzid] NUL authcid NUL passwd. */
static void
plain_response(struct smtpd_session *s, const unsigned char *p, size_t n)
{
	const char *authz = (const char *)p, *user, *pass;
	size_t zlen, ulen, plen;

	zlen = strnlen(authz, n);
	if (zlen == n)
		goto bad;
	user = authz + zlen + 1;
	ulen = strnlen(user, n - zlen - 1);
	if (zlen + 1 + ulen == n)
		goto bad;
	pass = user + ulen + 1;
	plen = n - zlen - ulen - 2;
	if (strnlen(pass, plen) != plen || ulen == 0 ||
	    ulen > AUTH_FIELD_MAX || plen > AUTH_FIELD_MAX)
		goto bad;
	/* Acting for another user is not offered. */
	if (zlen > 0 && strcmp(authz, user) != 0) {
		smtpd_sasl_reset(s);
		smtpd_reply(s, 535, "5.7.8 Error: authentication failed: "
		    "authorization identity not allowed");
		return;
	}
	auth_start(s, user, pass);
	return;
bad:
	fail_syntax(s, "Error: malformed PLAIN response");
}

static void
login_response(struct smtpd_session *s, const unsigned char *p, size_t n)
{
	if (memchr(p, '\0', n) != NULL || n > AUTH_FIELD_MAX ||
	    (s->sasl_step == SMTPD_SASL_LOGIN_USER && n == 0)) {
		fail_syntax(s, "Error: malformed LOGIN response");
		return;
	}
	if (s->sasl_step == SMTPD_SASL_LOGIN_USER) {
		s->sasl_login_user = xstrdup((const char *)p);
		s->sasl_step = SMTPD_SASL_LOGIN_PASS;
		s->input = SMTPD_IN_SASL;
		smtpd_reply(s, 334, LOGIN_PASS_PROMPT);
		return;
	}
	auth_start(s, s->sasl_login_user, (const char *)p);
}

static void
response(struct smtpd_session *s, const char *line, size_t len,
    bool initial)
{
	unsigned char *dec;
	size_t n;

	/* RFC 4954 §4: "=" is an empty initial response. */
	if (initial && len == 1 && line[0] == '=')
		len = 0;
	if ((dec = b64_decode(line, len, &n)) == NULL) {
		fail_syntax(s, "Cannot decode response");
		return;
	}
	if (s->sasl_step == SMTPD_SASL_PLAIN)
		plain_response(s, dec, n);
	else
		login_response(s, dec, n);
	wipe_free(dec, n + 1);
}

void
smtpd_sasl_line(struct smtpd_session *s, char *line, size_t len)
{
	/* RFC 4954 §4: "*" cancels the exchange. */
	if (len == 1 && line[0] == '*') {
		smtpd_sasl_reset(s);
		smtpd_reply(s, 501, "5.0.0 Authentication aborted");
		return;
	}
	response(s, line, len, false);
}

/* ANVIL_AUTH; false when the client is over its AUTH rate. */
static bool
auth_rate_ok(struct smtpd_session *s)
{
	struct anvil_counts c;
	const char *err;
	char *client;

	if (smtpd_conf.auth_rate_limit == 0 || s->limits_exempt ||
	    str_eq(s->addr, "unix"))
		return true;
	if (anvil_client_event(ANVIL_AUTH, s->addr, &c, &err) == -1) {
		log_warn("anvil unreachable, AUTH rate not limited: %s", err);
		return true;
	}
	if (c.rate <= (uint64_t)smtpd_conf.auth_rate_limit)
		return true;
	client = smtpd_session_client(s);
	log_warn("AUTH command rate limit exceeded: %llu from %s",
	    (unsigned long long)c.rate, client);
	free(client);
	smtpd_reply(s, 450, "4.7.1 Error: too many AUTH commands from %s",
	    s->addr);
	return false;
}

void
smtpd_sasl_cmd(struct smtpd_session *s, char *args)
{
	char *mech = args, *initial;

	if (!smtpd_conf.sasl_enable) {
		smtpd_reply(s, 503, "5.5.1 Error: authentication not enabled");
		return;
	}
	if (s->helo == NULL || !s->esmtp) {
		smtpd_reply(s, 503, "5.5.1 Error: send EHLO first");
		return;
	}
	if (s->sasl_user != NULL) {
		smtpd_reply(s, 503, "5.5.1 Error: already authenticated");
		return;
	}
	/* RFC 4954 §4, 538: PLAIN and LOGIN send the password in clear. */
	if (smtpd_conf.tls_auth_only && !s->tls) {
		smtpd_reply(s, 538, "5.7.11 Encryption required for requested "
		    "authentication mechanism");
		return;
	}
	if (!auth_rate_ok(s))
		return;
	initial = strchr(args, ' ');
	if (initial != NULL) {
		*initial++ = '\0';
		while (*initial == ' ')
			initial++;
	}
	if (strcasecmp(mech, "PLAIN") == 0) {
		s->sasl_method = "PLAIN";
		s->sasl_step = SMTPD_SASL_PLAIN;
	} else if (strcasecmp(mech, "LOGIN") == 0) {
		s->sasl_method = "LOGIN";
		s->sasl_step = SMTPD_SASL_LOGIN_USER;
	} else if (*mech == '\0') {
		smtpd_reply(s, 501, "5.5.4 Syntax: AUTH mechanism");
		return;
	} else {
		smtpd_reply(s, 504, "5.5.4 Unrecognized authentication type");
		return;
	}
	if (initial != NULL && *initial != '\0') {
		response(s, initial, strlen(initial), true);
		return;
	}
	s->input = SMTPD_IN_SASL;
	if (s->sasl_step == SMTPD_SASL_PLAIN)
		smtpd_reply(s, 334, "%s", "");
	else
		smtpd_reply(s, 334, LOGIN_USER_PROMPT);
}
