/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for safefile.c: symlink and existing-file attacks refused,
 * modes exact whatever the umask, trust checks on owner, type and write
 * bits, atomic replacement seen by a concurrent reader, error paths.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "safefile.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

static char *dir;

static void
setup(void)
{
	dir = xstrdup("/tmp/tern-test-safefile.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Removes the test directory and whatever is left in it. */
static void
teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *p;

		if (e->d_name[0] == '.' && (e->d_name[1] == '\0' ||
		    str_eq(e->d_name, "..")))
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (unlink(p) == -1)
			(void)rmdir(p);
		free(p);
	}
	if (d != NULL)
		closedir(d);
	(void)rmdir(dir);
	free(dir);
}

static char *
at(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* Entries in the test directory. */
static int
entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static const struct {
	mode_t	umask;
	mode_t	mode;
} modes[] = {
	{ 077, 0640 }, { 0, 0600 }, { 022, 0666 }, { 0777, 0400 },
	{ 002, 0700 },
};

START_TEST(test_create_mode)
{
	char *p = at("f");
	const char *err = NULL;
	struct stat st;
	mode_t old = umask(modes[_i].umask);
	int fd;

	fd = safefile_create(p, modes[_i].mode, &err);
	(void)umask(old);
	ck_assert_msg(fd != -1, "%s", err);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, modes[_i].mode);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(fd);
	free(p);
}
END_TEST

START_TEST(test_create_refuses)
{
	char *p = at("f"), *link = at("link"), *target = at("target");
	char *want;
	const char *err = NULL;
	struct stat st;
	int fd;

	fd = safefile_create(p, 0600, &err);
	ck_assert_int_ne(fd, -1);
	close(fd);
	ck_assert_int_eq(safefile_create(p, 0600, &err), -1);
	ck_assert_int_eq(errno, EEXIST);
	want = xasprintf("create %s: File exists", p);
	ck_assert_str_eq(err, want);
	free(want);
	/* A dangling symlink must not be followed to create its target. */
	ck_assert_int_eq(symlink(target, link), 0);
	ck_assert_int_eq(safefile_create(link, 0600, &err), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(lstat(target, &st), -1);
	free(p);
	p = xasprintf("%s/nodir/f", dir);
	ck_assert_int_eq(safefile_create(p, 0600, &err), -1);
	ck_assert_int_eq(errno, ENOENT);
	free(p);
	free(link);
	free(target);
}
END_TEST

static void
make_file(const char *p, const char *text, mode_t mode)
{
	const char *err;
	int fd = safefile_create(p, mode, &err);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

START_TEST(test_trusted)
{
	char *p = at("main.cf"), *link = at("link"), *fifo = at("fifo");
	char *want;
	const char *err = NULL;
	struct buf b;
	int fd;

	make_file(p, "myhostname = x\n", 0644);
	buf_init(&b, 0);
	ck_assert_int_eq(safefile_read_trusted(p, geteuid(), &b, &err), 0);
	ck_assert_str_eq(buf_cstr(&b), "myhostname = x\n");
	fd = safefile_open_trusted(p, geteuid(), &err);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);

	/* Wrong owner. */
	ck_assert_int_eq(safefile_open_trusted(p, geteuid() + 1, &err), -1);
	want = xasprintf("%s: owned by uid %lu, not %lu", p,
	    (unsigned long)geteuid(), (unsigned long)geteuid() + 1);
	ck_assert_str_eq(err, want);
	free(want);
	/* Group- or other-writable. */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(chmod(p, i == 0 ? 0664 : 0646), 0);
		ck_assert_int_eq(safefile_open_trusted(p, geteuid(), &err), -1);
		want = xasprintf("%s: writable by group or other", p);
		ck_assert_str_eq(err, want);
		free(want);
	}
	/* A symlink, even to a good file. */
	ck_assert_int_eq(chmod(p, 0600), 0);
	ck_assert_int_eq(symlink(p, link), 0);
	ck_assert_int_eq(safefile_open_trusted(link, geteuid(), &err), -1);
	want = xasprintf("open %s: Too many levels of symbolic links", link);
	ck_assert_str_eq(err, want);
	free(want);
	/* Not regular files: a directory, a FIFO (which must not block). */
	ck_assert_int_eq(safefile_open_trusted(dir, geteuid(), &err), -1);
	want = xasprintf("%s: not a regular file", dir);
	ck_assert_str_eq(err, want);
	free(want);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(safefile_open_trusted(fifo, geteuid(), &err), -1);
	want = xasprintf("%s: not a regular file", fifo);
	ck_assert_str_eq(err, want);
	free(want);
	/* Larger than the caller's bound. */
	buf_deinit(&b);
	buf_init(&b, 4);
	ck_assert_int_eq(safefile_read_trusted(p, geteuid(), &b, &err), -1);
	want = xasprintf("%s: file too large", p);
	ck_assert_str_eq(err, want);
	free(want);
	buf_deinit(&b);
	free(p);
	free(link);
	free(fifo);
}
END_TEST

