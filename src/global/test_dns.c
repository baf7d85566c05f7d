/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for dns.c: real lookups through libunbound in an event loop,
 * against an unbound.conf of local data (every other name is refused, so
 * nothing leaves the machine; one zone is forwarded to a closed loopback
 * port for SERVFAIL), cancellation, hostile names, and hostile packets
 * and rdata for the parsers.
 */
#include "config.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
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
#include "mail_conf.h"

static char dir[] = "/tmp/test_dns.XXXXXX";
static struct event_base *base;

static const char unbound_conf[] =
    "server:\n"
    "	verbosity: 0\n"
    "	do-not-query-localhost: no\n"
    "	outbound-msg-retry: 1\n"
    "	local-zone: \".\" refuse\n"
    "	local-zone: \"test.\" static\n"
    "	local-data: \"mx.test. 300 IN MX 10 mail.mx.test.\"\n"
    "	local-data: \"mx.test. 300 IN MX 20 mail2.mx.test.\"\n"
    "	local-data: \"mail.mx.test. 300 IN A 127.0.0.2\"\n"
    "	local-data: \"nullmx.test. IN MX 0 .\"\n"
    "	local-data: \"nullmx.test. IN A 127.0.0.8\"\n"
    "	local-data: \"aonly.test. 60 IN A 127.0.0.3\"\n"
    "	local-data: \"v6only.test. IN AAAA 2001:db8::5\"\n"
    "	local-data: \"txtonly.test. IN TXT hello\"\n"
    "	local-data-ptr: \"127.0.0.2 mail.mx.test\"\n"
    "	local-data-ptr: \"127.0.0.4 aonly.test\"\n"
    "	local-data-ptr: \"127.0.0.5 missing.test\"\n"
    "	local-data-ptr: \"127.0.0.7 127.0.0.7\"\n"
    "	local-data: \"127.0.0.7. IN A 127.0.0.7\"\n"
    "	local-data-ptr: \"2001:db8::1 v6.test\"\n"
    "	local-data: \"v6.test. IN AAAA 2001:db8::1\"\n"
    "	local-data-ptr: \"127.0.0.6 host.down.invalid\"\n"
    "	local-zone: \"down.invalid.\" transparent\n"
    "forward-zone:\n"
    "	name: \"down.invalid.\"\n"
    "	forward-addr: 127.0.0.1@%d\n";

static const char *const files[] = { "main.cf", "unbound.conf", "bad.conf" };

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

/* A loopback UDP port that nobody listens on (bound, then closed). */
static int
closed_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* Loads main.cf with dns_resolver_config = conf (a name in dir, or ""). */
static void
load_conf(const char *conf)
{
	const char *err;
	char *text;

	if (*conf != '\0')
		text = xasprintf("dns_resolver_config = %s/%s\n", dir, conf);
	else
		text = xstrdup("");
	write_file("main.cf", text);
	free(text);
	if (mail_conf_try_load(dir, NULL, false, &err) == -1)
		ck_abort_msg("mail_conf_try_load: %s", err);
}

static void
setup(void)
{
	char *text;
	const char *err;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	text = xasprintf(unbound_conf, closed_port());
	write_file("unbound.conf", text);
	free(text);
	load_conf("unbound.conf");
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
	for (i = 0; i < ARRAY_LEN(files); i++) {
		path = xasprintf("%s/%s", dir, files[i]);
		unlink(path);
		free(path);
	}
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	mail_conf_unload();
}

