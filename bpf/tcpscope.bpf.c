// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcpscope kernel side: state transitions, timewait lifecycle and
 * connect()/bind() results, from tracepoints; fentry or kprobe only where
 * the loader found them allowed.
 *
 *   tp_btf/inet_sock_set_state      every full-socket transition (4.16+, tp_btf 5.5+)
 *   tp_btf/timer_{start,cancel,expire_entry} on tw_timer_handler
 *                                   timewait entry, substate change, expiry;
 *                                   kills found by tw_sweep (run from user space)
 *   tracepoint/syscalls/sys_*_{bind,accept4}  bind results, accept owner
 *   fentry|kprobe/tcp_time_wait     (optional) timewait bucket overflow per socket
 *
 * connect() outcomes come from the state machine itself: CLOSE->SYN_SENT in
 * the caller's context starts the attempt, SYN_SENT->ESTABLISHED (port
 * chosen) or SYN_SENT->CLOSE (sk_err, or sport 0 = no free port) ends it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "tcpscope.h"
#include "common.bpf.h"
#include "filter.bpf.h"
#include "sock_read.bpf.h"
#include "port_alloc.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u64 tw_timer_fn = 0; /* address of tw_timer_handler, from kallsyms */
const volatile bool want_syscalls = true;
/* bpf_get_socket_cookie() callable here (5.12+; the loader probes it) */
const volatile bool cookie_helper = true;
extern int CONFIG_HZ __kconfig __weak;


/*
 * The state-change body runs on trusted BTF pointers (tp_btf, fentry: plain
 * loads) or, in the kprobe fallback for kernels without the tracepoint, on
 * a raw pointer (probe reads). 'btf' is a constant in each caller, so only
 * one kind of read is left in each program.
 */
#define SK_READ(btf, sk, field) ((btf) ? (sk)->field : BPF_CORE_READ(sk, field))

static __always_inline void sk_tuple(bool btf, const struct sock *sk, struct ev_tuple *t)
{
	if (btf)
		read_sk_tuple_btf(sk, t);
	else
		read_sk_tuple(sk, t);
}

static __always_inline __u32 sk_netns(bool btf, const struct sock *sk)
{
	return btf ? sk->__sk_common.skc_net.net->ns.inum : read_netns(&sk->__sk_common);
}

/* Where a socket's life (as tcpscope follows it) begins. */
static __always_inline bool sock_starts(int old, int new)
{
	return (old == TS_CLOSE && (new == TS_SYN_SENT || new == TS_LISTEN)) ||
	       (old == TS_LISTEN && new == TS_SYN_RECV);
}

/* Transitions that only ever happen in the owner's own system call
 * (docs: kernel-hooks.md 2.2): there, and only there, current is the owner. */
static __always_inline bool process_context(int old, int new)
{
	if (old == TS_CLOSE && (new == TS_SYN_SENT || new == TS_LISTEN))
		return true; /* connect(), listen() */
	if (new == TS_FIN_WAIT1 && (old == TS_ESTABLISHED || old == TS_SYN_RECV))
		return true; /* close()/shutdown() by the active closer */
	if (old == TS_CLOSE_WAIT && new == TS_LAST_ACK)
		return true; /* close() by the passive closer */
	return false;
}

static __always_inline void emit_call(__u8 op, __s32 ret, __u16 flags, const struct sock *sk,
				      __u64 latency, const struct ev_owner *o,
				      const struct ev_tuple *t)
{
	struct ev_call *e;

	if (!EMITS(EV_CALL) || filt_state_mask || !pass_common(o, t))
		return;
	e = ev_reserve(sizeof(*e), EV_CALL);
	if (!e)
		return;
	e->sk = (__u64)sk;
	e->latency_ns = latency;
	e->owner = *o;
	e->t = *t;
	e->ret = ret;
	e->netns = read_netns(&sk->__sk_common);
	e->flags = flags;
	e->op = op;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	ev_submit(e);
}

/* ------------------------------------------------------------------ */
/* State transitions                                                   */

/* ------------------------------------------------------------------ */
/* Timewait sockets, through the timer tracepoints (kernel-hooks.md 3.4) */

static __always_inline struct inet_timewait_sock *tw_of(struct timer_list *timer)
{
	if (!tw_timer_fn || (__u64)timer->function != tw_timer_fn)
		return NULL;
	return (void *)timer - bpf_core_field_offset(struct inet_timewait_sock, tw_timer);
}

static __always_inline void emit_tw(__u64 tw, const struct tw_info *ti, __u8 kind, __u8 cause,
				    __u64 timeout, __u64 lived)
{
	struct ev_tw *e;

	if (!EMITS(EV_TW) || !pass_states(TS_TIME_WAIT, ti->substate) ||
	    !pass_common(&ti->owner, &ti->t))
		return;
	e = ev_reserve(sizeof(*e), EV_TW);
	if (!e)
		return;
	e->tw = tw;
	e->cookie = ti->cookie;
	e->lived_ns = lived;
	e->timeout_ms = timeout;
	e->owner = ti->owner;
	e->t = ti->t;
	e->netns = ti->netns;
	e->flags = (ti->owner_known ? EVF_OWNER_KNOWN : 0) |
		   (ti->flags & TWF_INFERRED ? EVF_INFERRED : 0);
	e->kind = kind;
	e->substate = ti->substate;
	e->cause = cause;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	ev_submit(e);
}

/* tws entries in the FIN_WAIT2 substate (about): the substate sweep runs
 * only while there are some */
__s64 tw_fw2_live = 0;

