/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The request table without a token or a daemon: which operation serves a
 * request, what its policy columns decide, and which parameter shapes
 * pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "ops-check.h"
#include "ops-pin.h"
#include "ops-tokens.h"
#include "request-params.h"
#include "request-table.h"

static json_object *params(const char *json)
{
	json_object *o = json_tokener_parse(json);

	assert_non_null(o);
	return o;
}

static const struct method *lookup(const char *name, const char *json)
{
	json_object *p = params(json);
	const struct method *m = request_table_lookup(name, p);

	json_object_put(p);
	return m;
}

/* A PIN (or a probe) is a different operation behind the same name. */
static void test_variants_pick_the_operation(void **state)
{
	assert_ptr_equal(lookup("get", "{\"serial\":\"A\"}")->run, op_get);
	assert_ptr_equal(lookup("get", "{\"serial\":\"A\",\"pin\":\"123456\"}")->run,
			 op_get_private);
	/* A present but null PIN still asks for the PIN operation: its shape
	 * check then refuses it, instead of a silent plain get. */
	assert_ptr_equal(lookup("get", "{\"serial\":\"A\",\"pin\":null}")->run, op_get_private);
	assert_ptr_equal(lookup("check", "{}")->run, op_check);
	assert_ptr_equal(lookup("check", "{\"serial\":\"A\",\"pin\":\"1\"}")->run, op_check_full);
	assert_ptr_equal(lookup("pin_change", "{}")->run, op_pin_change);
	assert_null(lookup("format_token", "{}"));
	assert_null(lookup("hello", "{}")); /* the server's own */
}

static const struct request_rights admin = {true, true, true};
static const struct request_rights user = {false, true, false};

struct expect {
	const char *method, *params;
	enum request_policy ready_admin, ready_user, starting_admin, starting_user;
};

static void test_policy_columns(void **state)
{
	static const struct expect cases[] = {
		{"list", "{}", POLICY_RUN, POLICY_RUN, POLICY_RUN, POLICY_RUN},
		{"get", "{}", POLICY_RUN, POLICY_RUN, POLICY_WAIT_FIRST_SCAN,
		 POLICY_WAIT_FIRST_SCAN},
		{"get", "{\"pin\":\"x\"}", POLICY_RUN, POLICY_RUN, POLICY_REFUSE_BUSY,
		 POLICY_REFUSE_BUSY},
		{"check", "{}", POLICY_RUN, POLICY_RUN, POLICY_WAIT_FIRST_SCAN,
		 POLICY_WAIT_FIRST_SCAN},
		{"check", "{\"pin\":\"x\"}", POLICY_RUN, POLICY_RUN, POLICY_REFUSE_BUSY,
		 POLICY_REFUSE_BUSY},
		{"seal_picture", "{}", POLICY_RUN, POLICY_RUN, POLICY_WAIT_FIRST_SCAN,
		 POLICY_WAIT_FIRST_SCAN},
		{"refresh", "{}", POLICY_WAIT_RESCAN, POLICY_WAIT_RESCAN, POLICY_WAIT_RESCAN,
		 POLICY_WAIT_RESCAN},
		{"subscribe", "{}", POLICY_RUN, POLICY_RUN, POLICY_RUN, POLICY_RUN},
		{"pin_change", "{}", POLICY_RUN, POLICY_RUN, POLICY_REFUSE_BUSY,
		 POLICY_REFUSE_BUSY},
		{"pin_probe_default", "{}", POLICY_RUN, POLICY_RUN, POLICY_REFUSE_BUSY,
		 POLICY_REFUSE_BUSY},
		/* Permission is decided before anything else, also while starting. */
		{"pin_unlock", "{}", POLICY_RUN, POLICY_REFUSE_PERMISSION, POLICY_REFUSE_BUSY,
		 POLICY_REFUSE_PERMISSION},
		{"audit", "{}", POLICY_RUN, POLICY_REFUSE_PERMISSION, POLICY_RUN,
		 POLICY_REFUSE_PERMISSION},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct expect *e = &cases[i];
		const struct method *m = lookup(e->method, e->params);

		assert_non_null(m);
		assert_int_equal(request_table_policy(m, true, &admin, false), e->ready_admin);
		assert_int_equal(request_table_policy(m, true, &user, false), e->ready_user);
		assert_int_equal(request_table_policy(m, false, &admin, false), e->starting_admin);
		assert_int_equal(request_table_policy(m, false, &user, false), e->starting_user);
	}
}

