/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Ephemeral port allocations: connect() on an
 * unbound socket (__inet_hash_connect), bind() to port 0 and listen() on an
 * unbound socket (inet_csk_get_port). One per-thread context runs from the
 * start of an allocation to its end; whichever tier the loader chose feeds it:
 *
 *   fentry/fexit, else kprobe/kretprobe: the allocation functions themselves
 *     (exact latency and result), the per-candidate checks inside them
 *     (scan length) and tcp_twsk_unique (TIME_WAIT reuse);
 *   tracepoint only: the state tracepoint (CLOSE->SYN_SENT / CLOSE->LISTEN
 *     with no local port starts it), the connecting socket's retransmit timer
 *     (timer_start: the SYN is on its way, the port is chosen) or the
 *     ->CLOSE that follows a failure ends it, bind()/listen()/connect()
 *     syscall exits as fallbacks; the scan length is unknown.
 *
 * The bodies, then the thin SEC() wrappers of the fentry and kprobe tiers.
 */
#ifndef PORT_ALLOC_BPF_H
#define PORT_ALLOC_BPF_H

#define EADDRINUSE 98
#define EADDRNOTAVAIL 99

/* Set by the loader from its probing (user/ladder.c) */
const volatile __u8 port_via = VIA_TRACEPOINT; /* tier reporting allocations; 0 = off */
const volatile bool scan_connect4 = false;      /* __inet_check_established hooked */
const volatile bool scan_connect6 = false;      /* __inet6_check_established hooked */
const volatile bool scan_bind = false;		 /* inet_csk_bind_conflict hooked */
const volatile __u8 reuse_via = VIA_TRACEPOINT; /* tcp_twsk_unique hooked, or the timer cancel */
const volatile __u64 tcp_write_timer_fn = 0;	 /* kallsyms; ends a connect's allocation */
enum alloc_flags {
	AF_SCANNING = 1 << 0, /* between entry and exit of the allocation function */
	AF_TW_REUSED = 1 << 1,
	AF_DONE = 1 << 2,     /* bind(): the allocation was reported already */
};

/* Thread -> allocation (or bind() call) in progress. */
struct alloc_ctx {
	__u64 ts;	/* bind(): syscall entry; otherwise the allocation's start */
	__u64 alloc_ts; /* allocation start */
	__u64 sk;
	struct ev_tuple t; /* bind(): requested address; connect(): destination */
	__u32 scan;	   /* distinct candidate ports checked so far */
	__u16 last_port;
	__u8 op; /* enum port_op; 0 = a bind() to a fixed port (PORT_BIND: to port 0) */
	__u8 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct alloc_ctx);
} allocs SEC(".maps");

/* Entries in allocs: hot paths look only when there are some. */
__s64 allocs_live = 0;

static __always_inline struct alloc_ctx *alloc_get(void)
{
	__u64 tid = bpf_get_current_pid_tgid();

	return bpf_map_lookup_elem(&allocs, &tid);
}

