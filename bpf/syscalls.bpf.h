/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Fact: connect() and bind() results, and the owner of an accept()ed socket.
 * bind() and accept() from the syscall tracepoints; connect()'s outcome from
 * the state machine (state.bpf.h calls connect_outcome()): CLOSE->SYN_SENT
 * in the caller's context starts the attempt, SYN_SENT->ESTABLISHED (port
 * chosen) or SYN_SENT->CLOSE (sk_err, or sport 0 = no free port) ends it.
 */
#ifndef SYSCALLS_BPF_H
#define SYSCALLS_BPF_H

static __always_inline void emit_call(__u8 op, __s32 ret, __u16 flags, const struct sock *sk,
				      __u64 latency, const struct ev_owner *o,
				      const struct ev_tuple *t)
{
	struct ev_call *e;

	if (!EMITS(EV_CALL) || filt_state_mask || !pass_common(o, t))
		return;
	e = ev_reserve(sizeof(*e), EV_CALL);
	if (!e)
		return;
	e->sk = (__u64)sk;
	e->latency_ns = latency;
	e->owner = *o;
	e->t = *t;
	e->ret = ret;
	e->netns = read_netns(&sk->__sk_common);
	e->flags = flags;
	e->op = op;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	ev_submit(e);
}

/* Per CPU: the thread between CLOSE->SYN_SENT and the port allocation of
 * its connect(); a timewait socket cancelled by that thread is reused. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} connecting SEC(".maps");

static __always_inline void connecting_mark(__u64 tid)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&connecting, &zero);

	if (c)
		*c = tid;
}

static __always_inline void connect_outcome(bool btf, const struct sock *sk, int newstate,
					    const struct ev_owner *o, const struct ev_tuple *t,
					    __u16 flags, __u64 latency)
{
	int ret = 0;

	connecting_mark(0);
	if (newstate == TS_CLOSE) {
		int err = SK_READ(btf, sk, sk_err);

		if (err)
			ret = -err; /* refused, timed out, unreachable */
		else
			return; /* no port (a port-allocation event tells), or
				 * closed by the application while connecting */
	}
	emit_call(OP_CONNECT, ret, flags, sk, latency, o, t);
}

/* connect()/bind() results and accept() owners, from syscall tracepoints */

struct sys_enter_ctx {
	__u64 _common;
	__s32 nr;
	__u32 _pad;
	__u64 args[6];
};

struct sys_exit_ctx {
	__u64 _common;
	__s32 nr;
	__u32 _pad;
	__s64 ret;
};

#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* fd -> struct sock, only for TCP sockets of the current task. */
static __always_inline struct sock *fd_to_tcp_sk(long fd)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;
	struct socket *so;
	struct sock *sk;

	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(so, sk);
	if (!sk || BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != IPPROTO_TCP ||
	    BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type) != SOCK_STREAM)
		return NULL;
	return sk;
}

/* Read the sockaddr the caller passed: family, port, address. */
static __always_inline bool read_user_addr(const void *uaddr, __u8 *addr, __u16 *port,
					   __u16 *family)
{
	__u16 fam = 0, p = 0;

	if (bpf_probe_read_user(&fam, sizeof(fam), uaddr))
		return false;
	if (fam != AF_INET && fam != AF_INET6)
		return false;
	bpf_probe_read_user(&p, sizeof(p), uaddr + 2);
	if (fam == AF_INET)
		bpf_probe_read_user(addr, 4, uaddr + 4);
	else
		bpf_probe_read_user(addr, 16, uaddr + 8);
	*port = bswap16(p);
	*family = fam;
	return true;
}

static __always_inline int bind_enter(struct sys_enter_ctx *ctx)
{
	struct sock *sk = fd_to_tcp_sk((long)ctx->args[0]);
	struct ev_tuple req = {};
	struct alloc_ctx *a;

	if (!sk)
		return 0;
	if (!read_user_addr((void *)ctx->args[1], req.saddr, &req.sport, &req.family))
		return 0;
	a = alloc_new(req.sport ? 0 : PORT_BIND, sk, bpf_ktime_get_ns());
	if (a)
		a->t = req;
	return 0;
}

/* bind() to a fixed port: a call event. To port 0: a port allocation,
 * reported here in tracepoint-only mode, by get_port_exit() otherwise (a
 * failure before the allocation, or IP_BIND_ADDRESS_NO_PORT, stays a call). */
static __always_inline int bind_exit(struct sys_exit_ctx *ctx)
{
	struct alloc_ctx *a = alloc_get();
	struct ev_owner owner = {};
	struct ev_tuple t = {};
	struct sock *sk;
	__u64 lat;

	if (!a)
		return 0;
	sk = (struct sock *)a->sk;
	lat = bpf_ktime_get_ns() - a->ts;
	read_sk_tuple(sk, &t);
	if (a->op == PORT_BIND) {
		if (a->flags & AF_DONE)
			goto out;
		if (port_via == VIA_TRACEPOINT &&
		    ((ctx->ret == 0 && t.sport) || ctx->ret == -EADDRINUSE)) {
			emit_port(a, sk, ctx->ret, VIA_TRACEPOINT, EVF_LAT_UPPER);
			goto out;
		}
	}
	t.family = a->t.family;
	if (ctx->ret != 0) {
		/* what the caller asked for; on success what the kernel bound */
		__builtin_memcpy(t.saddr, a->t.saddr, sizeof(t.saddr));
		t.sport = a->t.sport;
	}
	__builtin_memset(t.daddr, 0, sizeof(t.daddr));
	t.dport = 0;
	owner_current(&owner);
	emit_call(OP_BIND, ctx->ret, EVF_OWNER_KNOWN | EVF_IN_OLD_KNOWN, sk, lat, &owner, &t);
out:
	alloc_free();
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_bind")
int on_bind_enter(struct sys_enter_ctx *ctx)
{
	return KP_GUARDED(bind_enter(ctx));
}

SEC("tracepoint/syscalls/sys_exit_bind")
int on_bind_exit(struct sys_exit_ctx *ctx)
{
	return KP_GUARDED(bind_exit(ctx));
}

static __always_inline int accept_exit(struct sys_exit_ctx *ctx)
{
	struct sk_info *si;
	struct sock *sk;
	__u64 key;

	if (ctx->ret < 0)
		return 0;
	sk = fd_to_tcp_sk(ctx->ret);
	if (!sk)
		return 0;
	/* the child's entry exists since its LISTEN->SYN_RECV: the process
	 * that accept()ed it owns it from now on */
	key = (__u64)sk;
	si = sk_find(key);
	if (si) {
		owner_current(&si->owner);
		si->owner_known = 1;
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int on_accept4_exit(struct sys_exit_ctx *ctx)
{
	return KP_GUARDED(accept_exit(ctx));
}

SEC("tracepoint/syscalls/sys_exit_accept")
int on_accept_exit(struct sys_exit_ctx *ctx)
{
	return KP_GUARDED(accept_exit(ctx));
}

SEC("?tracepoint/syscalls/sys_exit_connect")
int on_connect_exit(struct sys_exit_ctx *ctx)
{
	kp_mark(1);
	port_tp_sys_exit(PORT_CONNECT, ctx->ret);
	kp_mark(-1);
	return 0;
}

SEC("?tracepoint/syscalls/sys_exit_listen")
int on_listen_exit(struct sys_exit_ctx *ctx)
{
	kp_mark(1);
	port_tp_sys_exit(PORT_LISTEN, ctx->ret);
	kp_mark(-1);
	return 0;
}

#endif
