/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Unix socket clients talk to: accepting, peer credentials, framing
 * (one JSON object per line), the version handshake, request validation,
 * replies and per-client limits. What a request means is decided by the
 * request handler given to server_new().
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

struct server;
struct client;

/* The listening socket's queue of connections not yet accepted. */
#define SERVER_BACKLOG 128

/* Called for every well-formed request after the handshake. id and
 * params are borrowed (json_object_get them to keep them); params is
 * never NULL. */
typedef void (*server_request_fn)(struct client *c, json_object *id, const char *method,
				  json_object *params, void *userdata);

/* What one local user can hold of the daemon, so that no user can stall,
 * starve or exhaust it for the others (ukeyd(8), LIMITS). */
struct server_limits {
	unsigned max_clients;	      /* connections in all */
	unsigned reserved_clients;    /* of those, kept for root and the admin group */
	unsigned max_clients_per_uid; /* one user's connections (root is not counted) */
	unsigned connect_rate;	      /* one user's new connections a second (twice that at
				       * once); 0: no limit. Not root */
	unsigned idle_timeout;	      /* s: a connection that neither asks nor reads */
	unsigned line_timeout;	      /* s: from a request line's first byte to its end */
	size_t max_output_per_uid;    /* bytes queued for one user's connections */
	gid_t admin_gid;	      /* with root, may use the reserve; (gid_t)-1: none */
};

/* Takes a lock beside path (path + ".lock", flock) that says this process
 * serves the socket; then checks that nothing else answers on path (a
 * daemon that predates the lock, or systemd's socket). Returns the lock's
 * fd, to keep open for the daemon's life, or -EBUSY with the pid of the
 * daemon that holds it in *ret_holder (0 when unknown), or a negative
 * errno. */
int server_lock_path(const char *path, pid_t *ret_holder);

/* Creates, binds and listens on a Unix socket at path (mode 0666: access
 * control is per request, from the peer's credentials). A stale socket
 * file is replaced: take server_lock_path() first. Returns the fd or a
 * negative errno. */
int server_listen_path(const char *path);

/* Takes ownership of listen_fd. */
int server_new(sd_event *loop, int listen_fd, const struct server_limits *limits,
	       server_request_fn fn, void *userdata, struct server **ret_server);
void server_free(struct server *s);

/* New limits (a configuration reload); connections already made stay. */
void server_set_limits(struct server *s, const struct server_limits *limits);

struct client *client_ref(struct client *c);
void client_unref(struct client *c);
/* False once the peer is gone; replies to it are then dropped. */
bool client_is_connected(const struct client *c);
const struct ucred *client_get_peer(const struct client *c);
/* The peer's program name (/proc/PID/comm at connect time). */
const char *client_get_program(const struct client *c);

/* A reply is owed: a peer that stops sending (half-close) still gets it.
 * Every client_owe() is matched by one client_paid() after the reply. */
void client_owe(struct client *c);
void client_paid(struct client *c);

/* Whether the peer had gid as its primary or a supplementary group when
 * it connected (SO_PEERGROUPS). */
bool client_has_group(const struct client *c, gid_t gid);

/* From now on the client gets events (messages without "id"). */
void client_subscribe(struct client *c);

/* Sends an event (taken) to every subscribed client. */
void server_broadcast(struct server *s, json_object *event);

/* Sends {"id":id,"result":result}; takes ownership of result. */
void client_reply(struct client *c, json_object *id, json_object *result);
/* Sends {"id":id,"error":{"code":code,"message":message}}. */
void client_reply_error(struct client *c, json_object *id, const char *code, const char *message);
/* The same, with the members of extra (taken) added to the error object. */
void client_reply_error_ext(struct client *c, json_object *id, const char *code,
			    const char *message, json_object *extra);
