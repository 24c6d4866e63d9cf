#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Install the Debian packages tcpscope needs to build and test, only those
# missing. Runs as root without sudo (a fresh Debian may have none). qemu,
# busybox-static and cpio are for the VM tests (tests/vm/run.sh); tmux
# runs top in a real terminal for its tests; nginx-light, wrk, redis-server
# and redis-tools are the real software of tests/e2e/real.sh (installed, not
# started: the tests start them in their own namespaces); prometheus (with
# promtool) and curl check serve against the real engine (the package's own
# service is stopped and disabled: the tests run their own instance);
# libclang-rt for make fuzz (libFuzzer).
#   --bench: also what make bench measures with (iperf3, and libbpf-tools'
#   tcpstates, the reference tracer)
set -eu
pkgs="clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libzstd-dev libncurses-dev libmicrohttpd-dev
pkg-config make gcc libc6-dev iproute2 jq procps util-linux tmux curl prometheus groff-base
qemu-system-x86 busybox-static cpio
nginx-light wrk redis-server redis-tools"
[ "${1:-}" = --bench ] && pkgs="$pkgs iperf3 libbpf-tools"
# libFuzzer (make fuzz) is in the runtime package of the clang that is installed
# (recommended by clang, so absent with --no-install-recommends)
v=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
[ -n "$v" ] || v=$(apt-cache depends clang 2>/dev/null | sed -n 's/.*Depends: clang-\([0-9]*\)$/\1/p' | head -n 1)
[ -n "$v" ] && pkgs="$pkgs libclang-rt-$v-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing; run as root (make deps) or install them" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends $missing >&2
# Debian starts the packaged prometheus (and its node exporter) as services:
# tcpscope's tests run their own instance on a port of their own
case "$missing" in *prometheus*)
	for svc in prometheus prometheus-node-exporter; do
		systemctl disable --now "$svc" >/dev/null 2>&1 || service "$svc" stop >/dev/null 2>&1 || true
	done ;;
esac
