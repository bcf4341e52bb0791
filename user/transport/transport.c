// SPDX-License-Identifier: GPL-2.0
/*
 * The transport (softee/transport.h): sessions of Go-Back-N frames of
 * packed TLPs, paced per peer, over one link; heartbeats and the peer
 * table from liveness.c.
 *
 * Per peer: a byte queue of TLPs not yet in a frame ([u16 len][TLP], a
 * 0xffff marker where the writer wrapped) and a ring of built frames,
 * indexed by sequence number, that Go-Back-N sends and sends again.  A
 * frame's ack, flags and timestamps are written (and its CRC computed) each
 * time it goes out.  Control frames (acks, heartbeats, resets) are built
 * in a scratch area and sent at the end of a poll.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <softee/prng.h>
#include <softee/tlp.h>
#include <softee/transport.h>

#define TS_RECENT_MAX_AGE_NS	1000000000ULL	/* 1 s: half a timestamp lap is 2.1 s */
#define CTL_MAX			64	/* control frames per flush */
#define RX_BURSTS		8	/* receive bursts per poll at most (in rx_chunk calls) */
#define TX_BURSTS		8	/* send bursts per peer per poll at most */
#define RESET_GAP_NS		1000000	/* at most one RESYNC per peer per ms */
#define Q_WRAP			0xffff

struct peer_priv {
	struct softee_peer pub;
	bool alloc;
	uint8_t *frames;		/* slots * slot_size */
	uint32_t *flen;			/* frame length per slot */
	uint16_t *ftlps;		/* TLPs per slot */
	uint32_t *fts;			/* when each frame last went out (its tsval) */
	uint32_t slots_mask;
	uint8_t *q;			/* TLP queue */
	uint32_t q_cap, q_rd, q_wr, q_used;
	uint32_t ts_recent;		/* the peer's latest timestamp */
	uint64_t ts_recent_at;		/* when it arrived (our clock) */
	bool ts_valid;
	uint64_t last_resync_ns;
	bool resync_sent;
};

struct softee_transport {
	struct softee_transport_cfg cfg;
	struct softee_netdev *nd;
	uint8_t mac[SOFTEE_ETH_ALEN];
	uint32_t mtu;
	uint32_t slot_size;		/* largest frame */
	uint32_t payload_max;		/* TLP bytes per frame */
	uint32_t rx_chunk;		/* frames per receive call: the gbn's ack_every, at most a burst */
	uint32_t slots;			/* frame ring per peer: power of two >= window */
	uint32_t max_peers;
	struct softee_liveness live;
	struct peer_priv *peers;
	struct softee_prng rng;
	struct softee_transport_stats stats;
	struct softee_frame_stats fstats;
	uint64_t now;
	bool now_stale;			/* poll_wait: read the clock at the first frame */
	bool in_rx;			/* inside the link's rx_burst: never call tx_burst */
	unsigned int rr;		/* round robin over peers */
	/*
	 * The peers with a session, in no order: what every poll walks
	 * (walking all max_peers slots on each poll was most of an idle
	 * poll's cost).
	 */
	uint16_t *active;
	unsigned int nactive;
	/*
	 * No peer can be lost before this (the earliest aging deadline when
	 * last computed; frames only push deadlines later, a new peer sets
	 * it back to 0): liveness walks its table only then.
	 */
	uint64_t live_dl_ns;
	uint32_t hb_seq;
	uint8_t *ctl;			/* CTL_MAX frames */
	struct softee_txframe ctlv[CTL_MAX];
	struct peer_priv *ctl_acker[CTL_MAX];	/* an ack's peer, else NULL */
	bool ctl_nak[CTL_MAX];			/* ... and whether it said NAK */
	unsigned int nctl;
	struct softee_txframe *txv;
	uint32_t *txseq;
	int err;			/* from the link, for poll's return */
};

#define CNT(t, pp, f, n) do {					\
	(t)->stats.f += (n);					\
	if (pp)							\
		(pp)->pub.stats.f += (n);			\
} while (0)

