/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tender software asking "is this token ready to bid?" through libukey.
 * Built with the project (docs/meson.build) so it keeps compiling:
 *   cc example-check.c $(pkg-config --cflags --libs libukey)
 * Usage: example-check [--follow] [SERIAL] [OPENING_UNIX_TIME] [BID_FILE]
 *
 * It checks once and exits 0 when ready (warnings shown), 1 when not.
 * With --follow it stays, as a bidding client would while the bidder
 * prepares: it checks again when a token is plugged in or changes (a new
 * PIN, a renewed certificate); when the chosen token is pulled out it is
 * no longer ready, and without a chosen token the rest are checked again.
 * Ctrl-C ends it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* ppoll */
#endif
#include <poll.h>
#include <signal.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ukey/ukey.h>

struct bid_context {
	const char *serial; /* the token the bidder chose, or NULL for any */
	int64_t opening;
	unsigned char *bid;
	size_t bid_len;
	bool ready;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	*len = buf ? (size_t)n : 0;
	return buf;
}

/* Prints the report; returns the libukey error. */
static enum ukey_error check(ukey_client *client, struct bid_context *ctx)
{
	ukey_check_report *report = NULL;
	enum ukey_error e;

	e = ukey_check(client, ctx->serial, ctx->opening, ctx->bid, ctx->bid_len, NULL, 0, &report);
	if (e != UKEY_OK) {
		fprintf(stderr, "ukeyd: %s\n", ukey_strerror(e));
		return e;
	}
	for (size_t i = 0; i < ukey_check_report_get_item_count(report); i++) {
		const ukey_check_item *it = ukey_check_report_get_item(report, i);
		printf("%s %s [%s] %s\n    %s\n", ukey_check_item_get_serial(it),
		       ukey_check_item_get_severity(it) == UKEY_SEVERITY_ERROR	   ? "!!"
		       : ukey_check_item_get_severity(it) == UKEY_SEVERITY_WARNING ? "! "
										   : "  ",
		       ukey_check_item_get_code(it), ukey_check_item_get_message(it),
		       ukey_check_item_get_advice(it));
	}
	ctx->ready = ukey_check_report_get_verdict(report) != UKEY_NOT_READY;
	printf("%s\n", ctx->ready ? "ready to bid" : "NOT ready to bid");
	fflush(stdout);
	ukey_check_report_unref(report);
	return UKEY_OK;
}

static void on_event(ukey_client *client, const ukey_event *ev, void *userdata)
{
	struct bid_context *ctx = userdata;
	const char *serial = ukey_event_get_serial(ev);
	bool ours = !ctx->serial || strcmp(ctx->serial, serial) == 0;

	switch (ukey_event_get_type(ev)) {
	case UKEY_EVENT_TOKEN_ADDED:
	case UKEY_EVENT_TOKEN_CHANGED:
		if (ours) {
			printf("token %s: checking again\n", serial);
			check(client, ctx);
		}
		break;
	case UKEY_EVENT_TOKEN_REMOVED:
		if (!ours)
			break;
		printf("token %s was pulled out\n", serial);
		if (ctx->serial) {
			/* Never sign or encrypt with a token that is gone. */
			ctx->ready = false;
			printf("NOT ready to bid\n");
			fflush(stdout);
		} else {
			check(client, ctx); /* with the tokens still there */
		}
		break;
	case UKEY_EVENT_RECONNECTED: /* what happened meanwhile is unknown */
		check(client, ctx);
		break;
	default:
		break;
	}
}

/* Waits for events until Ctrl-C. */
static void follow(ukey_client *client)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t block, orig;

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
}

int main(int argc, char **argv)
{
	bool following = argc > 1 && strcmp(argv[1], "--follow") == 0;
	char **args = argv + following;
	int n = argc - following;
	struct bid_context ctx = {
		.serial = n > 1 && *args[1] ? args[1] : NULL,
		.opening = n > 2 ? strtoll(args[2], NULL, 10) : 0,
	};
	ukey_client *client = NULL;
	enum ukey_error e;

	/* Messages follow the locale: zh_CN gives Chinese. */
	setlocale(LC_ALL, "");
	if (n > 3 && !(ctx.bid = read_file(args[3], &ctx.bid_len))) {
		fprintf(stderr, "cannot read %s\n", args[3]);
		return 2;
	}
	e = ukey_client_new(NULL, &client); /* $UKEY_SOCKET, else /run/ukey/ukeyd.sock */
	/* Subscribed before the first check, so no change slips in between. */
	if (e == UKEY_OK && following)
		e = ukey_client_subscribe(client, on_event, &ctx);
	if (e != UKEY_OK)
		fprintf(stderr, "ukeyd: %s\n", ukey_strerror(e));
	else
		e = check(client, &ctx);
	/* A bidder who follows may plug the token in only now. */
	if (following && (e == UKEY_OK || e == UKEY_E_NOT_FOUND))
		follow(client);
	ukey_client_unref(client);
	free(ctx.bid);
	if (e != UKEY_OK && !following)
		return 2;
	return ctx.ready ? 0 : 1;
}
