/* SPDX-License-Identifier: MIT */
/*
 * The queue manager's message life cycle: scanning the queue directories,
 * taking files into active/, routing and scheduling their recipients,
 * recording delivery results, notifications, retry and expiry, removal.
 * See qmgr.h.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "dict.h"
#include "log.h"
#include "param.h"
#include "str.h"
#include "xalloc.h"

#include "deliver.h"
#include "dsn_report.h"
#include "mail_conf.h"
#include "qfile.h"
#include "qid.h"
#include "server.h"

#include "qmgr.h"
#include "qmgr_agent.h"
#include "qmgr_bounce.h"
#include "qmgr_route.h"
#include "qmgr_sched.h"

#define MSG_BUCKETS	4096

/* What happened to a recipient in this pass. */
enum rcpt_res {
	RES_NONE,		/* done before this pass */
	RES_PENDING,		/* scheduled or in a delivery */
	RES_SENT,
	RES_DEFER,
	RES_BOUNCE,		/* failed: a failure report is owed */
};

struct rcpt_info {
	enum rcpt_res	 res;
	char		*dsn;
	char		*relay;
	char		*text;
	int64_t		 time;
};

struct qmgr_msg {
	struct qmgr_msg	*hnext;
	struct qfile	*qf;
	int64_t		 active_us;
	size_t		 outstanding;	/* recipients pending or in flight */
	size_t		 inflight;	/* deliveries out to the agents */
	size_t		 nrcpt_mem;	/* counted against the limit */
	struct rcpt_info *ri;
	bool		 gone;		/* moved or deleted by someone else */
};

/* One delivery in flight. */
struct qmgr_delivery {
	struct qmgr_job	*job;
	struct deliver_request req;
	int64_t		 start_us;
};

static struct {
	struct qmgr_route_conf route;
	struct dict	**maps;
	int64_t		 min_backoff, max_backoff;
	int64_t		 lifetime, bounce_lifetime, delay_warning;
	long long	 msg_limit, rcpt_limit;
} conf;

static struct qmgr_sched *sched;
static struct qmgr_msg *msgs[MSG_BUCKETS];
static size_t nmsgs, nrcpts_mem;
static bool scan_incoming_more, scan_deferred_more;
static bool want_incoming, want_deferred;
static struct event *scan_ev, *incoming_ev, *deferred_ev, *run_ev, *lock_ev;
static int64_t deferred_due;	/* next planned deferred scan, seconds */
/*
 * One qmgr at a time owns active/: it holds an flock on it.  A qmgr asked
 * to stop (reload, stop) takes nothing more and starts no delivery; it
 * hands the messages with no delivery out back to incoming/ and lives on
 * until its deliveries are back and recorded.  Its successor works on
 * incoming/ and deferred/ meanwhile, but waits for the lock before it
 * takes up what is left in active/, which would otherwise be delivered a
 * second time.
 */
static int active_fd = -1;
static bool stopping, holding;
static size_t ndeliveries;	/* requests out to the agents */

static void msg_end(struct qmgr_msg *m);

/* Limits of a transport from "<transport>_destination_..." parameters. */
static long long
transport_param(const char *transport, const char *suffix, const char *dflt)
{
	char name[128];

	str_fmt_buf(name, sizeof(name), "%s_%s", transport, suffix);
	if (param_find(mail_conf_params(), name) != NULL)
		return mail_conf_int(name);
	return mail_conf_int(dflt);
}

static void
limits_fn(const char *transport, struct qmgr_sched_limits *l)
{
	long long r = transport_param(transport,
	    "destination_recipient_limit",
	    "default_destination_recipient_limit");
	long long c = transport_param(transport,
	    "destination_concurrency_limit",
	    "default_destination_concurrency_limit");
	long long i = mail_conf_int("initial_destination_concurrency");

	if (r > DELIVER_RCPT_MAX)
		r = DELIVER_RCPT_MAX;
	l->rcpt_limit = r < 1 ? 1 : (size_t)r;
	l->limit = c < 1 ? 1 : c > 10000 ? 10000 : (int)c;
	l->initial = i < 1 ? 1 : i > l->limit ? l->limit : (int)i;
}

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/* Message table. */

static unsigned
qid_hash(const char *qid)
{
	unsigned h = 5381;

	for (; *qid != '\0'; qid++)
		h = h * 33 + (unsigned char)*qid;
	return h % MSG_BUCKETS;
}

static struct qmgr_msg *
msg_find(const char *qid)
{
	struct qmgr_msg *m;

	for (m = msgs[qid_hash(qid)]; m != NULL; m = m->hnext)
		if (strcmp(m->qf->qid, qid) == 0)
			return m;
	return NULL;
}

