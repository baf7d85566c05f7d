/* SPDX-License-Identifier: MIT */
/*
 * The framed attribute format of every internal protocol: frame writer,
 * strict spec-driven parser, incremental and blocking frame readers; see
 * attr.h for the wire format and the contracts.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

/* More fields than this in one frame is hostile (duplicate scan is n^2). */
#define ATTR_FIELDS_MAX	1024

static char attr_errbuf[160];

static const char *errf(const char *fmt, ...) LOG_PRINTF(1, 2);

/* Formats an error message into the module buffer. */
static const char *
errf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(attr_errbuf, sizeof(attr_errbuf), fmt, ap);
	va_end(ap);
	return attr_errbuf;
}

static int
fail(const char **err_r, const char *msg)
{
	*err_r = msg;
	return -1;
}

static bool
name_valid(const char *s, size_t n)
{
	if (n == 0 || n > ATTR_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_'))
			return false;
	}
	return true;
}

static void
put_be(unsigned char *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

static uint64_t
get_be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

size_t
attr_hdr_decode(const unsigned char hdr[ATTR_HDR_LEN])
{
	return (size_t)get_be(hdr, ATTR_HDR_LEN);
}

/* ---- writer ------------------------------------------------------------ */

static void
wput(struct attr_writer *w, const void *p, size_t n)
{
	if (!w->overflow && buf_append(w->out, p, n) == -1)
		w->overflow = true;
}

static void
wput_be(struct attr_writer *w, uint64_t v, size_t n)
{
	unsigned char b[8];

	put_be(b, v, n);
	wput(w, b, n);
}

static void
wfield(struct attr_writer *w, enum attr_type type, const char *name)
{
	size_t n = strlen(name);
	unsigned char h[2];

	if (w->out == NULL)
		panic("attr: field \"%s\" put outside a frame", name);
	if (!name_valid(name, n))
		panic("attr: invalid field name \"%s\"", name);
	h[0] = (unsigned char)type;
	h[1] = (unsigned char)n;
	wput(w, h, 2);
	wput(w, name, n);
}

/* STR value: length, bytes, NUL. */
static void
wstr(struct attr_writer *w, const char *s)
{
	size_t n = strlen(s);

	if (n > UINT32_MAX) {
		w->overflow = true;
		return;
	}
	wput_be(w, n, 4);
	wput(w, s, n + 1);
}

void
attr_frame_begin(struct attr_writer *w, struct buf *out)
{
	static const unsigned char zero[ATTR_HDR_LEN];

	w->out = out;
	w->start = out->len;
	w->overflow = false;
	wput(w, zero, sizeof(zero));
}

void
attr_put_str(struct attr_writer *w, const char *name, const char *s)
{
	wfield(w, ATTR_T_STR, name);
	wstr(w, s);
}

void
attr_put_u64(struct attr_writer *w, const char *name, uint64_t v)
{
	wfield(w, ATTR_T_U64, name);
	wput_be(w, v, 8);
}

void
attr_put_i64(struct attr_writer *w, const char *name, int64_t v)
{
	wfield(w, ATTR_T_I64, name);
	wput_be(w, (uint64_t)v, 8);
}

void
attr_put_bool(struct attr_writer *w, const char *name, bool v)
{
	unsigned char c = v ? 1 : 0;

	wfield(w, ATTR_T_BOOL, name);
	wput(w, &c, 1);
}

void
attr_put_blob(struct attr_writer *w, const char *name, const void *p,
    size_t len)
{
	wfield(w, ATTR_T_BLOB, name);
	if (len > UINT32_MAX) {
		w->overflow = true;
		return;
	}
	wput_be(w, len, 4);
	wput(w, p, len);
}

void
attr_put_strv(struct attr_writer *w, const char *name, const struct strv *sv)
{
	wfield(w, ATTR_T_STRV, name);
	if (sv->n > UINT32_MAX) {
		w->overflow = true;
		return;
	}
	wput_be(w, sv->n, 4);
	for (size_t i = 0; i < sv->n; i++)
		wstr(w, sv->v[i]);
}

int
attr_frame_end(struct attr_writer *w, const char **err_r)
{
	struct buf *out = w->out;
	size_t body;

	if (out == NULL)
		panic("attr: frame ended without a begin");
	w->out = NULL;
	body = out->len - w->start - (w->overflow ? 0 : ATTR_HDR_LEN);
	if (w->overflow || body > ATTR_FRAME_MAX) {
		buf_truncate(out, w->start);
		return fail(err_r, "frame too large");
	}
	put_be((unsigned char *)out->data + w->start, body, ATTR_HDR_LEN);
	return 0;
}

/* ---- parser ------------------------------------------------------------ */

struct cursor {
	const unsigned char	*p;
	size_t			 left;
};

static bool
take(struct cursor *c, size_t n, const unsigned char **p_r)
{
	if (n > c->left)
		return false;
	*p_r = c->p;
	c->p += n;
	c->left -= n;
	return true;
}

/* One STR value; *s_r points at its bytes, which end in the NUL. */
static int
take_str(struct cursor *c, const char **s_r, const char *name,
    const char **err_r)
{
	const unsigned char *p;
	size_t n;

	if (!take(c, 4, &p))
		return fail(err_r, errf("field \"%s\": short frame", name));
	n = (size_t)get_be(p, 4);
	if (n >= c->left || !take(c, n + 1, &p))
		return fail(err_r, errf("field \"%s\": short frame", name));
	if (memchr(p, '\0', n) != NULL)
		return fail(err_r, errf("field \"%s\": NUL in string", name));
	if (p[n] != '\0')
		return fail(err_r,
		    errf("field \"%s\": string not terminated", name));
	*s_r = (const char *)p;
	return 0;
}

static void
spec_check(const struct attr_spec *spec)
{
	for (size_t i = 0; spec[i].name != NULL; i++) {
		if (!name_valid(spec[i].name, strlen(spec[i].name)))
			panic("attr: invalid spec name \"%s\"", spec[i].name);
		if (spec[i].type < ATTR_T_STR || spec[i].type > ATTR_T_STRV ||
		    spec[i].dest == NULL)
			panic("attr: bad spec entry \"%s\"", spec[i].name);
		for (size_t j = 0; j < i; j++)
			if (str_eq(spec[i].name, spec[j].name))
				panic("attr: duplicate spec name \"%s\"",
				    spec[i].name);
	}
}

static const struct attr_spec *
spec_find(const struct attr_spec *spec, const char *name, size_t *idx_r)
{
	for (size_t i = 0; spec[i].name != NULL; i++)
		if (str_eq(spec[i].name, name)) {
			*idx_r = i;
			return &spec[i];
		}
	return NULL;
}

/* Decodes one value of type t; stores it when s != NULL. */
static int
take_value(struct cursor *c, enum attr_type t, const struct attr_spec *s,
    const char *name, const char **err_r)
{
	const unsigned char *p;
	const char *str;
	uint64_t u;
	int64_t i;
	size_t n;

	switch (t) {
	case ATTR_T_STR:
		if (take_str(c, &str, name, err_r) == -1)
			return -1;
		if (s != NULL)
			*(const char **)s->dest = str;
		return 0;
	case ATTR_T_U64:
		if (!take(c, 8, &p))
			return fail(err_r, errf("field \"%s\": short frame",
			    name));
		u = get_be(p, 8);
		if (s == NULL)
			return 0;
		if (u > s->max)
			return fail(err_r,
			    errf("field \"%s\": number out of range", name));
		*(uint64_t *)s->dest = u;
		return 0;
	case ATTR_T_I64:
		if (!take(c, 8, &p))
			return fail(err_r, errf("field \"%s\": short frame",
			    name));
		i = (int64_t)get_be(p, 8);
		if (s == NULL)
			return 0;
		if (i < s->min || i > (int64_t)s->max)
			return fail(err_r,
			    errf("field \"%s\": number out of range", name));
		if (s->is_int)
			*(int *)s->dest = (int)i;
		else
			*(int64_t *)s->dest = i;
		return 0;
	case ATTR_T_BOOL:
		if (!take(c, 1, &p))
			return fail(err_r, errf("field \"%s\": short frame",
			    name));
		if (*p > 1)
			return fail(err_r,
			    errf("field \"%s\": bad boolean", name));
		if (s != NULL)
			*(bool *)s->dest = *p == 1;
		return 0;
	case ATTR_T_BLOB:
		if (!take(c, 4, &p))
			return fail(err_r, errf("field \"%s\": short frame",
			    name));
		n = (size_t)get_be(p, 4);
		if (!take(c, n, &p))
			return fail(err_r, errf("field \"%s\": short frame",
			    name));
		if (s != NULL) {
			((struct attr_blob *)s->dest)->data = p;
			((struct attr_blob *)s->dest)->len = n;
		}
		return 0;
	case ATTR_T_STRV:
		if (!take(c, 4, &p))
			return fail(err_r, errf("field \"%s\": short frame",
			    name));
		n = (size_t)get_be(p, 4);
		/* Each element takes at least 5 bytes: refuse early. */
		if (n > c->left / 5)
			return fail(err_r, errf("field \"%s\": short frame",
			    name));
		for (size_t k = 0; k < n; k++) {
			if (take_str(c, &str, name, err_r) == -1)
				return -1;
			if (s != NULL)
				strv_push(s->dest, str);
		}
		return 0;
	}
	return fail(err_r, "unknown field type");
}

static int
parse(struct cursor *c, const struct attr_spec *spec, bool *seen,
    struct strv *unknown, unsigned flags, const char **err_r)
{
	char name[ATTR_NAME_MAX + 1];
	const unsigned char *p;
	const struct attr_spec *s;
	size_t nfields = 0, idx, n;
	enum attr_type t;

	while (c->left > 0) {
		if (++nfields > ATTR_FIELDS_MAX)
			return fail(err_r, "too many fields");
		if (!take(c, 2, &p))
			return fail(err_r, "trailing bytes");
		t = p[0];
		n = p[1];
		if (n == 0 || n > ATTR_NAME_MAX)
			return fail(err_r, "bad field name length");
		if (!take(c, n, &p))
			return fail(err_r, "short field name");
		if (!name_valid((const char *)p, n))
			return fail(err_r, "bad field name");
		memcpy(name, p, n);
		name[n] = '\0';
		if (t < ATTR_T_STR || t > ATTR_T_STRV)
			return fail(err_r, errf("field \"%s\": unknown type",
			    name));
		s = spec_find(spec, name, &idx);
		if (s == NULL) {
			if (!(flags & ATTR_PARSE_IGNORE_UNKNOWN))
				return fail(err_r,
				    errf("unknown field \"%s\"", name));
			if (strv_find(unknown, name) != -1)
				return fail(err_r,
				    errf("duplicate field \"%s\"", name));
			strv_push(unknown, name);
		} else {
			if (seen[idx])
				return fail(err_r,
				    errf("duplicate field \"%s\"", name));
			seen[idx] = true;
			if (s->type != t)
				return fail(err_r,
				    errf("field \"%s\": wrong type", name));
		}
		if (take_value(c, t, s, name, err_r) == -1)
			return -1;
	}
	for (size_t i = 0; spec[i].name != NULL; i++)
		if ((spec[i].flags & ATTR_F_REQUIRED) && !seen[i])
			return fail(err_r,
			    errf("missing field \"%s\"", spec[i].name));
	return 0;
}

int
attr_parse(const void *body, size_t len, const struct attr_spec *spec,
    unsigned flags, const char **err_r)
{
	struct cursor c = { body, len };
	struct strv unknown;
	size_t nspec = 0;
	bool *seen;
	int rc;

	spec_check(spec);
	while (spec[nspec].name != NULL)
		nspec++;
	if (len > ATTR_FRAME_MAX)
		return fail(err_r, "frame too long");
	seen = xcalloc(nspec + 1, sizeof(*seen));
	strv_init(&unknown);
	rc = parse(&c, spec, seen, &unknown, flags, err_r);
	strv_deinit(&unknown);
	free(seen);
	return rc;
}

/* ---- incremental reader ------------------------------------------------ */

void
attr_reader_init(struct attr_reader *r, size_t max)
{
	if (max == 0 || max > ATTR_FRAME_MAX)
		max = ATTR_FRAME_MAX;
	r->max = max;
	r->cur = 0;
	buf_init(&r->in, max + ATTR_HDR_LEN);
}

void
attr_reader_deinit(struct attr_reader *r)
{
	buf_deinit(&r->in);
}

int
attr_reader_feed(struct attr_reader *r, const void *p, size_t n,
    const char **err_r)
{
	if (buf_append(&r->in, p, n) == -1)
		return fail(err_r, "too much pending input");
	return 0;
}

int
attr_reader_fill(struct attr_reader *r, int fd, const char **err_r)
{
	char chunk[16384];
	size_t room = r->in.max - r->in.len;
	ssize_t n;

	if (room == 0)
		return 1;
	if (room > sizeof(chunk))
		room = sizeof(chunk);
	n = read(fd, chunk, room);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 1;
		snprintf(attr_errbuf, sizeof(attr_errbuf), "read: %s",
		    strerror(errno));
		return fail(err_r, attr_errbuf);
	}
	if (n == 0)
		return 0;
	buf_add(&r->in, chunk, (size_t)n);
	return 1;
}

