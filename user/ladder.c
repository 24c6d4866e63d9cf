// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <string.h>
#include <sys/utsname.h>
#include <linux/types.h>
#include "tcpscope.h"
#include "json_writer.h"
#include "ladder.h"
#include "outbuf.h"

static const char *const fact_names[FACT_MAX] = {
	[FACT_STATE] = "state transitions",
	[FACT_TW_ENTRY] = "TIME_WAIT entry",
	[FACT_TW_END] = "TIME_WAIT end and cause",
	[FACT_PORT] = "port allocation",
	[FACT_SCAN] = "scan length",
	[FACT_TW_REUSE] = "TIME_WAIT reuse",
	[FACT_LISTEN_OVF] = "listen overflow",
};

const char *fact_name(enum fact f)
{
	return f < FACT_MAX ? fact_names[f] : "?";
}

const char *via_name(int via)
{
	switch (via) {
	case VIA_TRACEPOINT:
		return "tracepoint";
	case VIA_KPROBE:
		return "kprobe";
	case VIA_FENTRY:
		return "fentry";
	default:
		return "none";
	}
}

void ladder_use(struct ladder *l, enum fact f, int via, const char *fmt, ...)
{
	va_list ap;

	l->f[f].via = via;
	va_start(ap, fmt);
	vsnprintf(l->f[f].mech, sizeof(l->f[f].mech), fmt, ap);
	va_end(ap);
}

void ladder_failed(struct ladder *l, enum fact f, int via, const char *why)
{
	struct fact_status *s = &l->f[f];
	const char *colon = strstr(why, ": ");
	size_t tier = strlen(via_name(via));

	if (s->nfailed >= LADDER_MAX_FAILED)
		return;
	/* "fentry: EPERM at load" -> "EPERM at load" */
	if (colon && (size_t)(colon - why) == tier && !strncmp(why, via_name(via), tier))
		why = colon + 2;
	s->failed[s->nfailed].via = via;
	snprintf(s->failed[s->nfailed].why, sizeof(s->failed[0].why), "%s", why);
	s->nfailed++;
}

void ladder_unknown(struct ladder *l, enum fact f, const char *fmt, ...)
{
	struct fact_status *s = &l->f[f];
	size_t n = strlen(s->unknown);
	va_list ap;

	if (n && n + 2 < sizeof(s->unknown)) {
		strcpy(s->unknown + n, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(s->unknown + n, sizeof(s->unknown) - n, fmt, ap);
	va_end(ap);
}

void ladder_cost(struct ladder *l, enum fact f, const char *cost)
{
	snprintf(l->f[f].cost, sizeof(l->f[f].cost), "%s", cost);
}

void ladder_print_text(const struct ladder *l, FILE *out)
{
	struct utsname u;

	if (!uname(&u))
		fprintf(out, "kernel %s\n\n", u.release);
	fprintf(out, "%-24s %-11s %s\n", "FACT", "VIA", "MECHANISM");
	for (int i = 0; i < FACT_MAX; i++) {
		const struct fact_status *s = &l->f[i];

		fprintf(out, "%-24s %-11s %s\n", fact_name(i), via_name(s->via),
			s->via ? s->mech : "-");
		for (int j = 0; j < s->nfailed; j++)
			fprintf(out, "%-24s   %s: %s\n", "", via_name(s->failed[j].via),
				s->failed[j].why);
		if (s->unknown[0])
			fprintf(out, "%-24s   unknown: %s\n", "", s->unknown);
		if (s->via && s->cost[0])
			fprintf(out, "%-24s   cost: %s\n", "", s->cost);
	}
}


void ladder_print_json(const struct ladder *l, FILE *out)
{
	struct utsname u;
	struct jw w;

	jw_init(&w, out);
	jw_object(&w, NULL);
	jw_string(&w, "kernel", uname(&u) ? "" : u.release);
	jw_array(&w, "facts");
	for (int i = 0; i < FACT_MAX; i++) {
		const struct fact_status *s = &l->f[i];

		jw_object(&w, NULL);
		jw_string(&w, "fact", fact_name(i));
		jw_string(&w, "via", via_name(s->via));
		jw_string(&w, "mechanism", s->via ? s->mech : NULL);
		jw_array(&w, "failed");
		for (int j = 0; j < s->nfailed; j++) {
			jw_object(&w, NULL);
			jw_string(&w, "via", via_name(s->failed[j].via));
			jw_string(&w, "why", s->failed[j].why);
			jw_end_object(&w);
		}
		jw_end_array(&w);
		jw_string(&w, "unknown", s->unknown[0] ? s->unknown : NULL);
		jw_string(&w, "cost", s->via && s->cost[0] ? s->cost : NULL);
		jw_end_object(&w);
	}
	jw_end_array(&w);
	jw_end_object(&w);
	fputc('\n', out);
}

void ladder_blind_spots(const struct ladder *l, bool names_only, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < FACT_MAX && n < len; i++) {
		const struct fact_status *s = &l->f[i];

		if (!s->unknown[0])
			continue;
		if (names_only)
			n += snprintf(buf + n, len - n, "%s%s", n ? ", " : "", fact_name(i));
		else
			n += snprintf(buf + n, len - n, "%s%s: %s", n ? "; " : "", fact_name(i),
				      s->unknown);
	}
}
