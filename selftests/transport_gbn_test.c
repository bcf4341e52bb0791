// SPDX-License-Identifier: GPL-2.0
/*
 * Go-Back-N, alone and as the transport runs it.
 *
 * The property: two transports on a simulated link, each end's sending
 * side wrapped in a seeded fault injector, simulated time (no sleeping).
 * A sends at least 10^6 MWr TLPs to B (and B fewer to A, so that acks ride
 * on data too); each TLP carries its number and a payload derived from it.
 * The checker on each side wants every TLP exactly once, in order, intact.
 * Streams start near the 2^32 wrap.  The variants sweep loss (0, 1, 5,
 * 10%), duplication, reordering, corruption, delay and all at once.
 *
 * The test of the test: with a 256-number sequence space (a test-only
 * knob) and a window of 250 frames (more than half the space, let through
 * by another test-only knob), the same run must make the same checker fail;
 * with a window of 128 in that space it must pass.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include <softee/fault.h>
#include <softee/gbn.h>
#include <softee/prng.h>
#include <softee/sim.h>
#include <softee/tlp.h>
#include <softee/transport.h>

#define note(...) do { ksft_print_msg(__VA_ARGS__); fflush(stdout); } while (0)

/* ---- the state machine alone ------------------------------------------------ */

TEST(serial_arithmetic)
{
	EXPECT_TRUE(softee_seq_lt(0xffffffff, 0));
	EXPECT_TRUE(softee_seq_gt(0, 0xffffffff));
	EXPECT_TRUE(softee_seq_lt(0x7ffffffe, 0x7fffffff));
	EXPECT_TRUE(softee_seq_lt(1, 0x80000000));
	EXPECT_FALSE(softee_seq_lt(1, 0x80000002));	/* more than half ahead: behind */
	EXPECT_TRUE(softee_seq_leq(5, 5));
	EXPECT_TRUE(softee_seq_geq(5, 5));
	EXPECT_FALSE(softee_seq_gt(5, 5));
}

TEST(window_at_most_half)
{
	struct softee_gbn g;
	struct softee_gbn_cfg c = { .window = SOFTEE_GBN_MAX_WINDOW };

	EXPECT_EQ(0, softee_gbn_init(&g, &c, 0));
	c.window = SOFTEE_GBN_MAX_WINDOW + 1;
	EXPECT_EQ(-EINVAL, softee_gbn_init(&g, &c, 0));
	c.seq_bits = 8;
	c.window = 128;
	EXPECT_EQ(0, softee_gbn_init(&g, &c, 0));
	c.window = 129;
	EXPECT_EQ(-EINVAL, softee_gbn_init(&g, &c, 0));
	c.unsafe_window = true;				/* the test-only door */
	EXPECT_EQ(0, softee_gbn_init(&g, &c, 0));
	c.window = 256;					/* never the whole space */
	EXPECT_EQ(-EINVAL, softee_gbn_init(&g, &c, 0));
	c = (struct softee_gbn_cfg){ .seq_bits = 3 };
	EXPECT_EQ(-EINVAL, softee_gbn_init(&g, &c, 0));
}

/* Send n new frames at now. */
static void send_n(struct softee_gbn *g, unsigned int n, uint64_t now)
{
	uint32_t seq;

	while (n-- && softee_gbn_window_open(g)) {
		softee_gbn_new_seq(g);
		while (softee_gbn_next_tx(g, &seq))
			softee_gbn_sent(g, seq, now);
	}
}

