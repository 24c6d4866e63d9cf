// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests: durations, ports, sizes, state names, filter parsing and
 * the user-space filter test. */
#include <stdint.h>
#include <sys/socket.h>
#include "check.h"
#include "filter.h"
#include "parse.h"
#include "states.h"

static void durations(void)
{
	char err[256];
	uint64_t ns = 0;

	CHECK(!parse_duration("30s", &ns, err, sizeof(err)) && ns == 30000000000ULL, "%s", err);
	CHECK(!parse_duration("500ms", &ns, err, sizeof(err)) && ns == 500000000ULL, "%s", err);
	CHECK(!parse_duration("2m", &ns, err, sizeof(err)) && ns == 120000000000ULL, "%s", err);
	CHECK(!parse_duration("2", &ns, err, sizeof(err)) && ns == 2000000000ULL, "bare = seconds");
	CHECK(!parse_duration("1.5s", &ns, err, sizeof(err)) && ns == 1500000000ULL, "%s", err);
	CHECK(!parse_duration("1h", &ns, err, sizeof(err)) && ns == 3600000000000ULL, "%s", err);
	CHECK(parse_duration("5x", &ns, err, sizeof(err)) && strstr(err, "unknown unit"), "%s", err);
	CHECK(parse_duration("", &ns, err, sizeof(err)), "empty");
	CHECK(parse_duration("-1s", &ns, err, sizeof(err)), "negative");
	CHECK(parse_duration("0", &ns, err, sizeof(err)), "zero");
	CHECK(parse_duration("s", &ns, err, sizeof(err)), "unit only");
	CHECK(parse_duration("1e400", &ns, err, sizeof(err)), "overflow");
}

static void numbers(void)
{
	char err[256];
	uint16_t port;
	uint32_t pid;
	uint64_t sz;

	CHECK(!parse_port("80", &port, err, sizeof(err)) && port == 80, "%s", err);
	CHECK(!parse_port("65535", &port, err, sizeof(err)) && port == 65535, "%s", err);
	CHECK(parse_port("0", &port, err, sizeof(err)), "port 0");
	CHECK(parse_port("70000", &port, err, sizeof(err)) && strstr(err, "out of range"), "%s", err);
	CHECK(parse_port("80a", &port, err, sizeof(err)), "trailing junk");
	CHECK(parse_port("-1", &port, err, sizeof(err)), "negative");
	CHECK(!parse_pid("1234", &pid, err, sizeof(err)) && pid == 1234, "%s", err);
	CHECK(parse_pid("0", &pid, err, sizeof(err)), "pid 0");
	CHECK(!parse_size("16M", &sz, err, sizeof(err)) && sz == 16u << 20, "%s", err);
	CHECK(!parse_size("4096", &sz, err, sizeof(err)) && sz == 4096, "%s", err);
	CHECK(parse_size("16Q", &sz, err, sizeof(err)), "bad suffix");
}

static void states(void)
{
	uint32_t m = 0;

	CHECK(!state_parse("time-wait", &m) && m == 1u << 6, "mask %x", m);
	m = 0;
	CHECK(!state_parse("TIME_WAIT", &m) && m == 1u << 6, "mask %x", m);
	m = 0;
	CHECK(!state_parse("Close-Wait", &m) && m == 1u << 8, "mask %x", m);
	m = 0;
	CHECK(!state_parse("fin_wait_1", &m) && m == 1u << 4, "mask %x", m);
	m = 0;
	CHECK(!state_parse("listening", &m) && m == 1u << 10, "mask %x", m);
	m = 0;
	CHECK(!state_parse("bucket", &m) && m == ((1u << 3) | (1u << 6)), "mask %x", m);
	m = 0;
	CHECK(!state_parse("connected", &m) && !(m & (1u << 10)) && (m & (1u << 1)), "mask %x", m);
	CHECK(state_parse("bogus", &m), "unknown name accepted");
	CHECK_STR(state_kernel_name(8), "CLOSE_WAIT");
	CHECK_STR(state_kernel_name(6), "TIME_WAIT");
	CHECK_STR(state_kernel_name(99), "STATE_99");
	CHECK_STR(state_kernel_name(-1), "STATE_-1");
	CHECK_STR(state_brief_name(1), "ESTAB");
	CHECK_STR(state_brief_name(8), "CLOSEWT");
	for (int st = 1; st < 13; st++)
		CHECK(strlen(state_brief_name(st)) <= 7, "brief name of %d too long", st);
}

static void filters(void)
{
	struct filter f = {};
	char err[512];
	struct ev_state e = {};

	CHECK(!filter_add_pids(&f, "10,20", err, sizeof(err)) && f.npids == 2, "%s", err);
	CHECK(!filter_add_pids(&f, "30", err, sizeof(err)) && f.npids == 3, "repeatable");
	CHECK(filter_add_pids(&f, "40,,50", err, sizeof(err)) && strstr(err, "empty"), "%s", err);
	CHECK(!filter_add_lports(&f, "8080", err, sizeof(err)) && f.lports[0] == 8080, "%s", err);
	CHECK(filter_add_rports(&f, "99999", err, sizeof(err)), "bad port");
	CHECK(filter_add_states(&f, "close-wait,nope", err, sizeof(err)) &&
		      strstr(err, "wrong state name: nope"),
	      "%s", err);
	CHECK(filter_add_comms(&f, "a-name-that-is-too-long", err, sizeof(err)), "long comm");
	CHECK(!filter_set_family(&f, AF_INET, err, sizeof(err)), "-4");
	CHECK(filter_set_family(&f, AF_INET6, err, sizeof(err)), "-4 -6");

	/* the user-space twin of the BPF filter */
	struct filter g = {};

	filter_add_pids(&g, "42", err, sizeof(err));
	filter_add_states(&g, "close-wait", err, sizeof(err));
	e.hdr.type = EV_STATE;
	e.owner.pid = 42;
	e.t.family = AF_INET;
	e.old_state = 1;
	e.new_state = 8;
	CHECK(filter_match(&g, &e.hdr), "matching event rejected");
	e.new_state = 4;
	CHECK(!filter_match(&g, &e.hdr), "state filter ignored");
	e.old_state = 8;
	CHECK(filter_match(&g, &e.hdr), "out-of CLOSE_WAIT rejected");
	e.owner.pid = 43;
	CHECK(!filter_match(&g, &e.hdr), "pid filter ignored");
}

int main(void)
{
	durations();
	numbers();
	states();
	filters();
	return check_summary("test_parse");
}