static void
msg_free(struct qmgr_msg *m)
{
	struct qmgr_msg **pp;
	size_t i;

	for (pp = &msgs[qid_hash(m->qf->qid)]; *pp != m; pp = &(*pp)->hnext)
		ASSERT(*pp != NULL);
	*pp = m->hnext;
	nmsgs--;
	nrcpts_mem -= m->nrcpt_mem;
	for (i = 0; i < m->qf->nrcpts; i++) {
		free(m->ri[i].dsn);
		free(m->ri[i].relay);
		free(m->ri[i].text);
	}
	free(m->ri);
	qfile_free(&m->qf);
	free(m);
	/* Room again: take what the limits left waiting. */
	if (scan_incoming_more || scan_deferred_more)
		qmgr_scan_request(scan_deferred_more);
}

static void
ri_set(struct qmgr_msg *m, size_t i, enum rcpt_res res, const char *dsn,
    const char *relay, const char *text)
{
	struct rcpt_info *r = &m->ri[i];

	r->res = res;
	free(r->dsn);
	free(r->relay);
	free(r->text);
	r->dsn = xstrdup(dsn);
	r->relay = xstrdup(relay != NULL ? relay : "none");
	r->text = xstrdup(text != NULL ? text : "");
	r->time = now_s();
}

/* Someone else (ternsuper) moved or deleted the file: forget it. */
static void
msg_gone(struct qmgr_msg *m)
{
	if (!m->gone)
		log_qid_info(m->qf->qid, "queue file gone; forgotten");
	m->gone = true;
	m->outstanding -= qmgr_sched_drop(sched, m);
	if (m->outstanding == 0)
		msg_free(m);
}

/* A minimal request for qmgr's own log lines. */
static void
log_req_init(struct deliver_request *req, const struct qmgr_msg *m,
    const char *transport, const char *nexthop)
{
	deliver_request_init(req);
	req->queue_id = m->qf->qid;
	req->queue_name = QFILE_ACTIVE;
	req->arrival = (int64_t)m->qf->arrival.tv_sec * 1000000 +
	    m->qf->arrival.tv_usec;
	req->active = m->active_us;
	req->sender = m->qf->sender;
	req->transport = transport;
	req->nexthop = nexthop;
}

/*
 * Records a result in the file and in memory.  sync false leaves the
 * fsync to a later mark.  Returns -1 when the file could not be written.
 */
static int
record(struct qmgr_msg *m, size_t i, enum deliver_status st,
    const char *dsn, const char *relay, const char *text)
{
	const char *err;
	int rc = 0;

	switch (st) {
	case DELIVER_SENT:
		ri_set(m, i, RES_SENT, dsn, relay, text);
		if (qfile_log(m->qf, i, "delivered", dsn, relay, text, false,
		    &err) == -1 || qfile_mark(m->qf, i, QFILE_DONE,
		    &err) == -1)
			rc = -1;
		break;
	case DELIVER_BOUNCE:
		ri_set(m, i, RES_BOUNCE, dsn, relay, text);
		if (qfile_log(m->qf, i, "failed", dsn, relay, text, false,
		    &err) == -1 || qfile_mark(m->qf, i, QFILE_FAILED,
		    &err) == -1)
			rc = -1;
		break;
	case DELIVER_DEFER:
	default:
		ri_set(m, i, RES_DEFER, dsn, relay, text);
		if (qfile_log(m->qf, i, "delayed", dsn, relay, text, true,
		    &err) == -1)
			rc = -1;
		break;
	}
	if (rc == -1)
		log_qid_warn(m->qf->qid, "cannot update the queue file: %s",
		    err);
	return rc;
}

/* Bounces recipient i inside qmgr (error: transport). */
static void
bounce_error(struct qmgr_msg *m, size_t i, const char *text)
{
	struct deliver_request req;
	const char *t = text[0] != '\0' ? text : "mail is not deliverable";
	const char *dsn = "5.0.0";

	/* "error:5.1.1 text" keeps the code the table gives (RFC 3463). */
	if (strlen(t) > 6 && t[0] == '5' && t[1] == '.' &&
	    strchr(t, ' ') != NULL && strspn(t, "0123456789.") ==
	    (size_t)(strchr(t, ' ') - t)) {
		char code[16];
		size_t n = (size_t)(strchr(t, ' ') - t);

		if (n < sizeof(code)) {
			memcpy(code, t, n);
			code[n] = '\0';
			t += n + 1;
			log_req_init(&req, m, QMGR_ROUTE_ERROR, text);
			deliver_log(&req, m->qf->rcpts[i].addr, NULL, "none",
			    deliver_now_us(), 0, DELIVER_BOUNCE, code, t);
			(void)record(m, i, DELIVER_BOUNCE, code, "none", t);
			return;
		}
	}
	log_req_init(&req, m, QMGR_ROUTE_ERROR, text);
	deliver_log(&req, m->qf->rcpts[i].addr, NULL, "none",
	    deliver_now_us(), 0, DELIVER_BOUNCE, dsn, t);
	(void)record(m, i, DELIVER_BOUNCE, dsn, "none", t);
}

