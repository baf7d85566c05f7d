/* SPDX-License-Identifier: MIT */
/*
 * Queue files: writing a new file under a temporary name and committing it
 * under its queue ID, the strict parser shared by queue files and
 * (attacker-written) maildrop files, in-place state marks and appended log
 * records, moves between queue directories and quarantine.  qfile.h is the
 * contract and tern-queue(5) the format as administrators see it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "qfile.h"
#include "qid.h"
#include "safefile.h"
#include "str.h"
#include "xalloc.h"

#define QFILE_MAGIC		"TERNQ 1"
#define QFILE_Z_DIGITS		20
/* Writes and reads go through buffers of this size. */
#define QFILE_CHUNK		65536
/* SECURITY: bounds on what a hostile (maildrop) file can make us hold. */
#define QFILE_ATTR_MAX		1024
#define QFILE_ENVELOPE_MAX	((off_t)64 * 1024 * 1024)
#define QFILE_TMP_TRIES		16
#define QFILE_QUARANTINE_TRIES	100

static char qfile_errbuf[PATH_MAX + 256];

/* err_r = "what: strerror(errno)", errno kept; returns -1. */
static int
qfile_fail_errno(const char **err_r, const char *what, int err)
{
	snprintf(qfile_errbuf, sizeof(qfile_errbuf), "%s: %s", what,
	    strerror(err));
	*err_r = qfile_errbuf;
	errno = err;
	return -1;
}

/* err_r = msg for a corrupt file; returns -2. */
static int
qfile_corrupt(const char **err_r, const char *msg)
{
	*err_r = msg;
	return -2;
}

/*
 * Value checks shared by the writer and the parser.
 */

/* True when n bytes hold no control character (NUL, CR, LF, TAB, DEL...);
 * 8-bit bytes are allowed (UTF-8 addresses, RFC 6531). */
static bool
qfile_text_ok(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] == 0x7f)
			return false;
	return true;
}

static bool
qfile_attr_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_'))
			return false;
	return true;
}

/* RFC 3461 §4.1: "NEVER" alone, or a list of SUCCESS, FAILURE, DELAY. */
static bool
qfile_notify_ok(const char *s)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	unsigned seen = 0;
	size_t i, n;

	if (str_eq(s, "-") || str_eq(s, "NEVER"))
		return true;
	for (;;) {
		n = strcspn(s, ",");
		for (i = 0; i < 3; i++)
			if (strlen(words[i]) == n &&
			    strncmp(s, words[i], n) == 0)
				break;
		if (i == 3 || (seen & (1u << i)) != 0)
			return false;
		seen |= 1u << i;
		if (s[n] == '\0')
			return true;
		s += n + 1;
	}
}

static int
qfile_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
qfile_xtext_encode(struct buf *out, const char *s)
{
	unsigned char c;

	/* RFC 3461 §4: xchar is 33..126 except "+" and "="; others hexchar. */
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c < 33 || c > 126 || c == '+' || c == '=')
			buf_addf(out, "+%02X", c);
		else
			buf_addc(out, (char)c);
	}
}

int
qfile_xtext_decode(struct buf *out, const char *s)
{
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s == '+') {
			if ((hi = qfile_hex_value(s[1])) < 0 ||
			    (lo = qfile_hex_value(s[2])) < 0)
				return -1;
			if (hi == 0 && lo == 0)
				return -1;	/* NUL is no text */
			if (buf_putc(out, (char)(hi << 4 | lo)) == -1)
				return -1;
			s += 2;
			continue;
		}
		if ((unsigned char)*s < 33 || (unsigned char)*s > 126 ||
		    *s == '=')
			return -1;
		if (buf_putc(out, *s) == -1)
			return -1;
	}
	return 0;
}

/* True for RFC 3461 §4 xtext (possibly empty), without decoding. */
static bool
qfile_xtext_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '+') {
			if (qfile_hex_value(s[1]) < 0 ||
			    qfile_hex_value(s[2]) < 0)
				return false;
			s += 2;
		} else if ((unsigned char)*s < 33 ||
		    (unsigned char)*s > 126 || *s == '=') {
			return false;
		}
	}
	return true;
}

/* RFC 3461 §4.2: "-" or addr-type ";" xtext, addr-type an RFC 5322 atom. */
static bool
qfile_orcpt_ok(const char *s)
{
	const char *semi;
	const char *p;

	if (str_eq(s, "-"))
		return true;
	if ((semi = strchr(s, ';')) == NULL || semi == s)
		return false;
	for (p = s; p < semi; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("!#$%&'*+-/=?^_`{|}~",
		    *p) != NULL))
			return false;
	return semi[1] != '\0' && qfile_xtext_ok(semi + 1);
}

/* RFC 3464 §2.3.3 action values. */
static bool
qfile_action_ok(const char *s)
{
	return str_eq(s, "delivered") || str_eq(s, "failed") ||
	    str_eq(s, "delayed") || str_eq(s, "relayed") ||
	    str_eq(s, "expanded");
}

/* RFC 3463 §2: class "." subject "." detail, 1-3 digits each part. */
bool
qfile_dsn_valid(const char *s)
{
	size_t n;
	int part;

	if (*s != '2' && *s != '4' && *s != '5')
		return false;
	if (s[1] != '.')
		return false;
	s += 2;
	for (part = 0; part < 2; part++) {
		n = strspn(s, "0123456789");
		if (n < 1 || n > 3)
			return false;
		s += n;
		if (part == 0 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

/* Strict decimal: digits only, 1 to 19 of them, at most INT64_MAX. */
static bool
qfile_parse_i64(const char *s, size_t n, int64_t *v_r)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 19)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > INT64_MAX)
		return false;
	*v_r = (int64_t)v;
	return true;
}

