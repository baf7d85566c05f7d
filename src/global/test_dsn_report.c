/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for dsn_report.c: the MIME structure (RFC 3464, RFC 2046),
 * the required fields per recipient, RET=HDRS and bounce_size_limit,
 * boundaries that collide with the content, hostile diagnostic texts,
 * overflow of the output buffer, and a parse by Python's email package.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "test_main.h"

#include "dsn_report.h"

static const char original[] =
    "From: Sender <sender@example.org>\n"
    "To: a@example.net\n"
    "Subject: test\n"
    "\n"
    "Body line one.\n"
    "Body line two.\n";

static const struct dsn_report_rcpt two_rcpts[] = {
	{ "a@example.net", "rfc822;a+2Bx@example.net", "failed", "5.1.1",
	  "mx.example.net", "550 5.1.1 <a@example.net>: no such user",
	  1700000000 },
	{ "b@localhost", NULL, "failed", "5.2.2", "local",
	  "mailbox full", 0 },
};

static void
report_init(struct dsn_report *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = DSN_REPORT_FAILURE;
	r->qid = "1MQ3K7F0A3C2B";
	r->myhostname = "mail.example.org";
	r->to = "sender@example.org";
	r->arrival = 1700000000;
	r->rcpts = two_rcpts;
	r->nrcpts = 2;
	r->content = original;
	r->content_len = strlen(original);
}

/* The message split at its boundary: parts[0] is the preamble. */
struct mime {
	char	 boundary[600];
	char	*parts[8];
	size_t	 nparts;
	bool	 closed;
};

static void
mime_split(const char *msg, struct mime *m)
{
	const char *b = strstr(msg, "boundary=\""), *e, *p, *next;
	char delim[620], close[620];

	memset(m, 0, sizeof(*m));
	ck_assert_ptr_nonnull(b);
	b += strlen("boundary=\"");
	e = strchr(b, '"');
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_lt((size_t)(e - b), sizeof(m->boundary));
	memcpy(m->boundary, b, (size_t)(e - b));
	(void)snprintf(delim, sizeof(delim), "\n--%s\n", m->boundary);
	(void)snprintf(close, sizeof(close), "\n--%s--\n", m->boundary);
	p = strstr(msg, "\n\n");
	ck_assert_ptr_nonnull(p);
	for (;;) {
		next = strstr(p, delim);
		if (next == NULL) {
			next = strstr(p, close);
			ck_assert_ptr_nonnull(next);
			ck_assert_uint_lt(m->nparts, ARRAY_LEN(m->parts));
			m->parts[m->nparts++] = strndup(p, (size_t)(next - p));
			m->closed = strcmp(next, close) == 0;
			return;
		}
		ck_assert_uint_lt(m->nparts, ARRAY_LEN(m->parts));
		m->parts[m->nparts++] = strndup(p, (size_t)(next - p));
		p = next + strlen(delim) - 1;
	}
}

static void
mime_free(struct mime *m)
{
	size_t i;

	for (i = 0; i < m->nparts; i++)
		free(m->parts[i]);
}

static void
check_lines(const char *s)
{
	const char *nl;

	/* RFC 5322 §2.1.1: no line longer than 998 octets. */
	for (; (nl = strchr(s, '\n')) != NULL; s = nl + 1)
		ck_assert_uint_le((size_t)(nl - s), 998);
	ck_assert_uint_le(strlen(s), 998);
}

