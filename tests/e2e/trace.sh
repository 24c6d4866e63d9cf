# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# End-to-end tests of `tcpscope trace`: each starts the real tracer, runs a
# real scenario in its own network namespace and asserts on the JSON.
# Sourced by tests/run.sh; every test_* function is one test.

# run_scenario OUT NAME ADDR PORT [ARG]: trace the scenario, leave our
# events in $OUT.ours and the scenario's JSON in $SC.
run_scenario() {
	local out=$1
	shift
	start_tracer "$out" ${TRACE_ARGS:-} || return 1
	SC=$(in_ns "$SCENARIO" "$@") || { echo "  scenario $* failed: $SC" >&2; stop_tracer; return 1; }
	stop_tracer || return 1
	ours "$out" > "$out.ours"
}

j() { echo "$SC" | jq -r ".$1"; }

# 1. client closes first: client owns FIN_WAIT1/FIN_WAIT2 and the TIME_WAIT
#    entry; the server owns CLOSE_WAIT -> LAST_ACK -> CLOSE.
client_close_checks() {
	local f=$1 fam=$2 c s cp
	c=$(j client_pid) s=$(j server_pid) cp=$(j client_port)
	expect "client's ESTABLISHED->FIN_WAIT1 owned by the client ($c)" \
		"any(.[]; .type==\"state\" and .old==\"ESTABLISHED\" and .new==\"FIN_WAIT1\" and .pid==$c and .sport==$cp and .family==\"$fam\")" "$f" &&
	expect "client's FIN_WAIT1->FIN_WAIT2 (softirq) owned by the client" \
		"any(.[]; .type==\"state\" and .old==\"FIN_WAIT1\" and .new==\"FIN_WAIT2\" and .pid==$c and .sport==$cp)" "$f" &&
	expect "TIME_WAIT entry for the client's port, owned by the client" \
		"any(.[]; .type==\"timewait\" and .event==\"enter\" and .pid==$c and .comm==\"ts-client\" and .sport==$cp and .family==\"$fam\")" "$f" &&
	expect "server's ESTABLISHED->CLOSE_WAIT (softirq) owned by the server ($s)" \
		"any(.[]; .type==\"state\" and .old==\"ESTABLISHED\" and .new==\"CLOSE_WAIT\" and .pid==$s and .dport==$cp)" "$f" &&
	expect "server's CLOSE_WAIT->LAST_ACK owned by the server" \
		"any(.[]; .type==\"state\" and .old==\"CLOSE_WAIT\" and .new==\"LAST_ACK\" and .pid==$s and .dport==$cp)" "$f" &&
	expect "server's LAST_ACK->CLOSE (softirq) owned by the server, with time in LAST_ACK" \
		"any(.[]; .type==\"state\" and .old==\"LAST_ACK\" and .new==\"CLOSE\" and .pid==$s and .dport==$cp and (.in_old_ms|type)==\"number\")" "$f" &&
	expect "no event of this connection charged to another process" \
		"all(.[]; ((.sport==$cp or .dport==$cp) | not) or .pid==$c or .pid==$s)" "$f" &&
	expect "server time in CLOSE_WAIT is measured (>= 15 ms: it waits 20 ms)" \
		"any(.[]; .type==\"state\" and .old==\"CLOSE_WAIT\" and .in_old_ms >= 15)" "$f" &&
	expect "no timewait overflow where there is room" \
		'all(.[]; .event != "overflow")' "$f"
}

test_client_closes_first() {
	new_netns cc || return 1
	run_scenario "$TMP/cc.json" client-close 127.0.0.1 8080 || return 1
	client_close_checks "$TMP/cc.json.ours" ipv4
}

# 5. IPv6 on ::1, same facts.
test_ipv6_client_closes_first() {
	new_netns v6 || return 1
	run_scenario "$TMP/v6.json" client-close ::1 8080 || return 1
	client_close_checks "$TMP/v6.json.ours" ipv6 &&
	expect "IPv6 addresses are ::1" \
		'any(.[]; .type=="state" and .saddr=="::1" and .daddr=="::1")' "$TMP/v6.json.ours"
}

