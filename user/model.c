// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "decode.h"
#include "fmt.h"
#include "model.h"
#include "sink.h"

void model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
	keyed_init(&m->dest, sizeof(struct mdest), MDEST_KEY);
	keyed_init(&m->lis, sizeof(struct mlistener), MLISTENER_KEY);
	keyed_init(&m->ab, sizeof(struct mabort), MABORT_KEY);
	keyed_init(&m->ns, sizeof(struct mns), sizeof(uint32_t));
}

void model_free(struct model *m)
{
	free(m->tab);
	keyed_free(&m->dest);
	keyed_free(&m->lis);
	keyed_free(&m->ab);
	keyed_free(&m->ns);
	census_free(&m->resync.cs);
	memset(m, 0, sizeof(*m));
}

/* An aggregate for key (created when new); counted when out of memory */
static void *agg(struct model *m, struct keyed *k, const void *key)
{
	void *item = keyed_get(k, key);

	if (!item)
		m->aggregates_lost++;
	return item;
}

/* ---- the socket table: open addressing, linear probing, backward-shift delete ---- */

static size_t slot_of(uint64_t key, bool tw, size_t cap)
{
	uint64_t h = (key ^ (tw ? 0x9e3779b97f4a7c15ULL : 0)) * 0xff51afd7ed558ccdULL;

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct msock *find(const struct model *m, uint64_t key, bool tw)
{
	if (!m->cap)
		return NULL;
	for (size_t i = slot_of(key, tw, m->cap);; i = (i + 1) & (m->cap - 1)) {
		struct msock *s = &m->tab[i];

		if (!s->used)
			return NULL;
		if (s->key == key && s->tw == tw)
			return s;
	}
}

static int rehash(struct model *m, size_t ncap)
{
	struct msock *old = m->tab;
	size_t ocap = m->cap;

	m->tab = calloc(ncap, sizeof(*m->tab));
	if (!m->tab) {
		m->tab = old;
		return -1;
	}
	m->cap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].used)
			continue;
		size_t j = slot_of(old[i].key, old[i].tw, ncap);

		while (m->tab[j].used)
			j = (j + 1) & (ncap - 1);
		m->tab[j] = old[i];
	}
	free(old);
	return 0;
}

/* The entry for (key, tw), created (state 0) when new; NULL when full. */
static struct msock *upsert(struct model *m, uint64_t key, bool tw)
{
	struct msock *s = find(m, key, tw);

	if (s)
		return s;
	if (m->n >= MODEL_MAX_SOCKETS ||
	    ((m->n + 1) * 4 > m->cap * 3 && rehash(m, m->cap ? m->cap * 2 : 1024))) {
		m->untracked++;
		return NULL;
	}
	size_t i = slot_of(key, tw, m->cap);

	while (m->tab[i].used)
		i = (i + 1) & (m->cap - 1);
	s = &m->tab[i];
	memset(s, 0, sizeof(*s));
	s->used = 1;
	s->key = key;
	s->tw = tw;
	m->n++;
	return s;
}

static void erase(struct model *m, struct msock *s)
{
	size_t i = (size_t)(s - m->tab), j = i;

	m->tab[i].used = 0;
	m->n--;
	/* shift back the entries of the run that follows into the hole */
	for (;;) {
		j = (j + 1) & (m->cap - 1);
		if (!m->tab[j].used)
			return;
		size_t home = slot_of(m->tab[j].key, m->tab[j].tw, m->cap);

		/* j's entry may move to i when its home is not in (i, j] */
		if ((i < j) ? (home <= i || home > j) : (home <= i && home > j)) {
			m->tab[i] = m->tab[j];
			m->tab[j].used = 0;
			i = j;
		}
	}
}

/* ---- aggregates ---- */

static struct mns *ns_get(struct model *m, uint32_t netns)
{
	return agg(m, &m->ns, &netns);
}

const struct mns *model_ns(const struct model *m, uint32_t netns)
{
	return keyed_find(&m->ns, &netns);
}

