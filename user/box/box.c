// SPDX-License-Identifier: GPL-2.0
/*
 * The I/O box (softee/box.h): the transport's TLPs in, to the endpoints.
 *
 * Configuration requests select the endpoint by function number; bus and
 * device numbers are captured from each CfgWr0.  Memory requests are
 * decoded against the BARs the host programmed, which the box reads back
 * after every CfgWr0 (as a function's BAR decoders see the registers).
 * Whatever the box cannot serve gets Unsupported Request if it expects a
 * completion and is dropped and counted if it does not; nothing the host
 * sends can make the box touch memory outside an endpoint's BAR or stop.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "box_priv.h"

#define RL_BURST	20	/* warnings about bad TLPs: this many at once... */
#define RL_PER_SEC	10	/* ...then this many a second */

static const char *const level_names[] = {
	[SOFTEE_LOG_ERR] = "error", [SOFTEE_LOG_WARN] = "warn",
	[SOFTEE_LOG_INFO] = "info", [SOFTEE_LOG_DEBUG] = "debug",
};

const char *softee_log_level_name(int level)
{
	return level >= SOFTEE_LOG_ERR && level <= SOFTEE_LOG_DEBUG ? level_names[level] : "?";
}

int softee_log_level_parse(const char *s)
{
	int i;

	for (i = SOFTEE_LOG_ERR; i <= SOFTEE_LOG_DEBUG; i++)
		if (!strcmp(s, level_names[i]))
			return i;
	return -EINVAL;
}

