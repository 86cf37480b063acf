/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "skf-lib.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "skf-names.h"
#include "util.h"

/* Bounds on what a library may make us hold: a name list of the most
 * names the parser takes, and any other answer. */
#define LIST_ROOM 1024u
#define LIST_MAX ((size_t)SKF_NAMES_MAX * (SKF_NAME_MAX + 1) + 1)
#define MAX_APPS 16u

const char *skf_rv_text(ULONG rv)
{
	static const struct {
		ULONG rv;
		const char *name;
	} names[] = {
		{SAR_OK, "SAR_OK"},
		{SAR_FAIL, "SAR_FAIL"},
		{SAR_UNKNOWNERR, "SAR_UNKNOWNERR"},
		{SAR_NOTSUPPORTYETERR, "SAR_NOTSUPPORTYETERR"},
		{SAR_INVALIDHANDLEERR, "SAR_INVALIDHANDLEERR"},
		{SAR_INVALIDPARAMERR, "SAR_INVALIDPARAMERR"},
		{SAR_MEMORYERR, "SAR_MEMORYERR"},
		{SAR_INDATALENERR, "SAR_INDATALENERR"},
		{SAR_INDATAERR, "SAR_INDATAERR"},
		{SAR_KEYUSAGEERR, "SAR_KEYUSAGEERR"},
		{SAR_TIMEOUTERR, "SAR_TIMEOUTERR"},
		{SAR_BUFFER_TOO_SMALL, "SAR_BUFFER_TOO_SMALL"},
		{SAR_DEVICE_REMOVED, "SAR_DEVICE_REMOVED"},
		{SAR_PIN_INCORRECT, "SAR_PIN_INCORRECT"},
		{SAR_PIN_LOCKED, "SAR_PIN_LOCKED"},
		{SAR_PIN_INVALID, "SAR_PIN_INVALID"},
		{SAR_PIN_LEN_RANGE, "SAR_PIN_LEN_RANGE"},
		{SAR_USER_NOT_LOGGED_IN, "SAR_USER_NOT_LOGGED_IN"},
		{SAR_APPLICATION_NOT_EXISTS, "SAR_APPLICATION_NOT_EXISTS"},
		{SAR_FILE_NOT_EXIST, "SAR_FILE_NOT_EXIST"},
		{SAR_CERTNOTFOUNTERR, "SAR_CERTNOTFOUNTERR"},
		{SAR_KEYNOTFOUNTERR, "SAR_KEYNOTFOUNTERR"},
		{SKF_RV_LENGTH_PAST, "a length past the buffer given"},
		{SKF_RV_BAD_SIZE, "a size past any sane bound, or asked for twice"},
		{SKF_RV_BAD_DATA, "data that does not parse"},
		{SKF_RV_NO_MEMORY, "out of memory"},
	};
	static _Thread_local char hex[16];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].rv == rv)
			return names[i].name;
	snprintf(hex, sizeof(hex), "0x%08X", (unsigned)rv);
	return hex;
}

/* Functions a library may lack; the feature they serve is off then. */
static const char *const optional[] = {
	"WaitForDevEvent", "CancelWaitForDevEvent", "EnumFiles",   "GetFileInfo", "ReadFile",
	"ECCSignData",	   "ImportSessionKey",	    "DecryptInit", "Decrypt",	  "CloseHandle",
};

static bool is_optional(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(optional); i++)
		if (strcmp(name, optional[i]) == 0)
			return true;
	return false;
}

/* Looks every function up by name into the typed table. Returns the first
 * required one missing, or NULL. */
static const char *resolve(struct skf_lib *l)
{
#define SKF_FN_ENTRY(name) {#name, offsetof(struct skf_functions, name)},
	static const struct {
		const char *name;
		size_t offset;
	} entries[] = {SKF_ABI_FUNCTIONS(SKF_FN_ENTRY)};
#undef SKF_FN_ENTRY
	char symbol[64];

	for (size_t i = 0; i < ARRAY_SIZE(entries); i++) {
		void *p;

		snprintf(symbol, sizeof(symbol), "SKF_%s", entries[i].name);
		p = dlsym(l->dl, symbol);
		if (!p && !is_optional(entries[i].name))
			return entries[i].name;
		memcpy((char *)&l->fn + entries[i].offset, &p, sizeof(p));
	}
	l->fn.EPS_ReadESealData = (eps_ReadESealData_fn *)dlsym(l->dl, "EPS_ReadESealData");
	return NULL;
}

static void log_features(const struct skf_lib *l)
{
	const struct skf_functions *f = &l->fn;

	if (!l->files)
		log_debug("%s: no SKF_EnumFiles, SKF_GetFileInfo or SKF_ReadFile: its files are "
			  "not read",
			  l->path);
	if (!l->selftest)
		log_debug("%s: lacks a function of the full check (SKF_ECCSignData, "
			  "SKF_ImportSessionKey, SKF_DecryptInit, SKF_Decrypt, SKF_CloseHandle): "
			  "check --full does not test its keys",
			  l->path);
	if (!f->WaitForDevEvent || !f->CancelWaitForDevEvent)
		log_debug("%s: no SKF_WaitForDevEvent with SKF_CancelWaitForDevEvent: devices "
			  "are followed through USB hotplug and refresh",
			  l->path);
	if (!f->EPS_ReadESealData)
		log_debug("%s: no EPS_ReadESealData: seals are found in its files only", l->path);
}

