/* SPDX-License-Identifier: MIT */
/*
 * RFC 5322 §3.4 address-list parsing for To/Cc/Bcc and friends, the §4.4
 * obsolete forms included (empty list elements, routes in angle-addr, CFWS
 * between the words of a local part or domain, "." in display names).  A
 * lexer turns the header value into words and specials, skipping folding
 * white space and (nested, bounded) comments; a small parser picks out the
 * addr-specs, which must also be valid RFC 5321 mailboxes since they may
 * become envelope recipients.  See addr.h for the contract.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "str.h"
#include "xalloc.h"
#include "addr.h"
#include "addr_priv.h"

enum tok_type {
	TOK_END,
	TOK_ATOM,		/* 1*atext */
	TOK_QSTR,		/* quoted-string, p/n include the quotes */
	TOK_DLIT,		/* domain-literal, p/n include the brackets */
	TOK_SPECIAL,		/* one of < > @ , ; : . */
};

struct tok {
	enum tok_type	 type;
	const char	*p;
	size_t		 n;
	char		 c;		/* TOK_SPECIAL */
};

struct lex {
	const char	*s;
	size_t		 len;
	size_t		 pos;
	unsigned	 flags;
	const char	*err;
};

static int
lex_fail(struct lex *lx, const char *msg)
{
	lx->err = msg;
	return -1;
}

/*
 * At a CR or LF: accepts a fold (CRLF or LF, then SP or HTAB; RFC 5322
 * §3.2.2 FWS) and steps over the line break; anything else is an error.
 */
static int
lex_fold(struct lex *lx)
{
	size_t i = lx->pos;

	if (lx->s[i] == '\r') {
		if (i + 1 >= lx->len || lx->s[i + 1] != '\n')
			return lex_fail(lx, "bare CR in header");
		i++;
	}
	i++;
	if (i >= lx->len || (lx->s[i] != ' ' && lx->s[i] != '\t'))
		return lex_fail(lx, "line break in header without folding");
	lx->pos = i;
	return 0;
}

/* Steps over the character at pos inside text (comment, quoted string). */
static int
lex_text_char(struct lex *lx)
{
	unsigned char c = (unsigned char)lx->s[lx->pos];
	size_t k;

	if (c == '\r' || c == '\n')
		return lex_fold(lx);
	if (c >= 0x80) {
		if ((lx->flags & ADDR_SMTPUTF8) == 0)
			return lex_fail(lx, "8-bit character without SMTPUTF8");
		if ((k = addr_utf8_char(lx->s + lx->pos,
		    lx->len - lx->pos)) == 0)
			return lex_fail(lx, "malformed UTF-8");
		lx->pos += k;
		return 0;
	}
	/* SECURITY: obs-NO-WS-CTL (§4.1) is refused, not passed on. */
	if ((c < 32 && c != '\t') || c == 127)
		return lex_fail(lx, c == 0 ? "NUL in header" :
		    "control character in header");
	lx->pos++;
	return 0;
}

/* At "\\": §3.2.1 quoted-pair = "\" (VCHAR / WSP). */
static int
lex_quoted_pair(struct lex *lx)
{
	unsigned char c;

	if (++lx->pos >= lx->len)
		return lex_fail(lx, "backslash at end of header");
	c = (unsigned char)lx->s[lx->pos];
	if (c == '\r' || c == '\n' || c == 0)
		return lex_fail(lx, "invalid quoted pair");
	return lex_text_char(lx);
}

/* §3.2.2 comment, nesting at most ADDR_COMMENT_DEPTH_MAX deep. */
static int
lex_comment(struct lex *lx)
{
	unsigned depth = 0;

	while (lx->pos < lx->len) {
		char c = lx->s[lx->pos];

		if (c == '(') {
			if (++depth > ADDR_COMMENT_DEPTH_MAX)
				return lex_fail(lx, "comments nested too deep");
			lx->pos++;
		} else if (c == ')') {
			lx->pos++;
			if (--depth == 0)
				return 0;
		} else if (c == '\\') {
			if (lex_quoted_pair(lx) == -1)
				return -1;
		} else if (lex_text_char(lx) == -1) {
			return -1;
		}
	}
	return lex_fail(lx, "unterminated comment");
}

