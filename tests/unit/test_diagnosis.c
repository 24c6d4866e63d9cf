// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Pure logic of the diagnosis: the JSON reader, the trace-record reader
 * (replay.c), the model's socket table and the findings rules, fed with
 * hand-made records (the end-to-end tests feed them from the kernel). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "check.h"
#include "findings.h"
#include "json.h"
#include "model.h"
#include "replay.h"
#include "sink.h"

#define SEC NSEC_PER_SEC
#define NSID 4026532000u

static void test_json(void)
{
	struct jtok t[64];
	char err[128], buf[64];
	const char *s = "{\"a\":1,\"b\":[2,3],\"c\":{\"d\":\"x\\\"y\\u0041\"},\"e\":null,\"f\":true}";
	uint64_t u;
	int64_t i;
	bool b;
	int n = json_parse(s, strlen(s), t, 64, err, sizeof(err));

	CHECK_EQ(n, 15, "token count %d", n);
	CHECK(json_u64(s, t, json_get(s, t, 0, "a"), &u) && u == 1, "a = 1");
	int arr = json_get(s, t, 0, "b");

	CHECK(arr > 0 && t[arr].type == J_ARR && t[arr].size == 2, "b is an array of 2");
	CHECK(json_i64(s, t, arr + 2, &i) && i == 3, "b[1] = 3");
	int c = json_get(s, t, 0, "c");

	CHECK(json_str(s, t, json_get(s, t, c, "d"), buf, sizeof(buf)) && !strcmp(buf, "x\"yA"),
	      "escapes decoded: %s", buf);
	CHECK(t[json_get(s, t, 0, "e")].type == J_NULL, "null");
	CHECK(json_bool(s, t, json_get(s, t, 0, "f"), &b) && b, "true");
	CHECK(json_get(s, t, 0, "zz") == -1, "absent key");
	CHECK(!json_u64(s, t, json_get(s, t, 0, "f"), &u), "a bool is not a number");

	static const char *const bad[] = { "{\"a\":1", "{\"a\" 1}", "{\"a\":tru}", "[1,]",
					   "{\"a\":\"x}", "{\"a\":1} x", "" };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		CHECK(json_parse(bad[k], strlen(bad[k]), t, 64, err, sizeof(err)) < 0,
		      "'%s' rejected", bad[k]);
	CHECK(json_parse("{\"a\":1", 6, t, 64, err, sizeof(err)) < 0 && strstr(err, "cut short"),
	      "truncation named: %s", err);
	CHECK(json_parse("[1,2,3]", 7, t, 2, err, sizeof(err)) < 0, "token limit enforced");
	CHECK(json_parse("{\0\"a\":1}", 8, t, 64, err, sizeof(err)) < 0, "a NUL byte is not white space");
	CHECK(json_parse("[1\0]", 4, t, 64, err, sizeof(err)) < 0, "a NUL byte is not part of a number");
}

static void test_usable_ports(void)
{
	unsigned lo, hi;

	CHECK(usable_ports("32768\t60999", "", &lo, &hi) == 28232 && lo == 32768 && hi == 60999,
	      "default range");
	CHECK(usable_ports("40000 40015", "40001,40010-40012,50000", &lo, &hi) == 12,
	      "reserved ports inside the range are not usable");
	CHECK(usable_ports("x", NULL, &lo, &hi) == 0 && lo == 0, "garbage: unknown");
	CHECK(usable_ports("2 1", NULL, &lo, &hi) == 0, "inverted range: unknown");
}

/* A model fed by replay_line: the same path report takes. */
static void feed(struct sink *s, const char *line)
{
	char err[256];
	int r = replay_line(line, strlen(line), s, err, sizeof(err));

	CHECK_EQ(r, 0, "record accepted: %s (%s)", line, err);
}

