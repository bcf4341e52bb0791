# The transport (softee/transport.h): TLP and frame codecs, Go-Back-N, rate
# control, liveness, the transport object, and the simulated link and
# fault injector the tests (and benchmarks) put under it.
LIBSOFTEE_SRCS += user/transport/tlp.c user/transport/crc32c.c user/transport/frame.c \
		  user/transport/gbn.c user/transport/ratectl.c user/transport/liveness.c \
		  user/transport/transport.c user/transport/sim.c user/transport/fault.c
