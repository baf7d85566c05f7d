/* SPDX-License-Identifier: MIT */
/*
 * Typed parameter tables.  A table (struct param_def[], closed by an entry
 * whose name is NULL) gives each parameter a type, a default (which may
 * hold $references, or be computed by a function), bounds and a one-line
 * description.  A param_set combines tables with the assignments of a
 * main.cf (struct cfg) and of "-o name=value" overrides; values are
 * $-expanded when read and cached until the set changes.
 *
 * param_set_validate checks every parameter of the tables (set or default)
 * against its type and bounds and warns about unknown names in main.cf,
 * except names that some value refers to as $name (user-defined).  The
 * typed getters panic on names not in the tables (a programming error).
 */
#ifndef TERN_PARAM_H
#define TERN_PARAM_H

#include <stdbool.h>

#include "cfg.h"
#include "str.h"

enum param_type {
	PARAM_STR,	/* any text */
	PARAM_INT,	/* decimal integer within [min, max] */
	PARAM_BOOL,	/* yes or no (any case) */
	PARAM_TIME,	/* number with optional unit s, m, h, d or w */
	PARAM_SIZE,	/* plain number of bytes */
	PARAM_LIST,	/* items separated by commas and/or white space */
	PARAM_MAP,	/* list of lookup tables, each type:name */
};

/* Cannot be set in main.cf or with -o (config_directory). */
#define PARAM_F_READONLY	0x01
/* The expanded value must not be empty. */
#define PARAM_F_NONEMPTY	0x02

struct param_set;

struct param_def {
	const char	*name;
	enum param_type	 type;
	const char	*def;		/* raw default; ignored with def_fn */
	/* Computes the raw default (heap string); may read the set. */
	char		*(*def_fn)(struct param_set *ps);
	long long	 min, max;	/* INT, TIME (seconds), SIZE; 0,0: none */
	char		 unit;		/* TIME: default unit, 0 means 's' */
	unsigned	 flags;
	const char	*desc;		/* one line, for documentation */
};

/* Where a raw value came from. */
enum param_origin {
	PARAM_ORIGIN_DEFAULT,
	PARAM_ORIGIN_FILE,
	PARAM_ORIGIN_OVERRIDE,
};

struct param_set *param_set_new(void) __attribute__((returns_nonnull));
void param_set_free(struct param_set **psp);
/* Adds a table (kept by reference; it must outlive the set). */
void param_set_add_table(struct param_set *ps, const struct param_def *defs);
/* Reads main.cf assignments (see cfg_parse_file); -1 with err_r. */
int param_set_load_file(struct param_set *ps, const char *path,
    bool missing_ok, const char **err_r) __attribute__((warn_unused_result));
/* Parses main.cf text (for tests); -1 with err_r. */
int param_set_load_text(struct param_set *ps, const char *file,
    const char *text, const char **err_r)
    __attribute__((warn_unused_result));
/* Applies "name=value" with origin "command line"; -1 with err_r. */
int param_set_override(struct param_set *ps, const char *nameval,
    const char **err_r) __attribute__((warn_unused_result));
/* Sets a read-only (or any) parameter from the program itself. */
void param_set_fixed(struct param_set *ps, const char *name,
    const char *value);
/*
 * Validates every parameter of the tables; returns -1 with err_r such as
 * "FILE, line N: message_size_limit: expected a size in bytes, got \"10M\"".
 * Logs a warning for each unknown name ("FILE, line N: unknown parameter
 * NAME; did you mean NAME2?").
 */
int param_set_validate(struct param_set *ps, const char **err_r)
    __attribute__((warn_unused_result));

/* The definition of name, or NULL. */
const struct param_def *param_find(const struct param_set *ps,
    const char *name);
/* Names of all parameters of the tables, sorted. */
void param_names(const struct param_set *ps, struct strv *names);
/* The main.cf and override assignments (including unknown names). */
const struct cfg *param_set_cfg(const struct param_set *ps);
/*
 * Raw (unexpanded) value of name: the assignment, else the default of a
 * table entry; NULL for an unknown, unset name.  origin_r may be NULL.
 */
const char *param_raw(struct param_set *ps, const char *name,
    enum param_origin *origin_r);
/* Raw default of a table entry (computed ones included). */
const char *param_default(struct param_set *ps, const char *name);
/*
 * $-expands raw text against the set; -1 with err_r.  The result stays
 * valid until the next call or change of the set.
 */
int param_expand(struct param_set *ps, const char *raw, const char **val_r,
    const char **err_r) __attribute__((warn_unused_result));

/*
 * Parses and checks a value for def; returns 0 (and the number for INT,
 * TIME, SIZE, BOOL in num_r, which may be NULL) or -1 with err_r like
 * "expected a size in bytes, got \"10M\"".
 */
int param_check(const struct param_def *def, const char *value,
    long long *num_r, const char **err_r) __attribute__((warn_unused_result));
/* Splits a list honouring {...} groups (Postfix's mystrtokq). */
void param_split_list(const char *s, struct strv *items);

/* Typed getters of expanded values; panic on unknown names or types. */
const char *param_str(struct param_set *ps, const char *name);
long long param_int(struct param_set *ps, const char *name);
bool param_bool(struct param_set *ps, const char *name);
long long param_time(struct param_set *ps, const char *name);
long long param_size(struct param_set *ps, const char *name);
const struct strv *param_list(struct param_set *ps, const char *name);

#endif
