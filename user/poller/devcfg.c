// SPDX-License-Identifier: GPL-2.0
/*
 * Device configuration (softee/devcfg.h): when the box of our group comes
 * up, find its devices, read their headers, size and place their BARs,
 * program MSI (or MSI-X), enable memory space and bus mastering, and make
 * the BARs trap regions.  Per box, a phase is a batch of configuration
 * requests queued in order (the box handles them in order: the transport
 * delivers in order) and sent as tags allow; the phase ends when every one
 * has completed.  Any failure fails the device and the box is scanned
 * again cfg.cfg_retry_ns later; a box that comes back is configured again
 * with the same BAR addresses.
 */
#include <errno.h>
#include <string.h>

#include "poller_int.h"

/* What a request's answer is for: cookie = CK_x | argument. */
#define CK_SHIFT	16
#define CK_SCAN		(1u << CK_SHIFT)	/* arg: devfn */
#define CK_HDR		(2u << CK_SHIFT)	/* arg: config offset */
#define CK_SIZE		(3u << CK_SHIFT)	/* arg: BAR number */
#define CK_WRITE	(4u << CK_SHIFT)	/* nothing to keep */
#define CK_TRACK	(5u << CK_SHIFT)	/* slot mode: arg: config offset read back */
#define CK_ARG(c)	((c) & 0xffff)
#define CK_KIND(c)	((c) & ~0xffffu)

/* ---- pure helpers ----------------------------------------------------------- */

uint64_t softee_bar_decode(uint32_t orig, uint32_t lo, uint32_t hi, struct softee_bar *b)
{
	uint64_t mask;
	uint32_t m;

	memset(b, 0, sizeof(*b));
	if ((orig | lo) & SOFTEE_PCI_BAR_IO) {
		m = lo & ~3u;
		if (!m)
			return 0;
		if (!(m & 0xffff0000u))
			m |= 0xffff0000u;	/* 16-bit I/O decoder */
		b->io = true;
		b->size = (uint32_t)(~m + 1);
		return b->size;
	}
	b->is64 = (lo & SOFTEE_PCI_BAR_MEM_TYPE_MASK) == SOFTEE_PCI_BAR_MEM_TYPE_64;
	b->prefetch = lo & SOFTEE_PCI_BAR_PREFETCH;
	if (!(lo & ~0xfu) && (!b->is64 || !hi)) {
		memset(b, 0, sizeof(*b));
		return 0;
	}
	mask = ((uint64_t)(b->is64 ? hi : 0xffffffffu) << 32) | (lo & ~0xfu);
	b->size = ~mask + 1;
	return b->size;
}

unsigned int softee_cfg_find_cap(const uint8_t *cfg, uint8_t id)
{
	unsigned int pos, n = 0;

	if (!(softee_cfg_read(cfg, SOFTEE_PCI_STATUS, 2) & SOFTEE_PCI_STATUS_CAP_LIST))
		return 0;
	pos = cfg[SOFTEE_PCI_CAP_PTR] & 0xfc;
	while (pos >= 0x40 && pos + 1 < SOFTEE_PCI_CFG_SIZE && n++ < SOFTEE_PCI_CAP_MAX) {
		if (cfg[pos] == id)
			return pos;
		pos = cfg[pos + 1] & 0xfc;
	}
	return 0;
}

uint64_t softee_window_alloc(uint64_t *next, uint64_t end, uint64_t size)
{
	uint64_t a;

	if (!size || (size & (size - 1)))
		return 0;
	a = (*next + size - 1) & ~(size - 1);
	if (a < *next || a > end || size > end - a)
		return 0;
	*next = a + size;
	return a;
}

/* The device at devfn dn of the box, if the scan found one there and it is still in play. */
static struct pdev *found_dev(struct softee_poller *p, const struct pbox *b, uint32_t dn)
{
	return b->dev_of[dn] >= 0 && (b->found & (1u << dn)) ? &p->dev[b->dev_of[dn]] : NULL;
}

/* ---- the request queue ----------------------------------------------------- */

/* false when the queue is full (it cannot be with <= 16 devices) */
static bool cfgq_push(struct pbox *b, const struct pcfgq *q)
{
	if (b->cfgq_tail - b->cfgq_head >= POLLER_CFGQ) {
		b->phase_failed = true;
		return false;
	}
	b->cfgq[b->cfgq_tail++ % POLLER_CFGQ] = *q;
	if (q->kind != PCFGQ_MWR)
		b->outstanding++;
	return true;
}

/*
 * Forget what was never sent.  A slot's read-backs among it will not
 * complete: its device stops waiting for them, or it would never decode
 * its BARs again (track_done).
 */
