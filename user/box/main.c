// SPDX-License-Identifier: GPL-2.0
/*
 * softee-box - the I/O box daemon: emulated PCIe endpoints behind a group
 * number, on a link.
 *
 *   softee-box [EAL-ARGS --] --dev SPEC [OPTIONS]
 *
 * EAL arguments (DPDK's) come first and end with "--"; without a "--" the
 * EAL is not started and only socket: links open.  The loop: the socket
 * backend blocks in its receive while the box is idle (1 ms at most, so
 * the control socket is served); DPDK polls, and sleeps a little after a
 * spell of idle polls (--idle-spin-us, --idle-us) so that a poller and a
 * VMM on the same two cores keep running.
 *
 * Exits 0 on SIGINT/SIGTERM (after telling its peers it leaves), 1 on a
 * setup or link error, 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <softee/args.h>
#include <softee/box.h>
#include <softee/fault.h>
#include <softee/frame.h>
#include <softee/netdev_open.h>
#include <softee/send.h>
#include <softee/tlp.h>

#define CTL_MAX_CLIENTS		8
#define CTL_LINE_MAX		256
#define CTL_OUT_MAX		(64 * 1024)
#define CTL_PERIOD_NS		1000000ULL	/* DPDK: look at the control socket every ms */
#define IDLE_LONG_NS		1000000ULL	/* DPDK: idle this long, the sleeps grow */

static volatile sig_atomic_t quit;

struct opts {
	const char *dev;
	unsigned int group;
	const char *endpoints[SOFTEE_EP_MAX];
	unsigned int nep;
	const char *ctl;
	bool json;
	const char *name;
	uint32_t node_id;
	uint32_t hb_ms, hb_miss;
	uint32_t mtu;
	uint16_t ethertype;
	bool vlan;
	bool no_pacing;
	uint32_t rate_max_mbs;
	uint32_t tags, cpl_timeout_ms, rcb;
	const char *fault;
	struct softee_fault_cfg fc;	/* --fault, parsed */
	uint64_t seed;
	int log_level;
	int cpu;
	uint32_t idle_us, idle_max_us, idle_spin_us;
	uint32_t link_wait_ms;
};

struct ctl_client {
	int fd;
	size_t len;
	char in[CTL_LINE_MAX];
};

struct ctl {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_client c[CTL_MAX_CLIENTS];
	char out[CTL_OUT_MAX];
};

static int log_level = SOFTEE_LOG_INFO;

