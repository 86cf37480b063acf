/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A token backend: one kind of library that reaches tokens (a PKCS#11
 * module; later a GM/T 0016 SKF library). Each loaded library is one
 * instance, run by a worker thread of its own (worker.h): every function
 * here is called on that thread only, one at a time, so a backend needs
 * no locking of its own, and a slow token stalls only its own library.
 *
 * A backend turns what its library shows into plain token records
 * (model/token.h) and leaves their meaning to the analysis; the layers
 * above never see a backend's handles.
 */
#pragma once

#include <stdbool.h>

struct ca_profiles;
struct job;
struct scan_result;

struct backend_ops {
	const char *name; /* "pkcs11": for the logs */

	/* Loads the library at path. profiles outlive the instance. When
	 * the library can report devices coming and going by itself, the
	 * backend writes to device_event_fd (an eventfd) for each report,
	 * from a thread of its own (device-watch.h). Returns 0, or a
	 * negative errno with what failed in *ret_error (malloc'ed, or
	 * NULL). */
	int (*load)(const char *path, const struct ca_profiles *profiles, int device_event_fd,
		    void **ret_state, char **ret_error);
	/* Unloads it (NULL is fine): the device reports stop. */
	void (*unload)(void *state);

	/* Reads every token without logging in. NULL only on ENOMEM. */
	struct scan_result *(*scan)(void *state);

	/* PIN operations. Each fills j->outcome (and rv, user_pin, so_pin):
	 * one login at most, never retried, and never one the lockout guard
	 * refuses. */
	void (*change_pin)(void *state, struct job *j);
	void (*unlock_pin)(void *state, struct job *j);
	void (*probe_default_pin)(void *state, struct job *j);
	/* struct private_read_job: the objects only a login shows. */
	void (*read_private)(void *state, struct job *j);
	/* struct selftest_job: a signature and a decryption with the keys. */
	void (*selftest)(void *state, struct job *j);
};
