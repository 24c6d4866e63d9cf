/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The output buffer of the hot path: a record is written through a raw
 * cursor into room reserved once (ob_begin), with no printf, no per-piece
 * bounds check and no allocation, and reaches its FILE in large blocks. */
#ifndef OUTBUF_H
#define OUTBUF_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define OB_MAX_RECORD 8192 /* longest line a writer may produce: a cgroup path and a netns name escaped (6 bytes a byte at worst) take 4.6 KiB */

struct outbuf {
	FILE *f;
	size_t len;
	int failed; /* errno of the first failed write */
	char buf[1 << 16];
};

int ob_flush(struct outbuf *o);

/* Room for one record of at most OB_MAX_RECORD bytes; returns the cursor. */
static inline char *ob_begin(struct outbuf *o)
{
	if (o->len + OB_MAX_RECORD > sizeof(o->buf))
		ob_flush(o);
	return o->buf + o->len;
}

/* Commit what was written up to cursor p. */
static inline void ob_end(struct outbuf *o, char *p)
{
	o->len = (size_t)(p - o->buf);
}

/* A string literal: its length is known at compile time, so the copy is
 * inlined. */
#define P_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* A short NUL-terminated string (names, addresses). */
static inline char *p_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

char *p_u64(char *p, uint64_t v);
char *p_i64(char *p, int64_t v);
/* nanoseconds as milliseconds with 3 decimals: 1500000 -> "1.500" */
char *p_ms(char *p, uint64_t ns);
/* "0x1f" */
char *p_hex(char *p, uint64_t v);
/* JSON string literal, quotes included, of at most max bytes or up to NUL;
 * '"', '\\', control bytes, 0x7f and bytes >= 0x80 are escaped (\u00XX), so
 * any comm gives valid JSON. At most 2 + 6 * max bytes. */
char *p_json_str(char *p, const char *s, size_t max);

#endif
