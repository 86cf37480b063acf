/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SKF libraries that are broken, incomplete or configured in odd ways,
 * against the real ukeyd: a library without a required function, one
 * without the EPS extension, one that is not there; `skf =` in the
 * configuration file and --skf replacing it; the SKF test double's
 * garbage (a name list without its end, a length past the buffer, an
 * endless SAR_BUFFER_TOO_SMALL), a vendor's own error code and a call
 * that hangs, each costing a log line and the token or the library, never
 * the daemon, never the answers about other tokens (a SoftHSM token
 * served beside them); short reads and a library that refuses reads
 * larger than its device's buffer, both read around; a device wait the
 * library will not cancel; and one token reached by a PKCS#11 module and
 * an SKF library at once.
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

#define PRIMARY "国信CA测试主锁" /* the SoftHSM token */
#define MODULE_TIMEOUT_S "2"
#define EVENT_TIMEOUT_MS 5000
/* A cached answer; the bound only tells "at once" from "after the hang",
 * even under ASan. */
#define AT_ONCE_MS 1000

static struct harness h;
static char skf_serial[2][64]; /* dev0, dev1 */
static char p11_serial[64];

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static const char *const skf_env[] = {h.skf_dir_env, h.skf_faults_env, h.skf_log_env, NULL};

static int start(const char *const *args)
{
	return harness_start_daemon(&h, args, skf_env);
}

static int stop(void)
{
	return harness_stop_daemon(&h);
}

static char *device_serial(const char *dev)
{
	char *text = harness_skf_read(&h, dev, "device.json");
	json_object *o = json_tokener_parse(text), *v;
	char *s = NULL;

	if (o && json_object_object_get_ex(o, "serial", &v))
		s = strdup(json_object_get_string(v));
	json_object_put(o);
	free(text);
	return s;
}

static int group_setup(void **state)
{
	char *s;

	if (harness_setup(&h, "primary") < 0 || harness_skf_provision(&h, "primary", NULL) < 0 ||
	    harness_skf_provision(&h, "secondary", NULL) < 0 || harness_skf_set_faults(&h, "") < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		s = device_serial(i ? "dev1" : "dev0");
		if (!s)
			return -1;
		snprintf(skf_serial[i], sizeof(skf_serial[i]), "%s", s);
		free(s);
	}
	return 0;
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

/* Whether ukeyd lists a token with that serial now (and its backend). */
static bool listed(const char *serial, char *backend, size_t size)
{
	ukey_client *c = NULL;
	ukey_token_list *list = NULL;
	bool found = false;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_list_tokens(c, &list), UKEY_OK);
	for (size_t i = 0; i < ukey_token_list_get_count(list); i++) {
		ukey_token *t = ukey_token_list_get(list, i);
		if (strcmp(ukey_token_get_serial(t), serial) != 0)
			continue;
		assert_false(found); /* listed once */
		found = true;
		if (backend)
			snprintf(backend, size, "%s", ukey_token_get_backend(t));
	}
	ukey_token_list_unref(list);
	ukey_client_unref(c);
	return found;
}

static void refresh(void)
{
	ukey_client *c = NULL;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	ukey_client_unref(c);
}

/* A library without SKF_GetPINInfo is skipped, naming it; one without
 * EPS_ReadESealData serves its tokens without the private seal; a path
 * that is no library is skipped. The PKCS#11 token is served throughout. */
