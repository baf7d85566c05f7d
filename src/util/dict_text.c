/* SPDX-License-Identifier: MIT */
/*
 * Source text for lookup tables: the logical-line reader shared by every
 * file-based type (comments, blank lines, continuation lines), the
 * postmap ("key whitespace value") and postalias ("name: value") entry
 * parsers, and the texthash: type, which reads such a file into memory
 * when it is opened.  Messages match postmap's and postalias's wording.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dict.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

static bool
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\f' || c == '\v';
}

/* Appends n bytes unless the line is already too long; marks it so. */
static void
phys_add(struct buf *b, const char *p, size_t n, bool *long_r)
{
	if (!*long_r && buf_append(b, p, n) < 0)
		*long_r = true;
}

/* Reads one physical line; 1 line / 0 EOF. *long_r when it was cut. */
static int
read_phys(FILE *fp, struct buf *b, bool *long_r, bool *nul_r)
{
	char chunk[512];
	size_t n = 0;
	int c;

	buf_reset(b);
	*long_r = *nul_r = false;
	/* Bytes go through a small chunk: a call per byte is the hot path. */
	while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
		if (c == '\0')
			*nul_r = true;
		chunk[n++] = (char)c;
		if (n == sizeof(chunk)) {
			phys_add(b, chunk, n, long_r);
			n = 0;
		}
	}
	phys_add(b, chunk, n, long_r);
	return c == EOF && b->len == 0 && !*long_r ? 0 : 1;
}

/* Trims trailing white space in place. */
static void
trim_end(struct buf *b)
{
	size_t n = b->len;

	while (n > 0 && is_ws((unsigned char)b->data[n - 1]))
		n--;
	buf_truncate(b, n);
}

int
dict_read_lines(const char *path, dict_line_fn *fn, void *ctx,
    const char **err_r)
{
	FILE *fp;
	struct buf phys, logical;
	long lineno = 0, start = 0;
	bool is_long, has_nul, bad = false, have = false;
	int rc = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return dict_open_err(err_r, "open %s: %s", path,
		    strerror(errno));
	buf_init(&phys, DICT_LINE_MAX);
	buf_init(&logical, DICT_LINE_MAX);
	for (;;) {
		int more = read_phys(fp, &phys, &is_long, &has_nul);
		const char *p = buf_cstr(&phys);

		if (more)
			lineno++;
		while (more && is_ws((unsigned char)*p))
			p++;
		/* Comments and blank lines neither start nor end a line. */
		if (more && !is_long && !has_nul && (*p == '\0' || *p == '#'))
			continue;
		if (more && p != buf_cstr(&phys)) {
			if (!have && !bad) {
				char *e = log_escape_str(buf_cstr(&phys));

				log_warn("%s: logical line must not start "
				    "with whitespace: \"%s\"", path, e);
				free(e);
				continue;
			}
			if (!bad && (is_long || has_nul ||
			    buf_append(&logical, phys.data, phys.len) < 0)) {
				log_warn("%s, line %ld: %s: skipping this "
				    "line", path, start, has_nul ?
				    "NUL byte in line" : "line too long");
				bad = true;
			}
			continue;
		}
		/* A new logical line starts (or the file ends). */
		if (have && !bad) {
			trim_end(&logical);
			if (fn(ctx, logical.data, start) < 0) {
				rc = -1;
				break;
			}
		}
		if (!more)
			break;
		have = true;
		bad = false;
		start = lineno;
		buf_reset(&logical);
		if (is_long || has_nul ||
		    buf_append(&logical, phys.data, phys.len) < 0) {
			log_warn("%s, line %ld: %s: skipping this line", path,
			    start, has_nul ? "NUL byte in line" :
			    "line too long");
			bad = true;
		}
	}
	if (rc == 0 && ferror(fp))
		rc = dict_open_err(err_r, "read %s: %s", path,
		    strerror(errno));
	else if (rc < 0 && err_r != NULL && *err_r == NULL)
		rc = dict_open_err(err_r, "%s: processing failed", path);
	fclose(fp);
	buf_deinit(&phys);
	buf_deinit(&logical);
	return rc;
}

struct text_ctx {
	const char	*path;
	int		 flags;
	dict_text_fn	*fn;
	void		*ctx;
	struct buf	 key;
	struct buf	 value;
};

