// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* CSV with one header; every event type uses the same columns, the ones
 * that do not apply stay empty. */
#include <inttypes.h>
#include "decode.h"
#include "fmt.h"
#include "ladder.h"
#include "sink.h"
#include "states.h"

static const char header[] = "type,ts_ns,time,pid,comm,family,saddr,sport,daddr,dport,"
			     "old,new,in_old_ms,event,substate,cause,ms,ret,errno,count,reason,"
			     "op,scan,range_lo,range_hi,tw_reused,via\n";

static void csv_str(FILE *f, const char *s, size_t max)
{
	putc('"', f);
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			fputs("\"\"", f);
		else
			putc(c < 0x20 || c == 0x7f ? '?' : c, f);
	}
	putc('"', f);
}

static void head(struct sink *s, const char *type, const struct ev_hdr *h,
		 const struct ev_common *c)
{
	const struct ev_owner *o = c->owner;
	const struct ev_tuple *t = c->t;
	bool known = c->owner_known;
	char buf[ADDR_STRLEN], d[ADDR_STRLEN];

	fprintf(s->f, "%s,%" PRIu64 ",%s,%u,", type, (uint64_t)h->ts_ns,
		fmt_rfc3339(h->ts_ns, s->clock_offset, buf, sizeof(buf)), known ? o->pid : 0);
	if (known)
		csv_str(s->f, o->comm, TCPSCOPE_COMM_LEN);
	else
		fputs("-", s->f);
	fprintf(s->f, ",%s,%s,%u,%s,%u,", fmt_family(t->family),
		fmt_addr(t->family, t->saddr, buf, sizeof(buf)), t->sport,
		fmt_addr(t->family, t->daddr, d, sizeof(d)), t->dport);
}

static int csv_begin(struct sink *s)
{
	if (!s->no_header)
		fputs(header, s->f);
	return ferror(s->f) ? -1 : 0;
}

static int csv_event(struct sink *s, const struct ev_hdr *h)
{
	FILE *f = s->f;
	struct ev_common c;

	if (!ev_common(h, &c))
		return 0;
	switch (h->type) {
	case EV_STATE: {
		const struct ev_state *e = (const void *)h;

		head(s, "state", h, &c);
		fprintf(f, "%s,%s,", state_kernel_name(e->old_state), state_kernel_name(e->new_state));
		if (e->flags & EVF_IN_OLD_KNOWN)
			fprintf(f, "%.3f", e->in_old_ns / 1e6);
		fputs(",,,,,,,,,,,,,,\n", f);
		break;
	}
	case EV_TW: {
		const struct ev_tw *e = (const void *)h;
		uint64_t ns = e->kind == TW_END ? e->lived_ns : e->timeout_ms * 1000000ULL;

		head(s, "timewait", h, &c);
		fprintf(f, ",,,%s,%s,%s,", fmt_tw_kind(e->kind), state_kernel_name(e->substate),
			e->cause ? fmt_tw_cause(e->cause) : "");
		if (ns)
			fprintf(f, "%.3f", ns / 1e6);
		fputs(",,,,,,,,,,\n", f);
		break;
	}
	case EV_CALL: {
		const struct ev_call *e = (const void *)h;

		head(s, e->op == OP_CONNECT ? "connect" : "bind", h, &c);
		fputs(",,,,,,", f);
		if (e->flags & EVF_IN_OLD_KNOWN)
			fprintf(f, "%.3f", e->latency_ns / 1e6);
		fprintf(f, ",%d,%s,,,,,,,,\n", e->ret, e->ret ? fmt_errno(e->ret) : "");
		break;
	}
	case EV_PORT: {
		const struct ev_port *e = (const void *)h;

		head(s, "port", h, &c);
		fputs(",,,,,,", f);
		if (e->flags & EVF_IN_OLD_KNOWN)
			fprintf(f, "%.3f", e->latency_ns / 1e6);
		fprintf(f, ",%d,%s,,,%s,", e->ret, e->ret ? fmt_errno(e->ret) : "",
			fmt_port_op(e->op));
		if (e->flags & EVF_SCAN_KNOWN)
			fprintf(f, "%u", e->scan);
		fprintf(f, ",%u,%u,%d,%s\n", e->range_lo, e->range_hi, !!(e->flags & EVF_TW_REUSED),
			via_name(e->via));
		break;
	}
	case EV_LISTEN_OVF: {
		const struct ev_listen_ovf *e = (const void *)h;

		/* event = stage, count = accept queue, reason = its limit */
		head(s, "listen_overflow", h, &c);
		fprintf(f, ",,,%s,,,,,,%u,%u,,,,,,%s\n", fmt_ovf_stage(e->stage),
			e->accept_queue, e->backlog, via_name(e->via));
		break;
	}
	}
	return ferror(f) ? -1 : 0;
}

static int csv_lost(struct sink *s, uint64_t ts_ns, const char *reason, uint64_t count)
{
	char buf[ADDR_STRLEN];

	fprintf(s->f, "lost,%" PRIu64 ",%s,,,,,,,,,,,,,,,,,%" PRIu64 ",%s,,,,,,\n", ts_ns,
		fmt_rfc3339(ts_ns, s->clock_offset, buf, sizeof(buf)), count, reason);
	return ferror(s->f) ? -1 : 0;
}

const struct sink_ops sink_csv_ops = {
	.begin = csv_begin,
	.event = csv_event,
	.lost = csv_lost,
};
