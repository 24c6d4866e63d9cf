// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The top sink: every record into the dashboard's rings (top_view.c), after
 * the model sink in the chain has taken it into the tracker's picture (the
 * model counts the lost ones; the header shows them). */
#include <string.h>
#include "sink.h"
#include "top_view.h"

static int top_event(struct sink *s, const struct ev_hdr *h)
{
	top_view_event(s->view, h);
	return 0;
}

const struct sink_ops sink_top_ops = {
	.event = top_event,
};

void sink_attach_top(struct sink *s, struct top_view *v)
{
	memset(s, 0, sizeof(*s));
	s->ops = &sink_top_ops;
	s->view = v;
}
