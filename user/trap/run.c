// SPDX-License-Identifier: GPL-2.0
/* `softee-trap run` and `softee-trap bench`: their options, checked whole. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microvm/microvm.h>

#include "trap.h"

#define TRAP_DEFAULT_BASE	0xc0000000ULL
#define TRAP_DEFAULT_LEN	0x1000ULL
#define TRAP_RUN_COUNT		10000ULL
#define TRAP_BENCH_COUNT	100000ULL
#define TRAP_MAX_SECONDS	120
#define TRAP_BENCH_TIMEOUT_US	1000000	/* 1 s */

enum {
	OPT_KMOD = 256, OPT_EXIT, OPT_PROGRAM, OPT_SIZE, OPT_COUNT, OPT_VCPUS,
	OPT_MMIO, OPT_PIO, OPT_WAIT, OPT_QUIET, OPT_TRACE, OPT_TIMEOUT, OPT_ENTRIES,
	OPT_MAXSEC, OPT_CASE, OPT_HELP, OPT_PIN, OPT_NOPIN, OPT_PAUSE, OPT_LAPS,
};

static const struct option trap_run_longopts[] = {
	{ "kmod", no_argument, NULL, OPT_KMOD },
	{ "exit", no_argument, NULL, OPT_EXIT },
	{ "program", required_argument, NULL, OPT_PROGRAM },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "mmio", required_argument, NULL, OPT_MMIO },
	{ "pio", required_argument, NULL, OPT_PIO },
	{ "wait", required_argument, NULL, OPT_WAIT },
	{ "pause-every", required_argument, NULL, OPT_PAUSE },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "trace", no_argument, NULL, OPT_TRACE },
	{ "timeout-us", required_argument, NULL, OPT_TIMEOUT },
	{ "ring-entries", required_argument, NULL, OPT_ENTRIES },
	{ "max-seconds", required_argument, NULL, OPT_MAXSEC },
	{ "case", required_argument, NULL, OPT_CASE },
	{ "laps", required_argument, NULL, OPT_LAPS },
	{ "pin", no_argument, NULL, OPT_PIN },
	{ "no-pin", no_argument, NULL, OPT_NOPIN },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static const struct {
	const char *name;
	enum trap_case c;
} trap_cases[] = {
	{ "null_write", TRAP_CASE_NULL_WRITE },
	{ "softee_write", TRAP_CASE_SOFTEE_WRITE },
	{ "softee_read", TRAP_CASE_SOFTEE_READ },
	{ "exit_write", TRAP_CASE_EXIT_WRITE },
	{ "exit_read", TRAP_CASE_EXIT_READ },
	{ "exitring_write", TRAP_CASE_EXITRING_WRITE },
	{ "exitring_read", TRAP_CASE_EXITRING_READ },
	{ "ioeventfd_write", TRAP_CASE_IOEVENTFD_WRITE },
	{ "coalesced_write", TRAP_CASE_COALESCED_WRITE },
};

