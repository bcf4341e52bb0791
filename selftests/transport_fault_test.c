// SPDX-License-Identifier: GPL-2.0
/*
 * The fault injector (softee/fault.h) keeps its two promises:
 *
 *  - the same seed and the same calls give the same faults: 10^5 frames
 *    through two injectors with one seed meet the same fate each (dropped,
 *    sent once or twice, which bytes and bits flipped, when and in what
 *    order it went out: reordered and delayed frames go out late), and
 *    another seed gives other fates;
 *  - each fault at its own rate: with one rate at 5% and then all five,
 *    each counter over 10^5 frames is within 5 sigma of the binomial
 *    expectation, and the faults not enabled count 0.
 *
 * The injector wraps a recorder (a netdev of this file) that works out
 * which frame each one it is given is, from the frame's bytes, and notes
 * what became of it.  Time is simulated.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include <softee/fault.h>
#include <softee/prng.h>

#define NFRAMES		100000u
#define FRAME_LEN	64
#define BITS_MAX	3		/* corrupt_bits_max of the determinism test */
#define MAX_COPIES	2

#define note(...) do { ksft_print_msg(__VA_ARGS__); fflush(stdout); } while (0)

/* Where a frame carries its number (four times: flips cannot hide it). */
static const unsigned int id_at[] = { 14, 26, 38, 50 };

/* Frame id: an Ethernet header, its number, the rest derived from it. */
static void gen(uint32_t id, uint8_t *p)
{
	uint64_t x = (uint64_t)id << 8, v = 0;
	unsigned int i;

	for (i = 0; i < FRAME_LEN; i++) {
		if (!(i % 8))
			v = softee_splitmix64(&x);
		p[i] = (uint8_t)(v >> (i % 8 * 8));
	}
	memset(p, 0xff, 6);
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x01", 6);
	p[12] = 0x88;
	p[13] = 0xb6;
	for (i = 0; i < sizeof(id_at) / sizeof(id_at[0]); i++) {
		p[id_at[i]] = (uint8_t)id;
		p[id_at[i] + 1] = (uint8_t)(id >> 8);
		p[id_at[i] + 2] = (uint8_t)(id >> 16);
		p[id_at[i] + 3] = (uint8_t)(id >> 24);
	}
}

/* One copy of a frame as it went out. */
struct copy {
	uint64_t bytes;		/* bit i: byte i differs from the frame sent */
	uint64_t flips;		/* which bits: FNV-1a of the XOR with the frame sent */
	uint32_t call;		/* the send (burst) during which it went out */
	uint32_t ord;		/* its place among all frames out */
};

struct fate {
	uint32_t copies;	/* 0: dropped; 2: duplicated */
	struct copy c[MAX_COPIES];
};

/* The recorder: the netdev the injector sends into. */
struct rec {
	struct softee_netdev nd;
	struct fate *fate;	/* NFRAMES */
	uint32_t call;		/* the send now under way (the test sets it) */
	uint32_t out;		/* frames given to it */
	uint32_t unknown;	/* frames it could not tell */
	uint32_t changed;	/* copies with a byte changed */
};

static int identify(const uint8_t *p, uint32_t len, uint8_t *orig)
{
	unsigned int i, j, d;
	uint32_t id;

	if (len != FRAME_LEN)
		return -1;
	for (i = 0; i < sizeof(id_at) / sizeof(id_at[0]); i++) {
		id = p[id_at[i]] | p[id_at[i] + 1] << 8 | p[id_at[i] + 2] << 16 |
		     (uint32_t)p[id_at[i] + 3] << 24;
		if (id >= NFRAMES)
			continue;
		gen(id, orig);
		for (j = 0, d = 0; j < FRAME_LEN; j++)
			d += __builtin_popcount(p[j] ^ orig[j]);
		if (d <= BITS_MAX)
			return (int)id;
	}
	return -1;
}

