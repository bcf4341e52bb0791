// SPDX-License-Identifier: GPL-2.0
/*
 * The transport object's API around the data path: what send_tlp refuses
 * and why, the blocking poll and the deadline it waits for, tagged
 * sessions, a node that leaves, configs that cannot work, a peer that
 * restarts its stream, a configured EtherType.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include <softee/sim.h>
#include <softee/tlp.h>
#include <softee/transport.h>

#define US	1000ULL
#define MS	1000000ULL

struct end {
	struct softee_transport *t;
	struct softee_peer *peer;
	uint64_t rx_tlps;
	int downs, resets;
	int last_reason;
};

static void on_tlp(void *opaque, struct softee_peer *p, const uint8_t *tlp, uint32_t len)
{
	struct end *e = opaque;

	(void)p;
	(void)tlp;
	(void)len;
	e->rx_tlps++;
}

static void on_event(void *opaque, struct softee_peer *p, enum softee_transport_event ev)
{
	struct end *e = opaque;

	if (ev == SOFTEE_TEV_PEER_DOWN) {
		e->downs++;
		e->last_reason = p->live->down_reason;
	}
	if (ev == SOFTEE_TEV_SESSION_RESET)
		e->resets++;
}

/* B's link: it refuses the next refuse_next sends (a full TX ring), then passes all. */
struct refuse {
	struct softee_netdev nd;
	struct softee_netdev *inner;
	int refuse_next;
};

static int refuse_tx(struct softee_netdev *nd, const struct softee_txframe *f, unsigned int n)
{
	struct refuse *r = nd->priv;

	if (r->refuse_next > 0) {
		r->refuse_next--;
		return 0;
	}
	return softee_netdev_tx(r->inner, f, n);
}

static int refuse_rx(struct softee_netdev *nd, unsigned int max, uint32_t timeout_us,
		     softee_rx_fn fn, void *opaque)
{
	struct refuse *r = nd->priv;

	return softee_netdev_rx(r->inner, max, timeout_us, fn, opaque);
}

static void refuse_close(struct softee_netdev *nd)
{
	(void)nd;
}

static const struct softee_netdev_ops refuse_ops = {
	.name = "refuse", .tx_burst = refuse_tx, .rx_burst = refuse_rx, .close = refuse_close,
};

FIXTURE(pair) {
	uint64_t now;
	struct softee_netdev *port[2];
	struct refuse rf;		/* in front of port[1] */
	struct end e[2];
};

FIXTURE_VARIANT(pair) {
	bool vlan;
};

FIXTURE_VARIANT_ADD(pair, untagged) {
	.vlan = false,
};

FIXTURE_VARIANT_ADD(pair, vlan) {
	.vlan = true,
};

static uint64_t *the_clock;

static uint64_t fixture_clock(void *opaque)
{
	(void)opaque;
	return *the_clock;
}

FIXTURE_SETUP(pair)
{
	struct softee_sim_cfg sc = { .clock = &self->now, .latency_ns = 10 * US };
	int i;

	self->now = 1 * MS;
	the_clock = &self->now;
	ASSERT_EQ(0, softee_sim_create(self->port, &sc));
	self->rf.inner = self->port[1];
	self->rf.nd = *self->port[1];
	self->rf.nd.ops = &refuse_ops;
	self->rf.nd.priv = &self->rf;
	for (i = 0; i < 2; i++) {
		struct softee_transport_cfg tc = {
			.nd = i ? &self->rf.nd : self->port[i], .group = 12, .vlan = variant->vlan, .vlan_pcp = 5,
			.no_heartbeats = true, .seed = 3 + i, .rx = on_tlp, .event = on_event,
			.opaque = &self->e[i], .clock = fixture_clock, .txq_bytes = 8192,
		};

		ASSERT_EQ(0, softee_transport_create(&self->e[i].t, &tc, self->now));
	}
	for (i = 0; i < 2; i++) {
		self->e[i].peer = softee_transport_add_peer(self->e[i].t, self->port[!i]->mac,
							     SOFTEE_ROLE_BOX, self->now);
		ASSERT_NE(NULL, self->e[i].peer);
	}
}

