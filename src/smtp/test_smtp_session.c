/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the SMTP/LMTP protocol engine: a scripted server on the
 * other end of a socketpair, driven from the test in the same event
 * loop, asserts byte-exact what the client sends and answers as a real
 * or hostile server would: greetings, EHLO and the HELO fallback,
 * PIPELINING and lock-step, per-recipient results, DATA and end-of-data
 * failures, LMTP, content conversion (CRLF, bare CR, dot-stuffing, no
 * final newline), BDAT, the message-level rules (SIZE, SMTPUTF8,
 * 8BITMIME, REQUIRETLS), DSN parameters, AUTH PLAIN and LOGIN, stage
 * timeouts, a lost connection, malformed replies, RSET, the idle watch
 * and QUIT.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "deliver.h"
#include "mail_conf.h"

#include "smtp.h"
#include "smtp_session.h"

static struct event_base *base;
static int srv = -1;
static struct buf got;		/* what the client sent */
static size_t off;		/* taken by expect() so far */
static bool srv_eof;
static struct buf logged;
/* The server's end of a STARTTLS session (plain OpenSSL). */
static SSL_CTX *srv_ctx;
static SSL *srv_ssl;
static bool srv_tls_up, srv_tls_failed;

/* Open result. */
static bool opened;
static struct smtp_session *sess;
static struct smtp_fail ofail;
/* Send result. */
static bool sent;
static bool reusable;
static bool reset_done, reset_ok;
static bool idle_fired;

static char helo_name[] = "client.example";
static char mech_login[] = "login", mech_plain[] = "plain";
static struct smtp_target target;
static struct deliver_request req;
static size_t idx[8];
static struct smtp_rcpt_result res[8];

static void
log_hook(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	if (logged.len < 1024 * 1024)
		buf_addf(&logged, "%s\n", msg);
}

static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	smtp_runtime(base);
	memset(&smtp_conf, 0, sizeof(smtp_conf));
	smtp_conf.helo_name = helo_name;
	smtp_conf.helo_timeout = 5;
	smtp_conf.starttls_timeout = 5;
	smtp_conf.mail_timeout = 5;
	smtp_conf.rcpt_timeout = 5;
	smtp_conf.data_init_timeout = 5;
	smtp_conf.data_xfer_timeout = 5;
	smtp_conf.data_done_timeout = 5;
	smtp_conf.rset_timeout = 5;
	smtp_conf.quit_timeout = 5;
	smtp_conf.sasl_plain_ok = true;
	smtp_conf.sasl_tls_plain_ok = true;
	memset(&target, 0, sizeof(target));
	target.host = "mx.example";
	target.addr = "127.0.0.1";
	target.port = 2525;
	target.nexthop = "example";
	target.tls.level = TLS_LEV_NONE;
	buf_init(&got, 0);
	buf_init(&logged, 0);
	log_set_hook(log_hook, NULL);
	off = 0;
	srv_eof = false;
	opened = sent = reset_done = reset_ok = idle_fired = false;
	sess = NULL;
	memset(&ofail, 0, sizeof(ofail));
	deliver_request_init(&req);
	memset(res, 0, sizeof(res));
}

static void
teardown(void)
{
	smtp_session_close(&sess);
	if (srv_ssl != NULL)
		SSL_free(srv_ssl);
	srv_ssl = NULL;
	srv_tls_up = srv_tls_failed = false;
	/* Let a QUIT in flight end (the server end is closed). */
	if (srv != -1)
		close(srv);
	srv = -1;
	for (int i = 0; i < 200 && smtp_session_count() > 0; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	ck_assert_uint_eq(smtp_session_count(), 0);
	for (size_t i = 0; i < ARRAY_LEN(res); i++)
		smtp_rcpt_result_deinit(&res[i]);
	smtp_fail_deinit(&ofail);
	deliver_request_deinit(&req);
	log_set_hook(NULL, NULL);
	buf_deinit(&logged);
	buf_deinit(&got);
	event_base_free(base);
}

/* Runs the loop a little and collects what the client sent. */

static void
spin_tls(void)
{
	char chunk[16384];
	int n;

	event_base_loop(base, EVLOOP_NONBLOCK);
	if (!srv_tls_up) {
		n = SSL_accept(srv_ssl);
		if (n == 1)
			srv_tls_up = true;
		else if (SSL_get_error(srv_ssl, n) != SSL_ERROR_WANT_READ &&
		    SSL_get_error(srv_ssl, n) != SSL_ERROR_WANT_WRITE)
			srv_tls_failed = true;
	}
	while (srv_tls_up && (n = SSL_read(srv_ssl, chunk, sizeof(chunk))) > 0)
		buf_add(&got, chunk, (size_t)n);
	usleep(500);
}

static void
spin(void)
{
	char chunk[65536];
	ssize_t n;

	if (srv_ssl != NULL) {
		spin_tls();
		return;
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	while (srv != -1 && (n = read(srv, chunk, sizeof(chunk))) > 0)
		buf_add(&got, chunk, (size_t)n);
	if (srv != -1 && n == 0)
		srv_eof = true;
	usleep(500);
}

static void
wait_for(const bool *flag, int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!*flag) {
		spin();
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			break;
	}
	ck_assert_msg(*flag, "timed out waiting");
}

/* Asserts that the client sent exactly s next. */
static void
expect(const char *s)
{
	size_t n = strlen(s);
	char *have;

	for (int i = 0; i < 4000 && got.len - off < n && !srv_eof; i++)
		spin();
	have = xstrndup(got.data != NULL ? got.data + off : "",
	    got.len - off < n ? got.len - off : n);
	ck_assert_str_eq(have, s);
	free(have);
	off += n;
}

/* Asserts that the client sent nothing more for a while. */
static void
expect_nothing(void)
{
	for (int i = 0; i < 60; i++)
		spin();
	ck_assert_uint_eq(got.len, off);
}

static void
say(const char *s)
{
	size_t n = strlen(s);

	if (srv_ssl != NULL) {
		ck_assert(srv_tls_up);
		ck_assert_int_eq(SSL_write(srv_ssl, s, (int)n), (int)n);
		return;
	}
	ck_assert_int_eq(write(srv, s, n), (ssize_t)n);
}

static void
open_cb(void *ctx, struct smtp_session *s, const struct smtp_fail *f)
{
	(void)ctx;
	ck_assert(!opened);
	opened = true;
	sess = s;
	if (f != NULL) {
		ck_assert_ptr_null(s);
		smtp_fail_set(&ofail, f->hard, f->dsn, "%s", f->text);
		ofail.retry_plain = f->retry_plain;
	}
}

static void
start(void)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	srv = sv[0];
	smtp_session_open(sv[1], &target, open_cb, NULL);
	/* Callbacks never run inside the call. */
	ck_assert(!opened);
}

