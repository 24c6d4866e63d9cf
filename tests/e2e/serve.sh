# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# End-to-end tests of `tcpscope serve`: the real tool on the host, real
# sockets in namespaces the tests create, scraped over HTTP with curl,
# checked with promtool and against ss; and a real Prometheus (Debian's
# package) scraping it with the shipped alert rules. Sourced by tests/run.sh.

# serve_start [OPTIONS...]: tcpscope serve on a free loopback port (SERVE_URL),
# returns once it serves; SERVE_PID, SERVE_ERR
serve_start() {
	local port
	port=$(free_port) || return 1
	SERVE_URL=http://127.0.0.1:$port
	SERVE_ERR=$TMP/serve.$port.err
	"$TCPSCOPE" serve --web.listen-address "127.0.0.1:$port" ${TRACE_EXTRA:-} "$@" 2>"$SERVE_ERR" &
	SERVE_PID=$!
	TRACER_PID=$SERVE_PID
	for _ in $(seq 1 200); do
		grep -q 'tcpscope: census' "$SERVE_ERR" 2>/dev/null &&
			curl -sf "$SERVE_URL/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "  serve did not start: $(cat "$SERVE_ERR")" >&2
	return 1
}

# serve_stop: SIGTERM (as systemd and Kubernetes stop it); exit 0 within 5 s
serve_stop() {
	stop_pid "$SERVE_PID" TERM "$SERVE_ERR"
}

# metric FILE NAME LABEL-MATCH: the value of the one sample of NAME whose
# labels contain LABEL-MATCH (e.g. 'state="close_wait"'), or nothing
metric() {
	grep "^$2{" "$1" | grep -F "netns=\"$NS_INODE\"" | grep -F "$3" | awk '{ print $NF }' | head -n 1
}

ss_count() { # STATE: sockets of $NS in that ss state
	in_ns ss -Htan state "$1" | wc -l
}

# The gauges are the sockets that ss shows, the counters count what
# happened, the finding is diagnose's, and promtool accepts the exposition
# (0.0.4 and, when asked for, OpenMetrics).
test_serve_scrape_is_true() {
	real_tools curl promtool || return
	new_netns scw || return 1
	local D=$TMP/serve cw held rng fails
	mkdir -p "$D"
	scenario_start scw cw-leak 12 || return 1
	serve_start --window 5s || return 1
	kill -USR1 "$SC_PID" # 8 more leaked during the run (2 s)
	sleep 6 # the first ones are past diagnose's 5 s
	curl -sf -D "$D/h" "$SERVE_URL/metrics" >"$D/m" || { echo "  scrape failed" >&2; return 1; }
	grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$D/h" ||
		{ echo "  content type: $(grep -i content-type "$D/h")" >&2; return 1; }
	promtool check metrics <"$D/m" >"$D/lint" 2>&1 ||
		{ echo "  promtool check metrics:" >&2; head "$D/lint" >&2; return 1; }
	cw=$(ss_count close-wait)
	[ "$cw" = 20 ] || { echo "  the scenario holds $cw CLOSE_WAIT sockets, not 20" >&2; return 1; }
	[ "$(metric "$D/m" tcpscope_sockets 'state="close_wait"')" = "$cw" ] &&
		[ "$(metric "$D/m" tcpscope_close_wait_sockets 'comm="ts-leaky"')" = "$cw" ] &&
		[ "$(metric "$D/m" tcpscope_sockets 'state="established"')" = "$(ss_count established)" ] &&
		[ "$(metric "$D/m" tcpscope_sockets 'state="listen"')" = "$(ss_count listening)" ] ||
		{ echo "  gauges differ from ss ($cw CLOSE_WAIT):" >&2; grep -F "netns=\"$NS_INODE\"" "$D/m" | grep -v ' 0$' >&2; return 1; }
	grep -q "^tcpscope_finding{kind=\"close_wait_leak\",severity=\"warning\",netns=\"$NS_INODE\",comm=\"ts-leaky\",container=\"\",pod_uid=\"\",port=\"8080\",peer=\"\"} 1$" "$D/m" ||
		{ echo "  no close_wait_leak finding:" >&2; grep '^tcpscope_finding' "$D/m" >&2; return 1; }
	grep -q '^tcpscope_transitions_total{from="established",to="close_wait"} [1-9]' "$D/m" ||
		{ echo "  no ESTABLISHED->CLOSE_WAIT counted" >&2; return 1; }
	# OpenMetrics when asked
	curl -sf -D "$D/h2" -H 'Accept: application/openmetrics-text; version=1.0.0' \
		"$SERVE_URL/metrics" >"$D/om" || return 1
	grep -qi '^Content-Type: application/openmetrics-text; version=1.0.0' "$D/h2" &&
		[ "$(tail -n 1 "$D/om")" = "# EOF" ] && grep -q '^# TYPE tcpscope_transitions counter$' "$D/om" ||
		{ echo "  not OpenMetrics: $(grep -i content-type "$D/h2"), last line $(tail -n 1 "$D/om")" >&2; return 1; }
	# the leak ends: the sockets go, and so does the gauge
	scenario_stop
	sleep 1
	curl -sf "$SERVE_URL/metrics" >"$D/m2" || return 1
	[ "$(metric "$D/m2" tcpscope_sockets 'state="close_wait"')" = "$(ss_count close-wait)" ] ||
		{ echo "  after the leak: $(metric "$D/m2" tcpscope_sockets 'state="close_wait"') CLOSE_WAIT, ss $(ss_count close-wait)" >&2; return 1; }
	serve_stop
}

