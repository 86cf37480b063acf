/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Wiring only: each layer is made here, in order, and given the callbacks
 * that connect it to the others. The inventory's events go to the server's
 * subscribers; its progress wakes the held requests, the USB chases and
 * the expiry notices.
 */
#include "ukeyd.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "build-config.h"
#include "audit.h"
#include "ca-profiles.h"
#include "config.h"
#include "expiry-watch.h"
#include "inventory.h"
#include "known-tokens.h"
#include "log.h"
#include "p11-backend.h"
#include "refusals.h"
#include "request-table.h"
#include "skf-backend.h"
#include "server.h"
#include "service.h"
#include "token-memory.h"
#include "usb-hotplug.h"
#include "usb-rescan.h"
#include "util.h"

#define SWAP_PTR(a, b)                                                                             \
	do {                                                                                       \
		char *_t = (a);                                                                    \
		(a) = (b);                                                                         \
		(b) = _t;                                                                          \
	} while (0)

struct ukeyd {
	struct ukeyd_config *cfg;
	int lock_fd;	   /* server_lock_path(): this process serves the socket */
	bool socket_owned; /* made here (not systemd's): removed at exit */
	sd_event *loop;
	struct ca_profiles profiles;
	struct token_memory *memory;
	char *audit_path;
	struct audit *audit;
	struct refusals *refusals;
	struct inventory *inventory;
	struct expiry_watch *expiry;
	struct service service;
	struct server *server;
	struct known_tokens known;
	/* Tables replaced by a reload: a chase that began before may still
	 * point into one, so they stay until the end. */
	struct known_tokens *retired_known;
	size_t n_retired_known;
	struct usb_rescan *rescan;
	struct usb_hotplug *hotplug;
	bool notified_ready;
};

static void broadcast(json_object *event, void *userdata)
{
	struct ukeyd *d = userdata;

	if (d->server)
		server_broadcast(d->server, event);
	else
		json_object_put(event);
}

static void on_progress(void *userdata)
{
	struct ukeyd *d = userdata;

	usb_rescan_check(d->rescan);
	expiry_watch_check(d->expiry);
	if (!d->notified_ready && inventory_is_ready(d->inventory)) {
		d->notified_ready = true;
		(void)sd_notify(0, "READY=1\nSTATUS=Serving");
	}
	request_table_run_pending(&d->service);
}

static const struct inventory_callbacks inventory_callbacks = {
	.event = broadcast,
	.progress = on_progress,
};

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

static int load_token_memory(struct ukeyd *d)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (asprintf(&path, "%s/tokens.json", d->cfg->state_dir) < 0 ||
	    asprintf(&d->audit_path, "%s/audit.log", d->cfg->state_dir) < 0)
		return -ENOMEM;
	r = token_memory_load(path, &d->memory);
	if (r == -EBADMSG) {
		log_warning("%s is corrupt: set aside as %s.bad; what ukeyd knew of each token is "
			    "forgotten",
			    path, path);
		r = 0;
	}
	return r;
}

static int open_listen_socket(struct ukeyd *d, bool *ret_owned)
{
	int n = sd_listen_fds(true), fd;
	pid_t holder;

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
	/* Never another daemon's socket: the lock first, then the socket. */
	d->lock_fd = server_lock_path(d->cfg->socket_path, &holder);
	if (d->lock_fd == -EBUSY) {
		if (holder > 0)
			log_error("another ukeyd (pid %d) is serving %s; stop it first, or give "
				  "this one another --socket",
				  (int)holder, d->cfg->socket_path);
		else
			log_error("something else is serving %s (another ukeyd, or systemd's "
				  "ukeyd.socket); stop it first, or give this one another --socket",
				  d->cfg->socket_path);
		return -EBUSY;
	}
	if (d->lock_fd < 0) {
		log_error("cannot lock %s.lock: %s", d->cfg->socket_path, strerror(-d->lock_fd));
		return d->lock_fd;
	}
	fd = server_listen_path(d->cfg->socket_path);
	if (fd < 0)
		log_error("cannot listen on %s: %s", d->cfg->socket_path, strerror(-fd));
	else
		*ret_owned = true;
	return fd;
}

/* The groups named in the configuration, looked up now (at start and at
 * reload), so that no request waits on NSS. */
static gid_t lookup_group(const char *name, const char *setting)
{
	struct group grp, *g = NULL;
	gid_t gid = (gid_t)-1;
	int r = ERANGE;

	/* A group of many members needs a larger buffer: grown until it
	 * fits (1 MiB at most), or the group's rights would silently go. */
	for (size_t size = 4096; r == ERANGE && size <= 1024 * 1024; size *= 4) {
		_cleanup_free_ char *buf = malloc(size);

		if (!buf) {
			r = ENOMEM;
			break;
		}
		r = getgrnam_r(name, &grp, buf, size, &g);
		if (r == 0 && g)
			gid = g->gr_gid;
	}
	if (gid != (gid_t)-1)
		return gid;
	if (r == 0)
		log_info("%s: no group \"%s\" on this system", setting, name);
	else
		log_error("%s: cannot look up group \"%s\": %s", setting, name, strerror(r));
	return gid;
}

