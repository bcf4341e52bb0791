// SPDX-License-Identifier: GPL-2.0
/*
 * The user-space side of a softee ring: the consumer (what the poller and
 * softee-trap's responder run) and a producer with the module's exact
 * semantics (what softee-trap --exit runs in place of the module).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <softee/barrier.h>
#include <softee/ring.h>

#define SOFTEE_RING_PAGE	4096UL

size_t softee_ring_bytes(uint32_t nr_entries)
{
	size_t b = SOFTEE_RING_OFF_ENTRIES +
		   (size_t)nr_entries * sizeof(struct softee_ring_entry);

	return (b + SOFTEE_RING_PAGE - 1) & ~(SOFTEE_RING_PAGE - 1);
}

void softee_ring_layout(struct softee_ring_offsets *off, uint32_t nr_entries)
{
	memset(off, 0, sizeof(*off));
	off->prod = SOFTEE_RING_OFF_PROD;
	off->flags = SOFTEE_RING_OFF_FLAGS;
	off->cons = SOFTEE_RING_OFF_CONS;
	off->entries = SOFTEE_RING_OFF_ENTRIES;
	off->ring_entries = nr_entries;
	off->ring_mask = nr_entries - 1;
	off->entry_size = sizeof(struct softee_ring_entry);
}

/* A __u32 field at off inside the ring, 4-byte aligned, not in entries. */
static bool softee_ring_u32_ok(uint32_t off, const struct softee_ring_offsets *o)
{
	return !(off & 3) && (uint64_t)off + 4 <= o->entries;
}

int softee_ring_init(struct softee_ring *r, void *base, size_t ring_bytes,
		     const struct softee_ring_offsets *off)
{
	uint64_t end;

	if (!base || off->entry_size != sizeof(struct softee_ring_entry) ||
	    off->ring_entries < SOFTEE_RING_MIN_ENTRIES ||
	    off->ring_entries > SOFTEE_RING_MAX_ENTRIES ||
	    (off->ring_entries & (off->ring_entries - 1)) ||
	    off->ring_mask != off->ring_entries - 1 ||
	    (off->entries % 64))
		return -EINVAL;
	end = (uint64_t)off->entries + (uint64_t)off->ring_entries * off->entry_size;
	if (end > ring_bytes)
		return -EINVAL;
	if (!softee_ring_u32_ok(off->prod, off) || !softee_ring_u32_ok(off->flags, off) ||
	    !softee_ring_u32_ok(off->cons, off) ||
	    off->prod == off->cons || off->prod == off->flags || off->flags == off->cons)
		return -EINVAL;

	memset(r, 0, sizeof(*r));
	r->base = base;
	r->bytes = ring_bytes;
	r->prod = (uint32_t *)((char *)base + off->prod);
	r->flags = (uint32_t *)((char *)base + off->flags);
	r->cons = (uint32_t *)((char *)base + off->cons);
	r->entries = (struct softee_ring_entry *)((char *)base + off->entries);
	r->nr_entries = off->ring_entries;
	r->mask = off->ring_mask;
	r->cons_head = softee_load_acquire(r->cons);
	r->prod_head = softee_load_acquire(r->prod);
	return 0;
}

int softee_ring_alloc(struct softee_ring *r, uint32_t nr_entries)
{
	struct softee_ring_offsets off;
	size_t bytes = softee_ring_bytes(nr_entries);
	void *mem;
	int ret;

	softee_ring_layout(&off, nr_entries);
	if (nr_entries < SOFTEE_RING_MIN_ENTRIES || nr_entries > SOFTEE_RING_MAX_ENTRIES ||
	    (nr_entries & (nr_entries - 1)))
		return -EINVAL;
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	ret = softee_ring_init(r, mem, bytes, &off);
	if (ret) {
		munmap(mem, bytes);
		return ret;
	}
	r->owned = true;
	return 0;
}

void softee_ring_free(struct softee_ring *r)
{
	if (r->owned && r->base)
		munmap(r->base, r->bytes);
	memset(r, 0, sizeof(*r));
}

/* ---- consumer ------------------------------------------------------------ */

int softee_ring_peek(struct softee_ring *r)
{
	/* Pairs with the producer's store-release of prod: entries up to
	 * prod are filled before we read them. */
	uint32_t prod = softee_load_acquire(r->prod);
	uint32_t n = prod - r->cons_head;
	uint32_t flags;

	if (n > r->nr_entries)
		return -EUCLEAN;
	if (n)
		return (int)n;
	flags = softee_read_once(r->flags);
	if (flags & SOFTEE_RING_F_CORRUPT)
		return -EUCLEAN;
	if (flags & SOFTEE_RING_F_DEAD)
		return -EPIPE;
	return 0;
}

void softee_ring_consume(struct softee_ring *r, uint32_t n)
{
	r->cons_head += n;
	/* Pairs with the producer's load-acquire of cons: we are done with
	 * these entries (reads completed) before it reuses them. */
	softee_store_release(r->cons, r->cons_head);
}

void softee_ring_complete(struct softee_ring_entry *e, uint64_t data,
			  uint32_t status)
{
	uint32_t seq = softee_read_once(&e->seq);

	softee_write_once(&e->data, data);
	softee_write_once(&e->status, status);
	/* Pairs with the producer's load-acquire of done: data and status
	 * are in place before it sees done == seq. */
	softee_store_release(&e->done, seq);
}

