/* SPDX-License-Identifier: MIT */
/*
 * The server skeleton: from master's exec to a running event loop, and
 * the process life cycle master relies on (status frames, max_use,
 * max_idle, orderly stop); see server.h and master_proto.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "priv.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "master_proto.h"
#include "server.h"

#define SERVER_LISTEN_MAX	64
/* How long accepting pauses when we run out of descriptors. */
#define SERVER_EMFILE_PAUSE	1

static const struct server_spec *srv_spec;
static struct event_base *srv_base;
static char *srv_service;
static char *srv_type;
static struct strv srv_args;

static int srv_listen_fd[SERVER_LISTEN_MAX];
static struct event *srv_listen_ev[SERVER_LISTEN_MAX];
static int srv_listen_count;

static struct event *srv_status_ev;
static struct event *srv_term_ev;
static struct event *srv_idle_ev;
static struct event *srv_pause_ev;

static long long srv_max_use;
static long long srv_max_idle;
static long long srv_busy_at = 1;	/* sessions that make us busy */
static long long srv_sessions;		/* in progress */
static long long srv_holds;		/* server_hold without release */
static long long srv_served;		/* accepted so far */
static bool srv_accepting;		/* listeners open and enabled */
static bool srv_stopped;		/* accepting has ended for good */
static bool srv_paused;			/* EMFILE back-off */
static bool srv_stop_requested;		/* master or SIGTERM said go */
static bool srv_told_busy;		/* last status frame sent */
static bool srv_status_broken;		/* master no longer listens */

static _Noreturn void
usage(const char *why)
{
	fatal("%s; usage: %s -n service -t type -s count [-c config_dir] "
	    "[-u] [-j] [-o name=value]... [argument...]", why,
	    srv_spec->name);
}

static void request_stop(const char *why);

/* Sessions are descriptors: take the soft limit up to the hard one. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Exits the loop when nothing is left to do. */
static void
maybe_finish(void)
{
	if (!srv_accepting && srv_sessions == 0 && srv_holds == 0)
		event_base_loopbreak(srv_base);
}

static void
send_status(bool busy)
{
	const char *err;
	char why[128];

	if (srv_status_broken || srv_told_busy == busy)
		return;
	srv_told_busy = busy;
	if (master_proto_send_status(MASTER_STATUS_FD, busy, &err) == -1) {
		/* master is gone or stuck: do what it would ask for. */
		srv_status_broken = true;
		request_stop(str_fmt_buf(why, sizeof(why),
		    "status channel: %s", err));
	}
}

static void
idle_arm(void)
{
	struct timeval tv = { .tv_sec = (time_t)srv_max_idle };

	if (srv_idle_ev != NULL && srv_accepting)
		evtimer_add(srv_idle_ev, &tv);
}

static void
listeners_enable(bool on)
{
	for (int i = 0; i < srv_listen_count; i++) {
		if (srv_listen_ev[i] == NULL)
			continue;
		if (on && event_add(srv_listen_ev[i], NULL) == -1)
			fatal("cannot watch listening socket");
		if (!on)
			event_del(srv_listen_ev[i]);
	}
}

/* No more connections in this process: master's copies stay open. */
static void
stop_accepting(void)
{
	srv_stopped = true;
	if (!srv_accepting)
		return;
	srv_accepting = false;
	listeners_enable(false);
	for (int i = 0; i < srv_listen_count; i++)
		if (srv_listen_fd[i] != -1) {
			close(srv_listen_fd[i]);
			srv_listen_fd[i] = -1;
		}
	if (srv_idle_ev != NULL)
		evtimer_del(srv_idle_ev);
	if (srv_pause_ev != NULL)
		evtimer_del(srv_pause_ev);
}

static void
request_stop(const char *why)
{
	if (srv_stop_requested)
		return;
	srv_stop_requested = true;
	if (srv_sessions > 0)
		log_info("stopping (%s) with %lld session%s in progress",
		    why, srv_sessions, srv_sessions == 1 ? "" : "s");
	stop_accepting();
	event_del(srv_status_ev);
	event_del(srv_term_ev);
	if (srv_spec->on_stop != NULL)
		srv_spec->on_stop();
	maybe_finish();
}