/* Spending a PIN try is for pin_users; force, for the admin group or the
 * active session's user; neither matters to rows that spend none. */
static void test_pin_rights(void **state)
{
	static const struct request_rights outsider = {false, false, false};
	static const struct request_rights group_member = {false, true, false};
	static const struct request_rights active = {false, true, true};
	static const char *const spending[][2] = {
		{"get", "{\"pin\":\"x\"}"},
		{"check", "{\"pin\":\"x\"}"},
		{"pin_change", "{}"},
		{"pin_probe_default", "{}"},
	};

	for (size_t i = 0; i < sizeof(spending) / sizeof(spending[0]); i++) {
		const struct method *m = lookup(spending[i][0], spending[i][1]);
		assert_true(m->spends_pin);
		assert_non_null(m->audit_operation);
		assert_int_equal(request_table_policy(m, true, &outsider, false),
				 POLICY_REFUSE_PIN_USERS);
		/* Refused before "busy": an outsider learns nothing more. */
		assert_int_equal(request_table_policy(m, false, &outsider, false),
				 POLICY_REFUSE_PIN_USERS);
		assert_int_equal(request_table_policy(m, true, &group_member, false), POLICY_RUN);
		assert_int_equal(request_table_policy(m, true, &group_member, true),
				 POLICY_REFUSE_FORCE);
		assert_int_equal(request_table_policy(m, true, &active, true), POLICY_RUN);
		assert_int_equal(request_table_policy(m, true, &admin, true), POLICY_RUN);
	}
	assert_int_equal(request_table_policy(lookup("list", "{}"), true, &outsider, true),
			 POLICY_RUN);
	assert_int_equal(request_table_policy(lookup("get", "{}"), true, &outsider, true),
			 POLICY_RUN);
	/* Unlock: the admin group first, then the rest. */
	assert_int_equal(request_table_policy(lookup("pin_unlock", "{}"), true, &active, false),
			 POLICY_REFUSE_PERMISSION);
}

/* Denied admin requests are audited under the operation's own name. */
static void test_admin_rows_name_their_audit(void **state)
{
	assert_string_equal(lookup("pin_unlock", "{}")->audit_operation, "pin_unlock");
	assert_string_equal(lookup("audit", "{}")->audit_operation, "audit_read");
}

static bool shape_ok(const char *method, const char *json)
{
	json_object *p = params(json);
	const struct method *m = request_table_lookup(method, p);
	char why[160];
	bool ok;

	assert_non_null(m);
	ok = params_check(m->params, p, why, sizeof(why));
	json_object_put(p);
	return ok;
}

