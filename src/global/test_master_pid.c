/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for master_pid.c: one lock holder at a time, the "already
 * running" message with the pid, running() reporting a lock held by this
 * or another process and nothing once it is released or the holder died;
 * hostile files (garbage, overlong or empty content, a symlink, a FIFO,
 * a missing directory) never crash, hang or get followed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "master_pid.h"

static char *dir;
static char *pidfile;

static void
setup(void)
{
	dir = xstrdup("/tmp/tern-test-master_pid.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	pidfile = xasprintf("%s/master.pid", dir);
}

static void
teardown(void)
{
	(void)unlink(pidfile);
	(void)rmdir(dir);
	free(pidfile);
	free(dir);
	mail_conf_unload();
}

START_TEST(test_lock_and_running)
{
	const char *err;
	pid_t pid;
	int fd, fd2;

	ck_assert_int_eq(master_pid_running(pidfile, &pid, &err), 0);
	fd = master_pid_lock(pidfile, &err);
	ck_assert_msg(fd != -1, "lock: %s", err);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(master_pid_write(fd, 4242, &err), 0);

	fd2 = master_pid_lock(pidfile, &err);
	ck_assert_int_eq(fd2, -1);
	ck_assert_str_eq(err, "the mail system is already running "
	    "(pid 4242)");
	ck_assert_int_eq(master_pid_running(pidfile, &pid, &err), 1);
	ck_assert_int_eq(pid, 4242);

	/* A shorter pid replaces the longer one entirely. */
	ck_assert_int_eq(master_pid_write(fd, 7, &err), 0);
	ck_assert_int_eq(master_pid_running(pidfile, &pid, &err), 1);
	ck_assert_int_eq(pid, 7);

	ck_assert_int_eq(close(fd), 0);
	/* The file stays, the lock is gone: nothing runs. */
	ck_assert_int_eq(access(pidfile, F_OK), 0);
	ck_assert_int_eq(master_pid_running(pidfile, &pid, &err), 0);
	fd = master_pid_lock(pidfile, &err);
	ck_assert_msg(fd != -1, "relock: %s", err);
	ck_assert_int_eq(close(fd), 0);
}
END_TEST

/* The lock survives in another process and ends with it. */
START_TEST(test_other_process)
{
	const char *err;
	int p[2], fd;
	pid_t child, pid;
	char c;

	ck_assert_int_eq(pipe(p), 0);
	child = fork();
	ck_assert_int_ne(child, -1);
	if (child == 0) {
		fd = master_pid_lock(pidfile, &err);
		if (fd == -1 || master_pid_write(fd, getpid(), &err) == -1)
			_exit(1);
		(void)write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	(void)close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(master_pid_running(pidfile, &pid, &err), 1);
	ck_assert_int_eq(pid, child);
	ck_assert_int_eq(master_pid_lock(pidfile, &err), -1);
	ck_assert(strstr(err, "already running") != NULL);
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	ck_assert_int_eq(master_pid_running(pidfile, &pid, &err), 0);
	(void)close(p[0]);
}
END_TEST

/* Content of a locked file that is no pid. */
static const struct {
	const char *data;
	size_t	    len;
} garbage[] = {
	{ "", 0 },
	{ "\n", 1 },
	{ "abc\n", 4 },
	{ "12x\n", 4 },
	{ "-5\n", 3 },
	{ "0\n", 2 },
	{ " 12\n", 4 },
	{ "1\0002\n", 4 },
	{ "99999999999999999999\n", 21 },
	{ "123456789012345678901234567890123456789\n", 40 },
	{ "\xff\xfe\n", 3 },
};

START_TEST(test_garbage)
{
	const char *err;
	pid_t pid = 99;
	int fd;

	fd = master_pid_lock(pidfile, &err);
	ck_assert_msg(fd != -1, "lock: %s", err);
	ck_assert_int_eq(pwrite(fd, garbage[_i].data, garbage[_i].len, 0),
	    (ssize_t)garbage[_i].len);
	ck_assert_int_eq(master_pid_running(pidfile, &pid, &err), 1);
	ck_assert_int_eq(pid, 0);
	ck_assert_int_eq(master_pid_lock(pidfile, &err), -1);
	ck_assert_str_eq(err, "the mail system is already running");
	ck_assert_int_eq(close(fd), 0);
}
END_TEST

START_TEST(test_missing_dir)
{
	char *path = xasprintf("%s/nodir/master.pid", dir);
	const char *err;
	pid_t pid;

	ck_assert_int_eq(master_pid_lock(path, &err), -1);
	ck_assert(strstr(err, "No such file or directory") != NULL);
	ck_assert(strstr(err, path) != NULL);
	ck_assert_int_eq(master_pid_running(path, &pid, &err), 0);
	free(path);
}
END_TEST

START_TEST(test_symlink)
{
	char *target = xasprintf("%s/target", dir);
	const char *err;
	struct stat st;
	pid_t pid;

	ck_assert_int_eq(symlink(target, pidfile), 0);
	ck_assert_int_eq(master_pid_lock(pidfile, &err), -1);
	ck_assert_int_eq(master_pid_running(pidfile, &pid, &err), -1);
	/* Nothing was created through the link. */
	ck_assert_int_eq(lstat(target, &st), -1);
	free(target);
}
END_TEST

START_TEST(test_fifo)
{
	const char *err;
	pid_t pid;

	ck_assert_int_eq(mkfifo(pidfile, 0644), 0);
	ck_assert_int_eq(master_pid_lock(pidfile, &err), -1);
	ck_assert(strstr(err, "not a regular file") != NULL);
	ck_assert_int_eq(master_pid_running(pidfile, &pid, &err), -1);
}
END_TEST

START_TEST(test_mode)
{
	const char *err;
	struct stat st;
	int fd;

	(void)umask(077);
	fd = master_pid_lock(pidfile, &err);
	ck_assert_msg(fd != -1, "lock: %s", err);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(close(fd), 0);
}
END_TEST

static const struct {
	bool	    absolute;	/* piddir: below the test directory */
	const char *piddir;	/* process_id_directory */
	const char *want;	/* the path below the test directory */
} path_cases[] = {
	{ false, "pid", "/q/pid/master.pid" },
	{ false, "run/tern", "/q/run/tern/master.pid" },
	{ true, "/abs", "/abs/master.pid" },
};

START_TEST(test_path)
{
	char *main_cf = xasprintf("%s/main.cf", dir), *p, *want, *piddir;
	const char *err;
	FILE *f;

	piddir = path_cases[_i].absolute ? xasprintf("%s%s", dir,
	    path_cases[_i].piddir) : xstrdup(path_cases[_i].piddir);
	f = fopen(main_cf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "queue_directory = %s/q\nprocess_id_directory = %s\n",
	    dir, piddir);
	ck_assert_int_eq(fclose(f), 0);
	if (mail_conf_try_load(dir, NULL, false, &err) == -1)
		ck_abort_msg("load: %s", err);
	p = master_pid_path();
	want = xasprintf("%s%s", dir, path_cases[_i].want);
	ck_assert_str_eq(p, want);
	(void)unlink(main_cf);
	free(p);
	free(want);
	free(piddir);
	free(main_cf);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("master_pid");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lock_and_running);
	tcase_add_test(tc, test_other_process);
	tcase_add_loop_test(tc, test_garbage, 0, ARRAY_LEN(garbage));
	tcase_add_test(tc, test_missing_dir);
	tcase_add_test(tc, test_symlink);
	tcase_add_test(tc, test_fifo);
	tcase_add_test(tc, test_mode);
	tcase_add_loop_test(tc, test_path, 0, ARRAY_LEN(path_cases));
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
