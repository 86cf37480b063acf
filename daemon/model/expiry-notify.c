/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "expiry-notify.h"

#include <errno.h>
#include <json-c/json.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certs.h"
#include "log.h"
#include "state-file.h"
#include "token-cache.h"
#include "token.h"
#include "util.h"

#define DAY 86400
#define KEEP_AFTER_EXPIRY (366 * DAY)

const int expiry_thresholds[5] = {30, 7, 3, 1, 0};

/* {"version":1,"certs":{"<sha256 of DER>":{"not_after":T,"notified":30}}}
 * "notified" is the most urgent threshold announced so far. */
struct expiry_state {
	char *path;
	json_object *certs;
};

void expiry_state_free(struct expiry_state *s)
{
	if (!s)
		return;
	json_object_put(s->certs);
	free(s->path);
	free(s);
}

/* An entry ukeyd wrote: {"not_after": T, "notified": threshold}. */
static bool entry_valid(json_object *entry)
{
	json_object *v;

	return json_object_is_type(entry, json_type_object) &&
	       json_object_object_get_ex(entry, "not_after", &v) &&
	       json_object_is_type(v, json_type_int) &&
	       json_object_object_get_ex(entry, "notified", &v) &&
	       json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0 &&
	       json_object_get_int64(v) <= expiry_thresholds[0];
}

int expiry_state_from_json(const char *path, json_object *doc, struct expiry_state **ret_state)
{
	struct expiry_state *s = calloc(1, sizeof(*s));
	json_object *certs;
	int dropped = 0;

	if (!s || !(s->path = strdup(path))) {
		free(s);
		return -ENOMEM;
	}
	if (json_object_object_get_ex(doc, "certs", &certs) &&
	    json_object_is_type(certs, json_type_object)) {
		s->certs = json_object_get(certs);
		json_object_object_foreach (s->certs, key, entry) {
			if (entry_valid(entry))
				continue;
			json_object_object_del(s->certs, key);
			dropped++;
		}
	} else {
		/* A file without "certs" is new (empty) or not ours. */
		dropped = json_object_object_length(doc) > 0;
		s->certs = json_object_new_object();
	}
	if (!s->certs) {
		expiry_state_free(s);
		return -ENOMEM;
	}
	*ret_state = s;
	return dropped;
}

int expiry_state_load(const char *path, struct expiry_state **ret_state)
{
	json_object *doc = NULL;
	int r = state_file_read(path, &doc), dropped;

	if (!doc)
		return -ENOMEM;
	dropped = expiry_state_from_json(path, doc, ret_state);
	json_object_put(doc);
	if (dropped < 0)
		return dropped;
	if (r < 0)
		return -EBADMSG;
	if (dropped > 0)
		log_warning("%s: %d entries not in ukeyd's shape are dropped (their notices may "
			    "come once more)",
			    path, dropped);
	return 0;
}

static void cert_key(const struct token_cert *c, char out[SHA256_DIGEST_LENGTH * 2 + 1]);

static bool model_has(const struct token_cache *m, const char *key)
{
	char k[SHA256_DIGEST_LENGTH * 2 + 1];

	for (size_t i = 0; i < m->n_tokens; i++)
		for (size_t j = 0; j < m->tokens[i]->n_certs; j++) {
			cert_key(&m->tokens[i]->certs[j], k);
			if (strcmp(k, key) == 0)
				return true;
		}
	return false;
}

int expiry_state_save(struct expiry_state *s, const struct token_cache *m, int64_t now)
{
	json_object *doc;
	int r;

	/* Forget certificates long expired, so the file does not grow
	 * forever; but not those still plugged in, or they would be
	 * announced again at the next start. */
	json_object_object_foreach (s->certs, key, entry) {
		json_object *na;
		if (json_object_object_get_ex(entry, "not_after", &na) &&
		    json_object_get_int64(na) + KEEP_AFTER_EXPIRY < now && !model_has(m, key))
			json_object_object_del(s->certs, key);
	}
	doc = json_object_new_object();
	if (!doc)
		return -ENOMEM;
	json_object_object_add(doc, "version", json_object_new_int(1));
	json_object_object_add(doc, "certs", json_object_get(s->certs));
	r = state_file_write(s->path, doc);
	json_object_put(doc);
	return r;
}

static void cert_key(const struct token_cert *c, char out[SHA256_DIGEST_LENGTH * 2 + 1])
{
	uint8_t digest[SHA256_DIGEST_LENGTH];

	SHA256(c->der, c->der_len, digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* The most urgent threshold announced for this certificate, or INT32_MAX. */
static int notified(const struct expiry_state *s, const struct token_cert *c)
{
	char key[SHA256_DIGEST_LENGTH * 2 + 1];
	json_object *entry, *v;

	cert_key(c, key);
	if (json_object_object_get_ex(s->certs, key, &entry) &&
	    json_object_object_get_ex(entry, "notified", &v))
		return json_object_get_int(v);
	return INT32_MAX;
}

static int record(struct expiry_state *s, const struct token_cert *c, int threshold)
{
	char key[SHA256_DIGEST_LENGTH * 2 + 1];
	json_object *entry = json_object_new_object();

	if (!entry)
		return -ENOMEM;
	cert_key(c, key);
	json_object_object_add(entry, "not_after", json_object_new_int64(c->info->not_after));
	json_object_object_add(entry, "notified", json_object_new_int(threshold));
	return json_object_object_add(s->certs, key, entry) == 0 ? 0 : -ENOMEM;
}

int expiry_collect(struct expiry_state *s, const struct token_cache *m, int64_t now,
		   expiry_notice_fn fn, void *userdata)
{
	int count = 0;

	for (size_t i = 0; i < m->n_tokens; i++) {
		const struct token *t = m->tokens[i];
		for (size_t k = 0; k < t->n_certs; k++) {
			const struct token_cert *c = &t->certs[k];
			int64_t days;
			int crossed = -1, done;

			if (!c->info || now < c->info->not_before)
				continue;
			days = cert_days_left(c->info, now);
			done = notified(s, c);
			/* The most urgent threshold reached and not announced. */
			for (size_t j = 0; j < ARRAY_SIZE(expiry_thresholds); j++)
				if (days <= expiry_thresholds[j] && expiry_thresholds[j] < done)
					crossed = expiry_thresholds[j];
			if (crossed < 0)
				continue;
			if (record(s, c, crossed) < 0)
				return -ENOMEM;
			fn(&(struct expiry_notice){t, c, crossed, days}, userdata);
			count++;
		}
	}
	return count;
}

int64_t expiry_next_crossing(const struct expiry_state *s, const struct token_cache *m, int64_t now)
{
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < m->n_tokens; i++)
		for (size_t k = 0; k < m->tokens[i]->n_certs; k++) {
			const struct token_cert *c = &m->tokens[i]->certs[k];
			int done;

			if (!c->info)
				continue;
			done = notified(s, c);
			for (size_t j = 0; j < ARRAY_SIZE(expiry_thresholds); j++) {
				int th = expiry_thresholds[j];
				/* days_left <= th from this second on. */
				int64_t at = c->info->not_after - (int64_t)(th + 1) * DAY + 1;
				if (th < done && at < c->info->not_before)
					at = c->info->not_before;
				if (th < done && at > now && at < next)
					next = at;
			}
		}
	return next;
}
