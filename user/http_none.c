// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* http.h for the static build (make STATIC=1): Debian's libmicrohttpd
 * links only as a shared library (its TLS dependencies have no static
 * archives), so this build serves metrics with --textfile only. */
#include <stdio.h>
#include "http.h"

struct http *http_start(int listen_fd, const char *path, http_render_fn render, void *ctx,
			char *err, size_t errlen)
{
	snprintf(err, errlen, "this static build of tcpscope has no HTTP server: use serve "
		 "--textfile DIR, or the dynamically linked build");
	return NULL;
}

int http_fd(const struct http *h)
{
	return -1;
}

void http_run(struct http *h)
{
}

void http_stop(struct http *h)
{
}
