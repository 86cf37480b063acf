/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyctl pin change | unlock | probe-default: PIN work, carefully. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin-input.h"
#include "commands.h"
#include "ctl.h"
#include "output.h"

struct pin_options {
	bool force;
	bool new_pin; /* unlock: ask for a new PIN instead of the CA default */
	int pin_fd;
	const char *serial;
};

static int handle_pin_option(int c, const char *arg, void *userdata)
{
	struct pin_options *o = userdata;
	char *end;

	switch (c) {
	case 'f':
		o->force = true;
		return 0;
	case 'n':
		o->new_pin = true;
		return 0;
	case 'p':
		o->pin_fd = (int)strtol(arg, &end, 10);
		return *end || o->pin_fd < 0 ? -1 : 0;
	}
	return -1;
}

static int parse_pin_options(struct ctl *ctl, int argc, char **argv, bool allow_new_pin,
			     struct pin_options *o)
{
	static const struct option with_new_pin[] = {
		{"force", no_argument, NULL, 'f'},
		{"pin-fd", required_argument, NULL, 'p'},
		{"new-pin", no_argument, NULL, 'n'},
		{0},
	};
	static const struct option without_new_pin[] = {
		{"force", no_argument, NULL, 'f'},
		{"pin-fd", required_argument, NULL, 'p'},
		{0},
	};
	int first;

	*o = (struct pin_options){.pin_fd = -1};
	first = ctl_parse_options_ext(ctl, argc, argv,
				      allow_new_pin ? with_new_pin : without_new_pin,
				      handle_pin_option, o);
	if (first < 0 || argc - first > 1)
		return -1;
	o->serial = first < argc ? argv[first] : NULL;
	return 0;
}

/* The guard's question, asked before any PIN is read: is the caller about
 * to spend the last try, and do they mean it? */
static int confirm_final_try(struct pin_input *in, ukey_token *t, bool so, bool force)
{
	enum ukey_pin_state st =
		so ? ukey_token_get_so_pin_state(t) : ukey_token_get_user_pin_state(t);
	struct ukey_secret *typed;
	bool ok;

	if (st == UKEY_PIN_LOCKED) {
		fprintf(stderr,
			so ? _("The SO PIN of token %s is locked: only the CA can replace the "
			       "token.\n")
			   : _("The PIN of token %s is locked. Unlock it at the CA counter.\n"),
			tx(ukey_token_get_serial(t)));
		return EXIT_PIN_LOCKED;
	}
	if (st != UKEY_PIN_FINAL_TRY)
		return EXIT_OK;
	if (!force) {
		fprintf(stderr,
			so ? _("Token %s has ONE SO PIN try left. A wrong SO PIN now makes the "
			       "token "
			       "unusable for good; only the CA can replace it. Nothing was tried. "
			       "If you are certain of the SO PIN, run again with --force.\n")
			   : _("Token %s has ONE PIN try left. A wrong PIN now locks it, and only "
			       "the CA "
			       "counter can unlock it. Nothing was tried. If you are certain of "
			       "the PIN, "
			       "run again with --force.\n"),
			tx(ukey_token_get_serial(t)));
		return EXIT_GUARD;
	}
	fprintf(stderr,
		so ? _("WARNING: this is the last SO PIN try of token %s. If the SO PIN is "
		       "wrong, the token is lost for good.\n")
		   : _("WARNING: this is the last PIN try of token %s. If the PIN is wrong, the "
		       "token locks.\n"),
		tx(ukey_token_get_serial(t)));
	typed = pin_input_read_visible(in, _("Type the token's serial number to go on: "));
	ok = typed && strcmp(typed->data, ukey_token_get_serial(t)) == 0;
	ukey_secret_free(typed);
	if (!ok) {
		fprintf(stderr, _("Not confirmed. Nothing was tried.\n"));
		return EXIT_GUARD;
	}
	return EXIT_OK;
}

/* A new PIN, asked twice on a terminal. */
static struct ukey_secret *read_new_pin(struct pin_input *in)
{
	struct ukey_secret *a = pin_input_read(in, _("New PIN: ")), *b;

