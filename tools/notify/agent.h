/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What ukey-notify tells the bidder, and when: it follows ukeyd's events
 * through libukey and turns them into notices. Where a notice goes (the
 * desktop, or standard output for --once) is the sink's business.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <ukey/ukey.h>

/* freedesktop urgency levels; a notice's follows the severity of what it says. */
enum notice_urgency {
	NOTICE_LOW = 0,
	NOTICE_NORMAL = 1,
	NOTICE_CRITICAL = 2,
};

/* What a notice is about. Each token has one notice per subject, and the
 * daemon one: a newer notice replaces the one shown (replaces_id), so a
 * token pulled out and plugged in again ten times leaves one notice. */
enum notice_subject {
	SUBJECT_TOKEN,	/* plugged in (the readiness verdict), pulled out */
	SUBJECT_PIN,	/* still on the default PIN */
	SUBJECT_EXPIRY, /* a certificate crossed an expiry threshold */
	SUBJECT_COUNT,
};

struct notice {
	enum notice_urgency urgency;
	const char *summary; /* one line, plain text; text from tokens escaped */
	const char *body;    /* lines; text from tokens escaped, no markup */
	const char *icon;    /* a freedesktop icon name */
	const char *category;
};

/* Shows a notice, replacing the one with *id (0: none); sets *id to the
 * new notice's id. Returns 0 or a negative errno. */
typedef int (*notice_sink_fn)(void *userdata, const struct notice *n, uint32_t *id);

/* Logs one line to standard error (the journal, or the session log). */
void notify_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct agent;

/* An agent reading from @client (not yet subscribed). */
struct agent *agent_new(ukey_client *client, notice_sink_fn sink, void *userdata);
void agent_free(struct agent *a);

/* Subscribes, then treats every token plugged in now as just plugged in.
 * Returns the libukey error. */
enum ukey_error agent_start(struct agent *a);

/* The notices for the tokens plugged in now, as a plug-in would give them,
 * without subscribing (--once), once ukeyd's first scan is over (it waits
 * up to 3 s for it). Sets *ret_problems when a token is not ready or has
 * warnings, or the scan went on longer (then it says so on standard
 * error). Returns the libukey error. */
enum ukey_error agent_once(struct agent *a, bool *ret_problems);

/* Call when ukey_client_get_fd() is readable: dispatches the events and
 * shows their notices. Never blocks but for the requests it makes. */
void agent_process(struct agent *a);

/* Whether ukeyd's first scan runs (it just started, or came back): its
 * end sends no event, so call agent_process() now and then (every 0.5 s)
 * while this is true, for the tokens pulled out meanwhile. */
bool agent_settling(const struct agent *a);
