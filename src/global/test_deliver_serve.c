/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the asynchronous agent side of deliver.c
 * (deliver_serve_async, deliver_done, deliver_serve_stop_idle) inside the
 * server skeleton.  A forked child runs server_main() with the descriptor
 * layout of master_proto.h and an agent whose handler answers from a
 * libevent timer (or at once, for recipient "now@x"); the test plays
 * master (status channel, listening socket) and qmgr (requests with a
 * queue file passed along, replies read and parsed as qmgr does): replies
 * come back intact and in order, one request at a time per connection,
 * a vanished qmgr or a broken request costs only that connection, and a
 * stop lets the busy connection finish while idle ones close at once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "attr.h"
#include "buf.h"
#include "fdpass.h"
#include "ipc.h"
#include "log.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "deliver.h"
#include "master_proto.h"
#include "server.h"

static char dir[] = "/tmp/test_deliver_serve.XXXXXX";
static char *sock_path;
static char *qfile_path;

/* What the queue file holds; the content is the part after "HDR:". */
#define QFILE_TEXT	"HDR:QFILE-CONTENT\n"
#define QFILE_OFF	4
#define QFILE_SIZE	13

/*
 * The agent under test.  The handler's reply says, per recipient:
 * "ok@x" sent 2.0.0, "bad@x" bounced 5.1.1, anything else deferred 4.4.1,
 * each with the text "QID pending=N data=CONTENT" where N is the number
 * of requests that were out in the process when this one arrived and
 * CONTENT what it read from the passed queue file.  nexthop is the delay
 * in milliseconds; a recipient "now@x" answers before the handler
 * returns.
 */

struct t_job {
	const struct deliver_request *req;
	struct deliver_reply *reply;
	struct deliver_job *job;
	struct event	*ev;
	int		 pending;	/* requests out when this one came */
};

static int t_pending;

static void
t_answer(struct t_job *j, const char *how)
{
	const struct deliver_request *req = j->req;
	char data[64], text[256];
	size_t want = req->content_size < sizeof(data) - 1 ?
	    (size_t)req->content_size : sizeof(data) - 1;
	ssize_t n;

	/* The queue file is still open and readable when the answer comes. */
	n = pread(req->fd, data, want, (off_t)req->content_off);
	data[n > 0 ? (size_t)n : 0] = '\0';
	deliver_reply_alloc(j->reply, req->rcpt.n, "test-relay");
	str_fmt_buf(text, sizeof(text), "%s pending=%d data=%s %s",
	    req->queue_id, j->pending, data, how);
	for (size_t i = 0; i < req->rcpt.n; i++) {
		if (str_eq(req->rcpt.v[i], "ok@x"))
			deliver_reply_set(j->reply, i, DELIVER_SENT, "2.0.0",
			    text);
		else if (str_eq(req->rcpt.v[i], "bad@x"))
			deliver_reply_set(j->reply, i, DELIVER_BOUNCE, "5.1.1",
			    text);
		else
			deliver_reply_set(j->reply, i, DELIVER_DEFER, "4.4.1",
			    text);
	}
	log_info("%s: answered (%s)", req->queue_id, how);
}

static void
t_timer(evutil_socket_t fd, short what, void *arg)
{
	struct t_job *j = arg;

	(void)fd;
	(void)what;
	t_answer(j, "later");
	t_pending--;
	event_free(j->ev);
	deliver_done(j->job);
	free(j);
}

static void
t_handler(const struct deliver_request *req, struct deliver_reply *reply,
    struct deliver_job *job)
{
	struct t_job *j = xcalloc(1, sizeof(*j));
	struct timeval tv;
	long long ms = 100;
	const char *err;

	j->req = req;
	j->reply = reply;
	j->job = job;
	j->pending = t_pending;
	log_info("%s: handler start pending=%d", req->queue_id, t_pending);
	for (size_t i = 0; i < req->rcpt.n; i++) {
		if (str_eq(req->rcpt.v[i], "now@x")) {
			t_answer(j, "now");
			free(j);
			deliver_done(job);
			return;
		}
	}
	if (str_to_ll(req->nexthop, 0, 60000, &ms, &err) == -1)
		fatal("bad delay %s: %s", req->nexthop, err);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	j->ev = evtimer_new(server_event_base(), t_timer, j);
	if (j->ev == NULL || evtimer_add(j->ev, &tv) == -1)
		fatal("cannot start a timer");
	t_pending++;
}

