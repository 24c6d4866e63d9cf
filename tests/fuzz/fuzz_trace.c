// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Fuzz target: a trace file, as report reads it (plain or gzip, whole or cut
 * short), replayed into the model and top's rings; then the diagnosis. The
 * input is written to a memory file and read by path, the way report does. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "chain.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64], err[512];
	struct chain c;

	if (fd < 0) {
		fd = memfd_create("trace", 0);
		if (fd < 0)
			abort();
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	chain_open(&c, false);
	replay_file(path, chain_head(&c, false), err, sizeof(err));
	chain_close(&c);
	return 0;
}
