/* SPDX-License-Identifier: MIT */
/*
 * ternsuper: queue maintenance for root and the queue's owner, as
 * postsuper(1): delete (-d), hold (-h), release (-H) and requeue (-r)
 * messages named by queue ID, "ALL" or "-" (IDs on standard input), and
 * check and repair the queue tree (-s).  Every action is logged as
 * Postfix's postsuper logs it ("QID: removed") and every log line is also
 * shown on standard error, followed by the totals ("Deleted: 2 messages").
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "mail_conf.h"
#include "mail_dirs.h"
#include "mail_trigger.h"
#include "qfile.h"
#include "qid.h"

#define EX_USAGE_	64
#define EX_NOPERM_	77

/* Temporary files older than this are left-overs of a crash (-s). */
#define SUPER_TMP_MAX_AGE	(24 * 60 * 60)
/* Longest line accepted on standard input for "-". */
#define SUPER_LINE_MAX		256

enum super_op { OP_DELETE, OP_HOLD, OP_RELEASE, OP_REQUEUE, OP_COUNT };

/* What each operation may touch, what it does by default, what it logs. */
struct super_op_spec {
	char		 opt;
	const char	*allowed[7];	/* NULL-terminated */
	const char	*defaults[5];
	const char	*to;		/* target queue; NULL: remove */
	const char	*logged;	/* "QID: <logged>" */
	const char	*total;		/* "<total>: N message(s)" */
};

static const struct super_op_spec super_ops[OP_COUNT] = {
	[OP_DELETE] = { 'd',
	    { QFILE_INCOMING, QFILE_ACTIVE, QFILE_DEFERRED, QFILE_HOLD,
	      QFILE_MAILDROP, QFILE_CORRUPT, NULL },
	    { QFILE_INCOMING, QFILE_ACTIVE, QFILE_DEFERRED, QFILE_HOLD, NULL },
	    NULL, "removed", "Deleted" },
	[OP_HOLD] = { 'h',
	    { QFILE_INCOMING, QFILE_ACTIVE, QFILE_DEFERRED, NULL },
	    { QFILE_INCOMING, QFILE_ACTIVE, QFILE_DEFERRED, NULL },
	    QFILE_HOLD, "placed on hold", "Placed on hold" },
	[OP_RELEASE] = { 'H',
	    { QFILE_HOLD, NULL },
	    { QFILE_HOLD, NULL },
	    QFILE_DEFERRED, "released from hold", "Released from hold" },
	[OP_REQUEUE] = { 'r',
	    { QFILE_INCOMING, QFILE_ACTIVE, QFILE_DEFERRED, QFILE_HOLD, NULL },
	    { QFILE_INCOMING, QFILE_ACTIVE, QFILE_DEFERRED, QFILE_HOLD, NULL },
	    QFILE_INCOMING, "requeued", "Requeued" },
};

/* The IDs named for one operation. */
struct super_req {
	struct strv	 ids;
	bool		 all;
	bool		 from_stdin;
	bool		 used;
};

/*
 * Parses one line of "-" input (without its LF): surrounding white space
 * and a trailing mailq status character ('*' or '!') are dropped, so
 * that IDs cut from a mailq listing work.  Returns 1 with the ID in id_r,
 * 0 for an empty line, -1 with err_r for anything else (NUL, CR inside,
 * too long, not a queue ID).
 */
static int
super_parse_id_line(const char *line, size_t len, char id_r[QID_SIZE],
    const char **err_r)
{
	size_t start = 0, end = len;

	if (memchr(line, '\0', len) != NULL) {
		*err_r = "NUL character in queue ID";
		return -1;
	}
	while (start < end && (line[start] == ' ' || line[start] == '\t'))
		start++;
	while (end > start && (line[end - 1] == ' ' ||
	    line[end - 1] == '\t' || line[end - 1] == '\r'))
		end--;
	if (start == end)
		return 0;
	if (line[end - 1] == '*' || line[end - 1] == '!')
		end--;
	if (end - start > QID_MAX_LEN || end == start) {
		*err_r = "bad queue ID";
		return -1;
	}
	memcpy(id_r, line + start, end - start);
	id_r[end - start] = '\0';
	if (!qid_valid(id_r)) {
		*err_r = "bad queue ID";
		return -1;
	}
	return 1;
}