FIXTURE_TEARDOWN(pair)
{
	int i;

	for (i = 0; i < 2; i++) {
		softee_transport_destroy(self->e[i].t);
		softee_netdev_close(self->port[i]);
	}
}

static void run(FIXTURE_DATA(pair) *self, uint64_t ns)
{
	uint64_t end = self->now + ns;

	while (self->now < end) {
		softee_transport_poll(self->e[0].t, self->now);
		softee_transport_poll(self->e[1].t, self->now);
		self->now += 1 * US;
	}
}

static int mwr(uint8_t *buf, uint32_t dws)
{
	static const uint8_t data[4096];
	struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .len_dw = dws, .first_be = 0xf,
				.last_be = dws > 1 ? 0xf : 0, .addr = 0x100000, .data = data };

	return softee_tlp_encode(&t, buf, 4200);
}

TEST_F(pair, traffic_and_tags)
{
	uint8_t buf[4200];
	int len = mwr(buf, 64), i;
	const struct softee_transport_stats *s = softee_transport_stats(self->e[0].t);

	for (i = 0; i < 1000; i++) {
		while (softee_transport_send_tlp(self->e[0].peer, buf, len))
			run(self, 1 * US);
	}
	run(self, 1 * MS);
	EXPECT_EQ(1000, self->e[1].rx_tlps);
	EXPECT_EQ(1000, s->tlps_acked);
	/* A sends data frames only (no loss: none twice); a tag adds 4 bytes to each */
	EXPECT_EQ(s->tx_data, s->tx_frames);
	EXPECT_EQ(0, s->tx_retrans);
	EXPECT_EQ(s->tx_data * (softee_frame_hdr_len(variant->vlan) + 4) + 1000ULL * len,
		  s->tx_bytes);
	EXPECT_EQ(0, softee_transport_stats(self->e[1].t)->rx_bad);
}

/*
 * Timestamps are 32-bit nanoseconds: after 3 s of quiet the peer's newest
 * one compares as older than the one its echo held.  Its echoes must still
 * follow it: an RTT sample from each exchange, not a 3 s round trip that
 * is thrown away.
 */
TEST_F(pair, echo_after_a_quiet_spell)
{
	const struct softee_ratectl *rc = &self->e[0].peer->rc;
	uint8_t buf[4200];
	int len = mwr(buf, 1);
	uint64_t samples;

	ASSERT_EQ(0, softee_transport_send_tlp(self->e[0].peer, buf, len));
	run(self, 1 * MS);
	ASSERT_EQ(1, self->e[1].rx_tlps);
	samples = rc->stats.samples;
	ASSERT_LT(0, samples);
	self->now += 3000 * MS;
	ASSERT_EQ(0, softee_transport_send_tlp(self->e[0].peer, buf, len));
	run(self, 1 * MS);
	EXPECT_EQ(2, self->e[1].rx_tlps);
	EXPECT_LT(samples, rc->stats.samples);
	EXPECT_GT(1 * MS, rc->last_rtt_ns);
}

/*
 * An ack the link refuses (a full TX ring) goes again with the next poll:
 * the sender, which has no round-trip sample yet, would wait for its
 * 5 ms timeout.
 */
TEST_F(pair, refused_ack_goes_again)
{
	const struct softee_transport_stats *sa = softee_transport_stats(self->e[0].t);
	const struct softee_transport_stats *sb = softee_transport_stats(self->e[1].t);
	uint8_t buf[4200];
	int len = mwr(buf, 1);

	self->rf.refuse_next = 1;	/* B's first send: its ack */
	ASSERT_EQ(0, softee_transport_send_tlp(self->e[0].peer, buf, len));
	run(self, 200 * US);
	EXPECT_EQ(1, self->e[1].rx_tlps);
	EXPECT_EQ(0, self->rf.refuse_next);
	EXPECT_LE(1, sb->tx_busy);
	EXPECT_EQ(1, sa->tlps_acked);
	EXPECT_EQ(0, sa->tx_retrans);
}

