/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for deliver.c: a request and its descriptor round trip, the
 * replies qmgr must refuse, end of file between requests, the body,
 * smtputf8 and requiretls attributes and the dead flag, and the shape of
 * the delivery log line.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "log.h"
#include "str.h"
#include "test_main.h"

#include "deliver.h"

static void
fill_request(struct deliver_request *req, int fd)
{
	deliver_request_init(req);
	req->queue_id = "1MQ3K7F0A3C2B";
	req->queue_name = "active";
	req->fd = fd;
	req->content_off = 120;
	req->content_size = 812;
	req->arrival = 1000000;
	req->active = 1500000;
	req->sender = "a@example.org";
	req->transport = "local";
	req->nexthop = "host.example";
	req->ret = "HDRS";
	strv_push(&req->rcpt, "b@example.org");
	strv_push(&req->rcpt, "c d@example.org");
	strv_push(&req->orcpt, "-");
	strv_push(&req->orcpt, "rfc822;c+20d@example.org");
	strv_push(&req->notify, "-");
	strv_push(&req->notify, "SUCCESS,FAILURE");
}

START_TEST(test_request_roundtrip)
{
	struct deliver_request out, in;
	struct stat st1, st2;
	const char *err = NULL;
	int sv[2], fd;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fd = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	fill_request(&out, fd);
	ck_assert_int_eq(deliver_request_send(sv[0], &out, 1000, &err), 0);
	deliver_request_init(&in);
	ck_assert_int_eq(deliver_request_read(sv[1], &in, 1000, &err), 1);
	ck_assert_str_eq(in.queue_id, "1MQ3K7F0A3C2B");
	ck_assert_str_eq(in.sender, "a@example.org");
	ck_assert_str_eq(in.nexthop, "host.example");
	ck_assert_str_eq(in.ret, "HDRS");
	ck_assert_ptr_null(in.envid);
	ck_assert_uint_eq(in.content_off, 120);
	ck_assert_uint_eq(in.content_size, 812);
	ck_assert_int_eq(in.active, 1500000);
	ck_assert_uint_eq(in.rcpt.n, 2);
	ck_assert_str_eq(in.rcpt.v[1], "c d@example.org");
	ck_assert_str_eq(in.orcpt.v[1], "rfc822;c+20d@example.org");
	ck_assert_str_eq(in.notify.v[1], "SUCCESS,FAILURE");
	/* The descriptor that arrived is the file that was sent. */
	ck_assert_int_eq(fstat(in.fd, &st1), 0);
	ck_assert_int_eq(fstat(fd, &st2), 0);
	ck_assert_uint_eq(st1.st_ino, st2.st_ino);
	deliver_request_deinit(&in);
	/* A clean end of file between requests is 0, not an error. */
	close(sv[0]);
	deliver_request_init(&in);
	ck_assert_int_eq(deliver_request_read(sv[1], &in, 1000, &err), 0);
	deliver_request_deinit(&in);
	deliver_request_deinit(&out);
	close(sv[1]);
}
END_TEST

