/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the queue listing (showq_client.c and showq.c): JSON and
 * text escaping of hostile strings (control characters, invalid and
 * overlong UTF-8), reason wrapping, the mailq and JSON formats, frames
 * that round-trip (also a message split over several frames) and hostile
 * frames that must reject the listing, and a scan of a real queue tree
 * with stray, temporary and corrupt files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "qfile.h"
#include "qid.h"
#include "showq_client.h"

#include "showq.h"

static const struct {
	const char *in;
	const char *json;
	const char *text;
} esc_cases[] = {
	{ "a@b.example", "\"a@b.example\"", "a@b.example" },
	{ "", "\"\"", "" },
	{ "q\"b\\s", "\"q\\\"b\\\\s\"", "q\"b\\s" },
	{ "\x01\n\r\t\x1f\x7f", "\"\\u0001\\u000a\\u000d\\u0009\\u001f"
	  "\\u007f\"", "??????" },
	{ "caf\xc3\xa9", "\"caf\xc3\xa9\"", "caf\xc3\xa9" },
	{ "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"", "\xf0\x9f\x98\x80" },
	/* invalid: lone byte, overlong, surrogate, > U+10FFFF, truncated */
	{ "\xff", "\"\\ufffd\"", "?" },
	{ "\xc0\xaf", "\"\\ufffd\\ufffd\"", "??" },
	{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "???" },
	{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "????" },
	{ "a\xe2\x82", "\"a\\ufffd\\ufffd\"", "a??" },
	{ "\xe2\x82z", "\"\\ufffd\\ufffdz\"", "??z" },
	/* C1 control: valid UTF-8, not printable */
	{ "\xc2\x85x", "\"\xc2\x85x\"", "?x" },
};

START_TEST(test_escape)
{
	struct buf b;

	buf_init(&b, 0);
	showq_json_string(&b, esc_cases[_i].in);
	ck_assert_str_eq(buf_cstr(&b), esc_cases[_i].json);
	buf_reset(&b);
	showq_printable(&b, esc_cases[_i].in);
	ck_assert_str_eq(buf_cstr(&b), esc_cases[_i].text);
	buf_deinit(&b);
}
END_TEST

START_TEST(test_wrap)
{
	struct buf b, in;
	const char *p, *nl;

	buf_init(&b, 0);
	showq_wrap_reason(&b, "connect to x: Connection refused", 78, 4);
	ck_assert_str_eq(buf_cstr(&b), "(connect to x: Connection refused)\n");

	/* A long text: every line within 78 columns, continued by 4. */
	buf_init(&in, 0);
	for (int i = 0; i < 200; i++)
		buf_addf(&in, "word%d ", i);
	buf_reset(&b);
	showq_wrap_reason(&b, buf_cstr(&in), 78, 4);
	ck_assert(str_has_prefix(buf_cstr(&b), "(word0 word1 "));
	for (p = buf_cstr(&b); (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		ck_assert_uint_le((size_t)(nl - p), 78);
		if (p != buf_cstr(&b))
			ck_assert(str_has_prefix(p, "    w"));
	}
	ck_assert(strstr(buf_cstr(&b), "word199)\n") != NULL);

	/* A word longer than a line is kept whole; CR/LF become '?'. */
	buf_reset(&in);
	for (int i = 0; i < 300; i++)
		buf_addc(&in, 'x');
	buf_adds(&in, " tail\r\n");
	buf_reset(&b);
	showq_wrap_reason(&b, buf_cstr(&in), 78, 4);
	ck_assert_uint_eq(strlen(buf_cstr(&b)), 1 + 300 + 1 + 4 + 7 + 1);
	ck_assert(strstr(buf_cstr(&b), "x\n    tail?" "?)\n") != NULL);
	ck_assert(strchr(buf_cstr(&b), '\r') == NULL);
	buf_deinit(&in);
	buf_deinit(&b);
}
END_TEST

static void
entry_fill(struct showq_entry *e, const char *queue, const char *id,
    const char *sender)
{
	showq_entry_init(e);
	e->queue_name = queue;
	e->queue_id = id;
	e->arrival = 1700000000;	/* Tue Nov 14 22:13:20 2023 UTC */
	e->size = 2048;
	e->sender = sender;
}

START_TEST(test_mailq)
{
	struct showq_print p;
	struct showq_entry e;

	setenv("TZ", "UTC", 1);
	tzset();
	showq_print_init(&p, SHOWQ_MAILQ);
	showq_print_finish(&p);
	ck_assert_str_eq(buf_cstr(&p.out), "Mail queue is empty\n");
	showq_print_deinit(&p);

	showq_print_init(&p, SHOWQ_MAILQ);
	entry_fill(&e, "active", "1MQ3K7F0A3C2B", "");
	strv_push(&e.rcpts, "a@example.org");
	strv_push(&e.reasons, "");
	showq_print_entry(&p, &e);
	showq_entry_deinit(&e);
	entry_fill(&e, "hold", "1MQ3K7F0A3C2C", "s\x01@x");
	e.size = 99999999999ULL;
	strv_push(&e.rcpts, "b@example.org");
	strv_push(&e.reasons, "host x said: 450 try later");
	strv_push(&e.rcpts, "c@example.org");
	strv_push(&e.reasons, "host x said: 450 try later");
	strv_push(&e.rcpts, "d\xff@example.org");
	strv_push(&e.reasons, "other");
	showq_print_entry(&p, &e);
	showq_entry_deinit(&e);
	showq_print_finish(&p);
	ck_assert_str_eq(buf_cstr(&p.out),
	    "-Queue ID-  --Size-- ----Arrival Time---- "
	    "-Sender/Recipient-------\n"
	    "1MQ3K7F0A3C2B*     2048 Tue Nov 14 22:13:20  MAILER-DAEMON\n"
	    "                                         a@example.org\n"
	    "\n"
	    "1MQ3K7F0A3C2C! 99999999999 Tue Nov 14 22:13:20  s?@x\n"
	    "(host x said: 450 try later)\n"
	    "                                         b@example.org\n"
	    "                                         c@example.org\n"
	    "(other)\n"
	    "                                         d?@example.org\n"
	    "\n"
	    "-- 97656251 Kbytes in 2 Requests.\n");
	showq_print_deinit(&p);

	/* One request; sizes that would overflow the total saturate. */
	showq_print_init(&p, SHOWQ_MAILQ);
	entry_fill(&e, "deferred", "1MQ3K7F0A3C2D", "x@y");
	e.size = UINT64_MAX;
	showq_print_entry(&p, &e);
	showq_print_entry(&p, &e);
	showq_entry_deinit(&e);
	buf_reset(&p.out);
	showq_print_finish(&p);
	ck_assert_str_eq(buf_cstr(&p.out),
	    "-- 18014398509481983 Kbytes in 2 Requests.\n");
	p.count = 1;
	buf_reset(&p.out);
	showq_print_finish(&p);
	ck_assert(strstr(buf_cstr(&p.out), " in 1 Request.\n") != NULL);
	showq_print_deinit(&p);
}
END_TEST

START_TEST(test_json)
{
	struct showq_print p;
	struct showq_entry e;

	showq_print_init(&p, SHOWQ_JSON);
	entry_fill(&e, "deferred", "1MQ3K7F0A3C2B", "");
	strv_push(&e.rcpts, "a@example.org");
	strv_push(&e.reasons, "");
	strv_push(&e.rcpts, "b\"\n\xfe@example.org");
	strv_push(&e.reasons, "said: 4.4.1 \x1b[31m");
	showq_print_entry(&p, &e);
	showq_entry_deinit(&e);
	showq_print_finish(&p);
	ck_assert_str_eq(buf_cstr(&p.out),
	    "{\"queue_name\": \"deferred\", \"queue_id\": \"1MQ3K7F0A3C2B\", "
	    "\"arrival_time\": 1700000000, \"message_size\": 2048, "
	    "\"forced_expire\": false, \"sender\": \"\", \"recipients\": ["
	    "{\"address\": \"a@example.org\"}, "
	    "{\"address\": \"b\\\"\\u000a\\ufffd@example.org\", "
	    "\"delay_reason\": \"said: 4.4.1 \\u001b[31m\"}]}\n");
	showq_print_deinit(&p);

	/* Nothing at all for an empty queue. */
	showq_print_init(&p, SHOWQ_JSON);
	showq_print_finish(&p);
	ck_assert_uint_eq(p.out.len, 0);
	showq_print_deinit(&p);
}
END_TEST

/* Collected listing. */
struct collected {
	struct strv	 lines;		/* "queue id sender nrcpts" */
	size_t		 rcpts;
	char		*last_rcpt;
	int		 stop_after;
};

static int
collect(const struct showq_entry *e, void *ctx, const char **err_r)
{
	struct collected *c = ctx;
	char *line = xasprintf("%s %s <%s> %zu %s", e->queue_name,
	    e->queue_id, e->sender, e->rcpts.n,
	    e->rcpts.n > 0 ? e->reasons.v[0] : "-");

	ck_assert_uint_eq(e->rcpts.n, e->reasons.n);
	strv_push_owned(&c->lines, line);
	c->rcpts += e->rcpts.n;
	free(c->last_rcpt);
	c->last_rcpt = e->rcpts.n > 0 ?
	    xstrdup(e->rcpts.v[e->rcpts.n - 1]) : NULL;
	if (c->stop_after > 0 && (int)c->lines.n >= c->stop_after) {
		*err_r = "stopped";
		return -1;
	}
	return 0;
}

/* Reads frames in b back through a temporary file. */
static int
read_back(const struct buf *b, struct collected *c, const char **err_r)
{
	char path[] = "/tmp/test_showq.XXXXXX";
	int fd = mkstemp(path), rc;

	ck_assert_int_ne(fd, -1);
	unlink(path);
	ck_assert_int_eq(write(fd, b->data, b->len), (ssize_t)b->len);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	strv_init(&c->lines);
	c->rcpts = 0;
	c->last_rcpt = NULL;
	rc = showq_read_fd(fd, 1000, collect, c, err_r);
	close(fd);
	return rc;
}

static void
collected_free(struct collected *c)
{
	strv_deinit(&c->lines);
	free(c->last_rcpt);
	c->last_rcpt = NULL;
}

START_TEST(test_frames)
{
	struct showq_entry e;
	struct collected c = { 0 };
	struct buf b;
	const char *err;
	char addr[400];

	buf_init(&b, 0);
	entry_fill(&e, "incoming", "1MQ3K7F0A3C2B", "s@x");
	strv_push(&e.rcpts, "a@x");
	strv_push(&e.reasons, "r1");
	ck_assert_int_eq(showq_put_entry(&b, &e, &err), 0);
	showq_entry_deinit(&e);
	/* Many long recipients: split over frames, merged again. */
	entry_fill(&e, "deferred", "1MQ3K7F0A3C2C", "");
	memset(addr, 'a', sizeof(addr) - 1);
	addr[sizeof(addr) - 1] = '\0';
	for (int i = 0; i < 3000; i++) {
		snprintf(addr, 20, "%d@", i);
		addr[strlen(addr)] = 'x';
		strv_push(&e.rcpts, addr);
		strv_push(&e.reasons, addr);
	}
	ck_assert_int_eq(showq_put_entry(&b, &e, &err), 0);
	ck_assert_uint_gt(b.len, 2 * SHOWQ_CHUNK_BYTES);
	showq_entry_deinit(&e);
	entry_fill(&e, "hold", "1MQ3K7F0A3C2D", "t@x");
	ck_assert_int_eq(showq_put_entry(&b, &e, &err), 0);
	showq_entry_deinit(&e);
	ck_assert_int_eq(showq_put_end(&b, 3, &err), 0);

	ck_assert_int_eq(read_back(&b, &c, &err), 0);
	ck_assert_uint_eq(c.lines.n, 3);
	ck_assert_str_eq(c.lines.v[0], "incoming 1MQ3K7F0A3C2B <s@x> 1 r1");
	ck_assert(str_has_prefix(c.lines.v[1],
	    "deferred 1MQ3K7F0A3C2C <> 3000 0@x"));
	ck_assert_str_eq(c.lines.v[2], "hold 1MQ3K7F0A3C2D <t@x> 0 -");
	ck_assert_uint_eq(c.rcpts, 3001);
	collected_free(&c);

	/* The callback may stop the walk. */
	c.stop_after = 1;
	ck_assert_int_eq(read_back(&b, &c, &err), -1);
	ck_assert_str_eq(err, "stopped");
	collected_free(&c);
	c.stop_after = 0;

	/* Cut anywhere: never a success. */
	for (size_t cut = 0; cut < b.len; cut += 4099) {
		struct buf t;

		buf_init(&t, 0);
		buf_add(&t, b.data, cut);
		ck_assert_int_eq(read_back(&t, &c, &err), -1);
		collected_free(&c);
		buf_deinit(&t);
	}
	buf_deinit(&b);
}
END_TEST

/* Hostile frames: each listing must be rejected as a whole. */
enum bad_kind { BAD_COUNT, BAD_QUEUE, BAD_QID, BAD_REASONS, BAD_UNKNOWN,
	BAD_END_FALSE, BAD_PARTS, BAD_NOEND, BAD_MISSING, BAD_NUL_QID };

static const struct {
	enum bad_kind	 kind;
	const char	*err;
} bad_cases[] = {
	{ BAD_COUNT, "message count mismatch" },
	{ BAD_QUEUE, "bad queue name" },
	{ BAD_QID, "bad queue ID" },
	{ BAD_REASONS, "recipient and reason counts differ" },
	{ BAD_UNKNOWN, NULL },
	{ BAD_END_FALSE, "bad end frame" },
	{ BAD_PARTS, "inconsistent message parts" },
	{ BAD_NOEND, "connection closed" },
	{ BAD_MISSING, NULL },
	{ BAD_NUL_QID, NULL },
};

START_TEST(test_bad_frames)
{
	enum bad_kind k = bad_cases[_i].kind;
	struct collected c = { 0 };
	struct attr_writer w;
	struct strv one, two;
	struct buf b;
	const char *err;

	strv_init(&one);
	strv_init(&two);
	strv_push(&one, "a@x");
	strv_push(&two, "a@x");
	strv_push(&two, "b@x");
	buf_init(&b, 0);
	for (int n = 0; n < (k == BAD_PARTS ? 2 : 1); n++) {
		attr_frame_begin(&w, &b);
		attr_put_str(&w, "queue_name", k == BAD_QUEUE ? "corrupt" :
		    "deferred");
		if (k == BAD_NUL_QID)
			attr_put_blob(&w, "queue_id", "1MQ3K7F0A3C2B\0", 14);
		else
			attr_put_str(&w, "queue_id", k == BAD_QID ?
			    "../../etc/passwd" : "1MQ3K7F0A3C2B");
		attr_put_i64(&w, "arrival", 5);
		attr_put_u64(&w, "size", 10);
		attr_put_str(&w, "sender", n == 1 ? "other@x" : "s@x");
		attr_put_strv(&w, "rcpt", &one);
		if (k != BAD_MISSING)
			attr_put_strv(&w, "reason", k == BAD_REASONS ? &two :
			    &one);
		if (k == BAD_UNKNOWN)
			attr_put_bool(&w, "forced_expire", true);
		ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	}
	if (k != BAD_NOEND) {
		attr_frame_begin(&w, &b);
		attr_put_bool(&w, "end", k != BAD_END_FALSE);
		attr_put_u64(&w, "count", k == BAD_COUNT ? 2 : 1);
		ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	}
	ck_assert_int_eq(read_back(&b, &c, &err), -1);
	if (bad_cases[_i].err != NULL)
		ck_assert_str_eq(err, bad_cases[_i].err);
	collected_free(&c);
	buf_deinit(&b);
	strv_deinit(&one);
	strv_deinit(&two);
}
END_TEST

/* A queue tree in a temporary directory, as the current directory. */
static char tree[] = "/tmp/test_showq_tree.XXXXXX";
static char *old_cwd;

static void
tree_setup(void)
{
	static const char *const dirs[] = { "incoming", "active", "deferred",
	    "hold", "corrupt", "maildrop" };

	ck_assert_ptr_nonnull(mkdtemp(tree));
	old_cwd = getcwd(NULL, 0);
	ck_assert_int_eq(chdir(tree), 0);
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		ck_assert_int_eq(mkdir(dirs[i], 0700), 0);
}

static void
tree_teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tree);

	ck_assert_int_eq(chdir(old_cwd), 0);
	free(old_cwd);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static void
put_file(const char *dir, const char *sender, int nrcpt, char qid_r[QID_SIZE])
{
	struct qfile_writer *w;
	const char *err;
	char rcpt[32];

	ck_assert_int_eq(qfile_create(dir, 0600, &w, &err), 0);
	ck_assert_int_eq(qfile_put_sender(w, sender), 0);
	for (int i = 0; i < nrcpt; i++) {
		snprintf(rcpt, sizeof(rcpt), "r%d@example.org", i);
		ck_assert_int_eq(qfile_put_rcpt(w, rcpt, "-", "-"), 0);
	}
	qfile_begin_content(w);
	qfile_put_content(w, "Subject: x\n\nbody\n", 17);
	ck_assert_int_eq(qfile_commit(&w, qid_r, &err), 0);
}

static void
write_raw(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

START_TEST(test_scan)
{
	char q1[QID_SIZE], q2[QID_SIZE], q3[QID_SIZE];
	struct collected c = { 0 };
	struct qfile *qf;
	struct buf b;
	const char *err;
	char *line;
	int fd;

	put_file("deferred", "", 2, q1);
	put_file("active", "a@example.org", 1, q2);
	put_file("hold", "h@example.org", 3, q3);
	/* Recipient 0 of the deferred one is done, 1 has a log record. */
	ck_assert_int_eq(qfile_open("deferred", q1, 0, &qf, &err), 0);
	ck_assert_int_eq(qfile_log(qf, 1, "delayed", "4.4.1", "mx",
	    "connect to mx: refused", false, &err), 0);
	ck_assert_int_eq(qfile_mark(qf, 0, QFILE_DONE, &err), 0);
	qfile_free(&qf);
	/* Strays: temporary, not a queue ID, corrupt, a directory. */
	write_raw("incoming/.tmp.1.2", "TERNQ 1\n");
	write_raw("incoming/README", "hello\n");
	write_raw("incoming/1MQ3K7F0A3C2B", "garbage\n");
	ck_assert_int_eq(mkdir("incoming/1MQ3K7F0A3C2C", 0700), 0);
	ck_assert_int_eq(mkfifo("maildrop/1MQ3K7F0A3C2D", 0600), 0);

	strv_init(&c.lines);
	ck_assert_int_eq(showq_scan(collect, &c, &err), 0);
	ck_assert_uint_eq(c.lines.n, 3);
	line = xasprintf("active %s <a@example.org> 1 ", q2);
	ck_assert_str_eq(c.lines.v[0], line);
	free(line);
	line = xasprintf("deferred %s <> 1 connect to mx: refused", q1);
	ck_assert_str_eq(c.lines.v[1], line);
	free(line);
	line = xasprintf("hold %s <h@example.org> 3 ", q3);
	ck_assert_str_eq(c.lines.v[2], line);
	free(line);
	ck_assert_str_eq(c.last_rcpt, "r2@example.org");
	collected_free(&c);

	/* The same through showq's sender and the client. */
	{
		char path[] = "/tmp/test_showq_out.XXXXXX";

		fd = mkstemp(path);
		ck_assert_int_ne(fd, -1);
		unlink(path);
	}
	ck_assert_int_eq(showq_send_listing(fd, 1000, &err), 0);
	buf_init(&b, 0);
	{
		char chunk[4096];
		ssize_t n;

		ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
		while ((n = read(fd, chunk, sizeof(chunk))) > 0)
			buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	ck_assert_int_eq(read_back(&b, &c, &err), 0);
	ck_assert_uint_eq(c.lines.n, 3);
	ck_assert(str_has_prefix(c.lines.v[1], "deferred "));
	collected_free(&c);
	buf_deinit(&b);

	/* A missing queue directory is an empty queue. */
	ck_assert_int_eq(system("rm -rf active"), 0);
	strv_init(&c.lines);
	ck_assert_int_eq(showq_scan(collect, &c, &err), 0);
	ck_assert_uint_eq(c.lines.n, 2);
	collected_free(&c);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("showq");
	TCase *tc = tcase_create("format");
	TCase *tq = tcase_create("queue");

	tcase_add_loop_test(tc, test_escape, 0, ARRAY_LEN(esc_cases));
	tcase_add_test(tc, test_wrap);
	tcase_add_test(tc, test_mailq);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_frames);
	tcase_add_loop_test(tc, test_bad_frames, 0, ARRAY_LEN(bad_cases));
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tq, tree_setup, tree_teardown);
	tcase_add_test(tq, test_scan);
	suite_add_tcase(s, tq);
	return s;
}

TEST_MAIN(suite)
