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
#include "ladder.h"
#include "probe.h"
#include "hidden.h"

/* What the hooks cost, for tcpscope hooks (measured by make bench:
 * docs/overhead.md). */
#define STATE_COST                                                                  \
	"per state change (about 10 per connection): two programs and a record in " \
	"the ring buffer; nothing on established connections moving data"
#define TIMER_COST                                                                 \
	"a program per timer the host arms, cancels or expires (two on arming); "  \
	"all but a timewait socket's return after one test of the timer's function"

#define TW_FN_COST                                                                  \
	"a program per timewait socket armed, re-armed, expired or killed, and per "  \
	"tcp_time_wait(); nothing per other timer"

#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define TRACEFS_MAGIC 0x74726163

/* A sweep over the timewait maps, run from here by BPF_PROG_TEST_RUN: when
 * there is something to look at (live > 0; walking a hash costs its size),
 * at most every gap_ns unless final (the end of the run). */
struct sweep {
	const char *name;  /* "timewait sweep" */
	const char *blind; /* what is unknown when it cannot run */
	uint64_t gap_ns;
	uint64_t last_ns;
	bool failed;
};

struct loader {
	struct tcpscope_bpf *skel;
	struct ring_buffer *rb;
	uint32_t max_sockets;
	char kconfig[32];
	struct bpf_link *twin_link[TWIN_MAX];
	struct sweep kills, substates;
	bool syscalls;
	bool cookie_helper; /* bpf_get_socket_cookie() in tracing programs (5.12+) */
	bool for_each; /* bpf_for_each_map_elem() (5.13+): else the sweeps go key by key */
	bool no_state; /* no mechanism at all for state transitions */
	struct ladder ladder;
	struct hidden hidden; /* transitions made under PID 1 (hidden.h) */
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

/* A kernel config option's value ("y", "1000"), from /proc/config.gz or
 * /boot/config-RELEASE; 0 when neither exists or the option is not set.
 * The BPF object gets what it needs as kconfig text or .rodata, so libbpf
 * needs no config file (Debian kernels have no /proc/config.gz). */
static int config_value_from(const char *path, const char *key, char *val, size_t len)
{
	char line[256];
	size_t kl = strlen(key);
	int found = 0;
	gzFile f = gzopen(path, "r"); /* reads plain files too */

	if (!f)
		return -1;
	while (!found && gzgets(f, line, sizeof(line)))
		if (!strncmp(line, key, kl) && line[kl] == '=') {
			snprintf(val, len, "%s", line + kl + 1);
			val[strcspn(val, "\n")] = 0;
			found = 1;
		}
	gzclose(f);
	return found;
}

static int kernel_config(const char *key, char *val, size_t len)
{
	struct utsname u;
	char path[320];
	int r = config_value_from("/proc/config.gz", key, val, len);

	if (r < 0 && !uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		r = config_value_from(path, key, val, len);
	}
	return r > 0;
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

/* The kernel's HZ: CONFIG_HZ from its config file; without one, jiffies
 * counted against nanoseconds over 60 ms of /proc/timer_list and rounded to
 * the nearest common value (100, 250, 300, 1000) when within 20%; 0 when
 * neither works (timeouts are then reported unknown). */
static int kernel_hz(void)
{
	static const int common[] = { 100, 250, 300, 1000 };
	uint64_t t0, j0, t1, j1;
	char v[32];
	int hz = kernel_config("CONFIG_HZ", v, sizeof(v)) ? atoi(v) : 0;

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

static void set_filters(struct tcpscope_bpf *skel, const struct filter *f)
{
	struct tcpscope_bpf__rodata *r = skel->rodata;

	r->filt_npids = f->npids;
	memcpy((void *)r->filt_pids, f->pids, sizeof(f->pids));
	r->filt_ncomms = f->ncomms;
	memcpy((void *)r->filt_comms, f->comms, sizeof(f->comms));
	r->filt_ncgroups = f->ncgroups;
	memcpy((void *)r->filt_cgroups, f->cgroups, sizeof(f->cgroups));
	r->filt_nlports = f->nlports;
	memcpy((void *)r->filt_lports, f->lports, sizeof(f->lports));
	r->filt_nrports = f->nrports;
	memcpy((void *)r->filt_rports, f->rports, sizeof(f->rports));
	r->filt_family = f->family;
	r->filt_state_mask = f->state_mask;
	r->emit_types = f->types ?: ~0u;
}

/* Try fentry, then kprobe, on every function in fns: the first tier that
 * works for all of them, or VIA_TRACEPOINT. Failures go to the ladder. */
static int best_tier(struct ladder *lad, enum fact f, const char *const *fns, int n,
		 const struct loader_opts *o)
{
	char why[200];
	int i;

	if (o->no_fentry) {
		ladder_failed(lad, f, VIA_FENTRY, "disabled by --no-fentry");
	} else {
		for (i = 0; i < n && probe_fentry(fns[i], why, sizeof(why)); i++)
			;
		if (i == n)
			return VIA_FENTRY;
		ladder_failed(lad, f, VIA_FENTRY, why);
	}
	if (o->no_kprobe) {
		ladder_failed(lad, f, VIA_KPROBE, "disabled by --no-kprobe");
	} else {
		for (i = 0; i < n && probe_kprobe(fns[i], why, sizeof(why)); i++)
			;
		if (i == n)
			return VIA_KPROBE;
		ladder_failed(lad, f, VIA_KPROBE, why);
	}
	return VIA_TRACEPOINT;
}


/* The programs and the description of one tier of one fact. */
struct tier_progs {
	struct bpf_program *p[4];
	const char *mech;
};

/* Load the programs of the tier that won (fentry or kprobe) and name it in
 * the ladder; false for the tracepoint tier, which the caller describes. */
static bool use_tier(struct ladder *lad, enum fact f, int via, const struct tier_progs *fentry,
		     const struct tier_progs *kprobe)
{
	const struct tier_progs *t = via == VIA_FENTRY ? fentry : via == VIA_KPROBE ? kprobe : NULL;

	if (!t)
		return false;
	for (int i = 0; i < 4 && t->p[i]; i++)
		bpf_program__set_autoload(t->p[i], true);
	ladder_use(lad, f, via, "%s", t->mech);
	return true;
}

/* The capability ladder applied to the skeleton: per fact, probe in order
 * fentry/fexit, kprobe/kretprobe, tracepoints; the losers are not loaded. */
static void plan_hooks(struct loader *l, const struct loader_opts *o)
{
	struct tcpscope_bpf *s = l->skel;
	struct ladder *lad = &l->ladder;
	uint64_t addr[2];
	int via;

	addr[0] = probe_ksym_addr("tw_timer_handler");
	addr[1] = probe_ksym_addr("tcp_write_timer");
	/* The timer hooks see every timer the host arms. A --state filter
	 * lets no port record through (port_alloc.bpf.h), and one that leaves
	 * out time-wait and fin-wait-2 (a timewait socket's substates) no
	 * timewait record: then what would need them is not hooked at all. */
	uint32_t mask = o->filter ? o->filter->state_mask : 0;
	const char *tw_why = "tw_timer_handler not in /proc/kallsyms";
	bool tw_fns = false;	/* TIME_WAIT by its functions (fentry) */
	bool tw_timers;		/* TIME_WAIT by the timer tracepoints */

	if (mask && !(mask & (1u << TS_TIME_WAIT | 1u << TS_FIN_WAIT2))) {
		addr[0] = 0;
		tw_why = "not hooked: --state leaves out time-wait and fin-wait-2";
	}
	if (mask)
		addr[1] = 0;
	s->rodata->tw_timer_fn = addr[0];
	s->rodata->tcp_write_timer_fn = addr[1];
	l->syscalls = ensure_tracefs();
	int n = probe_func_args("__inet_hash_connect");

	s->rodata->hash_connect_nargs = n == 5 ? 5 : 4;
	l->cookie_helper = probe_tracing_cookie();
	s->rodata->cookie_helper = l->cookie_helper;
	/* the timewait sweeps: one program over the map, or one run per key */
	l->for_each = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT,
					      BPF_FUNC_for_each_map_elem, NULL) == 1;
	bpf_program__set_autoload(s->progs.tw_sweep, l->for_each);
	bpf_program__set_autoload(s->progs.tw_substate_sweep, l->for_each);
	bpf_program__set_autoload(s->progs.tw_sweep_key, !l->for_each);
	bpf_program__set_autoload(s->progs.tw_substate_key, !l->for_each);
	/* x86-64 kernel stacks: 16 KiB, 32 KiB with KASAN (ctx_level.bpf.h) */
	char v[8];

	s->rodata->task_stack_size = kernel_config("CONFIG_KASAN", v, sizeof(v)) && v[0] == 'y' ?
					     32768 : 16384;

	/* The optional programs (SEC("?...")) start unloaded; the choices below
	 * enable some. */

	/* State transitions: the tracepoint is the best tier: sock:inet_sock_set_state
	 * (4.16, commit 563e0bb0dc74) fires from inet_sk_state_store(), so it
	 * also sees the transitions made outside tcp_set_state() (listen() in
	 * inet_csk_listen_start(), a child's SYN_RECV in inet_csk_clone_lock()).
	 * Without it (before 4.16), tcp_set_state() by fentry, else kprobe. */
	if (!o->no_state_tp && probe_tp_btf("inet_sock_set_state")) {
		ladder_use(lad, FACT_STATE, VIA_TRACEPOINT, "tp_btf sock:inet_sock_set_state");
		ladder_cost(lad, FACT_STATE, STATE_COST);
	} else {
		static const char *const st[] = { "tcp_set_state" };

		ladder_failed(lad, FACT_STATE, VIA_TRACEPOINT,
			      o->no_state_tp ? "disabled by --no-tracepoint-state" :
					       "no sock:inet_sock_set_state (kernel before 4.16)");
		bpf_program__set_autoload(s->progs.on_set_state, false);
		bpf_program__set_autoload(s->progs.on_set_state_nested, false);
		via = best_tier(lad, FACT_STATE, st, 1, o);
		if (!use_tier(lad, FACT_STATE, via,
			      &(struct tier_progs){ { s->progs.fe_tcp_set_state }, "fentry tcp_set_state" },
			      &(struct tier_progs){ { s->progs.kp_tcp_set_state }, "kprobe tcp_set_state" })) {
			l->no_state = true;
			return;
		}
		if (via == VIA_KPROBE)
			ladder_unknown(lad, FACT_STATE, "socket cookies (timewait sockets are matched "
				       "to their connection only by fentry or the tracepoint)");
		ladder_unknown(lad, FACT_STATE, "transitions made outside tcp_set_state: listen() "
			       "and its end, a new connection's SYN_RECV");
	}

	/* TIME_WAIT: timer events on tw_timer_handler; tcp_time_wait() itself,
	 * where it can be hooked, adds the per-socket bucket overflow. Where
	 * tcp_time_wait() takes fentry, the timewait functions themselves may
	 * too: then no timer tracepoint is needed. */
	if (!addr[0]) {
		ladder_failed(lad, FACT_TW_ENTRY, VIA_TRACEPOINT, tw_why);
		ladder_unknown(lad, FACT_TW_ENTRY, "every TIME_WAIT socket");
		ladder_failed(lad, FACT_TW_END, VIA_TRACEPOINT, tw_why);
		ladder_unknown(lad, FACT_TW_END, "every TIME_WAIT socket's end");
	} else {
		static const char *const tw[] = { "tcp_time_wait" };
		static const char *const twf[] = { "__inet_twsk_schedule", "tw_timer_handler",
						   "inet_twsk_deschedule_put" };
		char why[200] = "";
		int i = 0;

		via = best_tier(lad, FACT_TW_ENTRY, tw, 1, o);
		s->rodata->tw_via = via;
		while (via == VIA_FENTRY && i < 3 && probe_fentry(twf[i], why, sizeof(why)))
			i++;
		tw_fns = via == VIA_FENTRY && i == 3;
		if (via == VIA_FENTRY && !tw_fns)
			ladder_failed(lad, FACT_TW_END, VIA_FENTRY, why);
	}
	if (tw_fns) {
		struct bpf_program *fe[] = { s->progs.fe_tcp_time_wait, s->progs.fe_tw_schedule,
					     s->progs.fe_tw_schedule_nested, s->progs.fe_tw_expire,
					     s->progs.fe_tw_kill, s->progs.fe_tw_kill_nested };

		for (size_t k = 0; k < sizeof(fe) / sizeof(fe[0]); k++)
			bpf_program__set_autoload(fe[k], true);
		/* no timer program tests for a timewait socket's timer, and
		 * tcp_time_wait()'s hook makes the overflow exact: no inference */
		s->rodata->tw_timer_fn = 0;
		ladder_use(lad, FACT_TW_ENTRY, VIA_FENTRY,
			   "fentry tcp_time_wait, __inet_twsk_schedule + the socket's ->CLOSE");
		ladder_use(lad, FACT_TW_END, VIA_FENTRY,
			   "fentry __inet_twsk_schedule, tw_timer_handler, inet_twsk_deschedule_put");
		ladder_cost(lad, FACT_TW_ENTRY, TW_FN_COST);
		ladder_cost(lad, FACT_TW_END, TW_FN_COST);
	} else if (addr[0]) {
		if (!use_tier(lad, FACT_TW_ENTRY, via,
			      &(struct tier_progs){ { s->progs.fe_tcp_time_wait },
						    "fentry tcp_time_wait + tp_btf timer_start(tw_timer_handler)" },
			      &(struct tier_progs){ { s->progs.kp_tcp_time_wait },
						    "kprobe tcp_time_wait + tp_btf timer_start(tw_timer_handler)" })) {
			ladder_use(lad, FACT_TW_ENTRY, via,
				   "tp_btf timer_start(tw_timer_handler) + the socket's ->CLOSE");
			ladder_unknown(lad, FACT_TW_ENTRY,
				       "which sockets tcp_max_tw_buckets denied a FIN_WAIT2-substate "
				       "timewait socket (TIME_WAIT-substate ones are inferred)");
		}
		ladder_use(lad, FACT_TW_END, VIA_TRACEPOINT,
			   "tp_btf timer_expire_entry/timer_cancel(tw_timer_handler) + sweep");
		/* no tracepoint is a timewait socket's own: its timer's are the
		 * host's every timer (TCP re-arms retransmit and delayed-ACK
		 * timers per request) */
		ladder_cost(lad, FACT_TW_ENTRY, TIMER_COST);
		ladder_cost(lad, FACT_TW_END, TIMER_COST);
	}
	if (addr[0])
		ladder_unknown(lad, FACT_TW_END,
			       "the cause of early kills other than reuse (RST, SYN recycle, "
			       "netns exit: all \"killed\")");
	/* the timer programs of TIME_WAIT (but timer_start, below) */
	tw_timers = addr[0] && !tw_fns;
	if (!tw_timers) {
		struct bpf_program *tp[] = { s->progs.on_timer_expire, s->progs.on_timer_cancel,
					     s->progs.tw_sweep, s->progs.tw_substate_sweep,
					     s->progs.tw_sweep_key, s->progs.tw_substate_key };

		for (size_t k = 0; k < sizeof(tp) / sizeof(tp[0]); k++)
			bpf_program__set_autoload(tp[k], false);
	}

	/* Port allocation: the allocation functions, else the state tracepoint
	 * with the syscall exits and the SYN's retransmit timer. */
	static const char *const alloc[] = { "__inet_hash_connect", "inet_csk_get_port" };

	via = best_tier(lad, FACT_PORT, alloc, 2, o);
	s->rodata->port_via = via;
	if (!use_tier(lad, FACT_PORT, via,
		      &(struct tier_progs){ { s->progs.fe_hash_connect, s->progs.fx_hash_connect,
					      s->progs.fe_get_port, s->progs.fx_get_port },
					    "fentry/fexit __inet_hash_connect, inet_csk_get_port" },
		      &(struct tier_progs){ { s->progs.kp_hash_connect, s->progs.kr_hash_connect,
					      s->progs.kp_get_port, s->progs.kr_get_port },
					    "kprobe/kretprobe __inet_hash_connect, inet_csk_get_port" })) {
		bpf_program__set_autoload(s->progs.on_connect_exit, l->syscalls);
		bpf_program__set_autoload(s->progs.on_listen_exit, l->syscalls);
		ladder_use(lad, FACT_PORT, via,
			   "tp_btf inet_sock_set_state + timer_start(tcp_write_timer) + "
			   "syscalls:sys_exit_{bind,listen,connect}");
		ladder_unknown(lad, FACT_PORT, "exact allocation time (an upper bound is shown)");
		ladder_cost(lad, FACT_PORT, "a program at the exit of every bind(), listen() and "
			    "connect() on the host (any socket type), and timer_start's as for TIME_WAIT");
		if (mask)
			ladder_unknown(lad, FACT_PORT, "every allocation: --state lets no port record "
				       "through (the SYN's timer is not hooked)");
		else if (!addr[1])
			ladder_unknown(lad, FACT_PORT, "connect() allocations end at connect()'s return "
				       "(tcp_write_timer not in /proc/kallsyms)");
	}
	if (!l->syscalls)
		ladder_unknown(lad, FACT_PORT, "bind() to port 0, and listen()'s success "
			       "(no syscall tracepoints: tracefs or CONFIG_FTRACE_SYSCALLS)");

	/* Scan length: the per-candidate checks, counted inside the allocation;
	 * the same tier as the allocation hooks. */
	if (via == VIA_TRACEPOINT) {
		for (int i = 0; i < lad->f[FACT_PORT].nfailed; i++)
			ladder_failed(lad, FACT_SCAN, lad->f[FACT_PORT].failed[i].via,
				      lad->f[FACT_PORT].failed[i].why);
		ladder_unknown(lad, FACT_SCAN, "candidate ports examined (null in JSON)");
	} else {
		static const char *const fn[] = { "__inet_check_established",
						  "__inet6_check_established",
						  "inet_csk_bind_conflict" };
		struct bpf_program *fe[] = { s->progs.fe_check_est, s->progs.fe_check_est6,
					     s->progs.fe_bind_conflict };
		struct bpf_program *kp[] = { s->progs.kp_check_est, s->progs.kp_check_est6,
					     s->progs.kp_bind_conflict };
		const char *what[] = { "IPv4 connect()", "IPv6 connect()", "bind()/listen()" };
		char mech[160] = "", why[200];
		bool ok[3];

		for (int i = 0; i < 3; i++) {
			ok[i] = via == VIA_FENTRY ? probe_fentry(fn[i], why, sizeof(why)) :
						    probe_kprobe(fn[i], why, sizeof(why));
			bpf_program__set_autoload(via == VIA_FENTRY ? fe[i] : kp[i], ok[i]);
			if (ok[i]) {
				size_t n = strlen(mech);

				snprintf(mech + n, sizeof(mech) - n, "%s%s", n ? ", " : "", fn[i]);
			} else {
				ladder_failed(lad, FACT_SCAN, via, why);
				ladder_unknown(lad, FACT_SCAN, "%s scans", what[i]);
			}
		}
		s->rodata->scan_connect4 = ok[0];
		s->rodata->scan_connect6 = ok[1];
		s->rodata->scan_bind = ok[2];
		if (mech[0])
			ladder_use(lad, FACT_SCAN, via, "%s %s", via == VIA_FENTRY ? "fentry" : "kprobe",
				   mech);
	}

	/* TIME_WAIT reuse: tcp_twsk_unique() saying yes, else the timewait
	 * socket's timer cancelled by the connecting thread. */
	static const char *const uniq[] = { "tcp_twsk_unique" };

	via = best_tier(lad, FACT_TW_REUSE, uniq, 1, o);
	if (via == VIA_TRACEPOINT && !addr[0]) {
		ladder_unknown(lad, FACT_TW_REUSE, "TIME_WAIT reuse by connect()");
		via = VIA_NONE;
	}
	s->rodata->reuse_via = via;
	if (!use_tier(lad, FACT_TW_REUSE, via,
		      &(struct tier_progs){ { s->progs.fx_twsk_unique }, "fexit tcp_twsk_unique" },
		      &(struct tier_progs){ { s->progs.kr_twsk_unique }, "kretprobe tcp_twsk_unique" }) &&
	    via == VIA_TRACEPOINT) {
		ladder_use(lad, FACT_TW_REUSE, via, "tp_btf timer_cancel(tw_timer_handler) in connect()");
	}

	/* Listen overflow: the accept-queue test at the entry of the two
	 * functions that drop (SYN, final ACK); else the final ACK's drop
	 * reason (6.15+). */
	static const char *const ovf[] = { "tcp_conn_request", "tcp_v4_syn_recv_sock" };
	char why6[200];

	via = best_tier(lad, FACT_LISTEN_OVF, ovf, 2, o);
	if (use_tier(lad, FACT_LISTEN_OVF, via,
		     &(struct tier_progs){ { s->progs.fe_conn_request, s->progs.fe_syn_recv4 },
					   "fentry tcp_conn_request (SYN), tcp_v4/v6_syn_recv_sock (ACK)" },
		     &(struct tier_progs){ { s->progs.kp_conn_request, s->progs.kp_syn_recv4 },
					   "kprobe tcp_conn_request (SYN), tcp_v4/v6_syn_recv_sock (ACK)" })) {
		/* IPv6 when the kernel has it */
		if (via == VIA_FENTRY)
			bpf_program__set_autoload(s->progs.fe_syn_recv6, probe_fentry("tcp_v6_syn_recv_sock", why6, sizeof(why6)));
		else
			bpf_program__set_autoload(s->progs.kp_syn_recv6, probe_kprobe("tcp_v6_syn_recv_sock", why6, sizeof(why6)));
	} else if (probe_tp_btf_args("kfree_skb") == 4 &&
		   probe_enum_value("skb_drop_reason", "SKB_DROP_REASON_TCP_LISTEN_OVERFLOW")) {
		bpf_program__set_autoload(s->progs.on_kfree_skb, true);
		ladder_use(lad, FACT_LISTEN_OVF, via, "tp_btf kfree_skb (reason TCP_LISTEN_OVERFLOW)");
		ladder_cost(lad, FACT_LISTEN_OVF, "a program per packet the host drops (one test of "
			    "the drop reason)");
		ladder_unknown(lad, FACT_LISTEN_OVF, "SYNs dropped at a full accept queue "
			       "(counted in nstat TcpExtListenOverflows)");
	} else {
		ladder_failed(lad, FACT_LISTEN_OVF, VIA_TRACEPOINT,
			      "no kfree_skb drop reason TCP_LISTEN_OVERFLOW (before 6.15)");
		ladder_unknown(lad, FACT_LISTEN_OVF, "every overflow (counted in nstat "
			       "TcpExtListenOverflows)");
		l->ladder.f[FACT_LISTEN_OVF].via = VIA_NONE;
	}

	if (!l->syscalls) {
		ladder_unknown(lad, FACT_STATE, "owners of accepted sockets (the listener's owner "
			       "is shown): no syscall tracepoints");
		bpf_program__set_autoload(s->progs.on_bind_enter, false);
		bpf_program__set_autoload(s->progs.on_bind_exit, false);
		bpf_program__set_autoload(s->progs.on_accept_exit, false);
		bpf_program__set_autoload(s->progs.on_accept4_exit, false);
	}
	/* timer_start: for TIME_WAIT where its functions are not hooked, for
	 * the SYN's timer in the tracepoint tier of port allocation */
	bool ts = tw_timers || (s->rodata->port_via == VIA_TRACEPOINT && addr[1]);

	bpf_program__set_autoload(s->progs.on_timer_start, ts);
	bpf_program__set_autoload(s->progs.on_timer_start_nested, ts);
}

/* The two programs of each twin pair (twin.bpf.h: the second takes over
 * the invocations the kernel skipped for the first) */
static void twin_pair(const struct tcpscope_bpf *s, int hook, struct bpf_program **first,
		      struct bpf_program **second)
{
	switch (hook) {
	case TWIN_STATE:
		*first = s->progs.on_set_state, *second = s->progs.on_set_state_nested;
		break;
	case TWIN_TIMER_START:
		*first = s->progs.on_timer_start, *second = s->progs.on_timer_start_nested;
		break;
	case TWIN_TW_SCHEDULE:
		*first = s->progs.fe_tw_schedule, *second = s->progs.fe_tw_schedule_nested;
		break;
	default: /* TWIN_TW_KILL */
		*first = s->progs.fe_tw_kill, *second = s->progs.fe_tw_kill_nested;
		break;
	}
}

/* The one of a pair attached by hand, after the skeleton's: a tracepoint
 * calls its programs in the order they were attached, a trampoline
 * (fentry) in the reverse order (bpf_trampoline_link_prog() adds each at
 * the head of its list, since 5.5), and the second must run after the
 * first. */
static struct bpf_program *twin_by_hand(const struct tcpscope_bpf *s, int hook)
{
	struct bpf_program *first, *second;

	twin_pair(s, hook, &first, &second);
	return bpf_program__expected_attach_type(first) == BPF_TRACE_FENTRY ? first : second;
}

/* Without BPF atomics (before 5.12) the kernel refuses a program holding a
 * cmpxchg anywhere ("BPF_STX uses reserved fields": every instruction is
 * checked before any is run), even where the load-time constant
 * sk_lockfree = false leaves it dead. Each becomes r0 = 0 (what cmpxchg
 * sets; never run) before the load, keeping the instruction count that the
 * CO-RE relocations index by. */
static void strip_cmpxchg(struct bpf_object *obj)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj) {
		size_t n = bpf_program__insn_cnt(p), changed = 0;
		struct bpf_insn *insns = malloc(n * sizeof(*insns));

		if (!insns)
			continue;
		memcpy(insns, bpf_program__insns(p), n * sizeof(*insns));
		for (size_t i = 0; i < n; i++)
			if (insns[i].code == (BPF_STX | BPF_ATOMIC | BPF_DW) && insns[i].imm == BPF_CMPXCHG) {
				insns[i] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K,
							      .dst_reg = BPF_REG_0 };
				changed++;
			}
		if (changed)
			bpf_program__set_insns(p, insns, n);
		free(insns);
	}
}

