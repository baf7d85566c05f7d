/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for addr_hdr.c, the RFC 5322 §3.4 address-list parser:
 * display names, groups, comments, quoted strings, obsolete forms, and
 * hostile input (unterminated constructs, deep nesting, NUL, bare CR/LF,
 * 8-bit text, oversized input).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "str.h"
#include "addr.h"
#include "test_main.h"

#define U	ADDR_SMTPUTF8
#define BARE	ADDR_BARE_LOCAL_OK

/* out: the addresses joined by "|"; NULL when the list is rejected. */
static const struct {
	const char *in;
	size_t	    len;
	unsigned    flags;
	const char *out;
} hdr_cases[] = {
	{ "a@b.example", 0, 0, "a@b.example" },
	{ "Name <a@b.example>", 0, 0, "a@b.example" },
	{ "Name <a@b>, \"Doe, John\" <c@d>, e@f (comment), "
	    "group: g@h, i@j;", 0, 0, "a@b|c@d|e@f|g@h|i@j" },
	{ "<a@b>", 0, 0, "a@b" },
	{ "  a@b  ,  c@d  ", 0, 0, "a@b|c@d" },
	{ "\"john doe\"@example.com", 0, 0, "john doe@example.com" },
	{ "\"a\\\"b\"@x", 0, 0, "a\"b@x" },
	{ "\"a\\\\b\"@x", 0, 0, "a\\b@x" },
	{ "\"a\\b\"@x", 0, 0, "ab@x" },
	{ "John Q. Public <jqp@example.com>", 0, 0, "jqp@example.com" },
	{ "(c) a@b (c)", 0, 0, "a@b" },
	{ "a(c)@(c)b", 0, 0, "a@b" },
	{ "a@b (nested (comment (deep)) here)", 0, 0, "a@b" },
	{ "a@b (escaped \\) paren)", 0, 0, "a@b" },
	{ "a@b (\"quote in comment)", 0, 0, "a@b" },
	{ "first . last @ example . com", 0, 0, "first.last@example.com" },
	{ "\"first\".last@example.com", 0, 0, "first.last@example.com" },
	{ "a . (c) b@x", 0, 0, "a.b@x" },
	{ "a@[192.0.2.1]", 0, 0, "a@[192.0.2.1]" },
	{ "a@[IPv6:::1]", 0, 0, "a@[IPv6:::1]" },
	{ "undisclosed-recipients:;", 0, 0, "" },
	{ "group:;, a@b", 0, 0, "a@b" },
	{ "g1: a@b;, g2: c@d;", 0, 0, "a@b|c@d" },
	{ "g: Name <a@b>, c@d ;", 0, 0, "a@b|c@d" },
	{ "\"Group Name\": a@b;", 0, 0, "a@b" },
	{ ", a@b,, ,c@d,", 0, 0, "a@b|c@d" },		/* obs-addr-list */
	{ "", 0, 0, "" },
	{ " (only a comment) ", 0, 0, "" },
	{ "<@route.example,@r2:a@b>", 0, 0, "a@b" },	/* obs-route */
	{ "Name <@r:a@b>", 0, 0, "a@b" },
	{ "a@b,\r\n c@d", 0, 0, "a@b|c@d" },		/* folded */
	{ "a@b,\n\tc@d", 0, 0, "a@b|c@d" },
	{ "\"a\r\n b\"@x", 0, 0, "a b@x" },		/* fold in quotes */
	{ "Name\r\n <a@b>", 0, 0, "a@b" },
	{ "J\xc3\xb6rg <j@x>", 0, U, "j@x" },
	{ "j\xc3\xb6rg@b\xc3\xbc" "cher.example", 0, U,
	    "j\xc3\xb6rg@b\xc3\xbc" "cher.example" },
	{ "a@B.Example", 0, 0, "a@B.Example" },
	{ "root", 0, BARE, "root" },
	{ "root, a@b", 0, BARE, "root|a@b" },
	{ "Admin <root>", 0, BARE, "root" },
	/* Rejected. */
	{ "root", 0, 0, NULL },
	{ "Name <a@b", 0, 0, NULL },
	{ "Name a@b>", 0, 0, NULL },
	{ "<a@b>>", 0, 0, NULL },
	{ "<<a@b>>", 0, 0, NULL },
	{ "\"unterminated@b", 0, 0, NULL },
	{ "\"Doe, John <a@b>", 0, 0, NULL },
	{ "a@b (unterminated", 0, 0, NULL },
	{ "a@b (nested (unterminated)", 0, 0, NULL },
	{ "a@b )", 0, 0, NULL },
	{ "a@b (c\\", 0, 0, NULL },			/* \ at end */
	{ "\"a\\", 0, 0, NULL },
	{ "a@b, c", 0, 0, NULL },
	{ "a b@c", 0, 0, NULL },
	{ "a@b c@d", 0, 0, NULL },
	{ "a@b c", 0, 0, NULL },
	{ "a..b@c", 0, 0, NULL },
	{ ".a@c", 0, 0, NULL },
	{ "a.@c", 0, 0, NULL },
	{ "a@b..c", 0, 0, NULL },
	{ "a@b.", 0, 0, NULL },
	{ "a@", 0, 0, NULL },
	{ "@b", 0, 0, NULL },
	{ "a@b@c", 0, 0, NULL },
	{ "a@-b.example", 0, 0, NULL },
	{ "a@[300.1.1.1]", 0, 0, NULL },
	{ "a@[1.2.3.4", 0, 0, NULL },
	{ "a@[1.2\\.3.4]", 0, 0, NULL },
	{ "a@x.[1.2.3.4]", 0, 0, NULL },
	{ "g: a@b", 0, 0, NULL },			/* no ";" */
	{ "g: h: a@b;;", 0, 0, NULL },			/* nested group */
	{ "a@b;", 0, 0, NULL },
	{ ": a@b;", 0, 0, NULL },			/* no group name */
	{ "Name <>", 0, 0, NULL },
	{ "<@r a@b>", 0, 0, NULL },
	{ "a@b\r\nc@d", 0, 0, NULL },			/* CRLF, no fold */
	{ "a@b\rc", 0, 0, NULL },			/* bare CR */
	{ "a@b\n", 0, 0, NULL },
	{ "a@b\r", 0, 0, NULL },
	{ "\"a\rb\"@x", 0, 0, NULL },
	{ "\"a\tb\"@x", 0, 0, NULL },			/* no SMTP form */
	{ "a@b\0, c@d", 10, 0, NULL },
	{ "a\0@b", 4, 0, NULL },
	{ "\"a\0\"@b", 6, 0, NULL },
	{ "a@b (c\0)", 9, 0, NULL },
	{ "Na\0me <a@b>", 11, 0, NULL },
	{ "a@b (\x01)", 0, 0, NULL },
	{ "Na\x7fme <a@b>", 0, 0, NULL },
	{ "a\\@b", 0, 0, NULL },
	{ "a]@b", 0, 0, NULL },
	{ "J\xc3\xb6rg <j@x>", 0, 0, NULL },		/* 8-bit, no UTF8 */
	{ "a@b (J\xc3\xb6rg)", 0, 0, NULL },
	{ "j\xc3\xb6rg@x", 0, 0, NULL },
	{ "j\xc0\xafrg@x", 0, U, NULL },		/* overlong */
	{ "J\xed\xa0\x80 <j@x>", 0, U, NULL },		/* surrogate */
	{ "\"J\xc3\" <j@x>", 0, U, NULL },		/* truncated */
	{ "j@x (\xf4\x90\x80\x80)", 0, U, NULL },	/* > U+10FFFF */
};

