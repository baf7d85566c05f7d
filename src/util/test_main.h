/* SPDX-License-Identifier: MIT */
/*
 * Shared main() for the check unit tests: each test_<module>.c defines
 * "static Suite *suite(void)" and then includes this file's TEST_MAIN().
 */
#ifndef TERN_TEST_MAIN_H
#define TERN_TEST_MAIN_H

#include <check.h>
#include <signal.h>
#include <stdlib.h>

#define TEST_MAIN(suite_fn)						\
int									\
main(void)								\
{									\
	SRunner *sr = srunner_create(suite_fn());			\
	int failed;							\
									\
	srunner_run_all(sr, CK_NORMAL);					\
	failed = srunner_ntests_failed(sr);				\
	srunner_free(sr);						\
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;		\
}

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

#endif
