/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyd: command line, process hardening, then ukeyd_run(). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "build-config.h"
#include "conf-files.h"
#include "config.h"
#include "known-tokens.h"
#include "log.h"
#include "util.h"
#include "ukeyd.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ukeyd [OPTIONS]\n"
		"The CA token (UKey) daemon: reads every plugged token through PKCS#11\n"
		"and SKF (GM/T 0016) and answers local clients (libukey, ukeyctl) from\n"
		"its cache.\n\n"
		"  -m, --module PATH     load this PKCS#11 module (repeatable; replaces\n"
		"                        the config file's modules)\n"
		"      --skf PATH        load this SKF library (repeatable; replaces the\n"
		"                        config file's SKF libraries)\n"
		"  -c, --config FILE     configuration file (default %s)\n"
		"  -s, --socket PATH     listen here (default %s), unless systemd\n"
		"                        passes a socket\n"
		"      --state-dir DIR   persistent state (default %s)\n"
		"      --ca-profiles FILE   the shipped CA profiles (default %s)\n"
		"      --ca-profiles-dir DIR  an administrator's profiles (default %s)\n"
		"      --known-tokens FILE    the shipped known-token table (default %s)\n"
		"      --known-tokens-dir DIR an administrator's additions (default %s)\n"
		"      --print-udev-rules     print udev rules for the known tokens, and exit\n"
		"      --module-timeout SEC   after SEC seconds without an answer from a\n"
		"                        module, stop waiting for it (default 30)\n"
		"  -v, --verbose         log debug messages\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n",
		UKEY_DEFAULT_CONFIG, UKEY_DEFAULT_SOCKET, UKEY_DEFAULT_STATE_DIR,
		UKEY_DATADIR "/ca-profiles.conf", UKEY_SYSCONFDIR "/ca-profiles.d",
		UKEY_DATADIR "/known-tokens.conf", UKEY_SYSCONFDIR "/known-tokens.d");
}

enum {
	OPT_STATE_DIR = 256,
	OPT_CA_PROFILES,
	OPT_CA_PROFILES_DIR,
	OPT_KNOWN_TOKENS,
	OPT_KNOWN_TOKENS_DIR,
	OPT_PRINT_UDEV_RULES,
	OPT_MODULE_TIMEOUT,
	OPT_SKF,
};

/* Replaces *field with a command-line value when one was given. */
static void override(char **field, char **cli_value)
{
	if (!*cli_value)
		return;
	free(*field);
	*field = *cli_value;
	*cli_value = NULL;
}

/* A list given on the command line replaces the file's, not adds to it. */
static void override_list(char ***field, size_t *n, char ***cli_value, size_t *cli_n)
{
	if (*cli_n == 0)
		return;
	for (size_t i = 0; i < *n; i++)
		free((*field)[i]);
	free(*field);
	*field = *cli_value;
	*n = *cli_n;
	*cli_value = NULL;
	*cli_n = 0;
}

/* For packagers (the shipped rules are made this way) and for
 * administrators who added a token to the table. */
