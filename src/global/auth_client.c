/* SPDX-License-Identifier: MIT */
/*
 * The authd(8) client stub: one nonblocking connection per request, one
 * frame each way, driven by the caller's event loop; see auth_client.h.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "attr.h"
#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "auth_client.h"

/* The request: four strings of at most AUTH_FIELD_MAX and the framing. */
#define AUTH_REQUEST_MAX	(4 * AUTH_FIELD_MAX + 512)
/* The reply: a name, a home directory and a reason. */
#define AUTH_REPLY_MAX		((size_t)16 * 1024)
/* How often a full listen queue is tried again. */
#define AUTH_RETRY_MS		50

struct auth_request {
	struct event_base *base;
	int		 fd;
	struct event	*io;
	struct event	*timer;		/* the overall deadline */
	struct event	*retry;		/* connect again (listen queue full) */
	struct sockaddr_un sun;
	/* SECURITY: holds the password until sent; wiped then. */
	struct buf	 out;
	size_t		 out_off;
	unsigned char	 in[ATTR_HDR_LEN + AUTH_REPLY_MAX];
	size_t		 in_len;
	auth_client_cb	*cb;
	void		*ctx;
	bool		 in_cb;
	bool		 cancelled;
};

static char auth_errbuf[256];

static void
request_free(struct auth_request *r)
{
	if (r->io != NULL)
		event_free(r->io);
	if (r->timer != NULL)
		event_free(r->timer);
	if (r->retry != NULL)
		event_free(r->retry);
	if (r->fd != -1)
		close(r->fd);
	if (r->out.data != NULL)
		explicit_bzero(r->out.data, r->out.cap);
	buf_deinit(&r->out);
	free(r);
}

void
auth_client_cancel(struct auth_request **rp)
{
	struct auth_request *r = *rp;

	if (r == NULL)
		return;
	*rp = NULL;
	if (r->in_cb) {
		/* finish() frees it once the callback returns. */
		r->cancelled = true;
		return;
	}
	request_free(r);
}

/* Reports res and ends the request. */
static void
finish(struct auth_request *r, const struct auth_result *res)
{
	r->in_cb = true;
	r->cb(r->ctx, res);
	request_free(r);
}

static void
finish_tempfail(struct auth_request *r, const char *reason)
{
	struct auth_result res = {
		.status = AUTH_TEMPFAIL,
		.uid = (uid_t)-1,
		.gid = (gid_t)-1,
		.reason = reason,
	};

	finish(r, &res);
}

static void
parse_reply(struct auth_request *r, const void *body, size_t len)
{
	uint64_t status = AUTH_TEMPFAIL, uid = UINT64_MAX, gid = UINT64_MAX;
	const char *user = NULL, *home = NULL, *reason = NULL, *err;
	struct attr_spec spec[] = {
		ATTR_U64_MAX("status", &status, AUTH_TEMPFAIL),
		ATTR_STR_OPT("user", &user),
		ATTR_SPEC_("uid", ATTR_T_U64, 0, &uid, 0, UINT32_MAX - 1, 0),
		ATTR_SPEC_("gid", ATTR_T_U64, 0, &gid, 0, UINT32_MAX - 1, 0),
		ATTR_STR_OPT("home", &home),
		ATTR_STR_OPT("reason", &reason),
		ATTR_END
	};
	struct auth_result res;

	if (attr_parse(body, len, spec, ATTR_PARSE_STRICT, &err) == -1) {
		finish_tempfail(r, str_fmt_buf(auth_errbuf,
		    sizeof(auth_errbuf), "malformed reply from authd: %s",
		    err));
		return;
	}
	if (status == AUTH_OK && (user == NULL || user[0] == '\0')) {
		finish_tempfail(r, "malformed reply from authd: no user");
		return;
	}
	memset(&res, 0, sizeof(res));
	res.status = (enum auth_status)status;
	res.reason = reason != NULL ? reason : "";
	res.uid = (uid_t)-1;
	res.gid = (gid_t)-1;
	if (status == AUTH_OK) {
		res.user = user;
		res.home = home != NULL ? home : "";
		if (uid != UINT64_MAX)
			res.uid = (uid_t)uid;
		if (gid != UINT64_MAX)
			res.gid = (gid_t)gid;
	}
	finish(r, &res);
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct auth_request *r = arg;
	size_t need;
	ssize_t n;

	(void)what;
	n = read(fd, r->in + r->in_len, sizeof(r->in) - r->in_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) {
		finish_tempfail(r, str_fmt_buf(auth_errbuf,
		    sizeof(auth_errbuf), "read from authd: %s",
		    strerror(errno)));
		return;
	}
	if (n == 0) {
		finish_tempfail(r, r->in_len == 0 ?
		    "authd closed the connection" :
		    "malformed reply from authd: short frame");
		return;
	}
	r->in_len += (size_t)n;
	if (r->in_len < ATTR_HDR_LEN)
		return;
	need = attr_hdr_decode(r->in);
	if (need > AUTH_REPLY_MAX) {
		finish_tempfail(r, "malformed reply from authd: too long");
		return;
	}
	if (r->in_len < ATTR_HDR_LEN + need)
		return;
	if (r->in_len > ATTR_HDR_LEN + need) {
		finish_tempfail(r, "malformed reply from authd: "
		    "data after the reply");
		return;
	}
	parse_reply(r, r->in + ATTR_HDR_LEN, need);
}

