/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Certificate analysis on arbitrary bytes: OpenSSL's parser, then our own
 * name decoding, extension scanning, key pairing and holder search. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca-profiles.h"
#include "certs.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ca_profiles profiles;
	static bool loaded;
	static const uint8_t id[] = {0x01};
	uint8_t modulus[256] = {0};
	struct token_key keys[2] = {
		{.id = (uint8_t *)id,
		 .id_len = 1,
		 .modulus = modulus,
		 .modulus_len = sizeof(modulus)},
		{.id = (uint8_t *)id,
		 .id_len = 1,
		 .ec_point = (uint8_t *)data,
		 .ec_point_len = size < 70 ? size : 70},
	};
	struct cert_info *c = NULL;
	struct holder h;

	if (!loaded) {
		char *error = NULL;
		loaded = true;
		if (ca_profiles_load(&profiles, getenv("CA_PROFILES"), NULL, &error) < 0)
			(void)ca_profiles_load(&profiles, NULL, NULL, &error);
		free(error);
	}
	if (cert_analyze(data, size, id, sizeof(id), &profiles, keys, 2, &c) != 0)
		return 0;
	/* Every string the analysis hands on must be valid UTF-8. */
	if (!ukey_utf8_valid(c->subject, strlen(c->subject)) ||
	    !ukey_utf8_valid(c->issuer, strlen(c->issuer)))
		abort();
	holder_from_certs((const struct cert_info *const[]){c}, 1, &h);
	if (h.name && !ukey_utf8_valid(h.name, strlen(h.name)))
		abort();
	(void)cert_next_change(c, 1700000000);
	(void)cert_expiry_state(c, 1700000000);
	cert_info_free(c);
	return 0;
}
