/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The model: the diagnosis tracker's picture of every TCP socket and of
 * what happened to the namespaces during a run. It is fed by the same calls
 * whether the run is live (BPF ring buffer -> decode) or read back from a
 * JSON trace (replay.c): the census seeds it, events update it, the netns
 * records give its sysctls and counter deltas. findings.c reads it.
 *
 * Sockets are keyed by socket cookie (shared by a socket and its timewait
 * socket, and by the census), kept apart as a full or a timewait socket.
 * A socket older than the run has a known state but an unknown age: its age
 * is then a lower bound (the time since the census).
 */
#ifndef MODEL_H
#define MODEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpscope.h"
#include "census.h"
#include "keyed.h"
#include "nsinfo.h"

#define MODEL_MAX_SOCKETS (1u << 22) /* beyond this, sockets are counted, not kept */
#define MODEL_LOST_REASONS 8

struct msock {
	uint64_t key;	  /* cookie (or the socket id when the tier has no cookie) */
	uint64_t since_ns; /* entered its state (since_known) or the census (lower bound) */
	struct ev_tuple t;
	struct ev_owner owner;
	uint32_t netns;
	uint8_t used;
	uint8_t tw;	    /* a timewait socket (state = its substate) */
	uint8_t state;	    /* enum ts_tcp_state */
	uint8_t since_known;
	uint8_t age_tcp_info; /* a census socket whose age came from tcp_info */
	uint8_t owner_known;
	uint8_t census;	    /* seen by the census at start */
};

/* The aggregates below start with their key (struct keyed): the fields
 * before the one the _KEY macro names. */

/* Port allocations by connect() toward one destination, from one address */
struct mdest {
	uint32_t netns;
	uint16_t family, dport;
	uint8_t saddr[16], daddr[16];
	uint64_t connects, failures, tw_reused;
	uint64_t scan_known, scan_sum;
	uint32_t scan_max;
	uint16_t range_lo, range_hi;
	unsigned nfail_pids;
	struct ev_owner fail_owner[4]; /* processes that got EADDRNOTAVAIL */
};
#define MDEST_KEY offsetof(struct mdest, connects)

struct mlistener {
	uint32_t netns;
	uint16_t family, port;
	uint8_t saddr[16];
	struct ev_owner owner;
	bool owner_known, have_queue, closed;
	uint32_t accept_queue, backlog; /* census, or the last overflow */
	uint64_t ovf[3];		/* by enum ovf_stage */
};
#define MLISTENER_KEY offsetof(struct mlistener, saddr)

/* Connections ended by a reset (a transition to CLOSE from ESTABLISHED or
 * CLOSE_WAIT: no FIN exchange finished) by owner and peer address */
struct mabort {
	uint32_t netns;
	uint16_t family;
	uint8_t owner_known, _pad;
	uint8_t daddr[16];
	uint32_t pid; /* 0 and comm empty when the owner is unknown */
	char comm[TCPSCOPE_COMM_LEN];
	uint64_t from_estab, from_close_wait;
	uint64_t first_ns, last_ns; /* the first and the latest of them */
	uint64_t cgroup;	    /* the owner's cgroup id, 0 unknown */
};
#define MABORT_KEY offsetof(struct mabort, from_estab)

struct mns {
	uint32_t netns; /* the key */
	bool have_start, have_end;
	struct nsinfo start, end;
	/* from the latest record: ip_local_port_range, and the ports of it
	 * connect() may use (reserved ones out); 0 when unknown */
	unsigned port_lo, port_hi, usable;
	uint64_t tw_overflow; /* TW_OVERFLOW events seen in tcp_time_wait() */
	uint64_t tw_overflow_inferred; /* TW_OVERFLOW inferred (EVF_INFERRED) */
	uint64_t last_change_ns; /* the latest state or timewait event */
};

struct run_info; /* sink.h */

struct model {
	struct msock *tab;
	size_t cap, n;
	uint64_t untracked; /* sockets not kept: the table was at its limit */
	uint64_t forgotten; /* closing sockets of namespaces gone (model_forget) */

	bool have_start, have_end, have_census;
	bool drift_measured;		 /* the self-check at the end (run_info) */
	int64_t drift[TS_STATE_MAX];
	uint64_t start_ns, end_ns, last_ts;
	char host[128], kernel[128], blind[1024];

