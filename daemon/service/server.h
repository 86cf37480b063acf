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

/* Called for every well-formed request after the handshake. id and
 * params are borrowed (json_object_get them to keep them); params is
 * never NULL. */
typedef void (*server_request_fn)(struct client *c, json_object *id, const char *method,
				  json_object *params, void *userdata);

/* Creates, binds and listens on a Unix socket at path (mode 0666: access
 * control is per request, from the peer's credentials). A stale socket
 * file is replaced. Returns the fd or a negative errno. */
int server_listen_path(const char *path);

/* Takes ownership of listen_fd. */
int server_new(sd_event *loop, int listen_fd, unsigned max_clients, server_request_fn fn,
	       void *userdata, struct server **ret_server);
void server_free(struct server *s);

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