static void
t_connect(int fd, const struct server_peer *p)
{
	(void)p;
	deliver_serve_async(fd, t_handler);
}

static void
t_stop(void)
{
	log_info("on_stop called");
	deliver_serve_stop_idle();
}

static const struct server_spec t_spec = {
	.name		= "test_deliver_serve",
	.on_connect	= t_connect,
	.on_stop	= t_stop,
};

/* The test as master. */

static char *
path_in(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void
setup(void)
{
	char *p;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	p = path_in("queue");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	free(p);
	p = path_in("main.cf");
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "queue_directory = %s/queue\ndata_directory = %s\n"
	    "maillog_file = %s/maillog\n", dir, dir, dir);
	ck_assert_int_eq(fclose(f), 0);
	free(p);
	qfile_path = path_in("qfile");
	f = fopen(qfile_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(QFILE_TEXT, f);
	ck_assert_int_eq(fclose(f), 0);
	sock_path = path_in("listen.sock");
}

static void
teardown(void)
{
	static const char *const files[] = { "main.cf", "maillog",
	    "listen.sock", "qfile" };
	char *p;

	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		p = path_in(files[i]);
		unlink(p);
		free(p);
	}
	p = path_in("queue");
	rmdir(p);
	free(p);
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	free(sock_path);
	free(qfile_path);
}

/* Forks the agent with fd 3 = status_fd and fd 4 = listen_fd. */
static pid_t
spawn(int status_fd, int listen_fd)
{
	static const char *const args[] = { "test_deliver_serve", "-n",
	    "svc", "-t", "unix", "-s", "1", "-c", NULL };
	char *argv[ARRAY_LEN(args) + 1];
	int argc = 0, a, b, null;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid > 0)
		return pid;
	/* The child's own copies; it never returns here. */
	for (size_t i = 0; args[i] != NULL; i++)
		argv[argc++] = xstrdup(args[i]);
	argv[argc++] = xstrdup(dir);
	argv[argc] = NULL;
	a = fcntl(status_fd, F_DUPFD, 20);
	b = fcntl(listen_fd, F_DUPFD, 20);
	null = open("/dev/null", O_RDWR);
	if (a == -1 || b == -1 || null == -1 || dup2(a, 3) == -1 ||
	    dup2(b, 4) == -1 || dup2(null, 2) == -1)
		_exit(99);
	/* Nothing else open, as master promises (our ends in particular). */
	close_range(5, UINT_MAX, 0);
	optind = 1;
	/* exit, not _exit: a sanitizer build checks the agent for leaks. */
	exit(server_main(&t_spec, argc, argv));
}

