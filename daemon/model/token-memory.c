/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "token-memory.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "state-file.h"

/* {"<serial>": {"pin_default": true, "primary": true}} */
struct token_memory {
	char *path;
	json_object *doc;
};

int token_memory_load(const char *path, struct token_memory **ret)
{
	struct token_memory *m = calloc(1, sizeof(*m));
	int r;

	if (!m || !(m->path = strdup(path))) {
		free(m);
		return -ENOMEM;
	}
	r = state_file_read(path, &m->doc);
	if (!m->doc) {
		token_memory_free(m);
		return -ENOMEM;
	}
	*ret = m;
	return r;
}

void token_memory_free(struct token_memory *m)
{
	if (!m)
		return;
	json_object_put(m->doc);
	free(m->path);
	free(m);
}

int token_memory_get(const struct token_memory *m, const char *serial, const char *fact)
{
	json_object *entry, *v;

	if (serial && json_object_object_get_ex(m->doc, serial, &entry) &&
	    json_object_object_get_ex(entry, fact, &v) && json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? 1 : 0;
	return -1;
}

int token_memory_set(struct token_memory *m, const char *serial, const char *fact, bool value)
{
	json_object *entry;

	if (token_memory_get(m, serial, fact) == (int)value)
		return 0;
	if (!json_object_object_get_ex(m->doc, serial, &entry)) {
		entry = json_object_new_object();
		if (!entry || json_object_object_add(m->doc, serial, entry) != 0)
			return -ENOMEM;
	}
	if (json_object_object_add(entry, fact, json_object_new_boolean(value)) != 0)
		return -ENOMEM;
	return state_file_write(m->path, m->doc);
}
