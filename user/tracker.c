// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "tracker.h"

const char *lost_kind_name(int k)
{
	static const char *names[LOST_KINDS] = {
		[LOST_RINGBUF] = "ringbuf_full",
		[LOST_MAP_FULL] = "map_full",
		[LOST_EVICTED] = "socket_map_evicted",
		[LOST_RECURSION] = "recursion_miss",
		[LOST_UNDECODABLE] = "undecodable",
		[LOST_KPROBE_BUSY] = "kprobe_skipped",
		[LOST_HIDDEN] = "hidden_by_kernel",
	};
	return k >= 0 && k < LOST_KINDS ? names[k] : "?";
}

void tracker_init(struct tracker *t)
{
	memset(t, 0, sizeof(*t));
}

void tracker_event(struct tracker *t, const struct ev_hdr *h)
{
	if (h->type < EV_TYPE_MAX)
		t->seen[h->type]++;
	t->seen_total++;
}

uint64_t tracker_lost_update(struct tracker *t, const uint64_t now[LOST_KINDS],
			     int (*report)(void *ctx, int kind, uint64_t delta), void *ctx)
{
	uint64_t grown = 0;

	for (int k = 0; k < LOST_KINDS; k++) {
		if (now[k] <= t->lost[k])
			continue;
		uint64_t d = now[k] - t->lost[k];

		t->lost[k] = now[k];
		t->lost_total += d;
		grown += d;
		if (report)
			report(ctx, k, d);
	}
	return grown;
}
