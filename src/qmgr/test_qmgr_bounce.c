/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the pure rules of qmgr_bounce.c: who gets a report
 * (Postfix's rules for null and double-bounce senders) and which NOTIFY
 * values (RFC 3461 §4.1) want which report, with hostile values.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>

#include "test_main.h"

#include "qmgr_bounce.h"

static const struct {
	enum dsn_report_kind kind;
	const char	*sender;
	bool		 twobounce;
	enum qmgr_bounce_to want;
} whos[] = {
	{ DSN_REPORT_FAILURE, "joe@example.org", false,
	  QMGR_BOUNCE_TO_SENDER },
	{ DSN_REPORT_DELAY, "joe@example.org", false, QMGR_BOUNCE_TO_SENDER },
	{ DSN_REPORT_SUCCESS, "joe", false, QMGR_BOUNCE_TO_SENDER },
	{ DSN_REPORT_FAILURE, "", false, QMGR_BOUNCE_TO_NOBODY_BOUNCE },
	{ DSN_REPORT_FAILURE, "", true, QMGR_BOUNCE_TO_2BOUNCE },
	{ DSN_REPORT_DELAY, "", true, QMGR_BOUNCE_TO_NOBODY_BOUNCE },
	{ DSN_REPORT_SUCCESS, "", true, QMGR_BOUNCE_TO_NOBODY_BOUNCE },
	{ DSN_REPORT_FAILURE, "double-bounce", true,
	  QMGR_BOUNCE_TO_NOBODY_POSTMASTER },
	{ DSN_REPORT_FAILURE, "double-bounce@any.example", false,
	  QMGR_BOUNCE_TO_NOBODY_POSTMASTER },
	{ DSN_REPORT_FAILURE, "DOUBLE-Bounce@any.example", false,
	  QMGR_BOUNCE_TO_NOBODY_POSTMASTER },
	/* Look-alikes are ordinary senders. */
	{ DSN_REPORT_FAILURE, "double-bouncex@any.example", false,
	  QMGR_BOUNCE_TO_SENDER },
	{ DSN_REPORT_FAILURE, "xdouble-bounce", false,
	  QMGR_BOUNCE_TO_SENDER },
	{ DSN_REPORT_FAILURE, "@double-bounce", false,
	  QMGR_BOUNCE_TO_SENDER },
	{ DSN_REPORT_FAILURE, "\xc3\xa9@example.org", false,
	  QMGR_BOUNCE_TO_SENDER },
};

START_TEST(test_who)
{
	ck_assert_int_eq(qmgr_bounce_who(whos[_i].kind, whos[_i].sender,
	    "double-bounce", whos[_i].twobounce), whos[_i].want);
}
END_TEST

START_TEST(test_who_empty_double_bounce)
{
	/* An empty double_bounce_sender matches nobody. */
	ck_assert_int_eq(qmgr_bounce_who(DSN_REPORT_FAILURE, "@x", "", false),
	    QMGR_BOUNCE_TO_SENDER);
}
END_TEST

static const struct {
	const char	*notify;
	bool		 failure, delay, success;
} notifies[] = {
	{ "-", true, true, false },
	{ "", true, true, false },
	{ NULL, true, true, false },
	{ "NEVER", false, false, false },
	{ "SUCCESS", false, false, true },
	{ "FAILURE", true, false, false },
	{ "DELAY", false, true, false },
	{ "SUCCESS,FAILURE,DELAY", true, true, true },
	{ "success,failure", true, false, true },
	{ "FAILURE,NEVER", false, false, false },	/* contradiction */
	{ "FAILURES", false, false, false },
	{ ",,FAILURE,,", true, false, false },
	{ "FAIL\xc3\xa9", false, false, false },
	{ "SUCCESS\nFAILURE", false, false, false },
};

START_TEST(test_wanted)
{
	ck_assert(qmgr_bounce_wanted(notifies[_i].notify,
	    DSN_REPORT_FAILURE) == notifies[_i].failure);
	ck_assert(qmgr_bounce_wanted(notifies[_i].notify,
	    DSN_REPORT_DELAY) == notifies[_i].delay);
	ck_assert(qmgr_bounce_wanted(notifies[_i].notify,
	    DSN_REPORT_SUCCESS) == notifies[_i].success);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("qmgr_bounce");
	TCase *tc = tcase_create("rules");

	tcase_add_loop_test(tc, test_who, 0, ARRAY_LEN(whos));
	tcase_add_test(tc, test_who_empty_double_bounce);
	tcase_add_loop_test(tc, test_wanted, 0, ARRAY_LEN(notifies));
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
