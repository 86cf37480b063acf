/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The wire codec: line framing, message parsing, formatting. */
#include <errno.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto.h"
#include "secret.h"
#include "util.h"
#include "wire-names.h"

/* What memory a PIN leaves behind: while scan_for is set, every heap block
 * freed, or given up by a realloc that moved it, is searched for each of
 * its strings before it goes (json-c calls free and realloc through the
 * PLT, so these wrappers see its print buffers). Not under ASan, which
 * owns malloc. */
#if !defined(__SANITIZE_ADDRESS__)
#define FREE_SCAN true
void __libc_free(void *p);
void *__libc_realloc(void *p, size_t n);
static const char *const *scan_for;
static int scan_hits;

static bool block_holds_secret(const void *p)
{
	size_t n = malloc_usable_size((void *)p);

	for (size_t i = 0; scan_for && scan_for[i]; i++)
		if (memmem(p, n, scan_for[i], strlen(scan_for[i])))
			return true;
	return false;
}

void free(void *p)
{
	if (p && scan_for && block_holds_secret(p))
		scan_hits++;
	__libc_free(p);
}

void *realloc(void *p, size_t n)
{
	bool held = p && scan_for && block_holds_secret(p);
	void *r = __libc_realloc(p, n);

	if (held && r != p && (r || n == 0))
		scan_hits++; /* the old block, with its text, is free memory now */
	return r;
}

static void scan_start(const char *const *needles)
{
	scan_hits = 0;
	scan_for = needles;
}

static int scan_stop(void)
{
	scan_for = NULL;
	return scan_hits;
}
#else
#define FREE_SCAN false
static void scan_start(const char *const *needles)
{
}

static int scan_stop(void)
{
	return 0;
}
#endif

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

static char *ones(int k)
{
	char *line = malloc(16 + 2 * (size_t)k + 8);
	size_t n;

	if (!line)
		abort();
	n = (size_t)sprintf(line, "{\"x\":[");

	for (int i = 0; i < k; i++)
		n += (size_t)sprintf(line + n, "%s1", i ? "," : "");
	strcpy(line + n, "]}");
	return line;
}

/* A request line holds at most UKEY_MAX_REQUEST_VALUES values, counted
 * before anything is built; text in strings is no value, whichever quote
 * json-c takes them in. */
