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
echo "VMTEST-KERNEL: $(uname -r)"
pattern=$(sed -n 's/.*vmtest_pattern=\([^ ]*\).*/\1/p' /proc/cmdline)
cd /tcpscope
# one boot, two passes: fentry (the best tier here), then kprobe
export TCPSCOPE=/bin/tcpscope SCENARIO=/bin/scenario
echo "== pass 1: fentry"
VMTEST_TIER=fentry bash tests/run.sh e2e "$pattern" 2>&1 | tee /tmp/out
rc=$(tail -1 /tmp/out | grep -q ' 0 failed$' && echo 0 || echo 1)
passed1=$(tail -1 /tmp/out)
echo "== pass 2: kprobe (--no-fentry)"
VMTEST_TIER=kprobe TRACE_EXTRA=--no-fentry bash tests/run.sh e2e "$pattern" 2>&1 | tee /tmp/out
rc2=$(tail -1 /tmp/out | grep -q ' 0 failed$' && echo 0 || echo 1)
[ $rc = 0 ] && rc=$rc2
passes="fentry: $passed1; kprobe: $(tail -1 /tmp/out)"
/bin/tcpscope trace -v -d 0.5 -o /dev/null > /tmp/v 2>&1 || tail -40 /tmp/v
grep -E 'tcp_time_wait|blind' /tmp/v
echo "VMTEST-RESULT: rc=$rc $passes"
poweroff -f
