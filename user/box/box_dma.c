// SPDX-License-Identifier: GPL-2.0
/*
 * What the box sends: one queue per host, tags for DMA reads, and the
 * reassembly of their completions.
 *
 * Ordering (PCIe 3.0, 2.4.1, without Relaxed Ordering): a posted write
 * must not pass a posted write, a read request must not pass a posted
 * write, a completion must not pass a posted write; posted writes and
 * completions may pass read requests (they must be able to, or a device
 * waiting for tags would deadlock).  The transport keeps TLPs in order;
 * the box's queue in front of it, for what the transport cannot take yet,
 * keeps the same rules: a write or a completion stops the queue until it
 * is sent, a read that waits for tags lets what follows it pass.
 *
 * Tags: 8 bits, one per MRd, at most cfg.tags busy.  A request's
 * completions come back in address order (2.3.1.1): each must carry the
 * Byte Count still due and the Lower Address of the next byte, or the read
 * fails as malformed.  A tag whose request timed out is not reused for
 * another completion timeout, so a late completion is dropped (counted),
 * never taken for a newer request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "box_priv.h"

/* ---- jobs and the queue --------------------------------------------------------- */

static void job_free(struct box_job *j)
{
	if (j->kind == JOB_WRITE)
		free(j->buf);
	free(j);
}

/* Free a finished job once nothing refers to it any more. */
static void job_put(struct box_job *j)
{
	if (!j->queued && !j->inflight && !j->done_pending && j->dead)
		job_free(j);
}

static void q_append(struct box_host *h, struct box_job *j)
{
	j->next = NULL;
	j->queued = true;
	j->host = h;
	if (h->tail)
		h->tail->next = j;
	else
		h->head = j;
	h->tail = j;
	h->backlog += j->cost;
	h->jobs++;
	*h->qmask |= h->bit;
}

static void q_unlink(struct box_host *h, struct box_job *prev, struct box_job *j)
{
	if (prev)
		prev->next = j->next;
	else
		h->head = j->next;
	if (h->tail == j)
		h->tail = prev;
	j->next = NULL;
	j->queued = false;
	h->backlog -= j->cost;
	h->jobs--;
}

static void q_remove(struct box_host *h, struct box_job *j)
{
	struct box_job *prev = NULL, *x;

	for (x = h->head; x; prev = x, x = x->next)
		if (x == j) {
			q_unlink(h, prev, j);
			return;
		}
}

/*
 * A read ends (all bytes in, or failed): its callback is queued to run
 * from the poll, and buf is not touched again.
 */
static void read_finish(struct softee_box *box, struct box_job *j, int err)
{
	struct softee_endpoint *ep = j->ep;

	if (j->dead)
		return;
	j->dead = true;
	j->err = err;
	if (j->queued)
		q_remove(j->host, j);
	if (ep) {
		if (err)
			ep->stats.dma_read_errors++;
		else
			ep->stats.dma_read_bytes += j->len;
	}
	if (j->cb) {
		j->done_pending = true;
		j->done_next = NULL;
		if (box->done_tail)
			box->done_tail->done_next = j;
		else
			box->done_head = j;
		box->done_tail = j;
	}
}

void box_run_callbacks(struct softee_box *box)
{
	struct box_job *j;

	while ((j = box->done_head)) {
		softee_dma_done_fn cb = j->cb;

		box->done_head = j->done_next;
		if (!box->done_head)
			box->done_tail = NULL;
		j->done_pending = false;
		j->cb = NULL;
		if (cb)
			cb(j->ctx, j->err);
		job_put(j);
	}
}

static void count_tx(struct softee_box *box, const uint8_t *tlp)
{
	uint8_t type = tlp[0] & 0x1f;

	if (type == SOFTEE_TLP_TYPE_CPL)
		box->stats.tx_cpl++;
	else if (type == SOFTEE_TLP_TYPE_MEM && (tlp[0] & 0x40))
		box->stats.tx_mwr++;
	else if (type == SOFTEE_TLP_TYPE_MEM)
		box->stats.tx_mrd++;
}

/* Hand one encoded TLP to the transport; -EAGAIN if it is full. */
static int xmit(struct softee_box *box, struct box_host *h, const uint8_t *tlp, uint32_t len)
{
	int ret;

	if (!h->peer)
		return -ENOTCONN;
	ret = softee_transport_send_tlp(h->peer, tlp, len);
	if (!ret)
		count_tx(box, tlp);
	return ret;
}

