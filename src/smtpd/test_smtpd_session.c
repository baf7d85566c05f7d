/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for smtpd sessions: real sessions run in this process over a
 * socketpair, against a temporary queue directory and main.cf, and each
 * test asserts on the replies and on the queue files written (read back
 * with qfile_open): greeting and EHLO keywords, a pipelined transaction,
 * BDAT chunks, limits, hostile command lines (10 MB, NUL, control
 * characters, 8-bit), the error budget, SMTP smuggling variants inside
 * DATA, a disconnect in the middle of DATA, and DSN parameters.
 * TLS, AUTH with authd, anvil and DNS are exercised by the integration
 * test against a running instance.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "qfile.h"
#include "server.h"

#include "smtpd.h"
#include "smtpd_check.h"
#include "smtpd_session.h"

static char topdir[] = "/tmp/test_smtpd_session.XXXXXX";
static char *oldcwd;
static struct event_base *base;
static unsigned sessions_done;
static struct buf logged;

struct client {
	int		 fd;
	struct buf	 in;	/* everything received */
	size_t		 off;	/* replies taken so far */
	bool		 eof;
};

static void
log_hook(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	if (logged.len < 1024 * 1024)
		buf_addf(&logged, "%s\n", msg);
}

static void
done_cb(void)
{
	sessions_done++;
}

/* Loads main.cf plus "a=b" settings separated by "|", and starts smtpd. */
static void
load(const char *settings)
{
	struct strv ov;
	struct passwd *pw = getpwuid(geteuid());
	const char *err;

	strv_init(&ov);
	strv_push(&ov, "myhostname=mail.example.org");
	strv_push(&ov, "mydestination=example.org");
	strv_push(&ov, "mynetworks=127.0.0.0/8");
	strv_push(&ov, "smtpd_peername_lookup=no");
	strv_push(&ov, "smtpd_error_sleep_time=0");
	strv_push(&ov, "smtpd_reject_unlisted_recipient=no");
	strv_push(&ov, "message_size_limit=100000");
	strv_push_owned(&ov, xasprintf("mail_owner=%s", pw->pw_name));
	if (settings != NULL)
		strv_split(&ov, settings, "|");
	ck_assert_int_eq(mail_conf_try_load(topdir, &ov, false, &err), 0);
	strv_deinit(&ov);
	ck_assert_int_eq(smtpd_conf_load(&err), 0);
	ck_assert_int_eq(smtpd_check_init(&err), 0);
}

static void
setup(void)
{
	FILE *f;
	char *p;

	ck_assert_ptr_nonnull(mkdtemp(topdir));
	p = xasprintf("%s/main.cf", topdir);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fclose(f);
	free(p);
	oldcwd = getcwd(NULL, 0);
	ck_assert_int_eq(chdir(topdir), 0);
	ck_assert_int_eq(mkdir(QFILE_INCOMING, 0700), 0);
	ck_assert_int_eq(mkdir("private", 0700), 0);
	ck_assert_int_eq(mkdir("public", 0700), 0);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	smtpd_runtime(base, done_cb);
	sessions_done = 0;
	buf_init(&logged, 0);
	log_set_hook(log_hook, NULL);
}

static size_t
count_incoming(void)
{
	DIR *d = opendir(QFILE_INCOMING);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", topdir);

	ck_assert_int_eq(chdir(oldcwd), 0);
	free(oldcwd);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	memcpy(topdir + strlen(topdir) - 6, "XXXXXX", 6);
	log_set_hook(NULL, NULL);
	buf_deinit(&logged);
	smtpd_check_deinit();
	smtpd_conf_unload();
	mail_conf_unload();
	event_base_free(base);
}

/* Runs the server a little and collects what it sent. */
static void
pump(struct client *c, int ms)
{
	char chunk[65536];
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;

	event_base_loop(base, EVLOOP_NONBLOCK);
	if (poll(&p, 1, ms) <= 0)
		return;
	while ((n = read(c->fd, chunk, sizeof(chunk))) > 0)
		buf_add(&c->in, chunk, (size_t)n);
	if (n == 0 || (n == -1 && errno != EAGAIN))
		c->eof = true;
	event_base_loop(base, EVLOOP_NONBLOCK);
}

