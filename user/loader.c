// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <zlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tcpscope.skel.h"
#include "fmt.h"
#include "loader.h"
#include "probe.h"

#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define TRACEFS_MAGIC 0x74726163
#define LRU_MAX_USER 2 /* socks, tws: enum lru_id in common.bpf.h */

struct loader {
	struct tcpscope_bpf *skel;
	struct ring_buffer *rb;
	uint32_t max_sockets;
	bool sweep_failed;
	char kconfig[32];
	struct bpf_program *tw_hook; /* fentry or kprobe on tcp_time_wait, or NULL */
	struct bpf_link *tw_link;
	struct bpf_link *twin_link[2];
	char tw_hook_why[300];
	uint64_t last_sweep_ns;
	char blind[512];
};

static int verbosity;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && verbosity < 2)
		return 0;
	if (level == LIBBPF_INFO && verbosity < 1)
		return 0;
	if (level == LIBBPF_WARN && verbosity < 1)
		return 0; /* failures are reported by us, with a remedy */
	return vfprintf(stderr, fmt, args);
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

int loader_preflight(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data) == 0 && !has_cap(data, CAP_SYS_ADMIN) &&
	    !(has_cap(data, 39 /* CAP_BPF */) && has_cap(data, 38 /* CAP_PERFMON */))) {
		snprintf(err, errlen,
			 "missing capabilities: need CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); "
			 "run as root, e.g. sudo tcpscope ...");
		return -1;
	}
	if (access(BTF_PATH, R_OK)) {
		snprintf(err, errlen,
			 "no kernel BTF at %s: tcpscope needs a kernel built with "
			 "CONFIG_DEBUG_INFO_BTF=y (Linux 5.5+)",
			 BTF_PATH);
		return -1;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1) {
		snprintf(err, errlen,
			 "this kernel has no BPF ring buffer: tcpscope needs Linux 5.8 or newer");
		return -1;
	}
	return 0;
}

/* Classic (syscall) tracepoints are found through tracefs; mount it where
 * the kernel expects it when nobody has. */
static bool ensure_tracefs(void)
{
	struct statfs st;

	if (!access("/sys/kernel/tracing/events/syscalls", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events/syscalls", F_OK))
		return true;
	if (statfs("/sys/kernel/tracing", &st) == 0 && st.f_type == TRACEFS_MAGIC)
		return false; /* mounted, yet no syscall events: CONFIG_FTRACE_SYSCALLS off */
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return false;
	return !access("/sys/kernel/tracing/events/syscalls", F_OK);
}

static uint64_t kallsyms_lookup(const char *name)
{
	char line[256], sym[128], type;
	unsigned long long addr;
	uint64_t found = 0;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %127s", &addr, &type, sym) == 3 && !strcmp(sym, name)) {
			found = addr;
			break;
		}
	}
	fclose(f);
	return found;
}

/* CONFIG_HZ, for timer lengths in milliseconds. The BPF object gets it as
 * kconfig text, so libbpf needs no config file (Debian kernels have no
 * /proc/config.gz). From the config when there is one, else measured. */
static int config_hz_from(const char *path)
{
	char line[256];
	int hz = 0;
	gzFile f = gzopen(path, "r"); /* reads plain files too */

	if (!f)
		return 0;
	while (!hz && gzgets(f, line, sizeof(line)))
		if (!strncmp(line, "CONFIG_HZ=", 10))
			hz = atoi(line + 10);
	gzclose(f);
	return hz;
}

static int timer_list_sample(uint64_t *now_ns, uint64_t *jiffies)
{
	char line[256];
	int got = 0;
	FILE *f = fopen("/proc/timer_list", "r");

	if (!f)
		return -1;
	while (got != 3 && fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (!(got & 1) && sscanf(line, "now at %llu nsecs", &v) == 1) {
			*now_ns = v;
			got |= 1;
		} else if (!(got & 2) && sscanf(line, "jiffies: %llu", &v) == 1) {
			*jiffies = v;
			got |= 2;
		}
	}
	fclose(f);
	return got == 3 ? 0 : -1;
}

