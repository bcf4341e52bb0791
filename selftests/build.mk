# selftests: one program per feature, listed one per line.
SELFTESTS := \
	kmod_ioctl_test \
	transport_tlp_test \
	transport_fault_test \
	transport_frame_test \
	transport_doc_test \
	transport_gbn_test \
	transport_liveness_test \
	transport_ratectl_test \
	transport_api_test \
	netdev_split_test \
	box_testdev_test \
	box_daemon_test \
	box_nvme_test \
	kmod_trap_test \
	kmod_hostile_test \
	kmod_cfg_test \
	poller_dma_test \
	poller_e2e_test \

SELFTEST_PROGS += $(addprefix $(B)/selftests/,$(SELFTESTS))

$(B)/selftests/%.o: CFLAGS += -isystem $(KSFT_INC) -I$(CURDIR)/selftests/lib
# (explicit targets: a pattern rule without a recipe would cancel the
# generic one)
$(patsubst %.c,$(B)/%.o,$(wildcard selftests/*.c selftests/*/*.c)): | $(KSFT_INC)/kselftest_harness.h
$(B)/selftests/%_test: $(B)/selftests/%_test.o $(LIBSOFTEE)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The DPDK backend with an EAL its owner started (one EAL per process: the
# harness forks each test).  It links as softee-linkbench does: the DPDK
# backend before libsoftee.a, then DPDK's libraries.
SELFTEST_PROGS += $(B)/selftests/dpdk_eal_test
CFLAGS_dpdk_eal_test += $(DPDK_CFLAGS)
$(B)/selftests/dpdk_eal_test: $(B)/selftests/dpdk_eal_test.o $(B)/libsoftee_dpdk.a $(B)/libsoftee.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(DPDK_LIBS) $(LDLIBS)

# The ring library and the micro-VM library, natively (no module).
SELFTEST_PROGS += $(B)/selftests/ring_test $(B)/selftests/microvm_test
$(call microvm_guest,selftests/microvm_test_guest.c)
$(B)/selftests/microvm_test: $(B)/selftests/microvm_test.o $(B)/selftests/microvm_test_guest.o \
		$(B)/libmicrovm.a $(B)/libsoftee.a user/microvm/check-guest
	$(call microvm_link,$(B)/selftests/microvm_test_guest.o)

# Tests with a micro-VM guest: the guest's code beside the test (built as
# guest code, user/microvm/README.md), the host helpers in lib/.
KMOD_GUEST_SRCS := selftests/kmod_trap_guest.c selftests/kmod_hostile_guest.c
$(call microvm_guest,$(KMOD_GUEST_SRCS))
KMOD_UTIL_OBJS := $(B)/selftests/lib/kmod_util.o

$(B)/selftests/kmod_trap_test: $(B)/selftests/kmod_trap_test.o $(KMOD_UTIL_OBJS) \
		$(B)/selftests/kmod_trap_guest.o $(B)/libmicrovm.a $(B)/libsoftee.a \
		user/microvm/check-guest
	$(call microvm_link,$(B)/selftests/kmod_trap_guest.o)

$(B)/selftests/kmod_hostile_test: $(B)/selftests/kmod_hostile_test.o $(KMOD_UTIL_OBJS) \
		$(B)/selftests/kmod_hostile_guest.o $(B)/libmicrovm.a $(B)/libsoftee.a \
		user/microvm/check-guest
	$(call microvm_link,$(B)/selftests/kmod_hostile_guest.o)

$(call microvm_guest,selftests/kmod_cfg_guest.c)
$(B)/selftests/kmod_cfg_test: $(B)/selftests/kmod_cfg_test.o $(KMOD_UTIL_OBJS) \
		$(B)/selftests/kmod_cfg_guest.o $(B)/libmicrovm.a $(B)/libsoftee.a \
		user/microvm/check-guest
	$(call microvm_link,$(B)/selftests/kmod_cfg_guest.o)

# The firmware of trap_attach_qemu.sh's QEMU guest: a 64 KiB flat image
# (selftests/lib/attach_fw.S says what it does).
SELFTEST_PROGS += $(B)/selftests/attach_fw.bin
$(B)/selftests/attach_fw.bin: selftests/lib/attach_fw.S
	@mkdir -p $(dir $@)
	$(CC) -m32 -c -o $(B)/selftests/attach_fw.o $<
	ld -m elf_i386 -nostdlib --build-id=none -Ttext=0 -e fw_start \
		-o $(B)/selftests/attach_fw.elf $(B)/selftests/attach_fw.o
	objcopy -O binary -j .text $(B)/selftests/attach_fw.elf $@
	@test "$$(stat -c %s $@)" = 65536 || { echo "$@: not 64 KiB" >&2; rm -f $@; exit 1; }

