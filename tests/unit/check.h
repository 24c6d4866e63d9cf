/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A minimal test harness: CHECK() records a failure with its line and goes
 * on; CHECK_EQ() and CHECK_STR() print the actual and expected values;
 * check_summary() prints "N passed, N failed" and gives the exit code. */
#ifndef CHECK_H
#define CHECK_H
#include <stdio.h>
#include <string.h>

static int check_pass, check_fail;

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (cond) {                                                     \
			check_pass++;                                           \
		} else {                                                        \
			check_fail++;                                           \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
		}                                                               \
	} while (0)

/* got == want for integers, printing both on failure, then the message */
#define CHECK_EQ(got, want, ...)                                                 \
	do {                                                                     \
		long long got_ = (long long)(got), want_ = (long long)(want);    \
		if (got_ == want_) {                                             \
			check_pass++;                                            \
		} else {                                                         \
			check_fail++;                                            \
			fprintf(stderr, "FAIL %s:%d: %s: got %lld, want %lld: ",   \
				__FILE__, __LINE__, #got, got_, want_);          \
			fprintf(stderr, __VA_ARGS__);                            \
			fputc('\n', stderr);                                     \
		}                                                                \
	} while (0)

#define CHECK_STR(got, want) CHECK(!strcmp((got), (want)), "got '%s', want '%s'", (got), (want))

static inline int check_summary(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_pass, check_fail);
	return check_fail ? 1 : 0;
}

#endif
