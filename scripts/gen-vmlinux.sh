#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Regenerate vmlinux/ARCH/vmlinux_<ver>.h from a kernel's BTF (this host's
# architecture) and point vmlinux/ARCH/vmlinux.h at it, then check that the
# BPF programs still compile against it.
#   VMLINUX_BTF=/path/to/btf scripts/gen-vmlinux.sh
set -eu
cd "$(dirname "$0")/.."
btf=${VMLINUX_BTF:-/sys/kernel/btf/vmlinux}
if [ ! -r "$btf" ]; then
	echo "gen-vmlinux: no BTF at $btf: the kernel needs CONFIG_DEBUG_INFO_BTF=y, or set VMLINUX_BTF=FILE" >&2
	exit 1
fi
ver=$(uname -r | cut -d. -f1,2)
[ "$btf" = /sys/kernel/btf/vmlinux ] || ver=custom
arch=$(uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
mkdir -p "vmlinux/$arch"
out=vmlinux/$arch/vmlinux_$ver.h
bpftool btf dump file "$btf" format c > "$out.tmp"
mv "$out.tmp" "$out"
ln -sf "vmlinux_$ver.h" "vmlinux/$arch/vmlinux.h"
echo "gen-vmlinux: wrote $out from $btf"
make --no-print-directory .output/tcpscope.bpf.o
