/* SPDX-License-Identifier: MIT */
/*
 * The SMTP path parser: the argument of MAIL FROM and RCPT TO, RFC 5321
 * §4.1.2 Reverse-path / Forward-path / Path, with source routes (A-d-l)
 * accepted and stripped (§4.1.2, Appendix C), the null reverse-path, the
 * §4.5.1 <postmaster> recipient, and the §4.5.3.1 size limits.  See
 * addr.h for the contract.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "str.h"
#include "xalloc.h"
#include "addr.h"
#include "addr_priv.h"

/* Cursor over the untrusted argument. */
struct cur {
	const char	*s;
	size_t		 len;
	size_t		 p;
	bool		 angle;		/* path started with "<" */
};

static inline int
peek(const struct cur *c)
{
	return c->p < c->len ? (unsigned char)c->s[c->p] : -1;
}

/* True at the byte that ends a domain: ">" or, without "<", SP or end. */
static bool
at_path_end(const struct cur *c)
{
	int ch = peek(c);

	if (c->angle)
		return ch == '>';
	return ch == -1 || ch == ' ';
}

/*
 * Spans a domain (or an address literal when allow_lit) up to a byte in
 * stop or the path end; the grammar is checked by the caller.  A NUL byte
 * also stops it (strchr matches the terminator), and is then rejected.
 */
static size_t
span_domain(struct cur *c, const char *stop, bool allow_lit)
{
	size_t start = c->p;

	if (allow_lit && peek(c) == '[') {
		while (c->p < c->len && c->s[c->p] != ']')
			c->p++;
		if (c->p < c->len)
			c->p++;
		return c->p - start;
	}
	while (c->p < c->len && !at_path_end(c) &&
	    strchr(stop, c->s[c->p]) == NULL)
		c->p++;
	return c->p - start;
}

/*
 * A-d-l = At-domain *( "," At-domain ) ":"; At-domain = "@" Domain.
 * RFC 5321 §4.1.2 and Appendix C: accepted, checked, then ignored.
 */
static bool
skip_route(struct cur *c, unsigned flags, const char **err_r)
{
	for (;;) {
		size_t start, n;

		if (peek(c) != '@')
			return addr_fail(err_r, "malformed source route");
		c->p++;
		start = c->p;
		n = span_domain(c, ",:@", false);
		if (!addr_valid_domain(c->s + start, n, flags, err_r))
			return false;
		if (peek(c) == ':') {
			c->p++;
			return true;
		}
		if (peek(c) != ',')
			return addr_fail(err_r, "malformed source route");
		c->p++;
	}
}

/* Spans the external local part: a Quoted-string or a Dot-string. */
static size_t
span_local(struct cur *c)
{
	size_t start = c->p;

	if (peek(c) == '"') {
		c->p++;
		while (c->p < c->len && c->s[c->p] != '"') {
			if (c->s[c->p] == '\\' && c->p + 1 < c->len)
				c->p++;
			c->p++;
		}
		if (c->p < c->len)
			c->p++;
		return c->p - start;
	}
	while (c->p < c->len) {
		unsigned char ch = (unsigned char)c->s[c->p];

		if (!addr_atext(ch) && ch != '.' && ch < 0x80)
			break;
		c->p++;
	}
	return c->p - start;
}

static int
parse_mailbox(struct cur *c, unsigned flags, struct buf *local,
    size_t *dom_start_r, size_t *dom_len_r, const char **err_r)
{
	size_t start = c->p, n;
	int ch;

	n = span_local(c);
	if (n == 0)
		return addr_fail_rc(err_r, peek(c) == '@' ?
		    "empty local part" : "invalid character in address");
	if (n > ADDR_LOCAL_MAX)
		return addr_fail_rc(err_r, "local part too long");
	if (addr_unquote_local(local, c->s + start, n, flags, err_r) == -1)
		return -1;
	if (!addr_valid_local(buf_cstr(local), flags, err_r))
		return -1;
	ch = peek(c);
	if (ch == '@') {
		c->p++;
		*dom_start_r = c->p;
		*dom_len_r = span_domain(c, "", true);
		if (!addr_valid_domain_or_literal(c->s + *dom_start_r,
		    *dom_len_r, flags, err_r))
			return -1;
		return 0;
	}
	if (!at_path_end(c))
		return addr_fail_rc(err_r, ch == '"' || ch == '\\' ?
		    "malformed quoted local part" :
		    "invalid character in address");
	/* RFC 5321 §4.5.1: "<Postmaster>" (any case) needs no domain. */
	if ((flags & ADDR_POSTMASTER_OK) != 0 && c->angle &&
	    str_eq_ci(buf_cstr(local), "postmaster")) {
		*dom_start_r = c->p;
		*dom_len_r = 0;
		return 0;
	}
	return addr_fail_rc(err_r, "missing domain");
}

int
addr_parse_path(const char *s, size_t len, unsigned flags,
    struct addr_path *path_r, size_t *end_r, const char **err_r)
{
	struct cur c = { .s = s, .len = len };
	struct buf local;
	size_t path_start, dom_start = 0, dom_len = 0, plen;
	bool routed = false;

	memset(path_r, 0, sizeof(*path_r));
	if ((flags & ADDR_NO_ANGLE_OK) != 0)
		while (peek(&c) == ' ')
			c.p++;
	path_start = c.p;
	if (peek(&c) == '<') {
		c.angle = true;
		c.p++;
	} else if ((flags & ADDR_NO_ANGLE_OK) == 0) {
		return addr_fail_rc(err_r, "path must start with <");
	}
	/* RFC 5321 §4.1.1.2: Reverse-path = Path / "<>". */
	if (c.angle && peek(&c) == '>') {
		if ((flags & ADDR_NULL_OK) == 0)
			return addr_fail_rc(err_r, "null path not allowed");
		path_r->local = xstrdup("");
		path_r->domain = xstrdup("");
		path_r->null = true;
		*end_r = c.p + 1;
		return 0;
	}
	if (peek(&c) == '@') {
		if (!skip_route(&c, flags, err_r))
			return -1;
		routed = true;
	}
	buf_init(&local, ADDR_PATH_MAX);
	if (parse_mailbox(&c, flags, &local, &dom_start, &dom_len,
	    err_r) == -1)
		goto bad;
	if (c.angle) {
		if (peek(&c) != '>') {
			addr_fail(err_r, "missing > at end of path");
			goto bad;
		}
		c.p++;
		plen = c.p - path_start;
	} else {
		/* Measured as if "<" and ">" had been sent. */
		plen = c.p - path_start + 2;
	}
	/* §4.5.3.1.3: the path, with its punctuation, is 256 octets. */
	if (plen > ADDR_PATH_MAX) {
		addr_fail(err_r, "path too long");
		goto bad;
	}
	path_r->local = buf_steal(&local);
	path_r->domain = xstrndup(s + dom_start, dom_len);
	path_r->routed = routed;
	*end_r = c.p;
	return 0;
bad:
	buf_deinit(&local);
	return -1;
}

void
addr_path_deinit(struct addr_path *path)
{
	free(path->local);
	free(path->domain);
	memset(path, 0, sizeof(*path));
}