static void settings_from_config(struct ukeyd *d, struct service_settings *st,
				 struct server_limits *limits)
{
	const struct ukeyd_config *cfg = d->cfg;

	*st = (struct service_settings){
		.admin_gid = lookup_group(cfg->admin_group, "admin_group"),
		.pin_policy = cfg->pin_policy,
		.pin_users = PIN_USERS_ACTIVE,
		.pin_gid = (gid_t)-1,
	};
	if (strcmp(cfg->pin_users, "any") == 0) {
		st->pin_users = PIN_USERS_ANY;
	} else if (strncmp(cfg->pin_users, "group:", 6) == 0) {
		st->pin_users = PIN_USERS_GROUP;
		st->pin_gid = lookup_group(cfg->pin_users + 6, "pin_users");
	}
	*limits = (struct server_limits){
		.max_clients = cfg->max_clients,
		.reserved_clients = cfg->reserved_clients == CONFIG_AUTO ? cfg->max_clients / 16
									 : cfg->reserved_clients,
		.max_clients_per_uid = cfg->max_clients_per_uid,
		.connect_rate = cfg->connect_rate,
		.idle_timeout = cfg->idle_timeout,
		.line_timeout = cfg->line_timeout,
		.max_output_per_uid = (size_t)cfg->max_output_per_uid * 1024u * 1024u,
		.admin_gid = st->admin_gid,
	};
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
	r = usb_rescan_new(d->loop, d->inventory, &d->known, &d->rescan);
	if (r >= 0)
		r = usb_hotplug_new(d->loop, usb_rescan_on_report, d->rescan, &d->hotplug);
	if (r < 0)
		log_warning("USB hotplug unavailable (%s): tokens are read at start and on refresh",
			    r == -EOPNOTSUPP ? "libusb has no hotplug here" : strerror(-r));
}

static void add_modules(struct ukeyd *d, const struct backend_ops *ops, char *const *paths,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = inventory_add_module(d->inventory, ops, paths[i]);
		if (r < 0)
			log_error("%s: cannot start its worker: %s", paths[i], strerror(-r));
	}
}

/* PKCS#11 modules first, then SKF libraries: the load order is the
 * listing's. */
static void load_modules(struct ukeyd *d)
{
	if (d->cfg->n_modules == 0 && d->cfg->n_skf_libs == 0)
		log_warning("no PKCS#11 module or SKF library configured (--module, --skf, or "
			    "\"module =\", \"skf =\" in the config)");
	add_modules(d, &p11_backend_ops, d->cfg->modules, d->cfg->n_modules);
	add_modules(d, &skf_backend_ops, d->cfg->skf_libs, d->cfg->n_skf_libs);
}

static void reload_known_tokens(struct ukeyd *d)
{
	_cleanup_free_ char *error = NULL;
	struct known_tokens fresh, *retired;
	int r;

	if (!d->rescan)
		return; /* hotplug is off */
	r = known_tokens_load(&fresh, d->cfg->known_tokens, d->cfg->known_tokens_dir, &error);
	if (r == -ENOENT) {
		free(error);
		error = NULL;
		r = known_tokens_load(&fresh, NULL, d->cfg->known_tokens_dir, &error);
	}
	if (r < 0) {
		log_error("reload: %s; the known tokens stay as they were",
			  error ? error : strerror(-r));
		return;
	}
	retired = realloc(d->retired_known, (d->n_retired_known + 1) * sizeof(*retired));
	if (!retired) {
		known_tokens_release(&fresh);
		log_error("reload: out of memory; the known tokens stay as they were");
		return;
	}
	d->retired_known = retired;
	d->retired_known[d->n_retired_known++] = d->known;
	d->known = fresh; /* usb-rescan reads it through &d->known */
	log_info("reload: %zu known tokens", d->known.n);
}

/* SIGHUP: the configuration file again (what a running daemon can take:
 * access, limits, PIN policy, audit rotation) and the known tokens. The
 * CA profiles, modules, socket and state directory need a restart: the
 * tokens read are made of them. A file with an error changes nothing. */
