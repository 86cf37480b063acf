/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "inventory.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "log.h"
#include "module.h"
#include "proto.h"
#include "scan-result.h"
#include "token-cache.h"
#include "token-json.h"
#include "token-memory.h"
#include "token.h"
#include "util.h"
#include "wire-names.h"

struct inventory {
	sd_event *loop;
	const struct ca_profiles *profiles;
	struct token_memory *memory;
	unsigned module_timeout;
	struct module **modules;
	size_t n_modules;
	struct token_cache cache;
	bool ready;
	const struct inventory_callbacks *cb;
	void *userdata;
};

static json_object *event_new(enum ukey_event_type type, const char *serial)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "event", json_object_new_string(ukey_wire_event_name(type)));
	json_object_object_add(e, "serial", json_object_new_string(serial ? serial : ""));
	return e;
}

static bool same_json(json_object *a, json_object *b)
{
	return strcmp(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
		      json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN)) == 0;
}

/* Where events are born: the module's tokens now, compared with the
 * cache before it is replaced. A serial not there before is added, one
 * that is gone removed, one whose TOKEN JSON differs changed (PIN state,
 * certificates, seals: any difference a client sees). Blank slots are not
 * news. A token that two libraries reach (one token, two doors) is one
 * token: the door the cache does not serve is no news, and a token the
 * module lost but another library still reaches has changed, not gone. */
static void announce_changes(struct inventory *inv, struct module *m, struct token **now, size_t n)
{
	const char *path = module_get_path(m);
	int64_t t_now = time(NULL);

	for (size_t i = 0; i < n; i++) {
		const struct token *old = token_cache_find(&inv->cache, now[i]->serial);
		json_object *new_json, *e;

		if (!now[i]->initialized)
			continue;
		if (old && strcmp(old->module, path) != 0 && token_cache_prefers(old, now[i]))
			continue; /* served through the other door */
		new_json = token_to_json(now[i], t_now);
		if (!old) {
			log_info("token %s \"%s\" present on %s", now[i]->serial, now[i]->label,
				 path);
			e = event_new(UKEY_EVENT_TOKEN_ADDED, now[i]->serial);
			module_count_token(m, true);
		} else {
			_cleanup_json_ json_object *old_json = token_to_json(old, t_now);
			if (strcmp(old->module, path) != 0) {
				log_info("token %s \"%s\" present on %s too; served from there",
					 now[i]->serial, now[i]->label, path);
				module_count_token(m, true);
			}
			if (same_json(old_json, new_json)) {
				json_object_put(new_json);
				continue;
			}
			e = event_new(UKEY_EVENT_TOKEN_CHANGED, now[i]->serial);
		}
		json_object_object_add(e, "token", new_json);
		inv->cb->event(e, inv->userdata);
	}
	for (size_t i = 0; i < inv->cache.n_tokens; i++) {
		const struct token *t = inv->cache.tokens[i], *other;
		bool still = false;
		json_object *e;

		if (!t->initialized || strcmp(t->module, path) != 0)
			continue;
		for (size_t k = 0; k < n && !still; k++)
			still = streq_ptr(now[k]->serial, t->serial);
		if (still)
			continue;
		module_count_token(m, false);
		other = token_cache_other_door(&inv->cache, t->serial, path);
		if (other && other->initialized) {
			_cleanup_json_ json_object *old_json = token_to_json(t, t_now);
			json_object *new_json = token_to_json(other, t_now);

			log_info("token %s \"%s\" gone from %s; still on %s", t->serial, t->label,
				 path, other->module);
			if (same_json(old_json, new_json)) {
				json_object_put(new_json);
				continue;
			}
			e = event_new(UKEY_EVENT_TOKEN_CHANGED, t->serial);
			json_object_object_add(e, "token", new_json);
			inv->cb->event(e, inv->userdata);
			continue;
		}
		log_info("token %s \"%s\" gone from %s", t->serial, t->label, path);
		e = event_new(UKEY_EVENT_TOKEN_REMOVED, t->serial);
		json_object_object_add(e, "label", json_object_new_string(t->label));
		inv->cb->event(e, inv->userdata);
	}
}

/* What PKCS#11 cannot say, ukeyd remembers per serial: whether the PIN is
 * the default (unless the token's own flag says, as SKF's does), whether
 * the token carried a seal once. */
static void attach_memory(struct inventory *inv, struct token *t)
{
	int err;

	if (token_has_seal(t) &&
	    (err = token_memory_set(inv->memory, t->serial, TOKEN_FACT_PRIMARY, true)) < 0)
		log_error("cannot remember token %s as a primary: %s", t->serial, strerror(-err));
	t->pin_default = t->pin_default_flag >= 0
				 ? t->pin_default_flag
				 : token_memory_get(inv->memory, t->serial, TOKEN_FACT_PIN_DEFAULT);
	t->was_primary = token_memory_get(inv->memory, t->serial, TOKEN_FACT_PRIMARY) == 1;
	if (t->was_primary && !token_has_seal(t))
		log_warning("token %s was a primary (主锁) but shows no seal now", t->serial);
}

