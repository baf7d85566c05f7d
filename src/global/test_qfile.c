/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for qfile.c: write/commit/open round trips, marks and log
 * records seen after reopening, moves, removal and quarantine, commit
 * failures that leave no file, xtext, and a table of hostile files that
 * the parser must refuse cleanly (or accept where they are legal).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "qfile.h"
#include "qid.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

static char *topdir;
static char *oldcwd;

static void
rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *p;

		if (str_eq(e->d_name, ".") || str_eq(e->d_name, ".."))
			continue;
		p = xasprintf("%s/%s", path, e->d_name);
		if (unlink(p) == -1)
			rm_tree(p);
		free(p);
	}
	if (d != NULL)
		closedir(d);
	(void)rmdir(path);
}

/* A queue_directory with its subdirectories, as the current directory. */
static void
setup(void)
{
	static const char *const dirs[] = { QFILE_INCOMING, QFILE_ACTIVE,
	    QFILE_DEFERRED, QFILE_HOLD, QFILE_CORRUPT, QFILE_MAILDROP };

	oldcwd = getcwd(NULL, 0);
	ck_assert_ptr_nonnull(oldcwd);
	topdir = xstrdup("/tmp/tern-test-qfile.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(topdir));
	ck_assert_int_eq(chdir(topdir), 0);
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		ck_assert_int_eq(mkdir(dirs[i], 0700), 0);
}

static void
teardown(void)
{
	ck_assert_int_eq(chdir(oldcwd), 0);
	(void)chmod(topdir, 0700);
	rm_tree(topdir);
	free(topdir);
	free(oldcwd);
}

/* Files in dir not starting with "." (or with, when dot). */
static int
count_files(const char *dir, bool dot)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (str_eq(e->d_name, ".") || str_eq(e->d_name, ".."))
			continue;
		if ((e->d_name[0] == '.') == dot)
			n++;
	}
	closedir(d);
	return n;
}

static char *
read_whole(const char *path)
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
	return buf_steal(&b);
}

static void
write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Writes a small standard message into incoming/; returns its ID. */
static void
make_file(char qid[QID_SIZE], const char *content)
{
	struct qfile_writer *w;
	const char *err;

	ck_assert_int_eq(qfile_create(QFILE_INCOMING, 0600, &w, &err), 0);
	ck_assert_int_eq(qfile_put_sender(w, "sender@example.org"), 0);
	ck_assert_int_eq(qfile_put_attr(w, "client_name", "mx.example.net"),
	    0);
	ck_assert_int_eq(qfile_put_attr(w, "envid", "abc+2B1"), 0);
	ck_assert_int_eq(qfile_put_rcpt(w, "a@example.com",
	    "SUCCESS,FAILURE", "rfc822;a@example.com"), 0);
	ck_assert_int_eq(qfile_put_rcpt(w, "b c@example.com", NULL, NULL),
	    0);
	ck_assert_int_eq(qfile_put_rcpt(w, "d@\xc3\xa9xample.com", "NEVER",
	    "-"), 0);
	qfile_begin_content(w);
	qfile_put_content(w, content, strlen(content));
	ck_assert_int_eq(qfile_commit(&w, qid, &err), 0);
	ck_assert_ptr_null(w);
}

START_TEST(test_round_trip)
{
	static const char msg[] = "Subject: hi\n\nbody\n";
	struct qfile_writer *w;
	struct qfile *qf;
	struct buf b;
	char qid[QID_SIZE], *path, *text;
	const char *err, *wqid;

	ck_assert_int_eq(qfile_create(QFILE_INCOMING, 0640, &w, &err), 0);
	wqid = qfile_writer_qid(w);
	ck_assert(qid_valid(wqid));
	ck_assert_int_eq(count_files(QFILE_INCOMING, true), 1);
	ck_assert_int_eq(count_files(QFILE_INCOMING, false), 0);
	ck_assert_int_eq(qfile_put_sender(w, ""), 0);
	ck_assert_int_eq(qfile_put_attr(w, "ret", "HDRS"), 0);
	ck_assert_int_eq(qfile_put_rcpt(w, "x@example.com", "DELAY", NULL),
	    0);
	qfile_begin_content(w);
	qfile_put_content(w, msg, 5);
	qfile_put_content(w, msg + 5, sizeof(msg) - 1 - 5);
	ck_assert_uint_eq(qfile_content_size(w), sizeof(msg) - 1);
	ck_assert_int_eq(qfile_commit(&w, qid, &err), 0);
	ck_assert_int_eq(count_files(QFILE_INCOMING, true), 0);
	ck_assert_int_eq(count_files(QFILE_INCOMING, false), 1);

	path = xasprintf("incoming/%s", qid);
	text = read_whole(path);
	ck_assert(str_has_prefix(text, "TERNQ 1\nT "));
	ck_assert_ptr_nonnull(strstr(text, "\nZ 00000000000000000018\n"
	    "S \nA ret=HDRS\nR - DELAY - x@example.com\nM\n"
	    "Subject: hi\n\nbody\nX\n"));
	free(text);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	free(path);

	ck_assert_int_eq(qfile_open(QFILE_INCOMING, qid, QFILE_O_RDONLY, &qf,
	    &err), 0);
	ck_assert_str_eq(qf->qid, qid);
	ck_assert_str_eq(qf->dir, QFILE_INCOMING);
	ck_assert_str_eq(qf->sender, "");
	ck_assert_uint_eq(qf->nattrs, 1);
	ck_assert_str_eq(qfile_attr(qf, "ret"), "HDRS");
	ck_assert_ptr_null(qfile_attr(qf, "envid"));
	ck_assert_uint_eq(qf->nrcpts, 1);
	ck_assert_str_eq(qf->rcpts[0].addr, "x@example.com");
	ck_assert_str_eq(qf->rcpts[0].notify, "DELAY");
	ck_assert_str_eq(qf->rcpts[0].orcpt, "-");
	ck_assert_int_eq(qf->rcpts[0].state, QFILE_TODO);
	ck_assert_ptr_null(qf->rcpts[0].last_action);
	ck_assert_uint_eq(qf->content_size, sizeof(msg) - 1);
	ck_assert_int_eq(qf->warned, 0);
	{
		struct timeval tv;

		ck_assert_int_eq(qid_time(qid, &tv), 0);
		ck_assert_int_eq(tv.tv_sec, qf->arrival.tv_sec);
		ck_assert_int_eq(tv.tv_usec, qf->arrival.tv_usec);
	}
	buf_init(&b, 0);
	ck_assert_int_eq(qfile_read_content(qf, &b, 0, &err), 0);
	ck_assert_str_eq(buf_cstr(&b), msg);
	ck_assert_int_eq(qfile_read_content(qf, &b, 7, &err), 0);
	ck_assert_str_eq(buf_cstr(&b), "Subject");
	buf_deinit(&b);
	qfile_free(&qf);
	ck_assert_ptr_null(qf);
	qfile_free(&qf);
}
END_TEST

