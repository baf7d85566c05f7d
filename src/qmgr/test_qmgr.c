/* SPDX-License-Identifier: MIT */
/*
 * End-to-end unit tests of qmgr: the daemon runs under server_main() in
 * a forked child on a temporary queue, a fake delivery agent (a forked
 * process per connection using deliver.h) answers by recipient name
 * ("defer..." deferred, "bounce..." bounced, else sent), and each case
 * checks the queue directories and the log: delivery and removal, retry
 * into deferred/ and flush, bounces with their notification, the error:
 * transport, a missing agent, corrupt files, leftovers in active/,
 * hostile frames on the public socket, the message properties passed to
 * agents ("attrs..." recipients get them back as text) and a dead
 * destination ("dead..." recipients: the agent says it is unreachable).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "ipc.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "deliver.h"
#include "mail_conf.h"
#include "mail_trigger.h"
#include "qfile.h"
#include "server.h"

#include "qmgr.h"

static char dir[] = "/tmp/test_qmgr.XXXXXX";
static pid_t qmgr_pid, agent_pid;
static int master_end;

static const struct server_spec spec = {
	.name		= "qmgr",
	.post_jail	= qmgr_init,
	.on_connect	= qmgr_session_start,
	.resident	= true,
	.on_stop	= qmgr_stop,
};

static void
agent_conn(int fd)
{
	struct deliver_request req;
	struct deliver_reply reply;
	const char *err;
	size_t i;

	for (;;) {
		deliver_request_init(&req);
		if (deliver_request_read(fd, &req, 10000, &err) != 1)
			_exit(0);
		/* deliver_reply_alloc leaves dead as it is. */
		memset(&reply, 0, sizeof(reply));
		deliver_reply_alloc(&reply, req.rcpt.n, "fake");
		for (i = 0; i < req.rcpt.n; i++) {
			const char *r = req.rcpt.v[i];
			int lfd = open("agent.log", O_WRONLY | O_APPEND |
			    O_CREAT, 0600);

			/* What the agent was asked, for the tests. */
			if (lfd != -1) {
				(void)!write(lfd, r, strlen(r));
				(void)!write(lfd, "\n", 1);
				close(lfd);
			}
			if (str_has_prefix(r, "attrs")) {
				char *t = xasprintf("body=%s smtputf8=%d "
				    "requiretls=%d", req.body != NULL ?
				    req.body : "-", req.smtputf8,
				    req.requiretls);

				deliver_reply_set(&reply, i, DELIVER_DEFER,
				    "4.0.0", t);
				free(t);
			} else if (str_has_prefix(r, "dead")) {
				deliver_reply_set(&reply, i, DELIVER_DEFER,
				    "4.4.1", "connect to dead.example"
				    "[127.0.0.1]:25: Connection refused");
				reply.dead = true;
			} else if (str_has_prefix(r, "defer"))
				deliver_reply_set(&reply, i, DELIVER_DEFER,
				    "4.2.0", "try later");
			else if (str_has_prefix(r, "bounce"))
				deliver_reply_set(&reply, i, DELIVER_BOUNCE,
				    "5.1.1", "unknown user");
			else
				deliver_reply_set(&reply, i, DELIVER_SENT,
				    "2.0.0", "delivered");
		}
		if (deliver_reply_send(fd, &reply, 10000, &err) == -1)
			_exit(1);
		deliver_reply_deinit(&reply);
		deliver_request_deinit(&req);
	}
}

/* The fake agent: a process per connection. */
static void
agent_run(int lfd)
{
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd == -1)
			continue;
		if (fork() == 0) {
			close(lfd);
			agent_conn(fd);
		}
		close(fd);
	}
}

static void
write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * Queues a message into DIR without waking qmgr; returns its ID.  attrs:
 * NULL or name, value, ..., NULL; rcpts: NULL-terminated.
 */
