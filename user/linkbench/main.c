// SPDX-License-Identifier: GPL-2.0
/*
 * softee-linkbench - one end of a link, for the tests and the transport
 * benchmark.
 *
 *   softee-linkbench [EAL-ARGS --] MODE [OPTIONS]
 *
 * EAL arguments (DPDK's, as l2fwd takes them) come first and end with
 * "--"; without them the EAL is not started and only socket: links open.
 *
 * Modes:
 *   raw-send   send --count frames of --size bytes to --dst
 *   raw-recv   receive until --count frames, or --timeout-ms of silence
 *   raw-echo   send every frame back to where it came from, until killed
 *   raw-ping   --count round trips through a raw-echo; latency percentiles
 *   host, box  one end of the transport: --test tx|rx|rtt|hb (xport.c)
 *   stall      spin --duration-ms on --cpu, reading the clock: how much of
 *              the core this process got and its longest stall off it (how
 *              loaded the machine is, for the benchmark's notes)
 *   line       pass one cache line between --cpu and --peer-cpu: its round
 *              trip (where the hypervisor runs the two CPUs, line.c)
 *
 * Prints "linkbench: ready mac=... mtu=..." once the link is open and
 * "linkbench: result key=value ..." when done; errors go to stderr.
 */
#include <errno.h>
#include <execinfo.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <softee/args.h>
#include <softee/fault.h>
#include <softee/frame.h>

#include "linkbench.h"

volatile sig_atomic_t lb_quit;

