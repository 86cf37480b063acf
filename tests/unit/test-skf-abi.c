/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SKF ABI as vendors build it: every offset the backend relies on,
 * so a change to the header that shifts a field fails here rather than as
 * garbage from a real token (the structures' sizes, and DEVINFO's
 * AlgSymCap at 198, are the header's own _Static_asserts: a header that
 * breaks them does not compile); and the function table as the backend
 * loads it from a library. */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/skf/skf-abi.h"
#include "backend/skf/skf-lib.h"

static void test_widths(void **state)
{
	assert_int_equal(sizeof(BYTE), 1);
	assert_int_equal(sizeof(CHAR), 1);
	assert_int_equal(sizeof(LONG), 4);
	assert_int_equal(sizeof(HANDLE), sizeof(void *));
	assert_int_equal(sizeof(DEVHANDLE), sizeof(void *));
	assert_int_equal(sizeof(HAPPLICATION), sizeof(void *));
	assert_int_equal(sizeof(HCONTAINER), sizeof(void *));
	assert_true((ULONG)-1 > 0);
}

static void test_devinfo(void **state)
{
	assert_int_equal(offsetof(VERSION, major), 0);
	assert_int_equal(offsetof(VERSION, minor), 1);

	assert_int_equal(offsetof(DEVINFO, Version), 0);
	assert_int_equal(offsetof(DEVINFO, Manufacturer), 2);
	assert_int_equal(offsetof(DEVINFO, Issuer), 66);
	assert_int_equal(offsetof(DEVINFO, Label), 130);
	assert_int_equal(offsetof(DEVINFO, SerialNumber), 162);
	assert_int_equal(offsetof(DEVINFO, HWVersion), 194);
	assert_int_equal(offsetof(DEVINFO, FirmwareVersion), 196);
	assert_int_equal(offsetof(DEVINFO, AlgAsymCap), 202);
	assert_int_equal(offsetof(DEVINFO, AlgHashCap), 206);
	assert_int_equal(offsetof(DEVINFO, DevAuthAlgId), 210);
	assert_int_equal(offsetof(DEVINFO, TotalSpace), 214);
	assert_int_equal(offsetof(DEVINFO, FreeSpace), 218);
	assert_int_equal(offsetof(DEVINFO, MaxECCBufferSize), 222);
	assert_int_equal(offsetof(DEVINFO, MaxBufferSize), 226);
	assert_int_equal(offsetof(DEVINFO, Reserved), 230);
	assert_int_equal(sizeof(((DEVINFO *)0)->Manufacturer), 64);
	assert_int_equal(sizeof(((DEVINFO *)0)->Issuer), 64);
	assert_int_equal(sizeof(((DEVINFO *)0)->Label), 32);
	assert_int_equal(sizeof(((DEVINFO *)0)->SerialNumber), 32);
	assert_int_equal(sizeof(((DEVINFO *)0)->Reserved), 64);
	/* Packed structures may sit at any address (a library writes them
	 * into byte buffers). */
	assert_int_equal(_Alignof(DEVINFO), 1);
}

/* A DEVINFO as a vendor library writes it, byte by byte, read back
 * through the structure. */
static void test_devinfo_bytes(void **state)
{
	unsigned char raw[294] = {0};
	DEVINFO info;

	raw[0] = 1;
	raw[1] = 0;
	memcpy(raw + 130, "LABEL", 5);
	raw[198] = 0x01; /* AlgSymCap = SGD_SM4_ECB | ..., little-endian */
	raw[199] = 0x04;
	raw[226] = 0x00; /* MaxBufferSize = 2048 */
	raw[227] = 0x08;
	memcpy(&info, raw, sizeof(info));
	assert_int_equal(info.Version.major, 1);
	assert_string_equal(info.Label, "LABEL");
	assert_int_equal(info.AlgSymCap, SGD_SM4_ECB);
	assert_int_equal(info.MaxBufferSize, 2048);
}

static void test_key_blobs(void **state)
{
	assert_int_equal(offsetof(RSAPUBLICKEYBLOB, AlgID), 0);
	assert_int_equal(offsetof(RSAPUBLICKEYBLOB, BitLen), 4);
	assert_int_equal(offsetof(RSAPUBLICKEYBLOB, Modulus), 8);
	assert_int_equal(offsetof(RSAPUBLICKEYBLOB, PublicExponent), 264);

	assert_int_equal(offsetof(ECCPUBLICKEYBLOB, BitLen), 0);
	assert_int_equal(offsetof(ECCPUBLICKEYBLOB, XCoordinate), 4);
	assert_int_equal(offsetof(ECCPUBLICKEYBLOB, YCoordinate), 68);

	assert_int_equal(offsetof(ECCPRIVATEKEYBLOB, PrivateKey), 4);

	assert_int_equal(offsetof(ECCSIGNATUREBLOB, r), 0);
	assert_int_equal(offsetof(ECCSIGNATUREBLOB, s), 64);
}

static void test_cipher_blob(void **state)
{
	assert_int_equal(offsetof(ECCCIPHERBLOB, XCoordinate), 0);
	assert_int_equal(offsetof(ECCCIPHERBLOB, YCoordinate), 64);
	assert_int_equal(offsetof(ECCCIPHERBLOB, HASH), 128);
	assert_int_equal(offsetof(ECCCIPHERBLOB, CipherLen), 160);
	assert_int_equal(offsetof(ECCCIPHERBLOB, Cipher), 164);
	assert_int_equal(SKF_ECCCIPHERBLOB_SIZE(16), 180);
	assert_int_equal(SKF_ECCCIPHERBLOB_SIZE(0), 164);
}

