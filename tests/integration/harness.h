/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration test harness: provisions SoftHSM tokens with the fixture
 * script, starts the just-built ukeyd on a private socket, runs commands.
 * Paths come from the environment meson sets (UKEYD, UKEYCTL, FIXTURES).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <ukey/ukey.h>

#define SOFTHSM_MODULE "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"
#define PKCS11_SPY_MODULE "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so"

struct harness {
	char dir[64];	  /* private temporary directory */
	char socket[100]; /* ukeyd's socket */
	char softhsm_conf[128];
	pid_t daemon;
	char log[128];		    /* the daemon's stderr */
	char profiles_dir[128];	    /* --ca-profiles-dir */
	char known_tokens_dir[128]; /* --known-tokens-dir */
	char unplug_file[128];	    /* P11_UNPLUG_FILE for the p11-unplug wrapper */
	char unplug_env[160];	    /* "P11_UNPLUG_FILE=..." */
	char faults_file[128];	    /* P11_UNPLUG_FAULTS */
	char faults_env[160];	    /* "P11_UNPLUG_FAULTS=..." */
	/* The SKF test double (tests/fixtures/skf-soft): its state directory,
	 * fault file and call log, and the environment that points it there. */
	char skf_dir[128];
	char skf_faults[128];
	char skf_log[128];
	char skf_dir_env[160];	  /* "SKF_SOFT_DIR=..." */
	char skf_faults_env[160]; /* "SKF_SOFT_FAULTS=..." */
	char skf_log_env[160];	  /* "SKF_SOFT_LOG=..." */
};

/* Why a test cannot run here (a tool is missing), or NULL. */
const char *harness_missing_tools(void);

/* Makes the temporary directory and provisions SoftHSM tokens ("both",
 * "primary", or "none"). Returns 0, or -1 with the reason on stderr. */
int harness_setup(struct harness *h, const char *which);

/* Starts ukeyd with extra arguments (NULL-terminated, may be NULL) after
 * --socket/--state-dir, plus extra environment "K=V" strings, and waits
 * for READY=1. Returns 0 or -1. */
int harness_start_daemon(struct harness *h, const char *const *args, const char *const *env);

/* The same, returning as soon as ukeyd answers, its first scan maybe
 * still running. */
int harness_start_daemon_listening(struct harness *h, const char *const *args,
				   const char *const *env);

/* Set when a daemon stopped by harness_stop_daemon() did not exit 0
 * (a crash, a hang, or a leak report under ASan). cmocka 1.1 exits 0
 * even when a group teardown fails, so main() returns this too. */
extern bool harness_daemon_failed;

/* SIGTERM, then waits. Returns the daemon's exit status, or -1 if it did
 * not stop within 10 s (it is killed then) or died from a signal. */
int harness_stop_daemon(struct harness *h);

/* The serial of the token with that label, or of the first initialized
 * one when label is NULL, as ukeyd lists it. Returns 0 or -1. */
int harness_token_serial(const struct harness *h, const char *label, char *out, size_t size);

/* An integration test's main(): skips loudly (TAP "1..0 # SKIP") when a
 * tool is missing, runs the group, and fails when ukeyd did not stop
 * cleanly (cmocka 1.1 exits 0 after a failed group teardown). */
struct CMUnitTest;
int harness_run_tests(const char *name, const struct CMUnitTest *tests, size_t n,
		      int (*setup)(void **), int (*teardown)(void **));
#define HARNESS_RUN_TESTS(name, tests, setup, teardown)                                            \
	harness_run_tests(name, tests, sizeof(tests) / sizeof((tests)[0]), setup, teardown)

/* A group teardown: stops ukeyd, removes the directory; -1 when ukeyd
 * did not exit cleanly. */
int harness_finish(struct harness *h);

/* Removes the directory. */
void harness_teardown(struct harness *h);

/* Runs argv with extra environment "K=V" entries, stdin from /dev/null;
 * returns its stdout (malloc'ed) and exit status. */
