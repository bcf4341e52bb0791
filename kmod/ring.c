// SPDX-License-Identifier: GPL-2.0
/*
 * The data path: a guest access becomes an entry in its vCPU's ring.
 *
 * Each ring has exactly one producer, the vCPU whose vcpu_idx selects it,
 * which runs these functions from KVM's io bus callbacks (process context,
 * kvm->srcu held, may sleep).  The consumer is a user-space process that
 * may be buggy or hostile: what it can write (cons, and an entry's done,
 * data and status) is read once into a local, checked, and only the local
 * is used.  A consumer that stops answering costs the guest a completion
 * timeout, never a hung vCPU.
 */
#include <linux/delay.h>
#include <linux/moduleparam.h>
#include <linux/nospec.h>
#include <linux/sched/signal.h>

#include "softee.h"

static unsigned int spin_us = 20;
module_param(spin_us, uint, 0644);
MODULE_PARM_DESC(spin_us,
	"microseconds a waiting vCPU busy-polls its ring before it starts to sleep (default 20, at most 1000)");

static unsigned int stall_probe_ms = 1000;
module_param(stall_probe_ms, uint, 0644);
MODULE_PARM_DESC(stall_probe_ms,
	"on a stalled ring (its consumer let an access time out) one read this often, or every four timeouts if longer, still waits for the consumer; the others fail at once (default 1000; 0: rings never stall)");

/* A spin without a reschedule point: kept short whatever root writes. */
#define SOFTEE_SPIN_MAX_US	1000

#define SOFTEE_SLEEP_MIN_US	1
#define SOFTEE_SLEEP_MAX_US	1000
#define SOFTEE_POLLS_PER_STEP	16

/* Count in the ring (one writer) and in the region (per cpu). */
#define softee_count(k, r, field, n)			\
	do {						\
		(k)->c.field += (n);			\
		this_cpu_add((r)->pc->field, (n));	\
	} while (0)

void softee_ring_init(struct softee_session *s)
{
	u32 i;

	for (i = 0; i < s->nr_rings; i++) {
		struct softee_kring *k = &s->rings[i];
		u8 *base = (u8 *)s->mem + (size_t)i * s->ring_bytes;

		k->prod = (u32 *)(base + 0);
		k->flags = (u32 *)(base + 4);
		k->cons = (u32 *)(base + 64);
		k->ent = (struct softee_ring_entry *)(base + 128);
		k->nr = s->ring_entries;
		k->mask = s->ring_entries - 1;
	}
}

/* Tell the consumer something about every ring (SOFTEE_RING_F_*). */
void softee_ring_mark(struct softee_session *s, u32 flag)
{
	u32 i;

	for (i = 0; i < s->nr_rings; i++)
		atomic_or(flag, (atomic_t *)s->rings[i].flags);
}

/*
 * The ring's SOFTEE_RING_F_* from the module's own state, never from the
 * shared word, which the consumer can overwrite.
 */
u32 softee_ring_state(const struct softee_session *s, const struct softee_kring *k)
{
	return (READ_ONCE(k->broken) ? SOFTEE_RING_F_CORRUPT : 0) |
	       (READ_ONCE(s->dead) ? SOFTEE_RING_F_DEAD : 0) |
	       (READ_ONCE(k->stalled) ? SOFTEE_RING_F_STALLED : 0);
}

void softee_counters_add(struct softee_counters *to,
			 const struct softee_counters *from)
{
	const u64 *f = (const u64 *)from;
	u64 *t = (u64 *)to;
	size_t i;

	for (i = 0; i < offsetof(struct softee_counters, __reserved) / 8; i++)
		t[i] += f[i];
}

/*
 * The bounded, backing-off wait of a vCPU: for spin_us, busy-poll (a poller
 * on another core answers within it) or, when another task is runnable on
 * this core, yield to it (a poller on the same core); then sleep with a
 * growing interval.  Ends at the session's timeout,
 * at a fatal signal, or when the region or the session goes away.
 */
struct softee_waiter {
	u64 start;
	u64 deadline;
	u64 spin_end;
	unsigned int sleep_us;
};

/* Spin from now on, then sleep from the shortest interval up. */
static void softee_wait_spin(struct softee_waiter *w, u64 now)
{
	w->spin_end = now + (u64)min(READ_ONCE(spin_us), SOFTEE_SPIN_MAX_US) * NSEC_PER_USEC;
	w->sleep_us = SOFTEE_SLEEP_MIN_US;
}

static void softee_wait_init(struct softee_waiter *w,
			     const struct softee_session *s)
{
	w->start = ktime_get_ns();
	w->deadline = w->start + (u64)READ_ONCE(s->timeout_us) * NSEC_PER_USEC;
	softee_wait_spin(w, w->start);
}

/*
 * The same access waits again, for something else: a fresh spin and
 * back-off (a read's completion comes within microseconds, not at the
 * interval a wait for room grew to), the same deadline.  -ETIMEDOUT if
 * nothing of it is left.
 */
static int softee_wait_again(struct softee_waiter *w)
{
	u64 now = ktime_get_ns();

	if (now >= w->deadline)
		return -ETIMEDOUT;
	softee_wait_spin(w, now);
	return 0;
}

