/* SPDX-License-Identifier: MIT */
/*
 * Message processing on the way into the queue (cleanup.h).  The envelope
 * and the header are kept in memory (the header bounded by
 * header_size_limit per field and header_count_limit fields, see
 * cleanup_hdr.c) until the header ends; then the envelope records, the
 * processed header and the separator go to the queue file, and the body is
 * streamed straight after them with CRLF turned into LF, in runs found by
 * memchr, never byte by byte.  Any failure is sticky: the rest of the
 * message is counted and dropped, and cleanup_finish reports it.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include "cleanup.h"
#include "cleanup_hdr.h"
#include "mail_conf.h"
#include "mail_trigger.h"
#include "qfile.h"

/* Envelope values must fit a queue file line with room for the record. */
#define CLEANUP_VALUE_MAX	(QFILE_LINE_MAX - 64)

struct cleanup_rcpt {
	char		*addr;
	char		*notify;
	char		*orcpt;
};

enum cleanup_state {
	CLEANUP_ST_HEADER,	/* collecting header lines */
	CLEANUP_ST_BODY,	/* envelope and header written, streaming */
};

struct cleanup {
	unsigned	 flags;
	struct qfile_writer *w;
	char		 qid[QID_SIZE];
	/* Origin, copied. */
	char		*protocol;
	char		*client_name;
	char		*client_addr;
	char		*helo;
	char		*sasl_user;
	char		*tls_info;
	char		*fullname;
	long		 uid;
	/* Configuration, copied (a reload must not pull it away). */
	char		*myhostname;
	char		*myorigin;
	uint64_t	 size_max;	/* message_size_limit, 0: none */
	long long	 hop_max;
	/* Envelope. */
	char		*sender;
	struct cleanup_rcpt *rcpts;
	size_t		 nrcpts;
	size_t		 rcpts_cap;
	struct strv	 attr_names;
	struct strv	 attr_values;
	/* Content. */
	enum cleanup_state state;
	struct cleanup_hdr hdr;
	struct buf	 line;		/* a header line split across writes */
	bool		 cr_pending;	/* body: last chunk ended in CR */
	bool		 prepared;	/* cleanup_prepare done */
	char		 last;		/* last content byte written */
	uint64_t	 size;		/* content bytes as received */
	/* Outcome. */
	enum cleanup_status status;
	const char	*reason;
	char		*message_id;
};

/* Reasons handed out by cleanup_finish (valid until the next failure). */
static char cleanup_reason_buf[512];

static char *
dup_or_null(const char *s)
{
	return s == NULL ? NULL : xstrdup(s);
}

static void
cleanup_fail(struct cleanup *c, enum cleanup_status status,
    const char *reason)
{
	if (c->status != CLEANUP_OK)
		return;
	c->status = status;
	c->reason = reason;
}

/* True for a value a queue file record can hold (qfile.h). */
static bool
value_ok(const char *s, bool spaces_ok)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f || (ch == ' ' && !spaces_ok))
			return false;
	}
	return i <= CLEANUP_VALUE_MAX;
}

int
cleanup_open(unsigned flags, const struct cleanup_origin *origin,
    struct cleanup **c_r, const char **err_r)
{
	struct cleanup *c;
	const char *err;

	*c_r = NULL;
	c = xcalloc(1, sizeof(*c));
	if (qfile_create(QFILE_INCOMING, 0600, &c->w, &err) == -1) {
		*err_r = str_fmt_buf(cleanup_reason_buf,
		    sizeof(cleanup_reason_buf), "cannot create queue file: %s",
		    err);
		free(c);
		return -1;
	}
	if (geteuid() == 0) {
		const char *owner = mail_conf_get("mail_owner");
		struct passwd *pw = getpwnam(owner);

		if (pw == NULL || qfile_writer_chown(c->w, pw->pw_uid,
		    pw->pw_gid) == -1) {
			*err_r = str_fmt_buf(cleanup_reason_buf,
			    sizeof(cleanup_reason_buf), pw == NULL ?
			    "mail_owner %s: no such user" :
			    "cannot give the queue file to %s", owner);
			qfile_writer_abort(&c->w);
			free(c);
			return -1;
		}
	}
	str_copy(c->qid, qfile_writer_qid(c->w), sizeof(c->qid));
	c->flags = flags;
	if (origin != NULL) {
		c->protocol = dup_or_null(origin->protocol);
		c->client_name = dup_or_null(origin->client_name);
		c->client_addr = dup_or_null(origin->client_addr);
		c->helo = dup_or_null(origin->helo);
		c->sasl_user = dup_or_null(origin->sasl_user);
		c->tls_info = dup_or_null(origin->tls_info);
		c->fullname = dup_or_null(origin->fullname);
		c->uid = origin->uid;
	} else {
		c->uid = -1;
	}
	c->myhostname = xstrdup(mail_conf_get("myhostname"));
	c->myorigin = xstrdup(mail_conf_get("myorigin"));
	c->size_max = (uint64_t)mail_conf_size("message_size_limit");
	c->hop_max = mail_conf_int("hopcount_limit");
	cleanup_hdr_init(&c->hdr, (size_t)mail_conf_size("header_size_limit"),
	    (size_t)mail_conf_int("header_count_limit"));
	buf_init(&c->line, 0);
	strv_init(&c->attr_names);
	strv_init(&c->attr_values);
	c->sender = xstrdup("");
	c->last = '\n';
	*c_r = c;
	return 0;
}