	if (!a || !in->tty)
		return a;
	b = pin_input_read(in, _("New PIN again: "));
	if (!b || b->len != a->len || memcmp(a->data, b->data, a->len) != 0) {
		fprintf(stderr, _("The two new PINs differ. Nothing was changed.\n"));
		ukey_secret_free(a);
		a = NULL;
	}
	ukey_secret_free(b);
	return a;
}

static const char *policy_reason_text(const char *reason)
{
	static const struct {
		const char *reason, *text;
	} texts[] = {
		{"too_short", N_("it is too short")},
		{"too_long", N_("it is longer than the token accepts")},
		{"default", N_("it is the default PIN every token ships with")},
		{"same_as_old", N_("it is the same as the current PIN")},
		{"repeated", N_("it repeats one character")},
		{"sequence", N_("it is a run such as 123456 or 654321")},
	};

	for (size_t i = 0; reason && i < ARRAY_LEN(texts); i++)
		if (strcmp(reason, texts[i].reason) == 0)
			return _(texts[i].text);
	return _("it breaks the PIN policy");
}

static int pin_failed(ukey_client *client, enum ukey_error e, const char *what)
{
	const char *reason = ukey_client_get_error_reason(client);

	/* The token judged the PINs itself: either may be the one. */
	if (e == UKEY_E_PIN_POLICY && reason && strcmp(reason, "token_refused") == 0) {
		fprintf(stderr, _("The token does not take a PIN of that length or those "
				  "characters (the current PIN or the new one). No try was spent "
				  "and nothing was changed.\n"));
		return EXIT_POLICY;
	}
	if (e == UKEY_E_PIN_POLICY) {
		fprintf(stderr, _("The new PIN is refused: %s. The token was not touched.\n"),
			policy_reason_text(reason));
		return EXIT_POLICY;
	}
	return ctl_fail_request(client, e, what);
}

static int pin_change(struct ctl *ctl, ukey_client *client, ukey_token *t,
		      const struct pin_options *o, struct pin_input *in)
{
	struct ukey_secret *old_pin = NULL, *new_pin = NULL;
	enum ukey_error e;
	int r;

	r = confirm_final_try(in, t, false, o->force);
	if (r != EXIT_OK)
		return r;
	old_pin = pin_input_read(in, _("Current PIN: "));
	if (old_pin)
		new_pin = read_new_pin(in);
	if (!old_pin || !new_pin) {
		ukey_secret_free(old_pin);
		ukey_secret_free(new_pin);
		fprintf(stderr, _("No PIN given. Nothing was changed.\n"));
		return EXIT_USAGE;
	}
	e = ukey_client_change_pin(client, ukey_token_get_serial(t), old_pin->data, new_pin->data,
				   o->force ? UKEY_PIN_FORCE : 0);
	ukey_secret_free(old_pin);
	ukey_secret_free(new_pin);
	if (e != UKEY_OK)
		return pin_failed(client, e, _("changing the PIN"));
	printf(_("The PIN of token %s is changed. Keep it safe: the CA cannot tell it to you.\n"),
	       tx(ukey_token_get_serial(t)));
	return EXIT_OK;
}