static const uint8_t bcast_mac[SOFTEE_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

const char *softee_transport_event_name(enum softee_transport_event ev)
{
	switch (ev) {
	case SOFTEE_TEV_PEER_UP: return "peer_up";
	case SOFTEE_TEV_PEER_DOWN: return "peer_down";
	case SOFTEE_TEV_GROUP_CHANGED: return "group_changed";
	case SOFTEE_TEV_SESSION_RESET: return "session_reset";
	}
	return "?";
}

static struct peer_priv *to_priv(struct softee_peer *p)
{
	return (struct peer_priv *)p;
}

static uint16_t cur_group(const struct softee_transport *t)
{
	return t->live.cfg.group;
}

/* ---- the TLP queue ------------------------------------------------------ */

static int q_push(struct peer_priv *pp, const void *tlp, uint32_t len)
{
	uint32_t need = 2 + len, at;

	if (!pp->q_used)
		pp->q_rd = pp->q_wr = 0;
	if (pp->q_wr >= pp->q_rd && !(pp->q_used && pp->q_wr == pp->q_rd)) {
		if (pp->q_cap - pp->q_wr >= need) {
			at = pp->q_wr;
		} else if (pp->q_rd >= need) {
			uint32_t waste = pp->q_cap - pp->q_wr;

			if (waste >= 2) {
				pp->q[pp->q_wr] = Q_WRAP >> 8;
				pp->q[pp->q_wr + 1] = Q_WRAP & 0xff;
			}
			pp->q_used += waste;
			at = 0;
		} else {
			return -EAGAIN;
		}
	} else if (pp->q_rd - pp->q_wr >= need) {
		at = pp->q_wr;
	} else {
		return -EAGAIN;
	}
	pp->q[at] = len >> 8;
	pp->q[at + 1] = len & 0xff;
	memcpy(pp->q + at + 2, tlp, len);
	pp->q_wr = at + need;
	pp->q_used += need;
	pp->pub.txq_tlps++;
	pp->pub.txq_bytes += len;
	return 0;
}

static bool q_peek(struct peer_priv *pp, const uint8_t **tlp, uint32_t *len)
{
	uint32_t l;

	if (!pp->q_used)
		return false;
	if (pp->q_cap - pp->q_rd < 2 ||
	    (pp->q[pp->q_rd] << 8 | pp->q[pp->q_rd + 1]) == Q_WRAP) {
		pp->q_used -= pp->q_cap - pp->q_rd;
		pp->q_rd = 0;
		if (!pp->q_used)
			return false;
	}
	l = pp->q[pp->q_rd] << 8 | pp->q[pp->q_rd + 1];
	*tlp = pp->q + pp->q_rd + 2;
	*len = l;
	return true;
}

static void q_pop(struct peer_priv *pp, uint32_t len)
{
	pp->q_rd += 2 + len;
	pp->q_used -= 2 + len;
	pp->pub.txq_tlps--;
	pp->pub.txq_bytes -= len;
}

static void q_clear(struct peer_priv *pp)
{
	pp->q_rd = pp->q_wr = pp->q_used = 0;
	pp->pub.txq_tlps = 0;
	pp->pub.txq_bytes = 0;
}

/* ---- control frames ------------------------------------------------------ */

static void ctl_flush(struct softee_transport *t)
{
	int ret;

	if (!t->nctl)
		return;
	ret = softee_netdev_tx(t->nd, t->ctlv, t->nctl);
	if (ret < 0) {
		t->err = ret;
		ret = 0;
	}
	if ((unsigned int)ret < t->nctl)
		t->stats.tx_busy += t->nctl - ret;
	/*
	 * An ack the link refused goes again an ack delay later (not at
	 * once: a link that keeps refusing would make every poll busy): the
	 * peer would otherwise wait for its probe or its timeout.  (A heartbeat
	 * comes again anyway; a reset is answered again if still needed.)
	 */
	for (; (unsigned int)ret < t->nctl; ret++) {
		struct peer_priv *pp = t->ctl_acker[ret];

		if (pp && pp->pub.session)
			softee_gbn_ack_again(&pp->pub.gbn, t->ctl_nak[ret], t->now);
	}
	t->nctl = 0;
}

static void frame_hdr(const struct softee_transport *t, struct softee_frame_hdr *h,
		      const uint8_t *dst, uint8_t type)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->dst, dst, SOFTEE_ETH_ALEN);
	memcpy(h->src, t->mac, SOFTEE_ETH_ALEN);
	h->vlan = t->cfg.vlan;
	h->pcp = t->cfg.vlan_pcp;
	h->ethertype = t->cfg.ethertype;
	h->type = type;
	h->group = cur_group(t);
}

/* Queue a finished control frame of b for the end of the poll. */
static void ctl_done(struct softee_transport *t, struct softee_frame_build *b,
		     struct peer_priv *pp)
{
	uint32_t len = softee_frame_finish(b);

	t->ctlv[t->nctl].data = b->buf;
	t->ctlv[t->nctl].len = len;
	t->ctl_acker[t->nctl] = NULL;
	t->nctl++;
	CNT(t, pp, tx_frames, 1);
	CNT(t, pp, tx_bytes, len);
	CNT(t, pp, tx_wire_bytes, softee_wire_bytes(len));
}

/* Room for one more control frame, or NULL (full while receiving: counted as busy). */
static uint8_t *ctl_buf(struct softee_transport *t)
{
	if (t->nctl == CTL_MAX) {
		if (t->in_rx) {
			t->stats.tx_busy++;
			return NULL;
		}
		ctl_flush(t);
	}
	return t->ctl + (size_t)t->nctl * t->slot_size;
}

/*
 * The timestamp echo: the peer's newest timestamp, advanced by the time we
 * held it (a delayed ack, or a piggyback waiting for data), at most our
 * ack_delay_ns.  The peer's round-trip sample, now minus the echo, is then
 * the path's delay and not our ack policy's: at a low rate every ack is a
 * delayed one, and a sample that counted up to ack_delay_ns of holding
 * would read as queueing and cut the rate further, without end, whenever
 * the target delay is under it.  A longer hold is no policy of ours but a
 * late poll (a descheduled process): that stays in the sample, as QUIC
 * caps its ack delay at max_ack_delay, so that the peer's retransmission
 * timer still covers it.  Only differences of one clock are added, so the
 * two clocks need not agree.
 */
static uint32_t ts_echo(const struct softee_transport *t, const struct peer_priv *pp)
{
	uint64_t held;

	if (!pp->ts_valid)
		return 0;
	held = t->now - pp->ts_recent_at;
	if (held > pp->pub.gbn.cfg.ack_delay_ns)
		held = pp->pub.gbn.cfg.ack_delay_ns;
	return pp->ts_recent + (uint32_t)held;
}

static void send_ack(struct softee_transport *t, struct peer_priv *pp)
{
	struct softee_gbn *g = &pp->pub.gbn;
	struct softee_frame_build b;
	struct softee_frame_hdr h;
	uint8_t *buf = ctl_buf(t);

	if (!buf)
		return;
	frame_hdr(t, &h, pp->pub.live->mac, SOFTEE_FRAME_ACK);
	h.flags = SOFTEE_FRAME_F_ACK | (g->nak ? SOFTEE_FRAME_F_NAK : 0) |
		  (pp->ts_valid ? SOFTEE_FRAME_F_TSECR : 0);
	h.seq = g->nxt;
	h.ack = softee_gbn_ack_value(g);
	h.tsval = (uint32_t)t->now;
	h.tsecr = ts_echo(t, pp);
	softee_frame_begin(&b, buf, t->slot_size, &h);
	ctl_done(t, &b, pp);
	t->ctl_acker[t->nctl - 1] = pp;		/* to arm again if the link refuses it */
	t->ctl_nak[t->nctl - 1] = g->nak;
	softee_gbn_ack_sent(g);
	CNT(t, pp, tx_acks, 1);
}

