/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for tls_server.c: contexts built from a temporary main.cf,
 * real handshakes with an OpenSSL client over a socketpair, session
 * resumption through tickets, and hostile configurations.
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

#include "log.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "tls_server.h"

static char dir[] = "/tmp/test_tls_server.XXXXXX";

/* Files made by setup() in dir. */
static const char *const files[] = {
	"cert.pem", "key.pem", "other.key", "chain.pem", "rsa_chain.pem",
	"certonly_chain.pem", "mismatch_chain.pem", "truncated_chain.pem",
	"garbage.pem", "binary.pem", "main.cf", "data/tls_ticket.key",
};

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

static X509 *
make_cert(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *name;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	ck_assert_int_eq(X509_set_issuer_name(x, name), 1);
	ck_assert_int_eq(X509_set_pubkey(x, key), 1);
	ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
	return x;
}

/* Writes the PEM of a key and/or a certificate to dir/name. */
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

static const char garbage[] = "-----BEGIN CERTIFICATE-----\nnot base64!!\n"
    "-----END CERTIFICATE-----\n";
static const char binary[] = "\0\x01\xff\r\n-----BEGIN";

static void
setup(void)
{
	EVP_PKEY *ec, *other, *rsa;
	X509 *cert, *rsa_cert;
	char *path, *text;
	size_t len;
	FILE *fp;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = path_of("data");
	ck_assert_int_eq(mkdir(path, 0700), 0);
	free(path);
	ec = EVP_EC_gen("P-256");
	other = EVP_EC_gen("P-256");
	rsa = EVP_RSA_gen(2048);
	ck_assert_ptr_nonnull(ec);
	ck_assert_ptr_nonnull(other);
	ck_assert_ptr_nonnull(rsa);
	cert = make_cert(ec, "mail.test");
	rsa_cert = make_cert(rsa, "mail.test");
	write_pem("cert.pem", NULL, cert);
	write_pem("key.pem", ec, NULL);
	write_pem("other.key", other, NULL);
	write_pem("chain.pem", ec, cert);
	write_pem("rsa_chain.pem", rsa, rsa_cert);
	write_pem("certonly_chain.pem", NULL, cert);
	write_pem("mismatch_chain.pem", other, cert);
	write_file("garbage.pem", garbage, sizeof(garbage) - 1);
	write_file("binary.pem", binary, sizeof(binary) - 1);

	/* A key followed by a certificate cut in the middle. */
	path = path_of("chain.pem");
	fp = fopen(path, "r");
	free(path);
	ck_assert_ptr_nonnull(fp);
	text = xcalloc(1, 8192);
	len = fread(text, 1, 8191, fp);
	fclose(fp);
	ck_assert_uint_gt(len, 400);
	write_file("truncated_chain.pem", text, len - 200);
	free(text);

	EVP_PKEY_free(ec);
	EVP_PKEY_free(other);
	EVP_PKEY_free(rsa);
	X509_free(cert);
	X509_free(rsa_cert);
}

