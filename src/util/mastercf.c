/* SPDX-License-Identifier: MIT */
/*
 * master.cf parsing and validation, column by column, with file and line
 * in every error; see mastercf.h.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cfg.h"
#include "log.h"
#include "mastercf.h"
#include "str.h"
#include "xalloc.h"

static char mcf_err[1024];

static int
mcf_fail(const char **err_r, const char *fmt, ...) LOG_PRINTF(2, 3);

static int
mcf_fail(const char **err_r, const char *fmt, ...)
{
	char tmp[sizeof(mcf_err)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(mcf_err, tmp, sizeof(mcf_err));
	*err_r = mcf_err;
	return -1;
}

static inline bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
entry_deinit(struct mastercf_entry *e)
{
	for (size_t i = 0; i < MASTERCF_COLUMNS; i++)
		free(e->col[i]);
	strv_deinit(&e->argv);
	strv_deinit(&e->overrides);
	free(e->file);
}

void
mastercf_free(struct mastercf **mcp)
{
	struct mastercf *mc = *mcp;

	if (mc == NULL)
		return;
	for (size_t i = 0; i < mc->n; i++)
		entry_deinit(&mc->e[i]);
	free(mc->e);
	free(mc);
	*mcp = NULL;
}

/*
 * Splits a logical line into words; "{ text }" is one word (its content,
 * trimmed).  braced marks such words.  -1 on an unbalanced brace.
 */
static int
split_words(const char *s, struct strv *words, struct strv *braced)
{
	while (*s != '\0') {
		const char *start;

		while (is_blank(*s))
			s++;
		if (*s == '\0')
			break;
		if (*s == '{') {
			size_t depth = 0, n;
			const char *in;

			for (start = s; *s != '\0'; s++) {
				if (*s == '{')
					depth++;
				else if (*s == '}' && --depth == 0)
					break;
			}
			if (*s != '}')
				return -1;
			in = start + 1;
			n = (size_t)(s - in);
			while (n > 0 && is_blank(*in))
				in++, n--;
			while (n > 0 && is_blank(in[n - 1]))
				n--;
			strv_push_n(words, in, n);
			strv_push(braced, "y");
			s++;
			continue;
		}
		for (start = s; *s != '\0' && !is_blank(*s); s++)
			;
		strv_push_n(words, start, (size_t)(s - start));
		strv_push(braced, "n");
	}
	return 0;
}

static bool
valid_chars(const char *s, const char *extra)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr(extra, *s) != NULL))
			return false;
	return true;
}

/* inet: [host:]port, host may be [IPv6]; port a number or a name. */
static bool
valid_inet(const char *s)
{
	const char *colon = strrchr(s, ':');
	const char *port = colon == NULL ? s : colon + 1;
	long long n;
	const char *why;

	if (colon != NULL) {
		size_t hl = (size_t)(colon - s);
		char *host = xstrndup(s, hl);
		bool ok = hl > 0 && (host[0] == '[' ? host[hl - 1] == ']' &&
		    hl > 2 : valid_chars(host, ".-_"));

		if (ok && host[0] == '[') {
			host[hl - 1] = '\0';
			ok = valid_chars(host + 1, ":.");
		}
		free(host);
		if (!ok)
			return false;
	}
	if (*port >= '0' && *port <= '9')
		return str_to_ll(port, 1, 65535, &n, &why) == 0;
	return valid_chars(port, "-_");
}

static bool
yes_no(const char *s, bool def, bool *v_r)
{
	if (str_eq(s, "-"))
		*v_r = def;
	else if (str_eq(s, "y"))
		*v_r = true;
	else if (str_eq(s, "n"))
		*v_r = false;
	else
		return false;
	return true;
}

