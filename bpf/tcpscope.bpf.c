// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcpscope's kernel side, one header per fact; each owns its maps, its
 * bodies and its program wrappers. Programs in SEC("?...") are optional:
 * not loaded unless the loader (user/loader.c) chose their tier.
 *
 *   state.bpf.h            state transitions (inet_sock_set_state)
 *   timewait.bpf.h         timewait entry, overflow, substate, end and cause
 *   port_alloc.bpf.h       ephemeral port allocations, scan length, reuse
 *   syscalls.bpf.h         connect()/bind() results, accept() owners
 *   listen_overflow.bpf.h  accept queue overflows
 * and what they share: common.bpf.h (ring buffer, owner table, guards),
 * compat.bpf.h (kernel-version differences), sock_read.bpf.h, filter.bpf.h,
 * ctx_level.bpf.h, twin.bpf.h. The contract with user space: tcpscope.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "tcpscope.h"
#include "common.bpf.h"
#include "filter.bpf.h"
#include "sock_read.bpf.h"
#include "compat.bpf.h"
#include "port_alloc.bpf.h"
#include "syscalls.bpf.h"
#include "twin.bpf.h"
#include "timewait.bpf.h"
#include "state.bpf.h"
#include "listen_overflow.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
