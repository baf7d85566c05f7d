/* SPDX-License-Identifier: MIT */
/*
 * DNS through libunbound's libevent integration (dns.h): the resolver
 * runs its state machines on the process's event_base, so no thread or
 * process ever blocks on a lookup.  Answers arrive as wire-format
 * packets, which are parsed here with bounds checks (glibc's
 * ns_name_unpack undoes name compression), and every callback is
 * deferred to its own event so that it never runs inside dns_query.
 */
#include "config.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unbound-event.h>
#include <unbound.h>

#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "dns.h"
#include "mail_conf.h"

#define RR_IN		1
#define RR_A		1
#define RR_NS		2
#define RR_CNAME	5
#define RR_SOA		6
#define RR_PTR		12
#define RR_MX		15
#define RR_AAAA		28

#define DNS_HDR_LEN	12
/* Records of one answer that are kept; more are ignored. */
#define DNS_RR_MAX	100
/* PTR names whose forward lookup is tried. */
#define PTR_NAMES_MAX	4

/* An answer and the storage behind its pointers. */
struct answer {
	struct dns_answer pub;
	unsigned char	**data;
	size_t		 *len;
	char		 *why;
};

/* One ub_resolve_event in flight; q is NULL once abandoned. */
struct pending {
	struct dns_query *q;
	struct pending	*prev, *next;
};

enum query_kind { Q_RAW, Q_PTR, Q_DOMAIN };
enum domain_step { STEP_MX, STEP_A, STEP_AAAA };

struct dns_query {
	enum query_kind	 kind;
	/* In dns.queries while not finished. */
	bool		 linked;
	bool		 delivering;
	struct dns_query *prev, *next;
	/* Q_RAW */
	int		 rrtype;
	struct pending	*pend;
	struct event	*ev;
	struct answer	*ans;
	dns_cb		*cb;
	void		*ctx;
	struct dns_query *parent;
	/* composite lookups */
	struct dns_query *sub;
	dns_name_cb	*name_cb;
	dns_domain_cb	*domain_cb;
	bool		 tempfail;
	/* Q_PTR */
	int		 family;
	unsigned char	 addr[16];
	char		*names[PTR_NAMES_MAX];
	size_t		 nnames, next_name;
	/* Q_DOMAIN */
	char		*domain;
	enum domain_step step;
};

static struct {
	struct ub_ctx	*ub;
	struct event_base *base;
	struct dns_query *queries;
	struct pending	*pending;
} dns;

static char err_buf[512];
/* The module\'s error text for err_r (one at a time). */
#define ERR_FMT(...)	str_fmt_buf(err_buf, sizeof(err_buf), __VA_ARGS__)

/* Answers */

static struct answer *
answer_new(enum dns_status status, const char *why)
{
	struct answer *a = xcalloc(1, sizeof(*a));

	a->pub.status = status;
	if (why != NULL) {
		a->why = xstrdup(why);
		a->pub.why = a->why;
	}
	return a;
}

void
dns_answer_free(struct dns_answer **ap)
{
	struct answer *a = (struct answer *)*ap;
	size_t i;

	if (a == NULL)
		return;
	*ap = NULL;
	for (i = 0; i < a->pub.count; i++)
		free(a->data[i]);
	free(a->data);
	free(a->len);
	free(a->why);
	free(a);
}

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Length of an uncompressed wire name in its buffer, or 0. */
static size_t
wire_name_len(const unsigned char *p, size_t size)
{
	size_t off = 0;

	while (off < size) {
		if (p[off] == 0)
			return off + 1;
		if (p[off] > 63)
			return 0;
		off += (size_t)p[off] + 1;
	}
	return 0;
}

/*
 * Where names may be compressed in rdata (RFC 3597 section 4): "N" a
 * name, "2" two bytes, "*" the rest.  Other types are copied as they are.
 */
static const char *
rdata_layout(unsigned type)
{
	switch (type) {
	case RR_NS: case 3: case 4: case RR_CNAME: case 7: case 8: case 9:
	case RR_PTR:
		return "N";
	case RR_MX:
		return "2N";
	case RR_SOA:
		return "NN*";
	case 14:	/* MINFO */
		return "NN";
	default:
		return "*";
	}
}

/*
 * Copies the rdata at pkt[off..off+rdlen) with its names uncompressed.
 * Returns the length in out (of size 65535 + slack), or -1.
 */
