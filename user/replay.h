/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading a trace back: a JSON Lines file written by `tcpscope trace -F
 * json` (gzip-compressed or not) is turned into the same sink calls the
 * live run made (run, netns, census, events, lost), so a model fed from the
 * file reaches the same findings. */
#ifndef REPLAY_H
#define REPLAY_H
#include <stddef.h>
#include "sink.h"

/* 0, or -1 with a message naming the file and line in err. */
int replay_file(const char *path, struct sink *s, char *err, size_t errlen);

/* Parse one record (a line without its newline) into sink calls; exposed for
 * the unit tests. 0, 1 for a record type this version does not know, -1
 * with a message. */
int replay_line(const char *line, size_t len, struct sink *s, char *err, size_t errlen);

#endif
