/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>
#include <ukey/ukey.h>

bool harness_daemon_failed;

static bool have_program(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

const char *harness_missing_tools(void)
{
	if (access(SOFTHSM_MODULE, R_OK) != 0)
		return "SoftHSM2 module missing (apt-get install softhsm2)";
	if (!have_program("softhsm2-util"))
		return "softhsm2-util missing (apt-get install softhsm2)";
	if (!have_program("pkcs11-tool"))
		return "pkcs11-tool missing (apt-get install opensc)";
	if (!have_program("openssl"))
		return "openssl missing";
	if (!getenv("UKEYD") || !getenv("UKEYCTL") || !getenv("FIXTURES") ||
	    !getenv("CA_PROFILES") || !getenv("KNOWN_TOKENS"))
		return "UKEYD/UKEYCTL/FIXTURES/CA_PROFILES/KNOWN_TOKENS not set: run through "
		       "'meson "
		       "test'";
	return NULL;
}

int harness_setup(struct harness *h, const char *which)
{
	char cmd[1024];
	int r;

	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "/tmp/ukey-test.XXXXXX");
	if (!mkdtemp(h->dir) || chmod(h->dir, 0755) < 0) {
		perror("mkdtemp");
		return -1;
	}
	/* 0755: tests also connect as an unprivileged user. */
	snprintf(h->socket, sizeof(h->socket), "%s/ukeyd.sock", h->dir);
	snprintf(h->softhsm_conf, sizeof(h->softhsm_conf), "%s/hsm/softhsm2.conf", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/ukeyd.log", h->dir);
	/* An administrator's profile directory, empty unless a test fills it. */
	snprintf(h->profiles_dir, sizeof(h->profiles_dir), "%s/ca-profiles.d", h->dir);
	snprintf(h->known_tokens_dir, sizeof(h->known_tokens_dir), "%s/known-tokens.d", h->dir);
	snprintf(h->unplug_file, sizeof(h->unplug_file), "%s/unplugged", h->dir);
	snprintf(h->unplug_env, sizeof(h->unplug_env), "P11_UNPLUG_FILE=%s", h->unplug_file);
	snprintf(h->faults_file, sizeof(h->faults_file), "%s/faults", h->dir);
	snprintf(h->faults_env, sizeof(h->faults_env), "P11_UNPLUG_FAULTS=%s", h->faults_file);
	snprintf(h->skf_dir, sizeof(h->skf_dir), "%s/skf", h->dir);
	snprintf(h->skf_faults, sizeof(h->skf_faults), "%s/skf-faults", h->dir);
	snprintf(h->skf_log, sizeof(h->skf_log), "%s/skf-calls.log", h->dir);
	snprintf(h->skf_dir_env, sizeof(h->skf_dir_env), "SKF_SOFT_DIR=%s", h->skf_dir);
	snprintf(h->skf_faults_env, sizeof(h->skf_faults_env), "SKF_SOFT_FAULTS=%s", h->skf_faults);
	snprintf(h->skf_log_env, sizeof(h->skf_log_env), "SKF_SOFT_LOG=%s", h->skf_log);
	if (mkdir(h->profiles_dir, 0700) < 0 || mkdir(h->known_tokens_dir, 0700) < 0) {
		perror("mkdir");
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "%s/provision-softhsm.sh %s/hsm %s >/dev/null",
		 getenv("FIXTURES"), h->dir, which);
	r = strcmp(which, "none") == 0 ? 0 : system(cmd);
	if (r != 0) {
		fprintf(stderr, "provisioning failed (%d)\n", r);
		return -1;
	}
	setenv("SOFTHSM2_CONF", h->softhsm_conf, 1);
	return 0;
}

static int wait_ready(int notify_fd, pid_t pid, int timeout_ms)
{
	struct pollfd p = {.fd = notify_fd, .events = POLLIN};
	char buf[512];

	while (timeout_ms > 0) {
		int status;
		ssize_t n;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "ukeyd exited before it was ready (status 0x%x)\n", status);
			return -1;
		}
		if (poll(&p, 1, 100) > 0) {
			n = recv(notify_fd, buf, sizeof(buf) - 1, 0);
			if (n > 0) {
				buf[n] = '\0';
				if (strstr(buf, "READY=1"))
					return 0;
			}
		}
		timeout_ms -= 100;
	}
	fprintf(stderr, "ukeyd did not become ready\n");
	return -1;
}

/* Starts ukeyd; waits for READY=1 (every first scan done), or only until
 * it listens. */
