// SPDX-License-Identifier: GPL-2.0
/*
 * softee-guest: a host with one guest, end to end over a real link.
 *
 *   softee-guest [EAL-ARGS --] --link SPEC [OPTIONS] [test|lost|bench]
 *
 * A micro-VM guest (user/guest/e2e_guest.c) drives the test endpoint of a
 * softee-box somewhere on the segment, through the poller library running
 * in this process: the guest's MMIO goes through softee.ko (--kmod) or the
 * user-space exit path, TLPs go out on the link, the device's DMA lands in
 * the guest's RAM and its MSI reaches the guest's IDT.  It is what
 * `make demo`, the namespace tests and `make bench-e2e` run as "the host";
 * Documentation/guest.rst has the details.
 *
 * Programs:
 *	test	IDs, registers, device memory, 1 MiB of DMA each way with both
 *		CRCs, the MSI, DMA aimed outside guest RAM (refused; a hash of
 *		the RAM it must not touch is unchanged)
 *	lost	a DMA; --on-dma-running runs (it should kill the box); every
 *		read must end with all ones within the timeout and the device
 *		go down; --on-lost runs (it should bring a box back); the device
 *		must be configured again at the same addresses and work
 *	bench	mmio_read_p50_us/p99_us and dma_4k/256k_mb_s as
 *		"bench: e2e.LABEL.METRIC = X" lines
 *
 * Exit status: 0 when the program passed, 1 when it failed or the device
 * never came, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <microvm/microvm.h>
#include <softee/args.h>
#include <softee/e2e.h>
#include <softee/e2e_host.h>
#include <softee/endpoint.h>
#include <softee/fault.h>
#include <softee/msi.h>
#include <softee/netdev_open.h>
#include <softee/netdev_split.h>
#include <softee/netdev_stack.h>
#include <softee/poller.h>
#include <softee/testdev.h>

#define NAME		"softee-guest"
#define RAM_BYTES	(64ULL << 20)
#define DMA_MAX		PE_DMA_MAX
#define MMIO_BASE	0xc0000000ULL
#define MMIO_LEN	0x10000000ULL
#define MS		1000000ULL

struct opts {
	const char *link;
	uint16_t group;
	const char *name;
	bool kmod;
	uint32_t timeout_us;
	uint32_t len;
	const char *fault;
	uint64_t seed;
	uint32_t wait_ms;
	const char *ctl;
	bool hold;
	const char *on_dma_running, *on_lost;
	uint32_t hb_ms, hb_miss;
	uint32_t reads;
	uint32_t dma_ms;
	const char *label;
	bool pacing;
	uint32_t rate_max_mbs;
	int idle_us;
	bool quiet;
	bool split;			/* --layout split */
	struct softee_split_conf split_conf;
	const char *prog;
};

struct host {
	struct opts *o;
	struct microvm *vm;
	struct microvm_vcpu *v;
	struct softee_poller *p;
	struct softee_poller_exit *x;
	struct softee_poller_dev_info info;
	struct pe_params *prm;
	uint64_t prm_gpa;
	double tsc_hz;
	struct softee_netdev *split;	/* --layout split: the wrapper */
};

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void help(void)
{
	printf("usage: " NAME " [EAL-ARGS --] --link SPEC [OPTIONS] [test|lost|bench]\n"
	       "  --link SPEC            socket:IFNAME | dpdk:DEVARGS (required)\n"
	       "  --group N              the box of this group is ours (1)\n"
	       "  --name NAME            in our heartbeats (softee-guest)\n"
	       "  --kmod                 trap with softee.ko (else the exit path)\n"
	       "  --timeout-us U         read completion timeout (50000)\n"
	       "  --len BYTES            test/lost: DMA bytes each way, 65536..1048576 (1048576)\n"
	       "  --fault SPEC           faults on our side of the link (softee_fault_parse)\n"
	       "  --seed N               fault injector seed (1)\n"
	       "  --wait-ms MS           wait this long for the device (10000)\n"
	       "  --ctl PATH             the poller's control socket ('-': none, the default)\n"
	       "  --hold                 after the program, keep serving until SIGINT/SIGTERM\n"
	       "  --on-dma-running CMD   lost: a shell command run while the DMA runs\n"
	       "  --on-lost CMD          lost: a shell command run once the device is down\n"
	       "  --hb-ms T --hb-miss K  heartbeat period and misses before a box is lost (100, 3)\n"
	       "  --reads N              bench: timed register reads (2000)\n"
	       "  --dma-ms MS            bench: time per DMA size (1000)\n"
	       "  --label NAME           bench: the link's name in the bench lines (the link)\n"
	       "  --idle-us U            the poller's longest sleep when idle (200; 0: spin)\n"
	       "  --pacing               keep the rate control's pacing on (see Documentation/guest.rst)\n"
	       "  --rate-max-mbs M       the rate control's ceiling, MB/s (1250: 10 Gbit/s)\n"
	       "  --layout rtc|split[:TXCPU,RXCPU]  the poller runs to completion (rtc), or its\n"
	       "                         link's TX and RX run on threads (lcores) of their own\n"
	       "  -q, --quiet            no poller log lines\n");
	exit(0);
}