/* Waits for pid; returns its wait status, or -1 (killed) after ms. */
static int
wait_exit(pid_t pid, int ms)
{
	int st;

	for (int waited = 0; waited <= ms; waited += 10) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		ck_assert_int_ne(r, -1);
		if (r == pid)
			return st;
		poll(NULL, 0, 10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static void
assert_exit_ok(pid_t pid)
{
	int st = wait_exit(pid, 5000);

	ck_assert_msg(st != -1, "agent did not exit");
	ck_assert_msg(WIFEXITED(st), "agent died by signal %d",
	    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}

static void
assert_alive(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, WNOHANG), 0);
}

/* Reads one status frame; returns 1 busy, 0 avail, -1 closed. */
static int
read_status(int fd)
{
	struct buf body;
	const char *err;
	bool busy;
	int rc;

	buf_init(&body, 0);
	if (attr_read_frame(fd, &body, MASTER_STATUS_MAX, 5000, &err) == -1) {
		ck_assert_str_eq(err, "connection closed");
		buf_deinit(&body);
		return -1;
	}
	rc = master_proto_parse_status(body.data, body.len, &busy, &err);
	ck_assert_msg(rc == 0, "bad status frame: %s", err);
	buf_deinit(&body);
	return busy ? 1 : 0;
}

/* True when fd has something to read (data or end of file) within ms. */
static bool
readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

static bool
log_has(const char *needle)
{
	char *p = path_in("maillog"), text[16384];
	FILE *f = fopen(p, "r");
	size_t n = 0;

	free(p);
	if (f == NULL)
		return false;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return strstr(text, needle) != NULL;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A started agent: child, master end, listener. */
struct svc {
	pid_t		pid;
	int		master;
	int		listener;
};

static void
svc_start(struct svc *s)
{
	const char *err = NULL;
	int sv[2];

	s->listener = ipc_listen(sock_path, 16, 0600, &err);
	ck_assert_msg(s->listener != -1, "listen: %s", err);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	s->pid = spawn(sv[1], s->listener);
	close(sv[1]);
	s->master = sv[0];
}

/* master closes the status channel; the idle agent leaves at once. */
static void
svc_stop(struct svc *s)
{
	close(s->master);
	assert_exit_ok(s->pid);
	close(s->listener);
}

/* The test as qmgr. */

static int
dial(void)
{
	const char *err = NULL;
	int fd = ipc_connect(sock_path, 5000, &err);

	ck_assert_msg(fd != -1, "connect: %s", err);
	return fd;
}

/*
 * Sends request qid with the recipients in rcpts (NULL-terminated) and
 * delay (the handler's delay in ms, as nexthop).
 */
static void
send_req(int sock, const char *qid, const char *delay,
    const char *const *rcpts)
{
	struct deliver_request req;
	const char *err = NULL;

	deliver_request_init(&req);
	req.queue_id = qid;
	req.queue_name = "active";
	req.fd = open(qfile_path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(req.fd, 0);
	req.content_off = QFILE_OFF;
	req.content_size = QFILE_SIZE;
	req.arrival = 1000000;
	req.active = 2000000;
	req.sender = "s@x";
	req.transport = "smtp";
	req.nexthop = delay;
	for (const char *const *r = rcpts; *r != NULL; r++) {
		strv_push(&req.rcpt, *r);
		strv_push(&req.orcpt, "-");
		strv_push(&req.notify, "-");
	}
	ck_assert_msg(deliver_request_send(sock, &req, 5000, &err) == 0,
	    "send: %s", err);
	deliver_request_deinit(&req);
}

/* Reads and parses a reply for nrcpt recipients, as qmgr does. */
static void
read_reply(int sock, size_t nrcpt, struct deliver_reply *reply_r)
{
	struct buf body;
	const char *err = NULL;

	buf_init(&body, 0);
	ck_assert_msg(attr_read_frame(sock, &body, 0, 5000, &err) == 0,
	    "reply: %s", err);
	ck_assert_msg(deliver_reply_parse(body.data, body.len, nrcpt, reply_r,
	    &err) == 0, "parse: %s", err);
	buf_deinit(&body);
}

/* Expects the agent to close sock (no frame, no time-out). */
static void
expect_closed(int sock)
{
	struct buf body;
	const char *err = NULL;
	int rc;

	buf_init(&body, 0);
	rc = attr_read_frame(sock, &body, 0, 5000, &err);
	ck_assert_int_eq(rc, -1);
	/* Unread input makes the close a reset. */
	ck_assert_msg(str_eq(err, "connection closed") ||
	    strstr(err, strerror(ECONNRESET)) != NULL, "not closed: %s", err);
	buf_deinit(&body);
}

/* Checks the text every result carries. */
static void
assert_text(const struct deliver_reply *r, const char *qid, int pending,
    const char *how)
{
	char want[256];

	str_fmt_buf(want, sizeof(want), "%s pending=%d data=QFILE-CONTENT %s",
	    qid, pending, how);
	ck_assert_str_eq(r->relay, "test-relay");
	for (size_t i = 0; i < r->n; i++)
		ck_assert_str_eq(r->results[i].text, want);
}

/* One request of one recipient ok@x answered with delay; checks it. */
static void
roundtrip(int sock, const char *qid, const char *delay, const char *how)
{
	const char *const rcpts[] = { str_eq(how, "now") ? "now@x" : "ok@x",
	    NULL };
	struct deliver_reply r;

	send_req(sock, qid, delay, rcpts);
	read_reply(sock, 1, &r);
	ck_assert_int_eq(r.results[0].status,
	    str_eq(how, "now") ? DELIVER_DEFER : DELIVER_SENT);
	assert_text(&r, qid, 0, how);
	deliver_reply_deinit(&r);
}

/* A reply that comes later from a timer arrives intact. */
START_TEST(test_reply_later)
{
	const char *const rcpts[] = { "ok@x", "bad@x", "other@x", NULL };
	struct deliver_reply r;
	struct svc s;
	int64_t t0;
	int c;

	svc_start(&s);
	c = dial();
	t0 = now_ms();
	send_req(c, "Q1", "300", rcpts);
	/* Nothing before the timer fires. */
	ck_assert(!readable(c, 50));
	read_reply(c, 3, &r);
	ck_assert_int_ge(now_ms() - t0, 290);
	ck_assert_uint_eq(r.n, 3);
	ck_assert(!r.dead);
	ck_assert_int_eq(r.results[0].status, DELIVER_SENT);
	ck_assert_str_eq(r.results[0].dsn, "2.0.0");
	ck_assert_int_eq(r.results[1].status, DELIVER_BOUNCE);
	ck_assert_str_eq(r.results[1].dsn, "5.1.1");
	ck_assert_int_eq(r.results[2].status, DELIVER_DEFER);
	ck_assert_str_eq(r.results[2].dsn, "4.4.1");
	assert_text(&r, "Q1", 0, "later");
	deliver_reply_deinit(&r);
	ck_assert_int_eq(read_status(s.master), 1);
	/* qmgr closes between requests: the session ends. */
	close(c);
	ck_assert_int_eq(read_status(s.master), 0);
	ck_assert(log_has("Q1: handler start pending=0"));
	ck_assert(log_has("Q1: answered (later)"));
	svc_stop(&s);
}
END_TEST

/* Two requests in sequence on one connection, each answered. */
START_TEST(test_sequence)
{
	const char *const rcpts[] = { "bad@x", "ok@x", NULL };
	struct deliver_reply r;
	struct svc s;
	int c;

	svc_start(&s);
	c = dial();
	roundtrip(c, "Q1", "20", "later");
	send_req(c, "Q2", "20", rcpts);
	read_reply(c, 2, &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_BOUNCE);
	ck_assert_int_eq(r.results[1].status, DELIVER_SENT);
	assert_text(&r, "Q2", 0, "later");
	deliver_reply_deinit(&r);
	roundtrip(c, "Q3", "0", "later");
	ck_assert_int_eq(read_status(s.master), 1);
	close(c);
	ck_assert_int_eq(read_status(s.master), 0);
	svc_stop(&s);
}
END_TEST

/*
 * A request sent while the first is still out waits until the first is
 * answered: the handler sees it with nothing pending, and the replies
 * come in order even though the second is quicker.
 */
START_TEST(test_one_at_a_time)
{
	const char *const ok[] = { "ok@x", NULL };
	const char *const bad[] = { "bad@x", NULL };
	const char *const now[] = { "now@x", NULL };
	struct deliver_reply r;
	struct svc s;
	int64_t t0;
	int c;

	svc_start(&s);
	c = dial();
	t0 = now_ms();
	send_req(c, "Q1", "200", ok);
	send_req(c, "Q2", "10", bad);
	send_req(c, "Q3", "0", now);
	read_reply(c, 1, &r);
	ck_assert_int_ge(now_ms() - t0, 190);
	ck_assert_int_eq(r.results[0].status, DELIVER_SENT);
	assert_text(&r, "Q1", 0, "later");
	deliver_reply_deinit(&r);
	read_reply(c, 1, &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_BOUNCE);
	assert_text(&r, "Q2", 0, "later");
	deliver_reply_deinit(&r);
	read_reply(c, 1, &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_DEFER);
	assert_text(&r, "Q3", 0, "now");
	deliver_reply_deinit(&r);
	ck_assert(log_has("Q2: handler start pending=0"));
	ck_assert(log_has("Q3: handler start pending=0"));
	ck_assert(!log_has("pending=1"));
	close(c);
	svc_stop(&s);
}
END_TEST

/*
 * The handler answers before it returns ("now@x"): the reply goes out
 * and the connection reads the next request, synchronous or not.
 */
START_TEST(test_sync_done)
{
	const char *const now[] = { "now@x", "ok@x", NULL };
	struct deliver_reply r;
	struct svc s;
	int c;

	svc_start(&s);
	c = dial();
	send_req(c, "Q1", "0", now);
	/* At once: no timer is involved. */
	ck_assert(readable(c, 1000));
	read_reply(c, 2, &r);
	ck_assert_int_eq(r.results[0].status, DELIVER_DEFER);
	ck_assert_int_eq(r.results[1].status, DELIVER_SENT);
	assert_text(&r, "Q1", 0, "now");
	deliver_reply_deinit(&r);
	roundtrip(c, "Q2", "0", "now");
	roundtrip(c, "Q3", "30", "later");
	roundtrip(c, "Q4", "0", "now");
	ck_assert(log_has("Q4: answered (now)"));
	ck_assert_int_eq(read_status(s.master), 1);
	close(c);
	ck_assert_int_eq(read_status(s.master), 0);
	svc_stop(&s);
}
END_TEST

/*
 * qmgr goes away while a request is out: the reply is dropped with a
 * warning, the session ends (master hears "available": no session is
 * left), the agent lives on and serves a new connection, and a later
 * stop counts exactly that one session.
 */
START_TEST(test_qmgr_gone)
{
	const char *const ok[] = { "ok@x", NULL };
	struct svc s;
	int c;

	svc_start(&s);
	c = dial();
	send_req(c, "Q1", "1000", ok);
	ck_assert_int_eq(read_status(s.master), 1);
	close(c);
	/* The session lasts until the answer is due. */
	ck_assert(!readable(s.master, 300));
	ck_assert_int_eq(read_status(s.master), 0);
	ck_assert(log_has("Q1: answered (later)"));
	ck_assert(log_has("cannot reply to queue manager"));
	assert_alive(s.pid);
	c = dial();
	ck_assert_int_eq(read_status(s.master), 1);
	roundtrip(c, "Q2", "20", "later");
	roundtrip(c, "Q3", "0", "now");
	ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
	/* The idle connection closes at once; one session, not two. */
	expect_closed(c);
	assert_exit_ok(s.pid);
	ck_assert(log_has("stopping (SIGTERM) with 1 session in progress"));
	ck_assert(log_has("on_stop called"));
	close(c);
	close(s.master);
	close(s.listener);
}
END_TEST

/*
 * A stop (SIGTERM, or master closing the status channel) while a request
 * is out: deliver_serve_stop_idle closes the idle connection at once but
 * leaves the busy one, which gets its reply and then end of file, and the
 * process exits after that.
 */
START_TEST(test_stop_busy)
{
	const char *const rcpts[] = { "ok@x", "bad@x", NULL };
	struct deliver_reply r;
	struct svc s;
	int64_t t0;
	int busy, idle;

	svc_start(&s);
	idle = dial();
	roundtrip(idle, "Q0", "0", "now");
	ck_assert_int_eq(read_status(s.master), 1);
	busy = dial();
	roundtrip(busy, "Q1", "0", "now");
	t0 = now_ms();
	send_req(busy, "Q2", "1500", rcpts);
	/* The request has reached the handler before the stop. */
	for (int i = 0; i < 100 && !log_has("Q2: handler start"); i++)
		poll(NULL, 0, 10);
	ck_assert(log_has("Q2: handler start pending=0"));
	if (_i == 0)
		ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
	else
		close(s.master);
	expect_closed(idle);
	ck_assert_int_lt(now_ms() - t0, 1400);
	/* The busy one is neither answered nor closed yet. */
	ck_assert(!readable(busy, 0));
	assert_alive(s.pid);
	read_reply(busy, 2, &r);
	ck_assert_int_ge(now_ms() - t0, 1490);
	ck_assert_int_eq(r.results[0].status, DELIVER_SENT);
	ck_assert_int_eq(r.results[1].status, DELIVER_BOUNCE);
	assert_text(&r, "Q2", 0, "later");
	deliver_reply_deinit(&r);
	expect_closed(busy);
	assert_exit_ok(s.pid);
	ck_assert(log_has(_i == 0 ?
	    "stopping (SIGTERM) with 2 sessions in progress" :
	    "stopping (master closed the status channel) with 2 sessions "
	    "in progress"));
	ck_assert(log_has("on_stop called"));
	close(idle);
	close(busy);
	if (_i == 0)
		close(s.master);
	close(s.listener);
}
END_TEST

/* A stop while every connection is idle closes them all and exits. */
START_TEST(test_stop_idle)
{
	struct svc s;
	int c1, c2;

	svc_start(&s);
	c1 = dial();
	roundtrip(c1, "Q1", "0", "now");
	c2 = dial();
	roundtrip(c2, "Q2", "10", "later");
	ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
	expect_closed(c1);
	expect_closed(c2);
	assert_exit_ok(s.pid);
	ck_assert(log_has("stopping (SIGTERM) with 2 sessions in progress"));
	close(c1);
	close(c2);
	close(s.master);
	close(s.listener);
}
END_TEST

/* Broken requests: each closes its own connection only. */
enum bad_kind {
	BAD_TEXT,		/* not a frame at all */
	BAD_REQUEST,		/* request=hello, otherwise well formed */
	BAD_NO_FD,		/* well formed, no descriptor */
	BAD_TWO_FDS,		/* well formed, two descriptors */
	BAD_SHORT,		/* header promises more than comes */
	BAD_TRAILING,		/* a byte after the last field */
	BAD_NO_RCPT,		/* empty recipient list */
	BAD_ORCPT,		/* orcpt shorter than rcpt */
	BAD_TYPE,		/* unknown field type */
	BAD_EMPTY,		/* zero-length frame */
	BAD_MISSING,		/* request=deliver and nothing else */
	BAD_RET,		/* ret=ALL */
	BAD_HUGE,		/* length just above the request limit */
};

static const struct {
	enum bad_kind	 kind;
	const char	*name;
} bad_cases[] = {
	{ BAD_TEXT, "text" },
	{ BAD_REQUEST, "unknown request" },
	{ BAD_NO_FD, "no descriptor" },
	{ BAD_TWO_FDS, "two descriptors" },
	{ BAD_SHORT, "short frame" },
	{ BAD_TRAILING, "trailing byte" },
	{ BAD_NO_RCPT, "no recipient" },
	{ BAD_ORCPT, "orcpt mismatch" },
	{ BAD_TYPE, "bad type" },
	{ BAD_EMPTY, "empty frame" },
	{ BAD_MISSING, "missing fields" },
	{ BAD_RET, "bad ret" },
	{ BAD_HUGE, "huge frame" },
};

/* Sets the frame header to the body length after raw edits. */
static void
frame_fix_len(struct buf *f)
{
	uint32_t len = (uint32_t)(f->len - ATTR_HDR_LEN);
	unsigned char *p = (unsigned char *)f->data;

	p[0] = (unsigned char)(len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
}

/* A request frame like deliver_request_send's, bent by kind. */
static void
bad_frame(struct buf *f, enum bad_kind kind)
{
	struct strv rcpt, orcpt;
	struct attr_writer w;
	const char *err = NULL;

	strv_init(&rcpt);
	strv_init(&orcpt);
	if (kind != BAD_NO_RCPT) {
		strv_push(&rcpt, "ok@x");
		strv_push(&rcpt, "bad@x");
		strv_push(&orcpt, "-");
		if (kind != BAD_ORCPT)
			strv_push(&orcpt, "-");
	}
	attr_frame_begin(&w, f);
	attr_put_str(&w, "request", kind == BAD_REQUEST ? "hello" : "deliver");
	if (kind != BAD_MISSING) {
		attr_put_str(&w, "queue_id", "QB");
		attr_put_str(&w, "queue_name", "active");
		attr_put_u64(&w, "content_off", QFILE_OFF);
		attr_put_u64(&w, "content_size", QFILE_SIZE);
		attr_put_i64(&w, "arrival", 1);
		attr_put_i64(&w, "active", 2);
		attr_put_str(&w, "sender", "s@x");
		attr_put_str(&w, "transport", "smtp");
		attr_put_str(&w, "nexthop", "0");
		if (kind == BAD_RET)
			attr_put_str(&w, "ret", "ALL");
		attr_put_strv(&w, "rcpt", &rcpt);
		attr_put_strv(&w, "orcpt", &orcpt);
		attr_put_strv(&w, "notify", &orcpt);
	}
	ck_assert_msg(attr_frame_end(&w, &err) == 0, "frame: %s", err);
	if (kind == BAD_TRAILING) {
		buf_addc(f, '\0');
		frame_fix_len(f);
	} else if (kind == BAD_TYPE) {
		buf_add(f, "\x07\x01x", 3);
		frame_fix_len(f);
	} else if (kind == BAD_EMPTY) {
		buf_truncate(f, ATTR_HDR_LEN);
		frame_fix_len(f);
	}
	strv_deinit(&rcpt);
	strv_deinit(&orcpt);
}

static void
send_bad(int sock, enum bad_kind kind)
{
	struct buf f;
	const char *err = NULL;
	int fds[2];

	fds[0] = open(qfile_path, O_RDONLY | O_CLOEXEC);
	fds[1] = open(qfile_path, O_RDONLY | O_CLOEXEC);
	ck_assert(fds[0] >= 0 && fds[1] >= 0);
	buf_init(&f, 0);
	switch (kind) {
	case BAD_TEXT:
		ck_assert_int_eq(write(sock, "garbage\r\n", 9), 9);
		break;
	case BAD_SHORT:
		/* 100 bytes promised, 10 sent, then end of file. */
		ck_assert_int_eq(write(sock, "\0\0\0\x64" "0123456789", 14),
		    14);
		ck_assert_int_eq(shutdown(sock, SHUT_WR), 0);
		break;
	case BAD_HUGE:
		/* One byte above the agent's 512 KiB request limit. */
		ck_assert_int_eq(write(sock, "\0\x08\0\x01", 4), 4);
		break;
	default:
		bad_frame(&f, kind);
		if (kind == BAD_NO_FD)
			ck_assert_int_eq(attr_write_frame(sock, &f, 5000,
			    &err), 0);
		else
			ck_assert_msg(fdpass_send_frame(sock, &f, fds,
			    kind == BAD_TWO_FDS ? 2 : 1, 5000, &err) == 0,
			    "send: %s", err);
		break;
	}
	buf_deinit(&f);
	close(fds[0]);
	close(fds[1]);
}

START_TEST(test_bad_request)
{
	struct svc s;
	int good, bad;

	svc_start(&s);
	good = dial();
	roundtrip(good, "Q1", "0", "now");
	bad = dial();
	send_bad(bad, bad_cases[_i].kind);
	expect_closed(bad);
	ck_assert_msg(log_has("bad request from queue manager"),
	    "%s: no warning", bad_cases[_i].name);
	/* The handler never saw it. */
	ck_assert(!log_has("QB: handler start"));
	assert_alive(s.pid);
	/* The other connection is unharmed, and only it is left. */
	roundtrip(good, "Q2", "10", "later");
	ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
	expect_closed(good);
	assert_exit_ok(s.pid);
	ck_assert(log_has("stopping (SIGTERM) with 1 session in progress"));
	close(good);
	close(bad);
	close(s.master);
	close(s.listener);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("deliver_serve");
	TCase *tc = tcase_create("async");
	TCase *bad = tcase_create("hostile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_reply_later);
	tcase_add_test(tc, test_sequence);
	tcase_add_test(tc, test_one_at_a_time);
	tcase_add_test(tc, test_sync_done);
	tcase_add_test(tc, test_qmgr_gone);
	tcase_add_loop_test(tc, test_stop_busy, 0, 2);
	tcase_add_test(tc, test_stop_idle);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_set_timeout(bad, 30);
	tcase_add_loop_test(bad, test_bad_request, 0, ARRAY_LEN(bad_cases));
	suite_add_tcase(s, bad);
	return s;
}

TEST_MAIN(suite)
