// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcpscope: watch the TCP connection lifecycle from inside the kernel.
 * main.c only parses options and wires the pipeline:
 *   loader (BPF, ring buffer) -> decode -> tracker -> sink
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "census.h"
#include "decode.h"
#include "diagnosis.h"
#include "filter.h"
#include "gzfile.h"
#include "fmt.h"
#include "ladder.h"
#include "loader.h"
#include "model.h"
#include "parse.h"
#include "replay.h"
#include "sink.h"
#include "top.h"
#include "tracker.h"

#define EXIT_USAGE 2
#define DIAGNOSE_DEFAULT_NS (10ULL * 1000000000ULL)
#define TOP_INTERVAL_NS (1000000000ULL)

static void print_version(FILE *f, struct argp_state *state)
{
	fprintf(f, "tcpscope 0.1 (libbpf %s; hooks: tracepoints, fentry or kprobe where allowed)\n",
		libbpf_version_string());
}

void (*argp_program_version_hook)(FILE *, struct argp_state *) = print_version;
const char *argp_program_bug_address = "<https://github.com/tcpscope/tcpscope/issues>";

static const char doc[] =
	"Watch TCP connections change state, with the process that owns them.\v"
	"COMMANDS:\n"
	"  trace    stream every state transition, TIME_WAIT entry/end,\n"
	"           ephemeral port allocation and connect()/bind() result\n"
	"  diagnose watch for -d (default 10s), then say what is wrong: CLOSE_WAIT\n"
	"           leaks, port exhaustion, FIN_WAIT2, backlog overflow, resets...\n"
	"           (exit 0 healthy, 1 warnings, 2 usage or setup error)\n"
	"  report   the same diagnosis from a trace file (-F json -o FILE[.gz]);\n"
	"           needs neither root nor BPF\n"
	"  top      live dashboard in the terminal: states and their trend, CLOSE_WAIT\n"
	"           by process, ports by destination, listeners' queues, notable\n"
	"           events (-i refresh interval; h inside for the keys)\n"
	"  hooks    which kernel mechanism observes each fact on this kernel,\n"
	"           what failed and what is therefore unknown (-F json too)\n"
	"\n"
	"EXAMPLES:\n"
	"  tcpscope trace                      # everything, text\n"
	"  tcpscope trace -d 30s -F json -o t.jsonl\n"
	"  tcpscope trace --state close-wait   # transitions into/out of CLOSE_WAIT\n"
	"  tcpscope trace -p 1234 -D 5432      # one process, one remote port\n"
	"  tcpscope trace -P                   # port allocations only\n"
	"  tcpscope diagnose -d 30s\n"
	"  tcpscope top -i 2s --state close-wait,time-wait\n"
	"  tcpscope trace -d 5m -F json -o t.jsonl.gz; tcpscope report t.jsonl.gz\n"
	"  tcpscope hooks\n"
	"\n"
	"Exit status: 0 ok, 1 runtime error, 2 usage or setup error.";

