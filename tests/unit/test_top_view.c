// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* top's view (top_view.c) built from a model fed by hand, and the filter
 * words of its '/' prompt. The end-to-end tests (tests/e2e/top.sh) drive
 * the real dashboard in tmux. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "check.h"
#include "filter.h"
#include "findings.h"
#include "model.h"
#include "sink.h"
#include "top_view.h"

#define SEC 1000000000ULL
#define NSID 4026532001u
#define T0 (100 * SEC)

static struct ev_tuple tuple(unsigned sport, unsigned dport)
{
	struct ev_tuple t = { .family = AF_INET, .sport = sport, .dport = dport };

	t.saddr[0] = 10, t.saddr[3] = 1;
	t.daddr[0] = 10, t.daddr[3] = 2;
	return t;
}

static void state(struct model *m, struct top_view *v, uint64_t ts, uint64_t cookie, unsigned pid,
		  const char *comm, unsigned sport, unsigned dport, int old, int new_)
{
	struct ev_state e = { .hdr = { .type = EV_STATE, .size = sizeof(e), .ts_ns = ts } };

	e.cookie = cookie;
	e.sk = cookie;
	e.owner.pid = pid;
	snprintf(e.owner.comm, sizeof(e.owner.comm), "%s", comm);
	e.flags = pid ? EVF_OWNER_KNOWN : 0;
	e.t = tuple(sport, dport);
	e.netns = NSID;
	e.old_state = old;
	e.new_state = new_;
	model_event(m, &e.hdr);
	top_view_event(v, &e.hdr);
}

static void port(struct model *m, struct top_view *v, uint64_t ts, unsigned pid, unsigned sport,
		 int ret)
{
	struct ev_port e = { .hdr = { .type = EV_PORT, .size = sizeof(e), .ts_ns = ts } };

	e.owner.pid = pid;
	strcpy(e.owner.comm, "client");
	e.flags = EVF_OWNER_KNOWN;
	e.t = tuple(sport, 80);
	if (ret)
		memset(e.t.saddr, 0, 16); /* a failure has no local address yet */
	e.ret = ret;
	e.op = PORT_CONNECT;
	e.netns = NSID;
	e.range_lo = 40000;
	e.range_hi = 40015;
	model_event(m, &e.hdr);
	top_view_event(v, &e.hdr);
}

static void setup(struct model *m, struct top_view *v)
{
	struct run_info ri = { .ts_ns = T0, .host = "h", .kernel = "6.1", .blind = "" };
	struct nsinfo ns = { .netns = NSID };
	int r = nsinfo_sysctl_index("net.ipv4.ip_local_port_range");

	model_init(m);
	top_view_init(v, NULL, 8);
	model_run(m, &ri);
	snprintf(ns.sysctl[r], sizeof(ns.sysctl[r]), "40000 40015");
	ns.have_sysctl = 1u << r;
	model_nsinfo(m, T0, false, &ns);
}