#define die_usage(...)	softee_usage_error(NAME, __VA_ARGS__)

static uint64_t num(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	return softee_arg_num(NAME, opt, s, min, max);
}

static void parse(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "group", required_argument, NULL, 'g' },
		{ "name", required_argument, NULL, 'n' },
		{ "kmod", no_argument, NULL, 'k' },
		{ "timeout-us", required_argument, NULL, 't' },
		{ "len", required_argument, NULL, 'L' },
		{ "fault", required_argument, NULL, 'F' },
		{ "seed", required_argument, NULL, 'S' },
		{ "wait-ms", required_argument, NULL, 'W' },
		{ "ctl", required_argument, NULL, 's' },
		{ "hold", no_argument, NULL, 'o' },
		{ "on-dma-running", required_argument, NULL, 'R' },
		{ "on-lost", required_argument, NULL, 'X' },
		{ "hb-ms", required_argument, NULL, 'H' },
		{ "hb-miss", required_argument, NULL, 'K' },
		{ "reads", required_argument, NULL, 'r' },
		{ "dma-ms", required_argument, NULL, 'd' },
		{ "label", required_argument, NULL, 'b' },
		{ "pacing", no_argument, NULL, 'P' },
		{ "rate-max-mbs", required_argument, NULL, 'B' },
		{ "idle-us", required_argument, NULL, 'I' },
		{ "layout", required_argument, NULL, 'Y' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;		/* our own errors: one line, naming the argument */
	while ((c = getopt_long(argc, argv, ":qh", lo, NULL)) != -1) {
		switch (c) {
		case 'l': o->link = optarg; break;
		case 'g': o->group = (uint16_t)num("--group", optarg, 0, 0xffff); break;
		case 'n': o->name = optarg; break;
		case 'k': o->kmod = true; break;
		case 't': o->timeout_us = (uint32_t)num("--timeout-us", optarg, 100, SOFTEE_TIMEOUT_MAX_US); break;
		case 'L': o->len = (uint32_t)num("--len", optarg, 65536, DMA_MAX); break;
		case 'F': o->fault = optarg; break;
		case 'S': o->seed = num("--seed", optarg, 0, UINT64_MAX); break;
		case 'W': o->wait_ms = (uint32_t)num("--wait-ms", optarg, 1, 3600000); break;
		case 's': o->ctl = strcmp(optarg, "-") ? optarg : NULL; break;
		case 'o': o->hold = true; break;
		case 'R': o->on_dma_running = optarg; break;
		case 'X': o->on_lost = optarg; break;
		case 'H': o->hb_ms = (uint32_t)num("--hb-ms", optarg, 1, 60000); break;
		case 'K': o->hb_miss = (uint32_t)num("--hb-miss", optarg, 1, 1000); break;
		case 'r': o->reads = (uint32_t)num("--reads", optarg, 10, 1000000); break;
		case 'd': o->dma_ms = (uint32_t)num("--dma-ms", optarg, 10, 600000); break;
		case 'b': o->label = optarg; break;
		case 'P': o->pacing = true; break;
		case 'B': o->rate_max_mbs = (uint32_t)num("--rate-max-mbs", optarg, 1, 1000000); break;
		case 'I': o->idle_us = (int)num("--idle-us", optarg, 0, 1000000); break;
		case 'Y': {
			char e[128];

			if (softee_split_parse(optarg, &o->split, &o->split_conf, e, sizeof(e)))
				die_usage("--layout %s", e);
			break;
		}
		case 'q': o->quiet = true; break;
		case 'h': help(); break;
		default: softee_getopt_error(NAME, c, argv, lo);
		}
	}
	if (optind < argc)
		o->prog = argv[optind++];
	if (optind != argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!o->link)
		die_usage("no link: give --link socket:IFNAME or --link dpdk:DEVARGS");
	if (strcmp(o->prog, "test") && strcmp(o->prog, "lost") && strcmp(o->prog, "bench"))
		die_usage("unknown program '%s': test, lost or bench", o->prog);
	if (o->len & 7)
		die_usage("--len %u: a multiple of 8 bytes", o->len);
}

