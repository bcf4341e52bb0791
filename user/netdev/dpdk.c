// SPDX-License-Identifier: GPL-2.0
/*
 * The DPDK backend: any ethdev, one RX and one TX queue, burst RX/TX, no
 * system call per frame on softee's side (a PMD may make its own: the
 * af_packet PMD kicks the kernel once per TX burst).  Works with the EAL's
 * --no-huge: the pool is ordinary memory, and the vdevs softee is tested on
 * (net_af_packet over a veth, net_memif between two processes) need no
 * physical addresses.
 *
 * One EAL per process, shared with the owner: softee_dpdk_eal_init()
 * starts it with the owner's arguments, or adopts the one the owner
 * started itself with rte_eal_init() (and then leaves its cleanup to the
 * owner).  Each softee_dpdk_open() then takes a port: a vdev it hot-plugs
 * from devargs, or a port the EAL already has.  The owner's own ports are
 * its own: softee takes only the ones it is given.
 *
 * TX copies each frame into a fresh mbuf (Go-Back-N keeps its own copy to
 * send again), except on the PMDs that copy it out themselves before
 * tx_burst returns (af_packet, memif without zero-copy): those get mbufs
 * that lend them the caller's frame (an external buffer), one copy
 * fewer (on memif, 5-9% more frames a second).  A PMD found holding a
 * lent frame after its burst ends the lending for good, with a line on
 * stderr.  RX hands the callback the mbuf's data in place, linearised
 * first if the PMD chained it, with a tag the PMD stripped put back.
 *
 * memif (22.11): when the peer goes away, the EAL's interrupt thread
 * unmaps the shared rings while the data path may be in a burst on them;
 * a burst in that window faults.  So on memif each burst first looks at
 * the link, and does nothing once it is down (TX counts the frames as
 * dropped, as a NIC with its link down does).  That narrows the window to
 * the burst itself; owners should still stop bursting before their peer
 * closes (softee-linkbench leaves, then goes quiet, then closes).  The
 * same thread races our own close when both ends close at once (it frees
 * what memif's stop frees): so a memif server closes only once its client
 * is gone (or a second has passed), and a little after that.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_kvargs.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <softee/netdev_open.h>
#include <softee/netdev_split.h>
#include "netdev_err.h"

#define DPDK_BURST		32
#define DPDK_DESC_DEFAULT	1024
#define DPDK_LINK_WAIT_MS	5000
#define DPDK_MBUF_CACHE		256
#define DPDK_MEMIF_CLOSE_WAIT_MS	1000
#define DPDK_MEMIF_SETTLE_MS		50

struct dpdk_priv {
	uint16_t port;
	bool probed;			/* we hot-plugged it: we remove it */
	bool check_link;		/* memif: no burst while the link is down */
	bool memif_server;		/* memif: close after the client */
	struct rte_device *dev;
	struct rte_mempool *mp;
	uint32_t max_frame;		/* what fits in one mbuf */
	/* TX lends the PMD the caller's frames (see the top of this file). */
	bool tx_lend;
	unsigned int tx_lent;		/* lent and not given back yet */
	struct rte_mbuf_ext_shared_info tx_sh[DPDK_BURST];
	/* A chained or re-tagged frame, made contiguous for the callback. */
	uint8_t lin[SOFTEE_NETDEV_MAX_FRAME + RTE_VLAN_HLEN];
};

static bool eal_ready;		/* softee may open ports */
static bool eal_ours;		/* and it ran rte_eal_init: it cleans up */
static bool eal_gone;		/* softee ran rte_eal_cleanup(): none to adopt */
static bool port_taken[RTE_MAX_ETHPORTS];


/* A PMD's -1 is "failed, see my log", not EPERM. */
static const char *dpdk_strerror(int ret)
{
	return ret == -1 ? "the driver failed; its log above says why" : strerror(-ret);
}

static void dpdk_sleep_ms(unsigned int ms)
{
	nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000l }, NULL);
}

/*
 * Whether an EAL is up in this process.  DPDK 22.11 has no call that says
 * so: rte_eal_init() counts the lcores early (rte_eal_cpu_init), and the
 * count is 0 before; a second rte_eal_init() fails with EALREADY (its
 * run_once), and logs an alert.  So: lcores counted means the owner ran
 * rte_eal_init() (an owner whose init failed does not go on to use DPDK).
 */
static bool dpdk_eal_up(void)
{
	return rte_lcore_count() > 0;
}

