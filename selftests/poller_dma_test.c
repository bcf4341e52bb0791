// SPDX-License-Identifier: GPL-2.0
/*
 * The poller's checks, without a VM or a link: the guest memory map
 * (outside, wrapping, straddling, adjacent ranges), device MWr and MRd
 * served byte for byte and refused as a whole (canaries on both sides of
 * guest RAM must never change), completions split at RCB and max payload,
 * UR completions; and the device-configuration helpers (BAR sizing,
 * capability walk, window placement).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include <softee/devcfg.h>
#include <softee/dma.h>
#include <softee/msi.h>
#include <softee/tlp.h>

/* Not 4 KiB aligned at either end: requests can straddle them without crossing 4 KiB. */
#define RAM_GPA		0x100040ULL
#define RAM_LEN		0xff00ULL
#define CANARY		4096

/* ---- the memory map --------------------------------------------------------- */

TEST(memmap_lookup_checks_every_byte)
{
	static uint8_t a[0x1000], b[0x1000];
	struct softee_memmap *m, *m2, *m3;

	ASSERT_EQ(0, softee_memmap_add(NULL, 0x1000, sizeof(a), a, &m));
	ASSERT_EQ(0, softee_memmap_add(m, 0x2000, sizeof(b), b, &m2));	/* adjacent */
	EXPECT_EQ((void *)a, softee_memmap_lookup(m2, 0x1000, 0x1000));
	EXPECT_EQ((void *)(a + 0xfff), softee_memmap_lookup(m2, 0x1fff, 1));
	EXPECT_EQ((void *)b, softee_memmap_lookup(m2, 0x2000, 1));
	/* straddling the end of a range, even into the adjacent one */
	EXPECT_EQ(NULL, softee_memmap_lookup(m2, 0x1fff, 2));
	EXPECT_EQ(NULL, softee_memmap_lookup(m2, 0x2ff8, 16));
	/* outside, before, zero length, wrapping */
	EXPECT_EQ(NULL, softee_memmap_lookup(m2, 0x0fff, 1));
	EXPECT_EQ(NULL, softee_memmap_lookup(m2, 0x3000, 1));
	EXPECT_EQ(NULL, softee_memmap_lookup(m2, 0x1000, 0));
	EXPECT_EQ(NULL, softee_memmap_lookup(m2, 0x1800, UINT64_MAX));
	EXPECT_EQ(NULL, softee_memmap_lookup(m2, UINT64_MAX - 7, 16));
	EXPECT_EQ(NULL, softee_memmap_lookup(NULL, 0x1000, 1));
	/* what add refuses */
	EXPECT_EQ(-EEXIST, softee_memmap_add(m2, 0x1800, 0x1000, a, &m3));
	EXPECT_EQ(-EEXIST, softee_memmap_add(m2, 0x0800, 0x1000, a, &m3));
	EXPECT_EQ(-EOVERFLOW, softee_memmap_add(m2, UINT64_MAX - 0xfff, 0x1000, a, &m3));
	EXPECT_EQ(-EINVAL, softee_memmap_add(m2, 0x9000, 0, a, &m3));
	EXPECT_EQ(-EINVAL, softee_memmap_add(m2, 0x9000, 16, NULL, &m3));
	EXPECT_EQ(0x2000, softee_memmap_bytes(m2));
	/* delete */
	ASSERT_EQ(0, softee_memmap_del(m2, 0x1000, &m3));
	EXPECT_EQ(NULL, softee_memmap_lookup(m3, 0x1000, 1));
	EXPECT_EQ((void *)b, softee_memmap_lookup(m3, 0x2000, 1));
	EXPECT_EQ(-ENOENT, softee_memmap_del(m3, 0x1000, &m));
	free(m3);
	free(m2);
	ASSERT_EQ(0, softee_memmap_add(NULL, 0x1000, sizeof(a), a, &m));
	free(m);
}

/* ---- device requests --------------------------------------------------------- */

FIXTURE(dma) {
	uint8_t *mem;		/* canary | RAM | canary */
	uint8_t *ram;
	struct softee_memmap *m;
};

FIXTURE_SETUP(dma)
{
	self->mem = malloc(RAM_LEN + 2 * CANARY);
	ASSERT_NE(NULL, self->mem);
	memset(self->mem, 0xcc, RAM_LEN + 2 * CANARY);
	self->ram = self->mem + CANARY;
	memset(self->ram, 0, RAM_LEN);
	ASSERT_EQ(0, softee_memmap_add(NULL, RAM_GPA, RAM_LEN, self->ram, &self->m));
}