static void state_line(char *buf, size_t len, uint64_t ts, unsigned pid, const char *comm,
		       unsigned sport, unsigned dport, const char *old, const char *new_,
		       unsigned long long cookie)
{
	snprintf(buf, len,
		 "{\"type\":\"state\",\"ts_ns\":%llu,\"pid\":%u,\"tid\":%u,\"comm\":\"%s\","
		 "\"family\":\"ipv4\",\"saddr\":\"10.0.0.1\",\"sport\":%u,\"daddr\":\"10.0.0.2\","
		 "\"dport\":%u,\"old\":\"%s\",\"new\":\"%s\",\"in_old_ms\":null,\"sk\":\"0x%llx\","
		 "\"cookie\":%llu,\"netns\":%u}",
		 (unsigned long long)ts, pid, pid, comm, sport, dport, old, new_, cookie, cookie,
		 NSID);
}

static const struct finding *find_kind(const struct findings *fs, const char *kind)
{
	for (size_t i = 0; i < fs->n; i++)
		if (!strcmp(fs->f[i].kind, kind))
			return &fs->f[i];
	return NULL;
}

static const char *kv_of(const struct finding *f, const char *key)
{
	for (int i = 0; f && i < f->nkv; i++)
		if (!strcmp(f->kv[i].key, key))
			return f->kv[i].val;
	return "";
}

