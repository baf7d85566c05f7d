/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for anvil: the counting table driven with a fake clock
 * (counts up and down, addresses kept apart, window roll-over, release
 * when a peer goes, the sweep, the bound on addresses, statistics), the
 * request parser with hostile frames, and the whole service on a real
 * UNIX socket in a temporary directory, with anvil_client as the client:
 * two processes counting the same address, release when one exits, a
 * peer that sends garbage, a full table, and anvil going away and coming
 * back.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "attr.h"
#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "anvil_client.h"

#include "anvil.h"
#include "anvil_service.h"

#define T0	1000		/* fake monotonic clock */

/* Applies ev and checks the status and counts after it. */
static void
expect(struct anvil_table *t, struct anvil_peer *p, enum anvil_event ev,
    const char *addr, time_t now, int status, uint64_t count, uint64_t rate)
{
	struct anvil_counts c = { 99, 99 };

	ck_assert_int_eq(anvil_table_event(t, p, ev, addr, now, &c), status);
	ck_assert_uint_eq(c.count, count);
	ck_assert_uint_eq(c.rate, rate);
}

static const struct {
	const char	*addr;
	bool		 valid;
} addr_cases[] = {
	{ "127.0.0.1", true },
	{ "::1", true },
	{ "2001:db8::25", true },
	{ "fe80::1%eth0", true },
	{ "unix", true },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%interface-name_12",
	  true },				/* 63 bytes */
	{ "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%interface-name_123",
	  false },				/* 64 bytes */
	{ "", false },
	{ "1.2.3.4 ", false },
	{ "1.2.3.4\n", false },
	{ "1.2.3.4\r", false },
	{ "../x", false },
	{ "a/b", false },
	{ "caf\xc3\xa9", false },
	{ "\xff", false },
	{ "[::1]", false },
	{ "x\x1b[31m", false },
};

START_TEST(test_addr_valid)
{
	ck_assert_int_eq(anvil_client_addr_valid(addr_cases[_i].addr),
	    addr_cases[_i].valid);
}
END_TEST