static void send_reset(struct softee_transport *t, struct peer_priv *pp, uint8_t reason,
		       uint32_t seq)
{
	uint8_t body[SOFTEE_RESET_LEN] = { reason }, *buf = ctl_buf(t);
	struct softee_frame_build b;
	struct softee_frame_hdr h;

	if (!buf)
		return;
	frame_hdr(t, &h, pp->pub.live->mac, SOFTEE_FRAME_RESET);
	h.ack = seq;
	h.tsval = (uint32_t)t->now;
	softee_frame_begin(&b, buf, t->slot_size, &h);
	softee_frame_add_bytes(&b, body, sizeof(body));
	ctl_done(t, &b, pp);
	CNT(t, pp, tx_resets, 1);
}

static void send_heartbeat(struct softee_transport *t)
{
	uint8_t body[SOFTEE_HB_LEN], *buf = ctl_buf(t);
	struct softee_frame_build b;
	struct softee_frame_hdr h;
	struct softee_frame_hb hb;

	if (!buf)
		return;
	softee_liveness_hb_body(&t->live, &hb);
	softee_frame_hb_put(body, &hb);
	frame_hdr(t, &h, bcast_mac, SOFTEE_FRAME_HEARTBEAT);
	h.seq = t->hb_seq++;
	h.tsval = (uint32_t)t->now;
	softee_frame_begin(&b, buf, t->slot_size, &h);
	softee_frame_add_bytes(&b, body, sizeof(body));
	ctl_done(t, &b, NULL);
	t->stats.tx_heartbeats++;
}

/* ---- sessions ------------------------------------------------------------ */

static uint8_t *slot_of(struct softee_transport *t, struct peer_priv *pp, uint32_t seq)
{
	return pp->frames + (size_t)(seq & pp->slots_mask) * t->slot_size;
}

static int peer_alloc(struct softee_transport *t, struct peer_priv *pp)
{
	if (pp->alloc)
		return 0;
	pp->frames = malloc((size_t)t->slots * t->slot_size);
	pp->flen = calloc(t->slots, sizeof(*pp->flen));
	pp->ftlps = calloc(t->slots, sizeof(*pp->ftlps));
	pp->fts = calloc(t->slots, sizeof(*pp->fts));
	pp->q_cap = t->cfg.txq_bytes;
	pp->q = malloc(pp->q_cap);
	if (!pp->frames || !pp->flen || !pp->ftlps || !pp->fts || !pp->q) {
		free(pp->frames);
		free(pp->flen);
		free(pp->ftlps);
		free(pp->fts);
		free(pp->q);
		pp->frames = NULL;
		pp->flen = NULL;
		pp->ftlps = NULL;
		pp->fts = NULL;
		pp->q = NULL;
		return -ENOMEM;
	}
	pp->slots_mask = t->slots - 1;
	pp->alloc = true;
	return 0;
}

static uint32_t new_isn(struct softee_transport *t)
{
	return t->cfg.fixed_isn ? t->cfg.isn : (uint32_t)softee_prng_next(&t->rng);
}

/* TLPs in the frames [from, to) of our stream. */
static uint64_t tlps_in(struct softee_transport *t, struct peer_priv *pp, uint32_t from,
			uint32_t to)
{
	struct softee_gbn *g = &pp->pub.gbn;
	uint64_t n = 0;
	uint32_t s;

	(void)t;
	for (s = from; s != to; s = (s + 1) & g->mask)
		n += pp->ftlps[s & pp->slots_mask];
	return n;
}

static void session_open(struct softee_transport *t, struct peer_priv *pp)
{
	if (peer_alloc(t, pp))
		return;		/* stays without a session: sends fail with -ENOTCONN */
	softee_gbn_init(&pp->pub.gbn, &t->cfg.gbn, new_isn(t));	/* checked at create */
	softee_ratectl_init(&pp->pub.rc, &t->cfg.rate, t->now);
	q_clear(pp);
	pp->ts_valid = false;
	pp->resync_sent = false;
	pp->pub.session = true;
	t->active[t->nactive++] = (uint16_t)pp->pub.idx;
}

static void session_close(struct softee_transport *t, struct peer_priv *pp)
{
	struct softee_gbn *g = &pp->pub.gbn;
	unsigned int i;
	uint64_t lost;

	if (!pp->pub.session)
		return;
	lost = pp->pub.txq_tlps + tlps_in(t, pp, g->una, g->nxt);
	CNT(t, pp, tlps_dropped, lost);
	q_clear(pp);
	softee_gbn_reset_tx(g, 0);
	softee_gbn_reset_rx(g);
	pp->pub.session = false;
	for (i = 0; i < t->nactive; i++)
		if (t->active[i] == pp->pub.idx) {
			t->active[i] = t->active[--t->nactive];
			break;
		}
}

/* The peer lost our stream: drop what is in flight, start a new stream. */
static void session_reset_tx(struct softee_transport *t, struct peer_priv *pp)
{
	struct softee_gbn *g = &pp->pub.gbn;

	CNT(t, pp, tlps_dropped, tlps_in(t, pp, g->una, g->nxt));
	CNT(t, pp, session_resets, 1);
	softee_gbn_reset_tx(g, new_isn(t));
	if (t->cfg.event)
		t->cfg.event(t->cfg.opaque, &pp->pub, SOFTEE_TEV_SESSION_RESET);
}

