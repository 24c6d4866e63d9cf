// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <zlib.h>
#include "gzfile.h"

bool gz_wanted(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	return n > 3 && !strcmp(path + n - 3, ".gz");
}

static ssize_t gz_write(void *cookie, const char *buf, size_t size)
{
	int n;

	if (!size)
		return 0;
	n = gzwrite(cookie, buf, (unsigned)size);
	if (n <= 0) {
		int zerr;

		gzerror(cookie, &zerr);
		if (zerr != Z_ERRNO)
			errno = EIO;
		return -1;
	}
	return n;
}

static int gz_close(void *cookie)
{
	int r = gzclose_w(cookie);

	if (r == Z_OK)
		return 0;
	if (r != Z_ERRNO)
		errno = EIO;
	return -1;
}

FILE *gz_fopen_write(const char *path)
{
	static const cookie_io_functions_t io = { .write = gz_write, .close = gz_close };
	gzFile z = gzopen(path, "wb6");
	FILE *f;

	if (!z) {
		if (!errno)
			errno = ENOMEM;
		return NULL;
	}
	f = fopencookie(z, "w", io);
	if (!f) {
		int e = errno;

		gzclose_w(z);
		errno = e;
	}
	return f;
}
