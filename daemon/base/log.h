/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyd's log: the journal when stderr is connected to it, else stderr.
 * Callers log once, where an error is handled; never a PIN or an
 * object value. */
#pragma once

#include <syslog.h>

void log_setup(int max_level);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
