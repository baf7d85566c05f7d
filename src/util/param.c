/* SPDX-License-Identifier: MIT */
/*
 * Typed parameter tables and parameter sets: raw values with their origin,
 * lazy $-expansion with caching, validation by type and bounds, warnings
 * about unknown names; see param.h.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cfg.h"
#include "log.h"
#include "param.h"
#include "str.h"
#include "xalloc.h"

struct param_slot {
	const struct param_def *def;
	char		*computed;	/* def_fn result, cached */
	bool		 computing;
	char		*fixed;		/* param_set_fixed value */
	bool		 loading;
	char		*exp;		/* expanded value, cached */
	long long	 num;
	bool		 num_done;
	struct strv	 list;
	bool		 list_done;
};

struct param_set {
	struct cfg	*cfg;
	struct param_slot *slot;	/* sorted by name */
	size_t		 n, cap;
	char		*tmp;		/* param_expand result */
	int		 busy;		/* nesting of def_fn calls */
	char		*pending;	/* first error seen inside a def_fn */
};

static char param_errbuf[1024];

#define param_fail(...) \
	str_fmt_buf(param_errbuf, sizeof(param_errbuf), __VA_ARGS__)

static const char *origin_of(struct param_set *ps, const char *name);

/* Fails with "expected WHAT, got "VALUE"" (value escaped, shortened). */
static int
bad_value(const char **err_r, const char *what, const char *value)
{
	char *esc = log_escape_str(value);

	*err_r = param_fail("expected %s, got \"%.100s%s\"", what, esc,
	    strlen(esc) > 100 ? "..." : "");
	free(esc);
	return -1;
}

struct param_set *
param_set_new(void)
{
	struct param_set *ps = xcalloc(1, sizeof(*ps));

	ps->cfg = cfg_new();
	return ps;
}

/* Drops every cached expansion: some raw value changed. */
static void
param_invalidate(struct param_set *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		struct param_slot *s = &ps->slot[i];

		free(s->computed);
		s->computed = NULL;
		free(s->exp);
		s->exp = NULL;
		s->num_done = false;
		strv_deinit(&s->list);
		s->list_done = false;
	}
}

void
param_set_free(struct param_set **psp)
{
	struct param_set *ps = *psp;

	if (ps == NULL)
		return;
	param_invalidate(ps);
	for (size_t i = 0; i < ps->n; i++)
		free(ps->slot[i].fixed);
	free(ps->slot);
	free(ps->tmp);
	free(ps->pending);
	cfg_free(&ps->cfg);
	free(ps);
	*psp = NULL;
}

static int
slot_cmp(const void *a, const void *b)
{
	const struct param_slot *x = a, *y = b;

	return strcmp(x->def->name, y->def->name);
}

void
param_set_add_table(struct param_set *ps, const struct param_def *defs)
{
	for (; defs->name != NULL; defs++) {
		if (param_find(ps, defs->name) != NULL)
			panic("parameter %s defined twice", defs->name);
		if (ps->n == ps->cap) {
			ps->cap = ps->cap == 0 ? 64 : xadd(ps->cap, ps->cap);
			ps->slot = xreallocarray(ps->slot, ps->cap,
			    sizeof(*ps->slot));
		}
		memset(&ps->slot[ps->n], 0, sizeof(ps->slot[ps->n]));
		ps->slot[ps->n++].def = defs;
		qsort(ps->slot, ps->n, sizeof(*ps->slot), slot_cmp);
	}
	param_invalidate(ps);
}