static void test_model_and_findings(void)
{
	struct model m;
	struct sink s;
	struct findings fs;
	char line[1024];
	uint64_t now[TS_STATE_MAX];

	model_init(&m);
	sink_attach_model(&s, &m);
	feed(&s, "{\"type\":\"run\",\"ts_ns\":1000000000,\"phase\":\"start\",\"host\":\"h\","
		 "\"kernel\":\"6.1\",\"blind_spots\":[\"scan length: unknown\",\"x: y\"]}");
	CHECK(!strcmp(m.blind, "scan length: unknown; x: y"), "blind spots joined: %s", m.blind);
	snprintf(line, sizeof(line),
		 "{\"type\":\"netns\",\"ts_ns\":1000000000,\"phase\":\"start\",\"netns\":%u,"
		 "\"sysctl\":{\"net.ipv4.ip_local_port_range\":\"32768\\t60999\","
		 "\"net.ipv4.tcp_fin_timeout\":\"60\",\"net.unknown\":\"1\"},"
		 "\"counters\":{\"TcpExt.ListenOverflows\":10,\"Tcp.Unknown\":5}}", NSID);
	feed(&s, line);
	/* a server on :80 leaking 6 CLOSE_WAIT from the census (older than the run) */
	snprintf(line, sizeof(line),
		 "{\"type\":\"socket\",\"ts_ns\":1000000000,\"pid\":77,\"tid\":77,\"comm\":\"srv\","
		 "\"family\":\"ipv4\",\"saddr\":\"10.0.0.1\",\"sport\":80,\"daddr\":\"0.0.0.0\","
		 "\"dport\":0,\"state\":\"LISTEN\",\"timewait\":false,\"timer\":\"none\","
		 "\"expires_ms\":null,\"recv_q\":0,\"send_q\":128,\"uid\":0,\"inode\":1,\"cookie\":1,"
		 "\"netns\":%u}", NSID);
	feed(&s, line);
	for (int i = 0; i < 6; i++) {
		snprintf(line, sizeof(line),
			 "{\"type\":\"socket\",\"ts_ns\":1000000000,\"pid\":77,\"tid\":77,"
			 "\"comm\":\"srv\",\"family\":\"ipv4\",\"saddr\":\"10.0.0.1\",\"sport\":80,"
			 "\"daddr\":\"10.0.0.2\",\"dport\":%d,\"state\":\"CLOSE_WAIT\","
			 "\"timewait\":false,\"timer\":\"none\",\"expires_ms\":null,\"recv_q\":0,"
			 "\"send_q\":0,\"uid\":0,\"inode\":%d,\"cookie\":%d,\"netns\":%u}",
			 50000 + i, 10 + i, 100 + i, NSID);
		feed(&s, line);
	}
	/* during the run: a child of the old listener, no owner in the event,
	 * goes to CLOSE_WAIT (it takes the listener's owner) */
	state_line(line, sizeof(line), 2 * SEC, 0, "-", 80, 51000, "LISTEN", "SYN_RECV", 200);
	feed(&s, line);
	state_line(line, sizeof(line), 2 * SEC, 0, "-", 80, 51000, "SYN_RECV", "ESTABLISHED", 200);
	feed(&s, line);
	state_line(line, sizeof(line), 3 * SEC, 0, "-", 80, 51000, "ESTABLISHED", "CLOSE_WAIT", 200);
	feed(&s, line);
	/* one closes normally: gone from the model */
	state_line(line, sizeof(line), 4 * SEC, 77, "srv", 80, 50000, "CLOSE_WAIT", "LAST_ACK", 100);
	feed(&s, line);
	state_line(line, sizeof(line), 4 * SEC, 77, "srv", 80, 50000, "LAST_ACK", "CLOSE", 100);
	feed(&s, line);
	/* 10 resets of one client toward 10.0.0.2, over 1.8 s: a pattern, not
	 * one burst */
	for (int i = 0; i < 10; i++) {
		state_line(line, sizeof(line), 5 * SEC + i * SEC / 5, 88, "cli", 40000 + i, 443,
			   "SYN_SENT", "ESTABLISHED", 1000 + i);
		feed(&s, line);
		state_line(line, sizeof(line), 5 * SEC + i * SEC / 5, 88, "cli", 40000 + i, 443,
			   "ESTABLISHED", "CLOSE", 1000 + i);
		feed(&s, line);
	}
	snprintf(line, sizeof(line),
		 "{\"type\":\"netns\",\"ts_ns\":12000000000,\"phase\":\"end\",\"netns\":%u,"
		 "\"sysctl\":{\"net.ipv4.ip_local_port_range\":\"32768\\t60999\"},"
		 "\"counters\":{\"TcpExt.ListenOverflows\":10}}", NSID);
	feed(&s, line);
	feed(&s, "{\"type\":\"lost\",\"ts_ns\":12000000000,\"reason\":\"ringbuf_full\",\"count\":3}");
	feed(&s, "{\"type\":\"run\",\"ts_ns\":12000000000,\"phase\":\"end\"}");
	const char *future = "{\"type\":\"from_the_future\"}";

	CHECK(replay_line(future, strlen(future), &s, line, sizeof(line)) == 1,
	      "unknown record types are skipped, not fatal");

	model_states_now(&m, now);
	CHECK(now[TS_CLOSE_WAIT] == 6 && now[TS_LISTEN] == 1 && now[TS_ESTABLISHED] == 0,
	      "states now: CLOSE_WAIT %llu LISTEN %llu", (unsigned long long)now[TS_CLOSE_WAIT],
	      (unsigned long long)now[TS_LISTEN]);
	CHECK_EQ(m.census_states[TS_CLOSE_WAIT], 6, "census counted");
	CHECK(m.lost_total == 3 && m.ab.n == 1 &&
		      ((struct mabort *)keyed_at(&m.ab, 0))->from_estab == 10,
	      "lost, and the resets of one owner and peer");
	CHECK_EQ(model_now(&m), 12 * SEC, "run end");

	CHECK(findings_compute(&m, &fs) == 0, "findings computed");
	const struct finding *cw = find_kind(&fs, "close_wait_leak");

	CHECK(cw && !strcmp(kv_of(cw, "pid"), "77") && !strcmp(kv_of(cw, "count"), "6") &&
		      !strcmp(kv_of(cw, "lport"), "80") && !strcmp(kv_of(cw, "new_in_run"), "1") &&
		      !strcmp(kv_of(cw, "older_than_min"), "6") &&
		      !strcmp(kv_of(cw, "oldest_lower_bound"), "true"),
	      "CLOSE_WAIT leak of pid 77 on :80: %s (new %s, aged %s)", cw ? cw->title : "none",
	      kv_of(cw, "new_in_run"), kv_of(cw, "older_than_min"));
	CHECK(cw && strstr(cw->title, "oldest >= 11.0 s"), "age as a lower bound: %s",
	      cw ? cw->title : "");
	const struct finding *rs = find_kind(&fs, "resets");

	CHECK(rs && !strcmp(kv_of(rs, "pid"), "88") && !strcmp(kv_of(rs, "count"), "10"),
	      "resets of pid 88: %s", rs ? rs->title : "none");
	CHECK(!find_kind(&fs, "listen_overflow"), "no overflow: the counter did not grow");
	CHECK(fs.warnings == 2 && fs.worst == SEV_WARNING, "2 warnings, got %zu", fs.warnings);
	findings_free(&fs);
	model_free(&m);

	/* the bad records report says which field */
	model_init(&m);
	sink_attach_model(&s, &m);
	const char *negative = "{\"type\":\"lost\",\"ts_ns\":-1,\"reason\":\"x\",\"count\":1}";

	CHECK(replay_line(negative, strlen(negative), &s, line, sizeof(line)) == -1 &&
		      strstr(line, "ts_ns"),
	      "negative ts_ns names the field: %s", line);
	CHECK(replay_line("[1]", 3, &s, line, sizeof(line)) == -1, "not an object");
	model_free(&m);
}

