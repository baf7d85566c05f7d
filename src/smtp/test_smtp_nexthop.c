/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for next-hop parsing: every smtp and lmtp form, default and
 * explicit ports, address literals, relative unix: paths, and hostile
 * next hops (empty, overlong, control and non-ASCII bytes, white space,
 * bad ports, broken brackets and literals, names DNS rejects).
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "test_main.h"

#include "smtp_nexthop.h"

static const struct {
	const char	*in;
	bool		 lmtp;
	enum smtp_nexthop_kind kind;
	const char	*host;		/* or the path */
	unsigned	 port;
	int		 family;
	const char	*key;
} good[] = {
	{ "example.com", false, SMTP_NH_MX, "example.com", 25, 0,
	  "example.com" },
	{ "Example.COM", false, SMTP_NH_MX, "example.com", 25, 0,
	  "example.com" },
	{ "example.com:587", false, SMTP_NH_MX, "example.com", 587, 0,
	  "example.com:587" },
	{ "[mx.example.com]", false, SMTP_NH_HOST, "mx.example.com", 25, 0,
	  "[mx.example.com]" },
	{ "[SMTP.Provider]:587", false, SMTP_NH_HOST, "smtp.provider", 587,
	  0, "[smtp.provider]:587" },
	{ "[192.0.2.1]", false, SMTP_NH_ADDR, "192.0.2.1", 25, AF_INET,
	  "[192.0.2.1]" },
	{ "[192.0.2.1]:2525", false, SMTP_NH_ADDR, "192.0.2.1", 2525,
	  AF_INET, "[192.0.2.1]:2525" },
	{ "192.0.2.1", false, SMTP_NH_ADDR, "192.0.2.1", 25, AF_INET,
	  "192.0.2.1" },
	{ "[ipv6:2001:db8::1]", false, SMTP_NH_ADDR, "2001:db8::1", 25,
	  AF_INET6, "[ipv6:2001:db8::1]" },
	{ "[IPv6:2001:DB8:0:0::1]:26", false, SMTP_NH_ADDR, "2001:db8::1", 26,
	  AF_INET6, "[ipv6:2001:db8:0:0::1]:26" },
	{ "[::1]", false, SMTP_NH_ADDR, "::1", 25, AF_INET6, "[::1]" },
	{ "example.com.", false, SMTP_NH_MX, "example.com.", 25, 0,
	  "example.com." },
	{ "a:65535", false, SMTP_NH_MX, "a", 65535, 0, "a:65535" },
	{ "a:1", false, SMTP_NH_MX, "a", 1, 0, "a:1" },
	/* LMTP never uses MX. */
	{ "mail.example", true, SMTP_NH_HOST, "mail.example", 24, 0,
	  "mail.example" },
	{ "inet:mail.example", true, SMTP_NH_HOST, "mail.example", 24, 0,
	  "inet:mail.example" },
	{ "inet:mail.example:2003", true, SMTP_NH_HOST, "mail.example", 2003,
	  0, "inet:mail.example:2003" },
	{ "INET:[127.0.0.1]:2003", true, SMTP_NH_ADDR, "127.0.0.1", 2003,
	  AF_INET, "inet:[127.0.0.1]:2003" },
	{ "[mail.example]:2003", true, SMTP_NH_HOST, "mail.example", 2003, 0,
	  "[mail.example]:2003" },
	{ "127.0.0.1:24", true, SMTP_NH_ADDR, "127.0.0.1", 24, AF_INET,
	  "127.0.0.1:24" },
	{ "unix:/run/dovecot/lmtp", true, SMTP_NH_UNIX, "/run/dovecot/lmtp",
	  0, 0, "unix:/run/dovecot/lmtp" },
	{ "unix:private/Dovecot-LMTP", true, SMTP_NH_UNIX,
	  "/var/spool/tern/private/Dovecot-LMTP", 0, 0,
	  "unix:private/Dovecot-LMTP" },
};

START_TEST(test_good)
{
	const char *err = NULL;
	struct smtp_nexthop nh;
	unsigned def = good[_i].lmtp ? 24 : 25;

	ck_assert_msg(smtp_nexthop_parse(good[_i].in, good[_i].lmtp, def,
	    "/var/spool/tern", &nh, &err) == 0, "%s: %s", good[_i].in, err);
	ck_assert_int_eq(nh.kind, good[_i].kind);
	if (nh.kind == SMTP_NH_UNIX)
		ck_assert_str_eq(nh.path, good[_i].host);
	else
		ck_assert_str_eq(nh.host, good[_i].host);
	ck_assert_uint_eq(nh.port, good[_i].port);
	if (nh.kind == SMTP_NH_ADDR)
		ck_assert_int_eq(nh.family, good[_i].family);
	ck_assert_str_eq(nh.key, good[_i].key);
}
END_TEST

