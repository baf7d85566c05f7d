/* SPDX-License-Identifier: MIT */
/*
 * main.cf syntax: parsing into name/value assignments with their origin,
 * Postfix-style $-expansion with loop and depth bounds, and in-place
 * editing that keeps comments and order; see cfg.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "log.h"
#include "safefile.h"
#include "str.h"
#include "xalloc.h"

/* Largest main.cf read at all. */

static char cfg_errbuf[1024];

#define cfg_fail(...)	str_fmt_buf(cfg_errbuf, sizeof(cfg_errbuf), __VA_ARGS__)

static inline bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static inline bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

bool
cfg_name_valid(const char *name, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(name[i]))
			return false;
	return true;
}

/* Checks a value for bytes no main.cf line may hold; NULL when fine. */
static const char *
value_problem(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			return "NUL byte in line";
		if (c == '\r')
			return "stray carriage return in line";
		if (c == '\n')
			return "newline in value";
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return "control character in line";
	}
	return NULL;
}

struct cfg *
cfg_new(void)
{
	return xcalloc(1, sizeof(struct cfg));
}

void
cfg_free(struct cfg **cp)
{
	struct cfg *c = *cp;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].name);
		free(c->e[i].value);
		free(c->e[i].origin);
		free(c->e[i].file);
	}
	free(c->e);
	free(c);
	*cp = NULL;
}

const struct cfg_entry *
cfg_find(const struct cfg *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].name, name) == 0)
			return &c->e[i];
	return NULL;
}

static void
cfg_store(struct cfg *c, const char *name, const char *value,
    const char *origin, const char *file, unsigned line)
{
	struct cfg_entry *e = NULL;

	for (size_t i = 0; i < c->n && e == NULL; i++)
		if (strcmp(c->e[i].name, name) == 0)
			e = &c->e[i];
	if (e == NULL) {
		if (c->n == c->cap) {
			c->cap = c->cap == 0 ? 32 : xadd(c->cap, c->cap);
			c->e = xreallocarray(c->e, c->cap, sizeof(*c->e));
		}
		e = &c->e[c->n++];
		e->name = xstrdup(name);
	} else {
		free(e->value);
		free(e->origin);
		free(e->file);
	}
	e->value = xstrdup(value);
	e->origin = xstrdup(origin);
	e->file = file == NULL ? NULL : xstrdup(file);
	e->line = line;
}

int
cfg_set(struct cfg *c, const char *name, const char *value,
    const char *origin, const char **err_r)
{
	const char *why;

	if (!cfg_name_valid(name, strlen(name))) {
		char *esc = log_escape_str(name);

		*err_r = cfg_fail("%s: bad parameter name \"%s\"", origin, esc);
		free(esc);
		return -1;
	}
	if ((why = value_problem(value, strlen(value))) != NULL) {
		*err_r = cfg_fail("%s: %s: %s", origin, name, why);
		return -1;
	}
	cfg_store(c, name, value, origin, NULL, 0);
	return 0;
}

/*
 * Postfix's split_nameval: name up to white space or '=', then '=', then
 * the value with white space trimmed at both ends.
 */
int
cfg_split_nameval(const char *s, char **name_r, char **value_r,
    const char **err_r)
{
	const char *name, *val, *end;
	size_t nlen;

	while (is_blank(*s))
		s++;
	name = s;
	while (*s != '\0' && *s != '=' && !is_blank(*s))
		s++;
	nlen = (size_t)(s - name);
	if (nlen == 0) {
		*err_r = "missing attribute name";
		return -1;
	}
	while (is_blank(*s))
		s++;
	if (*s != '=') {
		*err_r = "missing '=' after attribute name";
		return -1;
	}
	if (!cfg_name_valid(name, nlen)) {
		char *esc = log_escape(name, nlen);

		*err_r = cfg_fail("bad parameter name \"%s\"", esc);
		free(esc);
		return -1;
	}
	val = s + 1;
	while (is_blank(*val))
		val++;
	end = val + strlen(val);
	while (end > val && is_blank(end[-1]))
		end--;
	*name_r = xstrndup(name, nlen);
	*value_r = xstrndup(val, (size_t)(end - val));
	return 0;
}

