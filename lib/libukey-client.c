/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The connection to ukeyd: handshake, requests and their replies. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "build-config.h"
#include "libukey-private.h"
#include "proto.h"
#include "secret.h"
#include "util.h"
#include "wire-names.h"

#define DEFAULT_TIMEOUT_MS 60000u
/* While ukeyd is away, a subscribed client tries to reconnect this often. */
#define RECONNECT_INTERVAL_MS 500

struct ukey_client {
	int refcount;
	/* What the caller polls, the same for the client's life (as
	 * libinput's fd): an epoll set of the connection, a timer that says
	 * "try to reconnect" while ukeyd is away, and an eventfd that says
	 * "events are queued" after a request read them. */
	int epoll_fd;
	int sock; /* the connection to ukeyd, or -1 */
	int retry_fd;
	int queued_fd;
	struct ukey_linebuf in;
	int64_t next_id;
	unsigned timeout_ms;
	char *daemon_version;
	char *error_reason;   /* of the last failed request */
	int error_tries_left; /* of the last failed request, -1 when not said */
	unsigned retry_after; /* s, of the last failed request */
	char *socket_path;    /* to reconnect to */
	ukey_event_fn event_fn;
	void *event_userdata;
	json_object *queued; /* events read while waiting for a reply */
	bool told_disconnected;
	bool subscribed; /* ukeyd sends events on this connection */
	/* The last list and its generation: asked again, ukeyd answers
	 * "unchanged" when the client holds the current one. Held only for
	 * the connection that delivered it: another daemon (a restart)
	 * numbers its lists anew. */
	ukey_token_list *last_list;
	int64_t last_generation;
};

struct ukey_event {
	enum ukey_event_type type;
	const char *serial;
	ukey_token *token;
	const char *json;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline for poll(); -1 waits forever. */
static int poll_timeout(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	if (left <= 0)
		return 0;
	return left > 60 * 60 * 1000 ? 60 * 60 * 1000 : (int)left;
}

/* Empties an eventfd or timerfd, so the caller's poll stops waking for it. */
static void drain_fd(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) > 0)
		;
}

/* Only a subscribed client wants to come back by itself: nobody else
 * dispatches. */
static void retry_timer_set(ukey_client *c, bool on)
{
	struct itimerspec its = {0};

	if (on) {
		its.it_value.tv_nsec = RECONNECT_INTERVAL_MS * 1000000L;
		its.it_interval = its.it_value;
	}
	(void)timerfd_settime(c->retry_fd, 0, &its, NULL);
	if (!on)
		drain_fd(c->retry_fd);
}

static void client_disconnect(ukey_client *c)
{
	if (c->sock >= 0) {
		(void)epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, c->sock, NULL);
		close(c->sock);
	}
	c->sock = -1;
	c->subscribed = false;
	c->last_list = ukey_token_list_unref(c->last_list);
	ukey_linebuf_release(&c->in);
	if (c->event_fn)
		retry_timer_set(c, true);
}

/* Keeps an event read while waiting for a reply, and makes the caller's
 * fd readable for it. */
static void queue_event(ukey_client *c, json_object *msg)
{
	uint64_t one = 1;
	ssize_t n;

	json_object_array_add(c->queued, msg);
	/* Cannot fail short of an overflow at 2^64 - 1 writes. */
	n = write(c->queued_fd, &one, sizeof(one));
	(void)n;
}

static enum ukey_error client_wait(ukey_client *c, short events, int64_t deadline)
{
	struct pollfd p = {.fd = c->sock, .events = events};

	for (;;) {
		int r = poll(&p, 1, poll_timeout(deadline));
		if (r > 0)
			return UKEY_OK;
		if (r == 0)
			return UKEY_E_TIMEOUT;
		if (errno != EINTR)
			return UKEY_E_DISCONNECTED;
	}
}

/* *ret_sent (may be NULL) says how much went out before a failure. */
static enum ukey_error client_send(ukey_client *c, const char *buf, size_t len, int64_t deadline,
				   size_t *ret_sent)
{
	if (ret_sent)
		*ret_sent = 0;
	while (len > 0) {
		ssize_t n = send(c->sock, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			enum ukey_error e;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return UKEY_E_DISCONNECTED;
			e = client_wait(c, POLLOUT, deadline);
			if (e != UKEY_OK)
				return e;
			continue;
		}
		buf += n;
		len -= (size_t)n;
		if (ret_sent)
			*ret_sent += (size_t)n;
	}
	return UKEY_OK;
}

/* Whether ukeyd has closed this connection while it was not in use (it
 * lets idle connections go): the socket reads as end of file. */