/* After each test: what a test may have written. */
static void
cleanup(void)
{
	char *path;

	path = path_of("data/tls_ticket.key");
	unlink(path);
	free(path);
	mail_conf_unload();
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
	path = path_of("data");
	rmdir(path);
	free(path);
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
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

/*
 * Loads main.cf: data_directory in dir, the EC certificate and key, then
 * extra (with "@D" for dir).
 */
static void
load_conf(const char *extra)
{
	char *main_cf, *more;
	const char *err;

	more = subst_dir(extra);
	main_cf = xasprintf("data_directory = %s/data\n"
	    "smtpd_tls_cert_file = %s/cert.pem\n"
	    "smtpd_tls_key_file = %s/key.pem\n%s", dir, dir, dir, more);
	write_file("main.cf", main_cf, strlen(main_cf));
	free(main_cf);
	free(more);
	if (mail_conf_try_load(dir, NULL, false, &err) == -1)
		ck_abort_msg("mail_conf_try_load: %s", err);
}

static struct tls_server *
server_new(void)
{
	const char *err = NULL;
	struct tls_server *t = tls_server_new("smtpd", &err);

	if (t == NULL)
		ck_abort_msg("tls_server_new: %s", err);
	return t;
}

static SSL_CTX *
client_ctx(int min, int max)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	ck_assert_ptr_nonnull(c);
	if (min < TLS1_2_VERSION)
		SSL_CTX_set_security_level(c, 0);
	ck_assert_int_eq(SSL_CTX_set_min_proto_version(c, min), 1);
	ck_assert_int_eq(SSL_CTX_set_max_proto_version(c, max), 1);
	SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	return c;
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

/*
 * A connection between server and client over a nonblocking socketpair.
 * Returns true when both ends finished the handshake; then some bytes go
 * from server to client so that the client reads TLS 1.3 tickets.  The
 * server's error, if any, is in server_err.
 */
static bool
handshake(SSL *server, SSL *client, char *server_err, size_t size)
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
	str_copy(server_err, "", size);
	for (i = 0; i < 1000 && !(sdone && cdone); i++) {
		if (!step(client, &cdone)) {
			ERR_clear_error();
			/* Let the server read the client's alert. */
			(void)step(server, &sdone);
			tls_server_error(server_err, size);
			break;
		}
		if (!step(server, &sdone)) {
			tls_server_error(server_err, size);
			break;
		}
	}
	if (sdone && cdone) {
		ck_assert_int_eq(SSL_write(server, "hello", 5), 5);
		ck_assert_int_eq(SSL_read(client, buf, sizeof(buf)), 5);
		ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
	}
	close(sv[0]);
	close(sv[1]);
	return sdone && cdone;
}

/* One connection; returns the client's session (caller frees). */
static SSL_SESSION *
connect_once(struct tls_server *t, SSL_CTX *cctx, SSL_SESSION *resume,
    bool *resumed_r, char *info, size_t size)
{
	SSL *s = tls_server_ssl(t), *c = SSL_new(cctx);
	SSL_SESSION *sess;
	char err[256];

	ck_assert_ptr_nonnull(c);
	if (resume != NULL)
		ck_assert_int_eq(SSL_set_session(c, resume), 1);
	if (!handshake(s, c, err, sizeof(err)))
		ck_abort_msg("handshake failed: %s", err);
	*resumed_r = tls_server_resumed(s);
	ck_assert_int_eq(*resumed_r, SSL_session_reused(c) == 1);
	if (info != NULL)
		tls_server_info(s, info, size);
	sess = SSL_get1_session(c);
	ck_assert_ptr_nonnull(sess);
	/* A connection closed without close_notify is not resumable. */
	SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(s);
	SSL_free(c);
	return sess;
}

static void
assert_matches(const char *s, const char *re)
{
	regex_t r;

	ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&r, s, 0, NULL, 0) != 0)
		ck_abort_msg("\"%s\" does not match /%s/", s, re);
	regfree(&r);
}

START_TEST(test_info)
{
	struct tls_server *t;
	SSL_CTX *c13, *c12;
	SSL_SESSION *sess;
	char info[TLS_INFO_MAX];
	bool resumed;
	SSL *s;

	load_conf("");
	t = server_new();
	c13 = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
	c12 = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
	sess = connect_once(t, c13, NULL, &resumed, info, sizeof(info));
	ck_assert(!resumed);
	assert_matches(info, "^TLSv1\\.3 with cipher TLS_[A-Z0-9_]+ "
	    "\\(256/256 bits\\)$");
	SSL_SESSION_free(sess);
	sess = connect_once(t, c12, NULL, &resumed, info, sizeof(info));
	ck_assert(!resumed);
	/* Forward secrecy and AEAD first, by server preference. */
	assert_matches(info, "^TLSv1\\.2 with cipher ECDHE-ECDSA-"
	    "(AES256-GCM-SHA384|AES128-GCM-SHA256|CHACHA20-POLY1305) "
	    "\\([0-9]+/[0-9]+ bits\\)$");
	SSL_SESSION_free(sess);

	/* Before a handshake there is nothing to describe. */
	s = tls_server_ssl(t);
	ck_assert_str_eq(tls_server_info(s, info, sizeof(info)),
	    "no TLS session");
	SSL_free(s);
	SSL_CTX_free(c13);
	SSL_CTX_free(c12);
	tls_server_free(&t);
	ck_assert_ptr_null(t);
	tls_server_free(&t);
}
END_TEST

