// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "findings.h"
#include "fmt.h"
#include "keyed.h"


const char *severity_name(enum severity s)
{
	return s == SEV_CRITICAL ? "critical" : s == SEV_WARNING ? "warning" : "info";
}

/* ---- grouping sockets by a rule's key ---- */

struct gkey {
	uint32_t netns;
	uint16_t family, port;		/* port: the local or remote port a rule groups by */
	uint8_t laddr[16], raddr[16];	/* local and remote address, where a rule groups by them */
	uint32_t pid;
	char comm[TCPSCOPE_COMM_LEN];
	uint8_t side;  /* rule-specific: 1 = grouped by peer */
	uint8_t state; /* FIN_WAIT1 or FIN_WAIT2: one group per state */
	uint8_t _pad[2];
};

struct group {
	struct gkey k;	       /* the key (struct keyed) */
	uint64_t count, newer; /* sockets; of them, entered their state during the run */
	uint64_t aged;	       /* older than the rule's minimum age */
	uint64_t oldest;
	bool oldest_lb;	       /* the oldest's age is a lower bound */
	bool oldest_ti;	       /* ... taken from tcp_info at the census */
	/* port_exhaustion: the ports held, by state, and TIME_WAIT entered in the run */
	uint64_t held_tw, held_estab, held_other, tw_entered;
	/* fin_wait: orphaned (a timewait socket) or still held by a process */
	uint64_t orphaned, held;
	uint64_t peers;	       /* distinct peer addresses */
	uint8_t peer[16];      /* one of them, for an example */
	uint16_t peer_port;
	uint64_t cgroup;       /* an owner's cgroup id (a process has one), 0 unknown */
};

struct peer_seen {
	struct gkey k;
	uint8_t addr[16];
};

struct grouping {
	struct keyed groups; /* struct group */
	struct keyed peers;  /* struct peer_seen: (group, peer address) pairs seen */
	bool failed;	     /* out of memory: some sockets were not counted */
};

static void grouping_init(struct grouping *gr)
{
	memset(gr, 0, sizeof(*gr));
	keyed_init(&gr->groups, sizeof(struct group), sizeof(struct gkey));
	keyed_init(&gr->peers, sizeof(struct peer_seen), sizeof(struct peer_seen));
}

static void grouping_free(struct grouping *gr)
{
	keyed_free(&gr->groups);
	keyed_free(&gr->peers);
}

/* Account socket s into the group of key k; returns the group (NULL when
 * out of memory) for rule-specific counts. */
static struct group *group_add(struct grouping *gr, const struct gkey *k, const struct model *m,
			       const struct msock *s, uint64_t min_age)
{
	struct group *g = keyed_get(&gr->groups, k);
	struct peer_seen ps = { .k = *k };
	bool lb;
	uint64_t age;

	if (!g) {
		gr->failed = true;
		return NULL;
	}
	age = model_age(m, s, &lb);
	g->count++;
	/* entered its state in the run: seen doing it, or born in the run
	 * (the start census did not have it) */
	if (s->since_known || !s->census)
		g->newer++;
	if (age >= min_age)
		g->aged++;
	if (age > g->oldest || (age == g->oldest && lb)) {
		g->oldest = age;
		g->oldest_lb = lb;
		g->oldest_ti = s->age_tcp_info;
	}
	memcpy(ps.addr, s->t.daddr, 16);
	if (!keyed_find(&gr->peers, &ps)) {
		if (keyed_get(&gr->peers, &ps))
			g->peers++;
		else
			gr->failed = true;
	}
	memcpy(g->peer, s->t.daddr, 16);
	g->peer_port = s->t.dport;
	if (s->owner_known && s->owner.cgroup)
		g->cgroup = s->owner.cgroup;
	return g;
}

/* Out of memory while grouping: the findings say they are incomplete */
static void grouping_done(struct grouping *gr, struct findings *out)
{
	if (gr->failed)
		out->failed = true;
	grouping_free(gr);
}

#define for_each_group(gr, g)                                                                 \
	for (size_t gi_ = 0; gi_ < (gr)->groups.n && ((g) = keyed_at(&(gr)->groups, gi_)); gi_++)

/* ---- building findings ---- */

static struct finding *add(struct findings *out, enum severity sev, const char *kind,
			   uint32_t netns)
{
	if (out->n == out->cap) {
		size_t nc = out->cap ? out->cap * 2 : 16;
		struct finding *p = realloc(out->f, nc * sizeof(*p));

		if (!p) {
			out->failed = true;
			return NULL;
		}
		out->f = p;
		out->cap = nc;
	}
	struct finding *f = &out->f[out->n++];

	memset(f, 0, sizeof(*f));
	f->severity = sev;
	f->kind = kind;
	f->netns = netns;
	if (sev > out->worst)
		out->worst = sev;
	if (sev >= SEV_WARNING)
		out->warnings++;
	return f;
}

static void __attribute__((format(printf, 3, 4))) kv(struct finding *f, const char *key,
						     const char *fmt, ...)
{
	va_list ap;

	if (f->nkv == FIND_MAX_KV)
		return;
	f->kv[f->nkv].key = key;
	f->kv[f->nkv].str = false;
	va_start(ap, fmt);
	vsnprintf(f->kv[f->nkv].val, sizeof(f->kv[0].val), fmt, ap);
	va_end(ap);
	f->nkv++;
}

static void kvs(struct finding *f, const char *key, const char *val)
{
	if (f->nkv == FIND_MAX_KV)
		return;
	f->kv[f->nkv].key = key;
	f->kv[f->nkv].str = true;
	snprintf(f->kv[f->nkv].val, sizeof(f->kv[0].val), "%s", val);
	f->nkv++;
}

