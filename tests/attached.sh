# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The one readiness test of the tests (sourced by tests/lib.sh, exact.sh,
# soak.sh).

# attached ERRFILE PID [SECONDS]: until the tcpscope whose stderr is ERRFILE
# says it is attached ("tcpscope: tracing ...; Ctrl-C to stop", the same for
# diagnosing, watching, serving), at most SECONDS (10); fails at once when
# PID has ended. The one readiness test of every test. ERRFILE must be
# emptied before PID starts (a reused file says "attached" from the
# previous run until the new process truncates it).
attached() {
	local i
	for ((i = 0; i < ${3:-10} * 20; i++)); do
		grep -q '^tcpscope: [a-z]*ing.*; Ctrl-C to stop$' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