test_serve_port_exhaustion() {
	real_tools curl || return
	new_netns sex "net.ipv4.ip_local_port_range=40000 40015" net.ipv4.tcp_tw_reuse=0 || return 1
	local D=$TMP/sex held rng fails
	mkdir -p "$D"
	scenario_start sex exhaust-hold || return 1
	serve_start --window 5s || return 1
	kill -USR1 "$SC_PID" # the client retries 10 times, and fails
	sleep 3
	curl -sf "$SERVE_URL/metrics" >"$D/m" || return 1
	held=$(metric "$D/m" tcpscope_ephemeral_ports_held 'destination="127.0.0.1:8080"')
	rng=$(metric "$D/m" tcpscope_ephemeral_port_range_size 'destination="127.0.0.1:8080"')
	fails=$(grep '^tcpscope_port_allocation_failures_total{op="connect",errno="EADDRNOTAVAIL"}' "$D/m" | awk '{ print $NF }')
	[ "$held" = 16 ] && [ "$rng" = 16 ] && [ "${fails:-0}" -ge 5 ] ||
		{ echo "  held ${held:-none} of ${rng:-none} (want 16 of 16), EADDRNOTAVAIL ${fails:-none} (want >= 5)" >&2; return 1; }
	grep -q "^tcpscope_finding{kind=\"port_exhaustion\",severity=\"critical\",netns=\"$NS_INODE\",comm=\"\",container=\"\",pod_uid=\"\",port=\"\",peer=\"127.0.0.1:8080\"} 1$" "$D/m" ||
		{ echo "  no port_exhaustion finding:" >&2; grep '^tcpscope_finding' "$D/m" >&2; return 1; }
	serve_stop
}