# 2. CLOSE_WAIT leak: the leaker's pid is on ESTABLISHED->CLOSE_WAIT.
test_close_wait_leak() {
	local f="$TMP/leak.json.ours" c cp
	new_netns leak || return 1
	run_scenario "$TMP/leak.json" leak 127.0.0.1 8080 600 || return 1
	c=$(j client_pid) cp=$(j client_port)
	expect "ESTABLISHED->CLOSE_WAIT owned by the leaking process ($c)" \
		"any(.[]; .type==\"state\" and .old==\"ESTABLISHED\" and .new==\"CLOSE_WAIT\" and .pid==$c and .comm==\"ts-leaker\" and .sport==$cp)" "$f" &&
	expect "the leak lasted >= 500 ms in CLOSE_WAIT, owned by the leaker" \
		"any(.[]; .type==\"state\" and .old==\"CLOSE_WAIT\" and .new==\"LAST_ACK\" and .pid==$c and .in_old_ms >= 500)" "$f"
}

# 3. connect() to a closed port.
test_connect_refused() {
	local f="$TMP/ref.json.ours" c
	new_netns ref || return 1
	run_scenario "$TMP/ref.json" refused 127.0.0.1 9 || return 1
	c=$(j client_pid)
	expect "ECONNREFUSED with pid $c and destination 127.0.0.1:9" \
		"any(.[]; .type==\"connect\" and .errno==\"ECONNREFUSED\" and .ret==-111 and .pid==$c and .comm==\"ts-refused\" and .daddr==\"127.0.0.1\" and .dport==9)" "$f" &&
	expect "exactly one connect result for it" \
		"[.[] | select(.type==\"connect\")] | length == 1" "$f"
}

# 4. Ephemeral port exhaustion toward one ip:port.
test_port_exhaustion() {
	local f="$TMP/ex.json.ours" c n
	new_netns ex net.ipv4.ip_local_port_range="40000 40007" net.ipv4.tcp_tw_reuse=0 || return 1
	run_scenario "$TMP/ex.json" exhaust 127.0.0.1 8080 50 || return 1
	c=$(j client_pid) n=$(j connected)
	[ "$(j errno)" = 99 ] || { echo "  scenario did not hit EADDRNOTAVAIL: $SC" >&2; return 1; }
	expect "EADDRNOTAVAIL port allocations (3 tries) with pid $c and destination 127.0.0.1:8080" \
		"[.[] | select(.type==\"port\" and .op==\"connect\" and .errno==\"EADDRNOTAVAIL\" and .pid==$c and .daddr==\"127.0.0.1\" and .dport==8080 and .sport==0)] | length == 3" "$f" &&
	expect "successful connects report the port the kernel chose (in 40000-40007)" \
		"[.[] | select(.type==\"connect\" and .ret==0 and .pid==$c) | .sport] | length == $n and all(. >= 40000 and . <= 40007)" "$f" &&
	expect "no connect result for the allocation failures (the port events tell)" \
		"all(.[]; .type != \"connect\" or .ret == 0)" "$f" &&
	DUMP_FILTER='select(.type=="timewait" or (.type=="state" and .new=="CLOSE"))' DUMP_LINES=80 \
	expect "a TIME_WAIT entry, owned by $c, for each of the $n ports used" \
		"[.[] | select(.type==\"timewait\" and .event==\"enter\" and .pid==$c and .dport==8080) | .sport] | unique | length == $n" "$f"
}

# 6. SO_LINGER {1,0}: RST, no TIME_WAIT.
test_abortive_close_no_timewait() {
	local f="$TMP/lg.json.ours" c cp
	new_netns lg || return 1
	run_scenario "$TMP/lg.json" linger 127.0.0.1 8080 || return 1
	c=$(j client_pid) cp=$(j client_port)
	expect "the client's ESTABLISHED->CLOSE (abort) owned by the client" \
		"any(.[]; .type==\"state\" and .old==\"ESTABLISHED\" and .new==\"CLOSE\" and .pid==$c and .sport==$cp)" "$f" &&
	expect "no TIME_WAIT entry for the aborted connection" \
		"[.[] | select(.type==\"timewait\" and (.sport==$cp or .dport==$cp))] | length == 0" "$f"
}

