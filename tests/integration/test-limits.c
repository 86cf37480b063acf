/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One unprivileged user must not stall, exhaust or lock out the others.
 * The attacker is `nobody` (setpriv) running tests/fixtures/ukey-hostile.c
 * against the real ukeyd: connections held, idle and slow; pipelined
 * floods; clients that never read; a connect flood. Root and another
 * user (uid 12345) keep being served, within 100 ms.
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

#define NOBODY 65534
#define OTHER 12345

/* The latency goal (docs/ukeyd.8, LIMITS). */
#if defined(__SANITIZE_ADDRESS__)
/* Under ASan every allocation is slow and its quarantine makes fresh
 * pages fault in: it checks memory safety under the same attacks with a
 * loose bound. The goal itself is held by the plain build. */
#define GOAL_MS 1000.0
/* ASan keeps freed memory in quarantine (256 MiB) and adds its shadow:
 * ukeyd's resident memory says nothing there. The plain build measures it. */
#define RSS_MEASURED false
#else
#define GOAL_MS 100.0
#define RSS_MEASURED true
#endif

static struct harness h;

static void start(const char *conf_text)
{
	char conf[200];
	const char *args[] = {"--module", SOFTHSM_MODULE, "--config", conf, NULL};
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/limits.conf", h.dir);
	f = fopen(conf, "we");
	assert_non_null(f);
	fprintf(f, "[ukeyd]\n%s", conf_text);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(harness_start_daemon(&h, args, NULL), 0);
}

static void stop(void)
{
	assert_int_equal(harness_stop_daemon(&h), 0);
}

/* ukey-hostile as uid, its output read through the returned pipe. */
static FILE *spawn(unsigned uid, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static FILE *spawn(unsigned uid, const char *fmt, ...)
{
	char cmd[1024], args[768];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	if (uid == 0)
		snprintf(cmd, sizeof(cmd), "%s %s", getenv("UKEY_HOSTILE"), args);
	else
		snprintf(cmd, sizeof(cmd),
			 "exec setpriv --reuid=%u --regid=%u --clear-groups %s %s", uid, uid,
			 getenv("UKEY_HOSTILE"), args);
	f = popen(cmd, "r");
	assert_non_null(f);
	return f;
}

/* "ready accepted A refused R": the connections are made. */
static int wait_ready(FILE *f)
{
	char line[128];
	int accepted = -1, refused = -1;

	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(sscanf(line, "ready accepted %d refused %d", &accepted, &refused), 2);
	return accepted;
}

/* Waits for the end; the last line of the output in last. */
static int finish(FILE *f, char *last, size_t size)
{
	char line[256];

	if (last)
		*last = '\0';
	while (fgets(line, sizeof(line), f))
		if (last)
			snprintf(last, size, "%s", line);
	return pclose(f);
}

static int closed_count(FILE *f)
{
	char last[256];
	int closed = -1;

	finish(f, last, sizeof(last));
	if (sscanf(last, "closed %d", &closed) != 1)
		fail_msg("unexpected output: %s", last);
	return closed;
}

/* ukeyctl list as uid: its exit status, its stderr in *ret_err. */
static int ukeyctl_list_as(unsigned uid, char **ret_err)
{
	char cmd[512];
	int status;

	snprintf(cmd, sizeof(cmd),
		 "setpriv --reuid=%u --regid=%u --clear-groups env LANG=C.UTF-8 %s --socket %s "
		 "list 2>&1 >/dev/null",
		 uid, uid, getenv("UKEYCTL"), h.socket);
	*ret_err = harness_sh(cmd, &status);
	return status;
}

static void assert_root_served(void)
{
	ukey_client *c = NULL;
	ukey_token_list *l = NULL;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_list_tokens(c, &l), UKEY_OK);
	assert_true(ukey_token_list_get_count(l) >= 2);
	ukey_token_list_unref(l);
	ukey_client_unref(c);
}

