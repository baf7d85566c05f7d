/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for dns_mx.c: MX and TLSA lookups through libunbound in an
 * event loop, against an unbound.conf of local data (every other name is
 * refused, so nothing leaves the machine) and, for what local data cannot
 * express (SERVFAIL, hostile rdata, counting queries to show the cache), a
 * tiny DNS server on a loopback UDP port in a thread, to which the zone
 * srv.test is forwarded.
 */
#include "config.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "dns.h"
#include "dns_mx.h"
#include "mail_conf.h"

static char dir[] = "/tmp/test_dns_mx.XXXXXX";
static struct event_base *base;

static const char unbound_conf[] =
    "server:\n"
    "	verbosity: 0\n"
    "	do-not-query-localhost: no\n"
    "	qname-minimisation: no\n"
    "	outbound-msg-retry: 1\n"
    "	local-zone: \".\" refuse\n"
    "	local-zone: \"test.\" static\n"
    /* Preference order. */
    "	local-data: \"pref.test. 300 IN MX 20 b.pref.test.\"\n"
    "	local-data: \"pref.test. 300 IN MX 10 A.Pref.Test.\"\n"
    "	local-data: \"pref.test. 300 IN MX 30 c.pref.test.\"\n"
    "	local-data: \"a.pref.test. IN A 127.0.0.21\"\n"
    "	local-data: \"b.pref.test. IN A 127.0.0.22\"\n"
    "	local-data: \"c.pref.test. IN A 127.0.0.23\"\n"
    /* Equal preferences. */
    "	local-data: \"eq.test. IN MX 10 x.eq.test.\"\n"
    "	local-data: \"eq.test. IN MX 10 y.eq.test.\"\n"
    "	local-data: \"x.eq.test. IN A 127.0.0.31\"\n"
    "	local-data: \"x.eq.test. IN AAAA 2001:db8::31\"\n"
    "	local-data: \"y.eq.test. IN A 127.0.0.32\"\n"
    "	local-data: \"y.eq.test. IN AAAA 2001:db8::32\"\n"
    /* Implicit MX, null MX, no data. */
    "	local-data: \"implicit.test. IN A 127.0.0.41\"\n"
    "	local-data: \"implicit.test. IN AAAA 2001:db8::41\"\n"
    "	local-data: \"nullmx.test. IN MX 0 .\"\n"
    "	local-data: \"nullmx.test. IN A 127.0.0.42\"\n"
    "	local-data: \"nullmx10.test. IN MX 10 .\"\n"
    "	local-data: \"twonull.test. IN MX 0 .\"\n"
    "	local-data: \"twonull.test. IN MX 10 h.twonull.test.\"\n"
    "	local-data: \"h.twonull.test. IN A 127.0.0.43\"\n"
    "	local-data: \"empty.test. IN TXT nothing\"\n"
    "	local-data: \"noaddr.test. IN MX 10 none.noaddr.test.\"\n"
    /* Loops. */
    "	local-data: \"loop.test. IN MX 10 me.loop.test.\"\n"
    "	local-data: \"loop.test. IN MX 20 other.loop.test.\"\n"
    "	local-data: \"other.loop.test. IN A 127.0.0.52\"\n"
    "	local-data: \"loop2.test. IN MX 5 first.loop2.test.\"\n"
    "	local-data: \"loop2.test. IN MX 10 me.loop.test.\"\n"
    "	local-data: \"loop2.test. IN MX 20 other.loop.test.\"\n"
    "	local-data: \"first.loop2.test. IN A 127.0.0.51\"\n"
    /* Families. */
    "	local-data: \"dual.test. IN MX 10 h1.dual.test.\"\n"
    "	local-data: \"dual.test. IN MX 20 h2.dual.test.\"\n"
    "	local-data: \"h1.dual.test. IN A 127.0.0.61\"\n"
    "	local-data: \"h1.dual.test. IN AAAA 2001:db8::61\"\n"
    "	local-data: \"h2.dual.test. IN A 127.0.0.62\"\n"
    "	local-data: \"h2.dual.test. IN AAAA 2001:db8::62\"\n"
    "	local-data: \"v6.test. IN MX 10 h.v6.test.\"\n"
    "	local-data: \"h.v6.test. IN AAAA ::1\"\n"
    /* An MX host whose address lookup fails, and one that works. */
    "	local-data: \"tf.test. IN MX 10 h.servfail.srv.test.\"\n"
    "	local-data: \"tf.test. IN MX 20 ok.tf.test.\"\n"
    "	local-data: \"ok.tf.test. IN A 127.0.0.71\"\n"
    "	local-data: \"tfonly.test. IN MX 10 h.servfail.srv.test.\"\n"
    "	local-data: \"tfonly.test. IN MX 20 none.tfonly.test.\"\n"
    "	local-data: \"slow.test. IN MX 10 h.drop.srv.test.\"\n"
    /* TLSA from local data. */
    "	local-data: \"_25._tcp.tlsa.test. IN TLSA 3 1 1 "
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n"
    "	local-data: \"_465._tcp.tlsa.test. IN TLSA 2 0 0 3082\"\n"
    "	local-data: \"tlsa.test. IN A 127.0.0.91\"\n"
    "	local-zone: \"srv.test.\" transparent\n"
    "forward-zone:\n"
    "	name: \"srv.test.\"\n"
    "	forward-addr: 127.0.0.1@%d\n";

static const char *const files[] = { "main.cf", "unbound.conf" };

/* The DNS server thread */

