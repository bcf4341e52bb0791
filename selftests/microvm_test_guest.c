// SPDX-License-Identifier: GPL-2.0
/* Guest code of microvm_test.c (built as guest code). */
#include <microvm/guest.h>

#include "microvm_test.h"

static volatile uint64_t mt_irqs;

static void mt_irq(struct microvm_guest_regs *regs)
{
	mt_irqs += regs->vector;
	writel(0, MT_LAPIC_EOI);
}

void mt_guest_main(uint64_t what, uint64_t arg)
{
	uint64_t v;

	switch (what) {
	case MT_SYNC:
		GUEST_SYNC_ARG(7, arg);
		GUEST_SYNC_ARG(8, arg + 1);
		break;
	case MT_ASSERT:
		v = arg;
		GUEST_ASSERT_EQ(v, 3, arg * 2);
		break;
	case MT_FAULT:
		*(volatile uint64_t *)MT_UNMAPPED = 1;
		break;
	case MT_MMIO:
		writel(0x11223344, MT_MMIO_BASE);
		writeq(0x5566778899aabbccULL, MT_MMIO_BASE + 8);
		writeb(0xdd, MT_MMIO_BASE + 3);
		GUEST_ASSERT_EQ(readl(MT_MMIO_BASE + 4), 0xa5a5a5a5);
		GUEST_ASSERT_EQ(readq(MT_MMIO_BASE + 16), 0x0123456789abcdefULL);
		outw(0xbeef, MT_PIO_BASE);
		GUEST_ASSERT_EQ(inb(MT_PIO_BASE + 1), 0x5a);
		GUEST_ASSERT_EQ(inl(MT_PIO_BASE + 4), 0xfeedf00d);
		break;
	case MT_MSI:
		microvm_guest_set_handler(MT_VECTOR, mt_irq);
		writel(readl(MT_LAPIC_SVR) | 0x100, MT_LAPIC_SVR);
		GUEST_SYNC(1);			/* the host sends the MSI now */
		while (!mt_irqs)
			guest_safe_halt();
		guest_irq_disable();
		GUEST_ASSERT_EQ(mt_irqs, MT_VECTOR);
		break;
	case MT_WRITES:
		for (v = 0; v < arg; v++)
			writel((uint32_t)v, MT_MMIO_BASE);
		break;
	}
}