/*
 * Writing.
 */

enum qfile_wstage {
	QFILE_W_SENDER,		/* S next */
	QFILE_W_ATTRS,		/* A or R next */
	QFILE_W_RCPTS,		/* R or M next */
	QFILE_W_CONTENT,	/* content bytes */
};

/*
 * True when a "flags" attribute value holds "extract" (sendmail -t): such
 * a maildrop file may have no R record, the recipients come from the
 * header when pickup runs it through cleanup.
 */
static bool
qfile_flags_extract(const char *flags)
{
	struct strv v;
	bool found;

	if (flags == NULL)
		return false;
	strv_init(&v);
	strv_split(&v, flags, ",");
	found = strv_find(&v, "extract") >= 0;
	strv_deinit(&v);
	return found;
}

struct qfile_writer {
	char		*dir;
	char		*tmp_path;
	int		 fd;
	char		 qid[QID_SIZE];
	struct timeval	 arrival;
	struct buf	 out;		/* not yet written */
	off_t		 written;	/* bytes already in the file */
	off_t		 z_off;		/* offset of the Z digits */
	enum qfile_wstage stage;
	size_t		 nrcpts;
	uint64_t	 content_size;
	bool		 extract;	/* "A flags=extract": R records optional */
	int		 err;		/* sticky errno; 0 while all is well */
	const char	*err_what;	/* "write", "fsync"... */
	bool		 prepared;	/* qfile_commit_prepare done */
	bool		 synced;	/* qfile_commit_sync done */
	bool		 norcpt;	/* refused: no R record */
	char		*final_path;	/* dir/qid once renamed */
};

/* Makes the writer fail for good, remembering the first error only. */
static void
qfile_w_error(struct qfile_writer *w, const char *what, int err)
{
	if (w->err == 0) {
		w->err = err != 0 ? err : EIO;
		w->err_what = what;
	}
}

static void
qfile_w_flush(struct qfile_writer *w)
{
	if (w->err != 0 || w->out.len == 0)
		return;
	if (safefile_write_all(w->fd, w->out.data, w->out.len) == -1)
		qfile_w_error(w, "write", errno);
	else
		w->written += (off_t)w->out.len;
	buf_reset(&w->out);
}

static void
qfile_w_add(struct qfile_writer *w, const void *p, size_t n)
{
	if (w->err != 0)
		return;
	if (w->out.len + n > QFILE_CHUNK) {
		qfile_w_flush(w);
		if (w->err != 0)
			return;
		/* Large pieces go straight to the file. */
		if (n >= QFILE_CHUNK) {
			if (safefile_write_all(w->fd, p, n) == -1)
				qfile_w_error(w, "write", errno);
			else
				w->written += (off_t)n;
			return;
		}
	}
	buf_add(&w->out, p, n);
}

/* Adds one record "<type> <value>\n"; -1 when it would be too long. */
static int
qfile_w_record(struct qfile_writer *w, const char *line, size_t n)
{
	if (n + 1 > QFILE_LINE_MAX)
		return -1;
	qfile_w_add(w, line, n);
	qfile_w_add(w, "\n", 1);
	return 0;
}

int
qfile_create(const char *dir, mode_t mode, struct qfile_writer **w_r,
    const char **err_r)
{
	struct qfile_writer *w;
	struct stat st;
	char head[128];
	const char *err;
	uint32_t rnd;
	int fd = -1, i, n, saved;

	w = xcalloc(1, sizeof(*w));
	w->dir = xstrdup(dir);
	for (i = 0; i < QFILE_TMP_TRIES; i++) {
		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(rnd))
			rnd = (uint32_t)random();
		free(w->tmp_path);
		/* ".tmp..." is no queue ID, so scanners skip it. */
		w->tmp_path = xasprintf("%s/.tmp.%ld.%08" PRIx32, dir,
		    (long)getpid(), rnd);
		fd = safefile_create(w->tmp_path, mode, &err);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1) {
		saved = errno;
		snprintf(qfile_errbuf, sizeof(qfile_errbuf),
		    "queue file create error: %s", err);
		*err_r = qfile_errbuf;
		free(w->tmp_path);
		free(w->dir);
		free(w);
		errno = saved;
		return -1;
	}
	w->fd = fd;
	if (fstat(fd, &st) == -1 || gettimeofday(&w->arrival, NULL) == -1) {
		saved = errno;
		qfile_writer_abort(&w);
		return qfile_fail_errno(err_r, "queue file create error",
		    saved);
	}
	qid_format(w->qid, &w->arrival, st.st_ino);
	buf_init(&w->out, QFILE_CHUNK + QFILE_LINE_MAX);
	n = snprintf(head, sizeof(head), QFILE_MAGIC "\nT %lld.%06ld\nZ ",
	    (long long)w->arrival.tv_sec, (long)w->arrival.tv_usec);
	ASSERT(n > 0 && (size_t)n < sizeof(head));
	w->z_off = n;
	qfile_w_add(w, head, (size_t)n);
	qfile_w_add(w, "00000000000000000000\n", QFILE_Z_DIGITS + 1);
	w->stage = QFILE_W_SENDER;
	*w_r = w;
	return 0;
}

const char *
qfile_writer_qid(const struct qfile_writer *w)
{
	return w->qid;
}

const struct timeval *
qfile_writer_arrival(const struct qfile_writer *w)
{
	return &w->arrival;
}