enum {
	OPT_STATE = 1000,
	OPT_RINGBUF,
	OPT_MAX_SOCKETS,
	OPT_NO_FENTRY,
	OPT_NO_KPROBE,
	OPT_SCAN_WARN,
	OPT_NO_STATE_TP,
	OPT_NO_CENSUS,
	OPT_SAVE,
};

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "MODE:", 1 },
	{ "duration", 'd', "DURATION", 0, "Stop after DURATION (e.g. 30s, 500ms, 2m)", 1 },
	{ "interval", 'i', "INTERVAL", 0, "top: refresh every INTERVAL (default 1s)", 1 },
	{ NULL, 0, NULL, 0, "FILTERS (repeatable or comma-separated, applied in the kernel):", 2 },
	{ "pid", 'p', "PID", 0, "Only sockets owned by PID", 2 },
	{ "comm", 'c', "COMM", 0, "Only sockets owned by a process named COMM", 2 },
	{ "lport", 'L', "PORT", 0, "Only this local port", 2 },
	{ "rport", 'D', "PORT", 0, "Only this remote port", 2 },
	{ "ipv4", '4', NULL, 0, "Only IPv4", 2 },
	{ "ipv6", '6', NULL, 0, "Only IPv6", 2 },
	{ "state", OPT_STATE, "STATE", 0,
	  "Only transitions into or out of STATE (ss names: time-wait, close-wait, ...)", 2 },
	{ "ports", 'P', NULL, 0, "Only ephemeral port allocations (connect, bind/listen to port 0)",
	  2 },
	{ NULL, 0, NULL, 0, "OUTPUT:", 3 },
	{ "format", 'F', "FMT", 0, "text (default), json (JSON Lines) or csv", 3 },
	{ "output", 'o', "FILE", 0, "Write to FILE instead of standard output", 3 },
	{ "wide", 'w', NULL, 0, "Wide text columns (IPv6, microseconds)", 3 },
	{ "no-header", 'H', NULL, 0, "No header line (text, csv)", 3 },
	{ "no-census", OPT_NO_CENSUS, NULL, 0,
	  "JSON: do not start with a census of the sockets that already exist", 3 },
	{ "save", OPT_SAVE, "FILE", 0,
	  "diagnose: also write the JSON trace to FILE (.gz: compressed), for report", 3 },
	{ "scan-warn", OPT_SCAN_WARN, "N", 0,
	  "Text: mark port allocations that examined at least N ports (default 8)", 3 },
	{ NULL, 0, NULL, 0, "ADVANCED:", 4 },
	{ "ringbuf-size", OPT_RINGBUF, "SIZE", 0, "Ring buffer size (default 8M)", 4 },
	{ "max-sockets", OPT_MAX_SOCKETS, "N", 0,
	  "Capacity of the per-socket maps (default 65536)", 4 },
	{ "no-fentry", OPT_NO_FENTRY, NULL, 0, "Do not use fentry/fexit even where allowed", 4 },
	{ "no-kprobe", OPT_NO_KPROBE, NULL, 0, "Do not use kprobes even where available", 4 },
	{ "no-tracepoint-state", OPT_NO_STATE_TP, NULL, 0,
	  "Follow states with tcp_set_state (fentry/kprobe) as on kernels before 4.16 (tests)", 4 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's log (-vv: debug and verifier log)", 4 },
	{},
};

struct config {
	const char *command;
	const char *input; /* report: the trace file */
	const char *save;  /* diagnose: also write the JSON trace here */
	uint64_t duration_ns;
	uint64_t interval_ns; /* top */
	struct filter filter;
	enum sink_format format;
	const char *output;
	bool wide, no_header, no_fentry, no_kprobe, no_state_tp, no_census;
	uint64_t ringbuf_bytes;
	uint32_t max_sockets;
	unsigned scan_warn;
	int verbose;
};