START_TEST(test_count)
{
	struct anvil_table *t = anvil_table_new(60, 100);
	struct anvil_peer *p = anvil_peer_new(t);
	struct anvil_counts c;

	expect(t, p, ANVIL_CONNECT, "192.0.2.1", T0, 0, 1, 1);
	expect(t, p, ANVIL_CONNECT, "192.0.2.1", T0, 0, 2, 2);
	expect(t, p, ANVIL_CONNECT, "192.0.2.2", T0, 0, 1, 1);
	expect(t, p, ANVIL_MAIL, "192.0.2.1", T0, 0, 2, 1);
	expect(t, p, ANVIL_MAIL, "192.0.2.1", T0, 0, 2, 2);
	expect(t, p, ANVIL_AUTH, "192.0.2.1", T0, 0, 2, 1);
	expect(t, p, ANVIL_AUTH_FAIL_PEEK, "192.0.2.1", T0, 0, 2, 0);
	expect(t, p, ANVIL_AUTH_FAIL, "192.0.2.1", T0, 0, 2, 1);
	expect(t, p, ANVIL_AUTH_FAIL_PEEK, "192.0.2.1", T0, 0, 2, 1);
	/* Disconnect: count down, the connection rate stays. */
	expect(t, p, ANVIL_DISCONNECT, "192.0.2.1", T0 + 1, 0, 1, 2);
	expect(t, p, ANVIL_DISCONNECT, "192.0.2.1", T0 + 1, 0, 0, 2);
	/* More disconnects than connects never go below zero. */
	expect(t, p, ANVIL_DISCONNECT, "192.0.2.1", T0 + 1, 0, 0, 2);
	/* The other address was never touched. */
	ck_assert_int_eq(anvil_table_lookup(t, ANVIL_MAIL, "192.0.2.2", T0,
	    &c), 1);
	ck_assert_uint_eq(c.count, 1);
	ck_assert_uint_eq(c.rate, 0);
	/* Neither peek nor disconnect adds an address. */
	expect(t, p, ANVIL_DISCONNECT, "192.0.2.9", T0, 0, 0, 0);
	expect(t, p, ANVIL_AUTH_FAIL_PEEK, "192.0.2.9", T0, 0, 0, 0);
	ck_assert_int_eq(anvil_table_lookup(t, ANVIL_CONNECT, "192.0.2.9", T0,
	    &c), 0);
	ck_assert_uint_eq(anvil_table_size(t), 2);
	/* Addresses differ by their text, also in case and zeros. */
	expect(t, p, ANVIL_CONNECT, "2001:db8::1", T0, 0, 1, 1);
	expect(t, p, ANVIL_CONNECT, "2001:DB8::1", T0, 0, 1, 1);
	expect(t, p, ANVIL_CONNECT, "192.0.2.10", T0, 0, 1, 1);
	ck_assert_uint_eq(anvil_table_size(t), 5);
	anvil_peer_free(&p);
	ck_assert_ptr_null(p);
	anvil_table_free(&t);
	ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_window)
{
	struct anvil_table *t = anvil_table_new(60, 100);
	struct anvil_peer *p = anvil_peer_new(t);

	expect(t, p, ANVIL_CONNECT, "10.0.0.1", T0, 0, 1, 1);
	expect(t, p, ANVIL_CONNECT, "10.0.0.1", T0 + 30, 0, 2, 2);
	expect(t, p, ANVIL_MAIL, "10.0.0.1", T0 + 30, 0, 2, 1);
	expect(t, p, ANVIL_CONNECT, "10.0.0.1", T0 + 59, 0, 3, 3);
	/* The connect window (from T0) ends; mail's (from T0+30) not yet. */
	expect(t, p, ANVIL_CONNECT, "10.0.0.1", T0 + 60, 0, 4, 1);
	expect(t, p, ANVIL_MAIL, "10.0.0.1", T0 + 60, 0, 4, 2);
	/* A new window starts at its first event, not on a grid. */
	expect(t, p, ANVIL_CONNECT, "10.0.0.1", T0 + 119, 0, 5, 2);
	expect(t, p, ANVIL_CONNECT, "10.0.0.1", T0 + 120, 0, 6, 1);
	expect(t, p, ANVIL_MAIL, "10.0.0.1", T0 + 90, 0, 6, 1);
	/* A peek sees an ended window as zero and starts none. */
	expect(t, p, ANVIL_AUTH_FAIL, "10.0.0.1", T0 + 200, 0, 6, 1);
	expect(t, p, ANVIL_AUTH_FAIL_PEEK, "10.0.0.1", T0 + 259, 0, 6, 1);
	expect(t, p, ANVIL_AUTH_FAIL_PEEK, "10.0.0.1", T0 + 260, 0, 6, 0);
	expect(t, p, ANVIL_AUTH_FAIL_PEEK, "10.0.0.1", T0 + 261, 0, 6, 0);
	expect(t, p, ANVIL_AUTH_FAIL, "10.0.0.1", T0 + 261, 0, 6, 1);
	/* A one-second unit. */
	anvil_peer_free(&p);
	anvil_table_free(&t);
	t = anvil_table_new(1, 100);
	p = anvil_peer_new(t);
	expect(t, p, ANVIL_MAIL, "10.0.0.1", T0, 0, 0, 1);
	expect(t, p, ANVIL_MAIL, "10.0.0.1", T0, 0, 0, 2);
	expect(t, p, ANVIL_MAIL, "10.0.0.1", T0 + 1, 0, 0, 1);
	anvil_peer_free(&p);
	anvil_table_free(&t);
}
END_TEST

START_TEST(test_release)
{
	struct anvil_table *t = anvil_table_new(60, 100);
	struct anvil_peer *p1 = anvil_peer_new(t);
	struct anvil_peer *p2 = anvil_peer_new(t);
	struct anvil_peer *p3 = anvil_peer_new(t);
	struct anvil_counts c;

	expect(t, p1, ANVIL_CONNECT, "198.51.100.7", T0, 0, 1, 1);
	expect(t, p1, ANVIL_CONNECT, "198.51.100.7", T0, 0, 2, 2);
	expect(t, p2, ANVIL_CONNECT, "198.51.100.7", T0, 0, 3, 3);
	expect(t, p1, ANVIL_CONNECT, "198.51.100.8", T0, 0, 1, 1);
	/* p3 counted nothing: its disconnect changes nothing. */
	expect(t, p3, ANVIL_DISCONNECT, "198.51.100.7", T0, 0, 3, 3);
	/* p1 goes (smtpd crashed): its three connections are released. */
	anvil_peer_free(&p1);
	ck_assert_int_eq(anvil_table_lookup(t, ANVIL_CONNECT, "198.51.100.7",
	    T0, &c), 1);
	ck_assert_uint_eq(c.count, 1);
	/* Rates are history: not released. */
	ck_assert_uint_eq(c.rate, 3);
	ck_assert_int_eq(anvil_table_lookup(t, ANVIL_CONNECT, "198.51.100.8",
	    T0, &c), 1);
	ck_assert_uint_eq(c.count, 0);
	/* p2's own connection is still its to release, once. */
	expect(t, p2, ANVIL_DISCONNECT, "198.51.100.7", T0, 0, 0, 3);
	expect(t, p2, ANVIL_DISCONNECT, "198.51.100.7", T0, 0, 0, 3);
	expect(t, p3, ANVIL_CONNECT, "198.51.100.7", T0, 0, 1, 4);
	anvil_peer_free(&p2);
	anvil_peer_free(&p3);
	ck_assert_int_eq(anvil_table_lookup(t, ANVIL_CONNECT, "198.51.100.7",
	    T0, &c), 1);
	ck_assert_uint_eq(c.count, 0);
	anvil_table_free(&t);
}
END_TEST

