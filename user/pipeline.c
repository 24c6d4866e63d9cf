// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The engine of every live command (pipeline.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "census.h"
#include "decode.h"
#include "fmt.h"
#include "gzfile.h"
#include "ladder.h"
#include "nsinfo.h"
#include "pipeline.h"

/* How long a namespace no census can enter must be quiet before its closing
 * sockets are forgotten: past the orphan retries of a slow path */
#define GONE_QUIET_NS (10 * 60 * NSEC_PER_SEC)
#define CLOSING_STATES                                                                  \
	(1u << TS_FIN_WAIT1 | 1u << TS_FIN_WAIT2 | 1u << TS_CLOSING | 1u << TS_LAST_ACK | \
	 1u << TS_TIME_WAIT | 1u << TS_CLOSE)

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = sig;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESETHAND };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct pipeline *p = ctx;
	const struct ev_hdr *h;
	char err[128];

	h = decode(data, len, err, sizeof(err));
	if (!h) {
		p->tracker.undecodable++;
		return 0;
	}
	if (!filter_pass_netns(p->filter, h))
		return 0; /* --netns: the one filter applied here, not in the kernel */
	tracker_event(&p->tracker, h);
	if (sink_event(&p->sink, h)) {
		p->sink_errno = errno ? errno : EIO;
		return -EIO;
	}
	return 0;
}

void pipeline_refresh_nsinfo(struct model *m)
{
	struct nsinfo_set s;
	char err[256];

	if (nsinfo_take(&s, err, sizeof(err)))
		return;
	for (size_t i = 0; i < s.n; i++)
		model_nsinfo(m, s.taken_ns, true, &s.ns[i]);
	nsinfo_free(&s);
}

/* " (ringbuf_full 3, hidden_by_kernel 2)": the kinds lost so far, or nothing */
static void print_lost_kinds(FILE *f, const struct tracker *t)
{
	for (int k = 0, n = 0; k < LOST_KINDS; k++)
		if (t->lost[k])
			fprintf(f, "%s%s %llu", n++ ? ", " : " (", lost_kind_name(k),
				(unsigned long long)t->lost[k]);
	if (t->lost_total)
		fputc(')', f);
}

static int report_lost(void *ctx, int kind, uint64_t delta)
{
	struct pipeline *p = ctx;

	return sink_lost(&p->sink, mono_ns(), lost_kind_name(kind), delta);
}

static void check_lost(struct pipeline *p, bool final)
{
	uint64_t now[LOST_KINDS];
	uint64_t grown;

	loader_lost(p->loader, now);
	now[LOST_UNDECODABLE] = p->tracker.undecodable;
	grown = tracker_lost_update(&p->tracker, now, report_lost, p);
	if (grown && !final && !(p->mode && p->mode->quiet) && mono_ns() - p->last_warn_ns > NSEC_PER_SEC) {
		const uint64_t *lk = p->tracker.lost;
		bool sizes = lk[LOST_RINGBUF] || lk[LOST_MAP_FULL] || lk[LOST_EVICTED];

		p->last_warn_ns = mono_ns();
		fprintf(stderr, "tcpscope: warning: %llu events lost so far",
			(unsigned long long)p->tracker.lost_total);
		print_lost_kinds(stderr, &p->tracker);
		fprintf(stderr, "%s\n", sizes ? "; a bigger --ringbuf-size or --max-sockets may help" : "");
	}
}

/* The sockets that exist already, taken once the hooks are attached (so
 * nothing falls between the two), written before any event. */
static int write_census(const struct options *o, struct pipeline *p)
{
	struct census cs;
	char err[256];
	size_t shown = 0;
	int ret = 0;

	if (census_take(&cs, err, sizeof(err))) {
		fprintf(stderr, "tcpscope: warning: %s; no census\n", err);
		return 0;
	}
	for (size_t i = 0; i < cs.n && !ret; i++) {
		if (!filter_match_census(&o->filter, &cs.s[i]))
			continue;
		ret = sink_census(&p->sink, cs.taken_ns, &cs.s[i]);
		shown++;
	}
	if (!cs.netns_seen && cs.last_error == ENOENT)
		fprintf(stderr, "tcpscope: warning: no census: the kernel has no NETLINK_SOCK_DIAG "
				"handler for TCP; load it with 'modprobe tcp_diag'\n");
	else
		fprintf(stderr, "tcpscope: census: %zu TCP sockets in %u network namespaces "
				"(%zu written)%s\n", cs.n, cs.netns_seen, shown,
			cs.netns_failed ? ", some namespaces unreadable" : "");
	census_free(&cs);
	return ret;
}

/* A namespace's sockets of census cs, as a resync: to every sink of the
 * chain (the model is resynced, a saved trace records it) */
static int write_resync(struct pipeline *p, const struct census *cs, uint32_t netns)
{
	uint64_t count = 0;

	for (size_t j = 0; j < cs->n; j++)
		count += cs->s[j].netns == netns;
	if (sink_resync(&p->sink, cs->taken_ns, netns, count)) {
		p->sink_errno = errno ? errno : EIO;
		return -1;
	}
	for (size_t j = 0; j < cs->n; j++)
		if (cs->s[j].netns == netns && sink_census(&p->sink, cs->taken_ns, &cs->s[j])) {
			p->sink_errno = errno ? errno : EIO;
			return -1;
		}
	return 0;
}