/* Routes and schedules the to-do recipients of a new active message. */
static void
msg_activate(struct qmgr_msg *m)
{
	struct qfile *qf = m->qf;
	struct qmgr_route r;
	const char *err;
	size_t i, todo = 0;

	for (i = 0; i < qf->nrcpts; i++)
		if (qf->rcpts[i].state == QFILE_TODO)
			todo++;
	log_qid_info(qf->qid, "from=<%s>, size=%llu, nrcpt=%zu "
	    "(queue active)", qf->sender,
	    (unsigned long long)qf->content_size, todo);
	for (i = 0; i < qf->nrcpts; i++) {
		struct qfile_rcpt *rc = &qf->rcpts[i];

		if (rc->state == QFILE_FAILED) {
			/* Failed before, report not yet sent (a crash). */
			ri_set(m, i, RES_BOUNCE, rc->last_dsn != NULL ?
			    rc->last_dsn : "5.0.0", rc->last_relay,
			    rc->last_text);
			continue;
		}
		if (rc->state != QFILE_TODO)
			continue;
		if (qmgr_route_lookup(&conf.route, rc->addr, &r, &err) == -1) {
			struct deliver_request req;

			log_qid_warn(qf->qid, "%s", err);
			log_req_init(&req, m, "none", "none");
			deliver_log(&req, rc->addr, NULL, "none",
			    deliver_now_us(), 0, DELIVER_DEFER, "4.3.0",
			    "transport lookup failure");
			(void)record(m, i, DELIVER_DEFER, "4.3.0", "none",
			    "transport lookup failure");
			continue;
		}
		if (strcmp(r.transport, QMGR_ROUTE_ERROR) == 0)
			bounce_error(m, i, r.nexthop);
		else {
			m->ri[i].res = RES_PENDING;
			m->outstanding++;
			qmgr_sched_add(sched, m, r.transport, r.nexthop,
			    rc->addr, i);
		}
		qmgr_route_deinit(&r);
	}
	if (m->outstanding == 0)
		msg_end(m);
	else if (event_add(run_ev, &(struct timeval){ 0, 0 }) == -1)
		fatal("event_add failed");
}

/*
 * Takes DIR/NAME into active/ and into memory.  qmgr's moves are not
 * fsync'd (nor are Postfix's): the file itself is, and a move lost in a
 * crash leaves it in incoming/ or deferred/, or back in active/, all of
 * which qmgr scans again; an fsync here would stall the whole event loop
 * for a disk flush per message.
 */
static void
msg_take(const char *dir, const char *name)
{
	struct qmgr_msg *m;
	struct qfile *qf;
	const char *err;
	int rc;

	if (msg_find(name) != NULL)
		return;
	if (strcmp(dir, QFILE_ACTIVE) != 0 &&
	    qfile_move(dir, QFILE_ACTIVE, name, false, &err) == -1) {
		if (errno != ENOENT)
			log_warn("%s: cannot move %s to active: %s", name, dir,
			    err);
		return;
	}
	rc = qfile_open(QFILE_ACTIVE, name, 0, &qf, &err);
	if (rc == -2) {
		qfile_quarantine(QFILE_ACTIVE, name, err);
		return;
	}
	if (rc == -1) {
		if (errno != ENOENT)
			log_warn("%s: cannot open: %s", name, err);
		return;
	}
	m = xcalloc(1, sizeof(*m));
	m->qf = qf;
	m->active_us = deliver_now_us();
	m->ri = xcalloc(qf->nrcpts, sizeof(*m->ri));
	m->nrcpt_mem = qf->nrcpts;
	m->hnext = msgs[qid_hash(qf->qid)];
	msgs[qid_hash(qf->qid)] = m;
	nmsgs++;
	nrcpts_mem += m->nrcpt_mem;
	msg_activate(m);
}

static bool
room(void)
{
	return nmsgs == 0 || ((long long)nmsgs < conf.msg_limit &&
	    (long long)nrcpts_mem < conf.rcpt_limit);
}

/*
 * Takes the files of dir (deferred/: only those due).  Returns false
 * when the limits stopped the scan early.
 */
