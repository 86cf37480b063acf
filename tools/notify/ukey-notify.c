/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ukey-notify: desktop notices about CA tokens for the bidder, in the
 * user's graphical session. It follows ukeyd's events through libukey and
 * shows freedesktop notifications over the session bus (sd-bus). It runs
 * as the user and needs no privilege; it ends with the session bus.
 *   ukey-notify            the agent (a systemd user unit or XDG autostart)
 *   ukey-notify --once     print what it would show for the tokens plugged now
 */
#include <errno.h>
#include <getopt.h>
#include <libintl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <ukey/ukey.h>

#include "agent.h"
#include "build-config.h"
#include "bus.h"

#define _(s) gettext(s)

/* ukeyctl's exit codes, where they apply. */
enum { EXIT_OK = 0, EXIT_PROBLEMS = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3, EXIT_ERROR = 5 };

static void usage(FILE *f)
{
	fprintf(f, _("Usage: ukey-notify [--once] [--socket PATH]\n"
		     "Desktop notices about your CA tokens (UKey): plugged in, pulled out, "
		     "default PIN, certificate expiry.\n"
		     "  --once         print the notices for the tokens plugged in now, and exit\n"
		     "                 (exit 0 all ready, 1 problems, 3 ukeyd not reachable)\n"
		     "  --socket PATH  ukeyd's socket (default: $UKEY_SOCKET, else "
		     "/run/ukey/ukeyd.sock)\n"
		     "  --help         this help\n"
		     "  --version      the version\n"));
}

/* --once: the notices on standard output, one block each. */
static int print_notice(void *userdata, const struct notice *n, uint32_t *id)
{
	const char *tag = n->urgency == NOTICE_CRITICAL ? _("[critical]")
			  : n->urgency == NOTICE_NORMAL ? _("[normal]")
							: _("[low]");

	printf("%s %s\n", tag, n->summary);
	for (const char *p = n->body; *p;) {
		size_t len = strcspn(p, "\n");
		printf("    %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
	*id += 1;
	return 0;
}

static int run_once(ukey_client *client)
{
	struct agent *a = agent_new(client, print_notice, NULL);
	bool problems = false;
	enum ukey_error e;

	if (!a)
		return EXIT_ERROR;
	e = agent_once(a, &problems);
	agent_free(a);
	if (e != UKEY_OK) {
		notify_log(_("cannot read the tokens from ukeyd: %s"), ukey_strerror(e));
		return e == UKEY_E_DISCONNECTED ? EXIT_UNREACHABLE : EXIT_ERROR;
	}
	return problems ? EXIT_PROBLEMS : EXIT_OK;
}

struct loop {
	struct agent *agent;
	ukey_client *client;
	sd_event *event;
	sd_event_source *ukey_source;
	sd_event_source *settle_source;
};

/* While ukeyd's first scan runs, the agent looks again this often: the
 * scan's end sends no event. */
#define SETTLE_POLL_USEC (500 * 1000)

static int on_settle(sd_event_source *s, uint64_t usec, void *userdata);

static void watch_settling(struct loop *l)
{
	int r;

	if (!agent_settling(l->agent))
		return;
	if (l->settle_source) {
		r = sd_event_source_set_time_relative(l->settle_source, SETTLE_POLL_USEC);
		if (r >= 0)
			r = sd_event_source_set_enabled(l->settle_source, SD_EVENT_ONESHOT);
	} else {
		r = sd_event_add_time_relative(l->event, &l->settle_source, CLOCK_MONOTONIC,
					       SETTLE_POLL_USEC, 0, on_settle, l);
	}
	if (r < 0)
		notify_log(_("cannot set up the event loop: %s"), strerror(-r));
}

static int on_settle(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct loop *l = userdata;

	agent_process(l->agent);
	watch_settling(l);
	return 0;
}

static int on_ukey(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct loop *l = userdata;

	agent_process(l->agent);
	watch_settling(l);
	return 0;
}

/* The session bus is gone: the session ended. A clean exit. */
static int on_bus_gone(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	notify_log("%s", _("the session bus closed; exiting"));
	sd_event_exit(userdata, 0);
	return 0;
}

static int run_agent(ukey_client *client, struct desktop_bus *bus)
{
	struct loop l = {.client = client};
	sd_event *event = NULL;
	sigset_t mask;
	enum ukey_error e;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_default(&event);
	/* SIGTERM and SIGINT end the loop with status 0. */
	if (r >= 0)
		r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
	if (r >= 0)
		r = sd_bus_attach_event(desktop_bus_get(bus), event, SD_EVENT_PRIORITY_NORMAL);
	if (r >= 0)
		r = sd_bus_match_signal(desktop_bus_get(bus), NULL, NULL,
					"/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
					"Disconnected", on_bus_gone, event);
	if (r < 0) {
		notify_log(_("cannot set up the event loop: %s"), strerror(-r));
		sd_event_unref(event);
		return EXIT_ERROR;
	}
	l.event = event;
	l.agent = agent_new(client, desktop_bus_show, bus);
	if (!l.agent) {
		sd_event_unref(event);
		return EXIT_ERROR;
	}
	e = agent_start(l.agent);
	if (e != UKEY_OK) {
		notify_log(_("cannot follow ukeyd: %s"), ukey_strerror(e));
		r = -EIO;
	} else {
		r = sd_event_add_io(event, &l.ukey_source, ukey_client_get_fd(client), EPOLLIN,
				    on_ukey, &l);
		/* libukey's fd stays the same for the client's life: it also
		 * wakes for ukeyd coming back and for events queued during our
		 * own requests, so nothing here retries; only while ukeyd's
		 * first scan runs does a timer look again (watch_settling). */
		if (r >= 0) {
			watch_settling(&l);
			r = sd_event_loop(event);
		} else {
			notify_log(_("cannot set up the event loop: %s"), strerror(-r));
		}
	}
	sd_event_source_unref(l.ukey_source);
	sd_event_source_unref(l.settle_source);
	agent_free(l.agent);
	/* Detach before the bus is freed, so it is closed once. */
	sd_bus_detach_event(desktop_bus_get(bus));
	sd_event_unref(event);
	return r < 0 ? (e != UKEY_OK ? EXIT_UNREACHABLE : EXIT_ERROR) : r;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"once", no_argument, NULL, 'o'},
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	const char *localedir = getenv("UKEY_LOCALEDIR"), *socket = NULL;
	struct desktop_bus *bus = NULL;
	ukey_client *client = NULL;
	bool once = false;
	enum ukey_error e;
	int c, r;

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, localedir && *localedir ? localedir : UKEY_LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	while ((c = getopt_long(argc, argv, "os:hV", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			once = true;
			break;
		case 's':
			socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("ukey-notify %s\n", UKEY_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!once) {
		r = desktop_bus_open(&bus);
		if (r == -EEXIST) {
			notify_log("%s", _("another ukey-notify already runs in this session"));
			return EXIT_OK;
		}
		if (r < 0) {
			notify_log(_("cannot connect to the session bus: %s"), strerror(-r));
			return EXIT_ERROR;
		}
	}
	e = ukey_client_new(socket, &client);
	if (e != UKEY_OK) {
		notify_log(_("cannot reach ukeyd: %s"), ukey_strerror(e));
		desktop_bus_free(bus);
		return e == UKEY_E_UNREACHABLE ? EXIT_UNREACHABLE : EXIT_ERROR;
	}
	r = once ? run_once(client) : run_agent(client, bus);
	ukey_client_unref(client);
	desktop_bus_free(bus);
	return r;
}