# 7a. -p: only the chosen process's sockets. The workload's pid must be
#     known before it runs: a subshell waits, then execs `ip netns exec`,
#     which execs the scenario in the same process, so its pid is $!.
test_filter_pid() {
	local f="$TMP/fp.json.ours" out="$TMP/fp.json" wpid
	new_netns fp || return 1
	rm -f "$TMP/fp.go"
	# waits (at most 10 s) for the tracer to be attached
	( for _ in $(seq 1 200); do [ -e "$TMP/fp.go" ] && break; sleep 0.05; done
	  exec ip netns exec "$NS" "$SCENARIO" exhaust 127.0.0.1 8081 3 > "$TMP/fp.sc" ) &
	wpid=$!
	start_tracer "$out" -p "$wpid" || return 1
	touch "$TMP/fp.go"
	# a second workload process runs meanwhile and must not appear
	in_ns "$SCENARIO" two-clients 127.0.0.1 8082 > /dev/null || { stop_tracer; return 1; }
	wait "$wpid"
	stop_tracer || return 1
	ours "$out" > "$f"
	expect "events of pid $wpid appear (its connects and TIME_WAIT entries)" \
		"any(.[]; .pid==$wpid and .type==\"connect\") and any(.[]; .pid==$wpid and .type==\"timewait\")" "$f" &&
	expect "nothing of any other process (two-clients ran meanwhile)" \
		"all(.[]; .pid==$wpid)" "$f"
}

# 7b. --state close-wait: only transitions into or out of CLOSE_WAIT.
test_filter_state() {
	local f="$TMP/fs.json.ours"
	new_netns fs || return 1
	TRACE_ARGS="--state CLOSE-wait" run_scenario "$TMP/fs.json" two-clients 127.0.0.1 8080 || return 1
	expect "CLOSE_WAIT transitions of both connections appear" \
		'[.[] | select(.new=="CLOSE_WAIT")] | length == 2' "$f" &&
	expect "nothing else" \
		'all(.[]; .type=="state" and (.old=="CLOSE_WAIT" or .new=="CLOSE_WAIT"))' "$f"
}

# A --state filter without time-wait and fin-wait-2 lets no timewait or
# port record through: the timer hooks (every timer on the host) are not
# loaded at all, and hooks says so. With time-wait they are, and the
# TIME_WAIT entries come through the filter.
last_prog_id() { bpftool prog show -j | jq '[.[].id] | max // 0'; }
timer_progs_since() { # ID: timer programs loaded after program ID (ids only grow)
	bpftool prog show -j | jq --argjson l "$1" \
		'[.[] | select(.id > $l and ((.name // "") | startswith("on_timer")))] | length'
}
timer_progs_with() { # OUT ARGS...: how many timer programs a tracer with ARGS loads
	local last n out=$1
	shift
	last=$(last_prog_id)
	start_tracer "$out" "$@" || return 1
	n=$(timer_progs_since "$last")
	stop_pid "$TRACER_PID" INT "$TRACER_ERR" || return 1
	echo "$n"
}
test_filter_state_hooks_only_what_it_needs() {
	local n c
	"$TCPSCOPE" hooks --state close-wait >"$TMP/fsh.hooks" 2>&1 || return 1
	grep -q "tracepoint: not hooked: --state leaves out time-wait and fin-wait-2" "$TMP/fsh.hooks" ||
		{ echo "  hooks --state close-wait does not say TIME_WAIT is not hooked:" >&2; cat "$TMP/fsh.hooks" >&2; return 1; }
	if ! command -v bpftool >/dev/null; then
		echo "  skip: the program count (no bpftool here)"
	else
		n=$(timer_progs_with "$TMP/fsh0.json" --state close-wait) || return 1
		[ "$n" = 0 ] || { echo "  --state close-wait loaded $n timer programs (want 0)" >&2; return 1; }
		n=$(timer_progs_with "$TMP/fsh1.json" --state time-wait) || return 1
		[ "$n" -ge 3 ] || { echo "  --state time-wait loaded $n timer programs (want start, cancel, expire)" >&2; return 1; }
	fi
	new_netns fsh || return 1
	TRACE_ARGS="--state time-wait" run_scenario "$TMP/fsh.json" client-close 127.0.0.1 8080 || return 1
	c=$(j client_pid)
	expect "the client's TIME_WAIT entry passes --state time-wait, owned by it ($c)" \
		"any(.[]; .type==\"timewait\" and .event==\"enter\" and .pid==$c)" "$TMP/fsh.json.ours" &&
	expect "nothing but TIME_WAIT" \
		'all(.[]; .type=="timewait" or (.type=="state" and (.old=="TIME_WAIT" or .new=="TIME_WAIT")))' "$TMP/fsh.json.ours"
}

