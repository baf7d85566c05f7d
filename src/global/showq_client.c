/* SPDX-License-Identifier: MIT */
/*
 * The queue listing shared by showq(8) and ternqueue(1): the directory
 * scan, both ends of the showq frames, and the mailq and JSON output;
 * see showq_client.h.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "qfile.h"
#include "qid.h"
#include "showq_client.h"

static char showq_errbuf[512];

static int
fail(const char **err_r, const char *msg)
{
	if (err_r != NULL)
		*err_r = msg;
	return -1;
}

void
showq_entry_init(struct showq_entry *e)
{
	memset(e, 0, sizeof(*e));
	strv_init(&e->rcpts);
	strv_init(&e->reasons);
}

void
showq_entry_deinit(struct showq_entry *e)
{
	strv_deinit(&e->rcpts);
	strv_deinit(&e->reasons);
	memset(e, 0, sizeof(*e));
}

/* The listed queues, in listing order. */
static const char *const showq_queues[] = {
	QFILE_ACTIVE, QFILE_INCOMING, QFILE_DEFERRED, QFILE_HOLD,
	QFILE_MAILDROP,
};
#define SHOWQ_NQUEUES	(sizeof(showq_queues) / sizeof(showq_queues[0]))

bool
showq_queue_name_valid(const char *name)
{
	for (size_t i = 0; i < SHOWQ_NQUEUES; i++)
		if (str_eq(name, showq_queues[i]))
			return true;
	return false;
}

/*
 * Scanning.
 */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The queue IDs in dir, sorted; 0, or -1 with err_r (missing: empty). */
static int
scan_names(const char *dir, struct strv *ids, const char **err_r)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		return fail(err_r, str_fmt_buf(showq_errbuf,
		    sizeof(showq_errbuf), "open directory %s: %s", dir,
		    strerror(errno)));
	}
	while ((errno = 0, de = readdir(d)) != NULL)
		if (qid_valid(de->d_name))
			strv_push(ids, de->d_name);
	if (errno != 0) {
		int saved = errno;

		closedir(d);
		return fail(err_r, str_fmt_buf(showq_errbuf,
		    sizeof(showq_errbuf), "read directory %s: %s", dir,
		    strerror(saved)));
	}
	closedir(d);
	if (ids->n > 1)
		qsort(ids->v, ids->n, sizeof(ids->v[0]), cmp_str);
	return 0;
}

/* Lists dir/id through fn; files that cannot be parsed are skipped. */
static int
scan_one(const char *dir, const char *id, showq_entry_fn *fn, void *ctx,
    const char **err_r)
{
	struct showq_entry e;
	struct qfile *qf = NULL;
	struct stat st;
	const char *err;
	char path[64];
	int rc;

	/*
	 * SECURITY: maildrop/ is writable by local users; never open a FIFO
	 * or device that stands in for a message (qfile_open re-checks on
	 * its descriptor).
	 */
	str_fmt_buf(path, sizeof(path), "%s/%s", dir, id);
	if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	rc = qfile_open(dir, id, QFILE_O_RDONLY, &qf, &err);
	if (rc == -1 && errno != ENOENT)
		log_warn("%s: %s", path, err);
	if (rc != 0)
		return 0;
	showq_entry_init(&e);
	e.queue_name = dir;
	e.queue_id = qf->qid;
	e.arrival = qf->arrival.tv_sec;
	e.size = qf->content_size;
	e.sender = qf->sender;
	for (size_t i = 0; i < qf->nrcpts; i++) {
		const struct qfile_rcpt *r = &qf->rcpts[i];

		if (r->state != QFILE_TODO)
			continue;
		strv_push(&e.rcpts, r->addr);
		strv_push(&e.reasons,
		    r->last_text != NULL ? r->last_text : "");
	}
	rc = fn(&e, ctx, err_r);
	showq_entry_deinit(&e);
	qfile_free(&qf);
	return rc;
}

