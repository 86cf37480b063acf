/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "state-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int state_file_write(const char *path, json_object *doc)
{
	_cleanup_free_ char *tmp = NULL;
	const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY);
	size_t len = strlen(text);
	int fd, r = 0;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int state_file_read(const char *path, json_object **ret_doc)
{
	json_object *doc = json_object_from_file(path);

	if (doc && json_object_is_type(doc, json_type_object)) {
		*ret_doc = doc;
		return 0;
	}
	json_object_put(doc);
	*ret_doc = json_object_new_object();
	if (!*ret_doc)
		return -ENOMEM;
	return access(path, F_OK) == 0 ? -EBADMSG : 0;
}
