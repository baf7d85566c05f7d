/* SPDX-License-Identifier: MIT */
/*
 * Server-side TLS for smtpd now and imapd/pop3d later (OpenSSL 3): one
 * SSL_CTX per process built from main.cf parameters with a given prefix
 * ("smtpd" reads smtpd_tls_cert_file, smtpd_tls_key_file,
 * smtpd_tls_chain_files, smtpd_tls_protocols, smtpd_tls_ciphers,
 * smtpd_tls_session_cache_timeout), the per-connection SSL objects, and
 * the one-line description of a finished handshake that Received: and the
 * log use.
 *
 * Keys: tls_server_new is called from pre_jail, while the process may
 * still read root-only key files.  Defaults: TLS 1.2 and later, no
 * compression, no renegotiation, server cipher preference, forward
 * secrecy (ECDHE, DHE) first; smtpd_tls_ciphers = high allows nothing
 * else, medium (the default) also RSA key exchange for old clients.
 * Session resumption uses RFC 5077 tickets whose keys all processes of
 * the instance share through $data_directory/tls_ticket.key (created with
 * mode 0600 when missing and the directory is writable; otherwise each
 * process uses its own random keys) and are rotated every
 * smtpd_tls_session_cache_timeout; 0 disables tickets.
 */
#ifndef TERN_TLS_SERVER_H
#define TERN_TLS_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/* Room for tls_server_info's text. */
#define TLS_INFO_MAX	160

struct tls_server;

/*
 * Builds the context from the PREFIX_tls_* parameters.  Returns NULL with
 * err_r naming the parameter and file when no certificate is configured,
 * a file cannot be read, a key does not match its certificate, or a
 * parameter value is invalid.
 */
struct tls_server *tls_server_new(const char *prefix, const char **err_r);
void tls_server_free(struct tls_server **tp);

/* A new SSL object in server mode for one connection (never NULL). */
SSL *tls_server_ssl(struct tls_server *t);

/*
 * After a handshake: "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384
 * (256/256 bits)", the words Postfix's Received: header uses.  Returns
 * buf.
 */
const char *tls_server_info(SSL *ssl, char *buf, size_t size);
/* The protocol version alone ("TLSv1.3"), for the log. */
const char *tls_server_version(SSL *ssl);
/* True when the session was resumed. */
bool tls_server_resumed(SSL *ssl);

/*
 * The last OpenSSL error of this thread as one line (and clears the
 * queue), for log lines after a failed handshake.  Returns buf.
 */
const char *tls_server_error(char *buf, size_t size);

#endif
