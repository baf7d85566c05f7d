/* SPDX-License-Identifier: MIT */
/*
 * Queue files: the one on-disk form of a queued message (also used, with
 * every field untrusted, for maildrop files).  See tern-queue(5) for the
 * format as administrators see it; this is the contract.
 *
 * A queue file is named by its queue ID (qid.h) and lives in one of the
 * queue directories (incoming, active, deferred, hold, corrupt) under
 * queue_directory.  It is text up to the content marker, then the message,
 * then appended log records:
 *
 *	TERNQ 1				magic and version
 *	T <sec>.<usec>			arrival time (6-digit usec)
 *	Z <20-digit size>		content size in bytes (fixed width, so the
 *					writer can fill it in at the end)
 *	S <sender>			envelope sender, internal form; "S " for <>
 *	A <name>=<value>		attribute, zero or more (see below)
 *	R <state> <notify> <orcpt> <address>
 *					recipient, one or more, in order
 *	M				content follows: exactly Z bytes of the
 *					message (LF line ends, no dot-stuffing)
 *	X				end of content
 *	L <index> <time> <action> <dsn> <relay> <text>
 *					per-recipient log record, appended
 *	W <time>			a delay warning was sent, appended
 *
 * Every record is one line ending in LF.  Values are UTF-8 text without
 * NUL, CR or LF, at most QFILE_LINE_MAX bytes per line.  <state> is one
 * character at a fixed place that is overwritten in place (qfile_mark):
 * '-' not done, 'D' done (delivered, forwarded or discarded), 'F' failed
 * permanently (a bounce is owed).  <notify> is "-" or a comma list of
 * SUCCESS, FAILURE, DELAY, NEVER (RFC 3461 §4.1); <orcpt> is "-" or the
 * ORCPT value as "addr-type;xtext" (RFC 3461 §4.2).  <index> in L records
 * counts recipients from 0 in file order; <time> is seconds since the
 * epoch; <action> is delivered, failed, delayed, relayed or expanded
 * (RFC 3464 §2.3.3); <relay> is a host or transport name or "-"; <text>
 * is the rest of the line (may be empty).
 *
 * Attribute names (A records), all optional: envid (RFC 3461 ENVID,
 * xtext), ret (FULL or HDRS), client_name, client_addr, helo, protocol,
 * sasl_user, origin_uid (submitting user of a maildrop file), fullname
 * (sendmail -F), flags (maildrop only: a comma list of "extract" for -t;
 * a file with "extract" may have no R record).
 * Readers ignore attribute names they do not know.
 *
 * Crash safety: a file is written under a temporary name in its directory,
 * fsync'd, and renamed to its queue ID (qfile_commit), so no reader sees a
 * partial file.  qfile_mark and qfile_log write in place and fsync before
 * returning.  A file whose envelope, size or end marker is wrong is corrupt:
 * qfile_open fails and the caller moves it with qfile_quarantine.
 */
#ifndef TERN_QFILE_H
#define TERN_QFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>

#include "buf.h"
#include "str.h"
#include "qid.h"

#define QFILE_LINE_MAX		4096
#define QFILE_RCPT_MAX		100000

/* Queue directories (relative to queue_directory). */
#define QFILE_INCOMING	"incoming"
#define QFILE_ACTIVE	"active"
#define QFILE_DEFERRED	"deferred"
#define QFILE_HOLD	"hold"
#define QFILE_CORRUPT	"corrupt"
#define QFILE_MAILDROP	"maildrop"

enum qfile_state {
	QFILE_TODO = '-',
	QFILE_DONE = 'D',
	QFILE_FAILED = 'F',
};

struct qfile_rcpt {
	char		*addr;		/* internal form */
	char		*notify;	/* "-" or e.g. "SUCCESS,FAILURE" */
	char		*orcpt;		/* "-" or "rfc822;xtext" */
	enum qfile_state state;
	off_t		 state_off;	/* file offset of the state byte */
	/* From the last L record for this recipient, or NULL: */
	char		*last_action;
	char		*last_dsn;
	char		*last_relay;
	char		*last_text;
	int64_t		 last_time;
};