static void usage_error(struct argp_state *state, const char *msg)
{
	fprintf(stderr, "tcpscope: %s\n", msg);
	fprintf(stderr, "Try 'tcpscope --help' for more information.\n");
	exit(EXIT_USAGE);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct config *c = state->input;
	char err[256] = "";
	uint64_t v;
	int ret = 0;

	switch (key) {
	case 'd':
		ret = parse_duration(arg, &c->duration_ns, err, sizeof(err));
		break;
	case 'i':
		ret = parse_duration(arg, &c->interval_ns, err, sizeof(err));
		if (!ret && (c->interval_ns < 100000000ULL || c->interval_ns > 3600000000000ULL)) {
			snprintf(err, sizeof(err), "-i %s: the refresh interval must be between 100ms "
				 "and 1h", arg);
			ret = -1;
		}
		break;
	case 'p':
		ret = filter_add_pids(&c->filter, arg, err, sizeof(err));
		break;
	case 'c':
		ret = filter_add_comms(&c->filter, arg, err, sizeof(err));
		break;
	case 'L':
		ret = filter_add_lports(&c->filter, arg, err, sizeof(err));
		break;
	case 'D':
		ret = filter_add_rports(&c->filter, arg, err, sizeof(err));
		break;
	case '4':
		ret = filter_set_family(&c->filter, AF_INET, err, sizeof(err));
		break;
	case '6':
		ret = filter_set_family(&c->filter, AF_INET6, err, sizeof(err));
		break;
	case OPT_STATE:
		ret = filter_add_states(&c->filter, arg, err, sizeof(err));
		break;
	case 'P':
		ret = filter_set_ports_only(&c->filter, err, sizeof(err));
		break;
	case OPT_SCAN_WARN:
		ret = parse_uint(arg, 1, 65536, &v, err, sizeof(err));
		if (ret)
			snprintf(err + strlen(err), sizeof(err) - strlen(err), " (--scan-warn)");
		c->scan_warn = (unsigned)v;
		break;
	case 'F':
		if (sink_format_parse(arg, &c->format)) {
			snprintf(err, sizeof(err), "unknown format '%s': use text, json or csv", arg);
			ret = -1;
		}
		break;
	case 'o':
		c->output = arg;
		break;
	case 'w':
		c->wide = true;
		break;
	case 'H':
		c->no_header = true;
		break;
	case 'v':
		c->verbose++;
		break;
	case OPT_NO_FENTRY:
		c->no_fentry = true;
		break;
	case OPT_NO_KPROBE:
		c->no_kprobe = true;
		break;
	case OPT_NO_STATE_TP:
		c->no_state_tp = true;
		break;
	case OPT_SAVE:
		c->save = arg;
		break;
	case OPT_NO_CENSUS:
		c->no_census = true;
		break;
	case OPT_RINGBUF:
		ret = parse_size(arg, &c->ringbuf_bytes, err, sizeof(err));
		if (!ret && (c->ringbuf_bytes < 4096 || (c->ringbuf_bytes & (c->ringbuf_bytes - 1)))) {
			snprintf(err, sizeof(err),
				 "--ringbuf-size %s: must be a power of two of at least 4K", arg);
			ret = -1;
		}
		break;
	case OPT_MAX_SOCKETS:
		ret = parse_uint(arg, 64, 1 << 24, &v, err, sizeof(err));
		if (ret)
			snprintf(err + strlen(err), sizeof(err) - strlen(err), " (--max-sockets)");
		c->max_sockets = (uint32_t)v;
		break;
	case ARGP_KEY_ARG:
		if (!c->command && (!strcmp(arg, "trace") || !strcmp(arg, "hooks") ||
				    !strcmp(arg, "diagnose") || !strcmp(arg, "report") ||
				    !strcmp(arg, "top"))) {
			c->command = arg;
			break;
		}
		if (c->command && !strcmp(c->command, "report") && !c->input) {
			c->input = arg;
			break;
		}
		if (!c->command)
			snprintf(err, sizeof(err),
				 "unknown command '%s': use trace, diagnose, top, report or hooks", arg);
		else
			snprintf(err, sizeof(err), "unexpected argument '%s'", arg);
		ret = -1;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	if (ret)
		usage_error(state, err);
	return 0;
}

/* ---- the running pipeline ---- */

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = sig;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESETHAND };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

struct pipeline {
	struct tracker tracker;
	struct sink sink;	/* the output of the mode; sink.next: diagnose --save */
	struct sink save;
	int sink_errno;
	uint64_t last_warn_ns;
	uint64_t last_check_ns;
	const char *doing; /* "tracing", "diagnosing" */
	bool want_census;  /* the sockets that exist at start */
	bool want_nsinfo;  /* sysctls and counters of every namespace, start and end */
	uint64_t last_sync_ns; /* gzip outputs made readable (gz_sync_all) */
	struct model *check; /* diagnose: the model the end's self-check compares */
	struct top_run *top; /* top: keys and the display between polls; no stderr meanwhile */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct pipeline *p = ctx;
	const struct ev_hdr *h;
	char err[128];

