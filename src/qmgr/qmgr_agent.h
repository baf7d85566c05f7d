/* SPDX-License-Identifier: MIT */
/*
 * qmgr's connections to the delivery agents: a request goes to
 * "private/TRANSPORT" (deliver.h) on an idle connection to that
 * transport when there is one, else on a new one; the reply is read
 * inside the event loop with an ipc_timeout limit, and the connection is
 * kept idle for a few seconds for the next request.  Every outcome is
 * reported through the callback, never from within qmgr_agent_deliver
 * itself (always from the event loop), so callers need not guard against
 * re-entry.
 */
#ifndef TERN_QMGR_AGENT_H
#define TERN_QMGR_AGENT_H

#include <stddef.h>

#include "deliver.h"

struct event_base;

/* Seconds an idle connection is kept, and how many are kept at most. */
#define QMGR_AGENT_IDLE_TIME	5
#define QMGR_AGENT_IDLE_MAX	64

/* Texts of the failures qmgr defers recipients with (dsn 4.3.0). */
#define QMGR_AGENT_UNAVAILABLE	"mail transport unavailable"

/*
 * reply is the parsed reply (valid during the call), or NULL when the
 * delivery failed; why then says how ("mail transport unavailable" or
 * "delivery agent TRANSPORT died").
 */
typedef void qmgr_agent_done_fn(void *ctx, const struct deliver_reply *reply,
    const char *why);

void qmgr_agent_init(struct event_base *base, int timeout_s);
/*
 * Sends req (req->fd is passed to the agent; the caller still owns and
 * closes it after this returns) to req->transport, for req->rcpt.n
 * recipients, and calls fn(ctx, ...) once later.
 */
void qmgr_agent_deliver(const struct deliver_request *req,
    qmgr_agent_done_fn *fn, void *ctx);
/* Closes idle connections (on stop). */
void qmgr_agent_close_idle(void);
/* Connections in use and idle (tests). */
size_t qmgr_agent_busy(void);
size_t qmgr_agent_idle(void);

#endif