/*
 * flush sends what is queued at once, as far as the window lets it; it
 * never receives, though a frame waits for it.
 */
TEST_F(pair, flush_sends_and_never_receives)
{
	const struct softee_transport_stats *s = softee_transport_stats(self->e[0].t);
	uint8_t buf[4200];
	int len = mwr(buf, 64), n = 0, sent;
	uint64_t rx_frames;

	run(self, 100 * US);		/* both up, nothing in flight */
	/* a frame from B waits on A's link */
	ASSERT_EQ(0, softee_transport_send_tlp(self->e[1].peer, buf, len));
	softee_transport_poll(self->e[1].t, self->now);
	self->now += 20 * US;		/* past the link's 10 us */
	rx_frames = s->rx_frames;
	while (n < 21 && !softee_transport_send_tlp(self->e[0].peer, buf, len))
		n++;
	ASSERT_EQ(21, n);		/* 21 x 268 B: four frames of 5 and one of 1 */
	EXPECT_EQ(0, s->tx_data);
	sent = softee_transport_flush(self->e[0].t, self->now);
	EXPECT_EQ(5, sent);
	EXPECT_EQ(5, s->tx_data);
	EXPECT_EQ(0, self->e[0].peer->txq_tlps);
	EXPECT_EQ(rx_frames, s->rx_frames);		/* B's frame still waits */
	EXPECT_EQ(0, self->e[0].rx_tlps);
	EXPECT_EQ(0, softee_transport_flush(self->e[0].t, self->now));
	run(self, 1 * MS);
	EXPECT_EQ(21, self->e[1].rx_tlps);
	EXPECT_EQ(1, self->e[0].rx_tlps);
	EXPECT_EQ(0, s->tx_retrans);
}

/* Where each send burst is a system call, flush leaves the frames to the poll's one burst. */
TEST_F(pair, flush_leaves_syscall_links_to_the_poll)
{
	const struct softee_transport_stats *s = softee_transport_stats(self->e[0].t);
	uint8_t buf[4200];
	int len = mwr(buf, 64), n;

	run(self, 100 * US);
	self->port[0]->tx_burst_syscall = true;
	for (n = 0; n < 10; n++)
		ASSERT_EQ(0, softee_transport_send_tlp(self->e[0].peer, buf, len));
	EXPECT_EQ(0, softee_transport_flush(self->e[0].t, self->now));
	EXPECT_EQ(0, s->tx_data);
	EXPECT_EQ(10, self->e[0].peer->txq_tlps);
	run(self, 1 * MS);
	EXPECT_EQ(10, self->e[1].rx_tlps);
	EXPECT_EQ(2, s->tx_data);			/* 10 x 268 B: two frames */
}

TEST_F(pair, send_tlp_refusals)
{
	uint8_t buf[4200];
	uint32_t room = softee_transport_frame_payload(self->e[0].t);
	int len, n = 0;

	EXPECT_EQ(1500 - 28, room);
	/* the size must be what DW0 says */
	len = mwr(buf, 4);
	EXPECT_EQ(-EINVAL, softee_transport_send_tlp(self->e[0].peer, buf, len - 4));
	EXPECT_EQ(-EINVAL, softee_transport_send_tlp(self->e[0].peer, buf, len + 4));
	buf[0] = 0x80;					/* a prefix */
	EXPECT_EQ(-EINVAL, softee_transport_send_tlp(self->e[0].peer, buf, len));
	/* larger than a frame holds: 1024-byte MWr fits, 2048 does not */
	len = mwr(buf, 256);
	EXPECT_EQ(0, softee_transport_send_tlp(self->e[0].peer, buf, len));
	len = mwr(buf, 512);
	EXPECT_EQ(-EMSGSIZE, softee_transport_send_tlp(self->e[0].peer, buf, len));
	/* a full queue (8 KiB) says so, and polling drains it */
	len = mwr(buf, 64);
	while (!softee_transport_send_tlp(self->e[0].peer, buf, len))
		n++;
	EXPECT_EQ(-EAGAIN, softee_transport_send_tlp(self->e[0].peer, buf, len));
	EXPECT_LT(20, n);
	EXPECT_LT(0, softee_transport_stats(self->e[0].t)->txq_full);
	EXPECT_EQ((uint32_t)n + 1, self->e[0].peer->txq_tlps);
	run(self, 1 * MS);
	EXPECT_EQ(0, self->e[0].peer->txq_tlps);
	EXPECT_EQ((uint64_t)n + 1, self->e[1].rx_tlps);
	EXPECT_EQ(0, softee_transport_send_tlp(self->e[0].peer, buf, len));
	/* and to a peer that is gone */
	softee_transport_leave(self->e[1].t, self->now);
	run(self, 1 * MS);
	EXPECT_EQ(1, self->e[0].downs);
	EXPECT_EQ(SOFTEE_DOWN_LEAVE, self->e[0].last_reason);
	EXPECT_EQ(-ENOTCONN, softee_transport_send_tlp(self->e[0].peer, buf, len));
}

