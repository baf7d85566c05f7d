/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by addr.c, addr_path.c and addr_hdr.c only: failure
 * returns that set err_r, and the character classes of RFC 5321/5322.
 */
#ifndef TERN_ADDR_PRIV_H
#define TERN_ADDR_PRIV_H

#include <stdbool.h>
#include <stddef.h>

static inline bool
addr_fail(const char **err_r, const char *msg)
{
	if (err_r != NULL)
		*err_r = msg;
	return false;
}

static inline int
addr_fail_rc(const char **err_r, const char *msg)
{
	if (err_r != NULL)
		*err_r = msg;
	return -1;
}

static inline bool
addr_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool
addr_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 5322 §3.2.3 atext, ASCII part. */
static inline bool
addr_atext(unsigned char c)
{
	if (addr_alpha(c) || addr_digit(c))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '/': case '=': case '?':
	case '^': case '_': case '`': case '{': case '|': case '}':
	case '~':
		return true;
	default:
		return false;
	}
}

/* RFC 5321 §4.1.2 qtextSMTP, ASCII part: %d32-33 / %d35-91 / %d93-126. */
static inline bool
addr_qtext_smtp(unsigned char c)
{
	return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

#endif
