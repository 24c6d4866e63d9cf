// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The Prometheus exposition of the model (metrics.h). */
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include "cgroup.h"
#include "fmt.h"
#include "keyed.h"
#include "metrics.h"
#include "nsname.h"
#include "states.h"


/* ---- the writer: families, samples, the series cap ---- */

struct expo {
	FILE *f;
	bool om;
	const char *name; /* the current family; counters' samples get _total */
	bool counter;
	unsigned max;
	struct metrics_stats *st;
};

static void family(struct expo *e, const char *name, const char *type, const char *help)
{
	e->name = name;
	e->counter = !strcmp(type, "counter");
	/* 0.0.4 names the family as its samples; OpenMetrics without _total */
	fprintf(e->f, "# HELP %s%s %s\n# TYPE %s%s %s\n", name, e->counter && !e->om ? "_total" : "",
		help, name, e->counter && !e->om ? "_total" : "", type);
}

static bool room(struct expo *e)
{
	if (e->st->series >= e->max) {
		e->st->dropped++;
		return false;
	}
	e->st->series++;
	return true;
}

/* labels: "" or 'a="x",b="y"' (already escaped) */
static void sample_u(struct expo *e, const char *labels, uint64_t v)
{
	if (!room(e))
		return;
	fprintf(e->f, "%s%s%s%s%s %llu\n", e->name, e->counter ? "_total" : "", labels[0] ? "{" : "",
		labels, labels[0] ? "}" : "", (unsigned long long)v);
}

static void sample_d(struct expo *e, const char *labels, double v)
{
	if (!room(e))
		return;
	fprintf(e->f, "%s%s%s%s%s %.6g\n", e->name, e->counter ? "_total" : "", labels[0] ? "{" : "",
		labels, labels[0] ? "}" : "", v);
}

/* The length of the valid UTF-8 sequence at p (at most n bytes), or 0 */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* no overlong forms, surrogates or code points past U+10FFFF */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

void metrics_label_value(char *buf, size_t len, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t o = strlen(buf), n = strlen(v);

	for (size_t i = 0; i < n && o + 5 < len;) {
		size_t l = utf8_len(p + i, n - i);

		if (!l || p[i] < 0x20 || p[i] == 0x7f) {
			/* a newline escaped, other control bytes and invalid UTF-8 as '?' */
			if (p[i] == '\n')
				buf[o++] = '\\', buf[o++] = 'n';
			else
				buf[o++] = '?';
			i++;
			continue;
		}
		if (p[i] == '\\' || p[i] == '"')
			buf[o++] = '\\';
		if (o + l + 1 >= len)
			break;
		memcpy(buf + o, p + i, l);
		o += l;
		i += l;
	}
	buf[o] = 0;
}

/* 'k1="v1",k2="v2"' from NULL-terminated pairs */
static const char *labels(char *buf, size_t len, ...)
{
	va_list ap;
	const char *k, *v;

	buf[0] = 0;
	va_start(ap, len);
	while ((k = va_arg(ap, const char *))) {
		size_t o = strlen(buf);

		v = va_arg(ap, const char *);
		snprintf(buf + o, len - o, "%s%s=\"", o ? "," : "", k);
		metrics_label_value(buf, len - 2, v ? v : "");
		o = strlen(buf);
		snprintf(buf + o, len - o, "\"");
	}
	va_end(ap);
	return buf;
}

static const char *u32s(char *buf, size_t len, unsigned long long v)
{
	snprintf(buf, len, "%llu", v);
	return buf;
}

/* "established", "fin_wait1", ...: node_exporter's node_tcp_connection_states */
static const char *state_label(int state, char *buf, size_t len)
{
	const char *k = state_kernel_name(state);
	size_t i;

	for (i = 0; k[i] && i + 1 < len; i++)
		buf[i] = (char)tolower((unsigned char)k[i]);
	buf[i] = 0;
	return buf;
}