static int kernel_hz(void)
{
	static const int common[] = { 100, 250, 300, 1000 };
	uint64_t t0, j0, t1, j1;
	struct utsname u;
	char path[320];
	int hz = config_hz_from("/proc/config.gz");

	if (!hz && !uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		hz = config_hz_from(path);
	}
	if (hz)
		return hz;
	if (timer_list_sample(&t0, &j0))
		return 0;
	usleep(60000);
	if (timer_list_sample(&t1, &j1) || t1 <= t0)
		return 0;
	double est = (double)(j1 - j0) * 1e9 / (double)(t1 - t0);
	int best = 0;

	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (!best || fabs(common[i] - est) < fabs(best - est))
			best = common[i];
	return fabs(best - est) < best * 0.2 ? best : 0;
}

static void blind(struct loader *l, const char *what)
{
	size_t n = strlen(l->blind);

	snprintf(l->blind + n, sizeof(l->blind) - n, "%s%s", n ? "; " : "", what);
}

static void set_filters(struct tcpscope_bpf *skel, const struct filter *f)
{
	struct tcpscope_bpf__rodata *r = skel->rodata;

	r->filt_npids = f->npids;
	memcpy((void *)r->filt_pids, f->pids, sizeof(f->pids));
	r->filt_ncomms = f->ncomms;
	memcpy((void *)r->filt_comms, f->comms, sizeof(f->comms));
	r->filt_nlports = f->nlports;
	memcpy((void *)r->filt_lports, f->lports, sizeof(f->lports));
	r->filt_nrports = f->nrports;
	memcpy((void *)r->filt_rports, f->rports, sizeof(f->rports));
	r->filt_family = f->family;
	r->filt_state_mask = f->state_mask;
}

struct loader *loader_start(const struct loader_opts *o, char *err, size_t errlen)
{
	struct loader *l = calloc(1, sizeof(*l));
	struct tcpscope_bpf *skel;
	uint64_t tw_fn;
	bool calls;
	int ret;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	verbosity = o->verbose;
	libbpf_set_print(print_fn);
	l->max_sockets = o->max_sockets;

	snprintf(l->kconfig, sizeof(l->kconfig), "CONFIG_HZ=%d\n", kernel_hz());
	LIBBPF_OPTS(bpf_object_open_opts, oo, .kconfig = l->kconfig);
	skel = tcpscope_bpf__open_opts(&oo);
	if (!skel) {
		snprintf(err, errlen, "opening the BPF object failed: %s", strerror(errno));
		goto fail;
	}
	l->skel = skel;