static int
lex_quoted(struct lex *lx)
{
	lx->pos++;
	while (lx->pos < lx->len) {
		char c = lx->s[lx->pos];

		if (c == '"') {
			lx->pos++;
			return 0;
		}
		if (c == '\\') {
			if (lex_quoted_pair(lx) == -1)
				return -1;
		} else if (lex_text_char(lx) == -1) {
			return -1;
		}
	}
	return lex_fail(lx, "unterminated quoted string");
}

/* §3.4.1 domain-literal; obs-dtext quoted pairs are refused. */
static int
lex_literal(struct lex *lx)
{
	for (lx->pos++; lx->pos < lx->len; lx->pos++) {
		unsigned char c = (unsigned char)lx->s[lx->pos];

		if (c == ']') {
			lx->pos++;
			return 0;
		}
		if (c <= 32 || c >= 127 || c == '[' || c == '\\')
			return lex_fail(lx, "invalid character in literal");
	}
	return lex_fail(lx, "unterminated domain literal");
}

static int
lex_next(struct lex *lx, struct tok *t)
{
	size_t start;

	for (;;) {
		unsigned char c;

		if (lx->pos >= lx->len) {
			t->type = TOK_END;
			return 0;
		}
		c = (unsigned char)lx->s[lx->pos];
		start = lx->pos;
		t->p = lx->s + start;
		if (c == ' ' || c == '\t') {
			lx->pos++;
		} else if (c == '\r' || c == '\n') {
			if (lex_fold(lx) == -1)
				return -1;
		} else if (c == '(') {
			if (lex_comment(lx) == -1)
				return -1;
		} else if (c == '"') {
			if (lex_quoted(lx) == -1)
				return -1;
			t->type = TOK_QSTR;
			t->n = lx->pos - start;
			return 0;
		} else if (c == '[') {
			if (lex_literal(lx) == -1)
				return -1;
			t->type = TOK_DLIT;
			t->n = lx->pos - start;
			return 0;
		} else if (strchr("<>@,;:.", c) != NULL && c != 0) {
			lx->pos++;
			t->type = TOK_SPECIAL;
			t->c = (char)c;
			t->n = 1;
			return 0;
		} else if (addr_atext(c) || c >= 0x80) {
			while (lx->pos < lx->len) {
				c = (unsigned char)lx->s[lx->pos];
				if (addr_atext(c)) {
					lx->pos++;
					continue;
				}
				if (c < 0x80)
					break;
				if (lex_text_char(lx) == -1)
					return -1;
			}
			t->type = TOK_ATOM;
			t->n = lx->pos - start;
			return 0;
		} else if (c == ')') {
			return lex_fail(lx, "unbalanced ) in header");
		} else {
			return lex_text_char(lx) == -1 ? -1 :
			    lex_fail(lx, "invalid character in header");
		}
	}
}

static int
lex_peek(struct lex *lx, struct tok *t)
{
	size_t save = lx->pos;
	int rc = lex_next(lx, t);

	lx->pos = save;
	return rc;
}

static bool
is_special(const struct tok *t, char c)
{
	return t->type == TOK_SPECIAL && t->c == c;
}

/*
 * Appends the internal form of a word: an atom as is; a quoted-string
 * without its quotes, backslashes and folding line breaks (§3.2.4).
 */
static int
add_word(struct lex *lx, struct buf *out, const struct tok *t)
{
	if (t->type == TOK_ATOM) {
		if (buf_append(out, t->p, t->n) == -1)
			return lex_fail(lx, "address too long");
		return 0;
	}
	for (size_t i = 1; i + 1 < t->n; i++) {
		char c = t->p[i];

		if (c == '\r' || c == '\n')
			continue;
		if (c == '\\')
			c = t->p[++i];
		if (buf_putc(out, c) == -1)
			return lex_fail(lx, "address too long");
	}
	return 0;
}

