/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PKCS#11 modules that SoftHSM is not, through the p11-quirks wrapper
 * (tests/fixtures/p11-quirks.c):
 *
 * 国密 (SM2) tokens and `check --full`: a module that signs SM2 with
 * CKM_ECDSA passes, one that signs plain ECDSA or keeps its SM2 keys under
 * its own key type is not tested (libp11 cannot see those keys), a wrong
 * key or no key fails. Without login these tokens show no public key, so
 * a key left untested says so (key_pair_unknown) and a passed one does not.
 *
 * Attribute lengths: values larger than ukeyd's first buffers are read
 * whole, from SoftHSM (which answers CKR_ATTRIBUTE_TYPE_INVALID, not
 * CKR_BUFFER_TOO_SMALL, when an object lacks another attribute asked) and
 * from a module that reports the length an attribute needs instead of
 * CK_UNAVAILABLE_INFORMATION; an object whose lengths never fit what the
 * module filled is skipped, never read past.
 *
 * The SM2 keys go onto SoftHSM through C_CreateObject (pkcs11-tool cannot
 * write SM2 keys, nor CKA_IDs past 100 bytes).
 */
#include <dlfcn.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

#define SM2_OK "国密签名锁"	/* signs SM2 with CKM_ECDSA */
#define SM2_ECDSA "国密ECDSA锁" /* signs plain ECDSA with it (SoftHSM) */
#define SM2_WRONG "国密错钥锁"	/* another key pair's signing key */
#define SM2_VENDOR "国密厂商锁" /* keys of the vendor's own type */
#define SM2_NOKEY "国密无钥锁"	/* certificates alone */
#define LONG "长属性锁"		/* attributes past ukeyd's first buffers */

#define LONG_ID_LEN 300	     /* past the 256 bytes read at first */
#define LONG_LABEL_LEN 1500  /* past the 1024 */
#define BIG_VALUE_LEN 100000 /* past the 64 KiB */
#define PIN "123456"

static struct harness h;
static CK_FUNCTION_LIST_PTR fl;
static char pki[160];

static const unsigned char sm2_params[] = {0x06, 0x08, 0x2a, 0x81, 0x1c,
					   0xcf, 0x55, 0x01, 0x82, 0x2d};

static void *read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	static unsigned char buf[65536];

	assert_non_null(f);
	*ret_len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return buf;
}

static CK_SESSION_HANDLE open_token(const char *label)
{
	CK_SLOT_ID slots[32];
	CK_ULONG n = 32;
	CK_SESSION_HANDLE s;

	assert_int_equal(fl->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO info;
		size_t l = strlen(label);

		if (fl->C_GetTokenInfo(slots[i], &info) != CKR_OK ||
		    memcmp(info.label, label, l) != 0 || (l < 32 && info.label[l] != ' '))
			continue;
		assert_int_equal(fl->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION,
						   NULL, NULL, &s),
				 CKR_OK);
		assert_int_equal(fl->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)PIN, strlen(PIN)),
				 CKR_OK);
		return s;
	}
	fail_msg("no token %s", label);
	return 0;
}

static void put_cert(CK_SESSION_HANDLE s, const char *base, const unsigned char *id, size_t id_len)
{
	char path[200];
	size_t len;
	const unsigned char *der, *p;
	unsigned char *subject = NULL;
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE type = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_HANDLE o;
	X509 *x;
	int n;

	snprintf(path, sizeof(path), "%s/%s.der", pki, base);
	der = read_file(path, &len);
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	assert_non_null(x);
	n = i2d_X509_NAME(X509_get_subject_name(x), &subject);
	assert_true(n > 0);
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},	     {CKA_CERTIFICATE_TYPE, &type, sizeof(type)},
		{CKA_TOKEN, &yes, sizeof(yes)},	     {CKA_PRIVATE, &no, sizeof(no)},
		{CKA_ID, (void *)id, id_len},	     {CKA_LABEL, (void *)base, strlen(base)},
		{CKA_SUBJECT, subject, (CK_ULONG)n}, {CKA_VALUE, (void *)der, len},
	};
	assert_int_equal(fl->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), &o), CKR_OK);
	OPENSSL_free(subject);
	X509_free(x);
}

