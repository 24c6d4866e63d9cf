// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Seeds for fuzz_decode from a real trace: every event of a JSON trace is
 * turned back into the ring-buffer record it came from (replay builds the
 * same structs the kernel side fills) and written as fuzz_decode reads
 * them, a 16-bit little-endian length before each record.
 *   mkrecords TRACE.jsonl OUT */
#include <stdio.h>
#include <string.h>
#include "replay.h"
#include "sink.h"

static FILE *out;

static int capture(struct sink *s, const struct ev_hdr *h)
{
	unsigned char len[2] = { h->size & 0xff, h->size >> 8 };

	return fwrite(len, 1, 2, out) == 2 && fwrite(h, 1, h->size, out) == h->size ? 0 : -1;
}

static const struct sink_ops capture_ops = { .event = capture };

int main(int argc, char **argv)
{
	struct sink s = { .ops = &capture_ops };
	char err[512];

	if (argc != 3) {
		fprintf(stderr, "usage: mkrecords TRACE.jsonl OUT\n");
		return 2;
	}
	out = fopen(argv[2], "wb");
	if (!out || replay_file(argv[1], &s, err, sizeof(err)) || fclose(out)) {
		fprintf(stderr, "mkrecords: %s\n", out ? err : argv[2]);
		return 1;
	}
	return 0;
}
