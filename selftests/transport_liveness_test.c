// SPDX-License-Identifier: GPL-2.0
/*
 * Liveness: the peer table alone (learning, aging after K periods, other
 * groups, restarts, a full table), then three transports sending real
 * heartbeats on a simulated segment in simulated time: a host and a box of
 * group 5 and a box of group 6.  The host learns its box and not the
 * other; TLPs flow; a box that stops is lost within K periods and comes
 * back; a box that moves to another group ends its session at once.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include <softee/liveness.h>
#include <softee/sim.h>
#include <softee/tlp.h>
#include <softee/transport.h>

#define MS	1000000ULL

/* ---- the table alone --------------------------------------------------------- */

struct evlog {
	int n;
	struct { int ev, idx, reason; } e[64];
};

static void log_ev(void *opaque, enum softee_liveness_event ev, int idx,
		   const struct softee_liveness_peer *p)
{
	struct evlog *l = opaque;

	if (l->n < 64) {
		l->e[l->n].ev = ev;
		l->e[l->n].idx = idx;
		l->e[l->n].reason = p ? p->down_reason : 0;
		l->n++;
	}
}

static struct softee_frame_hb hb_of(uint32_t node, uint32_t inc)
{
	struct softee_frame_hb hb = { .role = SOFTEE_ROLE_BOX, .period_ms = 100,
				      .node_id = node, .incarnation = inc, .name = "box" };

	return hb;
}

TEST(table_learn_age_groups)
{
	struct softee_liveness_cfg c = { .group = 5, .role = SOFTEE_ROLE_HOST };
	uint8_t m1[6] = { 2, 0, 0, 0, 0, 1 }, m2[6] = { 2, 0, 0, 0, 0, 2 };
	struct softee_frame_hb hb = hb_of(7, 1);
	struct softee_liveness l;
	struct evlog ev = { 0 };
	int idx;

	ASSERT_EQ(0, softee_liveness_init(&l, &c, 0, log_ev, &ev));
	/* heartbeats are due at once, then every period */
	EXPECT_TRUE(softee_liveness_hb_due(&l, 0));
	EXPECT_FALSE(softee_liveness_hb_due(&l, 100 * MS - 1));
	EXPECT_TRUE(softee_liveness_hb_due(&l, 100 * MS));
	/* learn */
	idx = softee_liveness_on_hb(&l, m1, 5, &hb, 10 * MS);
	ASSERT_LE(0, idx);
	ASSERT_EQ(1, ev.n);
	EXPECT_EQ(SOFTEE_EV_PEER_UP, ev.e[0].ev);
	EXPECT_EQ(SOFTEE_PEER_UP, l.peers[idx].state);
	EXPECT_EQ(7, l.peers[idx].node_id);
	EXPECT_EQ(SOFTEE_ROLE_BOX, l.peers[idx].role);
	EXPECT_STREQ("box", l.peers[idx].name);
	/* another group: ignored */
	EXPECT_EQ(-EXDEV, softee_liveness_on_hb(&l, m2, 6, &hb, 10 * MS));
	EXPECT_EQ(-ENOENT, softee_liveness_find(&l, m2));
	EXPECT_EQ(1, l.stats.hb_other_group);
	/* aging: lost after exactly 3 of its periods of silence */
	softee_liveness_on_hb(&l, m1, 5, &hb, 20 * MS);
	softee_liveness_tick(&l, 20 * MS + 300 * MS);
	EXPECT_EQ(SOFTEE_PEER_UP, l.peers[idx].state);
	softee_liveness_tick(&l, 20 * MS + 300 * MS + 1);
	EXPECT_EQ(SOFTEE_PEER_DOWN, l.peers[idx].state);
	ASSERT_EQ(2, ev.n);
	EXPECT_EQ(SOFTEE_EV_PEER_DOWN, ev.e[1].ev);
	EXPECT_EQ(SOFTEE_DOWN_TIMEOUT, ev.e[1].reason);
	/* back, same slot */
	EXPECT_EQ(idx, softee_liveness_on_hb(&l, m1, 5, &hb, 400 * MS));
	EXPECT_EQ(SOFTEE_EV_PEER_UP, ev.e[2].ev);
	/* a restart: down and up */
	hb.incarnation = 2;
	EXPECT_EQ(idx, softee_liveness_on_hb(&l, m1, 5, &hb, 410 * MS));
	ASSERT_EQ(5, ev.n);
	EXPECT_EQ(SOFTEE_DOWN_RESTART, ev.e[3].reason);
	EXPECT_EQ(SOFTEE_EV_PEER_UP, ev.e[4].ev);
	/* it announces another group: down at once */
	EXPECT_EQ(-EXDEV, softee_liveness_on_hb(&l, m1, 9, &hb, 420 * MS));
	EXPECT_EQ(SOFTEE_DOWN_OTHER_GROUP, ev.e[5].reason);
	/* a longer period advertised: aged by its own period */
	hb.period_ms = 1000;
	softee_liveness_on_hb(&l, m1, 5, &hb, 500 * MS);
	softee_liveness_tick(&l, 500 * MS + 3000 * MS);
	EXPECT_EQ(SOFTEE_PEER_UP, l.peers[idx].state);
	softee_liveness_tick(&l, 500 * MS + 3000 * MS + 1);
	EXPECT_EQ(SOFTEE_PEER_DOWN, l.peers[idx].state);
	EXPECT_EQ(SOFTEE_DOWN_TIMEOUT, l.peers[idx].down_reason);
	softee_liveness_on_hb(&l, m1, 5, &hb, 3600 * MS);
	/* our group changes: every learnt peer down, then GROUP_CHANGED */
	ev.n = 0;
	softee_liveness_set_group(&l, 6, 600 * MS);
	ASSERT_EQ(2, ev.n);
	EXPECT_EQ(SOFTEE_DOWN_GROUP_CHANGE, ev.e[0].reason);
	EXPECT_EQ(SOFTEE_EV_GROUP_CHANGED, ev.e[1].ev);
	EXPECT_EQ(-1, ev.e[1].idx);
	EXPECT_TRUE(softee_liveness_hb_due(&l, 600 * MS));	/* announce at once */
	/* now m2's group is ours */
	EXPECT_LE(0, softee_liveness_on_hb(&l, m2, 6, &hb, 610 * MS));
}