static int start_daemon(struct harness *h, const char *const *args, const char *const *env,
			bool until_ready)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *argv[40];
	char state[320];
	int notify_fd, n = 0, r;
	pid_t parent = getpid();

	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", h->dir);
	unlink(sa.sun_path);
	if (notify_fd < 0 || bind(notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("notify socket");
		return -1;
	}
	snprintf(state, sizeof(state), "%s/state", h->dir);
	argv[n++] = getenv("UKEYD");
	argv[n++] = "--socket";
	argv[n++] = h->socket;
	argv[n++] = "--state-dir";
	argv[n++] = state;
	argv[n++] = "--config";
	argv[n++] = "/dev/null";
	argv[n++] = "--ca-profiles";
	argv[n++] = getenv("CA_PROFILES");
	argv[n++] = "--ca-profiles-dir";
	argv[n++] = h->profiles_dir;
	argv[n++] = "--known-tokens";
	argv[n++] = getenv("KNOWN_TOKENS");
	argv[n++] = "--known-tokens-dir";
	argv[n++] = h->known_tokens_dir;
	for (size_t i = 0; args && args[i] && n < 38; i++)
		argv[n++] = args[i];
	argv[n] = NULL;

	h->daemon = fork();
	if (h->daemon < 0)
		return -1;
	if (h->daemon == 0) {
		int fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		/* Never outlive the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(fd, STDERR_FILENO);
		setenv("NOTIFY_SOCKET", sa.sun_path, 1);
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	if (until_ready) {
		r = wait_ready(notify_fd, h->daemon, 30000);
	} else {
		r = -1;
		for (int i = 0; i < 600 && r < 0; i++) {
			ukey_client *c = NULL;
			if (ukey_client_new(h->socket, &c) == UKEY_OK)
				r = 0;
			else
				usleep(50 * 1000);
			ukey_client_unref(c);
		}
	}
	close(notify_fd);
	if (r < 0) {
		harness_stop_daemon(h);
		return -1;
	}
	return 0;
}

int harness_start_daemon(struct harness *h, const char *const *args, const char *const *env)
{
	return start_daemon(h, args, env, true);
}

int harness_start_daemon_listening(struct harness *h, const char *const *args,
				   const char *const *env)
{
	return start_daemon(h, args, env, false);
}

int harness_stop_daemon(struct harness *h)
{
	int status;

	if (h->daemon <= 0)
		return -1;
	kill(h->daemon, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(h->daemon, &status, WNOHANG) == h->daemon) {
			h->daemon = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fprintf(stderr, "ukeyd exited with status 0x%x; its log: %s\n",
					status, h->log);
				harness_daemon_failed = true;
				return -1;
			}
			return 0;
		}
		usleep(100 * 1000);
	}
	fprintf(stderr, "ukeyd did not stop within 10 s of SIGTERM\n");
	kill(h->daemon, SIGKILL);
	waitpid(h->daemon, &status, 0);
	h->daemon = 0;
	harness_daemon_failed = true;
	return -1;
}

void harness_teardown(struct harness *h)
{
	char cmd[400];

	if (h->daemon > 0)
		harness_stop_daemon(h);
	if (h->dir[0] && !getenv("UKEY_TEST_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", h->dir);
	}
}

char *harness_run(const char *const *argv, const char *const *env, int *ret_status)
{
	return harness_run_input(argv, env, NULL, ret_status);
}

char *harness_run_input(const char *const *argv, const char *const *env, const char *input,
			int *ret_status)
{
	int pipefd[2], inpipe[2], status;
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);
	pid_t pid;

	if (!out || pipe2(pipefd, O_CLOEXEC) < 0 || pipe2(inpipe, O_CLOEXEC) < 0)
		abort();
	/* Small inputs fit the pipe: written before the child even starts. */
	if (input && write(inpipe[1], input, strlen(input)) != (ssize_t)strlen(input))
		abort();
	close(inpipe[1]);
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		dup2(input ? inpipe[0] : devnull, STDIN_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execvp(argv[0], (char **)argv);
		_exit(127);
	}
	close(pipefd[1]);
	close(inpipe[0]);
	for (;;) {
		ssize_t n;
		if (len + 1 >= cap) {
			cap *= 2;
			out = realloc(out, cap);
			if (!out)
				abort();
		}
		n = read(pipefd[0], out + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return out;
}

char *harness_sh(const char *cmd, int *ret_status)
{
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};

	return harness_run(argv, NULL, ret_status);
}

void harness_pin_delay(unsigned seconds)
{
	usleep(seconds * 1000000u + 200000u);
}

bool harness_file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	if (getdelim(&buf, &cap, '\0', f) > 0)
		found = strstr(buf, needle) != NULL;
	free(buf);
	fclose(f);
	return found;
}

int harness_memory_contains(pid_t pid, const char *needle)
{
	char path[64], line[512];
	size_t nlen = strlen(needle);
	int found = 0, mem;
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = fopen(path, "re");
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (!maps || mem < 0) {
		if (maps)
			fclose(maps);
		if (mem >= 0)
			close(mem);
		return -1;
	}
	while (!found && fgets(line, sizeof(line), maps)) {
		unsigned long start, end;
		char perms[8];
		char *buf;

		/* Heap, stacks and data: where a copy of a PIN could linger. */
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3 || perms[0] != 'r' ||
		    perms[1] != 'w' || end - start > 512ul * 1024 * 1024)
			continue;
		buf = malloc(end - start);
		if (!buf)
			continue;
		ssize_t n = pread(mem, buf, end - start, (off_t)start);
		if (n > 0 && memmem(buf, (size_t)n, needle, nlen))
			found = 1;
		free(buf);
	}
	fclose(maps);
	close(mem);
	return found;
}

