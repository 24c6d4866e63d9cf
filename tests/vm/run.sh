#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Boot Debian's own packaged kernel (linux-image-cloud-amd64 of this Debian
# release, downloaded with apt-get download into tests/vm/cache, never
# installed) under qemu, with a small initramfs carrying the static tcpscope,
# the scenario generator and the end-to-end tests, and report their result.
# There the kernel has kprobes and allows fentry, so the tiers this host
# refuses are the ones in use.
#   tests/vm/run.sh [TEST-NAME-PATTERN]
# VMTEST_PASSES: the tiers to run the suite with, "fentry" (default) or
# "fentry,kprobe" (make vmtest); VMTEST_KPROBE_PATTERN: the tests of the
# kprobe pass (default: the same as the fentry pass).
# VMTEST_CMD: a shell command to run in the guest instead (debugging).
# Exit: 0 tests passed; 1 tests failed; 2 the VM could not run them.
set -uo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
cache=$top/tests/vm/cache
pattern=${1:-}
mkdir -p "$cache"

log() { echo "vmtest: $*" >&2; }

# VMTEST_KERNEL: the Debian release whose cloud kernel boots: this host's
# (default), or another one's (bullseye: 5.10, trixie: 6.12), read from the
# same mirror with a private apt state under the cache: the host's apt is
# never touched and nothing is installed.
suite=${VMTEST_KERNEL:-}
apt_opts=()
if [ -n "$suite" ]; then
	adir=$cache/apt-$suite
	mkdir -p "$adir/lists/partial" "$adir/archives/partial"
	: >"$adir/status"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
		>"$adir/sources.list"
	apt_opts=(-o "Dir::Etc::SourceList=$adir/sources.list" -o "Dir::Etc::SourceParts=$adir/none"
		-o "Dir::State::Lists=$adir/lists" -o "Dir::State::status=$adir/status"
		-o "Dir::Cache=$adir" -o "Dir::Cache::archives=$adir/archives")
	# the index once a day at most
	if [ -z "$(find "$adir/lists" -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
		apt-get "${apt_opts[@]}" update >"$adir/update.log" 2>&1 ||
			{ log "apt-get update for $suite failed: $(tail -1 "$adir/update.log")"; exit 2; }
	fi
fi
kpkg=$(apt-cache "${apt_opts[@]}" depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$kpkg" ] || { log "no linux-image-cloud-amd64 in the apt sources${suite:+ of $suite}"; exit 2; }
# the kernel, and the modules the tests need that Debian builds as modules
# (inet_diag, tcp_diag: the census's NETLINK_SOCK_DIAG for TCP); newer
# packages compress them (.ko.xz): unpacked here, busybox's insmod reads .ko
mods="kernel/net/ipv4/inet_diag.ko kernel/net/ipv4/tcp_diag.ko"
if [ ! -f "$cache/$kpkg/vmlinuz" ] || [ ! -f "$cache/$kpkg/modules/tcp_diag.ko" ]; then
	log "downloading $kpkg"
	( cd "$cache" && apt-get "${apt_opts[@]}" download "$kpkg" >/dev/null 2>&1 ) || { log "apt-get download $kpkg failed"; exit 2; }
	rm -rf "$cache/$kpkg.x" && dpkg-deb -x "$cache/$kpkg"_*.deb "$cache/$kpkg.x" || exit 2
	mkdir -p "$cache/$kpkg/modules"
	cp "$cache/$kpkg.x"/boot/vmlinuz-* "$cache/$kpkg/vmlinuz"
	for m in $mods; do
		f=$(ls "$cache/$kpkg.x"/lib/modules/*/"$m"* "$cache/$kpkg.x"/usr/lib/modules/*/"$m"* 2>/dev/null | head -n 1)
		case $f in
		*.ko) cp "$f" "$cache/$kpkg/modules/" ;;
		*.ko.xz) xz -dc "$f" >"$cache/$kpkg/modules/$(basename "$m")" ;;
		*.ko.zst) zstd -qdc "$f" >"$cache/$kpkg/modules/$(basename "$m")" ;;
		*) false ;;
		esac || { log "$m not in $kpkg"; exit 2; }
	done
	rm -rf "$cache/$kpkg.x" "$cache/$kpkg"_*.deb
fi

console=$cache/console-$kpkg.log

make --no-print-directory STATIC=1 .output-static/tcpscope .output-static/tests/scenario \
	.output-static/tests/ts-count >&2 || exit 2

root=$(mktemp -d /tmp/tcpscope-vm.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,lib,lib64,usr/bin,proc,sys,dev,tmp,run,etc,tcpscope}
cp /bin/busybox "$root/bin/"
# full bash, jq and iproute2's ip (netns), with their libraries
for bin in /bin/bash /usr/bin/jq /sbin/ip /usr/bin/setpriv; do
	[ -x "$bin" ] || continue
	cp -L "$bin" "$root/bin/"
	ldd "$bin" | awk '/=>/ {print $3} /^\t\/lib/ {print $1}' | while read -r lib; do
		[ -f "$lib" ] && mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
	done
