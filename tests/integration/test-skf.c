/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SKF tokens end to end: the real ukeyd loads the SKF test double
 * (tests/fixtures/skf-soft) with three devices provisioned by
 * provision-skf.sh (a primary, a secondary, one with a GBK label) and is
 * checked against the double's state directory, the independent witness:
 * device.json for what the token is, app.json for its PIN counters, flags
 * and PIN hashes (SM3, as openssl computes it), the certificate files for
 * what was read, and the double's call log for what ukeyd asked the
 * library (a probe that must try no PIN, a failed PIN never retried, a
 * device event that needs no polling).
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

#define EVENT_TIMEOUT_MS 5000

static struct harness h;
static char serial[3][64]; /* dev0 primary, dev1 secondary, dev2 GBK label */
static const char *const devs[3] = {"dev0", "dev1", "dev2"};

/* PINs this test gives: distinctive, so finding one anywhere means a copy
 * was kept. The user PIN starts as the CA default 123456. */
#define ADMIN_PIN "5720381694026153"
#define NEW_PIN "7301952846139027"
#define WRONG_PIN "9999000184736251"
#define UNLOCK_PIN "2468103579135790"

/* Runs ukeyctl through the shell with input on stdin; stdout and stderr
 * together. lang "zh" for Chinese, else English. */
static char *ukeyctl_sh(int *status, const char *input, const char *lang, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static char *ukeyctl_sh(int *status, const char *input, const char *lang, const char *fmt, ...)
{
	char args[1024], cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "printf '%s' | LANG=%s LC_ALL= LANGUAGE= %s --socket %s %s 2>&1",
		 input ? input : "", lang && strcmp(lang, "zh") == 0 ? "zh_CN.UTF-8" : "C.UTF-8",
		 getenv("UKEYCTL"), h.socket, args);
	return harness_sh(cmd, status);
}

static json_object *parse(char *text)
{
	json_object *o = json_tokener_parse(text);

	free(text);
	assert_non_null(o);
	return o;
}

static json_object *token_json(const char *s)
{
	int status;
	json_object *o = parse(ukeyctl_sh(&status, NULL, NULL, "--json status %s", s));

	assert_int_equal(status, 0);
	return o;
}

static json_object *member(json_object *o, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(o, k, &o))
			return NULL;
	return o;
}

static int member_int(json_object *o, const char *path)
{
	json_object *v = member(o, path);

	assert_non_null(v);
	return json_object_get_int(v);
}

static const char *member_str(json_object *o, const char *path)
{
	json_object *v = member(o, path);

	assert_non_null(v);
	return json_object_get_string(v);
}

/* The witness: the PIN member ("user_pin", "admin_pin") of a device's
 * application as the double keeps it. */
static json_object *app_pin(const char *dev, const char *which)
{
	char *text = harness_skf_read(&h, dev, "apps/GXCA_APP/app.json");
	json_object *app, *pin;

	assert_non_null(text);
	app = parse(text);
	assert_true(json_object_object_get_ex(app, which, &pin));
	json_object_get(pin);
	json_object_put(app);
	return pin;
}

static int app_remaining(const char *dev, const char *which)
{
	json_object *pin = app_pin(dev, which);
	int n = member_int(pin, "remaining");

	json_object_put(pin);
	return n;
}

/* Whether the double holds pin as the user PIN: its SM3, by openssl. */
static bool user_pin_is(const char *dev, const char *pin)
{
	json_object *p = app_pin(dev, "user_pin");
	char cmd[256], *out;
	int status;
	bool same;

	snprintf(cmd, sizeof(cmd), "printf '%%s' '%s' | openssl dgst -sm3 -r | cut -d' ' -f1", pin);
	out = harness_sh(cmd, &status);
	out[strcspn(out, "\n")] = '\0';
	same = status == 0 && strlen(out) == 64 && strcmp(out, member_str(p, "sm3")) == 0;
	free(out);
	json_object_put(p);
	return same;
}

static bool app_default(const char *dev)
{
	json_object *p = app_pin(dev, "user_pin");
	bool d = json_object_get_boolean(member(p, "default"));

	json_object_put(p);
	return d;
}

/* Sets a PIN count ("remaining", "max_retries") in the double's state:
 * tries failed elsewhere, or a library that fills in its counts badly. */
