// SPDX-License-Identifier: GPL-2.0
/*
 * Delay-based rate control: the rate grows additively while the queueing
 * delay stays under the target and falls multiplicatively above it, if
 * the sender was limited; a stall that delays a few samples is not a
 * queue; the token bucket holds TX to the rate; and on a simulated
 * 1 Gbit/s link with a deep queue, the transport keeps the queue short
 * where an unpaced sender fills it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include <softee/ratectl.h>
#include <softee/sim.h>
#include <softee/tlp.h>
#include <softee/transport.h>

#define US	1000ULL
#define MS	1000000ULL
#define note(...) do { ksft_print_msg(__VA_ARGS__); fflush(stdout); } while (0)

static const struct softee_ratectl_cfg base = {
	.rate_max_Bps = 1000000000, .rate_min_Bps = 1000000, .rate_init_Bps = 100000000,
	.ai_step_Bps = 10000000, .md_num = 1, .md_den = 2, .target_delay_ns = 200 * US,
	.interval_ns = 100 * US, .bucket_bytes = 16384,
};

TEST(defaults_and_bad_configs)
{
	struct softee_ratectl rc;
	struct softee_ratectl_cfg c = base;

	ASSERT_EQ(0, softee_ratectl_init(&rc, NULL, 0));
	EXPECT_EQ(SOFTEE_RATECTL_DEF_MAX_BPS, rc.rate_Bps);
	EXPECT_EQ(1, rc.cfg.md_num);
	EXPECT_EQ(2, rc.cfg.md_den);
	c.rate_min_Bps = c.rate_max_Bps + 1;
	EXPECT_EQ(-EINVAL, softee_ratectl_init(&rc, &c, 0));
	c = base;
	c.md_num = 2;
	c.md_den = 2;
	EXPECT_EQ(-EINVAL, softee_ratectl_init(&rc, &c, 0));
	c = base;
	c.rate_init_Bps = 10;
	EXPECT_EQ(-EINVAL, softee_ratectl_init(&rc, &c, 0));
}

TEST(rate_rises_under_low_delay)
{
	struct softee_ratectl rc;
	uint64_t now = 0, last = 0;
	int i;

	ASSERT_EQ(0, softee_ratectl_init(&rc, &base, 0));
	/* 50 us RTT, steady: no queueing; one sample every 10 us */
	for (i = 0; i < 1000; i++) {
		now += 10 * US;
		softee_ratectl_rtt_sample(&rc, 50 * US, now);
		ASSERT_LE(last, rc.rate_Bps);		/* never falls */
		last = rc.rate_Bps;
		if (now == 1 * MS)
			/* additive: +10 MB/s per 100 us interval */
			EXPECT_EQ(100000000 + 10 * 10000000, rc.rate_Bps);
	}
	EXPECT_EQ(base.rate_max_Bps, rc.rate_Bps);	/* up to the cap */
	EXPECT_EQ(90, rc.stats.increases);
	EXPECT_EQ(0, rc.stats.decreases);
	EXPECT_EQ(50 * US, rc.min_rtt_ns);
	EXPECT_EQ(50 * US, rc.srtt_ns);
	EXPECT_EQ(0, softee_ratectl_queue_delay(&rc));
}

TEST(rate_falls_under_high_delay)
{
	struct softee_ratectl rc;
	struct softee_ratectl_cfg c = base;
	uint64_t now = 0, r0;
	int i;

	c.rate_init_Bps = 800000000;
	ASSERT_EQ(0, softee_ratectl_init(&rc, &c, 0));
	softee_ratectl_rtt_sample(&rc, 50 * US, now);		/* the floor */
	r0 = rc.rate_Bps + c.ai_step_Bps;			/* its period ends in a step up */
	/* a queue builds: RTT 50 us + 1 ms; the window is full */
	for (i = 0; i < 2000; i++) {
		now += 10 * US;
		softee_ratectl_blocked(&rc);
		softee_ratectl_rtt_sample(&rc, 1050 * US, now);
		ASSERT_GE(r0, rc.rate_Bps);
	}
	EXPECT_LT(200 * US, softee_ratectl_queue_delay(&rc));
	EXPECT_LT(0, rc.stats.decreases);
	/* multiplicative: halved per change, down to the floor */
	EXPECT_EQ(base.rate_min_Bps, rc.rate_Bps);
	/* the delay goes away: it climbs again */
	for (i = 0; i < 3000; i++) {
		now += 10 * US;
		softee_ratectl_rtt_sample(&rc, 50 * US, now);
	}
	EXPECT_LT(base.rate_min_Bps * 10, rc.rate_Bps);
	EXPECT_LT(0, rc.stats.increases);
}

