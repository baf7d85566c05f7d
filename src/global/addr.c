/* SPDX-License-Identifier: MIT */
/*
 * Address validation and quoting: UTF-8 well-formedness (RFC 3629), the
 * RFC 5321 §4.1.2 Local-part, Domain and §4.1.3 address-literal grammars
 * with the §4.5.3.1 size limits, conversion between the internal (unquoted)
 * and external (RFC 5321) local part, and helpers for routing code.  The
 * SMTP path parser is in addr_path.c, the RFC 5322 list parser in
 * addr_hdr.c; see addr.h for the contracts.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "str.h"
#include "addr.h"
#include "addr_priv.h"

size_t
addr_utf8_char(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	/*
	 * RFC 3629 §4 UTF8-2/3/4: the second byte's range excludes overlong
	 * forms (E0, F0), surrogates (ED) and values above U+10FFFF (F4).
	 */
	if (n == 0 || u[0] < 0xc2 || u[0] > 0xf4)
		return 0;
	if (u[0] <= 0xdf)
		len = 2;
	else if (u[0] <= 0xef)
		len = 3;
	else
		len = 4;
	if (n < len)
		return 0;
	if (u[0] == 0xe0)
		lo = 0xa0;
	else if (u[0] == 0xed)
		hi = 0x9f;
	else if (u[0] == 0xf0)
		lo = 0x90;
	else if (u[0] == 0xf4)
		hi = 0x8f;
	if (u[1] < lo || u[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (u[i] < 0x80 || u[i] > 0xbf)
			return 0;
	/* SECURITY: C1 controls are control characters in any encoding. */
	if (u[0] == 0xc2 && u[1] <= 0x9f)
		return 0;
	return len;
}

bool
addr_utf8_valid(const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = addr_utf8_char(s + i, n - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

/*
 * Checks the non-ASCII character at s: returns its length, or 0 with err_r
 * set (8-bit without SMTPUTF8, or malformed).
 */
static size_t
utf8_step(const char *s, size_t n, unsigned flags, const char **err_r)
{
	size_t k;

	if ((flags & ADDR_SMTPUTF8) == 0) {
		addr_fail(err_r, "8-bit character without SMTPUTF8");
		return 0;
	}
	if ((k = addr_utf8_char(s, n)) == 0)
		addr_fail(err_r, "malformed UTF-8");
	return k;
}

/* RFC 5321 §4.1.2 Dot-string = Atom *("." Atom); RFC 6531 §3.3 atext. */
bool
addr_is_dot_string(const char *s, size_t n, unsigned flags)
{
	size_t i = 0, k, atom = 0;

	if (n == 0)
		return false;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (atom == 0)
				return false;
			atom = 0;
			i++;
		} else if (addr_atext(c)) {
			atom++;
			i++;
		} else if (c >= 0x80 && (flags & ADDR_SMTPUTF8) != 0 &&
		    (k = addr_utf8_char(s + i, n - i)) != 0) {
			atom++;
			i += k;
		} else {
			return false;
		}
	}
	return atom > 0;
}

/*
 * Length of the external form of an internal local part, or 0 when it
 * cannot be represented (err_r set).
 */
static size_t
quoted_len(const char *local, unsigned flags, const char **err_r)
{
	size_t n = strlen(local), len = n, i = 0, k;

	while (i < n) {
		unsigned char c = (unsigned char)local[i];

		if (c >= 0x80) {
			k = utf8_step(local + i, n - i, flags, err_r);
			if (k == 0)
				return 0;
			i += k;
			continue;
		}
		if (c < 32 || c == 127) {
			addr_fail(err_r, "control character in local part");
			return 0;
		}
		if (c == '"' || c == '\\')
			len++;
		i++;
	}
	if (addr_is_dot_string(local, n, flags))
		return n;
	return len + 2;
}

bool
addr_valid_local(const char *local, unsigned flags, const char **err_r)
{
	size_t len;

	if (*local == '\0')
		return addr_fail(err_r, "empty local part");
	if ((len = quoted_len(local, flags, err_r)) == 0)
		return false;
	if (len > ADDR_LOCAL_MAX)
		return addr_fail(err_r, "local part too long");
	return true;
}

/*
 * RFC 5321 §4.1.2: sub-domain = Let-dig [Ldh-str], with U-labels under
 * RFC 6531 §3.3.  XXX: U-labels are checked for well-formed UTF-8 and
 * the octet limits only, not for IDNA2008 (RFC 5891) validity.
 */
bool
addr_valid_domain(const char *d, size_t n, unsigned flags, const char **err_r)
{
	size_t i = 0, k, label = 0;
	bool numeric = true;

	if (n == 0)
		return addr_fail(err_r, "empty domain");
	if (n > ADDR_DOMAIN_MAX)
		return addr_fail(err_r, "domain too long");
	while (i < n) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0)
				return addr_fail(err_r, "empty domain label");
			if (d[i - 1] == '-')
				return addr_fail(err_r,
				    "domain label ends with hyphen");
			label = 0;
			numeric = true;
			i++;
			continue;
		}
		if (c >= 0x80) {
			if ((k = utf8_step(d + i, n - i, flags, err_r)) == 0)
				return false;
			numeric = false;
		} else if (addr_alpha(c) || c == '-') {
			if (c == '-' && label == 0)
				return addr_fail(err_r,
				    "domain label starts with hyphen");
			numeric = false;
			k = 1;
		} else if (addr_digit(c)) {
			k = 1;
		} else {
			return addr_fail(err_r, "invalid character in domain");
		}
		label += k;
		i += k;
		if (label > ADDR_LABEL_MAX)
			return addr_fail(err_r, "domain label too long");
	}
	if (label == 0)
		return addr_fail(err_r, "empty domain label");
	if (d[n - 1] == '-')
		return addr_fail(err_r, "domain label ends with hyphen");
	/* RFC 3696 §2, RFC 1123 §2.1: a top-level label is not all-numeric. */
	if (numeric)
		return addr_fail(err_r, "numeric top-level domain");
	return true;
}

