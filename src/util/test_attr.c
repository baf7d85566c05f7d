/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for attr.c: round trips of every type, a table of hostile
 * frame bodies with the exact rejection each must give, the incremental
 * reader, and the blocking frame helpers over a socketpair.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

/* Field encodings; strings split after hex escapes on purpose. */
#define F_SENDER	"\x01\x06" "sender" "\x00\x00\x00\x01" "a\x00"
#define F_SIZE		"\x02\x04" "size" "\0\0\0\0\0\0\x03\xe8"
#define F_N		"\x03\x01" "n" "\xff\xff\xff\xff\xff\xff\xff\xfe"
#define B(s)		s, sizeof(s) - 1

struct target {
	const char	*sender;
	uint64_t	 size;
	int		 n;
	bool		 flag;
	struct attr_blob blob;
	struct strv	 rcpt;
};

static void
target_spec(struct target *t, struct attr_spec *spec, size_t nspec)
{
	const struct attr_spec s[] = {
		ATTR_STR("sender", &t->sender),
		ATTR_U64_MAX("size", &t->size, 1000),
		ATTR_INT("n", &t->n),
		ATTR_BOOL_OPT("flag", &t->flag),
		ATTR_BLOB_OPT("blob", &t->blob),
		ATTR_STRV_OPT("rcpt", &t->rcpt),
		ATTR_END,
	};

	ck_assert_uint_ge(nspec, ARRAY_LEN(s));
	memcpy(spec, s, sizeof(s));
	memset(t, 0, sizeof(*t));
	strv_init(&t->rcpt);
}

START_TEST(test_roundtrip)
{
	struct buf out;
	struct attr_writer w;
	struct attr_spec spec[8];
	struct target t;
	struct strv sv;
	const char *err = NULL;
	size_t len;

	strv_init(&sv);
	strv_push(&sv, "x@example.org");
	strv_push(&sv, "");
	buf_init(&out, 0);
	attr_frame_begin(&w, &out);
	attr_put_str(&w, "sender", "s@example.org");
	attr_put_u64(&w, "size", 1000);
	attr_put_i64(&w, "n", -7);
	attr_put_bool(&w, "flag", true);
	attr_put_blob(&w, "blob", "a\0b", 3);
	attr_put_strv(&w, "rcpt", &sv);
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	len = attr_hdr_decode((const unsigned char *)out.data);
	ck_assert_uint_eq(len + ATTR_HDR_LEN, out.len);

	target_spec(&t, spec, ARRAY_LEN(spec));
	ck_assert_int_eq(attr_parse(out.data + ATTR_HDR_LEN, len, spec,
	    ATTR_PARSE_STRICT, &err), 0);
	ck_assert_str_eq(t.sender, "s@example.org");
	ck_assert_uint_eq(t.size, 1000);
	ck_assert_int_eq(t.n, -7);
	ck_assert(t.flag);
	ck_assert_uint_eq(t.blob.len, 3);
	ck_assert_int_eq(memcmp(t.blob.data, "a\0b", 3), 0);
	ck_assert_uint_eq(t.rcpt.n, 2);
	ck_assert_str_eq(t.rcpt.v[0], "x@example.org");
	ck_assert_str_eq(t.rcpt.v[1], "");
	strv_deinit(&t.rcpt);
	strv_deinit(&sv);
	buf_deinit(&out);
}
END_TEST

START_TEST(test_exact_bytes)
{
	static const char want[] = "\0\0\0\x15" F_SENDER "\x04\x04" "flag"
	    "\x01";
	struct buf out;
	struct attr_writer w;
	const char *err;

	buf_init(&out, 0);
	attr_frame_begin(&w, &out);
	attr_put_str(&w, "sender", "a");
	attr_put_bool(&w, "flag", true);
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	ck_assert_uint_eq(out.len, sizeof(want) - 1);
	ck_assert_int_eq(memcmp(out.data, want, out.len), 0);
	buf_deinit(&out);
}
END_TEST

