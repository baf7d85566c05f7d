/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for cleanup.c against a temporary queue directory: added
 * headers (and none added twice), sendmail -t extraction with Bcc
 * removal and deduplication, qualification, every limit, CRLF split at
 * every point, messages without a header or a final line end, and hostile
 * headers (NUL, a 1 MB line, no colon, 8-bit).  Every accepted message is
 * read back with qfile_open; every refused one leaves incoming/ empty.
 */
#include "config.h"

#include <dirent.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "cleanup.h"
#include "mail_conf.h"
#include "qfile.h"

static char topdir[] = "/tmp/test_cleanup.XXXXXX";
static char *oldcwd;
static char logged[1024];

static void
log_hook(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	if (strstr(msg, "message-id=") != NULL)
		str_copy(logged, msg, sizeof(logged));
}

/* Loads main.cf plus "a=b" settings separated by "|". */
static void
load(const char *settings)
{
	struct strv ov;
	struct passwd *pw = getpwuid(geteuid());
	const char *err;

	strv_init(&ov);
	strv_push(&ov, "myhostname=mail.example.org");
	strv_push(&ov, "myorigin=example.org");
	strv_push_owned(&ov, xasprintf("mail_owner=%s", pw->pw_name));
	if (settings != NULL)
		strv_split(&ov, settings, "|");
	ck_assert_int_eq(mail_conf_try_load(topdir, &ov, false, &err), 0);
	strv_deinit(&ov);
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
	load(NULL);
	log_set_hook(log_hook, NULL);
	logged[0] = '\0';
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
	DIR *d = opendir(QFILE_INCOMING);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *p = xasprintf("%s/%s", QFILE_INCOMING, e->d_name);

		(void)unlink(p);
		free(p);
	}
	if (d != NULL)
		closedir(d);
	(void)rmdir(QFILE_INCOMING);
	(void)unlink("main.cf");
	ck_assert_int_eq(chdir(oldcwd), 0);
	free(oldcwd);
	(void)rmdir(topdir);
	memcpy(topdir + strlen(topdir) - 6, "XXXXXX", 6);
	log_set_hook(NULL, NULL);
	mail_conf_unload();
}

static const struct cleanup_origin local_origin = {
	.protocol = "local", .uid = 1000, .fullname = "Joe Q. Public",
};

static const struct cleanup_origin smtp_origin = {
	.protocol = "ESMTP", .client_name = "client.example.net",
	.client_addr = "192.0.2.1", .helo = "helo.example.net",
	.sasl_user = "secret-user", .uid = -1,
	.tls_info = "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)",
};

/* One submission's outcome, and the queue file when accepted. */
struct result {
	enum cleanup_status status;
	const char *reason;
	char qid[QID_SIZE];
	struct qfile *qf;
	struct buf content;
};

/*
 * Submits data in chunks of chunk bytes (0: one write) with the sender
 * and the "," separated recipients.
 */
static void
submit(unsigned flags, const struct cleanup_origin *origin,
    const char *sender, const char *rcpts, const void *data, size_t len,
    size_t chunk, struct result *res)
{
	struct cleanup *c;
	struct strv rv;
	const char *err;
	size_t i, k, before = count_incoming();

	memset(res, 0, sizeof(*res));
	buf_init(&res->content, 0);
	ck_assert_int_eq(cleanup_open(flags | CLEANUP_F_NO_WAKEUP, origin, &c,
	    &err), 0);
	cleanup_sender(c, sender);
	strv_init(&rv);
	if (rcpts != NULL)
		strv_split(&rv, rcpts, ",");
	for (i = 0; i < rv.n; i++)
		cleanup_rcpt(c, rv.v[i], NULL, NULL);
	strv_deinit(&rv);
	cleanup_attr(c, "envid", "ENV+2B1");
	if (chunk == 0)
		chunk = len > 0 ? len : 1;
	for (i = 0; i < len; i += k) {
		k = len - i < chunk ? len - i : chunk;
		cleanup_write(c, (const char *)data + i, k);
	}
	res->status = cleanup_finish(&c, res->qid, &res->reason);
	ck_assert_ptr_null(c);
	if (res->status != CLEANUP_OK) {
		ck_assert_uint_eq(count_incoming(), before);
		return;
	}
	ck_assert_int_eq(qfile_open(QFILE_INCOMING, res->qid, QFILE_O_RDONLY,
	    &res->qf, &err), 0);
	ck_assert_int_eq(qfile_read_content(res->qf, &res->content, 0, &err),
	    0);
}

