// SPDX-License-Identifier: GPL-2.0
/*
 * One EAL shared with the owner (softee/netdev_open.h): a program that ran
 * rte_eal_init() itself, for ports of its own, then hands softee links on
 * the same EAL.  softee_dpdk_eal_init() adopts that EAL (0, no argument
 * read) instead of failing with EALREADY, the factory then knows "dpdk:"
 * specs, a port opens and passes frames both ways to one of the owner's;
 * a second init changes nothing; softee_dpdk_open() alone adopts it too;
 * and softee's cleanup leaves the owner's EAL up.
 *
 * Each TEST runs in a process of its own (the harness forks), so each
 * starts its own EAL: --no-huge, no PCI, and a --file-prefix of its pid.
 * A machine where the EAL cannot start skips them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "kselftest_harness.h"
#include <softee/netdev_open.h>

#define FRAME_LEN	128
#define WAIT_MS		5000

struct owner {
	char prefix[64];
	char sock[108];
	char devargs[200];	/* the owner's memif server */
	uint16_t port;		/* the owner's own port */
	struct rte_mempool *mp;
};

static void sleep_ms(unsigned int ms)
{
	nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000l }, NULL);
}

/*
 * EAL arguments into argv (room for 16): one lcore, no hugepages, no PCI,
 * a file prefix of this process's own; then "--vdev VDEV" if vdev, and
 * "--" if dashdash (softee_dpdk_eal_init's form).  Returns argc.
 */
static int eal_args(struct owner *o, char **argv, const char *vdev, bool dashdash)
{
	int argc = 0;

	snprintf(o->prefix, sizeof(o->prefix), "softee-ealtest-%d", (int)getpid());
	argv[argc++] = "dpdk_eal_test";
	argv[argc++] = "-l";
	argv[argc++] = "0";
	argv[argc++] = "--no-huge";
	argv[argc++] = "--no-pci";
	argv[argc++] = "-m";
	argv[argc++] = "256";
	argv[argc++] = "--file-prefix";
	argv[argc++] = o->prefix;
	argv[argc++] = "--log-level=error";
	if (vdev) {
		argv[argc++] = "--vdev";
		argv[argc++] = (char *)vdev;
	}
	if (dashdash)
		argv[argc++] = "--";
	argv[argc] = NULL;
	return argc;
}