TEST(sender_acks_timeouts_backoff)
{
	struct softee_gbn_cfg c = { .window = 4, .rto_init_ns = 1000, .rto_min_ns = 100,
				    .rto_max_ns = 5000, .max_retries = 4 };
	struct softee_gbn g;
	uint32_t seq;

	ASSERT_EQ(0, softee_gbn_init(&g, &c, 0xfffffffe));
	EXPECT_EQ(SOFTEE_FRAME_F_SYN, softee_gbn_tx_flags(&g, 0xfffffffe));
	send_n(&g, 10, 0);
	EXPECT_EQ(4, softee_gbn_in_flight(&g));		/* the window */
	EXPECT_FALSE(softee_gbn_window_open(&g));
	/* a cumulative ack across the wrap frees 3 */
	EXPECT_EQ(3, softee_gbn_on_ack(&g, 1, SOFTEE_GBN_NAK_NONE, 10));
	EXPECT_EQ(1u, g.una);
	EXPECT_EQ(0, softee_gbn_tx_flags(&g, 0xfffffffe));
	/* out of range: ignored */
	EXPECT_EQ(-1, softee_gbn_on_ack(&g, 0xfffffff0, SOFTEE_GBN_NAK_NONE, 10));
	EXPECT_EQ(-1, softee_gbn_on_ack(&g, 7, SOFTEE_GBN_NAK_NONE, 10));
	EXPECT_EQ(2, g.stats.stale_acks);
	/* the timer: fires at 10 + 1000, goes back, doubles up to the cap */
	EXPECT_EQ(0, softee_gbn_timers(&g, 1009));
	EXPECT_EQ(SOFTEE_GBN_T_RTO, softee_gbn_timers(&g, 1010));
	ASSERT_TRUE(softee_gbn_next_tx(&g, &seq));
	EXPECT_EQ(1u, seq);
	EXPECT_EQ(2000, g.rto_ns);
	EXPECT_EQ(SOFTEE_GBN_T_RTO, softee_gbn_timers(&g, 1010 + 2000));
	EXPECT_EQ(4000, g.rto_ns);
	EXPECT_EQ(SOFTEE_GBN_T_RTO, softee_gbn_timers(&g, 1010 + 6000));
	EXPECT_EQ(5000, g.rto_ns);			/* capped */
	EXPECT_EQ(SOFTEE_GBN_T_RTO | SOFTEE_GBN_T_BROKEN, softee_gbn_timers(&g, 1010 + 11000));
	/* resending counts as retransmission; an ack resets the backoff */
	while (softee_gbn_next_tx(&g, &seq))
		softee_gbn_sent(&g, seq, 20000);
	EXPECT_EQ(1, g.stats.tx_retrans);		/* only seq 1 was still out */
	EXPECT_EQ(-1, softee_gbn_on_ack(&g, 5, SOFTEE_GBN_NAK_NONE, 20000));	/* never sent */
	EXPECT_EQ(1, softee_gbn_on_ack(&g, 2, SOFTEE_GBN_NAK_NONE, 20000));
	EXPECT_EQ(0, g.retries);
	EXPECT_EQ(SOFTEE_GBN_NEVER, g.rto_deadline);
	EXPECT_EQ(1000, g.rto_ns);
}

TEST(fast_retransmit)
{
	struct softee_gbn_cfg c = { .window = 16, .dupack_thresh = 3 };
	struct softee_gbn g;
	uint32_t seq;

	ASSERT_EQ(0, softee_gbn_init(&g, &c, 100));
	send_n(&g, 16, 0);
	EXPECT_EQ(1, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_NONE, 1));
	/* three fresh NAKs for 101: go back to it */
	EXPECT_EQ(0, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_FRESH, 2));
	EXPECT_EQ(0, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_FRESH, 2));
	EXPECT_FALSE(softee_gbn_next_tx(&g, &seq));
	EXPECT_EQ(0, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_FRESH, 2));
	ASSERT_TRUE(softee_gbn_next_tx(&g, &seq));
	EXPECT_EQ(101u, seq);
	EXPECT_EQ(1, g.stats.fast_retrans);
	softee_gbn_sent(&g, 101, 3);
	softee_gbn_sent(&g, 102, 3);
	/* NAKs of frames sent before that: no news */
	EXPECT_EQ(0, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_STALE, 3));
	EXPECT_EQ(0, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_STALE, 3));
	EXPECT_EQ(0, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_STALE, 3));
	ASSERT_TRUE(softee_gbn_next_tx(&g, &seq));
	EXPECT_EQ(103u, seq);
	EXPECT_EQ(3, g.stats.stale_naks);
	/* without timestamps: not again in this window */
	EXPECT_EQ(0, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_UNKNOWN, 3));
	EXPECT_EQ(0, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_UNKNOWN, 3));
	EXPECT_EQ(0, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_UNKNOWN, 3));
	EXPECT_EQ(1, g.stats.fast_retrans);
	/* fresh ones: the resent 101 was lost too, go back again */
	EXPECT_EQ(0, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_FRESH, 4));
	EXPECT_EQ(0, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_FRESH, 4));
	EXPECT_EQ(0, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_FRESH, 4));
	EXPECT_EQ(2, g.stats.fast_retrans);
	ASSERT_TRUE(softee_gbn_next_tx(&g, &seq));
	EXPECT_EQ(101u, seq);
	/* plain duplicate acks are no signal */
	EXPECT_EQ(0, softee_gbn_on_ack(&g, 101, SOFTEE_GBN_NAK_NONE, 5));
	EXPECT_EQ(12, g.stats.dupacks);
}

/*
 * An ack that frees frames and says NAK: the peer took some, then lacked
 * the next.  A fresh NAK goes back to the new una at once; a stale one or
 * none does not.
 */
