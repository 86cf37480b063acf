/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pkcs11 backend's scan: every token of the module, read without
 * login into token records and analyzed. */
#pragma once

struct scan_result;

/* module is a struct p11_module. NULL only on ENOMEM. One token that
 * fails to read is logged and left out; it does not hide the others. */
struct scan_result *p11_scan(void *module);
