// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"

#define MAX_DEPTH 16

struct parser {
	const char *s;
	size_t len, pos;
	struct jtok *t;
	int n, max;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, const char *what)
{
	snprintf(p->err, p->errlen, "%s at byte %zu", what, p->pos + 1);
	return -1;
}

/* c is one of set (strchr() alone would also match the NUL byte) */
static bool in_set(char c, const char *set)
{
	return c && strchr(set, c);
}

static void ws(struct parser *p)
{
	while (p->pos < p->len && in_set(p->s[p->pos], " \t\r\n"))
		p->pos++;
}

static int value(struct parser *p, int depth);

static int new_tok(struct parser *p, int type)
{
	if (p->n == p->max)
		return fail(p, "too many values in one record");
	p->t[p->n] = (struct jtok){ .type = (uint8_t)type, .start = (int)p->pos };
	return p->n++;
}

static int string(struct parser *p)
{
	int i = new_tok(p, J_STR);

	if (i < 0)
		return -1;
	p->pos++; /* opening quote */
	p->t[i].start = (int)p->pos;
	while (p->pos < p->len && p->s[p->pos] != '"') {
		unsigned char c = (unsigned char)p->s[p->pos];

		if (c < 0x20)
			return fail(p, "control character in a string");
		if (c == '\\') {
			if (++p->pos >= p->len)
				break;
			c = (unsigned char)p->s[p->pos];
			if (c == 'u') {
				for (int k = 1; k <= 4; k++)
					if (p->pos + k >= p->len ||
					    !in_set(p->s[p->pos + k], "0123456789abcdefABCDEF"))
						return fail(p, "bad \\u escape");
				p->pos += 4;
			} else if (!in_set((char)c, "\"\\/bfnrt")) {
				return fail(p, "bad escape");
			}
		}
		p->pos++;
	}
	if (p->pos >= p->len)
		return fail(p, "unterminated string");
	p->t[i].end = (int)p->pos;
	p->pos++;
	p->t[i].next = p->n;
	return i;
}

static int number(struct parser *p)
{
	int i = new_tok(p, J_NUM);
	size_t st = p->pos;

	if (i < 0)
		return -1;
	if (p->s[p->pos] == '-')
		p->pos++;
	while (p->pos < p->len && in_set(p->s[p->pos], "0123456789.eE+-"))
		p->pos++;
	if (p->pos == st || (p->pos == st + 1 && p->s[st] == '-'))
		return fail(p, "bad number");
	p->t[i].end = (int)p->pos;
	p->t[i].next = p->n;
	return i;
}

static int literal(struct parser *p, const char *word, int type)
{
	size_t n = strlen(word);
	int i;

	if (p->len - p->pos < n || strncmp(p->s + p->pos, word, n))
		return fail(p, "unexpected character");
	i = new_tok(p, type);
	if (i < 0)
		return -1;
	p->pos += n;
	p->t[i].end = (int)p->pos;
	p->t[i].next = p->n;
	return i;
}

static int container(struct parser *p, int depth, bool obj)
{
	int i = new_tok(p, obj ? J_OBJ : J_ARR);
	char close = obj ? '}' : ']';

	if (i < 0)
		return -1;
	if (depth > MAX_DEPTH)
		return fail(p, "nested too deep");
	p->pos++;
	ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		goto done;
	}
	for (;;) {
		ws(p);
		if (obj) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, p->pos >= p->len ? "record cut short" : "expected a key");
			if (string(p) < 0)
				return -1;
			ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return fail(p, p->pos >= p->len ? "record cut short" : "expected ':'");
			p->pos++;
		}
		if (value(p, depth + 1) < 0)
			return -1;
		p->t[i].size++;
		ws(p);
		if (p->pos >= p->len)
			return fail(p, "record cut short");
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] == close) {
			p->pos++;
			break;
		}
		return fail(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
done:
	p->t[i].end = (int)p->pos;
	p->t[i].next = p->n;
	return i;
}

static int value(struct parser *p, int depth)
{
	ws(p);
	if (p->pos >= p->len)
		return fail(p, "record cut short");
	switch (p->s[p->pos]) {
	case '{':
		return container(p, depth, true);
	case '[':
		return container(p, depth, false);
	case '"':
		return string(p);
	case 't':
		return literal(p, "true", J_TRUE);
	case 'f':
		return literal(p, "false", J_FALSE);
	case 'n':
		return literal(p, "null", J_NULL);
	default:
		if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
			return number(p);
		return fail(p, "unexpected character");
	}
}

int json_parse(const char *s, size_t len, struct jtok *t, int max, char *err, size_t errlen)
{
	struct parser p = { .s = s, .len = len, .t = t, .max = max, .err = err, .errlen = errlen };

	if (value(&p, 0) < 0)
		return -1;
	ws(&p);
	if (p.pos != len)
		return fail(&p, "text after the record");
	return p.n;
}

static bool key_is(const char *s, const struct jtok *k, const char *key)
{
	size_t n = strlen(key);

	return k->type == J_STR && (size_t)(k->end - k->start) == n && !memcmp(s + k->start, key, n);
}

int json_get(const char *s, const struct jtok *t, int obj, const char *key)
{
	if (obj < 0 || t[obj].type != J_OBJ)
		return -1;
	for (int i = obj + 1, m = 0; m < t[obj].size; m++) {
		int v = i + 1;

		if (key_is(s, &t[i], key))
			return v;
		i = t[v].next;
	}
	return -1;
}

bool json_str(const char *s, const struct jtok *t, int i, char *out, size_t len)
{
	size_t o = 0;

	if (i < 0 || t[i].type != J_STR || !len)
		return false;
	for (int k = t[i].start; k < t[i].end; k++) {
		char c = s[k];

		if (c == '\\') {
			c = s[++k];
			if (c == 'u') {
				char hex[5] = { s[k + 1], s[k + 2], s[k + 3], s[k + 4], 0 };
				unsigned long u = strtoul(hex, NULL, 16);

				k += 4;
				c = u < 0x100 ? (char)u : '?';
			} else {
				c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' :
				    c == 'b' ? '\b' : c == 'f' ? '\f' : c;
			}
		}
		if (o + 1 >= len)
			return false;
		out[o++] = c;
	}
	out[o] = 0;
	return true;
}

bool json_u64(const char *s, const struct jtok *t, int i, uint64_t *v)
{
	char buf[32], *end;
	size_t n;

	if (i < 0 || t[i].type != J_NUM || (n = (size_t)(t[i].end - t[i].start)) >= sizeof(buf) ||
	    s[t[i].start] == '-')
		return false;
	memcpy(buf, s + t[i].start, n);
	buf[n] = 0;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	return !errno && *end == 0;
}

bool json_i64(const char *s, const struct jtok *t, int i, int64_t *v)
{
	char buf[32], *end;
	size_t n;

	if (i < 0 || t[i].type != J_NUM || (n = (size_t)(t[i].end - t[i].start)) >= sizeof(buf))
		return false;
	memcpy(buf, s + t[i].start, n);
	buf[n] = 0;
	errno = 0;
	*v = strtoll(buf, &end, 10);
	return !errno && *end == 0;
}

bool json_bool(const char *s, const struct jtok *t, int i, bool *v)
{
	if (i < 0 || (t[i].type != J_TRUE && t[i].type != J_FALSE))
		return false;
	*v = t[i].type == J_TRUE;
	return true;
}