static void cfgq_clear(struct softee_poller *p, struct pbox *b)
{
	for (; b->cfgq_head != b->cfgq_tail; b->cfgq_head++) {
		const struct pcfgq *q = &b->cfgq[b->cfgq_head % POLLER_CFGQ];

		if (q->kind == PCFGQ_READ && CK_KIND(q->cookie) == CK_TRACK &&
		    q->dev < SOFTEE_POLLER_MAX_DEVS && p->dev[q->dev].track_left)
			p->dev[q->dev].track_left--;
	}
	b->cfgq_head = b->cfgq_tail = 0;
}

static bool cfg_rd(struct pbox *b, uint32_t dev, uint16_t bdf, uint16_t off, uint32_t cookie)
{
	struct pcfgq q = { .kind = PCFGQ_READ, .len = 4, .bdf = bdf, .off = off, .dev = dev,
			   .cookie = cookie };

	return cfgq_push(b, &q);
}

static void cfg_wr(struct pbox *b, const struct pdev *d, uint16_t off, uint8_t len, uint32_t val)
{
	struct pcfgq q = { .kind = PCFGQ_WRITE, .len = len, .bdf = d->bdf, .off = off,
			   .dev = d->idx, .val = val, .cookie = CK_WRITE };

	cfgq_push(b, &q);
}

static void mem_wr(struct pbox *b, const struct pdev *d, uint64_t addr, uint32_t val)
{
	struct pcfgq q = { .kind = PCFGQ_MWR, .len = 4, .dev = d->idx, .addr = addr, .val = val };

	cfgq_push(b, &q);
}

/* Send what the queue holds, in order, while tags and the transport allow. */
static void cfgq_pump(struct softee_poller *p, struct pbox *b)
{
	while (b->up && b->cfgq_head != b->cfgq_tail) {
		const struct pcfgq *q = &b->cfgq[b->cfgq_head % POLLER_CFGQ];
		struct softee_tlp t = { .requester = POLLER_REQUESTER, .len_dw = 1 };
		uint8_t data[4];
		uint32_t v;
		int tag = -1, ret, i;

		if (q->kind == PCFGQ_MWR) {
			t.kind = SOFTEE_TLP_MWR;
			softee_tlp_set_range(&t, q->addr, 4);
		} else {
			tag = ptag_alloc(b, p->now + p->cfg.cpl_timeout_ns);
			if (tag < 0)
				return;
			t.kind = q->kind == PCFGQ_READ ? SOFTEE_TLP_CFGRD0 : SOFTEE_TLP_CFGWR0;
			t.tag = (uint8_t)tag;
			t.target = q->bdf;
			t.reg = q->off >> 2;
			t.first_be = (uint8_t)(((1u << q->len) - 1) << (q->off & 3));
		}
		v = q->kind == PCFGQ_MWR ? q->val : q->val << (8 * (q->off & 3));
		for (i = 0; i < 4; i++)
			data[i] = (uint8_t)(v >> (8 * i));
		t.data = data;
		ret = poller_send(p, b, &t);
		if (ret == -EAGAIN) {
			if (tag >= 0)
				ptag_free(b, (uint8_t)tag);
			return;
		}
		b->cfgq_head++;
		if (tag < 0)
			continue;
		b->tags[tag].kind = PTAG_CFG;
		b->tags[tag].dev = q->dev;
		b->tags[tag].cookie = q->cookie;
		b->tags[tag].write = q->kind == PCFGQ_WRITE;
		b->tags[tag].addr = q->off;
		if (ret) {
			/* the box is gone: the request fails like a lost one */
			pdevcfg_on_cpl(p, b, &b->tags[tag], PCFG_ST_LOST, ~0u);
		}
	}
}

/* ---- slot mode: the guest configures the device ------------------------------- */

static void dev_state(struct softee_poller *p, struct pdev *d, enum softee_poller_dev_state s);

/*
 * The BARs to trap: those the guest's command register enables, at the
 * addresses it wrote (sizes and types as the poller found them); a BAR
 * still holding the sizing pattern, at 0, or wrapping is not trapped.
 *
 * A BAR that was trapped stays where it was while its decode is off:
 * the guest sizes BARs (and the kernel's PCI core does, at every boot)
 * with decode off and then restores both, and the driver touches the BAR
 * right after; trapping anew after each restore would be asynchronous
 * (REGION_ADD waits for the VM's SRCU readers, on the sync thread), and
 * the driver's first accesses would go past it to the VMM's unassigned
 * memory: lost doorbells, admin queues at 0, MSI-X entries never
 * written.  The box answers a BAR with decode off with Unsupported
 * Request, so the guest still reads all ones there, as on a real bus.
 */
