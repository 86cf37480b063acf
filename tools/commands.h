/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyctl's commands, one file each (cmd-*.c), run from the table in
 * ukeyctl.c with the command's own argv (argv[0] is its name). */
#pragma once

struct ctl;

struct ctl_command {
	const char *name;
	const char *args;    /* for the usage line */
	const char *summary; /* N_() marked */
	int (*run)(struct ctl *ctl, int argc, char **argv);
};

/* cmd-tokens.c */
int cmd_list(struct ctl *ctl, int argc, char **argv);
int cmd_status(struct ctl *ctl, int argc, char **argv);
int cmd_refresh(struct ctl *ctl, int argc, char **argv);

/* cmd-pin.c, cmd-audit.c */
int cmd_pin(struct ctl *ctl, int argc, char **argv);
int cmd_audit(struct ctl *ctl, int argc, char **argv);

/* cmd-watch.c */
int cmd_watch(struct ctl *ctl, int argc, char **argv);

/* cmd-check.c */
int cmd_check(struct ctl *ctl, int argc, char **argv);
int cmd_which_token(struct ctl *ctl, int argc, char **argv);

/* cmd-seal.c, cmd-holders.c */
int cmd_seal(struct ctl *ctl, int argc, char **argv);
int cmd_holders(struct ctl *ctl, int argc, char **argv);

/* cmd-expiry.c */
int cmd_expiry(struct ctl *ctl, int argc, char **argv);
