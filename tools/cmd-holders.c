/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyctl holders: the plugged tokens grouped by holder, primary first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ctl.h"
#include "output.h"
#include "role-text.h"

/* A holder is known by its credit code, else by its name. */
static const char *holder_key(const ukey_token *t)
{
	const char *code = ukey_token_get_holder_credit_code(t);

	return code ? code : ukey_token_get_holder_name(t);
}

int cmd_holders(struct ctl *ctl, int argc, char **argv)
{
	ukey_token_list *list = NULL;
	size_t n;
	bool *done, warned = false;
	int r;

	if (ctl_parse_options(ctl, argc, argv) != argc) {
		fprintf(stderr, _("Usage: ukeyctl holders\n"));
		return EXIT_USAGE;
	}
	r = ctl_list_tokens(ctl, &list);
	if (r != EXIT_OK)
		return r;
	n = ukey_token_list_get_count(list);
	done = calloc(n + 1, sizeof(*done));
	if (!done)
		abort();
	for (size_t i = 0; i < n; i++) {
		ukey_token *first = ukey_token_list_get(list, i);
		const char *key = holder_key(first), *code;
		size_t primaries = 0, secondaries = 0;

		if (done[i] || !ukey_token_is_initialized(first) || !*key)
			continue;
		code = ukey_token_get_holder_credit_code(first);
		printf("%s", tx(ukey_token_get_holder_name(first)));
		if (code)
			printf(_(" (credit code %s)"), tx(code));
		putchar('\n');
		/* Primaries first, then secondaries, each once. */
		for (int pass = 0; pass < 2; pass++)
			for (size_t k = i; k < n; k++) {
				ukey_token *t = ukey_token_list_get(list, k);
				bool primary = ukey_token_get_role(t) == UKEY_ROLE_PRIMARY;
				if (done[k] || strcmp(holder_key(t), key) != 0 ||
				    primary != (pass == 0))
					continue;
				if (!ukey_token_is_initialized(t))
					continue;
				done[k] = true;
				primary ? primaries++ : secondaries++;
				const char *role = role_text(t);
				printf("  %s  %-18s %s\n",
				       primary ? _("primary  ") : _("secondary"),
				       tx(ukey_token_get_serial(t)), role ? role : "-");
			}
		if (primaries > 1) {
			printf(_("  ! More than one primary token of this holder is plugged in; "
				 "a holder has only one.\n"));
			warned = true;
		}
		if (secondaries > 2) {
			printf(_(
				"  ! More than two secondary tokens of this holder are plugged in; "
				"a holder may have at most two.\n"));
			warned = true;
		}
	}
	free(done);
	ukey_token_list_unref(list);
	return warned ? EXIT_PROBLEMS : EXIT_OK;
}