TEST(nak_on_an_ack_that_frees)
{
	struct softee_gbn_cfg c = { .window = 16 };
	struct softee_gbn g;
	uint32_t seq;

	ASSERT_EQ(0, softee_gbn_init(&g, &c, 100));
	send_n(&g, 8, 0);
	EXPECT_EQ(2, softee_gbn_on_ack(&g, 102, SOFTEE_GBN_NAK_NONE, 1));
	EXPECT_FALSE(softee_gbn_next_tx(&g, &seq));
	EXPECT_EQ(1, softee_gbn_on_ack(&g, 103, SOFTEE_GBN_NAK_STALE, 1));
	EXPECT_FALSE(softee_gbn_next_tx(&g, &seq));
	EXPECT_EQ(1, g.stats.stale_naks);
	EXPECT_EQ(2, softee_gbn_on_ack(&g, 105, SOFTEE_GBN_NAK_FRESH, 2));
	ASSERT_TRUE(softee_gbn_next_tx(&g, &seq));
	EXPECT_EQ(105u, seq);
	EXPECT_EQ(1, g.stats.fast_retrans);
	/* all of it acked with a NAK: nothing to go back to */
	softee_gbn_sent(&g, 105, 3);
	softee_gbn_sent(&g, 106, 3);
	softee_gbn_sent(&g, 107, 3);
	EXPECT_EQ(3, softee_gbn_on_ack(&g, 108, SOFTEE_GBN_NAK_FRESH, 4));
	EXPECT_FALSE(softee_gbn_next_tx(&g, &seq));
	EXPECT_EQ(1, g.stats.fast_retrans);
}

/*
 * The tail probe: frames in flight and two round trips without a send or
 * an ack (the acks were lost, or a loss and its NAK) send the newest frame
 * again, once, long before the timeout; a send or an ack re-arms it.
 */
TEST(tail_probe)
{
	struct softee_gbn_cfg c = { .window = 8, .rto_min_ns = 100000, .probe_min_ns = 1000 };
	struct softee_gbn g;
	uint32_t seq;

	ASSERT_EQ(0, softee_gbn_init(&g, &c, 50));
	send_n(&g, 8, 0);
	/* no RTT sample yet: no probe, only the timeout */
	EXPECT_EQ(SOFTEE_GBN_NEVER, g.probe_deadline);
	softee_gbn_rtt_sample(&g, 5000);
	EXPECT_EQ(2, softee_gbn_on_ack(&g, 52, SOFTEE_GBN_NAK_NONE, 5000));
	EXPECT_EQ(105000u, g.rto_deadline);
	EXPECT_EQ(15000u, softee_gbn_next_deadline(&g));	/* 2 srtt after the ack */
	EXPECT_EQ(0, softee_gbn_timers(&g, 14999));
	EXPECT_EQ(SOFTEE_GBN_T_PROBE, softee_gbn_timers(&g, 15000));
	EXPECT_EQ(1, g.stats.probes);
	EXPECT_FALSE(softee_gbn_next_tx(&g, &seq));	/* the caller sends high - 1 itself */
	EXPECT_EQ(58u, g.high);
	EXPECT_EQ(0, softee_gbn_timers(&g, 16000));		/* once */
	EXPECT_EQ(105000u, softee_gbn_next_deadline(&g));
	/* a send re-arms it */
	send_n(&g, 1, 20000);
	EXPECT_EQ(30000u, g.probe_deadline);
	/* its answer, an ack of everything: nothing in flight, nothing armed */
	EXPECT_EQ(7, softee_gbn_on_ack(&g, 59, SOFTEE_GBN_NAK_NONE, 21000));
	EXPECT_EQ(SOFTEE_GBN_NEVER, g.probe_deadline);
	EXPECT_EQ(SOFTEE_GBN_NEVER, softee_gbn_next_deadline(&g));
	/* a probe due after the timeout is not armed: the timeout goes back */
	for (int i = 0; i < 40; i++)
		softee_gbn_rtt_sample(&g, 80000);	/* 2 srtt ~ 160 us, rto 100 us */
	send_n(&g, 2, 30000);
	EXPECT_EQ(SOFTEE_GBN_NEVER, g.probe_deadline);
	EXPECT_EQ(130000u, softee_gbn_next_deadline(&g));
	EXPECT_EQ(0, softee_gbn_timers(&g, 129999));
	EXPECT_EQ(SOFTEE_GBN_T_RTO, softee_gbn_timers(&g, 130000));
	EXPECT_EQ(1, g.stats.probes);

	/* probe_min_ns SOFTEE_GBN_NEVER: no probes at all */
	c.probe_min_ns = SOFTEE_GBN_NEVER;
	ASSERT_EQ(0, softee_gbn_init(&g, &c, 50));
	send_n(&g, 8, 0);
	softee_gbn_rtt_sample(&g, 5000);
	EXPECT_EQ(2, softee_gbn_on_ack(&g, 52, SOFTEE_GBN_NAK_NONE, 5000));
	EXPECT_EQ(0, softee_gbn_timers(&g, 50000));
	EXPECT_EQ(SOFTEE_GBN_T_RTO, softee_gbn_timers(&g, 105000));
	EXPECT_EQ(0, g.stats.probes);
}