static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct ukeyd *d = userdata;
	struct ukeyd_config file;
	struct server_limits limits;
	int r, bad_line = 0;

	log_info("SIGHUP: reloading %s", d->cfg->config_path);
	config_init(&file);
	r = config_load_file(&file, d->cfg->config_path, d->cfg->config_given, &bad_line);
	if (r >= 0 && config_problem(&file)) {
		log_error("reload: %s: %s; nothing changed", d->cfg->config_path,
			  config_problem(&file));
		r = -EINVAL;
	} else if (r < 0) {
		if (bad_line > 0)
			log_error("reload: %s:%d: %s; nothing changed", d->cfg->config_path,
				  bad_line, r == -E2BIG ? "line too long" : "invalid setting");
		else
			log_error("reload: cannot read %s: %s; nothing changed",
				  d->cfg->config_path, strerror(-r));
	}
	if (r < 0) {
		config_release(&file);
		return 0;
	}
	/* Take what can change now. */
	SWAP_PTR(d->cfg->admin_group, file.admin_group);
	SWAP_PTR(d->cfg->pin_users, file.pin_users);
	d->cfg->pin_policy = file.pin_policy;
	d->cfg->max_clients = file.max_clients;
	d->cfg->reserved_clients = file.reserved_clients;
	d->cfg->max_clients_per_uid = file.max_clients_per_uid;
	d->cfg->connect_rate = file.connect_rate;
	d->cfg->idle_timeout = file.idle_timeout;
	d->cfg->line_timeout = file.line_timeout;
	d->cfg->max_output_per_uid = file.max_output_per_uid;
	d->cfg->audit_max_size = file.audit_max_size;
	d->cfg->audit_keep = file.audit_keep;
	config_release(&file);
	settings_from_config(d, &d->service.settings, &limits);
	server_set_limits(d->server, &limits);
	audit_set_rotation(d->audit, (uint64_t)d->cfg->audit_max_size * 1024u * 1024u,
			   d->cfg->audit_keep);
	reload_known_tokens(d);
	log_info("reload: done (modules, CA profiles, socket, state directory, hotplug and "
		 "module_timeout change only at a restart)");
	return 0;
}

static void ukeyd_release(struct ukeyd *d)
{
	request_table_drop_pending(&d->service);
	usb_hotplug_free(d->hotplug);
	usb_rescan_free(d->rescan);
	known_tokens_release(&d->known);
	for (size_t i = 0; i < d->n_retired_known; i++)
		known_tokens_release(&d->retired_known[i]);
	free(d->retired_known);
	server_free(d->server);
	d->server = NULL;
	/* The socket goes before the lock: a daemon that takes the lock next
	 * never has its own socket removed. */
	if (d->socket_owned)
		(void)unlink(d->cfg->socket_path);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	expiry_watch_free(d->expiry);
	inventory_free(d->inventory);
	/* After the modules: a PIN job still queued there is dropped, never
	 * started; the refusals' last counts go into the log before it. */
	refusals_free(d->refusals);
	audit_free(d->audit);
	token_memory_free(d->memory);
	free(d->audit_path);
	ca_profiles_release(&d->profiles);
	sd_event_unref(d->loop);
}

int ukeyd_run(struct ukeyd_config *cfg)
{
	struct ukeyd d = {.cfg = cfg, .lock_fd = -1};
	struct server_limits limits;
	sigset_t mask;
	int fd, r;

	/* Signals are events of the loop (sd-event), from the start: a
	 * SIGHUP during start-up must not kill ukeyd either. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = ensure_state_dir(cfg->state_dir);
	if (r < 0) {
		log_error("state directory %s: %s", cfg->state_dir, strerror(-r));
		return r;
	}
	r = load_profiles(&d);
	if (r >= 0)
		r = load_token_memory(&d);
	if (r >= 0)
		r = sd_event_default(&d.loop);
	if (r < 0)
		goto out;
	/* NULL handler: the signal ends the loop with exit code 0. */
	r = sd_event_add_signal(d.loop, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(d.loop, NULL, SIGINT, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(d.loop, NULL, SIGHUP, on_sighup, &d);
	if (r >= 0)
		r = audit_new(d.loop, d.audit_path, (uint64_t)cfg->audit_max_size * 1024u * 1024u,
			      cfg->audit_keep, &d.audit);
	if (r >= 0)
		r = refusals_new(d.loop, d.audit, &d.refusals);
	if (r >= 0)
		r = inventory_new(d.loop, &d.profiles, d.memory, cfg->module_timeout,
				  &inventory_callbacks, &d, &d.inventory);
	if (r >= 0)
		r = expiry_watch_new(d.loop, cfg->state_dir, inventory_get_cache(d.inventory),
				     broadcast, &d, &d.expiry);
	if (r < 0)
		goto out;
	d.service = (struct service){
		.loop = d.loop,
		.inventory = d.inventory,
		.profiles = &d.profiles,
		.memory = d.memory,
		.audit = d.audit,
		.refusals = d.refusals,
	};
	settings_from_config(&d, &d.service.settings, &limits);

	fd = open_listen_socket(&d, &d.socket_owned);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	r = server_new(d.loop, fd, &limits, request_table_dispatch, &d.service, &d.server);
	if (r < 0)
		goto out;

	load_modules(&d);
	start_hotplug(&d);
	on_progress(&d); /* with no module, ready at once */
	log_info("ukeyd " UKEY_VERSION " serving %s",
		 d.socket_owned ? cfg->socket_path : "(socket activation)");
	r = sd_event_loop(d.loop);
	log_info("shutting down");
	(void)sd_notify(0, "STOPPING=1");
out:
	if (r < 0)
		log_error("ukeyd failed: %s", strerror(-r));
	ukeyd_release(&d);
	return r < 0 ? r : 0;
}