unsigned model_usable_ports(const struct model *m, uint32_t netns, const struct mdest *d,
			    unsigned *lo, unsigned *hi)
{
	const struct mns *n = model_ns(m, netns);

	if (n && n->usable) {
		*lo = n->port_lo;
		*hi = n->port_hi;
		return n->usable;
	}
	if (d && d->range_lo && d->range_hi >= d->range_lo) {
		*lo = d->range_lo;
		*hi = d->range_hi;
		return *hi - *lo + 1;
	}
	*lo = *hi = 0;
	return 0;
}

const struct nsinfo *model_ns_latest(const struct model *m, uint32_t netns)
{
	const struct mns *n = model_ns(m, netns);

	return !n ? NULL : n->have_end ? &n->end : n->have_start ? &n->start : NULL;
}

static struct mlistener lis_key(uint32_t netns, const struct ev_tuple *t)
{
	return (struct mlistener){ .netns = netns, .family = t->family, .port = t->sport };
}

static struct mlistener *lis_get(struct model *m, uint32_t netns, const struct ev_tuple *t)
{
	struct mlistener k = lis_key(netns, t), *l = agg(m, &m->lis, &k);

	if (l) /* the address it listens on, as last seen */
		memcpy(l->saddr, t->saddr, 16);
	return l;
}

const struct mlistener *model_listener(const struct model *m, uint32_t netns,
				       const struct ev_tuple *t)
{
	struct mlistener k = lis_key(netns, t);
	const struct mlistener *l = keyed_find(&m->lis, &k);

	return l && !l->closed ? l : NULL;
}

static struct mdest *dest_get(struct model *m, uint32_t netns, const struct ev_tuple *t)
{
	struct mdest k = { .netns = netns, .family = t->family, .dport = t->dport };

	memcpy(k.saddr, t->saddr, 16);
	memcpy(k.daddr, t->daddr, 16);
	return agg(m, &m->dest, &k);
}

static void note_abort(struct model *m, const struct ev_state *e)
{
	struct mabort k = { .netns = e->netns, .family = e->t.family }, *a;

	memcpy(k.daddr, e->t.daddr, 16);
	if (e->flags & EVF_OWNER_KNOWN) {
		k.owner_known = 1;
		k.pid = e->owner.pid;
		memcpy(k.comm, e->owner.comm, TCPSCOPE_COMM_LEN);
	}
	a = agg(m, &m->ab, &k);
	if (!a)
		return;
	if (!a->first_ns)
		a->first_ns = e->hdr.ts_ns;
	a->last_ns = e->hdr.ts_ns;
	if (k.owner_known && e->owner.cgroup)
		a->cgroup = e->owner.cgroup;
	if (e->old_state == TS_ESTABLISHED)
		a->from_estab++;
	else
		a->from_close_wait++;
}

/* ---- the calls of a run ---- */

void model_run(struct model *m, const struct run_info *ri)
{
	if (ri->end) {
		m->have_end = true;
		m->end_ns = ri->ts_ns;
		m->drift_measured = ri->drift_measured;
		memcpy(m->drift, ri->drift, sizeof(m->drift));
		return;
	}
	m->have_start = true;
	m->start_ns = ri->ts_ns;
	snprintf(m->host, sizeof(m->host), "%s", ri->host ? ri->host : "");
	snprintf(m->kernel, sizeof(m->kernel), "%s", ri->kernel ? ri->kernel : "");
	snprintf(m->blind, sizeof(m->blind), "%s", ri->blind ? ri->blind : "");
}

static void seen_ts(struct model *m, uint64_t ts)
{
	if (ts > m->last_ts)
		m->last_ts = ts;
	if (!m->have_start && (!m->start_ns || ts < m->start_ns))
		m->start_ns = ts;
}

void model_nsinfo(struct model *m, uint64_t ts_ns, bool end, const struct nsinfo *ns)
{
	struct mns *n = ns_get(m, ns->netns);

	seen_ts(m, ts_ns);
	if (!n)
		return;
	if (end || !n->have_end) /* parsed once here, not per socket */
		n->usable = usable_ports(nsinfo_sysctl(ns, "net.ipv4.ip_local_port_range"),
					 nsinfo_sysctl(ns, "net.ipv4.ip_local_reserved_ports"),
					 &n->port_lo, &n->port_hi);
	if (end) {
		n->end = *ns;
		n->have_end = true;
	} else {
		n->start = *ns;
		n->have_start = true;
	}
}

