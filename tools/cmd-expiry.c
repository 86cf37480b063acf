/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyctl expiry: the certificates that expire soon, for people and cron. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "ctl.h"
#include "output.h"

/* Within the window: N days when --days was given, else the CA's own
 * renewal window. Expired certificates always count; not yet valid ones
 * are not expiring. */
static bool expiring(const ukey_cert *c, long days)
{
	enum ukey_cert_expiry e = ukey_cert_get_expiry(c);

	if (e == UKEY_CERT_MALFORMED || e == UKEY_CERT_NOT_YET_VALID)
		return false;
	if (e == UKEY_CERT_EXPIRED)
		return true;
	if (days >= 0)
		return ukey_cert_get_days_left(c) <= days;
	return e == UKEY_CERT_RENEWAL_WINDOW;
}

static json_object *cert_entry(ukey_token *t, const ukey_cert *c)
{
	static const char *const states[] = {"valid", "renewal_window", "expired", "not_yet_valid",
					     "malformed"};
	json_object *o = json_object_new_object();
	time_t end = (time_t)ukey_cert_get_not_after(c);
	char date[32] = "";
	struct tm tm;

	if (gmtime_r(&end, &tm))
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "serial", json_object_new_string(ukey_token_get_serial(t)));
	json_object_object_add(o, "token_label", json_object_new_string(ukey_token_get_label(t)));
	json_object_object_add(o, "id", json_object_new_string(ukey_cert_get_id(c)));
	json_object_object_add(o, "label", json_object_new_string(ukey_cert_get_label(c)));
	json_object_object_add(o, "subject", json_object_new_string(ukey_cert_get_subject(c)));
	json_object_object_add(
		o, "ca", json_object_new_string(ukey_cert_get_ca(c) ? ukey_cert_get_ca(c) : ""));
	json_object_object_add(o, "not_after", json_object_new_string(date));
	json_object_object_add(o, "days_left", json_object_new_int64(ukey_cert_get_days_left(c)));
	json_object_object_add(o, "expiry",
			       json_object_new_string(states[ukey_cert_get_expiry(c)]));
	return o;
}

static int parse_days(int c, const char *arg, void *userdata)
{
	long *days = userdata;
	char *end;

	errno = 0;
	*days = strtol(arg, &end, 10);
	if (errno || *end || *days < 0 || *days > 36500) {
		fprintf(stderr, _("ukeyctl expiry: --days takes a number of days\n"));
		return -1;
	}
	return 0;
}

int cmd_expiry(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {{"days", required_argument, NULL, 'd'}, {0}};
	const char *headers[] = {_("SERIAL"), _("TOKEN"),   _("CERTIFICATE"),
				 _("CA"),     _("EXPIRES"), _("STATUS")};
	ukey_token_list *list = NULL;
	json_object *out = NULL;
	struct table *table = NULL;
	long days = -1;
	size_t listed = 0;
	int r;

	if (ctl_parse_options_ext(ctl, argc, argv, options, parse_days, &days) != argc) {
		fprintf(stderr, _("Usage: ukeyctl [--socket PATH] [--json] expiry [--days N]\n"));
		return EXIT_USAGE;
	}
	r = ctl_list_tokens(ctl, &list);
	if (r != EXIT_OK)
		return r;

	if (ctl->json)
		out = json_object_new_array();
	else
		table = table_new(ARRAY_LEN(headers), headers);
	for (size_t i = 0; i < ukey_token_list_get_count(list); i++) {
		ukey_token *t = ukey_token_list_get(list, i);
		for (size_t k = 0; k < ukey_token_get_cert_count(t); k++) {
			const ukey_cert *cert = ukey_token_get_cert(t, k);
			char date[16], left[64];
			const char *row[6];

			if (!expiring(cert, days))
				continue;
			listed++;
			if (out) {
				json_object_array_add(out, cert_entry(t, cert));
				continue;
			}
			format_date(ukey_cert_get_not_after(cert), date, sizeof(date));
			row[0] = ukey_token_get_serial(t);
			row[1] = ukey_token_get_label(t);
			row[2] = ukey_cert_get_label(cert);
			row[3] = ukey_cert_get_ca_name(cert, ctl_language());
			row[4] = date;
			row[5] = days_left_text(cert, left, sizeof(left));
			table_add_row(table, row);
		}
	}
	if (out) {
		json_object *doc = json_object_new_object();
		json_object_object_add(doc, "expiring", out);
		printf("%s\n",
		       json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
	} else if (listed == 0) {
		if (days >= 0)
			printf(ngettext("No certificate on a plugged token expires within %ld "
					"day.\n",
					"No certificate on a plugged token expires within %ld "
					"days.\n",
					(unsigned long)days),
			       days);
		else
			printf(_("No certificate on a plugged token is due for renewal.\n"));
	} else {
		table_print(table, stdout);
		printf(_("\nRenew before you encrypt any bid, and never while a bid encrypted with "
			 "the token is still unopened: the renewed token could not decrypt it.\n"));
	}
	table_free(table);
	ukey_token_list_unref(list);
	return listed > 0 ? EXIT_PROBLEMS : EXIT_OK;
}
