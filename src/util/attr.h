/* SPDX-License-Identifier: MIT */
/*
 * The one framed attribute format for every internal UNIX-socket protocol.
 * A writer appends typed, named fields to a frame in a buf; a reader parses
 * a frame against a spec table that names each expected field, its type,
 * whether it is required, and where its value goes.  Reading is strict:
 * anything short, long, trailing, duplicated, of the wrong type or out of
 * range rejects the whole frame, and a caller that gets -1 drops the
 * channel (STYLE.md: never guess).  Frames are read either incrementally
 * from a nonblocking stream (struct attr_reader, for event-driven daemons)
 * or with blocking helpers that honour a timeout (for simple clients).
 *
 * WIRE FORMAT (all integers big-endian, no padding):
 *
 *   frame  = length:u32 body              length = number of body bytes,
 *                                         0 <= length <= reader's maximum
 *   body   = field*                       the body ends exactly after the
 *                                         last field: no trailing bytes
 *   field  = type:u8 namelen:u8 name value
 *   name   = namelen bytes of [a-z0-9_], 1 <= namelen <= ATTR_NAME_MAX;
 *            a name occurs at most once per frame
 *   value, by type:
 *     0x01 STR   len:u32 bytes[len] 0x00   no NUL among the len bytes; the
 *                                          trailing 0x00 is mandatory, so a
 *                                          reader can hand out C strings
 *                                          that point into the frame
 *     0x02 U64   8 bytes, unsigned
 *     0x03 I64   8 bytes, two's complement
 *     0x04 BOOL  1 byte, exactly 0x00 or 0x01
 *     0x05 BLOB  len:u32 bytes[len]        any bytes
 *     0x06 STRV  count:u32 (len:u32 bytes[len] 0x00){count}
 *                                          a list of STR values
 *   Any other type byte is an error, also in a field the reader ignores.
 *
 * Frames never exceed ATTR_FRAME_MAX body bytes (1 MiB); a reader may set
 * a lower maximum.  Bulk data (message content) travels as a passed file
 * descriptor (fdpass.h), not inside a frame.
 */
#ifndef TERN_ATTR_H
#define TERN_ATTR_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "str.h"

#define ATTR_HDR_LEN	4
#define ATTR_FRAME_MAX	((size_t)1024 * 1024)
#define ATTR_NAME_MAX	32

enum attr_type {
	ATTR_T_STR = 1,
	ATTR_T_U64 = 2,
	ATTR_T_I64 = 3,
	ATTR_T_BOOL = 4,
	ATTR_T_BLOB = 5,
	ATTR_T_STRV = 6,
};

/* A BLOB value as read: points into the frame. */
struct attr_blob {
	const void	*data;
	size_t		 len;
};

#define ATTR_F_REQUIRED	0x01u

/*
 * One spec entry.  Destinations by type:
 *   STR   const char **   points into the frame body (NUL-terminated)
 *   U64   uint64_t *      range-checked against [0, max]
 *   I64   int64_t *       range-checked against [min, max]
 *   INT   int *           sent as I64, range-checked to [min, max]
 *   BOOL  bool *
 *   BLOB  struct attr_blob *  points into the frame body
 *   STRV  struct strv *   initialised by the caller; strings are copied and
 *                         appended; the caller strv_deinit()s it in any case
 * A field that is absent leaves its destination untouched, so callers set
 * defaults first.  Pointers into the frame live as long as the frame.
 */
struct attr_spec {
	const char	*name;		/* NULL ends the table */
	enum attr_type	 type;
	unsigned	 flags;
	void		*dest;
	int64_t		 min;		/* I64 and INT only */
	uint64_t	 max;		/* I64/INT: (uint64_t)max */
	bool		 is_int;	/* I64 wire type, int destination */
};

#define ATTR_SPEC_(n, t, f, d, lo, hi, i) \
	{ (n), (t), (f), (d), (lo), (uint64_t)(hi), (i) }
#define ATTR_REQ_	ATTR_F_REQUIRED