static bool
scan_dir(const char *dir, bool due_only)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char path[QID_SIZE + 16];
	int64_t now = now_s();
	bool complete = true;

	if ((d = opendir(dir)) == NULL) {
		log_warn("open %s: %s", dir, strerror(errno));
		return true;
	}
	while ((de = readdir(d)) != NULL) {
		if (!qid_valid(de->d_name))
			continue;	/* temporary files, dot entries */
		if (!room()) {
			complete = false;
			break;
		}
		if (due_only) {
			str_fmt_buf(path, sizeof(path), "%s/%s", dir,
			    de->d_name);
			if (stat(path, &st) == -1)
				continue;
			if ((int64_t)st.st_mtime > now) {
				if (deferred_due == 0 ||
				    (int64_t)st.st_mtime < deferred_due)
					deferred_due = (int64_t)st.st_mtime;
				continue;
			}
		}
		msg_take(dir, de->d_name);
	}
	closedir(d);
	return complete;
}

/* Plans the next deferred scan: queue_run_delay, or earlier when due. */
static void
deferred_plan(void)
{
	int64_t now = now_s(), delay = mail_conf_time("queue_run_delay");
	struct timeval tv;

	if (deferred_due > 0 && deferred_due - now < delay)
		delay = deferred_due > now ? deferred_due - now : 0;
	tv.tv_sec = (time_t)delay;
	tv.tv_usec = delay == 0 ? 100000 : 0;
	if (event_add(deferred_ev, &tv) == -1)
		fatal("event_add failed");
}

static void
scan_cb(evutil_socket_t fd, short what, void *arg)
{
	bool deferred = want_deferred;

	(void)fd;
	(void)what;
	(void)arg;
	if (stopping)
		return;
	want_incoming = want_deferred = false;
	scan_incoming_more = !scan_dir(QFILE_INCOMING, false);
	if (deferred) {
		deferred_due = 0;
		scan_deferred_more = !scan_dir(QFILE_DEFERRED, true);
		deferred_plan();
	}
}

void
qmgr_scan_request(bool deferred)
{
	want_incoming = true;
	if (deferred)
		want_deferred = true;
	if (event_add(scan_ev, &(struct timeval){ 0, 0 }) == -1)
		fatal("event_add failed");
}

static void
incoming_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	qmgr_scan_request(false);
}

static void
deferred_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	qmgr_scan_request(true);
}

/* True when a to-do recipient of DIR/NAME has its domain equal to site. */
static bool
has_site(const char *name, const char *site)
{
	struct qfile *qf;
	const char *err, *dom;
	bool found = false;
	size_t i;

	if (qfile_open(QFILE_DEFERRED, name, QFILE_O_RDONLY, &qf, &err) != 0)
		return false;
	for (i = 0; i < qf->nrcpts && !found; i++) {
		dom = qmgr_route_domain(qf->rcpts[i].addr);
		found = qf->rcpts[i].state == QFILE_TODO && dom != NULL &&
		    str_eq_ci(dom, site);
	}
	qfile_free(&qf);
	return found;
}

void
qmgr_flush(const char *qid, const char *site)
{
	DIR *d;
	struct dirent *de;
	char path[QID_SIZE + 16];
	struct timeval tv[2];

	gettimeofday(&tv[0], NULL);
	tv[1] = tv[0];
	log_info("flush%s%s%s%s", qid != NULL ? " queue_id=" : "",
	    qid != NULL ? qid : "", site != NULL ? " site=" : "",
	    site != NULL ? site : "");
	if ((d = opendir(QFILE_DEFERRED)) == NULL) {
		log_warn("open %s: %s", QFILE_DEFERRED, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!qid_valid(de->d_name))
			continue;
		if (qid != NULL && strcmp(qid, de->d_name) != 0)
			continue;
		if (site != NULL && !has_site(de->d_name, site))
			continue;
		/* Due now: the deferred scan takes it (within the limits). */
		str_fmt_buf(path, sizeof(path), "%s/%s", QFILE_DEFERRED,
		    de->d_name);
		if (utimes(path, tv) == -1 && errno != ENOENT)
			log_warn("utimes %s: %s", path, strerror(errno));
	}
	closedir(d);
	qmgr_scan_request(true);
}

/* Dispatch. */

static void delivery_done(void *ctx, const struct deliver_reply *reply,
    const char *why);

/*
 * The message's ESMTP properties from the queue file attributes that
 * smtpd and cleanup write: body=8BITMIME (RFC 6152), smtputf8=yes
 * (RFC 6531), requiretls=yes (RFC 8689).  SECURITY: any other body value
 * is not passed on (deliver.h allows 7BIT and 8BITMIME only).
 */
static void
request_attrs(const struct qfile *qf, struct deliver_request *req)
{
	const char *v;

	if ((v = qfile_attr(qf, "body")) != NULL && (str_eq(v, "8BITMIME") ||
	    str_eq(v, "7BIT")))
		req->body = v;
	req->smtputf8 = (v = qfile_attr(qf, "smtputf8")) != NULL &&
	    str_eq(v, "yes");
	req->requiretls = (v = qfile_attr(qf, "requiretls")) != NULL &&
	    str_eq(v, "yes");
}

