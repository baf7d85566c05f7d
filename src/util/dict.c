/* SPDX-License-Identifier: MIT */
/*
 * The lookup table interface (see dict.h): the "type:name" registry, the
 * generic wrappers that fold keys and report errors, dict_build, and the
 * in-memory key/value table that texthash: and inline: are made of.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

static const struct {
	const char	*type;
	struct dict	*(*open)(const char *, int, const char **);
} dict_types[] = {
	{ "hash", dict_hash_open },
	{ "texthash", dict_texthash_open },
	{ "inline", dict_inline_open },
	{ "static", dict_static_open },
	{ "regexp", dict_regexp_open },
	{ "unix", dict_unix_open },
};

#define NTYPES	(sizeof(dict_types) / sizeof(dict_types[0]))

static char *dict_open_errbuf;

int
dict_open_err(const char **err_r, const char *fmt, ...)
{
	va_list ap;
	char *old = dict_open_errbuf;

	/* fmt's arguments may point into the old message. */
	va_start(ap, fmt);
	dict_open_errbuf = xvasprintf(fmt, ap);
	va_end(ap);
	free(old);
	if (err_r != NULL)
		*err_r = dict_open_errbuf;
	return -1;
}

int
dict_set_err(struct dict *d, const char *fmt, ...)
{
	va_list ap;
	char *old = d->err;

	va_start(ap, fmt);
	d->err = xvasprintf(fmt, ap);
	va_end(ap);
	free(old);
	return -1;
}

/* Splits "type:name"; returns the type index or -1. */
static int
dict_split(const char *spec, const char **name_r)
{
	const char *colon = strchr(spec, ':');

	if (colon == NULL)
		return -1;
	for (size_t i = 0; i < NTYPES; i++) {
		size_t n = strlen(dict_types[i].type);

		if ((size_t)(colon - spec) == n &&
		    strncmp(spec, dict_types[i].type, n) == 0) {
			*name_r = colon + 1;
			return (int)i;
		}
	}
	return -1;
}

bool
dict_has_type(const char *spec)
{
	const char *name;

	return dict_split(spec, &name) >= 0;
}

struct dict *
dict_open(const char *spec, int flags, const char **err_r)
{
	const char *name;
	int i = dict_split(spec, &name);

	if (i < 0) {
		char *esc = log_escape_str(spec);

		dict_open_err(err_r, strchr(spec, ':') == NULL ?
		    "table \"%s\": missing \"type:\" prefix" :
		    "table \"%s\": unsupported dictionary type", esc);
		free(esc);
		return NULL;
	}
	return dict_types[i].open(name, flags, err_r);
}

struct dict *
dict_alloc(const char *type, const char *name, int flags,
    const struct dict_ops *ops)
{
	struct dict *d = xcalloc(1, sizeof(*d));

	d->type = type;
	d->name = xstrdup(name);
	d->flags = flags;
	d->ops = ops;
	return d;
}

void
dict_free(struct dict **dp)
{
	struct dict *d = *dp;

	if (d == NULL)
		return;
	*dp = NULL;
	if (d->ops->close != NULL)
		d->ops->close(d);
	free(d->name);
	free(d->err);
	free(d->fold);
	free(d);
}

const char *
dict_fold(struct dict *d, const char *key)
{
	if ((d->flags & DICT_FLAG_FOLD) == 0)
		return key;
	free(d->fold);
	d->fold = str_lower(xstrdup(key));
	return d->fold;
}

static int
dict_fail(struct dict *d, const char **err_r)
{
	if (d->err == NULL)
		d->err = xstrdup("unknown error");
	if (err_r != NULL)
		*err_r = d->err;
	return -1;
}

int
dict_lookup(struct dict *d, const char *key, const char **value_r,
    const char **err_r)
{
	int rc = d->ops->lookup(d, key, value_r);

	return rc < 0 ? dict_fail(d, err_r) : rc;
}

int
dict_update(struct dict *d, const char *key, const char *value,
    const char **err_r)
{
	int rc;

	if (d->ops->update == NULL) {
		dict_set_err(d, "table %s:%s: update operation is not "
		    "supported", d->type, d->name);
		return dict_fail(d, err_r);
	}
	rc = d->ops->update(d, dict_fold(d, key), value);
	return rc < 0 ? dict_fail(d, err_r) : rc;
}

int
dict_delete(struct dict *d, const char *key, const char **err_r)
{
	int rc;

	if (d->ops->delete == NULL) {
		dict_set_err(d, "table %s:%s: delete operation is not "
		    "supported", d->type, d->name);
		return dict_fail(d, err_r);
	}
	rc = d->ops->delete(d, dict_fold(d, key));
	return rc < 0 ? dict_fail(d, err_r) : rc;
}

