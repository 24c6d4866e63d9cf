// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Fuzz target: ring-buffer records, as the kernel side hands them over.
 * Input: a stream of records, each a 16-bit little-endian length and that
 * many bytes. Each goes through decode() and, when accepted, the tracker
 * and every sink (text, JSON, CSV, model, top) exactly as on_record() does;
 * then the diagnosis and top's panes are computed. A record decode()
 * accepts may still hold anything: a state number out of range, a comm
 * without its NUL, an unknown family. */
#include <stdint.h>
#include <string.h>
#include "chain.h"
#include "decode.h"
#include "tracker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy, aligned as the ring buffer aligns records (8 bytes) */
	static uint64_t rec[4096 / 8];
	struct tracker t;
	struct chain c;
	char err[128];

	chain_open(&c, true);
	tracker_init(&t);
	while (size >= 2) {
		size_t len = data[0] | (size_t)data[1] << 8;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (len > sizeof(rec))
			len = sizeof(rec);
		memcpy(rec, data, len);
		data += len;
		size -= len;
		const struct ev_hdr *h = decode(rec, len, err, sizeof(err));

		if (!h)
			continue;
		tracker_event(&t, h);
		sink_event(chain_head(&c, true), h);
	}
	chain_close(&c);
	return 0;
}
