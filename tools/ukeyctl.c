/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyctl: global options and the command table. */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "build-config.h"
#include "commands.h"
#include "ctl.h"
#include "output.h"

static const struct ctl_command commands[] = {
	{"check", "[SERIAL] [--opening DATE] [--bid FILE] [--full]",
	 N_("ready to bid? the verdict, each problem with its fix"), cmd_check},
	{"which-token", "FILE", N_("which plugged token can open this encrypted bid"),
	 cmd_which_token},
	{"list", "", N_("list the plugged tokens"), cmd_list},
	{"refresh", "", N_("read every token again (after re-plugging one by hand)"), cmd_refresh},
	{"status", "[SERIAL] [--private]", N_("show one token in detail (--private: asks the PIN)"),
	 cmd_status},
	{"expiry", "[--days N]", N_("list certificates due for renewal (exit 1 if any)"),
	 cmd_expiry},
	{"watch", "", N_("print token events, one per line, until interrupted"), cmd_watch},
	{"holders", "", N_("group the plugged tokens by holder: primary and secondaries"),
	 cmd_holders},
	{"seal", "export|inspect", N_("save a seal's picture, or check a seal file"), cmd_seal},
	{"pin", "change|unlock|probe-default", N_("change, unlock (counter) or check the PIN"),
	 cmd_pin},
	{"audit", "[--since DATE]", N_("show the audit log of PIN operations (admin)"), cmd_audit},
};

static void usage(FILE *f)
{
	fprintf(f, _("Usage: ukeyctl [--socket PATH] [--json] COMMAND [ARGS]\n"
		     "Check CA tokens (UKey) through ukeyd.\n\n"
		     "Commands:\n"));
	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", commands[i].name, commands[i].args);
		fputs("  ", f);
		/* A long synopsis gets a line of its own: the summary never
		 * runs into it. */
		if (text_width(left) >= 22)
			fprintf(f, "%s\n%24s", left, "");
		else
			print_padded(f, left, 22);
		fprintf(f, "%s\n", _(commands[i].summary));
	}
	fprintf(f,
		_("\nOptions:\n"
		  "  -s, --socket PATH   ukeyd's socket (default: $UKEY_SOCKET, else %s)\n"
		  "  -j, --json          print JSON for scripts (docs/protocol.md)\n"
		  "  -h, --help          show this help\n"
		  "  -V, --version       show the version\n"),
		UKEY_DEFAULT_SOCKET);
	fprintf(f, _("\nExit status:\n"
		     "  0  success\n"
		     "  1  the command worked and found problems\n"
		     "  2  usage error\n"
		     "  3  ukeyd is not reachable\n"
		     "  4  no plugged token has that serial\n"
		     "  5  any other error\n"
		     "  10 wrong PIN (one try spent)\n"
		     "  11 PIN locked\n"
		     "  12 new PIN refused by the PIN policy\n"
		     "  13 refused by the lockout guard (nothing was tried)\n"
		     "  14 permission denied\n"
		     "  15 token removed\n"));
	fprintf(f, _("  16 ukeyd is overloaded, or asks to wait before the next PIN try: try "
		     "again later\n"));
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	struct rlimit no_core = {0, 0};
	struct ctl ctl = {0};
	const char *localedir = getenv("UKEY_LOCALEDIR");
	int c;

	(void)prctl(PR_SET_DUMPABLE, 0);
	(void)setrlimit(RLIMIT_CORE, &no_core);
	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, localedir && *localedir ? localedir : UKEY_LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	/* "+": options after the command belong to the command. */
	while ((c = getopt_long(argc, argv, "+s:jhV", options, NULL)) != -1) {
		switch (c) {
		case 's':
			ctl.socket = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("ukeyctl %s\n", UKEY_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			return commands[i].run(&ctl, argc - optind, argv + optind);
	fprintf(stderr, _("ukeyctl: unknown command '%s'. See 'ukeyctl --help'.\n"), argv[optind]);
	return EXIT_USAGE;
}
