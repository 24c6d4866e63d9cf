/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The dashboard's state for `tcpscope top`: what the terminal shows, built
 * from the model (the diagnosis tracker) once per refresh interval, and the
 * two event rings the top sink fills as records arrive (notable events, and
 * every record for the full stream). top_ui.c only reads it: the grouping,
 * sorting, rates, trends and allocation all happen here, in
 * top_view_update(), outside the render path. Pure computation: unit-tested
 * with a model fed by hand.
 */
#ifndef TOP_VIEW_H
#define TOP_VIEW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpscope.h"
#include "fmt.h"
#include "filter.h"
#include "findings.h"
#include "keyed.h"
#include "pressure.h"

struct model;
struct ladder;

#define TOP_HISTORY 64	/* samples of the state counts, about one per second */
#define TOP_TREND 5	/* characters of a trend */
#define TOP_TAIL 512	/* notable events kept */
#define TOP_STREAM 2048 /* records kept for the full stream */
#define TOP_DETAIL 2000 /* sockets listed for one row */
#define TOP_MINUTE_NS (60ULL * NSEC_PER_SEC)
#define TOP_REPEAT_NS (10ULL * NSEC_PER_SEC)

enum top_pane { PANE_CW, PANE_DEST, PANE_LIS, PANE_EVENTS, PANE_MAX };

/* Sort orders per pane (s cycles, S reverses) */
enum { SORT_CW_COUNT, SORT_CW_OLDEST, SORT_CW_PID, SORT_CW_MAX };
enum { SORT_DEST_PCT, SORT_DEST_TW, SORT_DEST_RATE, SORT_DEST_FAILS, SORT_DEST_MAX };
enum { SORT_LIS_FILL, SORT_LIS_OVF, SORT_LIS_PORT, SORT_LIS_MAX };

/* CLOSE_WAIT sockets of one process: a server's by local port, a client's
 * (ephemeral local port) by peer, as the diagnosis groups them */
struct top_cw {
	struct cw_key k; /* findings_cw_key() */
	uint64_t count, oldest_ns;
	uint64_t cgroup; /* the owner's cgroup id (its container), 0 unknown */
	bool oldest_lb; /* older than the run: the age is a lower bound */
	bool noted;	/* a leak note was raised for it */
};
#define TOP_CW_KEY offsetof(struct top_cw, count)

/* Ephemeral ports held toward one destination (and connect() there) */
struct top_dest {
	uint32_t netns;
	uint16_t family, dport;
	uint8_t saddr[16], daddr[16];
	/* the key ends here */
	uint64_t held, time_wait;
	unsigned usable; /* ports connect() may use; 0 unknown */
	double pct, rate; /* held of usable; connects per second over the last interval */
	uint64_t connects, fails, prev_connects;
	bool noted;
	bool by_connects; /* shown for its connect()s even with nothing held */
};
#define TOP_DEST_KEY offsetof(struct top_dest, held)

struct top_lis {
	uint32_t netns;
	uint16_t family, port;
	uint8_t saddr[16];
	struct ev_owner owner;
	bool owner_known, have_queue;
	uint32_t queue, backlog;
	double fill; /* queue / backlog, 0..1+ */
	uint64_t ovf;
	double ovf_rate;
};

/* One socket of a row (Enter) */
struct top_sock {
	uint8_t state, tw;
	bool age_lb, owner_known;
	struct ev_tuple t;
	struct ev_owner owner;
	uint64_t age_ns;
};

union top_ev {
	struct ev_hdr h;
	struct ev_state state;
	struct ev_tw tw;
	struct ev_call call;
	struct ev_port port;
	struct ev_listen_ovf ovf;
};

enum note_kind {
	NOTE_CONNECT_FAIL, /* connect() failed (EADDRNOTAVAIL, ECONNREFUSED, ...) */
	NOTE_BIND_FAIL,
	NOTE_LONG_SCAN,	  /* a port allocation examined many ports */
	NOTE_RESET,	  /* ESTABLISHED or CLOSE_WAIT straight to CLOSE */
	NOTE_LISTEN_OVF,  /* accept queue full: a connection dropped */
	NOTE_TW_OVF,	  /* tcp_max_tw_buckets: no TIME_WAIT socket */
	NOTE_LEAK,	  /* a CLOSE_WAIT group crossed the diagnosis's threshold */
	NOTE_PORTS,	  /* a destination crossed PORT_WARN_PCT of its range */
	NOTE_KINDS,
};

struct top_note {
	uint8_t kind;	 /* enum note_kind */
	bool has_ev;	 /* ev is the record; else text says it */
	uint32_t repeat; /* the same again (kind, process, place, error) within TOP_REPEAT_NS */
	uint64_t ts_ns;	 /* the latest */
	union top_ev ev;
	/* a text note: what it is about (for the '/' filter and Enter) */
	uint32_t netns;
	uint8_t state;
	bool owner_known;
	struct ev_owner owner;
	struct ev_tuple t;
	struct cw_key cw; /* NOTE_LEAK: the group */
	char text[160];
};