static struct param_slot *
slot_find(const struct param_set *ps, const char *name)
{
	size_t lo = 0, hi = ps->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, ps->slot[mid].def->name);

		if (c == 0)
			return &ps->slot[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct param_def *
param_find(const struct param_set *ps, const char *name)
{
	struct param_slot *s = slot_find(ps, name);

	return s == NULL ? NULL : s->def;
}

void
param_names(const struct param_set *ps, struct strv *names)
{
	for (size_t i = 0; i < ps->n; i++)
		strv_push(names, ps->slot[i].def->name);
}

const struct cfg *
param_set_cfg(const struct param_set *ps)
{
	return ps->cfg;
}

int
param_set_load_file(struct param_set *ps, const char *path, bool missing_ok,
    const char **err_r)
{
	param_invalidate(ps);
	return cfg_parse_file(ps->cfg, path, missing_ok, err_r);
}

int
param_set_load_text(struct param_set *ps, const char *file, const char *text,
    const char **err_r)
{
	param_invalidate(ps);
	return cfg_parse_text(ps->cfg, file, text, strlen(text), err_r);
}

int
param_set_override(struct param_set *ps, const char *nameval,
    const char **err_r)
{
	param_invalidate(ps);
	return cfg_override(ps->cfg, nameval, "command line", err_r);
}

void
param_set_fixed(struct param_set *ps, const char *name, const char *value)
{
	struct param_slot *s = slot_find(ps, name);

	if (s == NULL)
		panic("param_set_fixed: unknown parameter %s", name);
	free(s->fixed);
	s->fixed = xstrdup(value);
	param_invalidate(ps);
}

static const char *
slot_default(struct param_set *ps, struct param_slot *s)
{
	if (s->fixed != NULL)
		return s->fixed;
	if (s->def->def_fn == NULL)
		return s->def->def == NULL ? "" : s->def->def;
	if (s->computed == NULL) {
		if (s->computing) {
			/* A user's $reference led back here: an error. */
			const char *who = s->def->name;

			/* Name the user's assignment that closed the loop. */
			for (size_t i = 0; i < ps->n; i++)
				if (ps->slot[i].loading && strcmp(origin_of(ps,
				    ps->slot[i].def->name), "default value"))
					who = ps->slot[i].def->name;
			if (ps->pending == NULL)
				ps->pending = xasprintf("%s: %s: recursive "
				    "reference to parameter %s",
				    origin_of(ps, who), who, s->def->name);
			return "";
		}
		s->computing = true;
		ps->busy++;
		s->computed = s->def->def_fn(ps);
		ps->busy--;
		s->computing = false;
	}
	return s->computed;
}

const char *
param_default(struct param_set *ps, const char *name)
{
	struct param_slot *s = slot_find(ps, name);

	return s == NULL ? NULL : slot_default(ps, s);
}

const char *
param_raw(struct param_set *ps, const char *name, enum param_origin *origin_r)
{
	struct param_slot *s = slot_find(ps, name);
	const struct cfg_entry *e = NULL;
	enum param_origin o = PARAM_ORIGIN_DEFAULT;
	const char *v = NULL;

	if (s == NULL || (s->def->flags & PARAM_F_READONLY) == 0)
		e = cfg_find(ps->cfg, name);
	if (e != NULL) {
		v = e->value;
		o = e->file != NULL ? PARAM_ORIGIN_FILE : PARAM_ORIGIN_OVERRIDE;
	} else if (s != NULL) {
		v = slot_default(ps, s);
	}
	if (origin_r != NULL)
		*origin_r = o;
	return v;
}

static const char *
lookup_raw(const char *name, void *ctx)
{
	return param_raw(ctx, name, NULL);
}

int
param_expand(struct param_set *ps, const char *raw, const char **val_r,
    const char **err_r)
{
	struct buf b;

	buf_init(&b, 0);
	if (cfg_expand(raw, lookup_raw, ps, &b, err_r) == -1) {
		buf_deinit(&b);
		return -1;
	}
	free(ps->tmp);
	ps->tmp = buf_steal(&b);
	*val_r = ps->tmp;
	return 0;
}

static int
check_number(const struct param_def *def, const char *v, long long n,
    const char **err_r)
{
	if ((def->min != 0 || def->max != 0) && (n < def->min ||
	    n > def->max)) {
		*err_r = param_fail("value %s out of range (expected %lld..%lld"
		    "%s)", v, def->min, def->max,
		    def->type == PARAM_TIME ? " seconds" :
		    def->type == PARAM_SIZE ? " bytes" : "");
		return -1;
	}
	return 0;
}

static int
check_time(const struct param_def *def, const char *v, long long *num_r,
    const char **err_r)
{
	static const char what[] = "a time (a number with optional unit s, "
	    "m, h, d or w)";
	long long n = 0, mul;
	const char *p = v;
	char unit;

	if (*p < '0' || *p > '9')
		return bad_value(err_r, what, v);
	for (; *p >= '0' && *p <= '9'; p++)
		if (__builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, *p - '0', &n)) {
			*err_r = param_fail("time value %.40s too large", v);
			return -1;
		}
	unit = *p != '\0' ? *p++ : def->unit != 0 ? def->unit : 's';
	if (*p != '\0')
		return bad_value(err_r, what, v);
	switch (unit) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	case 'w': mul = 604800; break;
	default:
		return bad_value(err_r, what, v);
	}
	if (__builtin_mul_overflow(n, mul, &n) || n > INT_MAX) {
		*err_r = param_fail("time value %.40s too large", v);
		return -1;
	}
	*num_r = n;
	return check_number(def, v, n, err_r);
}

