// SPDX-License-Identifier: GPL-2.0
/*
 * The bridge: ring entries become TLPs, completions go back into the ring
 * slots (uapi/softee.h, "Ring layout").
 *
 * Per ring, entries are taken in order.  A write (posted) becomes an MWr
 * at once; consecutive writes to adjacent addresses of the same region of
 * a prefetchable BAR merge into one MWr (up to cfg.merge_max bytes, never
 * across 4 KiB): PCIe lets only prefetchable memory combine writes, as a
 * CPU's write-combining mapping would; registers get one MWr a write.  A
 * read becomes an MRd with a tag and stays in the ring, unconsumed, until
 * its completion (or the timeout, or the box's loss) writes data and
 * status into the slot: the producer cannot reuse a slot before the
 * consumer index passes it, and a vCPU has at most one read in flight.
 * Port I/O regions are the device's I/O BARs: IORd, IOWr.  An access no
 * device BAR covers completes with all ones (reads) or is dropped.
 */
#include <errno.h>
#include <string.h>

#include "poller_int.h"

/* The entry's value as bytes, little endian. */
static void le_bytes(uint8_t *dst, uint64_t v, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		dst[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le_value(const uint8_t *src, uint32_t len)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < len; i++)
		v |= (uint64_t)src[i] << (8 * i);
	return v;
}

static bool len_ok(uint8_t len)
{
	return len == 1 || len == 2 || len == 4 || len == 8;
}

/* Does [addr, addr + len) lie in region r, and agree with the entry's offset? */
static bool in_region(const struct pregion *r, uint8_t bus, uint64_t addr, uint64_t off,
		      uint8_t len)
{
	return r->used && r->bus == bus && addr >= r->base && addr - r->base == off &&
	       off < r->len && len <= r->len - off;
}

/*
 * Every read the poller completes goes through here: the MSIs the device
 * sent before it go in first (completions never pass posted writes), then
 * data and status, then done = seq (release): the vCPU may go.
 */
static void ring_complete(struct softee_poller *p, struct softee_ring_entry *e, uint64_t data,
			  uint32_t status)
{
	pmsi_flush(p);
	softee_ring_complete(e, data, status);
}

/* Complete and retire the read at the head of a ring with all ones. */
static void ring_fail_read(struct softee_poller *p, struct softee_ring_entry *e,
			   uint32_t status)
{
	ring_complete(p, e, ~0ULL, status ? status : EIO);
}

/* Posted writes from entry i on: one MWr (or IOWr).  Returns entries used, 0: retry later. */
static uint32_t bridge_write(struct softee_poller *p, struct softee_ring *r, uint32_t i,
			     uint32_t n, const struct pregion *reg, struct pdev *d,
			     struct pbox *b)
{
	const struct softee_ring_entry *e = softee_ring_entry(r, i);
	uint8_t payload[SOFTEE_TLP_MAX_DATA + 8];
	uint64_t addr = e->addr, end = e->addr + e->len, start = addr & ~3ULL;
	struct softee_tlp t = { .requester = POLLER_REQUESTER };
	uint32_t j, k, total = e->len, merged = 0;
	int ret, tag = -1;

	if (reg->bus == SOFTEE_BUS_PIO) {
		/* One DW at most, not across it (PCIe 3.0, 2.2.5). */
		if (e->len > 4 || ((addr ^ (end - 1)) & ~3ULL)) {
			PCNT(d->c.bad_access, 1);
			return 1;
		}
		j = i + 1;
	} else {
		bool combine = reg->bar < SOFTEE_PCI_NR_BARS && d->bar[reg->bar].prefetch;

		for (j = i + 1; combine && j < n; j++) {
			const struct softee_ring_entry *f = softee_ring_entry(r, j);

			if (f->op != SOFTEE_OP_WRITE || f->region != e->region || f->addr != end ||
			    !len_ok(f->len) || total + f->len > p->cfg.merge_max ||
			    ((addr ^ (end + f->len - 1)) & ~0xfffULL) ||
			    !in_region(reg, f->bus, f->addr, f->offset, f->len))
				break;
			total += f->len;
			end += f->len;
			merged++;
		}
		if ((addr ^ (end - 1)) & ~0xfffULL) {
			PCNT(d->c.bad_access, 1);	/* one 8-byte write across 4 KiB */
			return 1;
		}
	}
	memset(payload, 0, ((end - start + 3) & ~3ULL));
	for (k = i; k < j; k++) {
		const struct softee_ring_entry *f = softee_ring_entry(r, k);

		le_bytes(payload + (f->addr - start), f->data, f->len);
	}
	if (d->state != SOFTEE_PDEV_READY || !b->up) {
		PCNT(d->c.write_drops, j - i);
		return j - i;
	}
	t.kind = reg->bus == SOFTEE_BUS_PIO ? SOFTEE_TLP_IOWR : SOFTEE_TLP_MWR;
	softee_tlp_set_range(&t, addr, total);
	t.data = payload;
	if (t.kind == SOFTEE_TLP_IOWR) {
		tag = ptag_alloc(b, p->now + p->cfg.cpl_timeout_ns);
		if (tag < 0)
			return 0;
		b->tags[tag].kind = PTAG_IOWR;
		b->tags[tag].dev = d->idx;
		t.tag = (uint8_t)tag;
	}
	ret = poller_send(p, b, &t);
	if (ret == -EAGAIN) {
		if (tag >= 0)
			ptag_free(b, (uint8_t)tag);
		return 0;
	}
	if (ret) {
		if (tag >= 0)
			ptag_free(b, (uint8_t)tag);
		PCNT(d->c.write_drops, j - i);
		return j - i;
	}
	PCNT(d->c.mmio_writes, j - i);
	PCNT(d->c.mmio_write_bytes, total);
	PCNT(d->c.mwr_tlps, 1);
	PCNT(d->c.mwr_merged, merged);
	return j - i;
}

