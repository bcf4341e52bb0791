/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What kmod_trap_test (host) hands kmod_trap_guest (guest): a script of
 * accesses in guest memory, run in order by kt_guest_script().  The host
 * knows the sequence number each access gets in the vCPU's ring, so it
 * writes the value each read must return into the script; the guest only
 * makes the accesses and checks.
 */
#ifndef _SELFTESTS_KMOD_TRAP_H
#define _SELFTESTS_KMOD_TRAP_H

#include <stdint.h>

/* kt_step.kind */
#define KT_WRITE	1	/* write data (len bytes) to addr */
#define KT_READ		2	/* read addr, check as kt_step.check says */
#define KT_SYNC		3	/* GUEST_SYNC_ARG(data, reads seen all ones so far) */
#define KT_JUMP		4	/* go on at step data (a loop) */

/* kt_step.check, for KT_READ */
#define KT_CHECK_NONE	0
#define KT_CHECK_EQ	1	/* == data (its low len bytes) */
#define KT_CHECK_EQ_OR_ONES 2	/* == data, or all ones (a timeout) */

/* kt_step.bus: as SOFTEE_BUS_* */
#define KT_BUS_MMIO	0
#define KT_BUS_PIO	1

struct kt_step {
	uint8_t kind;
	uint8_t bus;
	uint8_t len;		/* 1, 2, 4, 8 (PIO: 1, 2, 4) */
	uint8_t check;
	uint32_t __pad;
	uint64_t addr;		/* guest-physical address or port */
	uint64_t data;
};

/* Guest: run steps[0..n); returns (DONE) at the end. */
void kt_guest_script(const struct kt_step *steps, uint64_t n);

#endif /* _SELFTESTS_KMOD_TRAP_H */
