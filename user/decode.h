/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Decoder: a raw ring-buffer record in, a checked typed record out. */
#ifndef DECODE_H
#define DECODE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpscope.h"

/* Returns the record's header when data holds a complete record of a known
 * type and the right size, NULL otherwise (reason in err). */
const struct ev_hdr *decode(const void *data, size_t len, char *err, size_t errlen);
/* What every record type has, wherever its type keeps it */
struct ev_common {
	const struct ev_owner *owner;
	const struct ev_tuple *t;
	uint32_t netns;
	bool owner_known; /* the record's EVF_OWNER_KNOWN */
};
/* The common part of a decoded record; false for an unknown type */
bool ev_common(const struct ev_hdr *h, struct ev_common *c);
/* Its network namespace alone (0 for an unknown type): the model's and
 * --netns's per-event question, one read */
uint32_t ev_netns(const struct ev_hdr *h);

#endif
