// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated segment (softee/sim.h).  Each port's receive queue is a
 * ring of fixed-size slots; a frame carries the time it becomes receivable.
 * Not thread-safe: one thread drives every port.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <softee/sim.h>

struct sim_slot {
	uint64_t due_ns;
	uint32_t len;
	uint8_t data[];
};

struct sim_port {
	struct softee_netdev nd;
	struct sim *sim;
	unsigned int idx;
	bool open;
	uint64_t link_free_ns;		/* when its link has sent the last frame */
	uint32_t head, tail;		/* receive queue: free-running */
	uint8_t *slots;
};

struct sim {
	struct softee_sim_cfg cfg;
	uint32_t slot_size;		/* header + largest frame */
	uint32_t max_frame;
	unsigned int open_ports;
	struct sim_port port[SOFTEE_SIM_MAX_PORTS];
};

static uint64_t sim_now(const struct sim *s)
{
	struct timespec ts;

	if (s->cfg.clock)
		return *s->cfg.clock;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static struct sim_slot *slot_at(struct sim_port *p, uint32_t i)
{
	return (struct sim_slot *)(p->slots +
		(size_t)(i % p->sim->cfg.queue_frames) * p->sim->slot_size);
}

static int sim_tx(struct softee_netdev *nd, const struct softee_txframe *f, unsigned int n)
{
	struct sim_port *sp = nd->priv;
	struct sim *s = sp->sim;
	uint64_t now = sim_now(s), start, due;
	unsigned int i, j;
	bool bcast;

	for (i = 0; i < n; i++) {
		if (f[i].len < SOFTEE_ETH_ALEN * 2 || f[i].len > s->max_frame) {
			nd->stats.tx_dropped++;
			continue;
		}
		start = sp->link_free_ns > now ? sp->link_free_ns : now;
		if (s->cfg.rate_Bps)
			start += ((uint64_t)f[i].len + 24) * 1000000000ULL / s->cfg.rate_Bps;
		sp->link_free_ns = start;
		due = start + s->cfg.latency_ns;
		bcast = f[i].data[0] & 1;
		nd->stats.tx_frames++;
		nd->stats.tx_bytes += f[i].len;
		for (j = 0; j < s->cfg.ports; j++) {
			struct sim_port *dp = &s->port[j];
			struct sim_slot *sl;

			if (dp == sp || !dp->open)
				continue;
			if (!bcast && memcmp(f[i].data, dp->nd.mac, SOFTEE_ETH_ALEN))
				continue;
			if (dp->tail - dp->head >= s->cfg.queue_frames) {
				nd->stats.tx_dropped++;
				continue;
			}
			sl = slot_at(dp, dp->tail);
			sl->due_ns = due;
			sl->len = f[i].len;
			memcpy(sl->data, f[i].data, f[i].len);
			dp->tail++;
		}
	}
	return n;
}

static int sim_rx(struct softee_netdev *nd, unsigned int max, uint32_t timeout_us,
		  softee_rx_fn fn, void *opaque)
{
	struct sim_port *sp = nd->priv;
	uint64_t now = sim_now(sp->sim);
	unsigned int n = 0;

	(void)timeout_us;
	while (n < max && sp->head != sp->tail) {
		struct sim_slot *sl = slot_at(sp, sp->head);

		if (sl->due_ns > now)
			break;
		nd->stats.rx_frames++;
		nd->stats.rx_bytes += sl->len;
		fn(opaque, sl->data, sl->len);
		sp->head++;
		n++;
	}
	return n;
}

static void sim_free(struct sim *s)
{
	unsigned int i;

	for (i = 0; i < s->cfg.ports; i++)
		free(s->port[i].slots);
	free(s);
}

static void sim_close(struct softee_netdev *nd)
{
	struct sim_port *sp = nd->priv;
	struct sim *s = sp->sim;

	if (!sp->open)
		return;
	sp->open = false;
	if (!--s->open_ports)
		sim_free(s);
}

static const struct softee_netdev_ops sim_ops = {
	.name = "sim",
	.tx_burst = sim_tx,
	.rx_burst = sim_rx,
	.close = sim_close,
};

int softee_sim_create(struct softee_netdev **ports, const struct softee_sim_cfg *cfg)
{
	struct softee_sim_cfg c = cfg ? *cfg : (struct softee_sim_cfg){ 0 };
	struct sim *s;
	unsigned int i;

	if (!c.ports)
		c.ports = 2;
	if (!c.mtu)
		c.mtu = 1500;
	if (!c.queue_frames)
		c.queue_frames = 1024;
	if (c.ports < 2 || c.ports > SOFTEE_SIM_MAX_PORTS || c.mtu < 64 ||
	    c.mtu + 18 > SOFTEE_NETDEV_MAX_FRAME)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = c;
	s->cfg.macs = NULL;
	s->max_frame = c.mtu + 18;
	s->slot_size = (sizeof(struct sim_slot) + s->max_frame + 7) & ~7u;
	for (i = 0; i < c.ports; i++) {
		struct sim_port *p = &s->port[i];

		p->slots = malloc((size_t)c.queue_frames * s->slot_size);
		if (!p->slots) {
			sim_free(s);
			return -ENOMEM;
		}
		p->sim = s;
		p->idx = i;
		p->open = true;
		p->nd.ops = &sim_ops;
		p->nd.mtu = c.mtu;
		p->nd.priv = p;
		if (c.macs) {
			memcpy(p->nd.mac, c.macs[i], SOFTEE_ETH_ALEN);
		} else {
			p->nd.mac[0] = 0x02;
			p->nd.mac[5] = i + 1;
		}
	}
	s->open_ports = c.ports;
	for (i = 0; i < c.ports; i++)
		ports[i] = &s->port[i].nd;
	return 0;
}

unsigned int softee_sim_queued(const struct softee_netdev *port)
{
	const struct sim_port *sp = port->priv;

	return sp->tail - sp->head;
}

uint64_t softee_sim_next_ns(const struct softee_netdev *port)
{
	struct sim_port *sp = port->priv;

	if (sp->head == sp->tail)
		return UINT64_MAX;
	return slot_at(sp, sp->head)->due_ns;
}
