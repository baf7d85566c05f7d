/* SPDX-License-Identifier: MIT */
/*
 * MAIL FROM and RCPT TO parameters: the generic esmtp-param syntax of
 * RFC 5321 §4.1.2 first, then each keyword's own value syntax, then
 * whether this session offers it.  Fails closed: the first problem ends
 * the parse with a complete reply and nothing half-filled.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "str.h"
#include "xalloc.h"

#include "smtpd_esmtp.h"

/* RFC 3461 §4.4: an ENVID value is at most 100 characters. */
#define ESMTP_ENVID_MAX		100
/* RFC 3461 §4.2: "The entire ORCPT parameter MAY be up to 500 characters". */
#define ESMTP_ORCPT_MAX		500
/* RFC 1870 §3: size-value ::= 1*20DIGIT. */
#define ESMTP_SIZE_DIGITS	20
/* Longest keyword echoed in a reply. */
#define ESMTP_KEYWORD_ECHO	32

/* One keyword=value pair, pointing into the caller's bytes. */
struct esmtp_param {
	const char	*kw;
	size_t		 kw_len;
	const char	*val;		/* NULL: no "=" */
	size_t		 val_len;
};

static int
esmtp_fail(char reply[SMTPD_ESMTP_REPLY_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
esmtp_fail(char reply[SMTPD_ESMTP_REPLY_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(reply, SMTPD_ESMTP_REPLY_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

static bool
esmtp_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static bool
esmtp_kw_is(const struct esmtp_param *pa, const char *name)
{
	return strlen(name) == pa->kw_len &&
	    strncasecmp(pa->kw, name, pa->kw_len) == 0;
}

static bool
esmtp_val_is(const struct esmtp_param *pa, const char *name)
{
	return strlen(name) == pa->val_len &&
	    strncasecmp(pa->val, name, pa->val_len) == 0;
}

/*
 * RFC 5321 §4.1.2: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-");
 * esmtp-value = 1*(%d33-60 / %d62-126), and with SMTPUTF8 offered also
 * UTF-8 non-ASCII characters (RFC 6531 §3.3), which must be well-formed.
 */
static bool
esmtp_syntax_ok(const struct esmtp_param *pa, unsigned flags)
{
	size_t i, k;
	unsigned char c;

	if (pa->kw_len == 0 || !esmtp_is_alnum(pa->kw[0]))
		return false;
	for (i = 1; i < pa->kw_len; i++)
		if (!esmtp_is_alnum(pa->kw[i]) && pa->kw[i] != '-')
			return false;
	if (pa->val == NULL)
		return true;
	if (pa->val_len == 0)
		return false;
	for (i = 0; i < pa->val_len; i += k) {
		c = (unsigned char)pa->val[i];
		k = 1;
		if (c >= 33 && c <= 126 && c != '=')
			continue;
		if (c < 0x80 || (flags & SMTPD_ESMTP_SMTPUTF8) == 0)
			return false;
		if ((k = addr_utf8_char(pa->val + i, pa->val_len - i)) == 0)
			return false;
	}
	return true;
}

static int
esmtp_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;		/* RFC 3461 §4: hexchar is upper case only */
}

/*
 * RFC 3461 §4: xtext = *( xchar / hexchar ), xchar 33..126 except "+"
 * and "=", hexchar "+" and two upper-case hex digits.  Where the decoded
 * text must be printable US-ASCII (ENVID §4.4, ORCPT §4.2, AUTH), every
 * decoded byte is checked to be 32..126: no NUL, CR, LF or control
 * character can be smuggled into the queue file or a DSN through "+0D".
 */
static bool
esmtp_xtext_ok(const char *s, size_t n)
{
	int hi, lo, v;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			if (n - i < 3 || (hi = esmtp_hex(s[i + 1])) < 0 ||
			    (lo = esmtp_hex(s[i + 2])) < 0)
				return false;
			v = hi << 4 | lo;
			if (v < 32 || v > 126)
				return false;
			i += 2;
			continue;
		}
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126 ||
		    s[i] == '=')
			return false;
	}
	return true;
}

/*
 * RFC 6533 §3 utf-8-addr-xtext: 1*(QCHAR / EmbeddedUnicodeChar), QCHAR
 * printable ASCII except "\", "+" and "=", EmbeddedUnicodeChar "\x{"
 * HEXPOINT "}".  HEXPOINT is upper-case hex, two to six digits, with a
 * leading zero only in the two-digit form: the characters that cannot
 * appear as themselves (controls, space, "+", "=", "\", DEL), or
 * U+0080..U+10FFFF without the surrogates.  The raw UTF-8 form (utf-8-addr-unitext) is
 * refused by the caller: the queue file stores ORCPT as ASCII xtext.
 */
static bool
esmtp_utf8_xtext_ok(const char *s, size_t n)
{
	size_t i, j, digits;
	unsigned long cp;
	int h;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] != '\\') {
			if ((unsigned char)s[i] < 33 ||
			    (unsigned char)s[i] > 126 || s[i] == '+' ||
			    s[i] == '=')
				return false;
			continue;
		}
		if (n - i < 5 || s[i + 1] != 'x' || s[i + 2] != '{')
			return false;
		cp = 0;
		for (j = i + 3; j < n && s[j] != '}'; j++) {
			if ((h = esmtp_hex(s[j])) < 0 || j - (i + 3) >= 6)
				return false;
			cp = cp << 4 | (unsigned long)h;
		}
		digits = j - (i + 3);
		if (j == n || digits < 2 || (digits > 2 && s[i + 3] == '0'))
			return false;
		if (cp >= 0x80) {
			if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
				return false;
		} else if (digits != 2 || cp == 0 || !(cp <= 0x20 ||
		    cp == '+' || cp == '=' || cp == '\\' || cp == 0x7F)) {
			return false;
		}
		i = j;
	}
	return true;
}

