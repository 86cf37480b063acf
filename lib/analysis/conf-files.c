/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "conf-files.h"

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct line_reader {
	FILE *f;
	char *line;
	size_t cap;
	int lineno;
	int first_long; /* the first line too long, or 0 */
};

/* inih's reader: one line of the file per call, whole, or a line that
 * inih refuses (no '=', ':' or '[') in the place of one too long (a long
 * comment is only skipped). */
static char *read_whole_line(char *str, int num, void *stream)
{
	struct line_reader *r = stream;
	ssize_t n = getline(&r->line, &r->cap, r->f);
	size_t len;

	if (n < 0)
		return NULL;
	r->lineno++;
	len = (size_t)n;
	if (len > 0 && r->line[len - 1] == '\n')
		len--;
	if (len > CONF_MAX_LINE || (int)len + 2 > num) {
		size_t lead = strspn(r->line, " \t");
		/* A long comment says nothing: an empty line in its place. */
		if (r->line[lead] == '#' || r->line[lead] == ';') {
			snprintf(str, (size_t)num, "\n");
			return str;
		}
		if (!r->first_long)
			r->first_long = r->lineno;
		snprintf(str, (size_t)num, "\x01\n");
		return str;
	}
	memcpy(str, r->line, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

int conf_parse_file(FILE *f, conf_handler handler, void *userdata, bool *ret_too_long)
{
	struct line_reader r = {.f = f};
	int bad = ini_parse_stream(read_whole_line, &r, handler, userdata);

	free(r.line);
	if (ret_too_long)
		*ret_too_long = bad > 0 && bad == r.first_long;
	return bad;
}

static int parse_one(const char *path, conf_handler handler, void *data, const char *what,
		     char **ret_error)
{
	FILE *f = fopen(path, "re");
	bool too_long;
	int r;

	if (!f) {
		r = -errno;
		if (asprintf(ret_error, "%s: %s", path, strerror(errno)) < 0)
			*ret_error = NULL;
		return r;
	}
	r = conf_parse_file(f, handler, data, &too_long);
	fclose(f);
	if (r != 0) {
		if ((too_long ? asprintf(ret_error, "%s:%d: line too long (at most %d bytes)", path,
					 r, CONF_MAX_LINE)
			      : asprintf(ret_error, "%s:%d: invalid %s line", path, r, what)) < 0)
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