const char *
cleanup_qid(const struct cleanup *c)
{
	return c->qid;
}

/* A bare local name qualified with @myorigin under F_LOCAL, else a copy. */
static char *
qualify(const struct cleanup *c, const char *addr)
{
	if ((c->flags & CLEANUP_F_LOCAL) != 0 && addr[0] != '\0' &&
	    strchr(addr, '@') == NULL)
		return xasprintf("%s@%s", addr, c->myorigin);
	return xstrdup(addr);
}

void
cleanup_sender(struct cleanup *c, const char *sender)
{
	if (!value_ok(sender, true)) {
		cleanup_fail(c, CLEANUP_PERM, "5.1.7 bad sender address syntax");
		return;
	}
	free(c->sender);
	c->sender = qualify(c, sender);
}

static void
rcpt_add(struct cleanup *c, char *addr, const char *notify,
    const char *orcpt)
{
	struct cleanup_rcpt *r;

	if (c->nrcpts >= QFILE_RCPT_MAX) {
		free(addr);
		cleanup_fail(c, CLEANUP_PERM, "5.5.3 too many recipients");
		return;
	}
	if (c->nrcpts == c->rcpts_cap) {
		c->rcpts_cap = c->rcpts_cap == 0 ? 8 : c->rcpts_cap * 2;
		c->rcpts = xreallocarray(c->rcpts, c->rcpts_cap,
		    sizeof(*c->rcpts));
	}
	r = &c->rcpts[c->nrcpts++];
	r->addr = addr;
	r->notify = xstrdup(notify != NULL && notify[0] != '\0' ? notify :
	    "-");
	r->orcpt = xstrdup(orcpt != NULL && orcpt[0] != '\0' ? orcpt : "-");
}

void
cleanup_rcpt(struct cleanup *c, const char *addr, const char *notify,
    const char *orcpt)
{
	if (addr[0] == '\0' || !value_ok(addr, true) ||
	    (notify != NULL && !value_ok(notify, false)) ||
	    (orcpt != NULL && !value_ok(orcpt, false))) {
		cleanup_fail(c, CLEANUP_PERM,
		    "5.1.3 bad recipient address syntax");
		return;
	}
	rcpt_add(c, qualify(c, addr), notify, orcpt);
}

void
cleanup_attr(struct cleanup *c, const char *name, const char *value)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || name[i] == '_'))
			break;
	if (i == 0 || name[i] != '\0' || !value_ok(value, true)) {
		log_qid_warn(c->qid, "attribute %s dropped: bad name or value",
		    name[i] == '\0' && i > 0 ? name : "?");
		return;
	}
	if (c->state != CLEANUP_ST_HEADER) {
		log_qid_warn(c->qid, "attribute %s after the content began",
		    name);
		cleanup_fail(c, CLEANUP_TEMP, "4.3.0 internal error");
		return;
	}
	strv_push(&c->attr_names, name);
	strv_push(&c->attr_values, value);
}

/* Appends content, remembering the last byte. */
static void
content_put(struct cleanup *c, const char *p, size_t n)
{
	if (n == 0)
		return;
	qfile_put_content(c->w, p, n);
	c->last = p[n - 1];
}

