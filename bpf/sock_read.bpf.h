/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading addresses, ports and ids out of struct sock_common with CO-RE.
 * Works for full, request and timewait sockets: all start with sock_common. */
#ifndef SOCK_READ_BPF_H
#define SOCK_READ_BPF_H

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define SOCK_STREAM 1

static __always_inline __u16 bswap16(__u16 x)
{
	return __builtin_bswap16(x);
}

/* Copy exactly the field's size; the rest of the 16-byte slot stays zero. */
static __always_inline void read_tuple(const struct sock_common *skc, struct ev_tuple *t)
{
	t->family = BPF_CORE_READ(skc, skc_family);
	t->dport = bswap16(BPF_CORE_READ(skc, skc_dport));
	t->sport = BPF_CORE_READ(skc, skc_num);
	if (t->family == AF_INET6) {
		bpf_core_read(t->saddr, sizeof(t->saddr), &skc->skc_v6_rcv_saddr);
		bpf_core_read(t->daddr, sizeof(t->daddr), &skc->skc_v6_daddr);
	} else {
		bpf_core_read(t->saddr, 4, &skc->skc_rcv_saddr);
		bpf_core_read(t->daddr, 4, &skc->skc_daddr);
	}
}

/* On the transition to CLOSE skc_num is already 0 (inet_put_port ran), but
 * inet_sport still holds the bound port: use it then. */
static __always_inline void fix_sport(const struct sock *sk, struct ev_tuple *t)
{
	__u16 sport;

	if (t->sport)
		return;
	sport = bswap16(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	if (sport)
		t->sport = sport;
}

/* The same ends (addresses, ports, family) */
static __always_inline bool same_tuple(const struct ev_tuple *a, const struct ev_tuple *b)
{
	/* the addresses as four words: no temporaries on the stack */
	const __u64 *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
	       a->sport == b->sport && a->dport == b->dport && a->family == b->family;
}

/* One timewait socket (or its full socket) and another: the same
 * connection? By cookie; where the kernel made none (tracing programs
 * cannot before 5.12, commit c5dbb89fc2ac; the kprobe tier), by its ends:
 * a new timewait socket in a freed one's memory is another connection. */
static __always_inline bool same_conn(__u64 ca, const struct ev_tuple *ta, __u64 cb,
				      const struct ev_tuple *tb)
{
	if (ca || cb)
		return ca == cb;
	return same_tuple(ta, tb);
}

/* Does the socket at skc (probe reads) have the ends t? Field by field:
 * no copy of the tuple on the stack */
static __always_inline bool skc_has_tuple(const struct sock_common *skc, const struct ev_tuple *t)
{
	__u32 w;

	if (BPF_CORE_READ(skc, skc_num) != t->sport ||
	    bswap16(BPF_CORE_READ(skc, skc_dport)) != t->dport ||
	    BPF_CORE_READ(skc, skc_family) != t->family)
		return false;
	if (t->family == AF_INET6) {
#pragma unroll
		for (int i = 0; i < 4; i++) {
			bpf_core_read(&w, 4, &skc->skc_v6_rcv_saddr.in6_u.u6_addr32[i]);
			if (w != ((const __u32 *)t->saddr)[i])
				return false;
			bpf_core_read(&w, 4, &skc->skc_v6_daddr.in6_u.u6_addr32[i]);
			if (w != ((const __u32 *)t->daddr)[i])
				return false;
		}
		return true;
	}
	return BPF_CORE_READ(skc, skc_rcv_saddr) == *(const __u32 *)t->saddr &&
	       BPF_CORE_READ(skc, skc_daddr) == *(const __u32 *)t->daddr;
}

/* Any struct sock pointer (probe reads). */
static __always_inline void read_sk_tuple(const struct sock *sk, struct ev_tuple *t)
{
	read_tuple(&sk->__sk_common, t);
	fix_sport(sk, t);
}

/* A trusted BTF pointer (tp_btf argument): plain loads, no helper calls. */
static __always_inline void read_sk_tuple_btf(const struct sock *sk, struct ev_tuple *t)
{
	const struct sock_common *skc = &sk->__sk_common;

	t->family = skc->skc_family;
	t->dport = bswap16(skc->skc_dport);
	t->sport = skc->skc_num;
	if (t->family == AF_INET6) {
		__builtin_memcpy(t->saddr, skc->skc_v6_rcv_saddr.in6_u.u6_addr8, 16);
		__builtin_memcpy(t->daddr, skc->skc_v6_daddr.in6_u.u6_addr8, 16);
	} else {
		*(__u32 *)t->saddr = skc->skc_rcv_saddr;
		*(__u32 *)t->daddr = skc->skc_daddr;
	}
	fix_sport(sk, t);
}

static __always_inline __u32 read_netns(const struct sock_common *skc)
{
	return BPF_CORE_READ(skc, skc_net.net, ns.inum);
}

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

#endif