START_TEST(test_sweep)
{
	struct anvil_table *t = anvil_table_new(60, 100);
	struct anvil_peer *p = anvil_peer_new(t);
	struct anvil_counts c;

	/* .1 stays open. */
	expect(t, p, ANVIL_CONNECT, "10.1.0.1", T0, 0, 1, 1);
	expect(t, p, ANVIL_MAIL, "10.1.0.2", T0, 0, 0, 1);
	expect(t, p, ANVIL_AUTH_FAIL, "10.1.0.3", T0 + 50, 0, 0, 1);
	expect(t, p, ANVIL_CONNECT, "10.1.0.4", T0, 0, 1, 1);
	expect(t, p, ANVIL_DISCONNECT, "10.1.0.4", T0, 0, 0, 1);
	ck_assert_uint_eq(anvil_table_size(t), 4);
	/* Every window still open: nothing goes. */
	ck_assert_uint_eq(anvil_table_sweep(t, T0 + 59), 0);
	ck_assert_uint_eq(anvil_table_size(t), 4);
	/* .2 and .4 are done; .1 has a connection, .3 an open window. */
	ck_assert_uint_eq(anvil_table_sweep(t, T0 + 60), 2);
	ck_assert_uint_eq(anvil_table_size(t), 2);
	ck_assert_int_eq(anvil_table_lookup(t, ANVIL_MAIL, "10.1.0.2",
	    T0 + 60, &c), 0);
	ck_assert_int_eq(anvil_table_lookup(t, ANVIL_MAIL, "10.1.0.4",
	    T0 + 60, &c), 0);
	ck_assert_int_eq(anvil_table_lookup(t, ANVIL_CONNECT, "10.1.0.1",
	    T0 + 60, &c), 1);
	ck_assert_uint_eq(c.count, 1);
	ck_assert_uint_eq(c.rate, 0);
	ck_assert_uint_eq(anvil_table_sweep(t, T0 + 110), 1);
	ck_assert_uint_eq(anvil_table_size(t), 1);
	/* Much later: the connection still holds its address. */
	ck_assert_uint_eq(anvil_table_sweep(t, T0 + 100000), 0);
	anvil_peer_free(&p);
	ck_assert_uint_eq(anvil_table_sweep(t, T0 + 100000), 1);
	ck_assert_uint_eq(anvil_table_size(t), 0);
	anvil_table_free(&t);
}
END_TEST

/* Log lines captured from the code under test. */
static struct strv logged;

static void
log_capture(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	strv_push(&logged, msg);
}

static size_t
logged_matching(const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < logged.n; i++)
		if (strstr(logged.v[i], needle) != NULL)
			n++;
	return n;
}

START_TEST(test_bound)
{
	struct anvil_table *t = anvil_table_new(60, 3);
	struct anvil_peer *p = anvil_peer_new(t);
	struct anvil_counts c;
	char addr[32];

	strv_init(&logged);
	log_set_hook(log_capture, NULL);
	expect(t, p, ANVIL_CONNECT, "10.2.0.1", T0, 0, 1, 1);
	expect(t, p, ANVIL_MAIL, "10.2.0.2", T0, 0, 0, 1);
	expect(t, p, ANVIL_AUTH_FAIL, "10.2.0.3", T0, 0, 0, 1);
	/* A flood of new addresses: refused, not stored, warned once. */
	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof(addr), "10.3.%d.%d", i / 256, i % 256);
		expect(t, p, ANVIL_CONNECT, addr, T0 + 10, ANVIL_STATUS_FULL,
		    0, 0);
		expect(t, p, ANVIL_MAIL, addr, T0 + 10, ANVIL_STATUS_FULL, 0,
		    0);
	}
	ck_assert_uint_eq(anvil_table_size(t), 3);
	ck_assert_uint_eq(logged_matching("table full (3 addresses)"), 1);
	/* Addresses held are still counted. */
	expect(t, p, ANVIL_CONNECT, "10.2.0.1", T0 + 10, 0, 2, 2);
	expect(t, p, ANVIL_MAIL, "10.2.0.3", T0 + 10, 0, 0, 1);
	/* Not counting a refused connection: its disconnect is a no-op. */
	expect(t, p, ANVIL_DISCONNECT, "10.3.0.0", T0 + 10, 0, 0, 0);
	/* Once windows end, a new address makes room by itself. */
	expect(t, p, ANVIL_CONNECT, "10.4.0.1", T0 + 60, 0, 1, 1);
	ck_assert_uint_eq(anvil_table_size(t), 3);	/* .1 .3 .4.1 */
	/* .3's mail window (from T0 + 10) is still open. */
	expect(t, p, ANVIL_CONNECT, "10.4.0.2", T0 + 60, ANVIL_STATUS_FULL,
	    0, 0);
	ck_assert_uint_eq(logged_matching("table full"), 1);
	expect(t, p, ANVIL_CONNECT, "10.4.0.2", T0 + 70, 0, 1, 1);
	ck_assert_int_eq(anvil_table_lookup(t, ANVIL_MAIL, "10.2.0.3",
	    T0 + 70, &c), 0);
	/* Full again; warned again only a minute after the last time. */
	expect(t, p, ANVIL_CONNECT, "10.4.0.3", T0 + 70, ANVIL_STATUS_FULL,
	    0, 0);
	ck_assert_uint_eq(logged_matching("table full"), 2);
	ck_assert_uint_eq(anvil_table_size(t), 3);
	log_set_hook(NULL, NULL);
	strv_deinit(&logged);
	anvil_peer_free(&p);
	anvil_table_free(&t);
}
END_TEST

