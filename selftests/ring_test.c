// SPDX-License-Identifier: GPL-2.0
/*
 * The user-space ring library (user/lib/ring.c) without the module: its
 * layout matches the module's, the consumer refuses a broken ring, and the
 * user-space producer keeps the module's semantics (posted writes, reads
 * waited for, all ones at a timeout or a bad status, a broken ring turned
 * off), with producer and consumer in two threads under every wait mode.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "kselftest_harness.h"

#include <softee/barrier.h>
#include <softee/ring.h>
#include <softee/wait.h>

#define RT_ENTRIES	16
#define RT_MS		1000000ULL

static const struct softee_wait rt_spin = SOFTEE_WAIT_INIT(SOFTEE_WAIT_SPIN);

static struct softee_access rt_access(uint8_t op, uint64_t k)
{
	struct softee_access a = {
		.op = op,
		.bus = SOFTEE_BUS_MMIO,
		.len = 8,
		.region = 3,
		.vcpu = 1,
		.addr = 0xc0000000 + 8 * (k % 64),
		.offset = 8 * (k % 64),
		.data = k * 0x9e3779b97f4a7c15ULL,
	};
	return a;
}

TEST(layout)
{
	struct softee_ring_offsets off;

	ASSERT_EQ(4096, softee_ring_bytes(SOFTEE_RING_MIN_ENTRIES));
	ASSERT_EQ(20480, softee_ring_bytes(256));
	softee_ring_layout(&off, 256);
	ASSERT_EQ(0, off.prod);
	ASSERT_EQ(4, off.flags);
	ASSERT_EQ(64, off.cons);
	ASSERT_EQ(128, off.entries);
	ASSERT_EQ(256, off.ring_entries);
	ASSERT_EQ(255, off.ring_mask);
	ASSERT_EQ(64, off.entry_size);
}

TEST(init_refuses_bad_offsets)
{
	static char mem[8192] __attribute__((aligned(64)));
	struct softee_ring_offsets good, bad;
	struct softee_ring r;

	softee_ring_layout(&good, 64);
	ASSERT_EQ(0, softee_ring_init(&r, mem, sizeof(mem), &good));
	ASSERT_EQ(-EINVAL, softee_ring_init(&r, NULL, sizeof(mem), &good));
	ASSERT_EQ(-EINVAL, softee_ring_init(&r, mem, 128 + 64 * 64 - 1, &good));
	bad = good; bad.entry_size = 32;
	ASSERT_EQ(-EINVAL, softee_ring_init(&r, mem, sizeof(mem), &bad));
	bad = good; bad.ring_entries = 48; bad.ring_mask = 47;
	ASSERT_EQ(-EINVAL, softee_ring_init(&r, mem, sizeof(mem), &bad));
	bad = good; bad.ring_mask = 31;
	ASSERT_EQ(-EINVAL, softee_ring_init(&r, mem, sizeof(mem), &bad));
	bad = good; bad.ring_entries = 4; bad.ring_mask = 3;
	ASSERT_EQ(-EINVAL, softee_ring_init(&r, mem, sizeof(mem), &bad));
	bad = good; bad.entries = 96;
	ASSERT_EQ(-EINVAL, softee_ring_init(&r, mem, sizeof(mem), &bad));
	bad = good; bad.cons = 130;
	ASSERT_EQ(-EINVAL, softee_ring_init(&r, mem, sizeof(mem), &bad));
	bad = good; bad.cons = 126;	/* runs into the entries */
	ASSERT_EQ(-EINVAL, softee_ring_init(&r, mem, sizeof(mem), &bad));
	bad = good; bad.flags = bad.prod;
	ASSERT_EQ(-EINVAL, softee_ring_init(&r, mem, sizeof(mem), &bad));
	ASSERT_EQ(-EINVAL, softee_ring_alloc(&r, 100));
	ASSERT_EQ(-EINVAL, softee_ring_alloc(&r, SOFTEE_RING_MAX_ENTRIES * 2));
}

