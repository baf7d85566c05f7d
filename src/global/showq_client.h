/* SPDX-License-Identifier: MIT */
/*
 * The queue listing: what showq(8) reads from the queue directories, the
 * frames it sends for it, the typed client that ternqueue(1) reads them
 * with, and the two ways ternqueue prints them (Postfix's mailq text and
 * postqueue -j's JSON lines).  Both ends live here so that nobody else
 * builds or parses a showq frame by hand.
 *
 * PROTOCOL.  The client connects to public/showq and sends nothing; the
 * server writes one or more frames per message, then an end frame, then
 * closes:
 *
 *	queue_name:str  queue_id:str  arrival:i64  size:u64  sender:str
 *	rcpt:strv  reason:strv
 *		a message, or a further part of the same message when
 *		queue_name and queue_id repeat those of the frame before (a
 *		message with more recipients than fit in one frame);
 *		rcpt are the recipients still to be delivered, reason the
 *		text of the last log record of each ("" when none): always
 *		as many reasons as recipients
 *	end:bool(true)  count:u64
 *		the end of the listing; count is the number of messages sent
 *
 * A client that sees anything else (unknown or missing field, a reason
 * count that differs, an invalid queue name or ID, a wrong count, end of
 * file before the end frame) rejects the whole listing.
 */
#ifndef TERN_SHOWQ_CLIENT_H
#define TERN_SHOWQ_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "str.h"

/* The service's socket, relative to queue_directory. */
#define SHOWQ_SERVICE_PATH	"public/showq"

/* Recipient and reason bytes per frame before a message is split. */
#define SHOWQ_CHUNK_BYTES	((size_t)256 * 1024)

/* One message as listed. */
struct showq_entry {
	const char	*queue_name;	/* "active", "incoming", ... */
	const char	*queue_id;
	int64_t		 arrival;	/* seconds since the epoch */
	uint64_t	 size;		/* content size */
	const char	*sender;	/* "" for the null sender */
	struct strv	 rcpts;		/* recipients still to do */
	struct strv	 reasons;	/* same count; "" when none */
};

void showq_entry_init(struct showq_entry *e);
void showq_entry_deinit(struct showq_entry *e);

/* Called per message; returning -1 stops the walk (err_r is then set). */
typedef int showq_entry_fn(const struct showq_entry *e, void *ctx,
    const char **err_r);

/* True for the names of the listed queues (and not for "corrupt"). */
bool showq_queue_name_valid(const char *name);

/*
 * Reads the queue directories (relative to the current directory,
 * queue_directory) in the order active, incoming, deferred, hold,
 * maildrop, each sorted by queue ID, and calls fn for each message that
 * qfile_open parses.  Names that are not queue IDs, files that vanish and
 * files that do not parse are skipped (pickup and qmgr quarantine those);
 * a missing queue directory is skipped.  -1 with err_r when a directory
 * cannot be read or fn fails.
 */
int showq_scan(showq_entry_fn *fn, void *ctx, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Server side: appends the frames for one message to out (split as
 * needed), or the end frame.  -1 with err_r when a frame cannot be built
 * (a value over the frame maximum); out is then as before.
 */
int showq_put_entry(struct buf *out, const struct showq_entry *e,
    const char **err_r) __attribute__((warn_unused_result));
int showq_put_end(struct buf *out, uint64_t count, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Client side: reads a listing from fd (each frame within timeout_ms;
 * < 0: no limit) and calls fn for each whole message.  Returns 0 after
 * the end frame; -1 with err_r on any protocol or I/O error (messages
 * before that were already handed to fn).
 */
int showq_read_fd(int fd, int timeout_ms, showq_entry_fn *fn, void *ctx,
    const char **err_r) __attribute__((warn_unused_result));
/*
 * Connects to path (SHOWQ_SERVICE_PATH) and reads the listing.  Returns
 * -1 with *connect_failed_r true when the service could not be reached
 * at all, false for a failure later on.
 */
int showq_client_list(const char *path, int timeout_ms, showq_entry_fn *fn,
    void *ctx, bool *connect_failed_r, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Output.  A showq_print state is fed messages in order and finished
 * once.  SHOWQ_MAILQ prints Postfix's mailq format:
 *
 *	-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
 *	QID[*!]  SIZE Day Mon DD HH:MM:SS  sender
 *	(reason, wrapped at 78 columns, continued with 4 spaces)
 *	                                         recipient
 *	<blank line after each message>
 *	-- N Kbytes in M Request(s).
 *
 * ('*' active, '!' hold; SIZE right-aligned in 8 columns; the null sender
 * as MAILER-DAEMON; a reason is printed before the first of consecutive
 * recipients that share it; "Mail queue is empty" without messages.)
 * Bytes that are not printable ASCII or valid UTF-8 print as '?'.
 * SHOWQ_JSON prints one JSON object per message and line, as postqueue
 * -j does; strings are escaped per RFC 8259 §7, invalid UTF-8 becomes
 * U+FFFD.  Times are local time (TZ).
 */
enum showq_format {
	SHOWQ_MAILQ,
	SHOWQ_JSON,
};

struct showq_print {
	enum showq_format format;
	struct buf	 out;		/* text not yet written */
	uint64_t	 count;
	uint64_t	 bytes;
};

void showq_print_init(struct showq_print *p, enum showq_format format);
void showq_print_deinit(struct showq_print *p);
/* Formats one message into p->out. */
void showq_print_entry(struct showq_print *p, const struct showq_entry *e);
/* Formats the trailer (or the empty-queue line) into p->out. */
void showq_print_finish(struct showq_print *p);
/* showq_entry_fn that formats and writes p->out to stdout (ctx: p). */
int showq_print_stdout(const struct showq_entry *e, void *ctx,
    const char **err_r);

/* Appends s as a JSON string (quotes included), RFC 8259 §7. */
void showq_json_string(struct buf *out, const char *s);
/*
 * Appends s for a text listing: valid UTF-8 (RFC 3629 §4) and printable
 * ASCII are kept, every other byte becomes '?'.
 */
void showq_printable(struct buf *out, const char *s);
/*
 * Appends "(" text ")" wrapped at width columns at spaces; continuation
 * lines start with indent spaces; a word longer than a line is kept whole.
 */
void showq_wrap_reason(struct buf *out, const char *text, size_t width,
    size_t indent);

#endif
