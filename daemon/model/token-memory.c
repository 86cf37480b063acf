/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "token-memory.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "state-file.h"
#include "util.h"

/* {"<serial>": {"pin_default": true, "primary": true, "user_pin_failures": 2,
 *               "user_pin_retry_at_ms": 1767225600}} */
struct token_memory {
	char *path; /* NULL: never saved */
	json_object *doc;
};

static const char *const bool_facts[] = {TOKEN_FACT_PIN_DEFAULT, TOKEN_FACT_PRIMARY};
static const char *const int_facts[] = {"user_pin_failures", "user_pin_retry_at_ms",
					"so_pin_failures", "so_pin_retry_at_ms"};

static bool is_one_of(const char *key, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, names[i]) == 0)
			return true;
	return false;
}

/* What ukeyd can use: an object whose facts have their types. Members it
 * does not know (a newer ukeyd's) are kept. */
static bool entry_valid(json_object *entry)
{
	if (!json_object_is_type(entry, json_type_object))
		return false;
	json_object_object_foreach (entry, key, v) {
		if (is_one_of(key, bool_facts, 2) && !json_object_is_type(v, json_type_boolean))
			return false;
		if (is_one_of(key, int_facts, 4) &&
		    (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0))
			return false;
	}
	return true;
}

int token_memory_adopt(const char *path, json_object *doc, struct token_memory **ret)
{
	struct token_memory *m = calloc(1, sizeof(*m));
	json_object *bad = NULL;
	unsigned n_bad = 0;
	int r;

	if (!m || (path && !(m->path = strdup(path)))) {
		free(m);
		json_object_put(doc);
		return -ENOMEM;
	}
	m->doc = doc;
	json_object_object_foreach (doc, serial, entry) {
		if (entry_valid(entry))
			continue;
		if (!bad && !(bad = json_object_new_object()))
			break;
		if (n_bad++ < 10)
			log_warning(
				"%s: what is remembered of token \"%s\" is not in ukeyd's shape "
				"(%s); it is set aside in %s.bad and forgotten here",
				path ? path : "token memory", serial,
				json_object_to_json_string_ext(entry, JSON_C_TO_STRING_PLAIN),
				path ? path : "token memory");
		json_object_object_add(bad, serial, json_object_get(entry));
		json_object_object_del(doc, serial);
	}
	if (n_bad > 10)
		log_warning("%s: %u more tokens set aside", path ? path : "token memory",
			    n_bad - 10);
	if (bad && path) {
		_cleanup_free_ char *bad_path = NULL;
		if (asprintf(&bad_path, "%s.bad", path) < 0)
			r = -ENOMEM;
		else
			r = state_file_write(bad_path, bad);
		if (r < 0)
			log_error("cannot set aside %s.bad: %s", path, strerror(-r));
		/* The file without them, so they are not read again. */
		else if ((r = state_file_write(path, doc)) < 0)
			log_error("cannot rewrite %s: %s", path, strerror(-r));
	}
	json_object_put(bad);
	*ret = m;
	return 0;
}

int token_memory_load(const char *path, struct token_memory **ret)
{
	json_object *doc = NULL;
	int r = state_file_read(path, &doc), r2;

	if (!doc)
		return -ENOMEM;
	if (r == -EBADMSG) {
		r2 = state_file_set_aside(path);
		if (r2 < 0)
			log_error("cannot set %s aside: %s", path, strerror(-r2));
	}
	r2 = token_memory_adopt(path, doc, ret);
	return r2 < 0 ? r2 : r;
}

void token_memory_free(struct token_memory *m)
{
	if (!m)
		return;
	json_object_put(m->doc);
	free(m->path);
	free(m);
}

static json_object *entry_of(const struct token_memory *m, const char *serial)
{
	json_object *entry;

	return serial && json_object_object_get_ex(m->doc, serial, &entry) ? entry : NULL;
}

int token_memory_get(const struct token_memory *m, const char *serial, const char *fact)
{
	json_object *entry = entry_of(m, serial), *v;

	if (entry && json_object_object_get_ex(entry, fact, &v) &&
	    json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? 1 : 0;
	return -1;
}

static json_object *entry_make(struct token_memory *m, const char *serial)
{
	json_object *entry = entry_of(m, serial);

	if (entry)
		return entry;
	entry = json_object_new_object();
	if (!entry || json_object_object_add(m->doc, serial, entry) != 0)
		return NULL;
	return entry;
}

static int save(struct token_memory *m)
{
	return m->path ? state_file_write(m->path, m->doc) : 0;
}

int token_memory_set(struct token_memory *m, const char *serial, const char *fact, bool value)
{
	json_object *entry;

	if (token_memory_get(m, serial, fact) == (int)value)
		return 0;
	entry = entry_make(m, serial);
	if (!entry || json_object_object_add(entry, fact, json_object_new_boolean(value)) != 0)
		return -ENOMEM;
	return save(m);
}

static int64_t get_int(json_object *entry, const char *key)
{
	json_object *v;

	return entry && json_object_object_get_ex(entry, key, &v) ? json_object_get_int64(v) : 0;
}

static int64_t delay_after(int64_t failures)
{
	if (failures <= 0)
		return 0;
	if (failures > 12) /* 2^12 s is past the longest */
		return TOKEN_PIN_DELAY_MAX;
	return (int64_t)1 << (failures - 1) < TOKEN_PIN_DELAY_MAX ? (int64_t)1 << (failures - 1)
								  : TOKEN_PIN_DELAY_MAX;
}

unsigned token_memory_pin_wait(const struct token_memory *m, const char *serial, bool so,
			       int64_t now_ms)
{
	json_object *entry = entry_of(m, serial);
	int64_t failures = get_int(entry, so ? "so_pin_failures" : "user_pin_failures");
	int64_t at = get_int(entry, so ? "so_pin_retry_at_ms" : "user_pin_retry_at_ms");
	int64_t most = delay_after(failures) * 1000, wait;

	if (failures <= 0 || at <= now_ms)
		return 0;
	wait = at - now_ms < most ? at - now_ms : most;
	return (unsigned)((wait + 999) / 1000);
}

int token_memory_pin_failed(struct token_memory *m, const char *serial, bool so, int64_t now_ms)
{
	json_object *entry = entry_make(m, serial);
	int64_t failures;

	if (!entry)
		return -ENOMEM;
	failures = get_int(entry, so ? "so_pin_failures" : "user_pin_failures");
	if (failures < INT32_MAX) /* a file may say anything: no overflow */
		failures++;
	if (json_object_object_add(entry, so ? "so_pin_failures" : "user_pin_failures",
				   json_object_new_int64(failures)) != 0 ||
	    json_object_object_add(entry, so ? "so_pin_retry_at_ms" : "user_pin_retry_at_ms",
				   json_object_new_int64(now_ms + delay_after(failures) * 1000)) !=
		    0)
		return -ENOMEM;
	return save(m);
}

int token_memory_pin_succeeded(struct token_memory *m, const char *serial, bool so)
{
	json_object *entry = entry_of(m, serial);

	if (!entry || (get_int(entry, so ? "so_pin_failures" : "user_pin_failures") == 0 &&
		       get_int(entry, so ? "so_pin_retry_at_ms" : "user_pin_retry_at_ms") == 0))
		return 0;
	json_object_object_del(entry, so ? "so_pin_failures" : "user_pin_failures");
	json_object_object_del(entry, so ? "so_pin_retry_at_ms" : "user_pin_retry_at_ms");
	return save(m);
}
