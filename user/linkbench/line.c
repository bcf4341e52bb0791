// SPDX-License-Identifier: GPL-2.0
/*
 * The line probe: how long one cache line takes to go from --cpu to
 * --peer-cpu and back, two threads passing a counter in it.
 *
 * The machines the benchmarks run on have two virtual CPUs, and where the
 * hypervisor runs them changes as they run: the round trip is usually
 * 59-67 ns, shorter in some spells and several times longer in others,
 * and memif's throughput follows it (README.md, "Where the two CPUs
 * run").  The benchmarks print it beside their figures.
 *
 * The count is split into batches; the result is the median batch (a
 * batch a preemption landed in is not the line) and the fastest.  A peer
 * that does not answer within LINE_TIMEOUT_NS (its CPU taken) ends the
 * probe with an error, never a hang.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <softee/barrier.h>

#include "linkbench.h"

#define LINE_BATCHES		11
#define LINE_TIMEOUT_NS		2000000000ull
#define LINE_CLOCK_EVERY	4096	/* spins between two looks at the clock */

/* Who gave up waiting (struct line's stop). */
enum { LINE_GOING, LINE_MAIN_WAITED, LINE_PEER_WAITED, LINE_PEER_FAILED, LINE_SIGNALLED };

struct line {
	/*
	 * The line that travels: the main thread makes it odd, the peer
	 * even.  The peer sets it to UINT64_MAX once it is on its CPU, and
	 * the main thread's clock starts only then: no batch times the
	 * peer's start.
	 */
	_Alignas(64) uint64_t ball;
	_Alignas(64) uint64_t trips;
	int peer_cpu;
	int err;			/* the peer's pin failed with this */
	int stop;			/* LINE_*: the other side stops waiting */
};

/*
 * Spin until the ball is want (or, for the main thread's first look, the
 * peer says it is ready); false once either side gave up, or after the
 * timeout (then who: LINE_MAIN_WAITED or LINE_PEER_WAITED).
 */
static bool line_wait(struct line *l, uint64_t want, int who)
{
	uint64_t spins = 0, deadline = 0;

	while (softee_load_acquire(&l->ball) != want) {
		softee_cpu_relax();
		if (++spins % LINE_CLOCK_EVERY)
			continue;
		if (lb_quit || softee_read_once(&l->stop))
			return false;
		if (!deadline) {
			deadline = lb_now_ns() + LINE_TIMEOUT_NS;
		} else if (lb_now_ns() > deadline) {
			softee_write_once(&l->stop, who);
			return false;
		}
	}
	return true;
}

static void *line_peer(void *arg)
{
	struct line *l = arg;
	uint64_t i;
	int ret = lb_pin(l->peer_cpu);

	if (ret) {
		l->err = ret;
		softee_write_once(&l->stop, LINE_PEER_FAILED);
		return NULL;
	}
	softee_store_release(&l->ball, UINT64_MAX);	/* ready */
	for (i = 1; i <= l->trips; i++) {
		if (!line_wait(l, 2 * i - 1, LINE_PEER_WAITED))
			return NULL;
		softee_store_release(&l->ball, 2 * i);
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Batches of per round trips, timed; how many batches were done. */
static unsigned int line_batches(struct line *l, uint64_t per, uint64_t *batch_ns)
{
	uint64_t i = 0, end, t0;
	unsigned int b;

	if (!line_wait(l, UINT64_MAX, LINE_MAIN_WAITED))
		return 0;
	for (b = 0; b < LINE_BATCHES && !lb_quit; b++) {
		t0 = lb_now_ns();
		for (end = i + per; i < end; i++) {
			softee_store_release(&l->ball, 2 * i + 1);
			if (!line_wait(l, 2 * i + 2, LINE_MAIN_WAITED))
				return b;
		}
		batch_ns[b] = lb_now_ns() - t0;
	}
	return b;
}

int lb_line(const struct lb_opts *o)
{
	static struct line l;
	uint64_t per = o->count / LINE_BATCHES, batch_ns[LINE_BATCHES];
	unsigned int done;
	pthread_t th;
	int ret;

	if (per < 1)
		per = 1;
	memset(&l, 0, sizeof(l));
	l.trips = per * LINE_BATCHES;
	l.peer_cpu = o->peer_cpu;
	ret = pthread_create(&th, NULL, line_peer, &l);
	if (ret) {
		fprintf(stderr, "linkbench: line: cannot start the peer thread: %s\n", strerror(ret));
		return -ret;
	}
	done = line_batches(&l, per, batch_ns);
	if (done < LINE_BATCHES && !softee_read_once(&l.stop))
		softee_write_once(&l.stop, LINE_SIGNALLED);	/* let the peer go */
	switch (softee_read_once(&l.stop)) {
	case LINE_MAIN_WAITED:
	case LINE_PEER_WAITED:
		/*
		 * A thread whose CPU is held may not see the stop for as long as
		 * it is held: never wait for it; the process ends it.
		 */
		pthread_detach(th);
		fprintf(stderr, "linkbench: line: CPU %d did not answer within %llu ms "
			"(something else holds it: the figure would be its scheduler's)\n",
			softee_read_once(&l.stop) == LINE_MAIN_WAITED ? o->peer_cpu : o->cpu,
			LINE_TIMEOUT_NS / 1000000);
		return -ETIMEDOUT;
	default:
		break;
	}
	pthread_join(th, NULL);
	if (l.err) {
		fprintf(stderr, "linkbench: line: cannot pin the peer to CPU %d: %s\n", o->peer_cpu,
			strerror(-l.err));
		return l.err;
	}
	if (done < LINE_BATCHES) {
		fprintf(stderr, "linkbench: line: interrupted\n");
		return -EINTR;
	}
	qsort(batch_ns, LINE_BATCHES, sizeof(batch_ns[0]), cmp_u64);
	printf("linkbench: result mode=line cpu=%d peer_cpu=%d round_trips=%llu rt_ns=%.1f "
	       "rt_min_ns=%.1f\n", o->cpu, o->peer_cpu, (unsigned long long)l.trips,
	       (double)batch_ns[LINE_BATCHES / 2] / (double)per, (double)batch_ns[0] / (double)per);
	return 0;
}