static void say(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	fprintf(stderr, "softee-box: %s: ", softee_log_level_name(level));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A frame must carry a TLP of 128 bytes of data, the smallest MPS (box.c). */
#define BOX_MTU_MIN	(128 + SOFTEE_TLP_HDR4 + 4 + SOFTEE_FRAME_OVERHEAD)

static void help(void)
{
	printf("usage: softee-box [EAL-ARGS --] --dev SPEC [OPTIONS]\n"
	       "  --dev SPEC           socket:IFNAME | dpdk:DEVARGS (the link; required)\n"
	       "  --group N            group number, 0..65535 (1)\n"
	       "  --endpoint SPEC      MODEL[,bdf=BB:DD.F][,mps=B][,mrrs=B][,...]; repeat for more\n"
	       "                       functions (test[,devmem=B]; default: one test endpoint)\n"
	       "                       nvme,file=PATH[,size=B][,lbasize=512|4096][,queues=N][,create]\n"
	       "  --ctl PATH           control socket (/run/softee/box-GROUP.sock; 'none': none)\n"
	       "  --json               control answers in JSON unless a request says --text\n"
	       "  --name NAME          name in heartbeats (softee-box)\n"
	       "  --node-id N          node id in heartbeats (0)\n"
	       "  --hb-ms N --hb-miss N   heartbeat period and misses before a peer is lost (100, 3)\n"
	       "  --mtu N              bytes after the EtherType, 176..9000 (the link's)\n"
	       "  --ethertype N        the frames' EtherType, 0x0600..0xffff, not a VLAN TPID\n"
	       "                       (0x88b5; the host's must be the same)\n"
	       "  --vlan               tag frames with VID = group\n"
	       "  --no-pacing          rate control measures but never holds a frame (cores\n"
	       "                       shared with the host's threads: Documentation/box.rst)\n"
	       "  --rate-max-mbs M     the rate control's ceiling, MB/s (1250: 10 Gbit/s)\n"
	       "  --tags N             DMA reads in flight, 1..256 (64)\n"
	       "  --cpl-timeout-ms N   DMA read completion timeout (1000)\n"
	       "  --rcb 64|128         read completion boundary (64)\n"
	       "  --fault SPEC         drop=PPM,dup=PPM,reorder=PPM,corrupt=PPM,delay=PPM,delay_us=A-B\n"
	       "  --seed N             fault injector and ISN seed\n"
	       "  --log-level L        error, warn, info, debug (info)\n"
	       "  -v                   --log-level debug\n"
	       "  --cpu C              pin to CPU C\n"
	       "  --idle-spin-us N     DPDK: poll this long after the last work before sleeping (100)\n"
	       "  --idle-us N          DPDK: then sleep N us between polls (20; 0: never sleep)\n"
	       "  --idle-max-us N      DPDK: idle 1 ms, the sleeps double up to N us (200)\n"
	       "  --link-wait-ms N     DPDK: wait this long for link up\n");
	exit(0);
}

#define bad(...)	softee_usage_error("softee-box", __VA_ARGS__)

static uint64_t num(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	return softee_arg_num("softee-box", opt, s, min, max);
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "group", required_argument, NULL, 'g' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "name", required_argument, NULL, 'n' },
		{ "node-id", required_argument, NULL, 'N' },
		{ "hb-ms", required_argument, NULL, 'H' },
		{ "hb-miss", required_argument, NULL, 'K' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "vlan", no_argument, NULL, 'V' },
		{ "ethertype", required_argument, NULL, 'E' },
		{ "no-pacing", no_argument, NULL, 'P' },
		{ "rate-max-mbs", required_argument, NULL, 'R' },
		{ "tags", required_argument, NULL, 't' },
		{ "cpl-timeout-ms", required_argument, NULL, 'T' },
		{ "rcb", required_argument, NULL, 'r' },
		{ "fault", required_argument, NULL, 'F' },
		{ "seed", required_argument, NULL, 'S' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "idle-us", required_argument, NULL, 'I' },
		{ "idle-max-us", required_argument, NULL, 'X' },
		{ "idle-spin-us", required_argument, NULL, 'Y' },
		{ "link-wait-ms", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;		/* our own errors: one line, naming the argument */
	while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->dev = optarg; break;
		case 'g': o->group = (unsigned int)num("--group", optarg, 0, 0xffff); break;
		case 'e': {
			char err[256];

			if (o->nep >= SOFTEE_EP_MAX)
				bad("at most %d --endpoint", SOFTEE_EP_MAX);
			/* the spec now; the model is made once the link is up */
			if (softee_endpoint_create(optarg, NULL, err, sizeof(err)))
				bad("--%s", err);
			o->endpoints[o->nep++] = optarg;
			break;
		}
		case 'c': o->ctl = optarg; break;
		case 'j': o->json = true; break;
		case 'n': o->name = optarg; break;
		case 'N': o->node_id = (uint32_t)num("--node-id", optarg, 0, UINT32_MAX); break;
		case 'H': o->hb_ms = (uint32_t)num("--hb-ms", optarg, 1, 60000); break;
		case 'K': o->hb_miss = (uint32_t)num("--hb-miss", optarg, 1, 1000); break;
		case 'm': o->mtu = (uint32_t)num("--mtu", optarg, BOX_MTU_MIN, 9000); break;
		case 'V': o->vlan = true; break;
		case 'P': o->no_pacing = true; break;
		case 'R': o->rate_max_mbs = (uint32_t)num("--rate-max-mbs", optarg, 1, 1000000); break;
		case 't': o->tags = (uint32_t)num("--tags", optarg, 1, SOFTEE_BOX_MAX_TAGS); break;
		case 'T': o->cpl_timeout_ms = (uint32_t)num("--cpl-timeout-ms", optarg, 1, 600000); break;
		case 'r':
			o->rcb = (uint32_t)num("--rcb", optarg, 64, 128);
			if (o->rcb != 64 && o->rcb != 128)
				bad("--rcb is 64 or 128");
			break;
		case 'F': o->fault = optarg; break;
		case 'S': o->seed = num("--seed", optarg, 0, UINT64_MAX); break;
		case 'L':
			o->log_level = softee_log_level_parse(optarg);
			if (o->log_level < 0)
				bad("--log-level is error, warn, info or debug, not '%s'", optarg);
			break;
		case 'v': o->log_level = SOFTEE_LOG_DEBUG; break;
		case 'E': o->ethertype = softee_arg_ethertype("softee-box", "--ethertype", optarg); break;
		case 'C': o->cpu = (int)num("--cpu", optarg, 0, CPU_SETSIZE - 1); break;
		case 'I': o->idle_us = (uint32_t)num("--idle-us", optarg, 0, 1000000); break;
		case 'X': o->idle_max_us = (uint32_t)num("--idle-max-us", optarg, 1, 1000000); break;
		case 'Y': o->idle_spin_us = (uint32_t)num("--idle-spin-us", optarg, 0, 1000000); break;
		case 'W': o->link_wait_ms = (uint32_t)num("--link-wait-ms", optarg, 0, UINT32_MAX); break;
		case 'h': help(); break;
		default: softee_getopt_error("softee-box", c, argv, longopts);
		}
	}
	if (optind != argc)
		bad("unexpected argument '%s'", argv[optind]);
	if (!o->dev)
		bad("no link: give --dev socket:IFNAME or --dev dpdk:DEVARGS");
	if (o->fault) {
		char err[160];

		if (softee_fault_parse(o->fault, &o->fc, err, sizeof(err)))
			bad("--fault: %s", err);
	}
	if (o->vlan && (o->group < 1 || o->group > 4094))
		bad("--vlan needs a group of 1..4094 (it is the VLAN id)");
	if (!o->nep)
		o->endpoints[o->nep++] = "test";
}

