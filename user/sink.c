// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "fmt.h"
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

int sink_open(struct sink *s, enum sink_format fmt, const char *path, char *err, size_t errlen)
{
	static const struct sink_ops *ops[] = { &sink_text_ops, &sink_json_ops, &sink_csv_ops };

	s->ops = ops[fmt];
	s->clock_offset = clock_offset_now();
	if (!path || !strcmp(path, "-")) {
		s->f = stdout;
		s->path = NULL;
	} else {
		s->f = fopen(path, "w");
		if (!s->f) {
			snprintf(err, errlen, "cannot write %s: %s (-%s); pick a writable path for -o",
				 path, strerror(errno), fmt_errno(errno));
			return -1;
		}
		s->path = path;
	}
	s->flush_each = isatty(fileno(s->f));
	/* Big buffer: one write per many events, not one per line. */
	setvbuf(s->f, NULL, _IOFBF, 1 << 16);
	return 0;
}

int sink_flush(struct sink *s)
{
	return fflush(s->f) == 0 && !ferror(s->f) ? 0 : -1;
}

int sink_close(struct sink *s, char *err, size_t errlen)
{
	int ret = 0;

	if (fflush(s->f) || ferror(s->f)) {
		snprintf(err, errlen, "writing %s failed: %s", s->path ? s->path : "standard output",
			 strerror(errno));
		ret = -1;
	}
	if (s->path && fclose(s->f) && !ret) {
		snprintf(err, errlen, "closing %s failed: %s", s->path, strerror(errno));
		ret = -1;
	}
	s->f = NULL;
	return ret;
}