/* ---- the guest ------------------------------------------------------------------ */

/* Run the guest to its next SYNC or its end; a failure is printed. */
static int run_guest(struct host *h, struct microvm_ucall *uc)
{
	int r = pe_run_guest(h->v, uc, stdout);

	if (r != MICROVM_UCALL_SYNC && r != MICROVM_UCALL_DONE)
		printf("FAIL: the guest stopped (%d)\n", r);
	return r;
}

static int start_prog(struct host *h, uint64_t prog)
{
	h->prm->prog = prog;
	h->prm->errors = 0;
	return microvm_vcpu_set_entry(h->v, pe_guest_main, 1, h->prm_gpa);
}

/* Whether the poller's thread took a DPDK lcore id (softee_lcore_enter). */
static void print_lcore(struct host *h)
{
	struct softee_poller_stats st;

	softee_poller_get_stats(h->p, &st);
	if (st.lcore >= 0)
		printf("softee-guest: poller thread: lcore %lld\n", (long long)st.lcore);
	else
		printf("softee-guest: poller thread: no lcore of its own\n");
}

static void print_counters(struct host *h)
{
	struct softee_poller_dev_info in;
	const struct softee_poller_counters *c = &in.c;

	if (softee_poller_dev_info(h->p, 0, &in))
		return;
	printf("counters: mmio reads %llu writes %llu (MWr %llu, %llu merged), read round trip mean %.1f us max %.1f us\n",
	       (unsigned long long)c->mmio_reads, (unsigned long long)c->mmio_writes,
	       (unsigned long long)c->mwr_tlps, (unsigned long long)c->mwr_merged,
	       c->cpl_ok ? c->read_lat_ns_sum / 1e3 / c->cpl_ok : 0.0, c->read_lat_ns_max / 1e3);
	printf("counters: dma reads %llu (%llu bytes) writes %llu (%llu bytes) rejected %llu, msi %llu, timeouts %llu, fail-fast %llu, retransmissions %llu\n",
	       (unsigned long long)c->dma_reads, (unsigned long long)c->dma_read_bytes,
	       (unsigned long long)c->dma_writes, (unsigned long long)c->dma_write_bytes,
	       (unsigned long long)c->dma_rejected, (unsigned long long)c->msi,
	       (unsigned long long)c->cpl_timeouts, (unsigned long long)c->fail_fast,
	       (unsigned long long)in.s.retrans);
	printf("counters: link: frames out %llu in %llu, retransmission timeouts %llu, srtt %.1f us, min rtt %.1f us, rate %.0f MB/s\n",
	       (unsigned long long)in.s.tx_frames, (unsigned long long)in.s.rx_frames,
	       (unsigned long long)in.s.timeouts, in.s.srtt_ns / 1e3, in.s.min_rtt_ns / 1e3,
	       in.s.rate_Bps / 1e6);
	if (h->split) {
		struct softee_split_stats ss;

		softee_split_get_stats(h->split, &ss);
		printf("counters: split: TX queued %llu, queue full %llu, partial bursts %llu, errors %llu, dropped %llu, sleeps %llu; RX queued %llu, queue full %llu, errors %llu, dropped %llu, sleeps %llu\n",
		       (unsigned long long)ss.tx_queued, (unsigned long long)ss.tx_queue_full,
		       (unsigned long long)ss.tx_partial, (unsigned long long)ss.tx_errors,
		       (unsigned long long)ss.tx_dropped, (unsigned long long)ss.tx_sleeps,
		       (unsigned long long)ss.rx_queued, (unsigned long long)ss.rx_queue_full,
		       (unsigned long long)ss.rx_errors, (unsigned long long)ss.rx_dropped,
		       (unsigned long long)ss.rx_sleeps);
	}
}