START_TEST(test_big_content)
{
	struct qfile_writer *w;
	struct qfile *qf;
	struct buf b;
	char qid[QID_SIZE], *chunk;
	const char *err;
	size_t total = 0;

	chunk = xmalloc(100000);
	for (size_t i = 0; i < 100000; i++)
		chunk[i] = (char)('a' + i % 26);
	ck_assert_int_eq(qfile_create(QFILE_INCOMING, 0600, &w, &err), 0);
	ck_assert_int_eq(qfile_put_sender(w, "s@x"), 0);
	for (int i = 0; i < 2000; i++)
		ck_assert_int_eq(qfile_put_rcpt(w, "r@x", NULL, NULL), 0);
	qfile_begin_content(w);
	for (int i = 0; i < 30; i++) {
		size_t n = (size_t)(i * 3331) % 100000;

		qfile_put_content(w, chunk, n);
		total += n;
	}
	ck_assert_int_eq(qfile_commit(&w, qid, &err), 0);
	ck_assert_int_eq(qfile_open(QFILE_INCOMING, qid, 0, &qf, &err), 0);
	ck_assert_uint_eq(qf->nrcpts, 2000);
	ck_assert_uint_eq(qf->content_size, total);
	buf_init(&b, 0);
	ck_assert_int_eq(qfile_read_content(qf, &b, 0, &err), 0);
	ck_assert_uint_eq(b.len, total);
	buf_deinit(&b);
	qfile_free(&qf);
	free(chunk);
}
END_TEST

START_TEST(test_mark_log_reopen)
{
	struct qfile *qf;
	char qid[QID_SIZE];
	const char *err;

	make_file(qid, "hello\n");
	ck_assert_int_eq(qfile_open(QFILE_INCOMING, qid, 0, &qf, &err), 0);
	ck_assert_uint_eq(qf->nrcpts, 3);
	ck_assert_str_eq(qf->sender, "sender@example.org");
	ck_assert_str_eq(qfile_attr(qf, "envid"), "abc+2B1");
	ck_assert_str_eq(qf->rcpts[1].addr, "b c@example.com");
	ck_assert_str_eq(qf->rcpts[2].addr, "d@\xc3\xa9xample.com");
	ck_assert_str_eq(qf->rcpts[0].orcpt, "rfc822;a@example.com");
	ck_assert(!qfile_all_done(qf));

	ck_assert_int_eq(qfile_log(qf, 0, "delayed", "4.4.1", "mx.example.com",
	    "connect\r\nrefused\x01", false, &err), 0);
	ck_assert_int_eq(qfile_log(qf, 0, "delivered", "2.0.0",
	    "mx.example.com", "250 ok", false, &err), 0);
	ck_assert_int_eq(qfile_mark(qf, 0, QFILE_DONE, &err), 0);
	ck_assert_int_eq(qfile_log(qf, 2, "failed", "5.1.1", NULL,
	    "user unknown", true, &err), 0);
	ck_assert_int_eq(qfile_mark(qf, 2, QFILE_FAILED, &err), 0);
	ck_assert_int_eq(qfile_warned(qf, &err), 0);
	ck_assert_int_eq(qfile_log(qf, 1, "delayed", "4.0.0", "a b\tc", "",
	    true, &err), 0);
	ck_assert_str_eq(qf->rcpts[1].last_relay, "a_b_c");
	ck_assert_int_eq(qfile_log(qf, 1, "bogus", "4.0.0", NULL, "", true,
	    &err), -1);
	ck_assert_int_eq(qfile_log(qf, 1, "delayed", "4.0", NULL, "", true,
	    &err), 0);
	ck_assert_str_eq(qf->rcpts[1].last_dsn, "4.0.0");
	ck_assert_int_eq(qfile_log(qf, 1, "delayed", "4.4.2 x", NULL, "",
	    true, &err), 0);
	ck_assert_str_eq(qf->rcpts[1].last_dsn, "4.0.0");
	ck_assert_int_eq(qfile_log(qf, 1, "delayed", "4.0.0", "a b\tc", "",
	    true, &err), 0);
	ck_assert(!qfile_all_done(qf));
	qfile_free(&qf);

	ck_assert_int_eq(qfile_open(QFILE_INCOMING, qid, 0, &qf, &err), 0);
	ck_assert_int_eq(qf->rcpts[0].state, QFILE_DONE);
	ck_assert_int_eq(qf->rcpts[1].state, QFILE_TODO);
	ck_assert_int_eq(qf->rcpts[2].state, QFILE_FAILED);
	ck_assert_str_eq(qf->rcpts[0].last_action, "delivered");
	ck_assert_str_eq(qf->rcpts[0].last_dsn, "2.0.0");
	ck_assert_str_eq(qf->rcpts[0].last_relay, "mx.example.com");
	ck_assert_str_eq(qf->rcpts[0].last_text, "250 ok");
	ck_assert_int_gt(qf->rcpts[0].last_time, 1000000000);
	ck_assert_str_eq(qf->rcpts[2].last_relay, "-");
	ck_assert_str_eq(qf->rcpts[2].last_text, "user unknown");
	ck_assert_str_eq(qf->rcpts[1].last_relay, "a_b_c");
	ck_assert_str_eq(qf->rcpts[1].last_text, "");
	ck_assert_int_gt(qf->warned, 1000000000);
	ck_assert_int_eq(qfile_mark(qf, 1, QFILE_DONE, &err), 0);
	ck_assert(qfile_all_done(qf));
	qfile_free(&qf);

	ck_assert_int_eq(qfile_open(QFILE_INCOMING, qid, QFILE_O_RDONLY, &qf,
	    &err), 0);
	ck_assert(qfile_all_done(qf));
	/* A read-only file cannot be marked. */
	ck_assert_int_eq(qfile_mark(qf, 1, QFILE_TODO, &err), -1);
	qfile_free(&qf);
}
END_TEST

