/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Tracker: what the run has seen so far. For trace mode: event counts by
 * type and the accounting of lost events, turned into "lost" records for
 * the sinks when a drop counter grows. */
#ifndef TRACKER_H
#define TRACKER_H
#include <stdint.h>
#include <linux/types.h>
#include "tcpscope.h"

enum lost_kind {
	LOST_RINGBUF,	  /* ring buffer full */
	LOST_MAP_FULL,	  /* a hash map (bind calls, listeners, cancels) full */
	LOST_EVICTED,	  /* per-socket LRU map evicted live entries */
	LOST_RECURSION,	  /* program skipped by the kernel's recursion guard */
	LOST_UNDECODABLE, /* a record user space could not decode */
	LOST_KPROBE_BUSY, /* a kprobe skipped while another of our programs ran */
	LOST_HIDDEN,	  /* made while PID 1 ran, on a kernel that runs no BPF then (hidden.h) */
	LOST_KINDS,
};

struct tracker {
	uint64_t seen[EV_TYPE_MAX];
	uint64_t seen_total;
	uint64_t lost[LOST_KINDS];	  /* reported so far */
	uint64_t lost_total;
	uint64_t undecodable;
};

const char *lost_kind_name(int k);
void tracker_init(struct tracker *t);
void tracker_event(struct tracker *t, const struct ev_hdr *h);
/* Compare current counter values with what was reported; for each that
 * grew, call report(kind, delta). Returns the total growth. */
uint64_t tracker_lost_update(struct tracker *t, const uint64_t now[LOST_KINDS],
			     int (*report)(void *ctx, int kind, uint64_t delta), void *ctx);

#endif