static long
rdata_expand(const unsigned char *pkt, size_t len, size_t off, size_t rdlen,
    unsigned type, unsigned char *out, size_t size)
{
	const unsigned char *eom = pkt + len;
	size_t end = off + rdlen, o = 0, n;
	const char *l;
	int used;

	for (l = rdata_layout(type); *l != '\0'; l++) {
		switch (*l) {
		case '2':
			if (end - off < 2 || size - o < 2)
				return -1;
			memcpy(out + o, pkt + off, 2);
			off += 2;
			o += 2;
			break;
		case 'N':
			if (off >= end || size - o < NS_MAXCDNAME)
				return -1;
			used = ns_name_unpack(pkt, eom, pkt + off, out + o,
			    NS_MAXCDNAME);
			if (used < 0 || (size_t)used > end - off)
				return -1;
			n = wire_name_len(out + o, NS_MAXCDNAME);
			if (n == 0)
				return -1;
			off += (size_t)used;
			o += n;
			break;
		default:
			n = end - off;
			if (size - o < n)
				return -1;
			memcpy(out + o, pkt + off, n);
			off += n;
			o += n;
			break;
		}
	}
	return off == end ? (long)o : -1;
}

struct dns_answer *
dns_answer_parse(const unsigned char *pkt, size_t len, int rrtype,
    const char **err_r)
{
	static unsigned char rd[65535 + 2 * NS_MAXCDNAME];
	const unsigned char *eom = pkt + len;
	unsigned qd, an, rcode, type, class, i;
	struct answer *a;
	size_t off, rdlen;
	uint32_t ttl;
	long n;
	int skip;

	if (len < DNS_HDR_LEN) {
		*err_r = "malformed DNS response: short header";
		return NULL;
	}
	if ((pkt[2] & 0x80) == 0) {
		*err_r = "malformed DNS response: not a response";
		return NULL;
	}
	rcode = pkt[3] & 0x0f;
	qd = get16(pkt + 4);
	an = get16(pkt + 6);
	if (rcode == ns_r_nxdomain) {
		a = answer_new(DNS_NOTFOUND, NULL);
		a->pub.nxdomain = true;
		return &a->pub;
	}
	if (rcode != ns_r_noerror) {
		static const char *const names[] = {
			"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
			"NOTIMP", "REFUSED",
		};
		char why[64];

		if (rcode < sizeof(names) / sizeof(names[0]))
			str_fmt_buf(why, sizeof(why), "DNS error %s",
			    names[rcode]);
		else
			str_fmt_buf(why, sizeof(why), "DNS error rcode %u",
			    rcode);
		return &answer_new(DNS_TEMPFAIL, why)->pub;
	}
	a = answer_new(DNS_NOTFOUND, NULL);
	off = DNS_HDR_LEN;
	for (i = 0; i < qd; i++) {
		skip = dn_skipname(pkt + off, eom);
		if (skip < 0 || len - off < (size_t)skip + 4)
			goto bad;
		off += (size_t)skip + 4;
	}
	for (i = 0; i < an; i++) {
		skip = dn_skipname(pkt + off, eom);
		if (skip < 0 || len - off < (size_t)skip + 10)
			goto bad;
		off += (size_t)skip;
		type = get16(pkt + off);
		class = get16(pkt + off + 2);
		ttl = get32(pkt + off + 4);
		rdlen = get16(pkt + off + 8);
		off += 10;
		if (len - off < rdlen)
			goto bad;
		if ((int)type == rrtype && class == RR_IN &&
		    a->pub.count < DNS_RR_MAX) {
			n = rdata_expand(pkt, len, off, rdlen, type, rd,
			    sizeof(rd));
			if (n < 0)
				goto bad;
			if (a->pub.count == 0) {
				a->data = xcalloc(DNS_RR_MAX, sizeof(*a->data));
				a->len = xcalloc(DNS_RR_MAX, sizeof(*a->len));
				a->pub.ttl = ttl;
			}
			a->data[a->pub.count] = xmemdup(rd, n > 0 ? n : 1);
			a->len[a->pub.count] = (size_t)n;
			a->pub.count++;
			if (ttl < a->pub.ttl)
				a->pub.ttl = ttl;
		}
		off += rdlen;
	}
	if (a->pub.count > 0) {
		a->pub.status = DNS_OK;
		a->pub.data = (const unsigned char *const *)a->data;
		a->pub.len = a->len;
	}
	return &a->pub;
bad:
	{
		struct dns_answer *p = &a->pub;

		dns_answer_free(&p);
	}
	*err_r = "malformed DNS response";
	return NULL;
}

