# libsoftee: what the user-space programs share (ring, wait, the module's ioctls,
# one-line command-line errors, answers on control sockets).
LIBSOFTEE_SRCS += user/lib/ring.c user/lib/wait.c user/lib/kmod.c user/lib/args.c \
		  user/lib/send.c
