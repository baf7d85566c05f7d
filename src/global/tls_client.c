/* SPDX-License-Identifier: MIT */
/*
 * Client-side TLS (tls_client.h): the SSL_CTX of a delivery agent, SSL
 * objects set up per security level (names to match, DANE TLSA records,
 * protocol floor and cipher grade), and the trust classification after
 * the handshake.  Certificate verification never aborts a handshake:
 * every verification error is recorded by a callback and the handshake
 * goes on, so that opportunistic levels still log the trust reached and
 * the levels that need more fail afterwards in tls_client_check.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "tls_client.h"
#include "tls_common.h"

/* Limits of a policy table entry. */
#define POLICY_MAX	1024	/* bytes of the whole value */
#define MATCH_MAX	32	/* names in match= */
#define NAME_MAX_LEN	253	/* RFC 1035 §2.3.4, without the root dot */

struct tls_client {
	SSL_CTX		*ctx;
	char		*prefix;
	bool		 have_ca;	/* CAfile or CApath configured */
	int		 min_opp;	/* PREFIX_tls_protocols */
	int		 min_mand;	/* PREFIX_tls_mandatory_protocols */
	const char	*ciphers_opp;	/* OpenSSL lists of the grades */
	const char	*ciphers_mand;
};

/* What the verify callback saw on one connection (SSL ex_data). */
struct verify_state {
	bool		 have_ca;
	bool		 names;		/* host names were set */
	bool		 dane;
	char		 prefix[32];
	int		 chain_err;	/* first error other than the name */
	int		 chain_depth;
	bool		 name_err;	/* X509_V_ERR_HOSTNAME_MISMATCH */
};

static char err_buf[1024];
/* The module's error text for err_r (one at a time). */
#define ERR_FMT(...)	str_fmt_buf(err_buf, sizeof(err_buf), __VA_ARGS__)

static int state_index = -1;

static const char *
ssl_reason(void)
{
	static char buf[256];

	return tls_common_error(buf, sizeof(buf));
}

static const char *const level_names[] = {
	[TLS_LEV_NONE] = "none",
	[TLS_LEV_MAY] = "may",
	[TLS_LEV_ENCRYPT] = "encrypt",
	[TLS_LEV_DANE] = "dane",
	[TLS_LEV_VERIFY] = "verify",
	[TLS_LEV_SECURE] = "secure",
};

