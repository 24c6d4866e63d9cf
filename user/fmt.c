// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "fmt.h"

const char *fmt_addr(uint16_t family, const uint8_t *addr, char *buf, size_t len)
{
	if (family != AF_INET6 && len >= 16) {
		/* inet_ntop formats IPv4 with sprintf: too slow for the hot path */
		char *p = buf;

		for (int i = 0; i < 4; i++) {
			unsigned v = addr[i];

			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : 0;
		}
		return buf;
	}
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

const char *fmt_endpoint(uint16_t family, const uint8_t *addr, uint16_t port, char *buf,
			 size_t len)
{
	char a[ADDR_STRLEN], p[8];

	fmt_addr(family, addr, a, sizeof(a));
	if (port)
		snprintf(p, sizeof(p), "%u", port);
	else
		strcpy(p, "*");
	if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%s", a, p);
	else
		snprintf(buf, len, "%s:%s", a, p);
	return buf;
}

const char *fmt_family(uint16_t family)
{
	return family == AF_INET6 ? "ipv6" : family == AF_INET ? "ipv4" : "unknown";
}

int64_t clock_offset_now(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((int64_t)rt.tv_sec - mono.tv_sec) * (int64_t)NSEC_PER_SEC + (rt.tv_nsec - mono.tv_nsec);
}

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

const char *fmt_rfc3339(uint64_t mono_ns, int64_t offset_ns, char *buf, size_t len)
{
	int64_t wall = (int64_t)mono_ns + offset_ns;
	time_t sec = wall / (int64_t)NSEC_PER_SEC;
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06lldZ", (long long)(wall % (int64_t)NSEC_PER_SEC) / 1000);
	return buf;
}

const char *fmt_clock(uint64_t mono_ns, int64_t offset_ns, int precise, char *buf, size_t len)
{
	int64_t wall = (int64_t)mono_ns + offset_ns;
	time_t sec = wall / (int64_t)NSEC_PER_SEC;
	struct tm tm;
	size_t n;

	localtime_r(&sec, &tm);
	n = strftime(buf, len, "%H:%M:%S", &tm);
	if (precise)
		snprintf(buf + n, len - n, ".%06lld", (long long)(wall % (int64_t)NSEC_PER_SEC) / 1000);
	return buf;
}

const char *fmt_port_op(int op)
{
	static const char *const names[] = { "?", "connect", "bind", "listen", "autobind" };

	return op > 0 && op <= PORT_AUTOBIND ? names[op] : "?";
}

const char *fmt_tw_kind(int kind)
{
	static const char *const names[] = { "?", "enter", "substate", "end", "overflow" };

	return kind > 0 && kind <= TW_OVERFLOW ? names[kind] : "?";
}

const char *fmt_tw_cause(int cause)
{
	static const char *const names[] = { "?", "expired", "reused", "killed" };

	return cause > 0 && cause <= TW_CAUSE_KILLED ? names[cause] : "?";
}

const char *fmt_ovf_stage(int stage)
{
	return stage == OVF_SYN ? "syn" : stage == OVF_ACK ? "ack" : "?";
}

const char *fmt_census_timer(int timer)
{
	static const char *const names[] = { "none", "retransmit", "keepalive", "timewait", "probe" };

	return timer >= 0 && timer <= 4 ? names[timer] : "?";
}

const char *fmt_errno(int ret)
{
	static char num[24];
	/* a kernel error is -1..-4095; anything else (a corrupt record) is
	 * shown as the number it is */
	long long err = ret < 0 ? -(long long)ret : ret;
	const char *name = NULL;

	if (!err)
		return "ok";
	if (err < 4096)
		name = strerrorname_np((int)err);
	if (name)
		return name;
	if (err == 524)
		return "ENOTSUPP"; /* kernel-internal: e.g. no BPF trampoline for this function */
	snprintf(num, sizeof(num), "errno %lld", err);
	return num;
}

const char *fmt_comm(const struct ev_owner *o, int known, char *buf, size_t len)
{
	size_t n = 0;

	if (!known || !o->comm[0]) {
		snprintf(buf, len, "-");
		return buf;
	}
	for (; n + 1 < len && n < TCPSCOPE_COMM_LEN && o->comm[n]; n++) {
		unsigned char c = (unsigned char)o->comm[n];

		buf[n] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	buf[n] = 0;
	return buf;
}
