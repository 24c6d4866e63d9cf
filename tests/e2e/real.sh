# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# End-to-end tests with real software nobody here wrote (Debian packages:
# nginx-light, wrk, redis-server, redis-tools), started by the test in its
# own namespace on loopback: a healthy real workload gives no warning, the
# same software made sick gives the right finding. Sourced by tests/run.sh.

REAL_SECS=${REAL_SECS:-5}

# real_tools NAME...: fails as a skip (with the reason) when a packaged tool
# is missing ("real_tools nginx wrk || return"); scripts/install-deps.sh
# installs them
real_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || { skip "$t not installed (scripts/install-deps.sh)"; return; }
	done
}

# nginx_start [LISTEN-PARAMS]: nginx in $NS on 127.0.0.1:8080, one process
# (no master: the one to stop is the one that serves), a fixed 200 reply,
# its files in $TMP; NGINX_PID from its pid file
nginx_start() {
	local d=$TMP/nginx
	mkdir -p "$d"
	cat >"$d/nginx.conf" <<CONF
worker_processes 1;
master_process off;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $d;
	server {
		listen 127.0.0.1:8080 ${1:-};
		location / { return 200 "ok\n"; }
	}
}
CONF
	(in_ns nginx -c "$d/nginx.conf" -p "$d" 2>"$d/start.err" &)
	for _ in $(seq 1 50); do
		in_ns bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080' 2>/dev/null && [ -s "$d/nginx.pid" ] &&
			NGINX_PID=$(cat "$d/nginx.pid") && return 0
		sleep 0.1
	done
	echo "  nginx did not start: $(cat "$d/start.err" "$d/error.log" 2>/dev/null)" >&2
	return 1
}

# redis_start: redis-server in $NS on 127.0.0.1:6379, no persistence
redis_start() {
	# not a job of the test's shell: the cleanup's kill is no news
	(in_ns redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no \
		--daemonize no --logfile "$TMP/redis.log" &)
	for _ in $(seq 1 50); do
		in_ns redis-cli -p 6379 ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.1
	done
	echo "  redis-server did not start: $(tail -3 "$TMP/redis.log")" >&2
	return 1
}

# real_diagnose NAME CMD...: tcpscope diagnose -d REAL_SECS on the host while
# CMD runs in $NS (started once tcpscope is attached); leaves $D.live.ours
# (our findings) and DIAG_RC
real_diagnose() {
	local name=$1 dpid
	shift
	D=$TMP/$name
	"$TCPSCOPE" diagnose -d "${REAL_SECS}s" -F json -o "$D.live" ${TRACE_EXTRA:-} 2>"$D.err" &
	dpid=$!
	TRACER_PID=$dpid
	attached "$D.err" "$dpid" 30
	in_ns "$@" >"$D.load" 2>&1
	wait "$dpid"
	DIAG_RC=$?
	TRACER_PID=
	[ "$DIAG_RC" -lt 2 ] || { echo "  diagnose exited $DIAG_RC: $(cat "$D.err")" >&2; return 1; }
	# (as in diagnose.sh: but for what the kernel hid from BPF, counted)
	jq -e '.summary.drift_total <= (.summary.lost_by.hidden_by_kernel // 0)' "$D.live" >/dev/null ||
		{ echo "  self-check drift: $(jq -c '.summary | {drift, drift_total, lost_by}' "$D.live")" >&2; return 1; }
	jq -c --argjson ns "$NS_INODE" '[.findings[] | select(.netns == $ns)]' "$D.live" >"$D.live.ours"
}

# no_warning: exit 0 and no warning or critical finding for our namespace
no_warning() {
	[ "$DIAG_RC" = 0 ] && jq -e 'all(.[]; .severity == "info")' "$D.live.ours" >/dev/null && return 0
	echo "  expected no warning (exit 0), got exit $DIAG_RC:" >&2
	jq -c '.[] | {severity, kind, title}' "$D.live.ours" | sed 's/^/    /' >&2
	echo "  load: $(tail -3 "$D.load")" >&2
	return 1
}

test_real_nginx_wrk_keepalive_healthy() {
	real_tools nginx wrk || return
	new_netns rk || return 1
	nginx_start || return 1
	real_diagnose rk wrk -t2 -c32 -d3s http://127.0.0.1:8080/ || return 1
	grep -q 'Requests/sec' "$D.load" || { echo "  wrk did not run: $(cat "$D.load")" >&2; return 1; }
	no_warning
}

# nginx closes first: TIME_WAIT on the server's side, the client's ports are
# free at once (it used to be "87 of 28232 usable ports held (0%)", warning)
test_real_nginx_wrk_connection_close_healthy() {
	real_tools nginx wrk || return
	new_netns rc || return 1
	nginx_start || return 1
	real_diagnose rc wrk -t2 -c16 -d3s -H "Connection: close" http://127.0.0.1:8080/ || return 1
	grep -q 'Requests/sec' "$D.load" || { echo "  wrk did not run: $(cat "$D.load")" >&2; return 1; }
	no_warning
}

test_real_redis_benchmark_healthy() {
	real_tools redis-server redis-benchmark || return
	new_netns rr || return 1
	redis_start || return 1
	real_diagnose rr redis-benchmark -p 6379 -q -n 40000 -c 20 -t set,get || return 1
	grep -q 'requests per second' "$D.load" || { echo "  redis-benchmark did not run: $(cat "$D.load")" >&2; return 1; }
	no_warning
}

# redis-benchmark reconnecting for every request (-k 0: the client closes
# first, TIME_WAIT on its side) from 100 ports with tcp_tw_reuse=0: connect()
# fails with EADDRNOTAVAIL; the finding is port exhaustion toward redis
test_real_redis_port_exhaustion() {
	real_tools redis-server redis-benchmark || return
	new_netns rx net.ipv4.ip_local_port_range="40000 40099" net.ipv4.tcp_tw_reuse=0 || return 1
	redis_start || return 1
	real_diagnose rx timeout 4 redis-benchmark -p 6379 -q -n 2000 -c 4 -k 0 -t ping || return 1
	jq -e 'any(.[]; .kind == "port_exhaustion" and .severity == "critical" and .eaddrnotavail > 0)' \
		"$D.live.ours" >/dev/null && [ "$DIAG_RC" = 1 ] && return 0
	echo "  expected a critical port_exhaustion with EADDRNOTAVAIL, exit 1; got exit $DIAG_RC:" >&2
	jq -c '.[] | {severity, kind, title}' "$D.live.ours" | sed 's/^/    /' >&2
	return 1
}

# nginx's listen queue of 8, nginx stopped: wrk's connections fill the
# queue and the kernel drops the rest (ListenOverflows)
test_real_nginx_backlog_overflow() {
	real_tools nginx wrk || return
	new_netns rb || return 1
	nginx_start "backlog=8" || return 1
	kill -STOP "$NGINX_PID" || return 1
	real_diagnose rb timeout 3 wrk -t1 -c64 -d2s http://127.0.0.1:8080/
	local rc=$?
	kill -CONT "$NGINX_PID"
	[ "$rc" = 0 ] || return 1
	jq -e 'any(.[]; .kind == "listen_overflow")' "$D.live.ours" >/dev/null && [ "$DIAG_RC" = 1 ] && return 0
	echo "  expected a listen_overflow finding, exit 1; got exit $DIAG_RC:" >&2
	jq -c '.[] | {severity, kind, title}' "$D.live.ours" | sed 's/^/    /' >&2
	return 1
}
