/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Capability probing: can this kernel, with this policy, run an fentry or a
 * kprobe program on a given function? Decided by trying, never by version. */
#ifndef PROBE_H
#define PROBE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Load and attach a two-instruction fentry program on func. On failure,
 * why gets e.g. "fentry: EPERM at attach" or "fentry: not in kernel BTF". */
bool probe_fentry(const char *func, char *why, size_t len);
/* Address of a kernel symbol in /proc/kallsyms (read once per run), 0 if none. */
uint64_t probe_ksym_addr(const char *name);
/* kprobe PMU present and func a traceable kernel symbol. */
bool probe_kprobe(const char *func, char *why, size_t len);
/* A kernel function's number of arguments (its BTF prototype), -1 if unknown */
int probe_func_args(const char *func);
/* The kernel has the tracepoint tp (e.g. "inet_sock_set_state") for tp_btf. */
bool probe_tp_btf(const char *tp);
/* Its number of arguments, or -1 when there is no such tracepoint. */
int probe_tp_btf_args(const char *tp);
/* A tp_btf program on inet_sock_set_state may call bpf_get_socket_cookie()
 * on its socket (tracing programs may from 5.12, kernel commit c5dbb89fc2ac
 * "bpf: Expose bpf_get_socket_cookie to tracing programs"). Decided by
 * loading one. */
bool probe_tracing_cookie(void);
/* BPF atomics with cmpxchg (5.12+): the lock-free socket table */
bool probe_cmpxchg(void);
/* The kernel's BTF has this enumerator in this enum. */
bool probe_enum_value(const char *enum_name, const char *value);

#endif
