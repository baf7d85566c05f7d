/* SPDX-License-Identifier: MIT */
/*
 * End-to-end tests of smtp_deliver inside the test's own event loop: a
 * scripted SMTP server on 127.0.0.1 (libevent, same loop), a resolver
 * file whose local-data gives the MX records, and a queue file opened
 * read-only as the request's descriptor.  Covered: per-recipient
 * results, fallback from a refusing first MX (127.0.0.3, where nothing
 * listens) to the second, the dead-host memory, reply->dead when nothing
 * answers, null MX, nxdomain, a soft failure, address literals, hostile
 * next hops, and connection reuse across two requests (one connection,
 * RSET between).
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "deliver.h"
#include "dns.h"
#include "mail_conf.h"

#include "smtp.h"
#include "smtp_cache.h"
#include "smtp_deliver.h"
#include "smtp_hosts.h"
#include "smtp_session.h"

static char dir[64];
static struct event_base *base;
static struct evconnlistener *listener;
static unsigned port;
static struct buf logged;

/* What the fake server saw. */
static int nconn, nrset, nmsg, nquit;
static char last_body[4096];

struct fconn {
	struct bufferevent *bev;
	bool		 data;
	struct buf	 body;
	struct fconn	*next;
};

/* The fake server's open connections. */
static struct fconn *conns;

static void
hook(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	buf_adds(&logged, msg);
	buf_addc(&logged, '\n');
}

static void
put(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	free(path);
}

static void
say(struct fconn *c, const char *text)
{
	ck_assert_int_eq(bufferevent_write(c->bev, text, strlen(text)), 0);
}

static void
fconn_free(struct fconn *c)
{
	struct fconn **pp;

	for (pp = &conns; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	bufferevent_free(c->bev);
	buf_deinit(&c->body);
	free(c);
}

static void
server_read(struct bufferevent *bev, void *arg)
{
	struct fconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) !=
	    NULL) {
		if (c->data) {
			if (strcmp(line, ".") == 0) {
				c->data = false;
				nmsg++;
				(void)str_copy(last_body, buf_cstr(&c->body),
				    sizeof(last_body));
				say(c, "250 2.0.0 Ok: queued as FAKE\r\n");
			} else {
				buf_adds(&c->body, line);
				buf_adds(&c->body, "\n");
			}
		} else if (strncasecmp(line, "EHLO", 4) == 0) {
			say(c, "250-fake.test\r\n250 8BITMIME\r\n");
		} else if (strncasecmp(line, "HELO", 4) == 0) {
			say(c, "250 fake.test\r\n");
		} else if (strncasecmp(line, "MAIL", 4) == 0) {
			say(c, "250 2.1.0 Ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:<bad", 12) == 0) {
			say(c, "550 5.1.1 <bad>: Recipient address "
			    "rejected\r\n");
		} else if (strncasecmp(line, "RCPT TO:<soft", 13) == 0) {
			say(c, "450 4.2.0 <soft>: try again later\r\n");
		} else if (strncasecmp(line, "RCPT", 4) == 0) {
			say(c, "250 2.1.5 Ok\r\n");
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			buf_reset(&c->body);
			c->data = true;
			say(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
		} else if (strncasecmp(line, "RSET", 4) == 0) {
			nrset++;
			say(c, "250 2.0.0 Ok\r\n");
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			nquit++;
			say(c, "221 2.0.0 Bye\r\n");
		} else {
			say(c, "502 5.5.2 Error: command not recognized\r\n");
		}
		free(line);
	}
}

static void
server_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		fconn_free(arg);
}

static void
server_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	struct fconn *c = xcalloc(1, sizeof(*c));

	(void)l;
	(void)sa;
	(void)len;
	(void)arg;
	nconn++;
	c->next = conns;
	conns = c;
	buf_init(&c->body, 0);
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	ck_assert_ptr_nonnull(c->bev);
	bufferevent_setcb(c->bev, server_read, NULL, server_event, c);
	ck_assert_int_eq(bufferevent_enable(c->bev, EV_READ), 0);
	say(c, "220 fake.test ESMTP\r\n");
}

