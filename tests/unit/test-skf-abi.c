/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SKF ABI as vendors build it: every size and offset the backend
 * relies on, so a change to the header that shifts a field fails here
 * rather than as garbage from a real token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "backend/skf/skf-abi.h"

static void test_widths(void **state)
{
	assert_int_equal(sizeof(BYTE), 1);
	assert_int_equal(sizeof(CHAR), 1);
	assert_int_equal(sizeof(ULONG), 4);
	assert_int_equal(sizeof(DWORD), 4);
	assert_int_equal(sizeof(LONG), 4);
	/* 32 bits, not `long`: see the header. */
	assert_int_equal(sizeof(BOOL), 4);
	assert_int_equal(sizeof(HANDLE), sizeof(void *));
	assert_int_equal(sizeof(DEVHANDLE), sizeof(void *));
	assert_int_equal(sizeof(HAPPLICATION), sizeof(void *));
	assert_int_equal(sizeof(HCONTAINER), sizeof(void *));
	assert_true((ULONG)-1 > 0);
}

static void test_devinfo(void **state)
{
	assert_int_equal(sizeof(VERSION), 2);
	assert_int_equal(offsetof(VERSION, major), 0);
	assert_int_equal(offsetof(VERSION, minor), 1);

	assert_int_equal(sizeof(DEVINFO), 294);
	assert_int_equal(offsetof(DEVINFO, Version), 0);
	assert_int_equal(offsetof(DEVINFO, Manufacturer), 2);
	assert_int_equal(offsetof(DEVINFO, Issuer), 66);
	assert_int_equal(offsetof(DEVINFO, Label), 130);
	assert_int_equal(offsetof(DEVINFO, SerialNumber), 162);
	assert_int_equal(offsetof(DEVINFO, HWVersion), 194);
	assert_int_equal(offsetof(DEVINFO, FirmwareVersion), 196);
	/* 200 if naturally aligned: the classic packing bug. */
	assert_int_equal(offsetof(DEVINFO, AlgSymCap), 198);
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
	assert_int_equal(sizeof(RSAPUBLICKEYBLOB), 268);
	assert_int_equal(offsetof(RSAPUBLICKEYBLOB, AlgID), 0);
	assert_int_equal(offsetof(RSAPUBLICKEYBLOB, BitLen), 4);
	assert_int_equal(offsetof(RSAPUBLICKEYBLOB, Modulus), 8);
	assert_int_equal(offsetof(RSAPUBLICKEYBLOB, PublicExponent), 264);

	assert_int_equal(sizeof(ECCPUBLICKEYBLOB), 132);
	assert_int_equal(offsetof(ECCPUBLICKEYBLOB, BitLen), 0);
	assert_int_equal(offsetof(ECCPUBLICKEYBLOB, XCoordinate), 4);
	assert_int_equal(offsetof(ECCPUBLICKEYBLOB, YCoordinate), 68);

	assert_int_equal(sizeof(ECCPRIVATEKEYBLOB), 68);
	assert_int_equal(offsetof(ECCPRIVATEKEYBLOB, PrivateKey), 4);

	assert_int_equal(sizeof(ECCSIGNATUREBLOB), 128);
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
	/* The header alone; the ciphertext follows. */
	assert_int_equal(sizeof(ECCCIPHERBLOB), 164);
	assert_int_equal(SKF_ECCCIPHERBLOB_SIZE(16), 180);
	assert_int_equal(SKF_ECCCIPHERBLOB_SIZE(0), 164);
}

static void test_params(void **state)
{
	assert_int_equal(sizeof(BLOCKCIPHERPARAM), 44);
	assert_int_equal(offsetof(BLOCKCIPHERPARAM, IV), 0);
	assert_int_equal(offsetof(BLOCKCIPHERPARAM, IVLen), 32);
	assert_int_equal(offsetof(BLOCKCIPHERPARAM, PaddingType), 36);
	assert_int_equal(offsetof(BLOCKCIPHERPARAM, FeedBitLen), 40);

	assert_int_equal(sizeof(FILEATTRIBUTE), 44);
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

/* The function list names each function once. */
static void test_function_list(void **state)
{
#define COUNT(name) +1
	assert_int_equal(0 SKF_ABI_FUNCTIONS(COUNT), 28);
#undef COUNT
	/* Each type exists and is a function type: a table of pointers to
	 * them, as the backend builds, has one pointer per function. */
#define MEMBER(name) skf_##name##_fn *name;
	struct {
		SKF_ABI_FUNCTIONS(MEMBER)
	} table = {0};
#undef MEMBER
	eps_ReadESealData_fn *read_seal = NULL;
	assert_int_equal(sizeof(table), 28 * sizeof(void *));
	assert_null(table.EnumDev);
	assert_null(read_seal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_widths),	      cmocka_unit_test(test_devinfo),
		cmocka_unit_test(test_devinfo_bytes), cmocka_unit_test(test_key_blobs),
		cmocka_unit_test(test_cipher_blob),   cmocka_unit_test(test_params),
		cmocka_unit_test(test_constants),     cmocka_unit_test(test_function_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