int
tls_level_parse(const char *name, enum tls_level *level_r)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*level_r = (enum tls_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
tls_level_name(enum tls_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "unknown";
	return level_names[level];
}

const char *
tls_trust_name(enum tls_trust trust)
{
	switch (trust) {
	case TLS_TRUST_ANONYMOUS:
		return "Anonymous";
	case TLS_TRUST_UNTRUSTED:
		return "Untrusted";
	case TLS_TRUST_TRUSTED:
		return "Trusted";
	case TLS_TRUST_VERIFIED:
		return "Verified";
	}
	return "Untrusted";
}

/*
 * A name of match=: a keyword or a DNS name, optionally with a leading
 * dot (any subdomain); letters, digits, '-' and '_' in labels of 1 to 63
 * bytes, no empty label.
 */
static bool
match_name_valid(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len > 0 && s[0] == '.') {
		s++;
		len--;
	}
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

static int
policy_match(const char *value, struct tls_policy *p, const char **err_r)
{
	const char *s = value, *colon;
	size_t n = 0, len;

	p->match = xcalloc(MATCH_MAX + 1, sizeof(*p->match));
	for (;;) {
		colon = strchr(s, ':');
		len = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (!match_name_valid(s, len)) {
			*err_r = "invalid match= name";
			return -1;
		}
		if (n == MATCH_MAX) {
			*err_r = "too many match= names";
			return -1;
		}
		p->match[n++] = xstrndup(s, len);
		if (colon == NULL)
			return 0;
		s = colon + 1;
	}
}

int
tls_policy_parse(const char *value, struct tls_policy *p,
    const char **err_r)
{
	struct strv words;
	const char *w, *eq, *e;
	size_t i, len;
	int min;

	memset(p, 0, sizeof(*p));
	len = strlen(value);
	if (len > POLICY_MAX) {
		*err_r = "TLS policy too long";
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if ((c < 0x20 && c != '\t') || c >= 0x7f) {
			*err_r = "TLS policy with a control or non-ASCII "
			    "character";
			return -1;
		}
	}
	strv_init(&words);
	strv_split(&words, value, " \t");
	if (words.n == 0) {
		*err_r = "empty TLS policy";
		goto fail;
	}
	if (tls_level_parse(words.v[0], &p->level) == -1) {
		*err_r = "unknown TLS security level";
		goto fail;
	}
	for (i = 1; i < words.n; i++) {
		w = words.v[i];
		if ((eq = strchr(w, '=')) == NULL) {
			*err_r = "TLS policy attribute without '='";
			goto fail;
		}
		if (strncmp(w, "match=", 6) == 0) {
			if (p->match != NULL) {
				*err_r = "duplicate match= attribute";
				goto fail;
			}
			/* Names are checked only at these levels. */
			if (p->level != TLS_LEV_DANE &&
			    p->level != TLS_LEV_VERIFY &&
			    p->level != TLS_LEV_SECURE) {
				*err_r = "match= needs level dane, verify or "
				    "secure";
				goto fail;
			}
			if (policy_match(eq + 1, p, &e) == -1) {
				*err_r = e;
				goto fail;
			}
		} else if (strncmp(w, "protocols=", 10) == 0) {
			if (p->protocols != NULL) {
				*err_r = "duplicate protocols= attribute";
				goto fail;
			}
			if (tls_common_protocols(eq + 1, &min) == -1) {
				*err_r = "invalid protocols= value (use "
				    ">=TLSv1.2 or >=TLSv1.3)";
				goto fail;
			}
			p->protocols = xstrdup(eq + 1);
		} else if (strncmp(w, "ciphers=", 8) == 0) {
			if (p->ciphers != NULL) {
				*err_r = "duplicate ciphers= attribute";
				goto fail;
			}
			if (tls_common_ciphers(eq + 1) == NULL) {
				*err_r = "invalid ciphers= value (use medium "
				    "or high)";
				goto fail;
			}
			p->ciphers = xstrdup(eq + 1);
		} else {
			*err_r = "unknown TLS policy attribute";
			goto fail;
		}
	}
	strv_deinit(&words);
	return 0;
fail:
	strv_deinit(&words);
	tls_policy_deinit(p);
	return -1;
}

void
tls_policy_deinit(struct tls_policy *p)
{
	size_t i;

	if (p->match != NULL) {
		for (i = 0; p->match[i] != NULL; i++)
			free(p->match[i]);
		free(p->match);
	}
	free(p->protocols);
	free(p->ciphers);
	memset(p, 0, sizeof(*p));
}

static const char *
param(const char *prefix, const char *suffix, char *buf, size_t size)
{
	return str_fmt_buf(buf, size, "%s_tls_%s", prefix, suffix);
}

static void
state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

/*
 * Records every verification error and lets the handshake go on; the
 * verdict is tls_client_check's.  The first error other than a name
 * mismatch is the one reported.
 */
static int
verify_cb(int ok, X509_STORE_CTX *xctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xctx,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct verify_state *st;
	int err;

	if (ok || ssl == NULL)
		return 1;
	if ((st = SSL_get_ex_data(ssl, state_index)) == NULL)
		return 1;
	err = X509_STORE_CTX_get_error(xctx);
	if (err == X509_V_ERR_HOSTNAME_MISMATCH)
		st->name_err = true;
	else if (st->chain_err == X509_V_OK) {
		st->chain_err = err;
		st->chain_depth = X509_STORE_CTX_get_error_depth(xctx);
	}
	return 1;
}

static int
load_trust(struct tls_client *t, const char **err_r)
{
	char fname[128], pname[128];
	const char *file, *path;
	struct stat sb;
	FILE *fp;

	param(t->prefix, "CAfile", fname, sizeof(fname));
	param(t->prefix, "CApath", pname, sizeof(pname));
	file = mail_conf_get(fname);
	path = mail_conf_get(pname);
	if (*file != '\0') {
		/* Say why a file cannot be read, not just that it failed. */
		if ((fp = fopen(file, "r")) == NULL) {
			*err_r = ERR_FMT("%s: cannot open %s: %s", fname, file,
			    strerror(errno));
			return -1;
		}
		fclose(fp);
		if (SSL_CTX_load_verify_file(t->ctx, file) != 1) {
			*err_r = ERR_FMT("%s: cannot load CA certificates "
			    "from %s: %s", fname, file, ssl_reason());
			return -1;
		}
		t->have_ca = true;
	}
	if (*path != '\0') {
		if (stat(path, &sb) == -1) {
			*err_r = ERR_FMT("%s: %s: %s", pname, path,
			    strerror(errno));
			return -1;
		}
		if (!S_ISDIR(sb.st_mode)) {
			*err_r = ERR_FMT("%s: %s: not a directory", pname,
			    path);
			return -1;
		}
		if (SSL_CTX_load_verify_dir(t->ctx, path) != 1) {
			*err_r = ERR_FMT("%s: cannot use %s: %s", pname, path,
			    ssl_reason());
			return -1;
		}
		t->have_ca = true;
	}
	return 0;
}

static int
configure(struct tls_client *t, const char **err_r)
{
	char pname[128];
	const char *v;

	SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, verify_cb);

	param(t->prefix, "protocols", pname, sizeof(pname));
	v = mail_conf_get(pname);
	if (tls_common_protocols(v, &t->min_opp) == -1) {
		*err_r = tls_common_protocols_error(pname, v);
		return -1;
	}
	param(t->prefix, "mandatory_protocols", pname, sizeof(pname));
	v = mail_conf_get(pname);
	if (tls_common_protocols(v, &t->min_mand) == -1) {
		*err_r = tls_common_protocols_error(pname, v);
		return -1;
	}
	param(t->prefix, "ciphers", pname, sizeof(pname));
	v = mail_conf_get(pname);
	if ((t->ciphers_opp = tls_common_ciphers(v)) == NULL) {
		*err_r = tls_common_ciphers_error(pname, v);
		return -1;
	}
	param(t->prefix, "mandatory_ciphers", pname, sizeof(pname));
	v = mail_conf_get(pname);
	if ((t->ciphers_mand = tls_common_ciphers(v)) == NULL) {
		*err_r = tls_common_ciphers_error(pname, v);
		return -1;
	}
	if (SSL_CTX_set_min_proto_version(t->ctx, t->min_opp) != 1 ||
	    SSL_CTX_set_cipher_list(t->ctx, t->ciphers_opp) != 1) {
		*err_r = ERR_FMT("%s_tls_protocols: %s", t->prefix,
		    ssl_reason());
		return -1;
	}
	if (load_trust(t, err_r) == -1)
		return -1;
	if (tls_common_load_keys(t->ctx, t->prefix, err_r) == -1)
		return -1;
	if (SSL_CTX_dane_enable(t->ctx) <= 0) {
		*err_r = ERR_FMT("DANE unavailable: %s", ssl_reason());
		return -1;
	}
	return 0;
}