TEST(receiver_in_order_only)
{
	struct softee_gbn_cfg c = { .ack_every = 2, .ack_delay_ns = 50 };
	struct softee_gbn g;

	ASSERT_EQ(0, softee_gbn_init(&g, &c, 0));
	/* nothing before the SYN */
	EXPECT_EQ(SOFTEE_GBN_NOSTREAM, softee_gbn_on_data(&g, 0xffffffff, false, 0));
	EXPECT_EQ(SOFTEE_GBN_ACCEPT, softee_gbn_on_data(&g, 0xfffffffe, true, 0));
	EXPECT_FALSE(softee_gbn_ack_wanted(&g));	/* delayed */
	EXPECT_EQ(SOFTEE_GBN_OOO, softee_gbn_on_data(&g, 0, false, 1));
	EXPECT_TRUE(softee_gbn_ack_wanted(&g));		/* at once, NAK */
	EXPECT_TRUE(g.nak);
	EXPECT_EQ(0xffffffffu, softee_gbn_ack_value(&g));
	softee_gbn_ack_sent(&g);
	EXPECT_EQ(SOFTEE_GBN_ACCEPT, softee_gbn_on_data(&g, 0xffffffff, false, 2));
	EXPECT_EQ(SOFTEE_GBN_DUP, softee_gbn_on_data(&g, 0xffffffff, false, 2));
	softee_gbn_ack_sent(&g);
	EXPECT_EQ(SOFTEE_GBN_ACCEPT, softee_gbn_on_data(&g, 0, false, 3));
	EXPECT_FALSE(softee_gbn_ack_wanted(&g));
	softee_gbn_timers(&g, 52);
	EXPECT_FALSE(softee_gbn_ack_wanted(&g));
	softee_gbn_timers(&g, 53);			/* ack delay reached */
	EXPECT_TRUE(softee_gbn_ack_wanted(&g));
	EXPECT_FALSE(g.nak);
	softee_gbn_ack_sent(&g);
	EXPECT_EQ(SOFTEE_GBN_ACCEPT, softee_gbn_on_data(&g, 1, false, 60));
	EXPECT_EQ(SOFTEE_GBN_ACCEPT, softee_gbn_on_data(&g, 2, false, 60));
	EXPECT_TRUE(softee_gbn_ack_wanted(&g));		/* every 2 */
	EXPECT_EQ(3u, softee_gbn_ack_value(&g));
	/* the same SYN again is an old frame; a new ISN is a new stream */
	EXPECT_EQ(SOFTEE_GBN_DUP, softee_gbn_on_data(&g, 0xfffffffe, true, 61));
	EXPECT_EQ(SOFTEE_GBN_ACCEPT, softee_gbn_on_data(&g, 500, true, 62));
	EXPECT_EQ(1, g.stats.rx_restart);
	/*
	 * A NAK says what is lacking after the last frame taken: an old frame
	 * out of order, then the go-back's frame in order, is no NAK; a frame
	 * out of order after it is.
	 */
	softee_gbn_ack_sent(&g);
	EXPECT_EQ(SOFTEE_GBN_OOO, softee_gbn_on_data(&g, 502, false, 63));
	EXPECT_TRUE(g.nak);
	EXPECT_EQ(SOFTEE_GBN_ACCEPT, softee_gbn_on_data(&g, 501, false, 64));
	EXPECT_FALSE(g.nak);
	EXPECT_EQ(SOFTEE_GBN_OOO, softee_gbn_on_data(&g, 503, false, 65));
	EXPECT_TRUE(g.nak);
}

/* ---- the property, through the whole transport ------------------------------ */

struct checker {
	uint64_t next;			/* the TLP number expected */
	uint64_t delivered;
	uint64_t errors;		/* anything but the expected TLP, intact */
	uint64_t out_of_order, corrupt, undecodable;
	uint64_t first_bad;		/* the first TLP number that was wrong */
};

struct node {
	struct softee_transport *t;
	struct softee_peer *peer;
	struct softee_netdev *fault;
	struct checker chk;		/* what this node receives */
	uint64_t sent;			/* TLPs queued */
	uint64_t want;			/* TLPs to send */
	uint64_t resets;
};

/* TLP number n: an MWr of 2..64 DW; data = n, then bytes derived from n. */
static uint32_t tlp_dws(uint64_t n)
{
	return 2 + (uint32_t)(((n * 0x9e3779b97f4a7c15ULL) >> 32) % 63);	/* 2..64 */
}

static uint8_t tlp_byte(uint64_t n, uint32_t i)
{
	return (uint8_t)((n * 31 + i * 7) ^ (n >> 8));
}

static int make_tlp(uint8_t *buf, uint64_t n)
{
	uint8_t data[256];
	uint32_t dws = tlp_dws(n), i;
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_MWR, .len_dw = dws, .first_be = 0xf, .last_be = 0xf,
		.addr = 0x40000000ULL + (n % 16) * 256, .tag = (uint8_t)n, .data = data,
	};

	memcpy(data, &n, 8);
	for (i = 8; i < 4 * dws; i++)
		data[i] = tlp_byte(n, i);
	return softee_tlp_encode(&t, buf, 300);
}

