#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make stress: many exactness runs (tests/exact.sh), long. Each run's line is
# printed as it ends, then a summary; exits 1 if any run was not exact.
#   tests/stress.sh [RUNS [CONNECTIONS]]     (default 20 runs of 50,000)
# Runs rotate through: client closes first with 2 threads, server closes
# first with 2 threads, IPv6 with 4 threads, client closes first 1 thread.
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-20} N=${2:-50000}
[ "$(id -u)" = 0 ] || { echo "stress: needs root" >&2; exit 2; }
bad=0
printf '%-4s %-7s %-6s %-4s %9s %9s %5s %5s %7s  %s\n' run closer addr thr expected seen dup lost cmisses ok
for r in $(seq 1 "$RUNS"); do
	case $((r % 4)) in
	1) c=client t=2 a=127.0.0.1 ;;
	2) c=server t=2 a=127.0.0.1 ;;
	3) c=client t=4 a=::1 ;;
	0) c=client t=1 a=127.0.0.1 ;;
	esac
	line=$(tests/exact.sh "$N" "$t" "$c" "$a") || { echo "stress: run $r failed to run" >&2; bad=$((bad + 1)); continue; }
	echo "$line" | jq -r --arg r "$r" --arg a "$a" \
		'[$r, .closer, $a, .threads, .expected, .seen, .duplicates, .lost, .counter_misses, .ok] | @tsv' |
		awk -F'\t' '{printf "%-4s %-7s %-6s %-4s %9s %9s %5s %5s %7s  %s\n", $1,$2,$3,$4,$5,$6,$7,$8,$9,$10}'
	echo "$line" | jq -e .ok >/dev/null || { bad=$((bad + 1)); echo "  $line"; }
done
echo "stress: $RUNS runs of $N connections, $bad not exact"
[ "$bad" = 0 ]
