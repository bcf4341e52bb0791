/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The access stream of softee-trap's guest program, shared by the guest
 * (which makes the accesses and checks what reads return) and the host's
 * responder (which checks every access that arrives and answers reads).
 * The k-th access of vCPU v is a pure function of the parameters, v and k.
 */
#ifndef _TRAP_PATTERN_H
#define _TRAP_PATTERN_H

#include <stdint.h>

#define TRAP_PROG_WRITE		0
#define TRAP_PROG_READ		1
#define TRAP_PROG_MIXED		2

#define TRAP_OP_WRITE		0	/* = SOFTEE_OP_WRITE */
#define TRAP_OP_READ		1	/* = SOFTEE_OP_READ */

#define TRAP_BUS_MMIO		0	/* = SOFTEE_BUS_MMIO */
#define TRAP_BUS_PIO		1	/* = SOFTEE_BUS_PIO */

/* GUEST_SYNC stages around the measured loop. */
#define TRAP_SYNC_START		1
#define TRAP_SYNC_END		2
#define TRAP_SYNC_LAP		3	/* bench: a lap ended (arg: its index) */

/* In guest memory; the host fills it before the vCPUs start. */
struct trap_params {
	uint64_t base;		/* first address or port; 8-byte aligned */
	uint64_t len;		/* bytes or ports; >= 8 */
	uint64_t count;		/* accesses per vCPU */
	uint32_t bus;		/* TRAP_BUS_* */
	uint32_t program;	/* TRAP_PROG_* */
	uint32_t size;		/* 1, 2, 4, 8; 0 = cycle through them */
	uint32_t __pad;
};

struct trap_access {
	uint32_t op;		/* TRAP_OP_* */
	uint32_t len;
	uint64_t addr;
	uint64_t data;		/* write: what the guest writes; read: what
				 * the responder answers (low len bytes) */
};

static inline uint64_t trap_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline uint64_t trap_mask(uint32_t len)
{
	return len >= 8 ? ~0ULL : (1ULL << (8 * len)) - 1;
}

static inline void trap_access_at(const struct trap_params *p, uint32_t vcpu,
				  uint64_t k, struct trap_access *a)
{
	uint64_t h = trap_mix(k ^ ((uint64_t)vcpu << 48));
	uint64_t slots = p->len / 8;
	uint32_t sizes = p->bus == TRAP_BUS_PIO ? 3 : 4;	/* no 8-byte port I/O */

	a->len = p->size ? p->size : 1U << (k % sizes);
	if (p->program == TRAP_PROG_MIXED)
		a->op = (h >> 7) & 1 ? TRAP_OP_READ : TRAP_OP_WRITE;
	else
		a->op = p->program == TRAP_PROG_READ ? TRAP_OP_READ : TRAP_OP_WRITE;
	a->addr = p->base + ((k + 7 * (uint64_t)vcpu) % slots) * 8 +
		  ((h >> 11) % (8 / a->len)) * a->len;
	a->data = trap_mix(h ^ a->addr ^ a->op) & trap_mask(a->len);
}

#endif /* _TRAP_PATTERN_H */