int
showq_scan(showq_entry_fn *fn, void *ctx, const char **err_r)
{
	for (size_t q = 0; q < SHOWQ_NQUEUES; q++) {
		struct strv ids;
		int rc = 0;

		strv_init(&ids);
		rc = scan_names(showq_queues[q], &ids, err_r);
		for (size_t i = 0; rc == 0 && i < ids.n; i++)
			rc = scan_one(showq_queues[q], ids.v[i], fn, ctx,
			    err_r);
		strv_deinit(&ids);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/*
 * Frames, server side.
 */

static int
put_part(struct buf *out, const struct showq_entry *e, size_t first,
    size_t n, const char **err_r)
{
	struct strv rcpts = { e->rcpts.v + first, n, n };
	struct strv reasons = { e->reasons.v + first, n, n };
	struct attr_writer w;

	if (n == 0)
		rcpts.v = reasons.v = NULL;
	attr_frame_begin(&w, out);
	attr_put_str(&w, "queue_name", e->queue_name);
	attr_put_str(&w, "queue_id", e->queue_id);
	attr_put_i64(&w, "arrival", e->arrival);
	attr_put_u64(&w, "size", e->size);
	attr_put_str(&w, "sender", e->sender);
	attr_put_strv(&w, "rcpt", &rcpts);
	attr_put_strv(&w, "reason", &reasons);
	return attr_frame_end(&w, err_r);
}

int
showq_put_entry(struct buf *out, const struct showq_entry *e,
    const char **err_r)
{
	size_t start = out->len, first = 0, i, bytes;

	if (e->rcpts.n != e->reasons.n)
		panic("showq_put_entry: %zu recipients, %zu reasons",
		    e->rcpts.n, e->reasons.n);
	do {
		bytes = 0;
		for (i = first; i < e->rcpts.n; i++) {
			size_t more = strlen(e->rcpts.v[i]) +
			    strlen(e->reasons.v[i]) + 10;

			if (i > first && bytes + more > SHOWQ_CHUNK_BYTES)
				break;
			bytes += more;
		}
		if (put_part(out, e, first, i - first, err_r) == -1) {
			buf_truncate(out, start);
			return -1;
		}
		first = i;
	} while (first < e->rcpts.n);
	return 0;
}

int
showq_put_end(struct buf *out, uint64_t count, const char **err_r)
{
	struct attr_writer w;

	attr_frame_begin(&w, out);
	attr_put_bool(&w, "end", true);
	attr_put_u64(&w, "count", count);
	return attr_frame_end(&w, err_r);
}

/*
 * Frames, client side: consecutive parts of one message are merged
 * before the message is handed on.
 */

struct showq_reader {
	bool		 have;
	char		*queue_name;
	char		*queue_id;
	char		*sender;
	struct showq_entry e;
	uint64_t	 count;
	showq_entry_fn	*fn;
	void		*ctx;
};

static void
reader_clear(struct showq_reader *r)
{
	free(r->queue_name);
	free(r->queue_id);
	free(r->sender);
	r->queue_name = r->queue_id = r->sender = NULL;
	showq_entry_deinit(&r->e);
	showq_entry_init(&r->e);
	r->have = false;
}

static int
reader_flush(struct showq_reader *r, const char **err_r)
{
	int rc;

	if (!r->have)
		return 0;
	r->count++;
	rc = r->fn(&r->e, r->ctx, err_r);
	reader_clear(r);
	return rc;
}

static void
move_strv(struct strv *to, struct strv *from)
{
	for (size_t i = 0; i < from->n; i++) {
		strv_push_owned(to, from->v[i]);
		from->v[i] = NULL;
	}
	from->n = 0;
}

static int
reader_frame(struct showq_reader *r, const struct buf *body,
    bool *end_r, const char **err_r)
{
	const char *qname = NULL, *qid = NULL, *sender = NULL;
	int64_t arrival = 0;
	uint64_t size = 0, count = 0;
	bool end = false;
	struct strv rcpts, reasons;
	struct attr_spec end_spec[] = {
		ATTR_BOOL("end", &end),
		ATTR_U64("count", &count),
		ATTR_END
	};
	struct attr_spec msg_spec[] = {
		ATTR_STR("queue_name", &qname),
		ATTR_STR("queue_id", &qid),
		ATTR_I64("arrival", &arrival),
		ATTR_U64("size", &size),
		ATTR_STR("sender", &sender),
		ATTR_STRV("rcpt", &rcpts),
		ATTR_STRV("reason", &reasons),
		ATTR_END
	};
	int rc = -1;

	if (attr_parse(body->data, body->len, end_spec, ATTR_PARSE_STRICT,
	    err_r) == 0) {
		if (!end)
			return fail(err_r, "bad end frame");
		if (reader_flush(r, err_r) == -1)
			return -1;
		if (count != r->count)
			return fail(err_r, "message count mismatch");
		*end_r = true;
		return 0;
	}
	strv_init(&rcpts);
	strv_init(&reasons);
	if (attr_parse(body->data, body->len, msg_spec, ATTR_PARSE_STRICT,
	    err_r) == -1)
		goto out;
	if (!showq_queue_name_valid(qname)) {
		fail(err_r, "bad queue name");
		goto out;
	}
	if (!qid_valid(qid)) {
		fail(err_r, "bad queue ID");
		goto out;
	}
	if (rcpts.n != reasons.n) {
		fail(err_r, "recipient and reason counts differ");
		goto out;
	}
	if (r->have && str_eq(r->queue_name, qname) &&
	    str_eq(r->queue_id, qid)) {
		if (r->e.arrival != arrival || r->e.size != size ||
		    !str_eq(r->sender, sender)) {
			fail(err_r, "inconsistent message parts");
			goto out;
		}
		if (r->e.rcpts.n + rcpts.n > QFILE_RCPT_MAX) {
			fail(err_r, "too many recipients");
			goto out;
		}
	} else {
		if (reader_flush(r, err_r) == -1)
			goto out;
		r->have = true;
		r->queue_name = xstrdup(qname);
		r->queue_id = xstrdup(qid);
		r->sender = xstrdup(sender);
		r->e.queue_name = r->queue_name;
		r->e.queue_id = r->queue_id;
		r->e.sender = r->sender;
		r->e.arrival = arrival;
		r->e.size = size;
	}
	move_strv(&r->e.rcpts, &rcpts);
	move_strv(&r->e.reasons, &reasons);
	rc = 0;
out:
	strv_deinit(&rcpts);
	strv_deinit(&reasons);
	return rc;
}

int
showq_read_fd(int fd, int timeout_ms, showq_entry_fn *fn, void *ctx,
    const char **err_r)
{
	struct showq_reader r;
	struct buf body;
	bool end = false;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	showq_entry_init(&r.e);
	r.fn = fn;
	r.ctx = ctx;
	buf_init(&body, ATTR_FRAME_MAX);
	while (rc == 0 && !end) {
		rc = attr_read_frame(fd, &body, 0, timeout_ms, err_r);
		if (rc == 0)
			rc = reader_frame(&r, &body, &end, err_r);
	}
	reader_clear(&r);
	buf_deinit(&body);
	return rc;
}

int
showq_client_list(const char *path, int timeout_ms, showq_entry_fn *fn,
    void *ctx, bool *connect_failed_r, const char **err_r)
{
	int fd, rc;

	*connect_failed_r = false;
	if ((fd = ipc_connect(path, timeout_ms, err_r)) == -1) {
		*connect_failed_r = true;
		return -1;
	}
	rc = showq_read_fd(fd, timeout_ms, fn, ctx, err_r);
	close(fd);
	return rc;
}

/*
 * Output.
 */

/*
 * Length of the valid UTF-8 sequence at s (RFC 3629 §4 table: no
 * overlong forms, no surrogates, nothing above U+10FFFF), 0 if invalid.
 */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void
showq_printable(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (n == 1 && *p >= 0x20 && *p < 0x7f)
			buf_addc(out, (char)*p);
		else if (n > 1 && !(p[0] == 0xc2 && p[1] < 0xa0))
			buf_add(out, p, n);	/* not a C1 control */
		else {
			buf_addc(out, '?');
			n = n > 1 ? n : 1;
		}
		p += n;
	}
}

void
showq_json_string(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	buf_addc(out, '"');
	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (n == 0) {
			buf_adds(out, "\\ufffd");
			n = 1;
		} else if (*p == '"' || *p == '\\') {
			buf_addc(out, '\\');
			buf_addc(out, (char)*p);
		} else if (*p < 0x20 || *p == 0x7f)
			buf_addf(out, "\\u%04x", *p);
		else
			buf_add(out, p, n);
		p += n;
	}
	buf_addc(out, '"');
}