static void test_table(void)
{
	struct model m;
	struct ev_state e = { .hdr = { .type = EV_STATE, .size = sizeof(e) } };
	uint64_t now[TS_STATE_MAX];

	/* many sockets in and out: backward-shift deletion keeps lookups right */
	model_init(&m);
	for (int round = 0; round < 3; round++) {
		for (uint64_t k = 1; k <= 5000; k++) {
			e.cookie = k;
			e.old_state = TS_SYN_SENT;
			e.new_state = TS_ESTABLISHED;
			model_event(&m, &e.hdr);
		}
		for (uint64_t k = 1; k <= 5000; k += 2) {
			e.cookie = k;
			e.old_state = TS_ESTABLISHED;
			e.new_state = TS_CLOSE;
			model_event(&m, &e.hdr);
		}
		model_states_now(&m, now);
		CHECK(now[TS_ESTABLISHED] == 2500 && m.n == 2500, "round %d: %llu kept", round,
		      (unsigned long long)now[TS_ESTABLISHED]);
		for (uint64_t k = 2; k <= 5000; k += 2) {
			e.cookie = k;
			model_event(&m, &e.hdr);
		}
		CHECK_EQ(m.n, 0, "round %d: all gone (%zu left)", round, m.n);
	}
	model_free(&m);
}

/* TIME_WAIT bucket overflow and a conntrack table near full, from records */
static void test_table_limits(void)
{
	struct model m;
	struct sink s;
	struct findings fs;
	char line[1024];

	model_init(&m);
	sink_attach_model(&s, &m);
	for (int end = 0; end < 2; end++) {
		snprintf(line, sizeof(line),
			 "{\"type\":\"netns\",\"ts_ns\":%d000000000,\"phase\":\"%s\",\"netns\":%u,"
			 "\"sysctl\":{\"net.ipv4.tcp_max_tw_buckets\":\"4\","
			 "\"net.netfilter.nf_conntrack_count\":\"%d\","
			 "\"net.netfilter.nf_conntrack_max\":\"1000\"},"
			 "\"counters\":{\"TcpExt.TCPTimeWaitOverflow\":%d}}",
			 end ? 9 : 1, end ? "end" : "start", NSID, end ? 990 : 100, end ? 7 : 2);
		feed(&s, line);
		if (!end) {
			snprintf(line, sizeof(line),
				 "{\"type\":\"timewait\",\"ts_ns\":2000000000,\"pid\":0,\"tid\":0,"
				 "\"comm\":\"-\",\"family\":\"ipv6\",\"saddr\":\"::1\",\"sport\":1,"
				 "\"daddr\":\"::1\",\"dport\":2,\"event\":\"overflow\","
				 "\"substate\":\"TIME_WAIT\",\"tw\":\"0x0\",\"cookie\":5,\"netns\":%u}",
				 NSID);
			feed(&s, line);
		}
	}
	CHECK(findings_compute(&m, &fs) == 0, "findings computed");
	const struct finding *tw = find_kind(&fs, "tw_bucket_overflow");
	const struct finding *ct = find_kind(&fs, "conntrack_full");

	CHECK(tw && tw->severity == SEV_CRITICAL && !strcmp(kv_of(tw, "overflows"), "5") &&
		      !strcmp(kv_of(tw, "tcp_max_tw_buckets"), "4"),
	      "tw bucket overflow: the counter delta (5) beats the 1 event: %s",
	      tw ? tw->title : "none");
	CHECK(ct && ct->severity == SEV_CRITICAL && !strcmp(kv_of(ct, "count"), "990"),
	      "conntrack 99%% full is critical: %s", ct ? ct->title : "none");
	findings_free(&fs);
	model_free(&m);
}

