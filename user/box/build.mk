# softee-box: the I/O box daemon (user/box/main.c), and the box library it
# is built on (the box object, its DMA engine, the control commands, the
# config-space helper and the endpoint models) in libsoftee.a, where the
# tests find it too.  The daemon links the DPDK backend
# (user/netdev/build.mk, included after this file: name the library
# literally here, as prerequisites are expanded as they are read).
LIBSOFTEE_SRCS += user/box/box.c user/box/box_dma.c user/box/box_ctl.c user/box/pcicfg.c \
		  user/box/endpoint.c user/box/testdev.c user/box/nvme.c \
		  user/box/crc32.c

USER_PROGS += $(B)/softee-box
$(B)/softee-box: $(B)/user/box/main.o $(B)/libsoftee_dpdk.a $(B)/libsoftee.a
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(filter %.o,$^) $(filter %.a,$^) $(DPDK_LIBS) $(LDLIBS)