static void
connect_client(struct client *c)
{
	struct server_peer peer;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	memset(&peer, 0, sizeof(peer));
	peer.family = AF_INET;
	str_copy(peer.addr, "127.0.0.1", sizeof(peer.addr));
	peer.port = 40000;
	str_copy(peer.local_addr, "127.0.0.1", sizeof(peer.local_addr));
	peer.local_port = 25;
	memset(c, 0, sizeof(*c));
	c->fd = sv[0];
	buf_init(&c->in, 0);
	smtpd_session_start(sv[1], &peer);
}

static void
client_close(struct client *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	buf_deinit(&c->in);
}

/* Writes everything, running the server while the socket is full. */
static void
send_n(struct client *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(c->fd, p, n);

		if (w == -1) {
			ck_assert_int_eq(errno, EAGAIN);
			event_base_loop(base, EVLOOP_NONBLOCK);
			pump(c, 1);
			continue;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void
send_str(struct client *c, const char *s)
{
	send_n(c, s, strlen(s));
}

/* Complete replies ("NNN text" final lines) not yet taken. */
static size_t
replies_ready(const struct client *c, size_t *end_r, size_t want)
{
	const char *p = buf_cstr(&c->in) + c->off, *nl;
	size_t n = 0;

	*end_r = c->off;
	while (n < want && (nl = strstr(p, "\r\n")) != NULL) {
		if (nl - p >= 4 && p[3] == ' ')
			n++;
		p = nl + 2;
		*end_r = (size_t)(p - buf_cstr(&c->in));
	}
	return n;
}

/* Waits for n replies and returns them (multi-line ones whole). */
static char *
expect(struct client *c, size_t n)
{
	time_t until = time(NULL) + 10;
	size_t end;
	char *r;

	while (replies_ready(c, &end, n) < n && !c->eof &&
	    time(NULL) < until)
		pump(c, 10);
	ck_assert_msg(replies_ready(c, &end, n) == n,
	    "wanted %zu replies, have \"%s\"", n, buf_cstr(&c->in) + c->off);
	r = xstrndup(buf_cstr(&c->in) + c->off, end - c->off);
	c->off = end;
	return r;
}

/* Asserts the next reply starts with prefix. */
static void
expect_reply(struct client *c, const char *prefix)
{
	char *r = expect(c, 1);

	ck_assert_msg(str_has_prefix(r, prefix), "wanted \"%s\", got \"%s\"",
	    prefix, r);
	free(r);
}

/* Waits until the server closed and the session is gone. */
static void
expect_closed(struct client *c)
{
	time_t until = time(NULL) + 10;

	while (!c->eof && time(NULL) < until)
		pump(c, 10);
	ck_assert(c->eof);
	ck_assert_uint_eq(smtpd_session_count(), 0);
}

static void
greet(struct client *c)
{
	connect_client(c);
	expect_reply(c, "220 mail.example.org ESMTP tern\r\n");
}

/* The one queue file in incoming/ (asserted), opened, with its text. */
static struct qfile *
only_queued(struct buf *content)
{
	DIR *d = opendir(QFILE_INCOMING);
	struct dirent *e;
	struct qfile *qf = NULL;
	const char *err;

	ck_assert_uint_eq(count_incoming(), 1);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			ck_assert_int_eq(qfile_open(QFILE_INCOMING, e->d_name,
			    QFILE_O_RDONLY, &qf, &err), 0);
	closedir(d);
	buf_init(content, 0);
	ck_assert_int_eq(qfile_read_content(qf, content, 0, &err), 0);
	return qf;
}

START_TEST(test_greeting_ehlo)
{
	struct client c;
	char *r;

	load(NULL);
	greet(&c);
	send_str(&c, "EHLO client.example.net\r\n");
	r = expect(&c, 1);
	ck_assert(str_has_prefix(r, "250-mail.example.org\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "250-PIPELINING\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "250-SIZE 100000\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "250-8BITMIME\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "250-SMTPUTF8\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "250-ENHANCEDSTATUSCODES\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "250-DSN\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "250 CHUNKING\r\n"));
	/* No TLS context, AUTH off, VRFY never advertised, not in TLS. */
	ck_assert_ptr_null(strstr(r, "STARTTLS"));
	ck_assert_ptr_null(strstr(r, "AUTH"));
	ck_assert_ptr_null(strstr(r, "VRFY"));
	ck_assert_ptr_null(strstr(r, "REQUIRETLS"));
	free(r);
	send_str(&c, "HELO client.example.net\r\n");
	expect_reply(&c, "250 mail.example.org\r\n");
	send_str(&c, "QUIT\r\n");
	expect_reply(&c, "221 2.0.0 Bye\r\n");
	expect_closed(&c);
	ck_assert_uint_eq(sessions_done, 1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged),
	    "connect from unknown[127.0.0.1]"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged),
	    "disconnect from unknown[127.0.0.1] helo=1 ehlo=1 quit=1 "
	    "commands=3"));
	client_close(&c);
}
END_TEST

START_TEST(test_pipelined_transaction)
{
	struct client c;
	struct buf content;
	struct qfile *qf;
	char *r;

	load(NULL);
	greet(&c);
	/* RFC 2920: the whole group in one write, DATA text included. */
	send_str(&c, "EHLO client.example.net\r\n"
	    "MAIL FROM:<sender@example.net>\r\n"
	    "RCPT TO:<rcpt@example.org>\r\n"
	    "DATA\r\n"
	    "Subject: pipelined\r\n\r\nhello\r\n..dot\r\n.\r\n"
	    "QUIT\r\n");
	r = expect(&c, 6);
	ck_assert_ptr_nonnull(strstr(r, "250 CHUNKING\r\n250 2.1.0 Ok\r\n"
	    "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as "));
	ck_assert(str_has_suffix_ci(r, "\r\n221 2.0.0 Bye\r\n"));
	expect_closed(&c);
	qf = only_queued(&content);
	ck_assert_ptr_nonnull(strstr(r, qf->qid));
	ck_assert_str_eq(qf->sender, "sender@example.net");
	ck_assert_uint_eq(qf->nrcpts, 1);
	ck_assert_str_eq(qf->rcpts[0].addr, "rcpt@example.org");
	ck_assert_str_eq(qfile_attr(qf, "protocol"), "ESMTP");
	ck_assert_str_eq(qfile_attr(qf, "client_addr"), "127.0.0.1");
	ck_assert(str_has_prefix(buf_cstr(&content), "Received: from "
	    "client.example.net (unknown [127.0.0.1])\n\tby mail.example.org "
	    "(tern) with ESMTP id "));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&content),
	    "Subject: pipelined\n"));
	ck_assert(str_has_suffix_ci(buf_cstr(&content), "\nhello\n.dot\n"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged), ": client=unknown"
	    "[127.0.0.1]"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged), "ehlo=1 mail=1 "
	    "rcpt=1 data=1 quit=1 commands=5"));
	qfile_free(&qf);
	buf_deinit(&content);
	free(r);
	client_close(&c);
}
END_TEST

