// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "findings.h"
#include "fmt.h"
#include "model.h"
#include "states.h"
#include "decode.h"
#include "top_view.h"

#define MAX_GROUPS 65536 /* kept across updates; beyond, forgotten and started again */

void top_view_init(struct top_view *v, const struct ladder *ladder, unsigned scan_warn)
{
	memset(v, 0, sizeof(*v));
	v->ladder = ladder;
	keyed_init(&v->cwg, sizeof(struct top_cw), TOP_CW_KEY);
	keyed_init(&v->destg, sizeof(struct top_dest), TOP_DEST_KEY);
	pressure_init(&v->pressure, scan_warn ? scan_warn : PRESSURE_SCAN_WARN);
}

void top_view_free(struct top_view *v)
{
	keyed_free(&v->cwg);
	keyed_free(&v->destg);
	free(v->cw);
	free(v->dest);
	free(v->lis);
	free(v->detail);
	free(v->lrate);
	memset(v, 0, sizeof(*v));
}

const char *note_kind_name(enum note_kind k)
{
	static const char *const names[NOTE_KINDS] = {
		[NOTE_CONNECT_FAIL] = "connect failed", [NOTE_BIND_FAIL] = "bind failed",
		[NOTE_LONG_SCAN] = "long port scan",	[NOTE_RESET] = "reset",
		[NOTE_LISTEN_OVF] = "accept queue full", [NOTE_TW_OVF] = "TIME_WAIT overflow",
		[NOTE_LEAK] = "CLOSE_WAIT leak",	[NOTE_PORTS] = "port pressure",
	};

	return k < NOTE_KINDS ? names[k] : "?";
}

/* What every record has, wherever its type keeps it: the ends, the owner
 * (and whether it is known), the namespace. NULL for an unknown type. */
/* ---- the rings, fed as records arrive ---- */

static struct top_note *push_note(struct top_view *v, enum note_kind kind, uint64_t ts)
{
	struct top_note *n = &v->tail[v->ntail++ % TOP_TAIL];

	n->kind = kind;
	n->ts_ns = ts;
	n->has_ev = false;
	n->repeat = 1;
	n->text[0] = 0;
	v->notes[kind]++;
	return n;
}

/* The same note again: same kind and record type, process, ends and result */
static bool same_note(const struct top_note *n, enum note_kind kind, const struct ev_hdr *h)
{
	const union top_ev *a = &n->ev, *b = (const void *)h;
	struct ev_common ca, cb;

	if (!n->has_ev || n->kind != kind || a->h.type != h->type ||
	    h->ts_ns - n->ts_ns > TOP_REPEAT_NS)
		return false;
	if (h->type == EV_LISTEN_OVF)
		return a->ovf.sk == b->ovf.sk;
	if (h->type != EV_PORT && h->type != EV_CALL)
		return false;
	if (!ev_common(&a->h, &ca) || !ev_common(h, &cb))
		return false;
	return ca.owner->pid == cb.owner->pid && ca.netns == cb.netns &&
	       ca.t->dport == cb.t->dport && !memcmp(ca.t->daddr, cb.t->daddr, 16) &&
	       (h->type == EV_PORT ? a->port.ret == b->port.ret : a->call.ret == b->call.ret);
}

static void note_ev(struct top_view *v, enum note_kind kind, const struct ev_hdr *h, size_t size)
{
	struct top_note *n = v->ntail ? &v->tail[(v->ntail - 1) % TOP_TAIL] : NULL;

	/* a flood of the same failure is one line that counts, not a wall: the
	 * other notable events stay in sight (the newest note only; on a paused
	 * screen only one it does not show yet: it holds still) */
	if (n && (!v->paused || v->ntail > v->tail_mark) && same_note(n, kind, h)) {
		n->repeat++;
		n->ts_ns = h->ts_ns;
		memcpy(&n->ev, h, size);
		v->notes[kind]++;
		return;
	}
	n = push_note(v, kind, h->ts_ns);

	n->has_ev = true;
	memcpy(&n->ev, h, size);
}

/* Which records the tail shows: what an engineer on call wants to see
 * scroll by, not the 100,000 ordinary transitions a second */
