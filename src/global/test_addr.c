/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for addr.c and addr_path.c: UTF-8, domains, address
 * literals, local parts and quoting, SMTP paths with their size limits,
 * and the routing helpers.  The RFC 5322 list parser is tested in
 * test_addr_hdr.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "str.h"
#include "addr.h"
#include "test_main.h"

#define U	ADDR_SMTPUTF8
#define MF	ADDR_MAIL_FROM
#define RT	ADDR_RCPT_TO
#define LAX	ADDR_NO_ANGLE_OK

/* Length of a table string: len when given (for NUL inside), else strlen. */
static size_t
tlen(const char *s, size_t len)
{
	return len != 0 ? len : strlen(s);
}

static const struct {
	const char *in;
	size_t	    len;
	bool	    ok;
} utf8_cases[] = {
	{ "plain ascii", 0, true },
	{ "\xc3\xa4", 0, true },			/* U+00E4 */
	{ "\xe2\x82\xac", 0, true },			/* U+20AC */
	{ "\xf0\x9f\x98\x80", 0, true },		/* U+1F600 */
	{ "\xf4\x8f\xbf\xbf", 0, true },		/* U+10FFFF */
	{ "\xed\x9f\xbf", 0, true },			/* U+D7FF */
	{ "\xee\x80\x80", 0, true },			/* U+E000 */
	{ "\xc2\xa0", 0, true },			/* U+00A0 */
	{ "\xc0\xaf", 0, false },			/* overlong '/' */
	{ "\xc1\xbf", 0, false },			/* overlong */
	{ "\xe0\x80\xaf", 0, false },			/* overlong 3 */
	{ "\xe0\x9f\xbf", 0, false },			/* overlong 3 */
	{ "\xf0\x80\x80\xaf", 0, false },		/* overlong 4 */
	{ "\xf0\x8f\xbf\xbf", 0, false },		/* overlong 4 */
	{ "\xed\xa0\x80", 0, false },			/* U+D800 */
	{ "\xed\xbf\xbf", 0, false },			/* U+DFFF */
	{ "\xf4\x90\x80\x80", 0, false },		/* U+110000 */
	{ "\xf5\x80\x80\x80", 0, false },
	{ "\xff", 0, false },
	{ "\xfe", 0, false },
	{ "\x80", 0, false },				/* lone continuation */
	{ "\xbf", 0, false },
	{ "\xc3", 0, false },				/* truncated */
	{ "\xe2\x82", 0, false },			/* truncated */
	{ "\xf0\x9f\x98", 0, false },			/* truncated */
	{ "\xc3\x28", 0, false },			/* bad continuation */
	{ "\xe2\x28\xa1", 0, false },
	{ "\xc2\x80", 0, false },			/* C1 control */
	{ "\xc2\x9f", 0, false },			/* C1 control */
	{ "a\0\xc3\xa4", 4, true },			/* NUL is ASCII */
};

START_TEST(test_utf8)
{
	const char *in = utf8_cases[_i].in;

	ck_assert_msg(addr_utf8_valid(in, tlen(in, utf8_cases[_i].len)) ==
	    utf8_cases[_i].ok, "case %d", _i);
}
END_TEST

static const struct {
	const char *in;
	size_t	    len;
	unsigned    flags;
	bool	    ok;
} domain_cases[] = {
	{ "example.com", 0, 0, true },
	{ "EXAMPLE.COM", 0, 0, true },
	{ "a", 0, 0, true },
	{ "a-b.c-d.e", 0, 0, true },
	{ "xn--bcher-kva.example", 0, 0, true },
	{ "1.example", 0, 0, true },
	{ "123.com", 0, 0, true },
	{ "a1", 0, 0, true },
	{ "b\xc3\xbc" "cher.example", 0, U, true },
	{ "b\xc3\xbc" "cher.example", 0, 0, false },	/* needs SMTPUTF8 */
	{ "b\xc3" "cher.example", 0, U, false },	/* malformed */
	{ "\xed\xa0\x80.example", 0, U, false },	/* surrogate */
	{ "", 0, 0, false },
	{ ".", 0, 0, false },
	{ ".example.com", 0, 0, false },
	{ "example.com.", 0, 0, false },
	{ "example..com", 0, 0, false },
	{ "-example.com", 0, 0, false },
	{ "example-.com", 0, 0, false },
	{ "example.com-", 0, 0, false },
	{ "example.-com", 0, 0, false },
	{ "exa_mple.com", 0, 0, false },
	{ "exa mple.com", 0, 0, false },
	{ "example.com\r\n", 0, 0, false },
	{ "example.com\n", 0, 0, false },
	{ "exa\rmple.com", 0, 0, false },
	{ "example\0.com", 12, 0, false },
	{ "example.com\0", 12, 0, false },
	{ "1.2.3.4", 0, 0, false },			/* numeric TLD */
	{ "example.123", 0, 0, false },
	{ "[1.2.3.4]", 0, 0, false },			/* literal: no */
	{ "a@b", 0, 0, false },
	{ "ex\x7f.com", 0, 0, false },
	{ "ex\tmple.com", 0, 0, false },
};