/* A read: MRd (IORd) with a tag; the entry stays until its completion.  false: retry later. */
static bool bridge_read(struct softee_poller *p, uint32_t ri, uint32_t i,
			const struct pregion *reg, struct pdev *d, struct pbox *b)
{
	struct softee_ring *r = &p->rings[ri];
	struct softee_ring_entry *e = softee_ring_entry(r, i);
	struct softee_tlp t = { .requester = POLLER_REQUESTER };
	uint64_t addr = e->addr, end = e->addr + e->len;
	struct ptag *tg;
	int tag, ret;

	tag = ptag_alloc(b, p->now + p->cfg.cpl_timeout_ns);
	if (tag < 0)
		return false;
	tg = &b->tags[tag];
	tg->kind = PTAG_RING;
	tg->dev = d->idx;
	tg->ring = ri;
	tg->seq = r->cons_head + i;
	tg->len = e->len;
	tg->addr = addr;
	tg->t0_ns = e->time_ns;
	tg->io = reg->bus == SOFTEE_BUS_PIO;
	t.kind = tg->io ? SOFTEE_TLP_IORD : SOFTEE_TLP_MRD;
	t.tag = (uint8_t)tag;
	if ((tg->io && (e->len > 4 || ((addr ^ (end - 1)) & ~3ULL))) ||
	    softee_tlp_set_range(&t, addr, e->len)) {
		ptag_free(b, (uint8_t)tag);
		PCNT(d->c.bad_access, 1);
		ring_fail_read(p, e, EINVAL);
		return true;
	}
	ret = poller_send(p, b, &t);
	if (ret == -EAGAIN) {
		ptag_free(b, (uint8_t)tag);
		return false;
	}
	if (ret) {
		ptag_free(b, (uint8_t)tag);
		PCNT(d->c.fail_fast, 1);
		ring_fail_read(p, e, ENOTCONN);
		return true;
	}
	PCNT(d->c.mmio_reads, 1);
	PCNT(d->c.mmio_read_bytes, e->len);
	PCNT(d->c.mrd_tlps, 1);
	p->rs[ri].waiting = true;
	p->rs[ri].tag = (uint8_t)tag;
	p->rs[ri].box = box_idx(p, b);
	return true;
}

/* No device to ask (down, or its box gone): an empty slot's answer.  One entry used. */
static uint32_t cfg_unanswered(struct softee_poller *p, struct pdev *d,
			       struct softee_ring_entry *e, uint8_t op)
{
	if (op == SOFTEE_OP_READ) {
		PCNT(d->c.fail_fast, 1);
		ring_fail_read(p, e, ENOTCONN);
	} else {
		PCNT(d->c.write_drops, 1);
	}
	return 1;
}

/*
 * Slot mode: a guest's config access to its slot (SOFTEE_BUS_CFG) becomes
 * CfgRd0 / CfgWr0 to the device in the box.  A read holds the ring as an
 * MRd does; a write is posted for the vCPU (as port 0xcfc is) and its
 * completion only counted.  A write to the command register or a BAR makes
 * devcfg read them back and trap what the guest enabled.  With no device
 * there (lost, or not ready), reads see all ones: an empty slot.  Returns
 * entries used, 0: retry later.
 */
