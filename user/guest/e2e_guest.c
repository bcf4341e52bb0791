// SPDX-License-Identifier: GPL-2.0
/*
 * The end-to-end guest (softee/e2e.h), for softee-guest and
 * selftests/poller_e2e_test.c: drives the box's test endpoint
 * (softee/testdev.h) through the BARs the poller assigned, as a driver
 * would: IDs, registers, device memory, DMA in both directions with CRCs
 * (computed by the host: guest code runs slowly on these machines),
 * the MSI in an IDT handler, DMA aimed outside guest RAM, and the box
 * lost in the middle of a DMA; and the benchmarks' loops (timed with the
 * TSC: a GUEST_SYNC per sample would cost a VM exit each).
 */
#include <microvm/guest.h>
#include <softee/testdev.h>

#include <softee/e2e.h>

static volatile uint64_t pe_irqs;

static void pe_irq(struct microvm_guest_regs *regs)
{
	(void)regs;
	pe_irqs++;
	writel(0, PE_LAPIC_EOI);
}

static uint32_t reg(const struct pe_params *p, uint32_t off)
{
	return readl(p->bar0 + off);
}

static void wreg(const struct pe_params *p, uint32_t off, uint32_t v)
{
	writel(v, p->bar0 + off);
}

/* Start a DMA, wait for its end; returns STATUS. */
static uint32_t pe_dma(const struct pe_params *p, uint64_t host, uint32_t dev, uint32_t len,
		       uint32_t dir)
{
	uint64_t t0, limit = 60000000000ULL;	/* TSC ticks: 20 s or more */
	uint32_t st = 0;

	wreg(p, SOFTEE_TESTDEV_STATUS, SOFTEE_TESTDEV_STATUS_DONE | SOFTEE_TESTDEV_STATUS_ERROR);
	wreg(p, SOFTEE_TESTDEV_DMA_HOST_LO, (uint32_t)host);
	wreg(p, SOFTEE_TESTDEV_DMA_HOST_HI, (uint32_t)(host >> 32));
	wreg(p, SOFTEE_TESTDEV_DMA_DEV, dev);
	wreg(p, SOFTEE_TESTDEV_DMA_LEN, len);
	wreg(p, SOFTEE_TESTDEV_DMA_DIR, dir);
	wreg(p, SOFTEE_TESTDEV_CTRL, SOFTEE_TESTDEV_CTRL_START | SOFTEE_TESTDEV_CTRL_IRQ_EN);
	t0 = rdtsc();
	do {
		st = reg(p, SOFTEE_TESTDEV_STATUS);
		if (st == 0xffffffffu || !(st & SOFTEE_TESTDEV_STATUS_BUSY))
			break;
	} while (rdtsc() - t0 < limit);
	GUEST_ASSERT_V(!(st & SOFTEE_TESTDEV_STATUS_BUSY) || st == 0xffffffffu, st, host, len);
	return st;
}

/*
 * The MSI must have come before the completion that said DONE (it was sent
 * ahead of it).  The host compares the interrupts taken with the MSIs
 * injected (prog_test): a nested guest in the TCG test VM has been seen to
 * take one MSI twice (selftests/vm/README.md, "Nested guests").
 */
static void pe_wait_irq(uint64_t before)
{
	uint64_t i;

	for (i = 0; i < 1000 && pe_irqs == before; i++)
		cpu_relax();
	GUEST_ASSERT_V(pe_irqs != before, pe_irqs, before);
}

/*
 * 1 MiB each way.  The host filled buf_a and computed its CRC (guest code
 * runs slowly on these machines: no bulk work in the guest); the guest
 * checks the device's CRC register and a few words, the host compares the
 * buffers afterwards.
 */
