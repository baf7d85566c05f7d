/* SPDX-License-Identifier: MIT */
/*
 * Delivery status notifications (RFC 3464 multipart/report, RFC 3462/6522
 * report type, RFC 3461 DSN options): builds the whole message qmgr hands
 * to cleanup with the null sender.  Every value that came from outside
 * (addresses, diagnostic texts, envelope IDs) is made safe for a header
 * line here: control characters become "?", and in the machine-readable
 * part 8-bit bytes too, since message/delivery-status is US-ASCII
 * (RFC 3464 §2.1; message/global-delivery-status is not used).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "str.h"

#include "cleanup_hdr.h"
#include "dsn_report.h"

/* Cut diagnostic texts here: lines stay far below RFC 5322 §2.1.1's 998. */
#define DSN_TEXT_MAX		900
/* Fold structured lines at about this column. */
#define DSN_FOLD_COL		76

/* A writer that remembers the first overflow instead of failing at once. */
struct out {
	struct buf	*b;
	bool		 err;
};

static void
put(struct out *o, const char *s)
{
	if (!o->err && buf_puts(o->b, s) == -1)
		o->err = true;
}

static void
putn(struct out *o, const char *s, size_t n)
{
	if (!o->err && buf_append(o->b, s, n) == -1)
		o->err = true;
}

static void
putf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
putf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->err)
		return;
	va_start(ap, fmt);
	if (buf_vprintf(o->b, fmt, ap) == -1)
		o->err = true;
	va_end(ap);
}

/*
 * Appends s, at most max bytes of it, with control characters (and 8-bit
 * bytes unless eight_ok) replaced by "?".
 */
static void
put_safe(struct out *o, const char *s, size_t max, bool eight_ok)
{
	size_t i, start = 0;

	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !eight_ok)) {
			putn(o, s + start, i - start);
			put(o, "?");
			start = i + 1;
		}
	}
	putn(o, s + start, i - start);
}

/*
 * prefix ("Name: ") and text, folded at spaces near DSN_FOLD_COL (RFC 5322 §2.2.3: the
 * fold goes before existing white space), text cut at DSN_TEXT_MAX and
 * made US-ASCII.  A word longer than a line is kept whole: the cut keeps
 * it under 998 octets.
 */
static void
put_folded(struct out *o, const char *prefix, const char *text)
{
	size_t col, i = 0, len = strlen(text), w;

	if (len > DSN_TEXT_MAX)
		len = DSN_TEXT_MAX;
	put(o, prefix);
	col = strlen(prefix);
	while (i < len) {
		/* One word with the spaces in front of it. */
		w = i;
		while (w < len && text[w] == ' ')
			w++;
		while (w < len && text[w] != ' ')
			w++;
		if (col + (w - i) > DSN_FOLD_COL && col > strlen(prefix) &&
		    text[i] == ' ') {
			put(o, "\n");
			col = 0;
		}
		{
			char tmp[DSN_TEXT_MAX + 1];

			memcpy(tmp, text + i, w - i);
			tmp[w - i] = '\0';
			put_safe(o, tmp, sizeof(tmp), false);
		}
		col += w - i;
		i = w;
	}
	put(o, "\n");
}

static void
put_date(struct out *o, const char *name, int64_t t)
{
	char date[CLEANUP_HDR_DATE_SIZE];

	cleanup_hdr_date(date, (time_t)t);
	putf(o, "%s: %s\n", name, date);
}