	h = decode(data, len, err, sizeof(err));
	if (!h) {
		p->tracker.undecodable++;
		return 0;
	}
	tracker_event(&p->tracker, h);
	if (sink_event(&p->sink, h)) {
		p->sink_errno = errno ? errno : EIO;
		return -EIO;
	}
	return 0;
}

/* " (ringbuf_full 3, hidden_by_kernel 2)": the kinds lost so far, or nothing */
static void print_lost_kinds(FILE *f, const struct tracker *t)
{
	for (int k = 0, n = 0; k < LOST_KINDS; k++)
		if (t->lost[k])
			fprintf(f, "%s%s %llu", n++ ? ", " : " (", lost_kind_name(k),
				(unsigned long long)t->lost[k]);
	if (t->lost_total)
		fputc(')', f);
}

static int report_lost(void *ctx, int kind, uint64_t delta)
{
	struct pipeline *p = ctx;

	return sink_lost(&p->sink, mono_ns(), lost_kind_name(kind), delta);
}

static void check_lost(struct pipeline *p, struct loader *l, bool final)
{
	uint64_t now[LOST_KINDS];
	uint64_t grown;

	loader_lost(l, now);
	now[LOST_UNDECODABLE] = p->tracker.undecodable;
	grown = tracker_lost_update(&p->tracker, now, report_lost, p);
	if (grown && !final && !p->top && mono_ns() - p->last_warn_ns > 1000000000ULL) {
		const uint64_t *lk = p->tracker.lost;
		bool sizes = lk[LOST_RINGBUF] || lk[LOST_MAP_FULL] || lk[LOST_EVICTED];

		p->last_warn_ns = mono_ns();
		fprintf(stderr, "tcpscope: warning: %llu events lost so far",
			(unsigned long long)p->tracker.lost_total);
		print_lost_kinds(stderr, &p->tracker);
		fprintf(stderr, "%s\n", sizes ? "; a bigger --ringbuf-size or --max-sockets may help" : "");
	}
}

/* The sockets that exist already, taken once the hooks are attached (so
 * nothing falls between the two), written before any event. */
static int write_census(struct config *c, struct pipeline *p)
{
	struct census cs;
	char err[256];
	size_t shown = 0;
	int ret = 0;

	if (census_take(&cs, err, sizeof(err))) {
		fprintf(stderr, "tcpscope: warning: %s; no census\n", err);
		return 0;
	}
	for (size_t i = 0; i < cs.n && !ret; i++) {
		if (!filter_match_census(&c->filter, &cs.s[i]))
			continue;
		ret = sink_census(&p->sink, cs.taken_ns, &cs.s[i]);
		shown++;
	}
	if (!cs.netns_seen && cs.last_error == ENOENT)
		fprintf(stderr, "tcpscope: warning: no census: the kernel has no NETLINK_SOCK_DIAG "
				"handler for TCP; load it with 'modprobe tcp_diag'\n");
	else
		fprintf(stderr, "tcpscope: census: %zu TCP sockets in %u network namespaces "
				"(%zu written)%s\n", cs.n, cs.netns_seen, shown,
			cs.netns_failed ? ", some namespaces unreadable" : "");
	census_free(&cs);
	return ret;
}

/* The self-check at the end: a census taken now, compared per namespace and
 * state with the model (the start census plus every event since). A
 * namespace whose sockets changed after the check began is left out: its
 * difference would be the change, not an error of the model. */
