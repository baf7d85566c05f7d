/* SPDX-License-Identifier: MIT */
/*
 * qmgr(8), the queue manager: takes queue files from incoming/ and (when
 * due) deferred/ into active/, routes their recipients (qmgr_route.h),
 * schedules deliveries per destination (qmgr_sched.h), hands them to the
 * delivery agents (qmgr_agent.h), records the results in the queue file,
 * sends delivery status notifications (qmgr_bounce.h), and removes a
 * message when no recipient is left or moves it to deferred/ with its
 * next retry time as the file's mtime.  Everything is recoverable from
 * the queue files: files left in active/ by a previous qmgr are taken up
 * again at start.  Requests on the public socket (frames, attr.h):
 *	request=wakeup			scan incoming/ (master_proto.h)
 *	request=flush [queue_id=ID] [site=DOMAIN]
 *					make deferred mail due now (all, one
 *					message, or mail with a recipient in
 *					DOMAIN), then scan
 */
#ifndef TERN_QMGR_H
#define TERN_QMGR_H

#include <stdbool.h>

#include "server.h"

/* Seconds between safety-net scans of incoming/. */
#define QMGR_INCOMING_SCAN	5
/* Largest request frame on the public socket. */
#define QMGR_REQUEST_MAX	4096

/* server_spec hooks. */
void qmgr_init(void);
void qmgr_session_start(int fd, const struct server_peer *peer);
void qmgr_stop(void);

/* Asks for a scan of incoming/ (and due deferred/ mail) from the loop. */
void qmgr_scan_request(bool deferred);
/*
 * Makes deferred mail due now: all (qid and site NULL), the message qid,
 * or messages with a recipient in domain site; then scans.
 */
void qmgr_flush(const char *qid, const char *site);

/* Messages in memory (tests). */
size_t qmgr_active_count(void);

#endif
