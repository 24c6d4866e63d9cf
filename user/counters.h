/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Counters of events since the start, for serve's Prometheus counters
 * (metrics.c): transitions by (from, to), TIME_WAIT entered, overflowed and
 * ended by cause, connect()/bind() results by errno, port allocations and
 * their failures, listen overflows per listener port, resets. Fed by the
 * counters sink, after the model sink in the chain. Every label set is
 * bounded: errnos and listener ports beyond the tables' size are folded
 * into "other" and counted.
 */
#ifndef COUNTERS_H
#define COUNTERS_H
#include <stdint.h>
#include <linux/types.h>
#include "tcpscope.h"

#define COUNTERS_ERRNOS 32
#define COUNTERS_PORTS 64

struct errno_count {
	uint8_t op; /* enum call_op, or enum port_op for port failures */
	int err;    /* positive errno */
	uint64_t n;
};

struct counters {
	uint64_t transitions[TS_STATE_MAX][TS_STATE_MAX];
	uint64_t resets; /* ESTABLISHED or CLOSE_WAIT -> CLOSE: no FIN exchange finished */
	uint64_t tw_entered;
	uint64_t tw_overflow, tw_overflow_inferred; /* seen in tcp_time_wait(); inferred */
	uint64_t tw_ended[TW_CAUSE_KILLED + 1];	    /* by enum tw_cause */
	uint64_t calls[OP_BIND + 1];		    /* connect() and bind() outcomes seen */
	struct errno_count call_err[COUNTERS_ERRNOS];
	unsigned ncall_err;
	uint64_t port_allocs[PORT_AUTOBIND + 1]; /* by enum port_op, failures too */
	struct errno_count port_fail[COUNTERS_ERRNOS];
	unsigned nport_fail;
	uint64_t errnos_folded; /* failures beyond the tables: in "other" */
	struct {
		uint16_t port;
		uint64_t n[OVF_ACK + 1]; /* by enum ovf_stage */
	} ovf[COUNTERS_PORTS];
	unsigned novf;
	uint64_t ovf_other[OVF_ACK + 1]; /* listeners beyond the table */
};

/* Zero, with the failures alerts watch (EADDRNOTAVAIL, ...) present at 0 */
void counters_init(struct counters *c);

struct sink;
/* A sink (after the model sink in a chain) that counts into c */
void sink_attach_counters(struct sink *s, struct counters *c);

#endif