/* A timewait socket cancelled at cancel_ns and neither re-armed nor expired:
 * report its end (tuple and owner are the copies we kept) and forget it. */
static __always_inline void tw_killed(__u64 key, struct tw_info *ti, __u64 cancel_ns)
{
	emit_tw(key, ti, TW_END,
		ti->flags & TWF_CANCEL_IN_CONNECT ? TW_CAUSE_REUSED : TW_CAUSE_KILLED, 0,
		ti->enter_ns ? cancel_ns - ti->enter_ns : 0);
	if (ti->substate == TS_FIN_WAIT2)
		__sync_fetch_and_add(&tw_fw2_live, -1);
	lru_delete(&tws, LRU_TW, &key);
}

/* Entries in tw_cancel: user space runs the sweep only when there are some. */
__s64 tw_cancel_live = 0;

static __always_inline void tw_uncancel(__u64 key)
{
	if (bpf_map_delete_elem(&tw_cancel, &key) == 0)
		__sync_fetch_and_add(&tw_cancel_live, -1);
}

static __always_inline void tw_flush(struct tw_pending *p)
{
	__u64 key = p->tw;

	lru_insert(&tws, LRU_TW, &key, &p->ti);
	if (p->ti.substate == TS_FIN_WAIT2)
		__sync_fetch_and_add(&tw_fw2_live, 1);
	emit_tw(key, &p->ti, TW_ENTER, TW_CAUSE_NONE, p->timeout_ms, 0);
	p->tw = 0;
}

/* The full socket's FIN_WAIT2/CLOSING->CLOSE right after tcp_time_wait():
 * the parked timewait socket with its cookie gets this owner; none parked
 * while tcp_time_wait() was seen entering means the bucket limit refused it. */
static __always_inline void tw_adopt(__u32 lv, bool btf, const struct sock *sk, __u64 cookie,
				     const struct ev_owner *o, bool known)
{
	struct tw_pending *p = bpf_map_lookup_elem(&tw_pend, &lv);
	struct tw_expect *x = bpf_map_lookup_elem(&tw_exp, &lv);
	bool expected = x && x->armed && x->cookie == cookie;
	/* Without the hook: SOCK_DONE (a FIN came in) and no error mean this
	 * ->CLOSE is tcp_time_wait(TCP_TIME_WAIT)'s (call sites in tcp_fin()
	 * and for CLOSING), not an abort. FIN_WAIT2-substate refusals stay
	 * unseen: nothing tells them from aborts. */
	bool inferred = !expected && tw_timer_fn &&
			(SK_READ(btf, sk, __sk_common.skc_flags) &
			 (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE))) &&
			!SK_READ(btf, sk, sk_err);

	if (x)
		x->armed = 0;
	if (p && p->tw && p->ti.cookie == cookie) {
		if (known) {
			p->ti.owner = *o;
			p->ti.owner_known = 1;
		}
		tw_flush(p);
		return;
	}
	if (expected || inferred) {
		struct tw_info ti = {};

		ti.owner = *o;
		ti.owner_known = known;
		ti.cookie = cookie;
		ti.substate = expected ? x->substate : TS_TIME_WAIT;
		ti.flags = expected ? 0 : TWF_INFERRED;
		sk_tuple(btf, sk, &ti.t);
		ti.netns = sk_netns(btf, sk);
		emit_tw(0, &ti, TW_OVERFLOW, TW_CAUSE_NONE, 0, 0);
	} else if (tw_via == VIA_KPROBE && kp_busy(btf ? 0 : 1)) {
		/* no timewait socket, and the kprobe could not have run: an
		 * overflow may have gone unseen */
		count_drop(DROP_KPROBE_BUSY);
	}
}

/* Per CPU: the thread between CLOSE->SYN_SENT and the port allocation of
 * its connect(); a timewait socket cancelled by that thread is reused. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} connecting SEC(".maps");

static __always_inline void connecting_mark(__u64 tid)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&connecting, &zero);

	if (c)
		*c = tid;
}

static __always_inline void connect_outcome(bool btf, const struct sock *sk, int newstate,
					    const struct ev_owner *o, const struct ev_tuple *t,
					    __u16 flags, __u64 latency)
{
	int ret = 0;

	connecting_mark(0);
	if (newstate == TS_CLOSE) {
		int err = SK_READ(btf, sk, sk_err);

		if (err)
			ret = -err; /* refused, timed out, unreachable */
		else
			return; /* no port (a port-allocation event tells), or
				 * closed by the application while connecting */
	}
	emit_call(OP_CONNECT, ret, flags, sk, latency, o, t);
}

/* Set when a state program runs with PID 1 current: then this kernel does
 * not hide PID 1 from BPF, and user space's meter of transitions made under
 * PID 1 (user/hidden.h) counts none we missed. */
__u32 saw_pid1 = 0;

