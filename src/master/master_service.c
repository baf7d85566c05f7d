/* SPDX-License-Identifier: MIT */
/*
 * master's services and processes; see master_service.h.  A process counts
 * as available from fork until it reports busy on its status channel.
 * When a service has no available process and room under maxproc, master
 * watches its listeners and starts one more process when a connection
 * waits.  A service never stays without a process: each exit that leaves
 * none schedules a replacement, after a back-off that grows with
 * consecutive crashes (abnormal exits of processes that never served) and
 * turns into service_throttle_time at the fifth.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "attr.h"
#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "master_proto.h"
#include "mastercf.h"
#include "str.h"
#include "xalloc.h"

#include "master_service.h"
#include "master_spawn.h"

#define CRASHES_THROTTLE	5
#define WAKEUP_TIMEOUT_MS	1000

struct master_proc {
	pid_t		 pid;
	struct master_service *svc;	/* NULL once retired */
	char		*path;
	int		 status_fd;
	struct event	*status_ev;
	struct attr_reader rd;
	bool		 busy;
	bool		 ever_busy;
	struct master_proc *next;
};

static struct event_base *svc_base;
static int svc_null_fd = -1;
static int svc_stderr_fd = -1;
static bool svc_stopping;
static struct master_proc *procs;
static size_t nprocs;

static void spawn_one(struct master_service *svc);

void
master_service_init(struct event_base *base, int null_fd, int stderr_fd)
{
	svc_base = base;
	svc_null_fd = null_fd;
	svc_stderr_fd = stderr_fd;
}

void
master_service_stopping(void)
{
	svc_stopping = true;
}

size_t
master_service_nprocs(void)
{
	return nprocs;
}

void
master_conf_free(struct master_conf **confp)
{
	struct master_conf *c = *confp;

	if (c == NULL)
		return;
	free(c->config_dir);
	free(c->queue_dir);
	free(c->daemon_dir);
	master_net_deinit(&c->net);
	strv_deinit(&c->env);
	free(c);
	*confp = NULL;
}

int
master_service_new(const struct mastercf_entry *e,
    const struct master_conf *conf, struct master_service **svc_r,
    const char **err_r)
{
	struct master_service *svc = xcalloc(1, sizeof(*svc));

	*svc_r = NULL;
	svc->name = xstrdup(e->service);
	svc->type = xstrdup(e->type);
	svc->file = xstrdup(e->file);
	svc->line = e->line;
	svc->is_unix = str_eq(e->type, "unix");
	svc->private_service = e->private_service;
	svc->unpriv = e->unpriv;
	svc->chroot = e->chroot;
	svc->wakeup = e->wakeup;
	svc->wakeup_if_used = e->wakeup_if_used;
	svc->maxproc = e->maxproc;
	svc->conf = conf;
	strv_init(&svc->command);
	strv_init(&svc->argv);
	for (size_t i = 0; i < e->argv.n; i++)
		strv_push(&svc->command, e->argv.v[i]);
	master_addrs_init(&svc->addrs);
	if (e->argv.n == 0) {
		*err_r = "no command";
		master_service_free(&svc);
		return -1;
	}
	if (master_proto_program(e->argv.v[0], conf->daemon_dir, &svc->path,
	    err_r) == -1) {
		master_service_free(&svc);
		return 1;
	}
	if (master_listen_resolve(e, &conf->net, conf->queue_dir, &svc->addrs,
	    err_r) == -1) {
		master_service_free(&svc);
		return -1;
	}
	svc->fds = xcalloc(svc->addrs.n, sizeof(*svc->fds));
	for (size_t i = 0; i < svc->addrs.n; i++)
		svc->fds[i] = -1;
	*svc_r = svc;
	return 0;
}