/* Body bytes: CRLF becomes LF (also across writes), other CRs stay. */
static void
body_write(struct cleanup *c, const char *p, size_t n)
{
	const char *cr;

	if (n == 0)
		return;
	if (c->cr_pending) {
		c->cr_pending = false;
		if (p[0] != '\n')
			content_put(c, "\r", 1);
	}
	while (n > 0) {
		if ((cr = memchr(p, '\r', n)) == NULL) {
			content_put(c, p, n);
			return;
		}
		content_put(c, p, (size_t)(cr - p));
		n -= (size_t)(cr - p) + 1;
		p = cr + 1;
		if (n == 0) {
			c->cr_pending = true;
			return;
		}
		if (p[0] != '\n')
			content_put(c, "\r", 1);
	}
}

/* FNV-1a, for the recipient set. */
static uint64_t
hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* Drops repeated recipients (exact match), keeping the first of each. */
static void
dedup_rcpts(struct cleanup *c)
{
	size_t cap = 16, i, j = 0, h, *tab;

	while (cap < c->nrcpts * 2)
		cap *= 2;
	tab = xcalloc(cap, sizeof(*tab));
	for (i = 0; i < c->nrcpts; i++) {
		struct cleanup_rcpt *r = &c->rcpts[i];
		bool dup = false;

		h = (size_t)hash_str(r->addr) & (cap - 1);
		for (; tab[h] != 0; h = (h + 1) & (cap - 1)) {
			if (strcmp(c->rcpts[tab[h] - 1].addr, r->addr) == 0) {
				dup = true;
				break;
			}
		}
		if (dup) {
			free(r->addr);
			free(r->notify);
			free(r->orcpt);
			continue;
		}
		c->rcpts[j] = *r;
		tab[h] = ++j;
	}
	c->nrcpts = j;
	free(tab);
}

/* Under F_LOCAL: qualifies bare addresses in the address fields. */
static void
qualify_header(struct cleanup *c)
{
	static const char *const names[] = {
		"From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	};
	struct buf nv;
	const char *v;
	size_t i, n;
	long f;

	buf_init(&nv, 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (f = cleanup_hdr_find(&c->hdr, names[i], 0); f != -1;
		    f = cleanup_hdr_find(&c->hdr, names[i], (size_t)f + 1)) {
			const char *start = c->hdr.text.data +
			    c->hdr.f[f].off;

			cleanup_hdr_value(&c->hdr, (size_t)f, &v, &n);
			buf_reset(&nv);
			buf_add(&nv, start, (size_t)(v - start));
			if (cleanup_hdr_qualify(v, n, c->myorigin, &nv) != 1)
				continue;
			buf_addc(&nv, '\n');
			cleanup_hdr_replace(&c->hdr, (size_t)f,
			    buf_cstr(&nv));
		}
	}
	buf_deinit(&nv);
}

/* Under F_EXTRACT: recipients from To:, Cc:, Bcc: (sendmail -t). */
static void
extract_rcpts(struct cleanup *c)
{
	static const char *const names[] = { "To", "Cc", "Bcc" };
	struct strv list;
	const char *v, *err;
	size_t i, k, n;
	long f;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (f = cleanup_hdr_find(&c->hdr, names[i], 0); f != -1;
		    f = cleanup_hdr_find(&c->hdr, names[i], (size_t)f + 1)) {
			strv_init(&list);
			cleanup_hdr_value(&c->hdr, (size_t)f, &v, &n);
			if (cleanup_hdr_addrs(v, n, c->myorigin, &list,
			    &err) == -1)
				log_qid_warn(c->qid, "no recipients taken "
				    "from %s: header: %s", names[i], err);
			for (k = 0; k < list.n; k++)
				if (value_ok(list.v[k], true))
					rcpt_add(c, xstrdup(list.v[k]), NULL,
					    NULL);
			strv_deinit(&list);
		}
	}
}

/* Appends s with control characters shown as "?" (network text). */
static void
add_clean(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		buf_addc(b, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' :
		    *s);
}

