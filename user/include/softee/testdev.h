/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test endpoint of softee-box: what a driver (a test's guest code, a
 * host test) needs to drive it.  Plain C, fixed-width types and static
 * inline helpers only: guest code includes it.  Documentation/box.rst
 * describes the device in prose.
 *
 * IDs: vendor 0x50F7, device 0x7E57 ("SOFT", "TEST").  0x50F7 is not
 * assigned to anyone in the PCI ID database (pciutils/pciids, checked
 * 2026-08); the pair is for software only and never appears on a real bus.
 * Class 0xFF0000 (unassigned class), so no OS driver binds to it.
 *
 * Config space (type 0, conventional PCI header, no PCI Express capability):
 *
 *	0x00  vendor 0x50F7, device 0x7E57
 *	0x04  command: memory space, bus master, parity, SERR, INTx disable
 *	      writable; status: capabilities list; RW1C error bits
 *	0x08  revision 1, class 0xFF0000
 *	0x10  BAR0: 4 KiB, 32-bit memory, non-prefetchable: registers,
 *	      MSI-X table at 0x800 and PBA at 0xC00
 *	0x18  BAR2/BAR3: 64-bit prefetchable memory: device memory
 *	      (SOFTEE_TESTDEV_MEM_SIZE bytes by default, BAR size the next
 *	      power of two; the DEVMEM_SIZE register says how much)
 *	0x2C  subsystem vendor 0x50F7, subsystem 0x0001
 *	0x34  capabilities: MSI at 0x40 (64-bit address, per-vector mask,
 *	      1 vector), MSI-X at 0x58 (2 vectors)
 *	0x3D  interrupt pin 0: no INTx
 *
 * Registers (BAR0, 32-bit, little-endian; any access size works, a write
 * acts on the bytes it enables):
 *
 *	0x000 ID		RO  SOFTEE_TESTDEV_MAGIC
 *	0x004 VERSION		RO  major << 16 | minor
 *	0x008 SCRATCH		RW  0 after reset
 *	0x00C DEVMEM_SIZE	RO  bytes of device memory at BAR2 offset 0
 *	0x010 DMA_HOST_LO	RW  host (bus) address of the DMA, low half
 *	0x014 DMA_HOST_HI	RW  high half
 *	0x018 DMA_DEV		RW  offset in device memory
 *	0x01C DMA_LEN		RW  bytes, 1..DEVMEM_SIZE
 *	0x020 DMA_DIR		RW  SOFTEE_TESTDEV_DIR_*
 *	0x024 CTRL		RW  START (write 1 to start, reads 0), IRQ_EN
 *	0x028 STATUS		    BUSY (RO), DONE (RW1C), ERROR (RW1C),
 *				    error code in bits 15:8 (RO, cleared with ERROR)
 *	0x02C CRC		RO  CRC-32 (IEEE 802.3, as zlib's crc32()) of the
 *				    bytes the last successful DMA moved
 *	0x030 DOORBELL		RW  a write: COUNTER += 1, IRQ_STATUS.DOORBELL,
 *				    interrupt (MSI-X vector 1) if IRQ_EN; reads
 *				    the last value written
 *	0x034 COUNTER		RO  doorbell writes
 *	0x038 IRQ_STATUS	RW1C DMA (a DMA ended), DOORBELL
 *	0x03C IRQ_COUNT		RO  interrupt messages sent
 *	0x040 DMA_COUNT		RO  DMAs ended (done or error)
 *	0x044 IRQ_LOST		RO  interrupts that could not be sent (no MSI or
 *				    MSI-X enabled, bus master off, no host)
 *	0x800 MSI-X table	2 entries of 16 bytes
 *	0xC00 MSI-X PBA		RO
 *	other offsets read 0 and ignore writes
 *
 * The DMA engine: write DMA_HOST, DMA_DEV, DMA_LEN, DMA_DIR, then CTRL =
 * START (| IRQ_EN).  STATUS.BUSY is set until the DMA ends; then DONE is
 * set, and ERROR with a code if it failed (a check at START fails at
 * once: zero length, beyond device memory, host address wrap, bad
 * direction, bus master disabled).  With IRQ_EN, a DMA's end raises MSI-X
 * vector 0 if MSI-X is enabled, else the MSI if MSI is enabled, behind the
 * DMA's writes to host memory.  A masked vector's message is held pending
 * and sent when it is unmasked.  START while BUSY leaves the running DMA
 * alone and sets ERROR with SOFTEE_TESTDEV_ERR_BUSY until that DMA ends,
 * which sets STATUS to its own outcome.
 */
#ifndef _SOFTEE_TESTDEV_H
#define _SOFTEE_TESTDEV_H

#include <stddef.h>
#include <stdint.h>

#define SOFTEE_TESTDEV_VENDOR_ID	0x50f7
#define SOFTEE_TESTDEV_DEVICE_ID	0x7e57
#define SOFTEE_TESTDEV_SUBSYS_VENDOR_ID	0x50f7
#define SOFTEE_TESTDEV_SUBSYS_ID	0x0001
#define SOFTEE_TESTDEV_REVISION		0x01
#define SOFTEE_TESTDEV_CLASS		0xff0000u	/* class, subclass, prog-if */

#define SOFTEE_TESTDEV_MAGIC		0x50f77e57u	/* the ID register */
#define SOFTEE_TESTDEV_VERSION		0x00010000u	/* 1.0 */

/* BARs */
#define SOFTEE_TESTDEV_REG_BAR		0
#define SOFTEE_TESTDEV_REG_BAR_SIZE	0x1000u
#define SOFTEE_TESTDEV_MEM_BAR		2		/* 64-bit: BAR2 and BAR3 */
#define SOFTEE_TESTDEV_MEM_SIZE		0x110000u	/* default device memory: 1 MiB + 64 KiB */
#define SOFTEE_TESTDEV_MEM_BAR_SIZE	0x200000u	/* its BAR (default) */

/* Capabilities */
#define SOFTEE_TESTDEV_CAP_MSI		0x40
#define SOFTEE_TESTDEV_CAP_MSIX		0x58
#define SOFTEE_TESTDEV_MSIX_VECTORS	2
#define SOFTEE_TESTDEV_MSIX_TABLE	0x800u		/* in BAR0 */
#define SOFTEE_TESTDEV_MSIX_PBA		0xc00u		/* in BAR0 */
#define SOFTEE_TESTDEV_VEC_DMA		0		/* MSI-X vector of a DMA's end */
#define SOFTEE_TESTDEV_VEC_DOORBELL	1		/* MSI-X vector of the doorbell */

/* Registers, BAR0 offsets */
#define SOFTEE_TESTDEV_ID		0x000
#define SOFTEE_TESTDEV_VER		0x004
#define SOFTEE_TESTDEV_SCRATCH		0x008
#define SOFTEE_TESTDEV_DEVMEM_SIZE	0x00c
#define SOFTEE_TESTDEV_DMA_HOST_LO	0x010
#define SOFTEE_TESTDEV_DMA_HOST_HI	0x014
#define SOFTEE_TESTDEV_DMA_DEV		0x018
#define SOFTEE_TESTDEV_DMA_LEN		0x01c
#define SOFTEE_TESTDEV_DMA_DIR		0x020
#define SOFTEE_TESTDEV_CTRL		0x024
#define SOFTEE_TESTDEV_STATUS		0x028
#define SOFTEE_TESTDEV_CRC		0x02c
#define SOFTEE_TESTDEV_DOORBELL		0x030
#define SOFTEE_TESTDEV_COUNTER		0x034
#define SOFTEE_TESTDEV_IRQ_STATUS	0x038
#define SOFTEE_TESTDEV_IRQ_COUNT	0x03c
#define SOFTEE_TESTDEV_DMA_COUNT	0x040
#define SOFTEE_TESTDEV_IRQ_LOST		0x044
#define SOFTEE_TESTDEV_REGS_END		0x048

/* DMA_DIR */
#define SOFTEE_TESTDEV_DIR_TO_DEV	0	/* read host memory into device memory */
#define SOFTEE_TESTDEV_DIR_TO_HOST	1	/* write device memory to host memory */

/* CTRL */
#define SOFTEE_TESTDEV_CTRL_START	0x1u
#define SOFTEE_TESTDEV_CTRL_IRQ_EN	0x2u

/* STATUS */
#define SOFTEE_TESTDEV_STATUS_BUSY	0x1u
#define SOFTEE_TESTDEV_STATUS_DONE	0x2u
#define SOFTEE_TESTDEV_STATUS_ERROR	0x4u
#define SOFTEE_TESTDEV_STATUS_ERR_SHIFT	8
#define SOFTEE_TESTDEV_STATUS_ERR_MASK	0xff00u

/* IRQ_STATUS */
#define SOFTEE_TESTDEV_IRQ_DMA		0x1u
#define SOFTEE_TESTDEV_IRQ_DOORBELL	0x2u

/* Error codes, STATUS bits 15:8 */
#define SOFTEE_TESTDEV_ERR_NONE		0
#define SOFTEE_TESTDEV_ERR_ZERO_LEN	1	/* DMA_LEN is 0 */
#define SOFTEE_TESTDEV_ERR_DEV_RANGE	2	/* DMA_DEV + DMA_LEN beyond DEVMEM_SIZE */
#define SOFTEE_TESTDEV_ERR_HOST_RANGE	3	/* DMA_HOST + DMA_LEN wraps past 2^64 */
#define SOFTEE_TESTDEV_ERR_BAD_DIR	4	/* DMA_DIR is not 0 or 1 */
#define SOFTEE_TESTDEV_ERR_NO_MASTER	5	/* bus master disabled in the command register */
#define SOFTEE_TESTDEV_ERR_BUSY		6	/* START while a DMA runs (that DMA goes on) */
#define SOFTEE_TESTDEV_ERR_HOST_UR	7	/* the host answered Unsupported Request */
#define SOFTEE_TESTDEV_ERR_HOST_CA	8	/* Completer Abort, poisoned or malformed completion */
#define SOFTEE_TESTDEV_ERR_HOST_TIMEOUT	9	/* completion timeout */
#define SOFTEE_TESTDEV_ERR_HOST_DOWN	10	/* no host, or it went away during the DMA */

static inline uint32_t softee_testdev_err(uint32_t status)
{
	return (status & SOFTEE_TESTDEV_STATUS_ERR_MASK) >> SOFTEE_TESTDEV_STATUS_ERR_SHIFT;
}

static inline const char *softee_testdev_err_name(uint32_t err)
{
	switch (err) {
	case SOFTEE_TESTDEV_ERR_NONE: return "none";
	case SOFTEE_TESTDEV_ERR_ZERO_LEN: return "zero_len";
	case SOFTEE_TESTDEV_ERR_DEV_RANGE: return "dev_range";
	case SOFTEE_TESTDEV_ERR_HOST_RANGE: return "host_range";
	case SOFTEE_TESTDEV_ERR_BAD_DIR: return "bad_dir";
	case SOFTEE_TESTDEV_ERR_NO_MASTER: return "no_bus_master";
	case SOFTEE_TESTDEV_ERR_BUSY: return "busy";
	case SOFTEE_TESTDEV_ERR_HOST_UR: return "host_ur";
	case SOFTEE_TESTDEV_ERR_HOST_CA: return "host_ca";
	case SOFTEE_TESTDEV_ERR_HOST_TIMEOUT: return "host_timeout";
	case SOFTEE_TESTDEV_ERR_HOST_DOWN: return "host_down";
	default: return "?";
	}
}

/*
 * CRC-32 of the CRC register, bit by bit (no table: guest code can use
 * it as is): reflected polynomial 0xEDB88320, initial value and final xor
 * all ones.  Continuable: crc = 0 to start.  "123456789" gives 0xCBF43926.
 */
static inline uint32_t softee_testdev_crc32(uint32_t crc, const void *p, size_t len)
{
	const uint8_t *b = (const uint8_t *)p;
	int k;

	crc = ~crc;
	while (len--) {
		crc ^= *b++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

#endif /* _SOFTEE_TESTDEV_H */
