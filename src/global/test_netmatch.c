/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for netmatch.c: which addresses a list matches, negation and
 * order, /file/name and type:table items, IPv4-mapped clients, and the
 * items that must be refused (bad prefixes, garbage, host bits, overlong).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "netmatch.h"

static struct netmatch *
build(const char *list, const char **err_r)
{
	struct strv items;
	struct netmatch *nm;

	strv_init(&items);
	strv_split(&items, list, NULL);
	nm = netmatch_new(&items, err_r);
	strv_deinit(&items);
	return nm;
}

static const struct {
	const char	*list;
	const char	*addr;
	int		 want;
} match_cases[] = {
	{ "127.0.0.0/8", "127.0.0.1", 1 },
	{ "127.0.0.0/8", "127.255.255.255", 1 },
	{ "127.0.0.0/8", "128.0.0.1", 0 },
	{ "192.0.2.1", "192.0.2.1", 1 },
	{ "192.0.2.1", "192.0.2.2", 0 },
	{ "192.0.2.1/32", "192.0.2.1", 1 },
	{ "192.0.2.128/25", "192.0.2.127", 0 },
	{ "192.0.2.128/25", "192.0.2.200", 1 },
	{ "10.0.0.0/9", "10.127.1.1", 1 },
	{ "10.0.0.0/9", "10.128.1.1", 0 },
	{ "0.0.0.0/0", "203.0.113.9", 1 },
	{ "0.0.0.0/0", "2001:db8::1", 0 },
	{ "::/0", "192.0.2.1", 0 },
	{ "::/0", "2001:db8::1", 1 },
	{ "[::1]/128", "::1", 1 },
	{ "::1/128", "::1", 1 },
	{ "::1", "::1", 1 },
	{ "[::1]", "::1", 1 },
	{ "[::1]", "::2", 0 },
	{ "[2001:db8::]/32", "2001:db8:ffff::1", 1 },
	{ "[2001:db8::]/32", "2001:db9::1", 0 },
	{ "2001:db8::/33", "2001:db8:8000::1", 0 },
	{ "2001:DB8::1", "2001:db8::1", 1 },
	/* IPv4-mapped clients are IPv4; mapped nets are IPv4 nets. */
	{ "192.0.2.0/24", "::ffff:192.0.2.7", 1 },
	{ "[::ffff:192.0.2.0]/120", "192.0.2.7", 1 },
	{ "[::ffff:192.0.2.0]/120", "192.0.3.7", 0 },
	/* First match wins; negation excludes. */
	{ "!192.0.2.1 192.0.2.0/24", "192.0.2.1", 0 },
	{ "!192.0.2.1 192.0.2.0/24", "192.0.2.2", 1 },
	{ "192.0.2.0/24 !192.0.2.1", "192.0.2.1", 1 },
	{ "!10.0.0.0/8", "192.0.2.1", 0 },
	/* Nothing matches a non-numeric or odd client address. */
	{ "0.0.0.0/0 ::/0", "unix", 0 },
	{ "0.0.0.0/0 ::/0", "", 0 },
	{ "0.0.0.0/0 ::/0", "192.0.2.1 ", 0 },
	{ "0.0.0.0/0 ::/0", "192.0.2.01", 0 },
	{ "0.0.0.0/0 ::/0", "[::1]", 0 },
	{ "0.0.0.0/0 ::/0", "fe80::1%eth0", 0 },
	{ "0.0.0.0/0 ::/0", "1.2.3.4.5", 0 },
	{ "", "127.0.0.1", 0 },
	/* Tables: found is a match, whatever the value. */
	{ "inline:{192.0.2.9=x}", "192.0.2.9", 1 },
	{ "inline:{192.0.2.9=x}", "192.0.2.8", 0 },
	{ "!inline:{192.0.2.9=x} 192.0.2.0/24", "192.0.2.9", 0 },
	{ "inline:{192.0.2.9=REJECT}", "::ffff:192.0.2.9", 1 },
	{ "static:anything", "2001:db8::5", 1 },
	/* An IPv6 address whose first group looks like a table type. */
	{ "fe80::/10", "fe80::1", 1 },
	{ "[abcd::]/16", "abcd:1::1", 1 },
};

START_TEST(test_match)
{
	const char *err = NULL;
	struct netmatch *nm = build(match_cases[_i].list, &err);

	ck_assert_msg(nm != NULL, "%s: %s", match_cases[_i].list, err);
	ck_assert_msg(netmatch_match(nm, match_cases[_i].addr, &err) ==
	    match_cases[_i].want, "list \"%s\" addr \"%s\": want %d",
	    match_cases[_i].list, match_cases[_i].addr, match_cases[_i].want);
	netmatch_free(&nm);
	ck_assert_ptr_null(nm);
}
END_TEST