static void on_live_event(void *opaque, enum softee_liveness_event ev, int idx,
			  const struct softee_liveness_peer *lp)
{
	struct softee_transport *t = opaque;
	struct peer_priv *pp = idx >= 0 ? &t->peers[idx] : NULL;

	switch (ev) {
	case SOFTEE_EV_PEER_UP:
		t->live_dl_ns = 0;	/* a new aging deadline: look at the table again */
		session_open(t, pp);
		/* greet a new peer at once, so that it learns us before our data */
		if (!lp->is_static && !t->cfg.no_heartbeats)
			softee_liveness_hb_soon(&t->live, t->now);
		break;
	case SOFTEE_EV_PEER_DOWN:
		if (pp->pub.session && !lp->is_static) {
			if (lp->down_reason == SOFTEE_DOWN_GROUP_CHANGE)
				send_reset(t, pp, SOFTEE_RESET_LEAVE, 0);
			else if (lp->down_reason == SOFTEE_DOWN_TIMEOUT ||
				 lp->down_reason == SOFTEE_DOWN_BROKEN)
				send_reset(t, pp, SOFTEE_RESET_RESYNC, 0);
		}
		session_close(t, pp);
		break;
	case SOFTEE_EV_GROUP_CHANGED:
		break;
	}
	if (t->cfg.event)
		t->cfg.event(t->cfg.opaque, pp ? &pp->pub : NULL, (enum softee_transport_event)ev);
}

/* ---- receive ------------------------------------------------------------- */

static void rx_ack(struct softee_transport *t, struct peer_priv *pp,
		   const struct softee_frame_hdr *h)
{
	struct softee_gbn *g = &pp->pub.gbn;
	uint64_t fr = g->stats.fast_retrans, da = g->stats.dupacks;
	enum softee_gbn_nak nak = SOFTEE_GBN_NAK_NONE;
	uint32_t old_una = g->una, rtt;
	int freed;

	/*
	 * A NAK names the frame the peer lacks: the ack, una once applied.
	 * It is news only if the peer got a frame we sent after our last send
	 * of that one.  The frames of one poll share a timestamp, and its echo
	 * is the newest the peer has.  For una, an echo of its own poll will
	 * do: una goes first in a poll that resends it.  For a later frame,
	 * the echo may be of the frames in front of it in that poll, which
	 * the ack itself accounts for: only a later poll proves it lost.
	 */
	if (h->flags & SOFTEE_FRAME_F_NAK) {
		uint32_t lost = h->ack & g->mask;
		int32_t after;

		if (!(h->flags & SOFTEE_FRAME_F_TSECR) ||
		    softee_gbn_dist(g, lost, g->una) >= softee_gbn_dist(g, g->high, g->una)) {
			nak = SOFTEE_GBN_NAK_UNKNOWN;
		} else {
			after = (int32_t)(h->tsecr - pp->fts[lost & pp->slots_mask]);
			nak = after > 0 || (after == 0 && lost == g->una) ? SOFTEE_GBN_NAK_FRESH
									 : SOFTEE_GBN_NAK_STALE;
		}
	}
	freed = softee_gbn_on_ack(g, h->ack, nak, t->now);
	CNT(t, pp, fast_retrans, g->stats.fast_retrans - fr);
	CNT(t, pp, dupacks, g->stats.dupacks - da);
	if (freed <= 0)
		return;
	CNT(t, pp, tlps_acked, tlps_in(t, pp, old_una, g->una));
	if (h->flags & SOFTEE_FRAME_F_TSECR) {
		rtt = (uint32_t)t->now - h->tsecr;
		if (rtt < 0x80000000u) {
			softee_gbn_rtt_sample(g, rtt);
			softee_ratectl_rtt_sample(&pp->pub.rc, rtt, t->now);
		}
	}
}

static void rx_data(struct softee_transport *t, struct peer_priv *pp, const struct softee_frame *f)
{
	struct softee_gbn *g = &pp->pub.gbn;
	const uint8_t *tlp;
	uint32_t off = 0, len;

	switch (softee_gbn_on_data(g, f->h.seq, f->h.flags & SOFTEE_FRAME_F_SYN, t->now)) {
	case SOFTEE_GBN_ACCEPT:
		pp->resync_sent = false;
		while (softee_frame_next_tlp(f, &off, &tlp, &len)) {
			CNT(t, pp, rx_tlps, 1);
			if (t->cfg.rx)
				t->cfg.rx(t->cfg.opaque, &pp->pub, tlp, len);
			if (!pp->pub.session)
				return;		/* the owner cannot end it here, but be safe */
		}
		break;
	case SOFTEE_GBN_OOO:
		CNT(t, pp, rx_ooo_drops, 1);
		break;
	case SOFTEE_GBN_DUP:
		CNT(t, pp, rx_dup_drops, 1);
		break;
	case SOFTEE_GBN_NOSTREAM:
		CNT(t, pp, rx_nostream_drops, 1);
		/* We have no stream of its: tell it, so that it starts a new one. */
		if (!pp->resync_sent || t->now - pp->last_resync_ns >= RESET_GAP_NS) {
			send_reset(t, pp, SOFTEE_RESET_RESYNC, f->h.seq);
			pp->resync_sent = true;
			pp->last_resync_ns = t->now;
		}
		break;
	}
}

static void rx_reset(struct softee_transport *t, struct peer_priv *pp,
		     const struct softee_frame *f)
{
	struct softee_gbn *g = &pp->pub.gbn;
	uint32_t s = f->h.ack & g->mask;

	CNT(t, pp, rx_resets, 1);
	switch (f->payload[0]) {
	case SOFTEE_RESET_LEAVE:
		softee_liveness_peer_down(&t->live, pp->pub.idx, SOFTEE_DOWN_LEAVE);
		break;
	case SOFTEE_RESET_RESYNC:
		/*
		 * Only for a frame of ours in flight, and once it had acked
		 * something: before that, our SYN may just have been lost (we
		 * send it again), and a stale reset names an old frame.
		 */
		if (g->acked_any &&
		    softee_gbn_dist(g, s, g->una) < softee_gbn_dist(g, g->high, g->una))
			session_reset_tx(t, pp);
		break;
	}
}

