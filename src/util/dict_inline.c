/* SPDX-License-Identifier: MIT */
/*
 * The inline: table: "inline:{ key=value, { key = text with spaces }, ... }"
 * read into memory when opened.  Elements are separated by commas or white
 * space; an element in braces may contain both, and white space around its
 * "=" is dropped.  Keys are folded as for the other tables.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

static bool
is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Adds "key=value" (s is modified); -1 with err_r set. */
static int
inline_add(struct dict *d, char *s, const char *spec, const char **err_r)
{
	char *eq = strchr(s, '='), *key, *value;
	const char *err;

	if (eq == NULL) {
		char *e = log_escape_str(s), *f = log_escape_str(spec);

		dict_open_err(err_r, "missing '=' after attribute name: \"%s\" "
		    "in \"inline:%s\"; need \"inline:{name=value...}\"", e, f);
		free(e);
		free(f);
		return -1;
	}
	*eq = '\0';
	key = str_trim(s);
	value = str_trim(eq + 1);
	if (*key == '\0') {
		char *f = log_escape_str(spec);

		dict_open_err(err_r, "empty attribute name in \"inline:%s\"",
		    f);
		free(f);
		return -1;
	}
	if (dict_update(d, key, value, &err) < 0)
		return dict_open_err(err_r, "%s", err);
	return 0;
}

struct dict *
dict_inline_open(const char *name, int flags, const char **err_r)
{
	struct dict *d;
	char *copy, *p, *end;
	size_t n = strlen(name);

	if (n < 2 || name[0] != '{' || name[n - 1] != '}') {
		char *e = log_escape_str(name);

		dict_open_err(err_r, "bad syntax: \"inline:%s\"; need "
		    "\"inline:{name=value...}\"", e);
		free(e);
		return NULL;
	}
	d = dict_mem_new("inline", name, flags & ~DICT_FLAG_DUP_REPLACE);
	copy = xstrndup(name + 1, n - 2);
	for (p = copy; ; p = end) {
		while (is_sep(*p))
			p++;
		if (*p == '\0')
			break;
		if (*p == '{') {
			int depth = 1;

			for (end = ++p; *end != '\0'; end++) {
				if (*end == '{')
					depth++;
				else if (*end == '}' && --depth == 0)
					break;
			}
			if (*end != '}') {
				char *e = log_escape_str(name);

				dict_open_err(err_r, "missing '}' in "
				    "\"inline:%s\"", e);
				free(e);
				goto fail;
			}
			*end++ = '\0';
		} else {
			for (end = p; *end != '\0' && !is_sep(*end); end++)
				if (*end == '{' || *end == '}')
					break;
			if (*end == '{' || *end == '}') {
				char *e = log_escape_str(name);

				dict_open_err(err_r, "unexpected '%c' in "
				    "\"inline:%s\"", *end, e);
				free(e);
				goto fail;
			}
			if (*end != '\0')
				*end++ = '\0';
		}
		if (inline_add(d, p, name, err_r) < 0)
			goto fail;
	}
	free(copy);
	return d;
fail:
	free(copy);
	dict_free(&d);
	return NULL;
}
