// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The command line (options.h): argp's table, each option's parser, and the
 * checks that refuse what the chosen command would ignore. */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/libbpf.h>
#include "commands.h"
#include "options.h"
#include "parse.h"

static void print_version(FILE *f, struct argp_state *state)
{
	fprintf(f, "tcpscope " TCPSCOPE_VERSION " (libbpf %s; hooks: tracepoints, fentry or kprobe where allowed)\n",
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
	"  serve    the diagnosis as Prometheus metrics over HTTP (default\n"
	"           " SERVE_DEFAULT_LISTEN "/metrics), or --textfile DIR for\n"
	"           node_exporter; runs until SIGTERM or SIGINT\n"
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
	"  tcpscope serve --web.listen-address=0.0.0.0:19977\n"
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
	OPT_LISTEN,
	OPT_TELEMETRY_PATH,
	OPT_TEXTFILE,
	OPT_MAX_COMMS,
	OPT_MAX_DESTS,
	OPT_MAX_SERIES,
	OPT_WINDOW,
	OPT_CGROUP,
	OPT_NETNS,
};

static const struct argp_option option_table[] = {
	{ NULL, 0, NULL, 0, "MODE:", 1 },
	{ "duration", 'd', "DURATION", 0, "Stop after DURATION (e.g. 30s, 500ms, 2m)", 1 },
	{ "interval", 'i', "INTERVAL", 0,
	  "top: refresh every INTERVAL (default 1s); serve --textfile: rewrite every INTERVAL "
	  "(default 15s)", 1 },
	{ NULL, 0, NULL, 0, "FILTERS (repeatable or comma-separated, applied in the kernel):", 2 },
	{ "pid", 'p', "PID", 0, "Only sockets owned by PID", 2 },
	{ "comm", 'c', "COMM", 0, "Only sockets owned by a process named COMM", 2 },
	{ "lport", 'L', "PORT", 0, "Only this local port", 2 },
	{ "rport", 'D', "PORT", 0, "Only this remote port", 2 },
	{ "ipv4", '4', NULL, 0, "Only IPv4", 2 },
	{ "ipv6", '6', NULL, 0, "Only IPv6", 2 },
	{ "state", OPT_STATE, "STATE", 0,
	  "Only transitions into or out of STATE (ss names: time-wait, close-wait, ...)", 2 },
	{ "cgroup", OPT_CGROUP, "PATH", 0,
	  "Only sockets whose owner is in this cgroup v2 or below it (a container, a "
	  "service: the path /proc/PID/cgroup shows)", 2 },
	{ "netns", OPT_NETNS, "NAME|INODE", 0,
	  "Only one network namespace: its inode or its name in /run/netns (applied in user "
	  "space)", 2 },
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
	{ NULL, 0, NULL, 0, "SERVE:", 4 },
	{ "web.listen-address", OPT_LISTEN, "ADDR:PORT", 0,
	  "Serve metrics on ADDR:PORT (default " SERVE_DEFAULT_LISTEN "; [::1]:PORT for IPv6)", 4 },
	{ "web.telemetry-path", OPT_TELEMETRY_PATH, "PATH", 0,
	  "The metrics' path (default /metrics)", 4 },
	{ "textfile", OPT_TEXTFILE, "DIR", 0,
	  "No HTTP: write DIR/tcpscope.prom for node_exporter's textfile collector", 4 },
	{ "window", OPT_WINDOW, "DURATION", 0,
	  "Findings count events (resets, overflows, failures) over this window and hold "
	  "through the next (default 60s)", 4 },
	{ "max-comms", OPT_MAX_COMMS, "N", 0,
	  "Label at most N process names per metric; the rest are 'other' (default 20)", 4 },
	{ "max-destinations", OPT_MAX_DESTS, "N", 0,
	  "Label at most N destinations per metric; the rest are 'other' (default 20)", 4 },
	{ "max-series", OPT_MAX_SERIES, "N", 0,
	  "At most N series in one scrape; beyond, series are dropped and counted "
	  "(default 10000)", 4 },
	{ NULL, 0, NULL, 0, "ADVANCED:", 5 },
	{ "ringbuf-size", OPT_RINGBUF, "SIZE", 0, "Ring buffer size (default 8M)", 5 },
	{ "max-sockets", OPT_MAX_SOCKETS, "N", 0,
	  "Capacity of the per-socket maps (default 65536)", 5 },
	{ "no-fentry", OPT_NO_FENTRY, NULL, 0, "Do not use fentry/fexit even where allowed", 5 },
	{ "no-kprobe", OPT_NO_KPROBE, NULL, 0, "Do not use kprobes even where available", 5 },
	{ "no-tracepoint-state", OPT_NO_STATE_TP, NULL, 0,
	  "Follow states with tcp_set_state (fentry/kprobe) as on kernels before 4.16 (tests)", 5 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's log (-vv: debug and verifier log)", 5 },
	{},
};

static void usage_error(struct argp_state *state, const char *msg)
{
	fprintf(stderr, "tcpscope: %s\n", msg);
	fprintf(stderr, "Try 'tcpscope --help' for more information.\n");
	exit(EXIT_USAGE);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct options *o = state->input;
	char err[256] = "";
	uint64_t v;
	int ret = 0;

	switch (key) {
	case 'd':
		ret = parse_duration(arg, &o->duration_ns, err, sizeof(err));
		break;
	case 'i':
		ret = parse_duration(arg, &o->interval_ns, err, sizeof(err));
		if (!ret && (o->interval_ns < 100000000ULL || o->interval_ns > 3600000000000ULL)) {
			snprintf(err, sizeof(err), "-i %s: the refresh interval must be between 100ms "
				 "and 1h", arg);
			ret = -1;
		}
		break;
	case 'p':
		ret = filter_add_pids(&o->filter, arg, err, sizeof(err));
		break;
	case 'c':
		ret = filter_add_comms(&o->filter, arg, err, sizeof(err));
		break;
	case 'L':
		ret = filter_add_lports(&o->filter, arg, err, sizeof(err));
		break;
	case 'D':
		ret = filter_add_rports(&o->filter, arg, err, sizeof(err));
		break;
	case '4':
		ret = filter_set_family(&o->filter, AF_INET, err, sizeof(err));
		break;
	case '6':
		ret = filter_set_family(&o->filter, AF_INET6, err, sizeof(err));
		break;
	case OPT_STATE:
		ret = filter_add_states(&o->filter, arg, err, sizeof(err));
		break;
	case OPT_NETNS:
		ret = filter_set_netns(&o->filter, arg, err, sizeof(err));
		break;
	case OPT_CGROUP:
		ret = filter_set_cgroup(&o->filter, arg, err, sizeof(err));
		break;
	case 'P':
		ret = filter_set_ports_only(&o->filter, err, sizeof(err));
		break;
	case OPT_SCAN_WARN:
		ret = parse_uint(arg, 1, 65536, &v, err, sizeof(err));
		if (ret)
			snprintf(err + strlen(err), sizeof(err) - strlen(err), " (--scan-warn)");
		o->scan_warn = (unsigned)v;
		break;
	case 'F':
		if (sink_format_parse(arg, &o->format)) {
			snprintf(err, sizeof(err), "unknown format '%s': use text, json or csv", arg);
			ret = -1;
		}
		break;
	case 'o':
		o->output = arg;
		break;
	case 'w':
		o->wide = true;
		break;
	case 'H':
		o->no_header = true;
		break;
	case 'v':
		o->verbose++;
		break;
	case OPT_NO_FENTRY:
		o->no_fentry = true;
		break;
	case OPT_NO_KPROBE:
		o->no_kprobe = true;
		break;
	case OPT_NO_STATE_TP:
		o->no_state_tp = true;
		break;
	case OPT_SAVE:
		o->save = arg;
		break;
	case OPT_NO_CENSUS:
		o->no_census = true;
		break;
	case OPT_RINGBUF:
		ret = parse_size(arg, &o->ringbuf_bytes, err, sizeof(err));
		if (!ret && (o->ringbuf_bytes < 4096 || (o->ringbuf_bytes & (o->ringbuf_bytes - 1)))) {
			snprintf(err, sizeof(err),
				 "--ringbuf-size %s: must be a power of two of at least 4K", arg);
			ret = -1;
		}
		break;
	case OPT_MAX_SOCKETS:
		ret = parse_uint(arg, 64, 1 << 24, &v, err, sizeof(err));
		if (ret)
			snprintf(err + strlen(err), sizeof(err) - strlen(err), " (--max-sockets)");
		o->max_sockets = (uint32_t)v;
		break;
	case OPT_LISTEN:
		o->listen_address = arg;
		break;
	case OPT_TELEMETRY_PATH:
		if (arg[0] != '/' || !strcmp(arg, "/") || strpbrk(arg, " ?#")) {
			snprintf(err, sizeof(err), "--web.telemetry-path %s: give a path such as "
				 "/metrics (not /, no spaces, no query)", arg);
			ret = -1;
		}
		o->telemetry_path = arg;
		break;
	case OPT_WINDOW:
		ret = parse_duration(arg, &o->window_ns, err, sizeof(err));
		if (!ret && (o->window_ns < 1000000000ULL || o->window_ns > 86400000000000ULL)) {
			snprintf(err, sizeof(err), "--window %s: between 1s and 24h", arg);
			ret = -1;
		}
		break;
	case OPT_TEXTFILE:
		o->textfile_dir = arg;
		break;
	case OPT_MAX_COMMS:
	case OPT_MAX_DESTS:
	case OPT_MAX_SERIES:
		ret = parse_uint(arg, key == OPT_MAX_SERIES ? 100 : 1,
				 key == OPT_MAX_SERIES ? 10000000 : 10000, &v, err, sizeof(err));
		if (ret)
			snprintf(err + strlen(err), sizeof(err) - strlen(err), " (--%s)",
				 key == OPT_MAX_COMMS ? "max-comms" :
				 key == OPT_MAX_DESTS ? "max-destinations" : "max-series");
		*(key == OPT_MAX_COMMS ? &o->top_comms :
		  key == OPT_MAX_DESTS ? &o->top_dests : &o->max_series) = (unsigned)v;
		break;
	case ARGP_KEY_ARG:
		if (!o->command) {
			o->command = command_find(arg);
			if (o->command)
				break;
			snprintf(err, sizeof(err), "unknown command '%s': use %s", arg,
				 command_names());
		} else if (o->command->takes_file && !o->input) {
			o->input = arg;
			break;
		} else {
			snprintf(err, sizeof(err), "unexpected argument '%s'", arg);
		}
		ret = -1;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	if (ret)
		usage_error(state, err);
	return 0;
}


/* Options a command would silently ignore: refused, with what to use */
static const char *misplaced(const struct options *o)
{
	const char *cmd = o->command->name;
	bool serve = !strcmp(cmd, "serve"), top = !strcmp(cmd, "top");

	if (o->interval_ns && !top && !(serve && o->textfile_dir))
		return serve ? "-i is how often --textfile rewrites its file; a scraper sets its own "
			       "interval over HTTP" :
			       "-i is the refresh interval of top (and of serve --textfile); trace and "
			       "diagnose stream every event (use -d for how long)";
	if (o->save && strcmp(cmd, "diagnose"))
		return "--save is for diagnose: trace writes its trace with -F json -o FILE";
	if (!serve && (o->listen_address || o->telemetry_path || o->textfile_dir || o->top_comms ||
		       o->top_dests || o->max_series || o->window_ns))
		return "--web.*, --textfile, --window and --max-comms/-destinations/-series are for "
		       "serve";
	if (serve && o->textfile_dir && (o->listen_address || o->telemetry_path))
		return "serve --textfile writes a file and serves no HTTP: drop --web.listen-address "
		       "and --web.telemetry-path, or --textfile";
	if (serve && (o->output || o->format != FMT_TEXT || o->duration_ns))
		return "serve runs until stopped and exposes metrics: -o, -F and -d are for trace "
		       "and diagnose (use --textfile DIR for a file)";
	if (!strcmp(cmd, "report") && (filter_active(&o->filter) || o->duration_ns))
		return "report reads the trace as it was recorded: give filters and -d to the "
		       "tcpscope trace that records it";
	if (o->command->takes_file && !o->input)
		return "report needs a trace file: tcpscope report FILE (recorded with tcpscope "
		       "trace -F json -o FILE)";
	return NULL;
}

int options_parse(int argc, char **argv, struct options *o)
{
	static const struct argp argp = {
		.options = option_table,
		.parser = parse_opt,
		.args_doc = "trace|diagnose|top|hooks|serve [OPTION...]\nreport FILE [OPTION...]",
		.doc = doc,
	};
	const char *why;

	*o = (struct options){
		.format = FMT_TEXT,
		.ringbuf_bytes = 8 << 20,
		.max_sockets = 65536,
	};
	argp_err_exit_status = EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, 0, NULL, o))
		return EXIT_USAGE;
	if (!o->command) {
		fprintf(stderr, "tcpscope: no command given: use %s (see tcpscope --help)\n",
			command_names());
		return EXIT_USAGE;
	}
	why = misplaced(o);
	if (why) {
		fprintf(stderr, "tcpscope: %s\n", why);
		return EXIT_USAGE;
	}
	return 0;
}
