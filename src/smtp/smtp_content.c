/* SPDX-License-Identifier: MIT */
/*
 * The content of a message on its way out (see smtp_session.h): read
 * from the queue file in CHUNK pieces with pread, LF line ends (and a
 * lone CR) turned into CRLF, dot-stuffed for DATA or framed as BDAT
 * chunks, and written while the output buffer stays under OUT_HIGH;
 * smtp_session.c calls smtp_content_pump again when the output drains.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"

#include "smtp.h"
#include "smtp_session.h"
#include "smtp_session_priv.h"

#define OUT_HIGH	(256 * 1024)	/* stop converting above this */

/* 1 when the content has a byte above 127, 0 if not, -1 on error. */
int
smtp_content_8bit(const struct deliver_request *req, unsigned char *tmp)
{
	uint64_t pos = 0;

	while (pos < req->content_size) {
		uint64_t left = req->content_size - pos;
		size_t want = left < CHUNK ? (size_t)left : CHUNK;
		ssize_t r = pread(req->fd, tmp, want,
		    (off_t)(req->content_off + pos));

		if (r <= 0)
			return -1;
		for (ssize_t k = 0; k < r; k++)
			if (tmp[k] > 127)
				return 1;
		pos += (uint64_t)r;
	}
	return 0;
}

/*
 * Converts n bytes of the queue file's content: LF and a lone CR end a
 * line (CR LF is one end), each as CR LF, and a "." that starts a line
 * is doubled for DATA (RFC 5321 §4.5.2).  Returns the bytes in out
 * (at most 2 n).
 */
static size_t
convert(struct smtp_session *s, const unsigned char *in, size_t n,
    unsigned char *out)
{
	size_t o = 0;

	for (size_t k = 0; k < n; k++) {
		unsigned char c = in[k];

		if (c == '\n' && s->prev_cr) {
			s->prev_cr = false;
			continue;
		}
		s->prev_cr = c == '\r';
		if (c == '\r' || c == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			s->bol = true;
			continue;
		}
		if (s->bol && c == '.' && !s->bdat)
			out[o++] = '.';
		out[o++] = c;
		s->bol = false;
	}
	return o;
}

static void
push_done(struct smtp_session *s)
{
	/* RFC 2033 §4.2: LMTP answers once per accepted recipient. */
	if (smtp_conf.lmtp)
		for (size_t k = 0; k < s->naccepted; k++)
			smtp_session_pend_push(s, C_DOT, k);
	else
		smtp_session_pend_push(s, C_DOT, 0);
}

void
smtp_content_pump(struct smtp_session *s)
{
	const struct deliver_request *req = s->req;
	struct evbuffer *out;

	while (s->xfer && s->bev != NULL) {
		uint64_t left = req->content_size - s->pos;
		size_t want = left < CHUNK ? (size_t)left : CHUNK;
		ssize_t r = 0;
		size_t m;
		bool last;

		out = bufferevent_get_output(s->bev);
		if (evbuffer_get_length(out) >= OUT_HIGH)
			break;
		/* RFC 3030 §4.2: BDAT in lock-step without PIPELINING. */
		if (s->bdat && !s->pipelining && !smtp_session_pend_empty(s))
			break;
		if (want > 0) {
			r = pread(req->fd, s->inbuf, want,
			    (off_t)(req->content_off + s->pos));
			if (r <= 0) {
				smtp_session_broke(s, "4.3.0", "cannot read "
				    "the message content: %s", r == 0 ?
				    "short file" : strerror(errno));
				return;
			}
		}
		s->pos += (uint64_t)r;
		last = s->pos == req->content_size;
		m = convert(s, s->inbuf, (size_t)r, s->outbuf);
		if (last && !s->bol) {
			s->outbuf[m++] = '\r';
			s->outbuf[m++] = '\n';
			s->bol = true;
		}
		if (s->bdat) {
			char hdr[64];

			snprintf(hdr, sizeof(hdr), "BDAT %zu%s", m,
			    last ? " LAST" : "");
			smtp_session_send_line(s, hdr);
			if (!last)
				smtp_session_pend_push(s, C_BDAT, 0);
		}
		if (m > 0 && bufferevent_write(s->bev, s->outbuf, m) == -1)
			fatal("cannot queue output");
		if (last) {
			if (!s->bdat)
				smtp_session_send_line(s, ".");
			push_done(s);
			s->xfer = false;
			bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
		}
	}
	smtp_session_arm(s);
}

void
smtp_content_start(struct smtp_session *s)
{
	s->xfer = true;
	s->pos = 0;
	s->bol = true;
	s->prev_cr = false;
	bufferevent_setwatermark(s->bev, EV_WRITE, OUT_HIGH / 2, 0);
	smtp_content_pump(s);
}
