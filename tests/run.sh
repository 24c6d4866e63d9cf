#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# tcpscope's test runner: unit tests (pure user-space logic), then end-to-end
# tests on the real kernel (root). Prints "N passed, N failed, N skipped" at
# the end (a test skips by returning 77, tests/lib.sh's skip, with its reason
# printed; the VM's skips are added) and exits non-zero on any failure.
#   tests/run.sh [unit|e2e|vm] [NAME-REGEX]   (e.g. "port|hooks")
# "vm" boots Debian's packaged kernel under qemu (tests/vm/run.sh) and runs
# the end-to-end tests there with fentry, then the tier tests with kprobes
# (make vmtest: the whole suite with kprobes too).
set -u
cd "$(dirname "$0")/.."
what=${1:-all}
pattern=${2:-}
passed=0
failed=0
skipped=0
failures=()

result() { # name rc (0 passed, 77 skipped, else failed)
	if [ "$2" = 0 ]; then
		passed=$((passed + 1))
		echo "ok   $1"
	elif [ "$2" = 77 ]; then
		skipped=$((skipped + 1))
		echo "skip $1"
	else
		failed=$((failed + 1))
		failures+=("$1")
		echo "FAIL $1"
	fi
}

if [ "$what" = all ] || [ "$what" = unit ]; then
	for t in "${OUTPUT:-.output}"/tests/test_*; do
		case "$t" in *.o | *.d) continue ;; esac
		[ -x "$t" ] || continue
		"$t"
		result "unit/$(basename "$t")" $?
	done
	# the fuzz targets on their corpus (real-trace seeds and every input
	# that once crashed them): no crash, and no sanitizer report under SAN=1
	for t in "${OUTPUT:-.output}"/tests/regress_*; do
		case "$t" in *.o | *.d) continue ;; esac
		n=${t##*/regress_}
		"$t" tests/fuzz/corpus/"$n"/* 2>/dev/null
		result "unit/fuzz_corpus_$n" $?
	done
	# the options in each command's --help, the man page and the README
	# are one set; the man page renders
	tests/docs_sync.sh
	result unit/docs_sync $?
	# the shipped alert rules on synthetic series (promtool: Debian's
	# prometheus package, installed by scripts/install-deps.sh)
	if command -v promtool >/dev/null; then
		(cd contrib/prometheus && promtool test rules alerts_test.yml)
		result unit/alert_rules $?
	else
		echo "  skip: promtool not installed (scripts/install-deps.sh)"
		result unit/alert_rules 77
	fi
fi

if [ "$what" = all ] || [ "$what" = e2e ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "e2e tests need root (BPF, network namespaces)" >&2
		result e2e/root 1
	else
		source tests/lib.sh
		trap cleanup_all EXIT
		for file in tests/e2e/*.sh; do
			source "$file"
		done
		[ -n "${TESTS_EXCLUDE:-}" ] && echo "not run here: tests matching /$TESTS_EXCLUDE/ (${TESTS_EXCLUDE_WHY:-})"
		for t in $(declare -F | awk '{print $3}' | grep '^test_' ); do
			[ -n "$pattern" ] && ! [[ "$t" =~ $pattern ]] && continue
			[ -n "${TESTS_EXCLUDE:-}" ] && [[ "$t" =~ $TESTS_EXCLUDE ]] && continue
			( set -o pipefail; trap cleanup_test EXIT; "$t" )
			result "e2e/${t#test_}" $?
			[ -n "${TRACER_PID:-}" ] && kill -KILL "$TRACER_PID" 2>/dev/null
			TRACER_PID=
		done
	fi
fi

if [ "$what" = all ] || [ "$what" = vm ]; then
	if [ -n "${TCPSCOPE_NO_VM:-}" ]; then
		echo "  skip: TCPSCOPE_NO_VM is set"
		result vm 77
	else
		# the fentry pass runs everything; the kprobe pass (--no-fentry) the
		# tests whose subject is the tier (make vmtest: everything twice)
		export VMTEST_PASSES=${VMTEST_PASSES:-fentry,kprobe}
		VMTEST_SKIPS_FILE=$(mktemp)
		export VMTEST_SKIPS_FILE
		export VMTEST_KPROBE_PATTERN=${VMTEST_KPROBE_PATTERN-hooks|port_|reuse|overflow|exhaustion|fallback}
		tests/vm/run.sh "$pattern"
		rc=$?
		if [ "$rc" = 2 ]; then
			echo "  skip: the VM could not run here (reason above)"
			result vm/debian-cloud-kernel 77
		else
			result "vm/debian-cloud-kernel (${VMTEST_PASSES:-fentry} pass)" "$rc"
		fi
		# the other kernels of the matrix (Debian 11's 5.10, 13's 6.12):
		# the smoke set, with fentry and with kprobes (make vmtest
		# KERNELS=... runs everything on each)
		smoke='^test_(hooks_ladder|client_closes_first|close_wait_leak|connect_refused|port_exhaustion|port_allocations)$'
		for k in ${VMTEST_SMOKE_KERNELS-bullseye trixie}; do
			[ -n "$pattern" ] && break # a chosen test: the host release's kernel only
			VMTEST_KERNEL=$k VMTEST_PASSES=fentry,kprobe VMTEST_KPROBE_PATTERN=$smoke tests/vm/run.sh "$smoke"
			rc=$?
			if [ "$rc" = 2 ]; then
				echo "  skip: the VM could not run here (reason above)"
				result "vm/$k smoke" 77
			else
				result "vm/$k smoke (fentry,kprobe pass)" "$rc"
			fi
		done
	fi
fi

if [ -n "${VMTEST_SKIPS_FILE:-}" ]; then
	vm_skips=$(awk '{ n += $1 } END { print n + 0 }' "$VMTEST_SKIPS_FILE")
	rm -f "$VMTEST_SKIPS_FILE"
	[ "$vm_skips" != 0 ] && echo "vm: $vm_skips tests skipped in the guests (reasons above)"
	skipped=$((skipped + vm_skips))
fi
echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