/* The Received: field this system adds (RFC 5321 §4.4). */
static void
add_received(struct cleanup *c, struct buf *b, const char *date)
{
	if ((c->flags & CLEANUP_F_BOUNCE) != 0) {
		buf_addf(b, "Received: by %s (tern)\n\tid %s; %s\n",
		    c->myhostname, c->qid, date);
		return;
	}
	if (c->client_addr == NULL) {
		buf_addf(b, "Received: by %s (tern, from userid %ld)\n"
		    "\tid %s; %s\n", c->myhostname, c->uid, c->qid, date);
		return;
	}
	buf_adds(b, "Received: from ");
	add_clean(b, c->helo != NULL ? c->helo : c->client_name != NULL ?
	    c->client_name : "unknown");
	buf_adds(b, " (");
	add_clean(b, c->client_name != NULL ? c->client_name : "unknown");
	buf_adds(b, " [");
	add_clean(b, c->client_addr);
	buf_adds(b, "])\n");
	if (c->tls_info != NULL) {
		buf_addc(b, '\t');
		add_clean(b, c->tls_info);
		buf_addc(b, '\n');
	}
	buf_addf(b, "\tby %s (tern) with ", c->myhostname);
	add_clean(b, c->protocol != NULL ? c->protocol : "SMTP");
	buf_addf(b, " id %s", c->qid);
	if (c->nrcpts == 1) {
		buf_adds(b, "\n\tfor <");
		add_clean(b, c->rcpts[0].addr);
		buf_adds(b, ">");
	}
	buf_addf(b, "; %s\n", date);
}

/* From: for a local submission without one: "Full Name <sender>". */
static void
add_from(struct cleanup *c, struct buf *b)
{
	char *name = NULL, *comma;
	struct passwd *pw;

	if (c->fullname != NULL)
		name = xstrdup(c->fullname);
	else if (c->uid >= 0 && (pw = getpwuid((uid_t)c->uid)) != NULL &&
	    pw->pw_gecos != NULL) {
		name = xstrdup(pw->pw_gecos);
		if ((comma = strchr(name, ',')) != NULL)
			*comma = '\0';
	}
	buf_adds(b, "From: ");
	if (name != NULL && str_trim(name)[0] != '\0') {
		cleanup_hdr_phrase(b, str_trim(name));
		buf_addc(b, ' ');
	}
	buf_addc(b, '<');
	add_clean(b, c->sender);
	buf_adds(b, ">\n");
	free(name);
}

/* The trimmed, unfolded value of a field, for the log. */
static char *
field_text(const struct cleanup_hdr *h, size_t i)
{
	const char *v;
	size_t n, k;
	struct buf b;

	cleanup_hdr_value(h, i, &v, &n);
	buf_init(&b, 0);
	for (k = 0; k < n; k++)
		if (v[k] != '\n')
			buf_addc(&b, v[k] == '\t' ? ' ' : v[k]);
	{
		char *s = buf_steal(&b), *t = str_trim(s), *r = xstrdup(t);

		free(s);
		return r;
	}
}

static void
put_attr(struct cleanup *c, const char *name, const char *value)
{
	if (value == NULL || c->status != CLEANUP_OK)
		return;
	if (!value_ok(value, true)) {
		log_qid_warn(c->qid, "attribute %s not kept: bad value", name);
		return;
	}
	if (qfile_put_attr(c->w, name, value) == -1)
		cleanup_fail(c, CLEANUP_TEMP,
		    "4.3.0 queue file write error: attribute record");
}

/*
 * The header is complete: processes it, writes the envelope, the header
 * and (when the message had one or has a body) the separator.
 */