/* Greeting and EHLO with the given keyword lines ("250-X\r\n" each). */
static void
open_with(const char *kw)
{
	char *r = xasprintf("%s250 ENHANCEDSTATUSCODES\r\n", kw);

	start();
	say("220 mx.example ESMTP\r\n");
	expect(smtp_conf.lmtp ? "LHLO client.example\r\n" :
	    "EHLO client.example\r\n");
	say("250-mx.example\r\n");
	say(r);
	free(r);
	wait_for(&opened, 3000);
	ck_assert_ptr_nonnull(sess);
	ck_assert_str_eq(smtp_session_relay(sess), "mx.example[127.0.0.1]:2525");
	ck_assert_int_eq(smtp_session_tls_trust(sess), -1);
}

static void
open_fails(const char *dsn, bool hard, const char *text)
{
	wait_for(&opened, 8000);
	ck_assert_ptr_null(sess);
	ck_assert_str_eq(ofail.dsn, dsn);
	ck_assert_int_eq(ofail.hard, hard);
	ck_assert_str_eq(ofail.text, text);
	ck_assert_uint_eq(smtp_session_count(), 0);
}

/* A queue file with some bytes before the content. */
static void
message(const char *sender, const char *content, size_t len)
{
	char path[] = "/tmp/test_smtp_session.XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(write(fd, "HEAD:", 5), 5);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	req.fd = fd;
	req.queue_id = "QID";
	req.content_off = 5;
	req.content_size = len;
	req.sender = sender;
}

static void
rcpt(const char *addr, const char *orcpt, const char *notify)
{
	idx[req.rcpt.n] = req.rcpt.n;
	strv_push(&req.rcpt, addr);
	strv_push(&req.orcpt, orcpt != NULL ? orcpt : "-");
	strv_push(&req.notify, notify != NULL ? notify : "-");
}

static void
sent_cb(void *ctx, struct smtp_session *s, bool ok)
{
	(void)ctx;
	ck_assert_ptr_eq(s, sess);
	ck_assert(!sent);
	sent = true;
	reusable = ok;
}

static void
send_msg(void)
{
	sent = false;
	smtp_session_send(sess, &req, idx, req.rcpt.n, res, sent_cb, NULL);
	ck_assert(!sent);
}

static void
result_is(size_t i, enum smtp_rcpt_status st, const char *dsn,
    const char *text)
{
	ck_assert_int_eq(res[i].status, st);
	ck_assert_str_eq(res[i].dsn, dsn);
	ck_assert_str_eq(res[i].text, text);
}

START_TEST(test_open_ehlo)
{
	open_with("250-PIPELINING\r\n");
	ck_assert_uint_eq(smtp_session_count(), 1);
	smtp_session_close(&sess);
	ck_assert_ptr_null(sess);
	expect("QUIT\r\n");
	ck_assert_uint_eq(smtp_session_count(), 1);
	say("221 bye\r\n");
	for (int i = 0; i < 100 && smtp_session_count() > 0; i++)
		spin();
	ck_assert_uint_eq(smtp_session_count(), 0);
}
END_TEST

START_TEST(test_helo_fallback)
{
	start();
	say("220 old.example SMTP\r\n");
	expect("EHLO client.example\r\n");
	say("502 5.5.2 what\r\n");
	expect("HELO client.example\r\n");
	say("250 old.example\r\n");
	wait_for(&opened, 3000);
	ck_assert_ptr_nonnull(sess);
	/* No extensions after HELO: lock-step, no SIZE. */
	message("s@example", "x\n", 2);
	rcpt("a@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\n");
	expect_nothing();
	say("250 ok\r\n");
	expect("RCPT TO:<a@example>\r\n");
	expect_nothing();
	say("250 ok\r\n");
	expect("DATA\r\n");
	expect_nothing();
	say("354 go\r\n");
	expect("x\r\n.\r\n");
	say("250 2.0.0 queued as X\r\n");
	wait_for(&sent, 3000);
	ck_assert(reusable);
	result_is(0, SMTP_RCPT_SENT, "2.0.0", "250 2.0.0 queued as X");
}
END_TEST

START_TEST(test_helo_refused)
{
	start();
	say("220 old.example SMTP\r\n");
	expect("EHLO client.example\r\n");
	say("500 no\r\n");
	expect("HELO client.example\r\n");
	say("550 5.7.1 go away\r\n");
	open_fails("5.7.1", true, "host mx.example[127.0.0.1] said: 550 "
	    "5.7.1 go away (in reply to HELO command)");
}
END_TEST

static const struct {
	const char	*greeting;
	bool		 skip;
	bool		 hard;
	const char	*dsn;
	const char	*text;
} greetings[] = {
	{ "421 4.3.2 busy\r\n", false, false, "4.3.2",
	  "host mx.example[127.0.0.1] said: 421 4.3.2 busy (in reply to "
	  "initial greeting command)" },
	{ "450 try later\r\n", false, false, "4.0.0",
	  "host mx.example[127.0.0.1] refused to talk to me: 450 try later" },
	{ "554 5.7.1 no\r\n", false, true, "5.7.1",
	  "host mx.example[127.0.0.1] refused to talk to me: 554 5.7.1 no" },
	{ "554 5.7.1 no\r\n", true, false, "4.7.1",
	  "host mx.example[127.0.0.1] refused to talk to me: 554 5.7.1 no" },
	{ "554-a\r\n554 b\r\n", false, true, "5.0.0",
	  "host mx.example[127.0.0.1] refused to talk to me: 554-a 554 b" },
	/* Hostile greetings fail closed, softly. */
	{ "HTTP/1.1 400 Bad\r\n", false, false, "4.5.0",
	  "host mx.example[127.0.0.1] sent a malformed reply while "
	  "receiving the initial server greeting: malformed reply code "
	  "(protocol error)" },
	{ "220-a\r\n250 b\r\n", false, false, "4.5.0",
	  "host mx.example[127.0.0.1] sent a malformed reply while "
	  "receiving the initial server greeting: reply continuation with "
	  "another code (protocol error)" },
	{ "220 a\0b\r\n", false, false, "4.5.0",
	  "host mx.example[127.0.0.1] sent a malformed reply while "
	  "receiving the initial server greeting: NUL in reply "
	  "(protocol error)" },
};

