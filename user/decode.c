// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
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

uint32_t ev_netns(const struct ev_hdr *h)
{
	switch (h->type) {
	case EV_STATE:
		return ((const struct ev_state *)h)->netns;
	case EV_TW:
		return ((const struct ev_tw *)h)->netns;
	case EV_CALL:
		return ((const struct ev_call *)h)->netns;
	case EV_PORT:
		return ((const struct ev_port *)h)->netns;
	case EV_LISTEN_OVF:
		return ((const struct ev_listen_ovf *)h)->netns;
	}
	return 0;
}
