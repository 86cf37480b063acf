/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ukeyd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "build-config.h"
#include "expiry-notify.h"
#include "token-memory.h"
#include "log.h"
#include "job.h"
#include "p11-backend.h"
#include "scan-result.h"
#include "worker.h"
#include "server.h"
#include "usb-hotplug.h"
#include "util.h"

static json_object *event_new(const char *type, const char *serial)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "event", json_object_new_string(type));
	json_object_object_add(e, "serial", json_object_new_string(serial ? serial : ""));
	return e;
}

static bool same_json(json_object *a, json_object *b)
{
	return strcmp(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
		      json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN)) == 0;
}

/* Tells the log and every subscribed client which tokens of a module
 * appeared, went away or changed (PIN state, certificates, seals: any
 * difference in what a client sees). Blank slots are not news. */
static void announce_token_changes(struct ukeyd *d, size_t module_index, struct token **now,
				   size_t n)
{
	struct module *m = &d->modules[module_index];
	const char *module = worker_get_path(m->worker);
	int64_t t_now = time(NULL);

	for (size_t i = 0; i < n; i++) {
		const struct token *old = token_cache_find(&d->model, now[i]->serial);
		json_object *new_json, *e;

		if (!now[i]->initialized)
			continue;
		new_json = token_to_json(now[i], t_now);
		if (!old || strcmp(old->module, module) != 0) {
			log_info("token %s \"%s\" present on %s", now[i]->serial, now[i]->label,
				 module);
			e = event_new("token_added", now[i]->serial);
			m->tokens_added++;
		} else {
			json_object *old_json = token_to_json(old, t_now);
			bool same = same_json(old_json, new_json);
			json_object_put(old_json);
			if (same) {
				json_object_put(new_json);
				continue;
			}
			e = event_new("token_changed", now[i]->serial);
		}
		json_object_object_add(e, "token", new_json);
		server_broadcast(d->server, e);
	}
	for (size_t i = 0; i < d->model.n_tokens; i++) {
		const struct token *t = d->model.tokens[i];
		bool still = false;

		if (!t->initialized || strcmp(t->module, module) != 0)
			continue;
		for (size_t k = 0; k < n && !still; k++)
			still = streq_ptr(now[k]->serial, t->serial);
		if (still)
			continue;
		log_info("token %s \"%s\" gone from %s", t->serial, t->label, module);
		m->tokens_removed++;
		json_object *e = event_new("token_removed", t->serial);
		json_object_object_add(e, "label", json_object_new_string(t->label));
		server_broadcast(d->server, e);
	}
}

static void announce_expiry_notice(const struct expiry_notice *n, void *userdata)
{
	struct ukeyd *d = userdata;
	const struct cert_info *c = n->cert->info;
	json_object *e = event_new("cert_expiry", n->token->serial);
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
	json_object_object_add(e, "cert_label",
			       json_object_new_string(n->cert->label ? n->cert->label : ""));
	json_object_object_add(e, "threshold", json_object_new_int(n->threshold));
	json_object_object_add(e, "days_left", json_object_new_int64(n->days_left));
	json_object_object_add(e, "not_after", json_object_new_string(date));
	if (d->server)
		server_broadcast(d->server, e);
	else
		json_object_put(e);
}

static int on_expiry_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* Announces the thresholds crossed by now, and sets the timer for the
 * next crossing: no polling, one wake-up per crossing. */
static void ukeyd_check_expiry(struct ukeyd *d)
{
	int64_t now = time(NULL), next;
	int n, r;

	n = expiry_collect(d->expiry, &d->model, now, announce_expiry_notice, d);
	if (n > 0 && (r = expiry_state_save(d->expiry, &d->model, now)) < 0)
		log_error("cannot save expiry notices to the state directory: %s", strerror(-r));
	next = expiry_next_crossing(d->expiry, &d->model, now);
	if (next == INT64_MAX) {
		(void)sd_event_source_set_enabled(d->expiry_timer, SD_EVENT_OFF);
		return;
	}
	if (!d->expiry_timer) {
		r = sd_event_add_time(d->loop, &d->expiry_timer, CLOCK_REALTIME,
				      (uint64_t)next * 1000000u, 1000000u, on_expiry_timer, d);
		if (r < 0)
			log_error("cannot arm the expiry timer: %s", strerror(-r));
		return;
	}
	(void)sd_event_source_set_time(d->expiry_timer, (uint64_t)next * 1000000u);
	(void)sd_event_source_set_enabled(d->expiry_timer, SD_EVENT_ONESHOT);
}

static int on_expiry_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	ukeyd_check_expiry(userdata);
	return 0;
}

