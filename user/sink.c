// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fmt.h"
#include "gzfile.h"
#include "sink.h"

int sink_format_parse(const char *s, enum sink_format *fmt)
{
	if (!strcmp(s, "text"))
		*fmt = FMT_TEXT;
	else if (!strcmp(s, "json") || !strcmp(s, "jsonl"))
		*fmt = FMT_JSON;
	else if (!strcmp(s, "csv"))
		*fmt = FMT_CSV;
	else
		return -1;
	return 0;
}

int sink_attach(struct sink *s, enum sink_format fmt, FILE *f)
{
	static const struct sink_ops *ops[] = { &sink_text_ops, &sink_json_ops, &sink_csv_ops };

	s->ops = ops[fmt];
	s->f = f;
	s->time_sec = -1;
	s->ob = calloc(1, sizeof(*s->ob));
	if (!s->ob)
		return -1;
	s->ob->f = f;
	if (fmt == FMT_TEXT) {
		s->pressure = malloc(sizeof(*s->pressure));
		if (!s->pressure)
			return -1;
		pressure_init(s->pressure, PRESSURE_SCAN_WARN);
	}
	return 0;
}

FILE *output_open(const char *path, const char *flag, char *err, size_t errlen)
{
	FILE *f;

	if (!path || !strcmp(path, "-"))
		return stdout;
	f = gz_wanted(path) ? gz_fopen_write(path) : fopen(path, "w");
	if (!f)
		snprintf(err, errlen, "cannot write %s: %s (-%s); pick a writable path for %s", path,
			 strerror(errno), fmt_errno(errno), flag);
	return f;
}

int sink_open(struct sink *s, enum sink_format fmt, const char *path, const char *flag, char *err,
	      size_t errlen)
{
	FILE *f = output_open(path, flag, err, errlen);

	if (!f)
		return -1;
	s->path = f == stdout ? NULL : path;
	if (sink_attach(s, fmt, f)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->clock_offset = clock_offset_now();
	s->flush_each = isatty(fileno(f));
	/* Big buffer: one write per many events, not one per line. */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	return 0;
}

static int flush_one(struct sink *s)
{
	if (!s->f) /* the model sink: nothing buffered */
		return 0;
	if (ob_flush(s->ob)) {
		errno = s->ob->failed;
		return -1;
	}
	return fflush(s->f) == 0 && !ferror(s->f) ? 0 : -1;
}

int sink_flush(struct sink *s)
{
	for (; s; s = s->next)
		if (flush_one(s))
			return -1;
	return 0;
}

/* The records go to every sink of the chain that has a method for them. */
#define EACH_SINK(s, op, ...)                                                                 \
	do {                                                                                  \
		for (; s; s = s->next)                                                        \
			if (s->ops->op && s->ops->op(s, __VA_ARGS__))                         \
				return -1;                                                    \
		return 0;                                                                     \
	} while (0)

int sink_event(struct sink *s, const struct ev_hdr *h)
{
	EACH_SINK(s, event, h);
}

int sink_lost(struct sink *s, uint64_t ts_ns, const char *reason, uint64_t count)
{
	EACH_SINK(s, lost, ts_ns, reason, count);
}

int sink_census(struct sink *s, uint64_t ts_ns, const struct census_sock *cs)
{
	EACH_SINK(s, census, ts_ns, cs);
}

int sink_resync(struct sink *s, uint64_t ts_ns, uint32_t netns, uint64_t count)
{
	EACH_SINK(s, resync, ts_ns, netns, count);
}

int sink_nsinfo(struct sink *s, uint64_t ts_ns, const char *phase, const struct nsinfo *ns)
{
	EACH_SINK(s, nsinfo, ts_ns, phase, ns);
}

int sink_run(struct sink *s, const struct run_info *ri)
{
	EACH_SINK(s, run, ri);
}

int sink_begin(struct sink *s)
{
	for (; s; s = s->next)
		if (s->ops->begin && s->ops->begin(s))
			return -1;
	return 0;
}

int sink_close(struct sink *s, char *err, size_t errlen)
{
	int ret = 0;

	if (flush_one(s)) {
		snprintf(err, errlen, "writing %s failed: %s", s->path ? s->path : "standard output",
			 strerror(errno));
		ret = -1;
	}
	if (s->path && fclose(s->f) && !ret) {
		snprintf(err, errlen, "closing %s failed: %s", s->path, strerror(errno));
		ret = -1;
	}
	s->f = NULL;
	free(s->ob);
	s->ob = NULL;
	free(s->pressure);
	s->pressure = NULL;
	return ret;
}
