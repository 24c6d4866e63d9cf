/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The context a program runs in, in the two levels that matter for TCP:
 * 0 = on the task's own stack (a system call, or ksoftirqd), 1 = on the
 * CPU's interrupt stack (a softirq run at local_bh_enable() or irq exit, or
 * a hardirq).
 *
 * Why: on one CPU a tracepoint invocation in task context can be
 * interrupted only by one in interrupt context, never by another task one,
 * and the same holds one level up for TCP (state changes never happen in
 * hardirq). So per-CPU state that must last from one program to the next
 * of the same invocation (the twin protocol; a timewait socket parked until
 * its full socket's ->CLOSE) is kept per CPU *and per level*: a softirq
 * that lands in between has its own slot and overwrites nothing.
 *
 * How: x86-64 runs softirqs and hardirqs on a per-CPU interrupt stack
 * (do_softirq_own_stack(), run_on_irqstack_cond()); the task's stack is
 * [task->stack, task->stack + THREAD_SIZE). A tracing program's context
 * (the argument array of bpf_trace_run*(), a kprobe's pt_regs) lives on
 * the kernel stack of the code that fired it, so its address tells which.
 * (Not r10: from 6.13 the JIT may give a program a private per-CPU stack.)
 * The kernel's own test, preempt_count(), is per-CPU data that BPF can
 * read only through kallsyms of data symbols (CONFIG_KALLSYMS_ALL, off on
 * many kernels, this host's included).
 * THREAD_SIZE is 16 KiB on x86-64, 32 KiB with KASAN (THREAD_SIZE_ORDER =
 * 2 + KASAN_STACK_ORDER). Elsewhere every program is level 0: the state is
 * then shared by the two levels, as before the level was known.
 *
 * Left out: a hardirq that fires a timer_start inside a softirq's shares
 * that softirq's level (both are on the interrupt stack).
 */
#ifndef CTX_LEVEL_BPF_H
#define CTX_LEVEL_BPF_H

#define CTX_LEVELS 2

/* THREAD_SIZE: set by the loader from the kernel config */
const volatile __u32 task_stack_size = 16384;

static __always_inline __u32 ctx_level(const void *ctx)
{
#if defined(__TARGET_ARCH_x86)
	__u64 base, top;

	/* a plain load from the BTF task (5.11+, 3ca1032ab7ab) where the
	 * helper exists, else a probe read (libbpf drops the dead branch) */
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf))
		base = (__u64)bpf_get_current_task_btf()->stack;
	else
		base = (__u64)BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), stack);

	top = base + task_stack_size;
	/* compared, never computed with: the verifier forbids arithmetic on
	 * the context pointer (root may compare it) */
	return !((__u64)ctx > base && (__u64)ctx <= top);
#else
	return 0;
#endif
}

#endif