static const char unbound_conf[] =
    "server:\n"
    "	verbosity: 0\n"
    "	local-zone: \".\" refuse\n"
    "	local-zone: \"test.\" static\n"
    "	local-data: \"two.test. IN MX 10 mx1.two.test.\"\n"
    "	local-data: \"two.test. IN MX 20 mx2.two.test.\"\n"
    "	local-data: \"mx1.two.test. IN A 127.0.0.3\"\n"
    "	local-data: \"mx2.two.test. IN A 127.0.0.1\"\n"
    "	local-data: \"one.test. IN MX 10 mx.one.test.\"\n"
    "	local-data: \"mx.one.test. IN A 127.0.0.1\"\n"
    "	local-data: \"down.test. IN MX 10 mx.down.test.\"\n"
    "	local-data: \"mx.down.test. IN A 127.0.0.3\"\n"
    "	local-data: \"null.test. IN MX 0 .\"\n"
    "	local-data: \"self.test. IN MX 10 tern.test.\"\n"
    "	local-data: \"tern.test. IN A 127.0.0.1\"\n";

static void
setup(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	const char *err;
	char *cf;

	(void)str_copy(dir, "/tmp/test_smtp_deliver.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	base = event_base_new();
	ck_assert_ptr_nonnull(base);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = evconnlistener_new_bind(base, server_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	    (struct sockaddr *)&sin, sizeof(sin));
	ck_assert_ptr_nonnull(listener);
	ck_assert_int_eq(getsockname(evconnlistener_get_fd(listener),
	    (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);

	put("unbound.conf", unbound_conf);
	cf = xasprintf(
	    "queue_directory = %s\n"
	    "dns_resolver_config = %s/unbound.conf\n"
	    "myhostname = tern.test\n"
	    "inet_protocols = ipv4\n"
	    "smtp_tcp_port = %u\n"
	    "smtp_tls_security_level = none\n"
	    "smtp_connect_timeout = 5s\n"
	    "smtp_helo_timeout = 5s\n"
	    "smtp_dead_host_time = 60s\n"
	    "smtp_connection_cache_time_limit = 30s\n",
	    dir, dir, port);
	put("main.cf", cf);
	free(cf);
	if (mail_conf_try_load(dir, NULL, false, &err) == -1)
		ck_abort_msg("mail_conf_try_load: %s", err);
	if (smtp_conf_load("smtp", &err) == -1)
		ck_abort_msg("smtp_conf_load: %s", err);
	if (dns_init(base, &err) == -1)
		ck_abort_msg("dns_init: %s", err);
	smtp_runtime(base);
	put("qf", "junk before the message\n");
	buf_init(&logged, 0);
	log_set_hook(hook, NULL);
	nconn = nrset = nmsg = nquit = 0;
	last_body[0] = '\0';
}

static void
run_until(bool *flag)
{
	time_t until = time(NULL) + 20;

	while (!*flag && time(NULL) < until)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
	ck_assert_msg(*flag, "timed out");
}

static void
teardown(void)
{
	char *cmd;
	time_t until = time(NULL) + 5;

	smtp_cache_close_all();
	/* Let QUIT go out and the sessions end. */
	while (smtp_session_count() > 0 && time(NULL) < until)
		(void)event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	while (conns != NULL)
		fconn_free(conns);
	log_set_hook(NULL, NULL);
	buf_deinit(&logged);
	dns_deinit();
	evconnlistener_free(listener);
	event_base_free(base);
	base = NULL;
	smtp_conf_unload();
	mail_conf_unload();
	cmd = xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

struct result {
	struct deliver_request req;
	struct deliver_reply reply;
	bool		 done;
};

static void
on_done(void *ctx)
{
	struct result *r = ctx;

	r->done = true;
}

static const char message[] =
    "From: <sender@tern.test>\n"
    "Subject: test\n"
    "\n"
    "body line\n";

/* Delivers message to the recipients (NULL-terminated) via nexthop. */
static void
deliver(struct result *r, const char *nexthop, const char *const *rcpts)
{
	char *qf = xasprintf("%s/qf", dir);
	char *content = xasprintf("junk before the message\n%s", message);
	size_t i;

	put("qf", content);
	memset(r, 0, sizeof(*r));
	deliver_request_init(&r->req);
	r->req.queue_id = "4XYZ1234AB";
	r->req.queue_name = "active";
	r->req.arrival = r->req.active = deliver_now_us();
	r->req.fd = open(qf, O_RDONLY);
	ck_assert_int_ne(r->req.fd, -1);
	r->req.content_off = strlen("junk before the message\n");
	r->req.content_size = strlen(message);
	r->req.sender = "sender@tern.test";
	r->req.transport = "smtp";
	r->req.nexthop = nexthop;
	for (i = 0; rcpts[i] != NULL; i++) {
		strv_push(&r->req.rcpt, rcpts[i]);
		strv_push(&r->req.orcpt, "-");
		strv_push(&r->req.notify, "-");
	}
	smtp_deliver_start(&r->req, &r->reply, on_done, r);
	run_until(&r->done);
	ck_assert_uint_eq(r->reply.n, i);
	ck_assert_uint_eq(smtp_deliver_count(), 0);
	free(qf);
	free(content);
}

static void
result_free(struct result *r)
{
	/* nexthop and the other strings are the test's, not the reader's. */
	r->req.nexthop = NULL;
	deliver_request_deinit(&r->req);
	deliver_reply_deinit(&r->reply);
}

static void
assert_result(const struct result *r, size_t i, enum deliver_status st,
    const char *dsn, const char *text_part)
{
	ck_assert_int_eq(r->reply.results[i].status, st);
	ck_assert_str_eq(r->reply.results[i].dsn, dsn);
	ck_assert_msg(strstr(r->reply.results[i].text, text_part) != NULL,
	    "result %zu text \"%s\" lacks \"%s\"", i, r->reply.results[i].text,
	    text_part);
}

static void
assert_logged(const char *part)
{
	ck_assert_msg(strstr(buf_cstr(&logged), part) != NULL,
	    "log lacks \"%s\":\n%s", part, buf_cstr(&logged));
}

START_TEST(test_mx_fallback)
{
	static const char *const rcpts[] = { "ok@two.test", "bad@two.test",
	    NULL };
	struct result r;
	char *relay;

	deliver(&r, "two.test", rcpts);
	relay = xasprintf("mx2.two.test[127.0.0.1]:%u", port);
	assert_result(&r, 0, DELIVER_SENT, "2.0.0", "250 2.0.0 Ok");
	assert_result(&r, 1, DELIVER_BOUNCE, "5.1.1", "550 5.1.1");
	ck_assert(!r.reply.dead);
	ck_assert_str_eq(r.reply.relay, relay);
	ck_assert_int_eq(nconn, 1);
	ck_assert_int_eq(nmsg, 1);
	/* LF became CRLF on the wire and the junk before the offset was
	   not sent. */
	ck_assert_str_eq(last_body, message);
	/* The refusing MX is remembered as dead. */
	ck_assert(smtp_hosts_dead("127.0.0.3", port, (int64_t)time(NULL)));
	ck_assert(!smtp_hosts_dead("127.0.0.1", port, (int64_t)time(NULL)));
	assert_logged("4XYZ1234AB: to=<ok@two.test>, relay=");
	assert_logged(relay);
	assert_logged("status=sent");
	assert_logged("4XYZ1234AB: to=<bad@two.test>");
	assert_logged("status=bounced");
	free(relay);
	result_free(&r);
}
END_TEST

START_TEST(test_dead)
{
	static const char *const rcpts[] = { "a@down.test", "b@down.test",
	    NULL };
	struct result r;
	char *text;

	deliver(&r, "down.test", rcpts);
	text = xasprintf("connect to mx.down.test[127.0.0.3]:%u: Connection "
	    "refused", port);
	assert_result(&r, 0, DELIVER_DEFER, "4.4.1", text);
	assert_result(&r, 1, DELIVER_DEFER, "4.4.1", text);
	ck_assert(r.reply.dead);
	ck_assert_str_eq(r.reply.relay, "none");
	assert_logged("relay=none");
	assert_logged("status=deferred");
	result_free(&r);

	/* Again: skipped without connecting, still dead. */
	deliver(&r, "down.test", rcpts);
	assert_result(&r, 0, DELIVER_DEFER, "4.4.1", "mx.down.test[127.0.0.3]");
	ck_assert(r.reply.dead);
	ck_assert_int_eq(nconn, 0);
	free(text);
	result_free(&r);
}
END_TEST

START_TEST(test_dns_outcomes)
{
	static const char *const rcpts[] = { "u@x.test", NULL };
	struct result r;

	deliver(&r, "null.test", rcpts);
	assert_result(&r, 0, DELIVER_BOUNCE, "5.1.10", "");
	ck_assert(!r.reply.dead);
	result_free(&r);

	deliver(&r, "nosuch.test", rcpts);
	assert_result(&r, 0, DELIVER_BOUNCE, "5.4.4", "");
	result_free(&r);

	/* The only MX is this host (myhostname): a mail loop. */
	deliver(&r, "self.test", rcpts);
	assert_result(&r, 0, DELIVER_BOUNCE, "5.4.6", "");
	result_free(&r);
	ck_assert_int_eq(nconn, 0);
}
END_TEST

START_TEST(test_soft)
{
	static const char *const rcpts[] = { "soft@one.test", "ok@one.test",
	    NULL };
	struct result r;

	deliver(&r, "one.test", rcpts);
	assert_result(&r, 0, DELIVER_DEFER, "4.2.0", "450 4.2.0");
	assert_result(&r, 1, DELIVER_SENT, "2.0.0", "250");
	ck_assert(!r.reply.dead);
	ck_assert_int_eq(nmsg, 1);
	result_free(&r);
}
END_TEST

START_TEST(test_literal)
{
	static const char *const rcpts[] = { "ok@lit.test", NULL };
	struct result r;
	char *nh = xasprintf("[127.0.0.1]:%u", port);

	deliver(&r, nh, rcpts);
	assert_result(&r, 0, DELIVER_SENT, "2.0.0", "250");
	ck_assert_int_eq(nconn, 1);
	result_free(&r);
	free(nh);
}
END_TEST

static const char *const hostile[] = {
	"", "exa mple.test", "one.test\r\nRCPT TO:<x>", "one.test:0",
	"one.test:99999", "[one.test", "[ipv6:zz]", "b\xc3\xbc" "cher.test",
};

START_TEST(test_hostile_nexthop)
{
	static const char *const rcpts[] = { "ok@one.test", NULL };
	struct result r;

	deliver(&r, hostile[_i], rcpts);
	assert_result(&r, 0, DELIVER_DEFER, "4.3.5", "configuration error: "
	    "next hop");
	ck_assert(!r.reply.dead);
	ck_assert_int_eq(nconn, 0);
	/* The hostile bytes are not logged raw. */
	ck_assert_ptr_null(strstr(buf_cstr(&logged), "\r"));
	result_free(&r);
}
END_TEST

START_TEST(test_reuse)
{
	static const char *const rcpts[] = { "ok@one.test", NULL };
	struct result r;

	deliver(&r, "one.test", rcpts);
	assert_result(&r, 0, DELIVER_SENT, "2.0.0", "250");
	result_free(&r);
	ck_assert_uint_eq(smtp_cache_count(), 1);
	deliver(&r, "one.test", rcpts);
	assert_result(&r, 0, DELIVER_SENT, "2.0.0", "250");
	result_free(&r);
	ck_assert_int_eq(nconn, 1);
	ck_assert_int_eq(nrset, 1);
	ck_assert_int_eq(nmsg, 2);
	ck_assert_uint_eq(smtp_cache_count(), 1);

	/* Another destination does not take it. */
	deliver(&r, "two.test", rcpts);
	assert_result(&r, 0, DELIVER_SENT, "2.0.0", "250");
	result_free(&r);
	ck_assert_int_eq(nconn, 2);
	ck_assert_uint_eq(smtp_cache_count(), 2);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("smtp_deliver");
	TCase *tc = tcase_create("deliver");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mx_fallback);
	tcase_add_test(tc, test_dead);
	tcase_add_test(tc, test_dns_outcomes);
	tcase_add_test(tc, test_soft);
	tcase_add_test(tc, test_literal);
	tcase_add_loop_test(tc, test_hostile_nexthop, 0,
	    (int)ARRAY_LEN(hostile));
	tcase_add_test(tc, test_reuse);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