static uint32_t bridge_cfg(struct softee_poller *p, uint32_t ri, uint32_t i)
{
	struct softee_ring *r = &p->rings[ri];
	struct softee_ring_entry *e = softee_ring_entry(r, i);
	uint32_t id = softee_read_once(&e->region), reg = SOFTEE_CFG_ADDR_REG(e->addr);
	uint8_t op = e->op, len = e->len, data[4];
	struct softee_tlp t = { .requester = POLLER_REQUESTER, .len_dw = 1 };
	struct pdev *d = NULL;
	struct ptag *tg;
	struct pbox *b;
	uint32_t v, k;
	int tag, ret;

	if (id < SOFTEE_MAX_CFG && p->cfg_dev[id] >= 0)
		d = &p->dev[p->cfg_dev[id]];
	if (!d || (len != 1 && len != 2 && len != 4) || (reg & 3) + len > 4 ||
	    e->offset != reg) {
		PCNT(p->st.no_region, 1);
		if (op == SOFTEE_OP_READ)
			ring_fail_read(p, e, EINVAL);
		return 1;
	}
	b = &p->box[d->box];
	if (d->state != SOFTEE_PDEV_READY || !b->up)
		return cfg_unanswered(p, d, e, op);
	tag = ptag_alloc(b, p->now + p->cfg.cpl_timeout_ns);
	if (tag < 0)
		return 0;
	tg = &b->tags[tag];
	t.kind = op == SOFTEE_OP_READ ? SOFTEE_TLP_CFGRD0 : SOFTEE_TLP_CFGWR0;
	t.tag = (uint8_t)tag;
	t.target = d->bdf;
	t.reg = (uint16_t)(reg >> 2);
	t.first_be = (uint8_t)(((1u << len) - 1) << (reg & 3));
	v = (uint32_t)e->data << (8 * (reg & 3));
	for (k = 0; k < 4; k++)
		data[k] = (uint8_t)(v >> (8 * k));
	t.data = data;
	tg->dev = d->idx;
	tg->addr = reg;
	if (op == SOFTEE_OP_READ) {
		tg->kind = PTAG_RING;
		tg->ring = ri;
		tg->seq = r->cons_head + i;
		tg->len = len;
		tg->t0_ns = e->time_ns;
		tg->io = true;			/* the DW, Lower Address 0 */
	} else {
		tg->kind = PTAG_CFGWR;
	}
	ret = poller_send(p, b, &t);
	if (ret == -EAGAIN) {
		ptag_free(b, (uint8_t)tag);
		return 0;
	}
	if (ret) {
		ptag_free(b, (uint8_t)tag);
		return cfg_unanswered(p, d, e, op);
	}
	if (op == SOFTEE_OP_READ) {
		PCNT(d->c.cfg_reads, 1);
		p->rs[ri].waiting = true;
		p->rs[ri].tag = (uint8_t)tag;
		p->rs[ri].box = box_idx(p, b);
		return 1;
	}
	PCNT(d->c.cfg_writes, 1);
	if (reg < SOFTEE_PCI_COMMAND + 2 ? reg + len > SOFTEE_PCI_COMMAND :
	    reg >= SOFTEE_PCI_BAR0 && reg < SOFTEE_PCI_BAR0 + 4 * SOFTEE_PCI_NR_BARS)
		pdevcfg_track(p, b, d);
	return 1;
}

/* One ring: entries handled. */
static int bridge_ring(struct softee_poller *p, uint32_t ri, const struct pregion_map *rm)
{
	struct softee_ring *r = &p->rings[ri];
	struct pring *rs = &p->rs[ri];
	uint32_t i = 0, used;
	int n;

	if (rs->waiting || rs->broken)
		return 0;
	n = softee_ring_peek(r);
	if (n <= 0) {
		if (n < 0) {
			rs->broken = true;
			PCNT(p->st.ring_errors, 1);
			plog(p, "ring %u: %s: no longer used", ri,
			     n == -EPIPE ? "the session is closing" : "corrupt (prod - cons > entries)");
		}
		return 0;
	}
	while (i < (uint32_t)n) {
		struct softee_ring_entry *e = softee_ring_entry(r, i);
		uint32_t id = softee_read_once(&e->region);
		const struct pregion *reg = id < SOFTEE_MAX_REGIONS && rm ? &rm->r[id] : NULL;
		uint8_t op = e->op, len = e->len;
		struct pdev *d;
		struct pbox *b;

		if (e->bus == SOFTEE_BUS_CFG) {
			used = bridge_cfg(p, ri, i);
			if (!used || rs->waiting)
				break;
			i += used;
			continue;
		}
		/* 1..8 bytes: KVM splits an access across a page (3 + 5, ...) */
		if (!reg || !len || len > 8 || !in_region(reg, e->bus, e->addr, e->offset, len)) {
			PCNT(p->st.no_region, 1);
			if (op == SOFTEE_OP_READ)
				ring_fail_read(p, e, EINVAL);
			i++;
			continue;
		}
		d = &p->dev[reg->dev];
		b = &p->box[d->box];
		if (op == SOFTEE_OP_WRITE) {
			used = bridge_write(p, r, i, (uint32_t)n, reg, d, b);
			if (!used)
				break;
			i += used;
			continue;
		}
		if (d->state != SOFTEE_PDEV_READY || !b->up) {
			PCNT(d->c.fail_fast, 1);
			ring_fail_read(p, e, ENOTCONN);
			i++;
			continue;
		}
		if (!bridge_read(p, ri, i, reg, d, b))
			break;
		if (rs->waiting)
			break;			/* the read holds the ring */
		i++;				/* failed at once: retire it */
	}
	if (i)
		softee_ring_consume(r, i);
	PCNT(p->st.ring_entries, i + (rs->waiting ? 1 : 0));
	return (int)i + (rs->waiting ? 1 : 0);
}

