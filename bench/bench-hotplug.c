/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hotplug latency: from the kernel's uevent (faked by umockdev) to the
 * token_added / token_removed event at a libukey client, over N plug
 * cycles of a fake Feitian ePass2003 whose token (SoftHSM behind the
 * p11-unplug wrapper) is in while the device is. In the same cycles a bare
 * libusb hotplug listener in another process measures the floor: how
 * long the uevent takes to reach any libusb program at all. ukeyd's own
 * cost is the difference (a rescan of the module and the event).
 *
 * Runs under umockdev-wrapper (bench/run-bench.sh does that):
 *   bench-hotplug UKEYD P11_UNPLUG_SO CA_PROFILES KNOWN_TOKENS WORKDIR LABEL CYCLES
 * with SOFTHSM2_CONF set and LABEL a token of it.
 *
 * With --real-tokens it measures what a counter clerk feels with tokens
 * that take 20 ms per device call (p11-unplug's delays on C_GetTokenInfo,
 * C_OpenSession, C_FindObjects*, C_GetAttributeValue, C_Login, C_SetPIN,
 * C_InitPIN), N of them on a hub (tokens of bench/provision-ca-tokens.sh):
 * the first complete list, a token pulled out and plugged in among N-1
 * others, a PIN change and an unlock among them, and a token its module
 * shows only 300 ms after its USB device:
 *   bench-hotplug --real-tokens UKEYD P11_UNPLUG_SO CA_PROFILES KNOWN_TOKENS WORKDIR N
 */
#include <errno.h>
#include <stdbool.h>
#include <libusb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <umockdev.h>
#include <unistd.h>

#include <ukey/ukey.h>

#define DEVICE_PATH "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2"
#define DEVICE                                                                                     \
	"P: /devices/pci0000:00/0000:00:14.0/usb1/1-2\n"                                           \
	"N: bus/usb/001/005\n"                                                                     \
	"E: SUBSYSTEM=usb\n"                                                                       \
	"E: DEVTYPE=usb_device\n"                                                                  \
	"E: DEVNAME=/dev/bus/usb/001/005\n"                                                        \
	"E: BUSNUM=001\n"                                                                          \
	"E: DEVNUM=005\n"                                                                          \
	"A: busnum=1\n"                                                                            \
	"A: devnum=5\n"                                                                            \
	"A: speed=12\n"                                                                            \
	"A: bConfigurationValue=1\n"                                                               \
	"A: idVendor=096e\n"                                                                       \
	"A: idProduct=0807\n"                                                                      \
	"H: descriptors=12010002000000406E090708000101020301"                                      \
	"09021200010100803209040000000B000000\n"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("%-34s p50 %8.2f ms   p99 %8.2f ms   max %8.2f ms   (n=%zu)\n", what,
	       (double)v[n / 2] / 1e6, (double)v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1e6,
	       (double)v[n - 1] / 1e6, n);
}

/* The floor: a bare libusb listener writes the monotonic time of every
 * arrival or departure it hears to fd. */
static int LIBUSB_CALL on_usb(libusb_context *ctx, libusb_device *dev, libusb_hotplug_event e,
			      void *userdata)
{
	uint64_t t = now_ns();

	if (write(*(int *)userdata, &t, sizeof(t)) != sizeof(t))
		_exit(1);
	return 0;
}

/* bench-hotplug --listen FD: the listener, in a process of its own (a
 * forked copy of this one, with the testbed's state, hears nothing). */
static int run_listener(int fd)
{
	libusb_context *ctx;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (libusb_init(&ctx) < 0 ||
	    libusb_hotplug_register_callback(
		    ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0,
		    0x096e, 0x0807, LIBUSB_HOTPLUG_MATCH_ANY, on_usb, &fd, NULL) < 0)
		return 1;
	for (;;)
		libusb_handle_events(ctx);
}

static pid_t start_listener(const char *self, int *ret_fd)
{
	char fd_text[16];
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		snprintf(fd_text, sizeof(fd_text), "%d", p[1]);
		execl(self, self, "--listen", fd_text, NULL);
		_exit(127);
	}
	close(p[1]);
	*ret_fd = p[0];
	return pid;
}

struct wait_for {
	enum ukey_event_type type;
	uint64_t at;
};

static void on_event(ukey_client *c, const ukey_event *e, void *userdata)
{
	struct wait_for *w = userdata;

	if (ukey_event_get_type(e) == w->type && !w->at)
		w->at = now_ns();
}

static int wait_event(ukey_client *c, struct wait_for *w, int timeout_ms)
{
	for (uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000u; !w->at;) {
		struct pollfd p = {.fd = ukey_client_get_fd(c), .events = POLLIN};

		if (now_ns() > end)
			return -1;
		poll(&p, 1, 20);
		ukey_client_dispatch(c);
	}
	return 0;
}