START_TEST(test_replace)
{
	char *p = at("map"), *link = at("link"), *target = at("target");
	const char *err = NULL;
	struct buf b;
	struct stat st;
	mode_t old;

	buf_init(&b, 0);
	old = umask(077);
	ck_assert_int_eq(safefile_replace(p, "one", 3, 0644, &err), 0);
	(void)umask(old);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(safefile_read_trusted(p, geteuid(), &b, &err), 0);
	ck_assert_str_eq(buf_cstr(&b), "one");
	ck_assert_int_eq(safefile_replace(p, "two!", 4, 0600, &err), 0);
	ck_assert_int_eq(safefile_read_trusted(p, geteuid(), &b, &err), 0);
	ck_assert_str_eq(buf_cstr(&b), "two!");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(safefile_replace(p, "", 0, 0600, &err), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	/* No temporary file is left behind. */
	ck_assert_int_eq(entries(), 1);

	/* A symlink at path is replaced itself; its target is untouched. */
	make_file(target, "secret", 0600);
	ck_assert_int_eq(symlink(target, link), 0);
	ck_assert_int_eq(safefile_replace(link, "new", 3, 0600, &err), 0);
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(safefile_read_trusted(target, geteuid(), &b, &err),
	    0);
	ck_assert_str_eq(buf_cstr(&b), "secret");
	buf_deinit(&b);
	free(p);
	free(link);
	free(target);
}
END_TEST

START_TEST(test_replace_errors)
{
	char *p = at("sub"), *want;
	const char *err = NULL;

	/* The target is a directory: rename fails, nothing is left over. */
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(safefile_replace(p, "x", 1, 0600, &err), -1);
	ck_assert(str_has_prefix(err, "rename "));
	ck_assert_ptr_nonnull(strstr(err, ": Is a directory"));
	ck_assert_int_eq(entries(), 1);
	free(p);
	/* The directory does not exist. */
	p = at("none/map");
	ck_assert_int_eq(safefile_replace(p, "x", 1, 0600, &err), -1);
	ck_assert(str_has_prefix(err, "create "));
	ck_assert_ptr_nonnull(strstr(err, ": No such file or directory"));
	free(p);
	/* fsync of something that is not a directory. */
	p = at("file");
	make_file(p, "x", 0600);
	ck_assert_int_eq(safefile_fsync_dir(p, &err), -1);
	want = xasprintf("open directory %s: Not a directory", p);
	ck_assert_str_eq(err, want);
	free(want);
	ck_assert_int_eq(safefile_fsync_dir(dir, &err), 0);
	free(p);
}
END_TEST

/*
 * A child reads the file as fast as it can while the parent replaces it
 * again and again: every read must see one whole version.
 */
START_TEST(test_replace_atomic)
{
	enum { SIZE = 8192, ROUNDS = 300 };
	char *p = at("atomic"), *a = xmalloc(SIZE), *b = xmalloc(SIZE);
	const char *err = NULL;
	int status;
	pid_t pid;

	memset(a, 'A', SIZE);
	memset(b, 'B', SIZE);
	ck_assert_int_eq(safefile_replace(p, a, SIZE, 0600, &err), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct buf r;
		int reads = 0;

		buf_init(&r, 0);
		for (;;) {
			if (safefile_read_trusted(p, geteuid(), &r, &err) == -1)
				_exit(1);
			if (r.len == 1)
				_exit(reads > 0 ? 0 : 4);
			if (r.len != SIZE || (memcmp(r.data, a, SIZE) != 0 &&
			    memcmp(r.data, b, SIZE) != 0))
				_exit(2);
			reads++;
		}
	}
	for (int i = 0; i < ROUNDS; i++)
		ck_assert_int_eq(safefile_replace(p, i % 2 ? a : b, SIZE, 0600,
		    &err), 0);
	ck_assert_int_eq(safefile_replace(p, "!", 1, 0600, &err), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	free(a);
	free(b);
	free(p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("safefile");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_create_mode, 0, ARRAY_LEN(modes));
	tcase_add_test(tc, test_create_refuses);
	tcase_add_test(tc, test_trusted);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_replace_errors);
	tcase_add_test(tc, test_replace_atomic);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
