/* SPDX-License-Identifier: MIT */
/*
 * Delivery status notifications from qmgr (failure, delay, success): the
 * report is composed with dsn_report and queued through cleanup with the
 * null sender, following Postfix's rules for mail that cannot bounce: a
 * failed bounce (null sender) goes to 2bounce_notice_recipient when
 * notify_classes has "2bounce", else it is discarded; mail from
 * double_bounce_sender is never answered.  Log lines:
 *	QID: sender non-delivery notification: NEWQID
 *	QID: sender delay notification: NEWQID
 *	QID: sender delivery status notification: NEWQID
 *	QID: postmaster non-delivery notification: NEWQID
 *	QID: undeliverable bounce discarded
 *	QID: undeliverable postmaster notification discarded
 */
#ifndef TERN_QMGR_BOUNCE_H
#define TERN_QMGR_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dsn_report.h"
#include "qfile.h"

enum qmgr_bounce_rc {
	QMGR_BOUNCE_SENT,	/* queued */
	QMGR_BOUNCE_DISCARDED,	/* nobody to send it to; done */
	QMGR_BOUNCE_TEMP,	/* could not queue: keep the message */
};

/* Who gets a notification for a message from sender (Postfix's rules). */
enum qmgr_bounce_to {
	QMGR_BOUNCE_TO_SENDER,
	QMGR_BOUNCE_TO_2BOUNCE,		/* 2bounce_notice_recipient */
	QMGR_BOUNCE_TO_NOBODY_BOUNCE,	/* undeliverable bounce discarded */
	QMGR_BOUNCE_TO_NOBODY_POSTMASTER,/* ... postmaster notification */
};

/*
 * Pure: the recipient class for a report of kind about a message from
 * sender.  Delay and success reports never go to a null sender.
 */
enum qmgr_bounce_to qmgr_bounce_who(enum dsn_report_kind kind,
    const char *sender, const char *double_bounce_sender, bool notify_2bounce);

/*
 * True when a recipient with this NOTIFY value ("-" or a comma list,
 * RFC 3461 §4.1) wants a report of kind: without NOTIFY, failures and
 * delays are reported (not successes); NEVER means none.
 */
bool qmgr_bounce_wanted(const char *notify, enum dsn_report_kind kind);

/*
 * Sends one report of kind about qf for the given recipients (their
 * last attempt details), logs as above.  retry_until for delays.
 */
enum qmgr_bounce_rc qmgr_bounce_send(const struct qfile *qf,
    enum dsn_report_kind kind, const struct dsn_report_rcpt *rcpts,
    size_t n, int64_t retry_until);

#endif
