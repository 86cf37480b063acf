/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyctl check, ukeyctl which-token: the bidder's questions. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pin-input.h"
#include "commands.h"
#include "ctl.h"
#include "output.h"

#define MAX_BID (1024L * 1024 * 1024)

struct check_options {
	int64_t opening;
	const char *bid_path;
	bool full, strict;
	int pin_fd;
};

/* "2027-03-15" (the whole day must be covered: its last second) or
 * "2027-03-15 09:30", local time, as bid openings are announced. */
static int parse_opening(const char *s, int64_t *ret)
{
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%d %H:%M", &tm);

	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (!end || *end)
			return -1;
		tm.tm_hour = 23;
		tm.tm_min = 59;
		tm.tm_sec = 59;
	}
	tm.tm_isdst = -1;
	*ret = (int64_t)mktime(&tm);
	return *ret > 0 ? 0 : -1;
}

static int handle_check_option(int c, const char *arg, void *userdata)
{
	struct check_options *o = userdata;
	char *end;

	switch (c) {
	case 'O':
		if (parse_opening(arg, &o->opening) < 0) {
			fprintf(stderr,
				_("ukeyctl check: --opening takes a date, YYYY-MM-DD [HH:MM]\n"));
			return -1;
		}
		return 0;
	case 'B':
		o->bid_path = arg;
		return 0;
	case 'F':
		o->full = true;
		return 0;
	case 'S':
		o->strict = true;
		return 0;
	case 'P':
		o->pin_fd = (int)strtol(arg, &end, 10);
		return *end || o->pin_fd < 0 ? -1 : 0;
	}
	return -1;
}

static int read_bid(const char *path, uint8_t **ret, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > MAX_BID) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, _("Cannot read %s.\n"), path);
		return EXIT_ERROR;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf || got != (size_t)st.st_size) {
		free(buf);
		fprintf(stderr, _("Cannot read %s.\n"), path);
		return EXIT_ERROR;
	}
	*ret = buf;
	*ret_len = got;
	return EXIT_OK;
}

static const char *verdict_text(enum ukey_verdict v)
{
	switch (v) {
	case UKEY_READY:
		return _("READY");
	case UKEY_READY_WITH_WARNINGS:
		return _("READY, with warnings");
	case UKEY_NOT_READY:
		break;
	}
	return _("NOT READY");
}

static const char *severity_mark(enum ukey_severity s)
{
	switch (s) {
	case UKEY_SEVERITY_ERROR:
		return _("[problem]");
	case UKEY_SEVERITY_WARNING:
		return _("[warning]");
	case UKEY_SEVERITY_INFO:
		break;
	}
	return _("[note]");
}

static void print_report(const ukey_check_report *r)
{
	for (size_t t = 0; t < ukey_check_report_get_token_count(r); t++) {
		const char *serial = ukey_check_report_get_token_serial(r, t);
		const char *label = ukey_check_report_get_token_label(r, t);

		if (*serial)
			printf(_("Token %s %s: %s\n"), tx(serial), tx(label),
			       verdict_text(ukey_check_report_get_token_verdict(r, t)));
		for (size_t i = 0; i < ukey_check_report_get_item_count(r); i++) {
			const ukey_check_item *it = ukey_check_report_get_item(r, i);
			if (strcmp(ukey_check_item_get_serial(it), serial) != 0)
				continue;
			printf("  %s %s\n", severity_mark(ukey_check_item_get_severity(it)),
			       tx(ukey_check_item_get_message(it)));
			if (*ukey_check_item_get_advice(it))
				printf("      → %s\n", tx(ukey_check_item_get_advice(it)));
		}
	}
}

static bool has_code(const ukey_check_report *r, const char *code)
{
	for (size_t i = 0; i < ukey_check_report_get_item_count(r); i++)
		if (strcmp(ukey_check_item_get_code(ukey_check_report_get_item(r, i)), code) == 0)
			return true;
	return false;
}