/* The row a detail (Enter) is about, by value: rows move when they re-sort */
struct top_sel {
	enum top_pane pane;
	union {
		struct top_cw cw;
		struct top_dest dest;
		struct top_lis lis;
		struct top_note note;
	};
};

#define TOP_TW_OVF_NS 16 /* namespaces whose inferred overflows are followed */

struct top_view {
	/* inferred TIME_WAIT overflows already confirmed in a note, per netns */
	struct {
		uint32_t netns;
		uint64_t noted;
	} tw_ovf[TOP_TW_OVF_NS];
	/* what the keys change */
	struct filter filter; /* '/' words, on top of the kernel's filter */
	char filter_text[256];
	int sort[PANE_MAX];
	bool reverse[PANE_MAX];
	bool paused;

	/* header */
	const struct ladder *ladder;
	uint64_t now_ns;
	uint64_t lost, untracked;
	double ev_rate;

	/* sockets per state now, their change over about a minute and trend */
	uint64_t states[TS_STATE_MAX];
	int64_t change[TS_STATE_MAX];
	uint64_t change_span_ns; /* what "a minute" covered so far */
	uint8_t trend[TS_STATE_MAX][TOP_TREND]; /* levels 0..7 */
	uint64_t hist[TOP_HISTORY][TS_STATE_MAX];
	uint64_t hist_ts[TOP_HISTORY];
	unsigned nhist; /* samples taken (the ring holds the last TOP_HISTORY) */

	/* panes: rows sorted, pointers into the groups below */
	struct top_cw **cw;
	size_t ncw;
	struct top_dest **dest;
	size_t ndest;
	struct top_lis *lis;
	size_t nlis;

	/* notable events and the full stream; shown up to the marks taken at
	 * the last update (a paused view stays still) */
	struct top_note tail[TOP_TAIL];
	uint64_t ntail, tail_mark;
	union top_ev stream[TOP_STREAM];
	uint64_t nstream, stream_mark;
	uint64_t notes[NOTE_KINDS];
	struct pressure pressure;

	/* Enter: the sockets of one row */
	bool detail_on;
	struct top_sel sel;
	struct top_sock *detail;
	size_t ndetail, detail_total;

	/* internals */
	struct keyed cwg, destg; /* struct top_cw, struct top_dest; kept across updates */
	size_t cap_cw, cap_dest, cap_lis;
	struct {
		uint64_t prev_ovf; /* at the last interval */
		double ovf_rate;
	} *lrate;		  /* by model->lis index */
	size_t cap_lrate, nlrate; /* capacity; listeners seen so far */
	uint64_t prev_events, prev_ns;
	bool failed; /* out of memory: rows missing */
};

void top_view_init(struct top_view *v, const struct ladder *ladder, unsigned scan_warn);
void top_view_free(struct top_view *v);
/* A record as it arrives (the top sink): into the stream and, when
 * notable, the tail. Constant time, no allocation. */
void top_view_event(struct top_view *v, const struct ev_hdr *h);
/* Rebuild everything the screen shows from the model, at now_ns
 * (CLOCK_MONOTONIC). interval: a refresh interval ended (rates, the
 * history); else a setting changed and only the rows are rebuilt. Does
 * nothing to the rows when paused. */
void top_view_update(struct top_view *v, const struct model *m, uint64_t now_ns, bool interval);
/* Show the sockets of a row (the detail); top_view_update refreshes it */
void top_view_select(struct top_view *v, const struct model *m, const struct top_sel *sel);
/* The newest records of the tail or the stream up to the mark that pass
 * the view's filter, after skipping skip of them: up to max into out;
 * returns how many. top_view_*_count: how many pass in all. */
size_t top_view_tail(const struct top_view *v, size_t skip, const struct top_note **out,
		     size_t max);
size_t top_view_records(const struct top_view *v, size_t skip, const union top_ev **out,
			size_t max);
size_t top_view_tail_count(const struct top_view *v);
size_t top_view_records_count(const struct top_view *v);
/* Set the '/' filter from trace's words; -1 with a message, the old one kept */
int top_view_set_filter(struct top_view *v, const char *words, char *err, size_t errlen);

const char *note_kind_name(enum note_kind k);
/* One line for a record:
 * "12:00:01 ESTAB>CLOSE                 1234 curl            10.0.0.1:5555 > 10.0.0.2:80" */
void top_format_event(const union top_ev *e, int64_t clock_offset, char *buf, size_t len);
/* "1.2s", "3m04s", "2h05m", ">=6.0s" when a lower bound */
const char *top_format_age(uint64_t ns, bool lb, char *buf, size_t len);
int top_sort_count(enum top_pane p);

#endif
