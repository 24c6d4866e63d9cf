// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON Lines: one object per event, each with a "type". */
#include <inttypes.h>
#include "fmt.h"
#include "sink.h"
#include "states.h"

static const char *tw_kind_name(int k)
{
	return k == TW_ENTER ? "enter" : k == TW_SUBSTATE ? "substate" : k == TW_END ? "end" : "?";
}

static const char *tw_cause_name(int c)
{
	return c == TW_CAUSE_EXPIRED ? "expired" :
	       c == TW_CAUSE_REUSED  ? "reused" :
	       c == TW_CAUSE_KILLED  ? "killed" :
				       "?";
}

static void common(struct sink *s, const char *type, const struct ev_hdr *h,
		   const struct ev_owner *o, int known, const struct ev_tuple *t)
{
	char buf[ADDR_STRLEN];
	FILE *f = s->f;

	fprintf(f, "{\"type\":\"%s\",\"ts_ns\":%" PRIu64 ",\"time\":\"%s\"", type,
		(uint64_t)h->ts_ns, fmt_rfc3339(h->ts_ns, s->clock_offset, buf, sizeof(buf)));
	fprintf(f, ",\"pid\":%u,\"tid\":%u,\"comm\":", known ? o->pid : 0, known ? o->tid : 0);
	if (known)
		json_str(f, o->comm, TS_COMM_LEN);
	else
		fputs("\"-\"", f);
	fprintf(f, ",\"family\":\"%s\",\"saddr\":\"%s\",\"sport\":%u", fmt_family(t->family),
		fmt_addr(t->family, t->saddr, buf, sizeof(buf)), t->sport);
	fprintf(f, ",\"daddr\":\"%s\",\"dport\":%u", fmt_addr(t->family, t->daddr, buf, sizeof(buf)),
		t->dport);
}

static void ms(FILE *f, const char *key, uint64_t ns, int known)
{
	if (known)
		fprintf(f, ",\"%s\":%.3f", key, ns / 1e6);
	else
		fprintf(f, ",\"%s\":null", key);
}

static int json_event(struct sink *s, const struct ev_hdr *h)
{
	FILE *f = s->f;

	switch (h->type) {
	case EV_STATE: {
		const struct ev_state *e = (const void *)h;

		common(s, "state", h, &e->owner, e->flags & EVF_OWNER_KNOWN, &e->t);
		fprintf(f, ",\"old\":\"%s\"", state_kernel_name(e->old_state));
		fprintf(f, ",\"new\":\"%s\"", state_kernel_name(e->new_state));
		ms(f, "in_old_ms", e->in_old_ns, e->flags & EVF_IN_OLD_KNOWN);
		fprintf(f, ",\"sk\":\"0x%" PRIx64 "\",\"cookie\":%" PRIu64 ",\"netns\":%u}\n",
			(uint64_t)e->sk, (uint64_t)e->cookie, e->netns);
		break;
	}
	case EV_TW: {
		const struct ev_tw *e = (const void *)h;

		common(s, "timewait", h, &e->owner, e->flags & EVF_OWNER_KNOWN, &e->t);
		fprintf(f, ",\"event\":\"%s\",\"substate\":\"%s\"", tw_kind_name(e->kind),
			state_kernel_name(e->substate));
		if (e->kind == TW_END) {
			fprintf(f, ",\"cause\":\"%s\"", tw_cause_name(e->cause));
			ms(f, "lived_ms", e->lived_ns, 1);
		} else {
			ms(f, "timeout_ms", e->timeout_ms * 1000000ULL, e->timeout_ms != 0);
		}
		fprintf(f, ",\"tw\":\"0x%" PRIx64 "\",\"cookie\":%" PRIu64 ",\"netns\":%u}\n",
			(uint64_t)e->tw, (uint64_t)e->cookie, e->netns);
		break;
	}
	case EV_CALL: {
		const struct ev_call *e = (const void *)h;

		common(s, e->op == OP_CONNECT ? "connect" : "bind", h, &e->owner,
		       e->flags & EVF_OWNER_KNOWN, &e->t);
		fprintf(f, ",\"ret\":%d,\"errno\":", e->ret);
		if (e->ret < 0)
			fprintf(f, "\"%s\"", fmt_errno(e->ret));
		else
			fputs("null", f);
		fprintf(f, ",\"async\":%s", e->flags & EVF_ASYNC ? "true" : "false");
		ms(f, "latency_ms", e->latency_ns, !(e->flags & EVF_ASYNC));
		fprintf(f, ",\"sk\":\"0x%" PRIx64 "\",\"netns\":%u}\n", (uint64_t)e->sk, e->netns);
		break;
	}
	}
	return ferror(f) ? -1 : 0;
}

static int json_lost(struct sink *s, uint64_t ts_ns, const char *reason, uint64_t count)
{
	char buf[ADDR_STRLEN];

	fprintf(s->f,
		"{\"type\":\"lost\",\"ts_ns\":%" PRIu64 ",\"time\":\"%s\",\"reason\":\"%s\","
		"\"count\":%" PRIu64 "}\n",
		ts_ns, fmt_rfc3339(ts_ns, s->clock_offset, buf, sizeof(buf)), reason, count);
	return ferror(s->f) ? -1 : 0;
}

static int json_begin(struct sink *s)
{
	return 0;
}

const struct sink_ops sink_json_ops = {
	.begin = json_begin,
	.event = json_event,
	.lost = json_lost,
};
