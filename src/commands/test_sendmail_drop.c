/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for sendmail_drop.c: the envelope stream written by sendmail
 * is read back unchanged, and the reader refuses hostile streams (missing
 * sender or end, records out of order, NUL, CR, control characters, bad
 * UTF-8, long lines and addresses, too many recipients, unknown or
 * repeated attributes).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "sendmail_drop.h"

/* Feeds a whole stream; returns 0 when it parses and ends with E. */
static int
feed(struct sendmail_drop_env *env, const char *s, size_t n,
    const char **err_r)
{
	const char *p = s, *end = s + n, *lf;
	char *line;
	int rc;

	while (p < end && !env->ended) {
		lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL) {
			*err_r = "premature end";
			return -1;
		}
		/* As terndrop does: a NUL-terminated copy of the line. */
		line = xmalloc((size_t)(lf - p) + 1);
		memcpy(line, p, (size_t)(lf - p));
		line[lf - p] = '\0';
		rc = sendmail_drop_parse_line(env, line, (size_t)(lf - p),
		    err_r);
		free(line);
		if (rc == -1)
			return -1;
		p = lf + 1;
	}
	if (!env->ended) {
		*err_r = "premature end";
		return -1;
	}
	return 0;
}

START_TEST(test_round_trip)
{
	struct sendmail_drop_env a, b;
	struct buf out;
	const char *err;

	sendmail_drop_env_init(&a);
	sendmail_drop_env_init(&b);
	buf_init(&out, 0);
	ck_assert_int_eq(sendmail_drop_set_sender(&a, "joe", &err), 0);
	ck_assert_int_eq(sendmail_drop_set_fullname(&a, "J\xc3\xb6 User",
	    &err), 0);
	ck_assert_int_eq(sendmail_drop_set_ret(&a, "HDRS", &err), 0);
	ck_assert_int_eq(sendmail_drop_set_envid(&a, "id+2B1", &err), 0);
	ck_assert_int_eq(sendmail_drop_add_rcpt(&a, "x@y", "SUCCESS,DELAY",
	    &err), 0);
	ck_assert_int_eq(sendmail_drop_add_rcpt(&a, "\"a b\"@y", NULL, &err),
	    0);
	a.extract = true;
	ck_assert_int_eq(sendmail_drop_encode(&a, &out, &err), 0);
	ck_assert_str_eq(buf_cstr(&out), "S joe\nA fullname=J\xc3\xb6 User\n"
	    "A ret=HDRS\nA envid=id+2B1\nA flags=extract\n"
	    "R SUCCESS,DELAY x@y\nR - \"a b\"@y\nE\n");
	ck_assert_int_eq(feed(&b, out.data, out.len, &err), 0);
	ck_assert_str_eq(b.sender, "joe");
	ck_assert_str_eq(b.fullname, "J\xc3\xb6 User");
	ck_assert_str_eq(b.ret, "HDRS");
	ck_assert_str_eq(b.envid, "id+2B1");
	ck_assert(b.extract);
	ck_assert_uint_eq(b.rcpts.n, 2);
	ck_assert_str_eq(b.rcpts.v[1], "\"a b\"@y");
	ck_assert_str_eq(b.notify.v[0], "SUCCESS,DELAY");
	ck_assert_str_eq(b.notify.v[1], "-");
	sendmail_drop_env_deinit(&a);
	sendmail_drop_env_deinit(&b);
	buf_deinit(&out);
}
END_TEST

START_TEST(test_null_sender_and_extract_only)
{
	struct sendmail_drop_env env;
	const char *err;
	static const char s[] = "S \nA flags=extract\nE\n";

	sendmail_drop_env_init(&env);
	ck_assert_int_eq(feed(&env, s, sizeof(s) - 1, &err), 0);
	ck_assert_str_eq(env.sender, "");
	ck_assert_uint_eq(env.rcpts.n, 0);
	sendmail_drop_env_deinit(&env);
}
END_TEST

struct bad_case {
	const char	*stream;
	size_t		 len;		/* 0: strlen */
};

