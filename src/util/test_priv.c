/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for priv.c.  Each check test runs in its own child process
 * (check's default fork mode), so a test may drop privileges for good.
 * As root: drop to "nobody", verify the IDs and that root cannot be
 * regained, and that a chroot jail hides what is outside it.  As an
 * ordinary user: the instance-mode rules (only the current user is
 * accepted, the jail is ignored).  Tests that need the other mode return
 * early, saying so on stderr.
 */
#include "config.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "priv.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#define UNPRIV_USER	"nobody"

static bool
root_or_skip(bool want_root, const char *test)
{
	const char *ck_fork = getenv("CK_FORK");

	if (ck_fork != NULL && str_eq(ck_fork, "no")) {
		fprintf(stderr, "%s: skipped: needs CK_FORK\n", test);
		return false;
	}
	if (priv_is_root() != want_root) {
		fprintf(stderr, "%s: skipped: needs %s\n", test,
		    want_root ? "root" : "a non-root user");
		return false;
	}
	return true;
}

static char *
current_user(void)
{
	struct passwd *pw = getpwuid(getuid());

	ck_assert_ptr_nonnull(pw);
	return xstrdup(pw->pw_name);
}

START_TEST(test_lookup)
{
	struct priv_user u;
	const char *err = NULL;

	ck_assert_int_eq(priv_lookup("root", &u, &err), 1);
	ck_assert_str_eq(u.name, "root");
	ck_assert_uint_eq(u.uid, 0);
	ck_assert_uint_eq(u.gid, 0);
	ck_assert_ptr_nonnull(u.home);
	priv_user_deinit(&u);
	ck_assert_ptr_null(u.name);
	ck_assert_int_eq(priv_lookup("tern-no-such-user", &u, &err), 0);
	ck_assert_int_eq(priv_lookup("", &u, &err), 0);
}
END_TEST

START_TEST(test_lookup_or_die_missing)
{
	struct priv_user u;

	priv_lookup_or_die("tern-no-such-user", "mail_owner", &u);
}
END_TEST

/* Refused in both modes, before anything else is looked at. */
START_TEST(test_drop_to_root_refused)
{
	priv_drop_to("root", "mail_owner", NULL);
}
END_TEST

START_TEST(test_drop_gid0_refused)
{
	char name[] = "x";
	struct priv_user u = { .name = name, .uid = 4242, .gid = 0 };

	priv_drop(&u, NULL);
}
END_TEST

START_TEST(test_root_drop)
{
	struct priv_user u;
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[8];

	if (!root_or_skip(true, "test_root_drop"))
		return;
	priv_lookup_or_die(UNPRIV_USER, "test", &u);
	/* Start with extra groups, which the drop must shed. */
	ck_assert_int_eq(setgroups(2, (gid_t[]){ 0, 4 }), 0);
	priv_drop(&u, NULL);
	ck_assert_int_eq(getresuid(&ru, &eu, &su), 0);
	ck_assert_int_eq(getresgid(&rg, &eg, &sg), 0);
	ck_assert_uint_eq(ru, u.uid);
	ck_assert_uint_eq(eu, u.uid);
	ck_assert_uint_eq(su, u.uid);
	ck_assert_uint_eq(rg, u.gid);
	ck_assert_uint_eq(eg, u.gid);
	ck_assert_uint_eq(sg, u.gid);
	ck_assert_int_eq(getgroups(8, groups), 1);
	ck_assert_uint_eq(groups[0], u.gid);
	ck_assert_int_eq(setuid(0), -1);
	ck_assert_int_eq(seteuid(0), -1);
	ck_assert_int_eq(setresuid(0, 0, 0), -1);
	ck_assert_int_eq(setgid(0), -1);
	/* A root-only file is now out of reach. */
	ck_assert_int_eq(open("/etc/shadow", O_RDONLY), -1);
	priv_user_deinit(&u);
}
END_TEST

/*
 * In a child, so that the parent stays root and can clean up: the child
 * reports the first check that failed as its exit status.
 */
static int
jailed_checks(const char *jail, const char *outside)
{
	struct priv_user u;
	char cwd[64];

	if (priv_lookup(UNPRIV_USER, &u, &(const char *){ NULL }) != 1)
		return 10;
	priv_drop(&u, jail);
	if (access("/inside", R_OK) != 0)
		return 11;
	if (access(outside, F_OK) != -1)
		return 12;
	if (access("/etc/passwd", F_OK) != -1)
		return 13;
	if (getcwd(cwd, sizeof(cwd)) == NULL || !str_eq(cwd, "/"))
		return 14;
	if (chroot("..") != -1 || setuid(0) != -1)
		return 15;
	return 0;
}

START_TEST(test_root_chroot)
{
	char jail[] = "/tmp/tern-test-jail.XXXXXX";
	char outside[] = "/tmp/tern-test-outside.XXXXXX";
	char *inside;
	int fd, status;
	pid_t pid;

	if (!root_or_skip(true, "test_root_chroot"))
		return;
	ck_assert_ptr_nonnull(mkdtemp(jail));
	ck_assert_int_eq(chmod(jail, 0755), 0);
	inside = xasprintf("%s/inside", jail);
	fd = open(inside, O_CREAT | O_EXCL | O_WRONLY, 0644);
	ck_assert_int_ne(fd, -1);
	close(fd);
	fd = mkstemp(outside);
	ck_assert_int_ne(fd, -1);
	close(fd);
	ck_assert_int_eq(chmod(outside, 0644), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0)
		_exit(jailed_checks(jail, outside));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	(void)unlink(inside);
	(void)rmdir(jail);
	(void)unlink(outside);
	free(inside);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "jailed check failed: status %d", status);
}
END_TEST

