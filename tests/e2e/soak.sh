# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The soak (tests/soak.sh) for two minutes: top, diagnose and trace at once
# under namespaces that come and go (churn, nginx + wrk keep-alive, a
# CLOSE_WAIT leak, ports used up): bounded RSS, constant fds, nothing lost
# but what the kernel hid (counted), drift within that. make soak
# MINUTES=30 runs the long one. Sourced by tests/run.sh.

test_soak_two_minutes() {
	real_tools tmux nginx wrk || return 0
	tests/soak.sh "${SOAK_MINUTES:-2}" "$TMP/soak"
}