#define B(s)	{ s, sizeof(s) - 1 }
static const struct bad_case bad[] = {
	B(""),					/* nothing */
	B("S joe\nR - x@y\n"),			/* no E */
	B("S joe\nR - x@y\nE"),			/* E without LF */
	B("R - x@y\nE\n"),			/* no sender first */
	B("E\n"),
	B("S joe\nE\n"),			/* no recipient */
	B("S joe\nS bob\nR - x@y\nE\n"),	/* sender twice */
	B("S jo\0e\nR - x@y\nE\n"),		/* NUL */
	B("S joe\nR - x\0@y\nE\n"),
	B("S joe\r\nR - x@y\nE\n"),		/* CR */
	B("S joe\nR - x@y\r\nE\n"),
	B("S joe\nR - x\t@y\nE\n"),		/* control */
	B("S joe\nR - x\x7f@y\nE\n"),
	B("S joe\nR - x\xff@y\nE\n"),		/* bad UTF-8 */
	B("S joe\nR - \xc0\xaf@y\nE\n"),	/* overlong */
	B("S joe\nR -  \nE\n"),			/* blank address */
	B("S joe\nR x@y\nE\n"),			/* no notify field */
	B("S joe\nR  x@y\nE\n"),		/* empty notify */
	B("S joe\nR success x@y\nE\n"),		/* not canonical */
	B("S joe\nR NEVER,SUCCESS x@y\nE\n"),
	B("S joe\nR BOGUS x@y\nE\n"),
	B("S joe\nR - \nE\n"),			/* empty address */
	B("S joe\nA bogus=1\nR - x@y\nE\n"),	/* unknown attribute */
	B("S joe\nA origin_uid=0\nR - x@y\nE\n"),
	B("S joe\nA ret\nR - x@y\nE\n"),
	B("S joe\nA =x\nR - x@y\nE\n"),
	B("S joe\nA ret=full\nR - x@y\nE\n"),
	B("S joe\nA ret=FULL\nA ret=HDRS\nR - x@y\nE\n"),
	B("S joe\nA envid=a b\nR - x@y\nE\n"),
	B("S joe\nA envid=a=b\nR - x@y\nE\n"),
	B("S joe\nA envid=a+zz\nR - x@y\nE\n"),
	B("S joe\nA envid=a+4\nR - x@y\nE\n"),
	B("S joe\nA envid=\nR - x@y\nE\n"),
	B("S joe\nA flags=bogus\nR - x@y\nE\n"),
	B("S joe\nA flags=extract\nA flags=extract\nE\n"),
	B("S joe\nR - x@y\nA ret=FULL\nE\n"),	/* order */
	B("S joe\nX what\nR - x@y\nE\n"),	/* unknown record */
	B("S joe\nR - x@y\nE \n"),
	B("S joe\nR - x@y\ne\n"),
	B("Sjoe\nR - x@y\nE\n"),
	B("S joe\nR - x@y\nE\nS more\n"),	/* fine: rest is content */
};

START_TEST(test_bad)
{
	const struct bad_case *c = &bad[_i];
	struct sendmail_drop_env env;
	const char *err = NULL;
	int rc;

	sendmail_drop_env_init(&env);
	rc = feed(&env, c->stream, c->len, &err);
	/* The last case is good: content may follow E. */
	if (_i == (int)ARRAY_LEN(bad) - 1) {
		ck_assert_int_eq(rc, 0);
	} else {
		ck_assert_msg(rc == -1, "case %d accepted", _i);
		ck_assert_ptr_nonnull(err);
	}
	sendmail_drop_env_deinit(&env);
}
END_TEST