static __always_inline int set_state_body(__u32 lv, bool btf, const struct sock *sk, const int oldstate,
					  const int newstate)
{
	struct ev_owner owner = {};
	struct sk_info *si;
	struct ev_state *e;
	struct ev_tuple t = {};
	__u64 now, cookie, in_old = 0, skid = (__u64)sk;
	__u16 flags = 0;
	__u32 netns;

	if (!saw_pid1 && bpf_get_current_pid_tgid() >> 32 == 1)
		saw_pid1 = 1;
	if ((btf ? BPF_CORE_READ_BITFIELD(sk, sk_protocol) :
		   BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol)) != IPPROTO_TCP)
		return 0;
	now = bpf_ktime_get_ns();
	/* The socket's identity for user space, shared with its timewait socket
	 * (inet_twsk_alloc copies sk_cookie) and with the census (sock_diag
	 * reports the same cookie): generated at the first transition, so a
	 * socket never changes key between its events and the census. Only
	 * the kprobe fallback, and kernels before 5.12 (no such helper in
	 * tracing programs, commit c5dbb89fc2ac), cannot generate it: there it
	 * is read, 0 until someone else (the census's sock_diag) made it. */
	if (oldstate == TS_LISTEN && newstate == TS_SYN_RECV)
		/* A child's first transition comes before it has its cookie:
		 * inet_csk_clone_lock() sets it from the request socket after
		 * inet_sk_set_state(SYN_RECV); until then it holds its
		 * listener's copy (seen on 6.1: children of one listener all
		 * "had" the listener's cookie). 0: user space keys this event
		 * by the socket and takes the cookie of its next one. */
		cookie = 0;
	else if (btf && cookie_helper)
		cookie = bpf_get_socket_cookie((void *)sk);
	else
		cookie = SK_READ(btf, sk, __sk_common.skc_cookie.counter);

	sk_tuple(btf, sk, &t);
	netns = sk_netns(btf, sk);

	if (sock_starts(oldstate, newstate)) {
		/* A socket's life starts here (connect, listen, or a child
		 * created by a listener): a fresh entry, whatever a freed socket
		 * at the same address left behind. */
		struct sk_info fresh = { .state_ts = now, .flags = SI_OWNER_KNOWN };

		if (oldstate == TS_LISTEN) {
			/* the child belongs to its listener's owner until accept() */
			struct listen_key lk = { .netns = netns, .port = t.sport };
			struct ev_owner *lo = bpf_map_lookup_elem(&listeners, &lk);

			if (lo)
				fresh.owner = *lo;
			else
				fresh.flags = 0;
		} else {
			owner_current(&fresh.owner);
		}
		lru_insert(&socks, LRU_SOCK, &skid, &fresh);
		if (fresh.flags & SI_OWNER_KNOWN) {
			owner = fresh.owner;
			flags |= EVF_OWNER_KNOWN;
		}
		if (newstate == TS_LISTEN) {
			struct listen_key lk = { .netns = netns, .port = t.sport };

			if (bpf_map_update_elem(&listeners, &lk, &owner, BPF_ANY))
				count_drop(DROP_MAP_FULL);
		}
	} else {
		struct sk_info cur = {};

		si = bpf_map_lookup_elem(&socks, &skid);
		if (si) {
			if (process_context(oldstate, newstate)) {
				owner_current(&si->owner);
				si->flags |= SI_OWNER_KNOWN;
			}
			in_old = now - si->state_ts;
			flags |= EVF_IN_OLD_KNOWN;
			si->state_ts = now;
			cur = *si;
		} else {
			/* older than tcpscope: age and owner unknown so far */
			cur.state_ts = now;
			if (process_context(oldstate, newstate)) {
				owner_current(&cur.owner);
				cur.flags = SI_OWNER_KNOWN;
			}
			if (newstate != TS_CLOSE)
				lru_insert(&socks, LRU_SOCK, &skid, &cur);
		}
		if (cur.flags & SI_OWNER_KNOWN) {
			owner = cur.owner;
			flags |= EVF_OWNER_KNOWN;
		}
		if (newstate == TS_CLOSE) {
			lru_delete(&socks, LRU_SOCK, &skid);
			if (oldstate == TS_LISTEN) {
				struct listen_key lk = { .netns = netns, .port = t.sport };

				bpf_map_delete_elem(&listeners, &lk);
			}
		}
	}

	/* tcp_time_wait() armed the timewait socket's timer just before this
	 * transition: give that socket its owner and announce it. */
	if (newstate == TS_CLOSE && (oldstate == TS_FIN_WAIT2 || oldstate == TS_CLOSING))
		tw_adopt(lv, btf, sk, cookie, &owner, flags & EVF_OWNER_KNOWN);

	if (EMITS(EV_STATE) && pass_states(oldstate, newstate) && pass_common(&owner, &t)) {
		e = ev_reserve(sizeof(*e), EV_STATE);
		if (e) {
			e->sk = skid;
			e->cookie = cookie;
			e->in_old_ns = in_old;
			e->owner = owner;
			e->t = t;
			e->netns = netns;
			e->flags = flags;
			e->old_state = oldstate;
			e->new_state = newstate;
			ev_submit(e);
		}
	}

	port_tp_transition(sk, oldstate, newstate, &t);
	/* after the transition that decides it, the connect() outcome */
	if (oldstate == TS_CLOSE && newstate == TS_SYN_SENT)
		connecting_mark(bpf_get_current_pid_tgid());
	else if (oldstate == TS_SYN_SENT)
		connect_outcome(btf, sk, newstate, &owner, &t, flags, in_old);
	return 0;
}

