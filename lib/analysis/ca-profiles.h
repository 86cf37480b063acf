/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CA profiles: which CA issued a certificate, recognized from its issuer
 * name through data files (data/ca-profiles.conf, extended or overridden
 * by an administrator in /etc/ukey/ca-profiles.d, files ending .conf), and what ukeyd
 * knows of that CA (display names, default PIN, renewal window).
 * Loaded once at start; read-only afterwards, so any thread may use it.
 */
#pragma once

#include <stddef.h>

struct ca_profile {
	char *id;
	char *name_en, *name_zh;
	char **match; /* issuer substrings, compared case-insensitively */
	size_t n_match;
	char *default_pin;
	unsigned renewal_days;
};

struct ca_profiles {
	struct ca_profile *v; /* in match order; "unknown" always exists */
	size_t n;
};

/* Reads the shipped file, then every *.conf in dir (either may be NULL;
 * a missing dir is fine). Returns 0, or a negative errno with a message
 * naming the file and line in *ret_error (malloc'ed). */
int ca_profiles_load(struct ca_profiles *p, const char *file, const char *dir, char **ret_error);
void ca_profiles_release(struct ca_profiles *p);

/* The profile whose issuer_match occurs in issuer, else "unknown". */
const struct ca_profile *ca_profiles_match(const struct ca_profiles *p, const char *issuer);
const struct ca_profile *ca_profiles_get(const struct ca_profiles *p, const char *id);