static void test_parameter_shapes(void **state)
{
	assert_true(shape_ok("list", "{}"));
	assert_true(shape_ok("list", "{\"newer_client_option\":1}")); /* ignored */
	assert_true(shape_ok("list", "{\"generation\":3}"));
	assert_false(shape_ok("list", "{\"generation\":\"3\"}"));
	assert_true(shape_ok("get", "{\"serial\":\"25a340820f55d593\"}"));
	assert_false(shape_ok("get", "{}"));
	assert_false(shape_ok("get", "{\"serial\":\"\"}"));
	assert_false(shape_ok("get", "{\"serial\":7}"));
	assert_false(shape_ok("get", "{\"serial\":\"A\",\"pin\":null}"));
	assert_false(shape_ok("get", "{\"serial\":\"A\",\"pin\":123456}"));
	assert_false(shape_ok("get", "{\"serial\":\"A\",\"pin\":\"1\",\"force\":\"yes\"}"));
	assert_true(shape_ok("seal_picture", "{\"serial\":\"A\",\"index\":0}"));
	assert_false(shape_ok("seal_picture", "{\"serial\":\"A\"}"));
	assert_false(shape_ok("seal_picture", "{\"serial\":\"A\",\"index\":-1}"));
	assert_false(shape_ok("seal_picture", "{\"serial\":\"A\",\"index\":\"0\"}"));
	assert_true(shape_ok("check", "{}"));
	assert_true(shape_ok("check", "{\"opening\":1773532800,\"bid\":true,"
				      "\"recipients\":[{\"issuer_der\":\"3021\",\"serial\":\"0a\"},"
				      "{\"skid\":\"ABCD\"}]}"));
	assert_false(shape_ok("check", "{\"opening\":\"x\"}"));
	assert_false(shape_ok("check", "{\"bid\":\"z\"}"));
	assert_false(shape_ok("check", "{\"recipients\":{}}"));
	assert_false(shape_ok("check", "{\"recipients\":[{}]}"));
	assert_false(shape_ok("check", "{\"recipients\":[{\"skid\":\"zz\"}]}"));
	assert_false(shape_ok("check", "{\"recipients\":[\"0a\"]}"));
	assert_false(shape_ok("check", "{\"serial\":\"A\",\"pin\":\"1\",\"opening\":-5}"));
	assert_false(shape_ok("check", "{\"pin\":\"1\"}")); /* the full test needs the serial */
	assert_true(shape_ok("pin_change",
			     "{\"serial\":\"A\",\"old_pin\":\"123456\",\"new_pin\":\"802514\"}"));
	assert_false(shape_ok("pin_change", "{\"serial\":\"A\",\"old_pin\":\"123456\"}"));
	assert_true(shape_ok("pin_unlock", "{\"serial\":\"A\",\"so_pin\":\"5720\"}"));
	assert_false(shape_ok("pin_unlock", "{\"serial\":\"A\"}"));
	assert_false(shape_ok("pin_probe_default", "{}"));
	assert_true(shape_ok("audit", "{}"));
	assert_false(shape_ok("audit", "{\"since\":\"2026-11-01\"}"));
	assert_true(shape_ok("audit", "{\"since\":0,\"after\":450000,\"limit\":1000}"));
	assert_true(shape_ok("audit", "{\"limit\":1}"));
	assert_false(shape_ok("audit", "{\"limit\":0}"));
	assert_false(shape_ok("audit", "{\"limit\":1001}"));
	assert_false(shape_ok("audit", "{\"after\":-1}"));
}

/* A serial is bounded (a refusal writes it into the audit log), and
 * every serial a token can have passes: SoftHSM's and the SKF double's,
 * and the longest an SKF token's 32-byte field decodes to (each byte a
 * U+FFFD). */
static void test_serial_bounds(void **state)
{
	char json[512], serial[PARAM_SERIAL_MAX + 2];
	static const char *const real[] = {
		"25a340820f55d593",		    /* SoftHSM */
		"GXSKF3A9F0C21B7E",		    /* the SKF double */
		"0123456789ABCDEF0123456789ABCDEF", /* a full SKF field */
		"主锁序列号",			    /* GB18030 read as such */
		"A B-C_D.E/F:1",
		NULL,
	};

	for (size_t i = 0; real[i]; i++) {
		snprintf(json, sizeof(json), "{\"serial\":\"%s\"}", real[i]);
		assert_true(shape_ok("get", json));
		assert_true(shape_ok("check", json));
		snprintf(json, sizeof(json), "{\"serial\":\"%s\",\"so_pin\":\"1\"}", real[i]);
		assert_true(shape_ok("pin_unlock", json));
	}
	serial[0] = '\0';
	for (int i = 0; i < 32; i++)
		strcat(serial, "\xef\xbf\xbd");
	assert_int_equal(strlen(serial), PARAM_SERIAL_MAX);
	snprintf(json, sizeof(json), "{\"serial\":\"%s\"}", serial);
	assert_true(shape_ok("get", json));
	memset(serial, 'A', PARAM_SERIAL_MAX + 1);
	serial[PARAM_SERIAL_MAX + 1] = '\0';
	snprintf(json, sizeof(json), "{\"serial\":\"%s\"}", serial);
	assert_false(shape_ok("get", json));
	assert_false(shape_ok("check", json));
	assert_false(shape_ok("pin_probe_default", json));
	snprintf(json, sizeof(json), "{\"serial\":\"%s\",\"so_pin\":\"1\"}", serial);
	assert_false(shape_ok("pin_unlock", json));
	assert_false(shape_ok("check", "{\"serial\":\"\"}"));
}