/*
 * A tracepoint program still running on a CPU when the same tracepoint
 * fires again there is skipped by the kernel (recursion_misses, counted per
 * program and per CPU): on loopback that is a process-context transition
 * interrupted by the receive path's softirq, or (6.18, where tracepoint
 * programs run preemptible, only migration disabled) preempted by another
 * task that makes a transition. A second program on the same tracepoint,
 * attached after the first (so it runs after it in every invocation), has
 * its own guard and takes over exactly the invocations the first missed.
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
enum twin_hook { TWIN_STATE, TWIN_TIMER_START, TWIN_MAX };

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
static __always_inline struct twin_slot *twin_slot(const void *ctx, __u32 hook, bool claim)
{
	struct twin_slot *sl;
	__u32 tid, k;

	if (ctx_level(ctx))
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

#define TWIN_OUTER(hook, ida, idb, call)                                        \
	do {                                                                    \
		struct twin_slot *sl = twin_slot(ctx, (hook), true);                  \
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

#define TWIN_NESTED(hook, ida, idb, call)                                       \
	do {                                                                    \
		struct twin_slot *sl = twin_slot(ctx, (hook), false);                 \
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

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	TWIN_OUTER(TWIN_STATE, (__u64)sk, oldstate << 8 | newstate,
		   set_state_body(ctx_level(ctx), true, sk, oldstate, newstate));
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_set_state_nested, const struct sock *sk, const int oldstate, const int newstate)
{
	TWIN_NESTED(TWIN_STATE, (__u64)sk, oldstate << 8 | newstate,
		    set_state_body(ctx_level(ctx), true, sk, oldstate, newstate));
	return 0;
}

/* Kernels without sock:inet_sock_set_state (before 4.16), or when told not
 * to use it: tcp_set_state(sk, state) itself, two arguments in every
 * version; the old state is still in sk. Transitions made outside it
 * (inet_sk_state_store: listen() and its end, a new child's SYN_RECV) are
 * not seen. The kprobe variant cannot generate socket cookies. */
SEC("fentry/tcp_set_state")
int BPF_PROG(fe_tcp_set_state, struct sock *sk, int state)
{
	return set_state_body(ctx_level(ctx), true, sk, sk->__sk_common.skc_state, state);
}

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(kp_tcp_set_state, struct sock *sk, int state)
{
	return KP_GUARDED(set_state_body(ctx_level(ctx), false, sk, BPF_CORE_READ(sk, __sk_common.skc_state), state));
}

/* ------------------------------------------------------------------ */
/* Timewait timer events */

static __always_inline int timer_start_body(__u32 lv, struct timer_list *timer, unsigned long expires)
{
	struct inet_timewait_sock *tw = tw_of(timer);
	struct tw_info *ti, fresh = {};
	__u64 key, cookie, timeout;
	__u8 substate;

	if (!tw) {
		port_tp_timer(timer);
		return 0;
	}
	key = (__u64)tw;
	cookie = BPF_CORE_READ(tw, __tw_common.skc_cookie.counter);
	substate = BPF_CORE_READ(tw, tw_substate);
	/* HZ from the kernel config (libbpf reads /proc/config.gz) */
	timeout = CONFIG_HZ ? (expires - bpf_jiffies64()) * 1000 / CONFIG_HZ : 0;

	ti = bpf_map_lookup_elem(&tws, &key);
	if (ti && ti->cookie == cookie) {
		/* Re-armed: the peer's FIN moved a FIN_WAIT2 tw to TIME_WAIT,
		 * or a duplicate restarted the 60 s. */
		bool adopted = ti->flags & TWF_ADOPTED;

		ti->flags &= ~(TWF_CANCEL_IN_CONNECT | TWF_ADOPTED);
		tw_uncancel(key);
		/* an adopted one re-armed: its FIN came (the substate read at its
		 * adoption, in the cancel of this very re-arm, is already the new
		 * one); the census may still say FIN_WAIT2 */
		if (ti->substate != substate || (adopted && substate == TS_TIME_WAIT)) {
			if (ti->substate == TS_FIN_WAIT2)
				__sync_fetch_and_add(&tw_fw2_live, -1);
			ti->substate = substate;
			emit_tw(key, ti, TW_SUBSTATE, TW_CAUSE_NONE, timeout, 0);
		}
		return 0;
	}

	/* Our entry for this address is a dead timewait socket whose memory
	 * was reused by this new one before the sweep ran: it was killed. */
	if (ti) {
		struct tw_cancelled *tc = bpf_map_lookup_elem(&tw_cancel, &key);

		tw_killed(key, ti, tc ? tc->ns : bpf_ktime_get_ns());
		tw_uncancel(key);
	}

	/* A new timewait socket: park it until the full socket's ->CLOSE
	 * event names its owner (tw_adopt); a slot still parked was never
	 * adopted and goes out without an owner. */
	struct tw_pending *p = bpf_map_lookup_elem(&tw_pend, &lv);

	if (!p)
		return 0;
	if (p->tw)
		tw_flush(p);
	p->tw = key;
	p->timeout_ms = timeout;
	p->ti = fresh;
	p->ti.cookie = cookie;
	p->ti.enter_ns = bpf_ktime_get_ns();
	p->ti.substate = substate;
	read_tuple(&tw->__tw_common, &p->ti.t);
	p->ti.netns = read_netns(&tw->__tw_common);
	return 0;
}

SEC("tp_btf/timer_start")
int BPF_PROG(on_timer_start, struct timer_list *timer, unsigned long expires)
{
	TWIN_OUTER(TWIN_TIMER_START, (__u64)timer, expires, timer_start_body(ctx_level(ctx), timer, expires));
	return 0;
}

SEC("tp_btf/timer_start")
int BPF_PROG(on_timer_start_nested, struct timer_list *timer, unsigned long expires)
{
	TWIN_NESTED(TWIN_TIMER_START, (__u64)timer, expires, timer_start_body(ctx_level(ctx), timer, expires));
	return 0;
}

/* A timewait socket older than tcpscope (the census has it; we did not see
 * it start): its entry, made when its timer is first touched (cancelled or
 * expiring) so that its end is reported like the others'. Owner and age
 * unknown (enter_ns 0). */