START_TEST(test_hdr)
{
	const char *in = hdr_cases[_i].in, *err = NULL;
	size_t len = hdr_cases[_i].len ? hdr_cases[_i].len : strlen(in);
	struct strv sv;
	char *joined;
	int rc;

	strv_init(&sv);
	strv_push(&sv, "keep");
	rc = addr_parse_header_list(in, len, hdr_cases[_i].flags, &sv, &err);
	if (hdr_cases[_i].out == NULL) {
		ck_assert_msg(rc == -1, "case %d \"%s\" accepted", _i, in);
		ck_assert_ptr_nonnull(err);
		/* The list is left as it was. */
		ck_assert_uint_eq(sv.n, 1);
		ck_assert_str_eq(sv.v[0], "keep");
		ck_assert_ptr_null(sv.v[1]);
	} else {
		ck_assert_msg(rc == 0, "case %d \"%s\": %s", _i, in, err);
		joined = strv_join(&sv, "|");
		ck_assert_str_eq(joined + 4 + (sv.n > 1),
		    hdr_cases[_i].out);
		free(joined);
	}
	strv_deinit(&sv);
}
END_TEST

/* Nesting: ADDR_COMMENT_DEPTH_MAX levels pass, one more fails. */
START_TEST(test_hdr_depth)
{
	size_t depth = ADDR_COMMENT_DEPTH_MAX + (size_t)_i;
	const char *err = NULL;
	struct strv sv;
	struct buf b;
	int rc;

	buf_init(&b, 0);
	buf_adds(&b, "a@b ");
	for (size_t i = 0; i < depth; i++)
		buf_addc(&b, '(');
	for (size_t i = 0; i < depth; i++)
		buf_addc(&b, ')');
	strv_init(&sv);
	rc = addr_parse_header_list(b.data, b.len, 0, &sv, &err);
	if (_i == 0) {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(sv.n, 1);
		ck_assert_str_eq(sv.v[0], "a@b");
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, "comments nested too deep");
		ck_assert_uint_eq(sv.n, 0);
	}
	strv_deinit(&sv);
	buf_deinit(&b);
}
END_TEST