static void slot_decode(struct pdev *d, struct softee_bar *eff)
{
	uint16_t cmd = (uint16_t)softee_cfg_read(d->cfg, SOFTEE_PCI_COMMAND, 2);
	uint32_t i;

	memset(eff, 0, sizeof(*eff) * SOFTEE_PCI_NR_BARS);
	for (i = 0; i < SOFTEE_PCI_NR_BARS; i++) {
		const struct softee_bar *hw = &d->hw[i];
		uint64_t lo, hi = 0, a, mask;
		bool on;

		if (!hw->size)
			continue;
		lo = softee_cfg_read(d->cfg, SOFTEE_PCI_BAR0 + 4 * i, 4);
		if (hw->is64 && i + 1 < SOFTEE_PCI_NR_BARS)
			hi = softee_cfg_read(d->cfg, SOFTEE_PCI_BAR0 + 4 * (i + 1), 4);
		mask = ~(hw->size - 1) & (hw->io ? 0xfffcULL : hw->is64 ? ~0ULL : 0xffffffffULL);
		a = (hi << 32 | lo) & mask;
		on = hw->io ? cmd & SOFTEE_PCI_COMMAND_IO : cmd & SOFTEE_PCI_COMMAND_MEMORY;
		if (on && a && a != mask && a + hw->size > a) {
			eff[i] = *hw;
			eff[i].addr = a;
		} else if (!on && d->slot_req[i].size) {
			eff[i] = d->slot_req[i];
		}
	}
	memcpy(d->slot_req, eff, sizeof(d->slot_req));
}

static void track_done(struct softee_poller *p, struct pdev *d, uint32_t off, bool ok,
		       uint32_t value)
{
	struct softee_bar eff[SOFTEE_PCI_NR_BARS];

	if (ok && off + 4 <= SOFTEE_PCI_CFG_SIZE) {
		d->cfg[off] = (uint8_t)value;
		d->cfg[off + 1] = (uint8_t)(value >> 8);
		d->cfg[off + 2] = (uint8_t)(value >> 16);
		d->cfg[off + 3] = (uint8_t)(value >> 24);
	}
	if (d->track_left && --d->track_left)
		return;
	slot_decode(d, eff);
	PCNT(d->c.bar_syncs, 1);
	ptrap_sync_request(p, d, eff);
}

void pdevcfg_track(struct softee_poller *p, struct pbox *b, struct pdev *d)
{
	uint32_t i;

	(void)p;
	/* only what was queued will complete, as a value or as a failure */
	d->track_left += cfg_rd(b, d->idx, d->bdf, SOFTEE_PCI_COMMAND & ~3u,
				CK_TRACK | (SOFTEE_PCI_COMMAND & ~3u));
	for (i = 0; i < SOFTEE_PCI_NR_BARS; i++)
		d->track_left += cfg_rd(b, d->idx, d->bdf, (uint16_t)(SOFTEE_PCI_BAR0 + 4 * i),
					CK_TRACK | (SOFTEE_PCI_BAR0 + 4 * i));
}

/*
 * After sizing: the first device is the slot's.  Its BARs go back to what
 * the guest last enabled (a box that returns was reset: the guest does
 * not know), or to 0; the rest of its configuration is the guest's.
 */
static void phase_slot(struct softee_poller *p, struct pbox *b)
{
	struct softee_bar nb[SOFTEE_PCI_NR_BARS];
	uint32_t dn, i;
	bool slot_taken = false, mem = false, io = false;

	b->phase = PBOX_PROGRAM;
	for (dn = 0; dn < 32; dn++) {
		struct pdev *d = found_dev(p, b, dn);

		if (!d)
			continue;
		if (slot_taken) {
			plog(p, "slot: %02x:%02x.%x: the slot holds one device: left alone",
			     p->cfg.bus, dn >> 3, dn & 7);
			b->found &= ~(1u << dn);
			dev_state(p, d, SOFTEE_PDEV_FAILED);
			continue;
		}
		slot_taken = true;
		memset(nb, 0, sizeof(nb));
		for (i = 0; i < SOFTEE_PCI_NR_BARS; i++) {
			uint32_t orig = softee_cfg_read(d->cfg, SOFTEE_PCI_BAR0 + 4 * i, 4);
			uint32_t hi = i + 1 < SOFTEE_PCI_NR_BARS ? d->sizing[i + 1] : 0;

			softee_bar_decode(orig, d->sizing[i], hi, &nb[i]);
			if (nb[i].is64)
				i++;
		}
		memcpy(d->hw, nb, sizeof(nb));
		dev_state(p, d, SOFTEE_PDEV_CONFIGURING);
		for (i = 0; i < SOFTEE_PCI_NR_BARS; i++) {
			const struct softee_bar *bar = &d->bar[i];	/* trapped: the guest's */
			uint64_t a = bar->size ? bar->addr : 0;

			if (i > 0 && d->hw[i - 1].is64)
				continue;
			mem |= bar->size && !bar->io;
			io |= bar->size && bar->io;
			cfg_wr(b, d, (uint16_t)(SOFTEE_PCI_BAR0 + 4 * i), 4, (uint32_t)a);
			if (d->hw[i].is64 && i + 1 < SOFTEE_PCI_NR_BARS)
				cfg_wr(b, d, (uint16_t)(SOFTEE_PCI_BAR0 + 4 * (i + 1)), 4,
				       (uint32_t)(a >> 32));
		}
		if (mem || io)
			cfg_wr(b, d, SOFTEE_PCI_COMMAND, 2,
			       SOFTEE_PCI_COMMAND_MASTER | (mem ? SOFTEE_PCI_COMMAND_MEMORY : 0) |
			       (io ? SOFTEE_PCI_COMMAND_IO : 0));
		for (i = 0; i < SOFTEE_PCI_CFG_SIZE; i += 4)
			cfg_rd(b, d->idx, d->bdf, (uint16_t)i, CK_HDR | i);
	}
}

