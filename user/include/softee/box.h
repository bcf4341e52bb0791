/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The I/O box: a node of role BOX on the transport (softee/transport.h)
 * that hosts emulated PCIe endpoints (softee/endpoint.h) behind one group
 * number and answers the host's TLPs for them.  softee-box (user/box/main.c)
 * is this object, a link, a control socket and a loop; the tests build it
 * over the simulated link.
 *
 *	struct softee_box_cfg cfg = { .xport = { .nd = nd, .group = 7 } };
 *	softee_box_create(&box, &cfg, now);
 *	softee_endpoint_create("test", &ep, err, sizeof(err));
 *	softee_box_add_endpoint(box, ep);
 *	while (!quit)
 *		softee_box_poll(box, now());	(or softee_box_poll_wait)
 *	softee_box_destroy(box);		(leaves; destroys the endpoints)
 *	softee_netdev_close(nd);
 *
 * What it answers (Documentation/box.rst has the whole table):
 *	CfgRd0/CfgWr0	to function F: endpoint F (UR if none); Cpl/CplD
 *	MRd/MWr		decoded against the endpoints' BARs; MRd gets CplD
 *			split at RCB and max payload, or UR if no BAR claims it
 *	Cpl/CplD	for the box's own DMA reads, by tag
 *	anything else, and anything that does not decode: UR for a
 *			non-posted request, a counted drop otherwise
 * One thread: everything runs inside softee_box_poll().
 */
#ifndef _SOFTEE_BOX_H
#define _SOFTEE_BOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softee/endpoint.h>
#include <softee/tlp.h>
#include <softee/transport.h>

/* Log levels (0 in a config: the default, INFO) */
#define SOFTEE_LOG_ERR		1
#define SOFTEE_LOG_WARN		2
#define SOFTEE_LOG_INFO		3
#define SOFTEE_LOG_DEBUG	4

typedef void (*softee_box_log_fn)(void *opaque, int level, const char *msg);

#define SOFTEE_BOX_MAX_TAGS		256
#define SOFTEE_BOX_DEF_TAGS		64
/*
 * A DMA read's completion comes behind everything the box queued to that
 * host before it (PCIe ordering; up to the backlog below): on a slow link,
 * a PCIe-like 50 ms failed 256 KiB NVMe reads with Data Transfer Error
 * while the link was merely busy (the socket path in a nested test VM
 * moves about 4 MB/s).
 */
#define SOFTEE_BOX_DEF_CPL_TIMEOUT_NS	1000000000ULL	/* 1 s */
#define SOFTEE_BOX_DEF_BACKLOG		(64u << 20)	/* bytes queued per host */

/* Zeroes pick the defaults. */
struct softee_box_cfg {
	/*
	 * The transport: nd, group and the tuning are the caller's; the box
	 * sets role (BOX), rx, event, opaque and clock, and the name
	 * ("softee-box") if none.
	 */
	struct softee_transport_cfg xport;
	uint64_t (*clock)(void *opaque);	/* now in ns (NULL: CLOCK_MONOTONIC) */
	void *clock_opaque;
	uint32_t tags;			/* DMA reads in flight, 1..256 (64) */
	uint64_t cpl_timeout_ns;	/* completion timeout of a DMA read (1 s) */
	uint32_t rcb;			/* read completion boundary, 64 or 128 (64) */
	uint32_t backlog_bytes;		/* per host, TLPs the transport could not take yet (64 MiB) */
	bool ctl_json;			/* softee_box_ctl answers JSON unless told "--text" */
	softee_box_log_fn log;		/* NULL: stderr, "softee-box: LEVEL: msg" */
	void *log_opaque;
	int log_level;			/* SOFTEE_LOG_* (INFO) */
};

/* The box's counters (the transport has its own). */
struct softee_box_stats {
	uint64_t rx_tlps;
	uint64_t rx_malformed;		/* did not decode (tlp_stats says why) */
	uint64_t rx_cfg_rd, rx_cfg_wr, rx_mem_rd, rx_mem_wr, rx_cpl;
	uint64_t ur_sent;		/* UR completions */
	uint64_t ca_sent;		/* CA completions */
	uint64_t posted_dropped;	/* posted TLPs nobody claims, malformed, poisoned */
	uint64_t cpl_unexpected;	/* completions for no read of ours (or late) */
	uint64_t cpl_malformed;		/* completions that do not fit their read */
	uint64_t cpl_timeouts;
	uint64_t tx_cpl, tx_mrd, tx_mwr;	/* TLPs handed to the transport */
	uint64_t tx_dropped;		/* TLPs dropped: host gone, or backlog full */
	uint64_t backlog_full;		/* times a host's backlog refused something */
	uint64_t tags_busy_max;		/* most DMA reads in flight at once */
	uint64_t owner_changes;		/* an endpoint's host changed */
	uint64_t group_changes;
	struct softee_tlp_stats tlp;	/* the decoder's verdicts */
};

struct softee_box;

/* -EINVAL (bad config), -ENOMEM, or the transport's error. */
int softee_box_create(struct softee_box **box, const struct softee_box_cfg *cfg, uint64_t now_ns);
/* Leave the segment (peers told), destroy the endpoints and the transport. */
void softee_box_destroy(struct softee_box *box);

/* The box takes ep (and destroys it).  Returns its function number, or -ENOSPC, -EINVAL. */
int softee_box_add_endpoint(struct softee_box *box, struct softee_endpoint *ep);
struct softee_endpoint *softee_box_endpoint(struct softee_box *box, unsigned int fn);

/* Do everything due at now_ns: endpoints, the transport, DMA, timeouts.  -errno from the link. */
int softee_box_poll(struct softee_box *box, uint64_t now_ns);
/*
 * The same, but let the link block up to timeout_us when the box has
 * nothing to do (the socket backend): 0 if it is busy.
 */
int softee_box_poll_wait(struct softee_box *box, uint32_t timeout_us);
/* Work that needs polling without waiting for a frame: backlogs, endpoints, callbacks. */
bool softee_box_busy(const struct softee_box *box);

/* A TLP as the transport delivers it (tests may call it directly). */
void softee_box_rx_tlp(struct softee_box *box, struct softee_peer *p, const uint8_t *tlp,
		       uint32_t len);

/* Move to another group: every session ends, every endpoint is reset. */
int softee_box_set_group(struct softee_box *box, uint16_t group);
uint16_t softee_box_group(const struct softee_box *box);

struct softee_transport *softee_box_transport(struct softee_box *box);
const struct softee_box_stats *softee_box_stats(const struct softee_box *box);
/* The host an endpoint answers to (NULL: none yet). */
struct softee_peer *softee_box_ep_host(const struct softee_box *box, const struct softee_endpoint *ep);
/*
 * Whether what the endpoint asked the box to send (DMA writes, read
 * requests, MSIs) may still wait in the box's queue for its host: false
 * once all of it went to the transport.  For work an endpoint can put off
 * until then (the test endpoint's CRC).
 */
bool softee_box_ep_queued(const struct softee_box *box, const struct softee_endpoint *ep);

/*
 * One control command (Documentation/box.rst, "The control socket"): line
 * without its newline, the answer written to out (NUL-terminated,
 * truncated to outlen).  Text answers end with a line "ok" or "error: ...";
 * JSON answers are one line, an object with "ok".  Returns the answer's
 * length.
 */
size_t softee_box_ctl(struct softee_box *box, const char *line, char *out, size_t outlen);

const char *softee_log_level_name(int level);
int softee_log_level_parse(const char *s);	/* -EINVAL if unknown */

#endif /* _SOFTEE_BOX_H */
