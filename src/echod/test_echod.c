/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for echod.c: the service runs under server_main() in a forked
 * child (as master would start it, without -u), and each case sends bytes
 * on a fresh connection, half-closes, and compares everything echod sends
 * after its greeting.  On the UNIX socket, master's wakeup frame and other
 * frames are recognised and logged.
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
#include <unistd.h>

#include "buf.h"
#include "ipc.h"
#include "str.h"
#include "test_main.h"
#include "xalloc.h"

#include "master_proto.h"
#include "server.h"

#include "echod.h"

#define GREETING	"+OK echo.example echod ready\r\n"

static char dir[] = "/tmp/test_echod.XXXXXX";
static pid_t child;
static int master_end;
static unsigned port;

static const struct server_spec spec = {
	.name		= "echod",
	.post_jail	= echod_init,
	.on_connect	= echod_session_start,
};

static char *
path_in(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* Starts echod with fd 4 = TCP listener, fd 5 = UNIX listener. */
static void
setup(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	char *p, *sock = NULL;
	const char *err = NULL;
	int sv[2], tcp, unx;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	p = path_in("main.cf");
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "queue_directory = %s\ndata_directory = %s\n"
	    "maillog_file = %s/maillog\nmyhostname = echo.example\n",
	    dir, dir, dir);
	ck_assert_int_eq(fclose(f), 0);
	free(p);
	tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(tcp, -1);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(tcp, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(tcp, 16), 0);
	ck_assert_int_eq(getsockname(tcp, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	sock = path_in("echo.sock");
	unx = ipc_listen(sock, 16, 0600, &err);
	ck_assert_msg(unx != -1, "listen: %s", err);
	free(sock);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	fflush(NULL);
	child = fork();
	ck_assert_int_ne(child, -1);
	if (child == 0) {
		char *argv[] = { xstrdup("echod"), xstrdup("-n"),
		    xstrdup("echo"), xstrdup("-t"), xstrdup("inet"),
		    xstrdup("-s"), xstrdup("2"), xstrdup("-c"), xstrdup(dir),
		    NULL };
		int a = fcntl(sv[1], F_DUPFD, 20), b = fcntl(tcp, F_DUPFD, 20);
		int c = fcntl(unx, F_DUPFD, 20);

		if (a == -1 || b == -1 || c == -1 || dup2(a, 3) == -1 ||
		    dup2(b, 4) == -1 || dup2(c, 5) == -1)
			_exit(99);
		close_range(6, UINT_MAX, 0);
		_exit(server_main(&spec, 9, argv));
	}
	close(sv[1]);
	close(tcp);
	close(unx);
	master_end = sv[0];
}

static void
teardown(void)
{
	static const char *const files[] = { "main.cf", "maillog",
	    "echo.sock" };
	int st = 0;

	/* master closes the channel: the child must leave with 0. */
	close(master_end);
	for (int i = 0; i < 500 && waitpid(child, &st, WNOHANG) == 0; i++)
		poll(NULL, 0, 10);
	if (waitpid(child, NULL, WNOHANG) == 0) {
		kill(child, SIGKILL);
		waitpid(child, &st, 0);
		ck_abort_msg("echod did not exit");
	}
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char *p = path_in(files[i]);

		unlink(p);
		free(p);
	}
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int
dial_tcp(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ne(fd, -1);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static int
dial_unix(void)
{
	char *p = path_in("echo.sock");
	const char *err = NULL;
	int fd = ipc_connect(p, 5000, &err);

	ck_assert_msg(fd != -1, "connect: %s", err);
	free(p);
	return fd;
}

static void
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
			continue;
		}
		if (w == -1)
			return;		/* echod closed early: fine */
		p += w;
		n -= (size_t)w;
	}
}

/* Everything fd delivers until EOF (5 s at most). */
static void
read_all(int fd, struct buf *out)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char chunk[4096];

	for (;;) {
		ssize_t n;

		ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == ECONNRESET)
			return;
		ck_assert_int_ge(n, 0);
		if (n == 0)
			return;
		buf_add(out, chunk, (size_t)n);
	}
}

static bool
log_has(const char *needle)
{
	char *p = path_in("maillog"), text[8192];
	FILE *f = fopen(p, "r");
	size_t n;

	free(p);
	if (f == NULL)
		return false;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return strstr(text, needle) != NULL;
}

#define S(s)	s, sizeof(s) - 1
#define X100	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define X1000	X100 X100 X100 X100 X100 X100 X100 X100 X100 X100

