// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* serve's HTTP side with libmicrohttpd (http.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "http.h"
#include "metrics.h"

struct http {
	struct MHD_Daemon *d;
	int epoll_fd;
	const char *path;
	http_render_fn render;
	void *ctx;
};

static const char landing[] =
	"<html><head><title>tcpscope</title></head><body><h1>tcpscope</h1>"
	"<p>TCP connection lifecycle from inside the kernel: <a href=\"%s\">metrics</a>, "
	"<a href=\"/healthz\">health</a>.</p></body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **con_cls)
{
	struct http *s = cls;
	static char text[] = "text/plain; charset=utf-8";

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		static char msg[] = "only GET and HEAD\n";

		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, msg, sizeof(msg) - 1,
			     MHD_RESPMEM_PERSISTENT);
	}
	if (!strcmp(url, s->path)) {
		const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								 MHD_HTTP_HEADER_ACCEPT);
		bool om = accept && strstr(accept, "application/openmetrics-text");
		size_t len = 0;
		char *body = s->render(s->ctx, om, &len);

		if (!body) {
			static char msg[] = "out of memory\n";

			return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text, msg, sizeof(msg) - 1,
				     MHD_RESPMEM_PERSISTENT);
		}
		return reply(c, MHD_HTTP_OK, om ? METRICS_OM_CONTENT_TYPE : METRICS_CONTENT_TYPE,
			     body, len, MHD_RESPMEM_MUST_FREE);
	}
	if (!strcmp(url, "/healthz")) {
		static char ok[] = "ok\n";

		return reply(c, MHD_HTTP_OK, text, ok, sizeof(ok) - 1, MHD_RESPMEM_PERSISTENT);
	}
	if (!strcmp(url, "/")) {
		char *page = NULL;

		if (asprintf(&page, landing, s->path) < 0)
			return MHD_NO;
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", page, strlen(page),
			     MHD_RESPMEM_MUST_FREE);
	}
	static char nf[] = "not found: try /metrics\n";

	return reply(c, MHD_HTTP_NOT_FOUND, text, nf, sizeof(nf) - 1, MHD_RESPMEM_PERSISTENT);
}


struct http *http_start(int listen_fd, const char *path, http_render_fn render, void *ctx,
			char *err, size_t errlen)
{
	struct http *h = calloc(1, sizeof(*h));
	const union MHD_DaemonInfo *di;

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->path = path;
	h->render = render;
	h->ctx = ctx;
	/* no thread of its own: the caller's loop runs it (MHD_run) */
	h->d = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, on_request, h,
				MHD_OPTION_LISTEN_SOCKET, listen_fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
				MHD_OPTION_END);
	di = h->d ? MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!di) {
		snprintf(err, errlen, "the HTTP server (libmicrohttpd %s) did not start",
			 MHD_get_version());
		if (h->d)
			MHD_stop_daemon(h->d);
		free(h);
		return NULL;
	}
	h->epoll_fd = di->epoll_fd;
	return h;
}

int http_fd(const struct http *h)
{
	return h->epoll_fd;
}

void http_run(struct http *h)
{
	MHD_run(h->d);
}

void http_stop(struct http *h)
{
	MHD_stop_daemon(h->d);
	free(h);
}
