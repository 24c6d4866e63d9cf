/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The fuzz targets' pipeline: every sink a mode can choose, chained as the
 * tool chains them (JSON, text, CSV to /dev/null; the model; top's rings),
 * and at the end what diagnose, report and top compute from the model. */
#ifndef FUZZ_CHAIN_H
#define FUZZ_CHAIN_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "diagnosis.h"
#include "findings.h"
#include "model.h"
#include "sink.h"
#include "top_view.h"

struct chain {
	struct sink json, text, csv, model, top;
	struct model m;
	struct top_view v;
	FILE *null;
};

static inline void chain_open(struct chain *c, bool all_formats)
{
	memset(c, 0, sizeof(*c));
	c->null = fopen("/dev/null", "w");
	if (!c->null)
		abort();
	model_init(&c->m);
	top_view_init(&c->v, NULL, 0);
	sink_attach_model(&c->model, &c->m);
	sink_attach_top(&c->top, &c->v);
	c->model.next = &c->top;
	if (all_formats) {
		if (sink_attach(&c->json, FMT_JSON, c->null) ||
		    sink_attach(&c->text, FMT_TEXT, c->null) ||
		    sink_attach(&c->csv, FMT_CSV, c->null))
			abort();
		c->text.wide = true;
		c->json.next = &c->text;
		c->text.next = &c->csv;
		c->csv.next = &c->model;
		sink_begin(&c->json);
	}
}

/* the first sink of the chain */
static inline struct sink *chain_head(struct chain *c, bool all_formats)
{
	return all_formats ? &c->json : &c->model;
}

/* What the modes do with the model at the end; then everything freed. */
static inline void chain_close(struct chain *c)
{
	struct findings fs;

	top_view_update(&c->v, &c->m, model_now(&c->m), true);
	top_view_select(&c->v, &c->m, NULL);
	if (findings_compute(&c->m, &fs) == 0) {
		diagnosis_print_text(&c->m, &fs, c->null);
		diagnosis_print_json(&c->m, &fs, c->null);
		findings_free(&fs);
	}
	top_view_free(&c->v);
	model_free(&c->m);
	if (c->json.ops) {
		char err[128];

		sink_close(&c->json, err, sizeof(err));
		sink_close(&c->text, err, sizeof(err));
		sink_close(&c->csv, err, sizeof(err));
	}
	fclose(c->null);
}
#endif
