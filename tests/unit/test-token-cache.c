/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cached token model and its JSON contract; PKCS#11 text decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text-decode.h"
#include "token-cache.h"
#include "token-json.h"
#include "token.h"
#include "util.h"

static struct token *make_token(const char *module, unsigned long slot, const char *serial)
{
	struct token *t = token_new();

	t->module = strdup(module);
	t->place.index = slot;
	t->serial = strdup(serial);
	t->label = strdup("国信CA测试");
	t->manufacturer = strdup("M");
	t->model = strdup("X");
	t->initialized = true;
	t->pin_min = 4;
	t->pin_max = 16;
	t->pin_default = -1;
	return t;
}

static struct token **one(struct token *t)
{
	struct token **a = calloc(1, sizeof(*a));
	a[0] = t;
	return a;
}

static void test_replace_keeps_other_modules(void **state)
{
	struct token_cache m;
	struct token **two = calloc(2, sizeof(*two));

	token_cache_init(&m);
	two[0] = make_token("/b.so", 7, "B7");
	two[1] = make_token("/b.so", 3, "B3");
	assert_int_equal(token_cache_replace_module(&m, "/b.so", 1, two, 2), 0);
	assert_int_equal(
		token_cache_replace_module(&m, "/a.so", 0, one(make_token("/a.so", 9, "A9")), 1),
		0);
	assert_int_equal(m.n_tokens, 3);
	/* Module load order first, then slot. */
	assert_string_equal(m.tokens[0]->serial, "A9");
	assert_string_equal(m.tokens[1]->serial, "B3");
	assert_string_equal(m.tokens[2]->serial, "B7");

	/* B's rescan finds one token left: A is untouched. */
	assert_int_equal(
		token_cache_replace_module(&m, "/b.so", 1, one(make_token("/b.so", 7, "B7")), 1),
		0);
	assert_int_equal(m.n_tokens, 2);
	assert_non_null(token_cache_find(&m, "A9"));
	assert_null(token_cache_find(&m, "B3"));
	assert_null(token_cache_find(&m, ""));
	assert_null(token_cache_find(&m, NULL));

	/* A module that fails reports no tokens. */
	assert_int_equal(
		token_cache_replace_module(&m, "/a.so", 0, calloc(1, sizeof(struct token *)), 0),
		0);
	assert_int_equal(m.n_tokens, 1);
	token_cache_release(&m);
}

static void test_list_json_cache_follows_changes(void **state)
{
	struct token_cache m;
	json_object *arr;

	token_cache_init(&m);
	arr = token_cache_list_json(&m, 1000);
	assert_int_equal(json_object_array_length(arr), 0);
	assert_ptr_equal(token_cache_list_json(&m, 1000), arr); /* cached */
	assert_int_equal(
		token_cache_replace_module(&m, "/a.so", 0, one(make_token("/a.so", 1, "S1")), 1),
		0);
	arr = token_cache_list_json(&m, 1000);
	assert_int_equal(json_object_array_length(arr), 1);
	token_cache_release(&m);
}

static void test_token_json_contract(void **state)
{
	static const uint8_t der[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	static const uint8_t id[] = {0x01, 0xab};
	struct token *t = make_token("/m.so", 1, "SER1");
	json_object *o, *v, *pin, *certs, *objs;

	t->user_pin = UKEY_PIN_FINAL_TRY;
	t->so_pin = UKEY_PIN_LOCKED;
	t->certs = calloc(1, sizeof(*t->certs));
	t->certs[0].der = malloc(sizeof(der));
	memcpy(t->certs[0].der, der, sizeof(der));
	t->certs[0].der_len = sizeof(der);
	t->certs[0].id = malloc(sizeof(id));
	memcpy(t->certs[0].id, id, sizeof(id));
	t->certs[0].id_len = sizeof(id);
	t->certs[0].label = strdup("签名证书");
	t->n_certs = 1;
	t->objects = calloc(1, sizeof(*t->objects));
	t->objects[0].label = strdup("电子签章");
	t->objects[0].value = calloc(1, 1234);
	t->objects[0].value_len = 1234;
	t->n_objects = 1;

	o = token_to_json(t, 1000);
	assert_true(json_object_object_get_ex(o, "serial", &v));
	assert_string_equal(json_object_get_string(v), "SER1");
	assert_true(json_object_object_get_ex(o, "label", &v));
	assert_string_equal(json_object_get_string(v), "国信CA测试");
	assert_true(json_object_object_get_ex(o, "initialized", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(o, "pin", &pin));
	assert_true(json_object_object_get_ex(pin, "user", &v));
	assert_string_equal(json_object_get_string(v), "final_try");
	assert_true(json_object_object_get_ex(pin, "so", &v));
	assert_string_equal(json_object_get_string(v), "locked");
	assert_true(json_object_object_get_ex(pin, "max_len", &v));
	assert_int_equal(json_object_get_int(v), 16);
	/* Unknown default-PIN state is null, not false. */
	assert_true(json_object_object_get_ex(pin, "default", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "certs", &certs));
	v = json_object_array_get_idx(certs, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(v, "id")), "01ab");
	/* sha256 of 30 03 02 01 01, as `printf '\x30\x03\x02\x01\x01' | sha256sum` */
	assert_string_equal(json_object_get_string(json_object_object_get(v, "sha256")),
			    "1b65f68a522c858715f5dd951cd0402dc16691778814bf0759822b7a257421d0");
	/* Not a certificate: listed, and said to be malformed. */
	assert_true(json_object_get_boolean(json_object_object_get(v, "malformed")));
	assert_false(json_object_object_get_ex(v, "not_after", NULL));
	assert_true(json_object_object_get_ex(o, "objects", &objs));
	v = json_object_array_get_idx(objs, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(v, "class")), "data");
	assert_int_equal(json_object_get_int(json_object_object_get(v, "size")), 1234);
	assert_string_equal(json_object_get_string(json_object_object_get(v, "application")), "");
	/* Object values never leave the daemon in a listing. */
	assert_false(json_object_object_get_ex(v, "value", NULL));
	json_object_put(o);
	token_unref(t);
}

static void test_p11_text_decode(void **state)
{
	/* Blank padding trimmed. */
	unsigned char padded[32];
	char *s;

	memset(padded, ' ', sizeof(padded));
	memcpy(padded, "ePass2003", 9);
	s = p11_text_decode(padded, sizeof(padded));
	assert_string_equal(s, "ePass2003");
	free(s);

	/* UTF-8 Chinese kept. */
	s = p11_text_decode((const unsigned char *)"主锁  ", 8);
	assert_string_equal(s, "主锁");
	free(s);

	/* GBK "主锁" (d6 f7 cb f8) converted to UTF-8. */
	s = p11_text_decode((const unsigned char *)"\xd6\xf7\xcb\xf8   ", 7);
	assert_string_equal(s, "主锁");
	free(s);

	/* Neither UTF-8 nor GB18030: replaced, still valid UTF-8. */
	s = p11_text_decode((const unsigned char *)"a\xff"
						   "b",
			    3);
	assert_true(ukey_utf8_valid(s, strlen(s)));
	assert_int_equal(s[0], 'a');
	free(s);

	/* Embedded NUL ends the text. */
	s = p11_text_decode((const unsigned char *)"ab\0cd", 5);
	assert_string_equal(s, "ab");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_keeps_other_modules),
		cmocka_unit_test(test_list_json_cache_follows_changes),
		cmocka_unit_test(test_token_json_contract),
		cmocka_unit_test(test_p11_text_decode),
	};

	return cmocka_run_group_tests_name("token-model", tests, NULL, NULL);
}
