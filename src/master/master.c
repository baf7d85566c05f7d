/* SPDX-License-Identifier: MIT */
/*
 * master(8): everything that can go wrong at startup is checked in the
 * foreground process, which prints the error and exits 1, or exits 0 once
 * the background master has its lock, its listeners and its services.
 * Then the event loop turns signals into reload, stop and abort, and
 * SIGCHLD into reaping; master_service.c does the rest.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "mastercf.h"
#include "priv.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "mail_dirs.h"
#include "master_pid.h"

#include "master.h"
#include "master_service.h"
#include "master_spawn.h"

struct master_state {
	struct event_base *base;
	struct master_conf *conf;
	struct master_service **svcs;
	size_t		 nsvcs;
	struct event	*sig_ev[5];
	struct event	*stop_ev;
	bool		 stopping;
};

static bool log_opened;		/* log lines go where main.cf says */
static int ready_fd = -1;	/* the detached child's word to its parent */

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: master [-d] [-c config_dir]\n");
	exit(1);
}

/*
 * A startup error: to the invoking terminal (or, once detached, through
 * the pipe the foreground process waits on) and to the log.
 */
static _Noreturn void LOG_PRINTF(1, 2)
start_fatal(const char *fmt, ...)
{
	char *msg, *line;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	line = xasprintf("tern/master: fatal: %s\n", msg);
	if (ready_fd != -1)
		(void)!write(ready_fd, line, strlen(line));
	else
		(void)!write(STDERR_FILENO, line, strlen(line));
	if (log_opened)
		fatal("%s", msg);
	exit(1);
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The configuration directory as an absolute path where possible. */
static char *
config_dir_arg(const char *opt)
{
	const char *dir = opt;
	char *abs;

	if (dir == NULL || dir[0] == '\0')
		dir = getenv("MAIL_CONFIG");
	if (dir == NULL || dir[0] == '\0')
		return NULL;
	abs = realpath(dir, NULL);
	return abs != NULL ? abs : xstrdup(dir);
}

/* The snapshot of the loaded main.cf that master itself works from. */
static struct master_conf *
conf_snapshot(const char **err_r)
{
	struct master_conf *c = xcalloc(1, sizeof(*c));

	c->config_dir = xstrdup(mail_conf_dir());
	c->queue_dir = xstrdup(mail_conf_get("queue_directory"));
	c->daemon_dir = xstrdup(mail_conf_get("daemon_directory"));
	c->throttle_time = mail_conf_time("service_throttle_time");
	c->stop_timeout = mail_conf_time("master_stop_timeout");
	master_spawn_env(mail_conf_list("import_environment"), &c->env);
	if (master_net_init(&c->net, mail_conf_list("inet_protocols"),
	    mail_conf_list("inet_interfaces"), err_r) == -1) {
		master_conf_free(&c);
		return NULL;
	}
	return c;
}

/* Rejects service types master cannot run; NULL when all are fine. */
static const char *
check_types(const struct mastercf *mc)
{
	static char errbuf[512];

	for (size_t i = 0; i < mc->n; i++) {
		const struct mastercf_entry *e = &mc->e[i];

		if (!str_eq(e->type, "inet") && !str_eq(e->type, "unix"))
			return str_fmt_buf(errbuf, sizeof(errbuf), "%s, line "
			    "%u: service type %s is not supported", e->file,
			    e->line, e->type);
	}
	return NULL;
}

static void
check_users(void)
{
	const char *owner = mail_conf_get("mail_owner");
	const char *group = mail_conf_get("setgid_group");
	struct priv_user u;
	struct passwd *pw;
	const char *err;
	int rc;

	rc = priv_lookup(owner, &u, &err);
	if (rc == -1)
		start_fatal("mail_owner %s: %s", owner, err);
	if (priv_is_root()) {
		if (rc == 0)
			start_fatal("mail_owner: unknown user %s", owner);
		if (u.uid == 0)
			start_fatal("mail_owner %s must not be root (uid 0)",
			    owner);
		priv_user_deinit(&u);
		errno = 0;
		if (getgrnam(group) == NULL)
			start_fatal("setgid_group: unknown group %s", group);
		return;
	}
	if (rc == 1 && u.uid == getuid()) {
		priv_user_deinit(&u);
		return;
	}
	if (rc == 1)
		priv_user_deinit(&u);
	pw = getpwuid(getuid());
	if (pw == NULL)
		start_fatal("mail_owner is %s but the instance runs as uid "
		    "%ld, which has no name", owner, (long)getuid());
	start_fatal("mail_owner is %s but the instance runs as %s; set "
	    "mail_owner = %s", owner, pw->pw_name, pw->pw_name);
}

/* mail_dirs_check(true): logs each line; the problems when it fails. */
static char *
check_dirs(void)
{
	struct strv report;
	char *problems = NULL;

	strv_init(&report);
	if (mail_dirs_check(true, &report) == -1)
		problems = report.n > 0 ? strv_join(&report, "; ") :
		    xstrdup("unknown problem");
	for (size_t i = 0; i < report.n; i++)
		log_info("%s", report.v[i]);
	strv_deinit(&report);
	return problems;
}

static void
free_services(struct master_state *st)
{
	for (size_t i = 0; i < st->nsvcs; i++)
		master_service_free(&st->svcs[i]);
	free(st->svcs);
	st->svcs = NULL;
	st->nsvcs = 0;
}

/*
 * Builds the services of mc.  At startup (reload false) an address that
 * cannot be used is fatal; at reload the service is disabled.
 */
static void
build_services(struct master_state *st, const struct mastercf *mc,
    bool reload)
{
	st->svcs = xcalloc(mc->n + 1, sizeof(*st->svcs));
	st->nsvcs = 0;
	for (size_t i = 0; i < mc->n; i++) {
		const struct mastercf_entry *e = &mc->e[i];
		struct master_service *svc;
		const char *err;
		int rc;

		rc = master_service_new(e, st->conf, &svc, &err);
		if (rc == 1) {
			log_warn("%s, line %u: service %s/%s: %s; service "
			    "disabled", e->file, e->line, e->service, e->type,
			    err);
			continue;
		}
		if (rc == -1 && !reload)
			start_fatal("%s, line %u: %s", e->file, e->line, err);
		if (rc == -1) {
			log_warn("%s, line %u: %s; service disabled", e->file,
			    e->line, err);
			continue;
		}
		st->svcs[st->nsvcs++] = svc;
	}
}

/* Opens what is not open yet; drops (reload) or dies (startup) on error. */
static void
open_services(struct master_state *st, bool reload)
{
	size_t kept = 0;

	for (size_t i = 0; i < st->nsvcs; i++) {
		struct master_service *svc = st->svcs[i];
		const char *err;

		if (master_service_open(svc, &err) == -1) {
			if (!reload)
				start_fatal("%s, line %u: %s", svc->file,
				    svc->line, err);
			log_warn("%s, line %u: %s; service disabled",
			    svc->file, svc->line, err);
			master_service_free(&st->svcs[i]);
			continue;
		}
		st->svcs[kept++] = svc;
	}
	st->nsvcs = kept;
}

static void
finish_stop(struct master_state *st)
{
	log_info("stopped");
	event_base_loopbreak(st->base);
}

static void
stop_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master_state *st = arg;

	(void)fd;
	(void)what;
	log_warn("%zu process(es) still running after %lld seconds; killing "
	    "them", master_service_nprocs(), st->conf->stop_timeout);
	master_service_kill_all(SIGKILL);
}

