/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The USB CA tokens ukeyd knows (data/known-tokens.conf, extended in
 * /etc/ukey/known-tokens.d): VID:PID, maker, model, USB class and the
 * PKCS#11 module candidates; and the udev rules that give them to the
 * desktop user and ukeyd. Loaded once; read-only afterwards.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum usb_token_class {
	USB_TOKEN_CLASS_UNKNOWN,
	USB_TOKEN_CLASS_CCID,
	USB_TOKEN_CLASS_MASS_STORAGE,
	USB_TOKEN_CLASS_HID,
	USB_TOKEN_CLASS_VENDOR,
};

struct known_token {
	uint16_t vid, pid;
	char *vendor, *product;
	enum usb_token_class usb_class;
	int interface;	/* -1: not known */
	char **modules; /* candidates, best first */
	size_t n_modules;
};

struct known_tokens {
	struct known_token *v; /* shipped entries, then the administrator's new ones */
	size_t n;
};

/* Like ca_profiles_load(): the shipped file, then every *.conf in dir. */
int known_tokens_load(struct known_tokens *t, const char *file, const char *dir, char **ret_error);
void known_tokens_release(struct known_tokens *t);

const struct known_token *known_tokens_find(const struct known_tokens *t, uint16_t vid,
					    uint16_t pid);

/* Writes udev rules for every known token: the ACTION=="remove" guard
 * first; the USB device, and its hidraw or SCSI generic node by class,
 * tagged ID_SECURITY_TOKEN (so logind gives the desktop user access) and
 * given to group with mode 0660. Returns 0 or -EIO. */
int known_tokens_write_udev_rules(const struct known_tokens *t, const char *group, FILE *f);
