// SPDX-License-Identifier: GPL-2.0
/*
 * The split layout's link wrapper (softee/netdev_split.h) around the
 * simulated segment: frames sent through it both ways at once arrive
 * complete, in order, none lost and none twice (10^5 each way, sizes up to
 * a full slot); with queues of 8 frames the owner meets a full TX queue
 * and the RX thread a full RX queue, and still nothing is lost; a link
 * that takes part of each burst, or nothing for a while, gets the rest
 * retried; errors of the link reach the owner once; close sends what is
 * queued, does not hang on a link that takes nothing, and closes the link;
 * the layout option parses.
 *
 * The simulated segment is not thread-safe (softee/sim.h), and the
 * wrapper's TX and RX threads use its port at once, beside the test's
 * thread on the other port: every port call goes through one lock here
 * ("tdev", below), as in poller_e2e_test.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include <softee/barrier.h>
#include <softee/netdev_split.h>
#include <softee/sim.h>
#include <softee/wait.h>

#define MS		1000000ULL
#define ST_ETHERTYPE	0x88b5
#define ST_HDR		(2 * SOFTEE_ETH_ALEN + 2 + 4)	/* MACs, EtherType, sequence */
#define ST_MTU		9000
#define ST_MAX_LEN	(ST_MTU + 18)

/* ---- a sim port behind a lock, with a link that can be made slow or broken ---- */

struct tdev {
	struct softee_netdev nd;
	struct softee_netdev *inner;
	pthread_mutex_t *mu;
	/* set by the test, read by the wrapper's threads */
	int max_take;		/* tx takes at most this many per call (0: all) */
	int refuse_every;	/* ... and nothing on every Nth call (0: never) */
	int refuse_all;		/* tx takes nothing */
	int fail_tx, fail_rx;	/* the next call returns -EIO */
	int closed;
	uint64_t calls;
};

static int td_tx(struct softee_netdev *nd, const struct softee_txframe *f, unsigned int n)
{
	struct tdev *t = nd->priv;
	int max = softee_read_once(&t->max_take), every = softee_read_once(&t->refuse_every), r;

	t->calls++;
	if (softee_read_once(&t->fail_tx)) {
		softee_write_once(&t->fail_tx, 0);
		return -EIO;
	}
	if (softee_read_once(&t->refuse_all) || (every && !(t->calls % every)))
		return 0;
	if (max && n > (unsigned int)max)
		n = max;
	pthread_mutex_lock(t->mu);
	r = softee_netdev_tx(t->inner, f, n);
	nd->stats.tx_frames = t->inner->stats.tx_frames;
	pthread_mutex_unlock(t->mu);
	return r;
}

static int td_rx(struct softee_netdev *nd, unsigned int max, uint32_t timeout_us,
		 softee_rx_fn fn, void *opaque)
{
	struct tdev *t = nd->priv;
	int r;

	(void)timeout_us;
	if (softee_read_once(&t->fail_rx)) {
		softee_write_once(&t->fail_rx, 0);
		return -EIO;
	}
	pthread_mutex_lock(t->mu);
	r = softee_netdev_rx(t->inner, max, 0, fn, opaque);
	nd->stats.rx_frames = t->inner->stats.rx_frames;
	pthread_mutex_unlock(t->mu);
	return r;
}

static void td_close(struct softee_netdev *nd)
{
	struct tdev *t = nd->priv;

	softee_store_release(&t->closed, 1);
}

static const struct softee_netdev_ops td_ops = {
	.name = "tdev", .tx_burst = td_tx, .rx_burst = td_rx, .close = td_close,
};

static void td_init(struct tdev *t, struct softee_netdev *inner, pthread_mutex_t *mu)
{
	memset(t, 0, sizeof(*t));
	t->inner = inner;
	t->mu = mu;
	t->nd.ops = &td_ops;
	t->nd.priv = t;
	t->nd.mtu = inner->mtu;
	memcpy(t->nd.mac, inner->mac, SOFTEE_ETH_ALEN);
}

/* ---- numbered frames --------------------------------------------------------------- */

/* Frame seq's length: mostly small, now and then a full slot. */
static uint32_t st_len(uint32_t seq)
{
	if (seq % 997 == 0)
		return ST_MAX_LEN;
	return 60 + (seq * 37) % 1400;
}

