/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for qmgr_route.c: local, virtual and default routes,
 * relayhost, transport_maps (address before domain, "transport:",
 * ":nexthop", error:), and hostile addresses and table results.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "str.h"
#include "test_main.h"

#include "qmgr_route.h"

static struct strv mydest, vdomains;
static struct dict *map;
static struct qmgr_route_conf conf;

static void
setup(void)
{
	const char *err;

	strv_init(&mydest);
	strv_init(&vdomains);
	strv_split(&mydest, "mail.example.org, localhost.example.org, "
	    "localhost", NULL);
	strv_split(&vdomains, "virt.example", NULL);
	map = dict_open("inline:{ special@example.net=relay:[10.0.0.1], "
	    "example.net=smtp:, other.example=:[mx.other], "
	    "{ dead.example = error:5.1.2 no such domain: sorry }, "
	    "evil.example=../../bin/sh:x, ctl.example=smtp:a\001b, "
	    "virt.example=lmtp:[127.0.0.1]:24, "
	    "port.example=smtp:[127.0.0.1]:2525, "
	    "host.example=smtp:mx.host.test, "
	    "unix.example=lmtp:unix:/run/dovecot/lmtp, "
	    "inet.example=lmtp:inet:127.0.0.1:2424, "
	    "{ v6.example = smtp:[IPv6:::1]:2525 } }", DICT_FLAG_FOLD, &err);
	ck_assert_msg(map != NULL, "%s", err);
	memset(&conf, 0, sizeof(conf));
	conf.mydestination = &mydest;
	conf.virtual_domains = &vdomains;
	conf.local_transport = "local:mail.example.org";
	conf.virtual_transport = "virtual";
	conf.default_transport = "smtp";
	conf.relayhost = "";
	conf.maps = &map;
	conf.nmaps = 1;
}

static void
teardown(void)
{
	dict_free(&map);
	strv_deinit(&mydest);
	strv_deinit(&vdomains);
}

static const struct {
	const char	*rcpt;
	const char	*relayhost;
	bool		 use_maps;
	int		 rc;
	const char	*transport;
	const char	*nexthop;
} cases[] = {
	{ "joe@mail.example.org", "", false, 0, "local", "mail.example.org" },
	{ "joe@MAIL.Example.ORG", "", false, 0, "local", "mail.example.org" },
	{ "joe@localhost.", "", false, 0, "local", "mail.example.org" },
	{ "joe", "", false, 0, "local", "mail.example.org" },
	{ "joe@", "", false, 0, "local", "mail.example.org" },
	{ "a@b@localhost", "", false, 0, "local", "mail.example.org" },
	{ "joe@virt.example", "", false, 0, "virtual", "virt.example" },
	{ "joe@far.example", "", false, 0, "smtp", "far.example" },
	{ "joe@far.example", "[relay.example]:587", false, 0, "smtp",
	  "[relay.example]:587" },
	/* Look-alikes of a local domain are not local. */
	{ "joe@mail.example.org.evil", "", false, 0, "smtp",
	  "mail.example.org.evil" },
	{ "joe@xmail.example.org", "", false, 0, "smtp",
	  "xmail.example.org" },
	{ "joe@\xc3\xa9t\xc3\xa9.example", "", false, 0, "smtp",
	  "\xc3\xa9t\xc3\xa9.example" },
	/* transport_maps: the address wins over its domain. */
	{ "special@example.net", "", true, 0, "relay", "[10.0.0.1]" },
	{ "SPECIAL@example.NET", "", true, 0, "relay", "[10.0.0.1]" },
	{ "other@example.net", "", true, 0, "smtp", "example.net" },
	{ "other@example.net", "[gw]", true, 0, "smtp", "[gw]" },
	{ "x@other.example", "", true, 0, "smtp", "[mx.other]" },
	{ "x@dead.example", "", true, 0, "error",
	  "5.1.2 no such domain: sorry" },
	/* Maps override local and virtual routes too. */
	{ "x@virt.example", "", true, 0, "lmtp", "[127.0.0.1]:24" },
	{ "x@unlisted.example", "", true, 0, "smtp", "unlisted.example" },
	/* The next-hop forms of outbound delivery pass through as given. */
	{ "x@port.example", "", true, 0, "smtp", "[127.0.0.1]:2525" },
	{ "x@host.example", "", true, 0, "smtp", "mx.host.test" },
	{ "x@unix.example", "", true, 0, "lmtp", "unix:/run/dovecot/lmtp" },
	{ "x@inet.example", "", true, 0, "lmtp", "inet:127.0.0.1:2424" },
	{ "x@v6.example", "", true, 0, "smtp", "[IPv6:::1]:2525" },
	{ "x@far.example", "[127.0.0.1]:2525", true, 0, "smtp",
	  "[127.0.0.1]:2525" },
	{ "x@far.example", "relay.test", false, 0, "smtp", "relay.test" },
	/* A map entry wins over relayhost. */
	{ "x@host.example", "[127.0.0.1]:2525", true, 0, "smtp",
	  "mx.host.test" },
	/* Hostile table results: path-like transport, control chars. */
	{ "x@evil.example", "", true, -1, NULL, NULL },
	{ "x@ctl.example", "", true, -1, NULL, NULL },
};