/*
 * A job for a suspended (dead) destination: its recipients are deferred
 * without contacting the agent, as Postfix does for a dead destination.
 */
static void
defer_suspended(struct qmgr_msg *m, struct qmgr_job *job)
{
	struct deliver_request req;
	int64_t now = deliver_now_us();
	size_t k;

	log_req_init(&req, m, job->transport, job->nexthop);
	for (k = 0; k < job->n; k++) {
		deliver_log(&req, m->qf->rcpts[job->rcpts[k]].addr, NULL,
		    "none", now, 0, DELIVER_DEFER, job->dsn, job->why);
		(void)record(m, job->rcpts[k], DELIVER_DEFER, job->dsn, "none",
		    job->why);
	}
	m->outstanding -= job->n;
	qmgr_sched_done(sched, &job, false);
	if (m->outstanding == 0)
		msg_end(m);
}

/*
 * The agent says the destination could not be reached at all: suspend
 * it for $minimal_backoff_time; what is pending for it and what comes
 * meanwhile is deferred with "delivery temporarily suspended: TEXT".
 */
static void
suspend_dead(const struct qmgr_job *job, const struct deliver_reply *reply)
{
	const struct deliver_result *r = &reply->results[0];
	const char *dsn = "4.4.1";
	char *why;

	/* The agent's code when it is a temporary one (RFC 3463). */
	if (r->dsn != NULL && r->dsn[0] == '4')
		dsn = r->dsn;
	why = xasprintf("delivery temporarily suspended: %s",
	    r->text != NULL && r->text[0] != '\0' ? r->text :
	    "destination unreachable");
	log_info("destination %s:%s suspended for %llds: %s",
	    job->transport, job->nexthop, (long long)conf.min_backoff,
	    r->text != NULL ? r->text : "");
	qmgr_sched_suspend(sched, job, now_s() + conf.min_backoff, dsn, why);
	free(why);
}

static void
delivery_start(struct qmgr_job *job)
{
	struct qmgr_msg *m = job->msg;
	struct qmgr_delivery *dv;
	const char *envid, *ret;
	char path[QID_SIZE + 16];
	size_t k;
	int fd;

	if (m->gone) {
		m->outstanding -= job->n;
		qmgr_sched_done(sched, &job, true);
		if (m->outstanding == 0)
			msg_free(m);
		return;
	}
	if (job->suspended) {
		defer_suspended(m, job);
		return;
	}
	str_fmt_buf(path, sizeof(path), "%s/%s", QFILE_ACTIVE, m->qf->qid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		m->outstanding -= job->n;
		qmgr_sched_done(sched, &job, true);
		if (errno == ENOENT) {
			msg_gone(m);
			return;
		}
		fatal("open %s: %s", path, strerror(errno));
	}
	dv = xcalloc(1, sizeof(*dv));
	dv->job = job;
	dv->start_us = deliver_now_us();
	log_req_init(&dv->req, m, job->transport, job->nexthop);
	dv->req.fd = fd;
	dv->req.content_off = (uint64_t)m->qf->content_off;
	dv->req.content_size = m->qf->content_size;
	envid = qfile_attr(m->qf, "envid");
	ret = qfile_attr(m->qf, "ret");
	dv->req.envid = envid;
	dv->req.ret = ret;
	request_attrs(m->qf, &dv->req);
	for (k = 0; k < job->n; k++) {
		const struct qfile_rcpt *rc = &m->qf->rcpts[job->rcpts[k]];

		strv_push(&dv->req.rcpt, rc->addr);
		strv_push(&dv->req.orcpt, rc->orcpt);
		strv_push(&dv->req.notify, rc->notify);
	}
	ndeliveries++;
	m->inflight++;
	qmgr_agent_deliver(&dv->req, delivery_done, dv);
	close(dv->req.fd);
	dv->req.fd = -1;
}

static void
run_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr_job *job;

	(void)fd;
	(void)what;
	(void)arg;
	if (stopping)
		return;
	while ((job = qmgr_sched_next(sched)) != NULL)
		delivery_start(job);
}

/* True when a result frees the message without any mark (fast path). */
static bool
fast_path(const struct qmgr_msg *m, const struct qmgr_job *job,
    const struct deliver_reply *reply)
{
	size_t i, k;

	if (reply == NULL || m->outstanding != job->n)
		return false;
	for (k = 0; k < job->n; k++)
		if (reply->results[k].status != DELIVER_SENT ||
		    qmgr_bounce_wanted(m->qf->rcpts[job->rcpts[k]].notify,
		    DSN_REPORT_SUCCESS))
			return false;
	for (i = 0; i < m->qf->nrcpts; i++)
		if (m->ri[i].res == RES_DEFER || m->ri[i].res == RES_BOUNCE ||
		    (m->ri[i].res == RES_SENT && qmgr_bounce_wanted(
		    m->qf->rcpts[i].notify, DSN_REPORT_SUCCESS)))
			return false;
	return true;
}