/* ---- the control socket --------------------------------------------------------------- */

static int ctl_open(struct ctl *ctl, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	int fd;

	ctl->fd = -1;
	for (fd = 0; fd < CTL_MAX_CLIENTS; fd++)
		ctl->c[fd].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		say(SOFTEE_LOG_ERR, "control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST) {
			say(SOFTEE_LOG_ERR, "control socket: mkdir %s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A socket file nobody listens on is a leftover of a box that died: replace it. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		say(SOFTEE_LOG_ERR, "control socket %s: another box listens there", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		int err = errno;

		say(SOFTEE_LOG_ERR, "control socket %s: %s", path, strerror(err));
		close(fd);
		return -err;
	}
	ctl->fd = fd;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	return 0;
}

static void ctl_close(struct ctl *ctl)
{
	int i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl->c[i].fd >= 0)
			close(ctl->c[i].fd);
	if (ctl->fd >= 0) {
		close(ctl->fd);
		unlink(ctl->path);
	}
}

static void client_drop(struct ctl_client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* A client that does not read an answer within this is dropped. */
#define CTL_SEND_MS	100

static void ctl_serve(struct ctl *ctl, struct softee_box *box)
{
	int i, fd;

	if (ctl->fd < 0)
		return;
	while ((fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		for (i = 0; i < CTL_MAX_CLIENTS && ctl->c[i].fd >= 0; i++)
			;
		if (i == CTL_MAX_CLIENTS) {
			static const char busy[] = "error: too many control clients\n";

			softee_send_all(fd, busy, sizeof(busy) - 1, CTL_SEND_MS);
			close(fd);
			continue;
		}
		ctl->c[i].fd = fd;
		ctl->c[i].len = 0;
	}
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &ctl->c[i];
		ssize_t k;
		char *nl;

		if (c->fd < 0)
			continue;
		k = recv(c->fd, c->in + c->len, sizeof(c->in) - 1 - c->len, MSG_DONTWAIT);
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
			client_drop(c);
			continue;
		}
		if (k > 0)
			c->len += (size_t)k;
		c->in[c->len] = '\0';
		while (c->fd >= 0 && (nl = strchr(c->in, '\n'))) {
			size_t n;

			*nl = '\0';
			say(SOFTEE_LOG_DEBUG, "control: %s", c->in);
			n = softee_box_ctl(box, c->in, ctl->out, sizeof(ctl->out));
			if (softee_send_all(c->fd, ctl->out, n, CTL_SEND_MS)) {
				client_drop(c);
				break;
			}
			c->len -= (size_t)(nl + 1 - c->in);
			memmove(c->in, nl + 1, c->len + 1);
		}
		if (c->fd >= 0 && c->len == sizeof(c->in) - 1) {
			static const char tl[] = "error: line too long\n";

			softee_send_all(c->fd, tl, sizeof(tl) - 1, CTL_SEND_MS);
			client_drop(c);
		}
	}
}