START_TEST(test_root_bad_jail)
{
	struct priv_user u;

	if (!root_or_skip(true, "test_root_bad_jail"))
		exit(1);	/* skipped; keeps the exit test's contract */
	priv_lookup_or_die(UNPRIV_USER, "test", &u);
	priv_drop(&u, "/nonexistent/tern-jail");
}
END_TEST

START_TEST(test_instance_self)
{
	char *me;
	uid_t before = getuid();

	if (!root_or_skip(false, "test_instance_self"))
		return;
	me = current_user();
	/* The jail is ignored in instance mode. */
	priv_drop_to(me, "mail_owner", "/nonexistent/tern-jail");
	ck_assert_uint_eq(getuid(), before);
	ck_assert_uint_eq(geteuid(), before);
	free(me);
}
END_TEST

/*
 * Becoming somebody else without root is fatal.  As root, the test first
 * drops to nobody, which puts it in exactly that position.
 */
START_TEST(test_other_user_fatal)
{
	char name[] = "other";
	struct priv_user u;
	struct priv_user other = { .name = name, .uid = 4243, .gid = 4243 };

	if (priv_is_root()) {
		priv_lookup_or_die(UNPRIV_USER, "test", &u);
		priv_drop(&u, NULL);
	}
	if (getuid() == other.uid)
		other.uid++;
	priv_drop(&other, NULL);
}
END_TEST

/* priv_verify catches a drop that did not take (here: none at all). */
START_TEST(test_verify_panics)
{
	char name[] = "ghost";
	struct priv_user u = { .name = name, .uid = getuid() + 1,
	    .gid = getgid() + 1 };

	priv_verify(&u);
}
END_TEST

START_TEST(test_verify_after_drop_ok)
{
	struct priv_user u;

	if (!root_or_skip(true, "test_verify_after_drop_ok"))
		return;
	priv_lookup_or_die(UNPRIV_USER, "test", &u);
	priv_drop(&u, NULL);
	priv_verify(&u);		/* twice is fine */
	priv_user_deinit(&u);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("priv");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_lookup);
	tcase_add_exit_test(tc, test_lookup_or_die_missing, 1);
	tcase_add_exit_test(tc, test_drop_to_root_refused, 1);
	tcase_add_exit_test(tc, test_drop_gid0_refused, 1);
	tcase_add_test(tc, test_root_drop);
	tcase_add_test(tc, test_root_chroot);
	tcase_add_exit_test(tc, test_root_bad_jail, 1);
	tcase_add_test(tc, test_instance_self);
	tcase_add_exit_test(tc, test_other_user_fatal, 1);
	tcase_add_test_raise_signal(tc, test_verify_panics, SIGABRT);
	tcase_add_test(tc, test_verify_after_drop_ok);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
