// SPDX-License-Identifier: GPL-2.0
/*
 * Go-Back-N sequence state (softee/gbn.h).
 */
#include <errno.h>
#include <string.h>

#include <softee/frame.h>
#include <softee/gbn.h>

#define DEF(x, d)	((x) ? (x) : (d))

int softee_gbn_init(struct softee_gbn *g, const struct softee_gbn_cfg *cfg, uint32_t isn)
{
	struct softee_gbn_cfg c = cfg ? *cfg : (struct softee_gbn_cfg){ 0 };

	c.window = DEF(c.window, SOFTEE_GBN_DEF_WINDOW);
	c.ack_every = DEF(c.ack_every, SOFTEE_GBN_DEF_ACK_EVERY);
	c.ack_delay_ns = DEF(c.ack_delay_ns, SOFTEE_GBN_DEF_ACK_DELAY_NS);
	c.dupack_thresh = DEF(c.dupack_thresh, SOFTEE_GBN_DEF_DUPACK);
	c.rto_init_ns = DEF(c.rto_init_ns, SOFTEE_GBN_DEF_RTO_INIT_NS);
	c.rto_min_ns = DEF(c.rto_min_ns, SOFTEE_GBN_DEF_RTO_MIN_NS);
	c.rto_max_ns = DEF(c.rto_max_ns, SOFTEE_GBN_DEF_RTO_MAX_NS);
	c.probe_min_ns = DEF(c.probe_min_ns, SOFTEE_GBN_DEF_PROBE_MIN_NS);
	c.seq_bits = DEF(c.seq_bits, 32);
	if (c.seq_bits < 4 || c.seq_bits > 32 || c.rto_min_ns > c.rto_max_ns)
		return -EINVAL;

	memset(g, 0, sizeof(*g));
	g->mask = c.seq_bits == 32 ? UINT32_MAX : (1u << c.seq_bits) - 1;
	g->half = 1u << (c.seq_bits - 1);
	/* More than half the space in flight: acks and frames of two laps look alike. */
	if (c.window > g->half && !c.unsafe_window)
		return -EINVAL;
	if (c.window > g->mask)
		return -EINVAL;
	g->cfg = c;
	softee_gbn_reset_tx(g, isn);
	softee_gbn_reset_rx(g);
	return 0;
}

void softee_gbn_reset_tx(struct softee_gbn *g, uint32_t isn)
{
	isn &= g->mask;
	g->isn = g->una = g->tx = g->high = g->nxt = g->recover = isn;
	g->acked_any = false;
	g->dupacks = 0;
	g->retries = 0;
	g->srtt_ns = 0;
	g->rttvar_ns = 0;
	g->rto_ns = g->cfg.rto_init_ns;
	g->rto_deadline = SOFTEE_GBN_NEVER;
	g->probe_deadline = SOFTEE_GBN_NEVER;
}

void softee_gbn_reset_rx(struct softee_gbn *g)
{
	g->rx_open = false;
	g->rx_isn = 0;
	g->rcv_nxt = 0;
	g->ack_pending = 0;
	g->ack_deadline = SOFTEE_GBN_NEVER;
	g->ack_now = false;
	g->nak = false;
}

uint32_t softee_gbn_new_seq(struct softee_gbn *g)
{
	uint32_t seq = g->nxt;

	g->nxt = (g->nxt + 1) & g->mask;
	return seq;
}

bool softee_gbn_next_tx(const struct softee_gbn *g, uint32_t *seq)
{
	if (g->tx == g->nxt)
		return false;
	*seq = g->tx;
	return true;
}

uint8_t softee_gbn_tx_flags(const struct softee_gbn *g, uint32_t seq)
{
	return (seq == g->isn && !g->acked_any) ? SOFTEE_FRAME_F_SYN : 0;
}

/*
 * Arm the tail probe two smoothed round trips from now (RFC 8985's PTO),
 * when that comes before the timeout; disarm it with nothing in flight.
 */
static void arm_probe(struct softee_gbn *g, uint64_t now_ns)
{
	uint64_t pto = 2 * g->srtt_ns;

	g->probe_deadline = SOFTEE_GBN_NEVER;
	if (g->una == g->high || !g->srtt_ns || g->cfg.probe_min_ns == SOFTEE_GBN_NEVER)
		return;
	if (pto < g->cfg.probe_min_ns)
		pto = g->cfg.probe_min_ns;
	if (now_ns + pto < g->rto_deadline)
		g->probe_deadline = now_ns + pto;
}