static __always_inline struct tw_info *tw_adopt_old(struct inet_timewait_sock *tw, __u64 key)
{
	struct tw_info ti = {};

	ti.cookie = BPF_CORE_READ(tw, __tw_common.skc_cookie.counter);
	ti.substate = BPF_CORE_READ(tw, tw_substate);
	read_tuple(&tw->__tw_common, &ti.t);
	ti.netns = read_netns(&tw->__tw_common);
	ti.flags = TWF_ADOPTED;
	lru_insert(&tws, LRU_TW, &key, &ti);
	if (ti.substate == TS_FIN_WAIT2)
		__sync_fetch_and_add(&tw_fw2_live, 1);
	return bpf_map_lookup_elem(&tws, &key);
}

SEC("tp_btf/timer_expire_entry")
int BPF_PROG(on_timer_expire, struct timer_list *timer)
{
	struct inet_timewait_sock *tw = tw_of(timer);
	struct tw_info *ti;
	__u64 key;

	if (!tw)
		return 0;
	key = (__u64)tw;
	ti = bpf_map_lookup_elem(&tws, &key);
	if (!ti)
		ti = tw_adopt_old(tw, key);
	if (!ti)
		return 0;
	/* tw_timer_handler() runs next: inet_twsk_kill(), then freed */
	tw_uncancel(key);
	emit_tw(key, ti, TW_END, TW_CAUSE_EXPIRED, 0,
		ti->enter_ns ? bpf_ktime_get_ns() - ti->enter_ns : 0);
	if (ti->substate == TS_FIN_WAIT2)
		__sync_fetch_and_add(&tw_fw2_live, -1);
	lru_delete(&tws, LRU_TW, &key);
	return 0;
}

SEC("tp_btf/timer_cancel")
int BPF_PROG(on_timer_cancel, struct timer_list *timer)
{
	struct inet_timewait_sock *tw = tw_of(timer);
	struct tw_info *ti;
	__u64 key, tid;

	if (!tw)
		return 0;
	key = (__u64)tw;
	ti = bpf_map_lookup_elem(&tws, &key);
	if (!ti)
		ti = tw_adopt_old(tw, key);
	if (!ti)
		return 0;
	/* Cancelled by a thread inside connect(): tcp_tw_reuse at work. */
	tid = bpf_get_current_pid_tgid();
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&connecting, &zero);

	if (c && *c == tid) {
		ti->flags |= TWF_CANCEL_IN_CONNECT;
		if (reuse_via == VIA_TRACEPOINT) {
			struct alloc_ctx *a = alloc_get();

			if (a && a->op == PORT_CONNECT)
				a->flags |= AF_TW_REUSED;
		}
	}
	/* A reschedule re-arms within microseconds, an expiry calls the
	 * handler within microseconds; a cancel followed by neither is a
	 * kill (reuse, RST, SYN recycle, netns exit): tw_sweep finds it. */
	struct tw_cancelled tc = { bpf_ktime_get_ns(), ti->cookie };

	if (bpf_map_update_elem(&tw_cancel, &key, &tc, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&tw_cancel_live, 1);
	else if (bpf_map_update_elem(&tw_cancel, &key, &tc, BPF_ANY))
		count_drop(DROP_MAP_FULL);
	return 0;
}

/* tcp_time_wait(sk, state, timeo), where fentry or kprobe is allowed (the
 * loader probes; tracepoint-only kernels skip this): arms the overflow check
 * of tw_adopt(). The signature is the same from 4.x to 6.18. The cookie was
 * generated at ->FIN_WAIT1 by on_set_state, so a plain read finds it. */
static __always_inline int time_wait_body(__u32 lv, struct sock *sk, int state)
{
	struct tw_expect *x = bpf_map_lookup_elem(&tw_exp, &lv);

	if (!x)
		return 0;
	x->cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	x->substate = state;
	x->armed = 1;
	return 0;
}

SEC("fentry/tcp_time_wait")
int BPF_PROG(fe_tcp_time_wait, struct sock *sk, int state, int timeo)
{
	return time_wait_body(ctx_level(ctx), sk, state);
}

SEC("kprobe/tcp_time_wait")
int BPF_KPROBE(kp_tcp_time_wait, struct sock *sk, int state, int timeo)
{
	return time_wait_body(ctx_level(ctx), sk, state);
}

/* Run by user space (BPF_PROG_TEST_RUN) on every poll pass: report the
 * timewait sockets whose timer was cancelled more than a millisecond ago and
 * neither re-armed nor expired since: they were killed. */
struct sweep_ctx {
	__u64 now;
};

static long sweep_one(void *map, __u64 *key, struct tw_cancelled *tc, struct sweep_ctx *c)
{
	struct tw_info *ti;
	__u64 k = *key;

	if (c->now - tc->ns < 1000000ULL)
		return 0;
	ti = bpf_map_lookup_elem(&tws, &k);
	if (ti && ti->cookie == tc->cookie)
		tw_killed(k, ti, tc->ns);
	tw_uncancel(k);
	return 0; /* bounded by the map's size */
}

SEC("raw_tp")
int tw_sweep(void *ctx)
{
	struct sweep_ctx c = { .now = bpf_ktime_get_ns() };

	bpf_for_each_map_elem(&tw_cancel, sweep_one, &c, 0);
	return 0;
}

