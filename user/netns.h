/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Every network namespace tcpscope can see: its own, the named ones
 * (/run/netns, ip netns) and every process's; entered in turn with setns
 * by a thread of its own. */
#ifndef NETNS_H
#define NETNS_H
#include <stddef.h>
#include <stdint.h>

/* Call fn(namespace inode) inside each namespace, on a thread of its own
 * (the process's namespace never changes) while the caller waits. Returns
 * the number fn succeeded in (failures added to *failed), or -1 with a
 * message when the thread could not run. */
int netns_foreach(int (*fn)(uint32_t netns, void *ctx), void *ctx, unsigned *failed, char *err,
		  size_t errlen);

#endif
