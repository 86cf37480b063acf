/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyd's settings: built-in defaults, then the INI file, then the
 * command line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "pin-policy.h"

struct ukeyd_config {
	char *config_path; /* the file read, read again on SIGHUP */
	bool config_given; /* --config: a missing file is an error */
	char **modules;	   /* PKCS#11 module paths, in load order */
	size_t n_modules;
	char **skf_libs; /* SKF (GM/T 0016) library paths, loaded after the modules */
	size_t n_skf_libs;
	char *socket_path;
	char *state_dir;
	char *admin_group;
	char *pin_users;	/* "active", "any" or "group:NAME": who may use PINs, with root and
				 * admin_group */
	char *ca_profiles;	/* the shipped CA profile file */
	char *ca_profiles_dir;	/* an administrator's *.conf additions */
	char *known_tokens;	/* the shipped known-token table */
	char *known_tokens_dir; /* an administrator's *.conf additions */
	unsigned max_clients;
	unsigned reserved_clients;    /* of max_clients, for root and admin_group only;
				       * CONFIG_AUTO: max_clients / 16 */
	unsigned max_clients_per_uid; /* one user's connections (root is not counted) */
	unsigned connect_rate;	      /* one user's new connections a second; 0: no limit */
	unsigned idle_timeout;	      /* s; 0: none */
	unsigned line_timeout;	      /* s; 0: none */
	unsigned max_output_per_uid;  /* MiB queued for one user's connections */
	unsigned audit_max_size;      /* MiB of audit.log before it is rotated */
	unsigned audit_keep;	      /* rotated audit logs kept (audit.log.1 ... .N) */
	unsigned module_timeout; /* seconds a module may take to answer before it counts as stalled
				  */
	bool hotplug;		 /* follow USB arrivals and departures */
	struct pin_policy pin_policy;
	bool verbose;
};

#define CONFIG_AUTO ((unsigned)-1)

void config_init(struct ukeyd_config *cfg);
void config_release(struct ukeyd_config *cfg);

/* Appends a module path unless it is already listed. Returns 0 or -ENOMEM. */
int config_add_module(struct ukeyd_config *cfg, const char *path);
/* The same for an SKF library. */
int config_add_skf(struct ukeyd_config *cfg, const char *path);

/* What is wrong with a configuration as a whole (settings that contradict
 * each other), or NULL. */
const char *config_problem(const struct ukeyd_config *cfg);

/* Reads an INI file ([ukeyd] section; "module" and "skf" may repeat). A missing
 * file is an error only when must_exist. Returns 0 or a negative errno;
 * *ret_line names the first bad line of a malformed file (-EINVAL, or
 * -E2BIG when the line is longer than CONF_MAX_LINE). */
int config_load_file(struct ukeyd_config *cfg, const char *path, bool must_exist, int *ret_line);
