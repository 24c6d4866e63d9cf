// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Fuzz target: the JSON reader. Parse, then read every token back with every
 * accessor and look up keys in every object, as replay does. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jtok t[256];
	const char *s = (const char *)data;
	char err[128], buf[64];
	uint64_t u;
	int64_t i;
	bool b;
	int n = json_parse(s, size, t, 256, err, sizeof(err));

	for (int k = 0; k < n; k++) {
		json_str(s, t, k, buf, sizeof(buf));
		json_str(s, t, k, buf, 1);
		json_u64(s, t, k, &u);
		json_i64(s, t, k, &i);
		json_bool(s, t, k, &b);
		if (t[k].type == J_OBJ) {
			json_get(s, t, k, "type");
			json_get(s, t, k, "");
		}
	}
	return 0;
}
