# softeectl: the operator's CLI (user/ctl/, Documentation/softeectl.rst).
# It only talks to the daemons' control sockets: no libsoftee, no DPDK.
SOFTEECTL_SRCS := user/ctl/main.c user/ctl/client.c user/ctl/table.c user/ctl/json.c \
		  user/ctl/attach.c

USER_PROGS += $(B)/softeectl
$(B)/softeectl: $(patsubst %.c,$(B)/%.o,$(SOFTEECTL_SRCS))
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The JSON reader's own test (selftests/softeectl_test.sh runs it first).
SELFTEST_PROGS += $(B)/selftests/softeectl_json_test
$(B)/selftests/softeectl_json_test: $(B)/selftests/softeectl_json_test.o $(B)/user/ctl/json.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
