/* SPDX-License-Identifier: MIT */
/*
 * pickup: maildrop scanning, validation and the hand-off to cleanup; the
 * wakeup sessions on the server skeleton's loop.  See pickup.h.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "attr.h"
#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "cleanup.h"
#include "dsn_report.h"
#include "mail_conf.h"
#include "master_proto.h"
#include "qfile.h"
#include "qid.h"
#include "server.h"

#include "pickup.h"

struct pickup_session {
	int			 fd;
	struct event		*ev;
	struct attr_reader	 frame;
	bool			 wakeup;
};

/* The address a failure notice goes to: the sender, else the user. */
static char *
notice_rcpt(const struct qfile *qf)
{
	const char *who = qf->sender;
	struct passwd *pw;

	if (*who == '\0') {
		pw = getpwuid(qf->st.st_uid);
		who = pw != NULL ? pw->pw_name : "postmaster";
	}
	if (strchr(who, '@') != NULL)
		return xstrdup(who);
	return xasprintf("%s@%s", who, mail_conf_get("myorigin"));
}

/*
 * Returns a refused message to its sender: an RFC 3464 failure report
 * with one entry per envelope recipient, queued with the null sender.
 * 0 when queued; -1 when not (TEMP: try again later).
 */
static int
send_notice(const char *name, const struct qfile *qf, const char *reason,
    const struct buf *content, bool *temp_r)
{
	struct cleanup_origin origin = { .protocol = "local", .uid = -1 };
	struct dsn_report_rcpt *rr;
	struct dsn_report r = { 0 };
	struct cleanup *c;
	struct buf msg, envid;
	char qid[QID_SIZE], dsn[16], *to;
	const char *err, *text, *envid_x, *sp;
	enum cleanup_status st;
	long long limit;
	size_t i;
	int rc = -1;

	/* "5.3.4 message size exceeds limit" -> 5.3.4 and the text. */
	sp = strchr(reason, ' ');
	if (reason[0] == '5' && sp != NULL && (size_t)(sp - reason) <
	    sizeof(dsn)) {
		memcpy(dsn, reason, (size_t)(sp - reason));
		dsn[sp - reason] = '\0';
		text = sp + 1;
	} else {
		str_copy(dsn, "5.0.0", sizeof(dsn));
		text = reason;
	}
	*temp_r = false;
	to = notice_rcpt(qf);
	rr = xcalloc(qf->nrcpts, sizeof(*rr));
	for (i = 0; i < qf->nrcpts; i++) {
		rr[i].addr = qf->rcpts[i].addr;
		rr[i].orcpt = qf->rcpts[i].orcpt;
		rr[i].action = "failed";
		rr[i].dsn = dsn;
		rr[i].relay = NULL;
		rr[i].text = text;
		rr[i].last_attempt = (int64_t)time(NULL);
	}
	buf_init(&envid, 0);
	envid_x = qfile_attr(qf, "envid");
	r.kind = DSN_REPORT_FAILURE;
	r.qid = name;
	r.myhostname = mail_conf_get("myhostname");
	r.to = to;
	r.envid = envid_x != NULL && qfile_xtext_decode(&envid, envid_x) == 0 ?
	    buf_cstr(&envid) : NULL;
	r.ret_hdrs = str_eq_ci(qfile_attr(qf, "ret") != NULL ?
	    qfile_attr(qf, "ret") : "", "HDRS");
	r.arrival = (int64_t)qf->arrival.tv_sec;
	r.rcpts = rr;
	r.nrcpts = qf->nrcpts;
	r.content = content->data != NULL ? content->data : "";
	r.content_len = content->len;
	r.size_limit = (size_t)mail_conf_size("bounce_size_limit");
	/* The notice itself must pass message_size_limit in cleanup. */
	limit = mail_conf_size("message_size_limit");
	if (limit > 0 && (r.size_limit == 0 || r.size_limit > (size_t)limit / 2))
		r.size_limit = (size_t)limit / 2;
	buf_init(&msg, 0);
	if (dsn_report_compose(&r, &msg, &err) == -1) {
		log_warn("%s: cannot compose a failure notice: %s", name, err);
		goto out;
	}
	if (cleanup_open(CLEANUP_F_BOUNCE, &origin, &c, &err) == -1) {
		log_warn("%s: cannot queue a failure notice: %s", name, err);
		*temp_r = true;
		goto out;
	}
	cleanup_sender(c, "");
	cleanup_rcpt(c, to, NULL, NULL);
	cleanup_write(c, msg.data, msg.len);
	st = cleanup_finish(&c, qid, &err);
	if (st != CLEANUP_OK) {
		log_warn("%s: cannot queue a failure notice: %s", name, err);
		*temp_r = st == CLEANUP_TEMP;
		goto out;
	}
	log_qid_info(qid, "sender non-delivery notification: %s", name);
	rc = 0;
out:
	buf_deinit(&msg);
	buf_deinit(&envid);
	free(rr);
	free(to);
	return rc;
}