/*
 * RFC 5321 §4.1.3 IPv4-address-literal = Snum 3("." Snum), Snum 1*3DIGIT
 * in 0..255.  SECURITY: leading zeros are refused, since other software
 * reads them as octal.
 */
static bool
valid_ipv4(const char *s, size_t n)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t digits = 0;
		unsigned val = 0;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
		while (i < n && addr_digit((unsigned char)s[i])) {
			if (++digits > 3)
				return false;
			val = val * 10 + (unsigned)(s[i] - '0');
			i++;
		}
		if (digits == 0 || val > 255)
			return false;
		if (digits > 1 && s[i - digits] == '0')
			return false;
	}
	return i == n;
}

static int
hexval(unsigned char c)
{
	if (addr_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parses IPv6-hex *(":" IPv6-hex) [":" IPv4] (the IPv4 part only when
 * v4_ok); n == 0 is an empty list.  Counts the hex groups.
 */
static bool
ipv6_groups(const char *s, size_t n, bool v4_ok, size_t *groups_r,
    bool *v4_r)
{
	size_t i = 0;

	*groups_r = 0;
	*v4_r = false;
	if (n == 0)
		return true;
	for (;;) {
		size_t start = i, digits = 0;

		while (i < n && s[i] != ':')
			i++;
		/* The last element may be the embedded IPv4 address. */
		if (i == n && v4_ok && memchr(s + start, '.', n - start)) {
			*v4_r = true;
			return valid_ipv4(s + start, n - start);
		}
		for (size_t j = start; j < i; j++) {
			if (hexval((unsigned char)s[j]) < 0)
				return false;
			digits++;
		}
		if (digits == 0 || digits > 4)
			return false;
		if (++*groups_r > 8)
			return false;
		if (i == n)
			return true;
		i++;		/* the ':' */
		if (i == n)
			return false;
	}
}

/* RFC 5321 §4.1.3 IPv6-addr: IPv6-full / IPv6-comp / IPv6v4-full / -comp. */
static bool
valid_ipv6(const char *s, size_t n)
{
	size_t left, right, i;
	bool v4l, v4r;

	for (i = 0; i + 1 < n; i++)
		if (s[i] == ':' && s[i + 1] == ':')
			break;
	if (i + 1 >= n) {
		if (!ipv6_groups(s, n, true, &left, &v4r))
			return false;
		return v4r ? left == 6 : left == 8;
	}
	/* "::" stands for at least two zero groups; at most one "::". */
	if (!ipv6_groups(s, i, false, &left, &v4l) ||
	    !ipv6_groups(s + i + 2, n - i - 2, true, &right, &v4r))
		return false;
	return left + right <= (v4r ? 4 : 6);
}

bool
addr_valid_literal(const char *d, size_t n, const char **err_r)
{
	const char *s;
	size_t len, i;

	if (n < 3 || d[0] != '[' || d[n - 1] != ']')
		return addr_fail(err_r, "malformed address literal");
	s = d + 1;
	len = n - 2;
	if (len > 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		if (!valid_ipv6(s + 5, len - 5))
			return addr_fail(err_r, "invalid IPv6 address literal");
		return true;
	}
	if (memchr(s, ':', len) == NULL) {
		if (!valid_ipv4(s, len))
			return addr_fail(err_r, "invalid IPv4 address literal");
		return true;
	}
	/*
	 * General-address-literal = Standardized-tag ":" 1*dcontent.  No tag
	 * but IPv6 is registered (§4.1.3 requires registration), so a
	 * well-formed one is still refused.
	 */
	for (i = 0; i < len && s[i] != ':'; i++)
		if (!addr_alpha((unsigned char)s[i]) &&
		    !addr_digit((unsigned char)s[i]) && s[i] != '-')
			return addr_fail(err_r, "malformed address literal");
	if (i == 0 || s[i - 1] == '-' || i + 1 == len)
		return addr_fail(err_r, "malformed address literal");
	for (i++; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']')
			return addr_fail(err_r, "malformed address literal");
	}
	return addr_fail(err_r, "unsupported address literal tag");
}

bool
addr_valid_domain_or_literal(const char *d, size_t n, unsigned flags,
    const char **err_r)
{
	if (n > ADDR_DOMAIN_MAX)
		return addr_fail(err_r, "domain too long");
	if (n > 0 && d[0] == '[')
		return addr_valid_literal(d, n, err_r);
	return addr_valid_domain(d, n, flags, err_r);
}

int
addr_quote_local(struct buf *out, const char *local, unsigned flags,
    const char **err_r)
{
	size_t n = strlen(local), mark = out->len;

	if (quoted_len(local, flags, err_r) == 0)
		return -1;
	if (addr_is_dot_string(local, n, flags)) {
		if (buf_append(out, local, n) == -1)
			return addr_fail_rc(err_r, "address too long");
		return 0;
	}
	/* RFC 5321 §4.1.2 Quoted-string, quoted-pairSMTP for '"' and '\'. */
	if (buf_putc(out, '"') == -1)
		goto toolong;
	for (size_t i = 0; i < n; i++) {
		if ((local[i] == '"' || local[i] == '\\') &&
		    buf_putc(out, '\\') == -1)
			goto toolong;
		if (buf_putc(out, local[i]) == -1)
			goto toolong;
	}
	if (buf_putc(out, '"') == -1)
		goto toolong;
	return 0;
toolong:
	buf_truncate(out, mark);
	return addr_fail_rc(err_r, "address too long");
}

int
addr_quote(struct buf *out, const char *local, const char *domain,
    unsigned flags, const char **err_r)
{
	size_t mark = out->len;

	if (addr_quote_local(out, local, flags, err_r) == -1)
		return -1;
	if (domain == NULL || *domain == '\0')
		return 0;
	if (buf_putc(out, '@') == -1 || buf_puts(out, domain) == -1) {
		buf_truncate(out, mark);
		return addr_fail_rc(err_r, "address too long");
	}
	return 0;
}

int
addr_unquote_local(struct buf *out, const char *s, size_t n, unsigned flags,
    const char **err_r)
{
	size_t mark = out->len, i = 1, k;
	const char *err = NULL;

	if (n == 0)
		return addr_fail_rc(err_r, "empty local part");
	if (s[0] != '"') {
		if (!addr_is_dot_string(s, n, flags))
			return addr_fail_rc(err_r, "malformed local part");
		if (buf_append(out, s, n) == -1)
			return addr_fail_rc(err_r, "address too long");
		return 0;
	}
	/* RFC 5321 §4.1.2 Quoted-string = DQUOTE *QcontentSMTP DQUOTE. */
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"') {
			if (i + 1 != n) {
				err = "text after quoted string";
				goto bad;
			}
			return 0;
		}
		if (c == '\\') {
			/* quoted-pairSMTP = %d92 %d32-126 */
			if (i + 1 == n) {
				err = "backslash at end of local part";
				goto bad;
			}
			c = (unsigned char)s[i + 1];
			if (c < 32 || c > 126) {
				err = "invalid quoted pair";
				goto bad;
			}
			i++;
			k = 1;
		} else if (c >= 0x80) {
			if ((k = utf8_step(s + i, n - i, flags, &err)) == 0)
				goto bad;
		} else if (addr_qtext_smtp(c)) {
			k = 1;
		} else {
			err = "control character in local part";
			goto bad;
		}
		if (buf_append(out, s + i, k) == -1) {
			err = "address too long";
			goto bad;
		}
		i += k;
	}
	err = "unterminated quoted string";