static void set_pin_count(const char *dev, const char *which, const char *count, int n)
{
	assert_int_equal(
		harness_shf("python3 -c 'import json,sys; p=sys.argv[1]; a=json.load(open(p)); "
			    "a[\"%s\"][\"%s\"]=%d; json.dump(a, open(p, \"w\"))' "
			    "%s/devices/%s/apps/GXCA_APP/app.json",
			    which, count, n, h.skf_dir, dev),
		0);
}

static void set_remaining(const char *dev, const char *which, int n)
{
	set_pin_count(dev, which, "remaining", n);
}

static void refresh(void)
{
	int status;

	free(ukeyctl_sh(&status, NULL, NULL, "refresh"));
	assert_int_equal(status, 0);
}

static int group_setup(void **state)
{
	const char *const args[] = {"--skf", getenv("SKF_SOFT"), "-v", NULL};

	/* meson test fills freed memory (MALLOC_PERTURB_): a PIN left in a
	 * freed chunk would be hidden from the memory search. */
	unsetenv("MALLOC_PERTURB_");
	const char *const env[] = {h.skf_dir_env, h.skf_faults_env, h.skf_log_env, NULL};

	if (harness_setup(&h, "none") < 0 || harness_skf_provision(&h, "all", NULL) < 0 ||
	    harness_start_daemon(&h, args, env) < 0)
		return -1;
	for (int i = 0; i < 3; i++) {
		json_object *dev = parse(harness_skf_read(&h, devs[i], "device.json"));
		snprintf(serial[i], sizeof(serial[i]), "%s", member_str(dev, "serial"));
		json_object_put(dev);
	}
	return 0;
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

static json_object *find_token(json_object *tokens, const char *s)
{
	for (size_t i = 0; i < json_object_array_length(tokens); i++) {
		json_object *t = json_object_array_get_idx(tokens, i);
		if (strcmp(member_str(t, "serial"), s) == 0)
			return t;
	}
	return NULL;
}

/* The certificate with that label, checked against the double's file. */
static void check_cert(json_object *t, const char *dev, const char *label, const char *file,
		       const char *usage)
{
	json_object *certs = member(t, "certs");
	char cmd[512], *sha;
	int status;

	snprintf(cmd, sizeof(cmd),
		 "sha256sum %s/devices/%s/apps/GXCA_APP/containers/SM2_CONTAINER/%s | cut -c1-64",
		 h.skf_dir, dev, file);
	sha = harness_sh(cmd, &status);
	sha[strcspn(sha, "\n")] = '\0';
	for (size_t i = 0; i < json_object_array_length(certs); i++) {
		json_object *c = json_object_array_get_idx(certs, i);
		if (strcmp(member_str(c, "label"), label) != 0)
			continue;
		assert_string_equal(member_str(c, "sha256"), sha);
		assert_string_equal(member_str(c, "key_type"), "sm2");
		assert_string_equal(member_str(c, "usage"), usage);
		assert_string_equal(member_str(c, "ca"), "guoxin");
		/* The container's public key, exported as an ECC blob, pairs it. */
		assert_true(json_object_get_boolean(member(c, "has_private_key")));
		/* The container's name is the id. */
		assert_string_equal(member_str(c, "id"), "534d325f434f4e5441494e4552");
		free(sha);
		return;
	}
	fail_msg("no certificate %s on %s", label, dev);
}

static bool has_object(json_object *t, const char *label)
{
	json_object *objs = member(t, "objects");

	for (size_t i = 0; i < json_object_array_length(objs); i++)
		if (strcmp(member_str(json_object_array_get_idx(objs, i), "label"), label) == 0)
			return true;
	return false;
}

static void test_listed(void **state)
{
	int status;
	json_object *list = parse(ukeyctl_sh(&status, NULL, NULL, "--json list"));
	json_object *tokens = member(list, "tokens"), *t;

	assert_int_equal(status, 0);
	assert_int_equal(json_object_array_length(tokens), 3);
	for (int i = 0; i < 3; i++) {
		t = find_token(tokens, serial[i]);
		assert_non_null(t);
		assert_string_equal(member_str(t, "backend"), "skf");
		assert_string_equal(member_str(t, "module"), getenv("SKF_SOFT"));
		assert_true(json_object_get_boolean(member(t, "initialized")));
		/* The counts, as the double keeps them, and the default flag. */
		assert_int_equal(member_int(t, "pin.user_tries_left"),
				 app_remaining(devs[i], "user_pin"));
		assert_int_equal(member_int(t, "pin.user_tries_max"), 6);
		assert_int_equal(member_int(t, "pin.so_tries_left"), 10);
		assert_int_equal(member_int(t, "pin.so_tries_max"), 10);
		assert_string_equal(member_str(t, "pin.user"), "ok");
		assert_true(json_object_get_boolean(member(t, "pin.default")));
		assert_string_equal(member_str(t, "holder.name"), "测试投标单位");
		assert_string_equal(member_str(t, "holder.credit_code"), "91320000MA1MYTQK3Q");
		assert_string_equal(member_str(t, "ca"), "guoxin");
		check_cert(t, devs[i], "SM2_CONTAINER/sign", "sign.cer", "sign");
		check_cert(t, devs[i], "SM2_CONTAINER/enc", "enc.cer", "encrypt");
		/* Files anyone may read are objects; the user-only one is not. */
		assert_true(has_object(t, "vendor.ini"));
		assert_false(has_object(t, "private.dat"));
	}
	t = find_token(tokens, serial[0]);
	assert_string_equal(member_str(t, "label"), "国信CA测试主锁(SKF)");
	assert_string_equal(member_str(t, "manufacturer"), "Longmai Technology (ukey test double)");
	/* The real seal in a file, found by its content. */
	assert_string_equal(member_str(t, "role"), "primary");
	assert_int_equal(json_object_array_length(member(t, "seals")), 1);
	assert_string_equal(
		member_str(json_object_array_get_idx(member(t, "seals"), 0), "object_label"),
		"seal.esl");
	t = find_token(tokens, serial[1]);
	assert_string_equal(member_str(t, "role"), "secondary");
	assert_int_equal(json_object_array_length(member(t, "seals")), 0);
	/* GB18030 bytes in DEVINFO, read as text. */
	t = find_token(tokens, serial[2]);
	assert_string_equal(member_str(t, "label"), "国信CA测试锁(GBK)");
	assert_string_equal(member_str(t, "manufacturer"), "龙脉科技(测试)");
	json_object_put(list);
}

static void test_status_words(void **state)
{
	char *out, *locales;
	int status;

	out = ukeyctl_sh(&status, NULL, NULL, "status %s", serial[0]);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "User PIN:       ok, tries left 6/6"));
	assert_non_null(strstr(out, "SO PIN:         ok, tries left 10/10"));
	assert_non_null(strstr(out, "Default PIN:    yes"));
	assert_non_null(strstr(out, "SKF (GM/T 0016)"));
	free(out);
	out = ukeyctl_sh(&status, NULL, NULL, "list");
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "国信CA测试副锁(SKF)"));
	free(out);
	out = ukeyctl_sh(&status, NULL, NULL, "holders");
	assert_true(status == 0 || status == 1); /* 1: found problems (the expired seal) */
	assert_non_null(strstr(out, "测试投标单位"));
	free(out);

	locales = harness_sh("locale -a", &status);
	if (!strstr(locales, "zh_CN.utf8") && !strstr(locales, "zh_CN.UTF-8")) {
		free(locales);
		fprintf(stderr, "SKIP: locale zh_CN.UTF-8 is not generated here\n");
		skip();
	}
	free(locales);
	out = ukeyctl_sh(&status, NULL, "zh", "status %s", serial[0]);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "剩余尝试次数 6/6"));
	assert_non_null(strstr(out, "剩余尝试次数 10/10"));
	assert_non_null(strstr(out, "默认口令"));
	free(out);
}