static void st_build(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint32_t seq)
{
	uint32_t len = st_len(seq), i;

	memcpy(buf, dst, SOFTEE_ETH_ALEN);
	memcpy(buf + SOFTEE_ETH_ALEN, src, SOFTEE_ETH_ALEN);
	buf[12] = ST_ETHERTYPE >> 8;
	buf[13] = ST_ETHERTYPE & 0xff;
	memcpy(buf + 14, &seq, 4);
	for (i = ST_HDR; i < len; i++)
		buf[i] = (uint8_t)(seq * 7 + i);
}

/* What one receiver saw. */
struct st_rx {
	uint32_t next;		/* the sequence number expected */
	uint64_t bad;		/* wrong length, content or order */
	uint32_t first_bad;
};

static void st_check(void *opaque, const uint8_t *f, uint32_t len)
{
	struct st_rx *r = opaque;
	uint32_t seq, i;
	bool ok;

	if (len < ST_HDR) {
		r->bad++;
		return;
	}
	memcpy(&seq, f + 14, 4);
	ok = seq == r->next && len == st_len(seq);
	for (i = ST_HDR; ok && i < len; i++)
		ok = f[i] == (uint8_t)(seq * 7 + i);
	if (!ok && !r->bad++)
		r->first_bad = seq;
	r->next = seq + 1;
}

/* ---- the fixture: sim port 0 (locked, slowable) wrapped; the test drives port 1 ---- */

FIXTURE(split) {
	pthread_mutex_t mu;
	struct softee_netdev *port[2];
	struct tdev td[2];
	struct softee_netdev *sp;		/* the wrapper around td[0] */
	uint8_t *buf;				/* 32 frames to send */
	struct softee_txframe txv[32];
};

FIXTURE_VARIANT(split) {
	uint32_t queue_frames;		/* 0: the default */
	int max_take, refuse_every;	/* the wrapped link's TX (td_tx) */
	bool spin;			/* the threads spin when idle (else they sleep) */
	uint32_t frames;		/* each way (0: ST_FRAMES) */
};

FIXTURE_VARIANT_ADD(split, default_queues) {
	.queue_frames = 0,
};

FIXTURE_VARIANT_ADD(split, tiny_queues) {
	.queue_frames = 8,
};

FIXTURE_VARIANT_ADD(split, choked_link) {
	.max_take = 3, .refuse_every = 4,
};

/* Three spinning threads on a 2-core machine are slow: fewer frames. */
FIXTURE_VARIANT_ADD(split, spinning) {
	.queue_frames = 64, .spin = true, .frames = 20000,
};