static void
watch(struct auth_request *r, short what, event_callback_fn fn)
{
	if (r->io != NULL)
		event_free(r->io);
	r->io = event_new(r->base, r->fd, what | EV_PERSIST, fn, r);
	if (r->io == NULL || event_add(r->io, NULL) == -1)
		fatal("cannot watch the authd connection");
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
	struct auth_request *r = arg;
	ssize_t n;

	(void)what;
	while (r->out_off < r->out.len) {
		n = send(fd, r->out.data + r->out_off,
		    r->out.len - r->out_off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1) {
			finish_tempfail(r, str_fmt_buf(auth_errbuf,
			    sizeof(auth_errbuf), "write to authd: %s",
			    strerror(errno)));
			return;
		}
		r->out_off += (size_t)n;
	}
	/* SECURITY: the password has left; no copy stays here. */
	explicit_bzero(r->out.data, r->out.cap);
	buf_reset(&r->out);
	watch(r, EV_READ, on_read);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish_tempfail(arg, "authd did not answer in time");
}

/* 1 connected, 0 listen queue full (try again), -1 with err_r. */
static int
try_connect(struct auth_request *r, const char **err_r)
{
	if (r->fd == -1) {
		r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (r->fd == -1) {
			*err_r = str_fmt_buf(auth_errbuf, sizeof(auth_errbuf),
			    "socket: %s", strerror(errno));
			return -1;
		}
	}
	if (connect(r->fd, (struct sockaddr *)&r->sun, sizeof(r->sun)) == 0)
		return 1;
	if (errno == EAGAIN || errno == EINTR) {
		/* A UNIX socket's connect cannot be waited for: redo it. */
		close(r->fd);
		r->fd = -1;
		return 0;
	}
	*err_r = str_fmt_buf(auth_errbuf, sizeof(auth_errbuf),
	    "connect to %s: %s", AUTH_SERVICE_PATH, strerror(errno));
	return -1;
}

static void
arm(struct event *ev, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (evtimer_add(ev, &tv) == -1)
		fatal("cannot arm a timer");
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct auth_request *r = arg;
	const char *err;

	(void)fd;
	(void)what;
	switch (try_connect(r, &err)) {
	case 1:
		watch(r, EV_WRITE, on_write);
		return;
	case 0:
		arm(r->retry, AUTH_RETRY_MS);
		return;
	default:
		finish_tempfail(r, err);
	}
}

/* The request frame, built where no reallocation leaves a copy. */
static int
build_request(struct auth_request *r, const char *service, const char *user,
    const char *password, const char *client_addr, bool secured,
    const char **err_r)
{
	static const char blank[AUTH_REQUEST_MAX];
	struct attr_writer w;

	buf_init(&r->out, AUTH_REQUEST_MAX);
	buf_add(&r->out, blank, sizeof(blank));
	buf_reset(&r->out);
	attr_frame_begin(&w, &r->out);
	attr_put_str(&w, "service", service);
	attr_put_str(&w, "user", user);
	attr_put_str(&w, "password", password);
	attr_put_str(&w, "client_addr", client_addr);
	attr_put_bool(&w, "secured", secured);
	return attr_frame_end(&w, err_r);
}

struct auth_request *
auth_client_start(struct event_base *base, const char *service,
    const char *user, const char *password, const char *client_addr,
    bool secured, auth_client_cb *cb, void *ctx, const char **err_r)
{
	struct auth_request *r;

	if (strlen(user) > AUTH_FIELD_MAX || strlen(password) > AUTH_FIELD_MAX) {
		*err_r = "user name or password too long";
		return NULL;
	}
	if (strlen(service) > AUTH_FIELD_MAX ||
	    strlen(client_addr) > AUTH_FIELD_MAX) {
		*err_r = "service or client address too long";
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->base = base;
	r->fd = -1;
	r->cb = cb;
	r->ctx = ctx;
	r->sun.sun_family = AF_UNIX;
	if (str_copy(r->sun.sun_path, AUTH_SERVICE_PATH,
	    sizeof(r->sun.sun_path)) >= sizeof(r->sun.sun_path))
		panic("AUTH_SERVICE_PATH too long");
	if (build_request(r, service, user, password, client_addr, secured,
	    err_r) == -1) {
		request_free(r);
		return NULL;
	}
	r->timer = evtimer_new(base, on_timeout, r);
	r->retry = evtimer_new(base, on_retry, r);
	if (r->timer == NULL || r->retry == NULL)
		fatal("cannot create a timer");
	switch (try_connect(r, err_r)) {
	case 1:
		watch(r, EV_WRITE, on_write);
		break;
	case 0:
		arm(r->retry, AUTH_RETRY_MS);
		break;
	default:
		request_free(r);
		return NULL;
	}
	arm(r->timer, AUTH_CLIENT_TIMEOUT_MS);
	return r;
}
