// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Fixed-width text. The default fits 80 columns for typical IPv4 endpoints:
 *   TIME        PID COMM    LOCAL           REMOTE          EVENT                 MS
 * with brief state names (state_brief_name) and whole milliseconds; -w widens
 * every column (IPv6, microsecond time, kernel state names).
 */
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include "decode.h"
#include "fmt.h"
#include "sink.h"
#include "states.h"

static const char *state_name(struct sink *s, int st)
{
	return s->wide ? state_kernel_name(st) : state_brief_name(st);
}

static void fmt_ms(struct sink *s, char *buf, size_t len, uint64_t ns, int known)
{
	if (!known)
		snprintf(buf, len, "-");
	else if (s->wide)
		snprintf(buf, len, "%.3f", ns / 1e6);
	else if (ns < 10000000ULL)
		snprintf(buf, len, "%.1f", ns / 1e6);
	else if (ns < 100000ULL * 1000000ULL)
		snprintf(buf, len, "%" PRIu64, (uint64_t)(ns / 1000000ULL));
	else
		snprintf(buf, len, "%" PRIu64 "s", (uint64_t)(ns / NSEC_PER_SEC));
}

static int line_mark(struct sink *s, uint64_t ts, const struct ev_common *c, const char *event,
		     const char *ms, const char *mark)
{
	const struct ev_owner *o = c->owner;
	const struct ev_tuple *t = c->t;
	bool known = c->owner_known;
	char tbuf[32], comm[TCPSCOPE_COMM_LEN + 1], l[ENDPOINT_STRLEN], r[ENDPOINT_STRLEN], pid[16];

	fmt_clock(ts, s->clock_offset, s->wide, tbuf, sizeof(tbuf));
	fmt_comm(o, known, comm, sizeof(comm));
	fmt_endpoint(t->family, t->saddr, t->sport, l, sizeof(l));
	if (t->dport || t->family == AF_INET6 || t->daddr[0])
		fmt_endpoint(t->family, t->daddr, t->dport, r, sizeof(r));
	else
		strcpy(r, "-");
	snprintf(pid, sizeof(pid), "%u", known ? o->pid : 0);
	if (s->wide)
		fprintf(s->f, "%-15s %7s %-16s %-47s %-47s %-23s %9s%s\n", tbuf, pid, comm, l, r,
			event, ms, mark);
	else
		fprintf(s->f, "%-8s %6s %-7.7s %-15s %-15s %-18s %5s%s\n", tbuf, pid, comm, l, r,
			event, ms, mark);
	if (s->flush_each)
		fflush(s->f);
	return ferror(s->f) ? -1 : 0;
}

static int line(struct sink *s, uint64_t ts, const struct ev_common *c, const char *event,
		const char *ms)
{
	return line_mark(s, ts, c, event, ms, "");
}

static const char *const port_ops[] = { "?", "conn", "bind", "listen", "auto" };

/* "port conn s=3 tw" / "port bind EADDRINUSE", and the early warning */
static int port_line(struct sink *s, const struct ev_port *e, const struct ev_common *c)
{
	char ev[64], ms[32], mark[160] = "", dst[ENDPOINT_STRLEN];
	struct pressure_verdict v = { MARK_NONE, 0 };
	size_t n;

	if (s->pressure)
		v = pressure_note(s->pressure, e);
	n = (size_t)snprintf(ev, sizeof(ev), "port %s", port_ops[e->op <= PORT_AUTOBIND ? e->op : 0]);
	if (e->ret)
		snprintf(ev + n, sizeof(ev) - n, " %s", fmt_errno(e->ret));
	else if (e->flags & EVF_SCAN_KNOWN)
		n += (size_t)snprintf(ev + n, sizeof(ev) - n, " s=%u", e->scan);
	if (!e->ret && (e->flags & EVF_TW_REUSED))
		snprintf(ev + strlen(ev), sizeof(ev) - strlen(ev), " tw");
	fmt_ms(s, ms, sizeof(ms), e->latency_ns, e->flags & EVF_IN_OLD_KNOWN);
	if (e->op == PORT_CONNECT)
		fmt_endpoint(e->t.family, e->t.daddr, e->t.dport, dst, sizeof(dst));
	else
		snprintf(dst, sizeof(dst), "bind/listen");
	if (v.recent >= PRESSURE_HITS)
		snprintf(mark, sizeof(mark), "  !! port pressure toward %s: %u %s in %llus", dst,
			 v.recent, "long scans/failures", PRESSURE_WINDOW_NS / NSEC_PER_SEC);
	else if (v.mark == MARK_FAILED)
		snprintf(mark, sizeof(mark), "  !! no free port (range %u-%u)", e->range_lo,
			 e->range_hi);
	else if (v.mark == MARK_LONG_SCAN)
		snprintf(mark, sizeof(mark), "  ! long scan: %u ports examined", e->scan);
	return line_mark(s, e->hdr.ts_ns, c, ev, ms,
			 mark);
}

