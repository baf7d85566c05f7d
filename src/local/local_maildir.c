/* SPDX-License-Identifier: MIT */
/*
 * Maildir delivery (https://cr.yp.to/proto/maildir.html): the message is
 * written under a unique name in tmp/, synced, linked into new/ and the
 * temporary name removed, so readers only ever see complete messages and
 * no lock is needed.  The name carries Dovecot's ",S=SIZE" so that IMAP
 * servers know the size without a stat.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf.h"
#include "safefile.h"
#include "str.h"
#include "xalloc.h"

#include "local.h"

int
local_maildir_name(char *out, size_t size, const struct timeval *tv,
    pid_t pid, unsigned n, const char *host, size_t msg_size)
{
	struct buf b;
	const char *p;
	int rc = 0;

	buf_init(&b, size > 0 ? size - 1 : 1);
	if (buf_printf(&b, "%lld.M%ldP%ldQ%u.", (long long)tv->tv_sec,
	    (long)tv->tv_usec, (long)pid, n) == -1)
		rc = -1;
	/* The spec: '/' and ':' in the host name become octal escapes. */
	for (p = host; rc == 0 && *p != '\0'; p++) {
		if (*p == '/')
			rc = buf_puts(&b, "\\057");
		else if (*p == ':')
			rc = buf_puts(&b, "\\072");
		else if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			rc = buf_printf(&b, "\\%03o", (unsigned char)*p);
		else
			rc = buf_putc(&b, *p);
	}
	if (rc == 0)
		rc = buf_printf(&b, ",S=%zu", msg_size);
	if (rc == 0 && size > 0)
		str_copy(out, buf_cstr(&b), size);
	buf_deinit(&b);
	return size > 0 ? rc : -1;
}

int
local_mkdirs(const char *path, mode_t mode)
{
	char *copy = xstrdup(path), *p;
	int rc = 0;

	for (p = copy + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(copy, mode) == -1 && errno != EEXIST)
			rc = -1;
		*p = c;
		if (c == '\0')
			break;
	}
	free(copy);
	return rc;
}

void
local_maildir_deliver(const char *dir, const struct local_msg *msg,
    long long size_limit, struct local_status *st)
{
	static unsigned counter;
	static const char *const subs[] = { "tmp", "new", "cur" };
	struct buf head;
	struct timeval tv;
	struct stat sb;
	char host[256], name[512], *tmp = NULL, *new = NULL, *sub;
	size_t size;
	int fd = -1, e, tries;
	bool nl_missing = msg->len > 0 && msg->data[msg->len - 1] != '\n';

	buf_init(&head, 0);
	local_msg_prefix(msg, &head);
	size = head.len + msg->len + (nl_missing ? 1 : 0);
	if (size_limit > 0 && size > (unsigned long long)size_limit) {
		local_status_set(st, DELIVER_BOUNCE, "5.2.2",
		    "cannot deliver to maildir %s: message too large for "
		    "mailbox_size_limit", dir);
		goto out;
	}
	for (size_t i = 0; i < 3; i++) {
		sub = xasprintf("%s/%s", dir, subs[i]);
		if (stat(sub, &sb) == -1 && (errno != ENOENT ||
		    local_mkdirs(sub, 0700) == -1)) {
			e = errno;
			local_status_set(st, DELIVER_DEFER, local_errno_dsn(e),
			    "cannot create maildir %s: %s", sub,
			    strerror(e));
			free(sub);
			goto out;
		}
		free(sub);
	}
	if (gethostname(host, sizeof(host)) == -1)
		str_copy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	for (tries = 0; ; tries++) {
		(void)gettimeofday(&tv, NULL);
		if (local_maildir_name(name, sizeof(name), &tv, getpid(),
		    ++counter, host, size) == -1) {
			local_status_set(st, DELIVER_DEFER, "4.3.0",
			    "maildir file name too long");
			goto out;
		}
		free(tmp);
		tmp = xasprintf("%s/tmp/%s", dir, name);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd != -1)
			break;
		if (errno != EEXIST || tries >= 10) {
			e = errno;
			local_status_set(st, DELIVER_DEFER, local_errno_dsn(e),
			    "cannot create maildir file %s: %s", tmp,
			    strerror(e));
			goto out;
		}
	}
	if (safefile_write_all(fd, head.data, head.len) == -1 ||
	    safefile_write_all(fd, msg->data, msg->len) == -1 ||
	    (nl_missing && safefile_write_all(fd, "\n", 1) == -1) ||
	    fsync(fd) == -1)
		goto fail_unlink;
	if (close(fd) == -1) {
		fd = -1;
		goto fail_unlink;
	}
	fd = -1;
	new = xasprintf("%s/new/%s", dir, name);
	if (link(tmp, new) == -1 && rename(tmp, new) == -1)
		goto fail_unlink;
	(void)unlink(tmp);
	sub = xasprintf("%s/new", dir);
	fd = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(sub);
	if (fd == -1 || fsync(fd) == -1) {
		e = errno;
		(void)unlink(new);
		local_status_set(st, DELIVER_DEFER, local_errno_dsn(e),
		    "cannot sync maildir %s/new: %s", dir, strerror(e));
		goto out;
	}
	local_status_set(st, DELIVER_SENT, "2.0.0", "delivered to maildir");
	goto out;
fail_unlink:
	e = errno;
	(void)unlink(tmp);
	local_status_set(st, DELIVER_DEFER, local_errno_dsn(e),
	    "cannot write maildir file %s: %s", tmp, strerror(e));
out:
	if (fd != -1)
		(void)close(fd);
	free(tmp);
	free(new);
	buf_deinit(&head);
}
