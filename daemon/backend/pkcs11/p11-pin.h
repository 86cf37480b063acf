/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PIN jobs on a PKCS#11 token at the place the worker last saw it: the
 * token's flags read fresh, the lockout guard, one login on a R/W session
 * (never retried), the operation, a logout, the flags read again.
 */
#pragma once

struct job;

/* module is a struct p11_module: these are the backend's job operations
 * (backend.h) as they are. */
void p11_change_pin(void *module, struct job *j);	 /* C_SetPIN */
void p11_unlock_pin(void *module, struct job *j);	 /* SO login, C_InitPIN */
void p11_probe_default_pin(void *module, struct job *j); /* the login alone */
void p11_read_private(void *module, struct job *j);	 /* struct private_read_job */
void p11_selftest(void *module, struct job *j);		 /* struct selftest_job */
