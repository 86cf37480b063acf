/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyctl list, ukeyctl status: what is plugged in. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin-input.h"
#include "commands.h"
#include "ctl.h"
#include "output.h"
#include "role-text.h"

static void print_token_json_list(ukey_token_list *list)
{
	size_t n = ukey_token_list_get_count(list);

	/* Each token is already JSON as ukeyd wrote it; only the envelope
	 * is ours. */
	printf("{\"scanning\":%s,\"tokens\":[",
	       ukey_token_list_is_scanning(list) ? "true" : "false");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', stdout);
		fputs(ukey_token_get_json(ukey_token_list_get(list, i)), stdout);
	}
	fputs("]}\n", stdout);
}

/* The list as `list` shows it (the list is taken). */
static int print_list(const struct ctl *ctl, ukey_token_list *list)
{
	const char *headers[] = {_("SERIAL"),	_("LABEL"), _("MANUFACTURER"), _("MODEL"),
				 _("USER PIN"), _("CERTS"), _("OBJECTS")};
	struct table *t;
	size_t n;

	if (ctl->json) {
		print_token_json_list(list);
		ukey_token_list_unref(list);
		return EXIT_OK;
	}
	n = ukey_token_list_get_count(list);
	if (n == 0) {
		printf(_("No token found. Plug in your CA token (UKey); if it is plugged in, check "
			 "that its PKCS#11 module or SKF library is configured for ukeyd.\n"));
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

int cmd_list(struct ctl *ctl, int argc, char **argv)
{
	ukey_token_list *list = NULL;
	int r;

	if (ctl_parse_options(ctl, argc, argv) != argc) {
		fprintf(stderr, _("Usage: ukeyctl [--socket PATH] [--json] list\n"));
		return EXIT_USAGE;
	}
	r = ctl_list_tokens(ctl, &list);
	return r == EXIT_OK ? print_list(ctl, list) : r;
}

/* After re-plugging a token by hand (a hub without hotplug, a module that
 * sees tokens late): every token read again, then the list. */
int cmd_refresh(struct ctl *ctl, int argc, char **argv)
{
	ukey_client *client = NULL;
	ukey_token_list *list = NULL;
	enum ukey_error e;
	int r;

	if (ctl_parse_options(ctl, argc, argv) != argc) {
		fprintf(stderr, _("Usage: ukeyctl [--socket PATH] [--json] refresh\n"));
		return EXIT_USAGE;
	}
	r = ctl_connect(ctl, &client);
	if (r != EXIT_OK)
		return r;
	e = ukey_client_refresh(client);
	if (e == UKEY_OK)
		e = ctl_list_settled(client, &list);
	ukey_client_unref(client);
	if (e != UKEY_OK)
		return ctl_fail(e, _("reading the tokens again"));
	return print_list(ctl, list);
}

static const char *key_pair_text(enum ukey_key_pair k)
{
	switch (k) {
	case UKEY_KEY_PAIR_PRESENT:
		return _("key pair on the token");
	case UKEY_KEY_PAIR_UNKNOWN:
		return _("key hidden until the PIN is given");
	case UKEY_KEY_PAIR_ABSENT:
		break;
	}
	return _("no matching key on the token");
}

static void print_field(const char *name, const char *value)
{
	fputs("  ", stdout);
	print_padded(stdout, name, 16);
	printf("%s\n", tx(value)); /* labels, names: token text */
}

static const char *usage_text(enum ukey_cert_usage u)
{
	switch (u) {
	case UKEY_CERT_USAGE_SIGN:
		return _("signing");
	case UKEY_CERT_USAGE_ENCRYPT:
		return _("encryption");
	case UKEY_CERT_USAGE_SIGN_ENCRYPT:
		return _("signing and encryption");
	case UKEY_CERT_USAGE_UNKNOWN:
		break;
	}
	return _("usage not stated");
}

static const char *holder_kind_text(enum ukey_holder_kind k)
{
	switch (k) {
	case UKEY_HOLDER_UNIT:
		return _("unit");
	case UKEY_HOLDER_PERSON:
		return _("person");
	case UKEY_HOLDER_UNKNOWN:
		break;
	}
	return _("unknown");
}

static void print_cert(const ukey_cert *c, size_t index)
{
	char from[16], to[16], buf[256];

	printf("    [%zu] %s\n", index, tx(ukey_cert_get_label(c)));
	if (ukey_cert_get_expiry(c) == UKEY_CERT_MALFORMED) {
		printf(_("        not a readable X.509 certificate\n"));
		printf(_("        ID %s, SHA-256 %s\n"), tx(ukey_cert_get_id(c)),
		       tx(ukey_cert_get_sha256(c)));
		return;
	}
	/* TRANSLATORS: usage, key type and size, whether the key is on the token */
	printf(_("        %s, %s %u, %s\n"), usage_text(ukey_cert_get_usage(c)),
	       key_type_text(ukey_cert_get_key_type(c)), ukey_cert_get_key_bits(c),
	       key_pair_text(ukey_cert_get_key_pair(c)));
	printf(_("        Subject:  %s\n"), tx(ukey_cert_get_subject(c)));
	printf(_("        Issuer:   %s (%s)\n"), tx(ukey_cert_get_issuer(c)),
	       tx(ukey_cert_get_ca_name(c, ctl_language())));
	format_date(ukey_cert_get_not_before(c), from, sizeof(from));
	format_date(ukey_cert_get_not_after(c), to, sizeof(to));
	printf(_("        Valid:    %s to %s, %s\n"), from, to,
	       days_left_text(c, buf, sizeof(buf)));
	printf(_("        Serial %s, ID %s, SHA-256 %s\n"), tx(ukey_cert_get_serial(c)),
	       tx(ukey_cert_get_id(c)), tx(ukey_cert_get_sha256(c)));
	switch (ukey_cert_get_expiry(c)) {
	case UKEY_CERT_RENEWAL_WINDOW:
		printf(_("        ! Renew this certificate now, before you encrypt any bid. Never "
			 "renew while a bid encrypted with this token is still unopened: the "
			 "renewed "
			 "token could not decrypt it at bid opening.\n"));
		break;
	case UKEY_CERT_EXPIRED:
		printf(_("        ! Expired: it can no longer sign or decrypt bids. Renew it at "
			 "your "
			 "CA's counter.\n"));
		break;
	case UKEY_CERT_NOT_YET_VALID:
		printf(_("        ! Not valid yet: it cannot be used before %s.\n"), from);
		break;
	case UKEY_CERT_VALID:
	case UKEY_CERT_MALFORMED:
		break;
	}
}

static void print_seal(const ukey_seal *s, size_t index)
{
	char from[16], to[16];

	if (ukey_seal_get_status(s) == UKEY_SEAL_MALFORMED) {
		printf(_("    [%zu] a damaged seal (object \"%s\")\n"), index,
		       tx(ukey_seal_get_object_label(s)));
		return;
	}
	format_date(ukey_seal_get_valid_from(s), from, sizeof(from));
	format_date(ukey_seal_get_valid_to(s), to, sizeof(to));
	printf("    [%zu] %s: %s, %s%s\n", index, tx(ukey_seal_get_name(s)),
	       seal_kind_text(ukey_seal_get_kind(s)), seal_status_text(ukey_seal_get_status(s)),
	       ukey_seal_is_private(s) ? _(" (private object)") : "");
	printf(_("        valid %s to %s, picture %s (%zu bytes), object \"%s\"\n"), from, to,
	       tx(ukey_seal_get_picture_type(s)), ukey_seal_get_picture_size(s),
	       tx(ukey_seal_get_object_label(s)));
}

/* A PIN's state, with its tries as N/M where the token counts them. */
static const char *pin_text(const ukey_token *tok, bool so, char *buf, size_t size)
{
	enum ukey_pin_state st =
		so ? ukey_token_get_so_pin_state(tok) : ukey_token_get_user_pin_state(tok);
	int left, max;

	if (!ukey_token_get_pin_tries(tok, so, &left, &max))
		return pin_state_text(st);
	/* TRANSLATORS: a PIN's state, then its tries left of the tries allowed */
	snprintf(buf, size, _("%s, tries left %d/%d"), pin_state_text(st), left, max);
	return buf;
}

static const char *default_pin_text(const ukey_token *tok)
{
	switch (ukey_token_get_pin_is_default(tok)) {
	case 1:
		return _("yes: still the CA's default, change it ('ukeyctl pin change')");
	case 0:
		return _("no");
	}
	return _("not known (ukeyctl pin probe-default tells)");
}

static void print_token(ukey_token *tok)
{
	char buf[256];
	size_t n;

	printf(_("Token %s\n"), tx(ukey_token_get_serial(tok)));
	print_field(_("Label:"), ukey_token_get_label(tok));
	print_field(_("Manufacturer:"), ukey_token_get_manufacturer(tok));
	print_field(_("Model:"), ukey_token_get_model(tok));
	print_field(_("Module:"), ukey_token_get_module(tok));
	if (*ukey_token_get_backend(tok))
		print_field(_("Interface:"), strcmp(ukey_token_get_backend(tok), "skf") == 0
						     ? _("SKF (GM/T 0016)")
						     : "PKCS#11");
	print_field(_("Initialized:"), ukey_token_is_initialized(tok) ? _("yes") : _("no"));
	if (ukey_token_get_holder_kind(tok) != UKEY_HOLDER_UNKNOWN) {
		const char *code = ukey_token_get_holder_credit_code(tok);
		const char *id = ukey_token_get_holder_id_masked(tok);

		if (code)
			snprintf(buf, sizeof(buf), _("%s (%s, credit code %s)"),
				 ukey_token_get_holder_name(tok),
				 holder_kind_text(ukey_token_get_holder_kind(tok)), code);
		else if (id)
			snprintf(buf, sizeof(buf), _("%s (%s, ID %s)"),
				 ukey_token_get_holder_name(tok),
				 holder_kind_text(ukey_token_get_holder_kind(tok)), id);
		else
			snprintf(buf, sizeof(buf), "%s (%s)", ukey_token_get_holder_name(tok),
				 holder_kind_text(ukey_token_get_holder_kind(tok)));
		print_field(_("Holder:"), buf);
	}
	if (ukey_token_get_ca(tok))
		print_field(_("CA:"), ukey_token_get_ca_name(tok, ctl_language()));
	if (ukey_token_is_initialized(tok))
		print_field(_("Role:"), role_text(tok) ? role_text(tok) : "-");
	print_field(_("User PIN:"), pin_text(tok, false, buf, sizeof(buf)));
	print_field(_("SO PIN:"), pin_text(tok, true, buf, sizeof(buf)));
	if (ukey_token_is_initialized(tok))
		print_field(_("Default PIN:"), default_pin_text(tok));
	if (ukey_token_get_pin_max_len(tok) > 0) {
		snprintf(buf, sizeof(buf), _("%lu to %lu characters"),
			 ukey_token_get_pin_min_len(tok), ukey_token_get_pin_max_len(tok));
		print_field(_("PIN length:"), buf);
	}

	n = ukey_token_get_cert_count(tok);
	snprintf(buf, sizeof(buf), "%zu", n);
	print_field(_("Certificates:"), buf);
	for (size_t i = 0; i < n; i++)
		print_cert(ukey_token_get_cert(tok, i), i + 1);
	n = ukey_token_get_seal_count(tok);
	snprintf(buf, sizeof(buf), "%zu", n);
	print_field(_("Seals:"), buf);
	for (size_t i = 0; i < n; i++)
		print_seal(ukey_token_get_seal(tok, i), i + 1);
	if (ukey_token_is_seal_missing(tok))
		printf(_("    ! This primary token carried an electronic seal and shows none now. "
			 "Have the CA counter check it before you sign.\n"));
	n = ukey_token_get_object_count(tok);
	snprintf(buf, sizeof(buf), "%zu", n);
	print_field(_("Data objects:"), buf);
	for (size_t i = 0; i < n; i++) {
		const ukey_object *o = ukey_token_get_object(tok, i);
		printf("    [%zu] %s\n", i + 1, tx(ukey_object_get_label(o)));
		printf(_("        application \"%s\", %zu bytes\n"),
		       tx(ukey_object_get_application(o)), ukey_object_get_size(o));
	}
}

struct status_options {
	bool private_objects;
	int pin_fd;
};

static int handle_status_option(int c, const char *arg, void *userdata)
{
	struct status_options *o = userdata;
	char *end;

	if (c == 'P') {
		o->private_objects = true;
		return 0;
	}
	o->pin_fd = (int)strtol(arg, &end, 10);
	return *end || o->pin_fd < 0 ? -1 : 0;
}

/* --private: the token's private objects too, opened with the PIN. */
static int get_with_pin(ukey_client *client, ukey_token **tok, int pin_fd)
{
	struct pin_input in;
	struct ukey_secret *pin;
	ukey_token *full = NULL;
	enum ukey_error e;

	pin_input_open(&in, pin_fd);
	pin = pin_input_read(&in, _("PIN: "));
	if (!pin) {
		fprintf(stderr, _("No PIN given. Nothing was changed.\n"));
		return EXIT_USAGE;
	}
	e = ukey_client_get_token_with_pin(client, ukey_token_get_serial(*tok), pin->data, 0,
					   &full);
	ukey_secret_free(pin);
	if (e != UKEY_OK)
		return ctl_fail_request(client, e, _("reading the token"));
	ukey_token_unref(*tok);
	*tok = full;
	return EXIT_OK;
}

int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{"private", no_argument, NULL, 'P'},
		{"pin-fd", required_argument, NULL, 'F'},
		{0},
	};
	struct status_options o = {.pin_fd = -1};
	ukey_client *client = NULL;
	ukey_token *tok = NULL;
	int r, first;

	first = ctl_parse_options_ext(ctl, argc, argv, options, handle_status_option, &o);
	if (first < 0 || argc - first > 1 || (argc - first == 1 && !*argv[first])) {
		fprintf(stderr, _("Usage: ukeyctl [--socket PATH] [--json] status [SERIAL] "
				  "[--private [--pin-fd N]]\n"));
		return EXIT_USAGE;
	}
	r = ctl_connect(ctl, &client);
	if (r != EXIT_OK)
		return r;
	r = ctl_pick_serial(client, argc - first == 1 ? argv[first] : NULL, &tok);
	if (r == EXIT_OK && o.private_objects)
		r = get_with_pin(client, &tok, o.pin_fd);
	ukey_client_unref(client);
	if (r != EXIT_OK) {
		ukey_token_unref(tok);
		return r;
	}
	if (ctl->json)
		printf("%s\n", ukey_token_get_json(tok));
	else
		print_token(tok);
	ukey_token_unref(tok);
	return EXIT_OK;
}