static void
close_listeners(struct master_service *svc)
{
	for (size_t i = 0; i < svc->nopen; i++)
		if (svc->listen_ev != NULL && svc->listen_ev[i] != NULL)
			event_free(svc->listen_ev[i]);
	free(svc->listen_ev);
	svc->listen_ev = NULL;
	free(svc->open_fds);
	svc->open_fds = NULL;
	svc->nopen = 0;
	svc->watching = false;
	for (size_t i = 0; i < svc->addrs.n; i++) {
		if (svc->fds != NULL && svc->fds[i] != -1)
			(void)close(svc->fds[i]);
		if (svc->fds != NULL)
			svc->fds[i] = -1;
	}
	svc->opened = false;
}

void
master_service_free(struct master_service **svcp)
{
	struct master_service *svc = *svcp;

	if (svc == NULL)
		return;
	close_listeners(svc);
	if (svc->restart_ev != NULL)
		event_free(svc->restart_ev);
	if (svc->wakeup_ev != NULL)
		event_free(svc->wakeup_ev);
	free(svc->name);
	free(svc->type);
	free(svc->file);
	free(svc->path);
	free(svc->fds);
	strv_deinit(&svc->command);
	strv_deinit(&svc->argv);
	master_addrs_deinit(&svc->addrs);
	free(svc);
	*svcp = NULL;
}

bool
master_service_adopt(struct master_service *svc, struct master_service *old)
{
	if (old == NULL || !old->opened || svc->opened ||
	    !master_addrs_equal(&svc->addrs, &old->addrs))
		return false;
	for (size_t i = 0; i < svc->addrs.n; i++) {
		svc->fds[i] = old->fds[i];
		old->fds[i] = -1;
	}
	svc->opened = true;
	close_listeners(old);
	return true;
}

int
master_service_open(struct master_service *svc, const char **err_r)
{
	if (svc->opened)
		return 0;
	for (size_t i = 0; i < svc->addrs.n; i++) {
		if (master_listen_open(&svc->addrs.v[i], &svc->fds[i],
		    err_r) == -1) {
			close_listeners(svc);
			return -1;
		}
	}
	svc->opened = true;
	return 0;
}

/* Watches the listeners while no process is available but one may start. */
static void
update_watch(struct master_service *svc)
{
	bool want = !svc_stopping && svc->nopen > 0 && svc->nproc > 0 &&
	    svc->navail == 0 && !svc->restart_pending &&
	    (svc->maxproc == 0 || svc->nproc < svc->maxproc);

	if (want == svc->watching)
		return;
	for (size_t i = 0; i < svc->nopen; i++) {
		if (want)
			event_add(svc->listen_ev[i], NULL);
		else
			event_del(svc->listen_ev[i]);
	}
	svc->watching = want;
}

static void
close_channel(struct master_proc *p)
{
	if (p->status_fd == -1)
		return;
	event_free(p->status_ev);
	p->status_ev = NULL;
	(void)close(p->status_fd);
	p->status_fd = -1;
	attr_reader_deinit(&p->rd);
}

static void
set_busy(struct master_proc *p, bool busy)
{
	struct master_service *svc = p->svc;

	if (svc == NULL || busy == p->busy)
		return;
	p->busy = busy;
	if (busy) {
		svc->navail--;
		p->ever_busy = true;
		svc->crashes = 0;
		svc->used = true;
	} else {
		svc->navail++;
	}
	update_watch(svc);
}

static void
bad_frame(struct master_proc *p, const char *err)
{
	log_warn("process %s pid %ld: bad status frame: %s; killing it",
	    p->path, (long)p->pid, err);
	(void)kill(p->pid, SIGKILL);
	close_channel(p);
}

static void
status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master_proc *p = arg;
	const void *body;
	const char *err;
	size_t len;
	bool busy;
	int rc, n;

	(void)fd;
	(void)what;
	rc = attr_reader_fill(&p->rd, p->status_fd, &err);
	if (rc == -1) {
		log_warn("process %s pid %ld: status channel: %s", p->path,
		    (long)p->pid, err);
		close_channel(p);
		return;
	}
	while ((n = attr_reader_next(&p->rd, &body, &len, &err)) == 1) {
		if (master_proto_parse_status(body, len, &busy, &err) == -1) {
			bad_frame(p, err);
			return;
		}
		attr_reader_consume(&p->rd);
		set_busy(p, busy);
	}
	if (n == -1) {
		bad_frame(p, err);
		return;
	}
	/* End of file: the process is on its way out; SIGCHLD follows. */
	if (rc == 0)
		close_channel(p);
}

