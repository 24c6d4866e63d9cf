// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include "outbuf.h"

int ob_flush(struct outbuf *o)
{
	if (o->len && !o->failed && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->failed = errno ? errno : EIO;
	o->len = 0;
	return o->failed ? -1 : 0;
}

void ob_u64(struct outbuf *o, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	ob_mem(o, tmp + sizeof(tmp) - n, n);
}

void ob_i64(struct outbuf *o, int64_t v)
{
	if (v < 0) {
		ob_char(o, '-');
		ob_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		ob_u64(o, (uint64_t)v);
	}
}

void ob_ms(struct outbuf *o, uint64_t ns)
{
	uint64_t us = (ns + 500) / 1000;
	char frac[4] = { (char)('0' + us / 100 % 10), (char)('0' + us / 10 % 10),
			 (char)('0' + us % 10), 0 };

	ob_u64(o, us / 1000);
	ob_char(o, '.');
	ob_mem(o, frac, 3);
}

void ob_json_str(struct outbuf *o, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";

	ob_char(o, '"');
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			ob_mem(o, e, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			/* comm is raw bytes, not UTF-8: keep the JSON valid */
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			ob_mem(o, e, 6);
		} else {
			ob_char(o, (char)c);
		}
	}
	ob_char(o, '"');
}
