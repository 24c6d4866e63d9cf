/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Decoder: a raw ring-buffer record in, a checked typed record out. */
#ifndef DECODE_H
#define DECODE_H
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpscope.h"

/* Returns the record's header when data holds a complete record of a known
 * type and the right size, NULL otherwise (reason in err). */
const struct ev_hdr *decode(const void *data, size_t len, char *err, size_t errlen);
/* The network namespace of a decoded record (every type has one); 0 for an
 * unknown type */
uint32_t ev_netns(const struct ev_hdr *h);

#endif
