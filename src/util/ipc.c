/* SPDX-License-Identifier: MIT */
/*
 * Request/reply client plumbing over UNIX sockets for the per-service
 * stubs, and the matching listener helper; see ipc.h.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "ipc.h"

/* Pause between connect attempts while the listen backlog is full. */
#define IPC_RETRY_MS	10

static char ipc_errbuf[PATH_MAX + 64];

static int
fail(const char **err_r, const char *msg)
{
	*err_r = msg;
	return -1;
}

static int
fail_path(const char **err_r, const char *what, const char *path)
{
	snprintf(ipc_errbuf, sizeof(ipc_errbuf), "%s %s: %s", what, path,
	    strerror(errno));
	return fail(err_r, ipc_errbuf);
}

static int
make_addr(struct sockaddr_un *sun, const char *path, const char **err_r)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sun->sun_path))
		return fail(err_r, "bad socket path length");
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

int
ipc_connect(const char *path, int timeout_ms, const char **err_r)
{
	int64_t deadline = attr_deadline(timeout_ms);
	struct sockaddr_un sun;
	socklen_t len = sizeof(int);
	int fd, soerr = 0;

	if (make_addr(&sun, path, err_r) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return fail_path(err_r, "socket for", path);
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
		if (errno == EINPROGRESS)
			break;
		if (errno != EAGAIN) {
			(void)fail_path(err_r, "connect", path);
			goto fail;
		}
		/* Backlog full: wait a little, within the deadline. */
		if (deadline >= 0 && attr_deadline(0) + IPC_RETRY_MS >
		    deadline) {
			*err_r = "connect timed out";
			goto fail;
		}
		(void)poll(NULL, 0, IPC_RETRY_MS);
	}
	if (attr_wait(fd, POLLOUT, deadline, err_r) == -1) {
		*err_r = "connect timed out";
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr != 0) {
		errno = soerr;
		(void)fail_path(err_r, "connect", path);
		goto fail;
	}
	return fd;
fail:
	(void)close(fd);
	return -1;
}

int
ipc_call_fd(int fd, const struct buf *request, struct buf *reply,
    size_t max_reply, int timeout_ms, const char **err_r)
{
	int64_t deadline = attr_deadline(timeout_ms);
	int64_t left;

	if (attr_write_frame(fd, request, timeout_ms, err_r) == -1)
		return -1;
	left = deadline < 0 ? -1 : deadline - attr_deadline(0);
	if (deadline >= 0 && left < 0)
		left = 0;
	return attr_read_frame(fd, reply, max_reply, (int)left, err_r);
}

int
ipc_call(const struct ipc_client *c, const struct buf *request,
    struct buf *reply, const char **err_r)
{
	int64_t deadline = attr_deadline(c->timeout_ms);
	int64_t left;
	int fd, rc;

	if (c->path == NULL)
		return ipc_call_fd(c->fd, request, reply, c->max_reply,
		    c->timeout_ms, err_r);
	fd = ipc_connect(c->path, c->timeout_ms, err_r);
	if (fd == -1)
		return -1;
	left = deadline < 0 ? -1 : deadline - attr_deadline(0);
	if (deadline >= 0 && left < 0)
		left = 0;
	rc = ipc_call_fd(fd, request, reply, c->max_reply, (int)left, err_r);
	(void)close(fd);
	return rc;
}

int
ipc_listen(const char *path, int backlog, unsigned mode, const char **err_r)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, rc;

	if (make_addr(&sun, path, err_r) == -1)
		return -1;
	if (lstat(path, &st) == 0) {
		/* SECURITY: replace a stale socket, never any other file. */
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(ipc_errbuf, sizeof(ipc_errbuf),
			    "%s exists and is not a socket", path);
			return fail(err_r, ipc_errbuf);
		}
		if (unlink(path) == -1)
			return fail_path(err_r, "unlink", path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return fail_path(err_r, "socket for", path);
	/* The umask sets the socket's mode at bind: no window to chmod. */
	old = umask(~(mode_t)mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	(void)umask(old);
	if (rc == -1) {
		(void)fail_path(err_r, "bind", path);
		(void)close(fd);
		return -1;
	}
	if (listen(fd, backlog) == -1) {
		(void)fail_path(err_r, "listen", path);
		(void)close(fd);
		return -1;
	}
	return fd;
}
