/* SPDX-License-Identifier: MIT */
/*
 * Mail addresses: parsing of SMTP paths (RFC 5321 §4.1.2) and of RFC 5322
 * §3.4 header address lists, validation of local parts, domains and
 * address literals, quoting between the internal form (local part without
 * quotes or backslashes, as Postfix keeps it) and the external RFC 5321
 * form, and the small helpers routing code needs (domain case folding,
 * FQDN test, address extensions, HELO host name check).  Every validator
 * fails closed: input is accepted only when it matches the grammar, never
 * repaired.  UTF-8 (RFC 6531 SMTPUTF8) is accepted only when the caller
 * passes ADDR_SMTPUTF8, and then only when it is well-formed.
 */
#ifndef TERN_ADDR_H
#define TERN_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "str.h"

/* RFC 5321 §4.5.3.1 size limits, in octets of the external form. */
#define ADDR_LOCAL_MAX		64	/* §4.5.3.1.1 local-part */
#define ADDR_DOMAIN_MAX		255	/* §4.5.3.1.2 domain */
#define ADDR_PATH_MAX		256	/* §4.5.3.1.3 path, with "<" and ">" */
#define ADDR_LABEL_MAX		63	/* RFC 1035 §2.3.4 */

/* Bounds for RFC 5322 header parsing (hostile input). */
#define ADDR_HDR_MAX		(256 * 1024)	/* bytes of header value */
#define ADDR_HDR_ADDRS_MAX	10000		/* addresses per header */
#define ADDR_COMMENT_DEPTH_MAX	32		/* nested (comments) */

/* Flags; combine with |. */
#define ADDR_SMTPUTF8		0x01	/* RFC 6531: UTF-8 allowed */
#define ADDR_NULL_OK		0x02	/* MAIL FROM: "<>" allowed */
#define ADDR_POSTMASTER_OK	0x04	/* RCPT TO: "<postmaster>" (§4.5.1) */
#define ADDR_NO_ANGLE_OK	0x08	/* strict_rfc821_envelopes = no */
#define ADDR_BARE_LOCAL_OK	0x10	/* header: address without domain */

#define ADDR_MAIL_FROM		ADDR_NULL_OK
#define ADDR_RCPT_TO		ADDR_POSTMASTER_OK

/* A parsed SMTP path; strings are heap copies owned by the struct. */
struct addr_path {
	char	*local;		/* internal form; "" for the null path */
	char	*domain;	/* as sent (not folded), "[...]" for a
				   literal; "" for <> and <postmaster> */
	bool	 null;		/* the null reverse-path "<>" */
	bool	 routed;	/* a source route (A-d-l) was stripped */
};

/*
 * Parses the path argument of MAIL FROM or RCPT TO from len bytes at s
 * (s[0] is the first byte after the colon).  With ADDR_NO_ANGLE_OK, leading
 * spaces are skipped and a path without "<" ">" ends at a space or at len.
 * On success fills path_r (free with addr_path_deinit), sets *end_r to the
 * offset just past the path (ESMTP parameters, if any, follow there; bytes
 * after it are not examined) and returns 0.  On failure returns -1 with
 * err_r set and path_r zeroed.
 */
int addr_parse_path(const char *s, size_t len, unsigned flags,
    struct addr_path *path_r, size_t *end_r, const char **err_r)
    __attribute__((warn_unused_result));
void addr_path_deinit(struct addr_path *path);

/*
 * Parses an RFC 5322 §3.4 address-list (To, Cc, Bcc, ...), the obsolete
 * forms of §4.4 included, from len bytes at s: display names, groups,
 * comments (nesting bounded by ADDR_COMMENT_DEPTH_MAX), quoted strings,
 * routes in angle-addr, folding white space.  Appends each address in
 * internal form ("local@domain", or "local" alone with ADDR_BARE_LOCAL_OK)
 * to list_r.  Every address must also be a valid RFC 5321 mailbox.  8-bit
 * text anywhere, display names and comments included, needs ADDR_SMTPUTF8
 * (RFC 6532) and must be well-formed UTF-8; control characters other than
 * folding white space are refused.  Routes in angle-addr are dropped.  On
 * failure returns -1 with err_r set; list_r then holds what it held before.
 */
