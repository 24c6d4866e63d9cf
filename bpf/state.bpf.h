/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Fact: state transitions of full sockets, from tp_btf/inet_sock_set_state
 * (4.16+, tp_btf 5.5+); fentry or kprobe on tcp_set_state() only where the
 * tracepoint is missing (optional). Every other fact hangs on it: a
 * connect()'s outcome, a timewait socket's owner, a port allocation's start
 * in the tracepoint tier.
 */
#ifndef STATE_BPF_H
#define STATE_BPF_H

/* Where a socket's life (as tcpscope follows it) begins. */
static __always_inline bool sock_starts(int old, int new)
{
	return (old == TS_CLOSE && (new == TS_SYN_SENT || new == TS_LISTEN)) ||
	       (old == TS_LISTEN && new == TS_SYN_RECV);
}

/* Transitions that only ever happen in the owner's own system call:
 * connect() (tcp_v4_connect: CLOSE->SYN_SENT), listen() (inet_csk_listen_start:
 * CLOSE->LISTEN), close()/shutdown() (tcp_close, tcp_shutdown: ->FIN_WAIT1,
 * CLOSE_WAIT->LAST_ACK). The others may run in the receive softirq, where
 * current is whichever task the CPU was running (on loopback and veth, the
 * sender's). There, and only there, current is the owner. */
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
	__u64 now, cookie, in_old = 0, skid = (__u64)sk, skk;
	__u16 flags = 0;
	__u32 netns;

	if (!saw_pid1 && bpf_get_current_pid_tgid() >> 32 == 1)
		saw_pid1 = 1;
	if ((btf ? BPF_CORE_READ_BITFIELD(sk, sk_protocol) :
		   BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol)) != IPPROTO_TCP)
		return 0;
	now = bpf_ktime_get_ns();
	skk = btf ? sk_key(&skid) : skid; /* the kprobe tier's is a number already */
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
	else
		cookie = sock_cookie(btf, sk); /* compat.bpf.h */

	sk_tuple(btf, sk, &t);
	netns = sk_netns(btf, sk);

	if (sock_starts(oldstate, newstate)) {
		/* A socket's life starts here (connect, listen, or a child
		 * created by a listener): a fresh entry, whatever a freed socket
		 * at the same address left behind. */
		struct sk_info fresh = { .state_ts = now, .owner_known = 1 };

		if (oldstate == TS_LISTEN) {
			/* the child belongs to its listener's owner until accept() */
			struct listen_key lk = { .netns = netns, .port = t.sport };
			struct ev_owner *lo = bpf_map_lookup_elem(&listeners, &lk);

			if (lo)
				fresh.owner = *lo;
			else
				fresh.owner_known = 0;
		} else {
			owner_current(&fresh.owner);
		}
		sk_put(skk, &fresh);
		if (fresh.owner_known) {
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

		si = sk_find(skk);
		if (si) {
			if (process_context(oldstate, newstate)) {
				owner_current(&si->owner);
				si->owner_known = 1;
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
				cur.owner_known = 1;
			}
			if (newstate != TS_CLOSE)
				sk_put(skk, &cur);
		}
		if (cur.owner_known) {
			owner = cur.owner;
			flags |= EVF_OWNER_KNOWN;
		}
		if (newstate == TS_CLOSE) {
			sk_drop(skk);
			if (oldstate == TS_LISTEN) {
				struct listen_key lk = { .netns = netns, .port = t.sport };

				bpf_map_delete_elem(&listeners, &lk);
			}
		}
	}

	/* tcp_time_wait() armed the timewait socket's timer just before this
	 * transition: give that socket its owner and announce it. */
	if (newstate == TS_CLOSE && (oldstate == TS_FIN_WAIT2 || oldstate == TS_CLOSING))
		tw_adopt(lv, btf, sk, cookie, &t, &owner, flags & EVF_OWNER_KNOWN);

	if (EMITS(EV_STATE) && pass_states(oldstate, newstate) && pass_common(&owner, &t)) {
		e = ev_reserve_at(sizeof(*e), EV_STATE, now);
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

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	__u32 lv = ctx_level(ctx);

	TWIN_OUTER(lv, TWIN_STATE, (__u64)sk, oldstate << 8 | newstate,
		   set_state_body(lv, true, sk, oldstate, newstate));
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_set_state_nested, const struct sock *sk, const int oldstate, const int newstate)
{
	__u32 lv = ctx_level(ctx);

	TWIN_NESTED(lv, TWIN_STATE, (__u64)sk, oldstate << 8 | newstate,
		    set_state_body(lv, true, sk, oldstate, newstate));
	return 0;
}

/* Kernels without sock:inet_sock_set_state (before 4.16), or when told not
 * to use it: tcp_set_state(sk, state) itself, two arguments in every
 * version; the old state is still in sk. Transitions made outside it
 * (inet_sk_state_store: listen() and its end, a new child's SYN_RECV) are
 * not seen. The kprobe variant cannot generate socket cookies. */
SEC("?fentry/tcp_set_state")
int BPF_PROG(fe_tcp_set_state, struct sock *sk, int state)
{
	return set_state_body(ctx_level(ctx), true, sk, sk->__sk_common.skc_state, state);
}

SEC("?kprobe/tcp_set_state")
int BPF_KPROBE(kp_tcp_set_state, struct sock *sk, int state)
{
	return KP_GUARDED(set_state_body(ctx_level(ctx), false, sk, BPF_CORE_READ(sk, __sk_common.skc_state), state));
}

#endif
