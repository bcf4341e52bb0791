// SPDX-License-Identifier: GPL-2.0
/*
 * The line probe: how long one cache line takes to go from --cpu to
 * --peer-cpu and back, two threads passing a counter in it.
 *
 * The machines the benchmarks run on have two virtual CPUs, and where the
 * hypervisor runs them changes as they run: the round trip is usually
 * 60-70 ns, shorter in some spells and several times longer in others,
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

struct line {
	/* The line that travels: odd from the main thread, even from the peer. */
	_Alignas(64) uint64_t ball;
	_Alignas(64) uint64_t trips;
	int peer_cpu;
	int err;			/* the peer's: it could not pin itself */
	int stop;		/* either side gave up: the other stops waiting */
};

/* Spin until the ball is want; false after the timeout, on a signal, or once told to stop. */
static bool line_wait(struct line *l, uint64_t want)
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
			softee_write_once(&l->stop, 1);
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
		softee_write_once(&l->stop, 1);
		return NULL;
	}
	for (i = 1; i <= l->trips; i++) {
		if (!line_wait(l, 2 * i - 1))
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

int lb_line(const struct lb_opts *o)
{
	static struct line l;
	uint64_t per = o->count / LINE_BATCHES, batch_ns[LINE_BATCHES], t0, i;
	pthread_t th;
	unsigned int b;
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
	i = 0;
	for (b = 0; b < LINE_BATCHES; b++) {
		uint64_t end = i + per;

		t0 = lb_now_ns();
		for (; i < end; i++) {
			softee_store_release(&l.ball, 2 * i + 1);
			if (!line_wait(&l, 2 * i + 2))
				break;
		}
		if (i < end)
			break;
		batch_ns[b] = lb_now_ns() - t0;
	}
	/* The peer may still wait for a ball that will not come. */
	if (b < LINE_BATCHES)
		softee_write_once(&l.stop, 1);
	pthread_join(th, NULL);
	if (l.err) {
		fprintf(stderr, "linkbench: line: cannot pin the peer to CPU %d: %s\n", o->peer_cpu,
			strerror(-l.err));
		return l.err;
	}
	if (b < LINE_BATCHES && lb_quit) {
		fprintf(stderr, "linkbench: line: interrupted\n");
		return -EINTR;
	}
	if (b < LINE_BATCHES) {
		fprintf(stderr, "linkbench: line: CPU %d did not answer within %llu ms "
			"(something else holds that CPU: the figure would be its scheduler's)\n",
			o->peer_cpu, LINE_TIMEOUT_NS / 1000000);
		return -ETIMEDOUT;
	}
	qsort(batch_ns, LINE_BATCHES, sizeof(batch_ns[0]), cmp_u64);
	printf("linkbench: result mode=line cpu=%d peer_cpu=%d round_trips=%llu rt_ns=%.1f "
	       "rt_min_ns=%.1f\n", o->cpu, o->peer_cpu, (unsigned long long)l.trips,
	       (double)batch_ns[LINE_BATCHES / 2] / (double)per, (double)batch_ns[0] / (double)per);
	return 0;
}