int box_send(struct softee_box *box, struct box_host *h, const struct softee_tlp *t,
	     struct softee_endpoint *ep)
{
	struct box_job *j;
	int n, ret;

	n = softee_tlp_encode(t, box->scratch, sizeof(box->scratch));
	if (n < 0) {
		box->stats.tx_dropped++;
		return n;
	}
	if (!h->head) {
		ret = xmit(box, h, box->scratch, (uint32_t)n);
		if (ret != -EAGAIN) {
			if (ret)
				box->stats.tx_dropped++;
			return ret;
		}
	}
	if (h->backlog + (uint32_t)n > box->cfg.backlog_bytes) {
		box->stats.backlog_full++;
		box->stats.tx_dropped++;
		return -EAGAIN;
	}
	j = calloc(1, sizeof(*j) + (uint32_t)n);
	if (!j) {
		box->stats.tx_dropped++;
		return -ENOMEM;
	}
	j->kind = JOB_TLP;
	j->ep = ep;
	j->dead = true;
	j->cost = (uint32_t)n;
	j->tlp_len = (uint32_t)n;
	memcpy(j->tlp, box->scratch, (uint32_t)n);
	q_append(h, j);
	/* Behind a read that waits for tags it may go at once (it may pass a read). */
	if (h->head->kind == JOB_READ)
		box_drain(box, h);
	return 0;
}

/* ---- tags ----------------------------------------------------------------------- */

/*
 * A free tag, the search going round from the last one taken; -1 when all
 * are busy or stale.  tags_busy answers that case at once: a read waiting
 * for tags asks on every pass of the loop, and a scan of all of them each
 * time was a fifth of the box's CPU in a 256 KiB DMA on dpdk_bypass.
 */
static int tag_alloc(struct softee_box *box)
{
	unsigned int i, k = box->tag_next, n = box->cfg.tags;

	if (box->tags_busy >= n)
		return -1;
	for (i = 0; i < n; i++, k++) {
		if (k >= n)
			k = 0;
		if (box->tags[k].state == TAG_FREE) {
			box->tag_next = k + 1;
			return (int)k;
		}
	}
	return -1;
}

static void tag_deadline(struct softee_box *box, uint64_t d)
{
	if (d < box->next_tag_deadline)
		box->next_tag_deadline = d;
}

/* A tag's request is over: the tag is free again, or held back for a late completion. */
static void tag_release(struct softee_box *box, struct box_tag *tg, bool stale)
{
	struct box_job *j = tg->job;

	tg->job = NULL;
	if (stale) {
		tg->state = TAG_STALE;
		tg->deadline = box->now + box->cfg.cpl_timeout_ns;
		tag_deadline(box, tg->deadline);
	} else {
		tg->state = TAG_FREE;
		box->tags_busy--;
	}
	if (j) {
		j->inflight--;
		job_put(j);
	}
}

/* ---- sending a job's TLPs --------------------------------------------------------- */

/* MRd while tags last: 0 all sent, -EBUSY out of tags, -EAGAIN transport full, -errno. */
static int issue_reads(struct softee_box *box, struct box_host *h, struct box_job *j)
{
	uint32_t mrrs = j->ep->max_read_req;

	while (j->issued < j->len) {
		uint64_t addr = j->addr + j->issued;
		uint32_t n = mrrs - (uint32_t)(addr & (mrrs - 1));
		struct softee_tlp t = { .kind = SOFTEE_TLP_MRD, .requester = j->requester };
		struct box_tag *tg;
		int tag, len, ret;

		if (n > j->len - j->issued)
			n = j->len - j->issued;
		tag = tag_alloc(box);
		if (tag < 0)
			return -EBUSY;
		t.tag = (uint8_t)tag;
		if (softee_tlp_set_range(&t, addr, n))
			return -EINVAL;
		len = softee_tlp_encode(&t, box->scratch, sizeof(box->scratch));
		if (len < 0)
			return len;
		ret = xmit(box, h, box->scratch, (uint32_t)len);
		if (ret)
			return ret;
		tg = &box->tags[tag];
		tg->state = TAG_BUSY;
		tg->job = j;
		tg->host = h;
		tg->requester = j->requester;
		tg->addr = addr;
		tg->len = n;
		tg->off = j->issued;
		tg->got = 0;
		tg->deadline = box->now + box->cfg.cpl_timeout_ns;
		tag_deadline(box, tg->deadline);
		if (++box->tags_busy > box->stats.tags_busy_max)
			box->stats.tags_busy_max = box->tags_busy;
		j->inflight++;
		j->issued += n;
	}
	return 0;
}