int softee_ring_poll(struct softee_ring *r, uint32_t max, softee_ring_fn fn,
		     void *opaque)
{
	int n = softee_ring_peek(r);
	int i, ret;

	if (n <= 0)
		return n;
	if (max && (uint32_t)n > max)
		n = (int)max;
	for (i = 0; i < n; i++) {
		ret = fn(r, softee_ring_entry(r, (uint32_t)i), opaque);
		if (ret) {
			softee_ring_consume(r, (uint32_t)i);
			return ret;
		}
	}
	softee_ring_consume(r, (uint32_t)n);
	return n;
}

/* ---- user-space producer ------------------------------------------------- */

static void softee_ring_break(struct softee_ring *r, struct softee_counters *c)
{
	r->broken = true;
	softee_fetch_or(r->flags, SOFTEE_RING_F_CORRUPT);
	c->corrupt++;
}

int softee_ring_space(struct softee_ring *r, const struct softee_wait *w,
		      uint64_t timeout_ns, struct softee_counters *c)
{
	struct softee_waiter wt;
	bool waited = false;
	uint32_t cons, used;

	for (;;) {
		/* Pairs with the consumer's store-release of cons: it has
		 * finished with the entries it retired before we reuse them. */
		cons = softee_load_acquire(r->cons);
		used = r->prod_head - cons;
		if (used > r->nr_entries) {
			softee_ring_break(r, c);
			return -EUCLEAN;
		}
		if (used < r->nr_entries)
			return 0;
		if (!waited) {
			c->ring_full++;
			softee_waiter_start(&wt, w, timeout_ns);
			waited = true;
		}
		if (!softee_waiter_step(&wt))
			return -ETIMEDOUT;
	}
}

uint32_t softee_ring_publish(struct softee_ring *r, const struct softee_access *a)
{
	uint32_t seq = r->prod_head;
	struct softee_ring_entry *e = softee_ring_entry_at(r, seq);

	softee_write_once(&e->seq, seq);
	softee_write_once(&e->done, ~seq);
	e->op = a->op;
	e->bus = a->bus;
	e->len = a->len;
	e->__pad = 0;
	e->region = a->region;
	e->addr = a->addr;
	e->offset = a->offset;
	e->data = a->op == SOFTEE_OP_WRITE ? a->data : 0;
	e->status = 0;
	e->vcpu = a->vcpu;
	e->time_ns = softee_now_ns();
	e->__reserved = 0;
	r->prod_head = seq + 1;
	/* Pairs with the consumer's load-acquire of prod. */
	softee_store_release(r->prod, r->prod_head);
	return seq;
}

int softee_ring_wait_done(struct softee_ring *r, uint32_t seq,
			  const struct softee_wait *w, uint64_t timeout_ns,
			  uint64_t *data)
{
	struct softee_ring_entry *e = softee_ring_entry_at(r, seq);
	struct softee_waiter wt;
	bool waited = false;
	uint32_t status;
	uint64_t d;

	*data = ~0ULL;
	for (;;) {
		/* Pairs with the consumer's store-release of done, made after
		 * it wrote data and status.  Each is read once. */
		if (softee_load_acquire(&e->done) == seq) {
			d = softee_read_once(&e->data);
			status = softee_read_once(&e->status);
			if (status)
				return -EIO;
			*data = d;
			return 0;
		}
		if (!waited) {
			softee_waiter_start(&wt, w, timeout_ns);
			waited = true;
		}
		if (!softee_waiter_step(&wt))
			return -ETIMEDOUT;
	}
}

static int ring_trap(struct softee_ring *r, const struct softee_access *a,
		     const struct softee_wait *w, uint64_t timeout_ns,
		     struct softee_counters *c, uint64_t *data)
{
	uint32_t seq;
	int ret;

	*data = ~0ULL;
	if (r->broken) {
		if (a->op == SOFTEE_OP_WRITE)
			c->drops++;
		else
			c->aborted++;
		return -EUCLEAN;
	}
	ret = softee_ring_space(r, w, timeout_ns, c);
	if (ret) {
		if (a->op == SOFTEE_OP_WRITE)
			c->drops++;
		else if (ret == -ETIMEDOUT)
			c->timeouts++;
		else
			c->aborted++;
		return ret;
	}
	seq = softee_ring_publish(r, a);
	if (a->op == SOFTEE_OP_WRITE) {
		c->writes++;
		c->write_bytes += a->len;
		return 0;
	}
	c->reads++;
	c->read_bytes += a->len;
	ret = softee_ring_wait_done(r, seq, w, timeout_ns, data);
	if (ret == -ETIMEDOUT) {
		c->timeouts++;
	} else {
		c->completions++;
		if (ret)
			c->errors++;
	}
	return ret;
}

int softee_ring_trap(struct softee_ring *r, const struct softee_access *a,
		     const struct softee_wait *w, uint64_t timeout_ns,
		     struct softee_counters *c, uint64_t *data)
{
	int ret = ring_trap(r, a, w, timeout_ns, c, data);

	/* The waits may have helped (struct softee_wait): they are over. */
	if (w->help_done)
		w->help_done(w->help_arg);
	return ret;
}
