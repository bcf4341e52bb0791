// SPDX-License-Identifier: GPL-2.0
/*
 * The device's requests into guest memory (softee/dma.h): checked against
 * the guest memory map, served byte for byte, refused as a whole.  The
 * first half is pure; the second half is the poller's: a device MRd is
 * answered with CplDs from a FIFO the loop drains as the transport takes
 * them, a device MWr is written at once (or is an MSI, msi.c).
 */
#include <errno.h>
#include <string.h>

#include "poller_int.h"

/* ---- pure ---------------------------------------------------------------- */

static uint8_t dw_be(const struct softee_tlp *t, uint32_t k)
{
	if (k == 0)
		return t->first_be;
	if (k == (uint32_t)t->len_dw - 1)
		return t->last_be;
	return 0xf;
}

int softee_dma_write(const struct softee_memmap *m, const struct softee_tlp *t)
{
	uint64_t a;
	uint32_t l, k, j;
	uint8_t *h, be;

	if (t->kind != SOFTEE_TLP_MWR || !t->data || !t->len_dw)
		return -EINVAL;
	softee_tlp_range(t, &a, &l);
	if (!l)
		return 0;			/* a zero-length write: nothing */
	h = softee_memmap_lookup(m, a, l);
	if (!h)
		return -EFAULT;
	/* h is the host address of byte a; DW k byte j is at t->addr + 4k + j. */
	for (k = 0; k < t->len_dw; k++) {
		be = dw_be(t, k);
		if (be == 0xf && k > 0 && k + 1 < t->len_dw) {
			/* the middle DWs in one go */
			uint32_t mid = t->len_dw - 2;

			memcpy(h + (t->addr + 4 * k - a), t->data + 4 * k, 4 * mid);
			k += mid - 1;
			continue;
		}
		for (j = 0; j < 4; j++)
			if (be & (1u << j))
				h[t->addr + 4 * k + j - a] = t->data[4 * k + j];
	}
	return 0;
}

int softee_dma_read_init(struct softee_dma_read *rd, const struct softee_memmap *m,
			 const struct softee_tlp *req, uint16_t completer)
{
	memset(rd, 0, sizeof(*rd));
	if (req->kind != SOFTEE_TLP_MRD)
		return -EINVAL;
	rd->req = *req;
	rd->req.data = NULL;
	rd->completer = completer;
	softee_tlp_range(req, &rd->addr, &rd->len);
	if (rd->len && !softee_memmap_lookup(m, rd->addr, rd->len))
		return -EFAULT;
	return 0;
}

int softee_dma_read_next(const struct softee_dma_read *rd, const struct softee_memmap *m,
			 uint32_t max_payload, uint32_t rcb, uint8_t *buf, size_t cap,
			 uint32_t *covered)
{
	uint8_t payload[SOFTEE_TLP_MAX_DATA + 4];
	struct softee_tlp cpl;
	const uint8_t *h;
	int n;

	*covered = 0;
	n = softee_tlp_cpl_split(&rd->req, rd->done, max_payload, rcb, &cpl);
	if (n <= 0)
		return n;
	cpl.completer = rd->completer;
	cpl.status = SOFTEE_TLP_CPL_SC;
	memset(payload, 0, (size_t)cpl.len_dw * 4);
	if (rd->len) {
		h = softee_memmap_lookup(m, rd->addr + rd->done, (uint32_t)n);
		if (!h)
			return -EFAULT;
		memcpy(payload + (cpl.lower_addr & 3), h, (size_t)n);
	}
	cpl.data = payload;
	*covered = (uint32_t)n;
	return softee_tlp_encode(&cpl, buf, cap);
}

