/* SPDX-License-Identifier: MIT */
/*
 * The regexp: table, in regexp_table(5) syntax: "/pattern/flags result"
 * and "!/pattern/flags result" rules tried in order, "if /pattern/" ...
 * "endif" blocks that nest, any non-alphanumerical delimiter, the flags
 * i (case, default insensitive), x (extended syntax, default on) and m
 * (newline-sensitive, default off), and $1, ${1}, $(1) and $$ in results.
 * Patterns are POSIX regular expressions (regcomp).  Rules that cannot be
 * used are warned about with file and line and skipped, as Postfix does;
 * only an unreadable file fails the open.
 */
#include "config.h"

#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dict.h"
#include "log.h"
#include "xalloc.h"

/* Results longer than this (after substitution) are a lookup error. */
#define REGEXP_RESULT_MAX	(1024 * 1024)

enum rule_op { RULE_MATCH, RULE_IF, RULE_ENDIF };

struct rule {
	enum rule_op	 op;
	bool		 negate;
	regex_t		 re;
	char		*result;	/* RULE_MATCH only */
	size_t		 end;		/* RULE_IF: index of its ENDIF */
};

struct regexp {
	struct rule	*rules;
	size_t		 n, cap;
	size_t		*open;		/* stack of unclosed IF indexes */
	size_t		 nopen, capopen;
	const char	*path;
	regmatch_t	*match;
	size_t		 nmatch;
	struct buf	 result;
};

static bool
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\f' || c == '\v';
}

/*
 * Parses "[!]<d>pattern<d>flags" at *sp, compiles it into re and moves *sp
 * past it.  Returns 0, or -1 after a warning.
 */
