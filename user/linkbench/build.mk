# softee-linkbench: one end of a link for the tests and the transport
# benchmark (user/linkbench/main.c).  It links the DPDK backend
# (user/netdev/build.mk, included after this file: name the libraries
# literally here, as prerequisites are expanded as they are read).
LINKBENCH_SRCS := user/linkbench/main.c user/linkbench/raw.c user/linkbench/xport.c \
		  user/linkbench/meter.c user/linkbench/line.c

USER_PROGS += $(B)/softee-linkbench
$(B)/softee-linkbench: $(patsubst %.c,$(B)/%.o,$(LINKBENCH_SRCS)) $(B)/libsoftee_dpdk.a $(B)/libsoftee.a
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(filter %.o,$^) $(filter %.a,$^) $(DPDK_LIBS) -lm $(LDLIBS)
