/* SPDX-License-Identifier: MIT */
/*
 * MX and TLSA lookups for the smtp client (dns_mx.h), built on dns_query:
 * the MX RRset of a domain (or its implicit MX), then the A/AAAA records
 * of every MX host in parallel, merged into one list of addresses in the
 * order to try.  All callbacks run from the event loop, since every step
 * finishes inside a dns_query callback.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "dns.h"
#include "dns_mx.h"

#define RR_A		1
#define RR_MX		15
#define RR_AAAA		28
#define RR_TLSA		52

/* MX hosts that are looked up; more are ignored (dns.c keeps 100). */
#define MX_HOSTS_MAX	100

/* Postfix's words for name service errors. */
#define WHY_NOTFOUND	"Host or domain name not found. Name service error " \
			"for name=%s type=%s: Host not found"
#define WHY_TEMPFAIL	WHY_NOTFOUND ", try again"

/* The two address families of one host. */
enum { FAM_V4, FAM_V6, FAM_N };

struct mx_family {
	struct mx_host	*h;
	int		 f;		/* FAM_V4 or FAM_V6 */
	struct dns_query *q;
	bool		 asked;
	enum dns_status	 status;
	bool		 nxdomain;
	bool		 secure;
	char		(*addrs)[46];
	size_t		 n;
};

struct mx_host {
	struct dns_mx_query *mq;
	char		 name[DNS_NAME_MAX + 1];
	unsigned	 pref;
	struct mx_family fam[FAM_N];
};

struct dns_mx_query {
	char		 name[DNS_NAME_MAX + 1];
	int		 flags;
	int		 families;
	enum dns_mx_prefer prefer;
	char		**local;
	size_t		 nlocal;
	size_t		 max_addrs;
	dns_mx_cb	*cb;
	void		*ctx;

	struct dns_query *mxq;
	bool		 mx_asked;	/* an MX lookup answered */
	bool		 mx_used;	/* the hosts came from MX records */
	bool		 mx_secure;
	struct mx_host	*hosts;
	size_t		 nhosts;
	size_t		 pending;	/* address lookups in flight */
	bool		 delivering;
	bool		 cancelled;
	char		 why[DNS_NAME_MAX + 160];
};

struct dns_tlsa_query {
	struct dns_query *q;
	char		 name[DNS_NAME_MAX + 1];
	dns_tlsa_cb	*cb;
	void		*ctx;
	bool		 delivering;
	char		 why[DNS_NAME_MAX + 160];
};

static char err_buf[DNS_NAME_MAX + 128];

/* Comparing names: case-insensitive, a trailing dot ignored. */
static bool
name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* Copies name without a trailing dot, lower-cased. */
static void
name_copy(char *dst, const char *src, size_t size)
{
	size_t len;

	str_copy(dst, src, size);
	len = strlen(dst);
	if (len > 0 && dst[len - 1] == '.')
		dst[len - 1] = '\0';
	str_lower(dst);
}

static void
mx_free(struct dns_mx_query *mq)
{
	size_t i, f;

	dns_cancel(&mq->mxq);
	for (i = 0; i < mq->nhosts; i++) {
		for (f = 0; f < FAM_N; f++) {
			dns_cancel(&mq->hosts[i].fam[f].q);
			free(mq->hosts[i].fam[f].addrs);
		}
	}
	free(mq->hosts);
	for (i = 0; i < mq->nlocal; i++)
		free(mq->local[i]);
	free(mq->local);
	free(mq);
}

void
dns_mx_cancel(struct dns_mx_query **qp)
{
	struct dns_mx_query *mq = *qp;

	*qp = NULL;
	if (mq == NULL)
		return;
	/* From inside its own callback: freed when that returns. */
	if (mq->delivering) {
		mq->cancelled = true;
		return;
	}
	mx_free(mq);
}

/* Runs the callback with r and frees the lookup. */
static void
mx_finish(struct dns_mx_query *mq, struct dns_mx_result *r)
{
	r->mx_secure = mq->mx_asked && mq->mx_secure;
	mq->delivering = true;
	mq->cb(mq->ctx, r);
	mq->delivering = false;
	mx_free(mq);
}

static void
mx_fail(struct dns_mx_query *mq, enum dns_status status, const char *why)
{
	struct dns_mx_result r = { .status = status, .why = why };

	mx_finish(mq, &r);
}