static void rx_frame(void *opaque, const uint8_t *buf, uint32_t len)
{
	struct softee_transport *t = opaque;
	struct softee_frame_hb hb;
	struct softee_frame f;
	struct peer_priv *pp;
	int ret, idx;

	if (t->now_stale) {
		t->now = t->cfg.clock(t->cfg.opaque);
		t->now_stale = false;
	}
	t->stats.rx_frames++;
	t->stats.rx_bytes += len;
	ret = softee_frame_parse(&f, buf, len, t->cfg.ethertype, &t->fstats);
	if (ret == -SOFTEE_FRAME_ERR_ETHERTYPE) {
		t->stats.rx_not_ours++;
		return;
	}
	if (ret) {
		t->stats.rx_bad++;
		if (ret == -SOFTEE_FRAME_ERR_CRC)
			t->stats.rx_crc_errors++;
		return;
	}
	if (!(f.h.dst[0] & 1) && memcmp(f.h.dst, t->mac, SOFTEE_ETH_ALEN)) {
		t->stats.rx_not_for_us++;
		return;
	}
	if (!memcmp(f.h.src, t->mac, SOFTEE_ETH_ALEN)) {
		t->stats.rx_self++;
		return;
	}
	if (f.h.type == SOFTEE_FRAME_HEARTBEAT) {
		t->stats.rx_heartbeats++;
		softee_frame_hb_get(&hb, f.payload, f.payload_len);
		if (softee_liveness_on_hb(&t->live, f.h.src, f.h.group, &hb, t->now) == -EXDEV)
			t->stats.rx_other_group++;
		t->live_dl_ns = 0;	/* its period may have changed: age the table anew */
		return;
	}
	if (f.h.group != cur_group(t)) {
		t->stats.rx_other_group++;
		return;
	}
	idx = softee_liveness_find(&t->live, f.h.src);
	if (idx < 0 || !t->peers[idx].pub.session) {
		t->stats.rx_unknown_peer++;
		return;
	}
	pp = &t->peers[idx];
	/* Any valid frame of its session says it is alive (deadlines only move later). */
	t->live.peers[idx].last_seen_ns = t->now;
	pp->pub.stats.rx_frames++;
	pp->pub.stats.rx_bytes += len;
	if (f.h.type == SOFTEE_FRAME_RESET) {
		rx_reset(t, pp, &f);
		return;
	}
	/*
	 * The frames of one poll of the peer share a timestamp and may reach us
	 * over several of our polls: the time held counts from the last of them.
	 * Timestamps are 32-bit nanoseconds, half a lap 2.1 s: after a quiet
	 * spell the newest one may compare as older than the one held, which
	 * is then replaced anyway (else every echo would be stale until the
	 * peer's clock came round again: no RTT sample, every NAK fresh).
	 */
	if (!pp->ts_valid || !softee_seq_gt(pp->ts_recent, f.h.tsval) ||
	    t->now - pp->ts_recent_at > TS_RECENT_MAX_AGE_NS) {
		pp->ts_recent = f.h.tsval;
		pp->ts_recent_at = t->now;
		pp->ts_valid = true;
	}
	if (f.h.flags & SOFTEE_FRAME_F_ACK)
		rx_ack(t, pp, &f.h);
	if (f.h.type == SOFTEE_FRAME_DATA) {
		CNT(t, pp, rx_data, 1);
		rx_data(t, pp, &f);
	} else {
		CNT(t, pp, rx_acks, 1);
	}
}

/* ---- send ---------------------------------------------------------------- */

/* Pack queued TLPs into the frame of a new sequence number. */
static void build_frame(struct softee_transport *t, struct peer_priv *pp)
{
	struct softee_gbn *g = &pp->pub.gbn;
	uint32_t seq = softee_gbn_new_seq(g), len, slot = seq & pp->slots_mask;
	struct softee_frame_build b;
	struct softee_frame_hdr h;
	const uint8_t *tlp;
	uint64_t bytes = 0;

	frame_hdr(t, &h, pp->pub.live->mac, SOFTEE_FRAME_DATA);
	h.seq = seq;
	softee_frame_begin(&b, slot_of(t, pp, seq), t->slot_size, &h);
	while (q_peek(pp, &tlp, &len)) {
		if (softee_frame_add_tlp(&b, tlp, len))
			break;
		bytes += len;
		q_pop(pp, len);
	}
	pp->flen[slot] = softee_frame_close(&b);	/* stamp_data seals it */
	pp->ftlps[slot] = b.count;
	CNT(t, pp, tx_tlps, b.count);
	CNT(t, pp, tx_tlp_bytes, bytes);
}

/*
 * Rewrite a data frame's flags, ack and timestamps for this send; true
 * when it carries our ack (softee_gbn_ack_sent once it is out).
 */
static bool stamp_data(struct softee_transport *t, struct peer_priv *pp, uint8_t *fr,
		       uint32_t len, uint32_t seq)
{
	struct softee_gbn *g = &pp->pub.gbn;
	uint8_t flags = softee_gbn_tx_flags(g, seq);

	if (g->rx_open)
		flags |= SOFTEE_FRAME_F_ACK | (g->nak ? SOFTEE_FRAME_F_NAK : 0);
	if (pp->ts_valid)
		flags |= SOFTEE_FRAME_F_TSECR;
	softee_frame_restamp(fr, len, flags, g->rx_open ? softee_gbn_ack_value(g) : 0,
			     (uint32_t)t->now, ts_echo(t, pp));
	return g->rx_open;
}

/* Data frame seq of len bytes went out: its send time and the counters. */
static void data_sent(struct softee_transport *t, struct peer_priv *pp, uint32_t seq,
		      uint32_t len)
{
	pp->fts[seq & pp->slots_mask] = (uint32_t)t->now;
	CNT(t, pp, tx_frames, 1);
	CNT(t, pp, tx_data, 1);
	CNT(t, pp, tx_bytes, len);
	CNT(t, pp, tx_wire_bytes, softee_wire_bytes(len));
}

