/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The user-space side of a softee ring (uapi/softee.h, "Ring layout").
 *
 * A struct softee_ring is a view of one ring: pointers into its memory,
 * built from a base address and the kernel's struct softee_ring_offsets.
 * The memory is either the module's (mmap'd from a session fd, see
 * softee/kmod.h) or plain user memory laid out exactly as the module lays
 * a ring out (softee_ring_alloc), for the KVM_EXIT_MMIO path of
 * softee-trap, where a user-space producer (softee_ring_trap) stands in for
 * the kernel.  The consumer code is the same for both.
 *
 * Each ring has one producer and one consumer.  Consuming:
 *
 *	int n = softee_ring_peek(r);		(load-acquire prod)
 *	if (n < 0)
 *		broken ring;
 *	for (i = 0; i < n; i++) {
 *		e = softee_ring_entry(r, i);
 *		... for a read: softee_ring_complete(e, data, 0);
 *	}
 *	softee_ring_consume(r, n);		(store-release cons)
 *
 * or softee_ring_poll() with a handler.  Complete a read before consuming
 * it.
 */
#ifndef _SOFTEE_RING_H
#define _SOFTEE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softee.h>
#include <softee/wait.h>

/* Today's layout, the one the module uses (uapi/softee.h). */
#define SOFTEE_RING_OFF_PROD		0
#define SOFTEE_RING_OFF_FLAGS		4
#define SOFTEE_RING_OFF_CONS		64
#define SOFTEE_RING_OFF_ENTRIES		128

struct softee_ring {
	/* Set up once, then only read. */
	uint32_t *prod;		/* producer writes (release) */
	uint32_t *flags;	/* producer writes: SOFTEE_RING_F_* */
	uint32_t *cons;		/* consumer writes (release) */
	struct softee_ring_entry *entries;
	uint32_t nr_entries;	/* a power of two */
	uint32_t mask;
	void *base;
	size_t bytes;
	bool owned;		/* softee_ring_alloc'd: softee_ring_free unmaps */

	/*
	 * Each side's private state, on its own cache line: one view can
	 * serve a consumer thread and a producer thread at once.
	 */
	uint32_t cons_head __attribute__((aligned(64)));  /* next to consume */
	uint32_t prod_head __attribute__((aligned(64)));  /* next to fill */
	bool broken;		/* producer: found corrupt, used no more */
};

/* Handles one entry; 0 to go on, anything else stops softee_ring_poll. */
typedef int (*softee_ring_fn)(struct softee_ring *r,
			      struct softee_ring_entry *e, void *opaque);

/* Bytes of a ring of nr_entries in today's layout, page-aligned. */
size_t softee_ring_bytes(uint32_t nr_entries);

/* Today's layout (what the module reports in softee_attach.ring_off). */
void softee_ring_layout(struct softee_ring_offsets *off, uint32_t nr_entries);

/*
 * A view of the ring at base, ring_bytes long, laid out as off says.
 * Checks the offsets: -EINVAL when they do not fit ring_bytes, overlap,
 * are misaligned, or the entry size or count is not what this library
 * knows.  The consumer's head starts at *cons, the producer's at *prod.
 */
int softee_ring_init(struct softee_ring *r, void *base, size_t ring_bytes,
		     const struct softee_ring_offsets *off);

/* A ring in fresh user memory, zeroed, laid out as the module does. */
int softee_ring_alloc(struct softee_ring *r, uint32_t nr_entries);
void softee_ring_free(struct softee_ring *r);

static inline struct softee_ring_entry *
softee_ring_entry_at(const struct softee_ring *r, uint32_t idx)
{
	return &r->entries[idx & r->mask];
}

/* ---- consumer ------------------------------------------------------------ */

/*
 * Entries published and not yet consumed (load-acquire of prod, pairs with
 * the producer's store-release).  -EUCLEAN when prod - cons > nr_entries
 * (the ring is broken: stop using it, do not loop); when empty, -EUCLEAN
 * or -EPIPE if the producer marked it SOFTEE_RING_F_CORRUPT or _DEAD.
 */
int softee_ring_peek(struct softee_ring *r);

/* The i-th unconsumed entry, 0 <= i < what softee_ring_peek returned. */
static inline struct softee_ring_entry *softee_ring_entry(const struct softee_ring *r,
							  uint32_t i)
{
	return softee_ring_entry_at(r, r->cons_head + i);
}

/* Retire n entries: store-release of cons, pairs with the producer's acquire. */
void softee_ring_consume(struct softee_ring *r, uint32_t n);

/*
 * Complete a read in place: data and status, then store-release of
 * done = seq (pairs with the producer's load-acquire of done).  A non-zero
 * status completes the read with all ones.
 */
void softee_ring_complete(struct softee_ring_entry *e, uint64_t data,
			  uint32_t status);

/*
 * Peek, call fn on up to max entries (0 = all available), consume what
 * was handled.  Returns the number handled, a negative errno from
 * softee_ring_peek, or fn's non-zero return if it stopped early (the
 * entries before the one that stopped are consumed; that one is not).
 */
int softee_ring_poll(struct softee_ring *r, uint32_t max, softee_ring_fn fn,
		     void *opaque);

/* ---- user-space producer (the kernel's semantics, for the exit path) ---- */

/*
 * What one access needs; the producer fills seq, done, vcpu and time_ns
 * and every other field of the entry from these.
 */
struct softee_access {
	uint8_t op;		/* SOFTEE_OP_* */
	uint8_t bus;		/* SOFTEE_BUS_* */
	uint8_t len;		/* 1, 2, 4, 8 */
	uint32_t region;
	uint32_t vcpu;
	uint64_t addr;
	uint64_t offset;	/* addr - region base */
	uint64_t data;		/* write: the value */
};

/*
 * Wait (bounded by timeout_ns, counted once in c->ring_full) for a free
 * entry.  0, -ETIMEDOUT, or -EUCLEAN when the consumer broke the ring
 * (the ring is then marked SOFTEE_RING_F_CORRUPT and used no more).
 */
int softee_ring_space(struct softee_ring *r, const struct softee_wait *w,
		      uint64_t timeout_ns, struct softee_counters *c);

/*
 * Fill the head entry (seq = index, done = ~seq) and publish it with a
 * store-release of prod.  Call only after softee_ring_space said 0.
 * Returns the entry's seq.
 */
uint32_t softee_ring_publish(struct softee_ring *r, const struct softee_access *a);

/*
 * Wait (bounded) until the read published as seq is completed: 0 and the
 * data, -EIO for a non-zero status, -ETIMEDOUT.  *data is all ones unless
 * 0 is returned.
 */
int softee_ring_wait_done(struct softee_ring *r, uint32_t seq,
			  const struct softee_wait *w, uint64_t timeout_ns,
			  uint64_t *data);

/*
 * One guest access, exactly as the module handles it: a write is queued
 * and posted (dropped at the timeout of a full ring), a read is queued and
 * waited for (all ones at a timeout, a bad status, or a broken ring).
 * Counts in c as the module counts its per-ring counters.  For a read,
 * *data gets the value (the low a->len bytes count); returns 0 or the
 * reason the access did not complete normally.
 */
int softee_ring_trap(struct softee_ring *r, const struct softee_access *a,
		     const struct softee_wait *w, uint64_t timeout_ns,
		     struct softee_counters *c, uint64_t *data);

#endif /* _SOFTEE_RING_H */
