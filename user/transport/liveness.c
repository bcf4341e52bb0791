// SPDX-License-Identifier: GPL-2.0
/*
 * Heartbeats and the peer table (softee/liveness.h).
 */
#include <errno.h>
#include <string.h>

#include <softee/liveness.h>

#define DEF(x, d)	((x) ? (x) : (d))

const char *softee_liveness_event_name(enum softee_liveness_event ev)
{
	switch (ev) {
	case SOFTEE_EV_PEER_UP: return "peer_up";
	case SOFTEE_EV_PEER_DOWN: return "peer_down";
	case SOFTEE_EV_GROUP_CHANGED: return "group_changed";
	}
	return "?";
}

const char *softee_down_reason_name(enum softee_down_reason why)
{
	static const char *const names[] = {
		[SOFTEE_DOWN_NONE] = "none", [SOFTEE_DOWN_TIMEOUT] = "timeout",
		[SOFTEE_DOWN_OTHER_GROUP] = "other_group", [SOFTEE_DOWN_LEAVE] = "leave",
		[SOFTEE_DOWN_RESTART] = "restart", [SOFTEE_DOWN_GROUP_CHANGE] = "group_change",
		[SOFTEE_DOWN_EVICTED] = "evicted", [SOFTEE_DOWN_BROKEN] = "broken",
	};

	return why < sizeof(names) / sizeof(names[0]) ? names[why] : "?";
}

int softee_liveness_init(struct softee_liveness *l, const struct softee_liveness_cfg *cfg,
			 uint64_t now_ns, softee_liveness_fn fn, void *opaque)
{
	struct softee_liveness_cfg c = cfg ? *cfg : (struct softee_liveness_cfg){ 0 };

	c.period_ns = DEF(c.period_ns, SOFTEE_LIVENESS_DEF_PERIOD_NS);
	c.miss_limit = DEF(c.miss_limit, SOFTEE_LIVENESS_DEF_MISS);
	c.max_peers = DEF(c.max_peers, SOFTEE_LIVENESS_MAX_PEERS);
	if (c.max_peers > SOFTEE_LIVENESS_MAX_PEERS || c.period_ns / 1000000 > UINT16_MAX)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	if (c.name)
		memcpy(l->name, c.name, strnlen(c.name, sizeof(l->name)));
	c.name = NULL;
	l->cfg = c;
	l->fn = fn;
	l->opaque = opaque;
	l->next_hb_ns = now_ns;
	return 0;
}

static void emit(struct softee_liveness *l, enum softee_liveness_event ev, int idx)
{
	if (l->fn)
		l->fn(l->opaque, ev, idx, idx >= 0 ? &l->peers[idx] : NULL);
}

static void go_down(struct softee_liveness *l, int idx, enum softee_down_reason why)
{
	struct softee_liveness_peer *p = &l->peers[idx];

	if (p->state != SOFTEE_PEER_UP)
		return;
	p->state = SOFTEE_PEER_DOWN;
	p->down_reason = why;
	l->stats.downs++;
	emit(l, SOFTEE_EV_PEER_DOWN, idx);
}

static void go_up(struct softee_liveness *l, int idx, uint64_t now_ns)
{
	struct softee_liveness_peer *p = &l->peers[idx];

	p->state = SOFTEE_PEER_UP;
	p->down_reason = SOFTEE_DOWN_NONE;
	p->up_since_ns = now_ns;
	l->stats.ups++;
	emit(l, SOFTEE_EV_PEER_UP, idx);
}

int softee_liveness_find(const struct softee_liveness *l, const uint8_t *mac)
{
	uint32_t i;

	for (i = 0; i < l->cfg.max_peers; i++)
		if (l->peers[i].state != SOFTEE_PEER_FREE &&
		    !memcmp(l->peers[i].mac, mac, SOFTEE_ETH_ALEN))
			return i;
	return -ENOENT;
}

/* A slot for a new peer: a free one, else the non-static one down the longest. */
static int take_slot(struct softee_liveness *l)
{
	int i, best = -1;

	for (i = 0; i < (int)l->cfg.max_peers; i++) {
		struct softee_liveness_peer *p = &l->peers[i];

		if (p->state == SOFTEE_PEER_FREE)
			return i;
		if (p->state == SOFTEE_PEER_DOWN && !p->is_static &&
		    (best < 0 || p->last_seen_ns < l->peers[best].last_seen_ns))
			best = i;
	}
	if (best >= 0)
		l->stats.evictions++;
	return best < 0 ? -ENOSPC : best;
}

int softee_liveness_add_static(struct softee_liveness *l, const uint8_t *mac, uint8_t role,
			       uint64_t now_ns)
{
	int idx = softee_liveness_find(l, mac);
	struct softee_liveness_peer *p;

	if (idx < 0) {
		idx = take_slot(l);
		if (idx < 0)
			return idx;
		memset(&l->peers[idx], 0, sizeof(l->peers[idx]));
	}
	p = &l->peers[idx];
	memcpy(p->mac, mac, SOFTEE_ETH_ALEN);
	p->is_static = true;
	p->role = role;
	p->group = l->cfg.group;
	p->last_seen_ns = now_ns;
	if (p->state != SOFTEE_PEER_UP)
		go_up(l, idx, now_ns);
	return idx;
}