static void
delivery_record(struct qmgr_delivery *dv, const struct deliver_reply *reply,
    const char *why)
{
	struct qmgr_job *job = dv->job;
	struct qmgr_msg *m = job->msg;
	const char *err;
	bool ok = false;
	size_t k;

	if (m->gone) {
		/* Forgotten meanwhile; nothing to record. */
	} else if (fast_path(m, job, reply)) {
		ok = true;
		if (qfile_remove(QFILE_ACTIVE, m->qf->qid, &err) == -1)
			log_qid_warn(m->qf->qid, "cannot remove: %s", err);
		else
			log_qid_info(m->qf->qid, "removed");
		m->outstanding = 0;
		qmgr_sched_done(sched, &job, true);
		deliver_request_deinit(&dv->req);
		free(dv);
		msg_free(m);
		event_add(run_ev, &(struct timeval){ 0, 0 });
		return;
	} else if (reply == NULL) {
		for (k = 0; k < job->n; k++) {
			deliver_log(&dv->req, dv->req.rcpt.v[k], NULL, "none",
			    dv->start_us, 0, DELIVER_DEFER, "4.3.0", why);
			(void)record(m, job->rcpts[k], DELIVER_DEFER, "4.3.0",
			    "none", why);
		}
	} else {
		if (reply->dead && reply->n > 0)
			suspend_dead(job, reply);
		for (k = 0; k < job->n; k++) {
			const struct deliver_result *r = &reply->results[k];

			if (r->status != DELIVER_DEFER)
				ok = true;
			(void)record(m, job->rcpts[k], r->status, r->dsn,
			    reply->relay, r->text);
		}
	}
	m->outstanding -= job->n;
	qmgr_sched_done(sched, &job, ok);
	deliver_request_deinit(&dv->req);
	free(dv);
	if (m->outstanding == 0) {
		if (m->gone)
			msg_free(m);
		else
			msg_end(m);
	}
	if (event_add(run_ev, &(struct timeval){ 0, 0 }) == -1)
		fatal("event_add failed");
}

static void
delivery_done(void *ctx, const struct deliver_reply *reply, const char *why)
{
	struct qmgr_delivery *dv = ctx;
	struct qmgr_msg *m = dv->job->msg;

	ndeliveries--;
	m->inflight--;
	delivery_record(dv, reply, why);	/* may free m */
	if (holding && ndeliveries == 0) {
		log_info("deliveries recorded; stopping");
		holding = false;
		server_release();
	}
}

/* Message end: expiry, notifications, then removal or deferral. */

/* Logs Postfix's expiry line and records the recipient as failed. */
static void
expire(struct qmgr_msg *m, size_t i, int64_t now_us)
{
	struct rcpt_info *r = &m->ri[i];
	int64_t arrival_us = (int64_t)m->qf->arrival.tv_sec * 1000000 +
	    m->qf->arrival.tv_usec;
	char *reason = xstrdup(r->text != NULL && r->text[0] != '\0' ?
	    r->text : "message expired");
	char *relay = xstrdup(r->relay != NULL ? r->relay : "none");
	const char *err;

	log_qid_info(m->qf->qid, "to=<%s>, relay=%s, delay=%.2f, "
	    "delays=%.2f/%.2f/0/0, dsn=4.4.7, status=expired, returned to "
	    "sender (%s)", m->qf->rcpts[i].addr, relay,
	    (double)(now_us - arrival_us) / 1e6,
	    (double)(m->active_us - arrival_us) / 1e6,
	    (double)(now_us - m->active_us) / 1e6, reason);
	ri_set(m, i, RES_BOUNCE, "4.4.7", relay, reason);
	if (qfile_log(m->qf, i, "failed", "4.4.7", relay, reason, false,
	    &err) == -1 || qfile_mark(m->qf, i, QFILE_FAILED, &err) == -1)
		log_qid_warn(m->qf->qid, "cannot update the queue file: %s",
		    err);
	free(reason);
	free(relay);
}

/* Sends one kind of report for the recipients whose result is res. */
static enum qmgr_bounce_rc
report(struct qmgr_msg *m, enum dsn_report_kind kind, enum rcpt_res res,
    const char *action, int64_t retry_until)
{
	struct dsn_report_rcpt *rr;
	enum qmgr_bounce_rc rc;
	size_t i, n = 0;

	rr = xcalloc(m->qf->nrcpts, sizeof(*rr));
	for (i = 0; i < m->qf->nrcpts; i++) {
		const struct qfile_rcpt *q = &m->qf->rcpts[i];
		const struct rcpt_info *r = &m->ri[i];

		if (r->res != res || !qmgr_bounce_wanted(q->notify, kind))
			continue;
		rr[n].addr = q->addr;
		rr[n].orcpt = q->orcpt;
		rr[n].action = action;
		rr[n].dsn = r->dsn;
		rr[n].relay = r->relay;
		rr[n].text = r->text;
		rr[n].last_attempt = r->time;
		n++;
	}
	rc = n == 0 ? QMGR_BOUNCE_DISCARDED :
	    qmgr_bounce_send(m->qf, kind, rr, n, retry_until);
	free(rr);
	/* The report was queued without a wakeup: take it up now. */
	if (rc == QMGR_BOUNCE_SENT)
		qmgr_scan_request(false);
	return rc;
}