START_TEST(test_stats)
{
	struct anvil_table *t = anvil_table_new(60, 100);
	struct anvil_peer *p = anvil_peer_new(t);
	struct buf out;

	setenv("TZ", "UTC", 1);
	tzset();
	buf_init(&out, 0);
	anvil_table_stats(t, T0, 1700000000, &out);
	ck_assert_uint_eq(out.len, 0);
	expect(t, p, ANVIL_CONNECT, "10.5.0.1", T0, 0, 1, 1);
	expect(t, p, ANVIL_CONNECT, "10.5.0.2", T0 + 5, 0, 1, 1);
	expect(t, p, ANVIL_CONNECT, "10.5.0.2", T0 + 10, 0, 2, 2);
	expect(t, p, ANVIL_MAIL, "10.5.0.1", T0 + 20, 0, 1, 1);
	/* Wall clock 1700000000 (Nov 14 22:13:20 UTC) is T0 + 20. */
	anvil_table_stats(t, T0 + 20, 1700000000, &out);
	ck_assert_str_eq(buf_cstr(&out),
	    "statistics: max connection rate 2/60s for 10.5.0.2 at "
	    "Nov 14 22:13:10\n"
	    "statistics: max connection count 2 for 10.5.0.2 at "
	    "Nov 14 22:13:10\n"
	    "statistics: max message rate 1/60s for 10.5.0.1 at "
	    "Nov 14 22:13:20\n"
	    "statistics: max cache size 2 at Nov 14 22:13:05\n");
	/* A new period: nothing happened, nothing to say. */
	buf_reset(&out);
	anvil_table_stats(t, T0 + 30, 1700000010, &out);
	ck_assert_uint_eq(out.len, 0);
	buf_deinit(&out);
	anvil_peer_free(&p);
	anvil_table_free(&t);
}
END_TEST

/*
 * Requests: good frames get a reply; hostile ones are errors (the
 * service then drops the peer) and count nothing.
 */
enum req_kind { REQ_OK, REQ_PEEK, REQ_UNKNOWN_OP, REQ_NO_ADDR, REQ_NO_OP,
	REQ_LONG_ADDR, REQ_NL_ADDR, REQ_EMPTY_ADDR, REQ_EXTRA, REQ_OP_U64,
	REQ_EMPTY, REQ_GARBAGE, REQ_NUL_ADDR, REQ_TRAILING, REQ_OP_CASE,
	REQ_DUP };

static const struct {
	enum req_kind	 kind;
	bool		 ok;
	const char	*err;
} req_cases[] = {
	{ REQ_OK, true, NULL },
	{ REQ_PEEK, true, NULL },
	{ REQ_UNKNOWN_OP, false, "unknown op" },
	{ REQ_NO_ADDR, false, NULL },
	{ REQ_NO_OP, false, NULL },
	{ REQ_LONG_ADDR, false, "invalid address" },
	{ REQ_NL_ADDR, false, "invalid address" },
	{ REQ_EMPTY_ADDR, false, "invalid address" },
	{ REQ_EXTRA, false, NULL },
	{ REQ_OP_U64, false, NULL },
	{ REQ_EMPTY, false, NULL },
	{ REQ_GARBAGE, false, NULL },
	{ REQ_NUL_ADDR, false, NULL },
	{ REQ_TRAILING, false, NULL },
	{ REQ_OP_CASE, false, "unknown op" },
	{ REQ_DUP, false, NULL },
};