/* The tail probe (SOFTEE_GBN_T_PROBE): the newest frame in flight, again. */
static void send_probe(struct softee_transport *t, struct peer_priv *pp)
{
	struct softee_gbn *g = &pp->pub.gbn;
	uint32_t seq = (g->high - 1) & g->mask;
	uint8_t *fr = slot_of(t, pp, seq);
	struct softee_txframe f = { .data = fr, .len = pp->flen[seq & pp->slots_mask] };
	bool piggy = stamp_data(t, pp, fr, f.len, seq);
	int ret = softee_netdev_tx(t->nd, &f, 1);

	if (ret != 1) {
		if (ret < 0)
			t->err = ret;
		else
			CNT(t, pp, tx_busy, 1);
		return;
	}
	if (piggy)
		softee_gbn_ack_sent(g);
	softee_ratectl_sent(&pp->pub.rc, softee_wire_bytes(f.len));
	CNT(t, pp, probes, 1);
	CNT(t, pp, tx_retrans, 1);
	data_sent(t, pp, seq, f.len);
}

static int peer_tx(struct softee_transport *t, struct peer_priv *pp)
{
	struct softee_gbn *g = &pp->pub.gbn;
	unsigned int burst = t->cfg.burst, n, i, b;
	uint32_t cursor, len, wire, seq;
	bool piggy;
	uint8_t *fr;
	int ret, sent = 0;

	for (b = 0; b < TX_BURSTS; b++) {
		n = 0;
		piggy = false;
		cursor = g->tx;
		while (n < burst) {
			if (cursor == g->nxt) {
				if (!pp->q_used)
					break;
				if (!softee_gbn_window_open(g)) {
					softee_ratectl_blocked(&pp->pub.rc);
					break;
				}
				build_frame(t, pp);
			}
			len = pp->flen[cursor & pp->slots_mask];
			wire = softee_wire_bytes(len);
			if (!softee_ratectl_may_send(&pp->pub.rc, wire, t->now)) {
				CNT(t, pp, tx_paced, 1);
				break;
			}
			fr = slot_of(t, pp, cursor);
			if (stamp_data(t, pp, fr, len, cursor))
				piggy = true;
			t->txv[n].data = fr;
			t->txv[n].len = len;
			t->txseq[n] = cursor;
			n++;
			softee_ratectl_sent(&pp->pub.rc, wire);
			cursor = (cursor + 1) & g->mask;
		}
		if (!n)
			break;
		ret = softee_netdev_tx(t->nd, t->txv, n);
		if (ret < 0) {
			t->err = ret;
			ret = 0;
		}
		for (i = 0; i < (unsigned int)ret; i++) {
			seq = t->txseq[i];
			if (softee_gbn_dist(g, seq, g->una) < softee_gbn_dist(g, g->high, g->una))
				CNT(t, pp, tx_retrans, 1);
			softee_gbn_sent(g, seq, t->now);
			data_sent(t, pp, seq, t->txv[i].len);
		}
		sent += ret;
		if (ret > 0 && piggy)
			softee_gbn_ack_sent(g);
		if ((unsigned int)ret < n) {
			CNT(t, pp, tx_busy, n - ret);
			softee_ratectl_blocked(&pp->pub.rc);
			break;
		}
		if (n < burst)
			break;
	}
	return sent;
}

/* ---- poll ------------------------------------------------------------------ */

/* A copy of the active list: what a walk visits, though sessions may end on the way. */
static unsigned int active_snapshot(const struct softee_transport *t, uint16_t *idx)
{
	memcpy(idx, t->active, t->nactive * sizeof(*idx));
	return t->nactive;
}

static void run_timers(struct softee_transport *t)
{
	uint16_t idx[SOFTEE_LIVENESS_MAX_PEERS];
	unsigned int i, n, bits;

	if (t->now >= t->live_dl_ns) {
		softee_liveness_tick(&t->live, t->now);
		t->live_dl_ns = softee_liveness_next_deadline(&t->live);
	}
	n = active_snapshot(t, idx);
	for (unsigned int k = 0; k < n; k++) {
		struct peer_priv *pp = &t->peers[idx[k]];
		struct softee_gbn *g = &pp->pub.gbn;

		i = idx[k];
		if (!pp->pub.session)
			continue;
		bits = softee_gbn_timers(g, t->now);
		if (bits & SOFTEE_GBN_T_RTO) {
			CNT(t, pp, timeouts, 1);
			softee_ratectl_timeout(&pp->pub.rc, t->now);
		}
		if (bits & SOFTEE_GBN_T_PROBE)
			send_probe(t, pp);
		if (bits & SOFTEE_GBN_T_BROKEN) {
			if (pp->pub.live->is_static)
				session_reset_tx(t, pp);
			else
				softee_liveness_peer_down(&t->live, i, SOFTEE_DOWN_BROKEN);
		}
	}
}

/*
 * The acks that are due (ack_every in-order frames, or a NAK) go out now,
 * between two receive calls, not at the end of the poll: a receiver that
 * is the bottleneck works through up to RX_BURSTS bursts in a poll, and
 * the sender, its window full, would wait for all of them.  Its round
 * trip, and the window it needs to keep the link busy, would grow with
 * the queue in front of the receiver, and so would what a loss costs:
 * everything queued behind the lost frame is sent again (on dpdk_bypass
 * at 1% loss, about 60 frames a loss, and 0.70 of the lossless goodput
 * instead of 0.80).
 */
static void acks_due(struct softee_transport *t)
{
	uint16_t idx[SOFTEE_LIVENESS_MAX_PEERS];
	unsigned int k, n = active_snapshot(t, idx);

	for (k = 0; k < n; k++) {
		struct peer_priv *pp = &t->peers[idx[k]];

		if (pp->pub.session && softee_gbn_ack_wanted(&pp->pub.gbn))
			send_ack(t, pp);
	}
	ctl_flush(t);
}

