/* SPDX-License-Identifier: MIT */
/*
 * Descriptor passing with SCM_RIGHTS and strict receive checks; see
 * fdpass.h.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "fdpass.h"
#include "log.h"
#include "str.h"

static char fdpass_errbuf[160];

static int
fail(const char **err_r, const char *msg)
{
	*err_r = msg;
	return -1;
}

static int
fail_errno(const char **err_r, const char *what)
{
	snprintf(fdpass_errbuf, sizeof(fdpass_errbuf), "%s: %s", what,
	    strerror(errno));
	return fail(err_r, fdpass_errbuf);
}

static void
close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] != -1) {
			(void)close(fds[i]);
			fds[i] = -1;
		}
}

union cmsg_space {
	struct cmsghdr	hdr;
	char		buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
};

int
fdpass_send(int sock, const void *data, size_t len, const int *fds,
    size_t nfds, int timeout_ms, const char **err_r)
{
	int64_t deadline = attr_deadline(timeout_ms);
	union cmsg_space cs;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *c;
	const char *p = data;
	ssize_t n;

	if (len == 0 || nfds > FDPASS_MAX)
		panic("fdpass_send: len %zu, %zu descriptors", len, nfds);
	while (len > 0) {
		memset(&msg, 0, sizeof(msg));
		/* SECURITY: the cast only feeds sendmsg, which never writes. */
		iov.iov_base = (void *)(uintptr_t)p;
		iov.iov_len = len;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (nfds > 0) {
			memset(&cs, 0, sizeof(cs));
			msg.msg_control = cs.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		if (attr_wait(sock, POLLOUT, deadline, err_r) == -1)
			return -1;
		n = sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				continue;
			return fail_errno(err_r, "sendmsg");
		}
		/* The descriptors went with the first byte sent. */
		nfds = 0;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Collects the descriptors of one received message into fds_r (room for
 * FDPASS_MAX) and counts them in *got_r; -1 on anything but SCM_RIGHTS or
 * truncation, with every descriptor closed.
 */
static int
collect(struct msghdr *msg, int *fds_r, size_t *got_r, const char **err_r)
{
	struct cmsghdr *c;
	size_t n;
	int bad = 0;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			bad = 1;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (*got_r < FDPASS_MAX)
				fds_r[(*got_r)++] = fd;
			else
				(void)close(fd);
		}
	}
	if (msg->msg_flags & MSG_CTRUNC) {
		close_all(fds_r, *got_r);
		return fail(err_r, "control data truncated");
	}
	if (bad) {
		close_all(fds_r, *got_r);
		return fail(err_r, "unexpected control message");
	}
	return 0;
}

int
fdpass_recv(int sock, void *data, size_t len, int *fds_r, size_t nfds,
    int timeout_ms, const char **err_r)
{
	int64_t deadline = attr_deadline(timeout_ms);
	int fds[FDPASS_MAX];
	union cmsg_space cs;
	struct msghdr msg;
	struct iovec iov;
	size_t done = 0, got = 0;
	ssize_t n;

	if (len == 0 || nfds > FDPASS_MAX)
		panic("fdpass_recv: len %zu, %zu descriptors", len, nfds);
	while (done < len) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = (char *)data + done;
		iov.iov_len = len - done;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cs.buf;
		msg.msg_controllen = sizeof(cs.buf);
		if (attr_wait(sock, POLLIN, deadline, err_r) == -1)
			goto fail;
		n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				continue;
			(void)fail_errno(err_r, "recvmsg");
			goto fail;
		}
		if (done > 0 && msg.msg_controllen > 0) {
			size_t late = 0;
			int extra[FDPASS_MAX];

			if (collect(&msg, extra, &late, err_r) == 0) {
				close_all(extra, late);
				*err_r = "descriptors after the first byte";
			}
			goto fail;
		}
		if (done == 0 && collect(&msg, fds, &got, err_r) == -1)
			return -1;
		if (n == 0) {
			*err_r = done == 0 ? "connection closed" : "short read";
			goto fail;
		}
		done += (size_t)n;
	}
	if (got != nfds) {
		snprintf(fdpass_errbuf, sizeof(fdpass_errbuf),
		    "expected %zu descriptors, got %zu", nfds, got);
		*err_r = fdpass_errbuf;
		goto fail;
	}
	if (nfds > 0)
		memcpy(fds_r, fds, sizeof(int) * nfds);
	return 0;
fail:
	close_all(fds, got);
	return -1;
}

int
fdpass_send_frame(int sock, const struct buf *frame, const int *fds,
    size_t nfds, int timeout_ms, const char **err_r)
{
	return fdpass_send(sock, frame->data, frame->len, fds, nfds,
	    timeout_ms, err_r);
}

int
fdpass_recv_frame(int sock, struct buf *body, size_t max, int *fds_r,
    size_t nfds, int timeout_ms, const char **err_r)
{
	int64_t deadline = attr_deadline(timeout_ms);
	unsigned char hdr[ATTR_HDR_LEN];
	char chunk[16384];
	int64_t left;
	size_t n, want;
	int fds[FDPASS_MAX];

	if (max == 0 || max > ATTR_FRAME_MAX)
		max = ATTR_FRAME_MAX;
	buf_reset(body);
	if (fdpass_recv(sock, hdr, sizeof(hdr), fds, nfds, timeout_ms,
	    err_r) == -1) {
		if (str_eq(*err_r, "short read"))
			*err_r = "short frame";
		return -1;
	}
	n = attr_hdr_decode(hdr);
	if (n > max || n > body->max) {
		*err_r = "frame too long";
		goto fail;
	}
	while (n > 0) {
		want = n < sizeof(chunk) ? n : sizeof(chunk);
		left = deadline < 0 ? -1 : deadline - attr_deadline(0);
		if (deadline >= 0 && left < 0)
			left = 0;
		if (fdpass_recv(sock, chunk, want, NULL, 0,
		    left > INT32_MAX ? INT32_MAX : (int)left, err_r) == -1) {
			if (str_eq(*err_r, "short read") ||
			    str_eq(*err_r, "connection closed"))
				*err_r = "short frame";
			goto fail;
		}
		buf_add(body, chunk, want);
		n -= want;
	}
	if (nfds > 0)
		memcpy(fds_r, fds, sizeof(int) * nfds);
	return 0;
fail:
	close_all(fds, nfds);
	return -1;
}
