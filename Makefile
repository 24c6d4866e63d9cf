# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make            build .output/tcpscope
# make run        install missing build dependencies, build, trace live (root)
# make test       install missing dependencies, build, run unit, end-to-end and VM tests (root)
# make vmtest     only the VM tests, full set (Debian's kernel under qemu: fentry and kprobe tiers);
#                 KERNELS="bullseye bookworm trixie" for each of those releases' kernels
# make bench      loopback churn benchmark: tracer on vs off
# make stress     exactness under churn, long: RUNS=20 CONNECTIONS=50000 (root)
# make soak       top, diagnose and trace at once for MINUTES (default 30) under
#                 mixed load in namespaces that come and go (root)
# make scale      serve's scrape time and the RSS of serve and diagnose at
#                 2 x NAMESPACES x CONNECTIONS sockets (default 160,000)
# make deps       only install the missing Debian packages
# make install    the binary and the man page under PREFIX (/usr/local), DESTDIR for packagers
# make STATIC=1   fully static binary (for VM tests)
# make V=1        show full commands
# make test SAN=1 build with AddressSanitizer and UndefinedBehaviorSanitizer
#                 (in .output-san) and run the unit and host end-to-end tests
#                 with those binaries (not the VM: its binary is static)
# make fuzz       libFuzzer targets (tests/fuzz), FUZZ_SECONDS each (default 60),
#                 built with clang in .output-fuzz; a crash is saved to the corpus

