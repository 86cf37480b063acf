/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * USB hotplug end to end. umockdev fakes /sys and the kernel's uevents,
 * so the real ukeyd, under umockdev-wrapper, sees a Feitian ePass2003
 * (096e:0807) or a Longmai GM3000 (055c:db08) arrive and leave through
 * libusb. The token behind the device is a SoftHSM token that the
 * p11-unplug wrapper module shows only while the test says it is plugged
 * in, as a vendor module shows a real one. A libukey client and `ukeyctl
 * --json watch` must hear token_added and token_removed with the token's
 * serial within a bounded time, and a device not in the known-token table
 * must trigger nothing. An ePass3000GM (096e:0309) arrives the same way
 * behind the SKF test double, mapped to it by the table's skf = entry
 * (the double's own device events are off here: USB alone tells); that
 * case alone skips when the double or the real seals of shared/testdata
 * are missing.
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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <umockdev.h>
#include <ukey/ukey.h>

#include "harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Arrival to event: one rescan normally (well under a second); a token
 * the module shows late needs the retries. */
#define EVENT_TIMEOUT_MS 8000

static struct harness h;
static UMockdevTestbed *testbed;
static char watch_out[160];
static pid_t watcher = -1;
/* Why the SKF double has no token here, or NULL. */
static const char *skf_missing;

static const char *const tokens[] = {"ePass测试锁", "GM3000测试锁", "无关锁"};

/* The sysfs path of a fake USB device on bus 1, port port. */
static void device_path(int port, char *out, size_t size)
{
	snprintf(out, size, "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-%d", port);
}

/* A full-speed USB device with its descriptors, as libusb reads them from
 * sysfs: the device descriptor (VID:PID inside) and one configuration
 * with one interface of the given class. */
static void add_device_silently(int port, unsigned vid, unsigned pid, unsigned iface_class)
{
	char text[1024];
	GError *error = NULL;

	snprintf(text, sizeof(text),
		 "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%d\n"
		 "N: bus/usb/001/%03d\n"
		 "E: SUBSYSTEM=usb\n"
		 "E: DEVTYPE=usb_device\n"
		 "E: DEVNAME=/dev/bus/usb/001/%03d\n"
		 "E: BUSNUM=001\n"
		 "E: DEVNUM=%03d\n"
		 "A: busnum=1\n"
		 "A: devnum=%d\n"
		 "A: speed=12\n"
		 "A: bConfigurationValue=1\n"
		 "A: idVendor=%04x\n"
		 "A: idProduct=%04x\n"
		 /* idVendor and idProduct little-endian at bytes 8..11 */
		 "H: descriptors=1201000200000040%02X%02X%02X%02X000101020301"
		 "0902120001010080320904000000%02X000000\n",
		 port, port + 10, port + 10, port + 10, port + 10, vid, pid, vid & 0xff, vid >> 8,
		 pid & 0xff, pid >> 8, iface_class);
	assert_true(umockdev_testbed_add_from_string(testbed, text, &error));
}

static void send_uevent(int port, const char *action)
{
	char path[128];

	device_path(port, path, sizeof(path));
	umockdev_testbed_uevent(testbed, path, action);
}

static void add_device(int port, unsigned vid, unsigned pid, unsigned iface_class)
{
	add_device_silently(port, vid, pid, iface_class);
	send_uevent(port, "add");
}

/* As the kernel does: the remove uevent while sysfs still has it. */
static void remove_device(int port)
{
	char path[128];

	send_uevent(port, "remove");
	device_path(port, path, sizeof(path));
	umockdev_testbed_remove_device(testbed, path);
}

static int group_setup(void **state)
{
	const char *args[] = {"--module", getenv("P11_UNPLUG"), "-v", NULL, NULL, NULL};
	const char *const env[] = {h.unplug_env, h.skf_dir_env, h.skf_faults_env, NULL};
	char known[256];
	FILE *f;

	/* The double is loaded whenever it was built, with no device when
	 * the real seals its devices hold are missing. */
	if (getenv("SKF_SOFT")) {
		args[3] = "--skf";
		args[4] = getenv("SKF_SOFT");
	}
	skf_missing = harness_skf_missing();

	if (harness_setup(&h, "primary") < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(tokens); i++)
		if (harness_shf("SOFTHSM2_CONF=%s softhsm2-util --init-token --free --label '%s' "
				"--so-pin 5720381694026153 --pin 123456 >/dev/null",
				h.softhsm_conf, tokens[i]) != 0 ||
		    harness_set_plugged(&h, tokens[i], false) < 0)
			return -1;
	/* An administrator maps the ePass2003 to the wrapper module (by file
	 * name, as the shipped table names vendor modules); the GM3000 keeps
	 * its vendor module, which is not loaded, so every module is rescanned. */
	snprintf(known, sizeof(known), "%s/local.conf", h.known_tokens_dir);
	f = fopen(known, "we");
	if (!f)
		return -1;
	fprintf(f, "[096e:0807]\nmodules = p11-unplug.so\n[096e:0309]\nskf = skf-soft.so\n");
	if (fclose(f) != 0)
		return -1;
	/* An SKF token, out of its reader until its USB device arrives; the
	 * library's own device events off. */
	if (skf_missing) {
		if (harness_shf("mkdir -p '%s/devices'", h.skf_dir) != 0)
			return -1;
	} else if (harness_skf_provision(&h, "primary", NULL) < 0 ||
		   harness_skf_set_plugged(&h, "dev0", false) < 0)
		return -1;
	if (harness_skf_set_faults(&h, "SKF_WaitForDevEvent * rv=0x0A000001\n") < 0)
		return -1;

	testbed = umockdev_testbed_new();
	if (!testbed)
		return -1;
	if (harness_start_daemon(&h, args, env) < 0)
		return -1;

	/* ukeyctl watch follows along from the start. */
	snprintf(watch_out, sizeof(watch_out), "%s/watch.out", h.dir);
	int fd = open(watch_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	watcher = fork();
	if (watcher == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, STDOUT_FILENO);
		execl(getenv("UKEYCTL"), "ukeyctl", "--socket", h.socket, "--json", "watch", NULL);
		_exit(127);
	}
	close(fd);
	return watcher > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	int status = -1;

	if (watcher > 0) {
		kill(watcher, SIGTERM);
		waitpid(watcher, &status, 0);
	}
	if (testbed)
		g_object_unref(testbed);
	return harness_finish(&h) == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Whether `ukeyctl --json watch` printed this event for this serial. */
static bool watch_printed(const char *event, const char *serial)
{
	char *line = NULL;
	size_t len = 0;
	bool found = false;
	FILE *f = fopen(watch_out, "re");

	while (f && !found && getline(&line, &len, f) > 0) {
		json_object *e = json_tokener_parse(line), *v, *s;
		found = e && json_object_object_get_ex(e, "event", &v) &&
			json_object_object_get_ex(e, "serial", &s) &&
			strcmp(json_object_get_string(v), event) == 0 &&
			strcmp(json_object_get_string(s), serial) == 0;
		json_object_put(e);
	}
	free(line);
	if (f)
		fclose(f);
	return found;
}

static void wait_watch_printed(const char *event, const char *serial)
{
	for (int i = 0; i < 50 && !watch_printed(event, serial); i++)
		poll(NULL, 0, 100);
	assert_true(watch_printed(event, serial));
}

static void test_epass_arrives_and_leaves(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);
	char serial[64];

	/* The token is in its reader when the USB device shows up, as a
	 * module sees it once the device is there. */
	assert_int_equal(harness_set_plugged(&h, "ePass测试锁", true), 0);
	add_device(3, 0x096e, 0x0807, 0x0b);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_ADDED, NULL, EVENT_TIMEOUT_MS) >=
		    0);
	assert_int_equal(harness_token_serial(&h, "ePass测试锁", serial, sizeof(serial)), 0);
	assert_string_equal(s.serials[0], serial);
	assert_int_equal(s.n, 1);
	/* The administrator's mapping was used. */
	assert_true(harness_file_contains(h.log, "(096e:0807) arrived at bus 1 address 13; "
						 "rescanning its modules"));
	wait_watch_printed("token_added", serial);

	assert_int_equal(harness_set_plugged(&h, "ePass测试锁", false), 0);
	remove_device(3);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_REMOVED, serial,
					EVENT_TIMEOUT_MS) >= 0);
	wait_watch_printed("token_removed", serial);
	/* Gone from the cache too. */
	assert_int_equal(harness_token_serial(&h, "ePass测试锁", serial, sizeof(serial)), -1);
	ukey_client_unref(c);
}