TEST(decrease_once_per_interval)
{
	struct softee_ratectl rc;
	struct softee_ratectl_cfg c = base;
	uint64_t now, r;

	c.rate_init_Bps = 800000000;
	c.ewma_shift = 1;
	ASSERT_EQ(0, softee_ratectl_init(&rc, &c, 0));
	softee_ratectl_rtt_sample(&rc, 10 * US, 0);
	softee_ratectl_rtt_sample(&rc, 10 * US, 1 * MS);	/* +1 step */
	EXPECT_EQ(1, rc.stats.increases);
	/* RTT jumps far over 10 + 200 us: one cut, then none within the interval */
	now = 10 * MS;
	softee_ratectl_blocked(&rc);
	softee_ratectl_rtt_sample(&rc, 2 * MS, now);
	softee_ratectl_rtt_sample(&rc, 2 * MS, now + 1);
	softee_ratectl_rtt_sample(&rc, 2 * MS, now + 2);
	EXPECT_EQ(1, rc.stats.decreases);
	EXPECT_GT(810000000, rc.rate_Bps);
	EXPECT_LE(405000000, rc.rate_Bps);
	r = rc.rate_Bps;
	/* the interval is an RTT when that is longer (srtt ~1.75 ms here) */
	softee_ratectl_blocked(&rc);
	softee_ratectl_rtt_sample(&rc, 2 * MS, now + 1 * MS);
	EXPECT_EQ(r, rc.rate_Bps);
	softee_ratectl_rtt_sample(&rc, 2 * MS, now + 3 * MS);
	EXPECT_EQ(2, rc.stats.decreases);
	EXPECT_GT(r, rc.rate_Bps);
	/* a timeout of a sender that was not limited keeps the rate */
	r = rc.rate_Bps;
	softee_ratectl_timeout(&rc, now + 6 * MS);
	EXPECT_EQ(r, rc.rate_Bps);
	EXPECT_EQ(0, rc.stats.timeouts);
	EXPECT_EQ(1, rc.stats.app_limited);
	/* of one held back by its window, it cuts by md exactly */
	softee_ratectl_blocked(&rc);
	softee_ratectl_timeout(&rc, now + 9 * MS);
	EXPECT_EQ(r / 2, rc.rate_Bps);
	EXPECT_EQ(1, rc.stats.timeouts);
}

/* The cut is f = 1 - (1 - md) * (q - target) / q: gentle near the target, md far over it. */
TEST(decrease_proportional_to_excess)
{
	struct softee_ratectl rc;
	struct softee_ratectl_cfg c = base;

	c.rate_init_Bps = 800000000;
	c.ewma_shift = 16;				/* srtt = first sample, then barely moves */
	ASSERT_EQ(0, softee_ratectl_init(&rc, &c, 0));
	softee_ratectl_rtt_sample(&rc, 250 * US, 0);
	rc.min_rtt_ns = 0;				/* queueing delay = the sample; target 200 */
	softee_ratectl_blocked(&rc);
	softee_ratectl_rtt_sample(&rc, 250 * US, 1 * MS);
	EXPECT_EQ(720000000, rc.rate_Bps);		/* f = 1 - 0.5 * 50/250 = 0.9 */
	softee_ratectl_blocked(&rc);
	softee_ratectl_rtt_sample(&rc, 500 * US, 2 * MS);
	EXPECT_EQ(504000000, rc.rate_Bps);		/* f = 1 - 0.5 * 300/500 = 0.7 */
	softee_ratectl_blocked(&rc);
	softee_ratectl_rtt_sample(&rc, 20 * MS, 30 * MS);
	EXPECT_EQ(254520000, rc.rate_Bps);		/* f = 1 - 0.5 * 19.8/20 = 0.505 */
	EXPECT_EQ(3, rc.stats.decreases);
}