/* The self-check: a census taken now, compared per namespace and state with
 * the model (the start census plus every event since). A namespace whose
 * sockets changed after the check began is left out: its difference would
 * be the change, not an error of the model. */
int pipeline_self_check(struct pipeline *p, int64_t drift[TS_STATE_MAX])
{
	struct model *m = p->check;
	uint64_t t0, now[TS_STATE_MAX], then[TS_STATE_MAX];
	struct census cs;
	char err[256];

	/* a timewait socket killed in the last millisecond is reported by the
	 * sweep once its cancel is 1 ms old: let it be, then take the census */
	usleep(5000);
	loader_poll(p->loader, 0);
	t0 = mono_ns();
	if (census_take(&cs, err, sizeof(err)))
		return -1;
	loader_poll(p->loader, 0); /* every event up to after the census */
	for (size_t i = 0; i < m->ns.n; i++) {
		const struct mns *n = keyed_at(&m->ns, i);

		/* changed since the census began: nothing to compare with */
		if (n->last_change_ns >= t0)
			continue;
		/* A namespace no census can enter (no process, no mount) holds
		 * only sockets its processes left closing (a user socket keeps
		 * its namespace alive). The kernel ends each within its limits
		 * (TIME_WAIT 60 s, tcp_fin_timeout, tcp_orphan_retries) and
		 * tears the namespace down; an end no event showed (hidden by
		 * the kernel, or the teardown) would keep them in the model for
		 * ever. Quiet past GONE_QUIET_NS, they are forgotten. */
		if (!census_has_netns(&cs, n->netns)) {
			if (t0 - n->last_change_ns > GONE_QUIET_NS && !cs.netns_failed)
				model_forget(m, n->netns, CLOSING_STATES);
			continue;
		}
		memset(then, 0, sizeof(then));
		for (size_t j = 0; j < cs.n; j++)
			if (cs.s[j].netns == n->netns && cs.s[j].state < TS_STATE_MAX)
				then[cs.s[j].state]++;
		model_ns_states(m, n->netns, now);
		bool off = false;

		for (int s = 0; s < TS_STATE_MAX; s++) {
			if (drift)
				drift[s] += (int64_t)now[s] - (int64_t)then[s];
			off |= now[s] != then[s];
		}
		/* the drift is reported; the findings are made from the truth,
		 * and a saved trace holds it (report resyncs as the run did) */
		if (off && write_resync(p, &cs, n->netns)) {
			census_free(&cs);
			return -2;
		}
	}
	census_free(&cs);
	return 0;
}

/* What the loader needs from the options; every command loads the same. */
struct loader_opts pipeline_loader_opts(const struct options *o,
					int (*on_record)(void *, void *, size_t), void *ctx)
{
	return (struct loader_opts){
		.filter = &o->filter,
		.ringbuf_bytes = o->ringbuf_bytes,
		.max_sockets = o->max_sockets,
		.verbose = o->verbose,
		.no_fentry = o->no_fentry,
		.no_kprobe = o->no_kprobe,
		.no_state_tp = o->no_state_tp,
		.on_record = on_record,
		.ctx = ctx,
	};
}

/* Sysctls and counters of every namespace, at start and at end. */
static int write_nsinfo(const struct options *o, struct pipeline *p, const char *phase)
{
	struct nsinfo_set s;
	char err[256];
	int ret = 0;

	if (!p->want_nsinfo)
		return 0;
	if (nsinfo_take(&s, err, sizeof(err))) {
		fprintf(stderr, "tcpscope: warning: sysctls and counters: %s\n", err);
		return 0;
	}
	for (size_t i = 0; i < s.n && !ret; i++)
		ret = sink_nsinfo(&p->sink, s.taken_ns, phase, &s.ns[i]);
	nsinfo_free(&s);
	return ret;
}

/* Close the outputs (the save sink first); 1 if anything written was lost */
static int close_sinks(struct pipeline *p)
{
	char err[512];
	int ret = 0;

	if (p->save.f && sink_close(&p->save, err, sizeof(err))) {
		fprintf(stderr, "tcpscope: %s\n", err);
		ret = 1;
	}
	if (p->sink.f && sink_close(&p->sink, err, sizeof(err))) {
		fprintf(stderr, "tcpscope: %s\n", err);
		ret = 1;
	}
	return ret;
}

/* Wait for the ring buffer (and the mode's fd) up to the mode's poll time,
 * then drain it. As loader_poll(). */
static int wait_and_poll(struct pipeline *p)
{
	const struct pipeline_mode *m = p->mode;
	int ms = m && m->poll_ms ? m->poll_ms : 100;

	if (!m || m->wake_fd < 0)
		return loader_poll(p->loader, ms);
	struct pollfd fds[2] = {
		{ .fd = loader_fd(p->loader), .events = POLLIN },
		{ .fd = m->wake_fd, .events = POLLIN },
	};
	if (poll(fds, 2, ms) < 0 && errno == EINTR)
		return -EINTR;
	return loader_consume(p->loader);
}

