// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The JSON writer of the output that is not per event (json_writer.h). */
#include <inttypes.h>
#include <string.h>
#include "json_writer.h"
#include "outbuf.h"

#define JW_STR_MAX 1024 /* the longest string written (escaped: x6) */

static void put_str(FILE *f, const char *s)
{
	char buf[2 + 6 * JW_STR_MAX];

	fwrite(buf, 1, (size_t)(p_json_str(buf, s, JW_STR_MAX) - buf), f);
}

/* the comma before a value, and its key */
static void member(struct jw *w, const char *key)
{
	if (w->comma[w->depth])
		fputc(',', w->f);
	w->comma[w->depth] = true;
	if (key) {
		put_str(w->f, key);
		fputc(':', w->f);
	}
}

void jw_init(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

static void open_container(struct jw *w, const char *key, char c)
{
	member(w, key);
	fputc(c, w->f);
	if (w->depth < JW_MAX_DEPTH - 1)
		w->comma[++w->depth] = false;
}

static void close_container(struct jw *w, char c)
{
	fputc(c, w->f);
	if (w->depth > 0)
		w->depth--;
}

void jw_object(struct jw *w, const char *key)
{
	open_container(w, key, '{');
}

void jw_array(struct jw *w, const char *key)
{
	open_container(w, key, '[');
}

void jw_end_object(struct jw *w)
{
	close_container(w, '}');
}

void jw_end_array(struct jw *w)
{
	close_container(w, ']');
}

void jw_string(struct jw *w, const char *key, const char *v)
{
	member(w, key);
	if (v)
		put_str(w->f, v);
	else
		fputs("null", w->f);
}

void jw_uint(struct jw *w, const char *key, uint64_t v)
{
	member(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

void jw_int(struct jw *w, const char *key, int64_t v)
{
	member(w, key);
	fprintf(w->f, "%" PRId64, v);
}

void jw_double(struct jw *w, const char *key, const char *fmt, double v)
{
	member(w, key);
	fprintf(w->f, fmt, v);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	member(w, key);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *key)
{
	member(w, key);
	fputs("null", w->f);
}

void jw_raw(struct jw *w, const char *key, const char *json)
{
	member(w, key);
	fputs(json, w->f);
}