static void self_check(struct pipeline *p, struct loader *l, struct run_info *ri)
{
	struct model *m = p->check;
	uint64_t t0 = mono_ns(), now[TS_STATE_MAX], then[TS_STATE_MAX];
	struct census cs;
	char err[256];

	/* a timewait socket killed in the last millisecond is reported by the
	 * sweep once its cancel is 1 ms old: let it be, then take the census */
	usleep(5000);
	loader_poll(l, 0);
	t0 = mono_ns();
	if (census_take(&cs, err, sizeof(err)))
		return;
	loader_poll(l, 0); /* every event up to after the census */
	for (size_t i = 0; i < m->ns.n; i++) {
		const struct mns *n = keyed_at(&m->ns, i);

		/* changed since the census began, or a namespace it could not
		 * enter (deleted, kept alive by its closing sockets): nothing
		 * to compare with */
		if (n->last_change_ns >= t0 || !census_has_netns(&cs, n->netns))
			continue;
		memset(then, 0, sizeof(then));
		for (size_t j = 0; j < cs.n; j++)
			if (cs.s[j].netns == n->netns && cs.s[j].state < TS_STATE_MAX)
				then[cs.s[j].state]++;
		model_ns_states(m, n->netns, now);
		bool off = false;

		for (int s = 0; s < TS_STATE_MAX; s++) {
			ri->drift[s] += (int64_t)now[s] - (int64_t)then[s];
			off |= now[s] != then[s];
		}
		/* the drift is reported; the findings are made from the truth */
		if (off)
			model_resync(m, n->netns, &cs, cs.taken_ns);
	}
	ri->drift_measured = true;
	census_free(&cs);
}

/* What the loader needs from the options; every command loads the same. */
static struct loader_opts loader_opts_of(const struct config *c,
					 int (*on_record)(void *, void *, size_t), void *ctx)
{
	return (struct loader_opts){
		.filter = &c->filter,
		.ringbuf_bytes = c->ringbuf_bytes,
		.max_sockets = c->max_sockets,
		.verbose = c->verbose,
		.no_fentry = c->no_fentry,
		.no_kprobe = c->no_kprobe,
		.no_state_tp = c->no_state_tp,
		.on_record = on_record,
		.ctx = ctx,
	};
}

/* Sysctls and counters of every namespace, at start and at end. */
static int write_nsinfo(struct config *c, struct pipeline *p, const char *phase)
{
	struct nsinfo_set s;
	char err[256];
	int ret = 0;

	if (!p->want_nsinfo)
		return 0;
	if (nsinfo_take(&s, err, sizeof(err))) {
		fprintf(stderr, "tcpscope: warning: sysctls and counters: %s\n", err);
		return 0;
	}
	for (size_t i = 0; i < s.n && !ret; i++)
		ret = sink_nsinfo(&p->sink, s.taken_ns, phase, &s.ns[i]);
	nsinfo_free(&s);
	return ret;
}

/* The run of trace and diagnose: load, attach, then everything the sink
 * needs in order (run start, namespaces, census, events, namespaces, run
 * end). The sink is open; it is closed here. Returns the exit status. */
/* Close the outputs (the save sink first); 1 if anything written was lost */
static int close_sinks(struct pipeline *p)
{
	char err[512];
	int ret = 0;

	if (p->save.f && sink_close(&p->save, err, sizeof(err))) {
		fprintf(stderr, "tcpscope: %s\n", err);
		ret = 1;
	}
	if (p->sink.f && sink_close(&p->sink, err, sizeof(err))) {
		fprintf(stderr, "tcpscope: %s\n", err);
		ret = 1;
	}
	return ret;
}