struct tls_client *
tls_client_new(const char *prefix, const char **err_r)
{
	struct tls_client *t;

	if (strlen(prefix) >= sizeof(((struct verify_state *)0)->prefix)) {
		*err_r = "TLS parameter prefix too long";
		return NULL;
	}
	ERR_clear_error();
	if (state_index == -1) {
		state_index = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    state_free);
		if (state_index == -1)
			fatal("SSL_get_ex_new_index: %s", ssl_reason());
	}
	t = xcalloc(1, sizeof(*t));
	t->prefix = xstrdup(prefix);
	if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		fatal("SSL_CTX_new: %s", ssl_reason());
	if (configure(t, err_r) == -1) {
		tls_client_free(&t);
		return NULL;
	}
	return t;
}

void
tls_client_free(struct tls_client **tp)
{
	struct tls_client *t = *tp;

	if (t == NULL)
		return;
	*tp = NULL;
	SSL_CTX_free(t->ctx);
	free(t->prefix);
	free(t);
}

/* Protocol floor and cipher list of the level, or of the policy. */
static int
set_versions(struct tls_client *t, SSL *ssl,
    const struct tls_client_peer *peer, const char **err_r)
{
	bool mandatory = peer->level != TLS_LEV_MAY;
	const char *list = mandatory ? t->ciphers_mand : t->ciphers_opp;
	int min = mandatory ? t->min_mand : t->min_opp;

	if (peer->protocols != NULL &&
	    tls_common_protocols(peer->protocols, &min) == -1) {
		*err_r = tls_common_protocols_error("TLS policy protocols",
		    peer->protocols);
		return -1;
	}
	if (peer->ciphers != NULL &&
	    (list = tls_common_ciphers(peer->ciphers)) == NULL) {
		*err_r = tls_common_ciphers_error("TLS policy ciphers",
		    peer->ciphers);
		return -1;
	}
	if (SSL_set_min_proto_version(ssl, min) != 1 ||
	    SSL_set_cipher_list(ssl, list) != 1) {
		*err_r = ERR_FMT("cannot set TLS protocols or ciphers: %s",
		    ssl_reason());
		return -1;
	}
	return 0;
}