/* The owner's rte_eal_init(), with its own vdevs: 0, or why not (a skip). */
static int owner_eal_init(struct owner *o, const char *vdev, char *why, size_t whylen)
{
	char *argv[16];
	int argc = eal_args(o, argv, vdev, false), ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		snprintf(why, whylen, "the owner's rte_eal_init failed: %s", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static void owner_cleanup(struct owner *o, bool eal)
{
	char cmd[200];

	if (eal)
		rte_eal_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s", o->prefix);
	if (system(cmd)) {
		/* a leftover directory only */
	}
	if (o->sock[0])
		unlink(o->sock);
}

/* The owner's memif server, started by hand as the owner's own port. */
static int owner_port_start(struct owner *o)
{
	struct rte_eth_conf conf = { 0 };
	int ret;

	if (rte_eth_dev_get_port_by_name("net_memif0", &o->port))
		return -ENODEV;
	o->mp = rte_pktmbuf_pool_create("owner_pool", 1024, 32, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					rte_socket_id());
	if (!o->mp)
		return -rte_errno;
	ret = rte_eth_dev_configure(o->port, 1, 1, &conf);
	if (!ret)
		ret = rte_eth_rx_queue_setup(o->port, 0, 256, rte_socket_id(), NULL, o->mp);
	if (!ret)
		ret = rte_eth_tx_queue_setup(o->port, 0, 256, rte_socket_id(), NULL);
	if (!ret)
		ret = rte_eth_dev_start(o->port);
	return ret;
}

static void fill(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint8_t seed)
{
	unsigned int i;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xb6;
	for (i = 14; i < FRAME_LEN; i++)
		f[i] = (uint8_t)(seed + i);
}

struct got {
	uint8_t frame[FRAME_LEN];
	uint32_t len;
	unsigned int n;
};

static void on_rx(void *opaque, const uint8_t *frame, uint32_t len)
{
	struct got *g = opaque;

	g->n++;
	if (len <= FRAME_LEN && g->n == 1) {
		memcpy(g->frame, frame, len);
		g->len = len;
	}
}

/* softee -> owner: the frame arrives whole on the owner's port. */
static int softee_to_owner(struct owner *o, struct softee_netdev *nd, uint8_t seed)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[FRAME_LEN];
	struct softee_txframe tf = { .data = f, .len = FRAME_LEN };
	struct rte_mbuf *m[8];
	unsigned int waited;
	int ok = 0;
	uint16_t n, i;

	fill(f, bcast, nd->mac, seed);
	for (waited = 0; waited < WAIT_MS && softee_netdev_tx(nd, &tf, 1) != 1; waited++)
		sleep_ms(1);
	for (waited = 0; waited < WAIT_MS && !ok; waited++) {
		n = rte_eth_rx_burst(o->port, 0, m, 8);
		for (i = 0; i < n; i++) {
			if (rte_pktmbuf_data_len(m[i]) == FRAME_LEN &&
			    !memcmp(rte_pktmbuf_mtod(m[i], uint8_t *), f, FRAME_LEN))
				ok = 1;
			rte_pktmbuf_free(m[i]);
		}
		if (!n)
			sleep_ms(1);
	}
	return ok;
}

/* owner -> softee: the frame reaches softee's rx callback whole. */
static int owner_to_softee(struct owner *o, struct softee_netdev *nd, uint8_t seed)
{
	struct rte_ether_addr src;
	struct rte_mbuf *m = rte_pktmbuf_alloc(o->mp);
	struct got g = { 0 };
	unsigned int waited;
	uint8_t f[FRAME_LEN];

	if (!m)
		return 0;
	rte_eth_macaddr_get(o->port, &src);
	fill(f, nd->mac, src.addr_bytes, seed);
	memcpy(rte_pktmbuf_append(m, FRAME_LEN), f, FRAME_LEN);
	/* memif: the server sends into buffers its client gave it in a receive. */
	for (waited = 0; rte_eth_tx_burst(o->port, 0, &m, 1) != 1; waited++) {
		if (waited >= WAIT_MS) {
			rte_pktmbuf_free(m);
			return 0;
		}
		softee_netdev_rx(nd, 8, 0, on_rx, &g);
		sleep_ms(1);
	}
	for (waited = 0; waited < WAIT_MS && !g.n; waited++)
		if (softee_netdev_rx(nd, 8, 0, on_rx, &g) <= 0)
			sleep_ms(1);
	return g.n == 1 && g.len == FRAME_LEN && !memcmp(g.frame, f, FRAME_LEN);
}

/*
 * The owner's EAL and its own memif server; softee adopts the EAL, opens
 * the client through the factory, and each sends the other a frame.
 */
TEST(adopts_the_owners_eal)
{
	struct softee_netdev_conf conf = { .link_wait_ms = WAIT_MS };
	char err[SOFTEE_NETDEV_ERRLEN], why[160], spec[200];
	struct softee_netdev *nd = NULL;
	struct owner o = { 0 };
	int ret;

	snprintf(o.sock, sizeof(o.sock), "/tmp/softee-ealtest-%d.sock", (int)getpid());
	snprintf(o.devargs, sizeof(o.devargs), "net_memif0,role=server,socket=%s", o.sock);
	unlink(o.sock);
	if (owner_eal_init(&o, o.devargs, why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_EQ(0, owner_port_start(&o));

	/* Before softee knows the EAL, the factory does not know "dpdk:". */
	snprintf(spec, sizeof(spec), "dpdk:net_memif1,role=client,socket=%s", o.sock);
	EXPECT_EQ(-ENOENT, softee_netdev_open(spec, &conf, &nd, err, sizeof(err)));

	/* Adopted: 0, no argument read (none given). */
	EXPECT_EQ(0, softee_dpdk_eal_init(0, NULL));
	ret = softee_netdev_open(spec, &conf, &nd, err, sizeof(err));
	ASSERT_EQ(0, ret) TH_LOG("open: %s", err);
	EXPECT_STREQ("dpdk", nd->ops->name);

	EXPECT_TRUE(softee_to_owner(&o, nd, 1));
	EXPECT_TRUE(owner_to_softee(&o, nd, 2));

	/* A second init is harmless: it says so, and the link still works. */
	EXPECT_EQ(-EALREADY, softee_dpdk_eal_init(0, NULL));
	EXPECT_TRUE(softee_to_owner(&o, nd, 3));
	EXPECT_TRUE(owner_to_softee(&o, nd, 4));

	/* softee's cleanup leaves the owner's EAL (and its port) up. */
	softee_netdev_close(nd);
	softee_dpdk_eal_cleanup();
	EXPECT_LT(0, rte_lcore_count());
	EXPECT_NE(NULL, rte_mempool_lookup("owner_pool"));
	rte_eth_dev_stop(o.port);
	rte_eth_dev_close(o.port);
	owner_cleanup(&o, true);
}

/* An owner that never calls softee_dpdk_eal_init: softee_dpdk_open adopts. */
TEST(open_alone_adopts)
{
	struct softee_netdev *nd = NULL;
	char err[SOFTEE_NETDEV_ERRLEN], why[160];
	struct owner o = { 0 };
	int ret;

	if (owner_eal_init(&o, NULL, why, sizeof(why)))
		SKIP(return, "%s", why);
	ret = softee_dpdk_open("net_null0", NULL, &nd, err, sizeof(err));
	ASSERT_EQ(0, ret) TH_LOG("open: %s", err);
	EXPECT_STREQ("dpdk", nd->ops->name);
	softee_netdev_close(nd);
	/* and softee_dpdk_eal_init() finds it adopted already */
	EXPECT_EQ(-EALREADY, softee_dpdk_eal_init(0, NULL));
	softee_dpdk_eal_cleanup();
	EXPECT_LT(0, rte_lcore_count());
	owner_cleanup(&o, true);
}

/* softee's own EAL, as before: the arguments it consumed, and a second init refused. */
TEST(softee_starts_its_own)
{
	struct owner o = { 0 };
	char *argv[16];
	int argc = eal_args(&o, argv, NULL, true);

	if (softee_dpdk_eal_init(argc, argv) != argc - 1)
		SKIP(return, "the EAL does not start here");
	EXPECT_EQ(-EALREADY, softee_dpdk_eal_init(argc, argv));
	softee_dpdk_eal_cleanup();
	owner_cleanup(&o, false);	/* softee's cleanup ran the EAL's */
}

TEST_HARNESS_MAIN
