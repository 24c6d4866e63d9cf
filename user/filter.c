// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "census.h"
#include "decode.h"
#include "cgroup.h"
#include "filter.h"
#include "nsname.h"
#include "parse.h"
#include "states.h"

struct add_ctx {
	struct filter *f;
	char *err;
	size_t errlen;
	int which;
};

enum { ADD_PID, ADD_COMM, ADD_LPORT, ADD_RPORT, ADD_STATE, ADD_CGROUP, ADD_NETNS };

static int too_many(struct add_ctx *c, const char *what)
{
	snprintf(c->err, c->errlen, "too many %s filters (at most %d)", what, TCPSCOPE_MAX_FILTER);
	return -1;
}

static int add_one(const char *item, void *arg)
{
	struct add_ctx *c = arg;
	struct filter *f = c->f;

	switch (c->which) {
	case ADD_PID:
		if (f->npids >= TCPSCOPE_MAX_FILTER)
			return too_many(c, "pid");
		if (parse_pid(item, &f->pids[f->npids], c->err, c->errlen))
			return -1;
		f->npids++;
		return 0;
	case ADD_COMM:
		if (f->ncomms >= TCPSCOPE_MAX_FILTER)
			return too_many(c, "comm");
		if (strlen(item) >= TCPSCOPE_COMM_LEN) {
			snprintf(c->err, c->errlen,
				 "comm '%s' is longer than the kernel keeps (%d characters)", item,
				 TCPSCOPE_COMM_LEN - 1);
			return -1;
		}
		memset(f->comms[f->ncomms], 0, TCPSCOPE_COMM_LEN);
		strcpy(f->comms[f->ncomms++], item);
		return 0;
	case ADD_LPORT:
		if (f->nlports >= TCPSCOPE_MAX_FILTER)
			return too_many(c, "local port");
		if (parse_port(item, &f->lports[f->nlports], c->err, c->errlen))
			return -1;
		f->nlports++;
		return 0;
	case ADD_RPORT:
		if (f->nrports >= TCPSCOPE_MAX_FILTER)
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
static const char no_ports_and_state[] =
	"--state and -P exclude each other: port allocations have no state; drop one of them";

int filter_add_states(struct filter *f, const char *l, char *e, size_t n)
{
	if (add(f, l, ADD_STATE, e, n))
		return -1;
	if (f->types) {
		snprintf(e, n, "%s", no_ports_and_state);
		return -1;
	}
	return 0;
}

int filter_set_ports_only(struct filter *f, char *err, size_t errlen)
{
	if (f->state_mask) {
		snprintf(err, errlen, "%s", no_ports_and_state);
		return -1;
	}
	f->types = 1u << EV_PORT;
	return 0;
}

/* The words of trace's filter options, typed at top's '/' prompt */
static const struct {
	const char *lng, *word;
	char shrt;
	int which; /* ADD_*, or -1: a flag */
} words[] = {
	{ "--pid", "pid", 'p', ADD_PID },	 { "--comm", "comm", 'c', ADD_COMM },
	{ "--lport", "lport", 'L', ADD_LPORT }, { "--rport", "rport", 'D', ADD_RPORT },
	{ "--state", "state", 0, ADD_STATE },	 { "--ipv4", "ipv4", '4', -1 },
	{ "--ipv6", "ipv6", '6', -1 },		 { "--ports", "ports", 'P', -1 },
	{ "--cgroup", "cgroup", 0, ADD_CGROUP }, { "--netns", "netns", 0, ADD_NETNS },
};

static int word_of(const char *tok, size_t len)
{
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if ((strlen(words[i].lng) == len && !strncmp(tok, words[i].lng, len)) ||
		    (strlen(words[i].word) == len && !strncmp(tok, words[i].word, len)) ||
		    (len == 2 && tok[0] == '-' && tok[1] == words[i].shrt && words[i].shrt))
			return (int)i;
	}
	return -1;
}

int filter_parse_words(struct filter *f, const char *text, char *err, size_t errlen)
{
	char buf[512], *save = NULL, *tok;

	memset(f, 0, sizeof(*f));
	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "filter too long: at most %zu characters", sizeof(buf) - 1);
		return -1;
	}
	strcpy(buf, text);
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		size_t len = eq ? (size_t)(eq - tok) : strlen(tok);
		int w = word_of(tok, len);
		const char *arg = eq ? eq + 1 : NULL;
		int ret;

		if (w < 0) {
			snprintf(err, errlen,
				 "unknown filter word '%.*s': use -p PID, -c COMM, -L PORT, -D PORT, "
				 "--state STATE, --cgroup PATH, --netns NAME, -4, -6 or -P (as for "
				 "trace)", (int)len, tok);
			return -1;
		}
		if (words[w].which < 0) {
			if (arg) {
				snprintf(err, errlen, "%s takes no value", words[w].lng);
				return -1;
			}
			ret = words[w].shrt == 'P' ? filter_set_ports_only(f, err, errlen)
			      : filter_set_family(f, words[w].shrt == '4' ? AF_INET : AF_INET6, err,
						  errlen);
		} else {
			if (!arg && !(arg = strtok_r(NULL, " \t", &save))) {
				snprintf(err, errlen, "%s needs a value (e.g. %s %s)", words[w].lng,
					 words[w].lng,
					 words[w].which == ADD_STATE  ? "close-wait"
					 : words[w].which == ADD_COMM ? "nginx"
					 : words[w].which == ADD_PID  ? "1234"
					 : words[w].which == ADD_CGROUP ? "/system.slice/nginx.service"
					 : words[w].which == ADD_NETNS  ? "blue" : "443");
				return -1;
			}
			ret = words[w].which == ADD_STATE    ? filter_add_states(f, arg, err, errlen)
			      : words[w].which == ADD_CGROUP ? filter_set_cgroup(f, arg, err, errlen)
			      : words[w].which == ADD_NETNS  ? filter_set_netns(f, arg, err, errlen)
							     : add(f, arg, words[w].which, err, errlen);
		}
		if (ret)
			return -1;
	}
	return 0;
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

