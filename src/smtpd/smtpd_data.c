/* SPDX-License-Identifier: MIT */
/*
 * The SMTP DATA decoder: a byte-at-a-time state machine over the text
 * that follows "354", with runs of ordinary text handed on in one piece.
 * It holds no bytes of its own beyond the state: a CR whose meaning
 * depends on the next byte and a "." that may be dot-stuffing are
 * remembered as states and produced (or dropped) when the next byte
 * arrives, so memory stays O(1) whatever the line lengths.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#include "smtpd_data.h"

/*
 * Positions in a line (struct smtpd_data.st).  "Real" line starts follow
 * CR LF (or the start of the data): only there can "." CR LF end the
 * data.  "Bare" line starts follow a bare LF (NORMALIZE mode only):
 * dot-unstuffing applies, but a "." line is text.
 */
enum {
	ST_BOL = 0,	/* start of line after CR LF or at the start */
	ST_BOL_BARE,	/* start of line after a bare LF */
	ST_TEXT,	/* inside a line */
	ST_CR,		/* inside a line, a CR is pending */
	ST_DOT,		/* "." at ST_BOL, not yet produced */
	ST_DOT_CR,	/* "." CR at ST_BOL */
	ST_DOT_BARE,	/* "." at ST_BOL_BARE */
	ST_DOT_BARE_CR,	/* "." CR at ST_BOL_BARE */
};

static void
data_emit(struct smtpd_data *d, const char *p, size_t n)
{
	if (n == 0)
		return;
	d->out(d->ctx, p, n);
	d->bytes += n;
}

void
smtpd_data_init(struct smtpd_data *d, enum smtpd_bare_newline mode,
    smtpd_data_out *out, void *ctx)
{
	d->mode = mode;
	d->state = SMTPD_DATA_MORE;
	/* RFC 5321 §4.1.1.4: the CR LF that ends the DATA line counts. */
	d->st = ST_BOL;
	d->out = out;
	d->ctx = ctx;
	d->bytes = 0;
}

/*
 * A bare CR or LF was seen.  REJECT: stop (the caller answers 550).
 * NORMALIZE: go on; returns true when the decoder should continue.
 */
static bool
data_bare(struct smtpd_data *d)
{
	if (d->mode == SMTPD_BARE_REJECT) {
		d->state = SMTPD_DATA_BARE;
		return false;
	}
	return true;
}

/*
 * A ".", CR or LF at a line start (real or bare): a "." may be the end
 * marker or dot-stuffing and is held back.
 */
static void
data_bol(struct smtpd_data *d, const char *c, bool real)
{
	switch (*c) {
	case '.':
		d->st = real ? ST_DOT : ST_DOT_BARE;
		break;
	case '\r':
		d->st = ST_CR;
		break;
	case '\n':
		/* A bare LF: an empty line in NORMALIZE mode. */
		if (data_bare(d)) {
			data_emit(d, c, 1);
			d->st = ST_BOL_BARE;
		}
		break;
	default:
		/* Not reached: smtpd_data_feed leaves text to ST_TEXT. */
		panic("smtpd_data: text at a line start");
	}
}

/*
 * The byte after a line-start "." that is not CR or LF: RFC 5321 §4.5.2
 * deletes the first "." of a line that has other characters.
 */
static void
data_after_dot(struct smtpd_data *d, const char *c)
{
	if (*c == '\n') {
		/* "." LF: a "." line that ends in a bare LF is text. */
		if (data_bare(d)) {
			data_emit(d, ".\n", 2);
			d->st = ST_BOL_BARE;
		}
	} else if (*c == '\r') {
		d->st = d->st == ST_DOT ? ST_DOT_CR : ST_DOT_BARE_CR;
	} else {
		data_emit(d, c, 1);
		d->st = ST_TEXT;
	}
}

size_t
smtpd_data_feed(struct smtpd_data *d, const char *p, size_t n)
{
	size_t i = 0, j;

	while (i < n && d->state == SMTPD_DATA_MORE) {
		switch (d->st) {
		case ST_TEXT:
			/* The common case: a run of text in one piece. */
			for (j = i; j < n && p[j] != '\r' && p[j] != '\n'; j++)
				;
			data_emit(d, p + i, j - i);
			i = j;
			if (i == n)
				break;
			if (p[i] == '\r') {
				d->st = ST_CR;
			} else if (data_bare(d)) {
				data_emit(d, p + i, 1);
				d->st = ST_BOL_BARE;
			}
			i++;
			break;
		case ST_CR:
			if (p[i] == '\n') {
				data_emit(d, p + i, 1);
				d->st = ST_BOL;
				i++;
				break;
			}
			/* The pending CR is bare; NORMALIZE keeps it as text. */
			if (!data_bare(d)) {
				i++;
				break;
			}
			data_emit(d, "\r", 1);
			if (p[i] == '\r') {
				i++;		/* still ST_CR */
				break;
			}
			data_emit(d, p + i, 1);
			d->st = ST_TEXT;
			i++;
			break;
		case ST_BOL:
		case ST_BOL_BARE:
			if (p[i] != '.' && p[i] != '\r' && p[i] != '\n') {
				/* Text: one run with the rest of the line. */
				d->st = ST_TEXT;
				break;
			}
			data_bol(d, p + i, d->st == ST_BOL);
			i++;
			break;
		case ST_DOT:
		case ST_DOT_BARE:
			data_after_dot(d, p + i);
			i++;
			break;
		case ST_DOT_CR:
			if (p[i] == '\n') {
				/* CR LF "." CR LF: the end of the data. */
				d->state = SMTPD_DATA_END;
				i++;
				break;
			}
			/* FALLTHROUGH */
		case ST_DOT_BARE_CR:
			if (p[i] == '\n') {
				/* "." CR LF after a bare LF: text, a real
				   line end. */
				data_emit(d, ".\n", 2);
				d->st = ST_BOL;
				i++;
				break;
			}
			/*
			 * "." CR and more on the line: the CR is bare, the
			 * "." stuffing (§4.5.2).  The byte after the CR is
			 * looked at again as one after a pending CR.
			 */
			if (!data_bare(d)) {
				i++;
				break;
			}
			d->st = ST_CR;
			break;
		default:
			panic("smtpd_data: bad state %d", d->st);
		}
	}
	return i;
}