static void phase_slot_finish(struct softee_poller *p, struct pbox *b)
{
	uint32_t dn, id;
	int ret;

	b->phase = PBOX_DONE;
	for (dn = 0; dn < 32; dn++) {
		struct pdev *d = found_dev(p, b, dn);

		if (!d)
			continue;
		if (!d->cfg_trapped) {
			ret = p->trap && p->trap->cfg_add ?
			      p->trap->cfg_add(p, p->cfg.slot_bdf, p->cfg.ecam_base, &id) : -EOPNOTSUPP;
			if (!ret && id >= SOFTEE_MAX_CFG)
				ret = -ERANGE;
			if (ret) {
				plog(p, "slot: %02x:%02x.%x: trapping its config space: %s%s",
				     SOFTEE_BDF_BUS(p->cfg.slot_bdf), SOFTEE_BDF_DEV(p->cfg.slot_bdf),
				     SOFTEE_BDF_FN(p->cfg.slot_bdf), strerror(-ret),
				     ret == -EOPNOTSUPP ? " (slot mode needs softee.ko with config traps)" : "");
				dev_state(p, d, SOFTEE_PDEV_FAILED);
				continue;
			}
			d->cfg_trapped = true;
			d->cfg_id = id;
			p->cfg_dev[id] = (int32_t)d->idx;
		}
		PCNT(d->c.configured, 1);
		plog(p, "slot: %02x:%02x.%x: %04x:%04x from the box's %02x:%02x.%x, for the guest to configure",
		     SOFTEE_BDF_BUS(p->cfg.slot_bdf), SOFTEE_BDF_DEV(p->cfg.slot_bdf),
		     SOFTEE_BDF_FN(p->cfg.slot_bdf),
		     softee_cfg_read(d->cfg, SOFTEE_PCI_VENDOR_ID, 2),
		     softee_cfg_read(d->cfg, SOFTEE_PCI_DEVICE_ID, 2),
		     SOFTEE_BDF_BUS(d->bdf), SOFTEE_BDF_DEV(d->bdf), SOFTEE_BDF_FN(d->bdf));
		dev_state(p, d, SOFTEE_PDEV_READY);
	}
}

/* ---- answers ------------------------------------------------------------------ */

void pdevcfg_on_cpl(struct softee_poller *p, struct pbox *b, struct ptag *tg,
		   uint8_t status, uint32_t value)
{
	uint32_t cookie = tg->cookie, arg = CK_ARG(cookie), dev = tg->dev;
	struct pdev *d = CK_KIND(cookie) == CK_SCAN ? NULL : &p->dev[dev];
	uint8_t tag = (uint8_t)(tg - b->tags);

	ptag_free(b, tag);
	if (b->outstanding)
		b->outstanding--;
	if (CK_KIND(cookie) == CK_TRACK) {
		/* Not part of a phase: a lost read-back only leaves the traps as they were. */
		track_done(p, &p->dev[dev], arg, status == SOFTEE_TLP_CPL_SC, value);
		cfgq_pump(p, b);
		return;
	}
	if (CK_KIND(cookie) == CK_SCAN) {
		/* Absent: UR, CA, a timeout, or the all-ones vendor ID. */
		if (status == SOFTEE_TLP_CPL_SC && (value & 0xffff) != 0xffff && arg < 32)
			b->found |= 1u << arg;
		else if (status == PCFG_ST_LOST)
			b->phase_failed = true;
	} else if (status != SOFTEE_TLP_CPL_SC) {
		if (!b->phase_failed && d)
			plog(p, "devcfg: %02x:%02x.%x: config %s at 0x%02x: %s",
			     SOFTEE_BDF_BUS(d->bdf), SOFTEE_BDF_DEV(d->bdf), SOFTEE_BDF_FN(d->bdf),
			     tg->write ? "write" : "read", (unsigned int)tg->addr,
			     status == PCFG_ST_TIMEOUT ? "no completion (timeout)" :
			     status == PCFG_ST_LOST ? "the box is lost" :
			     status == SOFTEE_TLP_CPL_UR ? "unsupported request" :
			     status == SOFTEE_TLP_CPL_CRS ? "retry status (not ready)" :
			     "completer abort");
		b->phase_failed = true;
	} else if (CK_KIND(cookie) == CK_HDR && arg + 4 <= SOFTEE_PCI_CFG_SIZE) {
		d->cfg[arg] = (uint8_t)value;
		d->cfg[arg + 1] = (uint8_t)(value >> 8);
		d->cfg[arg + 2] = (uint8_t)(value >> 16);
		d->cfg[arg + 3] = (uint8_t)(value >> 24);
	} else if (CK_KIND(cookie) == CK_SIZE && arg < SOFTEE_PCI_NR_BARS) {
		d->sizing[arg] = value;
	}
	if (!b->outstanding)
		b->phase_done = true;
	cfgq_pump(p, b);
}

