/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for ternsuper's parsers, compiled into the test from the
 * inside (ternsuper.c without its main): queue ID lines read for "-"
 * (white space, mailq status marks, NUL, CR, overlong and non-ASCII
 * lines, a last line without LF) and the queues each operation may
 * touch.
 */
#include "config.h"

#define TERNSUPER_NO_MAIN
#include "ternsuper.c"

#include "test_main.h"

static const struct {
	const char	*line;
	size_t		 len;		/* 0: strlen */
	int		 rc;
	const char	*id;
} line_cases[] = {
	{ "1MQ3K7F0A3C2B", 0, 1, "1MQ3K7F0A3C2B" },
	{ "  1MQ3K7F0A3C2B\t ", 0, 1, "1MQ3K7F0A3C2B" },
	{ "1MQ3K7F0A3C2B*", 0, 1, "1MQ3K7F0A3C2B" },
	{ "1MQ3K7F0A3C2B!", 0, 1, "1MQ3K7F0A3C2B" },
	{ "1MQ3K7F0A3C2B\r", 0, 1, "1MQ3K7F0A3C2B" },
	{ "", 0, 0, NULL },
	{ "   \t", 0, 0, NULL },
	{ "*", 0, -1, NULL },
	{ "1MQ3K7F0A3C2B**", 0, -1, NULL },
	{ "1MQ3K7F0A3C2B\rX", 0, -1, NULL },
	{ "1MQ3K7F0A3C2B\0X", 15, -1, NULL },
	{ "1MQ3K7F0A3C2B 1MQ3K7F0A3C2C", 0, -1, NULL },
	{ "1mq3k7f0a3c2b", 0, -1, NULL },
	{ "1MQ3K7F0A3C2\xc3\xa9", 0, -1, NULL },
	{ "../1MQ3K7F0A3C2B", 0, -1, NULL },
	{ "1MQ3K7F0A3C2B1MQ3K7F0A3C2B", 0, -1, NULL },
	{ "ALL", 0, -1, NULL },
};

START_TEST(test_parse_line)
{
	const char *line = line_cases[_i].line;
	size_t len = line_cases[_i].len ? line_cases[_i].len : strlen(line);
	char id[QID_SIZE];
	const char *err = NULL;
	int rc = super_parse_id_line(line, len, id, &err);

	ck_assert_int_eq(rc, line_cases[_i].rc);
	if (rc == 1)
		ck_assert_str_eq(id, line_cases[_i].id);
	if (rc == -1)
		ck_assert_ptr_nonnull(err);
}
END_TEST

static size_t
read_ids(const char *text, size_t len, struct strv *ids)
{
	char *copy = xmemdup(text, len + 1);
	FILE *fp = fmemopen(copy, len, "r");
	size_t bad;

	ck_assert_ptr_nonnull(fp);
	bad = super_read_ids(fp, "test", ids);
	fclose(fp);
	free(copy);
	return bad;
}

START_TEST(test_read_ids)
{
	static const char text[] =
	    "1MQ3K7F0A3C2B\n"
	    "\n"
	    "bogus\n"
	    "1MQ3K7F0A3C2C*\r\n"
	    "1MQ3K7F0A3C2\0D\n"
	    "1MQ3K7F0A3C2E";		/* no LF at the end */
	struct strv ids;
	struct buf big;

	strv_init(&ids);
	ck_assert_uint_eq(read_ids(text, sizeof(text) - 1, &ids), 2);
	ck_assert_uint_eq(ids.n, 3);
	ck_assert_str_eq(ids.v[0], "1MQ3K7F0A3C2B");
	ck_assert_str_eq(ids.v[1], "1MQ3K7F0A3C2C");
	ck_assert_str_eq(ids.v[2], "1MQ3K7F0A3C2E");
	strv_deinit(&ids);

	/* A line far over the limit is one bad line, then reading goes on. */
	buf_init(&big, 0);
	for (int i = 0; i < 100000; i++)
		buf_addc(&big, '1');
	buf_adds(&big, "\n1MQ3K7F0A3C2F\n");
	strv_init(&ids);
	ck_assert_uint_eq(read_ids(big.data, big.len, &ids), 1);
	ck_assert_uint_eq(ids.n, 1);
	ck_assert_str_eq(ids.v[0], "1MQ3K7F0A3C2F");
	strv_deinit(&ids);
	buf_deinit(&big);

	/* Empty input: nothing, nothing bad. */
	strv_init(&ids);
	ck_assert_uint_eq(read_ids("", 0, &ids), 0);
	ck_assert_uint_eq(ids.n, 0);
	strv_deinit(&ids);
}
END_TEST

START_TEST(test_queues)
{
	struct strv args, q;

	strv_init(&args);
	strv_init(&q);
	super_op_queues(OP_DELETE, &args, &q);
	ck_assert_uint_eq(q.n, 4);
	ck_assert_int_eq(strv_find(&q, "maildrop"), -1);
	strv_deinit(&q);

	strv_init(&q);
	super_op_queues(OP_RELEASE, &args, &q);
	ck_assert_uint_eq(q.n, 1);
	ck_assert_str_eq(q.v[0], "hold");
	strv_deinit(&q);

	/* Named queues restrict each operation to what it allows. */
	strv_push(&args, "corrupt");
	strv_push(&args, "deferred");
	strv_init(&q);
	super_op_queues(OP_DELETE, &args, &q);
	ck_assert_uint_eq(q.n, 2);
	strv_deinit(&q);
	strv_init(&q);
	super_op_queues(OP_HOLD, &args, &q);
	ck_assert_uint_eq(q.n, 1);
	ck_assert_str_eq(q.v[0], "deferred");
	strv_deinit(&q);
	strv_init(&q);
	super_op_queues(OP_REQUEUE, &args, &q);
	ck_assert_int_eq(strv_find(&q, "corrupt"), -1);
	strv_deinit(&q);
	strv_deinit(&args);

	ck_assert(super_queue_name_valid("maildrop"));
	ck_assert(super_queue_name_valid("corrupt"));
	ck_assert(!super_queue_name_valid("public"));
	ck_assert(!super_queue_name_valid("../incoming"));
	ck_assert(!super_queue_name_valid(""));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("ternsuper");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse_line, 0, ARRAY_LEN(line_cases));
	tcase_add_test(tc, test_read_ids);
	tcase_add_test(tc, test_queues);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
