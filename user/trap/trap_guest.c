// SPDX-License-Identifier: GPL-2.0
/*
 * softee-trap's guest programs (guest code: built with
 * $(MICROVM_GUEST_CFLAGS), runs in the micro-VM).
 */
#include <microvm/guest.h>

#include "trap_guest.h"
#include "trap_pattern.h"

void trap_guest_run(const struct trap_params *p, uint64_t vcpu)
{
	struct trap_access a;
	uint64_t k, got, t0;

	GUEST_SYNC(TRAP_SYNC_START);
	t0 = rdtsc();
	for (k = 0; k < p->count; k++) {
		trap_access_at(p, (uint32_t)vcpu, k, &a);
		if (a.op == TRAP_OP_WRITE) {
			guest_write(p->bus, a.addr, a.len, a.data);
			continue;
		}
		got = guest_read(p->bus, a.addr, a.len);
		GUEST_ASSERT_EQ(got, a.data, k, a.addr, a.len);
	}
	GUEST_SYNC_ARG(TRAP_SYNC_END, rdtsc() - t0);
}

/* n 4-byte accesses to addr; written values go on from *seq. */
static uint32_t trap_guest_bench_loop(uint64_t addr, uint64_t n, uint64_t op, uint64_t bus,
				      uint32_t *seq)
{
	uint32_t sum = 0, v = *seq;
	uint64_t i;

	if (bus == TRAP_BUS_MMIO && op == TRAP_OP_WRITE)
		for (i = 0; i < n; i++)
			writel(v++, addr);
	else if (bus == TRAP_BUS_MMIO)
		for (i = 0; i < n; i++)
			sum += readl(addr);
	else if (op == TRAP_OP_WRITE)
		for (i = 0; i < n; i++)
			outl(v++, (uint16_t)addr);
	else
		for (i = 0; i < n; i++)
			sum += inl((uint16_t)addr);
	*seq = v;
	return sum;
}

/*
 * count accesses in laps laps (the first count % laps laps one longer),
 * a TRAP_SYNC_LAP after every lap but the last: the host times each lap.
 */
void trap_guest_bench(uint64_t addr, uint64_t count, uint64_t op, uint64_t bus,
		      uint64_t laps)
{
	uint64_t lap, t0;
	uint32_t sum = 0, seq = 0;

	GUEST_SYNC(TRAP_SYNC_START);
	t0 = rdtsc();
	for (lap = 0; lap < laps; lap++) {
		sum += trap_guest_bench_loop(addr, count / laps + (lap < count % laps), op, bus,
					     &seq);
		if (lap + 1 < laps)
			GUEST_SYNC_ARG(TRAP_SYNC_LAP, lap);
	}
	GUEST_SYNC_ARG(TRAP_SYNC_END, rdtsc() - t0);
	(void)sum;
}