/* A crash during an append leaves a cut line: ignored, then replaced. */
START_TEST(test_cut_log_line)
{
	struct qfile *qf;
	char qid[QID_SIZE], *path;
	const char *err;
	int fd;

	make_file(qid, "x\n");
	path = xasprintf("incoming/%s", qid);
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "L 0 17 deliv", 12), 12);
	close(fd);
	ck_assert_int_eq(qfile_open(QFILE_INCOMING, qid, 0, &qf, &err), 0);
	ck_assert_ptr_null(qf->rcpts[0].last_action);
	ck_assert_int_eq(qfile_log(qf, 0, "delivered", "2.0.0", "local",
	    "ok", true, &err), 0);
	qfile_free(&qf);
	ck_assert_int_eq(qfile_open(QFILE_INCOMING, qid, 0, &qf, &err), 0);
	ck_assert_str_eq(qf->rcpts[0].last_action, "delivered");
	qfile_free(&qf);
	free(path);
}
END_TEST

START_TEST(test_long_log_text)
{
	struct qfile *qf;
	char qid[QID_SIZE], *text;
	const char *err;

	make_file(qid, "x\n");
	text = xmalloc(QFILE_LINE_MAX * 2);
	memset(text, 'y', QFILE_LINE_MAX * 2 - 1);
	text[QFILE_LINE_MAX * 2 - 1] = '\0';
	/* A UTF-8 "é" right where the cut may fall. */
	for (size_t i = 4000; i < 4100; i += 2) {
		text[i] = '\xc3';
		text[i + 1] = '\xa9';
	}
	ck_assert_int_eq(qfile_open(QFILE_INCOMING, qid, 0, &qf, &err), 0);
	ck_assert_int_eq(qfile_log(qf, 1, "delayed", "4.4.2", "h", text, true,
	    &err), 0);
	qfile_free(&qf);
	ck_assert_int_eq(qfile_open(QFILE_INCOMING, qid, 0, &qf, &err), 0);
	ck_assert_uint_lt(strlen(qf->rcpts[1].last_text), QFILE_LINE_MAX);
	ck_assert_uint_gt(strlen(qf->rcpts[1].last_text), 3900);
	qfile_free(&qf);
	free(text);
}
END_TEST

