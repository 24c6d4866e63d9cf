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
#include "fmt.h"
#include "options.h"
#include "parse.h"

static void print_version(FILE *f, struct argp_state *state)
{
	fprintf(f, "tcpscope " TCPSCOPE_VERSION " (libbpf %s; hooks: tracepoints, fentry or kprobe where allowed)\n",
		libbpf_version_string());
}

void (*argp_program_version_hook)(FILE *, struct argp_state *) = print_version;
const char *argp_program_bug_address = "<https://github.com/tcpscope/tcpscope/issues>";

/* tcpscope --help: the commands; each command's --help lists its options */
static const char doc[] =
	"Watch TCP connections change state, with the process that owns them.\v"
	"COMMANDS:\n"
	"  trace    stream every state transition, TIME_WAIT entry/end,\n"
	"           ephemeral port allocation and connect()/bind() result\n"
	"  diagnose watch for -d (default 10s), then say what is wrong: CLOSE_WAIT\n"
	"           leaks, port exhaustion, FIN_WAIT2, backlog overflow, resets...\n"
	"  report   the same diagnosis from a trace file (-F json -o FILE[.gz]);\n"
	"           needs neither root nor BPF\n"
	"  top      live dashboard in the terminal: states and their trend, CLOSE_WAIT\n"
	"           by process, ports by destination, listeners' queues, notable events\n"
	"  hooks    which kernel mechanism observes each fact on this kernel,\n"
	"           what failed and what is therefore unknown\n"
	"  serve    the diagnosis as Prometheus metrics over HTTP, or --textfile DIR\n"
	"           for node_exporter\n"
	"\n"
	"'tcpscope COMMAND --help' lists a command's options; man tcpscope tells all.\n"
	"Exit status: 0 ok, 1 runtime error (diagnose, report: warnings found),\n"
	"2 usage or setup error (diagnose, report: no diagnosis).";

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

/* The commands that load BPF programs (and so take filters and the hook
 * choices), and those of them that run for a while. */
#define LOADS "trace diagnose top hooks serve"
#define RUNS "trace diagnose top serve"

/* Every option, with the commands that take it: a command's --help lists
 * only its own, and any other command refuses it (options_parse). */
