// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests of serve's pure logic: label values, container ids from cgroup
 * paths, the exposition of a model (top-N and "other", the series cap), the
 * counters' zero series, and the model's window (model_rebase) and
 * forgetting (model_forget). */
#include <stdlib.h>
#include <string.h>
#include "cgroup.h"
#include "check.h"
#include "counters.h"
#include "metrics.h"
#include "model.h"

static void test_label_value(void)
{
	char buf[64];

	buf[0] = 0;
	metrics_label_value(buf, sizeof(buf), "a\"b\\c\nd");
	CHECK_STR(buf, "a\\\"b\\\\c\\nd");
	buf[0] = 0;
	metrics_label_value(buf, sizeof(buf), "ok\xff\x01" "\xc3\xa9"); /* invalid, control, é */
	CHECK_STR(buf, "ok??\xc3\xa9");
	buf[0] = 0;
	metrics_label_value(buf, sizeof(buf), "\xe2\x82"); /* a cut sequence */
	CHECK_STR(buf, "??");
	buf[0] = 0;
	metrics_label_value(buf, 8, "abcdefghij"); /* bounded */
	CHECK(strlen(buf) < 8, "'%s' is %zu bytes, the buffer 8", buf, strlen(buf));
}

static void test_container(void)
{
	static const char h[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	static const struct {
		const char *path;
		bool is;
		const char *pod;
	} cases[] = {
		{ "/system.slice/docker-" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" ".scope", true, "" },
		{ "/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true, "" },
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1c2d3e4f_0000_4000_8000_000000000001.slice/cri-containerd-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope",
		  true, "1c2d3e4f-0000-4000-8000-000000000001" },
		{ "/kubepods/besteffort/pod1c2d3e4f-0000-4000-8000-000000000002/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  true, "1c2d3e4f-0000-4000-8000-000000000002" },
		{ "/machine.slice/libpod-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope", true, "" },
		{ "/system.slice/nginx.service", false, "" },
		{ "/system.slice/docker-0123.scope", false, "" },
		{ "/", false, "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char id[65], pod[37];
		bool is = cgroup_container(cases[i].path, id, pod);

		CHECK_EQ(is, cases[i].is, "%s: container %d, want %d", cases[i].path, is, cases[i].is);
		if (is)
			CHECK_STR(id, h);
		CHECK_STR(pod, cases[i].pod);
	}
}

/* A model with CLOSE_WAIT sockets of three processes in two namespaces */
static void leak_model(struct model *m)
{
	struct ev_state e = { .hdr = { .type = EV_STATE, .size = sizeof(e), .ts_ns = 1000 } };
	static const char *const comms[] = { "big", "mid", "small" };
	static const int counts[] = { 30, 20, 10 };
	uint64_t k = 1;

	model_init(m);
	for (int c = 0; c < 3; c++)
		for (int i = 0; i < counts[c]; i++) {
			e.cookie = k++;
			e.netns = c == 2 ? 8 : 7;
			e.old_state = TS_ESTABLISHED;
			e.new_state = TS_CLOSE_WAIT;
			e.flags = EVF_OWNER_KNOWN;
			e.owner.pid = 100 + c;
			strcpy(e.owner.comm, comms[c]);
			model_event(m, &e.hdr);
		}
	model_advance(m, 1000 + 7000000000ULL);
}

static char *expose(const struct model *m, const struct counters *c, unsigned max_comms,
		    unsigned max_series, bool om, struct metrics_stats *st)
{
	struct tracker t = { 0 };
	struct findings fs = { 0 };
	struct metrics_input in = {
		.m = m, .c = c, .fs = &fs, .t = &t, .version = "test", .kernel = "k",
		.max_comms = max_comms, .max_dests = 20, .max_series = max_series, .window_s = 60,
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	metrics_write(f, &in, om, st);
	fclose(f);
	return buf;
}

static void test_exposition(void)
{
	struct model m;
	struct counters c;
	struct metrics_stats st;
	char *out;

	leak_model(&m);
	counters_init(&c);
	out = expose(&m, &c, 2, 10000, false, &st);
	CHECK(strstr(out, "tcpscope_close_wait_sockets{netns=\"7\",comm=\"big\",container=\"\",pod_uid=\"\"} 30\n") != NULL,
	      "no 'big' series");
	CHECK(strstr(out, "tcpscope_close_wait_sockets{netns=\"7\",comm=\"mid\",container=\"\",pod_uid=\"\"} 20\n") != NULL,
	      "no 'mid' series");
	CHECK(strstr(out, "comm=\"small\"") == NULL, "the third process is labelled past --max-comms 2");
	CHECK(strstr(out, "tcpscope_close_wait_sockets{netns=\"other\",comm=\"other\",container=\"\",pod_uid=\"\"} 10\n") != NULL,
	      "the third process not folded into other");
	CHECK(strstr(out, "tcpscope_series_folded{limit=\"comms\"} 1\n") != NULL, "folded not counted");
	CHECK(strstr(out, "tcpscope_sockets{netns=\"7\",state=\"close_wait\"} 50\n") != NULL,
	      "sockets by state");
	CHECK(strstr(out, "tcpscope_close_wait_oldest_seconds{netns=\"7\",comm=\"big\",container=\"\",pod_uid=\"\"} 7\n") != NULL,
	      "oldest age");
	CHECK(strstr(out, "tcpscope_port_allocation_failures_total{op=\"connect\",errno=\"EADDRNOTAVAIL\"} 0\n") != NULL,
	      "the watched failures exist at 0");
	CHECK(strstr(out, "# TYPE tcpscope_transitions_total counter\n") != NULL, "0.0.4 counter type");
	CHECK(strstr(out, "# EOF") == NULL, "0.0.4 has no # EOF");
	CHECK_EQ(st.dropped, 0, "%llu dropped", (unsigned long long)st.dropped);
	free(out);
	/* OpenMetrics: counter families without _total, # EOF last */
	out = expose(&m, &c, 2, 10000, true, &st);
	CHECK(strstr(out, "# TYPE tcpscope_transitions counter\n") != NULL, "OpenMetrics counter type");
	CHECK(strlen(out) > 6 && !strcmp(out + strlen(out) - 6, "# EOF\n"), "no # EOF at the end");
	free(out);
	/* the cap: at most 50 samples, the rest counted, the count itself kept */
	out = expose(&m, &c, 2, 50, false, &st);
	CHECK(st.dropped > 0, "nothing dropped at 50 (%u series)", st.series);
	char want[64];

	snprintf(want, sizeof(want), "tcpscope_series_dropped %llu\n", (unsigned long long)st.dropped);
	CHECK(strstr(out, want) != NULL, "dropped not reported as %s", want);
	free(out);
	model_free(&m);
}

static void test_rebase_and_forget(void)
{
	struct model m;
	struct ev_port p = { .hdr = { .type = EV_PORT, .size = sizeof(p), .ts_ns = 2000 } };
	uint64_t now[TS_STATE_MAX];

	leak_model(&m);
	p.op = PORT_CONNECT;
	p.ret = -99; /* EADDRNOTAVAIL */
	p.netns = 9;
	p.t.family = 2;
	p.t.dport = 80;
	model_event(&m, &p.hdr);
	CHECK_EQ(m.dest.n, 1, "%zu destinations, want 1", m.dest.n);
	size_t ns_before = m.ns.n;

	model_rebase(&m, 3000);
	CHECK_EQ(m.dest.n, 0, "destinations kept after the window: %zu", m.dest.n);
	CHECK_EQ(m.start_ns, 3000, "window start %llu", (unsigned long long)m.start_ns);
	/* namespace 9 had an event in the window that ended: kept for now */
	CHECK_EQ(m.ns.n, ns_before, "%zu namespaces, want %zu", m.ns.n, ns_before);
	model_rebase(&m, 4000);
	CHECK(model_ns(&m, 9) == NULL, "an empty, quiet namespace outlived two windows");
	CHECK(model_ns(&m, 7) != NULL, "a namespace with sockets was forgotten");
	model_ns_states(&m, 7, now);
	CHECK(now[TS_CLOSE_WAIT] == 50, "CLOSE_WAIT %llu after the windows, want 50",
	      (unsigned long long)now[TS_CLOSE_WAIT]);
	/* forgetting: closing states only */
	CHECK(model_forget(&m, 7, 1u << TS_FIN_WAIT1) == 0, "forgot a socket not in the mask");
	CHECK(model_forget(&m, 8, 1u << TS_CLOSE_WAIT) == 10, "namespace 8's 10 not forgotten");
	CHECK_EQ(m.forgotten, 10, "forgotten %llu", (unsigned long long)m.forgotten);
	model_ns_states(&m, 7, now);
	CHECK_EQ(now[TS_CLOSE_WAIT], 50, "namespace 7 touched: %llu", (unsigned long long)now[TS_CLOSE_WAIT]);
	model_free(&m);
}

int main(void)
{
	test_label_value();
	test_container();
	test_exposition();
	test_rebase_and_forget();
	return check_summary("test_serve");
}