static void test_msg_parse_request_limits_values(void **state)
{
	json_object *o = NULL;
	char *line = ones(UKEY_MAX_REQUEST_VALUES - 2); /* the object, the array, the ones */
	char trick[8192];
	size_t n;

	assert_int_equal(ukey_msg_parse_request(line, strlen(line), &o), 0);
	json_object_put(o);
	free(line);
	line = ones(UKEY_MAX_REQUEST_VALUES - 1);
	o = NULL;
	assert_int_equal(ukey_msg_parse_request(line, strlen(line), &o), -EBADMSG);
	assert_null(o);
	/* Replies are not requests: libukey reads any number. */
	assert_int_equal(ukey_msg_parse(line, strlen(line), &o), 0);
	json_object_put(o);
	free(line);
	/* A '"' inside a single-quoted name must not hide what follows. */
	n = (size_t)sprintf(trick, "{'\"':1,\"x\":[");
	for (int i = 0; i < 1100; i++)
		n += (size_t)sprintf(trick + n, "%s[]", i ? "," : "");
	sprintf(trick + n, "],'\"':2}");
	o = NULL;
	assert_int_equal(ukey_msg_parse_request(trick, strlen(trick), &o), -EBADMSG);
	/* Lines that end inside a string, or in its escape, are counted
	 * within their bytes (ASan reads along) and refused by json-c. */
	static const char *const cut[] = {"\"", "{\"x\":\"a\\", "{\"x\":\"\\\"", "{'a\\",
					  "{\"x\":\"a\\\"b\\"};
	for (size_t i = 0; i < ARRAY_SIZE(cut); i++) {
		char *copy = strdup(cut[i]); /* exactly its bytes, for ASan */
		o = NULL;
		assert_int_equal(ukey_msg_parse_request(copy, strlen(copy), &o), -EBADMSG);
		assert_null(o);
		free(copy);
	}
	/* Brackets and commas in strings, escaped quotes too, are text. */
	n = (size_t)sprintf(trick, "{\"x\":\"\\\"");
	for (int i = 0; i < 1100; i++)
		n += (size_t)sprintf(trick + n, "[,");
	sprintf(trick + n, "\",'[{,':1}");
	assert_int_equal(ukey_msg_parse_request(trick, strlen(trick), &o), 0);
	json_object_put(o);
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

/* A PIN with every character that rendering escapes or may escape: '/'
 * (escaped by JSON_C_TO_STRING_PLAIN alone, not with NOSLASHESCAPE), '"'
 * and '\\' (two bytes rendered for one), control characters (six). Its
 * digit runs are what memory is searched for; the last one ends the
 * line, where a rendering of the same message that came out shorter
 * would leave it. */
#define PIN_RUN_1 "8302917465102938"
#define PIN_RUN_2 "6639201857"
#define PIN_RUN_3 "7720593184"
#define PIN_RUN_4 "4418290375569120"
static const char *const pin_runs[] = {PIN_RUN_1, PIN_RUN_2, PIN_RUN_3, PIN_RUN_4, NULL};
static const char test_pin[] = PIN_RUN_1 "/" PIN_RUN_2 "\"\\" PIN_RUN_3 "\"\\\x01\x02" PIN_RUN_4;

/* A request as libukey builds one (pin_params(), then the PINs: they end
 * the line), with a '/' in the serial too: text the two renderings of
 * the old wipe differed on. */
static json_object *pin_request(const char *pin)
{
	json_object *msg = json_object_new_object(), *params = json_object_new_object();

	json_object_object_add(params, "serial", json_object_new_string("S/1"));
	json_object_object_add(params, "force", json_object_new_boolean(false));
	json_object_object_add(params, "old_pin", json_object_new_string(pin));
	json_object_object_add(params, "new_pin", json_object_new_string(pin));
	json_object_object_add(msg, "id", json_object_new_int(7));
	json_object_object_add(msg, "method", json_object_new_string("pin_change"));
	json_object_object_add(msg, "params", params);
	return msg;
}

/* Sending as libukey does (format, wipe the message's PINs, wipe the line
 * by the length returned, free both): the rendered buffer holds the
 * whole line and nothing past it, and no block freed on the way holds a
 * piece of the PIN. */
static void test_wipe_pins_in_json(void **state)
{
	json_object *msg = pin_request(test_pin), *params, *back = NULL;
	const char *pin;
	size_t len;
	char *line;

	assert_true(ukey_json_has_pins(msg));
	scan_start(pin_runs);
	line = ukey_msg_format(msg, &len);
	assert_non_null(line);
	/* The line is exactly len bytes: a wipe by len covers all of it. */
	assert_int_equal(strlen(line), len);
	assert_int_equal(line[len - 1], '\n');
	/* It says what was sent ('/' as is, as every line is rendered). */
	assert_non_null(strstr(line, "\"serial\":\"S/1\""));
	/* Rendering freed nothing that held the PIN. */
	assert_int_equal(scan_stop(), 0);
	assert_int_equal(ukey_msg_parse(line, len - 1, &back), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_object_get(back, "params"), "old_pin")),
			    test_pin);
	ukey_json_wipe_pins(back);
	json_object_put(back);
	scan_start(pin_runs);

	ukey_json_wipe_pins(msg);
	params = json_object_object_get(msg, "params");
	pin = json_object_get_string(json_object_object_get(params, "old_pin"));
	for (size_t i = 0; i < sizeof(test_pin) - 1; i++)
		assert_int_equal(pin[i], 0);
	pin = json_object_get_string(json_object_object_get(params, "new_pin"));
	for (size_t i = 0; i < sizeof(test_pin) - 1; i++)
		assert_int_equal(pin[i], 0);
	/* Not a PIN: left alone. */
	assert_string_equal(json_object_get_string(json_object_object_get(params, "serial")),
			    "S/1");
	OPENSSL_cleanse(line, len);
	for (size_t i = 0; i <= len; i++)
		assert_int_equal(line[i], 0);
	free(line);
	json_object_put(msg);
	assert_int_equal(scan_stop(), 0);
	if (!FREE_SCAN)
		fprintf(stderr, "# freed memory not searched under ASan\n");
}

/* The line a message with PINs is rendered to, outside json-c's print
 * buffers, is the very line json-c renders (same flags): for every type
 * and every character JSON escapes. */
static void test_msg_format_with_pins_is_json_c_text(void **state)
{
	json_object *msg = pin_request("12/34\"56\\78\b\f\n\r\t\x01\x1f\x7f 国信"), *arr;
	const char *expect;
	size_t len, expect_len;
	char *line;

	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_int64(INT64_MIN));
	json_object_array_add(arr, json_object_new_int64(INT64_MAX));
	json_object_array_add(arr, json_object_new_uint64(UINT64_MAX));
	json_object_array_add(arr, json_object_new_double(2.5));
	json_object_array_add(arr, json_object_new_double(1e300));
	json_object_array_add(arr, json_object_new_boolean(true));
	json_object_array_add(arr, NULL);
	json_object_array_add(arr, json_object_new_string(""));
	json_object_array_add(arr, json_object_new_object());
	json_object_array_add(arr, json_object_new_array());
	json_object_object_add(msg, "list", arr);
	json_object_object_add(msg, "key \"with\" / \\ escapes", json_object_new_string("v"));
	json_object_object_add(msg, "nothing", NULL);
	assert_true(ukey_json_has_pins(msg));
	line = ukey_msg_format(msg, &len);
	assert_non_null(line);
	expect = json_object_to_json_string_length(
		msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &expect_len);
	assert_int_equal(len, expect_len + 1);
	assert_memory_equal(line, expect, expect_len);
	free(line);
	json_object_put(msg);
}