# What a hostile or broken client does stops nothing: unknown paths, HEAD,
# POST, a client that connects and says nothing, one that sends half a
# request, 50 scrapes at once, namespaces created and destroyed meanwhile,
# and memory stays flat; bad options are one-line errors.
test_serve_http_and_bad_input() {
	real_tools curl || return
	local D=$TMP/shttp code i ok=0 rss0 rss1
	mkdir -p "$D"
	serve_start || return 1
	code=$(curl -s -o /dev/null -w '%{http_code}' "$SERVE_URL/nope")
	[ "$code" = 404 ] || { echo "  /nope: $code, want 404" >&2; return 1; }
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$SERVE_URL/metrics")
	[ "$code" = 405 ] || { echo "  POST: $code, want 405" >&2; return 1; }
	curl -sfI "$SERVE_URL/metrics" | grep -qi '^Content-Type: text/plain; version=0.0.4' ||
		{ echo "  HEAD /metrics failed" >&2; return 1; }
	curl -sf "$SERVE_URL/" | grep -q 'href="/metrics"' || { echo "  no landing page" >&2; return 1; }
	[ "$(curl -sf "$SERVE_URL/healthz")" = ok ] || { echo "  /healthz" >&2; return 1; }
	rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVE_PID/status")
	# silent and half-open clients hold connections; scrapes still answer
	for i in $(seq 1 5); do
		(exec 3<>"/dev/tcp/127.0.0.1/${SERVE_URL##*:}"; sleep 4) 2>/dev/null &
		(exec 3<>"/dev/tcp/127.0.0.1/${SERVE_URL##*:}"; printf 'GET /metrics HTTP/1.1\r\nHo' >&3; sleep 4) 2>/dev/null &
	done
	sleep 0.3
	for i in $(seq 1 50); do
		curl -sf -m 10 -o "$D/c$i" "$SERVE_URL/metrics" &
	done
	wait_jobs_bounded 30
	for i in $(seq 1 50); do
		[ "$(tail -n 1 "$D/c$i" 2>/dev/null | cut -d' ' -f1)" = tcpscope_series_dropped ] && ok=$((ok + 1))
	done
	[ "$ok" = 50 ] || { echo "  $ok of 50 concurrent scrapes were whole" >&2; return 1; }
	kill -0 "$SERVE_PID" || { echo "  serve died: $(tail -3 "$SERVE_ERR")" >&2; return 1; }
	# namespaces come and go (with connections) while it is scraped
	for i in $(seq 1 10); do
		ip netns add "ts-shttp$i-$$" && ip -n "ts-shttp$i-$$" link set lo up &&
			ip netns exec "ts-shttp$i-$$" "$SCENARIO" client-close 127.0.0.1 8080 >/dev/null
		ip netns del "ts-shttp$i-$$"
		for _ in $(seq 1 10); do curl -sf -o /dev/null "$SERVE_URL/metrics" || ok=0; done
	done
	[ "$ok" = 50 ] || { echo "  a scrape failed while namespaces came and went" >&2; return 1; }
	rss1=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVE_PID/status")
	# (under SAN=1, ASan's quarantine of freed memory makes RSS grow: not checked)
	if [ -n "${TCPSCOPE_SAN:-}" ]; then
		echo "  RSS not bounded under ASan: $rss0 -> $rss1 kB over 150 scrapes"
	else
		[ "$rss1" -le $((rss0 + 8192)) ] || { echo "  RSS grew from $rss0 to $rss1 kB over 150 scrapes" >&2; return 1; }
	fi
	serve_stop || return 1
	# bad input: one line naming the problem, exit 2, before anything is loaded
	# a port of its own, held by another listener
	local port bad
	port=$(free_port) || return 1
	python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',$port)); s.listen(); time.sleep(5)" &
	# until it listens (a loaded host starts python slowly), at most 5 s
	for _ in $(seq 1 50); do
		ss -Htln "sport = :$port" | grep -q . && break
		sleep 0.1
	done
	timeout 10 "$TCPSCOPE" serve --web.listen-address "127.0.0.1:$port" 2>"$D/inuse"
	echo $? >"$D/inuse.rc"
	[ "$(cat "$D/inuse.rc")" = 2 ] && grep -q "Address already in use" "$D/inuse" && [ "$(wc -l <"$D/inuse")" = 1 ] ||
		{ echo "  port in use: exit $(cat "$D/inuse.rc"): $(cat "$D/inuse")" >&2; return 1; }
	for bad in "--web.listen-address=localhost:x" "--web.listen-address=127.0.0.1" \
		"--web.listen-address=::1:9" "--web.telemetry-path=metrics" "--textfile=/nonexistent" \
		"--max-series=5" "--window=0" "-o /tmp/x" "-d 1s"; do
		# shellcheck disable=SC2086 # split "-o FILE"
		timeout 10 "$TCPSCOPE" serve $bad >/dev/null 2>"$D/bad"
		local rc=$?
		[ "$rc" = 2 ] && [ "$(grep -c . "$D/bad")" -le 2 ] && grep -q '^tcpscope: ' "$D/bad" ||
			{ echo "  serve $bad: exit $rc: $(cat "$D/bad")" >&2; return 1; }
	done
	timeout 10 "$TCPSCOPE" trace --web.listen-address=:1 2>"$D/bad"
	[ $? = 2 ] && grep -q "are for serve" "$D/bad" || { echo "  trace --web.listen-address: $(cat "$D/bad")" >&2; return 1; }
}

