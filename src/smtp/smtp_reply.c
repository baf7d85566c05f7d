/* SPDX-License-Identifier: MIT */
/*
 * The SMTP reply parser; see smtp_reply.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "str.h"
#include "xalloc.h"

#include "smtp_reply.h"

void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text, SMTP_REPLY_TOTAL_MAX);
	/* Room for the CR before LF. */
	buf_init(&r->line, SMTP_REPLY_LINE_MAX + 1);
}

static void
reply_lines_free(struct smtp_reply *r)
{
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
	r->lines = NULL;
	r->nlines = 0;
}

void
smtp_reply_deinit(struct smtp_reply *r)
{
	reply_lines_free(r);
	buf_deinit(&r->text);
	buf_deinit(&r->line);
}

void
smtp_reply_clear(struct smtp_reply *r)
{
	reply_lines_free(r);
	buf_reset(&r->text);
	buf_reset(&r->line);
	r->code = 0;
	r->dsn[0] = '\0';
	r->done = false;
}

static size_t
digits(const char *s, size_t max)
{
	size_t n = 0;

	while (n <= max && s[n] >= '0' && s[n] <= '9')
		n++;
	return n >= 1 && n <= max ? n : 0;
}

size_t
smtp_reply_status_len(const char *s)
{
	size_t n, len;

	/* RFC 3463 §2: class "." subject "." detail. */
	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	len = 2;
	if ((n = digits(s + len, 3)) == 0 || s[len + n] != '.')
		return 0;
	len += n + 1;
	if ((n = digits(s + len, 3)) == 0)
		return 0;
	len += n;
	if (s[len] != ' ' && s[len] != '\0')
		return 0;
	return len;
}

static int
fail(const char **err_r, const char *why)
{
	*err_r = why;
	return -1;
}

/* One complete line of n bytes (CR LF removed). */
static int
reply_line(struct smtp_reply *r, const char *l, size_t n, const char **err_r)
{
	int code;
	size_t i, start;
	char **lines;

	/* RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39. */
	if (n < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '5' ||
	    l[2] < '0' || l[2] > '9')
		return fail(err_r, "malformed reply code");
	if (n > 3 && l[3] != ' ' && l[3] != '-')
		return fail(err_r, "malformed reply line");
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	if (r->nlines > 0 && code != r->code)
		return fail(err_r, "reply continuation with another code");
	if (r->nlines >= SMTP_REPLY_LINES_MAX)
		return fail(err_r, "too many reply lines");
	/* textstring = 1*(%d09 / %d32-126); 8-bit text is tolerated. */
	for (i = 4; i < n; i++) {
		unsigned char c = (unsigned char)l[i];

		if ((c < 32 && c != '\t') || c == 127)
			return fail(err_r, "control character in reply");
	}
	if (r->text.len > 0 && buf_putc(&r->text, ' ') == -1)
		return fail(err_r, "reply too long");
	start = r->text.len;
	if (buf_append(&r->text, l, n) == -1)
		return fail(err_r, "reply too long");
	/* Diagnostic text goes into logs and DSNs: keep it ASCII. */
	for (i = start; i < r->text.len; i++)
		if ((unsigned char)r->text.data[i] > 126 ||
		    r->text.data[i] == '\t')
			r->text.data[i] = r->text.data[i] == '\t' ? ' ' : '?';
	if (r->nlines == 0) {
		r->code = code;
		if (n > 4) {
			char tmp[16];
			size_t k = n - 4 < sizeof(tmp) - 1 ? n - 4 :
			    sizeof(tmp) - 1;
			size_t sl;

			memcpy(tmp, l + 4, k);
			tmp[k] = '\0';
			/* A status is at most 9 bytes: the cut cannot fake one. */
			sl = smtp_reply_status_len(tmp);
			if (sl > 0) {
				memcpy(r->dsn, tmp, sl);
				r->dsn[sl] = '\0';
			}
		}
	}
	lines = xreallocarray(r->lines, r->nlines + 1, sizeof(*lines));
	r->lines = lines;
	r->lines[r->nlines++] = n > 4 ? xstrndup(l + 4, n - 4) : xstrdup("");
	if (n == 3 || l[3] == ' ')
		r->done = true;
	return 0;
}