static bool client_was_let_go(ukey_client *c)
{
	struct pollfd p = {.fd = c->sock, .events = POLLIN};
	char byte;

	if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
		return false;
	return recv(c->sock, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* Reads the next complete message from the daemon. */
static enum ukey_error client_recv(ukey_client *c, json_object **ret_msg, int64_t deadline)
{
	for (;;) {
		char *line;
		size_t len;
		long n;

		enum ukey_error e;

		if (ukey_linebuf_next(&c->in, &line, &len) > 0)
			return ukey_msg_parse(line, len, ret_msg) == 0 ? UKEY_OK : UKEY_E_PROTOCOL;
		/* Wait first: right after a request, a read would only say EAGAIN. */
		e = client_wait(c, POLLIN, deadline);
		if (e != UKEY_OK)
			return e;
		n = ukey_linebuf_fill(&c->in, c->sock);
		if (n == -EAGAIN)
			continue;
		if (n == -EMSGSIZE)
			return UKEY_E_PROTOCOL;
		if (n <= 0)
			return UKEY_E_DISCONNECTED;
	}
}

static enum ukey_error error_from_wire(json_object *err)
{
	static const struct {
		const char *code;
		enum ukey_error err;
	} map[] = {
		{UKEY_WIRE_NOT_FOUND, UKEY_E_NOT_FOUND},
		{UKEY_WIRE_VERSION_UNSUPPORTED, UKEY_E_VERSION},
		{UKEY_WIRE_INVALID_JSON, UKEY_E_REFUSED},
		{UKEY_WIRE_INVALID_REQUEST, UKEY_E_REFUSED},
		{UKEY_WIRE_UNKNOWN_METHOD, UKEY_E_REFUSED},
		{UKEY_WIRE_HANDSHAKE_REQUIRED, UKEY_E_REFUSED},
		{UKEY_WIRE_MESSAGE_TOO_LARGE, UKEY_E_REFUSED},
		{UKEY_WIRE_PIN_INCORRECT, UKEY_E_PIN_INCORRECT},
		{UKEY_WIRE_PIN_LOCKED, UKEY_E_PIN_LOCKED},
		{UKEY_WIRE_PIN_POLICY, UKEY_E_PIN_POLICY},
		{UKEY_WIRE_LOCKOUT_GUARD, UKEY_E_LOCKOUT_GUARD},
		{UKEY_WIRE_PERMISSION_DENIED, UKEY_E_PERMISSION},
		{UKEY_WIRE_TOKEN_REMOVED, UKEY_E_TOKEN_REMOVED},
		{UKEY_WIRE_TOKEN_ERROR, UKEY_E_TOKEN},
		{UKEY_WIRE_BUSY, UKEY_E_BUSY},
		{UKEY_WIRE_AUDIT_UNAVAILABLE, UKEY_E_AUDIT},
		{UKEY_WIRE_RETRY_LATER, UKEY_E_RETRY_LATER},
	};
	json_object *code;

	if (json_object_object_get_ex(err, "code", &code)) {
		const char *s = json_object_get_string(code);
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			if (streq_ptr(s, map[i].code))
				return map[i].err;
	}
	return UKEY_E_DAEMON;
}

/*
 * Sorts one message read while a request waits (taken). Events carry no
 * id: they are queued for ukey_client_dispatch(). A reply with another
 * id is stale and dropped. The reply to id (or an error with a null id:
 * the daemon refused the connection or the line itself, e.g. "busy")
 * sets *ret_error and *ret_result and returns true.
 */
static bool take_reply(ukey_client *c, json_object *msg, int64_t id, enum ukey_error *ret_error,
		       json_object **ret_result)
{
	json_object *v, *err, *result;
	bool answered = false;

	if (!json_object_object_get_ex(msg, "id", &v)) {
		if (c->event_fn && json_object_object_get_ex(msg, "event", NULL)) {
			queue_event(c, msg);
			return false;
		}
	} else if (ret_error && json_object_is_type(v, json_type_int) &&
		   json_object_get_int64(v) == id) {
		answered = true;
		if (json_object_object_get_ex(msg, "error", &err)) {
			*ret_error = error_from_wire(err);
			if (json_object_object_get_ex(err, "reason", &v) &&
			    json_object_is_type(v, json_type_string))
				c->error_reason = strdup(json_object_get_string(v));
			if (json_object_object_get_ex(err, "tries_left", &v) &&
			    json_object_is_type(v, json_type_int) &&
			    json_object_get_int64(v) >= 0 && json_object_get_int64(v) <= 255)
				c->error_tries_left = (int)json_object_get_int64(v);
			if (json_object_object_get_ex(err, "retry_after", &v) &&
			    json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
				c->retry_after = (unsigned)(json_object_get_int64(v) > 86400
								    ? 86400
								    : json_object_get_int64(v));
		} else if (json_object_object_get_ex(msg, "result", &result)) {
			*ret_result = json_object_get(result);
		} else {
			*ret_error = UKEY_E_PROTOCOL;
		}
	} else if (ret_error && !v && json_object_object_get_ex(msg, "error", &err)) {
		/* Not an answer to a request: ukeyd refused the connection
		 * ("busy") or the line, and hangs up. */
		answered = true;
		*ret_error = error_from_wire(err);
		client_disconnect(c);
	}
	json_object_put(msg);
	return answered;
}

static enum ukey_error client_connect(ukey_client *c);

/* Makes a request's params once the connection it goes out on is known
 * (*ret_params NULL: none), for params that hold on one connection only. */
typedef enum ukey_error (*params_builder)(ukey_client *c, json_object **ret_params);

/* The request's line (malloc'ed), or NULL when out of memory. Takes
 * ownership of params. */
static char *request_line(int64_t id, const char *method, json_object *params, size_t *ret_len)
{
	json_object *req = json_object_new_object();
	char *line;

	if (!req) {
		json_object_put(params);
		return NULL;
	}
	json_object_object_add(req, "id", json_object_new_int64(id));
	json_object_object_add(req, "method", json_object_new_string(method));
	if (params)
		json_object_object_add(req, "params", params);
	line = ukey_msg_format(req, ret_len);
	/* PINs in the request: wiped from every copy json-c made. */
	ukey_json_wipe_pins(req);
	json_object_put(req);
	return line;
}

/* Connects again when ukeyd let the connection go while it was idle
 * (not for a subscribed client: ukey_client_dispatch() tells the
 * application, and subscribes again). */
static enum ukey_error client_take_back(ukey_client *c)
{
	if (c->sock < 0 || c->subscribed || !client_was_let_go(c))
		return UKEY_OK;
	client_disconnect(c);
	return client_connect(c);
}

/*
 * Sends one request and waits for the reply with its id. Takes ownership
 * of params; with build, the params are made by it instead, once the
 * connection the request goes out on is known, and made again when it
 * goes out on another one. On success *ret_result holds a reference to
 * the result. A transport or protocol failure closes the connection for
 * good: after it the stream can no longer be trusted to be in step. A
 * connection ukeyd let go while it was idle is made again first.
 */
static enum ukey_error client_request(ukey_client *c, const char *method, json_object *params,
				      params_builder build, json_object **ret_result)
{
	json_object *msg = NULL;
	_cleanup_free_ char *line = NULL;
	bool hello = strcmp(method, "hello") == 0;
	char *line_in;
	enum ukey_error e = UKEY_OK;
	int64_t id, deadline;
	size_t len = 0, len_in, sent;

	if (!hello)
		e = client_take_back(c);
	if (e == UKEY_OK && c->sock < 0)
		e = UKEY_E_DISCONNECTED;
	if (e == UKEY_OK && build)
		e = build(c, &params);
	if (e != UKEY_OK) {
		json_object_put(params);
		return e;
	}
	deadline = c->timeout_ms ? now_ms() + c->timeout_ms : -1;
	id = ++c->next_id;
	line = request_line(id, method, params, &len);
	if (!line)
		return UKEY_E_NO_MEMORY;

	free(c->error_reason);
	c->error_reason = NULL;
	c->error_tries_left = -1;
	c->retry_after = 0;
	e = client_send(c, line, len, deadline, &sent);
	if (e == UKEY_E_DISCONNECTED && sent == 0 && !hello && !c->subscribed) {
		/* Let go between the check above and the send: nothing of the
		 * request went out, so it is sent once more on a new connection,
		 * with params made anew for it. */
		client_disconnect(c);
		e = client_connect(c);
		if (e == UKEY_OK && build) {
			OPENSSL_cleanse(line, len);
			free(line);
			line = NULL;
			params = NULL;
			e = build(c, &params);
			if (e == UKEY_OK && !(line = request_line(id, method, params, &len)))
				e = UKEY_E_NO_MEMORY;
		}
		if (e == UKEY_OK)
			e = client_send(c, line, len, deadline, &sent);
	}
	if (line)
		OPENSSL_cleanse(line, len);
	if (e == UKEY_E_DISCONNECTED && c->sock >= 0) {
		/* Refused at the door: ukeyd said why ("busy", with a null id)
		 * and hung up before the request was taken. */
		while (client_recv(c, &msg, now_ms()) == UKEY_OK)
			if (take_reply(c, msg, id, &e, ret_result))
				break;
	}
	while (e == UKEY_OK) {
		e = client_recv(c, &msg, deadline);
		if (e != UKEY_OK)
			break;
		if (!take_reply(c, msg, id, &e, ret_result))
			continue;
		/* Lines read along with the reply wait in the buffer, where the
		 * caller's poll cannot see them: queue the events among them. */
		while (e != UKEY_E_PROTOCOL && ukey_linebuf_next(&c->in, &line_in, &len_in) > 0)
			if (ukey_msg_parse(line_in, len_in, &msg) == 0)
				(void)take_reply(c, msg, -1, NULL, NULL);
		if (e == UKEY_E_PROTOCOL)
			client_disconnect(c);
		return e;
	}
	if (e == UKEY_E_PROTOCOL || e == UKEY_E_DISCONNECTED || e == UKEY_E_TIMEOUT)
		client_disconnect(c);
	return e;
}

static enum ukey_error client_call(ukey_client *c, const char *method, json_object *params,
				   json_object **ret_result)
{
	return client_request(c, method, params, NULL, ret_result);
}

/* A local stream connect completes at once, unless ukeyd's backlog is
 * full (a flood of connects, or ukeyd busy): then it waits its turn, up
 * to timeout_ms (0: for ever), as the kernel queues it, instead of
 * failing as a non-blocking one would. */
static int connect_unix(const char *path, unsigned timeout_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	int fd, flags;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Connects to c->socket_path and completes the handshake. */
static enum ukey_error client_connect(ukey_client *c)
{
	json_object *params, *result = NULL, *v;
	enum ukey_error e;

	ukey_linebuf_init(&c->in, UKEY_MAX_REPLY_SIZE, false);
	c->sock = connect_unix(c->socket_path, c->timeout_ms);
	if (c->sock == -EAGAIN || c->sock == -EINPROGRESS) {
		c->sock = -1;
		return UKEY_E_BUSY; /* waited timeout_ms in ukeyd's backlog */
	}
	if (c->sock < 0) {
		c->sock = -1;
		return UKEY_E_UNREACHABLE;
	}
	params = json_object_new_object();
	if (!params) {
		client_disconnect(c);
		return UKEY_E_NO_MEMORY;
	}
	json_object_object_add(params, "version", json_object_new_int(UKEY_PROTOCOL_VERSION));
	json_object_object_add(params, "client", json_object_new_string("libukey " UKEY_VERSION));
	e = client_call(c, "hello", params, &result);
	if (e == UKEY_OK) {
		free(c->daemon_version);
		c->daemon_version = NULL;
		if (!json_object_object_get_ex(result, "version", &v) ||
		    json_object_get_int(v) != UKEY_PROTOCOL_VERSION)
			e = UKEY_E_VERSION;
		else if (json_object_object_get_ex(result, "daemon", &v) &&
			 !(c->daemon_version = strdup(json_object_get_string(v))))
			e = UKEY_E_NO_MEMORY;
	}
	json_object_put(result);
	if (e == UKEY_OK) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = c->sock};
		if (epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->sock, &ev) < 0)
			e = UKEY_E_NO_MEMORY;
	}
	if (e != UKEY_OK) {
		/* Connected, then hung up on before the handshake: ukeyd runs
		 * and refused this connection (a flood of them, or stopping). */
		client_disconnect(c);
		return e == UKEY_E_DISCONNECTED ? UKEY_E_BUSY : e;
	}
	retry_timer_set(c, false);
	return UKEY_OK;
}

/* The fd the caller polls, with its two helpers. */
static int client_open_fds(ukey_client *c)
{
	struct epoll_event ev = {.events = EPOLLIN};

	c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	c->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	c->queued_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->epoll_fd < 0 || c->retry_fd < 0 || c->queued_fd < 0)
		return -errno;
	ev.data.fd = c->retry_fd;
	if (epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->retry_fd, &ev) < 0)
		return -errno;
	ev.data.fd = c->queued_fd;
	if (epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->queued_fd, &ev) < 0)
		return -errno;
	return 0;
}