static __always_inline struct alloc_ctx *alloc_new(__u8 op, const struct sock *sk, __u64 now)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct alloc_ctx a = { .ts = now, .alloc_ts = now, .sk = (__u64)sk, .op = op };

	/* a stale entry of this thread (a missed end) is simply replaced */
	if (bpf_map_update_elem(&allocs, &tid, &a, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&allocs_live, 1);
	else if (bpf_map_update_elem(&allocs, &tid, &a, BPF_ANY)) {
		count_drop(DROP_MAP_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&allocs, &tid);
}

static __always_inline void alloc_free(void)
{
	__u64 tid = bpf_get_current_pid_tgid();

	if (bpf_map_delete_elem(&allocs, &tid) == 0)
		__sync_fetch_and_add(&allocs_live, -1);
}

/* net.ipv4.ip_local_port_range of the socket's netns. Two layouts:
 * int range[2] under a seqlock up to 6.6, one u32 (high << 16 | low) since
 * 6.7 (lockless reads). A field whose type differs does not relocate, so
 * each layout is a flavor and the one that exists is read. */
struct local_ports___v1 {
	int range[2];
} __attribute__((preserve_access_index));

struct local_ports___v2 {
	u32 range;
} __attribute__((preserve_access_index));

static __always_inline void read_port_range(const struct sock *sk, __u16 *lo, __u16 *hi)
{
	struct net *net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
	void *lp = &net->ipv4.ip_local_ports;

	if (bpf_core_field_exists(((struct local_ports___v2 *)lp)->range)) {
		__u32 r = BPF_CORE_READ((struct local_ports___v2 *)lp, range);

		*lo = r & 0xffff;
		*hi = r >> 16;
	} else {
		int r[2] = {};

		bpf_core_read(&r, sizeof(r), &((struct local_ports___v1 *)lp)->range);
		*lo = r[0];
		*hi = r[1];
	}
}

static __always_inline bool scan_counted(const struct alloc_ctx *a, __u16 family)
{
	if (a->op == PORT_CONNECT)
		return family == AF_INET6 ? scan_connect6 : scan_connect4;
	return scan_bind;
}

/* Report an allocation. ret: 0 or -errno. A kernel returning 1 for a failed
 * inet_csk_get_port (before 6.1) means EADDRINUSE. */
static __always_inline void emit_port(struct alloc_ctx *a, const struct sock *sk, long ret,
				      __u8 via, __u16 flags)
{
	struct ev_owner owner = {};
	struct ev_tuple t = {};
	struct ev_port *e;
	__u32 scan = a->scan;

	if (ret > 0)
		ret = -EADDRINUSE;
	read_sk_tuple(sk, &t);
	if (ret)
		t.sport = 0;
	if (a->op == PORT_CONNECT) {
		/* the failure path clears the destination: keep the one asked for */
		__builtin_memcpy(t.daddr, a->t.daddr, sizeof(t.daddr));
		t.dport = a->t.dport;
	} else {
		__builtin_memset(t.daddr, 0, sizeof(t.daddr));
		t.dport = 0;
	}
	owner_current(&owner);
	if (!EMITS(EV_PORT) || filt_state_mask || !pass_common(&owner, &t))
		return;
	if (via != VIA_TRACEPOINT && scan_counted(a, t.family)) {
		/* the winner needed no check when it had no bind bucket yet */
		if (!ret && t.sport != a->last_port)
			scan++;
		flags |= EVF_SCAN_KNOWN;
	}
	if (a->flags & AF_TW_REUSED)
		flags |= EVF_TW_REUSED;
	e = ev_reserve(sizeof(*e), EV_PORT);
	if (!e)
		return;
	e->sk = (__u64)sk;
	e->latency_ns = bpf_ktime_get_ns() - a->alloc_ts;
	e->owner = owner;
	e->t = t;
	e->ret = ret;
	e->netns = read_netns(&sk->__sk_common);
	e->scan = flags & EVF_SCAN_KNOWN ? scan : 0;
	read_port_range(sk, &e->range_lo, &e->range_hi);
	e->flags = flags | EVF_OWNER_KNOWN | EVF_IN_OLD_KNOWN;
	e->op = a->op;
	e->via = via;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	ev_submit(e);
}

/* ---- fentry/fexit and kprobe/kretprobe bodies ------------------------ */

/* __inet_hash_connect(death_row, sk, port_offset, check_established[, hash_port0]):
 * sk is the second argument in every version (4.x: u32 port_offset; u64 since
 * 5.19 and its stable backports; hash_port0 added in 6.15). A socket that
 * already has a port only gets its 4-tuple checked: no allocation. */
static __always_inline int hash_connect_enter(struct sock *sk)
{
	struct alloc_ctx *a;

	if (BPF_CORE_READ(sk, __sk_common.skc_num))
		return 0;
	a = alloc_new(PORT_CONNECT, sk, bpf_ktime_get_ns());
	if (!a)
		return 0;
	a->flags = AF_SCANNING;
	read_sk_tuple(sk, &a->t); /* the destination, kept for a failure */
	return 0;
}

static __always_inline int hash_connect_exit(long ret, __u8 via)
{
	struct alloc_ctx *a = alloc_get();

	if (!a || a->op != PORT_CONNECT || !(a->flags & AF_SCANNING))
		return 0;
	emit_port(a, (struct sock *)a->sk, ret, via, 0);
	alloc_free();
	return 0;
}

/* __inet_check_established(death_row, sk, lport, twp[, rcu_lookup, hash]) and
 * the IPv6 twin: one call per candidate port that has a connect-owned bind
 * bucket (4 args up to 6.14; 6.15 adds a lockless first pass that checks the
 * winner twice, hence counting distinct ports). Free ports win without a
 * call, bind()-owned and reserved ones are skipped silently: a lower bound. */
static __always_inline int check_established_enter(__u16 lport)
{
	struct alloc_ctx *a;

	if (allocs_live <= 0)
		return 0;
	a = alloc_get();
	if (a && (a->flags & AF_SCANNING) && a->op == PORT_CONNECT && lport != a->last_port) {
		a->scan++;
		a->last_port = lport;
	}
	return 0;
}

/* tcp_twsk_unique(sk, sktw, twp) == 1: this connect() may take the 4-tuple
 * of a TIME_WAIT socket (tcp_tw_reuse). Three arguments since 4.x. */
static __always_inline int twsk_unique_exit(long ret)
{
	struct alloc_ctx *a;

	if (ret != 1 || allocs_live <= 0)
		return 0;
	a = alloc_get();
	if (a && (a->flags & AF_SCANNING))
		a->flags |= AF_TW_REUSED;
	return 0;
}

/* inet_csk_get_port(sk, snum): two arguments in every version. snum 0 asks
 * for an ephemeral port. The state tells listen() (set to LISTEN just
 * before) from bind() (our bind() syscall context) from anything else. */
static __always_inline int get_port_enter(struct sock *sk, __u16 snum)
{
	struct alloc_ctx *a;
	__u64 now;

	if (snum)
		return 0;
	now = bpf_ktime_get_ns();
	a = allocs_live > 0 ? alloc_get() : NULL;
	if (a && a->op == PORT_BIND && a->sk == (__u64)sk) {
		a->alloc_ts = now;
	} else {
		__u8 op = BPF_CORE_READ(sk, __sk_common.skc_state) == TS_LISTEN ? PORT_LISTEN :
										   PORT_AUTOBIND;

		a = alloc_new(op, sk, now);
		if (!a)
			return 0;
	}
	a->flags |= AF_SCANNING;
	a->scan = 0;
	a->last_port = 0;
	return 0;
}

static __always_inline int get_port_exit(long ret, __u8 via)
{
	struct alloc_ctx *a = alloc_get();

	if (!a || a->op == PORT_CONNECT || !(a->flags & AF_SCANNING))
		return 0;
	emit_port(a, (struct sock *)a->sk, ret, via, 0);
	if (a->op == PORT_BIND) {
		a->flags = (a->flags & ~AF_SCANNING) | AF_DONE; /* sys_exit_bind frees it */
		return 0;
	}
	alloc_free();
	return 0;
}

/* inet_csk_bind_conflict(sk, tb, ...): one call per candidate whose bind
 * bucket exists (args after tb changed with bhash2 in 6.1; tb stays second). */
static __always_inline int bind_conflict_enter(const struct inet_bind_bucket *tb)
{
	struct alloc_ctx *a;
	__u16 port;

	if (allocs_live <= 0)
		return 0;
	a = alloc_get();
	if (!a || !(a->flags & AF_SCANNING) || a->op == PORT_CONNECT)
		return 0;
	port = BPF_CORE_READ(tb, port);
	if (port != a->last_port) {
		a->scan++;
		a->last_port = port;
	}
	return 0;
}

/* ---- tracepoint-only tier -------------------------------------------- */

/* The retransmit timer (its address) of the socket whose connect() this CPU
 * started last: timer_start tests a TCP retransmit timer against it with a
 * per-CPU load, where a hash lookup per timer cost every busy connection's
 * re-armed timers. A connect() that migrates before its SYN's timer is
 * reported at its exit instead (port_tp_sys_exit). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} syn_timer SEC(".maps");

static __always_inline __u64 retransmit_timer_of(__u64 sk)
{
	return sk + bpf_core_field_offset(struct inet_connection_sock, icsk_retransmit_timer);
}

/* From the state tracepoint, in the caller's own syscall. */
static __always_inline void port_tp_transition(const struct sock *sk, int old, int new,
					       const struct ev_tuple *t)
{
	struct alloc_ctx *a;

	if (port_via != VIA_TRACEPOINT)
		return;
	if (old == TS_CLOSE && (new == TS_SYN_SENT || new == TS_LISTEN)) {
		/* state set before the port is chosen: no port means allocation */
		if (t->sport)
			return;
		a = alloc_new(new == TS_SYN_SENT ? PORT_CONNECT : PORT_LISTEN, sk,
			      bpf_ktime_get_ns());
		if (!a)
			return;
		a->t = *t;
		if (new == TS_SYN_SENT) {
			__u32 zero = 0;
			__u64 *st = bpf_map_lookup_elem(&syn_timer, &zero);

			if (st)
				*st = retransmit_timer_of((__u64)sk);
		}
		return;
	}
	if (new != TS_CLOSE || (old != TS_SYN_SENT && old != TS_LISTEN) || allocs_live <= 0)
		return;
	a = alloc_get();
	if (!a || a->sk != (__u64)sk)
		return;
	/* tcp_v4_connect()/inet_csk_listen_start() failing: no port means the
	 * allocation failed; with a port, something after it did */
	emit_port(a, sk, t->sport ? 0 : (old == TS_SYN_SENT ? -EADDRNOTAVAIL : -EADDRINUSE),
		  VIA_TRACEPOINT, EVF_LAT_UPPER);
	alloc_free();
}

/* The connecting socket's retransmit timer (tracepoint tier): a per-CPU
 * load and a compare, nothing read from the timer. */
static __always_inline bool port_tp_is_syn_timer(struct timer_list *timer)
{
	__u32 zero = 0;
	__u64 *st;

	if (port_via != VIA_TRACEPOINT)
		return false;
	st = bpf_map_lookup_elem(&syn_timer, &zero);
	return st && *st == (__u64)timer;
}

/* timer_start of the connecting socket's retransmit timer: tcp_connect()
 * has sent the SYN, so the port was chosen. */
static __always_inline void port_tp_timer(struct timer_list *timer)
{
	struct alloc_ctx *a;
	__u32 zero = 0;
	__u64 *st;

	if (port_via != VIA_TRACEPOINT || !tcp_write_timer_fn ||
	    (__u64)timer->function != tcp_write_timer_fn)
		return;
	st = bpf_map_lookup_elem(&syn_timer, &zero);
	if (!st || *st != (__u64)timer)
		return;
	*st = 0;
	a = alloc_get();
	if (!a || a->op != PORT_CONNECT || retransmit_timer_of(a->sk) != (__u64)timer)
		return;
	emit_port(a, (struct sock *)a->sk, 0, VIA_TRACEPOINT, EVF_LAT_UPPER);
	alloc_free();
}

/* connect()/listen() returning with the allocation still open (no retransmit
 * timer seen): report what the socket has. */
static __always_inline void port_tp_sys_exit(__u8 op, long ret)
{
	struct alloc_ctx *a;

	if (port_via != VIA_TRACEPOINT || allocs_live <= 0)
		return;
	a = alloc_get();
	if (!a || a->op != op)
		return;
	{
		struct sock *sk = (struct sock *)a->sk;
		bool has_port = BPF_CORE_READ(sk, __sk_common.skc_num);

		emit_port(a, sk, has_port ? 0 : (ret < 0 ? ret : -EADDRINUSE), VIA_TRACEPOINT,
			  EVF_LAT_UPPER);
	}
	alloc_free();
}

/* Port allocation, where fentry/fexit or kprobes are allowed: thin
 * wrappers over the bodies in port_alloc.bpf.h; the loader keeps one tier. */

SEC("?fentry/__inet_hash_connect")
int BPF_PROG(fe_hash_connect, void *death_row, struct sock *sk)
{
	return hash_connect_enter(sk);
}

/* the return value's slot: compat.bpf.h */
SEC("?fexit/__inet_hash_connect")
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

SEC("?fentry/__inet_check_established")
int BPF_PROG(fe_check_est, void *death_row, struct sock *sk, __u16 lport)
{
	return check_established_enter(lport);
}

SEC("?fentry/__inet6_check_established")
int BPF_PROG(fe_check_est6, void *death_row, struct sock *sk, __u16 lport)
{
	return check_established_enter(lport);
}

SEC("?fexit/tcp_twsk_unique")
int BPF_PROG(fx_twsk_unique, struct sock *sk, struct sock *sktw, void *twp, int ret)
{
	return twsk_unique_exit(ret);
}

SEC("?fentry/inet_csk_get_port")
int BPF_PROG(fe_get_port, struct sock *sk, unsigned short snum)
{
	return get_port_enter(sk, snum);
}

SEC("?fexit/inet_csk_get_port")
int BPF_PROG(fx_get_port, struct sock *sk, unsigned short snum, int ret)
{
	return get_port_exit(ret, VIA_FENTRY);
}

SEC("?fentry/inet_csk_bind_conflict")
int BPF_PROG(fe_bind_conflict, const struct sock *sk, const struct inet_bind_bucket *tb)
{
	return bind_conflict_enter(tb);
}

SEC("?kprobe/__inet_hash_connect")
int BPF_KPROBE(kp_hash_connect, void *death_row, struct sock *sk)
{
	return KP_GUARDED(hash_connect_enter(sk));
}

SEC("?kretprobe/__inet_hash_connect")
int BPF_KRETPROBE(kr_hash_connect, int ret)
{
	return KP_GUARDED(hash_connect_exit(ret, VIA_KPROBE));
}

SEC("?kprobe/__inet_check_established")
int BPF_KPROBE(kp_check_est, void *death_row, struct sock *sk, __u16 lport)
{
	return KP_GUARDED(check_established_enter(lport));
}

SEC("?kprobe/__inet6_check_established")
int BPF_KPROBE(kp_check_est6, void *death_row, struct sock *sk, __u16 lport)
{
	return KP_GUARDED(check_established_enter(lport));
}

SEC("?kretprobe/tcp_twsk_unique")
int BPF_KRETPROBE(kr_twsk_unique, int ret)
{
	return KP_GUARDED(twsk_unique_exit(ret));
}

SEC("?kprobe/inet_csk_get_port")
int BPF_KPROBE(kp_get_port, struct sock *sk, unsigned short snum)
{
	return KP_GUARDED(get_port_enter(sk, snum));
}

SEC("?kretprobe/inet_csk_get_port")
int BPF_KRETPROBE(kr_get_port, int ret)
{
	return KP_GUARDED(get_port_exit(ret, VIA_KPROBE));
}

SEC("?kprobe/inet_csk_bind_conflict")
int BPF_KPROBE(kp_bind_conflict, const struct sock *sk, const struct inet_bind_bucket *tb)
{
	return KP_GUARDED(bind_conflict_enter(tb));
}


#endif
