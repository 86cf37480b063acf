/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "build-config.h"
#include "log.h"
#include "proto.h"
#include "rate-bucket.h"
#include "secret.h"
#include "util.h"

/* Requests handled per turn, and the time a turn may take: after either
 * the loop serves the others before this user gets another turn (fair
 * scheduling; costly requests make shorter turns). Turns go round the
 * users, and a user's turn to its connections in turn: a user with 32
 * connections gets no more of the daemon than one with a single one. */
#define REQUESTS_PER_TURN 16
#define TURN_USEC 1000u
/* A client whose unread output passes this is not served more requests
 * until it reads: its replies cannot pile up. */
#define SOFT_OUTPUT_LIMIT (256u * 1024u)
/* Replies one client may be owed by workers and scans at a time; past
 * it, its next requests wait (a pipelined refresh flood holds 16). */
#define MAX_OWED_PER_CLIENT 16
/* Connections accepted per wake-up of the listening socket. */
#define ACCEPTS_PER_WAKE 64
/* A line buffer larger than this (one a long line grew: it starts at
 * 4 KiB, ukey_linebuf_fill), once empty, is given back (and wiped). */
#define KEEP_INPUT_BUFFER (64u * 1024u)

/* What one user holds: its connections and the output queued for them,
 * and what is left of its new connections this second (a bucket that
 * refills at connect_rate a second, up to twice that). */
struct uid_usage {
	struct uid_usage *next;
	uid_t uid;
	unsigned clients;
	size_t out_bytes;
	struct rate_bucket connects;
	/* Its connections with lines to serve, in the order of their next
	 * turn, and the defer source that gives the first one its turn. Once
	 * the user has had a turn (turn_taken), the next waits until turn_src
	 * comes round, after every other source ready then. */
	struct client *ready_first, *ready_last;
	sd_event_source *turn_src;
	bool turn_taken;
};

struct client {
	int refcount;
	struct server *server;
	struct client *prev, *next;
	int fd;
	sd_event_source *src;
	sd_event_source *timer_src;
	uint64_t timer_at; /* when timer_src fires, or 0 when it is off */
	struct ucred peer;
	gid_t *groups; /* supplementary groups at connect time */
	int n_groups;
	struct uid_usage *usage;
	struct client *ready_prev, *ready_next; /* in usage's queue of turns */
	bool ready;				/* in it */
	struct ukey_linebuf in;
	char *out;
	size_t out_len, out_off;
	char program[32];
	uint64_t last_active;  /* a request, or output read by the peer */
	uint64_t line_started; /* first byte of an unfinished line, or 0 */
	unsigned owed;	       /* replies still to come from a worker */
	bool eof;	       /* the peer sent all it will send */
	bool handshaken;
	bool subscribed; /* gets events */
	bool closing;	 /* flush what is queued, then hang up */
};

struct server {
	sd_event *loop;
	int listen_fd;
	sd_event_source *listen_src;
	struct client *clients;
	unsigned n_clients;
	struct uid_usage *usage;
	struct server_limits limits;
	server_request_fn on_request;
	void *userdata;
	/* An attacker can make a refusal a second: say so once a minute. */
	uint64_t refusals_logged_at;
	unsigned refusals_unlogged;
};

static uint64_t now_usec(const struct server *s)
{
	uint64_t t = 0;

	(void)sd_event_now(s->loop, CLOCK_MONOTONIC, &t);
	return t;
}

