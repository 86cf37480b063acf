/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Certificate expiry notices as they fall due: after every change of the
 * cache, and on a CLOCK_REALTIME timer set for the exact next threshold
 * crossing (never a polling loop). Each notice is logged and handed on as
 * a cert_expiry event. model/expiry-notify.h decides what is due and
 * remembers what was said.
 */
#pragma once

#include <json-c/json.h>
#include <systemd/sd-event.h>

struct expiry_watch;
struct token_cache;

/* A cert_expiry event (taken). */
typedef void (*expiry_event_fn)(json_object *event, void *userdata);

/* Reads what was announced before from STATE_DIR/expiry-notices.json (a
 * corrupt file is logged and forgotten). cache outlives the watch.
 * Returns 0 or a negative errno. */
int expiry_watch_new(sd_event *loop, const char *state_dir, const struct token_cache *cache,
		     expiry_event_fn fn, void *userdata, struct expiry_watch **ret);
void expiry_watch_free(struct expiry_watch *w);

/* Announces the thresholds crossed by now and sets the timer for the
 * next crossing. */
void expiry_watch_check(struct expiry_watch *w);