static int
parse_pattern(struct regexp *r, long line, char **sp, bool *negate_r,
    regex_t *re, int extra_cflags)
{
	char *p = *sp, *pat, delim;
	int cflags = REG_EXTENDED | REG_ICASE | extra_cflags, rc;

	*negate_r = false;
	if (*p == '!') {
		*negate_r = true;
		for (p++; is_ws((unsigned char)*p); p++)
			;
	}
	delim = *p;
	if (delim == '\0' || isalnum((unsigned char)delim) ||
	    is_ws((unsigned char)delim) || delim == '\\') {
		log_warn("regexp map %s, line %ld: invalid regexp delimiter "
		    "\"%c\": skipping this rule", r->path, line,
		    delim == '\0' ? ' ' : delim);
		return -1;
	}
	pat = ++p;
	for (; *p != '\0' && *p != delim; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	if (*p != delim) {
		log_warn("regexp map %s, line %ld: no closing regexp delimiter "
		    "\"%c\": skipping this rule", r->path, line, delim);
		return -1;
	}
	*p++ = '\0';
	for (; *p != '\0' && !is_ws((unsigned char)*p); p++) {
		switch (*p) {
		case 'i':
			cflags ^= REG_ICASE;
			break;
		case 'x':
			cflags ^= REG_EXTENDED;
			break;
		case 'm':
			cflags ^= REG_NEWLINE;
			break;
		default:
			log_warn("regexp map %s, line %ld: unknown regexp "
			    "option \"%c\": skipping this rule", r->path, line,
			    isprint((unsigned char)*p) ? *p : '?');
			return -1;
		}
	}
	if ((rc = regcomp(re, pat, cflags)) != 0) {
		char msg[256];
		char *e = log_escape_str(pat);

		regerror(rc, re, msg, sizeof(msg));
		log_warn("regexp map %s, line %ld: regexp \"%s\": %s: "
		    "skipping this rule", r->path, line, e, msg);
		free(e);
		return -1;
	}
	while (is_ws((unsigned char)*p))
		p++;
	*sp = p;
	return 0;
}

/*
 * Walks the $ macros of a result.  With out == NULL it only checks them
 * against nsub (warning and returning -1 on bad syntax); otherwise it
 * expands them from the match of key into out (-1 when out is full).
 */
static int
walk_result(struct regexp *r, long line, const char *s, size_t nsub,
    bool negate, const char *key, struct buf *out)
{
	for (; *s != '\0'; s++) {
		const char *name, *end;
		char close = '\0';
		unsigned long idx = 0;

		if (*s != '$' || s[1] == '$') {
			if (out != NULL && buf_putc(out, *s) < 0)
				return -1;
			s += *s == '$';
			continue;
		}
		s++;
		if (*s == '{' || *s == '(')
			close = *s == '{' ? '}' : ')', s++;
		for (name = end = s; isalnum((unsigned char)*end) ||
		    *end == '_'; end++)
			;
		if (out == NULL) {
			if (end == name || (close != '\0' && *end != close)) {
				log_warn("regexp map %s, line %ld: bad "
				    "replacement syntax: skipping this rule",
				    r->path, line);
				return -1;
			}
			for (const char *q = name; q < end; q++) {
				if (!isdigit((unsigned char)*q)) {
					char *e = xstrndup(name, end - name);

					log_warn("regexp map %s, line %ld: "
					    "non-numeric replacement index "
					    "\"%s\": skipping this rule",
					    r->path, line, e);
					free(e);
					return -1;
				}
				if (idx <= 1000)
					idx = idx * 10 + (*q - '0');
			}
			if (negate) {
				log_warn("regexp map %s, line %ld: $number "
				    "found in negative match replacement "
				    "text: skipping this rule", r->path, line);
				return -1;
			}
			if (idx < 1 || idx > nsub) {
				char *e = xstrndup(name, end - name);

				log_warn("regexp map %s, line %ld: out of "
				    "range replacement index \"%s\": "
				    "skipping this rule", r->path, line, e);
				free(e);
				return -1;
			}
		} else {
			for (const char *q = name; q < end; q++)
				idx = idx * 10 + (*q - '0');
			if (idx < r->nmatch && r->match[idx].rm_so >= 0 &&
			    buf_append(out, key + r->match[idx].rm_so,
			    r->match[idx].rm_eo - r->match[idx].rm_so) < 0)
				return -1;
		}
		s = close != '\0' ? end : end - 1;
	}
	return 0;
}

static struct rule *
rule_push(struct regexp *r)
{
	if (r->n == r->cap) {
		r->cap = r->cap == 0 ? 16 : r->cap * 2;
		r->rules = xreallocarray(r->rules, r->cap, sizeof(*r->rules));
	}
	memset(&r->rules[r->n], 0, sizeof(r->rules[0]));
	return &r->rules[r->n++];
}

static bool
keyword(const char *s, const char *kw)
{
	size_t n = strlen(kw);

	return strncasecmp(s, kw, n) == 0 &&
	    !isalnum((unsigned char)s[n]) && s[n] != '_';
}

static int
regexp_line(void *ctx, char *s, long line)
{
	struct regexp *r = ctx;
	struct rule *rule;
	regex_t re;
	bool negate;

	if (keyword(s, "endif")) {
		if (r->nopen == 0) {
			log_warn("regexp map %s, line %ld: ignoring ENDIF "
			    "without matching IF", r->path, line);
			return 0;
		}
		r->rules[r->open[--r->nopen]].end = r->n;
		rule_push(r)->op = RULE_ENDIF;
		return 0;
	}
	if (keyword(s, "if")) {
		for (s += 2; is_ws((unsigned char)*s); s++)
			;
		if (parse_pattern(r, line, &s, &negate, &re, REG_NOSUB) < 0)
			return 0;
		if (*s != '\0')
			log_warn("regexp map %s, line %ld: ignoring extra text "
			    "after IF statement", r->path, line);
		rule = rule_push(r);
		rule->op = RULE_IF;
		rule->negate = negate;
		rule->re = re;
		if (r->nopen == r->capopen) {
			r->capopen = r->capopen == 0 ? 8 : r->capopen * 2;
			r->open = xreallocarray(r->open, r->capopen,
			    sizeof(*r->open));
		}
		r->open[r->nopen++] = r->n - 1;
		/* Remember the line for the "no matching ENDIF" warning. */
		rule->end = (size_t)line;
		return 0;
	}
	if (parse_pattern(r, line, &s, &negate, &re, 0) < 0)
		return 0;
	if (*s == '\0')
		log_warn("regexp map %s, line %ld: no replacement text: "
		    "using empty string", r->path, line);
	if (walk_result(r, line, s, re.re_nsub, negate, NULL, NULL) < 0) {
		regfree(&re);
		return 0;
	}
	if (re.re_nsub + 1 > r->nmatch)
		r->nmatch = re.re_nsub + 1;
	rule = rule_push(r);
	rule->op = RULE_MATCH;
	rule->negate = negate;
	rule->re = re;
	rule->result = xstrdup(s);
	return 0;
}

static int
regexp_lookup(struct dict *d, const char *key, const char **value_r)
{
	struct regexp *r = d->priv;

	for (size_t i = 0; i < r->n; i++) {
		struct rule *rule = &r->rules[i];
		bool hit;

		if (rule->op == RULE_ENDIF)
			continue;
		hit = regexec(&rule->re, key, rule->op == RULE_IF ? 0 :
		    r->nmatch, rule->op == RULE_IF ? NULL : r->match, 0) == 0;
		if (hit == rule->negate) {
			if (rule->op == RULE_IF)
				i = rule->end;
			continue;
		}
		if (rule->op == RULE_IF)
			continue;
		buf_reset(&r->result);
		if (walk_result(r, 0, rule->result, 0, rule->negate, key,
		    &r->result) < 0)
			return dict_set_err(d, "regexp:%s: result too long",
			    d->name);
		*value_r = buf_cstr(&r->result);
		return 1;
	}
	return 0;
}

static void
regexp_close(struct dict *d)
{
	struct regexp *r = d->priv;

	for (size_t i = 0; i < r->n; i++) {
		if (r->rules[i].op != RULE_ENDIF)
			regfree(&r->rules[i].re);
		free(r->rules[i].result);
	}
	free(r->rules);
	free(r->open);
	free(r->match);
	buf_deinit(&r->result);
	free(r);
}

static const struct dict_ops regexp_ops = {
	.lookup = regexp_lookup,
	.close = regexp_close,
};

struct dict *
dict_regexp_open(const char *name, int flags, const char **err_r)
{
	struct regexp *r = xcalloc(1, sizeof(*r));
	struct dict *d = dict_alloc("regexp", name, flags, &regexp_ops);
	const char *err = NULL;

	d->priv = r;
	r->path = d->name;
	buf_init(&r->result, REGEXP_RESULT_MAX);
	if (dict_read_lines(name, regexp_line, r, &err) < 0) {
		dict_open_err(err_r, "%s", err);
		dict_free(&d);
		return NULL;
	}
	/* Unclosed IFs end at the end of the file. */
	while (r->nopen > 0) {
		size_t i = r->open[--r->nopen];

		log_warn("regexp map %s, line %zu: IF has no matching ENDIF",
		    r->path, r->rules[i].end);
		r->rules[i].end = r->n;
		rule_push(r)->op = RULE_ENDIF;
	}
	r->nmatch = r->nmatch == 0 ? 1 : r->nmatch;
	r->match = xcalloc(r->nmatch, sizeof(*r->match));
	return d;
}
