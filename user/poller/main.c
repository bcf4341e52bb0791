// SPDX-License-Identifier: GPL-2.0
/*
 * softee-poller: the host daemon (Documentation/poller.rst).
 *
 *   softee-poller [EAL-ARGS --] --link SPEC [OPTIONS]
 *
 * With DPDK (a "dpdk:" link), the EAL's arguments come first, up to "--".
 * Options are checked as a whole before the link is opened; a setup error
 * says what and where.  The data thread is the main thread; the control
 * socket has its own.  SIGINT/SIGTERM stop it cleanly (every read in
 * flight completes, with all ones).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <softee.h>
#include <softee/args.h>
#include <softee/fault.h>
#include <softee/frame.h>
#include <softee/netdev_open.h>
#include <softee/netdev_split.h>
#include <softee/netdev_stack.h>
#include <softee/poller.h>

#define NAME		"softee-poller"
#define MAX_RAM		8

struct ram_opt {
	uint64_t gpa, len, off;
	int pid, fd;
};

struct opts {
	const char *link;
	uint16_t group;
	const char *name;
	uint64_t mmio_base, mmio_len;
	uint64_t io_base, io_len;
	bool kmod;
	int vm_fd;
	int vm_pid;
	uint32_t vcpus;
	uint32_t ring_entries;
	uint32_t timeout_us;
	struct ram_opt ram[MAX_RAM];
	unsigned int nr_ram;
	const char *ctl;
	struct softee_wait wait;
	bool have_wait;
	int cpu;
	uint32_t max_payload;
	bool no_merge;
	bool no_pacing;
	uint32_t rate_max_mbs;
	uint32_t duration_s;
	uint32_t hb_ms, hb_miss;
	uint8_t msi_vector;
	bool quiet;
	bool slot;
	uint16_t slot_bdf;
	uint64_t ecam;
	const char *ram_auto;		/* "q35" or "pc": the VMM's guest RAM found by itself */
	const char *fault;		/* faults on our side of the link (tests) */
	uint64_t seed;
	uint16_t ethertype;		/* the frames' (0x88b5) */
	bool split;			/* --layout split: TX and RX threads under the data thread */
	struct softee_split_conf split_conf;
};

static struct softee_poller *the_poller;

/* Each device's session with its box as it ended: what the rate control did. */
static void exit_summary(struct softee_poller *p)
{
	struct softee_poller_dev_info *in = malloc(sizeof(*in));
	unsigned int i;

	for (i = 0; in && i < softee_poller_nr_devs(p); i++) {
		if (softee_poller_dev_info(p, i, in))
			continue;
		fprintf(stderr, NAME ": at exit: device %u: TLPs tx %llu rx %llu, retrans %llu, timeouts %llu, rate %.1f MB/s (cuts %llu, app-limited %llu), srtt %.1f us\n",
			i, (unsigned long long)in->s.tx_tlps, (unsigned long long)in->s.rx_tlps,
			(unsigned long long)in->s.retrans, (unsigned long long)in->s.timeouts,
			(double)in->s.rate_Bps / 1e6, (unsigned long long)in->s.rate_cuts,
			(unsigned long long)in->s.rate_app_limited, (double)in->s.srtt_ns / 1000.0);
	}
	free(in);
}

static void on_signal(int sig)
{
	(void)sig;
	if (the_poller)
		softee_poller_stop(the_poller);	/* sets a flag; the loop ends */
}