int softee_dma_cpl_status(const struct softee_tlp *req, uint16_t completer, uint8_t status,
			  uint32_t remaining, uint8_t *buf, size_t cap)
{
	struct softee_tlp c = {
		.kind = SOFTEE_TLP_CPL,
		.tc = req->tc,
		.attr = req->attr,
		.requester = req->requester,
		.tag = req->tag,
		.completer = completer,
		.status = status,
	};

	/* Memory reads: the bytes not returned; the others: 4 (PCIe 3.0, 2.2.9). */
	c.byte_count = req->kind == SOFTEE_TLP_MRD ? remaining : 4;
	if (!c.byte_count || c.byte_count > SOFTEE_TLP_MAX_DATA)
		c.byte_count = c.byte_count ? SOFTEE_TLP_MAX_DATA : 1;
	return softee_tlp_encode(&c, buf, cap);
}

/* ---- the poller's ------------------------------------------------------------ */

static struct pdev *dma_dev(struct softee_poller *p, struct pbox *b, uint16_t requester)
{
	uint8_t devfn = requester & 0xff;
	int idx;

	if (devfn >= 32 || SOFTEE_BDF_BUS(requester) != p->cfg.bus)
		return NULL;
	idx = b->dev_of[devfn];
	return idx < 0 ? NULL : &p->dev[idx];
}

/*
 * A free entry of the queue, leaving reserve entries free: reads keep
 * POLLER_DMA_UR_RESERVE for the UR completions of the reads refused when
 * the rest is full, so that those end at once, not at the device's
 * completion timeout.
 */
static struct softee_dma_read *dma_slot(struct softee_poller *p, uint32_t reserve)
{
	if (p->dmaq_tail - p->dmaq_head >= POLLER_DMA_QUEUE - reserve)
		return NULL;
	return &p->dmaq[p->dmaq_tail % POLLER_DMA_QUEUE];
}

/* A refused request: counted, logged rate-limited, for an MRd a UR completion. */
static void dma_reject(struct softee_poller *p, struct pbox *b, struct pdev *d,
		       const struct softee_tlp *t, uint64_t a, uint32_t l, const char *why)
{
	struct softee_dma_read *rd;

	if (d)
		PCNT(d->c.dma_rejected, 1);
	PCNT(p->st.dma_rejected, 1);
	plog_rl(p, &p->log_ts, &p->log_n,
		"dma: %s from %02x:%02x.%x to 0x%llx+%u refused: %s",
		softee_tlp_kind_name(t->kind), SOFTEE_BDF_BUS(t->requester),
		SOFTEE_BDF_DEV(t->requester), SOFTEE_BDF_FN(t->requester),
		(unsigned long long)a, l, why);
	if (t->kind != SOFTEE_TLP_MRD)
		return;
	rd = dma_slot(p, 0);
	if (!rd)
		return;			/* more refused at once than the reserve: the device's timeout ends it */
	memset(rd, 0, sizeof(*rd));
	rd->req = *t;
	rd->req.data = NULL;
	rd->addr = a;
	rd->len = l;
	rd->completer = POLLER_REQUESTER;
	rd->peer = (uint16_t)box_idx(p, b);
	rd->status = SOFTEE_TLP_CPL_UR;
	p->dmaq_tail++;
}

void pdma_on_request(struct softee_poller *p, struct pbox *b, const struct softee_tlp *t)
{
	const struct softee_memmap *m = rcu_dereference(p->memmap);
	struct pdev *d = dma_dev(p, b, t->requester);
	struct softee_dma_read *rd;
	uint64_t a;
	uint32_t l;
	int ret;

	softee_tlp_range(t, &a, &l);
	if (t->kind == SOFTEE_TLP_MWR) {
		if (softee_msi_is_addr(a)) {
			pmsi_deliver(p, d, t);
			return;
		}
		ret = softee_dma_write(m, t);
		if (ret) {
			dma_reject(p, b, d, t, a, l,
				   ret == -EFAULT ? "outside guest memory" : "malformed");
			return;
		}
		if (d) {
			PCNT(d->c.dma_writes, 1);
			PCNT(d->c.dma_write_bytes, l);
		}
		return;
	}
	/* MRd */
	rd = dma_slot(p, POLLER_DMA_UR_RESERVE);
	if (!rd) {
		dma_reject(p, b, d, t, a, l, "too many reads in flight");
		return;
	}
	if (softee_msi_is_addr(a)) {
		dma_reject(p, b, d, t, a, l, "read of the MSI window");
		return;
	}
	ret = softee_dma_read_init(rd, m, t, POLLER_REQUESTER);
	if (ret) {
		dma_reject(p, b, d, t, a, l,
			   ret == -EFAULT ? "outside guest memory" : "malformed");
		return;
	}
	rd->peer = (uint16_t)box_idx(p, b);
	p->dmaq_tail++;
	if (d)
		PCNT(d->c.dma_reads, 1);
}

