/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The split thread layout of the paper, as a link (ops "split") that wraps
 * another: a TX thread and an RX thread drive the wrapped link, and the
 * owner's thread (the poller's bridge and transport) only moves frames
 * through two lock-free single-producer, single-consumer queues:
 *
 *	owner's thread		  TX thread		     RX thread
 *	tx_burst -> [tx queue] -> inner->tx_burst
 *	rx_burst <- [rx queue] <----------------------- inner->rx_burst
 *
 * Each queue is a ring of preallocated fixed-size slots (one frame of up to
 * SOFTEE_NETDEV_MAX_FRAME bytes each), with free-running u32 indices: the
 * producer owns the tail, the consumer the head, each on its own cache
 * line, published with a store-release and read with a load-acquire
 * (softee/barrier.h).  No lock anywhere on the data path.
 *
 *   tx_burst copies the frames into the TX queue and returns how many it
 *	took: fewer than offered when the queue is full (counted in
 *	tx_queue_full), which the caller retries as it retries a full NIC.
 *	The TX thread sends them in bursts and retries what the wrapped link
 *	did not take; a frame it took is sent or counted (tx_dropped), never
 *	lost silently.
 *   rx_burst hands the caller's callback the frames the RX thread copied
 *	off the wrapped link, in order; it never waits (blocking_rx is
 *	false).  A full RX queue makes the RX thread stop reading the link
 *	until there is room (rx_queue_full): the link's own queue holds or
 *	drops the frames, as it does for a slow run-to-completion loop.
 *   A -errno from the wrapped link is returned once by the next tx_burst
 *	(rx_burst) of the owner; the frames of a failed TX burst are dropped
 *	and counted.
 *
 * Idle, each thread backs off with the waiter (softee/wait.h): it spins
 * conf.idle.spins looks, then sleeps 1 us, 2 us, ... up to a cap (timer
 * slack 1 us), so that two I/O threads, a poller, a VMM and a box share a
 * 2-core machine.  Over a link whose rx_burst sleeps in the kernel
 * (blocking_rx: the socket backend) the RX thread sleeps there instead,
 * at most SOFTEE_SPLIT_RX_BLOCK_US at a time.
 *
 * The threads: plain pthreads, pinned to conf.tx_cpu / conf.rx_cpu if
 * given; when a DPDK EAL is up (softee_dpdk_eal_init installs the lcore
 * launcher) and a CPU number names one of its worker lcores, the loop runs
 * there with rte_eal_remote_launch instead (create and close the wrapper
 * on the main lcore then, as DPDK asks).
 *
 * The wrapped link is used by two threads at once, tx_burst by one and
 * rx_burst by the other: the DPDK backend (one TX and one RX queue) and the
 * socket backend allow that.  The fault injector and the simulated segment
 * do not (both touch one state from tx and rx): put a fault injector above
 * the split wrapper, and the simulated segment behind a lock.
 *
 * The wrapper's mac and mtu are the wrapped link's.  Its stats are the
 * wrapped link's, as the I/O threads last saw them, plus the frames the
 * wrapper itself dropped; softee_split_get_stats() has the queues' own.
 */
#ifndef _SOFTEE_NETDEV_SPLIT_H
#define _SOFTEE_NETDEV_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softee/netdev.h>
#include <softee/wait.h>

#define SOFTEE_SPLIT_QUEUE_DEFAULT	512	/* frames per queue */
#define SOFTEE_SPLIT_BURST_DEFAULT	32	/* frames per call of the wrapped link */
#define SOFTEE_SPLIT_SPINS_DEFAULT	512
#define SOFTEE_SPLIT_SLEEP_MAX_NS	50000	/* 50 us */
#define SOFTEE_SPLIT_RX_BLOCK_US	1000
/* What close waits for the TX queue to drain into a link that takes nothing. */
#define SOFTEE_SPLIT_DRAIN_NS		200000000ULL

/* Zeroes pick the defaults. */
struct softee_split_conf {
	int tx_cpu, rx_cpu;		/* CPU (or DPDK lcore) + 1; 0 or -1: float */
	uint32_t queue_frames;		/* each queue; a power of two, 2..65536 (512) */
	uint32_t burst;			/* frames per call of the wrapped link, 1..256 (32) */
	struct softee_wait idle;	/* each thread when idle (sleep: 512 spins, 1..50 us) */
};

