/* SPDX-License-Identifier: MIT */
/*
 * master's lock file; see master_pid.h.  The lock is what counts: the pid
 * in the file is only read to name the process in messages and to signal
 * it, and a file that holds no valid pid while locked still means that a
 * master runs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "master_pid.h"

/* More than a pid and a newline is not a pid file of ours. */
#define MASTER_PID_MAX_LEN	32

static char master_pid_errbuf[PATH_MAX + 128];

static int
fail_errno(const char **err_r, const char *what, const char *path)
{
	int saved = errno;

	*err_r = str_fmt_buf(master_pid_errbuf, sizeof(master_pid_errbuf),
	    "%s %s: %s", what, path, strerror(saved));
	errno = saved;
	return -1;
}

char *
master_pid_path(void)
{
	const char *dir = mail_conf_get("process_id_directory");

	if (dir[0] == '/')
		return xasprintf("%s/master.pid", dir);
	return xasprintf("%s/%s/master.pid", mail_conf_get("queue_directory"),
	    dir);
}

/* The pid written in the file open as fd, or 0 when there is none. */
static pid_t
read_pid(int fd)
{
	char buf[MASTER_PID_MAX_LEN + 1];
	const char *err;
	long long v;
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0 || n >= MASTER_PID_MAX_LEN)
		return 0;
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n) != NULL)
		return 0;
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (str_to_ll(buf, 1, INT_MAX, &v, &err) == -1)
		return 0;
	return (pid_t)v;
}

/* Opens path as a regular file only (no symlink, FIFO or device). */
static int
open_regular(const char *path, int flags, const char **err_r)
{
	struct stat st;
	int fd;

	fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY, 0644);
	if (fd == -1)
		return fail_errno(err_r, "open", path);
	if (fstat(fd, &st) == -1) {
		(void)fail_errno(err_r, "fstat", path);
		(void)close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		*err_r = str_fmt_buf(master_pid_errbuf,
		    sizeof(master_pid_errbuf), "%s: not a regular file", path);
		(void)close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

int
master_pid_lock(const char *path, const char **err_r)
{
	struct stat st;
	pid_t pid;
	int fd;

	if ((fd = open_regular(path, O_RDWR | O_CREAT, err_r)) == -1)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			(void)fail_errno(err_r, "lock", path);
			(void)close(fd);
			return -1;
		}
		pid = read_pid(fd);
		(void)close(fd);
		if (pid > 0)
			*err_r = str_fmt_buf(master_pid_errbuf,
			    sizeof(master_pid_errbuf), "the mail system is "
			    "already running (pid %ld)", (long)pid);
		else
			*err_r = "the mail system is already running";
		return -1;
	}
	/* The umask narrowed the mode at creation. */
	if (fstat(fd, &st) == -1 ||
	    ((st.st_mode & 07777) != 0644 && fchmod(fd, 0644) == -1)) {
		(void)fail_errno(err_r, "chmod", path);
		(void)close(fd);
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1) {
		(void)fail_errno(err_r, "fcntl", path);
		(void)close(fd);
		return -1;
	}
	return fd;
}

int
master_pid_write(int fd, pid_t pid, const char **err_r)
{
	char buf[MASTER_PID_MAX_LEN];
	int len;

	len = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);
	if (len < 0 || (size_t)len >= sizeof(buf))
		panic("master_pid_write: pid %ld does not fit", (long)pid);
	if (ftruncate(fd, 0) == -1)
		return fail_errno(err_r, "truncate", "master.pid");
	errno = 0;
	if (pwrite(fd, buf, (size_t)len, 0) != len) {
		if (errno == 0)
			errno = EIO;
		return fail_errno(err_r, "write", "master.pid");
	}
	return 0;
}

int
master_pid_running(const char *path, pid_t *pid_r, const char **err_r)
{
	int fd;

	*pid_r = 0;
	if ((fd = open_regular(path, O_RDONLY, err_r)) == -1) {
		/* No file, or not even its directory: nothing runs. */
		if (errno == ENOENT)
			return 0;
		return -1;
	}
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		(void)flock(fd, LOCK_UN);
		(void)close(fd);
		return 0;
	}
	if (errno != EWOULDBLOCK) {
		(void)fail_errno(err_r, "lock", path);
		(void)close(fd);
		return -1;
	}
	*pid_r = read_pid(fd);
	(void)close(fd);
	return 1;
}