/* Runs the loop until *count reaches want, for at most 10 seconds. */
static void
run_until(const int *count, int want)
{
	time_t end = time(NULL) + 10;

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

struct raw_result {
	int calls;
	enum dns_status status;
	bool nxdomain;
	uint32_t ttl;
	size_t count;
	unsigned char data[4][64];
	size_t len[4];
	char why[128];
};

static void
raw_cb(void *ctx, const struct dns_answer *a)
{
	struct raw_result *r = ctx;
	size_t i;

	r->calls++;
	r->status = a->status;
	r->nxdomain = a->nxdomain;
	r->ttl = a->ttl;
	r->count = a->count;
	for (i = 0; i < a->count && i < 4; i++) {
		ck_assert_uint_le(a->len[i], sizeof(r->data[i]));
		memcpy(r->data[i], a->data[i], a->len[i]);
		r->len[i] = a->len[i];
	}
	str_copy(r->why, a->why != NULL ? a->why : "", sizeof(r->why));
	ck_assert(!a->secure);
}

static struct raw_result
raw_lookup(const char *name, int type)
{
	struct raw_result r = { 0 };
	const char *err;
	struct dns_query *q = dns_query(name, type, raw_cb, &r, &err);

	if (q == NULL)
		ck_abort_msg("dns_query %s: %s", name, err);
	/* Never from inside dns_query, even for local data. */
	ck_assert_int_eq(r.calls, 0);
	run_until(&r.calls, 1);
	run_for(10);
	ck_assert_int_eq(r.calls, 1);
	return r;
}

START_TEST(test_query_mx)
{
	struct raw_result r = raw_lookup("mx.test", 15);
	char host[DNS_NAME_MAX + 1];
	unsigned pref, seen = 0;
	size_t i;

	ck_assert_int_eq(r.status, DNS_OK);
	ck_assert_uint_eq(r.count, 2);
	ck_assert_uint_eq(r.ttl, 300);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(dns_rdata_mx(r.data[i], r.len[i], &pref, host,
		    sizeof(host)), 0);
		if (pref == 10) {
			ck_assert_str_eq(host, "mail.mx.test");
			seen |= 1;
		} else {
			ck_assert_uint_eq(pref, 20);
			ck_assert_str_eq(host, "mail2.mx.test");
			seen |= 2;
		}
	}
	ck_assert_uint_eq(seen, 3);
}
END_TEST

START_TEST(test_query_a)
{
	static const unsigned char want[4] = { 127, 0, 0, 3 };
	struct raw_result r = raw_lookup("AOnly.Test.", 1);

	ck_assert_int_eq(r.status, DNS_OK);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_uint_eq(r.len[0], 4);
	ck_assert_int_eq(memcmp(r.data[0], want, 4), 0);
	ck_assert_uint_eq(r.ttl, 60);

	/* The name exists, the type does not. */
	r = raw_lookup("aonly.test", 15);
	ck_assert_int_eq(r.status, DNS_NOTFOUND);
	ck_assert(!r.nxdomain);
	ck_assert_uint_eq(r.count, 0);

	r = raw_lookup("nothere.test", 1);
	ck_assert_int_eq(r.status, DNS_NOTFOUND);
	ck_assert(r.nxdomain);

	/* Refused by the resolver configuration. */
	r = raw_lookup("example.com", 1);
	ck_assert_int_eq(r.status, DNS_TEMPFAIL);
	ck_assert_str_eq(r.why, "DNS error REFUSED");
}
END_TEST

/* A forwarder that does not answer: SERVFAIL after libunbound's retries. */
START_TEST(test_query_servfail)
{
	struct raw_result r = raw_lookup("x.down.invalid", 1);

	ck_assert_int_eq(r.status, DNS_TEMPFAIL);
	ck_assert_msg(strstr(r.why, "SERVFAIL") != NULL, "why: %s", r.why);
}
END_TEST

static const struct {
	const char *domain;
	enum dns_status status;
	bool null_mx;
} domain_cases[] = {
	{ "mx.test", DNS_OK, false },
	{ "MX.TEST.", DNS_OK, false },
	{ "nullmx.test", DNS_NOTFOUND, true },	/* its A does not count */
	{ "aonly.test", DNS_OK, false },
	{ "v6only.test", DNS_OK, false },
	{ "txtonly.test", DNS_NOTFOUND, false },
	{ "nothere.test", DNS_NOTFOUND, false },
	{ "example.com", DNS_TEMPFAIL, false },
	{ "x.down.invalid", DNS_TEMPFAIL, false },
};

struct domain_result {
	int calls;
	enum dns_status status;
	bool null_mx;
};

static void
domain_cb(void *ctx, enum dns_status status, bool null_mx)
{
	struct domain_result *r = ctx;

	r->calls++;
	r->status = status;
	r->null_mx = null_mx;
}