static void dpdk_eal_take(bool ours)
{
	eal_ready = true;
	eal_ours = ours;
	softee_netdev_register("dpdk", softee_dpdk_open, softee_dpdk_rx_missed);
	/* A split wrapper may now run its loops on the EAL's worker lcores. */
	softee_split_set_lcore_ops(&softee_dpdk_lcore_ops);
}

int softee_dpdk_eal_init(int argc, char **argv)
{
	int ret;

	if (eal_ready || eal_gone)
		return -EALREADY;
	if (dpdk_eal_up()) {		/* the owner's: adopt it, read no arguments */
		dpdk_eal_take(false);
		return 0;
	}
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		if (rte_errno == EALREADY && dpdk_eal_up()) {
			dpdk_eal_take(false);
			return 0;
		}
		return rte_errno ? -rte_errno : -EINVAL;
	}
	dpdk_eal_take(true);
	return ret;
}

void softee_dpdk_eal_cleanup(void)
{
	if (eal_ready && eal_ours) {
		rte_eal_cleanup();
		eal_gone = true;
	}
	eal_ready = false;
	eal_ours = false;
}

/* The link as the PMD last saw it (no driver call for memif: a copy). */
static bool dpdk_link_down(const struct dpdk_priv *p)
{
	struct rte_eth_link link;

	return rte_eth_link_get_nowait(p->port, &link) == 0 && link.link_status == RTE_ETH_LINK_DOWN;
}

/* The PMD is done with a lent frame. */
static void dpdk_lent_back(void *addr, void *opaque)
{
	struct dpdk_priv *p = opaque;

	(void)addr;
	p->tx_lent--;
}

/* m lends the PMD frame f, which stays the caller's. */
static void dpdk_lend(struct dpdk_priv *p, struct rte_mbuf *m, unsigned int i,
		      const struct softee_txframe *f)
{
	struct rte_mbuf_ext_shared_info *sh = &p->tx_sh[i];	/* its callback set at open */
	void *data = (void *)(uintptr_t)f->data;	/* the PMD only reads it */

	rte_mbuf_ext_refcnt_set(sh, 1);
	/* The IOVA is the address: the lending PMDs copy with the CPU. */
	rte_pktmbuf_attach_extbuf(m, data, (rte_iova_t)(uintptr_t)data, (uint16_t)f->len, sh);
	p->tx_lent++;
}

/*
 * After a burst every lent frame must be back: the caller may rewrite it
 * as soon as tx_burst returns.  A PMD that kept one would send what the
 * caller writes there next (its CRC then fails at the peer, or it is a
 * later version of the same frame); say so once and copy from then on.
 */
static void dpdk_lend_check(struct dpdk_priv *p)
{
	if (likely(!p->tx_lent))
		return;
	p->tx_lend = false;
	fprintf(stderr, "dpdk: error: port %u kept %u lent frame(s) past its TX burst; "
		"copying every frame from now on\n", p->port, p->tx_lent);
	p->tx_lent = 0;
}

static int dpdk_tx_burst(struct softee_netdev *nd, const struct softee_txframe *f,
			 unsigned int n)
{
	struct dpdk_priv *p = nd->priv;
	unsigned int done = 0;

	if (p->check_link && dpdk_link_down(p)) {
		nd->stats.tx_dropped += n;
		return (int)n;
	}

	while (done < n) {
		struct rte_mbuf *m[DPDK_BURST];
		unsigned int i, chunk;
		uint16_t sent;

		/* A frame no mbuf holds is taken and dropped, never retried. */
		if (f[done].len > p->max_frame || f[done].len < RTE_ETHER_HDR_LEN) {
			nd->stats.tx_dropped++;
			done++;
			continue;
		}
		/* The sendable frames from here on, up to a burst. */
		for (chunk = 1; chunk < DPDK_BURST && done + chunk < n; chunk++)
			if (f[done + chunk].len > p->max_frame ||
			    f[done + chunk].len < RTE_ETHER_HDR_LEN)
				break;
		if (rte_pktmbuf_alloc_bulk(p->mp, m, chunk))
			break;	/* the pool is in the TX ring: the rest may be retried */
		for (i = 0; i < chunk; i++) {
			if (p->tx_lend)
				dpdk_lend(p, m[i], i, &f[done + i]);
			else
				memcpy(rte_pktmbuf_mtod(m[i], void *), f[done + i].data, f[done + i].len);
			m[i]->data_len = (uint16_t)f[done + i].len;
			m[i]->pkt_len = f[done + i].len;
		}
		sent = rte_eth_tx_burst(p->port, 0, m, (uint16_t)chunk);
		for (i = 0; i < sent; i++) {
			nd->stats.tx_frames++;
			nd->stats.tx_bytes += f[done + i].len;
		}
		done += sent;
		/* Full: what it refused may be retried. */
		if (sent < chunk)
			rte_pktmbuf_free_bulk(&m[sent], chunk - sent);
		if (p->tx_lend)
			dpdk_lend_check(p);
		if (sent < chunk)
			break;
	}
	return (int)done;
}

