/* SPDX-License-Identifier: MIT */
/*
 * Queue IDs: arrival time and inode number in base 32 (digits 0-9A-V, which
 * sort in ASCII order like their values), so that IDs are unique over time
 * and sort by arrival; see qid.h for the layout.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>
#include <sys/types.h>

#include "qid.h"

#define QID_SEC_DIGITS	7
#define QID_USEC_DIGITS	4
#define QID_INO_MAX_DIGITS	(QID_MAX_LEN - QID_TIME_LEN)

static const char qid_digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

/* The value of base-32 digit c, or -1. */
static int
qid_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'V')
		return c - 'A' + 10;
	return -1;
}

/* Writes v as exactly width base-32 digits (v must fit). */
static void
qid_put_fixed(char *out, uint64_t v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--) {
		out[i] = qid_digits[v & 31];
		v >>= 5;
	}
}

void
qid_format(char out[QID_SIZE], const struct timeval *tv, ino_t ino)
{
	char tmp[QID_INO_MAX_DIGITS];
	uint64_t sec = (uint64_t)tv->tv_sec, v = (uint64_t)ino;
	size_t n = 0, i;

	/* 7 digits hold 2^35 seconds (year 3058); wrap rather than overflow. */
	qid_put_fixed(out, sec & (((uint64_t)1 << 35) - 1), QID_SEC_DIGITS);
	qid_put_fixed(out + QID_SEC_DIGITS, (uint64_t)tv->tv_usec % 1000000,
	    QID_USEC_DIGITS);
	do {
		tmp[n++] = qid_digits[v & 31];
		v >>= 5;
	} while (v != 0 && n < sizeof(tmp));
	for (i = 0; i < n; i++)
		out[QID_TIME_LEN + i] = tmp[n - 1 - i];
	out[QID_TIME_LEN + n] = '\0';
}

/* Parses the fixed-width time part; false when it is not well formed. */
static bool
qid_parse_time(const char *s, struct timeval *tv)
{
	uint64_t sec = 0, usec = 0;
	int i, d;

	for (i = 0; i < QID_SEC_DIGITS; i++) {
		if ((d = qid_digit_value(s[i])) < 0)
			return false;
		sec = sec << 5 | (uint64_t)d;
	}
	for (; i < QID_TIME_LEN; i++) {
		if ((d = qid_digit_value(s[i])) < 0)
			return false;
		usec = usec << 5 | (uint64_t)d;
	}
	if (usec >= 1000000)
		return false;
	tv->tv_sec = (time_t)sec;
	tv->tv_usec = (suseconds_t)usec;
	return true;
}

bool
qid_valid(const char *s)
{
	struct timeval tv;
	size_t len, i;

	if (s == NULL)
		return false;
	len = strnlen(s, QID_MAX_LEN + 1);
	if (len < QID_MIN_LEN || len > QID_MAX_LEN)
		return false;
	if (!qid_parse_time(s, &tv))
		return false;
	/* The inode: no leading zero (so one inode has one spelling). */
	if (s[QID_TIME_LEN] == '0' && len > QID_MIN_LEN)
		return false;
	for (i = QID_TIME_LEN; i < len; i++)
		if (qid_digit_value(s[i]) < 0)
			return false;
	/* 13 digits are 65 bits: the first holds bits 60-64, at most F. */
	if (len == QID_MAX_LEN && qid_digit_value(s[QID_TIME_LEN]) > 15)
		return false;
	return true;
}

int
qid_time(const char *s, struct timeval *tv_r)
{
	if (!qid_valid(s))
		return -1;
	if (!qid_parse_time(s, tv_r))
		return -1;
	return 0;
}