static void vlog(struct softee_box *box, int level, const char *fmt, va_list ap)
{
	char msg[512];

	if (level > box->cfg.log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (box->cfg.log)
		box->cfg.log(box->cfg.log_opaque, level, msg);
	else
		fprintf(stderr, "softee-box: %s: %s\n", softee_log_level_name(level), msg);
}

void softee_box_log(struct softee_box *box, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(box, level, fmt, ap);
	va_end(ap);
}

/* A warning about something a peer sent: rate-limited, so a flood cannot flood the log. */
void box_warn_rl(struct softee_box *box, const char *fmt, ...)
{
	uint64_t add = (box->now - box->rl_stamp) * RL_PER_SEC / 1000000000ULL;
	va_list ap;

	if (box->cfg.log_level < SOFTEE_LOG_WARN)
		return;
	if (add) {
		box->rl_tokens = box->rl_tokens + add > RL_BURST ? RL_BURST : box->rl_tokens + (uint32_t)add;
		box->rl_stamp = box->now;
	}
	if (!box->rl_tokens) {
		box->rl_suppressed++;
		return;
	}
	box->rl_tokens--;
	if (box->rl_suppressed) {
		softee_box_log(box, SOFTEE_LOG_WARN, "(%u warnings suppressed)", box->rl_suppressed);
		box->rl_suppressed = 0;
	}
	va_start(ap, fmt);
	vlog(box, SOFTEE_LOG_WARN, fmt, ap);
	va_end(ap);
}

static uint64_t box_clock(void *opaque)
{
	struct softee_box *box = opaque;
	struct timespec ts;

	if (box->cfg.clock)
		return box->cfg.clock(box->cfg.clock_opaque);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t softee_box_now(const struct softee_box *box)
{
	return box->now;
}

struct box_host *box_host_of(struct softee_box *box, struct softee_peer *p)
{
	struct box_host *h = &box->hosts[p->idx % SOFTEE_LIVENESS_MAX_PEERS];

	h->peer = p;
	return h;
}

static const char *mac_str(const uint8_t *m, char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/* ---- what the box knows of an endpoint's config space ------------------------------- */

static uint32_t ep_cfg_read(struct softee_endpoint *ep, uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	if (ep->ops->cfg_read(ep, off, len, &v))
		return 0;
	return v;
}

/* Read back the command register and the BARs, as the function's decoders see them. */
static void refresh_decode(struct softee_endpoint *ep)
{
	unsigned int i;

	ep->command = (uint16_t)ep_cfg_read(ep, SOFTEE_PCI_COMMAND, 2);
	for (i = 0; i < SOFTEE_EP_BARS; i++) {
		uint64_t base;

		ep->bar_base[i] = 0;
		if (!ep->bar[i].size)
			continue;
		base = ep_cfg_read(ep, SOFTEE_PCI_BAR0 + 4 * i, 4) & ~0xfULL;
		if ((ep->bar[i].flags & SOFTEE_BAR_MEM64) && i + 1 < SOFTEE_EP_BARS) {
			base |= (uint64_t)ep_cfg_read(ep, SOFTEE_PCI_BAR0 + 4 * (i + 1), 4) << 32;
			ep->bar_base[i] = base & ~(ep->bar[i].size - 1);
			ep->bar_base[i + 1] = 0;
			i++;
			continue;
		}
		ep->bar_base[i] = base & ~(ep->bar[i].size - 1);
	}
}

/* The endpoint, BAR and offset that claim [addr, addr + len) (len 0: the byte at addr). */
static struct softee_endpoint *claim(struct softee_box *box, uint64_t addr, uint32_t len,
				     unsigned int *bar, uint64_t *off)
{
	unsigned int f, i;

	for (f = 0; f < box->nep; f++) {
		struct softee_endpoint *ep = box->ep[f];

		if (!(ep->command & SOFTEE_PCI_COMMAND_MEMORY))
			continue;
		for (i = 0; i < SOFTEE_EP_BARS; i++) {
			uint64_t base = ep->bar_base[i], size = ep->bar[i].size;

			/* A BAR still at 0 is taken for unassigned. */
			if (!size || !base || addr < base || addr - base >= size ||
			    (uint64_t)len > size - (addr - base))
				continue;
			*bar = i;
			*off = addr - base;
			return ep;
		}
	}
	return NULL;
}

/* The endpoint lost its host: nothing of it stays in flight, and it starts over. */
static void ep_lost(struct softee_box *box, unsigned int fn)
{
	struct softee_endpoint *ep = box->ep[fn];

	softee_box_dma_cancel(box, ep);
	ep->ops->reset(ep);
	ep->bdf = ep->cfg.bdf;
	box->owner[fn] = NULL;
	refresh_decode(ep);
	ep->stats.resets++;
}

/* ---- answering ------------------------------------------------------------------ */

static uint16_t box_bdf(const struct softee_box *box)
{
	return box->nep ? box->ep[0]->bdf : SOFTEE_BDF(1, 0, 0);
}

/* A completion without data: status for a request we cannot (or, for a write, did) serve. */
static void send_status(struct softee_box *box, struct box_host *h, uint16_t requester,
			uint8_t tag, uint8_t tc, uint8_t attr, uint16_t completer, uint8_t status,
			uint16_t byte_count, uint8_t lower_addr)
{
	struct softee_tlp c = {
		.kind = SOFTEE_TLP_CPL, .tc = tc, .attr = attr, .completer = completer,
		.status = status, .requester = requester, .tag = tag,
		.byte_count = byte_count ? byte_count : 4, .lower_addr = lower_addr & 0x7f,
	};

	if (status == SOFTEE_TLP_CPL_UR)
		box->stats.ur_sent++;
	else if (status == SOFTEE_TLP_CPL_CA)
		box->stats.ca_sent++;
	box_send(box, h, &c, NULL);
}

static void send_ur(struct softee_box *box, struct box_host *h, const struct softee_tlp *t,
		    uint16_t completer)
{
	uint16_t bc = 4;
	uint8_t la = 0;

	if (t->kind == SOFTEE_TLP_MRD) {
		uint64_t a;
		uint32_t n;

		softee_tlp_range(t, &a, &n);
		bc = n ? (uint16_t)n : 1;
		la = a & 0x7f;
	}
	send_status(box, h, t->requester, t->tag, t->tc, t->attr, completer, SOFTEE_TLP_CPL_UR,
		    bc, la);
}

/*
 * A TLP that did not decode: if its DW0 says it is a non-posted request
 * and DW1 is there, Unsupported Request to the requester and tag of DW1;
 * otherwise a counted drop.
 */
static void reject_raw(struct softee_box *box, struct box_host *h, const uint8_t *b, uint32_t len,
		       int why)
{
	uint8_t fmt = b[0] >> 5, type = b[0] & 0x1f;
	bool data = fmt & 2, nonposted;

	if (len < 8 || fmt > SOFTEE_TLP_FMT_4DW_DATA)
		nonposted = false;
	else if (type == SOFTEE_TLP_TYPE_MEM || type == SOFTEE_TLP_TYPE_MEMLK)
		nonposted = !data;
	else if (type == SOFTEE_TLP_TYPE_IO || type == SOFTEE_TLP_TYPE_CFG0 ||
		 type == SOFTEE_TLP_TYPE_CFG1)
		nonposted = true;
	else if (type >= 0x0c && type <= 0x0e)	/* AtomicOps: FetchAdd, Swap, CAS */
		nonposted = data;
	else
		nonposted = false;			/* messages, completions, reserved */
	box_warn_rl(box, "malformed TLP (%s): %u bytes, DW0 %02x %02x %02x %02x, %s",
		    softee_tlp_err_name(why), len, b[0], len > 1 ? b[1] : 0, len > 2 ? b[2] : 0,
		    len > 3 ? b[3] : 0, nonposted ? "UR" : "dropped");
	if (!nonposted) {
		box->stats.posted_dropped++;
		return;
	}
	send_status(box, h, (uint16_t)(b[4] << 8 | b[5]), b[6], (b[1] >> 4) & 7, 0, box_bdf(box),
		    SOFTEE_TLP_CPL_UR, 4, 0);
}

static int ret_status(int ret)
{
	return ret == -ENXIO ? SOFTEE_TLP_CPL_UR : SOFTEE_TLP_CPL_CA;
}

static void on_cfg(struct softee_box *box, struct box_host *h, const struct softee_tlp *t)
{
	unsigned int fn = SOFTEE_BDF_FN(t->target);
	struct softee_endpoint *ep = fn < box->nep ? box->ep[fn] : NULL;
	uint32_t off = 4u * t->reg;
	int ret;

	if (!ep) {
		/* No such function: UR, which the host's enumeration reads as all ones. */
		send_ur(box, h, t, t->target);
		return;
	}
	if (t->kind == SOFTEE_TLP_CFGRD0) {
		struct softee_tlp c;
		uint32_t v = 0;
		uint8_t le[4];

		ep->stats.cfg_reads++;
		ret = ep->ops->cfg_read(ep, off, 4, &v);
		if (ret) {
			ep->stats.op_errors++;
			send_status(box, h, t->requester, t->tag, 0, 0, ep->bdf, ret_status(ret), 4, 0);
			return;
		}
		if (fn == 0 && box->nep > 1 && off == SOFTEE_PCI_CACHE_LINE_SIZE)
			v |= (uint32_t)SOFTEE_PCI_HEADER_TYPE_MFD << 16;
		le[0] = (uint8_t)v;
		le[1] = (uint8_t)(v >> 8);
		le[2] = (uint8_t)(v >> 16);
		le[3] = (uint8_t)(v >> 24);
		softee_tlp_cpl_split(t, 0, SOFTEE_TLP_MAX_DATA, box->cfg.rcb, &c);
		c.completer = ep->bdf;
		c.status = SOFTEE_TLP_CPL_SC;
		c.data = le;
		box_send(box, h, &c, NULL);
		return;
	}

	/* CfgWr0: capture bus and device numbers; the writer is the endpoint's host. */
	ep->stats.cfg_writes++;
	ep->bdf = SOFTEE_BDF(SOFTEE_BDF_BUS(t->target), SOFTEE_BDF_DEV(t->target), fn);
	if (box->owner[fn] != h) {
		char mac[18];

		if (box->owner[fn]) {
			box->stats.owner_changes++;
			softee_box_log(box, SOFTEE_LOG_WARN, "function %u: taken over by %s", fn,
				       mac_str(h->peer->live->mac, mac));
		} else {
			softee_box_log(box, SOFTEE_LOG_INFO, "function %u (%s): configured by %s", fn,
				       ep->model, mac_str(h->peer->live->mac, mac));
		}
		box->owner[fn] = h;
	}
	{
		uint32_t v = (uint32_t)t->data[0] | (uint32_t)t->data[1] << 8 |
			     (uint32_t)t->data[2] << 16 | (uint32_t)t->data[3] << 24;
		unsigned int b = 0, sz;

		/* Each run of enabled bytes, as naturally aligned 1, 2 or 4 byte writes. */
		while (b < 4) {
			if (!(t->first_be & (1u << b))) {
				b++;
				continue;
			}
			if (b == 0 && t->first_be == 0xf)
				sz = 4;
			else if (!(b & 1) && (t->first_be & (2u << b)))
				sz = 2;
			else
				sz = 1;
			ret = ep->ops->cfg_write(ep, off + b, sz,
						 (v >> (8 * b)) & (sz == 4 ? 0xffffffffu : (1u << (8 * sz)) - 1));
			if (ret)
				ep->stats.op_errors++;
			b += sz;
		}
	}
	refresh_decode(ep);
	send_status(box, h, t->requester, t->tag, 0, 0, ep->bdf, SOFTEE_TLP_CPL_SC, 4, 0);
}

/*
 * The runs of enabled bytes of a memory request, as offsets from its DW
 * address: the middle DWs are all enabled, the first and last by their
 * byte enables (1- and 2-DW requests may have holes).
 */
struct run_ctx {
	struct softee_endpoint *ep;
	unsigned int bar;
	uint64_t off;		/* BAR offset of the request's DW address */
	uint8_t *rbuf;		/* reads: the request's DWs */
	const uint8_t *wbuf;	/* writes: the payload */
	int err;
};

static bool byte_enabled(const struct softee_tlp *t, uint32_t i)
{
	uint32_t dw = i / 4, b = i % 4;

	if (dw == 0)
		return t->first_be >> b & 1;
	if (dw == t->len_dw - 1u)
		return t->last_be >> b & 1;
	return true;
}

static void for_each_run(const struct softee_tlp *t, struct run_ctx *rc, bool write)
{
	uint32_t total = 4u * t->len_dw, i = 0, start;
	int ret;

	while (i < total && !rc->err) {
		if (!byte_enabled(t, i)) {
			i++;
			continue;
		}
		start = i;
		while (i < total && byte_enabled(t, i)) {
			/* Skip across the middle DWs at once. */
			if (i >= 4 && i / 4 < t->len_dw - 1u)
				i = 4u * (t->len_dw - 1u);
			else
				i++;
		}
		if (write)
			ret = rc->ep->ops->mem_write(rc->ep, rc->bar, rc->off + start, i - start,
						     rc->wbuf + start);
		else
			ret = rc->ep->ops->mem_read(rc->ep, rc->bar, rc->off + start, i - start,
						    rc->rbuf + start);
		if (ret)
			rc->err = ret;
	}
}

static void on_mrd(struct softee_box *box, struct box_host *h, const struct softee_tlp *t)
{
	uint8_t dws[SOFTEE_TLP_MAX_DATA + 4];
	struct run_ctx rc = { .rbuf = dws };
	struct softee_endpoint *ep;
	uint64_t start, off;
	uint32_t len, done = 0;
	unsigned int bar;
	int n;

	softee_tlp_range(t, &start, &len);
	ep = claim(box, start, len, &bar, &off);
	if (!ep) {
		box_warn_rl(box, "MRd of %u bytes at 0x%llx: no BAR claims it, UR", len,
			    (unsigned long long)start);
		send_ur(box, h, t, box_bdf(box));
		return;
	}
	ep->stats.mem_reads++;
	ep->stats.mem_read_bytes += len;
	memset(dws, 0, 4u * t->len_dw);
	rc.ep = ep;
	rc.bar = bar;
	rc.off = off - (start - t->addr);
	for_each_run(t, &rc, false);
	if (rc.err) {
		ep->stats.op_errors++;
		send_status(box, h, t->requester, t->tag, t->tc, t->attr, ep->bdf,
			    ret_status(rc.err), len ? (uint16_t)len : 1, start & 0x7f);
		return;
	}
	for (;;) {
		struct softee_tlp c;

		n = softee_tlp_cpl_split(t, done, ep->max_payload, box->cfg.rcb, &c);
		if (n <= 0)
			break;
		c.completer = ep->bdf;
		c.status = SOFTEE_TLP_CPL_SC;
		c.data = dws + (((start + done) & ~3ULL) - t->addr);
		if (box_send(box, h, &c, NULL))
			break;	/* the host's read times out; counted in tx_dropped */
		done += (uint32_t)n;
	}
}

static void on_mwr(struct softee_box *box, const struct softee_tlp *t)
{
	struct run_ctx rc = { .wbuf = t->data };
	struct softee_endpoint *ep;
	uint64_t start, off;
	uint32_t len;
	unsigned int bar;

	softee_tlp_range(t, &start, &len);
	if (t->ep) {
		box->stats.posted_dropped++;
		box_warn_rl(box, "poisoned MWr at 0x%llx dropped", (unsigned long long)start);
		return;
	}
	ep = claim(box, start, len, &bar, &off);
	if (!ep) {
		box->stats.posted_dropped++;
		box_warn_rl(box, "MWr of %u bytes at 0x%llx: no BAR claims it, dropped", len,
			    (unsigned long long)start);
		return;
	}
	ep->stats.mem_writes++;
	ep->stats.mem_write_bytes += len;
	rc.ep = ep;
	rc.bar = bar;
	rc.off = off - (start - t->addr);
	for_each_run(t, &rc, true);
	if (rc.err)
		ep->stats.op_errors++;
}

void softee_box_rx_tlp(struct softee_box *box, struct softee_peer *p, const uint8_t *tlp,
		       uint32_t len)
{
	struct box_host *h = box_host_of(box, p);
	struct softee_tlp t;
	int ret;

	box->stats.rx_tlps++;
	if (!len)
		return;
	ret = softee_tlp_decode(&t, tlp, len, &box->stats.tlp);
	if (ret < 0 || (uint32_t)ret != len) {
		box->stats.rx_malformed++;
		reject_raw(box, h, tlp, len, ret < 0 ? -ret : SOFTEE_TLP_ERR_LENGTH);
		return;
	}
	switch (t.kind) {
	case SOFTEE_TLP_CFGRD0:
		box->stats.rx_cfg_rd++;
		on_cfg(box, h, &t);
		break;
	case SOFTEE_TLP_CFGWR0:
		box->stats.rx_cfg_wr++;
		on_cfg(box, h, &t);
		break;
	case SOFTEE_TLP_MRD:
		box->stats.rx_mem_rd++;
		on_mrd(box, h, &t);
		break;
	case SOFTEE_TLP_MWR:
		box->stats.rx_mem_wr++;
		on_mwr(box, &t);
		break;
	case SOFTEE_TLP_CPL:
	case SOFTEE_TLP_CPLD:
		box->stats.rx_cpl++;
		box_on_cpl(box, h, &t);
		break;
	default:
		/* IORd/IOWr (no I/O BARs), CfgRd1/CfgWr1 (no bridge here): all non-posted */
		box_warn_rl(box, "%s not supported: UR", softee_tlp_kind_name(t.kind));
		send_ur(box, h, &t, box_bdf(box));
		break;
	}
}

/* ---- the transport's callbacks ----------------------------------------------------- */

static void on_rx(void *opaque, struct softee_peer *p, const uint8_t *tlp, uint32_t len)
{
	struct softee_box *box = opaque;

	box->now = box_clock(box);
	softee_box_rx_tlp(box, p, tlp, len);
}

static void host_down(struct softee_box *box, struct box_host *h)
{
	unsigned int fn;

	for (fn = 0; fn < box->nep; fn++)
		if (box->owner[fn] == h)
			ep_lost(box, fn);
	box_host_down(box, h, -ENOTCONN);
}

static void on_event(void *opaque, struct softee_peer *p, enum softee_transport_event ev)
{
	struct softee_box *box = opaque;
	struct box_host *h;
	char mac[18];

	if (!p) {
		if (ev == SOFTEE_TEV_GROUP_CHANGED) {
			box->stats.group_changes++;
			softee_box_log(box, SOFTEE_LOG_INFO, "now in group %u",
				       softee_transport_group(box->t));
		}
		return;
	}
	h = box_host_of(box, p);
	mac_str(p->live->mac, mac);
	switch (ev) {
	case SOFTEE_TEV_PEER_UP:
		softee_box_log(box, SOFTEE_LOG_INFO, "peer %s (%s, node %u) up", mac,
			       p->live->role == SOFTEE_ROLE_HOST ? "host" :
			       p->live->role == SOFTEE_ROLE_BOX ? "box" : "?", p->live->node_id);
		break;
	case SOFTEE_TEV_PEER_DOWN:
		softee_box_log(box, SOFTEE_LOG_INFO, "peer %s down (%s)", mac,
			       softee_down_reason_name(p->live->down_reason));
		host_down(box, h);
		break;
	case SOFTEE_TEV_SESSION_RESET:
		softee_box_log(box, SOFTEE_LOG_WARN, "peer %s reset our stream: DMA reads to it fail",
			       mac);
		box_host_reset_reads(box, h, -ECONNRESET);
		break;
	default:
		break;
	}
}

/* ---- the object ------------------------------------------------------------------ */

int softee_box_create(struct softee_box **bp, const struct softee_box_cfg *cfg, uint64_t now_ns)
{
	struct softee_transport_cfg xc;
	struct softee_box *box;
	int ret;

	*bp = NULL;
	if (!cfg || !cfg->xport.nd || cfg->tags > SOFTEE_BOX_MAX_TAGS ||
	    (cfg->rcb && cfg->rcb != 64 && cfg->rcb != 128) || cfg->log_level < 0 ||
	    cfg->log_level > SOFTEE_LOG_DEBUG)
		return -EINVAL;
	box = calloc(1, sizeof(*box));
	if (!box)
		return -ENOMEM;
	for (unsigned int i = 0; i < SOFTEE_LIVENESS_MAX_PEERS; i++) {
		box->hosts[i].qmask = &box->hosts_queued;
		box->hosts[i].bit = 1ULL << i;
	}
	box->cfg = *cfg;
	if (!box->cfg.tags)
		box->cfg.tags = SOFTEE_BOX_DEF_TAGS;
	if (!box->cfg.rcb)
		box->cfg.rcb = 64;
	if (!box->cfg.cpl_timeout_ns)
		box->cfg.cpl_timeout_ns = SOFTEE_BOX_DEF_CPL_TIMEOUT_NS;
	if (!box->cfg.backlog_bytes)
		box->cfg.backlog_bytes = SOFTEE_BOX_DEF_BACKLOG;
	if (!box->cfg.log_level)
		box->cfg.log_level = SOFTEE_LOG_INFO;
	box->now = now_ns;
	box->start_ns = now_ns;
	box->rl_stamp = now_ns;
	box->rl_tokens = RL_BURST;
	box->next_tag_deadline = UINT64_MAX;

	xc = cfg->xport;
	xc.role = SOFTEE_ROLE_BOX;
	xc.rx = on_rx;
	xc.event = on_event;
	xc.opaque = box;
	xc.clock = box_clock;
	if (!xc.name)
		xc.name = "softee-box";
	ret = softee_transport_create(&box->t, &xc, now_ns);
	if (ret) {
		free(box);
		return ret;
	}
	*bp = box;
	return 0;
}

void softee_box_destroy(struct softee_box *box)
{
	unsigned int i;

	if (!box)
		return;
	softee_transport_leave(box->t, box_clock(box));
	softee_transport_poll(box->t, box_clock(box));
	box_dma_fini(box);
	for (i = 0; i < box->nep; i++)
		box->ep[i]->ops->destroy(box->ep[i]);
	softee_transport_destroy(box->t);
	free(box);
}

/* The largest power of two of payload that fits a frame, header and digest included. */
static uint32_t frame_max_payload(struct softee_box *box)
{
	uint32_t room = softee_transport_frame_payload(box->t), p = SOFTEE_TLP_MAX_DATA;

	while (p > 128 && p + SOFTEE_TLP_HDR4 + 4 > room)
		p /= 2;
	return p;
}

static bool pow2_in(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi && !(v & (v - 1));
}

int softee_box_add_endpoint(struct softee_box *box, struct softee_endpoint *ep)
{
	uint32_t room = frame_max_payload(box);
	unsigned int fn = box->nep, i;

	if (!ep || !ep->ops || !ep->ops->cfg_read || !ep->ops->cfg_write || !ep->ops->mem_read ||
	    !ep->ops->mem_write || !ep->ops->reset || !ep->ops->destroy)
		return -EINVAL;
	if (!ep->cfg.max_payload)
		ep->cfg.max_payload = SOFTEE_EP_DEF_MPS;
	if (!ep->cfg.max_read_req)
		ep->cfg.max_read_req = SOFTEE_EP_DEF_MRRS;
	if (!pow2_in(ep->cfg.max_payload, 128, 4096) || !pow2_in(ep->cfg.max_read_req, 128, 4096))
		return -EINVAL;
	/* A frame must hold a TLP of 128 bytes of data (the smallest MPS). */
	if (softee_transport_frame_payload(box->t) < 128 + SOFTEE_TLP_HDR4 + 4)
		return -EMSGSIZE;
	for (i = 0; i < SOFTEE_EP_BARS; i++)
		if (ep->bar[i].size && (ep->bar[i].size < 16 || (ep->bar[i].size & (ep->bar[i].size - 1)) ||
		    (!(ep->bar[i].flags & SOFTEE_BAR_MEM64) && ep->bar[i].size > 0x80000000ULL)))
			return -EINVAL;
	if (fn >= SOFTEE_EP_MAX)
		return -ENOSPC;
	if (!ep->cfg.bdf)
		ep->cfg.bdf = SOFTEE_BDF(1, 0, fn);
	ep->box = box;
	ep->fn = fn;
	ep->bdf = ep->cfg.bdf;
	ep->max_payload = ep->cfg.max_payload < room ? ep->cfg.max_payload : room;
	ep->max_read_req = ep->cfg.max_read_req;
	box->ep[fn] = ep;
	box->owner[fn] = NULL;
	box->nep++;
	refresh_decode(ep);
	softee_box_log(box, SOFTEE_LOG_INFO, "function %u: %s, bdf %02x:%02x.%u, mps %u, mrrs %u",
		       fn, ep->model, SOFTEE_BDF_BUS(ep->bdf), SOFTEE_BDF_DEV(ep->bdf),
		       SOFTEE_BDF_FN(ep->bdf), ep->max_payload, ep->max_read_req);
	return (int)fn;
}

struct softee_endpoint *softee_box_endpoint(struct softee_box *box, unsigned int fn)
{
	return fn < box->nep ? box->ep[fn] : NULL;
}

struct softee_peer *softee_box_ep_host(const struct softee_box *box,
				       const struct softee_endpoint *ep)
{
	const struct box_host *h = box_ep_owner(box, ep);

	return h ? h->peer : NULL;
}

bool softee_box_ep_queued(const struct softee_box *box, const struct softee_endpoint *ep)
{
	const struct box_host *h = box_ep_owner(box, ep);

	/* the host's queue: other endpoints' jobs count too (rare; only later) */
	return h && h->jobs;
}

static void poll_endpoints(struct softee_box *box)
{
	unsigned int i;

	box->ep_busy = false;
	for (i = 0; i < box->nep; i++)
		if (box->ep[i]->ops->poll && box->ep[i]->ops->poll(box->ep[i], box->now))
			box->ep_busy = true;
}

static int box_poll(struct softee_box *box, uint64_t now, bool wait, uint32_t timeout_us)
{
	int ret;

	box->now = now;
	poll_endpoints(box);
	box_run_callbacks(box);
	box_drain_all(box);
	if (wait) {
		if (box->next_tag_deadline != UINT64_MAX) {
			uint64_t us = box->next_tag_deadline > now ?
				      (box->next_tag_deadline - now) / 1000 : 0;

			if (us < timeout_us)
				timeout_us = (uint32_t)us;
		}
		ret = softee_transport_poll_wait(box->t, timeout_us);
		box->now = box_clock(box);
	} else {
		ret = softee_transport_poll(box->t, now);
	}
	box_run_callbacks(box);
	box_timeouts(box, box->now);
	box_run_callbacks(box);
	/*
	 * The transport may have room again, and completions freed tags:
	 * refill it now and send what that queued (the reads of those tags,
	 * a DMA's next writes) before the next poll's receiving, which could
	 * take a few bursts of frames first.  Only after a poll that took
	 * frames: an idle poll frees nothing, and what a timeout queued goes
	 * with the next poll.  Where a send burst is a system call the
	 * transport leaves it to the next poll, which will not wait while
	 * TLPs are queued.  A queue still waiting after this waits for acks,
	 * which wake the poll.
	 */
	box_drain_all(box);
	if (ret > 0)
		softee_transport_flush(box->t, box->now);
	return ret;
}

int softee_box_poll(struct softee_box *box, uint64_t now_ns)
{
	return box_poll(box, now_ns, false, 0);
}

bool softee_box_busy(const struct softee_box *box)
{
	return box->ep_busy || box->done_head;
}

int softee_box_poll_wait(struct softee_box *box, uint32_t timeout_us)
{
	return box_poll(box, box_clock(box), true, softee_box_busy(box) ? 0 : timeout_us);
}

int softee_box_set_group(struct softee_box *box, uint16_t group)
{
	uint16_t old = softee_transport_group(box->t);
	int ret;

	if (group == old)
		return 0;
	box->now = box_clock(box);
	ret = softee_transport_set_group(box->t, group, box->now);
	if (!ret)
		softee_box_log(box, SOFTEE_LOG_INFO, "group %u -> %u", old, group);
	return ret;
}

uint16_t softee_box_group(const struct softee_box *box)
{
	return softee_transport_group(box->t);
}

struct softee_transport *softee_box_transport(struct softee_box *box)
{
	return box->t;
}

const struct softee_box_stats *softee_box_stats(const struct softee_box *box)
{
	return &box->stats;
}
