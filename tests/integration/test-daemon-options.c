/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How ukeyd is started: modules from a config file, a module that fails
 * to load (reported, not fatal), a malformed config file (refused with its
 * line, numbered right past long lines), a socket handed over by systemd
 * socket activation, SIGHUP (a reload), a second daemon on the same
 * socket (refused).
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

	/* Lines past inih's 200-byte buffer: the lines after them keep their
	 * numbers, and a setting that long is refused on its own line. */
	{
		char text[1024], longc[301], longv[301];
		memset(longc, 'c', 300);
		longc[0] = '#';
		longc[300] = '\0';
		memset(longv, 'v', 300);
		longv[300] = '\0';
		snprintf(text, sizeof(text),
			 "[ukeyd]\n%s\nmodule = " SOFTHSM_MODULE "\n%s\n"
			 "max_clients = lots\n",
			 longc, longc);
		write_file(conf, text);
		snprintf(cmd, sizeof(cmd),
			 "%s --config %s --socket %s/bad.sock --state-dir %s/st 2>&1",
			 getenv("UKEYD"), conf, h.dir, h.dir);
		out = harness_sh(cmd, &status);
		assert_int_not_equal(status, 0);
		assert_non_null(strstr(out, "bad.conf:5: invalid setting"));
		free(out);
		snprintf(text, sizeof(text), "[ukeyd]\n\nmodule = /%s\n", longv);
		write_file(conf, text);
		out = harness_sh(cmd, &status);
		assert_int_not_equal(status, 0);
		assert_non_null(strstr(out, "bad.conf:3: line too long"));
		free(out);
	}

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

/* The number of a "reload: ..." line in the log, waited for: how many
 * reloads ended with it. */
static int count_in_log(const char *needle)
{
	char cmd[400];
	int status;
	char *out;
	int n;

	snprintf(cmd, sizeof(cmd), "grep -c -F '%s' %s", needle, h.log);
	out = harness_sh(cmd, &status);
	n = atoi(out);
	free(out);
	return n;
}

static void wait_in_log(const char *needle, int n)
{
	for (int i = 0; i < 100 && count_in_log(needle) < n; i++)
		usleep(20000);
	assert_int_equal(count_in_log(needle), n);
}

/* How many of n connections nobody gets. */
static int nobody_gets(int n)
{
	char cmd[512], line[128];
	int accepted = -1, refused;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "exec setpriv --reuid=65534 --regid=65534 --clear-groups %s hold %s %d 0",
		 getenv("UKEY_HOSTILE"), h.socket, n);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(sscanf(line, "ready accepted %d refused %d", &accepted, &refused), 2);
	pclose(f);
	return accepted;
}

/* The number of known tokens the last reload read, from the log; -1
 * when none said (hotplug off or unavailable here). */
static int reloaded_known(void)
{
	char cmd[400];
	int status, n = -1;
	char *out;

	snprintf(cmd, sizeof(cmd),
		 "grep -o 'reload: [0-9]* known tokens' %s | tail -1 | grep -o '[0-9]*'", h.log);
	out = harness_sh(cmd, &status);
	if (*out)
		n = atoi(out);
	free(out);
	return n;
}

/* SIGHUP reloads the configuration (here a user's connection cap) and
 * the known tokens, keeps serving, and a file with an error changes
 * nothing. Before, SIGHUP killed ukeyd and left its socket behind. */
static void test_sighup_reloads(void **state)
{
	char conf[200], known[300];
	const char *args[] = {"--config", conf, "--module", SOFTHSM_MODULE, NULL};
	int tables;

	if (getuid() != 0) {
		fprintf(stderr, "SKIP: switching to nobody needs root\n");
		skip();
	}
	snprintf(conf, sizeof(conf), "%s/reload.conf", h.dir);
	write_file(conf, "[ukeyd]\nmax_clients_per_uid = 32\n");
	assert_int_equal(harness_start_daemon(&h, args, NULL), 0);
	assert_int_equal(nobody_gets(6), 6);

	write_file(conf, "[ukeyd]\nmax_clients_per_uid = 2\n");
	kill(h.daemon, SIGHUP);
	wait_in_log("reload: done", 1);
	assert_int_equal(nobody_gets(6), 2);
	assert_int_equal(initialized_tokens(h.socket), 2);
	tables = reloaded_known();

	/* A broken file: said, and nothing changes. */
	write_file(conf, "[ukeyd]\nmax_clients_per_uid = lots\n");
	kill(h.daemon, SIGHUP);
	wait_in_log("nothing changed", 1);
	assert_true(
		harness_file_contains(h.log, "reload.conf:2: invalid setting; nothing changed"));
	assert_int_equal(nobody_gets(6), 2);

	/* A known token the administrator added is followed from now on. */
	snprintf(known, sizeof(known), "%s/extra.conf", h.known_tokens_dir);
	write_file(known, "[1234:5678]\nvendor = 某厂\nproduct = 某型号\nclass = ccid\n");
	write_file(conf, "[ukeyd]\n");
	kill(h.daemon, SIGHUP);
	wait_in_log("reload: done", 2);
	if (tables >= 0)
		assert_int_equal(reloaded_known(), tables + 1);
	unlink(known);
	assert_int_equal(initialized_tokens(h.socket), 2);
	assert_int_equal(harness_stop_daemon(&h), 0);
	/* It stopped cleanly, so its socket is gone. */
	assert_int_not_equal(access(h.socket, F_OK), 0);
	if (tables < 0) {
		fprintf(stderr, "SKIP: test_sighup_reloads: no USB hotplug here (the log says no "
				"\"reload: N known tokens\"), so the known tokens read again were "
				"not checked; the rest was\n");
		skip();
	}
}

/* A second ukeyd on the same socket path refuses, saying who holds it;
 * the first keeps its socket and serves on. */
static void test_second_daemon_refused(void **state)
{
	const char *args[] = {"--module", SOFTHSM_MODULE, NULL};
	char cmd[700], *out;
	int status;

	assert_int_equal(harness_start_daemon(&h, args, NULL), 0);
	snprintf(cmd, sizeof(cmd),
		 "timeout 10 %s --config /dev/null --socket %s --state-dir %s/second --module %s "
		 "2>&1",
		 getenv("UKEYD"), h.socket, h.dir, SOFTHSM_MODULE);
	out = harness_sh(cmd, &status);
	assert_int_not_equal(status, 0);
	{
		char want[64];
		snprintf(want, sizeof(want), "another ukeyd (pid %d)", (int)h.daemon);
		assert_non_null(strstr(out, want));
	}
	free(out);
	assert_int_equal(access(h.socket, F_OK), 0);
	assert_int_equal(initialized_tokens(h.socket), 2);
	assert_int_equal(harness_stop_daemon(&h), 0);
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
		cmocka_unit_test(test_sighup_reloads),
		cmocka_unit_test(test_second_daemon_refused),
	};
	return HARNESS_RUN_TESTS("daemon-options", tests, group_setup, group_teardown);
}