START_TEST(test_greeting)
{
	const char *g = greetings[_i].greeting;
	size_t n = strlen(g);

	if (strstr(greetings[_i].text, "NUL in reply") != NULL)
		n = 9;		/* the one with a NUL inside */
	smtp_conf.skip_5xx_greeting = greetings[_i].skip;
	start();
	ck_assert_int_eq(write(srv, g, n), (ssize_t)n);
	open_fails(greetings[_i].dsn, greetings[_i].hard, greetings[_i].text);
	expect_nothing();
}
END_TEST

START_TEST(test_overlong_reply)
{
	char *line = xmalloc(5000);

	memset(line, 'a', 4999);
	line[4999] = '\0';
	memcpy(line, "220 ", 4);
	start();
	say(line);
	free(line);
	open_fails("4.5.0", false, "host mx.example[127.0.0.1] sent a "
	    "malformed reply while receiving the initial server greeting: "
	    "reply line too long (protocol error)");
}
END_TEST

START_TEST(test_drip)
{
	/* A continuation line a byte at a time, forever: bounded. */
	start();
	for (int i = 0; i < 150; i++) {
		const char *l = "220-xxxxxxx\r\n";

		for (size_t k = 0; l[k] != '\0' && !opened; k++) {
			ck_assert_int_eq(write(srv, l + k, 1), 1);
			spin();
		}
	}
	open_fails("4.5.0", false, "host mx.example[127.0.0.1] sent a "
	    "malformed reply while receiving the initial server greeting: "
	    "too many reply lines (protocol error)");
}
END_TEST

START_TEST(test_pipelining)
{
	const char *content = "Subject: t\n\nline\n";

	open_with("250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n");
	message("s@example", content, strlen(content));
	req.body = "8BITMIME";
	rcpt("a@example", NULL, NULL);
	rcpt("b@example", NULL, NULL);
	rcpt("c@example", NULL, NULL);
	rcpt("d@example", NULL, NULL);
	send_msg();
	/* RFC 2920: the whole group before any reply. */
	expect("MAIL FROM:<s@example> SIZE=17 BODY=8BITMIME\r\n"
	    "RCPT TO:<a@example>\r\nRCPT TO:<b@example>\r\n"
	    "RCPT TO:<c@example>\r\nRCPT TO:<d@example>\r\nDATA\r\n");
	expect_nothing();
	say("250 2.1.0 ok\r\n250 2.1.5 ok\r\n450 4.2.2 full\r\n"
	    "550 5.1.1 unknown\r\n550 4.1.1 odd\r\n354 go\r\n");
	expect("Subject: t\r\n\r\nline\r\n.\r\n");
	expect_nothing();
	ck_assert(!sent);
	say("250 2.0.0 Ok: queued as ABC\r\n");
	wait_for(&sent, 3000);
	ck_assert(reusable);
	result_is(0, SMTP_RCPT_SENT, "2.0.0", "250 2.0.0 Ok: queued as ABC");
	result_is(1, SMTP_RCPT_SOFT, "4.2.2", "host mx.example[127.0.0.1] "
	    "said: 450 4.2.2 full (in reply to RCPT TO command)");
	result_is(2, SMTP_RCPT_HARD, "5.1.1", "host mx.example[127.0.0.1] "
	    "said: 550 5.1.1 unknown (in reply to RCPT TO command)");
	/* A 5xx with a 4.x.x code stays hard with the class fixed. */
	result_is(3, SMTP_RCPT_HARD, "5.1.1", "host mx.example[127.0.0.1] "
	    "said: 550 4.1.1 odd (in reply to RCPT TO command)");
	ck_assert_uint_eq(smtp_session_uses(sess), 1);
}
END_TEST

static void
reset_cb(void *ctx, struct smtp_session *s, bool ok)
{
	(void)ctx;
	ck_assert_ptr_eq(s, sess);
	reset_done = true;
	reset_ok = ok;
}

START_TEST(test_reuse)
{
	open_with("250-PIPELINING\r\n");
	message("", "x", 1);
	rcpt("a@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<>\r\nRCPT TO:<a@example>\r\nDATA\r\n");
	say("250 ok\r\n250 ok\r\n354 go\r\n");
	/* No final newline: one is added before the dot. */
	expect("x\r\n.\r\n");
	say("250 ok\r\n");
	wait_for(&sent, 3000);
	ck_assert(reusable);
	smtp_session_reset(sess, reset_cb, NULL);
	ck_assert(!reset_done);
	expect("RSET\r\n");
	say("250 ok\r\n");
	wait_for(&reset_done, 3000);
	ck_assert(reset_ok);
	for (size_t i = 0; i < ARRAY_LEN(res); i++)
		smtp_rcpt_result_deinit(&res[i]);
	send_msg();
	expect("MAIL FROM:<>\r\nRCPT TO:<a@example>\r\nDATA\r\n");
	say("250 ok\r\n250 ok\r\n354 go\r\n");
	expect("x\r\n.\r\n");
	say("250 ok\r\n");
	wait_for(&sent, 3000);
	ck_assert(reusable);
	ck_assert_uint_eq(smtp_session_uses(sess), 2);
	/* A failed RSET makes the session unusable. */
	reset_done = false;
	smtp_session_reset(sess, reset_cb, NULL);
	expect("RSET\r\n");
	say("500 what\r\n");
	wait_for(&reset_done, 3000);
	ck_assert(!reset_ok);
	smtp_session_close(&sess);
	/* Not healthy: freed at once, no QUIT. */
	ck_assert_uint_eq(smtp_session_count(), 0);
	expect_nothing();
}
END_TEST

START_TEST(test_no_rcpt_accepted)
{
	open_with("250-PIPELINING\r\n");
	message("s@example", "x\n", 2);
	rcpt("a@example", NULL, NULL);
	rcpt("b@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\nRCPT TO:<a@example>\r\n"
	    "RCPT TO:<b@example>\r\nDATA\r\n");
	/* A broken server says 354 anyway: an empty message ends it. */
	say("250 ok\r\n550 5.1.1 no\r\n450 4.1.1 no\r\n354 go\r\n");
	expect(".\r\n");
	say("554 5.5.1 no valid recipients\r\n");
	wait_for(&sent, 3000);
	ck_assert(reusable);
	ck_assert_int_eq(res[0].status, SMTP_RCPT_HARD);
	ck_assert_int_eq(res[1].status, SMTP_RCPT_SOFT);
}
END_TEST

