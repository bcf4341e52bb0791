// SPDX-License-Identifier: GPL-2.0
/*
 * The test endpoint (softee/testdev.h): registers in BAR0, device memory
 * in BAR2, MSI and MSI-X, and a DMA engine that copies between host memory
 * and device memory through the box (softee_box_dma_read/_write) and
 * computes a CRC-32 of what it moved.
 *
 * Nothing a driver writes can make it touch memory outside its device
 * memory: every DMA is checked as a whole before it starts, and a bad one
 * ends at once with an error code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <softee/box.h>
#include <softee/endpoint.h>
#include <softee/testdev.h>

#define MSIX_BYTES	(SOFTEE_TESTDEV_MSIX_VECTORS * SOFTEE_MSIX_ENTRY_SIZE)

struct testdev {
	struct softee_endpoint ep;
	struct softee_pcicfg cfg;
	uint32_t devmem;		/* bytes of device memory */
	uint8_t *mem;

	/* Registers */
	uint32_t scratch;
	uint32_t dma_host_lo, dma_host_hi, dma_dev, dma_len, dma_dir;
	uint32_t ctrl, status, crc;
	uint32_t doorbell, counter, irq_status, irq_count, dma_count, irq_lost;
	uint8_t msix[MSIX_BYTES];
	uint32_t pba;

	/* The DMA that runs (STATUS.BUSY): what START latched */
	struct {
		uint64_t host;
		uint32_t dev, len, dir;
		bool write_retry;	/* TO_HOST: the box's backlog was full, try again */
		/*
		 * The DMA ended well and CRC is not yet computed: crc_settle()
		 * does it once the DMA's writes and MSI have left the box (a
		 * DMA engine's CRC is taken as the data moves, and a CRC of
		 * 256 KiB here took 18 us ahead of the MSI), or as soon as
		 * anything could see CRC or change the bytes it covers.
		 */
		bool crc_pending;
	} cur;
};

