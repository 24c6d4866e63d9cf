# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# End-to-end tests of `tcpscope top`: the real dashboard in a real terminal
# (tmux, on a private server), against the scenarios of the diagnosis tests
# in the test's namespace; assertions on what `tmux capture-pane` shows, on
# resizes, keys, and the terminal given back on each way out. Sourced by
# tests/run.sh.

# top_start NAME COLS ROWS [tcpscope top options...]: tcpscope top runs in a
# tmux pane through a wrapper that records the tty settings before and
# after and the exit status ($D.exit). Returns once the dashboard is drawn.
top_start() {
	local name=$1 cols=$2 rows=$3
	shift 3
	D=$TMP/$name
	TOP_TMUX=tcpscope-test-$$-$name
	# the test's end (any): the terminal server, the scenario, the namespaces
	trap 'top_stop; scenario_stop; cleanup_test' EXIT
	cat >"$D.run" <<-EOF
		stty -g >'$D.stty.before'
		echo BEFORE-TOP-MARKER
		'$TCPSCOPE' top ${TRACE_EXTRA:-} $* 2>'$D.err'
		echo "EXIT=\$?" >'$D.exit.tmp'
		stty -g >'$D.stty.after'
		mv '$D.exit.tmp' '$D.exit'
		echo AFTER-TOP-MARKER
		sleep 600
	EOF
	LANG=C.UTF-8 tmux -L "$TOP_TMUX" -f /dev/null new-session -d -s top -x "$cols" -y "$rows" \
		-e LANG=C.UTF-8 "bash '$D.run'" || return 1
	TOP_PANE_PID=$(tmux -L "$TOP_TMUX" display -p -t top '#{pane_pid}')
	wait_screen 'tcpscope top' 300 || { echo "  top did not draw:" >&2; cat "$D.err" >&2; return 1; }
}

top_screen() { tmux -L "$TOP_TMUX" capture-pane -p -t top; }
top_keys() { tmux -L "$TOP_TMUX" send-keys -t top "$@"; }
top_var() { tmux -L "$TOP_TMUX" display -p -t top "#{$1}"; }

# wait_screen REGEX TENTHS: until the screen matches (grep -E), at most TENTHS/10 s
wait_screen() {
	for _ in $(seq 1 "$2"); do
		top_screen >"$D.screen" 2>/dev/null
		grep -Eq -- "$1" "$D.screen" && return 0
		[ -e "$D.exit" ] && break
		sleep 0.1
	done
	echo "  the screen never showed /$1/; it shows:" >&2
	sed 's/^/    | /' "$D.screen" >&2
	return 1
}

# every line of the screen fits the width and the status line is the last one
screen_fits() {
	local cols=$1 rows=$2 line
	top_screen >"$D.screen"
	[ "$(wc -l <"$D.screen")" -le "$rows" ] || { echo "  more than $rows lines" >&2; return 1; }
	# characters, not bytes (the trend glyphs are 3 bytes each)
	while IFS= read -r line; do
		[ "$(LC_ALL=C.UTF-8 bash -c 'echo ${#1}' _ "$line")" -le "$cols" ] ||
			{ echo "  a line wider than $cols: $line" >&2; return 1; }
	done <"$D.screen"
	grep -q 'q quit' "$D.screen" || { echo "  no status line:" >&2; cat "$D.screen" >&2; return 1; }
}

top_resize() {
	local cols=$1 rows=$2
	tmux -L "$TOP_TMUX" resize-window -t top -x "$cols" -y "$rows" || return 1
	for _ in $(seq 1 30); do
		[ "$(top_var window_width)x$(top_var window_height)" = "${cols}x$rows" ] && break
		sleep 0.1
	done
	sleep 1.5 # a redraw on SIGWINCH, then the next refresh
}

# After tcpscope exited: status 0, the terminal as it was (tty settings,
# main screen with what was on it, cursor shown)
top_exited_clean() {
	for _ in $(seq 1 100); do
		[ -e "$D.exit" ] && break
		sleep 0.1
	done
	[ -e "$D.exit" ] || { echo "  tcpscope top did not exit" >&2; return 1; }
	grep -qx 'EXIT=0' "$D.exit" || { echo "  $(cat "$D.exit"): $(cat "$D.err")" >&2; return 1; }
	cmp -s "$D.stty.before" "$D.stty.after" ||
		{ echo "  tty settings not restored: $(cat "$D.stty.before") -> $(cat "$D.stty.after")" >&2; return 1; }
	[ "$(top_var alternate_on)" = 0 ] || { echo "  still on the alternate screen" >&2; return 1; }
	[ "$(top_var cursor_flag)" = 1 ] || { echo "  the cursor is still hidden" >&2; return 1; }
	wait_screen 'AFTER-TOP-MARKER' 30 || return 1
	grep -q 'BEFORE-TOP-MARKER' "$D.screen" || { echo "  the screen before top is gone" >&2; return 1; }
	grep -q 'tcpscope: [0-9]* events' "$D.err" || { echo "  no summary on stderr" >&2; return 1; }
}

top_stop() { [ -n "${TOP_TMUX:-}" ] && tmux -L "$TOP_TMUX" kill-server 2>/dev/null; TOP_TMUX=; }