static char *
inject_v(const char *qdir, const char *sender, const char *const *attrs,
    const char *const *rcpts)
{
	static const char body[] = "Subject: test\n\nhello\n";
	struct qfile_writer *w;
	char qid[QID_SIZE];
	const char *err;

	ck_assert_int_eq(qfile_create(qdir, 0600, &w, &err), 0);
	ck_assert_int_eq(qfile_put_sender(w, sender), 0);
	for (; attrs != NULL && attrs[0] != NULL; attrs += 2)
		ck_assert_int_eq(qfile_put_attr(w, attrs[0], attrs[1]), 0);
	for (; *rcpts != NULL; rcpts++)
		ck_assert_int_eq(qfile_put_rcpt(w, *rcpts, "-", "-"), 0);
	qfile_begin_content(w);
	qfile_put_content(w, body, sizeof(body) - 1);
	ck_assert_msg(qfile_commit(&w, qid, &err) == 0, "%s", err);
	return xstrdup(qid);
}

static char *
inject(const char *qdir, const char *sender, const char *rcpt1,
    const char *rcpt2)
{
	const char *rcpts[] = { rcpt1, rcpt2, NULL };

	return inject_v(qdir, sender, NULL, rcpts);
}

static void
wake(void)
{
	const char *err;

	ck_assert_msg(mail_trigger_wakeup(MAIL_TRIGGER_QMGR, &err) == 0,
	    "%s", err);
}

static bool
exists(const char *qdir, const char *qid)
{
	char path[128];

	str_fmt_buf(path, sizeof(path), "%s/%s", qdir, qid);
	return access(path, F_OK) == 0;
}

static char log_tail[1024];

static bool
log_has(const char *text)
{
	struct buf b;
	char chunk[4096];
	ssize_t n;
	bool found;
	int fd = open("maillog", O_RDONLY);

	if (fd == -1)
		return false;
	buf_init(&b, 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	found = strstr(buf_cstr(&b), text) != NULL;
	str_copy(log_tail, b.len > sizeof(log_tail) - 1 ?
	    b.data + b.len - (sizeof(log_tail) - 1) : buf_cstr(&b),
	    sizeof(log_tail));
	buf_deinit(&b);
	return found;
}

static bool
file_has(const char *path, const char *text)
{
	char b[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd == -1)
		return false;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n < 0)
		return false;
	b[n] = '\0';
	return strstr(b, text) != NULL;
}

#define WAIT_FOR(cond) do {						\
	for (int w_ = 0; w_ < 500 && !(cond); w_++)			\
		poll(NULL, 0, 10);					\
	ck_assert_msg((cond), "timed out waiting for %s; log: %s",	\
	    #cond, (log_has(""), log_tail));				\
} while (0)

static void
start_qmgr(void)
{
	const char *err;
	int sv[2], lfd;

	lfd = ipc_listen("public/qmgr", 16, 0600, &err);
	ck_assert_msg(lfd != -1, "%s", err);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	fflush(NULL);
	qmgr_pid = fork();
	ck_assert_int_ne(qmgr_pid, -1);
	if (qmgr_pid == 0) {
		char *argv[] = { xstrdup("qmgr"), xstrdup("-n"),
		    xstrdup("qmgr"), xstrdup("-t"), xstrdup("unix"),
		    xstrdup("-s"), xstrdup("1"), xstrdup("-c"), xstrdup(dir),
		    NULL };
		int a = fcntl(sv[1], F_DUPFD, 20), b = fcntl(lfd, F_DUPFD, 20);

		if (a == -1 || b == -1 || dup2(a, 3) == -1 ||
		    dup2(b, 4) == -1)
			_exit(99);
		close_range(5, UINT_MAX, 0);
		_exit(server_main(&spec, 9, argv));
	}
	close(sv[1]);
	close(lfd);
	master_end = sv[0];
}

/* main.cf for the tests, with extra lines (the back-off times). */
static void
write_main_cf(const char *extra)
{
	char *text;

	text = xasprintf("queue_directory = %s\ndata_directory = %s\n"
	    "maillog_file = %s/maillog\nmyhostname = test.example\n"
	    "mydestination = test.example\ndefault_transport = local\n"
	    "mail_owner = nobody\n%s"
	    "queue_run_delay = 1s\nmaximal_queue_lifetime = 1h\n"
	    "transport_maps = inline:{ {err.example = error:5.1.2 gone "
	    "away}, nope.example=nope:, expire.example=local: }\n",
	    dir, dir, dir, extra);
	write_file("main.cf", text);
	free(text);
}