static int
check_map(const char *v, const char **err_r)
{
	struct strv items;
	int rc = 0;

	strv_init(&items);
	param_split_list(v, &items);
	for (size_t i = 0; i < items.n && rc == 0; i++) {
		const char *p = items.v[i];
		size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

		if (n == 0 || p[n] != ':' || p[n + 1] == '\0')
			rc = bad_value(err_r, "lookup tables as type:name", p);
	}
	strv_deinit(&items);
	return rc;
}

int
param_check(const struct param_def *def, const char *v, long long *num_r,
    const char **err_r)
{
	long long n = 0;
	const char *why;

	if ((def->flags & PARAM_F_NONEMPTY) && v[0] == '\0') {
		*err_r = param_fail("value must not be empty");
		return -1;
	}
	switch (def->type) {
	case PARAM_STR:
	case PARAM_LIST:
		break;
	case PARAM_BOOL:
		if (str_eq_ci(v, "yes"))
			n = 1;
		else if (!str_eq_ci(v, "no"))
			return bad_value(err_r, "yes or no", v);
		break;
	case PARAM_INT:
		if (str_to_ll(v, LLONG_MIN, LLONG_MAX, &n, &why) == -1)
			return bad_value(err_r, "an integer", v);
		if (check_number(def, v, n, err_r) == -1)
			return -1;
		break;
	case PARAM_SIZE:
		if (v[0] < '0' || v[0] > '9' ||
		    str_to_ll(v, 0, LLONG_MAX, &n, &why) == -1)
			return bad_value(err_r, "a size in bytes", v);
		if (check_number(def, v, n, err_r) == -1)
			return -1;
		break;
	case PARAM_TIME:
		if (check_time(def, v, &n, err_r) == -1)
			return -1;
		break;
	case PARAM_MAP:
		if (check_map(v, err_r) == -1)
			return -1;
		break;
	}
	if (num_r != NULL)
		*num_r = n;
	return 0;
}

void
param_split_list(const char *s, struct strv *items)
{
	static const char seps[] = ", \t\r\n";

	while (*s != '\0') {
		const char *start;
		size_t depth = 0;

		s += strspn(s, seps);
		start = s;
		while (*s != '\0' && (depth > 0 || strchr(seps, *s) == NULL)) {
			if (*s == '{')
				depth++;
			else if (*s == '}' && depth > 0)
				depth--;
			s++;
		}
		if (s > start)
			strv_push_n(items, start, (size_t)(s - start));
	}
}

/* Origin of name's raw value, for messages. */
static const char *
origin_of(struct param_set *ps, const char *name)
{
	const struct param_def *d = param_find(ps, name);
	const struct cfg_entry *e = NULL;

	if (d == NULL || (d->flags & PARAM_F_READONLY) == 0)
		e = cfg_find(ps->cfg, name);
	return e != NULL ? e->origin : "default value";
}