/* What a census entry says of a socket: its state, tuple, namespace, owner */
/* Its age from a census at ts_ns: from tcp_info where the kernel knows it
 * (a lower bound still), else only "since the census" */
static void census_age(struct msock *s, const struct census_sock *cs, uint64_t ts_ns)
{
	uint64_t age = (uint64_t)cs->age_ms * 1000000ULL;

	s->since_ns = cs->age_known && age < ts_ns ? ts_ns - age : ts_ns;
	s->age_tcp_info = cs->age_known;
	s->since_known = 0;
}

static void census_into(struct msock *s, const struct census_sock *cs)
{
	s->state = cs->state;
	s->t = cs->t;
	s->netns = cs->netns;
	if (cs->owner.pid) {
		s->owner = cs->owner;
		s->owner_known = 1;
	}
}

void model_resync_begin(struct model *m, uint64_t ts_ns, uint32_t netns, size_t count)
{
	census_free(&m->resync.cs);
	m->resync.on = count > 0;
	m->resync.want = count;
	m->resync.netns = netns;
	m->resync.ts_ns = ts_ns;
	seen_ts(m, ts_ns);
	if (!count)
		model_resync(m, netns, &m->resync.cs, ts_ns);
}

/* A socket of a resync under way: kept until the last one has come */
static void resync_add(struct model *m, const struct census_sock *cs)
{
	if (census_add(&m->resync.cs, cs)) {
		/* out of memory: the resync is dropped whole, counted */
		m->aggregates_lost++;
		census_free(&m->resync.cs);
		m->resync.on = false;
		return;
	}
	if (m->resync.cs.n < m->resync.want)
		return;
	model_resync(m, m->resync.netns, &m->resync.cs, m->resync.ts_ns);
	census_free(&m->resync.cs);
	m->resync.on = false;
}

void model_census(struct model *m, uint64_t ts_ns, const struct census_sock *cs)
{
	struct msock *s;

	if (m->resync.on) {
		resync_add(m, cs);
		return;
	}
	seen_ts(m, ts_ns);
	m->have_census = true;
	if (cs->state < TS_STATE_MAX)
		m->census_states[cs->state]++;
	if (cs->state == TS_LISTEN) {
		struct mlistener *l = lis_get(m, cs->netns, &cs->t);

		if (l) {
			l->have_queue = true;
			l->accept_queue = cs->rqueue;
			l->backlog = cs->wqueue;
			if (cs->owner.pid) {
				l->owner = cs->owner;
				l->owner_known = true;
			}
		}
	}
	s = upsert(m, cs->cookie, cs->timewait);
	if (!s)
		return;
	census_age(s, cs, ts_ns);
	s->census = 1;
	census_into(s, cs);
}

void model_listen_queue(struct model *m, const struct census_sock *cs)
{
	struct mlistener *l;

	if (cs->state != TS_LISTEN)
		return;
	l = lis_get(m, cs->netns, &cs->t);
	if (!l)
		return;
	l->have_queue = true;
	l->accept_queue = cs->rqueue;
	l->backlog = cs->wqueue;
	l->closed = false;
}

static void set_owner(struct msock *s, const struct ev_owner *o, bool known)
{
	if (known) {
		s->owner = *o;
		s->owner_known = 1;
	}
}

/* The entry for (key, tw), now in state since ts; NULL when the table is full */
static struct msock *enter(struct model *m, uint64_t key, bool tw, int state, uint64_t ts,
			   const struct ev_tuple *t, uint32_t netns, const struct ev_owner *o,
			   bool known)
{
	struct msock *s = upsert(m, key, tw);

	if (!s)
		return NULL;
	s->state = state;
	s->since_ns = ts;
	s->since_known = 1;
	s->t = *t;
	s->netns = netns;
	set_owner(s, o, known);
	return s;
}

/* A socket seen without a cookie was kept under its socket id: a child's
 * LISTEN->SYN_RECV (the kernel gives it its cookie after), or any socket on
 * a kernel whose tracing programs cannot make one (before 5.12) until
 * someone did (the census's sock_diag, ss, SO_COOKIE). Its first event with
 * a cookie moves the entry there. */
