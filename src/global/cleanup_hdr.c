/* SPDX-License-Identifier: MIT */
/*
 * The message header while cleanup receives it: a field list over one
 * text buffer, grown line by line with header_size_limit and
 * header_count_limit enforced on the way in (so a hostile header costs at
 * most field_max * count_max bytes, and each line is looked at once), and
 * the rewriting helpers cleanup needs.  See cleanup_hdr.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "str.h"
#include "xalloc.h"

#include "addr.h"
#include "cleanup_hdr.h"

void
cleanup_hdr_init(struct cleanup_hdr *h, size_t field_max, size_t count_max)
{
	memset(h, 0, sizeof(*h));
	buf_init(&h->text, 0);
	h->field_max = field_max;
	h->count_max = count_max;
}

void
cleanup_hdr_deinit(struct cleanup_hdr *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->f[i].replaced);
	free(h->f);
	buf_deinit(&h->text);
	memset(h, 0, sizeof(*h));
}

/* RFC 5322 §3.6.8 ftext: printable US-ASCII except ":". */
static bool
is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

size_t
cleanup_hdr_field_start(const char *line, size_t n)
{
	size_t i = 0, name_len;

	while (i < n && is_ftext((unsigned char)line[i]))
		i++;
	if (i == 0)
		return 0;
	name_len = i;
	/* RFC 5322 §4.5.1 obs-optional: WSP before the colon. */
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= n || line[i] != ':')
		return 0;
	return name_len;
}

static int
hdr_fail(struct cleanup_hdr *h, const char *why)
{
	if (h->error == NULL)
		h->error = why;
	return -1;
}

int
cleanup_hdr_line(struct cleanup_hdr *h, const char *line, size_t n)
{
	struct cleanup_hdr_field *f;
	size_t name_len;

	if (h->error != NULL)
		return -1;
	if (n > 0 && (line[0] == ' ' || line[0] == '\t')) {
		/* RFC 5322 §2.2.3: a folded continuation of the last field. */
		if (h->n == 0)
			return 0;
		f = &h->f[h->n - 1];
		if (f->len + n + 1 > h->field_max)
			return hdr_fail(h, "5.6.0 header field too long");
	} else {
		if ((name_len = cleanup_hdr_field_start(line, n)) == 0)
			return 0;
		if (h->n >= h->count_max)
			return hdr_fail(h, "5.6.0 too many header fields");
		if (n + 1 > h->field_max)
			return hdr_fail(h, "5.6.0 header field too long");
		if (h->n == h->cap) {
			h->cap = h->cap == 0 ? 32 : h->cap * 2;
			h->f = xreallocarray(h->f, h->cap, sizeof(*h->f));
		}
		f = &h->f[h->n++];
		memset(f, 0, sizeof(*f));
		f->off = h->text.len;
		f->name_len = name_len;
		if (name_len == 8 && strncasecmp(line, "Received", 8) == 0)
			h->received++;
	}
	if (memchr(line, '\0', n) != NULL)
		return hdr_fail(h, "5.6.0 NUL character in message header");
	if (buf_append(&h->text, line, n) == -1 ||
	    buf_putc(&h->text, '\n') == -1)
		return hdr_fail(h, "5.6.0 message header too large");
	f->len += n + 1;
	return 1;
}

long
cleanup_hdr_find(const struct cleanup_hdr *h, const char *name, size_t from)
{
	size_t i, len = strlen(name);

	for (i = from; i < h->n; i++) {
		const struct cleanup_hdr_field *f = &h->f[i];

		if (!f->deleted && f->name_len == len &&
		    strncasecmp(h->text.data + f->off, name, len) == 0)
			return (long)i;
	}
	return -1;
}

void
cleanup_hdr_value(const struct cleanup_hdr *h, size_t i, const char **v_r,
    size_t *n_r)
{
	const struct cleanup_hdr_field *f = &h->f[i];
	const char *s = h->text.data + f->off;
	const char *colon = memchr(s, ':', f->len);

	/* cleanup_hdr_line only stores fields with a colon. */
	*v_r = colon + 1;
	*n_r = f->len - (size_t)(colon + 1 - s) - 1;
}

void
cleanup_hdr_delete(struct cleanup_hdr *h, size_t i)
{
	h->f[i].deleted = true;
}

void
cleanup_hdr_replace(struct cleanup_hdr *h, size_t i, const char *text)
{
	free(h->f[i].replaced);
	h->f[i].replaced = xstrdup(text);
}

void
cleanup_hdr_output(const struct cleanup_hdr *h, struct buf *out)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		const struct cleanup_hdr_field *f = &h->f[i];

		if (f->deleted)
			continue;
		if (f->replaced != NULL)
			buf_adds(out, f->replaced);
		else
			buf_add(out, h->text.data + f->off, f->len);
	}
}

void
cleanup_hdr_date(char out[CLEANUP_HDR_DATE_SIZE], time_t t)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};
	struct tm tm;
	long off, aoff;
	char zone[16] = "";
	size_t i;

	if (localtime_r(&t, &tm) == NULL)
		gmtime_r(&t, &tm);
	off = tm.tm_gmtoff / 60;
	aoff = off < 0 ? -off : off;
	/* The zone abbreviation is only a comment (RFC 5322 §3.3). */
	if (tm.tm_zone != NULL && strlen(tm.tm_zone) < sizeof(zone) - 3) {
		for (i = 0; tm.tm_zone[i] != '\0'; i++) {
			char c = tm.tm_zone[i];

			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' &&
			    c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
			    c == '-'))
				break;
		}
		if (i > 0 && tm.tm_zone[i] == '\0')
			(void)snprintf(zone, sizeof(zone), " (%s)",
			    tm.tm_zone);
	}
	(void)snprintf(out, CLEANUP_HDR_DATE_SIZE,
	    "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld%s",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    off < 0 ? '-' : '+', aoff / 60, aoff % 60, zone);
}

