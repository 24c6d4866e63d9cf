// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "tcpscope.h"
#include "states.h"

/* The one table of display names: kernel names (JSON, CSV, -w) and the
 * short names of the 80-column text. */
static const struct {
	const char *kernel;
	const char *brief;
} names[TS_STATE_MAX] = {
	[TS_ESTABLISHED] = { "ESTABLISHED", "ESTAB" },
	[TS_SYN_SENT] = { "SYN_SENT", "SYNSENT" },
	[TS_SYN_RECV] = { "SYN_RECV", "SYNRECV" },
	[TS_FIN_WAIT1] = { "FIN_WAIT1", "FINWT1" },
	[TS_FIN_WAIT2] = { "FIN_WAIT2", "FINWT2" },
	[TS_TIME_WAIT] = { "TIME_WAIT", "TIMEWT" },
	[TS_CLOSE] = { "CLOSE", "CLOSE" },
	[TS_CLOSE_WAIT] = { "CLOSE_WAIT", "CLOSEWT" },
	[TS_LAST_ACK] = { "LAST_ACK", "LASTACK" },
	[TS_LISTEN] = { "LISTEN", "LISTEN" },
	[TS_CLOSING] = { "CLOSING", "CLOSING" },
	[TS_NEW_SYN_RECV] = { "NEW_SYN_RECV", "NEWSYNR" },
	[TS_BOUND_INACTIVE] = { "BOUND_INACTIVE", "BOUNDIN" },
};

const char *state_kernel_name(int state)
{
	static __thread char buf[16];

	if (state > 0 && state < TS_STATE_MAX && names[state].kernel)
		return names[state].kernel;
	snprintf(buf, sizeof(buf), "STATE_%d", state);
	return buf;
}

const char *state_brief_name(int state)
{
	if (state > 0 && state < TS_STATE_MAX && names[state].brief)
		return names[state].brief;
	return state_kernel_name(state);
}

#define B(s) (1u << (s))
#define ALL_STATES                                                                          \
	(B(TS_ESTABLISHED) | B(TS_SYN_SENT) | B(TS_SYN_RECV) | B(TS_FIN_WAIT1) |            \
	 B(TS_FIN_WAIT2) | B(TS_TIME_WAIT) | B(TS_CLOSE) | B(TS_CLOSE_WAIT) | B(TS_LAST_ACK) | \
	 B(TS_LISTEN) | B(TS_CLOSING))

/* ss's vocabulary (iproute2 misc/ss.c), spelled without '-' and '_'. */
static const struct {
	const char *name;
	uint32_t mask;
} vocab[] = {
	{ "established", B(TS_ESTABLISHED) },
	{ "synsent", B(TS_SYN_SENT) },
	{ "synrecv", B(TS_SYN_RECV) },
	{ "finwait1", B(TS_FIN_WAIT1) },
	{ "finwait2", B(TS_FIN_WAIT2) },
	{ "timewait", B(TS_TIME_WAIT) },
	{ "closed", B(TS_CLOSE) },
	{ "close", B(TS_CLOSE) },
	{ "closewait", B(TS_CLOSE_WAIT) },
	{ "lastack", B(TS_LAST_ACK) },
	{ "listening", B(TS_LISTEN) },
	{ "listen", B(TS_LISTEN) },
	{ "closing", B(TS_CLOSING) },
	{ "all", ALL_STATES },
	{ "connected", ALL_STATES & ~(B(TS_LISTEN) | B(TS_CLOSE)) },
	{ "synchronized", ALL_STATES & ~(B(TS_LISTEN) | B(TS_CLOSE) | B(TS_SYN_SENT)) },
	{ "bucket", B(TS_SYN_RECV) | B(TS_TIME_WAIT) },
	{ "big", ALL_STATES & ~(B(TS_SYN_RECV) | B(TS_TIME_WAIT)) },
};

int state_parse(const char *name, uint32_t *mask)
{
	char norm[32];
	size_t n = 0;

	for (const char *p = name; *p; p++) {
		if (*p == '-' || *p == '_')
			continue;
		if (n + 1 >= sizeof(norm))
			return -1;
		norm[n++] = (char)tolower((unsigned char)*p);
	}
	norm[n] = 0;
	for (size_t i = 0; i < sizeof(vocab) / sizeof(vocab[0]); i++) {
		if (!strcmp(norm, vocab[i].name)) {
			*mask |= vocab[i].mask;
			return 0;
		}
	}
	return -1;
}