static void ukeyd_check_ready(struct ukeyd *d)
{
	if (d->ready)
		return;
	for (size_t i = 0; i < d->n_modules; i++)
		if (ukeyd_module_owes(d, i, 1))
			return;
	d->ready = true;
	log_info("ready: %zu token(s) on %zu module(s)", d->model.n_tokens, d->n_modules);
	(void)sd_notify(0, "READY=1\nSTATUS=Serving");
}

static bool module_idle(const struct module *m)
{
	return m->completed >= m->requested && m->jobs == 0;
}

static int on_module_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ukeyd *d = userdata;

	for (size_t i = 0; i < d->n_modules; i++) {
		struct module *m = &d->modules[i];
		if (m->watchdog != s)
			continue;
		m->stalled = true;
		log_error("%s: no answer for %u s: a token or the module hangs in a PKCS#11 call. "
			  "Its tokens are served as last read, and requests no longer wait for it",
			  worker_get_path(m->worker), d->cfg->module_timeout);
	}
	ukeyd_check_ready(d);
	requests_run_pending(d);
	return 0;
}

/* (Re)starts module i's watchdog: the module owes an answer within
 * module_timeout from now. Nothing runs while every module is idle. */
static void module_watchdog_arm(struct ukeyd *d, size_t i)
{
	struct module *m = &d->modules[i];
	uint64_t usec = (uint64_t)d->cfg->module_timeout * 1000000u;
	int r;

	if (!m->watchdog) {
		r = sd_event_add_time_relative(d->loop, &m->watchdog, CLOCK_MONOTONIC, usec,
					       100000u, on_module_watchdog, d);
		if (r < 0)
			log_error("%s: cannot start its watchdog: %s",
				  worker_get_path(m->worker), strerror(-r));
		return;
	}
	(void)sd_event_source_set_time_relative(m->watchdog, usec);
	(void)sd_event_source_set_enabled(m->watchdog, SD_EVENT_ONESHOT);
}

/* After an answer from module i: progress, so the watchdog starts over,
 * or stops when nothing more is owed. */
static void module_answered(struct ukeyd *d, size_t i)
{
	struct module *m = &d->modules[i];

	if (m->stalled) {
		m->stalled = false;
		log_info("%s: answering again", worker_get_path(m->worker));
	}
	if (module_idle(m))
		(void)sd_event_source_set_enabled(m->watchdog, SD_EVENT_OFF);
	else
		module_watchdog_arm(d, i);
}

uint64_t ukeyd_request_scan(struct ukeyd *d, size_t i)
{
	struct module *m = &d->modules[i];

	if (module_idle(m))
		module_watchdog_arm(d, i);
	m->requested = worker_request_scan(m->worker);
	return m->requested;
}

void ukeyd_submit_job(struct ukeyd *d, size_t i, struct job *job)
{
	struct module *m = &d->modules[i];

	if (module_idle(m))
		module_watchdog_arm(d, i);
	m->jobs++;
	worker_submit(m->worker, job);
}

bool ukeyd_module_owes(const struct ukeyd *d, size_t i, uint64_t seq)
{
	return d->modules[i].completed < seq && !d->modules[i].stalled;
}

void ukeyd_apply_scan(struct ukeyd *d, size_t module_index, struct scan_result *r)
{
	const char *module = worker_get_path(d->modules[module_index].worker);

	if (r->error < 0)
		log_error("%s: %s; its tokens are not served", module,
			  r->error_msg ? r->error_msg : strerror(-r->error));
	for (size_t i = 0; i < r->n_tokens; i++) {
		struct token *t = r->tokens[i];
		int err;

		if (!t->initialized)
			continue;
		if (token_has_seal(t) &&
		    (err = token_memory_set(d->memory, t->serial, TOKEN_FACT_PRIMARY, true)) < 0)
			log_error("cannot remember token %s as a primary: %s", t->serial,
				  strerror(-err));
		t->pin_default = token_memory_get(d->memory, t->serial, TOKEN_FACT_PIN_DEFAULT);
		t->was_primary = token_memory_get(d->memory, t->serial, TOKEN_FACT_PRIMARY) == 1;
		if (t->was_primary && !token_has_seal(t))
			log_warning("token %s was a primary (主锁) but shows no seal now",
				    t->serial);
	}
	announce_token_changes(d, module_index, r->tokens, r->n_tokens);
	if (token_cache_replace_module(&d->model, module, (unsigned)module_index, r->tokens,
				       r->n_tokens) == 0) {
		r->tokens = NULL; /* the model owns them now */
		r->n_tokens = 0;
	} else {
		log_error("%s: out of memory updating the token model", module);
	}
	scan_result_free(r);
}