START_TEST(test_domain)
{
	const char *in = domain_cases[_i].in, *err = NULL;
	bool ok = addr_valid_domain(in, tlen(in, domain_cases[_i].len),
	    domain_cases[_i].flags, &err);

	ck_assert_msg(ok == domain_cases[_i].ok, "case %d \"%s\"", _i, in);
	if (!ok)
		ck_assert_ptr_nonnull(err);
}
END_TEST

static const struct {
	const char *in;
	bool	    ok;
} literal_cases[] = {
	{ "[1.2.3.4]", true },
	{ "[0.0.0.0]", true },
	{ "[255.255.255.255]", true },
	{ "[192.0.2.1]", true },
	{ "[IPv6:::1]", true },
	{ "[ipv6:::1]", true },				/* ABNF: no case */
	{ "[IPv6:::]", true },
	{ "[IPv6:2001:db8::1]", true },
	{ "[IPv6:2001:db8::]", true },
	{ "[IPv6:1:2:3:4:5:6:7:8]", true },
	{ "[IPv6:ffff:FFFF:0:0:0:0:0:1]", true },
	{ "[IPv6:1::8]", true },
	{ "[IPv6:1:2:3::6:7:8]", true },		/* 6 groups + :: */
	{ "[IPv6:1:2:3:4:5:6:1.2.3.4]", true },		/* v4-full */
	{ "[IPv6:::ffff:192.0.2.1]", true },		/* v4-comp */
	{ "[IPv6:::192.0.2.1]", true },
	{ "[IPv6:1:2::3:4:1.2.3.4]", true },		/* 4 + :: + v4 */
	{ "[300.1.1.1]", false },
	{ "[256.1.1.1]", false },
	{ "[1.2.3]", false },
	{ "[1.2.3.4.5]", false },
	{ "[1.2.3.]", false },
	{ "[.1.2.3]", false },
	{ "[1..2.3]", false },
	{ "[1.2.3.4294967297]", false },		/* overflow */
	{ "[1.2.3.99999999999999999999]", false },
	{ "[01.2.3.4]", false },			/* leading zero */
	{ "[1.2.3.-4]", false },
	{ "[1.2.3.4 ]", false },
	{ "[ 1.2.3.4]", false },
	{ "[1.2.3.4", false },
	{ "1.2.3.4]", false },
	{ "[]", false },
	{ "[", false },
	{ "[IPv6:]", false },
	{ "[IPv6:1::2::3]", false },			/* two "::" */
	{ "[IPv6:ffff1::]", false },			/* 5 hex digits */
	{ "[IPv6:fffff::1]", false },
	{ "[IPv6:1:2:3:4:5:6:7]", false },		/* 7 groups */
	{ "[IPv6:1:2:3:4:5:6:7:8:9]", false },
	{ "[IPv6:1:2:3:4::5:6:7]", false },		/* 7 + :: */
	{ "[IPv6:1:2:3:4:5:6:7::]", false },		/* :: for 1 group */
	{ "[IPv6::1]", false },				/* single colon */
	{ "[IPv6:1:]", false },
	{ "[IPv6:1::2:]", false },
	{ "[IPv6::::1]", false },
	{ "[IPv6:g::1]", false },
	{ "[IPv6:1:2:3:4:5:1.2.3.4]", false },		/* v4-full: 5 */
	{ "[IPv6:1:2:3::4:5:1.2.3.4]", false },		/* v4-comp: 5 */
	{ "[IPv6:1.2.3.4::1]", false },
	{ "[IPv6:::1.2.3]", false },
	{ "[IPv6:::300.1.1.1]", false },
	{ "[IPv6:::1\r\n]", false },
	{ "[X-tag:abc]", false },			/* unregistered */
	{ "[tag:]", false },
	{ "[:abc]", false },
	{ "[a[b]", false },
};

