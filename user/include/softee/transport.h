/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The transport: PCIe TLPs between this node and its peers over one link
 * (struct softee_netdev), reliably and in order.  It ties together the
 * frame codec (softee/frame.h), Go-Back-N per peer (softee/gbn.h),
 * delay-based rate control and pacing per peer (softee/ratectl.h) and
 * heartbeats with the peer table (softee/liveness.h).  The same code runs
 * on the host and in the I/O box, over any backend.
 *
 * No threads inside: the owner calls softee_transport_poll() from its loop
 * with the time.  One poll receives a few bursts (delivering TLPs in order
 * to cfg.rx), runs the timers, sends heartbeats, packs queued TLPs into
 * frames, paces and sends them, and sends the acks that are due.  TLPs
 * queued with softee_transport_send_tlp() between two polls share frames.
 *
 *	struct softee_transport_cfg cfg = {
 *		.nd = nd, .group = 7, .role = SOFTEE_ROLE_HOST,
 *		.rx = on_tlp, .event = on_event, .opaque = me,
 *	};
 *	softee_transport_create(&t, &cfg, now());
 *	while (!force_quit) {
 *		... softee_transport_send_tlp(peer, tlp, len) ...
 *		softee_transport_poll(t, now());
 *	}
 *	softee_transport_leave(t, now());	(peers forget us at once)
 *	softee_transport_destroy(t);
 *	softee_netdev_close(nd);
 *
 * Peers: learnt from heartbeats of our group (event PEER_UP), or added by
 * hand (softee_transport_add_peer, for links without heartbeats).  A peer
 * pointer stays valid until the transport is destroyed; while the peer is
 * down, sending to it fails with -ENOTCONN.  A session (our stream to it
 * and its stream to us) starts when the peer comes up and ends when it
 * goes down: TLPs still queued or unacked then are dropped and counted.
 *
 * Callbacks run inside softee_transport_poll(); they may send TLPs but
 * must not poll or destroy the transport.
 */
#ifndef _SOFTEE_TRANSPORT_H
#define _SOFTEE_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <softee/frame.h>
#include <softee/gbn.h>
#include <softee/liveness.h>
#include <softee/netdev.h>
#include <softee/ratectl.h>

struct softee_transport;
struct softee_peer;

enum softee_transport_event {
	SOFTEE_TEV_PEER_UP = SOFTEE_EV_PEER_UP,		/* a session starts */
	SOFTEE_TEV_PEER_DOWN = SOFTEE_EV_PEER_DOWN,	/* it ends; peer->live->down_reason */
	SOFTEE_TEV_GROUP_CHANGED = SOFTEE_EV_GROUP_CHANGED,	/* peer NULL */
	SOFTEE_TEV_SESSION_RESET,	/* the peer lost our stream: unacked TLPs dropped, new stream */
};

/* A TLP delivered in order; valid during the call. */
typedef void (*softee_transport_rx_fn)(void *opaque, struct softee_peer *p,
				       const uint8_t *tlp, uint32_t len);
typedef void (*softee_transport_event_fn)(void *opaque, struct softee_peer *p,
					  enum softee_transport_event ev);

/* Zeroes pick the defaults. */
struct softee_transport_cfg {
	struct softee_netdev *nd;	/* the link; the caller closes it after destroy */
	uint16_t ethertype;		/* 0x88B5; not a VLAN TPID, >= 0x0600 (else -EINVAL) */
	bool vlan;			/* tag every frame, VID = group (then 1..4094) */
	uint8_t vlan_pcp;
	uint16_t group;
	uint8_t role;			/* SOFTEE_ROLE_HOST / _BOX */
	uint32_t node_id;
	const char *name;		/* in heartbeats, 16 bytes at most */
	uint32_t mtu;			/* bytes after the EtherType (nd->mtu; at most that) */
	bool no_heartbeats;		/* send none (peers added by hand) */
	uint64_t hb_period_ns;		/* 100 ms */
	uint32_t hb_miss;		/* 3 */
	struct softee_gbn_cfg gbn;
	struct softee_ratectl_cfg rate;
	uint32_t txq_bytes;		/* each peer's queue of TLPs not yet in a frame (256 KiB) */
	uint32_t burst;			/* frames per rx/tx call (32) */
	uint64_t seed;			/* ISNs and incarnation (0: from getrandom) */
	bool fixed_isn;			/* tests: every stream of ours starts at isn */
	uint32_t isn;
	softee_transport_rx_fn rx;
	softee_transport_event_fn event;
	void *opaque;			/* for rx, event and clock */
	uint64_t (*clock)(void *opaque);	/* now in ns: needed by softee_transport_poll_wait */
};

#define SOFTEE_TRANSPORT_DEF_TXQ	(256 * 1024)
#define SOFTEE_TRANSPORT_DEF_BURST	32

/*
 * Counters.  The transport keeps one set for everything and one per peer
 * (fields about frames no peer owns stay 0 there).
 */