static bool
is_address(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* Adds names for the certificate check (X509_check_host semantics). */
static int
add_names(SSL *ssl, const char *const *names, size_t n, const char **err_r)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (names[i] == NULL || !match_name_valid(names[i],
		    strlen(names[i]))) {
			*err_r = "invalid certificate match name";
			return -1;
		}
		if (SSL_add1_host(ssl, names[i]) != 1) {
			*err_r = ERR_FMT("cannot add match name %s: %s",
			    names[i], ssl_reason());
			return -1;
		}
	}
	return 0;
}

/* RFC 7672 §3.1 and RFC 6698 §2.1: see the header. */
static bool
tlsa_usable(const struct dns_tlsa *r)
{
	if (r->usage != 2 && r->usage != 3)
		return false;
	if (r->selector > 1 || r->data == NULL || r->len == 0)
		return false;
	switch (r->mtype) {
	case 0:
		return true;
	case 1:
		return r->len == 32;
	case 2:
		return r->len == 64;
	default:
		return false;
	}
}

size_t
tls_client_dane_usable(const struct dns_tlsa *tlsa, size_t n)
{
	size_t i, usable = 0;

	for (i = 0; i < n; i++)
		usable += tlsa_usable(&tlsa[i]);
	return usable;
}

/*
 * Adds the usable TLSA records; OpenSSL may still refuse (0) what it
 * cannot parse (e.g. a selector 1 record that is no public key).
 * Returns the number added.
 */
static size_t
add_tlsa(SSL *ssl, const struct tls_client_peer *peer)
{
	size_t i, n = 0;
	int rc;

	for (i = 0; i < peer->ntlsa; i++) {
		const struct dns_tlsa *r = &peer->tlsa[i];

		if (!tlsa_usable(r))
			continue;
		rc = SSL_dane_tlsa_add(ssl, r->usage, r->selector, r->mtype,
		    r->data, r->len);
		if (rc > 0)
			n++;
		else
			ERR_clear_error();
	}
	return n;
}

SSL *
tls_client_ssl(struct tls_client *t, const struct tls_client_peer *peer,
    const char **err_r)
{
	struct verify_state *st;
	SSL *ssl;

	ERR_clear_error();
	if (peer->level == TLS_LEV_NONE ||
	    (unsigned)peer->level > TLS_LEV_SECURE) {
		*err_r = "no TLS at security level none";
		return NULL;
	}
	if ((ssl = SSL_new(t->ctx)) == NULL)
		fatal("SSL_new: %s", ssl_reason());
	st = xcalloc(1, sizeof(*st));
	st->have_ca = t->have_ca;
	str_copy(st->prefix, t->prefix, sizeof(st->prefix));
	st->chain_err = X509_V_OK;
	if (SSL_set_ex_data(ssl, state_index, st) != 1) {
		free(st);
		fatal("SSL_set_ex_data: %s", ssl_reason());
	}
	if (set_versions(t, ssl, peer, err_r) == -1)
		goto fail;
	/* RFC 6066 §3: a DNS name; address literals are not sent. */
	if (peer->servername != NULL && *peer->servername != '\0' &&
	    !is_address(peer->servername) &&
	    SSL_set_tlsext_host_name(ssl, peer->servername) != 1) {
		*err_r = ERR_FMT("invalid TLS server name: %s", ssl_reason());
		goto fail;
	}
	switch (peer->level) {
	case TLS_LEV_DANE:
		if (peer->nmatch == 0 || peer->match == NULL ||
		    peer->match[0] == NULL || peer->match[0][0] == '.' ||
		    !match_name_valid(peer->match[0],
		    strlen(peer->match[0]))) {
			*err_r = "DANE without a valid TLSA base domain";
			goto fail;
		}
		if (SSL_dane_enable(ssl, peer->match[0]) <= 0) {
			*err_r = ERR_FMT("cannot enable DANE for %s: %s",
			    peer->match[0], ssl_reason());
			goto fail;
		}
		/* RFC 7672 §3.1.1: DANE-EE ignores names and dates. */
		SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
		if (add_names(ssl, peer->match + 1, peer->nmatch - 1,
		    err_r) == -1)
			goto fail;
		if (add_tlsa(ssl, peer) == 0) {
			*err_r = "no usable TLSA records";
			goto fail;
		}
		st->dane = true;
		st->names = true;
		break;
	case TLS_LEV_VERIFY:
	case TLS_LEV_SECURE:
		if (peer->nmatch == 0 || peer->match == NULL) {
			*err_r = "no certificate match names";
			goto fail;
		}
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (add_names(ssl, peer->match, peer->nmatch, err_r) == -1)
			goto fail;
		st->names = true;
		break;
	default:
		break;
	}
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

/* The first name to match, for messages. */
static const char *
first_name(SSL *ssl)
{
	const char *name = X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl),
	    0);

	return name != NULL ? name : "the names required";
}