START_TEST(test_failure)
{
	struct dsn_report r;
	struct buf out;
	struct mime m;
	const char *err;

	report_init(&r);
	buf_init(&out, 0);
	ck_assert_int_eq(dsn_report_compose(&r, &out, &err), 0);
	check_lines(buf_cstr(&out));
	ck_assert(strncmp(buf_cstr(&out), "From: Mail Delivery System "
	    "<MAILER-DAEMON@mail.example.org>\nTo: <sender@example.org>\n"
	    "Subject: Undelivered Mail Returned to Sender\n", 128) == 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "\nAuto-Submitted: "
	    "auto-replied\nMIME-Version: 1.0\nContent-Type: multipart/report;"
	    " report-type=delivery-status;\n\tboundary=\""));
	mime_split(buf_cstr(&out), &m);
	ck_assert_str_eq(m.boundary, "1MQ3K7F0A3C2B/mail.example.org");
	ck_assert(m.closed);
	ck_assert_uint_eq(m.nparts, 4);
	/* Human-readable part. */
	ck_assert_ptr_nonnull(strstr(m.parts[1], "Content-Type: text/plain"));
	ck_assert_ptr_nonnull(strstr(m.parts[1], "This is the mail system at "
	    "host mail.example.org.\n"));
	ck_assert_ptr_nonnull(strstr(m.parts[1], "could not\nbe delivered"));
	ck_assert_ptr_nonnull(strstr(m.parts[1], "\n<a@example.net>: 550 "
	    "5.1.1 <a@example.net>: no such user\n"));
	ck_assert_ptr_nonnull(strstr(m.parts[1], "\n<b@localhost>: mailbox "
	    "full\n"));
	/* RFC 3464 fields. */
	ck_assert_ptr_nonnull(strstr(m.parts[2], "Content-Type: "
	    "message/delivery-status\n\nReporting-MTA: dns; mail.example.org\n"
	    "X-Tern-Queue-ID: 1MQ3K7F0A3C2B\nArrival-Date: "));
	ck_assert_ptr_null(strstr(m.parts[2], "Original-Envelope-Id"));
	ck_assert_ptr_nonnull(strstr(m.parts[2], "\n\nOriginal-Recipient: "
	    "rfc822;a+x@example.net\nFinal-Recipient: rfc822; a@example.net\n"
	    "Action: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.net\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <a@example.net>: no such user\n"
	    "Last-Attempt-Date: "));
	ck_assert_ptr_nonnull(strstr(m.parts[2], "\n\nFinal-Recipient: "
	    "rfc822; b@localhost\nAction: failed\nStatus: 5.2.2\n"
	    "Diagnostic-Code: x-unix; mailbox full\n"));
	ck_assert_ptr_null(strstr(m.parts[2], "Remote-MTA: dns; local"));
	ck_assert_ptr_null(strstr(m.parts[2], "Will-Retry-Until"));
	/* The original, whole. */
	ck_assert_ptr_nonnull(strstr(m.parts[3], "Content-Type: "
	    "message/rfc822\n\n"));
	ck_assert_ptr_nonnull(strstr(m.parts[3], original));
	mime_free(&m);
	buf_deinit(&out);
}
END_TEST

/* 0: RET=HDRS, 1: over size_limit, 2: header alone over size_limit. */
START_TEST(test_headers_only)
{
	struct dsn_report r;
	struct buf out;
	struct mime m;
	const char *err;

	report_init(&r);
	if (_i == 0)
		r.ret_hdrs = true;
	else
		r.size_limit = _i == 1 ? 70 : 40;
	buf_init(&out, 0);
	ck_assert_int_eq(dsn_report_compose(&r, &out, &err), 0);
	mime_split(buf_cstr(&out), &m);
	ck_assert_uint_eq(m.nparts, 4);
	ck_assert_ptr_nonnull(strstr(m.parts[3], "Content-Type: "
	    "text/rfc822-headers\n\nFrom: Sender <sender@example.org>\n"));
	ck_assert_ptr_null(strstr(m.parts[3], "Body line"));
	ck_assert_ptr_null(strstr(m.parts[3], "message/rfc822"));
	if (_i < 2)
		ck_assert_ptr_nonnull(strstr(m.parts[3], "Subject: test\n"));
	else
		ck_assert_ptr_null(strstr(m.parts[3], "Subject: test\n"));
	mime_free(&m);
	buf_deinit(&out);
}
END_TEST

