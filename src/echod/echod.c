/* SPDX-License-Identifier: MIT */
/*
 * echod sessions on libevent bufferevents: greet, echo each line, and
 * recognise master's wakeup frame on a UNIX socket; see echod.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "attr.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "master_proto.h"
#include "server.h"

#include "echod.h"

enum echod_state {
	ECHOD_FIRST,		/* UNIX peer, nothing read yet */
	ECHOD_LINES,		/* text lines */
	ECHOD_FRAME,		/* one attr frame (master's wakeup) */
	ECHOD_CLOSING,		/* flushing the last reply */
};

struct echod_session {
	struct bufferevent	*bev;
	enum echod_state	 state;
	char			 peer[SERVER_ADDR_MAX + 16];
	struct attr_reader	 frame;
	bool			 frame_used;
};

static char *echod_hostname;

void
echod_init(void)
{
	free(echod_hostname);
	echod_hostname = xstrdup(mail_conf_get("myhostname"));
}

static void
session_free(struct echod_session *s)
{
	log_info("disconnect from %s", s->peer);
	bufferevent_free(s->bev);
	if (s->frame_used)
		attr_reader_deinit(&s->frame);
	free(s);
	server_session_done();
}

static void
reply(struct echod_session *s, const char *text, const char *arg)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);

	if (evbuffer_add_printf(out, "%s%s\r\n", text,
	    arg != NULL ? arg : "") == -1)
		fatal("out of memory");
}

/* Sends what is queued, then ends the session. */
static void
finish(struct echod_session *s)
{
	s->state = ECHOD_CLOSING;
	bufferevent_disable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		session_free(s);
}

static void
line_do(struct echod_session *s, const char *line, size_t len)
{
	if (!str_is_printable(line, len)) {
		reply(s, "-ERR bad characters", NULL);
		return;
	}
	if (str_eq_ci(line, "quit")) {
		reply(s, "+OK bye", NULL);
		finish(s);
		return;
	}
	reply(s, "+OK ", line);
}

/* Handles one line if a whole one is buffered; false when waiting. */
static bool
line_step(struct echod_session *s, struct evbuffer *in)
{
	char line[ECHOD_LINE_MAX + 2];
	struct evbuffer_ptr eol;
	size_t len, eol_len;

	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (eol.pos == -1) {
		/* Room for a full line plus the CR of its CRLF. */
		if (evbuffer_get_length(in) > ECHOD_LINE_MAX + 1)
			goto too_long;
		return false;
	}
	if ((size_t)eol.pos > ECHOD_LINE_MAX + 1)
		goto too_long;
	len = (size_t)eol.pos;
	if (evbuffer_remove(in, line, len) != (int)len ||
	    evbuffer_drain(in, eol_len) == -1)
		fatal("evbuffer lost bytes");
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > ECHOD_LINE_MAX)
		goto too_long;
	line[len] = '\0';
	line_do(s, line, len);
	return true;

too_long:
	reply(s, "-ERR line too long", NULL);
	finish(s);
	return false;
}

/* Reads master's frame; every outcome ends the session. */
static void
frame_step(struct echod_session *s, struct evbuffer *in)
{
	char chunk[256];
	const void *body;
	const char *err;
	size_t len;
	int n, rc;

	while ((n = evbuffer_remove(in, chunk, sizeof(chunk))) > 0)
		if (attr_reader_feed(&s->frame, chunk, (size_t)n, &err) == -1)
			goto bad;
	rc = attr_reader_next(&s->frame, &body, &len, &err);
	if (rc == 0)
		return;
	if (rc == -1)
		goto bad;
	if (master_proto_is_wakeup(body, len))
		log_info("wakeup");
	else
		log_warn("unexpected request frame from %s", s->peer);
	finish(s);
	return;

bad:
	log_warn("bad frame from %s: %s", s->peer, err);
	finish(s);
}

static void
read_cb(struct bufferevent *bev, void *ctx)
{
	struct echod_session *s = ctx;
	struct evbuffer *in = bufferevent_get_input(bev);
	unsigned char first;

	while (evbuffer_get_length(in) > 0) {
		switch (s->state) {
		case ECHOD_FIRST:
			/* No text line starts with NUL; a frame header may. */
			if (evbuffer_copyout(in, &first, 1) != 1)
				fatal("evbuffer lost bytes");
			if (first != 0x00) {
				s->state = ECHOD_LINES;
				break;
			}
			s->state = ECHOD_FRAME;
			attr_reader_init(&s->frame, ECHOD_FRAME_MAX);
			s->frame_used = true;
			bufferevent_set_timeouts(bev,
			    &(struct timeval){ .tv_sec = ECHOD_FRAME_TIMEOUT },
			    NULL);
			break;
		case ECHOD_LINES:
			if (!line_step(s, in))
				return;
			break;
		case ECHOD_FRAME:
			frame_step(s, in);
			return;
		case ECHOD_CLOSING:
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
	}
}

static void
write_cb(struct bufferevent *bev, void *ctx)
{
	struct echod_session *s = ctx;

	(void)bev;
	if (s->state == ECHOD_CLOSING)
		session_free(s);
}

static void
event_cb(struct bufferevent *bev, short what, void *ctx)
{
	struct echod_session *s = ctx;

	(void)bev;
	/*
	 * master writes its wakeup frame and closes at once, so the greeting
	 * may fail before the frame is read: keep reading then.
	 */
	if ((what & BEV_EVENT_ERROR) && (what & BEV_EVENT_WRITING) &&
	    (s->state == ECHOD_FIRST || s->state == ECHOD_FRAME))
		return;
	if (s->state == ECHOD_FRAME)
		log_warn("bad frame from %s: %s", s->peer,
		    (what & BEV_EVENT_TIMEOUT) ? "timed out" :
		    (what & BEV_EVENT_EOF) ? "short frame" : "read error");
	/* A client that only half-closed still gets its replies. */
	if ((what & BEV_EVENT_EOF) && s->state == ECHOD_LINES) {
		finish(s);
		return;
	}
	session_free(s);
}

void
echod_session_start(int fd, const struct server_peer *peer)
{
	struct timeval idle = { .tv_sec = ECHOD_IDLE_TIMEOUT };
	struct echod_session *s;

	ASSERT(echod_hostname != NULL);
	s = xcalloc(1, sizeof(*s));
	if (peer->family == AF_UNIX) {
		s->state = ECHOD_FIRST;
		str_copy(s->peer, "unix", sizeof(s->peer));
	} else {
		s->state = ECHOD_LINES;
		str_fmt_buf(s->peer, sizeof(s->peer), "[%s]:%u", peer->addr,
		    peer->port);
	}
	s->bev = bufferevent_socket_new(server_event_base(), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		log_warn("cannot start a session for %s", s->peer);
		close(fd);
		free(s);
		server_session_done();
		return;
	}
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	bufferevent_set_timeouts(s->bev, &idle, &idle);
	if (evbuffer_add_printf(bufferevent_get_output(s->bev),
	    "+OK %s echod ready\r\n", echod_hostname) == -1)
		fatal("out of memory");
	if (bufferevent_enable(s->bev, EV_READ | EV_WRITE) == -1)
		fatal("cannot enable a bufferevent");
}