static void
setup(void)
{
	static const char *const dirs[] = { "incoming", "active", "deferred",
	    "hold", "corrupt", "private", "public" };
	const char *err;
	int lfd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chdir(dir), 0);
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		ck_assert_int_eq(mkdir(dirs[i], 0700), 0);
	write_main_cf("minimal_backoff_time = 1s\n"
	    "maximal_backoff_time = 2s\n");
	mail_conf_load(dir, NULL);
	lfd = ipc_listen("private/local", 64, 0600, &err);
	ck_assert_msg(lfd != -1, "%s", err);
	fflush(NULL);
	agent_pid = fork();
	ck_assert_int_ne(agent_pid, -1);
	if (agent_pid == 0)
		agent_run(lfd);
	close(lfd);
}

static void
teardown(void)
{
	int st = 0;
	char *cmd;

	if (qmgr_pid > 0) {
		close(master_end);
		for (int i = 0; i < 500 &&
		    waitpid(qmgr_pid, &st, WNOHANG) == 0; i++)
			poll(NULL, 0, 10);
		if (waitpid(qmgr_pid, NULL, WNOHANG) == 0) {
			kill(qmgr_pid, SIGKILL);
			waitpid(qmgr_pid, &st, 0);
		}
	}
	kill(agent_pid, SIGKILL);
	waitpid(agent_pid, NULL, 0);
	cmd = xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	qmgr_pid = 0;
}

START_TEST(test_deliver)
{
	char *q1, *q2;

	q1 = inject("incoming", "s@test.example", "a@test.example",
	    "b@far.example");
	start_qmgr();
	WAIT_FOR(!exists("incoming", q1) && !exists("active", q1));
	ck_assert(!exists("deferred", q1));
	WAIT_FOR(log_has(": removed"));
	ck_assert(log_has("from=<s@test.example>, size=21, nrcpt=2 "
	    "(queue active)"));
	q2 = inject("incoming", "", "c@test.example", NULL);
	wake();
	WAIT_FOR(!exists("incoming", q2) && !exists("active", q2));
	ck_assert(!exists("deferred", q2));
	free(q1);
	free(q2);
}
END_TEST

START_TEST(test_defer_flush)
{
	char *q;
	struct buf frame;
	struct attr_writer w;
	const char *err;
	struct stat st;
	char path[128];

	q = inject("incoming", "s@test.example", "deferme@test.example",
	    "ok@test.example");
	start_qmgr();
	WAIT_FOR(exists("deferred", q));
	str_fmt_buf(path, sizeof(path), "deferred/%s", q);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(file_has(path, " delayed 4.2.0 fake try later"));
	WAIT_FOR(log_has("(queue active)"));
	/* Flushed: taken again (the wait is at least 1s otherwise). */
	buf_init(&frame, 0);
	attr_frame_begin(&w, &frame);
	attr_put_str(&w, "request", "flush");
	attr_put_str(&w, "queue_id", q);
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	ck_assert_int_eq(mail_trigger_send(MAIL_TRIGGER_QMGR, &frame, &err),
	    0);
	buf_deinit(&frame);
	poll(NULL, 0, 3000);
	ck_assert(exists("deferred", q) || exists("active", q));
	ck_assert(!exists("incoming", q));
	free(q);
}
END_TEST

START_TEST(test_bounce)
{
	char *q;

	q = inject("incoming", "s@test.example", "bounceme@test.example",
	    "x@err.example");
	start_qmgr();
	WAIT_FOR(log_has("sender non-delivery notification: "));
	WAIT_FOR(!exists("active", q) && !exists("incoming", q));
	ck_assert(!exists("deferred", q));
	ck_assert(log_has("dsn=5.1.2, status=bounced (gone away)"));
	/* The notification itself is delivered and removed. */
	WAIT_FOR(log_has("from=<>, size="));
	free(q);
}
END_TEST

