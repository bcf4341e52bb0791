# softee-trap: the standalone guest MMIO trapping tool (user/trap/README.md).
TRAP_SRCS := user/trap/main.c user/trap/run.c user/trap/engine.c \
	     user/trap/responder.c user/trap/attach.c
TRAP_GUEST_SRCS := user/trap/trap_guest.c
$(call microvm_guest,$(TRAP_GUEST_SRCS))
TRAP_GUEST_OBJS := $(patsubst %.c,$(B)/%.o,$(TRAP_GUEST_SRCS))

USER_PROGS += $(B)/softee-trap
$(B)/softee-trap: $(patsubst %.c,$(B)/%.o,$(TRAP_SRCS)) $(TRAP_GUEST_OBJS) \
		  $(B)/libmicrovm.a $(B)/libsoftee.a user/microvm/check-guest
	$(call microvm_link,$(TRAP_GUEST_OBJS))