static int write_udev_rules(const struct ukeyd_config *cfg)
{
	struct known_tokens known;
	char *error = NULL;
	int r;

	r = known_tokens_load(&known, cfg->known_tokens, cfg->known_tokens_dir, &error);
	if (r < 0) {
		log_error("%s", error ? error : strerror(-r));
		free(error);
		return r;
	}
	r = known_tokens_write_udev_rules(&known, UKEY_DAEMON_GROUP, stdout);
	if (r < 0)
		log_error("cannot write the udev rules: %s", strerror(-r));
	known_tokens_release(&known);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"module", required_argument, NULL, 'm'},
		{"skf", required_argument, NULL, OPT_SKF},
		{"config", required_argument, NULL, 'c'},
		{"socket", required_argument, NULL, 's'},
		{"state-dir", required_argument, NULL, OPT_STATE_DIR},
		{"ca-profiles", required_argument, NULL, OPT_CA_PROFILES},
		{"ca-profiles-dir", required_argument, NULL, OPT_CA_PROFILES_DIR},
		{"known-tokens", required_argument, NULL, OPT_KNOWN_TOKENS},
		{"known-tokens-dir", required_argument, NULL, OPT_KNOWN_TOKENS_DIR},
		{"print-udev-rules", no_argument, NULL, OPT_PRINT_UDEV_RULES},
		{"module-timeout", required_argument, NULL, OPT_MODULE_TIMEOUT},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	struct rlimit no_core = {0, 0};
	struct ukeyd_config cfg, cli = {0};
	const char *config_path = UKEY_DEFAULT_CONFIG;
	bool config_given = false, print_udev_rules = false;
	int c, r, bad_line = 0;

	/* PINs pass through this process: no core dumps, no ptrace by peers. */
	(void)prctl(PR_SET_DUMPABLE, 0);
	(void)setrlimit(RLIMIT_CORE, &no_core);
	signal(SIGPIPE, SIG_IGN);

	config_init(&cfg);
	while ((c = getopt_long(argc, argv, "m:c:s:vhV", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (config_add_module(&cli, optarg) < 0)
				return EXIT_FAILURE;
			break;
		case OPT_SKF:
			if (config_add_skf(&cli, optarg) < 0)
				return EXIT_FAILURE;
			break;
		case 'c':
			config_path = optarg;
			config_given = true;
			break;
		case 's':
			free(cli.socket_path);
			cli.socket_path = strdup(optarg);
			break;
		case OPT_STATE_DIR:
			free(cli.state_dir);
			cli.state_dir = strdup(optarg);
			break;
		case OPT_CA_PROFILES:
			free(cli.ca_profiles);
			cli.ca_profiles = strdup(optarg);
			break;
		case OPT_CA_PROFILES_DIR:
			free(cli.ca_profiles_dir);
			cli.ca_profiles_dir = strdup(optarg);
			break;
		case OPT_KNOWN_TOKENS:
			free(cli.known_tokens);
			cli.known_tokens = strdup(optarg);
			break;
		case OPT_KNOWN_TOKENS_DIR:
			free(cli.known_tokens_dir);
			cli.known_tokens_dir = strdup(optarg);
			break;
		case OPT_PRINT_UDEV_RULES:
			print_udev_rules = true;
			break;
		case OPT_MODULE_TIMEOUT:
			if (ukey_parse_uint(optarg, 1, 3600, &cli.module_timeout) < 0) {
				fprintf(stderr,
					"ukeyd: --module-timeout takes 1 to 3600 seconds\n");
				return 2;
			}
			break;
		case 'v':
			cli.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("ukeyd %s\n", UKEY_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ukeyd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	log_setup(cli.verbose ? LOG_DEBUG : LOG_INFO);

	r = config_load_file(&cfg, config_path, config_given, &bad_line);
	if (r < 0) {
		if (bad_line > 0 && r == -E2BIG)
			log_error("%s:%d: line too long (at most %d bytes)", config_path, bad_line,
				  CONF_MAX_LINE);
		else if (bad_line > 0)
			log_error("%s:%d: invalid setting", config_path, bad_line);
		else
			log_error("cannot read %s: %s", config_path, strerror(-r));
		config_release(&cfg);
		config_release(&cli);
		return EXIT_FAILURE;
	}
	/* The command line wins over the file. */
	override_list(&cfg.modules, &cfg.n_modules, &cli.modules, &cli.n_modules);
	override_list(&cfg.skf_libs, &cfg.n_skf_libs, &cli.skf_libs, &cli.n_skf_libs);
	override(&cfg.socket_path, &cli.socket_path);
	override(&cfg.state_dir, &cli.state_dir);
	override(&cfg.ca_profiles, &cli.ca_profiles);
	override(&cfg.ca_profiles_dir, &cli.ca_profiles_dir);
	override(&cfg.known_tokens, &cli.known_tokens);
	override(&cfg.known_tokens_dir, &cli.known_tokens_dir);
	if (cli.module_timeout)
		cfg.module_timeout = cli.module_timeout;
	cfg.verbose = cli.verbose;
	cfg.config_path = strdup(config_path);
	cfg.config_given = config_given;
	config_release(&cli);
	if (config_problem(&cfg)) {
		log_error("%s: %s", config_path, config_problem(&cfg));
		config_release(&cfg);
		return EXIT_FAILURE;
	}

	r = print_udev_rules ? write_udev_rules(&cfg) : ukeyd_run(&cfg);
	config_release(&cfg);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
