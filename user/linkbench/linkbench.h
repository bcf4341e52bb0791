/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softee-linkbench: one end of a link, driven by the tests and the
 * transport benchmark.  Raw frames straight through a backend (raw.c), or
 * one end (host or box) of the transport over it (xport.c).  Each run
 * prints "linkbench: ready ..." once its link is open and
 * "linkbench: result key=value ..." at the end.
 */
#ifndef _LINKBENCH_H
#define _LINKBENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <softee/netdev_open.h>

struct lb_opts {
	const char *dev;		/* link spec (softee/netdev_open.h) */
	struct softee_netdev_conf conf;
	uint64_t count;			/* frames or TLPs */
	uint32_t size;			/* frame or payload bytes */
	uint32_t burst;
	uint32_t gap_us;		/* pause between bursts (raw-send) */
	uint32_t timeout_ms;		/* idle time that ends a receiver */
	uint32_t wait_ms;		/* how long a receiver waits for the first frame */
	uint32_t duration_ms;
	uint16_t ethertype;		/* raw: 0x88b6; host, box: the transport's (0x88b5) */
	int vlan;			/* raw: 802.1Q TCI to tag with (-1: none) */
	uint8_t dst[SOFTEE_ETH_ALEN];	/* raw: where to send (broadcast by default) */
	int cpu;			/* pin to this CPU (-1: don't) */
	int peer_cpu;			/* line: the other end's CPU (-1: none given) */
	/* The transport ends (xport.c). */
	const char *role;		/* "host" or "box" */
	const char *test;		/* what to run */
	uint32_t group;
	uint32_t new_group;		/* box: change to this group ... */
	uint32_t group_change_ms;	/* ... after this long */
	uint32_t hb_ms;			/* heartbeat period */
	uint32_t hb_miss;		/* missed heartbeats before a peer is lost */
	uint32_t loss_ppm;		/* fault injector: drop rate, both ways */
	uint64_t seed;
	bool no_pack;
	const char *fault;		/* fault injector spec */
	/* Transport tuning (0: the transport's defaults) */
	uint32_t window;		/* Go-Back-N frames in flight */
	uint32_t ack_every;
	uint32_t rto_min_us;
	uint32_t rate_max_mbs;		/* MB/s */
	uint32_t target_delay_us;	/* the rate controller's queueing-delay target */
	bool no_pacing;
};

extern volatile sig_atomic_t lb_quit;

uint64_t lb_now_ns(void);
uint64_t lb_cpu_ns(void);
const char *lb_mac_str(const uint8_t *mac, char *buf);
int lb_parse_mac(const char *s, uint8_t *mac);
int lb_open(const struct lb_opts *o, struct softee_netdev **nd);
void lb_ready(const struct softee_netdev *nd);
int lb_pin(int cpu);
double lb_percentile(double *v, uint64_t n, double pct);

/* line.c: the cache line round trip between --cpu and --peer-cpu. */
int lb_line(const struct lb_opts *o);

/* meter.c: wire bytes of what the transport sends (see there). */
struct lb_meter_stats {
	uint64_t fresh_wire, fresh_frames;	/* data frames, first time */
	uint64_t resent_wire, resent_frames;	/* data frames again */
	uint64_t ctl_wire, ctl_frames;		/* acks, heartbeats, resets */
};
int lb_meter_create(struct softee_netdev **nd, struct softee_netdev *inner);
const struct lb_meter_stats *lb_meter_stats(const struct softee_netdev *nd);

int lb_raw(const char *mode, const struct lb_opts *o);
int lb_xport(const struct lb_opts *o);

#endif /* _LINKBENCH_H */
