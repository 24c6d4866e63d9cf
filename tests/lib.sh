# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Helpers for the end-to-end tests: real tcpscope, real BPF, real sockets in
# network namespaces the tests create (and delete). Sourced by tests/run.sh.

TCPSCOPE=${TCPSCOPE:-$PWD/${OUTPUT:-.output}/tcpscope}
SCENARIO=${SCENARIO:-$PWD/${OUTPUT:-.output}/tests/scenario}
TMP=$(mktemp -d /tmp/tcpscope-test.XXXXXX)
[ -n "${KEEP_TMP:-}" ] && echo "test files in $TMP" >&2
NETNSES=()
TRACER_PID=
source tests/attached.sh

# ns_kill NS: kill the processes of a namespace (tcpscope visits namespaces
# on a thread of its own: it is never one of them)
ns_kill() {
	local pid
	for pid in $(ip netns pids "$1" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
}

# free_port: a loopback port no socket of the host uses, below the host's
# ephemeral range (a port in it can be taken by any client's connect()
# between this check and the bind)
free_port() {
	local low port
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	[ "${low:-0}" -gt 12000 ] || low=32768
	for _ in $(seq 1 50); do
		port=$((10000 + RANDOM % (low - 10000)))
		ss -Htan "sport = :$port" | grep -q . || { echo "$port"; return 0; }
	done
	echo "free_port: no free port below $low" >&2
	return 1
}

# Each test runs in a subshell: its namespaces and tracer die with it.
cleanup_test() {
	[ -n "$TRACER_PID" ] && kill -KILL "$TRACER_PID" 2>/dev/null
	# processes left in our namespaces (a diagnosis scenario holding its
	# sockets) would keep them alive after ip netns del
	for ns in "${NETNSES[@]}"; do ns_kill "$ns"; done
	for ns in "${NETNSES[@]}"; do ip netns del "$ns" 2>/dev/null; done
	NETNSES=()
	# cgroups a test made (container_cgroup), deepest first, once empty
	[ -n "${CTR_DIRS:-}" ] && rmdir $CTR_DIRS 2>/dev/null
	CTR_DIRS=
}

# cgroup2_mount: where cgroup v2 is mounted here (never assumed)
cgroup2_mount() { awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo; }

# container_cgroup KIND: a cgroup shaped as a container runtime makes it
# (KIND docker: /system.slice/docker-<hex>.scope; kubernetes: the systemd
# driver's pod slice and cri-containerd scope), removed by cleanup_test.
# Sets CTR_HEX (the container id), CTR_POD (pod uid, kubernetes), CTR_CG
# (the path under the mount) and CTR_PATH (the directory); 1 without cgroup2.
container_cgroup() {
	local m pod
	m=$(cgroup2_mount)
	[ -n "$m" ] || return 1
	CTR_HEX=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	case $1 in
	docker)
		CTR_POD=
		CTR_CG="/system.slice/docker-$CTR_HEX.scope"
		CTR_DIRS="$m$CTR_CG"
		;;
	kubernetes)
		CTR_POD=1c2d3e4f-0000-4000-8000-$(printf '%012x' $$)
		pod="/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${CTR_POD//-/_}.slice"
		CTR_CG="$pod/cri-containerd-$CTR_HEX.scope"
		CTR_DIRS="$m$CTR_CG $m$pod $m/kubepods.slice/kubepods-besteffort.slice $m/kubepods.slice"
		;;
	*) return 1 ;;
	esac
	CTR_PATH=$m$CTR_CG
	mkdir -p "$CTR_PATH"
}

cleanup_all() {
	cleanup_test
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}

# new_netns NAME [sysctl=value ...]: a namespace with lo up; sysctls are set
# inside it only. Prints nothing; sets NS and NS_INODE.
new_netns() {
	NS="ts-$1-$$"
	ip netns add "$NS" || return 1
	NETNSES+=("$NS")
	ip -n "$NS" link set lo up || return 1
	shift
	for kv in "$@"; do
		ip netns exec "$NS" sysctl -qw "$kv" || return 1
	done
	NS_INODE=$(ip netns exec "$NS" stat -L -c %i /proc/self/ns/net)
}

in_ns() { ip netns exec "$NS" "$@"; }