TEST(table_full_evicts_the_longest_down)
{
	struct softee_liveness_cfg c = { .group = 1, .max_peers = 4 };
	struct softee_frame_hb hb = hb_of(1, 1);
	struct softee_liveness l;
	struct evlog ev = { 0 };
	uint8_t m[6] = { 2, 0, 0, 0, 0, 0 };
	int i, idx;

	ASSERT_EQ(0, softee_liveness_init(&l, &c, 0, log_ev, &ev));
	for (i = 0; i < 4; i++) {
		m[5] = i;
		ASSERT_EQ(i, softee_liveness_on_hb(&l, m, 1, &hb, i * MS));
	}
	m[5] = 9;
	EXPECT_EQ(-ENOSPC, softee_liveness_on_hb(&l, m, 1, &hb, 5 * MS));	/* all up */
	softee_liveness_tick(&l, 10000 * MS);					/* all down */
	idx = softee_liveness_on_hb(&l, m, 1, &hb, 10001 * MS);
	EXPECT_EQ(0, idx);			/* the one seen least recently */
	EXPECT_EQ(1, l.stats.evictions);
	EXPECT_EQ(SOFTEE_DOWN_EVICTED, ev.e[ev.n - 2].reason);
	EXPECT_EQ(SOFTEE_EV_PEER_UP, ev.e[ev.n - 1].ev);
}