static int pipeline_run(struct config *c, struct pipeline *p)
{
	struct loader_opts lo = loader_opts_of(c, on_record, p);
	struct loader *l;
	char err[512], blind[2048];
	uint64_t deadline = 0;
	int ret = 0, n;
	char failed[600] = "";
	struct utsname u = {};
	struct run_info ri = {};

	tracker_init(&p->tracker);
	if (loader_preflight(err, sizeof(err))) {
		fprintf(stderr, "tcpscope: %s\n", err);
		close_sinks(p);
		return EXIT_USAGE;
	}
	install_signals();
	l = loader_start(&lo, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "tcpscope: %s\n", err);
		close_sinks(p);
		return 1;
	}
	ladder_blind_spots(loader_ladder(l), blind, sizeof(blind));
	if (blind[0])
		fprintf(stderr, "tcpscope: blind spots (tcpscope hooks tells more): %s\n", blind);
	fprintf(stderr, "tcpscope: %s%s; Ctrl-C to stop\n", p->doing,
		c->duration_ns ? " for the duration" : "");
	if (c->duration_ns)
		deadline = mono_ns() + c->duration_ns;
	if (sink_begin(&p->sink))
		goto write_error;
	uname(&u);
	ri.ts_ns = mono_ns();
	ri.host = u.nodename;
	ri.kernel = u.release;
	ri.blind = blind;
	if (sink_run(&p->sink, &ri) || write_nsinfo(c, p, "start") ||
	    (p->want_census && write_census(c, p)))
		goto write_error;

	while (!exiting) {
		/* top: keys are read between polls */
		n = loader_poll(l, p->top ? 50 : 100);
		/* a signal: ours set exiting; another (SIGWINCH of a resize) is no reason to stop */
		if (n == -EINTR)
			continue;
		if (n < 0 && p->sink_errno)
			goto write_error;
		if (n < 0) {
			snprintf(failed, sizeof(failed), "reading the ring buffer failed: %s",
				 strerror(-n));
			ret = 1;
			break;
		}
		/* reading the counters costs a syscall per program: not per wakeup */
		if (mono_ns() - p->last_check_ns >= 200000000ULL) {
			p->last_check_ns = mono_ns();
			check_lost(p, l, false);
		}
		if (sink_flush(&p->sink))
			goto write_error;
		if (mono_ns() - p->last_sync_ns >= 1000000000ULL) {
			p->last_sync_ns = mono_ns();
			if (gz_sync_all())
				goto write_error;
		}
		if (deadline && mono_ns() >= deadline)
			break;
		if (p->top) {
			int t = top_tick(p->top, mono_ns(), loader_ladder(l), failed, sizeof(failed));

			if (t < 0)
				ret = 1;
			if (t)
				break;
		}
	}
	/* the terminal back before anything is said */
	if (p->top)
		top_end(p->top);
	if (failed[0])
		fprintf(stderr, "tcpscope: %s\n", failed);
	/* Drain what is left, then the final accounting. */
	n = loader_poll(l, 0);
	if (n < 0 && p->sink_errno)
		goto write_error;
	check_lost(p, l, true);
	ri = (struct run_info){ .ts_ns = mono_ns(), .end = true };
	if (p->check)
		self_check(p, l, &ri);
	if (write_nsinfo(c, p, "end") || sink_run(&p->sink, &ri))
		goto write_error;
	goto done;

write_error:
	if (p->top)
		top_end(p->top);
	fprintf(stderr, "tcpscope: writing %s failed: %s; stopping\n",
		p->save.ops ? c->save : c->output ? c->output : "standard output",
		strerror(p->sink_errno ? p->sink_errno : errno));
	ret = 1;
done:
	if (c->verbose)
		loader_report(l, stderr);
	loader_stop(l);
	if (close_sinks(p))
		ret = 1;
	fprintf(stderr,
		"tcpscope: %llu events (%llu state, %llu timewait, %llu connect/bind, %llu port, "
		"%llu overflow), %llu lost",
		(unsigned long long)p->tracker.seen_total,
		(unsigned long long)p->tracker.seen[EV_STATE],
		(unsigned long long)p->tracker.seen[EV_TW],
		(unsigned long long)p->tracker.seen[EV_CALL],
		(unsigned long long)p->tracker.seen[EV_PORT],
		(unsigned long long)p->tracker.seen[EV_LISTEN_OVF],
		(unsigned long long)p->tracker.lost_total);
	print_lost_kinds(stderr, &p->tracker);
	fputc('\n', stderr);
	return ret;
}

static int run_trace(struct config *c)
{
	struct pipeline p = { .doing = "tracing" };
	char err[512];

	/* the census and namespace records belong to a JSON export; the
	 * namespaces' context is whole-host, not for a filtered trace */
	p.want_census = c->format == FMT_JSON && !c->no_census;
	p.want_nsinfo = p.want_census && !filter_active(&c->filter);
	/* Output problems surface before anything is loaded. */
	if (sink_open(&p.sink, c->format, c->output, "-o", err, sizeof(err))) {
		fprintf(stderr, "tcpscope: %s\n", err);
		return EXIT_USAGE;
	}
	p.sink.wide = c->wide;
	p.sink.no_header = c->no_header;
	if (p.sink.pressure && c->scan_warn)
		p.sink.pressure->scan_warn = c->scan_warn;
	return pipeline_run(c, &p);
}