/* Runs the check; prints why not and returns an exit code on failure. */
static int run_check(struct ctl *ctl, const char *serial, const struct check_options *o,
		     ukey_check_report **ret)
{
	ukey_client *client = NULL;
	struct ukey_secret *pin = NULL;
	uint8_t *bid = NULL;
	size_t bid_len = 0;
	enum ukey_error e;
	int r;

	if (o->bid_path && (r = read_bid(o->bid_path, &bid, &bid_len)) != EXIT_OK)
		return r;
	if (o->full) {
		struct pin_input in;
		pin_input_open(&in, o->pin_fd);
		pin = pin_input_read(&in, _("PIN (for the full test): "));
		if (!pin) {
			free(bid);
			fprintf(stderr, _("No PIN given. Nothing was changed.\n"));
			return EXIT_USAGE;
		}
	}
	r = ctl_connect(ctl, &client);
	if (r == EXIT_OK) {
		e = ukey_check(client, serial, o->opening, bid, bid_len, pin ? pin->data : NULL, 0,
			       ret);
		if (e == UKEY_E_NOT_CMS) {
			fprintf(stderr,
				_("%s is not an encrypted bid file (CMS/PKCS#7 EnvelopedData, "
				  "DER, PEM or S/MIME).\n"),
				o->bid_path);
			r = EXIT_ERROR;
		} else if (e != UKEY_OK) {
			r = ctl_fail_request(client, e, _("checking the token"));
		}
	}
	ukey_secret_free(pin);
	free(bid);
	ukey_client_unref(client);
	return r;
}

int cmd_check(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{"opening", required_argument, NULL, 'O'}, {"bid", required_argument, NULL, 'B'},
		{"full", no_argument, NULL, 'F'},	   {"strict", no_argument, NULL, 'S'},
		{"pin-fd", required_argument, NULL, 'P'},  {0},
	};
	struct check_options o = {.pin_fd = -1};
	ukey_check_report *report = NULL;
	enum ukey_verdict v;
	int first, r;

	first = ctl_parse_options_ext(ctl, argc, argv, options, handle_check_option, &o);
	if (first < 0 || argc - first > 1) {
		fprintf(stderr,
			_("Usage: ukeyctl check [SERIAL] [--opening DATE] [--bid FILE] [--full] "
			  "[--strict] [--json]\n"));
		return EXIT_USAGE;
	}
	r = run_check(ctl, first < argc ? argv[first] : NULL, &o, &report);
	if (r != EXIT_OK)
		return r;
	if (ctl->json)
		printf("%s\n", ukey_check_report_get_json(report));
	else
		print_report(report);
	v = ukey_check_report_get_verdict(report);
	if (first < argc && has_code(report, "token_not_found"))
		r = EXIT_NOT_FOUND;
	else if (v == UKEY_NOT_READY || (v == UKEY_READY_WITH_WARNINGS && o.strict))
		r = EXIT_PROBLEMS;
	ukey_check_report_unref(report);
	return r;
}

int cmd_which_token(struct ctl *ctl, int argc, char **argv)
{
	struct check_options o = {.pin_fd = -1};
	ukey_check_report *report = NULL;
	size_t found = 0;
	int first, r;

	first = ctl_parse_options(ctl, argc, argv);
	if (first < 0 || argc - first != 1) {
		fprintf(stderr, _("Usage: ukeyctl which-token FILE\n"));
		return EXIT_USAGE;
	}
	o.bid_path = argv[first];
	r = run_check(ctl, NULL, &o, &report);
	if (r != EXIT_OK)
		return r;
	if (ctl->json) {
		printf("%s\n", ukey_check_report_get_json(report));
		found = has_code(report, "bid_for_this_token");
	} else {
		for (size_t i = 0; i < ukey_check_report_get_item_count(report); i++) {
			const ukey_check_item *it = ukey_check_report_get_item(report, i);
			if (strcmp(ukey_check_item_get_code(it), "bid_for_this_token") != 0)
				continue;
			found++;
			printf(_("%s opens with token %s: %s\n"), argv[first],
			       tx(ukey_check_item_get_serial(it)),
			       tx(ukey_check_item_get_message(it)));
		}
		if (!found)
			printf(_("No plugged token can open %s. It was encrypted for another "
				 "token: "
				 "plug that one in.\n"),
			       argv[first]);
	}
	ukey_check_report_unref(report);
	return found ? EXIT_OK : EXIT_PROBLEMS;
}