static bool check_has(json_object *report, const char *code)
{
	json_object *tokens = member(report, "tokens");

	for (size_t i = 0; i < json_object_array_length(tokens); i++) {
		json_object *items = member(json_object_array_get_idx(tokens, i), "items");
		for (size_t k = 0; k < json_object_array_length(items); k++)
			if (strcmp(member_str(json_object_array_get_idx(items, k), "code"), code) ==
			    0)
				return true;
	}
	return false;
}

static void test_check(void **state)
{
	int status;
	json_object *r = parse(ukeyctl_sh(&status, NULL, NULL, "--json check %s", serial[0]));

	/* The device's flag says default: a warning, never "unknown". */
	assert_true(check_has(r, "pin_default"));
	assert_false(check_has(r, "pin_default_unknown"));
	assert_false(check_has(r, "no_signing_key"));
	assert_false(check_has(r, "no_encryption_key"));
	json_object_put(r);
	r = parse(ukeyctl_sh(&status, NULL, NULL, "--json check %s", serial[1]));
	assert_true(check_has(r, "secondary_token"));
	json_object_put(r);
}

/* The device's flag answers: no PIN is tried, whatever it says. */
static void test_probe_default(void **state)
{
	int from = harness_skf_log_lines(&h), status;
	char *out = ukeyctl_sh(&status, NULL, NULL, "pin probe-default %s", serial[0]);

	assert_int_equal(status, 1); /* still the default: a problem */
	assert_non_null(strstr(out, "No PIN try is spent"));
	free(out);
	assert_int_equal(harness_skf_calls(&h, "SKF_VerifyPIN", NULL, from), 0);
	assert_int_equal(harness_skf_calls(&h, "SKF_GetPINInfo", "dev0", from) > 0, 1);
	assert_int_equal(app_remaining("dev0", "user_pin"), 6);
}

