// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcpscope: watch the TCP connection lifecycle from inside the kernel.
 * main() parses the command line (options.c) and runs the command
 * (commands.c); every live command runs the one pipeline (pipeline.c):
 *   loader (BPF, ring buffer) -> decode -> tracker -> sinks
 */
#include "commands.h"
#include "options.h"

int main(int argc, char **argv)
{
	struct options o;
	int ret = options_parse(argc, argv, &o);

	return ret ? ret : o.command->run(&o);
}
