/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "expiry-watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca-profiles.h"
#include "certs.h"
#include "expiry-notify.h"
#include "log.h"
#include "token.h"
#include "util.h"
#include "wire-names.h"

struct expiry_watch {
	sd_event *loop;
	const struct token_cache *cache;
	struct expiry_state *state;
	sd_event_source *timer;
	expiry_event_fn fn;
	void *userdata;
};

static void announce(const struct expiry_notice *n, void *userdata)
{
	struct expiry_watch *w = userdata;
	const struct cert_info *c = n->cert->info;
	json_object *e = json_object_new_object();
	time_t end = (time_t)c->not_after;
	struct tm tm;
	char date[32] = "?";

	if (gmtime_r(&end, &tm))
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	if (n->days_left < 0)
		log_warning(
			"token %s: certificate \"%s\" (%s, issued by %s) expired on %s: it can no "
			"longer sign or decrypt bids; renew it at the CA",
			n->token->serial, n->cert->label, c->subject, c->ca->name_en, date);
	else
		log_warning(
			"token %s: certificate \"%s\" (%s, issued by %s) expires on %s, %lld "
			"day(s) left: renew it now, before encrypting any bid, and never while a "
			"bid encrypted with this token is still unopened",
			n->token->serial, n->cert->label, c->subject, c->ca->name_en, date,
			(long long)n->days_left);
	json_object_object_add(
		e, "event", json_object_new_string(ukey_wire_event_name(UKEY_EVENT_CERT_EXPIRY)));
	json_object_object_add(e, "serial", json_object_new_string(n->token->serial));
	json_object_object_add(e, "cert_label",
			       json_object_new_string(n->cert->label ? n->cert->label : ""));
	json_object_object_add(e, "threshold", json_object_new_int(n->threshold));
	json_object_object_add(e, "days_left", json_object_new_int64(n->days_left));
	json_object_object_add(e, "not_after", json_object_new_string(date));
	w->fn(e, w->userdata);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	expiry_watch_check(userdata);
	return 0;
}

void expiry_watch_check(struct expiry_watch *w)
{
	int64_t now = time(NULL), next;
	int n, r;

	n = expiry_collect(w->state, w->cache, now, announce, w);
	if (n > 0 && (r = expiry_state_save(w->state, w->cache, now)) < 0)
		log_error("cannot save expiry notices to the state directory: %s", strerror(-r));
	next = expiry_next_crossing(w->state, w->cache, now);
	if (next == INT64_MAX) {
		(void)sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
		return;
	}
	if (!w->timer) {
		r = sd_event_add_time(w->loop, &w->timer, CLOCK_REALTIME, (uint64_t)next * 1000000u,
				      1000000u, on_timer, w);
		if (r < 0)
			log_error("cannot arm the expiry timer: %s", strerror(-r));
		return;
	}
	(void)sd_event_source_set_time(w->timer, (uint64_t)next * 1000000u);
	(void)sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
}

int expiry_watch_new(sd_event *loop, const char *state_dir, const struct token_cache *cache,
		     expiry_event_fn fn, void *userdata, struct expiry_watch **ret)
{
	_cleanup_free_ char *path = NULL;
	struct expiry_watch *w;
	int r;

	if (asprintf(&path, "%s/expiry-notices.json", state_dir) < 0)
		return -ENOMEM;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	r = expiry_state_load(path, &w->state);
	if (r == -EBADMSG) {
		/* Losing it only means a notice may be repeated once. */
		log_warning("%s is corrupt; starting with no expiry notices remembered", path);
		r = 0;
	}
	if (r < 0) {
		free(w);
		return r;
	}
	w->loop = sd_event_ref(loop);
	w->cache = cache;
	w->fn = fn;
	w->userdata = userdata;
	*ret = w;
	return 0;
}

void expiry_watch_free(struct expiry_watch *w)
{
	if (!w)
		return;
	sd_event_source_disable_unref(w->timer);
	expiry_state_free(w->state);
	sd_event_unref(w->loop);
	free(w);
}
