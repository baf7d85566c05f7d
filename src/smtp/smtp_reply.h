/* SPDX-License-Identifier: MIT */
/*
 * A pure parser of SMTP server replies for the smtp and lmtp clients:
 * single and multi-line replies (RFC 5321 §4.2), the enhanced status code
 * of the first line split off (RFC 3463, RFC 2034), and the keywords of
 * an EHLO/LHLO reply that the client acts on.  The parser is fed bytes as
 * they arrive and holds hard limits on a line, the number of lines and
 * the total, so a hostile server cannot make it grow without bound; every
 * malformed form (a bad code, a continuation with another code, control
 * characters, NUL, an overlong line) is an error, never repaired.
 */
#ifndef TERN_SMTP_REPLY_H
#define TERN_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * RFC 5321 §4.5.3.1.5 sets 512 octets for a reply line; real servers
 * send longer ones (long EHLO AUTH lists, URLs in rejections), so the
 * limits are wider but fixed.
 */
#define SMTP_REPLY_LINE_MAX	2048	/* without CRLF */
#define SMTP_REPLY_LINES_MAX	100
#define SMTP_REPLY_TOTAL_MAX	16384	/* the joined text */

struct smtp_reply {
	int		 code;		/* 200..559 once complete */
	char		 dsn[16];	/* "5.1.1" from the first line, or "" */
	struct buf	 text;		/* "550 5.1.1 no such user": the lines
					   as sent, joined by " " */
	char		**lines;	/* each line's text after "NNN-" or
					   "NNN " (EHLO keywords) */
	size_t		 nlines;
	/* Parser state. */
	struct buf	 line;		/* the partial line */
	bool		 done;
};

void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_deinit(struct smtp_reply *r);
/* Forgets a complete reply so the next one can be parsed. */
void smtp_reply_clear(struct smtp_reply *r);

/*
 * Feeds up to len bytes; consumes through the end of the reply at the
 * most (*used_r says how many).  Returns 1 when a reply is complete, 0
 * when it needs more bytes, -1 with err_r for a malformed or overlong
 * reply (the connection is then unusable).  A line ends in CRLF; a bare
 * LF is accepted too, as Postfix does, but a CR elsewhere is an error.
 */
int smtp_reply_feed(struct smtp_reply *r, const void *data, size_t len,
    size_t *used_r, const char **err_r) __attribute__((warn_unused_result));

/*
 * The enhanced status code to report for a complete reply: its own when
 * the class matches the reply code; a 4xx/5xx reply whose code has the
 * other of the classes 4 and 5 keeps the subject and detail with the
 * class of the reply (a 550 with 4.1.1 is 5.1.1: deliver_reply_parse
 * requires class = status); otherwise "X.0.0" with X the reply's class.
 */
void smtp_reply_dsn(const struct smtp_reply *r, char dsn_r[16]);

/*
 * Validates s as an RFC 3463 status code "class.subject.detail": class
 * 2, 4 or 5, subject and detail 1..3 digits.  Returns its length when it
 * starts s and is followed by a space or the end, else 0.
 */
size_t smtp_reply_status_len(const char *s);

/* EHLO keywords (RFC 5321 §4.1.1.1 and the extension RFCs). */
#define SMTP_EXT_PIPELINING	(1u << 0)	/* RFC 2920 */
#define SMTP_EXT_SIZE		(1u << 1)	/* RFC 1870 */
#define SMTP_EXT_8BITMIME	(1u << 2)	/* RFC 6152 */
#define SMTP_EXT_SMTPUTF8	(1u << 3)	/* RFC 6531 */
#define SMTP_EXT_DSN		(1u << 4)	/* RFC 3461 */
#define SMTP_EXT_CHUNKING	(1u << 5)	/* RFC 3030 */
#define SMTP_EXT_STARTTLS	(1u << 6)	/* RFC 3207 */
#define SMTP_EXT_AUTH		(1u << 7)	/* RFC 4954 */
#define SMTP_EXT_REQUIRETLS	(1u << 8)	/* RFC 8689 */
#define SMTP_EXT_ENHANCEDSTATUSCODES (1u << 9)	/* RFC 2034 */

#define SMTP_AUTH_PLAIN		(1u << 0)
#define SMTP_AUTH_LOGIN		(1u << 1)

struct smtp_ehlo {
	unsigned	 ext;		/* SMTP_EXT_* */
	uint64_t	 size;		/* SIZE limit; 0: none declared */
	unsigned	 auth;		/* SMTP_AUTH_* offered */
};

/*
 * Reads the keywords of a complete 250 EHLO/LHLO reply (lines after the
 * first).  Keywords are case-insensitive; unknown ones are ignored; a
 * SIZE whose value is not a decimal number that fits declares no limit;
 * "AUTH=..." (the pre-RFC form) counts as AUTH.
 */
void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *e);

#endif
