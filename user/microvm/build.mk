# The micro-VM library (build/libmicrovm.a): a KVM guest whose code is C
# compiled into the host program.  See user/microvm/README.md.
#
# Guest code is compiled with MICROVM_GUEST_CFLAGS: it runs at ring 0 and
# may take interrupts (no red zone), has no TLS (no stack protector), no
# SSE state worth saving (general registers only), and must not call libc
# (no loop-to-memset/memcpy rewriting, string ops inlined).
MICROVM_GUEST_CFLAGS := -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-tree-loop-distribute-patterns -minline-all-stringops \
	-mstringop-strategy=rep_byte -fno-sanitize=all -fcf-protection=none

# $(call microvm_guest,SRCS): compile these .c files as guest code.
# (Per-file flags go by basename: give guest files unique names, *_guest.c.)
microvm_guest = $(foreach s,$(1),$(eval CFLAGS_$(basename $(notdir $(s))) += $$(MICROVM_GUEST_CFLAGS)))

# $(call microvm_link,GUEST_OBJS): the recipe that checks that the guest
# objects call only guest code, then links $@ from the .o and .a
# prerequisites, in their order (libmicrovm.a before libsoftee.a).
MICROVM_GUEST_OBJ := $(B)/user/microvm/microvm_guest.o
microvm_link = user/microvm/check-guest $(MICROVM_GUEST_OBJ) $(1) && \
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

LIBMICROVM := $(B)/libmicrovm.a
LIBMICROVM_SRCS := user/microvm/microvm.c user/microvm/microvm_guest.c
LIBMICROVM_OBJS := $(patsubst %.c,$(B)/%.o,$(LIBMICROVM_SRCS))
$(call microvm_guest,user/microvm/microvm_guest.c)

$(LIBMICROVM): $(LIBMICROVM_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