int harness_token_serial(const struct harness *h, const char *label, char *out, size_t size)
{
	ukey_client *c = NULL;
	ukey_token_list *list = NULL;
	int r = -1;

	if (ukey_client_new(h->socket, &c) != UKEY_OK ||
	    ukey_client_list_tokens(c, &list) != UKEY_OK) {
		ukey_client_unref(c);
		return -1;
	}
	for (size_t i = 0; r < 0 && i < ukey_token_list_get_count(list); i++) {
		ukey_token *t = ukey_token_list_get(list, i);
		if (label ? strcmp(ukey_token_get_label(t), label) == 0
			  : ukey_token_is_initialized(t)) {
			snprintf(out, size, "%s", ukey_token_get_serial(t));
			r = 0;
		}
	}
	ukey_token_list_unref(list);
	ukey_client_unref(c);
	return r;
}

int harness_run_tests(const char *name, const struct CMUnitTest *tests, size_t n,
		      int (*setup)(void **), int (*teardown)(void **))
{
	const char *why = harness_missing_tools();
	int failed;

	if (why) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	failed = _cmocka_run_group_tests(name, tests, n, setup, teardown);
	return failed || harness_daemon_failed ? 1 : 0;
}

int harness_finish(struct harness *h)
{
	int status = h->daemon > 0 ? harness_stop_daemon(h) : 0;

	harness_teardown(h);
	return status == 0 ? 0 : -1;
}

/* Written to a new file and renamed: the wrapper reads it on every
 * PKCS#11 call, from ukeyd's threads, and must never see half of it. */
static int replace_file(const char *path, const char *text)
{
	char tmp[256];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "we");
	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		return -1;
	return 0;
}

/* Rewrites the unplug file: its lines but those starting with drop
 * (exactly equal to it when whole), then add (NULL: none). */
static int edit_unplug_file(const struct harness *h, const char *drop, bool whole, const char *add)
{
	char *text = NULL, *line = NULL;
	size_t text_len = 0, len = 0;
	FILE *out = open_memstream(&text, &text_len), *f = fopen(h->unplug_file, "re");
	int r;

	if (!out) {
		if (f)
			fclose(f);
		return -1;
	}
	while (f && getline(&line, &len, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (whole ? strcmp(line, drop) != 0 : strncmp(line, drop, strlen(drop)) != 0)
			fprintf(out, "%s\n", line);
	}
	if (add)
		fprintf(out, "%s\n", add);
	free(line);
	if (f)
		fclose(f);
	if (fclose(out) != 0)
		return -1;
	r = replace_file(h->unplug_file, text);
	free(text);
	return r;
}

int harness_set_plugged(const struct harness *h, const char *label, bool in)
{
	return edit_unplug_file(h, label, true, in ? NULL : label);
}

int harness_set_unplug_rule(const struct harness *h, const char *verb, const char *label,
			    const char *arg)
{
	char prefix[160], rule[320];

	snprintf(prefix, sizeof(prefix), "%s %s ", verb, label);
	snprintf(rule, sizeof(rule), "%s%s", prefix, arg ? arg : "");
	return edit_unplug_file(h, prefix, false, arg ? rule : NULL);
}

int harness_set_faults(const struct harness *h, const char *text)
{
	return replace_file(h->faults_file, text);
}

int harness_shf(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	free(harness_sh(cmd, &status));
	return status;
}

void harness_events_record(ukey_client *client, const ukey_event *ev, void *userdata)
{
	struct harness_events *s = userdata;
	ukey_token *t = ukey_event_get_token(ev);

	if (s->n >= 64)
		return;
	s->types[s->n] = ukey_event_get_type(ev);
	snprintf(s->serials[s->n], sizeof(s->serials[0]), "%s", ukey_event_get_serial(ev));
	snprintf(s->labels[s->n], sizeof(s->labels[0]), "%s", t ? ukey_token_get_label(t) : "");
	s->n++;
}

ukey_client *harness_subscribed_client(const struct harness *h, struct harness_events *s)
{
	ukey_client *c = NULL;

	assert_int_equal(ukey_client_new(h->socket, &c), UKEY_OK);
	assert_int_equal(ukey_client_subscribe(c, harness_events_record, s), UKEY_OK);
	assert_true(ukey_client_get_fd(c) >= 0);
	return c;
}

static bool event_matches(const struct harness_events *s, int i, enum ukey_event_type type,
			  const char *serial)
{
	return s->types[i] == type && (!serial || strcmp(s->serials[i], serial) == 0);
}

int harness_events_find(const struct harness_events *s, enum ukey_event_type type,
			const char *serial)
{
	for (int i = 0; i < s->n; i++)
		if (event_matches(s, i, type, serial))
			return i;
	return -1;
}

int harness_events_count(const struct harness_events *s, enum ukey_event_type type,
			 const char *serial)
{
	int n = 0;

	for (int i = 0; i < s->n; i++)
		n += event_matches(s, i, type, serial);
	return n;
}

int harness_events_wait(ukey_client *c, struct harness_events *s, enum ukey_event_type type,
			const char *serial, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		struct pollfd p = {.fd = ukey_client_get_fd(c), .events = POLLIN};
		int i;

		ukey_client_dispatch(c);
		i = harness_events_find(s, type, serial);
		if (i >= 0)
			return i;
		poll(&p, 1, 50);
	}
	return -1;
}

