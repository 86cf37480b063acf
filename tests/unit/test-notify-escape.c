/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukey-notify's escaping of text from tokens (tools/notify/escape.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "escape.h"

static void check_controls(const char *in, const char *want)
{
	char *out = notify_escape_controls(in);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void test_plain_text_unchanged(void **state)
{
	check_controls("", "");
	check_controls("国信CA测试主锁", "国信CA测试主锁");
	check_controls("ePass3003 (SM2) \\ 副锁 😀", "ePass3003 (SM2) \\ 副锁 😀");
}

static void test_c0_del_c1(void **state)
{
	check_controls("a\x1b[2Jb", "a\\x1b[2Jb");
	check_controls("\r\n\t\x07", "\\x0d\\x0a\\x09\\x07");
	check_controls("x\x7fy", "x\\x7fy");
	/* U+009B, the one-byte CSI of C1, and U+0085 (NEL). */
	check_controls("a\xc2\x9b"
		       "31mb\xc2\x85",
		       "a\\u009b31mb\\u0085");
}

static void test_bidi_and_separators(void **state)
{
	/* RLO would show "锁主" reversed, PDI/LRI/RLI/FSI isolates, LRM/RLM/ALM marks. */
	check_controls("主\xe2\x80\xae锁", "主\\u202e锁");
	check_controls("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad",
		       "\\u202a\\u202b\\u202c\\u202d");
	check_controls("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9",
		       "\\u2066\\u2067\\u2068\\u2069");
	check_controls("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "\\u200e\\u200f\\u061c");
	check_controls("a\xe2\x80\xa8"
		       "b\xe2\x80\xa9",
		       "a\\u2028b\\u2029");
}

static void test_invalid_utf8(void **state)
{
	check_controls("\xff", "\\xff");
	check_controls("a\xe4\xb8", "a\\xe4\\xb8");		    /* cut short */
	check_controls("\xc0\xaf", "\\xc0\\xaf");		    /* overlong "/" */
	check_controls("\xed\xa0\x80", "\\xed\\xa0\\x80");	    /* a surrogate */
	check_controls("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* past U+10FFFF */
	/* The worst case grows six times, and fits. */
	check_controls("\xe2\x80\xae\xe2\x80\xae", "\\u202e\\u202e");
}

static void test_markup(void **state)
{
	char *out = notify_escape_markup("<b>A&B</b> \"x\"");

	assert_non_null(out);
	assert_string_equal(out, "&lt;b&gt;A&amp;B&lt;/b&gt; \"x\"");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_unchanged),
		cmocka_unit_test(test_c0_del_c1),
		cmocka_unit_test(test_bidi_and_separators),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_markup),
	};

	return cmocka_run_group_tests_name("notify-escape", tests, NULL, NULL);
}