int server_lock_path(const char *path, pid_t *ret_holder)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_free_ char *lock_path = NULL;
	_cleanup_close_ int fd = -1, probe = -1;
	char pid[24] = "";
	ssize_t n;

	*ret_holder = 0;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	if (asprintf(&lock_path, "%s.lock", path) < 0)
		return -ENOMEM;
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		if (n > 0) {
			pid[n] = '\0';
			*ret_holder = (pid_t)strtol(pid, NULL, 10);
		}
		return r;
	}
	/* Ours now; yet something without the lock may serve the path. */
	strcpy(sa.sun_path, path);
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return -EBUSY;
	if (probe >= 0 && errno == EAGAIN) /* listening, with a full backlog */
		return -EBUSY;
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int server_listen_path(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *dir = NULL;
	char *slash;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	old = umask(0111);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return -errno;
	/* A short queue: a connect flood cannot put thousands of connections
	 * ahead of another user's (each costs a refusal). A connect that finds
	 * it full waits its turn in the kernel (libukey's blocks, up to its
	 * timeout). ukeyd.socket says the same (Backlog=). */
	if (listen(fd, SERVER_BACKLOG) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static void client_flush(struct client *c);
static void client_kick(struct client *c);
static void client_unready(struct client *c);
static void client_arm_timer(struct client *c);

static size_t client_pending_output(const struct client *c)
{
	return c->out_len - c->out_off;
}

static void client_hangup(struct client *c)
{
	struct server *s = c->server;

	if (c->fd < 0)
		return;
	client_unready(c);
	c->src = sd_event_source_disable_unref(c->src);
	c->timer_src = sd_event_source_disable_unref(c->timer_src);
	close(c->fd);
	c->fd = -1;
	ukey_linebuf_release(&c->in);
	if (c->usage) {
		/* The entry stays while its bucket refills (usage_get). */
		c->usage->out_bytes -= client_pending_output(c);
		c->usage->clients--;
		c->usage = NULL;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	s->n_clients--;
	client_unref(c); /* the server's own reference */
}

struct client *client_ref(struct client *c)
{
	if (c)
		c->refcount++;
	return c;
}

void client_unref(struct client *c)
{
	if (!c || --c->refcount > 0)
		return;
	free(c->groups);
	free(c->out);
	free(c);
}

bool client_is_connected(const struct client *c)
{
	return c->fd >= 0;
}

const struct ucred *client_get_peer(const struct client *c)
{
	return &c->peer;
}

const char *client_get_program(const struct client *c)
{
	return c->program;
}

/* A complete line is buffered, waiting for its turn. */
static bool client_has_line(const struct client *c)
{
	return c->in.start < c->in.len &&
	       memchr(c->in.data + c->in.start, '\n', c->in.len - c->in.start);
}

/* After the peer's end of file: hang up once nothing more is owed and
 * every line it sent is answered. */
static void client_finish(struct client *c)
{
	if (c->fd < 0 || !c->eof || c->owed > 0 || client_has_line(c))
		return;
	c->closing = true;
	client_flush(c);
}

void client_owe(struct client *c)
{
	c->owed++;
}

void client_paid(struct client *c)
{
	if (c->owed > 0)
		c->owed--;
	if (c->fd < 0)
		return;
	c->last_active = now_usec(c->server);
	client_arm_timer(c);
	client_kick(c); /* below the owed limit again: its next lines may run */
	client_finish(c);
}

static void read_peer_program(struct client *c)
{
	char path[64];
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)c->peer.pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, c->program, sizeof(c->program) - 1);
		close(fd);
	}
	/* The kernel ends comm with one newline; the name itself may hold
	 * any byte (a newline too), kept as it is and escaped where shown. */
	if (n > 0 && c->program[n - 1] == '\n')
		n--;
	c->program[n > 0 ? n : 0] = '\0';
}

