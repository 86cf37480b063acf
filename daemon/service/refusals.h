/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Refused requests in the audit log, a user at a time: the first few of a
 * burst one by one, then only counted, and the count written as one entry
 * ("count": N) when the burst is over. A user who sends refused requests
 * by the thousand fills neither the disk nor the journal; every refusal
 * is still accounted for.
 */
#pragma once

#include <sys/socket.h>
#include <systemd/sd-event.h>

struct audit;
struct refusals;

int refusals_new(sd_event *loop, struct audit *audit, struct refusals **ret);
/* Writes the counts still pending. */
void refusals_free(struct refusals *r);

/* Audits a refusal (result: "permission_denied", "refused_by_policy",
 * "retry_later", ...), or counts it. */
void refusals_record(struct refusals *r, const struct ucred *peer, const char *program,
		     const char *serial, const char *operation, const char *result);