void top_view_event(struct top_view *v, const struct ev_hdr *h)
{
	size_t size = h->size < sizeof(union top_ev) ? h->size : sizeof(union top_ev);

	memcpy(&v->stream[v->nstream++ % TOP_STREAM], h, size);
	switch (h->type) {
	case EV_STATE: {
		const struct ev_state *e = (const void *)h;

		if (e->new_state == TS_CLOSE &&
		    (e->old_state == TS_ESTABLISHED || e->old_state == TS_CLOSE_WAIT))
			note_ev(v, NOTE_RESET, h, size);
		break;
	}
	case EV_TW: {
		const struct ev_tw *e = (const void *)h;

		/* inferred ones wait for the kernel's counter (tw_ovf_notes) */
		if (e->kind == TW_OVERFLOW && !(e->flags & EVF_INFERRED))
			note_ev(v, NOTE_TW_OVF, h, size);
		break;
	}
	case EV_CALL: {
		const struct ev_call *e = (const void *)h;

		/* EADDRNOTAVAIL comes with its port allocation record, below */
		if (e->ret && e->ret != -EADDRNOTAVAIL)
			note_ev(v, e->op == OP_CONNECT ? NOTE_CONNECT_FAIL : NOTE_BIND_FAIL, h,
				size);
		break;
	}
	case EV_PORT: {
		const struct ev_port *e = (const void *)h;
		struct pressure_verdict pv = pressure_note(&v->pressure, e);

		if (e->ret)
			note_ev(v, e->op == PORT_CONNECT ? NOTE_CONNECT_FAIL : NOTE_BIND_FAIL, h,
				size);
		else if (pv.mark == MARK_LONG_SCAN)
			note_ev(v, NOTE_LONG_SCAN, h, size);
		break;
	}
	case EV_LISTEN_OVF:
		note_ev(v, NOTE_LISTEN_OVF, h, size);
		break;
	}
}

static bool note_passes(const struct filter *f, const void *x)
{
	const struct top_note *n = x;

	if (n->has_ev)
		return filter_match(f, &n->ev.h);
	return filter_match_socket(f, &n->owner, n->owner_known, &n->t, n->state);
}

static bool record_passes(const struct filter *f, const void *x)
{
	return filter_match(f, &((const union top_ev *)x)->h);
}

/* The entries of a ring of cap entries, total pushed so far, newest first
 * from the mark back to the oldest still there (entries past the mark may
 * have overwritten some before it), that pass the filter: after skip of
 * them, up to max into out; out NULL only counts them. */
static size_t ring_walk(const struct top_view *v, const void *ring, size_t size, uint64_t cap,
			uint64_t total, uint64_t mark, bool (*pass)(const struct filter *, const void *),
			size_t skip, const void **out, size_t max)
{
	uint64_t lo = total > cap ? total - cap : 0;
	size_t n = 0;

	for (uint64_t i = mark; i > lo && n < max; i--) {
		const void *x = (const char *)ring + (i - 1) % cap * size;

		if (!pass(&v->filter, x))
			continue;
		if (skip) {
			skip--;
			continue;
		}
		if (out)
			out[n] = x;
		n++;
	}
	return n;
}

size_t top_view_tail(const struct top_view *v, size_t skip, const struct top_note **out,
		     size_t max)
{
	return ring_walk(v, v->tail, sizeof(v->tail[0]), TOP_TAIL, v->ntail, v->tail_mark,
			 note_passes, skip, (const void **)out, max);
}

size_t top_view_tail_count(const struct top_view *v)
{
	return ring_walk(v, v->tail, sizeof(v->tail[0]), TOP_TAIL, v->ntail, v->tail_mark,
			 note_passes, 0, NULL, SIZE_MAX);
}

size_t top_view_records(const struct top_view *v, size_t skip, const union top_ev **out,
			size_t max)
{
	return ring_walk(v, v->stream, sizeof(v->stream[0]), TOP_STREAM, v->nstream,
			 v->stream_mark, record_passes, skip, (const void **)out, max);
}

size_t top_view_records_count(const struct top_view *v)
{
	return ring_walk(v, v->stream, sizeof(v->stream[0]), TOP_STREAM, v->nstream,
			 v->stream_mark, record_passes, 0, NULL, SIZE_MAX);
}

/* ---- the update: the model into rows ---- */

static void *grow(void *p, size_t *cap, size_t need, size_t size, bool *failed)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return p;
	while (ncap < need)
		ncap *= 2;
	np = realloc(p, ncap * size);
	if (!np) {
		*failed = true;
		return p;
	}
	*cap = ncap;
	return np;
}