/* A GM3000 whose module sees the token only 1.5 s after the USB device
 * appears: ukeyd keeps rescanning until it does. Its vendor module is not
 * loaded, so every loaded module is rescanned. */
static void test_gm3000_seen_late_by_its_module(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);
	char serial[64];

	add_device(4, 0x055c, 0xdb08, 0x08);
	harness_events_collect(c, 1500);
	assert_int_equal(s.n, 0);
	assert_int_equal(harness_set_plugged(&h, "GM3000测试锁", true), 0);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_ADDED, NULL, EVENT_TIMEOUT_MS) >=
		    0);
	assert_int_equal(harness_token_serial(&h, "GM3000测试锁", serial, sizeof(serial)), 0);
	assert_string_equal(s.serials[0], serial);
	assert_true(harness_file_contains(h.log, "(055c:db08) arrived at bus 1 address 14; "
						 "rescanning every module"));

	/* The same arrival reported again after the token is in: no second
	 * token_added. */
	send_uevent(4, "add");
	harness_events_collect(c, 1000);
	assert_int_equal(harness_events_count(&s, UKEY_EVENT_TOKEN_ADDED, serial), 1);

	/* A departure reported twice, and one of a token never announced:
	 * harmless. */
	assert_int_equal(harness_set_plugged(&h, "GM3000测试锁", false), 0);
	send_uevent(4, "remove");
	remove_device(4);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_REMOVED, serial,
					EVENT_TIMEOUT_MS) >= 0);
	add_device_silently(9, 0x096e, 0x0807, 0x0b);
	remove_device(9);
	harness_events_collect(c, 500);
	assert_int_equal(harness_events_count(&s, UKEY_EVENT_TOKEN_REMOVED, serial), 1);
	assert_int_equal(s.n, 2);
	ukey_client_unref(c);
}