/* RFC 5322 atext, for the ORCPT addr-type (RFC 3461 §4.2: an atom). */
static bool
esmtp_atom_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!esmtp_is_alnum(s[i]) &&
		    strchr("!#$%&'*+-/=?^_`{|}~", s[i]) == NULL)
			return false;
	return true;
}

static int
esmtp_unsupported(const struct esmtp_param *pa,
    char reply[SMTPD_ESMTP_REPLY_MAX])
{
	return esmtp_fail(reply, "555 5.5.4 Unsupported option: %.*s",
	    (int)(pa->kw_len < ESMTP_KEYWORD_ECHO ? pa->kw_len :
	    ESMTP_KEYWORD_ECHO), pa->kw);
}

/*
 * Splits s into parameters separated by one or more SP; leading and
 * trailing SP are allowed, nothing else separates (a TAB is a syntax
 * error).  Calls fn for each; stops at the first failure.
 */
typedef int esmtp_param_fn(const struct esmtp_param *pa, unsigned flags,
    void *arg, char reply[SMTPD_ESMTP_REPLY_MAX]);

static int
esmtp_walk(const char *s, size_t n, unsigned flags, esmtp_param_fn *fn,
    void *arg, char reply[SMTPD_ESMTP_REPLY_MAX])
{
	struct esmtp_param pa;
	const char *eq;
	size_t i = 0, j;

	for (;;) {
		while (i < n && s[i] == ' ')
			i++;
		if (i == n)
			return 0;
		for (j = i; j < n && s[j] != ' '; j++)
			;
		pa.kw = s + i;
		eq = memchr(s + i, '=', j - i);
		if (eq == NULL) {
			pa.kw_len = j - i;
			pa.val = NULL;
			pa.val_len = 0;
		} else {
			pa.kw_len = (size_t)(eq - (s + i));
			pa.val = eq + 1;
			pa.val_len = (size_t)(s + j - pa.val);
		}
		if (!esmtp_syntax_ok(&pa, flags))
			return esmtp_fail(reply,
			    "501 5.5.4 Syntax error in parameters");
		/* RFC 5321 §4.1.1.11: parameters need the extensions. */
		if ((flags & SMTPD_ESMTP_EHLO) == 0)
			return esmtp_unsupported(&pa, reply);
		if (fn(&pa, flags, arg, reply) == -1)
			return -1;
		i = j;
	}
}