START_TEST(test_lockstep_no_rcpt)
{
	open_with("");
	message("s@example", "x\n", 2);
	rcpt("a@example", NULL, NULL);
	rcpt("b@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\n");
	expect_nothing();
	say("250 ok\r\n");
	expect("RCPT TO:<a@example>\r\n");
	expect_nothing();
	say("550 5.1.1 no\r\n");
	expect("RCPT TO:<b@example>\r\n");
	say("550 5.1.1 no\r\n");
	/* No recipient: no DATA. */
	wait_for(&sent, 3000);
	expect_nothing();
	ck_assert(reusable);
	ck_assert_int_eq(res[0].status, SMTP_RCPT_HARD);
	ck_assert_int_eq(res[1].status, SMTP_RCPT_HARD);
}
END_TEST

START_TEST(test_mail_refused)
{
	open_with("");
	message("s@example", "x\n", 2);
	rcpt("a@example", NULL, NULL);
	rcpt("b@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\n");
	say("553 5.7.1 sender rejected\r\n");
	wait_for(&sent, 3000);
	expect_nothing();
	ck_assert(reusable);
	result_is(0, SMTP_RCPT_HARD, "5.7.1", "host mx.example[127.0.0.1] "
	    "said: 553 5.7.1 sender rejected (in reply to MAIL FROM command)");
	result_is(1, SMTP_RCPT_HARD, "5.7.1", "host mx.example[127.0.0.1] "
	    "said: 553 5.7.1 sender rejected (in reply to MAIL FROM command)");
}
END_TEST

START_TEST(test_data_refused)
{
	open_with("250-PIPELINING\r\n");
	message("s@example", "x\n", 2);
	rcpt("a@example", NULL, NULL);
	rcpt("b@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\nRCPT TO:<a@example>\r\n"
	    "RCPT TO:<b@example>\r\nDATA\r\n");
	say("250 ok\r\n250 ok\r\n550 5.1.1 no\r\n554 5.6.0 no data\r\n");
	wait_for(&sent, 3000);
	expect_nothing();
	result_is(0, SMTP_RCPT_HARD, "5.6.0", "host mx.example[127.0.0.1] "
	    "said: 554 5.6.0 no data (in reply to DATA command)");
	result_is(1, SMTP_RCPT_HARD, "5.1.1", "host mx.example[127.0.0.1] "
	    "said: 550 5.1.1 no (in reply to RCPT TO command)");
}
END_TEST

