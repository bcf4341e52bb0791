# selftests: one program per feature, listed one per line.
SELFTESTS := \
	kmod_ioctl_test \
	transport_tlp_test \
	transport_frame_test \
	transport_gbn_test \
	transport_liveness_test \
	transport_ratectl_test \
	transport_api_test \
	box_testdev_test \
	box_daemon_test \

SELFTEST_PROGS += $(addprefix $(B)/selftests/,$(SELFTESTS))

$(B)/selftests/%.o: CFLAGS += -isystem $(KSFT_INC) -I$(CURDIR)/selftests/lib
# (explicit targets: a pattern rule without a recipe would cancel the
# generic one)
$(patsubst %.c,$(B)/%.o,$(wildcard selftests/*.c selftests/*/*.c)): | $(KSFT_INC)/kselftest_harness.h
$(B)/selftests/%_test: $(B)/selftests/%_test.o $(LIBSOFTEE)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The ring library and the micro-VM library, natively (no module).
SELFTEST_PROGS += $(B)/selftests/ring_test $(B)/selftests/microvm_test
$(call microvm_guest,selftests/microvm_test_guest.c)
$(B)/selftests/microvm_test: $(B)/selftests/microvm_test.o $(B)/selftests/microvm_test_guest.o \
		$(B)/libmicrovm.a $(B)/libsoftee.a user/microvm/check-guest
	$(call microvm_link,$(B)/selftests/microvm_test_guest.o)