/* MWr of the job's data: 0 all sent, -EAGAIN transport full, -errno. */
static int issue_writes(struct softee_box *box, struct box_host *h, struct box_job *j)
{
	uint32_t mps = j->ep ? j->ep->max_payload : SOFTEE_EP_DEF_MPS;
	uint8_t stage[SOFTEE_TLP_MAX_DATA + 8];

	while (j->issued < j->len) {
		uint64_t addr = j->addr + j->issued;
		uint32_t n = mps - (uint32_t)(addr & (mps - 1));
		struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .requester = j->requester };
		int len, ret;

		if (n > j->len - j->issued)
			n = j->len - j->issued;
		if (softee_tlp_set_range(&t, addr, n))
			return -EINVAL;
		/* The payload starts at the DW of addr: stage unaligned heads and tails. */
		if ((addr & 3) || (n & 3)) {
			memset(stage, 0, 4u * t.len_dw);
			memcpy(stage + (addr & 3), j->buf + j->issued, n);
			t.data = stage;
		} else {
			t.data = j->buf + j->issued;
		}
		len = softee_tlp_encode(&t, box->scratch, sizeof(box->scratch));
		if (len < 0)
			return len;
		ret = xmit(box, h, box->scratch, (uint32_t)len);
		if (ret)
			return ret;
		j->issued += n;
		h->backlog -= n;
		j->cost -= n;
	}
	return 0;
}

/*
 * Send what the host's queue holds, as far as the transport takes it.
 * True if it stopped because the transport is full (not for want of tags).
 */
bool box_drain(struct softee_box *box, struct box_host *h)
{
	struct box_job *j = h->head, *prev = NULL, *next;
	int ret;

	while (j) {
		next = j->next;
		switch (j->kind) {
		case JOB_TLP:
			ret = xmit(box, h, j->tlp, j->tlp_len);
			if (ret == -EAGAIN)
				return true;
			if (ret)
				box->stats.tx_dropped++;
			q_unlink(h, prev, j);
			job_free(j);
			break;
		case JOB_WRITE:
			ret = issue_writes(box, h, j);
			if (ret == -EAGAIN)
				return true;
			if (ret)
				box->stats.tx_dropped++;
			q_unlink(h, prev, j);
			job_free(j);
			break;
		default:	/* JOB_READ */
			ret = issue_reads(box, h, j);
			if (ret == -EAGAIN)
				return true;
			if (ret == -EBUSY) {
				prev = j;	/* waits for tags: what follows may pass */
				break;
			}
			q_unlink(h, prev, j);
			if (ret)
				read_finish(box, j, ret == -ENOTCONN ? -ENOTCONN : -EIO);
			job_put(j);
			break;
		}
		j = next;
	}
	return false;
}

void box_drain_all(struct softee_box *box)
{
	uint64_t m = box->hosts_queued;

	_Static_assert(SOFTEE_LIVENESS_MAX_PEERS <= 64, "hosts_queued has a bit per host");
	while (m) {
		struct box_host *h = &box->hosts[__builtin_ctzll(m)];

		m &= m - 1;
		if (h->head)
			box_drain(box, h);
		if (!h->head)
			box->hosts_queued &= ~h->bit;
	}
}

/* ---- the endpoints' API ------------------------------------------------------------- */

static struct box_host *dma_host(struct softee_box *box, struct softee_endpoint *ep, int *err)
{
	struct box_host *h;

	*err = 0;
	if (!(ep->command & SOFTEE_PCI_COMMAND_MASTER)) {
		*err = -EPERM;
	} else {
		h = box_ep_owner(box, ep);
		if (h && h->peer && h->peer->session)
			return h;
		*err = -ENOTCONN;
	}
	ep->stats.dma_refused++;
	return NULL;
}