static struct testdev *to_td(struct softee_endpoint *ep)
{
	return ep->priv;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- interrupts ------------------------------------------------------------------ */

static void send_msg(struct testdev *td, uint64_t addr, uint32_t data)
{
	int ret = softee_box_msi(td->ep.box, &td->ep, addr, data);

	if (ret) {
		td->irq_lost++;
		softee_box_log(td->ep.box, SOFTEE_LOG_DEBUG, "test: interrupt lost: %s", strerror(-ret));
	} else {
		td->irq_count++;
	}
}

static void msix_entry(const struct testdev *td, unsigned int vec, uint64_t *addr, uint32_t *data,
		       bool *masked)
{
	const uint8_t *e = td->msix + vec * SOFTEE_MSIX_ENTRY_SIZE;

	*addr = get32(e + SOFTEE_MSIX_ENTRY_ADDR_LO) | (uint64_t)get32(e + SOFTEE_MSIX_ENTRY_ADDR_HI) << 32;
	*data = get32(e + SOFTEE_MSIX_ENTRY_DATA);
	*masked = get32(e + SOFTEE_MSIX_ENTRY_CTRL) & SOFTEE_MSIX_ENTRY_CTRL_MASKBIT;
}

/* Raise vector vec (MSI has one: every event uses it). */
static void raise_irq(struct testdev *td, unsigned int vec)
{
	uint16_t xflags = softee_pcicfg_get16(&td->cfg, SOFTEE_TESTDEV_CAP_MSIX + SOFTEE_MSIX_FLAGS);
	struct softee_msi_state msi;

	if (!(td->ctrl & SOFTEE_TESTDEV_CTRL_IRQ_EN))
		return;
	if (xflags & SOFTEE_MSIX_FLAGS_ENABLE) {
		uint64_t addr;
		uint32_t data;
		bool masked;

		msix_entry(td, vec, &addr, &data, &masked);
		if (masked || (xflags & SOFTEE_MSIX_FLAGS_MASKALL))
			td->pba |= 1u << vec;
		else
			send_msg(td, addr, data);
		return;
	}
	softee_pcicfg_msi(&td->cfg, SOFTEE_TESTDEV_CAP_MSI, &msi);
	if (!msi.enabled) {
		td->irq_lost++;		/* no INTx to fall back to */
		return;
	}
	if (msi.masked)
		softee_pcicfg_msi_pending(&td->cfg, SOFTEE_TESTDEV_CAP_MSI, true);
	else
		send_msg(td, msi.addr, msi.data);
}

/* After a mask changed: send what is pending and no longer masked. */
static void flush_pending(struct testdev *td)
{
	uint16_t xflags = softee_pcicfg_get16(&td->cfg, SOFTEE_TESTDEV_CAP_MSIX + SOFTEE_MSIX_FLAGS);
	struct softee_msi_state msi;
	unsigned int vec;

	if (xflags & SOFTEE_MSIX_FLAGS_ENABLE) {
		if (xflags & SOFTEE_MSIX_FLAGS_MASKALL)
			return;
		for (vec = 0; vec < SOFTEE_TESTDEV_MSIX_VECTORS; vec++) {
			uint64_t addr;
			uint32_t data;
			bool masked;

			if (!(td->pba & (1u << vec)))
				continue;
			msix_entry(td, vec, &addr, &data, &masked);
			if (masked)
				continue;
			td->pba &= ~(1u << vec);
			send_msg(td, addr, data);
		}
		return;
	}
	softee_pcicfg_msi(&td->cfg, SOFTEE_TESTDEV_CAP_MSI, &msi);
	if (msi.enabled && !msi.masked &&
	    (softee_pcicfg_get32(&td->cfg, SOFTEE_TESTDEV_CAP_MSI + SOFTEE_MSI_PENDING_64) & 1)) {
		softee_pcicfg_msi_pending(&td->cfg, SOFTEE_TESTDEV_CAP_MSI, false);
		send_msg(td, msi.addr, msi.data);
	}
}

/* ---- the DMA engine ------------------------------------------------------------------ */

/* The CRC of the last DMA's bytes in device memory, if still to be taken. */
static void crc_settle(struct testdev *td)
{
	if (!td->cur.crc_pending)
		return;
	td->cur.crc_pending = false;
	td->crc = softee_crc32(0, td->mem + td->cur.dev, td->cur.len);
}

static void dma_end(struct testdev *td, uint32_t err)
{
	/* what this DMA earned, and nothing else (a START refused meanwhile: forgotten) */
	td->status &= ~(SOFTEE_TESTDEV_STATUS_BUSY | SOFTEE_TESTDEV_STATUS_ERROR |
			SOFTEE_TESTDEV_STATUS_ERR_MASK);
	td->status |= SOFTEE_TESTDEV_STATUS_DONE;
	if (err) {
		td->status |= SOFTEE_TESTDEV_STATUS_ERROR | err << SOFTEE_TESTDEV_STATUS_ERR_SHIFT;
		softee_box_log(td->ep.box, SOFTEE_LOG_DEBUG, "test: DMA error %s",
			       softee_testdev_err_name(err));
	} else {
		td->cur.crc_pending = true;
	}
	td->cur.write_retry = false;
	td->dma_count++;
	td->irq_status |= SOFTEE_TESTDEV_IRQ_DMA;
	raise_irq(td, SOFTEE_TESTDEV_VEC_DMA);
}

static uint32_t host_err(struct testdev *td, int err)
{
	uint16_t bits = 0;
	uint32_t code;

	switch (err) {
	case -EFAULT:
		code = SOFTEE_TESTDEV_ERR_HOST_UR;
		bits = SOFTEE_PCI_STATUS_REC_MASTER_ABORT;
		break;
	case -ETIMEDOUT:
		code = SOFTEE_TESTDEV_ERR_HOST_TIMEOUT;
		break;
	case -ENOTCONN: case -ECONNRESET:
		code = SOFTEE_TESTDEV_ERR_HOST_DOWN;
		break;
	case -EPERM:
		code = SOFTEE_TESTDEV_ERR_NO_MASTER;
		break;
	default:	/* -EIO, -EBADMSG, -ENOMEM */
		code = SOFTEE_TESTDEV_ERR_HOST_CA;
		bits = SOFTEE_PCI_STATUS_REC_TARGET_ABORT;
		break;
	}
	if (bits)
		softee_pcicfg_set16(&td->cfg, SOFTEE_PCI_STATUS,
				    softee_pcicfg_get16(&td->cfg, SOFTEE_PCI_STATUS) | bits);
	return code;
}

static void dma_read_done(void *ctx, int err)
{
	struct testdev *td = ctx;

	dma_end(td, err ? host_err(td, err) : 0);
}

static void dma_write_try(struct testdev *td)
{
	int ret = softee_box_dma_write(td->ep.box, &td->ep, td->cur.host, td->mem + td->cur.dev,
				       td->cur.len);

	if (ret == -EAGAIN) {
		td->cur.write_retry = true;
		return;
	}
	/* The writes are queued in order: whatever the host reads after this sees them. */
	dma_end(td, ret ? host_err(td, ret) : 0);
}

static void dma_start(struct testdev *td)
{
	uint64_t host = (uint64_t)td->dma_host_hi << 32 | td->dma_host_lo;
	uint32_t len = td->dma_len, dev = td->dma_dev, dir = td->dma_dir, err = 0;
	int ret;

	crc_settle(td);		/* before cur and device memory change */
	if (td->status & SOFTEE_TESTDEV_STATUS_BUSY) {
		td->status = (td->status & ~SOFTEE_TESTDEV_STATUS_ERR_MASK) | SOFTEE_TESTDEV_STATUS_ERROR |
			     SOFTEE_TESTDEV_ERR_BUSY << SOFTEE_TESTDEV_STATUS_ERR_SHIFT;
		return;
	}
	td->status &= ~(SOFTEE_TESTDEV_STATUS_DONE | SOFTEE_TESTDEV_STATUS_ERROR |
			SOFTEE_TESTDEV_STATUS_ERR_MASK);
	if (!len)
		err = SOFTEE_TESTDEV_ERR_ZERO_LEN;
	else if (dir > SOFTEE_TESTDEV_DIR_TO_HOST)
		err = SOFTEE_TESTDEV_ERR_BAD_DIR;
	else if (dev > td->devmem || len > td->devmem - dev)
		err = SOFTEE_TESTDEV_ERR_DEV_RANGE;
	else if (host + len - 1 < host)
		err = SOFTEE_TESTDEV_ERR_HOST_RANGE;
	else if (!(td->ep.command & SOFTEE_PCI_COMMAND_MASTER))
		err = SOFTEE_TESTDEV_ERR_NO_MASTER;
	if (err) {
		dma_end(td, err);
		return;
	}
	td->status |= SOFTEE_TESTDEV_STATUS_BUSY;
	td->cur.host = host;
	td->cur.dev = dev;
	td->cur.len = len;
	td->cur.dir = dir;
	td->cur.write_retry = false;
	if (dir == SOFTEE_TESTDEV_DIR_TO_DEV) {
		ret = softee_box_dma_read(td->ep.box, &td->ep, host, td->mem + dev, len,
					  dma_read_done, td);
		if (ret)
			dma_end(td, host_err(td, ret));
		return;
	}
	/*
	 * TO_HOST: the box copies what leaves; the CRC of the same bytes is
	 * taken later (crc_settle), before anything can change them.
	 */
	dma_write_try(td);
}

/* ---- registers ------------------------------------------------------------------------ */

static uint32_t reg_read(struct testdev *td, uint32_t reg)
{
	if (reg >= SOFTEE_TESTDEV_MSIX_TABLE && reg < SOFTEE_TESTDEV_MSIX_TABLE + MSIX_BYTES)
		return get32(td->msix + (reg - SOFTEE_TESTDEV_MSIX_TABLE));
	if (reg == SOFTEE_TESTDEV_MSIX_PBA)
		return td->pba;
	switch (reg) {
	case SOFTEE_TESTDEV_ID: return SOFTEE_TESTDEV_MAGIC;
	case SOFTEE_TESTDEV_VER: return SOFTEE_TESTDEV_VERSION;
	case SOFTEE_TESTDEV_SCRATCH: return td->scratch;
	case SOFTEE_TESTDEV_DEVMEM_SIZE: return td->devmem;
	case SOFTEE_TESTDEV_DMA_HOST_LO: return td->dma_host_lo;
	case SOFTEE_TESTDEV_DMA_HOST_HI: return td->dma_host_hi;
	case SOFTEE_TESTDEV_DMA_DEV: return td->dma_dev;
	case SOFTEE_TESTDEV_DMA_LEN: return td->dma_len;
	case SOFTEE_TESTDEV_DMA_DIR: return td->dma_dir;
	case SOFTEE_TESTDEV_CTRL: return td->ctrl;
	case SOFTEE_TESTDEV_STATUS: return td->status;
	case SOFTEE_TESTDEV_CRC: crc_settle(td); return td->crc;
	case SOFTEE_TESTDEV_DOORBELL: return td->doorbell;
	case SOFTEE_TESTDEV_COUNTER: return td->counter;
	case SOFTEE_TESTDEV_IRQ_STATUS: return td->irq_status;
	case SOFTEE_TESTDEV_IRQ_COUNT: return td->irq_count;
	case SOFTEE_TESTDEV_DMA_COUNT: return td->dma_count;
	case SOFTEE_TESTDEV_IRQ_LOST: return td->irq_lost;
	default: return 0;
	}
}

static uint32_t merge(uint32_t old, uint32_t v, uint32_t m)
{
	return (old & ~m) | (v & m);
}

/* A write of the bytes of m (a mask of whole bytes) of register reg. */
static void reg_write(struct testdev *td, uint32_t reg, uint32_t v, uint32_t m)
{
	if (reg >= SOFTEE_TESTDEV_MSIX_TABLE && reg < SOFTEE_TESTDEV_MSIX_TABLE + MSIX_BYTES) {
		uint8_t *p = td->msix + (reg - SOFTEE_TESTDEV_MSIX_TABLE);
		uint32_t x = merge(get32(p), v, m);

		/* Vector control: only the mask bit is defined. */
		if ((reg & 0xf) == SOFTEE_MSIX_ENTRY_CTRL)
			x &= SOFTEE_MSIX_ENTRY_CTRL_MASKBIT;
		p[0] = (uint8_t)x;
		p[1] = (uint8_t)(x >> 8);
		p[2] = (uint8_t)(x >> 16);
		p[3] = (uint8_t)(x >> 24);
		flush_pending(td);
		return;
	}
	switch (reg) {
	case SOFTEE_TESTDEV_SCRATCH: td->scratch = merge(td->scratch, v, m); break;
	case SOFTEE_TESTDEV_DMA_HOST_LO: td->dma_host_lo = merge(td->dma_host_lo, v, m); break;
	case SOFTEE_TESTDEV_DMA_HOST_HI: td->dma_host_hi = merge(td->dma_host_hi, v, m); break;
	case SOFTEE_TESTDEV_DMA_DEV: td->dma_dev = merge(td->dma_dev, v, m); break;
	case SOFTEE_TESTDEV_DMA_LEN: td->dma_len = merge(td->dma_len, v, m); break;
	case SOFTEE_TESTDEV_DMA_DIR: td->dma_dir = merge(td->dma_dir, v, m); break;
	case SOFTEE_TESTDEV_CTRL:
		td->ctrl = merge(td->ctrl, v, m) & SOFTEE_TESTDEV_CTRL_IRQ_EN;
		if (v & m & SOFTEE_TESTDEV_CTRL_START)
			dma_start(td);
		break;
	case SOFTEE_TESTDEV_STATUS:
		v &= m & (SOFTEE_TESTDEV_STATUS_DONE | SOFTEE_TESTDEV_STATUS_ERROR);
		td->status &= ~v;
		if (v & SOFTEE_TESTDEV_STATUS_ERROR)
			td->status &= ~SOFTEE_TESTDEV_STATUS_ERR_MASK;
		break;
	case SOFTEE_TESTDEV_DOORBELL:
		td->doorbell = merge(td->doorbell, v, m);
		td->counter++;
		td->irq_status |= SOFTEE_TESTDEV_IRQ_DOORBELL;
		raise_irq(td, SOFTEE_TESTDEV_VEC_DOORBELL);
		break;
	case SOFTEE_TESTDEV_IRQ_STATUS:
		td->irq_status &= ~(v & m);
		break;
	default:
		break;	/* read-only or nothing there */
	}
}

static int td_mem_read(struct softee_endpoint *ep, unsigned int bar, uint64_t off, uint32_t len,
		       void *buf)
{
	struct testdev *td = to_td(ep);
	uint8_t *b = buf;

	if (bar == SOFTEE_TESTDEV_MEM_BAR) {
		/* The BAR is a power of two; past the device memory it reads all ones. */
		uint32_t n = off < td->devmem ? (uint32_t)(td->devmem - off < len ? td->devmem - off : len) : 0;

		if (n)
			memcpy(b, td->mem + off, n);
		memset(b + n, 0xff, len - n);
		return 0;
	}
	if (bar != SOFTEE_TESTDEV_REG_BAR)
		return -ENXIO;
	while (len) {
		uint32_t reg = (uint32_t)off & ~3u, sh = (uint32_t)off & 3u, n = 4 - sh, k;
		uint32_t v = reg_read(td, reg);

		if (n > len)
			n = len;
		for (k = 0; k < n; k++)
			*b++ = (uint8_t)(v >> (8 * (sh + k)));
		off += n;
		len -= n;
	}
	return 0;
}

static int td_mem_write(struct softee_endpoint *ep, unsigned int bar, uint64_t off, uint32_t len,
			const void *buf)
{
	struct testdev *td = to_td(ep);
	const uint8_t *b = buf;

	if (bar == SOFTEE_TESTDEV_MEM_BAR) {
		crc_settle(td);		/* the bytes it covers may change */
		if (off < td->devmem)
			memcpy(td->mem + off, b, td->devmem - off < len ? td->devmem - off : len);
		return 0;
	}
	if (bar != SOFTEE_TESTDEV_REG_BAR)
		return -ENXIO;
	/* Register by register, in address order, each with the bytes written. */
	while (len) {
		uint32_t reg = (uint32_t)off & ~3u, sh = (uint32_t)off & 3u, n = 4 - sh, k;
		uint32_t v = 0, m = 0;

		if (n > len)
			n = len;
		for (k = 0; k < n; k++) {
			v |= (uint32_t)*b++ << (8 * (sh + k));
			m |= 0xffu << (8 * (sh + k));
		}
		reg_write(td, reg, v, m);
		off += n;
		len -= n;
	}
	return 0;
}

/* ---- config space ------------------------------------------------------------------- */

static int td_cfg_read(struct softee_endpoint *ep, uint32_t off, uint32_t len, uint32_t *val)
{
	*val = softee_pcicfg_read(&to_td(ep)->cfg, off, len);
	return 0;
}

static int td_cfg_write(struct softee_endpoint *ep, uint32_t off, uint32_t len, uint32_t val)
{
	struct testdev *td = to_td(ep);

	softee_pcicfg_write(&td->cfg, off, len, val);
	/* A mask or an enable may have changed: pending messages may go now. */
	if (off + len > SOFTEE_TESTDEV_CAP_MSI && off < SOFTEE_TESTDEV_CAP_MSIX + SOFTEE_MSIX_CAP_SIZE)
		flush_pending(td);
	return 0;
}

static void td_config_init(struct testdev *td)
{
	softee_pcicfg_init(&td->cfg, SOFTEE_TESTDEV_VENDOR_ID, SOFTEE_TESTDEV_DEVICE_ID,
			   SOFTEE_TESTDEV_CLASS, SOFTEE_TESTDEV_REVISION,
			   SOFTEE_TESTDEV_SUBSYS_VENDOR_ID, SOFTEE_TESTDEV_SUBSYS_ID);
	softee_pcicfg_set_bars(&td->cfg, td->ep.bar);
	softee_pcicfg_add_msi(&td->cfg, true);
	softee_pcicfg_add_msix(&td->cfg, SOFTEE_TESTDEV_MSIX_VECTORS, SOFTEE_TESTDEV_REG_BAR,
			       SOFTEE_TESTDEV_MSIX_TABLE, SOFTEE_TESTDEV_REG_BAR,
			       SOFTEE_TESTDEV_MSIX_PBA);
}

static void td_reset(struct softee_endpoint *ep)
{
	struct testdev *td = to_td(ep);
	unsigned int v;

	td_config_init(td);
	memset(td->mem, 0, td->devmem);
	td->scratch = td->dma_host_lo = td->dma_host_hi = td->dma_dev = td->dma_len = 0;
	td->dma_dir = td->ctrl = td->status = td->crc = 0;
	td->doorbell = td->counter = td->irq_status = td->irq_count = td->dma_count = 0;
	td->irq_lost = 0;
	memset(td->msix, 0, sizeof(td->msix));
	for (v = 0; v < SOFTEE_TESTDEV_MSIX_VECTORS; v++)	/* vectors start masked */
		td->msix[v * SOFTEE_MSIX_ENTRY_SIZE + SOFTEE_MSIX_ENTRY_CTRL] =
			SOFTEE_MSIX_ENTRY_CTRL_MASKBIT;
	td->pba = 0;
	memset(&td->cur, 0, sizeof(td->cur));
}

static bool td_poll(struct softee_endpoint *ep, uint64_t now_ns)
{
	struct testdev *td = to_td(ep);

	(void)now_ns;
	if (td->cur.write_retry)
		dma_write_try(td);
	/*
	 * The DMA's writes and MSI are on their way: its CRC now, off their
	 * path.  Not a reason to stay busy: while they wait for the host's
	 * acks the box may sleep, and whatever needs the CRC settles it.
	 */
	if (td->cur.crc_pending && !softee_box_ep_queued(td->ep.box, &td->ep))
		crc_settle(td);
	return td->cur.write_retry;
}

static void td_destroy(struct softee_endpoint *ep)
{
	struct testdev *td = to_td(ep);

	free(td->mem);
	free(td);
}

static int td_describe(struct softee_endpoint *ep, char *buf, size_t len)
{
	struct testdev *td = to_td(ep);

	crc_settle(td);
	return snprintf(buf, len, "devmem=%u status=0x%x dma_count=%u irq_count=%u irq_lost=%u "
			"counter=%u crc=0x%08x", td->devmem, td->status, td->dma_count,
			td->irq_count, td->irq_lost, td->counter, td->crc);
}

static const struct softee_endpoint_ops testdev_ops = {
	.cfg_read = td_cfg_read,
	.cfg_write = td_cfg_write,
	.mem_read = td_mem_read,
	.mem_write = td_mem_write,
	.poll = td_poll,
	.reset = td_reset,
	.destroy = td_destroy,
	.describe = td_describe,
};

int softee_testdev_create(struct softee_endpoint **ep, const struct softee_ep_cfg *cfg,
			  uint32_t devmem)
{
	struct testdev *td;
	uint64_t bar = 4096;

	*ep = NULL;
	if (!devmem)
		devmem = SOFTEE_TESTDEV_MEM_SIZE;
	if (devmem < 4096 || devmem > (64u << 20))
		return -EINVAL;
	while (bar < devmem)
		bar <<= 1;
	td = calloc(1, sizeof(*td));
	if (!td)
		return -ENOMEM;
	td->mem = calloc(1, devmem);
	if (!td->mem) {
		free(td);
		return -ENOMEM;
	}
	td->devmem = devmem;
	td->ep.ops = &testdev_ops;
	td->ep.model = "test";
	td->ep.priv = td;
	if (cfg)
		td->ep.cfg = *cfg;
	td->ep.bar[SOFTEE_TESTDEV_REG_BAR].size = SOFTEE_TESTDEV_REG_BAR_SIZE;
	td->ep.bar[SOFTEE_TESTDEV_MEM_BAR].size = bar;
	td->ep.bar[SOFTEE_TESTDEV_MEM_BAR].flags = SOFTEE_BAR_MEM64 | SOFTEE_BAR_PREFETCH;
	td_reset(&td->ep);
	*ep = &td->ep;
	return 0;
}