START_TEST(test_dot_deferred)
{
	open_with("250-PIPELINING\r\n");
	message("s@example", "x\n", 2);
	rcpt("a@example", NULL, NULL);
	rcpt("b@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\nRCPT TO:<a@example>\r\n"
	    "RCPT TO:<b@example>\r\nDATA\r\n");
	say("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
	expect("x\r\n.\r\n");
	say("451 4.3.0 try again\r\n");
	wait_for(&sent, 3000);
	ck_assert(reusable);
	for (int i = 0; i < 2; i++)
		result_is((size_t)i, SMTP_RCPT_SOFT, "4.3.0",
		    "host mx.example[127.0.0.1] said: 451 4.3.0 try again "
		    "(in reply to end of DATA command)");
}
END_TEST

START_TEST(test_421_mid)
{
	open_with("");
	message("s@example", "x\n", 2);
	rcpt("a@example", NULL, NULL);
	rcpt("b@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\n");
	say("250 ok\r\n");
	expect("RCPT TO:<a@example>\r\n");
	say("250 ok\r\n");
	expect("RCPT TO:<b@example>\r\n");
	say("421 4.4.2 shutting down\r\n");
	wait_for(&sent, 3000);
	ck_assert(!reusable);
	for (int i = 0; i < 2; i++)
		result_is((size_t)i, SMTP_RCPT_SOFT, "4.4.2",
		    "host mx.example[127.0.0.1] said: 421 4.4.2 shutting down "
		    "(in reply to RCPT TO command)");
}
END_TEST

START_TEST(test_lmtp)
{
	smtp_conf.lmtp = true;
	open_with("250-PIPELINING\r\n");
	message("s@example", "x\n", 2);
	rcpt("a@example", NULL, NULL);
	rcpt("b@example", NULL, NULL);
	rcpt("c@example", NULL, NULL);
	rcpt("d@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\nRCPT TO:<a@example>\r\n"
	    "RCPT TO:<b@example>\r\nRCPT TO:<c@example>\r\n"
	    "RCPT TO:<d@example>\r\nDATA\r\n");
	say("250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n250 ok\r\n"
	    "354 go\r\n");
	expect("x\r\n.\r\n");
	/* RFC 2033 §4.2: one reply per accepted recipient, in order. */
	say("250 2.0.0 a done\r\n452 4.2.2 c over quota\r\n");
	for (int i = 0; i < 50; i++)
		spin();
	ck_assert(!sent);
	say("552 5.2.2 d over quota\r\n");
	wait_for(&sent, 3000);
	ck_assert(reusable);
	result_is(0, SMTP_RCPT_SENT, "2.0.0", "250 2.0.0 a done");
	ck_assert_int_eq(res[1].status, SMTP_RCPT_HARD);
	result_is(2, SMTP_RCPT_SOFT, "4.2.2", "host mx.example[127.0.0.1] "
	    "said: 452 4.2.2 c over quota (in reply to end of DATA command)");
	result_is(3, SMTP_RCPT_HARD, "5.2.2", "host mx.example[127.0.0.1] "
	    "said: 552 5.2.2 d over quota (in reply to end of DATA command)");
}
END_TEST

static const struct {
	const char	*in;
	size_t		 len;
	const char	*data;	/* what DATA carries */
	const char	*bdat;	/* what BDAT carries, with its command */
} contents[] = {
	{ "a\n.b\n", 5, "a\r\n..b\r\n.\r\n", "BDAT 7 LAST\r\na\r\n.b\r\n" },
	{ ".\n", 2, "..\r\n.\r\n", "BDAT 3 LAST\r\n.\r\n" },
	{ "x\n.\n", 4, "x\r\n..\r\n.\r\n", "BDAT 6 LAST\r\nx\r\n.\r\n" },
	/* CR LF in the file is one line end. */
	{ "a\r\nb\n", 5, "a\r\nb\r\n.\r\n", "BDAT 6 LAST\r\na\r\nb\r\n" },
	/* A bare CR ends a line: no "\r.\r" can end the data early. */
	{ "a\r.\rb", 5, "a\r\n..\r\nb\r\n.\r\n",
	  "BDAT 9 LAST\r\na\r\n.\r\nb\r\n" },
	{ "a\n\r\n.\r\nz", 8, "a\r\n\r\n..\r\nz\r\n.\r\n",
	  "BDAT 11 LAST\r\na\r\n\r\n.\r\nz\r\n" },
	/* No final newline. */
	{ "end", 3, "end\r\n.\r\n", "BDAT 5 LAST\r\nend\r\n" },
	{ "", 0, ".\r\n", "BDAT 0 LAST\r\n" },
	{ "..\n..", 5, "...\r\n...\r\n.\r\n", "BDAT 8 LAST\r\n..\r\n..\r\n" },
	/* NUL and 8-bit bytes pass unchanged. */
	{ "\0\xff\n", 3, "\0", "BDAT 4 LAST\r\n" },
};

static void
content_case(int i, bool bdat)
{
	const char *want = bdat ? contents[i].bdat : contents[i].data;

	open_with(bdat ? "250-CHUNKING\r\n" : "");
	message("s@example", contents[i].in, contents[i].len);
	rcpt("a@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\n");
	say("250 ok\r\n");
	expect("RCPT TO:<a@example>\r\n");
	say("250 ok\r\n");
	if (!bdat) {
		expect("DATA\r\n");
		say("354 go\r\n");
	}
	if (contents[i].len == 3 && contents[i].in[0] == '\0') {
		/* Binary: compare bytes. */
		static const char bin_data[] = "\0\xff\r\n.\r\n";
		static const char bin_bdat[] = "BDAT 4 LAST\r\n\0\xff\r\n";
		const char *w = bdat ? bin_bdat : bin_data;
		size_t n = bdat ? sizeof(bin_bdat) - 1 : sizeof(bin_data) - 1;

		for (int k = 0; k < 400 && got.len - off < n; k++)
			spin();
		ck_assert_uint_eq(got.len - off, n);
		ck_assert(memcmp(got.data + off, w, n) == 0);
		off += n;
	} else
		expect(want);
	expect_nothing();
	say("250 ok\r\n");
	wait_for(&sent, 3000);
	ck_assert(reusable);
	ck_assert_int_eq(res[0].status, SMTP_RCPT_SENT);
}

START_TEST(test_content_data)
{
	content_case(_i, false);
}
END_TEST

START_TEST(test_content_bdat)
{
	content_case(_i, true);
}
END_TEST

/* A large message: chunks, backpressure, and BDAT lock-step. */
START_TEST(test_big_bdat)
{
	size_t len = 300 * 1024, total = 0;
	char *m = xmalloc(len);
	char hdr[64];

	for (size_t i = 0; i < len; i++)
		m[i] = i % 100 == 99 ? '\n' : 'a';
	open_with("250-CHUNKING\r\n");
	message("s@example", m, len);
	rcpt("a@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\n");
	say("250 ok\r\n");
	expect("RCPT TO:<a@example>\r\n");
	say("250 ok\r\n");
	/* 64 KiB chunks of the file, 656 bytes more each with CRLF. */
	for (int c = 0; c < 5; c++) {
		size_t in = c < 4 ? 65536 : len - 4 * 65536;
		size_t lines = 0, outn;
		char *body;

		for (size_t k = 0; k < in; k++)
			lines += m[c * 65536 + k] == '\n';
		outn = in + lines;
		snprintf(hdr, sizeof(hdr), "BDAT %zu%s\r\n", outn,
		    c == 4 ? " LAST" : "");
		expect(hdr);
		for (int k = 0; k < 4000 && got.len - off < outn; k++)
			spin();
		ck_assert_uint_ge(got.len - off, outn);
		body = got.data + off;
		ck_assert(memchr(body, '.', outn) == NULL);
		off += outn;
		total += outn;
		/* Lock-step: the next chunk waits for this reply. */
		expect_nothing();
		say("250 ok\r\n");
	}
	ck_assert_uint_eq(total, len + len / 100);
	wait_for(&sent, 3000);
	ck_assert_int_eq(res[0].status, SMTP_RCPT_SENT);
	free(m);
}
END_TEST

START_TEST(test_lost_mid_content)
{
	size_t len = 4 * 1024 * 1024;
	char *m = xmalloc(len);

	memset(m, 'a', len);
	open_with("");
	message("s@example", m, len);
	free(m);
	rcpt("a@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\n");
	say("250 ok\r\n");
	expect("RCPT TO:<a@example>\r\n");
	say("250 ok\r\n");
	expect("DATA\r\n");
	say("354 go\r\n");
	expect("aaaa");
	close(srv);
	srv = -1;
	wait_for(&sent, 3000);
	ck_assert(!reusable);
	result_is(0, SMTP_RCPT_SOFT, "4.4.2", "lost connection with "
	    "mx.example[127.0.0.1] while sending message body");
}
END_TEST

START_TEST(test_size_rule)
{
	open_with("250-SIZE 10\r\n");
	message("s@example", "12345678901\n", 12);
	rcpt("a@example", NULL, NULL);
	send_msg();
	wait_for(&sent, 3000);
	expect_nothing();
	ck_assert(reusable);
	result_is(0, SMTP_RCPT_HARD, "5.3.4", "message size 12 exceeds size "
	    "limit 10 of server mx.example[127.0.0.1]");
	/* Within the limit: SIZE= is sent. */
	for (size_t i = 0; i < ARRAY_LEN(res); i++)
		smtp_rcpt_result_deinit(&res[i]);
	req.content_size = 10;
	send_msg();
	expect("MAIL FROM:<s@example> SIZE=10\r\n");
}
END_TEST

START_TEST(test_smtputf8_rule)
{
	open_with("250-8BITMIME\r\n");
	message("s@example", "x\n", 2);
	req.smtputf8 = true;
	rcpt("j\xc3\xb6rg@example", NULL, NULL);
	send_msg();
	wait_for(&sent, 3000);
	expect_nothing();
	result_is(0, SMTP_RCPT_HARD, "5.6.7", "SMTPUTF8 is required, but was "
	    "not offered by host mx.example[127.0.0.1]");
	smtp_session_close(&sess);
	expect("QUIT\r\n");
	close(srv);
	srv = -1;
	/* Offered: the parameter and the UTF-8 address go out. */
	opened = sent = false;
	off = got.len;
	for (size_t i = 0; i < ARRAY_LEN(res); i++)
		smtp_rcpt_result_deinit(&res[i]);
	open_with("250-SMTPUTF8\r\n");
	send_msg();
	expect("MAIL FROM:<s@example> SMTPUTF8\r\n");
}
END_TEST

START_TEST(test_smtputf8_ascii)
{
	/* An ASCII envelope needs no SMTPUTF8 from the server. */
	open_with("");
	message("s@example", "x\n", 2);
	req.smtputf8 = true;
	rcpt("a@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\n");
}
END_TEST

START_TEST(test_8bitmime_rule)
{
	open_with("");
	message("s@example", "caf\xc3\xa9\n", 6);
	req.body = "8BITMIME";
	rcpt("a@example", NULL, NULL);
	send_msg();
	wait_for(&sent, 3000);
	expect_nothing();
	result_is(0, SMTP_RCPT_HARD, "5.6.3", "host mx.example[127.0.0.1] "
	    "does not support 8BITMIME and the message has 8-bit content");
	/* 7-bit content declared 8BITMIME is just sent. */
	for (size_t i = 0; i < ARRAY_LEN(res); i++)
		smtp_rcpt_result_deinit(&res[i]);
	close(req.fd);
	req.fd = -1;
	message("s@example", "cafe\n", 5);
	send_msg();
	expect("MAIL FROM:<s@example>\r\n");
}
END_TEST

START_TEST(test_requiretls_rule)
{
	open_with("250-REQUIRETLS\r\n");
	message("s@example", "x\n", 2);
	req.requiretls = true;
	rcpt("a@example", NULL, NULL);
	send_msg();
	wait_for(&sent, 3000);
	expect_nothing();
	ck_assert(reusable);
	result_is(0, SMTP_RCPT_SOFT, "4.7.10", "REQUIRETLS is required, but "
	    "the TLS session with host mx.example[127.0.0.1] is not verified");
}
END_TEST

START_TEST(test_dsn_params)
{
	open_with("250-PIPELINING\r\n250-DSN\r\n");
	message("s@example", "x\n", 2);
	req.ret = "HDRS";
	req.envid = "abc+2Bdef";
	rcpt("a@example", "rfc822;a+40example", "SUCCESS,DELAY");
	rcpt("b@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example> RET=HDRS ENVID=abc+2Bdef\r\n"
	    "RCPT TO:<a@example> NOTIFY=SUCCESS,DELAY "
	    "ORCPT=rfc822;a+40example\r\nRCPT TO:<b@example>\r\nDATA\r\n");
}
END_TEST

START_TEST(test_dsn_not_offered)
{
	open_with("250-PIPELINING\r\n");
	message("s@example", "x\n", 2);
	req.ret = "HDRS";
	req.envid = "abc";
	rcpt("a@example", "rfc822;a+40example", "NEVER");
	send_msg();
	expect("MAIL FROM:<s@example>\r\nRCPT TO:<a@example>\r\nDATA\r\n");
}
END_TEST

START_TEST(test_quoted_local)
{
	open_with("250-PIPELINING\r\n");
	message("a b@example", "x\n", 2);
	rcpt("\"q\"@example", NULL, NULL);
	rcpt("bad\001@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<\"a b\"@example>\r\n"
	    "RCPT TO:<\"\\\"q\\\"\"@example>\r\nDATA\r\n");
	ck_assert_int_eq(res[1].status, SMTP_RCPT_HARD);
	ck_assert_str_eq(res[1].dsn, "5.1.3");
}
END_TEST

static void
auth_open(const char *kw)
{
	char *r = xasprintf("%s250 ENHANCEDSTATUSCODES\r\n", kw);

	target.sasl_user = "user";
	target.sasl_pass = "s3cret";
	start();
	say("220 mx.example ESMTP\r\n");
	expect("EHLO client.example\r\n");
	say("250-mx.example\r\n");
	say(r);
	free(r);
}

START_TEST(test_auth_plain)
{
	auth_open("250-AUTH LOGIN PLAIN\r\n");
	/* base64("\0user\0s3cret") */
	expect("AUTH PLAIN AHVzZXIAczNjcmV0\r\n");
	expect_nothing();
	ck_assert(!opened);
	say("235 2.7.0 ok\r\n");
	wait_for(&opened, 3000);
	ck_assert_ptr_nonnull(sess);
	ck_assert_ptr_null(strstr(buf_cstr(&logged), "s3cret"));
}
END_TEST

START_TEST(test_auth_login)
{
	smtp_conf.sasl_mechs = xcalloc(3, sizeof(char *));
	smtp_conf.sasl_mechs[0] = mech_login;
	smtp_conf.sasl_mechs[1] = mech_plain;
	auth_open("250-AUTH PLAIN LOGIN\r\n");
	expect("AUTH LOGIN\r\n");
	say("334 VXNlcm5hbWU6\r\n");
	expect("dXNlcg==\r\n");
	say("334 UGFzc3dvcmQ6\r\n");
	expect("czNjcmV0\r\n");
	say("235 2.7.0 ok\r\n");
	wait_for(&opened, 3000);
	ck_assert_ptr_nonnull(sess);
	free(smtp_conf.sasl_mechs);
	smtp_conf.sasl_mechs = NULL;
}
END_TEST

START_TEST(test_auth_535)
{
	auth_open("250-AUTH PLAIN\r\n");
	expect("AUTH PLAIN AHVzZXIAczNjcmV0\r\n");
	say("535 5.7.8 bad credentials\r\n");
	open_fails("4.7.8", false, "SASL authentication failed; server "
	    "mx.example[127.0.0.1] said: 535 5.7.8 bad credentials");
}
END_TEST

START_TEST(test_auth_noplaintext)
{
	smtp_conf.sasl_plain_ok = false;
	auth_open("250-AUTH PLAIN LOGIN\r\n");
	open_fails("4.7.0", false, "SASL authentication failed; cannot "
	    "authenticate to server mx.example[127.0.0.1]: no mechanism "
	    "available");
	expect_nothing();
}
END_TEST

START_TEST(test_auth_no_mech)
{
	auth_open("250-AUTH CRAM-MD5\r\n");
	open_fails("4.7.0", false, "SASL authentication failed; cannot "
	    "authenticate to server mx.example[127.0.0.1]: no mechanism "
	    "available");
	expect_nothing();
}
END_TEST

START_TEST(test_tls_not_offered)
{
	target.tls.level = TLS_LEV_ENCRYPT;
	start();
	say("220 mx.example ESMTP\r\n");
	expect("EHLO client.example\r\n");
	say("250-mx.example\r\n250 PIPELINING\r\n");
	open_fails("4.7.4", false, "TLS is required, but was not offered by "
	    "host mx.example[127.0.0.1]");
}
END_TEST

START_TEST(test_tls_may_not_offered)
{
	target.tls.level = TLS_LEV_MAY;
	open_with("");
}
END_TEST

/* Each stage's timeout, with 1 s timeouts. */
static const struct {
	int		 stage;
	const char	*text;
} timeouts[] = {
	{ 0, "receiving the initial server greeting" },
	{ 1, "performing the EHLO handshake" },
	{ 2, "sending MAIL FROM" },
	{ 3, "sending RCPT TO" },
	{ 4, "sending DATA command" },
	{ 5, "sending end of data -- message may be sent more than once" },
	{ 6, "sending RSET" },
};

START_TEST(test_timeout)
{
	int st = timeouts[_i].stage;
	char *want = xasprintf("conversation with mx.example[127.0.0.1] "
	    "timed out while %s", timeouts[_i].text);

	smtp_conf.helo_timeout = st <= 1 ? 1 : 5;
	smtp_conf.mail_timeout = st == 2 ? 1 : 5;
	smtp_conf.rcpt_timeout = st == 3 ? 1 : 5;
	smtp_conf.data_init_timeout = st == 4 ? 1 : 5;
	smtp_conf.data_done_timeout = st == 5 ? 1 : 5;
	smtp_conf.rset_timeout = st == 6 ? 1 : 5;
	start();
	if (st == 0) {
		open_fails("4.4.2", false, want);
		free(want);
		return;
	}
	say("220 mx.example ESMTP\r\n");
	expect("EHLO client.example\r\n");
	if (st == 1) {
		open_fails("4.4.2", false, want);
		free(want);
		return;
	}
	say("250 mx.example\r\n");
	wait_for(&opened, 3000);
	if (st == 6) {
		smtp_session_reset(sess, reset_cb, NULL);
		expect("RSET\r\n");
		wait_for(&reset_done, 3000);
		ck_assert(!reset_ok);
		free(want);
		return;
	}
	message("s@example", "x\n", 2);
	rcpt("a@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\n");
	if (st > 2) {
		say("250 ok\r\n");
		expect("RCPT TO:<a@example>\r\n");
	}
	if (st > 3) {
		say("250 ok\r\n");
		expect("DATA\r\n");
	}
	if (st > 4) {
		say("354 go\r\n");
		expect("x\r\n.\r\n");
	}
	wait_for(&sent, 3000);
	ck_assert(!reusable);
	result_is(0, SMTP_RCPT_SOFT, "4.4.2", want);
	free(want);
}
END_TEST

static void
idle_cb(void *ctx, struct smtp_session *s)
{
	(void)ctx;
	ck_assert_ptr_eq(s, sess);
	idle_fired = true;
}

START_TEST(test_watch)
{
	open_with("");
	smtp_session_watch(sess, idle_cb, NULL);
	for (int i = 0; i < 50; i++)
		spin();
	ck_assert(!idle_fired);
	/* The server times out the idle connection. */
	say("421 4.4.2 idle too long\r\n");
	close(srv);
	srv = -1;
	wait_for(&idle_fired, 3000);
	smtp_session_close(&sess);
	ck_assert_uint_eq(smtp_session_count(), 0);
}
END_TEST

START_TEST(test_watch_stopped)
{
	open_with("");
	smtp_session_watch(sess, idle_cb, NULL);
	smtp_session_watch(sess, NULL, NULL);
	close(srv);
	srv = -1;
	for (int i = 0; i < 100; i++)
		spin();
	ck_assert(!idle_fired);
	/* The next use learns it is gone. */
	message("s@example", "x\n", 2);
	rcpt("a@example", NULL, NULL);
	send_msg();
	wait_for(&sent, 3000);
	ck_assert(!reusable);
	ck_assert_int_eq(res[0].status, SMTP_RCPT_SOFT);
}
END_TEST

START_TEST(test_quit_timeout)
{
	smtp_conf.quit_timeout = 1;
	open_with("");
	smtp_session_close(&sess);
	expect("QUIT\r\n");
	for (int i = 0; i < 200; i++)
		spin();
	ck_assert_uint_eq(smtp_session_count(), 1);
	for (int i = 0; i < 3000 && smtp_session_count() > 0; i++)
		spin();
	ck_assert_uint_eq(smtp_session_count(), 0);
}
END_TEST

START_TEST(test_unsolicited)
{
	/* Replies nobody asked for break the session. */
	open_with("");
	say("250 surprise\r\n");
	for (int i = 0; i < 50; i++)
		spin();
	message("s@example", "x\n", 2);
	rcpt("a@example", NULL, NULL);
	send_msg();
	wait_for(&sent, 3000);
	ck_assert(!reusable);
	expect_nothing();
}
END_TEST

/* A self-signed server certificate and the client's TLS context. */
static void
tls_setup(void)
{
	char dir[] = "/tmp/test_smtp_session.XXXXXX";
	char *cf, *cmd;
	FILE *fp;
	const char *err;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	cf = xasprintf("%s/main.cf", dir);
	ck_assert_ptr_nonnull(fp = fopen(cf, "w"));
	fclose(fp);
	free(cf);
	ck_assert_int_eq(mail_conf_try_load(dir, NULL, false, &err), 0);
	smtp_tls = tls_client_new("smtp", &err);
	ck_assert_msg(smtp_tls != NULL, "tls_client_new: %s", err);
	cmd = xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);

	ck_assert_ptr_nonnull(key);
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	ck_assert_int_eq(X509_set_pubkey(x, key), 1);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"mx.example", -1, -1, 0);
	ck_assert_int_eq(X509_set_issuer_name(x, name), 1);
	ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
	srv_ctx = SSL_CTX_new(TLS_server_method());
	ck_assert_int_eq(SSL_CTX_use_certificate(srv_ctx, x), 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey(srv_ctx, key), 1);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void
