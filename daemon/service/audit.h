/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The audit trail of PIN operations and refusals: who (uid, pid, program),
 * when, which token, what, and how it ended. Never a PIN. One JSON object
 * per line in STATE_DIR/audit.log, numbered ("seq"), and logged.
 *
 * A thread of its own writes and reads the file, so the loop never waits
 * on a disk: entries queued together are written with one write and one
 * fsync, and whoever queued one learns on the loop whether it is on disk.
 * A PIN operation writes its intent ("started") before the token is
 * touched and its outcome after, so a crash between the two leaves the
 * intent. The file is rotated by size (audit.log.1 ... .N), and read a
 * page at a time.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

struct audit;

struct audit_entry {
	const struct ucred *peer;
	const char *program;
	const char *serial;    /* NULL: none */
	const char *operation; /* "pin_change", "pin_unlock", "audit_read", ... */
	const char *result;    /* "started", "done", an error code, ... */
	unsigned count;	       /* > 1: this entry stands for count refusals */
};

/* The most an audit page holds (the "limit" of a request). */
#define AUDIT_PAGE_MAX 1000

/* Opens the log at path (a torn last line is ended, so the next entry
 * starts on a line of its own) and starts the thread. max_size: bytes
 * before the file is rotated; keep: rotated files kept. Returns 0 or a
 * negative errno. */
int audit_new(sd_event *loop, const char *path, uint64_t max_size, unsigned keep,
	      struct audit **ret);
/* Writes what is queued, stops the thread, then tells every caller still
 * waiting -ECANCELED (nothing is started at shutdown). */
void audit_free(struct audit *a);

/* New rotation settings (a configuration reload). */
void audit_set_rotation(struct audit *a, uint64_t max_size, unsigned keep);

/* Called on the loop: 0 once the entry is on disk, or a negative errno. */
typedef void (*audit_written_fn)(int r, void *userdata);

/* Queues an entry (copied) and logs it. written (may be NULL) is called
 * later, never from inside audit_write(). Returns 0 or -ENOMEM (then
 * written is not called). */
int audit_write(struct audit *a, const struct audit_entry *e, audit_written_fn written,
		void *userdata);

/* Called on the loop with the entries (taken) of a page, oldest first,
 * whether more follow, and the seq to ask "after" for the next page; or
 * a negative errno and NULL. */
typedef void (*audit_page_fn)(int r, json_object *entries, bool more, uint64_t next,
			      void *userdata);

/* Reads, on the audit thread, the entries with a time at or after since
 * (Unix time) and a seq above after, at most limit (1..AUDIT_PAGE_MAX).
 * Returns 0 or -ENOMEM (then done is not called). */
int audit_read_page(struct audit *a, int64_t since, uint64_t after, unsigned limit,
		    audit_page_fn done, void *userdata);

/* One line of the file as an entry, or NULL when it is none (torn by a
 * crash, or garbage): an object with a string "time" (ISO 8601 UTC),
 * integers "uid" and, when there, "seq", "pid", "count", and strings
 * "operation", "result" and, when there, "program", "serial". */
json_object *audit_parse_line(const char *line, size_t len);

/* The page of a file's text (for the reader and the fuzzer): appends
 * matching entries to entries until it holds limit; *more is set when a
 * matching entry is left over. Lines longer than 64 KiB are skipped. */
void audit_page_text(const char *text, size_t len, int64_t since, uint64_t after, unsigned limit,
		     json_object *entries, bool *more);
