# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# End-to-end tests of port-allocation events and the capability ladder
# (`tcpscope hooks`). The tier in use is whatever this kernel allows: the
# tests read it from `tcpscope hooks -F json`; in the VM, VMTEST_TIER says
# which one it must be (fentry, or kprobe when run with --no-fentry).
# Sourced by tests/run.sh; every test_* function is one test.

# hooks_json: the ladder of this run's options, in $TMP/hooks.json
hooks_json() {
	# shellcheck disable=SC2086
	"$TCPSCOPE" hooks -F json ${TRACE_EXTRA:-} > "$TMP/hooks.json" 2>"$TMP/hooks.err" ||
		{ echo "  tcpscope hooks failed: $(cat "$TMP/hooks.err")" >&2; return 1; }
}

# via FACT: the mechanism tier of FACT in $TMP/hooks.json
via() { jq -r --arg f "$1" '.facts[] | select(.fact==$f) | .via' "$TMP/hooks.json"; }

test_hooks_ladder() {
	local f="$TMP/hooks.json" fact
	hooks_json || return 1
	expect "seven facts, each with a tier, and an unknown wherever the tier is none" \
		'.[0].facts | length == 7 and all(.via | IN("fentry","kprobe","tracepoint","none")) and all(.via != "none" or .unknown != null)' "$f" &&
	expect "state transitions from the tracepoint (the best tier for them)" \
		'.[0].facts[] | select(.fact=="state transitions") | .via=="tracepoint" and (.mechanism | test("inet_sock_set_state"))' "$f" &&
	expect "every failed tier names its reason" \
		'[.[0].facts[].failed[]] | all(.why | length > 3)' "$f" &&
	expect "the scan length is known exactly when port allocation has a fentry or kprobe tier" \
		'(.[0].facts | map({(.fact): .via}) | add) as $v | ($v["port allocation"] | IN("fentry","kprobe")) == ($v["scan length"] != "none")' "$f" || return 1
	case "${VMTEST_TIER:-}" in
	fentry | kprobe)
		for fact in "TIME_WAIT entry" "port allocation" "scan length" "TIME_WAIT reuse"; do
			[ "$(via "$fact")" = "$VMTEST_TIER" ] ||
				{ echo "  $fact: $(via "$fact"), expected $VMTEST_TIER" >&2; cat "$f" >&2; return 1; }
		done
		if [ "$VMTEST_TIER" = fentry ]; then
			expect "fentry: TIME_WAIT's end by the timewait functions themselves, no timer hook (costs nothing per other timer)" \
				'.[0].facts[] | select(.fact=="TIME_WAIT end and cause") | .via=="fentry" and (.mechanism | test("tw_timer_handler") and (test("tp_btf") | not)) and (.cost | test("nothing per other timer"))' "$f" || return 1
		fi
		if [ "$VMTEST_TIER" = kprobe ]; then
			expect "fentry was skipped because of --no-fentry" \
				'.[0].facts[] | select(.fact=="port allocation") | .failed[0] == {"via":"fentry","why":"disabled by --no-fentry"}' "$f" || return 1
		fi
		;;
	*)
		if [ "$(via "scan length")" = none ]; then
			expect "an unknown scan length says so, with why fentry and kprobe failed" \
				'.[0].facts[] | select(.fact=="scan length") | (.unknown | test("candidate ports")) and ([.failed[].via] == ["fentry","kprobe"])' "$f" || return 1
			# trace names the blind spots at start
			"$TCPSCOPE" trace -d 0.2 -o /dev/null 2>"$TMP/blind.err" >/dev/null
			grep -q '^tcpscope: blind spots: .*scan length.* (tcpscope hooks tells why)$' "$TMP/blind.err" ||
				{ echo "  trace did not name the blind spot: $(cat "$TMP/blind.err")" >&2; return 1; }
		fi
		;;
	esac
	"$TCPSCOPE" hooks ${TRACE_EXTRA:-} > "$TMP/hooks.txt" 2>&1 &&
		grep -qE '^port allocation +(fentry|kprobe|tracepoint) ' "$TMP/hooks.txt" ||
		{ echo "  text output:" >&2; cat "$TMP/hooks.txt" >&2; return 1; }
}