/* The frame of m as one contiguous buffer with any stripped tag back in. */
static const uint8_t *dpdk_frame(struct softee_netdev *nd, struct rte_mbuf *m, uint32_t *len)
{
	struct dpdk_priv *p = nd->priv;
	bool tagged = m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED;
	uint32_t plen = rte_pktmbuf_pkt_len(m);
	uint8_t *dst;

	if (!tagged && m->nb_segs == 1) {
		*len = plen;
		return rte_pktmbuf_mtod(m, const uint8_t *);
	}
	if (plen < RTE_ETHER_HDR_LEN || plen + (tagged ? RTE_VLAN_HLEN : 0) > sizeof(p->lin))
		return NULL;
	if (!tagged) {
		*len = plen;
		return rte_pktmbuf_read(m, 0, plen, p->lin);
	}
	/*
	 * MACs, the 802.1Q tag, then the rest from the EtherType on.
	 * rte_pktmbuf_read copies only what spans segments; else it points
	 * into the mbuf.
	 */
	{
		const void *macs = rte_pktmbuf_read(m, 0, 2 * RTE_ETHER_ADDR_LEN, p->lin);

		if (!macs)
			return NULL;
		if (macs != p->lin)
			memcpy(p->lin, macs, 2 * RTE_ETHER_ADDR_LEN);
	}
	p->lin[12] = RTE_ETHER_TYPE_VLAN >> 8;
	p->lin[13] = RTE_ETHER_TYPE_VLAN & 0xff;
	p->lin[14] = m->vlan_tci >> 8;
	p->lin[15] = m->vlan_tci & 0xff;
	dst = p->lin + 2 * RTE_ETHER_ADDR_LEN + RTE_VLAN_HLEN;
	{
		const void *rest = rte_pktmbuf_read(m, 2 * RTE_ETHER_ADDR_LEN,
						    plen - 2 * RTE_ETHER_ADDR_LEN, dst);
		if (!rest)
			return NULL;
		if (rest != dst)
			memcpy(dst, rest, plen - 2 * RTE_ETHER_ADDR_LEN);
	}
	*len = plen + RTE_VLAN_HLEN;
	return p->lin;
}

static int dpdk_rx_burst(struct softee_netdev *nd, unsigned int max, uint32_t timeout_us,
			 softee_rx_fn fn, void *opaque)
{
	struct dpdk_priv *p = nd->priv;
	unsigned int n = 0;

	(void)timeout_us;	/* poll mode: never waits */
	if (p->check_link && dpdk_link_down(p))
		return 0;
	while (n < max) {
		struct rte_mbuf *m[DPDK_BURST];
		uint16_t want = max - n < DPDK_BURST ? (uint16_t)(max - n) : DPDK_BURST;
		uint16_t got = rte_eth_rx_burst(p->port, 0, m, want), i;

		for (i = 0; i < got; i++) {
			const uint8_t *frame;
			uint32_t len;

			if (i + 1 < got)
				rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
			frame = dpdk_frame(nd, m[i], &len);
			if (!frame) {
				nd->stats.rx_dropped++;
				continue;
			}
			nd->stats.rx_frames++;
			nd->stats.rx_bytes += len;
			fn(opaque, frame, len);
			n++;
		}
		if (got)
			rte_pktmbuf_free_bulk(m, got);
		if (got < want)
			break;
	}
	return (int)n;
}

int softee_dpdk_rx_missed(struct softee_netdev *nd, uint64_t *missed)
{
	struct dpdk_priv *p = nd->priv;
	struct rte_eth_stats st;
	int ret;

	if (strcmp(nd->ops->name, "dpdk"))
		return -EINVAL;
	ret = rte_eth_stats_get(p->port, &st);
	if (ret)
		return ret;
	*missed = st.imissed + st.ierrors + st.rx_nombuf;
	return 0;
}