static void check_tlp(void *opaque, struct softee_peer *p, const uint8_t *tlp, uint32_t len)
{
	struct node *me = opaque;
	struct checker *c = &me->chk;
	struct softee_tlp t;
	uint64_t n;
	uint32_t i;
	bool bad = false;

	(void)p;
	c->delivered++;
	if (softee_tlp_decode(&t, tlp, len, NULL) != (int)len || t.kind != SOFTEE_TLP_MWR) {
		c->undecodable++;
		c->errors++;
		return;
	}
	memcpy(&n, t.data, 8);
	if (n != c->next) {
		c->out_of_order++;
		bad = true;
	}
	if (t.len_dw != tlp_dws(n) || t.addr != 0x40000000ULL + (n % 16) * 256 ||
	    t.tag != (uint8_t)n) {
		c->corrupt++;
		bad = true;
	} else {
		for (i = 8; i < 4u * t.len_dw; i++)
			if (t.data[i] != tlp_byte(n, i)) {
				c->corrupt++;
				bad = true;
				break;
			}
	}
	if (bad && !c->errors)
		c->first_bad = c->next;
	c->errors += bad;
	c->next = n + 1;
}

static void on_event(void *opaque, struct softee_peer *p, enum softee_transport_event ev)
{
	struct node *me = opaque;

	(void)p;
	if (ev == SOFTEE_TEV_SESSION_RESET || ev == SOFTEE_TEV_PEER_DOWN)
		me->resets++;
}

FIXTURE(prop) {
	uint64_t now;
	struct softee_netdev *port[2];
	struct node n[2];
};

FIXTURE_VARIANT(prop) {
	uint32_t drop_ppm, dup_ppm, reorder_ppm, corrupt_ppm, delay_ppm;
	uint64_t tlps;			/* A to B; B sends an eighth of it back */
	uint64_t latency_ns;		/* one way */
	uint8_t seq_bits;
	uint32_t window;
	bool unsafe_window;
	bool no_pacing;			/* let the window fill */
	uint64_t hold_ns;		/* longest a reordered frame is held (1 ms) */
	bool expect_fail;		/* the checker must catch a broken session */
};

FIXTURE_VARIANT_ADD(prop, loss_0) {
	.tlps = 1000000, .latency_ns = 5000,
};
FIXTURE_VARIANT_ADD(prop, loss_1pct) {
	.drop_ppm = 10000, .tlps = 1000000, .latency_ns = 5000,
};
FIXTURE_VARIANT_ADD(prop, loss_5pct) {
	.drop_ppm = 50000, .tlps = 1000000, .latency_ns = 5000,
};
FIXTURE_VARIANT_ADD(prop, loss_10pct) {
	.drop_ppm = 100000, .tlps = 1000000, .latency_ns = 5000,
};
FIXTURE_VARIANT_ADD(prop, dup_5pct) {
	.dup_ppm = 50000, .tlps = 1000000, .latency_ns = 5000,
};
FIXTURE_VARIANT_ADD(prop, reorder_5pct) {
	.reorder_ppm = 50000, .tlps = 1000000, .latency_ns = 5000,
};
FIXTURE_VARIANT_ADD(prop, corrupt_5pct) {
	.corrupt_ppm = 50000, .tlps = 1000000, .latency_ns = 5000,
};
FIXTURE_VARIANT_ADD(prop, delay_5pct) {
	.delay_ppm = 50000, .tlps = 1000000, .latency_ns = 5000,
};
FIXTURE_VARIANT_ADD(prop, all_faults) {
	.drop_ppm = 20000, .dup_ppm = 20000, .reorder_ppm = 20000, .corrupt_ppm = 20000,
	.delay_ppm = 20000, .tlps = 1000000, .latency_ns = 5000,
};
/*
 * 8-bit sequence numbers, window half the space: still correct, provided
 * no frame lives in the network longer than half the space takes to go by
 * (here 128 frames take ~0.4 ms; a reordered frame is held 20 us at most).
 * With 32-bit numbers that bound is minutes, at any line rate.
 */
FIXTURE_VARIANT_ADD(prop, narrow_space_half_window) {
	.drop_ppm = 10000, .dup_ppm = 20000, .reorder_ppm = 50000, .tlps = 300000,
	.latency_ns = 200000, .seq_bits = 8, .window = 128, .no_pacing = true,
	.hold_ns = 20000,
};
/*
 * The same with a window above half: the checker must catch it.  255, the
 * widest: an ack one frame stale can read as acking frames never received.
 */
FIXTURE_VARIANT_ADD(prop, narrow_space_wrong_window) {
	.drop_ppm = 10000, .dup_ppm = 20000, .reorder_ppm = 50000, .tlps = 300000,
	.latency_ns = 200000, .seq_bits = 8, .window = 255, .unsafe_window = true,
	.no_pacing = true, .hold_ns = 20000, .expect_fail = true,
};

