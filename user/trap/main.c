// SPDX-License-Identifier: GPL-2.0
/*
 * softee-trap: the standalone guest MMIO trapping tool.
 *
 *   softee-trap run     a micro-VM drives a marked region (module or exits)
 *   softee-trap bench   ns per guest access through one mechanism
 *   softee-trap attach  trace the accesses of a running VMM's guest
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <softee/kmod.h>

#include "trap.h"

static void trap_usage(FILE *f)
{
	fprintf(f,
		"usage: " TRAP_NAME " run    [--kmod|--exit] [--program write|read|mixed] [--size 1|2|4|8|all]\n"
		"                          [--count N] [--vcpus N] [--mmio BASE:LEN | --pio BASE:LEN]\n"
		"                          [--wait spin|yield|sleep] [--timeout-us N] [--ring-entries N]\n"
		"                          [--max-seconds N] [--quiet|--trace] [--pin|--no-pin]\n"
		"                          [--pause-every N]\n"
		"       " TRAP_NAME " bench  --case CASE [--count N] [--mmio BASE:LEN | --pio BASE:LEN]\n"
		"                          [--wait spin|yield|sleep] [--pin|--no-pin] [--timeout-us N]\n"
		"                          [--ring-entries N] [--quiet] [--pause-every N]\n"
		"         CASE: null_write softee_write softee_read exit_write exit_read\n"
		"               exitring_write exitring_read ioeventfd_write coalesced_write\n"
		"       " TRAP_NAME " attach --pid PID (--mmio BASE:LEN | --pio BASE:LEN) [--read-value V]\n"
		"                          [--count N] [--duration S] [--rings N] [--timeout-us N]\n"
		"                          [--wait spin|yield|sleep]\n"
		"       " TRAP_NAME " help\n"
		"See user/trap/README.md.\n");
}

int trap_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, TRAP_NAME "%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '" TRAP_NAME " help')\n");
	return TRAP_EXIT_USAGE;
}

int trap_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t min,
		   uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE) {
		trap_usage_error(cmd, "%s: '%s' is too large", opt, s);
		return -1;
	}
	if (errno || *end)
		goto bad;
	if (v < min || v > max) {
		trap_usage_error(cmd, "%s: %s is out of range %llu..%llu", opt, s,
				 (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
bad:
	trap_usage_error(cmd, "%s: '%s' is not a number", opt, s);
	return -1;
}

int trap_parse_range(const char *cmd, const char *opt, const char *s, uint8_t bus,
		     uint64_t *base, uint64_t *len)
{
	const char *colon = strchr(s, ':');
	char b[64], what[32];
	uint64_t limit = bus == SOFTEE_BUS_PIO ? 0x10000 : UINT64_MAX;

	if (!colon || colon == s || !colon[1] || (size_t)(colon - s) >= sizeof(b)) {
		trap_usage_error(cmd, "%s: '%s' is not BASE:LEN (e.g. %s)", opt, s,
				 bus == SOFTEE_BUS_PIO ? "0x6000:0x100" : "0xc0000000:0x1000");
		return -1;
	}
	memcpy(b, s, (size_t)(colon - s));
	b[colon - s] = 0;
	snprintf(what, sizeof(what), "%s base", opt);
	if (trap_parse_u64(cmd, what, b, 0, limit - 1, base))
		return -1;
	snprintf(what, sizeof(what), "%s length", opt);
	if (trap_parse_u64(cmd, what, colon + 1, 1, limit, len))
		return -1;
	if (*base + *len < *base || *base + *len > limit) {
		trap_usage_error(cmd, "%s: %s ends past %s", opt, s,
				 bus == SOFTEE_BUS_PIO ? "port 0xffff" : "the 64-bit address space");
		return -1;
	}
	return 0;
}

void trap_print_entry(FILE *f, const struct softee_ring_entry *e, uint64_t data,
		      uint64_t t0_ns)
{
	uint64_t t = e->time_ns >= t0_ns ? e->time_ns - t0_ns : 0;
	unsigned int len = e->len <= 8 ? e->len : 8;

	fprintf(f, "%6llu.%06llu vcpu %-3u %-5s %-4s 0x%012llx %u 0x%0*llx\n",
		(unsigned long long)(t / 1000000000ULL),
		(unsigned long long)(t % 1000000000ULL / 1000), e->vcpu,
		e->op == SOFTEE_OP_READ ? "read" : e->op == SOFTEE_OP_WRITE ? "write" : "op?",
		softee_bus_name(e->bus), (unsigned long long)e->addr, e->len,
		(int)(2 * (len ? len : 1)), (unsigned long long)(data & trap_mask(len ? len : 1)));
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd)
		return trap_usage_error(NULL, "no command: run, bench, attach or help");
	if (!strcmp(cmd, "run"))
		return trap_cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "bench"))
		return trap_cmd_bench(argc - 1, argv + 1);
	if (!strcmp(cmd, "attach"))
		return trap_cmd_attach(argc - 1, argv + 1);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		trap_usage(stdout);
		return 0;
	}
	return trap_usage_error(NULL, "'%s' is not a command: run, bench, attach or help", cmd);
}
