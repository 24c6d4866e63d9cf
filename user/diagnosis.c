// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "diagnosis.h"
#include "ladder.h"
#include "outbuf.h"
#include "states.h"


static const char *const type_names[EV_TYPE_MAX] = {
	[EV_STATE] = "state",	    [EV_TW] = "timewait",	 [EV_CALL] = "connect/bind",
	[EV_PORT] = "port",	    [EV_LISTEN_OVF] = "listen overflow",
};

static bool ns_has_findings(const struct findings *fs, uint32_t netns)
{
	for (size_t i = 0; i < fs->n; i++)
		if (fs->f[i].netns == netns)
			return true;
	return false;
}

/* A JSON string (p_json_str's escaping, as every JSON tcpscope writes);
 * the strings here are at most 1 KiB */
static void jstr(FILE *out, const char *s)
{
	char buf[2 + 6 * 1024];

	fwrite(buf, 1, (size_t)(p_json_str(buf, s, 1024) - buf), out);
}

void diagnosis_print_text(const struct model *m, const struct findings *fs, FILE *out)
{
	uint64_t now[TS_STATE_MAX];
	double s = model_seconds(m);
	size_t info = fs->n - fs->warnings;

	model_states_now(m, now);
	fprintf(out, "tcpscope diagnosis: %s%s%s%s%.1f s observed, %zu network namespace%s\n",
		m->host[0] ? m->host : "", m->host[0] ? ", " : "",
		m->kernel[0] ? m->kernel : "", m->kernel[0] ? ", " : "", s, m->ns.n,
		m->ns.n == 1 ? "" : "s");
	fprintf(out, "\nSUMMARY\n  sockets by state%s:\n", m->have_census ? " (start -> now)" : " (now; no census at start)");
	for (int st = 1; st < TS_STATE_MAX; st++) {
		uint64_t a = m->census_states[st], b = now[st];

		if (!a && !b)
			continue;
		if (m->have_census)
			fprintf(out, "    %-12s %7llu -> %-7llu (%+lld)\n", state_kernel_name(st),
				(unsigned long long)a, (unsigned long long)b, (long long)(b - a));
		else
			fprintf(out, "    %-12s %7llu\n", state_kernel_name(st), (unsigned long long)b);
	}
	fprintf(out, "  events: %llu (%.1f/s):", (unsigned long long)m->seen_total,
		s > 0 ? m->seen_total / s : 0.0);
	for (int t = 1, first = 1; t < EV_TYPE_MAX; t++, first = 0)
		fprintf(out, "%s %llu %s", first ? "" : ",", (unsigned long long)m->seen[t],
			type_names[t]);
	fprintf(out, "; %llu lost", (unsigned long long)m->lost_total);
	for (int i = 0; i < MODEL_LOST_REASONS && m->lost[i].reason[0]; i++)
		fprintf(out, "%s%s %llu", i ? ", " : " (", m->lost[i].reason,
			(unsigned long long)m->lost[i].count);
	fprintf(out, "%s\n", m->lost[0].reason[0] ? ")" : "");
	if (m->untracked || m->aggregates_lost)
		fprintf(out, "  %llu sockets not followed (more than %u), %llu records not "
			"aggregated (out of memory): counts may be low\n",
			(unsigned long long)m->untracked, MODEL_MAX_SOCKETS,
			(unsigned long long)m->aggregates_lost);
	if (m->forgotten)
		fprintf(out, "  %llu closing sockets forgotten: their namespaces were gone and quiet "
			"for 10 min (the kernel ended them unseen)\n", (unsigned long long)m->forgotten);
	if (!m->drift_measured) {
		fprintf(out, "  self-check: not made (it needs the census at start and no filter)\n");
	} else {
		uint64_t total = 0;

		for (int i = 0; i < TS_STATE_MAX; i++)
			total += m->drift[i] < 0 ? -m->drift[i] : m->drift[i];
		fprintf(out, "  self-check: a census at the end %s", total ? "differs: drift" :
			"agrees with the picture, state by state (drift 0)");
		for (int i = 0; total && i < TS_STATE_MAX; i++)
			if (m->drift[i])
				fprintf(out, " %s %+lld", state_kernel_name(i), (long long)m->drift[i]);
		fprintf(out, "\n");
	}
	fprintf(out, "  blind spots: %s\n", m->blind[0] ? m->blind : "none");

	fprintf(out, "\nFINDINGS: ");
	if (!fs->n)
		fprintf(out, "none: no sign of trouble in what was observed\n");
	else
		fprintf(out, "%zu warning%s, %zu informational\n", fs->warnings,
			fs->warnings == 1 ? "" : "s", info);
	for (size_t i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->f[i];
		const char *p = f->evidence;

		fprintf(out, "\n[%s] %s\n", f->severity == SEV_CRITICAL ? "CRITICAL" :
					   f->severity == SEV_WARNING ? "WARNING" : "INFO", f->title);
		while (*p) {
			size_t n = strcspn(p, "\n");

			fprintf(out, "    %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
		fprintf(out, "    netns %u\n    fix: %s\n", f->netns, f->remedy);
	}

	fprintf(out, "\nSYSCTLS");
	size_t shown = 0;

	for (size_t i = 0; i < m->ns.n; i++) {
		const struct mns *n = keyed_at(&m->ns, i);
		const struct nsinfo *ns = model_ns_latest(m, n->netns);

		/* the first namespace (tcpscope's own) and those with findings */
		if (i && !ns_has_findings(fs, n->netns))
			continue;
		shown++;
		fprintf(out, "\n  netns %u:", n->netns);
		if (!ns) { /* seen in events only: no netns record (--no-census, or born later) */
			fprintf(out, " (sysctls not recorded)");
			continue;
		}
		for (int j = 0; j < NSINFO_SYSCTLS; j++) {
			char v[sizeof(ns->sysctl[j])];

			if (!(ns->have_sysctl & (1u << j)))
				continue;
			/* "32768\t60999" as sysctl prints it */
			snprintf(v, sizeof(v), "%s", ns->sysctl[j]);
			for (char *t = v; *t; t++)
				if (*t == '\t')
					*t = ' ';
			fprintf(out, "\n    %-36s %s", nsinfo_sysctl_names[j], v[0] ? v : "(empty)");
		}
	}
	if (m->ns.n > shown)
		fprintf(out, "\n  (%zu more namespaces without findings: -F json lists all)",
			m->ns.n - shown);
	fprintf(out, "\n");
}

void diagnosis_print_json(const struct model *m, const struct findings *fs, FILE *out)
{
	uint64_t now[TS_STATE_MAX];

	model_states_now(m, now);
	fprintf(out, "{\"type\":\"diagnosis\",\"host\":");
	jstr(out, m->host);
	fprintf(out, ",\"kernel\":");
	jstr(out, m->kernel);
	fprintf(out, ",\"duration_s\":%.3f,\"warnings\":%zu,\"worst\":\"%s\"", model_seconds(m),
		fs->warnings, fs->n ? severity_name(fs->worst) : "none");
	fprintf(out, ",\"summary\":{\"census\":%s,\"states\":{", m->have_census ? "true" : "false");
	for (int st = 1, n = 0; st < TS_STATE_MAX; st++) {
		if (!m->census_states[st] && !now[st])
			continue;
		fprintf(out, "%s\"%s\":{\"start\":", n++ ? "," : "", state_kernel_name(st));
		if (m->have_census)
			fprintf(out, "%llu", (unsigned long long)m->census_states[st]);
		else
			fprintf(out, "null");
		fprintf(out, ",\"now\":%llu}", (unsigned long long)now[st]);
	}
	fprintf(out, "},\"events\":%llu,\"events_per_s\":%.1f,\"lost\":%llu,\"untracked\":%llu,"
		"\"not_aggregated\":%llu,\"forgotten\":%llu",
		(unsigned long long)m->seen_total, model_seconds(m) > 0 ? m->seen_total / model_seconds(m) : 0.0,
		(unsigned long long)m->lost_total, (unsigned long long)m->untracked,
		(unsigned long long)m->aggregates_lost, (unsigned long long)m->forgotten);
	fprintf(out, ",\"lost_by\":{");
	for (int i = 0; i < MODEL_LOST_REASONS && m->lost[i].reason[0]; i++) {
		fprintf(out, "%s", i ? "," : "");
		jstr(out, m->lost[i].reason);
		fprintf(out, ":%llu", (unsigned long long)m->lost[i].count);
	}
	fprintf(out, "}");
	/* the self-check: the model minus a census at the end, per state
	 * (only the states that differ); null when not made */
	if (m->drift_measured) {
		uint64_t total = 0;
		int k = 0;

		fprintf(out, ",\"drift\":{");
		for (int i = 0; i < TS_STATE_MAX; i++) {
			if (!m->drift[i])
				continue;
			fprintf(out, "%s\"%s\":%lld", k++ ? "," : "", state_kernel_name(i),
				(long long)m->drift[i]);
			total += m->drift[i] < 0 ? -m->drift[i] : m->drift[i];
		}
		fprintf(out, "},\"drift_total\":%llu", (unsigned long long)total);
	} else {
		fprintf(out, ",\"drift\":null,\"drift_total\":null");
	}
	fprintf(out, ",\"blind_spots\":");
	jstr(out, m->blind);
	fprintf(out, "},\"findings\":[");
	for (size_t i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->f[i];

		fprintf(out, "%s{\"severity\":\"%s\",\"kind\":\"%s\",\"netns\":%u,\"title\":",
			i ? "," : "", severity_name(f->severity), f->kind, f->netns);
		jstr(out, f->title);
		for (int k = 0; k < f->nkv; k++) {
			fprintf(out, ",\"%s\":", f->kv[k].key);
			if (f->kv[k].str)
				jstr(out, f->kv[k].val);
			else
				fputs(f->kv[k].val, out);
		}
		fprintf(out, ",\"evidence\":");
		jstr(out, f->evidence);
		fprintf(out, ",\"remedy\":");
		jstr(out, f->remedy);
		fputc('}', out);
	}
	fprintf(out, "],\"netns\":[");
	for (size_t i = 0; i < m->ns.n; i++) {
		const struct mns *n = keyed_at(&m->ns, i);
		const struct nsinfo *ns = model_ns_latest(m, n->netns);

		fprintf(out, "%s{\"netns\":%u,\"sysctl\":{", i ? "," : "", n->netns);
		for (int j = 0, k = 0; ns && j < NSINFO_SYSCTLS; j++)
			if (ns->have_sysctl & (1u << j)) {
				fprintf(out, "%s\"%s\":", k++ ? "," : "", nsinfo_sysctl_names[j]);
				jstr(out, ns->sysctl[j]);
			}
		fprintf(out, "},\"counter_deltas\":{");
		for (int j = 0, k = 0; j < NSINFO_COUNTERS; j++)
			if (n->have_start && n->have_end && (n->start.have_counter & (1u << j)) &&
			    (n->end.have_counter & (1u << j)))
				fprintf(out, "%s\"%s\":%lld", k++ ? "," : "", nsinfo_counter_names[j],
					(long long)(n->end.counter[j] - n->start.counter[j]));
		fprintf(out, "}}");
	}
	fprintf(out, "]}\n");
}
