/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per network namespace: the sysctls that decide TCP's lifecycle limits and
 * the kernel's TCP counters (/proc/net/netstat, /proc/net/snmp), read inside
 * each namespace. Taken at the start and the end of a trace, so that a
 * diagnosis (live or from the file) has both and their difference.
 */
#ifndef NSINFO_H
#define NSINFO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NSINFO_SYSCTLS 12
#define NSINFO_COUNTERS 21

extern const char *const nsinfo_sysctl_names[NSINFO_SYSCTLS]; /* "net.ipv4.tcp_tw_reuse" */
extern const char *const nsinfo_counter_names[NSINFO_COUNTERS]; /* "TcpExt.ListenOverflows" */

struct nsinfo {
	uint32_t netns;
	char sysctl[NSINFO_SYSCTLS][64];
	uint32_t have_sysctl; /* bit i: the kernel has sysctl i (its value may be empty) */
	uint64_t counter[NSINFO_COUNTERS];
	uint32_t have_counter; /* bit i: counter[i] was found */
};

struct nsinfo_set {
	struct nsinfo *ns;
	size_t n, cap;
	unsigned failed;
	uint64_t taken_ns;
};

int nsinfo_take(struct nsinfo_set *s, char *err, size_t errlen);
void nsinfo_free(struct nsinfo_set *s);
/* Index of a name in the tables above, -1 when not there */
int nsinfo_sysctl_index(const char *name);
int nsinfo_counter_index(const char *name);
/* The value of a sysctl ("net.ipv4.tcp_fin_timeout"), NULL when absent */
const char *nsinfo_sysctl(const struct nsinfo *ns, const char *name);
/* A counter ("TcpExt.ListenOverflows"); false when absent */
bool nsinfo_counter(const struct nsinfo *ns, const char *name, uint64_t *v);
/* The ports connect() may use, from "net.ipv4.ip_local_port_range" ("32768 60999") and
 * "net.ipv4.ip_local_reserved_ports" ("8080,9000-9010", no spaces).
 * Returns the count; lo and hi get the range (0 when unknown). */
unsigned usable_ports(const char *range, const char *reserved, unsigned *lo, unsigned *hi);
/* Counters of a /proc/net/netstat or snmp text ("TcpExt: A B\nTcpExt: 1 2\n") */
void nsinfo_parse_counters(struct nsinfo *ns, const char *text);

#endif