static int pin_unlock(struct ctl *ctl, ukey_client *client, ukey_token *t,
		      const struct pin_options *o, struct pin_input *in)
{
	struct ukey_secret *so_pin, *new_pin = NULL;
	enum ukey_error e;
	int r;

	r = confirm_final_try(in, t, true, o->force);
	if (r != EXIT_OK)
		return r;
	so_pin = pin_input_read(in, _("SO PIN: "));
	if (so_pin && o->new_pin)
		new_pin = read_new_pin(in);
	if (!so_pin || (o->new_pin && !new_pin)) {
		ukey_secret_free(so_pin);
		ukey_secret_free(new_pin);
		fprintf(stderr, _("No PIN given. Nothing was changed.\n"));
		return EXIT_USAGE;
	}
	e = ukey_client_unlock_pin(client, ukey_token_get_serial(t), so_pin->data,
				   new_pin ? new_pin->data : NULL, o->force ? UKEY_PIN_FORCE : 0);
	ukey_secret_free(so_pin);
	ukey_secret_free(new_pin);
	if (e != UKEY_OK)
		return pin_failed(client, e, _("unlocking the token"));
	if (o->new_pin)
		printf(_("Token %s is unlocked with the new PIN.\n"), tx(ukey_token_get_serial(t)));
	else
		printf(_("Token %s is unlocked. Its PIN is the CA's default again: the holder must "
			 "change it ('ukeyctl pin change') before bidding.\n"),
		       tx(ukey_token_get_serial(t)));
	return EXIT_OK;
}

static int pin_probe_default(struct ctl *ctl, ukey_client *client, ukey_token *t)
{
	/* An SKF token says it itself: nothing is tried. */
	bool by_flag = strcmp(ukey_token_get_backend(t), "skf") == 0;
	bool is_default = false;
	enum ukey_error e;

	if (by_flag) {
		fprintf(stderr,
			_("Asking token %s whether its PIN is still the default. No PIN try is "
			  "spent: the token keeps this flag itself.\n"),
			tx(ukey_token_get_serial(t)));
	} else if (ukey_token_get_user_pin_state(t) != UKEY_PIN_OK) {
		fprintf(stderr,
			_("Token %s has had a wrong PIN entered: no guess is made now, it "
			  "could lock the token. Nothing was tried.\n"),
			tx(ukey_token_get_serial(t)));
		return EXIT_GUARD;
	} else {
		fprintf(stderr,
			_("Trying the default PIN on token %s. If it is not the default, this "
			  "costs one PIN try.\n"),
			tx(ukey_token_get_serial(t)));
	}
	e = ukey_client_probe_default_pin(client, ukey_token_get_serial(t), &is_default);
	if (e == UKEY_E_PIN_INCORRECT) {
		printf(_("The PIN of token %s is not the default. Good.\n"),
		       tx(ukey_token_get_serial(t)));
		return EXIT_OK;
	}
	if (e != UKEY_OK)
		return ctl_fail_request(client, e, _("checking the PIN"));
	printf(_("Token %s still has the default PIN. Change it now: ukeyctl pin change %s\n"),
	       tx(ukey_token_get_serial(t)), tx(ukey_token_get_serial(t)));
	return EXIT_PROBLEMS;
}

int cmd_pin(struct ctl *ctl, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	bool change = !strcmp(sub, "change"), unlock = !strcmp(sub, "unlock");
	bool probe = !strcmp(sub, "probe-default");
	ukey_client *client = NULL;
	ukey_token *t = NULL;
	struct pin_options o;
	struct pin_input in;
	int r;

	if ((!change && !unlock && !probe) ||
	    parse_pin_options(ctl, argc - 1, argv + 1, unlock, &o) < 0 || (probe && !o.serial)) {
		fprintf(stderr,
			_("Usage: ukeyctl pin change [SERIAL] [--force] [--pin-fd N]\n"
			  "       ukeyctl pin unlock [SERIAL] [--new-pin] [--force] [--pin-fd N]\n"
			  "       ukeyctl pin probe-default SERIAL\n"
			  "PINs are read from the terminal, or one per line from standard input "
			  "or descriptor N; never from the command line.\n"));
		return EXIT_USAGE;
	}
	pin_input_open(&in, o.pin_fd);
	r = ctl_connect(ctl, &client);
	if (r != EXIT_OK)
		return r;
	r = ctl_pick_serial(client, o.serial, &t);
	if (r == EXIT_OK) {
		if (change)
			r = pin_change(ctl, client, t, &o, &in);
		else if (unlock)
			r = pin_unlock(ctl, client, t, &o, &in);
		else
			r = pin_probe_default(ctl, client, t);
	}
	ukey_token_unref(t);
	ukey_client_unref(client);
	return r;
}