/* Insertion points found by the qualify scanner. */
struct ins {
	size_t	*pos;
	size_t	 n;
	size_t	 cap;
};

static void
ins_add(struct ins *ins, size_t pos)
{
	if (ins->n == ins->cap) {
		ins->cap = ins->cap == 0 ? 8 : ins->cap * 2;
		ins->pos = xreallocarray(ins->pos, ins->cap, sizeof(size_t));
	}
	ins->pos[ins->n++] = pos;
}

/*
 * Finds where "@domain" goes for every bare address of a list that
 * addr_parse_header_list accepted: inside an angle-addr just before ">",
 * else after the last token of an addr-spec list element.  A group's
 * display name (ended by ":") is no address.
 */
static void
qualify_scan(const char *s, size_t n, struct ins *ins)
{
	size_t i, tok_end = 0;
	int depth = 0;
	bool quote = false, angle = false, had_angle = false;
	bool saw_tok = false, saw_at = false;
	bool a_tok = false, a_at = false;

	for (i = 0; i <= n; i++) {
		char c = i < n ? s[i] : ',';

		if (quote || depth > 0) {
			if (c == '\\') {
				i++;
				continue;
			}
			if (quote && c == '"') {
				quote = false;
				if (!angle)
					tok_end = i + 1;
			} else if (!quote && c == '(') {
				depth++;
			} else if (!quote && c == ')') {
				depth--;
			}
			continue;
		}
		if (c == '(') {
			depth = 1;
			continue;
		}
		if (angle) {
			if (c == '"') {
				quote = true;
				a_tok = true;
			} else if (c == '@') {
				a_at = true;
			} else if (c == '>') {
				angle = false;
				if (a_tok && !a_at)
					ins_add(ins, i);
			} else if (c != ' ' && c != '\t' && c != '\r' &&
			    c != '\n') {
				a_tok = true;
			}
			continue;
		}
		switch (c) {
		case '<':
			angle = had_angle = true;
			a_tok = a_at = false;
			break;
		case '"':
			quote = true;
			saw_tok = true;
			break;
		case ',':
		case ';':
			if (!had_angle && saw_tok && !saw_at)
				ins_add(ins, tok_end);
			/* FALLTHROUGH */
		case ':':
			had_angle = saw_tok = saw_at = false;
			break;
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			break;
		case '@':
			saw_at = true;
			/* FALLTHROUGH */
		default:
			saw_tok = true;
			tok_end = i + 1;
			break;
		}
	}
}

int
cleanup_hdr_qualify(const char *value, size_t n, const char *domain,
    struct buf *out)
{
	struct strv list;
	struct ins ins = { NULL, 0, 0 };
	const char *err;
	size_t i, bare = 0, prev = 0;

	strv_init(&list);
	if (addr_parse_header_list(value, n, ADDR_BARE_LOCAL_OK |
	    ADDR_SMTPUTF8, &list, &err) == -1) {
		strv_deinit(&list);
		return -1;
	}
	for (i = 0; i < list.n; i++)
		if (strchr(list.v[i], '@') == NULL)
			bare++;
	strv_deinit(&list);
	if (bare == 0)
		return 0;
	qualify_scan(value, n, &ins);
	for (i = 0; i < ins.n; i++) {
		buf_add(out, value + prev, ins.pos[i] - prev);
		buf_addc(out, '@');
		buf_adds(out, domain);
		prev = ins.pos[i];
	}
	buf_add(out, value + prev, n - prev);
	free(ins.pos);
	return 1;
}

int
cleanup_hdr_addrs(const char *value, size_t n, const char *domain,
    struct strv *list_r, const char **err_r)
{
	struct strv list;
	size_t i;

	strv_init(&list);
	if (addr_parse_header_list(value, n, ADDR_BARE_LOCAL_OK |
	    ADDR_SMTPUTF8, &list, err_r) == -1) {
		strv_deinit(&list);
		return -1;
	}
	for (i = 0; i < list.n; i++) {
		if (strchr(list.v[i], '@') == NULL)
			strv_push_owned(list_r, xasprintf("%s@%s", list.v[i],
			    domain));
		else
			strv_push(list_r, list.v[i]);
	}
	strv_deinit(&list);
	return 0;
}

/* RFC 5322 §3.2.3 atext. */
static bool
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80)
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

void
cleanup_hdr_phrase(struct buf *out, const char *name)
{
	const unsigned char *p;
	bool plain = true;

	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (!is_atext(*p) && *p != ' ')
			plain = false;
	if (name[0] == ' ' || (name[0] != '\0' &&
	    name[strlen(name) - 1] == ' '))
		plain = false;
	if (plain) {
		buf_adds(out, name);
		return;
	}
	buf_addc(out, '"');
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			continue;
		if (*p == '"' || *p == '\\')
			buf_addc(out, '\\');
		buf_addc(out, (char)*p);
	}
	buf_addc(out, '"');
}
