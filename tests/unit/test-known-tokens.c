/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The known-token table: the shipped file, an administrator's additions,
 * malformed entries, and the udev rules made from it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "known-tokens.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_shipped_table(void **state)
{
	struct known_tokens t;
	const struct known_token *k;
	char *error = NULL;

	assert_int_equal(known_tokens_load(&t, getenv("KNOWN_TOKENS"), NULL, &error), 0);
	assert_null(error);
	/* Every device of the reference table (shared/reference/tokens.md). */
	assert_int_equal(t.n, 16);
	k = known_tokens_find(&t, 0x096e, 0x0807);
	assert_non_null(k);
	assert_string_equal(k->product, "ePass2003");
	assert_int_equal(k->usb_class, USB_TOKEN_CLASS_CCID);
	assert_int_equal(k->interface, -1);
	assert_int_equal(k->n_modules, 2);
	assert_string_equal(k->modules[0], "libcastle.so.1.0.0");
	k = known_tokens_find(&t, 0x055c, 0xdb08);
	assert_non_null(k);
	assert_int_equal(k->usb_class, USB_TOKEN_CLASS_MASS_STORAGE);
	/* Its vendor's SKF library beside its PKCS#11 module. */
	assert_int_equal(k->n_skf, 1);
	assert_string_equal(k->skf[0], "libgm3000.1.0.so");
	assert_int_equal(known_tokens_find(&t, 0x096e, 0x0807)->n_skf, 0);
	assert_int_equal(known_tokens_find(&t, 0x163c, 0x0417)->interface, 1);
	/* Feitian's vendor ID alone is no token (it makes licence dongles too). */
	assert_null(known_tokens_find(&t, 0x096e, 0x0006));
	known_tokens_release(&t);
}

static void test_admin_additions(void **state)
{
	char dir[] = "/tmp/ukey-known.XXXXXX", path[128];
	struct known_tokens t;
	const struct known_token *k;
	char *error = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/50-local.conf", dir);
	/* A new device, and another module for a shipped one. */
	write_file(path, "[1d99:00A1]\nvendor = Local\nproduct = Bank key\nclass = hid\n"
			 "modules = /opt/bank/libp11.so\n"
			 "[096e:0807]\nmodules = /opt/feitian/libcastle.so\nskf = libskf-fei.so\n");
	assert_int_equal(known_tokens_load(&t, getenv("KNOWN_TOKENS"), dir, &error), 0);
	k = known_tokens_find(&t, 0x1d99, 0x00a1);
	assert_non_null(k);
	assert_int_equal(k->usb_class, USB_TOKEN_CLASS_HID);
	assert_string_equal(k->modules[0], "/opt/bank/libp11.so");
	k = known_tokens_find(&t, 0x096e, 0x0807);
	assert_int_equal(k->n_modules, 3);
	assert_string_equal(k->modules[2], "/opt/feitian/libcastle.so");
	assert_int_equal(k->n_skf, 1);
	assert_string_equal(k->skf[0], "libskf-fei.so");
	known_tokens_release(&t);
	unlink(path);
	rmdir(dir);
}

static void test_malformed_entries(void **state)
{
	static const char *const bad[] = {
		"[96e:807]\nvendor = x\n",	  "[096e-0807]\nvendor = x\n",
		"[096e:08070]\nvendor = x\n",	  "[096g:0807]\nvendor = x\n",
		"[096e:0807]\nclass = usb\n",	  "[096e:0807]\ninterface = 256\n",
		"[096e:0807]\ninterface = 1x\n",  "[096e:0807]\ncolour = red\n",
		"vendor = outside any section\n",
	};
	char path[] = "/tmp/ukey-known-bad.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct known_tokens t = {0};
		char *error = NULL;

		write_file(path, bad[i]);
		assert_int_equal(known_tokens_load(&t, path, NULL, &error), -EINVAL);
		assert_non_null(error);
		assert_non_null(strstr(error, ":1: invalid known-token line")
					?: strstr(error, ":2: invalid known-token line"));
		assert_null(t.v);
		free(error);
	}
	unlink(path);
}

static void test_udev_rules(void **state)
{
	struct known_tokens t;
	char *error = NULL, *text = NULL, *first_rule;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_int_equal(known_tokens_load(&t, getenv("KNOWN_TOKENS"), NULL, &error), 0);
	assert_int_equal(known_tokens_write_udev_rules(&t, "ukeyd", f), 0);
	fclose(f);
	/* The remove guard comes before any rule. */
	first_rule = strstr(text, "\nSUBSYSTEM");
	assert_non_null(strstr(text, "ACTION==\"remove\", GOTO=\"ukey_end\""));
	assert_true(strstr(text, "ACTION==\"remove\"") < first_rule);
	assert_non_null(strstr(text, "LABEL=\"ukey_end\""));
	assert_non_null(strstr(text,
			       "ATTR{idVendor}==\"096e\", ATTR{idProduct}==\"0807\", "
			       "ENV{ID_SECURITY_TOKEN}=\"1\", GROUP=\"ukeyd\", MODE=\"0660\""));
	/* GM3000 talks SCSI pass-through: its sg node too. */
	assert_non_null(strstr(text, "SUBSYSTEM==\"scsi_generic\", ATTRS{idVendor}==\"055c\", "
				     "ATTRS{idProduct}==\"db08\""));
	/* One USB device line per known token. */
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, "ENV{DEVTYPE}==\"usb_device\"")); p++)
		n++;
	assert_int_equal(n, t.n);
	free(text);
	known_tokens_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_table),
		cmocka_unit_test(test_admin_additions),
		cmocka_unit_test(test_malformed_entries),
		cmocka_unit_test(test_udev_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
