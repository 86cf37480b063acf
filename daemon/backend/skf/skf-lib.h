/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One SKF library (GM/T 0016) as the skf backend holds it: dlopen'ed, its
 * functions looked up by name into a typed table (skf-abi.h), and the
 * devices it showed with the handles kept open between scans. Also the
 * careful ways of calling it: every output zeroed first, 32-bit outputs
 * given 64-bit slots (some vendors write a `long`), lengths from the
 * library checked against the buffer they describe, and
 * SAR_BUFFER_TOO_SMALL answered with one bounded retry.
 *
 * Everything here runs on the library's worker thread (backend.h), but for
 * SKF_WaitForDevEvent, which the device watch calls (skf-backend.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skf-abi.h"
#include "ukey/ukey.h"

struct ca_profiles;
struct device_watch;

struct skf_functions {
#define SKF_FN_MEMBER(name) skf_##name##_fn *name;
	SKF_ABI_FUNCTIONS(SKF_FN_MEMBER)
#undef SKF_FN_MEMBER
	eps_ReadESealData_fn *EPS_ReadESealData; /* NULL when not exported */
};

/* An application of a device, opened for scans (never logged in). */
struct skf_app {
	char *name; /* the exact bytes the library listed */
	HAPPLICATION h;
};

/* A device SKF_EnumDev listed, with what the last read learned. */
struct skf_dev {
	char *name;
	unsigned long index; /* stable while the device stays listed */
	DEVHANDLE h;	     /* NULL while not connected */
	struct skf_app *apps;
	size_t n_apps;
	size_t pin_app; /* the application whose PINs the token shows */
	char *serial;	/* from DEVINFO, NULL until read */
	ULONG alg_sym_cap;
	ULONG max_buffer; /* DEVINFO.MaxBufferSize, 0 when not said */
};

struct skf_lib {
	char *path;
	const struct ca_profiles *profiles;
	void *dl;
	struct skf_functions fn;
	bool files;    /* EnumFiles, GetFileInfo, ReadFile */
	bool selftest; /* ECCSignData, ImportSessionKey, DecryptInit, Decrypt, CloseHandle */
	struct skf_dev *devs;
	size_t n_devs;
	unsigned long next_index;
	struct device_watch *watch; /* NULL without SKF_WaitForDevEvent */
	struct skf_watch *watch_state;
};

/* Codes of ukey's own for what a library did wrong, outside the SAR
 * range (skf_rv_text() words them). */
#define SKF_RV_LENGTH_PAST 0xFFFF0001u /* SAR_OK with a length past the buffer */
#define SKF_RV_BAD_SIZE 0xFFFF0002u    /* a size past ukey's bound, or asked for again */
#define SKF_RV_BAD_DATA 0xFFFF0003u    /* a list or structure that does not parse */
#define SKF_RV_NO_MEMORY 0xFFFF0004u

/* Whether rv is one of ukey's own codes above, not the library's. */
static inline bool skf_rv_is_own(ULONG rv)
{
	return rv >= SKF_RV_LENGTH_PAST && rv <= SKF_RV_NO_MEMORY;
}

/* The standard's name of a code ("SAR_PIN_INCORRECT"), or its hex for a
 * vendor's own; in a static buffer for the unknown ones (one thread). */
const char *skf_rv_text(ULONG rv);

/* Whether rv says the device is gone (its handles died with it). */
static inline bool skf_rv_gone(ULONG rv)
{
	return rv == SAR_DEVICE_REMOVED || rv == SAR_INVALIDHANDLEERR;
}

/* dlopen and dlsym. Returns 0, or -ENOENT with what failed in
 * *ret_error (one line naming the missing function), or -ENOMEM. */
int skf_lib_load(const char *path, const struct ca_profiles *profiles, struct skf_lib **ret,
		 char **ret_error);
/* Closes every handle and frees (NULL is fine). The library stays mapped
 * (RTLD_NODELETE): a device wait may outlive this. */
void skf_lib_unload(struct skf_lib *l);

/* A 32-bit output with room for a vendor's 64-bit one: pass &x.v, zeroed
 * first; x.v is then the value (little-endian only). */
typedef union {
	ULONG v;
	BOOL b;
	uint64_t wide;
} skf_out32;
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "skf_out32 reads the low half");

/* A length-in/length-out call into buf. */
typedef ULONG (*skf_fill_fn)(void *ctx, BYTE *buf, ULONG *len);

/*
 * What a length-in/length-out call hands out: first into room bytes;
 * SAR_BUFFER_TOO_SMALL gets one retry with the size it asks for, at most
 * max. *ret is malloc'ed with a NUL after the *ret_len bytes. Returns
 * SAR_OK, the library's code, or SKF_RV_LENGTH_PAST / SKF_RV_BAD_SIZE /
 * SKF_RV_NO_MEMORY.
 */
ULONG skf_fetch(skf_fill_fn fill, void *ctx, size_t room, size_t max, uint8_t **ret,
		size_t *ret_len);

/* A name list (SKF_Enum*) fetched and parsed (skf-names.h). */
ULONG skf_fetch_names(skf_fill_fn fill, void *ctx, char ***ret_names, size_t *ret_n);

/* The device of that serial, or NULL. */
struct skf_dev *skf_lib_find_serial(struct skf_lib *l, const char *serial);

/* Connects to d and reads what identifies it: DEVINFO (into *ret_info),
 * its applications (opened), the PIN application. Returns SAR_OK or the
 * failing call's code (logged by the caller); d is left disconnected on
 * failure. */
ULONG skf_dev_connect(struct skf_lib *l, struct skf_dev *d, DEVINFO *ret_info);
/* Closes d's handles, ignoring what the library says (a departed device's
 * close calls fail on some). */
void skf_dev_disconnect(struct skf_lib *l, struct skf_dev *d);

/* SKF_GetDevInfo of connected d into *ret_info (with room past the
 * structure for a vendor whose DEVINFO is larger); what the reads use of
 * it (MaxBufferSize, AlgSymCap) is kept in d. */
ULONG skf_dev_info(struct skf_lib *l, struct skf_dev *d, DEVINFO *ret_info);

/* The names of an application's containers (SKF_EnumContainer). */
ULONG skf_enum_containers(struct skf_lib *l, HAPPLICATION app, char ***ret_names, size_t *ret_n);

/* A PIN's counts and default flag, read fresh. */
struct skf_pin_info {
	int max, left;	/* -1 unknown */
	int is_default; /* 1, 0, -1 */
};
ULONG skf_pin_info(struct skf_lib *l, HAPPLICATION app, ULONG type, struct skf_pin_info *ret);
/* Both PINs of app, the user's then the admin's ({-1, -1, -1} each when
 * not read). */
ULONG skf_pin_infos(struct skf_lib *l, HAPPLICATION app, struct skf_pin_info *user,
		    struct skf_pin_info *admin);

/* The PIN's state from its counts: locked at 0, final_try at 1,
 * count_low below the maximum; ok when unknown. */
enum ukey_pin_state skf_pin_state(const struct skf_pin_info *p);
