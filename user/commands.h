/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The commands: each is a short function that picks the pipeline's sinks
 * (commands.c; serve in serve.c), found by name in one table.
 */
#ifndef COMMANDS_H
#define COMMANDS_H
#include <stdbool.h>
#include "options.h"

/* serve's default address: loopback only (scraping from elsewhere is the
 * user's explicit choice); a port outside the well-known exporters' */
#define SERVE_DEFAULT_PORT "19977"
#define SERVE_DEFAULT_LISTEN "127.0.0.1:" SERVE_DEFAULT_PORT

struct command {
	const char *name;
	int (*run)(struct options *o); /* the exit status */
	bool takes_file;	       /* report FILE */
	const char *args, *doc;	       /* its --help: usage line, text (argp's doc) */
};

/* The command of that name, or NULL */
const struct command *command_find(const char *name);
/* "trace, diagnose, top, report, hooks or serve" */
const char *command_names(void);

int cmd_serve(struct options *o); /* serve.c */

#endif
