/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ukey-notify end to end: the real ukeyd with SoftHSM tokens (a ready
 * primary, a secondary still on the default PIN, one in the renewal
 * window, one whose label carries control characters), and two agents,
 * one in English and one in zh_CN, each on a private session bus
 * (dbus-run-session) with a real notification server (dunst under Xvfb).
 * The Notify calls are read from the bus itself (busctl monitor): summary,
 * body, urgency, replaces_id and the id the server gave. A screenshot of
 * the zh_CN notices is taken ($UKEY_NOTIFY_SCREENSHOT, else the test's
 * directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define PRIMARY "国信CA测试主锁"
#define SECONDARY "江苏CA副锁"
#define RENEWAL "即将到期"
/* ESC [31m (a terminal colour) and U+202E (right-to-left override). */
#define HOSTILE "坏\x1b[31m锁\xe2\x80\xae"
#define HOSTILE_SHOWN "坏\\x1b[31m锁\\u202e"

static struct harness h;

/* One agent in its own session. */
struct session {
	const char *lang; /* LANG */
	char dir[160];
	int display;
	pid_t xvfb, session;
};
static struct session en = {.lang = "C.UTF-8"}, zh = {.lang = "zh_CN.UTF-8"};

/* One Notify call as the bus carried it, with the server's answer. */
struct call {
	char sender[64];
	unsigned long cookie;
	unsigned replaces, id; /* id: 0 until answered */
	int urgency;
	char summary[512], body[2048], category[64];
};
static struct call calls[256];
static int n_calls;

static const char *missing_tools(void)
{
	static const char *const tools[] = {"dbus-run-session", "busctl", "dunst", "Xvfb",
					    "stdbuf",		"import"};
	static char why[160];

	for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tools[i]);
		if (system(cmd) != 0) {
			snprintf(why, sizeof(why),
				 "%s missing (scripts/install-deps.sh installs dbus, systemd, "
				 "dunst, xvfb, coreutils, imagemagick)",
				 tools[i]);
			return why;
		}
	}
	if (!getenv("UKEY_NOTIFY"))
		return "UKEY_NOTIFY not set: run through 'meson test'";
	if (system("locale -a 2>/dev/null | grep -qi '^zh_CN.utf-\\?8$'") != 0)
		return "locale zh_CN.UTF-8 is not generated here (scripts/install-deps.sh does it)";
	return harness_missing_tools();
}

/* -------------------------------------------------------------- the bus */

static void read_calls(const struct session *s)
{
	char path[200], *line = NULL;
	size_t cap = 0;
	FILE *f;

	n_calls = 0;
	snprintf(path, sizeof(path), "%s/monitor.json", s->dir);
	f = fopen(path, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		json_object *m = json_tokener_parse(line), *v, *data, *hints, *u;
		const char *type, *member;

		if (!m)
			continue; /* a line being written */
		type = json_object_get_string(json_object_object_get(m, "type"));
		member = json_object_get_string(json_object_object_get(m, "member"));
		data = json_object_object_get(json_object_object_get(m, "payload"), "data");
		if (type && !strcmp(type, "method_call") && member && !strcmp(member, "Notify") &&
		    n_calls < (int)ARRAY_SIZE(calls) && json_object_array_length(data) == 8) {
			struct call *c = &calls[n_calls++];

			memset(c, 0, sizeof(*c));
			snprintf(c->sender, sizeof(c->sender), "%s",
				 json_object_get_string(json_object_object_get(m, "sender")));
			c->cookie = (unsigned long)json_object_get_int64(
				json_object_object_get(m, "cookie"));
			c->replaces =
				(unsigned)json_object_get_int64(json_object_array_get_idx(data, 1));
			snprintf(c->summary, sizeof(c->summary), "%s",
				 json_object_get_string(json_object_array_get_idx(data, 3)));
			snprintf(c->body, sizeof(c->body), "%s",
				 json_object_get_string(json_object_array_get_idx(data, 4)));
			hints = json_object_array_get_idx(data, 6);
			c->urgency =
				json_object_object_get_ex(hints, "urgency", &u)
					? json_object_get_int(json_object_object_get(u, "data"))
					: -1;
			if (json_object_object_get_ex(hints, "category", &u))
				snprintf(c->category, sizeof(c->category), "%s",
					 json_object_get_string(json_object_object_get(u, "data")));
		} else if (type && !strcmp(type, "method_return")) {
			unsigned long reply = (unsigned long)json_object_get_int64(
				json_object_object_get(m, "reply_cookie"));
			const char *dest =
				json_object_get_string(json_object_object_get(m, "destination"));

			for (int i = 0; i < n_calls; i++)
				if (calls[i].cookie == reply && dest &&
				    !strcmp(calls[i].sender, dest) &&
				    json_object_object_get_ex(m, "payload", &v))
					calls[i].id = (unsigned)json_object_get_int64(
						json_object_array_get_idx(data, 0));
		}
		json_object_put(m);
	}
	free(line);
	fclose(f);
}