static struct {
	int fd;
	int port;
	pthread_t thread;
	atomic_bool stop;
	atomic_int queries;		/* every query received */
	atomic_int cache_mx;		/* MX queries for cache.srv.test */
	atomic_int cache_a;		/* A queries for h.cache.srv.test */
} srv;

struct pkt {
	unsigned char b[1024];
	size_t n;
};

static void
put(struct pkt *p, const void *data, size_t n)
{
	ck_assert_uint_le(p->n + n, sizeof(p->b));
	memcpy(p->b + p->n, data, n);
	p->n += n;
}

static void
put16(struct pkt *p, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put(p, b, 2);
}

/* A wire name from dotted text (labels taken as they are). */
static void
put_name(struct pkt *p, const char *name)
{
	const char *dot;
	unsigned char len;

	while (*name != '\0') {
		dot = strchr(name, '.');
		len = (unsigned char)(dot != NULL ? (size_t)(dot - name) :
		    strlen(name));
		put(p, &len, 1);
		put(p, name, len);
		name += len;
		if (*name == '.')
			name++;
	}
	put(p, "", 1);
}

/* Starts one answer record for the question's name (a pointer to it). */
static void
put_rr(struct pkt *p, unsigned type, uint32_t ttl, const void *rd,
    size_t rdlen)
{
	put16(p, 0xc00c);
	put16(p, type);
	put16(p, 1);
	put16(p, ttl >> 16);
	put16(p, ttl & 0xffff);
	put16(p, (unsigned)rdlen);
	put(p, rd, rdlen);
}

/* An MX record whose exchange is written as text. */
static void
put_mx(struct pkt *p, unsigned pref, const char *host)
{
	struct pkt rd = { .n = 0 };

	put16(&rd, pref);
	put_name(&rd, host);
	put_rr(p, 15, 300, rd.b, rd.n);
}

static void
put_a(struct pkt *p, const char *addr)
{
	unsigned char a[4];

	ck_assert_int_eq(inet_pton(AF_INET, addr, a), 1);
	put_rr(p, 1, 300, a, 4);
}

/*
 * Answers one query: the header and question are copied, then the
 * answer depends on the name.  Returns false to send nothing.
 */
static bool
srv_answer(const unsigned char *q, size_t qlen, struct pkt *p)
{
	char name[256];
	size_t off = 12, o = 0, ancount_at = 6;
	unsigned type, an = 0;
	unsigned char rcode = 0;

	if (qlen < 12 + 5)
		return false;
	while (off < qlen && q[off] != 0) {
		size_t l = q[off];

		if (l > 63 || off + 1 + l >= qlen || o + l + 1 >= sizeof(name))
			return false;
		if (o > 0)
			name[o++] = '.';
		memcpy(name + o, q + off + 1, l);
		o += l;
		off += l + 1;
	}
	name[o] = '\0';
	str_lower(name);
	if (off + 5 > qlen)
		return false;
	type = (unsigned)q[off + 1] << 8 | q[off + 2];
	off += 5;
	p->n = 0;
	put(p, q, off);
	/* QR, AA, RD copied; RA; no additional records. */
	p->b[2] = (unsigned char)(0x84 | (q[2] & 0x01));
	p->b[3] = 0x80;
	p->b[6] = p->b[7] = p->b[8] = p->b[9] = p->b[10] = p->b[11] = 0;
	p->b[5] = 1;
	p->b[4] = 0;

	if (str_has_suffix_ci(name, "drop.srv.test"))
		return false;
	if (str_has_suffix_ci(name, "servfail.srv.test")) {
		rcode = 2;
	} else if (strcmp(name, "cache.srv.test") == 0 && type == 15) {
		srv.cache_mx++;
		put_mx(p, 10, "h.cache.srv.test");
		an = 1;
	} else if (strcmp(name, "h.cache.srv.test") == 0 && type == 1) {
		srv.cache_a++;
		put_a(p, "127.0.0.101");
		an = 1;
	} else if (strcmp(name, "comp.srv.test") == 0 && type == 15) {
		/* The exchange is a compression pointer to the qname. */
		static const unsigned char rd[] = { 0, 10, 0xc0, 0x0c };

		put_rr(p, 15, 300, rd, sizeof(rd));
		an = 1;
	} else if (strcmp(name, "comp.srv.test") == 0 && type == 1) {
		put_a(p, "127.0.0.102");
		an = 1;
	} else if (strcmp(name, "badname.srv.test") == 0 && type == 15) {
		put_mx(p, 5, "bad host!.badname.srv.test");
		put_mx(p, 7, "x\x01y.badname.srv.test");
		put_mx(p, 10, "ok.badname.srv.test");
		an = 3;
	} else if (strcmp(name, "ok.badname.srv.test") == 0 && type == 1) {
		put_a(p, "127.0.0.103");
		an = 1;
	} else if (strcmp(name, "allbad.srv.test") == 0 && type == 15) {
		put_mx(p, 5, "bad host!.allbad.srv.test");
		put_mx(p, 6, "*.allbad.srv.test");
		an = 2;
	} else if (strcmp(name, "trunc.srv.test") == 0 && type == 15) {
		/* rdlength says 20 but the packet ends before. */
		put16(p, 0xc00c);
		put16(p, 15);
		put16(p, 1);
		put16(p, 0);
		put16(p, 300);
		put16(p, 20);
		put16(p, 10);
		put(p, "\x02h", 2);
		an = 1;
	} else if (strcmp(name, "badaddr.srv.test") == 0 && type == 1) {
		/* An A record of 3 bytes, and a good one. */
		put_rr(p, 1, 300, "\x7f\x00\x00", 3);
		put_a(p, "127.0.0.104");
		an = 2;
	} else if (strcmp(name, "_25._tcp.tlsa.srv.test") == 0 &&
	    type == 52) {
		unsigned char rd[3 + 64];

		memset(rd, 0xab, sizeof(rd));
		rd[0] = 3, rd[1] = 1, rd[2] = 1;
		put_rr(p, 52, 300, rd, 3 + 32);	/* good SHA-256 */
		put_rr(p, 52, 300, rd, 3 + 31);	/* short digest */
		rd[2] = 2;
		put_rr(p, 52, 300, rd, 3 + 64);	/* good SHA-512 */
		put_rr(p, 52, 300, rd, 3 + 65 - 1 - 32); /* bad SHA-512 */
		put_rr(p, 52, 300, rd, 3);	/* no data */
		put_rr(p, 52, 300, rd, 2);	/* truncated */
		rd[0] = 7, rd[1] = 9, rd[2] = 200;
		put_rr(p, 52, 300, rd, 3 + 5);	/* unknown, kept */
		an = 7;
	} else if (strcmp(name, "_25._tcp.badtlsa.srv.test") == 0 &&
	    type == 52) {
		put_rr(p, 52, 300, "\x03\x01", 2);
		an = 1;
	} else if (strcmp(name, "cn.srv.test") == 0 && type == 15) {
		put_mx(p, 10, "alias.cn.srv.test");
		an = 1;
	} else if (strcmp(name, "alias.cn.srv.test") == 0) {
		struct pkt rd = { .n = 0 };

		put_name(&rd, "real.cn.srv.test");
		put_rr(p, 5, 300, rd.b, rd.n);
		an = 1;
	} else if (strcmp(name, "real.cn.srv.test") == 0 && type == 1) {
		put_a(p, "127.0.0.105");
		an = 1;
	} else if (strcmp(name, "nx.srv.test") == 0 ||
	    strcmp(name, "_25._tcp.nx.srv.test") == 0) {
		rcode = 3;
	}
	p->b[3] |= rcode;
	p->b[ancount_at] = (unsigned char)(an >> 8);
	p->b[ancount_at + 1] = (unsigned char)an;
	return true;
}

