/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tender software asking "is this token ready to bid?" through libukey.
 * Built with the project (docs/meson.build) so it keeps compiling:
 *   cc example-check.c $(pkg-config --cflags --libs libukey)
 * Usage: example-check [SERIAL] [OPENING_UNIX_TIME] [BID_FILE]
 *
 * It checks once and exits 0 when ready (warnings shown), 1 when not.
 * Reacting to tokens plugged and pulled (re-check on token_added, stop on
 * token_removed) needs libukey's event API, which comes with ukeyd's
 * hotplug support; until then, call ukey_check() again when the user asks.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <ukey/ukey.h>

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

int main(int argc, char **argv)
{
	const char *serial = argc > 1 && *argv[1] ? argv[1] : NULL;
	int64_t opening = argc > 2 ? strtoll(argv[2], NULL, 10) : 0;
	unsigned char *bid = NULL;
	size_t bid_len = 0;
	ukey_client *client = NULL;
	ukey_check_report *report = NULL;
	enum ukey_error e;
	int ready;

	/* Messages follow the locale: zh_CN gives Chinese. */
	setlocale(LC_ALL, "");
	if (argc > 3 && !(bid = read_file(argv[3], &bid_len))) {
		fprintf(stderr, "cannot read %s\n", argv[3]);
		return 2;
	}
	e = ukey_client_new(NULL, &client); /* $UKEY_SOCKET, else /run/ukey/ukeyd.sock */
	if (e == UKEY_OK)
		e = ukey_check(client, serial, opening, bid, bid_len, NULL, 0, &report);
	if (e != UKEY_OK) {
		fprintf(stderr, "ukeyd: %s\n", ukey_strerror(e));
		free(bid);
		ukey_client_unref(client);
		return 2;
	}
	for (size_t i = 0; i < ukey_check_report_get_item_count(report); i++) {
		const ukey_check_item *it = ukey_check_report_get_item(report, i);
		printf("%s %s [%s] %s\n    %s\n", ukey_check_item_get_serial(it),
		       ukey_check_item_get_severity(it) == UKEY_SEVERITY_ERROR     ? "!!"
		       : ukey_check_item_get_severity(it) == UKEY_SEVERITY_WARNING ? "! "
										   : "  ",
		       ukey_check_item_get_code(it), ukey_check_item_get_message(it),
		       ukey_check_item_get_advice(it));
	}
	ready = ukey_check_report_get_verdict(report) != UKEY_NOT_READY;
	printf("%s\n", ready ? "ready to bid" : "NOT ready to bid");
	ukey_check_report_unref(report);
	ukey_client_unref(client);
	free(bid);
	return ready ? 0 : 1;
}
