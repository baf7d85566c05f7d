/* SPDX-License-Identifier: MIT */
/*
 * The next hop of a delivery request, as qmgr passes it (the part after
 * "transport:" in a transport or relayhost setting), parsed into where
 * smtp or lmtp connects and how it finds the addresses.
 *
 * smtp:
 *   domain             MX lookup (RFC 5321 §5.1), port smtp_tcp_port
 *   host:port          MX lookup of host, that port
 *   [host], [host]:port   A/AAAA of host only, no MX
 *   [192.0.2.1], [ipv6:2001:db8::1] (RFC 5321 §4.1.3), optionally with
 *                      :port; a bare IPv4 address too: no DNS at all
 * lmtp (RFC 2033 never uses MX):
 *   unix:/path         a UNIX-domain socket; a relative path is relative
 *                      to queue_directory
 *   inet:host[:port], host[:port], [host][:port]   A/AAAA only, port
 *                      lmtp_tcp_port by default
 *
 * Validation fails closed: empty, overlong, control or non-ASCII
 * characters, white space, a bad port, a host name dns_name_valid
 * rejects or an address inet_pton rejects is an error.
 */
#ifndef TERN_SMTP_NEXTHOP_H
#define TERN_SMTP_NEXTHOP_H

#include <stdbool.h>

#include "dns.h"

/* Longest next hop accepted (a unix: path included). */
#define SMTP_NEXTHOP_MAX	1024

enum smtp_nexthop_kind {
	SMTP_NH_MX,		/* MX lookup of host */
	SMTP_NH_HOST,		/* A/AAAA lookup of host */
	SMTP_NH_ADDR,		/* host is a numeric address (family) */
	SMTP_NH_UNIX,		/* path is a UNIX-domain socket */
};

struct smtp_nexthop {
	enum smtp_nexthop_kind kind;
	char		 host[DNS_NAME_MAX + 1];	/* lower case */
	int		 family;	/* SMTP_NH_ADDR: AF_INET(6) */
	unsigned	 port;		/* 0 for SMTP_NH_UNIX */
	/* SMTP_NH_UNIX: the absolute socket path. */
	char		 path[2 * SMTP_NEXTHOP_MAX + 2];
	/* The next hop as written, lower-cased except a unix: path (the
	   key of smtp_tls_policy_maps, smtp_sasl_password_maps and the
	   connection cache). */
	char		 key[SMTP_NEXTHOP_MAX + 1];
};

/*
 * Parses s for the smtp (lmtp false) or lmtp service; default_port for
 * a next hop without one, queue_dir for relative unix: paths.  -1 with
 * err_r (a static or thread-unsafe text naming the problem).
 */
int smtp_nexthop_parse(const char *s, bool lmtp, unsigned default_port,
    const char *queue_dir, struct smtp_nexthop *nh_r, const char **err_r)
    __attribute__((warn_unused_result));

#endif
