#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# One exactness run: loopback churn in a fresh network namespace, traced by
# tcpscope (trace -F json) and counted by an independent BPF program
# (tests/count, ts-count) on the same tracepoint. Prints one JSON line:
#   {"connections":N,"threads":T,"closer":"client","expected":E,"seen":S,
#    "duplicates":D,"lost":L,"counter_misses":M,"per_transition":{...},"ok":true}
# expected = the counter's total (exact when counter_misses is 0). The run is
# exact when no (socket, transition) appears twice (a socket: its address
# and cookie; a child's LISTEN->SYN_RECV has cookie 0, no identity yet), no transition is seen
# more often than the counter saw it (plus its own misses), and whatever is
# missing is within what tcpscope reported lost, and TIME_WAIT overflow
# events do not outnumber the namespace's TcpExtTCPTimeWaitOverflow growth.
#   tests/exact.sh CONNECTIONS THREADS client|server [ADDR]
set -u
cd "$(dirname "$0")/.."
source tests/attached.sh
N=$1 T=$2 CLOSER=$3 ADDR=${4:-127.0.0.1}
TCPSCOPE=${TCPSCOPE:-${OUTPUT:-.output}/tcpscope}
SCENARIO=${SCENARIO:-${OUTPUT:-.output}/tests/scenario}
TS_COUNT=${TS_COUNT:-${OUTPUT:-.output}/tests/ts-count}
N=$((N / ${EXACT_DIV:-1}))
TMP=$(mktemp -d /tmp/tcpscope-exact.XXXXXX)
NS=ts-exact-$$
cleanup() {
	[ -n "${TP:-}" ] && kill -KILL "$TP" 2>/dev/null
	[ -n "${CP:-}" ] && kill -KILL "$CP" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] && echo "exact: files in $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS" && ip -n "$NS" link set lo up || exit 2
ip netns exec "$NS" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
INO=$(ip netns exec "$NS" stat -L -c %i /proc/self/ns/net)
"$TS_COUNT" "$INO" >"$TMP/count.json" 2>"$TMP/count.err" &
CP=$!
# shellcheck disable=SC2086 # TRACE_EXTRA: the VM's tier options
"$TCPSCOPE" trace -F json -o "$TMP/trace.json" ${TRACE_EXTRA:-} 2>"$TMP/trace.err" &
TP=$!
# 60 s at most (an emulated guest loads slowly)
attached "$TMP/trace.err" "$TP" 60 && for _ in $(seq 1 600); do
	grep -q counting "$TMP/count.err" && break
	sleep 0.1
done
grep -q counting "$TMP/count.err" && grep -q 'tcpscope: tracing' "$TMP/trace.err" ||
	{ echo "exact: did not start: $(cat "$TMP/trace.err" "$TMP/count.err")" >&2; exit 2; }
sc=$(TS_CHURN_THREADS=$T TS_CHURN_SERVER_CLOSES=$([ "$CLOSER" = server ] && echo 1 || echo 0) \
	ip netns exec "$NS" "$SCENARIO" churn "$ADDR" 8080 "$N") ||
	{ echo "exact: the scenario failed: $sc" >&2; exit 2; }
sleep 0.5 # the last transitions (LAST_ACK->CLOSE) and the reader's last poll
kill -INT "$TP" && wait "$TP" && TP= || { echo "exact: tcpscope failed: $(tail -3 "$TMP/trace.err")" >&2; exit 2; }
kill -INT "$CP" && wait "$CP"
CP=
lost=$(sed -n 's/^tcpscope: .*), \([0-9]*\) lost.*/\1/p' "$TMP/trace.err")
# TIME_WAIT overflow events must not outnumber the kernel's own count
ovf=$(jq -c --argjson ns "$INO" 'select(.type=="timewait" and .event=="overflow" and .netns==$ns)' "$TMP/trace.json" | wc -l)
ovf_kernel=$(jq -s --argjson ns "$INO" '[.[] | select(.type=="netns" and .netns==$ns) | .counters["TcpExt.TCPTimeWaitOverflow"]] | (last - first) // 0' "$TMP/trace.json")
jq -c --argjson ns "$INO" 'select(.type=="state" and .netns==$ns) | [.sk, .cookie, .old + ">" + .new]' "$TMP/trace.json" |
	jq -s -c --slurpfile cnt "$TMP/count.json" --argjson n "$N" --argjson t "$T" \
		--arg closer "$CLOSER" --argjson lost "${lost:-0}" \
		--argjson ovf "$ovf" --argjson ovfk "${ovf_kernel:-0}" '
	($cnt[0].counts) as $truth | ($cnt[0].misses) as $m |
	(group_by(.[2]) | map({key: .[0][2], value: length}) | from_entries) as $seen |
	(map(select(.[1] != 0)) | group_by(.) | map(select(length > 1))) as $dupg |
	($dupg | length) as $dups |
	([$truth[]] | add // 0) as $exp | length as $s |
	([($truth + $seen) | keys[] | {key: ., value: {expected: ($truth[.] // 0), seen: ($seen[.] // 0)}}]
	 | from_entries) as $per |
	{connections: $n, threads: $t, closer: $closer, expected: $exp, seen: $s, duplicates: $dups,
	 lost: $lost, counter_misses: $m, tw_overflow_events: $ovf, tw_overflow_kernel: $ovfk,
	 per_transition: ($per | with_entries(select(.value.expected != .value.seen))),
	 duplicated: [$dupg[:3][] | .[0]]}
	| .ok = (.duplicates == 0 and $ovf <= $ovfk and all($per[]; .seen <= .expected + $m)
		 and ($exp - $s) <= ($lost + $m) and ($m > 0 or $lost > 0 or $exp == $s))'