static void
status_cb(evutil_socket_t fd, short what, void *ctx)
{
	char junk[64], why[128];
	ssize_t n;

	(void)what;
	(void)ctx;
	n = read(fd, junk, sizeof(junk));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		/* master never writes: a peer that does is broken. */
		log_warn("unexpected data on the master status channel");
		srv_status_broken = true;
	}
	if (n == 0)
		request_stop("master closed the status channel");
	else if (n > 0)
		request_stop("protocol error on the status channel");
	else
		request_stop(str_fmt_buf(why, sizeof(why), "status channel: %s",
		    strerror(errno)));
}

static void
term_cb(evutil_socket_t sig, short what, void *ctx)
{
	(void)sig;
	(void)what;
	(void)ctx;
	request_stop("SIGTERM");
}

static void
idle_cb(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	(void)ctx;
	if (srv_sessions == 0)
		stop_accepting();
	maybe_finish();
}

static void
pause_cb(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	(void)ctx;
	srv_paused = false;
	if (srv_accepting)
		listeners_enable(true);
}

/* Numeric text for sa, with IPv4-mapped IPv6 shown as IPv4. */
static void
addr_text(const struct sockaddr_storage *ss, char *addr, unsigned *port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const char *ok = NULL;

	*port = 0;
	if (ss->ss_family == AF_INET) {
		ok = inet_ntop(AF_INET, &sin->sin_addr, addr, SERVER_ADDR_MAX);
		*port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			ok = inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12],
			    addr, SERVER_ADDR_MAX);
		else
			ok = inet_ntop(AF_INET6, &sin6->sin6_addr, addr,
			    SERVER_ADDR_MAX);
		*port = ntohs(sin6->sin6_port);
	}
	if (ok == NULL)
		str_copy(addr, "unknown", SERVER_ADDR_MAX);
}

static void
peer_fill(int fd, struct server_peer *p)
{
	memset(p, 0, sizeof(*p));
	p->service = srv_service;
	p->type = srv_type;
	p->sa_len = sizeof(p->sa);
	p->local_sa_len = sizeof(p->local_sa);
	if (getpeername(fd, (struct sockaddr *)&p->sa, &p->sa_len) == -1)
		p->sa_len = 0;
	if (getsockname(fd, (struct sockaddr *)&p->local_sa,
	    &p->local_sa_len) == -1)
		p->local_sa_len = 0;
	p->family = p->local_sa_len > 0 ? p->local_sa.ss_family : AF_UNSPEC;
	if (p->family == AF_INET || p->family == AF_INET6) {
		addr_text(&p->sa, p->addr, &p->port);
		addr_text(&p->local_sa, p->local_addr, &p->local_port);
		return;
	}
	memset(&p->sa, 0, sizeof(p->sa));
	memset(&p->local_sa, 0, sizeof(p->local_sa));
	p->sa_len = p->local_sa_len = 0;
	str_copy(p->addr, "unix", sizeof(p->addr));
	str_copy(p->local_addr, "unix", sizeof(p->local_addr));
}

static void
session_begin(int fd)
{
	struct server_peer peer;

	srv_sessions++;
	srv_served++;
	if (srv_idle_ev != NULL)
		evtimer_del(srv_idle_ev);
	if (srv_served >= srv_max_use) {
		/* Busy now, so that master starts another process. */
		stop_accepting();
	}
	if (srv_sessions >= srv_busy_at || !srv_accepting)
		send_status(true);
	peer_fill(fd, &peer);
	srv_spec->on_connect(fd, &peer);
}

static void
accept_cb(evutil_socket_t lfd, short what, void *ctx)
{
	(void)what;
	(void)ctx;
	while (srv_accepting && !srv_paused) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd != -1) {
			session_begin(fd);
			continue;
		}
		switch (errno) {
		case EAGAIN:
		case ECONNABORTED:
		case EINTR:
		case EPROTO:
			/* Another process won, or the client gave up. */
			return;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM: {
			struct timeval tv = { .tv_sec = SERVER_EMFILE_PAUSE };

			log_warn("accept: %s; pausing for %d second",
			    strerror(errno), SERVER_EMFILE_PAUSE);
			srv_paused = true;
			listeners_enable(false);
			evtimer_add(srv_pause_ev, &tv);
			return;
		}
		default:
			fatal("accept: %s", strerror(errno));
		}
	}
}

void
server_session_done(void)
{
	if (srv_sessions <= 0)
		panic("server_session_done without a session");
	srv_sessions--;
	if (srv_accepting && srv_sessions < srv_busy_at)
		send_status(false);
	if (srv_sessions > 0)
		return;
	if (srv_accepting)
		idle_arm();
	maybe_finish();
}