/* The option as the user typed it, for messages. */
static const char *trap_opt_name(int c)
{
	const struct option *o;

	for (o = trap_run_longopts; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

static int trap_check_range(const struct trap_opts *o, bool pio_given)
{
	const char *cmd = o->cmd, *opt = pio_given ? "--pio" : "--mmio";
	uint64_t end = o->base + o->len;

	if (o->base & 7)
		return trap_usage_error(cmd, "%s: base 0x%llx is not 8-byte aligned", opt,
					(unsigned long long)o->base);
	if (o->len < 8)
		return trap_usage_error(cmd, "%s: length %llu is below 8", opt,
					(unsigned long long)o->len);
	if (o->bus == SOFTEE_BUS_PIO) {
		if (MICROVM_UCALL_PORT < end && o->base < MICROVM_UCALL_PORT + 4)
			return trap_usage_error(cmd, "%s: overlaps port 0x%x, the micro-VM's ucall port",
						opt, MICROVM_UCALL_PORT);
		if ((o->base < 0x22 && end > 0x20) || (o->base < 0xa2 && end > 0xa0) ||
		    (o->base < 0x4d2 && end > 0x4d0))
			return trap_usage_error(cmd, "%s: overlaps the in-kernel PIC's ports (0x20, 0xa0, 0x4d0)",
						opt);
		if (o->size == 8)
			return trap_usage_error(cmd, "--size: 8-byte accesses do not exist for port I/O");
		return 0;
	}
	if (o->base < MICROVM_RAM_DEFAULT)
		return trap_usage_error(cmd, "%s: 0x%llx is in the micro-VM's RAM (0..0x%llx): pick an address above it, e.g. 0xc0000000",
					opt, (unsigned long long)o->base,
					(unsigned long long)MICROVM_RAM_DEFAULT);
	if (end > 0x100000000ULL)
		return trap_usage_error(cmd, "%s: ends above 4 GiB, which the micro-VM does not map",
					opt);
	if ((o->base < MICROVM_IOAPIC_BASE + 0x1000 && end > MICROVM_IOAPIC_BASE) ||
	    (o->base < MICROVM_LAPIC_END && end > MICROVM_LAPIC_BASE))
		return trap_usage_error(cmd, "%s: overlaps the in-kernel IOAPIC (0xfec00000) or LAPIC (0xfee00000)",
					opt);
	return 0;
}

/* Both commands' options; bench says which ones it takes. */
static int trap_parse(int argc, char **argv, struct trap_opts *o, bool bench)
{
	bool mmio_given = false, pio_given = false, case_given = false;
	uint32_t pause_every = 1;
	uint64_t v;
	unsigned int i;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", trap_run_longopts, NULL)) != -1) {
		if (bench && (c == OPT_KMOD || c == OPT_EXIT || c == OPT_PROGRAM ||
			      c == OPT_SIZE || c == OPT_VCPUS || c == OPT_TRACE))
			return trap_usage_error(o->cmd, "--%s: not a bench option (the case decides it)",
						trap_opt_name(c));
		if (!bench && (c == OPT_CASE || c == OPT_LAPS))
			return trap_usage_error(o->cmd, "--%s: only for '" TRAP_NAME " bench'",
						trap_opt_name(c));
		switch (c) {
		case OPT_KMOD:
		case OPT_EXIT:
			if (o->mode != TRAP_MODE_AUTO)
				return trap_usage_error(o->cmd, "--kmod and --exit: give one of them");
			o->mode = c == OPT_KMOD ? TRAP_MODE_KMOD : TRAP_MODE_EXIT;
			break;
		case OPT_PROGRAM:
			if (!strcmp(optarg, "write"))
				o->program = TRAP_PROG_WRITE;
			else if (!strcmp(optarg, "read"))
				o->program = TRAP_PROG_READ;
			else if (!strcmp(optarg, "mixed"))
				o->program = TRAP_PROG_MIXED;
			else
				return trap_usage_error(o->cmd, "--program: '%s' is not write, read or mixed", optarg);
			break;
		case OPT_SIZE:
			if (!strcmp(optarg, "all"))
				o->size = 0;
			else if (!strcmp(optarg, "1") || !strcmp(optarg, "2") ||
				 !strcmp(optarg, "4") || !strcmp(optarg, "8"))
				o->size = (uint32_t)atoi(optarg);
			else
				return trap_usage_error(o->cmd, "--size: '%s' is not 1, 2, 4, 8 or all", optarg);
			break;
		case OPT_COUNT:
			if (trap_parse_u64(o->cmd, "--count", optarg, 1, 1ULL << 40, &o->count))
				return TRAP_EXIT_USAGE;
			break;
		case OPT_VCPUS:
			if (trap_parse_u64(o->cmd, "--vcpus", optarg, 1, MICROVM_MAX_VCPUS, &v))
				return TRAP_EXIT_USAGE;
			o->nr_vcpus = (uint32_t)v;
			break;
		case OPT_MMIO:
		case OPT_PIO:
			if (mmio_given || pio_given)
				return trap_usage_error(o->cmd, "--%s: give one region (--mmio or --pio), once",
							trap_opt_name(c));
			o->bus = c == OPT_PIO ? SOFTEE_BUS_PIO : SOFTEE_BUS_MMIO;
			if (trap_parse_range(o->cmd, c == OPT_PIO ? "--pio" : "--mmio", optarg,
					     o->bus, &o->base, &o->len))
				return TRAP_EXIT_USAGE;
			mmio_given = c == OPT_MMIO;
			pio_given = c == OPT_PIO;
			break;
		case OPT_WAIT:
			if (softee_wait_parse(optarg, &o->wait))
				return trap_usage_error(o->cmd, "--wait: '%s' is not spin, yield or sleep", optarg);
			break;
		case OPT_PAUSE:
			if (trap_parse_u64(o->cmd, "--pause-every", optarg, 1, 1u << 20, &v))
				return TRAP_EXIT_USAGE;
			pause_every = (uint32_t)v;
			break;
		case OPT_QUIET:
		case OPT_TRACE:
			if (o->verbosity != TRAP_V_NORMAL)
				return trap_usage_error(o->cmd, "--quiet and --trace: give one of them");
			o->verbosity = c == OPT_QUIET ? TRAP_V_QUIET : TRAP_V_TRACE;
			break;
		case OPT_TIMEOUT:
			if (trap_parse_u64(o->cmd, "--timeout-us", optarg, 1, SOFTEE_TIMEOUT_MAX_US, &v))
				return TRAP_EXIT_USAGE;
			o->timeout_us = (uint32_t)v;
			break;
		case OPT_ENTRIES:
			if (trap_parse_u64(o->cmd, "--ring-entries", optarg, SOFTEE_RING_MIN_ENTRIES,
					   SOFTEE_RING_MAX_ENTRIES, &v))
				return TRAP_EXIT_USAGE;
			if (v & (v - 1))
				return trap_usage_error(o->cmd, "--ring-entries: %s is not a power of two", optarg);
			o->ring_entries = (uint32_t)v;
			break;
		case OPT_MAXSEC:
			if (trap_parse_u64(o->cmd, "--max-seconds", optarg, 1, 86400, &v))
				return TRAP_EXIT_USAGE;
			o->max_seconds = (uint32_t)v;
			break;
		case OPT_CASE:
			for (i = 0; i < sizeof(trap_cases) / sizeof(trap_cases[0]); i++)
				if (!strcmp(optarg, trap_cases[i].name))
					break;
			if (i == sizeof(trap_cases) / sizeof(trap_cases[0]))
				return trap_usage_error(o->cmd, "--case: '%s' is not a case (null_write, softee_write, softee_read, exit_write, exit_read, exitring_write, exitring_read, ioeventfd_write, coalesced_write)",
							optarg);
			o->bcase = trap_cases[i].c;
			case_given = true;
			break;
		case OPT_LAPS:
			if (trap_parse_u64(o->cmd, "--laps", optarg, 1, TRAP_MAX_LAPS, &v))
				return TRAP_EXIT_USAGE;
			o->laps = (uint32_t)v;
			break;
		case OPT_PIN:
		case OPT_NOPIN:
			o->pin = c == OPT_PIN;
			break;
		case 'h':
		case OPT_HELP:
			return -1;
		case ':':
			return trap_usage_error(o->cmd, "%s needs a value", argv[optind - 1]);
		default:
			return trap_usage_error(o->cmd, "'%s' is not an option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return trap_usage_error(o->cmd, "'%s': unexpected argument", argv[optind]);
	if (bench && !case_given)
		return trap_usage_error(o->cmd, "--case is missing");
	if (o->laps > o->count)
		return trap_usage_error(o->cmd, "--laps: %u laps of %llu accesses: give --count at least --laps",
					o->laps, (unsigned long long)o->count);
	o->wait.pause_every = pause_every;	/* whatever --wait came after it */
	return trap_check_range(o, pio_given);
}

static void trap_opts_init(struct trap_opts *o, const char *cmd)
{
	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->mode = TRAP_MODE_AUTO;
	o->bcase = TRAP_CASE_RUN;
	o->program = TRAP_PROG_MIXED;
	o->size = 0;
	o->nr_vcpus = 1;
	o->count = TRAP_RUN_COUNT;
	o->laps = 1;
	o->bus = SOFTEE_BUS_MMIO;
	o->base = TRAP_DEFAULT_BASE;
	o->len = TRAP_DEFAULT_LEN;
	o->wait = (struct softee_wait)SOFTEE_WAIT_INIT(SOFTEE_WAIT_YIELD);
	o->timeout_us = SOFTEE_TIMEOUT_DEFAULT_US;
	o->ring_entries = SOFTEE_RING_DEFAULT_ENTRIES;
	o->max_seconds = TRAP_MAX_SECONDS;
	o->pin = true;
	o->verbosity = TRAP_V_NORMAL;
}

int trap_cmd_run(int argc, char **argv)
{
	struct trap_opts o;
	double ns;
	int ret;

	trap_opts_init(&o, "run");
	ret = trap_parse(argc, argv, &o, false);
	if (ret < 0) {
		printf("usage: " TRAP_NAME " run [--kmod|--exit] [--program write|read|mixed] [--size 1|2|4|8|all]\n"
		       "           [--count N] [--vcpus N] [--mmio BASE:LEN | --pio BASE:LEN]\n"
		       "           [--wait spin|yield|sleep] [--pause-every N] [--timeout-us N]\n"
		       "           [--ring-entries N] [--max-seconds N] [--quiet|--trace] [--pin|--no-pin]\n"
		       "defaults: mixed, all sizes, 10000 accesses per vCPU, 1 vCPU, --mmio 0xc0000000:0x1000,\n"
		       "          --wait yield, --pause-every 1, --kmod if /dev/softee exists, else --exit\n");
		return 0;
	}
	if (ret)
		return ret;
	return trap_engine(&o, &ns);
}

int trap_cmd_bench(int argc, char **argv)
{
	struct trap_opts o;
	double ns = 0;
	int ret;

	trap_opts_init(&o, "bench");
	o.count = TRAP_BENCH_COUNT;
	/* A figure, not a verdict on timeouts: a slow machine gets a slow
	 * figure rather than a failure (--timeout-us still sets it). */
	o.timeout_us = TRAP_BENCH_TIMEOUT_US;
	o.size = 4;
	o.verbosity = TRAP_V_QUIET;
	ret = trap_parse(argc, argv, &o, true);
	if (ret < 0) {
		printf("usage: " TRAP_NAME " bench --case CASE [--count N] [--mmio BASE:LEN | --pio BASE:LEN]\n"
		       "           [--wait spin|yield|sleep] [--pause-every N] [--timeout-us N]\n"
		       "           [--ring-entries N] [--laps N] [--quiet] [--pin|--no-pin]\n"
		       "CASE: null_write softee_write softee_read (need softee.ko), exit_write exit_read,\n"
		       "      exitring_write exitring_read, ioeventfd_write, coalesced_write\n"
		       "--timeout-us defaults to 1000000 here (reads and full rings wait up to 1 s)\n"
		       "prints ns_per_access=<float> on stdout: host CLOCK_MONOTONIC between the guest's\n"
		       "ucalls around a loop of --count 4-byte accesses to one address (default 100000);\n"
		       "with --laps N, the loop is timed in N laps and the median lap's figure printed\n");
		return 0;
	}
	if (ret)
		return ret;
	ret = trap_engine(&o, &ns);
	if (ret)
		return ret;
	printf("ns_per_access=%.1f\n", ns);
	return 0;
}
