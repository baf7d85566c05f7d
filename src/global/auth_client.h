/* SPDX-License-Identifier: MIT */
/*
 * The client stub of authd(8), the credential checker that smtpd uses now
 * and imapd and pop3d will use: the caller hands over a user name and a
 * password it has already decoded from its protocol (SASL PLAIN or LOGIN,
 * IMAP LOGIN, POP3 USER/PASS) and learns, without blocking its event loop,
 * whether they are good.  The caller never sees a password hash; authd
 * never sees the protocol.
 *
 * Transport: one connection to $queue_directory/private/authd per request
 * (the current directory is queue_directory), one attr frame each way
 * (attr.h):
 *
 *	request:  service (str: "smtp", "imap", "pop3"), user (str),
 *	          password (str), client_addr (str, "unix" for local),
 *	          secured (bool: the client's channel is TLS)
 *	reply:    status (u64: enum auth_status), user (str: the canonical
 *	          login name, e.g. as written in the users file),
 *	          uid (u64), gid (u64), home (str): the account, for
 *	          imapd/pop3d; reason (str, never secret: for the log)
 *
 * authd answers a failure only after authd_failure_delay, so a request
 * may take seconds: the stub is asynchronous.  User names and passwords
 * are at most AUTH_FIELD_MAX bytes and contain no NUL.
 */
#ifndef TERN_AUTH_CLIENT_H
#define TERN_AUTH_CLIENT_H

#include <stdbool.h>
#include <sys/types.h>

struct event_base;

#define AUTH_SERVICE_PATH	"private/authd"
#define AUTH_FIELD_MAX		1024
/* How long the stub waits for authd before it reports AUTH_TEMPFAIL. */
#define AUTH_CLIENT_TIMEOUT_MS	30000

enum auth_status {
	AUTH_OK = 0,		/* the password is right */
	AUTH_FAIL = 1,		/* wrong user or password */
	AUTH_TEMPFAIL = 2,	/* authd unreachable, backend error, or the
				   client is rate limited: try later */
};

struct auth_result {
	enum auth_status status;
	const char	*user;		/* canonical name (OK only) */
	uid_t		 uid;		/* OK only; (uid_t)-1 when the
					   account names none (users file) */
	gid_t		 gid;		/* likewise (gid_t)-1 */
	const char	*home;		/* OK only; "" when none */
	const char	*reason;	/* for the log; never secret */
};

struct auth_request;

/*
 * Called once per request, from the event loop (never from within
 * auth_client_start); res and its strings are valid only during the call.
 * The request is freed when the callback returns: forget the pointer
 * (auth_client_cancel on it from within the callback is harmless).
 */
typedef void auth_client_cb(void *ctx, const struct auth_result *res);

/*
 * Starts a check.  password is copied and the copy wiped (explicit_bzero)
 * once sent; the caller wipes its own.  Returns the request (for
 * auth_client_cancel) or NULL when it could not even be started (the
 * callback is then never called, and err_r says why: authd not running
 * counts as that).
 */
struct auth_request *auth_client_start(struct event_base *base,
    const char *service, const char *user, const char *password,
    const char *client_addr, bool secured, auth_client_cb *cb, void *ctx,
    const char **err_r);
/* Abandons a request (the callback will not be called); NULL-safe. */
void auth_client_cancel(struct auth_request **rp);

#endif