/* ---- phases --------------------------------------------------------------------- */

static void dev_state(struct softee_poller *p, struct pdev *d, enum softee_poller_dev_state s)
{
	d->state = s;
	poller_publish_dev(p, d);
}

static void box_fail(struct softee_poller *p, struct pbox *b, const char *why)
{
	uint32_t i;

	plog(p, "devcfg: box %02x:%02x:%02x:%02x:%02x:%02x: %s; trying again in %llu ms",
	     b->mac[0], b->mac[1], b->mac[2], b->mac[3], b->mac[4], b->mac[5], why,
	     (unsigned long long)(p->cfg.cfg_retry_ns / 1000000));
	for (i = 0; i < 32; i++) {
		struct pdev *d = b->dev_of[i] >= 0 ? &p->dev[b->dev_of[i]] : NULL;

		if (d && d->state != SOFTEE_PDEV_READY && d->state != SOFTEE_PDEV_DOWN)
			dev_state(p, d, SOFTEE_PDEV_FAILED);
	}
	b->phase = PBOX_IDLE;
	b->retry_at_ns = p->now + p->cfg.cfg_retry_ns;
}

static void start_scan(struct softee_poller *p, struct pbox *b)
{
	uint32_t dn;

	b->phase = PBOX_SCAN;
	b->phase_done = false;
	b->phase_failed = false;
	b->found = 0;
	/* Device 0, functions 0..scan_devs-1: the box's endpoints (its function numbers). */
	for (dn = 0; dn < p->cfg.scan_devs; dn++)
		cfg_rd(b, dn, (uint16_t)(p->cfg.bus << 8 | dn), 0, CK_SCAN | dn);
}

static void phase_header(struct softee_poller *p, struct pbox *b)
{
	uint32_t dn, off;

	b->phase = PBOX_HEADER;
	for (dn = 0; dn < 32; dn++) {
		struct pdev *d;

		if (!(b->found & (1u << dn)))
			continue;
		d = poller_dev_get(p, box_idx(p, b), (uint16_t)(p->cfg.bus << 8 | dn));
		if (!d) {
			plog(p, "devcfg: more than %d devices: %02x:%02x.%x left alone",
			     SOFTEE_POLLER_MAX_DEVS, p->cfg.bus, dn >> 3, dn & 7);
			continue;
		}
		b->dev_of[dn] = (int)d->idx;
		dev_state(p, d, SOFTEE_PDEV_PROBING);
		for (off = 0; off < SOFTEE_PCI_CFG_SIZE; off += 4)
			cfg_rd(b, d->idx, d->bdf, (uint16_t)off, CK_HDR | off);
	}
}

static void phase_size(struct softee_poller *p, struct pbox *b)
{
	uint32_t dn, i;

	(void)p;
	b->phase = PBOX_SIZE;
	for (dn = 0; dn < 32; dn++) {
		struct pdev *d = found_dev(p, b, dn);

		if (!d)
			continue;
		if ((d->cfg[SOFTEE_PCI_HEADER_TYPE] & 0x7f) != 0) {
			plog(p, "devcfg: %02x:%02x.%x: header type %u is not an endpoint's: left alone",
			     p->cfg.bus, dn >> 3, dn & 7, d->cfg[SOFTEE_PCI_HEADER_TYPE] & 0x7f);
			b->found &= ~(1u << dn);
			dev_state(p, d, SOFTEE_PDEV_FAILED);
			continue;
		}
		/* No decoding while the BARs move. */
		cfg_wr(b, d, SOFTEE_PCI_COMMAND, 2, 0);
		for (i = 0; i < SOFTEE_PCI_NR_BARS; i++) {
			cfg_wr(b, d, (uint16_t)(SOFTEE_PCI_BAR0 + 4 * i), 4, 0xffffffffu);
			cfg_rd(b, d->idx, d->bdf, (uint16_t)(SOFTEE_PCI_BAR0 + 4 * i), CK_SIZE | i);
		}
	}
}

