/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "role-text.h"

#include <libintl.h>

#define _(s) gettext(s)

const char *role_text(const ukey_token *t)
{
	switch (ukey_token_get_role(t)) {
	case UKEY_ROLE_PRIMARY:
		if (ukey_token_is_seal_missing(t))
			return _("primary, SEAL MISSING");
		return ukey_token_is_seal_usable(t) ? _("primary (carries the seal)")
						    : _("primary, seal unusable");
	case UKEY_ROLE_SECONDARY:
		return _("secondary (no seal)");
	case UKEY_ROLE_UNKNOWN:
		break;
	}
	return NULL;
}