/*
 * Reads IDs one per line from fp into ids; bad lines are warned about
 * (with their line number) and skipped.  Returns the number of bad lines.
 */
static size_t
super_read_ids(FILE *fp, const char *name, struct strv *ids)
{
	char line[SUPER_LINE_MAX];
	size_t len = 0, bad = 0, lineno = 0;
	bool too_long = false;
	int c;

	for (;;) {
		char id[QID_SIZE];
		const char *err = "line too long";
		int rc = -1;

		if ((c = getc(fp)) != EOF && c != '\n') {
			if (len < sizeof(line))
				line[len++] = (char)c;
			else
				too_long = true;
			continue;
		}
		if (c == EOF && len == 0 && !too_long)
			break;
		lineno++;
		if (!too_long)
			rc = super_parse_id_line(line, len, id, &err);
		if (rc == 1)
			strv_push(ids, id);
		else if (rc == -1) {
			char *esc = log_escape(line, len);

			log_warn("%s, line %zu: %s: %s", name, lineno, err,
			    esc);
			free(esc);
			bad++;
		}
		len = 0;
		too_long = false;
		if (c == EOF)
			break;
	}
	return bad;
}

/* The queue names given as arguments must exist and be allowed. */
static bool
super_queue_listed(const char *const *list, const char *q)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (str_eq(list[i], q))
			return true;
	return false;
}

static bool
super_queue_name_valid(const char *q)
{
	for (size_t op = 0; op < OP_COUNT; op++)
		if (super_queue_listed(super_ops[op].allowed, q))
			return true;
	return false;
}

/* The queues an operation works on: the arguments it allows, or defaults. */
static void
super_op_queues(enum super_op op, const struct strv *args, struct strv *out)
{
	const struct super_op_spec *s = &super_ops[op];

	if (args->n == 0) {
		for (size_t i = 0; s->defaults[i] != NULL; i++)
			strv_push(out, s->defaults[i]);
		return;
	}
	for (size_t i = 0; i < args->n; i++)
		if (super_queue_listed(s->allowed, args->v[i]))
			strv_push(out, args->v[i]);
}

#ifndef TERNSUPER_NO_MAIN

static uint64_t super_done[OP_COUNT];

/* Every log line is shown to the user as well (see the top comment). */
static void
echo_hook(enum log_level level, const char *msg, void *ctx)
{
	static const char *const prefix[] = {
		[LOG_LVL_INFO] = "", [LOG_LVL_WARN] = "warning: ",
		[LOG_LVL_ERROR] = "error: ", [LOG_LVL_FATAL] = "fatal: ",
		[LOG_LVL_PANIC] = "panic: ",
	};

	(void)ctx;
	fprintf(stderr, "ternsuper: %s%s\n", prefix[level], msg);
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: ternsuper [-s] [-c config_dir] "
	    "[-d queue_id] [-h queue_id] [-H queue_id] [-r queue_id] "
	    "[queue...]\n");
	exit(EX_USAGE_);
}

/* Applies op to QUEUE/ID; 1 done, 0 not there, -1 failed (warned). */
static int
super_apply(enum super_op op, const char *queue, const char *id)
{
	const struct super_op_spec *s = &super_ops[op];
	const char *err;
	char path[64];
	int rc;

	if (s->to == NULL)
		rc = qfile_remove(queue, id, &err);
	else if (str_eq(queue, s->to))
		return 1;	/* already there: nothing to do */
	else
		rc = qfile_move(queue, s->to, id, true, &err);
	if (rc == -1) {
		if (errno == ENOENT)
			return 0;
		log_qid_warn(id, "%s: %s", queue, err);
		return -1;
	}
	if (s->to == NULL) {
		/* qfile_remove treats a missing file as removed. */
	} else if (op == OP_RELEASE) {
		/* So that qmgr takes it at its next deferred scan. */
		str_fmt_buf(path, sizeof(path), "%s/%s", s->to, id);
		if (utimensat(AT_FDCWD, path, NULL, 0) == -1)
			log_qid_warn(id, "set time of %s: %s", path,
			    strerror(errno));
	}
	log_qid_info(id, "%s", s->logged);
	super_done[op]++;
	return 1;
}

