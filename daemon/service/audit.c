/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "text-decode.h"
#include "util.h"

int audit_append(const char *path, const struct ucred *peer, const char *program,
		 const char *serial, const char *operation, const char *result)
{
	_cleanup_free_ char *line = NULL;
	json_object *e = json_object_new_object();
	time_t now = time(NULL);
	char when[32];
	struct tm tm;
	size_t len;
	int fd, r = 0;

	if (!e)
		return -ENOMEM;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(e, "time", json_object_new_string(when));
	json_object_object_add(e, "uid", json_object_new_int64(peer->uid));
	json_object_object_add(e, "pid", json_object_new_int64(peer->pid));
	/* The kernel's comm may hold any bytes: JSON needs UTF-8. */
	_cleanup_free_ char *prog =
		text_decode(program ? program : "", program ? strlen(program) : 0);
	json_object_object_add(e, "program", json_object_new_string(prog ? prog : ""));
	json_object_object_add(e, "serial", json_object_new_string(serial ? serial : ""));
	json_object_object_add(e, "operation", json_object_new_string(operation));
	json_object_object_add(e, "result", json_object_new_string(result));
	line = ukey_msg_format(e, &len);
	json_object_put(e);
	if (!line)
		return -ENOMEM;
	log_notice("audit: uid %u pid %d (%s) token %s: %s: %s", (unsigned)peer->uid,
		   (int)peer->pid, prog ? prog : "?", serial ? serial : "-", operation, result);
	/* O_APPEND: each entry is one write at the end, never an overwrite. */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, line, len) != (ssize_t)len || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	close(fd);
	return r;
}

void audit_record(const char *path, const struct ucred *peer, const char *program,
		  const char *serial, const char *operation, const char *result)
{
	int r = audit_append(path, peer, program, serial, operation, result);

	if (r < 0)
		log_error("cannot write the audit log %s: %s", path, strerror(-r));
}

static int64_t entry_time(json_object *e)
{
	json_object *v;
	struct tm tm = {0};
	const char *end;

	if (!json_object_object_get_ex(e, "time", &v) ||
	    !(end = strptime(json_object_get_string(v), "%Y-%m-%dT%H:%M:%SZ", &tm)) || *end)
		return 0;
	return (int64_t)timegm(&tm);
}

int audit_read(const char *path, int64_t since, json_object **ret_entries)
{
	json_object *arr = json_object_new_array();
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!arr) {
		if (f)
			fclose(f);
		return -ENOMEM;
	}
	while (f && (n = getline(&line, &cap, f)) > 0) {
		json_object *e = NULL;
		if (line[n - 1] == '\n')
			n--;
		/* A line torn by a crash is skipped, not fatal. */
		if (ukey_msg_parse(line, (size_t)n, &e) < 0)
			continue;
		if (entry_time(e) >= since)
			json_object_array_add(arr, e);
		else
			json_object_put(e);
	}
	free(line);
	if (f)
		fclose(f);
	*ret_entries = arr;
	return 0;
}
