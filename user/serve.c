// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include "commands.h"

int cmd_serve(struct options *o)
{
	fprintf(stderr, "tcpscope: serve: not yet\n");
	return 1;
}