static int do_poll(struct softee_transport *t, uint32_t timeout_us)
{
	uint16_t idx[SOFTEE_LIVENESS_MAX_PEERS];
	unsigned int k, b, n, calls = RX_BURSTS * t->cfg.burst / t->rx_chunk;
	int ret, work = 0;

	t->err = 0;
	for (b = 0; b < calls; b++) {
		t->in_rx = true;
		ret = softee_netdev_rx(t->nd, t->rx_chunk, b ? 0 : timeout_us, rx_frame, t);
		t->in_rx = false;
		if (ret < 0) {
			t->err = ret;
			break;
		}
		work += ret;
		if ((unsigned int)ret < t->rx_chunk)
			break;
		acks_due(t);
	}
	if (t->now_stale || timeout_us) {
		t->now = t->cfg.clock(t->cfg.opaque);
		t->now_stale = false;
	}
	run_timers(t);
	if (!t->cfg.no_heartbeats && softee_liveness_hb_due(&t->live, t->now)) {
		send_heartbeat(t);
		work++;
	}
	n = active_snapshot(t, idx);
	for (k = 0; k < n; k++) {
		struct peer_priv *pp = &t->peers[idx[(t->rr + k) % n]];

		if (!pp->pub.session)
			continue;
		work += peer_tx(t, pp);
		if (softee_gbn_ack_wanted(&pp->pub.gbn)) {
			send_ack(t, pp);
			work++;
		}
	}
	t->rr++;
	ctl_flush(t);
	return t->err ? t->err : work;
}

int softee_transport_flush(struct softee_transport *t, uint64_t now_ns)
{
	uint16_t idx[SOFTEE_LIVENESS_MAX_PEERS];
	unsigned int k, n;
	int sent = 0;

	/*
	 * From an rx callback the link is inside its rx_burst; where each send
	 * burst is a system call, the poll's one burst is cheaper than many:
	 * the poll sends.
	 */
	if (t->in_rx || t->nd->tx_burst_syscall)
		return 0;
	if (now_ns > t->now)	/* never back: a pass may flush with a later clock than it polled */
		t->now = now_ns;
	t->now_stale = false;
	t->err = 0;
	n = active_snapshot(t, idx);
	for (k = 0; k < n; k++) {
		struct peer_priv *pp = &t->peers[idx[k]];

		if (pp->pub.session)
			sent += peer_tx(t, pp);
	}
	return t->err ? t->err : sent;
}

int softee_transport_poll(struct softee_transport *t, uint64_t now_ns)
{
	t->now = now_ns;
	t->now_stale = false;
	return do_poll(t, 0);
}

int softee_transport_poll_wait(struct softee_transport *t, uint32_t timeout_us)
{
	uint64_t now, dl;

	if (!t->cfg.clock)
		return -EINVAL;
	now = t->cfg.clock(t->cfg.opaque);
	dl = softee_transport_next_deadline(t, now);
	if (dl <= now)
		timeout_us = 0;
	else if ((dl - now) / 1000 < timeout_us)
		timeout_us = (dl - now) / 1000;
	t->now = now;
	t->now_stale = timeout_us != 0;
	return do_poll(t, timeout_us);
}

uint64_t softee_transport_next_deadline(const struct softee_transport *t, uint64_t now_ns)
{
	uint64_t d = softee_liveness_next_deadline(&t->live), x;
	unsigned int i;

	for (i = 0; i < t->nactive; i++) {
		const struct peer_priv *pp = &t->peers[t->active[i]];
		const struct softee_gbn *g = &pp->pub.gbn;

		if (!pp->pub.session)
			continue;
		x = softee_gbn_next_deadline(g);
		if (x < d)
			d = x;
		if (g->tx != g->nxt || (pp->q_used && softee_gbn_window_open(g))) {
			x = softee_ratectl_next_ns(&pp->pub.rc, now_ns);
			if (x < d)
				d = x;
		}
	}
	return d < now_ns ? now_ns : d;
}

/* ---- setup ------------------------------------------------------------------ */