FIXTURE_TEARDOWN(dma)
{
	free(self->m);
	free(self->mem);
}

static bool canaries_intact(FIXTURE_DATA(dma) *self)
{
	size_t i;

	for (i = 0; i < CANARY; i++)
		if (self->mem[i] != 0xcc || self->ram[RAM_LEN + i] != 0xcc)
			return false;
	return true;
}

static void mwr(struct softee_tlp *t, uint64_t addr, uint32_t len, const uint8_t *data)
{
	memset(t, 0, sizeof(*t));
	t->kind = SOFTEE_TLP_MWR;
	t->requester = SOFTEE_BDF(1, 0, 0);
	softee_tlp_set_range(t, addr, len);
	t->data = data;
}

TEST_F(dma, write_lands_byte_for_byte)
{
	uint8_t data[4100];
	struct softee_tlp t;
	uint32_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	/* unaligned start and end: DW 0 and the last DW partly enabled */
	mwr(&t, RAM_GPA + 0x103, 250, data);	/* payload from the DW: byte 3 first */
	ASSERT_EQ(0, softee_dma_write(self->m, &t));
	EXPECT_EQ(0, memcmp(self->ram + 0x103, data + 3, 250));
	EXPECT_EQ(0, self->ram[0x102]);
	EXPECT_EQ(0, self->ram[0x103 + 250]);
	/* one DW with holes in its byte enables: only the enabled bytes */
	memset(&t, 0, sizeof(t));
	t.kind = SOFTEE_TLP_MWR;
	t.addr = RAM_GPA + 0x200;
	t.len_dw = 1;
	t.first_be = 0x5;			/* bytes 0 and 2 */
	t.data = data;
	ASSERT_EQ(0, softee_dma_write(self->m, &t));
	EXPECT_EQ(data[0], self->ram[0x200]);
	EXPECT_EQ(0, self->ram[0x201]);
	EXPECT_EQ(data[2], self->ram[0x202]);
	/* the last bytes of RAM */
	mwr(&t, RAM_GPA + RAM_LEN - 8, 8, data);
	ASSERT_EQ(0, softee_dma_write(self->m, &t));
	EXPECT_EQ(0, memcmp(self->ram + RAM_LEN - 8, data, 8));
	EXPECT_TRUE(canaries_intact(self));
}

TEST_F(dma, write_refused_as_a_whole)
{
	uint8_t data[4096], before[RAM_LEN];
	struct softee_tlp t;
	static const uint64_t bad[][2] = {
		{ RAM_GPA + RAM_LEN - 8, 64 },		/* straddles the end */
		{ RAM_GPA - 8, 64 },			/* straddles the start */
		{ RAM_GPA + RAM_LEN, 4 },		/* just past */
		{ RAM_GPA - 4, 4 },			/* just before */
		{ 0xffffffffffffffe0ULL, 16 },		/* top of the address space */
		{ SOFTEE_MSI_WINDOW, 4 },		/* not RAM */
	};
	size_t i;

	memset(data, 0xab, sizeof(data));
	memcpy(before, self->ram, RAM_LEN);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mwr(&t, bad[i][0], (uint32_t)bad[i][1], data);
		EXPECT_EQ(-EFAULT, softee_dma_write(self->m, &t)) {
			TH_LOG("MWr 0x%llx+%llu", (unsigned long long)bad[i][0],
			       (unsigned long long)bad[i][1]);
		}
	}
	/* no map at all */
	mwr(&t, RAM_GPA, 4, data);
	EXPECT_EQ(-EFAULT, softee_dma_write(NULL, &t));
	EXPECT_EQ(0, memcmp(before, self->ram, RAM_LEN));
	EXPECT_TRUE(canaries_intact(self));
}