START_TEST(test_request)
{
	enum req_kind k = req_cases[_i].kind;
	struct anvil_table *t = anvil_table_new(60, 100);
	struct anvil_peer *p = anvil_peer_new(t);
	uint64_t status = 9, count = 9, rate = 9;
	struct attr_spec spec[] = {
		ATTR_U64("status", &status),
		ATTR_U64("count", &count),
		ATTR_U64("rate", &rate),
		ATTR_END
	};
	struct attr_writer w;
	struct anvil_counts c;
	struct buf in, out;
	const char *err = NULL;
	char longaddr[200];
	int rc;

	memset(longaddr, '1', sizeof(longaddr) - 1);
	longaddr[sizeof(longaddr) - 1] = '\0';
	buf_init(&in, 0);
	buf_init(&out, 0);
	expect(t, p, ANVIL_AUTH_FAIL, "10.6.0.1", T0, 0, 0, 1);
	if (k == REQ_GARBAGE) {
		buf_adds(&in, "\x07\x02op\x00\x00\x00\x07" "connect");
	} else if (k != REQ_EMPTY) {
		attr_frame_begin(&w, &in);
		if (k == REQ_OP_U64)
			attr_put_u64(&w, "op", 1);
		else if (k != REQ_NO_OP)
			attr_put_str(&w, "op", k == REQ_UNKNOWN_OP ?
			    "shutdown" : k == REQ_PEEK ? "peekfail" :
			    k == REQ_OP_CASE ? "CONNECT" : "connect");
		if (k == REQ_DUP)
			attr_put_str(&w, "op", "connect");
		if (k == REQ_NUL_ADDR)
			attr_put_blob(&w, "addr", "10.6.0.1\0x", 10);
		else if (k != REQ_NO_ADDR)
			attr_put_str(&w, "addr", k == REQ_LONG_ADDR ?
			    longaddr : k == REQ_NL_ADDR ? "10.6.0.1\n" :
			    k == REQ_EMPTY_ADDR ? "" : "10.6.0.1");
		if (k == REQ_EXTRA)
			attr_put_bool(&w, "all", true);
		ck_assert_int_eq(attr_frame_end(&w, &err), 0);
		/* The body only: anvil_request gets what the reader cut. */
		buf_consume(&in, ATTR_HDR_LEN);
		if (k == REQ_TRAILING)
			buf_addc(&in, '\0');
	}
	rc = anvil_request(t, p, in.data, in.len, T0, &out, &err);
	if (req_cases[_i].ok) {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_gt(out.len, ATTR_HDR_LEN);
		ck_assert_uint_eq(attr_hdr_decode((unsigned char *)out.data),
		    out.len - ATTR_HDR_LEN);
		ck_assert_int_eq(attr_parse(out.data + ATTR_HDR_LEN,
		    out.len - ATTR_HDR_LEN, spec, ATTR_PARSE_STRICT, &err), 0);
		ck_assert_uint_eq(status, 0);
		ck_assert_uint_eq(count, k == REQ_PEEK ? 0 : 1);
		ck_assert_uint_eq(rate, 1);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_ptr_nonnull(err);
		if (req_cases[_i].err != NULL)
			ck_assert_str_eq(err, req_cases[_i].err);
		ck_assert_uint_eq(out.len, 0);
		/* Nothing was counted. */
		ck_assert_int_eq(anvil_table_lookup(t, ANVIL_CONNECT,
		    "10.6.0.1", T0, &c), 1);
		ck_assert_uint_eq(c.count, 0);
		ck_assert_uint_eq(c.rate, 0);
		ck_assert_uint_eq(anvil_table_size(t), 1);
	}
	buf_deinit(&in);
	buf_deinit(&out);
	anvil_peer_free(&p);
	anvil_table_free(&t);
}
END_TEST

/*
 * The service on a real socket: a child process runs the event loop,
 * this process (and its children) talk to it through anvil_client.
 */
static char tree[] = "/tmp/test_anvil.XXXXXX";
static char *old_cwd;

static void
tree_setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tree));
	old_cwd = getcwd(NULL, 0);
	ck_assert_int_eq(chdir(tree), 0);
	ck_assert_int_eq(mkdir("private", 0700), 0);
}

static void
tree_teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tree);

	anvil_client_close();
	ck_assert_int_eq(chdir(old_cwd), 0);
	free(old_cwd);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	int fd;

	(void)what;
	(void)arg;
	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1)
		anvil_service_attach(fd);
}

static void
term_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

/*
 * Starts anvil in a child; returns its pid once it listens.  On SIGTERM
 * the child frees everything and exits 0 (so that the sanitizer build
 * checks the service for leaks).
 */
