/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fault injector: a struct softee_netdev (ops "fault") that wraps
 * another and does harm to the frames sent through it, deterministically:
 * the same seed and the same calls give the same faults.  Each fault has
 * its own rate in parts per million of the frames sent:
 *
 *	drop	 the frame is not sent
 *	dup	 it is sent twice
 *	corrupt	 1..corrupt_bits_max of its bits are flipped (anywhere)
 *	reorder	 it is held back and sent after the next 1..reorder_max
 *		 frames (or after reorder_hold_ns if no more come)
 *	delay	 it is held back delay_min_ns..delay_max_ns
 *
 * The faults are drawn independently in that order (a duplicated frame
 * can also be corrupted, one copy only).  Only TX is touched; wrap both
 * ends of a link to harm both directions.  Received frames pass through.
 * Held frames go out on the next tx_burst or rx_burst call after they are
 * due.  Frames the wrapped device refuses are counted as its drops: the
 * injector always takes every frame.
 */
#ifndef _SOFTEE_FAULT_H
#define _SOFTEE_FAULT_H

#include <stdint.h>

#include <softee/netdev.h>

struct softee_fault_cfg {
	uint64_t seed;
	uint32_t drop_ppm, dup_ppm, corrupt_ppm, reorder_ppm, delay_ppm;
	uint32_t corrupt_bits_max;	/* 0: 1 */
	uint32_t reorder_max;		/* frames a reordered one waits (0: 4) */
	uint64_t reorder_hold_ns;	/* ... or this long at most (0: 1 ms) */
	uint64_t delay_min_ns, delay_max_ns;
	uint32_t max_held;		/* frames held at once; more: the oldest goes (0: 256) */
	const uint64_t *clock;		/* simulated now; NULL: CLOCK_MONOTONIC */
};

struct softee_fault_stats {
	uint64_t frames;		/* offered */
	uint64_t dropped, duplicated, corrupted, reordered, delayed;
	uint64_t released;		/* held frames sent */
	uint64_t inner_refused;		/* the wrapped device did not take them */
};

/*
 * Wrap inner.  Closing the injector closes only the injector: inner stays
 * the caller's.  The injector's mac and mtu are inner's.
 */
int softee_fault_create(struct softee_netdev **nd, struct softee_netdev *inner,
			const struct softee_fault_cfg *cfg);
/*
 * Parse "drop=PPM,dup=PPM,corrupt=PPM,reorder=PPM,delay=PPM,delay_us=MIN-MAX"
 * into cfg (fields not named keep their values).  -EINVAL with the bad
 * item and what it wants in err; -ENOMEM.
 */
int softee_fault_parse(const char *spec, struct softee_fault_cfg *cfg, char *err, size_t errlen);

/* Change the rates (and the rest but the seed and clock) while running. */
int softee_fault_set(struct softee_netdev *nd, const struct softee_fault_cfg *cfg);
const struct softee_fault_stats *softee_fault_stats(const struct softee_netdev *nd);
/* Send every held frame now. */
void softee_fault_flush(struct softee_netdev *nd);

#endif /* _SOFTEE_FAULT_H */