static void help(void)
{
	printf("usage: " NAME " [EAL-ARGS --] --link SPEC [OPTIONS]\n"
	       "  --link SPEC            socket:IFNAME[,proto=0x88b5] | dpdk:DEVARGS | dpdk:port=N\n"
	       "  --group N              our group: the box of this group is ours (default 1)\n"
	       "  --ethertype N          the frames' EtherType, 0x0600..0xffff, not a VLAN TPID\n"
	       "                         (0x88b5; the box's must be the same)\n"
	       "  --name NAME            in our heartbeats\n"
	       "  --mmio-window B:L      memory BARs go in [B, B+L) (0xc0000000:0x10000000)\n"
	       "  --io-window B:L        I/O BARs go in [B, B+L) (0xc000:0x3000)\n"
	       "  --kmod                 trap the BARs with softee.ko (needs --vm-fd or --vm-pid)\n"
	       "  --vm-fd N              a KVM VM fd this process inherited\n"
	       "  --vm-pid PID           take the VM fd of a running VMM (pidfd_getfd)\n"
	       "  --vcpus N              rings, one per vCPU (default: the VMM's vCPU count, or 1)\n"
	       "  --ring-entries N       entries per ring (module default)\n"
	       "  --timeout-us U         read completion timeout (50000)\n"
	       "  --ram GPA:LEN:PID:FD[:OFF]  guest RAM: the VMM's memory fd FD, mapped at OFF\n"
	       "  --ram auto[:q35|pc]    guest RAM: the largest memfd of --vm-pid, laid out as\n"
	       "                         QEMU lays out that machine's RAM (q35)\n"
	       "  --slot BB:DD.F         slot mode: the guest sees the box's device here and\n"
	       "                         configures it itself (needs --kmod)\n"
	       "  --ecam BASE            slot mode: trap the slot's page of the ECAM window too\n"
	       "                         (QEMU q35: 0xb0000000)\n"
	       "  --ctl PATH             control socket (default /run/softee-poller.sock; '-' none)\n"
	       "  --wait spin|yield|sleep  the data thread when idle (sleep)\n"
	       "  --cpu C                pin the data thread to CPU C\n"
	       "  --layout rtc|split[:TXCPU,RXCPU]  run to completion on the data thread (rtc,\n"
	       "                         the default), or TX and RX on threads of their own\n"
	       "                         (DPDK lcores, if the EAL has those numbers)\n"
	       "  --max-payload B        MWr/CplD payload (default: what a frame holds)\n"
	       "  --no-merge             one MWr per posted write\n"
	       "  --no-pacing            rate control measures but never holds a frame (cores\n"
	       "                         shared with the VMM and the box: Documentation/poller.rst)\n"
	       "  --rate-max-mbs M       the rate control's ceiling, MB/s (1250: 10 Gbit/s)\n"
	       "  --msi-vector V         first MSI vector handed out (0x40)\n"
	       "  --hb-ms T --hb-miss K  heartbeat period and misses before a box is lost\n"
	       "  --duration-s S         stop after S seconds\n"
	       "  --fault SPEC --seed N  drop, dup, reorder, corrupt, delay frames on our side (tests)\n"
	       "  -q, --quiet            no log lines\n");
	exit(0);
}

#define die_usage(...)	softee_usage_error(NAME, __VA_ARGS__)

static uint64_t num(const char *opt, const char *s, uint64_t max)
{
	return softee_arg_num(NAME, opt, s, 0, max);
}

static void range(const char *opt, const char *s, uint64_t *base, uint64_t *len)
{
	char buf[64], *colon;

	snprintf(buf, sizeof(buf), "%s", s);
	colon = strchr(buf, ':');
	if (!colon)
		die_usage("%s wants BASE:LEN, not '%s'", opt, s);
	*colon = 0;
	*base = num(opt, buf, UINT64_MAX);
	*len = num(opt, colon + 1, UINT64_MAX);
}

static void ram_opt(struct opts *o, const char *s)
{
	struct ram_opt *r;

	if (!strcmp(s, "auto") || !strcmp(s, "auto:q35") || !strcmp(s, "auto:pc")) {
		o->ram_auto = strcmp(s, "auto:pc") ? "q35" : "pc";
		return;
	}
	char buf[128], *f[5], *save = NULL;
	int n = 0;

	if (o->nr_ram >= MAX_RAM)
		die_usage("--ram: at most %d ranges", MAX_RAM);
	r = &o->ram[o->nr_ram++];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *t = strtok_r(buf, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		if (n == 5)
			die_usage("--ram wants GPA:LEN:PID:FD[:OFFSET], not '%s'", s);
		f[n++] = t;
	}
	if (n < 4)
		die_usage("--ram wants GPA:LEN:PID:FD[:OFFSET], not '%s'", s);
	r->gpa = num("--ram GPA", f[0], UINT64_MAX);
	r->len = num("--ram LEN", f[1], UINT64_MAX);
	r->pid = (int)num("--ram PID", f[2], INT_MAX);
	r->fd = (int)num("--ram FD", f[3], INT_MAX);
	r->off = n > 4 ? num("--ram OFFSET", f[4], UINT64_MAX) : 0;
}