int
cfg_override(struct cfg *c, const char *nameval, const char *origin,
    const char **err_r)
{
	char *name, *value;
	const char *why;
	int rc;

	if ((why = value_problem(nameval, strlen(nameval))) != NULL) {
		*err_r = cfg_fail("%s: %s", origin, why);
		return -1;
	}
	if (cfg_split_nameval(nameval, &name, &value, &why) == -1) {
		*err_r = cfg_fail("%s: %s", origin, why);
		return -1;
	}
	rc = cfg_set(c, name, value, origin, err_r);
	free(name);
	free(value);
	return rc;
}

/* Stores one logical line; -1 with err_r naming file and line. */
static int
cfg_logical(struct cfg *c, const char *file, unsigned line,
    const char *text, const char **err_r)
{
	char *name, *value, *origin;
	const char *why;

	if (cfg_split_nameval(text, &name, &value, &why) == -1) {
		*err_r = cfg_fail("%s, line %u: %s", file, line, why);
		return -1;
	}
	origin = xasprintf("%s, line %u", file, line);
	cfg_store(c, name, value, origin, file, line);
	free(origin);
	free(name);
	free(value);
	return 0;
}

int
cfg_logical_lines(const char *file, const char *text, size_t len,
    cfg_line_fn *fn, void *ctx, const char **err_r)
{
	struct buf logical;
	const char *p = text, *end = text + len;
	unsigned lineno = 0, start = 0;
	int rc = 0;

	buf_init(&logical, CFG_LINE_MAX);
	while (p < end && rc == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl == NULL ? end : nl;
		const char *q = p, *why;

		lineno++;
		if (e > p && e[-1] == '\r')
			e--;
		if ((why = value_problem(p, (size_t)(e - p))) != NULL) {
			*err_r = cfg_fail("%s, line %u: %s", file, lineno, why);
			rc = -1;
			break;
		}
		while (q < e && is_blank(*q))
			q++;
		if (q == e || *q == '#') {
			/* Blank and comment lines do not end a logical line. */
		} else if (q > p && start != 0) {
			if (buf_putc(&logical, ' ') == -1 ||
			    buf_append(&logical, q, (size_t)(e - q)) == -1) {
				*err_r = cfg_fail("%s, line %u: logical line "
				    "too long (more than %d bytes)", file,
				    start, CFG_LINE_MAX);
				rc = -1;
			}
		} else {
			if (q > p)
				log_warn("%s, line %u: logical line must not "
				    "start with whitespace", file, lineno);
			if (start != 0)
				rc = fn(ctx, file, start, buf_cstr(&logical),
				    err_r);
			buf_reset(&logical);
			start = lineno;
			if (rc == 0 && buf_append(&logical, q,
			    (size_t)(e - q)) == -1) {
				*err_r = cfg_fail("%s, line %u: logical line "
				    "too long (more than %d bytes)", file,
				    start, CFG_LINE_MAX);
				rc = -1;
			}
		}
		p = nl == NULL ? end : nl + 1;
	}
	if (rc == 0 && start != 0)
		rc = fn(ctx, file, start, buf_cstr(&logical), err_r);
	buf_deinit(&logical);
	return rc;
}

static int
parse_line(void *ctx, const char *file, unsigned line, const char *text,
    const char **err_r)
{
	return cfg_logical(ctx, file, line, text, err_r);
}

int
cfg_parse_text(struct cfg *c, const char *file, const char *text,
    size_t len, const char **err_r)
{
	return cfg_logical_lines(file, text, len, parse_line, c, err_r);
}

int
cfg_read_file(const char *path, struct buf *b, const char **err_r)
{
	char chunk[8192];
	int fd;
	ssize_t n;

	buf_init(b, CFG_FILE_MAX);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		*err_r = cfg_fail("open %s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*err_r = cfg_fail("read %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0) {
			close(fd);
			return 1;
		}
		if (buf_append(b, chunk, (size_t)n) == -1) {
			*err_r = cfg_fail("%s: file too large (more than %zu "
			    "bytes)", path, CFG_FILE_MAX);
			break;
		}
	}
	close(fd);
	return -1;
}