/* The private key of make-cert.sh's BASE.key, on the SM2 curve, as a
 * CKK_EC key; sensitive ones cannot be read back (the wrapper then lets
 * SoftHSM sign, plain ECDSA). */
static void put_key(CK_SESSION_HANDLE s, const char *base, const unsigned char *id, size_t id_len,
		    const char *label, bool sensitive)
{
	char path[200];
	FILE *f;
	EVP_PKEY *pk;
	BIGNUM *d = NULL;
	unsigned char value[32];
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE type = CKK_EC;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_HANDLE o;

	snprintf(path, sizeof(path), "%s/%s.key", pki, base);
	f = fopen(path, "r");
	assert_non_null(f);
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(pk);
	assert_true(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d));
	assert_int_equal(BN_bn2binpad(d, value, sizeof(value)), sizeof(value));
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_KEY_TYPE, &type, sizeof(type)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_SENSITIVE, sensitive ? &yes : &no, sizeof(yes)},
		{CKA_EXTRACTABLE, sensitive ? &no : &yes, sizeof(yes)},
		{CKA_SIGN, &yes, sizeof(yes)},
		{CKA_DERIVE, &yes, sizeof(yes)},
		{CKA_ID, (void *)id, id_len},
		{CKA_LABEL, (void *)label, strlen(label)},
		{CKA_EC_PARAMS, (void *)sm2_params, sizeof(sm2_params)},
		{CKA_VALUE, value, sizeof(value)},
	};
	assert_int_equal(fl->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), &o), CKR_OK);
	BN_clear_free(d);
	EVP_PKEY_free(pk);
}

static void put_data_len(CK_SESSION_HANDLE s, const char *label, const char *value, size_t len)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_HANDLE o;
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},		  {CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &no, sizeof(no)},		  {CKA_LABEL, (void *)label, strlen(label)},
		{CKA_APPLICATION, "p11-quirks test", 15}, {CKA_VALUE, (void *)value, len},
	};

	assert_int_equal(fl->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), &o), CKR_OK);
}

static void put_data(CK_SESSION_HANDLE s, const char *label, const char *value)
{
	put_data_len(s, label, value, strlen(value));
}

static unsigned char long_id[LONG_ID_LEN];
static char long_label[LONG_LABEL_LEN + 1];

