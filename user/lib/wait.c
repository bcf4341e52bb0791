// SPDX-License-Identifier: GPL-2.0
/* Wait strategies for the two sides of a ring (see softee/wait.h). */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include <softee/barrier.h>
#include <softee/wait.h>

uint64_t softee_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const char *const softee_wait_names[] = {
	[SOFTEE_WAIT_SPIN] = "spin",
	[SOFTEE_WAIT_YIELD] = "yield",
	[SOFTEE_WAIT_SLEEP] = "sleep",
};

const char *softee_wait_name(enum softee_wait_mode m)
{
	if ((unsigned int)m >= sizeof(softee_wait_names) / sizeof(softee_wait_names[0]))
		return "?";
	return softee_wait_names[m];
}

int softee_wait_parse(const char *s, struct softee_wait *w)
{
	unsigned int m;

	for (m = 0; m < sizeof(softee_wait_names) / sizeof(softee_wait_names[0]); m++) {
		if (!strcmp(s, softee_wait_names[m])) {
			*w = (struct softee_wait)SOFTEE_WAIT_INIT((enum softee_wait_mode)m);
			return 0;
		}
	}
	return -EINVAL;
}

void softee_waiter_start(struct softee_waiter *w, const struct softee_wait *cfg,
			 uint64_t timeout_ns)
{
	w->cfg = cfg;
	w->timeout_ns = timeout_ns;
	w->deadline_ns = 0;
	w->sleep_ns = cfg->sleep_min_ns ? cfg->sleep_min_ns : SOFTEE_WAIT_SLEEP_MIN_NS;
	w->iter = 0;
}

/* True when the deadline has passed; reads the clock now and then. */
static bool softee_waiter_expired(struct softee_waiter *w, bool now_anyway)
{
	uint64_t now;

	if (w->timeout_ns == SOFTEE_WAIT_FOREVER)
		return false;
	if (!now_anyway && (w->iter % SOFTEE_WAIT_CLOCK_EVERY) != 1)
		return false;
	now = softee_now_ns();
	if (!w->deadline_ns) {
		w->deadline_ns = now + w->timeout_ns;
		if (w->deadline_ns < now)	/* a huge timeout */
			w->deadline_ns = UINT64_MAX;
		return false;
	}
	return now >= w->deadline_ns;
}

bool softee_waiter_step(struct softee_waiter *w)
{
	const struct softee_wait *cfg = w->cfg;
	struct timespec ts;

	if (cfg->help && cfg->help(cfg->help_arg) > 0) {
		/* Progress: keep looking without backing off (the clock still bounds it). */
		w->iter = 0;
		w->sleep_ns = cfg->sleep_min_ns ? cfg->sleep_min_ns : SOFTEE_WAIT_SLEEP_MIN_NS;
		return !softee_waiter_expired(w, true);
	}
	w->iter++;
	if (cfg->mode == SOFTEE_WAIT_SPIN || w->iter <= cfg->spins) {
		if (softee_waiter_expired(w, false))
			return false;
		if (cfg->pause_every <= 1 || !(w->iter % cfg->pause_every))
			softee_cpu_relax();
		return true;
	}
	/* Past the spins every step costs a system call anyway. */
	if (softee_waiter_expired(w, true))
		return false;
	if (cfg->mode == SOFTEE_WAIT_YIELD) {
		sched_yield();
		return true;
	}
	ts.tv_sec = (time_t)(w->sleep_ns / 1000000000ULL);
	ts.tv_nsec = (long)(w->sleep_ns % 1000000000ULL);
	nanosleep(&ts, NULL);
	if (w->sleep_ns < cfg->sleep_max_ns) {
		w->sleep_ns *= 2;
		if (w->sleep_ns > cfg->sleep_max_ns)
			w->sleep_ns = cfg->sleep_max_ns;
	}
	return true;
}
