/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The wire codec: line framing, message parsing, formatting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto.h"
#include "secret.h"
#include "util.h"
#include "wire-names.h"

static void feed(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_linebuf_splits_lines(void **state)
{
	struct ukey_linebuf b;
	int p[2];
	char *line;
	size_t len;

	assert_int_equal(pipe(p), 0);
	ukey_linebuf_init(&b, 64, false);
	feed(p[1], "one\ntw");
	assert_int_equal(ukey_linebuf_fill(&b, p[0]), 6);
	assert_int_equal(ukey_linebuf_next(&b, &line, &len), 1);
	assert_string_equal(line, "one");
	assert_int_equal(len, 3);
	assert_int_equal(ukey_linebuf_next(&b, &line, &len), 0);
	feed(p[1], "o\n\nthree\n");
	assert_true(ukey_linebuf_fill(&b, p[0]) > 0);
	assert_int_equal(ukey_linebuf_next(&b, &line, &len), 1);
	assert_string_equal(line, "two");
	assert_int_equal(ukey_linebuf_next(&b, &line, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(ukey_linebuf_next(&b, &line, &len), 1);
	assert_string_equal(line, "three");
	assert_int_equal(ukey_linebuf_next(&b, &line, &len), 0);
	close(p[1]);
	assert_int_equal(ukey_linebuf_fill(&b, p[0]), 0); /* EOF */
	ukey_linebuf_release(&b);
	close(p[0]);
}

static void test_linebuf_limits_line_length(void **state)
{
	struct ukey_linebuf b;
	char big[100];
	int p[2];
	char *line;
	size_t len;

	assert_int_equal(pipe(p), 0);
	ukey_linebuf_init(&b, 16, true);
	/* Exactly max bytes plus '\n' is accepted. */
	feed(p[1], "0123456789abcdef\n");
	assert_true(ukey_linebuf_fill(&b, p[0]) > 0);
	assert_int_equal(ukey_linebuf_next(&b, &line, &len), 1);
	assert_int_equal(len, 16);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	feed(p[1], big);
	long r = 0;
	for (int i = 0; i < 10 && r >= 0; i++)
		r = ukey_linebuf_fill(&b, p[0]);
	assert_int_equal(r, -EMSGSIZE);
	ukey_linebuf_release(&b);
	close(p[0]);
	close(p[1]);
}

static void test_msg_parse_accepts_objects_only(void **state)
{
	json_object *o = NULL;
	const char *ok = "{\"id\":1,\"method\":\"list\"}";

	assert_int_equal(ukey_msg_parse(ok, strlen(ok), &o), 0);
	assert_true(json_object_is_type(o, json_type_object));
	json_object_put(o);
	assert_int_equal(ukey_msg_parse("{\"a\":1}  ", 9, &o), 0);
	json_object_put(o);

	static const char *const bad[] = {
		"",
		"[]",
		"1",
		"\"s\"",
		"null",
		"{",
		"{\"a\":1}{\"b\":2}",
		"{\"a\":1} x",
		/* json-c accepts {'a':1} even when strict: harmless, not tested */
		"{\"a\":\"\xc3\x28\"}",
		"{\"a\":\"\xed\xa0\x80\"}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		o = NULL;
		assert_int_equal(ukey_msg_parse(bad[i], strlen(bad[i]), &o), -EBADMSG);
		assert_null(o);
	}
}

static void test_msg_parse_limits_depth(void **state)
{
	char deep[200];
	json_object *o = NULL;
	size_t n = 0;

	for (int i = 0; i < 40; i++)
		deep[n++] = '[';
	deep[n++] = '1';
	for (int i = 0; i < 40; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	char wrapped[256];
	snprintf(wrapped, sizeof(wrapped), "{\"a\":%s}", deep);
	assert_int_equal(ukey_msg_parse(wrapped, strlen(wrapped), &o), -EBADMSG);
}

static void test_msg_format_is_one_line(void **state)
{
	json_object *o = json_object_new_object();
	size_t len;
	char *s;

	json_object_object_add(o, "label", json_object_new_string("国信CA\nline/two"));
	s = ukey_msg_format(o, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	assert_int_equal(s[len - 1], '\n');
	assert_null(memchr(s, '\n', len - 1)); /* embedded newlines are escaped */
	assert_non_null(strstr(s, "国信CA"));  /* UTF-8 kept as is, not \u-escaped */
	assert_non_null(strstr(s, "line/two"));
	free(s);
	json_object_put(o);
}

static void test_pin_state_names_round_trip(void **state)
{
	for (enum ukey_pin_state st = UKEY_PIN_OK; st <= UKEY_PIN_LOCKED; st++)
		assert_int_equal(ukey_wire_pin_state_parse(ukey_wire_pin_state_name(st)), st);
	assert_string_equal(ukey_wire_pin_state_name(UKEY_PIN_FINAL_TRY), "final_try");
	assert_int_equal(ukey_wire_pin_state_parse("bogus"), UKEY_PIN_OK);
}

/* Every public enum the wire carries: each value's name reads back as
 * that value, names are the documented ones, and a name from a newer
 * ukeyd reads as the fallback. */
#define ROUND_TRIP(what, first, last)                                                              \
	for (int v = (first); v <= (last); v++)                                                    \
	assert_int_equal(ukey_wire_##what##_parse(ukey_wire_##what##_name(v)), v)

static void test_enum_names_round_trip(void **state)
{
	ROUND_TRIP(cert_usage, UKEY_CERT_USAGE_UNKNOWN, UKEY_CERT_USAGE_SIGN_ENCRYPT);
	ROUND_TRIP(cert_expiry, UKEY_CERT_VALID, UKEY_CERT_MALFORMED);
	ROUND_TRIP(holder_kind, UKEY_HOLDER_UNKNOWN, UKEY_HOLDER_PERSON);
	ROUND_TRIP(key_pair, UKEY_KEY_PAIR_ABSENT, UKEY_KEY_PAIR_UNKNOWN);
	ROUND_TRIP(role, UKEY_ROLE_UNKNOWN, UKEY_ROLE_SECONDARY);
	ROUND_TRIP(seal_kind, UKEY_SEAL_OTHER, UKEY_SEAL_SIGNATURE);
	ROUND_TRIP(seal_status, UKEY_SEAL_VALID, UKEY_SEAL_MALFORMED);
	ROUND_TRIP(verdict, UKEY_READY, UKEY_NOT_READY);
	ROUND_TRIP(severity, UKEY_SEVERITY_INFO, UKEY_SEVERITY_ERROR);
	ROUND_TRIP(event, UKEY_EVENT_TOKEN_ADDED, UKEY_EVENT_CERT_EXPIRY);

	assert_string_equal(ukey_wire_cert_usage_name(UKEY_CERT_USAGE_SIGN_ENCRYPT),
			    "sign_encrypt");
	assert_string_equal(ukey_wire_cert_expiry_name(UKEY_CERT_RENEWAL_WINDOW), "renewal_window");
	assert_string_equal(ukey_wire_cert_expiry_name(UKEY_CERT_MALFORMED), "");
	assert_string_equal(ukey_wire_role_name(UKEY_ROLE_SECONDARY), "secondary");
	assert_string_equal(ukey_wire_seal_status_name(UKEY_SEAL_MAKER_CERT_EXPIRED),
			    "maker_cert_expired");
	assert_string_equal(ukey_wire_verdict_name(UKEY_READY_WITH_WARNINGS),
			    "ready_with_warnings");
	assert_string_equal(ukey_wire_event_name(UKEY_EVENT_CERT_EXPIRY), "cert_expiry");
	/* The connection events are libukey's own, never on the wire. */
	assert_string_equal(ukey_wire_event_name(UKEY_EVENT_RECONNECTED), "");

	assert_int_equal(ukey_wire_cert_expiry_parse("expires_soon"), UKEY_CERT_MALFORMED);
	assert_int_equal(ukey_wire_seal_status_parse(NULL), UKEY_SEAL_MALFORMED);
	assert_int_equal(ukey_wire_verdict_parse("maybe"), UKEY_NOT_READY);
	assert_int_equal(ukey_wire_event_parse("token_exploded"), 0);
	assert_int_equal(ukey_wire_role_parse(""), UKEY_ROLE_UNKNOWN);
}

static void test_utf8_validation(void **state)
{
	assert_true(ukey_utf8_valid("abc", 3));
	assert_true(ukey_utf8_valid("主锁", strlen("主锁")));
	assert_true(ukey_utf8_valid("\xf0\x9f\x94\x91", 4));
	assert_false(ukey_utf8_valid("\xe4\xb8", 2));	      /* truncated */
	assert_false(ukey_utf8_valid("\xc0\xaf", 2));	      /* overlong */
	assert_false(ukey_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(ukey_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
	assert_false(ukey_utf8_valid("\xd6\xf7", 2));	      /* GBK 主 */
}

static void test_parse_uint(void **state)
{
	unsigned v = 7;

	assert_int_equal(ukey_parse_uint("30", 1, 3600, &v), 0);
	assert_int_equal(v, 30);
	assert_int_equal(ukey_parse_uint("3600", 1, 3600, &v), 0);
	assert_int_equal(v, 3600);
	/* Refused, and v untouched. */
	static const char *const bad[] = {
		"", "0", "3601", "-1", "+5", " 5", "5 ", "5s", "99999999999999999999", NULL};
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(ukey_parse_uint(bad[i], 1, 3600, &v), -EINVAL);
	assert_int_equal(ukey_parse_uint(NULL, 1, 3600, &v), -EINVAL);
	assert_int_equal(v, 3600);
}

static void test_hex_encode(void **state)
{
	const uint8_t data[] = {0x00, 0x01, 0xab, 0xff};
	char *s = ukey_hex_encode(data, sizeof(data));

	assert_string_equal(s, "0001abff");
	free(s);
	s = ukey_hex_encode(data, 0);
	assert_string_equal(s, "");
	free(s);
}

static void test_wipe_pins_in_json(void **state)
{
	json_object *msg = json_object_new_object(), *params = json_object_new_object();
	const char *text, *pin;

	json_object_object_add(params, "serial", json_object_new_string("S1"));
	json_object_object_add(params, "old_pin", json_object_new_string("7301952846139027"));
	json_object_object_add(params, "so_pin", json_object_new_string("5720381694026153"));
	json_object_object_add(msg, "id", json_object_new_int(1));
	json_object_object_add(msg, "params", params);
	/* Rendered once, as sending does: the text sits in the print buffer. */
	text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	assert_non_null(strstr(text, "7301952846139027"));

	ukey_json_wipe_pins(msg);
	pin = json_object_get_string(json_object_object_get(params, "old_pin"));
	for (int i = 0; i < 16; i++)
		assert_int_equal(pin[i], 0);
	pin = json_object_get_string(json_object_object_get(params, "so_pin"));
	assert_int_equal(pin[0], 0);
	/* Not a PIN: left alone. */
	assert_string_equal(json_object_get_string(json_object_object_get(params, "serial")), "S1");
	/* The same print buffer (not a reallocated one: ASan would object to
	 * this read) now holds no PIN, nor anything else. */
	for (size_t i = 0; i < 64; i++)
		assert_int_equal(text[i], 0);
	json_object_put(msg);
}

static void test_secret_copy(void **state)
{
	struct ukey_secret *s = ukey_secret_new("123\0"
						"456",
						7);

	assert_int_equal(s->len, 7);
	assert_int_equal(s->data[7], '\0');
	assert_memory_equal(s->data,
			    "123\0"
			    "456",
			    7);
	ukey_secret_free(s);
	ukey_secret_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linebuf_splits_lines),
		cmocka_unit_test(test_linebuf_limits_line_length),
		cmocka_unit_test(test_msg_parse_accepts_objects_only),
		cmocka_unit_test(test_msg_parse_limits_depth),
		cmocka_unit_test(test_msg_format_is_one_line),
		cmocka_unit_test(test_pin_state_names_round_trip),
		cmocka_unit_test(test_enum_names_round_trip),
		cmocka_unit_test(test_utf8_validation),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_hex_encode),
		cmocka_unit_test(test_wipe_pins_in_json),
		cmocka_unit_test(test_secret_copy),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