# One allocation of each kind, then bind(0) until the range is used up.
test_port_allocations() {
	local f="$TMP/pa.json.ours" p tier scan
	new_netns pa net.ipv4.ip_local_port_range="40000 40009" || return 1
	hooks_json || return 1
	tier=$(via "port allocation")
	scan='.scan == null'
	[ "$(via "scan length")" != none ] && scan='(.scan | type) == "number" and .scan >= 1'
	run_scenario "$TMP/pa.json" ports 127.0.0.1 8080 || return 1
	p=$(j pid)
	expect "connect() allocation: port $(j connect_port), destination 127.0.0.1:8080, by $tier" \
		"any(.[]; .type==\"port\" and .op==\"connect\" and .ret==0 and .pid==$p and .comm==\"ts-ports\" and .sport==$(j connect_port) and .daddr==\"127.0.0.1\" and .dport==8080 and .via==\"$tier\")" "$f" &&
	expect "bind() to port 0: port $(j bind_port)" \
		"any(.[]; .type==\"port\" and .op==\"bind\" and .ret==0 and .pid==$p and .sport==$(j bind_port) and .saddr==\"127.0.0.1\")" "$f" &&
	expect "listen() on an unbound socket: port $(j listen_port)" \
		"any(.[]; .type==\"port\" and .op==\"listen\" and .ret==0 and .pid==$p and .sport==$(j listen_port))" "$f" &&
	expect "$(j binds) more bind() allocations, then one EADDRINUSE with no port" \
		"([.[] | select(.type==\"port\" and .op==\"bind\" and .ret==0)] | length == $(j binds) + 1) and ([.[] | select(.type==\"port\" and .op==\"bind\" and .ret!=0)] | length == 1 and .[0].errno==\"EADDRINUSE\" and .[0].sport==0)" "$f" &&
	expect "every allocation: the netns's range, a latency, scan per tier ($scan), no tw reuse" \
		"[.[] | select(.type==\"port\")] | length == $(j binds) + 4 and all(.range == [40000,40009] and (.latency_ms | type)==\"number\" and $scan and .tw_reused==false and .via==\"$tier\")" "$f" &&
	expect "the namespace's sysctls, at start and end, say the same range" \
		'[.[] | select(.type=="netns") | .sysctl["net.ipv4.ip_local_port_range"]] == ["40000\t40009","40000\t40009"]' "$f" &&
	expect "latency is exact only with fentry/kprobe" \
		"all(.[]; .type != \"port\" or .latency_exact == (\"$tier\" != \"tracepoint\"))" "$f" &&
	expect "a bind() to port 0 is not also a bind call event" \
		"all(.[]; .type != \"bind\" or .pid != $p)" "$f"
}

# Scan lengths grow as the range fills with TIME_WAIT sockets (16 ports,
# tcp_tw_reuse=0): the first connect finds a free port at once, the failures
# examine many. Needs a fentry or kprobe tier (the VM).
test_port_scan_grows() {
	local f="$TMP/sg.json.ours"
	hooks_json || return 1
	if [ "$(via "scan length")" = none ]; then
		skip "no scan length on this kernel ($(jq -r '.facts[] | select(.fact=="scan length") | [.failed[] | "\(.via): \(.why)"] | join("; ")' "$TMP/hooks.json"))"
		return
	fi
	new_netns sg net.ipv4.ip_local_port_range="40000 40015" net.ipv4.tcp_tw_reuse=0 || return 1
	run_scenario "$TMP/sg.json" exhaust 127.0.0.1 8080 40 || return 1
	[ "$(j connected)" = 16 ] || { echo "  expected 16 connections: $SC" >&2; return 1; }
	DUMP_FILTER='select(.type=="port") | [.sport, .ret, .scan, .tw_reused]' \
	expect "16 successful allocations; the first examined one port" \
		'[.[] | select(.type=="port" and .ret==0)] | length == 16 and .[0].scan == 1' "$f" &&
	DUMP_FILTER='select(.type=="port") | [.sport, .ret, .scan]' \
	expect "scans grow: the last 8 successes examined more ports on average than the first 8" \
		'[.[] | select(.type=="port" and .ret==0) | .scan] | (.[8:16] | add) > (.[0:8] | add)' "$f" &&
	DUMP_FILTER='select(.type=="port") | [.sport, .ret, .scan]' \
	expect "each failure examined at least half the range, more than any success before it" \
		'([.[] | select(.type=="port" and .ret==0) | .scan] | max) as $m | [.[] | select(.type=="port" and .ret!=0)] | length == 3 and all(.scan >= 8 and .scan >= $m)' "$f" || return 1
	echo "  scan lengths in order ($(via "scan length")): $(jq -s -c '[.[] | select(.type=="port") | .scan]' "$f")" >&2
}

# -P: port allocations only.
test_ports_only_flag() {
	local f="$TMP/po.json.ours"
	new_netns po || return 1
	TRACE_ARGS="-P" run_scenario "$TMP/po.json" client-close 127.0.0.1 8080 || return 1
	expect "the client's connect() allocation and nothing else" \
		'length == 1 and .[0].type=="port" and .[0].op=="connect" and .[0].dport==8080' "$f"
}

# Text mode marks failures and, when they repeat toward one destination,
# says the range toward it is under pressure.
test_text_marks_exhaustion() {
	local out="$TMP/tm.txt"
	new_netns tm net.ipv4.ip_local_port_range="40000 40003" net.ipv4.tcp_tw_reuse=0 || return 1
	# shellcheck disable=SC2086
	"$TCPSCOPE" trace -P ${TRACE_EXTRA:-} -o "$out" 2>"$TMP/tm.err" &
	TRACER_PID=$!
	attached "$TMP/tm.err" "$TRACER_PID" || return 1
	in_ns "$SCENARIO" exhaust 127.0.0.1 8080 20 >/dev/null
	stop_tracer || return 1
	grep -q 'port conn EADDRNOTAVAIL.*!! no free port (range 40000-40003)' "$out" &&
		grep -q '!! port pressure toward 127.0.0.1:8080: 3 long scans/failures in 10s' "$out" ||
		{ echo "  text output lacks the marks:" >&2; cat "$out" >&2; return 1; }
}

