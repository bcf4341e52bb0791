# softee-guest: a host with one micro-VM guest, end to end over a real link
# (user/guest/main.c, Documentation/guest.rst).  The guest's code
# (e2e_guest.c, softee/e2e.h) is shared with selftests/poller_e2e_test.
# The top Makefile reads user/microvm/build.mk first, for microvm_guest.
GUEST_E2E_SRCS := user/guest/e2e_guest.c
$(call microvm_guest,$(GUEST_E2E_SRCS))

USER_PROGS += $(B)/softee-guest
$(B)/softee-guest: $(B)/user/guest/main.o $(B)/user/guest/e2e_host.o $(B)/user/guest/e2e_guest.o $(B)/libsoftee_poller.a \
		   $(B)/libmicrovm.a $(B)/libsoftee_dpdk.a $(B)/libsoftee.a user/microvm/check-guest
	user/microvm/check-guest $(MICROVM_GUEST_OBJ) $(B)/user/guest/e2e_guest.o && \
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(filter %.o,$^) $(filter %.a,$^) $(DPDK_LIBS) $(URCU_LIBS) -lm $(LDLIBS)