struct loader *loader_start(const struct loader_opts *o, char *err, size_t errlen)
{
	struct loader *l = calloc(1, sizeof(*l));
	struct tcpscope_bpf *skel;
	int ret;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	verbosity = o->verbose;
	libbpf_set_print(print_fn);
	l->max_sockets = o->max_sockets;
	l->kills = (struct sweep){ .name = "timewait sweep", .gap_ns = 20000000ULL,
				   .blind = "early kills (the sweep failed to run)" };
	l->substates = (struct sweep){
		.name = "timewait substate sweep", .gap_ns = 200000000ULL,
		.blind = "FIN_WAIT2 -> TIME_WAIT of timewait sockets within one timer bucket "
			 "(the substate sweep failed to run)" };

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
	/* the socket table: lock-free where BPF has cmpxchg (sets of 4 slots,
	 * twice --max-sockets slots so that a set rarely fills), else the LRU */
	skel->rodata->sk_lockfree = probe_cmpxchg();
	if (skel->rodata->sk_lockfree) {
		uint32_t sets = 1;

		while (sets < o->max_sockets / 2)
			sets <<= 1;
		skel->rodata->sk_set_mask = sets - 1;
		bpf_map__set_max_entries(skel->maps.sk_sets, sets);
		/* unused: the smallest a per-CPU LRU takes */
		bpf_map__set_max_entries(skel->maps.socks, libbpf_num_possible_cpus());
	} else {
		bpf_map__set_max_entries(skel->maps.socks, o->max_sockets);
		strip_cmpxchg(skel->obj);
	}
	bpf_map__set_max_entries(skel->maps.tws, o->max_sockets);
	/* a namespace exit cancels all its timewait timers at once */
	bpf_map__set_max_entries(skel->maps.tw_cancel, o->max_sockets);