static void
do_stop(struct master_state *st, int sig)
{
	struct timeval tv;

	if (st->stopping)
		return;
	st->stopping = true;
	log_info("terminating on signal %d", sig);
	master_service_stopping();
	for (size_t i = 0; i < st->nsvcs; i++)
		master_service_retire(&st->svcs[i]);
	free(st->svcs);
	st->svcs = NULL;
	st->nsvcs = 0;
	if (master_service_nprocs() == 0) {
		finish_stop(st);
		return;
	}
	tv.tv_sec = (time_t)st->conf->stop_timeout;
	tv.tv_usec = 0;
	st->stop_ev = evtimer_new(st->base, stop_timeout_cb, st);
	if (st->stop_ev == NULL)
		panic("evtimer_new failed");
	evtimer_add(st->stop_ev, &tv);
}

static _Noreturn void
do_abort(struct master_state *st, int sig)
{
	(void)st;
	log_info("aborting on signal %d", sig);
	master_service_stopping();
	master_service_kill_all(SIGKILL);
	master_service_reap(true);
	exit(0);
}

static void
do_reload(struct master_state *st)
{
	struct master_service **old = st->svcs;
	size_t nold = st->nsvcs;
	struct master_conf *oldconf = st->conf, *conf;
	struct mastercf *mc;
	const char *err;
	char *problems;

	if (st->stopping)
		return;
	if (mail_conf_try_load(oldconf->config_dir, NULL, false, &err) == -1 ||
	    (mc = mail_conf_master(&err)) == NULL) {
		log_warn("reload: %s; keeping the running configuration", err);
		return;
	}
	if ((err = check_types(mc)) != NULL ||
	    (conf = conf_snapshot(&err)) == NULL) {
		log_warn("reload: %s; keeping the running configuration", err);
		mastercf_free(&mc);
		return;
	}
	if (mail_conf_open_log(&err) == -1)
		log_warn("reload: log: %s", err);
	log_info("reload -- configuration %s", conf->config_dir);
	if ((problems = check_dirs()) != NULL) {
		log_warn("reload: mail directories: %s", problems);
		free(problems);
	}
	st->conf = conf;
	build_services(st, mc, true);
	mastercf_free(&mc);
	/* Same service, same addresses: the sockets stay open throughout. */
	for (size_t i = 0; i < st->nsvcs; i++)
		for (size_t j = 0; j < nold; j++)
			if (old[j] != NULL &&
			    str_eq(old[j]->name, st->svcs[i]->name) &&
			    str_eq(old[j]->type, st->svcs[i]->type))
				(void)master_service_adopt(st->svcs[i],
				    old[j]);
	for (size_t j = 0; j < nold; j++)
		master_service_retire(&old[j]);
	free(old);
	open_services(st, true);
	for (size_t i = 0; i < st->nsvcs; i++)
		master_service_start(st->svcs[i]);
	master_conf_free(&oldconf);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master_state *st = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		do_reload(st);
		break;
	case SIGTERM:
	case SIGINT:
		do_stop(st, (int)sig);
		break;
	case SIGQUIT:
		do_abort(st, (int)sig);
	case SIGCHLD:
		master_service_reap(false);
		if (st->stopping && master_service_nprocs() == 0)
			finish_stop(st);
		break;
	}
}

