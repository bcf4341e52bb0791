/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Go-Back-N: the sequence-number state of one session with a peer, both
 * directions.  It stores no frames; the transport keeps them in a ring
 * indexed by sequence number and asks this state which to send next.
 * Time comes from the caller (now_ns), so that tests are deterministic.
 *
 * Sequence numbers count frames, 32 bits, compared in serial arithmetic
 * (RFC 1982).  A stream starts anywhere (its ISN); its first frame carries
 * SOFTEE_FRAME_F_SYN so that the receiver learns where it starts.  At most
 * half the sequence space is ever in flight: with more, an ack or a frame
 * from the previous lap would be taken for a current one.  The init
 * refuses a window above half; the test-only knobs (seq_bits, a smaller
 * space, and unsafe_window) let a test build that broken session and check
 * that its checker catches the misdelivery.
 *
 * Sender:
 *	while (softee_gbn_window_open(g) && have TLPs)
 *		seq = softee_gbn_new_seq(g);		build frame seq
 *	while (softee_gbn_next_tx(g, &seq))		(retransmissions first)
 *		send frame seq; softee_gbn_sent(g, seq, now);
 *	on an ack:  softee_gbn_on_ack(g, ack, nak, now)  frames it frees
 *	every poll: softee_gbn_timers(g, now)
 *
 * Receiver:
 *	switch (softee_gbn_on_data(g, seq, syn, now)) { case SOFTEE_GBN_ACCEPT: deliver }
 *	if (softee_gbn_ack_wanted(g)) send softee_gbn_ack_value(g); softee_gbn_ack_sent(g);
 *
 * Timeout: everything from the oldest unacked frame (una) is sent again
 * (the receiver drops what comes out of order), the timer doubles up to
 * rto_max.  The receiver answers a frame it drops with an immediate ack
 * flagged NAK.  The sender goes back to una at once (fast retransmit) on
 * dupack_thresh NAKs that are fresh: caused by a frame sent after its last
 * send of una, which proves that send lost (the transport tells from the
 * timestamp echo).  With Go-Back-N one such NAK is enough: the receiver
 * has dropped a frame, and everything from una must go again anyway.
 */
#ifndef _SOFTEE_GBN_H
#define _SOFTEE_GBN_H

#include <stdbool.h>
#include <stdint.h>

#define SOFTEE_GBN_MAX_WINDOW		(1u << 31)	/* half the 32-bit space */
#define SOFTEE_GBN_NEVER		UINT64_MAX

/* Serial arithmetic on 32-bit sequence numbers (RFC 1982). */
static inline bool softee_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool softee_seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline bool softee_seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline bool softee_seq_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* Zeroes pick the defaults. */
struct softee_gbn_cfg {
	uint32_t window;	/* frames in flight (24); at most half the space */
	uint32_t ack_every;	/* ack after this many in-order frames (4) */
	uint64_t ack_delay_ns;	/* ... or when the oldest unacked one is this old (20 us) */
	uint32_t dupack_thresh;	/* fresh NAKs that trigger fast retransmit (1; UINT32_MAX: never) */
	uint64_t rto_init_ns;	/* before the first RTT sample (5 ms) */
	uint64_t rto_min_ns;	/* floor of the computed timeout (200 us) */
	uint64_t rto_max_ns;	/* cap of the backoff (100 ms) */
	uint64_t probe_min_ns;	/* floor of the tail probe's wait (20 us; SOFTEE_GBN_NEVER: no probes) */
	uint32_t max_retries;	/* timeouts in a row before the session is broken (0: never) */
	/* For tests only */
	uint8_t seq_bits;	/* sequence space 2^seq_bits, 4..32 (32) */
	bool unsafe_window;	/* accept a window above half the space */
};

#define SOFTEE_GBN_DEF_WINDOW		24	/* Documentation/wire.rst says why */
#define SOFTEE_GBN_DEF_ACK_EVERY	4
#define SOFTEE_GBN_DEF_ACK_DELAY_NS	20000ULL
#define SOFTEE_GBN_DEF_DUPACK		1
#define SOFTEE_GBN_DEF_RTO_INIT_NS	5000000ULL
#define SOFTEE_GBN_DEF_RTO_MIN_NS	200000ULL
#define SOFTEE_GBN_DEF_RTO_MAX_NS	100000000ULL
#define SOFTEE_GBN_DEF_PROBE_MIN_NS	20000ULL

