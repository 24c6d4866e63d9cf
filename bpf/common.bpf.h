/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What every fact's programs share: the ring buffer and its helpers, the
 * drop counters, the per-socket owner table, the listeners' owners, the
 * kprobe guard marks. Each fact's own maps live in its header. */
#ifndef COMMON_BPF_H
#define COMMON_BPF_H

#include "ctx_level.bpf.h"

/* Sizes are defaults; user space resizes before load (--ringbuf-size,
 * --max-sockets). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Per-socket owner and state age, keyed by the socket's address. An entry
 * is made where a socket's life starts (connect, listen, child of a
 * listener) and dropped at its final ->CLOSE; sockets older than tcpscope
 * get one at their first event. Preallocated LRU: no allocation, no RCU
 * free per socket (BPF socket storage cost ~12% of loopback churn). */
#define SI_OWNER_KNOWN (1u << 0)
struct sk_info {
	struct ev_owner owner;
	__u64 state_ts; /* when the socket entered its current state */
	__u32 flags;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sk_info);
} socks SEC(".maps");

/* Listening sockets' owners by (netns, port): a child created in softirq
 * starts with its listener's owner. */
struct listen_key {
	__u32 netns;
	__u16 port;
	__u16 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct listen_key);
	__type(value, struct ev_owner);
} listeners SEC(".maps");

/* Drop counters (enum drop_reason) and, for the LRU maps (enum lru_id,
 * tcpscope.h), inserts minus deletes: when that exceeds max_entries, live
 * entries were evicted. */
__u64 drops[DROP_MAX] = {};
__s64 lru_live[LRU_MAX] = {};


/*
 * kprobe and classic tracepoint programs share one per-CPU guard in the
 * kernel (bpf_prog_active): while one runs, a softirq on that CPU skips every
 * other one, silently before 6.7. Ours mark the time they run, so that what
 * the tcp_time_wait kprobe may have missed meanwhile is counted.
 */
const volatile __u8 tw_via = VIA_TRACEPOINT; /* tier of the tcp_time_wait hook */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} kp_depth SEC(".maps");

/* Only the kprobe tier of tcp_time_wait reads the marks: elsewhere the
 * constant folds them away. */
static __always_inline void kp_mark(int d)
{
	__u32 zero = 0, *n;

	if (tw_via != VIA_KPROBE)
		return;
	n = bpf_map_lookup_elem(&kp_depth, &zero);
	if (n)
		*n += d;
}

/* Programs of ours running on this CPU, the caller excluded (self: 1 when
 * the caller is itself a guarded program) */
static __always_inline bool kp_busy(__u32 self)
{
	__u32 zero = 0, *n = bpf_map_lookup_elem(&kp_depth, &zero);

	return n && *n > self;
}

#define KP_GUARDED(expr)              \
	({                            \
		int __r;              \
		kp_mark(1);           \
		__r = (expr);         \
		kp_mark(-1);          \
		__r;                  \
	})

static __always_inline void count_drop(int reason)
{
	__sync_fetch_and_add(&drops[reason], 1);
}

/* ts_ns: when it happened, where the caller has read the clock already */
static __always_inline void *ev_reserve_at(__u32 size, __u16 type, __u64 ts_ns)
{
	struct ev_hdr *h = bpf_ringbuf_reserve(&events, size, 0);

	if (!h) {
		count_drop(DROP_RINGBUF);
		return NULL;
	}
	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
	h->ts_ns = ts_ns;
	return h;
}

static __always_inline void *ev_reserve(__u32 size, __u16 type)
{
	return ev_reserve_at(size, type, bpf_ktime_get_ns());
}

/* Waking the reader per event is what costs (docs/performance.md), and so
 * does asking the buffer how full it is: bpf_ringbuf_query() reads the
 * consumer position, a cache line the reader writes after every record. So
 * each CPU counts its own records and wakes the reader every wakeup_every
 * records; the reader also polls every 100 ms, which bounds the latency
 * when events are few. */
const volatile __u32 wakeup_every = 4096;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rb_count SEC(".maps");

static __always_inline void ev_submit(void *e)
{
	__u32 zero = 0, *n = bpf_map_lookup_elem(&rb_count, &zero);
	bool wake = false;

	if (n && ++*n >= wakeup_every) {
		*n = 0;
		wake = true;
	}
	bpf_ringbuf_submit(e, wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline void lru_insert(void *map, int id, __u64 *key, void *val)
{
	if (bpf_map_update_elem(map, key, val, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&lru_live[id], 1);
	else
		bpf_map_update_elem(map, key, val, BPF_ANY);
}

static __always_inline void lru_delete(void *map, int id, __u64 *key)
{
	if (bpf_map_delete_elem(map, key) == 0)
		__sync_fetch_and_add(&lru_live[id], -1);
}

static __always_inline void owner_current(struct ev_owner *o)
{
	__u64 id = bpf_get_current_pid_tgid();

	o->pid = id >> 32;
	o->tid = (__u32)id;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	o->cgroup = bpf_get_current_cgroup_id();
}

#endif