# wait_jobs_bounded SECS: the background jobs of this shell, at most SECS
wait_jobs_bounded() {
	for _ in $(seq 1 $(($1 * 10))); do
		[ -z "$(jobs -rp | grep -v "^$SERVE_PID\$")" ] && return 0
		sleep 0.1
	done
}

# --textfile: node_exporter's textfile collector reads DIR/tcpscope.prom,
# rewritten whole every -i; removed when serve stops
test_serve_textfile() {
	real_tools promtool || return
	local D=$TMP/stext t1 t2
	mkdir -p "$D/prom"
	"$TCPSCOPE" serve --textfile "$D/prom" -i 1s ${TRACE_EXTRA:-} 2>"$D/err" &
	SERVE_PID=$!
	TRACER_PID=$SERVE_PID
	for _ in $(seq 1 100); do [ -s "$D/prom/tcpscope.prom" ] && break; sleep 0.1; done
	[ -s "$D/prom/tcpscope.prom" ] || { echo "  no file: $(cat "$D/err")" >&2; return 1; }
	t1=$(grep '^tcpscope_scrapes_total ' "$D/prom/tcpscope.prom" | awk '{ print $2 }')
	sleep 2.5
	t2=$(grep '^tcpscope_scrapes_total ' "$D/prom/tcpscope.prom" | awk '{ print $2 }')
	[ "${t2:-0}" -ge $((${t1:-0} + 2)) ] || { echo "  rewritten ${t1:-?} -> ${t2:-?} times in 2.5 s at -i 1s" >&2; return 1; }
	promtool check metrics <"$D/prom/tcpscope.prom" >"$D/lint" 2>&1 ||
		{ echo "  promtool: $(head -3 "$D/lint")" >&2; return 1; }
	[ -z "$(ls -A "$D/prom" | grep -v '^tcpscope.prom$')" ] || { echo "  left in the directory: $(ls -A "$D/prom")" >&2; return 1; }
	SERVE_ERR=$D/err serve_stop || return 1
	[ ! -e "$D/prom/tcpscope.prom" ] || { echo "  the file outlived serve" >&2; return 1; }
}

