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

/* Two digits per division: this is the hottest function of a busy trace. */
static const char digits2[201] = "00010203040506070809101112131415161718192021222324"
				 "25262728293031323334353637383940414243444546474849"
				 "50515253545556575859606162636465666768697071727374"
				 "75767778798081828384858687888990919293949596979899";

void ob_u64(struct outbuf *o, uint64_t v)
{
	char tmp[20], *p = tmp + sizeof(tmp);

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, digits2 + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, digits2 + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	ob_mem(o, p, (size_t)(tmp + sizeof(tmp) - p));
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