void inventory_apply_scan(struct inventory *inv, struct module *m, struct scan_result *r)
{
	const char *path = module_get_path(m);

	if (r->error < 0)
		log_error("%s: %s; its tokens are not served", path,
			  r->error_msg ? r->error_msg : strerror(-r->error));
	for (size_t i = 0; i < r->n_tokens; i++) {
		/* Its rank now, so a second door compares as the cache will. */
		r->tokens[i]->module_rank = module_get_rank(m);
		if (r->tokens[i]->initialized)
			attach_memory(inv, r->tokens[i]);
	}
	announce_changes(inv, m, r->tokens, r->n_tokens);
	if (token_cache_replace_module(&inv->cache, path, module_get_rank(m), r->tokens,
				       r->n_tokens) == 0) {
		r->tokens = NULL; /* the cache owns them now */
		r->n_tokens = 0;
	} else {
		log_error("%s: out of memory updating the token cache", path);
	}
	scan_result_free(r);
}

/* Once every module has answered its first scan (or stalled), an answer
 * "no tokens" is true; it stays so. */
static void check_ready(struct inventory *inv)
{
	if (inv->ready)
		return;
	for (size_t i = 0; i < inv->n_modules; i++)
		if (module_owes(inv->modules[i], 1))
			return;
	inv->ready = true;
	token_cache_bump_generation(&inv->cache); /* list replies say "scanning" no more */
	log_info("ready: %zu token(s) on %zu module(s)", inv->cache.n_tokens, inv->n_modules);
}

static void on_scanned(struct module *m, struct scan_result *r, void *userdata)
{
	inventory_apply_scan(userdata, m, r);
}

static void on_job_done(struct module *m, struct job *j, void *userdata)
{
	j->finish(j);
}

static void on_progress(struct module *m, void *userdata)
{
	struct inventory *inv = userdata;

	check_ready(inv);
	inv->cb->progress(inv->userdata);
}

static const struct module_callbacks module_callbacks = {
	.scanned = on_scanned,
	.job_done = on_job_done,
	.progress = on_progress,
};

int inventory_new(sd_event *loop, const struct ca_profiles *profiles, struct token_memory *memory,
		  unsigned module_timeout, const struct inventory_callbacks *cb, void *userdata,
		  struct inventory **ret)
{
	struct inventory *inv = calloc(1, sizeof(*inv));

	if (!inv)
		return -ENOMEM;
	inv->loop = sd_event_ref(loop);
	inv->profiles = profiles;
	inv->memory = memory;
	inv->module_timeout = module_timeout;
	inv->cb = cb;
	inv->userdata = userdata;
	token_cache_init(&inv->cache);
	*ret = inv;
	return 0;
}

void inventory_free(struct inventory *inv)
{
	if (!inv)
		return;
	for (size_t i = 0; i < inv->n_modules; i++)
		module_free(inv->modules[i]);
	free(inv->modules);
	token_cache_release(&inv->cache);
	sd_event_unref(inv->loop);
	free(inv);
}

int inventory_add_module(struct inventory *inv, const struct backend_ops *ops, const char *path)
{
	struct module **n = realloc(inv->modules, (inv->n_modules + 1) * sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	inv->modules = n;
	r = module_new(inv->loop, ops, path, (unsigned)inv->n_modules, inv->profiles,
		       inv->module_timeout, &module_callbacks, inv, &n[inv->n_modules]);
	if (r < 0)
		return r;
	inv->n_modules++;
	return 0;
}

size_t inventory_count_modules(const struct inventory *inv)
{
	return inv->n_modules;
}

struct module *inventory_get_module(struct inventory *inv, size_t i)
{
	return i < inv->n_modules ? inv->modules[i] : NULL;
}

struct module *inventory_module_of(struct inventory *inv, const struct token *t)
{
	for (size_t i = 0; i < inv->n_modules; i++)
		if (strcmp(module_get_path(inv->modules[i]), t->module) == 0)
			return inv->modules[i];
	return NULL;
}

struct token_cache *inventory_get_cache(struct inventory *inv)
{
	return &inv->cache;
}

bool inventory_is_ready(struct inventory *inv)
{
	check_ready(inv);
	return inv->ready;
}

int inventory_wait_init(struct inventory *inv, bool rescan, struct inventory_wait *w)
{
	w->seqs = calloc(inv->n_modules + 1, sizeof(*w->seqs));
	if (!w->seqs)
		return -ENOMEM;
	for (size_t i = 0; i < inv->n_modules; i++)
		w->seqs[i] = rescan ? module_request_scan(inv->modules[i], WORKER_SCAN_FULL) : 1;
	return 0;
}

void inventory_wait_release(struct inventory_wait *w)
{
	free(w->seqs);
	w->seqs = NULL;
}

bool inventory_wait_pending(const struct inventory *inv, const struct inventory_wait *w)
{
	for (size_t i = 0; i < inv->n_modules; i++)
		if (module_owes(inv->modules[i], w->seqs[i]))
			return true;
	return false;
}