struct softee_gbn_stats {
	/* sender */
	uint64_t tx_new;		/* frames sent the first time */
	uint64_t tx_retrans;		/* frames sent again */
	uint64_t timeouts;		/* retransmission timer fired */
	uint64_t probes;		/* tail probes: the newest frame sent again */
	uint64_t fast_retrans;		/* went back on NAKs */
	uint64_t acks_rx;		/* acks that freed frames */
	uint64_t acked;			/* frames freed */
	uint64_t dupacks;		/* NAKs for the oldest frame */
	uint64_t stale_naks;		/* ... that told nothing new: ignored */
	uint64_t stale_acks;		/* acks outside [una, sent]: ignored */
	/* receiver */
	uint64_t rx_accepted;
	uint64_t rx_dup;		/* already delivered: dropped, re-acked */
	uint64_t rx_ooo;		/* ahead of the expected one: dropped, NAKed */
	uint64_t rx_nostream;		/* before the SYN: dropped */
	uint64_t rx_restart;		/* a SYN with a new ISN: the peer started over */
	uint64_t acks_tx;
};

/* Bits softee_gbn_timers() returns */
#define SOFTEE_GBN_T_RTO	0x1	/* the timer fired: going back */
#define SOFTEE_GBN_T_BROKEN	0x2	/* max_retries timeouts in a row */
/*
 * Frames in flight and nothing sent or acked for two round trips: send the
 * newest one (high - 1) again, once, without softee_gbn_sent().  Its answer
 * says what the silence was: a plain ack if every frame arrived (only the
 * acks were lost), a NAK if one did not (a loss whose NAK was lost, or the
 * last frame's).  Either way the sender goes on long before its timeout.
 */
#define SOFTEE_GBN_T_PROBE	0x4

enum softee_gbn_verdict {
	SOFTEE_GBN_ACCEPT,		/* the expected frame: deliver its TLPs */
	SOFTEE_GBN_DUP,			/* old: drop */
	SOFTEE_GBN_OOO,			/* ahead: drop */
	SOFTEE_GBN_NOSTREAM,		/* no SYN seen yet: drop */
};

struct softee_gbn {
	struct softee_gbn_cfg cfg;	/* with the defaults filled in */
	uint32_t mask;			/* 2^seq_bits - 1 */
	uint32_t half;			/* 2^(seq_bits - 1) */

	/* Sender: una <= tx <= nxt, una <= high <= nxt */
	uint32_t isn;			/* first sequence number of our stream */
	uint32_t una;			/* oldest frame not acked */
	uint32_t tx;			/* next to send (goes back to una) */
	uint32_t high;			/* one past the highest ever sent */
	uint32_t nxt;			/* next new sequence number */
	uint32_t recover;		/* no fast retransmit before una reaches it */
	bool acked_any;			/* an ack has moved una (the SYN got through) */
	uint32_t dupacks;
	uint32_t retries;		/* timeouts since the last progress */
	uint64_t rto_ns;		/* the current timeout, backed off */
	uint64_t srtt_ns, rttvar_ns;	/* RFC 6298; srtt 0: no sample yet */
	uint64_t rto_deadline;		/* SOFTEE_GBN_NEVER: not armed */
	uint64_t probe_deadline;	/* SOFTEE_GBN_NEVER: not armed */

	/* Receiver */
	bool rx_open;			/* the peer's SYN seen */
	uint32_t rx_isn;
	uint32_t rcv_nxt;		/* next expected */
	uint32_t ack_pending;		/* accepted, not acked yet */
	uint64_t ack_deadline;
	bool ack_now;
	bool nak;

	struct softee_gbn_stats stats;
};

