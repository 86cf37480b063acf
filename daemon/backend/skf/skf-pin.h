/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PIN operations on SKF tokens (backend.h): each on a fresh handle of the
 * token's PIN application, so a login is the job's alone and ends with
 * it; the lockout guard on the exact counts SKF_GetPINInfo gives. */
#pragma once

struct job;

void skf_change_pin(void *lib, struct job *j);
void skf_unlock_pin(void *lib, struct job *j);
void skf_probe_default_pin(void *lib, struct job *j);
void skf_read_private(void *lib, struct job *j);
void skf_selftest(void *lib, struct job *j);
