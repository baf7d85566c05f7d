/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for tls_client.c: level and policy parsing with hostile
 * values, and real handshakes against an in-process OpenSSL server over a
 * socketpair for every security level: a test CA and server certificates
 * with the right name, a wrong name, an expired one and a self-signed one,
 * DANE-EE and DANE-TA records, a client certificate, protocol floors and
 * cipher grades, and hostile configurations.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "tls_client.h"
#include "tls_common.h"

static char dir[] = "/tmp/test_tls_client.XXXXXX";

static const char *const files[] = {
	"ca.pem", "other_ca.pem", "client.pem", "client_key.pem",
	"client_chain.pem", "other.key", "garbage.pem", "main.cf",
};

/* Keys and certificates, made once by setup(). */
static EVP_PKEY *ca_key, *other_ca_key, *srv_key, *client_key;
static X509 *ca, *other_ca;
static X509 *c_good;		/* mx.example.test, by ca */
static X509 *c_wrong;		/* mx.other.test, by ca */
static X509 *c_expired;		/* mx.example.test, by ca, expired */
static X509 *c_self;		/* mx.example.test, self-signed */
static X509 *c_nexthop;		/* example.test, by ca */
static X509 *c_other;		/* mx.example.test, by other_ca */
static X509 *c_client;		/* client.test, by ca */

static char *
path_of(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void
write_file(const char *name, const void *data, size_t len)
{
	char *path = path_of(name);
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
	free(path);
}

static void
write_pem(const char *name, EVP_PKEY *key, X509 *cert)
{
	char *path = path_of(name);
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	if (key != NULL)
		ck_assert_int_eq(PEM_write_PrivateKey(fp, key, NULL, NULL, 0,
		    NULL, NULL), 1);
	if (cert != NULL)
		ck_assert_int_eq(PEM_write_X509(fp, cert), 1);
	ck_assert_int_eq(fclose(fp), 0);
	free(path);
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	ck_assert_ptr_nonnull(ext);
	ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/*
 * A certificate for key with subject CN cn (and that DNS name, unless
 * ca_cert), signed by issuer (NULL: self-signed), valid from now + from
 * to now + to seconds.
 */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, bool ca_cert, X509 *issuer,
    EVP_PKEY *issuer_key, long from, long to)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name;
	char *san;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	ck_assert_int_eq(X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name), 1);
	ck_assert_int_eq(X509_set_pubkey(x, key), 1);
	if (ca_cert) {
		add_ext(x, issuer != NULL ? issuer : x,
		    NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, issuer != NULL ? issuer : x, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
	} else {
		san = xasprintf("DNS:%s", cn);
		add_ext(x, issuer != NULL ? issuer : x, NID_subject_alt_name,
		    san);
		free(san);
	}
	ck_assert_int_gt(X509_sign(x, issuer_key != NULL ? issuer_key : key,
	    EVP_sha256()), 0);
	return x;
}

static const char garbage[] = "-----BEGIN CERTIFICATE-----\nnot base64!!\n"
    "-----END CERTIFICATE-----\n";

static void
setup(void)
{
	EVP_PKEY *other;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_ptr_nonnull(ca_key = EVP_EC_gen("P-256"));
	ck_assert_ptr_nonnull(other_ca_key = EVP_EC_gen("P-256"));
	ck_assert_ptr_nonnull(srv_key = EVP_EC_gen("P-256"));
	ck_assert_ptr_nonnull(client_key = EVP_EC_gen("P-256"));
	ck_assert_ptr_nonnull(other = EVP_EC_gen("P-256"));
	ca = make_cert(ca_key, "Test CA", true, NULL, NULL, -3600, 86400);
	other_ca = make_cert(other_ca_key, "Other CA", true, NULL, NULL,
	    -3600, 86400);
	c_good = make_cert(srv_key, "mx.example.test", false, ca, ca_key,
	    -3600, 86400);
	c_wrong = make_cert(srv_key, "mx.other.test", false, ca, ca_key,
	    -3600, 86400);
	c_expired = make_cert(srv_key, "mx.example.test", false, ca, ca_key,
	    -86400 * 2, -86400);
	c_self = make_cert(srv_key, "mx.example.test", false, NULL, NULL,
	    -3600, 86400);
	c_nexthop = make_cert(srv_key, "example.test", false, ca, ca_key,
	    -3600, 86400);
	c_other = make_cert(srv_key, "mx.example.test", false, other_ca,
	    other_ca_key, -3600, 86400);
	c_client = make_cert(client_key, "client.test", false, ca, ca_key,
	    -3600, 86400);
	write_pem("ca.pem", NULL, ca);
	write_pem("other_ca.pem", NULL, other_ca);
	write_pem("client.pem", NULL, c_client);
	write_pem("client_key.pem", client_key, NULL);
	write_pem("client_chain.pem", client_key, c_client);
	write_pem("other.key", other, NULL);
	write_file("garbage.pem", garbage, sizeof(garbage) - 1);
	EVP_PKEY_free(other);
}

static void
teardown(void)
{
	size_t i;
	char *path;

	for (i = 0; i < ARRAY_LEN(files); i++) {
		path = path_of(files[i]);
		unlink(path);
		free(path);
	}
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_ca_key);
	EVP_PKEY_free(srv_key);
	EVP_PKEY_free(client_key);
	X509_free(ca);
	X509_free(other_ca);
	X509_free(c_good);
	X509_free(c_wrong);
	X509_free(c_expired);
	X509_free(c_self);
	X509_free(c_nexthop);
	X509_free(c_other);
	X509_free(c_client);
}

static void
cleanup(void)
{
	mail_conf_unload();
}

