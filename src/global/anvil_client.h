/* SPDX-License-Identifier: MIT */
/*
 * The client stub of anvil(8), which counts per client address, across
 * every smtpd process, the connections open now and the connections, MAIL
 * commands, AUTH commands and failed logins per anvil_rate_time_unit, as
 * Postfix's anvil does.  Each process keeps one connection to
 * $queue_directory/private/anvil (current directory: queue_directory);
 * when that connection closes, anvil forgets the connections it counted
 * for it, so a crashed smtpd leaves no phantom connections behind.
 *
 * Every call is synchronous with a short timeout (anvil answers from
 * memory).  When anvil cannot be reached, calls return -1 with err_r; the
 * caller logs it and lets the client through (fail open, as Postfix does:
 * a missing anvil must not stop mail).  The stub reconnects on the next
 * call.
 *
 * Protocol (attr frames, attr.h): request "op" (str: "connect",
 * "disconnect", "mail", "auth", "authfail", "peekfail"), "addr" (str);
 * reply "status" (u64 0 ok), "count" (u64: open connections of addr
 * from all processes), "rate" (u64: events of the op's kind in the
 * current unit, this one included).  "disconnect" reports the
 * connection rate and "peekfail" the failed-login rate, counting nothing;
 * neither adds an address anvil does not hold (counts 0).  A
 * "disconnect" releases a connection only when the same anvil connection
 * counted one for addr: after anvil restarted, or after the stub
 * reconnected, connections counted before are gone from the count.
 * A request that breaks the protocol (unknown op or field, invalid addr)
 * makes anvil close the connection, releasing what it counted; the stub
 * therefore checks addr itself first.
 */
#ifndef TERN_ANVIL_CLIENT_H
#define TERN_ANVIL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#define ANVIL_SERVICE_PATH	"private/anvil"
#define ANVIL_CLIENT_TIMEOUT_MS	1000

/* Longest address anvil accepts: a numeric IPv6 address with a scope. */
#define ANVIL_ADDR_MAX		63

/*
 * Reply status values.  FULL: anvil holds as many addresses as it may
 * and did not count this new one (the stub returns -1; callers fail
 * open).
 */
#define ANVIL_STATUS_OK		0
#define ANVIL_STATUS_FULL	1

enum anvil_event {
	ANVIL_CONNECT,		/* count += 1, connection rate += 1 */
	ANVIL_DISCONNECT,	/* count -= 1 */
	ANVIL_MAIL,		/* message rate += 1 */
	ANVIL_AUTH,		/* AUTH command rate += 1 */
	ANVIL_AUTH_FAIL,	/* failed login rate += 1 */
	ANVIL_AUTH_FAIL_PEEK,	/* failed login rate, nothing counted */
};

struct anvil_counts {
	uint64_t	count;	/* simultaneous connections of the address */
	uint64_t	rate;	/* events of this kind in the current unit */
};

/*
 * Reports one event for addr (numeric, as in server_peer) and returns
 * the counts after it: 0, or -1 with err_r.
 */
int anvil_client_event(enum anvil_event ev, const char *addr,
    struct anvil_counts *r, const char **err_r)
    __attribute__((warn_unused_result));
/*
 * True for an address anvil accepts: 1..ANVIL_ADDR_MAX bytes of letters,
 * digits, '.', ':', '%', '_' and '-' (numeric IPv4 and IPv6 addresses,
 * an IPv6 scope, "unix").  anvil_client_event refuses others (-1)
 * without sending them.
 */
bool anvil_client_addr_valid(const char *addr);
/* Closes the connection (tests; a process that exits need not call it). */
void anvil_client_close(void);

#endif