bool client_has_group(const struct client *c, gid_t gid)
{
	if (c->peer.gid == gid)
		return true;
	for (int i = 0; i < c->n_groups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

static void read_peer_groups(struct client *c)
{
	socklen_t len = 64 * sizeof(gid_t);

	/* Tried twice: the first call may say how much room it needs. */
	for (int attempt = 0; attempt < 2; attempt++) {
		gid_t *g = realloc(c->groups, len ? len : sizeof(gid_t));
		if (!g)
			return;
		c->groups = g;
		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0) {
			c->n_groups = (int)(len / sizeof(gid_t));
			return;
		}
		if (errno != ERANGE)
			break;
	}
	c->n_groups = 0;
}

/* Whether the client may have more of its requests handled now: not
 * while its unread output is large or it is owed many replies. */
static bool client_may_run(const struct client *c)
{
	return c->fd >= 0 && !c->closing && client_pending_output(c) < SOFT_OUTPUT_LIMIT &&
	       c->owed < MAX_OWED_PER_CLIENT;
}

static int client_update_events(struct client *c)
{
	uint32_t ev = 0;

	/* Nothing more is read while lines already read wait for their turn:
	 * the buffer stays within one line and one read. */
	if (!c->closing && !c->eof && client_may_run(c) && !client_has_line(c))
		ev |= EPOLLIN;
	if (client_pending_output(c) > 0)
		ev |= EPOLLOUT;
	return sd_event_source_set_io_events(c->src, ev);
}

/* Out of its user's queue of turns. */
static void client_unready(struct client *c)
{
	struct uid_usage *u = c->usage;

	if (!c->ready)
		return;
	if (c->ready_prev)
		c->ready_prev->ready_next = c->ready_next;
	else
		u->ready_first = c->ready_next;
	if (c->ready_next)
		c->ready_next->ready_prev = c->ready_prev;
	else
		u->ready_last = c->ready_prev;
	c->ready_prev = c->ready_next = NULL;
	c->ready = false;
}

/* Lines already read get a turn: the client joins the end of its user's
 * queue, and the user's turn comes after every other user (and every
 * socket) that is ready has had one. */
static void client_kick(struct client *c)
{
	struct uid_usage *u = c->usage;

	if (c->fd < 0)
		return;
	if (!c->ready && client_has_line(c) && client_may_run(c)) {
		c->ready = true;
		c->ready_prev = u->ready_last;
		if (u->ready_last)
			u->ready_last->ready_next = c;
		else
			u->ready_first = c;
		u->ready_last = c;
		(void)sd_event_source_set_enabled(u->turn_src, SD_EVENT_ONESHOT);
	}
	if (client_update_events(c) < 0)
		client_hangup(c);
}

/* When this client is due to be dropped: idle_timeout after its last
 * request or the last output it read, unless it waits for a reply or,
 * subscribed, has read every event; line_timeout after the first byte
 * of a line it has not finished. 0: never. */
static uint64_t client_deadline(const struct client *c)
{
	const struct server_limits *l = &c->server->limits;
	uint64_t at = 0;

	if (c->owed == 0 && !(c->subscribed && client_pending_output(c) == 0) &&
	    l->idle_timeout > 0)
		at = c->last_active + (uint64_t)l->idle_timeout * 1000000u;
	if (c->line_started && l->line_timeout > 0) {
		uint64_t line_at = c->line_started + (uint64_t)l->line_timeout * 1000000u;
		if (at == 0 || line_at < at)
			at = line_at;
	}
	return at;
}

/* The timer is moved only when the deadline comes earlier; a later one
 * is found when it fires. Quiet subscribers keep no timer at all. */
static void client_arm_timer(struct client *c)
{
	uint64_t at = client_deadline(c);

	if (at == 0 || (c->timer_at && c->timer_at <= at))
		return;
	if (sd_event_source_set_time(c->timer_src, at) >= 0 &&
	    sd_event_source_set_enabled(c->timer_src, SD_EVENT_ONESHOT) >= 0)
		c->timer_at = at;
}

static int client_on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct client *c = userdata;
	uint64_t at = client_deadline(c);

	c->timer_at = 0;
	if (at == 0)
		return 0;
	if (at <= usec) {
		bool line =
			c->line_started &&
			at == c->line_started + (uint64_t)c->server->limits.line_timeout * 1000000u;
		log_debug("client pid %d uid %u: %s, disconnecting", (int)c->peer.pid,
			  (unsigned)c->peer.uid, line ? "a request line took too long" : "idle");
		client_hangup(c);
		return 0;
	}
	client_arm_timer(c);
	return 0;
}

static void client_flush(struct client *c)
{
	size_t before = client_pending_output(c);

	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			log_debug("client pid %d: send failed: %m", (int)c->peer.pid);
			client_hangup(c);
			return;
		}
		c->out_off += (size_t)n;
		c->usage->out_bytes -= (size_t)n;
	}
	if (client_pending_output(c) < before) {
		/* It reads: not idle. */
		c->last_active = now_usec(c->server);
		client_arm_timer(c);
	}
	if (c->out_off == c->out_len) {
		free(c->out);
		c->out = NULL;
		c->out_off = c->out_len = 0;
		if (c->closing) {
			client_hangup(c);
			return;
		}
	}
	/* Below the soft limit again: its waiting lines may run. */
	if (before >= SOFT_OUTPUT_LIMIT && client_pending_output(c) < SOFT_OUTPUT_LIMIT)
		client_kick(c);
	else if (client_update_events(c) < 0)
		client_hangup(c);
}