TEST(publish_and_consume)
{
	struct softee_ring_entry *e;
	struct softee_access a;
	struct softee_ring r;
	uint32_t seq, i;

	ASSERT_EQ(0, softee_ring_alloc(&r, RT_ENTRIES));
	ASSERT_EQ(0, softee_ring_peek(&r));
	for (i = 0; i < 3; i++) {
		a = rt_access(SOFTEE_OP_WRITE, i);
		ASSERT_EQ(0, softee_ring_space(&r, &rt_spin, RT_MS, &(struct softee_counters){ 0 }));
		seq = softee_ring_publish(&r, &a);
		ASSERT_EQ(i, seq);
	}
	ASSERT_EQ(3, softee_load_acquire(r.prod));
	ASSERT_EQ(3, softee_ring_peek(&r));
	for (i = 0; i < 3; i++) {
		e = softee_ring_entry(&r, i);
		a = rt_access(SOFTEE_OP_WRITE, i);
		ASSERT_EQ(i, e->seq);
		ASSERT_EQ(~i, e->done);
		ASSERT_EQ(SOFTEE_OP_WRITE, e->op);
		ASSERT_EQ(a.addr, e->addr);
		ASSERT_EQ(a.offset, e->offset);
		ASSERT_EQ(a.data, e->data);
		ASSERT_EQ(3, e->region);
		ASSERT_EQ(1, e->vcpu);
		ASSERT_NE(0, e->time_ns);
	}
	softee_ring_consume(&r, 3);
	ASSERT_EQ(3, softee_load_acquire(r.cons));
	ASSERT_EQ(0, softee_ring_peek(&r));
	softee_ring_free(&r);
}

TEST(consumer_refuses_broken_ring)
{
	struct softee_ring r;

	ASSERT_EQ(0, softee_ring_alloc(&r, RT_ENTRIES));
	softee_store_release(r.prod, RT_ENTRIES + 1);	/* prod - cons > entries */
	ASSERT_EQ(-EUCLEAN, softee_ring_peek(&r));
	ASSERT_EQ(-EUCLEAN, softee_ring_peek(&r));
	softee_store_release(r.prod, 0);
	softee_fetch_or(r.flags, SOFTEE_RING_F_DEAD);
	ASSERT_EQ(-EPIPE, softee_ring_peek(&r));
	softee_fetch_or(r.flags, SOFTEE_RING_F_CORRUPT);
	ASSERT_EQ(-EUCLEAN, softee_ring_peek(&r));
	softee_ring_free(&r);
}

TEST(producer_turns_off_a_broken_ring)
{
	struct softee_counters c = { 0 };
	struct softee_access a = rt_access(SOFTEE_OP_WRITE, 0);
	struct softee_ring r;
	uint64_t data;

	ASSERT_EQ(0, softee_ring_alloc(&r, RT_ENTRIES));
	/* A hostile consumer moves cons ahead of prod. */
	softee_store_release(r.cons, 5);
	ASSERT_EQ(-EUCLEAN, softee_ring_trap(&r, &a, &rt_spin, RT_MS, &c, &data));
	ASSERT_EQ(1, c.corrupt);
	ASSERT_EQ(1, c.drops);
	ASSERT_TRUE(softee_read_once(r.flags) & SOFTEE_RING_F_CORRUPT);
	/* Off for good, even once cons looks sane again. */
	softee_store_release(r.cons, 0);
	a.op = SOFTEE_OP_READ;
	ASSERT_EQ(-EUCLEAN, softee_ring_trap(&r, &a, &rt_spin, RT_MS, &c, &data));
	ASSERT_EQ(~0ULL, data);
	ASSERT_EQ(1, c.aborted);
	ASSERT_EQ(1, c.corrupt);
	ASSERT_EQ(0, softee_load_acquire(r.prod));
	softee_ring_free(&r);
}