/* The two ends, their fault injectors and the link; seed picks the faults' and ISNs' dice. */
static int prop_open(FIXTURE_DATA(prop) *self, const FIXTURE_VARIANT(prop) *variant,
		     uint32_t seed)
{
	struct softee_sim_cfg sc = { .clock = &self->now, .latency_ns = variant->latency_ns,
				     .queue_frames = 4096 };
	struct softee_fault_cfg fc = {
		.drop_ppm = variant->drop_ppm, .dup_ppm = variant->dup_ppm,
		.reorder_ppm = variant->reorder_ppm, .corrupt_ppm = variant->corrupt_ppm,
		.corrupt_bits_max = 3, .delay_ppm = variant->delay_ppm,
		.delay_min_ns = 1000, .delay_max_ns = 50000, .reorder_max = 8,
		.reorder_hold_ns = variant->hold_ns, .clock = &self->now,
	};
	int i, ret;

	memset(self->n, 0, sizeof(self->n));
	self->now = 1000000;
	ret = softee_sim_create(self->port, &sc);
	if (ret)
		return ret;
	for (i = 0; i < 2; i++) {
		struct node *me = &self->n[i];
		struct softee_transport_cfg tc = {
			.group = 3, .no_heartbeats = true, .seed = 11 + i + 2 * seed,
			.fixed_isn = true, .isn = i ? 0xfffffff0u : 0xffffff00u,
			.gbn = { .window = variant->window, .seq_bits = variant->seq_bits,
				 .unsafe_window = variant->unsafe_window },
			.rate = { .no_pacing = variant->no_pacing },
			.rx = check_tlp, .event = on_event, .opaque = me,
		};

		fc.seed = 1000 + i + 2 * seed;
		ret = softee_fault_create(&me->fault, self->port[i], &fc);
		if (ret)
			return ret;
		tc.nd = me->fault;
		ret = softee_transport_create(&me->t, &tc, self->now);
		if (ret)
			return ret;
	}
	for (i = 0; i < 2; i++) {
		self->n[i].peer = softee_transport_add_peer(self->n[i].t, self->port[!i]->mac,
							     SOFTEE_ROLE_BOX, self->now);
		if (!self->n[i].peer)
			return -ENOMEM;
	}
	self->n[0].want = variant->tlps;
	self->n[1].want = variant->tlps / 8;
	return 0;
}

static void prop_close(FIXTURE_DATA(prop) *self)
{
	int i;

	for (i = 0; i < 2; i++) {
		softee_transport_destroy(self->n[i].t);
		self->n[i].t = NULL;
		if (self->n[i].fault)
			softee_netdev_close(self->n[i].fault);
		self->n[i].fault = NULL;
		if (self->port[i])
			softee_netdev_close(self->port[i]);
		self->port[i] = NULL;
	}
}

FIXTURE_SETUP(prop)
{
	ASSERT_EQ(0, prop_open(self, variant, 0));
}

FIXTURE_TEARDOWN(prop)
{
	prop_close(self);
}

/* Queue up to burst more TLPs for the peer. */
static void feed(struct node *me, unsigned int burst)
{
	uint8_t buf[300];
	int len;

	while (burst-- && me->sent < me->want) {
		len = make_tlp(buf, me->sent);
		if (softee_transport_send_tlp(me->peer, buf, len))
			break;
		me->sent++;
	}
}

static bool done(const struct node *n)
{
	return n[1].chk.delivered >= n[0].want && n[0].chk.delivered >= n[1].want;
}

/* Run the two ends until every TLP is delivered, a stall, or (expect_fail) a caught error. */
static uint32_t prop_run(FIXTURE_DATA(prop) *self, const FIXTURE_VARIANT(prop) *variant)
{
	const uint64_t step = 1000, limit = 120000000000ULL;	/* 1 us; 120 s simulated */
	struct node *a = &self->n[0], *b = &self->n[1];
	uint64_t start = self->now, progress = 0, progress_at = self->now;
	uint32_t max_in_flight = 0;
	unsigned int k = 0;

	while (!done(self->n) && self->now - start < limit) {
		/* a broken session stalls: 2 s simulated without a TLP is the end */
		if (a->chk.delivered + b->chk.delivered != progress) {
			progress = a->chk.delivered + b->chk.delivered;
			progress_at = self->now;
		} else if (self->now - progress_at > 2000000000ULL) {
			note("stalled: nothing delivered for 2 s simulated\n");
			break;
		}
		feed(a, 24 + (k % 7) * 8);
		if (k % 8 == 0)
			feed(b, 8);
		softee_transport_poll(a->t, self->now);
		softee_transport_poll(b->t, self->now);
		if (softee_gbn_in_flight(&a->peer->gbn) > max_in_flight)
			max_in_flight = softee_gbn_in_flight(&a->peer->gbn);
		self->now += step;
		k++;
		/* the test of the test: the checker has caught it, enough */
		if (variant->expect_fail && a->chk.errors + b->chk.errors)
			break;
	}
	return max_in_flight;
}