static const struct {
	const char	*in;
	bool		 lmtp;
	const char	*err;
} bad[] = {
	{ "", false, "empty next hop" },
	{ "exa mple.com", false, "control, space or non-ASCII character "
	  "in next hop" },
	{ "example.com\r\n", false, "control, space or non-ASCII character "
	  "in next hop" },
	{ "example.com\tx", false, "control, space or non-ASCII character "
	  "in next hop" },
	{ "ex\x7f" "ample", false, "control, space or non-ASCII character "
	  "in next hop" },
	{ "b\xc3\xbc" "cher.de", false, "control, space or non-ASCII "
	  "character in next hop" },
	{ "example.com:", false, "bad port in next hop" },
	{ "example.com:0", false, "port out of range in next hop" },
	{ "example.com:65536", false, "port out of range in next hop" },
	{ "example.com:99999999999999999999", false,
	  "bad port in next hop" },
	{ "example.com:-25", false, "bad port in next hop" },
	{ "example.com:+25", false, "bad port in next hop" },
	{ "example.com:25x", false, "bad port in next hop" },
	{ "example.com:25:26", false, "bad port in next hop" },
	{ "example.com: 25", false, "control, space or non-ASCII character "
	  "in next hop" },
	{ ":25", false, "empty host in next hop" },
	{ "[example.com", false, "missing ']' in next hop" },
	{ "[]", false, "empty [] in next hop" },
	{ "[]:25", false, "empty [] in next hop" },
	{ "[example.com]x", false, "bad port in next hop" },
	{ "[example.com]]", false, "bad port in next hop" },
	{ "[ipv6:192.0.2.1]", false, "bad IPv6 address literal in next hop" },
	{ "[ipv6:2001:db8::g]", false, "bad IPv6 address literal in next "
	  "hop" },
	{ "[2001:db8:::1]", false, "bad address literal in next hop" },
	{ "[192.0.2.256]", false, "bad host name in next hop" },
	{ "2001:db8::1", false, "bad port in next hop" },
	{ "192.0.2.256", false, "bad host name in next hop" },
	{ "10.1", false, "bad host name in next hop" },
	{ "mx.123.", false, "bad host name in next hop" },
	{ "exa_mple..com", false, "bad host name in next hop" },
	{ "-bad-.example/x", false, "bad host name in next hop" },
	{ "a@b.example", false, "bad host name in next hop" },
	{ "unix:/run/lmtp", false, "bad port in next hop" },
	{ "unix:", true, "empty socket path in next hop" },
	{ "inet:", true, "empty host in next hop" },
	{ "inet:[x]:0", true, "port out of range in next hop" },
};

START_TEST(test_bad)
{
	const char *err = NULL;
	struct smtp_nexthop nh;

	ck_assert_msg(smtp_nexthop_parse(bad[_i].in, bad[_i].lmtp, 25,
	    "/var/spool/tern", &nh, &err) == -1, "accepted %s", bad[_i].in);
	ck_assert_str_eq(err, bad[_i].err);
}
END_TEST

START_TEST(test_limits)
{
	char name[SMTP_NEXTHOP_MAX + 2], path[SMTP_NEXTHOP_MAX + 2];
	const char *err = NULL;
	struct smtp_nexthop nh;
	size_t i;

	/* NULL, and one byte over the limit. */
	ck_assert_int_eq(smtp_nexthop_parse(NULL, false, 25, "/q", &nh,
	    &err), -1);
	ck_assert_str_eq(err, "empty next hop");
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(smtp_nexthop_parse(name, false, 25, "/q", &nh,
	    &err), -1);
	ck_assert_str_eq(err, "next hop too long");

	/* A 254-character name (DNS_NAME_MAX is 253). */
	for (i = 0; i < 254; i++)
		name[i] = (i % 50 == 49) ? '.' : 'a';
	name[254] = '\0';
	ck_assert_int_eq(smtp_nexthop_parse(name, false, 25, "/q", &nh,
	    &err), -1);
	ck_assert_str_eq(err, "bad host name in next hop");
	name[253] = '\0';
	ck_assert_int_eq(smtp_nexthop_parse(name, false, 25, "/q", &nh,
	    &err), 0);
	ck_assert_str_eq(nh.host, name);

	/* A 64-character label. */
	memset(name, 'b', 64);
	memcpy(name + 64, ".example", 9);
	ck_assert_int_eq(smtp_nexthop_parse(name, false, 25, "/q", &nh,
	    &err), -1);

	/* Socket paths longer than sun_path, absolute or relative. */
	memcpy(path, "unix:/", 6);
	memset(path + 6, 'p', 200);
	path[206] = '\0';
	ck_assert_int_eq(smtp_nexthop_parse(path, true, 24, "/q", &nh,
	    &err), -1);
	ck_assert_str_eq(err, "socket path too long in next hop");
	memcpy(path, "unix:", 5);
	memset(path + 5, 'p', 100);
	path[105] = '\0';
	ck_assert_int_eq(smtp_nexthop_parse(path, true, 24,
	    "/var/spool/tern", &nh, &err), -1);
	ck_assert_str_eq(err, "socket path too long in next hop");
	path[95] = '\0';
	ck_assert_int_eq(smtp_nexthop_parse(path, true, 24, "/q", &nh,
	    &err), 0);
	ck_assert(strncmp(nh.path, "/q/pppp", 7) == 0);

	/* A relative path needs an absolute queue_directory. */
	ck_assert_int_eq(smtp_nexthop_parse("unix:private/lmtp", true, 24,
	    "relative", &nh, &err), -1);
	ck_assert_int_eq(smtp_nexthop_parse("unix:private/lmtp", true, 24,
	    NULL, &nh, &err), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("smtp_nexthop");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_good, 0, (int)ARRAY_LEN(good));
	tcase_add_loop_test(tc, test_bad, 0, (int)ARRAY_LEN(bad));
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