/* Sizes from the read-backs; windows for them (the old ones when they still fit). */
static int place_bars(struct softee_poller *p, struct pdev *d)
{
	struct softee_bar nb[SOFTEE_PCI_NR_BARS];
	bool same = d->placed;
	uint32_t i;

	memset(nb, 0, sizeof(nb));
	for (i = 0; i < SOFTEE_PCI_NR_BARS; i++) {
		uint32_t orig = softee_cfg_read(d->cfg, SOFTEE_PCI_BAR0 + 4 * i, 4);
		uint32_t hi = i + 1 < SOFTEE_PCI_NR_BARS ? d->sizing[i + 1] : 0;

		softee_bar_decode(orig, d->sizing[i], hi, &nb[i]);
		if (nb[i].is64) {
			if (i + 1 >= SOFTEE_PCI_NR_BARS)
				return -EINVAL;
			i++;			/* the upper half */
		}
	}
	for (i = 0; i < SOFTEE_PCI_NR_BARS; i++)
		if (nb[i].size != d->bar[i].size || nb[i].io != d->bar[i].io)
			same = false;
	if (same)
		return 0;			/* a return: the same windows */
	for (i = 0; i < SOFTEE_PCI_NR_BARS; i++) {
		uint64_t sz = nb[i].size;

		if (!sz)
			continue;
		if (nb[i].io) {
			nb[i].addr = softee_window_alloc(&p->io_next, p->cfg.io_base + p->cfg.io_len,
							 sz < 4 ? 4 : sz);
		} else {
			nb[i].addr = softee_window_alloc(&p->mmio_next,
							 p->cfg.mmio_base + p->cfg.mmio_len,
							 sz < 4096 ? 4096 : sz);
		}
		if (!nb[i].addr) {
			plog(p, "devcfg: %02x:%02x.%x: BAR%u (%s, 0x%llx bytes) does not fit the %s window",
			     SOFTEE_BDF_BUS(d->bdf), SOFTEE_BDF_DEV(d->bdf), SOFTEE_BDF_FN(d->bdf), i,
			     nb[i].io ? "I/O" : "memory", (unsigned long long)sz,
			     nb[i].io ? "--io-window" : "--mmio-window");
			return -ENOSPC;
		}
	}
	memcpy(d->bar, nb, sizeof(nb));
	d->placed = true;
	return 0;
}

/*
 * The device's n vectors, handed out once and kept (a box that returns
 * gets the same ones); false when they would pass 0xff.
 */
static bool take_vectors(struct softee_poller *p, struct pdev *d, uint32_t n)
{
	if (d->has_vec)
		return true;
	if (p->next_vector + n > 0x100) {
		plog(p, "devcfg: %02x:%02x.%x: no %u MSI vector(s) left (the last is 0xff): no interrupts",
		     SOFTEE_BDF_BUS(d->bdf), SOFTEE_BDF_DEV(d->bdf), SOFTEE_BDF_FN(d->bdf), n);
		return false;
	}
	d->msi_vec_base = (uint8_t)p->next_vector;
	p->next_vector += n;
	d->has_vec = true;
	return true;
}