static void test_incomplete_libraries(void **state)
{
	const char *const args[] = {"--module", SOFTHSM_MODULE,
				    "--skf",	getenv("SKF_SOFT_NOPININFO"),
				    "--skf",	"/nonexistent/libskf.so",
				    "--skf",	getenv("SKF_SOFT_NOEPS"),
				    "-v",	NULL};
	ukey_client *c = NULL;
	ukey_token *t = NULL;

	assert_int_equal(start(args), 0);
	assert_true(harness_file_contains(h.log, "not a usable SKF library: it lacks "
						 "SKF_GetPINInfo"));
	assert_true(
		harness_file_contains(h.log, "/nonexistent/libskf.so: cannot load SKF library"));
	assert_true(harness_file_contains(h.log, "no EPS_ReadESealData"));
	assert_int_equal(harness_token_serial(&h, PRIMARY, p11_serial, sizeof(p11_serial)), 0);
	assert_true(listed(skf_serial[0], NULL, 0));
	assert_true(listed(skf_serial[1], NULL, 0));

	/* Without the extension a PIN still opens what it opens; no seal. */
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_get_token_with_pin(c, skf_serial[0], "123456", 0, &t),
			 UKEY_OK);
	for (size_t i = 0; i < ukey_token_get_seal_count(t); i++)
		assert_false(ukey_seal_is_private(ukey_token_get_seal(t, i)));
	ukey_token_unref(t);
	ukey_client_unref(c);
	assert_int_equal(harness_skf_calls(&h, "SKF_VerifyPIN", "dev0", 0), 1);
	assert_int_equal(harness_skf_calls(&h, "EPS_ReadESealData", NULL, 0), 0);
	assert_int_equal(stop(), 0);
}

/* skf = PATH in the file; --skf replaces the file's. */
static void test_configuration(void **state)
{
	char conf[256], args_conf[300];
	const char *const from_file[] = {"--config", conf, NULL};
	const char *const replaced[] = {"--config", conf, "--skf", getenv("SKF_SOFT"), NULL};
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/ukeyd.conf", h.dir);
	f = fopen(conf, "we");
	assert_non_null(f);
	fprintf(f, "[ukeyd]\nskf = %s\n", getenv("SKF_SOFT"));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(start(from_file), 0);
	assert_true(listed(skf_serial[0], NULL, 0));
	assert_true(listed(skf_serial[1], NULL, 0));
	assert_int_equal(stop(), 0);

	snprintf(args_conf, sizeof(args_conf), "[ukeyd]\nskf = /nonexistent/libfromfile.so\n");
	f = fopen(conf, "we");
	assert_non_null(f);
	fputs(args_conf, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(start(replaced), 0);
	assert_true(listed(skf_serial[0], NULL, 0));
	assert_false(harness_file_contains(h.log, "libfromfile"));
	assert_int_equal(stop(), 0);
}

/* One fault: set, everything read again, what is served then, the fault
 * gone and everything back. */
struct fault_case {
	const char *faults;
	bool dev0, dev1; /* served while the fault holds */
	const char *logged;
};

static void test_garbage(void **state)
{
	static const struct fault_case cases[] = {
		/* Tolerated: the names in it are whole. */
		{"SKF_EnumDev * garbage=nolistend\n", true, true, NULL},
		{"SKF_EnumFiles * garbage=nolistend\n", true, true, NULL},
		/* A length past the buffer: the token, or the library. */
		{"SKF_ExportCertificate dev0 garbage=lenpast\n", false, true,
		 "failed in SKF_ExportCertificate: a length past the buffer given"},
		{"SKF_EnumDev * garbage=lenpast\n", false, false,
		 "SKF_EnumDev failed: a length past the buffer given; its tokens are not served"},
		/* SAR_BUFFER_TOO_SMALL for ever: one retry, then given up. */
		{"SKF_EnumContainer dev1 garbage=toosmall\n", true, false,
		 "failed in SKF_EnumContainer: a size past any sane bound, or asked for twice"},
		{"SKF_EnumDev * garbage=toosmall\n", false, false,
		 "SKF_EnumDev failed: a size past any sane bound, or asked for twice"},
		{"SKF_ReadFile dev0 garbage=lenpast\n", false, true, "failed in SKF_EnumFiles, "},
		/* A vendor's own code. */
		{"SKF_GetDevInfo dev0 rv=0x0B000035\n", false, true,
		 "device dev0: reading it failed: 0x0B000035"},
		{"SKF_GetPINInfo dev1 rv=0x0B000035\n", true, false,
		 "device dev1: reading it failed: 0x0B000035"},
	};
	const char *const args[] = {
		"--module",	    SOFTHSM_MODULE,   "--skf", getenv("SKF_SOFT"),
		"--module-timeout", MODULE_TIMEOUT_S, "-v",    NULL};
	assert_int_equal(start(args), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fault_case *c = &cases[i];

		fprintf(stderr, "# fault: %s", c->faults);
		assert_int_equal(harness_skf_set_faults(&h, c->faults), 0);
		refresh();
		assert_int_equal(listed(skf_serial[0], NULL, 0), c->dev0);
		assert_int_equal(listed(skf_serial[1], NULL, 0), c->dev1);
		assert_true(listed(p11_serial, NULL, 0));
		if (c->logged)
			assert_true(harness_file_contains(h.log, c->logged));
		assert_int_equal(harness_skf_set_faults(&h, ""), 0);
		refresh();
		assert_true(listed(skf_serial[0], NULL, 0));
		assert_true(listed(skf_serial[1], NULL, 0));
	}
}

/* dev0's seal.esl (17011 bytes) is served whole, and found as the seal. */
static void assert_seal_read_whole(void)
{
	ukey_client *c = NULL;
	ukey_token *t = NULL;
	bool found = false;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_get_token(c, skf_serial[0], &t), UKEY_OK);
	assert_int_equal(ukey_token_get_seal_count(t), 1);
	for (size_t i = 0; i < ukey_token_get_object_count(t); i++)
		if (strcmp(ukey_object_get_label(ukey_token_get_object(t, i)), "seal.esl") == 0) {
			assert_int_equal(ukey_object_get_size(ukey_token_get_object(t, i)), 17011);
			found = true;
		}
	assert_true(found);
	ukey_token_unref(t);
	ukey_client_unref(c);
}