/* Names */

static bool
label_char(unsigned char c)
{
	return isascii(c) && (isalnum(c) || c == '-' || c == '_');
}

bool
dns_name_valid(const char *name)
{
	size_t len = strlen(name), label = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (!label_char((unsigned char)name[i]) ||
		    ++label > 63) {
			return false;
		}
	}
	return label > 0;
}

int
dns_rdata_hostname(const unsigned char *rd, size_t len, size_t off,
    char *buf, size_t size, size_t *next_r)
{
	size_t o = 0, n, i;
	unsigned char c;

	if (size == 0)
		return -1;
	for (;;) {
		if (off >= len)
			return -1;
		n = rd[off++];
		if (n == 0)
			break;
		/* Compression pointers and extended labels: not here. */
		if (n > 63 || len - off < n)
			return -1;
		if (o > 0) {
			if (o + 1 >= size)
				return -1;
			buf[o++] = '.';
		}
		for (i = 0; i < n; i++) {
			c = rd[off + i];
			if (!label_char(c) || o + 1 >= size)
				return -1;
			buf[o++] = (char)tolower(c);
		}
		off += n;
		if (o > DNS_NAME_MAX)
			return -1;
	}
	buf[o] = '\0';
	if (next_r != NULL)
		*next_r = off;
	return 0;
}

int
dns_rdata_mx(const unsigned char *rd, size_t len, unsigned *pref_r,
    char *host, size_t size)
{
	size_t next;

	if (len < 3)
		return -1;
	*pref_r = get16(rd);
	if (dns_rdata_hostname(rd, len, 2, host, size, &next) == -1 ||
	    next != len)
		return -1;
	return 0;
}

/* Queries */

static void
query_link(struct dns_query *q)
{
	q->next = dns.queries;
	q->prev = NULL;
	if (dns.queries != NULL)
		dns.queries->prev = q;
	dns.queries = q;
	q->linked = true;
}

static void
query_unlink(struct dns_query *q)
{
	if (!q->linked)
		return;
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		dns.queries = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	q->linked = false;
}

static void
pending_free(struct pending *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		dns.pending = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	free(p);
}

static void
query_free(struct dns_query *q)
{
	size_t i;

	query_unlink(q);
	if (q->sub != NULL) {
		q->sub->parent = NULL;
		dns_cancel(&q->sub);
	}
	if (q->parent != NULL && q->parent->sub == q)
		q->parent->sub = NULL;
	if (q->pend != NULL)
		q->pend->q = NULL;	/* libunbound still owns it */
	if (q->ev != NULL)
		event_free(q->ev);
	dns_answer_free((struct dns_answer **)&q->ans);
	for (i = 0; i < q->nnames; i++)
		free(q->names[i]);
	free(q->domain);
	free(q);
}

void
dns_cancel(struct dns_query **qp)
{
	struct dns_query *q = *qp;

	*qp = NULL;
	/* From inside its own callback: freed when that returns. */
	if (q == NULL || q->delivering)
		return;
	query_free(q);
}

static void
deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query *q = arg;

	query_unlink(q);
	/* A composite's step may finish and free the composite. */
	if (q->parent != NULL) {
		if (q->parent->sub == q)
			q->parent->sub = NULL;
		q->parent = NULL;
	}
	q->delivering = true;
	q->cb(q->ctx, &q->ans->pub);
	q->delivering = false;
	query_free(q);
}