static void mode_end(struct pipeline *p)
{
	if (p->mode && p->mode->end)
		p->mode->end(p->mode->ctx);
}

int pipeline_run(const struct options *o, struct pipeline *p)
{
	struct loader_opts lo = pipeline_loader_opts(o, on_record, p);
	const struct pipeline_mode *mode = p->mode;
	char err[512], blind[2048];
	uint64_t deadline = 0;
	int ret = 0, n;
	char failed[600] = "";
	struct utsname u = {};
	struct run_info ri = {};

	tracker_init(&p->tracker);
	p->filter = &o->filter;
	if (loader_preflight(err, sizeof(err))) {
		fprintf(stderr, "tcpscope: %s\n", err);
		close_sinks(p);
		return EXIT_USAGE;
	}
	install_signals();
	p->loader = loader_start(&lo, err, sizeof(err));
	if (!p->loader) {
		fprintf(stderr, "tcpscope: %s\n", err);
		close_sinks(p);
		return 1;
	}
	ladder_blind_spots(loader_ladder(p->loader), true, blind, sizeof(blind));
	if (blind[0])
		fprintf(stderr, "tcpscope: blind spots: %s (tcpscope hooks tells why)\n", blind);
	ladder_blind_spots(loader_ladder(p->loader), false, blind, sizeof(blind));
	fprintf(stderr, "tcpscope: %s%s; Ctrl-C to stop\n", p->doing,
		o->duration_ns ? " for the duration" : "");
	if (o->duration_ns)
		deadline = mono_ns() + o->duration_ns;
	if (sink_begin(&p->sink))
		goto write_error;
	uname(&u);
	ri.ts_ns = mono_ns();
	ri.host = u.nodename;
	ri.kernel = u.release;
	ri.blind = blind;
	if (sink_run(&p->sink, &ri) || write_nsinfo(o, p, "start") ||
	    (p->want_census && write_census(o, p)))
		goto write_error;

	while (!exiting) {
		n = wait_and_poll(p);
		/* a signal: ours set exiting; another (SIGWINCH of a resize) is no reason to stop */
		if (n == -EINTR)
			continue;
		if (n < 0 && p->sink_errno)
			goto write_error;
		if (n < 0) {
			snprintf(failed, sizeof(failed), "reading the ring buffer failed: %s",
				 strerror(-n));
			ret = 1;
			break;
		}
		/* reading the counters costs a syscall per program: not per wakeup */
		if (mono_ns() - p->last_check_ns >= 200000000ULL) {
			p->last_check_ns = mono_ns();
			check_lost(p, false);
		}
		if (sink_flush(&p->sink))
			goto write_error;
		if (mono_ns() - p->last_sync_ns >= NSEC_PER_SEC) {
			p->last_sync_ns = mono_ns();
			if (gz_sync_all())
				goto write_error;
		}
		if (deadline && mono_ns() >= deadline)
			break;
		if (mode && mode->tick) {
			int t = mode->tick(mode->ctx, mono_ns(), loader_ladder(p->loader), failed,
					   sizeof(failed));

			if (t < 0)
				ret = 1;
			if (t)
				break;
		}
	}
	/* the terminal back before anything is said */
	mode_end(p);
	if (failed[0])
		fprintf(stderr, "tcpscope: %s\n", failed);
	/* Drain what is left, then the final accounting. */
	n = loader_poll(p->loader, 0);
	if (n < 0 && p->sink_errno)
		goto write_error;
	check_lost(p, true);
	ri = (struct run_info){ .ts_ns = mono_ns(), .end = true };
	if (p->check)
		ri.drift_measured = !pipeline_self_check(p, ri.drift);
	if (write_nsinfo(o, p, "end") || sink_run(&p->sink, &ri))
		goto write_error;
	goto done;

write_error:
	mode_end(p);
	fprintf(stderr, "tcpscope: writing %s failed: %s; stopping\n",
		p->save.ops ? p->save_path : o->output ? o->output : "standard output",
		strerror(p->sink_errno ? p->sink_errno : errno));
	ret = 1;
done:
	if (o->verbose)
		loader_report(p->loader, stderr);
	loader_stop(p->loader);
	p->loader = NULL;
	if (close_sinks(p))
		ret = 1;
	fprintf(stderr,
		"tcpscope: %llu events (%llu state, %llu timewait, %llu connect/bind, %llu port, "
		"%llu overflow), %llu lost",
		(unsigned long long)p->tracker.seen_total,
		(unsigned long long)p->tracker.seen[EV_STATE],
		(unsigned long long)p->tracker.seen[EV_TW],
		(unsigned long long)p->tracker.seen[EV_CALL],
		(unsigned long long)p->tracker.seen[EV_PORT],
		(unsigned long long)p->tracker.seen[EV_LISTEN_OVF],
		(unsigned long long)p->tracker.lost_total);
	print_lost_kinds(stderr, &p->tracker);
	fputc('\n', stderr);
	return ret;
}
