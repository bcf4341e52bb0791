// SPDX-License-Identifier: GPL-2.0
/*
 * An NVMe controller (NVM Express Base Specification 1.4) for softee-box:
 * one namespace backed by a file or a block device, an admin queue pair
 * and up to 64 I/O queue pairs, PRPs, and an MSI-X vector per queue.
 * Documentation/nvme.rst says what it implements and where it stops.
 *
 * Everything the host gives the controller lives in host memory and comes
 * in by DMA, which completes later (a callback from softee_box_poll), so a
 * command is a small state machine:
 *
 *	SQ doorbell -> fetch SQEs (one DMA read of up to 8, per SQ)
 *	  -> execute: admin and error cases end here with a status
 *	  -> PRP list pages (DMA reads, chained lists followed)
 *	  -> data: DMA reads then pwrite, or pread then DMA writes
 *	  -> CQE (a DMA write once the CQ has room), MSI-X at the next poll
 *
 * At most NV_MAX_CMDS commands are in flight across all queues; fetches
 * reserve their slots first, so a fetched SQE always has one.  A DMA write
 * the box cannot queue yet (-EAGAIN) is tried again from the poll op; a
 * CQE that finds its CQ full waits for the CQ head doorbell and never
 * overwrites an entry the host has not consumed.
 *
 * Nothing in an SQE is trusted: every length is bounded by MDTS before a
 * buffer is sized, every LBA range by the namespace, every PRP list by the
 * number of entries the transfer needs, so a malformed command gets the
 * status the specification gives it and never touches memory outside the
 * model's buffers.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <softee/box.h>
#include <softee/endpoint.h>
#include <softee/nvme.h>

/* IDs: softee's unassigned vendor (Documentation/box.rst); the class is what Linux binds to. */
#define NV_VENDOR		0x50f7
#define NV_DEVICE		0x4e56		/* "NV" */
#define NV_SUBSYS		0x0002
#define NV_REVISION		0x01
#define NV_CLASS		0x010802	/* mass storage, NVM, NVM Express */

/* BAR0: registers 0x0000, doorbells 0x1000, MSI-X table 0x2000, PBA 0x3000 */
#define NV_BAR			0
#define NV_BAR_SIZE		0x4000u
#define NV_MSIX_TABLE		0x2000u
#define NV_MSIX_PBA		0x3000u

#define NV_MAX_IOQ		64		/* I/O queue pairs */
#define NV_DEF_IOQ		4
#define NV_MAX_VEC		(NV_MAX_IOQ + 1)
#define NV_MQES			1023		/* I/O queues: 1024 entries at most */
#define NV_CAP_TO		20		/* 10 s (enable is immediate) */
#define NV_MDTS			6		/* 2^6 pages: 256 KiB */
#define NV_MAX_XFER		(NVME_PAGE_SIZE << NV_MDTS)
#define NV_MAX_PRPS		(NV_MAX_XFER / NVME_PAGE_SIZE)	/* data pages after PRP1's */
#define NV_MAX_CMDS		64		/* in flight across all queues */
#define NV_FETCH_MAX		8		/* SQEs per fetch: 512 bytes, one MRRS */
#define NV_AERL			3		/* 4 AERs held at most */
#define NV_ACL			3
#define NV_ELPE			63		/* 64 error log entries (all empty) */
#define NV_WCTEMP		343		/* K: 70 C */
#define NV_CCTEMP		373		/* K: 100 C */
#define NV_TEMP			313		/* K: what the SMART log reports, 40 C */
#define NV_MAX_POWER_CW		2500		/* PSD0: 25 W */
#define NV_PENDING		0xffff		/* an admin command goes on: no status yet */

enum nv_state {
	CMD_FREE = 0,
	CMD_PRP,	/* a PRP list page is being read */
	CMD_DATA_IN,	/* DMA reads of the data in flight */
	CMD_DATA_OUT,	/* DMA writes of the data: some not handed to the box yet */
	CMD_DRAIN,	/* Delete I/O SQ: waits until its SQ has nothing in flight */
	CMD_CQE,	/* status known: waits for room in its CQ, or for the box */
};

enum nv_data_op {
	DATA_NONE = 0,
	DATA_WRITE_FILE,	/* Write: pwrite what came in */
};

struct nv_seg {
	uint64_t addr;
	uint32_t len;
	uint32_t off;		/* in the command's buffer */
};

struct nvme;

struct nv_cmd {
	struct nvme *nv;
	uint8_t state;		/* enum nv_state */
	uint8_t data_op;	/* enum nv_data_op */
	bool to_host;
	bool cq_wait;		/* counted once in cq_full */
	uint16_t sqid;
	uint16_t status;	/* NVME_SC_* */
	uint32_t dw0;
	struct nvme_sqe sqe;	/* CPU byte order */
	uint64_t file_off;
	uint32_t len;		/* bytes of data */
	uint8_t *buf;
	/* PRP list walk */
	uint32_t prp_want, prp_have, prp_reading, prp_hops;
	bool prp_chain;		/* the page being read ends with a pointer to the next */
	uint64_t list_addr;
	uint64_t prp[NV_MAX_PRPS];	/* list entries as read (little-endian) */
	struct nv_seg seg[NV_MAX_PRPS + 1];
	uint32_t nseg, seg_next;
	uint32_t dma_pending;
	int dma_err;
	uint16_t wait_sq;	/* CMD_DRAIN */
};

struct nv_sq {
	struct nvme *nv;
	bool valid, deleting, fetching;
	uint16_t qid, cqid;
	uint32_t size, head, tail;
	uint64_t base;
	uint32_t inflight;	/* fetched, not yet completed */
	uint32_t nfetch;
	struct nvme_sqe fetch[NV_FETCH_MAX];
};

struct nv_cq {
	bool valid, ien, phase, irq_pending;
	uint16_t iv;
	uint32_t size, head, tail;
	uint64_t base;
	uint32_t nsq;		/* SQs that complete here */
};

struct nv_features {
	uint32_t arbitration, power_mgmt, irq_coalesce, async_event;
	uint16_t temp_over, temp_under;
	bool wce;
	uint16_t nsqa, ncqa;	/* 0's based, as Number of Queues reports them */
	bool nq_set;
};

struct nv_stats {
	uint64_t admin_cmds, io_cmds, reads, writes, flushes, zeroes;
	uint64_t bytes_read, bytes_written;
	uint64_t err_opcode, err_field, err_ns, err_lba, err_prp, err_xfer, err_queue, err_media;
	uint64_t err_other;
	uint64_t cq_full, irqs, irqs_lost, bad_doorbells, fatal;
};

struct nvme {
	struct softee_endpoint ep;
	struct softee_pcicfg cfg;
	int msix_cap;
	unsigned int nioq, nvec;

	/* the namespace */
	int fd;
	uint64_t nblocks;
	uint32_t lba_shift;
	char serial[21];
	uint8_t nguid[16];

	/* registers */
	uint32_t cc, csts, aqa, intms;
	uint64_t asq, acq;
	uint8_t msix[NV_MAX_VEC * SOFTEE_MSIX_ENTRY_SIZE];
	uint64_t pba[2];

	bool ready;
	struct nv_sq sq[NV_MAX_IOQ + 1];
	struct nv_cq cq[NV_MAX_IOQ + 1];
	struct nv_cmd cmd[NV_MAX_CMDS];
	unsigned int used, reserved;	/* command slots busy, and promised to fetches */
	unsigned int rr;		/* next I/O SQ to fetch from first */
	unsigned int naer;		/* AERs held */
	bool again;			/* the box said -EAGAIN: poll again soon */
	struct nv_features feat;
	struct nv_stats st;
};