START_TEST(test_mail_domain)
{
	struct domain_result r = { 0 };
	const char *err;
	struct dns_query *q;

	q = dns_lookup_mail_domain(domain_cases[_i].domain, domain_cb, &r,
	    &err);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(r.calls, 0);
	run_until(&r.calls, 1);
	run_for(10);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, domain_cases[_i].status);
	ck_assert_int_eq(r.null_mx, domain_cases[_i].null_mx);
}
END_TEST

static const struct {
	const char *addr;
	enum dns_status status;
	const char *name;
} ptr_cases[] = {
	{ "127.0.0.2", DNS_OK, "mail.mx.test" },
	{ "::ffff:127.0.0.2", DNS_OK, "mail.mx.test" },
	{ "127.0.0.1", DNS_OK, "localhost" },
	{ "::1", DNS_OK, "localhost" },
	{ "2001:db8::1", DNS_OK, "v6.test" },
	{ "127.0.0.4", DNS_NOTFOUND, NULL },	/* forward is another */
	{ "127.0.0.5", DNS_NOTFOUND, NULL },	/* forward NXDOMAIN */
	{ "127.0.0.7", DNS_NOTFOUND, NULL },	/* numeric name */
	{ "127.0.0.9", DNS_NOTFOUND, NULL },	/* no PTR */
	{ "1.2.3.4", DNS_TEMPFAIL, NULL },	/* refused */
	{ "127.0.0.6", DNS_TEMPFAIL, NULL },	/* forward SERVFAIL */
};

struct name_result {
	int calls;
	enum dns_status status;
	char name[DNS_NAME_MAX + 1];
	bool null;
};

static void
name_cb(void *ctx, enum dns_status status, const char *name)
{
	struct name_result *r = ctx;

	r->calls++;
	r->status = status;
	r->null = name == NULL;
	str_copy(r->name, name != NULL ? name : "", sizeof(r->name));
}

START_TEST(test_ptr)
{
	struct name_result r = { 0 };
	const char *err;
	struct dns_query *q;

	q = dns_lookup_ptr(ptr_cases[_i].addr, name_cb, &r, &err);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(r.calls, 0);
	run_until(&r.calls, 1);
	run_for(10);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, ptr_cases[_i].status);
	if (ptr_cases[_i].name != NULL)
		ck_assert_str_eq(r.name, ptr_cases[_i].name);
	else
		ck_assert(r.null);
}
END_TEST

static const char *const bad_names[] = {
	"", ".", "..", "a..test", ".a.test", "a b.test", "a\r\n.test",
	"\xc3\xa4.test", "a/b.test", "*.test", "a\\.test", "a.test..",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	".test",
	/* 254 characters */
	"aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
	"aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
	"aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
	"aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
	"aaaaaaaaa.aaaa",
};

static void
never_cb(void *ctx, const struct dns_answer *a)
{
	ck_abort_msg("callback of a refused or cancelled query ran");
}

static void
never_domain_cb(void *ctx, enum dns_status status, bool null_mx)
{
	ck_abort_msg("callback of a refused or cancelled lookup ran");
}

static void
never_name_cb(void *ctx, enum dns_status status, const char *name)
{
	ck_abort_msg("callback of a refused or cancelled lookup ran");
}

START_TEST(test_bad_names)
{
	const char *err = NULL;

	ck_assert(!dns_name_valid(bad_names[_i]));
	ck_assert_ptr_null(dns_query(bad_names[_i], 1, never_cb, NULL, &err));
	ck_assert(str_has_prefix(err, "invalid domain name \""));
	/* Escaped for the log. */
	ck_assert(str_is_printable(err, strlen(err)));
	err = NULL;
	ck_assert_ptr_null(dns_lookup_mail_domain(bad_names[_i],
	    never_domain_cb, NULL, &err));
	ck_assert(str_has_prefix(err, "invalid domain name \""));
	run_for(20);
}
END_TEST