int addr_parse_header_list(const char *s, size_t len, unsigned flags,
    struct strv *list_r, const char **err_r)
    __attribute__((warn_unused_result));

/* True when n bytes at s are well-formed UTF-8 (RFC 3629). */
bool addr_utf8_valid(const char *s, size_t n);
/*
 * Length (2..4) of the well-formed non-ASCII UTF-8 character at s (n bytes
 * available), 0 when malformed: overlong forms, surrogates, values above
 * U+10FFFF, truncation, and the C1 controls U+0080..U+009F are rejected.
 */
size_t addr_utf8_char(const char *s, size_t n);

/* True for an RFC 5321 Dot-string (with UTF-8 atext under ADDR_SMTPUTF8). */
bool addr_is_dot_string(const char *s, size_t n, unsigned flags);
/*
 * Validates a local part in internal form: non-empty, representable in
 * RFC 5321 (no control characters), and at most ADDR_LOCAL_MAX octets once
 * quoted.
 */
bool addr_valid_local(const char *local, unsigned flags, const char **err_r);
/*
 * Validates n bytes as an RFC 5321 Domain (§4.1.2; with ADDR_SMTPUTF8
 * U-labels, RFC 6531 §3.3): LDH labels of 1..63 octets, no leading or
 * trailing hyphen, no empty label, at most ADDR_DOMAIN_MAX octets, a top
 * label that is not all digits (RFC 3696 §2).  No address literals.
 */
bool addr_valid_domain(const char *d, size_t n, unsigned flags,
    const char **err_r);
/* Validates n bytes as an RFC 5321 §4.1.3 address literal "[...]". */
bool addr_valid_literal(const char *d, size_t n, const char **err_r);
/* A domain or an address literal, for the part after "@". */
bool addr_valid_domain_or_literal(const char *d, size_t n, unsigned flags,
    const char **err_r);

/*
 * Appends the external RFC 5321 form of an internal local part to out:
 * unchanged when it is a Dot-string, else a Quoted-string with '"' and '\'
 * escaped.  Returns -1 with err_r set when the local part cannot be
 * represented (control characters, 8-bit without ADDR_SMTPUTF8, bad
 * UTF-8) or out would exceed its maximum.
 */
int addr_quote_local(struct buf *out, const char *local, unsigned flags,
    const char **err_r) __attribute__((warn_unused_result));
/* As addr_quote_local, then "@domain" unless domain is NULL or "". */
int addr_quote(struct buf *out, const char *local, const char *domain,
    unsigned flags, const char **err_r) __attribute__((warn_unused_result));
/*
 * Appends the internal form of the external local part in n bytes at s (a
 * Dot-string or a Quoted-string) to out.  Returns -1 with err_r set when s
 * is not exactly one of the two.
 */
int addr_unquote_local(struct buf *out, const char *s, size_t n,
    unsigned flags, const char **err_r) __attribute__((warn_unused_result));

/* Lower-cases the ASCII letters of a domain in place; returns it. */
char *addr_domain_fold(char *domain);
/* True for a valid domain with at least two labels (no literals). */
bool addr_is_fqdn(const char *domain, unsigned flags);
/*
 * Postfix's recipient_delimiter split: finds the first byte of local that
 * is in delims.  Returns true and sets *base_len_r (the base is
 * local[0..base_len)) and *ext_r (just past the delimiter) when the address
 * has an extension; false when delims is empty, no delimiter occurs, the
 * base would be empty, or local is postmaster, mailer-daemon, double-bounce
 * or (when '-' is a delimiter) owner-* or *-request.
 */
bool addr_split_ext(const char *local, const char *delims,
    size_t *base_len_r, const char **ext_r);
/*
 * Validates a host name for HELO/EHLO and myhostname: letters, digits,
 * hyphens and dots only, labels of 1..63 octets without a leading or
 * trailing hyphen, at most ADDR_DOMAIN_MAX octets, not all-numeric.
 */
bool addr_valid_hostname(const char *name, const char **err_r);

#endif
