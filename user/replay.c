// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zlib.h>
#include "fmt.h"
#include "json.h"
#include "ladder.h"
#include "replay.h"
#include "states.h"

#define MAX_TOKENS 512
#define LINE_MAX_BYTES (1 << 16)

struct rec {
	const char *s;
	const struct jtok *t;
	char *err;
	size_t errlen;
	int bad; /* set by an accessor that failed: the record is rejected */
};

static void missing(struct rec *r, const char *key, const char *what)
{
	if (!r->bad)
		snprintf(r->err, r->errlen, "field \"%s\" %s", key, what);
	r->bad = 1;
}

static uint64_t u64(struct rec *r, const char *key)
{
	uint64_t v = 0;

	if (!json_u64(r->s, r->t, json_get(r->s, r->t, 0, key), &v))
		missing(r, key, "missing or not an unsigned integer");
	return v;
}

/* An optional number: null (or absent) gives false */
static bool opt_u64(struct rec *r, const char *key, uint64_t *v)
{
	int i = json_get(r->s, r->t, 0, key);

	if (i < 0 || r->t[i].type == J_NULL)
		return false;
	if (!json_u64(r->s, r->t, i, v)) {
		missing(r, key, "not an unsigned integer");
		return false;
	}
	return true;
}

static int64_t i64(struct rec *r, const char *key)
{
	int64_t v = 0;

	if (!json_i64(r->s, r->t, json_get(r->s, r->t, 0, key), &v))
		missing(r, key, "missing or not an integer");
	return v;
}

static void str(struct rec *r, const char *key, char *out, size_t len)
{
	if (!json_str(r->s, r->t, json_get(r->s, r->t, 0, key), out, len))
		missing(r, key, "missing or not a string");
}

static bool flag(struct rec *r, const char *key)
{
	bool v = false;

	if (!json_bool(r->s, r->t, json_get(r->s, r->t, 0, key), &v))
		missing(r, key, "missing or not true/false");
	return v;
}

/* An optional true/false: absent or null gives false */
static bool opt_flag(struct rec *r, const char *key)
{
	int i = json_get(r->s, r->t, 0, key);
	bool v = false;

	if (i < 0 || r->t[i].type == J_NULL)
		return false;
	if (!json_bool(r->s, r->t, i, &v))
		missing(r, key, "not true/false");
	return v;
}

/* "1.500" milliseconds -> nanoseconds; null -> false */
static bool ms(struct rec *r, const char *key, __u64 *ns)
{
	int i = json_get(r->s, r->t, 0, key);
	char buf[40], *end;

	if (i < 0 || r->t[i].type == J_NULL)
		return false;
	size_t n = (size_t)(r->t[i].end - r->t[i].start);

	if (r->t[i].type != J_NUM || n >= sizeof(buf)) {
		missing(r, key, "not a number");
		return false;
	}
	memcpy(buf, r->s + r->t[i].start, n);
	buf[n] = 0;
	double v = strtod(buf, &end);

	/* milliseconds that fit in 64-bit nanoseconds (NaN fails v >= 0) */
	if (*end || !(v >= 0) || v > 1.8e13) {
		missing(r, key, "not a number of milliseconds");
		return false;
	}
	*ns = (uint64_t)(v * 1e6 + 0.5);
	return true;
}

static uint64_t hex(struct rec *r, const char *key)
{
	char buf[24], *end;
	uint64_t v;

	str(r, key, buf, sizeof(buf));
	if (r->bad)
		return 0;
	v = strtoull(buf, &end, 16);
	if (*end || strncmp(buf, "0x", 2))
		missing(r, key, "not a 0x hex number");
	return v;
}

/* The value in [lo, hi] whose name (as the writers print it) is the
 * field's; -1 with the record rejected when none is */
static int named(struct rec *r, const char *key, const char *(*name)(int), int lo, int hi)
{
	char buf[32];

	str(r, key, buf, sizeof(buf));
	if (r->bad)
		return -1;
	for (int v = lo; v <= hi; v++)
		if (!strcmp(buf, name(v)))
			return v;
	missing(r, key, "has an unknown value");
	return -1;
}

static const char *family_name(int f)
{
	return fmt_family((uint16_t)f);
}

static const char *phase_name(int end)
{
	return end ? "end" : "start";
}