static void
result_free(struct result *res)
{
	qfile_free(&res->qf);
	buf_deinit(&res->content);
}

static void
submit_str(unsigned flags, const struct cleanup_origin *origin,
    const char *sender, const char *rcpts, const char *data,
    struct result *res)
{
	submit(flags, origin, sender, rcpts, data, strlen(data), 0, res);
}

/* The content after the Received: field (and its folded lines). */
static const char *
after_received(const struct result *res)
{
	const char *p = buf_cstr(&res->content);

	ck_assert(str_has_prefix(p, "Received: "));
	do {
		p = strchr(p, '\n');
		ck_assert_ptr_nonnull(p);
		p++;
	} while (*p == '\t');
	return p;
}

START_TEST(test_local_added)
{
	struct result r;
	char *want;

	submit_str(CLEANUP_F_LOCAL, &local_origin, "joe", "ann",
	    "Subject: hi\n\nbody\n", &r);
	ck_assert_int_eq(r.status, CLEANUP_OK);
	ck_assert_str_eq(r.qf->sender, "joe@example.org");
	ck_assert_uint_eq(r.qf->nrcpts, 1);
	ck_assert_str_eq(r.qf->rcpts[0].addr, "ann@example.org");
	ck_assert_str_eq(qfile_attr(r.qf, "protocol"), "local");
	ck_assert_str_eq(qfile_attr(r.qf, "origin_uid"), "1000");
	ck_assert_str_eq(qfile_attr(r.qf, "envid"), "ENV+2B1");
	want = xasprintf("Received: by mail.example.org (tern, from userid "
	    "1000)\n\tid %s; ", r.qid);
	ck_assert(str_has_prefix(buf_cstr(&r.content), want));
	free(want);
	ck_assert(str_has_prefix(after_received(&r), "Subject: hi\nDate: "));
	want = xasprintf("\nMessage-ID: <%s@mail.example.org>\n"
	    "From: \"Joe Q. Public\" <joe@example.org>\n\nbody\n", r.qid);
	ck_assert(str_has_suffix_ci(buf_cstr(&r.content), want));
	free(want);
	want = xasprintf("%s: message-id=<%s@mail.example.org>", r.qid, r.qid);
	ck_assert_ptr_nonnull(strstr(logged, want));
	free(want);
	result_free(&r);
}
END_TEST

START_TEST(test_not_duplicated)
{
	static const char msg[] = "from: Someone <s@x.example>\n"
	    "DATE: Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "Message-Id:\n <abc@x.example>\nSubject: s\n\nbody\n";
	struct result r;

	submit_str(CLEANUP_F_LOCAL, &local_origin, "joe", "ann", msg, &r);
	ck_assert_int_eq(r.status, CLEANUP_OK);
	ck_assert_str_eq(after_received(&r), msg);
	ck_assert_ptr_nonnull(strstr(logged, "message-id=<abc@x.example>"));
	result_free(&r);
}
END_TEST

START_TEST(test_extract)
{
	static const char msg[] = "To: ann, Bob <bob@x.example>\n"
	    "Cc: carl@x.example,\n\tann\nBcc: dora\nbcc: eve@x.example\n"
	    "Subject: t\n\nbody\n";
	static const char *const want[] = { "bob@x.example", "ann@example.org",
	    "carl@x.example", "dora@example.org", "eve@x.example" };
	struct result r;
	size_t i;

	submit_str(CLEANUP_F_LOCAL | CLEANUP_F_EXTRACT, &local_origin, "joe",
	    "bob@x.example", msg, &r);
	ck_assert_int_eq(r.status, CLEANUP_OK);
	ck_assert_uint_eq(r.qf->nrcpts, ARRAY_LEN(want));
	for (i = 0; i < ARRAY_LEN(want); i++)
		ck_assert_str_eq(r.qf->rcpts[i].addr, want[i]);
	ck_assert(str_has_prefix(after_received(&r),
	    "To: ann@example.org, Bob <bob@x.example>\n"
	    "Cc: carl@x.example,\n\tann@example.org\nSubject: t\n"));
	ck_assert_ptr_null(strstr(buf_cstr(&r.content), "dora"));
	ck_assert_ptr_null(strstr(buf_cstr(&r.content), "eve@"));
	result_free(&r);
}
END_TEST