static pid_t
anvil_start(size_t max)
{
	const char *err;
	int lfd, sync[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(sync), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct event_base *base = event_base_new();
		struct event *ev, *sev;

		/* check's handler would pass SIGTERM on to the test. */
		signal(SIGTERM, SIG_DFL);
		close(sync[0]);
		anvil_client_close();
		lfd = ipc_listen(ANVIL_SERVICE_PATH, 16, 0600, &err);
		if (base == NULL || lfd == -1 ||
		    fcntl(lfd, F_SETFL, O_NONBLOCK) == -1)
			_exit(2);
		ev = event_new(base, lfd, EV_READ | EV_PERSIST, accept_cb,
		    NULL);
		sev = evsignal_new(base, SIGTERM, term_cb, base);
		if (ev == NULL || sev == NULL || event_add(ev, NULL) == -1 ||
		    event_add(sev, NULL) == -1)
			_exit(2);
		anvil_service_init(base, 60, max, NULL);
		if (write(sync[1], "x", 1) != 1)
			_exit(2);
		close(sync[1]);
		event_base_dispatch(base);
		anvil_service_deinit();
		event_free(ev);
		event_free(sev);
		event_base_free(base);
		close(lfd);
		exit(0);
	}
	close(sync[1]);
	ck_assert_int_eq(read(sync[0], &c, 1), 1);
	close(sync[0]);
	return pid;
}

static void
anvil_kill(pid_t pid)
{
	int status;

	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "anvil child status %#x", (unsigned)status);
}

/* The counts of addr, as this process's connection sees them. */
static struct anvil_counts
peek(const char *addr)
{
	struct anvil_counts c;
	const char *err = NULL;

	if (anvil_client_event(ANVIL_AUTH_FAIL_PEEK, addr, &c, &err) != 0)
		ck_abort_msg("peek %s: %s", addr, err);
	return c;
}

/*
 * Waits (up to 5 s) for anvil to see addr's connection count become
 * want: another process's end of file and this process's request travel
 * on different sockets, so their order is not fixed.
 */
static void
wait_count(const char *addr, uint64_t want)
{
	uint64_t got = 0;

	for (int i = 0; i < 500; i++) {
		if ((got = peek(addr).count) == want)
			return;
		usleep(10000);
	}
	ck_abort_msg("%s: count %ju, expected %ju", addr, (uintmax_t)got,
	    (uintmax_t)want);
}

/* Does ev for addr in this process and checks the counts. */
static void
call(enum anvil_event ev, const char *addr, uint64_t count, uint64_t rate)
{
	struct anvil_counts c;
	const char *err = NULL;

	if (anvil_client_event(ev, addr, &c, &err) != 0)
		ck_abort_msg("event %d %s: %s", (int)ev, addr, err);
	ck_assert_uint_eq(c.count, count);
	ck_assert_uint_eq(c.rate, rate);
}

START_TEST(test_service)
{
	pid_t server = anvil_start(100), other;
	int go[2], done[2], status;
	char c;

	/* Another process (an smtpd) counts two connections. */
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(done), 0);
	other = fork();
	ck_assert_int_ne(other, -1);
	if (other == 0) {
		struct anvil_counts r;
		const char *err;

		close(go[1]);
		close(done[0]);
		anvil_client_close();
		if (anvil_client_event(ANVIL_CONNECT, "203.0.113.5", &r,
		    &err) != 0 || r.count != 1 ||
		    anvil_client_event(ANVIL_CONNECT, "203.0.113.5", &r,
		    &err) != 0 || r.count != 2 ||
		    write(done[1], "x", 1) != 1)
			_exit(1);
		/* Hold the connection until told to exit. */
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(done[1]);
	ck_assert_int_eq(read(done[0], &c, 1), 1);
	close(done[0]);

	/* This process counts the same address: anvil adds them up. */
	call(ANVIL_CONNECT, "203.0.113.5", 3, 3);
	call(ANVIL_MAIL, "203.0.113.5", 3, 1);
	call(ANVIL_CONNECT, "203.0.113.6", 1, 1);

	/* The other process exits without a word: its two are released. */
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	close(go[1]);
	ck_assert_int_eq(waitpid(other, &status, 0), other);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	wait_count("203.0.113.5", 1);
	/* Rates are not released with it. */
	call(ANVIL_CONNECT, "203.0.113.5", 2, 4);
	call(ANVIL_DISCONNECT, "203.0.113.5", 1, 4);
	call(ANVIL_DISCONNECT, "203.0.113.5", 0, 4);
	call(ANVIL_DISCONNECT, "203.0.113.5", 0, 4);
	ck_assert_uint_eq(peek("203.0.113.6").count, 1);

	/* This process reconnects: its own counts go with the old link. */
	anvil_client_close();
	wait_count("203.0.113.6", 0);
	call(ANVIL_AUTH_FAIL, "203.0.113.6", 0, 1);
	call(ANVIL_AUTH, "203.0.113.6", 0, 1);
	anvil_kill(server);
}
END_TEST

