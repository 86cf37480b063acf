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
#include <stddef.h>

struct ca_profiles;
struct job;
struct token;
struct token_place;

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

	/*
	 * A scan, in three steps, so the worker reads only what changed
	 * (worker.c) and a slow token costs only its own reads:
	 *
	 * Where tokens sit now, as cheaply as the library allows, touching no
	 * token where it can (PKCS#11: C_GetSlotList of slots with a token).
	 * Returns 0, or a negative errno with what failed in *ret_error: the
	 * library failed as a whole.
	 */
	int (*list_places)(void *state, struct token_place **ret_places, size_t *ret_n,
			   char **ret_error);
	/* The token at a place as the library's listing shows it: its
	 * identity and the state of its PINs (PKCS#11: C_GetTokenInfo), in a
	 * new record without objects; *ret NULL when the place is empty now.
	 * Returns 0 or a negative errno: the token is left out, and the
	 * backend, which knows its library's codes, has logged why. */
	int (*read_head)(void *state, const struct token_place *place, struct token **ret);
	/* Adds to such a record what a read without login shows: certificates,
	 * key objects, data objects (the worker analyzes them). Returns 0,
	 * -ENODEV when the token left meanwhile, or another negative errno
	 * (logged by the backend, like read_head's). */
	int (*read_objects)(void *state, struct token *t);

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