/* NOTFOUND or TEMPFAIL with Postfix's text for name and type. */
static void
mx_fail_fmt(struct dns_mx_query *mq, enum dns_status status, bool nxdomain,
    const char *name, const char *type)
{
	struct dns_mx_result r = { .status = status, .nxdomain = nxdomain };

	if (status == DNS_TEMPFAIL)
		str_fmt_buf(mq->why, sizeof(mq->why), WHY_TEMPFAIL, name,
		    type);
	else
		str_fmt_buf(mq->why, sizeof(mq->why), WHY_NOTFOUND, name,
		    type);
	r.why = mq->why;
	mx_finish(mq, &r);
}

/* Appends the addresses of one family of host h to the result. */
static void
add_family(struct dns_mx_query *mq, const struct mx_host *h, int f,
    struct dns_mx_result *r, size_t cap)
{
	const struct mx_family *fm = &h->fam[f];
	struct dns_mx_addr *a;
	size_t i;

	if (fm->status != DNS_OK)
		return;
	for (i = 0; i < fm->n && r->n < cap; i++) {
		a = &r->addrs[r->n++];
		str_copy(a->host, h->name, sizeof(a->host));
		a->pref = h->pref;
		a->family = f == FAM_V4 ? AF_INET : AF_INET6;
		str_copy(a->addr, fm->addrs[i], sizeof(a->addr));
		/* RFC 7672 §2.2: both the MX and the address RRsets. */
		a->secure = fm->secure && (!mq->mx_asked || mq->mx_secure);
	}
}

/* Every address lookup answered: merge them and finish. */
static void
mx_complete(struct dns_mx_query *mq)
{
	struct dns_mx_result r = { .status = DNS_OK };
	const struct mx_host *tf = NULL, *last = NULL;
	size_t total = 0, cap, i, j, f;
	bool nx = true;

	for (i = 0; i < mq->nhosts; i++) {
		for (f = 0; f < FAM_N; f++) {
			const struct mx_family *fm = &mq->hosts[i].fam[f];

			if (!fm->asked)
				continue;
			last = &mq->hosts[i];
			if (fm->status == DNS_OK)
				total += fm->n;
			else if (fm->status == DNS_TEMPFAIL && tf == NULL)
				tf = &mq->hosts[i];
			if (!fm->nxdomain)
				nx = false;
		}
	}
	if (total == 0) {
		const char *type = (mq->families & DNS_MX_IPV4) ? "A" :
		    "AAAA";

		if (tf != NULL)
			mx_fail_fmt(mq, DNS_TEMPFAIL, false, tf->name,
			    type);
		else
			mx_fail_fmt(mq, DNS_NOTFOUND, nx && !mq->mx_used,
			    last != NULL ? last->name : mq->name, type);
		return;
	}
	cap = mq->max_addrs > 0 && mq->max_addrs < total ? mq->max_addrs :
	    total;
	r.addrs = xcalloc(cap, sizeof(*r.addrs));
	/* Hosts are in preference order; group by preference. */
	for (i = 0; i < mq->nhosts; i = j) {
		for (j = i; j < mq->nhosts &&
		    mq->hosts[j].pref == mq->hosts[i].pref; j++)
			continue;
		switch (mq->prefer) {
		case DNS_MX_PREFER_IPV4:
		case DNS_MX_PREFER_IPV6: {
			int first = mq->prefer == DNS_MX_PREFER_IPV4 ? FAM_V4 :
			    FAM_V6;
			size_t k;

			for (k = i; k < j; k++)
				add_family(mq, &mq->hosts[k], first, &r, cap);
			for (k = i; k < j; k++)
				add_family(mq, &mq->hosts[k], 1 - first, &r,
				    cap);
			break;
		}
		default: {
			size_t k;

			for (k = i; k < j; k++) {
				add_family(mq, &mq->hosts[k], FAM_V6, &r, cap);
				add_family(mq, &mq->hosts[k], FAM_V4, &r, cap);
			}
			break;
		}
		}
	}
	mx_finish(mq, &r);
	free(r.addrs);
}

