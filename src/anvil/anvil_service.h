/* SPDX-License-Identifier: MIT */
/*
 * anvil(8)'s connections: each connection from an smtpd or authd
 * process is a peer of the one counting table (anvil.h), served from the
 * event loop, any number of requests one after the other.  A peer that
 * sends a frame breaking the protocol is dropped, and so is one that
 * closes its end; either way the connections it counted are released.
 * A timer sweeps idle addresses every anvil_rate_time_unit and logs the
 * statistics now and then.
 */
#ifndef TERN_ANVIL_SERVICE_H
#define TERN_ANVIL_SERVICE_H

#include <stddef.h>
#include <time.h>

struct event_base;
struct anvil_table;

/*
 * Starts the service on base with windows of unit seconds and at most
 * max addresses.  on_close (may be NULL) is called once for each peer
 * that goes away, after its descriptor is closed (server_session_done in
 * the daemon).
 */
void anvil_service_init(struct event_base *base, time_t unit, size_t max,
    void (*on_close)(void));
/* Serves the connected, nonblocking descriptor fd (owned from now on). */
void anvil_service_attach(int fd);
/*
 * Logs the statistics, then closes every peer (master wants the process
 * gone, or it accepts no more: the peers reconnect to its successor).
 * The sweep timer stays off afterwards.
 */
void anvil_service_stop(void);
/* Frees everything (tests); stops first when still running. */
void anvil_service_deinit(void);
/* The table (tests). */
struct anvil_table *anvil_service_table(void);

#endif
