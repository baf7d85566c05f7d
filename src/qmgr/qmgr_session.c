/* SPDX-License-Identifier: MIT */
/*
 * Requests on qmgr's public socket: wakeup and flush frames, any number
 * per connection; see qmgr.h.  A frame that does not parse ends the
 * connection (STYLE.md: never guess).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "attr.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "master_proto.h"
#include "qid.h"
#include "server.h"

#include "qmgr.h"

/* A client that sends nothing for this long is dropped. */
#define SESSION_TIMEOUT	60

struct qmgr_session {
	int		 fd;
	struct event	*ev;
	struct attr_reader rd;
};

static void
session_end(struct qmgr_session *s)
{
	event_free(s->ev);
	close(s->fd);
	attr_reader_deinit(&s->rd);
	free(s);
	server_session_done();
}

/* Handles one frame; -1 when it is not a request we know. */
static int
session_frame(const void *body, size_t len, const char **err_r)
{
	const char *request = NULL, *qid = NULL, *site = NULL;
	const struct attr_spec spec[] = {
		ATTR_STR("request", &request),
		ATTR_STR_OPT("queue_id", &qid),
		ATTR_STR_OPT("site", &site),
		ATTR_END
	};

	if (master_proto_is_wakeup(body, len)) {
		qmgr_scan_request(false);
		return 0;
	}
	if (attr_parse(body, len, spec, ATTR_PARSE_IGNORE_UNKNOWN,
	    err_r) == -1)
		return -1;
	if (strcmp(request, "wakeup") == 0) {
		qmgr_scan_request(false);
		return 0;
	}
	if (strcmp(request, "flush") != 0) {
		*err_r = "unknown request";
		return -1;
	}
	if (qid != NULL && !qid_valid(qid)) {
		*err_r = "bad queue_id";
		return -1;
	}
	if (site != NULL && (site[0] == '\0' ||
	    !str_is_printable(site, strlen(site)))) {
		*err_r = "bad site";
		return -1;
	}
	qmgr_flush(qid, site);
	return 0;
}

static void
session_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr_session *s = arg;
	const void *body;
	const char *err = "timed out";
	size_t len;
	int rc;

	(void)fd;
	if (what & EV_TIMEOUT)
		goto bad;
	rc = attr_reader_fill(&s->rd, s->fd, &err);
	if (rc == 0 && !attr_reader_pending(&s->rd)) {
		session_end(s);
		return;
	}
	if (rc == 0)
		err = "short frame";
	if (rc != 1)
		goto bad;
	while ((rc = attr_reader_next(&s->rd, &body, &len, &err)) == 1) {
		if (session_frame(body, len, &err) == -1)
			goto bad;
		attr_reader_consume(&s->rd);
	}
	if (rc == -1)
		goto bad;
	return;

bad:
	log_warn("bad request on the qmgr socket: %s", err);
	session_end(s);
}

void
qmgr_session_start(int fd, const struct server_peer *peer)
{
	struct qmgr_session *s = xcalloc(1, sizeof(*s));
	struct timeval tv = { SESSION_TIMEOUT, 0 };

	(void)peer;
	s->fd = fd;
	attr_reader_init(&s->rd, QMGR_REQUEST_MAX);
	s->ev = event_new(server_event_base(), fd, EV_READ | EV_PERSIST,
	    session_read_cb, s);
	if (s->ev == NULL || event_add(s->ev, &tv) == -1)
		fatal("cannot watch a qmgr client");
}
