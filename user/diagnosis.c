// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "diagnosis.h"
#include "json_writer.h"
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
	double secs = model_seconds(m);
	struct jw w;

	model_states_now(m, now);
	jw_init(&w, out);
	jw_object(&w, NULL);
	jw_string(&w, "type", "diagnosis");
	jw_string(&w, "host", m->host);
	jw_string(&w, "kernel", m->kernel);
	jw_double(&w, "duration_s", "%.3f", secs);
	jw_uint(&w, "warnings", fs->warnings);
	jw_string(&w, "worst", fs->n ? severity_name(fs->worst) : "none");
	jw_object(&w, "summary");
	jw_bool(&w, "census", m->have_census);
	jw_object(&w, "states");
	for (int st = 1; st < TS_STATE_MAX; st++) {
		if (!m->census_states[st] && !now[st])
			continue;
		jw_object(&w, state_kernel_name(st));
		if (m->have_census)
			jw_uint(&w, "start", m->census_states[st]);
		else
			jw_null(&w, "start");
		jw_uint(&w, "now", now[st]);
		jw_end_object(&w);
	}
	jw_end_object(&w);
	jw_uint(&w, "events", m->seen_total);
	jw_double(&w, "events_per_s", "%.1f", secs > 0 ? m->seen_total / secs : 0.0);
	jw_uint(&w, "lost", m->lost_total);
	jw_uint(&w, "untracked", m->untracked);
	jw_uint(&w, "not_aggregated", m->aggregates_lost);
	jw_uint(&w, "forgotten", m->forgotten);
	jw_object(&w, "lost_by");
	for (int i = 0; i < MODEL_LOST_REASONS && m->lost[i].reason[0]; i++)
		jw_uint(&w, m->lost[i].reason, m->lost[i].count);
	jw_end_object(&w);
	/* the self-check: the model minus a census at the end, per state
	 * (only the states that differ); null when not made */
	if (m->drift_measured) {
		uint64_t total = 0;

		jw_object(&w, "drift");
		for (int i = 0; i < TS_STATE_MAX; i++) {
			if (!m->drift[i])
				continue;
			jw_int(&w, state_kernel_name(i), m->drift[i]);
			total += m->drift[i] < 0 ? -m->drift[i] : m->drift[i];
		}
		jw_end_object(&w);
		jw_uint(&w, "drift_total", total);
	} else {
		jw_null(&w, "drift");
		jw_null(&w, "drift_total");
	}
	jw_string(&w, "blind_spots", m->blind);
	jw_end_object(&w);
	jw_array(&w, "findings");
	for (size_t i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->f[i];

		jw_object(&w, NULL);
		jw_string(&w, "severity", severity_name(f->severity));
		jw_string(&w, "kind", f->kind);
		jw_uint(&w, "netns", f->netns);
		jw_string(&w, "title", f->title);
		for (int k = 0; k < f->nkv; k++)
			if (f->kv[k].str)
				jw_string(&w, f->kv[k].key, f->kv[k].val);
			else
				jw_raw(&w, f->kv[k].key, f->kv[k].val);
		jw_string(&w, "evidence", f->evidence);
		jw_string(&w, "remedy", f->remedy);
		jw_end_object(&w);
	}
	jw_end_array(&w);
	jw_array(&w, "netns");
	for (size_t i = 0; i < m->ns.n; i++) {
		const struct mns *n = keyed_at(&m->ns, i);
		const struct nsinfo *ns = model_ns_latest(m, n->netns);

		jw_object(&w, NULL);
		jw_uint(&w, "netns", n->netns);
		jw_object(&w, "sysctl");
		for (int j = 0; ns && j < NSINFO_SYSCTLS; j++)
			if (ns->have_sysctl & (1u << j))
				jw_string(&w, nsinfo_sysctl_names[j], ns->sysctl[j]);
		jw_end_object(&w);
		jw_object(&w, "counter_deltas");
		for (int j = 0; j < NSINFO_COUNTERS; j++)
			if (n->have_start && n->have_end && (n->start.have_counter & (1u << j)) &&
			    (n->end.have_counter & (1u << j)))
				jw_int(&w, nsinfo_counter_names[j],
				       (int64_t)(n->end.counter[j] - n->start.counter[j]));
		jw_end_object(&w);
		jw_end_object(&w);
	}
	jw_end_array(&w);
	jw_end_object(&w);
	fputc('\n', out);
}
