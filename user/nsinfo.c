// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "netns.h"
#include "fmt.h"
#include "nsinfo.h"

const char *const nsinfo_sysctl_names[NSINFO_SYSCTLS] = {
	"net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_tw_reuse",	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_max_tw_buckets",	"net.ipv4.tcp_max_syn_backlog",
	"net.ipv4.tcp_syncookies",	"net.ipv4.tcp_timestamps",
	"net.core.somaxconn",		"net.ipv4.tcp_tw_reuse_delay",
	"net.netfilter.nf_conntrack_count", "net.netfilter.nf_conntrack_max",
};

const char *const nsinfo_counter_names[NSINFO_COUNTERS] = {
	"TcpExt.ListenOverflows",     "TcpExt.ListenDrops",	      "TcpExt.TCPTimeWaitOverflow",
	"TcpExt.TW",		      "TcpExt.TWRecycled",	      "TcpExt.TWKilled",
	"TcpExt.TCPAbortOnClose",     "TcpExt.TCPAbortOnData",	      "TcpExt.TCPAbortOnLinger",
	"TcpExt.TCPAbortOnTimeout",   "TcpExt.TCPReqQFullDrop",	      "TcpExt.TCPReqQFullDoCookies",
	"TcpExt.SyncookiesSent",      "TcpExt.TCPSynRetrans",	      "Tcp.ActiveOpens",
	"Tcp.PassiveOpens",	      "Tcp.AttemptFails",	      "Tcp.EstabResets",
	"Tcp.CurrEstab",	      "Tcp.OutRsts",		      "Tcp.RetransSegs",
};

int nsinfo_sysctl_index(const char *name)
{
	for (int i = 0; i < NSINFO_SYSCTLS; i++)
		if (!strcmp(name, nsinfo_sysctl_names[i]))
			return i;
	return -1;
}

int nsinfo_counter_index(const char *name)
{
	for (int i = 0; i < NSINFO_COUNTERS; i++)
		if (!strcmp(name, nsinfo_counter_names[i]))
			return i;
	return -1;
}

const char *nsinfo_sysctl(const struct nsinfo *ns, const char *name)
{
	int i = nsinfo_sysctl_index(name);

	return i >= 0 && (ns->have_sysctl & (1u << i)) ? ns->sysctl[i] : NULL;
}

bool nsinfo_counter(const struct nsinfo *ns, const char *name, uint64_t *v)
{
	int i = nsinfo_counter_index(name);

	if (i < 0 || !(ns->have_counter & (1u << i)))
		return false;
	*v = ns->counter[i];
	return true;
}

static void set_counter(struct nsinfo *ns, const char *group, const char *name, uint64_t v)
{
	char full[96];

	snprintf(full, sizeof(full), "%s.%s", group, name);
	for (int i = 0; i < NSINFO_COUNTERS; i++)
		if (!strcmp(full, nsinfo_counter_names[i])) {
			ns->counter[i] = v;
			ns->have_counter |= 1u << i;
		}
}

void nsinfo_parse_counters(struct nsinfo *ns, const char *text)
{
	char names[8192], *line, *save, *copy = strdup(text);

	if (!copy)
		return;
	names[0] = 0;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		size_t glen;

		if (!colon)
			continue;
		glen = (size_t)(colon - line);
		/* a header line, then a value line with the same group */
		if (!names[0] || strncmp(names, line, glen + 1)) {
			snprintf(names, sizeof(names), "%s", line);
			continue;
		}
		char group[32], *ns_save, *vs_save, *n, *v;

		snprintf(group, sizeof(group), "%.*s", (int)glen, line);
		n = strtok_r(names + glen + 1, " ", &ns_save);
		v = strtok_r(colon + 1, " ", &vs_save);
		for (; n && v; n = strtok_r(NULL, " ", &ns_save), v = strtok_r(NULL, " ", &vs_save))
			set_counter(ns, group, n, strtoull(v, NULL, 10));
		names[0] = 0;
	}
	free(copy);
}

static bool read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = 0;
	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
	return true;
}

static int take_one(uint32_t netns, void *ctx)
{
	struct nsinfo_set *s = ctx;
	static char text[65536];
	struct nsinfo *ns;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct nsinfo *p = realloc(s->ns, cap * sizeof(*p));

		if (!p)
			return -1;
		s->ns = p;
		s->cap = cap;
	}
	ns = &s->ns[s->n++];
	memset(ns, 0, sizeof(*ns));
	ns->netns = netns;
	for (int i = 0; i < NSINFO_SYSCTLS; i++) {
		char path[128], *p;

		snprintf(path, sizeof(path), "/proc/sys/%s", nsinfo_sysctl_names[i]);
		for (p = path + 10; *p; p++)
			if (*p == '.')
				*p = '/';
		if (read_text(path, ns->sysctl[i], sizeof(ns->sysctl[i])))
			ns->have_sysctl |= 1u << i;
		ns->sysctl[i][strcspn(ns->sysctl[i], "\n")] = 0;
	}
	/* /proc/thread-self/net: this thread's namespace (netns_foreach visits
	 * on a thread of its own; /proc/self/net is the main thread's) */
	read_text("/proc/thread-self/net/netstat", text, sizeof(text));
	nsinfo_parse_counters(ns, text);
	read_text("/proc/thread-self/net/snmp", text, sizeof(text));
	nsinfo_parse_counters(ns, text);
	return 0;
}

int nsinfo_take(struct nsinfo_set *s, char *err, size_t errlen)
{

	memset(s, 0, sizeof(*s));
	s->taken_ns = mono_ns();
	return netns_foreach(take_one, s, &s->failed, err, errlen) < 0 ? -1 : 0;
}

void nsinfo_free(struct nsinfo_set *s)
{
	free(s->ns);
	memset(s, 0, sizeof(*s));
}

unsigned usable_ports(const char *range, const char *reserved, unsigned *lo, unsigned *hi)
{
	unsigned l = 0, h = 0, n;

	*lo = *hi = 0;
	if (!range || sscanf(range, "%u %u", &l, &h) != 2 || l > h || h > 65535)
		return 0;
	*lo = l;
	*hi = h;
	n = h - l + 1;
	for (const char *p = reserved; p && *p;) {
		unsigned a, b;
		int used = 0;

		if (sscanf(p, "%u%n", &a, &used) != 1)
			break;
		p += used;
		b = a;
		if (*p == '-' && sscanf(p + 1, "%u%n", &b, &used) == 1)
			p += 1 + used;
		for (unsigned x = a; x <= b && x <= 65535; x++)
			if (x >= l && x <= h && n > 0)
				n--;
		if (*p != ',')
			break;
		p++;
	}
	return n;
}
