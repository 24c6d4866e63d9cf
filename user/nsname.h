/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Names of network namespaces: the bind mounts `ip netns add` makes
 * (/run/netns/NAME) and docker's (/var/run/docker/netns/ID). A bind mount
 * of a namespace is an nsfs file whose inode is the namespace's, the
 * number every record carries as netns; an unmounted name is a plain file
 * of the tmpfs and names nothing. A namespace without such a mount (a
 * pod's, a process's own) has no name: its inode is all there is.
 * The names are read on demand and cached; an inode the cache lacks makes
 * it reread the directories, at most once a second, and a cache older
 * than 10 s is reread anyway (a name deleted, an inode reused).
 */
#ifndef NSNAME_H
#define NSNAME_H
#include <stddef.h>
#include <stdint.h>

struct nsname {
	uint32_t netns;
	const char *source; /* "ip-netns" or "docker" */
	char name[256];
};

/* The name of a namespace, or NULL when it has none. Valid until the next
 * call of any nsname function. */
const char *nsname_of(uint32_t netns);
/* The namespace named name (a file name, no '/'), 0 when none is. */
uint32_t nsname_find(const char *name);
/* Every named namespace now (reread first): count, the array in *out. */
size_t nsname_all(const struct nsname **out);

#endif