# skip REASON: the test is skipped (counted apart by tests/run.sh); use as
# "skip 'why'; return" or "|| { skip 'why'; return; }"
skip() {
	echo "  skip: $*" >&2
	return 77
}

# start_tracer OUTFILE [tcpscope trace options...]: returns once attached.
start_tracer() {
	local out=$1
	shift
	TRACER_ERR="$out.err"
	# emptied here, before the start: a reused file would say "attached"
	# from the previous run until the new process truncates it
	: >"$TRACER_ERR"
	# shellcheck disable=SC2086 # TRACE_EXTRA: options for every run (VM tiers)
	"$TCPSCOPE" trace -F json -o "$out" ${TRACE_EXTRA:-} "$@" 2>"$TRACER_ERR" &
	TRACER_PID=$!
	attached "$TRACER_ERR" "$TRACER_PID" && return 0
	echo "tracer did not start:" >&2
	cat "$TRACER_ERR" >&2
	return 1
}

# stop_pid PID SIGNAL ERRFILE: send SIGNAL, wait (bounded, 5 s), and check
# that it exited 0 (else its stderr, ERRFILE, is shown)
stop_pid() {
	local rc
	kill "-$2" "$1"
	for _ in $(seq 1 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	wait "$1"
	rc=$?
	TRACER_PID=
	if [ "$rc" != 0 ]; then
		echo "  $(basename "$TCPSCOPE") exited $rc on SIG$2:" >&2
		tail -n 5 "$3" >&2
		return 1
	fi
}

# stop_tracer: SIGINT, wait (bounded), and check it exited 0.
stop_tracer() {
	sleep 0.3 # let the last events reach the ring buffer reader
	stop_pid "$TRACER_PID" INT "${TRACER_ERR:-/dev/null}"
}

# Events of our namespace only (the host keeps running meanwhile).
ours() { jq -c --argjson ns "$NS_INODE" 'select(.netns == $ns)' "$1"; }

# expect DESCRIPTION JQ-EXPR FILE: the expression, applied to the array of
# our events, must be true.
expect() {
	local what=$1 expr=$2 file=$3
	if jq -e -s "$expr" "$file" >/dev/null 2>&1; then
		return 0
	fi
	echo "  expected: $what" >&2
	echo "  jq: $expr" >&2
	echo "  tracer: $(tail -1 "${TRACER_ERR:-/dev/null}" 2>/dev/null)" >&2
	echo "  events (${DUMP_FILTER:-all}):" >&2
	jq -c "${DUMP_FILTER:-.}" "$file" | sed 's/^/    /' | head -${DUMP_LINES:-40} >&2
	return 1
}

# netstat_counter NAME: a TcpExt counter of $NS, from /proc/net/netstat
netstat_counter() {
	in_ns awk -v name="$1" '$1 == "TcpExt:" { if (!h) { for (i = 2; i <= NF; i++) col[$i] = i; h = 1 } else print $col[name] }' /proc/net/netstat
}

# scenario_start NAME SCENARIO [ARG]: the scenario in our namespace, ready;
# SC_PID is the scenario itself (ip netns exec execs it: signals reach it)
scenario_start() {
	local name=$1 sc=$2 arg=${3:-}
	if [ -n "${SCENARIO_CGROUP:-}" ]; then # a directory of the cgroup2 mount to run it in
		sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$SCENARIO_CGROUP" \
			ip netns exec "$NS" "$SCENARIO" "$sc" 127.0.0.1 8080 $arg >"$TMP/$name.sc" 2>"$TMP/$name.sc.err" &
	else
		ip netns exec "$NS" "$SCENARIO" "$sc" 127.0.0.1 8080 $arg >"$TMP/$name.sc" 2>"$TMP/$name.sc.err" &
	fi
	SC_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$TMP/$name.sc" ] && break
		kill -0 "$SC_PID" 2>/dev/null || break
		sleep 0.1
	done
	SC=$(head -1 "$TMP/$name.sc")
	[ -n "$SC" ] || { echo "  scenario $sc did not get ready: $(cat "$TMP/$name.sc.err")" >&2; return 1; }
}

scenario_stop() {
	[ -n "${SC_PID:-}" ] || return 0
	kill -TERM "$SC_PID" 2>/dev/null
	wait "$SC_PID" 2>/dev/null
	SC_PID=
}
