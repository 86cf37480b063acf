/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "conf-files.h"

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int parse_one(const char *path, conf_handler handler, void *data, const char *what,
		     char **ret_error)
{
	FILE *f = fopen(path, "re");
	int r;

	if (!f) {
		r = -errno;
		if (asprintf(ret_error, "%s: %s", path, strerror(errno)) < 0)
			*ret_error = NULL;
		return r;
	}
	r = ini_parse_file(f, handler, data);
	fclose(f);
	if (r != 0) {
		if (asprintf(ret_error, "%s:%d: invalid %s line", path, r, what) < 0)
			*ret_error = NULL;
		return -EINVAL;
	}
	return 0;
}

static int conf_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

int conf_files_parse(const char *file, const char *dir, conf_handler handler, void *shipped_data,
		     void *admin_data, const char *what, char **ret_error)
{
	struct dirent **names = NULL;
	int r = 0, n = 0;

	*ret_error = NULL;
	if (file)
		r = parse_one(file, handler, shipped_data, what, ret_error);
	if (dir)
		n = scandir(dir, &names, conf_filter, alphasort);
	for (int i = 0; i < n; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (r == 0)
			r = parse_one(path, handler, admin_data, what, ret_error);
		free(names[i]);
	}
	free(names);
	return r;
}

int conf_list_append(char ***list, size_t *n, const char *value)
{
	_cleanup_free_ char *copy = strdup(value);
	char *save = NULL;

	if (!copy)
		return 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end, **grown;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!*tok)
			continue;
		grown = realloc(*list, (*n + 1) * sizeof(*grown));
		if (!grown)
			return 0;
		*list = grown;
		if (!(grown[*n] = strdup(tok)))
			return 0;
		(*n)++;
	}
	return 1;
}

int conf_set_str(char **field, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return 0;
	free(*field);
	*field = s;
	return 1;
}