int softee_transport_create(struct softee_transport **tp, const struct softee_transport_cfg *cfg,
			    uint64_t now_ns)
{
	struct softee_liveness_cfg lc = { 0 };
	struct softee_transport *t;
	struct softee_gbn g;
	struct softee_ratectl rc;
	uint64_t seed;
	uint32_t slots;
	unsigned int i;
	int ret;

	if (!cfg || !cfg->nd || !cfg->nd->ops)
		return -EINVAL;
	if (cfg->vlan && (cfg->group < 1 || cfg->group > 4094))
		return -EINVAL;
	ret = softee_gbn_init(&g, &cfg->gbn, 0);
	if (ret)
		return ret;
	ret = softee_ratectl_init(&rc, &cfg->rate, now_ns);
	if (ret)
		return ret;
	if (g.cfg.window > (1u << 16))
		return -EINVAL;		/* frames kept per peer: memory */

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cfg = *cfg;
	t->nd = cfg->nd;
	memcpy(t->mac, cfg->nd->mac, SOFTEE_ETH_ALEN);
	t->mtu = cfg->mtu ? cfg->mtu : cfg->nd->mtu;
	if (!t->mtu || t->mtu > cfg->nd->mtu)
		t->mtu = cfg->nd->mtu;
	ret = -EINVAL;
	if (t->mtu < SOFTEE_FRAME_MIN_MTU || t->mtu > SOFTEE_FRAME_MAX_MTU)
		goto err_free;
	if (!t->cfg.txq_bytes)
		t->cfg.txq_bytes = SOFTEE_TRANSPORT_DEF_TXQ;
	if (!t->cfg.burst)
		t->cfg.burst = SOFTEE_TRANSPORT_DEF_BURST;
	t->rx_chunk = g.cfg.ack_every < t->cfg.burst ? g.cfg.ack_every : t->cfg.burst;
	if (!t->cfg.ethertype)
		t->cfg.ethertype = SOFTEE_ETHERTYPE;
	if (!softee_ethertype_ok(t->cfg.ethertype))
		goto err_free;
	t->slot_size = softee_frame_max_len(t->mtu, cfg->vlan);
	t->payload_max = softee_frame_payload_max(t->mtu);
	if (t->cfg.txq_bytes < 2 * (t->payload_max + 2) || t->cfg.txq_bytes > (1u << 30))
		goto err_free;
	for (slots = 1; slots < g.cfg.window; slots <<= 1)
		;
	t->slots = slots;

	seed = cfg->seed;
	if (!seed && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = now_ns ^ (uintptr_t)t;
	softee_prng_seed(&t->rng, seed);

	lc.group = cfg->group;
	lc.role = cfg->role;
	lc.node_id = cfg->node_id;
	lc.incarnation = (uint32_t)softee_prng_next(&t->rng);
	lc.name = cfg->name;
	lc.period_ns = cfg->hb_period_ns;
	lc.miss_limit = cfg->hb_miss;
	ret = softee_liveness_init(&t->live, &lc, now_ns, on_live_event, t);
	if (ret)
		goto err_free;
	if (cfg->no_heartbeats)
		t->live.next_hb_ns = SOFTEE_GBN_NEVER;
	t->max_peers = t->live.cfg.max_peers;

	ret = -ENOMEM;
	t->peers = calloc(t->max_peers, sizeof(*t->peers));
	t->active = calloc(t->max_peers, sizeof(*t->active));
	t->ctl = malloc((size_t)CTL_MAX * t->slot_size);
	t->txv = calloc(t->cfg.burst, sizeof(*t->txv));
	t->txseq = calloc(t->cfg.burst, sizeof(*t->txseq));
	if (!t->peers || !t->active || !t->ctl || !t->txv || !t->txseq)
		goto err_free;
	for (i = 0; i < t->max_peers; i++) {
		t->peers[i].pub.t = t;
		t->peers[i].pub.idx = i;
		t->peers[i].pub.live = &t->live.peers[i];
	}
	t->now = now_ns;
	*tp = t;
	return 0;

err_free:
	free(t->peers);
	free(t->active);
	free(t->ctl);
	free(t->txv);
	free(t->txseq);
	free(t);
	return ret;
}

void softee_transport_destroy(struct softee_transport *t)
{
	unsigned int i;

	if (!t)
		return;
	for (i = 0; i < t->max_peers; i++) {
		free(t->peers[i].frames);
		free(t->peers[i].flen);
		free(t->peers[i].ftlps);
		free(t->peers[i].fts);
		free(t->peers[i].q);
	}
	free(t->peers);
	free(t->active);
	free(t->ctl);
	free(t->txv);
	free(t->txseq);
	free(t);
}

int softee_transport_send_tlp(struct softee_peer *p, const void *tlp, uint32_t len)
{
	struct peer_priv *pp = to_priv(p);
	struct softee_transport *t = p->t;
	int n;

	if (!p->session)
		return -ENOTCONN;
	n = softee_tlp_size(tlp, len);
	if (n < 0 || (uint32_t)n != len)
		return -EINVAL;
	if (len > t->payload_max)
		return -EMSGSIZE;
	if (q_push(pp, tlp, len)) {
		CNT(t, pp, txq_full, 1);
		return -EAGAIN;
	}
	return 0;
}

struct softee_peer *softee_transport_add_peer(struct softee_transport *t, const uint8_t *mac,
					      uint8_t role, uint64_t now_ns)
{
	int idx;

	t->now = now_ns;
	idx = softee_liveness_add_static(&t->live, mac, role, now_ns);
	if (idx < 0 || !t->peers[idx].pub.session)
		return NULL;
	return &t->peers[idx].pub;
}

struct softee_peer *softee_transport_find_peer(struct softee_transport *t, const uint8_t *mac)
{
	int idx = softee_liveness_find(&t->live, mac);

	return idx < 0 ? NULL : &t->peers[idx].pub;
}

struct softee_peer *softee_transport_peer(struct softee_transport *t, int idx)
{
	if (idx < 0 || (unsigned int)idx >= t->max_peers ||
	    t->live.peers[idx].state == SOFTEE_PEER_FREE)
		return NULL;
	return &t->peers[idx].pub;
}

unsigned int softee_transport_max_peers(const struct softee_transport *t)
{
	return t->max_peers;
}

int softee_transport_set_group(struct softee_transport *t, uint16_t group, uint64_t now_ns)
{
	if (t->cfg.vlan && (group < 1 || group > 4094))
		return -EINVAL;
	t->now = now_ns;
	t->err = 0;
	softee_liveness_set_group(&t->live, group, now_ns);
	ctl_flush(t);
	return t->err;
}

uint16_t softee_transport_group(const struct softee_transport *t)
{
	return cur_group(t);
}

void softee_transport_leave(struct softee_transport *t, uint64_t now_ns)
{
	unsigned int i;

	t->now = now_ns;
	for (i = 0; i < t->max_peers; i++)
		if (t->peers[i].pub.session && t->live.peers[i].state == SOFTEE_PEER_UP)
			send_reset(t, &t->peers[i], SOFTEE_RESET_LEAVE, 0);
	ctl_flush(t);
}

const struct softee_transport_stats *softee_transport_stats(const struct softee_transport *t)
{
	return &t->stats;
}

const struct softee_frame_stats *softee_transport_frame_stats(const struct softee_transport *t)
{
	return &t->fstats;
}

const struct softee_liveness *softee_transport_liveness(const struct softee_transport *t)
{
	return &t->live;
}

const uint8_t *softee_transport_mac(const struct softee_transport *t)
{
	return t->mac;
}

uint32_t softee_transport_frame_payload(const struct softee_transport *t)
{
	return t->payload_max;
}
