/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Transitions the kernel made where no BPF program of ours could run: a
 * meter that counts them, since the programs cannot.
 *
 * Some kernels run no BPF program at all while the current task belongs to
 * PID 1 (a sandbox's init agent is hidden this way: the check sits in
 * bpf_trace_run*() and trace_call_bpf(), before the recursion guard, so not
 * even a recursion miss is counted). A state change made in a softirq that
 * lands on top of one of PID 1's threads (a loopback packet's receive path
 * runs wherever the softirq is raised) is then invisible to every tracer:
 * on this project's build host, whole client tails (FIN_WAIT1 -> FIN_WAIT2
 * -> CLOSE and the TIME_WAIT entry) vanished this way.
 *
 * The meter: one counting perf event on sock:inet_sock_set_state per thread
 * of PID 1 (inherit: threads they start later are counted too). perf
 * counting is not BPF, so it sees them. Whether the kernel hides PID 1 is
 * learnt from the BPF side: our state programs note when they run with PID
 * 1 current (saw_pid1); until they do, every transition the meter counts
 * is one they missed. Where PID 1 is not hidden the first such transition
 * flips saw_pid1 and the meter's count stops mattering.
 */
#ifndef HIDDEN_H
#define HIDDEN_H
#include <stdint.h>

#define HIDDEN_MAX_THREADS 256

struct hidden {
	int fds[HIDDEN_MAX_THREADS];
	int n;
	char why[128]; /* why there is no meter, when n == 0 */
};

/* Open the meter; on failure n == 0 and why says what is missing. */
void hidden_open(struct hidden *h);
/* Transitions made with PID 1 current since hidden_open() */
uint64_t hidden_count(const struct hidden *h);
void hidden_close(struct hidden *h);

#endif