static int
esmtp_bad_value(const struct esmtp_param *pa,
    char reply[SMTPD_ESMTP_REPLY_MAX])
{
	return esmtp_fail(reply, "501 5.5.4 Bad %.*s parameter value",
	    (int)pa->kw_len, pa->kw);
}

static int
esmtp_duplicate(const struct esmtp_param *pa,
    char reply[SMTPD_ESMTP_REPLY_MAX])
{
	return esmtp_fail(reply, "501 5.5.4 Duplicate %.*s parameter",
	    (int)pa->kw_len, pa->kw);
}

/* MAIL FROM parameters. */
struct esmtp_mail_ctx {
	struct smtpd_mail_params *p;
	long long	 size_limit;
	bool		 seen_body, seen_utf8, seen_tls;
};

/* RFC 1870 §3: SIZE=1*20DIGIT; over the limit is 552 5.3.4 (§6.1). */
static int
esmtp_size(struct esmtp_mail_ctx *c, const struct esmtp_param *pa,
    char reply[SMTPD_ESMTP_REPLY_MAX])
{
	long long v = 0;

	if (c->p->size >= 0)
		return esmtp_duplicate(pa, reply);
	if (pa->val == NULL || pa->val_len > ESMTP_SIZE_DIGITS)
		return esmtp_bad_value(pa, reply);
	for (size_t i = 0; i < pa->val_len; i++) {
		if (pa->val[i] < '0' || pa->val[i] > '9')
			return esmtp_bad_value(pa, reply);
		/* Too large to count is larger than any limit. */
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, pa->val[i] - '0', &v))
			return esmtp_fail(reply,
			    "552 5.3.4 Message size exceeds fixed limit");
	}
	if (c->size_limit > 0 && v > c->size_limit)
		return esmtp_fail(reply,
		    "552 5.3.4 Message size exceeds fixed limit");
	c->p->size = v;
	return 0;
}

/* Copies a validated value into a heap string (never contains NUL). */
static char *
esmtp_dup_val(const struct esmtp_param *pa)
{
	return xstrndup(pa->val, pa->val_len);
}

