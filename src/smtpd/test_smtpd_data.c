/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for smtpd_data.c: every fake end-of-data variant of the
 * SMTP smuggling class in both bare newline modes, the real end at every
 * split point of the input, dot-unstuffing, bytes after the end left for
 * the next command, the empty message, NUL bytes, megabyte lines with
 * the decoder's own memory bounded, and a data stream that never ends.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#include "smtpd_data.h"
#include "test_main.h"

/* Collects the decoded text; counts calls. */
struct sink {
	struct buf	 text;
	size_t		 calls;
	bool		 keep;		/* false: count only */
	unsigned long long seen;
};

static void
sink_out(void *ctx, const char *p, size_t n)
{
	struct sink *s = ctx;

	ck_assert_uint_gt(n, 0);
	s->calls++;
	s->seen += n;
	if (s->keep)
		ck_assert_int_eq(buf_append(&s->text, p, n), 0);
}

static void
sink_init(struct sink *s, bool keep)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->text, 0);
	s->keep = keep;
}

/* Feeds all of in (length n) in one call; returns the bytes consumed. */
static size_t
decode(enum smtpd_bare_newline mode, const char *in, size_t n,
    struct sink *s, struct smtpd_data *d)
{
	sink_init(s, true);
	smtpd_data_init(d, mode, sink_out, s);
	return smtpd_data_feed(d, in, n);
}

#define S(lit)	lit, sizeof(lit) - 1

/*
 * The fake end markers of the smuggling class.  Each sits between "a"
 * and a smuggled second transaction; in NORMALIZE mode it is text (out
 * says what comes out of "a" <variant> "b"), in REJECT mode the decoder
 * stops at the byte offset bare_at (counted from the start of "a").
 */
static const struct {
	const char	*variant;
	const char	*out;		/* "a" variant "b", decoded */
	size_t		 bare_at;	/* bytes consumed in REJECT mode */
} smuggle_cases[] = {
	{ "\n.\n",	"a\n.\nb",	2 },	/* the bare LF after "a" */
	{ "\r.\r",	"a\r.\rb",	3 },	/* CR then "." shows it bare */
	{ "\r\n.\n",	"a\n.\nb",	5 },	/* "." LF */
	{ "\n.\r\n",	"a\n.\nb",	2 },
	{ "\r.\r\n",	"a\r.\nb",	3 },
	{ "\r\n.\r",	"a\n\rb",	6 },	/* "." CR b: CR bare, "." stuffing */
	{ "\n.",	"a\nb",		2 },
	{ "\r\n\n.\r\n", "a\n\n.\nb",	4 },
	{ "\r\n.\n\r\n", "a\n.\n\nb",	5 },
};

/*
 * A whole session after "354": message 1 with the fake marker, then a
 * smuggled transaction, then the real end of message 1.  The decoder must
 * end exactly once, at the last "." CR LF, with the smuggled commands
 * inside message 1's text.
 */
START_TEST(test_smuggle_normalize)
{
	static const char tail[] = "MAIL FROM:<evil@example.org>\r\n"
	    "RCPT TO:<victim@example.com>\r\nDATA\r\n"
	    "From: ceo@example.com\r\n\r\nsmuggled\r\n";
	static const char tail_lf[] = "MAIL FROM:<evil@example.org>\n"
	    "RCPT TO:<victim@example.com>\nDATA\n"
	    "From: ceo@example.com\n\nsmuggled\n";
	const size_t out_len = strlen(smuggle_cases[_i].out);
	const char *v = smuggle_cases[_i].variant;
	struct smtpd_data d;
	struct sink s;
	struct buf in;
	size_t used;

	buf_init(&in, 0);
	buf_adds(&in, "a");
	buf_adds(&in, v);
	buf_adds(&in, "b\r\n");
	buf_adds(&in, tail);
	buf_adds(&in, ".\r\nQUIT\r\n");

	used = decode(SMTPD_BARE_NORMALIZE, in.data, in.len, &s, &d);
	ck_assert_int_eq(d.state, SMTPD_DATA_END);
	/* The only end is the real one: "QUIT\r\n" is left over. */
	ck_assert_uint_eq(used, in.len - strlen("QUIT\r\n"));
	ck_assert_ptr_nonnull(strstr(s.text.data, "MAIL FROM:<evil@"));
	ck_assert_ptr_nonnull(strstr(s.text.data, "\nsmuggled\n"));
	/* Message 1 is "a" <variant as text> "b", then the smuggled lines. */
	ck_assert_uint_eq(s.text.len, out_len + 1 + strlen(tail_lf));
	ck_assert_int_eq(memcmp(s.text.data, smuggle_cases[_i].out,
	    out_len), 0);
	ck_assert_int_eq(s.text.data[out_len], '\n');
	ck_assert_str_eq(s.text.data + out_len + 1, tail_lf);
	ck_assert_uint_eq(d.bytes, s.text.len);

	/* Byte by byte: the same single end and the same text. */
	buf_reset(&s.text);
	smtpd_data_init(&d, SMTPD_BARE_NORMALIZE, sink_out, &s);
	for (used = 0; used < in.len && d.state == SMTPD_DATA_MORE; used++)
		ck_assert_uint_eq(smtpd_data_feed(&d, in.data + used, 1), 1);
	ck_assert_int_eq(d.state, SMTPD_DATA_END);
	ck_assert_uint_eq(used, in.len - strlen("QUIT\r\n"));
	ck_assert_ptr_nonnull(strstr(s.text.data, "MAIL FROM:<evil@"));
	buf_deinit(&in);
	buf_deinit(&s.text);
}
END_TEST