static void rekey(struct model *m, uint64_t sk, uint64_t cookie)
{
	struct msock *s = find(m, sk, false), copy, *n;

	if (!s)
		return;
	if (find(m, cookie, false)) {
		/* the census, taken while the socket was seen under its id,
		 * has it by its cookie already: the entry under its id is a copy */
		erase(m, s);
		return;
	}
	copy = *s;
	erase(m, s);
	n = upsert(m, cookie, false);
	if (!n)
		return;
	copy.key = cookie;
	*n = copy;
}

static void on_state(struct model *m, const struct ev_state *e)
{
	uint64_t key = e->cookie ? e->cookie : e->sk;
	bool known = e->flags & EVF_OWNER_KNOWN;
	struct msock *s;

	/* LISTEN -> SYN_RECV is a child's first state, not the listener's */
	if (e->new_state == TS_LISTEN || (e->old_state == TS_LISTEN && e->new_state == TS_CLOSE)) {
		struct mlistener *l = lis_get(m, e->netns, &e->t);

		if (l) {
			l->closed = e->old_state == TS_LISTEN;
			if (known) {
				l->owner = e->owner;
				l->owner_known = true;
			}
		}
	}
	/* an entry under the socket id only where one can be: a child's
	 * next event, or a cookie not seen before */
	if (e->cookie && e->sk && (e->old_state == TS_SYN_RECV || !find(m, e->cookie, false)))
		rekey(m, e->sk, e->cookie);
	if (e->new_state == TS_CLOSE) {
		if (e->old_state == TS_ESTABLISHED || e->old_state == TS_CLOSE_WAIT)
			note_abort(m, e);
		s = find(m, key, false);
		if (s)
			erase(m, s);
		return;
	}
	s = enter(m, key, false, e->new_state, e->hdr.ts_ns, &e->t, e->netns, &e->owner, known);
	if (!s)
		return;
	if (!s->owner_known && e->new_state != TS_LISTEN) {
		/* a child not yet accept()ed of a listener older than the run (the
		 * kernel side knows only listeners it saw start): the listener's owner */
		const struct mlistener *l = model_listener(m, e->netns, &e->t);

		if (l && l->owner_known)
			set_owner(s, &l->owner, true);
	}
}

static void on_timewait(struct model *m, const struct ev_tw *e)
{
	uint64_t key = e->cookie ? e->cookie : e->tw;
	bool known = e->flags & EVF_OWNER_KNOWN;
	struct msock *s, *full;

	switch (e->kind) {
	case TW_ENTER:
		s = enter(m, key, true, e->substate, e->hdr.ts_ns, &e->t, e->netns, &e->owner,
			  known);
		if (!s)
			return;
		/* the full socket it replaces: a FIN_WAIT2 goes on aging */
		full = e->cookie ? find(m, e->cookie, false) : NULL;
		if (full) {
			if (full->state == e->substate) {
				s->since_ns = full->since_ns;
				s->since_known = full->since_known;
			}
			if (!known && full->owner_known) {
				s->owner = full->owner;
				s->owner_known = 1;
			}
			erase(m, full);
		}
		break;
	case TW_SUBSTATE:
		enter(m, key, true, TS_TIME_WAIT, e->hdr.ts_ns, &e->t, e->netns, &e->owner, known);
		break;
	case TW_END:
		s = find(m, key, true);
		if (s)
			erase(m, s);
		break;
	case TW_OVERFLOW: {
		struct mns *n = ns_get(m, e->netns);

		if (n && (e->flags & EVF_INFERRED))
			n->tw_overflow_inferred++;
		else if (n)
			n->tw_overflow++;
		break;
	}
	}
}

static void on_port(struct model *m, const struct ev_port *e)
{
	struct mdest *d;

	if (e->op != PORT_CONNECT)
		return;
	d = dest_get(m, e->netns, &e->t);
	if (!d)
		return;
	d->range_lo = e->range_lo;
	d->range_hi = e->range_hi;
	if (e->ret == 0)
		d->connects++;
	else
		d->failures++;
	if (e->flags & EVF_TW_REUSED)
		d->tw_reused++;
	if (e->flags & EVF_SCAN_KNOWN) {
		d->scan_known++;
		d->scan_sum += e->scan;
		if (e->scan > d->scan_max)
			d->scan_max = e->scan;
	}
	if (e->ret && (e->flags & EVF_OWNER_KNOWN)) {
		unsigned i;

		for (i = 0; i < d->nfail_pids; i++)
			if (d->fail_owner[i].pid == e->owner.pid)
				break;
		if (i == d->nfail_pids && i < 4)
			d->fail_owner[d->nfail_pids++] = e->owner;
	}
}