# Kernels before 4.16 have no state tracepoint: tcp_set_state by fentry,
# else kprobe, chosen by the same probing (forced here by a flag). Where
# neither can run, tcpscope refuses with the reasons.
test_state_fallback_tcp_set_state() {
	local f="$TMP/sf.json.ours" c s cp
	# shellcheck disable=SC2086
	if ! "$TCPSCOPE" hooks -F json --no-tracepoint-state ${TRACE_EXTRA:-} > "$TMP/sf.hooks" 2>"$TMP/sf.err"; then
		grep -q '^tcpscope: no way to see state transitions on this kernel: tracepoint: disabled by --no-tracepoint-state; fentry: .*; kprobe: ' "$TMP/sf.err" ||
			{ echo "  refusal without reasons: $(cat "$TMP/sf.err")" >&2; return 1; }
		skip "$(cat "$TMP/sf.err")"
		return
	fi
	[ -z "${VMTEST_TIER:-}" ] || jq -e --arg t "$VMTEST_TIER" '.facts[0].via == $t and .facts[0].fact == "state transitions"' "$TMP/sf.hooks" >/dev/null ||
		{ echo "  state tier is not ${VMTEST_TIER:-}:" >&2; cat "$TMP/sf.hooks" >&2; return 1; }
	new_netns sf || return 1
	TRACE_ARGS="--no-tracepoint-state" run_scenario "$TMP/sf.json" client-close 127.0.0.1 8080 || return 1
	c=$(j client_pid) s=$(j server_pid) cp=$(j client_port)
	expect "the client's handshake and active close, owned by the client" \
		"any(.[]; .type==\"state\" and .old==\"SYN_SENT\" and .new==\"ESTABLISHED\" and .pid==$c and .sport==$cp) and any(.[]; .type==\"state\" and .old==\"ESTABLISHED\" and .new==\"FIN_WAIT1\" and .pid==$c)" "$f" &&
	expect "the server side's CLOSE_WAIT -> LAST_ACK, owned by the server" \
		"any(.[]; .type==\"state\" and .old==\"CLOSE_WAIT\" and .new==\"LAST_ACK\" and .pid==$s and .dport==$cp)" "$f" &&
	expect "the connect() result and its port allocation" \
		"any(.[]; .type==\"connect\" and .ret==0 and .pid==$c and .sport==$cp) and any(.[]; .type==\"port\" and .op==\"connect\" and .sport==$cp)" "$f" &&
	expect "the TIME_WAIT entry of the client's port" \
		"any(.[]; .type==\"timewait\" and .event==\"enter\" and .sport==$cp)" "$f"
}

# listen(fd, 1) and no accept(): the kernel drops what does not fit. With
# fentry or kprobe every drop is an event (SYN or final ACK stage), as many
# as the netns's ListenOverflows; tracepoint-only kernels (6.15+) see the
# ACK stage only, never more than the counter.
test_listen_overflow() {
	local f="$TMP/lo.json.ours" n tier cmp
	hooks_json || return 1
	tier=$(via "listen overflow")
	if [ "$tier" = none ]; then
		skip "$(jq -r '.facts[] | select(.fact=="listen overflow") | .unknown' "$TMP/hooks.json")"
		return
	fi
	new_netns lo || return 1
	run_scenario "$TMP/lo.json" backlog 127.0.0.1 8080 8 || return 1
	n=$(netstat_counter ListenOverflows)
	[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "  the kernel counted no overflow ($n)" >&2; return 1; }
	cmp="length == $n"
	[ "$tier" = tracepoint ] && cmp="length <= $n and all(.stage == \"ack\")"
	echo "  ListenOverflows $n, events: $(jq -s -c '[.[] | select(.type=="listen_overflow") | .stage] | group_by(.) | map({(.[0]): length}) | add' "$f")" >&2
	expect "the netns records at start and end hold ListenOverflows, $n apart" \
		"([.[] | select(.type==\"netns\" and .phase==\"end\")][0].counters[\"TcpExt.ListenOverflows\"] - [.[] | select(.type==\"netns\" and .phase==\"start\")][0].counters[\"TcpExt.ListenOverflows\"]) == $n" "$f" || return 1
	expect "overflow events on port 8080, owned by ts-backlog ($(j pid)), queue over its limit of 1 ($tier): $cmp" \
		"[.[] | select(.type==\"listen_overflow\")] | all(.sport==8080 and .pid==$(j pid) and .comm==\"ts-backlog\" and .backlog==1 and .accept_queue > 1 and .via==\"$tier\") and ($cmp)" "$f"
}