/* One user holds all it may; it is refused more, with "busy" (libukey's
 * UKEY_E_BUSY, ukeyctl's exit 16, never "not running"); another user and
 * root are served. */
static void test_per_user_cap(void **state)
{
	FILE *attacker;
	char *err;

	start("max_clients = 24\nreserved_clients = 4\nmax_clients_per_uid = 8\n");
	attacker = spawn(NOBODY, "hold %s 40 4", h.socket);
	assert_int_equal(wait_ready(attacker), 8);
	/* Many times over: "busy" must win against the hang-up's race. */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(ukeyctl_list_as(NOBODY, &err), 16);
		assert_non_null(strstr(err, "overloaded"));
		assert_null(strstr(err, "Cannot reach"));
		free(err);
	}
	assert_int_equal(ukeyctl_list_as(OTHER, &err), 0);
	free(err);
	assert_root_served();
	/* Held, not dropped: holding is within its rights. */
	assert_int_equal(closed_count(attacker), 0);
	stop();
}

/* The last connections are kept for root (and the admin group): users
 * together cannot take them. */
static void test_reserve_for_root(void **state)
{
	FILE *a, *b, *c;
	char *err;

	start("max_clients = 24\nreserved_clients = 4\nmax_clients_per_uid = 8\n");
	a = spawn(NOBODY, "hold %s 8 4", h.socket);
	assert_int_equal(wait_ready(a), 8);
	b = spawn(OTHER, "hold %s 8 4", h.socket);
	assert_int_equal(wait_ready(b), 8);
	c = spawn(OTHER + 1, "hold %s 8 4", h.socket);
	assert_int_equal(wait_ready(c), 4); /* 24 - 4 reserved - 16 */
	assert_int_equal(ukeyctl_list_as(OTHER + 2, &err), 16);
	free(err);
	for (int i = 0; i < 3; i++)
		assert_root_served();
	pclose(a);
	pclose(b);
	pclose(c);
	stop();
}

/* Idle connections are let go; libukey makes a new one by itself, and a
 * subscriber that reads its events is never idle. */
static void test_idle_timeout(void **state)
{
	struct harness_events ev = {0};
	ukey_client *c = NULL, *sub;
	ukey_token_list *l = NULL;
	FILE *attacker;

	start("idle_timeout = 2\nline_timeout = 0\n");
	attacker = spawn(NOBODY, "hold %s 4 4", h.socket);
	assert_int_equal(wait_ready(attacker), 4);
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	sub = harness_subscribed_client(&h, &ev);
	sleep(3);
	harness_events_collect(sub, 200);
	assert_int_equal(harness_events_count(&ev, UKEY_EVENT_DISCONNECTED, NULL), 0);
	assert_int_equal(ukey_client_list_tokens(c, &l), UKEY_OK); /* a new connection */
	ukey_token_list_unref(l);
	ukey_client_unref(c);
	ukey_client_unref(sub);
	assert_int_equal(closed_count(attacker), 4);
	stop();
}

/* A request line dribbled a byte a second is cut off. */
static void test_line_timeout(void **state)
{
	FILE *attacker;

	start("idle_timeout = 60\nline_timeout = 1\n");
	attacker = spawn(NOBODY, "slow %s 4 4", h.socket);
	assert_int_equal(wait_ready(attacker), 4);
	assert_int_equal(closed_count(attacker), 4);
	assert_root_served();
	stop();
}

struct latency {
	double samples, failed, p50, p99;
};

static void read_latency(FILE *f, struct latency *l, const char *who)
{
	char last[256];

	finish(f, last, sizeof(last));
	if (sscanf(last, "samples %lf failed %lf p50 %lf p99 %lf", &l->samples, &l->failed, &l->p50,
		   &l->p99) != 4)
		fail_msg("unexpected output: %s", last);
	fprintf(stderr, "# %s: %.0f lists, %.0f failed, p50 %.1f ms, p99 %.1f ms\n", who,
		l->samples, l->failed, l->p50, l->p99);
}