static uint8_t state(struct rec *r, const char *key)
{
	char buf[32];

	str(r, key, buf, sizeof(buf));
	for (int st = 1; st < TS_STATE_MAX && !r->bad; st++)
		if (!strcmp(buf, state_kernel_name(st)))
			return (uint8_t)st;
	missing(r, key, "is not a TCP state");
	return 0;
}

static void owner(struct rec *r, struct ev_owner *o, bool *known)
{
	char comm[64];

	uint64_t cg = 0;

	o->pid = (uint32_t)u64(r, "pid");
	o->tid = (uint32_t)u64(r, "tid");
	o->cgroup = opt_u64(r, "cgroup_id", &cg) ? cg : 0; /* absent before 0.2 */
	str(r, "comm", comm, sizeof(comm));
	memset(o->comm, 0, sizeof(o->comm));
	memcpy(o->comm, comm, strnlen(comm, TCPSCOPE_COMM_LEN));
	*known = o->pid != 0;
}

static void addr(struct rec *r, const char *key, uint16_t family, uint8_t out[16])
{
	char buf[ADDR_STRLEN];

	str(r, key, buf, sizeof(buf));
	if (r->bad)
		return;
	memset(out, 0, 16);
	if (inet_pton(family, buf, out) != 1)
		missing(r, key, "is not an address of its family");
}

static void tuple(struct rec *r, struct ev_tuple *t)
{
	int f = named(r, "family", family_name, AF_INET, AF_INET6);

	memset(t, 0, sizeof(*t));
	t->family = f == AF_INET6 ? AF_INET6 : AF_INET;
	addr(r, "saddr", t->family, t->saddr);
	addr(r, "daddr", t->family, t->daddr);
	t->sport = (uint16_t)u64(r, "sport");
	t->dport = (uint16_t)u64(r, "dport");
}

static void hdr(struct rec *r, struct ev_hdr *h, int type, size_t size)
{
	h->type = (uint16_t)type;
	h->size = (uint16_t)size;
	h->ts_ns = u64(r, "ts_ns");
}

static int rec_state(struct rec *r, struct sink *s)
{
	struct ev_state e = {};
	bool known;

	hdr(r, &e.hdr, EV_STATE, sizeof(e));
	owner(r, &e.owner, &known);
	tuple(r, &e.t);
	e.old_state = state(r, "old");
	e.new_state = state(r, "new");
	if (ms(r, "in_old_ms", &e.in_old_ns))
		e.flags |= EVF_IN_OLD_KNOWN;
	e.sk = hex(r, "sk");
	e.cookie = u64(r, "cookie");
	e.netns = (uint32_t)u64(r, "netns");
	e.flags |= known ? EVF_OWNER_KNOWN : 0;
	return r->bad ? -1 : sink_event(s, &e.hdr);
}

static int rec_timewait(struct rec *r, struct sink *s)
{
	struct ev_tw e = {};
	bool known;

	hdr(r, &e.hdr, EV_TW, sizeof(e));
	owner(r, &e.owner, &known);
	tuple(r, &e.t);
	e.kind = (uint8_t)named(r, "event", fmt_tw_kind, TW_ENTER, TW_OVERFLOW);
	e.substate = state(r, "substate");
	if (e.kind == TW_END) {
		e.cause = (uint8_t)named(r, "cause", fmt_tw_cause, TW_CAUSE_EXPIRED, TW_CAUSE_KILLED);
		ms(r, "lived_ms", &e.lived_ns);
	} else if (e.kind != TW_OVERFLOW) {
		uint64_t to = 0;

		if (opt_u64(r, "timeout_ms", &to))
			e.timeout_ms = to;
	}
	e.tw = hex(r, "tw");
	e.cookie = u64(r, "cookie");
	e.netns = (uint32_t)u64(r, "netns");
	e.flags = known ? EVF_OWNER_KNOWN : 0;
	if (e.kind == TW_OVERFLOW && opt_flag(r, "inferred")) /* absent before it existed */
		e.flags |= EVF_INFERRED;
	return r->bad ? -1 : sink_event(s, &e.hdr);
}

