# softee-poller: the host side (user/poller, Documentation/poller.rst).
#
# The poller is a library, build/libsoftee_poller.a, so that the tests can
# run it in-process beside a micro-VM; build/softee-poller is its daemon
# (main.c).  It needs liburcu (memb flavour).  The daemon links the DPDK
# backend (name the libraries literally: prerequisites are expanded as
# this fragment is read, before user/netdev/build.mk).
POLLER_LIB_SRCS := user/poller/poller.c user/poller/bridge.c user/poller/tags.c \
		   user/poller/devcfg.c user/poller/memmap.c user/poller/dma.c \
		   user/poller/msi.c user/poller/trap.c user/poller/ctl.c
POLLER_LIB_OBJS := $(patsubst %.c,$(B)/%.o,$(POLLER_LIB_SRCS))

URCU_CFLAGS := $(shell pkg-config --cflags liburcu-memb 2>/dev/null)
URCU_LIBS := $(shell pkg-config --libs liburcu-memb 2>/dev/null || echo -lurcu-memb -lurcu-common)
# The read side inlined (liburcu's _LGPL_SOURCE): no call on the data path.
$(foreach s,$(POLLER_LIB_SRCS),$(eval CFLAGS_$(basename $(notdir $(s))) += $$(URCU_CFLAGS) -D_LGPL_SOURCE))

LIBSOFTEE_POLLER := $(B)/libsoftee_poller.a
$(B)/libsoftee_poller.a: $(POLLER_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

USER_PROGS += $(B)/softee-poller
$(B)/softee-poller: $(B)/user/poller/main.o $(B)/libsoftee_poller.a $(B)/libsoftee_dpdk.a $(B)/libsoftee.a
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(filter %.o,$^) $(filter %.a,$^) $(DPDK_LIBS) $(URCU_LIBS) -lm $(LDLIBS)

# The poller's tests (selftests/poller_*): the library in-process, with a
# micro-VM guest and the box library for the end-to-end one.
# (Its guest, user/guest/e2e_guest.c, is compiled as guest code by user/guest/build.mk.)
$(B)/selftests/poller_e2e_test: LDLIBS += $(URCU_LIBS)
$(B)/selftests/poller_e2e_test: $(B)/selftests/poller_e2e_test.o $(B)/user/guest/e2e_host.o \
		$(B)/user/guest/e2e_guest.o \
		$(B)/libsoftee_poller.a $(B)/libmicrovm.a $(B)/libsoftee.a user/microvm/check-guest
	$(call microvm_link,$(B)/user/guest/e2e_guest.o)

$(B)/selftests/poller_dma_test: LDLIBS += $(URCU_LIBS)
$(B)/selftests/poller_dma_test: $(B)/selftests/poller_dma_test.o $(B)/libsoftee_poller.a $(B)/libsoftee.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)
