/* SPDX-License-Identifier: MIT */
/*
 * The pure part of cleanup (cleanup.h): the message header as a list of
 * fields kept in memory while it is received, line by line, with the limits
 * enforced as it grows, plus the text helpers cleanup needs to rewrite it
 * (RFC 5322 dates, address qualification, recipient extraction, display
 * name quoting).  Nothing here touches files, so it is unit tested alone.
 * Lines are given without their line end; stored fields end in LF.
 */
#ifndef TERN_CLEANUP_HDR_H
#define TERN_CLEANUP_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "str.h"

/* "Sun, 22 Nov 2026 04:44:20 +0000 (UTC)" with room to spare. */
#define CLEANUP_HDR_DATE_SIZE	64

struct cleanup_hdr_field {
	size_t		 off;		/* into text */
	size_t		 len;		/* bytes, the final LF included */
	size_t		 name_len;	/* bytes of the field name */
	bool		 deleted;
	char		*replaced;	/* whole new field text ending in LF,
					   or NULL */
};

struct cleanup_hdr {
	struct buf	 text;		/* the fields as received, LF ends */
	struct cleanup_hdr_field *f;
	size_t		 n;
	size_t		 cap;
	size_t		 field_max;	/* header_size_limit */
	size_t		 count_max;	/* header_count_limit */
	size_t		 received;	/* Received: fields seen */
	const char	*error;		/* first limit hit: "5.6.0 ..." */
};

/* field_max bounds one field, count_max the number of fields. */
void cleanup_hdr_init(struct cleanup_hdr *h, size_t field_max,
    size_t count_max);
void cleanup_hdr_deinit(struct cleanup_hdr *h);

/*
 * Length of the field name when the n bytes at line start an RFC 5322
 * §2.2 header field (1*ftext, optional obsolete WSP, ":"), else 0.
 */
size_t cleanup_hdr_field_start(const char *line, size_t n);

/*
 * Feeds one header line (without its line end).  Returns 1 when it was
 * taken (a new field or a continuation of the last one), 0 when it is not
 * a header line (the header ends there; the line is not taken), -1 when a
 * limit was hit or the line holds a NUL; h->error then says why and every
 * later call returns -1.
 */
int cleanup_hdr_line(struct cleanup_hdr *h, const char *line, size_t n)
    __attribute__((warn_unused_result));

/* Index of the first live field named name at or after from, or -1. */
long cleanup_hdr_find(const struct cleanup_hdr *h, const char *name,
    size_t from);
/* The value of field i: the bytes after the colon, final LF excluded. */
void cleanup_hdr_value(const struct cleanup_hdr *h, size_t i,
    const char **v_r, size_t *n_r);
void cleanup_hdr_delete(struct cleanup_hdr *h, size_t i);
/* Replaces field i by text (a whole field, ending in LF). */
void cleanup_hdr_replace(struct cleanup_hdr *h, size_t i, const char *text);
/* Appends every live field, in order, to out. */
void cleanup_hdr_output(const struct cleanup_hdr *h, struct buf *out);

/* RFC 5322 §3.3 date-time of t in local time, numeric zone. */
void cleanup_hdr_date(char out[CLEANUP_HDR_DATE_SIZE], time_t t);

/*
 * Qualifies every address without "@" in an RFC 5322 §3.4 address list
 * (n bytes at value) with "@" domain, keeping display names, comments and
 * folding.  Returns 1 with the new value in out when something was
 * qualified, 0 when nothing needed it, -1 when the list does not parse.
 */
int cleanup_hdr_qualify(const char *value, size_t n, const char *domain,
    struct buf *out) __attribute__((warn_unused_result));

/*
 * Appends the addresses of an address list to list_r in internal form,
 * bare ones qualified with "@" domain.  -1 with err_r when it does not
 * parse (list_r unchanged).
 */
int cleanup_hdr_addrs(const char *value, size_t n, const char *domain,
    struct strv *list_r, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Appends a display name as an RFC 5322 §3.2.5 phrase: as is when it is
 * atoms and spaces, else a quoted-string; control characters are dropped.
 */
void cleanup_hdr_phrase(struct buf *out, const char *name);

#endif