/* A token that moves data in pieces (the double's max_read: every
 * SKF_ReadFile returns at most that many bytes): the file is read whole
 * in as many calls, and the real seal in it is still found. */
static void test_short_reads(void **state)
{
	int from;

	assert_int_equal(
		harness_shf("python3 -c 'import json,sys; p=sys.argv[1]; d=json.load(open(p)); "
			    "d[\"max_read\"]=1000; json.dump(d, open(p, \"w\"))' "
			    "%s/devices/dev0/device.json",
			    h.skf_dir),
		0);
	from = harness_skf_log_lines(&h);
	refresh();
	/* seal.esl is 17011 bytes, vendor.ini 25. */
	assert_true(harness_skf_calls(&h, "SKF_ReadFile", "dev0", from) >= 18);
	assert_seal_read_whole();
}

/* Replaces a device's device.json with text, atomically (the double reads
 * it on every call). */
static int put_device_json(const char *dev, const char *text)
{
	char path[512], tmp[520];
	FILE *f;

	snprintf(path, sizeof(path), "%s/devices/%s/device.json", h.skf_dir, dev);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "we");
	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

/* The SKF_ReadFile calls on dev in the double's log from line `from` on:
 * their offsets and sizes, in order. Returns how many (at most max). */
static size_t read_calls(const char *dev, int from, unsigned long (*ret)[2], size_t max)
{
	FILE *f = fopen(h.skf_log, "re");
	char line[512], who[300];
	unsigned long offset, size;
	size_t n = 0;

	for (int i = 0; f && fgets(line, sizeof(line), f); i++)
		if (i >= from && n < max &&
		    sscanf(line, "SKF_ReadFile %299s offset=%lu size=%lu", who, &offset, &size) ==
			    3 &&
		    strcmp(who, dev) == 0) {
			ret[n][0] = offset;
			ret[n][1] = size;
			n++;
		}
	if (f)
		fclose(f);
	return n;
}

/* dev0's device.json before test_refused_large_reads changed it. */
static char *saved_device_json;

/* Puts dev0 back as it was, and the fault away, even after a failure:
 * the tests after it find the token served. */
