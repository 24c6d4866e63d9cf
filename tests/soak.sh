#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Soak: tcpscope's four long-running modes at once under mixed load in
# namespaces that come and go, for MINUTES (make soak MINUTES=30; make test
# will run 2 once it passes reliably). Every STEP seconds a new namespace starts one workload and lives
# LIFE seconds: loopback churn (tests/scenario), nginx + wrk keep-alive, a
# CLOSE_WAIT leak, ephemeral ports used up by TIME_WAIT. Meanwhile:
#   tcpscope top            in a tmux terminal
#   tcpscope diagnose -d MINUTES -F json
#   tcpscope trace -F json -o t.jsonl.gz
#   tcpscope serve --window 20s, scraped every 2 s (curl)
# Every 10 s the RSS and open fds of each are sampled and printed (the
# curve), with the series of serve's latest scrape. Passes when: each exits
# as it should (top 0 on 'q', trace 0 on SIGINT, diagnose 0 or 1, serve 0 on
# SIGTERM), every scrape answered, the last one passes promtool check
# metrics, the series count bounded as RSS is (namespaces gone, their
# series go), 0 events lost by any, diagnose's self-check
# drift 0, diagnose names the leak and the exhaustion of the namespaces
# alive at its end, open fds at the end as at the first sample, RSS bounded (the
# second half's peak at most 25% + 4 MB above the first half's), and report
# reads the whole .gz. Root. Prints one JSON summary line last.
#   tests/soak.sh MINUTES [DIR]
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-.output}
minutes=${1:-2}
STEP=${SOAK_STEP:-10}
LIFE=${SOAK_LIFE:-40}
source tests/lib.sh
source tests/e2e/real.sh
D=${2:-$TMP/soak}
mkdir -p "$D"
secs=$((minutes * 60))
fail() { echo "soak: FAIL: $*" >&2; failed=1; }
failed=0

# ---- the namespaces that come and go ----
declare -A born
drop_ns() { # NAME
	ns_kill "$1"
	ip netns del "$1" 2>/dev/null
	unset "born[$1]"
}
start_ns() { # INDEX
	local i=$1 kind=$(($1 % 4)) dir=$D/ns$1
	mkdir -p "$dir"
	case $kind in
	3) new_netns soak$i "net.ipv4.ip_local_port_range=40000 40015" net.ipv4.tcp_tw_reuse=0 ;;
	*) new_netns soak$i ;;
	esac || return 1
	born[$NS]=$SECONDS
	case $kind in
	0) # churn, in bursts
		(in_ns timeout $((LIFE - 2)) bash -c \
			"while :; do '$SCENARIO' churn 127.0.0.1 8080 1000 >/dev/null || exit; sleep 1; done" \
			>/dev/null 2>&1 &) ;;
	1) # a real server under keep-alive load
		(TMP=$dir; nginx_start >/dev/null 2>&1 &&
			in_ns timeout $((LIFE - 2)) wrk -t 1 -c 8 -d $((LIFE / 2))s http://127.0.0.1:8080/ \
				>"$dir/wrk.out" 2>&1 &) ;;
	2) # a CLOSE_WAIT leak
		(in_ns "$SCENARIO" cw-leak 127.0.0.1 8080 20 >"$dir/out" 2>&1 &)
		go_when_ready "$dir/out" peer_pid ;;
	3) # ports used up by TIME_WAIT, connect() failing
		(in_ns "$SCENARIO" exhaust-hold 127.0.0.1 8080 >"$dir/out" 2>&1 &)
		go_when_ready "$dir/out" client_pid ;;
	esac
}
# go_when_ready FILE KEY: once the scenario has set up (its JSON line in
# FILE), SIGUSR1 to the process KEY names: the second half of its act
go_when_ready() {
	(for _ in $(seq 1 100); do
		p=$(jq -r ".$2 // empty" "$1" 2>/dev/null | head -n 1)
		[ -n "$p" ] && exec kill -USR1 "$p"
		sleep 0.1
	done) &
}

trap 'kill -KILL ${trace_pid:-} ${diag_pid:-} ${serve_pid:-} ${scraper_pid:-} 2>/dev/null; tmux kill-session -t tcpscope-soak 2>/dev/null; cleanup_all' EXIT

# ---- the three tracers ----
"$TCPSCOPE" trace -v -F json -o "$D/t.jsonl.gz" 2>"$D/trace.err" &
trace_pid=$!
"$TCPSCOPE" diagnose -d "${secs}s" -F json -o "$D/diag.json" 2>"$D/diag.err" &
diag_pid=$!
port=$(free_port) || exit 1
url=http://127.0.0.1:$port
"$TCPSCOPE" serve --web.listen-address "127.0.0.1:$port" --window 20s 2>"$D/serve.err" &
serve_pid=$!
tmux kill-session -t tcpscope-soak 2>/dev/null
tmux new-session -d -s tcpscope-soak -x 200 -y 50 \
	"'$TCPSCOPE' top 2>'$D/top.err'; echo \$? >'$D/top.rc'"
