/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "state-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int state_file_parse(const char *text, size_t len, json_object **ret_doc)
{
	json_tokener *tok = json_tokener_new_ex(32);
	json_object *doc = NULL;
	size_t used;

	*ret_doc = NULL;
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	if (len <= STATE_FILE_MAX_SIZE && ukey_utf8_valid(text, len))
		doc = json_tokener_parse_ex(tok, text, (int)len);
	if (doc && json_tokener_get_error(tok) == json_tokener_success &&
	    json_object_is_type(doc, json_type_object)) {
		/* Only white space may follow the object. */
		for (used = json_tokener_get_parse_end(tok); used < len; used++)
			if (!strchr(" \t\r\n", text[used]))
				break;
		if (used == len) {
			json_tokener_free(tok);
			*ret_doc = doc;
			return 0;
		}
	}
	json_tokener_free(tok);
	json_object_put(doc);
	*ret_doc = json_object_new_object();
	return *ret_doc ? -EBADMSG : -ENOMEM;
}

int state_file_read(const char *path, json_object **ret_doc)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	struct stat st;

	if (fd < 0 && errno == ENOENT) {
		*ret_doc = json_object_new_object();
		return *ret_doc ? 0 : -ENOMEM;
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)STATE_FILE_MAX_SIZE) {
		*ret_doc = json_object_new_object();
		return *ret_doc ? -EBADMSG : -ENOMEM;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, text + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	return state_file_parse(text, len, ret_doc);
}

int state_file_set_aside(const char *path)
{
	_cleanup_free_ char *bad = NULL;

	if (asprintf(&bad, "%s.bad", path) < 0)
		return -ENOMEM;
	return rename(path, bad) < 0 ? -errno : 0;
}
