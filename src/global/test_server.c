/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for server.c: a forked child runs server_main() with the
 * descriptor layout of master_proto.h against a temporary instance (no -u,
 * so no privilege change, as root or not), and the test plays master and
 * client: sessions reach on_connect, status frames follow the session
 * count, the process leaves when master closes the channel, on SIGTERM,
 * after max_use and max_idle, and refuses a hostile argv or descriptors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
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
#include "ipc.h"
#include "log.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "master_proto.h"
#include "server.h"

static char dir[] = "/tmp/test_server.XXXXXX";
static char *sock_path;

/* The daemon under test. */

static void
t_read(evutil_socket_t fd, short what, void *arg)
{
	struct event *ev = arg;
	char junk[64];
	ssize_t n;

	(void)what;
	n = read(fd, junk, sizeof(junk));
	if (n > 0 || (n == -1 && errno == EAGAIN))
		return;
	event_free(ev);
	close(fd);
	server_session_done();
}

static void
t_connect(int fd, const struct server_peer *p)
{
	char line[256];
	struct event *ev;

	str_fmt_buf(line, sizeof(line), "hi %s %u %s/%s %zu %s\n", p->addr,
	    p->port, p->service, p->type, server_args()->n,
	    server_stopping() ? "last" : "more");
	if (write(fd, line, strlen(line)) == -1)
		log_warn("write: %s", strerror(errno));
	ev = event_new(server_event_base(), fd, EV_READ | EV_PERSIST, t_read,
	    event_self_cbarg());
	if (ev == NULL || event_add(ev, NULL) == -1)
		fatal("event");
}

static void
t_stop(void)
{
	log_info("on_stop called");
}

static const struct server_spec t_spec = {
	.name		= "test_server",
	.on_connect	= t_connect,
	.on_stop	= t_stop,
};

/* As qmgr and anvil: max_use and max_idle do not apply. */
static const struct server_spec t_resident = {
	.name		= "test_server",
	.on_connect	= t_connect,
	.resident	= true,
	.on_stop	= t_stop,
};

/* On stop, work that is not a session holds the process for 400 ms. */
static void
t_release(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_free(arg);
	log_info("released");
	server_release();
}

static void
t_stop_hold(void)
{
	struct event *ev = evtimer_new(server_event_base(), t_release,
	    event_self_cbarg());
	struct timeval tv = { 0, 400000 };

	if (ev == NULL || evtimer_add(ev, &tv) == -1)
		fatal("event");
	server_hold();
}

static const struct server_spec t_hold = {
	.name		= "test_server",
	.on_connect	= t_connect,
	.on_stop	= t_stop_hold,
};

/* The spec the next spawn runs. */
static const struct server_spec *spawn_spec = &t_spec;

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
	sock_path = path_in("listen.sock");
}

static void
teardown(void)
{
	static const char *const files[] = { "main.cf", "maillog",
	    "listen.sock" };
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
}