static void
cleanup_flush(struct cleanup *c, bool separator)
{
	char date[CLEANUP_HDR_DATE_SIZE], uid[32];
	struct buf b;
	size_t i;
	long f;

	c->state = CLEANUP_ST_BODY;
	if (c->status != CLEANUP_OK)
		return;
	if ((c->flags & (CLEANUP_F_LOCAL | CLEANUP_F_BOUNCE)) ==
	    CLEANUP_F_LOCAL)
		qualify_header(c);
	if ((c->flags & CLEANUP_F_EXTRACT) != 0)
		extract_rcpts(c);
	if ((c->flags & (CLEANUP_F_LOCAL | CLEANUP_F_EXTRACT)) != 0)
		for (f = cleanup_hdr_find(&c->hdr, "Bcc", 0); f != -1;
		    f = cleanup_hdr_find(&c->hdr, "Bcc", (size_t)f + 1))
			cleanup_hdr_delete(&c->hdr, (size_t)f);
	dedup_rcpts(c);
	/* RFC 5321 §6.3: a loop shows as too many Received: fields. */
	if ((long long)c->hdr.received >= c->hop_max)
		cleanup_fail(c, CLEANUP_PERM, "5.4.6 too many hops");
	if (c->nrcpts == 0)
		cleanup_fail(c, CLEANUP_PERM, "5.1.3 no recipients specified");
	if (c->status != CLEANUP_OK)
		return;

	if (qfile_put_sender(c->w, c->sender) == -1)
		cleanup_fail(c, CLEANUP_TEMP,
		    "4.3.0 queue file write error: sender record");
	put_attr(c, "protocol", c->protocol);
	put_attr(c, "client_name", c->client_name);
	put_attr(c, "client_addr", c->client_addr);
	put_attr(c, "helo", c->helo);
	put_attr(c, "sasl_user", c->sasl_user);
	if (c->uid >= 0) {
		(void)snprintf(uid, sizeof(uid), "%ld", c->uid);
		put_attr(c, "origin_uid", uid);
	}
	put_attr(c, "fullname", c->fullname);
	for (i = 0; i < c->attr_names.n; i++)
		put_attr(c, c->attr_names.v[i], c->attr_values.v[i]);
	for (i = 0; i < c->nrcpts && c->status == CLEANUP_OK; i++)
		if (qfile_put_rcpt(c->w, c->rcpts[i].addr, c->rcpts[i].notify,
		    c->rcpts[i].orcpt) == -1)
			cleanup_fail(c, CLEANUP_TEMP,
			    "4.3.0 queue file write error: recipient record");
	if (c->status != CLEANUP_OK)
		return;

	qfile_begin_content(c->w);
	cleanup_hdr_date(date, qfile_writer_arrival(c->w)->tv_sec);
	buf_init(&b, 0);
	add_received(c, &b, date);
	cleanup_hdr_output(&c->hdr, &b);
	/* RFC 5322 §3.6: Date: and From: are required, Message-ID: SHOULD. */
	if (cleanup_hdr_find(&c->hdr, "Date", 0) == -1)
		buf_addf(&b, "Date: %s\n", date);
	if ((f = cleanup_hdr_find(&c->hdr, "Message-ID", 0)) == -1) {
		c->message_id = xasprintf("<%s@%s>", c->qid, c->myhostname);
		buf_addf(&b, "Message-ID: %s\n", c->message_id);
	} else {
		c->message_id = field_text(&c->hdr, (size_t)f);
	}
	if ((c->flags & (CLEANUP_F_LOCAL | CLEANUP_F_BOUNCE)) ==
	    CLEANUP_F_LOCAL && c->sender[0] != '\0' &&
	    cleanup_hdr_find(&c->hdr, "From", 0) == -1)
		add_from(c, &b);
	if (separator)
		buf_addc(&b, '\n');
	content_put(c, b.data, b.len);
	buf_deinit(&b);
	/* The header is written: its memory can go. */
	cleanup_hdr_deinit(&c->hdr);
	cleanup_hdr_init(&c->hdr, 1, 1);
}

/* One complete header-phase line, line end removed. */
static void
header_line(struct cleanup *c, const char *s, size_t n)
{
	int r;

	if (n == 0) {
		/* RFC 5322 §2.1: the empty line ends the header. */
		cleanup_flush(c, true);
		return;
	}
	if ((r = cleanup_hdr_line(&c->hdr, s, n)) == 1)
		return;
	if (r == -1) {
		cleanup_fail(c, CLEANUP_PERM, c->hdr.error);
		return;
	}
	/* Not a header line: the body starts here, after a separator. */
	cleanup_flush(c, true);
	if (c->status == CLEANUP_OK) {
		content_put(c, s, n);
		content_put(c, "\n", 1);
	}
}

void
cleanup_write(struct cleanup *c, const void *data, size_t n)
{
	const char *p = data, *nl;
	size_t take, len;

	c->size += n;
	if (c->size_max > 0 && c->size > c->size_max)
		cleanup_fail(c, CLEANUP_PERM,
		    "5.3.4 message size exceeds fixed limit");
	while (n > 0 && c->status == CLEANUP_OK &&
	    c->state == CLEANUP_ST_HEADER) {
		nl = memchr(p, '\n', n);
		take = nl != NULL ? (size_t)(nl - p) + 1 : n;
		if (nl == NULL) {
			if (c->line.len + take > c->hdr.field_max + 1) {
				/* Too long for a field: is it one? */
				buf_add(&c->line, p, take);
				if ((c->line.data[0] == ' ' ||
				    c->line.data[0] == '\t' ?
				    c->hdr.n > 0 : cleanup_hdr_field_start(
				    c->line.data, c->line.len) > 0)) {
					cleanup_fail(c, CLEANUP_PERM,
					    "5.6.0 header field too long");
					return;
				}
				cleanup_flush(c, true);
				if (c->status == CLEANUP_OK)
					body_write(c, c->line.data,
					    c->line.len);
				buf_reset(&c->line);
				return;
			}
			buf_add(&c->line, p, take);
			return;
		}
		if (c->line.len > 0) {
			buf_add(&c->line, p, take - 1);
			len = c->line.len;
			if (len > 0 && c->line.data[len - 1] == '\r')
				len--;
			header_line(c, c->line.data, len);
			buf_reset(&c->line);
		} else {
			len = take - 1;
			if (len > 0 && p[len - 1] == '\r')
				len--;
			header_line(c, p, len);
		}
		p += take;
		n -= take;
	}
	if (n > 0 && c->status == CLEANUP_OK)
		body_write(c, p, n);
}

