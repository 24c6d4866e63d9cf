// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON Lines: one object per event, each with a "type". This is the export
 * format and the hot path of a busy host: every record is written through a
 * raw cursor (outbuf.h), no printf. */
#include <time.h>
#include "decode.h"
#include "fmt.h"
#include "ladder.h"
#include "cgroup.h"
#include "nsname.h"
#include "sink.h"
#include "states.h"

/* "time":"<RFC 3339 UTC, microseconds>"; the date part is formatted once a
 * second. */
static char *p_time(struct sink *s, char *p, uint64_t mono_ns)
{
	int64_t wall = (int64_t)mono_ns + s->clock_offset;
	int64_t sec = wall / (int64_t)NSEC_PER_SEC;
	uint32_t us = (uint32_t)(wall % (int64_t)NSEC_PER_SEC / 1000);

	if (sec != s->time_sec) {
		time_t t = sec;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(s->time_prefix, sizeof(s->time_prefix), "%Y-%m-%dT%H:%M:%S.", &tm);
		s->time_sec = sec;
	}
	p = P_LIT(p, ",\"time\":\"");
	p = p_str(p, s->time_prefix);
	for (int i = 5; i >= 0; i--, us /= 10)
		p[i] = (char)('0' + us % 10);
	p += 6;
	return P_LIT(p, "Z\"");
}


static char *p_str_closed(char *p, const char *v)
{
	p = p_str(p, v);
	*p++ = '"';
	return p;
}
#define p_kstr(p, k, v) p_str_closed(P_LIT((p), ",\"" k "\":\""), (v))
#define p_ku(p, k, v) p_u64(P_LIT((p), ",\"" k "\":"), (v))
static char *p_hex_closed(char *p, uint64_t v)
{
	p = p_hex(p, v);
	*p++ = '"';
	return p;
}
#define p_khex(p, k, v) p_hex_closed(P_LIT((p), ",\"" k "\":\""), (v))

static char *p_kms(char *p, uint64_t ns, int known)
{
	return known ? p_ms(p, ns) : P_LIT(p, "null");
}

/* "ret":-99,"errno":"EADDRNOTAVAIL" or "ret":0,"errno":null */
static char *p_ret(char *p, int ret)
{
	p = p_i64(P_LIT(p, ",\"ret\":"), ret);
	return ret < 0 ? p_kstr(p, "errno", fmt_errno(ret)) : P_LIT(p, ",\"errno\":null");
}

/* "netns":N,"netns_name":"NAME"|null: its bind mount's name (nsname.h) */
static char *p_netns(char *p, uint32_t netns)
{
	const char *name = nsname_of(netns);

	p = p_ku(p, "netns", netns);
	/* a file name is at most 255 bytes: escaped, it fits OB_MAX_RECORD with the cgroup path */
	return name ? p_json_str(P_LIT(p, ",\"netns_name\":"), name, 256)
		    : P_LIT(p, ",\"netns_name\":null");
}

/* "cgroup_id":N,"cgroup":"/path","container":"<64 hex>"|null; nulls when
 * unknown. The strings of the latest id are kept (events come in runs of
 * one owner); cgroup.c caches the rest. */
static char *p_owner_cgroup(struct sink *s, char *p, uint64_t id)
{
	static uint64_t last_id;
	static char path[CGROUP_PATH_MAX], ctr[65];
	static bool have_path;

	p = p_ku(p, "cgroup_id", id);
	if (!id)
		return P_LIT(p, ",\"cgroup\":null,\"container\":null");
	if (id != last_id) {
		const char *cp = cgroup_path(id);
		char pod[37];

		have_path = cp != NULL;
		snprintf(path, sizeof(path), "%s", cp ? cp : "");
		if (!cp || !cgroup_container(path, ctr, pod))
			ctr[0] = 0;
		last_id = id;
	}
	/* a path is at most 511 bytes: escaped (x6), it fits OB_MAX_RECORD with the rest */
	p = P_LIT(p, ",\"cgroup\":");
	p = have_path ? p_json_str(p, path, sizeof(path)) : P_LIT(p, "null");
	return ctr[0] ? p_kstr(p, "container", ctr) : P_LIT(p, ",\"container\":null");
}