tls_teardown(void)
{
	tls_client_free(&smtp_tls);
	SSL_CTX_free(srv_ctx);
	srv_ctx = NULL;
	mail_conf_unload();
}

/* Up to the server's "220" to STARTTLS (plus extra bytes). */
static void
tls_start(enum tls_level level, const char *after_220)
{
	target.tls.level = level;
	start();
	say("220 mx.example ESMTP\r\n");
	expect("EHLO client.example\r\n");
	say("250-mx.example\r\n250-STARTTLS\r\n250 PIPELINING\r\n");
	expect("STARTTLS\r\n");
	say(after_220);
	/* From now on the server reads the client's handshake. */
	srv_ssl = SSL_new(srv_ctx);
	ck_assert_int_eq(SSL_set_fd(srv_ssl, srv), 1);
}

START_TEST(test_starttls)
{
	/* What the server sent with its 220 is dropped (RFC 3207 §4.2). */
	tls_start(TLS_LEV_MAY, "220 2.0.0 go ahead\r\n250 injected\r\n");
	expect("EHLO client.example\r\n");
	ck_assert(srv_tls_up);
	say("250-mx.example\r\n250 PIPELINING\r\n");
	wait_for(&opened, 3000);
	ck_assert_ptr_nonnull(sess);
	/* Self-signed: encrypted, not trusted; fine for "may". */
	ck_assert_int_eq(smtp_session_tls_trust(sess), TLS_TRUST_UNTRUSTED);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged), "Untrusted TLS "
	    "connection established to mx.example[127.0.0.1]:2525: TLSv1."));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged), " with cipher "));
	/* The session works inside TLS. */
	message("s@example", "x\n", 2);
	rcpt("a@example", NULL, NULL);
	send_msg();
	expect("MAIL FROM:<s@example>\r\nRCPT TO:<a@example>\r\nDATA\r\n");
	say("250 ok\r\n250 ok\r\n354 go\r\n");
	expect("x\r\n.\r\n");
	say("250 ok\r\n");
	wait_for(&sent, 3000);
	ck_assert(reusable);
	ck_assert_int_eq(res[0].status, SMTP_RCPT_SENT);
}
END_TEST

