/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A small append-only output buffer for the hot path: no printf, no
 * allocation; written to its FILE in large blocks. */
#ifndef OUTBUF_H
#define OUTBUF_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct outbuf {
	FILE *f;
	size_t len;
	int failed; /* a write failed; errno kept */
	char buf[1 << 16];
};

int ob_flush(struct outbuf *o);

static inline void ob_reserve(struct outbuf *o, size_t n)
{
	if (o->len + n > sizeof(o->buf))
		ob_flush(o);
}

static inline void ob_mem(struct outbuf *o, const char *s, size_t n)
{
	ob_reserve(o, n);
	if (n > sizeof(o->buf))
		n = sizeof(o->buf);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static inline void ob_str(struct outbuf *o, const char *s)
{
	ob_mem(o, s, strlen(s));
}

/* A string literal: its length is known at compile time. */
#define OB_LIT(o, lit) ob_mem((o), (lit), sizeof(lit) - 1)

static inline void ob_char(struct outbuf *o, char c)
{
	ob_reserve(o, 1);
	o->buf[o->len++] = c;
}

void ob_u64(struct outbuf *o, uint64_t v);
void ob_i64(struct outbuf *o, int64_t v);
/* nanoseconds as milliseconds with 3 decimals: 1500000 -> "1.500" */
void ob_ms(struct outbuf *o, uint64_t ns);
/* JSON string literal with control bytes, '"', '\\', 0x7f and bytes >= 0x80
 * escaped as \u00XX; at most max bytes or up to NUL. */
void ob_json_str(struct outbuf *o, const char *s, size_t max);

#endif