TEST_F(pair, deadlines_and_poll_wait)
{
	uint8_t buf[4200];
	int len = mwr(buf, 8);
	uint64_t dl;

	/* idle, no heartbeats: nothing to do, ever */
	run(self, 100 * US);
	EXPECT_EQ(SOFTEE_GBN_NEVER, softee_transport_next_deadline(self->e[0].t, self->now));
	/* a TLP queued: due now */
	ASSERT_EQ(0, softee_transport_send_tlp(self->e[0].peer, buf, len));
	EXPECT_EQ(self->now, softee_transport_next_deadline(self->e[0].t, self->now));
	/* sent: the retransmission timer (5 ms before any RTT sample) */
	softee_transport_poll(self->e[0].t, self->now);
	dl = softee_transport_next_deadline(self->e[0].t, self->now);
	EXPECT_EQ(self->now + 5 * MS, dl);
	/* the receiver: its delayed ack (20 us) */
	self->now += 10 * US;
	softee_transport_poll(self->e[1].t, self->now);
	EXPECT_EQ(1, self->e[1].rx_tlps);
	EXPECT_EQ(self->now + 20 * US, softee_transport_next_deadline(self->e[1].t, self->now));
	/* poll_wait reads the clock and sends the ack when it is due */
	self->now += 20 * US;
	EXPECT_LE(1, softee_transport_poll_wait(self->e[1].t, 1000));
	EXPECT_EQ(1, softee_transport_stats(self->e[1].t)->tx_acks);
	self->now += 10 * US;
	EXPECT_LE(1, softee_transport_poll_wait(self->e[0].t, 1000));
	EXPECT_EQ(1, softee_transport_stats(self->e[0].t)->tlps_acked);
	/*
	 * The round trip is the link's 2 x 10 us: the receiver's echo counts
	 * the 20 us it held the ack, so the sample leaves them out (it would
	 * read 40 us, half of it "queueing", otherwise).
	 */
	EXPECT_EQ(20 * US, self->e[0].peer->rc.last_rtt_ns);
	EXPECT_EQ(SOFTEE_GBN_NEVER, softee_transport_next_deadline(self->e[0].t, self->now));
}

/*
 * A late ack: the receiver polls 50 us after the frame came, not at its 20 us
 * deadline.  Only the 20 us of its ack policy leave the sample: the rest is a
 * late poll, and the sender's retransmission timer must still cover it.
 */
TEST_F(pair, late_ack_stays_in_the_round_trip)
{
	uint8_t buf[4200];
	int len = mwr(buf, 8);

	ASSERT_EQ(0, softee_transport_send_tlp(self->e[0].peer, buf, len));
	softee_transport_poll(self->e[0].t, self->now);
	self->now += 10 * US;
	softee_transport_poll(self->e[1].t, self->now);
	ASSERT_EQ(1, self->e[1].rx_tlps);
	self->now += 50 * US;
	softee_transport_poll(self->e[1].t, self->now);
	ASSERT_EQ(1, softee_transport_stats(self->e[1].t)->tx_acks);
	self->now += 10 * US;
	softee_transport_poll(self->e[0].t, self->now);
	ASSERT_EQ(1, softee_transport_stats(self->e[0].t)->tlps_acked);
	/* 10 + 50 + 10 us, less the 20 us of delayed ack */
	EXPECT_EQ(50 * US, self->e[0].peer->rc.last_rtt_ns);
}

