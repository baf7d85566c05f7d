/* SPDX-License-Identifier: MIT */
/*
 * The client stub of anvil(8); see anvil_client.h.  One connection per
 * process, opened on first use and after any failure; a connection
 * inherited across fork() is left to the parent.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "ipc.h"

#include "anvil_client.h"

/* A reply holds three numbers; anything longer is not anvil's. */
#define ANVIL_REPLY_MAX	128

static int anvil_fd = -1;
static pid_t anvil_pid;
static char anvil_errbuf[160];

static const char *const anvil_op_names[] = {
	[ANVIL_CONNECT] = "connect",
	[ANVIL_DISCONNECT] = "disconnect",
	[ANVIL_MAIL] = "mail",
	[ANVIL_AUTH] = "auth",
	[ANVIL_AUTH_FAIL] = "authfail",
	[ANVIL_AUTH_FAIL_PEEK] = "peekfail",
};

bool
anvil_client_addr_valid(const char *addr)
{
	size_t n = strlen(addr);

	if (n == 0 || n > ANVIL_ADDR_MAX)
		return false;
	for (const char *p = addr; *p != '\0'; p++) {
		char c = *p;

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '.' || c == ':' ||
		    c == '%' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

void
anvil_client_close(void)
{
	if (anvil_fd != -1 && anvil_pid == getpid())
		(void)close(anvil_fd);
	anvil_fd = -1;
}

static int
fail(const char **err_r, const char *what, const char *err)
{
	snprintf(anvil_errbuf, sizeof(anvil_errbuf), "anvil: %s: %s", what,
	    err);
	*err_r = anvil_errbuf;
	return -1;
}

int
anvil_client_event(enum anvil_event ev, const char *addr,
    struct anvil_counts *r, const char **err_r)
{
	uint64_t status = 0, count = 0, rate = 0;
	struct attr_spec spec[] = {
		ATTR_U64("status", &status),
		ATTR_U64("count", &count),
		ATTR_U64("rate", &rate),
		ATTR_END
	};
	struct attr_writer w;
	struct buf req, reply;
	const char *err;
	bool refused = false;
	int rc = -1;

	r->count = r->rate = 0;
	if ((unsigned)ev >= sizeof(anvil_op_names) / sizeof(anvil_op_names[0]))
		return fail(err_r, "request", "unknown event");
	if (!anvil_client_addr_valid(addr))
		return fail(err_r, "request", "invalid client address");
	if (anvil_fd != -1 && anvil_pid != getpid())
		anvil_fd = -1;		/* the parent's */
	if (anvil_fd == -1) {
		anvil_fd = ipc_connect(ANVIL_SERVICE_PATH,
		    ANVIL_CLIENT_TIMEOUT_MS, &err);
		if (anvil_fd == -1)
			return fail(err_r, ANVIL_SERVICE_PATH, err);
		anvil_pid = getpid();
	}
	buf_init(&req, 0);
	buf_init(&reply, ANVIL_REPLY_MAX);
	attr_frame_begin(&w, &req);
	attr_put_str(&w, "op", anvil_op_names[ev]);
	attr_put_str(&w, "addr", addr);
	if (attr_frame_end(&w, &err) == -1)
		(void)fail(err_r, "request", err);
	else if (ipc_call_fd(anvil_fd, &req, &reply, ANVIL_REPLY_MAX,
	    ANVIL_CLIENT_TIMEOUT_MS, &err) == -1)
		(void)fail(err_r, "request", err);
	else if (attr_parse(reply.data, reply.len, spec, ATTR_PARSE_STRICT,
	    &err) == -1)
		(void)fail(err_r, "bad reply", err);
	else if (status != ANVIL_STATUS_OK) {
		refused = true;
		(void)fail(err_r, "refused", status == ANVIL_STATUS_FULL ?
		    "table full" : "unknown status");
	} else {
		r->count = count;
		r->rate = rate;
		rc = 0;
	}
	buf_deinit(&req);
	buf_deinit(&reply);
	/*
	 * A refusal leaves the channel in step; anything else may not (a
	 * late reply would answer the next request), so start over.
	 */
	if (rc == -1 && !refused)
		anvil_client_close();
	return rc;
}