static void __attribute__((format(printf, 2, 3))) line(struct finding *f, const char *fmt, ...)
{
	size_t n = strlen(f->evidence);
	va_list ap;

	if (n + 2 >= sizeof(f->evidence))
		return;
	if (n)
		f->evidence[n++] = '\n';
	va_start(ap, fmt);
	vsnprintf(f->evidence + n, sizeof(f->evidence) - n, fmt, ap);
	va_end(ap);
}

/* pid, comm and cgroup_id (the owner's cgroup v2 id: its container for
 * serve's labels; a number of the host the run was on) */
static void kv_owner(struct finding *f, uint32_t pid, const char *comm, uint64_t cgroup)
{
	char c[TCPSCOPE_COMM_LEN + 1];

	if (!pid) {
		kv(f, "pid", "null");
		kv(f, "comm", "null");
		kv(f, "cgroup_id", "null");
		return;
	}
	snprintf(c, sizeof(c), "%.*s", TCPSCOPE_COMM_LEN, comm);
	kv(f, "pid", "%u", pid);
	kvs(f, "comm", c);
	if (cgroup)
		kv(f, "cgroup_id", "%llu", (unsigned long long)cgroup);
	else
		kv(f, "cgroup_id", "null");
}

/* "pid 123 (nginx)" or "no process (orphaned)" */
static const char *owner_str(uint32_t pid, const char *comm, char *buf, size_t len)
{
	if (pid)
		snprintf(buf, len, "pid %u (%.*s)", pid, TCPSCOPE_COMM_LEN, comm);
	else
		snprintf(buf, len, "no process");
	return buf;
}

/* "12 s", "≥ 12 min" */
static const char *age_str(uint64_t ns, bool lb, char *buf, size_t len)
{
	uint64_t s = ns / NSEC_PER_SEC;
	const char *ge = lb ? ">= " : "";

	if (s < 120)
		snprintf(buf, len, "%s%.1f s", ge, (double)ns / NSEC_PER_SEC);
	else if (s < 7200)
		snprintf(buf, len, "%s%llu min", ge, (unsigned long long)(s / 60));
	else
		snprintf(buf, len, "%s%.1f h", ge, s / 3600.0);
	return buf;
}

static const char *sysctl_of(const struct model *m, uint32_t netns, const char *name)
{
	const struct nsinfo *ns = model_ns_latest(m, netns);

	return ns ? nsinfo_sysctl(ns, name) : NULL;
}

/* Growth of a counter over the run; false when not known at both ends */
bool findings_counter_delta(const struct model *m, uint32_t netns, const char *name, uint64_t *d)
{
	const struct mns *n = model_ns(m, netns);
	uint64_t a, b;

	if (!n || !n->have_start || !n->have_end || !nsinfo_counter(&n->start, name, &a) ||
	    !nsinfo_counter(&n->end, name, &b))
		return false;
	*d = b >= a ? b - a : 0;
	return true;
}

bool findings_client_side(const struct model *m, const struct msock *s)
{
	const struct mns *n = model_ns(m, s->netns);

	return n && n->port_lo && s->t.sport >= n->port_lo && s->t.sport <= n->port_hi &&
	       !model_listener(m, s->netns, &s->t);
}

void findings_cw_key(const struct msock *s, bool client_side, struct cw_key *k)
{
	memset(k, 0, sizeof(*k));
	k->netns = s->netns;
	k->family = s->t.family;
	if (s->owner_known) {
		k->pid = s->owner.pid;
		memcpy(k->comm, s->owner.comm, TCPSCOPE_COMM_LEN);
	}
	/* a server's by its local port; a client's (ephemeral port) by its peer */
	if (client_side) {
		k->side = 1;
		k->port = s->t.dport;
		memcpy(k->peer, s->t.daddr, 16);
	} else {
		k->port = s->t.sport;
	}
}

/* A group key's common part: the socket's namespace and family */
static struct gkey gkey_of(const struct msock *s)
{
	return (struct gkey){ .netns = s->netns, .family = s->t.family };
}

static bool has_finding(const struct findings *out, const char *kind, uint32_t netns)
{
	for (size_t i = 0; i < out->n; i++)
		if (out->f[i].netns == netns && !strcmp(out->f[i].kind, kind))
			return true;
	return false;
}

/* (an empty model has no table: no arithmetic on its NULL) */
#define for_each_socket(m, s)                                                              \
	for (const struct msock *s = (m)->tab, *end_ = s ? s + (m)->cap : s; s < end_; s++)  \
		if (s->used)

