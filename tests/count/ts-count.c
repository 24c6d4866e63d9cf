// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ts-count NETNS_INODE: count TCP state transitions in one network namespace
 * until SIGINT/SIGTERM, then print one JSON object:
 *   {"counts":{"CLOSE>SYN_SENT":N,...},"misses":M}
 * M: invocations the kernel skipped (the program was busy on that CPU); the
 * true count of a transition is between its count and its count + M.
 * Prints "counting" on stderr once attached.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "count.skel.h"

static const char *names[16] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV", [4] = "FIN_WAIT1",
	[5] = "FIN_WAIT2", [6] = "TIME_WAIT", [7] = "CLOSE", [8] = "CLOSE_WAIT",
	[9] = "LAST_ACK", [10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
	[13] = "BOUND_INACTIVE",
};
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct count_bpf *s;
	const char *sep = "";

	if (argc != 2) {
		fprintf(stderr, "usage: ts-count NETNS_INODE\n");
		return 2;
	}
	s = count_bpf__open();
	if (!s)
		return 1;
	s->rodata->netns = strtoul(argv[1], NULL, 0);
	if (count_bpf__load(s) || count_bpf__attach(s)) {
		fprintf(stderr, "ts-count: loading or attaching failed\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "counting\n");
	while (!stop)
		pause();
	count_bpf__detach(s);
	bpf_obj_get_info_by_fd(bpf_program__fd(s->progs.count_transition), &info, &len);
	printf("{\"counts\":{");
	for (__u32 i = 0; i < 256; i++) {
		__u64 n = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(s->maps.counts), &i, &n) || !n)
			continue;
		printf("%s\"%s>%s\":%llu", sep, names[i / 16] ? names[i / 16] : "?",
		       names[i % 16] ? names[i % 16] : "?", (unsigned long long)n);
		sep = ",";
	}
	printf("},\"misses\":%llu}\n", (unsigned long long)info.recursion_misses);
	count_bpf__destroy(s);
	return 0;
}