static int
esmtp_mail_param(const struct esmtp_param *pa, unsigned flags, void *arg,
    char reply[SMTPD_ESMTP_REPLY_MAX])
{
	struct esmtp_mail_ctx *c = arg;
	struct smtpd_mail_params *p = c->p;

	if (esmtp_kw_is(pa, "SIZE"))
		return esmtp_size(c, pa, reply);
	if (esmtp_kw_is(pa, "BODY")) {
		/* RFC 6152 §2; BINARYMIME (RFC 3030) is not offered. */
		if (c->seen_body)
			return esmtp_duplicate(pa, reply);
		c->seen_body = true;
		if (pa->val != NULL && esmtp_val_is(pa, "7BIT"))
			p->body = SMTPD_BODY_7BIT;
		else if (pa->val != NULL && esmtp_val_is(pa, "8BITMIME"))
			p->body = SMTPD_BODY_8BITMIME;
		else if (pa->val != NULL && esmtp_val_is(pa, "BINARYMIME"))
			return esmtp_fail(reply,
			    "555 5.5.4 Unsupported option: BODY=BINARYMIME");
		else
			return esmtp_bad_value(pa, reply);
		return 0;
	}
	if (esmtp_kw_is(pa, "SMTPUTF8")) {
		/* RFC 6531 §3.4: no value. */
		if ((flags & SMTPD_ESMTP_SMTPUTF8) == 0)
			return esmtp_unsupported(pa, reply);
		if (c->seen_utf8)
			return esmtp_duplicate(pa, reply);
		if (pa->val != NULL)
			return esmtp_bad_value(pa, reply);
		c->seen_utf8 = p->smtputf8 = true;
		return 0;
	}
	if (esmtp_kw_is(pa, "REQUIRETLS")) {
		/*
		 * RFC 8689 §2: the option is only specified in a session
		 * that uses TLS, where the extension is offered; elsewhere
		 * "530 5.7.10" (RFC 5248: Encryption Needed) tells the
		 * client what is missing rather than that the keyword is
		 * unknown.  No value.
		 */
		if ((flags & SMTPD_ESMTP_TLS) == 0)
			return esmtp_fail(reply,
			    "530 5.7.10 REQUIRETLS needs TLS");
		if (c->seen_tls)
			return esmtp_duplicate(pa, reply);
		if (pa->val != NULL)
			return esmtp_bad_value(pa, reply);
		c->seen_tls = p->requiretls = true;
		return 0;
	}
	if (esmtp_kw_is(pa, "AUTH")) {
		/* RFC 4954 §5: AUTH=xtext, "<>" for an unknown sender. */
		if ((flags & SMTPD_ESMTP_AUTH) == 0)
			return esmtp_unsupported(pa, reply);
		if (p->auth != NULL)
			return esmtp_duplicate(pa, reply);
		if (pa->val == NULL || !esmtp_xtext_ok(pa->val, pa->val_len))
			return esmtp_bad_value(pa, reply);
		p->auth = esmtp_dup_val(pa);
		return 0;
	}
	if (esmtp_kw_is(pa, "RET")) {
		/* RFC 3461 §4.3: RET=FULL|HDRS. */
		if ((flags & SMTPD_ESMTP_DSN) == 0)
			return esmtp_unsupported(pa, reply);
		if (p->ret[0] != '\0')
			return esmtp_duplicate(pa, reply);
		if (pa->val != NULL && esmtp_val_is(pa, "FULL"))
			(void)str_copy(p->ret, "FULL", sizeof(p->ret));
		else if (pa->val != NULL && esmtp_val_is(pa, "HDRS"))
			(void)str_copy(p->ret, "HDRS", sizeof(p->ret));
		else
			return esmtp_bad_value(pa, reply);
		return 0;
	}
	if (esmtp_kw_is(pa, "ENVID")) {
		/* RFC 3461 §4.4: xtext, at most 100 characters. */
		if ((flags & SMTPD_ESMTP_DSN) == 0)
			return esmtp_unsupported(pa, reply);
		if (p->envid != NULL)
			return esmtp_duplicate(pa, reply);
		if (pa->val == NULL || pa->val_len > ESMTP_ENVID_MAX ||
		    !esmtp_xtext_ok(pa->val, pa->val_len))
			return esmtp_bad_value(pa, reply);
		p->envid = esmtp_dup_val(pa);
		return 0;
	}
	return esmtp_unsupported(pa, reply);
}

int
smtpd_esmtp_mail(const char *s, size_t n, unsigned flags,
    long long size_limit, struct smtpd_mail_params *p,
    char reply[SMTPD_ESMTP_REPLY_MAX])
{
	struct esmtp_mail_ctx c = { .p = p, .size_limit = size_limit };

	memset(p, 0, sizeof(*p));
	p->size = -1;
	reply[0] = '\0';
	if (esmtp_walk(s, n, flags, esmtp_mail_param, &c, reply) == -1) {
		smtpd_mail_params_deinit(p);
		return -1;
	}
	return 0;
}

/*
 * RFC 3461 §4.1: NOTIFY="NEVER" or a comma list of SUCCESS, FAILURE and
 * DELAY, each at most once; stored upper case in the order given.
 */
