/* SPDX-License-Identifier: MIT */
/*
 * authd(8)'s request handler: each connection brings one request frame
 * (auth_client.h), which is answered from the users file
 * (authd_passwd.h) or the system's accounts (getpwnam and getspnam),
 * and the connection is closed after the reply.  Failures are answered
 * only after the failure delay, on a timer, so one slow answer never
 * holds up the others; the per-client-address failure limit is kept by
 * anvil(8), across every authd process.  Passwords are wiped as soon as
 * they have been checked and are never logged.
 */
#ifndef TERN_AUTHD_H
#define TERN_AUTHD_H

#include <stdbool.h>

#include "anvil_client.h"

struct event_base;

struct authd_settings {
	const char	*passwd_file;	/* "" or NULL: none */
	bool		 system_users;
	long		 failure_delay_ms;
	long long	 failure_rate_limit;	/* 0: none */
};

/* The settings main.cf gives (authd_* parameters). */
void authd_settings_from_conf(struct authd_settings *s);

/*
 * Starts the handler on base; session_done is called once for every
 * connection given to authd_connect, when it is over (the server
 * skeleton's server_session_done).
 */
void authd_init(struct event_base *base, const struct authd_settings *s,
    void (*session_done)(void));
/* Frees what authd_init set up; no connection may be left. */
void authd_deinit(void);

/* Serves one accepted, nonblocking connection. */
void authd_connect(int fd);

/* The anvil call (anvil_client_event unless a test replaces it). */
typedef int authd_anvil_fn(enum anvil_event ev, const char *addr,
    struct anvil_counts *r, const char **err_r);
void authd_set_anvil(authd_anvil_fn *fn);

#endif