static int softee_wait_step(struct softee_waiter *w,
			    const struct softee_region_k *r)
{
	u64 now;

	if (READ_ONCE(r->dead) || READ_ONCE(r->s->dead))
		return -ESHUTDOWN;
	if (fatal_signal_pending(current))
		return -EINTR;
	now = ktime_get_ns();
	if (now >= w->deadline)
		return -ETIMEDOUT;
	if (now < w->spin_end) {
		/* A poller that shares this core gets it at once. */
		if (!single_task_running())
			yield();
		else
			cpu_relax();
		return 0;
	}
	usleep_range(w->sleep_us, 2 * w->sleep_us);
	w->sleep_us = min(2 * w->sleep_us, (unsigned int)SOFTEE_SLEEP_MAX_US);
	return 0;
}

/* A stalled ring (below) that is not any more. */
static void softee_ring_unstall(struct softee_kring *k)
{
	WRITE_ONCE(k->stalled, false);
	atomic_andnot(SOFTEE_RING_F_STALLED, (atomic_t *)k->flags);
}

/* The consumer broke this ring: stop using it, say so once. */
static void softee_ring_break(struct softee_kring *k,
			      const struct softee_region_k *r, u32 cons)
{
	struct softee_session *s = r->s;

	k->broken = true;
	atomic_or(SOFTEE_RING_F_CORRUPT, (atomic_t *)k->flags);
	softee_ring_unstall(k);		/* off for good, not waiting for anyone */
	softee_count(k, r, corrupt, 1);
	pr_warn_ratelimited("softee: session %u ring %ld: consumer index %u is %u entries behind producer %u (ring of %u); ring disabled\n",
			    s->id, (long)(k - s->rings), cons, k->head - cons,
			    k->head, k->nr);
}

/*
 * Stalled rings (uapi/softee.h, "Ring layout"): the consumer let an access
 * reach its timeout.  Until it retires an entry, accesses that would wait
 * for it end at once, but for one read per probe interval.  cons is only
 * compared, never used: a consumer that writes nonsense there ends the
 * stall, and the access finds the ring corrupt if it is out of range.
 *
 * From one probe to the next: stall_probe_ms, or four timeouts if longer,
 * so that probes hold a vCPU a fifth of the time at most.
 */
static u64 softee_stall_interval(const struct softee_session *s, unsigned int ms)
{
	return max((u64)ms * NSEC_PER_MSEC, 4ULL * READ_ONCE(s->timeout_us) * NSEC_PER_USEC);
}

static void softee_ring_stall(struct softee_kring *k, const struct softee_region_k *r)
{
	unsigned int ms = READ_ONCE(stall_probe_ms);

	if (!ms)
		return;
	k->stall_cons = READ_ONCE(*k->cons);
	k->stall_probe_at = ktime_get_ns() + softee_stall_interval(r->s, ms);
	if (!k->stalled) {
		WRITE_ONCE(k->stalled, true);
		atomic_or(SOFTEE_RING_F_STALLED, (atomic_t *)k->flags);
	}
}

/* Still stalled?  Not once the consumer has retired an entry since. */
static bool softee_ring_stalled(struct softee_kring *k)
{
	if (likely(!k->stalled))
		return false;
	if (READ_ONCE(*k->cons) != k->stall_cons || !READ_ONCE(stall_probe_ms)) {
		softee_ring_unstall(k);
		return false;
	}
	return true;
}

/*
 * Wait (bounded) until the ring has a free entry.  0 when it has; else
 * the reason the access cannot be queued: -EAGAIN at once when the ring
 * is full and stalled.  A wait starts *w (*waited): a read goes on with
 * it, so that one access waits one timeout at most.
 */
static int softee_ring_space(struct softee_kring *k,
			     const struct softee_region_k *r,
			     struct softee_waiter *w, bool *waited, bool stalled)
{
	u32 cons, used;
	int ret;

	for (;;) {
		/*
		 * Pairs with the consumer's store-release of cons: it has
		 * finished reading the entries it retired before we reuse
		 * them.  Read once; only the local is used.
		 */
		cons = smp_load_acquire(k->cons);
		used = k->head - cons;
		if (unlikely(used > k->nr)) {
			softee_ring_break(k, r, cons);
			return -EIO;
		}
		if (likely(used < k->nr))
			return 0;
		if (stalled)
			return -EAGAIN;
		if (!*waited) {
			softee_count(k, r, ring_full, 1);
			softee_wait_init(w, r->s);
			*waited = true;
		}
		ret = softee_wait_step(w, r);
		if (ret)
			return ret;
	}
}

static struct softee_kring *softee_vcpu_ring(const struct softee_region_k *r,
					     const struct kvm_vcpu *vcpu)
{
	struct softee_session *s = r->s;
	u32 idx = vcpu->vcpu_idx;

	if (unlikely(idx >= s->nr_rings)) {
		atomic64_inc(&s->no_ring);
		this_cpu_inc(r->pc->no_ring);
		return NULL;
	}
	return &s->rings[array_index_nospec(idx, s->nr_rings)];
}