int pbridge_poll(struct softee_poller *p)
{
	const struct pregion_map *rm = rcu_dereference(p->regions);
	uint32_t ri;
	int work = 0;

	for (ri = 0; ri < p->nr_rings; ri++)
		work += bridge_ring(p, ri, rm);
	return work;
}

void pbridge_finish(struct softee_poller *p, struct pbox *b, uint8_t tag, uint32_t status)
{
	struct ptag *tg = &b->tags[tag];
	struct softee_ring *r = &p->rings[tg->ring];
	struct pring *rs = &p->rs[tg->ring];

	if (rs->waiting && rs->tag == tag && rs->box == box_idx(p, b) &&
	    r->cons_head == tg->seq) {
		struct softee_ring_entry *e = softee_ring_entry_at(r, tg->seq);

		ring_complete(p, e, status ? ~0ULL : le_value(tg->buf, tg->len), status);
		softee_ring_consume(r, 1);
		rs->waiting = false;
	}
	ptag_free(b, tag);
}

void pbridge_on_cpl(struct softee_poller *p, struct pbox *b, const struct softee_tlp *t)
{
	struct ptag *tg = &b->tags[t->tag];
	struct pdev *d;
	uint32_t off, take, avail;

	if (t->requester != POLLER_REQUESTER || tg->kind == PTAG_FREE) {
		PCNT(p->st.rx_unexpected, 1);
		return;
	}
	if (tg->kind == PTAG_CFG) {
		uint32_t v = 0;

		if (t->kind == SOFTEE_TLP_CPLD)
			v = (uint32_t)le_value(t->data, 4);
		pdevcfg_on_cpl(p, b, tg, t->status, v);
		return;
	}
	d = &p->dev[tg->dev];
	if (tg->kind == PTAG_IOWR || tg->kind == PTAG_CFGWR) {
		if (t->status != SOFTEE_TLP_CPL_SC)
			PCNT(d->c.cpl_errors, 1);
		ptag_free(b, t->tag);
		return;
	}
	/* PTAG_RING */
	if (t->status != SOFTEE_TLP_CPL_SC || t->kind != SOFTEE_TLP_CPLD) {
		PCNT(d->c.cpl_errors, 1);
		pbridge_finish(p, b, t->tag, t->status ? t->status : EPROTO);
		return;
	}
	if (tg->io) {
		off = tg->addr & 3;		/* I/O: the whole DW, Lower Address 0 */
	} else {
		if (t->lower_addr != ((tg->addr + tg->got) & 0x7f) ||
		    t->byte_count != (uint32_t)(tg->len - tg->got)) {
			PCNT(d->c.cpl_errors, 1);
			pbridge_finish(p, b, t->tag, EPROTO);
			return;
		}
		off = t->lower_addr & 3;
	}
	avail = (uint32_t)t->len_dw * 4 > off ? (uint32_t)t->len_dw * 4 - off : 0;
	take = tg->len - tg->got;
	if (take > avail)
		take = avail;
	memcpy(tg->buf + tg->got, t->data + off, take);
	tg->got += take;
	if (tg->io || tg->got >= tg->len) {
		uint64_t lat = p->now > tg->t0_ns ? p->now - tg->t0_ns : 0;

		PCNT(d->c.cpl_ok, 1);
		PCNT(d->c.read_lat_ns_sum, lat);
		if (lat > d->c.read_lat_ns_max)
			softee_write_once(&d->c.read_lat_ns_max, lat);
		pbridge_finish(p, b, t->tag, 0);
	}
}
