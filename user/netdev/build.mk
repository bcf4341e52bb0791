# The links under the transport (softee/netdev_open.h).
#
# The factory, the AF_PACKET socket backend, the split-layout wrapper
# (split.c) and the daemons' stack of link, wrapper and fault injector
# (stack.c) go in libsoftee.a and need nothing but the kernel.  The DPDK
# backend goes in its own build/libsoftee_dpdk.a: only a program that wants
# DPDK links it, before libsoftee.a and followed by $(DPDK_LIBS), so no
# other program pulls in DPDK.  With it goes dpdk_lcore.c, which lets the
# split wrapper run its loops on EAL lcores (installed by
# softee_dpdk_eal_init).  DPDK's pkg-config adds -march=corei7; its headers
# build clean under -Wall -Wextra -Werror.
LIBSOFTEE_SRCS += user/netdev/open.c user/netdev/socket.c user/netdev/split.c \
		  user/netdev/stack.c

DPDK_CFLAGS := $(shell pkg-config --cflags libdpdk 2>/dev/null)
DPDK_LIBS := $(shell pkg-config --libs libdpdk 2>/dev/null)
CFLAGS_dpdk += $(DPDK_CFLAGS)
CFLAGS_dpdk_lcore += $(DPDK_CFLAGS)

LIBSOFTEE_DPDK := $(B)/libsoftee_dpdk.a
$(LIBSOFTEE_DPDK): $(B)/user/netdev/dpdk.o $(B)/user/netdev/dpdk_lcore.o
	@test -n "$(DPDK_LIBS)" || { echo "make: pkg-config knows no libdpdk; run 'make deps'" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