static int rec_tx(struct softee_netdev *nd, const struct softee_txframe *fr, unsigned int n)
{
	struct rec *r = nd->priv;
	uint8_t orig[FRAME_LEN];
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		int id = identify(fr[i].data, fr[i].len, orig);
		struct fate *f;
		struct copy *c;
		uint64_t h = 0xcbf29ce484222325ULL;

		r->out++;
		if (id < 0) {
			r->unknown++;
			continue;
		}
		f = &r->fate[id];
		if (f->copies++ >= MAX_COPIES)
			continue;
		c = &f->c[f->copies - 1];
		for (j = 0; j < FRAME_LEN; j++) {
			uint8_t x = fr[i].data[j] ^ orig[j];

			if (x)
				c->bytes |= 1ULL << j;
			h = (h ^ x) * 0x100000001b3ULL;
		}
		c->flips = c->bytes ? h : 0;
		c->call = r->call;
		c->ord = r->out;
		r->changed += !!c->bytes;
	}
	nd->stats.tx_frames += n;
	return n;
}

static int rec_rx(struct softee_netdev *nd, unsigned int max, uint32_t timeout_us,
		  softee_rx_fn fn, void *opaque)
{
	(void)nd, (void)max, (void)timeout_us, (void)fn, (void)opaque;
	return 0;
}

static void rec_close(struct softee_netdev *nd)
{
	(void)nd;
}

static const struct softee_netdev_ops rec_ops = {
	.name = "recorder",
	.tx_burst = rec_tx,
	.rx_burst = rec_rx,
	.close = rec_close,
};

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->nd.ops = &rec_ops;
	r->nd.mtu = 1500;
	r->nd.priv = r;
	r->fate = calloc(NFRAMES, sizeof(*r->fate));
}

static void rx_none(void *opaque, const uint8_t *frame, uint32_t len)
{
	(void)opaque, (void)frame, (void)len;
}

/*
 * Send the NFRAMES frames through each injector alike, in bursts of 1 to
 * 80 (more than the injector's own batch of 64), 20 us of simulated time
 * apart, a receive call every third burst (it releases what is due too);
 * then flush.  Returns false if an injector did not take a whole burst.
 */
static bool drive(struct softee_netdev **inj, struct rec **r, unsigned int n, uint64_t *now)
{
	static struct softee_txframe tx[NFRAMES];
	static uint8_t buf[NFRAMES][FRAME_LEN];
	uint32_t i = 0, k, b;
	unsigned int j;

	for (i = 0; i < NFRAMES; i++) {
		gen(i, buf[i]);
		tx[i].data = buf[i];
		tx[i].len = FRAME_LEN;
	}
	for (i = 0, k = 0; i < NFRAMES; i += b, k++) {
		b = 1 + (k * 37) % 80;
		if (b > NFRAMES - i)
			b = NFRAMES - i;
		for (j = 0; j < n; j++) {
			r[j]->call = k;
			if (softee_netdev_tx(inj[j], tx + i, b) != (int)b)
				return false;
			if (k % 3 == 2)
				softee_netdev_rx(inj[j], 64, 0, rx_none, NULL);
		}
		*now += 20000;
	}
	for (j = 0; j < n; j++) {
		r[j]->call = k;
		softee_fault_flush(inj[j]);
	}
	return true;
}

/* What the recorder saw agrees with the injector's counters. */
static void check_fates(struct __test_metadata *_metadata, const struct rec *r,
			const struct softee_fault_stats *st, bool one_bit)
{
	uint64_t none = 0, two = 0, more = 0;
	uint32_t i;

	EXPECT_EQ(0, r->unknown);
	EXPECT_EQ(NFRAMES, st->frames);
	EXPECT_EQ(0, st->inner_refused);
	EXPECT_EQ(st->reordered + st->delayed, st->released);
	EXPECT_EQ(st->frames - st->dropped + st->duplicated, r->out);
	for (i = 0; i < NFRAMES; i++) {
		none += r->fate[i].copies == 0;
		two += r->fate[i].copies == 2;
		more += r->fate[i].copies > 2;
	}
	EXPECT_EQ(st->dropped, none);
	EXPECT_EQ(st->duplicated, two);
	EXPECT_EQ(0, more);
	/* a bit flipped twice undoes itself: with one bit each, every one shows */
	if (one_bit) {
		EXPECT_EQ(st->corrupted, r->changed);
	} else {
		EXPECT_GE(st->corrupted, r->changed);
	}
}

