/* SPDX-License-Identifier: MIT */
/*
 * Server-side TLS (tls_server.h): the SSL_CTX of a process built from the
 * PREFIX_tls_* parameters, and RFC 5077 session tickets whose keys are
 * derived from one secret per instance ($data_directory/tls_ticket.key)
 * and the current time period, so that every process of the instance
 * can resume the sessions of every other one without a shared cache.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"
#include "safefile.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "tls_common.h"
#include "tls_server.h"

/* The instance secret that ticket keys are derived from. */
#define TICKET_SECRET_LEN	32
#define TICKET_FILE		"tls_ticket.key"
#define TICKET_NAME_LEN		16
#define TICKET_AES_LEN		32
#define TICKET_HMAC_LEN		32

struct ticket_key {
	bool		 valid;
	uint64_t	 period;
	unsigned char	 name[TICKET_NAME_LEN];
	unsigned char	 aes[TICKET_AES_LEN];
	unsigned char	 hmac[TICKET_HMAC_LEN];
};

struct tls_server {
	SSL_CTX		*ctx;
	char		*prefix;
	long long	 lifetime;	/* seconds; 0: no tickets */
	unsigned char	 secret[TICKET_SECRET_LEN];
	/* Derived keys of the current and the previous period. */
	struct ticket_key keys[2];
};

static char err_buf[1024];
/* The module\'s error text for err_r (one at a time). */
#define ERR_FMT(...)	str_fmt_buf(err_buf, sizeof(err_buf), __VA_ARGS__)

/* The last OpenSSL error's reason, for composing messages. */
static const char *
ssl_reason(void)
{
	static char buf[256];

	return tls_server_error(buf, sizeof(buf));
}

static const char *
param(const char *prefix, const char *suffix, char *buf, size_t size)
{
	return str_fmt_buf(buf, size, "%s_tls_%s", prefix, suffix);
}

static int
set_protocols(SSL_CTX *ctx, const char *pname, const char *value,
    const char **err_r)
{
	int min;

	if (tls_common_protocols(value, &min) == -1) {
		*err_r = tls_common_protocols_error(pname, value);
		return -1;
	}
	if (SSL_CTX_set_min_proto_version(ctx, min) != 1) {
		*err_r = ERR_FMT("%s: %s", pname, ssl_reason());
		return -1;
	}
	return 0;
}

static int
set_ciphers(SSL_CTX *ctx, const char *pname, const char *value,
    const char **err_r)
{
	const char *list;

	if ((list = tls_common_ciphers(value)) == NULL) {
		*err_r = tls_common_ciphers_error(pname, value);
		return -1;
	}
	if (SSL_CTX_set_cipher_list(ctx, list) != 1) {
		*err_r = ERR_FMT("%s: %s", pname, ssl_reason());
		return -1;
	}
	return 0;
}

/*
 * Reads the instance's ticket secret from path, creating the file when it
 * is missing.  0 on success; -1 with err_r when neither worked.
 */
