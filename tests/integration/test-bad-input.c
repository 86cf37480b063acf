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

static int group_setup(void **state)
{
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
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_disconnect_mid_request),
		cmocka_unit_test(test_many_clients),
	};
	return HARNESS_RUN_TESTS("bad-input", tests, group_setup, group_teardown);
}
