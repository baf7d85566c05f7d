/* SPDX-License-Identifier: MIT */
/*
 * Shared TLS helpers (tls_common.h) for tls_server and tls_client: the
 * protocols and cipher-grade values, certificate and key loading, and
 * OpenSSL's error queue as one line.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"
#include "str.h"

#include "mail_conf.h"
#include "tls_common.h"

/*
 * TLS 1.2 cipher lists.  Both grades put forward secrecy and AEAD first;
 * "medium" then still allows the remaining strong ciphers (including RSA
 * key exchange) for old peers, because for opportunistic SMTP an old
 * cipher is better than plaintext; "high" allows only ephemeral key
 * exchange with AEAD.  TLS 1.3 suites are OpenSSL's defaults.
 */
#define CIPHER_EXCLUDE \
	"!aNULL:!eNULL:!MD5:!RC4:!3DES:!DES:!EXP:!PSK:!SRP:!CAMELLIA:" \
	"!SEED:!IDEA:!ARIA:!DSS"
#define CIPHERS_MEDIUM \
	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:" \
	"ECDHE+AES:DHE+AES:HIGH:MEDIUM:" CIPHER_EXCLUDE
#define CIPHERS_HIGH \
	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:" CIPHER_EXCLUDE

static char err_buf[1024];
/* The module's error text for err_r (one at a time). */
#define ERR_FMT(...)	str_fmt_buf(err_buf, sizeof(err_buf), __VA_ARGS__)

/* The last OpenSSL error's reason, for composing messages. */
static const char *
ssl_reason(void)
{
	static char buf[256];

	return tls_common_error(buf, sizeof(buf));
}

int
tls_common_protocols(const char *value, int *min_r)
{
	if (strcmp(value, ">=TLSv1.2") == 0) {
		*min_r = TLS1_2_VERSION;
		return 0;
	}
	if (strcmp(value, ">=TLSv1.3") == 0) {
		*min_r = TLS1_3_VERSION;
		return 0;
	}
	return -1;
}

const char *
tls_common_ciphers(const char *grade)
{
	if (strcmp(grade, "medium") == 0)
		return CIPHERS_MEDIUM;
	if (strcmp(grade, "high") == 0)
		return CIPHERS_HIGH;
	return NULL;
}

const char *
tls_common_protocols_error(const char *pname, const char *value)
{
	char *esc = log_escape_str(value);

	ERR_FMT("%s: invalid value \"%s\" (use >=TLSv1.2 or >=TLSv1.3)",
	    pname, esc);
	free(esc);
	return err_buf;
}

const char *
tls_common_ciphers_error(const char *pname, const char *value)
{
	char *esc = log_escape_str(value);

	ERR_FMT("%s: invalid value \"%s\" (use medium or high)", pname, esc);
	free(esc);
	return err_buf;
}

static const char *
param(const char *prefix, const char *suffix, char *buf, size_t size)
{
	return str_fmt_buf(buf, size, "%s_tls_%s", prefix, suffix);
}

/* Opens a PEM file, with the parameter and errno in the error. */
static BIO *
pem_open(const char *pname, const char *file, const char **err_r)
{
	BIO *bio;

	errno = 0;
	if ((bio = BIO_new_file(file, "r")) == NULL) {
		ERR_clear_error();
		*err_r = ERR_FMT("%s: cannot open %s: %s", pname, file,
		    strerror(errno != 0 ? errno : EIO));
	}
	return bio;
}

