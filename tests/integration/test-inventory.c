/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Token inventory end to end: SoftHSM tokens provisioned by the fixture,
 * the real ukeyd on a temporary socket, checked through libukey and
 * ukeyctl against what pkcs11-tool (an independent PKCS#11 client)
 * reports for the same tokens.
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

static struct harness h;

struct witness_token {
	char serial[64];
	char label[128];
	bool initialized;
};

/* What pkcs11-tool -L says: one entry per slot with a token. */
static size_t pkcs11_tool_tokens(struct witness_token *out, size_t max)
{
	int status;
	char *text = harness_sh("pkcs11-tool --module " SOFTHSM_MODULE " -L 2>/dev/null", &status);
	char *save = NULL, *line;
	size_t n = 0;

	assert_int_equal(status, 0);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "Slot ", 5) == 0 && n < max) {
			memset(&out[n++], 0, sizeof(*out));
			out[n - 1].initialized = true;
			continue;
		}
		if (n == 0 || !colon)
			continue;
		if (strstr(line, "token state") && strstr(colon, "uninitialized"))
			out[n - 1].initialized = false;
		else if (strstr(line, "token label"))
			snprintf(out[n - 1].label, sizeof(out[n - 1].label), "%s", colon + 2);
		else if (strstr(line, "serial num"))
			snprintf(out[n - 1].serial, sizeof(out[n - 1].serial), "%s", colon + 2);
	}
	free(text);
	return n;
}

static ukey_client *connect_client(void)
{
	ukey_client *c = NULL;

	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	return c;
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
	int status = harness_stop_daemon(&h);

	harness_teardown(&h);
	/* A clean SIGTERM shutdown exits 0 (and an ASan build fails on leaks). */
	return status == 0 ? 0 : -1;
}

static void test_list_matches_pkcs11_tool(void **state)
{
	struct witness_token w[16];
	size_t n = pkcs11_tool_tokens(w, 16), initialized = 0;
	ukey_client *c = connect_client();
	ukey_token_list *list = NULL;

	assert_int_equal(ukey_client_list_tokens(c, &list), UKEY_OK);
	assert_int_equal(ukey_token_list_get_count(list), n);
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		if (!w[i].initialized)
			continue;
		initialized++;
		for (size_t k = 0; k < ukey_token_list_get_count(list); k++) {
			ukey_token *t = ukey_token_list_get(list, k);
			if (strcmp(ukey_token_get_serial(t), w[i].serial) != 0)
				continue;
			found = true;
			assert_string_equal(ukey_token_get_label(t), w[i].label);
			assert_true(ukey_token_is_initialized(t));
			assert_string_equal(ukey_token_get_module(t), SOFTHSM_MODULE);
			assert_string_equal(ukey_token_get_manufacturer(t), "SoftHSM project");
			assert_int_equal(ukey_token_get_user_pin_state(t), UKEY_PIN_OK);
			assert_int_equal(ukey_token_get_pin_min_len(t), 4);
			assert_int_equal(ukey_token_get_pin_max_len(t), 255);
		}
		assert_true(found);
	}
	assert_int_equal(initialized, 2);
	/* SoftHSM always offers one blank slot: listed, not an error. */
	for (size_t k = 0; k < ukey_token_list_get_count(list); k++)
		if (!ukey_token_is_initialized(ukey_token_list_get(list, k)))
			initialized++;
	assert_int_equal(initialized, n);
	ukey_token_list_unref(list);
	ukey_client_unref(c);
}

static const char *serial_of(const char *label)
{
	static struct witness_token w[16];
	size_t n = pkcs11_tool_tokens(w, 16);

	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].label, label) == 0)
			return w[i].serial;
	fail_msg("pkcs11-tool does not list token %s", label);
	return NULL;
}

static void test_objects_match_pkcs11_tool(void **state)
{
	static const char *const labels[] = {"国信CA测试主锁", "江苏CA副锁"};
	ukey_client *c = connect_client();

	for (size_t i = 0; i < 2; i++) {
		char cmd[512], *objs, *digest;
		ukey_token *t = NULL;
		const ukey_cert *cert;
		int status, certs = 0, datas = 0;

		assert_int_equal(ukey_client_get_token(c, serial_of(labels[i]), &t), UKEY_OK);
		snprintf(cmd, sizeof(cmd),
			 "pkcs11-tool --module " SOFTHSM_MODULE
			 " --token-label '%s' -O 2>/dev/null",
			 labels[i]);
		objs = harness_sh(cmd, &status);
		assert_int_equal(status, 0);
		for (char *p = objs; (p = strstr(p, "Certificate Object")); p++)
			certs++;
		for (char *p = objs; (p = strstr(p, "Data object")); p++)
			datas++;
		assert_int_equal(ukey_token_get_cert_count(t), certs);
		assert_int_equal(ukey_token_get_object_count(t), datas);
		for (size_t k = 0; k < ukey_token_get_object_count(t); k++) {
			const ukey_object *o = ukey_token_get_object(t, k);
			char quoted[256];
			snprintf(quoted, sizeof(quoted), "'%s'", ukey_object_get_label(o));
			assert_non_null(strstr(objs, quoted));
			snprintf(quoted, sizeof(quoted), "'%s'", ukey_object_get_application(o));
			assert_non_null(strstr(objs, quoted));
			assert_true(ukey_object_get_size(o) > 0);
		}
		free(objs);

		cert = ukey_token_get_cert(t, 0);
		assert_non_null(cert);
		/* The digest of the DER exactly as stored on the token. */
		snprintf(cmd, sizeof(cmd),
			 "pkcs11-tool --module " SOFTHSM_MODULE " --token-label '%s' --read-object "
			 "--type cert --id %s 2>/dev/null | sha256sum | cut -c1-64",
			 labels[i], ukey_cert_get_id(cert));
		digest = harness_sh(cmd, &status);
		assert_int_equal(status, 0);
		digest[strcspn(digest, "\n")] = '\0';
		assert_string_equal(ukey_cert_get_sha256(cert), digest);
		free(digest);
		ukey_token_unref(t);
	}
	ukey_client_unref(c);
}