/* root and another user list while the attack runs: never refused, p99
 * within the goal. */
static void assert_others_served_during(FILE *attacker, double seconds)
{
	FILE *root = spawn(0, "latency %s %.0f", h.socket, seconds);
	FILE *other = spawn(OTHER, "latency %s %.0f", h.socket, seconds);
	struct latency r, o;

	read_latency(root, &r, "root");
	read_latency(other, &o, "uid 12345");
	finish(attacker, NULL, 0);
	assert_true(r.samples >= seconds * 5 && o.samples >= seconds * 5);
	assert_true(r.failed == 0 && o.failed == 0);
	assert_true(r.p99 < GOAL_MS);
	assert_true(o.p99 < GOAL_MS);
}

/* 50,000 pipelined refreshes, again and again: the others do not wait
 * for them, and ukeyd is free as soon as the sender is gone. */
static void test_pipelined_refresh(void **state)
{
	struct timespec t0, t1;

	start("");
	assert_others_served_during(
		spawn(NOBODY, "pipeline %s '{\"id\":2,\"method\":\"refresh\"}' 50000 4", h.socket),
		3);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_root_served();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000.0 + (t1.tv_nsec - t0.tv_nsec) / 1e6 < 1000);
	stop();
}

/* Cheap requests by the ten thousand in one stream (each answered
 * unknown_method): served a turn at a time, and not at all once their
 * replies go unread, so the others do not wait behind them. */
static void test_one_stream_many_requests(void **state)
{
	start("");
	assert_others_served_during(
		spawn(NOBODY, "pipeline %s '{\"id\":2,\"method\":\"no_such_method\"}' 100000 4",
		      h.socket),
		3);
	stop();
}

static long spy_calls(const char *log, const char *function)
{
	char cmd[400];
	int status;
	long n;
	char *out;

	snprintf(cmd, sizeof(cmd), "grep -c '%s' %s", function, log);
	out = harness_sh(cmd, &status);
	n = strtol(out, NULL, 10);
	free(out);
	return n;
}

/* Refreshes are coalesced: however many come, a refresh scan is asked at
 * most once a second (pkcs11-spy counts the module's calls). */
static void test_refresh_flood_costs_few_scans(void **state)
{
	char spy_log[200], spy_env[260];
	const char *env[] = {"PKCS11SPY=" SOFTHSM_MODULE, spy_env, NULL};
	const char *args[] = {"--module", PKCS11_SPY_MODULE, NULL};
	long one, before, flood;
	int status;

	if (access(PKCS11_SPY_MODULE, R_OK) != 0) {
		fprintf(stderr, "SKIP: pkcs11-spy missing (apt-get install opensc-pkcs11)\n");
		skip();
	}
	snprintf(spy_log, sizeof(spy_log), "%s/spy.log", h.dir);
	snprintf(spy_env, sizeof(spy_env), "PKCS11SPY_OUTPUT=%s", spy_log);
	assert_int_equal(harness_start_daemon(&h, args, env), 0);
	/* What one refresh costs. */
	before = spy_calls(spy_log, "C_GetSlotList");
	{
		const char *argv[] = {getenv("UKEYCTL"), "--socket", h.socket, "refresh", NULL};
		free(harness_run(argv, NULL, &status));
		assert_int_equal(status, 0);
	}
	one = spy_calls(spy_log, "C_GetSlotList") - before;
	assert_true(one > 0);
	before = spy_calls(spy_log, "C_GetSlotList");
	finish(spawn(NOBODY, "pipeline %s '{\"id\":2,\"method\":\"refresh\"}' 50000 4", h.socket),
	       NULL, 0);
	flood = spy_calls(spy_log, "C_GetSlotList") - before;
	fprintf(stderr, "# one refresh: %ld C_GetSlotList; 4 s of pipelined refreshes: %ld\n", one,
		flood);
	assert_true(flood <= 6 * one);
	assert_root_served();
	stop();
}

