// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "fmt.h"
#include "probe.h"

/* Kernel BTF, loaded once: probing several functions must not parse it
 * each time. */
static struct btf *vmlinux_btf(void)
{
	static struct btf *btf;

	if (!btf)
		btf = btf__load_vmlinux_btf();
	return btf;
}

bool probe_fentry(const char *func, char *why, size_t len)
{
	/* r0 = 0; exit */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	struct btf *btf = vmlinux_btf();
	int id, fd, link;

	if (!btf) {
		snprintf(why, len, "fentry: no kernel BTF");
		return false;
	}
	id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	if (id < 0) {
		snprintf(why, len, "fentry: %s not in kernel BTF (inlined?)", func);
		return false;
	}
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "tcpscope_probe", "GPL", insns, 2, &opts);
	if (fd < 0) {
		snprintf(why, len, "fentry: %s at load (%s)", fmt_errno(errno), func);
		return false;
	}
	link = bpf_raw_tracepoint_open(NULL, fd);
	if (link < 0) {
		snprintf(why, len, "fentry: %s at attach (%s)", fmt_errno(errno), func);
		close(fd);
		return false;
	}
	close(link);
	close(fd);
	return true;
}

bool probe_tracing_cookie(void)
{
	/* r1 = ctx[0] (the socket); call bpf_get_socket_cookie; r0 = 0; exit */
	const struct bpf_insn insns[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_1, .src_reg = BPF_REG_1 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_socket_cookie },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP);
	struct btf *btf = vmlinux_btf();
	int id, fd;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "btf_trace_inet_sock_set_state", BTF_KIND_TYPEDEF);
	if (id < 0)
		return false;
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "tcpscope_probe", "GPL", insns, 4, &opts);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool probe_cmpxchg(void)
{
	/* *(u64 *)(r10 - 8) = 0; r0 = 0; r1 = 1; r0 = cmpxchg(r10 - 8, r0, r1);
	 * r0 = 0; exit */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .off = -8, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 1 },
		{ .code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_1,
		  .off = -8, .imm = BPF_CMPXCHG },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "tcpscope_probe", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool in_file(const char *path, const char *func, int field)
{
	char line[512];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *tok = strtok(line, " \t\n");

		for (int i = 0; tok && i < field; i++)
			tok = strtok(NULL, " \t\n");
		found = tok && !strcmp(tok, func);
	}
	fclose(f);
	return found;
}

/* A whole /proc file (their size reads as 0), NUL-terminated, or NULL. */
static char *slurp(const char *path)
{
	size_t len = 0, cap = 1 << 20;
	char *buf = malloc(cap);
	FILE *f = fopen(path, "r");
	size_t n;

	if (!buf || !f) {
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			char *p = realloc(buf, cap * 2);

			if (!p)
				break;
			buf = p;
			cap *= 2;
		}
	}
	buf[len] = 0;
	fclose(f);
	return buf;
}

/* /proc/kallsyms, read once for every look-up of a run. */
static const char *kallsyms(void)
{
	static char *text;
	static bool tried;

	if (!tried) {
		tried = true;
		text = slurp("/proc/kallsyms");
	}
	return text;
}

/* The line "ADDR T name" (or "ADDR t name\t[module]") of a symbol, or NULL. */
static const char *ksym_line(const char *name)
{
	const char *text = kallsyms(), *p;
	size_t n = strlen(name);

	for (p = text; p && (p = strstr(p, name)); p += n)
		if (p > text && p[-1] == ' ' && (p[n] == '\n' || p[n] == '\t' || !p[n])) {
			while (p > text && p[-1] != '\n')
				p--;
			return p;
		}
	return NULL;
}

uint64_t probe_ksym_addr(const char *name)
{
	const char *line = ksym_line(name);

	return line ? strtoull(line, NULL, 16) : 0;
}

bool probe_kprobe(const char *func, char *why, size_t len)
{
	if (access("/sys/bus/event_source/devices/kprobe/type", R_OK)) {
		snprintf(why, len, "kprobe: kernel built without CONFIG_KPROBES");
		return false;
	}
	if (!ksym_line(func)) {
		snprintf(why, len, "kprobe: %s not in /proc/kallsyms", func);
		return false;
	}
	if (in_file("/sys/kernel/debug/kprobes/blacklist", func, 1)) {
		snprintf(why, len, "kprobe: %s is blacklisted", func);
		return false;
	}
	return true;
}

int probe_tp_btf_args(const char *tp)
{
	char name[128];
	struct btf *btf = vmlinux_btf();
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf ? btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) : -1;
	if (id <= 0)
		return -1;
	/* typedef -> pointer -> func_proto(void *ctx, args...) */
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t) - 1;
}

int probe_func_args(const char *func)
{
	struct btf *btf = vmlinux_btf();
	const struct btf_type *t;
	int id = btf ? btf__find_by_name_kind(btf, func, BTF_KIND_FUNC) : -1;

	if (id <= 0)
		return -1;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	return t && btf_is_func_proto(t) ? btf_vlen(t) : -1;
}

bool probe_tp_btf(const char *tp)
{
	return probe_tp_btf_args(tp) >= 0;
}

bool probe_enum_value(const char *enum_name, const char *value)
{
	struct btf *btf = vmlinux_btf();
	const struct btf_type *t;
	int id = btf ? btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM) : -1;

	if (id <= 0)
		return false;
	t = btf__type_by_id(btf, id);
	for (int i = 0; i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, btf_enum(t)[i].name_off), value))
			return true;
	return false;
}