	plan_hooks(l, o);
	if (l->no_state) {
		const struct fact_status *f = &l->ladder.f[FACT_STATE];

		snprintf(err, errlen, "no way to see state transitions on this kernel: %s: %s; "
			 "%s: %s; %s: %s", via_name(f->failed[0].via), f->failed[0].why,
			 via_name(f->failed[1].via), f->failed[1].why, via_name(f->failed[2].via),
			 f->failed[2].why);
		goto fail;
	}
	for (int i = 0; i < TWIN_MAX; i++)
		bpf_program__set_autoattach(twin_by_hand(skel, i), false);
	/* run on demand by sweep_timewait(), never attached */
	bpf_program__set_autoattach(skel->progs.tw_sweep, false);
	bpf_program__set_autoattach(skel->progs.tw_substate_sweep, false);
	bpf_program__set_autoattach(skel->progs.tw_sweep_key, false);
	bpf_program__set_autoattach(skel->progs.tw_substate_key, false);
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
	for (int i = 0; i < TWIN_MAX; i++) {
		struct bpf_program *p = twin_by_hand(skel, i);

		if (bpf_program__fd(p) < 0)
			continue; /* not loaded on this kernel */
		l->twin_link[i] = bpf_program__attach(p);
		if (!l->twin_link[i]) {
			snprintf(err, errlen, "attaching %s failed: %s", bpf_program__name(p),
				 strerror(errno));
			goto fail;
		}
	}
	hidden_open(&l->hidden);
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

/* Run p once per key of map (the sweep without bpf_for_each_map_elem):
 * the keys first, as the runs delete some. 0, or -1 (errno) */
static int run_per_key(int fd, struct bpf_map *map)
{
	uint32_t max = bpf_map__max_entries(map);
	int mfd = bpf_map__fd(map), ret = 0;
	uint64_t *keys = malloc(max * sizeof(*keys)), key, *prev = NULL;
	size_t n = 0;

	if (!keys)
		return -1;
	while (n < max && !bpf_map_get_next_key(mfd, prev, &key)) {
		keys[n] = key;
		prev = &keys[n++];
	}
	for (size_t i = 0; i < n && !ret; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &keys[i], .ctx_size_in = sizeof(keys[i]));

		ret = bpf_prog_test_run_opts(fd, &opts);
	}
	free(keys);
	return ret;
}

