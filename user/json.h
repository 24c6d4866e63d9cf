/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A small JSON reader for the trace files tcpscope writes (report): one
 * line is parsed into a flat array of tokens, each token's subtree
 * following it; values are looked up by key. Strict: anything that is not
 * JSON is an error with the byte offset. */
#ifndef JSON_H
#define JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jtype { J_OBJ, J_ARR, J_STR, J_NUM, J_TRUE, J_FALSE, J_NULL };

struct jtok {
	uint8_t type;
	int start, end; /* bytes of the value; a string's without its quotes */
	int size;	/* members (object: key/value pairs) or elements */
	int next;	/* index of the token after this one's subtree */
};

/* Parse s[0..len) (one value, surrounding white space allowed) into at most
 * max tokens. Returns the token count, or -1 with a message in err. */
int json_parse(const char *s, size_t len, struct jtok *t, int max, char *err, size_t errlen);
/* The value of key in object obj, or -1 */
int json_get(const char *s, const struct jtok *t, int obj, const char *key);
/* Value accessors: false when the token has another type or does not fit */
bool json_str(const char *s, const struct jtok *t, int i, char *out, size_t len);
bool json_u64(const char *s, const struct jtok *t, int i, uint64_t *v);
bool json_i64(const char *s, const struct jtok *t, int i, int64_t *v);
bool json_bool(const char *s, const struct jtok *t, int i, bool *v);

#endif