test_top_close_wait_leak() {
	new_netns tcw || return 1
	# the leaky server in a docker-shaped cgroup: its container in the row
	local cgdir=
	container_cgroup docker && cgdir=$CTR_PATH
	SCENARIO_CGROUP=$cgdir scenario_start tcw cw-leak || return 1
	top_start tcw 80 24 -i 500ms || return 1
	kill -USR1 "$SC_PID"
	local p
	p=$(echo "$SC" | jq -r .leaker_pid)
	# the leaking process, its port and its 20 CLOSE_WAIT sockets, in the first pane
	wait_screen "^$p ts-leaky +:8080 +20 " 150 || return 1
	wait_screen "CLOSE_WAIT leak +$p ts-leaky :8080" 50 || return 1
	screen_fits 80 24 || return 1
	top_resize 240 50 || return 1
	wait_screen "^$p ts-leaky +:8080 +20 " 30 || return 1
	[ "$(head -1 "$D.screen" | wc -c)" -gt 150 ] ||
		{ echo "  not redrawn at 240 columns:" >&2; head -3 "$D.screen" >&2; return 1; }
	# at 240 columns, wide enough for every column: the container (docker's 12 digits) and
	# the namespace by its name
	if [ -n "$cgdir" ]; then
		wait_screen "^$p ts-leaky +:8080 +20 .* ${CTR_HEX:0:12} +$NS\b" 30 || return 1
	else
		echo "  (no cgroup2 mount: the container column not checked)"
		wait_screen "^$p ts-leaky +:8080 +20 .* $NS\b" 30 || return 1
	fi
	screen_fits 240 50 || return 1
	top_resize 80 24 || return 1
	wait_screen "^$p ts-leaky +:8080 +20 " 30 && screen_fits 80 24 || return 1
	# Enter: the sockets of the row (the first pane has the focus)
	top_keys Enter
	wait_screen "CLOSE_WAIT sockets of $p ts-leaky, local port 8080: 20" 30 || return 1
	[ "$(grep -c '^CLOSE_WAIT  *127.0.0.1:8080 ' "$D.screen")" -ge 10 ] ||
		{ echo "  the socket list shows too few CLOSE_WAIT sockets" >&2; return 1; }
	top_keys Escape
	wait_screen "^$p ts-leaky +:8080 +20 " 30 || return 1
	# '/': trace's filter words; a wrong word is named and the filter kept
	top_keys / '--bogus' Enter
	wait_screen "unknown filter word '--bogus'" 30 || return 1
	top_keys / C-u "-p $p --state close-wait" Enter
	wait_screen "filter: -p $p --state close-wait" 30 || return 1
	wait_screen "^CLOSEWT +20 " 30 || return 1
	grep -Eq '^ESTAB +0 ' "$D.screen" || { echo "  the filter did not apply to the states" >&2; return 1; }
	top_keys q
	top_exited_clean
}

test_top_port_exhaustion() {
	new_netns tpe "net.ipv4.ip_local_port_range=40000 40015" net.ipv4.tcp_tw_reuse=0 || return 1
	scenario_start tpe exhaust-hold || return 1
	top_start tpe 80 24 -i 500ms || return 1
	kill -USR1 "$SC_PID"
	local p
	p=$(echo "$SC" | jq -r .client_pid)
	# the destination with all 16 ports of the range held in TIME_WAIT, and
	# the failed connect()s counted and in the notable events with the pid
	wait_screen "^127\.0\.0\.1:8080 +16 +100% +16 +[0-9.]+ +([5-9]|[1-9][0-9]+)( |$)" 150 || return 1
	wait_screen "connect failed .*EADDRNOTAVAIL +$p ts-exhaust" 50 || return 1
	wait_screen "port pressure +toward 127\.0\.0\.1:8080: 16 of 16" 30 || return 1
	screen_fits 80 24 || return 1
	# SIGTERM: the terminal given back all the same
	kill -TERM "$(pgrep -P "$TOP_PANE_PID" -x tcpscope)"
	top_exited_clean
}

# the listeners pane: the accept queue now, from the listeners-only dump
# every interval (listen(fd, 5) never accepted: 6 of 5, over 100%)
test_top_listen_backlog() {
	new_netns tlb || return 1
	scenario_start tlb backlog-hold 8 || return 1
	top_start tlb 80 24 -i 500ms || return 1
	kill -USR1 "$SC_PID"
	local p
	p=$(echo "$SC" | jq -r .pid)
	wait_screen "^127\.0\.0\.1:8080 +$p ts-slowacc +6/5 +120% +[0-9]+ " 100 || return 1
	top_keys q
	top_exited_clean
}

# -d ends top by itself, terminal restored; Ctrl-C too
test_top_duration_and_ctrl_c() {
	top_start dur 80 24 -d 3s || return 1
	top_exited_clean || return 1
	top_stop
	top_start ctrlc 100 30 || return 1
	top_keys C-c
	top_exited_clean
}

test_top_refuses_without_tty() {
	local rc
	"$TCPSCOPE" top </dev/null >"$TMP/notty.out" 2>"$TMP/notty.err"
	rc=$?
	[ "$rc" = 2 ] || { echo "  exit $rc, want 2" >&2; return 1; }
	[ "$(wc -l <"$TMP/notty.err")" = 1 ] && grep -q "tcpscope trace" "$TMP/notty.err" ||
		{ echo "  want one line pointing to trace: $(cat "$TMP/notty.err")" >&2; return 1; }
	[ ! -s "$TMP/notty.out" ] || { echo "  wrote to stdout" >&2; return 1; }
	"$TCPSCOPE" top -i 10ms </dev/null >/dev/null 2>"$TMP/i.err"
	rc=$?
	[ "$rc" = 2 ] && grep -q "between 100ms and 1h" "$TMP/i.err" ||
		{ echo "  -i 10ms: exit $rc: $(cat "$TMP/i.err")" >&2; return 1; }
	"$TCPSCOPE" trace -i 1s </dev/null >/dev/null 2>"$TMP/ti.err"
	rc=$?
	[ "$rc" = 2 ] && grep -q "refresh interval of top" "$TMP/ti.err" ||
		{ echo "  trace -i: exit $rc: $(cat "$TMP/ti.err")" >&2; return 1; }
}
