/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What kmod_cfg_test (host) hands kmod_cfg_guest (guest): a script of PCI
 * config accesses in guest memory, run in order by kc_guest_script().  A
 * CONF1 step is what an OS's "type 1" config access is: write
 * CONFIG_ADDRESS (port 0xcf8) with a dword, then access CONFIG_DATA
 * (0xcfc + (reg & 3)), both under one guest spinlock when the script has
 * one (Linux's pci_config_lock).  The host writes what each read must
 * return; the guest makes the accesses and checks.
 */
#ifndef _SELFTESTS_KMOD_CFG_H
#define _SELFTESTS_KMOD_CFG_H

#include <stdint.h>

#define KC_PORT_ADDR	0xcf8
#define KC_PORT_DATA	0xcfc

/* kc_step.kind */
#define KC_CONF1_WRITE	1	/* outl(cf8, 0xcf8); out(data, addr) */
#define KC_CONF1_READ	2	/* outl(cf8, 0xcf8); in(addr), check */
#define KC_MMIO_WRITE	3	/* an ECAM write at addr */
#define KC_MMIO_READ	4	/* an ECAM read at addr, check */
#define KC_PIO_WRITE	5	/* a bare port write */
#define KC_PIO_READ	6	/* a bare port read, check */
#define KC_SYNC		7	/* GUEST_SYNC_ARG(data, reads seen all ones so far) */

/* kc_step.check, for reads */
#define KC_CHECK_NONE	0
#define KC_CHECK_EQ	1	/* == data (its low len bytes) */

struct kc_step {
	uint8_t kind;
	uint8_t len;		/* 1, 2, 4 (MMIO: 8 too) */
	uint8_t check;
	uint8_t __pad;
	uint32_t cf8;		/* CONF1: the CONFIG_ADDRESS dword */
	uint64_t addr;		/* port or guest-physical address */
	uint64_t data;
};

/* The CONFIG_ADDRESS dword for bdf, reg; enable sets bit 31. */
static inline uint32_t kc_cf8(uint32_t bdf, uint32_t reg, int enable)
{
	return (enable ? 0x80000000U : 0) | (bdf & 0xffff) << 8 | (reg & 0xfc);
}

/* Guest: run steps[0..n); *lock (if not 0) is a spinlock shared by vCPUs. */
void kc_guest_script(const struct kc_step *steps, uint64_t n, uint64_t lock);

#endif /* _SELFTESTS_KMOD_CFG_H */
