/* SPDX-License-Identifier: MIT */
/*
 * Allocation that never returns NULL: running out of memory is an
 * environment failure, so it is fatal, and callers never test for NULL.
 * Size arithmetic is overflow-checked.
 */
#ifndef TERN_XALLOC_H
#define TERN_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n) __attribute__((malloc, returns_nonnull));
/* Zero-filled nmemb * size bytes; the product is overflow-checked. */
void *xcalloc(size_t nmemb, size_t size) __attribute__((malloc, returns_nonnull));
/* realloc(p, nmemb * size) with the product overflow-checked. */
void *xreallocarray(void *p, size_t nmemb, size_t size) __attribute__((returns_nonnull));
char *xstrdup(const char *s) __attribute__((malloc, returns_nonnull));
/* Copies at most n bytes of s and NUL-terminates. */
char *xstrndup(const char *s, size_t n) __attribute__((malloc, returns_nonnull));
void *xmemdup(const void *p, size_t n) __attribute__((malloc, returns_nonnull));
char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), malloc, returns_nonnull));
char *xvasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0), malloc, returns_nonnull));
/* a + b, fatal on overflow. */
size_t xadd(size_t a, size_t b);

#endif