static void sweep_run(struct loader *l, struct sweep *w, struct bpf_program *p,
		      struct bpf_program *per_key, struct bpf_map *map, int64_t live, bool final)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int fd = bpf_program__fd(l->for_each ? p : per_key);
	uint64_t now;

	if (fd < 0 || live <= 0)
		return;
	now = mono_ns();
	if (!final && now - w->last_ns < w->gap_ns)
		return;
	w->last_ns = now;
	if ((l->for_each ? bpf_prog_test_run_opts(fd, &opts) : run_per_key(fd, map)) && !w->failed) {
		w->failed = true;
		ladder_unknown(&l->ladder, FACT_TW_END, "%s", w->blind);
		fprintf(stderr, "tcpscope: warning: the %s cannot run: %s\n", w->name,
			strerror(errno));
	}
}

/* Timewait sockets killed early (tw_sweep), and those whose FIN_WAIT2 ->
 * TIME_WAIT no tracepoint showed (tw_substate_sweep) */
static void sweep_timewait(struct loader *l, bool final)
{
	struct tcpscope_bpf *s = l->skel;

	sweep_run(l, &l->kills, s->progs.tw_sweep, s->progs.tw_sweep_key, s->maps.tw_cancel,
		  s->bss->tw_cancel_live, final);
	sweep_run(l, &l->substates, s->progs.tw_substate_sweep, s->progs.tw_substate_key,
		  s->maps.tws, s->bss->tw_fw2_live, final);
}

