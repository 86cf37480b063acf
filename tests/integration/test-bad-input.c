/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile and broken clients against the real ukeyd: invalid JSON,
 * requests before the handshake, unknown methods, an oversized line,
 * random bytes, clients that vanish mid-request, many clients at once.
 * Each gets an error reply or is dropped, and the daemon keeps serving.
 */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

static struct harness h;

static int raw_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h.socket);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void raw_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the daemon may hang up on us: that is allowed */
		p += n;
		len -= (size_t)n;
	}
}

/* Reads one reply line (5 s at most). NULL at EOF. */
static json_object *raw_reply(int fd)
{
	static char buf[1 << 16];
	size_t len = 0;

	while (len < sizeof(buf) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		assert_true(poll(&p, 1, 5000) > 0);
		n = recv(fd, buf + len, 1, 0);
		if (n <= 0)
			return NULL;
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return json_tokener_parse(buf);
		}
		len++;
	}
	fail_msg("reply line too long");
	return NULL;
}

static const char *error_code(json_object *reply)
{
	json_object *err, *code;

	if (!reply || !json_object_object_get_ex(reply, "error", &err) ||
	    !json_object_object_get_ex(err, "code", &code))
		return "";
	return json_object_get_string(code);
}

static void send_line(int fd, const char *line)
{
	raw_send(fd, line, strlen(line));
	raw_send(fd, "\n", 1);
}

static int hello(void)
{
	int fd = raw_connect();
	json_object *r;

	send_line(fd, "{\"id\":1,\"method\":\"hello\",\"params\":{\"version\":1}}");
	r = raw_reply(fd);
	assert_non_null(r);
	assert_true(json_object_object_get_ex(r, "result", NULL));
	json_object_put(r);
	return fd;
}

/* The daemon still answers a well-behaved client through libukey. */
static void assert_daemon_serves(void)
{
	ukey_client *c = NULL;
	ukey_token_list *list = NULL;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_list_tokens(c, &list), UKEY_OK);
	assert_true(ukey_token_list_get_count(list) >= 2);
	ukey_token_list_unref(list);
	ukey_client_unref(c);
}

static void expect_error(int fd, const char *line, const char *code)
{
	json_object *r;

	send_line(fd, line);
	r = raw_reply(fd);
	assert_non_null(r);
	assert_string_equal(error_code(r), code);
	json_object_put(r);
}

static void test_invalid_json(void **state)
{
	int fd = hello();

	expect_error(fd, "{\"id\":2,\"method\":", "invalid_json");
	expect_error(fd, "[1,2,3]", "invalid_json");
	expect_error(fd, "\"just a string\"", "invalid_json");
	expect_error(fd, "{\"id\":3,\"method\":\"list\"} trailing", "invalid_json");
	expect_error(
		fd,
		"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
		"invalid_json");
	expect_error(fd, "{\"id\":4,\"method\":\"list\",\"x\":\"\xff\xfe\"}", "invalid_json");
	/* The same connection still works afterwards. */
	send_line(fd, "{\"id\":5,\"method\":\"list\"}");
	json_object *r = raw_reply(fd);
	assert_true(json_object_object_get_ex(r, "result", NULL));
	json_object_put(r);
	close(fd);
	assert_daemon_serves();
}

static void test_invalid_requests(void **state)
{
	int fd = raw_connect();

	expect_error(fd, "{\"id\":1,\"method\":\"list\"}", "handshake_required");
	expect_error(fd, "{\"id\":2,\"method\":\"hello\",\"params\":{\"version\":99}}",
		     "version_unsupported");
	expect_error(fd, "{\"id\":3,\"method\":\"hello\"}", "invalid_request");
	send_line(fd, "{\"id\":4,\"method\":\"hello\",\"params\":{\"version\":1}}");
	json_object_put(raw_reply(fd));
	expect_error(fd, "{\"method\":\"list\"}", "invalid_request");
	expect_error(fd, "{\"id\":\"x\",\"method\":\"list\"}", "invalid_request");
	expect_error(fd, "{\"id\":5}", "invalid_request");
	expect_error(fd, "{\"id\":6,\"method\":\"list\",\"params\":[1]}", "invalid_request");
	expect_error(fd, "{\"id\":7,\"method\":\"format_token\"}", "unknown_method");
	expect_error(fd, "{\"id\":8,\"method\":\"get\",\"params\":{\"serial\":5}}",
		     "invalid_request");
	expect_error(fd, "{\"id\":9,\"method\":\"get\",\"params\":{\"serial\":\"nope\"}}",
		     "not_found");
	/* Every parameter against its type and format: nothing accepted
	 * silently, nothing answered "out of memory". */
	expect_error(fd, "{\"id\":10,\"method\":\"check\",\"params\":{\"opening\":\"x\"}}",
		     "invalid_request");
	expect_error(fd, "{\"id\":11,\"method\":\"check\",\"params\":{\"bid\":\"z\"}}",
		     "invalid_request");
	expect_error(fd,
		     "{\"id\":12,\"method\":\"check\",\"params\":{\"serial\":\"A\",\"pin\":null}}",
		     "invalid_request");
	expect_error(fd, "{\"id\":13,\"method\":\"check\",\"params\":{\"opening\":-1}}",
		     "invalid_request");
	expect_error(fd,
		     "{\"id\":14,\"method\":\"pin_change\",\"params\":{\"serial\":\"A\","
		     "\"new_pin\":\"802514\"}}",
		     "invalid_request");
	expect_error(fd,
		     "{\"id\":15,\"method\":\"pin_unlock\",\"params\":{\"serial\":\"A\","
		     "\"so_pin\":\"1\",\"force\":\"yes\"}}",
		     "invalid_request");
	expect_error(fd, "{\"id\":16,\"method\":\"audit\",\"params\":{\"limit\":0}}",
		     "invalid_request");
	expect_error(fd,
		     "{\"id\":17,\"method\":\"seal_picture\",\"params\":{\"serial\":\"A\","
		     "\"index\":1.5}}",
		     "invalid_request");
	close(fd);
	assert_daemon_serves();
}