static const struct {
	const char	*list;
	const char	*want_err;	/* substring of the error */
} bad_cases[] = {
	{ "192.0.2.0/33", "192.0.2.0/33" },
	{ "[::]/129", "::]/129" },
	{ "192.0.2.0/-1", "192.0.2.0/-1" },
	{ "192.0.2.0/08", "192.0.2.0/08" },
	{ "192.0.2.0/+8", "192.0.2.0/+8" },
	{ "192.0.2.0/", "192.0.2.0/" },
	{ "192.0.2.0/8/8", "192.0.2.0/8/8" },
	{ "192.0.2.0/0x8", "192.0.2.0/0x8" },
	{ "192.0.2.0/99999999999999999999", "9999" },
	{ "192.0.2.1/24", "perhaps use \"192.0.2.0/24\"" },
	{ "[2001:db8::1]/32", "perhaps use \"[2001:db8::]/32\"" },
	{ "garbage", "garbage" },
	{ "192.0.2", "192.0.2" },
	{ "192.0.2.256", "192.0.2.256" },
	{ "192.0.2.01", "192.0.2.01" },
	{ "0x7f.0.0.1", "0x7f.0.0.1" },
	{ "[192.0.2.1]", "[192.0.2.1]" },
	{ "[::1", "[::1" },
	{ "::1]", "::1]" },
	{ "[]", "[]" },
	{ "fe80::1%eth0", "fe80::1%eth0" },
	{ "2001:db8:::1", "2001:db8:::1" },
	{ "!", "\"!\"" },
	{ "!!192.0.2.1", "!!192.0.2.1" },
	{ "127.0.0.1 bogus!", "bogus!" },
	{ "nosuchtype:foo", "nosuchtype:foo" },
	{ "inline:{broken", "inline" },
	{ "/nonexistent/tern-netmatch-file", "/nonexistent/tern-netmatch" },
};

START_TEST(test_bad)
{
	const char *err = NULL;
	struct netmatch *nm = build(bad_cases[_i].list, &err);

	ck_assert_msg(nm == NULL, "accepted \"%s\"", bad_cases[_i].list);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, bad_cases[_i].want_err) != NULL,
	    "\"%s\": error \"%s\" lacks \"%s\"", bad_cases[_i].list, err,
	    bad_cases[_i].want_err);
}
END_TEST

START_TEST(test_overlong)
{
	const char *err = NULL;
	struct netmatch *nm;
	struct strv items;
	char *big = xmalloc(NETMATCH_ITEM_MAX + 100);

	memset(big, '1', NETMATCH_ITEM_MAX + 99);
	big[NETMATCH_ITEM_MAX + 99] = '\0';
	strv_init(&items);
	strv_push(&items, big);
	nm = netmatch_new(&items, &err);
	ck_assert_ptr_null(nm);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
	/* Just under the limit: a bad address, not a crash. */
	big[NETMATCH_ITEM_MAX] = '\0';
	strv_deinit(&items);
	strv_init(&items);
	strv_push(&items, big);
	nm = netmatch_new(&items, &err);
	ck_assert_ptr_null(nm);
	ck_assert_ptr_nonnull(strstr(err, "bad address"));
	strv_deinit(&items);
	/* An overlong client address matches nothing. */
	nm = build("0.0.0.0/0 ::/0", &err);
	ck_assert_ptr_nonnull(nm);
	ck_assert_int_eq(netmatch_match(nm, big, &err), 0);
	netmatch_free(&nm);
	free(big);
}
END_TEST