static void sample_states(struct top_view *v, const uint64_t now[TS_STATE_MAX], uint64_t ts)
{
	unsigned newest = (v->nhist + TOP_HISTORY - 1) % TOP_HISTORY;

	/* about one sample a second, whatever the refresh interval */
	if (v->nhist && ts - v->hist_ts[newest] < NSEC_PER_SEC - NSEC_PER_SEC / 10) {
		/* the newest sample stands for its second: counts now, its time kept */
		memcpy(v->hist[newest], now, sizeof(v->hist[newest]));
	} else {
		unsigned slot = v->nhist++ % TOP_HISTORY;

		memcpy(v->hist[slot], now, sizeof(v->hist[slot]));
		v->hist_ts[slot] = ts;
	}
}

/* The change over the last minute (or since the first sample) and the trend */
static void trends(struct top_view *v)
{
	unsigned n = v->nhist < TOP_HISTORY ? v->nhist : TOP_HISTORY;
	unsigned newest = (v->nhist - 1) % TOP_HISTORY;
	unsigned base = (v->nhist - n) % TOP_HISTORY; /* the oldest sample kept */
	uint64_t now_ts = v->hist_ts[newest];

	if (!n)
		return;
	/* the oldest sample at most a minute old */
	for (unsigned k = 0; k < n; k++) {
		unsigned i = (base + k) % TOP_HISTORY;

		if (now_ts - v->hist_ts[i] <= TOP_MINUTE_NS) {
			base = i;
			n -= k;
			break;
		}
	}
	v->change_span_ns = now_ts - v->hist_ts[base];
	for (int st = 0; st < TS_STATE_MAX; st++) {
		uint64_t pts[TOP_TREND], lo = UINT64_MAX, hi = 0;

		v->change[st] = (int64_t)v->hist[newest][st] - (int64_t)v->hist[base][st];
		for (unsigned c = 0; c < TOP_TREND; c++) {
			/* TOP_TREND points spread over the samples, the last one now */
			unsigned k = n > 1 ? (unsigned)((uint64_t)c * (n - 1) / (TOP_TREND - 1)) : 0;

			pts[c] = v->hist[(base + k) % TOP_HISTORY][st];
			if (pts[c] < lo)
				lo = pts[c];
			if (pts[c] > hi)
				hi = pts[c];
		}
		for (unsigned c = 0; c < TOP_TREND; c++)
			v->trend[st][c] = hi > lo ? (uint8_t)((pts[c] - lo) * 7 / (hi - lo)) : 0;
	}
}

static uint64_t age_of(const struct msock *s, uint64_t now)
{
	return now > s->since_ns ? now - s->since_ns : 0;
}

static void cw_group(struct top_view *v, const struct msock *s, bool client_side, uint64_t now)
{
	struct cw_key k;
	struct top_cw *g;
	uint64_t age = age_of(s, now);

	findings_cw_key(s, client_side, &k);
	g = keyed_get(&v->cwg, &k);
	if (!g) {
		v->failed = true;
		return;
	}
	if (!g->count || age > g->oldest_ns) {
		g->oldest_ns = age;
		g->oldest_lb = !s->since_known;
	}
	if (s->owner_known && s->owner.cgroup)
		g->cgroup = s->owner.cgroup;
	g->count++;
}

static void dest_group(struct top_view *v, const struct msock *s)
{
	struct top_dest k = { .netns = s->netns, .family = s->t.family, .dport = s->t.dport }, *g;

	memcpy(k.saddr, s->t.saddr, 16);
	memcpy(k.daddr, s->t.daddr, 16);
	g = keyed_get(&v->destg, &k);
	if (!g) {
		v->failed = true;
		return;
	}
	g->held++;
	if (s->state == TS_TIME_WAIT)
		g->time_wait++;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0; /* larger first */
}