static const struct {
	const char	*in;
	size_t		 in_len;
	const char	*out;
} cases[] = {
	{ S("hello\r\n"), "+OK hello\r\n" },
	{ S("hello\n"), "+OK hello\r\n" },
	{ S("a\nb\r\nquit\nc\n"), "+OK a\r\n+OK b\r\n+OK bye\r\n" },
	{ S("QuIt\r\n"), "+OK bye\r\n" },
	{ S("quit now\n"), "+OK quit now\r\n" },
	{ S("\n"), "+OK \r\n" },
	{ S("\r\n"), "+OK \r\n" },
	{ S("bad\x01\nok\n"), "-ERR bad characters\r\n+OK ok\r\n" },
	{ S("a\0b\n"), "-ERR bad characters\r\n" },
	{ S("\0\n"), "-ERR bad characters\r\n" },
	{ S("caf\xc3\xa9\n"), "-ERR bad characters\r\n" },
	{ S("a\rb\r\n"), "-ERR bad characters\r\n" },
	{ S("a\r\r\n"), "-ERR bad characters\r\n" },
	{ S("\tx\n"), "-ERR bad characters\r\n" },
	{ S("\x7f\n"), "-ERR bad characters\r\n" },
	{ S(X1000 "\n"), "+OK " X1000 "\r\n" },
	{ S(X1000 "\r\n"), "+OK " X1000 "\r\n" },
	{ S(X1000 "x\n"), "-ERR line too long\r\n" },
	{ S(X1000 "x\r\nquit\n"), "-ERR line too long\r\n" },
	{ S(X1000 X1000 X1000), "-ERR line too long\r\n" },
	{ S("partial"), "" },
	{ S(""), "" },
};

START_TEST(test_lines)
{
	struct buf out;
	int fd = dial_tcp();

	buf_init(&out, 0);
	send_all(fd, cases[_i].in, cases[_i].in_len);
	shutdown(fd, SHUT_WR);
	read_all(fd, &out);
	close(fd);
	ck_assert(str_has_prefix(buf_cstr(&out), GREETING));
	ck_assert_str_eq(buf_cstr(&out) + strlen(GREETING), cases[_i].out);
	buf_deinit(&out);
}
END_TEST

START_TEST(test_unix_text)
{
	struct buf out;
	int fd = dial_unix();

	buf_init(&out, 0);
	send_all(fd, S("hi\nquit\n"));
	read_all(fd, &out);
	close(fd);
	ck_assert_str_eq(buf_cstr(&out), GREETING "+OK hi\r\n+OK bye\r\n");
	buf_deinit(&out);
}
END_TEST

static const struct {
	const char	*in;
	size_t		 in_len;
	const char	*log;
} frames[] = {
	{ NULL, 0, "echod[" },		/* wakeup: see below */
	{ S("\0\0\0\x0e\x01\x07request\0\0\0\x00\0"),
	    "warning: unexpected request frame from unix" },
	{ S("\0\0\x04\x01"), "warning: bad frame from unix: frame too long" },
	{ S("\0\0\0\x20" "abc"), "warning: bad frame from unix: short frame" },
	{ S("\0"), "warning: bad frame from unix: short frame" },
	{ S("\0\0\0\x01\x09"),
	    "warning: unexpected request frame from unix" },
};

START_TEST(test_frames)
{
	struct buf frame, out;
	int fd = dial_unix();

	buf_init(&frame, 0);
	buf_init(&out, 0);
	if (frames[_i].in == NULL)
		master_proto_wakeup_frame(&frame);
	else
		buf_add(&frame, frames[_i].in, frames[_i].in_len);
	send_all(fd, frame.data, frame.len);
	shutdown(fd, SHUT_WR);
	read_all(fd, &out);
	close(fd);
	/* Only the greeting: a frame session never echoes. */
	ck_assert_str_eq(buf_cstr(&out), GREETING);
	for (int i = 0; i < 200 && !log_has("disconnect from unix"); i++)
		poll(NULL, 0, 10);
	ck_assert(log_has("disconnect from unix"));
	if (frames[_i].in == NULL) {
		ck_assert(log_has(": wakeup\n"));
		ck_assert(!log_has("warning"));
	} else {
		ck_assert(log_has(frames[_i].log));
		ck_assert(!log_has(": wakeup\n"));
	}
	buf_deinit(&frame);
	buf_deinit(&out);
}
END_TEST

START_TEST(test_wakeup_then_close)
{
	struct buf frame;
	int fd = dial_unix();

	/* As master does it: write the frame and close at once. */
	buf_init(&frame, 0);
	master_proto_wakeup_frame(&frame);
	send_all(fd, frame.data, frame.len);
	close(fd);
	for (int i = 0; i < 200 && !log_has("disconnect from unix"); i++)
		poll(NULL, 0, 10);
	ck_assert(log_has(": wakeup\n"));
	buf_deinit(&frame);
}
END_TEST

START_TEST(test_disconnect_log)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char want[64];
	struct buf out;
	int fd = dial_tcp();

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	buf_init(&out, 0);
	shutdown(fd, SHUT_WR);
	read_all(fd, &out);
	close(fd);
	str_fmt_buf(want, sizeof(want), "echod[%ld]: disconnect from "
	    "[127.0.0.1]:%u\n", (long)child, (unsigned)ntohs(sin.sin_port));
	for (int i = 0; i < 200 && !log_has(want); i++)
		poll(NULL, 0, 10);
	ck_assert_msg(log_has(want), "no \"%s\" in the log", want);
	buf_deinit(&out);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("echod");
	TCase *tc = tcase_create("protocol");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_lines, 0, ARRAY_LEN(cases));
	tcase_add_test(tc, test_unix_text);
	tcase_add_loop_test(tc, test_frames, 0, ARRAY_LEN(frames));
	tcase_add_test(tc, test_wakeup_then_close);
	tcase_add_test(tc, test_disconnect_log);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