static void dpdk_release(struct dpdk_priv *p, bool started)
{
	int ret, ms;

	if (started && p->memif_server) {
		for (ms = 0; ms < DPDK_MEMIF_CLOSE_WAIT_MS && !dpdk_link_down(p); ms++)
			dpdk_sleep_ms(1);
		if (ms < DPDK_MEMIF_CLOSE_WAIT_MS)
			dpdk_sleep_ms(DPDK_MEMIF_SETTLE_MS);	/* its disconnect runs on */
	}

	if (started) {
		ret = rte_eth_dev_stop(p->port);
		if (ret)
			fprintf(stderr, "dpdk: rte_eth_dev_stop: err=%d, port=%u\n", ret, p->port);
	}
	if (p->probed && p->dev) {
		/* Removing a hot-plugged device closes its port too. */
		ret = rte_dev_remove(p->dev);
		if (ret)
			fprintf(stderr, "dpdk: rte_dev_remove: err=%d, port=%u\n", ret, p->port);
	} else {
		rte_eth_dev_close(p->port);
	}
	rte_mempool_free(p->mp);
	port_taken[p->port] = false;
	free(p);
}

static void dpdk_close(struct softee_netdev *nd)
{
	dpdk_release(nd->priv, true);
	free(nd);
}

static const struct softee_netdev_ops dpdk_ops = {
	.name = "dpdk",
	.tx_burst = dpdk_tx_burst,
	.rx_burst = dpdk_rx_burst,
	.close = dpdk_close,
};

/* The port the spec names: "port=N", an existing port's name, or a vdev to probe. */
static int dpdk_find_port(const char *args, uint16_t *port, bool *probed, char *err, size_t errlen)
{
	char name[RTE_DEV_NAME_MAX_LEN];
	const char *comma = strchr(args, ',');
	size_t len = comma ? (size_t)(comma - args) : strlen(args);
	int ret;

	*probed = false;
	if (!strncmp(args, "port=", 5)) {
		char *end;
		unsigned long v = strtoul(args + 5, &end, 0);

		if (end == args + 5 || *end || v >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port((uint16_t)v)) {
			netdev_seterr(err, errlen, "dpdk: '%s': no such port (the EAL has %u)", args,
			       rte_eth_dev_count_avail());
			return -ENODEV;
		}
		*port = (uint16_t)v;
		return 0;
	}
	if (len == 0 || len >= sizeof(name)) {
		netdev_seterr(err, errlen, "dpdk: bad device name in '%s'", args);
		return -EINVAL;
	}
	memcpy(name, args, len);
	name[len] = '\0';
	if (!rte_eth_dev_get_port_by_name(name, port)) {
		if (comma) {
			netdev_seterr(err, errlen, "dpdk: '%s' exists already (port %u): give its name alone, or another name",
			       name, *port);
			return -EEXIST;
		}
		return 0;
	}
	ret = rte_dev_probe(args);
	if (ret) {
		netdev_seterr(err, errlen, "dpdk: rte_dev_probe(\"%s\"): err=%d (%s)%s", args, ret, dpdk_strerror(ret),
		       strncmp(name, "net_", 4) ? "; a vdev's name starts with its driver, e.g. net_af_packet0" : "");
		return ret < 0 ? ret : -EIO;
	}
	*probed = true;
	if (rte_eth_dev_get_port_by_name(name, port)) {
		netdev_seterr(err, errlen, "dpdk: '%s' probed but has no ethdev port named '%s'", args, name);
		return -ENODEV;
	}
	return 0;
}

/*
 * A memif port copies each frame into its ring within tx_burst unless it
 * was made zero-copy.  Its devargs say so, however softee was given the
 * port (a vdev spec, port=N, a name); when they cannot be read, assume
 * it does not.
 */
static bool dpdk_memif_copies(const struct rte_device *dev)
{
	const struct rte_devargs *da = dev ? rte_dev_devargs(dev) : NULL;
	struct rte_kvargs *kv;
	const char *zc;
	bool copies;

	if (!da)
		return false;
	if (!da->args || !*da->args)
		return true;
	kv = rte_kvargs_parse(da->args, NULL);
	if (!kv)
		return false;
	zc = rte_kvargs_get(kv, "zero-copy");
	copies = !zc || !strstr(zc, "yes");	/* as the PMD reads it */
	rte_kvargs_free(kv);
	return copies;
}

