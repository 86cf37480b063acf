/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CA profiles: the shipped data file, and an administrator's additions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ca-profiles.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_shipped_profiles(void **state)
{
	struct ca_profiles p;
	char *error = NULL;
	static const char *const required[] = {"guoxin", "jsca", "bjca", "hbca", "cfca", "unknown"};

	assert_int_equal(ca_profiles_load(&p, getenv("CA_PROFILES"), NULL, &error), 0);
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const struct ca_profile *c = ca_profiles_get(&p, required[i]);
		assert_non_null(c);
		assert_string_equal(c->default_pin, "123456");
		assert_int_equal(c->renewal_days, 30);
		assert_non_null(c->name_zh);
	}
	assert_string_equal(ca_profiles_get(&p, "guoxin")->name_zh, "国信CA");
	assert_string_equal(
		ca_profiles_match(&p, "C=CN, O=BJCA, CN=Beijing Certificate Authority")->id,
		"bjca");
	assert_string_equal(ca_profiles_match(&p, "C=CN, O=jiangsu ca, CN=x")->id,
			    "jsca"); /* any case */
	assert_string_equal(ca_profiles_match(&p, "C=CN, O=Jiangsu Guoxin CA Test, CN=GXCA")->id,
			    "guoxin");
	assert_string_equal(ca_profiles_match(&p, "CN=湖北省数字证书认证管理中心")->id, "hbca");
	assert_string_equal(ca_profiles_match(&p, "CN=Somebody Else")->id, "unknown");
	ca_profiles_release(&p);
}

static void test_admin_profiles(void **state)
{
	char dir[] = "/tmp/ukey-profiles.XXXXXX", path[128];
	struct ca_profiles p;
	char *error = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/50-local.conf", dir);
	/* A new CA, and a shipped one's renewal window changed. */
	write_file(path, "[zjca]\nname_en = Zhejiang CA\nname_zh = 浙江CA\nissuer_match = ZJCA\n"
			 "default_pin = 111111\nrenewal_days = 60\n[bjca]\nrenewal_days = 45\n");
	snprintf(path, sizeof(path), "%s/README", dir); /* not *.conf: ignored */
	write_file(path, "[broken\n");
	assert_int_equal(ca_profiles_load(&p, getenv("CA_PROFILES"), dir, &error), 0);
	assert_string_equal(ca_profiles_match(&p, "O=ZJCA, CN=x")->id, "zjca");
	assert_string_equal(ca_profiles_get(&p, "zjca")->default_pin, "111111");
	assert_int_equal(ca_profiles_get(&p, "zjca")->renewal_days, 60);
	assert_int_equal(ca_profiles_get(&p, "bjca")->renewal_days, 45);
	assert_string_equal(ca_profiles_get(&p, "bjca")->name_zh, "北京CA"); /* kept */
	ca_profiles_release(&p);

	/* A malformed file is refused, naming the file and line. */
	snprintf(path, sizeof(path), "%s/60-bad.conf", dir);
	write_file(path, "[x]\nrenewal_days = soon\n");
	assert_int_equal(ca_profiles_load(&p, getenv("CA_PROFILES"), dir, &error), -22);
	assert_non_null(strstr(error, "60-bad.conf:2"));
	free(error);
	unlink(path);
	snprintf(path, sizeof(path), "%s/50-local.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/README", dir);
	unlink(path);
	rmdir(dir);
}

static void test_missing_file(void **state)
{
	struct ca_profiles p;
	char *error = NULL;

	assert_int_equal(ca_profiles_load(&p, "/nonexistent/ca-profiles.conf", NULL, &error), -2);
	assert_non_null(strstr(error, "/nonexistent/ca-profiles.conf"));
	free(error);
	/* Without any file there is still the unknown profile. */
	assert_int_equal(ca_profiles_load(&p, NULL, "/nonexistent", &error), 0);
	assert_string_equal(ca_profiles_match(&p, "CN=anything")->id, "unknown");
	ca_profiles_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_profiles),
		cmocka_unit_test(test_admin_profiles),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests_name("ca-profiles", tests, NULL, NULL);
}
