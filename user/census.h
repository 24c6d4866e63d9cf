/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Census: a snapshot of every TCP socket in every network namespace
 * tcpscope can see, as `ss -tanp` gives it, taken with NETLINK_SOCK_DIAG in
 * each namespace (setns). Sockets older than tcpscope are counted from here;
 * live events then update the picture. Owners come from /proc/PID/fd, as
 * ss -p finds them: a socket no file descriptor holds has none.
 */
#ifndef CENSUS_H
#define CENSUS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpscope.h"

enum census_timer { /* inet_diag's idiag_timer */
	CT_NONE = 0,
	CT_RETRANSMIT = 1,
	CT_KEEPALIVE = 2, /* also the FIN_WAIT2 timer of an orphan */
	CT_TIMEWAIT = 3,
	CT_PROBE = 4, /* zero-window probe */
};

struct census_sock {
	uint32_t netns; /* namespace inode */
	uint8_t state;	/* enum ts_tcp_state; a timewait socket's is its substate */
	uint8_t timer;	/* enum census_timer */
	bool timewait;	/* a timewait socket (FIN_WAIT2 or TIME_WAIT substate) */
	uint8_t _pad;
	struct ev_tuple t;
	uint32_t expires_ms; /* time left on the timer */
	uint32_t rqueue;     /* Recv-Q; listeners: connections waiting for accept() */
	uint32_t wqueue;     /* Send-Q; listeners: the accept queue's limit */
	uint32_t uid;
	uint32_t inode; /* 0: no file refers to it (orphan, timewait, request) */
	uint64_t cookie;
	struct ev_owner owner; /* pid 0: none found */
	/* How long it has been in its state, where tcp_info tells (age_known):
	 * CLOSE_WAIT since the peer's FIN, FIN_WAIT2 since our FIN was
	 * acknowledged (both: tcpi_last_ack_recv, the last ACK received). A
	 * lower bound: a later ACK (data sent after the FIN) resets it. */
	uint32_t age_ms;
	bool age_known;
};

struct census {
	struct census_sock *s;
	size_t n, cap;
	unsigned netns_seen;   /* namespaces dumped */
	uint32_t *netns_ids;   /* their inode numbers (netns_seen of them) */
	unsigned netns_failed; /* namespaces that could not be entered or dumped */
	uint64_t taken_ns;     /* CLOCK_MONOTONIC at the snapshot */
	int last_error;	       /* errno of the last failed dump (ENOENT: no tcp_diag) */
	uint32_t states;       /* the states dumped (1 << state); 0 = all */
};

/* Take the snapshot. 0, or -1 with a message (partial failures are counted
 * in netns_failed, not fatal). */
int census_take(struct census *c, char *err, size_t errlen);
/* Only the listening sockets, without owners: their accept queues now
 * (top refreshes them every interval; a few netlink messages per namespace). */
int census_take_listeners(struct census *c, char *err, size_t errlen);
void census_free(struct census *c);
/* Append a socket (a census rebuilt from a trace); -1 when out of memory */
int census_add(struct census *c, const struct census_sock *s);
/* Was this namespace dumped? (one that no process and no mount holds, kept
 * alive by its sockets after ip netns del, cannot be entered) */
bool census_has_netns(const struct census *c, uint32_t netns);

#endif
