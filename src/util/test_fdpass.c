/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for fdpass.c: descriptors arrive usable and close-on-exec;
 * too few, too many, late or truncated descriptors are refused and none
 * leak; frames travel with their descriptors.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "fdpass.h"
#include "test_main.h"

/* Open descriptors of this process (less the one opendir uses). */
static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

static void
pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
}

START_TEST(test_pass_pipe)
{
	int sv[2], p[2], got[2];
	const char *err = NULL;
	char c = 0, buf[8];

	pair(sv);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fdpass_send(sv[0], "xy", 2, p, 2, 1000, &err), 0);
	ck_assert_int_eq(fdpass_recv(sv[1], buf, 2, got, 2, 1000, &err), 0);
	ck_assert_int_eq(memcmp(buf, "xy", 2), 0);
	ck_assert_int_eq(fcntl(got[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(fcntl(got[1], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	/* They are the same pipe. */
	ck_assert_int_eq(write(got[1], "z", 1), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(c, 'z');
	close(got[0]);
	close(got[1]);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* sent descriptors, expected descriptors, error */
static const struct {
	size_t		 send;
	size_t		 expect;
	const char	*err;
} counts[] = {
	{ 0, 0, NULL },
	{ 1, 1, NULL },
	{ FDPASS_MAX, FDPASS_MAX, NULL },
	{ 0, 1, "expected 1 descriptors, got 0" },
	{ 2, 1, "expected 1 descriptors, got 2" },
	{ 1, 0, "expected 0 descriptors, got 1" },
	{ FDPASS_MAX, 1, "expected 1 descriptors, got 8" },
};

START_TEST(test_counts)
{
	int sv[2], fds[FDPASS_MAX], got[FDPASS_MAX];
	const char *err = NULL;
	char c;
	int before, rc;

	pair(sv);
	for (size_t i = 0; i < FDPASS_MAX; i++)
		fds[i] = sv[0];
	before = count_fds();
	ck_assert_int_eq(fdpass_send(sv[0], "a", 1, fds, counts[_i].send,
	    1000, &err), 0);
	rc = fdpass_recv(sv[1], &c, 1, got, counts[_i].expect, 1000, &err);
	if (counts[_i].err == NULL) {
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(count_fds(), before + (int)counts[_i].send);
		for (size_t i = 0; i < counts[_i].expect; i++)
			close(got[i]);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, counts[_i].err);
	}
	/* Whatever happened, nothing leaked. */
	ck_assert_int_eq(count_fds(), before);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_ctrunc)
{
	int sv[2], fds[FDPASS_MAX + 1], got[1];
	const char *err = NULL;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(fds))];
	} cs;
	struct msghdr msg = { 0 };
	struct iovec iov = { .iov_base = (char[]){ 'a' }, .iov_len = 1 };
	struct cmsghdr *c;
	int before;
	char ch;

	pair(sv);
	for (size_t i = 0; i < ARRAY_LEN(fds); i++)
		fds[i] = sv[0];
	/* More descriptors than the receiver has room for. */
	memset(&cs, 0, sizeof(cs));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cs.buf;
	msg.msg_controllen = sizeof(cs.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	ck_assert_int_eq(sendmsg(sv[0], &msg, 0), 1);
	before = count_fds();
	ck_assert_int_eq(fdpass_recv(sv[1], &ch, 1, got, 1, 1000, &err), -1);
	ck_assert_str_eq(err, "control data truncated");
	ck_assert_int_eq(count_fds(), before);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_late_descriptor)
{
	int sv[2], got[1];
	const char *err = NULL;
	char buf[2];
	int before, status;
	pid_t pid;

	pair(sv);
	before = count_fds();
	ck_assert_int_eq(write(sv[0], "a", 1), 1);
	ck_assert_int_eq(fdpass_recv(sv[1], buf, 1, got, 0, 1000, &err), 0);
	/* The next read sees a descriptor nobody asked for. */
	ck_assert_int_eq(fdpass_send(sv[0], "b", 1, &sv[0], 1, 1000, &err), 0);
	ck_assert_int_eq(fdpass_recv(sv[1], buf, 1, got, 0, 1000, &err), -1);
	ck_assert_str_eq(err, "expected 0 descriptors, got 1");
	ck_assert_int_eq(count_fds(), before);
	/*
	 * Descriptors that arrive after the first byte are refused: a child
	 * sends the second byte with one once the first has been read.
	 */
	ck_assert_int_eq(write(sv[0], "c", 1), 1);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		usleep(100 * 1000);
		_exit(fdpass_send(sv[0], "d", 1, &sv[0], 1, 1000, &err) == 0 ?
		    0 : 1);
	}
	ck_assert_int_eq(fdpass_recv(sv[1], buf, 2, got, 0, 2000, &err), -1);
	ck_assert_str_eq(err, "descriptors after the first byte");
	ck_assert_int_eq(count_fds(), before);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_eof_and_timeout)
{
	int sv[2], got[1];
	const char *err = NULL;
	char buf[4];

	pair(sv);
	ck_assert_int_eq(fdpass_recv(sv[1], buf, 4, got, 0, 50, &err), -1);
	ck_assert_str_eq(err, "timed out");
	ck_assert_int_eq(write(sv[0], "ab", 2), 2);
	close(sv[0]);
	ck_assert_int_eq(fdpass_recv(sv[1], buf, 4, got, 0, 1000, &err), -1);
	ck_assert_str_eq(err, "short read");
	ck_assert_int_eq(fdpass_recv(sv[1], buf, 4, got, 0, 1000, &err), -1);
	ck_assert_str_eq(err, "connection closed");
	close(sv[1]);
}
END_TEST

START_TEST(test_frame_with_fd)
{
	int sv[2], p[2], got[1], before;
	struct attr_writer w;
	struct buf out, body;
	const char *err = NULL, *qid = NULL;
	struct attr_spec spec[] = { ATTR_STR("queue_id", &qid), ATTR_END };

	pair(sv);
	ck_assert_int_eq(pipe(p), 0);
	buf_init(&out, 0);
	buf_init(&body, 0);
	attr_frame_begin(&w, &out);
	attr_put_str(&w, "queue_id", "4bX2abc");
	ck_assert_int_eq(attr_frame_end(&w, &err), 0);
	ck_assert_int_eq(fdpass_send_frame(sv[0], &out, &p[1], 1, 1000, &err),
	    0);
	ck_assert_int_eq(fdpass_recv_frame(sv[1], &body, 0, got, 1, 1000,
	    &err), 0);
	ck_assert_int_eq(attr_parse(body.data, body.len, spec, 0, &err), 0);
	ck_assert_str_eq(qid, "4bX2abc");
	ck_assert_int_eq(write(got[0], "!", 1), 1);
	close(got[0]);

	/* Too long for the reader: refused, and the descriptor closed. */
	before = count_fds();
	ck_assert_int_eq(fdpass_send_frame(sv[0], &out, &p[1], 1, 1000, &err),
	    0);
	ck_assert_int_eq(fdpass_recv_frame(sv[1], &body, 4, got, 1, 1000,
	    &err), -1);
	ck_assert_str_eq(err, "frame too long");
	ck_assert_int_eq(count_fds(), before);
	close(sv[1]);

	/* A frame cut short after its header. */
	pair(sv);
	ck_assert_int_eq(fdpass_send(sv[0], out.data, out.len - 1, &p[1], 1,
	    1000, &err), 0);
	close(sv[0]);
	ck_assert_int_eq(fdpass_recv_frame(sv[1], &body, 0, got, 1, 1000,
	    &err), -1);
	ck_assert_str_eq(err, "short frame");
	ck_assert_int_eq(count_fds(), before);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
	buf_deinit(&out);
	buf_deinit(&body);
}
END_TEST

START_TEST(test_too_many_panics)
{
	int fds[FDPASS_MAX + 1] = { 0 };
	const char *err;

	ck_assert_int_eq(fdpass_send(0, "a", 1, fds, ARRAY_LEN(fds), 0, &err),
	    0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("fdpass");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_pass_pipe);
	tcase_add_loop_test(tc, test_counts, 0, ARRAY_LEN(counts));
	tcase_add_test(tc, test_ctrunc);
	tcase_add_test(tc, test_late_descriptor);
	tcase_add_test(tc, test_eof_and_timeout);
	tcase_add_test(tc, test_frame_with_fd);
	tcase_add_test_raise_signal(tc, test_too_many_panics, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