# 8. CLI behaviour.
test_duration_exits_zero() {
	local t0 t1 rc
	t0=${EPOCHREALTIME/./}
	timeout 20 "$TCPSCOPE" trace -d 2 -F json -o "$TMP/d.json" 2>"$TMP/d.err"
	rc=$?
	t1=${EPOCHREALTIME/./}
	[ "$rc" = 0 ] || { echo "  -d 2 exited $rc" >&2; cat "$TMP/d.err" >&2; return 1; }
	[ $(( (t1 - t0) / 1000 )) -ge 1900 ] || { echo "  -d 2 stopped too early" >&2; return 1; }
	grep -qE '^tcpscope: [0-9]+ events .*[0-9]+ lost' "$TMP/d.err" ||
		{ echo "  no summary line on stderr" >&2; cat "$TMP/d.err" >&2; return 1; }
}

test_sigint_and_sigterm_exit_zero() {
	local sig rc
	for sig in INT TERM; do
		start_tracer "$TMP/s.json" || return 1
		kill -"$sig" "$TRACER_PID"
		wait "$TRACER_PID"
		rc=$?
		TRACER_PID=
		[ "$rc" = 0 ] || { echo "  SIG$sig: exit $rc" >&2; return 1; }
	done
}

test_bad_input_exit_2() {
	local args rc msg
	while IFS='|' read -r args msg; do
		# shellcheck disable=SC2086
		"$TCPSCOPE" $args >"$TMP/bad.out" 2>"$TMP/bad.err"
		rc=$?
		if [ "$rc" != 2 ] || ! grep -q -- "$msg" "$TMP/bad.err" || [ "$(wc -l < "$TMP/bad.err")" -gt 2 ] || [ -s "$TMP/bad.out" ]; then
			echo "  '$args': exit $rc, stderr: $(cat "$TMP/bad.err")" >&2
			return 1
		fi
	done <<'CASES'
trace --state bogus|wrong state name: bogus
trace -L 70000|out of range
trace -D abc|not a number
trace -d 5x|unknown unit
trace -d|requires an argument
trace stray|unexpected argument 'stray'
frobnicate|unknown command 'frobnicate'
trace -F xml|unknown format 'xml'
trace -4 -6|exclude each other
trace --no-such-flag|unrecognized option
trace -o /nonexistent/dir/out.json|cannot write /nonexistent/dir/out.json
trace -P --state listen|exclude each other
trace --scan-warn 0|out of range
hooks -F csv|use -F text or -F json
CASES
}

test_csv_and_text_formats() {
	local n fmt
	new_netns fmt || return 1
	# one tracer at a time (two at once once hung a 6.1 guest's kprobe pass)
	for fmt in csv text; do
		: >"$TMP/f.err" # the previous run's "attached" must not count
		"$TCPSCOPE" trace -F $fmt -o "$TMP/f.$fmt" 2>"$TMP/f.err" &
		TRACER_PID=$!
		attached "$TMP/f.err" "$TRACER_PID" || return 1
		in_ns "$SCENARIO" client-close 127.0.0.1 8080 >/dev/null
		sleep 0.3
		kill -INT "$TRACER_PID"
		wait "$TRACER_PID" || return 1
		TRACER_PID=
	done
	mv "$TMP/f.text" "$TMP/f.txt"
	head -1 "$TMP/f.csv" | grep -q '^type,ts_ns,time,pid,comm,' || { echo "  no CSV header" >&2; return 1; }
	n=$(grep -c '^state,' "$TMP/f.csv")
	[ "$n" -ge 8 ] || { echo "  CSV has $n state rows" >&2; return 1; }
	head -1 "$TMP/f.txt" | grep -q '^TIME ' || { echo "  no text header" >&2; return 1; }
	grep -q 'ESTAB>CLOSEWT' "$TMP/f.txt" || { echo "  text lacks ESTAB>CLOSEWT" >&2; cat "$TMP/f.txt" >&2; return 1; }
}