static void sleep_ms(int ms)
{
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

/* The index of the first answered Notify at or after @from whose summary
 * is @summary, waiting up to 10 s for it; -1 if none came. */
static int wait_notice(const struct session *s, int from, const char *summary)
{
	for (int waited = 0; waited < 10000; waited += 100) {
		read_calls(s);
		for (int i = from; i < n_calls; i++)
			if (!strcmp(calls[i].summary, summary) && calls[i].id)
				return i;
		sleep_ms(100);
	}
	fprintf(stderr, "no notice \"%s\" in %s after #%d; seen:\n", summary, s->lang, from);
	for (int i = 0; i < n_calls; i++)
		fprintf(stderr, "  #%d [%d] %s (replaces %u, id %u)\n", i, calls[i].urgency,
			calls[i].summary, calls[i].replaces, calls[i].id);
	return -1;
}

/* How many Notify calls from @from on have a summary containing @needle. */
static int count_notices(const struct session *s, int from, const char *needle)
{
	int n = 0;

	read_calls(s);
	for (int i = from; i < n_calls; i++)
		n += strstr(calls[i].summary, needle) != NULL;
	return n;
}

static int notices_so_far(const struct session *s)
{
	read_calls(s);
	return n_calls;
}

/* ----------------------------------------------------------- sessions */

static bool file_exists(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static long read_number(const char *dir, const char *name)
{
	char path[256];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static int start_xvfb(struct session *s)
{
	int fd[2];
	char buf[16] = "", fdarg[16];
	ssize_t n;

	if (pipe(fd) < 0)
		return -1;
	s->xvfb = fork();
	if (s->xvfb == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fd[0]);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		snprintf(fdarg, sizeof(fdarg), "%d", fd[1]);
		execlp("Xvfb", "Xvfb", "-displayfd", fdarg, "-nolisten", "tcp", "-screen", "0",
		       "1280x1000x24", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	/* The display, once it is ready: read up to the newline, as Xvfb
	 * exits if it cannot write all of it. */
	for (size_t len = 0; len < sizeof(buf) - 1 && !strchr(buf, '\n'); len += (size_t)n) {
		n = read(fd[0], buf + len, sizeof(buf) - 1 - len);
		if (n <= 0) {
			close(fd[0]);
			return -1;
		}
	}
	close(fd[0]);
	s->display = atoi(buf);
	return 0;
}

static int start_session(struct session *s, const char *name)
{
	char display[32], lang[64], sock[160], session_sh[512], dunstrc[512], log[200];

	snprintf(s->dir, sizeof(s->dir), "%s/%s", h.dir, name);
	if (mkdir(s->dir, 0700) < 0 || start_xvfb(s) < 0)
		return -1;
	snprintf(display, sizeof(display), "DISPLAY=:%d", s->display);
	snprintf(lang, sizeof(lang), "LANG=%s", s->lang);
	snprintf(sock, sizeof(sock), "UKEY_SOCKET=%s", h.socket);
	snprintf(session_sh, sizeof(session_sh), "%s/../notify-session.sh", getenv("FIXTURES"));
	snprintf(dunstrc, sizeof(dunstrc), "%s/dunstrc", getenv("FIXTURES"));
	snprintf(log, sizeof(log), "%s/session.log", s->dir);
	s->session = fork();
	if (s->session == 0) {
		/* Nothing of the session may hold the test's output open. */
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		putenv(display);
		putenv(lang);
		putenv(sock);
		unsetenv("LC_ALL");
		unsetenv("LANGUAGE");
		unsetenv("LC_MESSAGES");
		unsetenv("DBUS_SESSION_BUS_ADDRESS");
		execlp("dbus-run-session", "dbus-run-session", "--", session_sh, s->dir, dunstrc,
		       getenv("UKEY_NOTIFY"), (char *)NULL);
		_exit(127);
	}
	for (int waited = 0; waited < 20000; waited += 100) {
		if (file_exists(s->dir, "ready"))
			return 0;
		sleep_ms(100);
	}
	fprintf(stderr, "the %s session did not start\n", name);
	return -1;
}

/* Waits for the agent's exit status; -1 if it did not end within 10 s. */
static int agent_status(const struct session *s)
{
	for (int waited = 0; waited < 10000; waited += 100) {
		if (file_exists(s->dir, "agent.status"))
			return (int)read_number(s->dir, "agent.status");
		sleep_ms(100);
	}
	return -1;
}

static void stop_session(struct session *s)
{
	if (s->session > 0) {
		long agent = read_number(s->dir, "agent.pid");
		if (agent > 0 && !file_exists(s->dir, "agent.status"))
			kill((pid_t)agent, SIGTERM);
		agent_status(s);
		/* With the agent gone the session ends by itself, and
		 * dbus-run-session stops its bus; only a session stuck past
		 * 10 s is killed. */
		for (int waited = 0; waited < 10000; waited += 100) {
			if (waitpid(s->session, NULL, WNOHANG) == s->session) {
				s->session = 0;
				break;
			}
			sleep_ms(100);
		}
		if (s->session > 0) {
			kill(s->session, SIGTERM);
			waitpid(s->session, NULL, 0);
			s->session = 0;
		}
	}
	if (s->xvfb > 0) {
		kill(s->xvfb, SIGTERM);
		waitpid(s->xvfb, NULL, 0);
		s->xvfb = 0;
	}
}

/* ------------------------------------------------------------- tokens */

static const char *const all_tokens[] = {PRIMARY,    SECONDARY,	 RENEWAL,    HOSTILE,	"已过期",
					 "错配测试", "藏钥测试", "公钥测试", "无钥测试"};

static void set_plugged(const char *label, bool in)
{
	ukey_client *c = NULL;

	assert_int_equal(harness_set_plugged(&h, label, in), 0);
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	ukey_client_unref(c);
}

/* Until ready (its first scan over), or only until it listens. */
static int start_daemon_until(bool ready)
{
	const char *const args[] = {"--module", getenv("P11_UNPLUG"), NULL};
	const char *const env[] = {h.unplug_env, h.faults_env, NULL};

	return ready ? harness_start_daemon(&h, args, env)
		     : harness_start_daemon_listening(&h, args, env);
}

static int start_daemon(void)
{
	return start_daemon_until(true);
}

/* Waits up to 20 s for ukeyd's first scan to end; whether it did. */
static bool scan_over(void)
{
	ukey_client *c = NULL;
	bool scanning = true;

	if (ukey_client_new(h.socket, &c) != UKEY_OK)
		return false;
	for (int waited = 0; scanning && waited < 20000; waited += 100) {
		ukey_token_list *l = NULL;

		if (ukey_client_list_tokens(c, &l) == UKEY_OK)
			scanning = ukey_token_list_is_scanning(l);
		ukey_token_list_unref(l);
		if (scanning)
			sleep_ms(100);
	}
	ukey_client_unref(c);
	return !scanning;
}

/* Whether ukeyd's list says its first scan still runs. */
static bool still_scanning(void)
{
	ukey_client *c = NULL;
	ukey_token_list *l = NULL;
	bool scanning;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_list_tokens(c, &l), UKEY_OK);
	scanning = ukey_token_list_is_scanning(l);
	ukey_token_list_unref(l);
	ukey_client_unref(c);
	return scanning;
}

static int group_setup(void **state)
{
	ukey_client *c = NULL;
	char serial[64];
	bool is_default = false;

	if (harness_setup(&h, "both") < 0 ||
	    harness_shf("%s/provision-check.sh %s/hsm >/dev/null", getenv("FIXTURES"), h.dir) !=
		    0 ||
	    harness_shf("SOFTHSM2_CONF=%s softhsm2-util --init-token --free --label "
			"\"$(printf '坏\\033[31m锁\\342\\200\\256')\" --so-pin 5720381694026153 "
			"--pin 123456 >/dev/null",
			h.softhsm_conf) != 0)
		return -1;
	/* ukeyd learns that the secondary is still on the default PIN (a
	 * probe), then every token is pulled out before the agents start. */
	for (size_t i = 0; i < ARRAY_SIZE(all_tokens); i++)
		if (strcmp(all_tokens[i], SECONDARY) != 0 &&
		    harness_set_plugged(&h, all_tokens[i], false) < 0)
			return -1;
	if (start_daemon() < 0 || harness_token_serial(&h, SECONDARY, serial, sizeof(serial)) < 0 ||
	    ukey_client_new(h.socket, &c) != UKEY_OK ||
	    ukey_client_probe_default_pin(c, serial, &is_default) != UKEY_OK || !is_default ||
	    harness_set_plugged(&h, SECONDARY, false) < 0 || ukey_client_refresh(c) != UKEY_OK) {
		ukey_client_unref(c);
		return -1;
	}
	ukey_client_unref(c);
	if (start_session(&en, "en") < 0 || start_session(&zh, "zh") < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	stop_session(&en);
	stop_session(&zh);
	return harness_finish(&h);
}

/* ------------------------------------------------------------------ tests */

static void screenshot(const struct session *s)
{
	const char *out = getenv("UKEY_NOTIFY_SCREENSHOT");
	char path[256];

	snprintf(path, sizeof(path), "%s/notices.png", s->dir);
	/* The notices are drawn: the server has answered every call. */
	sleep_ms(500);
	assert_int_equal(harness_shf("DISPLAY=:%d import -window root png:- | convert - -trim "
				     "+repage -bordercolor black -border 12 '%s'",
				     s->display, out && *out ? out : path),
			 0);
	fprintf(stderr, "screenshot of the zh_CN notices: %s\n", out && *out ? out : path);
}

/* No token: no notice. Each token plugged in: its verdict, and the PIN and
 * expiry notices, once, in both languages; no two notices say the same. */
static void test_plug_in(void **state)
{
	int i, v, p, x;
	ukey_client *c = NULL;
	ukey_token *t = NULL;
	char serial[64], expect[256];
	long long days = -1;

	assert_int_equal(notices_so_far(&en), 0);
	assert_int_equal(notices_so_far(&zh), 0);

	set_plugged(PRIMARY, true);
	i = wait_notice(&en, 0, PRIMARY ": ready to bid");
	assert_true(i >= 0);
	assert_int_equal(calls[i].urgency, 0);
	assert_int_equal(calls[i].replaces, 0);
	assert_string_equal(calls[i].category, "device.added");
	assert_string_equal(calls[i].body,
			    "测试投标单位 · Jiangsu Guoxin CA · primary (carries the seal)");
	i = wait_notice(&zh, 0, PRIMARY "：可以投标");
	assert_true(i >= 0);
	assert_int_equal(calls[i].urgency, 0);
	assert_string_equal(calls[i].body, "测试投标单位 · 国信CA · 主锁（含电子签章）");

	set_plugged(SECONDARY, true);
	v = wait_notice(&en, 0, SECONDARY ": ready to bid, with warnings");
	p = wait_notice(&en, 0, SECONDARY " still uses the default PIN");
	assert_true(v >= 0 && p > v);
	assert_int_equal(calls[v].urgency, 1);
	assert_int_equal(calls[p].urgency, 1);
	assert_int_equal(calls[p].replaces, 0);
	assert_non_null(strstr(calls[p].body, "123456"));
	assert_non_null(strstr(calls[p].body, "ukeyctl pin change"));
	/* The verdict leaves the PIN to its own notice. */
	assert_null(strstr(calls[v].body, "123456"));
	assert_non_null(strstr(calls[v].body, "secondary (no seal)"));
	v = wait_notice(&zh, 0, SECONDARY "：可以投标，但有需要注意的问题");
	p = wait_notice(&zh, 0, SECONDARY "仍在使用默认口令");
	assert_true(v >= 0 && p > v);
	assert_int_equal(calls[p].urgency, 1);
	assert_non_null(strstr(calls[p].body, "修改口令"));
	assert_non_null(strstr(calls[p].body, "ukeyctl pin change"));

	set_plugged(RENEWAL, true);
	assert_int_equal(harness_token_serial(&h, RENEWAL, serial, sizeof(serial)), 0);
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_get_token(c, serial, &t), UKEY_OK);
	days = (long long)ukey_cert_get_days_left(ukey_token_get_cert(t, 0));
	ukey_token_unref(t);
	ukey_client_unref(c);
	assert_true(days > 7 && days <= 10);
	v = wait_notice(&en, 0, RENEWAL ": ready to bid, with warnings");
	snprintf(expect, sizeof(expect), RENEWAL ": the certificate expires in %lld days", days);
	x = wait_notice(&en, 0, expect);
	assert_true(v >= 0 && x > v);
	assert_int_equal(calls[x].urgency, 1);
	assert_string_equal(calls[x].category, "x-ukey.expiry");
	assert_non_null(strstr(calls[x].body, "Renew it within the 30 days before it expires; do "
					      "not renew while a bid encrypted with this token is "
					      "still unopened."));
	assert_null(strstr(calls[v].body, "Renew")); /* said once, by the expiry notice */
	snprintf(expect, sizeof(expect), RENEWAL "：证书将在%lld天后到期", days);
	x = wait_notice(&zh, 0, expect);
	assert_true(x >= 0);
	assert_non_null(strstr(calls[x].body,
			       "在证书失效前30天以内办理延期；有未开标的投标文件时不要延期"));

	/* A label with control characters reaches the screen escaped. */
	set_plugged(HOSTILE, true);
	i = wait_notice(&en, 0, HOSTILE_SHOWN ": NOT ready to bid");
	assert_true(i >= 0);
	assert_int_equal(calls[i].urgency, 2);
	assert_non_null(strstr(calls[i].body, "No signing certificate"));
	i = wait_notice(&zh, 0, HOSTILE_SHOWN "：不能投标");
	assert_true(i >= 0);
	for (int k = 0; k < n_calls; k++)
		assert_null(strchr(calls[k].summary, '\x1b'));

	/* Nothing more: one verdict per token, one PIN and one expiry notice. */
	sleep_ms(1000);
	assert_int_equal(notices_so_far(&en), 6);
	assert_int_equal(notices_so_far(&zh), 6);
	screenshot(&zh);
}

/* Pulled out and plugged in again: the token's notices are replaced, not
 * stacked; the PIN is told again (a new plug-in), the expiry is not (each
 * threshold once). */
static void test_pull_and_plug(void **state)
{
	int start = notices_so_far(&en), verdict, pin, gone, back, pin2, n;

	read_calls(&en);
	verdict = wait_notice(&en, 0, SECONDARY ": ready to bid, with warnings");
	pin = wait_notice(&en, 0, SECONDARY " still uses the default PIN");
	assert_true(verdict >= 0 && pin >= 0);
	unsigned verdict_id = calls[verdict].id, pin_id = calls[pin].id;

	set_plugged(SECONDARY, false);
	gone = wait_notice(&en, start, SECONDARY " was pulled out");
	assert_true(gone >= 0);
	assert_int_equal(calls[gone].urgency, 0);
	assert_string_equal(calls[gone].category, "device.removed");
	assert_int_equal(calls[gone].replaces, verdict_id);
	assert_true(wait_notice(&zh, 0, SECONDARY "已拔出") >= 0);

	set_plugged(SECONDARY, true);
	back = wait_notice(&en, gone + 1, SECONDARY ": ready to bid, with warnings");
	pin2 = wait_notice(&en, gone + 1, SECONDARY " still uses the default PIN");
	assert_true(back > gone && pin2 > back);
	assert_int_equal(calls[back].replaces, calls[gone].id);
	assert_int_equal(calls[pin2].replaces, pin_id);

	/* The renewal token: pulled and plugged, its expiry is not told again. */
	set_plugged(RENEWAL, false);
	assert_true(wait_notice(&en, start, RENEWAL " was pulled out") >= 0);
	set_plugged(RENEWAL, true);
	assert_true(wait_notice(&en, start, RENEWAL ": ready to bid, with warnings") >= 0);

	sleep_ms(1000);
	n = notices_so_far(&en);
	/* Pulled, verdict, PIN; pulled, verdict: nothing twice, nothing else. */
	assert_int_equal(n - start, 5);
	assert_int_equal(count_notices(&en, start, SECONDARY), 3);
	assert_int_equal(count_notices(&en, 0, "the certificate expires"), 1);
	/* Back in, the verdict tells the renewal itself (no expiry notice now). */
	back = wait_notice(&en, start, RENEWAL ": ready to bid, with warnings");
	assert_non_null(strstr(calls[back].body, "Renew it now"));
}

/* --once prints what the agent shows, in the locale's language, and says
 * by its exit status that a token has problems. */
static void test_once(void **state)
{
	const char *argv[] = {getenv("UKEY_NOTIFY"), "--once", "--socket", h.socket, NULL};
	const char *env_en[] = {"LANG=C.UTF-8", "LC_ALL=", "LANGUAGE=", NULL};
	const char *env_zh[] = {"LANG=zh_CN.UTF-8", "LC_ALL=", "LANGUAGE=", NULL};
	int status;
	char *out;

	out = harness_run(argv, env_en, &status);
	assert_int_equal(status, 1);
	assert_non_null(strstr(out, "[low] " PRIMARY ": ready to bid\n    测试投标单位"));
	assert_non_null(strstr(out, "[normal] " SECONDARY " still uses the default PIN\n"));
	assert_non_null(strstr(out, "[critical] " HOSTILE_SHOWN ": NOT ready to bid\n"));
	assert_null(strchr(out, '\x1b'));
	free(out);
	out = harness_run(argv, env_zh, &status);
	assert_int_equal(status, 1);
	assert_non_null(strstr(out, "[低] " PRIMARY "：可以投标\n"));
	assert_non_null(strstr(out, "[普通] " SECONDARY "仍在使用默认口令\n"));
	assert_non_null(strstr(out, "[紧急] " HOSTILE_SHOWN "：不能投标\n"));
	free(out);
}

/* Started twice in one session (systemd and XDG autostart): the second
 * agent sees the first and leaves, cleanly. */
static void test_second_agent_leaves(void **state)
{
	const char *argv[] = {getenv("UKEY_NOTIFY"), "--socket", h.socket, NULL};
	char address[512] = "", env0[600], path[256];
	const char *env[] = {env0, NULL};
	int status;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus.address", en.dir);
	f = fopen(path, "re");
	assert_non_null(f);
	assert_non_null(fgets(address, sizeof(address), f));
	fclose(f);
	address[strcspn(address, "\n")] = '\0';
	snprintf(env0, sizeof(env0), "DBUS_SESSION_BUS_ADDRESS=%s", address);
	free(harness_run(argv, env, &status));
	assert_int_equal(status, 0);
	assert_true(file_exists(en.dir, "agent.pid") && !file_exists(en.dir, "agent.status"));
}

/* ukeyd stops and comes back: one notice each (the second replaces the
 * first); the tokens still plugged in are not announced again. */
static void test_daemon_away_and_back(void **state)
{
	int start = notices_so_far(&en), away, back;

	assert_int_equal(harness_stop_daemon(&h), 0);
	away = wait_notice(&en, start, "The CA token service (ukeyd) stopped");
	assert_true(away >= 0);
	assert_int_equal(calls[away].urgency, 1);
	assert_true(wait_notice(&zh, 0, "CA锁服务（ukeyd）已停止") >= 0);

	assert_int_equal(start_daemon(), 0);
	back = wait_notice(&en, away + 1, "The CA token service (ukeyd) is back");
	assert_true(back >= 0);
	assert_int_equal(calls[back].urgency, 0);
	assert_int_equal(calls[back].replaces, calls[away].id);
	assert_true(wait_notice(&zh, 0, "CA锁服务（ukeyd）已恢复") >= 0);
	sleep_ms(1000);
	assert_int_equal(notices_so_far(&en), back + 1);

	/* Still following: a token pulled out now is told. */
	set_plugged(PRIMARY, false);
	assert_true(wait_notice(&en, back + 1, PRIMARY " was pulled out") >= 0);
}

/* ukeyd comes back and reads its tokens slowly (socket activation, a slow
 * token): the tokens it has not read yet are not taken as pulled out, nor
 * announced again once read; one pulled out while it was away is told,
 * once the scan is over. */
static void test_daemon_back_scanning_slowly(void **state)
{
	int start = notices_so_far(&en), away, back, gone;

	/* Plugged in now: the secondary, the renewal token and the hostile
	 * one (test_plug_in, test_daemon_away_and_back). */
	assert_int_equal(harness_stop_daemon(&h), 0);
	away = wait_notice(&en, start, "The CA token service (ukeyd) stopped");
	assert_true(away >= 0);
	assert_int_equal(harness_set_plugged(&h, HOSTILE, false), 0);
	/* Some 2 s a token: the two left take 4 s to read. */
	assert_int_equal(harness_set_faults(&h, "C_FindObjectsInit * delay=2000\n"), 0);
	assert_int_equal(start_daemon_until(false), 0);
	back = wait_notice(&en, away + 1, "The CA token service (ukeyd) is back");
	assert_true(back >= 0);
	/* The agent listed while ukeyd was still reading (else this test
	 * shows nothing). */
	assert_true(still_scanning());
	assert_true(scan_over());
	gone = wait_notice(&en, back + 1, HOSTILE_SHOWN " was pulled out");
	assert_true(gone >= 0);
	assert_true(wait_notice(&zh, 0, HOSTILE_SHOWN "已拔出") >= 0);
	sleep_ms(1500);
	/* Nothing else: no token still plugged in was told pulled out or
	 * plugged in. */
	assert_int_equal(count_notices(&en, back + 1, "pulled out"), 1);
	assert_int_equal(count_notices(&en, back + 1, "ready to bid"), 0);
	assert_int_equal(notices_so_far(&en), gone + 1);
	assert_int_equal(harness_set_faults(&h, ""), 0);
}

/* --once right after ukeyd started (by its socket): it waits for the first
 * scan, up to 3 s, and tells every token; longer, it tells those read so
 * far, says so, and does not claim all is ready. */
static void test_once_waits_for_first_scan(void **state)
{
	const char *argv[] = {getenv("UKEY_NOTIFY"), "--once", "--socket", h.socket, NULL};
	const char *env[] = {"LANG=C.UTF-8", "LC_ALL=", "LANGUAGE=", NULL};
	char cmd[600];
	int status;
	char *out;

	/* The secondary and the renewal token, 1 s each. */
	assert_int_equal(harness_stop_daemon(&h), 0);
	assert_int_equal(harness_set_faults(&h, "C_FindObjectsInit * delay=1000\n"), 0);
	assert_int_equal(start_daemon_until(false), 0);
	out = harness_run(argv, env, &status);
	assert_int_equal(status, 1);
	assert_non_null(strstr(out, "[normal] " SECONDARY ": ready to bid, with warnings\n"));
	assert_non_null(strstr(out, "[normal] " RENEWAL ": ready to bid, with warnings\n"));
	free(out);

	/* 4 s each: past the wait. */
	assert_true(scan_over());
	assert_int_equal(harness_stop_daemon(&h), 0);
	assert_int_equal(harness_set_faults(&h, "C_FindObjectsInit * delay=4000\n"), 0);
	assert_int_equal(start_daemon_until(false), 0);
	snprintf(cmd, sizeof(cmd), "LANG=C.UTF-8 LC_ALL= LANGUAGE= %s --once --socket %s 2>&1",
		 getenv("UKEY_NOTIFY"), h.socket);
	out = harness_sh(cmd, &status);
	assert_int_equal(status, 1);
	assert_non_null(strstr(out, "ukeyd is still reading the tokens"));
	assert_null(strstr(out, RENEWAL));
	free(out);
	assert_int_equal(harness_set_faults(&h, ""), 0);
	assert_true(scan_over());
}

/* The session ends (its bus goes away): the agent exits with status 0. A
 * SIGTERM (systemd stopping the unit) too. */
static void test_exits_with_session(void **state)
{
	long bus = read_number(en.dir, "bus.pid"), agent = read_number(zh.dir, "agent.pid");
	char log[256];

	assert_true(bus > 0 && agent > 0);
	assert_int_equal(kill((pid_t)bus, SIGTERM), 0);
	assert_int_equal(agent_status(&en), 0);
	snprintf(log, sizeof(log), "%s/agent.log", en.dir);
	assert_true(harness_file_contains(log, "the session bus closed"));
	assert_int_equal(kill((pid_t)agent, SIGTERM), 0);
	assert_int_equal(agent_status(&zh), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plug_in),
		cmocka_unit_test(test_pull_and_plug),
		cmocka_unit_test(test_once),
		cmocka_unit_test(test_second_agent_leaves),
		cmocka_unit_test(test_daemon_away_and_back),
		cmocka_unit_test(test_daemon_back_scanning_slowly),
		cmocka_unit_test(test_once_waits_for_first_scan),
		cmocka_unit_test(test_exits_with_session),
	};
	const char *why = missing_tools();

	if (why) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	return HARNESS_RUN_TESTS("notify", tests, group_setup, group_teardown);
}
