/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `tcpscope top`: the pipeline's model sink and top sink (main.c wires
 * them), and what runs between two polls of the ring buffer: keys, and once
 * per interval the listeners' accept queues (a listeners-only census), the
 * view's update and a redraw. Namespace sysctls are read again every
 * TOP_NSINFO_NS (a port range widened during the incident shows).
 */
#ifndef TOP_H
#define TOP_H
#include <stdbool.h>
#include <stdint.h>
#include "filter.h"
#include "fmt.h"
#include "model.h"
#include "sink.h"
#include "top_ui.h"
#include "top_view.h"

#define TOP_NSINFO_NS (10ULL * NSEC_PER_SEC)

struct ladder;

struct top_run {
	struct model model;
	struct top_view view;
	struct top_ui ui;
	struct sink top_sink; /* after the model sink in the chain: the rings */
	const struct filter *filter;	  /* the command line's (in the kernel) */
	char filter_text[256];
	uint64_t next_update_ns, next_nsinfo_ns;
	char host[128], kernel[128];
};

/* NULL when out of memory; head becomes the pipeline's sink: the model,
 * chained to the rings */
struct top_run *top_run_new(const struct filter *f, uint64_t interval_ns, unsigned scan_warn,
			    struct sink *head);
void top_run_free(struct top_run *t);
/* Between two polls: 0 go on, 1 quit (q), -1 failed with a message in err
 * (the terminal is given back first). The first call takes the terminal. */
int top_tick(struct top_run *t, uint64_t now_ns, const struct ladder *l, char *err,
	     size_t errlen);
/* Give the terminal back (every exit path); safe twice. */
void top_end(struct top_run *t);

#endif
