/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The Prometheus exposition of a live model (serve): the text format 0.0.4,
 * or OpenMetrics 1.0 when the scraper asks for it. Everything is computed at
 * the scrape from the model, the event counters and the findings; nothing
 * is formatted per event.
 *
 * Cardinality is bounded by design: no pid, no client port, no 4-tuple as a
 * label; process names and destinations are kept for the busiest max_comms
 * / max_dests, the rest folded into one "other" series and counted
 * (tcpscope_series_folded); at most max_series samples in one scrape, the
 * rest dropped and counted (tcpscope_series_dropped).
 */
#ifndef METRICS_H
#define METRICS_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "counters.h"
#include "findings.h"
#include "ladder.h"
#include "model.h"
#include "tracker.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_OM_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

struct metrics_input {
	const struct model *m;
	const struct counters *c;
	const struct findings *fs; /* those that hold now */
	const struct findings *fs_prev; /* those of the previous window (NULL: none) */
	const struct tracker *t;   /* events seen and lost */
	const struct ladder *lad;  /* the tier of each fact */
	const char *version, *kernel;
	unsigned max_comms, max_dests, max_series;
	double window_s;      /* what the findings count over (resets, overflows, ...) */
	uint64_t self_checks; /* censuses compared with the model so far */
	uint64_t drift;	      /* sockets the latest self-check found the model wrong about */
	uint64_t scrapes;
	double last_scrape_s; /* how long the previous scrape took */
};

struct metrics_stats {
	unsigned series;  /* samples written */
	uint64_t dropped; /* samples beyond max_series */
};

/* The whole exposition into f; the same numbers twice give the same text */
void metrics_write(FILE *f, const struct metrics_input *in, bool openmetrics,
		   struct metrics_stats *st);
/* Append a label value to buf: escaped for the format (\\, \", \n), and
 * valid UTF-8 (a byte that is not is written as '?'); at most len - 1. */
void metrics_label_value(char *buf, size_t len, const char *v);

#endif