static char *
esmtp_notify(const struct esmtp_param *pa)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	const char *v = pa->val, *end = pa->val + pa->val_len, *comma;
	unsigned seen = 0;
	size_t i, k;
	char *out;

	if (esmtp_val_is(pa, "NEVER"))
		return xstrdup("NEVER");
	for (;;) {
		comma = memchr(v, ',', (size_t)(end - v));
		k = (size_t)((comma == NULL ? end : comma) - v);
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i]) == k &&
			    strncasecmp(v, words[i], k) == 0)
				break;
		if (i == sizeof(words) / sizeof(words[0]) || (seen & (1u << i)) != 0)
			return NULL;
		seen |= 1u << i;
		if (comma == NULL)
			break;
		v = comma + 1;
	}
	out = xstrndup(pa->val, pa->val_len);
	for (char *q = out; *q != '\0'; q++)
		if (*q >= 'a' && *q <= 'z')
			*q = (char)(*q - 'a' + 'A');
	return out;
}

/* RFC 3461 §4.2: ORCPT=addr-type ";" xtext. */
static int
esmtp_orcpt(struct smtpd_rcpt_params *p, const struct esmtp_param *pa,
    char reply[SMTPD_ESMTP_REPLY_MAX])
{
	const char *semi;
	size_t type_len, rest;

	if (pa->val == NULL || pa->val_len > ESMTP_ORCPT_MAX ||
	    (semi = memchr(pa->val, ';', pa->val_len)) == NULL)
		return esmtp_bad_value(pa, reply);
	type_len = (size_t)(semi - pa->val);
	rest = pa->val_len - type_len - 1;
	if (!esmtp_atom_ok(pa->val, type_len) || rest == 0)
		return esmtp_bad_value(pa, reply);
	if (type_len == 5 && strncasecmp(pa->val, "utf-8", 5) == 0) {
		/* RFC 6533 §3: the 7-bit form only (see above). */
		for (size_t i = 0; i < rest; i++)
			if ((unsigned char)semi[1 + i] >= 0x80)
				return esmtp_fail(reply, "501 5.5.4 ORCPT "
				    "utf-8-addr-unitext is not supported, use "
				    "utf-8-addr-xtext");
		if (!esmtp_utf8_xtext_ok(semi + 1, rest))
			return esmtp_bad_value(pa, reply);
	} else if (!esmtp_xtext_ok(semi + 1, rest)) {
		return esmtp_bad_value(pa, reply);
	}
	p->orcpt = esmtp_dup_val(pa);
	return 0;
}

static int
esmtp_rcpt_param(const struct esmtp_param *pa, unsigned flags, void *arg,
    char reply[SMTPD_ESMTP_REPLY_MAX])
{
	struct smtpd_rcpt_params *p = arg;

	if (esmtp_kw_is(pa, "NOTIFY")) {
		if ((flags & SMTPD_ESMTP_DSN) == 0)
			return esmtp_unsupported(pa, reply);
		if (p->notify != NULL)
			return esmtp_duplicate(pa, reply);
		if (pa->val == NULL || (p->notify = esmtp_notify(pa)) == NULL)
			return esmtp_bad_value(pa, reply);
		return 0;
	}
	if (esmtp_kw_is(pa, "ORCPT")) {
		if ((flags & SMTPD_ESMTP_DSN) == 0)
			return esmtp_unsupported(pa, reply);
		if (p->orcpt != NULL)
			return esmtp_duplicate(pa, reply);
		return esmtp_orcpt(p, pa, reply);
	}
	return esmtp_unsupported(pa, reply);
}

int
smtpd_esmtp_rcpt(const char *s, size_t n, unsigned flags,
    struct smtpd_rcpt_params *p, char reply[SMTPD_ESMTP_REPLY_MAX])
{
	memset(p, 0, sizeof(*p));
	reply[0] = '\0';
	if (esmtp_walk(s, n, flags, esmtp_rcpt_param, p, reply) == -1) {
		smtpd_rcpt_params_deinit(p);
		return -1;
	}
	return 0;
}

void
smtpd_mail_params_deinit(struct smtpd_mail_params *p)
{
	free(p->envid);
	free(p->auth);
	memset(p, 0, sizeof(*p));
	p->size = -1;
}

void
smtpd_rcpt_params_deinit(struct smtpd_rcpt_params *p)
{
	free(p->notify);
	free(p->orcpt);
	memset(p, 0, sizeof(*p));
}
