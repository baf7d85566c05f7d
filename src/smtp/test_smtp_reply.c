/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the SMTP reply parser: single and multi-line replies,
 * enhanced status codes and their class, EHLO keywords, byte-by-byte
 * feeding, and hostile replies (bad codes, a continuation with another
 * code, NUL, control characters, bare CR, overlong lines, too many
 * lines, an endless drip of continuation lines).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "test_main.h"
#include "xalloc.h"

#include "smtp_reply.h"

/* Feeds all of s at once; returns the feed result. */
static int
feed_all(struct smtp_reply *r, const char *s, size_t len, size_t *used_r,
    const char **err_r)
{
	return smtp_reply_feed(r, s, len, used_r, err_r);
}

static const struct {
	const char	*in;
	int		 code;
	const char	*dsn;
	const char	*text;
	size_t		 nlines;
	size_t		 used;		/* 0: all */
} good[] = {
	{ "220 mx.example ESMTP\r\n", 220, "", "220 mx.example ESMTP", 1, 0 },
	{ "250 2.1.0 Ok\r\n", 250, "2.1.0", "250 2.1.0 Ok", 1, 0 },
	{ "550 5.1.1 <u@example>: no such user\r\n", 550, "5.1.1",
	  "550 5.1.1 <u@example>: no such user", 1, 0 },
	{ "250\r\n", 250, "", "250", 1, 0 },
	{ "250 \r\n", 250, "", "250 ", 1, 0 },
	{ "250 Ok\n", 250, "", "250 Ok", 1, 0 },
	{ "550-5.1.1 first\r\n550-5.1.1 second\r\n550 5.1.1 third\r\n",
	  550, "5.1.1", "550-5.1.1 first 550-5.1.1 second 550 5.1.1 third",
	  3, 0 },
	{ "250-\r\n250 x\r\n", 250, "", "250- 250 x", 2, 0 },
	/* Bytes after the reply are left for the next one. */
	{ "250 Ok\r\n354 go\r\n", 250, "", "250 Ok", 1, 8 },
	/* Not status codes: 4 digits, class 3, missing part, no space. */
	{ "550 5.1.1234 x\r\n", 550, "", "550 5.1.1234 x", 1, 0 },
	{ "550 3.1.1 x\r\n", 550, "", "550 3.1.1 x", 1, 0 },
	{ "550 5.1 x\r\n", 550, "", "550 5.1 x", 1, 0 },
	{ "550 5.1.1x\r\n", 550, "", "550 5.1.1x", 1, 0 },
	{ "550 5..1 x\r\n", 550, "", "550 5..1 x", 1, 0 },
	{ "451 4.999.999\r\n", 451, "4.999.999", "451 4.999.999", 1, 0 },
	/* 8-bit and tab text is kept ASCII in the joined text. */
	{ "250 caf\xc3\xa9\tok\r\n", 250, "", "250 caf?? ok", 1, 0 },
};

START_TEST(test_good)
{
	struct smtp_reply r;
	const char *err = NULL;
	size_t used, len = strlen(good[_i].in);

	smtp_reply_init(&r);
	ck_assert_int_eq(feed_all(&r, good[_i].in, len, &used, &err), 1);
	ck_assert_int_eq(r.code, good[_i].code);
	ck_assert_str_eq(r.dsn, good[_i].dsn);
	ck_assert_str_eq(buf_cstr(&r.text), good[_i].text);
	ck_assert_uint_eq(r.nlines, good[_i].nlines);
	ck_assert_uint_eq(used, good[_i].used != 0 ? good[_i].used : len);
	smtp_reply_deinit(&r);
}
END_TEST