int
smtp_reply_feed(struct smtp_reply *r, const void *data, size_t len,
    size_t *used_r, const char **err_r)
{
	const char *p = data;
	size_t used = 0;

	*used_r = 0;
	if (r->done)
		return 1;
	while (used < len) {
		const char *nl = memchr(p + used, '\n', len - used);
		size_t take = nl != NULL ? (size_t)(nl - (p + used)) :
		    len - used;
		const char *l;
		size_t n;

		if (memchr(p + used, '\0', take) != NULL)
			return fail(err_r, "NUL in reply");
		if (buf_append(&r->line, p + used, take) == -1)
			return fail(err_r, "reply line too long");
		used += take;
		if (nl == NULL)
			break;
		used++;		/* the LF */
		l = r->line.data != NULL ? r->line.data : "";
		n = r->line.len;
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (n > SMTP_REPLY_LINE_MAX)
			return fail(err_r, "reply line too long");
		if (reply_line(r, l, n, err_r) == -1)
			return -1;
		buf_reset(&r->line);
		if (r->done) {
			*used_r = used;
			return 1;
		}
	}
	*used_r = used;
	return 0;
}

void
smtp_reply_dsn(const struct smtp_reply *r, char dsn_r[16])
{
	char class = (char)('0' + r->code / 100);

	if (r->dsn[0] == class) {
		str_copy(dsn_r, r->dsn, 16);
	} else if (r->dsn[0] != '\0' && (class == '4' || class == '5') &&
	    (r->dsn[0] == '4' || r->dsn[0] == '5')) {
		str_copy(dsn_r, r->dsn, 16);
		dsn_r[0] = class;
	} else {
		dsn_r[0] = class;
		str_copy(dsn_r + 1, ".0.0", 15);
	}
}

/* The keyword of line l (up to a space or '='), compared without case. */
static bool
keyword(const char *l, const char *kw, const char **arg_r)
{
	size_t n = strlen(kw);

	if (strncasecmp(l, kw, n) != 0)
		return false;
	if (l[n] != '\0' && l[n] != ' ' && l[n] != '=')
		return false;
	*arg_r = l[n] != '\0' ? l + n + 1 : l + n;
	return true;
}

static void
ehlo_auth(struct smtp_ehlo *e, const char *arg)
{
	struct strv mechs;

	e->ext |= SMTP_EXT_AUTH;
	strv_init(&mechs);
	strv_split(&mechs, arg, " ");
	for (size_t i = 0; i < mechs.n; i++) {
		if (str_eq_ci(mechs.v[i], "PLAIN"))
			e->auth |= SMTP_AUTH_PLAIN;
		else if (str_eq_ci(mechs.v[i], "LOGIN"))
			e->auth |= SMTP_AUTH_LOGIN;
	}
	strv_deinit(&mechs);
}

void
smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *e)
{
	static const struct {
		const char	*kw;
		unsigned	 bit;
	} kws[] = {
		{ "PIPELINING",		SMTP_EXT_PIPELINING },
		{ "8BITMIME",		SMTP_EXT_8BITMIME },
		{ "SMTPUTF8",		SMTP_EXT_SMTPUTF8 },
		{ "DSN",		SMTP_EXT_DSN },
		{ "CHUNKING",		SMTP_EXT_CHUNKING },
		{ "STARTTLS",		SMTP_EXT_STARTTLS },
		{ "REQUIRETLS",		SMTP_EXT_REQUIRETLS },
		{ "ENHANCEDSTATUSCODES", SMTP_EXT_ENHANCEDSTATUSCODES },
	};
	const char *arg;

	memset(e, 0, sizeof(*e));
	/* The first line is the greeting of EHLO (RFC 5321 §4.1.1.1). */
	for (size_t i = 1; i < r->nlines; i++) {
		const char *l = r->lines[i];

		if (keyword(l, "SIZE", &arg)) {
			long long v;
			const char *err;

			e->ext |= SMTP_EXT_SIZE;
			/* RFC 1870 §4: "SIZE" alone or 0: no fixed limit. */
			if (*arg != '\0' && str_to_ll(arg, 0, INT64_MAX, &v,
			    &err) == 0 && arg[0] != '+' && arg[0] != '-')
				e->size = (uint64_t)v;
			continue;
		}
		if (keyword(l, "AUTH", &arg)) {
			ehlo_auth(e, arg);
			continue;
		}
		for (size_t k = 0; k < sizeof(kws) / sizeof(kws[0]); k++)
			if (keyword(l, kws[k].kw, &arg))
				e->ext |= kws[k].bit;
	}
}
