/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Sinks: the last stage of the pipeline. Every mode is a choice of sinks.
 * Each method returns 0, or -1 when the output failed (its errno is kept). */
#ifndef SINK_H
#define SINK_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "tcpscope.h"
#include "outbuf.h"
#include "pressure.h"
#include "census.h"
#include "nsinfo.h"

enum sink_format { FMT_TEXT, FMT_JSON, FMT_CSV };

struct sink;
struct model;
struct top_view;
struct counters;

/* The start or the end of a run: what a reader of the trace needs to know
 * about the host and the hooks (JSON type "run") */
struct run_info {
	uint64_t ts_ns;
	bool end;
	const char *host, *kernel;
	const char *blind; /* ladder_blind_spots(), "" when none */
	/* end: the self-check, when measured: sockets per state in the model
	 * minus in a census taken at the end (0 everywhere: they agree) */
	bool drift_measured;
	int64_t drift[TS_STATE_MAX];
};

struct sink_ops {
	int (*begin)(struct sink *s); /* NULL: nothing to write first */
	int (*event)(struct sink *s, const struct ev_hdr *h);
	/* count events lost for reason since the previous report */
	int (*lost)(struct sink *s, uint64_t ts_ns, const char *reason, uint64_t count); /* NULL: none */
	/* one socket of the census taken at start (NULL: the format has none) */
	int (*census)(struct sink *s, uint64_t ts_ns, const struct census_sock *cs);
	/* a self-check found a namespace's sockets other than the model had:
	 * the next count census records are its sockets now, to resync to
	 * (NULL: the format has none) */
	int (*resync)(struct sink *s, uint64_t ts_ns, uint32_t netns, uint64_t count);
	/* a namespace's sysctls and counters, phase "start" or "end" (NULL: none) */
	int (*nsinfo)(struct sink *s, uint64_t ts_ns, const char *phase, const struct nsinfo *ns);
	/* the run starts or ends (NULL: the format does not record it) */
	int (*run)(struct sink *s, const struct run_info *ri);
};

struct sink {
	const struct sink_ops *ops;
	FILE *f;
	const char *path; /* NULL: stdout */
	bool wide;
	bool no_header;
	bool flush_each; /* a terminal: show lines as they come */
	int64_t clock_offset; /* realtime - monotonic */
	struct outbuf *ob;    /* hot-path writer, on top of f */
	struct pressure *pressure; /* text: exhaustion early warning per destination */
	int64_t time_sec;     /* second the cached RFC 3339 prefix is for */
	char time_prefix[24]; /* "2026-11-23T13:06:02." */
	struct model *model;  /* the model sink: the diagnosis tracker */
	struct top_view *view; /* the top sink: the dashboard's rings */
	struct counters *counters; /* the counters sink (serve) */
	struct sink *next;    /* another sink fed the same records (diagnose --save) */
};

extern const struct sink_ops sink_text_ops, sink_json_ops, sink_csv_ops, sink_model_ops,
	sink_top_ops, sink_counters_ops;

/* A sink that feeds the model (diagnose, report) instead of a file. */
void sink_attach_model(struct sink *s, struct model *m);
/* A sink that records into top's rings (after a model sink in the chain). */
void sink_attach_top(struct sink *s, struct top_view *v);

/* Parse "text", "json", "csv" (-F). */
int sink_format_parse(const char *s, enum sink_format *fmt);
/* Open path for writing (stdout when NULL or "-"; gzip when it ends in
 * .gz); NULL with a message naming the option (flag) in err. */
FILE *output_open(const char *path, const char *flag, char *err, size_t errlen);
/* Open path (as output_open) for a sink; fails early with a message in err
 * so that nothing gets loaded when the output is unusable. */
int sink_open(struct sink *s, enum sink_format fmt, const char *path, const char *flag, char *err,
	      size_t errlen);
/* Attach an already open stream (sink_open does this too). */
int sink_attach(struct sink *s, enum sink_format fmt, FILE *f);
/* A record to every sink of the chain (s, s->next, ...) whose format has
 * it; -1 when one failed (its errno is kept). */
int sink_begin(struct sink *s);
int sink_event(struct sink *s, const struct ev_hdr *h);
int sink_lost(struct sink *s, uint64_t ts_ns, const char *reason, uint64_t count);
int sink_census(struct sink *s, uint64_t ts_ns, const struct census_sock *cs);
int sink_resync(struct sink *s, uint64_t ts_ns, uint32_t netns, uint64_t count);
int sink_nsinfo(struct sink *s, uint64_t ts_ns, const char *phase, const struct nsinfo *ns);
int sink_run(struct sink *s, const struct run_info *ri);
/* Flush every sink of the chain. */
int sink_flush(struct sink *s);
/* Flush and close this sink; -1 if anything written was lost. */
int sink_close(struct sink *s, char *err, size_t errlen);

#endif
