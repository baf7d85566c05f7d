/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the dead-host memory: marking, expiry, ports and
 * addresses kept apart, revival, a zero smtp_dead_host_time, an
 * overlong key, and a full table giving way.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "test_main.h"

#include "smtp_hosts.h"

START_TEST(test_expiry)
{
	smtp_hosts_clear();
	ck_assert(!smtp_hosts_dead("127.0.0.3", 25, 1000));
	smtp_hosts_mark_dead("127.0.0.3", 25, 1000, 60);
	ck_assert(smtp_hosts_dead("127.0.0.3", 25, 1000));
	ck_assert(smtp_hosts_dead("127.0.0.3", 25, 1059));
	ck_assert(!smtp_hosts_dead("127.0.0.3", 25, 1060));
	/* Expired entries stay expired. */
	ck_assert(!smtp_hosts_dead("127.0.0.3", 25, 1000));
	/* Marking again extends. */
	smtp_hosts_mark_dead("127.0.0.3", 25, 2000, 10);
	smtp_hosts_mark_dead("127.0.0.3", 25, 2005, 10);
	ck_assert(smtp_hosts_dead("127.0.0.3", 25, 2014));
	ck_assert(!smtp_hosts_dead("127.0.0.3", 25, 2015));
}
END_TEST

START_TEST(test_keys)
{
	char longaddr[200];

	smtp_hosts_clear();
	smtp_hosts_mark_dead("127.0.0.3", 25, 1000, 60);
	ck_assert(!smtp_hosts_dead("127.0.0.3", 587, 1000));
	ck_assert(!smtp_hosts_dead("127.0.0.4", 25, 1000));
	ck_assert(!smtp_hosts_dead("127.0.0.", 25, 1000));
	smtp_hosts_mark_dead("::1", 2525, 1000, 60);
	ck_assert(smtp_hosts_dead("::1", 2525, 1000));
	smtp_hosts_alive("::1", 2525);
	ck_assert(!smtp_hosts_dead("::1", 2525, 1000));
	ck_assert(smtp_hosts_dead("127.0.0.3", 25, 1000));
	smtp_hosts_alive("127.0.0.9", 25);	/* unknown: harmless */

	/* smtp_dead_host_time = 0: nothing is remembered. */
	smtp_hosts_mark_dead("127.0.0.5", 25, 1000, 0);
	ck_assert(!smtp_hosts_dead("127.0.0.5", 25, 1000));

	/* A key too long to store is not remembered (never truncated
	   into another host's key). */
	memset(longaddr, 'x', sizeof(longaddr) - 1);
	longaddr[sizeof(longaddr) - 1] = '\0';
	smtp_hosts_mark_dead(longaddr, 0, 1000, 60);
	ck_assert(!smtp_hosts_dead(longaddr, 0, 1000));
	longaddr[127] = '\0';
	ck_assert(!smtp_hosts_dead(longaddr, 0, 1000));
}
END_TEST

START_TEST(test_full)
{
	char addr[32];
	int i;

	smtp_hosts_clear();
	/* Host i expires at 1000 + 100 + i. */
	for (i = 0; i < SMTP_HOSTS_MAX; i++) {
		(void)snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 256,
		    i % 256);
		smtp_hosts_mark_dead(addr, 25, 1000, 100 + i);
	}
	for (i = 0; i < SMTP_HOSTS_MAX; i++) {
		(void)snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 256,
		    i % 256);
		ck_assert(smtp_hosts_dead(addr, 25, 1000));
	}
	/* One more: the entry closest to expiry (host 0) gives way. */
	smtp_hosts_mark_dead("10.9.9.9", 25, 1000, 500);
	ck_assert(smtp_hosts_dead("10.9.9.9", 25, 1000));
	ck_assert(!smtp_hosts_dead("10.0.0.0", 25, 1000));
	ck_assert(smtp_hosts_dead("10.0.0.1", 25, 1000));
	/* Later, expired entries are reused first. */
	smtp_hosts_mark_dead("10.8.8.8", 25, 1102, 500);
	ck_assert(smtp_hosts_dead("10.8.8.8", 25, 1102));
	ck_assert(smtp_hosts_dead("10.9.9.9", 25, 1102));
	ck_assert(smtp_hosts_dead("10.0.0.5", 25, 1102));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("smtp_hosts");
	TCase *tc = tcase_create("hosts");

	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_full);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
