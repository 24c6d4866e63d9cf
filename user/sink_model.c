// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The model sink: every record of the run goes to the diagnosis tracker
 * (model.c) instead of a file. diagnose uses it live, report behind the
 * trace file reader: the same calls, so the same findings. */
#include <string.h>
#include "model.h"
#include "sink.h"

static int into_model_event(struct sink *s, const struct ev_hdr *h)
{
	model_event(s->model, h);
	return 0;
}

static int into_model_lost(struct sink *s, uint64_t ts_ns, const char *reason, uint64_t count)
{
	model_lost(s->model, ts_ns, reason, count);
	return 0;
}

static int into_model_census(struct sink *s, uint64_t ts_ns, const struct census_sock *cs)
{
	model_census(s->model, ts_ns, cs);
	return 0;
}

static int into_model_resync(struct sink *s, uint64_t ts_ns, uint32_t netns, uint64_t count)
{
	model_resync_begin(s->model, ts_ns, netns, count);
	return 0;
}

static int into_model_nsinfo(struct sink *s, uint64_t ts_ns, const char *phase, const struct nsinfo *ns)
{
	model_nsinfo(s->model, ts_ns, !strcmp(phase, "end"), ns);
	return 0;
}

static int into_model_run(struct sink *s, const struct run_info *ri)
{
	model_run(s->model, ri);
	return 0;
}

const struct sink_ops sink_model_ops = {
	.event = into_model_event,
	.lost = into_model_lost,
	.census = into_model_census,
	.resync = into_model_resync,
	.nsinfo = into_model_nsinfo,
	.run = into_model_run,
};

void sink_attach_model(struct sink *s, struct model *m)
{
	memset(s, 0, sizeof(*s));
	s->ops = &sink_model_ops;
	s->model = m;
}
