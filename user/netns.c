// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

int netns_foreach(int (*fn)(uint32_t netns, void *ctx), void *ctx, unsigned *failed, char *err,
		  size_t errlen)
{
	static uint64_t seen[MAX_NETNS];
	static int fds[MAX_NETNS];
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), done = 0;
	unsigned n;

	if (self < 0) {
		snprintf(err, errlen, "cannot open /proc/self/ns/net: %s", strerror(errno));
		return -1;
	}
	n = list_netns(seen, fds);
	for (unsigned i = 0; i < n; i++) {
		if (setns(fds[i], CLONE_NEWNET) || fn((uint32_t)seen[i], ctx))
			(*failed)++;
		else
			done++;
		close(fds[i]);
	}
	if (setns(self, CLONE_NEWNET)) {
		snprintf(err, errlen, "cannot return to our network namespace: %s", strerror(errno));
		close(self);
		return -1;
	}
	close(self);
	return done;
}
