/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * p11_last_ck_rv() reads the CK_RV of libp11's failure from OpenSSL's
 * error queue: only from libp11's own errors of the module's CK_RVs, never
 * from whatever else a scan left on the worker thread's queue (an ASN.1 or
 * EVP error whose reason code happens to be 0xa0 would be a wrong PIN).
 */
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "p11-module.h"

/* A failure as libp11 files it: the module's CK_RV as the reason of an
 * error of its "PKCS#11 module" library. */
static void libp11_fails_with(CK_RV rv)
{
	ERR_raise(ERR_get_CKR_code(), (int)rv);
}

static void test_stale_errors_are_no_pin_codes(void **state)
{
	ERR_clear_error();
	/* Left by a scan: reason codes equal to CKR_PIN_INCORRECT and
	 * CKR_PIN_LOCKED, from other libraries. */
	ERR_raise(ERR_LIB_ASN1, (int)CKR_PIN_LOCKED);
	ERR_raise(ERR_LIB_EVP, (int)CKR_PIN_INCORRECT);
	assert_int_equal(p11_last_ck_rv(), CKR_GENERAL_ERROR);
	assert_int_equal(ERR_peek_error(), 0);
}

static void test_libp11_error_under_later_ones(void **state)
{
	ERR_clear_error();
	ERR_raise(ERR_LIB_ASN1, (int)CKR_PIN_INCORRECT);
	libp11_fails_with(CKR_PIN_LOCKED);
	/* Pushed after it, by OpenSSL on the way out. */
	ERR_raise(ERR_LIB_EVP, (int)CKR_PIN_INCORRECT);
	assert_int_equal(p11_last_ck_rv(), CKR_PIN_LOCKED);
	assert_int_equal(ERR_peek_error(), 0);
}

static void test_newest_libp11_error(void **state)
{
	ERR_clear_error();
	libp11_fails_with(CKR_DEVICE_ERROR);
	libp11_fails_with(CKR_PIN_INCORRECT);
	assert_int_equal(p11_last_ck_rv(), CKR_PIN_INCORRECT);
	/* An empty queue: a failure that said nothing. */
	assert_int_equal(p11_last_ck_rv(), CKR_GENERAL_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stale_errors_are_no_pin_codes),
		cmocka_unit_test(test_libp11_error_under_later_ones),
		cmocka_unit_test(test_newest_libp11_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