static void
addr_cb(void *ctx, const struct dns_answer *a)
{
	struct mx_family *fm = ctx;
	struct dns_mx_query *mq = fm->h->mq;
	size_t alen = fm->f == FAM_V4 ? 4 : 16, i;
	int af = fm->f == FAM_V4 ? AF_INET : AF_INET6;

	fm->q = NULL;
	fm->status = a->status;
	fm->nxdomain = a->nxdomain;
	fm->secure = a->secure;
	if (a->status == DNS_OK) {
		fm->addrs = xcalloc(a->count, sizeof(*fm->addrs));
		for (i = 0; i < a->count; i++) {
			/* A malformed address record is ignored. */
			if (a->len[i] != alen || inet_ntop(af, a->data[i],
			    fm->addrs[fm->n], sizeof(fm->addrs[0])) == NULL)
				continue;
			fm->n++;
		}
		if (fm->n == 0)
			fm->status = DNS_NOTFOUND;
	}
	ASSERT(mq->pending > 0);
	if (--mq->pending == 0)
		mx_complete(mq);
}

/*
 * Starts the address lookups of every host; returns how many are in
 * flight (0: none could be started, err_r says why).
 */
static size_t
hosts_query(struct dns_mx_query *mq, const char **err_r)
{
	static const int types[FAM_N] = { RR_A, RR_AAAA };
	static const int bits[FAM_N] = { DNS_MX_IPV4, DNS_MX_IPV6 };
	struct mx_family *fm;
	size_t i;
	int f;

	for (i = 0; i < mq->nhosts; i++) {
		for (f = 0; f < FAM_N; f++) {
			fm = &mq->hosts[i].fam[f];
			fm->h = &mq->hosts[i];
			fm->f = f;
			if ((mq->families & bits[f]) == 0)
				continue;
			fm->asked = true;
			fm->q = dns_query(mq->hosts[i].name, types[f], addr_cb,
			    fm, err_r);
			if (fm->q == NULL) {
				fm->status = DNS_TEMPFAIL;
				continue;
			}
			mq->pending++;
		}
	}
	return mq->pending;
}

/* Starts the address lookups from a dns_query callback. */
static void
mx_start_hosts(struct dns_mx_query *mq)
{
	const char *err;

	if (hosts_query(mq, &err) == 0)
		mx_complete(mq);
}

static void
host_add(struct dns_mx_query *mq, const char *name, unsigned pref)
{
	struct mx_host *h;
	size_t i;

	/* The same host twice: its best preference counts. */
	for (i = 0; i < mq->nhosts; i++) {
		if (name_eq(mq->hosts[i].name, name)) {
			if (pref < mq->hosts[i].pref)
				mq->hosts[i].pref = pref;
			return;
		}
	}
	if (mq->nhosts == MX_HOSTS_MAX)
		return;
	h = &mq->hosts[mq->nhosts++];
	memset(h, 0, sizeof(*h));
	h->mq = mq;
	h->pref = pref;
	name_copy(h->name, name, sizeof(h->name));
}

