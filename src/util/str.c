/* SPDX-License-Identifier: MIT */
/*
 * String helpers and string vectors; see str.h.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "str.h"
#include "xalloc.h"

static inline char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static inline bool
ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

char *
str_lower(char *s)
{
	for (char *p = s; *p != '\0'; p++)
		*p = ascii_lower(*p);
	return s;
}

char *
str_trim(char *s)
{
	char *end;

	while (ascii_space(*s))
		s++;
	end = s + strlen(s);
	while (end > s && ascii_space(end[-1]))
		end--;
	*end = '\0';
	return s;
}

bool
str_eq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

bool
str_eq_ci(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (ascii_lower(*a) != ascii_lower(*b))
			return false;
	return *a == *b;
}

bool
str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool
str_has_suffix_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return m <= n && str_eq_ci(s + n - m, suffix);
}

size_t
str_copy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t m = n < size - 1 ? n : size - 1;

		memcpy(dst, src, m);
		dst[m] = '\0';
	}
	return n;
}

int
str_to_ll(const char *s, long long min, long long max, long long *val_r,
    const char **err_r)
{
	const char *p = s;
	char *end;
	long long v;

	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9') {
		*err_r = "not a number";
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		*err_r = "not a number";
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		*err_r = "number out of range";
		return -1;
	}
	*val_r = v;
	return 0;
}

const char *
str_fmt_buf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	str_copy(buf, s, size);
	free(s);
	return buf;
}

size_t
str_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	size_t *row = xcalloc(m + 1, sizeof(*row));
	size_t d;

	for (size_t j = 0; j <= m; j++)
		row[j] = j;
	for (size_t i = 1; i <= n; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t up = row[j];
			size_t cost = ascii_lower(a[i - 1]) ==
			    ascii_lower(b[j - 1]) ? 0 : 1;
			size_t best = diag + cost;

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	d = row[m];
	free(row);
	return d;
}

bool
str_is_printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

void
strv_init(struct strv *sv)
{
	sv->v = NULL;
	sv->n = 0;
	sv->cap = 0;
}

void
strv_deinit(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	strv_init(sv);
}

void
strv_push_owned(struct strv *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap == 0 ? 8 : xadd(sv->cap, sv->cap);
		sv->v = xreallocarray(sv->v, sv->cap, sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void
strv_push(struct strv *sv, const char *s)
{
	strv_push_owned(sv, xstrdup(s));
}

void
strv_push_n(struct strv *sv, const char *s, size_t n)
{
	strv_push_owned(sv, xstrndup(s, n));
}

void
strv_split(struct strv *sv, const char *s, const char *seps)
{
	if (seps == NULL)
		seps = ", \t\r\n";
	while (*s != '\0') {
		size_t n;

		s += strspn(s, seps);
		n = strcspn(s, seps);
		if (n > 0)
			strv_push_n(sv, s, n);
		s += n;
	}
}

long
strv_find(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return (long)i;
	return -1;
}

char *
strv_join(const struct strv *sv, const char *sep)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < sv->n; i++) {
		if (i > 0)
			buf_adds(&b, sep);
		buf_adds(&b, sv->v[i]);
	}
	return buf_steal(&b);
}
