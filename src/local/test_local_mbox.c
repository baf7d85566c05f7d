/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the mailbox writers (local_mbox.c, local_maildir.c,
 * local_msg.c) in a temporary directory: the mbox entry format with
 * mboxrd From_ quoting, appending, the size limit, rollback after a write
 * error (RLIMIT_FSIZE), refusal of symlinks and hard links, Maildir names
 * and files, and the Delivered-To: loop test.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "local.h"

static char dir[64];

static void
setup(void)
{
	str_copy(dir, "/tmp/test_local_mbox.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static char *
slurp(const char *path, size_t *len_r)
{
	struct buf b;
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ne(fd, -1);
	buf_init(&b, 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	if (len_r != NULL)
		*len_r = b.len;
	return buf_steal(&b);
}

static struct local_msg
msg_of(const char *data, const char *sender)
{
	struct local_msg m = {
		.qid = "1MQ3K7F0A3C2B", .sender = sender,
		.rcpt = "joe@example.org", .data = data, .len = strlen(data),
	};

	return m;
}

static const char body[] =
    "Subject: hi\n"
    "\n"
    "From the start\n"
    ">From quoted\n"
    ">>From twice\n"
    "Fromage\n"
    " From indented\n"
    "From ";

START_TEST(test_mbox_format)
{
	struct local_msg m = msg_of(body, "");
	struct local_status st;
	char *path = xasprintf("%s/joe", dir), *got, *p;
	size_t len;

	local_mbox_deliver(path, &m, 0, &st);
	ck_assert_int_eq(st.status, DELIVER_SENT);
	ck_assert_str_eq(st.dsn, "2.0.0");
	ck_assert_str_eq(st.text, "delivered to mailbox");
	got = slurp(path, &len);
	ck_assert(str_has_prefix(got, "From MAILER-DAEMON "));
	p = strchr(got, '\n');
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p + 1,
	    "Return-Path: <>\n"
	    "Delivered-To: joe@example.org\n"
	    "Subject: hi\n"
	    "\n"
	    ">From the start\n"
	    ">>From quoted\n"
	    ">>>From twice\n"
	    "Fromage\n"
	    " From indented\n"
	    ">From \n"
	    "\n");
	ck_assert_uint_eq(len, local_mbox_entry_size(&m, time(NULL)));
	/* A second delivery appends. */
	m = msg_of("x\n", "a@b");
	local_mbox_deliver(path, &m, 0, &st);
	ck_assert_int_eq(st.status, DELIVER_SENT);
	free(got);
	got = slurp(path, NULL);
	p = strstr(got, "\nFrom a@b ");
	ck_assert_ptr_nonnull(p);
	ck_assert(str_has_prefix(strchr(p + 1, '\n'),
	    "\nReturn-Path: <a@b>\nDelivered-To: joe@example.org\nx\n\n"));
	/* No dotlock is left behind. */
	free(path);
	path = xasprintf("%s/joe.lock", dir);
	ck_assert_int_eq(access(path, F_OK), -1);
	free(path);
	free(got);
}
END_TEST

START_TEST(test_mbox_limit)
{
	struct local_msg m = msg_of("Subject: x\n\nbody\n", "a@b");
	struct local_status st;
	char *path = xasprintf("%s/joe", dir);
	struct stat sb;

	local_mbox_deliver(path, &m, 150, &st);
	ck_assert_int_eq(st.status, DELIVER_SENT);
	ck_assert_int_eq(stat(path, &sb), 0);
	local_mbox_deliver(path, &m, 150, &st);
	ck_assert_int_eq(st.status, DELIVER_BOUNCE);
	ck_assert_str_eq(st.dsn, "5.2.2");
	ck_assert_ptr_nonnull(strstr(st.text, "mailbox full"));
	ck_assert_int_eq(stat(path, &sb) == 0 ? (long)sb.st_size : -1L,
	    (long)local_mbox_entry_size(&m, time(NULL)));
	free(path);
}
END_TEST

/* A write error half-way truncates the mailbox back: nothing half. */
START_TEST(test_mbox_rollback)
{
	struct local_msg m;
	struct local_status st;
	struct rlimit rl;
	struct stat sb;
	char *path = xasprintf("%s/joe", dir), *big;
	off_t before;

	m = msg_of("Subject: first\n\nshort\n", "a@b");
	local_mbox_deliver(path, &m, 0, &st);
	ck_assert_int_eq(st.status, DELIVER_SENT);
	ck_assert_int_eq(stat(path, &sb), 0);
	before = sb.st_size;
	big = xmalloc(300000);
	memset(big, 'x', 299999);
	big[299999] = '\0';
	for (int i = 100; i < 299999; i += 100)
		big[i] = '\n';
	m = msg_of(big, "a@b");
	signal(SIGXFSZ, SIG_IGN);
	rl.rlim_cur = rl.rlim_max = 200000;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	local_mbox_deliver(path, &m, 0, &st);
	ck_assert_int_eq(st.status, DELIVER_DEFER);
	ck_assert_str_eq(st.dsn, "4.2.2");
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq((long)sb.st_size, (long)before);
	free(big);
	free(path);
}
END_TEST

START_TEST(test_mbox_hostile_files)
{
	struct local_msg m = msg_of("x\n", "a@b");
	struct local_status st;
	char *path = xasprintf("%s/joe", dir);
	char *target = xasprintf("%s/target", dir);
	int fd;

	/* A symlink is refused, its target untouched. */
	fd = open(target, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ne(fd, -1);
	close(fd);
	ck_assert_int_eq(symlink(target, path), 0);
	local_mbox_deliver(path, &m, 0, &st);
	ck_assert_int_eq(st.status, DELIVER_DEFER);
	unlink(path);
	/* A hard link is refused. */
	ck_assert_int_eq(link(target, path), 0);
	local_mbox_deliver(path, &m, 0, &st);
	ck_assert_int_eq(st.status, DELIVER_DEFER);
	unlink(path);
	/* A directory, a FIFO. */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	local_mbox_deliver(path, &m, 0, &st);
	ck_assert_int_eq(st.status, DELIVER_DEFER);
	rmdir(path);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	local_mbox_deliver(path, &m, 0, &st);
	ck_assert_int_eq(st.status, DELIVER_DEFER);
	unlink(path);
	/* A missing directory. */
	free(path);
	path = xasprintf("%s/no/such/joe", dir);
	local_mbox_deliver(path, &m, 0, &st);
	ck_assert_int_eq(st.status, DELIVER_DEFER);
	ck_assert_str_eq(st.dsn, "4.2.0");
	struct stat sb;
	ck_assert_int_eq(stat(target, &sb), 0);
	ck_assert_int_eq((int)sb.st_size, 0);
	free(path);
	free(target);
}
END_TEST

/* A stale dotlock (older than LOCAL_LOCK_STALE) is removed. */
START_TEST(test_mbox_stale_lock)
{
	struct local_msg m = msg_of("x\n", "a@b");
	struct local_status st;
	struct timespec ts[2] = { { 1000, 0 }, { 1000, 0 } };
	char *path = xasprintf("%s/joe", dir);
	char *lock = xasprintf("%s/joe.lock", dir);
	int fd = open(lock, O_WRONLY | O_CREAT, 0600);

	ck_assert_int_ne(fd, -1);
	close(fd);
	ck_assert_int_eq(utimensat(AT_FDCWD, lock, ts, 0), 0);
	local_mbox_deliver(path, &m, 0, &st);
	ck_assert_int_eq(st.status, DELIVER_SENT);
	ck_assert_int_eq(access(lock, F_OK), -1);
	free(path);
	free(lock);
}
END_TEST

static const struct {
	const char	*host;
	const char	*want;
} name_cases[] = {
	{ "mail.example.org", "1700000000.M123456P4242Q7.mail.example.org,"
	  "S=1234" },
	{ "a/b:c", "1700000000.M123456P4242Q7.a\\057b\\072c,S=1234" },
	{ "a b\n", "1700000000.M123456P4242Q7.a\\040b\\012,S=1234" },
};

START_TEST(test_maildir_name)
{
	struct timeval tv = { 1700000000, 123456 };
	char out[128];

	ck_assert_int_eq(local_maildir_name(out, sizeof(out), &tv, 4242, 7,
	    name_cases[_i].host, 1234), 0);
	ck_assert_str_eq(out, name_cases[_i].want);
	ck_assert_int_eq(local_maildir_name(out, 20, &tv, 4242, 7,
	    name_cases[_i].host, 1234), -1);
	ck_assert_int_eq(local_maildir_name(out, 0, &tv, 4242, 7,
	    name_cases[_i].host, 1234), -1);
}
END_TEST

static int
count_dir(const char *path, char *name_r, size_t size)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		if (name_r != NULL)
			str_copy(name_r, e->d_name, size);
	}
	closedir(d);
	return n;
}

START_TEST(test_maildir_deliver)
{
	struct local_msg m = msg_of("Subject: x\n\nFrom body", "a@b");
	struct local_status st;
	char *md = xasprintf("%s/deep/Maildir", dir), *p, *got;
	char name[256];
	size_t len;

	local_maildir_deliver(md, &m, 0, &st);
	ck_assert_int_eq(st.status, DELIVER_SENT);
	ck_assert_str_eq(st.text, "delivered to maildir");
	p = xasprintf("%s/tmp", md);
	ck_assert_int_eq(count_dir(p, NULL, 0), 0);
	free(p);
	p = xasprintf("%s/cur", md);
	ck_assert_int_eq(count_dir(p, NULL, 0), 0);
	free(p);
	p = xasprintf("%s/new", md);
	ck_assert_int_eq(count_dir(p, name, sizeof(name)), 1);
	free(p);
	p = xasprintf("%s/new/%s", md, name);
	got = slurp(p, &len);
	ck_assert_str_eq(got, "Return-Path: <a@b>\n"
	    "Delivered-To: joe@example.org\nSubject: x\n\nFrom body\n");
	/* No From_ quoting in a Maildir; S= is the file size. */
	char *s = strstr(name, ",S=");
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strtoul(s + 3, NULL, 10), len);
	free(got);
	free(p);
	/* Too large for the limit: bounced, nothing written. */
	local_maildir_deliver(md, &m, 10, &st);
	ck_assert_int_eq(st.status, DELIVER_BOUNCE);
	ck_assert_str_eq(st.dsn, "5.2.2");
	p = xasprintf("%s/new", md);
	ck_assert_int_eq(count_dir(p, NULL, 0), 1);
	free(p);
	/* A file where the Maildir should be. */
	p = xasprintf("%s/file", dir);
	close(open(p, O_WRONLY | O_CREAT, 0600));
	local_maildir_deliver(p, &m, 0, &st);
	ck_assert_int_eq(st.status, DELIVER_DEFER);
	free(p);
	free(md);
}
END_TEST

