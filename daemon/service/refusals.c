/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "refusals.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "rate-bucket.h"
#include "util.h"

/* Each user may have this many refusals audited one by one at once, and
 * one more a second; the rest are counted, and the counts written
 * SUMMARY_AFTER seconds after the first of them. */
#define BURST 10.0
#define PER_SECOND 1.0
#define SUMMARY_AFTER_USEC (10u * 1000000u)

/* Refusals counted and not yet written, of one operation and result. */
struct counted {
	struct counted *next;
	char operation[32], result[32], program[32];
	pid_t pid;
	unsigned n;
};

struct user {
	struct user *next;
	struct refusals *owner;
	uid_t uid;
	struct rate_bucket bucket; /* of refusals audited one by one */
	struct counted *counted;
	sd_event_source *timer; /* writes the counts */
};

struct refusals {
	sd_event *loop;
	struct audit *audit;
	struct user *users;
};

static uint64_t now_usec(const struct refusals *r)
{
	uint64_t t = 0;

	(void)sd_event_now(r->loop, CLOCK_MONOTONIC, &t);
	return t;
}

static void write_counts(struct user *u)
{
	while (u->counted) {
		struct counted *c = u->counted;
		struct ucred peer = {.pid = c->pid, .uid = u->uid};
		struct audit_entry e = {&peer, c->program, NULL, c->operation, c->result, c->n};

		u->counted = c->next;
		if (audit_write(u->owner->audit, &e, NULL, NULL) < 0)
			log_error("out of memory: %u refusals of uid %u are not in the audit log",
				  c->n, (unsigned)u->uid);
		free(c);
	}
}

static void user_free(struct user *u)
{
	write_counts(u);
	sd_event_source_disable_unref(u->timer);
	free(u);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	write_counts(userdata);
	return 0;
}

/* The user's entry, made when missing; users quiet long enough (their
 * bucket full, nothing counted) are dropped on the way. */
static struct user *user_get(struct refusals *r, uid_t uid, uint64_t now)
{
	struct user **pp = &r->users, *u, *found = NULL;

	while ((u = *pp)) {
		if (u->uid == uid) {
			found = u;
		} else if (!u->counted && rate_bucket_is_full(&u->bucket, PER_SECOND, BURST, now)) {
			*pp = u->next;
			user_free(u);
			continue;
		}
		pp = &u->next;
	}
	if (found)
		return found;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	*u = (struct user){
		.next = r->users, .owner = r, .uid = uid, .bucket = rate_bucket_full(BURST, now)};
	if (sd_event_add_time(r->loop, &u->timer, CLOCK_MONOTONIC, UINT64_MAX, 1000000u, on_timer,
			      u) < 0 ||
	    sd_event_source_set_enabled(u->timer, SD_EVENT_OFF) < 0) {
		sd_event_source_disable_unref(u->timer);
		free(u);
		return NULL;
	}
	r->users = u;
	return u;
}

static void count(struct user *u, const struct ucred *peer, const char *program,
		  const char *operation, const char *result, uint64_t now)
{
	struct counted *c;

	for (c = u->counted; c; c = c->next)
		if (!strcmp(c->operation, operation) && !strcmp(c->result, result))
			break;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return;
		snprintf(c->operation, sizeof(c->operation), "%s", operation);
		snprintf(c->result, sizeof(c->result), "%s", result);
		c->next = u->counted;
		u->counted = c;
	}
	/* The latest of them speaks for the count. */
	snprintf(c->program, sizeof(c->program), "%s", program ? program : "");
	c->pid = peer->pid;
	c->n++;
	if (c->n == 1 && c == u->counted && !c->next) {
		(void)sd_event_source_set_time(u->timer, now + SUMMARY_AFTER_USEC);
		(void)sd_event_source_set_enabled(u->timer, SD_EVENT_ONESHOT);
	}
}

void refusals_record(struct refusals *r, const struct ucred *peer, const char *program,
		     const char *serial, const char *operation, const char *result)
{
	uint64_t now = now_usec(r);
	struct user *u = user_get(r, peer->uid, now);
	struct audit_entry e = {peer, program, serial, operation, result, 1};

	if (u && !rate_bucket_take(&u->bucket, PER_SECOND, BURST, now)) {
		count(u, peer, program, operation, result, now);
		return;
	}
	if (audit_write(r->audit, &e, NULL, NULL) < 0)
		log_error("out of memory: a refusal of uid %u is not in the audit log",
			  (unsigned)peer->uid);
}

int refusals_new(sd_event *loop, struct audit *audit, struct refusals **ret)
{
	struct refusals *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->loop = sd_event_ref(loop);
	r->audit = audit;
	*ret = r;
	return 0;
}

void refusals_free(struct refusals *r)
{
	if (!r)
		return;
	while (r->users) {
		struct user *u = r->users;
		r->users = u->next;
		user_free(u);
	}
	sd_event_unref(r->loop);
	free(r);
}
