// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcpscope serve: the pipeline into the model (as diagnose) and the event
 * counters; between polls, HTTP (http.c, driven from the pipeline's loop:
 * one thread, no lock on the model) or the textfile's rewrite, the
 * namespaces' sysctls and counters every SERVE_NSINFO_NS, and at the end
 * of every window a self-check against a census and a new window for the
 * findings (model_rebase). A scrape computes everything from the model.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "commands.h"
#include "counters.h"
#include "findings.h"
#include "fmt.h"
#include "http.h"
#include "metrics.h"
#include "pipeline.h"

#define DEFAULT_WINDOW_NS (60ULL * NSEC_PER_SEC)
#define SERVE_NSINFO_NS (10ULL * NSEC_PER_SEC)
#define TEXTFILE_INTERVAL_NS (15ULL * NSEC_PER_SEC)
#define DEFAULT_MAX_COMMS 20
#define DEFAULT_MAX_DESTS 20
#define DEFAULT_MAX_SERIES 10000

struct serve {
	const struct options *o;
	struct pipeline *p;
	struct model model;
	struct counters counters;
	struct sink counters_sink;
	struct findings prev; /* of the window that ended last */
	bool have_prev;
	struct http *httpd;
	int listen_fd;
	const char *path; /* the metrics' */
	char textfile[4096], textfile_tmp[4096];
	uint64_t next_nsinfo_ns, window_end_ns, next_textfile_ns, textfile_interval_ns;
	uint64_t window_ns;
	uint64_t self_checks, drift, scrapes;
	double last_scrape_s;
	char kernel[128];
};

/* The exposition into a malloc'd buffer; NULL when out of memory */
static char *render(void *ctx, bool om, size_t *len)
{
	struct serve *s = ctx;
	struct findings fs;
	struct metrics_stats st;
	char *buf = NULL;
	FILE *f;
	uint64_t t0 = mono_ns();
	bool ok;

	model_advance(&s->model, t0);
	ok = !findings_compute(&s->model, &fs);
	f = open_memstream(&buf, len);
	if (f) {
		struct metrics_input in = {
			.m = &s->model,
			.c = &s->counters,
			.fs = &fs,
			.fs_prev = s->have_prev ? &s->prev : NULL,
			.t = &s->p->tracker,
			.lad = s->p->loader ? loader_ladder(s->p->loader) : NULL,
			.version = TCPSCOPE_VERSION,
			.kernel = s->kernel,
			.max_comms = s->o->top_comms ? s->o->top_comms : DEFAULT_MAX_COMMS,
			.max_dests = s->o->top_dests ? s->o->top_dests : DEFAULT_MAX_DESTS,
			.max_series = s->o->max_series ? s->o->max_series : DEFAULT_MAX_SERIES,
			.window_s = s->window_ns / (double)NSEC_PER_SEC,
			.self_checks = s->self_checks,
			.drift = s->drift,
			.scrapes = ++s->scrapes,
			.last_scrape_s = s->last_scrape_s,
		};
		metrics_write(f, &in, om, &st);
		if (ferror(f))
			ok = false;
		if (fclose(f))
			ok = false;
	} else {
		ok = false;
	}
	findings_free(&fs);
	s->last_scrape_s = (mono_ns() - t0) / (double)NSEC_PER_SEC;
	if (!ok) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The listening socket, made before anything is loaded: a taken port or a
 * bad address is a usage error. "ADDR:PORT", "[V6]:PORT" or ":PORT" (every
 * address). */
static int open_listener(const char *spec, char *err, size_t errlen)
{
	char host[256], *port;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE },
			*ai = NULL;
	int fd, one = 1, rc;

	if (strlen(spec) >= sizeof(host))
		goto bad;
	strcpy(host, spec);
	port = strrchr(host, ':');
	if (!port || !port[1])
		goto bad;
	*port++ = 0;
	if (host[0] == '[') {
		size_t n = strlen(host);

		if (n < 2 || host[n - 1] != ']')
			goto bad;
		host[n - 1] = 0;
		memmove(host, host + 1, n - 1);
	} else if (strchr(host, ':')) {
		goto bad; /* an IPv6 address needs its brackets */
	}
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "--web.listen-address %s: %s; use ADDR:PORT (e.g. %s, "
			 "[::1]:%s, :%s for every address)", spec, gai_strerror(rc),
			 SERVE_DEFAULT_LISTEN, SERVE_DEFAULT_PORT, SERVE_DEFAULT_PORT);
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
		snprintf(err, errlen, "--web.listen-address %s: %s%s", spec, strerror(errno),
			 errno == EADDRINUSE ? " (another program has it: choose another port)" : "");
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
bad:
	snprintf(err, errlen, "--web.listen-address %s: not ADDR:PORT (e.g. %s, [::1]:%s, :%s for "
		 "every address)", spec, SERVE_DEFAULT_LISTEN, SERVE_DEFAULT_PORT,
		 SERVE_DEFAULT_PORT);
	return -1;
}

/* DIR/tcpscope.prom, written whole then renamed (node_exporter's textfile
 * collector never reads half a file) */
static int write_textfile(struct serve *s)
{
	size_t len;
	char *body = render(s, false, &len);
	int fd = -1, ret = -1;

	if (!body) {
		errno = ENOMEM;
		return -1;
	}
	fd = open(s->textfile_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0 && write(fd, body, len) == (ssize_t)len && !fsync(fd) && !close(fd)) {
		fd = -1;
		ret = rename(s->textfile_tmp, s->textfile);
	}
	if (fd >= 0)
		close(fd);
	free(body);
	return ret;
}