TEST(static_peers)
{
	struct softee_liveness_cfg c = { .group = 1 };
	struct softee_liveness l;
	struct evlog ev = { 0 };
	uint8_t m[6] = { 2, 0, 0, 0, 0, 7 };
	int idx;

	ASSERT_EQ(0, softee_liveness_init(&l, &c, 0, log_ev, &ev));
	idx = softee_liveness_add_static(&l, m, SOFTEE_ROLE_BOX, 0);
	ASSERT_LE(0, idx);
	EXPECT_EQ(SOFTEE_PEER_UP, l.peers[idx].state);
	softee_liveness_tick(&l, 100000 * MS);				/* never aged */
	EXPECT_EQ(SOFTEE_PEER_UP, l.peers[idx].state);
	ev.n = 0;
	softee_liveness_set_group(&l, 2, 100000 * MS);		/* down and up: a new session */
	ASSERT_EQ(3, ev.n);
	EXPECT_EQ(SOFTEE_EV_PEER_DOWN, ev.e[0].ev);
	EXPECT_EQ(SOFTEE_EV_GROUP_CHANGED, ev.e[1].ev);
	EXPECT_EQ(SOFTEE_EV_PEER_UP, ev.e[2].ev);
	/*
	 * Its heartbeats, if it sends them: the first only tells its
	 * incarnation (no restart, the session goes on); a new one after
	 * that is a restart.
	 */
	ev.n = 0;
	{
		struct softee_frame_hb hb = hb_of(9, 7);

		EXPECT_EQ(idx, softee_liveness_on_hb(&l, m, 2, &hb, 100001 * MS));
		EXPECT_EQ(0, ev.n);
		EXPECT_EQ(0, l.stats.restarts);
		EXPECT_EQ(idx, softee_liveness_on_hb(&l, m, 2, &hb, 100002 * MS));
		EXPECT_EQ(0, ev.n);
		hb = hb_of(9, 8);
		EXPECT_EQ(idx, softee_liveness_on_hb(&l, m, 2, &hb, 100003 * MS));
		EXPECT_EQ(1, l.stats.restarts);
		ASSERT_EQ(2, ev.n);
		EXPECT_EQ(SOFTEE_EV_PEER_DOWN, ev.e[0].ev);
		EXPECT_EQ(SOFTEE_EV_PEER_UP, ev.e[1].ev);
	}
}

/* ---- three transports with heartbeats ----------------------------------------- */

struct node {
	struct softee_transport *t;
	bool running;
	int ups, downs, resets, group_changes;
	int last_reason;
	uint64_t down_at;
	uint64_t rx_tlps;
	uint64_t *now;
};

static void on_tlp(void *opaque, struct softee_peer *p, const uint8_t *tlp, uint32_t len)
{
	struct node *n = opaque;

	(void)p;
	(void)tlp;
	(void)len;
	n->rx_tlps++;
}

static void on_event(void *opaque, struct softee_peer *p, enum softee_transport_event ev)
{
	struct node *n = opaque;

	switch (ev) {
	case SOFTEE_TEV_PEER_UP:
		n->ups++;
		break;
	case SOFTEE_TEV_PEER_DOWN:
		n->downs++;
		n->last_reason = p->live->down_reason;
		n->down_at = *n->now;
		break;
	case SOFTEE_TEV_SESSION_RESET:
		n->resets++;
		break;
	case SOFTEE_TEV_GROUP_CHANGED:
		n->group_changes++;
		break;
	}
}

FIXTURE(seg) {
	uint64_t now;
	struct softee_netdev *port[3];
	struct node n[3];		/* host (group 5), box (5), other box (6) */
};

static int node_start(struct __test_metadata *_metadata, FIXTURE_DATA(seg) *self, int i,
		      uint64_t seed)
{
	static const uint16_t groups[3] = { 5, 5, 6 };
	static const uint8_t roles[3] = { SOFTEE_ROLE_HOST, SOFTEE_ROLE_BOX, SOFTEE_ROLE_BOX };
	static const char *const names[3] = { "host", "box-a", "box-b" };
	struct softee_transport_cfg tc = {
		.nd = self->port[i], .group = groups[i], .role = roles[i], .node_id = 100 + i,
		.name = names[i], .seed = seed, .rx = on_tlp, .event = on_event,
		.opaque = &self->n[i],
	};

	self->n[i].now = &self->now;
	ASSERT_EQ(0, softee_transport_create(&self->n[i].t, &tc, self->now));
	self->n[i].running = true;
	return 0;
}