void
showq_wrap_reason(struct buf *out, const char *text, size_t width,
    size_t indent)
{
	struct buf tmp;
	size_t col = 0;
	bool line_start = true;
	char *p, *word;

	buf_init(&tmp, 0);
	buf_addc(&tmp, '(');
	showq_printable(&tmp, text);
	while (tmp.len > 1 && tmp.data[tmp.len - 1] == ' ')
		buf_truncate(&tmp, tmp.len - 1);
	buf_addc(&tmp, ')');
	p = tmp.data;
	while ((word = strsep(&p, " ")) != NULL) {
		size_t len = strlen(word);

		if (len == 0)
			continue;
		if (!line_start && col + 1 + len > width) {
			buf_addc(out, '\n');
			for (col = 0; col < indent; col++)
				buf_addc(out, ' ');
			line_start = true;
		}
		if (!line_start) {
			buf_addc(out, ' ');
			col++;
		}
		buf_add(out, word, len);
		col += len;
		line_start = false;
	}
	buf_addc(out, '\n');
	buf_deinit(&tmp);
}

void
showq_print_init(struct showq_print *p, enum showq_format format)
{
	memset(p, 0, sizeof(*p));
	p->format = format;
	buf_init(&p->out, 0);
}

void
showq_print_deinit(struct showq_print *p)
{
	buf_deinit(&p->out);
}

