// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests: decoder, JSON escaping, the three sinks on fixed records. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include "check.h"
#include "decode.h"
#include "fmt.h"
#include "sink.h"

static char *render(const struct sink_ops *ops, bool wide, const struct ev_hdr *h)
{
	static char buf[4096];
	struct sink s = { .wide = wide, .no_header = true };
	enum sink_format fmt = ops == &sink_json_ops ? FMT_JSON : ops == &sink_csv_ops ? FMT_CSV : FMT_TEXT;

	memset(buf, 0, sizeof(buf));
	sink_attach(&s, fmt, fmemopen(buf, sizeof(buf) - 1, "w"));
	s.clock_offset = 1700000000LL * 1000000000LL;
	ops->event(&s, h);
	sink_flush(&s);
	fclose(s.f);
	free(s.ob);
	free(s.pressure);
	return buf;
}

static struct ev_state sample_state(void)
{
	struct ev_state e = {};

	e.hdr.type = EV_STATE;
	e.hdr.size = sizeof(e);
	e.hdr.ts_ns = 5000000000ULL;
	e.owner.pid = 4242;
	e.owner.tid = 4243;
	strcpy(e.owner.comm, "srv\"x\\\n\x7f");
	e.t.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", e.t.saddr);
	inet_pton(AF_INET, "10.0.0.2", e.t.daddr);
	e.t.sport = 8080;
	e.t.dport = 40000;
	e.old_state = 1;
	e.new_state = 8;
	e.in_old_ns = 1500000;
	e.flags = EVF_OWNER_KNOWN | EVF_IN_OLD_KNOWN;
	return e;
}

static void decoder(void)
{
	struct ev_state e = sample_state();
	char err[128];

	CHECK(decode(&e, sizeof(e), err, sizeof(err)) == &e.hdr, "%s", err);
	CHECK(!decode(&e, 8, err, sizeof(err)), "short record accepted");
	e.hdr.size = 12;
	CHECK(!decode(&e, sizeof(e), err, sizeof(err)), "wrong size accepted");
	e.hdr.size = sizeof(e);
	e.hdr.type = 77;
	CHECK(!decode(&e, sizeof(e), err, sizeof(err)) && strstr(err, "unknown type"), "%s", err);
}

static void json(void)
{
	struct ev_state e = sample_state();
	char *out = render(&sink_json_ops, false, &e.hdr);

	CHECK(strstr(out, "\"comm\":\"srv\\\"x\\\\\\u000a\\u007f\""), "escaping: %s", out);
	CHECK(strstr(out, "\"type\":\"state\""), "%s", out);
	CHECK(strstr(out, "\"old\":\"ESTABLISHED\",\"new\":\"CLOSE_WAIT\""), "%s", out);
	CHECK(strstr(out, "\"in_old_ms\":1.500"), "%s", out);
	CHECK(strstr(out, "\"saddr\":\"10.0.0.1\",\"sport\":8080"), "%s", out);
	CHECK(strstr(out, "\"time\":\"2023-11-14T22:13:25.000000Z\""), "%s", out);
	CHECK(out[strlen(out) - 1] == '\n' && strchr(out, '\n') == out + strlen(out) - 1,
	      "one line: %s", out);

	e.flags = 0; /* owner and age unknown */
	out = render(&sink_json_ops, false, &e.hdr);
	CHECK(strstr(out, "\"pid\":0,\"tid\":0,\"comm\":\"-\""), "%s", out);
	CHECK(strstr(out, "\"in_old_ms\":null"), "%s", out);

	struct ev_call c = {};

	c.hdr.type = EV_CALL;
	c.hdr.size = sizeof(c);
	c.op = OP_CONNECT;
	c.ret = -99;
	c.t.family = AF_INET6;
	inet_pton(AF_INET6, "::1", c.t.daddr);
	c.t.dport = 80;
	c.flags = EVF_OWNER_KNOWN | EVF_IN_OLD_KNOWN;
	out = render(&sink_json_ops, false, &c.hdr);
	CHECK(strstr(out, "\"type\":\"connect\""), "%s", out);
	CHECK(strstr(out, "\"errno\":\"EADDRNOTAVAIL\""), "%s", out);
	CHECK(strstr(out, "\"family\":\"ipv6\""), "%s", out);
	CHECK(strstr(out, "\"daddr\":\"::1\",\"dport\":80"), "%s", out);
}