/* A peer that lost our stream (it was restarted with static peers) gets a new one. */
TEST_F(pair, resync_after_the_peer_forgets)
{
	struct softee_transport_cfg tc = {
		.nd = self->port[1], .group = 12, .vlan = variant->vlan, .no_heartbeats = true,
		.seed = 99, .rx = on_tlp, .event = on_event, .opaque = &self->e[1],
	};
	uint8_t buf[4200];
	int len = mwr(buf, 8), i;

	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, softee_transport_send_tlp(self->e[0].peer, buf, len));
	run(self, 1 * MS);
	ASSERT_EQ(10, self->e[1].rx_tlps);
	/* B starts over: no stream of A's */
	softee_transport_destroy(self->e[1].t);
	ASSERT_EQ(0, softee_transport_create(&self->e[1].t, &tc, self->now));
	self->e[1].peer = softee_transport_add_peer(self->e[1].t, self->port[0]->mac, 0, self->now);
	ASSERT_NE(NULL, self->e[1].peer);
	/* A's next frames are refused with RESYNC; A starts a new stream */
	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, softee_transport_send_tlp(self->e[0].peer, buf, len));
	run(self, 20 * MS);
	EXPECT_EQ(1, self->e[0].resets);
	EXPECT_LT(0, softee_transport_stats(self->e[1].t)->tx_resets);
	/* the TLPs that were in flight to the old B are dropped and counted; the rest arrive */
	EXPECT_EQ(20, self->e[1].rx_tlps + softee_transport_stats(self->e[0].t)->tlps_dropped);
	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, softee_transport_send_tlp(self->e[0].peer, buf, len));
	run(self, 1 * MS);
	EXPECT_EQ(30, self->e[1].rx_tlps + softee_transport_stats(self->e[0].t)->tlps_dropped);
}

/*
 * A configured EtherType: a pair on 0x88b6 passes traffic; frames of a
 * node on the default 0x88B5, on the same segment and sent to one of
 * them, are counted as not ours and never delivered, and theirs are not
 * ours to it.
 */
TEST(configured_ethertype)
{
	struct softee_sim_cfg sc = { .ports = 3, .clock = NULL };
	struct softee_netdev *port[3];
	struct end e[3] = { 0 };
	struct softee_transport *t[3];
	struct softee_peer *to[3], *to2;
	const struct softee_transport_stats *s[3];
	uint8_t buf[4200];
	int len = mwr(buf, 16), i, k;
	uint64_t now = 1 * MS;

	ASSERT_EQ(0, softee_sim_create(port, &sc));
	for (i = 0; i < 3; i++) {
		struct softee_transport_cfg tc = {
			.nd = port[i], .group = 12, .ethertype = i < 2 ? 0x88b6 : 0,
			.no_heartbeats = true, .seed = 7 + i, .rx = on_tlp, .event = on_event,
			.opaque = &e[i],
		};

		ASSERT_EQ(0, softee_transport_create(&t[i], &tc, now));
		s[i] = softee_transport_stats(t[i]);
	}
	/* 0 and 1 talk to each other; 2 (0x88B5) talks to 1, and 1 to 2. */
	to[0] = softee_transport_add_peer(t[0], port[1]->mac, SOFTEE_ROLE_BOX, now);
	to[1] = softee_transport_add_peer(t[1], port[0]->mac, SOFTEE_ROLE_HOST, now);
	to[2] = softee_transport_add_peer(t[2], port[1]->mac, SOFTEE_ROLE_BOX, now);
	to2 = softee_transport_add_peer(t[1], port[2]->mac, SOFTEE_ROLE_HOST, now);
	ASSERT_NE(NULL, to2);
	for (i = 0; i < 3; i++)
		ASSERT_NE(NULL, to[i]);
	for (k = 0; k < 100; k++) {
		EXPECT_EQ(0, softee_transport_send_tlp(to[0], buf, len));
		EXPECT_EQ(0, softee_transport_send_tlp(to[2], buf, len));
		EXPECT_EQ(0, softee_transport_send_tlp(to[1], buf, len));
		if (k < 10)
			EXPECT_EQ(0, softee_transport_send_tlp(to2, buf, len));
		for (i = 0; i < 3; i++)
			softee_transport_poll(t[i], now);
		now += 10 * US;
	}
	for (k = 0; k < 1000; k++, now += 10 * US)
		for (i = 0; i < 3; i++)
			softee_transport_poll(t[i], now);
	softee_transport_poll(t[1], now);	/* what 2 sent last */

	EXPECT_EQ(100, e[1].rx_tlps);		/* from 0 only */
	EXPECT_EQ(100, e[0].rx_tlps);
	EXPECT_EQ(0, e[2].rx_tlps);
	EXPECT_EQ(0, s[0]->rx_not_ours);
	EXPECT_LT(0, s[2]->tx_tlps);		/* as many as its window let out */
	EXPECT_EQ(s[2]->tx_frames, s[1]->rx_not_ours);	/* all of 2's frames, none delivered */
	EXPECT_LT(0, s[2]->rx_not_ours);	/* and 1's acks and data are not 2's */
	EXPECT_EQ(0, s[1]->rx_bad);
	EXPECT_EQ(0, s[2]->rx_bad);
	for (i = 0; i < 3; i++) {
		softee_transport_destroy(t[i]);
		softee_netdev_close(port[i]);
	}
}

