/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pin-memory.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "state-file.h"

/* {"<serial>": {"default": true}} */
struct pin_memory {
	char *path;
	json_object *doc;
};

int pin_memory_load(const char *path, struct pin_memory **ret)
{
	struct pin_memory *m = calloc(1, sizeof(*m));
	int r;

	if (!m || !(m->path = strdup(path))) {
		free(m);
		return -ENOMEM;
	}
	r = state_file_read(path, &m->doc);
	if (!m->doc) {
		pin_memory_free(m);
		return -ENOMEM;
	}
	*ret = m;
	return r;
}

void pin_memory_free(struct pin_memory *m)
{
	if (!m)
		return;
	json_object_put(m->doc);
	free(m->path);
	free(m);
}

int pin_memory_get(const struct pin_memory *m, const char *serial)
{
	json_object *entry, *v;

	if (serial && json_object_object_get_ex(m->doc, serial, &entry) &&
	    json_object_object_get_ex(entry, "default", &v) &&
	    json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? 1 : 0;
	return -1;
}

int pin_memory_set(struct pin_memory *m, const char *serial, bool is_default)
{
	json_object *entry = json_object_new_object();

	if (!entry)
		return -ENOMEM;
	json_object_object_add(entry, "default", json_object_new_boolean(is_default));
	if (json_object_object_add(m->doc, serial, entry) != 0)
		return -ENOMEM;
	return state_file_write(m->path, m->doc);
}
