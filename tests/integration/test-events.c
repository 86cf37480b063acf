/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Events end to end: a libukey client subscribes to the real ukeyd and
 * sees a SoftHSM token plugged in and pulled out (through the p11-unplug
 * wrapper module) and changed (pkcs11-tool writes an object); it sees
 * ukeyd stop and come back; `ukeyctl --json watch` prints the events.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct harness h;

/* The tokens a test plugs in and pulls out, all made before ukeyd starts
 * (SoftHSM sees no token made after it started): the fixture's primary,
 * "证书测试" with certificates expired and expiring (provision-certs.sh),
 * and blank ones from FIRST_BLANK on. */
static const char *const pluggable[] = {"国信CA测试主锁", "证书测试", "事件测试锁",
					"旁观锁",	  "排队锁",   "观察锁",
					"重连锁",	  "刷新锁",   "代数锁"};
#define FIRST_BLANK 2
/* Plugs one token in or pulls it out (NULL: every pluggable one). */
static void set_plugged(const char *label, bool in)
{
	for (size_t i = 0; i < ARRAY_SIZE(pluggable); i++)
		if (!label || strcmp(label, pluggable[i]) == 0)
			assert_int_equal(harness_set_plugged(&h, pluggable[i], in), 0);
}

static void plug_in(const char *label)
{
	set_plugged(label, true);
}

static void pull_out(const char *label)
{
	set_plugged(label, false);
}

static int start_daemon(void)
{
	const char *const args[] = {"--module", getenv("P11_UNPLUG"), NULL};
	const char *const env[] = {h.unplug_env, NULL};

	return harness_start_daemon(&h, args, env);
}

static int group_setup(void **state)
{
	if (harness_setup(&h, "primary") < 0)
		return -1;
	for (size_t i = FIRST_BLANK; i < ARRAY_SIZE(pluggable); i++)
		if (harness_shf("SOFTHSM2_CONF=%s softhsm2-util --init-token --free --label '%s' "
				"--so-pin 5720381694026153 --pin 123456 >/dev/null",
				h.softhsm_conf, pluggable[i]) != 0)
			return -1;
	if (harness_shf("%s/provision-certs.sh %s/hsm >/dev/null", getenv("FIXTURES"), h.dir) != 0)
		return -1;
	pull_out(NULL);
	plug_in("国信CA测试主锁");
	return start_daemon();
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

static void test_added_changed_removed(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);
	char serial[64];
	int i;

	/* Nothing has happened yet: dispatch delivers nothing, and does not block. */
	assert_int_equal(ukey_client_dispatch(c), UKEY_OK);
	assert_int_equal(s.n, 0);

	plug_in("事件测试锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	i = harness_events_wait(c, &s, UKEY_EVENT_TOKEN_ADDED, NULL, 5000);
	assert_true(i >= 0);
	assert_string_equal(s.labels[i], "事件测试锁");
	assert_int_equal(harness_token_serial(&h, "事件测试锁", serial, sizeof(serial)), 0);
	assert_string_equal(s.serials[i], serial);
	/* The fixture's primary token did not change: no event for it. */
	assert_int_equal(s.n, 1);

	/* A new object on the token is a change the client must hear of. */
	assert_int_equal(
		harness_shf("SOFTHSM2_CONF=%s pkcs11-tool --module %s --token-label '事件测试锁' "
			    "--login --pin 123456 --write-object /etc/hostname --type data "
			    "--label note >/dev/null 2>&1",
			    h.softhsm_conf, SOFTHSM_MODULE),
		0);
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_CHANGED, serial, 5000) >= 0);

	pull_out("事件测试锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	i = harness_events_wait(c, &s, UKEY_EVENT_TOKEN_REMOVED, serial, 5000);
	assert_true(i >= 0);
	assert_string_equal(s.labels[i], ""); /* a removed token has no state to show */
	ukey_client_unref(c);
}

/* A client that did not subscribe gets no events in its replies' way. */
static void test_unsubscribed_client_unaffected(void **state)
{
	struct harness_events s = {0};
	ukey_client *watcher = harness_subscribed_client(&h, &s), *plain = NULL;
	ukey_token_list *list = NULL;
	bool found = false;

	assert_int_equal(ukey_client_new(h.socket, &plain), UKEY_OK);
	assert_int_equal(ukey_client_dispatch(plain), UKEY_E_INVALID_ARGUMENT);
	plug_in("旁观锁");
	assert_int_equal(ukey_client_refresh(plain), UKEY_OK);
	assert_int_equal(ukey_client_list_tokens(plain, &list), UKEY_OK);
	for (size_t i = 0; i < ukey_token_list_get_count(list); i++)
		found |= strcmp(ukey_token_get_label(ukey_token_list_get(list, i)), "旁观锁") == 0;
	assert_true(found);
	ukey_token_list_unref(list);
	assert_true(harness_events_wait(watcher, &s, UKEY_EVENT_TOKEN_ADDED, NULL, 5000) >= 0);
	pull_out("旁观锁");
	assert_int_equal(ukey_client_refresh(plain), UKEY_OK);
	assert_true(harness_events_wait(watcher, &s, UKEY_EVENT_TOKEN_REMOVED, NULL, 5000) >= 0);
	ukey_client_unref(plain);
	ukey_client_unref(watcher);
}