START_TEST(test_good_names)
{
	static const char *const good[] = {
		"a", "a.", "_25._tcp.mx.test", "xn--bcher-kva.test",
		"0-9.test",
		/* 253 characters, with and without the dot */
		"aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
		"aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
		"aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
		"aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
		"aaaaaaaaa.aaa",
		"aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
		"aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
		"aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
		"aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa.aaaaaaaaa."
		"aaaaaaaaa.aaa.",
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(good); i++)
		ck_assert_msg(dns_name_valid(good[i]), "%s", good[i]);
}
END_TEST

static const char *const bad_addrs[] = {
	"", "mx.test", "127.0.0", "127.0.0.1 ", " 127.0.0.1", "127.0.0.256",
	"1.2.3.4.5", "::1::2", "[::1]", "127.0.0.1\n", "fe80::1%lo",
};

START_TEST(test_bad_addrs)
{
	const char *err = NULL;

	ck_assert_ptr_null(dns_lookup_ptr(bad_addrs[_i], never_name_cb, NULL,
	    &err));
	ck_assert(str_has_prefix(err, "invalid IP address \""));
	ck_assert(str_is_printable(err, strlen(err)));
	run_for(20);
}
END_TEST

/*
 * Cancelled before completion, whether libunbound has answered already
 * (local data) or is still waiting (the forwarder): no callback, and
 * nothing leaks (ASan).
 */
START_TEST(test_cancel)
{
	struct dns_query *q[6];
	struct raw_result r = { 0 };
	const char *err;
	size_t i;

	/* Slow ones first, let them get going ... */
	q[0] = dns_query("x.down.invalid", 1, never_cb, NULL, &err);
	q[1] = dns_lookup_ptr("127.0.0.6", never_name_cb, NULL, &err);
	q[2] = dns_lookup_mail_domain("x.down.invalid", never_domain_cb,
	    NULL, &err);
	run_for(30);
	/* ... then ones that libunbound answers at once from local data. */
	q[3] = dns_query("mx.test", 15, never_cb, NULL, &err);
	q[4] = dns_lookup_ptr("127.0.0.2", never_name_cb, NULL, &err);
	q[5] = dns_lookup_mail_domain("aonly.test", never_domain_cb, NULL,
	    &err);
	for (i = 0; i < ARRAY_LEN(q); i++) {
		ck_assert_ptr_nonnull(q[i]);
		dns_cancel(&q[i]);
		ck_assert_ptr_null(q[i]);
	}
	dns_cancel(&q[0]);
	/* The resolver still works, and the cancelled ones stay quiet. */
	r = raw_lookup("aonly.test", 1);
	ck_assert_int_eq(r.status, DNS_OK);
	r = raw_lookup("x.down.invalid", 1);
	ck_assert_int_eq(r.status, DNS_TEMPFAIL);
	run_for(50);
}
END_TEST

/* dns_deinit with lookups in flight: no callback, no leak. */
START_TEST(test_deinit_pending)
{
	const char *err;

	ck_assert_ptr_nonnull(dns_query("x.down.invalid", 1, never_cb, NULL,
	    &err));
	ck_assert_ptr_nonnull(dns_query("mx.test", 15, never_cb, NULL, &err));
	ck_assert_ptr_nonnull(dns_lookup_ptr("2001:db8::1", never_name_cb,
	    NULL, &err));
	ck_assert_ptr_nonnull(dns_lookup_mail_domain("v6only.test",
	    never_domain_cb, NULL, &err));
	ck_assert_ptr_nonnull(dns_lookup_ptr("127.0.0.6", never_name_cb,
	    NULL, &err));
	dns_deinit();
	run_for(20);
	/* After deinit, lookups are refused until the next dns_init. */
	ck_assert_ptr_null(dns_query("mx.test", 15, never_cb, NULL, &err));
	ck_assert_str_eq(err, "DNS resolver not initialized");
	ck_assert_int_eq(dns_init(base, &err), 0);
}
END_TEST

struct reentry {
	int calls;
	struct dns_query *self;
	bool deinit;
};