static void test_params(void **state)
{
	assert_int_equal(offsetof(BLOCKCIPHERPARAM, IV), 0);
	assert_int_equal(offsetof(BLOCKCIPHERPARAM, IVLen), 32);
	assert_int_equal(offsetof(BLOCKCIPHERPARAM, PaddingType), 36);
	assert_int_equal(offsetof(BLOCKCIPHERPARAM, FeedBitLen), 40);

	assert_int_equal(offsetof(FILEATTRIBUTE, FileName), 0);
	assert_int_equal(offsetof(FILEATTRIBUTE, FileSize), 32);
	assert_int_equal(offsetof(FILEATTRIBUTE, ReadRights), 36);
	assert_int_equal(offsetof(FILEATTRIBUTE, WriteRights), 40);
}

static void test_constants(void **state)
{
	/* The codes shared/reference/skf.md lists, and the ends of the range. */
	assert_int_equal(SAR_OK, 0);
	assert_int_equal(SAR_FAIL, 0x0A000001);
	assert_int_equal(SAR_NOTSUPPORTYETERR, 0x0A000003);
	assert_int_equal(SAR_INVALIDHANDLEERR, 0x0A000005);
	assert_int_equal(SAR_BUFFER_TOO_SMALL, 0x0A000020);
	assert_int_equal(SAR_NOT_EVENTERR, 0x0A000022);
	assert_int_equal(SAR_DEVICE_REMOVED, 0x0A000023);
	assert_int_equal(SAR_PIN_INCORRECT, 0x0A000024);
	assert_int_equal(SAR_PIN_LOCKED, 0x0A000025);
	assert_int_equal(SAR_PIN_INVALID, 0x0A000026);
	assert_int_equal(SAR_PIN_LEN_RANGE, 0x0A000027);
	assert_int_equal(SAR_USER_NOT_LOGGED_IN, 0x0A00002D);
	assert_int_equal(SAR_APPLICATION_NOT_EXISTS, 0x0A00002E);
	assert_int_equal(SAR_FILE_NOT_EXIST, 0x0A000031);
	assert_int_equal(SAR_REACH_MAX_CONTAINER_COUNT, 0x0A000032);

	assert_int_equal(ADMIN_TYPE, 0);
	assert_int_equal(USER_TYPE, 1);
	assert_int_equal(SECURE_ANYONE_ACCOUNT, 0xFF);
	assert_int_equal(SECURE_USER_ACCOUNT, 0x10);
	assert_int_equal(SECURE_ADM_ACCOUNT, 0x01);
	assert_int_equal(SECURE_NEVER_ACCOUNT, 0);

	assert_int_equal(SGD_SM2_1, 0x00020200);
	assert_int_equal(SGD_SM2_3, 0x00020800);
	assert_int_equal(SGD_SM3, 1);
	assert_int_equal(SGD_SM4_ECB, 0x401);
	assert_int_equal(SGD_SM4_CBC, 0x402);

	assert_int_equal(SKF_CONTAINER_TYPE_ECC, 2);
	assert_int_equal(SKF_DEV_EVENT_INSERTED, 1);
	assert_int_equal(SKF_DEV_EVENT_REMOVED, 2);
}

/* The function list as the backend resolves it (skf-lib.c): the double,
 * which exports every function, fills each slot of the table with the
 * very symbol of its name; a library without the optional extension
 * loads without it; one without a required function, or no library at
 * all, is refused with the reason. */
static void test_function_table(void **state)
{
	const char *full = getenv("SKF_SOFT"), *noeps = getenv("SKF_SOFT_NOEPS"),
		   *nopin = getenv("SKF_SOFT_NOPININFO");
	struct skf_lib *l = NULL;
	char *error = NULL;

	if (!full || !noeps || !nopin)
		skip();
#define COUNT(name) +1
	/* 28 functions; a name listed twice would not compile (the table's
	 * members). */
	assert_int_equal(0 SKF_ABI_FUNCTIONS(COUNT), 28);
#undef COUNT

	assert_int_equal(skf_lib_load(full, NULL, &l, &error), 0);
	assert_null(error);
#define SAME_SYMBOL(name)                                                                          \
	assert_non_null(l->fn.name);                                                               \
	assert_ptr_equal((void *)l->fn.name, dlsym(l->dl, "SKF_" #name));
	SKF_ABI_FUNCTIONS(SAME_SYMBOL)
#undef SAME_SYMBOL
	assert_ptr_equal((void *)l->fn.EPS_ReadESealData, dlsym(l->dl, "EPS_ReadESealData"));
	assert_non_null(l->fn.EPS_ReadESealData);
	assert_true(l->files);
	assert_true(l->selftest);
	skf_lib_unload(l);

	l = NULL;
	assert_int_equal(skf_lib_load(noeps, NULL, &l, &error), 0);
	assert_null(l->fn.EPS_ReadESealData);
	assert_non_null(l->fn.GetPINInfo);
	skf_lib_unload(l);

	l = NULL;
	assert_int_equal(skf_lib_load(nopin, NULL, &l, &error), -ENOENT);
	assert_null(l);
	assert_non_null(error);
	assert_string_equal(error, "not a usable SKF library: it lacks SKF_GetPINInfo");
	free(error);

	assert_int_equal(skf_lib_load("/nonexistent/libskf.so", NULL, &l, &error), -ENOENT);
	assert_null(l);
	assert_non_null(strstr(error, "cannot load SKF library"));
	free(error);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_widths),	      cmocka_unit_test(test_devinfo),
		cmocka_unit_test(test_devinfo_bytes), cmocka_unit_test(test_key_blobs),
		cmocka_unit_test(test_cipher_blob),   cmocka_unit_test(test_params),
		cmocka_unit_test(test_constants),     cmocka_unit_test(test_function_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
