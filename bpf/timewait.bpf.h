/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Fact: timewait sockets, their entry (and the bucket overflow where
 * tcp_time_wait() can be hooked), substate change, expiry and early kills.
 *   tp_btf/timer_{start,cancel,expire_entry} on tw_timer_handler: entry,
 *     substate change, expiry; kills found by the sweeps, run from user space
 *   fentry|kprobe/tcp_time_wait (optional): the per-socket overflow
 */
#ifndef TIMEWAIT_BPF_H
#define TIMEWAIT_BPF_H

const volatile __u64 tw_timer_fn = 0; /* address of tw_timer_handler, from kallsyms */
extern int CONFIG_HZ __kconfig __weak;

/* Live timewait sockets we saw created. */
#define TWF_CANCEL_IN_CONNECT (1u << 0) /* its timer was cancelled inside a connect() */
#define TWF_INFERRED (1u << 1) /* TW_OVERFLOW without the tcp_time_wait() hook */
#define TWF_ADOPTED (1u << 2)  /* older than tcpscope: its substate before is not known */
struct tw_info {
	struct ev_owner owner;
	struct ev_tuple t; /* kept: the socket is gone when a kill is found */
	__u32 netns;
	__u32 _pad0;
	__u64 cookie;
	__u64 enter_ns;
	__u32 flags;
	__u8 substate;
	__u8 owner_known;
	__u8 _pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct tw_info);
} tws SEC(".maps");

/* Timewait sockets whose timer was cancelled, with when: re-armed or
 * expired within microseconds, or else killed (see tw_sweep). */
struct tw_cancelled {
	__u64 ns;
	__u64 cookie;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct tw_cancelled);
} tw_cancel SEC(".maps");

/* tcp_time_wait() entered for this cookie (fentry/kprobe tier only): if no
 * timewait socket follows before the full socket's ->CLOSE, the bucket limit
 * refused it. Per CPU, a slot per interrupt context (ctx_level.bpf.h). */
struct tw_expect {
	__u64 cookie;
	__u64 sk; /* the socket: its identity where it has no cookie */
	__u32 substate;
	__u32 armed;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTX_LEVELS);
	__type(key, __u32);
	__type(value, struct tw_expect);
} tw_exp SEC(".maps");

/* A timewait socket whose timer just started, waiting for the full socket's
 * ->CLOSE transition that tcp_time_wait() triggers next on this CPU, in the
 * same interrupt context: that event carries the owner (same cookie). Per
 * CPU, a slot per context: a softirq landing between the two (a loopback
 * peer's FIN) has its own, and no longer flushes the task's unowned. */
