/* SPDX-License-Identifier: MIT */
/*
 * Delivery status notifications: composes the complete message that qmgr
 * sends to a sender (RFC 3464 multipart/report; RFC 3461 for NOTIFY, RET,
 * ENVID, ORCPT).  The result is a full RFC 5322 message (header and MIME
 * body, LF line ends) to hand to cleanup with the null sender:
 *
 *   From: Mail Delivery System <MAILER-DAEMON@myhostname>
 *   To: <sender>   Subject: by kind   Auto-Submitted: auto-replied
 *   MIME-Version: 1.0
 *   Content-Type: multipart/report; report-type=delivery-status;
 *	boundary="QID/myhostname"
 *   part 1: text/plain, a human-readable explanation per recipient
 *   part 2: message/delivery-status: per-message fields (Reporting-MTA:
 *	dns; myhostname, X-Tern-Queue-ID, Original-Envelope-Id when ENVID,
 *	Arrival-Date) and per recipient (Original-Recipient when ORCPT,
 *	Final-Recipient: rfc822; addr, Action, Status, Remote-MTA when the
 *	relay is a host, Diagnostic-Code: smtp; reply or x-unix; text,
 *	Last-Attempt-Date, Will-Retry-Until for delays)
 *   part 3: message/rfc822 with the whole original (RET=FULL or none
 *	given) when it fits size_limit, otherwise, or with RET=HDRS,
 *	text/rfc822-headers with the original header only.
 */
#ifndef TERN_DSN_REPORT_H
#define TERN_DSN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum dsn_report_kind {
	DSN_REPORT_FAILURE,	/* Subject: Undelivered Mail Returned to
				   Sender */
	DSN_REPORT_DELAY,	/* Subject: Delayed Mail (still being
				   retried) */
	DSN_REPORT_SUCCESS,	/* Subject: Successful Mail Delivery Report */
};

struct dsn_report_rcpt {
	const char	*addr;		/* final recipient */
	const char	*orcpt;		/* NULL/"-" or "rfc822;xtext" */
	const char	*action;	/* failed, delayed, delivered, ... */
	const char	*dsn;		/* X.Y.Z */
	const char	*relay;		/* host or transport, or NULL */
	const char	*text;		/* diagnostic */
	int64_t		 last_attempt;	/* seconds since the epoch; 0: none */
};

struct dsn_report {
	enum dsn_report_kind kind;
	const char	*qid;
	const char	*myhostname;	/* Reporting-MTA, From: domain */
	const char	*to;		/* recipient of the report */
	const char	*envid;		/* NULL: none (xtext-decoded) */
	bool		 ret_hdrs;	/* RET=HDRS */
	int64_t		 arrival;	/* seconds since the epoch */
	int64_t		 retry_until;	/* DELAY: seconds; else 0 */
	const struct dsn_report_rcpt *rcpts;
	size_t		 nrcpts;
	const char	*content;	/* the original message */
	size_t		 content_len;
	size_t		 size_limit;	/* bounce_size_limit; 0: none */
};

/* Appends the message to out; -1 with err_r when out's maximum is hit. */
int dsn_report_compose(const struct dsn_report *r, struct buf *out,
    const char **err_r) __attribute__((warn_unused_result));

#endif
