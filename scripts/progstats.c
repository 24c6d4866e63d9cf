// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * progstats: the BPF time of every program that ran while a command ran.
 *   progstats [-n NAME-PREFIX] -- COMMAND [ARGS...]
 * Turns the kernel's run-time statistics on with BPF_ENABLE_STATS for as
 * long as it holds the file descriptor (so nothing on the host is left
 * changed, unlike the kernel.bpf_stats_enabled sysctl), reads every loaded
 * program's run_cnt and run_time_ns before and after COMMAND, and prints a
 * line per program whose count grew: "name runs ns ns/run". Programs loaded
 * while COMMAND runs (a tracer it starts) count from zero. scripts/bench
 * uses it for the per-program cost of tcpscope and tcpstates.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PROGS 4096

struct prog {
	__u32 id;
	char name[BPF_OBJ_NAME_LEN];
	__u64 cnt, ns;
};

static int snapshot(struct prog *p, int max)
{
	__u32 id = 0;
	int n = 0;

	while (n < max && bpf_prog_get_next_id(id, &id) == 0) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue; /* unloaded meanwhile */
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
			p[n].id = id;
			snprintf(p[n].name, sizeof(p[n].name), "%s", info.name);
			p[n].cnt = info.run_cnt;
			p[n].ns = info.run_time_ns;
			n++;
		}
		close(fd);
	}
	return n;
}

int main(int argc, char **argv)
{
	static struct prog before[MAX_PROGS], after[MAX_PROGS];
	const char *prefix = "";
	int nb, na, fd, status, argi = 1;
	pid_t pid;

	if (argi + 1 < argc && !strcmp(argv[argi], "-n")) {
		prefix = argv[argi + 1];
		argi += 2;
	}
	if (argi < argc && !strcmp(argv[argi], "--"))
		argi++;
	if (argi >= argc) {
		fprintf(stderr, "usage: progstats [-n NAME-PREFIX] -- COMMAND [ARGS...]\n");
		return 2;
	}
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0) {
		fprintf(stderr, "progstats: BPF_ENABLE_STATS failed: %s (root and a 5.8+ kernel needed)\n",
			strerror(errno));
		return 2;
	}
	nb = snapshot(before, MAX_PROGS);
	pid = fork();
	if (pid < 0) {
		perror("progstats: fork");
		return 2;
	}
	if (pid == 0) {
		close(fd);
		execvp(argv[argi], argv + argi);
		fprintf(stderr, "progstats: %s: %s\n", argv[argi], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("progstats: waitpid");
		return 2;
	}
	na = snapshot(after, MAX_PROGS);
	close(fd);
	for (int i = 0; i < na; i++) {
		__u64 cnt = after[i].cnt, ns = after[i].ns;

		if (strncmp(after[i].name, prefix, strlen(prefix)))
			continue;
		for (int j = 0; j < nb; j++)
			if (before[j].id == after[i].id) {
				cnt -= before[j].cnt;
				ns -= before[j].ns;
				break;
			}
		if (cnt)
			printf("%-16s %12llu %14llu %8.1f\n", after[i].name, (unsigned long long)cnt,
			       (unsigned long long)ns, (double)ns / cnt);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
