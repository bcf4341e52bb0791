/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Delay-based send-rate control, as ExpEther's bridges do, and the token
 * bucket that paces TX to the rate.  One per peer.  Time comes from the
 * caller.
 *
 * Delay: each round-trip sample (from an echoed timestamp) updates a
 * smoothed RTT (EWMA, gain 1/2^ewma_shift, for display and timers), the
 * minimum RTT (the propagation delay plus fixed costs; forgotten after
 * min_rtt_window_ns so that a route change is learnt) and the least
 * sample since the rate was last looked at.  Queueing delay = that least
 * sample - min_rtt: a queue on the path delays every frame that crosses it, while
 * a process that was off its core for a while delays only the frames of
 * that while, and the next fresh sample is short again (LEDBAT's filter of
 * the current delay, RFC 6817).
 *
 * Rate: at most once per adjust interval (the larger of interval_ns and
 * the current srtt), if the queueing delay is at or under target_delay_ns
 * the rate grows by ai_step_Bps (additive increase); above it, the rate is
 * multiplied by a factor between 1 and md = md_num/md_den (multiplicative
 * decrease), the stronger the further the delay is over the target: md
 * itself from twice the target up -- but only if the sender was limited
 * since the rate was last looked at (a frame waited for tokens, the window
 * or the link held frames back: softee_ratectl_blocked, or it sent at
 * least half the rate).  A sender that uses a small part of its rate is
 * not what fills a queue, and cutting a rate it does not use would go on
 * without end while the delay has another cause (counted as app_limited).
 * A retransmission timeout multiplies by md, if the sender was limited
 * (the same test).  The rate stays within [rate_min, rate_max].
 *
 * The test cannot tell a window held full by a queue from one held full
 * by a peer slow to answer: with the RTT long for that reason, a sender
 * with more than a window to send is limited and is cut.
 *
 * stats.decreases counts the decisions to cut, at rate_min too.
 *
 * Pacing: a token bucket filled at the rate, holding at most bucket_bytes;
 * a frame may leave while the bucket is not empty (it may go negative by
 * one frame), counted in wire bytes (softee_wire_bytes).
 */
#ifndef _SOFTEE_RATECTL_H
#define _SOFTEE_RATECTL_H

#include <stdbool.h>
#include <stdint.h>

/* Zeroes pick the defaults. */
struct softee_ratectl_cfg {
	uint64_t rate_max_Bps;		/* bytes/s: 10 Gbit/s */
	uint64_t rate_min_Bps;		/* 1 MB/s */
	uint64_t rate_init_Bps;		/* rate_max */
	uint64_t ai_step_Bps;		/* per interval: rate_max / 64 */
	uint32_t md_num, md_den;	/* the strongest decrease: 1/2 */
	uint64_t target_delay_ns;	/* queueing delay allowed: 500 us */
	uint64_t interval_ns;		/* least time between two changes: 100 us */
	uint32_t ewma_shift;		/* srtt gain 1/2^shift: 3 */
	uint64_t min_rtt_window_ns;	/* forget min_rtt after this: 10 s */
	uint64_t bucket_bytes;		/* burst: 64 KiB */
	bool no_pacing;			/* measure and adapt, but never hold a frame */
};

struct softee_ratectl_stats {
	uint64_t samples;		/* RTT samples */
	uint64_t increases, decreases;	/* steps up (that moved it), decisions to cut */
	uint64_t timeouts;		/* decreases caused by a timeout */
	uint64_t paced;			/* times a frame had to wait for tokens */
	uint64_t blocked;		/* times the window or the link held frames back */
	uint64_t app_limited;		/* delay over target or a timeout, no cut: the
					 * sender was not limited */
	uint64_t sent_bytes;		/* wire bytes through the bucket */
};

struct softee_ratectl {
	struct softee_ratectl_cfg cfg;	/* with the defaults filled in */
	uint64_t rate_Bps;		/* current send rate */
	uint64_t srtt_ns;		/* smoothed RTT (0: no sample yet) */
	uint64_t min_rtt_ns;		/* (UINT64_MAX: none) */
	uint64_t last_rtt_ns;
	uint64_t min_rtt_stamp;		/* when min_rtt was set */
	uint64_t last_adjust;		/* when the rate was last changed or kept */
	uint64_t period_min_ns;		/* least sample since then (UINT64_MAX: none) */
	uint64_t period_bytes;		/* sent_bytes then */
	uint64_t period_held;		/* stats.paced + stats.blocked then */
	int64_t tokens;			/* bytes (may be negative by one frame) */
	uint64_t frac;			/* fraction of a byte not yet added, in 1e-9 bytes */
	uint64_t last_fill;		/* when tokens were last added */
	struct softee_ratectl_stats stats;
};

#define SOFTEE_RATECTL_DEF_MAX_BPS	1250000000ULL	/* 10 Gbit/s */
#define SOFTEE_RATECTL_DEF_MIN_BPS	1000000ULL
#define SOFTEE_RATECTL_DEF_TARGET_NS	500000ULL
#define SOFTEE_RATECTL_DEF_INTERVAL_NS	100000ULL
#define SOFTEE_RATECTL_DEF_MIN_WIN_NS	10000000000ULL
#define SOFTEE_RATECTL_DEF_BUCKET	65536ULL

/* -EINVAL for an inconsistent config (min > max, md >= 1, ...). */
int softee_ratectl_init(struct softee_ratectl *rc, const struct softee_ratectl_cfg *cfg,
			uint64_t now_ns);
/* A round-trip sample; may change the rate. */
void softee_ratectl_rtt_sample(struct softee_ratectl *rc, uint64_t rtt_ns, uint64_t now_ns);
/* A retransmission timeout: decrease (at most once per interval). */
void softee_ratectl_timeout(struct softee_ratectl *rc, uint64_t now_ns);
/* May a frame of wire_bytes leave now?  (Counts a wait when not.) */
bool softee_ratectl_may_send(struct softee_ratectl *rc, uint32_t wire_bytes, uint64_t now_ns);
/* The sender had frames to send that the window or the link held back. */
void softee_ratectl_blocked(struct softee_ratectl *rc);
/* It left: take its tokens. */
void softee_ratectl_sent(struct softee_ratectl *rc, uint32_t wire_bytes);
/* When the bucket will allow a frame again (now_ns if it does). */
uint64_t softee_ratectl_next_ns(const struct softee_ratectl *rc, uint64_t now_ns);
/* The smoothed queueing delay, srtt - min_rtt (0 without samples), for display. */
uint64_t softee_ratectl_queue_delay(const struct softee_ratectl *rc);

#endif /* _SOFTEE_RATECTL_H */