	set_filters(skel, o->filter);
	/* wake the reader when each CPU has filled about 1/8 of the buffer */
	skel->rodata->wakeup_every = o->ringbuf_bytes / 8 / sizeof(struct ev_state) / libbpf_num_possible_cpus() ?: 1;
	bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes);
	bpf_map__set_max_entries(skel->maps.socks, o->max_sockets);
	bpf_map__set_max_entries(skel->maps.tws, o->max_sockets);
	/* a namespace exit cancels all its timewait timers at once */
	bpf_map__set_max_entries(skel->maps.tw_cancel, o->max_sockets);

	/* TIME_WAIT through tw_timer_handler's timer events. */
	tw_fn = kallsyms_lookup("tw_timer_handler");
	skel->rodata->tw_timer_fn = tw_fn;
	if (!tw_fn) {
		blind(l, "TIME_WAIT entry/end: tw_timer_handler not in /proc/kallsyms");
		bpf_program__set_autoload(skel->progs.on_timer_start, false);
		bpf_program__set_autoload(skel->progs.on_timer_start_nested, false);
		bpf_program__set_autoload(skel->progs.on_timer_expire, false);
		bpf_program__set_autoload(skel->progs.on_timer_cancel, false);
		bpf_program__set_autoload(skel->progs.tw_sweep, false);
	}

	calls = ensure_tracefs();
	skel->rodata->want_syscalls = calls;
	if (!calls) {
		blind(l, "bind() results, and owners of accepted sockets (the listener's owner "
			 "is shown): no syscall tracepoints (tracefs or CONFIG_FTRACE_SYSCALLS)");
		bpf_program__set_autoload(skel->progs.on_bind_enter, false);
		bpf_program__set_autoload(skel->progs.on_bind_exit, false);
		bpf_program__set_autoload(skel->progs.on_accept_exit, false);
		bpf_program__set_autoload(skel->progs.on_accept4_exit, false);
	}

	/* tcp_time_wait() itself (overflow per socket): fentry, else kprobe,
	 * else nothing; chosen by trying, attached by hand below. */
	bpf_program__set_autoattach(skel->progs.fe_tcp_time_wait, false);
	bpf_program__set_autoattach(skel->progs.kp_tcp_time_wait, false);
	bpf_program__set_autoload(skel->progs.fe_tcp_time_wait, false);
	bpf_program__set_autoload(skel->progs.kp_tcp_time_wait, false);
	if (tw_fn) {
		char why_fe[128], why_kp[128];

		if (o->no_fentry)
			snprintf(why_fe, sizeof(why_fe), "fentry: disabled by --no-fentry");
		if (o->no_kprobe)
			snprintf(why_kp, sizeof(why_kp), "kprobe: disabled by --no-kprobe");
		if (!o->no_fentry && probe_fentry("tcp_time_wait", why_fe, sizeof(why_fe))) {
			l->tw_hook = skel->progs.fe_tcp_time_wait;
		} else if (!o->no_kprobe && probe_kprobe("tcp_time_wait", why_kp, sizeof(why_kp))) {
			l->tw_hook = skel->progs.kp_tcp_time_wait;
		} else {
			snprintf(l->tw_hook_why, sizeof(l->tw_hook_why), "%s; %s", why_fe, why_kp);
			blind(l, "which closes tcp_max_tw_buckets refused a FIN_WAIT2-substate timewait "
				 "socket (TIME_WAIT ones are inferred)");
		}
		if (l->tw_hook)
			bpf_program__set_autoload(l->tw_hook, true);
	}
	/* the second of each pair must run after the first: attached by hand,
	 * after the skeleton's (a tracepoint calls its programs in order) */
	bpf_program__set_autoattach(skel->progs.on_set_state_nested, false);
	bpf_program__set_autoattach(skel->progs.on_timer_start_nested, false);
	/* run on demand by sweep_timewait(), never attached */
	bpf_program__set_autoattach(skel->progs.tw_sweep, false);
	ret = tcpscope_bpf__load(skel);
	if (ret) {
		snprintf(err, errlen,
			 "loading the BPF programs failed: %s (-%s); run with -v to see the "
			 "verifier's log",
			 strerror(-ret), fmt_errno(ret));
		goto fail;
	}
	ret = tcpscope_bpf__attach(skel);
	if (ret) {
		snprintf(err, errlen, "attaching the BPF programs failed: %s (-%s); run with -v",
			 strerror(-ret), fmt_errno(ret));
		goto fail;
	}
	for (int i = 0; i < 2; i++) {
		struct bpf_program *p = i ? skel->progs.on_timer_start_nested :
					    skel->progs.on_set_state_nested;

		if (bpf_program__fd(p) < 0)
			continue; /* not loaded on this kernel */
		l->twin_link[i] = bpf_program__attach(p);
		if (!l->twin_link[i]) {
			snprintf(err, errlen, "attaching %s failed: %s", bpf_program__name(p),
				 strerror(errno));
			goto fail;
		}
	}
	if (l->tw_hook) {
		l->tw_link = bpf_program__attach(l->tw_hook);
		if (!l->tw_link) {
			snprintf(l->tw_hook_why, sizeof(l->tw_hook_why), "%s: %s at attach",
				 bpf_program__name(l->tw_hook), fmt_errno(errno));
			blind(l, "which closes tcp_max_tw_buckets refused a FIN_WAIT2-substate timewait "
				 "socket (TIME_WAIT ones are inferred)");
			l->tw_hook = NULL;
		}
	}
	l->rb = ring_buffer__new(bpf_map__fd(skel->maps.events),
				 (ring_buffer_sample_fn)o->on_record, o->ctx, NULL);
	if (!l->rb) {
		snprintf(err, errlen, "ring buffer setup failed: %s", strerror(errno));
		goto fail;
	}
	return l;
fail:
	loader_stop(l);
	return NULL;
}

