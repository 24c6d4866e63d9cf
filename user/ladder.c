// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <string.h>
#include <sys/utsname.h>
#include <linux/types.h>
#include "tcpscope.h"
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

static void json_str(FILE *out, const char *s)
{
	char buf[2 + 6 * 256 + 1];
	char *p = p_json_str(buf, s, 256);

	*p = 0;
	fputs(buf, out);
}

void ladder_print_json(const struct ladder *l, FILE *out)
{
	struct utsname u;

	fputs("{\"kernel\":", out);
	json_str(out, uname(&u) ? "" : u.release);
	fputs(",\"facts\":[", out);
	for (int i = 0; i < FACT_MAX; i++) {
		const struct fact_status *s = &l->f[i];

		fprintf(out, "%s{\"fact\":", i ? "," : "");
		json_str(out, fact_name(i));
		fprintf(out, ",\"via\":\"%s\",\"mechanism\":", via_name(s->via));
		if (s->via)
			json_str(out, s->mech);
		else
			fputs("null", out);
		fputs(",\"failed\":[", out);
		for (int j = 0; j < s->nfailed; j++) {
			fprintf(out, "%s{\"via\":\"%s\",\"why\":", j ? "," : "",
				via_name(s->failed[j].via));
			json_str(out, s->failed[j].why);
			fputc('}', out);
		}
		fputs("],\"unknown\":", out);
		if (s->unknown[0])
			json_str(out, s->unknown);
		else
			fputs("null", out);
		fputs(",\"cost\":", out);
		if (s->via && s->cost[0])
			json_str(out, s->cost);
		else
			fputs("null", out);
		fputc('}', out);
	}
	fputs("]}\n", out);
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
