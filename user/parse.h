/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Strict parsing of command-line values. Each returns 0 or -1 with a
 * one-line reason in err (errlen bytes). */
#ifndef PARSE_H
#define PARSE_H
#include <stddef.h>
#include <stdint.h>

/* "30s", "500ms", "2m", "1h", "1.5s"; a bare number means seconds. */
int parse_duration(const char *s, uint64_t *ns, char *err, size_t errlen);
/* 1..65535 */
int parse_port(const char *s, uint16_t *port, char *err, size_t errlen);
/* 1..4194304 */
int parse_pid(const char *s, uint32_t *pid, char *err, size_t errlen);
/* Size with optional K/M/G suffix (powers of two), e.g. "16M". */
int parse_size(const char *s, uint64_t *bytes, char *err, size_t errlen);
/* Unsigned integer in [min, max]. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t errlen);

/* Calls fn for every comma-separated, non-empty item of list; stops at the
 * first non-zero return and returns it. An empty item is an error. */
int for_each_item(const char *list, int (*fn)(const char *item, void *arg), void *arg,
		  char *err, size_t errlen);

#endif