OUTPUT ?= .output$(if $(filter 1,$(STATIC)),-static)$(if $(filter 1,$(SAN)),-san)$(if $(filter 1,$(FUZZ)),-fuzz)
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
CC ?= gcc
PKG_CONFIG ?= pkg-config
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
# the kernel's types for CO-RE, one directory per architecture
# (scripts/gen-vmlinux.sh writes this architecture's)
VMLINUX_DIR ?= vmlinux/$(ARCH)
VMLINUX_H := $(VMLINUX_DIR)/vmlinux.h
ifeq ($(wildcard $(VMLINUX_H)),)
ifeq ($(filter vmlinux deps clean,$(MAKECMDGOALS)),)
$(error no $(VMLINUX_H): the tree has x86's only; on this $(ARCH) host run 'make vmlinux' (needs /sys/kernel/btf/vmlinux, or VMLINUX_BTF=FILE))
endif
endif

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ifeq ($(STATIC),1)
LIBS = $(shell $(PKG_CONFIG) --static --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz) -lzstd -lm \
	$(shell $(PKG_CONFIG) --static --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
STATIC_LDFLAGS = -static
else
LIBS = $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf) -lz -lm -lmicrohttpd \
	$(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
endif

CFLAGS ?= -g -O2
ifeq ($(SAN),1)
# every finding is an error: a sanitizer report fails the test that hit it
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(FUZZ),1)
CC = $(CLANG)
CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
WARN := -Wall -Wextra -Wno-unused-parameter -Werror
INCLUDES := -I$(OUTPUT) -Ibpf -Iuser $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
ALL_CFLAGS = $(CFLAGS) $(WARN) $(INCLUDES) -D_GNU_SOURCE -MMD -MP $(EXTRA_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(STATIC_LDFLAGS) $(EXTRA_LDFLAGS)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

# user/ objects shared by the tool and the unit tests; main.c only dispatches.
# The static build has no libmicrohttpd (serve --textfile only: http_none.c)
LIB_SRCS := $(filter-out user/main.c $(if $(filter 1,$(STATIC)),user/http.c,user/http_none.c),\
	$(wildcard user/*.c))
LIB_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
TOOLS := $(OUTPUT)/tcpscope $(OUTPUT)/tests/scenario $(OUTPUT)/tests/ts-count $(OUTPUT)/progstats
# fuzz targets: with libFuzzer (make fuzz), and as corpus replayers in make test
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
REGRESS_BINS := $(patsubst %,$(OUTPUT)/tests/regress_%,$(FUZZ_NAMES))
FUZZ_BINS := $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZ_NAMES))

.PHONY: all clean deps run test unit e2e vmtest bench stress soak scale vmlinux fuzz fuzz-bins \
	install uninstall
.DELETE_ON_ERROR:
.SECONDARY:

all: $(TOOLS) $(UNIT_BINS) $(REGRESS_BINS) $(OUTPUT)/tests/mkrecords

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests $(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

BPF_CFLAGS = -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I$(VMLINUX_DIR)

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(VMLINUX_H) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ibpf \
		$(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null) -MMD -MP -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# the one object that includes the skeleton
$(OUTPUT)/user/loader.o: $(SKELS)

$(OUTPUT)/tcpscope: $(OUTPUT)/user/main.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $^ $(ALL_LDFLAGS) $(LIBS) -o $@

$(OUTPUT)/tests/%.o: tests/unit/%.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -c $< -o $@

$(OUTPUT)/tests/test_%: $(OUTPUT)/tests/test_%.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $^ $(ALL_LDFLAGS) $(LIBS) -o $@

# scripts/bench's per-program BPF time (BPF_ENABLE_STATS while a command runs)
$(OUTPUT)/progstats: scripts/progstats.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(ALL_LDFLAGS) $(LIBS) -o $@

$(OUTPUT)/tests/scenario: tests/scenario.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -MMD -MP $< $(STATIC_LDFLAGS) -lpthread -o $@

$(OUTPUT)/tests/fuzz_%.o: tests/fuzz/fuzz_%.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/tests/%.o: tests/fuzz/%.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/tests/regress_%: $(OUTPUT)/tests/fuzz_%.o $(OUTPUT)/tests/driver.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $^ $(ALL_LDFLAGS) $(LIBS) -o $@

$(OUTPUT)/tests/mkrecords: $(OUTPUT)/tests/mkrecords.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $^ $(ALL_LDFLAGS) $(LIBS) -o $@

$(OUTPUT)/fuzz/fuzz_%: $(OUTPUT)/tests/fuzz_%.o $(LIB_OBJS) | $(OUTPUT)/fuzz
	$(call msg,LINK,$@)
	$(Q)$(CC) -fsanitize=fuzzer $^ $(ALL_LDFLAGS) $(LIBS) -o $@

# the tests' independent transition counter (its own BPF program)
$(OUTPUT)/tests/count.bpf.o: tests/count/count.bpf.c $(VMLINUX_H) | $(OUTPUT)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) \
		$(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUTPUT)/tests/count.skel.h: $(OUTPUT)/tests/count.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/tests/ts-count: tests/count/ts-count.c $(OUTPUT)/tests/count.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -I$(OUTPUT)/tests $(INCLUDES) -D_GNU_SOURCE $< $(ALL_LDFLAGS) $(LIBS) -o $@

vmlinux:
	scripts/gen-vmlinux.sh

deps:
	@scripts/install-deps.sh

run: deps
	$(MAKE) --no-print-directory all
	$(OUTPUT)/tcpscope trace $(ARGS)

test: deps
	$(MAKE) --no-print-directory all
	$(if $(filter 1,$(SAN)),OUTPUT=$(OUTPUT) TCPSCOPE_NO_VM=1 TCPSCOPE_SAN=1 TESTS_EXCLUDE='^test_soak_' \
		TESTS_EXCLUDE_WHY="the soak bounds RSS and ASan's quarantine of freed memory makes that bound meaningless") tests/run.sh

unit: $(UNIT_BINS)
	tests/run.sh unit

e2e: $(TOOLS)
	tests/run.sh e2e

# KERNELS: Debian releases whose cloud kernel to boot (bullseye 5.10,
# bookworm 6.1, trixie 6.12; "host" = this machine's release), each the
# whole suite with fentry and with kprobes
KERNELS ?= host
vmtest: deps
	@rc=0; for k in $(KERNELS); do \
		echo "== vmtest: $$k"; \
		VMTEST_KERNEL=$$([ $$k = host ] || echo $$k) VMTEST_PASSES=fentry,kprobe \
			VMTEST_KPROBE_PATTERN= tests/vm/run.sh || rc=1; \
	done; exit $$rc

bench:
	@scripts/install-deps.sh --bench
	$(MAKE) --no-print-directory all
	scripts/bench $(ROUNDS) $(SECONDS)

stress: deps
	$(MAKE) --no-print-directory all
	tests/stress.sh $(or $(RUNS),20) $(or $(CONNECTIONS),50000)

soak: deps
	$(MAKE) --no-print-directory all
	tests/soak.sh $(or $(MINUTES),30)

scale: deps
	$(MAKE) --no-print-directory all
	scripts/scale $(or $(NAMESPACES),5) $(or $(CONNECTIONS),16000)

fuzz: deps
	$(MAKE) --no-print-directory FUZZ=1 fuzz-bins
	OUTPUT=.output-fuzz tests/fuzz/run.sh $(or $(FUZZ_SECONDS),60)

fuzz-bins: $(FUZZ_BINS)

# make install [PREFIX=/usr/local] [DESTDIR=staging dir]: the binary and its man page
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
install: $(OUTPUT)/tcpscope
	install -D -m 0755 $(OUTPUT)/tcpscope $(DESTDIR)$(SBINDIR)/tcpscope
	install -D -m 0644 tcpscope.8 $(DESTDIR)$(MANDIR)/man8/tcpscope.8

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/tcpscope $(DESTDIR)$(MANDIR)/man8/tcpscope.8

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/tests/*.d)
