/* SPDX-License-Identifier: GPL-2.0 */
/* softee-trap's guest entry points (in trap_guest.c, guest code). */
#ifndef _TRAP_GUEST_H
#define _TRAP_GUEST_H

#include <stdint.h>

struct trap_params;

/* p->count accesses of the pattern (trap_pattern.h), checking reads. */
void trap_guest_run(const struct trap_params *p, uint64_t vcpu);

/* count 4-byte accesses to one address: op TRAP_OP_*, bus TRAP_BUS_*. */
void trap_guest_bench(uint64_t addr, uint64_t count, uint64_t op, uint64_t bus,
		      uint64_t laps);

#endif /* _TRAP_GUEST_H */
