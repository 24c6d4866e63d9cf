// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Pure logic around port allocations: the exhaustion early warning
 * (pressure.c) and the capability ladder's bookkeeping (ladder.c). */
#include <sys/socket.h>
#include "check.h"
#include "ladder.h"
#include "pressure.h"
#include "nsinfo.h"

static struct ev_port port_ev(uint64_t ts, uint8_t op, uint16_t dport, int ret, int scan_known,
			      unsigned scan)
{
	struct ev_port e = {};

	e.hdr.type = EV_PORT;
	e.hdr.ts_ns = ts;
	e.op = op;
	e.t.family = AF_INET;
	e.t.daddr[0] = 10;
	e.t.daddr[3] = 1;
	e.t.dport = dport;
	e.ret = ret;
	e.netns = 4026531840u;
	e.scan = scan;
	e.flags = scan_known ? EVF_SCAN_KNOWN : 0;
	return e;
}

#define SEC NSEC_PER_SEC

static void test_pressure(void)
{
	struct pressure p;
	struct pressure_verdict v;
	struct ev_port e;

	pressure_init(&p, 0);
	CHECK_EQ(p.scan_warn, PRESSURE_SCAN_WARN, "default threshold %u", p.scan_warn);

	/* short scans and unknown scans are not marked */
	e = port_ev(1 * SEC, PORT_CONNECT, 80, 0, 1, 3);
	v = pressure_note(&p, &e);
	CHECK(v.mark == MARK_NONE && v.recent == 0, "mark %d recent %u", v.mark, v.recent);
	e = port_ev(1 * SEC, PORT_CONNECT, 80, 0, 0, 0);
	v = pressure_note(&p, &e);
	CHECK_EQ(v.mark, MARK_NONE, "unknown scan marked %d", v.mark);

	/* long scans, then a failure: the third within 10 s is pressure */
	e = port_ev(2 * SEC, PORT_CONNECT, 80, 0, 1, 8);
	v = pressure_note(&p, &e);
	CHECK(v.mark == MARK_LONG_SCAN && v.recent == 1, "mark %d recent %u", v.mark, v.recent);
	e = port_ev(3 * SEC, PORT_CONNECT, 80, 0, 1, 20);
	v = pressure_note(&p, &e);
	CHECK(v.mark == MARK_LONG_SCAN && v.recent == 2, "mark %d recent %u", v.mark, v.recent);
	e = port_ev(4 * SEC, PORT_CONNECT, 80, -99, 1, 20);
	v = pressure_note(&p, &e);
	CHECK(v.mark == MARK_FAILED && v.recent == PRESSURE_HITS, "mark %d recent %u", v.mark,
	      v.recent);

	/* another destination port is another slot */
	e = port_ev(4 * SEC, PORT_CONNECT, 443, -99, 0, 0);
	v = pressure_note(&p, &e);
	CHECK(v.mark == MARK_FAILED && v.recent == 1, "other dest: recent %u", v.recent);

	/* 20 s later the window holds only the new one */
	e = port_ev(24 * SEC, PORT_CONNECT, 80, 0, 1, 9);
	v = pressure_note(&p, &e);
	CHECK_EQ(v.recent, 1, "after the window: recent %u", v.recent);

	/* a custom threshold */
	pressure_init(&p, 30);
	e = port_ev(1 * SEC, PORT_CONNECT, 80, 0, 1, 29);
	CHECK(pressure_note(&p, &e).mark == MARK_NONE, "29 < 30 marked");
	e = port_ev(1 * SEC, PORT_CONNECT, 80, 0, 1, 30);
	CHECK(pressure_note(&p, &e).mark == MARK_LONG_SCAN, "30 not marked");

	/* more destinations than slots: the oldest is recycled, no crash */
	pressure_init(&p, 0);
	for (unsigned i = 0; i < 3 * PRESSURE_DESTS; i++) {
		e = port_ev(SEC + i, PORT_CONNECT, (uint16_t)(1000 + i), -99, 0, 0);
		v = pressure_note(&p, &e);
	}
	CHECK_EQ(v.recent, 1, "fresh slot after recycling: recent %u", v.recent);
}

static void test_ladder(void)
{
	struct ladder l = {};
	char buf[512];

	ladder_use(&l, FACT_PORT, VIA_TRACEPOINT, "tp %s", "x");
	ladder_failed(&l, FACT_PORT, VIA_FENTRY, "fentry: EPERM at load");
	ladder_failed(&l, FACT_PORT, VIA_KPROBE, "kernel built without CONFIG_KPROBES");
	CHECK_STR(l.f[FACT_PORT].mech, "tp x");
	CHECK_STR(l.f[FACT_PORT].failed[0].why, "EPERM at load");
	CHECK_STR(l.f[FACT_PORT].failed[1].why, "kernel built without CONFIG_KPROBES");
	for (int i = 0; i < 5; i++)
		ladder_failed(&l, FACT_PORT, VIA_KPROBE, "more");
	CHECK_EQ(l.f[FACT_PORT].nfailed, LADDER_MAX_FAILED, "nfailed %d", l.f[FACT_PORT].nfailed);

	ladder_blind_spots(&l, false, buf, sizeof(buf));
	CHECK_STR(buf, "");
	ladder_unknown(&l, FACT_SCAN, "candidate ports");
	ladder_unknown(&l, FACT_SCAN, "IPv6");
	ladder_unknown(&l, FACT_LISTEN_OVF, "not traced");
	ladder_blind_spots(&l, false, buf, sizeof(buf));
	CHECK_STR(buf, "scan length: candidate ports; IPv6; listen overflow: not traced");
	CHECK_STR(via_name(VIA_FENTRY), "fentry");
	CHECK_STR(via_name(VIA_NONE), "none");
	CHECK_STR(fact_name(FACT_TW_REUSE), "TIME_WAIT reuse");
}

static void test_counters(void)
{
	struct nsinfo ns = {};

	nsinfo_parse_counters(&ns, "TcpExt: SyncookiesSent ListenOverflows ListenDrops\n"
				   "TcpExt: 3 17 18\n"
				   "IpExt: InOctets\nIpExt: 99\n"
				   "Tcp: RtoAlgorithm ActiveOpens CurrEstab\nTcp: 1 42 5\n");
	for (int i = 0; i < NSINFO_COUNTERS; i++) {
		const char *n = nsinfo_counter_names[i];
		uint64_t want = !strcmp(n, "TcpExt.ListenOverflows") ? 17 :
				!strcmp(n, "TcpExt.ListenDrops")     ? 18 :
				!strcmp(n, "TcpExt.SyncookiesSent")  ? 3 :
				!strcmp(n, "Tcp.ActiveOpens")	     ? 42 :
				!strcmp(n, "Tcp.CurrEstab")	     ? 5 :
								       0;
		bool have = want != 0;

		CHECK(!!(ns.have_counter & (1u << i)) == have && ns.counter[i] == want,
		      "%s: have %d value %llu", n, !!(ns.have_counter & (1u << i)),
		      (unsigned long long)ns.counter[i]);
	}
	/* a truncated file: a header with no value line sets nothing */
	memset(&ns, 0, sizeof(ns));
	nsinfo_parse_counters(&ns, "TcpExt: ListenOverflows\n");
	CHECK_EQ(ns.have_counter, 0, "header only: %x", ns.have_counter);
}

int main(void)
{
	test_counters();
	test_pressure();
	test_ladder();
	return check_summary("test_ports");
}
