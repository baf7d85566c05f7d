/* SPDX-License-Identifier: MIT */
/*
 * The frames of the master <-> service contract; see master_proto.h.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "master_proto.h"

#define STATUS_TIMEOUT_MS	5000

int
master_proto_send_status(int fd, bool busy, const char **err_r)
{
	struct attr_writer w;
	struct buf frame;
	int rc;

	buf_init(&frame, 0);
	attr_frame_begin(&w, &frame);
	attr_put_str(&w, "status", busy ? "busy" : "avail");
	if (attr_frame_end(&w, err_r) == -1)
		panic("status frame does not fit");
	rc = attr_write_frame(fd, &frame, STATUS_TIMEOUT_MS, err_r);
	buf_deinit(&frame);
	return rc;
}

int
master_proto_parse_status(const void *body, size_t len, bool *busy_r,
    const char **err_r)
{
	const char *status = NULL;
	struct attr_spec spec[] = {
		ATTR_STR("status", &status),
		ATTR_END
	};

	if (attr_parse(body, len, spec, ATTR_PARSE_STRICT, err_r) == -1)
		return -1;
	if (str_eq(status, "busy")) {
		*busy_r = true;
		return 0;
	}
	if (str_eq(status, "avail")) {
		*busy_r = false;
		return 0;
	}
	*err_r = "status is neither busy nor avail";
	return -1;
}

void
master_proto_wakeup_frame(struct buf *b)
{
	struct attr_writer w;
	const char *err;

	attr_frame_begin(&w, b);
	attr_put_str(&w, "request", "wakeup");
	if (attr_frame_end(&w, &err) == -1)
		panic("wakeup frame: %s", err);
}

bool
master_proto_is_wakeup(const void *body, size_t len)
{
	const char *request = NULL;
	const char *err;
	struct attr_spec spec[] = {
		ATTR_STR("request", &request),
		ATTR_END
	};

	return attr_parse(body, len, spec, ATTR_PARSE_STRICT, &err) == 0 &&
	    str_eq(request, "wakeup");
}

static char program_errbuf[1024];

int
master_proto_program(const char *command, const char *daemon_dir,
    char **path_r, const char **err_r)
{
	struct stat st;
	const char *reason = NULL;

	if (strchr(command, '/') != NULL)
		*path_r = xstrdup(command);
	else
		*path_r = xasprintf("%s/%s", daemon_dir, command);
	if (stat(*path_r, &st) == -1)
		reason = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		reason = "not a regular file";
	else if (access(*path_r, X_OK) == -1)
		reason = strerror(errno);
	if (reason == NULL)
		return 0;
	*err_r = str_fmt_buf(program_errbuf, sizeof(program_errbuf), "%s: %s",
	    *path_r, reason);
	return -1;
}
