// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include "census.h"
#include "fmt.h"
#include "pipeline.h"
#include "top.h"

struct top_run *top_run_new(const struct filter *f, uint64_t interval_ns, unsigned scan_warn,
			    struct sink *head)
{
	struct top_run *t = calloc(1, sizeof(*t));
	struct utsname u = {};

	if (!t)
		return NULL;
	model_init(&t->model);
	top_view_init(&t->view, NULL, scan_warn);
	sink_attach_model(head, &t->model);
	sink_attach_top(&t->top_sink, &t->view);
	head->next = &t->top_sink;
	t->filter = f;
	filter_describe(f, t->filter_text, sizeof(t->filter_text));
	uname(&u);
	snprintf(t->host, sizeof(t->host), "%s", u.nodename);
	snprintf(t->kernel, sizeof(t->kernel), "%s", u.release);
	t->ui.host = t->host;
	t->ui.kernel = t->kernel;
	t->ui.kernel_filter = t->filter_text;
	t->ui.interval_ns = interval_ns;
	t->ui.clock_offset = clock_offset_now();
	return t;
}

void top_run_free(struct top_run *t)
{
	if (!t)
		return;
	top_end(t);
	top_view_free(&t->view);
	model_free(&t->model);
	free(t);
}

void top_end(struct top_run *t)
{
	top_ui_end(&t->ui);
}

/* The listeners' accept queues now: the only numbers events do not move */
static void refresh_listeners(struct top_run *t)
{
	struct census c;
	char err[256];

	if (census_take_listeners(&c, err, sizeof(err)))
		return; /* the rows keep their last queue; nothing to say on a live screen */
	for (size_t i = 0; i < c.n; i++)
		if (filter_match_census(t->filter, &c.s[i]))
			model_listen_queue(&t->model, &c.s[i]);
	census_free(&c);
}

int top_tick(struct top_run *t, uint64_t now, const struct ladder *l, char *err, size_t errlen)
{
	struct top_sel sel;
	int keys, redraw = 0;

	if (!t->ui.started) {
		t->view.ladder = l;
		if (top_ui_start(&t->ui, err, errlen))
			return -1;
		t->next_update_ns = 0;
		t->next_nsinfo_ns = now + TOP_NSINFO_NS;
	}
	keys = top_ui_keys(&t->ui, &t->view, &sel, now);
	if (keys & UI_QUIT)
		return 1;
	if (keys & UI_SELECT)
		top_view_select(&t->view, &t->model, &sel);
	if (keys & UI_UNSELECT)
		top_view_select(&t->view, &t->model, NULL);
	if (now >= t->next_update_ns || (keys & UI_UPDATE)) {
		if (!t->view.paused) {
			refresh_listeners(t);
			if (now >= t->next_nsinfo_ns) {
				pipeline_refresh_nsinfo(&t->model);
				t->next_nsinfo_ns = now + TOP_NSINFO_NS;
			}
		}
		bool interval = now >= t->next_update_ns;

		top_view_update(&t->view, &t->model, now, interval);
		if (interval)
			t->next_update_ns = now + t->ui.interval_ns;
		redraw = 1;
	}
	if (redraw || keys)
		top_ui_draw(&t->ui, &t->view, now);
	return 0;
}