/* The same replies fed one byte at a time give the same result. */
START_TEST(test_good_drip)
{
	struct smtp_reply r;
	const char *err = NULL;
	size_t used, i, len = strlen(good[_i].in);
	size_t want = good[_i].used != 0 ? good[_i].used : len;
	int rc = 0;

	smtp_reply_init(&r);
	for (i = 0; i < len && rc == 0; i++) {
		rc = smtp_reply_feed(&r, good[_i].in + i, 1, &used, &err);
		ck_assert_int_ne(rc, -1);
		ck_assert_uint_eq(used, 1);
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_uint_eq(i, want);
	ck_assert_int_eq(r.code, good[_i].code);
	ck_assert_str_eq(buf_cstr(&r.text), good[_i].text);
	smtp_reply_clear(&r);
	ck_assert_int_eq(r.code, 0);
	ck_assert_uint_eq(r.nlines, 0);
	smtp_reply_deinit(&r);
}
END_TEST

static const struct {
	const char	*in;
	size_t		 len;		/* 0: strlen */
	const char	*err;
} bad[] = {
	{ "ok\r\n", 0, "malformed reply code" },
	{ "25\r\n", 0, "malformed reply code" },
	{ "\r\n", 0, "malformed reply code" },
	{ "199 x\r\n", 0, "malformed reply code" },
	{ "600 x\r\n", 0, "malformed reply code" },
	{ "260 x\r\n", 0, "malformed reply code" },
	{ "2a0 x\r\n", 0, "malformed reply code" },
	{ "-250 x\r\n", 0, "malformed reply code" },
	{ " 250 x\r\n", 0, "malformed reply code" },
	{ "250x\r\n", 0, "malformed reply line" },
	{ "2500 x\r\n", 0, "malformed reply line" },
	{ "250_x\r\n", 0, "malformed reply line" },
	{ "250-a\r\n251 b\r\n", 0, "reply continuation with another code" },
	{ "250-a\r\n550 b\r\n", 0, "reply continuation with another code" },
	{ "250-a\r\nxyz\r\n", 0, "malformed reply code" },
	{ "250 a\0b\r\n", 9, "NUL in reply" },
	{ "\0", 1, "NUL in reply" },
	{ "250 a\rb\r\n", 0, "control character in reply" },
	{ "250 a\r\r\n", 0, "control character in reply" },
	{ "250 a\x1b[31m\r\n", 0, "control character in reply" },
	{ "250 a\x7f\r\n", 0, "control character in reply" },
	{ "250 \x01\r\n", 0, "control character in reply" },
};

START_TEST(test_bad)
{
	struct smtp_reply r;
	const char *err = NULL;
	size_t used, len = bad[_i].len != 0 ? bad[_i].len : strlen(bad[_i].in);

	smtp_reply_init(&r);
	ck_assert_int_eq(smtp_reply_feed(&r, bad[_i].in, len, &used, &err),
	    -1);
	ck_assert_str_eq(err, bad[_i].err);
	ck_assert(!r.done);
	smtp_reply_deinit(&r);
}
END_TEST

START_TEST(test_long_line)
{
	struct smtp_reply r;
	const char *err = NULL;
	char *s = xmalloc(SMTP_REPLY_LINE_MAX + 8);
	size_t used;

	/* Exactly the maximum is accepted... */
	memset(s, 'a', SMTP_REPLY_LINE_MAX);
	memcpy(s, "250 ", 4);
	memcpy(s + SMTP_REPLY_LINE_MAX, "\r\n", 2);
	smtp_reply_init(&r);
	ck_assert_int_eq(smtp_reply_feed(&r, s, SMTP_REPLY_LINE_MAX + 2,
	    &used, &err), 1);
	smtp_reply_deinit(&r);
	/* ...one more fails, even without a line end yet. */
	memset(s, 'a', SMTP_REPLY_LINE_MAX + 2);
	memcpy(s, "250 ", 4);
	smtp_reply_init(&r);
	ck_assert_int_eq(smtp_reply_feed(&r, s, SMTP_REPLY_LINE_MAX + 2,
	    &used, &err), -1);
	ck_assert_str_eq(err, "reply line too long");
	smtp_reply_deinit(&r);
	/* One byte over the maximum before CR LF fails too. */
	memset(s, 'a', SMTP_REPLY_LINE_MAX);
	memcpy(s, "250 ", 4);
	memcpy(s + SMTP_REPLY_LINE_MAX, "x\r\n", 3);
	smtp_reply_init(&r);
	ck_assert_int_eq(smtp_reply_feed(&r, s, SMTP_REPLY_LINE_MAX + 3,
	    &used, &err), -1);
	ck_assert_str_eq(err, "reply line too long");
	smtp_reply_deinit(&r);
	free(s);
}
END_TEST

START_TEST(test_too_many_lines)
{
	struct smtp_reply r;
	const char *err = NULL;
	size_t used, i;
	int rc = 0;

	/* A drip of continuation lines, one byte at a time, ends. */
	smtp_reply_init(&r);
	for (i = 0; i < 10 * SMTP_REPLY_LINES_MAX && rc == 0; i++) {
		const char *l = "250-x\r\n";

		for (size_t k = 0; l[k] != '\0' && rc == 0; k++)
			rc = smtp_reply_feed(&r, l + k, 1, &used, &err);
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err, "too many reply lines");
	ck_assert_uint_eq(i, SMTP_REPLY_LINES_MAX + 1);
	smtp_reply_deinit(&r);
}
END_TEST

START_TEST(test_too_long_total)
{
	struct smtp_reply r;
	const char *err = NULL;
	struct buf b;
	size_t used;
	int rc;

	/* 20 lines of 1,000 bytes: within the line limits, over the total. */
	buf_init(&b, 0);
	for (int i = 0; i < 20; i++) {
		buf_adds(&b, "250-");
		for (int k = 0; k < 996; k++)
			buf_addc(&b, 'x');
		buf_adds(&b, "\r\n");
	}
	buf_adds(&b, "250 end\r\n");
	smtp_reply_init(&r);
	rc = smtp_reply_feed(&r, b.data, b.len, &used, &err);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err, "reply too long");
	smtp_reply_deinit(&r);
	buf_deinit(&b);
}
END_TEST