START_TEST(test_no_recipients)
{
	struct result r;

	submit_str(CLEANUP_F_LOCAL | CLEANUP_F_EXTRACT, &local_origin, "joe",
	    NULL, "Subject: none\nTo: undisclosed-recipients:;\n\nx\n", &r);
	ck_assert_int_eq(r.status, CLEANUP_PERM);
	ck_assert_str_eq(r.reason, "5.1.3 no recipients specified");
	submit_str(0, &smtp_origin, "s@x.example", NULL, "Subject: x\n\n",
	    &r);
	ck_assert_int_eq(r.status, CLEANUP_PERM);
}
END_TEST

START_TEST(test_smtp_received)
{
	struct result r;
	char *want;

	submit_str(0, &smtp_origin, "s@x.example", "a@y.example",
	    "Subject: s\n\nbody\n", &r);
	ck_assert_int_eq(r.status, CLEANUP_OK);
	want = xasprintf("Received: from helo.example.net (client.example.net "
	    "[192.0.2.1])\n\t(using TLSv1.3 with cipher "
	    "TLS_AES_256_GCM_SHA384)\n\tby mail.example.org (tern) with ESMTP "
	    "id %s\n\tfor <a@y.example>; ", r.qid);
	ck_assert(str_has_prefix(buf_cstr(&r.content), want));
	free(want);
	ck_assert_ptr_null(strstr(buf_cstr(&r.content), "secret-user"));
	ck_assert_ptr_null(strstr(buf_cstr(&r.content), "\nFrom:"));
	ck_assert_str_eq(qfile_attr(r.qf, "client_addr"), "192.0.2.1");
	ck_assert_str_eq(qfile_attr(r.qf, "helo"), "helo.example.net");
	ck_assert_str_eq(qfile_attr(r.qf, "sasl_user"), "secret-user");
	ck_assert_ptr_null(qfile_attr(r.qf, "origin_uid"));
	result_free(&r);

	/* Two recipients: no "for"; a bare one stays bare without F_LOCAL. */
	submit_str(0, &smtp_origin, "", "a@y.example,b", "X: y\n\n", &r);
	ck_assert_int_eq(r.status, CLEANUP_OK);
	ck_assert_str_eq(r.qf->sender, "");
	ck_assert_str_eq(r.qf->rcpts[1].addr, "b");
	ck_assert_ptr_null(strstr(buf_cstr(&r.content), "\tfor <"));
	result_free(&r);

	/* A bounce. */
	submit_str(CLEANUP_F_BOUNCE, NULL, "", "a@y.example",
	    "From: MAILER-DAEMON@mail.example.org\n\nx\n", &r);
	ck_assert_int_eq(r.status, CLEANUP_OK);
	want = xasprintf("Received: by mail.example.org (tern)\n\tid %s; ",
	    r.qid);
	ck_assert(str_has_prefix(buf_cstr(&r.content), want));
	free(want);
	result_free(&r);
}
END_TEST

/* The settings, the message, and the expected reason (NULL: accepted). */
static const struct {
	const char *settings;
	const char *msg;
	const char *reason;
} limit_cases[] = {
	{ "message_size_limit=100", "Subject: x\n\n"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "456789012345678901234567890123456789\n",
	  "5.3.4 message size exceeds fixed limit" },
	{ "message_size_limit=100", "Subject: x\n\nsmall\n", NULL },
	{ "header_size_limit=30", "Subject: 0123456789012345678901\n\nx\n",
	  "5.6.0 header field too long" },
	{ "header_size_limit=30", "Subject: 012345678\n 0123456789\n\nx\n",
	  "5.6.0 header field too long" },
	{ "header_size_limit=30", "Subject: 0123456789\n\nx\n", NULL },
	{ "header_count_limit=3", "A: 1\nB: 2\nC: 3\nD: 4\n\nx\n",
	  "5.6.0 too many header fields" },
	{ "header_count_limit=3", "A: 1\nB: 2\nC: 3\n\nx\n", NULL },
	{ "hopcount_limit=2", "Received: a\nReceived: b\n\nx\n",
	  "5.4.6 too many hops" },
	{ "hopcount_limit=2", "Received: a\n\nx\nReceived: body\n", NULL },
};

