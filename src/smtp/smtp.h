/* SPDX-License-Identifier: MIT */
/*
 * smtp(8) and lmtp(8) process state: one program, run as "smtp" or
 * "lmtp" (the master.cf service name decides; lmtp speaks LHLO and
 * takes one reply per recipient after DATA, RFC 2033).  The smtp_*
 * parameters are read once into smtp_conf after main.cf is loaded (the
 * lmtp service reads the same ones; master.cf -o overrides them per
 * service), the TLS context is built while still privileged, and
 * requests from qmgr are served asynchronously inside the event loop
 * (deliver_serve_async).
 *
 * Modules:
 *   smtp.c          parameters
 *   smtp_server.c   process hooks (main.c)
 *   smtp_deliver.c  one request: next hop, hosts, sessions, results
 *   smtp_nexthop.c  next-hop syntax (smtp_nexthop.h)
 *   smtp_hosts.c    the dead-host memory (smtp_hosts.h)
 *   smtp_session.c  the protocol engine on one connection (smtp_session.h)
 *   smtp_reply.c    the reply parser (smtp_reply.h)
 *   smtp_cache.c    idle connections kept for the next message
 */
#ifndef TERN_SMTP_H
#define TERN_SMTP_H

#include <stdbool.h>
#include <stddef.h>

#include "dns_mx.h"
#include "tls_client.h"

struct event_base;
struct dict;

/* The parameters smtp uses, read once (smtp_conf_load). */
struct smtp_conf {
	bool		 lmtp;		/* running as the lmtp service */
	char		*helo_name;	/* smtp_helo_name / lmtp_lhlo_name */
	unsigned	 port;		/* smtp_tcp_port / lmtp_tcp_port */
	char		*bind_addr;	/* smtp_bind_address, "" none */
	char		*bind_addr6;	/* smtp_bind_address6 */
	char		*queue_dir;	/* queue_directory (lmtp:unix: paths) */
	struct dns_mx_opts mx;		/* inet_protocols,
					   smtp_address_preference,
					   smtp_mx_address_limit, myhostname */
	long long	 mx_session_limit;	/* 0: none */
	/* Timeouts, seconds. */
	long long	 connect_timeout;
	long long	 helo_timeout;
	long long	 starttls_timeout;
	long long	 mail_timeout;
	long long	 rcpt_timeout;
	long long	 data_init_timeout;
	long long	 data_xfer_timeout;
	long long	 data_done_timeout;
	long long	 rset_timeout;
	long long	 quit_timeout;
	bool		 skip_5xx_greeting;
	long long	 dead_host_time;
	/* Connection reuse. */
	bool		 cache_on_demand;
	long long	 cache_time_limit;	/* idle seconds */
	long long	 reuse_count_limit;	/* 0: none */
	long long	 reuse_time_limit;	/* seconds */
	/* TLS. */
	enum tls_level	 tls_level;	/* smtp_tls_security_level */
	char		**verify_match;	/* smtp_tls_verify_cert_match */
	char		**secure_match;	/* smtp_tls_secure_cert_match */
	char		*servername;	/* smtp_tls_servername */
	struct dict	**tls_policy;	/* smtp_tls_policy_maps */
	size_t		 ntls_policy;
	/* SASL. */
	bool		 sasl_enable;
	struct dict	**sasl_passwd;	/* smtp_sasl_password_maps */
	size_t		 nsasl_passwd;
	char		**sasl_mechs;	/* smtp_sasl_mechanism_filter */
	bool		 sasl_plain_ok;	/* no "noplaintext" outside TLS */
	bool		 sasl_tls_plain_ok;	/* inside TLS */
	long long	 message_size_limit;	/* ours; unused by the client */
};

extern struct smtp_conf smtp_conf;
/* NULL when TLS is off (level none everywhere) or failed to load. */
extern struct tls_client *smtp_tls;

/*
 * Reads the parameters into smtp_conf; service is "smtp" or "lmtp".  -1
 * with err_r for a value smtp cannot use (unknown TLS level, address
 * preference, bad bind address, unopenable table).
 */
int smtp_conf_load(const char *service, const char **err_r)
    __attribute__((warn_unused_result));
void smtp_conf_unload(void);

/* The loop sessions run on (server_event_base in the daemon; tests set
 * their own with smtp_runtime). */
void smtp_runtime(struct event_base *base);
struct event_base *smtp_base(void);

/* The program's mode, from the name it was invoked as (main.c): lmtp
 * when true; smtp_pre_jail loads the parameters of that service. */
void smtp_set_lmtp(bool lmtp);

/* Server skeleton hooks (main.c). */
void smtp_pre_jail(void);	/* parameters, TLS client key */
void smtp_post_jail(void);	/* DNS, the loop */
void smtp_on_connect(int fd);	/* a connection from qmgr */
void smtp_on_stop(void);

#endif