static bool same_fate(const struct fate *a, const struct fate *b)
{
	unsigned int i;

	if (a->copies != b->copies)
		return false;
	for (i = 0; i < a->copies && i < MAX_COPIES; i++)
		if (a->c[i].bytes != b->c[i].bytes || a->c[i].flips != b->c[i].flips ||
		    a->c[i].call != b->c[i].call || a->c[i].ord != b->c[i].ord)
			return false;
	return true;
}

/* Copies that went out after the next frame's first copy: held back (reordered or delayed). */
static uint32_t late_copies(const struct rec *r)
{
	uint32_t i, n = 0;
	unsigned int c;

	for (i = 0; i < NFRAMES; i++)
		for (c = 0; c < r->fate[i].copies && c < MAX_COPIES; c++)
			n += i + 1 < NFRAMES && r->fate[i + 1].copies &&
			     r->fate[i].c[c].ord > r->fate[i + 1].c[0].ord;
	return n;
}

TEST(same_seed_same_fates)
{
	uint64_t now = 1000000000;
	struct softee_fault_cfg fc = {
		.seed = 0x5eed, .drop_ppm = 50000, .dup_ppm = 50000, .corrupt_ppm = 50000,
		.reorder_ppm = 50000, .delay_ppm = 50000, .corrupt_bits_max = BITS_MAX,
		.delay_min_ns = 50000, .delay_max_ns = 150000, .clock = &now,
	};
	static struct rec ra, rb, rc;
	struct rec *r[3] = { &ra, &rb, &rc };
	struct softee_netdev *inj[3];
	const struct softee_fault_stats *sa, *sb, *sc;
	uint32_t i, diff = 0, dropped_diff = 0, first = NFRAMES;
	unsigned int j;

	for (j = 0; j < 3; j++) {
		rec_init(r[j]);
		ASSERT_NE(NULL, r[j]->fate);
		if (j == 2)
			fc.seed = 0x5eee;
		ASSERT_EQ(0, softee_fault_create(&inj[j], &r[j]->nd, &fc));
	}
	ASSERT_TRUE(drive(inj, r, 3, &now));
	sa = softee_fault_stats(inj[0]);
	sb = softee_fault_stats(inj[1]);
	sc = softee_fault_stats(inj[2]);
	note("seed A, B: drop %lu dup %lu corrupt %lu reorder %lu delay %lu; C: drop %lu dup %lu corrupt %lu reorder %lu delay %lu\n",
		       (unsigned long)sa->dropped, (unsigned long)sa->duplicated,
		       (unsigned long)sa->corrupted, (unsigned long)sa->reordered,
		       (unsigned long)sa->delayed, (unsigned long)sc->dropped,
		       (unsigned long)sc->duplicated, (unsigned long)sc->corrupted,
		       (unsigned long)sc->reordered, (unsigned long)sc->delayed);
	for (j = 0; j < 3; j++)
		check_fates(_metadata, r[j], softee_fault_stats(inj[j]), false);

	/* every kind of fate happened, so that the comparison means something */
	EXPECT_LT(1000, sa->dropped);
	EXPECT_LT(1000, sa->duplicated);
	EXPECT_LT(1000, ra.changed);
	EXPECT_LT(1000, sa->reordered);
	EXPECT_LT(1000, sa->delayed);
	EXPECT_LT(1000, late_copies(&ra));

	/* same seed: the same fate for every frame, the same counts */
	for (i = 0; i < NFRAMES; i++)
		if (!same_fate(&ra.fate[i], &rb.fate[i])) {
			diff++;
			if (first == NFRAMES)
				first = i;
		}
	EXPECT_EQ(0, diff) TH_LOG("%u frames met another fate, the first %u", diff, first);
	EXPECT_EQ(0, memcmp(sa, sb, sizeof(*sa)));
	EXPECT_EQ(ra.out, rb.out);

	/* another seed: other fates (about a third of the frames differ) */
	for (i = 0, diff = 0; i < NFRAMES; i++) {
		diff += !same_fate(&ra.fate[i], &rc.fate[i]);
		dropped_diff += !ra.fate[i].copies != !rc.fate[i].copies;
	}
	EXPECT_LT(NFRAMES / 10, diff);
	EXPECT_LT(NFRAMES / 20, dropped_diff);

	for (j = 0; j < 3; j++) {
		softee_netdev_close(inj[j]);
		free(r[j]->fate);
	}
}

