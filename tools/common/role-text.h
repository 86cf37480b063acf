/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ukey/ukey.h>

/* "primary (carries the seal)", "secondary (no seal)", ... in the user's
 * language; NULL while the role is unknown, so each caller says that its own
 * way. Shared by ukeyctl and ukey-notify so a bidder reads the same words in
 * the terminal and in a desktop notice. */
const char *role_text(const ukey_token *t);
