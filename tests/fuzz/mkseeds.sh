#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Make the fuzz targets' seed corpus (tests/fuzz/corpus/NAME/seed-*) from
# real traces: each scenario of tests/scenario runs in its own namespace
# under tcpscope trace -F json; the records of that namespace (and the run's
# own records) are kept, at most 120 per trace. Then: gzip and cut copies
# (trace), the same events as ring-buffer records (decode), single records
# (json), and typed option arguments (args). Root. Re-run to refresh; the
# crash-* files beside the seeds are regressions and are kept.
#   tests/fuzz/mkseeds.sh
set -eu
cd "$(dirname "$0")/../.."
OUTPUT=${OUTPUT:-.output}
source tests/lib.sh
trap cleanup_all EXIT
C=tests/fuzz/corpus
mkdir -p $C/trace $C/decode $C/json $C/args
rm -f $C/*/seed-*

scenarios=(client-close "leak 127.0.0.1 8080 300" refused weird-comm linger "exhaust 127.0.0.1 8080 20"
	ports "backlog 127.0.0.1 8080 4" "server-tw 127.0.0.1 8080 5" "fin-wait2 127.0.0.1 8080 3"
	"abort 127.0.0.1 8080 3" "cw-leak 127.0.0.1 8080 3" "client-close ::1 8080")
i=0
for sc in "${scenarios[@]}"; do
	i=$((i + 1))
	set -- $sc
	name=$1 addr=${2:-127.0.0.1} port=${3:-8080} arg=${4:-}
	new_netns seed$i net.ipv4.ip_local_port_range="40000 40015" net.ipv4.tcp_tw_reuse=0
	start_tracer "$TMP/t$i.jsonl"
	# shellcheck disable=SC2086
	timeout 20 ip netns exec "$NS" "$SCENARIO" "$name" "$addr" "$port" $arg >/dev/null 2>&1 || true
	stop_tracer
	jq -c --argjson ns "$NS_INODE" 'select(.netns == $ns or .netns == null)' "$TMP/t$i.jsonl" |
		head -n 120 >"$C/trace/seed-$name-$i.jsonl"
	# the run's end record, when head cut it
	grep '"phase":"end"' "$TMP/t$i.jsonl" | grep '"type":"run"' | tail -n 1 >>"$C/trace/seed-$name-$i.jsonl"
	"$OUTPUT/tests/mkrecords" "$C/trace/seed-$name-$i.jsonl" "$C/decode/seed-$name-$i.bin"
	cleanup_test
done
# sockets that exist before the tracer (census records), and lost events
# (a ring buffer of one page)
new_netns seedc
ip netns exec "$NS" "$SCENARIO" leak 127.0.0.1 8080 4000 >/dev/null 2>&1 &
sleep 1
start_tracer "$TMP/census.jsonl" --ringbuf-size 4096
timeout 20 ip netns exec "$NS" "$SCENARIO" churn 127.0.0.1 8081 300 >/dev/null 2>&1 || true
stop_tracer
{ jq -c --argjson ns "$NS_INODE" 'select(.netns == $ns or .netns == null)' "$TMP/census.jsonl" |
	grep -v '"type":"state"' | head -n 60
  grep '"type":"lost"' "$TMP/census.jsonl" | head -n 3; } >"$C/trace/seed-census-lost.jsonl"
"$OUTPUT/tests/mkrecords" "$C/trace/seed-census-lost.jsonl" "$C/decode/seed-census-lost.bin"
cleanup_test
# a listen overflow as fentry/kprobe kernels report it (this host's
# tracepoints cannot see one): the run records of a real trace around it
{ head -n 2 "$C/trace/seed-backlog-8.jsonl"
  printf '{"type":"listen_overflow","ts_ns":%s,"time":"2026-12-03T16:30:00.000000Z","pid":0,"tid":0,"comm":"-","family":"ipv4","saddr":"127.0.0.1","sport":8080,"daddr":"127.0.0.1","dport":40001,"stage":"syn","accept_queue":5,"backlog":4,"via":"fentry","sk":"0xffff888115bb5c80","netns":%s}\n' \
	"$(head -n 1 "$C/trace/seed-backlog-8.jsonl" | jq .ts_ns)" "$(sed -n 2p "$C/trace/seed-backlog-8.jsonl" | jq .netns)"
  tail -n 1 "$C/trace/seed-backlog-8.jsonl"; } >"$C/trace/seed-listen-overflow.jsonl"
"$OUTPUT/tcpscope" report "$C/trace/seed-listen-overflow.jsonl" >/dev/null || [ $? = 1 ]
"$OUTPUT/tests/mkrecords" "$C/trace/seed-listen-overflow.jsonl" "$C/decode/seed-listen-overflow.bin"
# one record of each type, for the JSON reader
cat "$C"/trace/seed-*.jsonl | jq -c '.' | awk -F'"type":"' '{ split($2, t, "\""); if (!seen[t[1]]++) print }' |
	while read -r line; do
		n=$((${n:-0} + 1))
		printf '%s' "$line" >"$C/json/seed-$n.json"
	done
# compressed, and cut short (plain and compressed): report's other paths
gzip -c "$C/trace/seed-client-close-1.jsonl" >"$C/trace/seed-gzip.jsonl.gz"
head -c 3000 "$C/trace/seed-leak-2.jsonl" >"$C/trace/seed-cut.txt"
head -c 700 "$C/trace/seed-gzip.jsonl.gz" >"$C/trace/seed-cut.gz"
# option arguments: the first byte picks the parser (fuzz_args.c)
a=0
for x in "0:5s" "0:1m30s" "0:250ms" "1:8080" "2:4242" "3:8M" "4:65536" "5:a,b,,c" "6:1,2,3" \
	"7:nginx,redis-server" "8:80,443" "9:5432" "10:close-wait,TIME_WAIT" "11:-p 12 --state established -4" \
	"11:pid=1 lport 80 comm nginx"; do
	a=$((a + 1))
	printf "\\x$(printf %02x "${x%%:*}")%s" "${x#*:}" >"$C/args/seed-$a"
done
ls $C/* | head -n 0
for d in $C/*; do echo "$(basename "$d"): $(ls "$d" | wc -l) files"; done
