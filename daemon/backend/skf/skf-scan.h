/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The skf backend's scan steps (backend.h): devices, their identity and
 * PIN facts, their containers and files. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "skf-abi.h"

struct skf_lib;
struct token;
struct token_place;

/* SKF_EnumDev(TRUE): a place per device, its name and a number of its own
 * that stays while the device stays listed. */
int skf_list_places(void *lib, struct token_place **ret_places, size_t *ret_n, char **ret_error);

/* DEVINFO and both PINs of the PIN application (SKF_GetPINInfo), through
 * the handles kept from the last read; a device that left meanwhile is
 * connected to afresh once. */
int skf_read_head(void *lib, const struct token_place *place, struct token **ret);

/* Every container's certificates and public keys, and every file anyone
 * may read. */
int skf_read_objects(void *lib, struct token *t);

/* One more data object of t: value (taken, freed on failure) under the
 * name and application the library gave (decoded as token text).
 * Returns SAR_OK or SKF_RV_NO_MEMORY. */
ULONG skf_add_object(struct token *t, const char *app_name, const char *name, uint8_t *value,
		     size_t len);

/* The files of an application its rights let the caller read: with
 * anyone_only, those anyone may read; else those only a user login opens
 * (the application logged in on app). Added to t as data objects.
 * Returns SAR_OK or the failing call's code. */
ULONG skf_read_files(struct skf_lib *l, HAPPLICATION app, const char *app_name, bool anyone_only,
		     ULONG max_buffer, struct token *t);
