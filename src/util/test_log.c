/* SPDX-License-Identifier: MIT */
/* Unit tests for log.c: levels, escaping, fatal and panic. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "test_main.h"

struct capture {
	enum log_level	level;
	char		msg[512];
	int		count;
};

static void
capture_hook(enum log_level level, const char *msg, void *ctx)
{
	struct capture *c = ctx;

	c->level = level;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
	c->count++;
}

START_TEST(test_levels_and_qid)
{
	struct capture c = { 0 };

	log_init("test");
	log_set_hook(capture_hook, &c);
	log_warn("disk %s", "full");
	ck_assert_int_eq(c.level, LOG_LVL_WARN);
	ck_assert_str_eq(c.msg, "disk full");
	log_qid_info("4bX2abc", "to=<%s>, status=sent", "a@b");
	ck_assert_int_eq(c.level, LOG_LVL_INFO);
	ck_assert_str_eq(c.msg, "4bX2abc: to=<a@b>, status=sent");
	ck_assert_int_eq(c.count, 2);
	log_set_hook(NULL, NULL);
}
END_TEST

static const struct {
	const char *in;
	size_t	    len;
	const char *out;
} esc_cases[] = {
	{ "plain text", 10, "plain text" },
	{ "CR\rLF\n", 6, "CR\\rLF\\n" },
	{ "a\0b", 3, "a\\x00b" },
	{ "back\\slash", 10, "back\\\\slash" },
	{ "\x1b[31mred", 8, "\\x1b[31mred" },
	{ "\xc3\xa4", 2, "\\xc3\\xa4" },
	{ "tab\there", 8, "tab\\there" },
	{ "", 0, "" },
};

START_TEST(test_escape)
{
	char *e = log_escape(esc_cases[_i].in, esc_cases[_i].len);

	ck_assert_str_eq(e, esc_cases[_i].out);
	free(e);
}
END_TEST

START_TEST(test_file_sink)
{
	char path[] = "/tmp/tern-test-log.XXXXXX";
	int fd = mkstemp(path);
	const char *err;
	char text[512] = "";
	ssize_t n;

	ck_assert_int_ne(fd, -1);
	log_init("smtpd");
	ck_assert_int_eq(log_open_file("tern", path, &err), 0);
	log_info("hello %d", 7);
	log_use_stderr();
	n = read(fd, text, sizeof(text) - 1);
	ck_assert_int_gt(n, 0);
	text[n] = '\0';
	ck_assert_ptr_nonnull(strstr(text, " tern/smtpd["));
	ck_assert_ptr_nonnull(strstr(text, "]: hello 7\n"));
	close(fd);
	unlink(path);
	ck_assert_int_eq(log_open_file("tern", "/nonexistent/dir/log", &err), -1);
}
END_TEST

START_TEST(test_facility)
{
	const char *err = NULL;

	ck_assert(log_facility_valid("mail"));
	ck_assert(log_facility_valid("local7"));
	ck_assert(!log_facility_valid("local8"));
	ck_assert(!log_facility_valid("MAIL "));
	ck_assert_int_eq(log_open_syslog("tern", "bogus", &err), -1);
	ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(test_fatal_exits)
{
	log_init("test");
	fatal("environment broken: %s", "no disk");
}
END_TEST

START_TEST(test_panic_aborts)
{
	log_init("test");
	ASSERT(1 + 1 == 3);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_levels_and_qid);
	tcase_add_loop_test(tc, test_escape, 0, ARRAY_LEN(esc_cases));
	tcase_add_test(tc, test_file_sink);
	tcase_add_test(tc, test_facility);
	tcase_add_exit_test(tc, test_fatal_exits, 1);
	tcase_add_test_raise_signal(tc, test_panic_aborts, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
