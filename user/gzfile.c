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

/* Open gzip outputs, for gz_sync_all(): a few at most (-o, --save). */
#define GZ_MAX_OPEN 8
static struct gzout {
	gzFile z;
	bool dirty; /* written since the last sync */
} open_gz[GZ_MAX_OPEN];

static struct gzout *gz_slot(gzFile z)
{
	for (int i = 0; i < GZ_MAX_OPEN; i++)
		if (open_gz[i].z == z)
			return &open_gz[i];
	return NULL;
}

int gz_sync_all(void)
{
	int ret = 0;

	for (int i = 0; i < GZ_MAX_OPEN; i++) {
		if (!open_gz[i].z || !open_gz[i].dirty)
			continue;
		open_gz[i].dirty = false;
		if (gzflush(open_gz[i].z, Z_SYNC_FLUSH) != Z_OK)
			ret = -1;
	}
	return ret;
}

static ssize_t gz_write(void *cookie, const char *buf, size_t size)
{
	struct gzout *o = gz_slot(cookie);
	int n;

	if (!size)
		return 0;
	if (o)
		o->dirty = true;
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
	struct gzout *o = gz_slot(cookie);
	int r;

	if (o)
		*o = (struct gzout){ 0 };
	r = gzclose_w(cookie);

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
	if (f) {
		struct gzout *o = gz_slot(NULL);

		if (o)
			o->z = z;
	} else {
		int e = errno;

		gzclose_w(z);
		errno = e;
	}
	return f;
}
