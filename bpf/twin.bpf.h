/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The twin programs of the hooks a nested invocation can skip (the state
 * tracepoint, timer_start, and the fentry tier's __inet_twsk_schedule and
 * inet_twsk_deschedule_put): see the comment below. */
#ifndef TWIN_BPF_H
#define TWIN_BPF_H

/*
 * A tracepoint program still running on a CPU when the same tracepoint
 * fires again there is skipped by the kernel (recursion_misses, counted per
 * program and per CPU): on loopback that is a process-context transition
 * interrupted by the receive path's softirq, or (6.18, where tracepoint
 * programs run preemptible, only migration disabled) preempted by another
 * task that makes a transition. A second program on the same tracepoint,
 * attached after the first (so it runs after it in every invocation), has
 * its own guard and takes over exactly the invocations the first missed.
 * fentry programs have the same per-program guard; a trampoline runs its
 * programs in the reverse order of attachment, so there the loader
 * attaches the second one first.
 *
 * How the second knows: the first writes the invocation's identity into a
 * slot before its body and marks it done after; the second finds its own
 * invocation there done, or else the first missed it. The slot must be one
 * nothing else can write between the two programs of one invocation:
 *  - interrupt level (ctx_level.bpf.h): one slot per CPU. A softirq is
 *    neither preempted nor interrupted by another softirq;
 *  - task level: one slot per thread (found by tid among a few per CPU).
 *    A task preempted between the two programs finds its own slot intact
 *    after whatever ran meanwhile on that CPU.
 * A slot the second never consumed (it was itself busy: its miss is
 * counted by the kernel, not by us) is replaced by the thread's or the
 * CPU's next invocation, or freed by the second when it finds another
 * identity there.
 *
 * (Before: one ring of the last four completions per CPU for every context.
 * A softirq of four or more transitions, or a preemption, between the
 * first's completion of X and the second's check pushed X out: X was done
 * twice, 0.3-0.9 ms apart. And a completion the second never consumed
 * matched a later socket at the same address: that one was skipped by both.
 * Each duplicate hid a loss in the count of misses minus rescues.)
 *
 * User space reports the first's recursion_misses minus the rescues as
 * lost: both programs busy means lost, and counted as such.
 */

#define TWIN_TASK_SLOTS 4096 /* per hook; a thread's is tid % this, tagged */

struct twin_slot {
	__u64 a, b; /* the invocation's identity */
	__u32 tid;  /* task level: whose slot */
	__u8 used;
	__u8 done; /* the first program completed it */
	__u16 _pad;
};

/* interrupt level: per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TWIN_MAX);
	__type(key, __u32);
	__type(value, struct twin_slot);
} twin_irq SEC(".maps");

/* task level: per thread, not per CPU: between the two programs a task may
 * be preempted and even migrate (each program disables migration only for
 * itself) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TWIN_MAX * TWIN_TASK_SLOTS);
	__type(key, __u32);
	__type(value, struct twin_slot);
} twin_task SEC(".maps");

__u64 twin_rescued[TWIN_MAX] = {};

/* This invocation's slot: the CPU's at interrupt level, the thread's at
 * task level (claim: take it over from another thread with the same index;
 * two threads of one index in the middle of one invocation at once would
 * cost a duplicate, not a loss). */
static __always_inline struct twin_slot *twin_slot(__u32 lv, __u32 hook, bool claim)
{
	struct twin_slot *sl;
	__u32 tid, k;

	if (lv)
		return bpf_map_lookup_elem(&twin_irq, &hook);
	tid = (__u32)bpf_get_current_pid_tgid();
	k = hook * TWIN_TASK_SLOTS + tid % TWIN_TASK_SLOTS;
	sl = bpf_map_lookup_elem(&twin_task, &k);
	if (!sl)
		return NULL;
	if (sl->tid != tid) {
		if (!claim)
			return NULL;
		sl->tid = tid;
	}
	return sl;
}

/* lv: the invocation's ctx_level(), computed once by the caller */
#define TWIN_OUTER(lv, hook, ida, idb, call)                                    \
	do {                                                                    \
		struct twin_slot *sl = twin_slot((lv), (hook), true);                 \
		if (sl) {                                                       \
			sl->used = 1;                                           \
			sl->done = 0;                                           \
			sl->a = (ida);                                          \
			sl->b = (idb);                                          \
		}                                                               \
		call;                                                           \
		if (sl)                                                         \
			sl->done = 1;                                           \
	} while (0)

#define TWIN_NESTED(lv, hook, ida, idb, call)                                   \
	do {                                                                    \
		struct twin_slot *sl = twin_slot((lv), (hook), false);                \
		if (sl) {                                                       \
			bool first_did = sl->used && sl->done && sl->a == (ida) && \
					 sl->b == (idb);                        \
			sl->used = 0;                                           \
			sl->done = 0;                                           \
			if (first_did)                                          \
				return 0;                                       \
		}                                                               \
		__sync_fetch_and_add(&twin_rescued[(hook)], 1);                 \
		call;                                                           \
	} while (0)

#endif