static int rec_call(struct rec *r, struct sink *s, int op)
{
	struct ev_call e = {};
	bool known;

	hdr(r, &e.hdr, EV_CALL, sizeof(e));
	owner(r, &e.owner, &known);
	tuple(r, &e.t);
	e.op = (uint8_t)op;
	e.ret = (int32_t)i64(r, "ret");
	if (ms(r, "latency_ms", &e.latency_ns))
		e.flags |= EVF_IN_OLD_KNOWN;
	e.sk = hex(r, "sk");
	e.netns = (uint32_t)u64(r, "netns");
	e.flags |= known ? EVF_OWNER_KNOWN : 0;
	return r->bad ? -1 : sink_event(s, &e.hdr);
}

static int via(struct rec *r)
{
	return named(r, "via", via_name, VIA_NONE, VIA_FENTRY);
}

static int rec_port(struct rec *r, struct sink *s)
{
	struct ev_port e = {};
	uint64_t scan;
	bool known;
	int range;

	hdr(r, &e.hdr, EV_PORT, sizeof(e));
	owner(r, &e.owner, &known);
	tuple(r, &e.t);
	e.op = (uint8_t)named(r, "op", fmt_port_op, PORT_CONNECT, PORT_AUTOBIND);
	e.ret = (int32_t)i64(r, "ret");
	if (ms(r, "latency_ms", &e.latency_ns))
		e.flags |= EVF_IN_OLD_KNOWN;
	if (!flag(r, "latency_exact"))
		e.flags |= EVF_LAT_UPPER;
	if (opt_u64(r, "scan", &scan)) {
		e.scan = (uint32_t)scan;
		e.flags |= EVF_SCAN_KNOWN;
	}
	if (flag(r, "tw_reused"))
		e.flags |= EVF_TW_REUSED;
	range = json_get(r->s, r->t, 0, "range");
	if (range < 0 || r->t[range].type != J_ARR || r->t[range].size != 2) {
		missing(r, "range", "missing or not [low, high]");
	} else {
		uint64_t lo = 0, hi = 0;

		if (!json_u64(r->s, r->t, range + 1, &lo) || !json_u64(r->s, r->t, range + 2, &hi))
			missing(r, "range", "not two port numbers");
		e.range_lo = (uint16_t)lo;
		e.range_hi = (uint16_t)hi;
	}
	e.via = (uint8_t)via(r);
	e.sk = hex(r, "sk");
	e.netns = (uint32_t)u64(r, "netns");
	e.flags |= known ? EVF_OWNER_KNOWN : 0;
	return r->bad ? -1 : sink_event(s, &e.hdr);
}

static int rec_overflow(struct rec *r, struct sink *s)
{
	struct ev_listen_ovf e = {};
	bool known;

	hdr(r, &e.hdr, EV_LISTEN_OVF, sizeof(e));
	owner(r, &e.owner, &known);
	tuple(r, &e.t);
	e.stage = (uint8_t)named(r, "stage", fmt_ovf_stage, OVF_SYN, OVF_ACK);
	e.accept_queue = (uint32_t)u64(r, "accept_queue");
	e.backlog = (uint32_t)u64(r, "backlog");
	e.via = (uint8_t)via(r);
	e.sk = hex(r, "sk");
	e.netns = (uint32_t)u64(r, "netns");
	e.flags = known ? EVF_OWNER_KNOWN : 0;
	return r->bad ? -1 : sink_event(s, &e.hdr);
}

static int rec_socket(struct rec *r, struct sink *s)
{
	struct census_sock cs = {};
	uint64_t ts = u64(r, "ts_ns"), exp = 0;
	bool known;

	owner(r, &cs.owner, &known);
	if (!known)
		memset(&cs.owner, 0, sizeof(cs.owner));
	tuple(r, &cs.t);
	cs.state = state(r, "state");
	cs.timewait = flag(r, "timewait");
	cs.timer = (uint8_t)named(r, "timer", fmt_census_timer, CT_NONE, CT_PROBE);
	if (opt_u64(r, "expires_ms", &exp))
		cs.expires_ms = (uint32_t)exp;
	cs.rqueue = (uint32_t)u64(r, "recv_q");
	cs.wqueue = (uint32_t)u64(r, "send_q");
	cs.uid = (uint32_t)u64(r, "uid");
	cs.inode = (uint32_t)u64(r, "inode");
	cs.cookie = u64(r, "cookie");
	cs.netns = (uint32_t)u64(r, "netns");
	if (opt_u64(r, "age_ms", &exp)) { /* traces before it have none */
		cs.age_ms = (uint32_t)exp;
		cs.age_known = true;
	}
	if (r->bad)
		return -1;
	return sink_census(s, ts, &cs);
}

