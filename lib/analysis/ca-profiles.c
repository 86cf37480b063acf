/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ca-profiles.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf-files.h"
#include "util.h"

static void profile_release(struct ca_profile *c)
{
	free(c->id);
	free(c->name_en);
	free(c->name_zh);
	for (size_t i = 0; i < c->n_match; i++)
		free(c->match[i]);
	free(c->match);
	free(c->default_pin);
}

void ca_profiles_release(struct ca_profiles *p)
{
	for (size_t i = 0; i < p->n; i++)
		profile_release(&p->v[i]);
	free(p->v);
	*p = (struct ca_profiles){0};
}

const struct ca_profile *ca_profiles_get(const struct ca_profiles *p, const char *id)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].id, id) == 0)
			return &p->v[i];
	return NULL;
}

/* Finds or appends the profile with that id. */
static struct ca_profile *profile_for(struct ca_profiles *p, const char *id)
{
	struct ca_profile *n, *c = (struct ca_profile *)ca_profiles_get(p, id);

	if (c)
		return c;
	n = realloc(p->v, (p->n + 1) * sizeof(*n));
	if (!n)
		return NULL;
	p->v = n;
	c = &p->v[p->n];
	*c = (struct ca_profile){.renewal_days = 30};
	c->id = strdup(id);
	if (!c->id)
		return NULL;
	p->n++;
	return c;
}

/* Where a file's sections go: a section naming a shipped profile edits
 * it; any other id is a new CA, collected in added. */
struct load_target {
	struct ca_profiles *shipped;
	struct ca_profiles *added;
};

static int profile_handle(void *user, const char *section, const char *name, const char *value)
{
	struct load_target *t = user;
	struct ca_profile *c;

	if (!*section)
		return 0; /* keys outside a [profile] section */
	c = (struct ca_profile *)ca_profiles_get(t->shipped, section);
	if (!c)
		c = profile_for(t->added, section);
	if (!c)
		return 0;
	if (strcmp(name, "name_en") == 0)
		return conf_set_str(&c->name_en, value);
	if (strcmp(name, "name_zh") == 0)
		return conf_set_str(&c->name_zh, value);
	if (strcmp(name, "default_pin") == 0)
		return conf_set_str(&c->default_pin, value);
	if (strcmp(name, "issuer_match") == 0)
		return conf_list_append(&c->match, &c->n_match, value);
	if (strcmp(name, "renewal_days") == 0)
		return ukey_parse_uint(value, 0, 3650, &c->renewal_days) == 0;
	return 0;
}

int ca_profiles_load(struct ca_profiles *p, const char *file, const char *dir, char **ret_error)
{
	struct ca_profiles shipped = {0}, added = {0};
	/* The administrator's files edit shipped profiles or add new CAs. */
	struct load_target in_shipped = {&shipped, &shipped}, in_admin = {&shipped, &added};
	size_t k = 0;
	int r;

	r = conf_files_parse(file, dir, profile_handle, &in_shipped, &in_admin, "CA profile",
			     ret_error);
	if (r == 0 && !profile_for(&shipped, "unknown"))
		r = -ENOMEM;
	/* New CAs first: an administrator's profile wins over a shipped one
	 * whose match is looser. */
	*p = (struct ca_profiles){.v = calloc(shipped.n + added.n + 1, sizeof(*p->v))};
	if (r == 0 && !p->v)
		r = -ENOMEM;
	if (r < 0) {
		free(p->v);
		*p = (struct ca_profiles){0};
		ca_profiles_release(&shipped);
		ca_profiles_release(&added);
		return r;
	}
	for (size_t i = 0; i < added.n; i++)
		p->v[k++] = added.v[i];
	for (size_t i = 0; i < shipped.n; i++)
		p->v[k++] = shipped.v[i];
	p->n = k;
	free(added.v);
	free(shipped.v);
	for (size_t i = 0; i < p->n; i++) {
		struct ca_profile *c = &p->v[i];
		if ((!c->name_en && !conf_set_str(&c->name_en, c->id)) ||
		    (!c->name_zh && !conf_set_str(&c->name_zh, c->name_en)) ||
		    (!c->default_pin && !conf_set_str(&c->default_pin, "123456"))) {
			ca_profiles_release(p);
			return -ENOMEM;
		}
	}
	return 0;
}

const struct ca_profile *ca_profiles_match(const struct ca_profiles *p, const char *issuer)
{
	for (size_t i = 0; i < p->n; i++)
		for (size_t k = 0; k < p->v[i].n_match; k++)
			if (strcasestr(issuer, p->v[i].match[k]))
				return &p->v[i];
	return ca_profiles_get(p, "unknown");
}
