/* SPDX-License-Identifier: MIT */
/*
 * Message processing on the way into the queue, shared by every entry path
 * (smtpd, pickup for sendmail, local when it forwards, qmgr for bounces):
 * Postfix's cleanup, as a library.  A caller opens a cleanup, gives it the
 * envelope and streams the message; cleanup_finish processes the header
 * and commits a queue file to incoming/ (qfile.h), then wakes qmgr.
 *
 * Header processing (RFC 5322):
 *  - adds Received: (always, first), and Date:, Message-ID: when missing;
 *    adds From: when missing and the message is local (CLEANUP_F_LOCAL),
 *    from fullname and the sender;
 *  - CLEANUP_F_LOCAL: bare addresses (no @) in the envelope and in From:,
 *    Sender:, Reply-To:, To:, Cc:, Bcc: are qualified with @$myorigin;
 *  - CLEANUP_F_EXTRACT: recipients are taken from To:, Cc:, Bcc:
 *    (in addition to any given), and Bcc: is removed (sendmail -t);
 *    Bcc: is also removed for local submissions with explicit recipients;
 *  - enforces header_size_limit (one field, folded lines included),
 *    header_count_limit, hopcount_limit (Received: fields) and
 *    message_size_limit (whole content);
 *  - CRLF line ends are stored as LF; a message without a header/body
 *    separator is fine; a first line that is not a header field starts the
 *    body (Postfix's behaviour).
 * Return-Path: and Delivered-To: are not added here; local adds them.
 */
#ifndef TERN_CLEANUP_H
#define TERN_CLEANUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/time.h>
#include <sys/types.h>

#include "qid.h"

#define CLEANUP_F_LOCAL		0x01	/* locally posted (sendmail) */
#define CLEANUP_F_EXTRACT	0x02	/* -t: recipients from headers */
#define CLEANUP_F_NO_WAKEUP	0x04	/* do not wake qmgr (tests, bulk) */
#define CLEANUP_F_BOUNCE	0x08	/* a DSN made by qmgr: no From:
					   processing, kept as given */

/* Outcome classes of cleanup_finish. */
enum cleanup_status {
	CLEANUP_OK = 0,
	CLEANUP_TEMP = 1,	/* 4xx / EX_TEMPFAIL: try again later */
	CLEANUP_PERM = 2,	/* 5xx / EX_DATAERR etc: will never work */
};

/* Who submitted the message, for Received: and the queue attributes. */
struct cleanup_origin {
	const char	*protocol;	/* "ESMTP", "SMTP", "local", ... */
	const char	*client_name;	/* NULL for local */
	const char	*client_addr;	/* NULL for local */
	const char	*helo;		/* NULL for local */
	const char	*sasl_user;	/* NULL unless authenticated */
	const char	*tls_info;	/* e.g. "(using TLSv1.3 with cipher
					   ...)" for Received:, or NULL */
	long		 uid;		/* submitting uid for local, else -1 */
	const char	*fullname;	/* sendmail -F, or NULL (GECOS) */
};

struct cleanup;

/*
 * Starts a message: creates the temporary queue file in incoming/ (the
 * current directory is queue_directory).  Uses the loaded main.cf
 * (mail_conf.h).  -1 with err_r (e.g. disk full: a temporary failure).
 */
int cleanup_open(unsigned flags, const struct cleanup_origin *origin,
    struct cleanup **c_r, const char **err_r)
    __attribute__((warn_unused_result));
/* The queue ID the message will have (known from the start). */
const char *cleanup_qid(const struct cleanup *c);
/* Envelope: sender ("" for <>; bare names qualified under F_LOCAL). */
void cleanup_sender(struct cleanup *c, const char *sender);
/* A recipient with its DSN options (NULL: none). */
void cleanup_rcpt(struct cleanup *c, const char *addr, const char *notify,
    const char *orcpt);
/* Queue attribute (envid, ret, ...), see qfile.h. */
void cleanup_attr(struct cleanup *c, const char *name, const char *value);
/*
 * Message bytes, any chunking; CRLF or LF line ends.  Once the size limit
 * is passed the rest is counted and dropped, and finish fails with PERM.
 */
void cleanup_write(struct cleanup *c, const void *p, size_t n);
/*
 * Ends the message: the header is processed, the queue file committed to
 * incoming/ and qmgr woken (unless F_NO_WAKEUP).  Returns CLEANUP_OK with
 * the queue ID, else the class with an SMTP-style reason in reason_r
 * ("5.3.4 message size exceeds fixed limit", "5.6.0 header field too
 * long", "5.6.0 too many header fields", "5.6.0 NUL character in message
 * header", "5.4.6 too many hops", "5.1.3 no recipients specified",
 * "5.1.3 bad recipient address syntax", "5.1.7 bad sender address
 * syntax", "4.3.0 queue file write error: No space left on device") and
 * nothing queued.  Frees *cp.  Logs "QID: message-id=<...>" on success,
 * as Postfix's cleanup does, and a TEMP failure as a warning; PERM
 * refusals are the caller's to log.  reason_r stays valid until the next
 * cleanup call.
 */
enum cleanup_status cleanup_finish(struct cleanup **cp, char qid_r[QID_SIZE],
    const char **reason_r) __attribute__((warn_unused_result));
/*
 * cleanup_finish in steps, for a server that waits for the disk in a
 * worker thread: cleanup_prepare processes the header and writes the
 * rest of the file (event loop); cleanup_sync makes it durable (fsync,
 * rename, directory fsync; touches only c, so a worker thread may run
 * it); cleanup_finish then reports the result and logs (event loop).
 * cleanup_finish alone runs whichever steps have not run.
 */
void cleanup_prepare(struct cleanup *c);
void cleanup_sync(struct cleanup *c);
/* Discards the message and its temporary file; NULL-safe. */
void cleanup_abort(struct cleanup **cp);

#endif