static void
reentry_cb(void *ctx, const struct dns_answer *a)
{
	struct reentry *r = ctx;
	const char *err;

	r->calls++;
	ck_assert_int_eq(a->status, DNS_OK);
	/* Harmless inside its own callback. */
	dns_cancel(&r->self);
	if (r->deinit) {
		dns_deinit();
		ck_assert_int_eq(dns_init(base, &err), 0);
	}
}

START_TEST(test_cancel_in_callback)
{
	struct reentry r = { .deinit = _i == 1 };
	const char *err;

	r.self = dns_query("aonly.test", 1, reentry_cb, &r, &err);
	ck_assert_ptr_nonnull(r.self);
	/* Another lookup in flight when the callback resets the resolver. */
	if (r.deinit)
		ck_assert_ptr_nonnull(dns_query("x.down.invalid", 1, never_cb,
		    NULL, &err));
	run_until(&r.calls, 1);
	run_for(20);
	ck_assert_int_eq(r.calls, 1);
}
END_TEST

/* dns_init refuses a configuration it cannot use, naming the file. */
static const struct {
	const char *text;	/* bad.conf; NULL: not written */
	const char *error;	/* after "dns_resolver_config: DIR/bad.conf: " */
} init_cases[] = {
	{ NULL, "No such file or directory" },
	{ "server:\n\tno-such-option: yes\n", "syntax error" },
	{ "server:\n\tlocal-data: \"a.test. IN NOSUCHTYPE x\"\n",
	  "invalid configuration" },
	{ "\x01\x02garbage\n", "syntax error" },
	{ "server:\n\tlocal-zone: \"a.test.\" nosuchtype\n",
	  "syntax error" },
};

START_TEST(test_init_errors)
{
	const char *err = NULL;
	char *want;

	dns_deinit();
	if (init_cases[_i].text != NULL)
		write_file("bad.conf", init_cases[_i].text);
	load_conf("bad.conf");
	ck_assert_int_eq(dns_init(base, &err), -1);
	ck_assert_ptr_nonnull(err);
	want = xasprintf("dns_resolver_config: %s/bad.conf: %s", dir,
	    init_cases[_i].error);
	ck_assert_msg(str_has_prefix(err, want), "got: %s", err);
	free(want);
	ck_assert_ptr_null(dns_query("mx.test", 15, never_cb, NULL, &err));
	/* Back to a good one. */
	load_conf("unbound.conf");
	ck_assert_int_eq(dns_init(base, &err), 0);
}
END_TEST

/* The system's resolv.conf and hosts: set up without a lookup. */
START_TEST(test_init_system)
{
	const char *err;

	dns_deinit();
	load_conf("");
	ck_assert_int_eq(dns_init(base, &err), 0);
}
END_TEST

/* Hostile rdata for dns_rdata_hostname and dns_rdata_mx. */
static const struct {
	const char *rd;
	size_t len;
	int rc;
	const char *name;
} rdata_cases[] = {
	{ "\x04mail\x04Test\x00", 11, 0, "mail.test" },
	{ "\x00", 1, 0, "" },
	{ "\x04mail\x04test", 10, -1, NULL },		/* no root label */
	{ "\x05mail", 5, -1, NULL },			/* label overruns */
	{ "\xc0\x0c", 2, -1, NULL },			/* pointer */
	{ "\x40" "aaaa", 5, -1, NULL },		/* label 64 */
	{ "\x04ma@l\x00", 6, -1, NULL },
	{ "\x04ma\x00l\x00", 6, -1, NULL },		/* NUL inside */
	{ "\x04ma.l\x00", 6, -1, NULL },		/* dot inside */
	{ "\x04m\xc3\xa4l\x00", 6, -1, NULL },
	{ "", 0, -1, NULL },
};

START_TEST(test_rdata_hostname)
{
	char buf[DNS_NAME_MAX + 1];
	size_t next = 999;
	int rc;

	rc = dns_rdata_hostname((const unsigned char *)rdata_cases[_i].rd,
	    rdata_cases[_i].len, 0, buf, sizeof(buf), &next);
	ck_assert_int_eq(rc, rdata_cases[_i].rc);
	if (rc == 0) {
		ck_assert_str_eq(buf, rdata_cases[_i].name);
		ck_assert_uint_eq(next, rdata_cases[_i].len);
	}
}
END_TEST

