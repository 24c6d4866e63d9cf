/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* In-kernel filters. Set by user space in .rodata before load, so the
 * verifier prunes every test that is switched off. */
#ifndef FILTER_BPF_H
#define FILTER_BPF_H

const volatile __u32 filt_npids = 0;
const volatile __u32 filt_pids[TCPSCOPE_MAX_FILTER] = {};
const volatile __u32 filt_ncomms = 0;
const volatile char filt_comms[TCPSCOPE_MAX_FILTER][TCPSCOPE_COMM_LEN] = {};
const volatile __u32 filt_nlports = 0;
const volatile __u16 filt_lports[TCPSCOPE_MAX_FILTER] = {};
const volatile __u32 filt_nrports = 0;
const volatile __u16 filt_rports[TCPSCOPE_MAX_FILTER] = {};
const volatile __u16 filt_family = 0;	  /* 0: both */
const volatile __u32 filt_state_mask = 0; /* bit per TCP state; 0: all */
const volatile __u32 filt_ncgroups = 0;
const volatile __u64 filt_cgroups[TCPSCOPE_MAX_CGROUPS] = {}; /* the owner's cgroup id */

static __always_inline bool match_port(__u16 port, const volatile __u16 *set, __u32 n)
{
	for (int i = 0; i < TCPSCOPE_MAX_FILTER; i++) {
		if (i >= n)
			break;
		if (set[i] == port)
			return true;
	}
	return false;
}

static __always_inline bool match_comm(const char *comm)
{
	for (int i = 0; i < TCPSCOPE_MAX_FILTER; i++) {
		bool eq = true;

		if (i >= filt_ncomms)
			break;
		for (int j = 0; j < TCPSCOPE_COMM_LEN; j++) {
			if (comm[j] != filt_comms[i][j]) {
				eq = false;
				break;
			}
			if (!comm[j])
				break;
		}
		if (eq)
			return true;
	}
	return false;
}

/* -P: which event types to emit at all (bit per enum ev_type) */
const volatile __u32 emit_types = ~0u;

#define EMITS(type) (emit_types & (1u << (type)))

/* Owner and tuple filters, shared by every event type. */
static __always_inline bool pass_common(const struct ev_owner *o, const struct ev_tuple *t)
{
	if (filt_family && t->family != filt_family)
		return false;
	if (filt_npids) {
		bool hit = false;

		for (int i = 0; i < TCPSCOPE_MAX_FILTER; i++) {
			if (i >= filt_npids)
				break;
			if (filt_pids[i] == o->pid) {
				hit = true;
				break;
			}
		}
		if (!hit)
			return false;
	}
	if (filt_ncomms && !match_comm(o->comm))
		return false;
	if (filt_ncgroups) {
		bool hit = false;

		for (int i = 0; i < TCPSCOPE_MAX_CGROUPS; i++) {
			if (i >= filt_ncgroups)
				break;
			if (filt_cgroups[i] == o->cgroup) {
				hit = true;
				break;
			}
		}
		if (!hit)
			return false;
	}
	if (filt_nlports && !match_port(t->sport, filt_lports, filt_nlports))
		return false;
	if (filt_nrports && !match_port(t->dport, filt_rports, filt_nrports))
		return false;
	return true;
}

static __always_inline bool pass_states(int a, int b)
{
	if (!filt_state_mask)
		return true;
	return (filt_state_mask & (1u << (a & 31))) || (filt_state_mask & (1u << (b & 31)));
}

#endif