START_TEST(test_bdat_chunks)
{
	struct client c;
	struct buf content;
	struct qfile *qf;

	load(NULL);
	greet(&c);
	send_str(&c, "EHLO x.example\r\nMAIL FROM:<s@example.net>\r\n"
	    "RCPT TO:<r@example.org>\r\n");
	free(expect(&c, 3));
	/* A chunk holding what would be commands and an end of data. */
	send_str(&c, "BDAT 21\r\nSubject: b\r\n\r\nfirst\r\n");
	expect_reply(&c, "250 2.0.0 Ok: 21 bytes\r\n");
	send_str(&c, "BDAT 15\r\n.\r\nQUIT\r\nRSET\r\n");
	expect_reply(&c, "250 2.0.0 Ok: 15 bytes\r\n");
	/* Out of order inside a BDAT sequence. */
	send_str(&c, "MAIL FROM:<x@example.net>\r\n");
	expect_reply(&c, "503 5.5.1 ");
	send_str(&c, "BDAT 6 LAST\r\nlast\r\n");
	expect_reply(&c, "250 2.0.0 Ok: queued as ");
	qf = only_queued(&content);
	ck_assert_msg(str_has_suffix_ci(buf_cstr(&content),
	    "\n\nfirst\n.\nQUIT\nRSET\nlast\n"), "content \"%s\"",
	    buf_cstr(&content));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&content), "\nSubject: b\n"));
	qfile_free(&qf);
	buf_deinit(&content);
	/* BDAT without a transaction: the chunk is consumed, then 503. */
	send_str(&c, "BDAT 6\r\nNOOP\r\n");
	expect_reply(&c, "503 5.5.1 Error: need RCPT command\r\n");
	send_str(&c, "BDAT x\r\n");
	expect_reply(&c, "501 5.5.4 ");
	send_str(&c, "NOOP\r\n");
	expect_reply(&c, "250 2.0.0 Ok\r\n");
	ck_assert_uint_eq(count_incoming(), 1);
	client_close(&c);
}
END_TEST