START_TEST(test_starttls_verify_fails)
{
	/* verify: a self-signed certificate is a soft 4.7.5. */
	tls_start(TLS_LEV_VERIFY, "220 go ahead\r\n");
	wait_for(&opened, 3000);
	ck_assert_ptr_null(sess);
	ck_assert_str_eq(ofail.dsn, "4.7.5");
	ck_assert(!ofail.hard);
	ck_assert(!ofail.retry_plain);
}
END_TEST

START_TEST(test_starttls_handshake_fails)
{
	/* may: a failed handshake lets the caller retry in plaintext. */
	tls_start(TLS_LEV_MAY, "220 go ahead\r\n");
	SSL_free(srv_ssl);
	srv_ssl = NULL;
	/* The ClientHello arrives; garbage answers it. */
	for (int i = 0; i < 2000 && got.len == off; i++)
		spin();
	ck_assert_uint_gt(got.len, off);
	ck_assert_int_eq(got.data[off], 0x16);	/* a handshake record */
	ck_assert_int_eq(write(srv, "garbage garbage\r\n", 17), 17);
	wait_for(&opened, 3000);
	ck_assert_ptr_null(sess);
	ck_assert_str_eq(ofail.dsn, "4.7.5");
	ck_assert(ofail.retry_plain);
	ck_assert_ptr_nonnull(strstr(ofail.text, "TLS handshake with "
	    "mx.example[127.0.0.1] failed"));
}
END_TEST