static void test_reply_keeps_request_id(void **state)
{
	int fd = hello();
	json_object *r, *id;

	send_line(fd, "{\"id\":9007199254740993,\"method\":\"list\"}");
	r = raw_reply(fd);
	assert_true(json_object_object_get_ex(r, "id", &id));
	assert_int_equal(json_object_get_int64(id), 9007199254740993LL);
	json_object_put(r);
	close(fd);
}

static void test_oversized_line(void **state)
{
	size_t len = 512 * 1024;
	char *big = malloc(len);
	int fd = hello();
	json_object *r;

	memset(big, 'a', len);
	raw_send(fd, big, len);
	r = raw_reply(fd);
	assert_string_equal(error_code(r), "message_too_large");
	json_object_put(r);
	/* ...and then the daemon hangs up. */
	assert_null(raw_reply(fd));
	close(fd);
	free(big);
	assert_daemon_serves();
}

/* A request holds at most 1024 JSON values (UKEY_MAX_REQUEST_VALUES):
 * a line of 250 KB of empty arrays is refused without being built, the
 * largest real request (a check of a bid with 64 recipients) passes, and
 * the connection stays. */
static void test_too_many_values(void **state)
{
	size_t cap = 300 * 1024, n = 0;
	char *line = malloc(cap);
	int fd = hello();
	json_object *r;

	n += (size_t)snprintf(line, cap, "{\"id\":2,\"method\":\"list\",\"params\":{\"x\":[");
	while (n < 250 * 1024)
		n += (size_t)snprintf(line + n, cap - n, "[],");
	snprintf(line + n - 1, cap - n + 1, "]}}");
	expect_error(fd, line, "invalid_json");
	/* 1000 values in all pass (an unknown member, ignored)... */
	n = (size_t)snprintf(line, cap, "{\"id\":3,\"method\":\"list\",\"params\":{\"x\":[");
	for (int i = 0; i < 995; i++)
		n += (size_t)snprintf(line + n, cap - n, "%s1", i ? "," : "");
	snprintf(line + n, cap - n, "]}}");
	send_line(fd, line);
	r = raw_reply(fd);
	assert_true(json_object_object_get_ex(r, "result", NULL));
	json_object_put(r);
	/* ...a few more do not... */
	n = (size_t)snprintf(line, cap, "{\"id\":4,\"method\":\"list\",\"params\":{\"x\":[");
	for (int i = 0; i < 1030; i++)
		n += (size_t)snprintf(line + n, cap - n, "%s1", i ? "," : "");
	snprintf(line + n, cap - n, "]}}");
	expect_error(fd, line, "invalid_json");
	/* ...and brackets and commas in strings (single-quoted names too) are
	 * text, not values. */
	n = (size_t)snprintf(line, cap, "{\"id\":5,'\"':\"\\\"\",\"method\":\"list\",\"x\":\"");
	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(line + n, cap - n, "[{,");
	snprintf(line + n, cap - n, "\"}");
	send_line(fd, line);
	r = raw_reply(fd);
	assert_true(json_object_object_get_ex(r, "result", NULL));
	json_object_put(r);
	/* A check of a bid with 64 recipients, each an issuer and a serial. */
	n = (size_t)snprintf(line, cap,
			     "{\"id\":6,\"method\":\"check\",\"params\":{\"bid\":true,"
			     "\"opening\":1773532800,\"recipients\":[");
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(line + n, cap - n,
				      "%s{\"issuer_der\":\"3021311f301d06035504030c16\",\"serial\":"
				      "\"%02x\"}",
				      i ? "," : "", i);
	snprintf(line + n, cap - n, "]}}");
	send_line(fd, line);
	r = raw_reply(fd);
	assert_true(json_object_object_get_ex(r, "result", NULL));
	json_object_put(r);
	free(line);
	close(fd);
	assert_daemon_serves();
}

static void test_random_bytes(void **state)
{
	unsigned seed = 12345;

	for (int round = 0; round < 20; round++) {
		unsigned char buf[4096];
		int fd = raw_connect();

		for (size_t i = 0; i < sizeof(buf); i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (unsigned char)(seed >> 16);
		}
		raw_send(fd, buf, sizeof(buf));
		raw_send(fd, "\n", 1);
		close(fd);
	}
	assert_daemon_serves();
}