int
tls_client_check(SSL *ssl, const struct tls_client_peer *peer,
    enum tls_trust *trust_r, const char **err_r)
{
	struct verify_state *st = SSL_get_ex_data(ssl, state_index);
	X509 *cert;
	long vr;

	*trust_r = TLS_TRUST_ANONYMOUS;
	if (st == NULL || !SSL_is_init_finished(ssl)) {
		*err_r = "TLS handshake not completed";
		return -1;
	}
	cert = SSL_get0_peer_certificate(ssl);
	vr = SSL_get_verify_result(ssl);
	if (cert == NULL)
		*trust_r = TLS_TRUST_ANONYMOUS;
	else if (st->dane)
		*trust_r = vr == X509_V_OK && st->chain_err == X509_V_OK &&
		    !st->name_err && SSL_get0_dane_authority(ssl, NULL,
		    NULL) >= 0 ? TLS_TRUST_VERIFIED : TLS_TRUST_UNTRUSTED;
	else if (st->chain_err != X509_V_OK || (vr != X509_V_OK &&
	    vr != X509_V_ERR_HOSTNAME_MISMATCH))
		*trust_r = TLS_TRUST_UNTRUSTED;
	else if (st->names && !st->name_err)
		*trust_r = TLS_TRUST_VERIFIED;
	else
		*trust_r = TLS_TRUST_TRUSTED;

	switch (peer->level) {
	case TLS_LEV_MAY:
	case TLS_LEV_ENCRYPT:
		return 0;
	case TLS_LEV_DANE:
		if (*trust_r == TLS_TRUST_VERIFIED)
			return 0;
		if (cert == NULL)
			*err_r = "server certificate missing";
		else if (st->chain_err == X509_V_ERR_DANE_NO_MATCH ||
		    vr == X509_V_ERR_DANE_NO_MATCH)
			*err_r = "no TLSA record matches the server "
			    "certificate";
		else if (st->name_err)
			*err_r = "server certificate name does not match "
			    "the TLSA base domain";
		else
			*err_r = ERR_FMT("DANE verification failed: %s",
			    X509_verify_cert_error_string(st->chain_err !=
			    X509_V_OK ? st->chain_err : vr));
		return -1;
	case TLS_LEV_VERIFY:
	case TLS_LEV_SECURE:
		if (*trust_r == TLS_TRUST_VERIFIED)
			return 0;
		if (cert == NULL)
			*err_r = "server certificate missing";
		else if (!st->have_ca)
			*err_r = ERR_FMT("server certificate not verified: "
			    "no trust anchors (%s_tls_CAfile and "
			    "%s_tls_CApath are empty)", st->prefix,
			    st->prefix);
		else if (*trust_r == TLS_TRUST_UNTRUSTED)
			*err_r = ERR_FMT("server certificate not verified: "
			    "%s (depth %d)", X509_verify_cert_error_string(
			    st->chain_err != X509_V_OK ? st->chain_err : vr),
			    st->chain_depth);
		else
			*err_r = ERR_FMT("server certificate not verified: "
			    "no name matches %s%s", first_name(ssl),
			    peer->nmatch > 1 ? " (or the other names)" : "");
		return -1;
	default:
		*err_r = "no TLS at security level none";
		return -1;
	}
}