/* A USB mouse is not a token: even with a token waiting in the module,
 * its arrival triggers no rescan, so nothing is announced. */
static void test_unknown_device_triggers_nothing(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);

	assert_int_equal(harness_set_plugged(&h, "无关锁", true), 0);
	add_device(5, 0x046d, 0xc077, 0x03);
	harness_events_collect(c, 2000);
	assert_int_equal(s.n, 0);
	assert_false(harness_file_contains(h.log, "046d:c077) arrived"));
	/* The token was there all along: a refresh finds it, so the silence
	 * above was the daemon's, not the module's. */
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_ADDED, NULL, EVENT_TIMEOUT_MS) >=
		    0);
	remove_device(5);
	assert_int_equal(harness_set_plugged(&h, "无关锁", false), 0);
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	ukey_client_unref(c);
}

/* A module that sees only the tokens present when it was initialized
 * (plain SoftHSM, like some vendor modules): a token made while ukeyd runs
 * arrives within 3 s of its USB device, because ukeyd re-initializes the
 * module when retries show nothing, and the tokens it had keep their
 * identity (no removal, no second arrival). A second ukeyd of its own, on
 * a device only its known-token table names. */
static void test_token_seen_only_at_initialize(void **state)
{
	const char *const args[] = {"--module", SOFTHSM_MODULE, "-v", NULL};
	struct harness_events s = {0};
	struct harness late;
	char known[256], env_conf[200], serial[64];
	const char *env[] = {env_conf, NULL};
	struct timespec t0, t1;
	ukey_client *c;
	FILE *f;
	int i;

	assert_int_equal(harness_setup(&late, "primary"), 0);
	snprintf(env_conf, sizeof(env_conf), "SOFTHSM2_CONF=%s", late.softhsm_conf);
	snprintf(known, sizeof(known), "%s/local.conf", late.known_tokens_dir);
	f = fopen(known, "we");
	assert_non_null(f);
	fprintf(f, "[1234:5678]\nvendor = 测试厂\nproduct = 迟到型\nclass = ccid\n"
		   "modules = libsofthsm2.so\n");
	assert_int_equal(fclose(f), 0);
	assert_int_equal(harness_start_daemon(&late, args, env), 0);
	c = harness_subscribed_client(&late, &s);

	assert_int_equal(harness_shf("SOFTHSM2_CONF=%s softhsm2-util --init-token --free --label "
				     "迟到锁 --so-pin 5720381694026153 --pin 123456 >/dev/null",
				     late.softhsm_conf),
			 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	add_device(6, 0x1234, 0x5678, 0x0b);
	i = harness_events_wait(c, &s, UKEY_EVENT_TOKEN_ADDED, NULL, 5000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(i >= 0);
	assert_int_equal(harness_token_serial(&late, "迟到锁", serial, sizeof(serial)), 0);
	assert_string_equal(s.serials[i], serial);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 3000);
	assert_true(harness_file_contains(late.log, "re-initializing it"));
	/* The primary was there all along: not gone, not new. */
	harness_events_collect(c, 500);
	assert_int_equal(harness_events_count(&s, UKEY_EVENT_TOKEN_REMOVED, NULL), 0);
	assert_int_equal(harness_events_count(&s, UKEY_EVENT_TOKEN_ADDED, NULL), 1);
	remove_device(6);
	ukey_client_unref(c);
	assert_int_equal(harness_finish(&late), 0);
}

/* An ePass3000GM behind its SKF library: the table maps the USB device to
 * the loaded SKF library, which alone is rescanned. */
static void test_skf_token_arrives_and_leaves(void **state)
{
	struct harness_events s = {0};
	ukey_client *c;
	char serial[64];

	if (skf_missing) {
		fprintf(stderr, "SKIP: test_skf_token_arrives_and_leaves: %s\n", skf_missing);
		skip();
	}
	c = harness_subscribed_client(&h, &s);
	assert_int_equal(harness_skf_set_plugged(&h, "dev0", true), 0);
	add_device(7, 0x096e, 0x0309, 0xff);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_ADDED, NULL, EVENT_TIMEOUT_MS) >=
		    0);
	assert_int_equal(harness_token_serial(&h, "国信CA测试主锁(SKF)", serial, sizeof(serial)),
			 0);
	assert_string_equal(s.serials[0], serial);
	assert_true(harness_file_contains(h.log, "(096e:0309) arrived at bus 1 address 17; "
						 "rescanning its modules"));

	assert_int_equal(harness_skf_set_plugged(&h, "dev0", false), 0);
	remove_device(7);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_REMOVED, serial,
					EVENT_TIMEOUT_MS) >= 0);
	assert_int_equal(harness_token_serial(&h, "国信CA测试主锁(SKF)", serial, sizeof(serial)),
			 -1);
	ukey_client_unref(c);
}

/* umockdev works by preloading its library into the test and every
 * process it starts: re-run under umockdev-wrapper unless already there. */
static void enter_mock_environment(char **argv)
{
	const char *preload = getenv("LD_PRELOAD");

	if (preload && strstr(preload, "libumockdev-preload"))
		return;
	execvp("umockdev-wrapper", (char *[]){"umockdev-wrapper", argv[0], NULL});
	printf("1..0 # SKIP umockdev-wrapper not found (apt-get install umockdev)\n");
	exit(0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		/* First: a rescan still chasing an earlier arrival or departure
		 * would find its token. */
		cmocka_unit_test(test_unknown_device_triggers_nothing),
		cmocka_unit_test(test_epass_arrives_and_leaves),
		cmocka_unit_test(test_gm3000_seen_late_by_its_module),
		cmocka_unit_test(test_token_seen_only_at_initialize),
		cmocka_unit_test(test_skf_token_arrives_and_leaves),
	};

	enter_mock_environment(argv);
	return HARNESS_RUN_TESTS("hotplug", tests, group_setup, group_teardown);
}