struct qfile_attr {
	char		*name;
	char		*value;
};

/* A parsed queue file (envelope and where the content is). */
struct qfile {
	char		 qid[QID_SIZE];
	char		*dir;		/* queue directory it was opened in */
	int		 fd;		/* open; O_RDWR unless read-only */
	struct timeval	 arrival;
	char		*sender;	/* "" for the null sender */
	struct qfile_attr *attrs;
	size_t		 nattrs;
	struct qfile_rcpt *rcpts;
	size_t		 nrcpts;
	off_t		 content_off;	/* first byte of the message */
	uint64_t	 content_size;
	int64_t		 warned;	/* time of the W record, or 0 */
	struct stat	 st;		/* as fstat'd at open (owner, mtime) */
};

/*
 * Opens and parses QUEUE_DIR/ID relative to the current directory
 * (queue_directory).  flags: QFILE_O_RDONLY for readers that never mark.
 * Returns 0; -1 with err_r for a missing or unreadable file (errno is
 * kept, ENOENT meaning another process moved it); -2 with err_r when the
 * file is corrupt (bad magic, bad record, size mismatch, missing end
 * marker, no recipient).  The message content is not read.
 */
#define QFILE_O_RDONLY	0x01
int qfile_open(const char *dir, const char *qid, unsigned flags,
    struct qfile **qf_r, const char **err_r)
    __attribute__((warn_unused_result));
/*
 * As qfile_open, for an already open descriptor (maildrop files; every
 * field is untrusted, anything malformed is -2).  On success the qfile
 * owns fd (qfile_free closes it); on failure fd stays the caller's.  name
 * is kept in qid (cut to QID_MAX_LEN) for messages.
 */
int qfile_open_fd(int fd, const char *dir, const char *name,
    struct qfile **qf_r, const char **err_r)
    __attribute__((warn_unused_result));
/* Closes and frees; NULL-safe; clears *qfp. */
void qfile_free(struct qfile **qfp);
/* The value of attribute name, or NULL. */
const char *qfile_attr(const struct qfile *qf, const char *name);

/*
 * Writing a new file.  qfile_create makes a temporary file in dir (mode
 * 0600, or 0644 for maildrop readers that need it: mode is the caller's),
 * computes the queue ID from the arrival time and inode, and writes the
 * magic, T and Z records.  Then the caller adds S, A, R records in that
 * order, begins the content, appends content bytes, and commits: the size
 * is filled in, X written, the file fsync'd and renamed to ID in dir (and
 * the directory fsync'd).  Any write error (ENOSPC included) makes the
 * writer fail: later calls do nothing, commit returns -1 with err_r and
 * the temporary file is removed.  qfile_writer_abort removes it too.
 */
struct qfile_writer;
int qfile_create(const char *dir, mode_t mode, struct qfile_writer **w_r,
    const char **err_r) __attribute__((warn_unused_result));
const char *qfile_writer_qid(const struct qfile_writer *w);
/* Arrival time recorded in the T record. */
const struct timeval *qfile_writer_arrival(const struct qfile_writer *w);
/*
 * Returns -1 when the value is not allowed (any control character: bytes
 * below 0x20 and 0x7f; a line longer than QFILE_LINE_MAX with its LF; a
 * bad attribute name, notify or orcpt; an empty address).  The writer is
 * still usable after such a -1.  notify and orcpt may be NULL for "-".
 * Calls out of the order S, A*, R+, content are bugs (panic).
 */
int qfile_put_sender(struct qfile_writer *w, const char *sender)
    __attribute__((warn_unused_result));
int qfile_put_attr(struct qfile_writer *w, const char *name,
    const char *value) __attribute__((warn_unused_result));
int qfile_put_rcpt(struct qfile_writer *w, const char *addr,
    const char *notify, const char *orcpt)
    __attribute__((warn_unused_result));
void qfile_begin_content(struct qfile_writer *w);
void qfile_put_content(struct qfile_writer *w, const void *p, size_t n);
/* Content bytes written so far. */
uint64_t qfile_content_size(const struct qfile_writer *w);
/* fchown the file (root writers that create files for mail_owner). */
int qfile_writer_chown(struct qfile_writer *w, uid_t uid, gid_t gid)
    __attribute__((warn_unused_result));
