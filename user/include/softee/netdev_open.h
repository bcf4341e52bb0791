/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Opening a link (softee/netdev.h): the factory, and the two backends
 * behind it.
 *
 *	"socket:IFNAME[,proto=0x88b5][,buf=BYTES]"
 *		AF_PACKET on a kernel interface: one send() per frame and one
 *		recv per frame, sleeping in the kernel (ppoll) while the link is
 *		idle and the caller allows a wait, as the paper's conventional
 *		software ExpEther.  proto: the kernel passes only that EtherType;
 *		buf: socket buffer bytes (default 4 MiB).  In libsoftee.a; needs
 *		nothing but the kernel (CAP_NET_RAW).
 *	"dpdk:DEVARGS"
 *		any DPDK ethdev: a vdev to hot-plug ("net_af_packet0,iface=veth0",
 *		"net_memif0,role=server,socket=/run/x.sock"), the name of a port
 *		the EAL already probed ("0000:00:04.0", "net_tap0"), or "port=N".
 *		Burst RX/TX, no system call per frame; rx never waits (poll
 *		mode: the caller's loop spins).  One RX and one TX queue: tx and
 *		rx may run on two threads, each on one thread at a time.  The
 *		open waits for link up (conf.link_wait_ms; a memif server waits
 *		for its client there).  Works with the EAL's --no-huge.  In
 *		libsoftee_dpdk.a, which the program links (with DPDK's
 *		libraries) only if it wants it.
 *
 * DPDK: the owning program calls softee_dpdk_eal_init() once, with its EAL
 * arguments, before opening any "dpdk:" link (or after its own
 * rte_eal_init(): the EAL is then shared, below); that call also makes the
 * factory know the "dpdk" backend.  A program built without
 * libsoftee_dpdk.a gets a clear error for "dpdk:" specs, not a link error.
 *
 *	char err[SOFTEE_NETDEV_ERRLEN];
 *	struct softee_netdev *nd;
 *	int ret = softee_netdev_open("socket:veth0", NULL, &nd, err, sizeof(err));
 *	if (ret)
 *		errx(1, "%s", err);	// says what failed and where
 */
#ifndef _SOFTEE_NETDEV_OPEN_H
#define _SOFTEE_NETDEV_OPEN_H

#include <stddef.h>
#include <stdint.h>

#include <softee/netdev.h>

#define SOFTEE_NETDEV_ERRLEN	256

/* Settings the spec does not carry.  NULL or zeroes: the defaults. */
struct softee_netdev_conf {
	uint32_t mtu;		/* DPDK: set the port's MTU (0: keep the device's) */
	uint16_t rx_desc;	/* DPDK: RX descriptors (0: 1024) */
	uint16_t tx_desc;	/* DPDK: TX descriptors (0: 1024) */
	uint32_t nb_mbufs;	/* DPDK: mbufs in the port's pool (0: enough for the rings) */
	uint32_t link_wait_ms;	/* DPDK: wait this long for link up (0: 5000; memif connects late) */
	uint32_t sock_buf;	/* socket: SO_RCVBUF and SO_SNDBUF (0: 4 MiB) */
	uint16_t ethertype;	/* socket: let the kernel pass only this EtherType (0: all) */
};

/*
 * Open a link from a spec (above).  0 and *nd, or -errno and a message in
 * err (if err is not NULL) that names the backend, the step and the device.
 */
int softee_netdev_open(const char *spec, const struct softee_netdev_conf *conf,
		       struct softee_netdev **nd, char *err, size_t errlen);

/*
 * Frames the link dropped before the backend saw them (a socket's receive
 * buffer full, a PMD's ring full or out of mbufs), since the link opened:
 * 0 and *missed, or -ENOTSUP for a backend that cannot tell.  Not for the
 * data path: it may make a system call.
 */
int softee_netdev_rx_missed(struct softee_netdev *nd, uint64_t *missed);

/* The backends, for a caller that knows which it wants. */
int softee_socket_open(const char *args, const struct softee_netdev_conf *conf,
		       struct softee_netdev **nd, char *err, size_t errlen);
int softee_socket_rx_missed(struct softee_netdev *nd, uint64_t *missed);

/*
 * DPDK (libsoftee_dpdk.a).  One EAL per process, shared with the owner.
 * softee_dpdk_eal_init() runs rte_eal_init() once per process and returns
 * how many arguments it consumed (as rte_eal_init does: the program's own
 * options follow), or -errno.  If the owner already ran rte_eal_init()
 * itself (its own ports, its own lcores), it adopts that EAL instead:
 * returns 0, reads no argument (argc 0 and argv NULL will do), and leaves
 * the EAL's cleanup to the owner.  softee_dpdk_open() adopts it too when
 * called first; the factory knows "dpdk:" specs only once
 * softee_dpdk_eal_init() has run.  A second call changes nothing and
 * returns -EALREADY.  softee_dpdk_open() takes the part of the spec after
 * "dpdk:".  softee_dpdk_eal_cleanup() closes nothing by itself (close the
 * links first), and runs rte_eal_cleanup() only on an EAL softee started.
 */
int softee_dpdk_eal_init(int argc, char **argv);
int softee_dpdk_open(const char *args, const struct softee_netdev_conf *conf,
		     struct softee_netdev **nd, char *err, size_t errlen);
void softee_dpdk_eal_cleanup(void);
int softee_dpdk_rx_missed(struct softee_netdev *nd, uint64_t *missed);

/*
 * How a backend makes itself known to the factory (dpdk.c does, at EAL
 * init): its spec prefix, which is also its ops->name, its opener and its
 * rx_missed (may be NULL).
 */
typedef int (*softee_netdev_open_fn)(const char *args, const struct softee_netdev_conf *conf,
				     struct softee_netdev **nd, char *err, size_t errlen);
typedef int (*softee_netdev_missed_fn)(struct softee_netdev *nd, uint64_t *missed);
int softee_netdev_register(const char *prefix, softee_netdev_open_fn fn,
			   softee_netdev_missed_fn missed);

#endif /* _SOFTEE_NETDEV_OPEN_H */
