// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include "hidden.h"

static long tracepoint_id(const char *cat, const char *name)
{
	static const char *roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[256];

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		long id = -1;
		FILE *f;

		snprintf(path, sizeof(path), "%s/events/%s/%s/id", roots[i], cat, name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%ld", &id) != 1)
			id = -1;
		fclose(f);
		if (id >= 0)
			return id;
	}
	return -1;
}

void hidden_open(struct hidden *h)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(a),
		.inherit = 1,
		.exclude_hv = 1,
	};
	struct dirent *d;
	DIR *dir;
	long id;

	memset(h, 0, sizeof(*h));
	id = tracepoint_id("sock", "inet_sock_set_state");
	if (id < 0) {
		snprintf(h->why, sizeof(h->why), "no tracefs (mount -t tracefs nodev /sys/kernel/tracing)");
		return;
	}
	a.config = id;
	dir = opendir("/proc/1/task");
	if (!dir) {
		snprintf(h->why, sizeof(h->why), "/proc/1/task: %s", strerror(errno));
		return;
	}
	while ((d = readdir(dir))) {
		int tid = atoi(d->d_name), fd;

		if (tid <= 0)
			continue;
		if (h->n == HIDDEN_MAX_THREADS) {
			snprintf(h->why, sizeof(h->why), "PID 1 has more than %d threads",
				 HIDDEN_MAX_THREADS);
			break;
		}
		fd = syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			if (errno == ESRCH)
				continue; /* the thread ended meanwhile */
			snprintf(h->why, sizeof(h->why), "perf_event_open: %s", strerror(errno));
			break;
		}
		/* TCP only, as our programs count (a filter is an exactness
		 * nicety: without one, other protocols would be counted too) */
		ioctl(fd, PERF_EVENT_IOC_SET_FILTER, "protocol == 6");
		h->fds[h->n++] = fd;
	}
	closedir(dir);
	if (h->why[0])
		hidden_close(h);
}

uint64_t hidden_count(const struct hidden *h)
{
	uint64_t sum = 0;

	for (int i = 0; i < h->n; i++) {
		uint64_t v;

		if (read(h->fds[i], &v, sizeof(v)) == sizeof(v))
			sum += v;
	}
	return sum;
}

void hidden_close(struct hidden *h)
{
	for (int i = 0; i < h->n; i++)
		close(h->fds[i]);
	h->n = 0;
}
