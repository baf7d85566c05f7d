/* SPDX-License-Identifier: MIT */
/*
 * mbox delivery, also used for file destinations: one entry is a From_
 * line, the header lines local prepends, the message with mboxrd quoting
 * (a line matching "^>*From " gets one more ">", so that readers can undo
 * it exactly) and an empty line.  The file is locked with a dotlock
 * (PATH.lock, when the directory lets us create it) and an fcntl lock,
 * the two that mail readers on Linux honour, and any failure truncates
 * the file back to its old size so that no half entry is ever left.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "safefile.h"
#include "str.h"
#include "xalloc.h"

#include "local.h"

#define OUT_SIZE	65536

struct out {
	int	fd;
	size_t	n;
	char	buf[OUT_SIZE];
};

static int
out_flush(struct out *o)
{
	if (safefile_write_all(o->fd, o->buf, o->n) == -1)
		return -1;
	o->n = 0;
	return 0;
}

static int
out_add(struct out *o, const char *p, size_t n)
{
	while (n > 0) {
		size_t k = OUT_SIZE - o->n;

		if (k > n)
			k = n;
		memcpy(o->buf + o->n, p, k);
		o->n += k;
		p += k;
		n -= k;
		if (o->n == OUT_SIZE && out_flush(o) == -1)
			return -1;
	}
	return 0;
}

/* True when the line at p (n bytes) matches "^>*From ". */
static bool
from_line(const char *p, size_t n)
{
	while (n > 0 && *p == '>') {
		p++;
		n--;
	}
	return n >= 5 && memcmp(p, "From ", 5) == 0;
}

static void
from_(const struct local_msg *msg, time_t now, struct buf *b)
{
	char date[64];
	struct tm tm;

	/* asctime's format, e.g. "Thu Nov 24 18:22:48 1986". */
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		str_copy(date, "Thu Jan  1 00:00:00 1970", sizeof(date));
	buf_addf(b, "From %s %s\n",
	    msg->sender[0] != '\0' ? msg->sender : "MAILER-DAEMON", date);
}

/* Emits (or, with o == NULL, counts) the entry; returns its size. */
static int
entry(struct out *o, const struct local_msg *msg, time_t now,
    size_t *size_r)
{
	struct buf head;
	const char *p = msg->data, *end = msg->data + msg->len, *nl;
	size_t size;
	int rc = 0;

	buf_init(&head, 0);
	from_(msg, now, &head);
	local_msg_prefix(msg, &head);
	size = head.len;
	if (o != NULL)
		rc = out_add(o, head.data, head.len);
	buf_deinit(&head);
	while (rc == 0 && p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl != NULL ? nl + 1 : end;
		if (from_line(p, (size_t)(nl - p))) {
			size++;
			if (o != NULL)
				rc = out_add(o, ">", 1);
		}
		size += (size_t)(nl - p);
		if (rc == 0 && o != NULL)
			rc = out_add(o, p, (size_t)(nl - p));
		p = nl;
	}
	if (msg->len > 0 && msg->data[msg->len - 1] != '\n') {
		size++;
		if (rc == 0 && o != NULL)
			rc = out_add(o, "\n", 1);
	}
	size++;
	if (rc == 0 && o != NULL)
		rc = out_add(o, "\n", 1);
	if (rc == 0 && o != NULL)
		rc = out_flush(o);
	*size_r = size;
	return rc;
}

size_t
local_mbox_entry_size(const struct local_msg *msg, time_t now)
{
	size_t size;

	(void)entry(NULL, msg, now, &size);
	return size;
}

int
local_mbox_write(int fd, const struct local_msg *msg, time_t now)
{
	struct out *o = xmalloc(sizeof(*o));
	size_t size;
	int rc;

	o->fd = fd;
	o->n = 0;
	rc = entry(o, msg, now, &size);
	free(o);
	return rc;
}

/*
 * Takes PATH.lock: 1 taken, 0 the directory is not writable for us (no
 * dotlock then), -1 timed out or failed.  A lock older than
 * LOCAL_LOCK_STALE seconds is a leftover and removed.
 */
static int
dotlock(const char *lock)
{
	struct stat sb;
	int fd, i;

	for (i = 0; i < LOCAL_LOCK_WAIT; i++) {
		fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd != -1) {
			(void)close(fd);
			return 1;
		}
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			return 0;
		if (errno != EEXIST)
			return -1;
		if (lstat(lock, &sb) == 0 &&
		    time(NULL) - sb.st_mtime > LOCAL_LOCK_STALE)
			(void)unlink(lock);
		else
			sleep(1);
	}
	errno = EAGAIN;
	return -1;
}

static int
fcntl_lock(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int i;

	for (i = 0; i < LOCAL_LOCK_WAIT; i++) {
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return 0;
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			return -1;
		sleep(1);
	}
	errno = EAGAIN;
	return -1;
}

void
local_mbox_deliver(const char *path, const struct local_msg *msg,
    long long size_limit, struct local_status *st)
{
	struct stat sb;
	char *lock = xasprintf("%s.lock", path);
	time_t now = time(NULL);
	int fd, locked = 0, e;
	size_t size;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd == -1) {
		e = errno;
		local_status_set(st, DELIVER_DEFER, "4.2.0",
		    "cannot open mailbox %s: %s", path, strerror(e));
		free(lock);
		return;
	}
	/* SECURITY: a regular file of ours with one link, nothing else. */
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_nlink != 1 || sb.st_uid != geteuid()) {
		local_status_set(st, DELIVER_DEFER, "4.2.0",
		    "mailbox %s: not a regular file with one link owned by "
		    "uid %ld", path, (long)geteuid());
		goto out;
	}
	if (fcntl(fd, F_SETFL, O_WRONLY | O_APPEND) == -1)
		goto fail;
	locked = dotlock(lock);
	if (locked == -1) {
		local_status_set(st, DELIVER_DEFER, "4.2.0",
		    "cannot lock mailbox %s: %s", path, strerror(errno));
		goto out;
	}
	if (fcntl_lock(fd) == -1) {
		local_status_set(st, DELIVER_DEFER, "4.2.0",
		    "cannot lock mailbox %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) == -1)
		goto fail;
	size = local_mbox_entry_size(msg, now);
	if (size_limit > 0 && ((unsigned long long)sb.st_size + size >
	    (unsigned long long)size_limit)) {
		local_status_set(st, DELIVER_BOUNCE, "5.2.2",
		    "cannot update mailbox %s: mailbox full", path);
		goto out;
	}
	if (local_mbox_write(fd, msg, now) == -1 || fsync(fd) == -1) {
		e = errno;
		/* Rollback: no half entry stays behind. */
		if (ftruncate(fd, sb.st_size) == -1)
			local_status_set(st, DELIVER_DEFER, local_errno_dsn(e),
			    "cannot update mailbox %s: %s (and cannot "
			    "truncate it: %s)", path, strerror(e),
			    strerror(errno));
		else
			local_status_set(st, DELIVER_DEFER, local_errno_dsn(e),
			    "cannot update mailbox %s: %s", path,
			    strerror(e));
		goto out;
	}
	local_status_set(st, DELIVER_SENT, "2.0.0", "delivered to mailbox");
	goto out;
fail:
	e = errno;
	local_status_set(st, DELIVER_DEFER, "4.2.0", "mailbox %s: %s", path,
	    strerror(e));
out:
	if (locked == 1)
		(void)unlink(lock);
	(void)close(fd);
	free(lock);
}
