/* SPDX-License-Identifier: MIT */
/* Unit tests for cleanup_hdr.c: header lines, limits, rewriting helpers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "str.h"
#include "test_main.h"

#include "cleanup_hdr.h"

static const struct {
	const char *line;
	size_t len;		/* 0: strlen */
	size_t name_len;
} start_cases[] = {
	{ "Subject: hi", 0, 7 },
	{ "Subject:", 0, 7 },
	{ "Subject : obsolete space", 0, 7 },
	{ "X-A_b.c!~: x", 0, 9 },
	{ "Sub ject: x", 0, 0 },
	{ ": no name", 0, 0 },
	{ "no colon at all", 0, 0 },
	{ "", 0, 0 },
	{ " Subject: folded", 0, 0 },
	{ "\tSubject: folded", 0, 0 },
	{ "Sub\x80ject: 8-bit name", 0, 0 },
	{ "Sub\0ject: NUL in name", 22, 0 },
	{ "Subject\r: CR in name", 0, 0 },
	{ "From sender Mon Jan  1 00:00:00 2024", 0, 0 },
	{ "Subject", 0, 0 },
};

START_TEST(test_field_start)
{
	size_t len = start_cases[_i].len != 0 ? start_cases[_i].len :
	    strlen(start_cases[_i].line);

	ck_assert_uint_eq(cleanup_hdr_field_start(start_cases[_i].line, len),
	    start_cases[_i].name_len);
}
END_TEST

static int
feed(struct cleanup_hdr *h, const char *line)
{
	return cleanup_hdr_line(h, line, strlen(line));
}

START_TEST(test_lines)
{
	struct cleanup_hdr h;
	struct buf out;
	const char *v;
	size_t n;

	cleanup_hdr_init(&h, 1000, 100);
	ck_assert_int_eq(feed(&h, " continuation first"), 0);
	ck_assert_int_eq(feed(&h, "Received: from a"), 1);
	ck_assert_int_eq(feed(&h, "\tby b"), 1);
	ck_assert_int_eq(feed(&h, "received: from c"), 1);
	ck_assert_int_eq(feed(&h, "Subject: \xc3\xa9t\xc3\xa9 8-bit"), 1);
	ck_assert_int_eq(feed(&h, "To: a@b.c"), 1);
	ck_assert_int_eq(feed(&h, "Bcc: x@y.z"), 1);
	ck_assert_int_eq(feed(&h, "body line"), 0);
	ck_assert_uint_eq(h.n, 5);
	ck_assert_uint_eq(h.received, 2);
	ck_assert_int_eq(cleanup_hdr_find(&h, "RECEIVED", 0), 0);
	ck_assert_int_eq(cleanup_hdr_find(&h, "received", 1), 1);
	ck_assert_int_eq(cleanup_hdr_find(&h, "Received", 2), -1);
	ck_assert_int_eq(cleanup_hdr_find(&h, "Receive", 0), -1);
	cleanup_hdr_value(&h, 0, &v, &n);
	ck_assert_uint_eq(n, strlen(" from a\n\tby b"));
	ck_assert(memcmp(v, " from a\n\tby b", n) == 0);
	cleanup_hdr_delete(&h, 4);
	ck_assert_int_eq(cleanup_hdr_find(&h, "Bcc", 0), -1);
	cleanup_hdr_replace(&h, 3, "To: new@b.c\n");
	buf_init(&out, 0);
	cleanup_hdr_output(&h, &out);
	ck_assert_str_eq(buf_cstr(&out), "Received: from a\n\tby b\n"
	    "received: from c\nSubject: \xc3\xa9t\xc3\xa9 8-bit\n"
	    "To: new@b.c\n");
	buf_deinit(&out);
	cleanup_hdr_deinit(&h);
}
END_TEST

START_TEST(test_limits)
{
	struct cleanup_hdr h;
	char *big;
	int i;

	/* Too many fields. */
	cleanup_hdr_init(&h, 1000, 3);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(feed(&h, "X: y"), 1);
	ck_assert_int_eq(feed(&h, "X: y"), -1);
	ck_assert_str_eq(h.error, "5.6.0 too many header fields");
	ck_assert_int_eq(feed(&h, "\tmore"), -1);	/* sticky */
	cleanup_hdr_deinit(&h);

	/* One field too long, by folding. */
	cleanup_hdr_init(&h, 20, 100);
	ck_assert_int_eq(feed(&h, "Subject: 123456789"), 1);
	ck_assert_int_eq(feed(&h, " 12"), -1);
	ck_assert_str_eq(h.error, "5.6.0 header field too long");
	cleanup_hdr_deinit(&h);

	/* One line too long: 1 MB. */
	big = malloc(1024 * 1024 + 1);
	memset(big, 'a', 1024 * 1024);
	memcpy(big, "Subject: ", 9);
	big[1024 * 1024] = '\0';
	cleanup_hdr_init(&h, 102400, 100);
	ck_assert_int_eq(feed(&h, big), -1);
	ck_assert_str_eq(h.error, "5.6.0 header field too long");
	cleanup_hdr_deinit(&h);
	free(big);

	/* NUL inside a value. */
	cleanup_hdr_init(&h, 1000, 100);
	ck_assert_int_eq(cleanup_hdr_line(&h, "Subject: a\0b", 12), -1);
	ck_assert_str_eq(h.error, "5.6.0 NUL character in message header");
	cleanup_hdr_deinit(&h);

	/* Exactly at the limit is fine ("Subject: 12345678" + LF = 18). */
	cleanup_hdr_init(&h, 18, 1);
	ck_assert_int_eq(feed(&h, "Subject: 12345678"), 1);
	cleanup_hdr_deinit(&h);
}
END_TEST