static void
msg_end(struct qmgr_msg *m)
{
	struct qfile *qf = m->qf;
	int64_t now = now_s(), arrival = qf->arrival.tv_sec, next, lifetime;
	const char *err;
	char path[QID_SIZE + 16];
	struct timeval tv[2];
	size_t i, ntodo = 0, nfailed = 0;
	bool keep = false;

	lifetime = qf->sender[0] == '\0' ? conf.bounce_lifetime :
	    conf.lifetime;
	for (i = 0; i < qf->nrcpts; i++)
		if (m->ri[i].res == RES_DEFER)
			ntodo++;
	/* Too old: what is still to do fails with 4.4.7 (RFC 3463). */
	if (ntodo > 0 && now - arrival > lifetime) {
		int64_t now_us = deliver_now_us();

		for (i = 0; i < qf->nrcpts; i++)
			if (m->ri[i].res == RES_DEFER)
				expire(m, i, now_us);
		ntodo = 0;
	}
	for (i = 0; i < qf->nrcpts; i++)
		if (m->ri[i].res == RES_BOUNCE)
			nfailed++;
	if (nfailed > 0) {
		enum qmgr_bounce_rc rc = report(m, DSN_REPORT_FAILURE,
		    RES_BOUNCE, "failed", 0);

		if (rc == QMGR_BOUNCE_TEMP)
			keep = true;
		else if (ntodo > 0) {
			/* Reported: done, so the next pass does not. */
			for (i = 0; i < qf->nrcpts; i++) {
				if (m->ri[i].res != RES_BOUNCE)
					continue;
				if (qfile_mark(qf, i, QFILE_DONE, &err) == -1)
					log_qid_warn(qf->qid, "cannot update "
					    "the queue file: %s", err);
				m->ri[i].res = RES_NONE;
			}
		}
	}
	if (report(m, DSN_REPORT_SUCCESS, RES_SENT, "delivered", 0) ==
	    QMGR_BOUNCE_TEMP)
		log_qid_warn(qf->qid, "success notification not sent");
	if (ntodo > 0 && conf.delay_warning > 0 && qf->warned == 0 &&
	    now - arrival >= conf.delay_warning) {
		enum qmgr_bounce_rc rc = report(m, DSN_REPORT_DELAY, RES_DEFER,
		    "delayed", arrival + lifetime);

		if (rc != QMGR_BOUNCE_TEMP && qfile_warned(qf, &err) == -1)
			log_qid_warn(qf->qid, "cannot update the queue file: "
			    "%s", err);
	}
	if (ntodo == 0 && !keep) {
		if (qfile_remove(QFILE_ACTIVE, qf->qid, &err) == -1)
			log_qid_warn(qf->qid, "cannot remove: %s", err);
		else
			log_qid_info(qf->qid, "removed");
		msg_free(m);
		return;
	}
	/* Deferred: the next retry time is the file's mtime. */
	next = qmgr_sched_backoff(now, arrival, conf.min_backoff,
	    conf.max_backoff);
	tv[0].tv_sec = (time_t)now;
	tv[0].tv_usec = 0;
	tv[1].tv_sec = (time_t)next;
	tv[1].tv_usec = 0;
	str_fmt_buf(path, sizeof(path), "%s/%s", QFILE_ACTIVE, qf->qid);
	if (utimes(path, tv) == -1 && errno != ENOENT)
		log_qid_warn(qf->qid, "utimes: %s", strerror(errno));
	if (qfile_move(QFILE_ACTIVE, QFILE_DEFERRED, qf->qid, false,
	    &err) == -1 && errno != ENOENT)
		log_qid_warn(qf->qid, "cannot move to deferred: %s", err);
	if (deferred_due == 0 || next < deferred_due) {
		deferred_due = next;
		deferred_plan();
	}
	msg_free(m);
}

/* Start and stop. */

/*
 * Takes the lock on active/ (see active_fd above), then takes up what a
 * previous qmgr left there; until then tries again each second.
 */
