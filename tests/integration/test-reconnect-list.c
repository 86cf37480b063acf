/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The list a client holds belongs to the connection that delivered it.
 * ukeyd lets an idle connection go (idle_timeout) and a restarted ukeyd
 * numbers its lists anew: libukey connects again by itself, and the next
 * list must come whole, never as "unchanged" against a list it no longer
 * holds. Against the real ukeyd (SoftHSM), and against a scripted fake
 * for answers a well-behaved ukeyd does not give: "unchanged" to a client
 * that holds no list is asked again once without a generation, and a
 * subscribe that fails leaves the client unsubscribed.
 */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

#define IDLE_TIMEOUT_S 1

static struct harness h;

static void start(void)
{
	char conf[200];
	const char *args[] = {"--module", SOFTHSM_MODULE, "--config", conf, NULL};
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/reconnect.conf", h.dir);
	f = fopen(conf, "we");
	assert_non_null(f);
	fprintf(f, "[ukeyd]\nidle_timeout = %d\n", IDLE_TIMEOUT_S);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(harness_start_daemon(&h, args, NULL), 0);
}

/* Both lists name the same tokens, in the same order. */
static void assert_same_tokens(ukey_token_list *a, ukey_token_list *b)
{
	assert_int_equal(ukey_token_list_get_count(a), ukey_token_list_get_count(b));
	for (size_t i = 0; i < ukey_token_list_get_count(a); i++) {
		ukey_token *x = ukey_token_list_get(a, i), *y = ukey_token_list_get(b, i);
		assert_string_equal(ukey_token_get_serial(x), ukey_token_get_serial(y));
		assert_string_equal(ukey_token_get_label(x), ukey_token_get_label(y));
	}
}

static size_t initialized(ukey_token_list *l)
{
	size_t n = 0;

	for (size_t i = 0; i < ukey_token_list_get_count(l); i++)
		n += ukey_token_is_initialized(ukey_token_list_get(l, i));
	return n;
}

/* Lists twice, the second time "unchanged": the same list comes back. */
static ukey_token_list *list_twice(ukey_client *c)
{
	ukey_token_list *first = NULL, *second = NULL;

	assert_int_equal(ukey_client_list_tokens(c, &first), UKEY_OK);
	assert_false(ukey_token_list_is_scanning(first));
	assert_int_equal(initialized(first), 2);
	assert_int_equal(ukey_client_list_tokens(c, &second), UKEY_OK);
	assert_ptr_equal(second, first);
	ukey_token_list_unref(second);
	return first;
}

/* ukeyd let the idle connection go: the list after it comes whole. */
static void test_list_after_idle(void **state)
{
	ukey_client *c = NULL;
	ukey_token_list *before, *after = NULL, *again = NULL;

	start();
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	before = list_twice(c);
	sleep(IDLE_TIMEOUT_S + 2);
	assert_int_equal(ukey_client_list_tokens(c, &after), UKEY_OK);
	assert_same_tokens(before, after);
	/* On the new connection the held list is "unchanged" again. */
	assert_int_equal(ukey_client_list_tokens(c, &again), UKEY_OK);
	assert_ptr_equal(again, after);
	ukey_token_list_unref(again);
	ukey_token_list_unref(after);
	ukey_token_list_unref(before);
	ukey_client_unref(c);
	assert_int_equal(harness_stop_daemon(&h), 0);
}

/* A restarted ukeyd numbers its lists from the start again, so the
 * generation the client held is likely current there too. */
static void test_list_after_restart(void **state)
{
	ukey_client *c = NULL;
	ukey_token_list *before, *after = NULL, *sentinel = (ukey_token_list *)&h, *l;

	start();
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	before = list_twice(c);
	assert_int_equal(harness_stop_daemon(&h), 0);
	start();
	assert_int_equal(ukey_client_list_tokens(c, &after), UKEY_OK);
	assert_same_tokens(before, after);
	/* ukeyd gone: an error, and the caller's pointer left alone. */
	assert_int_equal(harness_stop_daemon(&h), 0);
	l = sentinel;
	assert_int_not_equal(ukey_client_list_tokens(c, &l), UKEY_OK);
	assert_ptr_equal(l, sentinel);
	ukey_token_list_unref(after);
	ukey_token_list_unref(before);
	ukey_client_unref(c);
}

