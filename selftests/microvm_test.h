/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by microvm_test.c and its guest code. */
#ifndef _MICROVM_TEST_H
#define _MICROVM_TEST_H

#include <stdint.h>

#define MT_SYNC		0
#define MT_ASSERT	1
#define MT_FAULT	2
#define MT_MMIO		3
#define MT_MSI		4
#define MT_WRITES	5

#define MT_MMIO_BASE	0xd0000000ULL
#define MT_PIO_BASE	0x7000
#define MT_UNMAPPED	0x7f0000000000ULL
#define MT_LAPIC_SVR	0xfee000f0ULL
#define MT_LAPIC_EOI	0xfee000b0ULL
#define MT_VECTOR	0x41

void mt_guest_main(uint64_t what, uint64_t arg);

#endif /* _MICROVM_TEST_H */