START_TEST(test_partial)
{
	struct smtp_reply r;
	const char *err = NULL;
	size_t used;

	smtp_reply_init(&r);
	ck_assert_int_eq(smtp_reply_feed(&r, "250-a\r\n250 b", 12, &used,
	    &err), 0);
	ck_assert_uint_eq(used, 12);
	ck_assert(!r.done);
	ck_assert_int_eq(smtp_reply_feed(&r, "\r\n", 2, &used, &err), 1);
	ck_assert_str_eq(buf_cstr(&r.text), "250-a 250 b");
	/* Complete: further bytes are not consumed until cleared. */
	ck_assert_int_eq(smtp_reply_feed(&r, "354 x\r\n", 7, &used, &err), 1);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(r.code, 250);
	smtp_reply_deinit(&r);
}
END_TEST

static const struct {
	const char	*in;
	const char	*dsn;
} dsns[] = {
	{ "250 2.0.0 Ok\r\n", "2.0.0" },
	{ "250 Ok\r\n", "2.0.0" },
	{ "550 5.1.1 x\r\n", "5.1.1" },
	{ "550 4.2.2 x\r\n", "5.2.2" },
	{ "450 5.7.1 x\r\n", "4.7.1" },
	{ "450 x\r\n", "4.0.0" },
	{ "250 5.1.1 x\r\n", "2.0.0" },
	{ "550 2.1.5 x\r\n", "5.0.0" },
	{ "421 4.4.2 bye\r\n", "4.4.2" },
	{ "554 5.123.456 x\r\n", "5.123.456" },
};

START_TEST(test_dsn)
{
	struct smtp_reply r;
	const char *err = NULL;
	char dsn[16];
	size_t used;

	smtp_reply_init(&r);
	ck_assert_int_eq(smtp_reply_feed(&r, dsns[_i].in, strlen(dsns[_i].in),
	    &used, &err), 1);
	smtp_reply_dsn(&r, dsn);
	ck_assert_str_eq(dsn, dsns[_i].dsn);
	smtp_reply_deinit(&r);
}
END_TEST

static const struct {
	const char	*s;
	size_t		 len;
} statuses[] = {
	{ "2.0.0", 5 }, { "5.1.1 x", 5 }, { "4.123.456", 9 },
	{ "1.0.0", 0 }, { "3.0.0", 0 }, { "5.1234.1", 0 }, { "5.1.1234", 0 },
	{ "5.1.", 0 }, { "5..1", 0 }, { ".1.1", 0 }, { "5.1.1.", 0 },
	{ "5.a.1", 0 }, { "5.1.1-", 0 }, { "", 0 }, { "5", 0 },
	{ "55.1.1", 0 },
};