void harness_events_collect(ukey_client *c, int ms)
{
	for (int waited = 0; waited < ms; waited += 50) {
		struct pollfd p = {.fd = ukey_client_get_fd(c), .events = POLLIN};
		ukey_client_dispatch(c);
		poll(&p, 1, 50);
	}
	ukey_client_dispatch(c);
}

const char *harness_skf_missing(void)
{
	static char why[256];
	const char *testdata = getenv("TESTDATA");

	if (!getenv("SKF_SOFT") || !getenv("SKF_SOFT_NOEPS") || !getenv("SKF_SOFT_NOPININFO") ||
	    !testdata)
		return "SKF_SOFT*/TESTDATA not set: run through 'meson test'";
	snprintf(why, sizeof(why), "%s/seals/ofdrw_UserV4.esl", testdata);
	if (access(why, R_OK) != 0) {
		snprintf(why, sizeof(why), "the real seals of shared/testdata are missing (%s)",
			 testdata);
		return why;
	}
	if (!have_program("iconv"))
		return "iconv missing (libc-bin)";
	return NULL;
}

int harness_skf_provision(struct harness *h, const char *which, const char *device)
{
	int r = harness_shf("%s/provision-skf.sh '%s' %s %s >/dev/null 2>&1", getenv("FIXTURES"),
			    h->skf_dir, which, device ? device : "");

	if (r != 0)
		fprintf(stderr, "provision-skf.sh %s failed (%d)\n", which, r);
	return r == 0 ? 0 : -1;
}

int harness_skf_set_plugged(const struct harness *h, const char *device, bool in)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/devices/%s/unplugged", h->skf_dir, device);
	if (in)
		return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
	return replace_file(path, "");
}

int harness_skf_set_faults(const struct harness *h, const char *text)
{
	return replace_file(h->skf_faults, text);
}

int harness_skf_calls(const struct harness *h, const char *function, const char *device, int from)
{
	FILE *f = fopen(h->skf_log, "re");
	char *line = NULL, fn[128], dev[300];
	size_t len = 0;
	int n = 0, i = 0;

	while (f && getline(&line, &len, f) > 0) {
		if (i++ < from || sscanf(line, "%127s %299s", fn, dev) != 2)
			continue;
		n += strcmp(fn, function) == 0 && (!device || strcmp(dev, device) == 0);
	}
	free(line);
	if (f)
		fclose(f);
	return n;
}

int harness_skf_log_lines(const struct harness *h)
{
	FILE *f = fopen(h->skf_log, "re");
	int n = 0, c;

	while (f && (c = getc(f)) != EOF)
		n += c == '\n';
	if (f)
		fclose(f);
	return n;
}

char *harness_skf_read(const struct harness *h, const char *device, const char *rel)
{
	char path[512];
	FILE *f;
	char *buf = NULL;
	size_t cap = 0;

	snprintf(path, sizeof(path), "%s/devices/%s/%s", h->skf_dir, device, rel);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	if (getdelim(&buf, &cap, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}