int loader_fd(const struct loader *l)
{
	return ring_buffer__epoll_fd(l->rb);
}

int loader_consume(struct loader *l)
{
	sweep_timewait(l, false);
	return ring_buffer__consume(l->rb);
}

int loader_poll(struct loader *l, int timeout_ms)
{
	int n;

	sweep_timewait(l, timeout_ms == 0);
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
	out[LOST_KPROBE_BUSY] = s->bss->drops[DROP_KPROBE_BUSY];
	/* inserts - deletes above capacity means the LRU evicted live entries
	 * (a lower bound: the tracker keeps the high-water mark). */
	for (int i = 0; i < LRU_MAX; i++) {
		int64_t over = s->bss->lru_live[i] - (int64_t)l->max_sockets;

		if (over > 0)
			evicted += over;
	}
	out[LOST_EVICTED] = (uint64_t)evicted + s->bss->sk_evicted;
	/* the meter first, then the flag: a PID-1 transition our programs do
	 * see sets the flag after the meter counted it, so read the other way
	 * round it could pass for a hidden one */
	uint64_t under_pid1 = hidden_count(&l->hidden);

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!s->bss->saw_pid1)
		out[LOST_HIDDEN] = under_pid1;
	/* Programs that come in pairs (see TWIN_* in the BPF code): the first
	 * one's misses minus the invocations its twin took over. The twin's
	 * own misses are invocations the first handled, unless both missed,
	 * which the first one's count already holds. Others: every miss. */
	bpf_object__for_each_program(p, s->obj) {
		bool paired = false;

		for (int i = 0; i < TWIN_MAX; i++) {
			struct bpf_program *first, *second;

			twin_pair(s, i, &first, &second);
			if (p == second) {
				paired = true;
			} else if (p == first) {
				uint64_t m = recursion_misses(p), r = s->bss->twin_rescued[i];

				out[LOST_RECURSION] += m > r ? m - r : 0;
				paired = true;
			}
		}
		/* kp_tcp_time_wait's skips (counted by 6.7+) are kprobe_skipped */
		if (!paired && p != s->progs.tw_sweep && p != s->progs.tw_sweep_key &&
		    p != s->progs.kp_tcp_time_wait)
			out[LOST_RECURSION] += recursion_misses(p);
	}
}