/* Expands and checks slot s into its cache; -1 with err_r. */
static int
slot_load(struct param_set *ps, struct param_slot *s, const char **err_r)
{
	const char *name = s->def->name, *why = NULL;
	struct buf b;
	int rc = 0;

	if (s->exp != NULL)
		return 0;
	if (s->loading) {
		*err_r = param_fail("%s: %s: recursive reference to parameter "
		    "%s", origin_of(ps, name), name, name);
		return -1;
	}
	buf_init(&b, 0);
	s->loading = true;
	if (cfg_expand(param_raw(ps, name, NULL), lookup_raw, ps, &b,
	    &why) == -1 || param_check(s->def, buf_cstr(&b), &s->num,
	    &why) == -1)
		rc = -1;
	s->loading = false;
	if (ps->busy == 0 && ps->pending != NULL) {
		/* An error inside a computed default comes first. */
		*err_r = param_fail("%s", ps->pending);
		free(ps->pending);
		ps->pending = NULL;
		rc = -2;
	} else if (rc == -1) {
		*err_r = param_fail("%s: %s: %s", origin_of(ps, name), name,
		    why);
	}
	if (rc != 0) {
		buf_deinit(&b);
		return -1;
	}
	s->exp = buf_steal(&b);
	s->num_done = true;
	return 0;
}

static void
warn_unknown(struct param_set *ps, const struct cfg_entry *e,
    const struct strv *refs)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX;

	if (strv_find(refs, e->name) >= 0)
		return;
	for (size_t i = 0; i < ps->n; i++) {
		size_t d = str_distance(e->name, ps->slot[i].def->name);

		if (d < bestd) {
			bestd = d;
			best = ps->slot[i].def->name;
		}
	}
	if (best != NULL && bestd <= 2)
		log_warn("%s: unknown parameter %s; did you mean %s?",
		    e->origin, e->name, best);
	else
		log_warn("%s: unknown parameter %s", e->origin, e->name);
}

int
param_set_validate(struct param_set *ps, const char **err_r)
{
	struct strv refs;

	for (size_t i = 0; i < ps->n; i++)
		if (slot_load(ps, &ps->slot[i], err_r) == -1)
			return -1;
	strv_init(&refs);
	for (size_t i = 0; i < ps->cfg->n; i++)
		cfg_refs(ps->cfg->e[i].value, &refs);
	for (size_t i = 0; i < ps->n; i++)
		cfg_refs(slot_default(ps, &ps->slot[i]), &refs);
	for (size_t i = 0; i < ps->cfg->n; i++) {
		const struct cfg_entry *e = &ps->cfg->e[i];
		const struct param_def *d = param_find(ps, e->name);

		if (d == NULL)
			warn_unknown(ps, e, &refs);
		else if (d->flags & PARAM_F_READONLY)
			log_warn("%s: parameter %s is read-only; ignored",
			    e->origin, e->name);
	}
	strv_deinit(&refs);
	return 0;
}

static struct param_slot *
getter_slot(struct param_set *ps, const char *name, enum param_type type,
    const char *fn)
{
	struct param_slot *s = slot_find(ps, name);
	const char *err;

	if (s == NULL)
		panic("%s: unknown parameter %s", fn, name);
	if (s->def->type != type && !(type == PARAM_LIST &&
	    s->def->type == PARAM_MAP) && type != PARAM_STR)
		panic("%s: parameter %s has another type", fn, name);
	if (slot_load(ps, s, &err) == -1) {
		static char empty[1];
		static struct param_slot none = { .exp = empty, .list_done =
		    true };

		/* Inside a computed default: report it at the outermost. */
		if (ps->busy == 0)
			fatal("%s", err);
		if (ps->pending == NULL)
			ps->pending = xstrdup(err);
		return &none;
	}
	return s;
}

const char *
param_str(struct param_set *ps, const char *name)
{
	return getter_slot(ps, name, PARAM_STR, "param_str")->exp;
}

long long
param_int(struct param_set *ps, const char *name)
{
	return getter_slot(ps, name, PARAM_INT, "param_int")->num;
}

bool
param_bool(struct param_set *ps, const char *name)
{
	return getter_slot(ps, name, PARAM_BOOL, "param_bool")->num != 0;
}

long long
param_time(struct param_set *ps, const char *name)
{
	return getter_slot(ps, name, PARAM_TIME, "param_time")->num;
}

long long
param_size(struct param_set *ps, const char *name)
{
	return getter_slot(ps, name, PARAM_SIZE, "param_size")->num;
}

const struct strv *
param_list(struct param_set *ps, const char *name)
{
	struct param_slot *s = getter_slot(ps, name, PARAM_LIST, "param_list");

	if (!s->list_done) {
		param_split_list(s->exp, &s->list);
		s->list_done = true;
	}
	return &s->list;
}