/* tmpl with every "@D" replaced by dir (heap string). */
static char *
subst_dir(const char *tmpl)
{
	size_t n = 1, dlen = strlen(dir);
	const char *p;
	char *out, *o;

	for (p = tmpl; *p != '\0'; p++)
		n += p[0] == '@' && p[1] == 'D' ? dlen : 1;
	o = out = xmalloc(n);
	for (p = tmpl; *p != '\0'; p++) {
		if (p[0] == '@' && p[1] == 'D') {
			memcpy(o, dir, dlen);
			o += dlen;
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* Loads a main.cf of conf (with "@D" for dir). */
static void
load_conf(const char *conf)
{
	char *main_cf = subst_dir(conf);
	const char *err;

	write_file("main.cf", main_cf, strlen(main_cf));
	free(main_cf);
	if (mail_conf_try_load(dir, NULL, false, &err) == -1)
		ck_abort_msg("mail_conf_try_load: %s", err);
}

static struct tls_client *
client_new(const char *conf)
{
	struct tls_client *t;
	const char *err = NULL;

	load_conf(conf);
	if ((t = tls_client_new("smtp", &err)) == NULL)
		ck_abort_msg("tls_client_new: %s", err);
	return t;
}

static void
assert_matches(const char *s, const char *re)
{
	regex_t r;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&r, s, 0, NULL, 0) != 0)
		ck_abort_msg("\"%s\" does not match /%s/", s, re);
	regfree(&r);
}

/* The in-process server. */
struct server_opts {
	X509		*cert;
	X509		*chain;		/* sent after the leaf, or NULL */
	int		 max_version;	/* 0: any */
	const char	*ciphers;	/* TLS 1.2 list, or NULL */
	bool		 want_client_cert;
};

static int
accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

static SSL *
server_ssl(const struct server_opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL *ssl;

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(SSL_CTX_use_certificate(ctx, o->cert), 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey(ctx, srv_key), 1);
	if (o->chain != NULL)
		ck_assert_int_eq(SSL_CTX_add1_chain_cert(ctx, o->chain), 1);
	if (o->max_version != 0) {
		if (o->max_version < TLS1_2_VERSION)
			SSL_CTX_set_security_level(ctx, 0);
		ck_assert_int_eq(SSL_CTX_set_min_proto_version(ctx,
		    TLS1_VERSION), 1);
		ck_assert_int_eq(SSL_CTX_set_max_proto_version(ctx,
		    o->max_version), 1);
	}
	if (o->ciphers != NULL)
		ck_assert_int_eq(SSL_CTX_set_cipher_list(ctx, o->ciphers), 1);
	if (o->want_client_cert)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
	ssl = SSL_new(ctx);
	ck_assert_ptr_nonnull(ssl);
	SSL_CTX_free(ctx);
	return ssl;
}

static bool
step(SSL *ssl, int *done)
{
	int rc, e;

	if (*done)
		return true;
	rc = SSL_do_handshake(ssl);
	if (rc == 1) {
		*done = 1;
		return true;
	}
	e = SSL_get_error(ssl, rc);
	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/* Handshake over a nonblocking socketpair; true when both ends finished. */
static bool
handshake(SSL *server, SSL *client)
{
	int sv[2], sdone = 0, cdone = 0, i;
	char buf[8];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	SSL_set_fd(server, sv[0]);
	SSL_set_fd(client, sv[1]);
	SSL_set_accept_state(server);
	SSL_set_connect_state(client);
	for (i = 0; i < 1000 && !(sdone && cdone); i++) {
		if (!step(client, &cdone)) {
			(void)step(server, &sdone);
			break;
		}
		if (!step(server, &sdone))
			break;
	}
	ERR_clear_error();
	if (sdone && cdone) {
		ck_assert_int_eq(SSL_write(server, "hello", 5), 5);
		ck_assert_int_eq(SSL_read(client, buf, sizeof(buf)), 5);
		ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
	}
	close(sv[0]);
	close(sv[1]);
	return sdone && cdone;
}

/* The main.cf of most tests: the test CA trusted. */
#define CONF_CA		"smtp_tls_CAfile = @D/ca.pem\n"

START_TEST(test_level_names)
{
	static const char *const bad[] = {
		"", "MAY", "may ", " may", "maybe", "dane-only", "fingerprint",
		"none\n", "encrypt\r", "secure\x01", "v\xc3\xa9rify",
	};
	enum tls_level l;
	size_t i;

	ck_assert_int_eq(tls_level_parse("none", &l), 0);
	ck_assert_int_eq(l, TLS_LEV_NONE);
	ck_assert_int_eq(tls_level_parse("may", &l), 0);
	ck_assert_int_eq(l, TLS_LEV_MAY);
	ck_assert_int_eq(tls_level_parse("encrypt", &l), 0);
	ck_assert_int_eq(l, TLS_LEV_ENCRYPT);
	ck_assert_int_eq(tls_level_parse("dane", &l), 0);
	ck_assert_int_eq(l, TLS_LEV_DANE);
	ck_assert_int_eq(tls_level_parse("verify", &l), 0);
	ck_assert_int_eq(l, TLS_LEV_VERIFY);
	ck_assert_int_eq(tls_level_parse("secure", &l), 0);
	ck_assert_int_eq(l, TLS_LEV_SECURE);
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		l = TLS_LEV_SECURE;
		ck_assert_int_eq(tls_level_parse(bad[i], &l), -1);
	}
	for (l = TLS_LEV_NONE; l <= TLS_LEV_SECURE; l++) {
		enum tls_level back;

		ck_assert_int_eq(tls_level_parse(tls_level_name(l), &back), 0);
		ck_assert_int_eq(back, l);
	}
	ck_assert_str_eq(tls_level_name((enum tls_level)99), "unknown");
	ck_assert_str_eq(tls_trust_name(TLS_TRUST_ANONYMOUS), "Anonymous");
	ck_assert_str_eq(tls_trust_name(TLS_TRUST_UNTRUSTED), "Untrusted");
	ck_assert_str_eq(tls_trust_name(TLS_TRUST_TRUSTED), "Trusted");
	ck_assert_str_eq(tls_trust_name(TLS_TRUST_VERIFIED), "Verified");
}
END_TEST

static const struct {
	const char *value;
	int rc;
	enum tls_level level;
	const char *match;	/* joined with '|', or NULL */
	const char *protocols, *ciphers;
	const char *err;	/* regex */
} policy_cases[] = {
	{ "may", 0, TLS_LEV_MAY, NULL, NULL, NULL, NULL },
	{ "  none  ", 0, TLS_LEV_NONE, NULL, NULL, NULL, NULL },
	{ "encrypt protocols=>=TLSv1.3 ciphers=high", 0, TLS_LEV_ENCRYPT,
	  NULL, ">=TLSv1.3", "high", NULL },
	{ "secure match=nexthop:dot-nexthop", 0, TLS_LEV_SECURE,
	  "nexthop|dot-nexthop", NULL, NULL, NULL },
	{ "verify\tmatch=hostname:.example.test:mx_1.example.test", 0,
	  TLS_LEV_VERIFY, "hostname|.example.test|mx_1.example.test", NULL,
	  NULL, NULL },
	{ "dane match=mx.example.test", 0, TLS_LEV_DANE, "mx.example.test",
	  NULL, NULL, NULL },
	{ "", -1, 0, NULL, NULL, NULL, "empty" },
	{ "   ", -1, 0, NULL, NULL, NULL, "empty" },
	{ "maybe", -1, 0, NULL, NULL, NULL, "unknown TLS security level" },
	{ "MAY", -1, 0, NULL, NULL, NULL, "unknown TLS security level" },
	{ "match=x may", -1, 0, NULL, NULL, NULL, "unknown TLS security" },
	{ "may exclude=3DES", -1, 0, NULL, NULL, NULL, "unknown.*attribute" },
	{ "may match", -1, 0, NULL, NULL, NULL, "without '='" },
	{ "may match=x", -1, 0, NULL, NULL, NULL, "match= needs" },
	{ "secure match=", -1, 0, NULL, NULL, NULL, "invalid match" },
	{ "secure match=a::b", -1, 0, NULL, NULL, NULL, "invalid match" },
	{ "secure match=a:", -1, 0, NULL, NULL, NULL, "invalid match" },
	{ "secure match=.", -1, 0, NULL, NULL, NULL, "invalid match" },
	{ "secure match=a..b", -1, 0, NULL, NULL, NULL, "invalid match" },
	{ "secure match=a.b.", -1, 0, NULL, NULL, NULL, "invalid match" },
	{ "secure match=a/b", -1, 0, NULL, NULL, NULL, "invalid match" },
	{ "secure match=*.example.test", -1, 0, NULL, NULL, NULL,
	  "invalid match" },
	{ "secure match=x match=y", -1, 0, NULL, NULL, NULL, "duplicate" },
	{ "may protocols=TLSv1", -1, 0, NULL, NULL, NULL, "protocols=" },
	{ "may protocols=", -1, 0, NULL, NULL, NULL, "protocols=" },
	{ "may protocols=>=TLSv1.2 protocols=>=TLSv1.3", -1, 0, NULL, NULL,
	  NULL, "duplicate" },
	{ "may ciphers=low", -1, 0, NULL, NULL, NULL, "ciphers=" },
	{ "may ciphers=high ciphers=high", -1, 0, NULL, NULL, NULL,
	  "duplicate" },
	{ "may\r\n", -1, 0, NULL, NULL, NULL, "control" },
	{ "secure match=ex\xc3\xa4mple.test", -1, 0, NULL, NULL, NULL,
	  "control or non-ASCII" },
};

START_TEST(test_policy)
{
	struct tls_policy p;
	const char *err = NULL;
	char *joined;
	struct strv sv;
	size_t i;
	int rc;

	rc = tls_policy_parse(policy_cases[_i].value, &p, &err);
	ck_assert_int_eq(rc, policy_cases[_i].rc);
	if (rc == -1) {
		assert_matches(err, policy_cases[_i].err);
		/* Nothing is left allocated after a failure. */
		ck_assert_ptr_null(p.match);
		ck_assert_ptr_null(p.protocols);
		ck_assert_ptr_null(p.ciphers);
		return;
	}
	ck_assert_int_eq(p.level, policy_cases[_i].level);
	if (policy_cases[_i].match == NULL) {
		ck_assert_ptr_null(p.match);
	} else {
		ck_assert_ptr_nonnull(p.match);
		strv_init(&sv);
		for (i = 0; p.match[i] != NULL; i++)
			strv_push(&sv, p.match[i]);
		joined = strv_join(&sv, "|");
		ck_assert_str_eq(joined, policy_cases[_i].match);
		free(joined);
		strv_deinit(&sv);
	}
	if (policy_cases[_i].protocols == NULL)
		ck_assert_ptr_null(p.protocols);
	else
		ck_assert_str_eq(p.protocols, policy_cases[_i].protocols);
	if (policy_cases[_i].ciphers == NULL)
		ck_assert_ptr_null(p.ciphers);
	else
		ck_assert_str_eq(p.ciphers, policy_cases[_i].ciphers);
	tls_policy_deinit(&p);
	ck_assert_ptr_null(p.match);
}
END_TEST

START_TEST(test_policy_limits)
{
	struct tls_policy p;
	const char *err;
	char *v, *name;
	size_t i;
	int rc;

	/* 32 names are accepted, 33 are not. */
	v = xstrdup("secure match=a");
	for (i = 1; i < 32; i++) {
		name = xasprintf("%s:n%zu", v, i);
		free(v);
		v = name;
	}
	ck_assert_int_eq(tls_policy_parse(v, &p, &err), 0);
	ck_assert_str_eq(p.match[31], "n31");
	ck_assert_ptr_null(p.match[32]);
	tls_policy_deinit(&p);
	name = xasprintf("%s:one-more", v);
	ck_assert_int_eq(tls_policy_parse(name, &p, &err), -1);
	assert_matches(err, "too many");
	free(name);
	free(v);

	/* A 63-byte label is fine, 64 bytes is not. */
	v = xasprintf("verify match=%063d.test", 7);
	ck_assert_int_eq(tls_policy_parse(v, &p, &err), 0);
	tls_policy_deinit(&p);
	free(v);
	v = xasprintf("verify match=%064d.test", 7);
	ck_assert_int_eq(tls_policy_parse(v, &p, &err), -1);
	free(v);

	/* A name longer than 253 bytes. */
	v = xasprintf("verify match=%s", "");
	for (i = 0; i < 26; i++) {
		name = xasprintf("%s%sabcdefghi", v, i == 0 ? "" : ".");
		free(v);
		v = name;
	}
	rc = tls_policy_parse(v, &p, &err);
	ck_assert_int_eq(rc, -1);
	assert_matches(err, "invalid match");
	free(v);

	/* A whole value over the limit, even when each part is valid. */
	v = xmalloc(4000);
	str_copy(v, "may", 4000);
	memset(v + 3, ' ', 3000);
	v[3000] = '\0';
	ck_assert_int_eq(tls_policy_parse(v, &p, &err), -1);
	assert_matches(err, "too long");
	free(v);
}
END_TEST

/* One handshake case. */
struct hs_case {
	const char	*conf;
	enum tls_level	 level;
	X509		**cert;
	X509		**chain;
	const char	*match[3];
	enum tls_trust	 trust;
	int		 rc;
	const char	*err;		/* regex of err_r when rc == -1 */
};

static const struct hs_case hs_cases[] = {
	/* 0: opportunistic TLS takes anything and says what it got. */
	{ "", TLS_LEV_MAY, &c_self, NULL, { NULL }, TLS_TRUST_UNTRUSTED, 0,
	  NULL },
	{ "", TLS_LEV_ENCRYPT, &c_self, NULL, { NULL }, TLS_TRUST_UNTRUSTED,
	  0, NULL },
	{ CONF_CA, TLS_LEV_MAY, &c_good, NULL, { NULL }, TLS_TRUST_TRUSTED,
	  0, NULL },
	{ CONF_CA, TLS_LEV_ENCRYPT, &c_expired, NULL, { NULL },
	  TLS_TRUST_UNTRUSTED, 0, NULL },
	/* 4: verify */
	{ CONF_CA, TLS_LEV_VERIFY, &c_good, NULL, { "mx.example.test" },
	  TLS_TRUST_VERIFIED, 0, NULL },
	{ CONF_CA, TLS_LEV_VERIFY, &c_good, NULL, { "MX.Example.TEST" },
	  TLS_TRUST_VERIFIED, 0, NULL },
	{ CONF_CA, TLS_LEV_VERIFY, &c_wrong, NULL, { "mx.example.test" },
	  TLS_TRUST_TRUSTED, -1,
	  "^server certificate not verified: no name matches "
	  "mx\\.example\\.test$" },
	{ CONF_CA, TLS_LEV_VERIFY, &c_other, NULL, { "mx.example.test" },
	  TLS_TRUST_UNTRUSTED, -1, "not verified: unable to get local "
	  "issuer" },
	{ CONF_CA, TLS_LEV_VERIFY, &c_expired, NULL, { "mx.example.test" },
	  TLS_TRUST_UNTRUSTED, -1, "not verified: certificate has expired" },
	{ CONF_CA, TLS_LEV_VERIFY, &c_self, NULL, { "mx.example.test" },
	  TLS_TRUST_UNTRUSTED, -1, "not verified: self-signed" },
	/* 10: a wrong name and a wrong chain: the chain is what counts. */
	{ "smtp_tls_CAfile = @D/other_ca.pem\n", TLS_LEV_VERIFY, &c_wrong,
	  NULL, { "mx.example.test" }, TLS_TRUST_UNTRUSTED, -1,
	  "not verified" },
	{ "", TLS_LEV_VERIFY, &c_good, NULL, { "mx.example.test" },
	  TLS_TRUST_UNTRUSTED, -1, "smtp_tls_CAfile and smtp_tls_CApath "
	  "are empty" },
	{ CONF_CA, TLS_LEV_VERIFY, &c_good, NULL,
	  { "a.example.test", "mx.example.test" }, TLS_TRUST_VERIFIED, 0,
	  NULL },
	/* 13: secure with nexthop and dot-nexthop expanded */
	{ CONF_CA, TLS_LEV_SECURE, &c_nexthop, NULL,
	  { "example.test", ".example.test" }, TLS_TRUST_VERIFIED, 0, NULL },
	{ CONF_CA, TLS_LEV_SECURE, &c_good, NULL,
	  { "example.test", ".example.test" }, TLS_TRUST_VERIFIED, 0, NULL },
	{ CONF_CA, TLS_LEV_SECURE, &c_good, NULL, { "example.test" },
	  TLS_TRUST_TRUSTED, -1, "no name matches example\\.test$" },
	{ CONF_CA, TLS_LEV_SECURE, &c_nexthop, NULL, { ".example.test" },
	  TLS_TRUST_TRUSTED, -1, "no name matches \\.example\\.test$" },
	{ CONF_CA, TLS_LEV_SECURE, &c_wrong, NULL,
	  { "example.test", ".example.test" }, TLS_TRUST_TRUSTED, -1,
	  "no name matches example\\.test \\(or the other names\\)$" },
	{ CONF_CA, TLS_LEV_SECURE, &c_self, NULL,
	  { "example.test", ".example.test" }, TLS_TRUST_UNTRUSTED, -1,
	  "not verified" },
	/* 19: a chain the server sends does not make its CA trusted. */
	{ CONF_CA, TLS_LEV_VERIFY, &c_other, &other_ca,
	  { "mx.example.test" }, TLS_TRUST_UNTRUSTED, -1, "not verified" },
};

static void
run_case(const struct hs_case *c)
{
	struct tls_client *t = client_new(c->conf);
	struct server_opts so = { .cert = *c->cert };
	struct tls_client_peer peer = {
		.level = c->level,
		.servername = "mx.example.test",
		.match = c->match,
	};
	enum tls_trust trust = TLS_TRUST_VERIFIED;
	const char *err = NULL, *sni;
	SSL *s, *cl;
	int rc;

	while (peer.nmatch < ARRAY_LEN(c->match) &&
	    c->match[peer.nmatch] != NULL)
		peer.nmatch++;
	if (c->chain != NULL)
		so.chain = *c->chain;
	s = server_ssl(&so);
	cl = tls_client_ssl(t, &peer, &err);
	if (cl == NULL)
		ck_abort_msg("tls_client_ssl: %s", err);
	ck_assert(handshake(s, cl));
	sni = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
	ck_assert_ptr_nonnull(sni);
	ck_assert_str_eq(sni, "mx.example.test");
	rc = tls_client_check(cl, &peer, &trust, &err);
	ck_assert_msg(trust == c->trust, "trust %s, expected %s",
	    tls_trust_name(trust), tls_trust_name(c->trust));
	if (rc == -1 && c->rc == 0)
		ck_abort_msg("tls_client_check: %s", err);
	ck_assert_int_eq(rc, c->rc);
	if (rc == -1)
		assert_matches(err, c->err);
	SSL_free(s);
	SSL_free(cl);
	tls_client_free(&t);
	ck_assert_ptr_null(t);
}

START_TEST(test_handshake)
{
	run_case(&hs_cases[_i]);
}
END_TEST

/* A TLSA record of cert: selector 1 = SPKI, 0 = whole; mtype 0/1/2. */
static struct dns_tlsa
tlsa_of(X509 *cert, uint8_t usage, uint8_t selector, uint8_t mtype,
    unsigned char *buf, size_t size)
{
	struct dns_tlsa r = { usage, selector, mtype, buf, 0 };
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int len;

	if (selector == 1)
		len = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
	else
		len = i2d_X509(cert, &der);
	ck_assert_int_gt(len, 0);
	if (mtype == 0) {
		ck_assert_uint_le((size_t)len, size);
		memcpy(buf, der, (size_t)len);
		r.len = (size_t)len;
	} else {
		ck_assert_int_eq(EVP_Digest(der, (size_t)len, buf, &mdlen,
		    mtype == 1 ? EVP_sha256() : EVP_sha512(), NULL), 1);
		r.len = mdlen;
	}
	OPENSSL_free(der);
	return r;
}

struct dane_case {
	X509		**cert;		/* the server's */
	X509		**chain;
	X509		**tlsa_cert;
	uint8_t		 usage, selector, mtype;
	bool		 corrupt;	/* flip a bit of the data */
	int		 rc;
	const char	*err;
};

static const struct dane_case dane_cases[] = {
	/* 0: DANE-EE: no PKIX, no names, no dates (RFC 7672 §3.1.1) */
	{ &c_self, NULL, &c_self, 3, 1, 1, false, 0, NULL },
	{ &c_wrong, NULL, &c_wrong, 3, 1, 1, false, 0, NULL },
	{ &c_expired, NULL, &c_expired, 3, 1, 1, false, 0, NULL },
	{ &c_other, NULL, &c_other, 3, 0, 1, false, 0, NULL },
	{ &c_self, NULL, &c_self, 3, 1, 2, false, 0, NULL },
	{ &c_self, NULL, &c_self, 3, 0, 0, false, 0, NULL },
	/* 6: a record that does not match */
	{ &c_self, NULL, &c_self, 3, 1, 1, true, -1,
	  "no TLSA record matches" },
	{ &c_good, NULL, &c_wrong, 3, 0, 1, true, -1,
	  "no TLSA record matches" },
	/* 8: DANE-TA: the chain up to the TA, and the name */
	{ &c_good, &ca, &ca, 2, 0, 1, false, 0, NULL },
	{ &c_good, &ca, &ca, 2, 1, 1, false, 0, NULL },
	{ &c_wrong, &ca, &ca, 2, 0, 1, false, -1, "name" },
	{ &c_other, &other_ca, &ca, 2, 0, 1, false, -1,
	  "no TLSA record matches" },
	{ &c_good, &ca, &ca, 2, 0, 1, true, -1, "no TLSA record matches" },
	/* 13: DANE-TA does not waive the leaf's dates */
	{ &c_expired, &ca, &ca, 2, 0, 1, false, -1, "expired" },
};

START_TEST(test_dane)
{
	const struct dane_case *c = &dane_cases[_i];
	struct tls_client *t = client_new("");
	struct server_opts so = { .cert = *c->cert };
	static const char *const match[] = { "mx.example.test" };
	unsigned char data[2048];
	struct dns_tlsa r[2];
	struct tls_client_peer peer = {
		.level = TLS_LEV_DANE,
		.servername = "mx.example.test",
		.match = match,
		.nmatch = 1,
		.tlsa = r,
		.ntlsa = 2,
	};
	enum tls_trust trust;
	const char *err = NULL;
	SSL *s, *cl;
	int rc;

	if (c->chain != NULL)
		so.chain = *c->chain;
	/* An unusable PKIX-EE record of the right certificate comes first. */
	r[0] = tlsa_of(*c->cert, 1, 1, 1, data + 1024, 1024);
	r[1] = tlsa_of(*c->tlsa_cert, c->usage, c->selector, c->mtype, data,
	    1024);
	if (c->corrupt)
		data[r[1].len - 1] ^= 0x01;
	s = server_ssl(&so);
	cl = tls_client_ssl(t, &peer, &err);
	if (cl == NULL)
		ck_abort_msg("tls_client_ssl: %s", err);
	ck_assert(handshake(s, cl));
	rc = tls_client_check(cl, &peer, &trust, &err);
	if (rc == -1 && c->rc == 0)
		ck_abort_msg("tls_client_check: %s", err);
	ck_assert_int_eq(rc, c->rc);
	if (rc == 0) {
		ck_assert_int_eq(trust, TLS_TRUST_VERIFIED);
	} else {
		ck_assert_int_ne(trust, TLS_TRUST_VERIFIED);
		assert_matches(err, c->err);
	}
	SSL_free(s);
	SSL_free(cl);
	tls_client_free(&t);
}
END_TEST

/* RFC 7672 §3.1: PKIX-TA(0) and PKIX-EE(1) are not usable for SMTP. */
START_TEST(test_dane_unusable)
{
	struct tls_client *t = client_new(CONF_CA);
	static const char *const match[] = { "mx.example.test" };
	unsigned char d0[64], d1[64], d2[64];
	struct dns_tlsa r[4];
	struct tls_client_peer peer = {
		.level = TLS_LEV_DANE,
		.match = match,
		.nmatch = 1,
		.tlsa = r,
	};
	const char *err = NULL;
	SSL *cl;

	r[0] = tlsa_of(c_good, 0, 1, 1, d0, sizeof(d0));
	r[1] = tlsa_of(c_good, 1, 0, 1, d1, sizeof(d1));
	/* Selector 2 and matching type 3 do not exist. */
	r[2] = tlsa_of(c_good, 3, 1, 1, d2, sizeof(d2));
	r[2].selector = 2;
	r[3] = tlsa_of(c_good, 3, 1, 1, d2, sizeof(d2));
	r[3].mtype = 3;
	peer.ntlsa = 4;
	ck_assert_uint_eq(tls_client_dane_usable(r, 4), 0);
	ck_assert_ptr_null(tls_client_ssl(t, &peer, &err));
	assert_matches(err, "no usable TLSA");
	/* A digest of the wrong length is not usable either. */
	r[3].mtype = 1;
	r[3].len = 31;
	ck_assert_uint_eq(tls_client_dane_usable(r, 4), 0);
	ck_assert_ptr_null(tls_client_ssl(t, &peer, &err));
	r[3].len = 33;
	ck_assert_uint_eq(tls_client_dane_usable(r, 4), 0);
	ck_assert_ptr_null(tls_client_ssl(t, &peer, &err));
	/* Full data (matching type 0) that is no public key. */
	r[3].mtype = 0;
	r[3].len = 32;
	ck_assert_uint_eq(tls_client_dane_usable(r, 4), 1);
	ck_assert_ptr_null(tls_client_ssl(t, &peer, &err));
	assert_matches(err, "no usable TLSA");
	/* None at all. */
	peer.ntlsa = 0;
	ck_assert_ptr_null(tls_client_ssl(t, &peer, &err));
	assert_matches(err, "no usable TLSA");
	/* Without the base domain. */
	peer.ntlsa = 4;
	r[3].mtype = 1;
	ck_assert_uint_eq(tls_client_dane_usable(r, 4), 1);
	ck_assert_uint_eq(tls_client_dane_usable(r, 3), 0);
	peer.nmatch = 0;
	ck_assert_ptr_null(tls_client_ssl(t, &peer, &err));
	/* A base domain that is not a name. */
	peer.nmatch = 1;
	peer.match = (const char *const[]){ ".example.test" };
	ck_assert_ptr_null(tls_client_ssl(t, &peer, &err));
	assert_matches(err, "base domain");
	peer.match = (const char *const[]){ "mx example.test" };
	ck_assert_ptr_null(tls_client_ssl(t, &peer, &err));
	assert_matches(err, "base domain");
	peer.match = match;
	/* With one usable record it works. */
	peer.nmatch = 1;
	cl = tls_client_ssl(t, &peer, &err);
	ck_assert_ptr_nonnull(cl);
	SSL_free(cl);
	tls_client_free(&t);
}
END_TEST

/* Calls that cannot work. */
START_TEST(test_misuse)
{
	struct tls_client *t = client_new(CONF_CA);
	static const char *const bad[] = { "mx..example.test" };
	struct tls_client_peer peer = { .level = TLS_LEV_NONE };
	enum tls_trust trust;
	const char *err = NULL;
	SSL *cl;

	ck_assert_ptr_null(tls_client_ssl(t, &peer, &err));
	assert_matches(err, "none");
	peer.level = TLS_LEV_VERIFY;
	ck_assert_ptr_null(tls_client_ssl(t, &peer, &err));
	assert_matches(err, "match names");
	peer.match = bad;
	peer.nmatch = 1;
	ck_assert_ptr_null(tls_client_ssl(t, &peer, &err));
	assert_matches(err, "invalid certificate match name");
	peer.level = TLS_LEV_MAY;
	peer.protocols = ">=SSLv3";
	ck_assert_ptr_null(tls_client_ssl(t, &peer, &err));
	assert_matches(err, "protocols.*>=SSLv3");
	peer.protocols = NULL;
	peer.ciphers = "export";
	ck_assert_ptr_null(tls_client_ssl(t, &peer, &err));
	assert_matches(err, "ciphers.*export");
	peer.ciphers = NULL;
	/* Before a handshake, no verdict. */
	cl = tls_client_ssl(t, &peer, &err);
	ck_assert_ptr_nonnull(cl);
	ck_assert_int_eq(tls_client_check(cl, &peer, &trust, &err), -1);
	assert_matches(err, "not completed");
	SSL_free(cl);
	tls_client_free(&t);
	tls_client_free(&t);
}
END_TEST

/* RFC 6066 §3: no address literal in SNI. */
START_TEST(test_sni)
{
	static const char *const names[] = {
		"192.0.2.1", "::1", "2001:db8::25", "mx.example.test", NULL,
	};
	struct tls_client *t = client_new("");
	struct server_opts so = { .cert = c_self };
	struct tls_client_peer peer = { .level = TLS_LEV_MAY };
	const char *err, *sni;
	SSL *s, *cl;
	size_t i;

	for (i = 0; i < ARRAY_LEN(names); i++) {
		peer.servername = names[i];
		s = server_ssl(&so);
		cl = tls_client_ssl(t, &peer, &err);
		ck_assert_ptr_nonnull(cl);
		ck_assert(handshake(s, cl));
		sni = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
		if (i == 3) {
			ck_assert_ptr_nonnull(sni);
			ck_assert_str_eq(sni, names[i]);
		} else {
			ck_assert_ptr_null(sni);
		}
		SSL_free(s);
		SSL_free(cl);
	}
	tls_client_free(&t);
}
END_TEST

/* The client certificate is sent when the server asks for one. */
static const struct {
	const char *conf;
	const char *cn;		/* what the server sees, or NULL */
} client_cert_cases[] = {
	{ "", NULL },
	{ "smtp_tls_cert_file = @D/client.pem\n"
	  "smtp_tls_key_file = @D/client_key.pem\n", "client.test" },
	{ "smtp_tls_cert_file = @D/client_chain.pem\n", "client.test" },
	{ "smtp_tls_chain_files = @D/client_chain.pem\n", "client.test" },
};

START_TEST(test_client_cert)
{
	struct tls_client *t = client_new(client_cert_cases[_i].conf);
	struct server_opts so = { .cert = c_good, .want_client_cert = true };
	struct tls_client_peer peer = { .level = TLS_LEV_ENCRYPT };
	enum tls_trust trust;
	const char *err;
	char cn[64];
	X509 *x;
	SSL *s, *cl;

	s = server_ssl(&so);
	cl = tls_client_ssl(t, &peer, &err);
	ck_assert_ptr_nonnull(cl);
	ck_assert(handshake(s, cl));
	ck_assert_int_eq(tls_client_check(cl, &peer, &trust, &err), 0);
	x = SSL_get0_peer_certificate(s);
	if (client_cert_cases[_i].cn == NULL) {
		ck_assert_ptr_null(x);
	} else {
		ck_assert_ptr_nonnull(x);
		ck_assert_int_gt(X509_NAME_get_text_by_NID(
		    X509_get_subject_name(x), NID_commonName, cn,
		    sizeof(cn)), 0);
		ck_assert_str_eq(cn, client_cert_cases[_i].cn);
	}
	SSL_free(s);
	SSL_free(cl);
	tls_client_free(&t);
}
END_TEST

/* Protocol floors and cipher grades, per level and per policy. */
static const struct {
	const char *conf;
	enum tls_level level;
	const char *protocols, *ciphers;	/* policy overrides */
	int server_max;
	const char *server_ciphers;
	bool ok;
	const char *version;
} version_cases[] = {
	{ "", TLS_LEV_MAY, NULL, NULL, TLS1_1_VERSION, NULL, false, NULL },
	{ "", TLS_LEV_ENCRYPT, NULL, NULL, TLS1_1_VERSION, NULL, false,
	  NULL },
	{ "", TLS_LEV_ENCRYPT, NULL, NULL, TLS1_2_VERSION, NULL, true,
	  "TLSv1.2" },
	{ "", TLS_LEV_ENCRYPT, NULL, NULL, 0, NULL, true, "TLSv1.3" },
	/* 4: mandatory protocols apply to encrypt, not to may */
	{ "smtp_tls_mandatory_protocols = >=TLSv1.3\n", TLS_LEV_ENCRYPT,
	  NULL, NULL, TLS1_2_VERSION, NULL, false, NULL },
	{ "smtp_tls_mandatory_protocols = >=TLSv1.3\n", TLS_LEV_MAY, NULL,
	  NULL, TLS1_2_VERSION, NULL, true, "TLSv1.2" },
	{ "smtp_tls_protocols = >=TLSv1.3\n", TLS_LEV_MAY, NULL, NULL,
	  TLS1_2_VERSION, NULL, false, NULL },
	{ "", TLS_LEV_MAY, ">=TLSv1.3", NULL, TLS1_2_VERSION, NULL, false,
	  NULL },
	{ "", TLS_LEV_MAY, ">=TLSv1.3", NULL, 0, NULL, true, "TLSv1.3" },
	/* 9: a CBC cipher without forward secrecy's AEAD: medium only */
	{ "", TLS_LEV_MAY, NULL, NULL, TLS1_2_VERSION,
	  "ECDHE-ECDSA-AES128-SHA", true, "TLSv1.2" },
	{ "smtp_tls_mandatory_ciphers = high\n", TLS_LEV_ENCRYPT, NULL,
	  NULL, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA", false, NULL },
	{ "smtp_tls_mandatory_ciphers = high\n", TLS_LEV_MAY, NULL, NULL,
	  TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA", true, "TLSv1.2" },
	{ "", TLS_LEV_ENCRYPT, NULL, "high", TLS1_2_VERSION,
	  "ECDHE-ECDSA-AES128-SHA", false, NULL },
	{ "smtp_tls_ciphers = high\n", TLS_LEV_MAY, NULL, "medium",
	  TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA", true, "TLSv1.2" },
};

START_TEST(test_versions)
{
	struct tls_client *t = client_new(version_cases[_i].conf);
	struct server_opts so = {
		.cert = c_self,
		.max_version = version_cases[_i].server_max,
		.ciphers = version_cases[_i].server_ciphers,
	};
	struct tls_client_peer peer = {
		.level = version_cases[_i].level,
		.protocols = version_cases[_i].protocols,
		.ciphers = version_cases[_i].ciphers,
	};
	const char *err;
	SSL *s, *cl;

	s = server_ssl(&so);
	cl = tls_client_ssl(t, &peer, &err);
	ck_assert_ptr_nonnull(cl);
	ck_assert_int_eq(handshake(s, cl), version_cases[_i].ok);
	if (version_cases[_i].ok)
		ck_assert_str_eq(SSL_get_version(cl),
		    version_cases[_i].version);
	SSL_free(s);
	SSL_free(cl);
	tls_client_free(&t);
}
END_TEST

/* Configurations that must be refused, and what the error names. */
static const struct {
	const char *conf;
	const char *err;
} bad_cases[] = {
	{ "smtp_tls_CAfile = @D/missing.pem\n",
	  "^smtp_tls_CAfile: cannot open .*/missing\\.pem: No such file" },
	{ "smtp_tls_CAfile = @D/garbage.pem\n",
	  "^smtp_tls_CAfile: cannot load CA certificates from "
	  ".*/garbage\\.pem" },
	{ "smtp_tls_CAfile = @D/other.key\n",
	  "^smtp_tls_CAfile: cannot load CA certificates" },
	{ "smtp_tls_CApath = @D/missing\n",
	  "^smtp_tls_CApath: .*/missing: No such file" },
	{ "smtp_tls_CApath = @D/ca.pem\n",
	  "^smtp_tls_CApath: .*/ca\\.pem: not a directory" },
	{ "smtp_tls_cert_file = @D/client.pem\n"
	  "smtp_tls_key_file = @D/other.key\n",
	  "^smtp_tls_key_file: the private key in .*/other\\.key does not "
	  "match the certificate in .*/client\\.pem" },
	{ "smtp_tls_cert_file = @D/missing.pem\n",
	  "^smtp_tls_cert_file: cannot open .*/missing\\.pem" },
	{ "smtp_tls_cert_file = @D/garbage.pem\n",
	  "^smtp_tls_cert_file: cannot load a certificate" },
	{ "smtp_tls_cert_file = @D/client.pem\n"
	  "smtp_tls_key_file = @D/missing.key\n",
	  "^smtp_tls_key_file: cannot open .*/missing\\.key" },
	{ "smtp_tls_chain_files = @D/client.pem\n",
	  "^smtp_tls_chain_files: no private key in .*/client\\.pem" },
	{ "smtp_tls_chain_files = @D/client_key.pem\n",
	  "^smtp_tls_chain_files: no certificate in .*/client_key\\.pem" },
	{ "smtp_tls_protocols = TLSv1.2\n",
	  "^smtp_tls_protocols: invalid value \"TLSv1\\.2\"" },
	{ "smtp_tls_protocols = >=TLSv1.2 junk\n",
	  "^smtp_tls_protocols: invalid value" },
	{ "smtp_tls_mandatory_protocols = >=SSLv3\n",
	  "^smtp_tls_mandatory_protocols: invalid value \">=SSLv3\"" },
	{ "smtp_tls_ciphers = low\n",
	  "^smtp_tls_ciphers: invalid value \"low\"" },
	{ "smtp_tls_mandatory_ciphers = null\n",
	  "^smtp_tls_mandatory_ciphers: invalid value \"null\"" },
};

START_TEST(test_bad_config)
{
	const char *err = NULL;

	load_conf(bad_cases[_i].conf);
	ck_assert_ptr_null(tls_client_new("smtp", &err));
	assert_matches(err, bad_cases[_i].err);
	ck_assert_int_eq(ERR_peek_error(), 0);
}
END_TEST

START_TEST(test_capath)
{
	struct tls_client *t = client_new("smtp_tls_CApath = @D\n");
	const char *err;

	/* A directory without hashed names trusts nothing but is valid. */
	ck_assert_ptr_nonnull(t);
	tls_client_free(&t);
	ck_assert_ptr_null(tls_client_new("smtp_tls_prefix_that_is_far_"
	    "too_long_for_anything", &err));
	assert_matches(err, "too long");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("tls_client");
	TCase *tc = tcase_create("tls_client");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_checked_fixture(tc, NULL, cleanup);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_level_names);
	tcase_add_loop_test(tc, test_policy, 0, ARRAY_LEN(policy_cases));
	tcase_add_test(tc, test_policy_limits);
	tcase_add_loop_test(tc, test_handshake, 0, ARRAY_LEN(hs_cases));
	tcase_add_loop_test(tc, test_dane, 0, ARRAY_LEN(dane_cases));
	tcase_add_test(tc, test_dane_unusable);
	tcase_add_test(tc, test_misuse);
	tcase_add_test(tc, test_sni);
	tcase_add_loop_test(tc, test_client_cert, 0,
	    ARRAY_LEN(client_cert_cases));
	tcase_add_loop_test(tc, test_versions, 0, ARRAY_LEN(version_cases));
	tcase_add_loop_test(tc, test_bad_config, 0, ARRAY_LEN(bad_cases));
	tcase_add_test(tc, test_capath);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