/* ---- groups of sockets, for the top-N gauges ---- */

struct grp {
	uint32_t netns;
	uint16_t family, port;
	uint8_t addr[16];
	char comm[TCPSCOPE_COMM_LEN];
	uint64_t cgroup;
	/* the key ends here */
	uint64_t count, oldest_ns;
	unsigned range; /* usable ports (destinations) */
};
#define GRP_KEY offsetof(struct grp, count)

static int grp_by_count(const void *a, const void *b)
{
	const struct grp *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->netns < y->netns ? -1 : x->netns > y->netns;
}

/* Sort k's groups by count, most first; the count beyond n is folded */
static void top_n(struct keyed *k)
{
	if (k->n)
		qsort(k->items, k->n, k->size, grp_by_count);
}

static void by_comm(struct expo *e, const struct model *m, int state, const char *name,
		    unsigned max, uint64_t *folded)
{
	struct keyed k;
	char lb[512], ns[16], h1[128], h2[128];
	struct grp other = { 0 };

	keyed_init(&k, sizeof(struct grp), GRP_KEY);
	for (size_t i = 0; i < m->cap; i++) {
		const struct msock *s = &m->tab[i];
		struct grp key = { 0 }, *g;
		bool lb_;

		if (!s->used || s->state != state)
			continue;
		key.netns = s->netns;
		if (s->owner_known && s->owner.comm[0])
			memcpy(key.comm, s->owner.comm, TCPSCOPE_COMM_LEN - 1);
		if (s->owner_known)
			key.cgroup = s->owner.cgroup;
		g = keyed_get(&k, &key);
		if (!g)
			continue;
		g->count++;
		uint64_t age = model_age(m, s, &lb_);

		if (age > g->oldest_ns)
			g->oldest_ns = age;
	}
	top_n(&k);
	for (size_t i = max; i < k.n; i++) {
		const struct grp *g = keyed_at(&k, i);

		other.count += g->count;
		if (g->oldest_ns > other.oldest_ns)
			other.oldest_ns = g->oldest_ns;
		(*folded)++;
	}
	snprintf(h1, sizeof(h1),
		 "Sockets in %s by namespace and owning process (its container and pod uid when "
		 "its cgroup names them)", name);
	snprintf(h2, sizeof(h2),
		 "Seconds the oldest %s socket of a process has been in that state (at least)",
		 name);
	for (int pass = 0; pass < 2; pass++) {
		const char *nm = state == TS_CLOSE_WAIT ?
					 (pass ? "tcpscope_close_wait_oldest_seconds" :
						 "tcpscope_close_wait_sockets") :
					 (pass ? "tcpscope_fin_wait2_oldest_seconds" :
						 "tcpscope_fin_wait2_sockets");

		family(e, nm, "gauge", pass ? h2 : h1);
		for (size_t i = 0; i < k.n && i < max; i++) {
			const struct grp *g = keyed_at(&k, i);
			const char *cp = cgroup_path(g->cgroup);
			char ctr[65] = "", pod[37] = "";

			if (cp)
				cgroup_container(cp, ctr, pod);
			labels(lb, sizeof(lb), "netns", u32s(ns, sizeof(ns), g->netns), "comm",
			       g->comm[0] ? g->comm : "unknown", "container", ctr, "pod_uid", pod,
			       NULL);
			if (pass)
				sample_d(e, lb, (double)g->oldest_ns / NSEC_PER_SEC);
			else
				sample_u(e, lb, g->count);
		}
		if (other.count) {
			labels(lb, sizeof(lb), "netns", "other", "comm", "other", "container", "",
			       "pod_uid", "", NULL);
			if (pass)
				sample_d(e, lb, (double)other.oldest_ns / NSEC_PER_SEC);
			else
				sample_u(e, lb, other.count);
		}
	}
	keyed_free(&k);
}