static int cmp_dbl(double a, double b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

/* qsort has no context argument: the order in force while sorting */
static int sort_key;
static bool sort_rev;

static int by_cw(const void *a, const void *b)
{
	const struct top_cw *x = *(struct top_cw *const *)a, *y = *(struct top_cw *const *)b;
	int c = 0;

	switch (sort_key) {
	case SORT_CW_OLDEST:
		c = cmp_u64(x->oldest_ns, y->oldest_ns);
		break;
	case SORT_CW_PID:
		c = -cmp_u64(x->k.pid, y->k.pid);
		break;
	}
	if (!c)
		c = cmp_u64(x->count, y->count);
	if (!c)
		c = -cmp_u64(x->k.port, y->k.port);
	return sort_rev ? -c : c;
}

static int by_dest(const void *a, const void *b)
{
	const struct top_dest *x = *(struct top_dest *const *)a, *y = *(struct top_dest *const *)b;
	int c = 0;

	switch (sort_key) {
	case SORT_DEST_TW:
		c = cmp_u64(x->time_wait, y->time_wait);
		break;
	case SORT_DEST_RATE:
		c = cmp_dbl(x->rate, y->rate);
		break;
	case SORT_DEST_FAILS:
		c = cmp_u64(x->fails, y->fails);
		break;
	}
	if (!c)
		c = cmp_dbl(x->pct, y->pct);
	if (!c)
		c = cmp_u64(x->held, y->held);
	if (!c)
		c = cmp_u64(x->connects, y->connects);
	return sort_rev ? -c : c;
}

static int by_lis(const void *a, const void *b)
{
	const struct top_lis *x = a, *y = b;
	int c = 0;

	switch (sort_key) {
	case SORT_LIS_OVF:
		c = cmp_u64(x->ovf, y->ovf);
		break;
	case SORT_LIS_PORT:
		c = -cmp_u64(x->port, y->port);
		break;
	}
	if (!c)
		c = cmp_dbl(x->fill, y->fill);
	if (!c)
		c = cmp_u64(x->ovf, y->ovf);
	if (!c)
		c = -cmp_u64(x->port, y->port);
	return sort_rev ? -c : c;
}

static void sort_rows(void *rows, size_t n, size_t size, int key, bool rev,
		      int (*cmp)(const void *, const void *))
{
	sort_key = key;
	sort_rev = rev;
	if (n > 1) /* qsort(NULL, 0, ...) is undefined (UBSan: nonnull argument) */
		qsort(rows, n, size, cmp);
}

static void leak_note(struct top_view *v, struct top_cw *g, uint64_t now)
{
	struct top_note *n;
	char age[32], who[48], where[ENDPOINT_STRLEN];

	if (g->noted || g->count < CW_MIN_COUNT || g->oldest_ns < CW_MIN_AGE_NS)
		return;
	g->noted = true;
	n = push_note(v, NOTE_LEAK, now);
	n->cw = g->k;
	n->netns = g->k.netns;
	n->state = TS_CLOSE_WAIT;
	n->owner_known = g->k.pid != 0;
	n->owner.pid = g->k.pid;
	memcpy(n->owner.comm, g->k.comm, TCPSCOPE_COMM_LEN);
	n->t.family = g->k.family;
	if (g->k.side) {
		n->t.dport = g->k.port;
		memcpy(n->t.daddr, g->k.peer, 16);
		fmt_endpoint(g->k.family, g->k.peer, g->k.port, where, sizeof(where));
	} else {
		n->t.sport = g->k.port;
		snprintf(where, sizeof(where), ":%u", g->k.port);
	}
	if (g->k.pid)
		snprintf(who, sizeof(who), "%u %s", g->k.pid, g->k.comm);
	else
		snprintf(who, sizeof(who), "owner unknown");
	snprintf(n->text, sizeof(n->text), "%s %s: %llu CLOSE_WAIT, oldest %s: never close()d",
		 who, where, (unsigned long long)g->count,
		 top_format_age(g->oldest_ns, g->oldest_lb, age, sizeof(age)));
}

static void ports_note(struct top_view *v, struct top_dest *d, uint64_t now)
{
	struct top_note *n;
	char dst[ENDPOINT_STRLEN];

	/* raised once; again only after it fell back below half the threshold */
	if (d->pct < PORT_WARN_PCT / 2.0)
		d->noted = false;
	if (d->noted || d->pct < PORT_WARN_PCT)
		return;
	d->noted = true;
	n = push_note(v, NOTE_PORTS, now);
	n->netns = d->netns;
	n->state = TS_TIME_WAIT;
	n->t.family = d->family;
	n->t.dport = d->dport;
	memcpy(n->t.saddr, d->saddr, 16);
	memcpy(n->t.daddr, d->daddr, 16);
	snprintf(n->text, sizeof(n->text),
		 "toward %s: %llu of %u ephemeral ports held (%.0f%%), %llu in TIME_WAIT",
		 fmt_endpoint(d->family, d->daddr, d->dport, dst, sizeof(dst)),
		 (unsigned long long)d->held, d->usable, d->pct, (unsigned long long)d->time_wait);
}

static void build_detail(struct top_view *v, const struct model *m, uint64_t now);

/* TIME_WAIT overflows inferred from the state machine (tracepoint tier) are
 * noted only as far as the namespace's TCPTimeWaitOverflow grew (re-read
 * every TOP_NSINFO_NS): an inference alone invents nothing on screen. */
static void tw_ovf_notes(struct top_view *v, const struct model *m, uint64_t now)
{
	for (size_t i = 0; i < m->ns.n; i++) {
		const struct mns *n = keyed_at(&m->ns, i);
		uint64_t d, grew;
		int slot = -1;

		if (!n->tw_overflow_inferred ||
		    !findings_counter_delta(m, n->netns, "TcpExt.TCPTimeWaitOverflow", &d) || !d)
			continue;
		for (int j = 0; j < TOP_TW_OVF_NS && slot < 0; j++)
			if (v->tw_ovf[j].netns == n->netns || !v->tw_ovf[j].netns)
				slot = j;
		if (slot < 0)
			continue;
		grew = d < n->tw_overflow_inferred ? d : n->tw_overflow_inferred;
		if (grew <= v->tw_ovf[slot].noted)
			continue;
		struct top_note *note = push_note(v, NOTE_TW_OVF, now);

		v->tw_ovf[slot].netns = n->netns;
		note->netns = n->netns;
		note->state = TS_TIME_WAIT;
		snprintf(note->text, sizeof(note->text),
			 "netns %u: %llu connections closed without TIME_WAIT (TCPTimeWaitOverflow "
			 "+%llu): tcp_max_tw_buckets is full",
			 n->netns, (unsigned long long)(grew - v->tw_ovf[slot].noted),
			 (unsigned long long)d);
		v->tw_ovf[slot].noted = grew;
	}
}

/* connect() failures are recorded before a local address is chosen: they
 * belong with the ports held from some address toward the same place */
static struct top_dest *same_destination(struct top_view *v, const struct top_dest *k)
{
	for (size_t i = 0; i < v->destg.n; i++) {
		struct top_dest *d = keyed_at(&v->destg, i);

		if (d->held && d->netns == k->netns && d->family == k->family &&
		    d->dport == k->dport && !memcmp(d->daddr, k->daddr, 16))
			return d;
	}
	return NULL;
}

void top_view_update(struct top_view *v, const struct model *m, uint64_t now_ns, bool interval)
{
	uint64_t states[TS_STATE_MAX] = {};
	double dt = 0;

	v->now_ns = now_ns;
	v->lost = m->lost_total;
	v->untracked = m->untracked + m->aggregates_lost;
	/* rates over whole intervals only: a key pressed mid-interval re-sorts */
	if (interval) {
		dt = v->prev_ns && now_ns > v->prev_ns ? (double)(now_ns - v->prev_ns) / NSEC_PER_SEC : 0;
		v->ev_rate = dt > 0 ? (m->seen_total - v->prev_events) / dt : 0;
		v->prev_events = m->seen_total;
		v->prev_ns = now_ns;
	}
	if (v->paused)
		return;
	v->failed = false;

	/* groups persist (their notes and connect counts); their counts restart */
	if (v->cwg.n > MAX_GROUPS)
		keyed_clear(&v->cwg);
	if (v->destg.n > MAX_GROUPS)
		keyed_clear(&v->destg);
	for (size_t i = 0; i < v->cwg.n; i++) {
		struct top_cw *g = keyed_at(&v->cwg, i);

		g->count = g->oldest_ns = 0;
	}
	for (size_t i = 0; i < v->destg.n; i++) {
		struct top_dest *d = keyed_at(&v->destg, i);

		d->held = d->time_wait = d->connects = d->fails = 0;
		d->by_connects = false;
		d->usable = 0;
	}

	/* one pass over every socket */
	for (size_t i = 0; i < m->cap; i++) {
		const struct msock *s = &m->tab[i];
		bool client;

		if (!s->used || !filter_match_socket(&v->filter, &s->owner, s->owner_known, &s->t,
						     s->state))
			continue;
		if (s->state < TS_STATE_MAX)
			states[s->state]++;
		client = s->state != TS_LISTEN && findings_client_side(m, s);
		if (!s->tw && s->state == TS_CLOSE_WAIT)
			cw_group(v, s, client, now_ns);
		if (client && s->t.dport)
			dest_group(v, s);
	}
	memcpy(v->states, states, sizeof(states));
	if (interval) {
		sample_states(v, states, now_ns);
		trends(v);
	}

	/* CLOSE_WAIT rows */
	v->cw = grow(v->cw, &v->cap_cw, v->cwg.n, sizeof(*v->cw), &v->failed);
	v->ncw = 0;
	for (size_t i = 0; i < v->cwg.n && i < v->cap_cw; i++) {
		struct top_cw *g = keyed_at(&v->cwg, i);

		if (!g->count)
			continue;
		leak_note(v, g, now_ns);
		v->cw[v->ncw++] = g;
	}
	sort_rows(v->cw, v->ncw, sizeof(*v->cw), v->sort[PANE_CW], v->reverse[PANE_CW], by_cw);

	/* destinations: connect() counts from the model's aggregates; one
	 * without held sockets shows by its connect()s when the filter does not
	 * need an owner, a local port or a state (they have none) */
	unsigned lo, hi;
	bool conn_ok = !v->filter.npids && !v->filter.ncomms && !v->filter.nlports &&
		       !v->filter.state_mask && !v->filter.types;
	for (size_t i = 0; i < m->dest.n; i++) {
		const struct mdest *md = keyed_at(&m->dest, i);
		struct top_dest k = { .netns = md->netns, .family = md->family, .dport = md->dport };
		struct ev_tuple t = { .family = md->family, .dport = md->dport };
		struct top_dest *d;

		memcpy(k.saddr, md->saddr, 16);
		memcpy(k.daddr, md->daddr, 16);
		memcpy(t.saddr, md->saddr, 16);
		memcpy(t.daddr, md->daddr, 16);
		bool ok = conn_ok && filter_match_socket(&v->filter, NULL, false, &t, 0);

		d = keyed_find(&v->destg, &k);
		if (!d && md->failures && !memcmp(k.saddr, (uint8_t[16]){}, 16))
			d = same_destination(v, &k);
		if (!d && ok && !(d = keyed_get(&v->destg, &k)))
			v->failed = true;
		if (!d)
			continue;
		d->by_connects |= ok;
		d->connects += md->connects;
		d->fails += md->failures;
		d->usable = model_usable_ports(m, md->netns, md, &lo, &hi);
	}
	v->dest = grow(v->dest, &v->cap_dest, v->destg.n, sizeof(*v->dest), &v->failed);
	v->ndest = 0;
	for (size_t i = 0; i < v->destg.n && i < v->cap_dest; i++) {
		struct top_dest *d = keyed_at(&v->destg, i);

		if (!d->usable) /* nothing held toward it came from connect() in the run */
			d->usable = model_usable_ports(m, d->netns, NULL, &lo, &hi);
		d->pct = d->usable ? 100.0 * d->held / d->usable : 0;
		if (interval) {
			d->rate = dt > 0 && d->connects >= d->prev_connects
					  ? (d->connects - d->prev_connects) / dt : 0;
			d->prev_connects = d->connects;
		}
		if (!d->held && !(d->by_connects && (d->connects || d->fails)))
			continue;
		ports_note(v, d, now_ns);
		v->dest[v->ndest++] = d;
	}
	tw_ovf_notes(v, m, now_ns);
	sort_rows(v->dest, v->ndest, sizeof(*v->dest), v->sort[PANE_DEST], v->reverse[PANE_DEST],
		  by_dest);

	/* listeners */
	v->lis = grow(v->lis, &v->cap_lis, m->lis.n, sizeof(*v->lis), &v->failed);
	v->lrate = grow(v->lrate, &v->cap_lrate, m->lis.n, sizeof(*v->lrate), &v->failed);
	v->nlis = 0;
	for (size_t i = 0; i < m->lis.n && i < v->cap_lrate && v->nlis < v->cap_lis; i++) {
		const struct mlistener *ml = keyed_at(&m->lis, i);
		struct ev_tuple t = { .family = ml->family, .sport = ml->port };
		uint64_t ovf = ml->ovf[0] + ml->ovf[1] + ml->ovf[2];
		struct top_lis *l;

		if (i >= v->nlrate) { /* a new listener: no rate yet */
			v->lrate[i].prev_ovf = ovf;
			v->lrate[i].ovf_rate = 0;
			v->nlrate = i + 1;
		}
		if (interval) {
			uint64_t prev = v->lrate[i].prev_ovf;

			v->lrate[i].ovf_rate = dt > 0 && ovf >= prev ? (ovf - prev) / dt : 0;
			v->lrate[i].prev_ovf = ovf;
		}
		memcpy(t.saddr, ml->saddr, 16);
		if (ml->closed ||
		    !filter_match_socket(&v->filter, &ml->owner, ml->owner_known, &t, TS_LISTEN))
			continue;
		l = &v->lis[v->nlis++];
		memset(l, 0, sizeof(*l));
		l->netns = ml->netns;
		l->family = ml->family;
		l->port = ml->port;
		memcpy(l->saddr, ml->saddr, 16);
		l->owner = ml->owner;
		l->owner_known = ml->owner_known;
		l->have_queue = ml->have_queue;
		l->queue = ml->accept_queue;
		l->backlog = ml->backlog;
		l->fill = ml->have_queue && ml->backlog ? (double)ml->accept_queue / ml->backlog : 0;
		l->ovf = ovf;
		l->ovf_rate = v->lrate[i].ovf_rate;
	}
	sort_rows(v->lis, v->nlis, sizeof(*v->lis), v->sort[PANE_LIS], v->reverse[PANE_LIS],
		  by_lis);
	if (v->detail_on)
		build_detail(v, m, now_ns);
	/* the rings as of now, with the notes this update raised */
	v->tail_mark = v->ntail;
	v->stream_mark = v->nstream;
}

/* ---- the detail: the sockets of one row ---- */

static bool same_addr(const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a, b, 16);
}