START_TEST(test_size_limit)
{
	struct client c;
	char *big;

	load(NULL);
	greet(&c);
	send_str(&c, "EHLO x.example\r\n");
	free(expect(&c, 1));
	send_str(&c, "MAIL FROM:<s@example.net> SIZE=200000\r\n");
	expect_reply(&c, "552 5.3.4 ");
	/* Over the limit without SIZE: read to the end, then 552. */
	send_str(&c, "MAIL FROM:<s@example.net>\r\nRCPT TO:<r@example.org>\r\n"
	    "DATA\r\n");
	free(expect(&c, 3));
	big = xmalloc(150001);
	memset(big, 'a', 150000);
	for (size_t i = 70; i < 150000; i += 72) {
		big[i] = '\r';
		big[i + 1] = '\n';
	}
	big[150000] = '\0';
	send_str(&c, big);
	send_str(&c, "\r\n.\r\nNOOP\r\n");
	expect_reply(&c, "552 5.3.4 ");
	expect_reply(&c, "250 2.0.0 Ok\r\n");
	ck_assert_uint_eq(count_incoming(), 0);
	free(big);
	client_close(&c);
}
END_TEST

START_TEST(test_long_line)
{
	struct client c;
	size_t n = 10 * 1024 * 1024;
	char *big = xmalloc(n);

	load(NULL);
	greet(&c);
	memcpy(big, "NOOP ", 5);
	memset(big + 5, 'x', n - 5);
	send_n(&c, big, n);
	send_str(&c, "\r\nNOOP\r\n");
	expect_reply(&c, "500 5.5.2 Error: line too long\r\n");
	expect_reply(&c, "250 2.0.0 Ok\r\n");
	/* A line just within line_length_limit (2048 with its CRLF). */
	memset(big, 'y', 2046);
	memcpy(big, "NOOP ", 5);
	memcpy(big + 2046, "\r\n", 2);
	send_n(&c, big, 2048);
	expect_reply(&c, "250 2.0.0 Ok\r\n");
	big[2046] = 'y';
	memcpy(big + 2047, "\r\n", 2);
	send_n(&c, big, 2049);
	expect_reply(&c, "500 5.5.2 Error: line too long\r\n");
	free(big);
	client_close(&c);
}
END_TEST

START_TEST(test_hostile_commands)
{
	struct client c;

	load(NULL);
	greet(&c);
	send_n(&c, "NOOP\0x\r\n", 8);
	expect_reply(&c, "500 5.5.2 ");
	send_str(&c, "NOOP \x01\r\n");
	expect_reply(&c, "500 5.5.2 ");
	send_str(&c, "NO\rOP\r\n");
	expect_reply(&c, "500 5.5.2 ");
	send_str(&c, "HELO h\xc3\xa9llo\r\n");
	expect_reply(&c, "500 5.5.2 ");
	send_str(&c, "N\xc3\xa9OP\r\n");
	expect_reply(&c, "500 5.5.2 ");
	send_str(&c, "\xff\xfe\xfd\r\n");
	expect_reply(&c, "500 5.5.2 ");
	send_str(&c, "EHLO x.example\r\nMAIL FROM:<j\xc3\xb6@example.net>\r\n");
	free(expect(&c, 1));
	expect_reply(&c, "553 5.6.7 ");
	send_str(&c, "MAIL FROM:<j\xc3\xb6@example.net> SMTPUTF8\r\n");
	expect_reply(&c, "250 2.1.0 Ok\r\n");
	/* Bare LF ends a command line with normalize. */
	send_str(&c, "RSET\nNOOP\n");
	expect_reply(&c, "250 2.0.0 Ok\r\n");
	expect_reply(&c, "250 2.0.0 Ok\r\n");
	client_close(&c);
}
END_TEST