static int count_fields(const char *line)
{
	int n = 1, q = 0;

	for (const char *p = line; *p && *p != '\n'; p++) {
		if (*p == '"')
			q = !q;
		else if (*p == ',' && !q)
			n++;
	}
	return n;
}

static void csv_and_text(void)
{
	struct ev_state e = sample_state();
	struct ev_tw tw = {};
	struct ev_call c = {};
	char buf[1024] = "";
	struct sink s = { .ops = &sink_csv_ops };
	char *out;

	s.f = fmemopen(buf, sizeof(buf) - 1, "w");
	s.ops->begin(&s);
	fclose(s.f);
	int header_fields = count_fields(buf);

	CHECK_EQ(header_fields, 27, "header has %d fields", header_fields);
	out = render(&sink_csv_ops, false, &e.hdr);
	CHECK_EQ(count_fields(out), header_fields, "state row has %d fields: %s", count_fields(out), out);
	tw.hdr.type = EV_TW;
	tw.kind = TW_END;
	tw.cause = TW_CAUSE_EXPIRED;
	tw.substate = 6;
	tw.lived_ns = 60000000000ULL;
	out = render(&sink_csv_ops, false, &tw.hdr);
	CHECK_EQ(count_fields(out), header_fields, "tw row: %s", out);
	CHECK(strstr(out, ",end,TIME_WAIT,expired,60000.000,"), "%s", out);
	c.hdr.type = EV_CALL;
	c.op = OP_BIND;
	c.ret = -98;
	out = render(&sink_csv_ops, false, &c.hdr);
	CHECK_EQ(count_fields(out), header_fields, "call row: %s", out);
	memset(buf, 0, sizeof(buf));
	s.f = fmemopen(buf, sizeof(buf) - 1, "w");
	s.ops->lost(&s, 1, "ringbuf_full", 7);
	fclose(s.f);
	CHECK_EQ(count_fields(buf), header_fields, "lost row: %s", buf);
	{
		struct ev_port p = {};
		struct ev_listen_ovf o = {};

		p.hdr.type = EV_PORT;
		p.op = PORT_CONNECT;
		p.via = VIA_FENTRY;
		p.scan = 12;
		p.range_lo = 40000;
		p.range_hi = 40015;
		p.flags = EVF_SCAN_KNOWN | EVF_TW_REUSED | EVF_IN_OLD_KNOWN;
		out = render(&sink_csv_ops, false, &p.hdr);
		CHECK_EQ(count_fields(out), header_fields, "port row: %s", out);
		CHECK(strstr(out, ",connect,12,40000,40015,1,fentry\n"), "%s", out);
		out = render(&sink_json_ops, false, &p.hdr);
		CHECK(strstr(out, "\"op\":\"connect\"") && strstr(out, "\"scan\":12,\"tw_reused\":true,\"range\":[40000,40015],\"via\":\"fentry\""), "%s", out);
		p.flags = EVF_IN_OLD_KNOWN | EVF_LAT_UPPER;
		p.via = VIA_TRACEPOINT;
		p.ret = -99;
		out = render(&sink_json_ops, false, &p.hdr);
		CHECK(strstr(out, "\"errno\":\"EADDRNOTAVAIL\"") && strstr(out, "\"latency_exact\":false,\"scan\":null,\"tw_reused\":false"), "%s", out);
		out = render(&sink_csv_ops, false, &p.hdr);
		CHECK(strstr(out, ",-99,EADDRNOTAVAIL,,,connect,,40000,40015,0,tracepoint\n"), "unknown scan is empty: %s", out);
		o.hdr.type = EV_LISTEN_OVF;
		o.stage = OVF_SYN;
		o.accept_queue = 6;
		o.backlog = 5;
		o.via = VIA_KPROBE;
		out = render(&sink_csv_ops, false, &o.hdr);
		CHECK_EQ(count_fields(out), header_fields, "listen_overflow row: %s", out);
		out = render(&sink_json_ops, false, &o.hdr);
		CHECK(strstr(out, "\"type\":\"listen_overflow\"") && strstr(out, "\"stage\":\"syn\",\"accept_queue\":6,\"backlog\":5,\"via\":\"kprobe\""), "%s", out);
		out = render(&sink_text_ops, false, &o.hdr);
		CHECK(strstr(out, "OVERFLOW syn q=6/5") && strstr(out, "!! accept queue full"), "%s", out);
	}

	/* text: fits 80 columns for IPv4 endpoints up to 15 characters */
	out = render(&sink_text_ops, false, &e.hdr);
	CHECK(strlen(out) <= 81, "state line is %zu wide: %s", strlen(out), out);
	CHECK(strstr(out, "ESTAB>CLOSEWT"), "%s", out);
	c.op = OP_CONNECT;
	c.ret = -99;
	c.t.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.2", c.t.daddr); /* 15-char endpoints fit */
	c.t.dport = 65535;
	c.flags = EVF_OWNER_KNOWN | EVF_IN_OLD_KNOWN;
	out = render(&sink_text_ops, false, &c.hdr);
	CHECK(strlen(out) <= 81, "connect line is %zu wide: %s", strlen(out), out);
	CHECK(strstr(out, "conn EADDRNOTAVAIL"), "%s", out);
	out = render(&sink_text_ops, true, &e.hdr);
	CHECK(strstr(out, "ESTABLISHED>CLOSE_WAIT"), "wide names: %s", out);
}