#define CHECK(cond, ...) do {						\
	if (cond) {							\
		printf("ok: " __VA_ARGS__);				\
	} else {							\
		printf("FAIL: " __VA_ARGS__);				\
		fails++;						\
	}								\
	printf("\n");							\
} while (0)

static int prog_test(struct host *h)
{
	struct pe_params *p = h->prm;
	struct softee_poller_dev_info in;
	struct microvm_ucall uc;
	uint64_t h0 = 0, h1 = 0, hlen = RAM_BYTES - p->buf_a;
	const uint8_t *hstart = microvm_gpa2hva(h->vm, p->buf_a, hlen);
	int r, fails = 0;

	if (start_prog(h, PE_PROG_BASIC))
		return 1;
	for (;;) {
		r = run_guest(h, &uc);
		if (r != MICROVM_UCALL_SYNC)
			break;
		if (uc.args[0] == PE_S_BAD_BEFORE)
			h0 = pe_ram_hash(hstart, hlen);
		else if (uc.args[0] == PE_S_BAD_AFTER)
			h1 = pe_ram_hash(hstart, hlen);
	}
	if (r != MICROVM_UCALL_DONE)
		return 1;
	if (softee_poller_dev_info(h->p, 0, &in))
		return 1;
	printf("ok: the guest read the IDs (0x%08x), wrote and read registers and device memory\n",
	       SOFTEE_TESTDEV_MAGIC);
	CHECK(p->crc_to_dev == p->crc_a, "DMA host->device %llu bytes: device CRC 0x%08llx, host CRC 0x%08llx",
	      (unsigned long long)p->len, (unsigned long long)p->crc_to_dev,
	      (unsigned long long)p->crc_a);
	CHECK(p->crc_to_host == p->crc_a &&
	      !memcmp(microvm_gpa2hva(h->vm, p->buf_a, p->len),
		      microvm_gpa2hva(h->vm, p->buf_b, p->len), p->len),
	      "DMA device->host %llu bytes: CRC 0x%08llx, the guest's buffers equal",
	      (unsigned long long)p->len, (unsigned long long)p->crc_to_host);
	/*
	 * One interrupt per MSI.  Through softee.ko the guest runs nested in
	 * the TCG test VM, whose SVM emulation has delivered one MSI twice
	 * (selftests/vm/README.md, "Nested guests"): there, more is a note.
	 */
	CHECK(p->irqs >= 2 && in.c.msi >= 2 && !in.c.msi_errors &&
	      (p->irqs == in.c.msi || (h->o->kmod && p->irqs > in.c.msi)),
	      "MSI: %llu interrupts taken by the guest's handler (vector 0x%llx), %llu injected",
	      (unsigned long long)p->irqs, (unsigned long long)p->vector,
	      (unsigned long long)in.c.msi);
	if (p->irqs != in.c.msi)
		printf("note: the guest took %llu interrupts for %llu MSIs%s\n",
		       (unsigned long long)p->irqs, (unsigned long long)in.c.msi,
		       h->o->kmod ? " (nested in the TCG test VM: not counted as a failure)" : "");
	CHECK(h0 == h1 && in.c.dma_rejected >= 4,
	      "DMA outside guest RAM: %llu requests rejected, the RAM hash %s",
	      (unsigned long long)in.c.dma_rejected, h0 == h1 ? "unchanged" : "CHANGED");
	return fails;
}

static int wait_state(struct host *h, int state, uint64_t ms)
{
	struct softee_poller_dev_info in;
	uint64_t end = softee_now_ns() + ms * MS;

	do {
		if (!softee_poller_dev_info(h->p, 0, &in) && (int)in.state == state)
			return 0;
		usleep(2000);
	} while (softee_now_ns() < end);
	return -ETIMEDOUT;
}