int
qfile_put_sender(struct qfile_writer *w, const char *sender)
{
	size_t n = strlen(sender);
	char *line;
	int rc;

	ASSERT(w->stage == QFILE_W_SENDER);
	if (!qfile_text_ok(sender, n))
		return -1;
	line = xasprintf("S %s", sender);
	rc = qfile_w_record(w, line, n + 2);
	free(line);
	if (rc == 0)
		w->stage = QFILE_W_ATTRS;
	return rc;
}

int
qfile_put_attr(struct qfile_writer *w, const char *name, const char *value)
{
	char *line;
	int rc;

	ASSERT(w->stage == QFILE_W_ATTRS);
	if (!qfile_attr_name_ok(name) || !qfile_text_ok(value, strlen(value)))
		return -1;
	if (str_eq(name, "flags") && qfile_flags_extract(value))
		w->extract = true;
	line = xasprintf("A %s=%s", name, value);
	rc = qfile_w_record(w, line, strlen(line));
	free(line);
	return rc;
}

int
qfile_put_rcpt(struct qfile_writer *w, const char *addr, const char *notify,
    const char *orcpt)
{
	char *line;
	int rc;

	ASSERT(w->stage == QFILE_W_ATTRS || w->stage == QFILE_W_RCPTS);
	if (notify == NULL || *notify == '\0')
		notify = "-";
	if (orcpt == NULL || *orcpt == '\0')
		orcpt = "-";
	if (*addr == '\0' || !qfile_text_ok(addr, strlen(addr)) ||
	    !qfile_notify_ok(notify) || !qfile_orcpt_ok(orcpt))
		return -1;
	if (w->nrcpts >= QFILE_RCPT_MAX)
		return -1;
	line = xasprintf("R %c %s %s %s", QFILE_TODO, notify, orcpt, addr);
	rc = qfile_w_record(w, line, strlen(line));
	free(line);
	if (rc == 0) {
		w->nrcpts++;
		w->stage = QFILE_W_RCPTS;
	}
	return rc;
}

void
qfile_begin_content(struct qfile_writer *w)
{
	ASSERT(w->stage == QFILE_W_RCPTS ||
	    (w->stage == QFILE_W_ATTRS && w->extract));
	qfile_w_add(w, "M\n", 2);
	w->stage = QFILE_W_CONTENT;
}

void
qfile_put_content(struct qfile_writer *w, const void *p, size_t n)
{
	ASSERT(w->stage == QFILE_W_CONTENT);
	qfile_w_add(w, p, n);
	w->content_size += n;
}

uint64_t
qfile_content_size(const struct qfile_writer *w)
{
	return w->content_size;
}

int
qfile_writer_chown(struct qfile_writer *w, uid_t uid, gid_t gid)
{
	if (w->err != 0)
		return -1;
	if (fchown(w->fd, uid, gid) == -1) {
		qfile_w_error(w, "chown", errno);
		return -1;
	}
	return 0;
}

