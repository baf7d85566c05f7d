/* SPDX-License-Identifier: MIT */
/*
 * The message as local writes it out: the delivery status record, the
 * header lines local prepends (Return-Path: and Delivered-To:, as
 * Postfix's local does; RFC 5321 section 4.4 leaves Return-Path to the
 * final delivery) and the Delivered-To: loop test.
 */
#include "config.h"

#include <errno.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "str.h"

#include "local.h"

const char *
local_errno_dsn(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EFBIG ? "4.2.2" : "4.2.0";
}

void
local_status_set(struct local_status *st, enum deliver_status status,
    const char *dsn, const char *fmt, ...)
{
	va_list ap;

	st->status = status;
	str_copy(st->dsn, dsn, sizeof(st->dsn));
	va_start(ap, fmt);
	(void)vsnprintf(st->text, sizeof(st->text), fmt, ap);
	va_end(ap);
}

void
local_msg_prefix(const struct local_msg *msg, struct buf *out)
{
	buf_addf(out, "Return-Path: <%s>\n", msg->sender);
	buf_addf(out, "Delivered-To: %s\n", msg->rcpt);
}

/* True when the field value [p, end) names addr. */
static bool
value_is(const char *p, const char *end, const char *addr)
{
	size_t n = strlen(addr);

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r'))
		end--;
	if (end - p >= 2 && *p == '<' && end[-1] == '>') {
		p++;
		end--;
	}
	return (size_t)(end - p) == n && strncasecmp(p, addr, n) == 0;
}

bool
local_msg_has_delivered_to(const struct local_msg *msg, const char *addr)
{
	static const char field[] = "Delivered-To:";
	const char *p = msg->data, *end = msg->data + msg->len, *nl;

	/* The header ends at the first empty line (RFC 5322 section 2.1). */
	while (p < end && *p != '\n') {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if ((size_t)(nl - p) >= sizeof(field) - 1 &&
		    strncasecmp(p, field, sizeof(field) - 1) == 0 &&
		    value_is(p + sizeof(field) - 1, nl, addr))
			return true;
		p = nl + 1;
	}
	return false;
}