static void ports_held(struct expo *e, const struct model *m, unsigned max, uint64_t *folded)
{
	struct keyed k;
	char lb[512], ns[16], dst[ENDPOINT_STRLEN];
	uint64_t other = 0;

	keyed_init(&k, sizeof(struct grp), GRP_KEY);
	for (size_t i = 0; i < m->cap; i++) {
		const struct msock *s = &m->tab[i];
		struct grp key = { 0 }, *g;

		if (!s->used || s->state == TS_LISTEN || !s->t.dport || !findings_client_side(m, s))
			continue;
		key.netns = s->netns;
		key.family = s->t.family;
		key.port = s->t.dport;
		memcpy(key.addr, s->t.daddr, 16);
		g = keyed_get(&k, &key);
		if (g)
			g->count++;
	}
	top_n(&k);
	for (size_t i = max; i < k.n; i++) {
		other += ((const struct grp *)keyed_at(&k, i))->count;
		(*folded)++;
	}
	family(e, "tcpscope_ephemeral_ports_held", "gauge",
	       "Ephemeral ports held toward a destination (every state, TIME_WAIT too)");
	for (size_t i = 0; i < k.n && i < max; i++) {
		const struct grp *g = keyed_at(&k, i);

		fmt_endpoint(g->family, g->addr, g->port, dst, sizeof(dst));
		labels(lb, sizeof(lb), "netns", u32s(ns, sizeof(ns), g->netns), "destination", dst,
		       NULL);
		sample_u(e, lb, g->count);
	}
	if (other)
		sample_u(e, "netns=\"other\",destination=\"other\"", other);
	family(e, "tcpscope_ephemeral_port_range_size", "gauge",
	       "Ports connect() may use in the namespace (ip_local_port_range minus reserved), "
	       "with the labels of tcpscope_ephemeral_ports_held: held / range is one division");
	for (size_t i = 0; i < k.n && i < max; i++) {
		const struct grp *g = keyed_at(&k, i);
		unsigned lo, hi, usable = model_usable_ports(m, g->netns, NULL, &lo, &hi);

		if (!usable)
			continue;
		fmt_endpoint(g->family, g->addr, g->port, dst, sizeof(dst));
		labels(lb, sizeof(lb), "netns", u32s(ns, sizeof(ns), g->netns), "destination", dst,
		       NULL);
		sample_u(e, lb, usable);
	}
	keyed_free(&k);
}

/* Sockets by namespace and state: every node_exporter state of every
 * namespace that holds a socket */
static void sockets(struct expo *e, const struct model *m)
{
	struct nsc {
		uint32_t netns;
		uint64_t c[TS_STATE_MAX];
	};
	struct keyed k;
	char lb[256], ns[16], st[32];

	keyed_init(&k, sizeof(struct nsc), offsetof(struct nsc, c));
	for (size_t i = 0; i < m->cap; i++) {
		const struct msock *s = &m->tab[i];
		struct nsc key = { .netns = s->netns }, *n; /* the key's padding zeroed */

		if (!s->used || s->state >= TS_STATE_MAX)
			continue;
		n = keyed_get(&k, &key);
		if (n)
			n->c[s->state]++;
	}
	family(e, "tcpscope_sockets", "gauge",
	       "TCP sockets by network namespace and state (timewait sockets by substate)");
	for (size_t i = 0; i < k.n; i++) {
		const struct nsc *n = keyed_at(&k, i);

		for (int s = TS_ESTABLISHED; s <= TS_CLOSING; s++) {
			labels(lb, sizeof(lb), "netns", u32s(ns, sizeof(ns), n->netns), "state",
			       state_label(s, st, sizeof(st)), NULL);
			sample_u(e, lb, n->c[s]);
		}
	}
	keyed_free(&k);
	family(e, "tcpscope_sockets_untracked", "gauge",
	       "Sockets not kept: the model was at its limit (their states are not counted)");
	sample_u(e, "", m->untracked);
	family(e, "tcpscope_sockets_forgotten", "counter",
	       "Closing sockets dropped from the model: their namespace was gone (no census could "
	       "enter it) and quiet for 10 minutes");
	sample_u(e, "", m->forgotten);
}

