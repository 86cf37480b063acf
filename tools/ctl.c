/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ctl.h"

#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "build-config.h"

static const char *effective_socket(const struct ctl *ctl)
{
	const char *env = getenv("UKEY_SOCKET");

	if (ctl->socket && *ctl->socket)
		return ctl->socket;
	return env && *env ? env : UKEY_DEFAULT_SOCKET;
}

int ctl_parse_options_ext(struct ctl *ctl, int argc, char **argv, const struct option *extra,
			  ctl_option_fn handle, void *userdata)
{
	struct option options[16] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
	};
	size_t n = 2;
	int c;

	for (; extra && extra->name && n < ARRAY_LEN(options) - 1; extra++)
		options[n++] = *extra;
	optind = 0; /* 0, not 1: also resets the "+" mode main() parsed with */
	while ((c = getopt_long(argc, argv, "s:j", options, NULL)) != -1) {
		if (c == 's')
			ctl->socket = optarg;
		else if (c == 'j')
			ctl->json = true;
		else if (c == '?' || !handle || handle(c, optarg, userdata) < 0)
			return -1;
	}
	return optind;
}

int ctl_parse_options(struct ctl *ctl, int argc, char **argv)
{
	return ctl_parse_options_ext(ctl, argc, argv, NULL, NULL, NULL);
}

/* How long a command waits for ukeyd's first scan before it shows what
 * is read so far (a slow token, or ukeyd just started by the socket). */
#define SETTLE_MS 3000
#define SETTLE_STEP_MS 100

enum ukey_error ctl_list_settled(ukey_client *client, ukey_token_list **ret_list)
{
	ukey_token_list *list = NULL;
	enum ukey_error e;

	for (int waited = 0;; waited += SETTLE_STEP_MS) {
		e = ukey_client_list_tokens(client, &list);
		if (e != UKEY_OK || !ukey_token_list_is_scanning(list) || waited >= SETTLE_MS)
			break;
		ukey_token_list_unref(list);
		list = NULL;
		(void)poll(NULL, 0, SETTLE_STEP_MS);
	}
	if (e != UKEY_OK)
		return e;
	if (ukey_token_list_is_scanning(list))
		fprintf(stderr,
			_("ukeyd is still reading the tokens: %zu shown so far. Run the command "
			  "again in a moment.\n"),
			ukey_token_list_get_count(list));
	*ret_list = list;
	return UKEY_OK;
}

int ctl_list_tokens(struct ctl *ctl, ukey_token_list **ret_list)
{
	ukey_client *client = NULL;
	enum ukey_error e;
	int r;

	r = ctl_connect(ctl, &client);
	if (r != EXIT_OK)
		return r;
	e = ctl_list_settled(client, ret_list);
	ukey_client_unref(client);
	return e == UKEY_OK ? EXIT_OK : ctl_fail(e, _("listing tokens"));
}

int ctl_connect(struct ctl *ctl, ukey_client **ret_client)
{
	enum ukey_error e = ukey_client_new(ctl->socket, ret_client);

	if (e == UKEY_OK)
		return EXIT_OK;
	if (e == UKEY_E_UNREACHABLE) {
		fprintf(stderr,
			_("Cannot reach ukeyd at %s.\n"
			  "Is it running? Start it with 'systemctl start ukeyd', or point "
			  "--socket or UKEY_SOCKET at its socket.\n"),
			effective_socket(ctl));
		return EXIT_UNREACHABLE;
	}
	return ctl_fail(e, _("connecting to ukeyd"));
}