static void
ub_cb(void *arg, int rcode, void *pkt, int len, int sec, char *why_bogus,
    int ratelimited)
{
	struct pending *p = arg;
	struct dns_query *q = p->q;
	struct dns_answer *a;
	const char *err;
	char why[256];

	pending_free(p);
	if (q == NULL)
		return;
	q->pend = NULL;
	if (rcode != 0 || pkt == NULL || len < 0) {
		str_fmt_buf(why, sizeof(why), "resolver: %s%s",
		    rcode == ns_r_servfail ? "SERVFAIL" : "error",
		    ratelimited ? " (rate limited)" : "");
		a = &answer_new(DNS_TEMPFAIL, why)->pub;
	} else if (sec == 1) {
		str_fmt_buf(why, sizeof(why), "DNSSEC validation failed%s%s",
		    why_bogus != NULL ? ": " : "",
		    why_bogus != NULL ? why_bogus : "");
		a = &answer_new(DNS_TEMPFAIL, why)->pub;
	} else if ((a = dns_answer_parse(pkt, (size_t)len, q->rrtype,
	    &err)) == NULL) {
		a = &answer_new(DNS_TEMPFAIL, err)->pub;
	}
	q->ans = (struct answer *)a;
	a->secure = sec == 2;
	/* Deliver from the event loop, never from inside dns_query. */
	event_active(q->ev, EV_TIMEOUT, 1);
}

struct dns_query *
dns_query(const char *name, int rrtype, dns_cb *cb, void *ctx,
    const char **err_r)
{
	struct dns_query *q;
	struct pending *p;
	int rc;

	if (dns.ub == NULL) {
		*err_r = "DNS resolver not initialized";
		return NULL;
	}
	if (!dns_name_valid(name)) {
		char *esc = log_escape_str(name);

		*err_r = ERR_FMT("invalid domain name \"%.300s\"", esc);
		free(esc);
		return NULL;
	}
	if (rrtype <= 0 || rrtype > 65535) {
		*err_r = ERR_FMT("invalid record type %d", rrtype);
		return NULL;
	}
	q = xcalloc(1, sizeof(*q));
	q->kind = Q_RAW;
	q->cb = cb;
	q->ctx = ctx;
	q->ev = event_new(dns.base, -1, 0, deliver_cb, q);
	if (q->ev == NULL)
		fatal("event_new: out of memory");
	p = xcalloc(1, sizeof(*p));
	p->q = q;
	p->next = dns.pending;
	if (dns.pending != NULL)
		dns.pending->prev = p;
	dns.pending = p;
	q->pend = p;
	q->rrtype = rrtype;
	rc = ub_resolve_event(dns.ub, name, rrtype, RR_IN, p, ub_cb, NULL);
	if (rc != 0) {
		/* The callback did not run: p is still ours. */
		if (q->pend == p) {
			pending_free(p);
			q->pend = NULL;
		}
		*err_r = ERR_FMT("resolver: %s", ub_strerror(rc));
		query_free(q);
		return NULL;
	}
	query_link(q);
	return q;
}

/* Composite lookups */

static struct dns_query *
composite_new(enum query_kind kind, void *ctx)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));

	q->kind = kind;
	q->ctx = ctx;
	return q;
}

/* Starts q's next step as its sub-query; false when that is refused. */
static bool
composite_sub(struct dns_query *q, const char *name, int rrtype, dns_cb *cb)
{
	const char *err;

	q->sub = dns_query(name, rrtype, cb, q, &err);
	if (q->sub == NULL)
		return false;
	q->sub->parent = q;
	return true;
}

static void
ptr_finish(struct dns_query *q, enum dns_status status, const char *name)
{
	query_unlink(q);
	q->delivering = true;
	q->name_cb(q->ctx, status, name);
	q->delivering = false;
	query_free(q);
}

static void ptr_forward_cb(void *ctx, const struct dns_answer *a);

/* Tries the forward lookup of the next PTR name, or finishes. */
static void
ptr_next(struct dns_query *q)
{
	while (q->next_name < q->nnames) {
		if (composite_sub(q, q->names[q->next_name++],
		    q->family == AF_INET ? RR_A : RR_AAAA, ptr_forward_cb))
			return;
	}
	ptr_finish(q, q->tempfail ? DNS_TEMPFAIL : DNS_NOTFOUND, NULL);
}

static void
ptr_forward_cb(void *ctx, const struct dns_answer *a)
{
	struct dns_query *q = ctx;
	size_t alen = q->family == AF_INET ? 4 : 16, i;

	q->sub = NULL;
	if (a->status == DNS_TEMPFAIL)
		q->tempfail = true;
	for (i = 0; a->status == DNS_OK && i < a->count; i++) {
		if (a->len[i] == alen && memcmp(a->data[i], q->addr,
		    alen) == 0) {
			ptr_finish(q, DNS_OK, q->names[q->next_name - 1]);
			return;
		}
	}
	ptr_next(q);
}