UKEY_EXPORT enum ukey_error ukey_client_new(const char *socket_path, ukey_client **ret_client)
{
	ukey_client *c;
	enum ukey_error e;

	if (!ret_client)
		return UKEY_E_INVALID_ARGUMENT;
	if (!socket_path || !*socket_path)
		socket_path = secure_getenv("UKEY_SOCKET");
	if (!socket_path || !*socket_path)
		socket_path = UKEY_DEFAULT_SOCKET;

	c = calloc(1, sizeof(*c));
	if (!c)
		return UKEY_E_NO_MEMORY;
	c->refcount = 1;
	c->error_tries_left = -1;
	c->sock = c->epoll_fd = c->retry_fd = c->queued_fd = -1;
	c->timeout_ms = DEFAULT_TIMEOUT_MS;
	c->socket_path = strdup(socket_path);
	c->queued = json_object_new_array();
	if (!c->socket_path || !c->queued || client_open_fds(c) < 0) {
		ukey_client_unref(c);
		return UKEY_E_NO_MEMORY;
	}
	e = client_connect(c);
	if (e != UKEY_OK) {
		ukey_client_unref(c);
		return e;
	}
	*ret_client = c;
	return UKEY_OK;
}

UKEY_EXPORT ukey_client *ukey_client_ref(ukey_client *c)
{
	if (c)
		c->refcount++;
	return c;
}