/* A record of any type */
union any_record {
	struct ev_hdr h;
	struct ev_state st;
	struct ev_tw tw;
	struct ev_call call;
	struct ev_port port;
	struct ev_listen_ovf ovf;
};

/* One record of each type and shape, as the kernel side fills them */
static size_t golden_records(union any_record *r, size_t max)
{
	struct ev_state st = sample_state();
	size_t n = 0;

#define HDR(x, ty, ts)                                                              \
	do {                                                                        \
		(x).hdr.type = (ty);                                                \
		(x).hdr.size = sizeof(x);                                           \
		(x).hdr.ts_ns = (ts);                                               \
	} while (0)
#define COMMON(x)                                                                   \
	do {                                                                        \
		(x).owner = st.owner;                                               \
		(x).t = st.t;                                                       \
		(x).netns = 4026531840u;                                            \
	} while (0)
	if (max < 12)
		return 0;
	st.netns = 4026531840u;
	r[n++].st = st;		      /* ESTABLISHED -> CLOSE_WAIT, owner known */
	st.flags = 0;		      /* owner and age unknown */
	st.old_state = TS_CLOSE_WAIT;
	st.new_state = TS_LAST_ACK;
	r[n++].st = st;
	st.t.family = AF_INET6;	      /* IPv6 */
	inet_pton(AF_INET6, "2001:db8::1", st.t.saddr);
	inet_pton(AF_INET6, "::1", st.t.daddr);
	st.flags = EVF_OWNER_KNOWN | EVF_IN_OLD_KNOWN;
	r[n++].st = st;
	st = sample_state();
	for (int k = TW_ENTER; k <= TW_OVERFLOW; k++) {
		struct ev_tw tw = {};

		HDR(tw, EV_TW, 6000000000ULL + k);
		COMMON(tw);
		tw.flags = EVF_OWNER_KNOWN | (k == TW_OVERFLOW ? EVF_INFERRED : 0);
		tw.kind = k;
		tw.substate = k == TW_ENTER ? TS_FIN_WAIT2 : TS_TIME_WAIT;
		tw.timeout_ms = k == TW_END ? 0 : 60000;
		tw.lived_ns = k == TW_END ? 61234567 : 0;
		tw.cause = k == TW_END ? TW_CAUSE_REUSED : 0;
		tw.tw = 0xffff888100001000ULL;
		tw.cookie = 77;
		r[n++].tw = tw;
	}
	for (int op = OP_CONNECT; op <= OP_BIND; op++) {
		struct ev_call c = {};

		HDR(c, EV_CALL, 7000000000ULL + op);
		COMMON(c);
		c.flags = EVF_OWNER_KNOWN | EVF_IN_OLD_KNOWN;
		c.op = op;
		c.ret = op == OP_CONNECT ? -111 : 0; /* ECONNREFUSED */
		c.latency_ns = 250000;
		c.sk = 0xffff888100002000ULL;
		r[n++].call = c;
	}
	for (int ok = 1; ok >= 0; ok--) {
		struct ev_port p = {};

		HDR(p, EV_PORT, 8000000000ULL + ok);
		COMMON(p);
		p.flags = EVF_OWNER_KNOWN | EVF_IN_OLD_KNOWN | (ok ? EVF_SCAN_KNOWN | EVF_TW_REUSED : 0);
		p.op = PORT_CONNECT;
		p.ret = ok ? 0 : -99; /* EADDRNOTAVAIL */
		p.t.sport = ok ? 40001 : 0;
		p.scan = 9;
		p.range_lo = 40000;
		p.range_hi = 40015;
		p.via = VIA_FENTRY;
		p.latency_ns = 120000;
		r[n++].port = p;
	}
	{
		struct ev_listen_ovf o = {};

		HDR(o, EV_LISTEN_OVF, 9000000000ULL);
		COMMON(o);
		o.flags = EVF_OWNER_KNOWN;
		o.accept_queue = 6;
		o.backlog = 5;
		o.stage = OVF_ACK;
		o.via = VIA_TRACEPOINT;
		r[n++].ovf = o;
	}
#undef HDR
#undef COMMON
	return n;
}