int skf_lib_load(const char *path, const struct ca_profiles *profiles, struct skf_lib **ret,
		 char **ret_error)
{
	struct skf_lib *l = calloc(1, sizeof(*l));
	const char *missing;

	*ret_error = NULL;
	if (!l || !(l->path = strdup(path))) {
		free(l);
		return -ENOMEM;
	}
	l->profiles = profiles;
	/* NODELETE: a device wait that never returns runs in its code after
	 * the unload. */
	l->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!l->dl) {
		if (asprintf(ret_error, "cannot load SKF library: %s", dlerror()) < 0)
			*ret_error = NULL;
		skf_lib_unload(l);
		return -ENOENT;
	}
	missing = resolve(l);
	if (missing) {
		if (asprintf(ret_error, "not a usable SKF library: it lacks SKF_%s", missing) < 0)
			*ret_error = NULL;
		skf_lib_unload(l);
		return -ENOENT;
	}
	l->files = l->fn.EnumFiles && l->fn.GetFileInfo && l->fn.ReadFile;
	l->selftest = l->fn.ECCSignData && l->fn.ImportSessionKey && l->fn.DecryptInit &&
		      l->fn.Decrypt && l->fn.CloseHandle;
	log_features(l);
	*ret = l;
	return 0;
}

static void dev_free(struct skf_lib *l, struct skf_dev *d)
{
	skf_dev_disconnect(l, d);
	free(d->name);
	free(d->serial);
}

void skf_lib_unload(struct skf_lib *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_devs; i++)
		dev_free(l, &l->devs[i]);
	free(l->devs);
	if (l->dl)
		dlclose(l->dl);
	free(l->path);
	free(l);
}

ULONG skf_fetch(skf_fill_fn fill, void *ctx, size_t room, size_t max, uint8_t **ret,
		size_t *ret_len)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		uint8_t *buf = calloc(room + 1, 1);
		skf_out32 len = {.wide = 0};
		ULONG rv;

		if (!buf)
			return SKF_RV_NO_MEMORY;
		len.v = (ULONG)room;
		rv = fill(ctx, buf, &len.v);
		if (rv == SAR_BUFFER_TOO_SMALL) {
			free(buf);
			/* One retry, with a size that can be meant. */
			if (attempt > 0 || len.v <= room || len.v > max)
				return SKF_RV_BAD_SIZE;
			room = len.v;
			continue;
		}
		if (rv == SAR_OK && len.v > room)
			rv = SKF_RV_LENGTH_PAST;
		if (rv != SAR_OK) {
			free(buf);
			return rv;
		}
		*ret = buf; /* calloc'ed: NUL after len bytes */
		*ret_len = len.v;
		return SAR_OK;
	}
	return SKF_RV_BAD_SIZE;
}

ULONG skf_fetch_names(skf_fill_fn fill, void *ctx, char ***ret_names, size_t *ret_n)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	ULONG rv = skf_fetch(fill, ctx, LIST_ROOM, LIST_MAX, &buf, &len);
	int r;

	if (rv != SAR_OK)
		return rv;
	r = skf_names_parse((const char *)buf, len, ret_names, ret_n);
	if (r == -ENOMEM)
		return SKF_RV_NO_MEMORY;
	return r < 0 ? SKF_RV_BAD_DATA : SAR_OK;
}

struct skf_dev *skf_lib_find_serial(struct skf_lib *l, const char *serial)
{
	for (size_t i = 0; serial && *serial && i < l->n_devs; i++)
		if (streq_ptr(l->devs[i].serial, serial))
			return &l->devs[i];
	return NULL;
}

void skf_dev_disconnect(struct skf_lib *l, struct skf_dev *d)
{
	for (size_t i = 0; i < d->n_apps; i++) {
		if (d->apps[i].h)
			(void)l->fn.CloseApplication(d->apps[i].h);
		free(d->apps[i].name);
	}
	free(d->apps);
	d->apps = NULL;
	d->n_apps = 0;
	d->pin_app = 0;
	if (d->h)
		(void)l->fn.DisConnectDev(d->h);
	d->h = NULL;
}

struct enum_ctx {
	struct skf_lib *l;
	HANDLE h;
};

static ULONG enum_apps(void *ctx, BYTE *buf, ULONG *len)
{
	struct enum_ctx *c = ctx;

	return c->l->fn.EnumApplication(c->h, (LPSTR)buf, len);
}