START_TEST(test_limits)
{
	struct sendmail_drop_env env;
	struct buf b;
	const char *err;
	char *big;
	size_t i;

	sendmail_drop_env_init(&env);
	ck_assert_int_eq(sendmail_drop_parse_line(&env, "S joe", 5, &err), 0);
	/* A 10 MB line and a line just over the maximum. */
	big = xmalloc(10 * 1024 * 1024 + 1);
	memset(big, 'a', 10 * 1024 * 1024);
	big[0] = 'R';
	big[1] = ' ';
	big[10 * 1024 * 1024] = '\0';
	ck_assert_int_eq(sendmail_drop_parse_line(&env, big,
	    10 * 1024 * 1024, &err), -1);
	big[SENDMAIL_DROP_LINE_MAX + 1] = '\0';
	ck_assert_int_eq(sendmail_drop_parse_line(&env, big,
	    SENDMAIL_DROP_LINE_MAX + 1, &err), -1);
	free(big);
	/* Addresses: 254 bytes fit, 255 do not (RFC 5321 §4.5.3.1.3). */
	buf_init(&b, 0);
	buf_adds(&b, "R - ");
	for (i = 0; i < SENDMAIL_DROP_ADDR_MAX - 2; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, "@y");
	ck_assert_int_eq(sendmail_drop_parse_line(&env, b.data, b.len, &err),
	    0);
	buf_addc(&b, 'z');
	ck_assert_int_eq(sendmail_drop_parse_line(&env, b.data, b.len, &err),
	    -1);
	buf_deinit(&b);
	/* At most SENDMAIL_DROP_RCPT_MAX recipients. */
	for (i = 1; i < SENDMAIL_DROP_RCPT_MAX; i++)
		ck_assert_int_eq(sendmail_drop_parse_line(&env, "R - x@y", 7,
		    &err), 0);
	ck_assert_int_eq(sendmail_drop_parse_line(&env, "R - x@y", 7, &err),
	    -1);
	ck_assert_str_eq(err, "too many recipients");
	ck_assert_int_eq(sendmail_drop_parse_line(&env, "E", 1, &err), 0);
	ck_assert_int_eq(sendmail_drop_parse_line(&env, "E", 1, &err), -1);
	sendmail_drop_env_deinit(&env);
}
END_TEST

START_TEST(test_encode_incomplete)
{
	struct sendmail_drop_env env;
	struct buf out;
	const char *err;

	sendmail_drop_env_init(&env);
	buf_init(&out, 16);
	ck_assert_int_eq(sendmail_drop_encode(&env, &out, &err), -1);
	ck_assert_int_eq(sendmail_drop_set_sender(&env, "joe", &err), 0);
	ck_assert_int_eq(sendmail_drop_encode(&env, &out, &err), -1);
	ck_assert_str_eq(err, "no recipients specified");
	ck_assert_int_eq(sendmail_drop_add_rcpt(&env,
	    "someone.long@example.com", NULL, &err), 0);
	ck_assert_int_eq(sendmail_drop_encode(&env, &out, &err), -1);
	ck_assert_str_eq(err, "envelope too large");
	ck_assert_int_eq(sendmail_drop_set_sender(&env, "bob", &err), -1);
	ck_assert_int_eq(sendmail_drop_add_rcpt(&env, "a\nb", NULL, &err),
	    -1);
	ck_assert_int_eq(sendmail_drop_add_rcpt(&env, "", NULL, &err), -1);
	sendmail_drop_env_deinit(&env);
	buf_deinit(&out);
}
END_TEST

struct xtext_case {
	const char	*in;
	const char	*out;
};

static const struct xtext_case xtexts[] = {
	{ "abc", "abc" },
	{ "a b", "a+20b" },
	{ "a+b=c", "a+2Bb+3Dc" },
	{ "\xc3\xa9", "+C3+A9" },
	{ "\x01~", "+01~" },
	{ "", "" },
};

START_TEST(test_xtext)
{
	struct buf b;

	buf_init(&b, 0);
	sendmail_drop_xtext(&b, xtexts[_i].in);
	ck_assert_str_eq(buf_cstr(&b), xtexts[_i].out);
	ck_assert(sendmail_drop_valid_xtext(buf_cstr(&b)));
	buf_deinit(&b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("sendmail_drop");
	TCase *tc = tcase_create("stream");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_null_sender_and_extract_only);
	tcase_add_loop_test(tc, test_bad, 0, ARRAY_LEN(bad));
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_encode_incomplete);
	tcase_add_loop_test(tc, test_xtext, 0, ARRAY_LEN(xtexts));
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