static char *common(struct sink *s, char *p, const char *type, const struct ev_hdr *h,
		    const struct ev_common *c)
{
	const struct ev_owner *o = c->owner;
	const struct ev_tuple *t = c->t;
	bool known = c->owner_known;
	char a[ADDR_STRLEN];

	p = P_LIT(p, "{\"type\":\"");
	p = p_str(p, type);
	*p++ = '"';
	p = p_ku(p, "ts_ns", h->ts_ns);
	p = p_time(s, p, h->ts_ns);
	p = p_ku(p, "pid", known ? o->pid : 0);
	p = p_ku(p, "tid", known ? o->tid : 0);
	p = P_LIT(p, ",\"comm\":");
	p = known ? p_json_str(p, o->comm, TCPSCOPE_COMM_LEN) : P_LIT(p, "\"-\"");
	p = p_owner_cgroup(s, p, known ? o->cgroup : 0);
	p = p_kstr(p, "family", fmt_family(t->family));
	p = p_kstr(p, "saddr", fmt_addr(t->family, t->saddr, a, sizeof(a)));
	p = p_ku(p, "sport", t->sport);
	p = p_kstr(p, "daddr", fmt_addr(t->family, t->daddr, a, sizeof(a)));
	return p_ku(p, "dport", t->dport);
}

static int json_event(struct sink *s, const struct ev_hdr *h)
{
	char *p;
	struct ev_common c;

	if (!ev_common(h, &c))
		return 0;
	p = ob_begin(s->ob);
	switch (h->type) {
	case EV_STATE: {
		const struct ev_state *e = (const void *)h;

		p = common(s, p, "state", h, &c);
		p = p_kstr(p, "old", state_kernel_name(e->old_state));
		p = p_kstr(p, "new", state_kernel_name(e->new_state));
		p = p_kms(P_LIT(p, ",\"in_old_ms\":"), e->in_old_ns, e->flags & EVF_IN_OLD_KNOWN);
		p = p_khex(p, "sk", e->sk);
		p = p_ku(p, "cookie", e->cookie);
		break;
	}
	case EV_TW: {
		const struct ev_tw *e = (const void *)h;

		p = common(s, p, "timewait", h, &c);
		p = p_kstr(p, "event", fmt_tw_kind(e->kind));
		p = p_kstr(p, "substate", state_kernel_name(e->substate));
		if (e->kind == TW_END) {
			p = p_kstr(p, "cause", fmt_tw_cause(e->cause));
			p = p_ms(P_LIT(p, ",\"lived_ms\":"), e->lived_ns);
		} else if (e->kind != TW_OVERFLOW) {
			p = P_LIT(p, ",\"timeout_ms\":");
			p = e->timeout_ms ? p_u64(p, e->timeout_ms) : P_LIT(p, "null");
		} else {
			p = e->flags & EVF_INFERRED ? P_LIT(p, ",\"inferred\":true") :
						      P_LIT(p, ",\"inferred\":false");
		}
		p = p_khex(p, "tw", e->tw);
		p = p_ku(p, "cookie", e->cookie);
		break;
	}
	case EV_CALL: {
		const struct ev_call *e = (const void *)h;

		p = common(s, p, e->op == OP_CONNECT ? "connect" : "bind", h, &c);
		p = p_ret(p, e->ret);
		p = p_kms(P_LIT(p, ",\"latency_ms\":"), e->latency_ns, e->flags & EVF_IN_OLD_KNOWN);
		p = p_khex(p, "sk", e->sk);
		break;
	}
	case EV_PORT: {
		const struct ev_port *e = (const void *)h;

		p = common(s, p, "port", h, &c);
		p = p_kstr(p, "op", fmt_port_op(e->op));
		p = p_ret(p, e->ret);
		p = p_kms(P_LIT(p, ",\"latency_ms\":"), e->latency_ns, e->flags & EVF_IN_OLD_KNOWN);
		p = e->flags & EVF_LAT_UPPER ? P_LIT(p, ",\"latency_exact\":false") :
					      P_LIT(p, ",\"latency_exact\":true");
		p = P_LIT(p, ",\"scan\":");
		p = e->flags & EVF_SCAN_KNOWN ? p_u64(p, e->scan) : P_LIT(p, "null");
		p = e->flags & EVF_TW_REUSED ? P_LIT(p, ",\"tw_reused\":true") :
					      P_LIT(p, ",\"tw_reused\":false");
		p = p_u64(P_LIT(p, ",\"range\":["), e->range_lo);
		p = p_u64(P_LIT(p, ","), e->range_hi);
		*p++ = ']';
		p = p_kstr(p, "via", via_name(e->via));
		p = p_khex(p, "sk", e->sk);
		break;
	}
	case EV_LISTEN_OVF: {
		const struct ev_listen_ovf *e = (const void *)h;

		p = common(s, p, "listen_overflow", h, &c);
		p = p_kstr(p, "stage", fmt_ovf_stage(e->stage));
		p = p_ku(p, "accept_queue", e->accept_queue);
		p = p_ku(p, "backlog", e->backlog);
		p = p_kstr(p, "via", via_name(e->via));
		p = p_khex(p, "sk", e->sk);
		break;
	}
	}
	p = p_netns(p, c.netns);
	p = P_LIT(p, "}\n");
	ob_end(s->ob, p);
	if (s->flush_each)
		ob_flush(s->ob);
	return s->ob->failed ? -1 : 0;
}

