/* SPDX-License-Identifier: MIT */
/*
 * Parsing of MAIL FROM and RCPT TO ESMTP parameters (RFC 5321 §4.1.2
 * esmtp-param), each checked against the extensions this session offers:
 * SIZE (RFC 1870), BODY=7BIT|8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531),
 * RET, ENVID, NOTIFY, ORCPT (RFC 3461), AUTH (RFC 4954 §5),
 * REQUIRETLS (RFC 8689).  Keywords are case-insensitive; each may appear
 * once.  Pure: no I/O and no global state.
 *
 * Errors carry the full reply: 555 5.5.4 for an unknown or not offered
 * parameter, 501 5.5.4 for a bad value, 552 5.3.4 for SIZE over the
 * limit, 530 5.7.10 for REQUIRETLS without TLS.
 *
 * Details: parameters are separated by one or more SP, and SP before the
 * first or after the last is ignored; any other byte outside the
 * RFC 5321 §4.1.2 syntax (TAB, NUL, CR, "=" in a value, an empty value)
 * is 501.  UTF-8 in values is allowed only when SMTPD_ESMTP_SMTPUTF8 is
 * offered, and only well-formed.  SIZE has at most 20 digits (RFC 1870);
 * a value too large for a long long is answered as over the limit.
 * ENVID, AUTH and the xtext of ORCPT must be xtext whose decoded bytes
 * are printable ASCII (32..126): "+0D" and the like are 501.  ORCPT is at
 * most 500 characters (RFC 3461 §4.2); its addr-type is kept as given.
 * For the "utf-8" addr-type only RFC 6533's 7-bit utf-8-addr-xtext is
 * accepted; raw UTF-8 (utf-8-addr-unitext) is refused with 501, since the
 * queue file keeps ORCPT as ASCII.
 */
#ifndef TERN_SMTPD_ESMTP_H
#define TERN_SMTPD_ESMTP_H

#include <stdbool.h>
#include <stddef.h>

/* What the session offers (EHLO) and its state; combine with |. */
#define SMTPD_ESMTP_EHLO	0x01	/* EHLO was used (else HELO: no
					   parameters at all) */
#define SMTPD_ESMTP_DSN		0x02
#define SMTPD_ESMTP_AUTH	0x04	/* AUTH offered */
#define SMTPD_ESMTP_TLS		0x08	/* the session is in TLS */
#define SMTPD_ESMTP_SMTPUTF8	0x10

#define SMTPD_ESMTP_REPLY_MAX	256

enum smtpd_body {
	SMTPD_BODY_NONE = 0,	/* not given */
	SMTPD_BODY_7BIT,
	SMTPD_BODY_8BITMIME,
};

struct smtpd_mail_params {
	long long	 size;		/* -1: not given */
	enum smtpd_body	 body;
	bool		 smtputf8;
	bool		 requiretls;
	char		 ret[5];	/* "", "FULL" or "HDRS" */
	char		*envid;		/* NULL or xtext, validated (RFC 3461
					   §4.4: at most 100 chars) */
	char		*auth;		/* NULL or xtext ("<>" allowed) */
};

struct smtpd_rcpt_params {
	char		*notify;	/* NULL or e.g. "SUCCESS,FAILURE",
					   upper case, or "NEVER" */
	char		*orcpt;		/* NULL or "rfc822;xtext", addr-type
					   as given, xtext validated */
};

/*
 * Parses n bytes of parameters (after the path; leading spaces allowed).
 * size_limit 0 means no SIZE limit.  On failure returns -1 with the
 * complete reply ("555 5.5.4 Unsupported option: FOO") in reply, and
 * the struct empty.  Free with the _deinit functions.
 */
int smtpd_esmtp_mail(const char *s, size_t n, unsigned flags,
    long long size_limit, struct smtpd_mail_params *p,
    char reply[SMTPD_ESMTP_REPLY_MAX]) __attribute__((warn_unused_result));
int smtpd_esmtp_rcpt(const char *s, size_t n, unsigned flags,
    struct smtpd_rcpt_params *p, char reply[SMTPD_ESMTP_REPLY_MAX])
    __attribute__((warn_unused_result));
void smtpd_mail_params_deinit(struct smtpd_mail_params *p);
void smtpd_rcpt_params_deinit(struct smtpd_rcpt_params *p);

#endif
