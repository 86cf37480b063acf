/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hostile text from tokens: control characters escaped for logs and
 * terminals, and a label cut inside a UTF-8 character read as UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text-decode.h"
#include "util.h"

static void assert_escaped(const char *in, const char *want)
{
	char *out = ukey_escape_controls_dup(in);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void test_escape_controls(void **state)
{
	assert_escaped("国信CA测试主锁", "国信CA测试主锁");
	assert_escaped("a\\b C:\\x", "a\\b C:\\x"); /* backslashes stay */
	/* A label that tried to forge a log line and clear the screen. */
	assert_escaped("x\nukeyd[notice]: audit: uid 0", "x\\nukeyd[notice]: audit: uid 0");
	assert_escaped("\x1b[2J\a\t\r\x7f", "\\x1b[2J\\x07\\t\\r\\x7f");
	/* C1 (U+0085 NEL, U+009B CSI), bidi overrides and isolates, marks,
	 * line and paragraph separators. */
	assert_escaped("a\xc2\x85z\xc2\x9b", "a\\u0085z\\u009b");
	assert_escaped("\xe2\x80\xaegpj.exe", "\\u202egpj.exe");
	assert_escaped("\xe2\x81\xa6x\xe2\x81\xa9\xe2\x80\x8f\xd8\x9c",
		       "\\u2066x\\u2069\\u200f\\u061c");
	assert_escaped("\xe2\x80\xa8\xe2\x80\xa9", "\\u2028\\u2029");
	/* Not UTF-8: each bad byte visible. */
	assert_escaped("\xff\xfe", "\\xff\\xfe");
	/* Nearby characters that are harmless stay (U+2030, U+00A0). */
	assert_escaped("\xe2\x80\xb0\xc2\xa0", "\xe2\x80\xb0\xc2\xa0");
}

static void test_escape_truncates_like_snprintf(void **state)
{
	char out[8];
	size_t need = ukey_escape_controls("ab\x1b[2J", 6, out, sizeof(out));

	assert_int_equal(need, strlen("ab\\x1b[2J"));
	/* Never half an escape. */
	assert_string_equal(out, "ab\\x1b[");
	need = ukey_escape_controls("\x1b\x1b", 2, out, 6);
	assert_int_equal(need, 8);
	assert_string_equal(out, "\\x1b");
}

/* A 32-byte CKA_LABEL field. */
static char *label32(const char *text)
{
	unsigned char field[32];
	size_t n = strlen(text);

	memset(field, ' ', sizeof(field));
	memcpy(field, text, n < 32 ? n : 32);
	return p11_text_decode(field, sizeof(field));
}

static void test_label_cut_inside_a_character(void **state)
{
	/* "国信CA测试用主锁样本x二" is 33 bytes: a writer that counts bytes
	 * cuts the last character after two of its three. */
	char *s = label32("国信CA测试用主锁样本x二");

	assert_string_equal(s, "国信CA测试用主锁样本x");
	free(s);
	/* Exactly full: nothing to trim. */
	s = label32("国信CA测试用主锁样本一");
	assert_string_equal(s, "国信CA测试用主锁样本一");
	free(s);
	/* A 4-byte character cut after one byte. */
	s = label32("国信CA测试用主锁样本xy\xf0\x9f\x94\x91");
	assert_string_equal(s, "国信CA测试用主锁样本xy");
	free(s);
	/* Padded (not full): a broken tail is not a cut; it is not UTF-8. */
	s = label32("国信\xe6\x9c");
	assert_string_not_equal(s, "国信");
	free(s);
	/* GBK that fills the field stays GBK: 国信CA数字证书测试锁主锁一号二三 */
	{
		static const char gbk[] =
			"\xb9\xfa\xd0\xc5"
			"CA"
			"\xca\xfd\xd7\xd6\xd6\xa4\xca\xe9\xb2\xe2\xca\xd4"
			"\xcb\xf8\xd6\xf7\xcb\xf8\xd2\xbb\xba\xc5\xb6\xfe\xc8\xfd";
		assert_int_equal(strlen(gbk), 32);
		s = p11_text_decode((const unsigned char *)gbk, 32);
		assert_string_equal(s, "国信CA数字证书测试锁主锁一号二三");
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_escape_truncates_like_snprintf),
		cmocka_unit_test(test_label_cut_inside_a_character),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
