// SPDX-License-Identifier: GPL-2.0
/*
 * The box's control commands (softee_box_ctl), for the control socket of
 * softee-box and for softeectl.  One request line in, one answer out:
 *
 *	text	"key: value" lines (nested keys joined by dots, array elements
 *		by their index), then "ok", or only "error: MESSAGE"
 *	JSON	one line: {"ok":true,...} or {"ok":false,"error":"MESSAGE"}
 *
 * Documentation/box.rst lists the commands and their keys.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "box_priv.h"

#define MAX_DEPTH	6
#define MAX_ARGS	8

struct out {
	char *buf;
	size_t cap, len;
	bool json;
	int depth;
	struct {
		char name[24];
		bool arr;
		unsigned int idx;	/* arrays: next element */
		bool first;		/* JSON: no comma before the next member */
	} st[MAX_DEPTH];
};

static void raw(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void raw(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len + 1 >= o->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->len += (size_t)n < o->cap - o->len ? (size_t)n : o->cap - o->len - 1;
}

/*
 * A JSON string's body: quotes and backslashes escaped, control bytes and
 * bytes above 0x7e as \u00XX (names come from the wire: not always UTF-8).
 */
static void jesc(struct out *o, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			raw(o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			raw(o, "\\u%04x", c);
		else
			raw(o, "%c", c);
	}
}

/* Text keys and values stay on one line, in ASCII: other bytes become '?'. */
static void tesc(struct out *o, const char *s)
{
	for (; *s; s++)
		raw(o, "%c", (unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f ? '?' : *s);
}

/* Start a member: JSON comma and key; text path. */
static void member(struct out *o, const char *key)
{
	int i;

	if (o->json) {
		if (!o->st[o->depth].first)
			raw(o, ",");
		o->st[o->depth].first = false;
		if (!o->st[o->depth].arr && key) {
			raw(o, "\"");
			jesc(o, key);
			raw(o, "\":");
		}
		return;
	}
	for (i = 1; i <= o->depth; i++)
		raw(o, "%s.", o->st[i].name);
	if (o->st[o->depth].arr)
		raw(o, "%u", o->st[o->depth].idx++);
	else
		tesc(o, key);
	raw(o, ": ");
}

static void push(struct out *o, const char *key, bool arr)
{
	char name[24];

	if (o->st[o->depth].arr)
		snprintf(name, sizeof(name), "%u", o->st[o->depth].idx++);
	else
		snprintf(name, sizeof(name), "%s", key);
	if (o->json) {
		member(o, key);
		raw(o, arr ? "[" : "{");
	}
	if (o->depth + 1 >= MAX_DEPTH)
		return;
	o->depth++;
	snprintf(o->st[o->depth].name, sizeof(o->st[o->depth].name), "%s", name);
	o->st[o->depth].arr = arr;
	o->st[o->depth].idx = 0;
	o->st[o->depth].first = true;
}

static void pop(struct out *o)
{
	if (o->json)
		raw(o, o->st[o->depth].arr ? "]" : "}");
	if (o->depth)
		o->depth--;
}

static void f_u64(struct out *o, const char *key, uint64_t v)
{
	member(o, key);
	raw(o, o->json ? "%llu" : "%llu\n", (unsigned long long)v);
}

static void f_hex(struct out *o, const char *key, uint64_t v)
{
	member(o, key);
	raw(o, o->json ? "%llu" : "0x%llx\n", (unsigned long long)v);
}

static void f_bool(struct out *o, const char *key, bool v)
{
	member(o, key);
	raw(o, o->json ? "%s" : "%s\n", v ? "true" : "false");
}

static void f_dbl(struct out *o, const char *key, double v)
{
	member(o, key);
	raw(o, o->json ? "%.3f" : "%.3f\n", v);
}

static void f_str(struct out *o, const char *key, const char *s)
{
	member(o, key);
	if (o->json) {
		raw(o, "\"");
		jesc(o, s);
		raw(o, "\"");
	} else {
		tesc(o, s);
		raw(o, "\n");
	}
}

static size_t finish(struct out *o)
{
	while (o->depth)
		pop(o);
	if (o->json)
		raw(o, "}\n");
	else
		raw(o, "ok\n");
	return o->len;
}

static size_t fail(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t fail(struct out *o, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->len = 0;
	o->depth = 0;
	if (o->cap)
		o->buf[0] = '\0';
	if (o->json) {
		raw(o, "{\"ok\":false,\"error\":\"");
		jesc(o, msg);
		raw(o, "\"}\n");
	} else {
		raw(o, "error: ");
		tesc(o, msg);
		raw(o, "\n");
	}
	return o->len;
}

static const char *mac_str(const uint8_t *m, char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static const char *bdf_str(uint16_t bdf, char *buf)
{
	snprintf(buf, 8, "%02x:%02x.%u", SOFTEE_BDF_BUS(bdf), SOFTEE_BDF_DEV(bdf), SOFTEE_BDF_FN(bdf));
	return buf;
}

static const char *role_name(uint8_t role)
{
	return role == SOFTEE_ROLE_HOST ? "host" : role == SOFTEE_ROLE_BOX ? "box" : "unknown";
}

static const char *bar_flags(uint32_t f)
{
	return (f & SOFTEE_BAR_MEM64) ? ((f & SOFTEE_BAR_PREFETCH) ? "mem64,prefetch" : "mem64") :
	       ((f & SOFTEE_BAR_PREFETCH) ? "mem32,prefetch" : "mem32");
}

/* ---- commands ------------------------------------------------------------------------- */

static void ep_bars(struct out *o, const struct softee_endpoint *ep)
{
	unsigned int i;

	push(o, "bars", true);
	for (i = 0; i < SOFTEE_EP_BARS; i++) {
		if (!ep->bar[i].size)
			continue;
		push(o, NULL, false);
		f_u64(o, "bar", i);
		f_hex(o, "base", ep->bar_base[i]);
		f_hex(o, "size", ep->bar[i].size);
		f_str(o, "type", bar_flags(ep->bar[i].flags));
		pop(o);
	}
	pop(o);
}

static size_t cmd_status(struct softee_box *box, struct out *o)
{
	const struct softee_liveness *l = softee_transport_liveness(box->t);
	unsigned int i, hosts = 0, max = softee_transport_max_peers(box->t);
	char mac[18], bdf[8], desc[256], name[SOFTEE_HB_NAME_LEN + 1];

	for (i = 0; i < max; i++) {
		struct softee_peer *p = softee_transport_peer(box->t, (int)i);

		if (p && p->session && p->live->role == SOFTEE_ROLE_HOST)
			hosts++;
	}
	memcpy(name, l->name, SOFTEE_HB_NAME_LEN);
	name[SOFTEE_HB_NAME_LEN] = '\0';
	f_str(o, "name", name);
	f_str(o, "role", "box");
	f_u64(o, "group", softee_transport_group(box->t));
	f_str(o, "mac", mac_str(softee_transport_mac(box->t), mac));
	f_u64(o, "node_id", l->cfg.node_id);
	f_u64(o, "incarnation", l->cfg.incarnation);
	f_str(o, "link", box->cfg.xport.nd->ops->name);
	f_u64(o, "frame_payload", softee_transport_frame_payload(box->t));
	f_dbl(o, "uptime_s", (double)(box->now - box->start_ns) / 1e9);
	f_u64(o, "hosts_up", hosts);
	f_u64(o, "dma_reads_in_flight", box->tags_busy);
	push(o, "endpoints", true);
	for (i = 0; i < box->nep; i++) {
		struct softee_endpoint *ep = box->ep[i];
		struct softee_peer *host = box->owner[i] ? box->owner[i]->peer : NULL;

		push(o, NULL, false);
		f_u64(o, "fn", i);
		f_str(o, "model", ep->model);
		f_str(o, "bdf", bdf_str(ep->bdf, bdf));
		f_str(o, "host", host ? mac_str(host->live->mac, mac) : "");
		f_hex(o, "command", ep->command);
		f_bool(o, "memory", ep->command & SOFTEE_PCI_COMMAND_MEMORY);
		f_bool(o, "bus_master", ep->command & SOFTEE_PCI_COMMAND_MASTER);
		f_u64(o, "mps", ep->max_payload);
		f_u64(o, "mrrs", ep->max_read_req);
		ep_bars(o, ep);
		desc[0] = '\0';
		if (ep->ops->describe)
			ep->ops->describe(ep, desc, sizeof(desc));
		f_str(o, "state", desc);
		pop(o);
	}
	pop(o);
	return finish(o);
}

static size_t cmd_counters(struct softee_box *box, struct out *o)
{
	const struct softee_box_stats *s = &box->stats;
	const struct softee_transport_stats *ts = softee_transport_stats(box->t);
	unsigned int i;

	push(o, "box", false);
	f_u64(o, "rx_tlps", s->rx_tlps);
	f_u64(o, "rx_malformed", s->rx_malformed);
	f_u64(o, "rx_cfg_rd", s->rx_cfg_rd);
	f_u64(o, "rx_cfg_wr", s->rx_cfg_wr);
	f_u64(o, "rx_mem_rd", s->rx_mem_rd);
	f_u64(o, "rx_mem_wr", s->rx_mem_wr);
	f_u64(o, "rx_cpl", s->rx_cpl);
	f_u64(o, "ur_sent", s->ur_sent);
	f_u64(o, "ca_sent", s->ca_sent);
	f_u64(o, "posted_dropped", s->posted_dropped);
	f_u64(o, "cpl_unexpected", s->cpl_unexpected);
	f_u64(o, "cpl_malformed", s->cpl_malformed);
	f_u64(o, "cpl_timeouts", s->cpl_timeouts);
	f_u64(o, "tx_cpl", s->tx_cpl);
	f_u64(o, "tx_mrd", s->tx_mrd);
	f_u64(o, "tx_mwr", s->tx_mwr);
	f_u64(o, "tx_dropped", s->tx_dropped);
	f_u64(o, "backlog_full", s->backlog_full);
	f_u64(o, "tags_busy", box->tags_busy);
	f_u64(o, "tags_busy_max", s->tags_busy_max);
	f_u64(o, "owner_changes", s->owner_changes);
	f_u64(o, "group_changes", s->group_changes);
	push(o, "tlp_errors", false);
	for (i = 1; i < SOFTEE_TLP_ERR_MAX; i++)
		f_u64(o, softee_tlp_err_name(i), s->tlp.err[i]);
	pop(o);
	pop(o);

	push(o, "transport", false);
	f_u64(o, "rx_frames", ts->rx_frames);
	f_u64(o, "rx_bytes", ts->rx_bytes);
	f_u64(o, "rx_tlps", ts->rx_tlps);
	f_u64(o, "rx_bad", ts->rx_bad);
	f_u64(o, "rx_crc_errors", ts->rx_crc_errors);
	f_u64(o, "rx_other_group", ts->rx_other_group);
	f_u64(o, "rx_ooo_drops", ts->rx_ooo_drops);
	f_u64(o, "rx_dup_drops", ts->rx_dup_drops);
	f_u64(o, "tx_frames", ts->tx_frames);
	f_u64(o, "tx_bytes", ts->tx_bytes);
	f_u64(o, "tx_tlps", ts->tx_tlps);
	f_u64(o, "tx_retrans", ts->tx_retrans);
	f_u64(o, "timeouts", ts->timeouts);
	f_u64(o, "tx_heartbeats", ts->tx_heartbeats);
	f_u64(o, "rx_heartbeats", ts->rx_heartbeats);
	f_u64(o, "tlps_dropped", ts->tlps_dropped);
	f_u64(o, "session_resets", ts->session_resets);
	f_u64(o, "txq_full", ts->txq_full);
	pop(o);

	push(o, "endpoints", true);
	for (i = 0; i < box->nep; i++) {
		const struct softee_ep_stats *e = &box->ep[i]->stats;

		push(o, NULL, false);
		f_u64(o, "fn", i);
		f_u64(o, "cfg_reads", e->cfg_reads);
		f_u64(o, "cfg_writes", e->cfg_writes);
		f_u64(o, "mem_reads", e->mem_reads);
		f_u64(o, "mem_writes", e->mem_writes);
		f_u64(o, "mem_read_bytes", e->mem_read_bytes);
		f_u64(o, "mem_write_bytes", e->mem_write_bytes);
		f_u64(o, "op_errors", e->op_errors);
		f_u64(o, "dma_reads", e->dma_reads);
		f_u64(o, "dma_read_bytes", e->dma_read_bytes);
		f_u64(o, "dma_read_errors", e->dma_read_errors);
		f_u64(o, "dma_writes", e->dma_writes);
		f_u64(o, "dma_write_bytes", e->dma_write_bytes);
		f_u64(o, "dma_refused", e->dma_refused);
		f_u64(o, "msis", e->msis);
		f_u64(o, "resets", e->resets);
		pop(o);
	}
	pop(o);
	return finish(o);
}

static size_t cmd_peers(struct softee_box *box, struct out *o)
{
	unsigned int i, max = softee_transport_max_peers(box->t);
	char mac[18];

	push(o, "peers", true);
	for (i = 0; i < max; i++) {
		struct softee_peer *p = softee_transport_peer(box->t, (int)i);
		const struct softee_liveness_peer *lp;

		if (!p || p->live->state == SOFTEE_PEER_FREE)
			continue;
		lp = p->live;
		push(o, NULL, false);
		f_str(o, "mac", mac_str(lp->mac, mac));
		f_str(o, "state", lp->state == SOFTEE_PEER_UP ? "up" : "down");
		f_str(o, "down_reason", lp->state == SOFTEE_PEER_UP ? "" :
		      softee_down_reason_name(lp->down_reason));
		f_str(o, "role", role_name(lp->role));
		f_u64(o, "group", lp->group);
		f_u64(o, "node_id", lp->node_id);
		f_str(o, "name", lp->name);
		f_bool(o, "static", lp->is_static);
		f_bool(o, "session", p->session);
		f_dbl(o, "last_seen_ms", lp->last_seen_ns && box->now > lp->last_seen_ns ?
		      (double)(box->now - lp->last_seen_ns) / 1e6 : 0.0);
		f_u64(o, "srtt_ns", p->rc.srtt_ns);
		f_u64(o, "min_rtt_ns", p->rc.min_rtt_ns == UINT64_MAX ? 0 : p->rc.min_rtt_ns);
		f_u64(o, "rate_Bps", p->rc.rate_Bps);
		f_u64(o, "rate_max_Bps", p->rc.cfg.rate_max_Bps);
		f_bool(o, "pacing", !p->rc.cfg.no_pacing);
		f_u64(o, "tx_paced", p->stats.tx_paced);
		f_u64(o, "rate_cuts", p->rc.stats.decreases);
		f_u64(o, "rate_app_limited", p->rc.stats.app_limited);
		/* the rate control's settings and the rest of its counts */
		f_u64(o, "rate_min_Bps", p->rc.cfg.rate_min_Bps);
		f_u64(o, "rate_ai_step_Bps", p->rc.cfg.ai_step_Bps);
		f_u64(o, "rate_md_num", p->rc.cfg.md_num);
		f_u64(o, "rate_md_den", p->rc.cfg.md_den);
		f_u64(o, "rate_target_delay_ns", p->rc.cfg.target_delay_ns);
		f_u64(o, "rate_interval_ns", p->rc.cfg.interval_ns);
		f_u64(o, "rate_bucket_bytes", p->rc.cfg.bucket_bytes);
		f_u64(o, "rate_samples", p->rc.stats.samples);
		f_u64(o, "rate_increases", p->rc.stats.increases);
		f_u64(o, "rate_timeout_cuts", p->rc.stats.timeouts);
		f_u64(o, "rate_blocked", p->rc.stats.blocked);
		f_u64(o, "tx_tlps", p->stats.tx_tlps);
		f_u64(o, "rx_tlps", p->stats.rx_tlps);
		f_u64(o, "tx_retrans", p->stats.tx_retrans);
		f_u64(o, "backlog_bytes", box->hosts[i % SOFTEE_LIVENESS_MAX_PEERS].backlog);
		pop(o);
	}
	pop(o);
	return finish(o);
}

static const char *cap_name(uint8_t id)
{
	switch (id) {
	case 0x01: return "pm";
	case SOFTEE_PCI_CAP_ID_MSI: return "msi";
	case 0x09: return "vendor";
	case 0x10: return "pcie";
	case SOFTEE_PCI_CAP_ID_MSIX: return "msix";
	default: return "?";
	}
}

static size_t cmd_config(struct softee_box *box, struct out *o, const char *arg)
{
	struct softee_endpoint *ep;
	uint8_t cfg[256];
	char bdf[8], hex[3 * 16 + 1], key[8];
	unsigned int fn, i, guard;
	uint8_t cap;
	char *end;
	unsigned long v;

	if (!arg)
		return fail(o, "config: which function? (config FN)");
	v = strtoul(arg, &end, 0);
	if (end == arg || *end || v >= box->nep)
		return fail(o, "config: no function '%s' (functions: 0..%d)", arg, (int)box->nep - 1);
	fn = (unsigned int)v;
	ep = box->ep[fn];
	for (i = 0; i < sizeof(cfg); i += 4) {
		uint32_t x = 0;

		ep->ops->cfg_read(ep, i, 4, &x);
		cfg[i] = (uint8_t)x;
		cfg[i + 1] = (uint8_t)(x >> 8);
		cfg[i + 2] = (uint8_t)(x >> 16);
		cfg[i + 3] = (uint8_t)(x >> 24);
	}
	f_u64(o, "fn", fn);
	f_str(o, "model", ep->model);
	f_str(o, "bdf", bdf_str(ep->bdf, bdf));
	f_hex(o, "vendor", cfg[0] | cfg[1] << 8);
	f_hex(o, "device", cfg[2] | cfg[3] << 8);
	f_hex(o, "command", cfg[4] | cfg[5] << 8);
	f_hex(o, "status", cfg[6] | cfg[7] << 8);
	f_hex(o, "revision", cfg[8]);
	f_hex(o, "class", cfg[9] | cfg[10] << 8 | cfg[11] << 16);
	f_hex(o, "header_type", cfg[14]);
	f_hex(o, "subsys_vendor", cfg[0x2c] | cfg[0x2d] << 8);
	f_hex(o, "subsys", cfg[0x2e] | cfg[0x2f] << 8);
	ep_bars(o, ep);
	push(o, "caps", true);
	cap = (cfg[6] & SOFTEE_PCI_STATUS_CAP_LIST) ? cfg[SOFTEE_PCI_CAP_PTR] & 0xfc : 0;
	for (guard = 0; cap >= 0x40 && guard < 48; guard++) {
		push(o, NULL, false);
		f_hex(o, "offset", cap);
		f_str(o, "id", cap_name(cfg[cap]));
		if (cfg[cap] == SOFTEE_PCI_CAP_ID_MSI && cap <= 256 - SOFTEE_MSI_CAP_SIZE_64_MASK) {
			uint16_t fl = cfg[cap + 2] | cfg[cap + 3] << 8;
			uint64_t addr = cfg[cap + 4] | cfg[cap + 5] << 8 | cfg[cap + 6] << 16 |
					(uint64_t)cfg[cap + 7] << 24;
			unsigned int d = (fl & SOFTEE_MSI_FLAGS_64BIT) ? 0x0c : 0x08;

			if (fl & SOFTEE_MSI_FLAGS_64BIT)
				addr |= (uint64_t)(cfg[cap + 8] | cfg[cap + 9] << 8 | cfg[cap + 10] << 16 |
						   (uint32_t)cfg[cap + 11] << 24) << 32;
			f_bool(o, "enabled", fl & SOFTEE_MSI_FLAGS_ENABLE);
			f_hex(o, "address", addr);
			f_hex(o, "data", cfg[cap + d] | cfg[cap + d + 1] << 8);
			if (fl & SOFTEE_MSI_FLAGS_MASKBIT)
				f_bool(o, "masked", cfg[cap + d + 4] & 1);
		} else if (cfg[cap] == SOFTEE_PCI_CAP_ID_MSIX && cap <= 256 - SOFTEE_MSIX_CAP_SIZE) {
			uint16_t fl = cfg[cap + 2] | cfg[cap + 3] << 8;

			f_bool(o, "enabled", fl & SOFTEE_MSIX_FLAGS_ENABLE);
			f_bool(o, "function_masked", fl & SOFTEE_MSIX_FLAGS_MASKALL);
			f_u64(o, "vectors", (fl & SOFTEE_MSIX_FLAGS_QSIZE) + 1u);
		}
		pop(o);
		cap = cfg[cap + 1] & 0xfc;
	}
	pop(o);
	/* The raw header: text 16 bytes a line, JSON one hex string. */
	if (o->json) {
		member(o, "raw");
		raw(o, "\"");
		for (i = 0; i < sizeof(cfg); i++)
			raw(o, "%02x", cfg[i]);
		raw(o, "\"");
	} else {
		push(o, "raw", false);
		for (i = 0; i < sizeof(cfg); i += 16) {
			unsigned int k;

			for (k = 0; k < 16; k++)
				snprintf(hex + 3 * k, 4, "%02x%s", cfg[i + k], k < 15 ? " " : "");
			snprintf(key, sizeof(key), "%02x", i);
			f_str(o, key, hex);
		}
		pop(o);
	}
	return finish(o);
}

static size_t cmd_set_group(struct softee_box *box, struct out *o, const char *arg)
{
	unsigned long v;
	char *end;
	int ret;

	if (!arg)
		return fail(o, "set-group: which group? (set-group N)");
	v = strtoul(arg, &end, 0);
	if (end == arg || *end || v > 0xffff)
		return fail(o, "set-group: '%s' is not a group number (0..65535)", arg);
	ret = softee_box_set_group(box, (uint16_t)v);
	if (ret)
		return fail(o, "set-group %lu: %s", v, strerror(-ret));
	f_u64(o, "group", softee_box_group(box));
	return finish(o);
}

static size_t cmd_help(struct out *o)
{
	push(o, "commands", true);
	f_str(o, NULL, "status              the box, its group and endpoints");
	f_str(o, NULL, "counters            the box's, the transport's and each endpoint's counters");
	f_str(o, NULL, "peers               the nodes heard on the segment");
	f_str(o, NULL, "config FN           function FN's config space");
	f_str(o, NULL, "set-group N         move the box to group N (endpoints reset)");
	f_str(o, NULL, "help                this list");
	f_str(o, NULL, "any command + --json or --text: the answer's format");
	pop(o);
	return finish(o);
}

size_t softee_box_ctl(struct softee_box *box, const char *line, char *out, size_t outlen)
{
	struct out o = { .buf = out, .cap = outlen, .json = box->cfg.ctl_json };
	char copy[256], *argv[MAX_ARGS], *tok, *save = NULL;
	int argc = 0, i, n = 0;

	if (!outlen)
		return 0;
	out[0] = '\0';
	o.st[0].first = true;
	snprintf(copy, sizeof(copy), "%s", line ? line : "");
	copy[strcspn(copy, "\r\n")] = '\0';
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (!strcmp(tok, "--json"))
			o.json = true;
		else if (!strcmp(tok, "--text"))
			o.json = false;
		else if (argc < MAX_ARGS)
			argv[argc++] = tok;
		else
			n++;
	}
	if (o.json)
		raw(&o, "{\"ok\":true");
	o.st[0].first = false;
	if (!argc)
		return fail(&o, "empty command (try help)");
	if (n)
		return fail(&o, "too many arguments");
	for (i = argc; i < MAX_ARGS; i++)
		argv[i] = NULL;
	if (!strcmp(argv[0], "status") && argc == 1)
		return cmd_status(box, &o);
	if (!strcmp(argv[0], "counters") && argc == 1)
		return cmd_counters(box, &o);
	if (!strcmp(argv[0], "peers") && argc == 1)
		return cmd_peers(box, &o);
	if (!strcmp(argv[0], "config") && argc <= 2)
		return cmd_config(box, &o, argv[1]);
	if (!strcmp(argv[0], "set-group") && argc <= 2)
		return cmd_set_group(box, &o, argv[1]);
	if (!strcmp(argv[0], "help") && argc == 1)
		return cmd_help(&o);
	return fail(&o, "unknown command or wrong arguments: '%s' (try help)", argv[0]);
}