START_TEST(test_literal)
{
	const char *in = literal_cases[_i].in, *err = NULL;
	bool ok = addr_valid_literal(in, strlen(in), &err);

	ck_assert_msg(ok == literal_cases[_i].ok, "case \"%s\"", in);
	if (!ok)
		ck_assert_ptr_nonnull(err);
}
END_TEST

/* Internal local part -> external form; NULL external = unrepresentable. */
static const struct {
	const char *local;
	unsigned    flags;
	const char *ext;
} quote_cases[] = {
	{ "user", 0, "user" },
	{ "first.last", 0, "first.last" },
	{ "u+ext", 0, "u+ext" },
	{ "!#$%&'*+-/=?^_`{|}~", 0, "!#$%&'*+-/=?^_`{|}~" },
	{ "john doe", 0, "\"john doe\"" },
	{ "a..b", 0, "\"a..b\"" },
	{ ".a", 0, "\".a\"" },
	{ "a.", 0, "\"a.\"" },
	{ "a\"b", 0, "\"a\\\"b\"" },
	{ "a\\b", 0, "\"a\\\\b\"" },
	{ "\"", 0, "\"\\\"\"" },
	{ "a@b", 0, "\"a@b\"" },
	{ "a,b", 0, "\"a,b\"" },
	{ "<a>", 0, "\"<a>\"" },
	{ "(c)", 0, "\"(c)\"" },
	{ " ", 0, "\" \"" },
	{ "", 0, "\"\"" },
	{ "j\xc3\xb6rg", U, "j\xc3\xb6rg" },
	{ "j\xc3\xb6 rg", U, "\"j\xc3\xb6 rg\"" },
	{ "j\xc3\xb6rg", 0, NULL },			/* 8-bit, no UTF8 */
	{ "j\xc3rg", U, NULL },				/* malformed */
	{ "a\rb", 0, NULL },
	{ "a\nb", 0, NULL },
	{ "a\tb", 0, NULL },
	{ "a\x7f", 0, NULL },
	{ "\x01", 0, NULL },
};

START_TEST(test_quote)
{
	const char *err = NULL, *ext = quote_cases[_i].ext;
	unsigned flags = quote_cases[_i].flags;
	struct buf b, back;
	int rc;

	buf_init(&b, 0);
	buf_init(&back, 0);
	rc = addr_quote_local(&b, quote_cases[_i].local, flags, &err);
	if (ext == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_ptr_nonnull(err);
		ck_assert_uint_eq(b.len, 0);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(buf_cstr(&b), ext);
		/* Round trip: unquoting gives back the internal form. */
		ck_assert_int_eq(addr_unquote_local(&back, b.data, b.len,
		    flags, &err), 0);
		ck_assert_str_eq(buf_cstr(&back), quote_cases[_i].local);
	}
	buf_deinit(&b);
	buf_deinit(&back);
}
END_TEST

/* External local part -> internal form; NULL internal = rejected. */
static const struct {
	const char *in;
	size_t	    len;
	unsigned    flags;
	const char *out;
} unquote_cases[] = {
	{ "user", 0, 0, "user" },
	{ "\"user\"", 0, 0, "user" },
	{ "\"\\u\\s\\e\\r\"", 0, 0, "user" },
	{ "\"a b\"", 0, 0, "a b" },
	{ "\"a\\\"b\"", 0, 0, "a\"b" },
	{ "\"a\\\\b\"", 0, 0, "a\\b" },
	{ "\"\"", 0, 0, "" },
	{ "\"\xc3\xa4\"", 0, U, "\xc3\xa4" },
	{ "\"\xc3\xa4\"", 0, 0, NULL },
	{ "\"\xc0\xaf\"", 0, U, NULL },
	{ "\"\\\xc3\xa4\"", 0, U, NULL },		/* pair is ASCII */
	{ "\"abc", 0, 0, NULL },			/* unterminated */
	{ "\"", 0, 0, NULL },
	{ "\"abc\\\"", 0, 0, NULL },			/* escaped close */
	{ "\"abc\\", 0, 0, NULL },			/* \ at end */
	{ "\"a\"b", 0, 0, NULL },			/* text after */
	{ "\"a\"\"b\"", 0, 0, NULL },
	{ "\"a\rb\"", 0, 0, NULL },
	{ "\"a\nb\"", 0, 0, NULL },
	{ "\"a\\\rb\"", 0, 0, NULL },
	{ "\"a\0b\"", 5, 0, NULL },
	{ "\"a\\\0b\"", 6, 0, NULL },
	{ "\"a\tb\"", 0, 0, NULL },
	{ "a..b", 0, 0, NULL },
	{ ".a", 0, 0, NULL },
	{ "a.", 0, 0, NULL },
	{ "a b", 0, 0, NULL },
	{ "a\"b", 0, 0, NULL },
	{ "a\\b", 0, 0, NULL },
	{ "a\0b", 3, 0, NULL },
	{ "", 0, 0, NULL },
};

