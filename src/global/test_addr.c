/* SPDX-License-Identifier: MIT */
/* Unit tests for addr.c, addr_path.c and addr_hdr.c. */
#include "config.h"

#include "addr.h"
#include "test_main.h"

START_TEST(test_placeholder)
{
	ck_assert(addr_utf8_valid("a", 1));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_placeholder);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