/* Raw frames on a connection of its own, as a broken peer would send. */
static int
raw_connect(void)
{
	const char *err;
	int fd = ipc_connect(ANVIL_SERVICE_PATH, 1000, &err);

	ck_assert_int_ne(fd, -1);
	return fd;
}

static void
raw_send(int fd, const struct buf *b)
{
	const char *err;

	ck_assert_int_eq(attr_write_frame(fd, b, 1000, &err), 0);
}

static void
raw_frame(struct buf *b, const char *op, const char *addr)
{
	struct attr_writer w;
	const char *err;

	attr_frame_begin(&w, b);
	attr_put_str(&w, "op", op);
	attr_put_str(&w, "addr", addr);
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
}

/* True when anvil closed fd (end of file within 2 s). */
static bool
raw_closed(int fd)
{
	struct buf body;
	const char *err = NULL;
	bool closed;

	buf_init(&body, 0);
	/* Replies to earlier good frames may come first. */
	while (attr_read_frame(fd, &body, 0, 2000, &err) == 0)
		;
	closed = err != NULL && str_eq(err, "connection closed");
	buf_deinit(&body);
	return closed;
}

static const struct {
	const char	*name;
	const char	*bytes;		/* after two good frames */
	size_t		 len;
} raw_cases[] = {
	{ "unknown op", NULL, 0 },
	{ "garbage", "GET / HTTP/1.0\r\n\r\n", 18 },
	{ "too long", "\x00\x10\x00\x00", 4 },
	{ "bad field type", "\x00\x00\x00\x03\x09\x01x", 7 },
	{ "empty frame", "\x00\x00\x00\x00", 4 },
};

START_TEST(test_service_hostile)
{
	pid_t server = anvil_start(100);
	struct buf b;
	int fd;

	call(ANVIL_CONNECT, "203.0.113.7", 1, 1);
	fd = raw_connect();
	buf_init(&b, 0);
	raw_frame(&b, "connect", "203.0.113.7");
	raw_frame(&b, "connect", "203.0.113.7");
	if (raw_cases[_i].bytes == NULL)
		raw_frame(&b, "reboot", "203.0.113.7");
	else
		buf_add(&b, raw_cases[_i].bytes, raw_cases[_i].len);
	raw_send(fd, &b);
	ck_assert_msg(raw_closed(fd), "%s: not dropped", raw_cases[_i].name);
	close(fd);
	/* The dropped peer's two connections are gone; ours stays. */
	wait_count("203.0.113.7", 1);
	ck_assert_uint_eq(peek("203.0.113.7").rate, 0);
	call(ANVIL_CONNECT, "203.0.113.7", 2, 4);
	buf_deinit(&b);
	anvil_kill(server);
}
END_TEST

/*
 * Reads n replies from fd (each "status 0"), sending rest (when not NULL)
 * while doing so, without ever blocking on either direction.
 */