START_TEST(test_double_bounce)
{
	char *q;

	q = inject("incoming", "", "bounceme@test.example", NULL);
	start_qmgr();
	WAIT_FOR(log_has("undeliverable bounce discarded"));
	WAIT_FOR(!exists("active", q));
	free(q);
	q = inject("incoming", "double-bounce@test.example",
	    "bounceme@test.example", NULL);
	wake();
	WAIT_FOR(log_has("undeliverable postmaster notification discarded"));
	free(q);
}
END_TEST

START_TEST(test_no_agent)
{
	char *q;

	q = inject("incoming", "s@test.example", "x@nope.example", NULL);
	start_qmgr();
	WAIT_FOR(exists("deferred", q));
	ck_assert(log_has("connect to transport private/nope: "));
	ck_assert(log_has("status=deferred (mail transport unavailable)"));
	free(q);
}
END_TEST

START_TEST(test_corrupt_and_leftover)
{
	char *q;

	write_file("incoming/1MQ3K7F0A3C2B", "garbage\n");
	write_file("incoming/not-a-qid", "temp file\n");
	q = inject("active", "s@test.example", "a@test.example", NULL);
	start_qmgr();
	WAIT_FOR(exists("corrupt", "1MQ3K7F0A3C2B"));
	WAIT_FOR(!exists("active", q));
	ck_assert(exists("incoming", "not-a-qid"));
	ck_assert(log_has("moved to corrupt"));
	free(q);
}
END_TEST

static const struct {
	const char	*bytes;
	size_t		 len;
} hostile[] = {
	{ "\x00\x00\x00\x07garbage", 11 },	/* not a field */
	{ "\xff\xff\xff\xff", 4 },		/* too long */
	{ "\x00\x00\x00\x02\x01", 5 },	/* truncated */
	{ "\x00\x00", 2 },			/* short header */
	{ "\x00\x00\x00\x00", 4 },		/* empty frame */
};

START_TEST(test_hostile)
{
	struct buf frame;
	struct attr_writer w;
	const char *err;
	char *q;
	int fd;

	start_qmgr();
	for (size_t i = 0; i < ARRAY_LEN(hostile); i++) {
		fd = ipc_connect("public/qmgr", 1000, &err);
		ck_assert_int_ne(fd, -1);
		(void)!write(fd, hostile[i].bytes, hostile[i].len);
		close(fd);
	}
	/* Unknown request, bad queue ID, CR/LF in a site. */
	buf_init(&frame, 0);
	attr_frame_begin(&w, &frame);
	attr_put_str(&w, "request", "destroy");
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	attr_frame_begin(&w, &frame);
	attr_put_str(&w, "request", "flush");
	attr_put_str(&w, "queue_id", "../../etc/passwd");
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	ck_assert_int_eq(mail_trigger_send(MAIL_TRIGGER_QMGR, &frame, &err),
	    0);
	buf_reset(&frame);
	attr_frame_begin(&w, &frame);
	attr_put_str(&w, "request", "flush");
	attr_put_str(&w, "site", "a\r\nb");
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	ck_assert_int_eq(mail_trigger_send(MAIL_TRIGGER_QMGR, &frame, &err),
	    0);
	buf_deinit(&frame);
	WAIT_FOR(log_has("bad request on the qmgr socket"));
	/* Still alive and working. */
	q = inject("incoming", "s@test.example", "a@test.example", NULL);
	wake();
	WAIT_FOR(!exists("incoming", q) && !exists("active", q));
	ck_assert_int_eq(waitpid(qmgr_pid, NULL, WNOHANG), 0);
	free(q);
}
END_TEST

