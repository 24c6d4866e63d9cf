/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The command line: every option of every command in one struct, parsed by
 * argp (options.c). Options a command would silently ignore are refused
 * there, with the one line that says what to use instead.
 */
#ifndef OPTIONS_H
#define OPTIONS_H
#include <stdbool.h>
#include <stdint.h>
#include "filter.h"
#include "sink.h"

/* Exit status. 1 is a runtime error (loading failed, the output could not
 * be written); 2 a usage or setup error. diagnose and report say "warnings
 * found" with 1, so whatever keeps them from giving a diagnosis (usage,
 * setup, the run, writing it) is 2. */
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_WARNINGS 1
#define EXIT_NO_DIAGNOSIS 2

#define TCPSCOPE_VERSION "0.1"

struct command;

struct options {
	const struct command *command;
	const char *input; /* report: the trace file */
	const char *save;  /* diagnose: also write the JSON trace here */
	uint64_t duration_ns;
	uint64_t interval_ns; /* top: refresh; serve --textfile: rewrite */
	struct filter filter;
	enum sink_format format;
	const char *output;
	bool wide, no_header, no_fentry, no_kprobe, no_state_tp, no_census;
	uint64_t ringbuf_bytes;
	uint32_t max_sockets;
	unsigned scan_warn;
	int verbose;
	/* serve */
	const char *listen_address; /* --web.listen-address ADDR:PORT */
	const char *telemetry_path; /* --web.telemetry-path */
	const char *textfile_dir;   /* --textfile DIR */
	unsigned top_comms, top_dests, max_series;
	uint64_t window_ns; /* --window: what counter findings count over */
	uint64_t given;	    /* bit i: the i-th entry of options.c's table was given */
};

/* Parse argv into o (defaults first); 0, or EXIT_USAGE after a one-line
 * message on stderr. */
int options_parse(int argc, char **argv, struct options *o);

#endif