/*
 * Ends the file: writes X and the size, fsyncs it, renames it to its
 * queue ID without replacing anything, and fsyncs the directory.  0 with
 * qid_r, or -1 with err_r ("queue file fsync error: ...") and nothing
 * left behind.  Frees *wp either way.
 *
 * The same in three steps, so that a server can wait for the disk in a
 * worker thread: qfile_commit_prepare (writes the rest; errors are kept
 * for later), qfile_commit_sync (fsync, rename, directory fsync; touches
 * only w, so any one thread may run it), qfile_commit_end (the result;
 * runs the steps not yet run).
 */
int qfile_commit(struct qfile_writer **wp, char qid_r[QID_SIZE],
    const char **err_r) __attribute__((warn_unused_result));
void qfile_commit_prepare(struct qfile_writer *w);
void qfile_commit_sync(struct qfile_writer *w);
int qfile_commit_end(struct qfile_writer **wp, char qid_r[QID_SIZE],
    const char **err_r) __attribute__((warn_unused_result));
void qfile_writer_abort(struct qfile_writer **wp);

/*
 * Updates of an open (read-write) file.  qfile_log appends an L record
 * for recipient i; qfile_mark sets its state byte; both fsync (qfile_log
 * with sync false leaves that to the following qfile_mark).  qfile_warned
 * appends a W record.  -1 with err_r on an I/O error.  i must be below
 * nrcpts (panic otherwise).  qfile_log returns -1 for an action that is
 * not valid, and logs a malformed or NULL dsn as 2.0.0, 4.0.0 or 5.0.0
 * after the action (delayed 4, failed 5, others 2); relay NULL or "" is
 * logged as "-"; control characters in text become spaces and it is cut to
 * fit the line.  A cut last line left by a crash during an append is
 * removed before appending.
 */
int qfile_log(struct qfile *qf, size_t i, const char *action,
    const char *dsn, const char *relay, const char *text, bool sync,
    const char **err_r) __attribute__((warn_unused_result));
int qfile_mark(struct qfile *qf, size_t i, enum qfile_state state,
    const char **err_r) __attribute__((warn_unused_result));
int qfile_warned(struct qfile *qf, const char **err_r)
    __attribute__((warn_unused_result));
/* True when no recipient is QFILE_TODO. */
bool qfile_all_done(const struct qfile *qf);

/*
 * Reads the content into out (reset first), at most max bytes (0: all).
 * -1 with err_r on an I/O error or a short file.
 */
int qfile_read_content(const struct qfile *qf, struct buf *out, size_t max,
    const char **err_r) __attribute__((warn_unused_result));

/*
 * Moves FROM/ID to TO/ID (rename within queue_directory); with sync, also
 * fsyncs the target directory, so that the move itself survives a crash.
 * Without it a crash may leave the file under its old name, which must
 * then be a place its owner scans again (qmgr: incoming/, active/,
 * deferred/).  -1 with err_r (errno kept; ENOENT: already gone).
 */
int qfile_move(const char *from, const char *to, const char *qid, bool sync,
    const char **err_r) __attribute__((warn_unused_result));
/*
 * Moves a damaged DIR/NAME into corrupt/ and logs
 * "NAME: moved to corrupt: REASON" (warning).  Never deletes.
 */
void qfile_quarantine(const char *dir, const char *name, const char *reason);
/* Removes DIR/ID; -1 with err_r (ENOENT is success). */
int qfile_remove(const char *dir, const char *qid, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * True for an RFC 3463 §2 enhanced status code "C.S.D" (class 2, 4 or 5;
 * subject and detail 1-3 digits), nothing else.
 */
bool qfile_dsn_valid(const char *s);

/* RFC 3461 §4 xtext: encode into out; decode (-1 on bad input). */
void qfile_xtext_encode(struct buf *out, const char *s);
int qfile_xtext_decode(struct buf *out, const char *s)
    __attribute__((warn_unused_result));

#endif