static void pe_dma_both_ways(struct pe_params *p)
{
	uint32_t len = (uint32_t)p->len, st;
	uint64_t irqs;

	/* host -> device */
	irqs = pe_irqs;
	st = pe_dma(p, p->buf_a, 0, len, SOFTEE_TESTDEV_DIR_TO_DEV);
	GUEST_ASSERT_EQ(st, SOFTEE_TESTDEV_STATUS_DONE, softee_testdev_err(st));
	GUEST_ASSERT_EQ(reg(p, SOFTEE_TESTDEV_CRC), p->crc_a);
	pe_wait_irq(irqs);
	p->crc_to_dev = reg(p, SOFTEE_TESTDEV_CRC);
	/* device memory, read through BAR2: what the DMA put there */
	GUEST_ASSERT_EQ(readq(p->bar2 + 8), p->word_a1);
	GUEST_ASSERT_EQ(readq(p->bar2 + len - 8), p->word_a_last);

	/* device -> host, into buf_b */
	irqs = pe_irqs;
	st = pe_dma(p, p->buf_b, 0, len, SOFTEE_TESTDEV_DIR_TO_HOST);
	GUEST_ASSERT_EQ(st, SOFTEE_TESTDEV_STATUS_DONE, softee_testdev_err(st));
	pe_wait_irq(irqs);
	GUEST_ASSERT_EQ(((const volatile uint64_t *)p->buf_b)[1], p->word_a1);
	GUEST_ASSERT_EQ(((const volatile uint64_t *)p->buf_b)[len / 8 - 1], p->word_a_last);
	p->crc_to_host = reg(p, SOFTEE_TESTDEV_CRC);
	GUEST_ASSERT_EQ(p->crc_to_host, p->crc_a);
}

static void pe_basic(struct pe_params *p)
{
	uint64_t i;
	uint32_t st;

	/* IDs through BAR0, in every access size */
	GUEST_ASSERT_EQ(reg(p, SOFTEE_TESTDEV_ID), SOFTEE_TESTDEV_MAGIC);
	GUEST_ASSERT_EQ(reg(p, SOFTEE_TESTDEV_VER), SOFTEE_TESTDEV_VERSION);
	GUEST_ASSERT_EQ(readq(p->bar0), SOFTEE_TESTDEV_MAGIC |
			(uint64_t)SOFTEE_TESTDEV_VERSION << 32);
	GUEST_ASSERT_EQ(readw(p->bar0 + 2), SOFTEE_TESTDEV_MAGIC >> 16);
	GUEST_ASSERT_EQ(readb(p->bar0 + 1), (SOFTEE_TESTDEV_MAGIC >> 8) & 0xff);
	GUEST_ASSERT(reg(p, SOFTEE_TESTDEV_DEVMEM_SIZE) >= p->len);

	/* a register written and read back, whole and in pieces */
	wreg(p, SOFTEE_TESTDEV_SCRATCH, 0x12345678);
	GUEST_ASSERT_EQ(reg(p, SOFTEE_TESTDEV_SCRATCH), 0x12345678);
	writeb(0xab, p->bar0 + SOFTEE_TESTDEV_SCRATCH + 1);
	writew(0xcdef, p->bar0 + SOFTEE_TESTDEV_SCRATCH + 2);
	GUEST_ASSERT_EQ(reg(p, SOFTEE_TESTDEV_SCRATCH), 0xcdefab78);

	/* device memory: adjacent posted writes (they may merge), read back */
	for (i = 0; i < 512; i++)
		writeq(i * 0x0101010101010101ULL ^ 0xfeedULL, p->bar2 + 0x1000 + 8 * i);
	for (i = 0; i < 512; i += 37)
		GUEST_ASSERT_EQ(readq(p->bar2 + 0x1000 + 8 * i), i * 0x0101010101010101ULL ^ 0xfeedULL, i);
	for (i = 0; i < 64; i++)
		writeb((uint8_t)i, p->bar2 + 0x3001 + i);
	GUEST_ASSERT_EQ(readl(p->bar2 + 0x3001), 0x03020100);
	GUEST_ASSERT_EQ(readl(p->bar2 + 0x303c), 0x3e3d3c3b);

	/* a doorbell: a posted write, its counter */
	wreg(p, SOFTEE_TESTDEV_DOORBELL, 7);
	wreg(p, SOFTEE_TESTDEV_DOORBELL, 8);
	GUEST_ASSERT_EQ(reg(p, SOFTEE_TESTDEV_COUNTER), 2);

	pe_dma_both_ways(p);

	/*
	 * DMA aimed outside guest RAM.  Host RAM is hashed before and after:
	 * nothing may change.  Reads from there end in UR (the device says
	 * so); writes there are dropped by the host (posted: the device cannot
	 * tell).
	 */
	GUEST_SYNC(PE_S_BAD_BEFORE);
	st = pe_dma(p, p->ram_end, 0, 4096, SOFTEE_TESTDEV_DIR_TO_DEV);
	GUEST_ASSERT_EQ(softee_testdev_err(st), SOFTEE_TESTDEV_ERR_HOST_UR, st);
	st = pe_dma(p, p->ram_end - 256, 0, 1024, SOFTEE_TESTDEV_DIR_TO_DEV);
	GUEST_ASSERT_EQ(softee_testdev_err(st), SOFTEE_TESTDEV_ERR_HOST_UR, st);
	st = pe_dma(p, p->bad_host, 0, 4096, SOFTEE_TESTDEV_DIR_TO_DEV);
	GUEST_ASSERT_EQ(softee_testdev_err(st), SOFTEE_TESTDEV_ERR_HOST_UR, st);
	st = pe_dma(p, p->ram_end, 0, 8192, SOFTEE_TESTDEV_DIR_TO_HOST);
	GUEST_ASSERT_EQ(st & SOFTEE_TESTDEV_STATUS_BUSY, 0, st);
	st = pe_dma(p, p->bad_host, 0, 4096, SOFTEE_TESTDEV_DIR_TO_HOST);
	GUEST_ASSERT_EQ(st & SOFTEE_TESTDEV_STATUS_BUSY, 0, st);
	st = pe_dma(p, 0xfffffffffffff000ULL, 0, 4096, SOFTEE_TESTDEV_DIR_TO_HOST);
	GUEST_ASSERT_EQ(st & SOFTEE_TESTDEV_STATUS_BUSY, 0, st);
	/* the device still works */
	GUEST_ASSERT_EQ(reg(p, SOFTEE_TESTDEV_ID), SOFTEE_TESTDEV_MAGIC);
	GUEST_SYNC(PE_S_BAD_AFTER);
}