static const struct {
	const char *in;
	int rc;
	const char *out;
} qualify_cases[] = {
	{ " joe", 1, " joe@example.org" },
	{ " a@b.example", 0, NULL },
	{ " Joe Bloggs <joe>", 1, " Joe Bloggs <joe@example.org>" },
	{ " joe (Joe, the man), ann@x.example", 1,
	  " joe@example.org (Joe, the man), ann@x.example" },
	{ " Team: joe, ann@x.example;", 1,
	  " Team: joe@example.org, ann@x.example;" },
	{ " undisclosed-recipients:;", 0, NULL },
	{ " \"Doe, J\" <jd>, \"q u\"", 1,
	  " \"Doe, J\" <jd@example.org>, \"q u\"@example.org" },
	{ " joe,\n\tann", 1, " joe@example.org,\n\tann@example.org" },
	{ " <joe> (c)", 1, " <joe@example.org> (c)" },
	{ " <<<", -1, NULL },
	{ " joe\n", -1, NULL },			/* line break, no fold */
	{ " jo\re", -1, NULL },
	{ " j\x80oe", -1, NULL },		/* not UTF-8 */
	{ "", 0, NULL },
};

START_TEST(test_qualify)
{
	struct buf out;
	int rc;

	buf_init(&out, 0);
	rc = cleanup_hdr_qualify(qualify_cases[_i].in,
	    strlen(qualify_cases[_i].in), "example.org", &out);
	ck_assert_int_eq(rc, qualify_cases[_i].rc);
	if (rc == 1)
		ck_assert_str_eq(buf_cstr(&out), qualify_cases[_i].out);
	buf_deinit(&out);
}
END_TEST

START_TEST(test_addrs)
{
	struct strv list;
	const char *err;
	const char *v = " joe, Ann <ann@x.example>,\n\tG: b@c.example;";

	strv_init(&list);
	ck_assert_int_eq(cleanup_hdr_addrs(v, strlen(v), "example.org", &list,
	    &err), 0);
	ck_assert_uint_eq(list.n, 3);
	ck_assert_str_eq(list.v[0], "joe@example.org");
	ck_assert_str_eq(list.v[1], "ann@x.example");
	ck_assert_str_eq(list.v[2], "b@c.example");
	ck_assert_int_eq(cleanup_hdr_addrs(" <a@b", 5, "x.example", &list,
	    &err), -1);
	ck_assert_uint_eq(list.n, 3);
	strv_deinit(&list);
}
END_TEST

static const struct {
	const char *tz;
	time_t t;
	const char *out;
} date_cases[] = {
	{ "UTC0", 0, "Thu, 1 Jan 1970 00:00:00 +0000 (UTC)" },
	{ "XYZ-2", 1795315460, "Sun, 22 Nov 2026 04:44:20 +0200 (XYZ)" },
	{ "ABC+5:30", 1795315460, "Sat, 21 Nov 2026 21:14:20 -0530 (ABC)" },
	{ "<+0330>-3:30", 1795315460,
	  "Sun, 22 Nov 2026 06:14:20 +0330 (+0330)" },
};

START_TEST(test_date)
{
	char out[CLEANUP_HDR_DATE_SIZE];
	char *old = getenv("TZ") != NULL ? strdup(getenv("TZ")) : NULL;

	setenv("TZ", date_cases[_i].tz, 1);
	tzset();
	cleanup_hdr_date(out, date_cases[_i].t);
	ck_assert_str_eq(out, date_cases[_i].out);
	if (old != NULL)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
}
END_TEST

static const struct {
	const char *in, *out;
} phrase_cases[] = {
	{ "John Doe", "John Doe" },
	{ "Doe, John", "\"Doe, John\"" },
	{ "J. Doe", "\"J. Doe\"" },
	{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
	{ "x\ty\r\nz", "\"xyz\"" },
	{ "\xc3\xa9mile", "\xc3\xa9mile" },
	{ " lead", "\" lead\"" },
};

START_TEST(test_phrase)
{
	struct buf out;

	buf_init(&out, 0);
	cleanup_hdr_phrase(&out, phrase_cases[_i].in);
	ck_assert_str_eq(buf_cstr(&out), phrase_cases[_i].out);
	buf_deinit(&out);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("cleanup_hdr");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_field_start, 0, ARRAY_LEN(start_cases));
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_limits);
	tcase_add_loop_test(tc, test_qualify, 0, ARRAY_LEN(qualify_cases));
	tcase_add_test(tc, test_addrs);
	tcase_add_loop_test(tc, test_date, 0, ARRAY_LEN(date_cases));
	tcase_add_loop_test(tc, test_phrase, 0, ARRAY_LEN(phrase_cases));
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
