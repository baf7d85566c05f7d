/* SPDX-License-Identifier: MIT */
/* Unit tests for cleanup. */
#include "config.h"

#include "test_main.h"

START_TEST(test_placeholder)
{
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("cleanup");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_placeholder);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