START_TEST(test_move_remove)
{
	struct qfile *qf;
	char qid[QID_SIZE];
	const char *err;

	make_file(qid, "x\n");
	ck_assert_int_eq(qfile_move(QFILE_INCOMING, QFILE_ACTIVE, qid, true,
	    &err), 0);
	ck_assert_int_eq(qfile_open(QFILE_INCOMING, qid, 0, &qf, &err), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(qfile_open(QFILE_ACTIVE, qid, 0, &qf, &err), 0);
	ck_assert_str_eq(qf->dir, QFILE_ACTIVE);
	qfile_free(&qf);
	ck_assert_int_eq(qfile_move(QFILE_INCOMING, QFILE_ACTIVE, qid, false,
	    &err), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* Without sync the move is the same rename. */
	ck_assert_int_eq(qfile_move(QFILE_ACTIVE, QFILE_DEFERRED, qid, false,
	    &err), 0);
	ck_assert_int_eq(qfile_move(QFILE_DEFERRED, QFILE_ACTIVE, qid, false,
	    &err), 0);
	ck_assert_int_eq(qfile_remove(QFILE_ACTIVE, qid, &err), 0);
	ck_assert_int_eq(qfile_remove(QFILE_ACTIVE, qid, &err), 0);
	ck_assert_int_eq(count_files(QFILE_ACTIVE, false), 0);
	ck_assert_int_eq(qfile_open(QFILE_ACTIVE, "not-an-id", 0, &qf, &err),
	    -1);
}
END_TEST

static char last_log[512];

static void
log_hook(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	str_copy(last_log, msg, sizeof(last_log));
}

START_TEST(test_quarantine)
{
	char qid[QID_SIZE], *expect, *p;

	make_file(qid, "x\n");
	log_set_hook(log_hook, NULL);
	qfile_quarantine(QFILE_INCOMING, qid, "bad Z record");
	expect = xasprintf("%s: moved to corrupt: bad Z record", qid);
	ck_assert_ptr_nonnull(strstr(last_log, expect));
	free(expect);
	ck_assert_int_eq(count_files(QFILE_INCOMING, false), 0);
	p = xasprintf("corrupt/%s", qid);
	ck_assert_int_eq(access(p, F_OK), 0);
	/* Same name again: kept beside, never replaced. */
	write_file("maildrop/x", "junk", 4);
	qfile_quarantine(QFILE_MAILDROP, "x", "bad magic");
	write_file("maildrop/x", "junk2", 5);
	qfile_quarantine(QFILE_MAILDROP, "x", "bad magic");
	ck_assert_int_eq(access("corrupt/x", F_OK), 0);
	ck_assert_int_eq(access("corrupt/x.1", F_OK), 0);
	ck_assert_int_eq(count_files(QFILE_MAILDROP, false), 0);
	qfile_quarantine(QFILE_MAILDROP, "../x", "evil");
	ck_assert_ptr_nonnull(strstr(last_log, "bad file name"));
	qfile_quarantine(QFILE_CORRUPT, "x", "bad magic");
	ck_assert_ptr_nonnull(strstr(last_log, "x: left in corrupt"));
	ck_assert_int_eq(access("corrupt/x", F_OK), 0);
	qfile_quarantine(QFILE_MAILDROP, "gone", "x");
	ck_assert_ptr_nonnull(strstr(last_log, "gone: cannot move"));
	log_set_hook(NULL, NULL);
	free(p);
}
END_TEST

START_TEST(test_writer_rejects)
{
	struct qfile_writer *w;
	char qid[QID_SIZE], *big;
	const char *err;

	ck_assert_int_eq(qfile_create(QFILE_INCOMING, 0600, &w, &err), 0);
	ck_assert_int_eq(qfile_put_sender(w, "a\nb"), -1);
	ck_assert_int_eq(qfile_put_sender(w, "a\rb"), -1);
	big = xmalloc(QFILE_LINE_MAX + 10);
	memset(big, 'a', QFILE_LINE_MAX + 9);
	big[QFILE_LINE_MAX + 9] = '\0';
	ck_assert_int_eq(qfile_put_sender(w, big), -1);
	big[QFILE_LINE_MAX - 3] = '\0';		/* "S " + 4093 + LF = 4096 */
	ck_assert_int_eq(qfile_put_sender(w, big), 0);
	ck_assert_int_eq(qfile_put_attr(w, "Bad", "x"), -1);
	ck_assert_int_eq(qfile_put_attr(w, "", "x"), -1);
	ck_assert_int_eq(qfile_put_attr(w, "a=b", "x"), -1);
	ck_assert_int_eq(qfile_put_attr(w, "ok", "x\ty"), -1);
	ck_assert_int_eq(qfile_put_attr(w, "ok", ""), 0);
	ck_assert_int_eq(qfile_put_rcpt(w, "", NULL, NULL), -1);
	ck_assert_int_eq(qfile_put_rcpt(w, "a\x7f", NULL, NULL), -1);
	ck_assert_int_eq(qfile_put_rcpt(w, "a", "SUCCESS,", NULL), -1);
	ck_assert_int_eq(qfile_put_rcpt(w, "a", "NEVER,SUCCESS", NULL), -1);
	ck_assert_int_eq(qfile_put_rcpt(w, "a", "SUCCESS,SUCCESS", NULL), -1);
	ck_assert_int_eq(qfile_put_rcpt(w, "a", "success", NULL), -1);
	ck_assert_int_eq(qfile_put_rcpt(w, "a", NULL, "rfc822"), -1);
	ck_assert_int_eq(qfile_put_rcpt(w, "a", NULL, "rfc822;a b"), -1);
	ck_assert_int_eq(qfile_put_rcpt(w, "a", NULL, "rfc822;a+2"), -1);
	ck_assert_int_eq(qfile_put_rcpt(w, "a", NULL, ";a"), -1);
	ck_assert_int_eq(qfile_put_rcpt(w, "a", NULL, "rfc822;"), -1);
	ck_assert_int_eq(qfile_put_rcpt(w, big, NULL, NULL), -1);
	ck_assert_int_eq(qfile_put_rcpt(w, "a b", "DELAY,FAILURE",
	    "utf-8;a+2Bb"), 0);
	qfile_begin_content(w);
	ck_assert_int_eq(qfile_commit(&w, qid, &err), 0);
	free(big);
}
END_TEST

START_TEST(test_no_recipient)
{
	struct qfile_writer *w;
	char qid[QID_SIZE];
	const char *err;

	ck_assert_int_eq(qfile_create(QFILE_INCOMING, 0600, &w, &err), 0);
	ck_assert_int_eq(qfile_put_sender(w, "a@b"), 0);
	ck_assert_int_eq(qfile_commit(&w, qid, &err), -1);
	ck_assert_ptr_null(w);
	ck_assert_int_eq(count_files(QFILE_INCOMING, true), 0);
	ck_assert_int_eq(count_files(QFILE_INCOMING, false), 0);

	/* sendmail -t: the recipients come later, from the header. */
	ck_assert_int_eq(qfile_create(QFILE_INCOMING, 0600, &w, &err), 0);
	ck_assert_int_eq(qfile_put_sender(w, "a@b"), 0);
	ck_assert_int_eq(qfile_put_attr(w, "flags", "extract"), 0);
	qfile_begin_content(w);
	qfile_put_content(w, "To: c@d\n\n", 9);
	ck_assert_int_eq(qfile_commit(&w, qid, &err), 0);
	ck_assert_int_eq(qfile_remove(QFILE_INCOMING, qid, &err), 0);

	ck_assert_int_eq(qfile_create(QFILE_INCOMING, 0600, &w, &err), 0);
	qfile_writer_abort(&w);
	ck_assert_ptr_null(w);
	qfile_writer_abort(&w);
	ck_assert_int_eq(count_files(QFILE_INCOMING, true), 0);
}
END_TEST

/* A write error (here EFBIG from RLIMIT_FSIZE) fails the commit cleanly. */
START_TEST(test_write_error)
{
	struct qfile_writer *w;
	struct rlimit rl = { 200000, 200000 };
	char qid[QID_SIZE], *chunk;
	const char *err;
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
			_exit(10);
		chunk = xcalloc(1, 100000);
		if (qfile_create(QFILE_INCOMING, 0600, &w, &err) == -1 ||
		    qfile_put_sender(w, "a@b") == -1 ||
		    qfile_put_rcpt(w, "c@d", NULL, NULL) == -1)
			_exit(11);
		qfile_begin_content(w);
		for (int i = 0; i < 5; i++)
			qfile_put_content(w, chunk, 100000);
		if (qfile_commit(&w, qid, &err) != -1)
			_exit(12);
		if (!str_eq(err, "queue file write error: File too large"))
			_exit(13);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(count_files(QFILE_INCOMING, true), 0);
	ck_assert_int_eq(count_files(QFILE_INCOMING, false), 0);
}
END_TEST

START_TEST(test_create_error)
{
	struct qfile_writer *w = NULL;
	const char *err;

	ck_assert_int_eq(qfile_create("nonexistent", 0600, &w, &err), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert(str_has_prefix(err, "queue file create error: "));
	ck_assert_ptr_null(w);
}
END_TEST

/* Read-only directory: the rename of the finished file fails. */
START_TEST(test_rename_error)
{
	struct qfile_writer *w;
	char qid[QID_SIZE];
	const char *err;

	if (geteuid() == 0)
		return;		/* root ignores the mode */
	ck_assert_int_eq(qfile_create(QFILE_INCOMING, 0600, &w, &err), 0);
	ck_assert_int_eq(qfile_put_sender(w, "a@b"), 0);
	ck_assert_int_eq(qfile_put_rcpt(w, "c@d", NULL, NULL), 0);
	qfile_begin_content(w);
	ck_assert_int_eq(chmod(QFILE_INCOMING, 0500), 0);
	ck_assert_int_eq(qfile_commit(&w, qid, &err), -1);
	ck_assert_str_eq(err, "queue file rename error: Permission denied");
	ck_assert_int_eq(chmod(QFILE_INCOMING, 0700), 0);
	/* The temporary file could not be unlinked either; nothing else. */
	ck_assert_int_eq(count_files(QFILE_INCOMING, false), 0);
}
END_TEST

static const struct {
	const char *in;
	const char *out;	/* NULL: decode fails */
} xtexts[] = {
	{ "abc", "abc" },
	{ "a+2Bb", "a+b" },
	{ "+3D", "=" },
	{ "+C3+A9", "\xc3\xa9" },
	{ "", "" },
	{ "a+2b", NULL },
	{ "a+2", NULL },
	{ "a+", NULL },
	{ "a=b", NULL },
	{ "a b", NULL },
	{ "+00", NULL },
	{ "+G0", NULL },
	{ "\xc3\xa9", NULL },
};

START_TEST(test_xtext)
{
	struct buf b, e;

	buf_init(&b, 0);
	buf_init(&e, 0);
	if (xtexts[_i].out == NULL) {
		ck_assert_int_eq(qfile_xtext_decode(&b, xtexts[_i].in), -1);
	} else {
		ck_assert_int_eq(qfile_xtext_decode(&b, xtexts[_i].in), 0);
		ck_assert_str_eq(buf_cstr(&b), xtexts[_i].out);
		qfile_xtext_encode(&e, buf_cstr(&b));
		buf_reset(&b);
		ck_assert_int_eq(qfile_xtext_decode(&b, buf_cstr(&e)), 0);
		ck_assert_str_eq(buf_cstr(&b), xtexts[_i].out);
	}
	buf_reset(&e);
	qfile_xtext_encode(&e, "a+b=c d\x01\xff");
	ck_assert_str_eq(buf_cstr(&e), "a+2Bb+3Dc+20d+01+FF");
	buf_deinit(&b);
	buf_deinit(&e);
}
END_TEST

#define HDR	"TERNQ 1\nT 1700000000.123456\n"
#define Z(n)	"Z " n "\n"
#define Z5	Z("00000000000000000005")
#define ENV	"S a@b\nR - - - c@d\n"
#define BODY	"M\nhello" "X\n"

static const struct {
	const char *name;
	const char *data;
	size_t	    len;	/* 0: strlen */
	int	    rc;		/* expected qfile_open_fd result */
} files[] = {
	{ "good", HDR Z5 ENV BODY, 0, 0 },
	{ "good null sender", HDR Z5 "S \nR - - - c@d\n" BODY, 0, 0 },
	{ "good 8-bit", HDR Z5 "S \xc3\xa9@b\nR - - - c@\xff\n" BODY, 0, 0 },
	{ "good attrs", HDR Z5 "S a@b\nA x=\nA unknown_1=v=w\n"
	    "R D NEVER rfc822;c+40d c@d\nR F SUCCESS,DELAY - e f\n" BODY,
	    0, 0 },
	{ "good logs", HDR Z5 ENV BODY "L 0 17 delivered 2.0.0 - \n"
	    "W 18\nL 0 19 failed 5.1.1 mx text here\n", 0, 0 },
	{ "cut last log line", HDR Z5 ENV BODY "L 0 17 deliv", 0, 0 },
	{ "cut last W", HDR Z5 ENV BODY "W", 0, 0 },
	{ "empty", "", 0, -2 },
	{ "magic only", "TERNQ 1\n", 0, -2 },
	{ "wrong magic", "TERNQ 2\nT 1.000000\n" Z5 ENV BODY, 0, -2 },
	{ "magic CRLF", "TERNQ 1\r\nT 1.000000\n" Z5 ENV BODY, 0, -2 },
	{ "magic no LF", "TERNQ 1", 0, -2 },
	{ "missing T", "TERNQ 1\n" Z5 ENV BODY, 0, -2 },
	{ "bad T usec", "TERNQ 1\nT 1.12345\n" Z5 ENV BODY, 0, -2 },
	{ "bad T sign", "TERNQ 1\nT -1.123456\n" Z5 ENV BODY, 0, -2 },
	{ "T overflow", "TERNQ 1\nT 99999999999999999999.123456\n" Z5 ENV
	    BODY, 0, -2 },
	{ "missing Z", HDR ENV BODY, 0, -2 },
	{ "short Z", HDR "Z 5\n" ENV BODY, 0, -2 },
	{ "Z overflow", HDR Z("99999999999999999999") ENV BODY, 0, -2 },
	{ "Z huge", HDR Z("18446744073709551615") ENV BODY, 0, -2 },
	{ "Z int64 max", HDR Z("09223372036854775807") ENV BODY, 0, -2 },
	{ "Z larger", HDR Z("00000000000000000006") ENV BODY, 0, -2 },
	{ "Z smaller", HDR Z("00000000000000000004") ENV BODY, 0, -2 },
	{ "Z not digits", HDR Z("0000000000000000000x") ENV BODY, 0, -2 },
	{ "missing S", HDR Z5 "R - - - c@d\n" BODY, 0, -2 },
	{ "S without space", HDR Z5 "S\nR - - - c@d\n" BODY, 0, -2 },
	{ "missing R", HDR Z5 "S a@b\n" BODY, 0, -2 },
	{ "no R with -t", HDR Z5 "S a@b\nA flags=extract\n" BODY, 0, 0 },
	{ "no R, other flags", HDR Z5 "S a@b\nA flags=extracted\n" BODY, 0,
	    -2 },
	{ "missing M", HDR Z5 ENV "hello" "X\n", 0, -2 },
	{ "missing X", HDR Z5 ENV "M\nhello", 0, -2 },
	{ "X without LF", HDR Z5 ENV "M\nhello" "X", 0, -2 },
	{ "X wrong", HDR Z5 ENV "M\nhello" "Y\n", 0, -2 },
	{ "A after R", HDR Z5 ENV "A x=y\n" BODY, 0, -2 },
	{ "S twice", HDR Z5 "S a@b\n" ENV BODY, 0, -2 },
	{ "T twice", HDR "T 1.000000\n" Z5 ENV BODY, 0, -2 },
	{ "unknown record", HDR Z5 ENV "Q x\n" BODY, 0, -2 },
	{ "bad A name", HDR Z5 "S a@b\nA X=y\n" "R - - - c@d\n" BODY, 0, -2 },
	{ "A without =", HDR Z5 "S a@b\nA xy\n" "R - - - c@d\n" BODY, 0, -2 },
	{ "bad state", HDR Z5 "S a@b\nR x - - c@d\n" BODY, 0, -2 },
	{ "long state", HDR Z5 "S a@b\nR -- - - c@d\n" BODY, 0, -2 },
	{ "bad notify", HDR Z5 "S a@b\nR - FOO - c@d\n" BODY, 0, -2 },
	{ "notify never+", HDR Z5 "S a@b\nR - NEVER,DELAY - c@d\n" BODY, 0,
	    -2 },
	{ "bad orcpt", HDR Z5 "S a@b\nR - - rfc822 c@d\n" BODY, 0, -2 },
	{ "bad orcpt xtext", HDR Z5 "S a@b\nR - - rfc822;a+zz c@d\n" BODY, 0,
	    -2 },
	{ "R no address", HDR Z5 "S a@b\nR - - - \n" BODY, 0, -2 },
	{ "R short", HDR Z5 "S a@b\nR - -\n" BODY, 0, -2 },
	{ "NUL in S", HDR Z5 "S a\0b\nR - - - c@d\n" BODY,
	    sizeof(HDR Z5 "S a\0b\nR - - - c@d\n" BODY) - 1, -2 },
	{ "NUL in magic", "TERNQ\0001\n", sizeof("TERNQ\0001\n") - 1, -2 },
	{ "CR in R", HDR Z5 "S a@b\nR - - - c@d\r\n" BODY, 0, -2 },
	{ "TAB in R", HDR Z5 "S a@b\nR - - - c\t@d\n" BODY, 0, -2 },
	{ "DEL in S", HDR Z5 "S a\x7f@b\nR - - - c@d\n" BODY, 0, -2 },
	{ "L index out of range", HDR Z5 ENV BODY
	    "L 1 17 delivered 2.0.0 - x\n", 0, -2 },
	{ "L index huge", HDR Z5 ENV BODY
	    "L 99999999999999999999 17 delivered 2.0.0 - x\n", 0, -2 },
	{ "L index negative", HDR Z5 ENV BODY
	    "L -1 17 delivered 2.0.0 - x\n", 0, -2 },
	{ "L bad action", HDR Z5 ENV BODY "L 0 17 sent 2.0.0 - x\n", 0, -2 },
	{ "L bad dsn", HDR Z5 ENV BODY "L 0 17 delivered 3.0.0 - x\n", 0,
	    -2 },
	{ "L dsn long", HDR Z5 ENV BODY "L 0 17 delivered 2.0000.0 - x\n", 0,
	    -2 },
	{ "L no text field", HDR Z5 ENV BODY "L 0 17 delivered 2.0.0 -\n", 0,
	    -2 },
	{ "L empty relay", HDR Z5 ENV BODY "L 0 17 delivered 2.0.0  x\n", 0,
	    -2 },
	{ "L CR", HDR Z5 ENV BODY "L 0 17 delivered 2.0.0 - x\r\n", 0, -2 },
	{ "L NUL", HDR Z5 ENV BODY "L 0 17 delivered 2.0.0 - \0\n",
	    sizeof(HDR Z5 ENV BODY "L 0 17 delivered 2.0.0 - \0\n") - 1, -2 },
	{ "W bad", HDR Z5 ENV BODY "W x\n", 0, -2 },
	{ "junk after X", HDR Z5 ENV BODY "junk\n", 0, -2 },
	{ "empty line after X", HDR Z5 ENV BODY "\n", 0, -2 },
	{ "second X", HDR Z5 ENV BODY "X\n", 0, -2 },
};

START_TEST(test_hostile)
{
	struct qfile *qf = NULL;
	const char *err = NULL;
	size_t len = files[_i].len ? files[_i].len : strlen(files[_i].data);
	int fd, rc;

	write_file("maildrop/f", files[_i].data, len);
	fd = open("maildrop/f", O_RDONLY);
	ck_assert_int_ne(fd, -1);
	rc = qfile_open_fd(fd, QFILE_MAILDROP, "f", &qf, &err);
	ck_assert_msg(rc == files[_i].rc, "%s: got %d (%s)", files[_i].name,
	    rc, rc == 0 ? "" : err);
	if (rc == 0) {
		ck_assert_int_eq(qf->fd, fd);
		ck_assert(qf->nrcpts >= 1 ||
		    qfile_attr(qf, "flags") != NULL);
		qfile_free(&qf);
	} else {
		ck_assert_ptr_null(qf);
		ck_assert_ptr_nonnull(err);
		/* The descriptor is still the caller's. */
		ck_assert_int_eq(close(fd), 0);
	}
}
END_TEST

/* Overlong lines anywhere; too many recipients; a non-regular file. */
START_TEST(test_hostile_sizes)
{
	struct qfile *qf;
	struct buf b;
	const char *err;
	int fd;

	buf_init(&b, 0);
	buf_adds(&b, HDR Z5 "S ");
	for (int i = 0; i < QFILE_LINE_MAX; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, "\nR - - - c@d\n" BODY);
	write_file("maildrop/f", b.data, b.len);
	fd = open("maildrop/f", O_RDONLY);
	ck_assert_int_eq(qfile_open_fd(fd, QFILE_MAILDROP, "f", &qf, &err),
	    -2);
	ck_assert_str_eq(err, "envelope line too long");
	close(fd);

	/* The longest legal line is fine. */
	buf_reset(&b);
	buf_adds(&b, HDR Z5 "S ");
	for (int i = 0; i < QFILE_LINE_MAX - 3; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, "\nR - - - c@d\n" BODY);
	write_file("maildrop/f", b.data, b.len);
	fd = open("maildrop/f", O_RDONLY);
	ck_assert_int_eq(qfile_open_fd(fd, QFILE_MAILDROP, "f", &qf, &err),
	    0);
	qfile_free(&qf);

	/* An overlong cut log line is no crash residue of ours. */
	buf_reset(&b);
	buf_adds(&b, HDR Z5 ENV BODY "L ");
	for (int i = 0; i < QFILE_LINE_MAX * 3; i++)
		buf_addc(&b, 'a');
	write_file("maildrop/f", b.data, b.len);
	fd = open("maildrop/f", O_RDONLY);
	ck_assert_int_eq(qfile_open_fd(fd, QFILE_MAILDROP, "f", &qf, &err),
	    -2);
	close(fd);

	buf_reset(&b);
	buf_adds(&b, HDR Z5 "S a@b\n");
	for (int i = 0; i <= QFILE_RCPT_MAX; i++)
		buf_adds(&b, "R - - - c\n");
	buf_adds(&b, BODY);
	write_file("maildrop/f", b.data, b.len);
	fd = open("maildrop/f", O_RDONLY);
	ck_assert_int_eq(qfile_open_fd(fd, QFILE_MAILDROP, "f", &qf, &err),
	    -2);
	close(fd);
	buf_deinit(&b);

	/* Attributes: the last of a name counts; too many is corrupt. */
	buf_init(&b, 0);
	buf_adds(&b, HDR Z5 "S a@b\nA k=1\nA k=2\n");
	buf_adds(&b, "R - - - c\n" BODY);
	write_file("maildrop/f", b.data, b.len);
	fd = open("maildrop/f", O_RDONLY);
	ck_assert_int_eq(qfile_open_fd(fd, QFILE_MAILDROP, "f", &qf, &err),
	    0);
	ck_assert_str_eq(qfile_attr(qf, "k"), "2");
	qfile_free(&qf);
	buf_reset(&b);
	buf_adds(&b, HDR Z5 "S a@b\n");
	for (int i = 0; i < 5000; i++)
		buf_adds(&b, "A k=v\n");
	buf_adds(&b, "R - - - c\n" BODY);
	write_file("maildrop/f", b.data, b.len);
	fd = open("maildrop/f", O_RDONLY);
	ck_assert_int_eq(qfile_open_fd(fd, QFILE_MAILDROP, "f", &qf, &err),
	    -2);
	close(fd);
	buf_deinit(&b);

	ck_assert_int_eq(mkfifo("incoming/000000000001", 0600), 0);
	ck_assert_int_eq(qfile_open(QFILE_INCOMING, "000000000001",
	    QFILE_O_RDONLY, &qf, &err), -2);
	ck_assert_int_eq(symlink("/etc/passwd", "incoming/000000000002"), 0);
	ck_assert_int_eq(qfile_open(QFILE_INCOMING, "000000000002",
	    QFILE_O_RDONLY, &qf, &err), -2);
	fd = open(".", O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(qfile_open_fd(fd, ".", "dir", &qf, &err), -2);
	close(fd);
}
END_TEST

/* Every truncation of a good file is corrupt; no byte change crashes. */
START_TEST(test_truncations_and_flips)
{
	static const char good[] = HDR Z5 "S a@b\nA envid=x+2By\n"
	    "R - SUCCESS rfc822;c+40d c@d\n" BODY
	    "L 0 17 delayed 4.4.1 mx.example text\nW 18\n";
	size_t env_end = strlen(HDR Z5 "S a@b\nA envid=x+2By\n"
	    "R - SUCCESS rfc822;c+40d c@d\n" BODY);
	struct qfile *qf;
	const char *err;
	char *copy;
	int fd, rc;

	for (size_t n = 0; n < sizeof(good) - 1; n++) {
		write_file("maildrop/f", good, n);
		fd = open("maildrop/f", O_RDONLY);
		rc = qfile_open_fd(fd, QFILE_MAILDROP, "f", &qf, &err);
		/* Cut inside the log records: the cut line is ignored. */
		ck_assert_msg(rc == (n >= env_end ? 0 : -2), "cut at %zu: %d",
		    n, rc);
		if (rc == 0)
			qfile_free(&qf);
		else
			close(fd);
	}
	copy = xmemdup(good, sizeof(good));
	for (size_t i = 0; i < sizeof(good) - 1; i++) {
		static const char repl[] = { '\0', '\n', '\r', ' ', '9', 'X',
		    '\xff', '+' };

		for (size_t j = 0; j < sizeof(repl); j++) {
			copy[i] = repl[j];
			write_file("maildrop/f", copy, sizeof(good) - 1);
			fd = open("maildrop/f", O_RDONLY);
			rc = qfile_open_fd(fd, QFILE_MAILDROP, "f", &qf, &err);
			ck_assert(rc == 0 || rc == -2);
			if (rc == 0) {
				ck_assert_uint_eq(qf->nrcpts, 1);
				qfile_free(&qf);
			} else {
				close(fd);
			}
		}
		copy[i] = good[i];
	}
	free(copy);
}
END_TEST

START_TEST(test_chown_and_tmp_name)
{
	struct qfile_writer *w;
	char qid[QID_SIZE];
	const char *err;
	DIR *d;
	struct dirent *e;

	ck_assert_int_eq(qfile_create(QFILE_MAILDROP, 0644, &w, &err), 0);
	d = opendir(QFILE_MAILDROP);
	while ((e = readdir(d)) != NULL)
		ck_assert(!qid_valid(e->d_name));
	closedir(d);
	ck_assert_int_eq(qfile_writer_chown(w, geteuid(), getegid()), 0);
	ck_assert_int_eq(qfile_put_sender(w, "a@b"), 0);
	ck_assert_int_eq(qfile_put_attr(w, "flags", "extract"), 0);
	ck_assert_int_eq(qfile_put_rcpt(w, "c@d", NULL, NULL), 0);
	qfile_begin_content(w);
	ck_assert_int_eq(qfile_commit(&w, qid, &err), 0);
	{
		char *p = xasprintf("maildrop/%s", qid), *text;
		struct stat st;

		ck_assert_int_eq(stat(p, &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0644);
		text = read_whole(p);
		ck_assert(str_has_suffix_ci(text, "\nZ 00000000000000000000\n"
		    "S a@b\nA flags=extract\nR - - - c@d\nM\nX\n"));
		free(text);
		free(p);
	}
}
END_TEST

/* Writer order mistakes are bugs: they panic. */
START_TEST(test_order_panics)
{
	struct qfile_writer *w;
	const char *err;

	ck_assert_int_eq(qfile_create(QFILE_INCOMING, 0600, &w, &err), 0);
	if (qfile_put_rcpt(w, "a@b", NULL, NULL) == 0)
		ck_abort_msg("no panic");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("qfile");
	TCase *tc = tcase_create("qfile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_big_content);
	tcase_add_test(tc, test_mark_log_reopen);
	tcase_add_test(tc, test_cut_log_line);
	tcase_add_test(tc, test_long_log_text);
	tcase_add_test(tc, test_move_remove);
	tcase_add_test(tc, test_quarantine);
	tcase_add_test(tc, test_writer_rejects);
	tcase_add_test(tc, test_no_recipient);
	tcase_add_test(tc, test_write_error);
	tcase_add_test(tc, test_create_error);
	tcase_add_test(tc, test_rename_error);
	tcase_add_loop_test(tc, test_xtext, 0, ARRAY_LEN(xtexts));
	tcase_add_loop_test(tc, test_hostile, 0, ARRAY_LEN(files));
	tcase_add_test(tc, test_hostile_sizes);
	tcase_add_test(tc, test_truncations_and_flips);
	tcase_add_test(tc, test_chown_and_tmp_name);
	tcase_add_test_raise_signal(tc, test_order_panics, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