int
dict_iterate(struct dict *d, bool first, const char **key_r,
    const char **value_r, const char **err_r)
{
	int rc;

	if (d->ops->iterate == NULL) {
		dict_set_err(d, "table %s:%s: sequence operation is not "
		    "supported", d->type, d->name);
		return dict_fail(d, err_r);
	}
	rc = d->ops->iterate(d, first, key_r, value_r);
	return rc < 0 ? dict_fail(d, err_r) : rc;
}

int
dict_build(const char *spec, const char *source, int flags,
    const char **err_r)
{
	const char *name = spec;
	int i = dict_split(spec, &name);

	if (i < 0 && strchr(spec, ':') != NULL && spec[0] != '/')
		return dict_open_err(err_r, "table \"%s\": unsupported "
		    "dictionary type", spec);
	if (i >= 0 && strcmp(dict_types[i].type, "hash") != 0)
		return dict_open_err(err_r, "table %s: cannot build a %s: "
		    "table (only hash:)", spec, dict_types[i].type);
	return dict_hash_build(name, source != NULL ? source : name, flags,
	    err_r);
}

/*
 * The in-memory table: chained hash of heap key/value pairs, kept in
 * insertion order for iteration.
 */
struct mem_ent {
	char		*key;
	char		*value;
	struct mem_ent	*chain;		/* same bucket */
	struct mem_ent	*next;		/* insertion order */
};

struct mem {
	struct mem_ent	**tab;
	size_t		  size;		/* buckets, a power of two */
	size_t		  count;
	struct mem_ent	 *head, **tail;
	struct mem_ent	 *cursor;
};

static size_t
mem_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static struct mem_ent *
mem_find(struct mem *m, const char *key)
{
	struct mem_ent *e = m->tab[mem_hash(key) & (m->size - 1)];

	for (; e != NULL; e = e->chain)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void
mem_grow(struct mem *m)
{
	size_t size = m->size * 2;
	struct mem_ent **tab = xcalloc(size, sizeof(*tab));

	for (struct mem_ent *e = m->head; e != NULL; e = e->next) {
		size_t h = mem_hash(e->key) & (size - 1);

		e->chain = tab[h];
		tab[h] = e;
	}
	free(m->tab);
	m->tab = tab;
	m->size = size;
}

static int
mem_lookup(struct dict *d, const char *key, const char **value_r)
{
	struct mem_ent *e = mem_find(d->priv, dict_fold(d, key));

	if (e == NULL)
		return 0;
	*value_r = e->value;
	return 1;
}

static int
mem_update(struct dict *d, const char *key, const char *value)
{
	struct mem *m = d->priv;
	struct mem_ent *e = mem_find(m, key);
	size_t h;

	if (e != NULL) {
		if ((d->flags & DICT_FLAG_DUP_REPLACE) == 0)
			return 0;
		free(e->value);
		e->value = xstrdup(value);
		return 1;
	}
	if (m->count >= m->size)
		mem_grow(m);
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->value = xstrdup(value);
	h = mem_hash(key) & (m->size - 1);
	e->chain = m->tab[h];
	m->tab[h] = e;
	*m->tail = e;
	m->tail = &e->next;
	m->count++;
	return 1;
}

static int
mem_iterate(struct dict *d, bool first, const char **key_r,
    const char **value_r)
{
	struct mem *m = d->priv;

	m->cursor = first ? m->head : m->cursor;
	if (m->cursor == NULL)
		return 0;
	*key_r = m->cursor->key;
	*value_r = m->cursor->value;
	m->cursor = m->cursor->next;
	return 1;
}

static void
mem_close(struct dict *d)
{
	struct mem *m = d->priv;
	struct mem_ent *e, *next;

	for (e = m->head; e != NULL; e = next) {
		next = e->next;
		free(e->key);
		free(e->value);
		free(e);
	}
	free(m->tab);
	free(m);
}

static const struct dict_ops mem_ops = {
	.lookup = mem_lookup,
	.update = mem_update,
	.iterate = mem_iterate,
	.close = mem_close,
};

struct dict *
dict_mem_new(const char *type, const char *name, int flags)
{
	struct dict *d = dict_alloc(type, name, flags, &mem_ops);
	struct mem *m = xcalloc(1, sizeof(*m));

	m->size = 16;
	m->tab = xcalloc(m->size, sizeof(*m->tab));
	m->tail = &m->head;
	d->priv = m;
	return d;
}