START_TEST(test_status_len)
{
	ck_assert_uint_eq(smtp_reply_status_len(statuses[_i].s),
	    statuses[_i].len);
}
END_TEST

static void
ehlo_of(const char *in, struct smtp_ehlo *e)
{
	struct smtp_reply r;
	const char *err = NULL;
	size_t used;

	smtp_reply_init(&r);
	ck_assert_int_eq(smtp_reply_feed(&r, in, strlen(in), &used, &err), 1);
	smtp_ehlo_parse(&r, e);
	smtp_reply_deinit(&r);
}

START_TEST(test_ehlo)
{
	struct smtp_ehlo e;

	ehlo_of("250-mx.example hello\r\n250-PIPELINING\r\n250-SIZE 10240000"
	    "\r\n250-8BITMIME\r\n250-smtputf8\r\n250-DSN\r\n250-CHUNKING\r\n"
	    "250-STARTTLS\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n"
	    "250-REQUIRETLS\r\n250 ENHANCEDSTATUSCODES\r\n", &e);
	ck_assert_uint_eq(e.ext, SMTP_EXT_PIPELINING | SMTP_EXT_SIZE |
	    SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 | SMTP_EXT_DSN |
	    SMTP_EXT_CHUNKING | SMTP_EXT_STARTTLS | SMTP_EXT_AUTH |
	    SMTP_EXT_REQUIRETLS | SMTP_EXT_ENHANCEDSTATUSCODES);
	ck_assert_uint_eq(e.size, 10240000);
	ck_assert_uint_eq(e.auth, SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN);

	/* The greeting line's words are not keywords. */
	ehlo_of("250 PIPELINING\r\n", &e);
	ck_assert_uint_eq(e.ext, 0);

	/* Prefixes, suffixes and values that are no keyword. */
	ehlo_of("250-x\r\n250-PIPELININGX\r\n250-XDSN\r\n250-DSNX\r\n"
	    "250-AUTHX PLAIN\r\n250 STARTTLSS\r\n", &e);
	ck_assert_uint_eq(e.ext, 0);
	ck_assert_uint_eq(e.auth, 0);

	/* SIZE without a usable number declares no limit. */
	ehlo_of("250-x\r\n250 SIZE\r\n", &e);
	ck_assert_uint_eq(e.ext, SMTP_EXT_SIZE);
	ck_assert_uint_eq(e.size, 0);
	ehlo_of("250-x\r\n250 SIZE 99999999999999999999999\r\n", &e);
	ck_assert_uint_eq(e.size, 0);
	ehlo_of("250-x\r\n250 SIZE -5\r\n", &e);
	ck_assert_uint_eq(e.size, 0);
	ehlo_of("250-x\r\n250 SIZE +5\r\n", &e);
	ck_assert_uint_eq(e.size, 0);
	ehlo_of("250-x\r\n250 SIZE 12ab\r\n", &e);
	ck_assert_uint_eq(e.size, 0);
	ehlo_of("250-x\r\n250 SIZE 0\r\n", &e);
	ck_assert_uint_eq(e.size, 0);

	/* The old "AUTH=" form and mechanisms in any case. */
	ehlo_of("250-x\r\n250 AUTH=login\r\n", &e);
	ck_assert_uint_eq(e.ext, SMTP_EXT_AUTH);
	ck_assert_uint_eq(e.auth, SMTP_AUTH_LOGIN);
	ehlo_of("250-x\r\n250 AUTH GSSAPI XPLAIN\r\n", &e);
	ck_assert_uint_eq(e.ext, SMTP_EXT_AUTH);
	ck_assert_uint_eq(e.auth, 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("smtp_reply");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_good, 0, ARRAY_LEN(good));
	tcase_add_loop_test(tc, test_good_drip, 0, ARRAY_LEN(good));
	tcase_add_loop_test(tc, test_bad, 0, ARRAY_LEN(bad));
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_too_many_lines);
	tcase_add_test(tc, test_too_long_total);
	tcase_add_test(tc, test_partial);
	tcase_add_loop_test(tc, test_dsn, 0, ARRAY_LEN(dsns));
	tcase_add_loop_test(tc, test_status_len, 0, ARRAY_LEN(statuses));
	tcase_add_test(tc, test_ehlo);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