static const struct {
	const char	*data;
	bool		 loop;
} loop_cases[] = {
	{ "Delivered-To: joe@example.org\n\nbody\n", true },
	{ "Subject: x\ndelivered-to:   JOE@Example.ORG  \n\n", true },
	{ "Delivered-To: <joe@example.org>\n\n", true },
	{ "Delivered-To: joe@example.org\r\n\r\n", true },
	{ "Delivered-To: other@example.org\n\n", false },
	{ "Delivered-To: joe@example.org.evil\n\n", false },
	{ "Subject: x\n\nDelivered-To: joe@example.org\n", false },
	{ "X-Delivered-To: joe@example.org\n", false },
	{ "Delivered-To:", false },
	{ "", false },
};

START_TEST(test_delivered_to)
{
	struct local_msg m = msg_of(loop_cases[_i].data, "");

	ck_assert_int_eq(local_msg_has_delivered_to(&m, "joe@example.org"),
	    loop_cases[_i].loop);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("local_mbox");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mbox_format);
	tcase_add_test(tc, test_mbox_limit);
	tcase_add_test(tc, test_mbox_rollback);
	tcase_add_test(tc, test_mbox_hostile_files);
	tcase_add_test(tc, test_mbox_stale_lock);
	tcase_add_loop_test(tc, test_maildir_name, 0, ARRAY_LEN(name_cases));
	tcase_add_test(tc, test_maildir_deliver);
	tcase_add_loop_test(tc, test_delivered_to, 0, ARRAY_LEN(loop_cases));
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
