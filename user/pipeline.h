/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The engine every live command runs:
 *   loader (BPF, ring buffer) -> decode -> tracker -> sinks
 * It loads and attaches, writes what the sinks need in order (run start,
 * namespaces, census, events and losses, namespaces, run end), polls until
 * -d, a signal or the mode says stop, accounts for every lost event, and
 * prints the closing summary. A command only chooses the sinks and, for a
 * mode that lives between polls (top, serve), its hooks.
 */
#ifndef PIPELINE_H
#define PIPELINE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "census.h"
#include "loader.h"
#include "model.h"
#include "options.h"
#include "sink.h"
#include "tracker.h"

/* What a mode does between two polls of the ring buffer */
struct pipeline_mode {
	/* 0 go on, 1 stop, -1 stop as failed (the reason in failed) */
	int (*tick)(void *ctx, uint64_t now_ns, const struct ladder *l, char *failed,
		    size_t len);
	void (*end)(void *ctx); /* the run ends (top: gives the terminal back) */
	void *ctx;
	int poll_ms;	  /* the longest wait between ticks (default 100) */
	int wake_fd;	  /* also wake when this fd is readable (serve's HTTP), or -1 */
	bool quiet;	  /* no warnings on stderr while running (top draws there) */
};

struct pipeline {
	/* chosen by the command */
	const char *doing;   /* "tracing", "diagnosing": the start line */
	struct sink sink;    /* the output of the mode; sink.next: diagnose --save */
	struct sink save;
	const char *save_path;
	bool want_census;    /* the sockets that exist at start */
	bool want_nsinfo;    /* sysctls and counters of every namespace, start and end */
	struct model *check; /* the model the end's self-check compares (and repairs) */
	const struct pipeline_mode *mode; /* NULL: just poll */

	/* the engine's */
	struct tracker tracker;
	struct loader *loader;
	const struct filter *filter; /* the options' (--netns is applied here) */
	int sink_errno;
	uint64_t last_warn_ns, last_check_ns, last_sync_ns;
};

/* Run until -d, a signal, or the mode stops it; the sinks are open and are
 * closed here. Returns the exit status. */
int pipeline_run(const struct options *o, struct pipeline *p);
/* What the loader needs from the options (hooks loads the same) */
struct loader_opts pipeline_loader_opts(const struct options *o,
					int (*on_record)(void *, void *, size_t), void *ctx);
/* The self-check: a census now, compared per namespace and state with the
 * model p->check; a namespace that differs is resynced from the census.
 * drift (may be NULL) gets model minus census per state. The resync goes
 * through the sinks (a saved trace records it). 0, -1 when no census could
 * be taken, -2 when writing the resync failed (p->sink_errno). */
int pipeline_self_check(struct pipeline *p, int64_t drift[TS_STATE_MAX]);
/* The namespaces' sysctls and counters now, into m as their latest
 * record (top and serve, every few seconds) */
void pipeline_refresh_nsinfo(struct model *m);

#endif