/* True when QUEUE/ID exists (as anything). */
static bool
super_exists(const char *queue, const char *id)
{
	char path[64];
	struct stat st;

	str_fmt_buf(path, sizeof(path), "%s/%s", queue, id);
	return lstat(path, &st) == 0;
}

static void
super_run_op(enum super_op op, const struct super_req *req,
    const struct strv *stdin_ids, const struct strv *args)
{
	struct strv queues;

	strv_init(&queues);
	super_op_queues(op, args, &queues);
	if (req->all) {
		for (size_t q = 0; q < queues.n; q++) {
			struct strv ids;
			struct dirent *de;
			DIR *d;

			if ((d = opendir(queues.v[q])) == NULL) {
				if (errno != ENOENT)
					log_warn("open directory %s: %s",
					    queues.v[q], strerror(errno));
				continue;
			}
			strv_init(&ids);
			while ((de = readdir(d)) != NULL)
				if (qid_valid(de->d_name))
					strv_push(&ids, de->d_name);
			closedir(d);
			for (size_t i = 0; i < ids.n; i++)
				(void)super_apply(op, queues.v[q], ids.v[i]);
			strv_deinit(&ids);
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		const struct strv *ids = pass == 0 ? &req->ids : stdin_ids;

		if (pass == 1 && !req->from_stdin)
			break;
		for (size_t i = 0; i < ids->n; i++) {
			int rc = 0;

			for (size_t q = 0; rc == 0 && q < queues.n; q++)
				if (super_exists(queues.v[q], ids->v[i]))
					rc = super_apply(op, queues.v[q],
					    ids->v[i]);
			if (rc == 0)
				log_warn("%s: no such message", ids->v[i]);
		}
	}
	strv_deinit(&queues);
}

/* -s: the tree, left-over temporary files, names that are no queue IDs. */
static int
super_structure(void)
{
	static const char *const dirs[] = {
		QFILE_INCOMING, QFILE_ACTIVE, QFILE_DEFERRED, QFILE_HOLD,
		QFILE_MAILDROP,
	};
	struct strv report;
	int rc;

	strv_init(&report);
	rc = mail_dirs_check(true, &report);
	for (size_t i = 0; i < report.n; i++)
		log_info("%s", report.v[i]);
	strv_deinit(&report);
	for (size_t q = 0; q < sizeof(dirs) / sizeof(dirs[0]); q++) {
		struct strv names;
		struct dirent *de;
		DIR *d;

		if ((d = opendir(dirs[q])) == NULL) {
			log_warn("open directory %s: %s", dirs[q],
			    strerror(errno));
			rc = -1;
			continue;
		}
		strv_init(&names);
		while ((de = readdir(d)) != NULL)
			if (!str_eq(de->d_name, ".") &&
			    !str_eq(de->d_name, "..") &&
			    !qid_valid(de->d_name))
				strv_push(&names, de->d_name);
		closedir(d);
		for (size_t i = 0; i < names.n; i++) {
			char *path = xasprintf("%s/%s", dirs[q], names.v[i]);
			char *esc = log_escape_str(path);
			struct stat st;

			if (lstat(path, &st) == -1) {
				/* gone meanwhile */
			} else if (!S_ISREG(st.st_mode)) {
				log_warn("%s: not a regular file; left alone",
				    esc);
			} else if (str_has_prefix(names.v[i], ".tmp.")) {
				if (st.st_mtime + SUPER_TMP_MAX_AGE <
				    time(NULL)) {
					if (unlink(path) == 0)
						log_info("%s: removed old "
						    "temporary file", esc);
					else
						log_warn("remove %s: %s", esc,
						    strerror(errno));
				}
			} else
				qfile_quarantine(dirs[q], names.v[i],
				    "name is not a queue ID");
			free(esc);
			free(path);
		}
		strv_deinit(&names);
	}
	return rc;
}

/* Released mail is due now: ask qmgr to look (as ternqueue -f). */
static void
super_flush(void)
{
	struct attr_writer w;
	struct buf frame;
	const char *err;

	buf_init(&frame, 0);
	attr_frame_begin(&w, &frame);
	attr_put_str(&w, "request", "flush");
	if (attr_frame_end(&w, &err) == -1 ||
	    mail_trigger_send(MAIL_TRIGGER_QMGR, &frame, &err) == -1)
		log_warn("cannot flush the mail queue: %s", err);
	buf_deinit(&frame);
}

static void
add_request(struct super_req *req, const char *arg)
{
	req->used = true;
	if (str_eq(arg, "ALL"))
		req->all = true;
	else if (str_eq(arg, "-"))
		req->from_stdin = true;
	else if (qid_valid(arg))
		strv_push(&req->ids, arg);
	else {
		char *esc = log_escape_str(arg);

		fprintf(stderr, "ternsuper: fatal: bad queue ID: %s\n", esc);
		free(esc);
		exit(EX_USAGE_);
	}
}

int
main(int argc, char **argv)
{
	struct super_req reqs[OP_COUNT];
	struct strv args, stdin_ids;
	const char *dir = NULL, *err;
	bool structure = false, need_stdin = false;
	int ch, rc = 0;

	log_init("ternsuper");
	log_use_stderr();
	memset(reqs, 0, sizeof(reqs));
	for (size_t op = 0; op < OP_COUNT; op++)
		strv_init(&reqs[op].ids);
	while ((ch = getopt(argc, argv, "c:d:h:H:r:s")) != -1) {
		switch (ch) {
		case 'c': dir = optarg; break;
		case 'd': add_request(&reqs[OP_DELETE], optarg); break;
		case 'h': add_request(&reqs[OP_HOLD], optarg); break;
		case 'H': add_request(&reqs[OP_RELEASE], optarg); break;
		case 'r': add_request(&reqs[OP_REQUEUE], optarg); break;
		case 's': structure = true; break;
		default: usage();
		}
	}
	strv_init(&args);
	for (int i = optind; i < argc; i++) {
		if (!super_queue_name_valid(argv[i])) {
			char *esc = log_escape_str(argv[i]);

			fprintf(stderr, "ternsuper: fatal: bad queue name: "
			    "%s\n", esc);
			free(esc);
			exit(EX_USAGE_);
		}
		strv_push(&args, argv[i]);
	}
	if (!structure) {
		bool any = false;

		for (size_t op = 0; op < OP_COUNT; op++)
			any = any || reqs[op].used;
		if (!any)
			usage();
	}
	if (mail_conf_try_load(dir, NULL, false, &err) == -1) {
		fprintf(stderr, "ternsuper: fatal: %s\n", err);
		exit(1);
	}
	if (chdir(mail_conf_get("queue_directory")) == -1) {
		fprintf(stderr, "ternsuper: fatal: chdir %s: %s\n",
		    mail_conf_get("queue_directory"), strerror(errno));
		exit(1);
	}
	if (!mail_dirs_queue_admin()) {
		fprintf(stderr, "ternsuper: fatal: permission denied\n");
		exit(EX_NOPERM_);
	}
	if (mail_conf_open_log(&err) == -1)
		fprintf(stderr, "ternsuper: warning: cannot open the log: "
		    "%s\n", err);
	else
		log_set_hook(echo_hook, NULL);

	strv_init(&stdin_ids);
	for (size_t op = 0; op < OP_COUNT; op++)
		need_stdin = need_stdin || reqs[op].from_stdin;
	if (need_stdin && super_read_ids(stdin, "standard input",
	    &stdin_ids) > 0)
		rc = 1;
	if (structure && super_structure() == -1)
		rc = 1;
	for (size_t op = 0; op < OP_COUNT; op++)
		if (reqs[op].used)
			super_run_op(op, &reqs[op], &stdin_ids, &args);
	for (size_t op = 0; op < OP_COUNT; op++)
		if (super_done[op] > 0)
			log_info("%s: %llu message%s", super_ops[op].total,
			    (unsigned long long)super_done[op],
			    super_done[op] == 1 ? "" : "s");
	if (super_done[OP_RELEASE] > 0)
		super_flush();
	if (super_done[OP_REQUEUE] > 0 && mail_trigger_wakeup(
	    MAIL_TRIGGER_QMGR, &err) == -1)
		log_warn("cannot wake up qmgr: %s", err);

	for (size_t op = 0; op < OP_COUNT; op++)
		strv_deinit(&reqs[op].ids);
	strv_deinit(&stdin_ids);
	strv_deinit(&args);
	mail_conf_unload();
	return rc;
}

#endif /* TERNSUPER_NO_MAIN */
