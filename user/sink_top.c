// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The top sink: every record into the dashboard's rings (top_view.c), after
 * the model sink in the chain has taken it into the tracker's picture. */
#include <string.h>
#include "sink.h"
#include "top_view.h"

static int top_begin(struct sink *s)
{
	return 0;
}

static int top_event(struct sink *s, const struct ev_hdr *h)
{
	top_view_event(s->view, h);
	return 0;
}

static int top_lost(struct sink *s, uint64_t ts_ns, const char *reason, uint64_t count)
{
	return 0; /* the model counts them; the header shows them */
}

const struct sink_ops sink_top_ops = {
	.begin = top_begin,
	.event = top_event,
	.lost = top_lost,
};

void sink_attach_top(struct sink *s, struct top_view *v)
{
	memset(s, 0, sizeof(*s));
	s->ops = &sink_top_ops;
	s->view = v;
}
