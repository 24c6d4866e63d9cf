/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Formatting helpers shared by the sinks: addresses, times, errno names,
 * JSON strings. */
#ifndef FMT_H
#define FMT_H
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "tcpscope.h"

#define NSEC_PER_SEC 1000000000ULL /* the one nanoseconds-per-second constant */

#define ADDR_STRLEN 48 /* INET6_ADDRSTRLEN + brackets */
#define ENDPOINT_STRLEN 56

/* "10.0.0.1" or "::1" */
const char *fmt_addr(uint16_t family, const uint8_t *addr, char *buf, size_t len);
/* "10.0.0.1:80" or "[::1]:80"; port 0 prints as '*' */
const char *fmt_endpoint(uint16_t family, const uint8_t *addr, uint16_t port, char *buf,
			 size_t len);
const char *fmt_family(uint16_t family); /* "ipv4" / "ipv6" */
/* RFC 3339 wall clock in UTC with microseconds, from a CLOCK_MONOTONIC
 * timestamp and the REALTIME-MONOTONIC offset taken at start. */
const char *fmt_rfc3339(uint64_t mono_ns, int64_t offset_ns, char *buf, size_t len);
/* "HH:MM:SS" (or with .uuuuuu when precise) local time */
const char *fmt_clock(uint64_t mono_ns, int64_t offset_ns, int precise, char *buf, size_t len);
/* "EADDRNOTAVAIL" for -99 or 99; "0" is "ok" */
const char *fmt_errno(int err);
/* enum port_op as in JSON and CSV: "connect", "bind", "listen", "autobind" */
const char *fmt_port_op(int op);
/* enum tw_kind ("enter", "substate", "end", "overflow"), enum tw_cause
 * ("expired", "reused", "killed"), enum ovf_stage ("syn", "ack") and the
 * census's inet_diag timer ("none", "retransmit", "keepalive", "timewait",
 * "probe") as in JSON and CSV; "?" for anything else. */
const char *fmt_tw_kind(int kind);
const char *fmt_tw_cause(int cause);
const char *fmt_ovf_stage(int stage);
const char *fmt_census_timer(int timer);
/* Fill a comm for display: '-' when the owner is unknown. */
const char *fmt_comm(const struct ev_owner *o, int known, char *buf, size_t len);
/* Realtime minus monotonic, measured now: add it to a monotonic time. */
int64_t clock_offset_now(void);
/* CLOCK_MONOTONIC in nanoseconds (the clock of bpf_ktime_get_ns()) */
uint64_t mono_ns(void);

#endif
