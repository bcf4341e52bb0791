/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Liveness: heartbeats and the table of peers learnt from them.
 *
 * Every node broadcasts a heartbeat each period (default 100 ms) carrying
 * its group number (in the frame header), role, node id, incarnation and
 * period.  A node accepts only its own group's heartbeats: from them it
 * learns a peer's MAC address (PEER_UP).  A peer is lost (PEER_DOWN) when
 * nothing was heard from it for miss_limit (default 3) of its own periods,
 * when it announces another group, when it says it leaves (a RESET frame,
 * SOFTEE_RESET_LEAVE), or when it restarted (a new incarnation: PEER_DOWN
 * then PEER_UP).  Changing our group at run time ends every learnt peer
 * (PEER_DOWN) and then reports GROUP_CHANGED.
 *
 * The table has fixed slots: a peer keeps its index while the table lives,
 * also while it is down and when it comes back; only when the table is full
 * does a new peer take the slot of the peer down the longest.
 *
 * Static peers (softee_liveness_add_static) are configured, not learnt:
 * up from the start, never aged; a group change takes them down and up
 * again (a new session in the new group).  The tests and point-to-point
 * setups without heartbeats use them.
 *
 * This module builds no frames: the transport asks softee_liveness_hb_due()
 * and sends softee_liveness_hb_body(), and hands received heartbeats to
 * softee_liveness_on_hb().  Time comes from the caller.
 */
#ifndef _SOFTEE_LIVENESS_H
#define _SOFTEE_LIVENESS_H

#include <stdbool.h>
#include <stdint.h>

#include <softee/frame.h>

#define SOFTEE_LIVENESS_MAX_PEERS	64
#define SOFTEE_LIVENESS_DEF_PERIOD_NS	100000000ULL	/* 100 ms */
#define SOFTEE_LIVENESS_DEF_MISS	3

enum softee_peer_state {
	SOFTEE_PEER_FREE = 0,		/* slot unused */
	SOFTEE_PEER_DOWN,
	SOFTEE_PEER_UP,
};

enum softee_liveness_event {
	SOFTEE_EV_PEER_UP = 1,		/* learnt, or back */
	SOFTEE_EV_PEER_DOWN,		/* lost; see down_reason */
	SOFTEE_EV_GROUP_CHANGED,	/* our group changed (peer: NULL) */
};

enum softee_down_reason {
	SOFTEE_DOWN_NONE = 0,
	SOFTEE_DOWN_TIMEOUT,		/* miss_limit periods without a heartbeat */
	SOFTEE_DOWN_OTHER_GROUP,	/* it announced another group */
	SOFTEE_DOWN_LEAVE,		/* it said it leaves */
	SOFTEE_DOWN_RESTART,		/* new incarnation (it comes back up at once) */
	SOFTEE_DOWN_GROUP_CHANGE,	/* we changed group */
	SOFTEE_DOWN_EVICTED,		/* table full, slot taken by a new peer */
	SOFTEE_DOWN_BROKEN,		/* the session gave up (retransmissions) */
};

struct softee_liveness_peer {
	uint8_t mac[SOFTEE_ETH_ALEN];
	uint8_t state;			/* enum softee_peer_state */
	uint8_t down_reason;		/* enum softee_down_reason, when down */
	bool is_static;
	uint8_t role;			/* SOFTEE_ROLE_*, 0: unknown */
	uint16_t group;
	uint32_t node_id;
	uint32_t incarnation;
	uint64_t period_ns;		/* its heartbeat period */
	uint64_t last_seen_ns;		/* last heartbeat */
	uint64_t up_since_ns;
	uint64_t heartbeats;		/* received from it */
	char name[SOFTEE_HB_NAME_LEN + 1];
};

/* Zeroes pick the defaults. */
struct softee_liveness_cfg {
	uint16_t group;
	uint8_t role;			/* SOFTEE_ROLE_* */
	uint32_t node_id;
	uint32_t incarnation;		/* pick one per start (the transport does) */
	const char *name;		/* up to 16 bytes go on the wire */
	uint64_t period_ns;		/* 100 ms */
	uint32_t miss_limit;		/* 3 */
	uint32_t max_peers;		/* 64 (at most SOFTEE_LIVENESS_MAX_PEERS) */
};

struct softee_liveness_stats {
	uint64_t hb_tx;
	uint64_t hb_rx;			/* accepted */
	uint64_t hb_other_group;	/* ignored: another group */
	uint64_t hb_bad;		/* body did not parse */
	uint64_t ups, downs, restarts;
	uint64_t evictions;
	uint64_t group_changes;
};

struct softee_liveness;
/* idx: the peer's slot; p: NULL for GROUP_CHANGED. */
typedef void (*softee_liveness_fn)(void *opaque, enum softee_liveness_event ev, int idx,
				   const struct softee_liveness_peer *p);

struct softee_liveness {
	struct softee_liveness_cfg cfg;	/* defaults filled in; cfg.name unused after init */
	char name[SOFTEE_HB_NAME_LEN];
	struct softee_liveness_peer peers[SOFTEE_LIVENESS_MAX_PEERS];
	uint64_t next_hb_ns;
	softee_liveness_fn fn;
	void *opaque;
	struct softee_liveness_stats stats;
};

int softee_liveness_init(struct softee_liveness *l, const struct softee_liveness_cfg *cfg,
			 uint64_t now_ns, softee_liveness_fn fn, void *opaque);
/* A configured peer: slot index (reports PEER_UP), or -ENOSPC. */
int softee_liveness_add_static(struct softee_liveness *l, const uint8_t *mac, uint8_t role,
			       uint64_t now_ns);
/* Slot of mac (any state but free), or -ENOENT. */
int softee_liveness_find(const struct softee_liveness *l, const uint8_t *mac);

/* Is our heartbeat due?  If so, the next one is scheduled a period later. */
bool softee_liveness_hb_due(struct softee_liveness *l, uint64_t now_ns);
/* Send a heartbeat at the next chance (after a change, or to greet a new peer). */
static inline void softee_liveness_hb_soon(struct softee_liveness *l, uint64_t now_ns)
{
	if (l->next_hb_ns > now_ns && l->next_hb_ns != UINT64_MAX)
		l->next_hb_ns = now_ns;
}
void softee_liveness_hb_body(const struct softee_liveness *l, struct softee_frame_hb *hb);

/*
 * A heartbeat from mac, with the frame header's group.  Returns the peer's
 * slot (its state tells whether it is up), -EXDEV for another group,
 * -ENOSPC when the table is full.
 */
int softee_liveness_on_hb(struct softee_liveness *l, const uint8_t *mac, uint16_t group,
			  const struct softee_frame_hb *hb, uint64_t now_ns);
/* Age the peers: PEER_DOWN for those silent too long. */
void softee_liveness_tick(struct softee_liveness *l, uint64_t now_ns);
/* Declare a peer down now (a LEAVE reset, a broken session). */
void softee_liveness_peer_down(struct softee_liveness *l, int idx, enum softee_down_reason why);
/* Change our group: every learnt peer down, then GROUP_CHANGED; heartbeat at once. */
void softee_liveness_set_group(struct softee_liveness *l, uint16_t group, uint64_t now_ns);
/* The earliest time tick or a heartbeat has work. */
uint64_t softee_liveness_next_deadline(const struct softee_liveness *l);

const char *softee_liveness_event_name(enum softee_liveness_event ev);
const char *softee_down_reason_name(enum softee_down_reason why);

#endif /* _SOFTEE_LIVENESS_H */
