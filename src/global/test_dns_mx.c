/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for dns_mx.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "test_main.h"

#include "dns_mx.h"

START_TEST(test_tlsa_short)
{
	static const unsigned char rd[] = { 3, 1, 1 };
	struct dns_tlsa t;

	ck_assert_int_eq(dns_tlsa_parse(rd, sizeof(rd), &t), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dns_mx");
	TCase *tc = tcase_create("dns_mx");

	tcase_add_test(tc, test_tlsa_short);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