/* Queues one formatted line (copied) and sends what the socket takes. */
static void client_send_line(struct client *c, const char *line, size_t len)
{
	char *n;

	if (c->fd < 0)
		return;
	/* One user's queued output is bounded, whatever its connections: a
	 * client that stops reading is dropped, not fed. */
	if (c->usage->out_bytes + len > c->server->limits.max_output_per_uid) {
		log_warning("client pid %d uid %u: does not read its replies, disconnecting",
			    (int)c->peer.pid, (unsigned)c->peer.uid);
		client_hangup(c);
		return;
	}
	if (c->out_off > 0) { /* what the peer read is dropped first */
		memmove(c->out, c->out + c->out_off, client_pending_output(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	n = realloc(c->out, c->out_len + len);
	if (!n) {
		client_hangup(c);
		return;
	}
	c->out = n;
	memcpy(c->out + c->out_len, line, len);
	c->out_len += len;
	c->usage->out_bytes += len;
	client_flush(c);
}

static void client_send(struct client *c, json_object *msg)
{
	_cleanup_free_ char *line = NULL;
	size_t len;

	if (c->fd < 0)
		return;
	line = ukey_msg_format(msg, &len);
	if (!line) {
		log_warning("client pid %d: out of memory, disconnecting", (int)c->peer.pid);
		client_hangup(c);
		return;
	}
	client_send_line(c, line, len);
}

void client_subscribe(struct client *c)
{
	c->subscribed = true;
}

void server_broadcast(struct server *s, json_object *event)
{
	size_t len;
	_cleanup_free_ char *line = ukey_msg_format(event, &len);

	json_object_put(event);
	if (!line) {
		log_error("out of memory: an event is lost");
		return;
	}
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next; /* a client whose buffer overflows is dropped here */
		if (c->subscribed && !c->closing)
			client_send_line(c, line, len);
	}
}

void client_reply(struct client *c, json_object *id, json_object *result)
{
	json_object *msg = json_object_new_object();

	if (msg) {
		json_object_object_add(msg, "id", json_object_get(id));
		json_object_object_add(msg, "result", result ? result : json_object_new_object());
		client_send(c, msg);
		json_object_put(msg);
	} else {
		json_object_put(result);
	}
}

void client_reply_error(struct client *c, json_object *id, const char *code, const char *message)
{
	client_reply_error_ext(c, id, code, message, NULL);
}

void client_reply_error_ext(struct client *c, json_object *id, const char *code,
			    const char *message, json_object *extra)
{
	json_object *msg = json_object_new_object(), *err = json_object_new_object();

	if (extra && err) {
		json_object_object_foreach (extra, key, val)
			json_object_object_add(err, key, json_object_get(val));
	}
	json_object_put(extra);
	if (msg && err) {
		json_object_object_add(err, "code", json_object_new_string(code));
		json_object_object_add(err, "message", json_object_new_string(message));
		json_object_object_add(msg, "id", json_object_get(id));
		json_object_object_add(msg, "error", err);
		err = NULL;
		client_send(c, msg);
	}
	json_object_put(err);
	json_object_put(msg);
}

static void client_handle_hello(struct client *c, json_object *id, json_object *params)
{
	json_object *v, *result;
	int64_t version;

	if (!json_object_object_get_ex(params, "version", &v) ||
	    !json_object_is_type(v, json_type_int)) {
		client_reply_error(c, id, UKEY_WIRE_INVALID_REQUEST,
				   "hello needs an integer version");
		return;
	}
	version = json_object_get_int64(v);
	if (version != UKEY_PROTOCOL_VERSION) {
		char msg[96];
		snprintf(msg, sizeof(msg), "protocol version %lld is not supported; this is %d",
			 (long long)version, UKEY_PROTOCOL_VERSION);
		client_reply_error(c, id, UKEY_WIRE_VERSION_UNSUPPORTED, msg);
		return;
	}
	result = json_object_new_object();
	if (!result) {
		client_hangup(c);
		return;
	}
	json_object_object_add(result, "version", json_object_new_int(UKEY_PROTOCOL_VERSION));
	json_object_object_add(result, "daemon", json_object_new_string(UKEY_VERSION));
	c->handshaken = true;
	client_reply(c, id, result);
}

static void client_handle_line(struct client *c, const char *line, size_t len)
{
	json_object *msg = NULL, *id = NULL, *method, *params = NULL;
	const char *name;

	if (len == 0)
		return; /* blank keep-alive lines are harmless */
	if (ukey_msg_parse_request(line, len, &msg) < 0) {
		client_reply_error(c, NULL, UKEY_WIRE_INVALID_JSON,
				   "a request is one JSON object on one line");
		return;
	}
	if (!json_object_object_get_ex(msg, "id", &id) || !json_object_is_type(id, json_type_int)) {
		client_reply_error(c, NULL, UKEY_WIRE_INVALID_REQUEST, "missing integer \"id\"");
		goto out;
	}
	if (!json_object_object_get_ex(msg, "method", &method) ||
	    !json_object_is_type(method, json_type_string)) {
		client_reply_error(c, id, UKEY_WIRE_INVALID_REQUEST, "missing string \"method\"");
		goto out;
	}
	name = json_object_get_string(method);
	if (json_object_object_get_ex(msg, "params", &params) &&
	    !json_object_is_type(params, json_type_object)) {
		client_reply_error(c, id, UKEY_WIRE_INVALID_REQUEST,
				   "\"params\" must be an object");
		goto out;
	}
	if (!params) {
		params = json_object_new_object();
		if (!params)
			goto out;
		json_object_object_add(msg, "params", params);
	}
	if (strcmp(name, "hello") == 0)
		client_handle_hello(c, id, params);
	else if (!c->handshaken)
		client_reply_error(c, id, UKEY_WIRE_HANDSHAKE_REQUIRED,
				   "send \"hello\" with the protocol version first");
	else
		c->server->on_request(c, id, name, params, c->server->userdata);
out:
	/* Whatever the method, PINs it carried do not outlive it here. */
	ukey_json_wipe_pins(msg);
	json_object_put(msg);
}

/* One turn: up to REQUESTS_PER_TURN of the lines already read, while the
 * client may run; the rest get another turn after the other clients. */
static uint64_t clock_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* After lines were read or served: the line timer, the buffer, the idle
 * timer, the next turn, the end. */
static void client_settle(struct client *c)
{
	if (c->fd < 0)
		return;
	/* An unfinished line has line_timeout to end, from its first byte. */
	if (c->in.start < c->in.len && !client_has_line(c)) {
		if (!c->line_started)
			c->line_started = now_usec(c->server);
	} else {
		c->line_started = 0;
	}
	if (c->in.start == c->in.len && c->in.cap > KEEP_INPUT_BUFFER)
		ukey_linebuf_release(&c->in); /* one long line does not stay */
	client_arm_timer(c);
	client_kick(c);
	client_finish(c);
}

static void client_run_lines(struct client *c)
{
	uint64_t turn_ends = clock_usec() + TURN_USEC;
	char *line;
	size_t len;

	for (int i = 0;
	     i < REQUESTS_PER_TURN && client_may_run(c) && (i == 0 || clock_usec() < turn_ends) &&
	     ukey_linebuf_next(&c->in, &line, &len) > 0;
	     i++) {
		if (len > 0) /* blank keep-alive lines do not keep a client alive */
			c->last_active = now_usec(c->server);
		client_handle_line(c, line, len);
	}
	client_settle(c);
}

/* A turn of the user's for c: the round ends when turn_src comes round. */
static void usage_give_turn(struct uid_usage *u, struct client *c)
{
	u->turn_taken = true;
	(void)sd_event_source_set_enabled(u->turn_src, SD_EVENT_ONESHOT);
	client_ref(c);
	client_unready(c);
	client_run_lines(c);
	client_unref(c);
}

/* The user's round came round: the first of its connections waiting
 * has its turn, then waits at the end of the queue (client_kick) if it
 * has more. */
static int usage_on_turn(sd_event_source *src, void *userdata)
{
	struct uid_usage *u = userdata;

	u->turn_taken = false;
	if (u->ready_first)
		usage_give_turn(u, u->ready_first);
	return 0;
}

static int client_on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct client *c = userdata;
	long n;

	client_ref(c);
	/* The peer closed (both directions shut) or its socket failed:
	 * nothing more can be delivered, whatever it still owes or is owed.
	 * epoll reports these even on a socket watched for nothing (a client
	 * owed MAX_OWED_PER_CLIENT replies): left standing, they would wake
	 * the loop again at once, until every reply came. A peer that only
	 * stopped sending (half-close) sees no EPOLLHUP, and gets its replies. */
	if (revents & (EPOLLHUP | EPOLLERR)) {
		client_hangup(c);
		goto out;
	}
	if (revents & EPOLLOUT)
		client_flush(c);
	if (c->fd < 0 || c->closing || c->eof || !(revents & EPOLLIN) || !client_may_run(c) ||
	    client_has_line(c))
		goto out;
	/* One read per wake-up, and none while lines read wait for their
	 * turn: a client that sends without pause gets the same share as the
	 * others. */
	n = ukey_linebuf_fill(&c->in, c->fd);
	if (n == -EAGAIN)
		goto out;
	if (n == -EMSGSIZE) {
		client_reply_error(c, NULL, UKEY_WIRE_MESSAGE_TOO_LARGE, "request line too long");
		c->closing = true;
		if (c->fd >= 0)
			client_flush(c);
		goto out;
	}
	if (n <= 0) {
		if (n < 0) {
			client_hangup(c);
			goto out;
		}
		/* Done sending: what it sent is answered, then it is let go. */
		c->eof = true;
	}
	/* Its lines run now if its user had no turn this round (a client
	 * alone runs at once, as it sends), else they wait for the next. */
	if (!c->usage->turn_taken && !c->usage->ready_first && client_has_line(c) &&
	    client_may_run(c))
		usage_give_turn(c->usage, c);
	else
		client_settle(c);
out:
	client_unref(c);
	return 0;
}

/* The user's entry, made when missing; entries of users without
 * connections whose bucket is full again are dropped on the way. */
static struct uid_usage *usage_get(struct server *s, uid_t uid, uint64_t now)
{
	struct uid_usage **pp = &s->usage, *u, *found = NULL;
	double burst = 2.0 * s->limits.connect_rate;

	while ((u = *pp)) {
		if (u->uid == uid) {
			found = u;
		} else if (u->clients == 0 &&
			   rate_bucket_is_full(&u->connects, s->limits.connect_rate, burst, now)) {
			*pp = u->next;
			sd_event_source_disable_unref(u->turn_src);
			free(u);
			continue;
		}
		pp = &u->next;
	}
	if (found)
		return found;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	*u = (struct uid_usage){
		.next = s->usage, .uid = uid, .connects = rate_bucket_full(burst, now)};
	if (sd_event_add_defer(s->loop, &u->turn_src, usage_on_turn, u) < 0 ||
	    sd_event_source_set_enabled(u->turn_src, SD_EVENT_OFF) < 0) {
		sd_event_source_disable_unref(u->turn_src);
		free(u);
		return NULL;
	}
	s->usage = u;
	return u;
}

/* Takes one connection from the user's bucket; false when it is empty. */
static bool usage_take_connect(struct server *s, struct uid_usage *u, uint64_t now)
{
	if (u->uid == 0 || s->limits.connect_rate == 0)
		return true;
	return rate_bucket_take(&u->connects, s->limits.connect_rate, 2.0 * s->limits.connect_rate,
				now);
}

/* Says at most once a minute that clients were refused, with how many. */
static void log_refusal(struct server *s, const char *why, const struct ucred *peer)
{
	uint64_t now = now_usec(s);

	s->refusals_unlogged++;
	if (s->refusals_logged_at && now - s->refusals_logged_at < 60u * 1000000u)
		return;
	log_warning("refused a connection of uid %u (pid %d): %s (%u refused since the last "
		    "report)",
		    (unsigned)peer->uid, (int)peer->pid, why, s->refusals_unlogged);
	s->refusals_logged_at = now;
	s->refusals_unlogged = 0;
}

/* Why the server cannot take this peer now, or NULL. Root and the admin
 * group may use the reserved connections; root is not counted per user. */
static const char *refusal(struct server *s, const struct client *c)
{
	const struct server_limits *l = &s->limits;
	bool privileged = c->peer.uid == 0 ||
			  (l->admin_gid != (gid_t)-1 && client_has_group(c, l->admin_gid));
	const struct uid_usage *u = c->usage;

	if (s->n_clients >= l->max_clients)
		return "too many clients";
	if (!privileged && s->n_clients + l->reserved_clients >= l->max_clients)
		return "too many clients";
	if (c->peer.uid != 0 && u && u->clients >= l->max_clients_per_uid)
		return "too many connections from this user";
	return NULL;
}

static void refuse(int fd, const char *why)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg),
			 "{\"id\":null,\"error\":{\"code\":\"" UKEY_WIRE_BUSY
			 "\",\"message\":\"%s\"}}\n",
			 why);

	(void)send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static int accept_one(struct server *s, int fd)
{
	socklen_t len = sizeof(struct ucred);
	struct ucred peer;
	struct uid_usage *u;
	struct client *c;
	const char *why;
	uint64_t now;
	int cfd, r;

	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warning("accept failed: %m");
		return -errno;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0) {
		log_warning("cannot read peer credentials: %m");
		close(cfd);
		return 0;
	}
	/* A connect flood is refused here, at the cost of a refusal. */
	now = now_usec(s);
	u = usage_get(s, peer.uid, now);
	if (!u || !usage_take_connect(s, u, now)) {
		/* Hung up without a word: a flood gets nothing that costs. A
		 * client sees the end of file before the handshake, which
		 * libukey reports as busy (ukeyd runs, and refused it). */
		log_refusal(s, "too many new connections from this user", &peer);
		close(cfd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return 0;
	}
	c->refcount = 1;
	c->server = s;
	c->fd = cfd;
	c->peer = peer;
	c->usage = u;
	ukey_linebuf_init(&c->in, UKEY_MAX_REQUEST_SIZE, true);
	read_peer_groups(c);
	why = refusal(s, c);
	if (why) {
		refuse(cfd, why);
		log_refusal(s, why, &c->peer);
		close(cfd);
		free(c->groups);
		free(c);
		return 0;
	}
	read_peer_program(c);
	c->last_active = now;
	r = sd_event_add_io(s->loop, &c->src, cfd, EPOLLIN, client_on_io, c);
	if (r >= 0)
		r = sd_event_add_time(s->loop, &c->timer_src, CLOCK_MONOTONIC, UINT64_MAX, 250000u,
				      client_on_timer, c);
	if (r >= 0)
		r = sd_event_source_set_enabled(c->timer_src, SD_EVENT_OFF);
	if (r < 0) {
		sd_event_source_disable_unref(c->src);
		sd_event_source_disable_unref(c->timer_src);
		close(cfd);
		free(c->groups);
		free(c);
		return 0;
	}
	u->clients++;
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->n_clients++;
	client_arm_timer(c); /* idle until its first request */
	log_debug("client connected: pid %d uid %u gid %u", (int)c->peer.pid, (unsigned)c->peer.uid,
		  (unsigned)c->peer.gid);
	return 0;
}

