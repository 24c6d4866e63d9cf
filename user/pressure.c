// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "pressure.h"

void pressure_init(struct pressure *p, unsigned scan_warn)
{
	memset(p, 0, sizeof(*p));
	p->scan_warn = scan_warn ?: PRESSURE_SCAN_WARN;
}

/* The destination's slot; the least recently used one is recycled. */
static struct pressure_dest *dest(struct pressure *p, const struct ev_port *e)
{
	struct pressure_dest *lru = &p->d[0];
	/* bind()/listen() have no destination: one slot per netns and address */
	uint16_t port = e->op == PORT_CONNECT ? e->t.dport : 0;
	const uint8_t *addr = e->op == PORT_CONNECT ? e->t.daddr : e->t.saddr;

	for (int i = 0; i < PRESSURE_DESTS; i++) {
		struct pressure_dest *d = &p->d[i];

		if (d->last_ns && d->netns == e->netns && d->family == e->t.family &&
		    d->port == port && !memcmp(d->addr, addr, 16))
			return d;
		if (d->last_ns < lru->last_ns)
			lru = d;
	}
	memset(lru, 0, sizeof(*lru));
	lru->netns = e->netns;
	lru->family = e->t.family;
	lru->port = port;
	memcpy(lru->addr, addr, 16);
	return lru;
}

struct pressure_verdict pressure_note(struct pressure *p, const struct ev_port *e)
{
	struct pressure_verdict v = { MARK_NONE, 0 };
	uint64_t now = e->hdr.ts_ns;
	struct pressure_dest *d = dest(p, e);

	d->last_ns = now ?: 1;
	if (e->ret)
		v.mark = MARK_FAILED;
	else if ((e->flags & EVF_SCAN_KNOWN) && e->scan >= p->scan_warn)
		v.mark = MARK_LONG_SCAN;
	if (v.mark != MARK_NONE) {
		d->hit_ns[d->nhits % PRESSURE_HITS] = now;
		d->nhits++;
	}
	for (int i = 0; i < PRESSURE_HITS && i < (int)d->nhits; i++)
		if (now - d->hit_ns[i] <= PRESSURE_WINDOW_NS)
			v.recent++;
	return v;
}
