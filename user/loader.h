/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Loader: preflight checks, capability probing, skeleton lifecycle
 * (open -> configure .rodata and map sizes -> load -> attach), the ring
 * buffer, and the kernel-side drop counters. */
#ifndef LOADER_H
#define LOADER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "filter.h"
#include "ladder.h"
#include "tracker.h"

struct loader_opts {
	const struct filter *filter;
	uint64_t ringbuf_bytes; /* power of two */
	uint32_t max_sockets;	/* per-socket LRU map size */
	int verbose;
	bool no_fentry, no_kprobe; /* skip these tiers even where they work */
	bool no_state_tp; /* state transitions by tcp_set_state, as before 4.16 */
	/* called for every record in the ring buffer; < 0 stops consumption */
	int (*on_record)(void *ctx, void *data, size_t len);
	void *ctx;
};

struct loader;

/* Root/capabilities, BTF, ring buffer support. 0 or -1 with a message. */
int loader_preflight(char *err, size_t errlen);
struct loader *loader_start(const struct loader_opts *o, char *err, size_t errlen);
/* Wait up to timeout_ms, then drain every record. Returns records consumed
 * or a negative error (the record callback's, or -EINTR). */
int loader_poll(struct loader *l, int timeout_ms);
/* An fd readable when records wait (for poll() beside other fds), and
 * the drain without waiting that goes with it (as loader_poll) */
int loader_fd(const struct loader *l);
int loader_consume(struct loader *l);
/* Current values of every loss counter (enum lost_kind). */
void loader_lost(struct loader *l, uint64_t out[LOST_KINDS]);
/* Per-program recursion misses and rescues (for -v). */
void loader_report(struct loader *l, FILE *f);
/* The mechanism chosen per fact, what failed and what is unknown */
const struct ladder *loader_ladder(const struct loader *l);
void loader_stop(struct loader *l);

#endif