bad:
	buf_truncate(out, mark);
	return addr_fail_rc(err_r, err);
}

char *
addr_domain_fold(char *domain)
{
	/* ASCII only: U-labels are compared as sent (RFC 6531 §3.2). */
	return str_lower(domain);
}

bool
addr_is_fqdn(const char *domain, unsigned flags)
{
	size_t n = strlen(domain);

	return memchr(domain, '.', n) != NULL &&
	    addr_valid_domain(domain, n, flags, NULL);
}

bool
addr_split_ext(const char *local, const char *delims, size_t *base_len_r,
    const char **ext_r)
{
	size_t n = strlen(local), len;

	/* Postfix split_addr(): these names are never split. */
	if (str_eq_ci(local, "postmaster") ||
	    str_eq_ci(local, "mailer-daemon") ||
	    str_eq_ci(local, "double-bounce"))
		return false;
	if (strchr(delims, '-') != NULL) {
		if (strncasecmp(local, "owner-", 6) == 0)
			return false;
		if (n > 8 && str_eq_ci(local + n - 8, "-request"))
			return false;
	}
	len = strcspn(local, delims);
	if (len == 0 || len == n)
		return false;
	*base_len_r = len;
	*ext_r = local + len + 1;
	return true;
}

bool
addr_valid_hostname(const char *name, const char **err_r)
{
	size_t n = strlen(name);

	/* Exactly the ASCII LDH subset of addr_valid_domain. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] >= 0x80)
			return addr_fail(err_r,
			    "invalid character in host name");
	return addr_valid_domain(name, n, 0, err_r);
}
