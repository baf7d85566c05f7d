/* SPDX-License-Identifier: MIT */
/*
 * Bounded growable byte buffers.  A buffer grows on demand up to a hard
 * maximum fixed at creation, and its contents are always NUL-terminated so
 * that validated text can be read as a C string.  The checked operations
 * (buf_append, buf_printf, ...) return -1 when the maximum would be
 * exceeded and leave the buffer unchanged; use them for untrusted input.
 * The buf_add* variants are for text the program builds itself: exceeding
 * the maximum there is a bug, so they panic.
 */
#ifndef TERN_BUF_H
#define TERN_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Default hard maximum when none is given: 64 MiB. */
#define BUF_MAX_DEFAULT	((size_t)64 * 1024 * 1024)

struct buf {
	char	*data;		/* NUL-terminated; NULL until first growth */
	size_t	 len;		/* bytes used, excluding the NUL */
	size_t	 cap;		/* bytes allocated, including the NUL */
	size_t	 max;		/* hard maximum of len */
};

/* max == 0 selects BUF_MAX_DEFAULT. */
void buf_init(struct buf *b, size_t max);
void buf_deinit(struct buf *b);
struct buf *buf_new(size_t max);
void buf_free(struct buf **bp);

int buf_append(struct buf *b, const void *p, size_t n)
	__attribute__((warn_unused_result));
int buf_puts(struct buf *b, const char *s)
	__attribute__((warn_unused_result));
int buf_putc(struct buf *b, char c)
	__attribute__((warn_unused_result));
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), warn_unused_result));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0), warn_unused_result));

/* As above, but exceeding the maximum is an invariant failure (panic). */
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Always a valid C string ("" for an empty buffer). */
const char *buf_cstr(const struct buf *b);
void buf_reset(struct buf *b);
/* Shortens to len bytes; len must not exceed the current length. */
void buf_truncate(struct buf *b, size_t len);
/* Drops the first n bytes (n <= len), moving the rest to the front. */
void buf_consume(struct buf *b, size_t n);
/* Returns the contents as a heap string owned by the caller; b is reset. */
char *buf_steal(struct buf *b) __attribute__((returns_nonnull));
/* True when the contents contain a NUL byte before len. */
bool buf_has_nul(const struct buf *b);

#endif
