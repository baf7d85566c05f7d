/* SPDX-License-Identifier: MIT */
/*
 * main.cf syntax, as Postfix reads it: "name = value" assignments; a line
 * that starts with white space continues the previous logical line (the
 * pieces are joined with one space); lines whose first non-blank character
 * is '#' and blank lines are skipped and do not end a logical line; '#'
 * inside a value is not a comment.  A later assignment overrides an earlier
 * one.  CRLF line ends are accepted (the CR is dropped); a NUL, any other
 * CR or control character but TAB, an over-long line, a missing '=', an
 * empty or bad name is an error "FILE, line N: ...".  Also: $-expansion of
 * values ($name, ${name}, $(name), ${name?value}, ${name:value},
 * ${name?{value}}, ${name:{value}}, ${name?{t}:{f}}, $$), and in-place
 * editing of main.cf for "ternconf -e" and "ternconf -X".
 *
 * Error strings returned through err_r live in a static buffer of this
 * module and stay valid until the next failing call.
 */
#ifndef TERN_CFG_H
#define TERN_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "str.h"

/* Largest main.cf or master.cf file read, in bytes. */
#define CFG_FILE_MAX		((size_t)16 * 1024 * 1024)
/* Longest logical line accepted, in bytes. */
#define CFG_LINE_MAX		(256 * 1024)
/* Longest result of one expansion, in bytes. */
#define CFG_EXPAND_MAX		(1024 * 1024)
/* Deepest nesting of parameter references during expansion. */
#define CFG_EXPAND_DEPTH	100
/* Most parameter references one expansion may resolve (work bound). */
#define CFG_EXPAND_WORK		100000

struct cfg_entry {
	char		*name;
	char		*value;		/* raw, unexpanded, trimmed */
	char		*origin;	/* "FILE, line N" or "command line" */
	char		*file;		/* NULL for overrides */
	unsigned	 line;		/* 0 for overrides */
};

/* Assignments in the order their names first appeared. */
struct cfg {
	struct cfg_entry *e;
	size_t		  n;
	size_t		  cap;
};

struct cfg *cfg_new(void) __attribute__((returns_nonnull));
void cfg_free(struct cfg **cp);

/*
 * Reads a main.cf file into c.  A missing file is an empty one when
 * missing_ok; otherwise -1 with err_r "open PATH: REASON".  Syntax errors
 * give -1 with err_r "PATH, line N: ...".
 */
int cfg_parse_file(struct cfg *c, const char *path, bool missing_ok,
    const char **err_r) __attribute__((warn_unused_result));
/*
 * Handles one logical line: its first physical line number and its text,
 * with continuation lines joined by one space.  0, or -1 with err_r.
 */
typedef int cfg_line_fn(void *ctx, const char *file, unsigned line,
    const char *text, const char **err_r);
/*
 * Splits len bytes of text into logical lines the way main.cf and
 * master.cf are read: a line that starts with white space continues the
 * previous one, "#" lines and blank lines are skipped (and do not end a
 * logical line), a trailing CR is dropped; NUL, stray CR and other control
 * characters are errors "FILE, line N: ...".  Calls fn for each logical
 * line and stops at the first -1.
 */
int cfg_logical_lines(const char *file, const char *text, size_t len,
    cfg_line_fn *fn, void *ctx, const char **err_r)
    __attribute__((warn_unused_result));
/*
 * Initialises b and reads a whole file of at most CFG_FILE_MAX bytes into
 * it: 1 read, 0 the file does not exist, -1 with err_r on any other error.
 * The caller buf_deinit()s b in every case.
 */
int cfg_read_file(const char *path, struct buf *b, const char **err_r)
    __attribute__((warn_unused_result));
/* As cfg_parse_file, for len bytes of text; file names it in messages. */
int cfg_parse_text(struct cfg *c, const char *file, const char *text,
    size_t len, const char **err_r) __attribute__((warn_unused_result));
/*
 * Applies a "name=value" (or "name = value") override; origin is used in
 * messages (e.g. "command line").  -1 with err_r on a bad name or value.
 */
int cfg_override(struct cfg *c, const char *nameval, const char *origin,
    const char **err_r) __attribute__((warn_unused_result));
/* Sets name to value directly (both validated); -1 with err_r. */
int cfg_set(struct cfg *c, const char *name, const char *value,
    const char *origin, const char **err_r)
    __attribute__((warn_unused_result));
/* The entry for name, or NULL. */
const struct cfg_entry *cfg_find(const struct cfg *c, const char *name);

/* True for a parameter name: one or more of [A-Za-z0-9_]. */
bool cfg_name_valid(const char *name, size_t len);
/*
 * Splits "name=value" / "name = value" (white space around both trimmed).
 * Returns 0 with heap copies in name_r and value_r, or -1 with err_r.
 */
int cfg_split_nameval(const char *s, char **name_r, char **value_r,
    const char **err_r) __attribute__((warn_unused_result));

/*
 * Raw value lookup for expansion: returns the unexpanded value of name, or
 * NULL when it is undefined (which expands to the empty string).
 */
typedef const char *cfg_lookup_fn(const char *name, void *ctx);

/*
 * Appends the expansion of raw to out.  Referenced values are expanded in
 * turn.  -1 with err_r on a syntax error, a reference loop ("recursive
 * reference to parameter NAME"), nesting deeper than CFG_EXPAND_DEPTH, or a
 * result longer than CFG_EXPAND_MAX.  On error out holds partial output.
 */
int cfg_expand(const char *raw, cfg_lookup_fn *lookup, void *ctx,
    struct buf *out, const char **err_r) __attribute__((warn_unused_result));
/* Appends to names every parameter name that raw refers to with '$'. */
void cfg_refs(const char *raw, struct strv *names);

/*
 * Edits the main.cf text in, writing the result to out: each "name=value"
 * of set replaces the logical line(s) of that name (all of its
 * continuation lines; comments and other lines are kept), or is appended
 * at the end when absent; each name of remove is deleted likewise.  Either
 * list may be NULL.  -1 with err_r on a bad name or value.
 */
int cfg_edit_text(const char *in, size_t len, const struct strv *set,
    const struct strv *remove, struct buf *out, const char **err_r)
    __attribute__((warn_unused_result));
/*
 * cfg_edit_text on a file in place: writes PATH.tmp, fsyncs it, keeps the
 * mode of the original and renames it over PATH.  A missing file is
 * created.  -1 with err_r.
 */
int cfg_edit_file(const char *path, const struct strv *set,
    const struct strv *remove, const char **err_r)
    __attribute__((warn_unused_result));

#endif