int softee_box_dma_read(struct softee_box *box, struct softee_endpoint *ep, uint64_t host_addr,
			void *buf, uint32_t len, softee_dma_done_fn done, void *ctx)
{
	struct box_host *h;
	struct box_job *j;
	int err;

	if (!box || !ep || !buf || !done || !len || host_addr + len - 1 < host_addr)
		return -EINVAL;
	h = dma_host(box, ep, &err);
	if (!h)
		return err;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->kind = JOB_READ;
	j->ep = ep;
	j->requester = ep->bdf;
	j->addr = host_addr;
	j->len = len;
	j->buf = buf;
	j->cb = done;
	j->ctx = ctx;
	ep->stats.dma_reads++;
	q_append(h, j);
	box_drain(box, h);
	return 0;
}

int softee_box_dma_write(struct softee_box *box, struct softee_endpoint *ep, uint64_t host_addr,
			 const void *buf, uint32_t len)
{
	struct box_host *h;
	struct box_job *j;
	int err;

	if (!box || !ep || !buf || !len || host_addr + len - 1 < host_addr)
		return -EINVAL;
	h = dma_host(box, ep, &err);
	if (!h)
		return err;
	if (h->backlog + len > box->cfg.backlog_bytes) {
		box->stats.backlog_full++;
		return -EAGAIN;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->buf = malloc(len);
	if (!j->buf) {
		free(j);
		return -ENOMEM;
	}
	memcpy(j->buf, buf, len);
	j->kind = JOB_WRITE;
	j->ep = ep;
	j->dead = true;
	j->requester = ep->bdf;
	j->addr = host_addr;
	j->len = len;
	j->cost = len;
	ep->stats.dma_writes++;
	ep->stats.dma_write_bytes += len;
	q_append(h, j);
	box_drain(box, h);
	return 0;
}

int softee_box_msi(struct softee_box *box, struct softee_endpoint *ep, uint64_t addr,
		   uint32_t data)
{
	uint8_t le[4] = { (uint8_t)data, (uint8_t)(data >> 8), (uint8_t)(data >> 16),
			  (uint8_t)(data >> 24) };
	struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .len_dw = 1, .first_be = 0xf,
				.addr = addr, .data = le };
	struct box_host *h;
	int err;

	if (!box || !ep || (addr & 3))
		return -EINVAL;
	h = dma_host(box, ep, &err);
	if (!h)
		return err;
	t.requester = ep->bdf;
	err = box_send(box, h, &t, ep);
	if (!err)
		ep->stats.msis++;
	return err;
}

void softee_box_dma_cancel(struct softee_box *box, struct softee_endpoint *ep)
{
	struct box_job *j, *prev, *next;
	unsigned int i;

	for (i = 0; i < SOFTEE_LIVENESS_MAX_PEERS; i++) {
		struct box_host *h = &box->hosts[i];

		for (prev = NULL, j = h->head; j; j = next) {
			next = j->next;
			if (j->ep != ep) {
				prev = j;
				continue;
			}
			q_unlink(h, prev, j);
			j->cb = NULL;
			j->dead = true;
			if (j->kind == JOB_READ)
				job_put(j);
			else
				job_free(j);
		}
	}
	/* Reads out on the wire: their tags keep the job until they come back. */
	for (i = 0; i < SOFTEE_BOX_MAX_TAGS; i++) {
		struct box_job *tj = box->tags[i].job;

		if (tj && tj->ep == ep) {
			tj->cb = NULL;
			tj->dead = true;
		}
	}
	/* Callbacks not yet run (run_callbacks skips a NULL one). */
	for (j = box->done_head; j; j = j->done_next)
		if (j->ep == ep)
			j->cb = NULL;
}

/* ---- completions in --------------------------------------------------------------- */

static int cpl_err(uint8_t status)
{
	return status == SOFTEE_TLP_CPL_UR ? -EFAULT : -EIO;
}