/* Print the diagnosis of a model to out (opened by the caller before any
 * work, closed here); the exit status. */
static int print_diagnosis(struct config *c, const struct model *m, FILE *out)
{
	struct findings fs;
	int ret;

	if (findings_compute(m, &fs)) {
		fprintf(stderr, "tcpscope: out of memory computing the findings\n");
		findings_free(&fs);
		if (out != stdout)
			fclose(out);
		return EXIT_USAGE;
	}
	if (c->format == FMT_JSON)
		diagnosis_print_json(m, &fs, out);
	else
		diagnosis_print_text(m, &fs, out);
	ret = diagnosis_exit_status(&fs);
	if (fflush(out) || ferror(out) || (out != stdout && fclose(out))) {
		fprintf(stderr, "tcpscope: writing the diagnosis failed: %s\n", strerror(errno));
		ret = EXIT_USAGE;
	}
	findings_free(&fs);
	return ret;
}

/* The end of diagnose and report: the diagnosis of the model when the
 * run (or the reading) succeeded, else exit 2 (1 means warnings here). out
 * is closed and the model freed either way. */
static int diagnosis_end(struct config *c, struct model *m, FILE *out, bool ok)
{
	int ret = EXIT_USAGE;

	if (ok)
		ret = print_diagnosis(c, m, out);
	else if (out != stdout)
		fclose(out);
	model_free(m);
	return ret;
}

/* tcpscope diagnose: the same run as trace, into the model; then the verdict. */
static int run_diagnose(struct config *c)
{
	struct pipeline p = { .doing = "diagnosing" };
	struct model m;
	char err[512];
	FILE *out;

	if (c->format == FMT_CSV) {
		fprintf(stderr, "tcpscope: diagnose prints text or json: use -F text or -F json\n");
		return EXIT_USAGE;
	}
	if (!c->duration_ns)
		c->duration_ns = DIAGNOSE_DEFAULT_NS;
	p.want_census = !c->no_census;
	p.want_nsinfo = true; /* sysctls and counters the findings need, census or not */
	/* Output problems surface before anything is loaded. */
	out = output_open(c->output, "-o", err, sizeof(err));
	if (!out || (c->save && sink_open(&p.save, FMT_JSON, c->save, "--save", err, sizeof(err)))) {
		fprintf(stderr, "tcpscope: %s\n", err);
		return EXIT_USAGE;
	}
	model_init(&m);
	sink_attach_model(&p.sink, &m);
	if (c->save)
		p.sink.next = &p.save;
	/* the self-check needs the whole picture: the start census, no filter */
	if (p.want_census && !filter_active(&c->filter))
		p.check = &m;
	return diagnosis_end(c, &m, out, pipeline_run(c, &p) == 0);
}

/* tcpscope top: the model and the dashboard's rings as the sinks; between
 * polls, keys and the display. */
static int run_top(struct config *c)
{
	struct pipeline p = { .doing = "watching" };
	char err[512];
	int ret;

	if (c->output || c->format != FMT_TEXT || c->save) {
		fprintf(stderr, "tcpscope: top draws on the terminal: -o, -F and --save are for "
				"trace and diagnose\n");
		return EXIT_USAGE;
	}
	if (top_ui_check(err, sizeof(err))) {
		fprintf(stderr, "tcpscope: %s\n", err);
		return EXIT_USAGE;
	}
	p.top = top_run_new(&c->filter, c->interval_ns ? c->interval_ns : TOP_INTERVAL_NS,
			    c->scan_warn, &p.sink);
	if (!p.top) {
		fprintf(stderr, "tcpscope: out of memory\n");
		return 1;
	}
	p.want_census = !c->no_census;
	p.want_nsinfo = true; /* port ranges, for the share of the range in use */
	ret = pipeline_run(c, &p);
	top_run_free(p.top);
	return ret;
}