static void pe_lost(struct pe_params *p)
{
	uint32_t len = (uint32_t)p->len, st = 0;
	uint64_t i, ones = 0, irqs;

	GUEST_ASSERT_EQ(reg(p, SOFTEE_TESTDEV_ID), SOFTEE_TESTDEV_MAGIC);
	wreg(p, SOFTEE_TESTDEV_DMA_HOST_LO, (uint32_t)p->buf_a);
	wreg(p, SOFTEE_TESTDEV_DMA_HOST_HI, (uint32_t)(p->buf_a >> 32));
	wreg(p, SOFTEE_TESTDEV_DMA_DEV, 0);
	wreg(p, SOFTEE_TESTDEV_DMA_LEN, len);
	wreg(p, SOFTEE_TESTDEV_DMA_DIR, SOFTEE_TESTDEV_DIR_TO_DEV);
	wreg(p, SOFTEE_TESTDEV_CTRL, SOFTEE_TESTDEV_CTRL_START);
	GUEST_SYNC(PE_S_DMA_RUNNING);
	/* The box is gone: every read ends, with all ones, within the timeout. */
	for (i = 0; i < 10000; i++) {
		st = reg(p, SOFTEE_TESTDEV_STATUS);
		if (st == 0xffffffffu)
			break;
	}
	GUEST_ASSERT_EQ(st, 0xffffffffu, i);
	for (i = 0; i < 200; i++) {
		st = reg(p, SOFTEE_TESTDEV_ID);
		ones += st == 0xffffffffu;
		writel(1, p->bar0 + SOFTEE_TESTDEV_SCRATCH);	/* dropped, not stuck */
	}
	GUEST_ASSERT_EQ(ones, 200);
	p->lost_reads = ones;
	GUEST_SYNC_ARG(PE_S_LOST, ones);
	/* A box is back, the device configured again at the same addresses. */
	GUEST_SYNC(PE_S_BACK);
	GUEST_ASSERT_EQ(reg(p, SOFTEE_TESTDEV_ID), SOFTEE_TESTDEV_MAGIC);
	irqs = pe_irqs;
	st = pe_dma(p, p->buf_a, 0, 65536, SOFTEE_TESTDEV_DIR_TO_DEV);
	GUEST_ASSERT_EQ(st, SOFTEE_TESTDEV_STATUS_DONE, softee_testdev_err(st));
	GUEST_ASSERT_EQ(reg(p, SOFTEE_TESTDEV_CRC), p->crc_a_small);
	pe_wait_irq(irqs);
}