static void on_overflow(struct model *m, const struct ev_listen_ovf *e)
{
	struct mlistener *l = lis_get(m, e->netns, &e->t);

	if (!l)
		return;
	if (e->stage < 3)
		l->ovf[e->stage]++;
	l->accept_queue = e->accept_queue;
	l->backlog = e->backlog;
	l->have_queue = true;
	if (e->flags & EVF_OWNER_KNOWN) {
		l->owner = e->owner;
		l->owner_known = true;
	}
}

void model_event(struct model *m, const struct ev_hdr *h)
{
	seen_ts(m, h->ts_ns);
	if (h->type < EV_TYPE_MAX)
		m->seen[h->type]++;
	m->seen_total++;
	switch (h->type) {
	case EV_STATE:
	case EV_TW: {
		struct mns *n = ns_get(m, ev_netns(h));

		if (n)
			n->last_change_ns = h->ts_ns;
		if (h->type == EV_STATE)
			on_state(m, (const void *)h);
		else
			on_timewait(m, (const void *)h);
		break;
	}
	case EV_PORT:
		on_port(m, (const void *)h);
		break;
	case EV_LISTEN_OVF:
		on_overflow(m, (const void *)h);
		break;
	}
}

void model_lost(struct model *m, uint64_t ts_ns, const char *reason, uint64_t count)
{
	int i;

	seen_ts(m, ts_ns);
	m->lost_total += count;
	for (i = 0; i < MODEL_LOST_REASONS && m->lost[i].reason[0]; i++)
		if (!strcmp(m->lost[i].reason, reason))
			break;
	if (i == MODEL_LOST_REASONS)
		i--; /* a reason beyond the known ones joins the last */
	if (!m->lost[i].reason[0])
		snprintf(m->lost[i].reason, sizeof(m->lost[i].reason), "%s", reason);
	m->lost[i].count += count;
}

uint64_t model_now(const struct model *m)
{
	return m->have_end ? m->end_ns : m->last_ts;
}

double model_seconds(const struct model *m)
{
	uint64_t now = model_now(m);

	return now > m->start_ns ? (double)(now - m->start_ns) / (double)NSEC_PER_SEC : 0;
}

uint64_t model_age(const struct model *m, const struct msock *s, bool *lower_bound)
{
	uint64_t now = model_now(m);

	*lower_bound = !s->since_known;
	return now > s->since_ns ? now - s->since_ns : 0;
}

struct ckey {
	uint64_t cookie;
	bool tw;
};

static int ckey_cmp(const void *a, const void *b)
{
	const struct ckey *x = a, *y = b;

	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	return (int)x->tw - (int)y->tw;
}

size_t model_resync(struct model *m, uint32_t netns, const struct census *cs, uint64_t ts_ns)
{
	struct ckey *keys = NULL, k;
	size_t nk = 0, changed = 0;

	for (size_t j = 0; j < cs->n; j++)
		nk += cs->s[j].netns == netns;
	if (nk && !(keys = malloc(nk * sizeof(*keys))))
		return 0;
	nk = 0;
	for (size_t j = 0; j < cs->n; j++)
		if (cs->s[j].netns == netns)
			keys[nk++] = (struct ckey){ cs->s[j].cookie, cs->s[j].timewait };
	if (nk)
		qsort(keys, nk, sizeof(*keys), ckey_cmp);
	/* gone: erase() moves later entries of the run back into slot i, so
	 * i is looked at again after an erase */
	for (size_t i = 0; i < m->cap;) {
		struct msock *s = &m->tab[i];

		k = (struct ckey){ s->key, s->tw };
		if (s->used && s->netns == netns &&
		    !(nk && bsearch(&k, keys, nk, sizeof(*keys), ckey_cmp))) {
			erase(m, s);
			changed++;
			continue;
		}
		i++;
	}
	free(keys);
	/* there, but missing or in another state */
	for (size_t j = 0; j < cs->n; j++) {
		const struct census_sock *c = &cs->s[j];
		struct msock *s;

		if (c->netns != netns)
			continue;
		s = find(m, c->cookie, c->timewait);
		if (s && s->state == c->state)
			continue;
		if (!s && !(s = upsert(m, c->cookie, c->timewait)))
			continue;
		changed++;
		/* it changed between its last event and the census (or was born
		 * unseen): "since the census", or tcp_info's age. Born in the run
		 * or not (census) stays as it was. */
		census_age(s, c, ts_ns);
		census_into(s, c);
	}
	return changed;
}

