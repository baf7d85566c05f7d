/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for sendmail_smtp.c: scripted SMTP dialogues (as from a
 * pipe, through fmemopen) are compared reply by reply, covering the
 * command sequence rules (503), syntax errors (501), unknown commands
 * (502), unsupported parameters (555), dot-unstuffing, size limits,
 * hostile lines (too long, NUL, non-ASCII) and a failing hand-off (451).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "sendmail_smtp.h"

struct sink {
	int		 calls;
	bool		 fail;
	struct buf	 last;		/* "sender|rcpt,rcpt|content" */
};

static int
deliver(const struct sendmail_drop_env *env, const struct buf *content,
    void *ctx, const char **err_r)
{
	struct sink *k = ctx;
	size_t i;

	k->calls++;
	buf_reset(&k->last);
	buf_addf(&k->last, "%s|", env->sender);
	for (i = 0; i < env->rcpts.n; i++)
		buf_addf(&k->last, "%s%s", i > 0 ? "," : "", env->rcpts.v[i]);
	buf_addc(&k->last, '|');
	buf_add(&k->last, content->data != NULL ? content->data : "",
	    content->len);
	if (k->fail) {
		*err_r = "queue file write error";
		return -1;
	}
	return 0;
}

/* Runs script; returns the reply codes (first 3 bytes of each line). */
static char *
run(const char *script, size_t len, size_t limit, struct sink *k,
    int *rc_r)
{
	struct sendmail_smtp_cfg cfg = {
		.hostname = "host.example",
		.size_limit = limit,
		.deliver = deliver,
		.ctx = k,
	};
	char *outbuf = NULL, *line, *save = NULL, *copy;
	size_t outlen = 0;
	struct buf codes;
	FILE *in, *out;

	copy = xmemdup(script, len + 1);
	in = fmemopen(copy, len, "r");
	out = open_memstream(&outbuf, &outlen);
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	*rc_r = sendmail_smtp_run(in, out, &cfg);
	fclose(in);
	fclose(out);
	free(copy);
	buf_init(&codes, 0);
	for (line = strtok_r(outbuf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(strlen(line) >= 4 &&
		    line[strlen(line) - 1] == '\r', "bad reply line %s", line);
		if (line[3] == '-')
			continue;
		buf_addf(&codes, "%s%.3s", codes.len > 0 ? " " : "", line);
	}
	free(outbuf);
	return buf_steal(&codes);
}

struct smtp_case {
	const char	*script;
	const char	*codes;
	int		 calls;
	const char	*last;		/* NULL: don't check */
};

#define HELLO	"EHLO c.example\r\n"
#define ENV	"MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"

static const struct smtp_case cases[] = {
	{ HELLO ENV "DATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n",
	    "220 250 250 250 354 250 221", 1,
	    "a@b.example|c@d.example|Subject: x\n\n.dot\n" },
	/* LF line ends, lower case, no HELO, null sender, postmaster. */
	{ "mail from:<>\nrcpt to:<postmaster>\ndata\nhi\n.\nquit\n",
	    "220 250 250 354 250 221", 1, "|postmaster|hi\n" },
	{ "HELO c\r\nQUIT\r\n", "220 250 221", 0, NULL },
	/* Ordering (RFC 5321 §4.1.4). */
	{ "RCPT TO:<c@d.example>\r\nDATA\r\nQUIT\r\n", "220 503 503 221", 0,
	    NULL },
	{ "MAIL FROM:<a@b.example>\r\nDATA\r\nMAIL FROM:<x@y.example>\r\n",
	    "220 250 503 503", 0, NULL },
	{ ENV "RSET\r\nDATA\r\nQUIT\r\n", "220 250 250 250 503 221", 0, NULL },
	/* Syntax. */
	{ "HELO\r\nEHLO\r\nMAIL\r\nMAIL FROM:a@b\r\nMAIL TO:<a@b>\r\n",
	    "220 501 501 501 501 501", 0, NULL },
	{ "MAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME\r\n"
	    "RCPT TO:<c@d.example> NOTIFY=NEVER\r\nRCPT TO:c@d\r\n"
	    "RCPT TO:<c@d.example>\r\nDATA x\r\n",
	    "220 250 555 501 250 501", 0, NULL },
	{ "MAIL FROM:<a@b.example> FOO=1\r\nMAIL FROM:<a@b.example> SIZE=x\r\n"
	    "MAIL FROM:<a@b.example> SIZE=-1\r\n"
	    "MAIL FROM:<a@b.example> SIZE=99999999999999999999999\r\n",
	    "220 555 501 501 501", 0, NULL },
	{ "MAIL FROM:<a@b.example> SIZE=1000\r\n", "220 552", 0, NULL },
	{ "MAIL FROM:<a@b.example>x\r\n", "220 501", 0, NULL },
	/* Other commands. */
	{ "NOOP\r\nVRFY joe\r\nVRFY\r\nEXPN joe\r\nTURN\r\n\r\nQUIT\r\n",
	    "220 250 252 501 502 502 500 221", 0, NULL },
	/* Hostile lines. */
	{ "NO\0OP\r\nQUIT\r\n", "220 500 221", 0, NULL },
	{ "NOOP \xff\r\nNOOP \x01\r\nQUIT\r\n", "220 500 500 221", 0, NULL },
	{ "MAIL FROM:<\xc3\xa9@b.example>\r\nQUIT\r\n", "220 250 221", 0,
	    NULL },
	/* End of input in the middle of DATA: nothing is delivered. */
	{ HELLO ENV "DATA\r\nSubject: x\r\n", "220 250 250 250 354", 0, NULL },
	/* No QUIT. */
	{ "NOOP\r\n", "220 250", 0, NULL },
	/* Too big: 552 after the data, and the session goes on. */
	{ ENV "DATA\r\n0123456789\r\n0123456789\r\n0123456789\r\n.\r\n"
	    "NOOP\r\n",
	    "220 250 250 354 552 250", 0, NULL },
	/* Two messages in one session; RSET in between. */
	{ ENV "DATA\r\n1\r\n.\r\n" ENV "DATA\r\n2\r\n.\r\nQUIT\r\n",
	    "220 250 250 354 250 250 250 354 250 221", 2,
	    "a@b.example|c@d.example|2\n" },
};

START_TEST(test_dialogue)
{
	const struct smtp_case *c = &cases[_i];
	struct sink k = { 0 };
	char *codes;
	size_t len = strlen(c->script);
	int rc;

	/* The NUL case: the script is longer than its strlen. */
	if (strstr(c->script, "NO") == c->script && c->script[2] == '\0')
		len = sizeof("NO\0OP\r\nQUIT\r\n") - 1;
	buf_init(&k.last, 0);
	codes = run(c->script, len, 30, &k, &rc);
	ck_assert_msg(str_eq(codes, c->codes), "case %d: got \"%s\", want "
	    "\"%s\"", _i, codes, c->codes);
	ck_assert_int_eq(k.calls, c->calls);
	if (c->last != NULL)
		ck_assert_str_eq(buf_cstr(&k.last), c->last);
	free(codes);
	buf_deinit(&k.last);
}
END_TEST

START_TEST(test_deliver_fails)
{
	static const char s[] = ENV "DATA\r\nx\r\n.\r\nQUIT\r\n";
	struct sink k = { .fail = true };
	char *codes;
	int rc;

	buf_init(&k.last, 0);
	codes = run(s, sizeof(s) - 1, 0, &k, &rc);
	ck_assert_str_eq(codes, "220 250 250 354 451 221");
	ck_assert_int_eq(rc, 0);
	free(codes);
	buf_deinit(&k.last);
}
END_TEST

START_TEST(test_long_line_and_many_rcpts)
{
	struct sink k = { 0 };
	struct buf s, want;
	char *codes;
	size_t i;
	int rc;

	buf_init(&s, 0);
	buf_init(&want, 0);
	buf_adds(&s, "NOOP ");
	for (i = 0; i < 100000; i++)
		buf_addc(&s, 'x');
	buf_adds(&s, "\r\nMAIL FROM:<a@b.example>\r\n");
	buf_adds(&want, "220 500 250");
	for (i = 0; i < 1001; i++) {
		buf_adds(&s, "RCPT TO:<c@d.example>\r\n");
		buf_adds(&want, i < 1000 ? " 250" : " 452");
	}
	buf_adds(&s, "QUIT\r\n");
	buf_adds(&want, " 221");
	buf_init(&k.last, 0);
	codes = run(s.data, s.len, 0, &k, &rc);
	ck_assert_str_eq(codes, buf_cstr(&want));
	ck_assert_int_eq(rc, 0);
	free(codes);
	buf_deinit(&s);
	buf_deinit(&want);
	buf_deinit(&k.last);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("sendmail_smtp");
	TCase *tc = tcase_create("dialogue");

	tcase_add_loop_test(tc, test_dialogue, 0, ARRAY_LEN(cases));
	tcase_add_test(tc, test_deliver_fails);
	tcase_add_test(tc, test_long_line_and_many_rcpts);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