static void test_disconnect_mid_request(void **state)
{
	int fd;

	/* Half a line, then gone. */
	fd = hello();
	raw_send(fd, "{\"id\":2,\"meth", 13);
	close(fd);
	/* A refresh (which waits for the workers), then gone before the answer. */
	fd = hello();
	send_line(fd, "{\"id\":3,\"method\":\"refresh\"}");
	close(fd);
	/* A request, without reading anything. */
	fd = hello();
	for (int i = 0; i < 100; i++)
		send_line(fd, "{\"id\":4,\"method\":\"list\"}");
	close(fd);
	assert_daemon_serves();
}

static void test_many_clients(void **state)
{
	enum { N = 64 };
	ukey_client *c[N];

	for (int i = 0; i < N; i++)
		assert_int_equal(ukey_client_new(h.socket, &c[i]), UKEY_OK);
	for (int i = N - 1; i >= 0; i--) {
		ukey_token_list *list = NULL;
		assert_int_equal(ukey_client_list_tokens(c[i], &list), UKEY_OK);
		ukey_token_list_unref(list);
	}
	for (int i = 0; i < N; i++)
		ukey_client_unref(c[i]);
	assert_daemon_serves();
}

/* Lines that are not requests but carry PINs: whatever way the parse
 * fails, no PIN stays in ukeyd's memory. Each PIN is distinctive and 32
 * characters long; memory is searched for its last 16 (malloc reuses the
 * first 16 bytes of a freed chunk, which would hide a PIN by chance). */
static void test_pins_in_broken_requests_are_wiped(void **state)
{
	static const char *const lines[] = {
		/* trailing bytes after a whole object */
		"{\"id\":2,\"method\":\"pin_change\",\"params\":{\"serial\":\"x\",\"old_pin\":"
		"\"84062719536182044028163591726048\",\"new_pin\":"
		"\"59273840162739588593726104837295\"}} trailing",
		/* cut off inside the params */
		"{\"id\":3,\"method\":\"pin_change\",\"params\":{\"old_pin\":"
		"\"39164027581937466473918572046193\","
		"\"new_pin\":\"72640193857264911946275839104627\",",
		/* an array, not an object */
		"[{\"method\":\"get\",\"params\":{\"pin\":\"60391847263058177185036274819306\"}}]",
		/* a bad token after the PIN */
		"{\"id\":4,\"params\":{\"so_pin\":\"47182936504829166192840563928174\"},\"x\":nul}",
		/* too deep, with the PIN on the way down */
		"{\"params\":{\"pin\":\"29573618409172633627190481637592\",\"a\":[[[[[[[[[[[[[[[[[["
		"1]]]]]]]]]]]]]]]"
		"]]}}",
		/* no id: a request that is no request */
		"{\"method\":\"pin_change\",\"params\":{\"old_pin\":"
		"\"18405937264810599501846273950481\"}}",
		/* a PIN where no PIN belongs */
		"{\"id\":5,\"method\":\"list\",\"params\":{\"whatever\":"
		"\"93058172649301722710394627185039\"}} x",
	};
	static const char *const pins[] = {
		"84062719536182044028163591726048", "59273840162739588593726104837295",
		"39164027581937466473918572046193", "72640193857264911946275839104627",
		"60391847263058177185036274819306", "47182936504829166192840563928174",
		"29573618409172633627190481637592", "18405937264810599501846273950481",
		"93058172649301722710394627185039"};
	int fd = hello(), found;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		json_object *r;
		send_line(fd, lines[i]);
		r = raw_reply(fd);
		assert_non_null(r);
		assert_true(json_object_object_get_ex(r, "error", NULL));
		json_object_put(r);
	}
	close(fd);
	assert_daemon_serves();
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		found = harness_memory_contains(h.daemon, pins[i] + 16);
		if (found < 0) {
			fprintf(stderr, "SKIP: reading ukeyd's memory needs root\n");
			skip();
		}
		if (found)
			fprintf(stderr, "PIN %s is still in ukeyd's memory\n", pins[i]), fail();
	}
}

static int group_setup(void **state)
{
	/* meson test fills freed memory (MALLOC_PERTURB_): a PIN left in a
	 * freed chunk would be hidden from the memory search. */
	unsetenv("MALLOC_PERTURB_");
	const char *const args[] = {"--module", SOFTHSM_MODULE, NULL};

	if (harness_setup(&h, "both") < 0 || harness_start_daemon(&h, args, NULL) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_invalid_requests),
		cmocka_unit_test(test_reply_keeps_request_id),
		cmocka_unit_test(test_oversized_line),
		cmocka_unit_test(test_too_many_values),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_disconnect_mid_request),
		cmocka_unit_test(test_many_clients),
		cmocka_unit_test(test_pins_in_broken_requests_are_wiped),
	};
	return HARNESS_RUN_TESTS("bad-input", tests, group_setup, group_teardown);
}