/* Every formatter on those records, against its golden file in
 * tests/unit/golden/ (TCPSCOPE_UPDATE_GOLDEN=1 rewrites them: review the
 * diff). A change of output format shows there, line by line. */
static void golden(void)
{
	static const struct {
		const char *file;
		const struct sink_ops *ops;
		bool wide;
	} fmts[] = {
		{ "tests/unit/golden/trace.txt", &sink_text_ops, false },
		{ "tests/unit/golden/trace-wide.txt", &sink_text_ops, true },
		{ "tests/unit/golden/trace.jsonl", &sink_json_ops, false },
		{ "tests/unit/golden/trace.csv", &sink_csv_ops, false },
	};
	static union any_record r[16];
	size_t n = golden_records(r, 16);
	bool update = getenv("TCPSCOPE_UPDATE_GOLDEN") != NULL;

	CHECK_EQ(n, 12, "golden records");
	setenv("TZ", "UTC", 1); /* the text's clock is local time */
	tzset();
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		char got[16384] = "", want[16384] = "";
		size_t len = 0, wlen;
		FILE *f;

		for (size_t k = 0; k < n; k++)
			len += (size_t)snprintf(got + len, sizeof(got) - len, "%s",
						render(fmts[i].ops, fmts[i].wide, &r[k].h));
		if (update) {
			f = fopen(fmts[i].file, "w");
			CHECK(f && fwrite(got, 1, len, f) == len && !fclose(f), "writing %s",
			      fmts[i].file);
			continue;
		}
		f = fopen(fmts[i].file, "r");
		CHECK(f != NULL, "%s missing (TCPSCOPE_UPDATE_GOLDEN=1 writes it)", fmts[i].file);
		if (!f)
			continue;
		wlen = fread(want, 1, sizeof(want) - 1, f);
		fclose(f);
		want[wlen] = 0;
		for (const char *g = got, *w = want; *g || *w;) {
			size_t gl = strcspn(g, "\n"), wl = strcspn(w, "\n");

			if (gl != wl || memcmp(g, w, gl)) {
				CHECK(0, "%s differs:\n  got:  %.*s\n  want: %.*s", fmts[i].file,
				      (int)gl, g, (int)wl, w);
				break;
			}
			g += gl + (g[gl] == '\n');
			w += wl + (w[wl] == '\n');
		}
	}
}

int main(void)
{
	decoder();
	json();
	csv_and_text();
	golden();
	return check_summary("test_format");
}