/* The end of a window: the self-check repairs the model; the findings of
 * the window are kept (they hold through the next one); a new window */
static void end_window(struct serve *s, uint64_t now)
{
	int64_t drift[TS_STATE_MAX] = { 0 };

	if (s->p->check && !pipeline_self_check(s->p, drift)) {
		s->self_checks++;
		s->drift = 0;
		for (int i = 0; i < TS_STATE_MAX; i++)
			s->drift += drift[i] < 0 ? -drift[i] : drift[i];
	}
	model_advance(&s->model, now);
	if (s->have_prev)
		findings_free(&s->prev);
	s->have_prev = !findings_compute(&s->model, &s->prev);
	if (!s->have_prev)
		findings_free(&s->prev);
	model_rebase(&s->model, now);
}

static int serve_tick(void *ctx, uint64_t now, const struct ladder *l, char *failed, size_t len)
{
	struct serve *s = ctx;

	if (!s->window_end_ns) {
		s->window_end_ns = now + s->window_ns;
		s->next_nsinfo_ns = now + SERVE_NSINFO_NS;
	}
	if (now >= s->next_nsinfo_ns) {
		pipeline_refresh_nsinfo(&s->model);
		s->next_nsinfo_ns = now + SERVE_NSINFO_NS;
	}
	if (now >= s->window_end_ns) {
		end_window(s, now);
		s->window_end_ns = now + s->window_ns;
	}
	if (s->httpd)
		http_run(s->httpd);
	if (s->textfile[0] && now >= s->next_textfile_ns) {
		s->next_textfile_ns = now + s->textfile_interval_ns;
		if (write_textfile(s)) {
			snprintf(failed, len, "writing %s failed: %s", s->textfile, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int cmd_serve(struct options *o)
{
	struct serve *s = calloc(1, sizeof(*s));
	struct pipeline p = { .doing = "serving" };
	struct pipeline_mode mode = { .tick = serve_tick, .poll_ms = 100, .wake_fd = -1 };
	struct utsname u;
	char err[512];
	int ret;

	if (!s) {
		fprintf(stderr, "tcpscope: out of memory\n");
		return 1;
	}
	s->o = o;
	s->p = &p;
	s->listen_fd = -1;
	s->path = o->telemetry_path ? o->telemetry_path : "/metrics";
	s->window_ns = o->window_ns ? o->window_ns : DEFAULT_WINDOW_NS;
	uname(&u);
	snprintf(s->kernel, sizeof(s->kernel), "%s", u.release);
	/* Output problems surface before anything is loaded. */
	if (o->textfile_dir) {
		struct stat st;
		int fd;

		snprintf(s->textfile, sizeof(s->textfile), "%s/tcpscope.prom", o->textfile_dir);
		snprintf(s->textfile_tmp, sizeof(s->textfile_tmp), "%s/.tcpscope.prom.tmp",
			 o->textfile_dir);
		if (stat(o->textfile_dir, &st) || !S_ISDIR(st.st_mode) ||
		    (fd = open(s->textfile_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
			fprintf(stderr, "tcpscope: --textfile %s: %s; give an existing directory "
					"tcpscope can write (node_exporter's "
					"--collector.textfile.directory)\n", o->textfile_dir,
				errno ? strerror(errno) : "not a directory");
			free(s);
			return EXIT_USAGE;
		}
		close(fd);
		s->textfile_interval_ns = o->interval_ns ? o->interval_ns : TEXTFILE_INTERVAL_NS;
	} else {
		s->listen_fd = open_listener(o->listen_address ? o->listen_address :
								 SERVE_DEFAULT_LISTEN, err, sizeof(err));
		if (s->listen_fd < 0) {
			fprintf(stderr, "tcpscope: %s\n", err);
			free(s);
			return EXIT_USAGE;
		}
		s->httpd = http_start(s->listen_fd, s->path, render, s, err, sizeof(err));
		if (!s->httpd) {
			fprintf(stderr, "tcpscope: %s\n", err);
			close(s->listen_fd);
			free(s);
			return EXIT_USAGE;
		}
		mode.wake_fd = http_fd(s->httpd);
	}
	model_init(&s->model);
	sink_attach_model(&p.sink, &s->model);
	counters_init(&s->counters);
	sink_attach_counters(&s->counters_sink, &s->counters);
	p.sink.next = &s->counters_sink;
	p.want_census = !o->no_census;
	p.want_nsinfo = true;
	/* the self-check needs the whole picture: the start census, no filter */
	if (p.want_census && !filter_active(&o->filter))
		p.check = &s->model;
	mode.ctx = s;
	p.mode = &mode;
	if (s->httpd)
		fprintf(stderr, "tcpscope: metrics on http://%s%s\n",
			o->listen_address ? o->listen_address : SERVE_DEFAULT_LISTEN, s->path);
	else
		fprintf(stderr, "tcpscope: metrics in %s every %.0fs\n", s->textfile,
			s->textfile_interval_ns / (double)NSEC_PER_SEC);
	ret = pipeline_run(o, &p);
	if (s->httpd)
		http_stop(s->httpd);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	/* a file left behind would be read as the present by node_exporter */
	if (s->textfile[0]) {
		unlink(s->textfile);
		unlink(s->textfile_tmp);
	}
	if (s->have_prev)
		findings_free(&s->prev);
	model_free(&s->model);
	free(s);
	return ret;
}
