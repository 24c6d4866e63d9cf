// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The commands (commands.h): each picks the sinks of the pipeline. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "fmt.h"
#include "diagnosis.h"
#include "findings.h"
#include "loader.h"
#include "model.h"
#include "pipeline.h"
#include "replay.h"
#include "sink.h"
#include "top.h"

#define DIAGNOSE_DEFAULT_NS (10ULL * NSEC_PER_SEC)
#define TOP_INTERVAL_NS (NSEC_PER_SEC)

static int cmd_trace(struct options *o)
{
	struct pipeline p = { .doing = "tracing" };
	char err[512];

	/* the census and namespace records belong to a JSON export; the
	 * namespaces' context is whole-host, not for a filtered trace */
	p.want_census = o->format == FMT_JSON && !o->no_census;
	p.want_nsinfo = p.want_census && !filter_active(&o->filter);
	/* Output problems surface before anything is loaded. */
	if (sink_open(&p.sink, o->format, o->output, "-o", err, sizeof(err))) {
		fprintf(stderr, "tcpscope: %s\n", err);
		return EXIT_USAGE;
	}
	p.sink.wide = o->wide;
	p.sink.no_header = o->no_header;
	if (p.sink.pressure && o->scan_warn)
		p.sink.pressure->scan_warn = o->scan_warn;
	return pipeline_run(o, &p);
}

/* Print the diagnosis of a model to out (opened by the caller before any
 * work, closed here); the exit status. */
static int print_diagnosis(const struct options *o, const struct model *m, FILE *out)
{
	struct findings fs;
	int ret;

	if (findings_compute(m, &fs)) {
		fprintf(stderr, "tcpscope: out of memory computing the findings\n");
		findings_free(&fs);
		if (out != stdout)
			fclose(out);
		return EXIT_NO_DIAGNOSIS;
	}
	if (o->format == FMT_JSON)
		diagnosis_print_json(m, &fs, out);
	else
		diagnosis_print_text(m, &fs, out);
	ret = fs.warnings ? EXIT_WARNINGS : 0;
	if (fflush(out) || ferror(out) || (out != stdout && fclose(out))) {
		fprintf(stderr, "tcpscope: writing the diagnosis failed: %s\n", strerror(errno));
		ret = EXIT_NO_DIAGNOSIS;
	}
	findings_free(&fs);
	return ret;
}

/* The end of diagnose and report: the diagnosis of the model when the
 * run (or the reading) succeeded, else exit 2 (1 means warnings here). out
 * is closed and the model freed either way. */
static int diagnosis_end(const struct options *o, struct model *m, FILE *out, bool ok)
{
	int ret = EXIT_NO_DIAGNOSIS;

	if (ok)
		ret = print_diagnosis(o, m, out);
	else if (out != stdout)
		fclose(out);
	model_free(m);
	return ret;
}

/* tcpscope diagnose: the same run as trace, into the model; then the verdict. */
static int cmd_diagnose(struct options *o)
{
	struct pipeline p = { .doing = "diagnosing" };
	struct model m;
	char err[512];
	FILE *out;

	if (o->format == FMT_CSV) {
		fprintf(stderr, "tcpscope: diagnose prints text or json: use -F text or -F json\n");
		return EXIT_USAGE;
	}
	if (!o->duration_ns)
		o->duration_ns = DIAGNOSE_DEFAULT_NS;
	p.want_census = !o->no_census;
	p.want_nsinfo = true; /* sysctls and counters the findings need, census or not */
	/* Output problems surface before anything is loaded. */
	out = output_open(o->output, "-o", err, sizeof(err));
	if (!out || (o->save && sink_open(&p.save, FMT_JSON, o->save, "--save", err, sizeof(err)))) {
		fprintf(stderr, "tcpscope: %s\n", err);
		return EXIT_USAGE;
	}
	model_init(&m);
	sink_attach_model(&p.sink, &m);
	if (o->save) {
		p.sink.next = &p.save;
		p.save_path = o->save;
	}
	/* the self-check needs the whole picture: the start census, no filter */
	if (p.want_census && !filter_active(&o->filter))
		p.check = &m;
	return diagnosis_end(o, &m, out, pipeline_run(o, &p) == 0);
}

static int top_mode_tick(void *ctx, uint64_t now, const struct ladder *l, char *err, size_t len)
{
	return top_tick(ctx, now, l, err, len);
}

static void top_mode_end(void *ctx)
{
	top_end(ctx);
}

/* tcpscope top: the model and the dashboard's rings as the sinks; between
 * polls, keys and the display. */
static int cmd_top(struct options *o)
{
	struct pipeline p = { .doing = "watching" };
	/* keys are read between polls, and nothing is said on stderr meanwhile */
	struct pipeline_mode mode = {
		.tick = top_mode_tick, .end = top_mode_end, .poll_ms = 50, .wake_fd = -1, .quiet = true,
	};
	struct top_run *top;
	char err[512];
	int ret;

	if (top_ui_check(err, sizeof(err))) {
		fprintf(stderr, "tcpscope: %s\n", err);
		return EXIT_USAGE;
	}
	top = top_run_new(&o->filter, o->interval_ns ? o->interval_ns : TOP_INTERVAL_NS,
			  o->scan_warn, &p.sink);
	if (!top) {
		fprintf(stderr, "tcpscope: out of memory\n");
		return EXIT_RUNTIME;
	}
	p.want_census = !o->no_census;
	p.want_nsinfo = true; /* port ranges, for the share of the range in use */
	mode.ctx = top;
	p.mode = &mode;
	ret = pipeline_run(o, &p);
	top_run_free(top);
	return ret;
}

