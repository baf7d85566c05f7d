/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for pickup.c in a temporary queue directory: a good maildrop
 * file goes to incoming/ and is removed; hostile files (garbage, a
 * truncated file, a symlink, a FIFO, a hard-linked file, a file without
 * recipients) go to corrupt/ and are never queued; a message too big for
 * message_size_limit is rejected and a failure notice is queued for its
 * sender; a scan ignores names that are not queue IDs.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "qfile.h"

#include "pickup.h"

static char dir[] = "/tmp/test_pickup.XXXXXX";
static char oldcwd[4096];

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
setup(void)
{
	static const char *const subdirs[] = { "etc", "q", "q/maildrop",
	    "q/incoming", "q/corrupt", "q/public" };
	struct passwd *pw = getpwuid(geteuid());
	char *p, *cf;
	size_t i;

	ck_assert_ptr_nonnull(getcwd(oldcwd, sizeof(oldcwd)));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < ARRAY_LEN(subdirs); i++) {
		p = xasprintf("%s/%s", dir, subdirs[i]);
		ck_assert_int_eq(mkdir(p, 0755), 0);
		free(p);
	}
	cf = xasprintf("queue_directory = %s/q\nmail_owner = %s\n"
	    "myhostname = host.example\nmyorigin = one.example\n"
	    "message_size_limit = 3000\n", dir, pw->pw_name);
	p = xasprintf("%s/etc/main.cf", dir);
	write_text(p, cf);
	free(p);
	free(cf);
	p = xasprintf("%s/etc", dir);
	mail_conf_load(p, NULL);
	free(p);
	p = xasprintf("%s/q", dir);
	ck_assert_int_eq(chdir(p), 0);
	free(p);
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf %s", dir);

	ck_assert_int_eq(chdir(oldcwd), 0);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	mail_conf_unload();
	str_copy(dir, "/tmp/test_pickup.XXXXXX", sizeof(dir));
}

static size_t
count(const char *d)
{
	struct dirent *de;
	size_t n = 0;
	DIR *dp = opendir(d);

	ck_assert_ptr_nonnull(dp);
	while ((de = readdir(dp)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dp);
	return n;
}

/* Writes a maildrop file as terndrop does; returns its name. */
static char *
drop(const char *sender, const char *rcpt, const char *content)
{
	struct qfile_writer *w;
	char qid[QID_SIZE];
	const char *err;

	ck_assert_int_eq(qfile_create(QFILE_MAILDROP, 0644, &w, &err), 0);
	ck_assert_int_eq(qfile_put_sender(w, sender), 0);
	ck_assert_int_eq(qfile_put_attr(w, "fullname", "Joe User"), 0);
	ck_assert_int_eq(qfile_put_rcpt(w, rcpt, "-", NULL), 0);
	qfile_begin_content(w);
	qfile_put_content(w, content, strlen(content));
	ck_assert_int_eq(qfile_commit(&w, qid, &err), 0);
	return xstrdup(qid);
}

START_TEST(test_good)
{
	char *name = drop("joe", "bob@example.com",
	    "Subject: hi\n\nhello\n");

	ck_assert_int_eq(pickup_file(name), PICKUP_QUEUED);
	ck_assert_uint_eq(count(QFILE_MAILDROP), 0);
	ck_assert_uint_eq(count(QFILE_INCOMING), 1);
	ck_assert_int_eq(pickup_file(name), PICKUP_GONE);
	free(name);
}
END_TEST

START_TEST(test_scan)
{
	char *a = drop("joe", "bob@example.com", "x\n");
	char *b = drop("", "bob@example.com", "y\n");

	write_text("maildrop/.tmp-partial", "TERNQ 1\n");
	write_text("maildrop/not-a-qid", "whatever\n");
	ck_assert_uint_eq(pickup_scan(), 2);
	ck_assert_uint_eq(count(QFILE_INCOMING), 2);
	/* Left alone (count() skips the dot file). */
	ck_assert_uint_eq(count(QFILE_MAILDROP), 1);
	ck_assert_int_eq(access("maildrop/.tmp-partial", F_OK), 0);
	free(a);
	free(b);
}
END_TEST

/* Hostile maildrop files, each named by a valid queue ID. */
#define H(s)	{ s, sizeof(s) - 1 }
static const struct {
	const char	*data;
	size_t		 len;
} hostile[] = {
	H("garbage\n"),
	H(""),
	H("TERNQ 1\nT 1.000000\nS x\nR - - - joe\nM\ngarbage\n"),
	H("TERNQ 1\nT 1.000000\nZ 00000000000000000002\nS x\nM\nab\nX\n"),
	H("TERNQ 1\nT 1.000000\nZ 00000000000000000099\nS x\nR - - - a\nM\n"
	    "ab\nX\n"),
	H("TERNQ 1\nT 1.000000\nZ 00000000000000000002\nS x\0y\nR - - - a\n"
	    "M\nab\nX\n"),
};

START_TEST(test_hostile)
{
	const char *name = "1MQ3K7F0A3C2B";
	char *path = xasprintf("maildrop/%s", name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(hostile[_i].data, 1, hostile[_i].len, f),
	    hostile[_i].len);
	fclose(f);
	ck_assert_int_eq(pickup_file(name), PICKUP_QUARANTINED);
	ck_assert_uint_eq(count(QFILE_INCOMING), 0);
	ck_assert_uint_eq(count(QFILE_MAILDROP), 0);
	ck_assert_uint_eq(count(QFILE_CORRUPT), 1);
	free(path);
}
END_TEST

START_TEST(test_not_regular)
{
	char *good = drop("joe", "bob@example.com", "x\n");
	char *p = xasprintf("maildrop/%s", good);

	/* A symlink, a FIFO, a file with a second link. */
	ck_assert_int_eq(symlink(p + 9, "maildrop/1MQ3K7F0A3C2C"), 0);
	ck_assert_int_eq(pickup_file("1MQ3K7F0A3C2C"), PICKUP_QUARANTINED);
	ck_assert_int_eq(mkfifo("maildrop/1MQ3K7F0A3C2D", 0644), 0);
	ck_assert_int_eq(pickup_file("1MQ3K7F0A3C2D"), PICKUP_QUARANTINED);
	ck_assert_int_eq(link(p, "extra-link"), 0);
	ck_assert_int_eq(pickup_file(good), PICKUP_QUARANTINED);
	ck_assert_uint_eq(count(QFILE_INCOMING), 0);
	ck_assert_uint_eq(count(QFILE_CORRUPT), 3);
	free(p);
	free(good);
}
END_TEST

START_TEST(test_too_big)
{
	struct buf big;
	char *name;
	size_t i;

	buf_init(&big, 0);
	buf_adds(&big, "Subject: big\n\n");
	for (i = 0; i < 100; i++)
		buf_adds(&big, "0123456789012345678901234567890123456789\n");
	name = drop("joe", "bob@example.com", buf_cstr(&big));
	ck_assert_int_eq(pickup_file(name), PICKUP_BOUNCED);
	ck_assert_uint_eq(count(QFILE_MAILDROP), 0);
	/* The failure notice, and nothing else, was queued. */
	ck_assert_uint_eq(count(QFILE_INCOMING), 1);
	buf_deinit(&big);
	free(name);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("pickup");
	TCase *tc = tcase_create("maildrop");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_scan);
	tcase_add_loop_test(tc, test_hostile, 0, ARRAY_LEN(hostile));
	tcase_add_test(tc, test_not_regular);
	tcase_add_test(tc, test_too_big);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
