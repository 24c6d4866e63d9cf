/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Trace files named *.gz are written through zlib (read back by replay.c,
 * which reads compressed and plain files alike). */
#ifndef GZFILE_H
#define GZFILE_H
#include <stdbool.h>
#include <stdio.h>

bool gz_wanted(const char *path); /* the name ends in ".gz" */
/* A FILE whose writes are compressed into path; NULL with errno set. */
FILE *gz_fopen_write(const char *path);

/* Make what was written to every open gzip output readable from the file
 * (zlib's Z_SYNC_FLUSH): the run loop calls it every second, so a kill or a
 * crash loses at most the last second of a .gz trace. */
int gz_sync_all(void);

#endif