void loader_report(struct loader *l, FILE *f)
{
	struct bpf_program *p;

	for (int i = 0; i < FACT_MAX; i++)
		fprintf(f, "tcpscope: %s: %s %s\n", fact_name(i), via_name(l->ladder.f[i].via),
			l->ladder.f[i].via ? l->ladder.f[i].mech : "");
	bpf_object__for_each_program(p, l->skel->obj) {
		uint64_t m = recursion_misses(p);

		if (m)
			fprintf(f, "tcpscope: program %s: %llu recursion misses\n", bpf_program__name(p),
				(unsigned long long)m);
	}
	if (l->hidden.n)
		fprintf(f, "tcpscope: transitions made under PID 1: %llu (%s)\n",
			(unsigned long long)hidden_count(&l->hidden),
			l->skel->bss->saw_pid1 ? "seen by our programs: this kernel does not hide PID 1"
					       : "none seen by our programs: lost if any");
	else
		fprintf(f, "tcpscope: transitions made under PID 1 are not counted: %s\n",
			l->hidden.why);
	for (int i = 0; i < TWIN_MAX; i++) {
		struct bpf_program *first, *second;

		twin_pair(l->skel, i, &first, &second);
		fprintf(f, "tcpscope: twin of %s rescued %llu invocations\n", bpf_program__name(first),
			(unsigned long long)l->skel->bss->twin_rescued[i]);
	}
}

const struct ladder *loader_ladder(const struct loader *l)
{
	return &l->ladder;
}

void loader_stop(struct loader *l)
{
	if (!l)
		return;
	hidden_close(&l->hidden);
	for (int i = 0; i < TWIN_MAX; i++)
		bpf_link__destroy(l->twin_link[i]);
	ring_buffer__free(l->rb);
	tcpscope_bpf__destroy(l->skel);
	free(l);
}
