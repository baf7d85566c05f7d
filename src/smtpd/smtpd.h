/* SPDX-License-Identifier: MIT */
/*
 * smtpd(8) process state: the smtpd_* parameters read once into a struct
 * after main.cf is loaded, the TLS context (loaded while still
 * privileged), the event loop the sessions run on, and the hooks the
 * server skeleton calls.  Everything per connection lives in
 * smtpd_session.h.
 */
#ifndef TERN_SMTPD_H
#define TERN_SMTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "smtpd_data.h"

struct event_base;
struct tls_server;

enum smtpd_tls_level {
	SMTPD_TLS_NONE,		/* no STARTTLS */
	SMTPD_TLS_MAY,		/* STARTTLS offered */
	SMTPD_TLS_ENCRYPT,	/* STARTTLS required before MAIL/AUTH */
};

/* The parameters smtpd uses, read once (smtpd_conf_load). */
struct smtpd_conf {
	char		*hostname;	/* myhostname */
	char		*banner;	/* smtpd_banner */
	long long	 timeout;	/* smtpd_timeout, seconds */
	size_t		 line_max;	/* line_length_limit, CRLF included */
	long long	 size_limit;	/* message_size_limit, 0: none */
	long long	 rcpt_limit;	/* smtpd_recipient_limit */
	long long	 soft_errors;	/* smtpd_soft_error_limit */
	long long	 hard_errors;	/* smtpd_hard_error_limit */
	long long	 junk_limit;	/* smtpd_junk_command_limit */
	long long	 error_sleep;	/* smtpd_error_sleep_time, seconds */
	bool		 helo_required;
	bool		 vrfy_disabled;	/* disable_vrfy_command */
	bool		 peername_lookup;
	bool		 sasl_enable;	/* smtpd_sasl_auth_enable */
	bool		 tls_auth_only;
	bool		 wrappermode;	/* smtpd_tls_wrappermode */
	enum smtpd_tls_level tls_level;
	enum smtpd_bare_newline bare;	/* smtpd_forbid_bare_newline */
	long long	 conn_count_limit;
	long long	 conn_rate_limit;
	long long	 msg_rate_limit;
	long long	 auth_rate_limit;
};

extern struct smtpd_conf smtpd_conf;
/* NULL when TLS is off or its context could not be built. */
extern struct tls_server *smtpd_tls;

/*
 * Reads the parameters of the loaded main.cf into smtpd_conf.  -1 with
 * err_r for a value smtpd cannot use (an unknown
 * smtpd_tls_security_level or smtpd_forbid_bare_newline).
 */
int smtpd_conf_load(const char **err_r) __attribute__((warn_unused_result));
void smtpd_conf_unload(void);

/*
 * The loop sessions run on and the function that reports a session's
 * end (server_session_done in the daemon; tests pass their own).
 */
void smtpd_runtime(struct event_base *base, void (*session_done)(void));
struct event_base *smtpd_base(void);
void smtpd_session_ended(void);

/* Server skeleton hooks (main.c). */
void smtpd_pre_jail(void);	/* parameters, TLS keys */
void smtpd_post_jail(void);	/* DNS, restrictions, the loop */
void smtpd_on_stop(void);	/* polite 421 to idle sessions */

#endif