static int run_cmd(const char *what, const char *cmd)
{
	int r;

	if (!cmd)
		return 0;
	fflush(stdout);
	r = system(cmd);
	if (r)
		printf("FAIL: %s command '%s' exited with %d\n", what, cmd, r);
	return r ? 1 : 0;
}

static int prog_lost(struct host *h)
{
	struct softee_poller_dev_info in;
	struct microvm_ucall uc;
	uint64_t t_kill = 0, tmo_ns = (uint64_t)h->o->timeout_us * 1000;
	int r, fails = 0;

	if (start_prog(h, PE_PROG_LOST))
		return 1;
	for (;;) {
		r = run_guest(h, &uc);
		if (r != MICROVM_UCALL_SYNC)
			break;
		if (uc.args[0] == PE_S_DMA_RUNNING) {
			printf("the guest started a %llu-byte DMA\n", (unsigned long long)h->prm->len);
			fails += run_cmd("--on-dma-running", h->o->on_dma_running);
			t_kill = softee_now_ns();
		} else if (uc.args[0] == PE_S_LOST) {
			uint64_t dt = softee_now_ns() - t_kill;

			/*
			 * Reads in flight end at the completion timeout or when
			 * the box is declared lost, whichever comes first; after
			 * that every read fails fast.
			 */
			CHECK(dt < 4 * tmo_ns + (uint64_t)h->o->hb_ms * h->o->hb_miss * 2 * MS + 1000 * MS,
			      "the guest saw all ones %.1f ms after the box went, then %llu reads at once",
			      dt / 1e6, (unsigned long long)uc.args[1]);
			CHECK(!wait_state(h, SOFTEE_PDEV_DOWN, 5000), "the device is marked down");
			if (softee_poller_dev_info(h->p, 0, &in))
				return 1;
			printf("counters: timeouts %llu, fail-fast %llu\n",
			       (unsigned long long)in.c.cpl_timeouts, (unsigned long long)in.c.fail_fast);
			fails += run_cmd("--on-lost", h->o->on_lost);
			r = softee_poller_wait_ready(h->p, 1, (uint64_t)h->o->wait_ms * MS);
			CHECK(!r, "a box came back: the device is configured again");
			if (r)
				return fails;
			if (softee_poller_dev_info(h->p, 0, &in))
				return 1;
			CHECK(in.bar[0].addr == h->info.bar[0].addr && in.bar[2].addr == h->info.bar[2].addr,
			      "at the same addresses (BAR0 0x%llx, BAR2 0x%llx)",
			      (unsigned long long)in.bar[0].addr, (unsigned long long)in.bar[2].addr);
		}
	}
	CHECK(r == MICROVM_UCALL_DONE, "the guest's DMA works again (64 KiB, CRC and MSI checked)");
	return fails;
}

