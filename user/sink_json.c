// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON Lines: one object per event, each with a "type". This is the export
 * format and the hot path of a busy host: written with outbuf, no printf. */
#include <time.h>
#include "fmt.h"
#include "sink.h"
#include "states.h"

static const char *tw_kind_name(int k)
{
	return k == TW_ENTER	 ? "enter" :
	       k == TW_SUBSTATE	 ? "substate" :
	       k == TW_END	 ? "end" :
	       k == TW_OVERFLOW ? "overflow" :
				  "?";
}

static const char *tw_cause_name(int c)
{
	return c == TW_CAUSE_EXPIRED ? "expired" :
	       c == TW_CAUSE_REUSED  ? "reused" :
	       c == TW_CAUSE_KILLED  ? "killed" :
				       "?";
}

/* RFC 3339 UTC with microseconds; the date part is formatted once a second. */
static void ob_time(struct sink *s, uint64_t mono_ns)
{
	int64_t wall = (int64_t)mono_ns + s->clock_offset;
	int64_t sec = wall / 1000000000LL;
	uint32_t us = (uint32_t)(wall % 1000000000LL / 1000);
	char frac[8];

	if (sec != s->time_sec) {
		time_t t = sec;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(s->time_prefix, sizeof(s->time_prefix), "%Y-%m-%dT%H:%M:%S.", &tm);
		s->time_sec = sec;
	}
	for (int i = 5; i >= 0; i--, us /= 10)
		frac[i] = (char)('0' + us % 10);
	frac[6] = 'Z';
	ob_char(s->ob, '"');
	ob_str(s->ob, s->time_prefix);
	ob_mem(s->ob, frac, 7);
	ob_char(s->ob, '"');
}

/* Keys are literals: ,"key": with its length known at compile time */
#define ob_key(o, k) OB_LIT((o), ",\"" k "\":")

static void ob_qstr(struct outbuf *o, const char *v)
{
	ob_char(o, '"');
	ob_str(o, v);
	ob_char(o, '"');
}

#define ob_kstr(o, k, v)             \
	do {                         \
		ob_key((o), k);      \
		ob_qstr((o), (v));   \
	} while (0)
#define ob_ku(o, k, v)               \
	do {                         \
		ob_key((o), k);      \
		ob_u64((o), (v));    \
	} while (0)

static void ob_ms_or_null(struct outbuf *o, uint64_t ns, int known)
{
	if (known)
		ob_ms(o, ns);
	else
		OB_LIT(o, "null");
}

#define ob_kms(o, k, ns, known)                    \
	do {                                       \
		ob_key((o), k);                    \
		ob_ms_or_null((o), (ns), (known)); \
	} while (0)

static void ob_hex(struct outbuf *o, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[18];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = hex[v & 15];
		v >>= 4;
	} while (v);
	OB_LIT(o, "\"0x");
	ob_mem(o, tmp + sizeof(tmp) - n, n);
	ob_char(o, '"');
}

#define ob_khex(o, k, v)          \
	do {                      \
		ob_key((o), k);   \
		ob_hex((o), (v)); \
	} while (0)

static void common(struct sink *s, const char *type, const struct ev_hdr *h,
		   const struct ev_owner *o, int known, const struct ev_tuple *t)
{
	struct outbuf *ob = s->ob;
	char a[ADDR_STRLEN];

	OB_LIT(ob, "{\"type\":");
	ob_qstr(ob, type);
	ob_ku(ob, "ts_ns", h->ts_ns);
	ob_key(ob, "time");
	ob_time(s, h->ts_ns);
	ob_ku(ob, "pid", known ? o->pid : 0);
	ob_ku(ob, "tid", known ? o->tid : 0);
	ob_key(ob, "comm");
	if (known)
		ob_json_str(ob, o->comm, TS_COMM_LEN);
	else
		OB_LIT(ob, "\"-\"");
	ob_kstr(ob, "family", fmt_family(t->family));
	ob_kstr(ob, "saddr", fmt_addr(t->family, t->saddr, a, sizeof(a)));
	ob_ku(ob, "sport", t->sport);
	ob_kstr(ob, "daddr", fmt_addr(t->family, t->daddr, a, sizeof(a)));
	ob_ku(ob, "dport", t->dport);
}

static int json_event(struct sink *s, const struct ev_hdr *h)
{
	struct outbuf *ob = s->ob;

	switch (h->type) {
	case EV_STATE: {
		const struct ev_state *e = (const void *)h;

		common(s, "state", h, &e->owner, e->flags & EVF_OWNER_KNOWN, &e->t);
		ob_kstr(ob, "old", state_kernel_name(e->old_state));
		ob_kstr(ob, "new", state_kernel_name(e->new_state));
		ob_kms(ob, "in_old_ms", e->in_old_ns, e->flags & EVF_IN_OLD_KNOWN);
		ob_khex(ob, "sk", e->sk);
		ob_ku(ob, "cookie", e->cookie);
		ob_ku(ob, "netns", e->netns);
		break;
	}
	case EV_TW: {
		const struct ev_tw *e = (const void *)h;

		common(s, "timewait", h, &e->owner, e->flags & EVF_OWNER_KNOWN, &e->t);
		ob_kstr(ob, "event", tw_kind_name(e->kind));
		ob_kstr(ob, "substate", state_kernel_name(e->substate));
		if (e->kind == TW_END) {
			ob_kstr(ob, "cause", tw_cause_name(e->cause));
			ob_kms(ob, "lived_ms", e->lived_ns, 1);
		} else if (e->kind != TW_OVERFLOW) {
			ob_key(ob, "timeout_ms");
			if (e->timeout_ms)
				ob_u64(ob, e->timeout_ms);
			else
				OB_LIT(ob, "null");
		}
		ob_khex(ob, "tw", e->tw);
		ob_ku(ob, "cookie", e->cookie);
		ob_ku(ob, "netns", e->netns);
		break;
	}
	case EV_CALL: {
		const struct ev_call *e = (const void *)h;

		common(s, e->op == OP_CONNECT ? "connect" : "bind", h, &e->owner,
		       e->flags & EVF_OWNER_KNOWN, &e->t);
		ob_key(ob, "ret");
		ob_i64(ob, e->ret);
		if (e->ret < 0)
			ob_kstr(ob, "errno", fmt_errno(e->ret));
		else
			OB_LIT(ob, ",\"errno\":null");
		ob_kms(ob, "latency_ms", e->latency_ns, e->flags & EVF_IN_OLD_KNOWN);
		ob_khex(ob, "sk", e->sk);
		ob_ku(ob, "netns", e->netns);
		break;
	}
	default:
		return 0;
	}
	OB_LIT(ob, "}\n");
	if (s->flush_each)
		ob_flush(ob);
	return ob->failed ? -1 : 0;
}

static int json_lost(struct sink *s, uint64_t ts_ns, const char *reason, uint64_t count)
{
	struct outbuf *ob = s->ob;

	OB_LIT(ob, "{\"type\":\"lost\"");
	ob_ku(ob, "ts_ns", ts_ns);
	ob_key(ob, "time");
	ob_time(s, ts_ns);
	ob_kstr(ob, "reason", reason);
	ob_ku(ob, "count", count);
	OB_LIT(ob, "}\n");
	return ob->failed ? -1 : 0;
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
