/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyctl audit: who did what to which token's PIN, and how it ended. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "ctl.h"
#include "output.h"

/* "2026-11-21" or "2026-11-21T08:00:00Z", UTC. */
static int parse_since(const char *s, int64_t *ret)
{
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);

	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (!end || *end)
		return -1;
	*ret = (int64_t)timegm(&tm);
	return 0;
}

static const char *field(json_object *e, const char *key, char *buf, size_t size)
{
	json_object *v;

	if (!json_object_object_get_ex(e, key, &v))
		return "";
	snprintf(buf, size, "%s", json_object_get_string(v));
	return buf;
}

struct audit_options {
	int64_t since;
	long limit; /* 0: all */
};

static int parse_audit_option(int c, const char *arg, void *userdata)
{
	struct audit_options *o = userdata;
	char *end;

	if (c == 'S') {
		if (parse_since(arg, &o->since) < 0) {
			fprintf(stderr, _("ukeyctl audit: --since takes a date, YYYY-MM-DD\n"));
			return -1;
		}
		return 0;
	}
	o->limit = strtol(arg, &end, 10);
	if (*end || end == arg || o->limit < 1) {
		fprintf(stderr, _("ukeyctl audit: --limit takes a number of entries, 1 or more\n"));
		return -1;
	}
	return 0;
}

/* One page as a table (columns sized to the page: the log is never held
 * whole). "count" refusals counted together show as "result ×N". */
static void print_page(json_object *entries)
{
	const char *headers[] = {_("SEQ"),     _("TIME"),   _("UID"),	    _("PID"),
				 _("PROGRAM"), _("SERIAL"), _("OPERATION"), _("RESULT")};
	static const char *const keys[] = {"seq",     "time",	"uid",	     "pid",
					   "program", "serial", "operation", "result"};
	struct table *table = table_new(ARRAY_LEN(headers), headers);

	for (size_t i = 0; i < json_object_array_length(entries); i++) {
		json_object *entry = json_object_array_get_idx(entries, i), *count;
		char cells[8][160];
		const char *row[8];

		for (size_t k = 0; k < 8; k++)
			row[k] = field(entry, keys[k], cells[k], sizeof(cells[k]));
		if (json_object_object_get_ex(entry, "count", &count) &&
		    json_object_get_int64(count) > 1) {
			/* TRANSLATORS: a result, and how many refusals it stands for */
			snprintf(cells[7], sizeof(cells[7]), _("%s (%lld times)"), row[7],
				 (long long)json_object_get_int64(count));
			row[7] = cells[7];
		}
		table_add_row(table, row); /* escaped there: program names are anyone's */
	}
	table_print(table, stdout);
	table_free(table);
}

int cmd_audit(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{"since", required_argument, NULL, 'S'},
		{"limit", required_argument, NULL, 'L'},
		{0},
	};
	struct audit_options o = {0};
	ukey_client *client = NULL;
	enum ukey_error e = UKEY_OK;
	uint64_t after = 0;
	bool more = true;
	long shown = 0;
	int r;

	if (ctl_parse_options_ext(ctl, argc, argv, options, parse_audit_option, &o) != argc) {
		fprintf(stderr, _("Usage: ukeyctl [--json] audit [--since DATE] [--limit N]\n"));
		return EXIT_USAGE;
	}
	r = ctl_connect(ctl, &client);
	if (r != EXIT_OK)
		return r;
	/* Page by page, printed as they come. */
	if (ctl->json)
		fputs("[", stdout);
	while (more && (o.limit == 0 || shown < o.limit)) {
		long want = o.limit == 0 || o.limit - shown > 1000 ? 1000 : o.limit - shown;
		json_object *entries;
		char *json = NULL;
		size_t n;

		e = ukey_client_get_audit_page(client, o.since, after, (unsigned)want, &json,
					       &after, &more);
		if (e != UKEY_OK)
			break;
		entries = json_tokener_parse(json);
		free(json);
		n = json_object_array_length(entries);
		for (size_t i = 0; ctl->json && i < n; i++)
			printf("%s%s", shown + (long)i > 0 ? "," : "",
			       json_object_to_json_string_ext(
				       json_object_array_get_idx(entries, i),
				       JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		if (!ctl->json && n > 0)
			print_page(entries);
		shown += (long)n;
		json_object_put(entries);
	}
	if (ctl->json)
		puts("]");
	if (e != UKEY_OK) {
		if (e == UKEY_E_AUDIT)
			fprintf(stderr, _("The audit log cannot be read: %s\n"),
				ukey_client_get_error_reason(client)
					? ukey_client_get_error_reason(client)
					: "?");
		ukey_client_unref(client);
		return ctl_fail(e, _("reading the audit log"));
	}
	if (!ctl->json && shown == 0)
		printf(_("No PIN operation is recorded.\n"));
	else if (!ctl->json && more)
		printf(_("More entries follow: see them with --limit or a later --since.\n"));
	ukey_client_unref(client);
	return EXIT_OK;
}
