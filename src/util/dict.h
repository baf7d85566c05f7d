/* SPDX-License-Identifier: MIT */
/*
 * Lookup tables behind one interface, named "type:name" as in Postfix:
 * hash: (Berkeley DB, file NAME.db), texthash: (a postmap source file read
 * at open), inline:{k=v, ...}, static:value, regexp: (POSIX extended regular
 * expressions in regexp_table(5) syntax) and unix:passwd.byname.  A table
 * is opened with dict_open, queried with dict_lookup, changed with
 * dict_update/dict_delete where the type allows it, walked with
 * dict_iterate and closed with dict_free.  dict_build makes a hash: table
 * from a postmap/postalias source file, writing a temporary file beside
 * the table and renaming it over, so that readers see either the old or
 * the new table, never a half-written one.
 *
 * Strings returned through value_r, key_r and err_r belong to the table
 * and stay valid until the next call on it (or dict_free).  Errors of
 * dict_open and dict_build are valid until the next call of either.
 */
#ifndef TERN_DICT_H
#define TERN_DICT_H

#include <stdbool.h>
#include <stddef.h>

/* Lower-case keys (ASCII) when building and when looking up (postmap's
 * default; Postfix's DICT_FLAG_FOLD_FIX).  regexp: ignores it. */
#define DICT_FLAG_FOLD		0x01
/* Open a hash: table for dict_update/dict_delete (else read-only). */
#define DICT_FLAG_WRITE		0x02
/* dict_update/dict_build: a duplicate key replaces the old value silently
 * (postmap -r).  Without it the first value is kept and a duplicate is
 * warned about as "duplicate entry". */
#define DICT_FLAG_DUP_REPLACE	0x04
/* Source files are in aliases(5) format ("name: value", postalias). */
#define DICT_FLAG_ALIAS		0x08
/* hash: keys and values are stored without a terminating NUL (postmap
 * -N includes it, which is the default; -n excludes it).  Lookups try
 * both forms. */
#define DICT_FLAG_NO_NUL	0x10
/* dict_build: add to an existing table instead of replacing it. */
#define DICT_FLAG_INCREMENTAL	0x20
/* dict_build and texthash: do not warn about duplicates (postmap -w). */
#define DICT_FLAG_DUP_QUIET	0x40

/* Hard limits on source text (longer logical lines are rejected). */
#define DICT_LINE_MAX		(64 * 1024)
#define DICT_KEY_MAX		(4 * 1024)

struct dict;

struct dict_ops {
	/* 1 found (value_r set) / 0 not found / -1 error (dict_set_err). */
	int	(*lookup)(struct dict *d, const char *key,
		    const char **value_r);
	/* 1 stored / 0 duplicate kept / -1 error; NULL when read-only. */
	int	(*update)(struct dict *d, const char *key, const char *value);
	/* 1 deleted / 0 not found / -1 error; NULL when read-only. */
	int	(*delete)(struct dict *d, const char *key);
	/* 1 entry / 0 end / -1 error; first restarts; NULL if unsupported. */
	int	(*iterate)(struct dict *d, bool first, const char **key_r,
		    const char **value_r);
	void	(*close)(struct dict *d);
};

struct dict {
	const char		*type;	/* "hash", ... (static string) */
	char			*name;	/* what followed "type:" */
	int			 flags;
	const struct dict_ops	*ops;
	void			*priv;	/* the type's own state */
	char			*err;	/* last error (heap) */
	char			*fold;	/* last folded key (heap) */
};

/*
 * Opens "type:name" (a name without a known "type:" prefix is an error).
 * Returns the table, or NULL with err_r set.
 */
struct dict *dict_open(const char *spec, int flags, const char **err_r)
	__attribute__((warn_unused_result));
/* Closes the table and sets *dp to NULL; NULL *dp is fine. */
void dict_free(struct dict **dp);

/* Lookups return 1 found / 0 not found / -1 error with err_r set. */
int dict_lookup(struct dict *d, const char *key, const char **value_r,
    const char **err_r) __attribute__((warn_unused_result));
/* 1 stored / 0 duplicate (kept, warned) / -1 error with err_r set. */
int dict_update(struct dict *d, const char *key, const char *value,
    const char **err_r) __attribute__((warn_unused_result));
/* 1 deleted / 0 not found / -1 error with err_r set. */
int dict_delete(struct dict *d, const char *key, const char **err_r)
	__attribute__((warn_unused_result));
/* 1 next entry / 0 end / -1 error ("not supported" for some types). */
int dict_iterate(struct dict *d, bool first, const char **key_r,
    const char **value_r, const char **err_r)
	__attribute__((warn_unused_result));

/*
 * Builds the table "type:name" (type hash: when none is given) from the
 * source text file; source NULL means name itself.  Lines that cannot be
 * parsed are warned about with file and line and skipped, as postmap
 * does.  Returns 0, or -1 with err_r set.
 */
int dict_build(const char *spec, const char *source, int flags,
    const char **err_r) __attribute__((warn_unused_result));

/* True when spec names a known type ("hash:x"). */
bool dict_has_type(const char *spec);

/* For type implementations. */
int dict_set_err(struct dict *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Folds key when the table asks for it; the result is valid until the
 * next call. */
const char *dict_fold(struct dict *d, const char *key);

/*
 * Reads a postmap or postalias source file (DICT_FLAG_ALIAS in flags),
 * calling fn(ctx, key, value, line) for each entry; keys are folded under
 * DICT_FLAG_FOLD.  Bad lines are warned about with file and line.  fn
 * returns 0, or -1 to stop with an error (which fn set in err_r).
 * Returns 0, or -1 with err_r set.
 */
typedef int dict_text_fn(void *ctx, const char *key, const char *value,
    long line);
int dict_text_read(const char *path, int flags, dict_text_fn *fn, void *ctx,
    const char **err_r) __attribute__((warn_unused_result));

/*
 * Reads a source file as logical lines: comments and blank lines are
 * skipped, a line that starts with white space continues the previous
 * one.  fn(ctx, text, line) gets each logical line and the number of its
 * first line; NUL bytes and over-long lines are warned about and skipped.
 * Returns 0, or -1 with err_r set (open or read error, or fn returned -1).
 */
typedef int dict_line_fn(void *ctx, char *text, long line);
int dict_read_lines(const char *path, dict_line_fn *fn, void *ctx,
    const char **err_r) __attribute__((warn_unused_result));

/* Per-type constructors used by dict_open. */
struct dict *dict_hash_open(const char *name, int flags, const char **err_r);
int dict_hash_build(const char *name, const char *source, int flags,
    const char **err_r);
struct dict *dict_texthash_open(const char *name, int flags,
    const char **err_r);
struct dict *dict_inline_open(const char *name, int flags,
    const char **err_r);
struct dict *dict_static_open(const char *name, int flags,
    const char **err_r);
struct dict *dict_regexp_open(const char *name, int flags,
    const char **err_r);
struct dict *dict_unix_open(const char *name, int flags,
    const char **err_r);
/* Allocates a table shell; the type fills in priv. */
struct dict *dict_alloc(const char *type, const char *name, int flags,
    const struct dict_ops *ops);
/* For in-memory types: a key/value table (used by texthash, inline). */
struct dict *dict_mem_new(const char *type, const char *name, int flags);
/* Sets the error message of dict_open/dict_build. */
int dict_open_err(const char **err_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