UKEY_EXPORT ukey_client *ukey_client_unref(ukey_client *c)
{
	if (!c || --c->refcount > 0)
		return NULL;
	c->event_fn = NULL; /* nothing to come back for */
	client_disconnect(c);
	if (c->epoll_fd >= 0)
		close(c->epoll_fd);
	if (c->retry_fd >= 0)
		close(c->retry_fd);
	if (c->queued_fd >= 0)
		close(c->queued_fd);
	free(c->daemon_version);
	free(c->error_reason);
	free(c->socket_path);
	json_object_put(c->queued);
	ukey_token_list_unref(c->last_list);
	free(c);
	return NULL;
}

UKEY_EXPORT void ukey_client_set_timeout(ukey_client *c, unsigned timeout_ms)
{
	if (c)
		c->timeout_ms = timeout_ms;
}

UKEY_EXPORT const char *ukey_client_get_daemon_version(ukey_client *c)
{
	return c && c->daemon_version ? c->daemon_version : "";
}

/* A list request's params: the generation of the list held, which ukeyd
 * answers with "unchanged" while it is current. Made once the connection
 * is known: a list is held only for the connection that delivered it. */
static enum ukey_error list_params(ukey_client *c, json_object **ret_params)
{
	json_object *p;

	*ret_params = NULL;
	if (!c->last_list)
		return UKEY_OK;
	p = json_object_new_object();
	if (!p)
		return UKEY_E_NO_MEMORY;
	json_object_object_add(p, "generation", json_object_new_int64(c->last_generation));
	*ret_params = p;
	return UKEY_OK;
}

