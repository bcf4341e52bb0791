/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The end-to-end guest program (user/guest/e2e_guest.c): a micro-VM guest
 * that drives the box's test endpoint (softee/testdev.h) as a driver would.
 * Its host is softee-guest (user/guest/main.c) or selftests/poller_e2e_test.c;
 * both fill in struct pe_params in guest RAM and act on its GUEST_SYNCs.
 */
#ifndef _SOFTEE_E2E_H
#define _SOFTEE_E2E_H

#include <stdint.h>

/* What the guest runs */
#define PE_PROG_BASIC	1	/* IDs, registers, device memory, DMA both ways + MSI, bad DMA */
#define PE_PROG_LOST	2	/* a DMA, the box lost in the middle, back again */
#define PE_PROG_DMA	3	/* DMA both ways only (lossy link variants) */
#define PE_PROG_BENCH_READ 4	/* reads of a register, each timed (lat[], TSC ticks) */
#define PE_PROG_BENCH_DMA 5	/* DMA of len bytes to the device and back, until stop */

/* pe_params.stop */
#define PE_STOP_TIME	1	/* the time is up: stop after this round trip */
#define PE_STOP_ABORT	2	/* no MSI came: stop waiting for one, now */

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
	/* benchmarks: in */
	uint64_t lat;			/* BENCH_READ: GPA of count uint64_t */
	uint64_t count;			/* BENCH_READ: reads */
	uint64_t stop;			/* BENCH_DMA: PE_STOP_*, set by the host */
	/* benchmarks: out */
	uint64_t iters, ticks;		/* BENCH_DMA: round trips done, TSC ticks they took */
	uint64_t errors;		/* BENCH_*: all-ones reads, DMA error status */
};

void pe_guest_main(uint64_t params_gpa);

#endif /* _SOFTEE_E2E_H */