START_TEST(test_starttls_auth_inside)
{
	/* AUTH waits for TLS, and then follows the EHLO inside it. */
	target.sasl_user = "user";
	target.sasl_pass = "s3cret";
	smtp_conf.sasl_plain_ok = false;
	tls_start(TLS_LEV_ENCRYPT, "220 go ahead\r\n");
	expect("EHLO client.example\r\n");
	say("250-mx.example\r\n250 AUTH PLAIN\r\n");
	expect("AUTH PLAIN AHVzZXIAczNjcmV0\r\n");
	say("235 ok\r\n");
	wait_for(&opened, 3000);
	ck_assert_ptr_nonnull(sess);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("smtp_session");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_ehlo);
	tcase_add_test(tc, test_helo_fallback);
	tcase_add_test(tc, test_helo_refused);
	tcase_add_loop_test(tc, test_greeting, 0, ARRAY_LEN(greetings));
	tcase_add_test(tc, test_overlong_reply);
	tcase_add_test(tc, test_drip);
	tcase_add_test(tc, test_pipelining);
	tcase_add_test(tc, test_reuse);
	tcase_add_test(tc, test_no_rcpt_accepted);
	tcase_add_test(tc, test_lockstep_no_rcpt);
	tcase_add_test(tc, test_mail_refused);
	tcase_add_test(tc, test_data_refused);
	tcase_add_test(tc, test_dot_deferred);
	tcase_add_test(tc, test_421_mid);
	tcase_add_test(tc, test_lmtp);
	tcase_add_loop_test(tc, test_content_data, 0, ARRAY_LEN(contents));
	tcase_add_loop_test(tc, test_content_bdat, 0, ARRAY_LEN(contents));
	tcase_add_test(tc, test_big_bdat);
	tcase_add_test(tc, test_lost_mid_content);
	tcase_add_test(tc, test_size_rule);
	tcase_add_test(tc, test_smtputf8_rule);
	tcase_add_test(tc, test_smtputf8_ascii);
	tcase_add_test(tc, test_8bitmime_rule);
	tcase_add_test(tc, test_requiretls_rule);
	tcase_add_test(tc, test_dsn_params);
	tcase_add_test(tc, test_dsn_not_offered);
	tcase_add_test(tc, test_quoted_local);
	tcase_add_test(tc, test_auth_plain);
	tcase_add_test(tc, test_auth_login);
	tcase_add_test(tc, test_auth_535);
	tcase_add_test(tc, test_auth_noplaintext);
	tcase_add_test(tc, test_auth_no_mech);
	tcase_add_test(tc, test_tls_not_offered);
	tcase_add_test(tc, test_tls_may_not_offered);
	tcase_add_loop_test(tc, test_timeout, 0, ARRAY_LEN(timeouts));
	tcase_add_test(tc, test_watch);
	tcase_add_test(tc, test_watch_stopped);
	tcase_add_test(tc, test_quit_timeout);
	tcase_add_test(tc, test_unsolicited);
	suite_add_tcase(s, tc);
	tc = tcase_create("tls");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_checked_fixture(tc, tls_setup, tls_teardown);
	tcase_add_test(tc, test_starttls);
	tcase_add_test(tc, test_starttls_verify_fails);
	tcase_add_test(tc, test_starttls_handshake_fails);
	tcase_add_test(tc, test_starttls_auth_inside);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
