// SPDX-License-Identifier: GPL-2.0
/*
 * softee-trap's responder: one thread consumes every vCPU's ring (the
 * module's, or the user rings of --exit), checks each access against the
 * guest's pattern and answers reads, exactly as the poller will consume.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <softee/barrier.h>
#include <softee/kmod.h>

#include "trap.h"

#define TRAP_MISMATCH_PRINT	10

static void trap_mismatch(struct trap_responder *r, uint32_t ring,
			  const struct softee_ring_entry *e, const struct trap_access *want,
			  uint32_t want_seq)
{
	if (++r->mismatches > TRAP_MISMATCH_PRINT)
		return;
	fprintf(stderr, TRAP_NAME ": ring %u access %llu: got seq %u vcpu %u region %u %s %s 0x%llx len %u data 0x%llx; expected seq %u vcpu %u region %u %s %s 0x%llx len %u data 0x%llx\n",
		ring, (unsigned long long)r->next_k[ring], e->seq, e->vcpu, e->region,
		e->op == SOFTEE_OP_READ ? "read" : "write", softee_bus_name(e->bus),
		(unsigned long long)e->addr, e->len,
		(unsigned long long)(e->op == SOFTEE_OP_WRITE ? e->data : 0),
		want_seq, ring, r->region, want->op == TRAP_OP_READ ? "read" : "write",
		softee_bus_name((uint8_t)r->params->bus), (unsigned long long)want->addr,
		want->len, (unsigned long long)(want->op == TRAP_OP_WRITE ? want->data : 0));
	if (r->mismatches == TRAP_MISMATCH_PRINT)
		fprintf(stderr, TRAP_NAME ": (further mismatches are counted, not printed)\n");
}

/* How long the read waited for us: its trap (time_ns) to our answer. */
static void trap_answered(struct trap_responder *r, const struct softee_ring_entry *e)
{
	uint64_t now = softee_now_ns(), t = e->time_ns;
	uint64_t d = now > t ? now - t : 0;

	if (!t)		/* a session without timestamps */
		return;
	r->answer_ns_sum += d;
	if (d > r->answer_ns_max)
		r->answer_ns_max = d;
}

/* Check one entry against the pattern; answer it if it is a read. */
static void trap_respond(struct trap_responder *r, uint32_t idx,
			 struct softee_ring_entry *e, uint32_t want_seq)
{
	const struct trap_params *p = r->params;
	struct trap_access want;
	uint64_t data;
	bool ok;

	r->seen++;
	if (e->op == SOFTEE_OP_READ)
		r->reads++;
	else
		r->writes++;
	if (!p) {
		/* A sink: answer reads with zeros, check nothing. */
		if (e->op == SOFTEE_OP_READ) {
			softee_ring_complete(e, 0, 0);
			trap_answered(r, e);
		}
		if (r->verbosity >= TRAP_V_TRACE)
			trap_print_entry(stdout, e, e->op == SOFTEE_OP_READ ? 0 : e->data, r->t0_ns);
		return;
	}
	trap_access_at(p, idx, r->next_k[idx], &want);
	ok = e->seq == want_seq && e->op == want.op && e->len == want.len &&
	     e->addr == want.addr && e->bus == p->bus && e->vcpu == idx &&
	     e->region == r->region && e->offset == want.addr - p->base &&
	     (e->op == SOFTEE_OP_READ || (e->data & trap_mask(want.len)) == want.data);
	if (e->op == SOFTEE_OP_READ) {
		/* What the guest expects for its k-th access, whatever came. */
		data = want.data;
		softee_ring_complete(e, data, 0);
		trap_answered(r, e);
	} else {
		data = e->data;
	}
	if (!ok)
		trap_mismatch(r, idx, e, &want, want_seq);
	if (r->verbosity >= TRAP_V_TRACE)
		trap_print_entry(stdout, e, data, r->t0_ns);
	r->next_k[idx]++;
}

/* One pass over every ring: the entries handled. */
static int trap_poll_all(struct trap_responder *r)
{
	uint32_t i, k, head;
	int n, total = 0;

	for (i = 0; i < r->nr_rings; i++) {
		struct softee_ring *ring = &r->rings[i];

		n = softee_ring_peek(ring);
		if (n < 0) {
			/* Broken or dead: an error to report, not a loop. */
			if (!r->ring_error) {
				r->ring_error = n;
				r->ring_error_idx = i;
			}
			continue;
		}
		head = ring->cons_head;
		for (k = 0; k < (uint32_t)n; k++)
			trap_respond(r, i, softee_ring_entry(ring, k), head + k);
		softee_ring_consume(ring, (uint32_t)n);
		total += n;
	}
	return total;
}

static void *trap_responder_main(void *arg)
{
	struct trap_responder *r = arg;
	struct softee_waiter w;
	bool waiting = false;

	trap_pin_self(r->cpu);
	for (;;) {
		if (trap_poll_all(r) > 0) {
			waiting = false;
			continue;
		}
		/* Pairs with the store-release in trap_responder_stop(): the
		 * vCPUs are done, every entry they made is published. */
		if (softee_load_acquire(&r->stop)) {
			trap_poll_all(r);
			break;
		}
		if (!waiting) {
			softee_waiter_start(&w, r->wait, SOFTEE_WAIT_FOREVER);
			waiting = true;
		}
		softee_waiter_step(&w);
	}
	return NULL;
}

int trap_responder_start(struct trap_responder *r)
{
	int ret;

	r->next_k = calloc(r->nr_rings, sizeof(*r->next_k));
	if (!r->next_k)
		return -ENOMEM;
	ret = pthread_create(&r->thread, NULL, trap_responder_main, r);
	if (ret) {
		free(r->next_k);
		r->next_k = NULL;
		return -ret;
	}
	return 0;
}

void trap_responder_stop(struct trap_responder *r)
{
	softee_store_release(&r->stop, 1);
	pthread_join(r->thread, NULL);
	free(r->next_k);
	r->next_k = NULL;
}
