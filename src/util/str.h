/* SPDX-License-Identifier: MIT */
/*
 * String helpers: ASCII case handling, trimming, strict number parsing,
 * bounded copies, edit distance, and string vectors (struct strv) with
 * Postfix-style list splitting.
 */
#ifndef TERN_STR_H
#define TERN_STR_H

#include <stdbool.h>
#include <stddef.h>

/* ASCII-only lower-casing in place (locale-independent); returns s. */
char *str_lower(char *s);
/* Trims ASCII white space at both ends in place; returns the new start. */
char *str_trim(char *s);
bool str_eq(const char *a, const char *b);
/* ASCII case-insensitive equality. */
bool str_eq_ci(const char *a, const char *b);
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix_ci(const char *s, const char *suffix);
/*
 * Copies src into dst of the given size, always NUL-terminating when
 * size > 0; returns strlen(src), so a result >= size means truncation.
 */
size_t str_copy(char *dst, const char *src, size_t size);
/*
 * Parses a whole decimal integer in [min, max]: optional sign, digits, no
 * white space, nothing trailing.  Returns 0, or -1 with err_r set.
 */
int str_to_ll(const char *s, long long min, long long max, long long *val_r,
    const char **err_r) __attribute__((warn_unused_result));
/*
 * Formats into buf (cut to size) and returns buf.  The arguments may point
 * into buf itself, so a module can keep one static buffer for its error
 * messages and build a new message from the old one.
 */
const char *str_fmt_buf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), returns_nonnull));
/* Levenshtein distance, with ASCII case ignored. */
size_t str_distance(const char *a, const char *b);
/* True when n bytes of s contain only printable ASCII. */
bool str_is_printable(const char *s, size_t n);

/* A growable NULL-terminated vector of heap strings. */
struct strv {
	char	**v;		/* v[n] == NULL once anything was pushed */
	size_t	  n;
	size_t	  cap;
};

void strv_init(struct strv *sv);
void strv_deinit(struct strv *sv);
/* Appends a copy of s. */
void strv_push(struct strv *sv, const char *s);
void strv_push_n(struct strv *sv, const char *s, size_t n);
/* Appends s itself; the vector takes ownership. */
void strv_push_owned(struct strv *sv, char *s);
/*
 * Splits s at any of the separator characters, dropping empty fields; with
 * seps == NULL, Postfix's list separators (comma and white space) apply.
 */
void strv_split(struct strv *sv, const char *s, const char *seps);
/* Returns the index of s (exact match), or -1. */
long strv_find(const struct strv *sv, const char *s);
/* Joins with sep into a heap string. */
char *strv_join(const struct strv *sv, const char *sep);

#endif