static void test_connect_flood(void **state)
{
	start("");
	assert_others_served_during(spawn(NOBODY, "connect-flood %s 4", h.socket), 3);
	stop();
}

static long rss_kb(const char *field)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)h.daemon);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			kb = strtol(line + strlen(field) + 1, NULL, 10);
	fclose(f);
	return kb;
}

/* Sixteen clients that ask and never read hold little: their requests
 * stop being served once their replies pile up. */
static void test_non_readers_bounded(void **state)
{
	FILE *attacker;
	long before, after;

	start("");
	before = rss_kb("VmRSS");
	attacker = spawn(NOBODY, "noread %s 16 4", h.socket);
	assert_int_equal(wait_ready(attacker), 16);
	assert_others_served_during(attacker, 3);
	after = rss_kb("VmHWM");
	fprintf(stderr, "# ukeyd RSS %ld kB before, peak %ld kB with 16 non-readers%s\n", before,
		after, RSS_MEASURED ? "" : " (not measured under ASan)");
	assert_true(!RSS_MEASURED || after - before < 32 * 1024);
	stop();
}

/* The output one user's clients may queue is counted together: past
 * max_output_per_uid the one that adds to it is dropped. */
static void test_output_cap_per_user(void **state)
{
	FILE *attacker;

	start("max_output_per_uid = 1\n");
	attacker = spawn(NOBODY, "noread %s 16 3", h.socket);
	assert_int_equal(wait_ready(attacker), 16);
	assert_true(closed_count(attacker) > 0);
	assert_true(harness_file_contains(h.log, "does not read its replies"));
	assert_root_served();
	stop();
}

/* ukeyd through the p11-unplug wrapper, whose fault file makes the
 * module slow when a test says so (tests/fixtures/p11-unplug.c). */
static void start_wrapped(void)
{
	const char *args[] = {"--module", getenv("P11_UNPLUG"), NULL};
	const char *env[] = {h.unplug_env, h.faults_env, NULL};

	assert_int_equal(harness_shf(": > %s", h.unplug_file), 0);
	assert_int_equal(harness_set_faults(&h, ""), 0);
	assert_int_equal(harness_start_daemon(&h, args, env), 0);
}

/* The wrapper's scans of the two tokens take some 8 s from now. */
static void slow_scans(void)
{
	assert_int_equal(harness_set_faults(&h, "C_FindObjectsInit * delay=4000\n"), 0);
}

static void stop_wrapped(void)
{
	assert_int_equal(harness_set_faults(&h, ""), 0);
	stop();
}

/* "sent S lines": the burst is out. */
static long wait_sent(FILE *f)
{
	char line[128];
	long sent = -1;

	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(sscanf(line, "sent %ld lines", &sent), 1);
	return sent;
}

struct burst_end {
	long replies, errors, invalid;
	int closed;
};

static void burst_end(FILE *f, struct burst_end *e)
{
	char last[256];

	finish(f, last, sizeof(last));
	if (sscanf(last, "replies %ld errors %ld invalid_request %ld closed %d", &e->replies,
		   &e->errors, &e->invalid, &e->closed) != 4)
		fail_msg("unexpected output: %s", last);
}

/* A request held for a scan (a refresh while the module is slow, a get
 * before the first scan) keeps only what its method reads: the rest of
 * its line is freed once the request is checked. Here one user's 32
 * connections hold 16 refreshes each, each with 240 KB in a member that
 * refresh does not know (with as many values as a line may have, json-c
 * makes 11 MB of 240 KB of empty arrays; a string stays its size): 123 MB
 * held before, nothing now. */
