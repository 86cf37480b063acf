/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-config.h"
#include "conf-files.h"
#include "util.h"

void config_init(struct ukeyd_config *cfg)
{
	*cfg = (struct ukeyd_config){
		.socket_path = strdup(UKEY_DEFAULT_SOCKET),
		.state_dir = strdup(UKEY_DEFAULT_STATE_DIR),
		.admin_group = strdup("ukey-admin"),
		.pin_users = strdup("active"),
		.ca_profiles = strdup(UKEY_DATADIR "/ca-profiles.conf"),
		.ca_profiles_dir = strdup(UKEY_SYSCONFDIR "/ca-profiles.d"),
		.known_tokens = strdup(UKEY_DATADIR "/known-tokens.conf"),
		.known_tokens_dir = strdup(UKEY_SYSCONFDIR "/known-tokens.d"),
		.max_clients = 256,
		.reserved_clients = CONFIG_AUTO,
		.max_clients_per_uid = 32,
		.connect_rate = 32,
		.idle_timeout = 60,
		.line_timeout = 10,
		.max_output_per_uid = 16,
		.audit_max_size = 8,
		.audit_keep = 4,
		.module_timeout = 30,
		.hotplug = true,
		.pin_policy = PIN_POLICY_DEFAULTS,
	};
}

void config_release(struct ukeyd_config *cfg)
{
	for (size_t i = 0; i < cfg->n_modules; i++)
		free(cfg->modules[i]);
	free(cfg->modules);
	for (size_t i = 0; i < cfg->n_skf_libs; i++)
		free(cfg->skf_libs[i]);
	free(cfg->skf_libs);
	free(cfg->config_path);
	free(cfg->socket_path);
	free(cfg->state_dir);
	free(cfg->admin_group);
	free(cfg->pin_users);
	free(cfg->ca_profiles);
	free(cfg->ca_profiles_dir);
	free(cfg->known_tokens);
	free(cfg->known_tokens_dir);
	*cfg = (struct ukeyd_config){0};
}

static int add_path(char ***list, size_t *n_list, const char *path)
{
	char **n;

	for (size_t i = 0; i < *n_list; i++)
		if (strcmp((*list)[i], path) == 0)
			return 0;
	n = realloc(*list, (*n_list + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	*list = n;
	n[*n_list] = strdup(path);
	if (!n[*n_list])
		return -ENOMEM;
	(*n_list)++;
	return 0;
}

int config_add_module(struct ukeyd_config *cfg, const char *path)
{
	return add_path(&cfg->modules, &cfg->n_modules, path);
}

int config_add_skf(struct ukeyd_config *cfg, const char *path)
{
	return add_path(&cfg->skf_libs, &cfg->n_skf_libs, path);
}

static int set_string(char **field, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

static int parse_bool(const char *value, bool *out)
{
	if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1")) {
		*out = true;
		return 1;
	}
	if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0")) {
		*out = false;
		return 1;
	}
	return 0;
}

/* inih callback: nonzero means the line was understood. */
static int config_handle(void *user, const char *section, const char *name, const char *value)
{
	struct ukeyd_config *cfg = user;

	if (strcmp(section, "ukeyd") != 0)
		return 1; /* other sections belong to other components */
	if (strcmp(name, "module") == 0)
		return config_add_module(cfg, value) == 0;
	if (strcmp(name, "skf") == 0)
		return config_add_skf(cfg, value) == 0;
	if (strcmp(name, "socket") == 0)
		return set_string(&cfg->socket_path, value) == 0;
	if (strcmp(name, "state_dir") == 0)
		return set_string(&cfg->state_dir, value) == 0;
	if (strcmp(name, "admin_group") == 0)
		return set_string(&cfg->admin_group, value) == 0;
	if (strcmp(name, "pin_users") == 0)
		return (strcmp(value, "active") == 0 || strcmp(value, "any") == 0 ||
			(strncmp(value, "group:", 6) == 0 && value[6])) &&
		       set_string(&cfg->pin_users, value) == 0;
	if (strcmp(name, "ca_profiles") == 0)
		return set_string(&cfg->ca_profiles, value) == 0;
	if (strcmp(name, "ca_profiles_dir") == 0)
		return set_string(&cfg->ca_profiles_dir, value) == 0;
	if (strcmp(name, "known_tokens") == 0)
		return set_string(&cfg->known_tokens, value) == 0;
	if (strcmp(name, "known_tokens_dir") == 0)
		return set_string(&cfg->known_tokens_dir, value) == 0;
	if (strcmp(name, "pin_min_length") == 0)
		return ukey_parse_uint(value, 4, 64, &cfg->pin_policy.min_length) == 0;
	if (strcmp(name, "pin_refuse_default") == 0)
		return parse_bool(value, &cfg->pin_policy.refuse_default);
	if (strcmp(name, "pin_refuse_repeated") == 0)
		return parse_bool(value, &cfg->pin_policy.refuse_repeated);
	if (strcmp(name, "pin_refuse_sequences") == 0)
		return parse_bool(value, &cfg->pin_policy.refuse_sequences);
	if (strcmp(name, "max_clients") == 0)
		return ukey_parse_uint(value, 1, 65536, &cfg->max_clients) == 0;
	if (strcmp(name, "reserved_clients") == 0)
		return ukey_parse_uint(value, 0, 65535, &cfg->reserved_clients) == 0;
	if (strcmp(name, "max_clients_per_uid") == 0)
		return ukey_parse_uint(value, 1, 65536, &cfg->max_clients_per_uid) == 0;
	if (strcmp(name, "connect_rate") == 0)
		return ukey_parse_uint(value, 0, 100000, &cfg->connect_rate) == 0;
	if (strcmp(name, "idle_timeout") == 0)
		return ukey_parse_uint(value, 0, 86400, &cfg->idle_timeout) == 0;
	if (strcmp(name, "line_timeout") == 0)
		return ukey_parse_uint(value, 0, 3600, &cfg->line_timeout) == 0;
	if (strcmp(name, "audit_max_size") == 0)
		return ukey_parse_uint(value, 1, 4096, &cfg->audit_max_size) == 0;
	if (strcmp(name, "audit_keep") == 0)
		return ukey_parse_uint(value, 1, 100, &cfg->audit_keep) == 0;
	if (strcmp(name, "max_output_per_uid") == 0)
		return ukey_parse_uint(value, 1, 4096, &cfg->max_output_per_uid) == 0;
	if (strcmp(name, "module_timeout") == 0)
		return ukey_parse_uint(value, 1, 3600, &cfg->module_timeout) == 0;
	if (strcmp(name, "hotplug") == 0)
		return parse_bool(value, &cfg->hotplug);
	return 0;
}

const char *config_problem(const struct ukeyd_config *cfg)
{
	if (cfg->reserved_clients != CONFIG_AUTO && cfg->reserved_clients >= cfg->max_clients)
		return "reserved_clients must be less than max_clients";
	return NULL;
}

int config_load_file(struct ukeyd_config *cfg, const char *path, bool must_exist, int *ret_line)
{
	FILE *f = fopen(path, "re");
	bool too_long;
	int r;

	if (!f)
		return (errno == ENOENT && !must_exist) ? 0 : -errno;
	r = conf_parse_file(f, config_handle, cfg, &too_long);
	fclose(f);
	if (r != 0) {
		if (ret_line)
			*ret_line = r;
		return too_long ? -E2BIG : -EINVAL;
	}
	return 0;
}