/*
 * Forks; the parent waits until the child says it is ready (exit 0) or
 * passes on its error (exit 1).  The child detaches from the terminal.
 */
static void
detach(int null_fd)
{
	char buf[1024];
	int pfd[2];
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) == -1)
		start_fatal("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == -1)
		start_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		(void)close(pfd[0]);
		ready_fd = pfd[1];
		if (setsid() == -1)
			start_fatal("setsid: %s", strerror(errno));
		if (dup2(null_fd, 0) == -1 || dup2(null_fd, 1) == -1 ||
		    dup2(null_fd, 2) == -1)
			start_fatal("dup2 /dev/null: %s", strerror(errno));
		return;
	}
	(void)close(pfd[1]);
	for (;;) {
		n = read(pfd[0], buf + len, sizeof(buf) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) == sizeof(buf) - 1)
			break;
	}
	buf[len] = '\0';
	if (str_eq(buf, "ok"))
		_exit(0);
	if (len == 0)
		fprintf(stderr, "tern/master: fatal: master exited during "
		    "startup\n");
	else
		(void)!write(STDERR_FILENO, buf, len);
	_exit(1);
}

static void
add_signals(struct master_state *st)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGQUIT,
	    SIGCHLD };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		st->sig_ev[i] = evsignal_new(st->base, sigs[i], signal_cb, st);
		if (st->sig_ev[i] == NULL || evsignal_add(st->sig_ev[i],
		    NULL) == -1)
			start_fatal("cannot watch signal %d", sigs[i]);
	}
}

int
master_main(int argc, char **argv)
{
	struct master_state st = { 0 };
	struct mastercf *mc;
	const char *err, *opt_dir = NULL;
	char *dir, *pid_path, *problems;
	bool foreground = false;
	int ch, lock_fd, null_fd;

	log_init("master");
	while ((ch = getopt(argc, argv, "c:d")) != -1) {
		switch (ch) {
		case 'c': opt_dir = optarg; break;
		case 'd': foreground = true; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	(void)signal(SIGPIPE, SIG_IGN);
	raise_nofile();

	dir = config_dir_arg(opt_dir);
	if (mail_conf_try_load(dir, NULL, false, &err) == -1)
		start_fatal("%s", err);
	free(dir);
	if (mail_conf_open_log(&err) == -1)
		start_fatal("log: %s", err);
	log_opened = true;
	if ((mc = mail_conf_master(&err)) == NULL)
		start_fatal("%s", err);
	if ((err = check_types(mc)) != NULL)
		start_fatal("%s", err);
	check_users();
	if ((st.conf = conf_snapshot(&err)) == NULL)
		start_fatal("%s", err);
	if ((problems = check_dirs()) != NULL)
		start_fatal("mail directories: %s", problems);
	pid_path = master_pid_path();
	lock_fd = master_pid_lock(pid_path, &err);
	if (lock_fd == -1)
		start_fatal("%s", err);
	free(pid_path);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd == -1)
		start_fatal("open /dev/null: %s", strerror(errno));
	build_services(&st, mc, false);
	mastercf_free(&mc);
	open_services(&st, false);

	if (!foreground)
		detach(null_fd);
	/* Signals are handled before "tern stop" can find the pid. */
	st.base = event_base_new();
	if (st.base == NULL)
		start_fatal("cannot create the event loop");
	add_signals(&st);
	if (master_pid_write(lock_fd, getpid(), &err) == -1)
		start_fatal("%s", err);
	master_service_init(st.base, null_fd, foreground ? STDERR_FILENO :
	    -1);
	log_info("daemon started -- configuration %s", st.conf->config_dir);
	for (size_t i = 0; i < st.nsvcs; i++)
		master_service_start(st.svcs[i]);
	if (ready_fd != -1) {
		(void)!write(ready_fd, "ok", 2);
		(void)close(ready_fd);
		ready_fd = -1;
	}
	if (event_base_dispatch(st.base) == -1)
		fatal("event loop failed");

	master_service_reap(true);
	free_services(&st);
	if (st.stop_ev != NULL)
		event_free(st.stop_ev);
	for (size_t i = 0; i < sizeof(st.sig_ev) / sizeof(st.sig_ev[0]); i++)
		if (st.sig_ev[i] != NULL)
			event_free(st.sig_ev[i]);
	event_base_free(st.base);
	master_conf_free(&st.conf);
	mail_conf_unload();
	(void)close(null_fd);
	(void)close(lock_fd);
	return 0;
}