TEST(bad_configs)
{
	struct softee_netdev *port[2];
	struct softee_transport *t;
	struct softee_sim_cfg sc = { 0 };
	struct softee_transport_cfg tc = { .group = 5 };

	ASSERT_EQ(0, softee_sim_create(port, &sc));
	tc.nd = port[0];
	EXPECT_EQ(-EINVAL, softee_transport_create(&t, NULL, 0));
	tc.gbn.window = (1u << 31) + 1;				/* over half the space */
	EXPECT_EQ(-EINVAL, softee_transport_create(&t, &tc, 0));
	tc.gbn.window = 1u << 20;				/* too many frames to keep */
	EXPECT_EQ(-EINVAL, softee_transport_create(&t, &tc, 0));
	tc.gbn.window = 0;
	tc.vlan = true;
	tc.group = 4095;					/* not a VID */
	EXPECT_EQ(-EINVAL, softee_transport_create(&t, &tc, 0));
	tc.group = 5;
	tc.rate.rate_min_Bps = 2;
	tc.rate.rate_max_Bps = 1;
	EXPECT_EQ(-EINVAL, softee_transport_create(&t, &tc, 0));
	tc.rate = (struct softee_ratectl_cfg){ 0 };
	tc.mtu = SOFTEE_FRAME_OVERHEAD + 11;			/* no room for a TLP */
	EXPECT_EQ(-EINVAL, softee_transport_create(&t, &tc, 0));
	tc.mtu = 0;
	tc.ethertype = 0x05dc;					/* an 802.3 length */
	EXPECT_EQ(-EINVAL, softee_transport_create(&t, &tc, 0));
	tc.ethertype = 0x8100;					/* a VLAN tag */
	EXPECT_EQ(-EINVAL, softee_transport_create(&t, &tc, 0));
	tc.ethertype = 0x88a8;					/* a service tag */
	EXPECT_EQ(-EINVAL, softee_transport_create(&t, &tc, 0));
	tc.ethertype = 0;
	ASSERT_EQ(0, softee_transport_create(&t, &tc, 0));
	EXPECT_EQ(-EINVAL, softee_transport_set_group(t, 0, 0));	/* VID 0 */
	EXPECT_EQ(-EINVAL, softee_transport_poll_wait(t, 10));	/* no clock */
	softee_transport_destroy(t);
	softee_netdev_close(port[0]);
	softee_netdev_close(port[1]);
}

TEST_HARNESS_MAIN