static void test_panes(void)
{
	struct model m;
	struct top_view *v = calloc(1, sizeof(*v));
	struct census_sock cs = { .netns = NSID, .state = TS_LISTEN, .rqueue = 3, .wqueue = 4 };
	char err[256];

	setup(&m, v);
	/* a listener on :8080 of "srv", 3 of 4 in its accept queue */
	cs.t = tuple(8080, 0);
	cs.cookie = 1;
	cs.owner.pid = 50;
	strcpy(cs.owner.comm, "srv");
	model_census(&m, T0, &cs);
	/* srv leaves 6 connections in CLOSE_WAIT, the first at T0+1 s */
	for (unsigned i = 0; i < 6; i++) {
		state(&m, v, T0 + (1 + i) * SEC, 100 + i, 50, "srv", 8080, 50000 + i, TS_SYN_RECV,
		      TS_ESTABLISHED);
		state(&m, v, T0 + (1 + i) * SEC, 100 + i, 50, "srv", 8080, 50000 + i,
		      TS_ESTABLISHED, TS_CLOSE_WAIT);
	}
	/* a client holds 12 of the 16 ports toward 10.0.0.2:80, 8 in TIME_WAIT
	 * (here as full sockets in the state; the grouping is by state); 3 fail */
	for (unsigned i = 0; i < 12; i++) {
		port(&m, v, T0 + 2 * SEC, 60, 40000 + i, 0);
		state(&m, v, T0 + 2 * SEC, 200 + i, 60, "client", 40000 + i, 80, TS_CLOSE,
		      TS_SYN_SENT);
		state(&m, v, T0 + 2 * SEC, 200 + i, 60, "client", 40000 + i, 80, TS_SYN_SENT,
		      i < 8 ? TS_TIME_WAIT : TS_ESTABLISHED);
	}
	for (unsigned i = 0; i < 3; i++)
		port(&m, v, T0 + 3 * SEC, 60, 0, -EADDRNOTAVAIL);
	/* a reset */
	state(&m, v, T0 + 3 * SEC, 300, 70, "rst", 8080, 51000, TS_ESTABLISHED, TS_CLOSE);

	top_view_update(v, &m, T0 + 2 * SEC, true); /* a first sample */
	top_view_update(v, &m, T0 + 12 * SEC, true);

	CHECK(v->states[TS_CLOSE_WAIT] == 6 && v->states[TS_LISTEN] == 1 &&
		      v->states[TS_TIME_WAIT] == 8 && v->states[TS_ESTABLISHED] == 4,
	      "states: cw %llu listen %llu tw %llu estab %llu",
	      (unsigned long long)v->states[TS_CLOSE_WAIT], (unsigned long long)v->states[TS_LISTEN],
	      (unsigned long long)v->states[TS_TIME_WAIT],
	      (unsigned long long)v->states[TS_ESTABLISHED]);
	CHECK(v->ncw == 1 && v->cw[0]->k.pid == 50 && v->cw[0]->k.port == 8080 && !v->cw[0]->k.side &&
		      v->cw[0]->count == 6 && v->cw[0]->oldest_ns == 11 * SEC && !v->cw[0]->oldest_lb,
	      "one CLOSE_WAIT row: srv :8080, 6, oldest 11 s (ncw %zu)", v->ncw);
	CHECK_EQ(v->ndest, 1, "one destination row (the failures joined it): %zu", v->ndest);
	if (v->ndest == 1) {
		const struct top_dest *d = v->dest[0];

		CHECK(d->held == 12 && d->time_wait == 8 && d->usable == 16 && d->pct == 75.0 &&
			      d->fails == 3 && d->connects == 12,
		      "12 of 16 held (75%%), 8 TIME_WAIT, 3 failures: held %llu tw %llu usable %u "
		      "pct %.1f fails %llu", (unsigned long long)d->held,
		      (unsigned long long)d->time_wait, d->usable, d->pct,
		      (unsigned long long)d->fails);
	}
	CHECK(v->nlis == 1 && v->lis[0].port == 8080 && v->lis[0].queue == 3 &&
		      v->lis[0].backlog == 4 && v->lis[0].fill == 0.75 && v->lis[0].owner.pid == 50,
	      "the listener with its queue 3/4");

	/* the tail: 3 failed connects (one line, x3), 1 reset, a leak (6 >= 5,
	 * oldest >= 5 s) and port pressure (75% >= 50%), newest first */
	const struct top_note *n[16];
	size_t nn = top_view_tail(v, 0, n, 16);

	CHECK_EQ(nn, 4, "4 notable lines: %zu", nn);
	CHECK(nn == 4 && n[3]->kind == NOTE_CONNECT_FAIL && n[3]->repeat == 3 &&
		      n[2]->kind == NOTE_RESET,
	      "the same failure three times is one line that counts");
	CHECK(v->notes[NOTE_CONNECT_FAIL] == 3 && v->notes[NOTE_RESET] == 1 &&
		      v->notes[NOTE_LEAK] == 1 && v->notes[NOTE_PORTS] == 1,
	      "by kind: fail %llu reset %llu leak %llu ports %llu",
	      (unsigned long long)v->notes[NOTE_CONNECT_FAIL],
	      (unsigned long long)v->notes[NOTE_RESET], (unsigned long long)v->notes[NOTE_LEAK],
	      (unsigned long long)v->notes[NOTE_PORTS]);
	/* the port pressure was there at the first update, the leak (oldest
	 * >= 5 s) only at the second */
	CHECK(nn && n[0]->kind == NOTE_LEAK && strstr(n[0]->text, "50 srv :8080: 6 CLOSE_WAIT"),
	      "newest, the leak: %s", nn ? n[0]->text : "");
	CHECK(nn > 1 && n[1]->kind == NOTE_PORTS && strstr(n[1]->text, "12 of 16"),
	      "then the ports: %s", nn > 1 ? n[1]->text : "");
	top_view_update(v, &m, T0 + 13 * SEC, true);
	CHECK(v->notes[NOTE_LEAK] == 1 && v->notes[NOTE_PORTS] == 1, "raised once, not per refresh");
	CHECK(top_view_records_count(v) == 6 * 2 + 12 * 3 + 3 + 1, "every record in the stream: %zu",
	      top_view_records_count(v));

	/* Enter on the CLOSE_WAIT row: its 6 sockets, oldest first */
	struct top_sel sel = { .pane = PANE_CW, .cw = *v->cw[0] };

	top_view_select(v, &m, &sel);
	CHECK(v->detail_on && v->ndetail == 6 && v->detail_total == 6 &&
		      v->detail[0].age_ns > v->detail[5].age_ns && v->detail[0].t.dport == 50000,
	      "the row's sockets: %zu", v->ndetail);
	sel = (struct top_sel){ .pane = PANE_DEST, .dest = *v->dest[0] };
	top_view_select(v, &m, &sel);
	CHECK_EQ(v->ndetail, 12, "the destination's 12 sockets: %zu", v->ndetail);
	top_view_select(v, &m, NULL);
	CHECK(!v->detail_on, "back");

	/* the '/' filter: trace's words, on the states, rows and rings */
	CHECK(top_view_set_filter(v, "-p 60 --state time-wait", err, sizeof(err)) == 0, "%s", err);
	top_view_update(v, &m, T0 + 14 * SEC, false);
	CHECK(v->states[TS_TIME_WAIT] == 8 && v->states[TS_CLOSE_WAIT] == 0 &&
		      v->states[TS_ESTABLISHED] == 0 && v->ncw == 0 && v->ndest == 1 && v->nlis == 0,
	      "filtered: tw %llu cw %llu ncw %zu ndest %zu nlis %zu",
	      (unsigned long long)v->states[TS_TIME_WAIT],
	      (unsigned long long)v->states[TS_CLOSE_WAIT], v->ncw, v->ndest, v->nlis);
	CHECK(top_view_set_filter(v, "-L 8080", err, sizeof(err)) == 0, "%s", err);
	nn = top_view_tail(v, 0, n, 16);
	CHECK(nn == 2 && n[0]->kind == NOTE_LEAK && n[1]->kind == NOTE_RESET,
	      "the tail filtered by local port: %zu", nn);
	CHECK(top_view_set_filter(v, "--nope", err, sizeof(err)) == -1 &&
		      strstr(err, "unknown filter word '--nope'") && !strcmp(v->filter_text, "-L 8080"),
	      "a wrong word named, the filter kept: %s", err);
	CHECK(top_view_set_filter(v, "", err, sizeof(err)) == 0 && !filter_active(&v->filter),
	      "empty clears");
	top_view_update(v, &m, T0 + 14 * SEC, false);

	/* pause: the rows and the rings stay as they were */
	v->paused = true;
	state(&m, v, T0 + 15 * SEC, 400, 70, "late", 9000, 52000, TS_ESTABLISHED, TS_CLOSE_WAIT);
	top_view_update(v, &m, T0 + 15 * SEC, true);
	CHECK(v->ncw == 1 && top_view_records_count(v) == 6 * 2 + 12 * 3 + 3 + 1,
	      "paused: still 1 row, %zu records", top_view_records_count(v));
	v->paused = false;
	top_view_update(v, &m, T0 + 16 * SEC, true);
	CHECK_EQ(v->ncw, 2, "resumed: the new row shows");

	/* the minute's change and trend */
	CHECK(v->change[TS_CLOSE_WAIT] == 1 && v->trend[TS_CLOSE_WAIT][TOP_TREND - 1] == 7 &&
		      v->trend[TS_CLOSE_WAIT][0] == 0,
	      "CLOSE_WAIT +%lld, trend ends high", (long long)v->change[TS_CLOSE_WAIT]);

	/* sort: by pid, then reversed */
	v->sort[PANE_CW] = SORT_CW_PID;
	top_view_update(v, &m, T0 + 16 * SEC, false);
	CHECK(v->cw[0]->k.pid == 50 && v->cw[1]->k.pid == 70, "by pid ascending");
	v->reverse[PANE_CW] = true;
	top_view_update(v, &m, T0 + 16 * SEC, false);
	CHECK_EQ(v->cw[0]->k.pid, 70, "reversed");

	top_view_free(v);
	free(v);
	model_free(&m);
}

