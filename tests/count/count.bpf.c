// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The tests' independent count of TCP state transitions: the smallest
 * program on sock:inet_sock_set_state that counts (old, new) pairs of one
 * network namespace, nothing else. Shares no code with tcpscope's. Its
 * own recursion misses are read by ts-count and printed with the counts.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 netns = 0;
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16 * 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(count_transition, const struct sock *sk, const int oldstate, const int newstate)
{
	if (sk->__sk_common.skc_net.net->ns.inum != netns || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	__u32 i = ((__u32)oldstate & 15) << 4 | ((__u32)newstate & 15);
	__u64 *n = bpf_map_lookup_elem(&counts, &i);

	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}