	uint64_t census_states[TS_STATE_MAX]; /* at start; timewait by substate */
	uint64_t seen[EV_TYPE_MAX], seen_total;
	uint64_t lost_total;
	struct {
		char reason[32];
		uint64_t count;
	} lost[MODEL_LOST_REASONS];

	struct keyed dest; /* struct mdest */
	struct keyed lis;  /* struct mlistener */
	struct keyed ab;   /* struct mabort */
	struct keyed ns;   /* struct mns, in the order the namespaces were recorded */
	struct {	   /* a self-check's resync being read (model_resync_begin) */
		bool on;
		uint32_t netns;
		uint64_t ts_ns;
		size_t want;
		struct census cs;
	} resync;
	uint64_t aggregates_lost; /* out of memory: not counted above */
};

void model_init(struct model *m);
void model_free(struct model *m);

/* The calls of a run, in order: run start, netns start, census, events and
 * lost counts, netns end, run end. */
void model_run(struct model *m, const struct run_info *ri);
void model_nsinfo(struct model *m, uint64_t ts_ns, bool end, const struct nsinfo *ns);
void model_census(struct model *m, uint64_t ts_ns, const struct census_sock *cs);
void model_event(struct model *m, const struct ev_hdr *h);
/* A listener's accept queue as a later listeners-only census saw it (top) */
void model_listen_queue(struct model *m, const struct census_sock *cs);
void model_lost(struct model *m, uint64_t ts_ns, const char *reason, uint64_t count);

/* The end of the run (its last record when no run end was recorded) */
uint64_t model_now(const struct model *m);
/* Seconds from the start of the run to model_now() */
double model_seconds(const struct model *m);
/* Nanoseconds a socket has been in its state; *lower_bound when older than the run. */
uint64_t model_age(const struct model *m, const struct msock *s, bool *lower_bound);
/* Sockets per state now (timewait sockets by substate) */
/* Sockets per state of one namespace, now */
void model_ns_states(const struct model *m, uint32_t netns, uint64_t out[TS_STATE_MAX]);
/* Make one namespace's sockets those of a census taken at ts_ns (the
 * self-check's, of a namespace that did not change while it was taken):
 * sockets the census does not have are gone, those it has and the model
 * lacks are added (age: since the census), states follow the census.
 * What events never showed (counted lost) stops weighing on the findings.
 * Returns the number of sockets changed. */
size_t model_resync(struct model *m, uint32_t netns, const struct census *cs, uint64_t ts_ns);
/* The same as a trace records it (sink resync): the next count census
 * sockets (model_census) are the namespace's at ts_ns, and with the last
 * of them the namespace is resynced to them. */
void model_resync_begin(struct model *m, uint64_t ts_ns, uint32_t netns, size_t count);
void model_states_now(const struct model *m, uint64_t out[TS_STATE_MAX]);
/* Forget a namespace's sockets in the states of the mask (1 << state): for
 * a namespace gone from every census whose closing sockets the kernel has
 * long destroyed unseen (their end made no event we could see). Returns
 * how many; m->forgotten counts them all. */
size_t model_forget(struct model *m, uint32_t netns, uint32_t states);
/* A live run's clock: now_ns, though no record came (ages at a scrape) */
void model_advance(struct model *m, uint64_t now_ns);
/* A long run (serve) starts a new window at now_ns: what findings count
 * over the run (connects and their failures per destination, resets,
 * listen overflows, timewait overflows, the namespaces' counter deltas)
 * starts from zero; the sockets, listeners and sysctls stay. Namespaces
 * with no socket and no event in the window that ends are forgotten. */
void model_rebase(struct model *m, uint64_t now_ns);
const struct mns *model_ns(const struct model *m, uint32_t netns);
/* The open listener on t's local port (and family), or NULL */
const struct mlistener *model_listener(const struct model *m, uint32_t netns,
				       const struct ev_tuple *t);
/* The ports connect() may use in a namespace: from its sysctls (range
 * minus reserved ports), else the range port events toward d carried (d
 * may be NULL); lo and hi get the range; 0 when unknown */
unsigned model_usable_ports(const struct model *m, uint32_t netns, const struct mdest *d,
			    unsigned *lo, unsigned *hi);
/* A namespace's sysctls as last recorded (end, else start), or NULL */
const struct nsinfo *model_ns_latest(const struct model *m, uint32_t netns);

#endif