static int restore_dev0(void **state)
{
	ukey_client *c = NULL;
	int r = harness_skf_set_faults(&h, "");

	if (saved_device_json && put_device_json("dev0", saved_device_json) < 0)
		r = -1;
	free(saved_device_json);
	saved_device_json = NULL;
	if (ukey_client_new(h.socket, &c) != UKEY_OK || ukey_client_refresh(c) != UKEY_OK)
		r = -1;
	ukey_client_unref(c);
	return r;
}

/* A library that refuses a read larger than its device's buffer
 * (DEVINFO.MaxBufferSize), as some vendors' do: the file is asked for
 * again in pieces of that buffer, read whole, and its real seal found. */
static void test_refused_large_reads(void **state)
{
	unsigned long calls[64][2];
	size_t n, refused;
	int from;

	saved_device_json = harness_skf_read(&h, "dev0", "device.json");
	assert_non_null(saved_device_json);
	/* A buffer unlike the provisioned default, so the pieces show it is
	 * the device's; and no short reads (test_short_reads set them). */
	assert_int_equal(
		harness_shf("python3 -c 'import json,os,sys; p=sys.argv[1]; d=json.load(open(p)); "
			    "d[\"max_buffer_size\"]=4096; d[\"max_read\"]=0; "
			    "json.dump(d, open(p+\".new\", \"w\")); os.replace(p+\".new\", p)' "
			    "%s/devices/dev0/device.json",
			    h.skf_dir),
		0);
	assert_int_equal(harness_skf_set_faults(&h, "SKF_ReadFile dev0 rv=0x0A000010>4096\n"), 0);
	from = harness_skf_log_lines(&h);
	refresh();

	assert_seal_read_whole();

	/* seal.esl (17011 bytes) asked for whole and refused, then in
	 * pieces of 4096 from where the last one ended. */
	n = read_calls("dev0", from, calls, 64);
	for (refused = 0; refused < n; refused++)
		if (calls[refused][0] == 0 && calls[refused][1] == 17011)
			break;
	assert_true(refused < n);
	assert_true(n - refused > 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(calls[refused + 1 + i][0], i * 4096);
		assert_int_equal(calls[refused + 1 + i][1], i < 4 ? 4096 : 17011 - 4 * 4096);
	}
}

/* A call that never returns stalls only its own library: cached answers
 * come at once, a refresh stops waiting for it after module_timeout, the
 * PKCS#11 token is served throughout, and when the call returns all is
 * as before. */