FIXTURE_SETUP(split)
{
	struct softee_sim_cfg sc = { .ports = 2, .mtu = ST_MTU, .queue_frames = 4096 };
	struct softee_split_conf c = { .queue_frames = variant->queue_frames };
	char err[256];
	int i;

	memset(self, 0, sizeof(*self));
	pthread_mutex_init(&self->mu, NULL);
	ASSERT_EQ(0, softee_sim_create(self->port, &sc));
	for (i = 0; i < 2; i++)
		td_init(&self->td[i], self->port[i], &self->mu);
	self->td[0].max_take = variant->max_take;
	self->td[0].refuse_every = variant->refuse_every;
	if (variant->spin)
		c.idle = (struct softee_wait)SOFTEE_WAIT_INIT(SOFTEE_WAIT_SPIN);
	ASSERT_EQ(0, softee_netdev_split(&self->td[0].nd, &c, &self->sp, err, sizeof(err)))
		TH_LOG("%s", err);
	self->buf = malloc(32 * (size_t)ST_MAX_LEN);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(split)
{
	int i;

	if (self->sp)
		softee_netdev_close(self->sp);
	for (i = 0; i < 2; i++)
		if (self->port[i])
			softee_netdev_close(self->port[i]);
	free(self->buf);
}

/* Send frames first..first+n-1 from nd to dst; returns how many nd took (or -errno). */
static int st_send(FIXTURE_DATA(split) *self, struct softee_netdev *nd, const uint8_t *dst,
		   uint32_t first, unsigned int n)
{
	unsigned int i;

	if (n > 32)
		n = 32;
	for (i = 0; i < n; i++) {
		uint8_t *b = self->buf + (size_t)i * ST_MAX_LEN;

		st_build(b, dst, nd->mac, first + i);
		self->txv[i].data = b;
		self->txv[i].len = st_len(first + i);
	}
	return softee_netdev_tx(nd, self->txv, n);
}

#define ST_FRAMES	100000
#define ST_WINDOW	2048	/* in flight each way: below the sim's 4096, so it drops none */

TEST_F_TIMEOUT(split, both_ways_in_order_none_lost, 120)
{
	struct softee_netdev *b = &self->td[1].nd;
	const uint32_t frames = variant->frames ? variant->frames : ST_FRAMES;
	struct st_rx at_b = { 0 }, at_a = { 0 };
	uint32_t tx_a = 0, tx_b = 0;
	uint64_t t0 = softee_now_ns(), end = t0 + 90000 * MS;
	struct softee_split_stats st;
	int r;

	EXPECT_TRUE(softee_netdev_is_split(self->sp));
	EXPECT_FALSE(softee_netdev_is_split(b));
	EXPECT_EQ(0, memcmp(self->sp->mac, self->port[0]->mac, SOFTEE_ETH_ALEN));
	EXPECT_EQ(ST_MTU, self->sp->mtu);
	EXPECT_FALSE(self->sp->blocking_rx);

	while ((at_b.next < frames || at_a.next < frames) && softee_now_ns() < end) {
		/* A -> B through the wrapper: it may take fewer (queue full); the rest again. */
		if (tx_a < frames && tx_a - at_b.next < ST_WINDOW) {
			r = st_send(self, self->sp, b->mac, tx_a, frames - tx_a);
			ASSERT_LE(0, r);
			tx_a += r;
		}
		softee_netdev_rx(b, 64, 0, st_check, &at_b);
		/* B -> A: the sim takes everything. */
		if (tx_b < frames && tx_b - at_a.next < ST_WINDOW) {
			r = st_send(self, b, self->sp->mac, tx_b, frames - tx_b);
			ASSERT_LE(0, r);
			tx_b += r;
		}
		r = softee_netdev_rx(self->sp, 64, 0, st_check, &at_a);
		ASSERT_LE(0, r);
	}
	ASSERT_EQ(0, softee_split_get_stats(self->sp, &st));
	TH_LOG("%u frames each way in %.0f ms; TX queue full %llu, partial bursts %llu, RX queue full %llu, sleeps TX %llu RX %llu",
	       frames, (softee_now_ns() - t0) / 1e6, (unsigned long long)st.tx_queue_full,
	       (unsigned long long)st.tx_partial, (unsigned long long)st.rx_queue_full,
	       (unsigned long long)st.tx_sleeps, (unsigned long long)st.rx_sleeps);
	EXPECT_EQ(0, at_b.bad) TH_LOG("A->B: first bad frame %u", at_b.first_bad);
	EXPECT_EQ(0, at_a.bad) TH_LOG("B->A: first bad frame %u", at_a.first_bad);
	EXPECT_EQ(frames, at_b.next);
	EXPECT_EQ(frames, at_a.next);
	/* Nothing more comes, nothing was dropped anywhere. */
	usleep(20000);
	EXPECT_EQ(0, softee_netdev_rx(b, 64, 0, st_check, &at_b));
	EXPECT_EQ(0, softee_netdev_rx(self->sp, 64, 0, st_check, &at_a));
	EXPECT_EQ(0, self->port[0]->stats.tx_dropped + self->port[1]->stats.tx_dropped);
	EXPECT_EQ(frames, st.tx_queued);
	EXPECT_EQ(frames, st.rx_queued);
	EXPECT_EQ(0, st.tx_dropped + st.rx_dropped + st.tx_errors + st.rx_errors);
	/* The wrapper's stats are the link's. */
	EXPECT_EQ(frames, self->sp->stats.tx_frames);
	EXPECT_EQ(frames, self->sp->stats.rx_frames);
	if (variant->queue_frames == 8) {
		/* The owner outran the TX thread, and the RX thread the owner. */
		EXPECT_LT(0, st.tx_queue_full);
		EXPECT_LT(0, st.rx_queue_full);
	}
	if (variant->max_take)
		EXPECT_LT(0, st.tx_partial);
	EXPECT_FALSE(st.tx_lcore || st.rx_lcore);
}

/* The owner stops reading: the RX thread stops at a full queue; nothing is lost. */
TEST_F_TIMEOUT(split, rx_queue_full_then_drained, 60)
{
	struct softee_netdev *b = &self->td[1].nd;
	struct softee_split_stats st;
	struct st_rx at_a = { 0 };
	uint32_t tx = 0, n = 3000;
	uint64_t end = softee_now_ns() + 30000 * MS;

	while (tx < n) {
		int r = st_send(self, b, self->sp->mac, tx, n - tx);

		ASSERT_LT(0, r);
		tx += r;
	}
	/* the RX thread fills the queue and stops (up to 10 s on a loaded machine) */
	if (n > (variant->queue_frames ? variant->queue_frames : SOFTEE_SPLIT_QUEUE_DEFAULT)) {
		uint64_t full_by = softee_now_ns() + 10000 * MS;

		do {
			usleep(1000);
			ASSERT_EQ(0, softee_split_get_stats(self->sp, &st));
		} while (!st.rx_queue_full && softee_now_ns() < full_by);
		EXPECT_LT(0, st.rx_queue_full);
		EXPECT_GT(n, st.rx_queued);
	}
	while (at_a.next < n && softee_now_ns() < end)
		softee_netdev_rx(self->sp, 64, 0, st_check, &at_a);
	EXPECT_EQ(n, at_a.next);
	EXPECT_EQ(0, at_a.bad);
	EXPECT_EQ(0, self->port[1]->stats.tx_dropped);
}

/* A link error reaches the owner once; the frames of that burst are counted, not hidden. */
TEST_F_TIMEOUT(split, link_errors_reported_once, 30)
{
	struct softee_netdev *b = &self->td[1].nd;
	struct softee_split_stats st;
	struct st_rx sink = { 0 };
	uint64_t end;
	int r, errs = 0;

	softee_write_once(&self->td[0].fail_tx, 1);
	ASSERT_LT(0, st_send(self, self->sp, b->mac, 0, 4));
	end = softee_now_ns() + 5000 * MS;
	do {
		r = st_send(self, self->sp, b->mac, 100, 1);
		if (r == -EIO)
			errs++;
		else
			ASSERT_LE(0, r);
		softee_netdev_rx(b, 64, 0, st_check, &sink);
		usleep(1000);
	} while (!errs && softee_now_ns() < end);
	EXPECT_EQ(1, errs);
	usleep(20000);
	EXPECT_LE(0, st_send(self, self->sp, b->mac, 200, 1));	/* once only */
	ASSERT_EQ(0, softee_split_get_stats(self->sp, &st));
	EXPECT_EQ(1, st.tx_errors);
	EXPECT_LE(1, st.tx_dropped);
	EXPECT_LE(1, self->sp->stats.tx_dropped);

	softee_write_once(&self->td[0].fail_rx, 1);
	end = softee_now_ns() + 5000 * MS;
	errs = 0;
	do {
		r = softee_netdev_rx(self->sp, 64, 0, st_check, &sink);
		if (r == -EIO)
			errs++;
		usleep(1000);
	} while (!errs && softee_now_ns() < end);
	EXPECT_EQ(1, errs);
	EXPECT_LE(0, softee_netdev_rx(self->sp, 64, 0, st_check, &sink));
	ASSERT_EQ(0, softee_split_get_stats(self->sp, &st));
	EXPECT_EQ(1, st.rx_errors);
}

/* Close sends what is queued, then closes the wrapped link. */
TEST_F_TIMEOUT(split, close_sends_what_is_queued, 30)
{
	struct softee_netdev *b = &self->td[1].nd;
	struct st_rx at_b = { 0 };
	uint32_t tx = 0;
	uint64_t t0;
	int r;

	/* Slow the link down so that frames are still queued when close comes. */
	softee_write_once(&self->td[0].max_take, 1);
	while (tx < 300) {
		r = st_send(self, self->sp, b->mac, tx, 300 - tx);
		ASSERT_LE(0, r);
		tx += r;
	}
	t0 = softee_now_ns();
	softee_netdev_close(self->sp);
	self->sp = NULL;
	TH_LOG("close took %.2f ms", (softee_now_ns() - t0) / 1e6);
	EXPECT_TRUE(softee_load_acquire(&self->td[0].closed));
	while (softee_netdev_rx(b, 64, 0, st_check, &at_b) > 0)
		;
	EXPECT_EQ(tx, at_b.next);
	EXPECT_EQ(0, at_b.bad);
}

/* Close does not hang on a link that takes nothing, nor while both ways are busy. */
TEST_F_TIMEOUT(split, close_while_busy_does_not_hang, 30)
{
	struct softee_netdev *b = &self->td[1].nd;
	uint64_t t0;
	int i;

	/* Both ways busy, nobody reading; then the link stops taking anything. */
	for (i = 0; i < 200; i++) {
		st_send(self, self->sp, b->mac, (uint32_t)i * 32, 32);
		st_send(self, b, self->sp->mac, (uint32_t)i * 32, 32);
	}
	softee_write_once(&self->td[0].refuse_all, 1);
	for (i = 0; i < 100; i++)
		st_send(self, self->sp, b->mac, 0, 32);
	t0 = softee_now_ns();
	softee_netdev_close(self->sp);
	self->sp = NULL;
	/* The TX thread gives the queue SOFTEE_SPLIT_DRAIN_NS, no more. */
	EXPECT_GT(SOFTEE_SPLIT_DRAIN_NS + 500 * MS, softee_now_ns() - t0);
	EXPECT_TRUE(softee_load_acquire(&self->td[0].closed));
	TH_LOG("close took %.2f ms", (softee_now_ns() - t0) / 1e6);
}

/* ---- without the fixture -------------------------------------------------------- */

TEST(layout_option)
{
	struct softee_split_conf c = { .tx_cpu = 9, .rx_cpu = 9 };
	char err[128];
	bool split = true;

	EXPECT_EQ(0, softee_split_parse("rtc", &split, &c, err, sizeof(err)));
	EXPECT_FALSE(split);
	EXPECT_EQ(0, softee_split_parse("split", &split, &c, err, sizeof(err)));
	EXPECT_TRUE(split);
	EXPECT_EQ(0, c.tx_cpu);
	EXPECT_EQ(0, c.rx_cpu);
	EXPECT_EQ(0, softee_split_parse("split:0,1", &split, &c, err, sizeof(err)));
	EXPECT_EQ(1, c.tx_cpu);
	EXPECT_EQ(2, c.rx_cpu);
	EXPECT_EQ(0, softee_split_parse("split:3,3", &split, &c, err, sizeof(err)));
	EXPECT_EQ(4, c.tx_cpu);
	EXPECT_EQ(4, c.rx_cpu);
	static const char *const bad[] = {
		"", "RTC", "splitx", "split:", "split:1", "split:1,", "split:,1", "split:a,b",
		"split:1,2,3", "split:-1,0", "split:1024,0", "split:0,99999999999",
	};
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		EXPECT_EQ(-EINVAL, softee_split_parse(bad[i], &split, &c, err, sizeof(err)))
			TH_LOG("'%s' taken", bad[i]);
		EXPECT_NE(0, err[0]);
	}
}