static int text_begin(struct sink *s)
{
	if (s->no_header)
		return 0;
	if (s->wide)
		fprintf(s->f, "%-15s %7s %-16s %-47s %-47s %-23s %9s\n", "TIME", "PID", "COMM",
			"LOCAL", "REMOTE", "EVENT", "MS");
	else
		fprintf(s->f, "%-8s %6s %-7s %-15s %-15s %-18s %5s\n", "TIME", "PID", "COMM", "LOCAL",
			"REMOTE", "EVENT", "MS");
	return ferror(s->f) ? -1 : 0;
}

static int text_event(struct sink *s, const struct ev_hdr *h)
{
	char ev[64], ms[32];
	struct ev_common c;

	if (!ev_common(h, &c))
		return 0;
	switch (h->type) {
	case EV_STATE: {
		const struct ev_state *e = (const void *)h;

		snprintf(ev, sizeof(ev), "%s>%s", state_name(s, e->old_state),
			 state_name(s, e->new_state));
		fmt_ms(s, ms, sizeof(ms), e->in_old_ns, e->flags & EVF_IN_OLD_KNOWN);
		return line(s, h->ts_ns, &c, ev, ms);
	}
	case EV_TW: {
		const struct ev_tw *e = (const void *)h;

		if (e->kind == TW_END) {
			snprintf(ev, sizeof(ev), "tw- %s", fmt_tw_cause(e->cause));
			fmt_ms(s, ms, sizeof(ms), e->lived_ns, 1);
		} else if (e->kind == TW_OVERFLOW) {
			snprintf(ev, sizeof(ev), "tw! OVERFLOW");
			fmt_ms(s, ms, sizeof(ms), 0, 0);
		} else {
			snprintf(ev, sizeof(ev), "tw%s %s", e->kind == TW_ENTER ? "+" : ">",
				 state_name(s, e->substate));
			fmt_ms(s, ms, sizeof(ms), e->timeout_ms * 1000000ULL, e->timeout_ms != 0);
		}
		return line(s, h->ts_ns, &c, ev, ms);
	}
	case EV_CALL: {
		const struct ev_call *e = (const void *)h;
		const char *op = e->op == OP_CONNECT ? "conn" : "bind";

		if (e->ret == 0)
			snprintf(ev, sizeof(ev), "%s ok", op);
		else
			snprintf(ev, sizeof(ev), "%s %s", op, fmt_errno(e->ret));
		fmt_ms(s, ms, sizeof(ms), e->latency_ns, e->flags & EVF_IN_OLD_KNOWN);
		return line(s, h->ts_ns, &c, ev, ms);
	}
	case EV_PORT:
		return port_line(s, (const void *)h, &c);
	case EV_LISTEN_OVF: {
		const struct ev_listen_ovf *e = (const void *)h;

		snprintf(ev, sizeof(ev), "OVERFLOW %s q=%u/%u", fmt_ovf_stage(e->stage),
			 e->accept_queue, e->backlog);
		return line_mark(s, h->ts_ns, &c, ev, "-",
				 "  !! accept queue full");
	}
	}
	return 0;
}

static int text_lost(struct sink *s, uint64_t ts_ns, const char *reason, uint64_t count)
{
	char tbuf[32];

	fprintf(s->f, "%-8s LOST %" PRIu64 " events (%s)\n",
		fmt_clock(ts_ns, s->clock_offset, s->wide, tbuf, sizeof(tbuf)), count, reason);
	return ferror(s->f) ? -1 : 0;
}

const struct sink_ops sink_text_ops = {
	.begin = text_begin,
	.event = text_event,
	.lost = text_lost,
};