/* Whether the client's fd polls readable within ms, without dispatching. */
static bool fd_readable_within(ukey_client *c, int ms)
{
	struct pollfd p = {.fd = ukey_client_get_fd(c), .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* A caller that sleeps in poll() on the fd alone, as a main loop does,
 * hears of ukeyd leaving and coming back: the fd wakes by itself to
 * reconnect, and stays the same fd throughout. */
static void test_fd_wakes_for_restart(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);
	int fd = ukey_client_get_fd(c), back = -1;

	assert_int_equal(harness_stop_daemon(&h), 0);
	assert_true(fd_readable_within(c, 5000));
	assert_int_equal(ukey_client_dispatch(c), UKEY_E_DISCONNECTED);
	assert_int_equal(harness_events_count(&s, UKEY_EVENT_DISCONNECTED, NULL), 1);
	assert_int_equal(start_daemon(), 0);
	for (int i = 0; i < 20 && back < 0; i++) {
		if (!fd_readable_within(c, 1000))
			continue;
		ukey_client_dispatch(c);
		back = harness_events_find(&s, UKEY_EVENT_RECONNECTED, NULL);
	}
	assert_true(back >= 0);
	assert_int_equal(ukey_client_get_fd(c), fd);
	/* Nothing is pending once dispatched: the fd sleeps again. */
	assert_false(fd_readable_within(c, 100));
	ukey_client_unref(c);
}

/* Events that come while the client waits for a reply are kept, in order,
 * for the next dispatch. */
static void test_events_during_request_are_queued(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);

	plug_in("排队锁");
	/* refresh's reply comes after the scan, so the event is read while
	 * waiting for it. */
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	pull_out("排队锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	assert_int_equal(s.n, 0);
	/* The fd says so by itself: a caller that only polls is woken. */
	assert_true(fd_readable_within(c, 0));
	assert_int_equal(ukey_client_dispatch(c), UKEY_OK);
	assert_false(fd_readable_within(c, 0));
	assert_int_equal(s.n, 2);
	assert_int_equal(s.types[0], UKEY_EVENT_TOKEN_ADDED);
	assert_int_equal(s.types[1], UKEY_EVENT_TOKEN_REMOVED);
	assert_string_equal(s.serials[0], s.serials[1]);
	ukey_client_unref(c);
}

/* A client that asks again with nothing changed gets the very list it
 * holds (ukeyd says "unchanged" for its generation); after a change, a
 * new one with the change. On the wire, the unchanged reply carries no
 * tokens. */
static void test_list_generation(void **state)
{
	ukey_client *c = NULL;
	ukey_token_list *a = NULL, *b = NULL, *d = NULL;
	char cmd[512], *out;
	long long gen = -1;
	int status;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_list_tokens(c, &a), UKEY_OK);
	assert_int_equal(ukey_client_list_tokens(c, &b), UKEY_OK);
	assert_ptr_equal(a, b);
	assert_false(ukey_token_list_is_scanning(a));
	plug_in("代数锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	assert_int_equal(ukey_client_list_tokens(c, &d), UKEY_OK);
	assert_ptr_not_equal(d, a);
	assert_int_equal(ukey_token_list_get_count(d), ukey_token_list_get_count(a) + 1);
	pull_out("代数锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	ukey_token_list_unref(a);
	ukey_token_list_unref(b);
	ukey_token_list_unref(d);
	ukey_client_unref(c);

	snprintf(cmd, sizeof(cmd),
		 "printf '%%s\\n' '{\"id\":1,\"method\":\"hello\",\"params\":{\"version\":1}}' "
		 "'{\"id\":2,\"method\":\"list\"}' | socat -t 2 - UNIX-CONNECT:%s | "
		 "jq -r 'select(.id == 2) | .result.generation'",
		 h.socket);
	out = harness_sh(cmd, &status);
	assert_int_equal(status, 0);
	assert_int_equal(sscanf(out, "%lld", &gen), 1);
	free(out);
	snprintf(cmd, sizeof(cmd),
		 "printf '%%s\\n' '{\"id\":1,\"method\":\"hello\",\"params\":{\"version\":1}}' "
		 "'{\"id\":2,\"method\":\"list\",\"params\":{\"generation\":%lld}}' | "
		 "socat -t 2 - UNIX-CONNECT:%s | jq -c 'select(.id == 2) | .result'",
		 gen, h.socket);
	out = harness_sh(cmd, &status);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "\"unchanged\":true"));
	assert_null(strstr(out, "\"tokens\""));
	free(out);
}

