/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How ukeyd is started: modules from a config file, a module that fails
 * to load (reported, not fatal), a malformed config file (refused with its
 * line), and a socket handed over by systemd socket activation.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <ukey/ukey.h>

#include "harness.h"

static struct harness h;
static pid_t activated = -1; /* killed by the teardown if a test fails */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The initialized tokens once ukeyd has read them all: during its first
 * scan a list answers at once with the tokens read so far, saying so. */
static size_t initialized_tokens(const char *socket)
{
	ukey_client *c = NULL;
	ukey_token_list *list = NULL;
	size_t n = 0;

	assert_int_equal(ukey_client_new(socket, &c), UKEY_OK);
	for (int i = 0; i < 200; i++) {
		ukey_token_list_unref(list);
		assert_int_equal(ukey_client_list_tokens(c, &list), UKEY_OK);
		if (!ukey_token_list_is_scanning(list))
			break;
		usleep(50 * 1000);
	}
	assert_false(ukey_token_list_is_scanning(list));
	for (size_t i = 0; i < ukey_token_list_get_count(list); i++)
		n += ukey_token_is_initialized(ukey_token_list_get(list, i));
	ukey_token_list_unref(list);
	ukey_client_unref(c);
	return n;
}

static void test_config_file_modules(void **state)
{
	char conf[200];
	const char *args[] = {"--config", conf, NULL};
	struct harness d = h;

	snprintf(conf, sizeof(conf), "%s/ukeyd.conf", h.dir);
	write_file(
		conf,
		"# comment\n[ukeyd]\nmodule = /nonexistent/libmissing.so\nmodule = " SOFTHSM_MODULE
		"\nmax_clients = 8\n[other]\nignored = yes\n");
	/* The harness passes --config /dev/null first; the later one wins. */
	assert_int_equal(harness_start_daemon(&d, args, NULL), 0);
	assert_int_equal(initialized_tokens(d.socket), 2);
	assert_int_equal(harness_stop_daemon(&d), 0);
	assert_true(harness_file_contains(d.log, "/nonexistent/libmissing.so"));
	assert_true(harness_file_contains(d.log, "cannot load PKCS#11 module"));
}

static void test_bad_config_is_refused(void **state)
{
	char conf[200], cmd[600];
	int status;

	snprintf(conf, sizeof(conf), "%s/bad.conf", h.dir);
	write_file(conf, "[ukeyd]\nmodule = " SOFTHSM_MODULE "\nmax_clients = lots\n");
	snprintf(cmd, sizeof(cmd), "%s --config %s --socket %s/bad.sock --state-dir %s/st 2>&1",
		 getenv("UKEYD"), conf, h.dir, h.dir);
	char *out = harness_sh(cmd, &status);
	assert_int_not_equal(status, 0);
	assert_non_null(strstr(out, "bad.conf:3"));
	free(out);

	snprintf(cmd, sizeof(cmd), "%s --config %s/missing.conf --socket %s/bad.sock 2>&1",
		 getenv("UKEYD"), h.dir, h.dir);
	out = harness_sh(cmd, &status);
	assert_int_not_equal(status, 0);
	assert_non_null(strstr(out, "missing.conf"));
	free(out);
}

static void test_socket_activation(void **state)
{
	char sock[128], state_dir[128];
	pid_t pid;
	int status;

	if (access("/usr/bin/systemd-socket-activate", X_OK) != 0) {
		fprintf(stderr,
			"SKIP: systemd-socket-activate missing (apt-get install systemd)\n");
		skip();
	}
	snprintf(sock, sizeof(sock), "%s/activated.sock", h.dir);
	snprintf(state_dir, sizeof(state_dir), "%s/activated-state", h.dir);
	pid = activated = fork();
	if (pid == 0) {
		int fd = open(h.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
		/* It passes on only the environment named with -E. */
		execl("/usr/bin/systemd-socket-activate", "systemd-socket-activate", "-l", sock,
		      "-E", "SOFTHSM2_CONF", getenv("UKEYD"), "--config", "/dev/null", "--socket",
		      "/nonexistent/unused.sock", "--state-dir", state_dir, "--module",
		      SOFTHSM_MODULE, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && access(sock, F_OK) != 0; i++)
		usleep(50 * 1000);
	/* The first connection starts ukeyd, which must take the passed
	 * socket instead of creating its --socket path. */
	assert_int_equal(initialized_tokens(sock), 2);
	assert_int_equal(initialized_tokens(sock), 2);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	activated = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("socket-activated ukeyd ended with wait status 0x%x", status);
}

static int group_setup(void **state)
{
	return harness_setup(&h, "both");
}

static int group_teardown(void **state)
{
	if (activated > 0) {
		kill(activated, SIGKILL);
		waitpid(activated, NULL, 0);
	}
	harness_teardown(&h);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_file_modules),
		cmocka_unit_test(test_bad_config_is_refused),
		cmocka_unit_test(test_socket_activation),
	};
	return HARNESS_RUN_TESTS("daemon-options", tests, group_setup, group_teardown);
}
