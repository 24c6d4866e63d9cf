/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Findings: the model (model.h) turned into what is wrong, each with a
 * severity, the evidence in numbers and the remedy (each rule's thresholds
 * and reasons are in docs/usage.md's findings table and at the rule).
 * Pure computation: the same model gives the
 * same findings, live or from a file.
 */
#ifndef FINDINGS_H
#define FINDINGS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model.h"

enum severity { SEV_INFO, SEV_WARNING, SEV_CRITICAL };

/* Thresholds (docs/usage.md "Diagnosis": the findings table) */
#define CW_MIN_COUNT 5		  /* CLOSE_WAIT sockets of one process and port */
#define CW_MIN_AGE_NS (5 * NSEC_PER_SEC) /* ... older than this: not just slow */
#define CW_CRITICAL_COUNT 100
#define FW2_MIN_COUNT 5		   /* FIN_WAIT2 toward one peer */
#define FW2_MIN_AGE_NS (5 * NSEC_PER_SEC)
#define FW1_MIN_AGE_NS (10 * NSEC_PER_SEC) /* a FIN unacknowledged this long */
#define PORT_WARN_PCT 50	   /* ports held toward one destination, of the usable range */
#define PORT_CRIT_PCT 90

#define SERVER_TW_MIN 10	   /* TIME_WAIT on one server port worth explaining */
#define ABORT_MIN 10		   /* resets of one process with one peer */
#define ABORT_MIN_SPREAD_S 1.0   /* below: one burst (info), not a pattern (warning) */
#define CONNTRACK_WARN_PCT 80
#define CONNTRACK_CRIT_PCT 95
#define TW_SECONDS 60		   /* TCP_TIMEWAIT_LEN */

#define FIND_MAX_KV 20

struct finding {
	enum severity severity;
	const char *kind; /* "close_wait_leak", "port_exhaustion", ... */
	uint32_t netns;
	char title[256];    /* one line, with the owner and the main numbers */
	char evidence[1024]; /* text lines, '\n'-separated */
	const char *remedy;
	int nkv;
	struct {
		const char *key;
		char val[128];
		bool str; /* a JSON string (else a number, true/false or null) */
	} kv[FIND_MAX_KV];
};

struct findings {
	struct finding *f;
	size_t n, cap;
	enum severity worst; /* of all findings; SEV_INFO when none */
	size_t warnings;     /* warnings and critical findings */
	bool failed;	     /* out of memory: some findings may be missing */
};

/* 0, or -1 when memory ran out (what could be computed is in out) */
int findings_compute(const struct model *m, struct findings *out);
void findings_free(struct findings *out);
const char *severity_name(enum severity s);

/* A client's socket: its local port is in the ephemeral range and no
 * listener has it (CLOSE_WAIT and ports are grouped by peer then) */
/* Growth of a namespace counter ("TcpExt.TCPTimeWaitOverflow") between its
 * first and latest netns record; false when not known at both ends */
bool findings_counter_delta(const struct model *m, uint32_t netns, const char *name, uint64_t *d);
bool findings_client_side(const struct model *m, const struct msock *s);

/* The CLOSE_WAIT group of a socket, as close_wait_leak groups them (top
 * too): its namespace, owner, and a server's local port or a client's peer */
struct cw_key {
	uint32_t netns, pid; /* pid 0: owner unknown */
	char comm[TCPSCOPE_COMM_LEN];
	uint16_t family, port; /* local port, or the peer's port when side */
	uint8_t side, _pad;
	uint8_t peer[16];
};
void findings_cw_key(const struct msock *s, bool client_side, struct cw_key *k);

#endif