/* One list request. "unchanged" for a list not held (none, or another
 * generation) leaves *ret_list NULL. */
static enum ukey_error list_request(ukey_client *c, ukey_token_list **ret_list)
{
	json_object *result = NULL, *tokens, *v;
	ukey_token_list *list = NULL;
	int64_t generation = -1;
	bool scanning, unchanged;
	enum ukey_error e;

	e = client_request(c, "list", NULL, list_params, &result);
	if (e != UKEY_OK)
		return e;
	if (json_object_object_get_ex(result, "generation", &v) &&
	    json_object_is_type(v, json_type_int))
		generation = json_object_get_int64(v);
	scanning = json_object_object_get_ex(result, "scanning", &v) && json_object_get_boolean(v);
	unchanged =
		json_object_object_get_ex(result, "unchanged", &v) && json_object_get_boolean(v);
	if (unchanged && c->last_list && generation == c->last_generation)
		list = ukey_token_list_ref(c->last_list);
	else if (json_object_object_get_ex(result, "tokens", &tokens))
		e = ukey_token_list_new_from_json(tokens, scanning, &list);
	else if (!unchanged)
		e = UKEY_E_PROTOCOL;
	json_object_put(result);
	if (e != UKEY_OK || !list)
		return e;
	/* Only a daemon that numbers its lists can say "unchanged". */
	if (list != c->last_list && generation >= 0) {
		ukey_token_list_unref(c->last_list);
		c->last_list = ukey_token_list_ref(list);
		c->last_generation = generation;
	}
	*ret_list = list;
	return UKEY_OK;
}

UKEY_EXPORT enum ukey_error ukey_client_list_tokens(ukey_client *c, ukey_token_list **ret_list)
{
	ukey_token_list *list = NULL;
	enum ukey_error e;

	if (!c || !ret_list)
		return UKEY_E_INVALID_ARGUMENT;
	e = list_request(c, &list);
	if (e == UKEY_OK && !list) {
		/* "unchanged", but not of a list held here: asked once more,
		 * without a generation, for the whole list. */
		c->last_list = ukey_token_list_unref(c->last_list);
		e = list_request(c, &list);
		if (e == UKEY_OK && !list)
			e = UKEY_E_PROTOCOL;
	}
	if (e != UKEY_OK)
		return e;
	*ret_list = list;
	return UKEY_OK;
}

/* A "get" request (params taken) and the token snapshot it answers. */
static enum ukey_error call_get(ukey_client *c, json_object *params, ukey_token **ret_token)
{
	json_object *result = NULL, *tok;
	enum ukey_error e;
	ukey_token *t = NULL;

	e = client_call(c, "get", params, &result);
	if (e != UKEY_OK)
		return e;
	if (json_object_object_get_ex(result, "token", &tok))
		t = ukey_token_new_from_json(tok);
	json_object_put(result);
	if (!t)
		return UKEY_E_PROTOCOL;
	*ret_token = t;
	return UKEY_OK;
}

UKEY_EXPORT enum ukey_error ukey_client_get_token(ukey_client *c, const char *serial,
						  ukey_token **ret_token)
{
	json_object *params;

	if (!c || !serial || !*serial || !ret_token)
		return UKEY_E_INVALID_ARGUMENT;
	params = json_object_new_object();
	if (!params)
		return UKEY_E_NO_MEMORY;
	json_object_object_add(params, "serial", json_object_new_string(serial));
	return call_get(c, params, ret_token);
}

