/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A link under the transport: one ops table per backend (DPDK, AF_PACKET
 * socket, the in-process simulated link of the tests, the fault injector
 * that wraps any of them).  The transport above never knows which it runs
 * on.
 *
 * Frames are whole Ethernet frames without the FCS: destination MAC,
 * source MAC, optional 802.1Q tag, EtherType, payload.  TX copies the
 * frames out (the caller keeps its buffers: Go-Back-N must be able to
 * send them again); RX hands each received frame to a callback for the
 * duration of the call (no copy; the backend frees it afterwards).
 */
#ifndef _SOFTEE_NETDEV_H
#define _SOFTEE_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOFTEE_ETH_ALEN		6
#define SOFTEE_NETDEV_MAX_FRAME	9018	/* jumbo, with a VLAN tag */

struct softee_netdev;

/* One frame to send. */
struct softee_txframe {
	const uint8_t *data;
	uint32_t len;
};

/* Called for each received frame; the frame is valid only during the call. */
typedef void (*softee_rx_fn)(void *opaque, const uint8_t *frame, uint32_t len);

struct softee_netdev_stats {
	uint64_t tx_frames, tx_bytes, tx_dropped;	/* dropped: backend full */
	uint64_t rx_frames, rx_bytes, rx_dropped;	/* dropped: too long, bad */
	uint64_t tx_syscalls, rx_syscalls;		/* system calls made */
};

struct softee_netdev_ops {
	const char *name;	/* "dpdk", "socket", "sim", "fault" */
	/*
	 * Send up to n frames; returns how many were taken (the rest may be
	 * retried), or -errno.  Never blocks for long.
	 */
	int (*tx_burst)(struct softee_netdev *nd, const struct softee_txframe *f,
			unsigned int n);
	/*
	 * Receive up to max frames, calling fn for each; returns how many, or
	 * -errno.  timeout_us: 0 = poll, never block; else the backend may
	 * block up to that long for the first frame (the socket backend does;
	 * DPDK polls).
	 */
	int (*rx_burst)(struct softee_netdev *nd, unsigned int max, uint32_t timeout_us,
			softee_rx_fn fn, void *opaque);
	void (*close)(struct softee_netdev *nd);
};

struct softee_netdev {
	const struct softee_netdev_ops *ops;
	uint8_t mac[SOFTEE_ETH_ALEN];	/* this end's address */
	uint32_t mtu;			/* largest payload after the EtherType */
	/*
	 * rx_burst with a timeout sleeps in the kernel until a frame comes
	 * (the socket backend; wrappers copy it from what they wrap): its
	 * owner may wait in it rather than poll.
	 */
	bool blocking_rx;
	/*
	 * Every tx_burst costs a system call, however many frames it carries
	 * (DPDK's af_packet PMD kicks the kernel once a burst): its owner
	 * should send in bursts as large as it has (softee_transport_flush
	 * leaves the frames to the poll).  False where a burst is
	 * cheap (memif, the split layout's queue: its TX thread sends in
	 * bursts of its own) and where every frame is a call anyway (the
	 * socket backend).  The fault injector copies what it wraps.
	 */
	bool tx_burst_syscall;
	struct softee_netdev_stats stats;
	void *priv;			/* the backend's */
};

static inline int softee_netdev_tx(struct softee_netdev *nd, const struct softee_txframe *f,
				   unsigned int n)
{
	return nd->ops->tx_burst(nd, f, n);
}

static inline int softee_netdev_rx(struct softee_netdev *nd, unsigned int max,
				   uint32_t timeout_us, softee_rx_fn fn, void *opaque)
{
	return nd->ops->rx_burst(nd, max, timeout_us, fn, opaque);
}

static inline void softee_netdev_close(struct softee_netdev *nd)
{
	if (nd && nd->ops && nd->ops->close)
		nd->ops->close(nd);
}

#endif /* _SOFTEE_NETDEV_H */
