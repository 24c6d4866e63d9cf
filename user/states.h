/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* TCP state names: kernel names for JSON/CSV, brief names for text, and
 * the ss vocabulary (with groups) for --state. */
#ifndef STATES_H
#define STATES_H
#include <stdint.h>

/* "ESTABLISHED", "CLOSE_WAIT", ...; an unknown number gives "STATE_<n>". */
const char *state_kernel_name(int state);
/* At most 7 characters, for 80-column text: "ESTAB", "CLOSEWT", ... */
const char *state_brief_name(int state);
/* Parse one ss state name or group ("time-wait", "TIME_WAIT", "connected",
 * ...; case, '-' and '_' ignored) into a bit mask of states (1 << state).
 * Returns 0 on success, -1 for an unknown name. */
int state_parse(const char *name, uint32_t *mask);

#endif