static ULONG enum_containers(void *ctx, BYTE *buf, ULONG *len)
{
	struct enum_ctx *c = ctx;

	return c->l->fn.EnumContainer(c->h, (LPSTR)buf, len);
}

ULONG skf_enum_containers(struct skf_lib *l, HAPPLICATION app, char ***ret_names, size_t *ret_n)
{
	struct enum_ctx c = {l, app};

	return skf_fetch_names(enum_containers, &c, ret_names, ret_n);
}

/* The application whose PINs stand for the token's: the only one, or the
 * first that holds a container (where the certificates are). */
static void pick_pin_app(struct skf_lib *l, struct skf_dev *d)
{
	d->pin_app = 0;
	if (d->n_apps < 2)
		return;
	for (size_t i = 0; i < d->n_apps; i++) {
		char **names = NULL;
		size_t n = 0;

		if (skf_enum_containers(l, d->apps[i].h, &names, &n) == SAR_OK && n > 0) {
			skf_names_free(names, n);
			d->pin_app = i;
			return;
		}
		skf_names_free(names, n);
	}
}

ULONG skf_dev_info(struct skf_lib *l, struct skf_dev *d, DEVINFO *ret_info)
{
	union {
		DEVINFO info;
		uint8_t room[512]; /* a vendor whose DEVINFO is larger writes no further */
	} u = {0};
	ULONG rv = l->fn.GetDevInfo(d->h, &u.info);

	if (rv != SAR_OK)
		return rv;
	d->alg_sym_cap = u.info.AlgSymCap;
	d->max_buffer = u.info.MaxBufferSize;
	*ret_info = u.info;
	return SAR_OK;
}

ULONG skf_dev_connect(struct skf_lib *l, struct skf_dev *d, DEVINFO *ret_info)
{
	struct enum_ctx c = {l, NULL};
	DEVHANDLE h = NULL;
	char **names = NULL;
	size_t n = 0, n_all = 0;
	ULONG rv;

	skf_dev_disconnect(l, d);
	rv = l->fn.ConnectDev(d->name, &h);
	if (rv != SAR_OK)
		return rv;
	if (!h)
		return SAR_INVALIDHANDLEERR;
	d->h = h;
	rv = skf_dev_info(l, d, ret_info);
	if (rv == SAR_OK) {
		c.h = h;
		rv = skf_fetch_names(enum_apps, &c, &names, &n_all);
	}
	n = n_all < MAX_APPS ? n_all : MAX_APPS; /* the rest are ignored */
	if (rv == SAR_OK && n > 0 && !(d->apps = calloc(n, sizeof(*d->apps))))
		rv = SKF_RV_NO_MEMORY;
	for (size_t i = 0; rv == SAR_OK && i < n; i++) {
		HAPPLICATION a = NULL;

		rv = l->fn.OpenApplication(h, names[i], &a);
		if (rv == SAR_OK && !a)
			rv = SAR_INVALIDHANDLEERR;
		if (rv != SAR_OK)
			break;
		d->apps[i].name = TAKE_PTR(names[i]);
		d->apps[i].h = a;
		d->n_apps++;
	}
	skf_names_free(names, n_all);
	if (rv != SAR_OK) {
		skf_dev_disconnect(l, d);
		return rv;
	}
	pick_pin_app(l, d);
	return SAR_OK;
}

ULONG skf_pin_info(struct skf_lib *l, HAPPLICATION app, ULONG type, struct skf_pin_info *ret)
{
	skf_out32 max = {.wide = 0}, left = {.wide = 0}, def = {.wide = 0};
	ULONG rv = l->fn.GetPINInfo(app, type, &max.v, &left.v, &def.b);

	*ret = (struct skf_pin_info){-1, -1, -1};
	if (rv != SAR_OK)
		return rv;
	/* Counts a token could mean: a library's garbage shows as unknown.
	 * The tries left stand on their own: a library that leaves the
	 * maximum unset must not hide a final try from the lockout guard. */
	if (left.v <= 255)
		ret->left = (int)left.v;
	if (max.v > 0 && max.v <= 255 && max.v >= left.v)
		ret->max = (int)max.v;
	ret->is_default = def.v != 0;
	return SAR_OK;
}

ULONG skf_pin_infos(struct skf_lib *l, HAPPLICATION app, struct skf_pin_info *user,
		    struct skf_pin_info *admin)
{
	ULONG rv = skf_pin_info(l, app, USER_TYPE, user);

	*admin = (struct skf_pin_info){-1, -1, -1};
	return rv == SAR_OK ? skf_pin_info(l, app, ADMIN_TYPE, admin) : rv;
}

enum ukey_pin_state skf_pin_state(const struct skf_pin_info *p)
{
	if (p->left < 0)
		return UKEY_PIN_OK;
	if (p->left == 0)
		return UKEY_PIN_LOCKED;
	if (p->left == 1)
		return UKEY_PIN_FINAL_TRY;
	return p->left < p->max ? UKEY_PIN_COUNT_LOW : UKEY_PIN_OK;
}