START_TEST(test_smuggle_reject)
{
	const char *v = smuggle_cases[_i].variant;
	struct smtpd_data d;
	struct sink s;
	struct buf in;
	size_t used;

	buf_init(&in, 0);
	buf_adds(&in, "a");
	buf_adds(&in, v);
	buf_adds(&in, "b\r\nMAIL FROM:<evil@example.org>\r\n.\r\n");

	used = decode(SMTPD_BARE_REJECT, in.data, in.len, &s, &d);
	ck_assert_int_eq(d.state, SMTPD_DATA_BARE);
	ck_assert_uint_eq(used, smuggle_cases[_i].bare_at);
	/* Nothing after the bare line end reached the output. */
	ck_assert_ptr_null(strstr(s.text.data == NULL ? "" : s.text.data,
	    "MAIL"));
	/* A stopped decoder takes nothing more. */
	ck_assert_uint_eq(smtpd_data_feed(&d, "\r\n.\r\n", 5), 0);
	ck_assert_int_eq(d.state, SMTPD_DATA_BARE);
	buf_deinit(&in);
	buf_deinit(&s.text);
}
END_TEST

/* Whole inputs and what comes out, in both modes where legal. */
static const struct {
	const char	*in;
	size_t		 in_len;
	const char	*out;
	size_t		 out_len;
	size_t		 used;		/* consumed: the end is here */
	bool		 bare;		/* REJECT mode stops (BARE) */
} whole_cases[] = {
	/* The empty message: "." right after 354. */
	{ S(".\r\n"), S(""), 3, false },
	/* One empty line. */
	{ S("\r\n.\r\n"), S("\n"), 5, false },
	{ S("Subject: x\r\n\r\nbody\r\n.\r\n"),
	    S("Subject: x\n\nbody\n"), 23, false },
	/* Dot-stuffing (RFC 5321 §4.5.2). */
	{ S("..x\r\n.\r\n"), S(".x\n"), 8, false },
	{ S("..\r\n.\r\n"), S(".\n"), 7, false },
	{ S("...\r\n.\r\n"), S("..\n"), 8, false },
	{ S("a\r\n..\r\n..x\r\n.\r\n"), S("a\n.\n.x\n"), 15, false },
	/* A leading "." with more on the line is deleted. */
	{ S(".x\r\n.\r\n"), S("x\n"), 7, false },
	/* "." not at a line start stays. */
	{ S("a.\r\nb.c\r\n.\r\n"), S("a.\nb.c\n"), 12, false },
	/* CR CR LF: the first CR is bare text. */
	{ S("a\r\r\nb\r\n.\r\n"), S("a\r\nb\n"), 10, true },
	/* CR CR LF "." CR LF holds a real CR LF "." CR LF: the end. */
	{ S("a\r\r\n.\r\nb"), S("a\r\n"), 7, true },
	/* A "." line after a bare LF is text; the following real end. */
	{ S("a\n.\r\n.\r\n"), S("a\n.\n"), 8, true },
	/* Stuffing applies after a bare LF too. */
	{ S("a\n..x\r\n.\r\n"), S("a\n.x\n"), 10, true },
	/* NUL bytes are data (cleanup decides about them). */
	{ S("a\0b\r\n\0\r\n.\r\n"), S("a\0b\n\0\n"), 11, false },
	/* Bytes after the end belong to the next command. */
	{ S("x\r\n.\r\nQUIT\r\n"), S("x\n"), 6, false },
	{ S(".\r\nMAIL FROM:<a@b>\r\n"), S(""), 3, false },
	/* "." CR LF inside a line is not an end. */
	{ S("a.\r\n.b\r\n.\r\n"), S("a.\nb\n"), 11, false },
	/* High bytes pass through. */
	{ S("\xc3\xa9t\xc3\xa9\r\n.\r\n"), S("\xc3\xa9t\xc3\xa9\n"), 10,
	    false },
};