uint64_t lb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of the whole process, every thread, user and system. */
uint64_t lb_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *lb_mac_str(const uint8_t *m, char *buf)
{
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

int lb_parse_mac(const char *s, uint8_t *mac)
{
	unsigned int v[SOFTEE_ETH_ALEN];
	char tail;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (i = 0; i < SOFTEE_ETH_ALEN; i++) {
		if (v[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

int lb_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return 0;
}

int lb_open(const struct lb_opts *o, struct softee_netdev **nd)
{
	char err[SOFTEE_NETDEV_ERRLEN];
	int ret;

	if (!o->dev) {
		fprintf(stderr, "linkbench: no link: give --dev socket:IFNAME or --dev dpdk:DEVARGS\n");
		return -EINVAL;
	}
	ret = softee_netdev_open(o->dev, &o->conf, nd, err, sizeof(err));
	if (ret)
		fprintf(stderr, "linkbench: %s\n", err);
	return ret;
}

void lb_ready(const struct softee_netdev *nd)
{
	char mac[18];

	printf("linkbench: ready backend=%s mac=%s mtu=%u\n", nd->ops->name,
	       lb_mac_str(nd->mac, mac), nd->mtu);
	fflush(stdout);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The pct-th percentile (nearest rank) of v[0..n); sorts v. */
double lb_percentile(double *v, uint64_t n, double pct)
{
	uint64_t rank;

	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	rank = (uint64_t)ceil(pct / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

/* The stall probe: a gap over 20 us between two clock reads is time off the core. */
static int lb_stall(const struct lb_opts *o)
{
	uint64_t start = lb_now_ns(), end = start + o->duration_ms * 1000000ull;
	uint64_t last = start, now, gap, off = 0, max = 0, stalls_1ms = 0;

	while ((now = lb_now_ns()) < end && !lb_quit) {
		gap = now - last;
		if (gap > 20000) {
			off += gap;
			if (gap > max)
				max = gap;
			if (gap > 1000000)
				stalls_1ms++;
		}
		last = now;
	}
	printf("linkbench: result mode=stall cpu=%d secs=%.3f core_share=%.3f max_stall_us=%llu "
	       "stalls_over_1ms=%llu\n", o->cpu, (double)(now - start) / 1e9,
	       now > start ? 1.0 - (double)off / (double)(now - start) : 0.0,
	       (unsigned long long)(max / 1000), (unsigned long long)stalls_1ms);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	lb_quit = 1;
}

/* A crash in a test's background end: say where, then die as before. */
static void on_fatal(int sig)
{
	static const char msg[] = "linkbench: fatal signal; backtrace:\n";
	void *bt[64];
	int n = backtrace(bt, 64);

	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(128 + sig);
	backtrace_symbols_fd(bt, n, STDERR_FILENO);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void help(void)
{
	printf("usage: softee-linkbench [EAL-ARGS --] MODE [OPTIONS]\n"
	       "  modes: raw-send raw-recv raw-echo raw-ping host box stall line\n"
	       "  --dev SPEC          socket:IFNAME[,proto=0xNNNN] | dpdk:DEVARGS | dpdk:port=N\n"
	       "  --count N           frames (raw) or TLPs (transport)\n"
	       "  --size B            frame bytes (raw) or MWr payload bytes (transport)\n"
	       "  --burst N           frames per tx burst (raw)\n"
	       "  --gap-us U          pause between bursts (raw-send)\n"
	       "  --dst MAC           raw destination (default broadcast)\n"
	       "  --ethertype X       the frames' EtherType, 0x0600..0xffff, not a VLAN TPID\n"
	       "                      (raw: 0x88b6; host, box: 0x88b5, both ends the same)\n"
	       "  --vlan TCI          raw frames carry an 802.1Q tag\n"
	       "  --timeout-ms T      a receiver's idle limit once traffic started\n"
	       "  --wait-ms T         how long to wait for the first frame / the peer\n"
	       "  --duration-ms T     how long to run (hb test)\n"
	       "  --mtu M             DPDK: the port's MTU\n"
	       "  --link-wait-ms T    DPDK: wait this long for link up (a memif server: its client)\n"
	       "  --cpu C             pin to CPU C\n"
	       "  --peer-cpu C        line: the other thread's CPU\n"
	       "  --test/--group/--new-group/--group-change-ms/--hb-ms/--hb-miss\n"
	       "  --loss-ppm P --seed S --no-pack --fault SPEC   (transport ends)\n"
	       "  --window N --ack-every N --rto-min-us U --rate-max-mbs M --target-delay-us U\n"
	       "  --no-pacing   (tuning)\n");
	exit(0);
}

#define PROG	"softee-linkbench"
#define MODES	"raw-send, raw-recv, raw-echo, raw-ping, host, box, stall or line"

static uint64_t num(const char *opt, const char *s, uint64_t max)
{
	return softee_arg_num(PROG, opt, s, 0, max);
}

static bool known_mode(const char *m)
{
	static const char *const modes[] = { "raw-send", "raw-recv", "raw-echo", "raw-ping",
					     "host", "box", "stall", "line" };
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(m, modes[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "burst", required_argument, NULL, 'b' },
		{ "gap-us", required_argument, NULL, 'g' },
		{ "dst", required_argument, NULL, 'D' },
		{ "ethertype", required_argument, NULL, 'e' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "wait-ms", required_argument, NULL, 'w' },
		{ "duration-ms", required_argument, NULL, 'T' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "peer-cpu", required_argument, NULL, 'Q' },
		{ "test", required_argument, NULL, 'x' },
		{ "group", required_argument, NULL, 'G' },
		{ "new-group", required_argument, NULL, 'N' },
		{ "group-change-ms", required_argument, NULL, 'C' },
		{ "hb-ms", required_argument, NULL, 'H' },
		{ "hb-miss", required_argument, NULL, 'K' },
		{ "loss-ppm", required_argument, NULL, 'L' },
		{ "seed", required_argument, NULL, 'S' },
		{ "no-pack", no_argument, NULL, 'P' },
		{ "fault", required_argument, NULL, 'F' },
		{ "vlan", required_argument, NULL, 'V' },
		{ "link-wait-ms", required_argument, NULL, 'W' },
		{ "window", required_argument, NULL, 'o' },
		{ "ack-every", required_argument, NULL, 'a' },
		{ "rto-min-us", required_argument, NULL, 'R' },
		{ "target-delay-us", required_argument, NULL, 'Y' },
		{ "rate-max-mbs", required_argument, NULL, 'M' },
		{ "no-pacing", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lb_opts o = {
		.count = 1000,
		.size = 256,
		.burst = 32,
		.timeout_ms = 2000,
		.wait_ms = 10000,
		.duration_ms = 1000,
		.vlan = -1,
		.dst = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		.cpu = -1,
		.peer_cpu = -1,
		.group = 1,
		.test = "tx",
		.hb_ms = 100,
		.hb_miss = 3,
		.seed = 1,
	};
	const char *mode;
	int c, ret, i;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		help();
	/* EAL arguments first, up to "--" (the EAL sees argv[0] and them). */
	if (argc > 1 && argv[1][0] == '-') {
		for (i = 2; i < argc && strcmp(argv[i], "--"); i++)
			;
		if (i == argc)
			softee_usage_error(PROG, "'%s': MODE first, or EAL arguments ending in '--'",
					   argv[1]);
		ret = softee_dpdk_eal_init(argc, argv);
		if (ret < 0) {
			fprintf(stderr, PROG ": rte_eal_init: err=%d (%s)\n", ret, strerror(-ret));
			return 1;
		}
		argc -= ret;
		argv += ret;
	}
	if (argc < 2)
		softee_usage_error(PROG, "no MODE: " MODES);
	mode = argv[1];
	if (!known_mode(mode))
		softee_usage_error(PROG, "unknown MODE '%s': " MODES, mode);
	argc--;
	argv++;
	optind = 1;
	opterr = 0;		/* our own errors: one line, naming the argument */

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dev = optarg; break;
		case 'n': o.count = num("--count", optarg, UINT64_MAX); break;
		case 's': o.size = (uint32_t)num("--size", optarg, SOFTEE_NETDEV_MAX_FRAME); break;
		case 'b': o.burst = (uint32_t)num("--burst", optarg, 1024); break;
		case 'g': o.gap_us = (uint32_t)num("--gap-us", optarg, 10000000); break;
		case 'D':
			if (lb_parse_mac(optarg, o.dst))
				softee_usage_error(PROG, "--dst wants a MAC address (02:00:00:00:00:01), not '%s'",
						   optarg);
			break;
		case 'e': o.ethertype = softee_arg_ethertype(PROG, "--ethertype", optarg); break;
		case 't': o.timeout_ms = (uint32_t)num("--timeout-ms", optarg, UINT32_MAX); break;
		case 'w': o.wait_ms = (uint32_t)num("--wait-ms", optarg, UINT32_MAX); break;
		case 'T': o.duration_ms = (uint32_t)num("--duration-ms", optarg, UINT32_MAX); break;
		case 'm': o.conf.mtu = (uint32_t)num("--mtu", optarg, 9000); break;
		case 'c': o.cpu = (int)num("--cpu", optarg, CPU_SETSIZE - 1); break;
		case 'Q': o.peer_cpu = (int)num("--peer-cpu", optarg, CPU_SETSIZE - 1); break;
		case 'x': o.test = optarg; break;
		case 'G': o.group = (uint32_t)num("--group", optarg, UINT32_MAX); break;
		case 'N': o.new_group = (uint32_t)num("--new-group", optarg, UINT32_MAX); break;
		case 'C': o.group_change_ms = (uint32_t)num("--group-change-ms", optarg, UINT32_MAX); break;
		case 'H': o.hb_ms = (uint32_t)softee_arg_num(PROG, "--hb-ms", optarg, 1, 60000); break;
		case 'K': o.hb_miss = (uint32_t)softee_arg_num(PROG, "--hb-miss", optarg, 1, 1000); break;
		case 'L': o.loss_ppm = (uint32_t)num("--loss-ppm", optarg, 1000000); break;
		case 'S': o.seed = num("--seed", optarg, UINT64_MAX); break;
		case 'P': o.no_pack = true; break;
		case 'F': {
			struct softee_fault_cfg fc = { 0 };
			char err[160];

			if (softee_fault_parse(optarg, &fc, err, sizeof(err)))
				softee_usage_error(PROG, "--fault: %s", err);
			o.fault = optarg;
			break;
		}
		case 'V': o.vlan = (int)num("--vlan", optarg, 0xffff); break;
		case 'o': o.window = (uint32_t)num("--window", optarg, 65536); break;
		case 'a': o.ack_every = (uint32_t)num("--ack-every", optarg, 65536); break;
		case 'R': o.rto_min_us = (uint32_t)num("--rto-min-us", optarg, 10000000); break;
		case 'M': o.rate_max_mbs = (uint32_t)num("--rate-max-mbs", optarg, 1000000); break;
		case 'Y': o.target_delay_us = (uint32_t)num("--target-delay-us", optarg, 10000000); break;
		case 'p': o.no_pacing = true; break;
		case 'W': o.conf.link_wait_ms = (uint32_t)num("--link-wait-ms", optarg, UINT32_MAX); break;
		case 'h': help(); break;
		default: softee_getopt_error(PROG, c, argv, longopts);
		}
	}
	if (optind != argc)
		softee_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
	if (!strcmp(mode, "line") && (o.cpu < 0 || o.peer_cpu < 0))
		softee_usage_error(PROG, "line wants both --cpu and --peer-cpu");
	if (!strcmp(mode, "line") && o.cpu == o.peer_cpu)
		softee_usage_error(PROG, "line wants two CPUs: --cpu and --peer-cpu are both %d", o.cpu);
	if (strcmp(mode, "line") && o.peer_cpu >= 0)
		softee_usage_error(PROG, "--peer-cpu is for line only");
	if (!o.burst)
		o.burst = 1;
	if (!strncmp(mode, "raw-", 4)) {
		if (!o.ethertype)
			o.ethertype = 0x88b6;
	} else {
		/* The transport's, and a socket lets through only that. */
		if (!o.ethertype)
			o.ethertype = SOFTEE_ETHERTYPE;
		o.conf.ethertype = o.ethertype;
	}

	signal(SIGSEGV, on_fatal);
	signal(SIGBUS, on_fatal);
	signal(SIGFPE, on_fatal);
	signal(SIGABRT, on_fatal);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (o.cpu >= 0 && (ret = lb_pin(o.cpu))) {
		fprintf(stderr, "linkbench: cannot pin to CPU %d: %s\n", o.cpu, strerror(-ret));
		return 1;
	}

	if (!strncmp(mode, "raw-", 4))
		ret = lb_raw(mode, &o);
	else if (!strcmp(mode, "stall"))
		ret = lb_stall(&o);
	else if (!strcmp(mode, "line"))
		ret = lb_line(&o);
	else {			/* host or box: known_mode() let nothing else through */
		o.role = mode;
		ret = lb_xport(&o);
	}
	softee_dpdk_eal_cleanup();
	return ret ? 1 : 0;
}