static char *
write_file(const char *text)
{
	char *path = xstrdup("/tmp/test_netmatch.XXXXXX");
	int fd = mkstemp(path);
	size_t n = strlen(text);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

START_TEST(test_file)
{
	char *path = write_file("# trusted networks\n"
	    "192.0.2.0/24   # the office\n"
	    "!198.51.100.7, 198.51.100.0/24\n"
	    "\n[2001:db8::]/32 inline:{203.0.113.5=yes}\n");
	char *list = xasprintf("10.0.0.1 %s", path);
	char *neg = xasprintf("!%s 0.0.0.0/0", path);
	const char *err = NULL;
	struct netmatch *nm = build(list, &err);

	ck_assert_msg(nm != NULL, "%s", err);
	ck_assert_int_eq(netmatch_match(nm, "10.0.0.1", &err), 1);
	ck_assert_int_eq(netmatch_match(nm, "192.0.2.77", &err), 1);
	ck_assert_int_eq(netmatch_match(nm, "198.51.100.7", &err), 0);
	ck_assert_int_eq(netmatch_match(nm, "198.51.100.8", &err), 1);
	ck_assert_int_eq(netmatch_match(nm, "2001:db8::9", &err), 1);
	ck_assert_int_eq(netmatch_match(nm, "203.0.113.5", &err), 1);
	ck_assert_int_eq(netmatch_match(nm, "203.0.113.6", &err), 0);
	netmatch_free(&nm);
	/* "!/file": every item negated; a negated item inside is refused. */
	nm = build(neg, &err);
	ck_assert_ptr_null(nm);
	ck_assert_ptr_nonnull(strstr(err, "negation"));
	unlink(path);
	free(path);
	free(neg);
	path = write_file("192.0.2.0/24\n198.51.100.0/24\n");
	free(list);
	list = xasprintf("!%s 0.0.0.0/0", path);
	nm = build(list, &err);
	ck_assert_msg(nm != NULL, "%s", err);
	ck_assert_int_eq(netmatch_match(nm, "192.0.2.1", &err), 0);
	ck_assert_int_eq(netmatch_match(nm, "198.51.100.1", &err), 0);
	ck_assert_int_eq(netmatch_match(nm, "203.0.113.1", &err), 1);
	netmatch_free(&nm);
	unlink(path);
	free(path);
	free(list);
}
END_TEST

START_TEST(test_file_hostile)
{
	static const char *const texts[] = {
		"192.0.2.0/24\nnot-an-address\n",
		"192.0.2.0/24\n192.0.2.1/24\n",
	};
	const char *err = NULL;
	struct netmatch *nm;
	char *path, *self;

	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		path = write_file(texts[i]);
		nm = build(path, &err);
		ck_assert_ptr_null(nm);
		/* The error names the file and the item. */
		ck_assert_ptr_nonnull(strstr(err, path));
		unlink(path);
		free(path);
	}
	/* A NUL byte in the file. */
	path = xstrdup("/tmp/test_netmatch.XXXXXX");
	{
		int fd = mkstemp(path);

		ck_assert_int_eq(write(fd, "192.0.2.1\0 10.0.0.0/8\n", 22), 22);
		ck_assert_int_eq(close(fd), 0);
	}
	nm = build(path, &err);
	ck_assert_ptr_null(nm);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
	unlink(path);
	free(path);
	/* A file that names itself stops at the nesting limit. */
	path = xstrdup("/tmp/test_netmatch.XXXXXX");
	ck_assert_int_ne(mkstemp(path), -1);
	self = xasprintf("%s\n", path);
	{
		FILE *f = fopen(path, "w");

		ck_assert_ptr_nonnull(f);
		fputs(self, f);
		ck_assert_int_eq(fclose(f), 0);
	}
	nm = build(path, &err);
	ck_assert_ptr_null(nm);
	ck_assert_ptr_nonnull(strstr(err, "nested too deep"));
	unlink(path);
	free(path);
	free(self);
	/* A directory is not a list file. */
	nm = build("/tmp", &err);
	ck_assert_ptr_null(nm);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
}
END_TEST

START_TEST(test_parse_addr)
{
	unsigned char b[16];
	int af;

	ck_assert(netmatch_parse_addr("192.0.2.1", &af, b));
	ck_assert_int_eq(af, AF_INET);
	ck_assert_int_eq(b[0], 192);
	ck_assert_int_eq(b[3], 1);
	ck_assert(netmatch_parse_addr("::ffff:192.0.2.1", &af, b));
	ck_assert_int_eq(af, AF_INET);
	ck_assert_int_eq(b[3], 1);
	ck_assert(netmatch_parse_addr("2001:db8::1", &af, b));
	ck_assert_int_eq(af, AF_INET6);
	ck_assert(!netmatch_parse_addr("unix", &af, b));
	ck_assert(!netmatch_parse_addr("[::1]", &af, b));
	ck_assert(!netmatch_parse_addr("1.2.3", &af, b));
	ck_assert(!netmatch_parse_addr("", &af, b));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("netmatch");
	TCase *tc = tcase_create("netmatch");

	tcase_add_loop_test(tc, test_match, 0, ARRAY_LEN(match_cases));
	tcase_add_loop_test(tc, test_bad, 0, ARRAY_LEN(bad_cases));
	tcase_add_test(tc, test_overlong);
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_file_hostile);
	tcase_add_test(tc, test_parse_addr);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