attached "$D/trace.err" "$trace_pid" || fail "trace did not start: $(cat "$D/trace.err")"
attached "$D/diag.err" "$diag_pid" || fail "diagnose did not start: $(cat "$D/diag.err")"
top_pid=
for _ in $(seq 1 100); do
	top_pid=$(pgrep -f "^$TCPSCOPE top" | head -n 1)
	[ -n "$top_pid" ] && curl -sf "$url/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
[ -n "$top_pid" ] || fail "top did not start: $(cat "$D/top.err" 2>/dev/null)"
curl -sf "$url/healthz" >/dev/null || fail "serve did not start: $(cat "$D/serve.err")"
sleep 2 # top attaches after its first draw
# the scraper: every 2 s, as long as the soak; the series of each scrape
(for _ in $(seq 1 $((secs / 2))); do
	if curl -sf -m 5 -o "$D/scrape.tmp" "$url/metrics"; then
		mv "$D/scrape.tmp" "$D/scrape.last"
		grep -vc '^#' "$D/scrape.last" >"$D/series.tmp" && mv "$D/series.tmp" "$D/series.last"
		echo ok >>"$D/scrapes"
	else
		echo failed >>"$D/scrapes"
	fi
	sleep 2
done) &
scraper_pid=$!

sample() { # PID -> "RSS_KB FDS", or "- -" when gone
	local rss
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -n "$rss" ] || { echo "- -"; return; }
	echo "$rss $(ls "/proc/$1/fd" 2>/dev/null | wc -l)"
}
echo "soak: $minutes min; a namespace every ${STEP}s, each living ${LIFE}s; files in $D" >&2
printf '%6s %10s %5s %10s %5s %10s %5s %10s %5s %4s %6s\n' t_s trace_kb fds diag_kb fds top_kb fds serve_kb fds nses series | tee "$D/curve.txt"
start=$SECONDS next_ns=0 i=0 next_sample=0
end=$((start + secs - 5))
while [ $SECONDS -lt $end ]; do
	now=$((SECONDS - start))
	if [ $now -ge $next_ns ] && [ $((SECONDS + 25)) -lt $end ]; then
		start_ns $i || fail "namespace $i did not start"
		i=$((i + 1))
		next_ns=$((now + STEP))
	fi
	# a last leak and exhaustion that live on past diagnose's end, for its
	# findings to name
	if [ -z "${last_started:-}" ] && [ $((SECONDS + 20)) -ge $end ]; then
		start_ns 1002 && start_ns 1003 || fail "the last namespaces did not start"
		last_started=1
	fi
	for ns in "${!born[@]}"; do
		[ $((SECONDS - born[$ns])) -ge $LIFE ] && drop_ns "$ns"
	done
	if [ $now -ge $next_sample ]; then
		printf '%6s %10s %5s %10s %5s %10s %5s %10s %5s %4s %6s\n' "$now" $(sample $trace_pid) $(sample $diag_pid) \
			$(sample "$top_pid") $(sample $serve_pid) "${#born[@]}" "$(cat "$D/series.last" 2>/dev/null || echo -)" |
			tee -a "$D/curve.txt"
		next_sample=$((next_sample + 10))
	fi
	sleep 1
done
printf '%6s %10s %5s %10s %5s %10s %5s %10s %5s %4s %6s\n' "$((SECONDS - start))" $(sample $trace_pid) \
	$(sample $diag_pid) $(sample "$top_pid") $(sample $serve_pid) "${#born[@]}" \
	"$(cat "$D/series.last" 2>/dev/null || echo -)" | tee -a "$D/curve.txt"

# ---- the ends ----
wait $diag_pid
diag_rc=$?
for ns in "${!born[@]}"; do drop_ns "$ns"; done
kill -INT $trace_pid
wait $trace_pid
trace_rc=$?
kill "$scraper_pid" 2>/dev/null
wait "$scraper_pid" 2>/dev/null
promtool_rc=skipped
if command -v promtool >/dev/null && [ -s "$D/scrape.last" ]; then
	promtool check metrics <"$D/scrape.last" >"$D/promtool.out" 2>&1
	promtool_rc=$?
fi
kill -TERM $serve_pid
wait $serve_pid
serve_rc=$?
tmux send-keys -t tcpscope-soak q
for _ in $(seq 1 50); do [ -s "$D/top.rc" ] && break; sleep 0.1; done
top_rc=$(cat "$D/top.rc" 2>/dev/null || echo none)
tmux kill-session -t tcpscope-soak 2>/dev/null

[ "$trace_rc" = 0 ] || fail "trace exited $trace_rc: $(tail -n 3 "$D/trace.err")"
[ "$diag_rc" = 0 ] || [ "$diag_rc" = 1 ] || fail "diagnose exited $diag_rc: $(tail -n 3 "$D/diag.err")"
[ "$top_rc" = 0 ] || fail "top exited $top_rc: $(tail -n 3 "$D/top.err")"
[ "$serve_rc" = 0 ] || fail "serve exited $serve_rc on SIGTERM: $(tail -n 3 "$D/serve.err")"
scrapes_ok=$(grep -c '^ok' "$D/scrapes" 2>/dev/null)
scrapes_failed=$(grep -c '^failed' "$D/scrapes" 2>/dev/null)
[ "${scrapes_ok:-0}" -gt 0 ] && [ "${scrapes_failed:-0}" = 0 ] ||
	fail "serve: ${scrapes_ok:-0} scrapes answered, ${scrapes_failed:-0} failed"