/* A client whose connections end in TIME_WAIT on its side: 60 of 100
 * ports held. Without tcp_tw_reuse that is pressure (60 s each); with reuse
 * in force toward the destination (2 = loopback only) connect() takes them
 * over after a second, and nothing is wrong. */
static const struct finding *tw_client(struct model *m, struct findings *fs, const char *reuse,
				       const char *addr)
{
	struct sink s;
	char line[1024];

	model_init(m);
	sink_attach_model(&s, m);
	for (int end = 0; end < 2; end++) {
		snprintf(line, sizeof(line),
			 "{\"type\":\"netns\",\"ts_ns\":%d000000000,\"phase\":\"%s\",\"netns\":%u,"
			 "\"sysctl\":{\"net.ipv4.ip_local_port_range\":\"40000\\t40099\","
			 "\"net.ipv4.tcp_tw_reuse\":\"%s\",\"net.ipv4.tcp_timestamps\":\"1\"},"
			 "\"counters\":{}}",
			 end ? 11 : 1, end ? "end" : "start", NSID, reuse);
		feed(&s, line);
		for (int i = 0; i < 60 && !end; i++) {
			snprintf(line, sizeof(line),
				 "{\"type\":\"timewait\",\"ts_ns\":%llu,\"pid\":9,\"tid\":9,"
				 "\"comm\":\"cli\",\"family\":\"ipv4\",\"saddr\":\"%s\",\"sport\":%d,"
				 "\"daddr\":\"%s\",\"dport\":80,\"event\":\"enter\","
				 "\"substate\":\"TIME_WAIT\",\"timeout_ms\":60000,\"tw\":\"0x%x\","
				 "\"cookie\":%d,\"netns\":%u}",
				 SEC + i * SEC / 6, addr, 40000 + i, addr, 0x1000 + i, 500 + i, NSID);
			feed(&s, line);
		}
	}
	CHECK(findings_compute(m, fs) == 0, "findings computed");
	return find_kind(fs, "port_exhaustion");
}

static void test_tw_reuse_projection(void)
{
	struct model m;
	struct findings fs;
	const struct finding *f;

	f = tw_client(&m, &fs, "0", "127.0.0.1");
	CHECK(f && f->severity == SEV_WARNING && !strcmp(kv_of(f, "held"), "60") &&
		      !strcmp(kv_of(f, "tw_reuse"), "false"),
	      "no reuse: 60%% held is pressure: %s", f ? f->title : "none");
	findings_free(&fs);
	model_free(&m);
	f = tw_client(&m, &fs, "2", "127.0.0.1");
	CHECK(!f, "reuse 2 toward loopback: TIME_WAIT is no pressure: %s", f ? f->title : "none");
	findings_free(&fs);
	model_free(&m);
	f = tw_client(&m, &fs, "2", "10.0.0.1");
	CHECK(f && !strcmp(kv_of(f, "tw_reuse"), "false"),
	      "reuse 2 is loopback only: 10.0.0.1 keeps its pressure: %s", f ? f->title : "none");
	findings_free(&fs);
	model_free(&m);
	f = tw_client(&m, &fs, "1", "10.0.0.1");
	CHECK(!f, "reuse 1 applies everywhere: %s", f ? f->title : "none");
	findings_free(&fs);
	model_free(&m);
}


/* The self-check's repair: transitions hidden from the events (a client
 * tail the kernel showed no BPF program) leave sockets in FIN_WAIT1 that the
 * census no longer has, and a timewait socket the model never saw. */