static int json_lost(struct sink *s, uint64_t ts_ns, const char *reason, uint64_t count)
{
	char *p = ob_begin(s->ob);

	p = P_LIT(p, "{\"type\":\"lost\"");
	p = p_ku(p, "ts_ns", ts_ns);
	p = p_time(s, p, ts_ns);
	p = p_kstr(p, "reason", reason);
	p = p_ku(p, "count", count);
	p = P_LIT(p, "}\n");
	ob_end(s->ob, p);
	return s->ob->failed ? -1 : 0;
}

/* {"type":"resync"}: the self-check's census of a namespace that differed
 * from the picture; its count "socket" records follow */
static int json_resync(struct sink *s, uint64_t ts_ns, uint32_t netns, uint64_t count)
{
	char *p = ob_begin(s->ob);

	p = P_LIT(p, "{\"type\":\"resync\"");
	p = p_ku(p, "ts_ns", ts_ns);
	p = p_time(s, p, ts_ns);
	p = p_netns(p, netns);
	p = p_ku(p, "sockets", count);
	p = P_LIT(p, "}\n");
	ob_end(s->ob, p);
	return s->ob->failed ? -1 : 0;
}

/* {"type":"socket"}: one socket of the census, as ss -tanpo shows it */
static int json_census(struct sink *s, uint64_t ts_ns, const struct census_sock *cs)
{
	struct ev_hdr h = { .ts_ns = ts_ns };
	struct ev_common c = { .owner = &cs->owner, .t = &cs->t, .owner_known = cs->owner.pid != 0 };
	char *p = ob_begin(s->ob);

	p = common(s, p, "socket", &h, &c);
	p = p_kstr(p, "state", state_kernel_name(cs->state));
	p = cs->timewait ? P_LIT(p, ",\"timewait\":true") : P_LIT(p, ",\"timewait\":false");
	p = p_kstr(p, "timer", fmt_census_timer(cs->timer));
	p = P_LIT(p, ",\"expires_ms\":");
	p = cs->timer ? p_u64(p, cs->expires_ms) : P_LIT(p, "null");
	p = p_ku(p, "recv_q", cs->rqueue);
	p = p_ku(p, "send_q", cs->wqueue);
	if (cs->state == TS_LISTEN) {
		p = p_ku(p, "accept_queue", cs->rqueue);
		p = p_ku(p, "backlog", cs->wqueue);
	}
	p = p_ku(p, "uid", cs->uid);
	p = p_ku(p, "inode", cs->inode);
	/* age in its state, from tcp_info (a lower bound), or null */
	p = P_LIT(p, ",\"age_ms\":");
	p = cs->age_known ? p_u64(p, cs->age_ms) : P_LIT(p, "null");
	p = cs->age_known ? P_LIT(p, ",\"age_from\":\"tcp_info\"") : P_LIT(p, ",\"age_from\":null");
	p = p_ku(p, "cookie", cs->cookie);
	p = p_netns(p, cs->netns);
	p = P_LIT(p, "}\n");
	ob_end(s->ob, p);
	return s->ob->failed ? -1 : 0;
}