/* What a request keeps of its params once checked: what its row reads. */
static json_object *kept(const char *method, const char *json, json_object **ret_params)
{
	json_object *p = params(json), *keep = (json_object *)1;
	const struct method *m = request_table_lookup(method, p);
	char why[160];

	assert_non_null(m);
	assert_true(params_check(m->params, p, why, sizeof(why)));
	assert_int_equal(params_keep(m->params, p, &keep), 0);
	*ret_params = p;
	return keep;
}

static void test_params_keep(void **state)
{
	json_object *p, *k, *r;

	/* A row without parameters keeps none, whatever came. */
	assert_null(kept("refresh", "{\"x\":[[],[],[[]]]}", &p));
	json_object_put(p);
	assert_null(kept("subscribe", "{}", &p));
	json_object_put(p);
	/* Only what the row reads: the usual request is kept as it is. */
	k = kept("list", "{\"generation\":3}", &p);
	assert_ptr_equal(k, p);
	json_object_put(k);
	json_object_put(p);
	k = kept("list", "{\"generation\":3,\"x\":[[],[]],\"y\":\"z\"}", &p);
	assert_ptr_not_equal(k, p);
	assert_int_equal(json_object_object_length(k), 1);
	assert_int_equal(param_int(k, "generation", -1), 3);
	json_object_put(p);
	json_object_put(k);
	/* The values are the request's own (a PIN too: the server wipes it). */
	k = kept("get", "{\"serial\":\"A\",\"pin\":\"123456\",\"x\":{}}", &p);
	assert_int_equal(json_object_object_length(k), 2);
	assert_ptr_equal(json_object_object_get(k, "pin"), json_object_object_get(p, "pin"));
	assert_string_equal(param_string(k, "serial"), "A");
	json_object_put(p);
	json_object_put(k);
	/* Recipients keep only their own members. */
	k = kept("check",
		 "{\"bid\":true,\"recipients\":[{\"skid\":\"ab\",\"x\":[[],[]]},"
		 "{\"issuer_der\":\"30\",\"serial\":\"0a\"}]}",
		 &p);
	assert_ptr_not_equal(k, p);
	assert_true(param_bool(k, "bid"));
	r = json_object_object_get(k, "recipients");
	assert_int_equal(json_object_array_length(r), 2);
	assert_int_equal(json_object_object_length(json_object_array_get_idx(r, 0)), 1);
	assert_string_equal(param_string(json_object_array_get_idx(r, 0), "skid"), "ab");
	assert_int_equal(json_object_object_length(json_object_array_get_idx(r, 1)), 2);
	json_object_put(p);
	json_object_put(k);
	k = kept("check", "{\"recipients\":[{\"skid\":\"ab\"}]}", &p);
	assert_ptr_equal(k, p);
	json_object_put(p);
	json_object_put(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variants_pick_the_operation),
		cmocka_unit_test(test_policy_columns),
		cmocka_unit_test(test_admin_rows_name_their_audit),
		cmocka_unit_test(test_pin_rights),
		cmocka_unit_test(test_parameter_shapes),
		cmocka_unit_test(test_serial_bounds),
		cmocka_unit_test(test_params_keep),
	};

	return cmocka_run_group_tests_name("request-table", tests, NULL, NULL);
}
