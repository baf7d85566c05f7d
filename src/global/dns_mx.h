/* SPDX-License-Identifier: MIT */
/*
 * Where to deliver mail for a domain, and the TLSA records of a host, on
 * top of dns.h (libunbound inside the event loop; results cached by
 * libunbound per their TTL).
 *
 * dns_mx_lookup with DNS_MX_USE_MX: the MX records of the name, in
 * preference order with a random order among equal preferences (RFC 5321
 * §5.1); hosts at or above the preference of one of the local names
 * (loop avoidance, §5.1) are dropped.  Each MX host's A/AAAA records
 * follow, per the address families of inet_protocols and in the order of
 * smtp_address_preference.  Without MX records, the name's own A/AAAA
 * records with preference 0 (implicit MX, §5.1).  Without DNS_MX_USE_MX
 * (a next hop "[host]"): the name's A/AAAA records only.
 *
 * Outcome (dns_mx_result.status):
 *   DNS_OK        addrs has at least one address
 *   DNS_NOTFOUND  the name does not exist (nxdomain), has a null MX
 *                 (null_mx, RFC 7505: bounce with 5.1.10), has no MX and
 *                 no address, only MX hosts without addresses, or its MX
 *                 list points only back at this host (loops)
 *   DNS_TEMPFAIL  SERVFAIL, timeout, or an MX host's lookup failed
 *                 temporarily and no other host has an address
 * why is a one-line text for logs and DSNs in each case, e.g.
 * "Host or domain name not found. Name service error for name=x.test
 * type=MX: Host not found".
 */
#ifndef TERN_DNS_MX_H
#define TERN_DNS_MX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

/* Address families (from inet_protocols). */
#define DNS_MX_IPV4	0x01
#define DNS_MX_IPV6	0x02

/* Flags of dns_mx_lookup. */
#define DNS_MX_USE_MX	0x01	/* look up MX records first */

enum dns_mx_prefer {
	DNS_MX_PREFER_ANY,	/* the order DNS gave (IPv6 first per host) */
	DNS_MX_PREFER_IPV4,	/* IPv4 addresses before IPv6, per preference */
	DNS_MX_PREFER_IPV6,
};

struct dns_mx_opts {
	int		 families;	/* DNS_MX_IPV4 | DNS_MX_IPV6 */
	enum dns_mx_prefer prefer;
	const char *const *local_names;	/* this host's names (loop check) */
	size_t		 nlocal;
	size_t		 max_addrs;	/* 0: no limit */
};

struct dns_mx_addr {
	char		 host[DNS_NAME_MAX + 1];	/* MX host or the name */
	unsigned	 pref;		/* MX preference; 0 without MX */
	int		 family;	/* AF_INET or AF_INET6 */
	char		 addr[46];	/* numeric (INET6_ADDRSTRLEN) */
	bool		 secure;	/* MX RRset (if any) and address
					   both DNSSEC-validated */
};

struct dns_mx_result {
	enum dns_status	 status;
	bool		 nxdomain;
	bool		 null_mx;
	bool		 loops;
	bool		 mx_secure;	/* the MX RRset was validated */
	const char	*why;		/* NOTFOUND/TEMPFAIL: text */
	struct dns_mx_addr *addrs;	/* in the order to try */
	size_t		 n;
};

typedef void dns_mx_cb(void *ctx, const struct dns_mx_result *r);

/*
 * Starts the lookup of name (a domain or host name, not an address
 * literal); cb runs once from the event loop with a result that is valid
 * during the call.  NULL with err_r when the name is invalid or the
 * resolver refuses; cb does not run then.  Cancel with dns_mx_cancel.
 */
struct dns_mx_query;
struct dns_mx_query *dns_mx_lookup(const char *name, int flags,
    const struct dns_mx_opts *opts, dns_mx_cb *cb, void *ctx,
    const char **err_r);
/* Abandons a lookup (cb will not run); NULL-safe, clears *qp. */
void dns_mx_cancel(struct dns_mx_query **qp);

/* One TLSA record (RFC 6698 §2.1). */
struct dns_tlsa {
	uint8_t		 usage;
	uint8_t		 selector;
	uint8_t		 mtype;
	const unsigned char *data;
	size_t		 len;
};

struct dns_tlsa_result {
	enum dns_status	 status;	/* NOTFOUND: no TLSA (or nxdomain) */
	bool		 secure;	/* the answer (or denial) validated */
	const char	*why;
	const struct dns_tlsa *records;	/* well-formed records only */
	size_t		 n;
};

typedef void dns_tlsa_cb(void *ctx, const struct dns_tlsa_result *r);

/*
 * Looks up the TLSA records of "_PORT._tcp.HOST" (RFC 7672 §2.2.3); as
 * dns_mx_lookup otherwise.  DNS_OK with n == 0 means TLSA records exist
 * but none is well-formed (RFC 7672 §2.2: TLS is then still mandatory).
 */
/*
 * Parses one TLSA rdata into t (whose data points into rd).  -1 when it
 * is malformed: shorter than 4 bytes, or matching type 1 (SHA-256) or 2
 * (SHA-512) with data of another length than the digest's (RFC 6698
 * §2.1.3).  Unknown usages, selectors and matching types are accepted.
 */
int dns_tlsa_parse(const unsigned char *rd, size_t len, struct dns_tlsa *t)
    __attribute__((warn_unused_result));

struct dns_tlsa_query;
struct dns_tlsa_query *dns_tlsa_lookup(const char *host, unsigned port,
    dns_tlsa_cb *cb, void *ctx, const char **err_r);
void dns_tlsa_cancel(struct dns_tlsa_query **qp);

#endif