TEST_F_TIMEOUT(prop, exactly_once_in_order, 240)
{
	struct node *a = &self->n[0], *b = &self->n[1];
	const struct softee_transport_stats *sa, *sb;
	const struct softee_fault_stats *fa, *fb;
	uint64_t start = self->now, errors;
	uint32_t max_in_flight, seed;

	max_in_flight = prop_run(self, variant);
	/*
	 * A window above half: whether a stale frame or ack aliases in a given
	 * run is chaotic (it moves with any change of when frames and acks
	 * leave), so other dice are thrown until one run is caught, at most 32:
	 * with the code of this writing, the seventh is.  A correct window
	 * never misdelivers, whatever the dice (the half_window variant).
	 */
	for (seed = 1; variant->expect_fail && !(a->chk.errors + b->chk.errors) && seed < 32; seed++) {
		note("seed %u: the broken session ended clean; the next\n", seed - 1);
		prop_close(self);
		ASSERT_EQ(0, prop_open(self, variant, seed));
		start = self->now;
		max_in_flight = prop_run(self, variant);
	}
	sa = softee_transport_stats(a->t);
	sb = softee_transport_stats(b->t);
	fa = softee_fault_stats(a->fault);
	fb = softee_fault_stats(b->fault);
	note("%.3f s simulated; A->B %lu/%lu TLPs delivered, B->A %lu/%lu; checker errors %lu+%lu (order %lu, corrupt %lu, undecodable %lu)\n",
	     (self->now - start) / 1e9,
	     (unsigned long)b->chk.delivered, (unsigned long)a->want,
	     (unsigned long)a->chk.delivered, (unsigned long)b->want,
	     (unsigned long)b->chk.errors, (unsigned long)a->chk.errors,
	     (unsigned long)(a->chk.out_of_order + b->chk.out_of_order),
	     (unsigned long)(a->chk.corrupt + b->chk.corrupt),
	     (unsigned long)(a->chk.undecodable + b->chk.undecodable));
	note("A: %lu data frames (%lu again), %lu TLPs/frame, %lu timeouts, %lu fast retransmits, %lu stale acks; B: %lu acks, %lu ooo, %lu dup, %lu crc errors\n",
	     (unsigned long)sa->tx_data, (unsigned long)sa->tx_retrans,
	     (unsigned long)(sa->tx_data ? sa->tx_tlps / (sa->tx_data - sa->tx_retrans + 1) : 0),
	     (unsigned long)sa->timeouts, (unsigned long)sa->fast_retrans,
	     (unsigned long)a->peer->gbn.stats.stale_acks,
	     (unsigned long)sb->tx_acks, (unsigned long)sb->rx_ooo_drops,
	     (unsigned long)sb->rx_dup_drops, (unsigned long)(sa->rx_crc_errors + sb->rx_crc_errors));
	note("faults A: drop %lu dup %lu reorder %lu corrupt %lu delay %lu; B: drop %lu dup %lu reorder %lu corrupt %lu delay %lu\n",
	     (unsigned long)fa->dropped, (unsigned long)fa->duplicated, (unsigned long)fa->reordered,
	     (unsigned long)fa->corrupted, (unsigned long)fa->delayed,
	     (unsigned long)fb->dropped, (unsigned long)fb->duplicated, (unsigned long)fb->reordered,
	     (unsigned long)fb->corrupted, (unsigned long)fb->delayed);

	errors = a->chk.errors + b->chk.errors;
	note("most frames in flight A->B: %u (window %u)\n", max_in_flight,
	     a->peer->gbn.cfg.window);
	/* the narrow space runs must have used their window past half the space */
	if (variant->seq_bits)
		EXPECT_LT(a->peer->gbn.half - (variant->unsafe_window ? 0 : 8), max_in_flight);
	if (variant->expect_fail) {
		/* the checker must have caught the broken session */
		EXPECT_LT(0, errors);
		note("wrong window caught: %lu misdelivered TLPs, first at #%lu\n",
		     (unsigned long)errors, (unsigned long)b->chk.first_bad);
		return;
	}
	EXPECT_EQ(0, errors);
	EXPECT_EQ(a->want, b->chk.delivered);
	EXPECT_EQ(b->want, a->chk.delivered);
	EXPECT_EQ(0, a->resets + b->resets);
	EXPECT_EQ(0, sa->tlps_dropped + sb->tlps_dropped);
	/* the faults did happen */
	if (variant->drop_ppm)
		EXPECT_LT(0, fa->dropped + fb->dropped);
	if (variant->corrupt_ppm)
		EXPECT_LT(0, sa->rx_crc_errors + sb->rx_crc_errors);
	if (variant->dup_ppm)
		EXPECT_LT(0, sb->rx_dup_drops);
	/* and the streams wrapped */
	if (!variant->seq_bits)
		EXPECT_GT(0x80000000u, a->peer->gbn.una);
}

/* ---- the fault injector's spec (--fault) ------------------------------------ */

