/* SPDX-License-Identifier: MIT */
/*
 * The SMTP DATA decoder (RFC 5321 §4.1.1.4, §4.5.2), a pure state
 * machine: it takes the bytes the client sends after "354" in any
 * chunking, removes the dot-stuffing, hands the message text on with LF
 * line ends, and finds the end of data.  Only CR LF "." CR LF ends the
 * data, where the first CR LF is a real one (or the start of the data):
 * "\n.\n", "\r.\r", "\r\n.\n", "\n.\r\n", "\r.\r\n" and every other
 * variant are text, so that no message can be smuggled behind a fake end
 * (the 2023 SMTP smuggling class).
 *
 * Line ends (smtpd_forbid_bare_newline):
 *  - NORMALIZE: CR LF and a bare LF both end a line (a bare LF is
 *    passed on as a line end); a bare CR is text and passed on as is.
 *    Dot-unstuffing applies at the start of every line, but a "." line
 *    that follows a bare LF, or that ends in a bare LF, is text.
 *  - REJECT: the first bare CR or bare LF puts the decoder in the
 *    SMTPD_DATA_BARE state; the session answers 550 5.5.2 and closes.
 *    A bare LF is seen at once; a CR is known to be bare only from the
 *    byte after it, which is then consumed too.
 *
 * Dot-unstuffing follows RFC 5321 §4.5.2 literally: the first "." of a
 * line with more on it is deleted, so "..x" gives ".x", ".." gives "."
 * and ".x" gives "x".  In NORMALIZE mode "." CR followed by anything but
 * LF loses its "." and keeps the CR as text.
 *
 * The decoder never buffers more than a few bytes of its own: memory
 * stays bounded whatever the line lengths.
 */
#ifndef TERN_SMTPD_DATA_H
#define TERN_SMTPD_DATA_H

#include <stddef.h>

enum smtpd_bare_newline {
	SMTPD_BARE_NORMALIZE,
	SMTPD_BARE_REJECT,
};

enum smtpd_data_state {
	SMTPD_DATA_MORE = 0,	/* feed more */
	SMTPD_DATA_END,		/* CR LF . CR LF seen */
	SMTPD_DATA_BARE,	/* REJECT mode: a bare CR or LF was seen */
};

/*
 * Receives decoded message text (LF line ends), in pieces of any size;
 * for cleanup_write().
 */
typedef void smtpd_data_out(void *ctx, const char *p, size_t n);

struct smtpd_data {
	enum smtpd_bare_newline mode;
	enum smtpd_data_state state;
	int		 st;		/* internal: position in a line */
	smtpd_data_out	*out;
	void		*ctx;
	unsigned long long bytes;	/* decoded bytes handed out */
};

void smtpd_data_init(struct smtpd_data *d, enum smtpd_bare_newline mode,
    smtpd_data_out *out, void *ctx);
/*
 * Feeds n bytes; returns how many were consumed.  Fewer than n only when
 * the state is END or BARE: the bytes after the end marker belong to
 * the next command (PIPELINING) and are left to the caller.  Once the
 * state is END or BARE, a feed consumes nothing.  n may be 0.
 */
size_t smtpd_data_feed(struct smtpd_data *d, const char *p, size_t n);

#endif