static int on_worker_result(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct ukeyd *d = userdata;
	struct scan_result *r;
	struct job *jobs;
	size_t i;

	for (i = 0; i < d->n_modules; i++)
		if (d->modules[i].src == src)
			break;
	if (i == d->n_modules)
		return 0;
	r = worker_take_result(d->modules[i].worker);
	if (r) {
		d->modules[i].completed = r->seq;
		ukeyd_apply_scan(d, i, r);
	}
	jobs = worker_take_jobs(d->modules[i].worker);
	while (jobs) {
		struct job *next = jobs->next;
		d->modules[i].jobs--;
		requests_finish_job(d, jobs);
		jobs = next;
	}
	module_answered(d, i);
	usb_rescan_check(d);
	ukeyd_check_expiry(d);
	ukeyd_check_ready(d);
	requests_run_pending(d);
	return 0;
}

/* The module says a slot changed: rescan it. A scan still queued is
 * shared; one already running may have missed the change, so another
 * follows it. */
static int on_slot_event(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct ukeyd *d = userdata;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	for (size_t i = 0; i < d->n_modules; i++) {
		struct module *m = &d->modules[i];
		if (m->slot_event_src != src)
			continue;
		log_debug("%s: slot event", worker_get_path(m->worker));
		ukeyd_request_scan(d, i);
	}
	return 0;
}

static int ensure_state_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* A missing shipped file only costs CA names; a malformed one is an
 * administrator's mistake to show at once. */
static int load_profiles(struct ukeyd *d)
{
	_cleanup_free_ char *error = NULL;
	int r;

	r = ca_profiles_load(&d->profiles, d->cfg->ca_profiles, d->cfg->ca_profiles_dir, &error);
	if (r == -ENOENT) {
		log_warning("%s; every CA will be reported as unknown",
			    error ? error : "CA profiles missing");
		free(error);
		error = NULL;
		r = ca_profiles_load(&d->profiles, NULL, d->cfg->ca_profiles_dir, &error);
	}
	if (r < 0)
		log_error("%s", error ? error : strerror(-r));
	else
		log_debug("%zu CA profiles loaded", d->profiles.n);
	return r;
}

static int load_expiry_state(struct ukeyd *d)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (asprintf(&path, "%s/expiry-notices.json", d->cfg->state_dir) < 0)
		return -ENOMEM;
	r = expiry_state_load(path, &d->expiry);
	if (r == -EBADMSG) {
		/* Losing it only means a notice may be repeated once. */
		log_warning("%s is corrupt; starting with no expiry notices remembered", path);
		r = 0;
	}
	return r;
}

static int load_token_memory(struct ukeyd *d)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (asprintf(&path, "%s/tokens.json", d->cfg->state_dir) < 0 ||
	    asprintf(&d->audit_path, "%s/audit.log", d->cfg->state_dir) < 0)
		return -ENOMEM;
	r = token_memory_load(path, &d->memory);
	if (r == -EBADMSG) {
		log_warning("%s is corrupt; what ukeyd knew of each token is forgotten", path);
		r = 0;
	}
	return r;
}

static int open_listen_socket(struct ukeyd *d, bool *ret_owned)
{
	int n = sd_listen_fds(true);

	if (n > 1) {
		log_error("socket activation passed %d sockets; expected one", n);
		return -EINVAL;
	}
	if (n == 1) {
		if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0) {
			log_error("the socket passed by systemd is not a listening Unix stream "
				  "socket");
			return -EINVAL;
		}
		*ret_owned = false;
		log_info("listening on the socket passed by systemd");
		return SD_LISTEN_FDS_START;
	}
	*ret_owned = true;
	return server_listen_path(d->cfg->socket_path);
}

/* A missing shipped table only costs hotplug for the tokens it lists. */
static void load_known_tokens(struct ukeyd *d)
{
	_cleanup_free_ char *error = NULL;
	int r;

	r = known_tokens_load(&d->known, d->cfg->known_tokens, d->cfg->known_tokens_dir, &error);
	if (r == -ENOENT) {
		log_warning("%s; only the administrator's known tokens are followed",
			    error ? error : "known-token table missing");
		free(error);
		error = NULL;
		r = known_tokens_load(&d->known, NULL, d->cfg->known_tokens_dir, &error);
	}
	if (r < 0)
		log_error("%s; USB arrivals and departures are not followed",
			  error ? error : strerror(-r));
	else
		log_debug("%zu known tokens", d->known.n);
}

