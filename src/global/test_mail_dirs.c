/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for mail_dirs.c: a fresh tree is created with exact modes
 * (whatever the umask) and owners, a second run finds nothing to do,
 * wrong modes are reported or repaired, and a symlink or a file where a
 * directory belongs is reported and never followed or replaced.  Hostile
 * configurations (unknown users, root as mail_owner, relative paths,
 * missing parents) are refused.  As root the tree belongs to "nobody" and
 * "nogroup", so that the ownership changes are real; otherwise to the
 * user running the test.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "priv.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "mail_dirs.h"

static char *dir;		/* the test's own temporary directory */
static char *owner;		/* mail_owner of the test instance */
static uid_t owner_uid;

static void
setup(void)
{
	struct passwd *pw;
	char *etc;

	dir = xstrdup("/tmp/tern-test-mail_dirs.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* As root, mail_owner's processes must be able to reach the tree. */
	ck_assert_int_eq(chmod(dir, 0755), 0);
	etc = xasprintf("%s/etc", dir);
	ck_assert_int_eq(mkdir(etc, 0755), 0);
	free(etc);
	pw = getpwuid(geteuid());
	ck_assert_ptr_nonnull(pw);
	owner = xstrdup(priv_is_root() ? "nobody" : pw->pw_name);
	pw = getpwnam(owner);
	ck_assert_ptr_nonnull(pw);
	owner_uid = pw->pw_uid;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP)
		return rmdir(path) == -1 ? -1 : 0;
	return unlink(path) == -1 ? -1 : 0;
}

