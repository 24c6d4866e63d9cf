/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * serve's HTTP side (libmicrohttpd): GET or HEAD of the metrics' path
 * renders them (OpenMetrics when the Accept header asks for it), /healthz
 * says ok, / links both; anything else is 404 (405 for other methods). It
 * runs in the caller's loop: poll http_fd(), then http_run(). Connections
 * are capped and idle ones time out. The static build (make STATIC=1, for
 * the VM tests) has no libmicrohttpd: http_start() says so (http_none.c).
 */
#ifndef HTTP_H
#define HTTP_H
#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_CONNECTIONS 64
#define HTTP_IDLE_TIMEOUT_S 10

struct http;

/* render: the body (malloc'd; NULL when out of memory), OpenMetrics if om */
typedef char *(*http_render_fn)(void *ctx, bool om, size_t *len);

/* Serve on listen_fd (bound and listening); NULL with a message in err */
struct http *http_start(int listen_fd, const char *path, http_render_fn render, void *ctx,
			char *err, size_t errlen);
/* Readable when http_run() has work */
int http_fd(const struct http *h);
/* Serve what is ready, without waiting */
void http_run(struct http *h);
void http_stop(struct http *h);

#endif
