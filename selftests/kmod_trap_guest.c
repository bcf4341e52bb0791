// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_trap_test's guest (guest code, built with $(MICROVM_GUEST_CFLAGS)):
 * runs a script of MMIO and port accesses that the host wrote into guest
 * memory, and checks what each read returns (see kmod_trap.h).
 */
#include <microvm/guest.h>

#include "kmod_trap.h"

static void kt_guest_write(const struct kt_step *s)
{
	if (s->bus == KT_BUS_PIO) {
		switch (s->len) {
		case 1: outb((uint8_t)s->data, (uint16_t)s->addr); return;
		case 2: outw((uint16_t)s->data, (uint16_t)s->addr); return;
		default: outl((uint32_t)s->data, (uint16_t)s->addr); return;
		}
	}
	switch (s->len) {
	case 1: writeb((uint8_t)s->data, s->addr); return;
	case 2: writew((uint16_t)s->data, s->addr); return;
	case 4: writel((uint32_t)s->data, s->addr); return;
	default: writeq(s->data, s->addr); return;
	}
}

static uint64_t kt_guest_read(const struct kt_step *s)
{
	if (s->bus == KT_BUS_PIO) {
		switch (s->len) {
		case 1: return inb((uint16_t)s->addr);
		case 2: return inw((uint16_t)s->addr);
		default: return inl((uint16_t)s->addr);
		}
	}
	switch (s->len) {
	case 1: return readb(s->addr);
	case 2: return readw(s->addr);
	case 4: return readl(s->addr);
	default: return readq(s->addr);
	}
}

void kt_guest_script(const struct kt_step *steps, uint64_t n)
{
	uint64_t i = 0, ones = 0, got, want, mask;
	const struct kt_step *s;

	while (i < n) {
		s = &steps[i];
		switch (s->kind) {
		case KT_WRITE:
			kt_guest_write(s);
			break;
		case KT_READ:
			mask = s->len >= 8 ? ~0ULL : (1ULL << (8 * s->len)) - 1;
			got = kt_guest_read(s);
			want = s->data & mask;
			if (got == mask)
				ones++;
			if (s->check == KT_CHECK_EQ)
				GUEST_ASSERT_EQ(got, want, i, s->addr, s->len);
			else if (s->check == KT_CHECK_EQ_OR_ONES)
				GUEST_ASSERT_V(got == want || got == mask, got, want, i, s->addr,
					       s->len);
			break;
		case KT_SYNC:
			GUEST_SYNC_ARG(s->data, ones);
			break;
		case KT_JUMP:
			i = s->data;
			continue;
		default:
			GUEST_FAIL("bad step", i, s->kind);
		}
		i++;
	}
}