static void test_wrong_pin_says_tries_left(void **state)
{
	ukey_client *c = NULL;
	int from = harness_skf_log_lines(&h), status;
	char *out;
	json_object *t;

	out = ukeyctl_sh(&status, WRONG_PIN "\\n" NEW_PIN "\\n", NULL, "pin change %s", serial[0]);
	assert_int_equal(status, 10);
	assert_non_null(strstr(out, "PIN tries left: 5"));
	free(out);
	/* One attempt, never retried; the counter on the token says 5. */
	assert_int_equal(harness_skf_calls(&h, "SKF_ChangePIN", "dev0", from), 1);
	assert_int_equal(app_remaining("dev0", "user_pin"), 5);
	harness_pin_delay(1);

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_change_pin(c, serial[0], WRONG_PIN, NEW_PIN, 0),
			 UKEY_E_PIN_INCORRECT);
	assert_int_equal(ukey_client_get_error_tries_left(c), 4);
	assert_int_equal(app_remaining("dev0", "user_pin"), 4);
	ukey_client_unref(c);

	t = token_json(serial[0]);
	assert_string_equal(member_str(t, "pin.user"), "count_low");
	assert_int_equal(member_int(t, "pin.user_tries_left"), 4);
	json_object_put(t);
	harness_pin_delay(2); /* for the tests after */
}

/* SKF_ChangePIN judges both PINs in one call: a new PIN the token will
 * not take (the double: 6 to 16 characters) spends no try and is no wrong
 * PIN; the current PIN stays the default, and no wait follows. */
static void test_new_pin_the_token_refuses(void **state)
{
#define LONG_PIN "73019584217301958421" /* 20 characters */
	ukey_client *c = NULL;
	int from = harness_skf_log_lines(&h), status, before = app_remaining("dev0", "user_pin");
	char *out =
		ukeyctl_sh(&status, "123456\\n" LONG_PIN "\\n", NULL, "pin change %s", serial[0]);
	json_object *t;

	assert_int_equal(status, 12);
	assert_non_null(strstr(out, "No try was spent"));
	assert_null(strstr(out, "wrong PIN"));
	free(out);
	assert_int_equal(harness_skf_calls(&h, "SKF_ChangePIN", "dev0", from), 1);
	assert_int_equal(app_remaining("dev0", "user_pin"), before);
	assert_true(user_pin_is("dev0", "123456"));

	/* Straight away (no wait after it): the reason, in libukey. */
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_change_pin(c, serial[0], "123456", LONG_PIN, 0),
			 UKEY_E_PIN_POLICY);
	assert_string_equal(ukey_client_get_error_reason(c), "token_refused");
	ukey_client_unref(c);
	assert_int_equal(app_remaining("dev0", "user_pin"), before);
	/* Still known as the default: the default was not found wrong. */
	t = token_json(serial[0]);
	assert_true(json_object_get_boolean(member(t, "pin.default")));
	json_object_put(t);
#undef LONG_PIN
}