/* Names of network namespaces: their bind mounts (ip netns, docker) */
static void netns_names(struct expo *e)
{
	const struct nsname *n;
	size_t count = nsname_all(&n);
	char lb[512], ns[16];

	family(e, "tcpscope_netns_info", "gauge",
	       "A network namespace's name: its bind mount (ip netns, docker); join on netns");
	for (size_t i = 0; i < count; i++)
		sample_u(e,
			 labels(lb, sizeof(lb), "netns", u32s(ns, sizeof(ns), n[i].netns), "name",
				n[i].name, "source", n[i].source, NULL),
			 1);
}

static const char *kv_of(const struct finding *f, const char *key)
{
	for (int i = 0; i < f->nkv; i++)
		if (!strcmp(f->kv[i].key, key) && strcmp(f->kv[i].val, "null"))
			return f->kv[i].val;
	return "";
}

/* One series per finding: kind, severity, namespace and what it is about
 * (process name, local port, peer); two findings with the same labels are
 * one series (the worse severity first: findings are in that order) */
static void findings(struct expo *e, const struct findings *now, const struct findings *prev)
{
	char lb[512], ns[16], peer[ENDPOINT_STRLEN];
	size_t n = now->n + (prev ? prev->n : 0);
	char (*seen)[512] = n ? calloc(n, sizeof(*seen)) : NULL;
	size_t nseen = 0;

	family(e, "tcpscope_finding", "gauge",
	       "1 while a finding of tcpscope diagnose holds (over the current and the previous "
	       "window)");
	for (size_t i = 0; i < n; i++) {
		const struct finding *f = i < now->n ? &now->f[i] : &prev->f[i - now->n];
		const char *daddr = kv_of(f, "daddr"), *dport = kv_of(f, "dport");
		bool dup = false;

		const char *cg = kv_of(f, "cgroup_id"), *path;
		char ctr[65] = "", pod[37] = "";

		peer[0] = 0;
		if (daddr[0])
			snprintf(peer, sizeof(peer), "%s%s%s", daddr, dport[0] ? ":" : "", dport);
		/* the owner's container, as the socket series name it */
		if (cg[0] && (path = cgroup_path(strtoull(cg, NULL, 10))) &&
		    !cgroup_container(path, ctr, pod))
			ctr[0] = pod[0] = 0;
		labels(lb, sizeof(lb), "kind", f->kind, "severity", severity_name(f->severity),
		       "netns", u32s(ns, sizeof(ns), f->netns), "comm", kv_of(f, "comm"), "container",
		       ctr, "pod_uid", pod, "port", kv_of(f, "lport"), "peer", peer, NULL);
		for (size_t j = 0; j < nseen && !dup; j++)
			dup = !strcmp(seen[j], lb);
		if (dup)
			continue;
		if (seen)
			strcpy(seen[nseen++], lb);
		sample_u(e, lb, 1);
	}
	free(seen);
}