static void dpdk_unprobe(uint16_t port)
{
	struct rte_eth_dev_info info;

	if (!rte_eth_dev_info_get(port, &info) && info.device)
		rte_dev_remove(info.device);
}

int softee_dpdk_open(const char *args, const struct softee_netdev_conf *conf,
		     struct softee_netdev **ndp, char *err, size_t errlen)
{
	struct softee_netdev_conf c = conf ? *conf : (struct softee_netdev_conf){ 0 };
	struct rte_eth_conf port_conf = { 0 };
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	struct softee_netdev *nd;
	struct dpdk_priv *p;
	char pool[RTE_MEMPOOL_NAMESIZE];
	uint16_t port, nb_rxd, nb_txd, mtu;
	uint32_t room, nb_mbufs, waited, link_wait;
	struct rte_eth_link link;
	bool probed;
	int ret, socket;

	if (!eal_ready && !eal_gone && dpdk_eal_up())
		dpdk_eal_take(false);	/* the owner started the EAL and calls us directly */
	if (!eal_ready) {
		netdev_seterr(err, errlen, "dpdk: '%s': no EAL: neither softee_dpdk_eal_init() nor the program's rte_eal_init() has run",
			      args);
		return -ENODEV;
	}
	ret = dpdk_find_port(args, &port, &probed, err, errlen);
	if (ret)
		return ret;
	if (port_taken[port]) {
		netdev_seterr(err, errlen, "dpdk: '%s': port %u is open already", args, port);
		return -EBUSY;
	}
	nd = calloc(1, sizeof(*nd));
	p = calloc(1, sizeof(*p));
	if (!nd || !p) {
		free(nd);
		free(p);
		if (probed)
			dpdk_unprobe(port);
		netdev_seterr(err, errlen, "dpdk: '%s': out of memory", args);
		return -ENOMEM;
	}
	p->port = port;
	p->probed = probed;
	port_taken[port] = true;

	ret = rte_eth_dev_info_get(port, &info);
	if (ret) {
		netdev_seterr(err, errlen, "dpdk: rte_eth_dev_info_get: err=%d, port=%u", ret, port);
		goto err_release;
	}
	p->dev = info.device;
	p->check_link = info.driver_name && !strcmp(info.driver_name, "net_memif");
	/* Its tx_burst ends in a sendto() that kicks the kernel's TX ring. */
	nd->tx_burst_syscall = info.driver_name && !strcmp(info.driver_name, "net_af_packet");
	p->memif_server = p->check_link && !strstr(args, "role=client");
	/* PMDs that copy a frame out within tx_burst may borrow ours. */
	p->tx_lend = nd->tx_burst_syscall || (p->check_link && dpdk_memif_copies(p->dev));
	for (unsigned int i = 0; i < DPDK_BURST; i++) {
		p->tx_sh[i].free_cb = dpdk_lent_back;
		p->tx_sh[i].fcb_opaque = p;
	}
	if (c.mtu) {
		if (c.mtu < info.min_mtu || c.mtu > info.max_mtu ||
		    c.mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN > SOFTEE_NETDEV_MAX_FRAME) {
			ret = -EINVAL;
			netdev_seterr(err, errlen, "dpdk: MTU %u out of the port's range %u..%u: port=%u (%s)",
			       c.mtu, info.min_mtu, info.max_mtu, port, args);
			goto err_release;
		}
		port_conf.rxmode.mtu = c.mtu;
	}
	ret = rte_eth_dev_configure(port, 1, 1, &port_conf);
	if (ret) {
		netdev_seterr(err, errlen, "dpdk: rte_eth_dev_configure: err=%d (%s), port=%u (%s)",
		       ret, dpdk_strerror(ret), port, args);
		goto err_release;
	}
	nb_rxd = c.rx_desc ? c.rx_desc : DPDK_DESC_DEFAULT;
	nb_txd = c.tx_desc ? c.tx_desc : DPDK_DESC_DEFAULT;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (ret) {
		netdev_seterr(err, errlen, "dpdk: rte_eth_dev_adjust_nb_rx_tx_desc: err=%d, port=%u", ret, port);
		goto err_release;
	}
	if (rte_eth_dev_get_mtu(port, &mtu))
		mtu = RTE_ETHER_MTU;
	if (c.mtu)
		mtu = (uint16_t)c.mtu;