static void test_hang(void **state)
{
	struct timespec t0;
	ukey_client *c = NULL;
	ukey_token_list *list = NULL;
	long ms;

	assert_int_equal(harness_skf_set_faults(&h, "SKF_GetDevInfo dev0 hang\n"), 0);
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	ms = ms_since(&t0);
	assert_true(ms >= 1500 && ms < 8000);
	assert_true(harness_file_contains(h.log, "no answer for 2 s"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ukey_client_list_tokens(c, &list), UKEY_OK);
	assert_true(ms_since(&t0) < AT_ONCE_MS);
	ukey_token_list_unref(list);
	assert_true(listed(p11_serial, NULL, 0));
	/* Served as last read meanwhile. */
	assert_true(listed(skf_serial[0], NULL, 0));

	assert_int_equal(harness_skf_set_faults(&h, ""), 0);
	for (int i = 0; i < 100 && !harness_file_contains(h.log, "answering again"); i++)
		usleep(50 * 1000);
	assert_true(harness_file_contains(h.log, "answering again"));
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	ukey_client_unref(c);
	assert_true(listed(skf_serial[0], NULL, 0));
	assert_true(listed(skf_serial[1], NULL, 0));
}

/* A library that ignores SKF_CancelWaitForDevEvent: the wait is left
 * behind with a warning, and ukeyd still stops cleanly. */
static void test_wait_not_cancelled(void **state)
{
	int from = harness_skf_log_lines(&h);

	assert_int_equal(harness_skf_set_faults(&h, "SKF_CancelWaitForDevEvent * rv=0x0A000001\n"),
			 0);
	assert_int_equal(stop(), 0);
	assert_true(harness_file_contains(h.log, "still waiting for device events after being "
						 "told to stop; left behind"));
	assert_int_equal(harness_skf_calls(&h, "SKF_CancelWaitForDevEvent", NULL, from), 1);
	assert_int_equal(harness_skf_set_faults(&h, ""), 0);
}

static int count_events(const struct harness_events *s, const char *serial, enum ukey_event_type t)
{
	return harness_events_count(s, t, serial);
}

/* One token, two doors: the SoftHSM token's serial given to the SKF
 * device too. Listed once, from SKF, with its PIN facts; when the SKF
 * device goes, the PKCS#11 door serves it (changed, not removed). */
static void test_two_doors(void **state)
{
	const char *const args[] = {"--module",		SOFTHSM_MODULE, "--skf",
				    getenv("SKF_SOFT"), "-v",		NULL};
	struct harness_events s = {0};
	char backend[16];
	ukey_client *c;
	ukey_token *t = NULL;
	int left = -1, max = -1, from;

	assert_int_equal(
		harness_shf("python3 -c 'import json,sys; p=sys.argv[1]; d=json.load(open(p)); "
			    "d[\"serial\"]=sys.argv[2]; json.dump(d, open(p, \"w\"))' "
			    "%s/devices/dev0/device.json %s",
			    h.skf_dir, p11_serial),
		0);
	assert_int_equal(start(args), 0);
	c = harness_subscribed_client(&h, &s);
	assert_true(listed(p11_serial, backend, sizeof(backend)));
	assert_string_equal(backend, "skf");
	assert_int_equal(ukey_client_get_token(c, p11_serial, &t), UKEY_OK);
	assert_string_equal(ukey_token_get_label(t), "国信CA测试主锁(SKF)");
	assert_true(ukey_token_get_pin_tries(t, false, &left, &max));
	assert_int_equal(max, 6);
	ukey_token_unref(t);
	/* PIN work goes through the SKF library. */
	from = harness_skf_log_lines(&h);
	assert_int_equal(ukey_client_probe_default_pin(c, p11_serial, &(bool){false}), UKEY_OK);
	assert_int_equal(harness_skf_calls(&h, "SKF_GetPINInfo", "dev0", from) > 0, 1);

	/* The SKF device goes: the PKCS#11 door serves the token. */
	assert_int_equal(harness_skf_set_plugged(&h, "dev0", false), 0);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_CHANGED, p11_serial,
					EVENT_TIMEOUT_MS) >= 0);
	assert_true(listed(p11_serial, backend, sizeof(backend)));
	assert_string_equal(backend, "pkcs11");
	assert_int_equal(harness_skf_set_plugged(&h, "dev0", true), 0);
	harness_events_collect(c, 300);
	for (int i = 0;
	     i < 50 && (listed(p11_serial, backend, sizeof(backend)), strcmp(backend, "skf") != 0);
	     i++)
		harness_events_collect(c, 100);
	assert_string_equal(backend, "skf");
	harness_events_collect(c, 300);
	/* Never announced as a new token, nor as gone. */
	assert_int_equal(count_events(&s, p11_serial, UKEY_EVENT_TOKEN_ADDED), 0);
	assert_int_equal(count_events(&s, p11_serial, UKEY_EVENT_TOKEN_REMOVED), 0);
	assert_true(count_events(&s, p11_serial, UKEY_EVENT_TOKEN_CHANGED) >= 2);
	ukey_client_unref(c);
	assert_int_equal(stop(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_incomplete_libraries),
		cmocka_unit_test(test_configuration),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_short_reads),
		cmocka_unit_test_teardown(test_refused_large_reads, restore_dev0),
		cmocka_unit_test(test_hang),
		cmocka_unit_test(test_wait_not_cancelled),
		cmocka_unit_test(test_two_doors),
	};
	const char *why = harness_skf_missing();

	if (why) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	return HARNESS_RUN_TESTS("skf-faults", tests, group_setup, group_teardown);
}