/* ---- the VMM's fds ----------------------------------------------------------- */

static int take_fd(int pid, int target)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), fd;

	if (pidfd < 0)
		return -errno;
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, target, 0);
	if (fd < 0)
		fd = -errno;
	close(pidfd);
	return fd;
}

/* The VMM's VM fd number, and how many vCPU fds it has. */
static int find_vm_fd(int pid, uint32_t *vcpus)
{
	char dir[64], path[320], link[128];
	struct dirent *de;
	int vm = -1;
	DIR *d;
	ssize_t n;

	*vcpus = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (!strcmp(link, "anon_inode:kvm-vm"))
			vm = atoi(de->d_name);
		else if (!strncmp(link, "anon_inode:kvm-vcpu", 19))
			(*vcpus)++;
	}
	closedir(d);
	return vm < 0 ? -ENOENT : vm;
}

/*
 * --ram auto: the VMM's guest RAM is its largest memfd (QEMU with
 * -object memory-backend-memfd,share=on), laid out as QEMU lays out the
 * machine's RAM: below 4 GiB up to the PCI hole (q35: 2 GiB when RAM
 * reaches 2.75 GiB; pc: 3 GiB when it reaches 3.5 GiB), the rest from
 * 4 GiB.  Returns 0, or 1 after saying why not.
 */
static int ram_auto(struct softee_poller *p, int pid, const char *machine)
{
	char dir[64], path[320], link[256];
	uint64_t size = 0, low, hole = strcmp(machine, "pc") ? 0xb0000000ULL : 0xe0000000ULL;
	struct dirent *de;
	int best = -1, ret;
	struct stat st;
	void *hva;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, NAME ": --ram auto: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (strncmp(link, "/memfd:", 7))
			continue;
		fd = take_fd(pid, atoi(de->d_name));
		if (fd < 0)
			continue;
		if (!fstat(fd, &st) && (uint64_t)st.st_size > size) {
			if (best >= 0)
				close(best);
			best = fd;
			size = (uint64_t)st.st_size;
		} else {
			close(fd);
		}
	}
	closedir(d);
	if (best < 0) {
		fprintf(stderr, NAME ": --ram auto: pid %d has no memfd: start QEMU with "
			"-object memory-backend-memfd,id=ram,size=SIZE,share=on -machine memory-backend=ram\n",
			pid);
		return 1;
	}
	hva = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, best, 0);
	close(best);
	if (hva == MAP_FAILED) {
		fprintf(stderr, NAME ": --ram auto: mmap of %llu bytes: %s\n",
			(unsigned long long)size, strerror(errno));
		return 1;
	}
	low = size >= hole ? (strcmp(machine, "pc") ? 0x80000000ULL : 0xc0000000ULL) : size;
	ret = softee_poller_add_ram(p, 0, low, hva);
	if (!ret && size > low)
		ret = softee_poller_add_ram(p, 0x100000000ULL, size - low, (uint8_t *)hva + low);
	if (ret) {
		fprintf(stderr, NAME ": --ram auto: %s\n", strerror(-ret));
		return 1;
	}
	fprintf(stderr, NAME ": guest RAM: %llu MiB of pid %d's memfd (%s layout)\n",
		(unsigned long long)(size >> 20), pid, machine);
	return 0;
}

/* ---- main -------------------------------------------------------------------------- */

