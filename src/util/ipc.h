/* SPDX-License-Identifier: MIT */
/*
 * Client side of the internal request/reply protocols: connect to a
 * service's UNIX socket with a timeout, send one request frame, read one
 * reply frame before a deadline.  Every service wraps this in a tiny typed
 * stub so that callers never build or parse frames by hand:
 *
 *	int
 *	showq_client_list(const struct ipc_client *c, const char *queue,
 *	    struct strv *ids_r, const char **err_r)
 *	{
 *		struct attr_spec spec[] = {
 *			ATTR_STRV("ids", ids_r), ATTR_END
 *		};
 *		struct attr_writer w;
 *		struct buf req, reply;
 *		int rc = -1;
 *
 *		buf_init(&req, 0);
 *		buf_init(&reply, 0);
 *		attr_frame_begin(&w, &req);
 *		attr_put_str(&w, "request", "list");
 *		attr_put_str(&w, "queue", queue);
 *		if (attr_frame_end(&w, err_r) == 0 &&
 *		    ipc_call(c, &req, &reply, err_r) == 0 &&
 *		    attr_parse(reply.data, reply.len, spec,
 *		    ATTR_PARSE_STRICT, err_r) == 0)
 *			rc = 0;
 *		buf_deinit(&req);
 *		buf_deinit(&reply);
 *		return rc;
 *	}
 *
 * Any failure (connect, timeout, short/long/garbage reply, a reply that
 * does not match the spec) is -1 with err_r set, and the connection is
 * gone: a stub never retries on its own and never guesses.  Error
 * messages are static or live in a module buffer valid until the next call.
 */
#ifndef TERN_IPC_H
#define TERN_IPC_H

#include <stddef.h>

#include "buf.h"

/* How to reach a service; usually static per stub's caller. */
struct ipc_client {
	const char	*path;		/* UNIX socket path, or NULL: */
	int		 fd;		/* use this connected socket */
	int		 timeout_ms;	/* connect, then the call */
	size_t		 max_reply;	/* 0: ATTR_FRAME_MAX */
};

/*
 * Connects to the UNIX stream socket at path within timeout_ms (< 0: no
 * limit; a full listen backlog is retried until then).  Returns a
 * close-on-exec, nonblocking descriptor, or -1 with err_r set.
 */
int ipc_connect(const char *path, int timeout_ms, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Sends the request (one whole frame, as attr_frame_end left it) on fd and
 * reads one reply frame body into reply, both within timeout_ms.  The
 * descriptor stays open (for a session of several calls, or a socketpair).
 */
int ipc_call_fd(int fd, const struct buf *request, struct buf *reply,
    size_t max_reply, int timeout_ms, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * With c->path set: connect, ipc_call_fd, close (one request on a fresh
 * connection).  With c->path NULL: ipc_call_fd on c->fd, which stays open
 * (a socketpair from master, or a session of several calls).
 */
int ipc_call(const struct ipc_client *c, const struct buf *request,
    struct buf *reply, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Server side, for tests and for master: creates a listening UNIX stream
 * socket at path (close-on-exec), replacing a stale socket file but
 * nothing else, and sets its mode (e.g. 0660).  Returns the descriptor or
 * -1 with err_r set.
 */
int ipc_listen(const char *path, int backlog, unsigned mode,
    const char **err_r) __attribute__((warn_unused_result));

#endif