START_TEST(test_delay_success)
{
	struct dsn_report r;
	struct buf out;
	const char *err;

	report_init(&r);
	r.kind = DSN_REPORT_DELAY;
	r.retry_until = 1700400000;
	r.envid = "QQ314159";
	buf_init(&out, 0);
	ck_assert_int_eq(dsn_report_compose(&r, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out),
	    "Subject: Delayed Mail (still being retried)\n"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "THIS IS A WARNING"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "\nWill-Retry-Until: "));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out),
	    "\nOriginal-Envelope-Id: QQ314159\n"));
	buf_reset(&out);
	r.kind = DSN_REPORT_SUCCESS;
	ck_assert_int_eq(dsn_report_compose(&r, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out),
	    "Subject: Successful Mail Delivery Report\n"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "successfully delivered"));
	ck_assert_ptr_null(strstr(buf_cstr(&out), "Will-Retry-Until"));
	buf_deinit(&out);
}
END_TEST

START_TEST(test_boundary_collision)
{
	struct dsn_report r;
	struct buf out;
	struct mime m;
	const char *err;
	static const char evil[] = "Subject: x\n\n"
	    "--1MQ3K7F0A3C2B/mail.example.org\n"
	    "--1MQ3K7F0A3C2B/mail.example.org/1--\n";

	report_init(&r);
	r.content = evil;
	r.content_len = strlen(evil);
	buf_init(&out, 0);
	ck_assert_int_eq(dsn_report_compose(&r, &out, &err), 0);
	mime_split(buf_cstr(&out), &m);
	ck_assert_str_eq(m.boundary, "1MQ3K7F0A3C2B/mail.example.org/2");
	ck_assert_uint_eq(m.nparts, 4);
	ck_assert_ptr_nonnull(strstr(m.parts[3], evil));
	mime_free(&m);
	buf_deinit(&out);
}
END_TEST

START_TEST(test_hostile_text)
{
	struct dsn_report r;
	struct dsn_report_rcpt rc[2];
	struct buf out;
	struct mime m;
	const char *err;
	char *longword = malloc(5001), *spaced = malloc(5001);
	size_t i;

	memset(longword, 'x', 5000);
	longword[5000] = '\0';
	for (i = 0; i < 5000; i++)
		spaced[i] = i % 7 == 6 ? ' ' : 'y';
	spaced[5000] = '\0';
	memcpy(spaced, "450 ", 4);
	report_init(&r);
	memset(rc, 0, sizeof(rc));
	rc[0].addr = "a@b.example\r\nInjected: yes";
	rc[0].action = "failed";
	rc[0].dsn = "5.0.0";
	rc[0].relay = "mx\n.example";
	rc[0].text = longword;
	rc[0].orcpt = "rfc822;bad+ZZxtext";	/* not xtext: left out */
	rc[1].addr = "\xc3\xa9@b.example";
	rc[1].action = "delayed";
	rc[1].dsn = "4.0.0";
	rc[1].text = spaced;
	r.rcpts = rc;
	r.nrcpts = 2;
	r.envid = "env\nid";
	buf_init(&out, 0);
	ck_assert_int_eq(dsn_report_compose(&r, &out, &err), 0);
	check_lines(buf_cstr(&out));
	ck_assert_ptr_null(strstr(buf_cstr(&out), "\nInjected"));
	ck_assert_ptr_null(strstr(buf_cstr(&out), "\n.example"));
	ck_assert_ptr_null(strstr(buf_cstr(&out), "Original-Recipient"));
	mime_split(buf_cstr(&out), &m);
	ck_assert_uint_eq(m.nparts, 4);
	ck_assert_ptr_nonnull(strstr(m.parts[2],
	    "Final-Recipient: rfc822; a@b.example??Injected: yes\n"));
	ck_assert_ptr_nonnull(strstr(m.parts[2],
	    "Final-Recipient: rfc822; ??@b.example\n"));
	ck_assert_ptr_nonnull(strstr(m.parts[2], "Original-Envelope-Id: "
	    "env?id\n"));
	ck_assert_ptr_nonnull(strstr(m.parts[2], "Diagnostic-Code: x-unix; "
	    "xxxx"));
	ck_assert_ptr_nonnull(strstr(m.parts[2], "Diagnostic-Code: smtp; "
	    "450 yy"));
	/* The spaced text is folded onto continuation lines. */
	ck_assert_ptr_nonnull(strstr(m.parts[2], "yyyyyy\n yyyyyy"));
	for (i = 0; i < strlen(m.parts[2]); i++)
		ck_assert_uint_lt((unsigned char)m.parts[2][i], 0x80);
	mime_free(&m);
	buf_deinit(&out);
	free(longword);
	free(spaced);
}
END_TEST