# A real Prometheus (1 s scrape and evaluation) scrapes a real serve with the
# shipped alert rules (their 'for' set to 0s): a CLOSE_WAIT leak in one
# namespace (and its peer's FIN_WAIT2) and a port exhaustion in another fire
# their alerts, which resolve once the scenarios end (the findings' window
# is 3 s here; the failures' alert counts over 5 minutes: it stays).
test_serve_prometheus_alerts() {
	real_tools curl prometheus promtool || return
	local D=$TMP/sprom pport ns_cw ns_ex firing
	mkdir -p "$D"
	new_netns pcw || return 1
	ns_cw=$NS_INODE
	scenario_start pcw cw-leak 12 || return 1
	local sc_cw=$SC_PID
	new_netns pex "net.ipv4.ip_local_port_range=40000 40015" net.ipv4.tcp_tw_reuse=0 || return 1
	ns_ex=$NS_INODE
	scenario_start pex exhaust-hold || return 1
	local sc_ex=$SC_PID
	serve_start --window 3s || return 1
	sed 's/^\(\s*for:\).*/\1 0s/' contrib/prometheus/alerts.yml >"$D/alerts.yml"
	pport=$(free_port) || return 1
	cat >"$D/prometheus.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [ "$D/alerts.yml" ]
scrape_configs:
  - job_name: tcpscope
    static_configs: [ { targets: [ "${SERVE_URL#http://}" ] } ]
EOF
	prometheus --config.file="$D/prometheus.yml" --storage.tsdb.path="$D/tsdb" \
		--web.listen-address="127.0.0.1:$pport" >"$D/prom.log" 2>&1 &
	local prom=$!
	# the go once Prometheus has scraped the counters before the failures
	for _ in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$pport/api/v1/query?query=up" 2>/dev/null |
			jq -e '.data.result[0].value[1] == "1"' >/dev/null 2>&1 && break
		sleep 0.2
	done
	sleep 1
	# TcpscopeLosingEvents is judged apart: it must fire exactly for the
	# reasons serve's own counter shows losses for (a slow build, ASan, can
	# lose events in the ring buffer: the alert saying so is right)
	lost_counts() { # "reason count" per line
		curl -sf "$SERVE_URL/metrics" | sed -n 's/^tcpscope_events_lost_total{reason="\([^"]*\)"} \([0-9]*\)$/\1 \2/p' | sort
	}
	local lost0
	lost0=$(lost_counts)
	kill -USR1 "$sc_cw" "$sc_ex"
	firing() { # the firing alerts, "name kind/destination netns" per line
		curl -sf "http://127.0.0.1:$pport/api/v1/alerts" |
			jq -r '.data.alerts[] | select(.state == "firing") | "\(.labels.alertname) \(.labels.kind // .labels.destination // .labels.errno // .labels.reason) \(.labels.netns // "-")"' | sort
	}
	local want="TcpscopeEphemeralPortsNearExhaustion 127.0.0.1:8080 $ns_ex
TcpscopeFinding close_wait_leak $ns_cw
TcpscopeFinding fin_wait2 $ns_cw
TcpscopeFinding port_exhaustion $ns_ex
TcpscopePortAllocationFailing EADDRNOTAVAIL -"
	local losing lost
	for _ in $(seq 1 60); do
		firing=$(firing | grep -v '^TcpscopeLosingEvents ' | grep -E " ($ns_cw|$ns_ex|-)$")
		[ "$firing" = "$want" ] && break
		sleep 0.5
	done
	[ "$firing" = "$want" ] ||
		{ echo "  firing after 30 s:" >&2; echo "$firing" | sed 's/^/    /' >&2; echo "  want:" >&2; echo "$want" | sed 's/^/    /' >&2; kill $prom; return 1; }
	# losses: every reason the alert names has losses counted, and every
	# reason whose count grew since the go is named (wait a few evaluations
	# for a loss counted after the last one)
	local bad
	for _ in $(seq 1 10); do
		losing=$(firing | sed -n 's/^TcpscopeLosingEvents \([^ ]*\) -$/\1/p' | sort)
		lost=$(lost_counts)
		bad=$(join -a1 -a2 -e0 -o 0,1.2,2.2 <(echo "$lost0") <(echo "$lost") |
			awk -v alerted=" ${losing//$'\n'/ } " '
				{ named = index(alerted, " " $1 " ") > 0 }
				named && $3 == 0 { print $1 " alerted, none counted" }
				!named && $3 > $2 { print $1 " counted " $3 - $2 " since the go, not alerted" }')
		[ -z "$bad" ] && break
		sleep 0.5
	done
	[ -z "$bad" ] || { echo "  TcpscopeLosingEvents wrong: $bad" >&2; kill $prom; return 1; }
	[ -z "$losing" ] || echo "  note: serve lost events (${losing//$'\n'/ }) and the alert said so"
	# the scenarios end: their sockets go, the findings' windows pass
	kill -TERM "$sc_cw" "$sc_ex"
	wait "$sc_cw" "$sc_ex" 2>/dev/null
	SC_PID=
	cleanup_test_namespaces_only
	for _ in $(seq 1 60); do
		firing=$(firing | grep -E "^(TcpscopeFinding|TcpscopeEphemeral).* ($ns_cw|$ns_ex)$")
		[ -z "$firing" ] && break
		sleep 0.5
	done
	kill $prom
	wait $prom 2>/dev/null
	[ -z "$firing" ] || { echo "  still firing 30 s after the scenarios ended: $firing" >&2; return 1; }
	serve_stop
}

# the namespaces of this test go (their TIME_WAIT sockets with them)
cleanup_test_namespaces_only() {
	local ns
	for ns in "${NETNSES[@]}"; do
		ns_kill "$ns"
		ip netns del "$ns" 2>/dev/null
	done
	NETNSES=()
}

# A leak in a container: its process in a cgroup shaped as Kubernetes'
# systemd driver makes it (made by the test, removed after). trace -F json
# names the cgroup, the container and the namespace, --cgroup keeps only its
# sockets, and serve labels the leak's series with the container and the
# pod's uid.
test_serve_container_labels() {
	real_tools curl || return
	local hex uid cg D=$TMP/sctr
	container_cgroup kubernetes || { skip "no cgroup2 mount"; return; }
	hex=$CTR_HEX uid=$CTR_POD cg=$CTR_CG
	mkdir -p "$D" || return 1
	trap 'kill -KILL ${SERVE_PID:-} 2>/dev/null; cleanup_test' EXIT
	new_netns sctr || return 1
	start_tracer "$D/t.jsonl" --cgroup /kubepods.slice || return 1
	local tracer=$TRACER_PID
	SCENARIO_CGROUP=$CTR_PATH scenario_start sctr cw-leak 12 || return 1
	kill -USR1 "$SC_PID"
	serve_start --window 5s || return 1
	sleep 6 # the first ones past diagnose's 5 s: the leak is a finding
	curl -sf "$SERVE_URL/metrics" >"$D/m" || return 1
	serve_stop || return 1
	TRACER_PID=$tracer
	scenario_stop
	stop_tracer || return 1
	grep -q "^tcpscope_close_wait_sockets{netns=\"$NS_INODE\",comm=\"ts-leaky\",container=\"$hex\",pod_uid=\"$uid\"} 20$" "$D/m" ||
		{ echo "  no leak series with container and pod:" >&2; grep close_wait_sockets "$D/m" >&2; return 1; }
	grep -q "^tcpscope_finding{kind=\"close_wait_leak\",severity=\"warning\",netns=\"$NS_INODE\",comm=\"ts-leaky\",container=\"$hex\",pod_uid=\"$uid\",port=\"8080\",peer=\"\"} 1$" "$D/m" ||
		{ echo "  the leak's finding without its container and pod:" >&2; grep '^tcpscope_finding' "$D/m" >&2; return 1; }
	# the trace: the leak's events name the cgroup and the container; nothing
	# of another cgroup passed --cgroup
	expect "the leaky server's CLOSE_WAIT in its cgroup, container and named namespace" \
		"any(.[]; .type == \"state\" and .new == \"CLOSE_WAIT\" and .comm == \"ts-leaky\" and .cgroup == \"$cg\" and .container == \"$hex\" and .netns == $NS_INODE and .netns_name == \"$NS\")" "$D/t.jsonl" &&
	expect "only owners of that cgroup (or unknown owners' sockets it adopted): --cgroup /kubepods.slice" \
		"all(.[]; .type == \"run\" or .type == \"netns\" or .type == \"lost\" or .type == \"socket\" or ((.cgroup // \"\") | startswith(\"/kubepods.slice\")))" "$D/t.jsonl" || return 1
	"$TCPSCOPE" trace --cgroup /nonexistent-$$ 2>"$D/bad"
	[ $? = 2 ] && grep -q "no such cgroup" "$D/bad" || { echo "  --cgroup of a missing cgroup: $(cat "$D/bad")" >&2; return 1; }
}
