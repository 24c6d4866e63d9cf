/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small JSON writer for the output that is not per event (the diagnosis,
 * hooks): it places the commas and escapes every string and key as the
 * per-event writer does (p_json_str). A key is NULL inside an array and at
 * the top. The per-event records keep their own faster writer (sink_json.c).
 */
#ifndef JSON_WRITER_H
#define JSON_WRITER_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 16

struct jw {
	FILE *f;
	int depth;
	bool comma[JW_MAX_DEPTH]; /* a value was written at this depth */
};

void jw_init(struct jw *w, FILE *f);
void jw_object(struct jw *w, const char *key); /* { */
void jw_array(struct jw *w, const char *key);  /* [ */
void jw_end_object(struct jw *w);	       /* } */
void jw_end_array(struct jw *w);	       /* ] */
/* a string; NULL writes null */
void jw_string(struct jw *w, const char *key, const char *v);
void jw_uint(struct jw *w, const char *key, uint64_t v);
void jw_int(struct jw *w, const char *key, int64_t v);
/* a number printed with fmt ("%.3f") */
void jw_double(struct jw *w, const char *key, const char *fmt, double v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_null(struct jw *w, const char *key);
/* a value already in JSON (a number formatted elsewhere) */
void jw_raw(struct jw *w, const char *key, const char *json);

#endif