/* 1. CLOSE_WAIT by process and local port */
static void close_wait(const struct model *m, struct findings *out)
{
	struct grouping gr;
	struct group *g;
	double secs = model_seconds(m);

	grouping_init(&gr);
	for_each_socket(m, s) {
		struct gkey k = gkey_of(s);
		struct cw_key c;

		if (s->tw || s->state != TS_CLOSE_WAIT)
			continue;
		findings_cw_key(s, findings_client_side(m, s), &c);
		k.pid = c.pid;
		memcpy(k.comm, c.comm, TCPSCOPE_COMM_LEN);
		k.side = c.side;
		k.port = c.port;
		memcpy(k.raddr, c.peer, 16);
		group_add(&gr, &k, m, s, CW_MIN_AGE_NS);
	}
	for_each_group(&gr, g) {
		char o[64], age[32], peer[ENDPOINT_STRLEN];

		if (g->aged < CW_MIN_COUNT)
			continue;
		struct finding *f = add(out, g->count >= CW_CRITICAL_COUNT ? SEV_CRITICAL : SEV_WARNING,
					"close_wait_leak", g->k.netns);
		if (!f)
			break;
		owner_str(g->k.pid, g->k.comm, o, sizeof(o));
		age_str(g->oldest, g->oldest_lb, age, sizeof(age));
		if (g->k.side)
			snprintf(f->title, sizeof(f->title),
				 "CLOSE_WAIT leak: %s toward %s: %llu sockets, oldest %s", o,
				 fmt_endpoint(g->k.family, g->k.raddr, g->k.port, peer, sizeof(peer)),
				 (unsigned long long)g->count, age);
		else
			snprintf(f->title, sizeof(f->title),
				 "CLOSE_WAIT leak: %s on local port %u: %llu sockets, oldest %s", o,
				 g->k.port, (unsigned long long)g->count, age);
		line(f, "%llu sockets in CLOSE_WAIT: the peer closed, this process never called "
			"close(); %llu of them older than %llu s",
		     (unsigned long long)g->count, (unsigned long long)g->aged, CW_MIN_AGE_NS / NSEC_PER_SEC);
		line(f, "%llu entered CLOSE_WAIT during the %.0f s run (%.1f/min)%s%s",
		     (unsigned long long)g->newer, secs, secs > 0 ? g->newer * 60.0 / secs : 0.0,
		     g->count > g->newer ? "; the others are older than the run" : "",
		     g->oldest_ti ? " (their age from tcp_info: since the peer's FIN, the last "
				    "ACK received)" : "");
		line(f, "peers: %llu address%s, e.g. %s", (unsigned long long)g->peers,
		     g->peers == 1 ? "" : "es",
		     fmt_endpoint(g->k.family, g->peer, g->peer_port, peer, sizeof(peer)));
		f->remedy = "fix the application: close() the socket when read() returns 0 (the peer's "
			    "FIN); no sysctl shortens CLOSE_WAIT (tcp_fin_timeout and keepalive do not "
			    "apply); restarting the process frees them meanwhile";
		kv_owner(f, g->k.pid, g->k.comm, g->cgroup);
		if (g->k.side) {
			kv(f, "lport", "null");
			kvs(f, "daddr", fmt_addr(g->k.family, g->k.raddr, peer, sizeof(peer)));
			kv(f, "dport", "%u", g->k.port);
		} else {
			kv(f, "lport", "%u", g->k.port);
		}
		kv(f, "count", "%llu", (unsigned long long)g->count);
		kv(f, "older_than_min", "%llu", (unsigned long long)g->aged);
		kv(f, "oldest_s", "%.1f", (double)g->oldest / NSEC_PER_SEC);
		kv(f, "oldest_lower_bound", "%s", g->oldest_lb ? "true" : "false");
		kvs(f, "oldest_age_from", g->oldest_ti ? "tcp_info" : g->oldest_lb ? "census" : "events");
		kv(f, "new_in_run", "%llu", (unsigned long long)g->newer);
		kv(f, "per_min", "%.2f", secs > 0 ? g->newer * 60.0 / secs : 0.0);
	}
	grouping_done(&gr, out);
}

/* The connect() record of a group's destination: from its local address,
 * else one whose failures (recorded before a local address was chosen)
 * went there */
static const struct mdest *dest_of(const struct model *m, const struct gkey *k)
{
	struct mdest key = { .netns = k->netns, .family = k->family, .dport = k->port };
	const struct mdest *d;

	memcpy(key.saddr, k->laddr, 16);
	memcpy(key.daddr, k->raddr, 16);
	d = keyed_find(&m->dest, &key);
	for (size_t i = 0; i < m->dest.n && !d; i++) {
		const struct mdest *x = keyed_at(&m->dest, i);

		if (x->failures && !memcmp(x, &key, offsetof(struct mdest, saddr)) &&
		    !memcmp(x->daddr, key.daddr, 16))
			d = x;
	}
	return d;
}