static int
parse_entry(struct mastercf *mc, const char *file, unsigned line,
    const char *text, unsigned default_maxproc, const char **err_r)
{
	static const char *const types[] = {
		"inet", "unix", "unix-dgram", "fifo", "pass",
	};
	static const char *const names[] = {
		"service", "type", "private", "unpriv", "chroot", "wakeup",
		"maxproc",
	};
	struct mastercf_entry e;
	struct strv w, br;
	long long n;
	const char *why;
	char *esc = NULL;
	int rc = -1;
	size_t i;

	memset(&e, 0, sizeof(e));
	strv_init(&w);
	strv_init(&br);
	if (split_words(text, &w, &br) == -1) {
		mcf_fail(err_r, "%s, line %u: missing '}'", file, line);
		goto out;
	}
	if (w.n < MASTERCF_COLUMNS + 1) {
		mcf_fail(err_r, "%s, line %u: expected %d columns and a "
		    "command, got %zu field%s", file, line, MASTERCF_COLUMNS,
		    w.n, w.n == 1 ? "" : "s");
		goto out;
	}
	for (i = 0; i < MASTERCF_COLUMNS; i++) {
		if (br.v[i][0] == 'y') {
			mcf_fail(err_r, "%s, line %u: %s: braces not allowed",
			    file, line, names[i]);
			goto out;
		}
		e.col[i] = xstrdup(w.v[i]);
	}
	e.service = e.col[0];
	e.type = e.col[1];
	for (i = 0; i < (sizeof(types) / sizeof(types[0])); i++)
		if (str_eq(e.type, types[i]))
			break;
	esc = log_escape_str(i == (sizeof(types) / sizeof(types[0])) ? e.type : e.service);
	if (i == (sizeof(types) / sizeof(types[0]))) {
		mcf_fail(err_r, "%s, line %u: bad service type \"%s\" "
		    "(expected inet, unix, unix-dgram, fifo or pass)", file,
		    line, esc);
		goto out;
	}
	if (str_eq(e.type, "inet") ? !valid_inet(e.service) :
	    !valid_chars(e.service, "-_./") || strstr(e.service, "..")) {
		mcf_fail(err_r, "%s, line %u: bad service name \"%s\"", file,
		    line, esc);
		goto out;
	}
	if (!yes_no(e.col[2], true, &e.private_service) ||
	    !yes_no(e.col[3], true, &e.unpriv) ||
	    !yes_no(e.col[4], false, &e.chroot)) {
		for (i = 2; i < 5 && yes_no(e.col[i], false, &e.chroot); i++)
			;
		free(esc);
		esc = log_escape_str(e.col[i]);
		mcf_fail(err_r, "%s, line %u: %s: expected y, n or -, got "
		    "\"%s\"", file, line, names[i], esc);
		goto out;
	}
	yes_no(e.col[4], false, &e.chroot);
	if (!str_eq(e.col[5], "-")) {
		char *num = xstrdup(e.col[5]);
		size_t l = strlen(num);

		if (l > 0 && num[l - 1] == '?') {
			num[l - 1] = '\0';
			e.wakeup_if_used = true;
		}
		rc = num[0] >= '0' && num[0] <= '9' ?
		    str_to_ll(num, 0, INT_MAX, &n, &why) : -1;
		free(num);
		if (rc == -1) {
			free(esc);
			esc = log_escape_str(e.col[5]);
			mcf_fail(err_r, "%s, line %u: wakeup: expected a "
			    "number of seconds, optionally followed by '?', "
			    "got \"%s\"", file, line, esc);
			goto out;
		}
		rc = -1;
		e.wakeup = (unsigned)n;
	}
	e.maxproc = default_maxproc;
	if (!str_eq(e.col[6], "-")) {
		if (e.col[6][0] < '0' || e.col[6][0] > '9' ||
		    str_to_ll(e.col[6], 0, INT_MAX, &n, &why) == -1) {
			free(esc);
			esc = log_escape_str(e.col[6]);
			mcf_fail(err_r, "%s, line %u: maxproc: expected a "
			    "number, got \"%s\"", file, line, esc);
			goto out;
		}
		e.maxproc = (unsigned)n;
	}
	for (i = MASTERCF_COLUMNS; i < w.n; i++) {
		char *name, *value;

		strv_push(&e.argv, w.v[i]);
		if (i == MASTERCF_COLUMNS || !str_eq(w.v[i], "-o") ||
		    br.v[i][0] == 'y')
			continue;
		if (++i == w.n) {
			mcf_fail(err_r, "%s, line %u: -o without name=value",
			    file, line);
			goto out;
		}
		if (cfg_split_nameval(w.v[i], &name, &value, &why) == -1) {
			mcf_fail(err_r, "%s, line %u: -o %s: %s", file, line,
			    w.v[i], why);
			goto out;
		}
		strv_push_owned(&e.argv, xasprintf("%s=%s", name, value));
		strv_push_owned(&e.overrides, xasprintf("%s=%s", name, value));
		free(name);
		free(value);
	}
	for (i = 0; i < mc->n; i++)
		if (str_eq(mc->e[i].service, e.service) &&
		    str_eq(mc->e[i].type, e.type)) {
			mcf_fail(err_r, "%s, line %u: duplicate service %s/%s "
			    "(first at line %u)", file, line, esc, e.type,
			    mc->e[i].line);
			goto out;
		}
	e.file = xstrdup(file);
	e.line = line;
	if (mc->n == mc->cap) {
		mc->cap = mc->cap == 0 ? 16 : xadd(mc->cap, mc->cap);
		mc->e = xreallocarray(mc->e, mc->cap, sizeof(*mc->e));
	}
	mc->e[mc->n++] = e;
	rc = 0;
out:
	if (rc == -1)
		entry_deinit(&e);
	free(esc);
	strv_deinit(&w);
	strv_deinit(&br);
	return rc;
}