void softee_gbn_sent(struct softee_gbn *g, uint32_t seq, uint64_t now_ns)
{
	if (seq != g->tx)
		return;
	if (softee_gbn_dist(g, seq, g->una) < softee_gbn_dist(g, g->high, g->una)) {
		g->stats.tx_retrans++;
	} else {
		g->stats.tx_new++;
		g->high = (seq + 1) & g->mask;
	}
	g->tx = (g->tx + 1) & g->mask;
	if (g->rto_deadline == SOFTEE_GBN_NEVER)
		g->rto_deadline = now_ns + g->rto_ns;
	arm_probe(g, now_ns);
}

/* RFC 6298's timeout from srtt and rttvar, within [rto_min, rto_max]. */
static uint64_t computed_rto(const struct softee_gbn *g)
{
	uint64_t rto;

	if (!g->srtt_ns)
		return g->cfg.rto_init_ns;
	rto = g->srtt_ns + 4 * g->rttvar_ns;
	if (rto < g->cfg.rto_min_ns)
		rto = g->cfg.rto_min_ns;
	if (rto > g->cfg.rto_max_ns)
		rto = g->cfg.rto_max_ns;
	return rto;
}

void softee_gbn_rtt_sample(struct softee_gbn *g, uint64_t rtt_ns)
{
	uint64_t d;

	if (!rtt_ns)
		rtt_ns = 1;
	if (!g->srtt_ns) {
		g->srtt_ns = rtt_ns;
		g->rttvar_ns = rtt_ns / 2;
	} else {
		d = g->srtt_ns > rtt_ns ? g->srtt_ns - rtt_ns : rtt_ns - g->srtt_ns;
		g->rttvar_ns = (3 * g->rttvar_ns + d) / 4;
		g->srtt_ns = (7 * g->srtt_ns + rtt_ns) / 8;
	}
	if (!g->retries)
		g->rto_ns = computed_rto(g);
}

/*
 * A NAK for una (the first frame the peer lacks).  A fresh one proves our
 * last send of una was lost: go back to it.  A stale one answers a frame
 * sent before that: ignore it.  Without timestamps, go back once per
 * window: not again before una passes recover.
 */
static void on_nak(struct softee_gbn *g, enum softee_gbn_nak nak)
{
	if (nak == SOFTEE_GBN_NAK_STALE ||
	    (nak == SOFTEE_GBN_NAK_UNKNOWN && softee_gbn_dist(g, g->una, g->recover) >= g->half)) {
		g->stats.stale_naks++;
		return;
	}
	if (++g->dupacks >= g->cfg.dupack_thresh) {
		g->tx = g->una;
		g->recover = g->high;
		g->dupacks = 0;
		g->stats.fast_retrans++;
	}
}

int softee_gbn_on_ack(struct softee_gbn *g, uint32_t ack, enum softee_gbn_nak nak,
		      uint64_t now_ns)
{
	uint32_t d, sent, freed;

	ack &= g->mask;
	d = softee_gbn_dist(g, ack, g->una);
	sent = softee_gbn_dist(g, g->high, g->una);
	if (!d) {
		if (nak == SOFTEE_GBN_NAK_NONE || !softee_gbn_in_flight(g))
			return 0;
		g->stats.dupacks++;
		on_nak(g, nak);
		return 0;
	}
	if (d > sent) {
		g->stats.stale_acks++;
		return -1;
	}
	freed = d;
	if (d > softee_gbn_dist(g, g->tx, g->una))
		g->tx = ack;
	g->una = ack;
	g->acked_any = true;
	g->dupacks = 0;
	g->retries = 0;
	g->rto_ns = computed_rto(g);
	g->rto_deadline = g->una == g->high ? SOFTEE_GBN_NEVER : now_ns + g->rto_ns;
	arm_probe(g, now_ns);
	g->stats.acks_rx++;
	g->stats.acked += freed;
	/*
	 * An ack that frees frames may say NAK too: the peer got some, then
	 * a gap at the new una.  Waiting for the next NAK would cost the
	 * frames sent meanwhile, or a probe when none follow.
	 */
	if (nak != SOFTEE_GBN_NAK_NONE && softee_gbn_in_flight(g))
		on_nak(g, nak);
	return freed;
}