void
server_hold(void)
{
	srv_holds++;
}

void
server_release(void)
{
	if (srv_holds <= 0)
		panic("server_release without server_hold");
	srv_holds--;
	maybe_finish();
}

static void
set_flags(int fd, const char *what)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		fatal("%s (fd %d): %s", what, fd, strerror(errno));
}

/* The descriptors must be what master_proto.h promises. */
static void
check_fds(void)
{
	struct stat st;
	int acc;
	socklen_t len;

	if (fstat(MASTER_STATUS_FD, &st) == -1 || !S_ISSOCK(st.st_mode))
		fatal("descriptor %d is not the master status socket; "
		    "not started by master(8)?", MASTER_STATUS_FD);
	set_flags(MASTER_STATUS_FD, "status channel");
	for (int i = 0; i < srv_listen_count; i++) {
		int fd = MASTER_LISTEN_FD + i;

		len = sizeof(acc);
		if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
			fatal("descriptor %d is not a listening socket; "
			    "not started by master(8)?", fd);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc,
		    &len) == -1 || acc == 0)
			fatal("descriptor %d is a socket but does not listen",
			    fd);
		set_flags(fd, "listening socket");
		srv_listen_fd[i] = fd;
	}
}

static void
parse_args(int argc, char **argv, struct strv *overrides, const char **dir,
    bool *unpriv, bool *jail)
{
	long long count = 0;
	const char *err;
	char why[64];
	int c;

	opterr = 0;
	optind = 1;
	/* '+': stop at the first argument that is not an option. */
	while ((c = getopt(argc, argv, "+c:jn:o:s:t:u")) != -1) {
		switch (c) {
		case 'c':
			*dir = optarg;
			break;
		case 'j':
			*jail = true;
			break;
		case 'n':
			free(srv_service);
			srv_service = xstrdup(optarg);
			break;
		case 'o':
			strv_push(overrides, optarg);
			break;
		case 's':
			if (str_to_ll(optarg, 1, SERVER_LISTEN_MAX, &count,
			    &err) == -1) {
				char *esc = log_escape_str(optarg);

				fatal("-s %s: %s (expected 1..%d)", esc, err,
				    SERVER_LISTEN_MAX);
			}
			break;
		case 't':
			free(srv_type);
			srv_type = xstrdup(optarg);
			break;
		case 'u':
			*unpriv = true;
			break;
		default:
			if (optopt != 0 && strchr("cnost", optopt) != NULL)
				fatal("-%c needs a value", optopt);
			if (optopt > ' ' && optopt < 0x7f)
				usage(str_fmt_buf(why, sizeof(why),
				    "unknown option -%c", optopt));
			usage("unknown option");
		}
	}
	if (srv_service == NULL || srv_type == NULL || count == 0)
		usage("-n, -t or -s missing: not started by master(8)?");
	if (srv_service[0] == '\0' || srv_type[0] == '\0')
		usage("empty service name or type");
	srv_listen_count = (int)count;
	for (int i = optind; i < argc; i++)
		strv_push(&srv_args, argv[i]);
}

/* To mail_owner, keeping the spec's extra group when there is one. */
static void
drop_to_mail_owner(const char *jail)
{
	const char *name = srv_spec->extra_group;
	struct priv_user u;
	struct group *gr = NULL;

	priv_lookup_or_die(mail_conf_get("mail_owner"), "mail_owner", &u);
	if (name != NULL && priv_is_root()) {
		errno = 0;
		gr = getgrnam(name);
		if (gr == NULL)
			log_warn("group %s does not exist; running without it",
			    name);
		else if (gr->gr_gid == 0)
			fatal("refusing to keep group %s: it is group root",
			    name);
	}
	if (gr != NULL)
		priv_drop_extra_group(&u, gr->gr_gid, jail);
	else
		priv_drop(&u, jail);
	priv_user_deinit(&u);
}

static void
jail_and_drop(bool unpriv, bool jail)
{
	const char *qdir = mail_conf_get("queue_directory");

	/* Relative paths mean the queue, jailed or not. */
	if (chdir(qdir) == -1)
		fatal("chdir %s: %s", qdir, strerror(errno));
	if (unpriv) {
		drop_to_mail_owner(jail ? qdir : NULL);
		return;
	}
	if (jail && priv_is_root()) {
		if (chroot(qdir) == -1 || chdir("/") == -1)
			fatal("chroot %s: %s", qdir, strerror(errno));
		return;
	}
	/* Root without -u stays root (local delivery needs it). */
}