struct softee_split_stats {
	uint64_t tx_queued;		/* frames the owner's tx_burst took */
	uint64_t tx_queue_full;		/* frames it could not take: the TX queue was full */
	uint64_t tx_partial;		/* bursts the wrapped link took only in part (retried) */
	uint64_t tx_errors;		/* -errno from the wrapped link's tx_burst */
	uint64_t tx_dropped;		/* frames taken but not sent: a TX error, too long, close */
	uint64_t rx_queued;		/* frames the RX thread put in the RX queue */
	uint64_t rx_queue_full;		/* times the RX thread found the queue full and waited */
	uint64_t rx_errors;		/* -errno from the wrapped link's rx_burst */
	uint64_t rx_dropped;		/* frames too long for a slot */
	uint64_t tx_sleeps, rx_sleeps;	/* idle back-off steps that slept */
	bool tx_lcore, rx_lcore;	/* the loop runs on a DPDK lcore (else a pthread) */
	int tx_cpu, rx_cpu;		/* as configured: CPU (lcore) + 1, 0: floats */
};

/*
 * Wrap inner and start its two threads.  0 and *out, or -errno and a
 * message in err (if not NULL) that says what failed; inner is then still
 * the caller's.  Once wrapped, inner belongs to the wrapper: closing the
 * wrapper stops both threads (the TX thread first sends what is queued,
 * for at most SOFTEE_SPLIT_DRAIN_NS), joins them, then closes inner.
 */
int softee_netdev_split(struct softee_netdev *inner, const struct softee_split_conf *conf,
			struct softee_netdev **out, char *err, size_t errlen);

/* Is nd a split wrapper? */
bool softee_netdev_is_split(const struct softee_netdev *nd);

/* The queues' counters (relaxed reads: any thread, any time).  -EINVAL: not a split wrapper. */
int softee_split_get_stats(struct softee_netdev *nd, struct softee_split_stats *st);

/*
 * A layout option, "rtc" or "split[:TXCPU,RXCPU]": 0 with *split and, for
 * split, conf's CPUs set (the rest of conf untouched); -EINVAL with what is
 * wrong in err.
 */
int softee_split_parse(const char *s, bool *split, struct softee_split_conf *conf,
		       char *err, size_t errlen);

/*
 * Where the loops may run on DPDK lcores: libsoftee_dpdk.a installs this
 * at EAL init (softee_dpdk_eal_init).  launch runs fn(arg) on a worker
 * lcore and returns 0, or -errno when it cannot (not a worker lcore of the
 * EAL, or busy): the wrapper then starts a pthread.  wait joins it.
 */
struct softee_split_lcore_ops {
	int (*launch)(unsigned int lcore, int (*fn)(void *), void *arg);
	void (*wait)(unsigned int lcore);
	/*
	 * A thread the EAL did not start takes an lcore id of its own and
	 * returns it; -1: it has one already, or none is left.  leave gives
	 * back what enter took.
	 */
	int (*enter)(void);
	void (*leave)(void);
};
void softee_split_set_lcore_ops(const struct softee_split_lcore_ops *ops);

/*
 * Called by a thread that will send or receive on a DPDK link, first and
 * last in it: the poller's thread, the split layout's pthreads.  With an
 * lcore id, the mbufs it allocates and frees go through the pool's
 * per-lcore cache, last freed first reused and still in the cache; without
 * one, every mbuf comes from the pool's shared ring, the oldest first, and
 * copying a frame into it missed the cache (370 cycles a frame instead of
 * 75 on dpdk_bypass: Documentation/poller.rst).  enter returns the lcore
 * id it took, or -1 (none taken: no DPDK EAL, an lcore of the EAL's
 * already, or none left); leave takes what enter returned.
 */
int softee_lcore_enter(void);
void softee_lcore_leave(int lcore);
/* libsoftee_dpdk.a's (user/netdev/dpdk_lcore.c). */
extern const struct softee_split_lcore_ops softee_dpdk_lcore_ops;

#endif /* _SOFTEE_NETDEV_SPLIT_H */