static void test_resync(void)
{
	struct model m;
	struct ev_state e = { .hdr = { .type = EV_STATE, .size = sizeof(e) } };
	struct census_sock cs[3] = {};
	struct census c = { .s = cs, .n = 3 };
	uint64_t now[TS_STATE_MAX];
	size_t changed;

	model_init(&m);
	for (uint64_t k = 1; k <= 3000; k++) { /* 3000 in FIN_WAIT1, netns 7 */
		e.cookie = k;
		e.netns = 7;
		e.old_state = TS_ESTABLISHED;
		e.new_state = TS_FIN_WAIT1;
		model_event(&m, &e.hdr);
	}
	e.cookie = 9000; /* another namespace, left alone */
	e.netns = 8;
	model_event(&m, &e.hdr);
	/* the census of netns 7: socket 5 still in FIN_WAIT1, 6 now in
	 * FIN_WAIT2, 1's timewait socket; the rest are gone */
	cs[0] = (struct census_sock){ .netns = 7, .state = TS_FIN_WAIT1, .cookie = 5 };
	cs[1] = (struct census_sock){ .netns = 7, .state = TS_FIN_WAIT2, .cookie = 6 };
	cs[2] = (struct census_sock){ .netns = 7, .state = TS_TIME_WAIT, .cookie = 1, .timewait = true };
	changed = model_resync(&m, 7, &c, 1000);
	model_ns_states(&m, 7, now);
	CHECK(now[TS_FIN_WAIT1] == 1 && now[TS_FIN_WAIT2] == 1 && now[TS_TIME_WAIT] == 1,
	      "netns 7: FIN_WAIT1 %llu (want 1), FIN_WAIT2 %llu (1), TIME_WAIT %llu (1)",
	      (unsigned long long)now[TS_FIN_WAIT1], (unsigned long long)now[TS_FIN_WAIT2],
	      (unsigned long long)now[TS_TIME_WAIT]);
	CHECK_EQ(changed, 2998 + 1 + 1, "changed %zu, want 3000 (2998 gone, 1 moved, 1 added)", changed);
	model_ns_states(&m, 8, now);
	CHECK(now[TS_FIN_WAIT1] == 1, "netns 8 untouched: FIN_WAIT1 %llu, want 1",
	      (unsigned long long)now[TS_FIN_WAIT1]);
	CHECK_EQ(m.n, 4, "%zu sockets kept, want 4", m.n);
	model_free(&m);
}

static const struct msock *sock_of(const struct model *m, uint64_t key)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->tab[i].used && m->tab[i].key == key)
			return &m->tab[i];
	return NULL;
}

/* The resync goes through the sinks: the live model resyncs, the JSON trace
 * records it, and the model report builds from that trace ends the same
 * (a socket whose ESTABLISHED->CLOSE_WAIT the kernel hid: born in the run,
 * its age from tcp_info; a census socket gone unseen). */
static void test_resync_in_trace(void)
{
	struct model live, replayed;
	struct sink ms, js = {}, rs;
	char *buf = NULL, err[128];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct ev_state e = { .hdr = { .type = EV_STATE, .size = sizeof(e), .ts_ns = 2 * SEC } };
	struct census_sock old = { .netns = 7, .state = TS_ESTABLISHED, .cookie = 2 };
	struct census_sock cw = { .netns = 7, .state = TS_CLOSE_WAIT, .cookie = 1,
				  .age_known = true, .age_ms = 1500 };
	uint64_t a[TS_STATE_MAX], b[TS_STATE_MAX];

	model_init(&live);
	model_init(&replayed);
	sink_attach_model(&ms, &live);
	CHECK(f && sink_attach(&js, FMT_JSON, f) == 0, "a JSON sink on memory");
	ms.next = &js;
	CHECK(sink_census(&ms, 1 * SEC, &old) == 0, "start census");
	e.cookie = 1;
	e.netns = 7;
	e.old_state = TS_SYN_RECV;
	e.new_state = TS_ESTABLISHED;
	CHECK(sink_event(&ms, &e.hdr) == 0, "event");
	CHECK(sink_resync(&ms, 5 * SEC, 7, 1) == 0 && sink_census(&ms, 5 * SEC, &cw) == 0,
	      "resync of netns 7 to one CLOSE_WAIT socket");
	CHECK(sink_close(&js, err, sizeof(err)) == 0, "trace written: %s", err);

	const struct msock *s1 = sock_of(&live, 1);

	model_ns_states(&live, 7, a);
	CHECK(a[TS_CLOSE_WAIT] == 1 && a[TS_ESTABLISHED] == 0 && live.n == 1 && !live.resync.on,
	      "live: one CLOSE_WAIT, the census socket gone (%zu sockets)", live.n);
	CHECK(s1 && !s1->census && !s1->since_known && s1->age_tcp_info &&
		      s1->since_ns == 5 * SEC - 1500000000ULL,
	      "live: born in the run, in CLOSE_WAIT since the peer's FIN (tcp_info)");

	CHECK(strstr(buf, "\"type\":\"resync\"") != NULL, "the trace has the resync record");
	sink_attach_model(&rs, &replayed);
	for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		feed(&rs, line);
	}
	model_ns_states(&replayed, 7, b);
	const struct msock *r1 = sock_of(&replayed, 1);

	CHECK(!memcmp(a, b, sizeof(a)) && replayed.n == live.n && r1 && s1 &&
		      r1->since_ns == s1->since_ns && r1->census == s1->census &&
		      r1->age_tcp_info == s1->age_tcp_info,
	      "the trace's model is the live one after its resync");
	free(buf);
	model_free(&live);
	model_free(&replayed);
}

