/* SPDX-License-Identifier: MIT */
/*
 * The hash: table: a Berkeley DB 5.3 hash file NAME.db.  Readers open it
 * read-only.  dict_hash_build writes a new table into a temporary file in
 * the same directory, syncs it and renames it over NAME.db, so a reader
 * that opened the old file keeps a consistent view and later opens see the
 * new one.  Keys and values are stored with a terminating NUL like
 * postmap's (unless DICT_FLAG_NO_NUL), and lookups try both forms, so
 * tables made by either tool can be read.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <db.h>

#include "buf.h"
#include "dict.h"
#include "log.h"
#include "xalloc.h"

struct hash {
	DB		*db;
	DBC		*cursor;
	char		*path;
	struct buf	 key;
	struct buf	 value;
};

static const char *
hash_strerror(int ret)
{
	return ret > 0 ? strerror(ret) : db_strerror(ret);
}

/* Copies a DBT into b, dropping one trailing NUL. */
static void
dbt_copy(struct buf *b, const DBT *t)
{
	size_t n = t->size;

	if (n > 0 && ((const char *)t->data)[n - 1] == '\0')
		n--;
	buf_reset(b);
	buf_add(b, t->data, n);
}

/* Fills key for one of the two stored forms (with or without the NUL). */
static void
dbt_key(DBT *t, const char *key, bool with_nul)
{
	memset(t, 0, sizeof(*t));
	t->data = (void *)(uintptr_t)key;	/* DB does not write it */
	t->size = (u_int32_t)strlen(key) + (with_nul ? 1 : 0);
}

static int
hash_lookup(struct dict *d, const char *key, const char **value_r)
{
	struct hash *h = d->priv;
	DBT k, v;
	int ret = DB_NOTFOUND;

	key = dict_fold(d, key);
	if (strlen(key) > DICT_KEY_MAX)
		return 0;
	for (int with_nul = 1; with_nul >= 0 && ret == DB_NOTFOUND;
	    with_nul--) {
		dbt_key(&k, key, with_nul);
		memset(&v, 0, sizeof(v));
		ret = h->db->get(h->db, NULL, &k, &v, 0);
	}
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return dict_set_err(d, "%s: lookup failed: %s", h->path,
		    hash_strerror(ret));
	if (memchr(v.data, '\0', v.size > 0 ? v.size - 1 : 0) != NULL)
		return dict_set_err(d, "%s: value contains a NUL byte",
		    h->path);
	dbt_copy(&h->value, &v);
	*value_r = buf_cstr(&h->value);
	return 1;
}

static int
hash_update(struct dict *d, const char *key, const char *value)
{
	struct hash *h = d->priv;
	bool nul = (d->flags & DICT_FLAG_NO_NUL) == 0;
	DBT k, v;
	int ret;

	if (strlen(key) > DICT_KEY_MAX)
		return dict_set_err(d, "%s: key too long", h->path);
	dbt_key(&k, key, nul);
	dbt_key(&v, value, nul);
	ret = h->db->put(h->db, NULL, &k, &v,
	    (d->flags & DICT_FLAG_DUP_REPLACE) != 0 ? 0 : DB_NOOVERWRITE);
	if (ret == DB_KEYEXIST)
		return 0;
	if (ret != 0)
		return dict_set_err(d, "%s: update failed: %s", h->path,
		    hash_strerror(ret));
	return 1;
}

static int
hash_delete(struct dict *d, const char *key)
{
	struct hash *h = d->priv;
	DBT k;
	int found = 0;

	for (int with_nul = 1; with_nul >= 0; with_nul--) {
		int ret;

		dbt_key(&k, key, with_nul);
		ret = h->db->del(h->db, NULL, &k, 0);
		if (ret == 0)
			found = 1;
		else if (ret != DB_NOTFOUND)
			return dict_set_err(d, "%s: delete failed: %s",
			    h->path, hash_strerror(ret));
	}
	return found;
}

static int
hash_iterate(struct dict *d, bool first, const char **key_r,
    const char **value_r)
{
	struct hash *h = d->priv;
	DBT k, v;
	int ret;

	if (h->cursor == NULL &&
	    (ret = h->db->cursor(h->db, NULL, &h->cursor, 0)) != 0)
		return dict_set_err(d, "%s: cursor: %s", h->path,
		    hash_strerror(ret));
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	ret = h->cursor->get(h->cursor, &k, &v, first ? DB_FIRST : DB_NEXT);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return dict_set_err(d, "%s: sequence failed: %s", h->path,
		    hash_strerror(ret));
	dbt_copy(&h->key, &k);
	dbt_copy(&h->value, &v);
	*key_r = buf_cstr(&h->key);
	*value_r = buf_cstr(&h->value);
	return 1;
}

/* Closes the database; -1 when a writer's final flush failed. */
static int
hash_close_db(struct hash *h)
{
	int ret = 0;

	if (h->cursor != NULL)
		h->cursor->close(h->cursor);
	h->cursor = NULL;
	if (h->db != NULL)
		ret = h->db->close(h->db, 0);
	h->db = NULL;
	return ret == 0 ? 0 : -1;
}

static void
hash_close(struct dict *d)
{
	struct hash *h = d->priv;

	if (hash_close_db(h) < 0)
		log_warn("%s: close failed", h->path);
	free(h->path);
	buf_deinit(&h->key);
	buf_deinit(&h->value);
	free(h);
}

static const struct dict_ops hash_ops_ro = {
	.lookup = hash_lookup,
	.iterate = hash_iterate,
	.close = hash_close,
};