static struct nvme *to_nv(struct softee_endpoint *ep)
{
	return ep->priv;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

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

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* An ASCII field, space padded (Identify strings are not NUL-terminated). */
static void put_str(uint8_t *p, size_t n, const char *s)
{
	size_t l = strlen(s);

	memset(p, ' ', n);
	memcpy(p, s, l < n ? l : n);
}

static void sqe_to_cpu(struct nvme_sqe *s)
{
	s->cid = le16toh(s->cid);
	s->nsid = le32toh(s->nsid);
	s->cdw2 = le32toh(s->cdw2);
	s->cdw3 = le32toh(s->cdw3);
	s->mptr = le64toh(s->mptr);
	s->prp1 = le64toh(s->prp1);
	s->prp2 = le64toh(s->prp2);
	s->cdw10 = le32toh(s->cdw10);
	s->cdw11 = le32toh(s->cdw11);
	s->cdw12 = le32toh(s->cdw12);
	s->cdw13 = le32toh(s->cdw13);
	s->cdw14 = le32toh(s->cdw14);
	s->cdw15 = le32toh(s->cdw15);
}

static void count_status(struct nvme *nv, uint16_t sc)
{
	switch (sc) {
	case NVME_SC_SUCCESS: break;
	case NVME_SC_INVALID_OPCODE: nv->st.err_opcode++; break;
	case NVME_SC_INVALID_FIELD: nv->st.err_field++; break;
	case NVME_SC_INVALID_NS: nv->st.err_ns++; break;
	case NVME_SC_LBA_RANGE: nv->st.err_lba++; break;
	case NVME_SC_PRP_INVALID_OFFSET: nv->st.err_prp++; break;
	case NVME_SC_DATA_XFER_ERROR: nv->st.err_xfer++; break;
	case NVME_SC_WRITE_FAULT: case NVME_SC_READ_ERROR: nv->st.err_media++; break;
	default:
		if ((sc >> 8) == NVME_SCT_CMD_SPECIFIC)
			nv->st.err_queue++;
		else
			nv->st.err_other++;
	}
}

/* Errors a retry cannot fix get Do Not Retry; transfer, internal and media errors may pass. */
static bool status_dnr(uint16_t sc)
{
	return sc != NVME_SC_SUCCESS && sc != NVME_SC_DATA_XFER_ERROR && sc != NVME_SC_INTERNAL &&
	       sc != NVME_SC_WRITE_FAULT && sc != NVME_SC_READ_ERROR;
}

/* ---- interrupts (MSI-X only: the function has no MSI capability and no INTx) ------------- */

static void msix_entry(const struct nvme *nv, unsigned int vec, uint64_t *addr, uint32_t *data,
		       bool *masked)
{
	const uint8_t *e = nv->msix + vec * SOFTEE_MSIX_ENTRY_SIZE;

	*addr = get32(e + SOFTEE_MSIX_ENTRY_ADDR_LO) |
		(uint64_t)get32(e + SOFTEE_MSIX_ENTRY_ADDR_HI) << 32;
	*data = get32(e + SOFTEE_MSIX_ENTRY_DATA);
	*masked = get32(e + SOFTEE_MSIX_ENTRY_CTRL) & SOFTEE_MSIX_ENTRY_CTRL_MASKBIT;
}

/* Send vector vec, or set its pending bit if masked.  False if the box said -EAGAIN. */
static bool raise_vec(struct nvme *nv, unsigned int vec)
{
	uint16_t flags = softee_pcicfg_get16(&nv->cfg, (uint32_t)nv->msix_cap + SOFTEE_MSIX_FLAGS);
	uint64_t addr;
	uint32_t data;
	bool masked;
	int ret;

	if (vec >= nv->nvec || !(flags & SOFTEE_MSIX_FLAGS_ENABLE)) {
		nv->st.irqs_lost++;
		return true;
	}
	msix_entry(nv, vec, &addr, &data, &masked);
	if (masked || (flags & SOFTEE_MSIX_FLAGS_MASKALL)) {
		nv->pba[vec / 64] |= 1ULL << (vec % 64);
		return true;
	}
	ret = softee_box_msi(nv->ep.box, &nv->ep, addr, data);
	if (ret == -EAGAIN) {
		nv->again = true;
		return false;
	}
	if (ret)
		nv->st.irqs_lost++;
	else
		nv->st.irqs++;
	return true;
}

/* A mask was lifted: send what is pending and no longer masked. */
static void flush_pba(struct nvme *nv)
{
	uint16_t flags = softee_pcicfg_get16(&nv->cfg, (uint32_t)nv->msix_cap + SOFTEE_MSIX_FLAGS);
	unsigned int vec;

	if (!(flags & SOFTEE_MSIX_FLAGS_ENABLE) || (flags & SOFTEE_MSIX_FLAGS_MASKALL))
		return;
	for (vec = 0; vec < nv->nvec; vec++) {
		uint64_t bit = 1ULL << (vec % 64), addr;
		uint32_t data;
		bool masked;

		if (!(nv->pba[vec / 64] & bit))
			continue;
		msix_entry(nv, vec, &addr, &data, &masked);
		if (masked)
			continue;
		nv->pba[vec / 64] &= ~bit;
		if (!raise_vec(nv, vec))
			nv->pba[vec / 64] |= bit;	/* -EAGAIN: still pending */
	}
}

/* ---- commands: slots and completion ------------------------------------------------------ */

static void sq_kick(struct nvme *nv, struct nv_sq *sq);
static void cmd_complete(struct nv_cmd *c, uint16_t status);

static struct nv_cmd *cmd_alloc(struct nvme *nv)
{
	unsigned int i;