	/* One mbuf holds the largest frame, tag included: no chains on TX. */
	room = mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
	if (room < RTE_MBUF_DEFAULT_DATAROOM)
		room = RTE_MBUF_DEFAULT_DATAROOM;
	p->max_frame = room;
	nb_mbufs = c.nb_mbufs ? c.nb_mbufs : 2u * (nb_rxd + nb_txd) + 2u * DPDK_MBUF_CACHE + 2u * DPDK_BURST;
	socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = (int)SOCKET_ID_ANY;
	snprintf(pool, sizeof(pool), "softee_p%u", port);
	p->mp = rte_pktmbuf_pool_create(pool, nb_mbufs, DPDK_MBUF_CACHE, 0,
					(uint16_t)(room + RTE_PKTMBUF_HEADROOM), socket);
	if (!p->mp) {
		ret = -rte_errno;
		netdev_seterr(err, errlen, "dpdk: rte_pktmbuf_pool_create(%u mbufs of %u bytes): err=%d (%s), port=%u%s",
		       nb_mbufs, room + RTE_PKTMBUF_HEADROOM, ret, rte_strerror(rte_errno), port,
		       rte_errno == ENOMEM ? " (give the EAL more memory: -m MB)" : "");
		goto err_release;
	}
	ret = rte_eth_rx_queue_setup(port, 0, nb_rxd, (unsigned int)socket, NULL, p->mp);
	if (ret) {
		netdev_seterr(err, errlen, "dpdk: rte_eth_rx_queue_setup(%u descriptors): err=%d, port=%u",
		       nb_rxd, ret, port);
		goto err_release;
	}
	ret = rte_eth_tx_queue_setup(port, 0, nb_txd, (unsigned int)socket, NULL);
	if (ret) {
		netdev_seterr(err, errlen, "dpdk: rte_eth_tx_queue_setup(%u descriptors): err=%d, port=%u",
		       nb_txd, ret, port);
		goto err_release;
	}
	ret = rte_eth_dev_start(port);
	if (ret) {
		netdev_seterr(err, errlen, "dpdk: rte_eth_dev_start: err=%d (%s), port=%u (%s)%s",
		       ret, dpdk_strerror(ret), port, args,
		       strstr(args, "role=client") ? "; is the memif server listening on that socket?" : "");
		goto err_release;
	}
	link_wait = c.link_wait_ms ? c.link_wait_ms : DPDK_LINK_WAIT_MS;
	ret = rte_eth_promiscuous_enable(port);
	if (ret && ret != -ENOTSUP) {
		netdev_seterr(err, errlen, "dpdk: rte_eth_promiscuous_enable: err=%d, port=%u", ret, port);
		goto err_stop;
	}

	/* A memif client connects after start: wait for the link. */
	for (waited = 0;; waited++) {
		memset(&link, 0, sizeof(link));
		ret = rte_eth_link_get_nowait(port, &link);
		if (ret == 0 && link.link_status == RTE_ETH_LINK_UP)
			break;
		if (ret == -ENOTSUP)
			break;	/* the PMD cannot say: assume up */
		if (waited >= link_wait) {
			ret = -ETIMEDOUT;
			netdev_seterr(err, errlen, "dpdk: link of port %u (%s) still down after %u ms%s",
			       port, args, waited,
			       strstr(args, "memif") ? " (is the memif peer running, on the same socket?)" : "");
			goto err_stop;
		}
		dpdk_sleep_ms(1);
	}

	ret = rte_eth_macaddr_get(port, &mac);
	if (ret) {
		netdev_seterr(err, errlen, "dpdk: rte_eth_macaddr_get: err=%d, port=%u", ret, port);
		goto err_stop;
	}
	memcpy(nd->mac, mac.addr_bytes, SOFTEE_ETH_ALEN);
	if (rte_eth_dev_get_mtu(port, &mtu) == 0 && !c.mtu)
		nd->mtu = mtu;
	else
		nd->mtu = c.mtu ? c.mtu : RTE_ETHER_MTU;
	if (nd->mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN > p->max_frame)
		nd->mtu = p->max_frame - RTE_ETHER_HDR_LEN - RTE_VLAN_HLEN;
	nd->ops = &dpdk_ops;
	nd->priv = p;
	*ndp = nd;
	return 0;

err_stop:
	dpdk_release(p, true);
	free(nd);
	return ret;
err_release:
	dpdk_release(p, false);
	free(nd);
	return ret;
}