static void program_msi(struct softee_poller *p, struct pbox *b, struct pdev *d)
{
	unsigned int cap = softee_cfg_find_cap(d->cfg, SOFTEE_PCI_CAP_MSI);
	uint32_t ctl, n, i;

	d->msi_kind = 0;
	d->nr_msi = 0;
	d->msi_addr = softee_msi_address(p->cfg.msi_dest);
	if (cap) {
		/*
		 * The box says where its capabilities are: what we touch of
		 * this one must fit in the header (the flags at cap + 2 always
		 * do, cap <= 0xfc; the data at cap + 8, or cap + 12 with 64-bit
		 * addresses).
		 */
		ctl = softee_cfg_read(d->cfg, cap + 2, 2);
		if (cap + ((ctl & SOFTEE_MSI_FLAGS_64BIT) ? 14 : 10) > SOFTEE_PCI_CFG_SIZE) {
			plog(p, "devcfg: %02x:%02x.%x: MSI capability at 0x%x runs past the header: no interrupts",
			     SOFTEE_BDF_BUS(d->bdf), SOFTEE_BDF_DEV(d->bdf), SOFTEE_BDF_FN(d->bdf), cap);
			return;
		}
		if (!take_vectors(p, d, 1))
			return;
		d->msi_data[0] = softee_msi_data(d->msi_vec_base);
		cfg_wr(b, d, (uint16_t)(cap + 4), 4, (uint32_t)d->msi_addr);
		if (ctl & SOFTEE_MSI_FLAGS_64BIT) {
			cfg_wr(b, d, (uint16_t)(cap + 8), 4, (uint32_t)(d->msi_addr >> 32));
			cfg_wr(b, d, (uint16_t)(cap + 12), 2, d->msi_data[0]);
		} else {
			cfg_wr(b, d, (uint16_t)(cap + 8), 2, d->msi_data[0]);
		}
		/* One vector (multiple message enable 0), enabled. */
		cfg_wr(b, d, (uint16_t)(cap + 2), 2,
		       (ctl & ~SOFTEE_MSI_FLAGS_QSIZE) | SOFTEE_MSI_FLAGS_ENABLE);
		d->msi_kind = SOFTEE_PCI_CAP_MSI;
		d->nr_msi = 1;
		return;
	}
	cap = softee_cfg_find_cap(d->cfg, SOFTEE_PCI_CAP_MSIX);
	if (!cap)
		return;
	if (cap + 12 > SOFTEE_PCI_CFG_SIZE) {
		plog(p, "devcfg: %02x:%02x.%x: MSI-X capability at 0x%x runs past the header: no interrupts",
		     SOFTEE_BDF_BUS(d->bdf), SOFTEE_BDF_DEV(d->bdf), SOFTEE_BDF_FN(d->bdf), cap);
		return;
	}
	ctl = softee_cfg_read(d->cfg, cap + 2, 2);
	n = (ctl & SOFTEE_MSIX_FLAGS_QSIZE) + 1;
	if (n > SOFTEE_POLLER_MAX_MSI)
		n = SOFTEE_POLLER_MAX_MSI;
	{
		uint32_t tbl = softee_cfg_read(d->cfg, cap + 4, 4);
		const struct softee_bar *bar = (tbl & 7) < SOFTEE_PCI_NR_BARS ? &d->bar[tbl & 7] : NULL;
		uint64_t base;

		if (!bar || !bar->size || bar->io ||
		    (tbl & ~7u) + (uint64_t)n * SOFTEE_MSIX_ENTRY_SIZE > bar->size) {
			plog(p, "devcfg: %02x:%02x.%x: MSI-X table outside its BAR: no interrupts",
			     SOFTEE_BDF_BUS(d->bdf), SOFTEE_BDF_DEV(d->bdf), SOFTEE_BDF_FN(d->bdf));
			return;
		}
		if (!take_vectors(p, d, n))
			return;
		base = bar->addr + (tbl & ~7u);
		/* The table lives in the BAR: memory writes, once memory space is on. */
		cfg_wr(b, d, (uint16_t)(cap + 2), 2, ctl | SOFTEE_MSIX_FLAGS_MASKALL);
		cfg_wr(b, d, SOFTEE_PCI_COMMAND, 2, SOFTEE_PCI_COMMAND_MEMORY);
		for (i = 0; i < n; i++) {
			uint64_t e = base + (uint64_t)i * SOFTEE_MSIX_ENTRY_SIZE;

			d->msi_data[i] = softee_msi_data((uint8_t)(d->msi_vec_base + i));
			mem_wr(b, d, e, (uint32_t)d->msi_addr);
			mem_wr(b, d, e + 4, (uint32_t)(d->msi_addr >> 32));
			mem_wr(b, d, e + 8, d->msi_data[i]);
			mem_wr(b, d, e + 12, 0);	/* unmasked */
		}
		cfg_wr(b, d, (uint16_t)(cap + 2), 2,
		       (ctl & ~SOFTEE_MSIX_FLAGS_MASKALL) | SOFTEE_MSIX_FLAGS_ENABLE);
		d->msi_kind = SOFTEE_PCI_CAP_MSIX;
		d->nr_msi = (uint8_t)n;
	}
}

static void phase_program(struct softee_poller *p, struct pbox *b)
{
	uint32_t dn, i;
	uint16_t cmd;

	b->phase = PBOX_PROGRAM;
	for (dn = 0; dn < 32; dn++) {
		struct pdev *d = found_dev(p, b, dn);
		bool io = false, mem = false;

		if (!d)
			continue;
		if (place_bars(p, d)) {
			b->found &= ~(1u << dn);
			dev_state(p, d, SOFTEE_PDEV_FAILED);
			continue;
		}
		dev_state(p, d, SOFTEE_PDEV_CONFIGURING);
		for (i = 0; i < SOFTEE_PCI_NR_BARS; i++) {
			const struct softee_bar *bar = &d->bar[i];
			uint32_t flags = softee_cfg_read(d->cfg, SOFTEE_PCI_BAR0 + 4 * i, 4);

			if (!bar->size) {
				if (!(i > 0 && d->bar[i - 1].is64))
					cfg_wr(b, d, (uint16_t)(SOFTEE_PCI_BAR0 + 4 * i), 4, 0);
				continue;
			}
			io |= bar->io;
			mem |= !bar->io;
			cfg_wr(b, d, (uint16_t)(SOFTEE_PCI_BAR0 + 4 * i), 4,
			       (uint32_t)bar->addr | (flags & (bar->io ? 0x3 : 0xf)));
			if (bar->is64)
				cfg_wr(b, d, (uint16_t)(SOFTEE_PCI_BAR0 + 4 * (i + 1)), 4,
				       (uint32_t)(bar->addr >> 32));
		}
		program_msi(p, b, d);
		cmd = SOFTEE_PCI_COMMAND_MASTER | SOFTEE_PCI_COMMAND_INTX_DISABLE |
		      (mem ? SOFTEE_PCI_COMMAND_MEMORY : 0) | (io ? SOFTEE_PCI_COMMAND_IO : 0);
		cfg_wr(b, d, SOFTEE_PCI_COMMAND, 2, cmd);
		/* Read config space back: what the guest's tools will see. */
		for (i = 0; i < SOFTEE_PCI_CFG_SIZE; i += 4)
			cfg_rd(b, d->idx, d->bdf, (uint16_t)i, CK_HDR | i);
	}
}

