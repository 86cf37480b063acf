/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "skf-scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "skf-blob.h"
#include "skf-lib.h"
#include "skf-names.h"
#include "text-decode.h"
#include "token.h"
#include "util.h"

/* Bounds on what one token may make us hold, as for PKCS#11 objects. */
#define MAX_VALUE (8u * 1024u * 1024u)
#define CERT_ROOM 8192u /* a certificate fits; a larger one costs a retry */
#define KEY_ROOM 512u	/* either public key blob */
#define KEY_MAX 4096u
/* ReadFile calls one file may take (short reads included). */
#define MAX_READS 4096u
#define DEFAULT_CHUNK (64u * 1024u)

static ULONG enum_dev(void *ctx, BYTE *buf, ULONG *len)
{
	struct skf_lib *l = ctx;

	return l->fn.EnumDev(TRUE, (LPSTR)buf, len);
}

static struct skf_dev *find_dev(struct skf_lib *l, const char *name)
{
	for (size_t i = 0; name && i < l->n_devs; i++)
		if (strcmp(l->devs[i].name, name) == 0)
			return &l->devs[i];
	return NULL;
}

static bool names_have(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Brings the device table in line with the list: devices no longer listed
 * are closed and dropped, new ones get the next number. */
static int update_devices(struct skf_lib *l, char *const *names, size_t n)
{
	struct skf_dev *grown;

	for (size_t i = l->n_devs; i-- > 0;) {
		struct skf_dev *d = &l->devs[i];

		if (names_have(names, n, d->name))
			continue;
		skf_dev_disconnect(l, d);
		free(d->name);
		free(d->serial);
		memmove(d, d + 1, (l->n_devs - i - 1) * sizeof(*d));
		l->n_devs--;
	}
	for (size_t i = 0; i < n; i++) {
		if (find_dev(l, names[i]))
			continue;
		grown = realloc(l->devs, (l->n_devs + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		l->devs = grown;
		grown[l->n_devs] =
			(struct skf_dev){.name = strdup(names[i]), .index = l->next_index};
		if (!grown[l->n_devs].name)
			return -ENOMEM;
		l->n_devs++;
		l->next_index++;
	}
	return 0;
}

int skf_list_places(void *lib, struct token_place **ret_places, size_t *ret_n, char **ret_error)
{
	struct skf_lib *l = lib;
	struct token_place *places;
	char **names = NULL;
	size_t n = 0, k = 0;
	ULONG rv;

	rv = skf_fetch_names(enum_dev, l, &names, &n);
	if (rv != SAR_OK) {
		if (asprintf(ret_error, "SKF_EnumDev failed: %s", skf_rv_text(rv)) < 0)
			*ret_error = NULL;
		return rv == SKF_RV_NO_MEMORY ? -ENOMEM : -EIO;
	}
	places = calloc(n + 1, sizeof(*places));
	if (!places || update_devices(l, names, n) < 0) {
		free(places);
		skf_names_free(names, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct skf_dev *d = find_dev(l, names[i]);
		bool dup = false;

		for (size_t j = 0; j < k && !dup; j++)
			dup = strcmp(places[j].name, names[i]) == 0;
		if (dup || !d)
			continue; /* a name listed twice is one device */
		places[k].index = d->index;
		places[k].name = TAKE_PTR(names[i]);
		k++;
	}
	skf_names_free(names, n);
	*ret_places = places;
	*ret_n = k;
	return 0;
}

/* DEVINFO and the PINs, through the kept handles or a new connection. */
static ULONG read_head_once(struct skf_lib *l, struct skf_dev *d, DEVINFO *info,
			    struct skf_pin_info *user, struct skf_pin_info *admin)
{
	ULONG rv = d->h ? skf_dev_info(l, d, info) : skf_dev_connect(l, d, info);

	if (rv != SAR_OK)
		return rv;
	*user = *admin = (struct skf_pin_info){-1, -1, -1};
	if (d->n_apps == 0)
		return SAR_OK;
	return skf_pin_infos(l, d->apps[d->pin_app].h, user, admin);
}

static struct token *head_token(struct skf_lib *l, const struct skf_dev *d,
				const struct token_place *place, const DEVINFO *info,
				const struct skf_pin_info *user, const struct skf_pin_info *admin)
{
	_cleanup_token_ struct token *t = token_new();

	if (!t || token_place_copy(&t->place, place) < 0)
		return NULL;
	t->module = strdup(l->path);
	t->backend = "skf";
	t->serial =
		p11_text_decode((const uint8_t *)info->SerialNumber, sizeof(info->SerialNumber));
	t->label = p11_text_decode((const uint8_t *)info->Label, sizeof(info->Label));
	t->manufacturer =
		p11_text_decode((const uint8_t *)info->Manufacturer, sizeof(info->Manufacturer));
	/* The standard names no model; the issuer is what DEVINFO has. */
	t->model = p11_text_decode((const uint8_t *)info->Issuer, sizeof(info->Issuer));
	if (!t->module || !t->serial || !t->label || !t->manufacturer || !t->model)
		return NULL;
	/* A device without an application is blank, as a PKCS#11 token
	 * never initialized. */
	t->initialized = d->n_apps > 0;
	if (t->initialized) {
		t->user_pin = skf_pin_state(user);
		t->so_pin = skf_pin_state(admin);
		t->user_tries_left = user->left;
		t->user_tries_max = user->max;
		t->so_tries_left = admin->left;
		t->so_tries_max = admin->max;
		t->pin_default_flag = user->is_default;
	}
	return TAKE_PTR(t);
}

int skf_read_head(void *lib, const struct token_place *place, struct token **ret)
{
	struct skf_lib *l = lib;
	struct skf_dev *d = find_dev(l, place->name);
	struct skf_pin_info user, admin;
	DEVINFO info;
	struct token *t;
	ULONG rv;

	*ret = NULL;
	if (!d)
		return 0;
	rv = read_head_once(l, d, &info, &user, &admin);
	/* Handles die with their device, even one plugged back in: connect
	 * afresh, once. */
	if (skf_rv_gone(rv) && d->h) {
		skf_dev_disconnect(l, d);
		rv = read_head_once(l, d, &info, &user, &admin);
	}
	if (skf_rv_gone(rv)) {
		skf_dev_disconnect(l, d);
		return 0;
	}
	if (rv != SAR_OK) {
		log_warning("%s: device %s: reading it failed: %s", l->path, d->name,
			    skf_rv_text(rv));
		skf_dev_disconnect(l, d);
		return rv == SKF_RV_NO_MEMORY ? -ENOMEM : -EIO;
	}
	t = head_token(l, d, place, &info, &user, &admin);
	if (!t)
		return -ENOMEM;
	free(d->serial);
	d->serial = strdup(t->serial);
	*ret = t;
	return 0;
}

/* Grows an array of records by one, zeroed; NULL on ENOMEM. */
static void *grow(void *array, size_t n, size_t size)
{
	uint8_t *p = realloc(array, (n + 1) * size);

	if (p)
		memset(p + n * size, 0, size);
	return p;
}

struct export_ctx {
	struct skf_lib *l;
	HCONTAINER c;
	BOOL sign;
};

static ULONG export_cert(void *ctx, BYTE *buf, ULONG *len)
{
	struct export_ctx *e = ctx;

	return e->l->fn.ExportCertificate(e->c, e->sign, buf, len);
}

static ULONG export_key(void *ctx, BYTE *buf, ULONG *len)
{
	struct export_ctx *e = ctx;

	return e->l->fn.ExportPublicKey(e->c, e->sign, buf, len);
}

/* Codes that say a container holds no such certificate or key. */
static bool absent(ULONG rv)
{
	return rv == SAR_CERTNOTFOUNTERR || rv == SAR_KEYNOTFOUNTERR || rv == SAR_FILE_NOT_EXIST ||
	       rv == SAR_NOTSUPPORTYETERR;
}

static ULONG add_cert(struct token *t, const char *cont, bool sign, uint8_t *der, size_t len)
{
	struct token_cert *c = grow(t->certs, t->n_certs, sizeof(*c));

	if (!c) {
		free(der);
		return SKF_RV_NO_MEMORY;
	}
	t->certs = c;
	c = &t->certs[t->n_certs++]; /* token_unref() releases partial entries */
	c->der = der;
	c->der_len = len;
	/* The container's name is its certificates' and keys' id: the pairing
	 * (certs.c) and the self-test find the key pair by it. */
	c->id_len = strlen(cont);
	c->id = malloc(c->id_len + 1);
	if (c->id)
		memcpy(c->id, cont, c->id_len + 1);
	if (asprintf(&c->label, "%s/%s", cont, sign ? "sign" : "enc") < 0)
		c->label = NULL;
	return c->id && c->label ? SAR_OK : SKF_RV_NO_MEMORY;
}

static ULONG add_key(struct token *t, const char *cont, ULONG type, const uint8_t *blob, size_t len)
{
	uint8_t point[SKF_EC_POINT_MAX];
	const uint8_t *modulus = NULL;
	size_t modulus_len = 0;
	ssize_t point_len = -1;
	struct token_key *k;

	if (type == SKF_CONTAINER_TYPE_ECC)
		point_len = skf_blob_ec_point(blob, len, point);
	else if (skf_blob_rsa_modulus(blob, len, &modulus, &modulus_len) < 0)
		modulus = NULL;
	if (point_len < 0 && !modulus) {
		log_debug("%s: container %s: a public key blob that does not parse, skipped",
			  t->serial, cont);
		return SAR_OK;
	}
	k = grow(t->keys, t->n_keys, sizeof(*k));
	if (!k)
		return SKF_RV_NO_MEMORY;
	t->keys = k;
	k = &t->keys[t->n_keys++];
	k->id_len = strlen(cont);
	k->id = malloc(k->id_len + 1);
	if (!k->id)
		return SKF_RV_NO_MEMORY;
	memcpy(k->id, cont, k->id_len + 1);
	if (point_len > 0) {
		k->ec_point = malloc((size_t)point_len);
		if (!k->ec_point)
			return SKF_RV_NO_MEMORY;
		memcpy(k->ec_point, point, (size_t)point_len);
		k->ec_point_len = (size_t)point_len;
	} else {
		k->modulus = malloc(modulus_len);
		if (!k->modulus)
			return SKF_RV_NO_MEMORY;
		memcpy(k->modulus, modulus, modulus_len);
		k->modulus_len = modulus_len;
	}
	return SAR_OK;
}

/* The certificate and public key of one side of an open container. */
static ULONG read_pair(struct skf_lib *l, HCONTAINER c, const char *cont, ULONG type, bool sign,
		       struct token *t, const char **failed)
{
	struct export_ctx e = {l, c, sign ? TRUE : FALSE};
	uint8_t *buf = NULL;
	size_t len = 0;
	ULONG rv;

	*failed = "SKF_ExportCertificate";
	rv = skf_fetch(export_cert, &e, CERT_ROOM, MAX_VALUE, &buf, &len);
	if (rv == SAR_OK && len > 0)
		rv = add_cert(t, cont, sign, TAKE_PTR(buf), len);
	free(buf);
	buf = NULL;
	if (absent(rv))
		rv = SAR_OK;
	if (rv != SAR_OK)
		return rv;
	*failed = "SKF_ExportPublicKey";
	rv = skf_fetch(export_key, &e, KEY_ROOM, KEY_MAX, &buf, &len);
	if (rv == SAR_OK)
		rv = add_key(t, cont, type, buf, len);
	free(buf);
	return absent(rv) ? SAR_OK : rv;
}

static ULONG read_container(struct skf_lib *l, HAPPLICATION app, const char *cont, struct token *t,
			    const char **failed)
{
	HCONTAINER c = NULL;
	skf_out32 type = {.wide = 0};
	ULONG rv;

	*failed = "SKF_OpenContainer";
	rv = l->fn.OpenContainer(app, (LPSTR)cont, &c);
	if (rv == SAR_OK && !c)
		rv = SAR_INVALIDHANDLEERR;
	if (rv != SAR_OK)
		return rv;
	*failed = "SKF_GetContainerType";
	rv = l->fn.GetContainerType(c, &type.v);
	/* An empty container (no key pair yet) holds nothing to show. */
	if (rv == SAR_OK && type.v != SKF_CONTAINER_TYPE_EMPTY) {
		rv = read_pair(l, c, cont, type.v, true, t, failed);
		if (rv == SAR_OK)
			rv = read_pair(l, c, cont, type.v, false, t, failed);
	}
	(void)l->fn.CloseContainer(c);
	return rv;
}

static ULONG read_containers(struct skf_lib *l, HAPPLICATION app, struct token *t,
			     const char **failed)
{
	char **names = NULL;
	size_t n = 0;
	ULONG rv;

	*failed = "SKF_EnumContainer";
	rv = skf_enum_containers(l, app, &names, &n);
	for (size_t i = 0; rv == SAR_OK && i < n; i++)
		rv = read_container(l, app, names[i], t, failed);
	skf_names_free(names, n);
	return rv;
}

static ULONG enum_files(void *ctx, BYTE *buf, ULONG *len)
{
	struct export_ctx *e = ctx;

	return e->l->fn.EnumFiles(e->c, (LPSTR)buf, len);
}

/* A whole file of size bytes, in pieces of at most chunk bytes (a token
 * may return fewer: a short read); *ret_len short of size when the file
 * ended sooner. A piece larger than small (the device's buffer) that the
 * library refuses is asked again in pieces of small. */
static ULONG read_file(struct skf_lib *l, HAPPLICATION app, const char *name, size_t size,
		       size_t chunk, size_t small, uint8_t **ret, size_t *ret_len)
{
	uint8_t *buf = calloc(size + 1, 1); /* outputs zeroed before the calls */
	size_t off = 0;

	if (!buf)
		return SKF_RV_NO_MEMORY;
	for (unsigned calls = 0; off < size; calls++) {
		size_t want = size - off < chunk ? size - off : chunk;
		skf_out32 got = {.wide = 0};
		ULONG rv;

		if (calls == MAX_READS) {
			free(buf);
			return SKF_RV_BAD_SIZE;
		}
		got.v = (ULONG)want;
		rv = l->fn.ReadFile(app, (LPSTR)name, (ULONG)off, (ULONG)want, buf + off, &got.v);
		if (rv == SAR_OK && got.v > want)
			rv = SKF_RV_LENGTH_PAST;
		/* The library's own refusal (not garbage) of a large piece. */
		if (rv != SAR_OK && !skf_rv_is_own(rv) && !skf_rv_gone(rv) && small &&
		    want > small && chunk > small) {
			chunk = small;
			continue;
		}
		if (rv != SAR_OK) {
			free(buf);
			return rv;
		}
		if (got.v == 0)
			break; /* the file ended before its size */
		off += got.v;
	}
	buf[off] = 0;
	*ret = buf;
	*ret_len = off;
	return SAR_OK;
}

ULONG skf_add_object(struct token *t, const char *app_name, const char *name, uint8_t *value,
		     size_t len)
{
	struct token_object *o = grow(t->objects, t->n_objects, sizeof(*o));

	if (!o) {
		free(value);
		return SKF_RV_NO_MEMORY;
	}
	t->objects = o;
	o = &t->objects[t->n_objects++];
	o->value = value;
	o->value_len = len;
	o->label = text_decode(name, strlen(name));
	o->application = text_decode(app_name, strlen(app_name));
	return o->label && o->application ? SAR_OK : SKF_RV_NO_MEMORY;
}

/* Whether rights open a file to the reader asked for: anyone, or a
 * logged-in user (and not anyone: those are read without login). */
static bool readable(ULONG rights, bool anyone_only)
{
	if (rights == SECURE_ANYONE_ACCOUNT)
		return anyone_only;
	return !anyone_only && (rights & SECURE_USER_ACCOUNT);
}

ULONG skf_read_files(struct skf_lib *l, HAPPLICATION app, const char *app_name, bool anyone_only,
		     ULONG max_buffer, struct token *t)
{
	struct export_ctx e = {l, app, FALSE};
	/* Libraries split a read into the device's pieces themselves; one
	 * that cannot is asked again in pieces of the device's buffer. */
	size_t small = max_buffer >= 256 && max_buffer < DEFAULT_CHUNK ? max_buffer : 0;
	char **names = NULL;
	size_t n = 0;
	ULONG rv;

	if (!l->files)
		return SAR_OK;
	rv = skf_fetch_names(enum_files, &e, &names, &n);
	for (size_t i = 0; rv == SAR_OK && i < n; i++) {
		union {
			FILEATTRIBUTE a;
			uint8_t room[256];
		} u = {0};
		uint8_t *value = NULL;
		size_t len = 0;

		rv = l->fn.GetFileInfo(app, names[i], &u.a);
		if (rv != SAR_OK)
			break;
		if (!readable(u.a.ReadRights, anyone_only))
			continue;
		if (u.a.FileSize > MAX_VALUE) {
			log_warning(
				"%s: token %s: file %s is too large to read (%u bytes), skipped",
				l->path, t->serial, names[i], (unsigned)u.a.FileSize);
			continue;
		}
		rv = read_file(l, app, names[i], u.a.FileSize, DEFAULT_CHUNK, small, &value, &len);
		if (rv == SAR_OK)
			rv = skf_add_object(t, app_name, names[i], value, len);
	}
	skf_names_free(names, n);
	return rv;
}

int skf_read_objects(void *lib, struct token *t)
{
	struct skf_lib *l = lib;
	struct skf_dev *d = find_dev(l, t->place.name);
	const char *failed = "SKF_EnumFiles";
	ULONG rv = SAR_OK;

	if (!d || !d->h)
		return -ENODEV;
	for (size_t i = 0; rv == SAR_OK && i < d->n_apps; i++) {
		rv = read_containers(l, d->apps[i].h, t, &failed);
		if (rv == SAR_OK) {
			failed = "SKF_EnumFiles, SKF_GetFileInfo or SKF_ReadFile";
			rv = skf_read_files(l, d->apps[i].h, d->apps[i].name, true, d->max_buffer,
					    t);
		}
	}
	if (rv == SAR_OK)
		return 0;
	if (skf_rv_gone(rv)) {
		skf_dev_disconnect(l, d);
		return -ENODEV;
	}
	if (rv == SKF_RV_NO_MEMORY)
		return -ENOMEM;
	log_warning("%s: device %s: reading token %s failed in %s: %s", l->path, d->name, t->serial,
		    failed, skf_rv_text(rv));
	return -EIO;
}