/* Required fields. */
#define ATTR_STR(n, d)	ATTR_SPEC_(n, ATTR_T_STR, ATTR_REQ_, d, 0, 0, 0)
#define ATTR_U64(n, d)	\
	ATTR_SPEC_(n, ATTR_T_U64, ATTR_REQ_, d, 0, UINT64_MAX, 0)
#define ATTR_U64_MAX(n, d, hi)	\
	ATTR_SPEC_(n, ATTR_T_U64, ATTR_REQ_, d, 0, hi, 0)
#define ATTR_I64(n, d)	\
	ATTR_SPEC_(n, ATTR_T_I64, ATTR_REQ_, d, INT64_MIN, INT64_MAX, 0)
#define ATTR_INT(n, d)	\
	ATTR_SPEC_(n, ATTR_T_I64, ATTR_REQ_, d, INT_MIN, INT_MAX, 1)
#define ATTR_INT_RANGE(n, d, lo, hi)	\
	ATTR_SPEC_(n, ATTR_T_I64, ATTR_REQ_, d, lo, hi, 1)
#define ATTR_BOOL(n, d)	ATTR_SPEC_(n, ATTR_T_BOOL, ATTR_REQ_, d, 0, 0, 0)
#define ATTR_BLOB(n, d)	ATTR_SPEC_(n, ATTR_T_BLOB, ATTR_REQ_, d, 0, 0, 0)
#define ATTR_STRV(n, d)	ATTR_SPEC_(n, ATTR_T_STRV, ATTR_REQ_, d, 0, 0, 0)
/* Optional fields. */
#define ATTR_STR_OPT(n, d)	ATTR_SPEC_(n, ATTR_T_STR, 0, d, 0, 0, 0)
#define ATTR_U64_OPT(n, d)	\
	ATTR_SPEC_(n, ATTR_T_U64, 0, d, 0, UINT64_MAX, 0)
#define ATTR_I64_OPT(n, d)	\
	ATTR_SPEC_(n, ATTR_T_I64, 0, d, INT64_MIN, INT64_MAX, 0)
#define ATTR_INT_OPT(n, d)	\
	ATTR_SPEC_(n, ATTR_T_I64, 0, d, INT_MIN, INT_MAX, 1)
#define ATTR_BOOL_OPT(n, d)	ATTR_SPEC_(n, ATTR_T_BOOL, 0, d, 0, 0, 0)
#define ATTR_BLOB_OPT(n, d)	ATTR_SPEC_(n, ATTR_T_BLOB, 0, d, 0, 0, 0)
#define ATTR_STRV_OPT(n, d)	ATTR_SPEC_(n, ATTR_T_STRV, 0, d, 0, 0, 0)
#define ATTR_END	{ NULL, 0, 0, NULL, 0, 0, 0 }

/* Flags for attr_parse. */
/* Unknown field names are errors. */
#define ATTR_PARSE_STRICT		0x00u
/* Unknown fields are skipped, but still validated. */
#define ATTR_PARSE_IGNORE_UNKNOWN	0x01u

/*
 * Error messages handed out through err_r are static or live in a
 * module buffer that stays valid until the next call into attr.
 */

/*
 * Writing.  attr_frame_begin() records where the frame starts in b (which
 * may already hold earlier frames) and reserves the header; the put
 * functions append fields; attr_frame_end() fills in the length and
 * returns 0, or -1 when the body exceeds ATTR_FRAME_MAX or b's maximum (the
 * frame is then removed from b again).  A field name that breaks the rules
 * above, or a put without a begin, is a programming error (panic).
 */
struct attr_writer {
	struct buf	*out;
	size_t		 start;
	bool		 overflow;
};

void attr_frame_begin(struct attr_writer *w, struct buf *out);
void attr_put_str(struct attr_writer *w, const char *name, const char *s);
void attr_put_u64(struct attr_writer *w, const char *name, uint64_t v);
void attr_put_i64(struct attr_writer *w, const char *name, int64_t v);
void attr_put_bool(struct attr_writer *w, const char *name, bool v);
void attr_put_blob(struct attr_writer *w, const char *name, const void *p,
    size_t len);