/* RFC 3461 §4 xtext decoding; false on malformed input. */
static bool
xtext_decode(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	const char *h1, *h2;

	for (; *s != '\0'; s++) {
		char c = *s;

		if (c == '+') {
			if (s[1] == '\0' || s[2] == '\0' ||
			    (h1 = strchr(hex, s[1])) == NULL ||
			    (h2 = strchr(hex, s[2])) == NULL)
				return false;
			c = (char)((h1 - hex) * 16 + (h2 - hex));
			s += 2;
		} else if ((unsigned char)c < 33 || (unsigned char)c > 126 ||
		    c == '=') {
			return false;
		}
		if (o + 1 >= size)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

/* True when the boundary occurs in n bytes at s (NULL-safe). */
static bool
contains(const char *s, size_t n, const char *boundary)
{
	return s != NULL && memmem(s, n, boundary, strlen(boundary)) != NULL;
}

static bool
str_contains(const char *s, const char *boundary)
{
	return s != NULL && contains(s, strlen(s), boundary);
}

static bool
boundary_used(const struct dsn_report *r, const char *boundary)
{
	size_t i;

	if (contains(r->content, r->content_len, boundary) ||
	    str_contains(r->to, boundary) || str_contains(r->envid, boundary))
		return true;
	for (i = 0; i < r->nrcpts; i++) {
		const struct dsn_report_rcpt *rc = &r->rcpts[i];

		if (str_contains(rc->addr, boundary) ||
		    str_contains(rc->orcpt, boundary) ||
		    str_contains(rc->relay, boundary) ||
		    str_contains(rc->text, boundary))
			return true;
	}
	return false;
}

/* True when text starts like an SMTP reply: three digits and a space. */
static bool
is_smtp_reply(const char *t)
{
	return t[0] >= '2' && t[0] <= '5' && t[1] >= '0' && t[1] <= '9' &&
	    t[2] >= '0' && t[2] <= '9' && (t[3] == ' ' || t[3] == '-');
}

static bool
relay_is_host(const char *relay)
{
	return relay != NULL && relay[0] != '\0' && strcmp(relay, "-") != 0 &&
	    strcmp(relay, "local") != 0 && strcmp(relay, "virtual") != 0 &&
	    strcmp(relay, "none") != 0;
}

static void
human_part(struct out *o, const struct dsn_report *r)
{
	size_t i;

	putf(o, "This is the mail system at host ");
	put_safe(o, r->myhostname, 255, false);
	put(o, ".\n\n");
	switch (r->kind) {
	case DSN_REPORT_FAILURE:
		put(o, "I'm sorry to have to inform you that your message "
		    "could not\nbe delivered to one or more recipients. "
		    "It's attached below.\n\nFor further assistance, please "
		    "send mail to postmaster.\n\nIf you do so, please "
		    "include this problem report. You can\ndelete your own "
		    "text from the attached returned message.\n");
		break;
	case DSN_REPORT_DELAY:
		put(o, "####################################################"
		    "################\n# THIS IS A WARNING ONLY.  YOU DO "
		    "NOT NEED TO RESEND YOUR MESSAGE. #\n##################"
		    "##################################################\n\n"
		    "Your message could not be delivered yet.  ");
		if (r->retry_until > 0) {
			char date[CLEANUP_HDR_DATE_SIZE];

			cleanup_hdr_date(date, (time_t)r->retry_until);
			putf(o, "It will be retried\nuntil %s.\n", date);
		} else {
			put(o, "It will be retried.\n");
		}
		put(o, "\nFor further assistance, please send mail to "
		    "postmaster.\n");
		break;
	case DSN_REPORT_SUCCESS:
		put(o, "Your message was successfully delivered to the "
		    "destination(s)\nlisted below. If the message was "
		    "delivered to mailbox you will\nreceive no further "
		    "notifications. Otherwise you may still receive\n"
		    "notifications of mail delivery errors from other "
		    "systems.\n");
		break;
	}
	put(o, "\n                   The mail system\n");
	for (i = 0; i < r->nrcpts; i++) {
		const struct dsn_report_rcpt *rc = &r->rcpts[i];
		const char *text = rc->text != NULL && rc->text[0] != '\0' ?
		    rc->text : rc->action != NULL ? rc->action : "";

		put(o, "\n<");
		put_safe(o, rc->addr != NULL ? rc->addr : "", 512, true);
		put(o, ">: ");
		put_safe(o, text, DSN_TEXT_MAX, true);
		put(o, "\n");
	}
}

static void
status_part(struct out *o, const struct dsn_report *r)
{
	char orcpt[1024];
	size_t i;

	/* RFC 3464 §2.2: per-message fields. */
	put(o, "Reporting-MTA: dns; ");
	put_safe(o, r->myhostname, 255, false);
	put(o, "\nX-Tern-Queue-ID: ");
	put_safe(o, r->qid, 64, false);
	put(o, "\n");
	if (r->envid != NULL && r->envid[0] != '\0')	/* §2.2.1 */
		put_folded(o, "Original-Envelope-Id: ", r->envid);
	if (r->arrival > 0)				/* §2.2.5 */
		put_date(o, "Arrival-Date", r->arrival);
	/* §2.3: per-recipient fields, each group after an empty line. */
	for (i = 0; i < r->nrcpts; i++) {
		const struct dsn_report_rcpt *rc = &r->rcpts[i];
		const char *semi;

		put(o, "\n");
		/* §2.3.1, RFC 3461 §4.2: ORCPT is "addr-type;xtext". */
		if (rc->orcpt != NULL && strcmp(rc->orcpt, "-") != 0 &&
		    (semi = strchr(rc->orcpt, ';')) != NULL &&
		    xtext_decode(semi + 1, orcpt, sizeof(orcpt))) {
			char type[32];
			size_t tl = (size_t)(semi - rc->orcpt);

			if (tl > 0 && tl < sizeof(type)) {
				memcpy(type, rc->orcpt, tl);
				type[tl] = '\0';
				str_lower(type);
				put(o, "Original-Recipient: ");
				put_safe(o, type, sizeof(type), false);
				put(o, ";");
				put_safe(o, orcpt, sizeof(orcpt), false);
				put(o, "\n");
			}
		}
		put(o, "Final-Recipient: rfc822; ");		/* §2.3.2 */
		put_safe(o, rc->addr != NULL ? rc->addr : "", 512, false);
		put(o, "\nAction: ");				/* §2.3.3 */
		put_safe(o, rc->action != NULL ? rc->action : "failed", 32,
		    false);
		put(o, "\nStatus: ");				/* §2.3.4 */
		put_safe(o, rc->dsn != NULL ? rc->dsn : "5.0.0", 32, false);
		put(o, "\n");
		if (relay_is_host(rc->relay)) {			/* §2.3.5 */
			put(o, "Remote-MTA: dns; ");
			put_safe(o, rc->relay, 255, false);
			put(o, "\n");
		}
		if (rc->text != NULL && rc->text[0] != '\0')	/* §2.3.6 */
			put_folded(o, is_smtp_reply(rc->text) ?
			    "Diagnostic-Code: smtp; " :
			    "Diagnostic-Code: x-unix; ",
			    rc->text);
		if (rc->last_attempt > 0)			/* §2.3.7 */
			put_date(o, "Last-Attempt-Date", rc->last_attempt);
		if (r->kind == DSN_REPORT_DELAY && r->retry_until > 0)
			put_date(o, "Will-Retry-Until", r->retry_until);
	}
}

/* Length of the header of a message: up to and with the empty line. */
static size_t
header_len(const char *s, size_t n)
{
	const char *p;

	if (n > 0 && s[0] == '\n')
		return 0;
	p = memmem(s, n, "\n\n", 2);
	return p == NULL ? n : (size_t)(p - s) + 1;
}

static bool
has_8bit(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

int
dsn_report_compose(const struct dsn_report *r, struct buf *out,
    const char **err_r)
{
	struct out o = { out, false };
	size_t start = out->len, hlen = 0, n, i;
	char boundary[512];
	const char *subject;
	bool full, eight;

	switch (r->kind) {
	case DSN_REPORT_DELAY:
		subject = "Delayed Mail (still being retried)";
		break;
	case DSN_REPORT_SUCCESS:
		subject = "Successful Mail Delivery Report";
		break;
	default:
		subject = "Undelivered Mail Returned to Sender";
		break;
	}
	/* RFC 2046 §5.1.1: the boundary must not occur in the parts. */
	(void)snprintf(boundary, sizeof(boundary), "%s/%s", r->qid,
	    r->myhostname);
	for (n = 1; boundary_used(r, boundary); n++)
		(void)snprintf(boundary, sizeof(boundary), "%s/%s/%zu", r->qid,
		    r->myhostname, n);
	for (i = 0; boundary[i] != '\0'; i++)	/* RFC 2046 bcharsnospace */
		if ((unsigned char)boundary[i] <= ' ' || boundary[i] == '"' ||
		    (unsigned char)boundary[i] >= 0x7f)
			boundary[i] = '_';

	full = r->content != NULL && !r->ret_hdrs &&
	    (r->size_limit == 0 || r->content_len <= r->size_limit);
	if (r->content != NULL && !full) {
		hlen = header_len(r->content, r->content_len);
		if (r->size_limit > 0 && hlen > r->size_limit) {
			/* Cut the header at a line end within the limit. */
			const char *p = r->content + r->size_limit;

			while (p > r->content && p[-1] != '\n')
				p--;
			hlen = (size_t)(p - r->content);
		}
	}
	eight = r->content != NULL && has_8bit(r->content, full ?
	    r->content_len : hlen);

	put(&o, "From: Mail Delivery System <MAILER-DAEMON@");
	put_safe(&o, r->myhostname, 255, false);
	put(&o, ">\nTo: <");
	put_safe(&o, r->to != NULL ? r->to : "", 512, true);
	putf(&o, ">\nSubject: %s\nAuto-Submitted: auto-replied\n"
	    "MIME-Version: 1.0\nContent-Type: multipart/report; "
	    "report-type=delivery-status;\n\tboundary=\"%s\"\n"
	    "Content-Transfer-Encoding: 8bit\n\n"
	    "This is a MIME-encapsulated message.\n\n", subject, boundary);

	putf(&o, "--%s\nContent-Description: Notification\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n\n", boundary);
	human_part(&o, r);

	putf(&o, "\n--%s\nContent-Description: Delivery report\n"
	    "Content-Type: message/delivery-status\n\n", boundary);
	status_part(&o, r);

	if (r->content != NULL) {
		const char *ctype = full ? "message/rfc822" :
		    "text/rfc822-headers";
		const char *desc = r->kind == DSN_REPORT_FAILURE ?
		    "Undelivered Message" : r->kind == DSN_REPORT_DELAY ?
		    "Delayed Message" : "Delivered Message";

		if (!full)
			desc = r->kind == DSN_REPORT_FAILURE ?
			    "Undelivered Message Headers" :
			    "Message Headers";
		putf(&o, "\n--%s\nContent-Description: %s\n"
		    "Content-Type: %s\n", boundary, desc, ctype);
		if (eight)
			put(&o, "Content-Transfer-Encoding: 8bit\n");
		put(&o, "\n");
		n = full ? r->content_len : hlen;
		putn(&o, r->content, n);
		if (n > 0 && r->content[n - 1] != '\n')
			put(&o, "\n");
	}
	putf(&o, "\n--%s--\n", boundary);
	if (o.err) {
		buf_truncate(out, start);
		if (err_r != NULL)
			*err_r = "delivery status report too large";
		return -1;
	}
	return 0;
}