static void
schedule_restart(struct master_service *svc)
{
	long long delay;
	struct timeval tv;

	if (svc->restart_pending || svc_stopping)
		return;
	if (svc->crashes <= 1) {
		spawn_one(svc);
		return;
	}
	if (svc->crashes < CRASHES_THROTTLE) {
		delay = 1LL << (svc->crashes - 2);
		log_info("service %s/%s: restarting after %lld seconds",
		    svc->name, svc->type, delay);
	} else {
		delay = svc->conf->throttle_time > 0 ?
		    svc->conf->throttle_time : 1;
		log_warn("service %s/%s: %u crashes in a row; throttling for "
		    "%lld seconds", svc->name, svc->type, svc->crashes,
		    delay);
	}
	tv.tv_sec = (time_t)delay;
	tv.tv_usec = 0;
	svc->restart_pending = true;
	evtimer_add(svc->restart_ev, &tv);
	update_watch(svc);
}

static void
restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master_service *svc = arg;

	(void)fd;
	(void)what;
	svc->restart_pending = false;
	if (svc->nproc == 0)
		spawn_one(svc);
	update_watch(svc);
}

static void
spawn_one(struct master_service *svc)
{
	struct master_spawn s;
	struct master_proc *p;
	const char *err;
	int sv[2];
	pid_t pid;

	if (svc_stopping)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("service %s/%s: socketpair: %s", svc->name,
		    svc->type, strerror(errno));
		goto failed;
	}
	memset(&s, 0, sizeof(s));
	s.path = svc->path;
	s.argv = svc->argv.v;
	s.envp = svc->conf->env.v;
	s.status_fd = sv[1];
	s.listen_fds = svc->open_fds;
	s.nlisten = svc->nopen;
	s.null_fd = svc_null_fd;
	s.stderr_fd = svc_stderr_fd;
	pid = master_spawn_exec(&s, &err);
	(void)close(sv[1]);
	if (pid == -1) {
		(void)close(sv[0]);
		log_warn("service %s/%s: %s", svc->name, svc->type, err);
		goto failed;
	}
	(void)evutil_make_socket_nonblocking(sv[0]);
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->svc = svc;
	p->path = xstrdup(svc->path);
	p->status_fd = sv[0];
	attr_reader_init(&p->rd, MASTER_STATUS_MAX);
	p->status_ev = event_new(svc_base, sv[0], EV_READ | EV_PERSIST,
	    status_cb, p);
	if (p->status_ev == NULL)
		panic("event_new failed");
	event_add(p->status_ev, NULL);
	p->next = procs;
	procs = p;
	nprocs++;
	svc->nproc++;
	svc->navail++;
	update_watch(svc);
	return;
failed:
	/* Not starting counts as a crash, so retries back off. */
	svc->crashes++;
	if (svc->nproc == 0)
		schedule_restart(svc);
}

static void
listen_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master_service *svc = arg;

	(void)fd;
	(void)what;
	if (svc->watching && svc->navail == 0)
		spawn_one(svc);
	update_watch(svc);
}

static void
wakeup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master_service *svc = arg;
	const char *path = svc->addrs.v[0].desc, *err;
	struct buf frame;
	int cfd;

	(void)fd;
	(void)what;
	/* "?": no wakeup before the service was used once (as Postfix). */
	if (svc->wakeup_if_used && !svc->used)
		return;
	cfd = ipc_connect(path, WAKEUP_TIMEOUT_MS, &err);
	if (cfd == -1) {
		log_warn("service %s/%s: wakeup %s: %s", svc->name, svc->type,
		    path, err);
		return;
	}
	buf_init(&frame, 0);
	master_proto_wakeup_frame(&frame);
	if (attr_write_frame(cfd, &frame, WAKEUP_TIMEOUT_MS, &err) == -1)
		log_warn("service %s/%s: wakeup %s: %s", svc->name, svc->type,
		    path, err);
	buf_deinit(&frame);
	(void)close(cfd);
}