static void test_get_unknown_serial(void **state)
{
	ukey_client *c = connect_client();
	ukey_token *t = (ukey_token *)0x1;

	assert_int_equal(ukey_client_get_token(c, "no-such-serial", &t), UKEY_E_NOT_FOUND);
	assert_ptr_equal(t, (ukey_token *)0x1); /* untouched on failure */
	assert_int_equal(ukey_client_get_token(c, "", &t), UKEY_E_INVALID_ARGUMENT);
	ukey_client_unref(c);
}

static char *ukeyctl(int *status, const char *const *env, ...)
{
	const char *argv[16] = {getenv("UKEYCTL"), "--socket", h.socket};
	const char *env_default[] = {"LANG=C.UTF-8", "LC_ALL=", "LANGUAGE=", NULL};
	int n = 3;
	va_list ap;

	va_start(ap, env);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return harness_run(argv, env ? env : env_default, status);
}

static void test_ukeyctl_list_table(void **state)
{
	int status;
	char *out = ukeyctl(&status, NULL, "list", NULL);

	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "SERIAL"));
	assert_non_null(strstr(out, serial_of("国信CA测试主锁")));
	assert_non_null(strstr(out, "国信CA测试主锁"));
	assert_non_null(strstr(out, serial_of("江苏CA副锁")));
	assert_non_null(strstr(out, "(blank token)"));
	free(out);
}

static void test_ukeyctl_json_matches_library(void **state)
{
	ukey_client *c = connect_client();
	ukey_token_list *list = NULL;
	json_object *doc, *tokens;
	int status;
	char *out = ukeyctl(&status, NULL, "--json", "list", NULL);

	assert_int_equal(status, 0);
	doc = json_tokener_parse(out);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "tokens", &tokens));
	assert_int_equal(ukey_client_list_tokens(c, &list), UKEY_OK);
	assert_int_equal(json_object_array_length(tokens), ukey_token_list_get_count(list));
	for (size_t i = 0; i < json_object_array_length(tokens); i++) {
		json_object *t = json_object_array_get_idx(tokens, i), *pin, *v, *certs, *objects;
		ukey_token *lt = ukey_token_list_get(list, i);
		static const char *const keys[] = {"serial", "label",  "manufacturer",
						   "model",  "module", "initialized",
						   "pin",    "certs",  "objects"};
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			assert_true(json_object_object_get_ex(t, keys[k], NULL));
		json_object_object_get_ex(t, "serial", &v);
		assert_string_equal(json_object_get_string(v), ukey_token_get_serial(lt));
		json_object_object_get_ex(t, "pin", &pin);
		json_object_object_get_ex(pin, "user", &v);
		assert_string_equal(json_object_get_string(v),
				    ukey_pin_state_to_string(ukey_token_get_user_pin_state(lt)));
		json_object_object_get_ex(pin, "min_len", &v);
		assert_int_equal(json_object_get_int(v), ukey_token_get_pin_min_len(lt));
		json_object_object_get_ex(t, "certs", &certs);
		assert_int_equal(json_object_array_length(certs), ukey_token_get_cert_count(lt));
		for (size_t k = 0; k < json_object_array_length(certs); k++) {
			json_object *cj = json_object_array_get_idx(certs, k);
			json_object_object_get_ex(cj, "sha256", &v);
			assert_string_equal(json_object_get_string(v),
					    ukey_cert_get_sha256(ukey_token_get_cert(lt, k)));
		}
		json_object_object_get_ex(t, "objects", &objects);
		for (size_t k = 0; k < json_object_array_length(objects); k++) {
			json_object *oj = json_object_array_get_idx(objects, k);
			json_object_object_get_ex(oj, "class", &v);
			assert_string_equal(json_object_get_string(v), "data");
			json_object_object_get_ex(oj, "size", &v);
			assert_int_equal(json_object_get_int64(v),
					 ukey_object_get_size(ukey_token_get_object(lt, k)));
		}
	}
	json_object_put(doc);
	free(out);
	ukey_token_list_unref(list);
	ukey_client_unref(c);
}