static int
ticket_secret_file(const char *path, unsigned char *secret,
    const char **err_r)
{
	unsigned char raw[TICKET_SECRET_LEN + 1];
	const char *e;
	struct stat st;
	ssize_t n;
	int fd;

	fd = safefile_open_trusted(path, geteuid(), &e);
	if (fd == -1 && errno == ENOENT) {
		unsigned char fresh[TICKET_SECRET_LEN];
		char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
		int wfd;

		if (RAND_bytes(fresh, sizeof(fresh)) != 1) {
			free(tmp);
			*err_r = ERR_FMT("no random bytes: %s", ssl_reason());
			return -1;
		}
		(void)unlink(tmp);
		wfd = safefile_create(tmp, 0600, &e);
		if (wfd == -1) {
			free(tmp);
			*err_r = ERR_FMT("%s", e);
			return -1;
		}
		if (safefile_write_all(wfd, fresh, sizeof(fresh)) == -1 ||
		    fsync(wfd) == -1) {
			*err_r = ERR_FMT("write %s: %s", tmp, strerror(errno));
			close(wfd);
			unlink(tmp);
			free(tmp);
			return -1;
		}
		close(wfd);
		OPENSSL_cleanse(fresh, sizeof(fresh));
		/* link() fails when another process created it first. */
		if (link(tmp, path) == -1 && errno != EEXIST) {
			*err_r = ERR_FMT("link %s: %s", path, strerror(errno));
			unlink(tmp);
			free(tmp);
			return -1;
		}
		unlink(tmp);
		free(tmp);
		fd = safefile_open_trusted(path, geteuid(), &e);
	}
	if (fd == -1) {
		*err_r = ERR_FMT("%s", e);
		return -1;
	}
	if (fstat(fd, &st) == -1 || (st.st_mode & 077) != 0) {
		close(fd);
		*err_r = ERR_FMT("%s: readable by group or other", path);
		return -1;
	}
	/* One byte more than needed tells a longer file. */
	n = read(fd, raw, sizeof(raw));
	close(fd);
	if (n != TICKET_SECRET_LEN) {
		OPENSSL_cleanse(raw, sizeof(raw));
		*err_r = ERR_FMT("%s: not %d bytes", path, TICKET_SECRET_LEN);
		return -1;
	}
	memcpy(secret, raw, TICKET_SECRET_LEN);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

static void
ticket_secret_load(struct tls_server *t)
{
	const char *err;
	char *path;

	path = xasprintf("%s/%s", mail_conf_get("data_directory"),
	    TICKET_FILE);
	if (ticket_secret_file(path, t->secret, &err) == -1) {
		log_warn("TLS session tickets: %s; using keys of this "
		    "process only", err);
		if (RAND_bytes(t->secret, sizeof(t->secret)) != 1)
			fatal("no random bytes for TLS ticket keys");
	}
	free(path);
}

/* Derives the ticket key of a time period with HKDF-SHA256. */
static void
ticket_key_derive(struct tls_server *t, uint64_t period,
    struct ticket_key *k)
{
	unsigned char out[TICKET_NAME_LEN + TICKET_AES_LEN + TICKET_HMAC_LEN];
	static char sha256[] = "SHA256";
	unsigned char info[128];
	size_t ilen, plen = strlen(t->prefix);
	OSSL_PARAM params[5], *p = params;
	EVP_KDF_CTX *kctx;
	EVP_KDF *kdf;
	int i;

	/* info = "tern ticket " prefix 0 period (8 bytes, big-endian) */
	ASSERT(plen < sizeof(info) - 21);
	memcpy(info, "tern ticket ", 12);
	memcpy(info + 12, t->prefix, plen);
	ilen = 12 + plen;
	info[ilen++] = 0;
	for (i = 7; i >= 0; i--)
		info[ilen++] = (unsigned char)(period >> (i * 8));

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		fatal("HKDF unavailable: %s", ssl_reason());
	EVP_KDF_free(kdf);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    sha256, 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    t->secret, sizeof(t->secret));
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    info, ilen);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, sizeof(out), params) != 1)
		fatal("HKDF failed: %s", ssl_reason());
	EVP_KDF_CTX_free(kctx);
	memcpy(k->name, out, TICKET_NAME_LEN);
	memcpy(k->aes, out + TICKET_NAME_LEN, TICKET_AES_LEN);
	memcpy(k->hmac, out + TICKET_NAME_LEN + TICKET_AES_LEN,
	    TICKET_HMAC_LEN);
	OPENSSL_cleanse(out, sizeof(out));
	k->period = period;
	k->valid = true;
}

/* keys[0] is the current period's, keys[1] the previous one's. */
static void
ticket_keys_update(struct tls_server *t)
{
	uint64_t now = (uint64_t)time(NULL) / (uint64_t)t->lifetime;

	if (t->keys[0].valid && t->keys[0].period == now)
		return;
	if (t->keys[0].valid && t->keys[0].period == now - 1)
		t->keys[1] = t->keys[0];
	else
		ticket_key_derive(t, now - 1, &t->keys[1]);
	ticket_key_derive(t, now, &t->keys[0]);
}

static int
ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct tls_server *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	static char sha256[] = "SHA256";
	struct ticket_key *k = NULL;
	OSSL_PARAM params[3];
	int i, rc;

	ticket_keys_update(t);
	if (enc) {
		k = &t->keys[0];
		if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1)
			return -1;
		memcpy(key_name, k->name, TICKET_NAME_LEN);
		rc = 1;
	} else {
		for (i = 0; i < 2; i++) {
			if (CRYPTO_memcmp(key_name, t->keys[i].name,
			    TICKET_NAME_LEN) == 0)
				k = &t->keys[i];
		}
		if (k == NULL)
			return 0;	/* unknown or expired: full handshake */
		/* A ticket of the previous period is renewed. */
		rc = k == &t->keys[0] ? 1 : 2;
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    k->hmac, sizeof(k->hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    sha256, 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		return -1;
	if (enc) {
		if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes,
		    iv) != 1)
			return -1;
	} else {
		if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes,
		    iv) != 1)
			return -1;
	}
	return rc;
}

