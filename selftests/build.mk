# selftests: one program per feature, listed one per line.
SELFTESTS := \
	kmod_ioctl_test \

SELFTEST_PROGS += $(addprefix $(B)/selftests/,$(SELFTESTS))

$(B)/selftests/%.o: CFLAGS += -isystem $(KSFT_INC) -I$(CURDIR)/selftests/lib
$(B)/selftests/%.o: | $(KSFT_INC)/kselftest_harness.h
$(B)/selftests/%_test: $(B)/selftests/%_test.o $(LIBSOFTEE)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