struct softee_transport_stats {
	/* receive */
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_data, rx_acks, rx_heartbeats, rx_resets;
	uint64_t rx_tlps;		/* delivered to cfg.rx */
	uint64_t rx_crc_errors;
	uint64_t rx_bad;		/* refused by the frame parser (CRC included) */
	uint64_t rx_not_ours;		/* another EtherType */
	uint64_t rx_not_for_us;		/* unicast to another MAC */
	uint64_t rx_self;		/* our own frames coming back */
	uint64_t rx_other_group;
	uint64_t rx_unknown_peer;	/* not a peer that is up */
	uint64_t rx_ooo_drops;		/* ahead of the expected frame */
	uint64_t rx_dup_drops;		/* already delivered */
	uint64_t rx_nostream_drops;	/* before the peer's SYN */
	/* send */
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_wire_bytes;		/* with preamble, FCS, gap (softee_wire_bytes) */
	uint64_t tx_data, tx_acks, tx_heartbeats, tx_resets;
	uint64_t tx_tlps;		/* TLPs packed into frames */
	uint64_t tx_tlp_bytes;		/* their bytes */
	uint64_t tx_retrans;		/* data frames sent again */
	uint64_t timeouts, fast_retrans;
	uint64_t probes;		/* tail probes sent (SOFTEE_GBN_T_PROBE; in tx_retrans too) */
	uint64_t dupacks;		/* NAKs received for our oldest frame */
	uint64_t tx_busy;		/* frames the link did not take (sent later) */
	uint64_t tx_paced;		/* times pacing held a peer back */
	uint64_t txq_full;		/* send_tlp refused: queue full */
	uint64_t tlps_acked;		/* TLPs in frames the peer acked */
	uint64_t tlps_dropped;		/* queued or unacked when a session ended */
	uint64_t session_resets;
};

/* Read-only for the owner, except user. */
struct softee_peer {
	struct softee_transport *t;
	int idx;				/* slot in the peer table */
	const struct softee_liveness_peer *live;	/* MAC, role, node id, state */
	bool session;				/* up: sending works */
	struct softee_gbn gbn;			/* sequence state, its counters */
	struct softee_ratectl rc;		/* rate, RTT, its counters */
	struct softee_transport_stats stats;
	uint32_t txq_tlps;			/* TLPs queued */
	uint32_t txq_bytes;
	void *user;				/* the owner's */
};

/* -EINVAL (bad config), -ENOMEM. */
int softee_transport_create(struct softee_transport **t, const struct softee_transport_cfg *cfg,
			    uint64_t now_ns);
void softee_transport_destroy(struct softee_transport *t);

/*
 * Queue a TLP (whole: header, data, digest; its size must be what its DW0
 * says) for a peer.  0; -ENOTCONN (peer down), -EAGAIN (queue full: poll,
 * then retry), -EMSGSIZE (larger than a frame holds), -EINVAL.
 */
int softee_transport_send_tlp(struct softee_peer *p, const void *tlp, uint32_t len);

/*
 * Do everything due at now_ns (never blocks).  Returns the frames
 * received and sent, or -errno from the link.
 */
int softee_transport_poll(struct softee_transport *t, uint64_t now_ns);
/*
 * Send what the peers' queues hold, as far as window and pacing let it go
 * (never blocks; no receiving, no timers): for an owner that queues many
 * TLPs in one pass, so that the peer starts on the first frames while the
 * rest are made.  now_ns may be later than the last poll's; an earlier
 * one is not taken.  Returns the data frames sent, or -errno from the
 * link; 0 when called from an rx callback, or on a link where each send
 * burst is a system call (netdev tx_burst_syscall): the poll then sends
 * them, in one burst.
 */
int softee_transport_flush(struct softee_transport *t, uint64_t now_ns);
/*
 * The same, but let the link block for the first frame up to timeout_us
 * (less if a timer falls due sooner): for the socket backend.  Needs
 * cfg.clock, which gives the time after the wait.
 */
int softee_transport_poll_wait(struct softee_transport *t, uint32_t timeout_us);
/* The earliest time a poll has work to do without a frame arriving (now_ns: at once). */
uint64_t softee_transport_next_deadline(const struct softee_transport *t, uint64_t now_ns);

/* A peer by hand (no heartbeats needed): up at once; its slot's peer. */
struct softee_peer *softee_transport_add_peer(struct softee_transport *t, const uint8_t *mac,
					      uint8_t role, uint64_t now_ns);
/* Peer by MAC, or by slot (NULL if none). */
struct softee_peer *softee_transport_find_peer(struct softee_transport *t, const uint8_t *mac);
struct softee_peer *softee_transport_peer(struct softee_transport *t, int idx);
unsigned int softee_transport_max_peers(const struct softee_transport *t);

/* Move to another group: sessions end (peers told with a LEAVE reset), heartbeats at once. */
int softee_transport_set_group(struct softee_transport *t, uint16_t group, uint64_t now_ns);
uint16_t softee_transport_group(const struct softee_transport *t);
/* Tell every peer that is up that we leave (before destroy, or stopping). */
void softee_transport_leave(struct softee_transport *t, uint64_t now_ns);

const struct softee_transport_stats *softee_transport_stats(const struct softee_transport *t);
const struct softee_frame_stats *softee_transport_frame_stats(const struct softee_transport *t);
const struct softee_liveness *softee_transport_liveness(const struct softee_transport *t);
const uint8_t *softee_transport_mac(const struct softee_transport *t);
/* Payload bytes a data frame holds (the largest TLP that can be sent). */
uint32_t softee_transport_frame_payload(const struct softee_transport *t);

const char *softee_transport_event_name(enum softee_transport_event ev);

#endif /* _SOFTEE_TRANSPORT_H */
