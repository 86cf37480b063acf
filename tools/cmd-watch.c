/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyctl watch: one line per event until interrupted. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "ctl.h"
#include "output.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static const char *event_text(enum ukey_event_type t)
{
	switch (t) {
	case UKEY_EVENT_TOKEN_ADDED:
		return _("token plugged in");
	case UKEY_EVENT_TOKEN_REMOVED:
		return _("token pulled out");
	case UKEY_EVENT_TOKEN_CHANGED:
		return _("token changed");
	case UKEY_EVENT_CERT_EXPIRY:
		return _("certificate expiry notice");
	case UKEY_EVENT_DISCONNECTED:
		return _("ukeyd went away");
	case UKEY_EVENT_RECONNECTED:
		return _("ukeyd is back");
	}
	return "?";
}

static void print_event(ukey_client *client, const ukey_event *ev, void *userdata)
{
	const struct ctl *ctl = userdata;
	time_t now = time(NULL);
	char when[32];
	ukey_token *t = ukey_event_get_token(ev);

	if (ctl->json) {
		printf("%s\n", ukey_event_get_json(ev));
	} else {
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&now));
		printf("%s  %s", when, event_text(ukey_event_get_type(ev)));
		if (*ukey_event_get_serial(ev))
			printf("  %s", tx(ukey_event_get_serial(ev)));
		if (t)
			printf("  %s", tx(ukey_token_get_label(t)));
		putchar('\n');
	}
	/* One line per event, as it happens: scripts read it through a pipe. */
	fflush(stdout);
}

int cmd_watch(struct ctl *ctl, int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	ukey_client *client = NULL;
	sigset_t block, orig;
	enum ukey_error e;
	int r;

	if (ctl_parse_options(ctl, argc, argv) != argc) {
		fprintf(stderr, _("Usage: ukeyctl [--json] watch\n"));
		return EXIT_USAGE;
	}
	r = ctl_connect(ctl, &client);
	if (r != EXIT_OK)
		return r;
	e = ukey_client_subscribe(client, print_event, ctl);
	if (e != UKEY_OK) {
		ukey_client_unref(client);
		return ctl_fail(e, _("watching ukeyd"));
	}
	/* Signals are let in only inside ppoll(), so one that comes just
	 * before it cannot be missed and leave us waiting for an event. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop) {
		/* The fd stays the same while ukeyd restarts, and wakes for
		 * events queued during our own requests too. */
		struct pollfd p = {.fd = ukey_client_get_fd(client), .events = POLLIN};

		if (ppoll(&p, 1, NULL, &orig) > 0)
			ukey_client_dispatch(client);
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	ukey_client_unref(client);
	return EXIT_OK;
}