static void counters(struct expo *e, const struct counters *c)
{
	static const char *const ops[] = { "other", "connect", "bind" };
	static const char *const port_ops[] = { "other", "connect", "bind", "listen", "autobind" };
	static const char *const causes[] = { "unknown", "expired", "reused", "killed" };
	static const char *const stages[] = { "other", "syn", "ack" };
	char lb[256], a[32], b[32];

	family(e, "tcpscope_transitions", "counter", "TCP state transitions seen");
	for (int f = 0; f < TS_STATE_MAX; f++)
		for (int t = 0; t < TS_STATE_MAX; t++)
			if (c->transitions[f][t]) {
				labels(lb, sizeof(lb), "from", state_label(f, a, sizeof(a)), "to",
				       state_label(t, b, sizeof(b)), NULL);
				sample_u(e, lb, c->transitions[f][t]);
			}
	family(e, "tcpscope_resets", "counter",
	       "Connections that ended with no FIN exchange (ESTABLISHED or CLOSE_WAIT to CLOSE)");
	sample_u(e, "", c->resets);
	family(e, "tcpscope_time_wait_entered", "counter", "Timewait sockets created");
	sample_u(e, "", c->tw_entered);
	family(e, "tcpscope_time_wait_overflows", "counter",
	       "Connections closed with no timewait socket (tcp_max_tw_buckets): source=hook seen "
	       "in tcp_time_wait(), inferred from the state machine (tracepoint tier)");
	sample_u(e, "source=\"hook\"", c->tw_overflow);
	sample_u(e, "source=\"inferred\"", c->tw_overflow_inferred);
	family(e, "tcpscope_time_wait_ended", "counter", "Timewait sockets freed, by cause");
	for (int i = 1; i <= TW_CAUSE_KILLED; i++)
		sample_u(e, labels(lb, sizeof(lb), "cause", causes[i], NULL), c->tw_ended[i]);
	if (c->tw_ended[0])
		sample_u(e, "cause=\"unknown\"", c->tw_ended[0]);
	family(e, "tcpscope_socket_calls", "counter", "connect() and bind() outcomes seen");
	for (int i = OP_CONNECT; i <= OP_BIND; i++)
		sample_u(e, labels(lb, sizeof(lb), "op", ops[i], NULL), c->calls[i]);
	family(e, "tcpscope_socket_errors", "counter",
	       "connect() failures after the SYN (refused, timed out, unreachable) and bind() "
	       "failures, by errno; a connect() that found no port is a port allocation failure");
	for (unsigned i = 0; i < c->ncall_err; i++)
		sample_u(e,
			 labels(lb, sizeof(lb), "op", ops[c->call_err[i].op], "errno",
				fmt_errno(-c->call_err[i].err), NULL),
			 c->call_err[i].n);
	family(e, "tcpscope_port_allocations", "counter",
	       "Ephemeral port allocations (connect, bind or listen to port 0), failed ones too");
	for (int i = PORT_CONNECT; i <= PORT_AUTOBIND; i++)
		sample_u(e, labels(lb, sizeof(lb), "op", port_ops[i], NULL), c->port_allocs[i]);
	family(e, "tcpscope_port_allocation_failures", "counter",
	       "Ephemeral port allocations that found no port, by errno");
	for (unsigned i = 0; i < c->nport_fail; i++)
		sample_u(e,
			 labels(lb, sizeof(lb), "op", port_ops[c->port_fail[i].op], "errno",
				fmt_errno(-c->port_fail[i].err), NULL),
			 c->port_fail[i].n);
	if (c->errnos_folded)
		sample_u(e, "op=\"other\",errno=\"other\"", c->errnos_folded);
	family(e, "tcpscope_listen_overflows", "counter",
	       "SYNs (stage=syn) and handshake ACKs (stage=ack) dropped at a full accept queue, "
	       "by listening port");
	for (unsigned i = 0; i < c->novf; i++)
		for (int s = OVF_SYN; s <= OVF_ACK; s++)
			if (c->ovf[i].n[s])
				sample_u(e,
					 labels(lb, sizeof(lb), "port",
						u32s(a, sizeof(a), c->ovf[i].port), "stage",
						stages[s], NULL),
					 c->ovf[i].n[s]);
	for (int s = OVF_SYN; s <= OVF_ACK; s++)
		if (c->ovf_other[s])
			sample_u(e, labels(lb, sizeof(lb), "port", "other", "stage", stages[s], NULL),
				 c->ovf_other[s]);
}