int ctl_fail(enum ukey_error err, const char *what)
{
	/* libukey's strings are English; say the same in the user's language. */
	static const char *const words[] = {
		[UKEY_E_INVALID_ARGUMENT] = N_("invalid argument"),
		[UKEY_E_NO_MEMORY] = N_("out of memory"),
		[UKEY_E_UNREACHABLE] = N_("ukeyd is not reachable"),
		[UKEY_E_DISCONNECTED] = N_("ukeyd closed the connection"),
		[UKEY_E_PROTOCOL] = N_("malformed message from ukeyd"),
		[UKEY_E_VERSION] = N_("ukeyd speaks an unsupported protocol version"),
		[UKEY_E_TIMEOUT] = N_("ukeyd did not answer in time"),
		[UKEY_E_NOT_FOUND] = N_("no such token"),
		[UKEY_E_DAEMON] = N_("ukeyd failed the request"),
		[UKEY_E_REFUSED] = N_("ukeyd refused the request"),
		[UKEY_E_PIN_INCORRECT] = N_("wrong PIN: one try was spent"),
		[UKEY_E_PIN_LOCKED] = N_("the PIN is locked; the CA counter can unlock it"),
		[UKEY_E_PIN_POLICY] = N_("the new PIN is refused by the PIN policy"),
		[UKEY_E_LOCKOUT_GUARD] = N_("refused: a wrong PIN now would lock the token"),
		[UKEY_E_PERMISSION] =
			N_("permission denied: only root or the ukey admin group may do this"),
		[UKEY_E_TOKEN_REMOVED] = N_("the token was removed"),
		[UKEY_E_TOKEN] = N_("the token failed the operation"),
		[UKEY_E_BUSY] = N_("ukeyd is overloaded (too many connections) or still reading "
				   "the tokens; try again in a moment"),
		[UKEY_E_AUDIT] = N_("ukeyd cannot write its audit log, so it refuses PIN "
				    "operations; nothing was tried"),
		[UKEY_E_RETRY_LATER] = N_("a wrong PIN was entered on this token lately; wait "
					  "before the next try"),
	};
	static const int codes[] = {
		[UKEY_E_NOT_FOUND] = EXIT_NOT_FOUND,
		[UKEY_E_UNREACHABLE] = EXIT_UNREACHABLE,
		[UKEY_E_PIN_INCORRECT] = EXIT_WRONG_PIN,
		[UKEY_E_PIN_LOCKED] = EXIT_PIN_LOCKED,
		[UKEY_E_PIN_POLICY] = EXIT_POLICY,
		[UKEY_E_LOCKOUT_GUARD] = EXIT_GUARD,
		[UKEY_E_PERMISSION] = EXIT_PERMISSION,
		[UKEY_E_TOKEN_REMOVED] = EXIT_REMOVED,
		[UKEY_E_BUSY] = EXIT_BUSY,
		[UKEY_E_RETRY_LATER] = EXIT_BUSY,
	};
	const char *msg =
		(unsigned)err < ARRAY_LEN(words) && words[err] ? _(words[err]) : ukey_strerror(err);

	fprintf(stderr, _("Error %s: %s\n"), what, msg);
	if ((unsigned)err < ARRAY_LEN(codes) && codes[err])
		return codes[err];
	return EXIT_ERROR;
}

int ctl_fail_request(ukey_client *client, enum ukey_error err, const char *what)
{
	int r = ctl_fail(err, what), left = ukey_client_get_error_tries_left(client);
	unsigned wait = ukey_client_get_retry_after(client);
	const char *reason = ukey_client_get_error_reason(client);

	if (left >= 0 && (err == UKEY_E_PIN_INCORRECT || err == UKEY_E_PIN_LOCKED ||
			  err == UKEY_E_LOCKOUT_GUARD))
		fprintf(stderr, _("PIN tries left: %d\n"), left);
	if (err == UKEY_E_RETRY_LATER && wait > 0)
		fprintf(stderr,
			ngettext("Try again in %u second. Nothing was tried.\n",
				 "Try again in %u seconds. Nothing was tried.\n", wait),
			wait);
	if (err == UKEY_E_PERMISSION && reason && strcmp(reason, "pin_users") == 0)
		fprintf(stderr, _("PIN operations here are for root, the ukey admin group and the "
				  "user at this computer (an active local session); ukeyd's "
				  "pin_users setting may name a group instead (ukeyd(8)).\n"));
	if (err == UKEY_E_PERMISSION && reason && strcmp(reason, "force") == 0)
		fprintf(stderr, _("Spending the final PIN try (--force) is for the ukey admin "
				  "group and the user at this computer (an active local "
				  "session).\n"));
	if (err == UKEY_E_AUDIT && reason)
		fprintf(stderr, _("The audit log cannot be written: %s\n"), reason);
	return r;
}

int ctl_pick_serial(ukey_client *client, const char *given, ukey_token **ret_token)
{
	ukey_token_list *list = NULL;
	ukey_token *only = NULL;
	size_t n = 0;
	enum ukey_error e;

	if (given) {
		e = ukey_client_get_token(client, given, ret_token);
		if (e == UKEY_E_NOT_FOUND) {
			fprintf(stderr, _("No plugged token has serial %s. See 'ukeyctl list'.\n"),
				given);
			return EXIT_NOT_FOUND;
		}
		return e == UKEY_OK ? EXIT_OK : ctl_fail(e, _("reading the token"));
	}
	e = ctl_list_settled(client, &list);
	if (e != UKEY_OK)
		return ctl_fail(e, _("listing tokens"));
	for (size_t i = 0; i < ukey_token_list_get_count(list); i++)
		if (ukey_token_is_initialized(ukey_token_list_get(list, i))) {
			only = ukey_token_list_get(list, i);
			n++;
		}
	if (n == 1)
		*ret_token = ukey_token_ref(only);
	ukey_token_list_unref(list);
	if (n == 1)
		return EXIT_OK;
	fprintf(stderr, n == 0 ? _("No token is plugged in.\n")
			       : _("Several tokens are plugged in: name one by its serial (see "
				   "'ukeyctl list').\n"));
	return n == 0 ? EXIT_NOT_FOUND : EXIT_USAGE;
}