static bool in_cw_group(const struct model *m, const struct msock *s, const struct cw_key *k)
{
	struct cw_key c;

	if (s->tw || s->state != TS_CLOSE_WAIT)
		return false;
	findings_cw_key(s, findings_client_side(m, s), &c);
	return !memcmp(&c, k, sizeof(c));
}

static bool in_selection(const struct top_sel *sel, const struct model *m, const struct msock *s)
{
	switch (sel->pane) {
	case PANE_CW:
		return in_cw_group(m, s, &sel->cw.k);
	case PANE_DEST: {
		const struct top_dest *d = &sel->dest;

		return s->netns == d->netns && s->t.family == d->family && s->t.dport == d->dport &&
		       s->state != TS_LISTEN && same_addr(s->t.saddr, d->saddr) &&
		       same_addr(s->t.daddr, d->daddr);
	}
	case PANE_LIS:
		return s->netns == sel->lis.netns && s->t.family == sel->lis.family &&
		       s->t.sport == sel->lis.port;
	case PANE_EVENTS: {
		const struct top_note *n = &sel->note;
		const struct ev_tuple *t = &n->t;
		uint32_t netns = n->netns;
		struct ev_common c;

		if (n->kind == NOTE_LEAK && !n->has_ev) /* the leak's group */
			return in_cw_group(m, s, &n->cw);
		if (n->has_ev) {
			if (!ev_common(&n->ev.h, &c))
				return false;
			t = c.t;
			netns = c.netns;
		}
		/* the socket of the record: its local and remote ends, where known */
		return s->netns == netns && s->t.family == t->family &&
		       (!t->sport || s->t.sport == t->sport) &&
		       (!t->dport || s->t.dport == t->dport) &&
		       same_addr(s->t.daddr, t->daddr);
	}
	default:
		return false;
	}
}

