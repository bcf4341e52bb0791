// SPDX-License-Identifier: GPL-2.0
/*
 * A type-0 config space for endpoint models (softee/endpoint.h): bytes,
 * a mask of writable bits and a mask of RW1C bits.  Field layouts are those
 * of the PCI Local Bus Specification 3.0 (header, MSI) and the PCI Express
 * Base Specification 3.0 (MSI-X, section 7.7).
 */
#include <errno.h>
#include <string.h>

#include <softee/endpoint.h>

#define CFG_HDR		256

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

void softee_pcicfg_set16(struct softee_pcicfg *c, uint32_t off, uint16_t val)
{
	if (off + 2 <= CFG_HDR)
		put16(c->data + off, val);
}

void softee_pcicfg_set32(struct softee_pcicfg *c, uint32_t off, uint32_t val)
{
	if (off + 4 <= CFG_HDR)
		put32(c->data + off, val);
}

void softee_pcicfg_init(struct softee_pcicfg *c, uint16_t vendor, uint16_t device,
			uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
			uint16_t subsys)
{
	memset(c, 0, sizeof(*c));
	put16(c->data + SOFTEE_PCI_VENDOR_ID, vendor);
	put16(c->data + SOFTEE_PCI_DEVICE_ID, device);
	/* No I/O space, no special cycles, no MWI, no VGA snoop, no fast back-to-back. */
	put16(c->wmask + SOFTEE_PCI_COMMAND, SOFTEE_PCI_COMMAND_MEMORY | SOFTEE_PCI_COMMAND_MASTER |
	      SOFTEE_PCI_COMMAND_PARITY | SOFTEE_PCI_COMMAND_SERR |
	      SOFTEE_PCI_COMMAND_INTX_DISABLE);
	/* Status: the error bits are RW1C (master data parity error is bit 8). */
	put16(c->w1cmask + SOFTEE_PCI_STATUS, SOFTEE_PCI_STATUS_DETECTED_PARITY |
	      SOFTEE_PCI_STATUS_SIG_SYSTEM_ERROR | SOFTEE_PCI_STATUS_REC_MASTER_ABORT |
	      SOFTEE_PCI_STATUS_REC_TARGET_ABORT | SOFTEE_PCI_STATUS_SIG_TARGET_ABORT | 0x0100);
	c->data[SOFTEE_PCI_REVISION_ID] = revision;
	c->data[SOFTEE_PCI_CLASS_PROG] = (uint8_t)class_code;
	c->data[SOFTEE_PCI_CLASS_PROG + 1] = (uint8_t)(class_code >> 8);
	c->data[SOFTEE_PCI_CLASS_PROG + 2] = (uint8_t)(class_code >> 16);
	c->wmask[SOFTEE_PCI_CACHE_LINE_SIZE] = 0xff;
	put16(c->data + SOFTEE_PCI_SUBSYS_VENDOR_ID, subsys_vendor);
	put16(c->data + SOFTEE_PCI_SUBSYS_ID, subsys);
	/* Interrupt Line is a scratch byte for software; Interrupt Pin 0: no INTx. */
	c->wmask[SOFTEE_PCI_INTERRUPT_LINE] = 0xff;
	c->cap_free = 0x40;
}

void softee_pcicfg_set_bars(struct softee_pcicfg *c, const struct softee_ep_bar *bars)
{
	unsigned int i;

	for (i = 0; i < SOFTEE_EP_BARS; i++) {
		uint32_t off = SOFTEE_PCI_BAR0 + 4 * i;
		uint64_t size = bars[i].size, mask;
		uint32_t flags = 0;

		put32(c->data + off, 0);
		put32(c->wmask + off, 0);
		if (!size)
			continue;
		if (bars[i].flags & SOFTEE_BAR_MEM64)
			flags |= SOFTEE_PCI_BAR_MEM_TYPE_64;
		if (bars[i].flags & SOFTEE_BAR_PREFETCH)
			flags |= SOFTEE_PCI_BAR_PREFETCH;
		/* A BAR decodes its size: the address bits below it are read-only 0. */
		mask = ~(size - 1);
		put32(c->data + off, flags);
		put32(c->wmask + off, (uint32_t)mask & ~0xfu);
		if ((bars[i].flags & SOFTEE_BAR_MEM64) && i + 1 < SOFTEE_EP_BARS) {
			i++;
			put32(c->data + off + 4, 0);
			put32(c->wmask + off + 4, (uint32_t)(mask >> 32));
		}
	}
}

int softee_pcicfg_add_cap(struct softee_pcicfg *c, uint8_t id, uint8_t len)
{
	uint32_t off = (c->cap_free + 3u) & ~3u;

	if (len < 2 || off + len > CFG_HDR)
		return -ENOSPC;
	c->data[off] = id;
	c->data[off + 1] = 0;
	if (c->cap_last)
		c->data[c->cap_last + 1] = (uint8_t)off;
	else
		c->data[SOFTEE_PCI_CAP_PTR] = (uint8_t)off;
	c->data[SOFTEE_PCI_STATUS] |= SOFTEE_PCI_STATUS_CAP_LIST;
	c->cap_last = (uint8_t)off;
	c->cap_free = (uint8_t)(off + len);
	return (int)off;
}

