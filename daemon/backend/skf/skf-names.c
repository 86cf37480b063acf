/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SKF name lists: untrusted bytes with a length, into copies (skf-names.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "skf-names.h"

/* Walks the list once, checking it; counts names. The array is then
 * allocated at its final size, so a list refused half-way costs no
 * allocation and the out-parameters are written only at the end. */
static int names_count(const char *buf, size_t len, size_t *ret_n)
{
	size_t pos = 0, n = 0;

	while (pos < len && buf[pos] != '\0') {
		const char *end = memchr(buf + pos, '\0', len - pos);
		size_t l;

		if (!end)
			return -EBADMSG;
		l = (size_t)(end - (buf + pos));
		if (l > SKF_NAME_MAX)
			return -ENAMETOOLONG;
		if (n == SKF_NAMES_MAX)
			return -E2BIG;
		n++;
		pos += l + 1;
	}
	*ret_n = n;
	return 0;
}

int skf_names_parse(const char *buf, size_t len, char ***ret_names, size_t *ret_n)
{
	char **names;
	size_t n, pos = 0;
	int r;

	if (!ret_names || !ret_n || (!buf && len > 0))
		return -EINVAL;
	r = names_count(buf, len, &n);
	if (r < 0)
		return r;
	names = calloc(n + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		/* names_count() found the NUL within len for each of these. */
		size_t l = strnlen(buf + pos, len - pos);

		names[i] = malloc(l + 1);
		if (!names[i]) {
			skf_names_free(names, i);
			return -ENOMEM;
		}
		memcpy(names[i], buf + pos, l);
		names[i][l] = '\0';
		pos += l + 1;
	}
	*ret_names = names;
	*ret_n = n;
	return 0;
}

void skf_names_free(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