static void
cleanup_free(struct cleanup *c)
{
	size_t i;

	for (i = 0; i < c->nrcpts; i++) {
		free(c->rcpts[i].addr);
		free(c->rcpts[i].notify);
		free(c->rcpts[i].orcpt);
	}
	free(c->rcpts);
	free(c->protocol);
	free(c->client_name);
	free(c->client_addr);
	free(c->helo);
	free(c->sasl_user);
	free(c->tls_info);
	free(c->fullname);
	free(c->myhostname);
	free(c->myorigin);
	free(c->sender);
	free(c->message_id);
	strv_deinit(&c->attr_names);
	strv_deinit(&c->attr_values);
	cleanup_hdr_deinit(&c->hdr);
	buf_deinit(&c->line);
	qfile_writer_abort(&c->w);
	free(c);
}

void
cleanup_prepare(struct cleanup *c)
{
	size_t len;

	if (c->prepared)
		return;
	c->prepared = true;
	if (c->status == CLEANUP_OK && c->state == CLEANUP_ST_HEADER) {
		if (c->line.len > 0) {
			/* A last line without a line end. */
			len = c->line.len;
			if (c->line.data[len - 1] == '\r')
				len--;
			header_line(c, c->line.data, len);
		}
		if (c->status == CLEANUP_OK &&
		    c->state == CLEANUP_ST_HEADER)
			cleanup_flush(c, false);
	}
	if (c->status == CLEANUP_OK) {
		if (c->cr_pending)
			content_put(c, "\r", 1);
		if (c->last != '\n')
			content_put(c, "\n", 1);
		qfile_commit_prepare(c->w);
	}
}

void
cleanup_sync(struct cleanup *c)
{
	ASSERT(c->prepared);
	if (c->status == CLEANUP_OK)
		qfile_commit_sync(c->w);
}

enum cleanup_status
cleanup_finish(struct cleanup **cp, char qid_r[QID_SIZE],
    const char **reason_r)
{
	struct cleanup *c = *cp;
	enum cleanup_status status;
	const char *err;

	*cp = NULL;
	cleanup_prepare(c);
	if (c->status == CLEANUP_OK) {
		if (qfile_commit_end(&c->w, qid_r, &err) == -1) {
			if (str_has_prefix(err, "queue file write error: "))
				err += strlen("queue file write error: ");
			str_fmt_buf(cleanup_reason_buf,
			    sizeof(cleanup_reason_buf),
			    "4.3.0 queue file write error: %s", err);
			cleanup_fail(c, CLEANUP_TEMP, cleanup_reason_buf);
		}
	}
	status = c->status;
	if (status == CLEANUP_OK) {
		char *id = log_escape_str(c->message_id);

		log_qid_info(qid_r, "message-id=%s", id);
		free(id);
		if ((c->flags & CLEANUP_F_NO_WAKEUP) == 0 &&
		    mail_trigger_wakeup(MAIL_TRIGGER_QMGR, &err) == -1) {
			/* Normal when qmgr is not running: it scans anyway. */
		}
		*reason_r = "2.0.0 Ok";
	} else {
		/* Refusals are the caller's to log; a failing disk is not. */
		if (status == CLEANUP_TEMP)
			log_qid_warn(c->qid, "%s", c->reason);
		qid_r[0] = '\0';
		*reason_r = c->reason;
	}
	cleanup_free(c);
	return status;
}

void
cleanup_abort(struct cleanup **cp)
{
	if (*cp == NULL)
		return;
	cleanup_free(*cp);
	*cp = NULL;
}