done
cp .output-static/tcpscope .output-static/tests/scenario .output-static/tests/ts-count "$root/bin/"
mkdir -p "$root/modules"
for m in $mods; do cp "$cache/$kpkg/modules/$(basename "$m")" "$root/modules/"; done
for app in $(/bin/busybox --list); do
	[ -e "$root/bin/$app" ] || ln -s busybox "$root/bin/$app"
done
mkdir -p "$root/tcpscope/tests/e2e"
cp tests/run.sh tests/lib.sh tests/attached.sh tests/exact.sh "$root/tcpscope/tests/"
cp tests/e2e/*.sh "$root/tcpscope/tests/e2e/"
cp tests/vm/init.sh "$root/init"
# VMTEST_CMD: run this shell command in the guest instead of the tests (debugging)
[ -n "${VMTEST_CMD:-}" ] && printf '%s\n' "$VMTEST_CMD" > "$root/tcpscope/cmd.sh"
chmod +x "$root/init"
echo "root:x:0:0::/root:/bin/sh" > "$root/etc/passwd"
( cd "$root" && find . | cpio -o -H newc --quiet ) > "$root.cpio" || exit 2
trap 'rm -rf "$root" "$root.cpio"' EXIT

# The console shows the kernel's warnings and stack dumps (loglevel=5: a
# soft lockup's stack is printed at the default level, which quiet hides);
# a soft lockup panics (softlockup_panic=1), so a hung guest ends at once
# with its stack in the console log instead of at the timeout.
# TCG: /dev/kvm on the build host is a nested "PVM" hypervisor
# (/sys/module/kvm_pvm) under which stock Debian kernels never reach /init
# (qemu aborts on MSR 0x10a with -cpu max; with arch-capabilities hidden
# they crawl and die on cmpxchg16b/xrstor64 emulation failures). cx16 is
# hidden because with Debian 12's qemu 7.2, 6.12 guests crashed at random
# (double and protection faults) in 13-30% of boots without it (qemu 10.0
# does not; 5.10 and 6.1 were fine either way).
# One TCG thread for both vCPUs: with thread=multi, guests that patch kernel
# text (kprobes, BPF trampolines) locked up both vCPUs in 3 of about 16 boots
# (soft lockups, RCU stalls); single-threaded, none so far.
run_vm() {
	timeout "${VMTEST_TIMEOUT:-1200}" qemu-system-x86_64 -accel "tcg,thread=${VMTEST_TCG_THREAD:-single}" \
		-cpu max,-cx16 -smp 2 -m 1G \
		-kernel "$cache/$kpkg/vmlinuz" -initrd "$root.cpio" -nographic -no-reboot \
		-append "console=ttyS0 panic=-1 oops=panic rdinit=/init loglevel=5 softlockup_panic=1 vmtest_pattern=$pattern vmtest_passes=${VMTEST_PASSES:-fentry} vmtest_kprobe_pattern=${VMTEST_KPROBE_PATTERN:-}" \
		> "$console" 2>&1
}

for attempt in 1 2; do
	start=$(date +%s)
	run_vm
	secs=$(( $(date +%s) - start ))
	result=$(grep -a 'VMTEST-RESULT:' "$console" | tail -1)
	[ -n "$result" ] && break
	# a guest that started the tests and then hung (seen once: a soft
	# lockup in the kprobe pass) is shown in full, then tried once more
	if grep -aq 'VMTEST-KERNEL' "$console"; then
		log "the guest stopped answering after ${secs}s (attempt $attempt); console tail:"
		tr -d '\r' < "$console" | grep -av '^$' | tail -30 >&2
		cp "$console" "$cache/console-hung-$attempt.log"
		hung=1
		continue
	fi
	log "no result line from the VM (attempt $attempt, ${secs}s); console tail:"
	tail -20 "$console" >&2
done
if [ -z "$result" ]; then
	[ -n "${hung:-}" ] && exit 1 # the tests started: a failure, not a skip
	exit 2
fi

sed -n '/VMTEST-KERNEL/,/VMTEST-RESULT/p' "$console" | tr -d '\r' | grep -av '^VMTEST-HOOKS:'
# the hooks of each pass, for the kernel table (scripts/kernel-table)
tr -d '\r' <"$console" | sed -n 's/^VMTEST-HOOKS: \([a-z]*\) \(.*\)/\1 \2/p' |
	while read -r tier json; do
		echo "$json" >"$cache/hooks-$kpkg-$tier.json"
	done
echo "$result" >"$cache/result-$kpkg.txt"
if grep -aE 'WARNING:|BUG:|Oops|Call Trace' "$console" >/dev/null; then
	log "kernel warnings in the guest console:"
	grep -aE -A5 'WARNING:|BUG:|Oops' "$console" | head -40 >&2
	exit 1
fi
log "$kpkg: $result (${secs}s in the VM)"
# the tests the guest skipped, for the host runner's closing line
[ -n "${VMTEST_SKIPS_FILE:-}" ] &&
	echo "$result" | grep -o '[0-9]* skipped' | awk '{ n += $1 } END { print n + 0 }' >>"$VMTEST_SKIPS_FILE"
case "$result" in *"rc=0 "*) exit 0 ;; *) exit 1 ;; esac