static void test_change(void **state)
{
	ukey_client *c = NULL;
	ukey_token *tok = NULL;
	bool is_default = true;
	int status, left = -1, max = -1;
	char *out =
		ukeyctl_sh(&status, "123456\\n" NEW_PIN "\\n", NULL, "pin change %s", serial[0]);
	json_object *t;

	assert_int_equal(status, 0);
	free(out);
	assert_true(user_pin_is("dev0", NEW_PIN));
	assert_false(app_default("dev0"));
	assert_int_equal(app_remaining("dev0", "user_pin"), 6);
	t = token_json(serial[0]);
	assert_false(json_object_get_boolean(member(t, "pin.default")));
	assert_string_equal(member_str(t, "pin.user"), "ok");
	assert_int_equal(member_int(t, "pin.user_tries_left"), 6);
	json_object_put(t);

	/* libukey tells the same. */
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_get_token(c, serial[0], &tok), UKEY_OK);
	assert_string_equal(ukey_token_get_backend(tok), "skf");
	assert_true(ukey_token_get_pin_tries(tok, false, &left, &max));
	assert_int_equal(left, 6);
	assert_int_equal(max, 6);
	assert_true(ukey_token_get_pin_tries(tok, true, &left, &max));
	assert_int_equal(left, 10);
	assert_int_equal(ukey_token_get_pin_is_default(tok), 0);
	ukey_token_unref(tok);
	/* The probe agrees, and spends nothing. */
	assert_int_equal(ukey_client_probe_default_pin(c, serial[0], &is_default),
			 UKEY_E_PIN_INCORRECT);
	assert_int_equal(ukey_client_get_error_tries_left(c), 6);
	ukey_client_unref(c);
	assert_int_equal(app_remaining("dev0", "user_pin"), 6);
}

/* Counts a library fills in badly still guard: tries left without a
 * maximum guard the last try; counts past reason are unknown, and an
 * unknown count may be the last try. Nothing is tried without force. */
static void test_guard_without_counts(void **state)
{
	static const struct {
		int max, left;
		const char *state;
	} cases[] = {{0, 1, "final_try"}, {300, 300, "ok"}};
	ukey_client *c = NULL;
	int from;
	json_object *t;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_pin_count("dev0", "user_pin", "max_retries", cases[i].max);
		set_remaining("dev0", "user_pin", cases[i].left);
		refresh();
		t = token_json(serial[0]);
		assert_string_equal(member_str(t, "pin.user"), cases[i].state);
		json_object_put(t);
		from = harness_skf_log_lines(&h);
		assert_int_equal(ukey_client_change_pin(c, serial[0], WRONG_PIN, UNLOCK_PIN, 0),
				 UKEY_E_LOCKOUT_GUARD);
		assert_int_equal(harness_skf_calls(&h, "SKF_ChangePIN", NULL, from), 0);
		assert_int_equal(app_remaining("dev0", "user_pin"), cases[i].left);
	}
	ukey_client_unref(c);
	set_pin_count("dev0", "user_pin", "max_retries", 6);
	set_remaining("dev0", "user_pin", 6);
	refresh();
}

/* The exact counts guard: the last try only with force, a locked PIN
 * never. */