static void
remove_file(const char *name)
{
	const char *err;

	if (qfile_remove(QFILE_MAILDROP, name, &err) == -1)
		log_warn("%s: %s", name, err);
}

/* Feeds one parsed maildrop file to cleanup. */
static enum pickup_result
pickup_qfile(const char *name, const struct qfile *qf)
{
	struct cleanup_origin origin = { .protocol = "local" };
	long long limit = mail_conf_size("message_size_limit");
	const char *flags = qfile_attr(qf, "flags"), *err, *v;
	char qid[QID_SIZE], *esc;
	enum cleanup_status st;
	struct cleanup *c;
	struct buf content;
	unsigned cf = CLEANUP_F_LOCAL;
	bool temp;
	size_t i;

	if (flags != NULL && str_eq(flags, "extract"))
		cf |= CLEANUP_F_EXTRACT;
	origin.uid = (long)qf->st.st_uid;
	origin.fullname = qfile_attr(qf, "fullname");
	/* One byte over the limit is enough for cleanup to refuse it. */
	buf_init(&content, 0);
	if (qfile_read_content(qf, &content, limit > 0 ? (size_t)limit + 1 :
	    BUF_MAX_DEFAULT, &err) == -1) {
		qfile_quarantine(QFILE_MAILDROP, name, err);
		buf_deinit(&content);
		return PICKUP_QUARANTINED;
	}
	if (cleanup_open(cf, &origin, &c, &err) == -1) {
		log_warn("%s: cannot queue, will retry: %s", name, err);
		buf_deinit(&content);
		return PICKUP_DEFERRED;
	}
	/* Postfix's order: pickup's line, then cleanup's message-id=. */
	esc = log_escape_str(qf->sender);
	log_qid_info(cleanup_qid(c), "uid=%lu from=<%s>",
	    (unsigned long)qf->st.st_uid, esc);
	free(esc);
	cleanup_sender(c, qf->sender);
	for (i = 0; i < qf->nrcpts; i++)
		cleanup_rcpt(c, qf->rcpts[i].addr,
		    str_eq(qf->rcpts[i].notify, "-") ? NULL :
		    qf->rcpts[i].notify,
		    str_eq(qf->rcpts[i].orcpt, "-") ? NULL :
		    qf->rcpts[i].orcpt);
	if ((v = qfile_attr(qf, "ret")) != NULL)
		cleanup_attr(c, "ret", v);
	if ((v = qfile_attr(qf, "envid")) != NULL)
		cleanup_attr(c, "envid", v);
	if (origin.fullname != NULL)
		cleanup_attr(c, "fullname", origin.fullname);
	cleanup_write(c, content.data, content.len);
	st = cleanup_finish(&c, qid, &err);
	if (st == CLEANUP_OK) {
		buf_deinit(&content);
		remove_file(name);
		return PICKUP_QUEUED;
	}
	if (st == CLEANUP_TEMP) {
		log_warn("%s: cannot queue, will retry: %s", name, err);
		buf_deinit(&content);
		return PICKUP_DEFERRED;
	}
	log_info("%s: rejected: %s", name, err);
	if (send_notice(name, qf, err, &content, &temp) == -1) {
		buf_deinit(&content);
		if (temp)
			return PICKUP_DEFERRED;
		/* Never drop a message silently: keep it for the admin. */
		qfile_quarantine(QFILE_MAILDROP, name,
		    "rejected and no failure notice could be sent");
		return PICKUP_QUARANTINED;
	}
	buf_deinit(&content);
	remove_file(name);
	return PICKUP_BOUNCED;
}