TEST(bad_conf_leaves_the_link_to_the_caller)
{
	struct softee_netdev *port[2], *sp = NULL;
	struct softee_split_conf c = { 0 };
	char err[256];
	cpu_set_t mine;
	int cpu;

	ASSERT_EQ(0, softee_sim_create(port, NULL));
	c.queue_frames = 100;
	EXPECT_EQ(-EINVAL, softee_netdev_split(port[0], &c, &sp, err, sizeof(err)));
	c.queue_frames = 0;
	c.burst = 1000;
	EXPECT_EQ(-EINVAL, softee_netdev_split(port[0], &c, &sp, err, sizeof(err)));
	c.burst = 0;
	/* A CPU we may not run on: the thread cannot start. */
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(mine), &mine));
	for (cpu = 1023; cpu > 0 && CPU_ISSET(cpu, &mine); cpu--)
		;
	c.tx_cpu = cpu + 1;
	EXPECT_GT(0, softee_netdev_split(port[0], &c, &sp, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "CPU")) TH_LOG("%s", err);
	EXPECT_EQ(NULL, sp);
	/* The link is still the caller's, and works. */
	EXPECT_EQ(0, softee_netdev_split(port[0], NULL, &sp, err, sizeof(err)));
	softee_netdev_close(sp);	/* closes port[0] */
	softee_netdev_close(port[1]);
}

TEST_HARNESS_MAIN