static int by_age(const void *a, const void *b)
{
	const struct top_sock *x = a, *y = b;

	return cmp_u64(x->age_ns, y->age_ns);
}

static void build_detail(struct top_view *v, const struct model *m, uint64_t now)
{
	if (!v->detail) {
		v->detail = calloc(TOP_DETAIL, sizeof(*v->detail));
		if (!v->detail) {
			v->failed = true;
			return;
		}
	}
	v->ndetail = v->detail_total = 0;
	for (size_t i = 0; i < m->cap; i++) {
		const struct msock *s = &m->tab[i];
		struct top_sock *d;

		if (!s->used || !in_selection(&v->sel, m, s))
			continue;
		v->detail_total++;
		if (v->ndetail == TOP_DETAIL)
			continue;
		d = &v->detail[v->ndetail++];
		d->state = s->state;
		d->tw = s->tw;
		d->t = s->t;
		d->owner = s->owner;
		d->owner_known = s->owner_known;
		d->age_ns = age_of(s, now);
		d->age_lb = !s->since_known;
	}
	qsort(v->detail, v->ndetail, sizeof(*v->detail), by_age);
}

void top_view_select(struct top_view *v, const struct model *m, const struct top_sel *sel)
{
	if (!sel) {
		v->detail_on = false;
		return;
	}
	v->sel = *sel;
	v->detail_on = true;
	build_detail(v, m, v->now_ns);
}