/* Decode and check every completion of a read; returns the bytes, in order. */
static int read_all(FIXTURE_DATA(dma) *self, uint64_t addr, uint32_t len, uint32_t mps,
		    uint32_t rcb, uint8_t *out, int *ncpl)
{
	uint8_t buf[SOFTEE_TLP_MAX_SIZE];
	struct softee_dma_read rd;
	struct softee_tlp req, cpl;
	uint32_t covered, got = 0;
	int n, ret;

	memset(&req, 0, sizeof(req));
	req.kind = SOFTEE_TLP_MRD;
	req.requester = SOFTEE_BDF(1, 0, 0);
	req.tag = 9;
	if (softee_tlp_set_range(&req, addr, len))
		return -EINVAL;
	ret = softee_dma_read_init(&rd, self->m, &req, 0);
	if (ret)
		return ret;
	*ncpl = 0;
	while ((n = softee_dma_read_next(&rd, self->m, mps, rcb, buf, sizeof(buf), &covered)) > 0) {
		if (softee_tlp_decode(&cpl, buf, (size_t)n, NULL) != n)
			return -EBADMSG;
		if (cpl.kind != SOFTEE_TLP_CPLD || cpl.tag != 9 ||
		    cpl.requester != SOFTEE_BDF(1, 0, 0) || cpl.byte_count != len - got ||
		    cpl.lower_addr != ((addr + got) & 0x7f) || cpl.len_dw * 4u > mps + 4)
			return -EPROTO;
		/* every completion but the last ends at an RCB boundary */
		if (got + covered < len && ((addr + got + covered) % rcb))
			return -ERANGE;
		memcpy(out + got, cpl.data + (cpl.lower_addr & 3), covered);
		got += covered;
		softee_dma_read_commit(&rd, covered);
		(*ncpl)++;
	}
	return n < 0 ? n : (int)got;
}

TEST_F(dma, read_split_at_rcb_and_max_payload)
{
	uint8_t out[4096];
	uint32_t i;
	int ncpl;

	for (i = 0; i < RAM_LEN; i++)
		self->ram[i] = (uint8_t)(i ^ (i >> 8));
	EXPECT_EQ(4096, read_all(self, RAM_GPA + 0xfc0, 4096, 256, 64, out, &ncpl));
	EXPECT_EQ(16, ncpl);
	EXPECT_EQ(0, memcmp(out, self->ram + 0xfc0, 4096));
	/* unaligned: the first completion ends at the first 64-byte boundary */
	EXPECT_EQ(1000, read_all(self, RAM_GPA + 0x2013, 1000, 256, 64, out, &ncpl));
	EXPECT_EQ(0, memcmp(out, self->ram + 0x2013, 1000));
	EXPECT_EQ(4, ncpl);			/* 237 to (addr of) 0x...100, 256, 256, 251 */
	/* 128-byte RCB, 512-byte payloads */
	EXPECT_EQ(3000, read_all(self, RAM_GPA + 0x3005, 3000, 512, 128, out, &ncpl));
	EXPECT_EQ(0, memcmp(out, self->ram + 0x3005, 3000));
	/* the very last byte of RAM, a single byte */
	EXPECT_EQ(1, read_all(self, RAM_GPA + RAM_LEN - 1, 1, 256, 64, out, &ncpl));
	EXPECT_EQ(self->ram[RAM_LEN - 1], out[0]);
}

TEST_F(dma, read_refused_gets_ur)
{
	uint8_t out[4096], buf[64];
	struct softee_dma_read rd;
	struct softee_tlp req, c;
	int ncpl, n;

	EXPECT_EQ(-EFAULT, read_all(self, RAM_GPA + RAM_LEN - 16, 64, 256, 64, out, &ncpl));
	EXPECT_EQ(-EFAULT, read_all(self, RAM_GPA - 4, 8, 256, 64, out, &ncpl));
	EXPECT_EQ(-EFAULT, read_all(self, RAM_GPA + RAM_LEN, 4, 256, 64, out, &ncpl));
	EXPECT_EQ(-EFAULT, read_all(self, 0xfffffffffffff000ULL, 256, 256, 64, out, &ncpl));
	/* the UR completion for it */
	memset(&req, 0, sizeof(req));
	req.kind = SOFTEE_TLP_MRD;
	req.requester = SOFTEE_BDF(1, 0, 2);
	req.tag = 200;
	ASSERT_EQ(0, softee_tlp_set_range(&req, RAM_GPA + RAM_LEN, 128));
	EXPECT_EQ(-EFAULT, softee_dma_read_init(&rd, self->m, &req, 0));
	n = softee_dma_cpl_status(&req, 0, SOFTEE_TLP_CPL_UR, 128, buf, sizeof(buf));
	ASSERT_LT(0, n);
	ASSERT_EQ(n, softee_tlp_decode(&c, buf, (size_t)n, NULL));
	EXPECT_EQ(SOFTEE_TLP_CPL, c.kind);
	EXPECT_EQ(SOFTEE_TLP_CPL_UR, c.status);
	EXPECT_EQ(200, c.tag);
	EXPECT_EQ(SOFTEE_BDF(1, 0, 2), c.requester);
	EXPECT_EQ(128, c.byte_count);
	/* the map went away under a read: the next completion says so */
	ASSERT_EQ(0, softee_tlp_set_range(&req, RAM_GPA, 512));
	ASSERT_EQ(0, softee_dma_read_init(&rd, self->m, &req, 0));
	{
		uint8_t big[SOFTEE_TLP_MAX_SIZE];
		uint32_t covered;

		EXPECT_EQ(-EFAULT, softee_dma_read_next(&rd, NULL, 256, 64, big, sizeof(big), &covered));
	}
	EXPECT_TRUE(canaries_intact(self));
}