static const struct {
	const char	*body;
	size_t		 len;
	const char	*err;		/* NULL: accepted */
} hostile[] = {
	{ B(F_SENDER F_SIZE F_N), NULL },
	{ B(F_N F_SIZE F_SENDER), NULL },
	{ B(""), "missing field \"sender\"" },
	{ B(F_SENDER F_SIZE), "missing field \"n\"" },
	/* trailing bytes and truncation at every layer */
	{ B(F_SENDER F_SIZE F_N "\x01"), "trailing bytes" },
	{ B(F_SENDER F_SIZE F_N "\x01\x06" "sen"), "short field name" },
	{ B("\x01\x06" "sender" "\x00\x00\x00"),
	  "field \"sender\": short frame" },
	{ B("\x01\x06" "sender" "\x00\x00\x00\x05" "ab\x00"),
	  "field \"sender\": short frame" },
	{ B("\x01\x06" "sender" "\x00\x00\x00\x01" "a"),
	  "field \"sender\": short frame" },
	{ B("\x01\x06" "sender" "\xff\xff\xff\xff" "a\x00"),
	  "field \"sender\": short frame" },
	{ B(F_SENDER "\x02\x04" "size" "\0\0\0\0\0\0\x03"),
	  "field \"size\": short frame" },
	/* names */
	{ B("\x01\x00"), "bad field name length" },
	{ B("\x01\x21" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	  "bad field name length" },
	{ B("\x01\x06" "Sender" "\x00\x00\x00\x01" "a\x00"),
	  "bad field name" },
	{ B("\x01\x06" "sen\x00" "er" "\x00\x00\x00\x01" "a\x00"),
	  "bad field name" },
	{ B("\x01\x05" "bogus" "\x00\x00\x00\x01" "a\x00"),
	  "unknown field \"bogus\"" },
	{ B(F_SENDER F_SENDER F_SIZE F_N), "duplicate field \"sender\"" },
	/* types */
	{ B("\x07\x06" "sender" "\x00"), "field \"sender\": unknown type" },
	{ B("\x00\x06" "sender" "\x00"), "field \"sender\": unknown type" },
	{ B("\x02\x06" "sender" "\0\0\0\0\0\0\0\x01"),
	  "field \"sender\": wrong type" },
	{ B(F_SENDER F_SIZE "\x02\x01" "n" "\0\0\0\0\0\0\0\x01"),
	  "field \"n\": wrong type" },
	/* strings */
	{ B("\x01\x06" "sender" "\x00\x00\x00\x03" "a\x00" "b\x00"),
	  "field \"sender\": NUL in string" },
	{ B("\x01\x06" "sender" "\x00\x00\x00\x01" "ab"),
	  "field \"sender\": string not terminated" },
	/* numbers */
	{ B(F_SENDER F_N "\x02\x04" "size" "\0\0\0\0\0\0\x03\xe9"),
	  "field \"size\": number out of range" },
	{ B(F_SENDER F_N "\x02\x04" "size" "\xff\xff\xff\xff\xff\xff\xff\xff"),
	  "field \"size\": number out of range" },
	{ B(F_SENDER F_SIZE "\x03\x01" "n" "\0\0\0\0\x80\0\0\0"),
	  "field \"n\": number out of range" },
	{ B(F_SENDER F_SIZE "\x03\x01" "n" "\xff\xff\xff\xff\x7f\xff\xff\xff"),
	  "field \"n\": number out of range" },
	{ B(F_SENDER F_SIZE "\x03\x01" "n" "\x80\0\0\0\0\0\0\0"),
	  "field \"n\": number out of range" },
	{ B(F_SENDER F_SIZE "\x03\x01" "n" "\0\0\0\0\x7f\xff\xff\xff"), NULL },
	/* booleans, blobs, lists */
	{ B(F_SENDER F_SIZE F_N "\x04\x04" "flag" "\x02"),
	  "field \"flag\": bad boolean" },
	{ B(F_SENDER F_SIZE F_N "\x04\x04" "flag"),
	  "field \"flag\": short frame" },
	{ B(F_SENDER F_SIZE F_N "\x05\x04" "blob" "\0\0\0\x04" "abc"),
	  "field \"blob\": short frame" },
	{ B(F_SENDER F_SIZE F_N "\x05\x04" "blob" "\0\0\0\x03" "a\0c"), NULL },
	{ B(F_SENDER F_SIZE F_N "\x06\x04" "rcpt" "\xff\xff\xff\xff"),
	  "field \"rcpt\": short frame" },
	{ B(F_SENDER F_SIZE F_N "\x06\x04" "rcpt" "\0\0\0\x02"
	    "\0\0\0\x01" "x\x00"), "field \"rcpt\": short frame" },
	{ B(F_SENDER F_SIZE F_N "\x06\x04" "rcpt" "\0\0\0\x01"
	    "\0\0\0\x02" "x\x00\x00"), "field \"rcpt\": NUL in string" },
	{ B(F_SENDER F_SIZE F_N "\x06\x04" "rcpt" "\0\0\0\x01"
	    "\0\0\0\x01" "x\x00"), NULL },
};

START_TEST(test_hostile)
{
	struct attr_spec spec[8];
	struct target t;
	const char *err = NULL;
	int rc;

	target_spec(&t, spec, ARRAY_LEN(spec));
	rc = attr_parse(hostile[_i].body, hostile[_i].len, spec,
	    ATTR_PARSE_STRICT, &err);
	if (hostile[_i].err == NULL) {
		ck_assert_msg(rc == 0, "case %d: %s", _i, err);
	} else {
		ck_assert_msg(rc == -1, "case %d accepted", _i);
		ck_assert_str_eq(err, hostile[_i].err);
	}
	strv_deinit(&t.rcpt);
}
END_TEST

START_TEST(test_ignore_unknown)
{
	static const char ok[] = F_SENDER
	    "\x01\x05" "bogus" "\0\0\0\x01" "z\x00"
	    F_SIZE F_N;
	static const char dup[] = F_SENDER "\x04\x01" "x" "\x01"
	    "\x04\x01" "x" "\x00" F_SIZE F_N;
	static const char badval[] = F_SENDER "\x04\x01" "x" "\x05" F_SIZE F_N;
	struct attr_spec spec[8];
	struct target t;
	const char *err = NULL;

	target_spec(&t, spec, ARRAY_LEN(spec));
	ck_assert_int_eq(attr_parse(ok, sizeof(ok) - 1, spec,
	    ATTR_PARSE_IGNORE_UNKNOWN, &err), 0);
	ck_assert_str_eq(t.sender, "a");
	ck_assert_int_eq(attr_parse(ok, sizeof(ok) - 1, spec,
	    ATTR_PARSE_STRICT, &err), -1);
	ck_assert_str_eq(err, "unknown field \"bogus\"");
	ck_assert_int_eq(attr_parse(dup, sizeof(dup) - 1, spec,
	    ATTR_PARSE_IGNORE_UNKNOWN, &err), -1);
	ck_assert_str_eq(err, "duplicate field \"x\"");
	ck_assert_int_eq(attr_parse(badval, sizeof(badval) - 1, spec,
	    ATTR_PARSE_IGNORE_UNKNOWN, &err), -1);
	ck_assert_str_eq(err, "field \"x\": bad boolean");
	strv_deinit(&t.rcpt);
}
END_TEST

START_TEST(test_too_many_fields)
{
	struct attr_spec spec[] = { ATTR_END };
	struct attr_writer w;
	struct buf out;
	const char *err = NULL;
	char name[16];

	buf_init(&out, 0);
	attr_frame_begin(&w, &out);
	for (int i = 0; i < 1025; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		attr_put_bool(&w, name, false);
	}
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	ck_assert_int_eq(attr_parse(out.data + ATTR_HDR_LEN,
	    out.len - ATTR_HDR_LEN, spec, ATTR_PARSE_IGNORE_UNKNOWN, &err), -1);
	ck_assert_str_eq(err, "too many fields");
	/* One fewer is fine. */
	buf_reset(&out);
	attr_frame_begin(&w, &out);
	for (int i = 0; i < 1024; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		attr_put_bool(&w, name, false);
	}
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	ck_assert_int_eq(attr_parse(out.data + ATTR_HDR_LEN,
	    out.len - ATTR_HDR_LEN, spec, ATTR_PARSE_IGNORE_UNKNOWN, &err), 0);
	buf_deinit(&out);
}
END_TEST

START_TEST(test_writer_limits)
{
	struct attr_writer w;
	struct buf out;
	const char *err = NULL;
	char *big = xcalloc(1, ATTR_FRAME_MAX);

	buf_init(&out, 0);
	buf_adds(&out, "keep");
	attr_frame_begin(&w, &out);
	attr_put_blob(&w, "blob", big, ATTR_FRAME_MAX);
	ck_assert_int_eq(attr_frame_end(&w, &err), -1);
	ck_assert_str_eq(err, "frame too large");
	ck_assert_str_eq(buf_cstr(&out), "keep");
	buf_deinit(&out);

	/* The output buffer's own maximum is respected too. */
	buf_init(&out, 16);
	attr_frame_begin(&w, &out);
	attr_put_str(&w, "sender", "0123456789");
	ck_assert_int_eq(attr_frame_end(&w, &err), -1);
	ck_assert_uint_eq(out.len, 0);
	buf_deinit(&out);
	free(big);
	ck_assert_int_eq(attr_parse("", ATTR_FRAME_MAX + 1,
	    (struct attr_spec[]){ ATTR_END }, 0, &err), -1);
	ck_assert_str_eq(err, "frame too long");
}
END_TEST

START_TEST(test_put_outside_frame_panics)
{
	struct attr_writer w = { 0 };

	attr_put_bool(&w, "x", true);
}
END_TEST

START_TEST(test_bad_name_panics)
{
	struct attr_writer w;
	struct buf out;

	buf_init(&out, 0);
	attr_frame_begin(&w, &out);
	attr_put_bool(&w, "Bad-Name", true);
}
END_TEST

START_TEST(test_dup_spec_panics)
{
	bool a, b;
	struct attr_spec spec[] = {
		ATTR_BOOL("a", &a), ATTR_BOOL("a", &b), ATTR_END
	};
	const char *err;

	ck_assert_int_eq(attr_parse("", 0, spec, 0, &err), 0);
}
END_TEST

static void
make_frame(struct buf *out, const char *sender)
{
	struct attr_writer w;
	const char *err;

	attr_frame_begin(&w, out);
	attr_put_str(&w, "sender", sender);
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
}

static void
expect_sender(const void *body, size_t len, const char *want)
{
	const char *sender = NULL, *err = NULL;
	struct attr_spec spec[] = { ATTR_STR("sender", &sender), ATTR_END };

	ck_assert_int_eq(attr_parse(body, len, spec, 0, &err), 0);
	ck_assert_str_eq(sender, want);
}

START_TEST(test_reader_bytewise)
{
	struct attr_reader r;
	struct buf out;
	const void *body;
	size_t len, i;
	const char *err;

	buf_init(&out, 0);
	make_frame(&out, "first");
	make_frame(&out, "second");
	attr_reader_init(&r, 0);
	for (i = 0; i < out.len; i++) {
		ck_assert_int_eq(attr_reader_feed(&r, out.data + i, 1, &err),
		    0);
		if (attr_reader_next(&r, &body, &len, &err) == 1)
			break;
	}
	ck_assert_uint_eq(i, 4 + 2 + 6 + 4 + 6 - 1);
	expect_sender(body, len, "first");
	attr_reader_consume(&r);
	ck_assert_int_eq(attr_reader_next(&r, &body, &len, &err), 0);
	ck_assert_int_eq(attr_reader_feed(&r, out.data + i + 1,
	    out.len - i - 1, &err), 0);
	ck_assert_int_eq(attr_reader_next(&r, &body, &len, &err), 1);
	expect_sender(body, len, "second");
	attr_reader_consume(&r);
	ck_assert(!attr_reader_pending(&r));
	attr_reader_deinit(&r);
	buf_deinit(&out);
}
END_TEST

START_TEST(test_reader_hostile)
{
	struct attr_reader r;
	const void *body;
	size_t len;
	const char *err = NULL;
	char flood[64] = { 0 };

	attr_reader_init(&r, 16);
	/* Declared length 17 > 16: rejected as soon as the header is in. */
	ck_assert_int_eq(attr_reader_feed(&r, "\0\0\0\x11", 4, &err), 0);
	ck_assert_int_eq(attr_reader_next(&r, &body, &len, &err), -1);
	ck_assert_str_eq(err, "frame too long");
	attr_reader_deinit(&r);

	attr_reader_init(&r, 16);
	ck_assert_int_eq(attr_reader_feed(&r, "\0\0", 2, &err), 0);
	ck_assert_int_eq(attr_reader_next(&r, &body, &len, &err), 0);
	ck_assert(attr_reader_pending(&r));
	ck_assert_int_eq(attr_reader_feed(&r, flood, sizeof(flood), &err), -1);
	ck_assert_str_eq(err, "too much pending input");
	attr_reader_deinit(&r);

	/* A zero-length frame is a frame (which a spec may then refuse). */
	attr_reader_init(&r, 16);
	ck_assert_int_eq(attr_reader_feed(&r, "\0\0\0\0", 4, &err), 0);
	ck_assert_int_eq(attr_reader_next(&r, &body, &len, &err), 1);
	ck_assert_uint_eq(len, 0);
	attr_reader_consume(&r);
	attr_reader_deinit(&r);
}
END_TEST

START_TEST(test_reader_fill)
{
	struct attr_reader r;
	struct buf out;
	const void *body;
	size_t len;
	const char *err = NULL;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	buf_init(&out, 0);
	make_frame(&out, "filled");
	attr_reader_init(&r, 0);
	/* Nothing there yet: EAGAIN is not an error. */
	ck_assert_int_eq(attr_reader_fill(&r, sv[0], &err), 1);
	ck_assert(!attr_reader_pending(&r));
	ck_assert_int_eq(write(sv[1], out.data, 5), 5);
	ck_assert_int_eq(attr_reader_fill(&r, sv[0], &err), 1);
	ck_assert_int_eq(attr_reader_next(&r, &body, &len, &err), 0);
	ck_assert_int_eq(write(sv[1], out.data + 5, out.len - 5),
	    (ssize_t)out.len - 5);
	ck_assert_int_eq(attr_reader_fill(&r, sv[0], &err), 1);
	ck_assert_int_eq(attr_reader_next(&r, &body, &len, &err), 1);
	expect_sender(body, len, "filled");
	attr_reader_consume(&r);
	/* Half a frame, then EOF: the caller sees 0 with bytes pending. */
	ck_assert_int_eq(write(sv[1], out.data, 3), 3);
	close(sv[1]);
	ck_assert_int_eq(attr_reader_fill(&r, sv[0], &err), 1);
	ck_assert_int_eq(attr_reader_fill(&r, sv[0], &err), 0);
	ck_assert(attr_reader_pending(&r));
	close(sv[0]);
	ck_assert_int_eq(attr_reader_fill(&r, sv[0], &err), -1);
	ck_assert_str_eq(err, "read: Bad file descriptor");
	attr_reader_deinit(&r);
	buf_deinit(&out);
}
END_TEST

/* Blocking helpers: what the peer sends, and what the reader must say. */
static const struct {
	const char	*bytes;
	size_t		 len;
	size_t		 max;
	const char	*err;
} blocking[] = {
	{ B(""), 0, "connection closed" },
	{ B("\0\0"), 0, "short frame" },
	{ B("\0\0\0\x09" "\x04\x01" "x" "\x01"), 0, "short frame" },
	{ B("\0\0\0\x05" "\x04\x01" "x" "\x01"), 4, "frame too long" },
	{ B("\x7f\xff\xff\xff"), 0, "frame too long" },
	{ B("\0\0\0\x04" "\x04\x01" "x" "\x01"), 0, NULL },
};

START_TEST(test_blocking_read)
{
	struct buf body;
	const char *err = NULL;
	int sv[2], rc;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[1], blocking[_i].bytes, blocking[_i].len),
	    (ssize_t)blocking[_i].len);
	close(sv[1]);
	buf_init(&body, 0);
	rc = attr_read_frame(sv[0], &body, blocking[_i].max, 1000, &err);
	if (blocking[_i].err == NULL) {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(body.len, 4);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, blocking[_i].err);
	}
	buf_deinit(&body);
	close(sv[0]);
}
END_TEST