static int set_unplugged(const char *file, const char *label, int out)
{
	FILE *f = fopen(file, "we");

	if (!f)
		return -1;
	if (out)
		fprintf(f, "%s\n", label);
	return fclose(f);
}

/* ------------------------------------------------ tokens at real speed */

#define DELAY_MS 20
#define SO_PIN "5720381694026153"

static const char *const slow_calls[] = {
	"C_GetTokenInfo", "C_OpenSession",	"C_FindObjectsInit",
	"C_FindObjects",  "C_FindObjectsFinal", "C_GetAttributeValue",
	"C_Login",	  "C_SetPIN",		"C_InitPIN",
};

static void token_label(int i, char *out, size_t size)
{
	if (i == 1)
		snprintf(out, size, "国信CA测试主锁");
	else
		snprintf(out, size, "CA锁%02d", i);
}

/* The unplug file: tokens after the first n (of 32 provisioned) out, and
 * token `out` (1-based, 0 for none) out too. */
static int set_present(const char *file, int n, int out)
{
	char label[64], tmp[300];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", file);
	f = fopen(tmp, "we");
	if (!f)
		return -1;
	for (int i = 1; i <= 64; i++) {
		token_label(i, label, sizeof(label));
		if (i > n || i == out)
			fprintf(f, "%s\n", label);
	}
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, file);
}

static double ms_since(uint64_t t0)
{
	return (double)(now_ns() - t0) / 1e6;
}

static const char *goal(double v, double limit)
{
	return v <= limit ? "met" : "NOT met";
}

/* The serial of the token labeled label in the list, into out. */
static int serial_of(ukey_client *c, const char *label, char *out, size_t size)
{
	ukey_token_list *list = NULL;
	int r = -1;

	if (ukey_client_list_tokens(c, &list) != UKEY_OK)
		return -1;
	for (size_t i = 0; i < ukey_token_list_get_count(list); i++) {
		ukey_token *t = ukey_token_list_get(list, i);
		if (strcmp(ukey_token_get_label(t), label) == 0) {
			snprintf(out, size, "%s", ukey_token_get_serial(t));
			r = 0;
		}
	}
	ukey_token_list_unref(list);
	return r;
}

