/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Fact: a listener's accept queue overflowing (the SYN or the handshake's
 * final ACK dropped). */
#ifndef LISTEN_OVERFLOW_BPF_H
#define LISTEN_OVERFLOW_BPF_H

/* Listen (accept) queue overflow: sk_acceptq_is_full() (sk_ack_backlog >
 * sk_max_ack_backlog, strictly: backlog + 1 children fit) is the first test
 * of tcp_conn_request() (the SYN is dropped) and of tcp_v4/v6_syn_recv_sock()
 * (the final ACK is dropped); both count ListenOverflows. fentry/kprobe read
 * the same test at entry. A dropped SYN is consume_skb()'d by the caller, so
 * no kfree_skb event exists for it on any kernel; the ACK stage is
 * kfree_skb(SKB_DROP_REASON_TCP_LISTEN_OVERFLOW) since 6.15 ("tcp: add drop
 * reasons to tcp_check_req()"), NOT_SPECIFIED before: tracepoint-only kernels
 * see the ACK stage on 6.15+ only. */

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
SEC("?fentry/tcp_conn_request")
int BPF_PROG(fe_conn_request, void *rsk_ops, void *af_ops, struct sock *sk)
{
	return listen_check(sk, OVF_SYN, VIA_FENTRY, NULL);
}

SEC("?fentry/tcp_v4_syn_recv_sock")
int BPF_PROG(fe_syn_recv4, struct sock *sk, struct sk_buff *skb, struct request_sock *req)
{
	return listen_check(sk, OVF_ACK, VIA_FENTRY, req);
}

SEC("?fentry/tcp_v6_syn_recv_sock")
int BPF_PROG(fe_syn_recv6, struct sock *sk, struct sk_buff *skb, struct request_sock *req)
{
	return listen_check(sk, OVF_ACK, VIA_FENTRY, req);
}

SEC("?kprobe/tcp_conn_request")
int BPF_KPROBE(kp_conn_request, void *rsk_ops, void *af_ops, struct sock *sk)
{
	return listen_check(sk, OVF_SYN, VIA_KPROBE, NULL);
}

SEC("?kprobe/tcp_v4_syn_recv_sock")
int BPF_KPROBE(kp_syn_recv4, struct sock *sk, struct sk_buff *skb, struct request_sock *req)
{
	return listen_check(sk, OVF_ACK, VIA_KPROBE, req);
}

SEC("?kprobe/tcp_v6_syn_recv_sock")
int BPF_KPROBE(kp_syn_recv6, struct sock *sk, struct sk_buff *skb, struct request_sock *req)
{
	return listen_check(sk, OVF_ACK, VIA_KPROBE, req);
}

/* 6.15+: the final ACK freed with reason TCP_LISTEN_OVERFLOW, rx_sk = the
 * listener (the 4-argument form exists since 6.11; loaded only when the
 * reason exists). */
SEC("?tp_btf/kfree_skb")
int BPF_PROG(on_kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason,
	     struct sock *rx_sk)
{
	if (reason != bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TCP_LISTEN_OVERFLOW) ||
	    !rx_sk)
		return 0;
	emit_listen_ovf(rx_sk, OVF_ACK, VIA_TRACEPOINT, NULL);
	return 0;
}
#endif