static void
lock_cb(evutil_socket_t fd, short what, void *arg)
{
	static bool told;
	struct timeval tv = { 1, 0 };

	(void)fd;
	(void)what;
	(void)arg;
	if (flock(active_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			log_warn("lock %s: %s; going on without it",
			    QFILE_ACTIVE, strerror(errno));
		} else {
			if (!told)
				log_info("waiting for the previous queue "
				    "manager to record its deliveries");
			told = true;
			if (event_add(lock_ev, &tv) == -1)
				fatal("event_add failed");
			return;
		}
	}
	/* Leftovers of a previous qmgr (killed, or stopped mid-delivery). */
	if (!stopping)
		(void)scan_dir(QFILE_ACTIVE, false);
}

/*
 * On stop, the messages with no delivery out go back to incoming/, for
 * the successor to take at once; what they owe is in their files.  The
 * others stay, their pending recipients undispatched, until this process
 * is gone.
 */
static void
hand_back(void)
{
	struct qmgr_msg *m, *next;
	const char *err;
	size_t b;

	for (b = 0; b < MSG_BUCKETS; b++)
		for (m = msgs[b]; m != NULL; m = next) {
			next = m->hnext;
			if (m->inflight > 0 || m->gone)
				continue;
			m->outstanding -= qmgr_sched_drop(sched, m);
			if (qfile_move(QFILE_ACTIVE, QFILE_INCOMING, m->qf->qid,
			    false, &err) == -1 && errno != ENOENT)
				log_qid_warn(m->qf->qid, "cannot move back to "
				    "incoming: %s", err);
			msg_free(m);
		}
}

static void
maps_open(void)
{
	const struct strv *names = mail_conf_list("transport_maps");
	const char *err;
	size_t i;

	conf.maps = xcalloc(names->n + 1, sizeof(*conf.maps));
	for (i = 0; i < names->n; i++) {
		conf.maps[i] = dict_open(names->v[i], DICT_FLAG_FOLD, &err);
		if (conf.maps[i] == NULL)
			fatal("transport_maps: %s", err);
	}
	conf.route.maps = conf.maps;
	conf.route.nmaps = names->n;
}

void
qmgr_init(void)
{
	struct event_base *base = server_event_base();
	struct timeval tv = { QMGR_INCOMING_SCAN, 0 };

	conf.route.mydestination = mail_conf_list("mydestination");
	conf.route.virtual_domains = mail_conf_list("virtual_mailbox_domains");
	conf.route.local_transport = mail_conf_get("local_transport");
	conf.route.virtual_transport = mail_conf_get("virtual_transport");
	conf.route.default_transport = mail_conf_get("default_transport");
	conf.route.relayhost = mail_conf_get("relayhost");
	maps_open();
	conf.min_backoff = mail_conf_time("minimal_backoff_time");
	conf.max_backoff = mail_conf_time("maximal_backoff_time");
	conf.lifetime = mail_conf_time("maximal_queue_lifetime");
	conf.bounce_lifetime = mail_conf_time("bounce_queue_lifetime");
	conf.delay_warning = mail_conf_time("delay_warning_time");
	conf.msg_limit = mail_conf_int("qmgr_message_active_limit");
	conf.rcpt_limit = mail_conf_int("qmgr_message_recipient_limit");

	sched = qmgr_sched_new(limits_fn);
	qmgr_agent_init(base, (int)mail_conf_time("ipc_timeout"));
	scan_ev = event_new(base, -1, 0, scan_cb, NULL);
	run_ev = event_new(base, -1, 0, run_cb, NULL);
	incoming_ev = event_new(base, -1, EV_PERSIST, incoming_timer_cb,
	    NULL);
	deferred_ev = event_new(base, -1, 0, deferred_timer_cb, NULL);
	lock_ev = event_new(base, -1, 0, lock_cb, NULL);
	if (scan_ev == NULL || run_ev == NULL || incoming_ev == NULL ||
	    deferred_ev == NULL || lock_ev == NULL ||
	    event_add(incoming_ev, &tv) == -1)
		fatal("cannot set up qmgr's events");
	if ((active_fd = open(QFILE_ACTIVE, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		fatal("open %s: %s", QFILE_ACTIVE, strerror(errno));
	lock_cb(-1, 0, NULL);
	qmgr_scan_request(true);
}

void
qmgr_stop(void)
{
	stopping = true;
	qmgr_agent_close_idle();
	if (incoming_ev != NULL)
		event_del(incoming_ev);
	if (deferred_ev != NULL)
		event_del(deferred_ev);
	if (lock_ev != NULL)
		event_del(lock_ev);
	hand_back();
	if (ndeliveries > 0) {
		log_info("stopping once %zu deliver%s in progress %s recorded",
		    ndeliveries, ndeliveries == 1 ? "y" : "ies",
		    ndeliveries == 1 ? "is" : "are");
		holding = true;
		server_hold();
	}
}

size_t
qmgr_active_count(void)
{
	return nmsgs;
}