static int
host_cmp(const void *a, const void *b)
{
	const struct mx_host *x = a, *y = b;

	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

/*
 * RFC 5321 §5.1: hosts with equal preference are tried in random order.
 * Shuffle, then a stable sort by preference (insertion sort: at most
 * MX_HOSTS_MAX hosts).
 */
static void
hosts_order(struct dns_mx_query *mq)
{
	struct mx_host tmp;
	size_t i, j;

	for (i = mq->nhosts; i > 1; i--) {
		j = arc4random_uniform((uint32_t)i);
		tmp = mq->hosts[i - 1];
		mq->hosts[i - 1] = mq->hosts[j];
		mq->hosts[j] = tmp;
	}
	for (i = 1; i < mq->nhosts; i++) {
		tmp = mq->hosts[i];
		for (j = i; j > 0 && host_cmp(&mq->hosts[j - 1], &tmp) > 0;
		    j--)
			mq->hosts[j] = mq->hosts[j - 1];
		mq->hosts[j] = tmp;
	}
}

/*
 * RFC 5321 §5.1: when this host is one of the MX hosts, hosts of that
 * preference or above are dropped.  False when none is left.
 */
static bool
hosts_drop_self(struct dns_mx_query *mq)
{
	unsigned self = 0;
	bool found = false;
	size_t i, j;

	for (i = 0; i < mq->nhosts; i++) {
		for (j = 0; j < mq->nlocal; j++) {
			if (name_eq(mq->hosts[i].name, mq->local[j]) &&
			    (!found || mq->hosts[i].pref < self)) {
				self = mq->hosts[i].pref;
				found = true;
			}
		}
	}
	if (!found)
		return true;
	for (i = j = 0; i < mq->nhosts; i++) {
		if (mq->hosts[i].pref < self)
			mq->hosts[j++] = mq->hosts[i];
	}
	mq->nhosts = j;
	return j > 0;
}

static void
mx_cb(void *ctx, const struct dns_answer *a)
{
	struct dns_mx_query *mq = ctx;
	char host[DNS_NAME_MAX + 2];
	unsigned pref;
	size_t i, bad = 0;

	mq->mxq = NULL;
	mq->mx_asked = true;
	mq->mx_secure = a->secure;
	if (a->status == DNS_TEMPFAIL) {
		mx_fail_fmt(mq, DNS_TEMPFAIL, false, mq->name, "MX");
		return;
	}
	if (a->nxdomain) {
		mx_fail_fmt(mq, DNS_NOTFOUND, true, mq->name, "MX");
		return;
	}
	mq->hosts = xcalloc(a->status == DNS_OK && a->count > 0 ? a->count :
	    1, sizeof(*mq->hosts));
	if (a->status != DNS_OK) {
		/* RFC 5321 §5.1: no MX records, the implicit MX. */
		host_add(mq, mq->name, 0);
		mx_start_hosts(mq);
		return;
	}
	/* RFC 7505 §3: a single MX with preference 0 and exchange ".". */
	if (a->count == 1 && dns_rdata_mx(a->data[0], a->len[0], &pref, host,
	    sizeof(host)) == 0 && pref == 0 && *host == '\0') {
		struct dns_mx_result r = { .status = DNS_NOTFOUND,
		    .null_mx = true };

		str_fmt_buf(mq->why, sizeof(mq->why),
		    "Domain %s does not accept mail (nullMX)", mq->name);
		r.why = mq->why;
		mx_finish(mq, &r);
		return;
	}
	mq->mx_used = true;
	for (i = 0; i < a->count; i++) {
		/* Malformed records and "." among others are skipped. */
		if (dns_rdata_mx(a->data[i], a->len[i], &pref, host,
		    sizeof(host)) == -1 || *host == '\0' ||
		    !dns_name_valid(host)) {
			bad++;
			continue;
		}
		host_add(mq, host, pref);
	}
	if (mq->nhosts == 0) {
		str_fmt_buf(mq->why, sizeof(mq->why), "Host or domain name "
		    "not found. Name service error for name=%s type=MX: "
		    "Malformed or unexpected name server reply", mq->name);
		mx_fail(mq, DNS_NOTFOUND, mq->why);
		return;
	}
	if (bad > 0)
		log_warn("dns: %zu malformed MX record%s for %s ignored", bad,
		    bad == 1 ? "" : "s", mq->name);
	hosts_order(mq);
	if (!hosts_drop_self(mq)) {
		struct dns_mx_result r = { .status = DNS_NOTFOUND,
		    .loops = true };

		str_fmt_buf(mq->why, sizeof(mq->why),
		    "mail for %s loops back to myself", mq->name);
		r.why = mq->why;
		mx_finish(mq, &r);
		return;
	}
	mx_start_hosts(mq);
}

struct dns_mx_query *
dns_mx_lookup(const char *name, int flags, const struct dns_mx_opts *opts,
    dns_mx_cb *cb, void *ctx, const char **err_r)
{
	struct dns_mx_query *mq;
	size_t i;

	if (!dns_name_valid(name)) {
		char *esc = log_escape_str(name);

		*err_r = str_fmt_buf(err_buf, sizeof(err_buf),
		    "invalid domain name \"%.253s\"", esc);
		free(esc);
		return NULL;
	}
	if ((opts->families & (DNS_MX_IPV4 | DNS_MX_IPV6)) == 0) {
		*err_r = "no address family to look up";
		return NULL;
	}
	mq = xcalloc(1, sizeof(*mq));
	name_copy(mq->name, name, sizeof(mq->name));
	mq->flags = flags;
	mq->families = opts->families;
	mq->prefer = opts->prefer;
	mq->max_addrs = opts->max_addrs;
	mq->cb = cb;
	mq->ctx = ctx;
	if (opts->nlocal > 0) {
		mq->local = xcalloc(opts->nlocal, sizeof(*mq->local));
		for (i = 0; i < opts->nlocal; i++)
			mq->local[i] = xstrdup(opts->local_names[i]);
		mq->nlocal = opts->nlocal;
	}
	if (flags & DNS_MX_USE_MX) {
		mq->mxq = dns_query(mq->name, RR_MX, mx_cb, mq, err_r);
		if (mq->mxq == NULL) {
			mx_free(mq);
			return NULL;
		}
		return mq;
	}
	/* A "[host]" next hop: its addresses only. */
	mq->hosts = xcalloc(1, sizeof(*mq->hosts));
	host_add(mq, mq->name, 0);
	if (hosts_query(mq, err_r) == 0) {
		mx_free(mq);
		return NULL;
	}
	return mq;
}

/* TLSA */

/*
 * One TLSA rdata (RFC 6698 §2.1): usage, selector, matching type, then
 * the certificate association data.  Fails closed: no data, or data
 * whose length does not match a SHA-256 (32) or SHA-512 (64) digest for
 * matching types 1 and 2 (§2.1.3).  Unknown usages, selectors and
 * matching types are kept: the TLS layer decides what is usable.
 */
int
dns_tlsa_parse(const unsigned char *rd, size_t len, struct dns_tlsa *t)
{
	if (len < 4)
		return -1;
	t->usage = rd[0];
	t->selector = rd[1];
	t->mtype = rd[2];
	t->data = rd + 3;
	t->len = len - 3;
	if ((t->mtype == 1 && t->len != 32) || (t->mtype == 2 &&
	    t->len != 64))
		return -1;
	return 0;
}

static void
tlsa_free(struct dns_tlsa_query *tq)
{
	dns_cancel(&tq->q);
	free(tq);
}

void
dns_tlsa_cancel(struct dns_tlsa_query **qp)
{
	struct dns_tlsa_query *tq = *qp;

	*qp = NULL;
	/* From inside its own callback: freed when that returns. */
	if (tq == NULL || tq->delivering)
		return;
	tlsa_free(tq);
}

static void
tlsa_cb(void *ctx, const struct dns_answer *a)
{
	struct dns_tlsa_query *tq = ctx;
	struct dns_tlsa_result r = { .status = a->status, .secure = a->secure };
	struct dns_tlsa *recs = NULL;
	size_t i;

	tq->q = NULL;
	if (a->status == DNS_TEMPFAIL) {
		str_fmt_buf(tq->why, sizeof(tq->why), WHY_TEMPFAIL, tq->name,
		    "TLSA");
		r.why = tq->why;
	} else if (a->status == DNS_NOTFOUND) {
		str_fmt_buf(tq->why, sizeof(tq->why), WHY_NOTFOUND, tq->name,
		    "TLSA");
		r.why = tq->why;
	} else {
		recs = xcalloc(a->count, sizeof(*recs));
		for (i = 0; i < a->count; i++) {
			if (dns_tlsa_parse(a->data[i], a->len[i],
			    &recs[r.n]) == 0)
				r.n++;
		}
		r.records = recs;
	}
	tq->delivering = true;
	tq->cb(tq->ctx, &r);
	free(recs);
	free(tq);
}

struct dns_tlsa_query *
dns_tlsa_lookup(const char *host, unsigned port, dns_tlsa_cb *cb, void *ctx,
    const char **err_r)
{
	struct dns_tlsa_query *tq;
	char name[DNS_NAME_MAX + 32];

	if (!dns_name_valid(host) || port == 0 || port > 65535) {
		char *esc = log_escape_str(host);

		*err_r = str_fmt_buf(err_buf, sizeof(err_buf),
		    "invalid TLSA base \"%.253s\" port %u", esc, port);
		free(esc);
		return NULL;
	}
	/* RFC 6698 §3: _port._tcp.host. */
	str_fmt_buf(name, sizeof(name), "_%u._tcp.%s", port, host);
	if (!dns_name_valid(name)) {
		*err_r = "TLSA name too long";
		return NULL;
	}
	tq = xcalloc(1, sizeof(*tq));
	name_copy(tq->name, name, sizeof(tq->name));
	tq->cb = cb;
	tq->ctx = ctx;
	tq->q = dns_query(tq->name, RR_TLSA, tlsa_cb, tq, err_r);
	if (tq->q == NULL) {
		free(tq);
		return NULL;
	}
	return tq;
}