/* ------------------------------------------------------- a scripted ukeyd */

#define NO_GENERATION INT64_MIN
#define ANY_GENERATION (INT64_MIN + 1)

/* One request the fake expects, and its answer: a result, "!" and an
 * error object, or NULL to hang up. */
struct step {
	const char *method;
	int64_t generation;
	const char *reply;
};

static char fake_socket[100];

static int64_t request_generation(json_object *req)
{
	json_object *params, *v;

	if (!json_object_object_get_ex(req, "params", &params) ||
	    !json_object_object_get_ex(params, "generation", &v))
		return NO_GENERATION;
	return json_object_get_int64(v);
}

/* The fake's side: serves one connection through the steps, then waits
 * for the client to hang up. Exits 0, or 10 + the step that went wrong. */
static void __attribute__((noreturn)) fake_serve(int listen_fd, const struct step *steps, size_t n)
{
	static char line[65536];
	int fd;
	FILE *in;

	alarm(30);
	fd = accept(listen_fd, NULL, NULL);
	in = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!in)
		_exit(2);
	for (size_t i = 0; i < n; i++) {
		json_object *req, *v;
		int64_t id;

		if (!fgets(line, sizeof(line), in) || !(req = json_tokener_parse(line)))
			_exit(10 + (int)i);
		if (!json_object_object_get_ex(req, "method", &v) ||
		    strcmp(json_object_get_string(v), steps[i].method) != 0 ||
		    (steps[i].generation != ANY_GENERATION &&
		     request_generation(req) != steps[i].generation) ||
		    !json_object_object_get_ex(req, "id", &v))
			_exit(10 + (int)i);
		id = json_object_get_int64(v);
		json_object_put(req);
		if (!steps[i].reply) {
			fclose(in);
			_exit(0);
		}
		if (steps[i].reply[0] == '!')
			dprintf(fd, "{\"id\":%lld,\"error\":%s}\n", (long long)id,
				steps[i].reply + 1);
		else
			dprintf(fd, "{\"id\":%lld,\"result\":%s}\n", (long long)id, steps[i].reply);
	}
	while (fgets(line, sizeof(line), in))
		; /* nothing more was expected */
	_exit(feof(in) ? 0 : 3);
}

static pid_t fake_start(const struct step *steps, size_t n)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	snprintf(fake_socket, sizeof(fake_socket), "%s/fake.sock", h.dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fake_socket);
	unlink(fake_socket);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		fake_serve(fd, steps, n);
	close(fd);
	return pid;
}

