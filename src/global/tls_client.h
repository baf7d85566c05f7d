/* SPDX-License-Identifier: MIT */
/*
 * Client-side TLS for the smtp and lmtp delivery agents (OpenSSL 3): one
 * SSL_CTX per process from the PREFIX_tls_* parameters ("smtp" reads
 * smtp_tls_cert_file, smtp_tls_key_file, smtp_tls_chain_files,
 * smtp_tls_CAfile, smtp_tls_CApath, smtp_tls_protocols,
 * smtp_tls_mandatory_protocols, smtp_tls_ciphers,
 * smtp_tls_mandatory_ciphers), per-connection SSL objects set up for a
 * security level, and the verdict after the handshake.
 *
 * Levels, as Postfix's smtp_tls_security_level:
 *   none     no TLS
 *   may      TLS when offered, any certificate; plaintext otherwise
 *   encrypt  TLS required, any certificate (mandatory protocols/ciphers)
 *   dane     RFC 7672: verify against the host's DNSSEC-validated TLSA
 *            records (OpenSSL's DANE API); the caller falls back to may
 *            when the TLSA lookup was not secure or found nothing usable
 *   verify   TLS required, certificate chain from CAfile/CApath and a
 *            name from smtp_tls_verify_cert_match
 *   secure   as verify, names from smtp_tls_secure_cert_match
 *
 * Trust, as Postfix logs it: Anonymous (no certificate), Untrusted (the
 * chain does not verify), Trusted (the chain verifies, no name match was
 * required or it failed), Verified (chain and name, or a DANE match).
 */
#ifndef TERN_TLS_CLIENT_H
#define TERN_TLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "dns_mx.h"

enum tls_level {
	TLS_LEV_NONE,
	TLS_LEV_MAY,
	TLS_LEV_ENCRYPT,
	TLS_LEV_DANE,
	TLS_LEV_VERIFY,
	TLS_LEV_SECURE,
};

enum tls_trust {
	TLS_TRUST_ANONYMOUS,
	TLS_TRUST_UNTRUSTED,
	TLS_TRUST_TRUSTED,
	TLS_TRUST_VERIFIED,
};

/* Parses a level name; -1 for an unknown one. */
int tls_level_parse(const char *name, enum tls_level *level_r)
    __attribute__((warn_unused_result));
const char *tls_level_name(enum tls_level level);
/* "Anonymous", "Untrusted", "Trusted", "Verified". */
const char *tls_trust_name(enum tls_trust trust);

/*
 * A smtp_tls_policy_maps value: "LEVEL [match=NAME:NAME...]
 * [protocols=SPEC] [ciphers=GRADE]" (the attributes Postfix's policy
 * table has that apply here; match names as in *_cert_match, separated
 * by ':').  -1 with err_r for an unknown level or attribute or a bad
 * value; the table entry is then a configuration error (the caller
 * defers).
 */
struct tls_policy {
	enum tls_level	 level;
	char		**match;	/* NULL-terminated, or NULL: default */
	char		*protocols;	/* NULL: default */
	char		*ciphers;	/* NULL: default */
};
int tls_policy_parse(const char *value, struct tls_policy *p,
    const char **err_r) __attribute__((warn_unused_result));
void tls_policy_deinit(struct tls_policy *p);

struct tls_client;

/*
 * Builds the context from the PREFIX_tls_* parameters (from pre_jail:
 * the client key may be readable by root only).  NULL with err_r naming
 * the parameter and file for an unreadable file, a key that does not
 * match its certificate, or an invalid value.
 */
struct tls_client *tls_client_new(const char *prefix, const char **err_r);
void tls_client_free(struct tls_client **tp);

/*
 * The number of records of tlsa[0..n) that DANE can use for SMTP: usage
 * DANE-TA(2) or DANE-EE(3) (RFC 7672 §3.1: PKIX-TA(0) and PKIX-EE(1)
 * are unusable), selector 0 or 1, matching type 0 (full data), 1
 * (SHA2-256, 32 bytes) or 2 (SHA2-512, 64 bytes).  0 means the caller
 * falls back to may (RFC 7672 §2.2) before it connects.
 */
size_t tls_client_dane_usable(const struct dns_tlsa *tlsa, size_t n);

/*
 * What one connection must check.  Match names are DNS names (letters,
 * digits, '-', '_'), compared without case; one starting with '.' matches
 * any subdomain of the rest (Postfix's dot-nexthop).  The caller expands
 * the keywords hostname, nexthop and dot-nexthop.  For dane, match[0] is
 * the TLSA base domain (RFC 7672 §3.2.2) and the other names are further
 * names a DANE-TA(2) chain's leaf may match; DANE-EE(3) ignores names and
 * validity dates (RFC 7672 §3.1.1).  servername is not sent when it is an
 * address literal (RFC 6066 §3).
 */
struct tls_client_peer {
	enum tls_level	 level;		/* not NONE */
	const char	*servername;	/* SNI, or NULL */
	const char *const *match;	/* names for verify/secure; for
					   dane the TLSA base domain first */
	size_t		 nmatch;
	const struct dns_tlsa *tlsa;	/* dane: the usable records */
	size_t		 ntlsa;
	const char	*protocols;	/* policy override, or NULL */
	const char	*ciphers;	/* policy override, or NULL */
};

/*
 * A new SSL object in client mode for one connection, set up for peer:
 * protocols and ciphers from the PREFIX_tls_mandatory_* parameters for
 * every level but may (or the policy's overrides), SNI, the names and
 * TLSA records.  Verification never aborts the handshake; the verdict is
 * tls_client_check's.  NULL with err_r when it cannot be: no TLSA record
 * is usable for dane (the caller falls back to may), a bad policy
 * override, an invalid or missing match name.  Only the dane case is a
 * reason to fall back; any other NULL at a level above may is a
 * configuration error (defer).
 */
SSL *tls_client_ssl(struct tls_client *t, const struct tls_client_peer *peer,
    const char **err_r);

/*
 * After the handshake: the trust reached, and 0 when it satisfies
 * peer->level (may and encrypt: any; dane, verify, secure: Verified), -1
 * with err_r otherwise: "server certificate not verified: self-signed
 * certificate (depth 0)", "server certificate not verified: no name
 * matches mx.example.test", "server certificate not verified: no trust
 * anchors (smtp_tls_CAfile and smtp_tls_CApath are empty)", "no TLSA
 * record matches the server certificate", "TLS handshake not completed".
 * The text names no host: the caller adds it.
 */
int tls_client_check(SSL *ssl, const struct tls_client_peer *peer,
    enum tls_trust *trust_r, const char **err_r)
    __attribute__((warn_unused_result));

#endif