/* Counter staff re-plug a token on a hub ukeyd does not follow: `ukeyctl
 * refresh` reads every token again and lists what is there now. */
static void test_ukeyctl_refresh(void **state)
{
	const char *const argv[] = {getenv("UKEYCTL"), "--socket", h.socket, "refresh", NULL};
	char *out;
	int status = -1;

	out = harness_run(argv, NULL, &status);
	assert_int_equal(status, 0);
	assert_null(strstr(out, "刷新锁"));
	free(out);
	plug_in("刷新锁");
	out = harness_run(argv, NULL, &status);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "刷新锁"));
	assert_non_null(strstr(out, "国信CA测试主锁"));
	free(out);
	pull_out("刷新锁");
	out = harness_run(argv, NULL, &status);
	assert_int_equal(status, 0);
	assert_null(strstr(out, "刷新锁"));
	free(out);
}

static void test_daemon_restart(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);
	char serial[64];
	int gone, back, added, fd = ukey_client_get_fd(c);

	assert_int_equal(harness_stop_daemon(&h), 0);
	gone = harness_events_wait(c, &s, UKEY_EVENT_DISCONNECTED, NULL, 5000);
	assert_true(gone >= 0);
	assert_int_equal(ukey_client_get_fd(c), fd);
	/* Nobody there: dispatch says so, and says "disconnected" only once. */
	assert_int_equal(ukey_client_dispatch(c), UKEY_E_DISCONNECTED);
	assert_int_equal(s.n, gone + 1);

	assert_int_equal(start_daemon(), 0);
	back = harness_events_wait(c, &s, UKEY_EVENT_RECONNECTED, NULL, 5000);
	assert_true(back > gone);
	assert_int_equal(ukey_client_get_fd(c), fd);

	/* The subscription came back with the connection. */
	plug_in("重连锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	added = harness_events_wait(c, &s, UKEY_EVENT_TOKEN_ADDED, NULL, 5000);
	assert_true(added > back);
	assert_int_equal(harness_token_serial(&h, "重连锁", serial, sizeof(serial)), 0);
	assert_string_equal(s.serials[added], serial);
	pull_out("重连锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_REMOVED, serial, 5000) >= 0);
	ukey_client_unref(c);
}

/* Pulled out after ukeyd last saw it, before the PIN change reaches it:
 * the client is told the token is gone (not "wrong PIN", no crash), the
 * PIN is untouched, and subscribers hear of the removal. */
static void test_pin_change_on_pulled_out_token(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);
	char serial[64];

	plug_in("事件测试锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	assert_int_equal(harness_token_serial(&h, "事件测试锁", serial, sizeof(serial)), 0);
	pull_out("事件测试锁");
	assert_int_equal(ukey_client_change_pin(c, serial, "123456", "739251", 0),
			 UKEY_E_TOKEN_REMOVED);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_REMOVED, serial, 5000) >= 0);

	/* Back in: the old PIN still works (pkcs11-tool as the witness). */
	plug_in("事件测试锁");
	assert_int_equal(
		harness_shf("SOFTHSM2_CONF=%s pkcs11-tool --module %s --token-label '事件测试锁' "
			    "--login --pin 123456 --list-objects >/dev/null 2>&1",
			    h.softhsm_conf, SOFTHSM_MODULE),
		0);
	pull_out("事件测试锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	ukey_client_unref(c);
}

/* A token plugged in with a certificate near its end is announced, and so
 * is the certificate (once: the notice is remembered across replugs). */
static void test_cert_expiry(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);
	char serial[64];
	int i, n = 0;

	plug_in("证书测试");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	i = harness_events_wait(c, &s, UKEY_EVENT_CERT_EXPIRY, NULL, 5000);
	assert_true(i >= 0);
	assert_int_equal(harness_token_serial(&h, "证书测试", serial, sizeof(serial)), 0);
	assert_string_equal(s.serials[i], serial);
	assert_true(harness_events_find(&s, UKEY_EVENT_TOKEN_ADDED, serial) >= 0);
	for (int k = 0; k < s.n; k++)
		n += s.types[k] == UKEY_EVENT_CERT_EXPIRY;
	assert_true(n >= 2); /* cert-03 expiring, and the expired ones */

	pull_out("证书测试");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_REMOVED, serial, 5000) >= 0);
	plug_in("证书测试");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	n = s.n;
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_ADDED, serial, 5000) >= 0);
	ukey_client_dispatch(c);
	for (int k = n; k < s.n; k++)
		assert_int_not_equal(s.types[k], UKEY_EVENT_CERT_EXPIRY);
	pull_out("证书测试");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	ukey_client_unref(c);
}