/* tcpscope report FILE: the diagnosis of a recorded trace; no root, no BPF. */
static int cmd_report(struct options *o)
{
	struct model m;
	struct sink s;
	char err[512];
	FILE *out;
	bool ok;

	if (o->format == FMT_CSV) {
		fprintf(stderr, "tcpscope: report prints text or json: use -F text or -F json\n");
		return EXIT_USAGE;
	}
	out = output_open(o->output, "-o", err, sizeof(err));
	if (!out) {
		fprintf(stderr, "tcpscope: %s\n", err);
		return EXIT_USAGE;
	}
	model_init(&m);
	sink_attach_model(&s, &m);
	ok = !replay_file(o->input, &s, err, sizeof(err));
	if (!ok)
		fprintf(stderr, "tcpscope: %s\n", err);
	return diagnosis_end(o, &m, out, ok);
}

static int discard(void *ctx, void *data, size_t len)
{
	return 0;
}

/* tcpscope hooks: load and attach exactly what trace would, then tell. */
static int cmd_hooks(struct options *o)
{
	struct loader_opts lo = pipeline_loader_opts(o, discard, NULL);
	struct loader *l;
	char err[512];

	if (o->format == FMT_CSV) {
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
		return EXIT_RUNTIME;
	}
	if (o->format == FMT_JSON)
		ladder_print_json(loader_ladder(l), stdout);
	else
		ladder_print_text(loader_ladder(l), stdout);
	loader_stop(l);
	return fflush(stdout) || ferror(stdout) ? EXIT_RUNTIME : 0;
}


#define EXIT_DOC "Exit status: 0 ok, 1 runtime error, 2 usage or setup error."
#define DIAGNOSIS_EXIT_DOC "Exit status: 0 healthy, 1 warnings found, 2 no diagnosis "

static const struct command commands[] = {
	{ .name = "trace", .run = cmd_trace, .args = "trace",
	  .doc = "Stream every TCP state transition, TIME_WAIT entry and end, ephemeral port "
		 "allocation and connect()/bind() result, with the process that owns it.\v"
		 "EXAMPLES:\n"
		 "  tcpscope trace                      # everything, text\n"
		 "  tcpscope trace --state close-wait   # transitions into/out of CLOSE_WAIT\n"
		 "  tcpscope trace -p 1234 -D 5432      # one process, one remote port\n"
		 "  tcpscope trace -P                   # port allocations only\n"
		 "  tcpscope trace -d 5m -F json -o t.jsonl.gz   # a trace for report\n"
		 EXIT_DOC },
	{ .name = "diagnose", .run = cmd_diagnose, .args = "diagnose",
	  .doc = "Watch for a while (-d, default 10s; Ctrl-C ends early), then say what is wrong: "
		 "CLOSE_WAIT leaks, ephemeral ports near exhaustion, FIN_WAIT2, listen backlog "
		 "overflow, resets, with the numbers and the fix.\v"
		 "EXAMPLES:\n"
		 "  tcpscope diagnose -d 30s\n"
		 "  tcpscope diagnose -d 1m -F json --save run.jsonl.gz\n"
		 DIAGNOSIS_EXIT_DOC "(usage or setup error, the run or the output failed)." },
	{ .name = "top", .run = cmd_top, .args = "top",
	  .doc = "A live dashboard in the terminal: sockets per state and their trend, CLOSE_WAIT "
		 "by process, ports by destination, listeners' accept queues, notable events "
		 "(h inside for the keys, q quits).\v"
		 "EXAMPLES:\n"
		 "  tcpscope top\n"
		 "  tcpscope top -i 2s --state close-wait,time-wait\n"
		 EXIT_DOC },
	{ .name = "report", .run = cmd_report, .takes_file = true, .args = "report FILE",
	  .doc = "The diagnosis of a trace file recorded with 'tcpscope trace -F json -o FILE' "
		 "(or diagnose --save); FILE.gz is read compressed. Needs neither root nor BPF.\v"
		 "EXAMPLES:\n"
		 "  tcpscope report t.jsonl.gz\n"
		 DIAGNOSIS_EXIT_DOC "(usage error, unreadable trace, the output failed)." },
	{ .name = "hooks", .run = cmd_hooks, .args = "hooks",
	  .doc = "Load and attach what trace would, then say which kernel mechanism observes each "
		 "fact on this kernel, what failed, what it costs and what is therefore unknown.\v"
		 "EXAMPLES:\n"
		 "  tcpscope hooks\n"
		 "  tcpscope hooks -F json --no-fentry\n"
		 EXIT_DOC },
	{ .name = "serve", .run = cmd_serve, .args = "serve",
	  .doc = "The diagnosis as Prometheus metrics over HTTP (default " SERVE_DEFAULT_LISTEN
		 "/metrics), or --textfile DIR for node_exporter; runs until SIGTERM or SIGINT.\v"
		 "EXAMPLES:\n"
		 "  tcpscope serve --web.listen-address=0.0.0.0:19977\n"
		 "  tcpscope serve --textfile /var/lib/prometheus/node-exporter -i 30s\n"
		 EXIT_DOC },
};

const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

const char *command_names(void)
{
	return "trace, diagnose, top, report, hooks or serve";
}