bool
attr_reader_pending(const struct attr_reader *r)
{
	return r->in.len > 0;
}

int
attr_reader_next(struct attr_reader *r, const void **body_r, size_t *len_r,
    const char **err_r)
{
	size_t n;

	if (r->in.len < ATTR_HDR_LEN)
		return 0;
	n = attr_hdr_decode((const unsigned char *)r->in.data);
	if (n > r->max)
		return fail(err_r, "frame too long");
	if (r->in.len - ATTR_HDR_LEN < n)
		return 0;
	r->cur = ATTR_HDR_LEN + n;
	*body_r = r->in.data + ATTR_HDR_LEN;
	*len_r = n;
	return 1;
}

void
attr_reader_consume(struct attr_reader *r)
{
	ASSERT(r->cur != 0);
	buf_consume(&r->in, r->cur);
	r->cur = 0;
}

/* ---- blocking helpers -------------------------------------------------- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		panic("clock_gettime: %s", strerror(errno));
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
attr_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

int
attr_wait(int fd, short events, int64_t deadline, const char **err_r)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int rc;

	for (;;) {
		left = deadline < 0 ? -1 : deadline - now_ms();
		if (deadline >= 0 && left < 0)
			left = 0;
		if (left > 1000000)
			left = 1000000;
		rc = poll(&pfd, 1, (int)left);
		if (rc > 0)
			return 0;
		if (rc == 0)
			return fail(err_r, "timed out");
		if (errno != EINTR) {
			snprintf(attr_errbuf, sizeof(attr_errbuf), "poll: %s",
			    strerror(errno));
			return fail(err_r, attr_errbuf);
		}
	}
}

static int
write_all(int fd, const void *data, size_t len, int64_t deadline,
    const char **err_r)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		if (attr_wait(fd, POLLOUT, deadline, err_r) == -1)
			return -1;
		n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				continue;
			snprintf(attr_errbuf, sizeof(attr_errbuf),
			    "write: %s", strerror(errno));
			return fail(err_r, attr_errbuf);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads up to len bytes; *got_r says how many came before EOF. */