/*
 * A peer that was off its core for 3 ms acks late, and the few samples of
 * that while read 3 ms; the next fresh one is short again.  Each ms, with
 * the window full all along: no cut, as a queue (every sample long) has.
 */
TEST(a_stall_is_not_a_queue)
{
	struct softee_ratectl rc;
	struct softee_ratectl_cfg c = base;
	uint64_t now = 0, worst = 0;
	int i;

	c.rate_init_Bps = 800000000;
	ASSERT_EQ(0, softee_ratectl_init(&rc, &c, 0));
	for (i = 0; i < 10000; i++) {
		now += 10 * US;
		softee_ratectl_blocked(&rc);
		softee_ratectl_rtt_sample(&rc, i % 100 < 5 ? 3 * MS : 50 * US, now);
		if (softee_ratectl_queue_delay(&rc) > worst)
			worst = softee_ratectl_queue_delay(&rc);
	}
	note("stalls: srtt - min_rtt up to %.0f us, rate %.0f MB/s, %lu increases\n",
	     worst / 1e3, rc.rate_Bps / 1e6, (unsigned long)rc.stats.increases);
	EXPECT_EQ(0, rc.stats.decreases);
	EXPECT_EQ(c.rate_max_Bps, rc.rate_Bps);
	/* the smoothed RTT did see the stalls: it alone would have cut */
	EXPECT_LT(c.target_delay_ns, worst);
}

/*
 * Long samples while the sender used a small part of its rate, as a guest
 * doing little I/O behind a delay it did not cause: the rate is kept and
 * app_limited counts it.  Sending half the rate, or being held by the
 * window, makes the same delay cut.
 */
TEST(app_limited_sender_keeps_its_rate)
{
	struct softee_ratectl rc;
	struct softee_ratectl_cfg c = base;
	uint64_t now = 0, r;
	int i;

	c.rate_init_Bps = 800000000;			/* 800 bytes per us */
	c.no_pacing = true;
	ASSERT_EQ(0, softee_ratectl_init(&rc, &c, 0));
	softee_ratectl_rtt_sample(&rc, 50 * US, now);
	for (i = 0; i < 1000; i++) {
		now += 10 * US;
		softee_ratectl_sent(&rc, 1524);		/* 150 MB/s */
		softee_ratectl_rtt_sample(&rc, 2 * MS, now);
	}
	EXPECT_EQ(0, rc.stats.decreases);
	/* one step up: the period of the first, short sample */
	EXPECT_EQ(800000000 + c.ai_step_Bps, rc.rate_Bps);
	EXPECT_LT(0, rc.stats.app_limited);
	/* 3 x 1524 bytes per 10 us is 457 MB/s: over half the rate */
	for (i = 0; i < 300; i++) {
		now += 10 * US;
		softee_ratectl_sent(&rc, 3 * 1524);
		softee_ratectl_rtt_sample(&rc, 2 * MS, now);
	}
	EXPECT_LT(0, rc.stats.decreases);
	r = rc.rate_Bps;
	EXPECT_GT(800000000, r);
	note("app-limited: %lu periods kept the rate; at half the rate sent, cut to %.0f MB/s\n",
	     (unsigned long)rc.stats.app_limited, r / 1e6);
	/* a full window says the same at any rate sent */
	c.no_pacing = false;
	ASSERT_EQ(0, softee_ratectl_init(&rc, &c, 0));
	softee_ratectl_rtt_sample(&rc, 50 * US, 0);
	now = 0;
	for (i = 0; i < 1000; i++) {
		now += 10 * US;
		softee_ratectl_blocked(&rc);
		softee_ratectl_rtt_sample(&rc, 2 * MS, now);
	}
	EXPECT_LT(0, rc.stats.decreases);
	EXPECT_EQ(0, rc.stats.app_limited);
}