START_TEST(test_unquote)
{
	const char *in = unquote_cases[_i].in, *err = NULL;
	const char *out = unquote_cases[_i].out;
	struct buf b;
	int rc;

	buf_init(&b, 0);
	/* "" has length 0 and means the empty input here. */
	rc = addr_unquote_local(&b, in, tlen(in, unquote_cases[_i].len),
	    unquote_cases[_i].flags, &err);
	if (out == NULL) {
		ck_assert_msg(rc == -1, "case %d accepted", _i);
		ck_assert_ptr_nonnull(err);
		ck_assert_uint_eq(b.len, 0);
	} else {
		ck_assert_msg(rc == 0, "case %d: %s", _i, err);
		ck_assert_str_eq(buf_cstr(&b), out);
	}
	buf_deinit(&b);
}
END_TEST

/*
 * SMTP paths.  local == NULL: rejected.  end == 0: the path ends at the
 * end of the input.
 */
static const struct {
	const char *in;
	size_t	    len;
	unsigned    flags;
	const char *local;
	const char *domain;
	size_t	    end;
} path_cases[] = {
	{ "<user@example.com>", 0, 0, "user", "example.com", 0 },
	{ "<User@Example.COM>", 0, 0, "User", "Example.COM", 0 },
	{ "<user@example.com> SIZE=100", 0, 0, "user", "example.com", 18 },
	{ "<user@example.com>x", 0, 0, "user", "example.com", 18 },
	{ "<\"john doe\"@example.com>", 0, 0, "john doe", "example.com", 0 },
	{ "<\"a\\\"b\"@x.y>", 0, 0, "a\"b", "x.y", 0 },
	{ "<\"a>b\"@x.y>", 0, 0, "a>b", "x.y", 0 },
	{ "<\"a@b\"@x.y>", 0, 0, "a@b", "x.y", 0 },
	{ "<user@[192.0.2.1]>", 0, 0, "user", "[192.0.2.1]", 0 },
	{ "<user@[IPv6:2001:db8::1]>", 0, 0, "user", "[IPv6:2001:db8::1]",
	    0 },
	{ "<@a.example,@b.example:user@c.example>", 0, 0, "user",
	    "c.example", 0 },
	{ "<@a.example:user@c.example>", 0, 0, "user", "c.example", 0 },
	{ "<>", 0, MF, "", "", 0 },
	{ "<> BODY=8BITMIME", 0, MF, "", "", 2 },
	{ "<postmaster>", 0, RT, "postmaster", "", 0 },
	{ "<PostMaster>", 0, RT, "PostMaster", "", 0 },
	{ "<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", 0, U, "j\xc3\xb6rg",
	    "b\xc3\xbc" "cher.example", 0 },
	{ "user@example.com", 0, LAX, "user", "example.com", 0 },
	{ "  user@example.com SIZE=1", 0, LAX, "user", "example.com", 18 },
	{ " <user@example.com>", 0, LAX, "user", "example.com", 0 },
	{ "\"a b\"@example.com SIZE=1", 0, LAX, "a b", "example.com", 17 },
	{ "<>", 0, LAX | MF, "", "", 0 },
	/* Rejected. */
	{ "user@example.com", 0, 0, NULL, NULL, 0 },	/* no <> */
	{ " <user@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<>", 0, RT, NULL, NULL, 0 },			/* null for RCPT */
	{ "<>", 0, 0, NULL, NULL, 0 },
	{ "<postmaster>", 0, MF, NULL, NULL, 0 },
	{ "<postmaster>", 0, 0, NULL, NULL, 0 },
	{ "postmaster", 0, RT | LAX, NULL, NULL, 0 },
	{ "<postmasterx>", 0, RT, NULL, NULL, 0 },
	{ "<user>", 0, 0, NULL, NULL, 0 },
	{ "<user@>", 0, 0, NULL, NULL, 0 },
	{ "<@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<user@example.com", 0, 0, NULL, NULL, 0 },	/* truncated */
	{ "<user@exam", 0, 0, NULL, NULL, 0 },
	{ "<", 0, 0, NULL, NULL, 0 },
	{ "", 0, 0, NULL, NULL, 0 },
	{ "<\"user@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<\"user\"\"@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<us\"er@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<\"us\\\"@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<\"us\\", 0, 0, NULL, NULL, 0 },		/* \ at end */
	{ "<us\\er@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<a b@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<a..b@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<.a@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<a.@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<a@b@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<<a@example.com>>", 0, 0, NULL, NULL, 0 },
	{ "<a@example.com >", 0, 0, NULL, NULL, 0 },
	{ "< a@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<a@example..com>", 0, 0, NULL, NULL, 0 },
	{ "<a@.example.com>", 0, 0, NULL, NULL, 0 },
	{ "<a@example.com.>", 0, 0, NULL, NULL, 0 },
	{ "<a@-example.com>", 0, 0, NULL, NULL, 0 },
	{ "<a@example-.com>", 0, 0, NULL, NULL, 0 },
	{ "<a@exa_mple.com>", 0, 0, NULL, NULL, 0 },
	{ "<a@[300.1.1.1]>", 0, 0, NULL, NULL, 0 },
	{ "<a@[1.2.3]>", 0, 0, NULL, NULL, 0 },
	{ "<a@[IPv6:1::2::3]>", 0, 0, NULL, NULL, 0 },
	{ "<a@[1.2.3.4294967297]>", 0, 0, NULL, NULL, 0 },
	{ "<a@[IPv6:ffff1::]>", 0, 0, NULL, NULL, 0 },
	{ "<a@[1.2.3.4>", 0, 0, NULL, NULL, 0 },
	{ "<a@1.2.3.4]>", 0, 0, NULL, NULL, 0 },
	{ "<a@[1.2.3.4]x>", 0, 0, NULL, NULL, 0 },
	{ "<a\r@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<a@example.com\r\n>", 0, 0, NULL, NULL, 0 },
	{ "<a@exa\nmple.com>", 0, 0, NULL, NULL, 0 },
	{ "<\"a\rb\"@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<\"a\nb\"@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<a\0b@example.com>", 16, 0, NULL, NULL, 0 },
	{ "<ab@exa\0mple.com>", 17, 0, NULL, NULL, 0 },
	{ "<ab@example.com\0>", 17, 0, NULL, NULL, 0 },
	{ "<\"a\0b\"@example.com>", 18, 0, NULL, NULL, 0 },
	{ "<\x01@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<a\x7f@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<a\t@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<j\xc3\xb6rg@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<jorg@b\xc3\xbc" "cher.example>", 0, 0, NULL, NULL, 0 },
	{ "<\"j\xc3\xb6rg\"@example.com>", 0, 0, NULL, NULL, 0 },
	{ "<j\xc3rg@example.com>", 0, U, NULL, NULL, 0 },
	{ "<j\xc0\xafrg@example.com>", 0, U, NULL, NULL, 0 },
	{ "<j\xed\xa0\x80@example.com>", 0, U, NULL, NULL, 0 },
	{ "<j\xf4\x90\x80\x80@example.com>", 0, U, NULL, NULL, 0 },
	{ "<a@b\xff.example>", 0, U, NULL, NULL, 0 },
	{ "<a@b\xc3>", 0, U, NULL, NULL, 0 },		/* truncated UTF-8 */
	{ "<@a.example user@c.example>", 0, 0, NULL, NULL, 0 },
	{ "<@a.example,user@c.example>", 0, 0, NULL, NULL, 0 },
	{ "<@:user@c.example>", 0, 0, NULL, NULL, 0 },
	{ "<@a..b:user@c.example>", 0, 0, NULL, NULL, 0 },
	{ "<@a,@:user@c.example>", 0, 0, NULL, NULL, 0 },
	{ "<@a.example,,@b:user@c.example>", 0, 0, NULL, NULL, 0 },
	{ "<@a.example:>", 0, 0, NULL, NULL, 0 },
	{ "<@a.example:@b.example:u@c>", 0, 0, NULL, NULL, 0 },
	{ "user@example.com>", 0, LAX, NULL, NULL, 0 },
	{ "<user@example.com", 0, LAX, NULL, NULL, 0 },
	{ "", 0, LAX, NULL, NULL, 0 },
	{ "   ", 0, LAX, NULL, NULL, 0 },
};

