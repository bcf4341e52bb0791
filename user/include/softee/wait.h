/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How a ring side waits for the other: a chosen strategy and a bounded,
 * backing-off loop.  No eventfd and no system call while spinning; the
 * clock is read (vDSO) only every SOFTEE_WAIT_CLOCK_EVERY spins.
 *
 *	struct softee_waiter w;
 *
 *	softee_waiter_start(&w, &cfg, timeout_ns);
 *	while (!condition())
 *		if (!softee_waiter_step(&w))
 *			return -ETIMEDOUT;
 *
 * Check the condition once before starting a waiter: a wait that is not
 * needed then costs nothing, not even a clock read.
 */
#ifndef _SOFTEE_WAIT_H
#define _SOFTEE_WAIT_H

#include <stdbool.h>
#include <stdint.h>

enum softee_wait_mode {
	SOFTEE_WAIT_SPIN,	/* busy spin with pause; never gives up the core */
	SOFTEE_WAIT_YIELD,	/* spin, then sched_yield() between looks */
	SOFTEE_WAIT_SLEEP,	/* spin, then nanosleep growing up to a cap */
};

struct softee_wait {
	enum softee_wait_mode mode;
	uint32_t spins;		/* looks before yielding or sleeping */
	uint32_t sleep_min_ns;	/* SLEEP: first sleep */
	uint32_t sleep_max_ns;	/* SLEEP: the cap; each sleep doubles */
	/*
	 * Looks per pause instruction while spinning (1; 0 = 1).  On hardware
	 * a pause eases an SMT sibling and costs the spinner only a delay.
	 * Under QEMU's TCG it leaves the translated code: with one thread for
	 * all vCPUs that hands the thread to the next vCPU (a spinner that
	 * never pauses keeps it for the whole time slice); with a thread per
	 * vCPU it takes QEMU's global lock and slows the other vCPUs
	 * (user/trap/README.md, "Spinning under TCG").
	 */
	uint32_t pause_every;
	/*
	 * Optional: work the waiter may do itself instead of pausing (the
	 * exit path's vCPU runs the poller's loop while its read is out).
	 * Called at every step; a return > 0 (it did something) starts the
	 * backoff over, 0 lets the step spin, yield or sleep as usual.
	 * help_done, if set, is called once when a wait that may have called
	 * help ends (the ring's waits do), so that help can hold something
	 * across the steps of one wait.
	 */
	int (*help)(void *arg);
	void (*help_done)(void *arg);
	void *help_arg;
};

#define SOFTEE_WAIT_SPINS_DEFAULT	2048
#define SOFTEE_WAIT_SLEEP_MIN_NS	1000		/* 1 us */
#define SOFTEE_WAIT_SLEEP_MAX_NS	1000000		/* 1 ms */
#define SOFTEE_WAIT_CLOCK_EVERY		128
#define SOFTEE_WAIT_FOREVER		UINT64_MAX

/* The defaults for a mode. */
#define SOFTEE_WAIT_INIT(m) {					\
	.mode = (m),						\
	.spins = SOFTEE_WAIT_SPINS_DEFAULT,			\
	.sleep_min_ns = SOFTEE_WAIT_SLEEP_MIN_NS,		\
	.sleep_max_ns = SOFTEE_WAIT_SLEEP_MAX_NS,		\
	.pause_every = 1,					\
}

struct softee_waiter {
	const struct softee_wait *cfg;
	uint64_t timeout_ns;
	uint64_t deadline_ns;	/* 0 until the first clock read */
	uint64_t sleep_ns;
	uint32_t iter;
};

/* CLOCK_MONOTONIC in nanoseconds (vDSO: no system call). */
uint64_t softee_now_ns(void);

/* "spin", "yield" or "sleep" into *w with that mode's defaults; -EINVAL. */
int softee_wait_parse(const char *s, struct softee_wait *w);
const char *softee_wait_name(enum softee_wait_mode m);

void softee_waiter_start(struct softee_waiter *w, const struct softee_wait *cfg,
			 uint64_t timeout_ns);

/*
 * One backoff step.  Returns false once timeout_ns has passed since the
 * first step (never with SOFTEE_WAIT_FOREVER).
 */
bool softee_waiter_step(struct softee_waiter *w);

#endif /* _SOFTEE_WAIT_H */
