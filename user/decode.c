// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "decode.h"

static const size_t sizes[EV_TYPE_MAX] = {
	[EV_STATE] = sizeof(struct ev_state),
	[EV_TW] = sizeof(struct ev_tw),
	[EV_CALL] = sizeof(struct ev_call),
	[EV_PORT] = sizeof(struct ev_port),
	[EV_LISTEN_OVF] = sizeof(struct ev_listen_ovf),
};

const struct ev_hdr *decode(const void *data, size_t len, char *err, size_t errlen)
{
	const struct ev_hdr *h = data;

	if (len < sizeof(*h)) {
		snprintf(err, errlen, "record of %zu bytes is shorter than its header", len);
		return NULL;
	}
	if (h->type == 0 || h->type >= EV_TYPE_MAX) {
		snprintf(err, errlen, "record of unknown type %u", h->type);
		return NULL;
	}
	if (h->size != sizes[h->type] || len < h->size) {
		snprintf(err, errlen, "record of type %u has %u bytes (buffer %zu), expected %zu",
			 h->type, h->size, len, sizes[h->type]);
		return NULL;
	}
	return h;
}

/* Where each type keeps the common fields */
#define COMMON_AT(T) { offsetof(T, owner), offsetof(T, t), offsetof(T, netns), offsetof(T, flags) }
static const struct {
	size_t owner, t, netns, flags;
} common_at[EV_TYPE_MAX] = {
	[EV_STATE] = COMMON_AT(struct ev_state),
	[EV_TW] = COMMON_AT(struct ev_tw),
	[EV_CALL] = COMMON_AT(struct ev_call),
	[EV_PORT] = COMMON_AT(struct ev_port),
	[EV_LISTEN_OVF] = COMMON_AT(struct ev_listen_ovf),
};

static bool known_type(const struct ev_hdr *h)
{
	return h->type != 0 && h->type < EV_TYPE_MAX;
}

bool ev_common(const struct ev_hdr *h, struct ev_common *c)
{
	const char *b = (const char *)h;
	uint16_t flags;

	if (!known_type(h))
		return false;
	c->owner = (const void *)(b + common_at[h->type].owner);
	c->t = (const void *)(b + common_at[h->type].t);
	c->netns = ev_netns(h);
	memcpy(&flags, b + common_at[h->type].flags, sizeof(flags));
	c->owner_known = flags & EVF_OWNER_KNOWN;
	return true;
}

uint32_t ev_netns(const struct ev_hdr *h)
{
	uint32_t netns;

	if (!known_type(h))
		return 0;
	memcpy(&netns, (const char *)h + common_at[h->type].netns, sizeof(netns));
	return netns;
}