START_TEST(test_path)
{
	const char *in = path_cases[_i].in, *err = NULL;
	size_t len = tlen(in, path_cases[_i].len), end = 12345;
	struct addr_path p;
	int rc;

	rc = addr_parse_path(in, len, path_cases[_i].flags, &p, &end, &err);
	if (path_cases[_i].local == NULL) {
		ck_assert_msg(rc == -1, "case %d \"%s\" accepted", _i, in);
		ck_assert_ptr_nonnull(err);
		ck_assert_ptr_null(p.local);
		ck_assert_ptr_null(p.domain);
		return;
	}
	ck_assert_msg(rc == 0, "case %d \"%s\": %s", _i, in, err);
	ck_assert_str_eq(p.local, path_cases[_i].local);
	ck_assert_str_eq(p.domain, path_cases[_i].domain);
	ck_assert_uint_eq(end, path_cases[_i].end ? path_cases[_i].end : len);
	ck_assert(p.null == (*p.local == '\0'));
	ck_assert(p.routed == (strstr(in, "<@") != NULL));
	addr_path_deinit(&p);
	ck_assert_ptr_null(p.local);
}
END_TEST

/* Builds "<" local-part "@" domain ">" with the given lengths. */
static char *
make_path(size_t local_len, size_t domain_len)
{
	struct buf b;

	buf_init(&b, 0);
	buf_addc(&b, '<');
	for (size_t i = 0; i < local_len; i++)
		buf_addc(&b, 'l');
	buf_addc(&b, '@');
	/* Labels of 63 "d" joined by dots, the last one shorter. */
	for (size_t i = 0; i < domain_len; i++)
		buf_addc(&b, i % 64 == 63 ? '.' : 'd');
	buf_addc(&b, '>');
	return buf_steal(&b);
}

