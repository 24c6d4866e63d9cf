#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Run each libFuzzer target for SECONDS (make fuzz FUZZ_SECONDS=N), seeded
# with tests/fuzz/corpus/NAME (real traces: tests/fuzz/mkseeds.sh); the
# inputs found to grow coverage are kept in $OUTPUT/corpus/NAME for the next
# run. An input that crashes, hangs (10 s) or trips ASan/UBSan is copied to
# tests/fuzz/corpus/NAME/crash-* (a regression test from then on: make test
# replays the corpus), and the run fails. Prints one line per target.
#   OUTPUT=.output-fuzz tests/fuzz/run.sh [SECONDS] [NAME...]
set -u
cd "$(dirname "$0")/../.."
OUTPUT=${OUTPUT:-.output-fuzz}
secs=${1:-60}
shift || true
names=("$@")
if [ ${#names[@]} = 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		n=${f##*/fuzz_}
		names+=("${n%.c}")
	done
fi
failed=0
printf '%-8s %8s %12s %9s %8s %s\n' target seconds executions exec/s corpus findings
for n in "${names[@]}"; do
	bin=$OUTPUT/fuzz/fuzz_$n
	work=$OUTPUT/corpus/$n
	art=$OUTPUT/crashes/$n
	log=$OUTPUT/fuzz-$n.log
	mkdir -p "$work" "$art"
	rm -f "$art"/*
	"$bin" -max_total_time="$secs" -timeout=10 -close_fd_mask=3 -print_final_stats=1 \
		-artifact_prefix="$art/" "$work" "tests/fuzz/corpus/$n" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	found="none"
	if [ "$rc" != 0 ] || [ -n "$(ls -A "$art")" ]; then
		failed=$((failed + 1))
		found=""
		for a in "$art"/*; do
			[ -e "$a" ] || continue
			cp "$a" "tests/fuzz/corpus/$n/$(basename "$a")"
			found="$found tests/fuzz/corpus/$n/$(basename "$a")"
		done
		why=$(grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer)|runtime error|SUMMARY' "$log")
		found="exit $rc: ${why:-see $log};${found:- no input saved}"
	fi
	printf '%-8s %8s %12s %9s %8s %s\n' "$n" "$secs" "${execs:-?}" "${rate:-?}" \
		"$(ls "$work" | wc -l)" "$found"
done
[ "$failed" = 0 ] || echo "fuzz: $failed target(s) found a crash; the log is in $OUTPUT/fuzz-NAME.log" >&2
exit $((failed > 0))