TEST(full_ring_times_out)
{
	struct softee_counters c = { 0 };
	struct softee_access a;
	struct softee_ring r;
	uint64_t data, t0;
	uint32_t i;

	ASSERT_EQ(0, softee_ring_alloc(&r, SOFTEE_RING_MIN_ENTRIES));
	for (i = 0; i < SOFTEE_RING_MIN_ENTRIES; i++) {
		a = rt_access(SOFTEE_OP_WRITE, i);
		ASSERT_EQ(0, softee_ring_trap(&r, &a, &rt_spin, RT_MS, &c, &data));
	}
	ASSERT_EQ(SOFTEE_RING_MIN_ENTRIES, c.writes);
	ASSERT_EQ(0, c.ring_full);
	t0 = softee_now_ns();
	ASSERT_EQ(-ETIMEDOUT, softee_ring_trap(&r, &a, &rt_spin, 2 * RT_MS, &c, &data));
	ASSERT_GE(softee_now_ns() - t0, 2 * RT_MS);
	ASSERT_EQ(1, c.ring_full);
	ASSERT_EQ(1, c.drops);
	a.op = SOFTEE_OP_READ;
	ASSERT_EQ(-ETIMEDOUT, softee_ring_trap(&r, &a, &rt_spin, RT_MS, &c, &data));
	ASSERT_EQ(~0ULL, data);
	ASSERT_EQ(2, c.ring_full);
	ASSERT_EQ(1, c.timeouts);
	ASSERT_EQ(SOFTEE_RING_MIN_ENTRIES, c.writes);
	/* One retired entry makes room again. */
	ASSERT_EQ(SOFTEE_RING_MIN_ENTRIES, softee_ring_peek(&r));
	softee_ring_consume(&r, 1);
	a.op = SOFTEE_OP_WRITE;
	ASSERT_EQ(0, softee_ring_trap(&r, &a, &rt_spin, RT_MS, &c, &data));
	softee_ring_free(&r);
}

TEST(read_without_answer_gives_all_ones)
{
	struct softee_counters c = { 0 };
	struct softee_access a = rt_access(SOFTEE_OP_READ, 1);
	struct softee_ring r;
	uint64_t data = 0;

	ASSERT_EQ(0, softee_ring_alloc(&r, RT_ENTRIES));
	ASSERT_EQ(-ETIMEDOUT, softee_ring_trap(&r, &a, &rt_spin, RT_MS, &c, &data));
	ASSERT_EQ(~0ULL, data);
	ASSERT_EQ(1, c.reads);
	ASSERT_EQ(1, c.timeouts);
	ASSERT_EQ(0, c.completions);
	/* The entry stays queued: a late answer is harmless. */
	ASSERT_EQ(1, softee_ring_peek(&r));
	softee_ring_complete(softee_ring_entry(&r, 0), 42, 0);
	softee_ring_consume(&r, 1);
	softee_ring_free(&r);
}

/* ---- two threads ---------------------------------------------------------- */

#define RT_N		20000
#define RT_BAD_EVERY	97	/* reads answered with a bad status */

struct rt_pair {
	struct softee_ring r;
	const struct softee_wait *wait;
	int stop;
	uint64_t seen;
	uint64_t wrong;
};

static int rt_answer(struct softee_ring *r, struct softee_ring_entry *e, void *opaque)
{
	struct rt_pair *p = opaque;
	struct softee_access want = rt_access(e->seq % 3 ? SOFTEE_OP_WRITE : SOFTEE_OP_READ,
					      p->seen);

	(void)r;
	if (e->seq != p->seen || e->op != want.op || e->addr != want.addr ||
	    (e->op == SOFTEE_OP_WRITE && e->data != want.data))
		p->wrong++;
	if (e->op == SOFTEE_OP_READ)
		softee_ring_complete(e, ~want.data, e->seq % RT_BAD_EVERY == 0);
	p->seen++;
	return 0;
}

static void *rt_consumer(void *arg)
{
	struct rt_pair *p = arg;
	struct softee_waiter w;
	int n;

	softee_waiter_start(&w, p->wait, SOFTEE_WAIT_FOREVER);
	while (!softee_load_acquire(&p->stop) || softee_ring_peek(&p->r) > 0) {
		n = softee_ring_poll(&p->r, 0, rt_answer, p);
		if (n < 0)
			break;
		if (!n)
			softee_waiter_step(&w);
		else
			softee_waiter_start(&w, p->wait, SOFTEE_WAIT_FOREVER);
	}
	return NULL;
}

FIXTURE(pair) {
	struct rt_pair p;
	struct softee_wait wait;
};