START_TEST(test_route)
{
	struct qmgr_route r;
	const char *err = NULL;
	int rc;

	conf.relayhost = cases[_i].relayhost;
	conf.nmaps = cases[_i].use_maps ? 1 : 0;
	rc = qmgr_route_lookup(&conf, cases[_i].rcpt, &r, &err);
	ck_assert_int_eq(rc, cases[_i].rc);
	if (rc == -1) {
		ck_assert_ptr_nonnull(err);
		ck_assert_ptr_null(r.transport);
		return;
	}
	ck_assert_str_eq(r.transport, cases[_i].transport);
	ck_assert_str_eq(r.nexthop, cases[_i].nexthop);
	qmgr_route_deinit(&r);
}
END_TEST

static const struct {
	const char	*spec;
	int		 rc;
	const char	*transport;
	const char	*nexthop;
} splits[] = {
	{ "smtp", 0, "smtp", "dom" },
	{ "smtp:", 0, "smtp", "dom" },
	{ ":[mx]", 0, "deft", "[mx]" },
	{ ":", 0, "deft", "dom" },
	{ "", 0, "deft", "dom" },
	{ "relay:[a]:25", 0, "relay", "[a]:25" },
	{ "a.b-c_d:x", 0, "a.b-c_d", "x" },
	{ "smtp:[127.0.0.1]:2525", 0, "smtp", "[127.0.0.1]:2525" },
	{ "smtp:host.test", 0, "smtp", "host.test" },
	{ "lmtp:unix:/run/lmtp", 0, "lmtp", "unix:/run/lmtp" },
	{ "lmtp:inet:host.test:24", 0, "lmtp", "inet:host.test:24" },
	{ "lmtp:unix:/a\nb", -1, NULL, NULL },
	{ ".hidden:x", -1, NULL, NULL },
	{ "a/b:x", -1, NULL, NULL },
	{ "sp ace:x", -1, NULL, NULL },
	{ "\xc3\xa9:x", -1, NULL, NULL },
	{ "smtp:a\r\nb", -1, NULL, NULL },
	{ "smtp:a\x7f", -1, NULL, NULL },
	{ "t12345678901234567890123456789012345678901234567890123456789012"
	  "34:x", -1, NULL, NULL },
};

START_TEST(test_split)
{
	struct qmgr_route r;
	const char *err = NULL;
	int rc;

	rc = qmgr_route_split(splits[_i].spec, "deft", "dom", &r, &err);
	ck_assert_int_eq(rc, splits[_i].rc);
	if (rc == -1) {
		ck_assert_ptr_nonnull(err);
		return;
	}
	ck_assert_str_eq(r.transport, splits[_i].transport);
	ck_assert_str_eq(r.nexthop, splits[_i].nexthop);
	qmgr_route_deinit(&r);
}
END_TEST

START_TEST(test_long_nexthop)
{
	char spec[QMGR_ROUTE_NEXTHOP_MAX + 16];
	struct qmgr_route r;
	const char *err;

	memset(spec, 'a', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	spec[4] = ':';
	ck_assert_int_eq(qmgr_route_split(spec, "d", "d", &r, &err), -1);
	spec[QMGR_ROUTE_NEXTHOP_MAX + 5] = '\0';
	ck_assert_int_eq(qmgr_route_split(spec, "d", "d", &r, &err), 0);
	ck_assert_uint_eq(strlen(r.nexthop), QMGR_ROUTE_NEXTHOP_MAX);
	qmgr_route_deinit(&r);
}
END_TEST

START_TEST(test_bad_default_transport)
{
	struct qmgr_route r;
	const char *err = NULL;

	conf.nmaps = 0;
	conf.default_transport = "bad/name";
	ck_assert_int_eq(qmgr_route_lookup(&conf, "x@far.example", &r, &err),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "bad/name"));
}
END_TEST

START_TEST(test_domain)
{
	ck_assert_str_eq(qmgr_route_domain("a@b"), "b");
	ck_assert_str_eq(qmgr_route_domain("a@b@c"), "c");
	ck_assert_ptr_null(qmgr_route_domain("a"));
	ck_assert_ptr_null(qmgr_route_domain("a@"));
	ck_assert_ptr_null(qmgr_route_domain(""));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("qmgr_route");
	TCase *tc = tcase_create("route");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_route, 0, ARRAY_LEN(cases));
	tcase_add_loop_test(tc, test_split, 0, ARRAY_LEN(splits));
	tcase_add_test(tc, test_long_nexthop);
	tcase_add_test(tc, test_bad_default_transport);
	tcase_add_test(tc, test_domain);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