/* Starts argv with stdout to path; returns the pid. */
static pid_t spawn_to_file(const char *const *argv, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	pid_t pid;

	assert_true(fd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		setenv("UKEY_SOCKET", h.socket, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fd);
	return pid;
}

static bool wait_file_contains(const char *path, const char *needle)
{
	for (int i = 0; i < 50; i++) {
		if (harness_file_contains(path, needle))
			return true;
		poll(NULL, 0, 100);
	}
	return false;
}

/* The documented example, following: it checks, re-checks when a token is
 * plugged in, and notices when it is pulled out; then, following one
 * chosen token, it is no longer ready once that token is gone. */
static void test_example_follows_token(void **state)
{
	const char *const argv[] = {getenv("EXAMPLE_CHECK"), "--follow", NULL};
	ukey_client *c = NULL;
	char out[160], serial[64], needle[128];
	int status = -1;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/example.out", h.dir);
	pid = spawn_to_file(argv, out);
	/* The first check covers the fixture's primary token. */
	assert_true(wait_file_contains(out, "ready to bid"));
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	plug_in("事件测试锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	assert_int_equal(harness_token_serial(&h, "事件测试锁", serial, sizeof(serial)), 0);
	snprintf(needle, sizeof(needle), "token %s: checking again", serial);
	assert_true(wait_file_contains(out, needle));
	/* A blank SoftHSM token has no certificate: its check says so. */
	snprintf(needle, sizeof(needle), "%s !! [no_signing_key]", serial);
	assert_true(wait_file_contains(out, needle));

	pull_out("事件测试锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	snprintf(needle, sizeof(needle), "token %s was pulled out", serial);
	assert_true(wait_file_contains(out, needle));
	kill(pid, SIGINT);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));

	/* Following the primary, ready: pulled out, it is not. */
	assert_int_equal(harness_token_serial(&h, "国信CA测试主锁", serial, sizeof(serial)), 0);
	const char *const argv_one[] = {getenv("EXAMPLE_CHECK"), "--follow", serial, NULL};
	pid = spawn_to_file(argv_one, out);
	assert_true(wait_file_contains(out, "ready to bid"));
	assert_false(harness_file_contains(out, "NOT ready"));
	pull_out("国信CA测试主锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	assert_true(wait_file_contains(out, "NOT ready to bid"));
	plug_in("国信CA测试主锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	kill(pid, SIGINT);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* It exits as it last judged: not ready (1) or, if the token came back
	 * in time to be re-checked, ready (0). Either way it exited by itself. */
	assert_true(WIFEXITED(status));
	ukey_client_unref(c);
}

static void test_ukeyctl_watch(void **state)
{
	char out[160], *text = NULL;
	int fd, status = -1;
	pid_t pid;
	ukey_client *c = NULL;
	size_t len = 0;

	snprintf(out, sizeof(out), "%s/watch.out", h.dir);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		execl(getenv("UKEYCTL"), "ukeyctl", "--socket", h.socket, "--json", "watch", NULL);
		_exit(127);
	}
	close(fd);
	/* The watcher subscribes before we change anything: give it the time. */
	poll(NULL, 0, 500);
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	plug_in("观察锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	for (int i = 0; i < 50 && !harness_file_contains(out, "\"观察锁\""); i++)
		poll(NULL, 0, 100);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* One JSON object per line: the token_added event, with the token. */
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	bool found = false;
	while (getline(&text, &len, f) > 0) {
		json_object *e = json_tokener_parse(text), *t, *v;
		assert_non_null(e);
		if (strcmp(json_object_get_string(json_object_object_get(e, "event")),
			   "token_added") == 0 &&
		    json_object_object_get_ex(e, "token", &t) &&
		    json_object_object_get_ex(t, "label", &v) &&
		    strcmp(json_object_get_string(v), "观察锁") == 0)
			found = true;
		json_object_put(e);
	}
	free(text);
	fclose(f);
	assert_true(found);
	pull_out("观察锁");
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	ukey_client_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_added_changed_removed),
		cmocka_unit_test(test_unsubscribed_client_unaffected),
		cmocka_unit_test(test_events_during_request_are_queued),
		cmocka_unit_test(test_cert_expiry),
		cmocka_unit_test(test_pin_change_on_pulled_out_token),
		cmocka_unit_test(test_example_follows_token),
		cmocka_unit_test(test_ukeyctl_watch),
		cmocka_unit_test(test_ukeyctl_refresh),
		cmocka_unit_test(test_list_generation),
		cmocka_unit_test(test_daemon_restart),
		cmocka_unit_test(test_fd_wakes_for_restart),
	};

	return HARNESS_RUN_TESTS("events", tests, group_setup, group_teardown);
}