static int
setup_tickets(struct tls_server *t, const char *pname, const char **err_r)
{
	SSL_CTX *ctx = t->ctx;
	unsigned char sid[SSL_MAX_SID_CTX_LENGTH];
	size_t len;

	/* Tickets carry the state; no process-local cache. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	len = str_copy((char *)sid, t->prefix, sizeof(sid));
	if (len >= sizeof(sid))
		len = sizeof(sid) - 1;
	if (SSL_CTX_set_session_id_context(ctx, sid, (unsigned)len) != 1) {
		*err_r = ERR_FMT("%s: %s", pname, ssl_reason());
		return -1;
	}
	if (t->lifetime == 0) {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(ctx, 0);
		return 0;
	}
	SSL_CTX_set_timeout(ctx, (long)t->lifetime);
	SSL_CTX_set_num_tickets(ctx, 1);
	ticket_secret_load(t);
	ticket_keys_update(t);
	if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb) != 1) {
		*err_r = ERR_FMT("%s: %s", pname, ssl_reason());
		return -1;
	}
	return 0;
}

static int
configure(struct tls_server *t, const char **err_r)
{
	const char *prefix = t->prefix;
	char pname[128];

	SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_dh_auto(t->ctx, 1);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);

	param(prefix, "protocols", pname, sizeof(pname));
	if (set_protocols(t->ctx, pname, mail_conf_get(pname), err_r) == -1)
		return -1;
	param(prefix, "ciphers", pname, sizeof(pname));
	if (set_ciphers(t->ctx, pname, mail_conf_get(pname), err_r) == -1)
		return -1;

	switch (tls_common_load_keys(t->ctx, prefix, err_r)) {
	case -1:
		return -1;
	case 0:
		*err_r = ERR_FMT("no server certificate: set %s_tls_cert_file "
		    "or %s_tls_chain_files", prefix, prefix);
		return -1;
	default:
		break;
	}

	param(prefix, "session_cache_timeout", pname, sizeof(pname));
	t->lifetime = mail_conf_time(pname);
	return setup_tickets(t, pname, err_r);
}

struct tls_server *
tls_server_new(const char *prefix, const char **err_r)
{
	struct tls_server *t = xcalloc(1, sizeof(*t));

	ERR_clear_error();
	t->prefix = xstrdup(prefix);
	if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		fatal("SSL_CTX_new: %s", ssl_reason());
	SSL_CTX_set_app_data(t->ctx, t);
	if (configure(t, err_r) == -1) {
		tls_server_free(&t);
		return NULL;
	}
	return t;
}

void
tls_server_free(struct tls_server **tp)
{
	struct tls_server *t = *tp;

	if (t == NULL)
		return;
	*tp = NULL;
	SSL_CTX_free(t->ctx);
	OPENSSL_cleanse(t->secret, sizeof(t->secret));
	OPENSSL_cleanse(t->keys, sizeof(t->keys));
	free(t->prefix);
	free(t);
}

SSL *
tls_server_ssl(struct tls_server *t)
{
	SSL *ssl = SSL_new(t->ctx);

	if (ssl == NULL)
		fatal("SSL_new: %s", ssl_reason());
	return ssl;
}

const char *
tls_server_info(SSL *ssl, char *buf, size_t size)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	int bits, alg_bits = 0;

	if (c == NULL)
		return str_fmt_buf(buf, size, "%s", "no TLS session");
	bits = SSL_CIPHER_get_bits(c, &alg_bits);
	return str_fmt_buf(buf, size, "%s with cipher %s (%d/%d bits)",
	    SSL_get_version(ssl), SSL_CIPHER_get_name(c), bits, alg_bits);
}

const char *
tls_server_version(SSL *ssl)
{
	return SSL_get_version(ssl);
}

bool
tls_server_resumed(SSL *ssl)
{
	return SSL_session_reused(ssl) == 1;
}

const char *
tls_server_error(char *buf, size_t size)
{
	return tls_common_error(buf, size);
}
