/* SPDX-License-Identifier: MIT */
/*
 * showq sessions; see showq.h.  A session is answered synchronously: the
 * listing is written with a deadline per write, so a client that stops
 * reading costs this process at most ipc_timeout.
 * XXX: other sessions of the same process wait meanwhile; master starts
 * more showq processes (maxproc) when this one is busy.
 */
#include "config.h"

#include <limits.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "log.h"

#include "mail_conf.h"
#include "server.h"
#include "showq_client.h"

#include "showq.h"

/* Frames are written once this much is buffered. */
#define SHOWQ_FLUSH_BYTES	((size_t)64 * 1024)

struct showq_send {
	int		 fd;
	int		 timeout_ms;
	struct buf	 out;
	uint64_t	 count;
};

static int
send_flush(struct showq_send *s, const char **err_r)
{
	int rc = 0;

	if (s->out.len > 0)
		rc = attr_write_frame(s->fd, &s->out, s->timeout_ms, err_r);
	buf_reset(&s->out);
	return rc;
}

static int
send_entry(const struct showq_entry *e, void *ctx, const char **err_r)
{
	struct showq_send *s = ctx;
	const char *err;

	if (showq_put_entry(&s->out, e, &err) == -1) {
		/* Cannot happen with qfile's line limit; never stop for it. */
		log_qid_warn(e->queue_id, "not listed: %s", err);
		return 0;
	}
	s->count++;
	if (s->out.len >= SHOWQ_FLUSH_BYTES)
		return send_flush(s, err_r);
	return 0;
}

int
showq_send_listing(int fd, int timeout_ms, const char **err_r)
{
	struct showq_send s = { .fd = fd, .timeout_ms = timeout_ms };
	int rc;

	buf_init(&s.out, 0);
	rc = showq_scan(send_entry, &s, err_r);
	if (rc == 0)
		rc = showq_put_end(&s.out, s.count, err_r);
	if (rc == 0)
		rc = send_flush(&s, err_r);
	buf_deinit(&s.out);
	return rc;
}

void
showq_session_start(int fd, const struct server_peer *peer)
{
	long long t = mail_conf_time("ipc_timeout");
	int timeout_ms = t > INT_MAX / 1000 ? INT_MAX : (int)(t * 1000);
	const char *err;

	(void)peer;
	if (showq_send_listing(fd, timeout_ms, &err) == -1)
		log_warn("listing not sent: %s", err);
	close(fd);
	server_session_done();
}
