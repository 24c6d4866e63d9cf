/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Early warning of ephemeral port exhaustion, from port-allocation events:
 * an allocation that examined many candidate ports (a long scan) or failed
 * is marked; several of them toward the same destination within a window
 * mean the range toward it is filling up. Fixed-size table, no allocation.
 */
#ifndef PRESSURE_H
#define PRESSURE_H
#include <stdint.h>
#include <linux/types.h>
#include "tcpscope.h"
#include "fmt.h"

#define PRESSURE_DESTS 64
#define PRESSURE_WINDOW_NS (10ULL * NSEC_PER_SEC)
#define PRESSURE_HITS 3 /* marked allocations in the window that make it "pressure" */
#define PRESSURE_SCAN_WARN 8 /* default long-scan threshold (candidates examined) */

enum pressure_mark {
	MARK_NONE,
	MARK_LONG_SCAN, /* scan >= threshold */
	MARK_FAILED,	/* EADDRNOTAVAIL / EADDRINUSE */
};

struct pressure_dest {
	uint32_t netns;
	uint16_t family, port;
	uint8_t addr[16];
	uint64_t last_ns;
	uint64_t hit_ns[PRESSURE_HITS]; /* times of the latest marked allocations */
	unsigned nhits;
};

struct pressure {
	unsigned scan_warn;
	struct pressure_dest d[PRESSURE_DESTS];
};

struct pressure_verdict {
	enum pressure_mark mark;
	unsigned recent; /* marked allocations toward this destination in the window */
};

void pressure_init(struct pressure *p, unsigned scan_warn);
/* Account one allocation (ev_port); what its line should say. */
struct pressure_verdict pressure_note(struct pressure *p, const struct ev_port *e);

#endif