/* Whether the fake went through every step. */
static int fake_finish(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define HELLO                                                                                      \
	{                                                                                          \
		"hello", ANY_GENERATION, "{\"version\":1,\"daemon\":\"fake\"}"                     \
	}
#define LIST(gen, result)                                                                          \
	{                                                                                          \
		"list", (gen), (result)                                                            \
	}
#define TOKENS(gen) "{\"generation\":" #gen ",\"scanning\":false,\"tokens\":[]}"
#define UNCHANGED(gen) "{\"generation\":" #gen ",\"scanning\":false,\"unchanged\":true}"

static ukey_client *fake_client(void)
{
	ukey_client *c = NULL;

	assert_int_equal(ukey_client_new(fake_socket, &c), UKEY_OK);
	ukey_client_set_timeout(c, 10000);
	return c;
}

/* "unchanged" to a client that holds no list, or a list of another
 * generation: asked again once, without a generation. */
static void test_unchanged_without_list(void **state)
{
	static const struct step steps[] = {
		HELLO,
		LIST(NO_GENERATION, UNCHANGED(7)),
		LIST(NO_GENERATION, TOKENS(7)),
		LIST(7, UNCHANGED(7)),
		LIST(7, UNCHANGED(8)),
		LIST(NO_GENERATION, TOKENS(8)),
		LIST(8, UNCHANGED(8)),
	};
	pid_t pid = fake_start(steps, sizeof(steps) / sizeof(steps[0]));
	ukey_client *c = fake_client();
	ukey_token_list *a = NULL, *b = NULL, *d = NULL, *e = NULL;

	assert_int_equal(ukey_client_list_tokens(c, &a), UKEY_OK);
	assert_int_equal(ukey_token_list_get_count(a), 0);
	assert_int_equal(ukey_client_list_tokens(c, &b), UKEY_OK);
	assert_ptr_equal(b, a);
	assert_int_equal(ukey_client_list_tokens(c, &d), UKEY_OK);
	assert_ptr_not_equal(d, a);
	assert_int_equal(ukey_client_list_tokens(c, &e), UKEY_OK);
	assert_ptr_equal(e, d);
	ukey_token_list_unref(a);
	ukey_token_list_unref(b);
	ukey_token_list_unref(d);
	ukey_token_list_unref(e);
	ukey_client_unref(c);
	assert_int_equal(fake_finish(pid), 0);
}

/* Only once: a ukeyd that keeps saying "unchanged" is a protocol error,
 * and the caller's pointer is left alone. */
static void test_unchanged_twice(void **state)
{
	static const struct step steps[] = {
		HELLO,
		LIST(NO_GENERATION, UNCHANGED(7)),
		LIST(NO_GENERATION, UNCHANGED(7)),
		LIST(NO_GENERATION, TOKENS(7)),
	};
	pid_t pid = fake_start(steps, sizeof(steps) / sizeof(steps[0]));
	ukey_client *c = fake_client();
	ukey_token_list *sentinel = (ukey_token_list *)&h, *l = sentinel;

	assert_int_equal(ukey_client_list_tokens(c, &l), UKEY_E_PROTOCOL);
	assert_ptr_equal(l, sentinel);
	/* The connection is still in step. */
	assert_int_equal(ukey_client_list_tokens(c, &l), UKEY_OK);
	assert_int_equal(ukey_token_list_get_count(l), 0);
	ukey_token_list_unref(l);
	ukey_client_unref(c);
	assert_int_equal(fake_finish(pid), 0);
}

static void no_event(ukey_client *c, const ukey_event *ev, void *userdata)
{
	fail_msg("event %d after a failed subscribe", ukey_event_get_type(ev));
}

/* A subscribe refused, then one whose connection is lost: neither leaves
 * the client subscribed, nor its fd waking to reconnect. */
static void test_failed_subscribe(void **state)
{
	static const struct step steps[] = {
		HELLO,
		{"subscribe", NO_GENERATION, "!{\"code\":\"permission_denied\"}"},
		LIST(NO_GENERATION, TOKENS(3)),
		{"subscribe", NO_GENERATION, NULL},
	};
	pid_t pid = fake_start(steps, sizeof(steps) / sizeof(steps[0]));
	ukey_client *c = fake_client();
	ukey_token_list *l = NULL;
	struct pollfd p = {.fd = ukey_client_get_fd(c), .events = POLLIN};

	assert_int_equal(ukey_client_subscribe(c, no_event, NULL), UKEY_E_PERMISSION);
	assert_int_equal(ukey_client_dispatch(c), UKEY_E_INVALID_ARGUMENT);
	assert_int_equal(ukey_client_list_tokens(c, &l), UKEY_OK);
	ukey_token_list_unref(l);
	assert_int_equal(ukey_client_subscribe(c, no_event, NULL), UKEY_E_DISCONNECTED);
	assert_int_equal(ukey_client_dispatch(c), UKEY_E_INVALID_ARGUMENT);
	/* The reconnect timer fires every 500 ms for a subscribed client. */
	assert_int_equal(poll(&p, 1, 1200), 0);
	ukey_client_unref(c);
	assert_int_equal(fake_finish(pid), 0);
}

static int test_teardown(void **state)
{
	if (h.daemon > 0)
		harness_stop_daemon(&h);
	return 0;
}

static int group_setup(void **state)
{
	if (harness_setup(&h, "both") < 0)
		return -1;
	/* The fixture's certificates end a whole number of days after they
	 * were made, to the second: a second later their days_left ticks
	 * down, and ukeyd's list generation with it. Let that pass first, so
	 * that ukeyd's generation stays put while the tests run: a new list
	 * would hide the "unchanged" answer they check for. */
	sleep(2);
	return 0;
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_list_after_idle, test_teardown),
		cmocka_unit_test_teardown(test_list_after_restart, test_teardown),
		cmocka_unit_test(test_unchanged_without_list),
		cmocka_unit_test(test_unchanged_twice),
		cmocka_unit_test(test_failed_subscribe),
	};
	return HARNESS_RUN_TESTS("reconnect-list", tests, group_setup, group_teardown);
}