# Nothing lost silently: a ring buffer far too small for the churn must
# show up as "lost" records in the stream and in the exit summary.
test_lost_events_are_reported() {
	local f="$TMP/lost.json"
	new_netns lost || return 1
	start_tracer "$f" --ringbuf-size 4K || return 1
	in_ns "$SCENARIO" churn 127.0.0.1 8080 3000 >/dev/null || { stop_tracer; return 1; }
	stop_tracer || return 1
	expect "lost records with reason ringbuf_full and a count" \
		'any(.[]; .type=="lost" and .reason=="ringbuf_full" and .count > 0)' "$f" || return 1
	grep -qE '^tcpscope: [0-9]+ events .*, [1-9][0-9]* lost \(.*ringbuf_full' "$TRACER_ERR" ||
		{ echo "  summary does not report the loss: $(tail -1 "$TRACER_ERR")" >&2; return 1; }
	grep -q 'warning: .* events lost' "$TRACER_ERR" ||
		{ echo "  no warning while running" >&2; return 1; }
}

# Clear errors before loading anything.
test_not_root_is_refused() {
	command -v setpriv >/dev/null || { skip "no setpriv"; return; }
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$TCPSCOPE" trace -d 1 >"$TMP/nr.out" 2>"$TMP/nr.err"
	local rc=$?
	[ "$rc" = 2 ] && grep -q 'missing capabilities: need CAP_BPF and CAP_PERFMON' "$TMP/nr.err" ||
		{ echo "  exit $rc: $(cat "$TMP/nr.err")" >&2; return 1; }
}

# A timewait socket's substate change: the server's orphaned FIN_WAIT2
# becomes a FIN_WAIT2-substate timewait (tcp_fin_timeout 5 s here); the
# client's close 1 s later brings its FIN, and the timewait socket moves to
# TIME_WAIT for 60 s (the tracepoint tier sees its timer re-armed or sweeps
# the substate; fentry sees __inet_twsk_schedule re-arm it).
test_timewait_substate_change() {
	local f="$TMP/tws.json.ours" s sp=8080
	new_netns tws net.ipv4.tcp_fin_timeout=5 || return 1
	run_scenario "$TMP/tws.json" leak 127.0.0.1 $sp 1000 || return 1
	s=$(j server_pid)
	expect "the server's timewait entry in the FIN_WAIT2 substate" \
		"any(.[]; .type==\"timewait\" and .event==\"enter\" and .substate==\"FIN_WAIT2\" and .pid==$s and .sport==$sp)" "$f" &&
	expect "then its move to TIME_WAIT when the client's FIN came, owned by the server" \
		"any(.[]; .type==\"timewait\" and .event==\"substate\" and .substate==\"TIME_WAIT\" and .pid==$s and .sport==$sp)" "$f" &&
	expect "no end: it waits 60 s" \
		"all(.[]; (.type==\"timewait\" and .event==\"end\" and .sport==$sp) | not)" "$f"
}

# The end of a timewait: expiry. An orphaned FIN_WAIT2 (the peer never
# closes) becomes a FIN_WAIT2-substate timewait for tcp_fin_timeout (1 s here).
test_timewait_expiry() {
	local f="$TMP/twx.json.ours" s sp=8080
	new_netns twx net.ipv4.tcp_fin_timeout=1 || return 1
	run_scenario "$TMP/twx.json" leak 127.0.0.1 $sp 2500 || return 1
	s=$(j server_pid)
	expect "the server's timewait entry in the FIN_WAIT2 substate, owned by the server" \
		"any(.[]; .type==\"timewait\" and .event==\"enter\" and .substate==\"FIN_WAIT2\" and .pid==$s and .sport==$sp and .timeout_ms >= 500 and .timeout_ms <= 2000)" "$f" &&
	expect "its end: expired after about tcp_fin_timeout, owned by the server" \
		"any(.[]; .type==\"timewait\" and .event==\"end\" and .cause==\"expired\" and .pid==$s and .sport==$sp and .lived_ms >= 500 and .lived_ms <= 2400)" "$f"
}