int filter_set_cgroup(struct filter *f, const char *path, char *err, size_t errlen)
{
	int n;

	if (f->ncgroups) {
		snprintf(err, errlen, "--cgroup %s: one --cgroup only (it takes the cgroups below "
			 "it too)", path);
		return -1;
	}
	n = cgroup_subtree_ids(path, f->cgroups, TCPSCOPE_MAX_CGROUPS, err, errlen);
	if (n < 0)
		return -1;
	f->ncgroups = (unsigned)n;
	snprintf(f->cgroup, sizeof(f->cgroup), "%s", path);
	return 0;
}

int filter_set_netns(struct filter *f, const char *arg, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	if (f->netns) {
		snprintf(err, errlen, "--netns %s: one --netns only", arg);
		return -1;
	}
	v = strtoull(arg, &end, 10);
	if (arg[0] >= '1' && arg[0] <= '9' && !*end && v <= UINT32_MAX)
		f->netns = (uint32_t)v;
	else
		f->netns = nsname_find(arg);
	if (!f->netns) {
		snprintf(err, errlen, "--netns %s: no such network namespace: give its inode "
			 "(stat -L -c %%i /proc/PID/ns/net) or its name in /run/netns (ip netns list)",
			 arg);
		return -1;
	}
	snprintf(f->netns_arg, sizeof(f->netns_arg), "%s", arg);
	return 0;
}

bool filter_pass_netns(const struct filter *f, const struct ev_hdr *h)
{
	return !f->netns || ev_netns(h) == f->netns;
}

bool filter_active(const struct filter *f)
{
	return f->npids || f->ncomms || f->nlports || f->nrports || f->family || f->state_mask ||
	       f->types || f->ncgroups || f->netns;
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
			hit |= !strncmp(f->comms[i], o->comm, TCPSCOPE_COMM_LEN);
		if (!hit)
			return false;
	}
	if (f->nlports && !in_u16(f->lports, f->nlports, t->sport))
		return false;
	if (f->nrports && !in_u16(f->rports, f->nrports, t->dport))
		return false;
	if (f->ncgroups) {
		hit = false;
		for (unsigned i = 0; i < f->ncgroups; i++)
			hit |= f->cgroups[i] == o->cgroup;
		if (!hit)
			return false;
	}
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
	if (f->types || (f->netns && s->netns != f->netns))
		return false;
	if (f->state_mask && !(f->state_mask & (1u << (s->timewait ? TS_TIME_WAIT : s->state))) &&
	    !(f->state_mask & (1u << s->state)))
		return false;
	return pass_common(f, &s->owner, &s->t);
}

bool filter_match_socket(const struct filter *f, const struct ev_owner *o, bool owner_known,
			 const struct ev_tuple *t, int state)
{
	static const struct ev_owner none;

	if (f->types)
		return false;
	if (f->state_mask && !(f->state_mask & (1u << (state & 31))))
		return false;
	return pass_common(f, owner_known ? o : &none, t);
}

bool filter_match(const struct filter *f, const struct ev_hdr *h)
{
	struct ev_common c;
	bool states;

	if ((f->types && !(f->types & (1u << h->type))) || !ev_common(h, &c) ||
	    (f->netns && c.netns != f->netns))
		return false;
	if (h->type == EV_STATE) {
		const struct ev_state *e = (const void *)h;

		states = pass_states(f, e->old_state, e->new_state);
	} else if (h->type == EV_TW) {
		states = pass_states(f, TS_TIME_WAIT, ((const struct ev_tw *)h)->substate);
	} else {
		states = !f->state_mask; /* only state and timewait records have states */
	}
	return states && pass_common(f, c.owner, c.t);
}

const char *filter_describe(const struct filter *f, char *buf, size_t len)
{
	size_t n = 0;

#define OUT(...) (n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__))
	buf[0] = 0;
	for (unsigned i = 0; i < f->npids; i++)
		OUT("%s-p %u", n ? " " : "", f->pids[i]);
	for (unsigned i = 0; i < f->ncomms; i++)
		OUT("%s-c %s", n ? " " : "", f->comms[i]);
	for (unsigned i = 0; i < f->nlports; i++)
		OUT("%s-L %u", n ? " " : "", f->lports[i]);
	for (unsigned i = 0; i < f->nrports; i++)
		OUT("%s-D %u", n ? " " : "", f->rports[i]);
	if (f->family)
		OUT("%s%s", n ? " " : "", f->family == AF_INET ? "-4" : "-6");
	for (int st = 0; st < 32; st++)
		if (f->state_mask & (1u << st))
			OUT("%s--state %s", n ? " " : "", state_kernel_name(st));
	if (f->types)
		OUT("%s-P", n ? " " : "");
	if (f->ncgroups)
		OUT("%s--cgroup %s", n ? " " : "", f->cgroup);
	if (f->netns)
		OUT("%s--netns %s", n ? " " : "", f->netns_arg);
#undef OUT
	return buf;
}