static const struct {
	size_t local, domain;
	bool   ok;
} limit_cases[] = {
	{ 64, 189, true },		/* path 256 */
	{ 64, 190, false },		/* path 257 */
	{ 65, 10, false },		/* local part 65 */
	{ 64, 10, true },
	{ 1, 252, true },		/* path 256 */
	{ 1, 253, false },		/* path 257 */
	{ 60, 193, true },		/* path 256 */
	{ 60, 194, false },
};

START_TEST(test_path_limits)
{
	char *in = make_path(limit_cases[_i].local, limit_cases[_i].domain);
	const char *err = NULL;
	struct addr_path p;
	size_t end;
	int rc;

	rc = addr_parse_path(in, strlen(in), 0, &p, &end, &err);
	ck_assert_msg((rc == 0) == limit_cases[_i].ok, "case %d: %s", _i,
	    err != NULL ? err : "accepted");
	if (rc == 0) {
		ck_assert_uint_eq(strlen(p.local), limit_cases[_i].local);
		ck_assert_uint_eq(strlen(p.domain), limit_cases[_i].domain);
		ck_assert_uint_eq(end, strlen(in));
		addr_path_deinit(&p);
	} else {
		ck_assert_ptr_nonnull(err);
	}
	free(in);
}
END_TEST