void box_on_cpl(struct softee_box *box, struct box_host *h, const struct softee_tlp *t)
{
	struct box_tag *tg = &box->tags[t->tag];
	struct box_job *j = tg->job;
	uint32_t want, la, room, n;

	if (tg->state != TAG_BUSY || tg->host != h || tg->requester != t->requester) {
		box->stats.cpl_unexpected++;
		box_warn_rl(box, "completion for tag %u requester %02x:%02x.%u that no read of ours waits for%s",
			    t->tag, SOFTEE_BDF_BUS(t->requester), SOFTEE_BDF_DEV(t->requester),
			    SOFTEE_BDF_FN(t->requester), tg->state == TAG_STALE ? " (late)" : "");
		return;
	}
	if (t->status != SOFTEE_TLP_CPL_SC) {
		/* UR, CA, CRS end the request: no more completions come for it. */
		if (j)
			read_finish(box, j, cpl_err(t->status));
		tag_release(box, tg, false);
		return;
	}
	want = tg->len - tg->got;
	la = t->lower_addr;
	if (t->kind != SOFTEE_TLP_CPLD || t->ep || t->byte_count != want ||
	    la != ((tg->addr + tg->got) & 0x7f)) {
		box->stats.cpl_malformed++;
		box_warn_rl(box, "completion for tag %u does not fit its read (%s%s, byte count %u of %u, "
			    "lower address 0x%02x)", t->tag, softee_tlp_kind_name(t->kind),
			    t->ep ? ", poisoned" : "", t->byte_count, want, la);
		if (j)
			read_finish(box, j, -EBADMSG);
		tag_release(box, tg, true);
		return;
	}
	room = 4u * t->len_dw - (la & 3);
	n = room < want ? room : want;
	/* Data beyond the last byte due, past the DW that holds it, is malformed too. */
	if (4u * t->len_dw > (((la & 3) + want + 3) & ~3u)) {
		box->stats.cpl_malformed++;
		if (j)
			read_finish(box, j, -EBADMSG);
		tag_release(box, tg, true);
		return;
	}
	if (j && !j->dead)
		memcpy(j->buf + tg->off + tg->got, t->data + (la & 3), n);
	tg->got += n;
	if (tg->got < tg->len)
		return;
	if (j && !j->dead) {
		j->done += tg->len;
		if (j->done == j->len)
			read_finish(box, j, 0);
	}
	tag_release(box, tg, false);
}

void box_timeouts(struct softee_box *box, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	unsigned int i;

	if (now < box->next_tag_deadline)
		return;
	for (i = 0; i < SOFTEE_BOX_MAX_TAGS; i++) {
		struct box_tag *tg = &box->tags[i];

		if (tg->state == TAG_FREE)
			continue;
		if (tg->deadline <= now) {
			if (tg->state == TAG_STALE) {
				tg->state = TAG_FREE;
				box->tags_busy--;
				continue;
			}
			box->stats.cpl_timeouts++;
			box_warn_rl(box, "completion timeout: tag %u, %u bytes at 0x%llx", i, tg->len,
				    (unsigned long long)tg->addr);
			if (tg->job)
				read_finish(box, tg->job, -ETIMEDOUT);
			tag_release(box, tg, true);
		}
		if (tg->state != TAG_FREE && tg->deadline < next)
			next = tg->deadline;
	}
	box->next_tag_deadline = next;
}

/* ---- a host goes away ---------------------------------------------------------------- */

/* Its session restarted: requests out to it may be lost, fail the reads now. */
void box_host_reset_reads(struct softee_box *box, struct box_host *h, int err)
{
	unsigned int i;

	for (i = 0; i < SOFTEE_BOX_MAX_TAGS; i++) {
		struct box_tag *tg = &box->tags[i];

		if (tg->state == TAG_FREE || tg->host != h)
			continue;
		if (tg->job)
			read_finish(box, tg->job, err);
		if (tg->state == TAG_BUSY)
			tag_release(box, tg, true);
	}
}

/* Its session ended: drop its queue, fail its reads, free its tags. */
void box_host_down(struct softee_box *box, struct box_host *h, int err)
{
	struct box_job *j;
	unsigned int i;

	while ((j = h->head)) {
		q_unlink(h, NULL, j);
		if (j->kind == JOB_READ) {
			read_finish(box, j, err);
			job_put(j);
		} else {
			box->stats.tx_dropped++;
			job_free(j);
		}
	}
	for (i = 0; i < SOFTEE_BOX_MAX_TAGS; i++) {
		struct box_tag *tg = &box->tags[i];

		if (tg->state == TAG_FREE || tg->host != h)
			continue;
		if (tg->job)
			read_finish(box, tg->job, err);
		/* A new session never carries the old one's completions. */
		if (tg->state == TAG_STALE)
			tg->job = NULL;
		tg->state = TAG_BUSY;
		tag_release(box, tg, false);
	}
}

void box_dma_fini(struct softee_box *box)
{
	unsigned int i;

	for (i = 0; i < box->nep; i++)
		softee_box_dma_cancel(box, box->ep[i]);
	for (i = 0; i < SOFTEE_LIVENESS_MAX_PEERS; i++)
		box_host_down(box, &box->hosts[i], -ENOTCONN);
	box_run_callbacks(box);
}