START_TEST(test_limits)
{
	struct result r;

	load(limit_cases[_i].settings);
	submit_str(0, &smtp_origin, "s@x.example", "a@y.example",
	    limit_cases[_i].msg, &r);
	if (limit_cases[_i].reason == NULL) {
		ck_assert_int_eq(r.status, CLEANUP_OK);
		result_free(&r);
	} else {
		ck_assert_int_eq(r.status, CLEANUP_PERM);
		ck_assert_str_eq(r.reason, limit_cases[_i].reason);
	}
}
END_TEST

/* Every chunking gives the same queue file content. */
START_TEST(test_crlf_chunks)
{
	static const char msg[] = "Subject: a\r\nX: b\r\n\tc\r\n\r\n"
	    "body\r\nbare\rcr\r\nline2\r\r\n\r\nend\r";
	static const char want[] = "Subject: a\nX: b\n\tc\n\nbody\n"
	    "bare\rcr\nline2\r\n\nend\r\n";
	struct result r;
	size_t chunk;

	for (chunk = 1; chunk <= sizeof(msg); chunk++) {
		submit(0, &smtp_origin, "s@x.example", "a@y.example", msg,
		    strlen(msg), chunk, &r);
		ck_assert_int_eq(r.status, CLEANUP_OK);
		ck_assert(str_has_prefix(after_received(&r), "Subject: a\n"));
		ck_assert_ptr_nonnull(strstr(buf_cstr(&r.content),
		    "\nX: b\n\tc\nDate: "));
		ck_assert(str_has_suffix_ci(buf_cstr(&r.content),
		    want + strlen("Subject: a\nX: b\n\tc\n")));
		result_free(&r);
	}
}
END_TEST

/* Messages without a header, a separator, or a final line end. */
static const struct {
	const char *msg;
	const char *tail;	/* the content after the added fields */
} shape_cases[] = {
	{ "just body text\nmore\n", "\n\njust body text\nmore\n" },
	{ "Subject hi\nTo: x@y.example\n\nbody\n",
	  "\n\nSubject hi\nTo: x@y.example\n\nbody\n" },
	{ "\nbody after empty header\n", "\n\nbody after empty header\n" },
	{ " folded first\n", "\n\n folded first\n" },
	{ "Subject: no end", "\nSubject: no end\n" },
	{ "Subject: only header\n", "\nSubject: only header\n" },
	{ "", "" },
	{ "Subject: x\n\nno final newline", "\n\nno final newline\n" },
	{ "Subject: \xe9t\xe9 latin-1\n\n\xff\n",
	  "\nSubject: \xe9t\xe9 latin-1\n" },
	{ "Subject: x\n\nNUL \0 in body\n", "\n\nNUL " },
};

START_TEST(test_shapes)
{
	const char *msg = shape_cases[_i].msg;
	size_t len = strlen(msg);
	struct result r;

	if (_i == ARRAY_LEN(shape_cases) - 1)
		len = strlen(msg) + 1 + strlen(msg + strlen(msg) + 1);
	submit(0, &smtp_origin, "s@x.example", "a@y.example", msg, len, 7,
	    &r);
	ck_assert_int_eq(r.status, CLEANUP_OK);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.content),
	    shape_cases[_i].tail));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.content), "\nMessage-ID: "));
	ck_assert_uint_eq(r.content.len, r.qf->content_size);
	ck_assert_int_eq(r.content.data[r.content.len - 1], '\n');
	result_free(&r);
}
END_TEST