struct parse_ctx {
	struct mastercf	*mc;
	unsigned	 default_maxproc;
};

static int
parse_line(void *ctx, const char *file, unsigned line, const char *text,
    const char **err_r)
{
	struct parse_ctx *pc = ctx;

	return parse_entry(pc->mc, file, line, text, pc->default_maxproc,
	    err_r);
}

int
mastercf_parse_text(const char *file, const char *text, size_t len,
    unsigned default_maxproc, struct mastercf **mc_r, const char **err_r)
{
	struct parse_ctx pc = { xcalloc(1, sizeof(*pc.mc)), default_maxproc };

	if (cfg_logical_lines(file, text, len, parse_line, &pc, err_r) == -1) {
		mastercf_free(&pc.mc);
		return -1;
	}
	*mc_r = pc.mc;
	return 0;
}

int
mastercf_parse_file(const char *path, unsigned default_maxproc,
    struct mastercf **mc_r, const char **err_r)
{
	struct buf b;
	int rc = cfg_read_file(path, &b, err_r);

	if (rc == 0)
		rc = mcf_fail(err_r, "open %s: %s", path, strerror(ENOENT));
	else if (rc == 1)
		rc = mastercf_parse_text(path, buf_cstr(&b), b.len,
		    default_maxproc, mc_r, err_r);
	buf_deinit(&b);
	return rc;
}

const struct mastercf_entry *
mastercf_find(const struct mastercf *mc, const char *service,
    const char *type)
{
	for (size_t i = 0; i < mc->n; i++)
		if (str_eq(mc->e[i].service, service) &&
		    (type == NULL || str_eq(mc->e[i].type, type)))
			return &mc->e[i];
	return NULL;
}

char *
mastercf_format(const struct mastercf_entry *e)
{
	struct buf b;

	buf_init(&b, 0);
	buf_addf(&b, "%-10s %-5s %-7s %-7s %-7s %-7s %-7s", e->col[0],
	    e->col[1], e->col[2], e->col[3], e->col[4], e->col[5], e->col[6]);
	for (size_t i = 0; i < e->argv.n; i++) {
		const char *a = e->argv.v[i];

		if (a[0] == '\0' || strpbrk(a, " \t") != NULL)
			buf_addf(&b, " { %s }", a);
		else
			buf_addf(&b, " %s", a);
	}
	return buf_steal(&b);
}
