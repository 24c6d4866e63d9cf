#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# /init of the VM test initramfs: set up the guest, run the end-to-end tests
# against the guest kernel, print one result line on the console, power off.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/netns /var && ln -sf /run /var/run
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
ip link set lo up
# in load order: tcp_diag needs inet_diag
for m in inet_diag tcp_diag; do insmod /modules/$m.ko || echo "VMTEST: insmod $m failed"; done
echo "VMTEST-KERNEL: $(uname -r)"
pattern=$(sed -n 's/.*vmtest_pattern=\([^ ]*\).*/\1/p' /proc/cmdline)
cd /tcpscope
if [ -f cmd.sh ]; then
	bash cmd.sh 2>&1
	echo "VMTEST-RESULT: rc=$? cmd"
	poweroff -f
fi
# one boot: the fentry pass (the best tier here), and the kprobe pass
# (--no-fentry) when vmtest_passes asks for it
passes_wanted=$(sed -n 's/.*vmtest_passes=\([^ ]*\).*/\1/p' /proc/cmdline)
# the kprobe pass may run a subset (make test: the tier-specific tests)
kprobe_pattern=$(sed -n 's/.*vmtest_kprobe_pattern=\([^ ]*\).*/\1/p' /proc/cmdline)
# the exactness runs at a tenth of their size (the guest may be emulated)
export TCPSCOPE=/bin/tcpscope SCENARIO=/bin/scenario TS_COUNT=/bin/ts-count EXACT_DIV=10
rc=0 passes=""
for tier in $(echo "${passes_wanted:-fentry}" | tr ',' ' '); do
	extra="" pat=$pattern
	if [ "$tier" = kprobe ]; then
		extra=--no-fentry
		[ -n "$kprobe_pattern" ] && pat=$kprobe_pattern
	fi
	echo "== pass: $tier${pat:+ (tests matching $pat)}"
	# top's tests drive a terminal through tmux, serve's use curl and
	# prometheus, the real-software tests nginx, wrk and redis, which the
	# initramfs lacks (and the static build has no HTTP); the host runs them
	TESTS_EXCLUDE='^test_(top_|soak_|serve_|real_)' TESTS_EXCLUDE_WHY="top, serve, the soak and the real-software tests need tmux, curl, prometheus, nginx, wrk or redis, not in the VM; run on the host" \
	VMTEST_TIER=$tier TRACE_EXTRA=$extra bash tests/run.sh e2e "$pat" 2>&1 | tee /tmp/out
	tail -1 /tmp/out | grep -q ' 0 failed, ' || rc=1
	passes="$passes $tier: $(tail -1 /tmp/out);"
	# which tier serves each fact in this pass (the kernel table, scripts/kernel-table)
	echo "VMTEST-HOOKS: $tier $(/bin/tcpscope hooks -F json $extra 2>/dev/null)"
done
/bin/tcpscope trace -v -d 0.5 -o /dev/null > /tmp/v 2>&1 || tail -40 /tmp/v
grep -E "TIME_WAIT entry|port allocation|scan length|blind" /tmp/v
echo "VMTEST-RESULT: rc=$rc $passes"
poweroff -f