static bool addr_is_loopback(int family, const uint8_t a[16])
{
	static const uint8_t v6lo[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (family == AF_INET)
		return a[0] == 127;
	return !memcmp(a, v6lo, 16) || (!memcmp(a, mapped, 12) && a[12] == 127);
}

/* How long a TIME_WAIT port toward this destination blocks connect(): with
 * tcp_tw_reuse in force (1, or 2 = loopback only: a loopback source or
 * destination address, as tcp_twsk_unique() checks) and TCP timestamps on,
 * connect() takes over a TIME_WAIT 4-tuple once it is
 * net.ipv4.tcp_tw_reuse_delay old (6.13+; before, about one second after the
 * last timestamp seen); else it waits the whole 60 s. Unknown sysctls: no
 * reuse, the cautious answer. */
static double tw_blocking_seconds(const struct model *m, const struct gkey *k, bool *reuse)
{
	const char *r = sysctl_of(m, k->netns, "net.ipv4.tcp_tw_reuse");
	const char *ts = sysctl_of(m, k->netns, "net.ipv4.tcp_timestamps");
	const char *delay = sysctl_of(m, k->netns, "net.ipv4.tcp_tw_reuse_delay");
	int mode = r ? atoi(r) : 0;

	*reuse = ts && atoi(ts) != 0 &&
		 (mode == 1 || (mode == 2 && (addr_is_loopback(k->family, k->laddr) ||
					      addr_is_loopback(k->family, k->raddr))));
	if (!*reuse)
		return TW_SECONDS;
	return delay && atoi(delay) > 0 ? atoi(delay) / 1000.0 : 1.0;
}

/* 2. Ephemeral ports held toward one destination, and what connect() saw */
static void port_pressure(const struct model *m, struct findings *out)
{
	struct grouping gr;
	struct group *g;
	double secs = model_seconds(m);

	/* client-side sockets: local port in the ephemeral range, not a listener's */
	grouping_init(&gr);
	for_each_socket(m, s) {
		struct gkey k = gkey_of(s);

		if (s->state == TS_LISTEN || !s->t.dport)
			continue;
		if (!findings_client_side(m, s))
			continue;
		k.port = s->t.dport;
		memcpy(k.laddr, s->t.saddr, 16);
		memcpy(k.raddr, s->t.daddr, 16);
		g = group_add(&gr, &k, m, s, 0);
		if (!g)
			continue;
		if (s->state == TS_TIME_WAIT)
			g->held_tw++;
		else if (s->state == TS_ESTABLISHED)
			g->held_estab++;
		else
			g->held_other++;
		if (s->state == TS_TIME_WAIT && s->since_known && s->since_ns >= m->start_ns)
			g->tw_entered++;
	}
	/* destinations connect() went to, even with nothing held now */
	for (size_t i = 0; i < m->dest.n; i++) {
		const struct mdest *d = keyed_at(&m->dest, i);
		struct gkey k = { .netns = d->netns, .family = d->family, .port = d->dport };

		memcpy(k.laddr, d->saddr, 16);
		memcpy(k.raddr, d->daddr, 16);
		if (!keyed_get(&gr.groups, &k))
			gr.failed = true;
	}
	for_each_group(&gr, g) {
		const struct mdest *d = dest_of(m, &g->k);
		unsigned lo, hi, usable = model_usable_ports(m, g->k.netns, d, &lo, &hi);
		char src[ADDR_STRLEN], dst[ENDPOINT_STRLEN], o[64];

		if (!usable)
			continue;
		double pct = 100.0 * g->count / usable;
		double rate = d && secs > 0 ? d->connects / secs : 0;
		/* Projection from what is held, not from the connect rate (a
		 * client whose peer closes first keeps no TIME_WAIT): a
		 * TIME_WAIT port blocks connect() for tw_hold seconds (60, or
		 * the reuse delay), so the TIME_WAIT entered at this run's
		 * rate levels off at rate x tw_hold; the other states stay as
		 * they are. With reuse, the TIME_WAIT held beyond that level
		 * is free for connect() to take over. */
		bool reuse;
		double tw_hold = tw_blocking_seconds(m, &g->k, &reuse);
		double tw_window = secs < TW_SECONDS ? secs : TW_SECONDS;
		double tw_rate = tw_window > 0 ? g->tw_entered / tw_window : 0;
		double tw_level = tw_rate * tw_hold;
		double tw_plateau = reuse ? tw_level : tw_level > g->held_tw ? tw_level : g->held_tw;
		double tw_now = reuse && tw_level < g->held_tw ? tw_level : g->held_tw;
		double blocking_pct = 100.0 * (tw_now + g->held_estab + g->held_other) / usable;
		double projected = tw_plateau + g->held_estab + g->held_other;
		double proj_pct = 100.0 * projected / usable;
		uint64_t fails = d ? d->failures : 0;
		enum severity sev;

		if (fails || blocking_pct >= PORT_CRIT_PCT)
			sev = SEV_CRITICAL;
		else if (blocking_pct >= PORT_WARN_PCT || proj_pct >= PORT_CRIT_PCT)
			sev = SEV_WARNING;
		else
			continue;
		struct finding *f = add(out, sev, "port_exhaustion", g->k.netns);

		if (!f)
			break;
		fmt_addr(g->k.family, g->k.laddr, src, sizeof(src));
		fmt_endpoint(g->k.family, g->k.raddr, g->k.port, dst, sizeof(dst));
		if (fails && blocking_pct < PORT_WARN_PCT)
			/* the failures were real; the ports have been freed since
			 * (TIME_WAIT expired or reused, the namespace gone) */
			snprintf(f->title, sizeof(f->title),
				 "ephemeral port exhaustion: %s -> %s: connect() failed %llu times "
				 "(EADDRNOTAVAIL); %llu of %u usable ports held at the end (%.0f%%)",
				 src, dst, (unsigned long long)fails, (unsigned long long)g->count,
				 usable, pct);
		else if (fails || blocking_pct >= PORT_WARN_PCT)
			snprintf(f->title, sizeof(f->title),
				 "ephemeral port %s: %s -> %s: %llu of %u usable ports held (%.0f%%)%s",
				 fails ? "exhaustion" : "pressure", src, dst,
				 (unsigned long long)g->count, usable, pct,
				 fails ? ", connect() failing" : "");
		else
			snprintf(f->title, sizeof(f->title),
				 "ephemeral port pressure: %s -> %s: TIME_WAIT at this rate will hold "
				 "%.0f of %u usable ports (%.0f%%; %llu now)",
				 src, dst, projected, usable, proj_pct, (unsigned long long)g->count);
		line(f, "held: TIME_WAIT %llu, ESTABLISHED %llu, other states %llu; range %u-%u, "
			"%u reserved",
		     (unsigned long long)g->held_tw, (unsigned long long)g->held_estab,
		     (unsigned long long)g->held_other, lo, hi, hi - lo + 1 - usable);
		line(f, "new connections: %.1f/s (%llu in %.0f s); %llu entered TIME_WAIT on this "
			"side (%.1f/s): at %.0f s each that holds about %.0f ports",
		     rate, (unsigned long long)(d ? d->connects : 0), secs,
		     (unsigned long long)g->tw_entered, tw_rate, tw_hold, tw_level);
		if (reuse)
			line(f, "tcp_tw_reuse applies toward this destination: connect() takes over "
				"a TIME_WAIT port after %.1f s", tw_hold);
		if (g->count >= usable)
			line(f, "the range toward this destination is used up");
		if (fails) {
			char who[160] = "";
			size_t n = 0;

			for (unsigned j = 0; j < d->nfail_pids && n < sizeof(who); j++)
				n += snprintf(who + n, sizeof(who) - n, "%s%s", j ? ", " : "",
					      owner_str(d->fail_owner[j].pid, d->fail_owner[j].comm,
							o, sizeof(o)));
			line(f, "connect() failed with EADDRNOTAVAIL (Cannot assign requested "
				"address) %llu times%s%s",
			     (unsigned long long)fails, who[0] ? ", in " : "", who);
		}
		if (d && d->scan_known)
			line(f, "ports examined per allocation: mean %.1f, max %u (%llu measured)",
			     (double)d->scan_sum / d->scan_known, d->scan_max,
			     (unsigned long long)d->scan_known);
		else
			line(f, "ports examined per allocation: not measured (needs fentry or kprobes)");
		if (d && d->tw_reused)
			line(f, "%llu allocations reused a TIME_WAIT 4-tuple (tcp_tw_reuse)",
			     (unsigned long long)d->tw_reused);
		{
			const char *reuse = sysctl_of(m, g->k.netns, "net.ipv4.tcp_tw_reuse");
			const char *ts = sysctl_of(m, g->k.netns, "net.ipv4.tcp_timestamps");

			line(f, "net.ipv4.tcp_tw_reuse = %s, net.ipv4.tcp_timestamps = %s",
			     reuse ? reuse : "?", ts ? ts : "?");
		}
		f->remedy = "reuse connections (keep-alive, a connection pool); set "
			    "net.ipv4.tcp_tw_reuse=1 on this client (TCP timestamps on at both ends); "
			    "widen net.ipv4.ip_local_port_range; bind with IP_BIND_ADDRESS_NO_PORT; spread "
			    "over more destination addresses or ports. Not tcp_tw_recycle (removed in "
			    "4.12, broke NAT); tcp_fin_timeout does not shorten TIME_WAIT";
		kvs(f, "saddr", src);
		fmt_addr(g->k.family, g->k.raddr, dst, sizeof(dst));
		kvs(f, "daddr", dst);
		kv(f, "dport", "%u", g->k.port);
		kv(f, "held", "%llu", (unsigned long long)g->count);
		kv(f, "held_time_wait", "%llu", (unsigned long long)g->held_tw);
		kv(f, "held_established", "%llu", (unsigned long long)g->held_estab);
		kv(f, "usable", "%u", usable);
		kv(f, "range_lo", "%u", lo);
		kv(f, "range_hi", "%u", hi);
		kv(f, "pct", "%.1f", pct);
		kv(f, "connects", "%llu", (unsigned long long)(d ? d->connects : 0));
		kv(f, "connects_per_s", "%.2f", rate);
		kv(f, "time_wait_entered", "%llu", (unsigned long long)g->tw_entered);
		kv(f, "projected_held", "%.0f", projected);
		kvs(f, "tw_reuse", reuse ? "true" : "false");
		kv(f, "eaddrnotavail", "%llu", (unsigned long long)fails);
		if (fails && d->nfail_pids)
			kv(f, "failed_pid", "%u", d->fail_owner[0].pid);
		if (d && d->scan_known)
			kv(f, "scan_max", "%u", d->scan_max);
		else
			kv(f, "scan_max", "null");
	}
	grouping_done(&gr, out);
}

/* 3. TIME_WAIT on a server's own port: explained, not a warning */
static void server_time_wait(const struct model *m, struct findings *out)
{
	struct grouping gr;
	struct group *g;

	grouping_init(&gr);
	for_each_socket(m, s) {
		struct gkey k = gkey_of(s);

		if (!s->tw || s->state != TS_TIME_WAIT || findings_client_side(m, s))
			continue;
		k.port = s->t.sport;
		memcpy(k.laddr, s->t.saddr, 16);
		group_add(&gr, &k, m, s, 0);
	}
	for_each_group(&gr, g) {
		char a[ENDPOINT_STRLEN];

		if (g->count < SERVER_TW_MIN)
			continue;
		/* port_pressure() ran before */
		bool pressure = has_finding(out, "port_exhaustion", g->k.netns);
		struct finding *f = add(out, SEV_INFO, "server_time_wait", g->k.netns);

		if (!f)
			break;
		fmt_endpoint(g->k.family, g->k.laddr, g->k.port, a, sizeof(a));
		snprintf(f->title, sizeof(f->title),
			 "server-side TIME_WAIT on %s: %llu sockets toward %llu peer address%s (harmless)",
			 a, (unsigned long long)g->count, (unsigned long long)g->peers,
			 g->peers == 1 ? "" : "es");
		line(f, "this side closes first, so its connections end in TIME_WAIT (60 s); they "
			"share one local port and differ by peer address:port: no ephemeral port is "
			"used up, each costs a small timewait socket and no file descriptor");
		line(f, "%s", pressure ? "this namespace does show client-side port pressure: see "
					 "that finding, not this one" :
					 "no client-side port pressure in this namespace");
		f->remedy = "none needed; a new SYN from the same peer port may recycle a TIME_WAIT "
			    "4-tuple. Let the client close first only if the peers run out of ports";
		kvs(f, "saddr", fmt_addr(g->k.family, g->k.laddr, a, sizeof(a)));
		kv(f, "lport", "%u", g->k.port);
		kv(f, "count", "%llu", (unsigned long long)g->count);
		kv(f, "peers", "%llu", (unsigned long long)g->peers);
		kv(f, "port_pressure", "%s", pressure ? "true" : "false");
	}
	grouping_done(&gr, out);
}

/* 4. FIN_WAIT2 by peer (the peer never closes), FIN_WAIT1 that lasts */
static void fin_wait(const struct model *m, struct findings *out)
{
	struct grouping gr;
	struct group *g;

	grouping_init(&gr);
	for_each_socket(m, s) {
		struct gkey k = gkey_of(s);

		if (s->state != TS_FIN_WAIT2 && s->state != TS_FIN_WAIT1)
			continue;
		k.state = s->state; /* one group per state and peer address */
		memcpy(k.raddr, s->t.daddr, 16);
		g = group_add(&gr, &k, m, s,
			      s->state == TS_FIN_WAIT2 ? FW2_MIN_AGE_NS : FW1_MIN_AGE_NS);
		if (!g)
			continue;
		if (s->tw)
			g->orphaned++;
		else
			g->held++;
	}
	for_each_group(&gr, g) {
		bool fw2 = g->k.state == TS_FIN_WAIT2;
		char peer[ADDR_STRLEN], age[32];

		if ((fw2 ? g->aged < FW2_MIN_COUNT : g->aged < 1))
			continue;
		const char *fin = sysctl_of(m, g->k.netns, "net.ipv4.tcp_fin_timeout");
		struct finding *f = add(out, SEV_WARNING, fw2 ? "fin_wait2" : "fin_wait1", g->k.netns);

		if (!f)
			break;
		fmt_addr(g->k.family, g->k.raddr, peer, sizeof(peer));
		age_str(g->oldest, g->oldest_lb, age, sizeof(age));
		if (fw2) {
			snprintf(f->title, sizeof(f->title),
				 "FIN_WAIT2 toward %s: %llu sockets, oldest %s: the peer never closes",
				 peer, (unsigned long long)g->count, age);
			line(f, "our FIN was acknowledged but the peer's FIN never came: the peer "
				"application holds its socket in CLOSE_WAIT");
			line(f, "%llu orphaned (no process; freed after net.ipv4.tcp_fin_timeout = %s s), "
				"%llu still held by a process (shutdown() without close(): no timeout)",
			     (unsigned long long)g->orphaned, fin ? fin : "?", (unsigned long long)g->held);
			f->remedy = "fix the peer application at this address to close() its sockets; "
				    "meanwhile a lower net.ipv4.tcp_fin_timeout frees orphaned FIN_WAIT2 "
				    "sooner (it does not shorten TIME_WAIT)";
		} else {
			snprintf(f->title, sizeof(f->title),
				 "FIN_WAIT1 toward %s: %llu sockets, oldest %s: the peer does not "
				 "acknowledge our FIN", peer, (unsigned long long)g->count, age);
			line(f, "%llu older than %llu s; the kernel retransmits the FIN with back-off "
				"and then drops the socket",
			     (unsigned long long)g->aged, FW1_MIN_AGE_NS / NSEC_PER_SEC);
			f->remedy = "check that the peer host is up and reachable (a firewall dropping "
				    "packets, a dead host), or whether it advertises a zero window; "
				    "net.ipv4.tcp_orphan_retries bounds the retransmissions";
		}
		kvs(f, "daddr", peer);
		kv(f, "count", "%llu", (unsigned long long)g->count);
		kv(f, "older_than_min", "%llu", (unsigned long long)g->aged);
		kv(f, "orphaned", "%llu", (unsigned long long)g->orphaned);
		kv(f, "held", "%llu", (unsigned long long)g->held);
		kv(f, "oldest_s", "%.1f", (double)g->oldest / NSEC_PER_SEC);
		kv(f, "oldest_lower_bound", "%s", g->oldest_lb ? "true" : "false");
		if (fin)
			kv(f, "tcp_fin_timeout", "%s", fin);
	}
	grouping_done(&gr, out);
}

/* 5. Listen (accept) queue overflow, per listener and per namespace */

/* A namespace's counters of listen trouble over the run */
struct listen_counters {
	bool have; /* ListenOverflows known at both ends */
	uint64_t ovf, drops, synretrans, cookies, reqfull;
	const char *somaxconn, *syn_backlog;
};

static struct listen_counters listen_counters_of(const struct model *m, uint32_t netns)
{
	struct listen_counters c = {};

	c.have = findings_counter_delta(m, netns, "TcpExt.ListenOverflows", &c.ovf);
	findings_counter_delta(m, netns, "TcpExt.ListenDrops", &c.drops);
	findings_counter_delta(m, netns, "TcpExt.TCPSynRetrans", &c.synretrans);
	findings_counter_delta(m, netns, "TcpExt.SyncookiesSent", &c.cookies);
	findings_counter_delta(m, netns, "TcpExt.TCPReqQFullDrop", &c.reqfull);
	c.somaxconn = sysctl_of(m, netns, "net.core.somaxconn");
	c.syn_backlog = sysctl_of(m, netns, "net.ipv4.tcp_max_syn_backlog");
	return c;
}

static uint64_t drop_events(const struct mlistener *l)
{
	return l->ovf[OVF_SYN] + l->ovf[OVF_ACK];
}

/* One listener's finding: its drop events, else the queue it had when full */
static void listener_finding(struct findings *out, const struct mlistener *l,
			     const struct listen_counters *c)
{
	uint64_t events = drop_events(l), n = events > c->ovf ? events : c->ovf;
	char a[ENDPOINT_STRLEN], o[64];
	struct finding *f = add(out, n >= 100 ? SEV_CRITICAL : SEV_WARNING, "listen_overflow",
				l->netns);

	if (!f)
		return;
	fmt_endpoint(l->family, l->saddr, l->port, a, sizeof(a));
	owner_str(l->owner_known ? l->owner.pid : 0, l->owner.comm, o, sizeof(o));
	snprintf(f->title, sizeof(f->title),
		 "listen backlog overflow on %s (%s): accept queue %u of %u, %llu connections "
		 "dropped", a, o, l->accept_queue, l->backlog, (unsigned long long)n);
	line(f, "accept queue %u, limit %u = min(listen() backlog, net.core.somaxconn = %s)%s",
	     l->accept_queue, l->backlog, c->somaxconn ? c->somaxconn : "?",
	     events ? " at the last drop" : "");
	if (events)
		line(f, "drops seen: %llu SYN, %llu final ACK (the client retransmits and waits)",
		     (unsigned long long)l->ovf[OVF_SYN], (unsigned long long)l->ovf[OVF_ACK]);
	else
		line(f, "this kernel's hooks do not name the listener of a drop: it is the listener "
			"whose queue was full");
	if (c->have)
		line(f, "namespace counters over the run: ListenOverflows +%llu, ListenDrops +%llu, "
			"TCPSynRetrans +%llu, SyncookiesSent +%llu, TCPReqQFullDrop +%llu",
		     (unsigned long long)c->ovf, (unsigned long long)c->drops,
		     (unsigned long long)c->synretrans, (unsigned long long)c->cookies,
		     (unsigned long long)c->reqfull);
	f->remedy = "accept() faster (more workers, a non-blocking accept loop); raise the listen() "
		    "backlog and net.core.somaxconn together (the smaller wins); "
		    "net.ipv4.tcp_max_syn_backlog for the SYN queue";
	kv(f, "lport", "%u", l->port);
	kv_owner(f, l->owner_known ? l->owner.pid : 0, l->owner.comm, l->owner.cgroup);
	kv(f, "accept_queue", "%u", l->accept_queue);
	kv(f, "backlog", "%u", l->backlog);
	kv(f, "dropped_syn", "%llu", (unsigned long long)l->ovf[OVF_SYN]);
	kv(f, "dropped_ack", "%llu", (unsigned long long)l->ovf[OVF_ACK]);
	if (c->have) {
		kv(f, "listen_overflows", "%llu", (unsigned long long)c->ovf);
		kv(f, "listen_drops", "%llu", (unsigned long long)c->drops);
	} else {
		kv(f, "listen_overflows", "null");
		kv(f, "listen_drops", "null");
	}
	if (c->somaxconn)
		kv(f, "somaxconn", "%s", c->somaxconn);
	if (c->syn_backlog)
		kv(f, "tcp_max_syn_backlog", "%s", c->syn_backlog);
}

static void listen_overflow(const struct model *m, struct findings *out)
{
	/* listeners that drop events name */
	for (size_t i = 0; i < m->lis.n; i++) {
		const struct mlistener *l = keyed_at(&m->lis, i);

		if (drop_events(l)) {
			struct listen_counters c = listen_counters_of(m, l->netns);

			listener_finding(out, l, &c);
		}
	}
	/* namespaces whose counters grew with no listener named: the listeners whose
	 * queue was full, else the namespace itself */
	for (size_t i = 0; i < m->ns.n; i++) {
		uint32_t netns = ((const struct mns *)keyed_at(&m->ns, i))->netns;
		struct listen_counters c = listen_counters_of(m, netns);
		size_t named = 0;

		if ((!c.ovf && !c.drops) || has_finding(out, "listen_overflow", netns))
			continue;
		for (size_t j = 0; j < m->lis.n && c.ovf; j++) {
			const struct mlistener *l = keyed_at(&m->lis, j);

			if (l->netns == netns && l->have_queue && l->accept_queue > l->backlog) {
				listener_finding(out, l, &c);
				named++;
			}
		}
		if (named)
			continue;
		struct finding *f = add(out, SEV_WARNING, "listen_overflow", netns);

		if (!f)
			return;
		snprintf(f->title, sizeof(f->title),
			 "listen backlog overflow in network namespace %u: %llu overflows, listener "
			 "not identified", netns, (unsigned long long)c.ovf);
		line(f, "ListenOverflows +%llu, ListenDrops +%llu over the run; no drop event named a "
			"listener (SYN-stage drops need fentry or kprobes) and none was full at the "
			"census", (unsigned long long)c.ovf, (unsigned long long)c.drops);
		f->remedy = "ss -lnt in that namespace shows each listener's queue (Recv-Q) and limit "
			    "(Send-Q); accept faster or raise the backlog and net.core.somaxconn";
		kv(f, "listen_overflows", "%llu", (unsigned long long)c.ovf);
		kv(f, "listen_drops", "%llu", (unsigned long long)c.drops);
	}
}

/* 6. Timewait bucket overflow and conntrack filling up */
static void table_limits(const struct model *m, struct findings *out)
{
	for (size_t i = 0; i < m->ns.n; i++) {
		const struct mns *n = keyed_at(&m->ns, i);
		uint64_t d = 0;
		bool have = findings_counter_delta(m, n->netns, "TcpExt.TCPTimeWaitOverflow", &d);

		/* An overflow inferred from the state machine (tracepoint tier) is
		 * believed only as far as the kernel's own counter grew */
		uint64_t inferred = have ? (n->tw_overflow_inferred < d ? n->tw_overflow_inferred : d) : 0;
		uint64_t seen = n->tw_overflow + inferred;

		if (seen || d) {
			const char *max = sysctl_of(m, n->netns, "net.ipv4.tcp_max_tw_buckets");
			uint64_t c = seen > d ? seen : d;
			struct finding *f = add(out, SEV_CRITICAL, "tw_bucket_overflow", n->netns);

			if (!f)
				return;
			snprintf(f->title, sizeof(f->title),
				 "TIME_WAIT bucket overflow: %llu connections closed without TIME_WAIT "
				 "(net.ipv4.tcp_max_tw_buckets = %s)",
				 (unsigned long long)c, max ? max : "?");
			line(f, "%llu overflow events (%llu seen in tcp_time_wait(), %llu inferred); "
				"TCPTimeWaitOverflow %s%llu over the run",
			     (unsigned long long)(n->tw_overflow + n->tw_overflow_inferred),
			     (unsigned long long)n->tw_overflow,
			     (unsigned long long)n->tw_overflow_inferred, have ? "+" : "unknown ",
			     (unsigned long long)d);
			line(f, "the kernel logs \"TCP: time wait bucket table overflow\"; late "
				"segments of those connections can reach a new one");
			f->remedy = "raise net.ipv4.tcp_max_tw_buckets (a timewait socket costs a few "
				    "hundred bytes), and cut the churn: connection reuse, tcp_tw_reuse on "
				    "clients";
			kv(f, "overflows", "%llu", (unsigned long long)c);
			if (max)
				kv(f, "tcp_max_tw_buckets", "%s", max);
		}
		const char *cnt = sysctl_of(m, n->netns, "net.netfilter.nf_conntrack_count");
		const char *max = sysctl_of(m, n->netns, "net.netfilter.nf_conntrack_max");
		unsigned long long cv, mv;

		if (cnt && max && sscanf(cnt, "%llu", &cv) == 1 && sscanf(max, "%llu", &mv) == 1 &&
		    mv && cv * 100 >= mv * CONNTRACK_WARN_PCT) {
			struct finding *f = add(out,
						cv * 100 >= mv * CONNTRACK_CRIT_PCT ? SEV_CRITICAL :
										      SEV_WARNING,
						"conntrack_full", n->netns);
			if (!f)
				return;
			snprintf(f->title, sizeof(f->title),
				 "conntrack table %llu of %llu entries (%.0f%%)", cv, mv, 100.0 * cv / mv);
			line(f, "when it is full netfilter drops new connections (\"nf_conntrack: "
				"table full, dropping packet\"); TIME_WAIT connections keep entries");
			f->remedy = "raise net.netfilter.nf_conntrack_max (and the hash size), shorten "
				    "nf_conntrack_tcp_timeout_time_wait, or exempt busy local traffic "
				    "with NOTRACK rules";
			kv(f, "count", "%llu", cv);
			kv(f, "max", "%llu", mv);
		}
	}
}

/* 7. Resets: connections that ended without their FIN exchange */
static void resets(const struct model *m, struct findings *out)
{
	for (size_t i = 0; i < m->ab.n; i++) {
		const struct mabort *a = keyed_at(&m->ab, i);
		uint64_t n = a->from_estab + a->from_close_wait;
		uint64_t linger = 0, onclose = 0, ondata = 0, estabrst = 0, outrst = 0;
		char peer[ADDR_STRLEN], o[64];

		if (n < ABORT_MIN)
			continue;
		bool have = findings_counter_delta(m, a->netns, "TcpExt.TCPAbortOnLinger", &linger);

		findings_counter_delta(m, a->netns, "TcpExt.TCPAbortOnClose", &onclose);
		findings_counter_delta(m, a->netns, "TcpExt.TCPAbortOnData", &ondata);
		findings_counter_delta(m, a->netns, "Tcp.EstabResets", &estabrst);
		findings_counter_delta(m, a->netns, "Tcp.OutRsts", &outrst);
		/* One burst (a load generator or a client stopping with requests
		 * in flight: the kernel resets what it closes with unread data) is
		 * not a pattern; resets that recur over a second or more are. */
		double spread = (a->last_ns - a->first_ns) / (double)NSEC_PER_SEC;
		bool burst = spread < ABORT_MIN_SPREAD_S;
		struct finding *f = add(out, burst ? SEV_INFO : SEV_WARNING, "resets", a->netns);

		if (!f)
			return;
		fmt_addr(a->family, a->daddr, peer, sizeof(peer));
		owner_str(a->pid, a->comm, o, sizeof(o));
		snprintf(f->title, sizeof(f->title),
			 "abortive closes: %s with peer %s: %llu connections reset%s", o, peer,
			 (unsigned long long)n, burst ? " in one burst" : "");
		line(f, "within %.3f s%s", spread,
		     burst ? ": one burst, as when a process exits or stops with requests in "
			     "flight (a load generator's end); a warning when they recur over "
			     "a second or more" : "");
		line(f, "%llu ESTABLISHED -> CLOSE, %llu CLOSE_WAIT -> CLOSE: no FIN exchange, a RST "
			"sent or received", (unsigned long long)a->from_estab,
		     (unsigned long long)a->from_close_wait);
		if (have)
			line(f, "namespace counters over the run: resets sent by a close "
				"(TCPAbortOnData +%llu: SO_LINGER 0 or unread data; TCPAbortOnClose "
				"+%llu; TCPAbortOnLinger +%llu), EstabResets +%llu, OutRsts +%llu",
			     (unsigned long long)ondata, (unsigned long long)onclose,
			     (unsigned long long)linger, (unsigned long long)estabrst,
			     (unsigned long long)outrst);
		f->remedy = "a process that closes with SO_LINGER {1, 0} or with unread data resets "
			    "its connections (both counted in TCPAbortOnData): close gracefully "
			    "unless that is intended; resets from the peer point at the peer "
			    "application, a proxy or an idle timeout in between";
		kv_owner(f, a->pid, a->comm, a->cgroup);
		kvs(f, "daddr", peer);
		kv(f, "count", "%llu", (unsigned long long)n);
		kv(f, "spread_s", "%.3f", spread);
		kv(f, "from_established", "%llu", (unsigned long long)a->from_estab);
		kv(f, "from_close_wait", "%llu", (unsigned long long)a->from_close_wait);
		if (have) {
			kv(f, "abort_on_linger", "%llu", (unsigned long long)linger);
			kv(f, "abort_on_close", "%llu", (unsigned long long)onclose);
			kv(f, "abort_on_data", "%llu", (unsigned long long)ondata);
			kv(f, "estab_resets", "%llu", (unsigned long long)estabrst);
		}
	}
}

static int by_severity(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	if (strcmp(x->kind, y->kind))
		return strcmp(x->kind, y->kind);
	return strcmp(x->title, y->title);
}

int findings_compute(const struct model *m, struct findings *out)
{
	memset(out, 0, sizeof(*out));
	close_wait(m, out);
	port_pressure(m, out);
	server_time_wait(m, out); /* after port_pressure: it says whether there was any */
	fin_wait(m, out);
	listen_overflow(m, out);
	table_limits(m, out);
	resets(m, out);
	if (out->n > 1)
		qsort(out->f, out->n, sizeof(*out->f), by_severity);
	return out->failed ? -1 : 0;
}

void findings_free(struct findings *out)
{
	free(out->f);
	memset(out, 0, sizeof(*out));
}