# The end of a timewait: reused by connect() (tcp_tw_reuse=1), so the same
# two ports serve more connections than the range holds.
test_timewait_reuse() {
	local f="$TMP/twr.json.ours" c n
	new_netns twr net.ipv4.ip_local_port_range="40000 40001" net.ipv4.tcp_tw_reuse=1 || return 1
	local sc="reuse 127.0.0.1 8080 6"
	# without tcp_tw_reuse_delay (before ~6.13) the wait is a fixed second
	in_ns sysctl -qw net.ipv4.tcp_tw_reuse_delay=1 2>/dev/null || sc="reuse-slow 127.0.0.1 8080 4"
	# shellcheck disable=SC2086
	run_scenario "$TMP/twr.json" $sc || return 1
	c=$(j client_pid) n=$(j connected)
	[ "$n" -gt 2 ] || { echo "  the kernel reused no timewait socket: $SC" >&2; return 1; }
	expect "timewait ends caused by reuse, owned by the client ($c)" \
		"[.[] | select(.type==\"timewait\" and .event==\"end\" and .cause==\"reused\" and .pid==$c)] | length >= $((n - 2))" "$f" &&
	expect "each reused port's new connect() succeeded" \
		"[.[] | select(.type==\"connect\" and .ret==0 and .pid==$c)] | length == $n" "$f" &&
	expect "the port allocations that took a timewait socket's port say so" \
		"[.[] | select(.type==\"port\" and .op==\"connect\" and .tw_reused and .ret==0 and .pid==$c)] | length >= $((n - 2))" "$f" &&
	expect "the first (a fresh port) does not, and as many say so as timewait sockets were reused" \
		"([.[] | select(.type==\"port\" and .pid==$c)][0].tw_reused | not) and ([.[] | select(.type==\"port\" and .tw_reused)] | length) == ([.[] | select(.type==\"timewait\" and .cause==\"reused\")] | length)" "$f"
}

# tcp_max_tw_buckets=0: every timewait socket is refused. The TIME_WAIT-
# substate refusals (a FIN came in first) are reported per connection, never
# more than the kernel's own TcpExtTCPTimeWaitOverflow count.
test_timewait_overflow() {
	local f="$TMP/ov.json.ours" n
	new_netns ov net.ipv4.tcp_max_tw_buckets=0 || return 1
	TRACE_ARGS="-v" run_scenario "$TMP/ov.json" churn 127.0.0.1 8080 200 || return 1
	n=$(netstat_counter TCPTimeWaitOverflow)
	[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "  the kernel refused no timewait socket ($n)" >&2; return 1; }
	local cmp="length >= 1 and length <= $n" skipped
	# with fentry on tcp_time_wait every refusal is seen; with a kprobe,
	# every one not skipped by the kernel's guard, and each skip is counted
	skipped=$(jq -s '[.[] | select(.type=="lost" and .reason=="kprobe_skipped") | .count] | add // 0' "$TMP/ov.json")
	grep -qE 'TIME_WAIT entry: fentry' "$TRACER_ERR" && cmp="length == $n"
	grep -qE 'TIME_WAIT entry: kprobe' "$TRACER_ERR" && cmp="length <= $n and length + $skipped >= $n"
	[ "$skipped" = 0 ] || echo "  kprobe_skipped: $skipped" >&2
	expect "overflow events for the client (comm scenario): $cmp" \
		"[.[] | select(.type==\"timewait\" and .event==\"overflow\" and .comm==\"scenario\" and .dport==8080)] | $cmp" "$f" &&
	expect "no timewait socket was created" \
		'all(.[]; .event != "enter")' "$f"
}