TEST(fault_spec)
{
	static const struct {
		const char *spec, *err;		/* err NULL: accepted */
	} cases[] = {
		{ "drop=0x10", NULL },
		{ "drop=1000000", NULL },
		{ "delay_us=0-10000000", NULL },
		{ "drop=1000001", "drop wants parts per million, 0..1000000, not '1000001'" },
		{ "drop=-1", "drop wants parts per million, 0..1000000, not '-1'" },
		{ "drop=x", "drop wants parts per million, 0..1000000, not 'x'" },
		{ "drop=", "drop wants parts per million, 0..1000000, not ''" },
		{ "dup=5%", "dup wants parts per million, 0..1000000, not '5%'" },
		{ "drop", "'drop' is not key=value" },
		{ "lose=5", "unknown fault 'lose'" },
		{ "delay_us=7-5", "delay_us wants MIN-MAX microseconds" },
		{ "delay_us=5", "delay_us wants MIN-MAX microseconds" },
		{ "delay_us=1-99999999999999", "delay_us wants MIN-MAX microseconds" },
		{ "delay_us=-3-5", "delay_us wants MIN-MAX microseconds" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct softee_fault_cfg fc = { 0 };
		char err[160] = "";
		int ret = softee_fault_parse(cases[i].spec, &fc, err, sizeof(err));

		if (!cases[i].err) {
			EXPECT_EQ(0, ret) TH_LOG("'%s': %s", cases[i].spec, err);
			continue;
		}
		EXPECT_EQ(-EINVAL, ret) TH_LOG("'%s' was accepted", cases[i].spec);
		EXPECT_TRUE(strstr(err, cases[i].err) != NULL)
			TH_LOG("'%s': '%s', want '%s'", cases[i].spec, err, cases[i].err);
	}
	/* every key, each into its field */
	{
		struct softee_fault_cfg fc = { 0 };
		char err[160];

		ASSERT_EQ(0, softee_fault_parse("drop=10000,dup=1,corrupt=2,reorder=3,delay=4,delay_us=5-7",
						&fc, err, sizeof(err)));
		EXPECT_EQ(10000, fc.drop_ppm);
		EXPECT_EQ(1, fc.dup_ppm);
		EXPECT_EQ(2, fc.corrupt_ppm);
		EXPECT_EQ(3, fc.reorder_ppm);
		EXPECT_EQ(4, fc.delay_ppm);
		EXPECT_EQ(5000, fc.delay_min_ns);
		EXPECT_EQ(7000, fc.delay_max_ns);
	}
}

/*
 * The injector itself: whatever it holds back and releases, every frame it
 * did not drop arrives, once, with its own bytes.  Reordered frames are
 * released as copies between frames let through, in one send of 1024:
 * their copies must outlive the batches that send them.
 */
struct fault_rx {
	unsigned int seen[1024];
	unsigned int frames, bad;
};

static void fault_rx_fn(void *opaque, const uint8_t *frame, uint32_t len)
{
	struct fault_rx *r = opaque;
	unsigned int id = frame[SOFTEE_ETH_HLEN] | (unsigned int)frame[SOFTEE_ETH_HLEN + 1] << 8, i;

	r->frames++;
	for (i = SOFTEE_ETH_HLEN + 2; i < len; i++)
		r->bad += frame[i] != (uint8_t)id;
	if (id < 1024)
		r->seen[id]++;
}

TEST(fault_injector_delivers_each_frame_once)
{
	uint64_t now = 1000000;
	struct softee_sim_cfg sc = { .ports = 2, .queue_frames = 4096, .clock = &now };
	struct softee_fault_cfg fc = { .seed = 1, .reorder_ppm = 500000, .clock = &now };
	static struct softee_txframe tx[1024];
	static uint8_t buf[1024][200];
	struct softee_netdev *port[2], *f;
	struct fault_rx r = { 0 };
	unsigned int i;

	ASSERT_EQ(0, softee_sim_create(port, &sc));
	ASSERT_EQ(0, softee_fault_create(&f, port[0], &fc));
	for (i = 0; i < 1024; i++) {
		memset(buf[i], (int)(i & 0xff), sizeof(buf[i]));
		memset(buf[i], 0xff, SOFTEE_ETH_ALEN);	/* broadcast */
		memcpy(buf[i] + SOFTEE_ETH_ALEN, port[0]->mac, SOFTEE_ETH_ALEN);
		buf[i][12] = 0x88;
		buf[i][13] = 0xb6;
		buf[i][SOFTEE_ETH_HLEN] = (uint8_t)i;
		buf[i][SOFTEE_ETH_HLEN + 1] = (uint8_t)(i >> 8);
		tx[i].data = buf[i];
		tx[i].len = sizeof(buf[i]);
	}
	ASSERT_EQ(1024, softee_netdev_tx(f, tx, 1024));
	softee_fault_flush(f);
	while (softee_netdev_rx(port[1], 64, 0, fault_rx_fn, &r) > 0)
		;
	EXPECT_LT(256, softee_fault_stats(f)->reordered);
	EXPECT_EQ(1024, r.frames);
	EXPECT_EQ(0, r.bad);
	for (i = 0; i < 1024; i++)
		EXPECT_EQ(1, r.seen[i]) TH_LOG("frame %u arrived %u times", i, r.seen[i]);
	softee_netdev_close(f);
	softee_netdev_close(port[0]);
	softee_netdev_close(port[1]);
}

TEST_HARNESS_MAIN