/* Answer queued device reads, oldest first, as long as the transport takes them. */
int pdma_service(struct softee_poller *p)
{
	uint8_t buf[SOFTEE_TLP_MAX_SIZE];
	unsigned int cplds = 0;		/* CplDs with data sent in this pass */
	int work = 0;

	while (p->dmaq_head != p->dmaq_tail) {
		struct softee_dma_read *rd = &p->dmaq[p->dmaq_head % POLLER_DMA_QUEUE];
		struct pbox *b = &p->box[rd->peer];
		const struct softee_memmap *m = rcu_dereference(p->memmap);
		struct pdev *d = dma_dev(p, b, rd->req.requester);
		uint32_t covered;
		bool ur;
		int n, ret;

		if (!b->up) {
			p->dmaq_head++;
			continue;
		}
		if (rd->status) {
			n = softee_dma_cpl_status(&rd->req, POLLER_REQUESTER, rd->status,
						  rd->len ? rd->len : 1, buf, sizeof(buf));
			if (n > 0 && softee_transport_send_tlp(b->peer, buf, (uint32_t)n) == -EAGAIN)
				break;
			p->dmaq_head++;
			work++;
			continue;
		}
		n = softee_dma_read_next(rd, m, p->max_payload, p->cfg.rcb, buf, sizeof(buf),
					 &covered);
		if (n == 0) {
			p->dmaq_head++;
			continue;
		}
		ur = n == -EFAULT;
		if (ur) {
			/* Guest memory went away under the read: UR for the rest. */
			n = softee_dma_cpl_status(&rd->req, POLLER_REQUESTER, SOFTEE_TLP_CPL_UR,
						  rd->len - rd->done, buf, sizeof(buf));
			covered = rd->len - rd->done;
			if (d)
				PCNT(d->c.dma_rejected, 1);
			PCNT(p->st.dma_rejected, 1);
		}
		if (n < 0) {
			p->dmaq_head++;
			continue;
		}
		ret = softee_transport_send_tlp(b->peer, buf, (uint32_t)n);
		if (ret == -EAGAIN)
			break;			/* the transport is full: the next loop */
		work++;
		if (ret) {
			p->dmaq_head++;		/* the box is gone */
			continue;
		}
		softee_dma_read_commit(rd, covered);
		if (d && !ur)
			PCNT(d->c.dma_read_bytes, rd->len ? covered : 0);
		/*
		 * Send the first completions while the rest are made: the box
		 * takes them in meanwhile on its core and asks for more, rather
		 * than waiting for this whole pass (Documentation/poller.rst).
		 */
		if (!(++cplds % POLLER_DMA_FLUSH) &&
		    softee_transport_flush(p->t, softee_now_ns()) < 0)
			PCNT(p->st.flush_errors, 1);
	}
	return work;
}

void pdma_drop_box(struct softee_poller *p, uint32_t box)
{
	uint32_t i;

	/* Reads of a lost box: their completions would go nowhere. */
	for (i = p->dmaq_head; i != p->dmaq_tail; i++) {
		struct softee_dma_read *rd = &p->dmaq[i % POLLER_DMA_QUEUE];

		if (rd->peer == box) {
			rd->status = 0;
			rd->done = rd->len + 1;
		}
	}
}