static void *
srv_main(void *arg)
{
	unsigned char q[1500];
	struct pkt p;
	struct sockaddr_storage from;
	struct pollfd pfd = { .fd = srv.fd, .events = POLLIN };
	socklen_t flen;
	ssize_t n;

	(void)arg;
	while (!srv.stop) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		flen = sizeof(from);
		n = recvfrom(srv.fd, q, sizeof(q), 0, (struct sockaddr *)&from,
		    &flen);
		if (n <= 0)
			continue;
		srv.queries++;
		if (srv_answer(q, (size_t)n, &p))
			(void)sendto(srv.fd, p.b, p.n, 0,
			    (struct sockaddr *)&from, flen);
	}
	return NULL;
}

static void
srv_start(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	srv.fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(srv.fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(srv.fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	ck_assert_int_eq(getsockname(srv.fd, (struct sockaddr *)&sin, &len),
	    0);
	srv.port = ntohs(sin.sin_port);
	srv.stop = false;
	ck_assert_int_eq(pthread_create(&srv.thread, NULL, srv_main, NULL),
	    0);
}

static void
srv_stop(void)
{
	srv.stop = true;
	pthread_join(srv.thread, NULL);
	close(srv.fd);
}

/* Fixture */

static void
write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
	free(path);
}

static void
setup(void)
{
	char *text;
	const char *err;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	srv_start();
	text = xasprintf(unbound_conf, srv.port);
	write_file("unbound.conf", text);
	free(text);
	text = xasprintf("dns_resolver_config = %s/unbound.conf\n", dir);
	write_file("main.cf", text);
	free(text);
	if (mail_conf_try_load(dir, NULL, false, &err) == -1)
		ck_abort_msg("mail_conf_try_load: %s", err);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	if (dns_init(base, &err) == -1)
		ck_abort_msg("dns_init: %s", err);
}

static void
teardown(void)
{
	char *path;
	size_t i;

	dns_deinit();
	event_base_free(base);
	base = NULL;
	srv_stop();
	for (i = 0; i < ARRAY_LEN(files); i++) {
		path = xasprintf("%s/%s", dir, files[i]);
		unlink(path);
		free(path);
	}
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	mail_conf_unload();
}

/* Runs the loop until *count reaches want, for at most 15 seconds. */
static void
run_until(const int *count, int want)
{
	time_t end = time(NULL) + 15;

	while (*count < want) {
		if (time(NULL) > end)
			ck_abort_msg("DNS lookup did not finish in time");
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (*count < want)
			usleep(1000);
	}
}

/* Runs the loop for ms milliseconds. */
static void
run_for(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* MX lookups */

#define MAX_ADDRS	16

struct mx_result {
	int calls;
	enum dns_status status;
	bool nxdomain, null_mx, loops, mx_secure;
	char why[512];
	size_t n;
	struct dns_mx_addr addrs[MAX_ADDRS];
	/* Cancel from inside the callback. */
	struct dns_mx_query **self;
};

static void
mx_cb(void *ctx, const struct dns_mx_result *r)
{
	struct mx_result *m = ctx;
	size_t i;

	m->calls++;
	m->status = r->status;
	m->nxdomain = r->nxdomain;
	m->null_mx = r->null_mx;
	m->loops = r->loops;
	m->mx_secure = r->mx_secure;
	str_copy(m->why, r->why != NULL ? r->why : "", sizeof(m->why));
	if (r->status == DNS_OK)
		ck_assert_uint_gt(r->n, 0);
	else
		ck_assert_ptr_nonnull(r->why);
	ck_assert_uint_le(r->n, MAX_ADDRS);
	m->n = r->n;
	for (i = 0; i < r->n; i++)
		m->addrs[i] = r->addrs[i];
	if (m->self != NULL)
		dns_mx_cancel(m->self);
}

static const struct dns_mx_opts opts_v4 = { .families = DNS_MX_IPV4 };
static const struct dns_mx_opts opts_both = {
	.families = DNS_MX_IPV4 | DNS_MX_IPV6,
};

static struct mx_result
mx_lookup(const char *name, int flags, const struct dns_mx_opts *opts)
{
	struct mx_result m = { 0 };
	struct dns_mx_query *q;
	const char *err;

	q = dns_mx_lookup(name, flags, opts, mx_cb, &m, &err);
	if (q == NULL)
		ck_abort_msg("dns_mx_lookup %s: %s", name, err);
	/* Never from inside dns_mx_lookup. */
	ck_assert_int_eq(m.calls, 0);
	run_until(&m.calls, 1);
	run_for(5);
	ck_assert_int_eq(m.calls, 1);
	return m;
}

/* "host/addr,host/addr,..." of a result, for comparisons. */
static char *
mx_list(const struct mx_result *m)
{
	struct strv sv;
	char *s;
	size_t i;

	strv_init(&sv);
	for (i = 0; i < m->n; i++) {
		s = xasprintf("%s/%u/%s", m->addrs[i].host, m->addrs[i].pref,
		    m->addrs[i].addr);
		strv_push_owned(&sv, s);
		ck_assert(!m->addrs[i].secure);
		ck_assert_int_eq(m->addrs[i].family,
		    strchr(m->addrs[i].addr, ':') != NULL ? AF_INET6 :
		    AF_INET);
	}
	s = strv_join(&sv, ",");
	strv_deinit(&sv);
	return s;
}

static const struct {
	const char *name;
	int flags;
	int families;
	enum dns_mx_prefer prefer;
	size_t max_addrs;
	enum dns_status status;
	const char *list;	/* OK: mx_list(); otherwise: why */
	bool nxdomain, null_mx;
} mx_cases[] = {
	/* RFC 5321 §5.1: preference order; names lower-cased. */
	{ "pref.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_OK,
	  "a.pref.test/10/127.0.0.21,b.pref.test/20/127.0.0.22,"
	  "c.pref.test/30/127.0.0.23", false, false },
	{ "PREF.Test.", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 2, DNS_OK,
	  "a.pref.test/10/127.0.0.21,b.pref.test/20/127.0.0.22",
	  false, false },
	/* Implicit MX. */
	{ "implicit.test", DNS_MX_USE_MX, DNS_MX_IPV4 | DNS_MX_IPV6, 0, 0,
	  DNS_OK, "implicit.test/0/2001:db8::41,implicit.test/0/127.0.0.41",
	  false, false },
	{ "implicit.test", DNS_MX_USE_MX, DNS_MX_IPV4 | DNS_MX_IPV6,
	  DNS_MX_PREFER_IPV4, 0, DNS_OK,
	  "implicit.test/0/127.0.0.41,implicit.test/0/2001:db8::41",
	  false, false },
	/* Null MX (RFC 7505); with another preference it is no null MX. */
	{ "nullmx.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_NOTFOUND,
	  "Domain nullmx.test does not accept mail (nullMX)", false, true },
	{ "nullmx10.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_NOTFOUND,
	  "Host or domain name not found. Name service error for "
	  "name=nullmx10.test type=MX: Malformed or unexpected name server "
	  "reply", false, false },
	{ "twonull.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_OK,
	  "h.twonull.test/10/127.0.0.43", false, false },
	/* The name does not exist; no MX and no address; no address. */
	{ "missing.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_NOTFOUND,
	  "Host or domain name not found. Name service error for "
	  "name=missing.test type=MX: Host not found", true, false },
	{ "empty.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_NOTFOUND,
	  "Host or domain name not found. Name service error for "
	  "name=empty.test type=A: Host not found", false, false },
	{ "noaddr.test", DNS_MX_USE_MX, DNS_MX_IPV4 | DNS_MX_IPV6, 0, 0,
	  DNS_NOTFOUND, "Host or domain name not found. Name service error "
	  "for name=none.noaddr.test type=A: Host not found", false, false },
	/* Families and their order. */
	{ "dual.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_OK,
	  "h1.dual.test/10/127.0.0.61,h2.dual.test/20/127.0.0.62",
	  false, false },
	{ "dual.test", DNS_MX_USE_MX, DNS_MX_IPV6, 0, 0, DNS_OK,
	  "h1.dual.test/10/2001:db8::61,h2.dual.test/20/2001:db8::62",
	  false, false },
	{ "dual.test", DNS_MX_USE_MX, DNS_MX_IPV4 | DNS_MX_IPV6, 0, 0, DNS_OK,
	  "h1.dual.test/10/2001:db8::61,h1.dual.test/10/127.0.0.61,"
	  "h2.dual.test/20/2001:db8::62,h2.dual.test/20/127.0.0.62",
	  false, false },
	{ "dual.test", DNS_MX_USE_MX, DNS_MX_IPV4 | DNS_MX_IPV6,
	  DNS_MX_PREFER_IPV4, 0, DNS_OK,
	  "h1.dual.test/10/127.0.0.61,h1.dual.test/10/2001:db8::61,"
	  "h2.dual.test/20/127.0.0.62,h2.dual.test/20/2001:db8::62",
	  false, false },
	{ "dual.test", DNS_MX_USE_MX, DNS_MX_IPV4 | DNS_MX_IPV6,
	  DNS_MX_PREFER_IPV6, 3, DNS_OK,
	  "h1.dual.test/10/2001:db8::61,h1.dual.test/10/127.0.0.61,"
	  "h2.dual.test/20/2001:db8::62", false, false },
	{ "dual.test", DNS_MX_USE_MX, DNS_MX_IPV4 | DNS_MX_IPV6,
	  DNS_MX_PREFER_IPV4, 1, DNS_OK, "h1.dual.test/10/127.0.0.61",
	  false, false },
	/* An IPv6-only host is not found over IPv4. */
	{ "v6.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_NOTFOUND,
	  "Host or domain name not found. Name service error for "
	  "name=h.v6.test type=A: Host not found", false, false },
	{ "v6.test", DNS_MX_USE_MX, DNS_MX_IPV6 | DNS_MX_IPV4, 0, 0, DNS_OK,
	  "h.v6.test/10/::1", false, false },
	/* Without DNS_MX_USE_MX: the name's own addresses. */
	{ "a.pref.test", 0, DNS_MX_IPV4, 0, 0, DNS_OK,
	  "a.pref.test/0/127.0.0.21", false, false },
	{ "pref.test", 0, DNS_MX_IPV4 | DNS_MX_IPV6, 0, 0, DNS_NOTFOUND,
	  "Host or domain name not found. Name service error for "
	  "name=pref.test type=A: Host not found", false, false },
	{ "gone.test", 0, DNS_MX_IPV4 | DNS_MX_IPV6, 0, 0, DNS_NOTFOUND,
	  "Host or domain name not found. Name service error for "
	  "name=gone.test type=A: Host not found", true, false },
	/* An MX host that fails temporarily is skipped... */
	{ "tf.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_OK,
	  "ok.tf.test/20/127.0.0.71", false, false },
	/* ...unless no host has an address. */
	{ "tfonly.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_TEMPFAIL,
	  "Host or domain name not found. Name service error for "
	  "name=h.servfail.srv.test type=A: Host not found, try again",
	  false, false },
	/* SERVFAIL for the MX lookup. */
	{ "x.servfail.srv.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0,
	  DNS_TEMPFAIL, "Host or domain name not found. Name service error "
	  "for name=x.servfail.srv.test type=MX: Host not found, try again",
	  false, false },
	{ "nx.srv.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_NOTFOUND,
	  "Host or domain name not found. Name service error for "
	  "name=nx.srv.test type=MX: Host not found", true, false },
	/* Refused by the resolver configuration: a temporary failure. */
	{ "example.com", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_TEMPFAIL,
	  "Host or domain name not found. Name service error for "
	  "name=example.com type=MX: Host not found, try again",
	  false, false },
	/* CNAMEs are followed (libunbound does not chase them in local
	   data, so the server gives one). */
	{ "cn.srv.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_OK,
	  "alias.cn.srv.test/10/127.0.0.105", false, false },
	/* Hostile data from a server. */
	{ "comp.srv.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_OK,
	  "comp.srv.test/10/127.0.0.102", false, false },
	{ "badname.srv.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_OK,
	  "ok.badname.srv.test/10/127.0.0.103", false, false },
	{ "allbad.srv.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_NOTFOUND,
	  "Host or domain name not found. Name service error for "
	  "name=allbad.srv.test type=MX: Malformed or unexpected name "
	  "server reply", false, false },
	{ "trunc.srv.test", DNS_MX_USE_MX, DNS_MX_IPV4, 0, 0, DNS_TEMPFAIL,
	  "Host or domain name not found. Name service error for "
	  "name=trunc.srv.test type=MX: Host not found, try again",
	  false, false },
	{ "badaddr.srv.test", 0, DNS_MX_IPV4, 0, 0, DNS_OK,
	  "badaddr.srv.test/0/127.0.0.104", false, false },
};

START_TEST(test_mx)
{
	struct dns_mx_opts opts = {
		.families = mx_cases[_i].families,
		.prefer = mx_cases[_i].prefer,
		.max_addrs = mx_cases[_i].max_addrs,
	};
	struct mx_result m = mx_lookup(mx_cases[_i].name, mx_cases[_i].flags,
	    &opts);
	char *list;

	ck_assert_int_eq(m.status, mx_cases[_i].status);
	ck_assert_int_eq(m.nxdomain, mx_cases[_i].nxdomain);
	ck_assert_int_eq(m.null_mx, mx_cases[_i].null_mx);
	ck_assert(!m.loops);
	ck_assert(!m.mx_secure);
	if (m.status == DNS_OK) {
		list = mx_list(&m);
		ck_assert_str_eq(list, mx_cases[_i].list);
		free(list);
		if (mx_cases[_i].max_addrs > 0)
			ck_assert_uint_le(m.n, mx_cases[_i].max_addrs);
	} else {
		ck_assert_uint_eq(m.n, 0);
		ck_assert_str_eq(m.why, mx_cases[_i].list);
	}
}
END_TEST

/* RFC 5321 §5.1: equal preferences in random order, both seen. */
START_TEST(test_mx_random)
{
	int xfirst = 0, yfirst = 0, i;
	struct mx_result m;

	for (i = 0; i < 40; i++) {
		m = mx_lookup("eq.test", DNS_MX_USE_MX, &opts_v4);
		ck_assert_int_eq(m.status, DNS_OK);
		ck_assert_uint_eq(m.n, 2);
		if (strcmp(m.addrs[0].host, "x.eq.test") == 0) {
			ck_assert_str_eq(m.addrs[1].host, "y.eq.test");
			xfirst++;
		} else {
			ck_assert_str_eq(m.addrs[0].host, "y.eq.test");
			ck_assert_str_eq(m.addrs[1].host, "x.eq.test");
			yfirst++;
		}
	}
	ck_assert_int_gt(xfirst, 0);
	ck_assert_int_gt(yfirst, 0);
}
END_TEST

/* With both families preferring IPv4: both IPv4 of a preference first. */
START_TEST(test_mx_prefer_group)
{
	const struct dns_mx_opts opts = {
		.families = DNS_MX_IPV4 | DNS_MX_IPV6,
		.prefer = DNS_MX_PREFER_IPV4,
	};
	struct mx_result m = mx_lookup("eq.test", DNS_MX_USE_MX, &opts);

	ck_assert_int_eq(m.status, DNS_OK);
	ck_assert_uint_eq(m.n, 4);
	ck_assert_int_eq(m.addrs[0].family, AF_INET);
	ck_assert_int_eq(m.addrs[1].family, AF_INET);
	ck_assert_int_eq(m.addrs[2].family, AF_INET6);
	ck_assert_int_eq(m.addrs[3].family, AF_INET6);
	ck_assert_str_ne(m.addrs[0].host, m.addrs[1].host);
	/* The hosts keep their (random) order within each family. */
	ck_assert_str_eq(m.addrs[0].host, m.addrs[2].host);
}
END_TEST

/* RFC 5321 §5.1: MX hosts at or above this host's preference. */
START_TEST(test_mx_loops)
{
	static const char *const self[] = { "mail.elsewhere.test",
	    "ME.loop.test." };
	const struct dns_mx_opts opts = {
		.families = DNS_MX_IPV4,
		.local_names = self,
		.nlocal = 2,
	};
	struct mx_result m = mx_lookup("loop.test", DNS_MX_USE_MX, &opts);
	char *list;

	ck_assert_int_eq(m.status, DNS_NOTFOUND);
	ck_assert(m.loops);
	ck_assert_str_eq(m.why, "mail for loop.test loops back to myself");

	m = mx_lookup("loop2.test", DNS_MX_USE_MX, &opts);
	ck_assert_int_eq(m.status, DNS_OK);
	ck_assert(!m.loops);
	list = mx_list(&m);
	ck_assert_str_eq(list, "first.loop2.test/5/127.0.0.51");
	free(list);

	/* Not a local name: everything stays. */
	m = mx_lookup("loop.test", DNS_MX_USE_MX, &opts_v4);
	ck_assert_int_eq(m.status, DNS_OK);
	list = mx_list(&m);
	ck_assert_str_eq(list, "other.loop.test/20/127.0.0.52");
	free(list);
}
END_TEST

/* Answers are cached per TTL: the second lookup asks no server. */
START_TEST(test_mx_cache)
{
	struct mx_result m;
	char *list;
	int q;

	m = mx_lookup("cache.srv.test", DNS_MX_USE_MX, &opts_v4);
	ck_assert_int_eq(m.status, DNS_OK);
	list = mx_list(&m);
	ck_assert_str_eq(list, "h.cache.srv.test/10/127.0.0.101");
	free(list);
	ck_assert_int_eq(srv.cache_mx, 1);
	ck_assert_int_eq(srv.cache_a, 1);
	q = srv.queries;

	m = mx_lookup("Cache.Srv.Test", DNS_MX_USE_MX, &opts_v4);
	ck_assert_int_eq(m.status, DNS_OK);
	list = mx_list(&m);
	ck_assert_str_eq(list, "h.cache.srv.test/10/127.0.0.101");
	free(list);
	ck_assert_int_eq(srv.cache_mx, 1);
	ck_assert_int_eq(srv.cache_a, 1);
	ck_assert_int_eq(srv.queries, q);
}
END_TEST

static const char *const bad_names[] = {
	"", ".", "a..b", "a b.test", "a\nb.test", "\xc3\xa9.test",
	"[127.0.0.1]",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test",
};

START_TEST(test_mx_bad_names)
{
	struct mx_result m = { 0 };
	const char *err = NULL;

	ck_assert_ptr_null(dns_mx_lookup(bad_names[_i], DNS_MX_USE_MX,
	    &opts_v4, mx_cb, &m, &err));
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_null(dns_tlsa_lookup(bad_names[_i], 25, NULL, NULL,
	    &err));
	run_for(20);
	ck_assert_int_eq(m.calls, 0);
}
END_TEST

START_TEST(test_mx_bad_args)
{
	static const struct dns_mx_opts none = { .families = 0 };
	struct mx_result m = { 0 };
	const char *err = NULL;
	char longname[DNS_NAME_MAX + 1];

	ck_assert_ptr_null(dns_mx_lookup("pref.test", DNS_MX_USE_MX, &none,
	    mx_cb, &m, &err));
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_null(dns_tlsa_lookup("tlsa.test", 0, NULL, NULL, &err));
	ck_assert_ptr_null(dns_tlsa_lookup("tlsa.test", 65536, NULL, NULL,
	    &err));
	/* A valid host whose TLSA name is too long. */
	memset(longname, 'a', sizeof(longname) - 1);
	longname[63] = longname[127] = longname[191] = '.';
	longname[DNS_NAME_MAX] = '\0';
	ck_assert(dns_name_valid(longname));
	ck_assert_ptr_null(dns_tlsa_lookup(longname, 25, NULL, NULL, &err));
	ck_assert_str_eq(err, "TLSA name too long");
	run_for(20);
	ck_assert_int_eq(m.calls, 0);
}
END_TEST

/* Cancelled during the MX lookup, or during the address lookups. */
START_TEST(test_mx_cancel)
{
	struct mx_result m = { 0 };
	struct dns_mx_query *q;
	const char *err;

	q = dns_mx_lookup(_i == 0 ? "pref.test" : "slow.test", DNS_MX_USE_MX,
	    &opts_both, mx_cb, &m, &err);
	ck_assert_ptr_nonnull(q);
	if (_i == 1) {
		/* The MX answer is local, the address never comes. */
		run_for(300);
		ck_assert_int_ge(srv.queries, 1);
	}
	dns_mx_cancel(&q);
	ck_assert_ptr_null(q);
	dns_mx_cancel(&q);
	run_for(300);
	ck_assert_int_eq(m.calls, 0);
}
END_TEST

/* dns_mx_cancel from inside the callback is harmless. */
START_TEST(test_mx_cancel_in_cb)
{
	struct mx_result m = { 0 };
	struct dns_mx_query *q;
	const char *err;

	m.self = &q;
	q = dns_mx_lookup(_i == 0 ? "pref.test" : "missing.test",
	    DNS_MX_USE_MX, &opts_v4, mx_cb, &m, &err);
	ck_assert_ptr_nonnull(q);
	run_until(&m.calls, 1);
	run_for(20);
	ck_assert_int_eq(m.calls, 1);
	ck_assert_ptr_null(q);
}
END_TEST

/* TLSA */

struct tlsa_result {
	int calls;
	enum dns_status status;
	bool secure;
	char why[512];
	size_t n;
	struct dns_tlsa recs[8];
	unsigned char data[8][64];
	struct dns_tlsa_query **self;
};

static void
tlsa_cb(void *ctx, const struct dns_tlsa_result *r)
{
	struct tlsa_result *t = ctx;
	size_t i;

	t->calls++;
	t->status = r->status;
	t->secure = r->secure;
	str_copy(t->why, r->why != NULL ? r->why : "", sizeof(t->why));
	t->n = r->n;
	ck_assert_uint_le(r->n, 8);
	for (i = 0; i < r->n; i++) {
		t->recs[i] = r->records[i];
		ck_assert_uint_le(r->records[i].len, 64);
		/* Compare t->data: recs[].data dangles after the call. */
		memcpy(t->data[i], r->records[i].data, r->records[i].len);
	}
	if (t->self != NULL)
		dns_tlsa_cancel(t->self);
}

static struct tlsa_result
tlsa_lookup(const char *host, unsigned port)
{
	struct tlsa_result t = { 0 };
	struct dns_tlsa_query *q;
	const char *err;

	q = dns_tlsa_lookup(host, port, tlsa_cb, &t, &err);
	if (q == NULL)
		ck_abort_msg("dns_tlsa_lookup %s: %s", host, err);
	ck_assert_int_eq(t.calls, 0);
	run_until(&t.calls, 1);
	run_for(5);
	ck_assert_int_eq(t.calls, 1);
	return t;
}

START_TEST(test_tlsa_local)
{
	static const unsigned char digest[32] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	};
	struct tlsa_result t = tlsa_lookup("TLSA.test.", 25);

	ck_assert_int_eq(t.status, DNS_OK);
	ck_assert(!t.secure);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_uint_eq(t.recs[0].usage, 3);
	ck_assert_uint_eq(t.recs[0].selector, 1);
	ck_assert_uint_eq(t.recs[0].mtype, 1);
	ck_assert_uint_eq(t.recs[0].len, 32);
	ck_assert_int_eq(memcmp(t.data[0], digest, 32), 0);

	t = tlsa_lookup("tlsa.test", 465);
	ck_assert_int_eq(t.status, DNS_OK);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_uint_eq(t.recs[0].usage, 2);
	ck_assert_uint_eq(t.recs[0].mtype, 0);
	ck_assert_uint_eq(t.recs[0].len, 2);
	ck_assert_int_eq(memcmp(t.data[0], "\x30\x82", 2), 0);

	/* NODATA and NXDOMAIN. */
	t = tlsa_lookup("tlsa.test", 587);
	ck_assert_int_eq(t.status, DNS_NOTFOUND);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_str_eq(t.why, "Host or domain name not found. Name service "
	    "error for name=_587._tcp.tlsa.test type=TLSA: Host not found");
	t = tlsa_lookup("nx.srv.test", 25);
	ck_assert_int_eq(t.status, DNS_NOTFOUND);
	t = tlsa_lookup("x.servfail.srv.test", 25);
	ck_assert_int_eq(t.status, DNS_TEMPFAIL);
	ck_assert_str_eq(t.why, "Host or domain name not found. Name service "
	    "error for name=_25._tcp.x.servfail.srv.test type=TLSA: Host not "
	    "found, try again");
}
END_TEST

/* Hostile TLSA data from a server: well-formed records only. */
START_TEST(test_tlsa_hostile)
{
	struct tlsa_result t = tlsa_lookup("tlsa.srv.test", 25);
	unsigned seen = 0;
	size_t i;

	ck_assert_int_eq(t.status, DNS_OK);
	ck_assert_uint_eq(t.n, 3);
	/* The resolver may rotate the RRset. */
	for (i = 0; i < t.n; i++) {
		if (t.recs[i].mtype == 1) {
			ck_assert_uint_eq(t.recs[i].len, 32);
			seen |= 1;
		} else if (t.recs[i].mtype == 2) {
			ck_assert_uint_eq(t.recs[i].len, 64);
			seen |= 2;
		} else {
			ck_assert_uint_eq(t.recs[i].usage, 7);
			ck_assert_uint_eq(t.recs[i].selector, 9);
			ck_assert_uint_eq(t.recs[i].mtype, 200);
			ck_assert_uint_eq(t.recs[i].len, 5);
			seen |= 4;
		}
	}
	ck_assert_uint_eq(seen, 7);

	/* Records exist, none is usable. */
	t = tlsa_lookup("badtlsa.srv.test", 25);
	ck_assert_int_eq(t.status, DNS_OK);
	ck_assert_uint_eq(t.n, 0);
}
END_TEST

START_TEST(test_tlsa_cancel)
{
	struct tlsa_result t = { 0 };
	struct dns_tlsa_query *q;
	const char *err;

	q = dns_tlsa_lookup(_i == 0 ? "tlsa.test" : "h.drop.srv.test", 25,
	    tlsa_cb, &t, &err);
	ck_assert_ptr_nonnull(q);
	if (_i == 1)
		run_for(100);
	dns_tlsa_cancel(&q);
	ck_assert_ptr_null(q);
	dns_tlsa_cancel(&q);
	run_for(200);
	ck_assert_int_eq(t.calls, 0);

	/* From inside the callback. */
	t.self = &q;
	q = dns_tlsa_lookup("tlsa.test", 25, tlsa_cb, &t, &err);
	ck_assert_ptr_nonnull(q);
	run_until(&t.calls, 1);
	ck_assert_ptr_null(q);
}
END_TEST

static const struct {
	const char *rd;
	size_t len;
	int ret;
	size_t dlen;
} tlsa_cases[] = {
	{ "", 0, -1, 0 },
	{ "\x03", 1, -1, 0 },
	{ "\x03\x01\x01", 3, -1, 0 },			/* no data */
	{ "\x03\x01\x00\x30", 4, 0, 1 },		/* full, 1 byte */
	{ "\x03\x01\x01\x30", 4, -1, 0 },		/* SHA-256, 1 byte */
	{ "\x03\x01\x02\x30\x31", 5, -1, 0 },		/* SHA-512, 2 bytes */
	{ "\xff\xff\xff\x00", 4, 0, 1 },		/* unknown: kept */
	{ "\x00\x00\x00\x00\x00", 5, 0, 2 },		/* NUL data */
};

START_TEST(test_tlsa_parse)
{
	struct dns_tlsa t;

	ck_assert_int_eq(dns_tlsa_parse((const unsigned char *)
	    tlsa_cases[_i].rd, tlsa_cases[_i].len, &t), tlsa_cases[_i].ret);
	if (tlsa_cases[_i].ret == 0) {
		ck_assert_uint_eq(t.len, tlsa_cases[_i].dlen);
		ck_assert_ptr_eq(t.data, (const unsigned char *)
		    tlsa_cases[_i].rd + 3);
		ck_assert_uint_eq(t.usage, (unsigned char)tlsa_cases[_i].rd[0]);
	}
}
END_TEST

START_TEST(test_tlsa_parse_digests)
{
	unsigned char rd[3 + 65];
	struct dns_tlsa t;
	size_t n;

	memset(rd, 0, sizeof(rd));
	rd[0] = 3;
	rd[2] = 1;
	for (n = 0; n <= 65; n++)
		ck_assert_int_eq(dns_tlsa_parse(rd, 3 + n, &t),
		    n == 32 ? 0 : -1);
	rd[2] = 2;
	for (n = 0; n <= 65; n++)
		ck_assert_int_eq(dns_tlsa_parse(rd, 3 + n, &t),
		    n == 64 ? 0 : -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dns_mx");
	TCase *tc = tcase_create("dns_mx");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_mx, 0, ARRAY_LEN(mx_cases));
	tcase_add_test(tc, test_mx_random);
	tcase_add_test(tc, test_mx_prefer_group);
	tcase_add_test(tc, test_mx_loops);
	tcase_add_test(tc, test_mx_cache);
	tcase_add_loop_test(tc, test_mx_bad_names, 0, ARRAY_LEN(bad_names));
	tcase_add_test(tc, test_mx_bad_args);
	tcase_add_loop_test(tc, test_mx_cancel, 0, 2);
	tcase_add_loop_test(tc, test_mx_cancel_in_cb, 0, 2);
	tcase_add_test(tc, test_tlsa_local);
	tcase_add_test(tc, test_tlsa_hostile);
	tcase_add_loop_test(tc, test_tlsa_cancel, 0, 2);
	tcase_add_loop_test(tc, test_tlsa_parse, 0, ARRAY_LEN(tlsa_cases));
	tcase_add_test(tc, test_tlsa_parse_digests);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
