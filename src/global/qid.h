/* SPDX-License-Identifier: MIT */
/*
 * Queue IDs: unique over time and sortable by arrival (Postfix's "long
 * queue ID" idea).  An ID is the arrival time and the inode number of the
 * queue file, each in base 32 with the digits 0-9A-V (which sort in ASCII
 * order like their values):
 *
 *	SSSSSSS UUUU III...
 *	7 digits of seconds since the epoch, 4 digits of microseconds,
 *	then 1 to 13 digits of the inode number (no leading zeros)
 *
 * e.g. "1MQ3K7F0A3C2B" — 12 to 24 characters, nothing else.  Two files that
 * exist at the same time on one file system never share an inode, and a
 * later file with a recycled inode has a later time, so an ID is never
 * reused.  Sorting IDs as strings sorts by arrival to the microsecond.
 */
#ifndef TERN_QID_H
#define TERN_QID_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#define QID_TIME_LEN	11	/* seconds + microseconds digits */
#define QID_MIN_LEN	12
#define QID_MAX_LEN	24
#define QID_SIZE	(QID_MAX_LEN + 1)	/* with the NUL */

/* Formats the ID for an arrival time and inode into out. */
void qid_format(char out[QID_SIZE], const struct timeval *tv, ino_t ino);
/* True when s is exactly a well-formed queue ID (no other characters). */
bool qid_valid(const char *s);
/* The arrival time encoded in a valid ID; -1 when s is not valid. */
int qid_time(const char *s, struct timeval *tv_r)
    __attribute__((warn_unused_result));

#endif