START_TEST(test_blocking_roundtrip_and_timeout)
{
	struct buf out, body;
	const char *err = NULL;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	buf_init(&out, 0);
	buf_init(&body, 0);
	make_frame(&out, "one");
	make_frame(&out, "two");
	ck_assert_int_eq(attr_write_frame(sv[1], &out, 1000, &err), 0);
	/* Exactly one frame per read: the second stays in the socket. */
	ck_assert_int_eq(attr_read_frame(sv[0], &body, 0, 1000, &err), 0);
	expect_sender(body.data, body.len, "one");
	ck_assert_int_eq(attr_read_frame(sv[0], &body, 0, 1000, &err), 0);
	expect_sender(body.data, body.len, "two");
	/* Nothing more: the deadline passes. */
	ck_assert_int_eq(attr_read_frame(sv[0], &body, 0, 50, &err), -1);
	ck_assert_str_eq(err, "timed out");
	/* Writing to a closed peer fails without SIGPIPE. */
	close(sv[0]);
	ck_assert_int_eq(attr_write_frame(sv[1], &out, 1000, &err), -1);
	ck_assert_str_eq(err, "write: Broken pipe");
	close(sv[1]);
	buf_deinit(&out);
	buf_deinit(&body);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("attr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_exact_bytes);
	tcase_add_loop_test(tc, test_hostile, 0, ARRAY_LEN(hostile));
	tcase_add_test(tc, test_ignore_unknown);
	tcase_add_test(tc, test_too_many_fields);
	tcase_add_test(tc, test_writer_limits);
	tcase_add_test_raise_signal(tc, test_put_outside_frame_panics,
	    SIGABRT);
	tcase_add_test_raise_signal(tc, test_bad_name_panics, SIGABRT);
	tcase_add_test_raise_signal(tc, test_dup_spec_panics, SIGABRT);
	tcase_add_test(tc, test_reader_bytewise);
	tcase_add_test(tc, test_reader_hostile);
	tcase_add_test(tc, test_reader_fill);
	tcase_add_loop_test(tc, test_blocking_read, 0, ARRAY_LEN(blocking));
	tcase_add_test(tc, test_blocking_roundtrip_and_timeout);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
