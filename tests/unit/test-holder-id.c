/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GB 32100 credit codes and GB 11643 resident ID numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "holder-id.h"

/* Real codes: from the test certificates and seals in shared/testdata. */
static const char *const valid_codes[] = {
	"11370306MB2867521U", /* 淄博市周村区自然资源局, CEGN certificate */
	"115300000151003540", /* 云南省住房和城乡建设厅, YNCA certificate */
	"91130602R8TTDB3PTG", /* the test seal SESealData.DER */
	"12100000000018032A", /* the CEGN seal CA's own O */
};

static void test_valid_codes(void **state)
{
	for (size_t i = 0; i < sizeof(valid_codes) / sizeof(valid_codes[0]); i++)
		assert_true(credit_code_valid(valid_codes[i]));
}

static void test_one_character_changed(void **state)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

	/* Every single-character change of every valid code is caught. */
	for (size_t i = 0; i < sizeof(valid_codes) / sizeof(valid_codes[0]); i++)
		for (size_t pos = 0; pos < 18; pos++)
			for (const char *c = alphabet; *c; c++) {
				char s[19];
				if (*c == valid_codes[i][pos])
					continue;
				memcpy(s, valid_codes[i], 19);
				s[pos] = *c;
				assert_false(credit_code_valid(s));
			}
}

static void test_not_in_alphabet(void **state)
{
	assert_false(credit_code_valid("11370306MB2867521I")); /* I is never used */
	assert_false(credit_code_valid("11370306mb2867521U")); /* lower case */
	assert_false(credit_code_valid("11370306MB2867521"));  /* 17 characters */
}

static void test_find_in_text(void **state)
{
	char out[19];
	const char *o = "11370306MB2867521U淄博市周村区自然资源局";

	assert_true(credit_code_find(o, strlen(o), out));
	assert_string_equal(out, "11370306MB2867521U");
	/* Inside a longer run of code characters. */
	assert_true(credit_code_find("XX91130602R8TTDB3PTGXX", 22, out));
	assert_string_equal(out, "91130602R8TTDB3PTG");
	/* A wrong check character: nothing. */
	assert_false(
		credit_code_find("91320000MA1MYTQK3H测试", strlen("91320000MA1MYTQK3H测试"), out));
	assert_false(credit_code_find("CN=37030000001721", 17, out));
}

static void test_person_id(void **state)
{
	char out[19];

	assert_true(person_id_valid("110101199003074477"));
	assert_true(person_id_valid("11010519491231002X"));
	assert_false(person_id_valid("110101199003074478"));
	assert_false(person_id_valid("11010519491231002x")); /* the finder upper-cases */
	assert_true(person_id_find_masked("SN=11010519491231002x", 21, out));
	assert_string_equal(out, "110***********002X");
	assert_true(person_id_find_masked("张三110101199003074477",
					  strlen("张三110101199003074477"), out));
	assert_string_equal(out, "110***********4477");
	/* The full number never appears in what is returned. */
	assert_null(strstr(out, "19900307"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_codes),
		cmocka_unit_test(test_one_character_changed),
		cmocka_unit_test(test_not_in_alphabet),
		cmocka_unit_test(test_find_in_text),
		cmocka_unit_test(test_person_id),
	};

	return cmocka_run_group_tests_name("holder-id", tests, NULL, NULL);
}
