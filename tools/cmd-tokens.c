/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyctl list, ukeyctl status: what is plugged in. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ukeyctl.h"

static void print_token_json_list(ukey_token_list *list)
{
	size_t n = ukey_token_list_get_count(list);

	/* Each token is already JSON as ukeyd wrote it; only the envelope
	 * is ours. */
	fputs("{\"tokens\":[", stdout);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', stdout);
		fputs(ukey_token_get_json(ukey_token_list_get(list, i)), stdout);
	}
	fputs("]}\n", stdout);
}

int cmd_list(struct ctl *ctl, int argc, char **argv)
{
	const char *headers[] = {_("SERIAL"), _("LABEL"), _("MANUFACTURER"), _("MODEL"),
				 _("USER PIN"), _("CERTS"), _("OBJECTS")};
	ukey_client *client = NULL;
	ukey_token_list *list = NULL;
	enum ukey_error e;
	struct table *t;
	size_t n;
	int r;

	if (ctl_parse_options(ctl, argc, argv) != argc) {
		fprintf(stderr, _("Usage: ukeyctl [--socket PATH] [--json] list\n"));
		return EXIT_USAGE;
	}
	r = ctl_connect(ctl, &client);
	if (r != EXIT_OK)
		return r;
	e = ukey_client_list_tokens(client, &list);
	ukey_client_unref(client);
	if (e != UKEY_OK)
		return ctl_fail(e, _("listing tokens"));

	if (ctl->json) {
		print_token_json_list(list);
		ukey_token_list_unref(list);
		return EXIT_OK;
	}
	n = ukey_token_list_get_count(list);
	if (n == 0) {
		printf(_("No token found. Plug in your CA token (UKey); if it is plugged in, check "
			 "that its PKCS#11 module is configured for ukeyd.\n"));
		ukey_token_list_unref(list);
		return EXIT_OK;
	}
	t = table_new(ARRAY_LEN(headers), headers);
	for (size_t i = 0; i < n; i++) {
		ukey_token *tok = ukey_token_list_get(list, i);
		char certs[24], objects[24];
		const char *row[7];

		snprintf(certs, sizeof(certs), "%zu", ukey_token_get_cert_count(tok));
		snprintf(objects, sizeof(objects), "%zu", ukey_token_get_object_count(tok));
		row[0] = *ukey_token_get_serial(tok) ? ukey_token_get_serial(tok) : "-";
		row[1] = ukey_token_is_initialized(tok) ? ukey_token_get_label(tok)
							: _("(blank token)");
		row[2] = ukey_token_get_manufacturer(tok);
		row[3] = ukey_token_get_model(tok);
		row[4] = pin_state_text(ukey_token_get_user_pin_state(tok));
		row[5] = certs;
		row[6] = objects;
		table_add_row(t, row);
	}
	table_print(t, stdout);
	table_free(t);
	ukey_token_list_unref(list);
	return EXIT_OK;
}

static void print_field(const char *name, const char *value)
{
	fputs("  ", stdout);
	print_padded(stdout, name, 16);
	printf("%s\n", value);
}

static void print_token(ukey_token *tok)
{
	char buf[64];
	size_t n;

	printf(_("Token %s\n"), ukey_token_get_serial(tok));
	print_field(_("Label:"), ukey_token_get_label(tok));
	print_field(_("Manufacturer:"), ukey_token_get_manufacturer(tok));
	print_field(_("Model:"), ukey_token_get_model(tok));
	print_field(_("Module:"), ukey_token_get_module(tok));
	print_field(_("Initialized:"), ukey_token_is_initialized(tok) ? _("yes") : _("no"));
	print_field(_("User PIN:"), pin_state_text(ukey_token_get_user_pin_state(tok)));
	print_field(_("SO PIN:"), pin_state_text(ukey_token_get_so_pin_state(tok)));
	snprintf(buf, sizeof(buf), _("%lu to %lu characters"), ukey_token_get_pin_min_len(tok),
		 ukey_token_get_pin_max_len(tok));
	print_field(_("PIN length:"), buf);

	n = ukey_token_get_cert_count(tok);
	snprintf(buf, sizeof(buf), "%zu", n);
	print_field(_("Certificates:"), buf);
	for (size_t i = 0; i < n; i++) {
		const ukey_cert *c = ukey_token_get_cert(tok, i);
		printf("    [%zu] %s\n", i + 1, ukey_cert_get_label(c));
		printf(_("        ID %s, SHA-256 %s\n"), ukey_cert_get_id(c), ukey_cert_get_sha256(c));
	}
	n = ukey_token_get_object_count(tok);
	snprintf(buf, sizeof(buf), "%zu", n);
	print_field(_("Data objects:"), buf);
	for (size_t i = 0; i < n; i++) {
		const ukey_object *o = ukey_token_get_object(tok, i);
		printf("    [%zu] %s\n", i + 1, ukey_object_get_label(o));
		printf(_("        application \"%s\", %zu bytes\n"), ukey_object_get_application(o),
		       ukey_object_get_size(o));
	}
}

int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	ukey_client *client = NULL;
	ukey_token *tok = NULL;
	enum ukey_error e;
	int r, first;

	first = ctl_parse_options(ctl, argc, argv);
	if (first < 0 || argc - first != 1 || !*argv[first]) {
		fprintf(stderr, _("Usage: ukeyctl [--socket PATH] [--json] status SERIAL\n"));
		return EXIT_USAGE;
	}
	r = ctl_connect(ctl, &client);
	if (r != EXIT_OK)
		return r;
	e = ukey_client_get_token(client, argv[first], &tok);
	ukey_client_unref(client);
	if (e == UKEY_E_NOT_FOUND) {
		fprintf(stderr, _("No plugged token has serial %s. See 'ukeyctl list'.\n"),
			argv[first]);
		return EXIT_NOT_FOUND;
	}
	if (e != UKEY_OK)
		return ctl_fail(e, _("reading the token"));
	if (ctl->json)
		printf("%s\n", ukey_token_get_json(tok));
	else
		print_token(tok);
	ukey_token_unref(tok);
	return EXIT_OK;
}
