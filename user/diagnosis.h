/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The diagnosis as printed by `diagnose` and `report`: a summary of the run
 * (states at start and now, event rates, blind spots), the findings, and
 * the sysctls that matter per namespace; text for a person or one JSON
 * object. */
#ifndef DIAGNOSIS_H
#define DIAGNOSIS_H
#include <stdio.h>
#include "findings.h"
#include "model.h"

void diagnosis_print_text(const struct model *m, const struct findings *fs, FILE *out);
void diagnosis_print_json(const struct model *m, const struct findings *fs, FILE *out);

#endif