/* TSC ticks per second: the guest's TSC runs at the host's (KVM, no scaling asked). */
static double tsc_hz(void)
{
	uint64_t t0 = softee_now_ns(), c0 = __rdtsc(), t1, c1;

	usleep(50000);
	t1 = softee_now_ns();
	c1 = __rdtsc();
	return (double)(c1 - c0) * 1e9 / (double)(t1 - t0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The DMA benchmark's clock is here, not in the guest, where RDTSC is an
 * exit under these machines' nested KVM: after dma_ms the guest is told to
 * stop (it looks between round trips).  A guest still running
 * BENCH_WAKE_MS later waits for an MSI that was lost: it is told to abort
 * and woken with an MSI of ours, again each second until it is done (a
 * wake-up may find it between DMAs, or meet a refused START that raises
 * none).
 */
#define BENCH_WAKE_MS	5000U

struct bench_clock {
	struct host *h;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;			/* the guest's run returned */
	bool woke;			/* we sent an MSI */
};

/* Wait until done or ms after t0; returns done. */
static bool clock_wait(struct bench_clock *c, uint64_t t0, uint64_t ms)
{
	uint64_t until = t0 + ms * MS;
	struct timespec ts = { .tv_sec = (time_t)(until / 1000000000ULL),
			       .tv_nsec = (long)(until % 1000000000ULL) };

	while (!c->done && pthread_cond_timedwait(&c->cv, &c->mu, &ts) != ETIMEDOUT)
		;
	return c->done;
}

static void *bench_clock_main(void *arg)
{
	struct bench_clock *c = arg;
	struct host *h = c->h;
	uint64_t t0 = softee_now_ns(), ms = h->o->dma_ms + BENCH_WAKE_MS;
	int r;

	pthread_mutex_lock(&c->mu);
	clock_wait(c, t0, h->o->dma_ms);
	__atomic_store_n(&h->prm->stop, PE_STOP_TIME, __ATOMIC_RELEASE);
	for (; !clock_wait(c, t0, ms); ms += 1000) {
		__atomic_store_n(&h->prm->stop, PE_STOP_ABORT, __ATOMIC_RELEASE);
		r = softee_msi_signal(microvm_vm_fd(h->vm), SOFTEE_MSI_WINDOW,
				      (uint32_t)h->prm->vector);
		if (r <= 0 && !c->woke)
			printf("softee-guest: waking the guest: KVM_SIGNAL_MSI %s\n",
			       r ? strerror(-r) : "blocked");
		c->woke = true;
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* One BENCH_DMA run of the guest, timed by bench_clock_main. */
static int bench_dma_run(struct host *h, struct microvm_ucall *uc, bool *woke)
{
	struct bench_clock c = { .h = h };
	pthread_condattr_t ca;
	pthread_t t;
	int r;

	h->prm->stop = 0;
	if (start_prog(h, PE_PROG_BENCH_DMA))
		return -1;
	pthread_mutex_init(&c.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c.cv, &ca);
	pthread_condattr_destroy(&ca);
	r = pthread_create(&t, NULL, bench_clock_main, &c);
	if (r) {
		printf("FAIL: the benchmark's clock thread: %s\n", strerror(r));
	} else {
		r = run_guest(h, uc);
		pthread_mutex_lock(&c.mu);
		c.done = true;
		pthread_cond_signal(&c.cv);
		pthread_mutex_unlock(&c.mu);
		pthread_join(t, NULL);
	}
	pthread_cond_destroy(&c.cv);
	pthread_mutex_destroy(&c.mu);
	*woke = c.woke;
	return r;
}

static int prog_bench(struct host *h)
{
	static const uint32_t sizes[] = { 4096, 262144 };
	static const char *const names[] = { "dma_4k_mb_s", "dma_256k_mb_s" };
	const char *label = h->o->label ? h->o->label : h->o->link;
	struct pe_params *p = h->prm;
	struct microvm_ucall uc;
	uint64_t *lat, n = h->o->reads;
	unsigned int i;

	p->lat = microvm_alloc(h->vm, n * sizeof(uint64_t), 4096);
	lat = microvm_gpa2hva(h->vm, p->lat, n * sizeof(uint64_t));
	if (!p->lat || !lat) {		/* 0: no room (GPA 0 holds the page tables) */
		printf("FAIL: no guest memory for %llu samples\n", (unsigned long long)n);
		return 1;
	}
	p->count = n;
	if (start_prog(h, PE_PROG_BENCH_READ) || run_guest(h, &uc) != MICROVM_UCALL_DONE)
		return 1;
	if (p->errors) {
		printf("FAIL: %llu of %llu reads came back wrong\n", (unsigned long long)p->errors,
		       (unsigned long long)n);
		return 1;
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("bench: e2e.%s.mmio_read_p50_us = %.2f\n", label, lat[n / 2] / h->tsc_hz * 1e6);
	printf("bench: e2e.%s.mmio_read_p99_us = %.2f\n", label, lat[n * 99 / 100] / h->tsc_hz * 1e6);
	for (i = 0; i < 2; i++) {
		bool woke;

		p->len = sizes[i];
		if (bench_dma_run(h, &uc, &woke) != MICROVM_UCALL_DONE)
			return 1;
		if (woke) {
			printf("FAIL: DMA of %u bytes: no MSI for %u ms: the host woke the guest and"
			       " stopped it after %llu round trips\n",
			       sizes[i], BENCH_WAKE_MS, (unsigned long long)p->iters);
			return 1;
		}
		if (p->errors) {
			printf("FAIL: DMA of %u bytes: error status after %llu round trips\n",
			       sizes[i], (unsigned long long)p->iters);
			return 1;
		}
		printf("bench: e2e.%s.%s = %.2f\n", label, names[i],
		       2.0 * sizes[i] * p->iters / (p->ticks / h->tsc_hz) / 1e6);
		printf("# %s: %llu round trips of %u bytes each way in %.0f ms\n", names[i],
		       (unsigned long long)p->iters, sizes[i], p->ticks / h->tsc_hz * 1e3);
	}
	return 0;
}

/* ---- setup ---------------------------------------------------------------------- */

static int setup(struct host *h, struct softee_netdev *nd)
{
	struct opts *o = h->o;
	struct microvm_config vc = { .nr_vcpus = 1, .flags = MICROVM_F_IRQCHIP, .ram_bytes = RAM_BYTES };
	struct softee_poller_cfg pc = {
		.nd = nd, .group = o->group, .name = o->name,
		.hb_period_ns = (uint64_t)o->hb_ms * MS, .hb_miss = o->hb_miss,
		.mmio_base = MMIO_BASE, .mmio_len = MMIO_LEN,
		.rate = { .no_pacing = !o->pacing,
			  .rate_max_Bps = (uint64_t)o->rate_max_mbs * 1000000ULL },	/* 0: the default */
		.cpl_timeout_ns = (uint64_t)o->timeout_us * 1000,
		.ctl_path = o->ctl, .quiet = o->quiet,
	};
	int r;

	if (o->idle_us >= 0) {
		pc.idle = (struct softee_wait)SOFTEE_WAIT_INIT(o->idle_us ? SOFTEE_WAIT_SLEEP :
									   SOFTEE_WAIT_SPIN);
		pc.idle.sleep_max_ns = (uint32_t)o->idle_us * 1000;
		if (pc.idle.sleep_min_ns > pc.idle.sleep_max_ns)
			pc.idle.sleep_min_ns = pc.idle.sleep_max_ns;
	}
	h->vm = microvm_create(&vc);
	if (!h->vm) {
		fprintf(stderr, NAME ": cannot create the micro-VM (is /dev/kvm there?)\n");
		return -ENODEV;
	}
	h->v = microvm_vcpu(h->vm, 0);
	pc.vm_fd = microvm_vm_fd(h->vm);
	r = softee_poller_create(&h->p, &pc);
	if (r) {
		fprintf(stderr, NAME ": the poller: %s\n", strerror(-r));
		return r;
	}
	r = softee_poller_add_ram(h->p, 0, RAM_BYTES, microvm_gpa2hva(h->vm, 0, RAM_BYTES));
	if (r)
		return r;
	if (o->kmod) {
		r = softee_poller_attach_kmod(h->p, microvm_vm_fd(h->vm), 1, 0, o->timeout_us);
		if (r) {
			fprintf(stderr, NAME ": attaching softee.ko: %s%s\n", strerror(-r),
				r == -ENOENT ? " (insmod build/softee.ko)" : "");
			return r;
		}
	} else {
		r = softee_poller_attach_exit(h->p, 1, 0, o->timeout_us, &h->x);
		if (!r)
			r = microvm_add_exit_handler(h->vm, MICROVM_BUS_MMIO, MMIO_BASE, MMIO_LEN,
						     pe_exit_access, h->x);
		if (r) {
			fprintf(stderr, NAME ": the exit path: %s\n", strerror(-r));
			return r;
		}
	}
	r = softee_poller_start(h->p);
	if (r)
		return r;
	printf("softee-guest: group %u on %s, trapping with %s; waiting for the box of group %u\n",
	       o->group, o->link, o->kmod ? "softee.ko" : "the exit path (KVM_EXIT_MMIO)", o->group);
	fflush(stdout);
	r = softee_poller_wait_ready(h->p, 1, (uint64_t)o->wait_ms * MS);
	if (r) {
		printf("FAIL: no device of group %u became ready within %u ms\n", o->group, o->wait_ms);
		return r;
	}
	r = softee_poller_dev_info(h->p, 0, &h->info);
	if (r)
		return r;
	printf("device %04x:%04x configured: BAR0 0x%llx+0x%llx, BAR2 0x%llx+0x%llx, MSI 0x%llx data 0x%x\n",
	       h->info.vendor, h->info.device,
	       (unsigned long long)h->info.bar[0].addr, (unsigned long long)h->info.bar[0].size,
	       (unsigned long long)h->info.bar[2].addr, (unsigned long long)h->info.bar[2].size,
	       (unsigned long long)h->info.msi_addr, h->info.msi_data[0]);
	if (h->info.vendor != SOFTEE_TESTDEV_VENDOR_ID || h->info.device != SOFTEE_TESTDEV_DEVICE_ID) {
		printf("FAIL: not the test endpoint (%04x:%04x)\n", SOFTEE_TESTDEV_VENDOR_ID,
		       SOFTEE_TESTDEV_DEVICE_ID);
		return -ENODEV;
	}

	/* The guest's parameters and DMA buffers in its RAM; the data and CRCs made here. */
	return pe_params_setup(h->vm, &h->info, RAM_BYTES, o->len, &h->prm_gpa, &h->prm);
}

/*
 * The EAL pins the main thread to its lcore, and the poller's thread would
 * inherit that: the vCPU and the poller would then share one core while
 * the other idles, and a read's round trip would wait for the scheduler.
 * Both float (the box has its own lcore).
 */
static void unpin(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	for (long c = 0; c < n && c < CPU_SETSIZE; c++)
		CPU_SET(c, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

int main(int argc, char **argv)
{
	struct opts o = { .group = 1, .name = NAME, .timeout_us = 50000, .len = DMA_MAX,
			  .seed = 1, .wait_ms = 10000, .hb_ms = 100, .hb_miss = 3,
			  .reads = 2000, .dma_ms = 1000, .idle_us = -1,
			  .prog = "test" };
	char err[SOFTEE_NETDEV_ERRLEN], layout[96];
	struct softee_netdev_stack st;
	struct softee_fault_cfg fc;
	struct host h = { .o = &o };
	int i, ret, sep = -1, fails = 1;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			sep = i;
			break;
		}
	if (sep > 0) {
		ret = softee_dpdk_eal_init(argc, argv);
		if (ret < 0) {
			fprintf(stderr, NAME ": rte_eal_init: err=%d (%s)\n", ret, strerror(-ret));
			return 1;
		}
		argc -= ret;
		argv += ret;
		argv[0] = (char *)NAME;
		unpin();
	}
	parse(&o, argc, argv);
	if (o.fault) {
		memset(&fc, 0, sizeof(fc));
		if (softee_fault_parse(o.fault, &fc, err, sizeof(err)))
			die_usage("--fault: %s", err);
		fc.seed = o.seed;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ret = softee_netdev_stack_open(&st, o.link, NULL, o.split ? &o.split_conf : NULL,
				       o.fault ? &fc : NULL, err, sizeof(err));
	if (ret) {
		fprintf(stderr, NAME ": %s\n", err);
		return 1;
	}
	printf("softee-guest: link: MTU %u, blocking receive %s, a system call per send burst %s\n",
	       st.top->mtu, st.top->blocking_rx ? "yes" : "no", st.top->tx_burst_syscall ? "yes" : "no");
	if (o.split) {
		h.split = st.link;
		printf("softee-guest: split layout: %s\n",
		       softee_netdev_stack_layout(&st, layout, sizeof(layout)));
	}
	h.tsc_hz = tsc_hz();
	if (!setup(&h, st.top)) {
		if (!strcmp(o.prog, "test"))
			fails = prog_test(&h);
		else if (!strcmp(o.prog, "lost"))
			fails = prog_lost(&h);
		else
			fails = prog_bench(&h);
		print_counters(&h);
		print_lcore(&h);
		/* Only the box of our group configures a device here. */
		printf("softee-guest: devices: %u\n", softee_poller_nr_devs(h.p));
		printf("softee-guest: %s: %s\n", o.prog, fails ? "FAILED" : "passed");
		if (o.hold) {
			printf("softee-guest: holding until SIGINT/SIGTERM\n");
			while (!quit)
				pause();
		}
	}
	if (h.p)
		softee_poller_destroy(h.p);
	if (h.vm)
		microvm_destroy(h.vm);
	softee_netdev_stack_close(&st);
	return fails ? 1 : 0;
}