static json_object *pin_params(const char *serial, unsigned flags);

UKEY_EXPORT enum ukey_error ukey_client_get_token_with_pin(ukey_client *c, const char *serial,
							   const char *pin, unsigned flags,
							   ukey_token **ret_token)
{
	json_object *params;

	if (!c || !serial || !*serial || !pin || !ret_token)
		return UKEY_E_INVALID_ARGUMENT;
	params = pin_params(serial, flags);
	if (!params)
		return UKEY_E_NO_MEMORY;
	json_object_object_add(params, "pin", json_object_new_string(pin));
	return call_get(c, params, ret_token);
}

UKEY_EXPORT enum ukey_error ukey_client_refresh(ukey_client *c)
{
	json_object *result = NULL;
	enum ukey_error e;

	if (!c)
		return UKEY_E_INVALID_ARGUMENT;
	e = client_call(c, "refresh", NULL, &result);
	json_object_put(result);
	return e;
}

UKEY_EXPORT const char *ukey_client_get_error_reason(ukey_client *c)
{
	return c ? c->error_reason : NULL;
}

UKEY_EXPORT int ukey_client_get_error_tries_left(ukey_client *c)
{
	return c ? c->error_tries_left : -1;
}

UKEY_EXPORT unsigned ukey_client_get_retry_after(ukey_client *c)
{
	return c ? c->retry_after : 0;
}

static json_object *pin_params(const char *serial, unsigned flags)
{
	json_object *p = json_object_new_object();

	if (!p)
		return NULL;
	json_object_object_add(p, "serial", json_object_new_string(serial));
	if (flags & UKEY_PIN_FORCE)
		json_object_object_add(p, "force", json_object_new_boolean(true));
	return p;
}

/* Runs a PIN request; params (taken) already hold the PINs. */
static enum ukey_error pin_call(ukey_client *c, const char *method, json_object *params,
				json_object **ret_result)
{
	json_object *result = NULL;
	enum ukey_error e;

	if (!params)
		return UKEY_E_NO_MEMORY;
	e = client_call(c, method, params, &result);
	if (e == UKEY_OK && ret_result)
		*ret_result = result;
	else
		json_object_put(result);
	return e;
}

UKEY_EXPORT enum ukey_error ukey_client_change_pin(ukey_client *c, const char *serial,
						   const char *old_pin, const char *new_pin,
						   unsigned flags)
{
	json_object *p;

	if (!c || !serial || !*serial || !old_pin || !new_pin)
		return UKEY_E_INVALID_ARGUMENT;
	p = pin_params(serial, flags);
	if (p) {
		json_object_object_add(p, "old_pin", json_object_new_string(old_pin));
		json_object_object_add(p, "new_pin", json_object_new_string(new_pin));
	}
	return pin_call(c, "pin_change", p, NULL);
}

UKEY_EXPORT enum ukey_error ukey_client_unlock_pin(ukey_client *c, const char *serial,
						   const char *so_pin, const char *new_pin,
						   unsigned flags)
{
	json_object *p;

	if (!c || !serial || !*serial || !so_pin)
		return UKEY_E_INVALID_ARGUMENT;
	p = pin_params(serial, flags);
	if (p) {
		json_object_object_add(p, "so_pin", json_object_new_string(so_pin));
		if (new_pin)
			json_object_object_add(p, "new_pin", json_object_new_string(new_pin));
	}
	return pin_call(c, "pin_unlock", p, NULL);
}

UKEY_EXPORT enum ukey_error ukey_client_probe_default_pin(ukey_client *c, const char *serial,
							  bool *ret_is_default)
{
	json_object *result = NULL;
	enum ukey_error e;

	if (!c || !serial || !*serial || !ret_is_default)
		return UKEY_E_INVALID_ARGUMENT;
	e = pin_call(c, "pin_probe_default", pin_params(serial, 0), &result);
	json_object_put(result);
	if (e == UKEY_OK)
		*ret_is_default = true;
	return e;
}

/* One page: its entries (a reference), the seq after it, whether more. */
static enum ukey_error audit_page(ukey_client *c, int64_t since, uint64_t after, unsigned limit,
				  json_object **ret_entries, uint64_t *ret_next, bool *ret_more)
{
	json_object *params, *result = NULL, *entries, *next, *more;
	enum ukey_error e;

	params = json_object_new_object();
	if (!params)
		return UKEY_E_NO_MEMORY;
	json_object_object_add(params, "since", json_object_new_int64(since));
	if (after > 0)
		json_object_object_add(params, "after", json_object_new_int64((int64_t)after));
	json_object_object_add(params, "limit", json_object_new_int64(limit));
	e = client_call(c, "audit", params, &result);
	if (e != UKEY_OK)
		return e;
	if (!json_object_object_get_ex(result, "entries", &entries) ||
	    !json_object_is_type(entries, json_type_array) ||
	    !json_object_object_get_ex(result, "next", &next) ||
	    !json_object_is_type(next, json_type_int) ||
	    !json_object_object_get_ex(result, "more", &more) ||
	    !json_object_is_type(more, json_type_boolean) ||
	    (json_object_get_boolean(more) && (uint64_t)json_object_get_int64(next) <= after)) {
		json_object_put(result);
		return UKEY_E_PROTOCOL;
	}
	*ret_entries = json_object_get(entries);
	*ret_next = (uint64_t)json_object_get_int64(next);
	*ret_more = json_object_get_boolean(more);
	json_object_put(result);
	return UKEY_OK;
}

