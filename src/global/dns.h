/* SPDX-License-Identifier: MIT */
/*
 * DNS through libunbound, asynchronously inside the process's libevent
 * loop: no thread or process blocks on a lookup.  The resolver comes from
 * dns_resolver_config: empty means the nameservers of /etc/resolv.conf
 * plus /etc/hosts; otherwise a file in unbound.conf(5) syntax (forwarders,
 * stub zones, local-data, trust anchors), which is also how tests give an
 * instance its own DNS without a network.
 *
 * This layer gives what smtpd needs (client name lookup, the existence of
 * a sender domain); the smtp client (MX routing, TLSA) builds on the same
 * dns_query.
 */
#ifndef TERN_DNS_H
#define TERN_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

enum dns_status {
	DNS_OK = 0,		/* data found */
	DNS_NOTFOUND = 1,	/* NXDOMAIN, or the name has no such record */
	DNS_TEMPFAIL = 2,	/* SERVFAIL, timeout, resolver error */
};

/* One answer: the records of the asked type, in wire rdata form. */
struct dns_answer {
	enum dns_status	 status;
	bool		 nxdomain;	/* the name does not exist at all */
	bool		 secure;	/* DNSSEC validated */
	uint32_t	 ttl;		/* smallest TTL of the records */
	size_t		 count;
	const unsigned char *const *data;	/* count rdata pointers */
	const size_t	*len;		/* count rdata lengths */
	const char	*why;		/* TEMPFAIL: what went wrong */
};

struct dns_query;

typedef void dns_cb(void *ctx, const struct dns_answer *a);

/*
 * Creates the process's resolver on base from dns_resolver_config (call
 * once, after the configuration is loaded, before the first lookup).
 * -1 with err_r (unreadable or invalid configuration file).
 */
int dns_init(struct event_base *base, const char **err_r)
    __attribute__((warn_unused_result));
/*
 * Frees the resolver; pending queries are cancelled silently (their
 * callbacks never run, and the caller's pointers to them become invalid).
 */
void dns_deinit(void);

/*
 * Starts a lookup of name (a domain, or for PTR the reverse name) for
 * rrtype (1 A, 28 AAAA, 15 MX, 12 PTR, ...), class IN.  The callback runs
 * once, from the event loop (never from inside dns_query).  Returns NULL
 * only when the resolver refuses to start the query; then cb is not
 * called and err_r says why.
 */
struct dns_query *dns_query(const char *name, int rrtype, dns_cb *cb,
    void *ctx, const char **err_r);
/*
 * Abandons a query (its callback will not run); NULL-safe.  A query is
 * freed when its callback returns; dns_cancel on it from inside that
 * callback is harmless, afterwards it is a use after free.
 */
void dns_cancel(struct dns_query **qp);

/*
 * Higher-level lookups built on dns_query, each with one callback.
 *
 * dns_lookup_ptr: the client's name, Postfix style: the PTR of the
 * numeric address addr, confirmed by a forward A/AAAA lookup that finds
 * addr again.  The callback gets DNS_OK with the (lower-case, no trailing
 * dot) name, DNS_NOTFOUND when there is no PTR or it is not confirmed,
 * or DNS_TEMPFAIL.
 *
 * dns_lookup_mail_domain: can domain receive mail (for
 * reject_unknown_sender_domain)?  DNS_OK when it has MX records (other
 * than a null MX alone) or, without MX, an A or AAAA record;
 * DNS_NOTFOUND when it has none of these or only a null MX (RFC 7505;
 * then null_mx is true); DNS_TEMPFAIL otherwise.
 */
typedef void dns_name_cb(void *ctx, enum dns_status status,
    const char *name);
typedef void dns_domain_cb(void *ctx, enum dns_status status, bool null_mx);
struct dns_query *dns_lookup_ptr(const char *addr, dns_name_cb *cb,
    void *ctx, const char **err_r);
struct dns_query *dns_lookup_mail_domain(const char *domain,
    dns_domain_cb *cb, void *ctx, const char **err_r);

/* Longest domain name in text form, without the trailing dot. */
#define DNS_NAME_MAX	253

/*
 * True for a name dns_query accepts: labels of 1-63 letters, digits, '-'
 * or '_', at most DNS_NAME_MAX characters, one optional trailing dot.
 */
bool dns_name_valid(const char *name);

/*
 * Decodes the uncompressed wire-format host name at rd[off] (rdata of
 * dns_answer) into buf as lower-case text without the trailing dot ("" for
 * the root).  Fails closed: -1 for a truncated name, a compression
 * pointer, a name too long for buf or DNS_NAME_MAX, or a character other
 * than a letter, digit, '-' or '_'.  next_r (may be NULL) gets the offset
 * after the name.
 */
int dns_rdata_hostname(const unsigned char *rd, size_t len, size_t off,
    char *buf, size_t size, size_t *next_r)
    __attribute__((warn_unused_result));
/* MX rdata: preference and exchange ("" for a null MX); -1 if malformed. */
int dns_rdata_mx(const unsigned char *rd, size_t len, unsigned *pref_r,
    char *host, size_t size) __attribute__((warn_unused_result));

/*
 * Parses a DNS response packet into an answer with the class IN records
 * of type rrtype from its answer section, names in rdata uncompressed:
 * rcode NXDOMAIN gives DNS_NOTFOUND with nxdomain, other errors
 * DNS_TEMPFAIL.  NULL with err_r for a malformed packet.  (dns_query
 * uses it on what libunbound hands over.)  Free with dns_answer_free.
 */
struct dns_answer *dns_answer_parse(const unsigned char *pkt, size_t len,
    int rrtype, const char **err_r);
void dns_answer_free(struct dns_answer **ap);

#endif
