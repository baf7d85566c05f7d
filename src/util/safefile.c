/* SPDX-License-Identifier: MIT */
/*
 * Safe creation, trusted opening and atomic replacement of files; see
 * safefile.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "safefile.h"
#include "xalloc.h"

/* Attempts at a fresh temporary name before giving up. */
#define SAFEFILE_TMP_TRIES	16

static char safefile_errbuf[PATH_MAX + 128];

/* Formats "what path: strerror(errno)", keeping errno. */
static int
fail_errno(const char **err_r, const char *what, const char *path)
{
	int saved = errno;

	snprintf(safefile_errbuf, sizeof(safefile_errbuf), "%s %s: %s", what,
	    path, strerror(saved));
	*err_r = safefile_errbuf;
	errno = saved;
	return -1;
}

static int
fail_msg(const char **err_r, const char *path, const char *msg)
{
	snprintf(safefile_errbuf, sizeof(safefile_errbuf), "%s: %s", path,
	    msg);
	*err_r = safefile_errbuf;
	return -1;
}

int
safefile_create(const char *path, mode_t mode, const char **err_r)
{
	int fd, saved;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode & 0777);
	if (fd == -1)
		return fail_errno(err_r, "create", path);
	/* The umask narrowed the mode at open; set exactly what was asked. */
	if (fchmod(fd, mode & 07777) == -1) {
		saved = errno;
		(void)unlink(path);
		(void)close(fd);
		errno = saved;
		return fail_errno(err_r, "chmod", path);
	}
	return fd;
}

int
safefile_open_trusted(const char *path, uid_t owner, const char **err_r)
{
	struct stat st;
	char msg[96];
	int fd, fl;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY);
	if (fd == -1)
		return fail_errno(err_r, "open", path);
	if (fstat(fd, &st) == -1) {
		(void)fail_errno(err_r, "fstat", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)fail_msg(err_r, path, "not a regular file");
		goto fail;
	}
	if (st.st_uid != owner) {
		snprintf(msg, sizeof(msg), "owned by uid %lu, not %lu",
		    (unsigned long)st.st_uid, (unsigned long)owner);
		(void)fail_msg(err_r, path, msg);
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		(void)fail_msg(err_r, path, "writable by group or other");
		goto fail;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		(void)fail_errno(err_r, "fcntl", path);
		goto fail;
	}
	return fd;
fail:
	(void)close(fd);
	return -1;
}

int
safefile_read_fd(int fd, const char *path, struct buf *out,
    const char **err_r)
{
	char chunk[16384];
	ssize_t n;

	buf_reset(out);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return fail_errno(err_r, "read", path);
		if (n == 0)
			return 0;
		if (buf_append(out, chunk, (size_t)n) == -1)
			return fail_msg(err_r, path, "file too large");
	}
}

int
safefile_read_trusted(const char *path, uid_t owner, struct buf *out,
    const char **err_r)
{
	int fd, rc;

	buf_reset(out);
	fd = safefile_open_trusted(path, owner, err_r);
	if (fd == -1)
		return -1;
	rc = safefile_read_fd(fd, path, out, err_r);
	(void)close(fd);
	return rc;
}

int
safefile_fsync_dir(const char *dir, const char **err_r)
{
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return fail_errno(err_r, "open directory", dir);
	if (fsync(fd) == -1) {
		(void)fail_errno(err_r, "fsync directory", dir);
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	return 0;
}

int
safefile_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
safefile_pwrite_all(int fd, const void *data, size_t len, off_t off)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, p, len, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* The directory part of path: "." for a bare name, "/" for "/name". */
static char *
parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int
safefile_replace(const char *path, const void *data, size_t len,
    mode_t mode, const char **err_r)
{
	static unsigned counter;
	char *tmp = NULL, *dir = NULL;
	int fd = -1, rc = -1;

	for (int i = 0; i < SAFEFILE_TMP_TRIES; i++) {
		free(tmp);
		tmp = xasprintf("%s.tmp.%ld.%u", path, (long)getpid(),
		    counter++);
		fd = safefile_create(tmp, mode, err_r);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1)
		goto out_notmp;
	if (safefile_write_all(fd, data, len) == -1) {
		(void)fail_errno(err_r, "write", tmp);
		goto out;
	}
	if (fsync(fd) == -1) {
		(void)fail_errno(err_r, "fsync", tmp);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		(void)fail_errno(err_r, "close", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		(void)fail_errno(err_r, "rename", tmp);
		goto out;
	}
	/* From here on path holds the new contents; only durability is left. */
	free(tmp);
	tmp = NULL;
	dir = parent_dir(path);
	rc = safefile_fsync_dir(dir, err_r);
out:
	if (fd != -1)
		(void)close(fd);
	if (tmp != NULL)
		(void)unlink(tmp);
out_notmp:
	free(tmp);
	free(dir);
	return rc;
}