TEST(min_rtt_forgotten_after_its_window)
{
	struct softee_ratectl rc;
	struct softee_ratectl_cfg c = base;

	c.min_rtt_window_ns = 100 * MS;
	ASSERT_EQ(0, softee_ratectl_init(&rc, &c, 0));
	softee_ratectl_rtt_sample(&rc, 20 * US, 1 * MS);
	softee_ratectl_rtt_sample(&rc, 80 * US, 50 * MS);
	EXPECT_EQ(20 * US, rc.min_rtt_ns);
	softee_ratectl_rtt_sample(&rc, 80 * US, 102 * MS);	/* a new route */
	EXPECT_EQ(80 * US, rc.min_rtt_ns);
}

/* Send 1500-byte frames whenever the bucket allows, for 1 s simulated. */
static uint64_t paced_bytes(struct softee_ratectl *rc, uint64_t t_end, uint64_t step)
{
	uint64_t now, sent = 0;

	for (now = 0; now < t_end; now += step) {
		while (softee_ratectl_may_send(rc, 1524, now)) {
			softee_ratectl_sent(rc, 1524);
			sent += 1524;
		}
	}
	return sent;
}

TEST(pacing_obeys_rate)
{
	static const uint64_t rates[] = { 1000000, 12500000, 125000000, 1250000000 };
	struct softee_ratectl_cfg c = base;
	struct softee_ratectl rc;
	uint64_t sent, want, next;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		c.rate_min_Bps = c.rate_max_Bps = c.rate_init_Bps = rates[i];
		ASSERT_EQ(0, softee_ratectl_init(&rc, &c, 0));
		sent = paced_bytes(&rc, 1000 * MS, 1 * US);
		want = rates[i];			/* 1 s at the rate */
		/* at most the rate, plus the bucket and one frame of overdraft */
		EXPECT_GE(want + c.bucket_bytes + 1524, sent);
		EXPECT_LE(want - 1524, sent);
		note("rate %lu B/s: %lu bytes in 1 s simulated (%.4f of the rate)\n",
		     (unsigned long)rates[i], (unsigned long)sent, (double)sent / want);
		EXPECT_LT(0, rc.stats.paced);
	}
	/* next_ns: when the bucket allows again */
	c.rate_min_Bps = c.rate_max_Bps = c.rate_init_Bps = 1000000;	/* 1 byte/us */
	ASSERT_EQ(0, softee_ratectl_init(&rc, &c, 0));
	while (softee_ratectl_may_send(&rc, 1000, 0))
		softee_ratectl_sent(&rc, 1000);
	next = softee_ratectl_next_ns(&rc, 0);
	EXPECT_LT(0, next);
	EXPECT_FALSE(softee_ratectl_may_send(&rc, 1000, next - 1001));
	EXPECT_TRUE(softee_ratectl_may_send(&rc, 1000, next));
	/* no_pacing: measure, adapt, never hold */
	c.no_pacing = true;
	ASSERT_EQ(0, softee_ratectl_init(&rc, &c, 0));
	for (i = 0; i < 100000; i++) {
		ASSERT_TRUE(softee_ratectl_may_send(&rc, 1524, 0));
		softee_ratectl_sent(&rc, 1524);
	}
	EXPECT_EQ(0, rc.stats.paced);
}

/* ---- the transport on a bottleneck ---------------------------------------------- */

struct run {
	uint64_t delivered;
	double mean_qdelay_us;		/* measured RTT minus the empty-link RTT */
	double goodput_MBps;
	uint64_t rate_Bps;
};

static void count_tlp(void *opaque, struct softee_peer *p, const uint8_t *tlp, uint32_t len)
{
	uint64_t *n = opaque;

	(void)p;
	(void)tlp;
	(void)len;
	(*n)++;
}