/*
 * addr-spec = local-part "@" domain (§3.4.1, with obs-local-part and
 * obs-domain); appends "local@domain" to list after RFC 5321 checks.
 */
static int
parse_addr_spec(struct lex *lx, struct strv *list)
{
	struct buf local, addr;
	struct tok t;
	size_t dom;
	const char *err = NULL;
	int rc = -1;

	buf_init(&local, ADDR_PATH_MAX);
	buf_init(&addr, ADDR_PATH_MAX);
	for (;;) {
		if (lex_next(lx, &t) == -1)
			goto out;
		if (t.type != TOK_ATOM && t.type != TOK_QSTR) {
			lex_fail(lx, "malformed local part");
			goto out;
		}
		if (add_word(lx, &local, &t) == -1 || lex_peek(lx, &t) == -1)
			goto out;
		if (!is_special(&t, '.'))
			break;
		(void)lex_next(lx, &t);
		if (buf_putc(&local, '.') == -1) {
			lex_fail(lx, "address too long");
			goto out;
		}
	}
	if (!addr_valid_local(buf_cstr(&local), lx->flags, &err) ||
	    addr_quote_local(&addr, buf_cstr(&local), lx->flags, &err) == -1) {
		lex_fail(lx, err);
		goto out;
	}
	if (!is_special(&t, '@')) {
		if ((lx->flags & ADDR_BARE_LOCAL_OK) == 0) {
			lex_fail(lx, "missing domain");
			goto out;
		}
		strv_push(list, buf_cstr(&local));
		rc = 0;
		goto out;
	}
	(void)lex_next(lx, &t);
	if (buf_putc(&local, '@') == -1 || buf_putc(&addr, '@') == -1) {
		lex_fail(lx, "address too long");
		goto out;
	}
	dom = local.len;
	for (;;) {
		if (lex_next(lx, &t) == -1)
			goto out;
		if (t.type != TOK_ATOM && (t.type != TOK_DLIT ||
		    local.len != dom)) {
			lex_fail(lx, "malformed domain");
			goto out;
		}
		if (buf_append(&local, t.p, t.n) == -1 ||
		    buf_append(&addr, t.p, t.n) == -1) {
			lex_fail(lx, "address too long");
			goto out;
		}
		if (t.type == TOK_DLIT || lex_peek(lx, &t) == -1 ||
		    !is_special(&t, '.'))
			break;
		(void)lex_next(lx, &t);
		if (buf_putc(&local, '.') == -1 || buf_putc(&addr, '.') == -1) {
			lex_fail(lx, "address too long");
			goto out;
		}
	}
	if (lx->err != NULL)
		goto out;
	if (!addr_valid_domain_or_literal(local.data + dom, local.len - dom,
	    lx->flags, &err)) {
		lex_fail(lx, err);
		goto out;
	}
	/* As an SMTP path "<" addr ">" it must fit in ADDR_PATH_MAX. */
	if (addr.len + 2 > ADDR_PATH_MAX) {
		lex_fail(lx, "address too long");
		goto out;
	}
	strv_push(list, buf_cstr(&local));
	rc = 0;
out:
	buf_deinit(&local);
	buf_deinit(&addr);
	return rc;
}

/* display-name = phrase; obs-phrase also allows "." (§4.1). */
static int
skip_phrase(struct lex *lx, bool required)
{
	struct tok t;
	size_t words = 0;

	for (;;) {
		if (lex_peek(lx, &t) == -1)
			return -1;
		if (t.type != TOK_ATOM && t.type != TOK_QSTR &&
		    !(is_special(&t, '.') && words > 0))
			break;
		(void)lex_next(lx, &t);
		words++;
	}
	if (required && words == 0)
		return lex_fail(lx, "missing display name");
	return 0;
}