int
cfg_parse_file(struct cfg *c, const char *path, bool missing_ok,
    const char **err_r)
{
	struct buf b;
	int rc;

	rc = cfg_read_file(path, &b, err_r);
	if (rc == 0 && !missing_ok) {
		*err_r = cfg_fail("open %s: %s", path, strerror(ENOENT));
		rc = -1;
	} else if (rc == 1) {
		rc = cfg_parse_text(c, path, b.data == NULL ? "" : b.data,
		    b.len, err_r);
	}
	buf_deinit(&b);
	return rc < 0 ? -1 : 0;
}

/* Expansion ------------------------------------------------------------ */

struct exp_state {
	cfg_lookup_fn	*lookup;
	void		*ctx;
	struct strv	 stack;		/* names being expanded */
	size_t		 depth;
	size_t		 work;
	size_t		 base;		/* out->len at the start */
};

static int expand(struct exp_state *st, const char *s, size_t len,
    struct buf *out, const char **err_r);

static int
emit(struct exp_state *st, struct buf *out, const char *p, size_t n,
    const char **err_r)
{
	if (out->len - st->base + n > CFG_EXPAND_MAX ||
	    buf_append(out, p, n) == -1) {
		*err_r = cfg_fail("parameter expansion too long (more than "
		    "%d bytes)", CFG_EXPAND_MAX);
		return -1;
	}
	return 0;
}

/* Expands a reference to the named parameter into out. */
static int
expand_ref(struct exp_state *st, const char *name, size_t nlen,
    struct buf *out, const char **err_r)
{
	char *n = xstrndup(name, nlen);
	const char *raw;
	int rc = 0;

	if (strv_find(&st->stack, n) >= 0) {
		*err_r = cfg_fail("recursive reference to parameter %s", n);
		rc = -1;
	} else if (st->depth >= CFG_EXPAND_DEPTH) {
		*err_r = cfg_fail("parameter references nested too deeply "
		    "(more than %d) at $%s", CFG_EXPAND_DEPTH, n);
		rc = -1;
	} else if (++st->work > CFG_EXPAND_WORK) {
		*err_r = cfg_fail("too many parameter references (more than "
		    "%d)", CFG_EXPAND_WORK);
		rc = -1;
	} else if ((raw = st->lookup(n, st->ctx)) != NULL) {
		strv_push(&st->stack, n);
		st->depth++;
		rc = expand(st, raw, strlen(raw), out, err_r);
		st->depth--;
		free(st->stack.v[--st->stack.n]);
		st->stack.v[st->stack.n] = NULL;
	}
	free(n);
	return rc;
}

/* Index of the bracket closing the one at s[0], or len when none. */
static size_t
match_close(const char *s, size_t len)
{
	char open = s[0], close = open == '(' ? ')' : '}';
	size_t depth = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == open)
			depth++;
		else if (s[i] == close && --depth == 0)
			return i;
	}
	return len;
}

static void
trim_span(const char **s, size_t *len)
{
	while (*len > 0 && is_blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_blank((*s)[*len - 1]))
		(*len)--;
}

/*
 * ${name?text} / ${name:text}.  text is either plain, or "{t}" (Postfix
 * 3.x), or for '?' also "{t}:{f}".  Sets t and f (f_len 0 when absent).
 */
static int
split_cond(char op, const char *s, size_t len, const char **t, size_t *tl,
    const char **f, size_t *fl, const char **err_r)
{
	const char *p = s;
	size_t n = len, m;

	*f = NULL;
	*fl = 0;
	trim_span(&p, &n);
	if (n == 0 || p[0] != '{') {
		*t = s;
		*tl = len;
		return 0;
	}
	if ((m = match_close(p, n)) == n)
		goto bad;
	*t = p + 1;
	*tl = m - 1;
	p += m + 1;
	n -= m + 1;
	trim_span(&p, &n);
	if (n == 0)
		return 0;
	if (op != '?' || p[0] != ':')
		goto bad;
	p++;
	n--;
	trim_span(&p, &n);
	if (n == 0 || p[0] != '{' || match_close(p, n) != n - 1)
		goto bad;
	*f = p + 1;
	*fl = n - 2;
	return 0;
bad:
	*err_r = cfg_fail("bad conditional expression \"%.*s\"",
	    (int)(len > 200 ? 200 : len), s);
	return -1;
}