FIXTURE_SETUP(seg)
{
	struct softee_sim_cfg sc = { .ports = 3, .clock = &self->now, .latency_ns = 20000 };
	int i;

	self->now = 5 * MS;
	ASSERT_EQ(0, softee_sim_create(self->port, &sc));
	for (i = 0; i < 3; i++)
		node_start(_metadata, self, i, 77 + i);
}

FIXTURE_TEARDOWN(seg)
{
	int i;

	for (i = 0; i < 3; i++) {
		softee_transport_destroy(self->n[i].t);
		softee_netdev_close(self->port[i]);
	}
}

/* Run the running nodes for ns of simulated time, 10 us steps. */
static void run(FIXTURE_DATA(seg) *self, uint64_t ns)
{
	uint64_t end = self->now + ns;
	int i;

	while (self->now < end) {
		for (i = 0; i < 3; i++)
			if (self->n[i].running)
				softee_transport_poll(self->n[i].t, self->now);
		self->now += 10000;
	}
}

static struct softee_peer *peer_of(FIXTURE_DATA(seg) *self, int i, int j)
{
	return softee_transport_find_peer(self->n[i].t, self->port[j]->mac);
}

/* Send n MWr from node i to its peer j; how many were queued. */
static int send_mwr(FIXTURE_DATA(seg) *self, int i, int j, int n)
{
	static const uint8_t data[64];
	struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .len_dw = 16, .first_be = 0xf,
				.last_be = 0xf, .addr = 0xc0000000, .data = data };
	struct softee_peer *p = peer_of(self, i, j);
	uint8_t buf[128];
	int len = softee_tlp_encode(&t, buf, sizeof(buf)), k;

	if (!p)
		return -ENOENT;
	for (k = 0; k < n; k++) {
		int ret = softee_transport_send_tlp(p, buf, len);

		if (ret)
			return k ? k : ret;
	}
	return k;
}

TEST_F(seg, learn_own_group_only)
{
	struct softee_peer *box, *other;

	run(self, 50 * MS);
	box = peer_of(self, 0, 1);
	ASSERT_NE(NULL, box);
	EXPECT_EQ(SOFTEE_PEER_UP, box->live->state);
	EXPECT_TRUE(box->session);
	EXPECT_EQ(SOFTEE_ROLE_BOX, box->live->role);
	EXPECT_EQ(101, box->live->node_id);
	EXPECT_STREQ("box-a", box->live->name);
	EXPECT_EQ(1, self->n[0].ups);
	/* the box learnt the host too, and nobody learnt the group-6 box */
	ASSERT_NE(NULL, peer_of(self, 1, 0));
	EXPECT_EQ(SOFTEE_ROLE_HOST, peer_of(self, 1, 0)->live->role);
	other = peer_of(self, 0, 2);
	EXPECT_EQ(NULL, other);
	EXPECT_EQ(NULL, peer_of(self, 2, 0));
	EXPECT_LT(0, softee_transport_stats(self->n[0].t)->rx_other_group);
	EXPECT_LT(0, softee_transport_stats(self->n[2].t)->rx_other_group);
	/* one heartbeat per period (one in 50 ms), plus one to greet the new peer */
	EXPECT_EQ(2, softee_transport_stats(self->n[0].t)->tx_heartbeats);
}

TEST_F(seg, traffic_flows)
{
	run(self, 50 * MS);
	ASSERT_EQ(100, send_mwr(self, 0, 1, 100));
	run(self, 5 * MS);
	EXPECT_EQ(100, self->n[1].rx_tlps);
	EXPECT_EQ(0, self->n[2].rx_tlps);
	/* and back */
	ASSERT_EQ(10, send_mwr(self, 1, 0, 10));
	run(self, 5 * MS);
	EXPECT_EQ(10, self->n[0].rx_tlps);
	EXPECT_LT(0, peer_of(self, 0, 1)->rc.srtt_ns);
}