/* Without hotplug ukeyd still works: it sees tokens at start and on
 * refresh, which the log says. */
static void start_hotplug(struct ukeyd *d)
{
	int r;

	if (!d->cfg->hotplug) {
		log_info("USB hotplug is off (hotplug = no): tokens are read at start and on "
			 "refresh");
		return;
	}
	load_known_tokens(d);
	r = usb_hotplug_new(d->loop, usb_rescan_on_report, d, &d->hotplug);
	if (r < 0)
		log_warning("USB hotplug unavailable (%s): tokens are read at start and on refresh",
			    r == -EOPNOTSUPP ? "libusb has no hotplug here" : strerror(-r));
}

static void ukeyd_release(struct ukeyd *d)
{
	requests_drop_pending(d);
	usb_rescan_release(d);
	usb_hotplug_free(d->hotplug);
	known_tokens_release(&d->known);
	server_free(d->server);
	for (size_t i = 0; i < d->n_modules; i++) {
		sd_event_source_disable_unref(d->modules[i].src);
		sd_event_source_disable_unref(d->modules[i].watchdog);
		sd_event_source_disable_unref(d->modules[i].slot_event_src);
		worker_free(d->modules[i].worker);
	}
	free(d->modules);
	sd_event_source_disable_unref(d->expiry_timer);
	expiry_state_free(d->expiry);
	token_memory_free(d->memory);
	free(d->audit_path);
	token_cache_release(&d->model);
	ca_profiles_release(&d->profiles);
	sd_event_unref(d->loop);
}

int ukeyd_run(struct ukeyd_config *cfg)
{
	struct ukeyd d = {.cfg = cfg};
	bool socket_owned = false;
	sigset_t mask;
	int fd, r;

	token_cache_init(&d.model);
	r = ensure_state_dir(cfg->state_dir);
	if (r < 0) {
		log_error("state directory %s: %s", cfg->state_dir, strerror(-r));
		return r;
	}
	r = load_profiles(&d);
	if (r < 0)
		goto out;
	r = load_expiry_state(&d);
	if (r < 0)
		goto out;
	r = load_token_memory(&d);
	if (r < 0)
		goto out;
	r = sd_event_default(&d.loop);
	if (r < 0)
		goto out;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	/* NULL handler: the signal ends the loop with exit code 0. */
	r = sd_event_add_signal(d.loop, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(d.loop, NULL, SIGINT, NULL, NULL);
	if (r < 0)
		goto out;

	fd = open_listen_socket(&d, &socket_owned);
	if (fd < 0) {
		r = fd;
		log_error("cannot listen on %s: %s", cfg->socket_path, strerror(-r));
		goto out;
	}
	r = server_new(d.loop, fd, cfg->max_clients, requests_dispatch, &d, &d.server);
	if (r < 0)
		goto out;

	if (cfg->n_modules == 0)
		log_warning(
			"no PKCS#11 module configured (--module or \"module =\" in the config)");
	d.modules = calloc(cfg->n_modules + 1, sizeof(*d.modules));
	if (!d.modules) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < cfg->n_modules; i++) {
		struct module *m = &d.modules[d.n_modules];

		r = worker_start(&p11_backend_ops, cfg->modules[i], &d.profiles, &m->worker);
		if (r < 0) {
			log_error("%s: cannot start its worker: %s", cfg->modules[i], strerror(-r));
			continue;
		}
		r = sd_event_add_io(d.loop, &m->src, worker_get_fd(m->worker), EPOLLIN,
				    on_worker_result, &d);
		if (r >= 0)
			r = sd_event_add_io(d.loop, &m->slot_event_src,
					    worker_get_device_event_fd(m->worker), EPOLLIN,
					    on_slot_event, &d);
		if (r < 0) {
			sd_event_source_disable_unref(m->src);
			m->src = NULL;
			worker_free(m->worker);
			m->worker = NULL;
			continue;
		}
		m->requested = 1; /* the worker's initial scan */
		d.n_modules++;
		module_watchdog_arm(&d, d.n_modules - 1);
	}
	start_hotplug(&d);
	ukeyd_check_ready(&d);
	log_info("ukeyd " UKEY_VERSION " serving %s",
		 socket_owned ? cfg->socket_path : "(socket activation)");
	r = sd_event_loop(d.loop);
	log_info("shutting down");
	(void)sd_notify(0, "STOPPING=1");
out:
	if (r < 0)
		log_error("ukeyd failed: %s", strerror(-r));
	ukeyd_release(&d);
	if (socket_owned)
		(void)unlink(cfg->socket_path);
	return r < 0 ? r : 0;
}