[ "$promtool_rc" = 0 ] || [ "$promtool_rc" = skipped ] ||
	fail "promtool check metrics on the last scrape: $(head -n 3 "$D/promtool.out")"
# Lost: nothing, but for what the kernel hid (hidden_by_kernel: made while
# PID 1 ran, on a kernel that runs no BPF then; user/hidden.h). That is
# counted, not seen: the self-check's drift may be up to that count.
lost() { sed -n 's/.*), \([0-9]*\) lost.*/\1/p' "$1" | tail -n 1; }
hidden() { sed -n 's/.* lost (.*hidden_by_kernel \([0-9]*\).*/\1/p' "$1" | tail -n 1; }
for m in trace diag top serve; do
	l=$(lost "$D/$m.err") h=$(hidden "$D/$m.err")
	[ -n "$l" ] && [ $((l - ${h:-0})) = 0 ] ||
		fail "$m: ${l:-no summary} lost: $(grep 'lost' "$D/$m.err" | tail -n 1)"
done
drift=$(jq -r '.summary.drift_total // "none"' "$D/diag.json" 2>/dev/null)
diag_hidden=$(jq -r '.summary.lost_by.hidden_by_kernel // 0' "$D/diag.json" 2>/dev/null)
if [ -n "${last_started:-}" ]; then
	for k in close_wait_leak port_exhaustion; do
		jq -e --arg k "$k" 'any(.findings[]; .kind == $k)' "$D/diag.json" >/dev/null ||
			fail "diagnose did not name the $k of the last namespaces: $(jq -c '[.findings[].title]' "$D/diag.json" 2>/dev/null)"
	done
fi
[ "$drift" = 0 ] || { [ "$drift" != none ] && [ "$drift" -le "${diag_hidden:-0}" ]; } ||
	fail "diagnose's self-check: drift ${drift:-unreadable} ($(jq -c .summary.drift "$D/diag.json" 2>/dev/null)), hidden by the kernel ${diag_hidden:-0}"
# fds: the first sample against the last; RSS (and serve's series): each
# half's peak, the second at most 25% (+4 MB, +100 series) above the first
read -r fd_check rss_check < <(awk 'NR > 1 && $2 != "-" && $11 != "-" {
		n++; t[n] = $1; for (c = 2; c <= 11; c++) v[n, c] = $c }
	END {
		fds = "ok"; rss = "ok"
		for (c = 2; c <= 11; c++) {
			if (c == 10) continue # the namespaces alive
			if (c % 2 && c < 10) { # open fds
				if (v[1, c] != v[n, c]) fds = "fds(" c ")" v[1, c] "->" v[n, c]
				continue
			}
			a = 0; b = 0
			for (j = 1; j <= n; j++) {
				if (t[j] < 30) continue
				if (j <= n / 2) { if (v[j, c] > a) a = v[j, c] }
				else if (v[j, c] > b) b = v[j, c]
			}
			if (a && b > a * 1.25 + (c == 11 ? 100 : 4096)) rss = (c == 11 ? "series" : "rss(" c ")") a "->" b
		}
		print fds, rss }' "$D/curve.txt")
[ "$fd_check" = ok ] || fail "open fds changed: $fd_check (columns of $D/curve.txt)"
[ "$rss_check" = ok ] || fail "RSS grew: $rss_check kB (columns of $D/curve.txt)"
"$TCPSCOPE" report "$D/t.jsonl.gz" >"$D/report.txt" 2>"$D/report.err"
report_rc=$?
{ [ $report_rc = 0 ] || [ $report_rc = 1 ]; } && ! grep -q "cut short" "$D/report.err" ||
	fail "report of the trace exited $report_rc: $(tail -n 2 "$D/report.err")"
printf '{"minutes":%s,"namespaces":%s,"trace_exit":%s,"diagnose_exit":%s,"top_exit":"%s","lost":{"trace":"%s","diagnose":"%s","top":"%s","serve":"%s"},"drift":"%s","hidden":"%s","fds":"%s","rss":"%s","serve_exit":%s,"scrapes":%s,"findings":%s,"report_exit":%s,"ok":%s}\n' \
	"$minutes" "$i" "$trace_rc" "$diag_rc" "$top_rc" "$(lost "$D/trace.err")" "$(lost "$D/diag.err")" \
	"$(lost "$D/top.err")" "$(lost "$D/serve.err")" "$drift" "${diag_hidden:-0}" "$fd_check" "$rss_check" "$serve_rc" "${scrapes_ok:-0}" \
	"$(jq -c '[.findings[] | .kind] | group_by(.) | map({(.[0]): length}) | add // {}' "$D/diag.json" 2>/dev/null || echo null)" \
	"$report_rc" "$([ $failed = 0 ] && echo true || echo false)"
exit $failed