void attr_put_strv(struct attr_writer *w, const char *name,
    const struct strv *sv);
int attr_frame_end(struct attr_writer *w, const char **err_r)
    __attribute__((warn_unused_result));

/*
 * Parses one frame body (without its length header) against spec.  Returns
 * 0 when every field is well-formed, known (unless IGNORE_UNKNOWN), not
 * duplicated, of the spec's type and in range, and every required field is
 * present; otherwise -1 with err_r set.  Destinations may be partly
 * written on failure.  The spec itself is checked (valid names, no
 * duplicates): a broken spec is a programming error (panic).
 */
int attr_parse(const void *body, size_t len, const struct attr_spec *spec,
    unsigned flags, const char **err_r) __attribute__((warn_unused_result));

/*
 * Incremental reading for a nonblocking stream.  Feed bytes (or let
 * attr_reader_fill read them from fd), then ask for the next whole frame.
 */
struct attr_reader {
	struct buf	in;
	size_t		max;		/* maximum body length */
	size_t		cur;		/* frame length, or 0 */
};

/* max == 0 selects ATTR_FRAME_MAX; larger values are clamped to it. */
void attr_reader_init(struct attr_reader *r, size_t max);
void attr_reader_deinit(struct attr_reader *r);
/*
 * Appends n bytes received by some other means (e.g. a libevent evbuffer).
 * -1 when more than one whole frame's worth is pending (the caller must
 * take frames out first) — a peer that floods is dropped.
 */
int attr_reader_feed(struct attr_reader *r, const void *p, size_t n,
    const char **err_r) __attribute__((warn_unused_result));
/*
 * Reads what fd has, without blocking and never past room for one frame.
 * Returns 1 when bytes were read or none are available yet (EAGAIN), 0 at
 * end of file, -1 on a read error.  At EOF with a partial frame pending,
 * that frame is truncated: the caller treats 0 with attr_reader_pending()
 * as an error.
 */
int attr_reader_fill(struct attr_reader *r, int fd, const char **err_r)
    __attribute__((warn_unused_result));
/* True when bytes of an incomplete frame are buffered. */
bool attr_reader_pending(const struct attr_reader *r);
/*
 * Returns 1 with the body of the next complete frame (valid until
 * attr_reader_consume), 0 when more bytes are needed, -1 when the declared
 * length exceeds the maximum.
 */
int attr_reader_next(struct attr_reader *r, const void **body_r,
    size_t *len_r, const char **err_r) __attribute__((warn_unused_result));
/* Drops the frame returned by attr_reader_next. */
void attr_reader_consume(struct attr_reader *r);

/*
 * Blocking helpers with a deadline (timeout_ms < 0: none).  They work on
 * blocking and nonblocking descriptors, never read past the frame, and
 * never raise SIGPIPE on sockets.
 *
 * attr_write_frame writes all of frame (one or more whole frames).
 * attr_read_frame reads exactly one frame into body (reset first; the
 * maximum body length is max, 0 meaning ATTR_FRAME_MAX).  End of file
 * before the first byte gives "connection closed", in the middle "short
 * frame"; a declared length above max gives "frame too long".
 */
int attr_write_frame(int fd, const struct buf *frame, int timeout_ms,
    const char **err_r) __attribute__((warn_unused_result));
int attr_read_frame(int fd, struct buf *body, size_t max, int timeout_ms,
    const char **err_r) __attribute__((warn_unused_result));

/* Decodes a frame header; for fdpass and tests. */
size_t attr_hdr_decode(const unsigned char hdr[ATTR_HDR_LEN]);

/*
 * Low-level I/O used by attr, fdpass and ipc: waits until fd is ready for
 * events (POLLIN/POLLOUT) before the deadline (a CLOCK_MONOTONIC time in
 * ms from attr_deadline, or -1 for none).  0 ready, -1 with err_r
 * "timed out" or the poll error.
 */
int64_t attr_deadline(int timeout_ms);
int attr_wait(int fd, short events, int64_t deadline, const char **err_r)
    __attribute__((warn_unused_result));

#endif