START_TEST(test_sequence_and_syntax)
{
	struct client c;

	load(NULL);
	greet(&c);
	send_str(&c, "RCPT TO:<r@example.org>\r\n");
	expect_reply(&c, "503 5.5.1 Error: need MAIL command\r\n");
	send_str(&c, "DATA\r\n");
	expect_reply(&c, "503 5.5.1 Error: need RCPT command\r\n");
	send_str(&c, "FROB\r\n");
	expect_reply(&c, "502 5.5.2 Error: command not recognized\r\n");
	send_str(&c, "MAIL TO:<s@example.net>\r\n");
	expect_reply(&c, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
	send_str(&c, "MAIL FROM:<s@example.net\r\n");
	expect_reply(&c, "501 5.1.7 ");
	send_str(&c, "MAIL FROM:<s@example.net> FOO=BAR\r\n");
	expect_reply(&c, "555 5.5.4 ");
	send_str(&c, "EHLO\r\n");
	expect_reply(&c, "501 5.5.4 Syntax: EHLO hostname\r\n");
	send_str(&c, "MAIL FROM:<>\r\n");
	expect_reply(&c, "250 2.1.0 Ok\r\n");
	send_str(&c, "MAIL FROM:<>\r\n");
	expect_reply(&c, "503 5.5.1 Error: nested MAIL command\r\n");
	send_str(&c, "RCPT TO:<bad address@example.org>\r\n");
	expect_reply(&c, "501 5.1.3 ");
	send_str(&c, "DATA\r\n");
	expect_reply(&c, "554 5.5.1 Error: no valid recipients\r\n");
	send_str(&c, "RSET\r\n");
	expect_reply(&c, "250 2.0.0 Ok\r\n");
	send_str(&c, "RCPT TO:<r@example.org>\r\n");
	expect_reply(&c, "503 5.5.1 Error: need MAIL command\r\n");
	send_str(&c, "VRFY r@example.org\r\n");
	expect_reply(&c, "252 2.5.2 ");
	send_str(&c, "STARTTLS\r\n");
	expect_reply(&c, "502 5.5.1 ");
	send_str(&c, "AUTH PLAIN AGEAYg==\r\n");
	expect_reply(&c, "503 5.5.1 Error: authentication not enabled\r\n");
	send_str(&c, "HELP\r\n");
	expect_reply(&c, "214 2.0.0 ");
	client_close(&c);
}
END_TEST

START_TEST(test_helo_required)
{
	struct client c;

	load("smtpd_helo_required=yes");
	greet(&c);
	send_str(&c, "MAIL FROM:<s@example.net>\r\n");
	expect_reply(&c, "503 5.5.1 Error: send HELO/EHLO first\r\n");
	send_str(&c, "HELO x.example\r\nMAIL FROM:<s@example.net> SIZE=10\r\n"
	    "MAIL FROM:<s@example.net>\r\n");
	expect_reply(&c, "250 mail.example.org\r\n");
	/* HELO offers no extensions, so no parameters either. */
	expect_reply(&c, "555 5.5.4 ");
	expect_reply(&c, "250 2.1.0 Ok\r\n");
	client_close(&c);
}
END_TEST

START_TEST(test_hard_error_limit)
{
	struct client c;
	char *r;

	load("smtpd_hard_error_limit=3");
	greet(&c);
	/* One write: the commands after the limit are never answered. */
	send_str(&c, "FOO\r\nBAR\r\nBAZ\r\nNOOP\r\nNOOP\r\n");
	r = expect(&c, 4);
	ck_assert_str_eq(r, "502 5.5.2 Error: command not recognized\r\n"
	    "502 5.5.2 Error: command not recognized\r\n"
	    "502 5.5.2 Error: command not recognized\r\n"
	    "421 4.7.0 mail.example.org Error: too many errors\r\n");
	expect_closed(&c);
	ck_assert_str_eq(buf_cstr(&c.in) + c.off, "");
	free(r);
	client_close(&c);
}
END_TEST

START_TEST(test_recipient_limit)
{
	struct client c;

	load("smtpd_recipient_limit=2");
	greet(&c);
	send_str(&c, "EHLO x.example\r\nMAIL FROM:<s@example.net>\r\n"
	    "RCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
	    "RCPT TO:<c@example.org>\r\n");
	free(expect(&c, 4));
	expect_reply(&c, "452 4.5.3 Error: too many recipients\r\n");
	client_close(&c);
}
END_TEST

/* Each fake end of data is text; only CRLF.CRLF ends the message. */
static const char *const smuggle[] = {
	"\n.\n", "\r.\r", "\r\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\r",
	"\n.\r", "\r\n\n.\n",
};

START_TEST(test_smuggling)
{
	struct client c;
	struct buf content;
	struct qfile *qf;
	char *msg;

	load(NULL);
	greet(&c);
	msg = xasprintf("EHLO x.example\r\nMAIL FROM:<s@example.net>\r\n"
	    "RCPT TO:<r@example.org>\r\nDATA\r\nSubject: s\r\n\r\ntext%s"
	    "MAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.org>\r\n"
	    "DATA\r\nsmuggled\r\n.\r\nQUIT\r\n", smuggle[_i]);
	send_str(&c, msg);
	free(msg);
	free(expect(&c, 4));
	expect_reply(&c, "250 2.0.0 Ok: queued as ");
	expect_reply(&c, "221 2.0.0 Bye\r\n");
	expect_closed(&c);
	qf = only_queued(&content);
	ck_assert_uint_eq(qf->nrcpts, 1);
	ck_assert_str_eq(qf->rcpts[0].addr, "r@example.org");
	ck_assert_ptr_nonnull(strstr(buf_cstr(&content),
	    "MAIL FROM:<evil@example.net>"));
	ck_assert(str_has_suffix_ci(buf_cstr(&content), "smuggled\n"));
	qfile_free(&qf);
	buf_deinit(&content);
	client_close(&c);
}
END_TEST

START_TEST(test_bare_newline_reject)
{
	struct client c;

	load("smtpd_forbid_bare_newline=reject");
	greet(&c);
	send_str(&c, "EHLO x.example\r\nMAIL FROM:<s@example.net>\r\n"
	    "RCPT TO:<r@example.org>\r\nDATA\r\n");
	free(expect(&c, 4));
	send_str(&c, "Subject: s\r\n\r\na\n.\nMAIL FROM:<e@example.net>\r\n");
	expect_reply(&c, "550 5.5.2 ");
	expect_closed(&c);
	ck_assert_uint_eq(count_incoming(), 0);
	client_close(&c);

	greet(&c);
	send_str(&c, "NOOP\n");
	expect_reply(&c, "550 5.5.2 ");
	expect_closed(&c);
	client_close(&c);
}
END_TEST

START_TEST(test_disconnect_mid_data)
{
	struct client c;

	load(NULL);
	greet(&c);
	send_str(&c, "EHLO x.example\r\nMAIL FROM:<s@example.net>\r\n"
	    "RCPT TO:<r@example.org>\r\nDATA\r\nSubject: s\r\n\r\npart");
	free(expect(&c, 4));
	close(c.fd);
	c.fd = -1;
	for (int i = 0; i < 50 && smtpd_session_count() > 0; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(2000);
	}
	ck_assert_uint_eq(smtpd_session_count(), 0);
	ck_assert_uint_eq(count_incoming(), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged),
	    "lost connection after DATA ("));
	client_close(&c);
}
END_TEST

