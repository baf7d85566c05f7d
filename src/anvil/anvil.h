/* SPDX-License-Identifier: MIT */
/*
 * anvil(8), the connection and rate counter shared by every smtpd (and
 * authd) process.  The protocol and the client side are in
 * anvil_client.h.  This module is the part that does not depend on the
 * event loop, so that tests drive it with a fake clock:
 *
 * - a table keyed by client address (numeric, as server_peer gives it)
 *   holding the connections open now and, for each counted event kind
 *   (connect, mail, auth, authfail), a fixed-window rate: the window
 *   starts with the first event after the previous window ended and
 *   lasts anvil_rate_time_unit, as in Postfix's anvil;
 * - peers: one per connection to anvil, remembering which connections it
 *   counted for which address, so that when the connection closes (the
 *   smtpd process exited or crashed) those connections are released;
 * - requests: one frame in, one reply frame out; a frame that breaks the
 *   protocol is an error and the caller drops the peer;
 * - a sweep that forgets addresses with no connection and no open window,
 *   a bound on the number of addresses, and Postfix-shaped statistics.
 *
 * Times are seconds of a monotonic clock, supplied by the caller.
 */
#ifndef TERN_ANVIL_H
#define TERN_ANVIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

#include "anvil_client.h"

/* Addresses the table holds at most (SECURITY: memory bound). */
#define ANVIL_TABLE_MAX		100000
/* Longest accepted request frame body. */
#define ANVIL_FRAME_MAX		512
/* Statistics are logged at most this often (seconds), or per time unit
 * when that is longer (Postfix's anvil_status_update_time default). */
#define ANVIL_STATS_INTERVAL	600

struct anvil_table;
struct anvil_peer;

/*
 * A table whose windows last unit seconds (>= 1) and that holds at most
 * max addresses (>= 1).
 */
struct anvil_table *anvil_table_new(time_t unit, size_t max);
/* Frees the table; every peer of it must be freed first (ASSERT). */
void anvil_table_free(struct anvil_table **tp);
/* Addresses held now. */
size_t anvil_table_size(const struct anvil_table *t);

/* A peer (one connection to anvil) of table t. */
struct anvil_peer *anvil_peer_new(struct anvil_table *t);
/* Releases every connection the peer counted, then frees it. */
void anvil_peer_free(struct anvil_peer **pp);

/*
 * Applies one event for addr at time now and fills r with the counts
 * after it (see anvil_client.h for what each event counts and reports).
 * ANVIL_DISCONNECT releases a connection only when this peer counted one
 * for addr; otherwise (a connection counted on an earlier connection to
 * anvil, or refused) nothing changes.  DISCONNECT and AUTH_FAIL_PEEK
 * never add an address; a counting event for a new address when the
 * table is full returns ANVIL_STATUS_FULL with zero counts (the caller
 * fails open).  addr must be valid (anvil_client_addr_valid).
 */
int anvil_table_event(struct anvil_table *t, struct anvil_peer *p,
    enum anvil_event ev, const char *addr, time_t now,
    struct anvil_counts *r);

/*
 * Counts for addr at now without changing anything: 1 found (r filled,
 * rate of the given event's kind), 0 not held.
 */
int anvil_table_lookup(struct anvil_table *t, enum anvil_event ev,
    const char *addr, time_t now, struct anvil_counts *r);

/*
 * Removes the addresses that have no open connection and no rate window
 * still open at now; returns how many.
 */
size_t anvil_table_sweep(struct anvil_table *t, time_t now);

/*
 * Appends the "statistics: ..." lines (one per line, without newline
 * separators beyond '\n') for the maxima seen since the last call, with
 * wall-clock times computed from now (monotonic) and wall_now, and
 * starts a new period.  Appends nothing when nothing was counted.
 */
void anvil_table_stats(struct anvil_table *t, time_t now, time_t wall_now,
    struct buf *out);

/*
 * Handles one request frame body from peer p: parses it (strictly),
 * applies it at now, and appends the reply frame to out.  Returns 0, or
 * -1 with err_r for a frame that breaks the protocol (unknown or missing
 * field, unknown op, address not anvil_client_addr_valid): the caller
 * drops the peer.
 */
int anvil_request(struct anvil_table *t, struct anvil_peer *p,
    const void *body, size_t len, time_t now, struct buf *out,
    const char **err_r) __attribute__((warn_unused_result));

#endif
