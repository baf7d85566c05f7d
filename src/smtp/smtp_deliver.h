/* SPDX-License-Identifier: MIT */
/*
 * One delivery request of smtp or lmtp, from qmgr's request to the
 * per-recipient reply, entirely inside the event loop: the next hop
 * (smtp_nexthop.h), a cached idle session for the same destination
 * (smtp_cache.h) or the addresses to try (dns_mx.h; none for address
 * literals and UNIX sockets), the TLS policy and SASL credentials of the
 * destination, TLSA records per host for dane (RFC 7672), a
 * non-blocking connect per address (skipping hosts the dead-host memory
 * holds, smtp_hosts.h), the protocol on the connection (smtp_session.h),
 * the next address for the recipients still open, and one log line per
 * recipient (deliver_log).
 *
 * Outcome per recipient: sent and bounced are final at the first host
 * that says so; what is still open when the hosts (or
 * smtp_mx_session_limit) run out is deferred with the last failure's
 * text.  reply->dead is set when no host could be reached at all (every
 * attempt a connect failure or a dead-host skip), so that qmgr suspends
 * the destination.
 */
#ifndef TERN_SMTP_DELIVER_H
#define TERN_SMTP_DELIVER_H

#include <stddef.h>

#include "deliver.h"

/* Runs once when the reply is complete (req and reply still valid). */
typedef void smtp_deliver_done_fn(void *ctx);

/*
 * Starts delivering req; fills reply (allocated here) and calls done
 * (possibly before returning, for a request that fails at once).  req
 * and reply must stay valid until then.
 */
void smtp_deliver_start(const struct deliver_request *req,
    struct deliver_reply *reply, smtp_deliver_done_fn *done, void *ctx);

/* The deliver_serve_async handler: smtp_deliver_start, then
 * deliver_done(job). */
void smtp_deliver(const struct deliver_request *req,
    struct deliver_reply *reply, struct deliver_job *job);

/* Deliveries in progress in this process. */
size_t smtp_deliver_count(void);

#endif
