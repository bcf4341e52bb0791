# softee - top-level build.
#
#   make            module, user programs and selftests
#   make demo       install what is missing, build, run the demo
#   make check      install what is missing, build, run every test
#   make check-nested  only the nested QEMU/NVMe tests (a part of check)
#   make bench-trap the trap-path benchmark (in the test VM)
#   make bench-transport  the transport over socket and DPDK backends
#   make bench-e2e        a guest's reads and DMA through a box, per link
#   make bench-nvme       fio in a nested guest on the remote NVMe SSD, per link
#
# Everything user space builds goes to build/; the module is built by Kbuild
# in place (kmod/*.o) and copied to build/softee.ko.

B	:= build
SHELL	:= /bin/bash

# make SANITIZE=1 ...: everything user space builds, with ASan and UBSan,
# into build-san/ (the module and the test VM's files stay in build/).
ifeq ($(SANITIZE),1)
B	:= build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

# The kernel to build against: the newest installed Debian linux-headers
# that has a matching installed linux-image.
KVER	?= $(shell for d in $$(ls -d /lib/modules/*/build 2>/dev/null | sort -rV); do \
		v=$${d#/lib/modules/}; v=$${v%/build}; \
		[ -e /boot/vmlinuz-$$v ] && { echo $$v; break; }; done)
KDIR	?= /lib/modules/$(KVER)/build

CC	:= gcc
WARN	:= -Wall -Wextra -Werror
CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 $(WARN) -D_GNU_SOURCE -pthread -I$(CURDIR)/uapi -I$(CURDIR)/user/include $(SAN_FLAGS)
LDFLAGS	+= -pthread $(SAN_FLAGS)
# kselftest_harness.h is not -Wextra clean: it comes in with -isystem.
KSFT_INC := $(B)/include/kselftest

# Debian packages the project needs (DESIGN.md, "Packages from Debian").
PKGS	:= build-essential pkg-config dpdk-dev libdpdk-dev liburcu-dev \
	   linux-headers-amd64 linux-image-amd64 linux-source-6.1 \
	   qemu-system-x86 busybox-static kmod cpio xz-utils fio iproute2 \
	   tshark clang libclang-rt-14-dev pciutils nvme-cli gnuplot-nox \
	   python3-docutils strace

all: user module selftests

# Per-component fragments add to these.
USER_PROGS :=
SELFTEST_PROGS :=
LIBSOFTEE_SRCS :=

LIBSOFTEE := $(B)/libsoftee.a

# The micro-VM fragment first: others call its microvm_guest as they are read.
include user/microvm/build.mk
include $(filter-out user/microvm/build.mk,$(sort $(wildcard user/*/build.mk))) \
	$(wildcard selftests/build.mk)

LIBSOFTEE_OBJS := $(patsubst %.c,$(B)/%.o,$(LIBSOFTEE_SRCS))

$(LIBSOFTEE): $(LIBSOFTEE_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CFLAGS_$(*F)) -MMD -MP -c $< -o $@

.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)

user: $(USER_PROGS)
selftests: $(SELFTEST_PROGS)

# ---- the module -----------------------------------------------------------

module: $(B)/softee.ko
$(B)/softee.ko: $(wildcard kmod/*.c kmod/*.h) uapi/softee.h Kbuild
	@test -d "$(KDIR)" || { echo "make: no kernel headers at KDIR=$(KDIR); run 'make deps' or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
	@mkdir -p $(B)
	cp softee.ko $@

# ---- installing what is missing --------------------------------------------

deps: $(B)/.deps-ok $(KSFT_INC)/kselftest_harness.h

$(B)/.deps-ok: Makefile
	@missing=$$(for p in $(PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing:" $$missing; \
		[ "$$(id -u)" = 0 ] || { echo "deps: need root to install:" $$missing >&2; exit 1; }; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $$missing; \
	fi
	@mkdir -p $(B) && touch $@

# kselftest_harness.h and kselftest.h come from Debian's linux-source-6.1 at
# build time and are never committed.
$(KSFT_INC)/kselftest_harness.h: | $(B)/.deps-ok
	@mkdir -p $(KSFT_INC) $(B)/tmp
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C $(B)/tmp \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h
	cp $(B)/tmp/linux-source-6.1/tools/testing/selftests/kselftest*.h $(KSFT_INC)/
	rm -rf $(B)/tmp

# ---- the README's two commands ----------------------------------------------

check: deps
	$(MAKE) all
	selftests/run-checks

demo: deps
	$(MAKE) all
	selftests/demo

# Only the nested-guest tests of check (an unmodified QEMU/KVM guest using
# a remote NVMe controller; their own boot of the test VM, multi-threaded
# TCG).
check-nested: deps
	$(MAKE) all
	selftests/run-checks --where vm-nested

# Every test again, user space built with ASan and UBSan.
check-san: deps
	$(MAKE) SANITIZE=1 all
	SOFTEE_BUILD_DIR=build-san selftests/run-checks

# The libFuzzer harnesses, longer than make check runs them (FUZZ_SECONDS
# each, default 600).
fuzz: deps
	selftests/fuzz/run-fuzz $(or $(FUZZ_SECONDS),600)

# The transport benchmark: socket vs DPDK on veth, and DPDK over memif.
bench-transport: deps
	$(MAKE) all
	selftests/bench/transport-bench

bench-trap: deps
	$(MAKE) all
	selftests/bench/trap-bench

bench-e2e: deps
	$(MAKE) all
	selftests/bench/e2e-bench

# fio in a nested QEMU/KVM guest on the remote NVMe controller, per link,
# and on NVMe/TCP (in the test VM); a PNG chart in build/bench/nvme.png.
bench-nvme: deps
	$(MAKE) all
	selftests/bench/nvme-bench

clean:
	rm -rf $(B)
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null

.PHONY: all user module selftests deps check demo clean bench-trap bench-transport bench-e2e bench-nvme fuzz \
	check-san check-nested
