/* SPDX-License-Identifier: MIT */
/*
 * Idle SMTP/LMTP sessions kept for the next message to the same
 * destination (Postfix's connection cache, inside the one process).  A
 * session goes in after a delivery when smtp_connection_cache_on_demand
 * is set and neither smtp_connection_reuse_count_limit (messages) nor
 * smtp_connection_reuse_time_limit (age) is reached; it stays idle at
 * most smtp_connection_cache_time_limit seconds (a timer closes it), and
 * is closed as soon as the server closes or sends anything
 * (smtp_session_watch).  At most SMTP_CACHE_MAX sessions are idle; the
 * oldest gives way.  The caller of smtp_cache_take sends RSET before the
 * next message (RFC 5321 §4.1.1.5).
 */
#ifndef TERN_SMTP_CACHE_H
#define TERN_SMTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "tls_client.h"

struct smtp_session;

#define SMTP_CACHE_MAX	64

/* The cache key of a destination: "transport|nexthop|level" (heap). */
char *smtp_cache_key(const char *transport, const char *nexthop,
    enum tls_level level);

/*
 * Takes *sp (clears it): keeps the session idle under key when the
 * limits allow it, else closes it.  Returns true when it was kept.
 */
bool smtp_cache_put(const char *key, struct smtp_session **sp);
/* An idle session for key (no longer watched or timed), or NULL. */
struct smtp_session *smtp_cache_take(const char *key);
/* Idle sessions in the cache. */
size_t smtp_cache_count(void);
/* Closes every idle session (on_stop, tests). */
void smtp_cache_close_all(void);

#endif
