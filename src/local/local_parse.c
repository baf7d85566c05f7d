/* SPDX-License-Identifier: MIT */
/*
 * Parsers of what local reads from files it does not write: alias values
 * (aliases(5)), .forward and :include: files, and the command lines they
 * name.  Everything here is pure and fails closed: bytes that do not fit
 * the grammar are refused, never repaired.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "str.h"
#include "xalloc.h"

#include "local.h"

static int
fail(const char **err_r, const char *msg)
{
	*err_r = msg;
	return -1;
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims [p, end), strips one pair of enclosing quotes, pushes non-empty. */
static void
push_item(struct strv *out, const char *p, const char *end)
{
	while (p < end && is_space((unsigned char)*p))
		p++;
	while (end > p && is_space((unsigned char)end[-1]))
		end--;
	if (end - p >= 2 && *p == '"' && end[-1] == '"') {
		p++;
		end--;
	}
	if (p < end)
		strv_push_n(out, p, (size_t)(end - p));
}

static int
parse(const char *value, size_t len, size_t max, struct strv *items_r,
    const char **err_r)
{
	struct strv items;
	const char *p, *elem, *end = value + len;
	bool quoted = false;

	if (len > max)
		return fail(err_r, "alias value too long");
	if (memchr(value, '\0', len) != NULL)
		return fail(err_r, "NUL byte in alias value");
	strv_init(&items);
	for (elem = p = value; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c < 0x20 && !is_space(c)) || c == 0x7f) {
			strv_deinit(&items);
			return fail(err_r, "control character in alias value");
		}
		if (quoted && (c == '\r' || c == '\n')) {
			strv_deinit(&items);
			return fail(err_r, "line break inside quotes");
		}
		if (c == '"')
			quoted = !quoted;
		else if (!quoted && (c == ',' || c == '\n')) {
			push_item(&items, elem, p);
			elem = p + 1;
		}
	}
	if (quoted) {
		strv_deinit(&items);
		return fail(err_r, "unterminated quote in alias value");
	}
	push_item(&items, elem, end);
	if (items.n == 0) {
		strv_deinit(&items);
		return fail(err_r, "empty alias value");
	}
	if (items.n > LOCAL_ALIAS_ITEMS_MAX) {
		strv_deinit(&items);
		return fail(err_r, "too many items in alias value");
	}
	for (size_t i = 0; i < items.n; i++)
		strv_push_owned(items_r, items.v[i]);
	free(items.v);
	return 0;
}

int
local_alias_parse(const char *value, size_t len, struct strv *items_r,
    const char **err_r)
{
	return parse(value, len, LOCAL_ALIAS_VALUE_MAX, items_r, err_r);
}

/* Comment lines ("#" after optional blanks) become empty lines. */
int
local_alias_parse_file(const char *text, size_t len, struct strv *items_r,
    const char **err_r)
{
	struct buf b;
	const char *p = text, *end = text + len, *nl, *q;
	int rc;

	if (len > LOCAL_INCLUDE_MAX)
		return fail(err_r, "file too long");
	buf_init(&b, LOCAL_INCLUDE_MAX + 1);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		for (q = p; q < nl && (*q == ' ' || *q == '\t'); q++)
			continue;
		if (q == nl || *q != '#')
			buf_add(&b, p, (size_t)(nl - p));
		buf_addc(&b, '\n');
		p = nl + 1;
	}
	rc = parse(buf_cstr(&b), b.len, LOCAL_INCLUDE_MAX + 1, items_r,
	    err_r);
	buf_deinit(&b);
	return rc;
}

int
local_item_kind(const char *item, enum local_item_kind *kind_r,
    const char **rest_r, const char **err_r)
{
	const char *rest;

	if (item[0] == '|') {
		rest = item + 1;
		while (is_space((unsigned char)*rest))
			rest++;
		if (*rest == '\0')
			return fail(err_r, "empty command");
		*kind_r = LOCAL_ITEM_COMMAND;
	} else if (item[0] == '/') {
		rest = item;
		*kind_r = LOCAL_ITEM_FILE;
	} else if (strncasecmp(item, ":include:", 9) == 0) {
		rest = item + 9;
		while (is_space((unsigned char)*rest))
			rest++;
		if (*rest != '/')
			return fail(err_r, ":include: needs an absolute path");
		*kind_r = LOCAL_ITEM_INCLUDE;
	} else if (item[0] == '\\') {
		rest = item + 1;
		if (*rest == '\0')
			return fail(err_r, "empty name after backslash");
		*kind_r = LOCAL_ITEM_SELF;
	} else {
		rest = item;
		if (*rest == '\0' || *rest == '@')
			return fail(err_r, "empty name");
		*kind_r = LOCAL_ITEM_ADDR;
	}
	*rest_r = rest;
	return 0;
}

int
local_cmd_split(const char *text, struct strv *argv_r, const char **err_r)
{
	struct strv av;
	struct buf word;
	const char *p;
	bool in_word = false;

	if (strlen(text) > LOCAL_ALIAS_VALUE_MAX)
		return fail(err_r, "command too long");
	strv_init(&av);
	buf_init(&word, LOCAL_ALIAS_VALUE_MAX);
	for (p = text; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c < 0x20 && c != ' ' && c != '\t') || c == 0x7f)
			goto bad_ctl;
		if (c == ' ' || c == '\t') {
			if (in_word) {
				strv_push(&av, buf_cstr(&word));
				buf_reset(&word);
				in_word = false;
			}
			continue;
		}
		in_word = true;
		if (c == '\\') {
			if (p[1] == '\0')
				goto bad_bs;
			buf_addc(&word, *++p);
		} else if (c == '\'') {
			for (p++; *p != '\'' && *p != '\0'; p++)
				buf_addc(&word, *p);
			if (*p == '\0')
				goto bad_quote;
		} else if (c == '"') {
			for (p++; *p != '"' && *p != '\0'; p++) {
				if (*p == '\\' && p[1] != '\0' &&
				    strchr("\"\\$`", p[1]) != NULL)
					p++;
				buf_addc(&word, *p);
			}
			if (*p == '\0')
				goto bad_quote;
		} else {
			buf_addc(&word, (char)c);
		}
		if (av.n >= LOCAL_CMD_ARGS_MAX)
			goto bad_many;
	}
	if (in_word)
		strv_push(&av, buf_cstr(&word));
	buf_deinit(&word);
	if (av.n == 0) {
		strv_deinit(&av);
		return fail(err_r, "empty command");
	}
	if (av.n > LOCAL_CMD_ARGS_MAX) {
		strv_deinit(&av);
		return fail(err_r, "too many command arguments");
	}
	for (size_t i = 0; i < av.n; i++)
		strv_push_owned(argv_r, av.v[i]);
	free(av.v);
	return 0;
bad_ctl:
	*err_r = "control character in command";
	goto bad;
bad_bs:
	*err_r = "backslash at the end of the command";
	goto bad;
bad_quote:
	*err_r = "unterminated quote in command";
	goto bad;
bad_many:
	*err_r = "too many command arguments";
bad:
	buf_deinit(&word);
	strv_deinit(&av);
	return -1;
}

bool
local_cmd_needs_shell(const char *text)
{
	return strpbrk(text, "|;&<>`$()*?[]~\n") != NULL;
}