static int run_real_tokens(char **argv)
{
	const char *ukeyd = argv[2], *module = argv[3], *profiles = argv[4], *known = argv[5],
		   *work = argv[6];
	int n = atoi(argv[7]), status;
	char sock[256], state[256], unplug[256], faults[256], log[256], env_unplug[300],
		env_faults[300], last[64], first[64], serial[64];
	double first_list, removed, added, late, change, unlock;
	ukey_token_list *list = NULL;
	size_t listed = 0;
	UMockdevTestbed *tb = umockdev_testbed_new();
	ukey_client *c = NULL;
	struct wait_for w;
	uint64_t t0;
	pid_t daemon;
	FILE *f;

	if (n < 1 || n > 32 || !tb || !umockdev_in_mock_environment())
		return 2;
	snprintf(sock, sizeof(sock), "%s/real-%d.sock", work, n);
	snprintf(state, sizeof(state), "%s/real-%d-state", work, n);
	snprintf(unplug, sizeof(unplug), "%s/real-unplugged", work);
	snprintf(faults, sizeof(faults), "%s/real-faults", work);
	snprintf(log, sizeof(log), "%s/real-%d.log", work, n);
	snprintf(env_unplug, sizeof(env_unplug), "P11_UNPLUG_FILE=%s", unplug);
	snprintf(env_faults, sizeof(env_faults), "P11_UNPLUG_FAULTS=%s", faults);
	f = fopen(faults, "we");
	if (!f)
		return 1;
	for (size_t i = 0; i < sizeof(slow_calls) / sizeof(slow_calls[0]); i++)
		fprintf(f, "%s * delay=%d\n", slow_calls[i], DELAY_MS);
	if (fclose(f) != 0 || set_present(unplug, n, 0) < 0)
		return 1;
	token_label(n, last, sizeof(last));
	token_label(1, first, sizeof(first));
	/* The last token's USB device is there from the start. */
	if (!umockdev_testbed_add_from_string(tb, DEVICE, NULL))
		return 1;

	t0 = now_ns();
	daemon = fork();
	if (daemon == 0) {
		FILE *e = freopen(log, "w", stderr);
		(void)e;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		putenv(env_unplug);
		putenv(env_faults);
		execl(ukeyd, "ukeyd", "--config", "/dev/null", "--socket", sock, "--state-dir",
		      state, "--ca-profiles", profiles, "--known-tokens", known,
		      "--known-tokens-dir", "/nonexistent", "--module", module, NULL);
		_exit(127);
	}
	for (int i = 0; i < 2000 && ukey_client_new(sock, &c) != UKEY_OK; i++)
		poll(NULL, 0, 5);
	if (!c)
		return 1;
	/* The first complete list: asked for until it is no longer partial. */
	for (;;) {
		if (ukey_client_list_tokens(c, &list) != UKEY_OK)
			return 1;
		if (!ukey_token_list_is_scanning(list))
			break;
		ukey_token_list_unref(list);
		poll(NULL, 0, 5);
	}
	first_list = ms_since(t0);
	for (size_t i = 0; i < ukey_token_list_get_count(list); i++)
		listed += ukey_token_is_initialized(ukey_token_list_get(list, i));
	ukey_token_list_unref(list);
	if (listed != (size_t)n) {
		fprintf(stderr, "%zu tokens listed, %d expected; see %s\n", listed, n, log);
		return 1;
	}
	if (serial_of(c, first, serial, sizeof(serial)) < 0 ||
	    ukey_client_subscribe(c, on_event, &w))
		return 1;

	/* Pulled out: the departure's rescan sees the slot gone first. */
	w = (struct wait_for){UKEY_EVENT_TOKEN_REMOVED, 0};
	set_present(unplug, n, n);
	t0 = now_ns();
	umockdev_testbed_uevent(tb, DEVICE_PATH, "remove");
	umockdev_testbed_remove_device(tb, DEVICE_PATH);
	if (wait_event(c, &w, 20000) < 0)
		return 1;
	removed = (double)(w.at - t0) / 1e6;

	/* Plugged in among the others, a moment later: read at once. */
	poll(NULL, 0, 1000);
	w = (struct wait_for){UKEY_EVENT_TOKEN_ADDED, 0};
	set_present(unplug, n, 0);
	t0 = now_ns();
	if (!umockdev_testbed_add_from_string(tb, DEVICE, NULL) || wait_event(c, &w, 20000) < 0)
		return 1;
	added = (double)(w.at - t0) / 1e6;

	/* A PIN job on one token, the hub settled: the others are not read
	 * again. */
	poll(NULL, 0, 1000);
	t0 = now_ns();
	if (ukey_client_change_pin(c, serial, "123456", "802514", 0) != UKEY_OK)
		return 1;
	change = ms_since(t0);
	t0 = now_ns();
	if (ukey_client_unlock_pin(c, serial, SO_PIN, NULL, 0) != UKEY_OK)
		return 1;
	unlock = ms_since(t0);

	/* Out, then the USB device first and the token 300 ms later, as a
	 * module that sees it late. */
	w = (struct wait_for){UKEY_EVENT_TOKEN_REMOVED, 0};
	set_present(unplug, n, n);
	umockdev_testbed_uevent(tb, DEVICE_PATH, "remove");
	umockdev_testbed_remove_device(tb, DEVICE_PATH);
	if (wait_event(c, &w, 20000) < 0)
		return 1;
	poll(NULL, 0, 500); /* nothing owed any more */
	w = (struct wait_for){UKEY_EVENT_TOKEN_ADDED, 0};
	t0 = now_ns();
	if (!umockdev_testbed_add_from_string(tb, DEVICE, NULL))
		return 1;
	poll(NULL, 0, 300);
	set_present(unplug, n, 0);
	if (wait_event(c, &w, 30000) < 0)
		return 1;
	late = (double)(w.at - t0) / 1e6;

	printf("%2d token(s), %d ms per device call:\n", n, DELAY_MS);
	printf("  first complete list after start      %8.0f ms\n", first_list);
	printf("  pull one: uevent -> token_removed     %8.0f ms   (goal <= 100 ms: %s)\n", removed,
	       goal(removed, 100));
	printf("  plug one: uevent -> token_added       %8.0f ms   (goal <= 500 ms: %s)\n", added,
	       goal(added, 500));
	printf("  PIN change, %2d other token(s)        %8.0f ms\n", n - 1, change);
	printf("  unlock (SO PIN), %2d other token(s)   %8.0f ms\n", n - 1, unlock);
	printf("  token shown 300 ms late -> token_added %7.0f ms\n", late);
	fflush(stdout);
	ukey_client_unref(c);
	kill(daemon, SIGTERM);
	waitpid(daemon, &status, 0);
	g_object_unref(tb);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *ukeyd, *module, *profiles, *known, *work, *label;
	char sock[256], state[256], unplug[256], env_unplug[300], log[256];
	uint64_t *add, *rem, *add_floor, *rem_floor;
	UMockdevTestbed *tb;
	ukey_client *c = NULL;
	int cycles, floor_fd = -1, status;
	pid_t daemon, listener;

	if (argc == 3 && strcmp(argv[1], "--listen") == 0)
		return run_listener(atoi(argv[2]));
	if (argc == 8 && strcmp(argv[1], "--real-tokens") == 0)
		return run_real_tokens(argv);
	if (argc != 8) {
		fprintf(stderr,
			"usage: %s UKEYD P11_UNPLUG_SO CA_PROFILES KNOWN_TOKENS WORKDIR "
			"LABEL CYCLES\n",
			argv[0]);
		return 2;
	}
	ukeyd = argv[1], module = argv[2], profiles = argv[3], known = argv[4], work = argv[5];
	label = argv[6];
	cycles = atoi(argv[7]);
	if (cycles < 1)
		return 2;
	add = calloc((size_t)cycles, sizeof(*add));
	rem = calloc((size_t)cycles, sizeof(*rem));
	add_floor = calloc((size_t)cycles, sizeof(*add_floor));
	rem_floor = calloc((size_t)cycles, sizeof(*rem_floor));
	if (!add || !rem || !add_floor || !rem_floor)
		return 1;

	tb = umockdev_testbed_new();
	if (!tb || !umockdev_in_mock_environment()) {
		fprintf(stderr, "not under umockdev-wrapper\n");
		return 1;
	}
	snprintf(sock, sizeof(sock), "%s/hotplug.sock", work);
	snprintf(state, sizeof(state), "%s/hotplug-state", work);
	snprintf(unplug, sizeof(unplug), "%s/unplugged", work);
	snprintf(env_unplug, sizeof(env_unplug), "P11_UNPLUG_FILE=%s", unplug);
	snprintf(log, sizeof(log), "%s/hotplug.log", work);
	if (set_unplugged(unplug, label, 1) < 0)
		return 1;

	daemon = fork();
	if (daemon == 0) {
		FILE *f = freopen(log, "w", stderr);
		(void)f;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		putenv(env_unplug);
		execl(ukeyd, "ukeyd", "--config", "/dev/null", "--socket", sock, "--state-dir",
		      state, "--ca-profiles", profiles, "--known-tokens", known,
		      "--known-tokens-dir", "/nonexistent", "--module", module, NULL);
		_exit(127);
	}
	listener = start_listener(argv[0], &floor_fd);
	if (listener < 0)
		return 1;
	for (int i = 0; i < 200 && ukey_client_new(sock, &c) != UKEY_OK; i++)
		poll(NULL, 0, 50);
	if (!c) {
		fprintf(stderr, "ukeyd did not start; see %s\n", log);
		return 1;
	}
	/* The first scan is in when the list is no longer partial. */
	for (bool scanning = true; scanning;) {
		ukey_token_list *list = NULL;
		if (ukey_client_list_tokens(c, &list) != UKEY_OK)
			return 1;
		scanning = ukey_token_list_is_scanning(list);
		ukey_token_list_unref(list);
		if (scanning)
			poll(NULL, 0, 20);
	}
	poll(NULL, 0, 300); /* the listener has registered by now */
	struct wait_for w;
	if (ukey_client_subscribe(c, on_event, &w) != UKEY_OK)
		return 1;

	for (int i = 0; i < cycles; i++) {
		uint64_t t0, seen;

		w = (struct wait_for){UKEY_EVENT_TOKEN_ADDED, 0};
		set_unplugged(unplug, label, 0);
		/* Adding the device sends its "add" uevent already. */
		t0 = now_ns();
		if (!umockdev_testbed_add_from_string(tb, DEVICE, NULL))
			return 1;
		if (wait_event(c, &w, 10000) < 0) {
			fprintf(stderr, "cycle %d: no token_added; see %s\n", i, log);
			return 1;
		}
		add[i] = w.at - t0;
		if (read(floor_fd, &seen, sizeof(seen)) != sizeof(seen))
			return 1;
		add_floor[i] = seen - t0;

		w = (struct wait_for){UKEY_EVENT_TOKEN_REMOVED, 0};
		set_unplugged(unplug, label, 1);
		t0 = now_ns();
		umockdev_testbed_uevent(tb, DEVICE_PATH, "remove");
		umockdev_testbed_remove_device(tb, DEVICE_PATH);
		if (wait_event(c, &w, 10000) < 0) {
			fprintf(stderr, "cycle %d: no token_removed; see %s\n", i, log);
			return 1;
		}
		rem[i] = w.at - t0;
		if (read(floor_fd, &seen, sizeof(seen)) != sizeof(seen))
			return 1;
		rem_floor[i] = seen - t0;
	}
	report("uevent add -> token_added", add, (size_t)cycles);
	report("  floor: -> bare libusb callback", add_floor, (size_t)cycles);
	report("uevent remove -> token_removed", rem, (size_t)cycles);
	report("  floor: -> bare libusb callback", rem_floor, (size_t)cycles);

	ukey_client_unref(c);
	kill(listener, SIGKILL);
	kill(daemon, SIGTERM);
	waitpid(listener, &status, 0);
	waitpid(daemon, &status, 0);
	g_object_unref(tb);
	free(add), free(rem), free(add_floor), free(rem_floor);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