static void parse(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "group", required_argument, NULL, 'g' },
		{ "name", required_argument, NULL, 'n' },
		{ "mmio-window", required_argument, NULL, 'm' },
		{ "io-window", required_argument, NULL, 'i' },
		{ "kmod", no_argument, NULL, 'k' },
		{ "vm-fd", required_argument, NULL, 'f' },
		{ "vm-pid", required_argument, NULL, 'p' },
		{ "vcpus", required_argument, NULL, 'c' },
		{ "ring-entries", required_argument, NULL, 'e' },
		{ "timeout-us", required_argument, NULL, 't' },
		{ "ram", required_argument, NULL, 'r' },
		{ "ctl", required_argument, NULL, 's' },
		{ "wait", required_argument, NULL, 'w' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "max-payload", required_argument, NULL, 'P' },
		{ "no-merge", no_argument, NULL, 'M' },
		{ "no-pacing", no_argument, NULL, 'N' },
		{ "rate-max-mbs", required_argument, NULL, 'B' },
		{ "msi-vector", required_argument, NULL, 'V' },
		{ "hb-ms", required_argument, NULL, 'H' },
		{ "hb-miss", required_argument, NULL, 'K' },
		{ "duration-s", required_argument, NULL, 'D' },
		{ "slot", required_argument, NULL, 'S' },
		{ "fault", required_argument, NULL, 'F' },
		{ "seed", required_argument, NULL, 'R' },
		{ "ecam", required_argument, NULL, 'E' },
		{ "layout", required_argument, NULL, 'Y' },
		{ "ethertype", required_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;		/* our own errors: one line, naming the argument */
	while ((c = getopt_long(argc, argv, ":qh", lo, NULL)) != -1) {
		switch (c) {
		case 'l': o->link = optarg; break;
		case 'g': o->group = (uint16_t)num("--group", optarg, 0xffff); break;
		case 'n': o->name = optarg; break;
		case 'm': range("--mmio-window", optarg, &o->mmio_base, &o->mmio_len); break;
		case 'i': range("--io-window", optarg, &o->io_base, &o->io_len); break;
		case 'k': o->kmod = true; break;
		case 'f': o->vm_fd = (int)num("--vm-fd", optarg, INT_MAX); break;
		case 'p': o->vm_pid = (int)num("--vm-pid", optarg, INT_MAX); break;
		case 'c': o->vcpus = (uint32_t)num("--vcpus", optarg, SOFTEE_MAX_RINGS); break;
		case 'e': o->ring_entries = (uint32_t)num("--ring-entries", optarg, SOFTEE_RING_MAX_ENTRIES); break;
		case 't': o->timeout_us = (uint32_t)num("--timeout-us", optarg, SOFTEE_TIMEOUT_MAX_US); break;
		case 'r': ram_opt(o, optarg); break;
		case 's': o->ctl = strcmp(optarg, "-") ? optarg : NULL; break;
		case 'w':
			if (softee_wait_parse(optarg, &o->wait))
				die_usage("--wait wants spin, yield or sleep, not '%s'", optarg);
			o->have_wait = true;
			break;
		case 'C': o->cpu = (int)num("--cpu", optarg, 1023) + 1; break;
		case 'P': o->max_payload = (uint32_t)num("--max-payload", optarg, 4096); break;
		case 'M': o->no_merge = true; break;
		case 'N': o->no_pacing = true; break;
		case 'B':
			o->rate_max_mbs = (uint32_t)softee_arg_num(NAME, "--rate-max-mbs", optarg, 1, 1000000);
			break;
		case 'V': o->msi_vector = (uint8_t)num("--msi-vector", optarg, 0xff); break;
		case 'H': o->hb_ms = (uint32_t)softee_arg_num(NAME, "--hb-ms", optarg, 1, 60000); break;
		case 'K': o->hb_miss = (uint32_t)softee_arg_num(NAME, "--hb-miss", optarg, 1, 1000); break;
		case 'D': o->duration_s = (uint32_t)num("--duration-s", optarg, 1u << 30); break;
		case 'q': o->quiet = true; break;
		case 'S': {
			unsigned int bus, dev, fn;
			char c;

			if (sscanf(optarg, "%x:%x.%x%c", &bus, &dev, &fn, &c) != 3 || bus > 0xff ||
			    dev > 0x1f || fn > 7)
				die_usage("--slot wants BB:DD.F in hex (00:10.0), not '%s'", optarg);
			o->slot = true;
			o->slot_bdf = (uint16_t)SOFTEE_CFG_BDF(bus, dev, fn);
			break;
		}
		case 'F': o->fault = optarg; break;
		case 'R': o->seed = num("--seed", optarg, UINT64_MAX); break;
		case 'Y': {
			char e[128];

			if (softee_split_parse(optarg, &o->split, &o->split_conf, e, sizeof(e)))
				die_usage("--layout %s", e);
			break;
		}
		case 'E':
			o->ecam = num("--ecam", optarg, (1ULL << 52) - 1);
			if (!o->ecam || (o->ecam & 0xfffff))
				die_usage("--ecam 0x%llx: a non-zero, 1 MiB aligned address",
					  (unsigned long long)o->ecam);
			break;
		case 'T': o->ethertype = softee_arg_ethertype(NAME, "--ethertype", optarg); break;
		case 'h': help(); break;
		default: softee_getopt_error(NAME, c, argv, lo);
		}
	}
	if (optind != argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	/* Checked as a whole, before anything is touched. */
	if (!o->link)
		die_usage("no link: give --link socket:IFNAME or --link dpdk:DEVARGS");
	if (o->kmod && o->vm_fd < 0 && !o->vm_pid)
		die_usage("--kmod needs the VM: --vm-fd N or --vm-pid PID");
	if (o->vm_fd >= 0 && o->vm_pid)
		die_usage("--vm-fd and --vm-pid: give one");
	if (o->slot && !o->kmod)
		die_usage("--slot needs --kmod (softee.ko traps the guest's config cycles)");
	if (o->ecam && !o->slot)
		die_usage("--ecam goes with --slot");
	if (o->ram_auto && !o->vm_pid)
		die_usage("--ram auto needs --vm-pid (the VMM whose memory fds to take)");
	if (o->msi_vector && o->msi_vector < 0x20)
		die_usage("--msi-vector 0x%x is an exception vector (want 0x20..0xff)", o->msi_vector);
	for (unsigned int i = 0; i < o->nr_ram; i++)
		if (!o->ram[i].len || o->ram[i].gpa + o->ram[i].len < o->ram[i].gpa)
			die_usage("--ram %u: length 0 or the range wraps", i);
}

int main(int argc, char **argv)
{
	struct opts o = { .group = 1, .vm_fd = -1, .ctl = "/run/softee-poller.sock",
			  .ethertype = SOFTEE_ETHERTYPE };
	struct softee_netdev_conf nconf = { 0 };
	char err[SOFTEE_NETDEV_ERRLEN], layout[96];
	struct softee_fault_cfg fc = { 0 };
	struct softee_netdev_stack st;
	struct softee_poller_cfg cfg;
	struct softee_poller *p = NULL;
	int vm_fd = -1, ret, i, sep = -1;
	uint32_t vcpus = 0;

	/* EAL arguments first, up to "--" (the EAL sees argv[0] and them). */
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
	}
	parse(&o, argc, argv);
	if (o.fault) {
		if (softee_fault_parse(o.fault, &fc, err, sizeof(err)))
			die_usage("--fault: %s", err);
		fc.seed = o.seed ? o.seed : 1;
	}

	if (o.vm_pid) {
		int target = find_vm_fd(o.vm_pid, &vcpus);

		if (target < 0) {
			fprintf(stderr, NAME ": pid %d: no anon_inode:kvm-vm among its fds (%s)\n",
				o.vm_pid, strerror(-target));
			return 1;
		}
		vm_fd = take_fd(o.vm_pid, target);
		if (vm_fd < 0) {
			fprintf(stderr, NAME ": pidfd_getfd pid %d fd %d: %s (needs root, or ptrace rights)\n",
				o.vm_pid, target, strerror(-vm_fd));
			return 1;
		}
	} else {
		vm_fd = o.vm_fd;
	}
	if (!o.vcpus)
		o.vcpus = vcpus ? vcpus : 1;

	nconf.ethertype = o.ethertype;	/* socket: the kernel passes only ours */
	ret = softee_netdev_stack_open(&st, o.link, &nconf, o.split ? &o.split_conf : NULL,
				       o.fault ? &fc : NULL, err, sizeof(err));
	if (ret) {
		fprintf(stderr, NAME ": %s\n", err);
		return 1;
	}
	if (o.split && !o.quiet)
		fprintf(stderr, NAME ": split layout: %s\n",
			softee_netdev_stack_layout(&st, layout, sizeof(layout)));
	memset(&cfg, 0, sizeof(cfg));
	cfg.nd = st.top;
	cfg.group = o.group;
	cfg.ethertype = o.ethertype;
	cfg.name = o.name;
	cfg.mmio_base = o.mmio_base;
	cfg.mmio_len = o.mmio_len;
	cfg.io_base = o.io_base;
	cfg.io_len = o.io_len;
	cfg.vm_fd = vm_fd;
	cfg.cpl_timeout_ns = (uint64_t)o.timeout_us * 1000;
	cfg.max_payload = o.max_payload;
	cfg.merge_max = o.no_merge ? 1 : 0;
	cfg.rate.no_pacing = o.no_pacing;
	cfg.rate.rate_max_Bps = (uint64_t)o.rate_max_mbs * 1000000ULL;	/* 0: the default */
	cfg.msi_vector = o.msi_vector;
	cfg.hb_period_ns = (uint64_t)o.hb_ms * 1000000ULL;
	cfg.hb_miss = o.hb_miss;
	cfg.cpu = o.cpu;
	cfg.ctl_path = o.ctl;
	cfg.quiet = o.quiet;
	cfg.slot = o.slot;
	cfg.slot_bdf = o.slot_bdf;
	cfg.ecam_base = o.ecam;
	if (o.have_wait)
		cfg.idle = o.wait;
	ret = softee_poller_create(&p, &cfg);
	if (ret) {
		fprintf(stderr, NAME ": setting up: %s\n", strerror(-ret));
		softee_netdev_stack_close(&st);
		return 1;
	}
	for (unsigned int k = 0; k < o.nr_ram; k++) {
		struct ram_opt *r = &o.ram[k];
		int fd = take_fd(r->pid, r->fd);
		void *hva;

		if (fd < 0) {
			fprintf(stderr, NAME ": --ram %u: pidfd_getfd pid %d fd %d: %s\n", k, r->pid,
				r->fd, strerror(-fd));
			goto fail;
		}
		hva = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)r->off);
		close(fd);
		if (hva == MAP_FAILED) {
			fprintf(stderr, NAME ": --ram %u: mmap of %llu bytes at offset %llu: %s (guest memory must be a shared memfd)\n",
				k, (unsigned long long)r->len, (unsigned long long)r->off, strerror(errno));
			goto fail;
		}
		ret = softee_poller_add_ram(p, r->gpa, r->len, hva);
		if (ret) {
			fprintf(stderr, NAME ": --ram %u: 0x%llx+0x%llx: %s\n", k,
				(unsigned long long)r->gpa, (unsigned long long)r->len, strerror(-ret));
			goto fail;
		}
	}
	if (o.ram_auto && ram_auto(p, o.vm_pid, o.ram_auto))
		goto fail;
	if (o.kmod) {
		ret = softee_poller_attach_kmod(p, vm_fd, o.vcpus, o.ring_entries, o.timeout_us);
		if (ret) {
			fprintf(stderr, NAME ": attaching softee.ko to the VM (fd %d, %u rings): %s%s\n",
				vm_fd, o.vcpus, strerror(-ret),
				ret == -ENOENT ? " (insmod build/softee.ko)" :
				ret == -EBUSY ? " (the VM already has a session)" : "");
			goto fail;
		}
	} else if (!o.quiet) {
		fprintf(stderr, NAME ": no --kmod: configuring devices only (the exit path runs in-process: Documentation/poller.rst)\n");
	}

	the_poller = p;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	if (o.duration_s)
		alarm(o.duration_s);
	softee_poller_run(p);
	the_poller = NULL;
	exit_summary(p);
	softee_poller_destroy(p);
	softee_netdev_stack_close(&st);
	if (vm_fd >= 0 && o.vm_pid)
		close(vm_fd);
	return 0;

fail:
	softee_poller_destroy(p);
	softee_netdev_stack_close(&st);
	return 1;
}