START_TEST(test_whole)
{
	struct smtpd_data d;
	struct sink s;
	size_t used;

	used = decode(SMTPD_BARE_NORMALIZE, whole_cases[_i].in,
	    whole_cases[_i].in_len, &s, &d);
	ck_assert_int_eq(d.state, SMTPD_DATA_END);
	ck_assert_uint_eq(used, whole_cases[_i].used);
	ck_assert_uint_eq(s.text.len, whole_cases[_i].out_len);
	if (s.text.len > 0)
		ck_assert_int_eq(memcmp(s.text.data, whole_cases[_i].out,
		    s.text.len), 0);
	ck_assert_uint_eq(d.bytes, whole_cases[_i].out_len);
	/* After the end, nothing more is consumed. */
	ck_assert_uint_eq(smtpd_data_feed(&d, "x\r\n.\r\n", 6), 0);
	ck_assert_uint_eq(s.text.len, whole_cases[_i].out_len);
	buf_deinit(&s.text);

	used = decode(SMTPD_BARE_REJECT, whole_cases[_i].in,
	    whole_cases[_i].in_len, &s, &d);
	if (whole_cases[_i].bare) {
		ck_assert_int_eq(d.state, SMTPD_DATA_BARE);
		ck_assert_uint_lt(used, whole_cases[_i].used);
	} else {
		ck_assert_int_eq(d.state, SMTPD_DATA_END);
		ck_assert_uint_eq(used, whole_cases[_i].used);
		ck_assert_uint_eq(s.text.len, whole_cases[_i].out_len);
		if (s.text.len > 0)
			ck_assert_int_eq(memcmp(s.text.data,
			    whole_cases[_i].out, s.text.len), 0);
	}
	buf_deinit(&s.text);
}
END_TEST

/*
 * A sample with every special case, fed in two pieces at every split
 * point and byte by byte: the output, the end and the leftover bytes
 * must not depend on how the input was cut.
 */
static const char split_sample[] =
    "From: a@example.org\r\n\r\n..stuffed\r\n..\r\n.x\r\n"
    "bare\rcr\r\r\nlf\n.\nlf2\n.\r\ntext.\r\n\0nul\r\n\r\n.\r\nQUIT\r\n";
static const char split_out[] =
    "From: a@example.org\n\n.stuffed\n.\nx\n"
    "bare\rcr\r\nlf\n.\nlf2\n.\ntext.\n\0nul\n\n";
#define SPLIT_USED	(sizeof(split_sample) - 1 - strlen("QUIT\r\n"))

static void
check_split_result(struct smtpd_data *d, struct sink *s, size_t used)
{
	ck_assert_int_eq(d->state, SMTPD_DATA_END);
	ck_assert_uint_eq(used, SPLIT_USED);
	ck_assert_uint_eq(s->text.len, sizeof(split_out) - 1);
	ck_assert_int_eq(memcmp(s->text.data, split_out, s->text.len), 0);
	ck_assert_uint_eq(d->bytes, sizeof(split_out) - 1);
}

START_TEST(test_split_two)
{
	const size_t n = sizeof(split_sample) - 1;
	struct smtpd_data d;
	struct sink s;
	size_t used;

	for (size_t k = 0; k <= n; k++) {
		used = decode(SMTPD_BARE_NORMALIZE, split_sample, k, &s, &d);
		ck_assert_uint_eq(used, k < SPLIT_USED ? k : SPLIT_USED);
		if (k < SPLIT_USED) {
			ck_assert_int_eq(d.state, SMTPD_DATA_MORE);
			used += smtpd_data_feed(&d, split_sample + k, n - k);
		}
		check_split_result(&d, &s, used);
		buf_deinit(&s.text);
	}
}
END_TEST

START_TEST(test_split_bytes)
{
	const size_t n = sizeof(split_sample) - 1;
	struct smtpd_data d;
	struct sink s;
	size_t used = 0, got;

	sink_init(&s, true);
	smtpd_data_init(&d, SMTPD_BARE_NORMALIZE, sink_out, &s);
	for (size_t k = 0; k < n; k++) {
		got = smtpd_data_feed(&d, split_sample + k, 1);
		used += got;
		if (got == 0)
			break;
	}
	check_split_result(&d, &s, used);
	buf_deinit(&s.text);
}
END_TEST

/* The real end, alone, at every split of "x" CR LF "." CR LF "y". */
START_TEST(test_end_splits)
{
	static const char in[] = "x\r\n.\r\ny";
	struct smtpd_data d;
	struct sink s;
	size_t used;

	for (size_t a = 0; a <= 7; a++)
		for (size_t b = a; b <= 7; b++) {
			sink_init(&s, true);
			smtpd_data_init(&d, SMTPD_BARE_REJECT, sink_out, &s);
			used = smtpd_data_feed(&d, in, a);
			used += smtpd_data_feed(&d, in + a, b - a);
			used += smtpd_data_feed(&d, in + b, 7 - b);
			ck_assert_int_eq(d.state, SMTPD_DATA_END);
			ck_assert_uint_eq(used, 6);
			ck_assert_str_eq(s.text.data, "x\n");
			buf_deinit(&s.text);
		}
}
END_TEST