/* postmap: "key whitespace value". */
static int
parse_map_line(struct text_ctx *t, char *s, long line)
{
	char *v = s;

	while (*v != '\0' && !is_ws((unsigned char)*v))
		v++;
	if (*v != '\0')
		*v++ = '\0';
	while (is_ws((unsigned char)*v))
		v++;
	if (*v == '\0') {
		log_warn("%s, line %ld: expected format: key whitespace "
		    "value -- ignoring this line", t->path, line);
		return 0;
	}
	buf_reset(&t->key);
	buf_reset(&t->value);
	if (strlen(s) > DICT_KEY_MAX || buf_puts(&t->key, s) < 0) {
		log_warn("%s, line %ld: key too long -- ignoring this line",
		    t->path, line);
		return 0;
	}
	buf_adds(&t->value, v);
	return 1;
}

/* Appends the element [p, end) trimmed, with ", " between elements. */
static void
add_element(struct buf *b, const char *p, const char *end)
{
	while (p < end && is_ws((unsigned char)*p))
		p++;
	while (end > p && is_ws((unsigned char)end[-1]))
		end--;
	if (p == end)
		return;
	if (b->len > 0)
		buf_adds(b, ", ");
	buf_add(b, p, (size_t)(end - p));
}

/*
 * postalias: "name: value", the name optionally in double quotes, the
 * value a comma-separated list written back as "a, b, c".
 */
static int
parse_alias_line(struct text_ctx *t, char *s, long line)
{
	bool quoted = false;
	const char *p, *elem;

	buf_reset(&t->key);
	buf_reset(&t->value);
	for (p = s; *p != '\0' && (quoted || *p != ':'); p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '\\' && quoted && p[1] != '\0')
			buf_addc(&t->key, *++p);
		else if (quoted || !is_ws((unsigned char)*p))
			buf_addc(&t->key, *p);
	}
	if (*p != ':' || t->key.len == 0) {
		log_warn("%s, line %ld: need name:value pair", t->path, line);
		return 0;
	}
	if (t->key.len > DICT_KEY_MAX) {
		log_warn("%s, line %ld: name too long -- ignoring this line",
		    t->path, line);
		return 0;
	}
	quoted = false;
	for (elem = ++p; ; p++) {
		if (*p == '"')
			quoted = !quoted;
		if (*p != '\0' && (quoted || *p != ','))
			continue;
		add_element(&t->value, elem, p);
		elem = p + 1;
		if (*p == '\0')
			break;
	}
	if (t->value.len == 0) {
		log_warn("%s, line %ld: need name:value pair", t->path, line);
		return 0;
	}
	return 1;
}

static int
text_line(void *ctx, char *s, long line)
{
	struct text_ctx *t = ctx;
	int ok = (t->flags & DICT_FLAG_ALIAS) != 0 ?
	    parse_alias_line(t, s, line) : parse_map_line(t, s, line);

	if (ok == 0)
		return 0;
	if ((t->flags & DICT_FLAG_FOLD) != 0)
		str_lower(t->key.data);
	return t->fn(t->ctx, buf_cstr(&t->key), buf_cstr(&t->value), line);
}

int
dict_text_read(const char *path, int flags, dict_text_fn *fn, void *ctx,
    const char **err_r)
{
	struct text_ctx t = {
		.path = path, .flags = flags, .fn = fn, .ctx = ctx,
	};
	int rc;

	/* A logical line bounds both; alias lists grow by ", ". */
	buf_init(&t.key, DICT_LINE_MAX);
	buf_init(&t.value, 2 * DICT_LINE_MAX);
	rc = dict_read_lines(path, text_line, &t, err_r);
	buf_deinit(&t.key);
	buf_deinit(&t.value);
	return rc;
}

struct texthash_ctx {
	struct dict	*d;
	const char	*path;
	const char	*err;
};

static int
texthash_add(void *ctx, const char *key, const char *value, long line)
{
	struct texthash_ctx *t = ctx;
	int rc = dict_update(t->d, key, value, &t->err);

	if (rc == 0 && (t->d->flags & DICT_FLAG_DUP_QUIET) == 0) {
		char *e = log_escape_str(key);

		log_warn("%s, line %ld: duplicate entry: \"%s\"", t->path,
		    line, e);
		free(e);
	}
	return rc < 0 ? -1 : 0;
}

struct dict *
dict_texthash_open(const char *name, int flags, const char **err_r)
{
	struct texthash_ctx t = { .path = name };
	const char *err = NULL;

	t.d = dict_mem_new("texthash", name, flags & ~DICT_FLAG_DUP_REPLACE);
	if (dict_text_read(name, flags, texthash_add, &t, &err) < 0) {
		dict_open_err(err_r, "%s", t.err != NULL ? t.err : err);
		dict_free(&t.d);
		return NULL;
	}
	return t.d;
}