/* Oversized input: the header limit, the address count, long addresses. */
START_TEST(test_hdr_bounds)
{
	const char *err = NULL;
	struct strv sv;
	struct buf b;
	char *p;

	strv_init(&sv);
	buf_init(&b, 0);
	/* Exactly ADDR_HDR_MAX bytes of commas pass; one more fails. */
	p = malloc(ADDR_HDR_MAX + 1);
	ck_assert_ptr_nonnull(p);
	memset(p, ',', ADDR_HDR_MAX + 1);
	ck_assert_int_eq(addr_parse_header_list(p, ADDR_HDR_MAX, 0, &sv,
	    &err), 0);
	ck_assert_uint_eq(sv.n, 0);
	ck_assert_int_eq(addr_parse_header_list(p, ADDR_HDR_MAX + 1, 0, &sv,
	    &err), -1);
	ck_assert_str_eq(err, "header too long");
	free(p);
	/* ADDR_HDR_ADDRS_MAX addresses pass, one more fails. */
	for (size_t i = 0; i < ADDR_HDR_ADDRS_MAX; i++)
		buf_adds(&b, "a@b,");
	ck_assert_int_eq(addr_parse_header_list(b.data, b.len, 0, &sv,
	    &err), 0);
	ck_assert_uint_eq(sv.n, ADDR_HDR_ADDRS_MAX);
	strv_deinit(&sv);
	buf_adds(&b, "a@b");
	ck_assert_int_eq(addr_parse_header_list(b.data, b.len, 0, &sv,
	    &err), -1);
	ck_assert_str_eq(err, "too many addresses");
	ck_assert_uint_eq(sv.n, 0);
	/* Local part 64 passes, 65 fails. */
	buf_reset(&b);
	for (size_t i = 0; i < ADDR_LOCAL_MAX; i++)
		buf_addc(&b, 'l');
	buf_adds(&b, "@x");
	ck_assert_int_eq(addr_parse_header_list(b.data, b.len, 0, &sv,
	    &err), 0);
	buf_reset(&b);
	for (size_t i = 0; i <= ADDR_LOCAL_MAX; i++)
		buf_addc(&b, 'l');
	buf_adds(&b, "@x");
	ck_assert_int_eq(addr_parse_header_list(b.data, b.len, 0, &sv,
	    &err), -1);
	ck_assert_str_eq(err, "local part too long");
	/* As a path: 64 + 1 + 189 + "<>" = 256 passes, one more fails. */
	buf_reset(&b);
	for (size_t i = 0; i < ADDR_LOCAL_MAX; i++)
		buf_addc(&b, 'l');
	buf_addc(&b, '@');
	for (size_t i = 0; i < 189; i++)
		buf_addc(&b, i % 64 == 63 ? '.' : 'd');
	ck_assert_int_eq(addr_parse_header_list(b.data, b.len, 0, &sv,
	    &err), 0);
	ck_assert_uint_eq(sv.n, 2);
	buf_addc(&b, 'd');
	ck_assert_int_eq(addr_parse_header_list(b.data, b.len, 0, &sv,
	    &err), -1);
	ck_assert_str_eq(err, "address too long");
	ck_assert_uint_eq(sv.n, 2);
	/* A huge quoted string is refused without trouble. */
	buf_reset(&b);
	buf_addc(&b, '"');
	for (size_t i = 0; i < 100000; i++)
		buf_addc(&b, 'q');
	buf_adds(&b, "\"@x");
	ck_assert_int_eq(addr_parse_header_list(b.data, b.len, 0, &sv,
	    &err), -1);
	ck_assert_ptr_nonnull(err);
	buf_deinit(&b);
	strv_deinit(&sv);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("addr_hdr");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_hdr, 0, ARRAY_LEN(hdr_cases));
	tcase_add_loop_test(tc, test_hdr_depth, 0, 2);
	tcase_add_test(tc, test_hdr_bounds);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