/*
 * A 1 MB line, fed in pieces: the decoder hands the text on as it goes
 * (it never holds more than the pending CR), so its memory is O(1).
 */
START_TEST(test_long_line)
{
	const size_t line = 1024 * 1024, piece = 4093;
	char *buf = malloc(piece);
	struct smtpd_data d;
	struct sink s;
	size_t fed = 0, n;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 'x', piece);
	sink_init(&s, false);
	smtpd_data_init(&d, _i == 0 ? SMTPD_BARE_NORMALIZE :
	    SMTPD_BARE_REJECT, sink_out, &s);
	while (fed < line) {
		n = line - fed < piece ? line - fed : piece;
		ck_assert_uint_eq(smtpd_data_feed(&d, buf, n), n);
		fed += n;
		ck_assert_int_eq(d.state, SMTPD_DATA_MORE);
		/* Everything fed so far is already out. */
		ck_assert_uint_eq(s.seen, fed);
	}
	ck_assert_uint_eq(smtpd_data_feed(&d, "\r", 1), 1);
	ck_assert_uint_eq(s.seen, line);	/* the CR is pending */
	ck_assert_uint_eq(smtpd_data_feed(&d, "\n.\r\n", 4), 4);
	ck_assert_int_eq(d.state, SMTPD_DATA_END);
	ck_assert_uint_eq(s.seen, line + 1);
	ck_assert_uint_eq(d.bytes, line + 1);
	/* Runs of text go out in one piece per feed, not byte by byte. */
	ck_assert_uint_lt(s.calls, line / piece + 8);
	free(buf);
	buf_deinit(&s.text);
}
END_TEST

/*
 * A stream that never ends: 16 MB of lines, some of them fake markers,
 * all consumed as text; the decoder stays in MORE (the session's size
 * limit and timeout end such a transaction, not the decoder).
 */
START_TEST(test_never_ends)
{
	static const char chunk[] = "line\r\n\n.\n\r.\r.x\r\n";
	struct smtpd_data d;
	struct sink s;
	unsigned long long fed = 0;

	sink_init(&s, false);
	smtpd_data_init(&d, SMTPD_BARE_NORMALIZE, sink_out, &s);
	while (fed < 16ULL * 1024 * 1024) {
		ck_assert_uint_eq(smtpd_data_feed(&d, chunk,
		    sizeof(chunk) - 1), sizeof(chunk) - 1);
		fed += sizeof(chunk) - 1;
	}
	ck_assert_int_eq(d.state, SMTPD_DATA_MORE);
	/* Only CRs of CR LF pairs and stuffing dots are dropped. */
	ck_assert_uint_gt(d.bytes, fed / 2);
	ck_assert_uint_le(d.bytes, fed);
	buf_deinit(&s.text);
}
END_TEST

/* A zero-length feed changes nothing. */
START_TEST(test_empty_feed)
{
	struct smtpd_data d;
	struct sink s;

	sink_init(&s, true);
	smtpd_data_init(&d, SMTPD_BARE_NORMALIZE, sink_out, &s);
	ck_assert_uint_eq(smtpd_data_feed(&d, "", 0), 0);
	ck_assert_uint_eq(smtpd_data_feed(&d, ".", 1), 1);
	ck_assert_uint_eq(smtpd_data_feed(&d, "", 0), 0);
	ck_assert_uint_eq(smtpd_data_feed(&d, "\r", 1), 1);
	ck_assert_int_eq(d.state, SMTPD_DATA_MORE);
	ck_assert_uint_eq(smtpd_data_feed(&d, "\nX", 2), 1);
	ck_assert_int_eq(d.state, SMTPD_DATA_END);
	ck_assert_uint_eq(s.calls, 0);
	buf_deinit(&s.text);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("smtpd_data");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_smuggle_normalize, 0,
	    ARRAY_LEN(smuggle_cases));
	tcase_add_loop_test(tc, test_smuggle_reject, 0,
	    ARRAY_LEN(smuggle_cases));
	tcase_add_loop_test(tc, test_whole, 0, ARRAY_LEN(whole_cases));
	tcase_add_test(tc, test_split_two);
	tcase_add_test(tc, test_split_bytes);
	tcase_add_test(tc, test_end_splits);
	tcase_add_loop_test(tc, test_long_line, 0, 2);
	tcase_add_test(tc, test_never_ends);
	tcase_add_test(tc, test_empty_feed);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