static void about(struct expo *e, const struct metrics_input *in)
{
	static const char *const types[EV_TYPE_MAX] = {
		[EV_STATE] = "state", [EV_TW] = "timewait", [EV_CALL] = "call",
		[EV_PORT] = "port", [EV_LISTEN_OVF] = "listen_overflow",
	};
	char lb[512], fact[64];

	family(e, "tcpscope_build_info", "gauge", "tcpscope's version, its libbpf and the kernel");
	sample_u(e,
		 labels(lb, sizeof(lb), "version", in->version, "libbpf", libbpf_version_string(),
			"kernel", in->kernel, NULL),
		 1);
	if (in->lad) {
		family(e, "tcpscope_hook_info", "gauge",
		       "The mechanism that observes each fact on this kernel (via=none: blind)");
		for (int f = 0; f < FACT_MAX; f++) {
			const char *n = fact_name(f);
			size_t i;

			for (i = 0; n[i] && i + 1 < sizeof(fact); i++)
				fact[i] = n[i] == ' ' ? '_' : (char)tolower((unsigned char)n[i]);
			fact[i] = 0;
			sample_u(e,
				 labels(lb, sizeof(lb), "fact", fact, "via",
					via_name(in->lad->f[f].via), NULL),
				 1);
		}
	}
	family(e, "tcpscope_events", "counter", "Events read from the kernel, by type");
	for (int t = EV_STATE; t < EV_TYPE_MAX; t++)
		sample_u(e, labels(lb, sizeof(lb), "type", types[t], NULL), in->t->seen[t]);
	family(e, "tcpscope_events_lost", "counter",
	       "Events the kernel made and tcpscope did not see, by reason");
	for (int k = 0; k < LOST_KINDS; k++)
		sample_u(e, labels(lb, sizeof(lb), "reason", lost_kind_name(k), NULL),
			 in->t->lost[k]);
	family(e, "tcpscope_self_checks", "counter",
	       "Censuses of the sockets compared with the model (it is resynced where they differ)");
	sample_u(e, "", in->self_checks);
	family(e, "tcpscope_self_check_drift_sockets", "gauge",
	       "Sockets per state the model had wrong at the latest self-check (0: it agreed)");
	sample_u(e, "", in->drift);
	family(e, "tcpscope_findings_window_seconds", "gauge",
	       "The window the findings count events over (they also hold through the next one)");
	sample_d(e, "", in->window_s);
	family(e, "tcpscope_scrapes", "counter", "Scrapes served");
	sample_u(e, "", in->scrapes);
	family(e, "tcpscope_scrape_duration_seconds", "gauge",
	       "How long the previous scrape took to compute and format");
	sample_d(e, "", in->last_scrape_s);
}

void metrics_write(FILE *f, const struct metrics_input *in, bool openmetrics,
		   struct metrics_stats *st)
{
	struct expo e = { .f = f, .om = openmetrics, .max = in->max_series, .st = st };
	uint64_t folded_comm = 0, folded_dest = 0;
	const struct model *m = in->m;

	*st = (struct metrics_stats){ 0 };
	sockets(&e, m);
	netns_names(&e);
	by_comm(&e, m, TS_CLOSE_WAIT, "CLOSE_WAIT", in->max_comms, &folded_comm);
	by_comm(&e, m, TS_FIN_WAIT2, "FIN_WAIT2", in->max_comms, &folded_comm);
	ports_held(&e, m, in->max_dests, &folded_dest);
	if (in->fs)
		findings(&e, in->fs, in->fs_prev);
	counters(&e, in->c);
	about(&e, in);
	/* what the limits did, last: it is known only now (never dropped) */
	e.max = UINT32_MAX;
	family(&e, "tcpscope_series_folded", "gauge",
	       "Label sets folded into 'other' by --max-comms and --max-destinations");
	sample_u(&e, "limit=\"comms\"", folded_comm);
	sample_u(&e, "limit=\"destinations\"", folded_dest);
	family(&e, "tcpscope_series_dropped", "gauge",
	       "Samples left out of this scrape by --max-series");
	sample_u(&e, "", st->dropped);
	if (openmetrics)
		fputs("# EOF\n", f);
}