void
master_service_start(struct master_service *svc)
{
	struct master_spawn_args a;

	ASSERT(svc->opened);
	svc->open_fds = xcalloc(svc->addrs.n + 1, sizeof(*svc->open_fds));
	svc->listen_ev = xcalloc(svc->addrs.n + 1, sizeof(*svc->listen_ev));
	for (size_t i = 0; i < svc->addrs.n; i++) {
		if (svc->fds[i] == -1)
			continue;
		svc->open_fds[svc->nopen] = svc->fds[i];
		svc->listen_ev[svc->nopen] = event_new(svc_base, svc->fds[i],
		    EV_READ | EV_PERSIST, listen_cb, svc);
		if (svc->listen_ev[svc->nopen] == NULL)
			panic("event_new failed");
		svc->nopen++;
	}
	memset(&a, 0, sizeof(a));
	a.service = svc->name;
	a.type = svc->type;
	a.count = svc->nopen;
	a.config_dir = svc->conf->config_dir;
	a.unpriv = svc->unpriv;
	a.chroot = svc->chroot;
	a.command = &svc->command;
	strv_deinit(&svc->argv);
	master_spawn_argv(&a, &svc->argv);
	svc->restart_ev = evtimer_new(svc_base, restart_cb, svc);
	if (svc->restart_ev == NULL)
		panic("evtimer_new failed");
	if (svc->wakeup > 0 && !svc->is_unix) {
		log_warn("%s, line %u: service %s/%s: wakeup works only for "
		    "unix services; ignored", svc->file, svc->line, svc->name,
		    svc->type);
	} else if (svc->wakeup > 0) {
		struct timeval tv = { .tv_sec = (time_t)svc->wakeup };

		svc->wakeup_ev = event_new(svc_base, -1, EV_PERSIST,
		    wakeup_cb, svc);
		if (svc->wakeup_ev == NULL)
			panic("event_new failed");
		event_add(svc->wakeup_ev, &tv);
	}
	spawn_one(svc);
}

void
master_service_retire(struct master_service **svcp)
{
	struct master_service *svc = *svcp;

	if (svc == NULL)
		return;
	for (struct master_proc *p = procs; p != NULL; p = p->next) {
		if (p->svc != svc)
			continue;
		p->svc = NULL;
		close_channel(p);
	}
	master_service_free(svcp);
}

static void
proc_exit(struct master_proc *p, int status)
{
	struct master_service *svc = p->svc;
	bool abnormal = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		log_warn("process %s pid %ld exit status %d", p->path,
		    (long)p->pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warn("process %s pid %ld killed by signal %d", p->path,
		    (long)p->pid, WTERMSIG(status));
	close_channel(p);
	if (svc != NULL) {
		svc->nproc--;
		if (!p->busy)
			svc->navail--;
		if (abnormal && !p->ever_busy)
			svc->crashes++;
		else
			svc->crashes = 0;
		if (svc->nproc == 0)
			schedule_restart(svc);
		update_watch(svc);
	}
	free(p->path);
	free(p);
}

void
master_service_reap(bool wait)
{
	struct master_proc **pp, *p;
	int status;
	pid_t pid;

	for (;;) {
		if (wait && nprocs == 0)
			return;
		pid = waitpid(-1, &status, wait ? 0 : WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		for (pp = &procs; *pp != NULL; pp = &(*pp)->next)
			if ((*pp)->pid == pid)
				break;
		if ((p = *pp) == NULL)
			continue;
		*pp = p->next;
		nprocs--;
		proc_exit(p, status);
	}
}

void
master_service_kill_all(int sig)
{
	for (struct master_proc *p = procs; p != NULL; p = p->next)
		(void)kill(p->pid, sig);
}