/* ---- each fault at its rate ----------------------------------------------- */

FIXTURE(rates) {
	int unused;
};

FIXTURE_VARIANT(rates) {
	uint64_t seed;		/* each its own: the draws of one are not another's */
	uint32_t drop, dup, corrupt, reorder, delay;
};

FIXTURE_VARIANT_ADD(rates, drop) { .seed = 1, .drop = 50000 };
FIXTURE_VARIANT_ADD(rates, dup) { .seed = 2, .dup = 50000 };
FIXTURE_VARIANT_ADD(rates, corrupt) { .seed = 3, .corrupt = 50000 };
FIXTURE_VARIANT_ADD(rates, reorder) { .seed = 4, .reorder = 50000 };
FIXTURE_VARIANT_ADD(rates, delay) { .seed = 5, .delay = 50000 };
FIXTURE_VARIANT_ADD(rates, all) {
	.seed = 6, .drop = 50000, .dup = 50000, .corrupt = 50000, .reorder = 50000, .delay = 50000,
};

FIXTURE_SETUP(rates)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(rates)
{
}

/*
 * count of trials at ppm: within 5 sigma of trials * p, or 0 if the fault
 * is off.  The trials are those the injector draws the fault for (it draws
 * in order: drop per frame, dup and corrupt per frame not dropped, reorder
 * per copy, delay per copy not reordered), independent draws each.
 */
static void within(struct __test_metadata *_metadata, const char *what, uint64_t count,
		   uint64_t trials, uint32_t ppm)
{
	double p = ppm / 1e6, mean = trials * p, var = trials * p * (1 - p), d = count - mean;

	note("%-8s %6lu of %6lu, expected %.0f, sigma^2 %.0f\n", what,
		       (unsigned long)count, (unsigned long)trials, mean, var);
	if (!ppm) {
		EXPECT_EQ(0, count) TH_LOG("%s is off but happened %lu times", what,
					   (unsigned long)count);
		return;
	}
	/* |count - mean| <= 5 sigma, squared (no libm) */
	EXPECT_TRUE(d * d <= 25 * var)
		TH_LOG("%s: %lu of %lu at %u ppm, expected %.1f, off by %.1f, sigma^2 %.1f",
		       what, (unsigned long)count, (unsigned long)trials, ppm, mean, d, var);
}

TEST_F(rates, within_5_sigma)
{
	uint64_t now = 1000000000;
	struct softee_fault_cfg fc = {
		.seed = variant->seed, .drop_ppm = variant->drop, .dup_ppm = variant->dup,
		.corrupt_ppm = variant->corrupt, .reorder_ppm = variant->reorder,
		.delay_ppm = variant->delay, .delay_min_ns = 50000, .delay_max_ns = 150000,
		.clock = &now,
	};
	static struct rec r;
	struct rec *rp = &r;
	struct softee_netdev *inj;
	const struct softee_fault_stats *st;
	uint64_t kept, copies;

	rec_init(&r);
	ASSERT_NE(NULL, r.fate);
	ASSERT_EQ(0, softee_fault_create(&inj, &r.nd, &fc));
	ASSERT_TRUE(drive(&inj, &rp, 1, &now));
	st = softee_fault_stats(inj);
	check_fates(_metadata, &r, st, true);

	kept = st->frames - st->dropped;
	copies = kept + st->duplicated;
	within(_metadata, "drop", st->dropped, st->frames, variant->drop);
	within(_metadata, "dup", st->duplicated, kept, variant->dup);
	within(_metadata, "corrupt", st->corrupted, kept, variant->corrupt);
	within(_metadata, "reorder", st->reordered, copies, variant->reorder);
	within(_metadata, "delay", st->delayed, copies - st->reordered, variant->delay);

	softee_netdev_close(inj);
	free(r.fate);
}

TEST_HARNESS_MAIN