enum pickup_result
pickup_file(const char *name)
{
	enum pickup_result res;
	struct qfile *qf;
	struct stat st;
	const char *err;
	char *path;
	int fd, rc;

	path = xasprintf("%s/%s", QFILE_MAILDROP, name);
	/* SECURITY: never follow a link, never block on a FIFO. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	free(path);
	if (fd == -1) {
		if (errno == ENOENT)
			return PICKUP_GONE;
		if (errno == ELOOP) {
			qfile_quarantine(QFILE_MAILDROP, name,
			    "not a regular file");
			return PICKUP_QUARANTINED;
		}
		log_warn("%s: cannot open: %s", name, strerror(errno));
		return PICKUP_DEFERRED;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1) {
		close(fd);
		qfile_quarantine(QFILE_MAILDROP, name,
		    "not a regular file with one link");
		return PICKUP_QUARANTINED;
	}
	rc = qfile_open_fd(fd, QFILE_MAILDROP, name, &qf, &err);
	if (rc == -2) {
		close(fd);
		qfile_quarantine(QFILE_MAILDROP, name, err);
		return PICKUP_QUARANTINED;
	}
	if (rc == -1) {
		close(fd);
		log_warn("%s: %s", name, err);
		return errno == ENOENT ? PICKUP_GONE : PICKUP_DEFERRED;
	}
	res = pickup_qfile(name, qf);
	qfile_free(&qf);
	return res;
}

size_t
pickup_scan(void)
{
	struct dirent *de;
	struct strv names;
	size_t i, n = 0;
	DIR *d;

	d = opendir(QFILE_MAILDROP);
	if (d == NULL) {
		log_warn("open %s: %s", QFILE_MAILDROP, strerror(errno));
		return 0;
	}
	strv_init(&names);
	while ((de = readdir(d)) != NULL)
		/* Temporary files and anything else are not ours yet. */
		if (qid_valid(de->d_name))
			strv_push(&names, de->d_name);
	closedir(d);
	for (i = 0; i < names.n; i++)
		if (pickup_file(names.v[i]) != PICKUP_GONE)
			n++;
	strv_deinit(&names);
	return n;
}

void
pickup_init(void)
{
	(void)pickup_scan();
}

static void
session_end(struct pickup_session *s)
{
	bool wakeup = s->wakeup;

	event_free(s->ev);
	close(s->fd);
	attr_reader_deinit(&s->frame);
	free(s);
	if (wakeup)
		(void)pickup_scan();
	server_session_done();
}

static void
read_cb(evutil_socket_t fd, short what, void *ctx)
{
	struct pickup_session *s = ctx;
	const void *body;
	const char *err;
	size_t len;
	int rc;

	(void)fd;
	if (what & EV_TIMEOUT) {
		log_warn("wakeup request timed out");
		session_end(s);
		return;
	}
	rc = attr_reader_fill(&s->frame, s->fd, &err);
	if (rc == -1) {
		log_warn("read wakeup request: %s", err);
		session_end(s);
		return;
	}
	while (attr_reader_next(&s->frame, &body, &len, &err) == 1) {
		if (master_proto_is_wakeup(body, len))
			s->wakeup = true;
		else
			log_warn("unexpected request frame");
		attr_reader_consume(&s->frame);
	}
	if (rc == 0) {
		if (attr_reader_pending(&s->frame))
			log_warn("short wakeup request");
		session_end(s);
	}
}

void
pickup_session_start(int fd, const struct server_peer *peer)
{
	struct timeval tv = { .tv_sec = PICKUP_FRAME_TIMEOUT };
	struct pickup_session *s;

	(void)peer;
	s = xcalloc(1, sizeof(*s));
	s->fd = fd;
	attr_reader_init(&s->frame, PICKUP_FRAME_MAX);
	s->ev = event_new(server_event_base(), fd, EV_READ | EV_PERSIST,
	    read_cb, s);
	if (s->ev == NULL || event_add(s->ev, &tv) == -1)
		fatal("cannot watch a wakeup session");
}