static void test_lockout_guard(void **state)
{
	ukey_client *c = NULL;
	int from, status;
	char *out;
	json_object *t;

	set_remaining("dev0", "user_pin", 1);
	refresh();
	t = token_json(serial[0]);
	assert_string_equal(member_str(t, "pin.user"), "final_try");
	assert_int_equal(member_int(t, "pin.user_tries_left"), 1);
	json_object_put(t);

	from = harness_skf_log_lines(&h);
	out = ukeyctl_sh(&status, NEW_PIN "\\n" UNLOCK_PIN "\\n", NULL, "pin change %s", serial[0]);
	assert_int_equal(status, 13);
	free(out);
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_change_pin(c, serial[0], WRONG_PIN, UNLOCK_PIN, 0),
			 UKEY_E_LOCKOUT_GUARD);
	assert_int_equal(ukey_client_get_error_tries_left(c), 1);
	/* Nothing was tried. */
	assert_int_equal(harness_skf_calls(&h, "SKF_ChangePIN", NULL, from), 0);
	assert_int_equal(harness_skf_calls(&h, "SKF_VerifyPIN", NULL, from), 0);
	assert_int_equal(app_remaining("dev0", "user_pin"), 1);

	/* With force, a wrong PIN spends the last try: locked. */
	assert_int_equal(
		ukey_client_change_pin(c, serial[0], WRONG_PIN, UNLOCK_PIN, UKEY_PIN_FORCE),
		UKEY_E_PIN_LOCKED);
	assert_int_equal(ukey_client_get_error_tries_left(c), 0);
	assert_int_equal(app_remaining("dev0", "user_pin"), 0);
	t = token_json(serial[0]);
	assert_string_equal(member_str(t, "pin.user"), "locked");
	assert_int_equal(member_int(t, "pin.user_tries_left"), 0);
	json_object_put(t);

	/* Locked: not even the right PIN is tried. */
	harness_pin_delay(1);
	from = harness_skf_log_lines(&h);
	assert_int_equal(ukey_client_change_pin(c, serial[0], NEW_PIN, UNLOCK_PIN, UKEY_PIN_FORCE),
			 UKEY_E_PIN_LOCKED);
	assert_int_equal(harness_skf_calls(&h, "SKF_ChangePIN", NULL, from), 0);
	ukey_client_unref(c);
}

/* The counter unlock with the admin PIN: the user PIN is the CA default
 * again, and the device's flag says so. */
static void test_unlock(void **state)
{
	int status, from = harness_skf_log_lines(&h);
	char *out;
	json_object *t;

	if (getuid() != 0) {
		/* Unlocking needs root or the admin group: put the token where
		 * the unlock below would have left it, for the tests after. */
		assert_int_equal(
			harness_shf("cd %s/devices/dev0/apps/GXCA_APP && python3 -c 'import "
				    "json,sys; a=json.load(open(\"app.json\")); "
				    "a[\"user_pin\"].update(sm3=sys.argv[1], remaining=6); "
				    "json.dump(a, open(\"app.json\", \"w\"))' $(printf %%s %s | "
				    "openssl dgst -sm3 -r | cut -d' ' -f1)",
				    h.skf_dir, UNLOCK_PIN),
			0);
		refresh();
		fprintf(stderr, "SKIP: pin unlock needs root or the admin group\n");
		skip();
	}
	out = ukeyctl_sh(&status, WRONG_PIN "\\n", NULL, "pin unlock %s", serial[0]);

	assert_int_equal(status, 10);
	assert_non_null(strstr(out, "PIN tries left: 9"));
	free(out);
	assert_int_equal(harness_skf_calls(&h, "SKF_UnblockPIN", NULL, from), 1);
	assert_int_equal(app_remaining("dev0", "admin_pin"), 9);

	harness_pin_delay(1);
	out = ukeyctl_sh(&status, ADMIN_PIN "\\n", NULL, "pin unlock %s", serial[0]);
	assert_int_equal(status, 0);
	free(out);
	assert_true(user_pin_is("dev0", "123456"));
	assert_true(app_default("dev0"));
	assert_int_equal(app_remaining("dev0", "user_pin"), 6);
	assert_int_equal(app_remaining("dev0", "admin_pin"), 10);
	t = token_json(serial[0]);
	assert_string_equal(member_str(t, "pin.user"), "ok");
	assert_true(json_object_get_boolean(member(t, "pin.default")));
	assert_int_equal(member_int(t, "pin.so_tries_left"), 10);
	json_object_put(t);

	/* With a new PIN of the counter's choice: the flag is the device's
	 * history, still "default" after an unlock. */
	out = ukeyctl_sh(&status, ADMIN_PIN "\\n" UNLOCK_PIN "\\n", NULL, "pin unlock %s --new-pin",
			 serial[0]);
	assert_int_equal(status, 0);
	free(out);
	assert_true(user_pin_is("dev0", UNLOCK_PIN));
	t = token_json(serial[0]);
	assert_true(json_object_get_boolean(member(t, "pin.default")));
	json_object_put(t);
}

static int private_seals(json_object *t)
{
	json_object *seals = member(t, "seals");
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(seals); i++) {
		json_object *s = json_object_array_get_idx(seals, i);
		json_object *p = member(s, "private");
		if (!p || !json_object_get_boolean(p))
			continue;
		assert_string_equal(member_str(s, "name"), "测试投标单位公章");
		assert_string_equal(member_str(s, "status"), "valid");
		n++;
	}
	return n;
}