FIXTURE_VARIANT(pair) {
	enum softee_wait_mode mode;
};

FIXTURE_VARIANT_ADD(pair, spin) { .mode = SOFTEE_WAIT_SPIN };
FIXTURE_VARIANT_ADD(pair, yield) { .mode = SOFTEE_WAIT_YIELD };
FIXTURE_VARIANT_ADD(pair, sleep) { .mode = SOFTEE_WAIT_SLEEP };

FIXTURE_SETUP(pair)
{
	memset(&self->p, 0, sizeof(self->p));
	self->wait = (struct softee_wait)SOFTEE_WAIT_INIT(variant->mode);
	self->p.wait = &self->wait;
	ASSERT_EQ(0, softee_ring_alloc(&self->p.r, RT_ENTRIES));
}

FIXTURE_TEARDOWN(pair)
{
	softee_ring_free(&self->p.r);
}

/* Writes in order with their data, reads answered, bad status = all ones. */
TEST_F(pair, producer_and_consumer)
{
	struct softee_counters c = { 0 };
	struct softee_access a;
	uint64_t k, data, bad = 0;
	pthread_t t;
	int ret;

	ASSERT_EQ(0, pthread_create(&t, NULL, rt_consumer, &self->p));
	for (k = 0; k < RT_N; k++) {
		a = rt_access(k % 3 ? SOFTEE_OP_WRITE : SOFTEE_OP_READ, k);
		/* A second is far beyond any scheduling delay. */
		ret = softee_ring_trap(&self->p.r, &a, &self->wait, 1000 * RT_MS, &c, &data);
		if (a.op == SOFTEE_OP_WRITE) {
			ASSERT_EQ(0, ret);
			continue;
		}
		if (k % RT_BAD_EVERY == 0) {
			ASSERT_EQ(-EIO, ret);
			ASSERT_EQ(~0ULL, data);
			bad++;
		} else {
			ASSERT_EQ(0, ret);
			ASSERT_EQ(~a.data, data);
		}
	}
	softee_store_release(&self->p.stop, 1);
	pthread_join(t, NULL);
	ASSERT_EQ(RT_N, self->p.seen);
	ASSERT_EQ(0, self->p.wrong);
	ASSERT_EQ(RT_N - (RT_N + 2) / 3, c.writes);
	ASSERT_EQ((RT_N + 2) / 3, c.reads);
	ASSERT_EQ(c.reads, c.completions);
	ASSERT_EQ(bad, c.errors);
	ASSERT_EQ(0, c.timeouts);
	ASSERT_EQ(0, c.drops);
	ASSERT_EQ(0, c.corrupt);
}

TEST(wait_parse)
{
	struct softee_wait w;

	ASSERT_EQ(0, softee_wait_parse("spin", &w));
	ASSERT_EQ(SOFTEE_WAIT_SPIN, w.mode);
	ASSERT_EQ(0, softee_wait_parse("yield", &w));
	ASSERT_EQ(SOFTEE_WAIT_YIELD, w.mode);
	ASSERT_EQ(0, softee_wait_parse("sleep", &w));
	ASSERT_EQ(SOFTEE_WAIT_SLEEP, w.mode);
	ASSERT_EQ(-EINVAL, softee_wait_parse("busy", &w));
	ASSERT_STREQ("sleep", softee_wait_name(SOFTEE_WAIT_SLEEP));
}

TEST(waiter_times_out)
{
	const struct softee_wait modes[] = {
		SOFTEE_WAIT_INIT(SOFTEE_WAIT_SPIN),
		SOFTEE_WAIT_INIT(SOFTEE_WAIT_YIELD),
		SOFTEE_WAIT_INIT(SOFTEE_WAIT_SLEEP),
	};
	struct softee_waiter w;
	uint64_t t0, dt;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		t0 = softee_now_ns();
		softee_waiter_start(&w, &modes[i], 3 * RT_MS);
		while (softee_waiter_step(&w))
			;
		dt = softee_now_ns() - t0;
		ASSERT_GE(dt, 3 * RT_MS);
		ASSERT_LT(dt, 1000 * RT_MS);
	}
}

TEST_HARNESS_MAIN
