/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

#define NOTIFY_NAME "org.freedesktop.Notifications"
#define NOTIFY_PATH "/org/freedesktop/Notifications"
/* One agent per session bus. */
#define AGENT_NAME "org.ukey.Notify"
/* A notification server answers at once; never hang the agent on one. */
#define CALL_TIMEOUT_USEC (10 * 1000 * 1000ULL)

struct desktop_bus {
	sd_bus *bus;
	bool caps_known;
	bool markup; /* the server reads markup in bodies */
};

int desktop_bus_open(struct desktop_bus **ret)
{
	struct desktop_bus *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return -ENOMEM;
	r = sd_bus_open_user(&b->bus);
	if (r >= 0)
		r = sd_bus_request_name(b->bus, AGENT_NAME, 0);
	if (r < 0) {
		desktop_bus_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

void desktop_bus_free(struct desktop_bus *b)
{
	if (!b)
		return;
	sd_bus_flush_close_unref(b->bus);
	free(b);
}

sd_bus *desktop_bus_get(struct desktop_bus *b)
{
	return b->bus;
}

/* Whether bodies may carry markup, asked once the server answers. Until
 * then markup is assumed: escaped text merely shows entities on a server
 * without markup, while raw text on one with markup could be read as tags. */
static void get_capabilities(struct desktop_bus *b)
{
	sd_bus_message *reply = NULL;
	const char *cap;

	if (b->caps_known)
		return;
	b->markup = true;
	if (sd_bus_call_method(b->bus, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_NAME, "GetCapabilities",
			       NULL, &reply, "") < 0)
		return;
	b->markup = false;
	if (sd_bus_message_enter_container(reply, 'a', "s") > 0) {
		while (sd_bus_message_read(reply, "s", &cap) > 0)
			b->markup |= strcmp(cap, "body-markup") == 0;
		b->caps_known = true;
	}
	sd_bus_message_unref(reply);
}

int desktop_bus_show(void *userdata, const struct notice *n, uint32_t *id)
{
	struct desktop_bus *b = userdata;
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	char *body;
	uint32_t new_id;
	int r;

	get_capabilities(b);
	body = b->markup ? notify_escape_markup(n->body) : strdup(n->body);
	if (!body)
		return -ENOMEM;
	r = sd_bus_message_new_method_call(b->bus, &m, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_NAME,
					   "Notify");
	if (r >= 0)
		r = sd_bus_message_append(m, "susssas", "ukey-notify", *id, n->icon, n->summary,
					  body, 0);
	if (r >= 0)
		r = sd_bus_message_append(m, "a{sv}", 2, "urgency", "y", (uint8_t)n->urgency,
					  "category", "s", n->category);
	if (r >= 0)
		r = sd_bus_message_append(m, "i", (int32_t)-1);
	if (r >= 0)
		r = sd_bus_call(b->bus, m, CALL_TIMEOUT_USEC, &error, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "u", &new_id);
	if (r > 0)
		*id = new_id;
	else if (r == 0)
		r = -EBADMSG;
	/* A server that went away may be another next time. */
	if (r < 0)
		b->caps_known = false;
	sd_bus_error_free(&error);
	sd_bus_message_unref(reply);
	sd_bus_message_unref(m);
	free(body);
	return r < 0 ? r : 0;
}
