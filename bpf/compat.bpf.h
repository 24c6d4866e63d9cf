/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every difference between kernel versions that the BPF side bridges, in
 * one place; each says which kernel (commit) made it necessary. Whether a
 * kernel has the newer way is probed by the loader (user/probe.c), never
 * read off its version: the constants below are set before load, and the
 * verifier sees only the branch they leave.
 */
#ifndef COMPAT_BPF_H
#define COMPAT_BPF_H

/* bpf_get_socket_cookie() in tracing programs: 5.12+, commit c5dbb89fc2ac
 * ("bpf: Expose bpf_get_socket_cookie to tracing programs"); before, the
 * helper is unknown there and the program is refused. */
const volatile bool cookie_helper = true;

/* A full socket's cookie in a state program: generated where the helper is
 * allowed (so the same as its timewait socket's and the census's from its
 * first transition on), else read: 0 until someone (the census's
 * sock_diag) made one, and the socket is keyed by its address. */
static __always_inline __u64 sock_cookie(bool btf, const struct sock *sk)
{
	if (btf && cookie_helper)
		return bpf_get_socket_cookie((void *)sk);
	return SK_READ(btf, sk, __sk_common.skc_cookie.counter);
}

/* An fexit program finds the return value after the arguments, and 6.15
 * gave __inet_hash_connect() a fifth one (hash_port0, commit 9544d60a2605
 * "inet: change lport contribution to inet_ehashfn() and inet6_ehashfn()"
 * series): the loader reads the count from BTF. bpf_get_func_ret() would
 * ask, but only from 5.17 on (commit f92c1e183604). */
const volatile __u32 hash_connect_nargs = 4;

/* The timewait sweeps walk a map with bpf_for_each_map_elem() from 5.13
 * (commit 69c087ba6225); before, user space walks the keys and runs the
 * per-key programs (timewait.bpf.h). Decided in user space: no constant. */

#endif