static const struct option_for {
	struct argp_option o;
	const char *commands; /* names, space-separated; NULL for a group's title */
} option_table[] = {
	{ { NULL, 0, NULL, 0, "MODE:", 1 }, NULL },
	{ { "duration", 'd', "DURATION", 0,
	    "Stop after DURATION (30s, 500ms, 2m, 1h; a bare number is seconds)", 1 },
	  "trace diagnose top" },
	{ { "interval", 'i', "INTERVAL", 0,
	    "top: refresh every INTERVAL (default 1s; 100ms to 1h); serve --textfile: rewrite "
	    "every INTERVAL (default 15s)", 1 },
	  "top serve" },
	{ { NULL, 0, NULL, 0, "FILTERS (repeatable or comma-separated, applied in the kernel):", 2 }, NULL },
	{ { "pid", 'p', "PID", 0, "Only sockets owned by PID", 2 }, LOADS },
	{ { "comm", 'c', "COMM", 0, "Only sockets owned by a process named COMM", 2 }, LOADS },
	{ { "lport", 'L', "PORT", 0, "Only this local port", 2 }, LOADS },
	{ { "rport", 'D', "PORT", 0, "Only this remote port", 2 }, LOADS },
	{ { "ipv4", '4', NULL, 0, "Only IPv4", 2 }, LOADS },
	{ { "ipv6", '6', NULL, 0, "Only IPv6", 2 }, LOADS },
	{ { "state", OPT_STATE, "STATE", 0,
	    "Only transitions into or out of STATE, in ss's words (time-wait, close-wait, "
	    "listening, ...; groups connected, synchronized, bucket, big, all)", 2 },
	  LOADS },
	{ { "cgroup", OPT_CGROUP, "PATH", 0,
	    "Only sockets whose owner is in this cgroup v2 or below it (a container, a "
	    "service: the path /proc/PID/cgroup shows)", 2 },
	  LOADS },
	{ { "netns", OPT_NETNS, "NAME|INODE", 0,
	    "Only one network namespace: its inode or its name in /run/netns (applied in user "
	    "space)", 2 },
	  LOADS },
	{ { "ports", 'P', NULL, 0,
	    "Only ephemeral port allocations (connect, bind/listen to port 0; excludes --state)", 2 },
	  LOADS },
	{ { NULL, 0, NULL, 0, "OUTPUT:", 3 }, NULL },
	{ { "format", 'F', "FMT", 0,
	    "text (default), json, or csv (trace only)", 3 },
	  "trace diagnose report hooks" },
	{ { "output", 'o', "FILE", 0,
	    "Write to FILE instead of standard output (FILE.gz: gzip-compressed)", 3 },
	  "trace diagnose report" },
	{ { "wide", 'w', NULL, 0, "Wide text: full addresses, microseconds, kernel state names", 3 },
	  "trace" },
	{ { "no-header", 'H', NULL, 0, "No header line (text, csv)", 3 }, "trace" },
	{ { "no-census", OPT_NO_CENSUS, NULL, 0,
	    "Do not start with a census of the sockets that already exist", 3 },
	  RUNS },
	{ { "save", OPT_SAVE, "FILE", 0,
	    "Also write the JSON trace to FILE (.gz: compressed), for report", 3 },
	  "diagnose" },
	{ { "scan-warn", OPT_SCAN_WARN, "N", 0,
	    "Mark port allocations that examined at least N ports (default 8)", 3 },
	  "trace top" },
	{ { NULL, 0, NULL, 0, "SERVE:", 4 }, NULL },
	{ { "web.listen-address", OPT_LISTEN, "ADDR:PORT", 0,
	    "Serve metrics on ADDR:PORT (default " SERVE_DEFAULT_LISTEN "; [::1]:PORT for IPv6, "
	    ":PORT for every address)", 4 },
	  "serve" },
	{ { "web.telemetry-path", OPT_TELEMETRY_PATH, "PATH", 0,
	    "The metrics' path (default /metrics)", 4 },
	  "serve" },
	{ { "textfile", OPT_TEXTFILE, "DIR", 0,
	    "No HTTP: write DIR/tcpscope.prom for node_exporter's textfile collector", 4 },
	  "serve" },
	{ { "window", OPT_WINDOW, "DURATION", 0,
	    "Findings count events (resets, overflows, failures) over this window and hold "
	    "through the next (default 60s; 1s to 24h)", 4 },
	  "serve" },
	{ { "max-comms", OPT_MAX_COMMS, "N", 0,
	    "Label at most N process names per metric; the rest are 'other' (default 20)", 4 },
	  "serve" },
	{ { "max-destinations", OPT_MAX_DESTS, "N", 0,
	    "Label at most N destinations per metric; the rest are 'other' (default 20)", 4 },
	  "serve" },
	{ { "max-series", OPT_MAX_SERIES, "N", 0,
	    "At most N series in one scrape; beyond, series are dropped and counted "
	    "(default 10000)", 4 },
	  "serve" },
	{ { NULL, 0, NULL, 0, "ADVANCED:", 5 }, NULL },
	{ { "ringbuf-size", OPT_RINGBUF, "SIZE", 0,
	    "Ring buffer size, a power of two (default 8M)", 5 },
	  LOADS },
	{ { "max-sockets", OPT_MAX_SOCKETS, "N", 0,
	    "Capacity of the per-socket maps (default 65536)", 5 },
	  LOADS },
	{ { "no-fentry", OPT_NO_FENTRY, NULL, 0, "Do not use fentry/fexit even where allowed", 5 },
	  LOADS },
	{ { "no-kprobe", OPT_NO_KPROBE, NULL, 0, "Do not use kprobes even where available", 5 },
	  LOADS },
	{ { "no-tracepoint-state", OPT_NO_STATE_TP, NULL, 0,
	    "Follow states with tcp_set_state (fentry/kprobe) as on kernels before 4.16 (tests)",
	    5 },
	  LOADS },
	{ { "verbose", 'v', NULL, 0,
	    "libbpf's log and per-program recursion misses at exit (-vv: the verifier's log)", 5 },
	  LOADS },
};