/* ---- main -------------------------------------------------------------------------- */

static void box_log(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	say(level, "%s", msg);
}

/* Each peer's session as it ended: what the rate control did. */
static void exit_summary(struct softee_box *box)
{
	struct softee_transport *t = softee_box_transport(box);
	unsigned int i, max = softee_transport_max_peers(t);
	struct softee_peer *p;

	for (i = 0; i < max; i++) {
		p = softee_transport_peer(t, (int)i);
		if (!p || p->live->state == SOFTEE_PEER_FREE || !p->stats.tx_tlps)
			continue;
		say(SOFTEE_LOG_INFO, "at exit: peer %u: TLPs tx %llu rx %llu, retrans %llu, rate %.1f MB/s (cuts %llu, app-limited %llu), srtt %.1f us",
		    i, (unsigned long long)p->stats.tx_tlps, (unsigned long long)p->stats.rx_tlps,
		    (unsigned long long)p->stats.tx_retrans, (double)p->rc.rate_Bps / 1e6,
		    (unsigned long long)p->rc.stats.decreases,
		    (unsigned long long)p->rc.stats.app_limited, (double)p->rc.srtt_ns / 1000.0);
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .group = 1, .cpu = -1, .idle_us = 20, .idle_max_us = 200, .idle_spin_us = 100,
			.log_level = 0, .ethertype = SOFTEE_ETHERTYPE };
	struct softee_netdev_conf nconf = { 0 };
	struct softee_netdev *nd = NULL, *fault = NULL;
	struct softee_box_cfg bc = { 0 };
	struct softee_box *box = NULL;
	struct ctl *ctl = NULL;
	char err[SOFTEE_NETDEV_ERRLEN], path[108];
	bool dpdk = false, wait_mode;
	uint64_t next_ctl = 0;
	unsigned int i;
	uint32_t sleep_us, idle_max;
	uint64_t last_work;
	int ret, rc = 1;

	/* EAL arguments first, up to "--" (the EAL sees argv[0] and them). */
	for (i = 1; i < (unsigned int)argc; i++)
		if (!strcmp(argv[i], "--"))
			break;
	if (i < (unsigned int)argc) {
		ret = softee_dpdk_eal_init(argc, argv);
		if (ret < 0) {
			fprintf(stderr, "softee-box: rte_eal_init: err=%d (%s)\n", ret, strerror(-ret));
			return 1;
		}
		argc -= ret;
		argv += ret;
		dpdk = true;
	}
	optind = 1;
	parse(argc, argv, &o);
	if (o.log_level)
		log_level = o.log_level;

	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	setvbuf(stderr, NULL, _IOLBF, 0);
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			say(SOFTEE_LOG_ERR, "cannot pin to CPU %d: %s", o.cpu, strerror(errno));
			goto out;
		}
	}

	nconf.ethertype = o.ethertype;	/* socket: the kernel passes only ours */
	nconf.link_wait_ms = o.link_wait_ms;
	if (o.mtu && !strncmp(o.dev, "dpdk:", 5))
		nconf.mtu = o.mtu;
	ret = softee_netdev_open(o.dev, &nconf, &nd, err, sizeof(err));
	if (ret) {
		say(SOFTEE_LOG_ERR, "%s", err);
		goto out;
	}
	wait_mode = nd->blocking_rx;
	fault = nd;
	if (o.fault) {
		o.fc.seed = o.seed ^ 0xb0c5;
		ret = softee_fault_create(&fault, nd, &o.fc);
		if (ret) {
			say(SOFTEE_LOG_ERR, "fault injector: %s", strerror(-ret));
			goto out;
		}
	}

	bc.xport.nd = fault;
	bc.xport.ethertype = o.ethertype;
	bc.xport.group = (uint16_t)o.group;
	bc.xport.vlan = o.vlan;
	bc.xport.node_id = o.node_id;
	bc.xport.name = o.name;
	bc.xport.mtu = o.mtu;
	bc.xport.hb_period_ns = (uint64_t)o.hb_ms * 1000000ULL;
	bc.xport.hb_miss = o.hb_miss;
	bc.xport.seed = o.seed;
	bc.xport.rate.no_pacing = o.no_pacing;
	bc.xport.rate.rate_max_Bps = (uint64_t)o.rate_max_mbs * 1000000ULL;	/* 0: the default */
	bc.tags = o.tags;
	bc.cpl_timeout_ns = (uint64_t)o.cpl_timeout_ms * 1000000ULL;
	bc.rcb = o.rcb;
	bc.ctl_json = o.json;
	bc.log = box_log;
	bc.log_level = o.log_level;
	ret = softee_box_create(&box, &bc, now_ns());
	if (ret) {
		say(SOFTEE_LOG_ERR, "cannot start the box: %s (group %u, link %s mtu %u)",
		    strerror(-ret), o.group, nd->ops->name, nd->mtu);
		goto out;
	}
	for (i = 0; i < o.nep; i++) {
		struct softee_endpoint *ep;

		ret = softee_endpoint_create(o.endpoints[i], &ep, err, sizeof(err));
		if (ret) {
			say(SOFTEE_LOG_ERR, "%s", err);
			goto out;
		}
		ret = softee_box_add_endpoint(box, ep);
		if (ret < 0) {
			say(SOFTEE_LOG_ERR, "endpoint '%s': %s", o.endpoints[i], strerror(-ret));
			ep->ops->destroy(ep);
			goto out;
		}
	}

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		goto out;
	ctl->fd = -1;
	if (!o.ctl || strcmp(o.ctl, "none")) {
		if (!o.ctl) {
			snprintf(path, sizeof(path), "/run/softee/box-%u.sock", o.group);
			o.ctl = path;
		}
		if (ctl_open(ctl, o.ctl))
			goto out;
	}
	{
		const uint8_t *m = softee_transport_mac(softee_box_transport(box));

		say(SOFTEE_LOG_INFO, "ready: group %u, link %s (%s), mac %02x:%02x:%02x:%02x:%02x:%02x, "
		    "%u endpoint(s), control %s", o.group, o.dev, nd->ops->name, m[0], m[1], m[2],
		    m[3], m[4], m[5], o.nep, ctl->fd >= 0 ? ctl->path : "none");
	}

	/*
	 * The idle sleep is a few microseconds: without this, the default 50 us
	 * of timer slack would stretch every one and add to each round trip.
	 */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	/*
	 * Poll on for idle_spin_us after the last work: while a host is at
	 * work what it sends next comes within that (a driver reads STATUS
	 * some 30 us after its MSI), and a request that finds the box asleep
	 * waits for the sleep and its wake-up.  Then short sleeps, longer
	 * ones once nothing came for IDLE_LONG_NS: here a sleep's wake-up
	 * costs about what the sleep is, and a box that slept 20 us at a time
	 * used 43% of its idle core.
	 */
	idle_max = o.idle_max_us > o.idle_us ? o.idle_max_us : o.idle_us;
	sleep_us = o.idle_us;
	last_work = now_ns();
	while (!quit) {
		if (wait_mode) {
			ret = softee_box_poll_wait(box, 1000);
			ctl_serve(ctl, box);
		} else {
			uint64_t now = now_ns();

			ret = softee_box_poll(box, now);
			if (now >= next_ctl) {
				ctl_serve(ctl, box);
				next_ctl = now + CTL_PERIOD_NS;
			}
			/* Back off when idle, so that the other programs on these cores run. */
			if (ret > 0 || softee_box_busy(box)) {
				last_work = now;
				sleep_us = o.idle_us;
			} else if (o.idle_us && now - last_work >= (uint64_t)o.idle_spin_us * 1000) {
				nanosleep(&(struct timespec){ .tv_sec = sleep_us / 1000000,
					  .tv_nsec = (long)(sleep_us % 1000000) * 1000 }, NULL);
				if (now - last_work >= IDLE_LONG_NS)
					sleep_us = sleep_us > idle_max / 2 ? idle_max : 2 * sleep_us;
			}
		}
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN) {
			say(SOFTEE_LOG_ERR, "link %s: %s", o.dev, strerror(-ret));
			goto out;
		}
	}
	say(SOFTEE_LOG_INFO, "stopping");
	exit_summary(box);
	rc = 0;
out:
	if (ctl) {
		ctl_close(ctl);
		free(ctl);
	}
	softee_box_destroy(box);
	if (fault && fault != nd)
		softee_netdev_close(fault);
	softee_netdev_close(nd);
	if (dpdk)
		softee_dpdk_eal_cleanup();
	return rc;
}