static void test_held_requests_keep_little(void **state)
{
	struct burst_end e;
	long before, peak;
	FILE *attacker;

	start_wrapped();
	before = rss_kb("VmRSS");
	slow_scans();
	attacker = spawn(NOBODY,
			 "burst %s 32 16 240000 2 "
			 "'{\"id\":2,\"method\":\"refresh\",\"params\":{\"x\":\"%%c\","
			 "\"y\":[[],[],[],[],[],[],[],[],[],[],[],[],[],[],[],[]]}}'",
			 h.socket);
	assert_int_equal(wait_sent(attacker), 32 * 16);
	burst_end(attacker, &e);
	/* Held all along: the scans they wait for take longer. */
	assert_int_equal(e.replies, 0);
	peak = rss_kb("VmHWM");
	fprintf(stderr,
		"# ukeyd RSS %ld kB before, peak %ld kB with 512 held refreshes of 240 KB%s\n",
		before, peak, RSS_MEASURED ? "" : " (not measured under ASan)");
	assert_true(!RSS_MEASURED || peak - before < 32 * 1024);
	assert_root_served();
	stop_wrapped();
}

/* Lines that cost json-c much to build: 240 KB of empty arrays are some
 * 80,000 objects, 20 ms to build and free. A request holds few values:
 * such a line is refused by a pass over its bytes, and 32 connections
 * sending them without pause do not make the others wait for a turn of
 * each. */
static void test_costly_lines(void **state)
{
	start("");
	assert_others_served_during(
		spawn(NOBODY,
		      "burst %s 32 0 240000 4 "
		      "'{\"id\":2,\"method\":\"list\",\"params\":{\"x\":[%%a]}}'",
		      h.socket),
		3);
	stop();
}

/* ukeyd's CPU time (user and system) so far, in ms. */
static long cpu_ms(void)
{
	char path[64], buf[1024], *p;
	unsigned long utime = 0, stime = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)h.daemon);
	f = fopen(path, "re");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	/* After the name in parentheses (which may hold anything): the state,
	 * then fields 4 to 13, then utime and stime. */
	p = strrchr(buf, ')');
	assert_non_null(p);
	assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&utime, &stime),
			 2);
	return (long)((utime + stime) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

/* A client owed 16 replies (held refreshes: its socket is then watched
 * for nothing) that hangs up is let go at once: epoll reports the hang-up
 * whatever is watched, and ukeyd must not wake for it again and again
 * until the scan answers. */
static void test_hangup_while_owed_costs_nothing(void **state)
{
	struct burst_end e;
	long t0, t1;

	start_wrapped();
	slow_scans();
	/* hello, 17 refreshes, and gone without reading. */
	burst_end(spawn(NOBODY, "burst %s 1 17 0 0 '{\"id\":2,\"method\":\"refresh\"}'", h.socket),
		  &e);
	usleep(300 * 1000);
	t0 = cpu_ms();
	sleep(1);
	t1 = cpu_ms();
	fprintf(stderr, "# ukeyd's CPU time in the second after the client left: %ld ms\n",
		t1 - t0);
	assert_true(t1 - t0 < 200);
	assert_root_served();
	stop_wrapped();
}

/* A serial is at most 96 bytes (the longest a token's serial reads as):
 * a longer one is invalid_request, before any policy, so refusals, which
 * the audit log records with the serial asked for, cannot fill it with
 * what a client sends. Refusals of a serial of the right size still are
 * recorded. */
static void test_long_serials_refused(void **state)
{
	static const char unlock[] = "'{\"id\":3,\"method\":\"pin_unlock\",\"params\":{"
				     "\"serial\":\"%s\",\"so_pin\":\"1\"}}'";
	char cmd[300], path[200];
	struct burst_end e;
	struct stat st;

	start("");
	snprintf(cmd, sizeof(cmd), "burst %s 1 20 250000 2 ", h.socket);
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), unlock, "%c");
	burst_end(spawn(NOBODY, "%s", cmd), &e);
	assert_int_equal(e.replies, 20);
	assert_int_equal(e.invalid, 20);
	snprintf(cmd, sizeof(cmd), "burst %s 1 20 0 2 ", h.socket);
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), unlock, "25a340820f55d593");
	burst_end(spawn(NOBODY, "%s", cmd), &e);
	assert_int_equal(e.errors, 20);
	assert_int_equal(e.invalid, 0);
	stop(); /* the refusals counted past the burst are written at exit */
	snprintf(path, sizeof(path), "%s/state/audit.log", h.dir);
	assert_int_equal(stat(path, &st), 0);
	fprintf(stderr,
		"# audit.log after 20 refusals with 250 KB serials and 20 with 16 bytes: "
		"%lld bytes\n",
		(long long)st.st_size);
	assert_true(harness_file_contains(path, "\"25a340820f55d593\""));
	assert_true(st.st_size < 16 * 1024);
}

