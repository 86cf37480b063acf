/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "util.h"

static int log_max_level = LOG_INFO;
static bool log_to_journal;

/* systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected
 * stderr to; only then is the journal where our stderr ends up. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(int max_level)
{
	log_max_level = max_level;
	log_to_journal = stderr_is_journal();
}

void log_msg(int level, const char *fmt, ...)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static const char *const names[] = {"emerg",   "alert",	 "crit", "error",
					    "warning", "notice", "info", "debug"};
	char buf[2048], safe[4096];
	va_list ap;
	int n;

	if (level > log_max_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Messages carry text from tokens and certificates (labels, names):
	 * its control characters are escaped here, once for every caller, so
	 * no label can end a line and forge the next one, or drive the
	 * terminal that shows the log. */
	ukey_escape_controls(buf,
			     n < 0		       ? 0
			     : (size_t)n < sizeof(buf) ? (size_t)n
						       : sizeof(buf) - 1,
			     safe, sizeof(safe));
	if (log_to_journal) {
		sd_journal_print(level, "%s", safe);
		return;
	}
	/* Worker threads log too; keep their lines whole. */
	pthread_mutex_lock(&lock);
	fprintf(stderr, "ukeyd[%s]: %s\n", names[level & 7], safe);
	pthread_mutex_unlock(&lock);
}