/* body, smtputf8 and requiretls from the queue file reach the agent. */
START_TEST(test_request_attrs)
{
	static const char *const all[] = { "body", "8BITMIME", "smtputf8",
	    "yes", "requiretls", "yes", NULL };
	static const char *const bad[] = { "body", "BINARYMIME", "smtputf8",
	    "no", "requiretls", "YES!", NULL };
	static const char *const rcpt[] = { "attrs@test.example", NULL };
	char *q1, *q2, *q3, path[128];

	/* No retry while the files are read. */
	write_main_cf("minimal_backoff_time = 60s\n"
	    "maximal_backoff_time = 120s\n");
	q1 = inject_v("incoming", "s@test.example", all, rcpt);
	q2 = inject_v("incoming", "s@test.example", bad, rcpt);
	q3 = inject_v("incoming", "s@test.example", NULL, rcpt);
	start_qmgr();
	WAIT_FOR(exists("deferred", q1) && exists("deferred", q2) &&
	    exists("deferred", q3));
	str_fmt_buf(path, sizeof(path), "deferred/%s", q1);
	ck_assert(file_has(path, " delayed 4.0.0 fake body=8BITMIME "
	    "smtputf8=1 requiretls=1"));
	/* Values other than those smtpd writes are not passed on. */
	str_fmt_buf(path, sizeof(path), "deferred/%s", q2);
	ck_assert(file_has(path, " delayed 4.0.0 fake body=- smtputf8=0 "
	    "requiretls=0"));
	str_fmt_buf(path, sizeof(path), "deferred/%s", q3);
	ck_assert(file_has(path, " delayed 4.0.0 fake body=- smtputf8=0 "
	    "requiretls=0"));
	free(q1);
	free(q2);
	free(q3);
}
END_TEST

/*
 * A dead destination: the recipients in the failed delivery keep the
 * agent's text, the pending ones and those of a later message are
 * deferred as suspended without asking the agent, another destination
 * is not affected.
 */
START_TEST(test_dead)
{
	static const char *const rcpts[] = { "dead1@dead.example",
	    "dead2@dead.example", "dead3@dead.example", NULL };
	char *q1, *q2, *q3, path[128];

	write_main_cf("minimal_backoff_time = 60s\n"
	    "maximal_backoff_time = 120s\n"
	    "local_destination_recipient_limit = 2\n"
	    "local_destination_concurrency_limit = 1\n"
	    "initial_destination_concurrency = 1\n");
	q1 = inject_v("incoming", "s@test.example", NULL, rcpts);
	start_qmgr();
	WAIT_FOR(exists("deferred", q1));
	str_fmt_buf(path, sizeof(path), "deferred/%s", q1);
	ck_assert(file_has(path, " delayed 4.4.1 fake connect to "
	    "dead.example[127.0.0.1]:25: Connection refused"));
	ck_assert(file_has(path, " delayed 4.4.1 none delivery temporarily "
	    "suspended: connect to dead.example[127.0.0.1]:25: Connection "
	    "refused"));
	WAIT_FOR(log_has("to=<dead3@dead.example>, relay=none"));
	ck_assert(log_has("dsn=4.4.1, status=deferred (delivery temporarily "
	    "suspended: connect to dead.example[127.0.0.1]:25: Connection "
	    "refused)"));
	ck_assert(log_has("destination local:dead.example suspended for "
	    "60s"));
	ck_assert(file_has("agent.log", "dead2@dead.example\n"));
	ck_assert(!file_has("agent.log", "dead3@dead.example"));

	q2 = inject("incoming", "s@test.example", "later@dead.example", NULL);
	q3 = inject("incoming", "s@test.example", "ok@fine.example", NULL);
	wake();
	WAIT_FOR(exists("deferred", q2));
	str_fmt_buf(path, sizeof(path), "deferred/%s", q2);
	ck_assert(file_has(path, " delayed 4.4.1 none delivery temporarily "
	    "suspended: connect to dead.example[127.0.0.1]:25"));
	WAIT_FOR(!exists("incoming", q3) && !exists("active", q3));
	ck_assert(!exists("deferred", q3));
	ck_assert(file_has("agent.log", "ok@fine.example\n"));
	ck_assert(!file_has("agent.log", "later@dead.example"));
	free(q1);
	free(q2);
	free(q3);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("qmgr");
	TCase *tc = tcase_create("e2e");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_deliver);
	tcase_add_test(tc, test_defer_flush);
	tcase_add_test(tc, test_bounce);
	tcase_add_test(tc, test_double_bounce);
	tcase_add_test(tc, test_no_agent);
	tcase_add_test(tc, test_corrupt_and_leftover);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_request_attrs);
	tcase_add_test(tc, test_dead);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