TEST_F(seg, lost_within_k_periods_and_back)
{
	struct softee_peer *box;
	uint64_t stop;

	run(self, 50 * MS);
	box = peer_of(self, 0, 1);
	ASSERT_NE(NULL, box);
	ASSERT_EQ(10, send_mwr(self, 0, 1, 10));
	run(self, 1 * MS);
	/* the box stops (its last heartbeat went out before this) */
	self->n[1].running = false;
	stop = self->now;
	run(self, box->live->last_seen_ns + 300 * MS - 1 * MS - self->now);
	EXPECT_EQ(SOFTEE_PEER_UP, box->live->state);		/* not yet: < 3 periods */
	EXPECT_EQ(0, self->n[0].downs);
	run(self, 2 * MS);
	EXPECT_EQ(SOFTEE_PEER_DOWN, box->live->state);
	EXPECT_EQ(1, self->n[0].downs);
	EXPECT_EQ(SOFTEE_DOWN_TIMEOUT, self->n[0].last_reason);
	/* within K = 3 periods of its last heartbeat, and not before */
	EXPECT_LE(box->live->last_seen_ns + 300 * MS, self->n[0].down_at);
	EXPECT_GE(box->live->last_seen_ns + 300 * MS + 100000, self->n[0].down_at);
	EXPECT_GE(stop + 400 * MS, self->n[0].down_at);
	EXPECT_FALSE(box->session);
	EXPECT_EQ(-ENOTCONN, send_mwr(self, 0, 1, 1));
	/* it comes back: learnt again, a new session, traffic flows */
	self->n[1].running = true;
	run(self, 150 * MS);
	EXPECT_EQ(SOFTEE_PEER_UP, box->live->state);
	EXPECT_EQ(2, self->n[0].ups);
	ASSERT_EQ(20, send_mwr(self, 0, 1, 20));
	run(self, 20 * MS);
	EXPECT_EQ(30, self->n[1].rx_tlps);
}

/*
 * A peer whose heartbeats stop while its session's frames keep coming is
 * not lost: the box's clock is frozen (no heartbeat falls due) while it
 * still receives the host's data and acks every 8 frames; after 1 s (more
 * than 3 periods of 100 ms) the host still has it up.  Once the box is
 * silent altogether it is lost within 3 periods.
 */
TEST_F(seg, frames_keep_a_peer_alive)
{
	struct softee_peer *box;
	uint64_t frozen, end, silent;

	run(self, 50 * MS);
	box = peer_of(self, 0, 1);
	ASSERT_NE(NULL, box);
	frozen = self->now;
	end = self->now + 1000 * MS;
	while (self->now < end) {
		ASSERT_LT(0, send_mwr(self, 0, 1, 8));
		softee_transport_poll(self->n[0].t, self->now);
		softee_transport_poll(self->n[1].t, frozen);	/* no heartbeat is due */
		softee_transport_poll(self->n[0].t, self->now);
		self->now += 100000;
	}
	EXPECT_EQ(SOFTEE_PEER_UP, box->live->state);
	EXPECT_EQ(0, self->n[0].downs);
	EXPECT_LT(frozen + 900 * MS, box->live->last_seen_ns);	/* refreshed by its acks */
	/* Silent: lost within 3 periods of the last frame. */
	silent = self->now;
	self->n[1].running = false;
	run(self, 400 * MS);
	EXPECT_EQ(SOFTEE_PEER_DOWN, box->live->state);
	EXPECT_EQ(1, self->n[0].downs);
	EXPECT_GE(silent + 300 * MS + 1 * MS, self->n[0].down_at);
}