/* [display-name] "<" [obs-route] addr-spec ">" (§3.4, §4.4). */
static int
parse_name_addr(struct lex *lx, struct strv *list)
{
	struct tok t;

	if (skip_phrase(lx, false) == -1 || lex_next(lx, &t) == -1)
		return -1;
	if (!is_special(&t, '<'))
		return lex_fail(lx, "malformed address");
	if (lex_peek(lx, &t) == -1)
		return -1;
	if (is_special(&t, '@') || is_special(&t, ',')) {
		/* obs-route = obs-domain-list ":"; the route is dropped. */
		for (;;) {
			if (lex_next(lx, &t) == -1)
				return -1;
			if (is_special(&t, ':'))
				break;
			if (t.type == TOK_END || is_special(&t, '>') ||
			    is_special(&t, '<') || is_special(&t, ';'))
				return lex_fail(lx, "malformed route");
		}
	}
	if (parse_addr_spec(lx, list) == -1 || lex_next(lx, &t) == -1)
		return -1;
	if (!is_special(&t, '>'))
		return lex_fail(lx, "missing > after address");
	return 0;
}

/* What starts at the current position: ':' group, '<' name-addr, else 0. */
static int
classify(struct lex *lx, char *kind_r)
{
	size_t save = lx->pos;
	struct tok t;

	*kind_r = 0;
	for (;;) {
		if (lex_next(lx, &t) == -1)
			return -1;
		if (t.type == TOK_END || is_special(&t, '@') ||
		    is_special(&t, ',') || is_special(&t, ';') ||
		    is_special(&t, '>'))
			break;
		if (is_special(&t, ':') || is_special(&t, '<')) {
			*kind_r = t.c;
			break;
		}
	}
	lx->pos = save;
	return 0;
}

static int
parse_list(struct lex *lx, struct strv *list, size_t first)
{
	bool in_group = false;
	struct tok t;
	char kind;

	for (;;) {
		if (lex_peek(lx, &t) == -1)
			return -1;
		if (t.type == TOK_END)
			return in_group ?
			    lex_fail(lx, "unterminated group") : 0;
		if (is_special(&t, ',')) {	/* obs-addr-list: empty */
			(void)lex_next(lx, &t);
			continue;
		}
		if (is_special(&t, ';')) {
			if (!in_group)
				return lex_fail(lx, "; outside a group");
			(void)lex_next(lx, &t);
			in_group = false;
			continue;
		}
		if (classify(lx, &kind) == -1)
			return -1;
		if (kind == ':') {
			/* group = display-name ":" [group-list] ";" */
			if (in_group)
				return lex_fail(lx, "nested group");
			if (skip_phrase(lx, true) == -1 ||
			    lex_next(lx, &t) == -1)
				return -1;
			if (!is_special(&t, ':'))
				return lex_fail(lx, "malformed group");
			in_group = true;
			continue;
		}
		if ((kind == '<' ? parse_name_addr(lx, list) :
		    parse_addr_spec(lx, list)) == -1)
			return -1;
		if (list->n - first > ADDR_HDR_ADDRS_MAX)
			return lex_fail(lx, "too many addresses");
		if (lex_peek(lx, &t) == -1)
			return -1;
		if (is_special(&t, ','))
			(void)lex_next(lx, &t);
		else if (t.type != TOK_END && !is_special(&t, ';'))
			return lex_fail(lx, "text after address");
	}
}

int
addr_parse_header_list(const char *s, size_t len, unsigned flags,
    struct strv *list_r, const char **err_r)
{
	struct lex lx = { .s = s, .len = len, .flags = flags };
	size_t first = list_r->n;

	if (len > ADDR_HDR_MAX)
		return addr_fail_rc(err_r, "header too long");
	if (parse_list(&lx, list_r, first) == 0)
		return 0;
	/* Leave the list as it was. */
	for (size_t i = first; i < list_r->n; i++)
		free(list_r->v[i]);
	list_r->n = first;
	if (list_r->v != NULL)
		list_r->v[first] = NULL;
	return addr_fail_rc(err_r, lx.err != NULL ? lx.err :
	    "malformed address list");
}