static int
expand_cond(struct exp_state *st, const char *name, size_t nlen, char op,
    const char *text, size_t tlen, struct buf *out, const char **err_r)
{
	struct buf val;
	const char *t, *f;
	size_t tl, fl, saved = st->base;
	bool set;
	int rc;

	if (st->depth >= CFG_EXPAND_DEPTH) {
		*err_r = cfg_fail("conditional expressions nested too deeply "
		    "(more than %d)", CFG_EXPAND_DEPTH);
		return -1;
	}
	if (split_cond(op, text, tlen, &t, &tl, &f, &fl, err_r) == -1)
		return -1;
	buf_init(&val, 0);
	st->base = 0;
	rc = expand_ref(st, name, nlen, &val, err_r);
	st->base = saved;
	set = val.len > 0;
	buf_deinit(&val);
	if (rc == -1)
		return -1;
	st->depth++;
	if (op == '?')
		rc = set ? expand(st, t, tl, out, err_r) :
		    f != NULL ? expand(st, f, fl, out, err_r) : 0;
	else
		rc = set ? 0 : expand(st, t, tl, out, err_r);
	st->depth--;
	return rc;
}

static int
expand(struct exp_state *st, const char *s, size_t len, struct buf *out,
    const char **err_r)
{
	size_t i = 0;

	while (i < len) {
		size_t lit = i, n;

		while (i < len && s[i] != '$')
			i++;
		if (i > lit && emit(st, out, s + lit, i - lit, err_r) == -1)
			return -1;
		if (i == len)
			break;
		i++;
		if (i < len && s[i] == '$') {
			if (emit(st, out, "$", 1, err_r) == -1)
				return -1;
			i++;
		} else if (i < len && (s[i] == '{' || s[i] == '(')) {
			size_t close = match_close(s + i, len - i);
			const char *in = s + i + 1;
			size_t inlen;

			if (close == len - i) {
				*err_r = cfg_fail("missing '%c' in \"%.*s\"",
				    s[i] == '(' ? ')' : '}',
				    (int)(len > 200 ? 200 : len), s);
				return -1;
			}
			inlen = close - 1;
			for (n = 0; n < inlen && is_name_char(in[n]); n++)
				;
			if (n == 0 || (n < inlen && in[n] != '?' &&
			    in[n] != ':')) {
				*err_r = cfg_fail("bad parameter reference "
				    "\"$%.*s\"", (int)(close + 1 > 200 ? 200 :
				    close + 1), s + i);
				return -1;
			}
			if (n == inlen) {
				if (expand_ref(st, in, n, out, err_r) == -1)
					return -1;
			} else if (expand_cond(st, in, n, in[n], in + n + 1,
			    inlen - n - 1, out, err_r) == -1) {
				return -1;
			}
			i += close + 1;
		} else {
			for (n = 0; i + n < len && is_name_char(s[i + n]); n++)
				;
			if (n == 0) {
				*err_r = cfg_fail("missing parameter name "
				    "after '$' in \"%.*s\"",
				    (int)(len > 200 ? 200 : len), s);
				return -1;
			}
			if (expand_ref(st, s + i, n, out, err_r) == -1)
				return -1;
			i += n;
		}
	}
	return 0;
}

int
cfg_expand(const char *raw, cfg_lookup_fn *lookup, void *ctx,
    struct buf *out, const char **err_r)
{
	struct exp_state st = {
		.lookup = lookup, .ctx = ctx, .base = out->len,
	};
	int rc;

	strv_init(&st.stack);
	rc = expand(&st, raw, strlen(raw), out, err_r);
	strv_deinit(&st.stack);
	return rc;
}

void
cfg_refs(const char *raw, struct strv *names)
{
	const char *p = raw;

	while ((p = strchr(p, '$')) != NULL) {
		size_t n;

		p++;
		if (*p == '$') {
			p++;
			continue;
		}
		if (*p == '{' || *p == '(')
			p++;
		for (n = 0; is_name_char(p[n]); n++)
			;
		if (n > 0)
			strv_push_n(names, p, n);
		p += n;
	}
}

/* Editing -------------------------------------------------------------- */

struct edit_item {
	char	*name;
	char	*value;		/* NULL: remove */
	bool	 found;
};