/*
 * A timewait socket in the FIN_WAIT2 substate moves to TIME_WAIT when the
 * peer's FIN comes (tcp_timewait_state_process()): its timer is re-armed
 * with mod_timer_pending(), which returns early, without the timer_start
 * tracepoint, when the new expiry falls in the same wheel bucket (60 s
 * after a FIN that came within seconds does). So the change is also looked
 * for here: run by user space (BPF_PROG_TEST_RUN) a few times a second
 * while such sockets exist, it reads the substate of each and reports the
 * ones that changed. The socket may be gone: the cookie must still match.
 */

static long substate_one(void *map, __u64 *key, struct tw_info *ti, void *c)
{
	struct inet_timewait_sock *tw = (void *)*key;
	__u8 substate;

	if (ti->substate != TS_FIN_WAIT2)
		return 0;
	if (BPF_CORE_READ(tw, __tw_common.skc_cookie.counter) != ti->cookie)
		return 0;
	substate = BPF_CORE_READ(tw, tw_substate);
	if (substate == ti->substate)
		return 0;
	ti->substate = substate;
	__sync_fetch_and_add(&tw_fw2_live, -1);
	emit_tw(*key, ti, TW_SUBSTATE, TW_CAUSE_NONE, 0, 0);
	return 0;
}

SEC("raw_tp")
int tw_substate_sweep(void *ctx)
{
	bpf_for_each_map_elem(&tws, substate_one, NULL, 0);
	return 0;
}

/* The two sweeps one key at a time, for kernels without
 * bpf_for_each_map_elem() (before 5.13, commit 69c087ba6225 "bpf: Add
 * bpf_for_each_map_elem() helper"): user space walks the map's keys and
 * runs these with the key as the first argument (BPF_PROG_TEST_RUN of a
 * raw_tp takes its arguments from user space from 5.10 on). */
SEC("raw_tp")
int tw_sweep_key(struct bpf_raw_tracepoint_args *ctx)
{
	struct sweep_ctx c = { .now = bpf_ktime_get_ns() };
	__u64 key = ctx->args[0];
	struct tw_cancelled *tc = bpf_map_lookup_elem(&tw_cancel, &key);

	if (tc)
		sweep_one(&tw_cancel, &key, tc, &c);
	return 0;
}

SEC("raw_tp")
int tw_substate_key(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 key = ctx->args[0];
	struct tw_info *ti = bpf_map_lookup_elem(&tws, &key);

	if (ti)
		substate_one(&tws, &key, ti, NULL);
	return 0;
}

/* ------------------------------------------------------------------ */
/* connect()/bind() results and accept() owners, from syscall tracepoints */

struct sys_enter_ctx {
	__u64 _common;
	__s32 nr;
	__u32 _pad;
	__u64 args[6];
};

struct sys_exit_ctx {
	__u64 _common;
	__s32 nr;
	__u32 _pad;
	__s64 ret;
};

#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* fd -> struct sock, only for TCP sockets of the current task. */
static __always_inline struct sock *fd_to_tcp_sk(long fd)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;
	struct socket *so;
	struct sock *sk;

	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(so, sk);
	if (!sk || BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != IPPROTO_TCP ||
	    BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type) != SOCK_STREAM)
		return NULL;
	return sk;
}

/* Read the sockaddr the caller passed: family, port, address. */
static __always_inline bool read_user_addr(const void *uaddr, __u8 *addr, __u16 *port,
					   __u16 *family)
{
	__u16 fam = 0, p = 0;

	if (bpf_probe_read_user(&fam, sizeof(fam), uaddr))
		return false;
	if (fam != AF_INET && fam != AF_INET6)
		return false;
	bpf_probe_read_user(&p, sizeof(p), uaddr + 2);
	if (fam == AF_INET)
		bpf_probe_read_user(addr, 4, uaddr + 4);
	else
		bpf_probe_read_user(addr, 16, uaddr + 8);
	*port = bswap16(p);
	*family = fam;
	return true;
}

static __always_inline int bind_enter(struct sys_enter_ctx *ctx)
{
	struct sock *sk = fd_to_tcp_sk((long)ctx->args[0]);
	struct ev_tuple req = {};
	struct alloc_ctx *a;

	if (!sk)
		return 0;
	if (!read_user_addr((void *)ctx->args[1], req.saddr, &req.sport, &req.family))
		return 0;
	a = alloc_new(req.sport ? 0 : PORT_BIND, sk, bpf_ktime_get_ns());
	if (a)
		a->t = req;
	return 0;
}

/* bind() to a fixed port: a call event. To port 0: a port allocation,
 * reported here in tracepoint-only mode, by get_port_exit() otherwise (a
 * failure before the allocation, or IP_BIND_ADDRESS_NO_PORT, stays a call). */