/* EPS_ReadESealData after the PIN: the seal bound to the signing
 * certificate, for that caller only. */
static void test_private_seal(void **state)
{
	int status, from = harness_skf_log_lines(&h);
	json_object *t = parse(ukeyctl_sh(&status, UNLOCK_PIN "\\n", NULL,
					  "--json status %s --private", serial[0]));

	assert_int_equal(status, 0);
	assert_int_equal(private_seals(t), 1);
	assert_string_equal(member_str(t, "role"), "primary");
	json_object_put(t);
	assert_int_equal(harness_skf_calls(&h, "SKF_VerifyPIN", "dev0", from), 1);
	assert_int_equal(harness_skf_calls(&h, "EPS_ReadESealData", "dev0", from), 1);
	/* The login ends with the job. */
	assert_true(harness_skf_calls(&h, "SKF_ClearSecureState", "dev0", from) >= 1);
	/* Not in the cache. */
	t = token_json(serial[0]);
	assert_int_equal(private_seals(t), 0);
	json_object_put(t);
	/* The secondary has no seal: nothing private, and no error. */
	t = parse(ukeyctl_sh(&status, "123456\\n", NULL, "--json status %s --private", serial[1]));
	assert_int_equal(status, 0);
	assert_int_equal(private_seals(t), 0);
	json_object_put(t);
	/* A wrong PIN says so. */
	free(ukeyctl_sh(&status, WRONG_PIN "\\n", NULL, "status %s --private", serial[0]));
	assert_int_equal(status, 10);
}

static json_object *check_full(const char *s, const char *pin)
{
	char input[64];
	int status;

	snprintf(input, sizeof(input), "%s\\n", pin);
	return parse(ukeyctl_sh(&status, input, NULL, "--json check %s --full", s));
}

static void swap_key(const char *dev, const char *key, const char *with)
{
	assert_int_equal(harness_shf("cd %s/devices/%s/apps/GXCA_APP/containers/SM2_CONTAINER && "
				     "cp %s %s.saved && %s",
				     h.skf_dir, dev, key, key, with),
			 0);
}

static void restore_key(const char *dev, const char *key)
{
	assert_int_equal(harness_shf("cd %s/devices/%s/apps/GXCA_APP/containers/SM2_CONTAINER && "
				     "mv %s.saved %s",
				     h.skf_dir, dev, key, key),
			 0);
}

/* check --full: an SM2 signature by the token verified by OpenSSL, an SM4
 * key OpenSSL wrapped unwrapped by the token. Each fails when the token's
 * key is not its certificate's. */
static void test_check_full(void **state)
{
	int from = harness_skf_log_lines(&h);
	json_object *r = check_full(serial[1], "123456");

	assert_false(check_has(r, "sign_test_failed"));
	assert_false(check_has(r, "decrypt_test_failed"));
	assert_false(check_has(r, "token_not_found"));
	json_object_put(r);
	assert_int_equal(harness_skf_calls(&h, "SKF_ECCSignData", "dev1", from), 1);
	assert_int_equal(harness_skf_calls(&h, "SKF_ImportSessionKey", "dev1", from), 1);
	assert_int_equal(harness_skf_calls(&h, "SKF_Decrypt", "dev1", from), 1);

	/* Another encryption key than the certificate's: the unwrap fails. */
	swap_key("dev1", "enc.key",
		 "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2 -out enc.key");
	r = check_full(serial[1], "123456");
	assert_true(check_has(r, "decrypt_test_failed"));
	assert_false(check_has(r, "sign_test_failed"));
	json_object_put(r);
	restore_key("dev1", "enc.key");
	/* Another signing key: the signature does not verify. */
	swap_key("dev1", "sign.key", "cp enc.key sign.key");
	r = check_full(serial[1], "123456");
	assert_true(check_has(r, "sign_test_failed"));
	json_object_put(r);
	restore_key("dev1", "sign.key");
	refresh();
	r = check_full(serial[1], "123456");
	assert_false(check_has(r, "sign_test_failed"));
	assert_false(check_has(r, "decrypt_test_failed"));
	json_object_put(r);
}

