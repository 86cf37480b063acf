/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The skf backend: GM/T 0016 SKF libraries (the vendors' own interface of
 * Chinese CA tokens), dlopen'ed and called by name. */
#pragma once

#include "backend.h"

extern const struct backend_ops skf_backend_ops;