START_TEST(test_dsn_params)
{
	struct client c;
	struct buf content;
	struct qfile *qf;

	load(NULL);
	greet(&c);
	send_str(&c, "EHLO x.example\r\n"
	    "MAIL FROM:<s@example.net> RET=HDRS ENVID=abc+2B1 BODY=8BITMIME\r\n"
	    "RCPT TO:<r@example.org> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;r@example.org\r\n"
	    "RCPT TO:<q@example.org> NOTIFY=NEVER\r\n"
	    "DATA\r\n");
	free(expect(&c, 5));
	send_str(&c, "Subject: d\r\n\r\n\xc3\xa9t\xc3\xa9\r\n.\r\n");
	expect_reply(&c, "250 2.0.0 Ok: queued as ");
	qf = only_queued(&content);
	ck_assert_str_eq(qfile_attr(qf, "envid"), "abc+2B1");
	ck_assert_str_eq(qfile_attr(qf, "ret"), "HDRS");
	ck_assert_str_eq(qfile_attr(qf, "body"), "8BITMIME");
	ck_assert_uint_eq(qf->nrcpts, 2);
	ck_assert_str_eq(qf->rcpts[0].notify, "SUCCESS,FAILURE");
	ck_assert_str_eq(qf->rcpts[0].orcpt, "rfc822;r@example.org");
	ck_assert_str_eq(qf->rcpts[1].notify, "NEVER");
	ck_assert_str_eq(qf->rcpts[1].orcpt, "-");
	qfile_free(&qf);
	buf_deinit(&content);
	client_close(&c);
}
END_TEST