# Every transition exactly once: 2000 connections of churn give exactly 2000
# of each handshake transition and connect outcome, a timewait entry per
# FIN_WAIT2->CLOSE, nothing duplicated, nothing lost.
test_churn_exact_accounting() {
	local f="$TMP/acct.json.ours" n=2000
	new_netns acct net.ipv4.ip_local_port_range="10000 60000" || return 1
	run_scenario "$TMP/acct.json" churn 127.0.0.1 8080 $n || return 1
	# nothing lost but what the kernel hid from every BPF program (made
	# while PID 1 ran: user/hidden.h), which is counted: a transition may be
	# short by at most that count
	local lost hidden
	lost=$(sed -n 's/^tcpscope: [0-9]* events .*, \([0-9]*\) lost.*/\1/p' "$TRACER_ERR" | tail -n 1)
	hidden=$(sed -n 's/.* lost (.*hidden_by_kernel \([0-9]*\).*/\1/p' "$TRACER_ERR" | tail -n 1)
	[ -n "$lost" ] && [ "$lost" = "${hidden:-0}" ] ||
		{ echo "  events were lost: $(tail -1 "$TRACER_ERR")" >&2; return 1; }
	[ "${hidden:-0}" = 0 ] || echo "  (the kernel hid $hidden transitions: made while PID 1 ran)"
	local t
	for t in CLOSE:SYN_SENT SYN_SENT:ESTABLISHED SYN_RECV:ESTABLISHED \
		ESTABLISHED:FIN_WAIT1 ESTABLISHED:CLOSE_WAIT; do
		expect "exactly $n ${t/:/->} (or short by at most the ${hidden:-0} hidden)" \
			"[.[] | select(.type==\"state\" and .old==\"${t%:*}\" and .new==\"${t#*:}\" and .dport + .sport > 0 and (.sport==8080 or .dport==8080))] | length | . <= $n and . >= $n - ${hidden:-0}" "$f" || return 1
	done
	# two CPUs handling one request's final ACK may each create a child;
	# the loser is closed at once (SYN_RECV->CLOSE; seen 1 in 2000 in the VM)
	expect "exactly $n children kept: LISTEN->SYN_RECV minus SYN_RECV->CLOSE" \
		"([.[] | select(.type==\"state\" and .old==\"LISTEN\" and .new==\"SYN_RECV\" and .sport==8080)] | length) - ([.[] | select(.type==\"state\" and .old==\"SYN_RECV\" and .new==\"CLOSE\" and .sport==8080)] | length) == $n" "$f" || return 1
	expect "exactly $n successful connects" \
		"[.[] | select(.type==\"connect\" and .ret==0)] | length == $n" "$f" &&
	expect "one timewait entry per FIN_WAIT2->CLOSE" \
		'([.[] | select(.type=="timewait" and .event=="enter")] | length) == ([.[] | select(.type=="state" and .old=="FIN_WAIT2" and .new=="CLOSE")] | length)' "$f" &&
	expect "no (sk, transition) twice in a row for a socket" \
		'[.[] | select(.type=="state")] | group_by(.sk) | map([.[] | "\(.old)>\(.new)"] as $t | [range(1; $t | length) | select($t[.] == $t[. - 1])] | length) | add == 0' "$f"
}

# Every transition exactly once, against an independent count: a second,
# minimal BPF program on the same tracepoint (tests/count) counts what the
# kernel did. Churn with several client threads, the client or the server
# closing first, IPv4 and IPv6 (tests/exact.sh; make stress runs it long).
# No (socket, transition) twice; nothing seen more often than it happened;
# whatever is missing is reported lost.
test_churn_exact_independent_count() {
	local run line bad=0
	for run in "20000 2 client" "20000 2 client" "10000 2 server" "10000 4 client ::1"; do
		# shellcheck disable=SC2086
		line=$(tests/exact.sh $run) || { echo "  exact.sh $run did not run" >&2; return 1; }
		echo "$line" | jq -e .ok >/dev/null || { echo "  not exact: $line" >&2; bad=1; }
	done
	return $bad
}