static struct event *
new_event(evutil_socket_t fd, short what, event_callback_fn cb)
{
	struct event *ev = event_new(srv_base, fd, what, cb, NULL);

	if (ev == NULL)
		fatal("cannot create an event");
	return ev;
}

static void
cleanup(void)
{
	for (int i = 0; i < srv_listen_count; i++)
		if (srv_listen_ev[i] != NULL)
			event_free(srv_listen_ev[i]);
	event_free(srv_status_ev);
	event_free(srv_term_ev);
	event_free(srv_pause_ev);
	if (srv_idle_ev != NULL)
		event_free(srv_idle_ev);
	event_base_free(srv_base);
	srv_base = NULL;
	close(MASTER_STATUS_FD);
	strv_deinit(&srv_args);
	free(srv_service);
	free(srv_type);
	srv_service = srv_type = NULL;
	mail_conf_unload();
}

int
server_main(const struct server_spec *spec, int argc, char **argv)
{
	struct strv overrides;
	const char *dir = NULL, *err;
	bool unpriv = false, jail = false;

	if (spec->name == NULL || spec->on_connect == NULL)
		panic("server_main: spec without name or on_connect");
	srv_spec = spec;
	log_init(spec->name);
	strv_init(&overrides);
	strv_init(&srv_args);
	parse_args(argc, argv, &overrides, &dir, &unpriv, &jail);
	mail_conf_load(dir, &overrides);
	strv_deinit(&overrides);
	if (mail_conf_open_log(&err) == -1)
		fatal("cannot open the log: %s", err);
	srv_max_use = spec->resident ? LLONG_MAX : mail_conf_int("max_use");
	srv_max_idle = mail_conf_time("max_idle");
	if (spec->sessions_param != NULL) {
		/*
		 * A process that serves many sessions at once uses max_use
		 * up that many times faster: count it in those units.
		 */
		srv_busy_at = mail_conf_int(spec->sessions_param);
		if (__builtin_mul_overflow(srv_max_use, srv_busy_at,
		    &srv_max_use))
			srv_max_use = LLONG_MAX;
		raise_fd_limit();
	}
	check_fds();
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("cannot ignore SIGPIPE: %s", strerror(errno));

	if ((srv_base = event_base_new()) == NULL)
		fatal("cannot create the event loop");
	if (spec->pre_jail != NULL)
		spec->pre_jail();
	jail_and_drop(unpriv, jail);
	if (spec->post_jail != NULL)
		spec->post_jail();

	for (int i = 0; i < srv_listen_count; i++)
		srv_listen_ev[i] = new_event(srv_listen_fd[i],
		    EV_READ | EV_PERSIST, accept_cb);
	srv_status_ev = new_event(MASTER_STATUS_FD, EV_READ | EV_PERSIST,
	    status_cb);
	srv_term_ev = evsignal_new(srv_base, SIGTERM, term_cb, NULL);
	if (srv_term_ev == NULL)
		fatal("cannot create an event");
	srv_pause_ev = new_event(-1, 0, pause_cb);
	if (!spec->resident)
		srv_idle_ev = new_event(-1, 0, idle_cb);
	if (event_add(srv_status_ev, NULL) == -1 ||
	    event_add(srv_term_ev, NULL) == -1)
		fatal("cannot watch the status channel or SIGTERM");
	srv_accepting = true;
	listeners_enable(true);
	idle_arm();

	if (event_base_dispatch(srv_base) == -1)
		fatal("event loop failed");
	if (srv_sessions > 0)
		panic("event loop ended with %lld sessions", srv_sessions);
	cleanup();
	return 0;
}

struct event_base *
server_event_base(void)
{
	if (srv_base == NULL)
		panic("server_event_base outside server_main");
	return srv_base;
}

const char *
server_service_name(void)
{
	return srv_service != NULL ? srv_service : srv_spec->name;
}

const char *
server_service_type(void)
{
	return srv_type != NULL ? srv_type : "unix";
}

const struct strv *
server_args(void)
{
	return &srv_args;
}

bool
server_stopping(void)
{
	return srv_stopped;
}