START_TEST(test_hostile)
{
	struct result r;
	size_t n = 1024 * 1024 + 64;
	char *big = xmalloc(n);

	/* NUL inside a header field. */
	submit(0, &smtp_origin, "s@x.example", "a@y.example",
	    "Subject: a\0b\n\nx\n", 16, 0, &r);
	ck_assert_int_eq(r.status, CLEANUP_PERM);
	ck_assert_str_eq(r.reason, "5.6.0 NUL character in message header");

	/* A 1 MB header line, in chunks and at once. */
	memset(big, 'a', n);
	memcpy(big, "Subject: ", 9);
	memcpy(big + n - 4, "\n\nx\n", 4);
	submit(0, &smtp_origin, "s@x.example", "a@y.example", big, n, 4096,
	    &r);
	ck_assert_int_eq(r.status, CLEANUP_PERM);
	ck_assert_str_eq(r.reason, "5.6.0 header field too long");
	submit(0, &smtp_origin, "s@x.example", "a@y.example", big, n, 0, &r);
	ck_assert_int_eq(r.status, CLEANUP_PERM);

	/* A 1 MB line that is no header field is body. */
	memset(big, 'b', n);
	memcpy(big + n - 1, "\n", 1);
	submit(0, &smtp_origin, "s@x.example", "a@y.example", big, n, 4096,
	    &r);
	ck_assert_int_eq(r.status, CLEANUP_OK);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.content), "\n\nbbbb"));
	result_free(&r);
	free(big);

	/* Envelope values a queue file cannot hold. */
	submit_str(0, &smtp_origin, "s@x\nS evil", "a@y.example", "X: y\n",
	    &r);
	ck_assert_int_eq(r.status, CLEANUP_PERM);
	ck_assert_str_eq(r.reason, "5.1.7 bad sender address syntax");
	submit_str(0, &smtp_origin, "s@x.example", "a@y\r.example", "X: y\n",
	    &r);
	ck_assert_int_eq(r.status, CLEANUP_PERM);

	/* A header list that does not parse is left alone under -t. */
	submit_str(CLEANUP_F_LOCAL | CLEANUP_F_EXTRACT, &local_origin, "joe",
	    "ann", "To: <<<\nCc: \xff\n\nx\n", &r);
	ck_assert_int_eq(r.status, CLEANUP_OK);
	ck_assert_uint_eq(r.qf->nrcpts, 1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.content), "\nTo: <<<\n"));
	result_free(&r);
}
END_TEST

START_TEST(test_abort)
{
	struct cleanup *c;
	const char *err;

	ck_assert_int_eq(cleanup_open(0, &smtp_origin, &c, &err), 0);
	ck_assert(strlen(cleanup_qid(c)) >= QID_MIN_LEN);
	cleanup_rcpt(c, "a@y.example", "SUCCESS,FAILURE", "rfc822;a@y.example");
	cleanup_write(c, "Subject: x\n\nbody\n", 17);
	cleanup_abort(&c);
	ck_assert_ptr_null(c);
	cleanup_abort(&c);
	ck_assert_uint_eq(count_incoming(), 0);
}
END_TEST

START_TEST(test_wakeup_without_qmgr)
{
	struct cleanup *c;
	const char *err, *reason;
	char qid[QID_SIZE];

	ck_assert_int_eq(cleanup_open(0, &smtp_origin, &c, &err), 0);
	cleanup_rcpt(c, "a@y.example", "SUCCESS,FAILURE", "rfc822;a@y.example");
	cleanup_write(c, "Subject: x\n\nbody\n", 17);
	ck_assert_int_eq(cleanup_finish(&c, qid, &reason), CLEANUP_OK);
	ck_assert_uint_eq(count_incoming(), 1);
}
END_TEST

/* A write error (here EFBIG) is a temporary failure and leaves no file. */
START_TEST(test_write_error)
{
	struct rlimit rl = { 8192, 8192 };
	struct result r;
	char *big = xmalloc(65536);

	memset(big, 'x', 65536);
	memcpy(big, "Subject: x\n\n", 13);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	submit(0, &smtp_origin, "s@x.example", "a@y.example", big, 65536, 0,
	    &r);
	ck_assert_int_eq(r.status, CLEANUP_TEMP);
	ck_assert(str_has_prefix(r.reason, "4.3.0 queue file write error: "));
	free(big);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("cleanup");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_local_added);
	tcase_add_test(tc, test_not_duplicated);
	tcase_add_test(tc, test_extract);
	tcase_add_test(tc, test_no_recipients);
	tcase_add_test(tc, test_smtp_received);
	tcase_add_loop_test(tc, test_limits, 0, ARRAY_LEN(limit_cases));
	tcase_add_test(tc, test_crlf_chunks);
	tcase_add_loop_test(tc, test_shapes, 0, ARRAY_LEN(shape_cases));
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_wakeup_without_qmgr);
	tcase_add_test(tc, test_write_error);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
