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
struct sk_info {
	struct ev_owner owner;
	__u64 state_ts;	    /* when the socket entered its current state */
	__u32 owner_known; /* 1: owner captured in the owner's own system call */
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sk_info);
} socks SEC(".maps");

/* The same table without a lock, where BPF has cmpxchg (5.12+, 5ffa25502b5a;
 * the loader probes): every hash-map update or delete takes the bucket's
 * lock and the LRU's, each saving and restoring interrupts, and in a guest
 * whose interrupt flag is paravirtualized that costs ~450 ns per operation
 * (measured on the 2-core development VM: 4 per connection, a fifth of the
 * state programs' time). Here an array of sets of SK_WAYS slots, the set
 * chosen by a hash of the socket's address; a free slot is claimed with
 * cmpxchg on its key and freed by writing the key back to 0. A slot's
 * value is written only by its socket's own transitions, which the socket
 * lock serializes. A full set gives up the slot whose socket changed state
 * longest ago (counted: sk_evicted, reported as lost to eviction). */
#define SK_WAYS 4
struct sk_slot {
	__u64 key; /* the socket's address; 0 = free */
	struct sk_info v;
};

struct sk_set {
	struct sk_slot way[SK_WAYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* the loader sizes it where it is used */
	__type(key, __u32);
	__type(value, struct sk_set);
} sk_sets SEC(".maps");

const volatile bool sk_lockfree = false;
const volatile __u32 sk_set_mask = 0; /* sets - 1, sets a power of two */
__u64 sk_evicted = 0;

/* The socket's address as a plain number: where it is a BTF pointer
 * (tp_btf, fentry) the verifier forbids hashing it, and the copy a probe
 * read makes of it is a scalar. For the lock-free table only. */
static __always_inline __u64 sk_key(const __u64 *addr)
{
	__u64 k = 0;

	if (!sk_lockfree)
		return *addr;
	bpf_probe_read_kernel(&k, sizeof(k), addr);
	return k;
}

static __always_inline struct sk_set *sk_set_of(__u64 key)
{
	/* slab addresses: the low bits carry nothing; Fibonacci hashing */
	__u32 i = (__u32)(((key >> 6) * 0x9E3779B97F4A7C15ULL) >> 32) & sk_set_mask;

	return bpf_map_lookup_elem(&sk_sets, &i);
}

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
	h->_pad = 0;
	h->ts_ns = ts_ns;
	return h;
}

static __always_inline void *ev_reserve(__u32 size, __u16 type)
{
	return ev_reserve_at(size, type, bpf_ktime_get_ns());
}

/* Waking the reader per event is what costs (a minimal ring-buffer tracer
 * woken per event kept ~0.5 of loopback churn's throughput on a 2-CPU host,
 * the same one woken in batches 0.98; docs/overhead.md), and so
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

/* The slot holding key in its set, or NULL */
static __always_inline struct sk_slot *sk_way(struct sk_set *set, __u64 key)
{
#pragma unroll
	for (int w = 0; w < SK_WAYS; w++)
		if (set->way[w].key == key)
			return &set->way[w];
	return NULL;
}

/* The socket's entry, or NULL */
static __always_inline struct sk_info *sk_find(__u64 key)
{
	struct sk_set *set;
	struct sk_slot *sl;

	if (!sk_lockfree)
		return bpf_map_lookup_elem(&socks, &key);
	set = sk_set_of(key);
	sl = set ? sk_way(set, key) : NULL;
	return sl ? &sl->v : NULL;
}

/* Make (or replace) the socket's entry */
static __always_inline void sk_put(__u64 key, const struct sk_info *v)
{
	struct sk_set *set;
	struct sk_slot *sl;
	__u32 old = 0;
	__u64 prev;

	if (!sk_lockfree) {
		lru_insert(&socks, LRU_SOCK, &key, (void *)v);
		return;
	}
	set = sk_set_of(key);
	if (!set)
		return;
	sl = sk_way(set, key);
	if (sl) {
		sl->v = *v;
		return;
	}
#pragma unroll
	for (int w = 0; w < SK_WAYS; w++)
		if (!set->way[w].key && __sync_val_compare_and_swap(&set->way[w].key, 0, key) == 0) {
			set->way[w].v = *v;
			return;
		}
#pragma unroll
	for (int w = 1; w < SK_WAYS; w++)
		if (set->way[w].v.state_ts < set->way[old & (SK_WAYS - 1)].v.state_ts)
			old = w;
	old &= SK_WAYS - 1;
	prev = set->way[old].key;
	if (prev && __sync_val_compare_and_swap(&set->way[old].key, prev, key) == prev) {
		set->way[old].v = *v;
		__sync_fetch_and_add(&sk_evicted, 1);
	} else {
		count_drop(DROP_MAP_FULL);
	}
}

static __always_inline void sk_drop(__u64 key)
{
	struct sk_set *set;
	struct sk_slot *sl;

	if (!sk_lockfree) {
		lru_delete(&socks, LRU_SOCK, &key);
		return;
	}
	set = sk_set_of(key);
	sl = set ? sk_way(set, key) : NULL;
	if (sl)
		__sync_val_compare_and_swap(&sl->key, key, 0);
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