/* A client limited to versions [min, max]: refused, accepted or not. */
static const struct {
	const char *conf;
	int min, max;
	bool ok;
	const char *version;
} version_cases[] = {
	{ "", TLS1_VERSION, TLS1_1_VERSION, false, NULL },
	{ "", TLS1_VERSION, TLS1_VERSION, false, NULL },
	{ "", TLS1_2_VERSION, TLS1_2_VERSION, true, "TLSv1.2" },
	{ "", TLS1_VERSION, TLS1_3_VERSION, true, "TLSv1.3" },
	{ "smtpd_tls_protocols = >=TLSv1.3\n", TLS1_2_VERSION, TLS1_2_VERSION,
	  false, NULL },
	{ "smtpd_tls_protocols = >=TLSv1.3\n", TLS1_2_VERSION, TLS1_3_VERSION,
	  true, "TLSv1.3" },
	{ "smtpd_tls_ciphers = high\n", TLS1_2_VERSION, TLS1_2_VERSION,
	  true, "TLSv1.2" },
};

START_TEST(test_versions)
{
	struct tls_server *t;
	SSL_CTX *cctx;
	SSL *s, *c;
	char err[256];
	bool ok;

	load_conf(version_cases[_i].conf);
	t = server_new();
	cctx = client_ctx(version_cases[_i].min, version_cases[_i].max);
	s = tls_server_ssl(t);
	c = SSL_new(cctx);
	ok = handshake(s, c, err, sizeof(err));
	ck_assert_int_eq(ok, version_cases[_i].ok);
	if (ok) {
		ck_assert_str_eq(tls_server_version(s),
		    version_cases[_i].version);
	} else {
		/* The server is the one that said no. */
		ck_assert_msg(strstr(err, "protocol") != NULL,
		    "server error: %s", err);
	}
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(cctx);
	tls_server_free(&t);
}
END_TEST

/* Cipher grades as a TLS 1.2 client limited to one cipher sees them. */
static const struct {
	const char *grade, *cipher;
	bool ok;
} cipher_cases[] = {
	{ "medium", "ECDHE-ECDSA-AES128-SHA", true },
	{ "high", "ECDHE-ECDSA-AES128-SHA", false },
	{ "high", "ECDHE-ECDSA-AES256-GCM-SHA384", true },
	{ "medium", "ECDHE-ECDSA-AES256-GCM-SHA384", true },
};

START_TEST(test_cipher_grades)
{
	struct tls_server *t;
	SSL_CTX *cctx;
	SSL *s, *c;
	char conf[128], err[256];

	str_fmt_buf(conf, sizeof(conf), "smtpd_tls_ciphers = %s\n",
	    cipher_cases[_i].grade);
	load_conf(conf);
	t = server_new();
	cctx = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
	ck_assert_int_eq(SSL_CTX_set_cipher_list(cctx,
	    cipher_cases[_i].cipher), 1);
	s = tls_server_ssl(t);
	c = SSL_new(cctx);
	ck_assert_int_eq(handshake(s, c, err, sizeof(err)),
	    cipher_cases[_i].ok);
	if (cipher_cases[_i].ok)
		ck_assert_str_eq(SSL_CIPHER_get_name(SSL_get_current_cipher(s)),
		    cipher_cases[_i].cipher);
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(cctx);
	tls_server_free(&t);
}
END_TEST

/*
 * Resumption: with the same context, and with two contexts (two
 * processes) that share $data_directory/tls_ticket.key; for TLS 1.3 and
 * TLS 1.2 clients.
 */