/* Timewait sockets killed early are found by a sweep, run from here. */
static void sweep_timewait(struct loader *l)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int fd = bpf_program__fd(l->skel->progs.tw_sweep);
	struct timespec ts;
	uint64_t now;

	/* walking the hash costs its size, empty or not: only when needed */
	if (fd < 0 || l->skel->bss->tw_cancel_live <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (now - l->last_sweep_ns < 20000000ULL)
		return;
	l->last_sweep_ns = now;
	if (bpf_prog_test_run_opts(fd, &opts) && !l->sweep_failed) {
		l->sweep_failed = true;
		blind(l, "TIME_WAIT sockets killed early (sweep failed to run)");
		fprintf(stderr, "tcpscope: warning: the timewait sweep cannot run: %s\n",
			strerror(errno));
	}
}

int loader_poll(struct loader *l, int timeout_ms)
{
	int n;

	sweep_timewait(l);
	n = ring_buffer__poll(l->rb, timeout_ms);

	if (n < 0)
		return n;
	/* Producers rarely wake us (batched wakeups): drain what is there. */
	int m = ring_buffer__consume(l->rb);

	return m < 0 ? m : n + m;
}

static uint64_t recursion_misses(struct bpf_program *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_program__fd(p);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.recursion_misses;
}

void loader_lost(struct loader *l, uint64_t out[LOST_KINDS])
{
	struct tcpscope_bpf *s = l->skel;
	struct bpf_program *p;
	int64_t evicted = 0;

	memset(out, 0, sizeof(uint64_t) * LOST_KINDS);
	out[LOST_RINGBUF] = s->bss->drops[DROP_RINGBUF];
	out[LOST_MAP_FULL] = s->bss->drops[DROP_MAP_FULL];
	/* inserts - deletes above capacity means the LRU evicted live entries
	 * (a lower bound: the tracker keeps the high-water mark). */
	for (int i = 0; i < LRU_MAX_USER; i++) {
		int64_t over = s->bss->lru_live[i] - (int64_t)l->max_sockets;

		if (over > 0)
			evicted += over;
	}
	out[LOST_EVICTED] = (uint64_t)evicted;
	/* Programs that come in pairs (see TWIN_* in the BPF code): the first
	 * one's misses minus the invocations its twin took over. The twin's
	 * own misses are invocations the first handled, unless both missed,
	 * which the first one's count already holds. Others: every miss. */
	struct {
		struct bpf_program *outer, *twin;
		int hook;
	} pairs[] = {
		{ s->progs.on_set_state, s->progs.on_set_state_nested, 0 },
		{ s->progs.on_timer_start, s->progs.on_timer_start_nested, 1 },
	};
	bpf_object__for_each_program(p, s->obj) {
		bool paired = false;

		for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
			if (p == pairs[i].twin) {
				paired = true;
			} else if (p == pairs[i].outer) {
				uint64_t m = recursion_misses(p), r = s->bss->twin_rescued[pairs[i].hook];

				out[LOST_RECURSION] += m > r ? m - r : 0;
				paired = true;
			}
		}
		if (!paired && p != s->progs.tw_sweep)
			out[LOST_RECURSION] += recursion_misses(p);
	}
}

void loader_report(struct loader *l, FILE *f)
{
	struct bpf_program *p;

	if (l->tw_hook)
		fprintf(f, "tcpscope: tcp_time_wait hooked with %s\n", bpf_program__name(l->tw_hook));
	else if (l->tw_hook_why[0])
		fprintf(f, "tcpscope: tcp_time_wait not hooked: %s\n", l->tw_hook_why);

	bpf_object__for_each_program(p, l->skel->obj) {
		uint64_t m = recursion_misses(p);

		if (m)
			fprintf(f, "tcpscope: program %s: %llu recursion misses\n", bpf_program__name(p),
				(unsigned long long)m);
	}
	for (int i = 0; i < 2; i++)
		if (l->skel->bss->twin_rescued[i])
			fprintf(f, "tcpscope: twin %d rescued %llu nested invocations\n", i,
				(unsigned long long)l->skel->bss->twin_rescued[i]);
}

const char *loader_blind_spots(const struct loader *l)
{
	return l->blind;
}

void loader_stop(struct loader *l)
{
	if (!l)
		return;
	bpf_link__destroy(l->tw_link);
	bpf_link__destroy(l->twin_link[0]);
	bpf_link__destroy(l->twin_link[1]);
	ring_buffer__free(l->rb);
	tcpscope_bpf__destroy(l->skel);
	free(l);
}