/*
 * SECURITY: a PTR name that looks like a numeric address (last label
 * all digits) is refused, so that it cannot pass for another client.
 */
static bool
ptr_name_ok(const char *name)
{
	const char *last = strrchr(name, '.');

	last = last != NULL ? last + 1 : name;
	if (*name == '\0' || strspn(last, "0123456789") == strlen(last))
		return false;
	return dns_name_valid(name);
}

static void
ptr_cb(void *ctx, const struct dns_answer *a)
{
	struct dns_query *q = ctx;
	char name[DNS_NAME_MAX + 2];
	size_t i;

	q->sub = NULL;
	if (a->status != DNS_OK) {
		ptr_finish(q, a->status, NULL);
		return;
	}
	for (i = 0; i < a->count && q->nnames < PTR_NAMES_MAX; i++) {
		if (dns_rdata_hostname(a->data[i], a->len[i], 0, name,
		    sizeof(name), NULL) == 0 && ptr_name_ok(name))
			q->names[q->nnames++] = xstrdup(name);
	}
	ptr_next(q);
}

/* The reverse-lookup name of a numeric address, and its bytes. */
static int
reverse_name(const char *addr, int *family_r, unsigned char *bytes,
    char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	struct in6_addr a6;
	size_t o = 0;
	int i;

	if (inet_pton(AF_INET, addr, bytes) == 1) {
		*family_r = AF_INET;
	} else if (inet_pton(AF_INET6, addr, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			*family_r = AF_INET;
			memcpy(bytes, a6.s6_addr + 12, 4);
		} else {
			*family_r = AF_INET6;
			memcpy(bytes, a6.s6_addr, 16);
		}
	} else {
		return -1;
	}
	if (*family_r == AF_INET) {
		str_fmt_buf(buf, size, "%u.%u.%u.%u.in-addr.arpa", bytes[3],
		    bytes[2], bytes[1], bytes[0]);
		return 0;
	}
	for (i = 15; i >= 0; i--) {
		buf[o++] = hex[bytes[i] & 0xf];
		buf[o++] = '.';
		buf[o++] = hex[bytes[i] >> 4];
		buf[o++] = '.';
	}
	str_copy(buf + o, "ip6.arpa", size - o);
	return 0;
}

struct dns_query *
dns_lookup_ptr(const char *addr, dns_name_cb *cb, void *ctx,
    const char **err_r)
{
	char rev[80];
	struct dns_query *q = composite_new(Q_PTR, ctx);

	if (reverse_name(addr, &q->family, q->addr, rev, sizeof(rev)) ==
	    -1) {
		char *esc = log_escape_str(addr);

		*err_r = ERR_FMT("invalid IP address \"%.100s\"", esc);
		free(esc);
		query_free(q);
		return NULL;
	}
	q->name_cb = cb;
	q->sub = dns_query(rev, RR_PTR, ptr_cb, q, err_r);
	if (q->sub == NULL) {
		query_free(q);
		return NULL;
	}
	q->sub->parent = q;
	query_link(q);
	return q;
}

static void
domain_finish(struct dns_query *q, enum dns_status status, bool null_mx)
{
	query_unlink(q);
	q->delivering = true;
	q->domain_cb(q->ctx, status, null_mx);
	q->delivering = false;
	query_free(q);
}

static void
domain_cb(void *ctx, const struct dns_answer *a)
{
	struct dns_query *q = ctx;
	bool null_mx = false;
	char host[DNS_NAME_MAX + 2];
	unsigned pref;
	size_t i;

	q->sub = NULL;
	switch (q->step) {
	case STEP_MX:
		if (a->status == DNS_OK) {
			/* Any MX but a null one (RFC 7505) will do. */
			for (i = 0; i < a->count; i++) {
				if (dns_rdata_mx(a->data[i], a->len[i], &pref,
				    host, sizeof(host)) == -1)
					continue;
				if (*host != '\0') {
					domain_finish(q, DNS_OK, false);
					return;
				}
				if (pref == 0)
					null_mx = true;
			}
			domain_finish(q, DNS_NOTFOUND, null_mx);
			return;
		}
		if (a->status == DNS_TEMPFAIL || a->nxdomain) {
			domain_finish(q, a->status, false);
			return;
		}
		q->step = STEP_A;
		if (composite_sub(q, q->domain, RR_A, domain_cb))
			return;
		break;
	case STEP_A:
	case STEP_AAAA:
		if (a->status == DNS_OK) {
			domain_finish(q, DNS_OK, false);
			return;
		}
		if (a->status == DNS_TEMPFAIL)
			q->tempfail = true;
		if (q->step == STEP_A) {
			q->step = STEP_AAAA;
			if (composite_sub(q, q->domain, RR_AAAA, domain_cb))
				return;
		}
		break;
	}
	domain_finish(q, q->tempfail ? DNS_TEMPFAIL : DNS_NOTFOUND, false);
}

