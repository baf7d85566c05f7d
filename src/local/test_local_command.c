/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for local_command.c: argv and shell commands, the clean
 * environment, stdin, exit codes (0, 75, others, signals), captured
 * output in the diagnostic, the time limit, and a command that does not
 * read its input.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "local.h"

static const struct {
	const char	*text;
	int		 status;
	const char	*dsn;
	const char	*in_text;	/* substring of the diagnostic */
} cases[] = {
	{ "/bin/true", DELIVER_SENT, "2.0.0",
	  "delivered to command: /bin/true" },
	{ "/bin/false", DELIVER_BOUNCE, "5.3.0", "status 1" },
	{ "sh -c 'exit 75'", DELIVER_DEFER, "4.3.0", "status 75" },
	{ "echo oops; exit 67", DELIVER_BOUNCE, "5.3.0",
	  "Command output: oops" },
	{ "kill -9 $$", DELIVER_DEFER, "4.3.0", "signal 9" },
	{ "/no/such/program", DELIVER_BOUNCE, "5.3.0", "cannot execute" },
	{ "sleep 10", DELIVER_DEFER, "4.3.0", "time limit exceeded" },
	{ "prog 'unterminated", DELIVER_BOUNCE, "5.3.5", "unterminated" },
	/* The message arrives on stdin, headers first. */
	{ "head -1 | grep -q '^Return-Path: <s@x>$'", DELIVER_SENT,
	  "2.0.0", "delivered" },
	{ "grep -q '^Delivered-To: joe@example.org$'", DELIVER_SENT,
	  "2.0.0", "delivered" },
	/* Exactly the environment given. */
	{ "test \"$RECIPIENT\" = joe@example.org -a \"$PATH\" = "
	  "/usr/bin:/bin -a -z \"$TERM\"", DELIVER_SENT, "2.0.0",
	  "delivered" },
	{ "test \"$(pwd)\" = /", DELIVER_SENT, "2.0.0", "delivered" },
	/* PATH search for a plain word. */
	{ "true", DELIVER_SENT, "2.0.0", "delivered" },
	/* Output is one escaped line, bounded. */
	{ "printf 'a\\033b\\nsecond'; exit 1", DELIVER_BOUNCE, "5.3.0",
	  "output: a\\x1bb" },
};

START_TEST(test_command)
{
	struct local_cmd cmd;
	struct local_msg m = {
		.qid = "1MQ3K7F0A3C2B", .sender = "s@x",
		.rcpt = "joe@example.org",
		.data = "Subject: x\n\nbody\n", .len = 17,
	};
	struct local_status st;

	signal(SIGPIPE, SIG_IGN);
	memset(&cmd, 0, sizeof(cmd));
	cmd.text = cases[_i].text;
	cmd.cwd = "/";
	cmd.time_limit = 2;
	strv_init(&cmd.env);
	local_env_add(&cmd.env, "PATH", "/usr/bin:/bin");
	local_env_add(&cmd.env, "RECIPIENT", "joe@example.org");
	local_command_deliver(&cmd, &m, &st);
	ck_assert_msg((int)st.status == cases[_i].status,
	    "case %d: status %d (%s)", _i, st.status, st.text);
	ck_assert_str_eq(st.dsn, cases[_i].dsn);
	ck_assert_msg(strstr(st.text, cases[_i].in_text) != NULL,
	    "case %d: %s", _i, st.text);
	strv_deinit(&cmd.env);
}
END_TEST

/* A big message to a command that reads nothing: no hang, no SIGPIPE. */
START_TEST(test_command_ignores_input)
{
	struct local_cmd cmd;
	struct local_msg m = {
		.qid = "1MQ3K7F0A3C2B", .sender = "", .rcpt = "joe@x",
	};
	struct local_status st;
	char *big = xmalloc(1 << 20);

	memset(big, 'x', 1 << 20);
	m.data = big;
	m.len = 1 << 20;
	signal(SIGPIPE, SIG_IGN);
	memset(&cmd, 0, sizeof(cmd));
	cmd.text = "/bin/true";
	cmd.cwd = "/";
	cmd.time_limit = 5;
	strv_init(&cmd.env);
	local_command_deliver(&cmd, &m, &st);
	ck_assert_int_eq(st.status, DELIVER_SENT);
	strv_deinit(&cmd.env);
	free(big);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("local_command");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_command, 0, ARRAY_LEN(cases));
	tcase_add_test(tc, test_command_ignores_input);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