static int
read_upto(int fd, void *data, size_t len, size_t *got_r, int64_t deadline,
    const char **err_r)
{
	char *p = data;
	ssize_t n;

	*got_r = 0;
	while (*got_r < len) {
		if (attr_wait(fd, POLLIN, deadline, err_r) == -1)
			return -1;
		n = read(fd, p + *got_r, len - *got_r);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				continue;
			snprintf(attr_errbuf, sizeof(attr_errbuf),
			    "read: %s", strerror(errno));
			return fail(err_r, attr_errbuf);
		}
		if (n == 0)
			return 0;
		*got_r += (size_t)n;
	}
	return 0;
}

int
attr_write_frame(int fd, const struct buf *frame, int timeout_ms,
    const char **err_r)
{
	return write_all(fd, frame->data, frame->len,
	    attr_deadline(timeout_ms), err_r);
}

int
attr_read_frame(int fd, struct buf *body, size_t max, int timeout_ms,
    const char **err_r)
{
	int64_t deadline = attr_deadline(timeout_ms);
	unsigned char hdr[ATTR_HDR_LEN];
	char chunk[16384];
	size_t n, got, want;

	if (max == 0 || max > ATTR_FRAME_MAX)
		max = ATTR_FRAME_MAX;
	buf_reset(body);
	if (read_upto(fd, hdr, sizeof(hdr), &got, deadline, err_r) == -1)
		return -1;
	if (got == 0)
		return fail(err_r, "connection closed");
	if (got < sizeof(hdr))
		return fail(err_r, "short frame");
	n = attr_hdr_decode(hdr);
	if (n > max || n > body->max)
		return fail(err_r, "frame too long");
	while (n > 0) {
		want = n < sizeof(chunk) ? n : sizeof(chunk);
		if (read_upto(fd, chunk, want, &got, deadline, err_r) == -1)
			return -1;
		buf_add(body, chunk, got);
		if (got < want)
			return fail(err_r, "short frame");
		n -= got;
	}
	return 0;
}