/* -EINVAL for a bad config (window above half the space without unsafe_window). */
int softee_gbn_init(struct softee_gbn *g, const struct softee_gbn_cfg *cfg, uint32_t isn);
/* Start a new stream of ours at isn: everything in flight is forgotten. */
void softee_gbn_reset_tx(struct softee_gbn *g, uint32_t isn);
/* Forget the peer's stream (its next SYN opens a new one). */
void softee_gbn_reset_rx(struct softee_gbn *g);

static inline uint32_t softee_gbn_dist(const struct softee_gbn *g, uint32_t to, uint32_t from)
{
	return (to - from) & g->mask;
}

/* Frames built and not acked. */
static inline uint32_t softee_gbn_in_flight(const struct softee_gbn *g)
{
	return softee_gbn_dist(g, g->nxt, g->una);
}

static inline bool softee_gbn_window_open(const struct softee_gbn *g)
{
	return softee_gbn_in_flight(g) < g->cfg.window;
}

/* Take the next new sequence number (the window must be open). */
uint32_t softee_gbn_new_seq(struct softee_gbn *g);
/* The next frame to (re)send, if any. */
bool softee_gbn_next_tx(const struct softee_gbn *g, uint32_t *seq);
/* Frame seq (the one softee_gbn_next_tx gave) went out. */
void softee_gbn_sent(struct softee_gbn *g, uint32_t seq, uint64_t now_ns);
/* SOFTEE_FRAME_F_SYN if frame seq opens our stream, else 0. */
uint8_t softee_gbn_tx_flags(const struct softee_gbn *g, uint32_t seq);
/* What a NAK flag on an ack says, as the caller judged it. */
enum softee_gbn_nak {
	SOFTEE_GBN_NAK_NONE,	/* no NAK flag */
	SOFTEE_GBN_NAK_FRESH,	/* it answers a frame sent after our last send of the
				   frame it names (the ack: una once applied) */
	SOFTEE_GBN_NAK_STALE,	/* it answers a frame sent before: ignore */
	SOFTEE_GBN_NAK_UNKNOWN,	/* no timestamp to tell: go back once per window */
};

/*
 * A cumulative ack (the next sequence number the peer expects) arrived.
 * Returns how many frames it freed (the oldest ones), 0 for a duplicate,
 * -1 for one out of range (ignored).  dupack_thresh counted NAKs for una
 * make the sender go back to una; an ack that frees frames and carries a
 * NAK counts as one for the new una (nak judged against it).
 */
int softee_gbn_on_ack(struct softee_gbn *g, uint32_t ack, enum softee_gbn_nak nak,
		      uint64_t now_ns);
/* A round-trip sample (ns) for the timeout. */
void softee_gbn_rtt_sample(struct softee_gbn *g, uint64_t rtt_ns);
/* Run the timers; returns SOFTEE_GBN_T_* bits. */
unsigned int softee_gbn_timers(struct softee_gbn *g, uint64_t now_ns);
/* The earliest time softee_gbn_timers() has work (SOFTEE_GBN_NEVER: none). */
uint64_t softee_gbn_next_deadline(const struct softee_gbn *g);

/* A data frame arrived: deliver it or not. */
enum softee_gbn_verdict softee_gbn_on_data(struct softee_gbn *g, uint32_t seq, bool syn,
					   uint64_t now_ns);
static inline bool softee_gbn_ack_wanted(const struct softee_gbn *g)
{
	return g->ack_now;
}
/*
 * The ack just built never left (the link refused it): send one again an
 * ack delay from now_ns, with the NAK if it had one.
 */
void softee_gbn_ack_again(struct softee_gbn *g, bool nak, uint64_t now_ns);
/* Anything received and not acked: a data frame to the peer should carry the ack. */
static inline bool softee_gbn_ack_owed(const struct softee_gbn *g)
{
	return g->ack_now || g->ack_pending;
}
static inline uint32_t softee_gbn_ack_value(const struct softee_gbn *g)
{
	return g->rcv_nxt;
}
/* An ack with softee_gbn_ack_value() went out (alone or on a data frame). */
void softee_gbn_ack_sent(struct softee_gbn *g);

#endif /* _SOFTEE_GBN_H */