/* A request line parsed: the tokener gathers a string with escapes piece
 * by piece in its print buffer, which must not grow (and leave the pieces
 * read so far in freed memory) on the way. A long PIN of many pieces,
 * parsed in several states of the heap. */
#define PARSE_RUN "5094817263540918273"
#define PARSE_PIECE PARSE_RUN "\\\"" PARSE_RUN "\\\\"
static void test_parse_leaves_no_pin_behind(void **state)
{
	static const char *const runs[] = {PARSE_RUN, NULL};
	static const char line[] =
		"{\"id\":2,\"method\":\"pin_change\",\"params\":{\"serial\":\"S\",\"old_pin\":"
		"\"" PARSE_PIECE PARSE_PIECE PARSE_PIECE PARSE_PIECE PARSE_PIECE PARSE_PIECE
		"\",\"new_pin\":\"1\"}}";
	void *spacers[8] = {NULL};

	for (size_t i = 0; i < ARRAY_SIZE(spacers); i++) {
		json_object *msg = NULL;

		spacers[i] = malloc(24 + 40 * i);
		scan_start(runs);
		assert_int_equal(ukey_msg_parse(line, sizeof(line) - 1, &msg), 0);
		assert_true(ukey_json_has_pins(msg));
		ukey_json_wipe_pins(msg);
		json_object_put(msg);
		assert_int_equal(scan_stop(), 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(spacers); i++)
		free(spacers[i]);
}

/* A message without PINs is not one: only lookups, nothing rendered. */
static void test_has_pins(void **state)
{
	json_object *o = json_tokener_parse("{\"id\":1,\"method\":\"get\",\"params\":{\"serial\":"
					    "\"A\",\"x\":{\"pin\":\"1\"}}}");

	assert_false(ukey_json_has_pins(o));
	ukey_json_wipe_pins(o); /* harmless */
	json_object_put(o);
	o = json_tokener_parse("{\"pin\":\"1\"}");
	assert_true(ukey_json_has_pins(o));
	json_object_put(o);
	o = json_tokener_parse("{\"params\":{\"so_pin\":\"1\"}}");
	assert_true(ukey_json_has_pins(o));
	json_object_put(o);
	o = json_tokener_parse("{\"params\":{\"pin\":7}}"); /* not a string: no PIN */
	assert_false(ukey_json_has_pins(o));
	json_object_put(o);
}

/* A line buffer grows with the lines it holds, not with every read: short
 * lines keep it small (the server gives back only a large one), a long
 * line grows it. */
static void test_linebuf_grows_with_its_lines(void **state)
{
	struct ukey_linebuf b;
	static char big[100 * 1024 + 1];
	size_t fed = 0;
	char *line;
	size_t len;
	int p[2];

	assert_int_equal(pipe(p), 0);
	ukey_linebuf_init(&b, UKEY_MAX_REQUEST_SIZE, true);
	feed(p[1], "{\"id\":1,\"method\":\"list\"}\n");
	assert_true(ukey_linebuf_fill(&b, p[0]) > 0);
	assert_int_equal(ukey_linebuf_next(&b, &line, &len), 1);
	assert_true(b.cap <= 8192);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 2] = '\n';
	assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	while (fed < sizeof(big) - 1 || ukey_linebuf_next(&b, &line, &len) == 0) {
		ssize_t n = 0;
		if (fed < sizeof(big) - 1) {
			n = write(p[1], big + fed, sizeof(big) - 1 - fed);
			if (n > 0)
				fed += (size_t)n;
		}
		assert_true(ukey_linebuf_fill(&b, p[0]) > 0);
	}
	assert_int_equal(len, sizeof(big) - 2);
	assert_true(b.cap > 64 * 1024);
	ukey_linebuf_release(&b);
	close(p[0]);
	close(p[1]);
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
		cmocka_unit_test(test_msg_parse_request_limits_values),
		cmocka_unit_test(test_msg_format_is_one_line),
		cmocka_unit_test(test_pin_state_names_round_trip),
		cmocka_unit_test(test_enum_names_round_trip),
		cmocka_unit_test(test_utf8_validation),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_hex_encode),
		cmocka_unit_test(test_wipe_pins_in_json),
		cmocka_unit_test(test_msg_format_with_pins_is_json_c_text),
		cmocka_unit_test(test_parse_leaves_no_pin_behind),
		cmocka_unit_test(test_has_pins),
		cmocka_unit_test(test_linebuf_grows_with_its_lines),
		cmocka_unit_test(test_secret_copy),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