START_TEST(test_request_refused)
{
	struct deliver_request out, in;
	const char *err = NULL;
	struct attr_writer w;
	struct buf frame;
	int sv[2];

	/* A sender that breaks the rules is stopped before the wire. */
	fill_request(&out, 0);
	strv_push(&out.rcpt, "extra@example.org");
	ck_assert_int_eq(deliver_request_send(0, &out, 1000, &err), -1);
	out.fd = -1;
	deliver_request_deinit(&out);

	/* A frame without a descriptor, or with lists of unequal length. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	buf_init(&frame, 0);
	attr_frame_begin(&w, &frame);
	attr_put_str(&w, "request", "deliver");
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	ck_assert_int_eq(attr_write_frame(sv[0], &frame, 1000, &err), 0);
	deliver_request_init(&in);
	ck_assert_int_eq(deliver_request_read(sv[1], &in, 1000, &err), -1);
	deliver_request_deinit(&in);
	buf_deinit(&frame);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Builds a reply frame body from parallel lists. */
static void
reply_body(struct buf *b, const char *const *status, const char *const *dsn,
    size_t n, bool with_relay)
{
	struct strv s, d, t;
	struct attr_writer w;
	const char *err;

	strv_init(&s);
	strv_init(&d);
	strv_init(&t);
	for (size_t i = 0; i < n; i++) {
		strv_push(&s, status[i]);
		strv_push(&d, dsn[i]);
		strv_push(&t, "text");
	}
	buf_reset(b);
	attr_frame_begin(&w, b);
	attr_put_strv(&w, "status", &s);
	attr_put_strv(&w, "dsn", &d);
	attr_put_strv(&w, "text", &t);
	if (with_relay)
		attr_put_str(&w, "relay", "local");
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	buf_consume(b, ATTR_HDR_LEN);
	strv_deinit(&s);
	strv_deinit(&d);
	strv_deinit(&t);
}

static const struct {
	const char	*status;
	const char	*dsn;
	bool		 ok;
} reply_cases[] = {
	{ "sent", "2.0.0", true },
	{ "deferred", "4.3.0", true },
	{ "bounced", "5.1.1", true },
	{ "bounced", "5.100.999", true },
	{ "sent", "5.0.0", false },		/* class does not match */
	{ "deferred", "2.0.0", false },
	{ "bounced", "4.1.1", false },
	{ "delivered", "2.0.0", false },	/* unknown status */
	{ "sent", "2.0", false },		/* malformed codes */
	{ "sent", "2.0.0.0", false },
	{ "sent", "2.1000.0", false },
	{ "sent", "2..0", false },
	{ "sent", "", false },
	{ "sent", "2.0.0 ", false },
	{ "", "2.0.0", false },
};

START_TEST(test_reply_parse)
{
	struct deliver_reply r;
	const char *err = NULL;
	struct buf b;

	buf_init(&b, 0);
	reply_body(&b, &reply_cases[_i].status, &reply_cases[_i].dsn, 1,
	    true);
	ck_assert_int_eq(deliver_reply_parse(b.data, b.len, 1, &r, &err),
	    reply_cases[_i].ok ? 0 : -1);
	if (reply_cases[_i].ok) {
		ck_assert_uint_eq(r.n, 1);
		ck_assert_str_eq(r.relay, "local");
		ck_assert_str_eq(r.results[0].dsn, reply_cases[_i].dsn);
	} else {
		ck_assert_uint_eq(r.n, 0);
		ck_assert_ptr_nonnull(err);
	}
	deliver_reply_deinit(&r);
	buf_deinit(&b);
}
END_TEST

START_TEST(test_reply_shape)
{
	const char *st[] = { "sent", "sent" }, *dsn[] = { "2.0.0", "2.0.0" };
	struct deliver_reply r, in;
	const char *err = NULL;
	struct buf b;
	int sv[2];

	buf_init(&b, 0);
	/* Count mismatch, missing relay, truncated and trailing bytes. */
	reply_body(&b, st, dsn, 2, true);
	ck_assert_int_eq(deliver_reply_parse(b.data, b.len, 1, &r, &err), -1);
	ck_assert_int_eq(deliver_reply_parse(b.data, b.len, 3, &r, &err), -1);
	ck_assert_int_eq(deliver_reply_parse(b.data, b.len - 1, 2, &r, &err),
	    -1);
	buf_adds(&b, "x");
	ck_assert_int_eq(deliver_reply_parse(b.data, b.len, 2, &r, &err), -1);
	reply_body(&b, st, dsn, 2, false);
	ck_assert_int_eq(deliver_reply_parse(b.data, b.len, 2, &r, &err), -1);

	/* What an agent sends is what qmgr reads. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	deliver_reply_alloc(&r, 2, "local");
	deliver_reply_set(&r, 1, DELIVER_BOUNCE, "5.1.1",
	    "unknown user: \"x\"");
	ck_assert_int_eq(deliver_reply_send(sv[0], &r, 1000, &err), 0);
	ck_assert_int_eq(attr_read_frame(sv[1], &b, 0, 1000, &err), 0);
	ck_assert_int_eq(deliver_reply_parse(b.data, b.len, 2, &in, &err), 0);
	ck_assert_int_eq(in.results[0].status, DELIVER_DEFER);
	ck_assert_str_eq(in.results[0].dsn, "4.3.0");
	ck_assert_int_eq(in.results[1].status, DELIVER_BOUNCE);
	ck_assert_str_eq(in.results[1].text, "unknown user: \"x\"");
	deliver_reply_deinit(&in);
	deliver_reply_deinit(&r);
	buf_deinit(&b);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* body, smtputf8 and requiretls: round trip, defaults, hostile body. */
static const struct {
	const char	*body;
	bool		 smtputf8, requiretls;
	int		 rc;
} attr_cases[] = {
	{ "8BITMIME", true, true, 1 },
	{ "7BIT", false, true, 1 },
	{ NULL, true, false, 1 },
	{ NULL, false, false, 1 },
	{ "BINARYMIME", false, false, -1 },	/* RFC 3030: not ours */
	{ "8bitmime", false, false, -1 },
	{ "", false, false, -1 },
	{ "8BITMIME\r\n", false, false, -1 },
};

START_TEST(test_request_attrs)
{
	struct deliver_request out, in;
	const char *err = NULL;
	int sv[2], fd, rc;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fd = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	fill_request(&out, fd);
	out.body = attr_cases[_i].body;
	out.smtputf8 = attr_cases[_i].smtputf8;
	out.requiretls = attr_cases[_i].requiretls;
	rc = deliver_request_send(sv[0], &out, 1000, &err);
	if (rc == -1) {
		/* Refused before the wire is as good as refused by the reader. */
		ck_assert_int_eq(attr_cases[_i].rc, -1);
		ck_assert_ptr_nonnull(err);
	} else {
		deliver_request_init(&in);
		rc = deliver_request_read(sv[1], &in, 1000, &err);
		ck_assert_int_eq(rc, attr_cases[_i].rc);
		if (rc == 1) {
			if (attr_cases[_i].body == NULL)
				ck_assert_ptr_null(in.body);
			else
				ck_assert_str_eq(in.body, attr_cases[_i].body);
			ck_assert_int_eq(in.smtputf8, attr_cases[_i].smtputf8);
			ck_assert_int_eq(in.requiretls,
			    attr_cases[_i].requiretls);
		} else {
			ck_assert_ptr_nonnull(err);
		}
		deliver_request_deinit(&in);
	}
	deliver_request_deinit(&out);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* The dead flag of a reply: sent when set, false when absent. */
START_TEST(test_reply_dead)
{
	struct deliver_reply r, in;
	const char *err = NULL;
	struct buf b;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	buf_init(&b, 0);
	memset(&r, 0, sizeof(r));
	deliver_reply_alloc(&r, 1, "mx.example[127.0.0.1]:2525");
	deliver_reply_set(&r, 0, DELIVER_DEFER, "4.4.1",
	    "connect to mx.example[127.0.0.1]:2525: Connection refused");
	r.dead = _i == 1;
	ck_assert_int_eq(deliver_reply_send(sv[0], &r, 1000, &err), 0);
	ck_assert_int_eq(attr_read_frame(sv[1], &b, 0, 1000, &err), 0);
	ck_assert_int_eq(deliver_reply_parse(b.data, b.len, 1, &in, &err), 0);
	ck_assert_int_eq(in.dead, _i == 1);
	ck_assert_str_eq(in.relay, "mx.example[127.0.0.1]:2525");
	ck_assert_str_eq(in.results[0].dsn, "4.4.1");
	deliver_reply_deinit(&in);
	deliver_reply_deinit(&r);
	buf_deinit(&b);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static struct buf logged;

static void
log_hook(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	buf_reset(&logged);
	buf_adds(&logged, msg);
}

START_TEST(test_log_line)
{
	struct deliver_request req;
	int64_t start;

	buf_init(&logged, 0);
	log_set_hook(log_hook, NULL);
	fill_request(&req, -1);
	start = deliver_now_us();
	req.active = start - 10000;
	req.arrival = start - 20000;
	deliver_log(&req, "b@example.org", "alias@example.org", "local",
	    start, 0, DELIVER_SENT, "2.0.0", "delivered to maildir");
	ck_assert_ptr_nonnull(strstr(logged.data, "1MQ3K7F0A3C2B: "
	    "to=<b@example.org>, orig_to=<alias@example.org>, relay=local, "
	    "delay=0.0"));
	ck_assert_ptr_nonnull(strstr(logged.data, ", delays=0.01/0.01/0/"));
	ck_assert_ptr_nonnull(strstr(logged.data,
	    ", dsn=2.0.0, status=sent (delivered to maildir)"));
	/* No orig_to when it is the recipient; CR/LF never reach the log. */
	deliver_log(&req, "b@example.org", "b@example.org", "local", start,
	    0, DELIVER_DEFER, "4.3.0", "bad\r\nline");
	ck_assert_ptr_null(strstr(logged.data, "orig_to"));
	ck_assert_ptr_null(strpbrk(logged.data, "\r\n"));
	ck_assert_ptr_nonnull(strstr(logged.data, "status=deferred (bad"));
	log_set_hook(NULL, NULL);
	deliver_request_deinit(&req);
	buf_deinit(&logged);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("deliver");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_request_roundtrip);
	tcase_add_test(tc, test_request_refused);
	tcase_add_loop_test(tc, test_request_attrs, 0, ARRAY_LEN(attr_cases));
	tcase_add_loop_test(tc, test_reply_dead, 0, 2);
	tcase_add_loop_test(tc, test_reply_parse, 0, ARRAY_LEN(reply_cases));
	tcase_add_test(tc, test_reply_shape);
	tcase_add_test(tc, test_log_line);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
