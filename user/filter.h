/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The filter words shared by every mode (-p -c -L -D -4 -6 --state). They
 * are applied in the kernel (loader copies them to .rodata); filter_match()
 * is the same test in user space, for replayed or recorded events. */
#ifndef FILTER_H
#define FILTER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpscope.h"

struct filter {
	uint32_t pids[TCPSCOPE_MAX_FILTER];
	unsigned npids;
	char comms[TCPSCOPE_MAX_FILTER][TCPSCOPE_COMM_LEN];
	unsigned ncomms;
	uint16_t lports[TCPSCOPE_MAX_FILTER];
	unsigned nlports;
	uint16_t rports[TCPSCOPE_MAX_FILTER];
	unsigned nrports;
	uint16_t family; /* 0, AF_INET or AF_INET6 */
	uint32_t state_mask; /* 1 << state; 0 = every state */
	uint32_t types;	     /* 1 << enum ev_type; 0 = every type (-P: ports only) */
	uint64_t cgroups[TCPSCOPE_MAX_CGROUPS]; /* --cgroup: its id and its descendants' */
	unsigned ncgroups;
	char cgroup[256]; /* --cgroup's path, as given */
	uint32_t netns;	  /* --netns: one network namespace's inode; 0 = all */
	char netns_arg[64];
};

/* Each takes a comma-separated list and may be called repeatedly. */
int filter_add_pids(struct filter *f, const char *list, char *err, size_t errlen);
int filter_add_comms(struct filter *f, const char *list, char *err, size_t errlen);
int filter_add_lports(struct filter *f, const char *list, char *err, size_t errlen);
int filter_add_rports(struct filter *f, const char *list, char *err, size_t errlen);
int filter_add_states(struct filter *f, const char *list, char *err, size_t errlen);
/* --cgroup PATH: sockets whose owner is in that cgroup v2 or below it
 * (the cgroups that exist now; PATH as /proc/PID/cgroup shows it) */
int filter_set_cgroup(struct filter *f, const char *path, char *err, size_t errlen);
/* --netns NAME|INODE: one network namespace, by its inode or the name of
 * its bind mount (/run/netns/NAME as ip netns makes it, or docker's
 * /var/run/docker/netns/NAME). Applied in user space, to every record. */
int filter_set_netns(struct filter *f, const char *arg, char *err, size_t errlen);
/* The record passes --netns (always true without it) */
bool filter_pass_netns(const struct filter *f, const struct ev_hdr *h);
/* -P: port allocations only (refused with --state) */
int filter_set_ports_only(struct filter *f, char *err, size_t errlen);
/* A whole filter from the words of trace's options, as typed at top's '/'
 * prompt: "-p 1234 --state close-wait", "pid=1234 lport 80", "-4". The
 * filter is reset first; "" gives the empty filter. */
int filter_parse_words(struct filter *f, const char *text, char *err, size_t errlen);
int filter_set_family(struct filter *f, uint16_t family, char *err, size_t errlen);

bool filter_active(const struct filter *f);
/* The filter as trace's words ("-p 1234 --state CLOSE_WAIT"), "" when none */
const char *filter_describe(const struct filter *f, char *buf, size_t len);
struct census_sock;
/* The same filters for a socket of the census (-P excludes the census). */
bool filter_match_census(const struct filter *f, const struct census_sock *s);
/* The same filters for a socket in a state (top's view); an unknown owner
 * fails any pid or comm filter. */
bool filter_match_socket(const struct filter *f, const struct ev_owner *o, bool owner_known,
			 const struct ev_tuple *t, int state);
/* The test the BPF programs apply, for one decoded record. */
bool filter_match(const struct filter *f, const struct ev_hdr *h);

#endif