static int server_on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct server *s = userdata;

	/* Several per wake: a flood of connects is refused as fast as it
	 * comes, so another user's connect does not wait behind it. */
	for (int i = 0; i < ACCEPTS_PER_WAKE; i++)
		if (accept_one(s, fd) < 0)
			break;
	return 0;
}

int server_new(sd_event *loop, int listen_fd, const struct server_limits *limits,
	       server_request_fn fn, void *userdata, struct server **ret_server)
{
	struct server *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		close(listen_fd);
		return -ENOMEM;
	}
	s->loop = sd_event_ref(loop);
	s->listen_fd = listen_fd;
	s->limits = *limits;
	s->on_request = fn;
	s->userdata = userdata;
	/* A socket from systemd may block: several accepts per wake need it
	 * not to. */
	r = fcntl(listen_fd, F_GETFL);
	if (r < 0 || fcntl(listen_fd, F_SETFL, r | O_NONBLOCK) < 0) {
		r = -errno;
		server_free(s);
		return r;
	}
	r = sd_event_add_io(loop, &s->listen_src, listen_fd, EPOLLIN, server_on_accept, s);
	if (r < 0) {
		server_free(s);
		return r;
	}
	*ret_server = s;
	return 0;
}

void server_set_limits(struct server *s, const struct server_limits *limits)
{
	s->limits = *limits;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	while (s->clients)
		client_hangup(s->clients);
	while (s->usage) {
		struct uid_usage *u = s->usage;
		s->usage = u->next;
		sd_event_source_disable_unref(u->turn_src);
		free(u);
	}
	sd_event_source_disable_unref(s->listen_src);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	sd_event_unref(s->loop);
	free(s);
}
