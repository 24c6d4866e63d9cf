/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tcpscope.h - the kernel <-> user contract.
 *
 * Every record in the ring buffer starts with struct ev_hdr (type tag, then
 * size). Fields are fixed-width __uN with explicit padding; a kernel pointer
 * is an opaque __u64 id. Both sides assert the sizes at compile time, so a
 * change here that is not made on both sides fails the build.
 *
 * Include after vmlinux.h (BPF side) or <linux/types.h> (user side).
 * Names: TS_ is a TCP state (enum ts_tcp_state), TCPSCOPE_ a limit of the
 * contract, EV_/EVF_ a record type and its flags.
 */
#ifndef TCPSCOPE_H
#define TCPSCOPE_H

#define TCPSCOPE_COMM_LEN 16
#define TCPSCOPE_MAX_FILTER 16 /* pids, comms, ports per filter kind */
#define TCPSCOPE_MAX_CGROUPS 64 /* --cgroup: a cgroup and its descendants */

enum ev_type {
	EV_STATE = 1, /* a full socket changed state (inet_sock_set_state) */
	EV_TW = 2,    /* a timewait socket was created, changed substate or died */
	EV_CALL = 3,  /* connect() outcome, bind() result */
	EV_PORT = 4,  /* an ephemeral port allocation (connect, bind/listen to port 0) */
	EV_LISTEN_OVF = 5, /* a listener's accept queue was full: a SYN or final ACK dropped */
	EV_TYPE_MAX,
};

/* TCP states, numbered as in the kernel's include/net/tcp_states.h */
enum ts_tcp_state {
	TS_ESTABLISHED = 1,
	TS_SYN_SENT,
	TS_SYN_RECV,
	TS_FIN_WAIT1,
	TS_FIN_WAIT2,
	TS_TIME_WAIT,
	TS_CLOSE,
	TS_CLOSE_WAIT,
	TS_LAST_ACK,
	TS_LISTEN,
	TS_CLOSING,
	TS_NEW_SYN_RECV,
	TS_BOUND_INACTIVE,
	TS_STATE_MAX,
};

enum tw_kind {
	TW_ENTER = 1,	 /* timewait socket created (timer armed the first time) */
	TW_SUBSTATE = 2, /* FIN_WAIT2 substate -> TIME_WAIT (peer's FIN arrived) */
	TW_END = 3,	 /* timewait socket freed */
	TW_OVERFLOW = 4, /* tcp_time_wait() found no room (tcp_max_tw_buckets):
			  * the connection closed with no timewait socket */
};

enum tw_cause {
	TW_CAUSE_NONE = 0,
	TW_CAUSE_EXPIRED = 1, /* its timer ran out */
	TW_CAUSE_REUSED = 2,  /* killed inside a connect() on this host (tw reuse) */
	TW_CAUSE_KILLED = 3,  /* killed early: RST, SYN recycle, netns teardown */
};

enum call_op {
	OP_CONNECT = 1,
	OP_BIND = 2,
};

/* ev_port.op: what asked the kernel for an ephemeral port */
enum port_op {
	PORT_CONNECT = 1,  /* connect() on an unbound socket: __inet_hash_connect */
	PORT_BIND = 2,	   /* bind() to port 0: inet_csk_get_port */
	PORT_LISTEN = 3,   /* listen() on an unbound socket: inet_csk_get_port */
	PORT_AUTOBIND = 4, /* any other inet_csk_get_port(sk, 0) */
};

/* ev_listen_ovf.stage: where the connection was dropped */
enum ovf_stage {
	OVF_SYN = 1, /* tcp_conn_request(): the SYN (the client retransmits it) */
	OVF_ACK = 2, /* tcp_v4/v6_syn_recv_sock(): the handshake's last ACK */
};

/* How a fact was observed (ev_port.via, and the capability ladder) */
enum hook_via {
	VIA_NONE = 0,
	VIA_TRACEPOINT = 1, /* tp_btf, raw_tp or classic tracepoints */
	VIA_KPROBE = 2,	    /* kprobe/kretprobe */
	VIA_FENTRY = 3,	    /* fentry/fexit */
};

/* ev_state.flags, ev_tw.flags, ev_call.flags, ev_port.flags */
#define EVF_OWNER_KNOWN (1u << 0) /* pid/comm captured in process context */
#define EVF_IN_OLD_KNOWN (1u << 1) /* in_old_ns (state) or latency_ns (call, port) is valid */
#define EVF_SCAN_KNOWN (1u << 2)   /* ev_port.scan was counted (fentry/kprobe tiers) */
#define EVF_TW_REUSED (1u << 3)	   /* ev_port: a TIME_WAIT socket gave up its 4-tuple */
#define EVF_LAT_UPPER (1u << 4)	   /* ev_port.latency_ns is an upper bound (tracepoint
				    * tier: includes the code after the allocation) */
#define EVF_INFERRED (1u << 5)	   /* ev_tw TW_OVERFLOW: inferred from the state machine
				    * (tracepoint tier), not seen in tcp_time_wait();
				    * user space believes it only as far as the
				    * namespace's TCPTimeWaitOverflow grew */

struct ev_hdr {
	__u16 type; /* enum ev_type */
	__u16 size; /* whole record, bytes */
	__u32 _pad; /* zero */
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
};

/* IPv4 addresses sit in the first 4 bytes, the rest is zero */
struct ev_tuple {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport; /* host order */
	__u16 dport; /* host order */
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 _pad;
};