static struct edit_item *
edit_lookup(struct edit_item *it, size_t n, const char *name, size_t len)
{
	/* The last mention of a name wins. */
	for (size_t i = n; i-- > 0;)
		if (strlen(it[i].name) == len &&
		    memcmp(it[i].name, name, len) == 0)
			return &it[i];
	return NULL;
}

static void
edit_emit(struct buf *out, const struct edit_item *it)
{
	if (it->value[0] == '\0')
		buf_addf(out, "%s =\n", it->name);
	else
		buf_addf(out, "%s = %s\n", it->name, it->value);
}

int
cfg_edit_text(const char *in, size_t len, const struct strv *set,
    const struct strv *remove, struct buf *out, const char **err_r)
{
	size_t nset = set == NULL ? 0 : set->n;
	size_t nrm = remove == NULL ? 0 : remove->n, n = 0;
	struct edit_item *it = xcalloc(nset + nrm + 1, sizeof(*it));
	const char *p = in, *end = in + len, *why;
	bool skipping = false;
	int rc = -1;

	for (size_t i = 0; i < nrm; i++, n++) {
		it[n].name = xstrdup(remove->v[i]);
		if (!cfg_name_valid(it[n].name, strlen(it[n].name))) {
			char *esc = log_escape_str(it[n].name);

			*err_r = cfg_fail("bad parameter name \"%s\"", esc);
			free(esc);
			n++;
			goto out;
		}
	}
	for (size_t i = 0; i < nset; i++, n++) {
		if ((why = value_problem(set->v[i], strlen(set->v[i]))) !=
		    NULL) {
			*err_r = cfg_fail("%s", why);
			goto out;
		}
		if (cfg_split_nameval(set->v[i], &it[n].name, &it[n].value,
		    &why) == -1) {
			char *esc = log_escape_str(set->v[i]);

			*err_r = cfg_fail("\"%s\": %s", esc, why);
			free(esc);
			goto out;
		}
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl == NULL ? end : nl + 1, *q = p;
		struct edit_item *hit;
		size_t nlen;

		while (q < e && is_blank(*q))
			q++;
		if (q == e || *q == '\n' || *q == '\r' || *q == '#') {
			buf_add(out, p, (size_t)(e - p));
		} else if (q > p) {
			if (!skipping)
				buf_add(out, p, (size_t)(e - p));
		} else {
			for (nlen = 0; q + nlen < e && q[nlen] != '=' &&
			    !is_blank(q[nlen]) && q[nlen] != '\n' &&
			    q[nlen] != '\r'; nlen++)
				;
			hit = edit_lookup(it, n, q, nlen);
			skipping = hit != NULL;
			if (hit == NULL) {
				buf_add(out, p, (size_t)(e - p));
			} else if (hit->value != NULL) {
				if (hit->found)
					log_warn("multiple entries for \"%s\"",
					    hit->name);
				edit_emit(out, hit);
			}
			if (hit != NULL)
				hit->found = true;
		}
		if (nl == NULL && e > p && !skipping && out->len > 0 &&
		    out->data[out->len - 1] != '\n')
			buf_addc(out, '\n');
		p = e;
	}
	for (size_t i = 0; i < n; i++)
		if (it[i].value != NULL && !it[i].found &&
		    edit_lookup(it, n, it[i].name, strlen(it[i].name)) ==
		    &it[i]) {
			if (out->len > 0 && out->data[out->len - 1] != '\n')
				buf_addc(out, '\n');
			edit_emit(out, &it[i]);
		}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++) {
		free(it[i].name);
		free(it[i].value);
	}
	free(it);
	return rc;
}

int
cfg_edit_file(const char *path, const struct strv *set,
    const struct strv *remove, const char **err_r)
{
	struct buf in, out;
	struct stat sb;
	mode_t mode = 0644;
	int rc = -1, r;

	buf_init(&out, 0);
	if ((r = cfg_read_file(path, &in, err_r)) == -1)
		goto done;
	if (r == 1 && stat(path, &sb) == 0)
		mode = sb.st_mode & 07777;
	if (cfg_edit_text(buf_cstr(&in), in.len, set, remove, &out,
	    err_r) == -1)
		goto done;
	rc = safefile_replace(path, out.data, out.len, mode, err_r);
done:
	buf_deinit(&in);
	buf_deinit(&out);
	return rc;
}