static void provision(void)
{
	static const unsigned char id1[] = {0x01}, id2[] = {0x02};
	const char *labels[] = {SM2_OK, SM2_ECDSA, SM2_WRONG, SM2_VENDOR, SM2_NOKEY, LONG};
	const char *unit = "/C=CN/O=91320000MA1MYTQK3Q测试投标单位/CN=测试投标单位";
	const char *ca = "/C=CN/O=Test SM2 CA/CN=Test SM2 CA";
	char dir[200];
	CK_SESSION_HANDLE s;
	FILE *f;
	void *dl;
	CK_C_GetFunctionList get;

	snprintf(dir, sizeof(dir), "%s/hsm/tokens", h.dir);
	snprintf(pki, sizeof(pki), "%s/hsm/pki", h.dir);
	assert_int_equal(harness_shf("mkdir -p '%s' '%s'", dir, pki), 0);
	f = fopen(h.softhsm_conf, "w");
	assert_non_null(f);
	fprintf(f,
		"directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n"
		"slots.removable = false\n",
		dir);
	fclose(f);
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		assert_int_equal(harness_shf("SOFTHSM2_CONF=%s softhsm2-util --init-token --free "
					     "--label '%s' --so-pin 5720381694026153 --pin %s "
					     ">/dev/null",
					     h.softhsm_conf, labels[i], PIN),
				 0);
	assert_int_equal(harness_shf("%s/make-cert.sh %s/sign sm2 '%s' sign -10 +300 '%s' && "
				     "%s/make-cert.sh %s/enc sm2 '%s' encrypt -10 +300 '%s' && "
				     "%s/make-cert.sh %s/other sm2 '%s' sign -10 +300 '%s'",
				     getenv("FIXTURES"), pki, unit, ca, getenv("FIXTURES"), pki,
				     unit, ca, getenv("FIXTURES"), pki, unit, ca),
			 0);

	dl = dlopen(SOFTHSM_MODULE, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(dl);
	get = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
	assert_non_null(get);
	assert_int_equal(get(&fl), CKR_OK);
	assert_int_equal(fl->C_Initialize(NULL), CKR_OK);

	/* A dual-certificate 国密 token each, keys as the label says. */
	s = open_token(SM2_OK);
	put_cert(s, "sign", id1, 1);
	put_cert(s, "enc", id2, 1);
	put_key(s, "sign", id1, 1, "sign", false);
	put_key(s, "enc", id2, 1, "enc", false);
	s = open_token(SM2_ECDSA);
	put_cert(s, "sign", id1, 1);
	put_cert(s, "enc", id2, 1);
	put_key(s, "sign", id1, 1, "sign", true);
	put_key(s, "enc", id2, 1, "enc", true);
	s = open_token(SM2_WRONG);
	put_cert(s, "sign", id1, 1);
	put_cert(s, "enc", id2, 1);
	put_key(s, "other", id1, 1, "sign", false);
	put_key(s, "enc", id2, 1, "enc", false);
	s = open_token(SM2_VENDOR);
	put_cert(s, "sign", id1, 1);
	put_cert(s, "enc", id2, 1);
	put_key(s, "sign", id1, 1, "vendor sign", false);
	put_key(s, "enc", id2, 1, "vendor enc", false);
	s = open_token(SM2_NOKEY);
	put_cert(s, "sign", id1, 1);
	put_cert(s, "enc", id2, 1);

	/* Values larger than ukeyd's first buffers, and an object whose
	 * lengths the module always reports too long. */
	s = open_token(LONG);
	for (size_t i = 0; i < sizeof(long_id); i++)
		long_id[i] = (unsigned char)(i * 7 + 1);
	put_cert(s, "sign", long_id, sizeof(long_id));
	for (size_t i = 0; i < LONG_LABEL_LEN; i++)
		long_label[i] = (char)('a' + i % 26);
	put_data(s, long_label, "long label");
	put_data(s, "lie about lengths", "never read whole");
	put_data(s, "plain", "a short one");
	{
		char *big = malloc(BIG_VALUE_LEN);

		assert_non_null(big);
		memset(big, 'x', BIG_VALUE_LEN);
		put_data_len(s, "honest big", big, BIG_VALUE_LEN);
		put_data_len(s, "big", big, BIG_VALUE_LEN);
		free(big);
	}

	assert_int_equal(fl->C_Finalize(NULL), CKR_OK);
}

static int group_setup(void **state)
{
	const char *const args[] = {"--module", getenv("P11_QUIRKS"), "-v", NULL};

	if (harness_setup(&h, "none") < 0)
		return -1;
	provision();
	return harness_start_daemon(&h, args, NULL);
}

static int group_teardown(void **state)
{
	return harness_finish(&h);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* `ukeyctl --json check SERIAL --full` with the PIN: the token's item
 * codes, sorted and comma-separated. */
static void full_check(const char *label, char *codes, size_t size)
{
	char serial[64];
	const char *argv[] = {getenv("UKEYCTL"), "--socket", h.socket, "--json",
			      "check",		 serial,     "--full", NULL};
	const char *env[] = {"LANG=C.UTF-8", "LC_ALL=", "LANGUAGE=", NULL};
	json_object *report, *tokens;
	const char *list[32];
	size_t n = 0;
	int status;
	char *out;

	assert_int_equal(harness_token_serial(&h, label, serial, sizeof(serial)), 0);
	out = harness_run_input(argv, env, PIN "\n", &status);
	report = json_tokener_parse(out);
	if (!report)
		fail_msg("%s: no report: %s", label, out);
	tokens = json_object_object_get(report, "tokens");
	codes[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(tokens); i++) {
		json_object *t = json_object_array_get_idx(tokens, i), *items;

		if (strcmp(json_object_get_string(json_object_object_get(t, "serial")), serial) !=
		    0)
			continue;
		items = json_object_object_get(t, "items");
		for (size_t k = 0; k < json_object_array_length(items) && n < 32; k++)
			list[n++] = json_object_get_string(json_object_object_get(
				json_object_array_get_idx(items, k), "code"));
	}
	qsort(list, n, sizeof(list[0]), cmp_str);
	for (size_t k = 0; k < n; k++)
		snprintf(codes + strlen(codes), size - strlen(codes), "%s%s", k ? "," : "",
			 list[k]);
	json_object_put(report);
	free(out);
}

static void expect_full(const char *label, const char *want)
{
	char codes[512];

	full_check(label, codes, sizeof(codes));
	if (strcmp(codes, want) != 0)
		fail_msg("%s: got [%s], expected [%s]", label, codes, want);
}

/* Whether ukeyd logged why the token's key went untested. */
static bool logged(const char *label, const char *why)
{
	char serial[64], needle[160];

	assert_int_equal(harness_token_serial(&h, label, serial, sizeof(serial)), 0);
	snprintf(needle, sizeof(needle), "token %s: %s", serial, why);
	return harness_file_contains(h.log, needle);
}

static void test_sm2_signs(void **state)
{
	/* Signed and verified: nothing said of the signing key (untested, it
	 * would be key_pair_unknown too); the encryption key is there but
	 * SM2 decryption is not tested. */
	expect_full(SM2_OK, "key_pair_unknown,pin_default,secondary_token");
}

static void test_sm2_plain_ecdsa_not_tested(void **state)
{
	expect_full(SM2_ECDSA, "key_pair_unknown,key_pair_unknown,pin_default,secondary_token");
	assert_true(logged(SM2_ECDSA, "signs plain ECDSA, not SM2"));
}

static void test_sm2_wrong_key_fails(void **state)
{
	expect_full(SM2_WRONG, "key_pair_unknown,pin_default,secondary_token,sign_test_failed");
}

static void test_sm2_vendor_key_not_tested(void **state)
{
	expect_full(SM2_VENDOR, "key_pair_unknown,key_pair_unknown,pin_default,secondary_token");
	assert_true(logged(SM2_VENDOR, "its SM2 key is of the vendor's own type"));
}

static void test_sm2_no_key_fails(void **state)
{
	expect_full(SM2_NOKEY, "decrypt_test_failed,pin_default,secondary_token,sign_test_failed");
}

static void test_long_attributes(void **state)
{
	ukey_client *c = NULL;
	ukey_token_list *list = NULL;
	const ukey_token *t = NULL;
	char hex[2 * LONG_ID_LEN + 1];
	bool long_seen = false, plain_seen = false;
	int big_seen = 0;

	for (size_t i = 0; i < LONG_ID_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", long_id[i]);
	assert_int_equal(ukey_client_new(h.socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_list_tokens(c, &list), UKEY_OK);
	for (size_t i = 0; i < ukey_token_list_get_count(list); i++)
		if (strcmp(ukey_token_get_label(ukey_token_list_get(list, i)), LONG) == 0)
			t = ukey_token_list_get(list, i);
	assert_non_null(t);
	/* Read whole, not the module's scribbles. */
	assert_int_equal(ukey_token_get_cert_count(t), 1);
	assert_string_equal(ukey_cert_get_id(ukey_token_get_cert(t, 0)), hex);
	/* The object whose lengths never fit is skipped; the others are
	 * read as they are. */
	assert_int_equal(ukey_token_get_object_count(t), 4);
	for (size_t i = 0; i < ukey_token_get_object_count(t); i++) {
		const ukey_object *o = ukey_token_get_object(t, i);

		if (strcmp(ukey_object_get_label(o), long_label) == 0) {
			long_seen = true;
			assert_int_equal(ukey_object_get_size(o), strlen("long label"));
		} else if (strcmp(ukey_object_get_label(o), "plain") == 0) {
			plain_seen = true;
		} else if (strcmp(ukey_object_get_label(o), "honest big") == 0 ||
			   strcmp(ukey_object_get_label(o), "big") == 0) {
			big_seen++;
			assert_int_equal(ukey_object_get_size(o), BIG_VALUE_LEN);
		}
	}
	assert_true(long_seen);
	assert_true(plain_seen);
	assert_int_equal(big_seen, 2);
	assert_true(harness_file_contains(h.log, "misreports, skipped"));
	ukey_token_list_unref(list);
	ukey_client_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sm2_signs),
		cmocka_unit_test(test_sm2_plain_ecdsa_not_tested),
		cmocka_unit_test(test_sm2_wrong_key_fails),
		cmocka_unit_test(test_sm2_vendor_key_not_tested),
		cmocka_unit_test(test_sm2_no_key_fails),
		cmocka_unit_test(test_long_attributes),
	};

	return HARNESS_RUN_TESTS("integration-p11-quirks", tests, group_setup, group_teardown);
}