struct ev_owner {
	__u32 pid; /* tgid; 0 = unknown */
	__u32 tid;
	char comm[TCPSCOPE_COMM_LEN];
	__u64 cgroup; /* the owner's cgroup v2 id (bpf_get_current_cgroup_id(): the inode
		       * of its directory in the cgroup2 mount); 0 = unknown */
};

struct ev_state {
	struct ev_hdr hdr;
	__u64 sk;     /* opaque socket id */
	__u64 cookie; /* socket cookie, shared with its timewait socket */
	__u64 in_old_ns;
	struct ev_owner owner;
	struct ev_tuple t;
	__u32 netns;
	__u16 flags;
	__u8 old_state;
	__u8 new_state;
};

struct ev_tw {
	struct ev_hdr hdr;
	__u64 tw;     /* opaque timewait socket id */
	__u64 cookie;
	__u64 lived_ns;	     /* TW_END: time since TW_ENTER */
	__u64 timeout_ms; /* TW_ENTER/TW_SUBSTATE: timer length; 0 = unknown HZ */
	struct ev_owner owner;
	struct ev_tuple t;
	__u32 netns;
	__u16 flags;
	__u8 kind;     /* enum tw_kind */
	__u8 substate; /* TS_FIN_WAIT2 or TS_TIME_WAIT */
	__u8 cause;    /* enum tw_cause, TW_END only */
	__u8 _pad[7];
};

struct ev_call {
	struct ev_hdr hdr;
	__u64 sk;
	__u64 latency_ns; /* connect: CLOSE->SYN_SENT to outcome; bind: the syscall */
	struct ev_owner owner;
	struct ev_tuple t; /* local address:port (port the kernel chose), destination */
	__s32 ret;	   /* 0 or -errno */
	__u32 netns;
	__u16 flags;
	__u8 op;	   /* enum call_op */
	__u8 _pad[5];
};

struct ev_port {
	struct ev_hdr hdr;
	__u64 sk;
	__u64 latency_ns; /* time the allocation took (EVF_IN_OLD_KNOWN) */
	struct ev_owner owner;
	struct ev_tuple t; /* local address:port chosen (0 on failure), destination for connect */
	__s32 ret;	   /* 0 or -errno (-EADDRNOTAVAIL, -EADDRINUSE) */
	__u32 netns;
	__u32 scan;	   /* candidate ports examined (EVF_SCAN_KNOWN) */
	__u16 range_lo;	   /* the netns's ip_local_port_range */
	__u16 range_hi;
	__u16 flags;
	__u8 op;	   /* enum port_op */
	__u8 via;	   /* enum hook_via: the tier that saw it */
	__u8 _pad[4];
};

struct ev_listen_ovf {
	struct ev_hdr hdr;
	__u64 sk;	       /* the listener */
	struct ev_owner owner; /* the listener's owner, when known */
	struct ev_tuple t;     /* listener address:port; the peer when known (ACK stage) */
	__u32 netns;
	__u32 accept_queue; /* sk_ack_backlog at the drop */
	__u32 backlog;	    /* sk_max_ack_backlog: min(listen() backlog, somaxconn) */
	__u16 flags;
	__u8 stage; /* enum ovf_stage */
	__u8 via;   /* enum hook_via */
};

/* Counters in the BPF program's .bss, read by user space on every poll pass */
enum drop_reason {
	DROP_RINGBUF = 0,  /* bpf_ringbuf_reserve failed: buffer full */
	DROP_MAP_FULL,	   /* a hash map refused an insert */
	DROP_KPROBE_BUSY,  /* a tcp_time_wait kprobe may have been skipped: another kprobe
			    * or classic tracepoint program of ours was running on that CPU
			    * (the kernel's bpf_prog_active guard; uncounted before 6.7) */
	DROP_MAX,
};

/* The LRU maps whose inserts minus deletes .bss lru_live[] counts (evictions
 * show as more live entries than the map holds) */
enum lru_id {
	LRU_SOCK, /* socks: per-socket owner and state age */
	LRU_TW,	  /* tws: live timewait sockets */
	LRU_MAX,
};

/* The hooks with a twin program (twin.bpf.h); .bss twin_rescued[] by hook */
enum twin_hook {
	TWIN_STATE,	  /* on_set_state / on_set_state_nested */
	TWIN_TIMER_START, /* on_timer_start / on_timer_start_nested */
	TWIN_TW_SCHEDULE, /* fe_tw_schedule / fe_tw_schedule_nested */
	TWIN_TW_KILL,	  /* fe_tw_kill / fe_tw_kill_nested */
	TWIN_MAX,
};

#define TCPSCOPE_ASSERT_SIZE(t, n) _Static_assert(sizeof(t) == (n), #t " changed size: update both sides")
TCPSCOPE_ASSERT_SIZE(struct ev_hdr, 16);
TCPSCOPE_ASSERT_SIZE(struct ev_tuple, 40);
TCPSCOPE_ASSERT_SIZE(struct ev_owner, 32);
TCPSCOPE_ASSERT_SIZE(struct ev_state, 16 + 24 + 32 + 40 + 8);
TCPSCOPE_ASSERT_SIZE(struct ev_tw, 16 + 32 + 32 + 40 + 8 + 8);
TCPSCOPE_ASSERT_SIZE(struct ev_call, 16 + 16 + 32 + 40 + 16);
TCPSCOPE_ASSERT_SIZE(struct ev_port, 16 + 16 + 32 + 40 + 24);
TCPSCOPE_ASSERT_SIZE(struct ev_listen_ovf, 16 + 8 + 32 + 40 + 16);

#endif /* TCPSCOPE_H */