int top_view_set_filter(struct top_view *v, const char *words, char *err, size_t errlen)
{
	struct filter f;

	if (filter_parse_words(&f, words, err, errlen))
		return -1;
	v->filter = f;
	snprintf(v->filter_text, sizeof(v->filter_text), "%s", words);
	return 0;
}

/* ---- text ---- */

const char *top_format_age(uint64_t ns, bool lb, char *buf, size_t len)
{
	uint64_t s = ns / NSEC_PER_SEC;
	const char *ge = lb ? ">=" : "";

	if (s < 60)
		snprintf(buf, len, "%s%.1fs", ge, (double)ns / NSEC_PER_SEC);
	else if (s < 3600)
		snprintf(buf, len, "%s%llum%02llus", ge, (unsigned long long)s / 60,
			 (unsigned long long)s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%s%lluh%02llum", ge, (unsigned long long)s / 3600,
			 (unsigned long long)s / 60 % 60);
	else
		snprintf(buf, len, "%s%llud%02lluh", ge, (unsigned long long)s / 86400,
			 (unsigned long long)s / 3600 % 24);
	return buf;
}

void top_format_event(const union top_ev *e, int64_t clock_offset, char *buf, size_t len)
{
	char tbuf[32], what[64], comm[TCPSCOPE_COMM_LEN + 1], l[ENDPOINT_STRLEN], r[ENDPOINT_STRLEN];
	const struct ev_owner *o;
	const struct ev_tuple *t;
	struct ev_common c;
	bool known;

	if (!ev_common(&e->h, &c)) {
		snprintf(buf, len, "record of type %u", e->h.type);
		return;
	}
	o = c.owner;
	t = c.t;
	known = c.owner_known;
	switch (e->h.type) {
	case EV_STATE:
		snprintf(what, sizeof(what), "%s>%s", state_brief_name(e->state.old_state),
			 state_brief_name(e->state.new_state));
		break;
	case EV_TW:
		if (e->tw.kind == TW_END)
			snprintf(what, sizeof(what), "timewait end (%s)", fmt_tw_cause(e->tw.cause));
		else if (e->tw.kind == TW_OVERFLOW)
			snprintf(what, sizeof(what), "timewait OVERFLOW");
		else
			snprintf(what, sizeof(what), "timewait %s", state_brief_name(e->tw.substate));
		break;
	case EV_CALL:
		snprintf(what, sizeof(what), "%s %s", e->call.op == OP_CONNECT ? "connect" : "bind",
			 e->call.ret ? fmt_errno(e->call.ret) : "ok");
		break;
	case EV_PORT:
		if (e->port.ret)
			snprintf(what, sizeof(what), "port %s %s", fmt_port_op(e->port.op),
				 fmt_errno(e->port.ret));
		else if (e->port.flags & EVF_SCAN_KNOWN)
			snprintf(what, sizeof(what), "port %s %u scanned", fmt_port_op(e->port.op),
				 e->port.scan);
		else
			snprintf(what, sizeof(what), "port %s", fmt_port_op(e->port.op));
		break;
	case EV_LISTEN_OVF:
		snprintf(what, sizeof(what), "OVERFLOW %s q=%u/%u", fmt_ovf_stage(e->ovf.stage),
			 e->ovf.accept_queue, e->ovf.backlog);
		break;
	}
	fmt_endpoint(t->family, t->saddr, t->sport, l, sizeof(l));
	if (t->dport || t->daddr[0] || t->family == AF_INET6)
		fmt_endpoint(t->family, t->daddr, t->dport, r, sizeof(r));
	else
		snprintf(r, sizeof(r), "-");
	fmt_comm(o, known, comm, sizeof(comm));
	snprintf(buf, len, "%s %-24s %7u %-15s %s > %s",
		 fmt_clock(e->h.ts_ns, clock_offset, 0, tbuf, sizeof(tbuf)), what,
		 known ? o->pid : 0, comm, l, r);
}

int top_sort_count(enum top_pane p)
{
	return p == PANE_CW ? SORT_CW_MAX : p == PANE_DEST ? SORT_DEST_MAX
					  : p == PANE_LIS  ? SORT_LIS_MAX : 1;
}