/* A kernel whose tracing programs cannot make cookies (before 5.12): a
 * socket's events come under its id until someone (ss, a census) made its
 * cookie; from then on they carry it. One socket, one entry. */
static void test_cookie_appears(void)
{
	struct model m;
	struct ev_state e = { .hdr = { .type = EV_STATE, .size = sizeof(e), .ts_ns = 10 } };
	uint64_t now[TS_STATE_MAX];

	model_init(&m);
	e.netns = 7;
	e.sk = 0xffff888100002000ULL;
	e.old_state = TS_CLOSE;
	e.new_state = TS_SYN_SENT;
	model_event(&m, &e.hdr);
	e.old_state = TS_SYN_SENT;
	e.new_state = TS_ESTABLISHED;
	model_event(&m, &e.hdr);
	e.cookie = 777; /* ss ran meanwhile */
	e.old_state = TS_ESTABLISHED;
	e.new_state = TS_FIN_WAIT1;
	model_event(&m, &e.hdr);
	model_ns_states(&m, 7, now);
	CHECK(m.n == 1 && now[TS_FIN_WAIT1] == 1 && now[TS_ESTABLISHED] == 0,
	      "one socket in FIN_WAIT1 (%zu entries, ESTABLISHED %llu)", m.n,
	      (unsigned long long)now[TS_ESTABLISHED]);
	e.old_state = TS_FIN_WAIT1;
	e.new_state = TS_CLOSE;
	model_event(&m, &e.hdr);
	CHECK_EQ(m.n, 0, "gone at its ->CLOSE (%zu entries left)", m.n);
	model_free(&m);
}

/* A child born while the census was taken: its LISTEN->SYN_RECV (no cookie
 * yet: kept under its socket id) and the census's entry (by cookie) are one
 * socket; its next transition leaves one entry, not a stale SYN_RECV. */
static void test_child_during_census(void)
{
	struct model m;
	struct ev_state e = { .hdr = { .type = EV_STATE, .size = sizeof(e), .ts_ns = 10 } };
	struct census_sock cs = { .netns = 7, .state = TS_SYN_RECV, .cookie = 4242 };
	uint64_t now[TS_STATE_MAX];

	model_init(&m);
	e.netns = 7;
	e.sk = 0xffff888100001000ULL;
	e.old_state = TS_LISTEN;
	e.new_state = TS_SYN_RECV;
	model_event(&m, &e.hdr);
	model_census(&m, 11, &cs);
	e.hdr.ts_ns = 12;
	e.cookie = 4242;
	e.old_state = TS_SYN_RECV;
	e.new_state = TS_ESTABLISHED;
	model_event(&m, &e.hdr);
	model_ns_states(&m, 7, now);
	CHECK(now[TS_SYN_RECV] == 0 && now[TS_ESTABLISHED] == 1,
	      "SYN_RECV %llu (want 0), ESTABLISHED %llu (want 1)",
	      (unsigned long long)now[TS_SYN_RECV], (unsigned long long)now[TS_ESTABLISHED]);
	CHECK_EQ(m.n, 1, "%zu sockets, want 1", m.n);
	model_free(&m);
}

int main(void)
{
	test_resync();
	test_resync_in_trace();
	test_child_during_census();
	test_cookie_appears();
	test_tw_reuse_projection();
	test_table_limits();
	test_json();
	test_usable_ports();
	test_model_and_findings();
	test_table();
	return check_summary("test_diagnosis");
}
