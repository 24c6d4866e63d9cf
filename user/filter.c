// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "census.h"
#include "filter.h"
#include "parse.h"
#include "states.h"

struct add_ctx {
	struct filter *f;
	char *err;
	size_t errlen;
	int which;
};

enum { ADD_PID, ADD_COMM, ADD_LPORT, ADD_RPORT, ADD_STATE };

static int too_many(struct add_ctx *c, const char *what)
{
	snprintf(c->err, c->errlen, "too many %s filters (at most %d)", what, TS_MAX_FILTER);
	return -1;
}

static int add_one(const char *item, void *arg)
{
	struct add_ctx *c = arg;
	struct filter *f = c->f;

	switch (c->which) {
	case ADD_PID:
		if (f->npids >= TS_MAX_FILTER)
			return too_many(c, "pid");
		if (parse_pid(item, &f->pids[f->npids], c->err, c->errlen))
			return -1;
		f->npids++;
		return 0;
	case ADD_COMM:
		if (f->ncomms >= TS_MAX_FILTER)
			return too_many(c, "comm");
		if (strlen(item) >= TS_COMM_LEN) {
			snprintf(c->err, c->errlen,
				 "comm '%s' is longer than the kernel keeps (%d characters)", item,
				 TS_COMM_LEN - 1);
			return -1;
		}
		memset(f->comms[f->ncomms], 0, TS_COMM_LEN);
		strcpy(f->comms[f->ncomms++], item);
		return 0;
	case ADD_LPORT:
		if (f->nlports >= TS_MAX_FILTER)
			return too_many(c, "local port");
		if (parse_port(item, &f->lports[f->nlports], c->err, c->errlen))
			return -1;
		f->nlports++;
		return 0;
	case ADD_RPORT:
		if (f->nrports >= TS_MAX_FILTER)
			return too_many(c, "remote port");
		if (parse_port(item, &f->rports[f->nrports], c->err, c->errlen))
			return -1;
		f->nrports++;
		return 0;
	case ADD_STATE:
		if (state_parse(item, &f->state_mask)) {
			snprintf(c->err, c->errlen,
				 "wrong state name: %s (use ss names: established, syn-sent, syn-recv, "
				 "fin-wait-1, fin-wait-2, time-wait, closed, close-wait, last-ack, "
				 "listening, closing, or connected, synchronized, bucket, big, all)",
				 item);
			return -1;
		}
		return 0;
	}
	return -1;
}

static int add(struct filter *f, const char *list, int which, char *err, size_t errlen)
{
	struct add_ctx c = { f, err, errlen, which };

	return for_each_item(list, add_one, &c, err, errlen);
}

int filter_add_pids(struct filter *f, const char *l, char *e, size_t n)
{
	return add(f, l, ADD_PID, e, n);
}
int filter_add_comms(struct filter *f, const char *l, char *e, size_t n)
{
	return add(f, l, ADD_COMM, e, n);
}
int filter_add_lports(struct filter *f, const char *l, char *e, size_t n)
{
	return add(f, l, ADD_LPORT, e, n);
}
int filter_add_rports(struct filter *f, const char *l, char *e, size_t n)
{
	return add(f, l, ADD_RPORT, e, n);
}
int filter_add_states(struct filter *f, const char *l, char *e, size_t n)
{
	return add(f, l, ADD_STATE, e, n);
}

int filter_set_family(struct filter *f, uint16_t family, char *err, size_t errlen)
{
	if (f->family && f->family != family) {
		snprintf(err, errlen, "-4 and -6 exclude each other: give one of them");
		return -1;
	}
	f->family = family;
	return 0;
}

bool filter_active(const struct filter *f)
{
	return f->npids || f->ncomms || f->nlports || f->nrports || f->family || f->state_mask ||
	       f->types;
}

static bool in_u16(const uint16_t *set, unsigned n, uint16_t v)
{
	for (unsigned i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}

static bool pass_common(const struct filter *f, const struct ev_owner *o, const struct ev_tuple *t)
{
	bool hit;

	if (f->family && t->family != f->family)
		return false;
	if (f->npids) {
		hit = false;
		for (unsigned i = 0; i < f->npids; i++)
			hit |= f->pids[i] == o->pid;
		if (!hit)
			return false;
	}
	if (f->ncomms) {
		hit = false;
		for (unsigned i = 0; i < f->ncomms; i++)
			hit |= !strncmp(f->comms[i], o->comm, TS_COMM_LEN);
		if (!hit)
			return false;
	}
	if (f->nlports && !in_u16(f->lports, f->nlports, t->sport))
		return false;
	if (f->nrports && !in_u16(f->rports, f->nrports, t->dport))
		return false;
	return true;
}

static bool pass_states(const struct filter *f, int a, int b)
{
	if (!f->state_mask)
		return true;
	return (f->state_mask & (1u << (a & 31))) || (f->state_mask & (1u << (b & 31)));
}

bool filter_match_census(const struct filter *f, const struct census_sock *s)
{
	if (f->types)
		return false;
	if (f->state_mask && !(f->state_mask & (1u << (s->timewait ? TS_TIME_WAIT : s->state))) &&
	    !(f->state_mask & (1u << s->state)))
		return false;
	return pass_common(f, &s->owner, &s->t);
}

bool filter_match(const struct filter *f, const struct ev_hdr *h)
{
	if (f->types && !(f->types & (1u << h->type)))
		return false;
	switch (h->type) {
	case EV_STATE: {
		const struct ev_state *e = (const void *)h;

		return pass_states(f, e->old_state, e->new_state) && pass_common(f, &e->owner, &e->t);
	}
	case EV_TW: {
		const struct ev_tw *e = (const void *)h;

		return pass_states(f, TS_TIME_WAIT, e->substate) && pass_common(f, &e->owner, &e->t);
	}
	case EV_CALL: {
		const struct ev_call *e = (const void *)h;

		return !f->state_mask && pass_common(f, &e->owner, &e->t);
	}
	case EV_PORT: {
		const struct ev_port *e = (const void *)h;

		return !f->state_mask && pass_common(f, &e->owner, &e->t);
	}
	case EV_LISTEN_OVF: {
		const struct ev_listen_ovf *e = (const void *)h;

		return !f->state_mask && pass_common(f, &e->owner, &e->t);
	}
	}
	return false;
}