static char *json_text(json_object *o)
{
	return strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								JSON_C_TO_STRING_NOSLASHESCAPE));
}

UKEY_EXPORT enum ukey_error ukey_client_get_audit_page(ukey_client *c, int64_t since,
						       uint64_t after, unsigned limit,
						       char **ret_json, uint64_t *ret_next,
						       bool *ret_more)
{
	json_object *entries = NULL;
	enum ukey_error e;
	uint64_t next;
	bool more;
	char *text;

	if (!c || !ret_json || !ret_next || !ret_more || limit < 1 || limit > 1000)
		return UKEY_E_INVALID_ARGUMENT;
	e = audit_page(c, since, after, limit, &entries, &next, &more);
	if (e != UKEY_OK)
		return e;
	text = json_text(entries);
	json_object_put(entries);
	if (!text)
		return UKEY_E_NO_MEMORY;
	*ret_json = text;
	*ret_next = next;
	*ret_more = more;
	return UKEY_OK;
}

UKEY_EXPORT enum ukey_error ukey_client_get_audit(ukey_client *c, int64_t since, char **ret_json)
{
	json_object *all, *entries = NULL;
	enum ukey_error e = UKEY_OK;
	uint64_t after = 0;
	bool more = true;
	char *text;

	if (!c || !ret_json)
		return UKEY_E_INVALID_ARGUMENT;
	all = json_object_new_array();
	if (!all)
		return UKEY_E_NO_MEMORY;
	while (e == UKEY_OK && more) {
		e = audit_page(c, since, after, 1000, &entries, &after, &more);
		for (size_t i = 0; e == UKEY_OK && i < json_object_array_length(entries); i++)
			json_object_array_add(
				all, json_object_get(json_object_array_get_idx(entries, i)));
		json_object_put(entries);
		entries = NULL;
	}
	text = e == UKEY_OK ? json_text(all) : NULL;
	json_object_put(all);
	if (e == UKEY_OK && !text)
		e = UKEY_E_NO_MEMORY;
	if (e == UKEY_OK)
		*ret_json = text;
	return e;
}

UKEY_EXPORT enum ukey_error ukey_client_get_seal_picture(ukey_client *c, const char *serial,
							 size_t index, uint8_t **ret_data,
							 size_t *ret_len)
{
	json_object *params, *result = NULL, *data;
	enum ukey_error e;
	const char *b64;
	uint8_t *out;
	size_t len, pad = 0;
	int n;

	if (!c || !serial || !*serial || !ret_data || !ret_len)
		return UKEY_E_INVALID_ARGUMENT;
	params = json_object_new_object();
	if (!params)
		return UKEY_E_NO_MEMORY;
	json_object_object_add(params, "serial", json_object_new_string(serial));
	json_object_object_add(params, "index", json_object_new_int64((int64_t)index));
	e = client_call(c, "seal_picture", params, &result);
	if (e != UKEY_OK)
		return e;
	if (!json_object_object_get_ex(result, "data", &data) ||
	    !json_object_is_type(data, json_type_string) ||
	    (len = (size_t)json_object_get_string_len(data)) % 4 != 0) {
		json_object_put(result);
		return UKEY_E_PROTOCOL;
	}
	b64 = json_object_get_string(data);
	/* EVP_DecodeBlock counts the padding as zero bytes: take them off. */
	while (pad < 2 && len > pad && b64[len - 1 - pad] == '=')
		pad++;
	out = malloc(len / 4 * 3 + 1);
	n = out ? EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len) : -1;
	json_object_put(result);
	if (n < 0 || (size_t)n < pad) {
		free(out);
		return out ? UKEY_E_PROTOCOL : UKEY_E_NO_MEMORY;
	}
	*ret_data = out;
	*ret_len = (size_t)n - pad;
	return UKEY_OK;
}

enum ukey_error ukey_client_call(ukey_client *c, const char *method, json_object *params,
				 json_object **ret_result)
{
	return client_call(c, method, params, ret_result);
}

/* ------------------------------------------------------------------ events */