START_TEST(test_other_limits)
{
	char label[ADDR_LABEL_MAX + 2], dom[ADDR_DOMAIN_MAX + 2];
	char local[ADDR_LOCAL_MAX + 2];
	const char *err = NULL;
	struct buf b;

	/* Label: 63 passes, 64 fails. */
	memset(label, 'a', sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0';
	ck_assert(addr_valid_domain(label, ADDR_LABEL_MAX, 0, &err));
	ck_assert(!addr_valid_domain(label, ADDR_LABEL_MAX + 1, 0, &err));
	ck_assert_str_eq(err, "domain label too long");
	/* Domain: 255 passes, 256 fails. */
	for (size_t i = 0; i < sizeof(dom) - 1; i++)
		dom[i] = i % 2 ? '.' : 'a';
	dom[sizeof(dom) - 1] = '\0';
	ck_assert(addr_valid_domain(dom, ADDR_DOMAIN_MAX, 0, &err));
	err = NULL;
	ck_assert(!addr_valid_domain(dom, ADDR_DOMAIN_MAX + 1, 0, &err));
	ck_assert_ptr_nonnull(err);
	dom[ADDR_DOMAIN_MAX + 1] = '\0';
	dom[ADDR_DOMAIN_MAX] = 'a';	/* no trailing dot: length only */
	ck_assert(!addr_valid_domain_or_literal(dom, ADDR_DOMAIN_MAX + 1, 0,
	    &err));
	ck_assert_str_eq(err, "domain too long");
	/* Local part: 64 passes, 65 fails; quoting counts. */
	memset(local, 'l', sizeof(local) - 1);
	local[sizeof(local) - 1] = '\0';
	ck_assert(!addr_valid_local(local, 0, &err));
	ck_assert_str_eq(err, "local part too long");
	local[ADDR_LOCAL_MAX] = '\0';
	ck_assert(addr_valid_local(local, 0, &err));
	local[0] = ' ';		/* needs quotes: 66 octets */
	ck_assert(!addr_valid_local(local, 0, &err));
	local[ADDR_LOCAL_MAX - 2] = '\0';
	ck_assert(addr_valid_local(local, 0, &err));
	ck_assert(!addr_valid_local("", 0, &err));
	/* A quoting into a full buffer fails and leaves it unchanged. */
	buf_init(&b, 4);
	ck_assert_int_eq(addr_quote(&b, "ab", "c", 0, &err), 0);
	ck_assert_str_eq(buf_cstr(&b), "ab@c");
	buf_reset(&b);
	ck_assert_int_eq(addr_quote(&b, "a b", NULL, 0, &err), -1);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(addr_quote(&b, "abc", "d", 0, &err), -1);
	ck_assert_uint_eq(b.len, 0);
	buf_deinit(&b);
}
END_TEST

START_TEST(test_quote_full)
{
	const char *err = NULL;
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(addr_quote(&b, "john doe", "example.com", 0, &err),
	    0);
	ck_assert_str_eq(buf_cstr(&b), "\"john doe\"@example.com");
	buf_reset(&b);
	ck_assert_int_eq(addr_quote(&b, "a..b", "x", 0, &err), 0);
	ck_assert_str_eq(buf_cstr(&b), "\"a..b\"@x");
	buf_reset(&b);
	ck_assert_int_eq(addr_quote(&b, "postmaster", "", 0, &err), 0);
	ck_assert_str_eq(buf_cstr(&b), "postmaster");
	buf_reset(&b);
	ck_assert_int_eq(addr_quote(&b, "a\rb", "x", 0, &err), -1);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_ptr_nonnull(err);
	buf_deinit(&b);
}
END_TEST

/* Every accepted path re-quotes to a path that parses the same way. */
START_TEST(test_path_roundtrip)
{
	const char *in = path_cases[_i].in, *err = NULL;
	unsigned flags = path_cases[_i].flags & ~LAX;
	struct addr_path p, q;
	struct buf b;
	size_t end;

	if (path_cases[_i].local == NULL ||
	    addr_parse_path(in, tlen(in, path_cases[_i].len),
	    path_cases[_i].flags, &p, &end, &err) == -1)
		return;
	buf_init(&b, 0);
	buf_addc(&b, '<');
	if (!p.null)
		ck_assert_int_eq(addr_quote(&b, p.local, p.domain, flags,
		    &err), 0);
	buf_addc(&b, '>');
	ck_assert_msg(addr_parse_path(b.data, b.len, flags, &q, &end,
	    &err) == 0, "\"%s\": %s", b.data, err);
	ck_assert_str_eq(q.local, p.local);
	ck_assert_str_eq(q.domain, p.domain);
	ck_assert_uint_eq(end, b.len);
	addr_path_deinit(&p);
	addr_path_deinit(&q);
	buf_deinit(&b);
}
END_TEST

static const struct {
	const char *local, *delims;
	const char *base, *ext;		/* base NULL: not split */
} ext_cases[] = {
	{ "user+foo", "+", "user", "foo" },
	{ "user+foo+bar", "+", "user", "foo+bar" },
	{ "user-foo+bar", "+-", "user", "foo+bar" },
	{ "user+foo-bar", "+-", "user", "foo-bar" },
	{ "user+", "+", "user", "" },
	{ "user", "+", NULL, NULL },
	{ "+foo", "+", NULL, NULL },
	{ "user+foo", "", NULL, NULL },
	{ "user+foo", "-", NULL, NULL },
	/* Only the whole local part is exempt, as in Postfix. */
	{ "postmaster+foo", "+", "postmaster", "foo" },
	{ "Post+master", "+", "Post", "master" },
	{ "mailer-daemon", "+-", NULL, NULL },
	{ "MAILER-DAEMON", "-", NULL, NULL },
	{ "double-bounce", "-", NULL, NULL },
	{ "owner-list", "-", NULL, NULL },
	{ "list-request", "-", NULL, NULL },
	{ "list-Request", "+-", NULL, NULL },
	{ "owner-list", "+", NULL, NULL },
	{ "owner+list", "+-", "owner", "list" },
	{ "list-request", "+", NULL, NULL },
	{ "a-request-b", "-", "a", "request-b" },
	{ "-request", "-", NULL, NULL },
};

START_TEST(test_split_ext)
{
	size_t base_len = 999;
	const char *ext = NULL;
	bool split = addr_split_ext(ext_cases[_i].local, ext_cases[_i].delims,
	    &base_len, &ext);

	ck_assert_msg(split == (ext_cases[_i].base != NULL), "case %d", _i);
	if (!split)
		return;
	ck_assert_uint_eq(base_len, strlen(ext_cases[_i].base));
	ck_assert(strncmp(ext_cases[_i].local, ext_cases[_i].base,
	    base_len) == 0);
	ck_assert_str_eq(ext, ext_cases[_i].ext);
}
END_TEST

static const struct {
	const char *name;
	bool	    ok;
} host_cases[] = {
	{ "mail.example.com", true },
	{ "localhost", true },
	{ "MX1.Example.COM", true },
	{ "a-b", true },
	{ "0mail.example", true },
	{ "", false },
	{ ".", false },
	{ "mail..example", false },
	{ ".mail", false },
	{ "mail.", false },
	{ "-mail.example", false },
	{ "mail-.example", false },
	{ "mail_x.example", false },
	{ "mail example", false },
	{ "mail.example\r\n", false },
	{ "192.0.2.1", false },
	{ "[192.0.2.1]", false },
	{ "b\xc3\xbc" "cher.example", false },
	{ "mail/x", false },
	{ "mail@x", false },
};

START_TEST(test_hostname)
{
	const char *err = NULL;
	bool ok = addr_valid_hostname(host_cases[_i].name, &err);

	ck_assert_msg(ok == host_cases[_i].ok, "case \"%s\"",
	    host_cases[_i].name);
	if (!ok)
		ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(test_helpers)
{
	char d[] = "MAIL.Example.COM", u[] = "B\xc3\x9c" "CHER.Example";

	ck_assert_str_eq(addr_domain_fold(d), "mail.example.com");
	/* U-labels are left as they are; only ASCII letters fold. */
	ck_assert_str_eq(addr_domain_fold(u), "b\xc3\x9c" "cher.example");
	ck_assert(addr_is_fqdn("mail.example.com", 0));
	ck_assert(addr_is_fqdn("example.com", 0));
	ck_assert(!addr_is_fqdn("localhost", 0));
	ck_assert(!addr_is_fqdn("example.com.", 0));
	ck_assert(!addr_is_fqdn("example..com", 0));
	ck_assert(!addr_is_fqdn("[192.0.2.1]", 0));
	ck_assert(!addr_is_fqdn("1.2.3.4", 0));
	ck_assert(!addr_is_fqdn("", 0));
	ck_assert(!addr_is_fqdn("b\xc3\xbc" "cher.example", 0));
	ck_assert(addr_is_fqdn("b\xc3\xbc" "cher.example", U));
	ck_assert(addr_is_dot_string("a.b.c", 5, 0));
	ck_assert(!addr_is_dot_string("a.b.", 4, 0));
	ck_assert(!addr_is_dot_string("", 0, 0));
	ck_assert(addr_utf8_char("\xc3\xa4", 2) == 2);
	ck_assert(addr_utf8_char("\xc3\xa4", 1) == 0);
	ck_assert(addr_utf8_char("a", 1) == 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_utf8, 0, ARRAY_LEN(utf8_cases));
	tcase_add_loop_test(tc, test_domain, 0, ARRAY_LEN(domain_cases));
	tcase_add_loop_test(tc, test_literal, 0, ARRAY_LEN(literal_cases));
	tcase_add_loop_test(tc, test_quote, 0, ARRAY_LEN(quote_cases));
	tcase_add_loop_test(tc, test_unquote, 0, ARRAY_LEN(unquote_cases));
	tcase_add_loop_test(tc, test_path, 0, ARRAY_LEN(path_cases));
	tcase_add_loop_test(tc, test_path_roundtrip, 0,
	    ARRAY_LEN(path_cases));
	tcase_add_loop_test(tc, test_path_limits, 0, ARRAY_LEN(limit_cases));
	tcase_add_test(tc, test_other_limits);
	tcase_add_test(tc, test_quote_full);
	tcase_add_loop_test(tc, test_split_ext, 0, ARRAY_LEN(ext_cases));
	tcase_add_loop_test(tc, test_hostname, 0, ARRAY_LEN(host_cases));
	tcase_add_test(tc, test_helpers);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