struct tw_pending {
	__u64 tw;
	__u64 timeout_ms;
	struct tw_info ti;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTX_LEVELS);
	__type(key, __u32);
	__type(value, struct tw_pending);
} tw_pend SEC(".maps");

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
				     const struct ev_tuple *t, const struct ev_owner *o, bool known)
{
	struct tw_pending *p = bpf_map_lookup_elem(&tw_pend, &lv);
	struct tw_expect *x = bpf_map_lookup_elem(&tw_exp, &lv);
	bool expected = x && x->armed && x->cookie == cookie && (cookie || x->sk == (__u64)sk);
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
	if (p && p->tw && same_conn(p->ti.cookie, &p->ti.t, cookie, t)) {
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

/* Timewait timer events */

/* Without cookies (compat.bpf.h), is the timewait socket at the address of
 * entry ti the same one, its timer re-armed? Its ends must match, and
 * nothing may say it is a successor in the same memory (a tcp_tw_reuse'd
 * 4-tuple closes again into the same slab slot): a timewait socket never
 * goes back from TIME_WAIT to FIN_WAIT2, and a re-arm's cancel comes within
 * the same mod_timer() call, where a kill's is older. */
static __always_inline bool tw_same_nocookie(struct inet_timewait_sock *tw, __u64 key,
					     const struct tw_info *ti, __u8 substate)
{
	struct tw_cancelled *tc;

	if (ti->substate == TS_TIME_WAIT && substate == TS_FIN_WAIT2)
		return false;
	tc = bpf_map_lookup_elem(&tw_cancel, &key);
	if (tc && bpf_ktime_get_ns() - tc->ns > 1000000ULL)
		return false;
	return skc_has_tuple(&tw->__tw_common, &ti->t);
}

/* jiffies to milliseconds; 0 where HZ is not known. CONFIG_HZ is the
 * kconfig text the loader hands libbpf (user/loader.c kernel_hz(): the
 * kernel's config file, else measured from /proc/timer_list), never a
 * config file libbpf reads itself. */
static __always_inline __u64 jiffies_ms(__s64 j)
{
	return CONFIG_HZ && j > 0 ? (__u64)j * 1000 / (__u32)CONFIG_HZ : 0;
}

/* A timewait socket's timer armed or re-armed (timer_start, or
 * __inet_twsk_schedule() in the fentry tier), to expire in timeout ms */
static __always_inline int tw_armed(__u32 lv, struct inet_timewait_sock *tw, __u64 timeout)
{
	struct tw_info *ti, fresh = {};
	__u64 key, cookie;
	__u8 substate;

	key = (__u64)tw;
	cookie = BPF_CORE_READ(tw, __tw_common.skc_cookie.counter);
	substate = BPF_CORE_READ(tw, tw_substate);

	ti = bpf_map_lookup_elem(&tws, &key);
	/* the same timewait socket: by cookie, or by its ends where it has none */
	if (ti && ti->cookie == cookie && (cookie || tw_same_nocookie(tw, key, ti, substate))) {
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

/* timer_start fires for every timer armed on the host (on a busy server
 * mostly TCP's retransmit and delayed-ACK timers, re-armed per request), so
 * both programs first ask whether the timer is one of ours: a timewait
 * socket's, or the connecting socket's SYN timer (tracepoint tier). Only
 * those pay for the twin protocol (context level, slot).
 *
 * The kernel counts the first program's recursion misses per program, not
 * per timer; lost = misses - rescued is exact only if every miss is either
 * taken over by the twin or lost. timer_start runs with interrupts off (the
 * timer base's raw lock, taken irqsave by every path that enqueues), so the
 * first program can only be re-entered from inside its own body on that
 * CPU, never while it tests a timer that is not ours. ts_busy marks that
 * body: a timer not ours that the twin meets while it is set was missed by
 * the first (and needed nothing): counted as taken over. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ts_busy SEC(".maps");

/* tw: the timewait socket whose timer this is, or NULL for the SYN's */
static __always_inline int timer_start_any(__u32 lv, struct inet_timewait_sock *tw,
					   struct timer_list *timer, unsigned long expires)
{
	if (!tw) {
		port_tp_timer(timer);
		return 0;
	}
	return tw_armed(lv, tw, jiffies_ms(expires - bpf_jiffies64()));
}

SEC("tp_btf/timer_start")
int BPF_PROG(on_timer_start, struct timer_list *timer, unsigned long expires)
{
	struct inet_timewait_sock *tw = tw_of(timer);
	__u32 zero = 0, lv, *busy;

	if (!tw && !port_tp_is_syn_timer(timer))
		return 0; /* not ours */
	busy = bpf_map_lookup_elem(&ts_busy, &zero);
	if (busy)
		*busy = 1;
	lv = ctx_level(ctx);
	TWIN_OUTER(lv, TWIN_TIMER_START, (__u64)timer, expires, timer_start_any(lv, tw, timer, expires));
	if (busy)
		*busy = 0;
	return 0;
}

SEC("tp_btf/timer_start")
int BPF_PROG(on_timer_start_nested, struct timer_list *timer, unsigned long expires)
{
	struct inet_timewait_sock *tw = tw_of(timer);
	__u32 zero = 0, lv, *busy;

	if (!tw && !port_tp_is_syn_timer(timer)) { /* not ours */
		busy = bpf_map_lookup_elem(&ts_busy, &zero);
		if (busy && *busy)
			__sync_fetch_and_add(&twin_rescued[TWIN_TIMER_START], 1);
		return 0;
	}
	lv = ctx_level(ctx);
	TWIN_NESTED(lv, TWIN_TIMER_START, (__u64)timer, expires, timer_start_any(lv, tw, timer, expires));
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

/* Our entry for this timewait socket, made now if it is older than us */
static __always_inline struct tw_info *tw_entry(struct inet_timewait_sock *tw, __u64 key)
{
	struct tw_info *ti = bpf_map_lookup_elem(&tws, &key);

	return ti ?: tw_adopt_old(tw, key);
}

/* The timewait socket's timer fired: tw_timer_handler() runs next (or is
 * running: fentry tier), inet_twsk_kill(), then it is freed. */
static __always_inline void tw_expired(struct inet_timewait_sock *tw)
{
	__u64 key = (__u64)tw;
	struct tw_info *ti = tw_entry(tw, key);

	if (!ti)
		return;
	tw_uncancel(key);
	emit_tw(key, ti, TW_END, TW_CAUSE_EXPIRED, 0,
		ti->enter_ns ? bpf_ktime_get_ns() - ti->enter_ns : 0);
	if (ti->substate == TS_FIN_WAIT2)
		__sync_fetch_and_add(&tw_fw2_live, -1);
	lru_delete(&tws, LRU_TW, &key);
}

/* Its timer stopped by a thread inside connect(): tcp_tw_reuse at work. */
static __always_inline void tw_mark_reuse(struct tw_info *ti)
{
	__u64 tid = bpf_get_current_pid_tgid();
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&connecting, &zero);

	if (!c || *c != tid)
		return;
	ti->flags |= TWF_CANCEL_IN_CONNECT;
	if (reuse_via == VIA_TRACEPOINT) {
		struct alloc_ctx *a = alloc_get();

		if (a && a->op == PORT_CONNECT)
			a->flags |= AF_TW_REUSED;
	}
}

SEC("tp_btf/timer_expire_entry")
int BPF_PROG(on_timer_expire, struct timer_list *timer)
{
	struct inet_timewait_sock *tw = tw_of(timer);

	if (tw)
		tw_expired(tw);
	return 0;
}

SEC("tp_btf/timer_cancel")
int BPF_PROG(on_timer_cancel, struct timer_list *timer)
{
	struct inet_timewait_sock *tw = tw_of(timer);
	struct tw_info *ti;
	__u64 key;

	if (!tw)
		return 0;
	key = (__u64)tw;
	ti = tw_entry(tw, key);
	if (!ti)
		return 0;
	tw_mark_reuse(ti);
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

/*
 * The fentry tier hooks the timewait functions themselves, and no timer
 * tracepoint at all (those run for every timer the host arms):
 *   __inet_twsk_schedule(tw, timeo, rearm): armed (from tcp_time_wait())
 *     or re-armed (inet_twsk_reschedule(): the peer's FIN moved a
 *     FIN_WAIT2-substate socket to TIME_WAIT, or a duplicate restarted the
 *     wait), even where mod_timer_pending() then returns early: no substate
 *     sweep is needed;
 *   tw_timer_handler(): expired (address-taken: never inlined);
 *   inet_twsk_deschedule_put(tw): killed (reuse, RST, netns exit) if its
 *     timer is still pending, which timer_shutdown_sync() (del_timer_sync()
 *     before 6.2) then stops; if not, the handler has run or is running
 *     and reports the end. A timer firing between that test and the stop
 *     is reported as killed (a window of nanoseconds in 60 s).
 * __inet_twsk_schedule() and inet_twsk_deschedule_put() are exported, the
 * same from 4.x to 6.18; they run at task level (release_sock's backlog,
 * close()) and in softirq, so they have twins (twin.bpf.h). The loader
 * uses this tier only if all three attach.
 */
static __always_inline int tw_killed_now(struct inet_timewait_sock *tw)
{
	__u64 key = (__u64)tw;
	struct tw_info *ti;

	if (!BPF_CORE_READ(tw, tw_timer.entry.pprev))
		return 0; /* not pending: the handler's, or nothing to stop */
	ti = tw_entry(tw, key);
	if (!ti)
		return 0;
	tw_mark_reuse(ti);
	tw_killed(key, ti, bpf_ktime_get_ns());
	return 0;
}

SEC("?fentry/__inet_twsk_schedule")
int BPF_PROG(fe_tw_schedule, struct inet_timewait_sock *tw, int timeo, bool rearm)
{
	__u32 lv = ctx_level(ctx);

	TWIN_OUTER(lv, TWIN_TW_SCHEDULE, (__u64)tw, (__u32)timeo, tw_armed(lv, tw, jiffies_ms(timeo)));
	return 0;
}

SEC("?fentry/__inet_twsk_schedule")
int BPF_PROG(fe_tw_schedule_nested, struct inet_timewait_sock *tw, int timeo, bool rearm)
{
	__u32 lv = ctx_level(ctx);

	TWIN_NESTED(lv, TWIN_TW_SCHEDULE, (__u64)tw, (__u32)timeo, tw_armed(lv, tw, jiffies_ms(timeo)));
	return 0;
}

/* a timer handler runs in softirq, which nothing of its own interrupts */
SEC("?fentry/tw_timer_handler")
int BPF_PROG(fe_tw_expire, struct timer_list *t)
{
	tw_expired((void *)t - bpf_core_field_offset(struct inet_timewait_sock, tw_timer));
	return 0;
}

SEC("?fentry/inet_twsk_deschedule_put")
int BPF_PROG(fe_tw_kill, struct inet_timewait_sock *tw)
{
	__u32 lv = ctx_level(ctx);

	TWIN_OUTER(lv, TWIN_TW_KILL, (__u64)tw, 0, tw_killed_now(tw));
	return 0;
}

SEC("?fentry/inet_twsk_deschedule_put")
int BPF_PROG(fe_tw_kill_nested, struct inet_timewait_sock *tw)
{
	__u32 lv = ctx_level(ctx);

	TWIN_NESTED(lv, TWIN_TW_KILL, (__u64)tw, 0, tw_killed_now(tw));
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
	x->sk = (__u64)sk;
	x->substate = state;
	x->armed = 1;
	return 0;
}

SEC("?fentry/tcp_time_wait")
int BPF_PROG(fe_tcp_time_wait, struct sock *sk, int state, int timeo)
{
	return time_wait_body(ctx_level(ctx), sk, state);
}

SEC("?kprobe/tcp_time_wait")
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

SEC("?raw_tp")
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
	/* no cookie: its ends tell it from a successor in its memory */
	if (!ti->cookie && !skc_has_tuple(&tw->__tw_common, &ti->t))
		return 0;
	substate = BPF_CORE_READ(tw, tw_substate);
	if (substate == ti->substate)
		return 0;
	ti->substate = substate;
	__sync_fetch_and_add(&tw_fw2_live, -1);
	emit_tw(*key, ti, TW_SUBSTATE, TW_CAUSE_NONE, 0, 0);
	return 0;
}

SEC("?raw_tp")
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
SEC("?raw_tp")
int tw_sweep_key(struct bpf_raw_tracepoint_args *ctx)
{
	struct sweep_ctx c = { .now = bpf_ktime_get_ns() };
	__u64 key = ctx->args[0];
	struct tw_cancelled *tc = bpf_map_lookup_elem(&tw_cancel, &key);

	if (tc)
		sweep_one(&tw_cancel, &key, tc, &c);
	return 0;
}

SEC("?raw_tp")
int tw_substate_key(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 key = ctx->args[0];
	struct tw_info *ti = bpf_map_lookup_elem(&tws, &key);

	if (ti)
		substate_one(&tws, &key, ti, NULL);
	return 0;
}

#endif
