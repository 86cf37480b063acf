/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SKF name lists from libraries that follow the standard, and from ones
 * that do not. Every input sits in a heap block of exactly its length, so
 * AddressSanitizer catches a read past it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/skf/skf-names.h"

#define SENTINEL ((char **)0x1)

/* Parses a copy of data[0..len) in a block of exactly len bytes. */
static int parse(const char *data, size_t len, char ***names, size_t *n)
{
	char *copy = len ? malloc(len) : NULL;
	int r;

	if (len) {
		assert_non_null(copy);
		memcpy(copy, data, len);
	}
	r = skf_names_parse(copy, len, names, n);
	free(copy);
	return r;
}

/* Expects the list to parse into the n names given. */
static void expect_names(const char *data, size_t len, size_t want_n, ...)
{
	char **names = NULL;
	size_t n = 999;
	va_list ap;

	assert_int_equal(parse(data, len, &names, &n), 0);
	assert_int_equal(n, want_n);
	assert_non_null(names);
	va_start(ap, want_n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(names[i], va_arg(ap, const char *));
	va_end(ap);
	assert_null(names[n]);
	skf_names_free(names, n);
}

/* Expects a refusal with the out-parameters untouched. */
static void expect_error(const char *data, size_t len, int err)
{
	char **names = SENTINEL;
	size_t n = 999;

	assert_int_equal(parse(data, len, &names, &n), err);
	assert_ptr_equal(names, SENTINEL);
	assert_int_equal(n, 999);
}

static void test_standard(void **state)
{
	expect_names("a\0bb\0\0", 6, 2, "a", "bb");
	expect_names("GXCA_APP\0\0", 10, 1, "GXCA_APP");
	expect_names("dev0\0dev1\0dev2\0\0", 16, 3, "dev0", "dev1", "dev2");
}

static void test_empty(void **state)
{
	char **names = SENTINEL;
	size_t n = 999;

	expect_names("", 0, 0);
	expect_names("\0", 1, 0);
	expect_names("\0\0\0\0", 4, 0);
	/* A library that says "no names" with a NULL buffer. */
	assert_int_equal(skf_names_parse(NULL, 0, &names, &n), 0);
	assert_int_equal(n, 0);
	assert_non_null(names);
	assert_null(names[0]);
	skf_names_free(names, n);
	skf_names_free(NULL, 0);
}

static void test_missing_list_end(void **state)
{
	/* Whole names, no final extra NUL: accepted. */
	expect_names("a\0bb\0", 5, 2, "a", "bb");
	expect_names("a\0", 2, 1, "a");
	/* The last name not terminated: it may be cut. */
	expect_error("a\0bb", 4, -EBADMSG);
	expect_error("abc", 3, -EBADMSG);
}

static void test_one_byte(void **state)
{
	expect_names("\0", 1, 0);
	expect_error("x", 1, -EBADMSG);
}

static void test_len_shorter_than_data(void **state)
{
	const char *list = "a\0bb\0\0";

	expect_names(list, 6, 2, "a", "bb");
	expect_names(list, 5, 2, "a", "bb");
	expect_error(list, 4, -EBADMSG);
	expect_error(list, 3, -EBADMSG);
	expect_names(list, 2, 1, "a");
	expect_error(list, 1, -EBADMSG);
	expect_names(list, 0, 0);
}

static void test_empty_names_end_the_list(void **state)
{
	/* By the standard, the first empty name is the end. */
	expect_names("a\0\0b\0\0", 6, 1, "a");
	expect_names("\0a\0\0", 4, 0);
	/* A size covering the whole buffer, with junk after the end. */
	expect_names("a\0\0garbage-without-nul", 22, 1, "a");
}

static void test_bytes_kept(void **state)
{
	char **names;
	size_t n;

	/* GBK "国信", not UTF-8: kept as is, to be passed back to the library. */
	assert_int_equal(parse("\xb9\xfa\xd0\xc5\0\xff\x01\0\0", 9, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(names[0], "\xb9\xfa\xd0\xc5", 5);
	assert_memory_equal(names[1], "\xff\x01", 3);
	skf_names_free(names, n);
}

static void test_name_cap(void **state)
{
	char buf[SKF_NAME_MAX + 3];
	char **names;
	size_t n;

	memset(buf, 'n', sizeof(buf));
	buf[SKF_NAME_MAX] = '\0';
	buf[SKF_NAME_MAX + 1] = '\0';
	assert_int_equal(parse(buf, SKF_NAME_MAX + 2, &names, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(names[0]), SKF_NAME_MAX);
	skf_names_free(names, n);

	memset(buf, 'n', sizeof(buf));
	buf[SKF_NAME_MAX + 1] = '\0';
	buf[SKF_NAME_MAX + 2] = '\0';
	expect_error(buf, SKF_NAME_MAX + 3, -ENAMETOOLONG);
}

static void test_count_cap(void **state)
{
	/* "x\0" SKF_NAMES_MAX + 1 times, then the list end. */
	size_t len = 2 * (SKF_NAMES_MAX + 1) + 1;
	char *buf = malloc(len);
	char **names;
	size_t n;

	assert_non_null(buf);
	for (size_t i = 0; i < SKF_NAMES_MAX + 1; i++) {
		buf[2 * i] = 'x';
		buf[2 * i + 1] = '\0';
	}
	buf[len - 1] = '\0';
	expect_error(buf, len, -E2BIG);

	/* Exactly the cap: the last "x\0" becomes the end. */
	buf[2 * SKF_NAMES_MAX] = '\0';
	assert_int_equal(parse(buf, len, &names, &n), 0);
	assert_int_equal(n, SKF_NAMES_MAX);
	skf_names_free(names, n);
	free(buf);
}

static void test_bad_arguments(void **state)
{
	char **names = SENTINEL;
	size_t n = 999;

	assert_int_equal(skf_names_parse(NULL, 3, &names, &n), -EINVAL);
	assert_int_equal(skf_names_parse("a\0", 3, NULL, &n), -EINVAL);
	assert_int_equal(skf_names_parse("a\0", 3, &names, NULL), -EINVAL);
	assert_ptr_equal(names, SENTINEL);
	assert_int_equal(n, 999);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standard),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_missing_list_end),
		cmocka_unit_test(test_one_byte),
		cmocka_unit_test(test_len_shorter_than_data),
		cmocka_unit_test(test_empty_names_end_the_list),
		cmocka_unit_test(test_bytes_kept),
		cmocka_unit_test(test_name_cap),
		cmocka_unit_test(test_count_cap),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