char *harness_run(const char *const *argv, const char *const *env, int *ret_status);

/* Like harness_run, with input written to the command's stdin. */
char *harness_run_input(const char *const *argv, const char *const *env, const char *input,
			int *ret_status);

/* Whether the process's writable memory holds needle: 1 yes, 0 no, -1
 * when it cannot be read (not root). */
int harness_memory_contains(pid_t pid, const char *needle);

/* Sleeps through the wait ukeyd makes the next PIN try on a token keep
 * after a wrong one (1 s, then twice as long after each further one), and
 * a little more. */
void harness_pin_delay(unsigned seconds);

/* Like harness_run but through /bin/sh -c. */
char *harness_sh(const char *cmd, int *ret_status);

/* Through the p11-unplug wrapper (tests/fixtures/p11-unplug.c): plugs
 * the token with that label in, or pulls it out, by editing the unplug
 * file. Returns 0 or -1. */
int harness_set_plugged(const struct harness *h, const char *label, bool in);

/* Sets the wrapper's rule "VERB LABEL ARG" in the unplug file ("relabel",
 * "swap"), replacing one for the same verb and label; arg NULL removes it.
 * Returns 0 or -1. */
int harness_set_unplug_rule(const struct harness *h, const char *verb, const char *label,
			    const char *arg);

/* Replaces the wrapper's fault file with text ("" for no faults).
 * Returns 0 or -1. */
int harness_set_faults(const struct harness *h, const char *text);

/* Like harness_sh with a printf format; returns the exit status only. */
int harness_shf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The events a subscribed client received, in order (the first 64). */
struct harness_events {
	int n;
	enum ukey_event_type types[64];
	char serials[64][64];
	char labels[64][128]; /* of the token the event carried, if any */
};

/* A new client of h's ukeyd, subscribed, recording into s (asserts). */
ukey_client *harness_subscribed_client(const struct harness *h, struct harness_events *s);

/* A ukey_event_fn that records into the struct harness_events userdata. */
void harness_events_record(ukey_client *client, const ukey_event *ev, void *userdata);

/* The index of the first event of type for serial (NULL: any), or -1. */
int harness_events_find(const struct harness_events *s, enum ukey_event_type type,
			const char *serial);

/* How many events of type for serial (NULL: any) were received. */
int harness_events_count(const struct harness_events *s, enum ukey_event_type type,
			 const char *serial);

/* Dispatches for up to timeout_ms until such an event has come; its
 * index, or -1. Dispatches first: events read during a request wait in
 * libukey's queue. */
int harness_events_wait(ukey_client *c, struct harness_events *s, enum ukey_event_type type,
			const char *serial, int timeout_ms);

/* Dispatches for ms, taking whatever comes. */
void harness_events_collect(ukey_client *c, int ms);

/* Whether the file contains the string. */
bool harness_file_contains(const char *path, const char *needle);

/* Why the SKF tests cannot run here (the double or the real seals are
 * missing), or NULL. */
const char *harness_skf_missing(void);

/* Adds devices to h's SKF state directory with provision-skf.sh (which:
 * "primary", "secondary", "gbk", "all"; device NULL for its default
 * name). Returns 0 or -1. */
int harness_skf_provision(struct harness *h, const char *which, const char *device);

/* Plugs an SKF device in or pulls it out (its `unplugged` marker). */
int harness_skf_set_plugged(const struct harness *h, const char *device, bool in);

/* Replaces the double's fault file ("" for none). Returns 0 or -1. */
int harness_skf_set_faults(const struct harness *h, const char *text);

/* How many lines of the double's call log name function (and device, or
 * any when NULL), from line `from` on (0: all). */
int harness_skf_calls(const struct harness *h, const char *function, const char *device, int from);

/* Lines in the double's call log so far. */
int harness_skf_log_lines(const struct harness *h);

/* A device's file in the double's state directory, read whole
 * (malloc'ed), or NULL. rel is under devices/DEVICE/. */
char *harness_skf_read(const struct harness *h, const char *device, const char *rel);