static int
load_cert_key(SSL_CTX *ctx, const char *prefix, const char *cert,
    const char *key, const char **err_r)
{
	char cname[128], kname[128];
	BIO *bio;

	param(prefix, "cert_file", cname, sizeof(cname));
	param(prefix, "key_file", kname, sizeof(kname));
	if ((bio = pem_open(cname, cert, err_r)) == NULL)
		return -1;
	BIO_free(bio);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		*err_r = ERR_FMT("%s: cannot load a certificate chain from "
		    "%s: %s", cname, cert, ssl_reason());
		return -1;
	}
	if (*key == '\0')
		key = cert;
	if ((bio = pem_open(kname, key, err_r)) == NULL)
		return -1;
	BIO_free(bio);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    X509_R_KEY_VALUES_MISMATCH)
			goto mismatch;
		*err_r = ERR_FMT("%s: cannot load a private key from %s: %s",
		    kname, key, ssl_reason());
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
mismatch:
		*err_r = ERR_FMT("%s: the private key in %s does not match "
		    "the certificate in %s", kname, key, cert);
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/*
 * One file of PREFIX_tls_chain_files: a private key and its certificate
 * chain, leaf first.
 */
static int
load_chain_file(SSL_CTX *ctx, const char *pname, const char *file,
    const char **err_r)
{
	EVP_PKEY *pkey = NULL;
	X509 *leaf = NULL, *x;
	STACK_OF(X509) *chain = NULL;
	BIO *bio;
	int rc = -1;

	if ((bio = pem_open(pname, file, err_r)) == NULL)
		return -1;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (pkey == NULL) {
		*err_r = ERR_FMT("%s: no private key in %s: %s", pname, file,
		    ssl_reason());
		goto out;
	}
	if (BIO_seek(bio, 0) != 0) {
		*err_r = ERR_FMT("%s: cannot rewind %s", pname, file);
		goto out;
	}
	leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (leaf == NULL) {
		*err_r = ERR_FMT("%s: no certificate in %s: %s", pname, file,
		    ssl_reason());
		goto out;
	}
	if ((chain = sk_X509_new_null()) == NULL)
		fatal("out of memory");
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_push(chain, x) == 0)
			fatal("out of memory");
	}
	/* The loop ends at the end of the file, or at garbage. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		*err_r = ERR_FMT("%s: bad certificate in %s: %s", pname, file,
		    ssl_reason());
		goto out;
	}
	ERR_clear_error();
	if (X509_check_private_key(leaf, pkey) != 1) {
		ERR_clear_error();
		*err_r = ERR_FMT("%s: the private key in %s does not match "
		    "its certificate", pname, file);
		goto out;
	}
	if (SSL_CTX_use_cert_and_key(ctx, leaf, pkey, chain, 1) != 1) {
		*err_r = ERR_FMT("%s: cannot use the key and certificate of "
		    "%s: %s", pname, file, ssl_reason());
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(pkey);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	BIO_free(bio);
	return rc;
}

int
tls_common_load_keys(SSL_CTX *ctx, const char *prefix, const char **err_r)
{
	char pname[128];
	const struct strv *chain;
	const char *cert, *key;
	size_t i;

	param(prefix, "chain_files", pname, sizeof(pname));
	chain = mail_conf_list(pname);
	if (chain->n > 0) {
		for (i = 0; i < chain->n; i++) {
			if (load_chain_file(ctx, pname, chain->v[i],
			    err_r) == -1)
				return -1;
		}
		return 1;
	}
	cert = mail_conf_get(param(prefix, "cert_file", pname,
	    sizeof(pname)));
	key = mail_conf_get(param(prefix, "key_file", pname, sizeof(pname)));
	if (*cert == '\0')
		return 0;
	if (load_cert_key(ctx, prefix, cert, key, err_r) == -1)
		return -1;
	return 1;
}

const char *
tls_common_error(char *buf, size_t size)
{
	unsigned long e;

	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
	e = ERR_peek_last_error();
	if (e == 0) {
		str_copy(buf, "no TLS error recorded", size);
	} else {
		const char *reason = ERR_reason_error_string(e);
		const char *lib = ERR_lib_error_string(e);

		if (reason != NULL)
			str_fmt_buf(buf, size, "%s%s%s", lib ? lib : "",
			    lib ? ": " : "", reason);
		else
			ERR_error_string_n(e, buf, size);
	}
	ERR_clear_error();
	return buf;
}