static void phase_finish(struct softee_poller *p, struct pbox *b)
{
	uint32_t dn;
	int ret;

	b->phase = PBOX_DONE;
	for (dn = 0; dn < 32; dn++) {
		struct pdev *d = found_dev(p, b, dn);

		if (!d)
			continue;
		ret = ptrap_region_sync(p, d);
		if (ret) {
			plog(p, "devcfg: %02x:%02x.%x: trapping its BARs: %s",
			     SOFTEE_BDF_BUS(d->bdf), SOFTEE_BDF_DEV(d->bdf), SOFTEE_BDF_FN(d->bdf),
			     strerror(-ret));
			dev_state(p, d, SOFTEE_PDEV_FAILED);
			continue;
		}
		PCNT(d->c.configured, 1);
		plog(p, "devcfg: %02x:%02x.%x: %04x:%04x ready: BAR0 0x%llx+0x%llx, %s %u vector(s) from 0x%02x",
		     SOFTEE_BDF_BUS(d->bdf), SOFTEE_BDF_DEV(d->bdf), SOFTEE_BDF_FN(d->bdf),
		     softee_cfg_read(d->cfg, SOFTEE_PCI_VENDOR_ID, 2),
		     softee_cfg_read(d->cfg, SOFTEE_PCI_DEVICE_ID, 2),
		     (unsigned long long)d->bar[0].addr, (unsigned long long)d->bar[0].size,
		     d->msi_kind == SOFTEE_PCI_CAP_MSI ? "MSI" :
		     d->msi_kind == SOFTEE_PCI_CAP_MSIX ? "MSI-X" : "no MSI,",
		     d->nr_msi, d->msi_vec_base);
		dev_state(p, d, SOFTEE_PDEV_READY);
	}
}

void pdevcfg_box_up(struct softee_poller *p, struct pbox *b)
{
	cfgq_clear(p, b);
	b->outstanding = 0;
	b->retry_at_ns = 0;
	start_scan(p, b);
	cfgq_pump(p, b);
}

void pdevcfg_box_down(struct softee_poller *p, struct pbox *b)
{
	uint32_t i;

	cfgq_clear(p, b);
	b->outstanding = 0;
	b->phase = PBOX_IDLE;
	b->phase_done = false;
	for (i = 0; i < 32; i++) {
		struct pdev *d = b->dev_of[i] >= 0 ? &p->dev[b->dev_of[i]] : NULL;

		if (!d || d->state == SOFTEE_PDEV_DOWN)
			continue;
		PCNT(d->c.downs, 1);
		dev_state(p, d, SOFTEE_PDEV_DOWN);
	}
}

void pdevcfg_work(struct softee_poller *p)
{
	uint32_t i;

	for (i = 0; i < POLLER_MAX_BOXES; i++) {
		struct pbox *b = &p->box[i];

		if (!b->used || !b->up)
			continue;
		if (b->phase == PBOX_IDLE && b->retry_at_ns && p->now >= b->retry_at_ns) {
			pdevcfg_box_up(p, b);
			continue;
		}
		cfgq_pump(p, b);
		if (!b->phase_done)
			continue;
		b->phase_done = false;
		if (b->phase_failed) {
			box_fail(p, b, "configuration failed");
			continue;
		}
		switch (b->phase) {
		case PBOX_SCAN:
			if (!b->found) {
				box_fail(p, b, "no device answered the scan");
				break;
			}
			phase_header(p, b);
			break;
		case PBOX_HEADER:
			phase_size(p, b);
			break;
		case PBOX_SIZE:
			if (p->cfg.slot)
				phase_slot(p, b);
			else
				phase_program(p, b);
			break;
		case PBOX_PROGRAM:
			if (p->cfg.slot)
				phase_slot_finish(p, b);
			else
				phase_finish(p, b);
			break;
		default:
			break;
		}
		/* A phase with nothing to do is done at once. */
		if (!b->outstanding && b->phase != PBOX_DONE && b->phase != PBOX_IDLE)
			b->phase_done = true;
		cfgq_pump(p, b);
	}
}
