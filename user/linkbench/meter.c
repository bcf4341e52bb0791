// SPDX-License-Identifier: GPL-2.0
/*
 * A meter under the transport: a netdev that passes every frame through to
 * the one it wraps and counts the bytes each sent frame takes on the wire
 * (softee_wire_bytes: preamble, FCS, gap, minimum size), split into data
 * frames sent the first time, data frames sent again, and the rest
 * (acks, heartbeats, resets).  The wire efficiency of the framing is the
 * payload over the first two kinds; retransmissions are the protocol's
 * cost, reported apart.
 */
#include <errno.h>
#include <stdlib.h>

#include <softee/frame.h>
#include <softee/gbn.h>

#include "linkbench.h"

struct meter {
	struct softee_netdev *inner;
	struct lb_meter_stats st;
	bool have_seq;
	uint32_t next_seq;	/* one past the highest data frame seen */
};

static void meter_count(struct meter *m, const uint8_t *f, uint32_t len)
{
	uint32_t h = 12, w = softee_wire_bytes(len), seq;

	if (len >= 16 && f[12] == 0x81 && f[13] == 0x00)
		h = 16;
	if (len < h + 2 + 12 || (f[h + 2] & 0x0f) != SOFTEE_FRAME_DATA) {
		m->st.ctl_wire += w;
		m->st.ctl_frames++;
		return;
	}
	seq = (uint32_t)f[h + 10] << 24 | (uint32_t)f[h + 11] << 16 |
	      (uint32_t)f[h + 12] << 8 | f[h + 13];
	if (!m->have_seq || softee_seq_geq(seq, m->next_seq)) {
		m->have_seq = true;
		m->next_seq = seq + 1;
		m->st.fresh_wire += w;
		m->st.fresh_frames++;
	} else {
		m->st.resent_wire += w;
		m->st.resent_frames++;
	}
}

static int meter_tx(struct softee_netdev *nd, const struct softee_txframe *f, unsigned int n)
{
	struct meter *m = nd->priv;
	int ret = softee_netdev_tx(m->inner, f, n), i;

	for (i = 0; i < ret; i++)
		meter_count(m, f[i].data, f[i].len);
	nd->stats = m->inner->stats;
	return ret;
}

static int meter_rx(struct softee_netdev *nd, unsigned int max, uint32_t timeout_us,
		    softee_rx_fn fn, void *opaque)
{
	struct meter *m = nd->priv;
	int ret = softee_netdev_rx(m->inner, max, timeout_us, fn, opaque);

	nd->stats = m->inner->stats;
	return ret;
}

static void meter_close(struct softee_netdev *nd)
{
	free(nd->priv);
	free(nd);
}

static const struct softee_netdev_ops meter_ops = {
	.name = "meter",
	.tx_burst = meter_tx,
	.rx_burst = meter_rx,
	.close = meter_close,
};

int lb_meter_create(struct softee_netdev **ndp, struct softee_netdev *inner)
{
	struct softee_netdev *nd = calloc(1, sizeof(*nd));
	struct meter *m = calloc(1, sizeof(*m));

	if (!nd || !m) {
		free(nd);
		free(m);
		return -ENOMEM;
	}
	m->inner = inner;
	nd->ops = &meter_ops;
	nd->priv = m;
	nd->mtu = inner->mtu;
	for (int i = 0; i < SOFTEE_ETH_ALEN; i++)
		nd->mac[i] = inner->mac[i];
	*ndp = nd;
	return 0;
}

const struct lb_meter_stats *lb_meter_stats(const struct softee_netdev *nd)
{
	return &((const struct meter *)nd->priv)->st;
}