START_TEST(test_rdata_long)
{
	unsigned char rd[300];
	char buf[DNS_NAME_MAX + 1], small[8];
	unsigned pref;
	size_t o = 0, i;

	/* 5 labels of 63: 319 characters, more than any name. */
	for (i = 0; i < 4; i++) {
		rd[o++] = 63;
		memset(rd + o, 'a', 63);
		o += 63;
	}
	rd[o++] = 0;
	ck_assert_int_eq(dns_rdata_hostname(rd, o, 0, buf, sizeof(buf), NULL),
	    -1);
	/* A buffer too small fails, never overruns. */
	ck_assert_int_eq(dns_rdata_hostname((const unsigned char *)
	    "\x04mail\x04test\x00", 11, 0, small, sizeof(small), NULL), -1);
	ck_assert_int_eq(dns_rdata_hostname((const unsigned char *)
	    "\x00", 1, 0, small, 0, NULL), -1);

	ck_assert_int_eq(dns_rdata_mx((const unsigned char *)
	    "\x00\x0a\x02mx\x00", 6, &pref, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(pref, 10);
	ck_assert_str_eq(buf, "mx");
	ck_assert_int_eq(dns_rdata_mx((const unsigned char *)"\x00\x00\x00", 3,
	    &pref, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(dns_rdata_mx((const unsigned char *)"\x00\x00", 2,
	    &pref, buf, sizeof(buf)), -1);
	/* Trailing bytes after the name. */
	ck_assert_int_eq(dns_rdata_mx((const unsigned char *)
	    "\x00\x0a\x02mx\x00X", 7, &pref, buf, sizeof(buf)), -1);
}
END_TEST

/*
 * Packets for dns_answer_parse.  The good one: a response to "mx.test
 * MX" whose answer's owner and exchange are compressed.
 */
static const unsigned char good_mx[] =
    "\x12\x34\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00"
    "\x02mx\x04test\x00\x00\x0f\x00\x01"		/* question at 12 */
    "\xc0\x0c\x00\x0f\x00\x01\x00\x00\x01\x2c\x00\x09"	/* MX 10 mail.@12 */
    "\x00\x0a\x04mail\xc0\x0c"
    "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x10\x00\x04"	/* an A: skipped */
    "\x7f\x00\x00\x02";

START_TEST(test_parse_good)
{
	const char *err = NULL;
	struct dns_answer *a;
	char host[DNS_NAME_MAX + 1];
	unsigned pref;

	a = dns_answer_parse(good_mx, sizeof(good_mx) - 1, 15, &err);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->status, DNS_OK);
	ck_assert_uint_eq(a->count, 1);
	ck_assert_uint_eq(a->ttl, 300);
	ck_assert_uint_eq(a->len[0], 2 + 14);
	ck_assert_int_eq(dns_rdata_mx(a->data[0], a->len[0], &pref, host,
	    sizeof(host)), 0);
	ck_assert_uint_eq(pref, 10);
	ck_assert_str_eq(host, "mail.mx.test");
	dns_answer_free(&a);
	ck_assert_ptr_null(a);
	dns_answer_free(&a);

	a = dns_answer_parse(good_mx, sizeof(good_mx) - 1, 1, &err);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->count, 1);
	ck_assert_uint_eq(a->ttl, 16);
	dns_answer_free(&a);

	a = dns_answer_parse(good_mx, sizeof(good_mx) - 1, 28, &err);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->status, DNS_NOTFOUND);
	ck_assert(!a->nxdomain);
	dns_answer_free(&a);
}
END_TEST

/* Each is good_mx with some bytes changed, or cut. */
static const struct {
	size_t len;		/* 0: whole */
	size_t off;		/* where to patch */
	const char *patch;
	size_t plen;
	enum dns_status status;	/* when it parses */
	const char *error;	/* NULL: parses */
} packet_cases[] = {
	{ 11, 0, "", 0, 0, "malformed DNS response: short header" },
	{ 0, 2, "\x01", 1, 0, "malformed DNS response: not a response" },
	{ 0, 3, "\x83", 1, DNS_NOTFOUND, NULL },	/* NXDOMAIN */
	{ 0, 3, "\x82", 1, DNS_TEMPFAIL, NULL },	/* SERVFAIL */
	{ 0, 3, "\x89", 1, DNS_TEMPFAIL, NULL },	/* NOTAUTH */
	{ 20, 0, "", 0, 0, "malformed DNS response" },	/* in question */
	{ 40, 0, "", 0, 0, "malformed DNS response" },	/* in rdata */
	{ 0, 7, "\x03", 1, 0, "malformed DNS response" }, /* 3 answers */
	{ 0, 4, "\x00\xff", 2, 0, "malformed DNS response" }, /* 255 qs */
	{ 0, 36, "\x20", 1, 0, "malformed DNS response" }, /* rdlen 32 */
	{ 0, 36, "\x03", 1, 0, "malformed DNS response" }, /* rdlen 3 */
	{ 0, 36, "\x0a", 1, 0, "malformed DNS response" }, /* rdlen 10 */
	{ 0, 44, "\xc0\x2c", 2, 0, "malformed DNS response" }, /* loop */
	{ 0, 44, "\xc0\xff", 2, 0, "malformed DNS response" }, /* outside */
	/* Owner names are skipped, never followed: a loop does no harm. */
	{ 0, 25, "\xc0\x19", 2, DNS_OK, NULL },
	{ 0, 39, "\x08", 1, 0, "malformed DNS response" }, /* label > rdata */
	{ 0, 39, "\x05", 1, 0, "malformed DNS response" }, /* label 5 */
};

START_TEST(test_parse_hostile)
{
	unsigned char pkt[sizeof(good_mx)];
	size_t len = packet_cases[_i].len ? packet_cases[_i].len :
	    sizeof(good_mx) - 1;
	const char *err = NULL;
	struct dns_answer *a;
	unsigned char *copy;

	memcpy(pkt, good_mx, sizeof(good_mx));
	memcpy(pkt + packet_cases[_i].off, packet_cases[_i].patch,
	    packet_cases[_i].plen);
	/* Exactly len bytes, so that ASan sees any read beyond. */
	copy = xmemdup(pkt, len);
	a = dns_answer_parse(copy, len, 15, &err);
	free(copy);
	if (packet_cases[_i].error == NULL) {
		ck_assert_ptr_nonnull(a);
		ck_assert_int_eq(a->status, packet_cases[_i].status);
		ck_assert_uint_eq(a->count, a->status == DNS_OK);
		if (a->status == DNS_OK)
			ck_assert_uint_eq(a->len[0], 16);
		else if (a->status == DNS_NOTFOUND)
			ck_assert(a->nxdomain);
		else
			ck_assert(str_has_prefix(a->why, "DNS error "));
		dns_answer_free(&a);
	} else {
		ck_assert_ptr_null(a);
		ck_assert_str_eq(err, packet_cases[_i].error);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("dns");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_query_mx);
	tcase_add_test(tc, test_query_a);
	tcase_add_test(tc, test_query_servfail);
	tcase_add_loop_test(tc, test_mail_domain, 0, ARRAY_LEN(domain_cases));
	tcase_add_loop_test(tc, test_ptr, 0, ARRAY_LEN(ptr_cases));
	tcase_add_loop_test(tc, test_bad_names, 0, ARRAY_LEN(bad_names));
	tcase_add_test(tc, test_good_names);
	tcase_add_loop_test(tc, test_bad_addrs, 0, ARRAY_LEN(bad_addrs));
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_deinit_pending);
	tcase_add_loop_test(tc, test_cancel_in_callback, 0, 2);
	tcase_add_loop_test(tc, test_init_errors, 0, ARRAY_LEN(init_cases));
	tcase_add_test(tc, test_init_system);
	tcase_add_loop_test(tc, test_rdata_hostname, 0,
	    ARRAY_LEN(rdata_cases));
	tcase_add_test(tc, test_rdata_long);
	tcase_add_test(tc, test_parse_good);
	tcase_add_loop_test(tc, test_parse_hostile, 0,
	    ARRAY_LEN(packet_cases));
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