/* Start the next "key": of an object, in fresh room of the buffer: a
 * record of many members must not outgrow OB_MAX_RECORD. */
static char *member(struct sink *s, char *p, int *n, const char *key)
{
	ob_end(s->ob, p);
	p = ob_begin(s->ob);
	if ((*n)++)
		*p++ = ',';
	p = p_json_str(p, key, 64);
	*p++ = ':';
	return p;
}

/* {"type":"netns"}: sysctls and counters of one namespace */
static int json_nsinfo(struct sink *s, uint64_t ts_ns, const char *phase, const struct nsinfo *ns)
{
	char *p = ob_begin(s->ob);

	p = P_LIT(p, "{\"type\":\"netns\"");
	p = p_ku(p, "ts_ns", ts_ns);
	p = p_time(s, p, ts_ns);
	p = p_kstr(p, "phase", phase);
	p = p_netns(p, ns->netns);
	int n = 0;

	p = P_LIT(p, ",\"sysctl\":{");
	for (int i = 0; i < NSINFO_SYSCTLS; i++)
		if (ns->have_sysctl & (1u << i))
			p = p_json_str(member(s, p, &n, nsinfo_sysctl_names[i]), ns->sysctl[i],
				       sizeof(ns->sysctl[i]));
	p = P_LIT(p, "},\"counters\":{");
	n = 0;
	for (int i = 0; i < NSINFO_COUNTERS; i++)
		if (ns->have_counter & (1u << i))
			p = p_u64(member(s, p, &n, nsinfo_counter_names[i]), ns->counter[i]);
	p = P_LIT(p, "}}\n");
	ob_end(s->ob, p);
	return s->ob->failed ? -1 : 0;
}

/* {"type":"run"}: where and how the trace was taken, and when it ended */
static int json_run(struct sink *s, const struct run_info *ri)
{
	char *p = ob_begin(s->ob);

	p = P_LIT(p, "{\"type\":\"run\"");
	p = p_ku(p, "ts_ns", ri->ts_ns);
	p = p_time(s, p, ri->ts_ns);
	p = ri->end ? P_LIT(p, ",\"phase\":\"end\"") : P_LIT(p, ",\"phase\":\"start\"");
	if (!ri->end) {
		p = p_json_str(P_LIT(p, ",\"host\":"), ri->host, 64);
		p = p_json_str(P_LIT(p, ",\"kernel\":"), ri->kernel, 64);
		/* one string per fact ("fact: what is unknown"), each in fresh room */
		p = P_LIT(p, ",\"blind_spots\":[");
		for (const char *b = ri->blind, *e; b && *b; b = *e ? e + 2 : e) {
			e = strstr(b, "; ");
			if (!e)
				e = b + strlen(b);
			ob_end(s->ob, p);
			p = ob_begin(s->ob);
			if (b != ri->blind)
				*p++ = ',';
			p = p_json_str(p, b, (size_t)(e - b) < 300 ? (size_t)(e - b) : 300);
		}
		*p++ = ']';
	} else if (ri->drift_measured) {
		/* {"ESTABLISHED":2,...}: only the states that differ */
		int64_t total = 0;
		bool first = true;

		p = P_LIT(p, ",\"drift\":{");
		for (int i = 0; i < TS_STATE_MAX; i++) {
			if (!ri->drift[i])
				continue;
			if (!first)
				*p++ = ',';
			first = false;
			p = p_json_str(p, state_kernel_name(i), 32);
			*p++ = ':';
			p = p_i64(p, ri->drift[i]);
			total += ri->drift[i] < 0 ? -ri->drift[i] : ri->drift[i];
		}
		p = p_ku(P_LIT(p, "}"), "drift_total", (uint64_t)total);
	}
	p = P_LIT(p, "}\n");
	ob_end(s->ob, p);
	return s->ob->failed ? -1 : 0;
}

const struct sink_ops sink_json_ops = {
	.event = json_event,
	.lost = json_lost,
	.census = json_census,
	.resync = json_resync,
	.nsinfo = json_nsinfo,
	.run = json_run,
};