static __always_inline int bind_exit(struct sys_exit_ctx *ctx)
{
	struct alloc_ctx *a = alloc_get();
	struct ev_owner owner = {};
	struct ev_tuple t = {};
	struct sock *sk;
	__u64 lat;

	if (!a)
		return 0;
	sk = (struct sock *)a->sk;
	lat = bpf_ktime_get_ns() - a->ts;
	read_sk_tuple(sk, &t);
	if (a->op == PORT_BIND) {
		if (a->flags & AF_DONE)
			goto out;
		if (port_via == VIA_TRACEPOINT &&
		    ((ctx->ret == 0 && t.sport) || ctx->ret == -EADDRINUSE)) {
			emit_port(a, sk, ctx->ret, VIA_TRACEPOINT, EVF_LAT_UPPER);
			goto out;
		}
	}
	t.family = a->t.family;
	if (ctx->ret != 0) {
		/* what the caller asked for; on success what the kernel bound */
		__builtin_memcpy(t.saddr, a->t.saddr, sizeof(t.saddr));
		t.sport = a->t.sport;
	}
	__builtin_memset(t.daddr, 0, sizeof(t.daddr));
	t.dport = 0;
	owner_current(&owner);
	emit_call(OP_BIND, ctx->ret, EVF_OWNER_KNOWN | EVF_IN_OLD_KNOWN, sk, lat, &owner, &t);
out:
	alloc_free();
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_bind")
int on_bind_enter(struct sys_enter_ctx *ctx)
{
	return KP_GUARDED(bind_enter(ctx));
}

SEC("tracepoint/syscalls/sys_exit_bind")
int on_bind_exit(struct sys_exit_ctx *ctx)
{
	return KP_GUARDED(bind_exit(ctx));
}

static __always_inline int accept_exit(struct sys_exit_ctx *ctx)
{
	struct sk_info *si;
	struct sock *sk;
	__u64 key;

	if (ctx->ret < 0)
		return 0;
	sk = fd_to_tcp_sk(ctx->ret);
	if (!sk)
		return 0;
	/* the child's entry exists since its LISTEN->SYN_RECV: the process
	 * that accept()ed it owns it from now on */
	key = (__u64)sk;
	si = bpf_map_lookup_elem(&socks, &key);
	if (si) {
		owner_current(&si->owner);
		si->flags |= SI_OWNER_KNOWN;
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int on_accept4_exit(struct sys_exit_ctx *ctx)
{
	return KP_GUARDED(accept_exit(ctx));
}

SEC("tracepoint/syscalls/sys_exit_accept")
int on_accept_exit(struct sys_exit_ctx *ctx)
{
	return KP_GUARDED(accept_exit(ctx));
}

SEC("tracepoint/syscalls/sys_exit_connect")
int on_connect_exit(struct sys_exit_ctx *ctx)
{
	kp_mark(1);
	port_tp_sys_exit(PORT_CONNECT, ctx->ret);
	kp_mark(-1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_listen")
int on_listen_exit(struct sys_exit_ctx *ctx)
{
	kp_mark(1);
	port_tp_sys_exit(PORT_LISTEN, ctx->ret);
	kp_mark(-1);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Port allocation, where fentry/fexit or kprobes are allowed: thin
 * wrappers over the bodies in port_alloc.bpf.h; the loader keeps one tier. */

SEC("fentry/__inet_hash_connect")
int BPF_PROG(fe_hash_connect, void *death_row, struct sock *sk)
{
	return hash_connect_enter(sk);
}

/* An fexit program finds the return value after the arguments, and 6.15
 * gave __inet_hash_connect() a fifth one (hash_port0): the loader reads the
 * count from BTF. (bpf_get_func_ret() would ask, but only from 5.17 on.) */
const volatile __u32 hash_connect_nargs = 4;

SEC("fexit/__inet_hash_connect")
int BPF_PROG(fx_hash_connect)
{
	__u64 ret;

	/* constant at load: the verifier walks one branch; the barrier keeps
	 * the compiler from merging the two loads into one at a computed
	 * offset, which the verifier refuses on the context */
	if (hash_connect_nargs == 5) {
		ret = ctx[5];
		barrier_var(ret);
	} else {
		ret = ctx[4];
	}
	return hash_connect_exit((int)ret, VIA_FENTRY);
}

SEC("fentry/__inet_check_established")
int BPF_PROG(fe_check_est, void *death_row, struct sock *sk, __u16 lport)
{
	return check_established_enter(lport);
}

SEC("fentry/__inet6_check_established")
int BPF_PROG(fe_check_est6, void *death_row, struct sock *sk, __u16 lport)
{
	return check_established_enter(lport);
}

SEC("fexit/tcp_twsk_unique")
int BPF_PROG(fx_twsk_unique, struct sock *sk, struct sock *sktw, void *twp, int ret)
{
	return twsk_unique_exit(ret);
}

SEC("fentry/inet_csk_get_port")
int BPF_PROG(fe_get_port, struct sock *sk, unsigned short snum)
{
	return get_port_enter(sk, snum);
}

SEC("fexit/inet_csk_get_port")
int BPF_PROG(fx_get_port, struct sock *sk, unsigned short snum, int ret)
{
	return get_port_exit(ret, VIA_FENTRY);
}

SEC("fentry/inet_csk_bind_conflict")
int BPF_PROG(fe_bind_conflict, const struct sock *sk, const struct inet_bind_bucket *tb)
{
	return bind_conflict_enter(tb);
}

SEC("kprobe/__inet_hash_connect")
int BPF_KPROBE(kp_hash_connect, void *death_row, struct sock *sk)
{
	return KP_GUARDED(hash_connect_enter(sk));
}

SEC("kretprobe/__inet_hash_connect")
int BPF_KRETPROBE(kr_hash_connect, int ret)
{
	return KP_GUARDED(hash_connect_exit(ret, VIA_KPROBE));
}

SEC("kprobe/__inet_check_established")
int BPF_KPROBE(kp_check_est, void *death_row, struct sock *sk, __u16 lport)
{
	return KP_GUARDED(check_established_enter(lport));
}

SEC("kprobe/__inet6_check_established")
int BPF_KPROBE(kp_check_est6, void *death_row, struct sock *sk, __u16 lport)
{
	return KP_GUARDED(check_established_enter(lport));
}

SEC("kretprobe/tcp_twsk_unique")
int BPF_KRETPROBE(kr_twsk_unique, int ret)
{
	return KP_GUARDED(twsk_unique_exit(ret));
}

SEC("kprobe/inet_csk_get_port")
int BPF_KPROBE(kp_get_port, struct sock *sk, unsigned short snum)
{
	return KP_GUARDED(get_port_enter(sk, snum));
}

SEC("kretprobe/inet_csk_get_port")
int BPF_KRETPROBE(kr_get_port, int ret)
{
	return KP_GUARDED(get_port_exit(ret, VIA_KPROBE));
}

SEC("kprobe/inet_csk_bind_conflict")
int BPF_KPROBE(kp_bind_conflict, const struct sock *sk, const struct inet_bind_bucket *tb)
{
	return KP_GUARDED(bind_conflict_enter(tb));
}

/* ------------------------------------------------------------------ */
/* Listen (accept) queue overflow (kernel-hooks.md 5): sk_acceptq_is_full()
 * is the first test of tcp_conn_request() (the SYN is dropped) and of
 * tcp_v4/v6_syn_recv_sock() (the final ACK is dropped); both count
 * ListenOverflows. fentry/kprobe read the same test at entry; tracepoint-only
 * kernels see the ACK stage as kfree_skb(TCP_LISTEN_OVERFLOW) since 6.15. */

static __always_inline void emit_listen_ovf(const struct sock *sk, __u8 stage, __u8 via,
					    const struct request_sock *req)
{
	struct ev_owner owner = {};
	struct ev_listen_ovf *e;
	struct listen_key lk = {};
	struct ev_owner *lo;
	struct ev_tuple t = {};
	__u16 flags = 0;

	if (!EMITS(EV_LISTEN_OVF) || filt_state_mask)
		return;
	read_sk_tuple(sk, &t);
	if (req) {
		struct ev_tuple peer = {};

		read_tuple(&req->__req_common, &peer);
		__builtin_memcpy(t.daddr, peer.daddr, sizeof(t.daddr));
		t.dport = peer.dport;
	}
	lk.netns = read_netns(&sk->__sk_common);
	lk.port = t.sport;
	lo = bpf_map_lookup_elem(&listeners, &lk);
	if (lo) {
		owner = *lo;
		flags |= EVF_OWNER_KNOWN;
	}
	if (!pass_common(&owner, &t))
		return;
	e = ev_reserve(sizeof(*e), EV_LISTEN_OVF);
	if (!e)
		return;
	e->sk = (__u64)sk;
	e->owner = owner;
	e->t = t;
	e->netns = lk.netns;
	e->accept_queue = BPF_CORE_READ(sk, sk_ack_backlog);
	e->backlog = BPF_CORE_READ(sk, sk_max_ack_backlog);
	e->flags = flags;
	e->stage = stage;
	e->via = via;
	ev_submit(e);
}

/* sk_acceptq_is_full(): more in the queue than the limit */
static __always_inline int listen_check(const struct sock *sk, __u8 stage, __u8 via,
					const struct request_sock *req)
{
	if (BPF_CORE_READ(sk, sk_ack_backlog) > BPF_CORE_READ(sk, sk_max_ack_backlog))
		emit_listen_ovf(sk, stage, via, req);
	return 0;
}

/* tcp_conn_request(rsk_ops, af_ops, sk, skb): the listener is the 3rd
 * argument since 4.x. tcp_v4/v6_syn_recv_sock(sk, skb, req, ...): listener
 * 1st, the request (peer address) 3rd, since 4.x. */
SEC("fentry/tcp_conn_request")
int BPF_PROG(fe_conn_request, void *rsk_ops, void *af_ops, struct sock *sk)
{
	return listen_check(sk, OVF_SYN, VIA_FENTRY, NULL);
}

SEC("fentry/tcp_v4_syn_recv_sock")
int BPF_PROG(fe_syn_recv4, struct sock *sk, struct sk_buff *skb, struct request_sock *req)
{
	return listen_check(sk, OVF_ACK, VIA_FENTRY, req);
}

SEC("fentry/tcp_v6_syn_recv_sock")
int BPF_PROG(fe_syn_recv6, struct sock *sk, struct sk_buff *skb, struct request_sock *req)
{
	return listen_check(sk, OVF_ACK, VIA_FENTRY, req);
}

SEC("kprobe/tcp_conn_request")
int BPF_KPROBE(kp_conn_request, void *rsk_ops, void *af_ops, struct sock *sk)
{
	return listen_check(sk, OVF_SYN, VIA_KPROBE, NULL);
}

SEC("kprobe/tcp_v4_syn_recv_sock")
int BPF_KPROBE(kp_syn_recv4, struct sock *sk, struct sk_buff *skb, struct request_sock *req)
{
	return listen_check(sk, OVF_ACK, VIA_KPROBE, req);
}

SEC("kprobe/tcp_v6_syn_recv_sock")
int BPF_KPROBE(kp_syn_recv6, struct sock *sk, struct sk_buff *skb, struct request_sock *req)
{
	return listen_check(sk, OVF_ACK, VIA_KPROBE, req);
}

/* 6.15+: the final ACK freed with reason TCP_LISTEN_OVERFLOW, rx_sk = the
 * listener (the 4-argument form exists since 6.11; loaded only when the
 * reason exists). */
SEC("tp_btf/kfree_skb")
int BPF_PROG(on_kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason,
	     struct sock *rx_sk)
{
	if (reason != bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TCP_LISTEN_OVERFLOW) ||
	    !rx_sk)
		return 0;
	emit_listen_ovf(rx_sk, OVF_ACK, VIA_TRACEPOINT, NULL);
	return 0;
}