bool softee_liveness_hb_due(struct softee_liveness *l, uint64_t now_ns)
{
	if (now_ns < l->next_hb_ns)
		return false;
	l->next_hb_ns = now_ns + l->cfg.period_ns;
	l->stats.hb_tx++;
	return true;
}

void softee_liveness_hb_body(const struct softee_liveness *l, struct softee_frame_hb *hb)
{
	memset(hb, 0, sizeof(*hb));
	hb->role = l->cfg.role;
	hb->period_ms = l->cfg.period_ns / 1000000;
	hb->node_id = l->cfg.node_id;
	hb->incarnation = l->cfg.incarnation;
	memcpy(hb->name, l->name, SOFTEE_HB_NAME_LEN);
}

int softee_liveness_on_hb(struct softee_liveness *l, const uint8_t *mac, uint16_t group,
			  const struct softee_frame_hb *hb, uint64_t now_ns)
{
	int idx = softee_liveness_find(l, mac);
	struct softee_liveness_peer *p;
	bool was_up;

	if (group != l->cfg.group) {
		l->stats.hb_other_group++;
		if (idx >= 0 && !l->peers[idx].is_static)
			go_down(l, idx, SOFTEE_DOWN_OTHER_GROUP);
		return -EXDEV;
	}
	if (idx < 0) {
		idx = take_slot(l);
		if (idx < 0)
			return idx;
		if (l->peers[idx].state == SOFTEE_PEER_DOWN) {
			/* evicted: its owner hears once more that the slot changes hands */
			l->peers[idx].down_reason = SOFTEE_DOWN_EVICTED;
			emit(l, SOFTEE_EV_PEER_DOWN, idx);
		}
		memset(&l->peers[idx], 0, sizeof(l->peers[idx]));
		memcpy(l->peers[idx].mac, mac, SOFTEE_ETH_ALEN);
		l->peers[idx].state = SOFTEE_PEER_DOWN;
		l->peers[idx].incarnation = hb->incarnation;
	}
	p = &l->peers[idx];
	was_up = p->state == SOFTEE_PEER_UP;
	/*
	 * A new incarnation is a restart: its sessions start over.  A static
	 * peer's first heartbeat is none: its incarnation was not known.
	 */
	if (was_up && p->incarnation != hb->incarnation &&
	    !(p->is_static && !p->heartbeats)) {
		l->stats.restarts++;
		go_down(l, idx, SOFTEE_DOWN_RESTART);
		was_up = false;
	}
	l->stats.hb_rx++;
	p->role = hb->role;
	p->group = group;
	p->node_id = hb->node_id;
	p->incarnation = hb->incarnation;
	p->period_ns = hb->period_ms ? hb->period_ms * 1000000ULL : l->cfg.period_ns;
	p->last_seen_ns = now_ns;
	p->heartbeats++;
	memcpy(p->name, hb->name, SOFTEE_HB_NAME_LEN);
	p->name[SOFTEE_HB_NAME_LEN] = 0;
	if (!was_up)
		go_up(l, idx, now_ns);
	return idx;
}

static uint64_t lost_after(const struct softee_liveness *l, const struct softee_liveness_peer *p)
{
	return (p->period_ns ? p->period_ns : l->cfg.period_ns) * l->cfg.miss_limit;
}

void softee_liveness_tick(struct softee_liveness *l, uint64_t now_ns)
{
	uint32_t i;

	for (i = 0; i < l->cfg.max_peers; i++) {
		struct softee_liveness_peer *p = &l->peers[i];

		if (p->state == SOFTEE_PEER_UP && !p->is_static &&
		    now_ns - p->last_seen_ns > lost_after(l, p))
			go_down(l, i, SOFTEE_DOWN_TIMEOUT);
	}
}

void softee_liveness_peer_down(struct softee_liveness *l, int idx, enum softee_down_reason why)
{
	if (idx >= 0 && idx < (int)l->cfg.max_peers)
		go_down(l, idx, why);
}

void softee_liveness_set_group(struct softee_liveness *l, uint16_t group, uint64_t now_ns)
{
	uint32_t i;

	if (group == l->cfg.group)
		return;
	for (i = 0; i < l->cfg.max_peers; i++)
		go_down(l, i, SOFTEE_DOWN_GROUP_CHANGE);
	l->cfg.group = group;
	l->stats.group_changes++;
	if (l->next_hb_ns != UINT64_MAX)
		l->next_hb_ns = now_ns;
	emit(l, SOFTEE_EV_GROUP_CHANGED, -1);
	/* Configured peers follow us into the new group, with new sessions. */
	for (i = 0; i < l->cfg.max_peers; i++) {
		if (l->peers[i].is_static && l->peers[i].state == SOFTEE_PEER_DOWN) {
			l->peers[i].group = group;
			go_up(l, i, now_ns);
		}
	}
}

uint64_t softee_liveness_next_deadline(const struct softee_liveness *l)
{
	uint64_t t = l->next_hb_ns, d;
	uint32_t i;

	for (i = 0; i < l->cfg.max_peers; i++) {
		const struct softee_liveness_peer *p = &l->peers[i];

		if (p->state == SOFTEE_PEER_UP && !p->is_static) {
			d = p->last_seen_ns + lost_after(l, p) + 1;
			if (d < t)
				t = d;
		}
	}
	return t;
}
