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

#endif
