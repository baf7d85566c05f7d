/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for ipc.c, written as the pattern every service follows: a
 * typed client stub (echo_client_ping) over ipc_call, talking to a
 * server in a child process over a socketpair and over a real UNIX socket
 * in a temporary directory.  The server misbehaves on request: garbage,
 * a short frame, a too-long frame, an early close, silence, a reply that
 * does not match the stub's spec.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
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

enum mode {
	M_GOOD, M_GARBAGE, M_SHORT, M_LONG, M_CLOSE, M_SILENT, M_BADTYPE,
	M_TRAILING, M_MISSING,
};

/* ---- the example stub ---------------------------------------------- */

/*
 * Sends {request=ping, text, count}; the reply must be exactly
 * {text: STR, count: U64 <= 1000}.  *text_r is a heap copy.
 */
static int
echo_client_ping(const struct ipc_client *c, const char *text, uint64_t n,
    char **text_r, uint64_t *n_r, const char **err_r)
{
	const char *rtext = NULL;
	struct attr_spec spec[] = {
		ATTR_STR("text", &rtext),
		ATTR_U64_MAX("count", n_r, 1000),
		ATTR_END,
	};
	struct attr_writer w;
	struct buf req, reply;
	int rc = -1;

	buf_init(&req, 0);
	buf_init(&reply, 0);
	attr_frame_begin(&w, &req);
	attr_put_str(&w, "request", "ping");
	attr_put_str(&w, "text", text);
	attr_put_u64(&w, "count", n);
	if (attr_frame_end(&w, err_r) == 0 &&
	    ipc_call(c, &req, &reply, err_r) == 0 &&
	    attr_parse(reply.data, reply.len, spec, ATTR_PARSE_STRICT,
	    err_r) == 0) {
		*text_r = xstrdup(rtext);
		rc = 0;
	}
	buf_deinit(&req);
	buf_deinit(&reply);
	return rc;
}

/* ---- the server ------------------------------------------------------ */

static void
send_raw(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n)
		_exit(3);
}

/* Serves one request on fd as mode says; exits 0 when it went as planned. */
static _Noreturn void
serve(int fd, enum mode mode)
{
	const char *text = NULL, *req = NULL, *err;
	uint64_t count = 0;
	struct attr_spec spec[] = {
		ATTR_STR("request", &req),
		ATTR_STR("text", &text),
		ATTR_U64("count", &count),
		ATTR_END,
	};
	struct attr_writer w;
	struct buf in, out;

	buf_init(&in, 0);
	buf_init(&out, 0);
	if (attr_read_frame(fd, &in, 0, 5000, &err) == -1 ||
	    attr_parse(in.data, in.len, spec, ATTR_PARSE_STRICT, &err) == -1 ||
	    !str_eq(req, "ping"))
		_exit(2);
	attr_frame_begin(&w, &out);
	switch (mode) {
	case M_BADTYPE:
		attr_put_i64(&w, "text", 1);
		attr_put_u64(&w, "count", count + 1);
		break;
	case M_MISSING:
		attr_put_str(&w, "text", text);
		break;
	default:
		attr_put_str(&w, "text", text);
		attr_put_u64(&w, "count", count + 1);
		break;
	}
	if (attr_frame_end(&w, &err) == -1)
		_exit(2);
	switch (mode) {
	case M_GOOD:
	case M_BADTYPE:
	case M_MISSING:
		send_raw(fd, out.data, out.len);
		break;
	case M_GARBAGE:
		send_raw(fd, "HELLO WORLD\r\n", 13);
		break;
	case M_SHORT:
		send_raw(fd, out.data, out.len - 1);
		break;
	case M_LONG:
		send_raw(fd, "\x00\x20\x00\x00", 4);
		break;
	case M_CLOSE:
		break;
	case M_SILENT:
		pause();
		break;
	case M_TRAILING:
		/* One byte more in the body than the fields use. */
		out.data[3]++;
		send_raw(fd, out.data, out.len);
		send_raw(fd, "\x01", 1);
		break;
	}
	_exit(0);
}

static const struct {
	enum mode	 mode;
	const char	*err;		/* NULL: the call succeeds */
} modes[] = {
	{ M_GOOD, NULL },
	{ M_GARBAGE, "frame too long" },
	{ M_SHORT, "short frame" },
	{ M_LONG, "frame too long" },
	{ M_CLOSE, "connection closed" },
	{ M_SILENT, "timed out" },
	{ M_BADTYPE, "field \"text\": wrong type" },
	{ M_TRAILING, "trailing bytes" },
	{ M_MISSING, "missing field \"count\"" },
};