	for (i = 0; i < NV_MAX_CMDS; i++)
		if (nv->cmd[i].state == CMD_FREE) {
			struct nv_cmd *c = &nv->cmd[i];

			memset(c, 0, offsetof(struct nv_cmd, prp));
			c->nv = nv;
			nv->used++;
			return c;
		}
	return NULL;
}

static void cmd_free(struct nv_cmd *c)
{
	free(c->buf);
	c->buf = NULL;
	c->state = CMD_FREE;
	c->nv->used--;
}

static void delete_sq_finish(struct nvme *nv, uint16_t qid)
{
	struct nv_sq *sq = &nv->sq[qid];

	nv->cq[sq->cqid].nsq--;
	memset(sq, 0, sizeof(*sq));
}

/* An SQ being deleted has nothing left in flight: finish the Delete that waits for it. */
static void sq_drained(struct nvme *nv, struct nv_sq *sq)
{
	unsigned int i;

	if (!sq->deleting || sq->inflight || sq->fetching)
		return;
	for (i = 0; i < NV_MAX_CMDS; i++) {
		struct nv_cmd *c = &nv->cmd[i];

		if (c->state == CMD_DRAIN && c->wait_sq == sq->qid) {
			delete_sq_finish(nv, sq->qid);
			cmd_complete(c, NVME_SC_SUCCESS);
			return;
		}
	}
}

/* Write the CQE if the CQ has room.  True when the command is done with. */
static bool cq_post(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	struct nv_sq *sq = &nv->sq[c->sqid];
	struct nv_cq *cq = &nv->cq[sq->cqid];
	struct nvme_cqe e;
	uint16_t st;
	int ret;

	if ((cq->tail + 1) % cq->size == cq->head) {
		if (!c->cq_wait)
			nv->st.cq_full++;
		c->cq_wait = true;
		return false;
	}
	st = NVME_CQE_STATUS(c->status) | (cq->phase ? NVME_CQE_PHASE : 0) |
	     (status_dnr(c->status) ? NVME_CQE_DNR : 0);
	e.dw0 = htole32(c->dw0);
	e.dw1 = 0;
	e.sqhd = htole16((uint16_t)sq->head);
	e.sqid = htole16(c->sqid);
	e.cid = htole16(c->sqe.cid);
	e.status = htole16(st);
	ret = softee_box_dma_write(nv->ep.box, &nv->ep, cq->base + (uint64_t)cq->tail * NVME_CQE_SIZE,
				   &e, sizeof(e));
	if (ret == -EAGAIN) {
		nv->again = true;
		return false;
	}
	if (ret) {
		/* No bus master, no host: the completion is lost, as on a real bus. */
		nv->st.irqs_lost++;
	} else {
		if (++cq->tail == cq->size) {
			cq->tail = 0;
			cq->phase = !cq->phase;
		}
		if (cq->ien)
			cq->irq_pending = true;
	}
	sq->inflight--;
	cmd_free(c);
	sq_drained(nv, sq);
	return true;
}

static void cmd_complete(struct nv_cmd *c, uint16_t status)
{
	c->status = status;
	c->state = CMD_CQE;
	count_status(c->nv, status);
	cq_post(c);
}

/* ---- PRPs and data ----------------------------------------------------------------------- */

static void data_out(struct nv_cmd *c);
static void data_in_done(void *ctx, int err);
static void prp_read_list(struct nv_cmd *c);

static void add_seg(struct nv_cmd *c, uint64_t addr, uint32_t len, uint32_t off)
{
	struct nv_seg *s = c->nseg ? &c->seg[c->nseg - 1] : NULL;

	/* Pages that follow each other in host memory go as one transfer. */
	if (s && s->addr + s->len == addr && s->off + s->len == off) {
		s->len += len;
		return;
	}
	c->seg[c->nseg++] = (struct nv_seg){ .addr = addr, .len = len, .off = off };
}

static void xfer_fail(struct nv_cmd *c, int err)
{
	/* The host's UR for an address outside its memory, a timeout, a reset stream. */
	(void)err;
	cmd_complete(c, NVME_SC_DATA_XFER_ERROR);
}

/* The segments are known: move the data. */
static void data_start(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	uint32_t i;
	int ret;

	if (c->to_host) {
		c->state = CMD_DATA_OUT;
		c->seg_next = 0;
		data_out(c);
		return;
	}
	c->state = CMD_DATA_IN;
	c->dma_pending = 0;
	c->dma_err = 0;
	for (i = 0; i < c->nseg; i++) {
		ret = softee_box_dma_read(nv->ep.box, &nv->ep, c->seg[i].addr, c->buf + c->seg[i].off,
					  c->seg[i].len, data_in_done, c);
		if (ret) {
			c->dma_err = ret;
			break;
		}
		c->dma_pending++;
	}
	if (!c->dma_pending)
		xfer_fail(c, c->dma_err);
}

/* Data entries after PRP1 are whole pages: offset 0. */
static bool prp_entries_to_segs(struct nv_cmd *c, uint32_t first)
{
	uint32_t off = first, i;

	for (i = 0; i < c->prp_want; i++) {
		uint64_t a = le64toh(c->prp[i]);
		uint32_t n = c->len - off < NVME_PAGE_SIZE ? c->len - off : NVME_PAGE_SIZE;

		if (a & (NVME_PAGE_SIZE - 1))
			return false;
		add_seg(c, a, n, off);
		off += n;
	}
	return true;
}

static void prp_list_done(void *ctx, int err)
{
	struct nv_cmd *c = ctx;
	uint32_t n = c->prp_reading;

	if (err) {
		xfer_fail(c, err);
		return;
	}
	if (c->prp_chain) {
		/* The page's last entry points to the next list page (4.3). */
		c->list_addr = le64toh(c->prp[c->prp_have + n - 1]);
		c->prp_have += n - 1;
		if (c->list_addr & (NVME_PRP_ENTRY_SIZE - 1)) {
			cmd_complete(c, NVME_SC_PRP_INVALID_OFFSET);
			return;
		}
		prp_read_list(c);
		return;
	}
	c->prp_have += n;
	if (!prp_entries_to_segs(c, c->seg[0].len)) {
		cmd_complete(c, NVME_SC_PRP_INVALID_OFFSET);
		return;
	}
	data_start(c);
}

/* Read the entries of the list page at list_addr that this transfer still needs. */
static void prp_read_list(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	uint32_t room = (NVME_PAGE_SIZE - (uint32_t)(c->list_addr & (NVME_PAGE_SIZE - 1))) /
			NVME_PRP_ENTRY_SIZE;
	uint32_t need = c->prp_want - c->prp_have;
	int ret;

	/*
	 * A chain pointer in every page's last slot with room for no data
	 * entry makes no progress: bound the walk so that a list that loops
	 * ends the command instead of reading forever.
	 */
	if (++c->prp_hops > NV_MAX_PRPS + 1) {
		cmd_complete(c, NVME_SC_INVALID_FIELD);
		return;
	}
	c->prp_chain = need > room;
	c->prp_reading = c->prp_chain ? room : need;
	c->state = CMD_PRP;
	ret = softee_box_dma_read(nv->ep.box, &nv->ep, c->list_addr, &c->prp[c->prp_have],
				  c->prp_reading * NVME_PRP_ENTRY_SIZE, prp_list_done, c);
	if (ret)
		xfer_fail(c, ret);
}

/* Turn PRP1/PRP2 into segments (reading the list if there is one), then move the data. */
static void prp_start(struct nv_cmd *c)
{
	uint64_t p1 = c->sqe.prp1, p2 = c->sqe.prp2;
	uint32_t first = NVME_PAGE_SIZE - (uint32_t)(p1 & (NVME_PAGE_SIZE - 1)), rest;

	c->nseg = 0;
	/* PRP1 may start inside a page, on a dword. */
	if (p1 & 3) {
		cmd_complete(c, NVME_SC_PRP_INVALID_OFFSET);
		return;
	}
	if (first > c->len)
		first = c->len;
	add_seg(c, p1, first, 0);
	rest = c->len - first;
	if (!rest) {
		data_start(c);
		return;
	}
	if (rest <= NVME_PAGE_SIZE) {
		/* PRP2 is the second data page. */
		if (p2 & (NVME_PAGE_SIZE - 1)) {
			cmd_complete(c, NVME_SC_PRP_INVALID_OFFSET);
			return;
		}
		add_seg(c, p2, rest, first);
		data_start(c);
		return;
	}
	/* PRP2 points to a list, qword aligned, which may start inside a page. */
	if (p2 & (NVME_PRP_ENTRY_SIZE - 1)) {
		cmd_complete(c, NVME_SC_PRP_INVALID_OFFSET);
		return;
	}
	c->prp_want = (rest + NVME_PAGE_SIZE - 1) / NVME_PAGE_SIZE;
	c->prp_have = 0;
	c->prp_hops = 0;
	c->list_addr = p2;
	prp_read_list(c);
}

static void file_write_done(struct nv_cmd *c);

static void data_in_done(void *ctx, int err)
{
	struct nv_cmd *c = ctx;

	if (err && !c->dma_err)
		c->dma_err = err;
	if (--c->dma_pending)
		return;
	if (c->dma_err) {
		xfer_fail(c, c->dma_err);
		return;
	}
	if (c->data_op == DATA_WRITE_FILE)
		file_write_done(c);
	else
		cmd_complete(c, c->status);
}

/* Hand the data writes to the box in order, as far as it takes them, then the CQE. */
static void data_out(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;

	while (c->seg_next < c->nseg) {
		struct nv_seg *s = &c->seg[c->seg_next];
		int ret = softee_box_dma_write(nv->ep.box, &nv->ep, s->addr, c->buf + s->off, s->len);

		if (ret == -EAGAIN) {
			nv->again = true;
			return;
		}
		if (ret) {
			xfer_fail(c, ret);
			return;
		}
		c->seg_next++;
	}
	/* The box queued the data ahead of anything we send later: the CQE goes behind it. */
	cmd_complete(c, c->status);
}

/* A command with data: buf holds len bytes (to the host) or gets them (from the host). */
static void cmd_transfer(struct nv_cmd *c, uint8_t *buf, uint32_t len, bool to_host)
{
	c->buf = buf;
	c->len = len;
	c->to_host = to_host;
	c->status = NVME_SC_SUCCESS;
	prp_start(c);
}

/* ---- the namespace: file I/O ------------------------------------------------------------- */

static int file_pread(struct nvme *nv, uint8_t *buf, uint32_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(nv->fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {		/* past the end of a file that shrank: zeroes */
			memset(buf, 0, len);
			return 0;
		}
		buf += n;
		off += (uint64_t)n;
		len -= (uint32_t)n;
	}
	return 0;
}

static int file_pwrite(struct nvme *nv, const uint8_t *buf, uint32_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(nv->fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EIO;
		buf += n;
		off += (uint64_t)n;
		len -= (uint32_t)n;
	}
	return 0;
}

static int file_zero(struct nvme *nv, uint64_t off, uint64_t len)
{
	static const uint8_t zero[65536];

	if (!fallocate(nv->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len))
		return 0;
	/* Not every file system (nor an old block device) zeroes ranges: write them. */
	while (len) {
		uint32_t n = len < sizeof(zero) ? (uint32_t)len : (uint32_t)sizeof(zero);
		int ret = file_pwrite(nv, zero, n, off);

		if (ret)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}

static void file_write_done(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	bool sync = (c->sqe.cdw12 & NVME_RW_FUA) || !nv->feat.wce;

	if (file_pwrite(nv, c->buf, c->len, c->file_off) || (sync && fdatasync(nv->fd))) {
		cmd_complete(c, NVME_SC_WRITE_FAULT);
		return;
	}
	nv->st.bytes_written += c->len;
	cmd_complete(c, NVME_SC_SUCCESS);
}

/* SLBA and NLB of a Read, Write or Write Zeroes: LBA Out of Range unless they fit. */
static uint16_t lba_range(struct nvme *nv, const struct nvme_sqe *s, uint64_t *slba, uint32_t *nlb)
{
	*slba = (uint64_t)s->cdw11 << 32 | s->cdw10;
	*nlb = (s->cdw12 & NVME_RW_NLB_MASK) + 1;
	if (*slba >= nv->nblocks || *nlb > nv->nblocks - *slba)
		return NVME_SC_LBA_RANGE;
	return NVME_SC_SUCCESS;
}

static void io_exec(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	const struct nvme_sqe *s = &c->sqe;
	uint64_t slba;
	uint32_t nlb, len;
	uint16_t sc;
	uint8_t *buf;

	nv->st.io_cmds++;
	switch (s->opcode) {
	case NVME_CMD_FLUSH:
		if (s->nsid != 1 && s->nsid != NVME_NSID_ALL)
			break;
		nv->st.flushes++;
		cmd_complete(c, fdatasync(nv->fd) ? NVME_SC_WRITE_FAULT : NVME_SC_SUCCESS);
		return;
	case NVME_CMD_READ:
	case NVME_CMD_WRITE:
	case NVME_CMD_WRITE_ZEROES:
	case NVME_CMD_DSM:
		break;
	default:
		cmd_complete(c, NVME_SC_INVALID_OPCODE);
		return;
	}
	if (s->nsid != 1) {
		cmd_complete(c, NVME_SC_INVALID_NS);
		return;
	}
	if (s->opcode == NVME_CMD_DSM) {
		/* Not advertised (ONCS): deallocation is a hint, and ignoring it is allowed. */
		cmd_complete(c, NVME_SC_SUCCESS);
		return;
	}
	if (s->opcode == NVME_CMD_WRITE_ZEROES) {
		sc = lba_range(nv, s, &slba, &nlb);
		if (!sc) {
			nv->st.zeroes++;
			if (file_zero(nv, slba << nv->lba_shift, (uint64_t)nlb << nv->lba_shift) ||
			    (((s->cdw12 & NVME_RW_FUA) || !nv->feat.wce) && fdatasync(nv->fd)))
				sc = NVME_SC_WRITE_FAULT;
		}
		cmd_complete(c, sc);
		return;
	}
	/* Read, Write: MDTS first (the length sizes our buffer), then the range. */
	nlb = (s->cdw12 & NVME_RW_NLB_MASK) + 1;
	if ((uint64_t)nlb << nv->lba_shift > NV_MAX_XFER) {
		cmd_complete(c, NVME_SC_INVALID_FIELD);
		return;
	}
	sc = lba_range(nv, s, &slba, &nlb);
	if (sc) {
		cmd_complete(c, sc);
		return;
	}
	len = nlb << nv->lba_shift;
	buf = malloc(len);
	if (!buf) {
		cmd_complete(c, NVME_SC_INTERNAL);
		return;
	}
	c->file_off = slba << nv->lba_shift;
	if (s->opcode == NVME_CMD_READ) {
		nv->st.reads++;
		if (file_pread(nv, buf, len, c->file_off)) {
			free(buf);
			cmd_complete(c, NVME_SC_READ_ERROR);
			return;
		}
		nv->st.bytes_read += len;
		cmd_transfer(c, buf, len, true);
		return;
	}
	nv->st.writes++;
	c->data_op = DATA_WRITE_FILE;
	cmd_transfer(c, buf, len, false);
}

/* ---- admin commands ---------------------------------------------------------------------- */

static void identify_ctrl(struct nvme *nv, uint8_t *d)
{
	char nqn[128];

	put16(d + NVME_IDC_VID, NV_VENDOR);
	put16(d + NVME_IDC_SSVID, NV_VENDOR);
	put_str(d + NVME_IDC_SN, 20, nv->serial);
	put_str(d + NVME_IDC_MN, 40, "softee-box NVMe");
	put_str(d + NVME_IDC_FR, 8, "1.0");
	d[NVME_IDC_RAB] = 6;
	d[NVME_IDC_MDTS] = NV_MDTS;
	put16(d + NVME_IDC_CNTLID, 1);
	put32(d + NVME_IDC_VER, NVME_VS(1, 4, 0));
	d[NVME_IDC_CNTRLTYPE] = 1;			/* I/O controller */
	d[NVME_IDC_ACL] = NV_ACL;
	d[NVME_IDC_AERL] = NV_AERL;
	d[NVME_IDC_FRMW] = 0x03;			/* one slot, read-only */
	d[NVME_IDC_LPA] = 0x04;				/* NUMDU and offsets in Get Log Page */
	d[NVME_IDC_ELPE] = NV_ELPE;
	d[NVME_IDC_NPSS] = 0;
	put16(d + NVME_IDC_WCTEMP, NV_WCTEMP);
	put16(d + NVME_IDC_CCTEMP, NV_CCTEMP);
	d[NVME_IDC_SQES] = NVME_SQES_LOG2 << 4 | NVME_SQES_LOG2;
	d[NVME_IDC_CQES] = NVME_CQES_LOG2 << 4 | NVME_CQES_LOG2;
	put16(d + NVME_IDC_MAXCMD, NV_MAX_CMDS);
	put32(d + NVME_IDC_NN, 1);
	put16(d + NVME_IDC_ONCS, NVME_ONCS_WRITE_ZEROES);
	d[NVME_IDC_VWC] = NVME_VWC_PRESENT | NVME_VWC_FLUSH_ALL;
	snprintf(nqn, sizeof(nqn), "nqn.2026-08.dev.softee:nvme:%s", nv->serial);
	memcpy(d + NVME_IDC_SUBNQN, nqn, strlen(nqn));
	put16(d + NVME_IDC_PSD0 + NVME_PSD_MP, NV_MAX_POWER_CW);
}

static void identify_ns(struct nvme *nv, uint8_t *d)
{
	put64(d + NVME_IDNS_NSZE, nv->nblocks);
	put64(d + NVME_IDNS_NCAP, nv->nblocks);
	put64(d + NVME_IDNS_NUSE, nv->nblocks);
	d[NVME_IDNS_NLBAF] = 0;
	d[NVME_IDNS_FLBAS] = 0;
	memcpy(d + NVME_IDNS_NGUID, nv->nguid, sizeof(nv->nguid));
	put32(d + NVME_IDNS_LBAF0, nv->lba_shift << NVME_LBAF_LBADS_SHIFT);
}

static uint16_t adm_identify(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	uint32_t nsid = c->sqe.nsid;
	uint8_t *d;

	d = calloc(1, NVME_ID_SIZE);
	if (!d)
		return NVME_SC_INTERNAL;
	switch (c->sqe.cdw10 & 0xff) {
	case NVME_ID_CNS_NS:
		if (nsid != 1)
			goto bad_ns;	/* 0, beyond NN, or all: no namespace management */
		identify_ns(nv, d);
		break;
	case NVME_ID_CNS_CTRL:
		identify_ctrl(nv, d);
		break;
	case NVME_ID_CNS_NS_ACTIVE:
		if (nsid >= 0xfffffffe)
			goto bad_ns;
		if (nsid < 1)
			put32(d, 1);	/* active NSIDs above nsid, ascending */
		break;
	case NVME_ID_CNS_NS_DESC:
		if (nsid != 1)
			goto bad_ns;
		d[0] = NVME_NIDT_NGUID;
		d[1] = sizeof(nv->nguid);
		memcpy(d + NVME_NIDT_HDR, nv->nguid, sizeof(nv->nguid));
		break;
	default:
		free(d);
		return NVME_SC_INVALID_FIELD;
	}
	cmd_transfer(c, d, NVME_ID_SIZE, true);
	return NV_PENDING;
bad_ns:
	free(d);
	return NVME_SC_INVALID_NS;
}

/* 16-byte little-endian counter of the SMART log from a 64-bit value. */
static void put128(uint8_t *p, uint64_t v)
{
	put64(p, v);
	put64(p + 8, 0);
}

static uint16_t adm_get_log(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	const struct nvme_sqe *s = &c->sqe;
	uint64_t numd = ((uint64_t)(s->cdw11 & 0xffff) << 16 | s->cdw10 >> 16) + 1;
	uint64_t off = (uint64_t)s->cdw13 << 32 | s->cdw12, len = numd * 4;
	uint8_t log[4096] = { 0 }, *d;
	uint32_t size;

	switch (s->cdw10 & 0xff) {
	case NVME_LOG_ERROR:
		size = (NV_ELPE + 1) * NVME_LOG_ERROR_ENTRY_SIZE;	/* every entry empty */
		break;
	case NVME_LOG_SMART:
		/* No per-namespace information (LPA bit 0): the controller's, for 0 or all. */
		if (s->nsid != 0 && s->nsid != NVME_NSID_ALL)
			return NVME_SC_INVALID_FIELD;
		size = NVME_LOG_SMART_SIZE;
		put16(log + NVME_SMART_TEMP, NV_TEMP);
		log[NVME_SMART_AVAIL_SPARE] = 100;
		log[NVME_SMART_SPARE_THRESH] = 10;
		put128(log + NVME_SMART_DATA_READ, (nv->st.bytes_read + 511999) / 512000);
		put128(log + NVME_SMART_DATA_WRITTEN, (nv->st.bytes_written + 511999) / 512000);
		put128(log + NVME_SMART_HOST_READS, nv->st.reads);
		put128(log + NVME_SMART_HOST_WRITES, nv->st.writes);
		put128(log + NVME_SMART_POWER_CYCLES, 1);
		break;
	case NVME_LOG_FW_SLOT:
		size = NVME_LOG_FW_SLOT_SIZE;
		log[NVME_FW_SLOT_AFI] = 1;
		put_str(log + NVME_FW_SLOT_FRS1, 8, "1.0");
		break;
	default:
		return NVME_SC_LOG_INVALID;
	}
	if (len > NV_MAX_XFER || (off & 3) || off >= size)
		return NVME_SC_INVALID_FIELD;
	d = calloc(1, len);
	if (!d)
		return NVME_SC_INTERNAL;
	memcpy(d, log + off, size - off < len ? size - off : len);
	cmd_transfer(c, d, (uint32_t)len, true);
	return NV_PENDING;
}

static void feat_defaults(const struct nvme *nv, struct nv_features *f)
{
	memset(f, 0, sizeof(*f));
	f->temp_over = NV_WCTEMP;
	f->wce = true;
	f->nsqa = (uint16_t)(nv->nioq - 1);
	f->ncqa = (uint16_t)(nv->nioq - 1);
}

static bool any_io_queue(const struct nvme *nv)
{
	unsigned int q;

	for (q = 1; q <= nv->nioq; q++)
		if (nv->sq[q].valid || nv->cq[q].valid)
			return true;
	return false;
}

/* Temperature Threshold's TMPSEL and THSEL: the composite sensor only, over or under. */
static uint16_t *temp_thresh(struct nv_features *f, uint32_t dw11)
{
	uint32_t tmpsel = (dw11 >> 16) & 0xf, thsel = (dw11 >> 20) & 0x3;

	if (tmpsel != 0 || thsel > 1)
		return NULL;
	return thsel ? &f->temp_under : &f->temp_over;
}

static uint16_t adm_set_features(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	uint32_t dw11 = c->sqe.cdw11, nsqr, ncqr;
	uint16_t *t;

	if (c->sqe.cdw10 & (1u << 31))
		return NVME_SC_FEAT_NOT_SAVEABLE;
	switch (c->sqe.cdw10 & 0xff) {
	case NVME_FEAT_ARBITRATION:
		nv->feat.arbitration = dw11;
		break;
	case NVME_FEAT_POWER_MGMT:
		if ((dw11 & 0x1f) > 0)		/* NPSS 0: power state 0 only */
			return NVME_SC_INVALID_FIELD;
		nv->feat.power_mgmt = dw11 & 0xff;
		break;
	case NVME_FEAT_TEMP_THRESH:
		t = temp_thresh(&nv->feat, dw11);
		if (!t)
			return NVME_SC_INVALID_FIELD;
		*t = (uint16_t)dw11;
		break;
	case NVME_FEAT_VOLATILE_WC:
		nv->feat.wce = dw11 & 1;
		break;
	case NVME_FEAT_NUM_QUEUES:
		/* Only before the first I/O queue is created (5.21.1.7). */
		if (any_io_queue(nv))
			return NVME_SC_CMD_SEQ_ERROR;
		nsqr = dw11 & 0xffff;
		ncqr = dw11 >> 16;
		if (nsqr == 0xffff || ncqr == 0xffff)
			return NVME_SC_INVALID_FIELD;
		nv->feat.nsqa = (uint16_t)(nsqr < nv->nioq - 1 ? nsqr : nv->nioq - 1);
		nv->feat.ncqa = (uint16_t)(ncqr < nv->nioq - 1 ? ncqr : nv->nioq - 1);
		nv->feat.nq_set = true;
		c->dw0 = nv->feat.nsqa | (uint32_t)nv->feat.ncqa << 16;
		break;
	case NVME_FEAT_IRQ_COALESCE:
		nv->feat.irq_coalesce = dw11 & 0xffff;
		break;
	case NVME_FEAT_ASYNC_EVENT:
		nv->feat.async_event = dw11;
		break;
	default:
		return NVME_SC_INVALID_FIELD;
	}
	return NVME_SC_SUCCESS;
}

static uint16_t adm_get_features(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	uint32_t sel = (c->sqe.cdw10 & NVME_FEAT_SEL_MASK) >> NVME_FEAT_SEL_SHIFT;
	struct nv_features def, *f = &nv->feat;
	uint16_t *t;

	if (sel > NVME_FEAT_SEL_CAPS)
		return NVME_SC_INVALID_FIELD;
	/* Nothing is saveable: the saved value is the default. */
	if (sel == NVME_FEAT_SEL_DEFAULT || sel == NVME_FEAT_SEL_SAVED) {
		feat_defaults(nv, &def);
		f = &def;
	}
	switch (c->sqe.cdw10 & 0xff) {
	case NVME_FEAT_ARBITRATION: c->dw0 = f->arbitration; break;
	case NVME_FEAT_POWER_MGMT: c->dw0 = f->power_mgmt; break;
	case NVME_FEAT_TEMP_THRESH:
		t = temp_thresh(f, c->sqe.cdw11);
		if (!t)
			return NVME_SC_INVALID_FIELD;
		c->dw0 = *t;
		break;
	case NVME_FEAT_VOLATILE_WC: c->dw0 = f->wce; break;
	case NVME_FEAT_NUM_QUEUES: c->dw0 = f->nsqa | (uint32_t)f->ncqa << 16; break;
	case NVME_FEAT_IRQ_COALESCE: c->dw0 = f->irq_coalesce; break;
	case NVME_FEAT_ASYNC_EVENT: c->dw0 = f->async_event; break;
	default:
		return NVME_SC_INVALID_FIELD;
	}
	if (sel == NVME_FEAT_SEL_CAPS)
		c->dw0 = NVME_FEAT_CAP_CHANGEABLE;
	return NVME_SC_SUCCESS;
}

/* The largest I/O QID the host may create: what Number of Queues allocated. */
static unsigned int max_qid(const struct nvme *nv, bool sq)
{
	return (sq ? nv->feat.nsqa : nv->feat.ncqa) + 1u;
}

static uint16_t adm_create_cq(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	const struct nvme_sqe *s = &c->sqe;
	uint32_t qid = s->cdw10 & 0xffff, qsize = s->cdw10 >> 16, iv = s->cdw11 >> 16;
	struct nv_cq *cq;

	if (!qid || qid > max_qid(nv, false) || nv->cq[qid].valid)
		return NVME_SC_QID_INVALID;
	if (!qsize || qsize > NV_MQES)
		return NVME_SC_QUEUE_SIZE;
	/* CAP.CQR: only physically contiguous queues. */
	if (!(s->cdw11 & NVME_QUEUE_PC))
		return NVME_SC_INVALID_FIELD;
	if (iv >= nv->nvec)
		return NVME_SC_IV_INVALID;
	if (!s->prp1)
		return NVME_SC_INVALID_FIELD;
	if (s->prp1 & (NVME_PAGE_SIZE - 1))
		return NVME_SC_PRP_INVALID_OFFSET;
	if (((nv->cc & NVME_CC_IOCQES_MASK) >> NVME_CC_IOCQES_SHIFT) != NVME_CQES_LOG2)
		return NVME_SC_INVALID_FIELD;
	cq = &nv->cq[qid];
	memset(cq, 0, sizeof(*cq));
	cq->valid = true;
	cq->size = qsize + 1;
	cq->base = s->prp1;
	cq->phase = true;
	cq->ien = s->cdw11 & NVME_CQ_IEN;
	cq->iv = (uint16_t)iv;
	return NVME_SC_SUCCESS;
}

static uint16_t adm_create_sq(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	const struct nvme_sqe *s = &c->sqe;
	uint32_t qid = s->cdw10 & 0xffff, qsize = s->cdw10 >> 16, cqid = s->cdw11 >> 16;
	struct nv_sq *sq;

	if (!qid || qid > max_qid(nv, true) || nv->sq[qid].valid)
		return NVME_SC_QID_INVALID;
	if (!qsize || qsize > NV_MQES)
		return NVME_SC_QUEUE_SIZE;
	if (!(s->cdw11 & NVME_QUEUE_PC))
		return NVME_SC_INVALID_FIELD;
	/* An I/O SQ completes into an I/O CQ that exists (never the admin CQ). */
	if (!cqid || cqid > nv->nioq || !nv->cq[cqid].valid)
		return NVME_SC_CQ_INVALID;
	if (!s->prp1)
		return NVME_SC_INVALID_FIELD;
	if (s->prp1 & (NVME_PAGE_SIZE - 1))
		return NVME_SC_PRP_INVALID_OFFSET;
	if (((nv->cc & NVME_CC_IOSQES_MASK) >> NVME_CC_IOSQES_SHIFT) != NVME_SQES_LOG2)
		return NVME_SC_INVALID_FIELD;
	sq = &nv->sq[qid];
	memset(sq, 0, sizeof(*sq));
	sq->nv = nv;
	sq->valid = true;
	sq->qid = (uint16_t)qid;
	sq->cqid = (uint16_t)cqid;
	sq->size = qsize + 1;
	sq->base = s->prp1;
	nv->cq[cqid].nsq++;
	return NVME_SC_SUCCESS;
}

static uint16_t adm_delete_sq(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	uint32_t qid = c->sqe.cdw10 & 0xffff;
	struct nv_sq *sq;

	if (!qid || qid > nv->nioq || !nv->sq[qid].valid || nv->sq[qid].deleting)
		return NVME_SC_QID_INVALID;
	sq = &nv->sq[qid];
	sq->deleting = true;
	if (!sq->inflight && !sq->fetching) {
		delete_sq_finish(nv, (uint16_t)qid);
		return NVME_SC_SUCCESS;
	}
	/*
	 * Commands it has in flight finish and post their completions first
	 * (5.6 lets a controller do that instead of aborting them); what the
	 * host queued but we had not fetched is dropped.
	 */
	c->state = CMD_DRAIN;
	c->wait_sq = (uint16_t)qid;
	return NV_PENDING;
}

static uint16_t adm_delete_cq(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	uint32_t qid = c->sqe.cdw10 & 0xffff;

	if (!qid || qid > nv->nioq || !nv->cq[qid].valid)
		return NVME_SC_QID_INVALID;
	if (nv->cq[qid].nsq)
		return NVME_SC_QUEUE_DELETE;
	memset(&nv->cq[qid], 0, sizeof(nv->cq[qid]));
	return NVME_SC_SUCCESS;
}

static void admin_exec(struct nv_cmd *c)
{
	struct nvme *nv = c->nv;
	uint16_t sc;

	nv->st.admin_cmds++;
	switch (c->sqe.opcode) {
	case NVME_ADM_DELETE_SQ: sc = adm_delete_sq(c); break;
	case NVME_ADM_CREATE_SQ: sc = adm_create_sq(c); break;
	case NVME_ADM_GET_LOG_PAGE: sc = adm_get_log(c); break;
	case NVME_ADM_DELETE_CQ: sc = adm_delete_cq(c); break;
	case NVME_ADM_CREATE_CQ: sc = adm_create_cq(c); break;
	case NVME_ADM_IDENTIFY: sc = adm_identify(c); break;
	case NVME_ADM_ABORT:
		c->dw0 = 1;	/* bit 0: not aborted (commands here finish on their own) */
		sc = NVME_SC_SUCCESS;
		break;
	case NVME_ADM_SET_FEATURES: sc = adm_set_features(c); break;
	case NVME_ADM_GET_FEATURES: sc = adm_get_features(c); break;
	case NVME_ADM_ASYNC_EVENT:
		if (nv->naer > NV_AERL) {
			sc = NVME_SC_AER_LIMIT;
			break;
		}
		/*
		 * No event is ever reported: hold it without a slot; a
		 * controller reset drops it, as the host expects.
		 */
		nv->naer++;
		nv->sq[0].inflight--;
		cmd_free(c);
		return;
	case NVME_ADM_KEEP_ALIVE:
		sc = NVME_SC_SUCCESS;
		break;
	default:
		sc = NVME_SC_INVALID_OPCODE;
	}
	if (sc != NV_PENDING)
		cmd_complete(c, sc);
}

static void cmd_exec(struct nv_cmd *c)
{
	const struct nvme_sqe *s = &c->sqe;

	/* No fused operations (FUSES 0), no SGLs (SGLS 0). */
	if ((s->flags & NVME_SQE_FUSE_MASK) || (s->flags & NVME_SQE_PSDT_MASK)) {
		if (c->sqid)
			c->nv->st.io_cmds++;
		else
			c->nv->st.admin_cmds++;
		cmd_complete(c, NVME_SC_INVALID_FIELD);
		return;
	}
	if (c->sqid)
		io_exec(c);
	else
		admin_exec(c);
}

/* ---- submission queues ------------------------------------------------------------------- */

static void controller_fatal(struct nvme *nv, const char *why)
{
	if (!(nv->csts & NVME_CSTS_CFS))
		softee_box_log(nv->ep.box, SOFTEE_LOG_WARN, "nvme: controller fatal status: %s", why);
	nv->csts |= NVME_CSTS_CFS;
	nv->st.fatal++;
}

static void fetch_done(void *ctx, int err)
{
	struct nv_sq *sq = ctx;
	struct nvme *nv = sq->nv;
	uint32_t i, n = sq->nfetch;

	sq->fetching = false;
	nv->reserved -= n;
	if (err) {
		/*
		 * The SQ itself is not where the host said: no command to
		 * report it on, so the controller is dead until reset.  A
		 * lost or reset stream is retried.
		 */
		if (err == -EFAULT || err == -EIO || err == -EBADMSG)
			controller_fatal(nv, "SQ fetch failed");
		else
			nv->again = true;
		sq_drained(nv, sq);
		return;
	}
	if (sq->deleting || (nv->csts & NVME_CSTS_CFS)) {
		sq_drained(nv, sq);
		return;
	}
	sq->head = (sq->head + n) % sq->size;
	for (i = 0; i < n; i++) {
		struct nv_cmd *c = cmd_alloc(nv);	/* reserved: never NULL */

		if (!c)
			break;
		c->sqe = sq->fetch[i];
		sqe_to_cpu(&c->sqe);
		c->sqid = sq->qid;
		sq->inflight++;
		cmd_exec(c);
	}
	sq_kick(nv, sq);
}

/* Fetch what the host queued, as many SQEs as slots are free, in one DMA read. */
static void sq_kick(struct nvme *nv, struct nv_sq *sq)
{
	uint32_t avail, n, free_slots;
	int ret;

	if (!nv->ready || !sq->valid || sq->deleting || sq->fetching || (nv->csts & NVME_CSTS_CFS))
		return;
	avail = (sq->tail + sq->size - sq->head) % sq->size;
	free_slots = NV_MAX_CMDS - nv->used - nv->reserved;
	n = avail;
	if (n > sq->size - sq->head)		/* no wrap inside one read */
		n = sq->size - sq->head;
	if (n > NV_FETCH_MAX)
		n = NV_FETCH_MAX;
	if (n > free_slots)
		n = free_slots;
	if (!n)
		return;
	ret = softee_box_dma_read(nv->ep.box, &nv->ep, sq->base + (uint64_t)sq->head * NVME_SQE_SIZE,
				  sq->fetch, n * NVME_SQE_SIZE, fetch_done, sq);
	if (ret) {
		if (ret == -ENOMEM)
			nv->again = true;
		return;		/* no bus master or no host: the next doorbell tries again */
	}
	sq->fetching = true;
	sq->nfetch = n;
	nv->reserved += n;
}

static void kick_all(struct nvme *nv)
{
	unsigned int i;

	/* The admin queue first: it is how the host recovers. */
	sq_kick(nv, &nv->sq[0]);
	for (i = 0; i < nv->nioq; i++)
		sq_kick(nv, &nv->sq[1 + (nv->rr + i) % nv->nioq]);
	nv->rr = (nv->rr + 1) % nv->nioq;
}

/* ---- the controller: enable, reset, shutdown --------------------------------------------- */

/* Drop every queue and command (the box's DMA for them is cancelled first). */
static void queues_reset(struct nvme *nv)
{
	unsigned int i;

	if (nv->ep.box)		/* not yet when the model is made */
		softee_box_dma_cancel(nv->ep.box, &nv->ep);
	for (i = 0; i < NV_MAX_CMDS; i++)
		if (nv->cmd[i].state != CMD_FREE)
			cmd_free(&nv->cmd[i]);
	memset(nv->sq, 0, sizeof(nv->sq));
	memset(nv->cq, 0, sizeof(nv->cq));
	nv->used = nv->reserved = nv->naer = 0;
	nv->ready = false;
	nv->again = false;
	feat_defaults(nv, &nv->feat);
}

static void ctrl_enable(struct nvme *nv)
{
	uint32_t asqs = (nv->aqa & NVME_AQA_ASQS_MASK) + 1;
	uint32_t acqs = ((nv->aqa & NVME_AQA_ACQS_MASK) >> NVME_AQA_ACQS_SHIFT) + 1;
	struct nv_sq *sq = &nv->sq[0];
	struct nv_cq *cq = &nv->cq[0];

	/* Only 4 KiB pages, the NVM command set and round robin are implemented. */
	if ((nv->cc & (NVME_CC_MPS_MASK | NVME_CC_CSS_MASK | NVME_CC_AMS_MASK)) ||
	    asqs < NVME_ADMIN_QUEUE_MIN || acqs < NVME_ADMIN_QUEUE_MIN || !nv->asq || !nv->acq ||
	    (nv->asq & (NVME_PAGE_SIZE - 1)) || (nv->acq & (NVME_PAGE_SIZE - 1))) {
		controller_fatal(nv, "enabled with a bad CC, AQA, ASQ or ACQ");
		return;
	}
	sq->nv = nv;
	sq->valid = true;
	sq->qid = 0;
	sq->cqid = 0;
	sq->size = asqs;
	sq->base = nv->asq;
	cq->valid = true;
	cq->size = acqs;
	cq->base = nv->acq;
	cq->phase = true;
	cq->ien = true;
	cq->iv = 0;
	cq->nsq = 1;
	nv->ready = true;
	nv->csts |= NVME_CSTS_RDY;
}

static void cc_write(struct nvme *nv, uint32_t cc)
{
	uint32_t old = nv->cc;

	nv->cc = cc & NVME_CC_WRITABLE;
	if ((old & NVME_CC_EN) && !(cc & NVME_CC_EN)) {
		/* Controller reset: queues and commands go, without completions. */
		queues_reset(nv);
		nv->csts &= ~(NVME_CSTS_RDY | NVME_CSTS_CFS);
	} else if (!(old & NVME_CC_EN) && (cc & NVME_CC_EN)) {
		nv->csts &= ~NVME_CSTS_SHST_MASK;
		ctrl_enable(nv);
	}
	if ((cc & NVME_CC_SHN_MASK) && !(old & NVME_CC_SHN_MASK)) {
		/* What the host wrote is on the medium before we say the shutdown is complete. */
		if (fdatasync(nv->fd))
			softee_box_log(nv->ep.box, SOFTEE_LOG_WARN, "nvme: shutdown: fdatasync: %s",
				       strerror(errno));
		nv->csts = (nv->csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_CMPLT;
	} else if (!(cc & NVME_CC_SHN_MASK) && (old & NVME_CC_SHN_MASK)) {
		nv->csts &= ~NVME_CSTS_SHST_MASK;
	}
}

/* ---- registers --------------------------------------------------------------------------- */

static uint64_t reg_cap(const struct nvme *nv)
{
	(void)nv;
	return NV_MQES | NVME_CAP_CQR | (uint64_t)NV_CAP_TO << NVME_CAP_TO_SHIFT | NVME_CAP_CSS_NVM;
}

static uint32_t reg_read(struct nvme *nv, uint32_t reg)
{
	if (reg >= NV_MSIX_TABLE && reg < NV_MSIX_TABLE + nv->nvec * SOFTEE_MSIX_ENTRY_SIZE)
		return get32(nv->msix + (reg - NV_MSIX_TABLE));
	if (reg >= NV_MSIX_PBA && reg < NV_MSIX_PBA + sizeof(nv->pba))
		return (uint32_t)(nv->pba[(reg - NV_MSIX_PBA) / 8] >> (reg & 4 ? 32 : 0));
	switch (reg) {
	case NVME_REG_CAP: return (uint32_t)reg_cap(nv);
	case NVME_REG_CAP + 4: return (uint32_t)(reg_cap(nv) >> 32);
	case NVME_REG_VS: return NVME_VS(1, 4, 0);
	case NVME_REG_INTMS: case NVME_REG_INTMC: return nv->intms;
	case NVME_REG_CC: return nv->cc;
	case NVME_REG_CSTS: return nv->csts;
	case NVME_REG_AQA: return nv->aqa;
	case NVME_REG_ASQ: return (uint32_t)nv->asq;
	case NVME_REG_ASQ + 4: return (uint32_t)(nv->asq >> 32);
	case NVME_REG_ACQ: return (uint32_t)nv->acq;
	case NVME_REG_ACQ + 4: return (uint32_t)(nv->acq >> 32);
	default: return 0;	/* doorbells read 0; no CMB, no PMR */
	}
}

static uint32_t merge(uint32_t old, uint32_t v, uint32_t m)
{
	return (old & ~m) | (v & m);
}

static void set32(uint64_t *r, bool hi, uint32_t v, uint32_t m)
{
	uint32_t cur = (uint32_t)(*r >> (hi ? 32 : 0));

	cur = merge(cur, v, m);
	*r = hi ? (*r & 0xffffffffULL) | (uint64_t)cur << 32 : (*r & ~0xffffffffULL) | cur;
}

static void sq_doorbell(struct nvme *nv, uint32_t qid, uint32_t v)
{
	struct nv_sq *sq = &nv->sq[qid];

	/* Invalid Doorbell Write: no AER is ever completed, so it is ignored and counted. */
	if (!nv->ready || qid > nv->nioq || !sq->valid || sq->deleting || v >= sq->size) {
		nv->st.bad_doorbells++;
		return;
	}
	sq->tail = v;
	sq_kick(nv, sq);
}

static void cq_doorbell(struct nvme *nv, uint32_t qid, uint32_t v)
{
	struct nv_cq *cq = &nv->cq[qid];
	uint32_t posted, adv, i;

	if (!nv->ready || qid > nv->nioq || !cq->valid || v >= cq->size) {
		nv->st.bad_doorbells++;
		return;
	}
	/* The host can only give back entries we posted. */
	posted = (cq->tail + cq->size - cq->head) % cq->size;
	adv = (v + cq->size - cq->head) % cq->size;
	if (adv > posted) {
		nv->st.bad_doorbells++;
		return;
	}
	cq->head = v;
	/* Room now: completions that waited for this CQ go. */
	for (i = 0; i < NV_MAX_CMDS; i++) {
		struct nv_cmd *c = &nv->cmd[i];

		if (c->state == CMD_CQE && nv->sq[c->sqid].cqid == qid)
			cq_post(c);
	}
}

static void reg_write(struct nvme *nv, uint32_t reg, uint32_t v, uint32_t m)
{
	if (reg >= NV_MSIX_TABLE && reg < NV_MSIX_TABLE + nv->nvec * SOFTEE_MSIX_ENTRY_SIZE) {
		uint8_t *p = nv->msix + (reg - NV_MSIX_TABLE);
		uint32_t x = merge(get32(p), v, m);

		if ((reg & 0xf) == SOFTEE_MSIX_ENTRY_CTRL)
			x &= SOFTEE_MSIX_ENTRY_CTRL_MASKBIT;
		put32(p, x);
		flush_pba(nv);
		return;
	}
	if (reg >= NVME_REG_DBS && reg < NV_MSIX_TABLE) {
		uint32_t k = (reg - NVME_REG_DBS) / 4;

		if (k / 2 > NV_MAX_IOQ) {
			nv->st.bad_doorbells++;
			return;
		}
		if (k & 1)
			cq_doorbell(nv, k / 2, v & m);
		else
			sq_doorbell(nv, k / 2, v & m);
		return;
	}
	switch (reg) {
	case NVME_REG_INTMS: nv->intms |= v & m; break;
	case NVME_REG_INTMC: nv->intms &= ~(v & m); break;
	case NVME_REG_CC: cc_write(nv, merge(nv->cc, v, m)); break;
	case NVME_REG_AQA:
		nv->aqa = merge(nv->aqa, v, m) & (NVME_AQA_ASQS_MASK | NVME_AQA_ACQS_MASK);
		break;
	case NVME_REG_ASQ: set32(&nv->asq, false, v & ~0xfffu, m); break;
	case NVME_REG_ASQ + 4: set32(&nv->asq, true, v, m); break;
	case NVME_REG_ACQ: set32(&nv->acq, false, v & ~0xfffu, m); break;
	case NVME_REG_ACQ + 4: set32(&nv->acq, true, v, m); break;
	default: break;		/* read-only, NSSR (not supported), or nothing there */
	}
}

static int nv_mem_read(struct softee_endpoint *ep, unsigned int bar, uint64_t off, uint32_t len,
		       void *buf)
{
	struct nvme *nv = to_nv(ep);
	uint8_t *b = buf;

	if (bar != NV_BAR)
		return -ENXIO;
	while (len) {
		uint32_t reg = (uint32_t)off & ~3u, sh = (uint32_t)off & 3u, n = 4 - sh, k;
		uint32_t v = reg_read(nv, reg);

		if (n > len)
			n = len;
		for (k = 0; k < n; k++)
			*b++ = (uint8_t)(v >> (8 * (sh + k)));
		off += n;
		len -= n;
	}
	return 0;
}

static int nv_mem_write(struct softee_endpoint *ep, unsigned int bar, uint64_t off, uint32_t len,
			const void *buf)
{
	struct nvme *nv = to_nv(ep);
	const uint8_t *b = buf;

	if (bar != NV_BAR)
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
		reg_write(nv, reg, v, m);
		off += n;
		len -= n;
	}
	return 0;
}

/* ---- config space and the ops ------------------------------------------------------------ */

static int nv_cfg_read(struct softee_endpoint *ep, uint32_t off, uint32_t len, uint32_t *val)
{
	*val = softee_pcicfg_read(&to_nv(ep)->cfg, off, len);
	return 0;
}

static int nv_cfg_write(struct softee_endpoint *ep, uint32_t off, uint32_t len, uint32_t val)
{
	struct nvme *nv = to_nv(ep);

	softee_pcicfg_write(&nv->cfg, off, len, val);
	/* The function mask or the enable may have changed: pending vectors may go now. */
	if (off + len > (uint32_t)nv->msix_cap && off < (uint32_t)nv->msix_cap + SOFTEE_MSIX_CAP_SIZE)
		flush_pba(nv);
	return 0;
}

static void nv_power_on(struct nvme *nv)
{
	unsigned int v;

	softee_pcicfg_init(&nv->cfg, NV_VENDOR, NV_DEVICE, NV_CLASS, NV_REVISION, NV_VENDOR,
			   NV_SUBSYS);
	softee_pcicfg_set_bars(&nv->cfg, nv->ep.bar);
	nv->msix_cap = softee_pcicfg_add_msix(&nv->cfg, nv->nvec, NV_BAR, NV_MSIX_TABLE, NV_BAR,
					      NV_MSIX_PBA);
	queues_reset(nv);
	nv->cc = nv->csts = nv->aqa = nv->intms = 0;
	nv->asq = nv->acq = 0;
	memset(nv->msix, 0, sizeof(nv->msix));
	for (v = 0; v < nv->nvec; v++)		/* vectors start masked */
		nv->msix[v * SOFTEE_MSIX_ENTRY_SIZE + SOFTEE_MSIX_ENTRY_CTRL] =
			SOFTEE_MSIX_ENTRY_CTRL_MASKBIT;
	memset(nv->pba, 0, sizeof(nv->pba));
	nv->rr = 0;
}

static bool nv_poll(struct softee_endpoint *ep, uint64_t now_ns)
{
	struct nvme *nv = to_nv(ep);
	bool busy = false;
	unsigned int i;

	(void)now_ns;
	if (!nv->ready)
		return false;
	nv->again = false;
	for (i = 0; i < NV_MAX_CMDS; i++) {
		struct nv_cmd *c = &nv->cmd[i];

		if (c->state == CMD_DATA_OUT)
			data_out(c);
		else if (c->state == CMD_CQE)
			cq_post(c);
	}
	/* One message per CQ for everything it got since the last poll. */
	for (i = 0; i <= nv->nioq; i++) {
		struct nv_cq *cq = &nv->cq[i];

		if (cq->valid && cq->irq_pending && raise_vec(nv, cq->iv))
			cq->irq_pending = false;
		busy |= cq->irq_pending;
	}
	kick_all(nv);
	return busy || nv->again;
}

static void nv_reset(struct softee_endpoint *ep)
{
	nv_power_on(to_nv(ep));
}

static void nv_destroy(struct softee_endpoint *ep)
{
	struct nvme *nv = to_nv(ep);
	unsigned int i;

	for (i = 0; i < NV_MAX_CMDS; i++)
		free(nv->cmd[i].buf);
	if (nv->fd >= 0)
		close(nv->fd);
	free(nv);
}

static int nv_describe(struct softee_endpoint *ep, char *buf, size_t len)
{
	struct nvme *nv = to_nv(ep);
	const struct nv_stats *s = &nv->st;

	return snprintf(buf, len, "rdy=%d blocks=%llu*%u cmds=%llu/%llu rd=%llu wr=%llu "
			"err=op:%llu,fld:%llu,ns:%llu,lba:%llu,prp:%llu,xfer:%llu,q:%llu,media:%llu,"
			"other:%llu cqfull=%llu irq=%llu lost=%llu baddb=%llu fatal=%llu",
			nv->ready, (unsigned long long)nv->nblocks, 1u << nv->lba_shift,
			(unsigned long long)s->admin_cmds, (unsigned long long)s->io_cmds,
			(unsigned long long)s->bytes_read, (unsigned long long)s->bytes_written,
			(unsigned long long)s->err_opcode, (unsigned long long)s->err_field,
			(unsigned long long)s->err_ns, (unsigned long long)s->err_lba,
			(unsigned long long)s->err_prp, (unsigned long long)s->err_xfer,
			(unsigned long long)s->err_queue, (unsigned long long)s->err_media,
			(unsigned long long)s->err_other, (unsigned long long)s->cq_full,
			(unsigned long long)s->irqs, (unsigned long long)s->irqs_lost,
			(unsigned long long)s->bad_doorbells, (unsigned long long)s->fatal);
}

static const struct softee_endpoint_ops nvme_ops = {
	.cfg_read = nv_cfg_read,
	.cfg_write = nv_cfg_write,
	.mem_read = nv_mem_read,
	.mem_write = nv_mem_write,
	.poll = nv_poll,
	.reset = nv_reset,
	.destroy = nv_destroy,
	.describe = nv_describe,
};

/* ---- creation: the backing file ---------------------------------------------------------- */

/* FNV-1a, for a serial number and an NGUID that stay the same for the same file. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

static int open_backing(struct nvme *nv, const struct softee_nvme_cfg *nc, char *err,
			size_t errlen)
{
	uint64_t have, size = nc->size, lba = nc->lba_size, h;
	struct stat sb;

	nv->fd = open(nc->file, O_RDWR | O_CLOEXEC | (nc->create ? O_CREAT : 0), 0644);
	if (nv->fd < 0) {
		snprintf(err, errlen, "nvme: %s: %s%s", nc->file, strerror(errno),
			 errno == ENOENT && !nc->create ? " (add 'create' to make it)" : "");
		return -errno;
	}
	if (fstat(nv->fd, &sb)) {
		snprintf(err, errlen, "nvme: %s: %s", nc->file, strerror(errno));
		return -errno;
	}
	if (S_ISBLK(sb.st_mode)) {
		if (ioctl(nv->fd, BLKGETSIZE64, &have)) {
			snprintf(err, errlen, "nvme: %s: BLKGETSIZE64: %s", nc->file, strerror(errno));
			return -errno;
		}
	} else if (S_ISREG(sb.st_mode)) {
		have = (uint64_t)sb.st_size;
	} else {
		snprintf(err, errlen, "nvme: %s: not a regular file or a block device", nc->file);
		return -EINVAL;
	}
	if (!size)
		size = have - have % lba;
	if (!size) {
		snprintf(err, errlen, "nvme: %s: empty (give size= and create)", nc->file);
		return -EINVAL;
	}
	if (size % lba) {
		snprintf(err, errlen, "nvme: size %llu is not a multiple of lbasize %llu",
			 (unsigned long long)size, (unsigned long long)lba);
		return -EINVAL;
	}
	if (size > have) {
		if (!nc->create || S_ISBLK(sb.st_mode)) {
			snprintf(err, errlen, "nvme: %s has %llu bytes, fewer than size=%llu%s", nc->file,
				 (unsigned long long)have, (unsigned long long)size,
				 S_ISBLK(sb.st_mode) ? "" : " (add 'create' to extend it)");
			return -EINVAL;
		}
		if (ftruncate(nv->fd, (off_t)size)) {
			snprintf(err, errlen, "nvme: %s: extending to %llu bytes: %s", nc->file,
				 (unsigned long long)size, strerror(errno));
			return -errno;
		}
	}
	nv->nblocks = size / lba;
	nv->lba_shift = lba == 4096 ? 12 : 9;
	h = fnv(0xcbf29ce484222325ULL, &sb.st_dev, sizeof(sb.st_dev));
	h = fnv(h, &sb.st_ino, sizeof(sb.st_ino));
	h = fnv(h, &size, sizeof(size));
	snprintf(nv->serial, sizeof(nv->serial), "SFT%016llx", (unsigned long long)h);
	put64(nv->nguid, h);
	put64(nv->nguid + 8, fnv(h, "nguid", 5));
	return 0;
}

int softee_nvme_create(struct softee_endpoint **ep, const struct softee_ep_cfg *cfg,
		       const struct softee_nvme_cfg *nc, char *err, size_t errlen)
{
	struct softee_nvme_cfg c = *nc;
	struct nvme *nv;
	int ret;

	*ep = NULL;
	if (!c.lba_size)
		c.lba_size = 512;
	if (!c.queues)
		c.queues = NV_DEF_IOQ;
	if (!c.file || !*c.file) {
		snprintf(err, errlen, "nvme: file=PATH is required");
		return -EINVAL;
	}
	if (c.lba_size != 512 && c.lba_size != 4096) {
		snprintf(err, errlen, "nvme: lbasize must be 512 or 4096, not %u", c.lba_size);
		return -EINVAL;
	}
	if (c.queues > NV_MAX_IOQ) {
		snprintf(err, errlen, "nvme: queues must be 1..%u, not %u", NV_MAX_IOQ, c.queues);
		return -EINVAL;
	}
	nv = calloc(1, sizeof(*nv));
	if (!nv) {
		snprintf(err, errlen, "nvme: out of memory");
		return -ENOMEM;
	}
	ret = open_backing(nv, &c, err, errlen);
	if (ret) {
		if (nv->fd >= 0)
			close(nv->fd);
		free(nv);
		return ret;
	}
	nv->nioq = c.queues;
	nv->nvec = c.queues + 1;	/* vector 0: admin; vector q: I/O queue q (Linux's layout) */
	nv->ep.ops = &nvme_ops;
	nv->ep.model = "nvme";
	nv->ep.priv = nv;
	if (cfg)
		nv->ep.cfg = *cfg;
	nv->ep.bar[NV_BAR].size = NV_BAR_SIZE;
	nv->ep.bar[NV_BAR].flags = SOFTEE_BAR_MEM64;
	nv_power_on(nv);
	*ep = &nv->ep;
	return 0;
}