TEST_F(seg, group_change_ends_session)
{
	struct softee_peer *box;
	uint64_t t0;

	run(self, 50 * MS);
	box = peer_of(self, 0, 1);
	ASSERT_NE(NULL, box);
	ASSERT_EQ(5, send_mwr(self, 0, 1, 5));
	run(self, 1 * MS);
	EXPECT_EQ(5, self->n[1].rx_tlps);
	/* the box moves to group 6 */
	t0 = self->now;
	ASSERT_EQ(0, softee_transport_set_group(self->n[1].t, 6, self->now));
	EXPECT_EQ(1, self->n[1].group_changes);
	EXPECT_EQ(1, self->n[1].downs);				/* it ended its session */
	EXPECT_EQ(6, softee_transport_group(self->n[1].t));
	run(self, 1 * MS);
	/* the host heard the LEAVE: down at once, not after 3 periods */
	EXPECT_EQ(SOFTEE_PEER_DOWN, box->live->state);
	EXPECT_EQ(SOFTEE_DOWN_LEAVE, self->n[0].last_reason);
	EXPECT_GT(t0 + 1 * MS, self->n[0].down_at);
	EXPECT_EQ(-ENOTCONN, send_mwr(self, 0, 1, 1));
	/* the box now pairs with the other group-6 box, and the host ignores it */
	run(self, 300 * MS);
	ASSERT_NE(NULL, peer_of(self, 1, 2));
	EXPECT_EQ(SOFTEE_PEER_UP, peer_of(self, 1, 2)->live->state);
	EXPECT_EQ(SOFTEE_PEER_UP, peer_of(self, 2, 1)->live->state);
	EXPECT_EQ(SOFTEE_PEER_DOWN, box->live->state);
	EXPECT_EQ(1, self->n[0].downs);
	ASSERT_EQ(3, send_mwr(self, 1, 2, 3));
	run(self, 1 * MS);
	EXPECT_EQ(3, self->n[2].rx_tlps);
	/* and back to 5: the host learns it again */
	ASSERT_EQ(0, softee_transport_set_group(self->n[1].t, 5, self->now));
	run(self, 10 * MS);
	EXPECT_EQ(SOFTEE_PEER_UP, box->live->state);
	EXPECT_EQ(2, self->n[0].ups);
}

/* Queued and unacked TLPs of an ended session are dropped and counted. */
TEST_F(seg, session_end_drops_counted)
{
	run(self, 50 * MS);
	self->n[1].running = false;
	ASSERT_EQ(50, send_mwr(self, 0, 1, 50));
	run(self, 500 * MS);
	EXPECT_EQ(SOFTEE_PEER_DOWN, peer_of(self, 0, 1)->live->state);
	EXPECT_EQ(50, softee_transport_stats(self->n[0].t)->tlps_dropped);
	EXPECT_EQ(0, peer_of(self, 0, 1)->txq_tlps);
}

/* A node that restarts (new incarnation) is seen down and up; streams start over. */
TEST_F(seg, restart_new_incarnation)
{
	struct softee_peer *box;

	run(self, 50 * MS);
	ASSERT_EQ(10, send_mwr(self, 0, 1, 10));
	run(self, 1 * MS);
	ASSERT_EQ(10, self->n[1].rx_tlps);
	softee_transport_destroy(self->n[1].t);
	self->n[1] = (struct node){ 0 };
	node_start(_metadata, self, 1, 999);
	run(self, 150 * MS);
	box = peer_of(self, 0, 1);
	ASSERT_NE(NULL, box);
	EXPECT_EQ(SOFTEE_PEER_UP, box->live->state);
	EXPECT_EQ(1, self->n[0].downs);
	EXPECT_EQ(SOFTEE_DOWN_RESTART, self->n[0].last_reason);
	EXPECT_EQ(2, self->n[0].ups);
	ASSERT_EQ(7, send_mwr(self, 0, 1, 7));
	run(self, 5 * MS);
	EXPECT_EQ(7, self->n[1].rx_tlps);
}

TEST_HARNESS_MAIN