static void deliver(ukey_client *c, json_object *msg)
{
	json_object *v, *tok;
	struct ukey_event ev = {0};

	if (!json_object_object_get_ex(msg, "event", &v) ||
	    !(ev.type = ukey_wire_event_parse(json_object_get_string(v))))
		return; /* an event of a newer ukeyd: ignored */
	ev.serial = json_object_object_get_ex(msg, "serial", &v) ? json_object_get_string(v) : "";
	if (json_object_object_get_ex(msg, "token", &tok))
		ev.token = ukey_token_new_from_json(tok);
	ev.json = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	c->event_fn(c, &ev, c->event_userdata);
	ukey_token_unref(ev.token);
}

static void deliver_simple(ukey_client *c, enum ukey_event_type type, const char *json)
{
	struct ukey_event ev = {.type = type, .serial = "", .json = json};

	c->event_fn(c, &ev, c->event_userdata);
}

static enum ukey_error subscribe(ukey_client *c)
{
	json_object *result = NULL;
	enum ukey_error e = client_call(c, "subscribe", NULL, &result);

	json_object_put(result);
	if (e == UKEY_OK)
		c->subscribed = true;
	return e;
}

UKEY_EXPORT enum ukey_error ukey_client_subscribe(ukey_client *c, ukey_event_fn fn, void *userdata)
{
	ukey_event_fn old_fn;
	void *old_userdata;
	enum ukey_error e;

	if (!c || !fn)
		return UKEY_E_INVALID_ARGUMENT;
	old_fn = c->event_fn;
	old_userdata = c->event_userdata;
	/* Set first: events may come right behind the reply. */
	c->event_fn = fn;
	c->event_userdata = userdata;
	e = subscribe(c);
	if (e != UKEY_OK) {
		/* As it was: a client never subscribed is not woken to
		 * reconnect either. */
		c->event_fn = old_fn;
		c->event_userdata = old_userdata;
		if (!old_fn)
			retry_timer_set(c, false);
	}
	return e;
}

UKEY_EXPORT int ukey_client_get_fd(ukey_client *c)
{
	return c ? c->epoll_fd : -1;
}

/* Tells the application once per loss, whether the loss was seen here or
 * by a request that failed in between. */
static void announce_disconnect(ukey_client *c)
{
	client_disconnect(c);
	if (c->told_disconnected)
		return;
	c->told_disconnected = true;
	deliver_simple(c, UKEY_EVENT_DISCONNECTED, "{\"event\":\"disconnected\"}");
}

UKEY_EXPORT enum ukey_error ukey_client_dispatch(ukey_client *c)
{
	if (!c || !c->event_fn)
		return UKEY_E_INVALID_ARGUMENT;
	/* Whatever woke the caller is handled below; a wake-up for events
	 * queued meanwhile by a callback's own request comes again. */
	drain_fd(c->retry_fd);
	drain_fd(c->queued_fd);
	if (c->sock < 0) {
		announce_disconnect(c);
		if (client_connect(c) != UKEY_OK || subscribe(c) != UKEY_OK) {
			client_disconnect(c);
			return UKEY_E_DISCONNECTED;
		}
		c->told_disconnected = false;
		deliver_simple(c, UKEY_EVENT_RECONNECTED, "{\"event\":\"reconnected\"}");
	}
	/* A callback may call ukeyd itself; events read during that call are
	 * queued, so the queue is drained again after every delivery. */
	for (;;) {
		json_object *msg = NULL;
		char *line;
		size_t len;
		long n;

		if (json_object_array_length(c->queued) > 0) {
			msg = json_object_get(json_object_array_get_idx(c->queued, 0));
			json_object_array_del_idx(c->queued, 0, 1);
			deliver(c, msg);
			json_object_put(msg);
			continue;
		}
		drain_fd(c->queued_fd);
		if (c->sock < 0)
			break; /* lost during a callback's request */
		if (ukey_linebuf_next(&c->in, &line, &len) > 0) {
			if (ukey_msg_parse(line, len, &msg) == 0) {
				deliver(c, msg);
				json_object_put(msg);
			}
			continue;
		}
		n = ukey_linebuf_fill(&c->in, c->sock);
		if (n == -EAGAIN)
			return UKEY_OK;
		if (n <= 0)
			break; /* end of file or an error: ukeyd stopped */
	}
	announce_disconnect(c);
	return UKEY_E_DISCONNECTED;
}

UKEY_EXPORT enum ukey_event_type ukey_event_get_type(const ukey_event *ev)
{
	return ev ? ev->type : 0;
}

UKEY_EXPORT const char *ukey_event_get_serial(const ukey_event *ev)
{
	return ev && ev->serial ? ev->serial : "";
}

UKEY_EXPORT ukey_token *ukey_event_get_token(const ukey_event *ev)
{
	return ev ? ev->token : NULL;
}

UKEY_EXPORT const char *ukey_event_get_json(const ukey_event *ev)
{
	return ev && ev->json ? ev->json : "";
}