/* SKF_WaitForDevEvent wakes ukeyd: no refresh, no polling. */
static void test_device_events(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);
	int enum_before = harness_skf_calls(&h, "SKF_EnumDev", NULL, 0);

	assert_true(harness_skf_calls(&h, "SKF_WaitForDevEvent", NULL, 0) >= 1);
	assert_int_equal(harness_skf_set_plugged(&h, "dev1", false), 0);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_REMOVED, serial[1],
					EVENT_TIMEOUT_MS) >= 0);
	assert_int_equal(harness_skf_set_plugged(&h, "dev1", true), 0);
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_ADDED, serial[1],
					EVENT_TIMEOUT_MS) >= 0);
	/* One listing per event, not a poll. */
	harness_events_collect(c, 1000);
	assert_true(harness_skf_calls(&h, "SKF_EnumDev", NULL, 0) - enum_before <= 4);
	assert_int_equal(harness_events_count(&s, UKEY_EVENT_TOKEN_REMOVED, serial[0]), 0);
	ukey_client_unref(c);
}

/* A device pulled and plugged back: its handles died with it (the double
 * says SAR_DEVICE_REMOVED for good), so ukeyd connects afresh. */
static void test_replug(void **state)
{
	struct harness_events s = {0};
	ukey_client *c = harness_subscribed_client(&h, &s);
	int connects = harness_skf_calls(&h, "SKF_ConnectDev", "dev2", 0), status;

	assert_int_equal(harness_skf_set_plugged(&h, "dev2", false), 0);
	assert_int_equal(harness_skf_set_plugged(&h, "dev2", true), 0);
	harness_events_collect(c, 1000);
	refresh();
	assert_true(harness_skf_calls(&h, "SKF_ConnectDev", "dev2", 0) > connects);
	free(ukeyctl_sh(&status, NULL, NULL, "status %s", serial[2]));
	assert_int_equal(status, 0);
	/* A removal injected at a chosen call: gone, then back when the
	 * device answers again. */
	assert_int_equal(harness_skf_set_faults(&h, "SKF_GetDevInfo dev2 rv=0x0A000023\n"), 0);
	refresh();
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_REMOVED, serial[2],
					EVENT_TIMEOUT_MS) >= 0);
	assert_int_equal(harness_skf_set_faults(&h, ""), 0);
	refresh();
	assert_true(harness_events_wait(c, &s, UKEY_EVENT_TOKEN_ADDED, serial[2],
					EVENT_TIMEOUT_MS) >= 0);
	ukey_client_unref(c);
}

/* No PIN in the log, the state dir, the audit log, or the daemon's memory. */
static void test_pins_not_kept(void **state)
{
	static const char *const pins[] = {ADMIN_PIN, NEW_PIN, WRONG_PIN, UNLOCK_PIN};
	int status, mem = 0;
	char *out;

	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		assert_false(harness_file_contains(h.log, pins[i]));
		assert_int_not_equal(harness_shf("grep -rqF '%s' %s/state", pins[i], h.dir), 0);
		mem = harness_memory_contains(h.daemon, pins[i] + 8);
		if (mem > 0)
			fail_msg("PIN %s found in ukeyd's memory", pins[i]);
	}
	/* Reading ukeyd's memory and the audit log are root's. */
	if (mem < 0 || getuid() != 0) {
		fprintf(stderr, "SKIP: ukeyd's memory and the audit log need root\n");
		skip();
	}
	out = ukeyctl_sh(&status, NULL, NULL, "--json audit");
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "pin_unlock"));
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
		assert_null(strstr(out, pins[i]));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listed),
		cmocka_unit_test(test_status_words),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_probe_default),
		cmocka_unit_test(test_wrong_pin_says_tries_left),
		cmocka_unit_test(test_new_pin_the_token_refuses),
		cmocka_unit_test(test_change),
		cmocka_unit_test(test_guard_without_counts),
		cmocka_unit_test(test_lockout_guard),
		cmocka_unit_test(test_unlock),
		cmocka_unit_test(test_private_seal),
		cmocka_unit_test(test_check_full),
		cmocka_unit_test(test_device_events),
		cmocka_unit_test(test_replug),
		cmocka_unit_test(test_pins_not_kept),
	};
	const char *why = harness_skf_missing();

	if (why) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	return HARNESS_RUN_TESTS("skf", tests, group_setup, group_teardown);
}