START_TEST(test_timeout)
{
	struct client c;

	load("smtpd_timeout=1s");
	greet(&c);
	send_str(&c, "EHLO x.example\r\n");
	free(expect(&c, 1));
	expect_reply(&c, "421 4.4.2 mail.example.org Error: timeout "
	    "exceeded\r\n");
	expect_closed(&c);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged),
	    "timeout after EHLO from unknown[127.0.0.1]"));
	client_close(&c);
}
END_TEST

START_TEST(test_relay_denied)
{
	struct client c;
	struct server_peer peer;
	int sv[2];

	load("mynetworks=192.0.2.0/24");
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	memset(&peer, 0, sizeof(peer));
	peer.family = AF_INET;
	str_copy(peer.addr, "198.51.100.7", sizeof(peer.addr));
	memset(&c, 0, sizeof(c));
	c.fd = sv[0];
	buf_init(&c.in, 0);
	smtpd_session_start(sv[1], &peer);
	expect_reply(&c, "220 ");
	send_str(&c, "EHLO x.example\r\nMAIL FROM:<s@example.net>\r\n"
	    "RCPT TO:<victim@elsewhere.example>\r\n"
	    "RCPT TO:<r@example.org>\r\n");
	free(expect(&c, 2));
	expect_reply(&c, "450 4.7.1 ");
	expect_reply(&c, "250 2.1.5 Ok\r\n");
	ck_assert_ptr_nonnull(strstr(buf_cstr(&logged), "NOQUEUE: reject: "
	    "RCPT from unknown[198.51.100.7]: 450 4.7.1 "));
	client_close(&c);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("smtpd_session");
	TCase *tc = tcase_create("session");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_greeting_ehlo);
	tcase_add_test(tc, test_pipelined_transaction);
	tcase_add_test(tc, test_bdat_chunks);
	tcase_add_test(tc, test_size_limit);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_hostile_commands);
	tcase_add_test(tc, test_sequence_and_syntax);
	tcase_add_test(tc, test_helo_required);
	tcase_add_test(tc, test_hard_error_limit);
	tcase_add_test(tc, test_recipient_limit);
	tcase_add_loop_test(tc, test_smuggling, 0, ARRAY_LEN(smuggle));
	tcase_add_test(tc, test_bare_newline_reject);
	tcase_add_test(tc, test_disconnect_mid_data);
	tcase_add_test(tc, test_dsn_params);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_relay_denied);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