/* Forks the service with fd 3 = status_fd and fd 4 = listen_fd. */
static pid_t
spawn(const char *const *args, int status_fd, int listen_fd)
{
	char *argv[32];
	int argc = 0, a, b, null;
	pid_t pid;

	for (const char *const *p = args; *p != NULL; p++)
		ck_assert_int_lt(argc++, (int)ARRAY_LEN(argv) - 2);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid > 0)
		return pid;
	/* The child's own copies; it never returns here. */
	argc = 0;
	argv[argc++] = xstrdup("test_server");
	for (const char *const *p = args; *p != NULL; p++)
		argv[argc++] = xstrdup(*p);
	argv[argc] = NULL;
	a = fcntl(status_fd, F_DUPFD, 20);
	b = fcntl(listen_fd, F_DUPFD, 20);
	null = open("/dev/null", O_RDWR);
	if (a == -1 || b == -1 || null == -1 || dup2(a, 3) == -1 ||
	    dup2(b, 4) == -1 || dup2(null, 2) == -1)
		_exit(99);
	/* Nothing else open, as master promises (our end in particular). */
	close_range(5, UINT_MAX, 0);
	optind = 1;
	_exit(server_main(spawn_spec, argc, argv));
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
assert_exit(pid_t pid, int code)
{
	int st = wait_exit(pid, 5000);

	ck_assert_msg(st != -1, "child did not exit");
	ck_assert_msg(WIFEXITED(st), "child died by signal %d",
	    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	if (code >= 0)
		ck_assert_int_eq(WEXITSTATUS(st), code);
	else
		ck_assert_int_ne(WEXITSTATUS(st), 0);
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

/* Reads a line (up to \n) from fd within 5 s. */
static void
read_line(int fd, char *line, size_t size)
{
	size_t len = 0;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (len + 1 < size) {
		ssize_t n;

		ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
		n = read(fd, line + len, 1);
		ck_assert_int_eq(n, 1);
		if (line[len++] == '\n')
			break;
	}
	line[len] = '\0';
}

static int
listen_unix(void)
{
	const char *err = NULL;
	int fd = ipc_listen(sock_path, 16, 0600, &err);

	ck_assert_msg(fd != -1, "listen: %s", err);
	return fd;
}

static int
listen_inet(unsigned *port_r)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ne(fd, -1);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port_r = ntohs(sin.sin_port);
	return fd;
}

static int
dial(bool inet, unsigned port)
{
	const char *err = NULL;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd;

	if (!inet) {
		fd = ipc_connect(sock_path, 5000, &err);
		ck_assert_msg(fd != -1, "connect: %s", err);
		return fd;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static bool
log_has(const char *needle)
{
	char *p = path_in("maillog"), text[8192];
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

/* A started service: child, master end, listener. */
struct svc {
	pid_t		pid;
	int		master;
	int		listener;
	unsigned	port;
	bool		inet;
};

static void
svc_start(struct svc *s, bool inet, const char *const *extra)
{
	const char *args[24] = { "-n", "svc", "-t", inet ? "inet" : "unix",
	    "-s", "1", "-c", dir };
	size_t n = 8;
	int sv[2];

	for (; extra != NULL && *extra != NULL; extra++) {
		ck_assert_uint_lt(n, ARRAY_LEN(args) - 1);
		args[n++] = *extra;
	}
	args[n] = NULL;
	s->inet = inet;
	s->port = 0;
	s->listener = inet ? listen_inet(&s->port) : listen_unix();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	s->pid = spawn(args, sv[1], s->listener);
	close(sv[1]);
	s->master = sv[0];
}

/* Connects and checks the greeting; returns the client socket. */
static int
svc_session(struct svc *s, const char *last)
{
	char line[256], want[256];
	int fd = dial(s->inet, s->port);

	read_line(fd, line, sizeof(line));
	if (s->inet)
		ck_assert(str_has_prefix(line, "hi 127.0.0.1 "));
	else
		ck_assert_str_eq(line, str_fmt_buf(want, sizeof(want),
		    "hi unix 0 svc/unix 0 %s\n", last));
	return fd;
}

START_TEST(test_sessions)
{
	const char *const extra[] = { "arg1", "arg2", NULL };
	char line[256], want[256];
	struct svc s;
	int c1, c2;

	svc_start(&s, _i == 1, NULL);
	/* Two overlapping sessions: one busy, one avail. */
	c1 = svc_session(&s, "more");
	ck_assert_int_eq(read_status(s.master), 1);
	c2 = svc_session(&s, "more");
	close(c1);
	close(c2);
	ck_assert_int_eq(read_status(s.master), 0);
	c1 = svc_session(&s, "more");
	ck_assert_int_eq(read_status(s.master), 1);
	close(c1);
	ck_assert_int_eq(read_status(s.master), 0);
	/* master closes the channel: stop at once without sessions. */
	close(s.master);
	assert_exit(s.pid, 0);
	ck_assert(log_has("on_stop called"));
	close(s.listener);
	unlink(sock_path);

	/* Arguments after the options; the peer's address and port. */
	svc_start(&s, true, extra);
	c1 = dial(true, s.port);
	read_line(c1, line, sizeof(line));
	{
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);

		ck_assert_int_eq(getsockname(c1, (struct sockaddr *)&sin,
		    &len), 0);
		ck_assert_str_eq(line, str_fmt_buf(want, sizeof(want),
		    "hi 127.0.0.1 %u svc/inet 2 more\n",
		    (unsigned)ntohs(sin.sin_port)));
	}
	close(c1);
	close(s.master);
	assert_exit(s.pid, 0);
	close(s.listener);
}
END_TEST

START_TEST(test_stop_then_session_ends)
{
	struct svc s;
	int c, st;

	svc_start(&s, false, NULL);
	c = svc_session(&s, "more");
	ck_assert_int_eq(read_status(s.master), 1);
	close(s.master);
	poll(NULL, 0, 100);
	ck_assert_int_eq(waitpid(s.pid, &st, WNOHANG), 0);
	ck_assert(log_has("stopping (master closed the status channel) "
	    "with 1 session in progress"));
	close(c);
	assert_exit(s.pid, 0);
	close(s.listener);
}
END_TEST

START_TEST(test_max_use)
{
	const char *const extra[] = { "-o", "max_use=1", NULL };
	struct svc s;
	int c, st;

	svc_start(&s, false, extra);
	c = svc_session(&s, "last");
	ck_assert_int_eq(read_status(s.master), 1);
	poll(NULL, 0, 50);
	ck_assert_int_eq(waitpid(s.pid, &st, WNOHANG), 0);
	close(c);
	/* No avail: the process leaves instead. */
	ck_assert_int_eq(read_status(s.master), -1);
	assert_exit(s.pid, 0);
	close(s.master);
	close(s.listener);
}
END_TEST

START_TEST(test_resident)
{
	const char *const extra[] = { "-o", "max_use=1", "-o", "max_idle=1",
	    NULL };
	struct svc s;
	int st;

	spawn_spec = &t_resident;
	svc_start(&s, false, extra);
	/* Three sessions past max_use, each leaving the process available. */
	for (int i = 0; i < 3; i++) {
		close(svc_session(&s, "more"));
		ck_assert_int_eq(read_status(s.master), 1);
		ck_assert_int_eq(read_status(s.master), 0);
	}
	/* And idle for longer than max_idle. */
	poll(NULL, 0, 1500);
	ck_assert_int_eq(waitpid(s.pid, &st, WNOHANG), 0);
	close(svc_session(&s, "more"));
	ck_assert_int_eq(read_status(s.master), 1);
	ck_assert_int_eq(read_status(s.master), 0);
	close(s.master);
	assert_exit(s.pid, 0);
	close(s.listener);
	spawn_spec = &t_spec;
}
END_TEST

START_TEST(test_hold)
{
	struct svc s;
	int st;

	spawn_spec = &t_hold;
	svc_start(&s, false, NULL);
	close(svc_session(&s, "more"));
	ck_assert_int_eq(read_status(s.master), 1);
	ck_assert_int_eq(read_status(s.master), 0);
	/* No session, but held: alive until the release. */
	close(s.master);
	poll(NULL, 0, 150);
	ck_assert_int_eq(waitpid(s.pid, &st, WNOHANG), 0);
	ck_assert(!log_has("released"));
	assert_exit(s.pid, 0);
	ck_assert(log_has("released"));
	close(s.listener);
	spawn_spec = &t_spec;
}
END_TEST

START_TEST(test_sigterm)
{
	struct svc s;

	svc_start(&s, false, NULL);
	/* One session proves the loop runs (and SIGTERM is handled). */
	close(svc_session(&s, "more"));
	ck_assert_int_eq(read_status(s.master), 1);
	ck_assert_int_eq(read_status(s.master), 0);
	ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
	assert_exit(s.pid, 0);
	ck_assert(log_has("on_stop called"));
	close(s.master);
	close(s.listener);
}
END_TEST

START_TEST(test_max_idle)
{
	const char *const extra[] = { "-o", "max_idle=1", NULL };
	struct svc s;

	svc_start(&s, false, extra);
	assert_exit(s.pid, 0);
	/* Idle exit is not a stop request from master. */
	ck_assert(!log_has("on_stop called"));
	ck_assert_int_eq(read_status(s.master), -1);
	close(s.master);
	close(s.listener);
}
END_TEST

enum fd_kind { FD_GOOD, FD4_NULL, FD4_NOLISTEN, FD3_NULL };

static const struct {
	const char	*args[10];
	enum fd_kind	 fds;
} bad_argv[] = {
	{ { "-n", "svc", "-t", "unix", NULL }, FD_GOOD },	/* no -s */
	{ { "-t", "unix", "-s", "1", NULL }, FD_GOOD },		/* no -n */
	{ { "-n", "svc", "-s", "1", NULL }, FD_GOOD },		/* no -t */
	{ { "-n", "svc", "-t", "unix", "-s", "0", NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s", "65", NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s", "-1", NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s", "abc", NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s", "", NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s", "1x", NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s", " 1", NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s",
	    "18446744073709551617", NULL }, FD_GOOD },
	{ { "-n", "", "-t", "unix", "-s", "1", NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s", "1", "-x", NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s", "1", "-o", NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s", "1", "-o", "max_use=0",
	    NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s", "1", "-o", "max_use=abc",
	    NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s", "1", "-o", "max_idle=1\n",
	    NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s", "2", NULL }, FD_GOOD },
	{ { "-n", "svc", "-t", "unix", "-s", "1", NULL }, FD4_NULL },
	{ { "-n", "svc", "-t", "unix", "-s", "1", NULL }, FD4_NOLISTEN },
	{ { "-n", "svc", "-t", "unix", "-s", "1", NULL }, FD3_NULL },
	{ { "-n", "svc", "-t", "unix", "-s", "1", "-c", "/nonexistent/x",
	    NULL }, FD_GOOD },
};

START_TEST(test_bad_argv)
{
	const char *args[16];
	size_t n = 0;
	int sv[2], pair[2], null, status_fd, listen_fd;
	bool has_c = false;
	pid_t pid;

	for (const char *const *a = bad_argv[_i].args; *a != NULL; a++) {
		has_c |= str_eq(*a, "-c");
		args[n++] = *a;
	}
	if (!has_c) {
		/* -c first, so that a dangling -o stays last. */
		memmove(args + 2, args, n * sizeof(args[0]));
		args[0] = "-c";
		args[1] = dir;
		n += 2;
	}
	args[n] = NULL;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    pair), 0);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_ne(null, -1);
	status_fd = bad_argv[_i].fds == FD3_NULL ? null : sv[1];
	switch (bad_argv[_i].fds) {
	case FD4_NULL:
		listen_fd = null;
		break;
	case FD4_NOLISTEN:
		listen_fd = pair[0];
		break;
	default:
		listen_fd = listen_unix();
		break;
	}
	pid = spawn(args, status_fd, listen_fd);
	assert_exit(pid, -1);
	/* A refused start never claims to be busy or available. */
	close(sv[1]);
	ck_assert_int_eq(read_status(sv[0]), -1);
	close(sv[0]);
	close(pair[0]);
	close(pair[1]);
	close(null);
	if (listen_fd != null && listen_fd != pair[0])
		close(listen_fd);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("server");
	TCase *tc = tcase_create("lifecycle");
	TCase *bad = tcase_create("hostile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_sessions, 0, 2);
	tcase_add_test(tc, test_stop_then_session_ends);
	tcase_add_test(tc, test_max_use);
	tcase_add_test(tc, test_resident);
	tcase_add_test(tc, test_hold);
	tcase_add_test(tc, test_sigterm);
	tcase_add_test(tc, test_max_idle);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_set_timeout(bad, 30);
	tcase_add_loop_test(bad, test_bad_argv, 0, ARRAY_LEN(bad_argv));
	suite_add_tcase(s, bad);
	return s;
}

TEST_MAIN(suite)
