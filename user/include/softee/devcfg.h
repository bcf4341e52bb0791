/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device configuration: what the poller reads from and writes to a
 * device's type-0 configuration header before the guest uses it (PCI Local
 * Bus 3.0, 6.1 and 6.2.5; PCIe 3.0, 7.5).  The sequence, run by the poller
 * for each device it finds behind the box of its group:
 *
 *   1. CfgRd0 of the 64 DWs of the standard header (IDs, class, BARs,
 *      capability list) -- a device that answers UR, CA or vendor 0xffff
 *      is absent;
 *   2. command = 0 (no decoding while BARs move), each BAR written with
 *      all ones and read back: the size is the complement of the writable
 *      bits + 1 (64-bit BARs: both DWs);
 *   3. each BAR gets a naturally aligned window from the configured range
 *      (memory BARs) or port range (I/O BARs), the same one as before if
 *      the device was configured already and its size did not change;
 *   4. the BARs are written, the MSI capability is programmed with an
 *      address in 0xFEExxxxx and a vector (and enabled), or the MSI-X table
 *      entries are (through the BAR that holds the table), then command =
 *      memory space | I/O space (if any I/O BAR) | bus master | INTx off.
 *
 * The pure helpers below decode what the device answered; the tests drive
 * them directly.
 */
#ifndef _SOFTEE_DEVCFG_H
#define _SOFTEE_DEVCFG_H

#include <stdbool.h>
#include <stdint.h>

#define SOFTEE_PCI_CFG_SIZE		256	/* standard header + capabilities */
#define SOFTEE_PCI_VENDOR_ID		0x00
#define SOFTEE_PCI_DEVICE_ID		0x02
#define SOFTEE_PCI_COMMAND		0x04
#define SOFTEE_PCI_STATUS		0x06
#define SOFTEE_PCI_CLASS_REVISION	0x08
#define SOFTEE_PCI_HEADER_TYPE		0x0e
#define SOFTEE_PCI_BAR0			0x10
#define SOFTEE_PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define SOFTEE_PCI_CAP_PTR		0x34
#define SOFTEE_PCI_INTERRUPT_LINE	0x3c

#define SOFTEE_PCI_COMMAND_IO		0x0001
#define SOFTEE_PCI_COMMAND_MEMORY	0x0002
#define SOFTEE_PCI_COMMAND_MASTER	0x0004
#define SOFTEE_PCI_COMMAND_INTX_DISABLE	0x0400
#define SOFTEE_PCI_STATUS_CAP_LIST	0x0010

#define SOFTEE_PCI_BAR_IO		0x1
#define SOFTEE_PCI_BAR_MEM_TYPE_MASK	0x6
#define SOFTEE_PCI_BAR_MEM_TYPE_64	0x04
#define SOFTEE_PCI_BAR_PREFETCH		0x08

#define SOFTEE_PCI_NR_BARS		6
#define SOFTEE_PCI_CAP_MAX		48	/* capabilities walked at most */

/* What one BAR is, once sized and placed. */
struct softee_bar {
	uint64_t size;		/* 0: not implemented */
	uint64_t addr;		/* assigned guest-physical address or port */
	bool io;		/* an I/O BAR */
	bool is64;		/* a 64-bit memory BAR (uses the next slot too) */
	bool prefetch;
};

/*
 * The size of a BAR from what it read back after all ones were written:
 * lo (and hi for a 64-bit BAR; ignored otherwise).  Fills b (addr 0).
 * Returns the size, 0 for an unimplemented BAR (reads back 0).
 */
uint64_t softee_bar_decode(uint32_t orig, uint32_t lo, uint32_t hi, struct softee_bar *b);

/* Little-endian accessors into a cached config space. */
static inline uint32_t softee_cfg_read(const uint8_t *cfg, unsigned int off, unsigned int len)
{
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < len; i++)
		v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

/*
 * Find capability id in a cached config space: its offset, or 0.  Stops on
 * loops, pointers into the header and after SOFTEE_PCI_CAP_MAX entries.
 */
unsigned int softee_cfg_find_cap(const uint8_t *cfg, uint8_t id);

/*
 * Naturally aligned placement of size bytes in [*next, end): the address,
 * *next moved past it; 0 if it does not fit.  size is a power of two.
 */
uint64_t softee_window_alloc(uint64_t *next, uint64_t end, uint64_t size);

#endif /* _SOFTEE_DEVCFG_H */