#define N_OPTIONS (sizeof(option_table) / sizeof(option_table[0]))
_Static_assert(N_OPTIONS <= 64, "struct options' given has a bit per option");

/* Does the space-separated list take this command? */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

static void usage_error(struct argp_state *state, const char *msg)
{
	const struct options *o = state->input;

	fprintf(stderr, "tcpscope: %s\n", msg);
	fprintf(stderr, "Try 'tcpscope %s%s--help' for more information.\n",
		o->command ? o->command->name : "", o->command ? " " : "");
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
		if (!ret && (o->interval_ns < NSEC_PER_SEC / 10 || o->interval_ns > 3600 * NSEC_PER_SEC)) {
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
		if (!ret && (o->window_ns < NSEC_PER_SEC || o->window_ns > 86400 * NSEC_PER_SEC)) {
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
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (key != ARGP_KEY_ARG && option_table[i].o.key == key)
			o->given |= 1ULL << i;
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

/* The command named on the line, looked for before parsing so that its
 * --help can list its own options: the first word that is not an option
 * nor an option's value. */
static const struct command *command_named(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		const struct argp_option *a = NULL;

		if (w[0] != '-')
			return command_find(w);
		for (size_t k = 0; k < N_OPTIONS && !a; k++) {
			const struct argp_option *c = &option_table[k].o;

			if (c->arg && ((w[1] != '-' && w[1] == c->key && !w[2]) ||
				       (w[1] == '-' && c->name && !strcmp(w + 2, c->name))))
				a = c;
		}
		i += a != NULL; /* skip the value of "-o FILE", "--save FILE" */
	}
	return NULL;
}

int options_parse(int argc, char **argv, struct options *o)
{
	const struct command *named = command_named(argc, argv);
	struct argp_option shown[N_OPTIONS + 1];
	struct argp argp = {
		.options = shown,
		.parser = parse_opt,
		.args_doc = "COMMAND [OPTION...]\nreport FILE [OPTION...]",
		.doc = doc,
	};
	const char *why, *cmd;
	size_t n = 0;

	/* Help shows the named command's options, or none but --help and
	 * --version without a command; a group's title only with an option
	 * shown (a title is not needed to parse). */
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct option_for *f = &option_table[i];
		bool any = false;

		if (f->commands) {
			shown[n] = f->o;
			if (!named || !listed(f->commands, named->name))
				shown[n].flags |= OPTION_HIDDEN;
			n++;
			continue;
		}
		for (size_t k = i + 1; k < N_OPTIONS && option_table[k].commands; k++)
			any |= named && listed(option_table[k].commands, named->name);
		if (any)
			shown[n++] = f->o;
	}
	shown[n] = (struct argp_option){ 0 };
	if (named) {
		argp.args_doc = named->args;
		argp.doc = named->doc;
	}

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
	cmd = o->command->name;
	why = misplaced(o);
	if (why) {
		fprintf(stderr, "tcpscope: %s\n", why);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < N_OPTIONS; i++)
		if ((o->given >> i & 1) && !listed(option_table[i].commands, cmd)) {
			fprintf(stderr, "tcpscope: --%s is not an option of %s ('tcpscope %s --help' "
					"lists its options)\n", option_table[i].o.name, cmd, cmd);
			return EXIT_USAGE;
		}
	return 0;
}