struct dns_query *
dns_lookup_mail_domain(const char *domain, dns_domain_cb *cb, void *ctx,
    const char **err_r)
{
	struct dns_query *q = composite_new(Q_DOMAIN, ctx);

	q->domain_cb = cb;
	q->domain = xstrdup(domain);
	q->step = STEP_MX;
	q->sub = dns_query(domain, RR_MX, domain_cb, q, err_r);
	if (q->sub == NULL) {
		query_free(q);
		return NULL;
	}
	q->sub->parent = q;
	query_link(q);
	return q;
}

/* The resolver */

static void
probe_cb(void *arg, int rcode, void *pkt, int len, int sec, char *why_bogus,
    int ratelimited)
{
	pending_free(arg);
}

int
dns_init(struct event_base *base, const char **err_r)
{
	const char *conf = mail_conf_get("dns_resolver_config");
	struct pending *p;
	int rc;

	ASSERT(dns.ub == NULL);
	if ((dns.ub = ub_ctx_create_event(base)) == NULL) {
		*err_r = "cannot create the DNS resolver";
		return -1;
	}
	dns.base = base;
	if (*conf == '\0') {
		errno = 0;
		if ((rc = ub_ctx_resolvconf(dns.ub, NULL)) != 0) {
			*err_r = ERR_FMT("/etc/resolv.conf: %s%s%s",
			    ub_strerror(rc), errno != 0 ? ": " : "",
			    errno != 0 ? strerror(errno) : "");
			goto fail;
		}
		if ((rc = ub_ctx_hosts(dns.ub, NULL)) != 0) {
			*err_r = ERR_FMT("/etc/hosts: %s", ub_strerror(rc));
			goto fail;
		}
	} else {
		/* libunbound says "syntax error" for a missing file too. */
		FILE *fp = fopen(conf, "r");

		if (fp == NULL) {
			*err_r = ERR_FMT("dns_resolver_config: %s: %s", conf,
			    strerror(errno));
			goto fail;
		}
		fclose(fp);
		if ((rc = ub_ctx_config(dns.ub, conf)) != 0) {
			*err_r = ERR_FMT("dns_resolver_config: %s: %s", conf,
			    ub_strerror(rc));
			goto fail;
		}
	}
	/*
	 * libunbound applies the configuration at the first lookup; one
	 * for localhost (answered from local data) shows errors now.
	 */
	p = xcalloc(1, sizeof(*p));
	p->next = dns.pending;
	if (dns.pending != NULL)
		dns.pending->prev = p;
	dns.pending = p;
	if ((rc = ub_resolve_event(dns.ub, "localhost.", RR_A, RR_IN, p,
	    probe_cb, NULL)) != 0) {
		pending_free(p);	/* an error means no callback */
		*err_r = ERR_FMT("%s%s%s", *conf != '\0' ?
		    "dns_resolver_config: " : "", *conf != '\0' ? conf :
		    "resolver", *conf != '\0' ? ": invalid configuration" :
		    ": cannot start");
		goto fail;
	}
	return 0;
fail:
	dns_deinit();
	return -1;
}

void
dns_deinit(void)
{
	struct dns_query *q;
	struct pending *p;

	while ((q = dns.queries) != NULL) {
		while (q->parent != NULL && q->parent->linked)
			q = q->parent;
		query_free(q);
	}
	/* Pending callbacks run (and find nothing) while it is deleted. */
	if (dns.ub != NULL)
		ub_ctx_delete(dns.ub);
	dns.ub = NULL;
	while ((p = dns.pending) != NULL)
		pending_free(p);
	dns.base = NULL;
}