static int rec_resync(struct rec *r, struct sink *s)
{
	uint64_t ts = u64(r, "ts_ns"), netns = u64(r, "netns"), count = u64(r, "sockets");

	return r->bad ? -1 : sink_resync(s, ts, (uint32_t)netns, count);
}

static int rec_netns(struct rec *r, struct sink *s)
{
	struct nsinfo ns = {};
	uint64_t ts = u64(r, "ts_ns");
	int phase = named(r, "phase", phase_name, 0, 1);
	int sys = json_get(r->s, r->t, 0, "sysctl"), cnt = json_get(r->s, r->t, 0, "counters");

	ns.netns = (uint32_t)u64(r, "netns");
	if (sys < 0 || r->t[sys].type != J_OBJ || cnt < 0 || r->t[cnt].type != J_OBJ)
		missing(r, sys < 0 || r->t[sys].type != J_OBJ ? "sysctl" : "counters",
			"missing or not an object");
	if (r->bad)
		return -1;
	/* members: key, value, key, value ...; unknown names are skipped */
	for (int i = sys + 1, m = 0; m < r->t[sys].size; m++, i = r->t[i + 1].next) {
		char key[96];
		int k;

		if (json_str(r->s, r->t, i, key, sizeof(key)) && (k = nsinfo_sysctl_index(key)) >= 0 &&
		    json_str(r->s, r->t, i + 1, ns.sysctl[k], sizeof(ns.sysctl[k])))
			ns.have_sysctl |= 1u << k;
	}
	for (int i = cnt + 1, m = 0; m < r->t[cnt].size; m++, i = r->t[i + 1].next) {
		char key[96];
		int k;

		if (json_str(r->s, r->t, i, key, sizeof(key)) &&
		    (k = nsinfo_counter_index(key)) >= 0) {
			if (!json_u64(r->s, r->t, i + 1, &ns.counter[k])) {
				missing(r, key, "not an unsigned integer");
				return -1;
			}
			ns.have_counter |= 1u << k;
		}
	}
	return sink_nsinfo(s, ts, phase ? "end" : "start", &ns);
}

static int rec_run(struct rec *r, struct sink *s)
{
	char host[128] = "", kernel[128] = "", blind[1024] = "";
	struct run_info ri = { .ts_ns = u64(r, "ts_ns") };

	ri.end = named(r, "phase", phase_name, 0, 1) == 1;
	if (!ri.end) {
		int b = json_get(r->s, r->t, 0, "blind_spots");
		size_t n = 0;

		str(r, "host", host, sizeof(host));
		str(r, "kernel", kernel, sizeof(kernel));
		if (b < 0 || r->t[b].type != J_ARR)
			missing(r, "blind_spots", "missing or not an array");
		for (int i = b + 1, m = 0; !r->bad && m < r->t[b].size && n < sizeof(blind);
		     m++, i = r->t[i].next) {
			char one[400];

			if (!json_str(r->s, r->t, i, one, sizeof(one)))
				missing(r, "blind_spots", "holds a value that is not a string");
			else
				n += snprintf(blind + n, sizeof(blind) - n, "%s%s", n ? "; " : "", one);
		}
		ri.host = host;
		ri.kernel = kernel;
		ri.blind = blind;
	} else {
		int d = json_get(r->s, r->t, 0, "drift");

		if (d >= 0 && r->t[d].type == J_OBJ) {
			ri.drift_measured = true;
			for (int i = 1; i < TS_STATE_MAX; i++) {
				int v = json_get(r->s, r->t, d, state_kernel_name(i));
				int64_t x = 0;

				if (v >= 0 && json_i64(r->s, r->t, v, &x))
					ri.drift[i] = x;
			}
		}
	}
	if (r->bad)
		return -1;
	return sink_run(s, &ri);
}

static int rec_lost(struct rec *r, struct sink *s)
{
	char reason[32];
	uint64_t ts = u64(r, "ts_ns"), count = u64(r, "count");

	str(r, "reason", reason, sizeof(reason));
	return r->bad ? -1 : sink_lost(s, ts, reason, count);
}

