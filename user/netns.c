// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "netns.h"

#define MAX_NETNS 4096

/* Namespaces: ours, the named ones (ip netns) and every process's. */
static int add_ns(uint64_t *seen, unsigned *n, const char *path, int *fds)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || *n >= MAX_NETNS) {
		close(fd);
		return -1;
	}
	for (unsigned i = 0; i < *n; i++)
		if (seen[i] == st.st_ino) {
			close(fd);
			return 0;
		}
	seen[*n] = st.st_ino;
	fds[(*n)++] = fd;
	return 0;
}

static unsigned list_netns(uint64_t *seen, int *fds)
{
	unsigned n = 0;
	char path[300];
	struct dirent *d;
	DIR *dir;

	add_ns(seen, &n, "/proc/self/ns/net", fds);
	if ((dir = opendir("/run/netns"))) {
		while ((d = readdir(dir)))
			if (d->d_name[0] != '.') {
				snprintf(path, sizeof(path), "/run/netns/%s", d->d_name);
				add_ns(seen, &n, path, fds);
			}
		closedir(dir);
	}
	if ((dir = opendir("/proc"))) {
		while ((d = readdir(dir)))
			if (d->d_name[0] >= '1' && d->d_name[0] <= '9') {
				snprintf(path, sizeof(path), "/proc/%s/ns/net", d->d_name);
				add_ns(seen, &n, path, fds);
			}
		closedir(dir);
	}
	return n;
}

struct foreach_job {
	int (*fn)(uint32_t netns, void *ctx);
	void *ctx;
	unsigned failed;
	int done;
};

static void *foreach_thread(void *arg)
{
	static uint64_t seen[MAX_NETNS];
	static int fds[MAX_NETNS];
	struct foreach_job *j = arg;
	unsigned n = list_netns(seen, fds);

	for (unsigned i = 0; i < n; i++) {
		if (setns(fds[i], CLONE_NEWNET) || j->fn((uint32_t)seen[i], j->ctx))
			j->failed++;
		else
			j->done++;
		close(fds[i]);
	}
	return NULL;
}

/* The visits run on a thread of their own, which ends in whatever namespace
 * it entered last: the process's own (its main thread's, which /proc/PID/ns
 * and "ip netns pids" show) never changes, so no one sees tcpscope in a
 * namespace it only looked at (a test's cleanup killed it for that). The
 * caller waits: fn never runs beside it. */
int netns_foreach(int (*fn)(uint32_t netns, void *ctx), void *ctx, unsigned *failed, char *err,
		  size_t errlen)
{
	struct foreach_job j = { .fn = fn, .ctx = ctx };
	pthread_t t;
	int e = pthread_create(&t, NULL, foreach_thread, &j);

	if (e || (e = pthread_join(t, NULL))) {
		snprintf(err, errlen, "cannot start a thread to visit the network namespaces: %s",
			 strerror(e));
		return -1;
	}
	*failed += j.failed;
	return j.done;
}
