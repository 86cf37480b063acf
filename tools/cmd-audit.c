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

static int parse_since_option(int c, const char *arg, void *userdata)
{
	if (parse_since(arg, userdata) < 0) {
		fprintf(stderr, _("ukeyctl audit: --since takes a date, YYYY-MM-DD\n"));
		return -1;
	}
	return 0;
}

int cmd_audit(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {{"since", required_argument, NULL, 'S'}, {0}};
	const char *headers[] = {_("TIME"),   _("UID"),	      _("PID"),	  _("PROGRAM"),
				 _("SERIAL"), _("OPERATION"), _("RESULT")};
	ukey_client *client = NULL;
	json_object *entries;
	struct table *table;
	char *json = NULL;
	int64_t since = 0;
	enum ukey_error e;
	int r;

	if (ctl_parse_options_ext(ctl, argc, argv, options, parse_since_option, &since) != argc) {
		fprintf(stderr, _("Usage: ukeyctl [--json] audit [--since DATE]\n"));
		return EXIT_USAGE;
	}
	r = ctl_connect(ctl, &client);
	if (r != EXIT_OK)
		return r;
	e = ukey_client_get_audit(client, since, &json);
	ukey_client_unref(client);
	if (e != UKEY_OK)
		return ctl_fail(e, _("reading the audit log"));
	if (ctl->json) {
		printf("%s\n", json);
		free(json);
		return EXIT_OK;
	}
	entries = json_tokener_parse(json);
	free(json);
	table = table_new(ARRAY_LEN(headers), headers);
	for (size_t i = 0; i < json_object_array_length(entries); i++) {
		json_object *entry = json_object_array_get_idx(entries, i);
		static const char *const keys[] = {"time",   "uid",	  "pid",   "program",
						   "serial", "operation", "result"};
		char cells[7][128];
		const char *row[7];

		for (size_t k = 0; k < 7; k++)
			row[k] = field(entry, keys[k], cells[k], sizeof(cells[k]));
		table_add_row(table, row);
	}
	if (json_object_array_length(entries) == 0)
		printf(_("No PIN operation is recorded.\n"));
	else
		table_print(table, stdout);
	table_free(table);
	json_object_put(entries);
	return EXIT_OK;
}