# Any comm gives valid JSON: quote, backslash, control and non-UTF-8 bytes.
test_json_escapes_any_comm() {
	local f="$TMP/wc.json.ours" p
	new_netns wc || return 1
	run_scenario "$TMP/wc.json" weird-comm 127.0.0.1 9 || return 1
	p=$(j pid)
	jq -e . "$TMP/wc.json" >/dev/null || { echo "  the output is not valid JSON" >&2; return 1; }
	expect "the refused connect of pid $p with its comm escaped" \
		"any(.[]; .type==\"connect\" and .pid==$p and .comm==\"a\\\"b\\\\c\\u0001\\u00ff\" and .errno==\"ECONNREFUSED\")" "$f"
}

# The census: sockets older than tcpscope are in the JSON before any event,
# with their owners as ss -p finds them (here a CLOSE_WAIT leak that began
# before the tracer, and the server's timewait socket in the FIN_WAIT2
# substate); --no-census leaves it out.
test_census_at_start() {
	local out="$TMP/cs.json" f="$TMP/cs.json.ours" c cp
	new_netns cs || return 1
	in_ns "$SCENARIO" leak 127.0.0.1 8080 60000 > "$TMP/cs.sc" &
	local sc=$!
	# until the leak exists (a CLOSE_WAIT socket, state 08), at most 10 s
	for _ in $(seq 1 100); do
		in_ns cat /proc/net/tcp | awk '$4 == "08"' | grep -q . && break
		sleep 0.1
	done
	start_tracer "$out" || return 1
	stop_tracer || return 1
	ours "$out" > "$f"
	start_tracer "$TMP/cs2.json" --no-census || return 1
	stop_tracer || return 1
	pkill -KILL -x ts-leaker # ends the leak; the scenario then reports
	wait "$sc"
	SC=$(cat "$TMP/cs.sc")
	c=$(j client_pid) cp=$(j client_port)
	expect "the leaker's CLOSE_WAIT socket, owned by ts-leaker ($c), older than the tracer" \
		"any(.[]; .type==\"socket\" and .state==\"CLOSE_WAIT\" and .pid==$c and .comm==\"ts-leaker\" and .sport==$cp and .dport==8080 and .inode > 0)" "$f" &&
	expect "the server's side: a timewait socket in the FIN_WAIT2 substate, with its timer" \
		"any(.[]; .type==\"socket\" and .timewait and .state==\"FIN_WAIT2\" and .sport==8080 and .dport==$cp and .timer==\"timewait\" and .expires_ms > 0)" "$f" &&
	expect "census (and netns start) records come before any event" \
		'[.[].type] as $t | ([$t | to_entries[] | select(.value != "socket" and .value != "netns" and .value != "run") | .key] | min // ($t | length)) as $e | ($t[0:$e] | index("socket")) != null' "$out" &&
	expect "one netns record at start and one at end for the test's namespace" \
		'[.[] | select(.type=="netns") | .phase] == ["start","end"]' "$f" &&
	expect "--no-census: none" 'all(.[]; .type != "socket")' "$TMP/cs2.json"
}

# --netns: by name (ip netns) and by inode, only that namespace's records,
# census included; the same connection made in a second namespace is not seen
test_netns_filter() {
	local other f
	new_netns nso || return 1
	other=$NS
	new_netns nsf || return 1
	for f in "${NS##*/}" "$NS_INODE"; do
		start_tracer "$TMP/nsf.json" --netns "$f" || return 1
		in_ns "$SCENARIO" client-close 127.0.0.1 8080 >/dev/null || return 1
		ip netns exec "$other" "$SCENARIO" client-close 127.0.0.1 8080 >/dev/null || return 1
		stop_tracer || return 1
		expect "--netns $f: a whole connection of our namespace" \
			'[.[] | select(.type == "state")] | length >= 10' "$TMP/nsf.json" &&
		expect "--netns $f: nothing of another namespace" \
			"all(.[]; .netns == null or .netns == $NS_INODE)" "$TMP/nsf.json" || return 1
	done
	"$TCPSCOPE" trace --netns no-such-ns-$$ 2>"$TMP/nsf.err"
	[ $? = 2 ] && grep -q "no such network namespace" "$TMP/nsf.err" ||
		{ echo "  --netns of a missing namespace: $(cat "$TMP/nsf.err")" >&2; return 1; }
}
