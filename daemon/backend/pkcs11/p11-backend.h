/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pkcs11 backend: PKCS#11 modules through libp11 and their own
 * function lists. */
#pragma once

#include "backend.h"

extern const struct backend_ops p11_backend_ops;
