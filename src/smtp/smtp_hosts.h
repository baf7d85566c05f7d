/* SPDX-License-Identifier: MIT */
/*
 * The dead-host memory of one smtp/lmtp process: a server that could
 * not be connected to, or that failed its greeting or EHLO, is skipped
 * for smtp_dead_host_time seconds, so that a destination whose first MX
 * is down does not cost a connect timeout per message.  Keyed by
 * address and port (or socket path); a fixed number of entries, the one
 * closest to expiry giving way when full.
 */
#ifndef TERN_SMTP_HOSTS_H
#define TERN_SMTP_HOSTS_H

#include <stdbool.h>
#include <stdint.h>

#define SMTP_HOSTS_MAX	256

/* Marks addr:port dead until now + seconds (seconds 0: does nothing). */
void smtp_hosts_mark_dead(const char *addr, unsigned port, int64_t now,
    long long seconds);
/* True while addr:port is marked dead at time now. */
bool smtp_hosts_dead(const char *addr, unsigned port, int64_t now);
/* Forgets addr:port (it answered after all). */
void smtp_hosts_alive(const char *addr, unsigned port);
/* Forgets everything (tests). */
void smtp_hosts_clear(void);

#endif
