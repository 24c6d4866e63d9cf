/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The capability ladder: for each fact tcpscope observes, which mechanism is
 * in use on this kernel, which ones were tried and failed (and why), and what
 * is therefore unknown. Filled by probing (user/probe.c) before the BPF
 * object is loaded; printed by `tcpscope hooks` and summed up by `trace`.
 */
#ifndef LADDER_H
#define LADDER_H
#include <stdbool.h>
#include <stdio.h>

enum fact {
	FACT_STATE,	   /* state transitions */
	FACT_TW_ENTRY,	   /* TIME_WAIT entry (and bucket overflow) */
	FACT_TW_END,	   /* TIME_WAIT end and its cause */
	FACT_PORT,	   /* port allocation: port or error, latency */
	FACT_SCAN,	   /* candidate ports examined per allocation */
	FACT_TW_REUSE,	   /* TIME_WAIT socket reused by a connect() */
	FACT_LISTEN_OVF,   /* listen (accept) queue overflow */
	FACT_MAX,
};

#define LADDER_MAX_FAILED 3

struct fact_status {
	int via;	/* enum hook_via; VIA_NONE = not observed */
	char mech[160]; /* the mechanism in use, e.g. "fexit __inet_hash_connect" */
	int nfailed;
	struct {
		int via;
		char why[200]; /* "EPERM at load", "kernel built without CONFIG_KPROBES" */
	} failed[LADDER_MAX_FAILED];
	char unknown[240]; /* what this run cannot tell; "" = nothing */
	char cost[200];	   /* what runs on the host's hot paths for it; "" = only TCP's own */
};

struct ladder {
	struct fact_status f[FACT_MAX];
};

const char *fact_name(enum fact f);
/* what the fact's hooks cost beyond TCP's own paths (hooks shows it) */
void ladder_cost(struct ladder *l, enum fact f, const char *cost);
const char *via_name(int via);
void ladder_use(struct ladder *l, enum fact f, int via, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* why is a probe message such as "fentry: EPERM at load": the tier prefix is dropped */
void ladder_failed(struct ladder *l, enum fact f, int via, const char *why);
void ladder_unknown(struct ladder *l, enum fact f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* `tcpscope hooks` */
void ladder_print_text(const struct ladder *l, FILE *out);
void ladder_print_json(const struct ladder *l, FILE *out);
/* What this kernel hides, in one line, or "": per fact "scan length:
 * candidate ports examined (null in JSON); ...", or with names_only the
 * facts alone ("port allocation, scan length"), for the line at start */
void ladder_blind_spots(const struct ladder *l, bool names_only, char *buf, size_t len);

#endif