int softee_pcicfg_add_msi(struct softee_pcicfg *c, bool maskable)
{
	int cap = softee_pcicfg_add_cap(c, SOFTEE_PCI_CAP_ID_MSI,
					 maskable ? SOFTEE_MSI_CAP_SIZE_64_MASK : 0x0e);
	uint16_t flags = SOFTEE_MSI_FLAGS_64BIT | (maskable ? SOFTEE_MSI_FLAGS_MASKBIT : 0);

	if (cap < 0)
		return cap;
	/* One vector: Multiple Message Capable 0; Enable and Multiple Message Enable RW. */
	put16(c->data + cap + SOFTEE_MSI_FLAGS, flags);
	put16(c->wmask + cap + SOFTEE_MSI_FLAGS, SOFTEE_MSI_FLAGS_ENABLE | SOFTEE_MSI_FLAGS_QSIZE);
	put32(c->wmask + cap + SOFTEE_MSI_ADDRESS_LO, 0xfffffffc);
	put32(c->wmask + cap + SOFTEE_MSI_ADDRESS_HI, 0xffffffff);
	put16(c->wmask + cap + SOFTEE_MSI_DATA_64, 0xffff);
	if (maskable)
		put32(c->wmask + cap + SOFTEE_MSI_MASK_64, 0x1);	/* one vector */
	return cap;
}

int softee_pcicfg_add_msix(struct softee_pcicfg *c, unsigned int nvec, unsigned int table_bar,
			   uint32_t table_off, unsigned int pba_bar, uint32_t pba_off)
{
	int cap;

	if (!nvec || nvec > 2048 || table_bar >= SOFTEE_EP_BARS || pba_bar >= SOFTEE_EP_BARS ||
	    (table_off & 7) || (pba_off & 7))
		return -EINVAL;
	cap = softee_pcicfg_add_cap(c, SOFTEE_PCI_CAP_ID_MSIX, SOFTEE_MSIX_CAP_SIZE);
	if (cap < 0)
		return cap;
	put16(c->data + cap + SOFTEE_MSIX_FLAGS, (uint16_t)(nvec - 1));
	put16(c->wmask + cap + SOFTEE_MSIX_FLAGS, SOFTEE_MSIX_FLAGS_ENABLE | SOFTEE_MSIX_FLAGS_MASKALL);
	put32(c->data + cap + SOFTEE_MSIX_TABLE, table_off | table_bar);
	put32(c->data + cap + SOFTEE_MSIX_PBA, pba_off | pba_bar);
	return cap;
}

uint32_t softee_pcicfg_read(const struct softee_pcicfg *c, uint32_t off, uint32_t len)
{
	uint32_t v = 0, i;

	for (i = 0; i < len && i < 4; i++)
		if (off + i < CFG_HDR)
			v |= (uint32_t)c->data[off + i] << (8 * i);
	return v;
}

void softee_pcicfg_write(struct softee_pcicfg *c, uint32_t off, uint32_t len, uint32_t val)
{
	uint32_t i;

	for (i = 0; i < len && i < 4; i++) {
		uint32_t o = off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));

		if (o >= CFG_HDR)
			break;
		c->data[o] = (uint8_t)((c->data[o] & ~c->wmask[o]) | (b & c->wmask[o]));
		c->data[o] &= (uint8_t)~(b & c->w1cmask[o]);
	}
}

void softee_pcicfg_msi(const struct softee_pcicfg *c, int cap, struct softee_msi_state *s)
{
	uint16_t flags;
	bool is64;

	memset(s, 0, sizeof(*s));
	if (cap <= 0 || cap + SOFTEE_MSI_CAP_SIZE_64_MASK > CFG_HDR)
		return;
	flags = softee_pcicfg_get16(c, cap + SOFTEE_MSI_FLAGS);
	is64 = flags & SOFTEE_MSI_FLAGS_64BIT;
	s->enabled = flags & SOFTEE_MSI_FLAGS_ENABLE;
	s->addr = softee_pcicfg_get32(c, cap + SOFTEE_MSI_ADDRESS_LO);
	if (is64)
		s->addr |= (uint64_t)softee_pcicfg_get32(c, cap + SOFTEE_MSI_ADDRESS_HI) << 32;
	s->data = softee_pcicfg_get16(c, cap + (is64 ? SOFTEE_MSI_DATA_64 : 0x08));
	if (flags & SOFTEE_MSI_FLAGS_MASKBIT)
		s->masked = softee_pcicfg_get32(c, cap + (is64 ? SOFTEE_MSI_MASK_64 : 0x0c)) & 1;
}

void softee_pcicfg_msi_pending(struct softee_pcicfg *c, int cap, bool pending)
{
	uint16_t flags;
	uint32_t off;

	if (cap <= 0 || cap + SOFTEE_MSI_CAP_SIZE_64_MASK > CFG_HDR)
		return;
	flags = softee_pcicfg_get16(c, cap + SOFTEE_MSI_FLAGS);
	if (!(flags & SOFTEE_MSI_FLAGS_MASKBIT))
		return;
	off = cap + ((flags & SOFTEE_MSI_FLAGS_64BIT) ? SOFTEE_MSI_PENDING_64 : 0x10);
	c->data[off] = (uint8_t)((c->data[off] & ~1u) | (pending ? 1 : 0));
}