#define SHOWQ_HEADER \
    "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
#define SHOWQ_RCPT_INDENT	41
#define SHOWQ_WRAP_WIDTH	78
#define SHOWQ_WRAP_INDENT	4

static void
print_mailq(struct showq_print *p, const struct showq_entry *e)
{
	char when[64];
	time_t t = (time_t)e->arrival;
	struct tm tm;
	char status = ' ';
	const char *prev = NULL;

	if ((int64_t)t != e->arrival || localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%a %b %e %H:%M:%S", &tm) == 0)
		str_copy(when, "?", sizeof(when));
	if (str_eq(e->queue_name, QFILE_ACTIVE))
		status = '*';
	else if (str_eq(e->queue_name, QFILE_HOLD))
		status = '!';
	if (p->count == 0)
		buf_adds(&p->out, SHOWQ_HEADER);
	buf_addf(&p->out, "%-10s%c %8" PRIu64 " %-20.20s ", e->queue_id,
	    status, e->size, when);
	if (e->sender[0] == '\0')
		buf_adds(&p->out, "MAILER-DAEMON");
	else
		showq_printable(&p->out, e->sender);
	buf_addc(&p->out, '\n');
	for (size_t i = 0; i < e->rcpts.n; i++) {
		const char *reason = e->reasons.v[i];

		if (reason[0] != '\0' && (prev == NULL || !str_eq(prev,
		    reason)))
			showq_wrap_reason(&p->out, reason, SHOWQ_WRAP_WIDTH,
			    SHOWQ_WRAP_INDENT);
		prev = reason;
		buf_addf(&p->out, "%*s", SHOWQ_RCPT_INDENT, "");
		showq_printable(&p->out, e->rcpts.v[i]);
		buf_addc(&p->out, '\n');
	}
	buf_addc(&p->out, '\n');
}

static void
print_json(struct showq_print *p, const struct showq_entry *e)
{
	struct buf *o = &p->out;

	buf_adds(o, "{\"queue_name\": ");
	showq_json_string(o, e->queue_name);
	buf_adds(o, ", \"queue_id\": ");
	showq_json_string(o, e->queue_id);
	buf_addf(o, ", \"arrival_time\": %" PRId64 ", \"message_size\": %"
	    PRIu64 ", \"forced_expire\": false, \"sender\": ", e->arrival,
	    e->size);
	showq_json_string(o, e->sender);
	buf_adds(o, ", \"recipients\": [");
	for (size_t i = 0; i < e->rcpts.n; i++) {
		buf_adds(o, i == 0 ? "{\"address\": " : ", {\"address\": ");
		showq_json_string(o, e->rcpts.v[i]);
		if (e->reasons.v[i][0] != '\0') {
			buf_adds(o, ", \"delay_reason\": ");
			showq_json_string(o, e->reasons.v[i]);
		}
		buf_addc(o, '}');
	}
	buf_adds(o, "]}\n");
}

void
showq_print_entry(struct showq_print *p, const struct showq_entry *e)
{
	if (p->format == SHOWQ_JSON)
		print_json(p, e);
	else
		print_mailq(p, e);
	p->count++;
	p->bytes = e->size > UINT64_MAX - p->bytes ? UINT64_MAX :
	    p->bytes + e->size;
}

void
showq_print_finish(struct showq_print *p)
{
	if (p->format == SHOWQ_JSON)
		return;
	if (p->count == 0)
		buf_adds(&p->out, "Mail queue is empty\n");
	else
		buf_addf(&p->out, "-- %" PRIu64 " Kbytes in %" PRIu64
		    " Request%s.\n", p->bytes / 1024, p->count,
		    p->count == 1 ? "" : "s");
}

int
showq_print_stdout(const struct showq_entry *e, void *ctx,
    const char **err_r)
{
	struct showq_print *p = ctx;

	showq_print_entry(p, e);
	if (fwrite(p->out.data, 1, p->out.len, stdout) != p->out.len)
		return fail(err_r, "write error on standard output");
	buf_reset(&p->out);
	return 0;
}