unsigned int softee_gbn_timers(struct softee_gbn *g, uint64_t now_ns)
{
	unsigned int ret = 0;

	if (g->rto_deadline != SOFTEE_GBN_NEVER && now_ns >= g->rto_deadline) {
		if (g->una == g->high) {
			g->rto_deadline = SOFTEE_GBN_NEVER;
		} else {
			g->tx = g->una;
			g->recover = g->high;
			g->dupacks = 0;
			g->retries++;
			g->rto_ns = g->rto_ns * 2 > g->cfg.rto_max_ns ? g->cfg.rto_max_ns : g->rto_ns * 2;
			g->rto_deadline = now_ns + g->rto_ns;
			g->stats.timeouts++;
			g->probe_deadline = SOFTEE_GBN_NEVER;
			ret |= SOFTEE_GBN_T_RTO;
			if (g->cfg.max_retries && g->retries >= g->cfg.max_retries)
				ret |= SOFTEE_GBN_T_BROKEN;
		}
	}
	if (now_ns >= g->probe_deadline) {
		g->probe_deadline = SOFTEE_GBN_NEVER;
		if (g->una != g->high) {
			g->stats.probes++;
			ret |= SOFTEE_GBN_T_PROBE;
		}
	}
	if (g->ack_pending && now_ns >= g->ack_deadline)
		g->ack_now = true;
	return ret;
}

uint64_t softee_gbn_next_deadline(const struct softee_gbn *g)
{
	uint64_t t = g->rto_deadline;

	if (g->ack_now)
		return 0;
	if (g->probe_deadline < t)
		t = g->probe_deadline;
	if (g->ack_pending && g->ack_deadline < t)
		t = g->ack_deadline;
	return t;
}

enum softee_gbn_verdict softee_gbn_on_data(struct softee_gbn *g, uint32_t seq, bool syn,
					   uint64_t now_ns)
{
	seq &= g->mask;
	if (syn && (!g->rx_open || seq != g->rx_isn)) {
		if (g->rx_open)
			g->stats.rx_restart++;
		softee_gbn_reset_rx(g);
		g->rx_open = true;
		g->rx_isn = seq;
		g->rcv_nxt = seq;
	}
	if (!g->rx_open) {
		g->stats.rx_nostream++;
		return SOFTEE_GBN_NOSTREAM;
	}
	if (seq == g->rcv_nxt) {
		g->rcv_nxt = (g->rcv_nxt + 1) & g->mask;
		g->stats.rx_accepted++;
		/*
		 * A NAK says what is lacking after the last frame taken: frames
		 * out of order before this one were sent before it (no
		 * reordering), the sender's go-back that brought it is on its way.
		 */
		g->nak = false;
		if (++g->ack_pending >= g->cfg.ack_every)
			g->ack_now = true;
		else if (g->ack_pending == 1)
			g->ack_deadline = now_ns + g->cfg.ack_delay_ns;
		return SOFTEE_GBN_ACCEPT;
	}
	g->ack_now = true;
	if (softee_gbn_dist(g, seq, g->rcv_nxt) < g->half) {
		g->nak = true;
		g->stats.rx_ooo++;
		return SOFTEE_GBN_OOO;
	}
	g->stats.rx_dup++;
	return SOFTEE_GBN_DUP;
}

void softee_gbn_ack_again(struct softee_gbn *g, bool nak, uint64_t now_ns)
{
	uint64_t dl = now_ns + g->cfg.ack_delay_ns;

	if (!g->ack_pending)
		g->ack_pending = 1;
	if (!g->ack_now && (g->ack_deadline == SOFTEE_GBN_NEVER || dl < g->ack_deadline))
		g->ack_deadline = dl;
	g->nak |= nak;
}

void softee_gbn_ack_sent(struct softee_gbn *g)
{
	g->ack_pending = 0;
	g->ack_now = false;
	g->nak = false;
	g->ack_deadline = SOFTEE_GBN_NEVER;
	g->stats.acks_tx++;
}