/* Timed register reads: the round trip of a non-posted request through the box. */
static void pe_bench_read(struct pe_params *p)
{
	volatile uint64_t *lat = (volatile uint64_t *)p->lat;
	uint64_t i, t0, v;

	for (i = 0; i < p->count; i++) {
		t0 = rdtsc();
		v = reg(p, SOFTEE_TESTDEV_ID);
		lat[i] = rdtsc() - t0;
		p->errors += v != SOFTEE_TESTDEV_MAGIC;
	}
}

/*
 * A DMA as a driver does it: program it in three 8-byte writes (the host
 * address; device offset and length; direction and then CTRL, as the
 * device takes a write's registers in address order), halt until the MSI,
 * read STATUS once.  START clears DONE and ERROR itself.  Every access is
 * a guest exit here (about 10 us under the nested KVM of these machines,
 * the same on every link), so the driver makes as few as it can.  The
 * vCPU sleeps in KVM meanwhile (no reads on the link, a core free for the
 * poller and the box).  The MSI goes out behind the DMA's last write, so
 * the data is in place when it comes.  No clock is read here: RDTSC is a
 * guest exit too on these machines (5-8 us), and the loop's own timing
 * once read it five times a DMA, on every link.
 */
static uint32_t pe_dma_irq(struct pe_params *p, uint64_t host, uint32_t len, uint32_t dir)
{
	uint64_t before = pe_irqs;

	writeq(host, p->bar0 + SOFTEE_TESTDEV_DMA_HOST_LO);
	writeq((uint64_t)len << 32, p->bar0 + SOFTEE_TESTDEV_DMA_DEV);	/* DEV 0, LEN */
	guest_irq_disable();
	writeq(dir | (uint64_t)(SOFTEE_TESTDEV_CTRL_START | SOFTEE_TESTDEV_CTRL_IRQ_EN) << 32,
	       p->bar0 + SOFTEE_TESTDEV_DMA_DIR);			/* DIR, then CTRL */
	/*
	 * If the device's MSI never comes, the host says abort and wakes us
	 * with one of its own (again each second, until we are done).
	 */
	while (pe_irqs == before) {
		if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE) == PE_STOP_ABORT) {
			guest_irq_enable();
			return 0xffffffffu;
		}
		guest_safe_halt();	/* returns after the handler ran */
		guest_irq_disable();
	}
	guest_irq_enable();
	return reg(p, SOFTEE_TESTDEV_STATUS);
}

/* DMA of len bytes to the device and back, until the host says stop. */
static void pe_bench_dma(struct pe_params *p)
{
	uint32_t len = (uint32_t)p->len, st;
	uint64_t t0 = rdtsc(), n = 0;

	do {
		st = pe_dma_irq(p, p->buf_a, len, SOFTEE_TESTDEV_DIR_TO_DEV);
		p->errors += st != SOFTEE_TESTDEV_STATUS_DONE;
		st = pe_dma_irq(p, p->buf_b, len, SOFTEE_TESTDEV_DIR_TO_HOST);
		p->errors += st != SOFTEE_TESTDEV_STATUS_DONE;
		n++;
	} while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE) && !p->errors);
	p->ticks = rdtsc() - t0;
	p->iters = n;
}

void pe_guest_main(uint64_t params_gpa)
{
	struct pe_params *p = (struct pe_params *)params_gpa;

	microvm_guest_set_handler((uint8_t)p->vector, pe_irq);
	writel(readl(PE_LAPIC_SVR) | 0x100, PE_LAPIC_SVR);	/* the LAPIC on */
	guest_irq_enable();
	switch (p->prog) {
	case PE_PROG_BASIC:
		pe_basic(p);
		break;
	case PE_PROG_LOST:
		pe_lost(p);
		break;
	case PE_PROG_DMA:
		pe_dma_both_ways(p);
		break;
	case PE_PROG_BENCH_READ:
		pe_bench_read(p);
		break;
	case PE_PROG_BENCH_DMA:
		pe_bench_dma(p);
		break;
	default:
		GUEST_FAIL("unknown program", p->prog);
	}
	guest_irq_disable();
	p->irqs = pe_irqs;
}