int replay_line(const char *line, size_t len, struct sink *s, char *err, size_t errlen)
{
	static struct jtok tok[MAX_TOKENS];
	struct rec r = { .s = line, .t = tok, .err = err, .errlen = errlen };
	char type[32];

	if (json_parse(line, len, tok, MAX_TOKENS, err, errlen) < 0)
		return -1;
	if (tok[0].type != J_OBJ) {
		snprintf(err, errlen, "a record must be a JSON object");
		return -1;
	}
	str(&r, "type", type, sizeof(type));
	if (r.bad)
		return -1;
	if (!strcmp(type, "state"))
		return rec_state(&r, s);
	if (!strcmp(type, "timewait"))
		return rec_timewait(&r, s);
	if (!strcmp(type, "connect"))
		return rec_call(&r, s, OP_CONNECT);
	if (!strcmp(type, "bind"))
		return rec_call(&r, s, OP_BIND);
	if (!strcmp(type, "port"))
		return rec_port(&r, s);
	if (!strcmp(type, "listen_overflow"))
		return rec_overflow(&r, s);
	if (!strcmp(type, "socket"))
		return rec_socket(&r, s);
	if (!strcmp(type, "resync"))
		return rec_resync(&r, s);
	if (!strcmp(type, "netns"))
		return rec_netns(&r, s);
	if (!strcmp(type, "run"))
		return rec_run(&r, s);
	if (!strcmp(type, "lost"))
		return rec_lost(&r, s);
	return 1;
}

int replay_file(const char *path, struct sink *s, char *err, size_t errlen)
{
	static char line[LINE_MAX_BYTES];
	char why[256];
	unsigned long long n = 0, unknown = 0, cut = 0;
	int zerr, ret = 0;
	gzFile z;

	errno = 0;
	z = gzopen(path, "rb");
	if (!z) {
		snprintf(err, errlen, "cannot read %s: %s", path, errno ? strerror(errno) : "out of memory");
		return -1;
	}
	gzbuffer(z, 1 << 17);
	while (gzgets(z, line, sizeof(line))) {
		size_t len = strlen(line);
		bool whole = len && line[len - 1] == '\n';

		n++;
		if (!whole && len == sizeof(line) - 1) {
			snprintf(err, errlen, "%s:%llu: line longer than %d bytes: not a tcpscope trace",
				 path, n, LINE_MAX_BYTES - 1);
			ret = -1;
			break;
		}
		if (whole)
			line[--len] = 0;
		if (!len)
			continue;
		int r = replay_line(line, len, s, why, sizeof(why));

		if (r == 1) {
			unknown++;
			continue;
		}
		if (r == 0)
			continue;
		if (!whole && n > 1) {
			/* the file ends mid-record: what came before is whole */
			cut = n;
			break;
		}
		if (n == 1)
			snprintf(err, errlen, "%s:1: not a tcpscope JSON trace (%s); record one with "
				 "tcpscope trace -F json -o FILE", path, why);
		else
			snprintf(err, errlen, "%s:%llu: corrupt record: %s", path, n, why);
		ret = -1;
		break;
	}
	if (!ret) {
		const char *msg = gzerror(z, &zerr);

		if (zerr == Z_BUF_ERROR && n > 1 && !cut)
			cut = n + 1; /* the compressed stream ends early, between records */
		if (cut) {
			/* A trace cut short (the tracer killed, the host rebooted):
			 * every whole record before the cut is used. */
			fprintf(stderr, "tcpscope: %s:%llu: the trace is cut short here (%s); used "
					"the %llu whole records before it\n",
				path, cut, zerr == Z_BUF_ERROR ? "the compressed stream ends early" :
				"the last record is incomplete", cut - 1);
		} else if (zerr != Z_OK && zerr != Z_STREAM_END) {
			snprintf(err, errlen, "%s: after line %llu: %s (%s)", path, n,
				 zerr == Z_BUF_ERROR ? "the compressed file is cut short" :
				 zerr == Z_DATA_ERROR ? "corrupt gzip data" : "read error",
				 zerr == Z_ERRNO ? strerror(errno) : msg);
			ret = -1;
		} else if (!n) {
			snprintf(err, errlen, "%s: empty: no records; record a trace with tcpscope "
				 "trace -F json -o FILE", path);
			ret = -1;
		}
	}
	gzclose_r(z);
	if (!ret && unknown)
		fprintf(stderr, "tcpscope: %s: %llu records of types this version does not know "
				"were skipped\n", path, unknown);
	return ret;
}
