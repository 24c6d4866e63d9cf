// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || !isdigit((unsigned char)*s)) {
		snprintf(err, errlen, "'%s' is not a number", s ? s : "");
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end) {
		snprintf(err, errlen, "'%s' is not a number", s);
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, errlen, "%s is out of range %llu-%llu", s, (unsigned long long)min,
			 (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int parse_port(const char *s, uint16_t *port, char *err, size_t errlen)
{
	uint64_t v;

	if (parse_uint(s, 1, 65535, &v, err, errlen))
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int parse_pid(const char *s, uint32_t *pid, char *err, size_t errlen)
{
	uint64_t v;

	if (parse_uint(s, 1, 4194304, &v, err, errlen))
		return -1;
	*pid = (uint32_t)v;
	return 0;
}

int parse_duration(const char *s, uint64_t *ns, char *err, size_t errlen)
{
	static const struct {
		const char *suffix;
		double ns;
	} units[] = {
		{ "", 1e9 },	 { "ns", 1 },	 { "us", 1e3 }, { "ms", 1e6 },
		{ "s", 1e9 },	 { "m", 60e9 }, { "min", 60e9 }, { "h", 3600e9 },
	};
	double v;
	char *end;

	if (!s || !*s || !(isdigit((unsigned char)*s) || *s == '.')) {
		snprintf(err, errlen, "bad duration '%s': use e.g. 30s, 500ms, 2m", s ? s : "");
		return -1;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || !isfinite(v)) {
		snprintf(err, errlen, "bad duration '%s': use e.g. 30s, 500ms, 2m", s);
		return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		v *= units[i].ns;
		if (v < 1e6 || v > 1e9 * 86400 * 365) {
			snprintf(err, errlen, "bad duration '%s': must be between 1ms and 1 year", s);
			return -1;
		}
		*ns = (uint64_t)v;
		return 0;
	}
	snprintf(err, errlen, "bad duration '%s': unknown unit '%s' (use ms, s, m or h)", s, end);
	return -1;
}

int parse_size(const char *s, uint64_t *bytes, char *err, size_t errlen)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!s || !isdigit((unsigned char)*s)) {
		snprintf(err, errlen, "bad size '%s': use e.g. 16M", s ? s : "");
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (!strcmp(end, "") || !strcasecmp(end, "b"))
		shift = 0;
	else if (!strcasecmp(end, "k") || !strcasecmp(end, "kb") || !strcasecmp(end, "kib"))
		shift = 10;
	else if (!strcasecmp(end, "m") || !strcasecmp(end, "mb") || !strcasecmp(end, "mib"))
		shift = 20;
	else if (!strcasecmp(end, "g") || !strcasecmp(end, "gb") || !strcasecmp(end, "gib"))
		shift = 30;
	else
		shift = -1;
	if (errno || shift < 0 || v > (1ULL << (40 - shift))) {
		snprintf(err, errlen, "bad size '%s': use e.g. 16M", s);
		return -1;
	}
	*bytes = (uint64_t)v << shift;
	return 0;
}

int for_each_item(const char *list, int (*fn)(const char *item, void *arg), void *arg,
		  char *err, size_t errlen)
{
	char buf[256];
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		int ret;

		if (n == 0 || n >= sizeof(buf)) {
			snprintf(err, errlen, "bad list '%s': %s item", list, n ? "too long an" : "empty");
			return -1;
		}
		memcpy(buf, p, n);
		buf[n] = 0;
		ret = fn(buf, arg);
		if (ret)
			return ret;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}
