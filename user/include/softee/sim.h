/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A simulated Ethernet segment in one process, for the tests: N ports
 * (struct softee_netdev, ops "sim") on a switch.  A frame sent on one port
 * reaches every other port whose MAC is its destination, or all of them for
 * a broadcast or multicast destination.  Each port has a receive queue;
 * a frame that finds it full is dropped (tail drop, counted in the sender's
 * tx_dropped).
 *
 * Time: with a clock (a pointer to the caller's simulated now_ns), a frame
 * becomes receivable latency_ns after it has been serialised at rate_Bps
 * by its sender (frames queue behind each other on the sender's link);
 * without latency and rate it is receivable at once.  Nothing blocks:
 * rx_burst's timeout is ignored.
 */
#ifndef _SOFTEE_SIM_H
#define _SOFTEE_SIM_H

#include <stdint.h>

#include <softee/netdev.h>

#define SOFTEE_SIM_MAX_PORTS	8

/* Zeroes pick the defaults. */
struct softee_sim_cfg {
	unsigned int ports;		/* 2..SOFTEE_SIM_MAX_PORTS (2) */
	uint32_t mtu;			/* bytes after the EtherType (1500) */
	uint32_t queue_frames;		/* each port's receive queue (1024) */
	uint64_t latency_ns;		/* one way, after serialisation (0) */
	uint64_t rate_Bps;		/* each port's link rate (0: no limit) */
	const uint64_t *clock;		/* simulated now; NULL: CLOCK_MONOTONIC */
	const uint8_t (*macs)[SOFTEE_ETH_ALEN];	/* NULL: 02:00:00:00:00:01, :02, ... */
};

/*
 * Make a segment; ports[0..cfg->ports) get its ends.  Each port is closed
 * with softee_netdev_close(); the segment goes with its last port.
 */
int softee_sim_create(struct softee_netdev **ports, const struct softee_sim_cfg *cfg);

/* Frames waiting in a port's receive queue. */
unsigned int softee_sim_queued(const struct softee_netdev *port);
/* The earliest time a queued frame of the port becomes receivable (UINT64_MAX: none). */
uint64_t softee_sim_next_ns(const struct softee_netdev *port);

#endif /* _SOFTEE_SIM_H */