static void test_words(void)
{
	struct filter f;
	char err[256], d[256];

	CHECK(filter_parse_words(&f, "-p 12,13 --comm=nginx lport 80 -D 443 -4 state close-wait", err,
				 sizeof(err)) == 0, "%s", err);
	CHECK(f.npids == 2 && f.pids[1] == 13 && f.ncomms == 1 && !strcmp(f.comms[0], "nginx") &&
		      f.nlports == 1 && f.lports[0] == 80 && f.nrports == 1 && f.rports[0] == 443 &&
		      f.family == AF_INET && f.state_mask == 1u << TS_CLOSE_WAIT,
	      "every word");
	CHECK_STR(filter_describe(&f, d, sizeof(d)),
		  "-p 12 -p 13 -c nginx -L 80 -D 443 -4 --state CLOSE_WAIT");
	struct filter g;

	CHECK(filter_parse_words(&g, d, err, sizeof(err)) == 0 && !memcmp(&f, &g, sizeof(f)),
	      "the description reads back the same: %s", err);
	CHECK(filter_parse_words(&f, "-p", err, sizeof(err)) == -1 && strstr(err, "--pid needs a value"),
	      "%s", err);
	CHECK(filter_parse_words(&f, "-4 -6", err, sizeof(err)) == -1 && strstr(err, "exclude"), "%s",
	      err);
	CHECK(filter_parse_words(&f, "-P --state established", err, sizeof(err)) == -1 &&
		      strstr(err, "-P exclude"), "%s", err);
	CHECK(filter_parse_words(&f, "--ipv4=1", err, sizeof(err)) == -1 && strstr(err, "no value"),
	      "%s", err);
	CHECK(filter_parse_words(&f, "-L 99999", err, sizeof(err)) == -1, "a bad port: %s", err);
	CHECK(filter_parse_words(&f, "  ", err, sizeof(err)) == 0 && !filter_active(&f), "blank");
}

int main(void)
{
	test_panes();
	test_words();
	return check_summary("test_top_view");
}
