// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Event counters for serve (counters.h) and the sink that feeds them. */
#include <errno.h>
#include <string.h>
#include "counters.h"
#include "sink.h"

static void count_errno(struct errno_count *tab, unsigned *n, uint64_t *folded, uint8_t op,
			int err)
{
	for (unsigned i = 0; i < *n; i++)
		if (tab[i].op == op && tab[i].err == err) {
			tab[i].n++;
			return;
		}
	if (*n == COUNTERS_ERRNOS) {
		(*folded)++;
		return;
	}
	tab[*n] = (struct errno_count){ .op = op, .err = err, .n = 1 };
	(*n)++;
}

static void count_ovf(struct counters *c, uint16_t port, uint8_t stage)
{
	if (stage > OVF_ACK)
		stage = 0;
	for (unsigned i = 0; i < c->novf; i++)
		if (c->ovf[i].port == port) {
			c->ovf[i].n[stage]++;
			return;
		}
	if (c->novf == COUNTERS_PORTS) {
		c->ovf_other[stage]++;
		return;
	}
	c->ovf[c->novf].port = port;
	c->ovf[c->novf++].n[stage] = 1;
}

void counters_init(struct counters *c)
{
	/* the failures an alert watches exist from the start, at 0: a counter
	 * born at 5 shows no increase to Prometheus */
	static const struct errno_count calls[] = {
		{ OP_CONNECT, ECONNREFUSED, 0 },
		{ OP_CONNECT, ETIMEDOUT, 0 },
		{ OP_BIND, EADDRINUSE, 0 },
	};
	static const struct errno_count ports[] = {
		{ PORT_CONNECT, EADDRNOTAVAIL, 0 }, { PORT_BIND, EADDRINUSE, 0 },
		{ PORT_LISTEN, EADDRINUSE, 0 },
	};

	memset(c, 0, sizeof(*c));
	memcpy(c->call_err, calls, sizeof(calls));
	c->ncall_err = sizeof(calls) / sizeof(calls[0]);
	memcpy(c->port_fail, ports, sizeof(ports));
	c->nport_fail = sizeof(ports) / sizeof(ports[0]);
}

static void count_event(struct counters *c, const struct ev_hdr *h)
{
	switch (h->type) {
	case EV_STATE: {
		const struct ev_state *e = (const void *)h;

		if (e->old_state < TS_STATE_MAX && e->new_state < TS_STATE_MAX)
			c->transitions[e->old_state][e->new_state]++;
		if (e->new_state == TS_CLOSE &&
		    (e->old_state == TS_ESTABLISHED || e->old_state == TS_CLOSE_WAIT))
			c->resets++;
		break;
	}
	case EV_TW: {
		const struct ev_tw *e = (const void *)h;

		if (e->kind == TW_ENTER)
			c->tw_entered++;
		else if (e->kind == TW_OVERFLOW && (e->flags & EVF_INFERRED))
			c->tw_overflow_inferred++;
		else if (e->kind == TW_OVERFLOW)
			c->tw_overflow++;
		else if (e->kind == TW_END)
			c->tw_ended[e->cause <= TW_CAUSE_KILLED ? e->cause : 0]++;
		break;
	}
	case EV_CALL: {
		const struct ev_call *e = (const void *)h;
		uint8_t op = e->op == OP_BIND ? OP_BIND : OP_CONNECT;

		c->calls[op]++;
		if (e->ret < 0 && e->ret > -4096)
			count_errno(c->call_err, &c->ncall_err, &c->errnos_folded, op, -e->ret);
		break;
	}
	case EV_PORT: {
		const struct ev_port *e = (const void *)h;
		uint8_t op = e->op <= PORT_AUTOBIND ? e->op : 0;

		c->port_allocs[op]++;
		if (e->ret < 0 && e->ret > -4096)
			count_errno(c->port_fail, &c->nport_fail, &c->errnos_folded, op, -e->ret);
		break;
	}
	case EV_LISTEN_OVF: {
		const struct ev_listen_ovf *e = (const void *)h;

		count_ovf(c, e->t.sport, e->stage);
		break;
	}
	}
}

static int counters_sink_event(struct sink *s, const struct ev_hdr *h)
{
	count_event(s->counters, h);
	return 0;
}

const struct sink_ops sink_counters_ops = {
	.event = counters_sink_event,
};

void sink_attach_counters(struct sink *s, struct counters *c)
{
	memset(s, 0, sizeof(*s));
	s->ops = &sink_counters_ops;
	s->counters = c;
}