/* A test that failed leaves no daemon behind for the next one. */
static int test_teardown(void **state)
{
	if (h.daemon > 0)
		harness_stop_daemon(&h);
	return 0;
}

/* Everything at once, as bench/stress-hostile.sh does for a minute, for
 * a few seconds: the others are served within the goal, ukeyd's memory
 * stays under 64 MB, and every attacker's connection ends. */
static void test_everything_at_once(void **state)
{
	char unlock[200];
	FILE *attackers[6];
	long peak;

	start("");
	snprintf(unlock, sizeof(unlock),
		 "'{\"id\":3,\"method\":\"pin_unlock\",\"params\":{\"serial\":\"X\","
		 "\"so_pin\":\"1\"}}'");
	attackers[0] = spawn(NOBODY, "noread %s 16 5", h.socket);
	attackers[1] = spawn(NOBODY, "slow %s 16 5", h.socket);
	attackers[2] =
		spawn(NOBODY, "pipeline %s '{\"id\":2,\"method\":\"refresh\"}' 300000 5", h.socket);
	attackers[3] = spawn(NOBODY, "pipeline %s %s 20000 5", h.socket, unlock);
	attackers[4] = spawn(NOBODY, "hold %s 2000 5", h.socket);
	attackers[5] = spawn(NOBODY, "connect-flood %s 5", h.socket);
	assert_others_served_during(attackers[5], 4);
	for (int i = 0; i < 5; i++)
		finish(attackers[i], NULL, 0);
	peak = rss_kb("VmHWM");
	fprintf(stderr, "# ukeyd peak RSS %ld kB under everything at once%s\n", peak,
		RSS_MEASURED ? "" : " (not measured under ASan)");
	assert_true(!RSS_MEASURED || peak < 64 * 1024);
	assert_root_served();
	stop();
}

static int group_setup(void **state)
{
	if (getuid() != 0) {
		printf("1..0 # SKIP switching to unprivileged users needs root\n");
		exit(0);
	}
	return harness_setup(&h, "both");
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_per_user_cap, test_teardown),
		cmocka_unit_test_teardown(test_reserve_for_root, test_teardown),
		cmocka_unit_test_teardown(test_idle_timeout, test_teardown),
		cmocka_unit_test_teardown(test_line_timeout, test_teardown),
		cmocka_unit_test_teardown(test_pipelined_refresh, test_teardown),
		cmocka_unit_test_teardown(test_one_stream_many_requests, test_teardown),
		cmocka_unit_test_teardown(test_refresh_flood_costs_few_scans, test_teardown),
		cmocka_unit_test_teardown(test_connect_flood, test_teardown),
		cmocka_unit_test_teardown(test_non_readers_bounded, test_teardown),
		cmocka_unit_test_teardown(test_output_cap_per_user, test_teardown),
		cmocka_unit_test_teardown(test_everything_at_once, test_teardown),
		cmocka_unit_test_teardown(test_held_requests_keep_little, test_teardown),
		cmocka_unit_test_teardown(test_costly_lines, test_teardown),
		cmocka_unit_test_teardown(test_hangup_while_owed_costs_nothing, test_teardown),
		cmocka_unit_test_teardown(test_long_serials_refused, test_teardown),
	};
	return HARNESS_RUN_TESTS("limits", tests, group_setup, group_teardown);
}
