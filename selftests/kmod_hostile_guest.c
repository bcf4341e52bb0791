// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_hostile_test's guest (guest code, built with $(MICROVM_GUEST_CFLAGS)):
 * traffic to a trapped region while a hostile process scribbles over the
 * rings, and the steps of the targeted corrupt-ring case.
 */
#include <microvm/guest.h>

/*
 * phases times: count writes and count reads of every size at base..base+0x80,
 * then GUEST_SYNC_ARG(phase, reads that came back all ones so far).
 * Whatever the reads return is fine: the point is that they return.
 */
void kh_guest_traffic(uint64_t base, uint64_t bus, uint64_t count, uint64_t phases)
{
	uint64_t p, i, v, ones = 0;
	uint32_t len;

	for (p = 1; p <= phases; p++) {
		for (i = 0; i < count; i++) {
			len = 1U << (i % (bus == MICROVM_BUS_PIO ? 3 : 4));
			guest_write(bus, base + ((i * 8) & 0x78), len, i * 0x0101010101010101ULL);
			v = guest_read(bus, base + ((i * 8 + 4) & 0x78), len);
			if (v == (len == 8 ? ~0ULL : (1ULL << (8 * len)) - 1))
				ones++;
		}
		GUEST_SYNC_ARG(p, ones);
	}
}

/*
 * The targeted case: three writes (stage 1: the host breaks cons), a write
 * (stage 2), nreads reads that must all come back all ones (stage 3: the
 * host puts cons right again), a write and a read, all ones (stage 4).
 */
void kh_guest_targeted(uint64_t base, uint64_t bus, uint64_t nreads)
{
	uint64_t i;

	for (i = 0; i < 3; i++)
		guest_write(bus, base + 4 * i, 4, 0x100 + i);
	GUEST_SYNC(1);
	guest_write(bus, base, 4, 0x200);
	GUEST_SYNC(2);
	for (i = 0; i < nreads; i++)
		GUEST_ASSERT_EQ(guest_read(bus, base + 4 * (i % 8), 4), 0xffffffffULL, i);
	GUEST_SYNC(3);
	guest_write(bus, base, 4, 0x300);
	GUEST_ASSERT_EQ(guest_read(bus, base + 4, 4), 0xffffffffULL);
	GUEST_SYNC(4);
}
