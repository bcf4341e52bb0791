/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The box's insides, shared by box.c (TLPs in), box_dma.c (TLPs out: the
 * per-host queues, tags, DMA) and box_ctl.c (the control commands).
 */
#ifndef _SOFTEE_BOX_PRIV_H
#define _SOFTEE_BOX_PRIV_H

#include <softee/box.h>
#include <softee/liveness.h>

enum box_job_kind {
	JOB_TLP = 1,	/* one encoded TLP: a completion, an MSI */
	JOB_WRITE,	/* a DMA write: MWr from a copy of the data */
	JOB_READ,	/* a DMA read: MRd, one tag each */
};

struct box_host;

/*
 * Something the box sends to a host, in the host's queue (FIFO) until it
 * has been handed whole to the transport.  A read leaves the queue when
 * its last MRd is sent and lives on until its tags come back.
 */
struct box_job {
	struct box_job *next;		/* in the host's queue */
	struct box_job *done_next;	/* in the box's list of callbacks to run */
	uint8_t kind;			/* enum box_job_kind */
	bool queued;			/* in the host's queue */
	bool dead;			/* read: failed or cancelled, buf is not ours any more */
	bool done_pending;		/* in the callback list */
	struct softee_endpoint *ep;	/* NULL for completions */
	struct box_host *host;
	uint16_t requester;
	uint64_t addr;			/* host address of byte 0 */
	uint32_t len;
	uint32_t issued;		/* bytes in requests sent */
	uint32_t done;			/* read: bytes completed */
	uint32_t inflight;		/* read: tags out */
	int err;			/* read: the first error */
	uint8_t *buf;			/* write: the box's copy; read: the caller's */
	softee_dma_done_fn cb;
	void *ctx;
	uint32_t cost;			/* bytes it counts in the backlog */
	uint32_t tlp_len;
	uint8_t tlp[];			/* JOB_TLP */
};

enum box_tag_state {
	TAG_FREE = 0,
	TAG_BUSY,	/* an MRd is out */
	TAG_STALE,	/* timed out: not reused until a late completion cannot come */
};

struct box_tag {
	uint8_t state;
	struct box_job *job;		/* NULL once the job is gone */
	struct box_host *host;
	uint16_t requester;
	uint64_t addr;			/* first byte requested */
	uint32_t len;
	uint32_t off;			/* where it goes in the job's buffer */
	uint32_t got;			/* bytes completed */
	uint64_t deadline;		/* BUSY: completion timeout; STALE: reuse */
};

struct box_host {
	struct softee_peer *peer;	/* NULL: slot unused */
	struct box_job *head, *tail;
	uint64_t *qmask, bit;		/* our bit in the box's hosts_queued */
	uint64_t backlog;		/* bytes queued */
	uint64_t jobs;
};

struct softee_box {
	struct softee_box_cfg cfg;
	struct softee_transport *t;
	uint64_t now;
	uint64_t start_ns;
	unsigned int nep;
	struct softee_endpoint *ep[SOFTEE_EP_MAX];
	struct box_host *owner[SOFTEE_EP_MAX];	/* the host each endpoint answers to */
	bool ep_busy;				/* an endpoint's poll asked for more */
	struct box_host hosts[SOFTEE_LIVENESS_MAX_PEERS];
	/* Hosts that may have jobs queued (set on append, cleared by box_drain_all). */
	uint64_t hosts_queued;
	struct box_tag tags[SOFTEE_BOX_MAX_TAGS];
	unsigned int tag_next;			/* where the search for a free tag starts */
	unsigned int tags_busy;			/* BUSY and STALE */
	uint64_t next_tag_deadline;
	struct box_job *done_head, *done_tail;	/* callbacks to run */
	struct softee_box_stats stats;
	/* Rate limit of the warnings about bad TLPs: tokens, refilled 10/s */
	uint64_t rl_stamp;
	uint32_t rl_tokens, rl_suppressed;
	uint8_t scratch[SOFTEE_TLP_MAX_SIZE];
};

/* box.c */
void box_warn_rl(struct softee_box *box, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct box_host *box_host_of(struct softee_box *box, struct softee_peer *p);
/* The host endpoint ep of this box answers to; NULL: none yet, or not ours. */
static inline struct box_host *box_ep_owner(const struct softee_box *box,
					    const struct softee_endpoint *ep)
{
	return ep->fn < box->nep && box->ep[ep->fn] == ep ? box->owner[ep->fn] : NULL;
}

/* box_dma.c */
int box_send(struct softee_box *box, struct box_host *h, const struct softee_tlp *t,
	     struct softee_endpoint *ep);
bool box_drain(struct softee_box *box, struct box_host *h);
void box_drain_all(struct softee_box *box);
void box_host_down(struct softee_box *box, struct box_host *h, int err);
void box_host_reset_reads(struct softee_box *box, struct box_host *h, int err);
void box_on_cpl(struct softee_box *box, struct box_host *h, const struct softee_tlp *t);
void box_timeouts(struct softee_box *box, uint64_t now);
void box_run_callbacks(struct softee_box *box);
void box_dma_fini(struct softee_box *box);

#endif /* _SOFTEE_BOX_PRIV_H */