static void test_ukeyctl_status(void **state)
{
	const char *serial = serial_of("国信CA测试主锁");
	json_object *doc, *v;
	int status;
	char *out;

	out = ukeyctl(&status, NULL, "status", serial, "--json", NULL);
	assert_int_equal(status, 0);
	doc = json_tokener_parse(out);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "serial", &v));
	assert_string_equal(json_object_get_string(v), serial);
	assert_true(json_object_object_get_ex(doc, "label", &v));
	assert_string_equal(json_object_get_string(v), "国信CA测试主锁");
	json_object_put(doc);
	free(out);

	out = ukeyctl(&status, NULL, "status", serial, NULL);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "签名证书"));
	assert_non_null(strstr(out, "电子签章"));
	assert_non_null(strstr(out, "4 to 255"));
	free(out);
}

static void test_ukeyctl_exit_codes(void **state)
{
	const char *argv_unreachable[] = {getenv("UKEYCTL"), "--socket", "/nonexistent/ukeyd.sock",
					  "list", NULL};
	int status;

	free(ukeyctl(&status, NULL, "status", "no-such-serial", NULL));
	assert_int_equal(status, 4);
	/* Without a serial and with two tokens plugged: which one? */
	free(ukeyctl(&status, NULL, "status", NULL));
	assert_int_equal(status, 2);
	free(ukeyctl(&status, NULL, "status", "a", "b", NULL));
	assert_int_equal(status, 2);
	free(ukeyctl(&status, NULL, "frobnicate", NULL));
	assert_int_equal(status, 2);
	free(ukeyctl(&status, NULL, "list", "extra", NULL));
	assert_int_equal(status, 2);
	free(harness_run(argv_unreachable, NULL, &status));
	assert_int_equal(status, 3);
}

static void test_ukeyctl_chinese(void **state)
{
	const char *env[] = {"LANG=zh_CN.UTF-8", "LC_ALL=", "LANGUAGE=", NULL};
	int status;
	char *out, *locales = harness_sh("locale -a", &status);
	bool have = strstr(locales, "zh_CN.utf8") || strstr(locales, "zh_CN.UTF-8");

	free(locales);
	if (!have) {
		fprintf(stderr,
			"SKIP: locale zh_CN.UTF-8 is not generated here (scripts/install-deps.sh "
			"does it)\n");
		skip();
	}
	out = ukeyctl(&status, env, "list", NULL);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "序列号"));
	assert_null(strstr(out, "SERIAL"));
	free(out);
	out = ukeyctl(&status, env, "status", "no-such-serial", NULL);
	assert_int_equal(status, 4);
	free(out);
}

/* The cache answers queries; only refresh reads the tokens again. */
static void test_refresh_rereads_tokens(void **state)
{
	const char *serial = serial_of("江苏CA副锁");
	ukey_client *c = connect_client();
	ukey_token *before = NULL, *cached = NULL, *after = NULL;
	int status;
	char *out;

	assert_int_equal(ukey_client_get_token(c, serial, &before), UKEY_OK);
	out = harness_sh(
		"printf extra > /tmp/ukey-test-extra.$$ && pkcs11-tool --module " SOFTHSM_MODULE
		" --token-label '江苏CA副锁' --login --pin 123456 --write-object "
		"/tmp/ukey-test-extra.$$ --type data --label added-later >/dev/null 2>&1; "
		"r=$?; rm -f /tmp/ukey-test-extra.$$; exit $r",
		&status);
	free(out);
	assert_int_equal(status, 0);
	assert_int_equal(ukey_client_get_token(c, serial, &cached), UKEY_OK);
	assert_int_equal(ukey_token_get_object_count(cached), ukey_token_get_object_count(before));
	assert_int_equal(ukey_client_refresh(c), UKEY_OK);
	assert_int_equal(ukey_client_get_token(c, serial, &after), UKEY_OK);
	assert_int_equal(ukey_token_get_object_count(after),
			 ukey_token_get_object_count(before) + 1);
	ukey_token_unref(before);
	ukey_token_unref(cached);
	ukey_token_unref(after);
	ukey_client_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_matches_pkcs11_tool),
		cmocka_unit_test(test_objects_match_pkcs11_tool),
		cmocka_unit_test(test_get_unknown_serial),
		cmocka_unit_test(test_ukeyctl_list_table),
		cmocka_unit_test(test_ukeyctl_json_matches_library),
		cmocka_unit_test(test_ukeyctl_status),
		cmocka_unit_test(test_ukeyctl_exit_codes),
		cmocka_unit_test(test_ukeyctl_chinese),
		cmocka_unit_test(test_refresh_rereads_tokens),
	};
	return HARNESS_RUN_TESTS("inventory", tests, group_setup, group_teardown);
}
