/* SPDX-License-Identifier: MIT */
/* Unit tests for buf.c: growth, the hard maximum, NUL termination. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "test_main.h"

START_TEST(test_append_and_cstr)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_str_eq(buf_cstr(&b), "");
	ck_assert_int_eq(buf_puts(&b, "hello"), 0);
	ck_assert_int_eq(buf_putc(&b, ' '), 0);
	ck_assert_int_eq(buf_printf(&b, "%d-%s", 42, "x"), 0);
	ck_assert_str_eq(buf_cstr(&b), "hello 42-x");
	ck_assert_uint_eq(b.len, 10);
	buf_deinit(&b);
}
END_TEST

START_TEST(test_max_enforced)
{
	struct buf b;

	buf_init(&b, 8);
	ck_assert_int_eq(buf_puts(&b, "12345678"), 0);
	/* One byte more fails and leaves the contents as they were. */
	ck_assert_int_eq(buf_putc(&b, '9'), -1);
	ck_assert_int_eq(buf_printf(&b, "%s", "z"), -1);
	ck_assert_str_eq(buf_cstr(&b), "12345678");
	ck_assert_uint_le(b.cap, 9);
	buf_deinit(&b);
}
END_TEST

START_TEST(test_size_overflow)
{
	struct buf b;

	buf_init(&b, 16);
	ck_assert_int_eq(buf_puts(&b, "abc"), 0);
	/* A length that would wrap size_t is refused, not wrapped. */
	ck_assert_int_eq(buf_append(&b, "x", SIZE_MAX), -1);
	ck_assert_int_eq(buf_append(&b, "x", SIZE_MAX - 1), -1);
	ck_assert_str_eq(buf_cstr(&b), "abc");
	buf_deinit(&b);
}
END_TEST

START_TEST(test_growth_large)
{
	struct buf b;
	char chunk[1000];

	memset(chunk, 'a', sizeof(chunk));
	buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_append(&b, chunk, sizeof(chunk)), 0);
	ck_assert_uint_eq(b.len, 1000000);
	ck_assert_int_eq(b.data[b.len], '\0');
	buf_deinit(&b);
}
END_TEST

START_TEST(test_nul_inside)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_append(&b, "a\0b", 3), 0);
	ck_assert_uint_eq(b.len, 3);
	ck_assert(buf_has_nul(&b));
	buf_reset(&b);
	ck_assert(!buf_has_nul(&b));
	ck_assert_str_eq(buf_cstr(&b), "");
	buf_deinit(&b);
}
END_TEST

START_TEST(test_consume_truncate_steal)
{
	struct buf *b = buf_new(0);
	char *s;

	buf_adds(b, "line1\r\nline2");
	buf_consume(b, 7);
	ck_assert_str_eq(buf_cstr(b), "line2");
	buf_truncate(b, 4);
	ck_assert_str_eq(buf_cstr(b), "line");
	s = buf_steal(b);
	ck_assert_str_eq(s, "line");
	ck_assert_uint_eq(b->len, 0);
	free(s);
	buf_free(&b);
	ck_assert_ptr_null(b);
	buf_free(&b);		/* freeing NULL is harmless */
}
END_TEST

START_TEST(test_add_past_max_panics)
{
	struct buf b;

	buf_init(&b, 4);
	buf_adds(&b, "12345");
}
END_TEST

START_TEST(test_truncate_past_len_panics)
{
	struct buf b;

	buf_init(&b, 0);
	buf_adds(&b, "ab");
	buf_truncate(&b, 3);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_append_and_cstr);
	tcase_add_test(tc, test_max_enforced);
	tcase_add_test(tc, test_size_overflow);
	tcase_add_test(tc, test_growth_large);
	tcase_add_test(tc, test_nul_inside);
	tcase_add_test(tc, test_consume_truncate_steal);
	tcase_add_test_raise_signal(tc, test_add_past_max_panics, SIGABRT);
	tcase_add_test_raise_signal(tc, test_truncate_past_len_panics, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