/* Fill the head entry and publish it; returns its sequence number. */
static u32 softee_ring_publish(struct softee_kring *k,
			       const struct softee_region_k *r,
			       const struct kvm_vcpu *vcpu, u8 op, gpa_t addr,
			       int len, u64 data)
{
	u32 seq = k->head;
	struct softee_ring_entry *e = &k->ent[seq & k->mask];

	e->seq = seq;
	WRITE_ONCE(e->done, ~seq);
	e->op = op;
	e->bus = r->bus;
	e->len = len;
	e->__pad = 0;
	e->region = r->id;
	e->addr = addr;
	e->offset = addr - r->base;
	e->data = data;
	e->status = 0;
	e->vcpu = vcpu->vcpu_idx;
	e->time_ns = r->s->timestamps ? ktime_get_ns() : 0;
	e->__reserved = 0;
	k->head = seq + 1;
	/* Pairs with the consumer's load-acquire of prod. */
	smp_store_release(k->prod, k->head);
	return seq;
}

void softee_ring_write(struct softee_region_k *r, struct kvm_vcpu *vcpu,
		       gpa_t addr, int len, const void *val)
{
	struct softee_kring *k = softee_vcpu_ring(r, vcpu);
	struct softee_waiter w;
	bool waited = false;
	u64 data = 0;
	int ret;

	if (unlikely(!k))
		return;
	ret = unlikely(k->broken) ? -EIO :
	      softee_ring_space(k, r, &w, &waited, softee_ring_stalled(k));
	if (unlikely(ret)) {
		if (ret == -ETIMEDOUT)
			softee_ring_stall(k, r);
		softee_count(k, r, drops, 1);
		return;
	}
	memcpy(&data, val, len);
	softee_ring_publish(k, r, vcpu, SOFTEE_OP_WRITE, addr, len, data);
	softee_count(k, r, writes, 1);
	softee_count(k, r, write_bytes, len);
	if (r->bus == SOFTEE_BUS_CFG)
		softee_count(k, r, cfg_writes, 1);
}

void softee_ring_read(struct softee_region_k *r, struct kvm_vcpu *vcpu,
		      gpa_t addr, int len, void *val)
{
	struct softee_kring *k = softee_vcpu_ring(r, vcpu);
	struct softee_ring_entry *e;
	struct softee_waiter w;
	bool waited = false;
	u32 seq, done, status;
	unsigned int i;
	u64 data;
	int ret;

	/* What the guest sees when no completion comes: all ones. */
	memset(val, 0xff, len);
	if (unlikely(!k))
		return;
	if (unlikely(k->broken)) {
		softee_count(k, r, aborted, 1);
		return;
	}
	/* Past stall_probe_at the read is the probe: it waits as any read does. */
	if (unlikely(softee_ring_stalled(k)) && ktime_get_ns() < k->stall_probe_at) {
		softee_count(k, r, stalled, 1);
		return;
	}
	ret = softee_ring_space(k, r, &w, &waited, false);
	/*
	 * After a wait for room the completion gets a fresh spin and back-off
	 * within what is left of the deadline; with nothing left the read
	 * fails unsent, rather than sent to the device and given up at once.
	 */
	if (!ret && waited)
		ret = softee_wait_again(&w);
	if (unlikely(ret)) {
		if (ret == -ETIMEDOUT) {
			softee_count(k, r, timeouts, 1);
			softee_ring_stall(k, r);
		} else {
			softee_count(k, r, aborted, 1);
		}
		return;
	}

	seq = softee_ring_publish(k, r, vcpu, SOFTEE_OP_READ, addr, len, 0);
	e = &k->ent[seq & k->mask];
	softee_count(k, r, reads, 1);
	softee_count(k, r, read_bytes, len);
	if (r->bus == SOFTEE_BUS_CFG)
		softee_count(k, r, cfg_reads, 1);

	/* one timeout for the whole access, room in the ring included */
	if (!waited)
		softee_wait_init(&w, r->s);
	for (;;) {
		/*
		 * Pairs with the consumer's store-release of done, made after
		 * it wrote data and status.  Each is read once.  Look a few
		 * times between the slower checks of softee_wait_step: a
		 * consumer on another core answers within them.
		 */
		for (i = 0; i < SOFTEE_POLLS_PER_STEP; i++) {
			done = smp_load_acquire(&e->done);
			if (done == seq)
				break;
		}
		if (done == seq) {
			data = READ_ONCE(e->data);
			status = READ_ONCE(e->status);
			softee_count(k, r, completions, 1);
			if (unlikely(k->stalled))
				softee_ring_unstall(k);
			if (unlikely(status))
				softee_count(k, r, errors, 1);
			else
				memcpy(val, &data, len);
			return;
		}
		ret = softee_wait_step(&w, r);
		if (ret == -ETIMEDOUT) {
			softee_count(k, r, timeouts, 1);
			softee_ring_stall(k, r);
			return;
		}
		if (ret) {
			softee_count(k, r, aborted, 1);
			return;
		}
	}
}
