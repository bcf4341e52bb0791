/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small deterministic PRNG for the fault injector and the tests: the same
 * seed gives the same sequence on every machine.  splitmix64 turns the seed
 * into the state; the generator is xorshift64* (Vigna, "An experimental
 * exploration of Marsaglia's xorshift generators").  Not for secrets.
 */
#ifndef _SOFTEE_PRNG_H
#define _SOFTEE_PRNG_H

#include <stdint.h>

struct softee_prng {
	uint64_t s;
};

static inline uint64_t softee_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void softee_prng_seed(struct softee_prng *r, uint64_t seed)
{
	r->s = softee_splitmix64(&seed);
	if (!r->s)
		r->s = 1;
}

static inline uint64_t softee_prng_next(struct softee_prng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, n) (n > 0); the bias of the multiply-shift is < n / 2^32. */
static inline uint32_t softee_prng_below(struct softee_prng *r, uint32_t n)
{
	return (uint32_t)(((softee_prng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability ppm / 10^6. */
static inline int softee_prng_ppm(struct softee_prng *r, uint32_t ppm)
{
	return ppm && softee_prng_below(r, 1000000) < ppm;
}

#endif /* _SOFTEE_PRNG_H */