/* rename(2) that never replaces an existing file (RENAME_NOREPLACE). */
static int
qfile_rename_noreplace(const char *from, const char *to)
{
	struct stat st;

	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* File systems without the flag: check, then rename (racy, rare). */
	if (lstat(to, &st) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

void
qfile_commit_prepare(struct qfile_writer *w)
{
	char z[QFILE_Z_DIGITS + 1];
	int n;

	if (w->prepared)
		return;
	w->prepared = true;
	if (w->err == 0 && w->stage != QFILE_W_CONTENT) {
		/* A file without recipients would be corrupt: refuse it. */
		w->norcpt = true;
		qfile_w_error(w, "no recipient", EINVAL);
		return;
	}
	qfile_w_add(w, "X\n", 2);
	qfile_w_flush(w);
	if (w->err == 0) {
		n = snprintf(z, sizeof(z), "%020" PRIu64, w->content_size);
		ASSERT(n == QFILE_Z_DIGITS);
		if (safefile_pwrite_all(w->fd, z, QFILE_Z_DIGITS, w->z_off) == -1)
			qfile_w_error(w, "write", errno);
	}
}

/*
 * SECURITY: runs in a worker thread in smtpd, so it touches nothing but
 * w and makes plain system calls (no shared buffers, no logging).
 */
void
qfile_commit_sync(struct qfile_writer *w)
{
	int dfd;

	ASSERT(w->prepared && !w->synced);
	w->synced = true;
	if (w->err == 0 && fsync(w->fd) == -1)
		qfile_w_error(w, "fsync", errno);
	if (w->err == 0) {
		if (close(w->fd) == -1)
			qfile_w_error(w, "close", errno);
		w->fd = -1;
	}
	if (w->err == 0) {
		w->final_path = xasprintf("%s/%s", w->dir, w->qid);
		if (qfile_rename_noreplace(w->tmp_path, w->final_path) == -1)
			qfile_w_error(w, "rename", errno);
	}
	if (w->err != 0)
		return;
	/*
	 * maildrop/ is write-only for terndrop (mode 1730), which therefore
	 * cannot open it to sync it: there the fsync'd file and the
	 * journaled rename are all it gets, as with Postfix's postdrop.
	 */
	dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1 && errno == EACCES && str_eq(w->dir, QFILE_MAILDROP))
		return;
	if (dfd == -1 || fsync(dfd) == -1) {
		/* Not durable: the caller will report failure, so undo. */
		qfile_w_error(w, "directory fsync", errno);
		(void)unlink(w->final_path);
	}
	if (dfd != -1)
		(void)close(dfd);
}

int
qfile_commit_end(struct qfile_writer **wp, char qid_r[QID_SIZE],
    const char **err_r)
{
	struct qfile_writer *w = *wp;
	char what[64];
	int saved;

	qfile_commit_prepare(w);
	if (!w->synced)
		qfile_commit_sync(w);
	if (w->norcpt) {
		qfile_writer_abort(wp);
		*err_r = "queue file has no recipient";
		errno = EINVAL;
		return -1;
	}
	if (w->err != 0) {
		saved = w->err;
		snprintf(what, sizeof(what), "queue file %s error",
		    w->err_what);
		qfile_writer_abort(wp);
		return qfile_fail_errno(err_r, what, saved);
	}
	str_copy(qid_r, w->qid, QID_SIZE);
	free(w->tmp_path);
	w->tmp_path = NULL;
	qfile_writer_abort(wp);
	return 0;
}

int
qfile_commit(struct qfile_writer **wp, char qid_r[QID_SIZE],
    const char **err_r)
{
	return qfile_commit_end(wp, qid_r, err_r);
}

void
qfile_writer_abort(struct qfile_writer **wp)
{
	struct qfile_writer *w = *wp;

	if (w == NULL)
		return;
	if (w->fd != -1)
		(void)close(w->fd);
	if (w->tmp_path != NULL)
		(void)unlink(w->tmp_path);
	buf_deinit(&w->out);
	free(w->tmp_path);
	free(w->final_path);
	free(w->dir);
	free(w);
	*wp = NULL;
}

/*
 * Reading.  The parser reads with pread from its own offset through a
 * buffer, so the descriptor's position does not matter.
 */

struct qfile_reader {
	int		 fd;
	char		*data;
	size_t		 start;		/* first unread byte in data */
	size_t		 end;		/* bytes valid in data */
	off_t		 base;		/* file offset of data[0] */
	bool		 eof;
};

#define QFILE_READER_SIZE	(QFILE_CHUNK + QFILE_LINE_MAX)

enum qfile_line_rc {
	QFILE_LINE_OK,
	QFILE_LINE_EOF,		/* no byte left */
	QFILE_LINE_PARTIAL,	/* bytes without LF at the end of the file */
	QFILE_LINE_LONG,	/* longer than QFILE_LINE_MAX */
	QFILE_LINE_ERROR,	/* read error, errno set */
};

static void
qfile_reader_init(struct qfile_reader *r, int fd, off_t off)
{
	r->fd = fd;
	r->data = xmalloc(QFILE_READER_SIZE);
	r->start = r->end = 0;
	r->base = off;
	r->eof = false;
}

static void
qfile_reader_deinit(struct qfile_reader *r)
{
	free(r->data);
	r->data = NULL;
}

/*
 * The next line: *line_r points at it (without the LF, not NUL-terminated),
 * *len_r is its length and *off_r its file offset.  A line is at most
 * QFILE_LINE_MAX bytes with its LF.
 */
static enum qfile_line_rc
qfile_reader_line(struct qfile_reader *r, const char **line_r, size_t *len_r,
    off_t *off_r)
{
	const char *p, *lf;
	size_t avail, look;
	ssize_t n;

	for (;;) {
		p = r->data + r->start;
		avail = r->end - r->start;
		look = avail < QFILE_LINE_MAX ? avail : QFILE_LINE_MAX;
		if ((lf = memchr(p, '\n', look)) != NULL) {
			*line_r = p;
			*len_r = (size_t)(lf - p);
			*off_r = r->base + (off_t)r->start;
			r->start += *len_r + 1;
			return QFILE_LINE_OK;
		}
		if (avail >= QFILE_LINE_MAX)
			return QFILE_LINE_LONG;
		if (r->eof)
			return avail == 0 ? QFILE_LINE_EOF : QFILE_LINE_PARTIAL;
		/* Keep the partial line, read more after it. */
		memmove(r->data, p, avail);
		r->base += (off_t)r->start;
		r->start = 0;
		r->end = avail;
		do
			n = pread(r->fd, r->data + r->end,
			    QFILE_READER_SIZE - r->end, r->base +
			    (off_t)r->end);
		while (n == -1 && errno == EINTR);
		if (n == -1)
			return QFILE_LINE_ERROR;
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
}

static void
qfile_rcpt_clear_last(struct qfile_rcpt *rc)
{
	free(rc->last_action);
	free(rc->last_dsn);
	free(rc->last_relay);
	free(rc->last_text);
	rc->last_action = rc->last_dsn = rc->last_relay = rc->last_text =
	    NULL;
}

/* Splits off the next space-terminated field of *sp; NULL if none. */
static char *
qfile_field(char **sp)
{
	char *s = *sp, *sp_end;

	if ((sp_end = strchr(s, ' ')) == NULL)
		return NULL;
	*sp_end = '\0';
	*sp = sp_end + 1;
	return s;
}

/* "T <sec>.<usec>" with exactly 6 usec digits. */
static int
qfile_parse_t(struct qfile *qf, const char *v)
{
	const char *dot = strchr(v, '.');
	int64_t sec, usec;

	if (dot == NULL || strlen(dot + 1) != 6 ||
	    !qfile_parse_i64(v, (size_t)(dot - v), &sec) ||
	    !qfile_parse_i64(dot + 1, 6, &usec))
		return -1;
	qf->arrival.tv_sec = (time_t)sec;
	qf->arrival.tv_usec = (suseconds_t)usec;
	return 0;
}

/* "Z <20 digits>". */
static int
qfile_parse_z(struct qfile *qf, const char *v)
{
	uint64_t z = 0;
	int i;

	if (strlen(v) != QFILE_Z_DIGITS)
		return -1;
	for (i = 0; i < QFILE_Z_DIGITS; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (z > (UINT64_MAX - 9) / 10)
			return -1;
		z = z * 10 + (uint64_t)(v[i] - '0');
	}
	qf->content_size = z;
	return 0;
}

static int
qfile_parse_a(struct qfile *qf, char *v)
{
	char *eq = strchr(v, '=');

	if (eq == NULL)
		return -1;
	*eq = '\0';
	if (!qfile_attr_name_ok(v) || qf->nattrs >= QFILE_ATTR_MAX)
		return -1;
	qf->attrs = xreallocarray(qf->attrs, qf->nattrs + 1,
	    sizeof(*qf->attrs));
	qf->attrs[qf->nattrs].name = xstrdup(v);
	qf->attrs[qf->nattrs].value = xstrdup(eq + 1);
	qf->nattrs++;
	return 0;
}

/* "R <state> <notify> <orcpt> <address>"; off is the line's offset. */
static int
qfile_parse_r(struct qfile *qf, char *v, off_t off, size_t *cap)
{
	struct qfile_rcpt *rc;
	char *state, *notify, *orcpt;

	if ((state = qfile_field(&v)) == NULL ||
	    (notify = qfile_field(&v)) == NULL ||
	    (orcpt = qfile_field(&v)) == NULL)
		return -1;
	if (strlen(state) != 1 || (*state != QFILE_TODO &&
	    *state != QFILE_DONE && *state != QFILE_FAILED))
		return -1;
	if (!qfile_notify_ok(notify) || !qfile_orcpt_ok(orcpt) || *v == '\0')
		return -1;
	if (qf->nrcpts >= QFILE_RCPT_MAX)
		return -1;
	if (qf->nrcpts == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		qf->rcpts = xreallocarray(qf->rcpts, *cap, sizeof(*qf->rcpts));
	}
	rc = &qf->rcpts[qf->nrcpts];
	memset(rc, 0, sizeof(*rc));
	rc->state = (enum qfile_state)*state;
	rc->state_off = off + 2;
	rc->notify = xstrdup(notify);
	rc->orcpt = xstrdup(orcpt);
	rc->addr = xstrdup(v);
	qf->nrcpts++;
	return 0;
}

/* "L <index> <time> <action> <dsn> <relay> <text>". */
static int
qfile_parse_l(struct qfile *qf, char *v)
{
	struct qfile_rcpt *rc;
	char *idx, *tm, *action, *dsn, *relay;
	int64_t i, t;

	if ((idx = qfile_field(&v)) == NULL ||
	    (tm = qfile_field(&v)) == NULL ||
	    (action = qfile_field(&v)) == NULL ||
	    (dsn = qfile_field(&v)) == NULL ||
	    (relay = qfile_field(&v)) == NULL)
		return -1;
	if (!qfile_parse_i64(idx, strlen(idx), &i) ||
	    (uint64_t)i >= qf->nrcpts ||
	    !qfile_parse_i64(tm, strlen(tm), &t) ||
	    !qfile_action_ok(action) || !qfile_dsn_valid(dsn) || *relay == '\0')
		return -1;
	rc = &qf->rcpts[i];
	qfile_rcpt_clear_last(rc);
	rc->last_action = xstrdup(action);
	rc->last_dsn = xstrdup(dsn);
	rc->last_relay = xstrdup(relay);
	rc->last_text = xstrdup(v);
	rc->last_time = t;
	return 0;
}

/* The envelope records, in order. */
enum qfile_rstage {
	QFILE_R_MAGIC, QFILE_R_T, QFILE_R_Z, QFILE_R_S, QFILE_R_A,
	QFILE_R_R, QFILE_R_DONE,
};

/* Parses the envelope up to and including "M"; 0, -1 (errno) or -2. */
static int
qfile_parse_envelope(struct qfile *qf, struct qfile_reader *r,
    const char **err_r)
{
	static const char *const missing[] = {
		"bad or missing magic line", "missing T record",
		"missing Z record", "missing S record", "missing R record",
		"missing R record",
	};
	enum qfile_rstage st = QFILE_R_MAGIC;
	char line[QFILE_LINE_MAX + 1], *v;
	const char *lp;
	size_t len, cap = 0;
	off_t off;

	while (st != QFILE_R_DONE) {
		switch (qfile_reader_line(r, &lp, &len, &off)) {
		case QFILE_LINE_OK:
			break;
		case QFILE_LINE_ERROR:
			return qfile_fail_errno(err_r, "queue file read error",
			    errno);
		case QFILE_LINE_LONG:
			return qfile_corrupt(err_r, "envelope line too long");
		default:
			return qfile_corrupt(err_r, missing[st]);
		}
		if (off > QFILE_ENVELOPE_MAX)
			return qfile_corrupt(err_r, "envelope too large");
		if (!qfile_text_ok(lp, len))
			return qfile_corrupt(err_r,
			    "control character in envelope record");
		memcpy(line, lp, len);
		line[len] = '\0';
		if (st == QFILE_R_MAGIC) {
			if (!str_eq(line, QFILE_MAGIC))
				return qfile_corrupt(err_r, missing[st]);
			st = QFILE_R_T;
			continue;
		}
		if (str_eq(line, "M") && (st >= QFILE_R_R ||
		    (st == QFILE_R_A &&
		    qfile_flags_extract(qfile_attr(qf, "flags"))))) {
			qf->content_off = off + 2;
			st = QFILE_R_DONE;
			continue;
		}
		if (len < 2 || line[1] != ' ')
			return qfile_corrupt(err_r, st >= QFILE_R_R ?
			    "bad record before content" : missing[st]);
		v = line + 2;
		if (st == QFILE_R_T && line[0] == 'T') {
			if (qfile_parse_t(qf, v) == -1)
				return qfile_corrupt(err_r, "bad T record");
			st = QFILE_R_Z;
		} else if (st == QFILE_R_Z && line[0] == 'Z') {
			if (qfile_parse_z(qf, v) == -1)
				return qfile_corrupt(err_r, "bad Z record");
			st = QFILE_R_S;
		} else if (st == QFILE_R_S && line[0] == 'S') {
			qf->sender = xstrdup(v);
			st = QFILE_R_A;
		} else if (st == QFILE_R_A && line[0] == 'A') {
			if (qfile_parse_a(qf, v) == -1)
				return qfile_corrupt(err_r, "bad A record");
		} else if (st >= QFILE_R_A && line[0] == 'R') {
			if (qfile_parse_r(qf, v, off, &cap) == -1)
				return qfile_corrupt(err_r, "bad R record");
			st = QFILE_R_R;
		} else {
			return qfile_corrupt(err_r, st >= QFILE_R_R ?
			    "bad record before content" : missing[st]);
		}
	}
	return 0;
}

/* After the content: "X", then L and W records. */
static int
qfile_parse_tail(struct qfile *qf, const char **err_r)
{
	struct qfile_reader r;
	char line[QFILE_LINE_MAX + 1];
	const char *lp;
	size_t len;
	off_t off, x_off;
	int64_t t;
	int rc = -2;

	/* content_off + size + "X\n" must fit in the file (no overflow). */
	if (qf->content_size > (uint64_t)INT64_MAX - (uint64_t)qf->content_off
	    - 2 || (off_t)qf->content_size + qf->content_off + 2 >
	    qf->st.st_size)
		return qfile_corrupt(err_r, "content shorter than its size");
	x_off = qf->content_off + (off_t)qf->content_size;
	qfile_reader_init(&r, qf->fd, x_off);
	switch (qfile_reader_line(&r, &lp, &len, &off)) {
	case QFILE_LINE_OK:
		if (len == 1 && lp[0] == 'X')
			break;
		/* FALLTHROUGH */
	default:
		*err_r = "missing end of content marker";
		goto out;
	case QFILE_LINE_ERROR:
		rc = qfile_fail_errno(err_r, "queue file read error", errno);
		goto out;
	}
	for (;;) {
		switch (qfile_reader_line(&r, &lp, &len, &off)) {
		case QFILE_LINE_OK:
			break;
		case QFILE_LINE_EOF:
		case QFILE_LINE_PARTIAL:
			/* A cut last line is an append a crash interrupted. */
			rc = 0;
			goto out;
		case QFILE_LINE_LONG:
			*err_r = "log record too long";
			goto out;
		case QFILE_LINE_ERROR:
			rc = qfile_fail_errno(err_r, "queue file read error",
			    errno);
			goto out;
		}
		if (!qfile_text_ok(lp, len) || len < 2 || lp[1] != ' ') {
			*err_r = "bad record after content";
			goto out;
		}
		memcpy(line, lp, len);
		line[len] = '\0';
		if (line[0] == 'L') {
			if (qfile_parse_l(qf, line + 2) == -1) {
				*err_r = "bad L record";
				goto out;
			}
		} else if (line[0] == 'W') {
			if (!qfile_parse_i64(line + 2, len - 2, &t)) {
				*err_r = "bad W record";
				goto out;
			}
			qf->warned = t;
		} else {
			*err_r = "bad record after content";
			goto out;
		}
	}
out:
	qfile_reader_deinit(&r);
	return rc;
}

static int
qfile_parse(struct qfile *qf, const char **err_r)
{
	struct qfile_reader r;
	int rc;

	if (fstat(qf->fd, &qf->st) == -1)
		return qfile_fail_errno(err_r, "queue file fstat error", errno);
	if (!S_ISREG(qf->st.st_mode))
		return qfile_corrupt(err_r, "not a regular file");
	qfile_reader_init(&r, qf->fd, 0);
	rc = qfile_parse_envelope(qf, &r, err_r);
	qfile_reader_deinit(&r);
	if (rc != 0)
		return rc;
	return qfile_parse_tail(qf, err_r);
}

static struct qfile *
qfile_new(int fd, const char *dir, const char *name)
{
	struct qfile *qf = xcalloc(1, sizeof(*qf));

	qf->fd = fd;
	qf->dir = xstrdup(dir);
	str_copy(qf->qid, name, sizeof(qf->qid));
	return qf;
}

int
qfile_open(const char *dir, const char *qid, unsigned flags,
    struct qfile **qf_r, const char **err_r)
{
	struct qfile *qf;
	char *path;
	int fd, rc, saved;

	if (!qid_valid(qid)) {
		errno = EINVAL;
		*err_r = "not a queue ID";
		return -1;
	}
	path = xasprintf("%s/%s", dir, qid);
	fd = open(path, ((flags & QFILE_O_RDONLY) ? O_RDONLY : O_RDWR) |
	    O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	saved = errno;
	if (fd == -1) {
		snprintf(qfile_errbuf, sizeof(qfile_errbuf), "open %s: %s",
		    path, strerror(saved));
		free(path);
		*err_r = qfile_errbuf;
		errno = saved;
		/* O_NOFOLLOW on a symlink: nothing we wrote. */
		return saved == ELOOP ? -2 : -1;
	}
	free(path);
	qf = qfile_new(fd, dir, qid);
	if ((rc = qfile_parse(qf, err_r)) != 0) {
		saved = errno;
		qfile_free(&qf);
		errno = saved;
		return rc;
	}
	*qf_r = qf;
	return 0;
}

int
qfile_open_fd(int fd, const char *dir, const char *name, struct qfile **qf_r,
    const char **err_r)
{
	struct qfile *qf;
	int rc, saved;

	qf = qfile_new(fd, dir, name);
	if ((rc = qfile_parse(qf, err_r)) != 0) {
		saved = errno;
		qf->fd = -1;	/* the caller's still */
		qfile_free(&qf);
		errno = saved;
		return rc;
	}
	*qf_r = qf;
	return 0;
}

void
qfile_free(struct qfile **qfp)
{
	struct qfile *qf = *qfp;
	size_t i;

	if (qf == NULL)
		return;
	if (qf->fd != -1)
		(void)close(qf->fd);
	for (i = 0; i < qf->nattrs; i++) {
		free(qf->attrs[i].name);
		free(qf->attrs[i].value);
	}
	free(qf->attrs);
	for (i = 0; i < qf->nrcpts; i++) {
		free(qf->rcpts[i].addr);
		free(qf->rcpts[i].notify);
		free(qf->rcpts[i].orcpt);
		qfile_rcpt_clear_last(&qf->rcpts[i]);
	}
	free(qf->rcpts);
	free(qf->sender);
	free(qf->dir);
	free(qf);
	*qfp = NULL;
}

const char *
qfile_attr(const struct qfile *qf, const char *name)
{
	size_t i;

	/* The last one wins, as for a repeated main.cf parameter. */
	for (i = qf->nattrs; i > 0; i--)
		if (str_eq(qf->attrs[i - 1].name, name))
			return qf->attrs[i - 1].value;
	return NULL;
}

/*
 * Updates in place.
 */

/*
 * The offset to append at.  A last line without LF is an append that a
 * crash cut short; it is cut off here so the new record starts a line.
 */
static int
qfile_append_off(struct qfile *qf, off_t *off_r, const char **err_r)
{
	char tail[QFILE_LINE_MAX + 1];
	off_t end, from;
	ssize_t n;
	size_t i;

	if ((end = lseek(qf->fd, 0, SEEK_END)) == -1)
		return qfile_fail_errno(err_r, "queue file seek error", errno);
	from = end - (off_t)sizeof(tail);
	if (from < qf->content_off)
		from = qf->content_off;
	if (end <= from) {
		errno = EINVAL;
		*err_r = "queue file truncated";
		return -1;
	}
	do
		n = pread(qf->fd, tail, (size_t)(end - from), from);
	while (n == -1 && errno == EINTR);
	if (n != end - from)
		return qfile_fail_errno(err_r, "queue file read error",
		    n == -1 ? errno : EIO);
	for (i = (size_t)n; i > 0; i--)
		if (tail[i - 1] == '\n')
			break;
	if (i == 0) {
		errno = EINVAL;
		*err_r = "queue file has no end of line before its end";
		return -1;
	}
	*off_r = from + (off_t)i;
	if (*off_r != end && ftruncate(qf->fd, *off_r) == -1)
		return qfile_fail_errno(err_r, "queue file truncate error",
		    errno);
	return 0;
}

static int
qfile_append(struct qfile *qf, const char *rec, size_t len, bool sync,
    const char **err_r)
{
	off_t off;

	if (qfile_append_off(qf, &off, err_r) == -1)
		return -1;
	if (safefile_pwrite_all(qf->fd, rec, len, off) == -1)
		return qfile_fail_errno(err_r, "queue file write error", errno);
	if (sync && fdatasync(qf->fd) == -1)
		return qfile_fail_errno(err_r, "queue file fsync error", errno);
	return 0;
}

/* Copies s into out for a log record: control characters become spaces
 * (or "_" in a token), at most max bytes, not cutting a UTF-8 sequence. */
static void
qfile_log_clean(struct buf *out, const char *s, size_t max, bool token)
{
	size_t n = strlen(s), i;
	unsigned char c;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || (token && c == ' '))
			buf_addc(out, token ? '_' : ' ');
		else
			buf_addc(out, (char)c);
	}
}

int
qfile_log(struct qfile *qf, size_t i, const char *action, const char *dsn,
    const char *relay, const char *text, bool sync, const char **err_r)
{
	struct qfile_rcpt *rc;
	struct buf rec;
	time_t now = time(NULL);
	size_t head, relay_at, text_at;
	int ret;

	ASSERT(i < qf->nrcpts);
	if (!qfile_action_ok(action)) {
		errno = EINVAL;
		*err_r = "bad action for a log record";
		return -1;
	}
	/*
	 * A malformed code from a delivery agent must not keep a delivery
	 * from being recorded: use the generic code of the action's class.
	 */
	if (dsn == NULL || !qfile_dsn_valid(dsn))
		dsn = str_eq(action, "failed") ? "5.0.0" :
		    str_eq(action, "delayed") ? "4.0.0" : "2.0.0";
	if (relay == NULL || *relay == '\0')
		relay = "-";
	if (text == NULL)
		text = "";
	buf_init(&rec, QFILE_LINE_MAX * 2);
	buf_addf(&rec, "L %zu %lld %s %s ", i, (long long)now, action, dsn);
	relay_at = rec.len;
	qfile_log_clean(&rec, relay, 255, true);
	buf_addc(&rec, ' ');
	text_at = head = rec.len;
	qfile_log_clean(&rec, text, QFILE_LINE_MAX - 1 - head, false);
	buf_addc(&rec, '\n');
	ret = qfile_append(qf, rec.data, rec.len, sync, err_r);
	if (ret == 0) {
		rc = &qf->rcpts[i];
		qfile_rcpt_clear_last(rc);
		rc->last_action = xstrdup(action);
		rc->last_dsn = xstrdup(dsn);
		rc->last_relay = xstrndup(rec.data + relay_at,
		    text_at - 1 - relay_at);
		rc->last_text = xstrndup(rec.data + text_at,
		    rec.len - 1 - text_at);
		rc->last_time = (int64_t)now;
	}
	buf_deinit(&rec);
	return ret;
}

int
qfile_mark(struct qfile *qf, size_t i, enum qfile_state state,
    const char **err_r)
{
	char c = (char)state;

	ASSERT(i < qf->nrcpts);
	ASSERT(state == QFILE_TODO || state == QFILE_DONE ||
	    state == QFILE_FAILED);
	if (safefile_pwrite_all(qf->fd, &c, 1, qf->rcpts[i].state_off) == -1)
		return qfile_fail_errno(err_r, "queue file write error", errno);
	if (fdatasync(qf->fd) == -1)
		return qfile_fail_errno(err_r, "queue file fsync error", errno);
	qf->rcpts[i].state = state;
	return 0;
}

int
qfile_warned(struct qfile *qf, const char **err_r)
{
	char rec[64];
	time_t now = time(NULL);
	int n;

	n = snprintf(rec, sizeof(rec), "W %lld\n", (long long)now);
	ASSERT(n > 0 && (size_t)n < sizeof(rec));
	if (qfile_append(qf, rec, (size_t)n, true, err_r) == -1)
		return -1;
	qf->warned = (int64_t)now;
	return 0;
}

bool
qfile_all_done(const struct qfile *qf)
{
	size_t i;

	for (i = 0; i < qf->nrcpts; i++)
		if (qf->rcpts[i].state == QFILE_TODO)
			return false;
	return true;
}

int
qfile_read_content(const struct qfile *qf, struct buf *out, size_t max,
    const char **err_r)
{
	char *chunk;
	uint64_t want = qf->content_size;
	off_t off = qf->content_off;
	ssize_t n;
	size_t ask;
	int rc = 0;

	buf_reset(out);
	if (max != 0 && want > max)
		want = max;
	chunk = xmalloc(QFILE_CHUNK);
	while (want > 0) {
		ask = want < QFILE_CHUNK ? (size_t)want : QFILE_CHUNK;
		n = pread(qf->fd, chunk, ask, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = qfile_fail_errno(err_r, "queue file read error",
			    n == 0 ? EIO : errno);
			if (n == 0)
				*err_r = "queue file shorter than its content";
			break;
		}
		if (buf_append(out, chunk, (size_t)n) == -1) {
			errno = EFBIG;
			*err_r = "message content too large for the buffer";
			rc = -1;
			break;
		}
		off += n;
		want -= (uint64_t)n;
	}
	free(chunk);
	return rc;
}

/*
 * Moving between directories.
 */

int
qfile_move(const char *from, const char *to, const char *qid, bool sync,
    const char **err_r)
{
	char *src, *dst;
	const char *err;
	int saved;

	src = xasprintf("%s/%s", from, qid);
	dst = xasprintf("%s/%s", to, qid);
	if (rename(src, dst) == -1) {
		saved = errno;
		snprintf(qfile_errbuf, sizeof(qfile_errbuf),
		    "rename %s to %s: %s", src, dst, strerror(saved));
		free(src);
		free(dst);
		*err_r = qfile_errbuf;
		errno = saved;
		return -1;
	}
	free(src);
	free(dst);
	if (sync && safefile_fsync_dir(to, &err) == -1) {
		*err_r = err;
		return -1;
	}
	return 0;
}

void
qfile_quarantine(const char *dir, const char *name, const char *reason)
{
	char *src, *dst = NULL, *ename, *ereason;
	const char *err;
	int i, saved = 0;
	bool moved = false;

	ename = log_escape_str(name);
	ereason = log_escape_str(reason);
	/* SECURITY: a name is one path component, never "..". */
	if (*name == '\0' || strchr(name, '/') != NULL ||
	    str_eq(name, ".") || str_eq(name, "..")) {
		log_warn("%s: cannot move to corrupt: bad file name", ename);
		goto out;
	}
	if (str_eq(dir, QFILE_CORRUPT)) {
		log_warn("%s: left in corrupt: %s", ename, ereason);
		goto out;
	}
	src = xasprintf("%s/%s", dir, name);
	for (i = 0; i < QFILE_QUARANTINE_TRIES; i++) {
		free(dst);
		dst = i == 0 ? xasprintf("%s/%s", QFILE_CORRUPT, name) :
		    xasprintf("%s/%s.%d", QFILE_CORRUPT, name, i);
		if (qfile_rename_noreplace(src, dst) == 0) {
			moved = true;
			break;
		}
		if ((saved = errno) != EEXIST)
			break;
	}
	if (moved) {
		if (safefile_fsync_dir(QFILE_CORRUPT, &err) == -1)
			log_warn("%s: %s", ename, err);
		log_warn("%s: moved to corrupt: %s", ename, ereason);
	} else if (saved == EEXIST) {
		log_warn("%s: cannot move to corrupt: too many copies", ename);
	} else {
		log_warn("%s: cannot move to corrupt: %s", ename,
		    strerror(saved));
	}
	free(src);
	free(dst);
out:
	free(ename);
	free(ereason);
}

int
qfile_remove(const char *dir, const char *qid, const char **err_r)
{
	char *path = xasprintf("%s/%s", dir, qid);
	int saved;

	if (unlink(path) == -1 && errno != ENOENT) {
		saved = errno;
		snprintf(qfile_errbuf, sizeof(qfile_errbuf), "unlink %s: %s",
		    path, strerror(saved));
		free(path);
		*err_r = qfile_errbuf;
		errno = saved;
		return -1;
	}
	free(path);
	return 0;
}