static const struct dict_ops hash_ops_rw = {
	.lookup = hash_lookup,
	.update = hash_update,
	.delete = hash_delete,
	.iterate = hash_iterate,
	.close = hash_close,
};

#define HASH_WRITE_CACHE	(16 * 1024 * 1024)

/* Opens path as a hash database; NULL with err_r set. */
static struct dict *
hash_open_path(const char *name, const char *path, int flags, u_int32_t
    db_flags, const char **err_r)
{
	struct dict *d;
	struct hash *h;
	DB *db;
	int ret;

	if ((ret = db_create(&db, NULL, 0)) != 0) {
		dict_open_err(err_r, "db_create: %s", hash_strerror(ret));
		return NULL;
	}
	/*
	 * A writer gets a cache large enough that building a big table does
	 * not thrash the default 256 KiB one (Postfix's dict_db_cache_size).
	 */
	if ((flags & DICT_FLAG_WRITE) != 0 &&
	    (ret = db->set_cachesize(db, 0, HASH_WRITE_CACHE, 0)) != 0) {
		db->close(db, 0);
		dict_open_err(err_r, "set_cachesize: %s", hash_strerror(ret));
		return NULL;
	}
	ret = db->open(db, NULL, path, NULL, DB_HASH, db_flags, 0644);
	if (ret != 0) {
		db->close(db, 0);
		dict_open_err(err_r, "open database %s: %s", path,
		    hash_strerror(ret));
		return NULL;
	}
	d = dict_alloc("hash", name, flags, (db_flags & DB_RDONLY) != 0 ?
	    &hash_ops_ro : &hash_ops_rw);
	h = xcalloc(1, sizeof(*h));
	h->db = db;
	h->path = xstrdup(path);
	buf_init(&h->key, 0);
	buf_init(&h->value, 0);
	d->priv = h;
	return d;
}

struct dict *
dict_hash_open(const char *name, int flags, const char **err_r)
{
	char *path = xasprintf("%s.db", name);
	struct dict *d;

	d = hash_open_path(name, path, flags, (flags & DICT_FLAG_WRITE) != 0 ?
	    DB_CREATE : DB_RDONLY, err_r);
	free(path);
	return d;
}

struct build_ctx {
	struct dict	*d;
	const char	*source;
	const char	*err;
};

static int
build_add(void *ctx, const char *key, const char *value, long line)
{
	struct build_ctx *b = ctx;
	int rc = dict_update(b->d, key, value, &b->err);

	if (rc == 0 && (b->d->flags & DICT_FLAG_DUP_QUIET) == 0) {
		char *e = log_escape_str(key);

		log_warn("%s, line %ld: duplicate entry: \"%s\"", b->source,
		    line, e);
		free(e);
	}
	return rc < 0 ? -1 : 0;
}

/* Reads source into the open table; adds "@" for aliases. */
static int
build_fill(struct dict *d, const char *source, int flags,
    const char **err_r)
{
	struct build_ctx b = { .d = d, .source = source };
	const char *err = NULL;

	if (dict_text_read(source, flags, build_add, &b, &err) < 0)
		return dict_open_err(err_r, "%s", b.err != NULL ? b.err : err);
	/* postalias adds "@" for sendmail compatibility. */
	if ((flags & DICT_FLAG_ALIAS) != 0 && (flags & DICT_FLAG_DUP_REPLACE)
	    == 0 && dict_update(d, "@", "@", &err) < 0)
		return dict_open_err(err_r, "%s", err);
	return 0;
}

/* Syncs a finished file to disk before it is renamed into place. */
static int
sync_path(const char *path, const char **err_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return dict_open_err(err_r, "fsync %s: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

int
dict_hash_build(const char *name, const char *source, int flags,
    const char **err_r)
{
	char *path = xasprintf("%s.db", name);
	char *tmp = NULL;
	struct dict *d = NULL;
	int fd, rc = -1;
	mode_t mask;

	if ((flags & DICT_FLAG_INCREMENTAL) != 0) {
		/* XXX: concurrent writers are not locked out. */
		d = hash_open_path(name, path, flags | DICT_FLAG_WRITE,
		    DB_CREATE, err_r);
		if (d != NULL && build_fill(d, source, flags, err_r) == 0)
			rc = 0;
		if (d != NULL && hash_close_db(d->priv) < 0 && rc == 0)
			rc = dict_open_err(err_r, "%s: close failed", path);
		dict_free(&d);
		free(path);
		return rc;
	}
	tmp = xasprintf("%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		dict_open_err(err_r, "create %s: %s", tmp, strerror(errno));
		goto out;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0644 & ~mask) < 0)
		log_warn("chmod %s: %s", tmp, strerror(errno));
	close(fd);
	/* An empty file is a new database to Berkeley DB. */
	d = hash_open_path(name, tmp, flags | DICT_FLAG_WRITE,
	    DB_CREATE | DB_TRUNCATE, err_r);
	if (d == NULL)
		goto out_unlink;
	if (build_fill(d, source, flags, err_r) < 0)
		goto out_unlink;
	if (hash_close_db(d->priv) < 0) {
		dict_open_err(err_r, "%s: close failed", tmp);
		goto out_unlink;
	}
	if (sync_path(tmp, err_r) < 0)
		goto out_unlink;
	if (rename(tmp, path) < 0) {
		dict_open_err(err_r, "rename %s to %s: %s", tmp, path,
		    strerror(errno));
		goto out_unlink;
	}
	rc = 0;
	goto out;
out_unlink:
	(void)unlink(tmp);
out:
	dict_free(&d);
	free(tmp);
	free(path);
	return rc;
}