static void
drain_and_send(int fd, const struct buf *rest, size_t n)
{
	struct attr_reader rd;
	size_t got = 0, off = 0;
	const char *err;

	attr_reader_init(&rd, 256);
	while (got < n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		const void *body;
		size_t len;
		int rc;

		if (rest != NULL && off < rest->len)
			pfd.events |= POLLOUT;
		ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
		if (pfd.revents & POLLOUT) {
			ssize_t w = send(fd, rest->data + off, rest->len - off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);

			ck_assert_int_gt(w, 0);
			off += (size_t)w;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		ck_assert_int_eq(attr_reader_fill(&rd, fd, &err), 1);
		while ((rc = attr_reader_next(&rd, &body, &len, &err)) == 1) {
			uint64_t status = 9, count = 0, rate = 0;
			struct attr_spec spec[] = {
				ATTR_U64("status", &status),
				ATTR_U64("count", &count),
				ATTR_U64("rate", &rate),
				ATTR_END
			};

			ck_assert_int_eq(attr_parse(body, len, spec,
			    ATTR_PARSE_STRICT, &err), 0);
			ck_assert_uint_eq(status, 0);
			ck_assert_uint_eq(rate, ++got);
			attr_reader_consume(&rd);
		}
		ck_assert_int_eq(rc, 0);
	}
	attr_reader_deinit(&rd);
}

START_TEST(test_service_limits)
{
	pid_t server = anvil_start(2);
	struct anvil_counts r;
	const char *err = NULL;
	char addr[ANVIL_ADDR_MAX + 2];
	size_t sent = 0, frame_len, frames;
	bool stalled = false;
	struct buf b;
	int fd;

	call(ANVIL_CONNECT, "192.0.2.50", 1, 1);
	call(ANVIL_CONNECT, "192.0.2.51", 1, 1);
	/* Full: refused, and the connection (and its counts) stays. */
	ck_assert_int_eq(anvil_client_event(ANVIL_CONNECT, "192.0.2.52", &r,
	    &err), -1);
	ck_assert_str_eq(err, "anvil: refused: table full");
	ck_assert_uint_eq(peek("192.0.2.50").count, 1);
	/* The stub refuses a bad address without telling anvil. */
	memset(addr, '1', sizeof(addr) - 1);
	addr[sizeof(addr) - 1] = '\0';
	ck_assert_int_eq(anvil_client_event(ANVIL_CONNECT, addr, &r, &err),
	    -1);
	ck_assert_str_eq(err, "anvil: request: invalid client address");
	ck_assert_int_eq(anvil_client_event(ANVIL_MAIL, "1.2.3.4\r\nQUIT",
	    &r, &err), -1);
	ck_assert_int_eq(anvil_client_event((enum anvil_event)77,
	    "192.0.2.50", &r, &err), -1);
	ck_assert_uint_eq(peek("192.0.2.50").count, 1);
	/*
	 * A peer that sends and never reads: anvil stops reading it once
	 * its replies back up, and meanwhile serves everyone else.
	 */
	fd = raw_connect();
	buf_init(&b, 0);
	for (int i = 0; i < 100; i++)
		raw_frame(&b, "mail", "192.0.2.50");
	frame_len = b.len / 100;
	while (!stalled && sent < 100000 * frame_len) {
		ssize_t n = send(fd, b.data + sent % b.len,
		    b.len - sent % b.len, MSG_DONTWAIT | MSG_NOSIGNAL);
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };

		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		ck_assert(n == -1 && errno == EAGAIN);
		stalled = poll(&pfd, 1, 300) == 0;
	}
	ck_assert_msg(stalled, "sent %zu bytes without a stall", sent);
	call(ANVIL_CONNECT, "192.0.2.51", 2, 2);
	/* Complete the last frame, then take every reply. */
	if (sent % frame_len != 0) {
		struct buf rest;

		buf_init(&rest, 0);
		buf_add(&rest, b.data + sent % b.len,
		    frame_len - sent % frame_len);
		frames = sent / frame_len + 1;
		drain_and_send(fd, &rest, frames);
		buf_deinit(&rest);
	} else {
		frames = sent / frame_len;
		drain_and_send(fd, NULL, frames);
	}
	close(fd);
	buf_deinit(&b);
	call(ANVIL_MAIL, "192.0.2.50", 1, frames + 1);
	anvil_kill(server);
}
END_TEST

START_TEST(test_service_down)
{
	struct anvil_counts r = { 7, 7 };
	const char *err = NULL;
	pid_t server;

	/* Nobody listens: -1 at once, and the caller fails open. */
	ck_assert_int_eq(anvil_client_event(ANVIL_CONNECT, "192.0.2.60", &r,
	    &err), -1);
	ck_assert_ptr_nonnull(err);
	ck_assert(str_has_prefix(err, "anvil: private/anvil: "));
	ck_assert_uint_eq(r.count, 0);
	server = anvil_start(100);
	call(ANVIL_CONNECT, "192.0.2.60", 1, 1);
	/* anvil goes away: the next call fails, the one after reconnects. */
	anvil_kill(server);
	ck_assert_int_eq(anvil_client_event(ANVIL_CONNECT, "192.0.2.60", &r,
	    &err), -1);
	server = anvil_start(100);
	call(ANVIL_CONNECT, "192.0.2.60", 1, 1);
	anvil_kill(server);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("anvil");
	TCase *tc = tcase_create("table");
	TCase *ts = tcase_create("service");

	tcase_add_loop_test(tc, test_addr_valid, 0, ARRAY_LEN(addr_cases));
	tcase_add_test(tc, test_count);
	tcase_add_test(tc, test_window);
	tcase_add_test(tc, test_release);
	tcase_add_test(tc, test_sweep);
	tcase_add_test(tc, test_bound);
	tcase_add_test(tc, test_stats);
	tcase_add_loop_test(tc, test_request, 0, ARRAY_LEN(req_cases));
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ts, tree_setup, tree_teardown);
	tcase_set_timeout(ts, 30);
	tcase_add_test(ts, test_service);
	tcase_add_loop_test(ts, test_service_hostile, 0, ARRAY_LEN(raw_cases));
	tcase_add_test(ts, test_service_limits);
	tcase_add_test(ts, test_service_down);
	suite_add_tcase(s, ts);
	return s;
}

TEST_MAIN(suite)