/* tcpscope report FILE: the diagnosis of a recorded trace; no root, no BPF. */
static int run_report(struct config *c)
{
	struct model m;
	struct sink s;
	char err[512];
	FILE *out;
	bool ok;

	if (c->format == FMT_CSV) {
		fprintf(stderr, "tcpscope: report prints text or json: use -F text or -F json\n");
		return EXIT_USAGE;
	}
	out = output_open(c->output, "-o", err, sizeof(err));
	if (!out) {
		fprintf(stderr, "tcpscope: %s\n", err);
		return EXIT_USAGE;
	}
	model_init(&m);
	sink_attach_model(&s, &m);
	ok = !replay_file(c->input, &s, err, sizeof(err));
	if (!ok)
		fprintf(stderr, "tcpscope: %s\n", err);
	return diagnosis_end(c, &m, out, ok);
}

static int discard(void *ctx, void *data, size_t len)
{
	return 0;
}

/* tcpscope hooks: load and attach exactly what trace would, then tell. */
static int run_hooks(struct config *c)
{
	struct loader_opts lo = loader_opts_of(c, discard, NULL);
	struct loader *l;
	char err[512];

	if (c->format == FMT_CSV) {
		fprintf(stderr, "tcpscope: hooks prints text or json: use -F text or -F json\n");
		return EXIT_USAGE;
	}
	if (loader_preflight(err, sizeof(err))) {
		fprintf(stderr, "tcpscope: %s\n", err);
		return EXIT_USAGE;
	}
	l = loader_start(&lo, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "tcpscope: %s\n", err);
		return 1;
	}
	if (c->format == FMT_JSON)
		ladder_print_json(loader_ladder(l), stdout);
	else
		ladder_print_text(loader_ladder(l), stdout);
	loader_stop(l);
	return fflush(stdout) || ferror(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = options, .parser = parse_opt, .args_doc = "trace|diagnose|top|hooks [OPTION...]\nreport FILE [OPTION...]", .doc = doc,
	};
	struct config c = {
		.format = FMT_TEXT,
		.ringbuf_bytes = 8 << 20,
		.max_sockets = 65536,
	};
	int err;

	argp_err_exit_status = EXIT_USAGE;
	err = argp_parse(&argp, argc, argv, 0, NULL, &c);
	if (err)
		return EXIT_USAGE;
	if (!c.command) {
		fprintf(stderr, "tcpscope: no command given: use trace, diagnose, top, report or hooks "
				"(see tcpscope --help)\n");
		return EXIT_USAGE;
	}
	/* options that would be silently ignored are refused */
	if (c.interval_ns && strcmp(c.command, "top")) {
		fprintf(stderr, "tcpscope: -i is the refresh interval of top; trace and diagnose "
				"stream every event (use -d for how long)\n");
		return EXIT_USAGE;
	}
	if (c.save && strcmp(c.command, "diagnose")) {
		fprintf(stderr, "tcpscope: --save is for diagnose: trace writes its trace with -F json "
				"-o FILE\n");
		return EXIT_USAGE;
	}
	if (!strcmp(c.command, "report") && (filter_active(&c.filter) || c.duration_ns)) {
		fprintf(stderr, "tcpscope: report reads the trace as it was recorded: give filters and "
				"-d to the tcpscope trace that records it\n");
		return EXIT_USAGE;
	}
	if (!strcmp(c.command, "report")) {
		if (!c.input) {
			fprintf(stderr, "tcpscope: report needs a trace file: tcpscope report FILE "
					"(recorded with tcpscope trace -F json -o FILE)\n");
			return EXIT_USAGE;
		}
		return run_report(&c);
	}
	if (!strcmp(c.command, "diagnose"))
		return run_diagnose(&c);
	if (!strcmp(c.command, "hooks"))
		return run_hooks(&c);
	if (!strcmp(c.command, "top"))
		return run_top(&c);
	return run_trace(&c);
}