void model_ns_states(const struct model *m, uint32_t netns, uint64_t out[TS_STATE_MAX])
{
	memset(out, 0, sizeof(uint64_t) * TS_STATE_MAX);
	for (size_t i = 0; i < m->cap; i++)
		if (m->tab[i].used && m->tab[i].netns == netns && m->tab[i].state < TS_STATE_MAX)
			out[m->tab[i].state]++;
}

void model_states_now(const struct model *m, uint64_t out[TS_STATE_MAX])
{
	memset(out, 0, sizeof(uint64_t) * TS_STATE_MAX);
	for (size_t i = 0; i < m->cap; i++)
		if (m->tab[i].used && m->tab[i].state < TS_STATE_MAX)
			out[m->tab[i].state]++;
}

void model_advance(struct model *m, uint64_t now_ns)
{
	seen_ts(m, now_ns);
}

struct rebase_ctx {
	uint32_t *live; /* sorted namespaces that hold sockets */
	size_t nlive;
	uint64_t since; /* the window that ends */
};

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool keep_ns(void *item, void *ctx)
{
	struct rebase_ctx *r = ctx;
	struct mns *n = item;

	if (n->last_change_ns >= r->since ||
	    (r->live && bsearch(&n->netns, r->live, r->nlive, sizeof(uint32_t), u32_cmp)))
		goto keep;
	return false; /* no socket, nothing for a window: gone or idle (re-added if seen) */
keep:
	/* the counters' deltas start again from the latest record */
	if (n->have_end) {
		n->start = n->end;
		n->have_start = true;
	}
	n->tw_overflow = n->tw_overflow_inferred = 0;
	return true;
}

static bool keep_listener(void *item, void *ctx)
{
	struct mlistener *l = item;

	memset(l->ovf, 0, sizeof(l->ovf));
	return !l->closed;
}

void model_rebase(struct model *m, uint64_t now_ns)
{
	struct rebase_ctx r = { .since = m->start_ns };
	size_t cap = 0;

	seen_ts(m, now_ns);
	/* the namespaces that hold sockets, for keep_ns() */
	for (size_t i = 0; i < m->cap; i++) {
		const struct msock *s = &m->tab[i];

		if (!s->used || (r.nlive && r.live[r.nlive - 1] == s->netns))
			continue;
		if (r.nlive == cap) {
			uint32_t *p = realloc(r.live, (cap = cap ? cap * 2 : 64) * sizeof(*p));

			if (!p) {
				free(r.live);
				r.live = NULL;
				r.nlive = 0;
				r.since = 0; /* out of memory: keep every namespace */
				break;
			}
			r.live = p;
		}
		r.live[r.nlive++] = s->netns;
	}
	if (r.live)
		qsort(r.live, r.nlive, sizeof(uint32_t), u32_cmp);
	keyed_retain(&m->ns, keep_ns, &r);
	keyed_retain(&m->lis, keep_listener, NULL);
	keyed_clear(&m->dest);
	keyed_clear(&m->ab);
	free(r.live);
	m->start_ns = now_ns;
	m->have_start = true;
}

size_t model_forget(struct model *m, uint32_t netns, uint32_t states)
{
	size_t n = 0;

	/* as in model_resync: erase() refills slot i, look at it again */
	for (size_t i = 0; i < m->cap;) {
		struct msock *s = &m->tab[i];

		if (s->used && s->netns == netns && (states & (1u << s->state))) {
			erase(m, s);
			n++;
			continue;
		}
		i++;
	}
	m->forgotten += n;
	return n;
}