START_TEST(test_overflow)
{
	struct dsn_report r;
	struct buf out;
	const char *err = NULL;

	report_init(&r);
	buf_init(&out, 600);
	buf_adds(&out, "keep");
	ck_assert_int_eq(dsn_report_compose(&r, &out, &err), -1);
	ck_assert_ptr_nonnull(err);
	ck_assert_str_eq(buf_cstr(&out), "keep");
	buf_deinit(&out);
}
END_TEST

START_TEST(test_no_content)
{
	struct dsn_report r;
	struct buf out;
	struct mime m;
	const char *err;

	report_init(&r);
	r.content = NULL;
	r.content_len = 0;
	buf_init(&out, 0);
	ck_assert_int_eq(dsn_report_compose(&r, &out, &err), 0);
	mime_split(buf_cstr(&out), &m);
	ck_assert_uint_eq(m.nparts, 3);
	mime_free(&m);
	buf_deinit(&out);
}
END_TEST

/* Python's email package must see the same structure. */
START_TEST(test_python_parse)
{
	static const char check[] =
	    "import email,sys\n"
	    "m=email.message_from_binary_file(open(sys.argv[1],'rb'))\n"
	    "assert m.get_content_type()=='multipart/report'\n"
	    "assert m.get_param('report-type')=='delivery-status'\n"
	    "p=m.get_payload()\n"
	    "assert [x.get_content_type() for x in p]==['text/plain',"
	    "'message/delivery-status','message/rfc822'],p\n"
	    "ds=p[1].get_payload()\n"
	    "assert ds[0]['Reporting-MTA']=='dns; mail.example.org'\n"
	    "assert len(ds)==3,len(ds)\n"
	    "assert ds[1]['Final-Recipient']=='rfc822; a@example.net'\n"
	    "assert ds[2]['Status']=='5.2.2'\n"
	    "assert p[2].get_payload()[0]['Subject']=='test'\n";
	struct dsn_report r;
	struct buf out;
	const char *err;
	char path[] = "/tmp/test_dsn_report.XXXXXX", *cmd;
	int fd, rc;
	FILE *f;

	if (access("/usr/bin/python3", X_OK) != 0)
		return;
	report_init(&r);
	buf_init(&out, 0);
	ck_assert_int_eq(dsn_report_compose(&r, &out, &err), 0);
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
	ck_assert_uint_eq(fwrite(out.data, 1, out.len, f), out.len);
	fclose(f);
	ck_assert_int_ne(asprintf(&cmd, "/usr/bin/python3 -c \"$TERN_PY\" "
	    "%s", path), -1);
	setenv("TERN_PY", check, 1);
	rc = system(cmd);
	unlink(path);
	free(cmd);
	buf_deinit(&out);
	ck_assert_int_eq(rc, 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dsn_report");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_failure);
	tcase_add_loop_test(tc, test_headers_only, 0, 3);
	tcase_add_test(tc, test_delay_success);
	tcase_add_test(tc, test_boundary_collision);
	tcase_add_test(tc, test_hostile_text);
	tcase_add_test(tc, test_overflow);
	tcase_add_test(tc, test_no_content);
	tcase_add_test(tc, test_python_parse);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
