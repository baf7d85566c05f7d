/* SPDX-License-Identifier: MIT */
/*
 * What the server and client sides of TLS share (OpenSSL 3): the values
 * of the PREFIX_tls_protocols and PREFIX_tls_ciphers parameters, loading
 * a certificate and its key (PREFIX_tls_cert_file / PREFIX_tls_key_file
 * or PREFIX_tls_chain_files), and the last OpenSSL error as one line.
 */
#ifndef TERN_TLS_COMMON_H
#define TERN_TLS_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/*
 * A protocols value: ">=TLSv1.2" or ">=TLSv1.3"; the lowest version
 * allowed in *min_r (TLS1_2_VERSION ...).  -1 for anything else.
 */
int tls_common_protocols(const char *value, int *min_r)
    __attribute__((warn_unused_result));

/*
 * The OpenSSL TLS 1.2 cipher list of a grade ("medium" or "high"); NULL
 * for any other value.
 */
const char *tls_common_ciphers(const char *grade);

/* The error text of an invalid value of the protocols parameter pname. */
const char *tls_common_protocols_error(const char *pname, const char *value);
const char *tls_common_ciphers_error(const char *pname, const char *value);

/*
 * Loads the keys and certificates that PREFIX_tls_chain_files names, or
 * else PREFIX_tls_cert_file with PREFIX_tls_key_file (the certificate's
 * file when empty), into ctx.  1 when something was loaded, 0 when
 * neither parameter is set, -1 with err_r naming the parameter and file
 * when a file cannot be read, holds no key or certificate, or the key
 * does not match its certificate.
 */
int tls_common_load_keys(SSL_CTX *ctx, const char *prefix,
    const char **err_r) __attribute__((warn_unused_result));

/*
 * The last OpenSSL error of this thread as one line (and clears the
 * queue).  Returns buf.
 */
const char *tls_common_error(char *buf, size_t size);

#endif
