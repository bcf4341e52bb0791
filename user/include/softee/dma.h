/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device's requests into guest memory: the guest memory map and the
 * checks every DMA goes through (Documentation/poller.rst, "DMA").
 *
 * A struct softee_memmap is an immutable, sorted list of (guest-physical
 * address, length, host pointer) ranges: the guest RAM the VMM shares with
 * the poller (a micro-VM's memfd mapping, QEMU's memory backend).  It is
 * never changed in place: adding or removing a range builds a new map, and
 * the poller publishes it under RCU (softee/poller.h).
 *
 * A request is served only when its whole byte range lies inside one range
 * of the map.  Outside every range, wrapping past 2^64, or straddling the
 * end of a range (even into an adjacent one) it is refused as a whole: no
 * byte of it is read or written.
 *
 * The functions here are pure (no transport, no threads) so that the tests
 * can drive them directly.
 */
#ifndef _SOFTEE_DMA_H
#define _SOFTEE_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softee/tlp.h>

#define SOFTEE_MEMMAP_MAX	64	/* ranges in a map */

struct softee_memmap_range {
	uint64_t gpa;
	uint64_t len;		/* > 0; gpa + len does not wrap */
	uint8_t *hva;		/* host address of gpa */
};

struct softee_memmap {
	uint32_t nr;
	struct softee_memmap_range r[];	/* sorted by gpa, never overlapping */
};

/*
 * Host pointer of [gpa, gpa + len) if it lies wholly inside one range,
 * else NULL (outside, wraps, straddles a range end, len 0).  m may be NULL.
 */
void *softee_memmap_lookup(const struct softee_memmap *m, uint64_t gpa, uint64_t len);

/*
 * A new map: old (may be NULL) plus [gpa, gpa + len) at hva.  0 and *out
 * (free() it), -EINVAL (len 0, hva NULL), -EOVERFLOW (gpa + len wraps),
 * -EEXIST (overlaps a range), -ENOSPC (SOFTEE_MEMMAP_MAX ranges), -ENOMEM.
 */
int softee_memmap_add(const struct softee_memmap *old, uint64_t gpa, uint64_t len,
		      void *hva, struct softee_memmap **out);
/* A new map: old without the range that starts at gpa.  -ENOENT. */
int softee_memmap_del(const struct softee_memmap *old, uint64_t gpa,
		      struct softee_memmap **out);
/* Bytes mapped. */
uint64_t softee_memmap_bytes(const struct softee_memmap *m);

/* Why a device request was refused (counted per device). */
enum softee_dma_err {
	SOFTEE_DMA_OK = 0,
	SOFTEE_DMA_ERR_RANGE,		/* outside the map, wraps or straddles */
	SOFTEE_DMA_ERR_MALFORMED,	/* not a memory request we can serve */
};

/*
 * A device MWr (decoded, kind SOFTEE_TLP_MWR): write its enabled bytes
 * into guest memory.  Holes in the byte enables of its first and last DW
 * are left alone.  0; -EFAULT (range refused: nothing written), -EINVAL.
 */
int softee_dma_write(const struct softee_memmap *m, const struct softee_tlp *t);

/*
 * A device MRd being answered: the request's header fields and the bytes
 * already sent.  Start with softee_dma_read_init(), then call
 * softee_dma_read_next() until it returns 0, sending each completion.
 */
struct softee_dma_read {
	struct softee_tlp req;		/* data pointer unused */
	uint64_t addr;			/* first byte */
	uint32_t len;			/* bytes, from the byte enables */
	uint32_t done;			/* bytes sent */
	uint16_t completer;		/* our ID in the completions */
	uint16_t peer;			/* the owner's (which box) */
	uint8_t status;			/* the owner's: answer with a Cpl of this status */
};

/*
 * Check a device MRd against m: 0 (rd ready for _next), -EFAULT (range
 * refused: answer with softee_dma_cpl_status(UR)), -EINVAL.
 */
int softee_dma_read_init(struct softee_dma_read *rd, const struct softee_memmap *m,
			 const struct softee_tlp *req, uint16_t completer);

/*
 * Encode the next CplD of rd into buf: at most max_payload bytes, split at
 * the read completion boundary rcb (64 or 128).  Returns the encoded
 * length, 0 when every byte was sent, -EFAULT if the range left the map
 * meanwhile (then answer the rest with UR), -EINVAL, -ENOSPC.  rd->done
 * moves only when the caller commits: softee_dma_read_commit(rd, covered),
 * *covered being what this completion carries.
 */
int softee_dma_read_next(const struct softee_dma_read *rd, const struct softee_memmap *m,
			 uint32_t max_payload, uint32_t rcb, uint8_t *buf, size_t cap,
			 uint32_t *covered);
static inline void softee_dma_read_commit(struct softee_dma_read *rd, uint32_t covered)
{
	rd->done += covered;
}

/*
 * A completion without data (Cpl) for a request: status (SOFTEE_TLP_CPL_UR,
 * _CA), Byte Count the bytes not returned (remaining), Lower Address from
 * the request.  Returns the encoded length or -errno.
 */
int softee_dma_cpl_status(const struct softee_tlp *req, uint16_t completer, uint8_t status,
			  uint32_t remaining, uint8_t *buf, size_t cap);

#endif /* _SOFTEE_DMA_H */
