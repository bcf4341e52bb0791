// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_cfg_test's guest (guest code, built with $(MICROVM_GUEST_CFLAGS)):
 * runs a script of PCI config accesses, type 1 (0xcf8/0xcfc) and ECAM,
 * that the host wrote into guest memory, and checks what reads return
 * (see kmod_cfg.h).
 */
#include <microvm/guest.h>

#include "kmod_cfg.h"

static void kc_lock(volatile uint32_t *lock)
{
	if (!lock)
		return;
	while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
}

static void kc_unlock(volatile uint32_t *lock)
{
	if (lock)
		__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

void kc_guest_script(const struct kc_step *steps, uint64_t n, uint64_t lock_gpa)
{
	volatile uint32_t *lock = (volatile uint32_t *)lock_gpa;
	uint64_t i, ones = 0, got, mask;
	const struct kc_step *s;
	uint32_t bus;

	for (i = 0; i < n; i++) {
		s = &steps[i];
		mask = s->len >= 8 ? ~0ULL : (1ULL << (8 * s->len)) - 1;
		bus = s->kind == KC_MMIO_READ || s->kind == KC_MMIO_WRITE ?
		      MICROVM_BUS_MMIO : MICROVM_BUS_PIO;
		switch (s->kind) {
		case KC_CONF1_WRITE:
			kc_lock(lock);
			outl(s->cf8, KC_PORT_ADDR);
			guest_write(MICROVM_BUS_PIO, s->addr, s->len, s->data);
			kc_unlock(lock);
			continue;
		case KC_MMIO_WRITE:
		case KC_PIO_WRITE:
			guest_write(bus, s->addr, s->len, s->data);
			continue;
		case KC_CONF1_READ:
			kc_lock(lock);
			outl(s->cf8, KC_PORT_ADDR);
			got = guest_read(MICROVM_BUS_PIO, s->addr, s->len);
			kc_unlock(lock);
			break;
		case KC_MMIO_READ:
		case KC_PIO_READ:
			got = guest_read(bus, s->addr, s->len);
			break;
		case KC_SYNC:
			GUEST_SYNC_ARG(s->data, ones);
			continue;
		default:
			GUEST_FAIL("bad step", i, s->kind);
		}
		if (got == mask)
			ones++;
		if (s->check == KC_CHECK_EQ)
			GUEST_ASSERT_EQ(got, s->data & mask, i, s->addr, s->len, s->cf8);
	}
}
