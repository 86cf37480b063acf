/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "build-config.h"
#include "log.h"
#include "proto.h"
#include "secret.h"
#include "util.h"

/* A client that does not read its replies is dropped past this. */
#define MAX_PENDING_OUTPUT (64u * 1024u * 1024u)
/* Reads per wake-up, so one chatty client cannot starve the others. */
#define MAX_READS_PER_EVENT 16

struct client {
	int refcount;
	struct server *server;
	struct client *prev, *next;
	int fd;
	sd_event_source *src;
	struct ucred peer;
	gid_t *groups; /* supplementary groups at connect time */
	int n_groups;
	struct ukey_linebuf in;
	char *out;
	size_t out_len, out_off;
	char program[32];
	unsigned owed; /* replies still to come from a worker */
	bool eof;      /* the peer sent all it will send */
	bool handshaken;
	bool subscribed; /* gets events */
	bool closing;	 /* flush what is queued, then hang up */
};

struct server {
	sd_event *loop;
	int listen_fd;
	sd_event_source *listen_src;
	struct client *clients;
	unsigned n_clients, max_clients;
	server_request_fn on_request;
	void *userdata;
};

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
	if (listen(fd, 128) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static void client_flush(struct client *c);

static void client_hangup(struct client *c)
{
	struct server *s = c->server;

	if (c->fd < 0)
		return;
	c->src = sd_event_source_disable_unref(c->src);
	close(c->fd);
	c->fd = -1;
	ukey_linebuf_release(&c->in);
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

/* After the peer's end of file: hang up once nothing more is owed. */
static void client_finish(struct client *c)
{
	if (c->fd < 0 || !c->eof || c->owed > 0)
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

static int client_update_events(struct client *c)
{
	uint32_t ev = 0;

	if (!c->closing && !c->eof)
		ev |= EPOLLIN;
	if (c->out_len > c->out_off)
		ev |= EPOLLOUT;
	return sd_event_source_set_io_events(c->src, ev);
}

static void client_flush(struct client *c)
{
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
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->closing) {
			client_hangup(c);
			return;
		}
	}
	if (client_update_events(c) < 0)
		client_hangup(c);
}

static void client_send(struct client *c, json_object *msg)
{
	_cleanup_free_ char *line = NULL;
	size_t len;
	char *n;

	if (c->fd < 0)
		return;
	line = ukey_msg_format(msg, &len);
	if (!line || c->out_len + len > MAX_PENDING_OUTPUT) {
		log_warning("client pid %d: %s, disconnecting", (int)c->peer.pid,
			    line ? "does not read its replies" : "out of memory");
		client_hangup(c);
		return;
	}
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	n = realloc(c->out, c->out_len + len);
	if (!n) {
		client_hangup(c);
		return;
	}
	c->out = n;
	memcpy(c->out + c->out_len, line, len);
	c->out_len += len;
	client_flush(c);
}

void client_subscribe(struct client *c)
{
	c->subscribed = true;
}

void server_broadcast(struct server *s, json_object *event)
{
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next; /* a client whose buffer overflows is dropped here */
		if (c->subscribed && !c->closing)
			client_send(c, event);
	}
	json_object_put(event);
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
	if (ukey_msg_parse(line, len, &msg) < 0) {
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

static int client_on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct client *c = userdata;

	client_ref(c);
	/* Both directions shut: what is owed can no longer be delivered. */
	if ((revents & EPOLLHUP) && c->eof) {
		client_hangup(c);
		client_unref(c);
		return 0;
	}
	if (revents & EPOLLOUT)
		client_flush(c);
	for (int i = 0; i < MAX_READS_PER_EVENT && c->fd >= 0 && !c->closing &&
			(revents & (EPOLLIN | EPOLLHUP | EPOLLERR));
	     i++) {
		long n = ukey_linebuf_fill(&c->in, c->fd);
		char *line;
		size_t len;

		if (n == -EAGAIN)
			break;
		if (n == -EMSGSIZE) {
			client_reply_error(c, NULL, UKEY_WIRE_MESSAGE_TOO_LARGE,
					   "request line too long");
			c->closing = true;
			if (c->fd >= 0)
				client_flush(c);
			break;
		}
		if (n <= 0) {
			/* Gone, or done sending: replies still owed are sent first. */
			if (n == 0 && c->owed > 0) {
				c->eof = true;
				(void)client_update_events(c);
			} else {
				client_hangup(c);
			}
			break;
		}
		while (c->fd >= 0 && !c->closing && ukey_linebuf_next(&c->in, &line, &len) > 0)
			client_handle_line(c, line, len);
	}
	client_unref(c);
	return 0;
}

static int server_on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct server *s = userdata;
	socklen_t len = sizeof(struct ucred);
	struct client *c;
	int cfd, r;

	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warning("accept failed: %m");
		return 0;
	}
	if (s->n_clients >= s->max_clients) {
		static const char busy[] = "{\"id\":null,\"error\":{\"code\":\"" UKEY_WIRE_BUSY
					   "\",\"message\":\"too many clients\"}}\n";
		(void)send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		log_warning("refused a client: %u clients already connected", s->n_clients);
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
	ukey_linebuf_init(&c->in, UKEY_MAX_REQUEST_SIZE, true);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->peer, &len) < 0) {
		log_warning("cannot read peer credentials: %m");
		close(cfd);
		free(c);
		return 0;
	}
	read_peer_groups(c);
	read_peer_program(c);
	r = sd_event_add_io(s->loop, &c->src, cfd, EPOLLIN, client_on_io, c);
	if (r < 0) {
		close(cfd);
		free(c->groups);
		free(c);
		return 0;
	}
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->n_clients++;
	log_debug("client connected: pid %d uid %u gid %u", (int)c->peer.pid, (unsigned)c->peer.uid,
		  (unsigned)c->peer.gid);
	return 0;
}

int server_new(sd_event *loop, int listen_fd, unsigned max_clients, server_request_fn fn,
	       void *userdata, struct server **ret_server)
{
	struct server *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		close(listen_fd);
		return -ENOMEM;
	}
	s->loop = sd_event_ref(loop);
	s->listen_fd = listen_fd;
	s->max_clients = max_clients;
	s->on_request = fn;
	s->userdata = userdata;
	r = sd_event_add_io(loop, &s->listen_src, listen_fd, EPOLLIN, server_on_accept, s);
	if (r < 0) {
		server_free(s);
		return r;
	}
	*ret_server = s;
	return 0;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	while (s->clients)
		client_hangup(s->clients);
	sd_event_source_disable_unref(s->listen_src);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	sd_event_unref(s->loop);
	free(s);
}