START_TEST(test_resume)
{
	int max = _i == 0 ? TLS1_3_VERSION : TLS1_2_VERSION;
	struct tls_server *t1, *t2;
	SSL_SESSION *s1, *s2, *s3;
	SSL_CTX *cctx;
	struct stat st;
	char *keyfile;
	bool resumed;

	load_conf("");
	t1 = server_new();
	keyfile = path_of("data/tls_ticket.key");
	ck_assert_int_eq(stat(keyfile, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_size, 32);
	free(keyfile);
	t2 = server_new();
	cctx = client_ctx(TLS1_2_VERSION, max);

	s1 = connect_once(t1, cctx, NULL, &resumed, NULL, 0);
	ck_assert(!resumed);
	s2 = connect_once(t1, cctx, s1, &resumed, NULL, 0);
	ck_assert(resumed);
	s3 = connect_once(t2, cctx, s2, &resumed, NULL, 0);
	ck_assert(resumed);
	SSL_SESSION_free(s1);
	SSL_SESSION_free(s2);
	SSL_SESSION_free(s3);
	SSL_CTX_free(cctx);
	tls_server_free(&t1);
	tls_server_free(&t2);
}
END_TEST

struct warnings {
	char text[1024];
};

static void
warn_hook(enum log_level level, const char *msg, void *ctx)
{
	struct warnings *w = ctx;

	if (level == LOG_LVL_WARN)
		str_copy(w->text, msg, sizeof(w->text));
}

/*
 * Without a usable key file, each context has its own keys: it resumes
 * its own sessions but not another's, and says so in the log.
 */
static const struct {
	const char *conf;
	const char *keyfile;	/* written before, NULL: none */
	mode_t mode;
	const char *warning;
} private_key_cases[] = {
	{ "data_directory = @D/nonexistent\n", NULL, 0,
	  "/nonexistent/tls_ticket.key" },
	{ "", "short", 0600, "not 32 bytes" },
	{ "", "0123456789abcdef0123456789abcdefX", 0600, "not 32 bytes" },
	{ "", "0123456789abcdef0123456789abcdef", 0640,
	  "readable by group or other" },
	{ "", "0123456789abcdef0123456789abcdef", 0666, "writable" },
};

START_TEST(test_resume_private_keys)
{
	struct tls_server *t1, *t2;
	SSL_SESSION *s1, *s2, *s3;
	struct warnings w = { "" };
	SSL_CTX *cctx;
	char *keyfile;
	bool resumed;

	if (private_key_cases[_i].keyfile != NULL) {
		write_file("data/tls_ticket.key", private_key_cases[_i].keyfile,
		    strlen(private_key_cases[_i].keyfile));
		keyfile = path_of("data/tls_ticket.key");
		ck_assert_int_eq(chmod(keyfile, private_key_cases[_i].mode),
		    0);
		free(keyfile);
	}
	load_conf(private_key_cases[_i].conf);
	log_set_hook(warn_hook, &w);
	t1 = server_new();
	log_set_hook(NULL, NULL);
	ck_assert_msg(strstr(w.text, private_key_cases[_i].warning) != NULL,
	    "warning: %s", w.text);
	ck_assert(str_has_prefix(w.text, "TLS session tickets: "));
	t2 = server_new();
	cctx = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
	s1 = connect_once(t1, cctx, NULL, &resumed, NULL, 0);
	s2 = connect_once(t1, cctx, s1, &resumed, NULL, 0);
	ck_assert(resumed);
	s3 = connect_once(t2, cctx, s2, &resumed, NULL, 0);
	ck_assert(!resumed);
	SSL_SESSION_free(s1);
	SSL_SESSION_free(s2);
	SSL_SESSION_free(s3);
	SSL_CTX_free(cctx);
	tls_server_free(&t1);
	tls_server_free(&t2);
}
END_TEST

/* smtpd_tls_session_cache_timeout = 0: no tickets, no resumption. */
START_TEST(test_no_tickets)
{
	struct tls_server *t;
	SSL_SESSION *s1, *s2;
	SSL_CTX *cctx;
	struct stat st;
	char *keyfile;
	bool resumed;

	load_conf("smtpd_tls_session_cache_timeout = 0\n");
	t = server_new();
	keyfile = path_of("data/tls_ticket.key");
	ck_assert_int_eq(stat(keyfile, &st), -1);
	free(keyfile);
	cctx = client_ctx(TLS1_2_VERSION, _i == 0 ? TLS1_3_VERSION :
	    TLS1_2_VERSION);
	s1 = connect_once(t, cctx, NULL, &resumed, NULL, 0);
	s2 = connect_once(t, cctx, s1, &resumed, NULL, 0);
	ck_assert(!resumed);
	SSL_SESSION_free(s1);
	SSL_SESSION_free(s2);
	SSL_CTX_free(cctx);
	tls_server_free(&t);
}
END_TEST

/*
 * smtpd_tls_chain_files with an ECDSA and an RSA file: a client that
 * accepts only RSA signatures gets the RSA certificate.
 */
START_TEST(test_chain_files)
{
	static const struct {
		const char *sigalgs;
		int type;
	} want[] = {
		{ "ECDSA+SHA256", EVP_PKEY_EC },
		{ "RSA+SHA256:rsa_pss_rsae_sha256", EVP_PKEY_RSA },
	};
	struct tls_server *t;
	SSL_CTX *cctx;
	EVP_PKEY *pk;
	X509 *peer;
	char err[256];
	SSL *s, *c;
	size_t i;

	load_conf("smtpd_tls_cert_file =\n"
	    "smtpd_tls_chain_files = @D/chain.pem, @D/rsa_chain.pem\n");
	t = server_new();
	for (i = 0; i < ARRAY_LEN(want); i++) {
		cctx = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
		ck_assert_int_eq(SSL_CTX_set1_sigalgs_list(cctx,
		    want[i].sigalgs), 1);
		s = tls_server_ssl(t);
		c = SSL_new(cctx);
		if (!handshake(s, c, err, sizeof(err)))
			ck_abort_msg("handshake: %s", err);
		peer = SSL_get1_peer_certificate(c);
		ck_assert_ptr_nonnull(peer);
		pk = X509_get0_pubkey(peer);
		ck_assert_int_eq(EVP_PKEY_get_base_id(pk), want[i].type);
		X509_free(peer);
		SSL_free(s);
		SSL_free(c);
		SSL_CTX_free(cctx);
	}
	tls_server_free(&t);
}
END_TEST

/* Hostile configurations: each is refused with the parameter and file. */
static const struct {
	const char *conf;	/* "@D" is the directory */
	const char *error;	/* "@D" is the directory */
} bad_cases[] = {
	{ "smtpd_tls_cert_file =\nsmtpd_tls_key_file =\n",
	  "no server certificate: set smtpd_tls_cert_file or "
	  "smtpd_tls_chain_files" },
	{ "smtpd_tls_cert_file = @D/missing.pem\n",
	  "smtpd_tls_cert_file: cannot open @D/missing.pem: No such file "
	  "or directory" },
	{ "smtpd_tls_key_file = @D/missing.key\n",
	  "smtpd_tls_key_file: cannot open @D/missing.key: No such file "
	  "or directory" },
	{ "smtpd_tls_key_file = @D/other.key\n",
	  "smtpd_tls_key_file: the private key in @D/other.key does not "
	  "match the certificate in @D/cert.pem" },
	{ "smtpd_tls_cert_file = @D/garbage.pem\n",
	  "smtpd_tls_cert_file: cannot load a certificate chain from "
	  "@D/garbage.pem: " },
	{ "smtpd_tls_cert_file = @D/binary.pem\n",
	  "smtpd_tls_cert_file: cannot load a certificate chain from "
	  "@D/binary.pem: " },
	{ "smtpd_tls_cert_file = @D\n",
	  "smtpd_tls_cert_file: cannot load a certificate chain from "
	  "@D: " },
	{ "smtpd_tls_cert_file = @D/key.pem\n",
	  "smtpd_tls_cert_file: cannot load a certificate chain from "
	  "@D/key.pem: " },
	{ "smtpd_tls_key_file = @D/garbage.pem\n",
	  "smtpd_tls_key_file: cannot load a private key from "
	  "@D/garbage.pem: " },
	{ "smtpd_tls_key_file = @D/cert.pem\n",
	  "smtpd_tls_key_file: cannot load a private key from "
	  "@D/cert.pem: " },
	{ "smtpd_tls_protocols = >=TLSv1.1\n",
	  "smtpd_tls_protocols: invalid value \">=TLSv1.1\" (use >=TLSv1.2 "
	  "or >=TLSv1.3)" },
	{ "smtpd_tls_protocols = TLSv1.2\n",
	  "smtpd_tls_protocols: invalid value \"TLSv1.2\"" },
	{ "smtpd_tls_protocols = >=TLSv1.2 !SSLv3\n",
	  "smtpd_tls_protocols: invalid value \">=TLSv1.2 !SSLv3\"" },
	{ "smtpd_tls_protocols = >=tlsv1.3\xc3\xa9\n",
	  "smtpd_tls_protocols: invalid value \">=tlsv1.3\\xc3\\xa9\"" },
	{ "smtpd_tls_ciphers = low\n",
	  "smtpd_tls_ciphers: invalid value \"low\" (use medium or high)" },
	{ "smtpd_tls_ciphers = HIGH:!aNULL\n",
	  "smtpd_tls_ciphers: invalid value \"HIGH:!aNULL\"" },
	{ "smtpd_tls_ciphers = High\n",
	  "smtpd_tls_ciphers: invalid value \"High\"" },
	{ "smtpd_tls_chain_files = @D/missing.pem\n",
	  "smtpd_tls_chain_files: cannot open @D/missing.pem: No such "
	  "file or directory" },
	{ "smtpd_tls_chain_files = @D/certonly_chain.pem\n",
	  "smtpd_tls_chain_files: no private key in "
	  "@D/certonly_chain.pem: " },
	{ "smtpd_tls_chain_files = @D/key.pem\n",
	  "smtpd_tls_chain_files: no certificate in @D/key.pem: " },
	{ "smtpd_tls_chain_files = @D/mismatch_chain.pem\n",
	  "smtpd_tls_chain_files: the private key in "
	  "@D/mismatch_chain.pem does not match its certificate" },
	{ "smtpd_tls_chain_files = @D/truncated_chain.pem\n",
	  "smtpd_tls_chain_files: no certificate in "
	  "@D/truncated_chain.pem: " },
	{ "smtpd_tls_chain_files = @D/chain.pem @D/garbage.pem\n",
	  "smtpd_tls_chain_files: no private key in @D/garbage.pem: " },
	{ "smtpd_tls_chain_files = @D/binary.pem\n",
	  "smtpd_tls_chain_files: no private key in @D/binary.pem: " },
};

START_TEST(test_bad_config)
{
	const char *err = NULL;
	struct tls_server *t;
	char *want;

	load_conf(bad_cases[_i].conf);
	t = tls_server_new("smtpd", &err);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(err);
	want = subst_dir(bad_cases[_i].error);
	ck_assert_msg(str_has_prefix(err, want), "got: %s\nwant: %s", err,
	    want);
	free(want);
	/* Nothing is left behind in OpenSSL's error queue. */
	ck_assert_uint_eq(ERR_peek_error(), 0);
}
END_TEST

START_TEST(test_error_text)
{
	char buf[128];

	ck_assert_str_eq(tls_server_error(buf, sizeof(buf)),
	    "no TLS error recorded");
	ERR_raise(ERR_LIB_SSL, SSL_R_UNSUPPORTED_PROTOCOL);
	ck_assert_str_eq(tls_server_error(buf, sizeof(buf)),
	    "SSL routines: unsupported protocol");
	ck_assert_uint_eq(ERR_peek_error(), 0);
	/* A small buffer is cut, never overrun. */
	ERR_raise(ERR_LIB_SSL, SSL_R_UNSUPPORTED_PROTOCOL);
	ck_assert_str_eq(tls_server_error(buf, 8), "SSL rou");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("tls_server");
	TCase *tc = tcase_create("tls_server");

	/* Keys are made once (RSA is slow); each test runs in its child. */
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_checked_fixture(tc, NULL, cleanup);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_info);
	tcase_add_loop_test(tc, test_versions, 0, ARRAY_LEN(version_cases));
	tcase_add_loop_test(tc, test_cipher_grades, 0,
	    ARRAY_LEN(cipher_cases));
	tcase_add_loop_test(tc, test_resume, 0, 2);
	tcase_add_loop_test(tc, test_resume_private_keys, 0,
	    ARRAY_LEN(private_key_cases));
	tcase_add_loop_test(tc, test_no_tickets, 0, 2);
	tcase_add_test(tc, test_chain_files);
	tcase_add_loop_test(tc, test_bad_config, 0, ARRAY_LEN(bad_cases));
	tcase_add_test(tc, test_error_text);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