/* 256-byte MWr as fast as the sender takes them, over 1 Gbit/s with 1024 frames of queue. */
static struct run bottleneck(struct __test_metadata *_metadata, bool paced)
{
	uint64_t now = 0, got = 0, sum = 0, samples = 0, t0;
	struct softee_sim_cfg sc = { .clock = &now, .latency_ns = 10 * US,
				     .rate_Bps = 125000000, .queue_frames = 1024 };
	struct softee_netdev *port[2];
	struct softee_transport *a, *b;
	static uint8_t data[256];
	struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .len_dw = 64, .first_be = 0xf,
				.last_be = 0xf, .addr = 0x10000000, .data = data };
	struct softee_peer *pa;
	struct run r = { 0 };
	uint8_t tlp[300];
	int len;

	ASSERT_EQ(0, softee_sim_create(port, &sc));
	struct softee_transport_cfg ca = {
		.nd = port[0], .group = 1, .no_heartbeats = true, .seed = 5,
		.gbn = { .window = 1024 },
		.rate = { .rate_max_Bps = 1250000000, .target_delay_ns = 100 * US,
			  .interval_ns = 50 * US, .no_pacing = !paced },
	};
	struct softee_transport_cfg cb = ca;

	cb.nd = port[1];
	cb.rx = count_tlp;
	cb.opaque = &got;
	ASSERT_EQ(0, softee_transport_create(&a, &ca, now));
	ASSERT_EQ(0, softee_transport_create(&b, &cb, now));
	pa = softee_transport_add_peer(a, port[1]->mac, 0, now);
	ASSERT_NE(NULL, pa);
	ASSERT_NE(NULL, softee_transport_add_peer(b, port[0]->mac, 0, now));
	len = softee_tlp_encode(&t, tlp, sizeof(tlp));
	t0 = 100 * MS;				/* measure after the start */
	for (now = 0; now < 300 * MS; now += 2 * US) {
		while (!softee_transport_send_tlp(pa, tlp, len))
			;
		softee_transport_poll(a, now);
		softee_transport_poll(b, now);
		if (now >= t0 && pa->rc.last_rtt_ns && !(now % (100 * US))) {
			sum += pa->rc.srtt_ns;
			samples++;
		}
		if (now == t0)
			r.delivered = got;
	}
	r.delivered = got - r.delivered;
	r.goodput_MBps = r.delivered * 256.0 / ((now - t0) / 1e9) / 1e6;
	/* the empty link: 2 x 10 us latency + serialisation of one frame and an ack */
	r.mean_qdelay_us = samples ? (double)sum / samples / 1000 - 20 - 12 : 0;
	r.rate_Bps = pa->rc.rate_Bps;
	note("%s: goodput %.1f MB/s of 125, mean srtt - base %.1f us, rate %.1f MB/s, %lu decreases, %lu increases, %lu sim drops\n",
	     paced ? "rate control" : "unpaced", r.goodput_MBps, r.mean_qdelay_us,
	     pa->rc.rate_Bps / 1e6, (unsigned long)pa->rc.stats.decreases,
	     (unsigned long)pa->rc.stats.increases, (unsigned long)port[0]->stats.tx_dropped);
	softee_transport_destroy(a);
	softee_transport_destroy(b);
	softee_netdev_close(port[0]);
	softee_netdev_close(port[1]);
	return r;
}

TEST(transport_keeps_the_queue_short)
{
	struct run unpaced = bottleneck(_metadata, false);
	struct run paced = bottleneck(_metadata, true);

	/* unpaced, the window fills the bottleneck's queue: milliseconds of delay */
	EXPECT_LT(5000, unpaced.mean_qdelay_us);
	/* paced, a tenth of that at most (target 100 us) */
	EXPECT_GT(unpaced.mean_qdelay_us / 10, paced.mean_qdelay_us);
	/* while the link stays busy: 70% of what an unpaced sender gets through */
	EXPECT_LT(0.7 * unpaced.goodput_MBps, paced.goodput_MBps);
}

TEST_HARNESS_MAIN