static void
teardown(void)
{
	mail_conf_unload();
	ck_assert_int_eq(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(dir);
	free(owner);
}

static char *
at(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* Writes main.cf with the test's tree plus extra lines, and loads it. */
static void
load(const char *extra)
{
	char *etc = at("etc"), *path = at("etc/main.cf");
	const char *err;
	FILE *f;

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "queue_directory = %s/spool\n"
	    "data_directory = %s/lib\n"
	    "mail_owner = %s\n", dir, dir, owner);
	if (priv_is_root())
		fputs("setgid_group = nogroup\n", f);
	fputs(extra, f);
	ck_assert_int_eq(fclose(f), 0);
	if (mail_conf_try_load(etc, NULL, false, &err) == -1)
		ck_abort_msg("load: %s", err);
	free(etc);
	free(path);
}

/* The report joined into one string, for substring checks (heap). */
static char *
joined(const struct strv *sv)
{
	return sv->n == 0 ? xstrdup("") : strv_join(sv, "\n");
}

/* t with every "%s" replaced by the test directory (heap). */
static char *
subst(const char *t)
{
	const char *p;
	char *out = xstrdup(""), *next;

	while ((p = strstr(t, "%s")) != NULL) {
		next = xasprintf("%s%.*s%s", out, (int)(p - t), t, dir);
		free(out);
		out = next;
		t = p + 2;
	}
	next = xasprintf("%s%s", out, t);
	free(out);
	return next;
}

/* Fails unless a line of the report contains want ("%s": the tree). */
static void
assert_has(const struct strv *sv, const char *tmpl)
{
	char *want = subst(tmpl), *all = joined(sv);

	if (strstr(all, want) == NULL)
		ck_abort_msg("report lacks \"%s\":\n%s", want, all);
	free(want);
	free(all);
}

static void
assert_dir(const char *name, mode_t mode, uid_t uid, const char *group)
{
	char *path = at(name);
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	if ((st.st_mode & 07777) != mode)
		ck_abort_msg("%s: mode %04o, expected %04o", path,
		    (unsigned)(st.st_mode & 07777), (unsigned)mode);
	ck_assert_uint_eq(st.st_uid, uid);
	if (group != NULL && priv_is_root())
		ck_assert_uint_eq(st.st_gid, 65534);	/* nogroup */
	free(path);
}

/* The whole tree as it must be after a successful run. */
static void
assert_tree(void)
{
	uid_t root = priv_is_root() ? 0 : owner_uid;

	assert_dir("spool", 0755, root, NULL);
	assert_dir("spool/private", 0700, owner_uid, NULL);
	assert_dir("spool/public", 0710, owner_uid, "nogroup");
	assert_dir("spool/pid", 0755, root, NULL);
	assert_dir("spool/maildrop", 01730, owner_uid, "nogroup");
	assert_dir("spool/incoming", 0700, owner_uid, NULL);
	assert_dir("spool/active", 0700, owner_uid, NULL);
	assert_dir("spool/deferred", 0700, owner_uid, NULL);
	assert_dir("spool/hold", 0700, owner_uid, NULL);
	assert_dir("spool/corrupt", 0700, owner_uid, NULL);
	assert_dir("lib", 0700, owner_uid, NULL);
}

/* Creates the tree with fix and checks that it is right. */
static void
create_tree(void)
{
	struct strv rep;

	strv_init(&rep);
	ck_assert_int_eq(mail_dirs_check(true, &rep), 0);
	strv_deinit(&rep);
	assert_tree();
}

static const mode_t umasks[] = { 022, 0, 077, 0777 };

START_TEST(test_create)
{
	struct strv rep;

	load("");
	(void)umask(umasks[_i]);
	strv_init(&rep);
	ck_assert_int_eq(mail_dirs_check(true, &rep), 0);
	ck_assert_uint_eq(rep.n, 11);
	assert_has(&rep, "created %s/spool/private (0700 ");
	assert_has(&rep, "created %s/spool (0755 ");
	assert_has(&rep, "created %s/lib (0700 ");
	if (priv_is_root()) {
		assert_has(&rep, "created %s/spool/private (0700 nobody)");
		assert_has(&rep, "created %s/spool/maildrop (1730 "
		    "nobody:nogroup)");
		assert_has(&rep, "created %s/spool (0755 root)");
	}
	strv_deinit(&rep);
	assert_tree();

	/* Nothing left to do, with or without fix. */
	strv_init(&rep);
	ck_assert_int_eq(mail_dirs_check(true, &rep), 0);
	ck_assert_uint_eq(rep.n, 0);
	ck_assert_int_eq(mail_dirs_check(false, &rep), 0);
	ck_assert_uint_eq(rep.n, 0);
	strv_deinit(&rep);
}
END_TEST

START_TEST(test_missing_no_fix)
{
	struct strv rep;
	struct stat st;
	char *spool = at("spool");

	load("");
	strv_init(&rep);
	ck_assert_int_eq(mail_dirs_check(false, &rep), -1);
	assert_has(&rep, "%s/spool: No such file or directory");
	assert_has(&rep, "%s/lib: No such file or directory");
	ck_assert_int_eq(lstat(spool, &st), -1);
	strv_deinit(&rep);
	free(spool);
}
END_TEST

START_TEST(test_wrong_mode)
{
	char *priv = at("spool/private"), *drop = at("spool/maildrop");
	struct strv rep;
	struct stat st;

	load("");
	create_tree();
	ck_assert_int_eq(chmod(priv, 0755), 0);
	ck_assert_int_eq(chmod(drop, 0777), 0);

	strv_init(&rep);
	ck_assert_int_eq(mail_dirs_check(false, &rep), -1);
	ck_assert_uint_eq(rep.n, 2);
	assert_has(&rep, "%s/spool/private: mode 0755, expected 0700");
	assert_has(&rep, "%s/spool/maildrop: mode 0777, expected 1730");
	ck_assert_int_eq(stat(priv, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	strv_deinit(&rep);

	strv_init(&rep);
	ck_assert_int_eq(mail_dirs_check(true, &rep), 0);
	ck_assert_uint_eq(rep.n, 2);
	assert_has(&rep, "%s/spool/private: mode 0755, expected 0700 "
	    "(fixed)");
	strv_deinit(&rep);
	assert_tree();
	free(priv);
	free(drop);
}
END_TEST

START_TEST(test_wrong_owner)
{
	char *priv, *pub;
	struct strv rep;

	if (!priv_is_root())
		return;		/* only root can give a directory away */
	priv = at("spool/private");
	pub = at("spool/public");
	load("");
	create_tree();
	ck_assert_int_eq(chown(priv, 0, 0), 0);
	ck_assert_int_eq(chown(pub, 65534, 0), 0);

	strv_init(&rep);
	ck_assert_int_eq(mail_dirs_check(false, &rep), -1);
	assert_has(&rep, "%s/spool/private: owner root, expected nobody");
	assert_has(&rep, "%s/spool/public: group root, expected nogroup");
	strv_deinit(&rep);

	strv_init(&rep);
	ck_assert_int_eq(mail_dirs_check(true, &rep), 0);
	assert_has(&rep, "%s/spool/private: owner root, expected nobody "
	    "(fixed)");
	strv_deinit(&rep);
	assert_tree();
	free(priv);
	free(pub);
}
END_TEST

START_TEST(test_symlink)
{
	char *priv = at("spool/private"), *target = at("target");
	char *spool = at("spool");
	struct strv rep;
	struct stat st;

	load("");
	ck_assert_int_eq(mkdir(spool, 0755), 0);
	ck_assert_int_eq(mkdir(target, 0750), 0);
	ck_assert_int_eq(chmod(target, 0750), 0);
	ck_assert_int_eq(symlink(target, priv), 0);

	strv_init(&rep);
	ck_assert_int_eq(mail_dirs_check(true, &rep), -1);
	assert_has(&rep, "%s/spool/private: is a symbolic link");
	strv_deinit(&rep);
	/* The link is still there, its target untouched. */
	ck_assert_int_eq(lstat(priv, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(lstat(target, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0750);
	ck_assert_uint_eq(st.st_uid, geteuid());
	free(priv);
	free(target);
	free(spool);
}
END_TEST

/* queue_directory itself a symlink: nothing below it is looked at. */
START_TEST(test_symlink_queue)
{
	char *spool = at("spool"), *target = at("target");
	char *under = at("target/private");
	struct strv rep;
	struct stat st;

	load("");
	ck_assert_int_eq(mkdir(target, 0755), 0);
	ck_assert_int_eq(symlink(target, spool), 0);
	strv_init(&rep);
	ck_assert_int_eq(mail_dirs_check(true, &rep), -1);
	assert_has(&rep, "%s/spool: is a symbolic link");
	strv_deinit(&rep);
	ck_assert_int_eq(lstat(under, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	free(spool);
	free(target);
	free(under);
}
END_TEST

START_TEST(test_file_not_dir)
{
	char *hold = at("spool/hold");
	struct strv rep;
	struct stat st;
	int fd;

	load("");
	create_tree();
	ck_assert_int_eq(rmdir(hold), 0);
	fd = open(hold, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	ck_assert_int_eq(close(fd), 0);

	strv_init(&rep);
	ck_assert_int_eq(mail_dirs_check(true, &rep), -1);
	ck_assert_uint_eq(rep.n, 1);
	assert_has(&rep, "%s/spool/hold: not a directory");
	strv_deinit(&rep);
	ck_assert_int_eq(lstat(hold, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, 1);
	free(hold);
}
END_TEST

/* Configurations that must be refused, and what the report says. */
static const struct {
	const char *extra;	/* appended to main.cf; "%s" is the tree */
	const char *want;	/* in the report */
	int	    who;	/* 0: always, 1: root only, 2: non-root */
} bad_cases[] = {
	{ "mail_owner = no-such-user-tern\n", "mail_owner: unknown user "
	    "\"no-such-user-tern\"", 0 },
	{ "mail_owner = root\n", "it must not be root", 1 },
	{ "setgid_group = no-such-group-tern\n", "setgid_group: unknown "
	    "group \"no-such-group-tern\"", 1 },
	{ "mail_owner = root\n", "mail_owner is root but this instance "
	    "runs as ", 2 },
	{ "queue_directory = spool\n", "queue_directory: not an absolute "
	    "path: \"spool\"", 0 },
	{ "data_directory = ./lib\n", "data_directory: not an absolute path",
	    0 },
	{ "queue_directory = %s/missing/spool\n", "mkdir %s/missing/spool: "
	    "No such file or directory", 0 },
	{ "data_directory = %s/missing/lib\n", "mkdir %s/missing/lib: No "
	    "such file or directory", 0 },
	{ "process_id_directory = ../etc\n", "process_id_directory: bad "
	    "value", 0 },
	{ "process_id_directory = .\n", "process_id_directory: bad value",
	    0 },
	{ "queue_directory = %s/etc/main.cf\n", "%s/etc/main.cf: not a "
	    "directory", 0 },
};

START_TEST(test_bad_config)
{
	char *extra, *missing;
	struct strv rep;
	struct stat st;

	if ((bad_cases[_i].who == 1 && !priv_is_root()) ||
	    (bad_cases[_i].who == 2 && priv_is_root()))
		return;
	missing = at("missing");
	extra = subst(bad_cases[_i].extra);
	load(extra);
	strv_init(&rep);
	ck_assert_int_eq(mail_dirs_check(true, &rep), -1);
	assert_has(&rep, bad_cases[_i].want);
	strv_deinit(&rep);
	/* A missing parent is never created. */
	ck_assert_int_eq(lstat(missing, &st), -1);
	free(extra);
	free(missing);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("mail_dirs");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_create, 0, ARRAY_LEN(umasks));
	tcase_add_test(tc, test_missing_no_fix);
	tcase_add_test(tc, test_wrong_mode);
	tcase_add_test(tc, test_wrong_owner);
	tcase_add_test(tc, test_symlink);
	tcase_add_test(tc, test_symlink_queue);
	tcase_add_test(tc, test_file_not_dir);
	tcase_add_loop_test(tc, test_bad_config, 0, ARRAY_LEN(bad_cases));
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
