/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pkcs11 backend's scan steps (backend.h): slots with a token, a
 * token's CK_TOKEN_INFO, and its objects read without login. module is a
 * struct p11_module. */
#pragma once

#include <stddef.h>

struct token;
struct token_place;

int p11_list_places(void *module, struct token_place **ret_places, size_t *ret_n, char **ret_error);
int p11_read_head(void *module, const struct token_place *place, struct token **ret);
int p11_read_objects(void *module, struct token *t);
