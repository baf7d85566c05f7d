/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for master_proto.c: status frames over a socketpair, the
 * frames master must refuse, and where a master.cf command is found.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "test_main.h"

#include "master_proto.h"

#define B(s)	s, sizeof(s) - 1

START_TEST(test_status_roundtrip)
{
	int sv[2];
	struct buf body;
	const char *err = NULL;
	bool busy = false;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	buf_init(&body, 0);
	ck_assert_int_eq(master_proto_send_status(sv[0], true, &err), 0);
	ck_assert_int_eq(attr_read_frame(sv[1], &body, MASTER_STATUS_MAX,
	    1000, &err), 0);
	ck_assert_int_eq(master_proto_parse_status(body.data, body.len, &busy,
	    &err), 0);
	ck_assert(busy);
	ck_assert_int_eq(master_proto_send_status(sv[0], false, &err), 0);
	ck_assert_int_eq(attr_read_frame(sv[1], &body, MASTER_STATUS_MAX,
	    1000, &err), 0);
	ck_assert_int_eq(master_proto_parse_status(body.data, body.len, &busy,
	    &err), 0);
	ck_assert(!busy);
	/* The frame must stay far below PIPE_BUF-sized atomic writes. */
	ck_assert_uint_lt(body.len, MASTER_STATUS_MAX);
	close(sv[1]);
	ck_assert_int_eq(master_proto_send_status(sv[0], true, &err), -1);
	ck_assert_ptr_nonnull(err);
	close(sv[0]);
	buf_deinit(&body);
}
END_TEST

static const struct {
	const char	*body;
	size_t		 len;
} bad_status[] = {
	{ B("") },						/* empty */
	{ B("\x01\x06status\0\0\0\x04idle\0") },		/* value */
	{ B("\x01\x06status\0\0\0\x05" "busy!\0") },		/* value */
	{ B("\x01\x06status\0\0\0\x04" "BUSY\0") },		/* case */
	{ B("\x01\x06status\0\0\0\x04" "busy") },		/* no NUL */
	{ B("\x01\x06status\0\0\0\x04" "bu\0y\0") },		/* NUL in */
	{ B("\x04\x06status\x01") },				/* type */
	{ B("\x01\x06status\0\0\0\x04" "busy\0" "x") },		/* trailing */
	{ B("\x01\x06status\0\0\0\x04" "busy\0"
	    "\x01\x03pid\0\0\0\x01" "1\0") },			/* extra */
	{ B("\x01\x06status\0\0\0\x04" "busy\0"
	    "\x01\x06status\0\0\0\x05" "avail\0") },		/* twice */
	{ B("\x01\x06status\0\0\xff\xff" "busy\0") },		/* length */
};

START_TEST(test_status_hostile)
{
	const char *err = NULL;
	bool busy = true;

	ck_assert_int_eq(master_proto_parse_status(bad_status[_i].body,
	    bad_status[_i].len, &busy, &err), -1);
	ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(test_wakeup)
{
	struct buf b;

	buf_init(&b, 0);
	master_proto_wakeup_frame(&b);
	ck_assert_uint_gt(b.len, ATTR_HDR_LEN);
	ck_assert(master_proto_is_wakeup(b.data + ATTR_HDR_LEN,
	    b.len - ATTR_HDR_LEN));
	ck_assert(!master_proto_is_wakeup(b.data + ATTR_HDR_LEN,
	    b.len - ATTR_HDR_LEN - 1));
	ck_assert(!master_proto_is_wakeup(B("\x01\x07request\0\0\0\x06"
	    "wakeup\0" "\x01\x01x\0\0\0\0\0")));
	ck_assert(!master_proto_is_wakeup(B("\x01\x07request\0\0\0\x05"
	    "flush\0")));
	ck_assert(!master_proto_is_wakeup(B("")));
	buf_deinit(&b);
}
END_TEST

START_TEST(test_program)
{
	char *path = NULL;
	const char *err = "";

	ck_assert_int_eq(master_proto_program("sh", "/bin", &path, &err), 0);
	ck_assert_str_eq(path, "/bin/sh");
	free(path);
	ck_assert_int_eq(master_proto_program("/bin/sh", "/nonexistent",
	    &path, &err), 0);
	free(path);
	ck_assert_int_eq(master_proto_program("nosuch", "/nonexistent", &path,
	    &err), -1);
	ck_assert_str_eq(err, "/nonexistent/nosuch: No such file or "
	    "directory");
	free(path);
	ck_assert_int_eq(master_proto_program("/tmp", "/x", &path, &err), -1);
	ck_assert_str_eq(err, "/tmp: not a regular file");
	free(path);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("master_proto");
	TCase *tc = tcase_create("frames");

	tcase_add_test(tc, test_status_roundtrip);
	tcase_add_loop_test(tc, test_status_hostile, 0, ARRAY_LEN(bad_status));
	tcase_add_test(tc, test_wakeup);
	tcase_add_test(tc, test_program);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
