/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by poller_e2e_test.c and its guest code (poller_e2e_guest.c). */
#ifndef _POLLER_E2E_H
#define _POLLER_E2E_H

#include <stdint.h>

/* What the guest runs */
#define PE_PROG_BASIC	1	/* IDs, registers, device memory, DMA both ways + MSI, bad DMA */
#define PE_PROG_LOST	2	/* a DMA, the box lost in the middle, back again */
#define PE_PROG_DMA	3	/* DMA both ways only (lossy link variants) */

/* GUEST_SYNC stages (args[0]); the host acts, then resumes the vCPU */
#define PE_S_BAD_BEFORE	10	/* hash guest RAM now */
#define PE_S_BAD_AFTER	11	/* ... and again: unchanged? */
#define PE_S_DMA_RUNNING 20	/* a 1 MiB DMA is running: kill the box */
#define PE_S_LOST	21	/* the guest saw all ones; arg: reads seen */
#define PE_S_BACK	22	/* the host brought a box back and waited for the device */

#define PE_LAPIC_SVR	0xfee000f0ULL
#define PE_LAPIC_EOI	0xfee000b0ULL

/* In guest RAM: the host fills it in, the guest reads it (and writes results). */
struct pe_params {
	uint64_t prog;
	uint64_t bar0, bar2;		/* the test endpoint's registers, device memory */
	uint64_t buf_a, buf_b;		/* DMA buffers in guest RAM */
	uint64_t len;			/* DMA bytes */
	uint64_t ram_end;		/* first byte past guest RAM */
	uint64_t vector;		/* the device's MSI vector */
	uint64_t bad_host;		/* a BAR address (device memory seen from the device) */
	uint64_t crc_a;			/* CRC-32 of buf_a's len bytes (the host computes it: */
	uint64_t crc_a_small;		/* ... guest compute is slow here); of its first 64 KiB */
	uint64_t word_a1, word_a_last;	/* buf_a's 64-bit words 1 and len/8 - 1 */
	/* results */
	uint64_t crc_to_dev, crc_to_host;
	uint64_t irqs;
	uint64_t lost_reads;		/* PROG_LOST: all-ones reads seen */
};

void pe_guest_main(uint64_t params_gpa);

#endif /* _POLLER_E2E_H */