static void
reap(pid_t pid)
{
	int status;

	/*
	 * SIGKILL: check's SIGTERM handler, inherited by the server, would
	 * take the whole process group down.
	 */
	(void)kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	/* Either done as planned, or still silent when stopped. */
	ck_assert(status == 0 || (WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGKILL));
}

static void
check_result(int i, int rc, const char *err, char *text, uint64_t n)
{
	if (modes[i].err == NULL) {
		ck_assert_msg(rc == 0, "unexpected error: %s", err);
		ck_assert_str_eq(text, "hello");
		ck_assert_uint_eq(n, 42);
		free(text);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, modes[i].err);
	}
}

START_TEST(test_socketpair)
{
	struct ipc_client c = { .path = NULL, .timeout_ms = 300 };
	const char *err = NULL;
	char *text = NULL;
	uint64_t n = 0;
	int sv[2], rc;
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		close(sv[0]);
		serve(sv[1], modes[_i].mode);
	}
	close(sv[1]);
	c.fd = sv[0];
	rc = echo_client_ping(&c, "hello", 41, &text, &n, &err);
	check_result(_i, rc, err, text, n);
	close(sv[0]);
	reap(pid);
}
END_TEST

/* A private directory for sockets; removed by rm_tmpdir. */
static char *
mk_tmpdir(void)
{
	char *dir = xstrdup("/tmp/tern-test-ipc.XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static void
rm_tmpdir(char *dir, const char *sock)
{
	char *p = xasprintf("%s/%s", dir, sock);

	(void)unlink(p);
	ck_assert_int_eq(rmdir(dir), 0);
	free(p);
	free(dir);
}

START_TEST(test_unix_socket)
{
	char *dir = mk_tmpdir();
	char *path = xasprintf("%s/echo", dir);
	struct ipc_client c = { .path = path, .timeout_ms = 300 };
	const char *err = NULL;
	char *text = NULL;
	uint64_t n = 0;
	struct stat st;
	int lfd, fd, rc;
	pid_t pid;

	lfd = ipc_listen(path, 4, 0660, &err);
	ck_assert_msg(lfd != -1, "%s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		fd = accept(lfd, NULL, NULL);
		if (fd == -1)
			_exit(4);
		serve(fd, modes[_i].mode);
	}
	close(lfd);
	rc = echo_client_ping(&c, "hello", 41, &text, &n, &err);
	check_result(_i, rc, err, text, n);
	reap(pid);
	free(path);
	rm_tmpdir(dir, "echo");
}
END_TEST

START_TEST(test_connect_errors)
{
	char *dir = mk_tmpdir();
	char *path = xasprintf("%s/sock", dir);
	char *want = xasprintf("connect %s: No such file or directory", path);
	char longpath[200];
	const char *err = NULL;
	int fd, lfd, fds[16];
	size_t i;

	ck_assert_int_eq(ipc_connect(path, 100, &err), -1);
	ck_assert_str_eq(err, want);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_eq(ipc_connect(longpath, 100, &err), -1);
	ck_assert_str_eq(err, "bad socket path length");
	ck_assert_int_eq(ipc_connect("", 100, &err), -1);
	ck_assert_str_eq(err, "bad socket path length");

	/* A regular file in the way is never replaced by ipc_listen. */
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	ck_assert_int_ne(fd, -1);
	close(fd);
	ck_assert_int_eq(ipc_listen(path, 1, 0600, &err), -1);
	free(want);
	want = xasprintf("%s exists and is not a socket", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(unlink(path), 0);

	/* Nobody accepts: once the backlog is full, connect times out. */
	lfd = ipc_listen(path, 0, 0600, &err);
	ck_assert_int_ne(lfd, -1);
	for (i = 0; i < ARRAY_LEN(fds); i++) {
		fds[i] = ipc_connect(path, 50, &err);
		if (fds[i] == -1)
			break;
	}
	ck_assert_uint_lt(i, ARRAY_LEN(fds));
	ck_assert_str_eq(err, "connect timed out");
	while (i-- > 0)
		close(fds[i]);
	/* A stale socket is replaced. */
	close(lfd);
	lfd = ipc_listen(path, 1, 0600, &err);
	ck_assert_int_ne(lfd, -1);
	close(lfd);
	free(want);
	free(path);
	rm_tmpdir(dir, "sock");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("ipc");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_socketpair, 0, ARRAY_LEN(modes));
	tcase_add_loop_test(tc, test_unix_socket, 0, ARRAY_LEN(modes));
	tcase_add_test(tc, test_connect_errors);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