/* ---- configuration helpers ------------------------------------------------- */

TEST(bar_sizing)
{
	struct softee_bar b;

	/* 4 KiB 32-bit memory */
	EXPECT_EQ(0x1000, softee_bar_decode(0, 0xfffff000, 0, &b));
	EXPECT_FALSE(b.io);
	EXPECT_FALSE(b.is64);
	/* 2 MiB 64-bit prefetchable: both halves */
	EXPECT_EQ(0x200000, softee_bar_decode(0xc, 0xffe0000c, 0xffffffff, &b));
	EXPECT_TRUE(b.is64);
	EXPECT_TRUE(b.prefetch);
	/* 8 GiB 64-bit: the size lives in the upper half */
	EXPECT_EQ(0x200000000ULL, softee_bar_decode(0x4, 0x00000004, 0xfffffffe, &b));
	/* 256-byte I/O, a 16-bit decoder */
	EXPECT_EQ(0x100, softee_bar_decode(1, 0x0000ff01, 0, &b));
	EXPECT_TRUE(b.io);
	/* unimplemented */
	EXPECT_EQ(0, softee_bar_decode(0, 0, 0, &b));
	EXPECT_EQ(0, b.size);
}

TEST(capability_walk)
{
	uint8_t cfg[SOFTEE_PCI_CFG_SIZE];

	memset(cfg, 0, sizeof(cfg));
	cfg[SOFTEE_PCI_STATUS] = SOFTEE_PCI_STATUS_CAP_LIST;
	cfg[SOFTEE_PCI_CAP_PTR] = 0x40;
	cfg[0x40] = 0x01;			/* power management */
	cfg[0x41] = 0x50;
	cfg[0x50] = SOFTEE_PCI_CAP_MSI;
	cfg[0x51] = 0x60;
	cfg[0x60] = SOFTEE_PCI_CAP_MSIX;
	cfg[0x61] = 0x00;
	EXPECT_EQ(0x50, softee_cfg_find_cap(cfg, SOFTEE_PCI_CAP_MSI));
	EXPECT_EQ(0x60, softee_cfg_find_cap(cfg, SOFTEE_PCI_CAP_MSIX));
	EXPECT_EQ(0, softee_cfg_find_cap(cfg, 0x10));
	/* a loop ends */
	cfg[0x61] = 0x40;
	EXPECT_EQ(0, softee_cfg_find_cap(cfg, 0x10));
	/* a pointer into the header ends */
	cfg[0x41] = 0x10;
	EXPECT_EQ(0, softee_cfg_find_cap(cfg, SOFTEE_PCI_CAP_MSI));
	/* no capability list */
	cfg[SOFTEE_PCI_STATUS] = 0;
	EXPECT_EQ(0, softee_cfg_find_cap(cfg, 0x01));
}

TEST(window_placement)
{
	uint64_t next = 0xc0000000ULL, end = 0xc0000000ULL + 0x400000;

	EXPECT_EQ(0xc0000000ULL, softee_window_alloc(&next, end, 0x1000));
	/* naturally aligned: a 2 MiB BAR skips to the next 2 MiB */
	EXPECT_EQ(0xc0200000ULL, softee_window_alloc(&next, end, 0x200000));
	/* does not fit any more */
	EXPECT_EQ(0, softee_window_alloc(&next, end, 0x200000));
	EXPECT_EQ(0, softee_window_alloc(&next, end, 0x3000));	/* not a power of two */
	EXPECT_EQ(0xc0000000ULL + 0x400000 - 0x1000, (next = 0xc0000000ULL + 0x400000 - 0x1000,
		  softee_window_alloc(&next, end, 0x1000)));
	EXPECT_EQ(0, softee_window_alloc(&next, end, 0x1000));
}

TEST(msi_window)
{
	EXPECT_TRUE(softee_msi_is_addr(0xfee00000ULL));
	EXPECT_TRUE(softee_msi_is_addr(0xfeefffffULL));
	EXPECT_FALSE(softee_msi_is_addr(0xfef00000ULL));
	EXPECT_FALSE(softee_msi_is_addr(0xfedfffffULL));
	EXPECT_EQ(0xfee03000ULL, softee_msi_address(3));
	EXPECT_EQ(0x41, softee_msi_data(0x41));
}

TEST_HARNESS_MAIN
