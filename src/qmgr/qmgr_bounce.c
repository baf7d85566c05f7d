/* SPDX-License-Identifier: MIT */
/*
 * Delivery status notifications queued by qmgr; see qmgr_bounce.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "cleanup.h"
#include "dsn_report.h"
#include "mail_conf.h"
#include "qfile.h"

#include "qmgr_bounce.h"

/* Content read for a report beyond bounce_size_limit, for the header. */
#define BOUNCE_HEADER_ROOM	((size_t)4 * 1024 * 1024)

/* True when the local part of addr (any domain) equals name. */
static bool
local_part_is(const char *addr, const char *name)
{
	const char *at = strrchr(addr, '@');
	size_t n = at != NULL ? (size_t)(at - addr) : strlen(addr);
	const char *nat = strrchr(name, '@');
	size_t nn = nat != NULL ? (size_t)(nat - name) : strlen(name);

	return nn > 0 && n == nn && strncasecmp(addr, name, n) == 0;
}

enum qmgr_bounce_to
qmgr_bounce_who(enum dsn_report_kind kind, const char *sender,
    const char *double_bounce_sender, bool notify_2bounce)
{
	if (sender[0] == '\0') {
		if (kind != DSN_REPORT_FAILURE)
			return QMGR_BOUNCE_TO_NOBODY_BOUNCE;
		return notify_2bounce ? QMGR_BOUNCE_TO_2BOUNCE :
		    QMGR_BOUNCE_TO_NOBODY_BOUNCE;
	}
	if (local_part_is(sender, double_bounce_sender))
		return QMGR_BOUNCE_TO_NOBODY_POSTMASTER;
	return QMGR_BOUNCE_TO_SENDER;
}

bool
qmgr_bounce_wanted(const char *notify, enum dsn_report_kind kind)
{
	struct strv words;
	bool want = false, never = false;
	const char *what;
	size_t i;

	if (notify == NULL || strcmp(notify, "-") == 0 || notify[0] == '\0')
		return kind != DSN_REPORT_SUCCESS;
	what = kind == DSN_REPORT_FAILURE ? "FAILURE" :
	    kind == DSN_REPORT_DELAY ? "DELAY" : "SUCCESS";
	strv_init(&words);
	strv_split(&words, notify, ",");
	for (i = 0; i < words.n; i++) {
		if (str_eq_ci(words.v[i], "NEVER"))
			never = true;
		else if (str_eq_ci(words.v[i], what))
			want = true;
	}
	strv_deinit(&words);
	return want && !never;
}

static const char *
kind_log(enum dsn_report_kind kind)
{
	switch (kind) {
	case DSN_REPORT_FAILURE:
		return "non-delivery notification";
	case DSN_REPORT_DELAY:
		return "delay notification";
	case DSN_REPORT_SUCCESS:
		return "delivery status notification";
	}
	return "notification";
}

enum qmgr_bounce_rc
qmgr_bounce_send(const struct qfile *qf, enum dsn_report_kind kind,
    const struct dsn_report_rcpt *rcpts, size_t n, int64_t retry_until)
{
	struct cleanup_origin origin = { .protocol = "local", .uid = -1 };
	enum qmgr_bounce_to who;
	struct dsn_report r;
	struct cleanup *c;
	struct buf content, out;
	const char *to, *from, *err, *reason, *envid, *ret;
	char newqid[QID_SIZE];
	struct buf envid_buf;
	size_t limit, max;
	enum qmgr_bounce_rc rc = QMGR_BOUNCE_TEMP;

	if (n == 0)
		return QMGR_BOUNCE_DISCARDED;
	who = qmgr_bounce_who(kind, qf->sender,
	    mail_conf_get("double_bounce_sender"),
	    strv_find(mail_conf_list("notify_classes"), "2bounce") != -1);
	switch (who) {
	case QMGR_BOUNCE_TO_NOBODY_BOUNCE:
		if (kind == DSN_REPORT_FAILURE)
			log_qid_info(qf->qid, "undeliverable bounce discarded");
		return QMGR_BOUNCE_DISCARDED;
	case QMGR_BOUNCE_TO_NOBODY_POSTMASTER:
		log_qid_info(qf->qid,
		    "undeliverable postmaster notification discarded");
		return QMGR_BOUNCE_DISCARDED;
	case QMGR_BOUNCE_TO_2BOUNCE:
		to = mail_conf_get("2bounce_notice_recipient");
		from = mail_conf_get("double_bounce_sender");
		break;
	case QMGR_BOUNCE_TO_SENDER:
	default:
		to = qf->sender;
		from = "";
		break;
	}

	limit = (size_t)mail_conf_size("bounce_size_limit");
	max = limit > SIZE_MAX - BOUNCE_HEADER_ROOM ? 0 :
	    limit + BOUNCE_HEADER_ROOM;
	buf_init(&content, 0);
	buf_init(&out, 0);
	buf_init(&envid_buf, QFILE_LINE_MAX);
	if (qfile_read_content(qf, &content, max, &err) == -1) {
		log_qid_warn(qf->qid, "cannot read the message for a %s: %s",
		    kind_log(kind), err);
		goto out;
	}
	envid = qfile_attr(qf, "envid");
	if (envid != NULL) {
		if (qfile_xtext_decode(&envid_buf, envid) == -1)
			envid = NULL;
		else
			envid = buf_cstr(&envid_buf);
	}
	ret = qfile_attr(qf, "ret");
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.qid = qf->qid;
	r.myhostname = mail_conf_get("myhostname");
	r.to = to;
	r.envid = envid;
	r.ret_hdrs = ret != NULL && str_eq_ci(ret, "HDRS");
	r.arrival = qf->arrival.tv_sec;
	r.retry_until = kind == DSN_REPORT_DELAY ? retry_until : 0;
	r.rcpts = rcpts;
	r.nrcpts = n;
	r.content = buf_cstr(&content);
	r.content_len = content.len;
	r.size_limit = limit;
	if (dsn_report_compose(&r, &out, &err) == -1) {
		log_qid_warn(qf->qid, "cannot compose a %s: %s",
		    kind_log(kind), err);
		goto out;
	}
	if (cleanup_open(CLEANUP_F_BOUNCE | CLEANUP_F_NO_WAKEUP, &origin, &c,
	    &err) == -1) {
		log_qid_warn(qf->qid, "cannot queue a %s: %s",
		    kind_log(kind), err);
		goto out;
	}
	cleanup_sender(c, from);
	cleanup_rcpt(c, to, NULL, NULL);
	cleanup_write(c, out.data != NULL ? out.data : "", out.len);
	switch (cleanup_finish(&c, newqid, &reason)) {
	case CLEANUP_OK:
		log_qid_info(qf->qid, "%s %s: %s",
		    who == QMGR_BOUNCE_TO_2BOUNCE ? "postmaster" : "sender",
		    kind_log(kind), newqid);
		rc = QMGR_BOUNCE_SENT;
		break;
	case CLEANUP_PERM:
		/* XXX: a report cleanup refuses will never be accepted;
		 * Postfix drops it too rather than loop. */
		log_qid_warn(qf->qid, "%s rejected: %s; discarded",
		    kind_log(kind), reason);
		rc = QMGR_BOUNCE_DISCARDED;
		break;
	case CLEANUP_TEMP:
	default:
		log_qid_warn(qf->qid, "cannot queue a %s: %s",
		    kind_log(kind), reason);
		break;
	}
out:
	buf_deinit(&content);
	buf_deinit(&out);
	buf_deinit(&envid_buf);
	return rc;
}
