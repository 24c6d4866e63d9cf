// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Fuzz target: what a user types. The first byte picks the parser (the
 * option arguments: -d/-i durations, ports, pids, sizes, numbers, comma
 * lists; the filters -p -c -L -D --state; top's '/' filter words); the rest,
 * NUL-terminated, is the argument. A filter that parsed is then described
 * and matched against records, as trace and top do. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "filter.h"
#include "parse.h"
#include "tcpscope.h"

static int count_item(const char *item, void *arg)
{
	(*(int *)arg)++;
	return strlen(item) > 200 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char arg[4096];
	char err[256], desc[512];
	struct filter f;
	uint64_t u;
	uint16_t port;
	uint32_t pid;
	int n = 0, r = 0;

	if (!size)
		return 0;
	size_t len = size - 1 < sizeof(arg) - 1 ? size - 1 : sizeof(arg) - 1;

	memcpy(arg, data + 1, len);
	arg[len] = 0;
	memset(&f, 0, sizeof(f));
	switch (data[0] % 12) {
	case 0: parse_duration(arg, &u, err, sizeof(err)); break;
	case 1: parse_port(arg, &port, err, sizeof(err)); break;
	case 2: parse_pid(arg, &pid, err, sizeof(err)); break;
	case 3: parse_size(arg, &u, err, sizeof(err)); break;
	case 4: parse_uint(arg, 1, 65536, &u, err, sizeof(err)); break;
	case 5: for_each_item(arg, count_item, &n, err, sizeof(err)); break;
	case 6: r = filter_add_pids(&f, arg, err, sizeof(err)); break;
	case 7: r = filter_add_comms(&f, arg, err, sizeof(err)); break;
	case 8: r = filter_add_lports(&f, arg, err, sizeof(err)); break;
	case 9: r = filter_add_rports(&f, arg, err, sizeof(err)); break;
	case 10: r = filter_add_states(&f, arg, err, sizeof(err)); break;
	case 11: r = filter_parse_words(&f, arg, err, sizeof(err)); break;
	}
	if (!r && data[0] % 12 >= 6) {
		struct ev_state e = { .hdr = { .type = EV_STATE, .size = sizeof(e) } };

		filter_describe(&f, desc, sizeof(desc));
		filter_active(&f);
		e.owner.pid = 1;
		memcpy(e.owner.comm, "nginx", 6);
		e.t.family = 2;
		e.t.sport = 80;
		e.old_state = 1;
		e.new_state = 8;
		filter_match(&f, &e.hdr);
	}
	return 0;
}
