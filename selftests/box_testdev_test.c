// SPDX-License-Identifier: GPL-2.0
/*
 * softee-box and its test endpoint, in one process.  A fake host (a
 * transport on the simulated link, guest memory in a buffer, an MSI
 * catcher) enumerates the device with CfgRd0/CfgWr0, drives its registers
 * with MRd/MWr and runs DMAs both ways; it answers the box's MRd with
 * CplD (split, and in another order if asked) and applies its MWr.  The
 * box runs over the other port.  Time is simulated: a 1 MiB DMA takes a
 * few milliseconds of it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include <softee/box.h>
#include <softee/endpoint.h>
#include <softee/fault.h>
#include <softee/sim.h>
#include <softee/testdev.h>
#include <softee/tlp.h>
#include <softee/transport.h>

#define US		1000ULL
#define MS		1000000ULL

#define HOST_BDF	SOFTEE_BDF(0, 0, 0)
#define EP_BDF		SOFTEE_BDF(1, 0, 0)
#define BAR0_ADDR	0xc0000000ULL
#define BAR2_ADDR	0x800000000ULL
#define MSI_ADDR	0xfee01000ULL
#define MSI_DATA	0x4041u
#define MSIX_ADDR(v)	(0xfee02000ULL + 0x1000ULL * (v))
#define MSIX_DATA(v)	(0x51u + (v))
#define GUEST_LOW	0x10000000ULL		/* below 4 GiB: 3DW requests */
#define GUEST_HIGH	0x200000000ULL		/* above: 4DW */
#define GUEST_SIZE	(4u << 20)
#define MAX_HOSTS	2
#define MAX_PEND	256

#define REG(r)		(BAR0_ADDR + (r))

struct cpl_slot {
	bool busy, done, bad;
	uint8_t status;
	uint16_t completer;
	uint64_t addr;		/* memory reads: first byte */
	uint32_t want, got, ncpl;
	uint8_t data[SOFTEE_TLP_MAX_DATA];
};

/* An MRd of the box waiting for its completions (the reordering host). */
struct pend {
	struct softee_tlp req;
	struct softee_peer *p;
	uint32_t done;
	bool ur;
};

struct host {
	struct world *w;
	struct softee_transport *t;
	struct softee_peer *peer;		/* the box */
	uint8_t *mem;				/* guest memory */
	uint64_t mem_base;
	uint32_t cpl_mps;			/* our completions' size */
	uint32_t expect_mps, expect_mrrs;	/* what the box must keep to */
	bool ignore_mrd, reorder;
	struct cpl_slot *cpl;			/* by tag */
	uint8_t next_tag;
	struct pend pend[MAX_PEND];
	unsigned int npend;
	uint64_t pend_since;
	/* what the box sent us */
	unsigned int msis;
	uint64_t msi_addr;
	uint32_t msi_data;
	uint64_t mrd, mwr, mrd_ur, mwr_outside, cpl_unexpected, proto_err;
	uint64_t mwr_bytes, mwr_bytes_at_msi;	/* data written, and by the last MSI */
	uint32_t mrd_max, mwr_max;
	uint16_t last_requester;
	unsigned int ups, downs;
};

struct world {
	uint64_t now;
	struct softee_netdev *port[3];
	struct softee_netdev *link[3];		/* what the transports use: a port, or a fault injector on it */
	unsigned int nports;
	struct softee_box *box;
	struct softee_endpoint *ep;
	struct host host[MAX_HOSTS];
	unsigned int nhosts;
	uint16_t target;			/* CfgRd0/CfgWr0 target */
	unsigned int log_lines;
	bool verbose;
};

static uint64_t *the_clock;

static uint64_t fake_clock(void *opaque)
{
	(void)opaque;
	return *the_clock;
}

static void box_log(void *opaque, int level, const char *msg)
{
	struct world *w = opaque;

	w->log_lines++;
	if (w->verbose)
		fprintf(stderr, "# box %s: %s\n", softee_log_level_name(level), msg);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

/* ---- the fake host's side of the link --------------------------------------------- */

static int host_send(struct host *h, const struct softee_tlp *t);

static bool in_guest(const struct host *h, uint64_t a, uint32_t n)
{
	return a >= h->mem_base && a - h->mem_base <= GUEST_SIZE && n <= GUEST_SIZE - (a - h->mem_base);
}

/* The next completion of a box's MRd; false when it is answered whole. */
static bool answer_one(struct host *h, struct pend *pd)
{
	struct softee_tlp c;
	uint64_t start;
	uint32_t len;
	int n;

	softee_tlp_range(&pd->req, &start, &len);
	if (pd->ur) {
		struct softee_tlp u = {
			.kind = SOFTEE_TLP_CPL, .completer = HOST_BDF, .status = SOFTEE_TLP_CPL_UR,
			.requester = pd->req.requester, .tag = pd->req.tag,
			.byte_count = len ? len : 1, .lower_addr = start & 0x7f,
		};

		host_send(h, &u);
		return false;
	}
	n = softee_tlp_cpl_split(&pd->req, pd->done, h->cpl_mps, 64, &c);
	if (n <= 0)
		return false;
	c.completer = HOST_BDF;
	c.status = SOFTEE_TLP_CPL_SC;
	c.data = h->mem + (((start + pd->done) & ~3ULL) - h->mem_base);
	host_send(h, &c);
	pd->done += (uint32_t)n;
	return pd->done < (len ? len : 1);
}

static void on_box_mrd(struct host *h, struct softee_peer *p, const struct softee_tlp *t)
{
	struct pend pd = { .req = *t, .p = p };
	uint64_t start;
	uint32_t len, m = h->expect_mrrs;

	softee_tlp_range(t, &start, &len);
	h->mrd++;
	h->last_requester = t->requester;
	if (len > h->mrd_max)
		h->mrd_max = len;
	if (m && (len > m || (start & ~(uint64_t)(m - 1)) != ((start + len - 1) & ~(uint64_t)(m - 1))))
		h->proto_err++;
	if (h->ignore_mrd)
		return;
	if (!in_guest(h, start, len)) {
		h->mrd_ur++;
		pd.ur = true;
	}
	if (h->reorder && h->npend < MAX_PEND) {
		if (!h->npend)
			h->pend_since = h->w->now;
		h->pend[h->npend++] = pd;
		return;
	}
	while (answer_one(h, &pd))
		;
}

static void on_box_mwr(struct host *h, const struct softee_tlp *t)
{
	uint64_t start;
	uint32_t len, m = h->expect_mps;

	softee_tlp_range(t, &start, &len);
	h->mwr++;
	h->last_requester = t->requester;
	if ((start >> 20) == (MSI_ADDR >> 20)) {
		if (len != 4 || (start & 3))
			h->proto_err++;
		h->msis++;
		h->mwr_bytes_at_msi = h->mwr_bytes;
		h->msi_addr = start;
		h->msi_data = le32(t->data);
		return;
	}
	if (len > h->mwr_max)
		h->mwr_max = len;
	if (m && (len > m || (start & ~(uint64_t)(m - 1)) != ((start + len - 1) & ~(uint64_t)(m - 1))))
		h->proto_err++;
	if (!in_guest(h, start, len)) {
		h->mwr_outside++;
		return;
	}
	h->mwr_bytes += len;
	memcpy(h->mem + (start - h->mem_base), t->data + (start & 3), len);
}

static void on_cpl(struct host *h, const struct softee_tlp *t)
{
	struct cpl_slot *s = &h->cpl[t->tag];
	uint32_t la = t->lower_addr, n;

	if (!s->busy || s->done || t->requester != HOST_BDF) {
		h->cpl_unexpected++;
		return;
	}
	s->completer = t->completer;
	s->ncpl++;
	if (t->status != SOFTEE_TLP_CPL_SC || t->kind == SOFTEE_TLP_CPL) {
		/* an error, or a write's completion (Byte Count 4) */
		s->status = t->status;
		s->bad = t->status == SOFTEE_TLP_CPL_SC && t->byte_count != 4;
		s->done = true;
		return;
	}
	if ( t->byte_count != s->want - s->got ||
	    la != ((s->addr + s->got) & 0x7f)) {
		s->bad = true;
		s->done = true;
		return;
	}
	n = 4u * t->len_dw - (la & 3);
	if (n > t->byte_count)
		n = t->byte_count;
	memcpy(s->data + s->got, t->data + (la & 3), n);
	s->got += n;
	if (s->got == s->want)
		s->done = true;
}

static void host_rx(void *opaque, struct softee_peer *p, const uint8_t *tlp, uint32_t len)
{
	struct host *h = opaque;
	struct softee_tlp t;

	if (softee_tlp_decode(&t, tlp, len, NULL) != (int)len) {
		h->proto_err++;
		return;
	}
	switch (t.kind) {
	case SOFTEE_TLP_CPL:
	case SOFTEE_TLP_CPLD:
		on_cpl(h, &t);
		break;
	case SOFTEE_TLP_MRD:
		on_box_mrd(h, p, &t);
		break;
	case SOFTEE_TLP_MWR:
		on_box_mwr(h, &t);
		break;
	default:
		h->proto_err++;
	}
}

static void host_event(void *opaque, struct softee_peer *p, enum softee_transport_event ev)
{
	struct host *h = opaque;

	if (!p || p->live->role != SOFTEE_ROLE_BOX)
		return;
	if (ev == SOFTEE_TEV_PEER_UP) {
		h->peer = p;
		h->ups++;
	} else if (ev == SOFTEE_TEV_PEER_DOWN) {
		h->downs++;
	}
}

/* The reordering host answers what waits, newest first and interleaved. */
static void host_answer_pending(struct host *h)
{
	bool more = true;
	int i;

	if (!h->npend || (h->npend < 8 && h->w->now - h->pend_since < 20 * US))
		return;
	while (more) {
		more = false;
		for (i = (int)h->npend - 1; i >= 0; i--) {
			struct pend *pd = &h->pend[i];

			if (pd->req.kind && answer_one(h, pd))
				more = true;
			else
				pd->req.kind = 0;
		}
	}
	h->npend = 0;
}

static void step(struct world *w)
{
	unsigned int i;

	for (i = 0; i < w->nhosts; i++)
		if (w->host[i].t)
			softee_transport_poll(w->host[i].t, w->now);
	softee_box_poll(w->box, w->now);
	for (i = 0; i < w->nhosts; i++)
		host_answer_pending(&w->host[i]);
	w->now += 1 * US;
}

static void run(struct world *w, uint64_t ns)
{
	uint64_t end = w->now + ns;

	while (w->now < end)
		step(w);
}

#define RUN_UNTIL(w, cond, max) ({					\
	uint64_t __end = (w)->now + (max);				\
	while (!(cond) && (w)->now < __end)				\
		step(w);						\
	(cond);								\
})

static int host_send(struct host *h, const struct softee_tlp *t)
{
	uint8_t buf[SOFTEE_TLP_MAX_SIZE];
	int n = softee_tlp_encode(t, buf, sizeof(buf)), ret;

	if (n < 0) {
		h->proto_err++;
		return n;
	}
	ret = softee_transport_send_tlp(h->peer, buf, (uint32_t)n);
	if (ret)
		h->proto_err++;
	return ret;
}

/* Send a raw TLP from the host, waiting for room. */
static int host_send_raw(struct world *w, struct host *h, const void *tlp, uint32_t len)
{
	int ret;

	while ((ret = softee_transport_send_tlp(h->peer, tlp, len)) == -EAGAIN)
		step(w);
	return ret;
}

/* A non-posted request: its tag (the slot waits for the completion), or -errno. */
static int host_request(struct world *w, struct host *h, struct softee_tlp *t)
{
	uint8_t buf[SOFTEE_TLP_MAX_SIZE];
	struct cpl_slot *s;
	uint64_t a;
	uint32_t n;
	int len, ret;

	t->requester = HOST_BDF;
	t->tag = h->next_tag++;
	s = &h->cpl[t->tag];
	memset(s, 0, offsetof(struct cpl_slot, data));
	s->busy = true;
	if (t->kind == SOFTEE_TLP_MRD) {
		softee_tlp_range(t, &a, &n);
		s->addr = a;
		s->want = n ? n : 1;
	} else {
		s->want = 4;
	}
	len = softee_tlp_encode(t, buf, sizeof(buf));
	if (len < 0)
		return len;
	ret = host_send_raw(w, h, buf, (uint32_t)len);
	return ret ? ret : t->tag;
}

/* Wait for a request's completion: its status, -ETIMEDOUT, or -EPROTO for a bad one. */
static int host_wait(struct world *w, struct host *h, int tag)
{
	struct cpl_slot *s = &h->cpl[tag];

	if (!RUN_UNTIL(w, s->done, 50 * MS))
		return -ETIMEDOUT;
	s->busy = false;
	return s->bad ? -EPROTO : s->status;
}

static int cfg_rd(struct world *w, struct host *h, uint32_t off, uint32_t *val)
{
	struct softee_tlp t = { .kind = SOFTEE_TLP_CFGRD0, .len_dw = 1, .first_be = 0xf,
				.target = w->target, .reg = (uint16_t)(off / 4) };
	int tag = host_request(w, h, &t), ret;

	if (tag < 0)
		return tag;
	ret = host_wait(w, h, tag);
	*val = ret == SOFTEE_TLP_CPL_SC ? le32(h->cpl[tag].data) : 0xffffffff;
	return ret;
}

static uint32_t cfg_rd32(struct world *w, struct host *h, uint32_t off)
{
	uint32_t v;

	cfg_rd(w, h, off & ~3u, &v);
	return v >> (8 * (off & 3));
}

static int cfg_wr(struct world *w, struct host *h, uint32_t off, uint32_t len, uint32_t val)
{
	uint32_t sh = off & 3;
	uint8_t d[4];
	struct softee_tlp t = { .kind = SOFTEE_TLP_CFGWR0, .len_dw = 1,
				.first_be = (uint8_t)(((1u << len) - 1) << sh), .target = w->target,
				.reg = (uint16_t)(off / 4), .data = d };
	int tag;

	val <<= 8 * sh;
	d[0] = (uint8_t)val;
	d[1] = (uint8_t)(val >> 8);
	d[2] = (uint8_t)(val >> 16);
	d[3] = (uint8_t)(val >> 24);
	tag = host_request(w, h, &t);
	return tag < 0 ? tag : host_wait(w, h, tag);
}

static int mmio_rd(struct world *w, struct host *h, uint64_t addr, void *buf, uint32_t len)
{
	struct softee_tlp t = { .kind = SOFTEE_TLP_MRD };
	int tag, ret;

	if (softee_tlp_set_range(&t, addr, len))
		return -EINVAL;
	tag = host_request(w, h, &t);
	if (tag < 0)
		return tag;
	ret = host_wait(w, h, tag);
	if (ret == SOFTEE_TLP_CPL_SC)
		memcpy(buf, h->cpl[tag].data, len);
	return ret;
}

static uint32_t rd32(struct world *w, struct host *h, uint64_t addr)
{
	uint32_t v = 0xffffffff;

	if (mmio_rd(w, h, addr, &v, 4))
		return 0xdeadbeef;
	return v;
}

static int mmio_wr(struct world *w, struct host *h, uint64_t addr, const void *buf, uint32_t len)
{
	uint8_t stage[SOFTEE_TLP_MAX_DATA + 8] = { 0 };
	uint8_t tlp[SOFTEE_TLP_MAX_SIZE];
	struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .requester = HOST_BDF, .data = stage };
	int n;

	if (softee_tlp_set_range(&t, addr, len))
		return -EINVAL;
	memcpy(stage + (addr & 3), buf, len);
	n = softee_tlp_encode(&t, tlp, sizeof(tlp));
	if (n < 0)
		return n;
	return host_send_raw(w, h, tlp, (uint32_t)n);
}

static void wr32(struct world *w, struct host *h, uint64_t addr, uint32_t v)
{
	mmio_wr(w, h, addr, &v, 4);
}

/* ---- the world -------------------------------------------------------------------------- */

struct world_cfg {
	unsigned int hosts;
	bool heartbeats;
	uint16_t box_group, host_group[MAX_HOSTS];
	struct softee_ep_cfg ep;
	uint32_t devmem, tags, cpl_mps;
	uint64_t guest_base;
	uint32_t drop_ppm, reorder_ppm;		/* a fault injector under every end */
};

static void host_start(struct __test_metadata *_metadata, struct world *w, unsigned int i,
		       const struct world_cfg *wc)
{
	struct host *h = &w->host[i];
	struct softee_transport_cfg tc = {
		.nd = w->link[1 + i], .group = wc->host_group[i], .role = SOFTEE_ROLE_HOST,
		.no_heartbeats = !wc->heartbeats, .hb_period_ns = 1 * MS, .seed = 100 + i + w->now,
		.txq_bytes = 4u << 20, .rx = host_rx, .event = host_event, .opaque = h,
		.clock = fake_clock, .name = i ? "host-b" : "host-a",
	};

	h->w = w;
	h->peer = NULL;
	ASSERT_EQ(0, softee_transport_create(&h->t, &tc, w->now));
	if (!wc->heartbeats) {
		ASSERT_NE(NULL, softee_transport_add_peer(softee_box_transport(w->box),
							  w->port[1 + i]->mac, SOFTEE_ROLE_HOST, w->now));
		ASSERT_NE(NULL, softee_transport_add_peer(h->t, w->port[0]->mac, SOFTEE_ROLE_BOX,
							  w->now));
		ASSERT_NE(NULL, h->peer);
	}
}

static void world_init(struct __test_metadata *_metadata, struct world *w,
		       const struct world_cfg *wc)
{
	struct softee_sim_cfg sc = { .ports = 1 + wc->hosts, .clock = &w->now, .latency_ns = 2 * US,
				     .queue_frames = 4096 };
	struct softee_box_cfg bc = {
		.xport = { .group = wc->box_group, .no_heartbeats = !wc->heartbeats,
			   .hb_period_ns = 1 * MS, .seed = 7 },
		.clock = fake_clock, .tags = wc->tags,
		.cpl_timeout_ns = wc->drop_ppm ? 100 * MS : 2 * MS,
		.log = box_log, .log_opaque = w, .log_level = SOFTEE_LOG_DEBUG,
	};
	unsigned int i;

	w->now = 1 * MS;
	the_clock = &w->now;
	w->verbose = getenv("BOX_TEST_VERBOSE") != NULL;
	w->target = EP_BDF;
	w->nports = sc.ports;
	w->nhosts = wc->hosts;
	ASSERT_EQ(0, softee_sim_create(w->port, &sc));
	for (i = 0; i < sc.ports; i++) {
		struct softee_fault_cfg fc = { .seed = 11 + i, .drop_ppm = wc->drop_ppm,
					       .reorder_ppm = wc->reorder_ppm, .clock = &w->now };

		w->link[i] = w->port[i];
		if (wc->drop_ppm || wc->reorder_ppm)
			ASSERT_EQ(0, softee_fault_create(&w->link[i], w->port[i], &fc));
	}
	bc.xport.nd = w->link[0];
	ASSERT_EQ(0, softee_box_create(&w->box, &bc, w->now));
	ASSERT_EQ(0, softee_testdev_create(&w->ep, &wc->ep, wc->devmem));
	ASSERT_EQ(0, softee_box_add_endpoint(w->box, w->ep));
	for (i = 0; i < wc->hosts; i++) {
		struct host *h = &w->host[i];

		h->mem = calloc(1, GUEST_SIZE + 8);
		h->cpl = calloc(256, sizeof(*h->cpl));
		ASSERT_NE(NULL, h->mem);
		ASSERT_NE(NULL, h->cpl);
		h->mem_base = wc->guest_base ? wc->guest_base : GUEST_LOW;
		h->cpl_mps = wc->cpl_mps ? wc->cpl_mps : 256;
		h->expect_mps = w->ep->max_payload;
		h->expect_mrrs = w->ep->max_read_req;
		host_start(_metadata, w, i, wc);
	}
}

static void world_fini(struct world *w)
{
	unsigned int i;

	if (!w)
		return;
	softee_box_destroy(w->box);
	for (i = 0; i < w->nhosts; i++) {
		if (w->host[i].t)
			softee_transport_destroy(w->host[i].t);
		free(w->host[i].mem);
		free(w->host[i].cpl);
	}
	for (i = 0; i < w->nports; i++) {
		if (w->link[i] && w->link[i] != w->port[i])
			softee_netdev_close(w->link[i]);
		softee_netdev_close(w->port[i]);
	}
	free(w);
}

/*
 * What a host's enumeration does: IDs, BAR sizing, BARs assigned, memory
 * space and bus mastering on, MSI (or MSI-X) programmed.
 */
static void enumerate(struct __test_metadata *_metadata, struct world *w, struct host *h,
		      bool msix)
{
	uint32_t v;

	ASSERT_EQ(SOFTEE_TLP_CPL_SC, cfg_rd(w, h, 0, &v));
	ASSERT_EQ((uint32_t)SOFTEE_TESTDEV_DEVICE_ID << 16 | SOFTEE_TESTDEV_VENDOR_ID, v);
	/* sizing */
	ASSERT_EQ(0, cfg_wr(w, h, 0x10, 4, 0xffffffff));
	EXPECT_EQ(0xfffff000u, cfg_rd32(w, h, 0x10));
	ASSERT_EQ(0, cfg_wr(w, h, 0x18, 4, 0xffffffff));
	ASSERT_EQ(0, cfg_wr(w, h, 0x1c, 4, 0xffffffff));
	EXPECT_EQ(~(SOFTEE_TESTDEV_MEM_BAR_SIZE - 1) | 0xc, cfg_rd32(w, h, 0x18));
	EXPECT_EQ(0xffffffffu, cfg_rd32(w, h, 0x1c));
	/* assignment */
	ASSERT_EQ(0, cfg_wr(w, h, 0x10, 4, (uint32_t)BAR0_ADDR));
	ASSERT_EQ(0, cfg_wr(w, h, 0x18, 4, (uint32_t)BAR2_ADDR));
	ASSERT_EQ(0, cfg_wr(w, h, 0x1c, 4, (uint32_t)(BAR2_ADDR >> 32)));
	if (msix) {
		unsigned int vec;

		ASSERT_EQ(0, cfg_wr(w, h, SOFTEE_TESTDEV_CAP_MSIX + 2, 2,
				    SOFTEE_MSIX_FLAGS_ENABLE | SOFTEE_MSIX_FLAGS_MASKALL));
		ASSERT_EQ(0, cfg_wr(w, h, 0x04, 2, SOFTEE_PCI_COMMAND_MEMORY | SOFTEE_PCI_COMMAND_MASTER));
		for (vec = 0; vec < SOFTEE_TESTDEV_MSIX_VECTORS; vec++) {
			uint64_t e = REG(SOFTEE_TESTDEV_MSIX_TABLE + 16 * vec);

			wr32(w, h, e, (uint32_t)MSIX_ADDR(vec));
			wr32(w, h, e + 4, (uint32_t)(MSIX_ADDR(vec) >> 32));
			wr32(w, h, e + 8, MSIX_DATA(vec));
			wr32(w, h, e + 12, 0);
		}
		ASSERT_EQ(0, cfg_wr(w, h, SOFTEE_TESTDEV_CAP_MSIX + 2, 2, SOFTEE_MSIX_FLAGS_ENABLE));
	} else {
		ASSERT_EQ(0, cfg_wr(w, h, SOFTEE_TESTDEV_CAP_MSI + 4, 4, (uint32_t)MSI_ADDR));
		ASSERT_EQ(0, cfg_wr(w, h, SOFTEE_TESTDEV_CAP_MSI + 8, 4, (uint32_t)(MSI_ADDR >> 32)));
		ASSERT_EQ(0, cfg_wr(w, h, SOFTEE_TESTDEV_CAP_MSI + 12, 2, MSI_DATA));
		ASSERT_EQ(0, cfg_wr(w, h, SOFTEE_TESTDEV_CAP_MSI + 2, 2, SOFTEE_MSI_FLAGS_ENABLE));
		ASSERT_EQ(0, cfg_wr(w, h, 0x04, 2, SOFTEE_PCI_COMMAND_MEMORY | SOFTEE_PCI_COMMAND_MASTER));
	}
	ASSERT_EQ(SOFTEE_TESTDEV_MAGIC, rd32(w, h, REG(SOFTEE_TESTDEV_ID)));
}

/* Program and start a DMA; wait for its interrupt (irq) or its DONE bit.  Returns STATUS. */
static uint32_t dma(struct world *w, struct host *h, uint64_t host_addr, uint32_t dev,
		    uint32_t len, uint32_t dir, bool irq)
{
	unsigned int msis = h->msis;
	uint32_t st = 0;

	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_HOST_LO), (uint32_t)host_addr);
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_HOST_HI), (uint32_t)(host_addr >> 32));
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_DEV), dev);
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_LEN), len);
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_DIR), dir);
	wr32(w, h, REG(SOFTEE_TESTDEV_CTRL), SOFTEE_TESTDEV_CTRL_START |
	     (irq ? SOFTEE_TESTDEV_CTRL_IRQ_EN : 0));
	if (irq) {
		RUN_UNTIL(w, h->msis > msis, 2000 * MS);
		return rd32(w, h, REG(SOFTEE_TESTDEV_STATUS));
	}
	RUN_UNTIL(w, (st = rd32(w, h, REG(SOFTEE_TESTDEV_STATUS))) & SOFTEE_TESTDEV_STATUS_DONE,
		  2000 * MS);
	return st;
}

static uint32_t dma_err(uint32_t st)
{
	return (st & SOFTEE_TESTDEV_STATUS_ERROR) ? softee_testdev_err(st) : 0;
}

/* ---- the DMA sweep ------------------------------------------------------------------------ */

FIXTURE(dma) {
	struct world *w;
};

FIXTURE_VARIANT(dma) {
	uint32_t len, host_off, dev_off;
	uint32_t cpl_mps, mps, mrrs, tags;
	uint64_t guest_base;
	bool msix, reorder;
	uint32_t drop_ppm, reorder_ppm;
};

FIXTURE_VARIANT_ADD(dma, k4) {
	.len = 4096, .cpl_mps = 256, .mps = 256, .mrrs = 512, .guest_base = GUEST_LOW,
};

FIXTURE_VARIANT_ADD(dma, k64_unaligned_msix_4dw) {
	.len = 65536 + 13, .host_off = 3, .dev_off = 5, .cpl_mps = 128, .mps = 128, .mrrs = 256,
	.guest_base = GUEST_HIGH, .msix = true,
};

FIXTURE_VARIANT_ADD(dma, m1) {
	.len = 1u << 20, .cpl_mps = 512, .mps = 512, .mrrs = 4096, .guest_base = GUEST_HIGH,
};

FIXTURE_VARIANT_ADD(dma, m1_reordered_64b_completions) {
	.len = 1u << 20, .host_off = 64, .dev_off = 4096, .cpl_mps = 64, .mps = 256, .mrrs = 1024,
	.tags = 32, .guest_base = GUEST_LOW, .reorder = true,
};

FIXTURE_VARIANT_ADD(dma, m1_5pct_loss_2pct_reorder) {
	.len = 1u << 20, .host_off = 8, .dev_off = 12, .cpl_mps = 256, .mps = 256, .mrrs = 512,
	.guest_base = GUEST_HIGH, .drop_ppm = 50000, .reorder_ppm = 20000,
};

FIXTURE_VARIANT_ADD(dma, devmem_whole_mps1024_4tags) {
	.len = SOFTEE_TESTDEV_MEM_SIZE, .host_off = 1, .cpl_mps = 1024, .mps = 1024, .mrrs = 512,
	.tags = 4, .guest_base = GUEST_HIGH, .msix = true,
};

FIXTURE_SETUP(dma)
{
	struct world_cfg wc = {
		.hosts = 1, .box_group = 1, .host_group = { 1 },
		.ep = { .max_payload = variant->mps, .max_read_req = variant->mrrs },
		.tags = variant->tags, .cpl_mps = variant->cpl_mps, .guest_base = variant->guest_base,
		.drop_ppm = variant->drop_ppm, .reorder_ppm = variant->reorder_ppm,
	};

	self->w = calloc(1, sizeof(*self->w));
	ASSERT_NE(NULL, self->w);
	world_init(_metadata, self->w, &wc);
	self->w->host[0].reorder = variant->reorder;
}

FIXTURE_TEARDOWN(dma)
{
	world_fini(self->w);
}

TEST_F(dma, both_ways)
{
	struct world *w = self->w;
	struct host *h = &w->host[0];
	const struct softee_box_stats *bs = softee_box_stats(w->box);
	uint32_t len = variant->len, dst = (2u << 20) + 7, crc, st, off;
	uint8_t *chunk = malloc(4096);

	ASSERT_NE(NULL, chunk);
	fill(h->mem + variant->host_off, len, len);
	memset(h->mem + dst - 7, 0xa5, len + 64);
	crc = softee_testdev_crc32(0, h->mem + variant->host_off, len);
	enumerate(_metadata, w, h, variant->msix);

	/* host memory -> device memory */
	st = dma(w, h, h->mem_base + variant->host_off, variant->dev_off, len,
		 SOFTEE_TESTDEV_DIR_TO_DEV, true);
	EXPECT_EQ(SOFTEE_TESTDEV_STATUS_DONE, st);
	EXPECT_EQ(crc, rd32(w, h, REG(SOFTEE_TESTDEV_CRC)));
	if (variant->msix) {
		EXPECT_EQ(MSIX_ADDR(SOFTEE_TESTDEV_VEC_DMA), h->msi_addr);
		EXPECT_EQ(MSIX_DATA(SOFTEE_TESTDEV_VEC_DMA), h->msi_data);
	} else {
		EXPECT_EQ(MSI_ADDR, h->msi_addr);
		EXPECT_EQ(MSI_DATA, h->msi_data);
	}
	EXPECT_EQ(1, h->msis);
	/* ... and it is there, read back through BAR2 */
	for (off = 0; off < len;) {
		uint64_t a = BAR2_ADDR + variant->dev_off + off;
		uint32_t n = 4096 - (uint32_t)(a & 0xfff);

		if (n > len - off)
			n = len - off;
		ASSERT_EQ(SOFTEE_TLP_CPL_SC, mmio_rd(w, h, a, chunk, n));
		ASSERT_EQ(0, memcmp(chunk, h->mem + variant->host_off + off, n)) {
			TH_LOG("device memory differs at offset %u", off);
		}
		off += n;
	}

	/* device memory -> host memory, elsewhere */
	st = dma(w, h, h->mem_base + dst, variant->dev_off, len, SOFTEE_TESTDEV_DIR_TO_HOST, true);
	EXPECT_EQ(SOFTEE_TESTDEV_STATUS_DONE, st);
	EXPECT_EQ(crc, rd32(w, h, REG(SOFTEE_TESTDEV_CRC)));
	EXPECT_EQ(2, h->msis);
	EXPECT_EQ(len, h->mwr_bytes_at_msi);	/* the MSI came behind every byte */
	EXPECT_EQ(0, memcmp(h->mem + dst, h->mem + variant->host_off, len));
	EXPECT_EQ(crc, softee_testdev_crc32(0, h->mem + dst, len));
	/* not a byte more */
	EXPECT_EQ(0xa5, h->mem[dst - 1]);
	EXPECT_EQ(0xa5, h->mem[dst + len]);
	EXPECT_EQ(2, rd32(w, h, REG(SOFTEE_TESTDEV_DMA_COUNT)));
	EXPECT_EQ(2, rd32(w, h, REG(SOFTEE_TESTDEV_IRQ_COUNT)));

	/* the box kept to its sizes and ID, and saw nothing wrong */
	EXPECT_EQ(0, h->proto_err);
	EXPECT_EQ(0, h->cpl_unexpected);
	EXPECT_EQ(0, h->mwr_outside);
	EXPECT_GE(variant->mrrs, h->mrd_max);
	EXPECT_GE(variant->mps, h->mwr_max);
	EXPECT_EQ(EP_BDF, h->last_requester);
	EXPECT_EQ(0, bs->cpl_malformed);
	EXPECT_EQ(0, bs->cpl_unexpected);
	EXPECT_EQ(0, bs->cpl_timeouts);
	EXPECT_EQ(0, bs->rx_malformed);
	EXPECT_EQ(0, bs->tx_dropped);
	EXPECT_EQ(0, bs->tags_busy_max > (variant->tags ? variant->tags : SOFTEE_BOX_DEF_TAGS));
	TH_LOG("%u bytes: %llu MRd (max %u), %llu MWr (max %u), %llu us simulated", len,
	       (unsigned long long)h->mrd, h->mrd_max, (unsigned long long)h->mwr, h->mwr_max,
	       (unsigned long long)((w->now - 1 * MS) / US));
	free(chunk);
}

/* ---- the box and the endpoint, one feature at a time ------------------------------------ */

FIXTURE(box) {
	struct world *w;
};

FIXTURE_SETUP(box)
{
	struct world_cfg wc = { .hosts = 1, .box_group = 1, .host_group = { 1 } };

	self->w = calloc(1, sizeof(*self->w));
	ASSERT_NE(NULL, self->w);
	world_init(_metadata, self->w, &wc);
}

FIXTURE_TEARDOWN(box)
{
	world_fini(self->w);
}

TEST_F(box, config_header)
{
	struct world *w = self->w;
	struct host *h = &w->host[0];
	uint32_t v, cap;

	EXPECT_EQ((uint32_t)SOFTEE_TESTDEV_DEVICE_ID << 16 | SOFTEE_TESTDEV_VENDOR_ID, cfg_rd32(w, h, 0));
	EXPECT_EQ(SOFTEE_TESTDEV_CLASS << 8 | SOFTEE_TESTDEV_REVISION, cfg_rd32(w, h, 0x08));
	EXPECT_EQ(0, cfg_rd32(w, h, 0x0c) >> 16 & 0xff);	/* header type 0 */
	EXPECT_EQ((uint32_t)SOFTEE_TESTDEV_SUBSYS_ID << 16 | SOFTEE_TESTDEV_SUBSYS_VENDOR_ID,
		  cfg_rd32(w, h, 0x2c));
	EXPECT_EQ(SOFTEE_PCI_STATUS_CAP_LIST, cfg_rd32(w, h, 0x04) >> 16);
	EXPECT_EQ(0, cfg_rd32(w, h, 0x3c) >> 8 & 0xff);	/* no INTx pin */
	/* the capability list: MSI, then MSI-X, then the end */
	cap = cfg_rd32(w, h, 0x34) & 0xff;
	EXPECT_EQ(SOFTEE_TESTDEV_CAP_MSI, cap);
	v = cfg_rd32(w, h, cap);
	EXPECT_EQ(SOFTEE_PCI_CAP_ID_MSI, v & 0xff);
	EXPECT_EQ(SOFTEE_MSI_FLAGS_64BIT | SOFTEE_MSI_FLAGS_MASKBIT, v >> 16);
	cap = v >> 8 & 0xff;
	EXPECT_EQ(SOFTEE_TESTDEV_CAP_MSIX, cap);
	v = cfg_rd32(w, h, cap);
	EXPECT_EQ(SOFTEE_PCI_CAP_ID_MSIX, v & 0xff);
	EXPECT_EQ(0, v >> 8 & 0xff);
	EXPECT_EQ(SOFTEE_TESTDEV_MSIX_VECTORS - 1, v >> 16);
	EXPECT_EQ(SOFTEE_TESTDEV_MSIX_TABLE | SOFTEE_TESTDEV_REG_BAR, cfg_rd32(w, h, cap + 4));
	EXPECT_EQ(SOFTEE_TESTDEV_MSIX_PBA | SOFTEE_TESTDEV_REG_BAR, cfg_rd32(w, h, cap + 8));

	/* read-only fields stay; BARs that are not there read 0 after all ones */
	EXPECT_EQ(0, cfg_wr(w, h, 0x00, 4, 0x12345678));
	EXPECT_EQ((uint32_t)SOFTEE_TESTDEV_DEVICE_ID << 16 | SOFTEE_TESTDEV_VENDOR_ID, cfg_rd32(w, h, 0));
	EXPECT_EQ(0, cfg_wr(w, h, 0x14, 4, 0xffffffff));
	EXPECT_EQ(0, cfg_rd32(w, h, 0x14));
	EXPECT_EQ(0, cfg_wr(w, h, 0x20, 4, 0xffffffff));
	EXPECT_EQ(0, cfg_wr(w, h, 0x24, 4, 0xffffffff));
	EXPECT_EQ(0, cfg_rd32(w, h, 0x20));
	EXPECT_EQ(0, cfg_rd32(w, h, 0x24));
	EXPECT_EQ(0, cfg_wr(w, h, 0x30, 4, 0xffffffff));
	EXPECT_EQ(0, cfg_rd32(w, h, 0x30));			/* no expansion ROM */
	/* command: only the bits the function has */
	EXPECT_EQ(0, cfg_wr(w, h, 0x04, 2, 0xffff));
	EXPECT_EQ(SOFTEE_PCI_COMMAND_MEMORY | SOFTEE_PCI_COMMAND_MASTER | SOFTEE_PCI_COMMAND_PARITY |
		  SOFTEE_PCI_COMMAND_SERR | SOFTEE_PCI_COMMAND_INTX_DISABLE, cfg_rd32(w, h, 0x04) & 0xffff);
	/* byte writes: interrupt line is scratch, interrupt pin is not */
	EXPECT_EQ(0, cfg_wr(w, h, 0x3c, 1, 0x0b));
	EXPECT_EQ(0, cfg_wr(w, h, 0x3d, 1, 0x01));
	EXPECT_EQ(0x0b, cfg_rd32(w, h, 0x3c) & 0xffff);
	/* the extended space is empty */
	EXPECT_EQ(0, cfg_rd32(w, h, 0x100));
	EXPECT_EQ(0, cfg_rd32(w, h, 0xffc));

	/* another function: UR (all ones to enumeration) */
	w->target = SOFTEE_BDF(1, 0, 3);
	EXPECT_EQ(SOFTEE_TLP_CPL_UR, cfg_rd(w, h, 0, &v));
	EXPECT_EQ(SOFTEE_TLP_CPL_UR, cfg_wr(w, h, 0x04, 2, 6));
	/* bus and device numbers are captured from CfgWr0, and complete with them */
	w->target = SOFTEE_BDF(3, 4, 0);
	EXPECT_EQ(0, cfg_wr(w, h, 0x3c, 1, 0x0c));
	EXPECT_EQ(SOFTEE_BDF(3, 4, 0), h->cpl[(uint8_t)(h->next_tag - 1)].completer);
	EXPECT_EQ(SOFTEE_BDF(3, 4, 0), w->ep->bdf);
	EXPECT_EQ(softee_box_ep_host(w->box, w->ep), softee_transport_find_peer(
		  softee_box_transport(w->box), w->port[1]->mac));
}

TEST_F(box, bar_decode)
{
	struct world *w = self->w;
	struct host *h = &w->host[0];
	const struct softee_box_stats *bs = softee_box_stats(w->box);
	uint8_t buf[64];
	uint32_t v;

	/* assigned, but memory space off: nobody claims the BARs */
	ASSERT_EQ(0, cfg_wr(w, h, 0x10, 4, (uint32_t)BAR0_ADDR));
	ASSERT_EQ(0, cfg_wr(w, h, 0x18, 4, (uint32_t)BAR2_ADDR));
	ASSERT_EQ(0, cfg_wr(w, h, 0x1c, 4, (uint32_t)(BAR2_ADDR >> 32)));
	EXPECT_EQ(SOFTEE_TLP_CPL_UR, mmio_rd(w, h, REG(0), &v, 4));
	ASSERT_EQ(0, cfg_wr(w, h, 0x04, 2, SOFTEE_PCI_COMMAND_MEMORY));
	EXPECT_EQ(SOFTEE_TLP_CPL_SC, mmio_rd(w, h, REG(0), &v, 4));
	EXPECT_EQ(SOFTEE_TESTDEV_MAGIC, v);
	/* inside BAR2; past its device memory reads all ones */
	EXPECT_EQ(SOFTEE_TLP_CPL_SC, mmio_rd(w, h, BAR2_ADDR + SOFTEE_TESTDEV_MEM_SIZE, &v, 4));
	EXPECT_EQ(0xffffffffu, v);
	EXPECT_EQ(SOFTEE_TLP_CPL_SC, mmio_rd(w, h, BAR2_ADDR + SOFTEE_TESTDEV_MEM_BAR_SIZE - 4, &v, 4));
	/* just past a BAR, or outside every BAR: UR */
	EXPECT_EQ(SOFTEE_TLP_CPL_UR, mmio_rd(w, h, BAR2_ADDR + SOFTEE_TESTDEV_MEM_BAR_SIZE, buf, 16));
	EXPECT_EQ(SOFTEE_TLP_CPL_UR, mmio_rd(w, h, BAR0_ADDR + 0x1000, &v, 4));
	EXPECT_EQ(SOFTEE_TLP_CPL_UR, mmio_rd(w, h, 0x1000, &v, 4));
	/* a write nobody claims is dropped and counted */
	wr32(w, h, 0x1000, 1);
	wr32(w, h, BAR0_ADDR - 4, 1);
	run(w, 50 * US);
	EXPECT_EQ(2, bs->posted_dropped);
	/* moved BAR0: the old address is gone */
	ASSERT_EQ(0, cfg_wr(w, h, 0x10, 4, (uint32_t)BAR0_ADDR + 0x10000));
	EXPECT_EQ(SOFTEE_TLP_CPL_UR, mmio_rd(w, h, REG(0), &v, 4));
	EXPECT_EQ(SOFTEE_TESTDEV_MAGIC, rd32(w, h, BAR0_ADDR + 0x10000));
	/* memory space off again */
	ASSERT_EQ(0, cfg_wr(w, h, 0x04, 2, 0));
	EXPECT_EQ(SOFTEE_TLP_CPL_UR, mmio_rd(w, h, BAR0_ADDR + 0x10000, &v, 4));
	EXPECT_LE(5, bs->ur_sent);
}

TEST_F(box, registers)
{
	struct world *w = self->w;
	struct host *h = &w->host[0];
	uint8_t big[4096], pat[4096];
	uint32_t v, regs[4], i;
	uint64_t lo_hi = 0x123456789abcdef0ULL;
	unsigned int ncpl;
	int tag;

	enumerate(_metadata, w, h, false);
	EXPECT_EQ(SOFTEE_TESTDEV_VERSION, rd32(w, h, REG(SOFTEE_TESTDEV_VER)));
	EXPECT_EQ(SOFTEE_TESTDEV_MEM_SIZE, rd32(w, h, REG(SOFTEE_TESTDEV_DEVMEM_SIZE)));
	/* scratch: whole, bytes, halves, a non-contiguous pair of bytes */
	wr32(w, h, REG(SOFTEE_TESTDEV_SCRATCH), 0x11223344);
	EXPECT_EQ(0x11223344u, rd32(w, h, REG(SOFTEE_TESTDEV_SCRATCH)));
	mmio_wr(w, h, REG(SOFTEE_TESTDEV_SCRATCH) + 1, "\xaa", 1);
	EXPECT_EQ(0x1122aa44u, rd32(w, h, REG(SOFTEE_TESTDEV_SCRATCH)));
	mmio_wr(w, h, REG(SOFTEE_TESTDEV_SCRATCH) + 2, "\xbb\xcc", 2);
	EXPECT_EQ(0xccbbaa44u, rd32(w, h, REG(SOFTEE_TESTDEV_SCRATCH)));
	EXPECT_EQ(SOFTEE_TLP_CPL_SC, mmio_rd(w, h, REG(SOFTEE_TESTDEV_SCRATCH) + 3, &v, 1));
	EXPECT_EQ(0xcc, v & 0xff);
	{
		/* 2-DW write at a QW-aligned address, bytes 0 and 2 of DW0, 1 of DW1 */
		uint8_t d[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 }, tlp[64];
		struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .requester = HOST_BDF, .len_dw = 2,
					.first_be = 0x5, .last_be = 0x2,
					.addr = REG(SOFTEE_TESTDEV_SCRATCH), .data = d };
		int n;

		n = softee_tlp_encode(&t, tlp, sizeof(tlp));
		ASSERT_LT(0, n);
		ASSERT_EQ(0, host_send_raw(w, h, tlp, (uint32_t)n));
		EXPECT_EQ(0xcc03aa01u, rd32(w, h, REG(SOFTEE_TESTDEV_SCRATCH)));
		EXPECT_EQ(SOFTEE_TESTDEV_MEM_SIZE, rd32(w, h, REG(SOFTEE_TESTDEV_DEVMEM_SIZE)));
	}
	/* read-only registers stay */
	wr32(w, h, REG(SOFTEE_TESTDEV_ID), 0);
	wr32(w, h, REG(SOFTEE_TESTDEV_CRC), 0x1234);
	EXPECT_EQ(SOFTEE_TESTDEV_MAGIC, rd32(w, h, REG(SOFTEE_TESTDEV_ID)));
	EXPECT_EQ(0, rd32(w, h, REG(SOFTEE_TESTDEV_CRC)));
	/* one 8-byte write fills DMA_HOST_LO and _HI; one 16-byte read returns four registers */
	mmio_wr(w, h, REG(SOFTEE_TESTDEV_DMA_HOST_LO), &lo_hi, 8);
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_DEV), 0x40);
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_LEN), 0x80);
	ASSERT_EQ(SOFTEE_TLP_CPL_SC, mmio_rd(w, h, REG(SOFTEE_TESTDEV_DMA_HOST_LO), regs, 16));
	EXPECT_EQ(0x9abcdef0u, regs[0]);
	EXPECT_EQ(0x12345678u, regs[1]);
	EXPECT_EQ(0x40u, regs[2]);
	EXPECT_EQ(0x80u, regs[3]);
	/* doorbell: counts, and keeps the value */
	for (i = 0; i < 5; i++)
		wr32(w, h, REG(SOFTEE_TESTDEV_DOORBELL), 100 + i);
	EXPECT_EQ(5, rd32(w, h, REG(SOFTEE_TESTDEV_COUNTER)));
	EXPECT_EQ(104, rd32(w, h, REG(SOFTEE_TESTDEV_DOORBELL)));
	EXPECT_EQ(SOFTEE_TESTDEV_IRQ_DOORBELL, rd32(w, h, REG(SOFTEE_TESTDEV_IRQ_STATUS)));
	wr32(w, h, REG(SOFTEE_TESTDEV_IRQ_STATUS), SOFTEE_TESTDEV_IRQ_DOORBELL);
	EXPECT_EQ(0, rd32(w, h, REG(SOFTEE_TESTDEV_IRQ_STATUS)));
	EXPECT_EQ(0, h->msis);			/* IRQ_EN is off */
	/* the MSI-X table is plain memory, the PBA is not writable */
	wr32(w, h, REG(SOFTEE_TESTDEV_MSIX_TABLE + 8), 0xabcd);
	EXPECT_EQ(0xabcdu, rd32(w, h, REG(SOFTEE_TESTDEV_MSIX_TABLE + 8)));
	EXPECT_EQ(1, rd32(w, h, REG(SOFTEE_TESTDEV_MSIX_TABLE + 12)));	/* masked at reset */
	wr32(w, h, REG(SOFTEE_TESTDEV_MSIX_PBA), 3);
	EXPECT_EQ(0, rd32(w, h, REG(SOFTEE_TESTDEV_MSIX_PBA)));
	/* 4 KiB through BAR2 in one MRd: split at the RCB, at most MPS each, reassembled */
	fill(pat, sizeof(pat), 9);
	for (i = 0; i < 4096; i += 256)
		mmio_wr(w, h, BAR2_ADDR + 0x3000 + i, pat + i, 256);
	{
		struct softee_tlp t = { .kind = SOFTEE_TLP_MRD };

		ASSERT_EQ(0, softee_tlp_set_range(&t, BAR2_ADDR + 0x3000, 4096));
		tag = host_request(w, h, &t);
		ASSERT_LE(0, tag);
		ASSERT_EQ(SOFTEE_TLP_CPL_SC, host_wait(w, h, tag));
		ncpl = h->cpl[tag].ncpl;
		EXPECT_EQ(4096 / w->ep->max_payload, ncpl);
		EXPECT_EQ(0, memcmp(h->cpl[tag].data, pat, 4096));
	}
	/* an unaligned odd read: the completion boundary splits it at 64 first */
	ASSERT_EQ(SOFTEE_TLP_CPL_SC, mmio_rd(w, h, BAR2_ADDR + 0x3000 + 61, big, 1000));
	EXPECT_EQ(0, memcmp(big, pat + 61, 1000));
	/* 61..256 (to the RCB after 61 + MPS), then 256, 256, 256 and the last 37 */
	EXPECT_EQ(5, h->cpl[(uint8_t)(h->next_tag - 1)].ncpl);
	/* a zero-length read completes with one DW */
	{
		struct softee_tlp t = { .kind = SOFTEE_TLP_MRD };

		ASSERT_EQ(0, softee_tlp_set_range(&t, REG(SOFTEE_TESTDEV_ID), 0));
		tag = host_request(w, h, &t);
		ASSERT_EQ(SOFTEE_TLP_CPL_SC, host_wait(w, h, tag));
	}
	EXPECT_EQ(0, h->proto_err);
	EXPECT_EQ(0, h->cpl_unexpected);
}

/*
 * The reads of tags that completions freed leave in the poll that took
 * those completions, not after the next poll's receiving: box_poll flushes
 * what its last drain queued.
 */
TEST_F(box, freed_tags_read_again_in_the_same_poll)
{
	struct world *w = self->w;
	struct host *h = &w->host[0];
	uint64_t g = h->mem_base;
	uint32_t len = 128 * 1024, st;	/* 256 reads of 512 bytes, 64 tags */
	uint64_t first;

	fill(h->mem, len, 3);
	enumerate(_metadata, w, h, false);
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_HOST_LO), (uint32_t)g);
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_HOST_HI), (uint32_t)(g >> 32));
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_DEV), 0);
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_LEN), len);
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_DIR), SOFTEE_TESTDEV_DIR_TO_DEV);
	wr32(w, h, REG(SOFTEE_TESTDEV_CTRL), SOFTEE_TESTDEV_CTRL_START);
	/* Every tag's read reached the host, and the host sent its completions. */
	ASSERT_TRUE(RUN_UNTIL(w, h->mrd >= 64, 100 * US));
	w->now += 3 * US;
	softee_transport_poll(h->t, w->now);
	first = h->mrd;
	ASSERT_EQ(64, first);
	/* One box poll takes the completions: the freed tags' reads go out in it. */
	w->now += 3 * US;
	softee_box_poll(w->box, w->now);
	w->now += 3 * US;
	softee_transport_poll(h->t, w->now);
	EXPECT_LT(first, h->mrd);
	/* ... and the DMA ends well. */
	ASSERT_TRUE(RUN_UNTIL(w, (st = rd32(w, h, REG(SOFTEE_TESTDEV_STATUS))) & SOFTEE_TESTDEV_STATUS_DONE,
			      100 * MS));
	EXPECT_EQ(SOFTEE_TESTDEV_STATUS_DONE, st);
	EXPECT_EQ(softee_testdev_crc32(0, h->mem, len), rd32(w, h, REG(SOFTEE_TESTDEV_CRC)));
}

/*
 * The CRC is taken once the DMA's writes and MSI have left (not ahead of
 * them), but always of the bytes the DMA moved: a write to device memory
 * while a DMA to the host is still being sent changes neither what leaves
 * nor the CRC.
 */
TEST_F(box, crc_of_what_moved_when_memory_changes_behind_it)
{
	struct world *w = self->w;
	struct host *h = &w->host[0];
	uint64_t g = h->mem_base;
	uint32_t len = 1u << 20, junk = 0xdeadbeef, st;
	uint8_t *orig = malloc(len);

	ASSERT_NE(NULL, orig);
	fill(h->mem, len, 9);
	memset(h->mem + len, 0, len);
	enumerate(_metadata, w, h, false);
	st = dma(w, h, g, 0, len, SOFTEE_TESTDEV_DIR_TO_DEV, true);
	ASSERT_EQ(SOFTEE_TESTDEV_STATUS_DONE, st);
	memcpy(orig, h->mem, len);

	/* device memory -> host, and while it is on its way, device memory changes */
	h->msis = 0;
	h->mwr_bytes = 0;
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_HOST_LO), (uint32_t)(g + len));
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_DIR), SOFTEE_TESTDEV_DIR_TO_HOST);
	wr32(w, h, REG(SOFTEE_TESTDEV_CTRL), SOFTEE_TESTDEV_CTRL_START | SOFTEE_TESTDEV_CTRL_IRQ_EN);
	ASSERT_TRUE(RUN_UNTIL(w, h->mwr_bytes > 0, 100 * MS));
	ASSERT_EQ(0, h->msis);		/* 1 MiB does not leave in one poll */
	ASSERT_EQ(0, mmio_wr(w, h, BAR2_ADDR, &junk, sizeof(junk)));
	ASSERT_TRUE(RUN_UNTIL(w, h->msis == 1, 2000 * MS));
	EXPECT_EQ(len, h->mwr_bytes_at_msi);
	EXPECT_EQ(0, memcmp(h->mem + len, orig, len));
	EXPECT_EQ(softee_testdev_crc32(0, orig, len), rd32(w, h, REG(SOFTEE_TESTDEV_CRC)));
	/* the write landed, after the DMA's bytes were taken */
	EXPECT_EQ(junk, rd32(w, h, BAR2_ADDR));
	/* and the next DMA's CRC is its own */
	st = dma(w, h, g + len, 0, 4096, SOFTEE_TESTDEV_DIR_TO_HOST, true);
	EXPECT_EQ(SOFTEE_TESTDEV_STATUS_DONE, st);
	EXPECT_EQ(junk, le32(h->mem + len));
	EXPECT_EQ(softee_testdev_crc32(0, h->mem + len, 4096), rd32(w, h, REG(SOFTEE_TESTDEV_CRC)));
	free(orig);
}

TEST_F(box, dma_errors)
{
	struct world *w = self->w;
	struct host *h = &w->host[0];
	const struct softee_box_stats *bs = softee_box_stats(w->box);
	uint64_t g = h->mem_base;
	uint32_t st;

	enumerate(_metadata, w, h, false);
	st = dma(w, h, g, 0, 0, SOFTEE_TESTDEV_DIR_TO_DEV, true);
	EXPECT_EQ(SOFTEE_TESTDEV_ERR_ZERO_LEN, dma_err(st));
	EXPECT_EQ(1, h->msis);			/* an error ends a DMA too */
	st = dma(w, h, g, SOFTEE_TESTDEV_MEM_SIZE - 4, 8, SOFTEE_TESTDEV_DIR_TO_DEV, false);
	EXPECT_EQ(SOFTEE_TESTDEV_ERR_DEV_RANGE, dma_err(st));
	st = dma(w, h, g, 0xfffffff0u, 0x20, SOFTEE_TESTDEV_DIR_TO_HOST, false);
	EXPECT_EQ(SOFTEE_TESTDEV_ERR_DEV_RANGE, dma_err(st));
	st = dma(w, h, g, 0, SOFTEE_TESTDEV_MEM_SIZE + 1, SOFTEE_TESTDEV_DIR_TO_DEV, false);
	EXPECT_EQ(SOFTEE_TESTDEV_ERR_DEV_RANGE, dma_err(st));
	st = dma(w, h, 0xfffffffffffffff0ULL, 0, 0x20, SOFTEE_TESTDEV_DIR_TO_DEV, false);
	EXPECT_EQ(SOFTEE_TESTDEV_ERR_HOST_RANGE, dma_err(st));
	st = dma(w, h, g, 0, 16, 7, false);
	EXPECT_EQ(SOFTEE_TESTDEV_ERR_BAD_DIR, dma_err(st));
	/* the host refuses an address outside its memory: UR, and the status says so */
	st = dma(w, h, g + GUEST_SIZE - 8, 0, 4096, SOFTEE_TESTDEV_DIR_TO_DEV, true);
	EXPECT_EQ(SOFTEE_TESTDEV_ERR_HOST_UR, dma_err(st));
	EXPECT_LE(1, h->mrd_ur);
	EXPECT_EQ(SOFTEE_PCI_STATUS_REC_MASTER_ABORT,
		  (cfg_rd32(w, h, 0x04) >> 16) & SOFTEE_PCI_STATUS_REC_MASTER_ABORT);
	EXPECT_EQ(0, cfg_wr(w, h, 0x06, 2, SOFTEE_PCI_STATUS_REC_MASTER_ABORT));	/* RW1C */
	EXPECT_EQ(0, (cfg_rd32(w, h, 0x04) >> 16) & SOFTEE_PCI_STATUS_REC_MASTER_ABORT);
	/* posted writes outside host memory: the host drops them, the device cannot know */
	st = dma(w, h, g + GUEST_SIZE, 0, 64, SOFTEE_TESTDEV_DIR_TO_HOST, false);
	EXPECT_EQ(0, dma_err(st));
	EXPECT_EQ(1, h->mwr_outside);
	/* the host does not answer: completion timeout */
	h->ignore_mrd = true;
	st = dma(w, h, g, 0, 4096, SOFTEE_TESTDEV_DIR_TO_DEV, true);
	EXPECT_EQ(SOFTEE_TESTDEV_ERR_HOST_TIMEOUT, dma_err(st));
	EXPECT_LE(1, bs->cpl_timeouts);
	/* START while a DMA runs: the running one goes on, the error says busy */
	wr32(w, h, REG(SOFTEE_TESTDEV_CTRL), SOFTEE_TESTDEV_CTRL_START);
	st = rd32(w, h, REG(SOFTEE_TESTDEV_STATUS));
	EXPECT_EQ(SOFTEE_TESTDEV_STATUS_BUSY, st & (SOFTEE_TESTDEV_STATUS_BUSY | SOFTEE_TESTDEV_STATUS_DONE));
	wr32(w, h, REG(SOFTEE_TESTDEV_CTRL), SOFTEE_TESTDEV_CTRL_START);
	st = rd32(w, h, REG(SOFTEE_TESTDEV_STATUS));
	EXPECT_EQ(SOFTEE_TESTDEV_ERR_BUSY, dma_err(st));
	EXPECT_TRUE(st & SOFTEE_TESTDEV_STATUS_BUSY);
	RUN_UNTIL(w, rd32(w, h, REG(SOFTEE_TESTDEV_STATUS)) & SOFTEE_TESTDEV_STATUS_DONE, 20 * MS);
	EXPECT_EQ(SOFTEE_TESTDEV_ERR_HOST_TIMEOUT, dma_err(rd32(w, h, REG(SOFTEE_TESTDEV_STATUS))));
	h->ignore_mrd = false;
	/* ... and when the running one then succeeds, STATUS is its own: DONE alone */
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_HOST_LO), (uint32_t)g);
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_HOST_HI), (uint32_t)(g >> 32));
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_DEV), 0);
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_LEN), 65536);
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_DIR), SOFTEE_TESTDEV_DIR_TO_DEV);
	wr32(w, h, REG(SOFTEE_TESTDEV_CTRL), SOFTEE_TESTDEV_CTRL_START);
	wr32(w, h, REG(SOFTEE_TESTDEV_CTRL), SOFTEE_TESTDEV_CTRL_START);
	st = rd32(w, h, REG(SOFTEE_TESTDEV_STATUS));
	EXPECT_EQ(SOFTEE_TESTDEV_ERR_BUSY, dma_err(st));
	EXPECT_TRUE(st & SOFTEE_TESTDEV_STATUS_BUSY);
	RUN_UNTIL(w, rd32(w, h, REG(SOFTEE_TESTDEV_STATUS)) & SOFTEE_TESTDEV_STATUS_DONE, 20 * MS);
	EXPECT_EQ(SOFTEE_TESTDEV_STATUS_DONE, rd32(w, h, REG(SOFTEE_TESTDEV_STATUS)));
	/* RW1C: DONE and ERROR clear, the error code with ERROR */
	wr32(w, h, REG(SOFTEE_TESTDEV_STATUS), SOFTEE_TESTDEV_STATUS_DONE | SOFTEE_TESTDEV_STATUS_ERROR);
	EXPECT_EQ(0, rd32(w, h, REG(SOFTEE_TESTDEV_STATUS)));
	/* bus mastering off: no DMA, no MSI */
	ASSERT_EQ(0, cfg_wr(w, h, 0x04, 2, SOFTEE_PCI_COMMAND_MEMORY));
	h->msis = 0;
	st = dma(w, h, g, 0, 4096, SOFTEE_TESTDEV_DIR_TO_DEV, false);
	EXPECT_EQ(SOFTEE_TESTDEV_ERR_NO_MASTER, dma_err(st));
	st = dma(w, h, g, 0, 4096, SOFTEE_TESTDEV_DIR_TO_HOST, false);
	EXPECT_EQ(SOFTEE_TESTDEV_ERR_NO_MASTER, dma_err(st));
	wr32(w, h, REG(SOFTEE_TESTDEV_CTRL), SOFTEE_TESTDEV_CTRL_IRQ_EN);
	wr32(w, h, REG(SOFTEE_TESTDEV_DOORBELL), 1);
	run(w, 100 * US);
	EXPECT_EQ(0, h->msis);
	EXPECT_LE(1, rd32(w, h, REG(SOFTEE_TESTDEV_IRQ_LOST)));
	EXPECT_EQ(-EPERM, softee_box_msi(w->box, w->ep, MSI_ADDR, 1));
	/* and it works again with bus mastering on */
	ASSERT_EQ(0, cfg_wr(w, h, 0x04, 2, SOFTEE_PCI_COMMAND_MEMORY | SOFTEE_PCI_COMMAND_MASTER));
	st = dma(w, h, g, 0, 4096, SOFTEE_TESTDEV_DIR_TO_DEV, true);
	EXPECT_EQ(SOFTEE_TESTDEV_STATUS_DONE, st);
	EXPECT_EQ(softee_testdev_crc32(0, h->mem, 4096), rd32(w, h, REG(SOFTEE_TESTDEV_CRC)));
	EXPECT_EQ(0, h->proto_err);
}

TEST_F(box, msi_masking)
{
	struct world *w = self->w;
	struct host *h = &w->host[0];
	uint32_t pend = SOFTEE_TESTDEV_CAP_MSI + SOFTEE_MSI_PENDING_64;
	uint32_t mask = SOFTEE_TESTDEV_CAP_MSI + SOFTEE_MSI_MASK_64;

	enumerate(_metadata, w, h, false);
	wr32(w, h, REG(SOFTEE_TESTDEV_CTRL), SOFTEE_TESTDEV_CTRL_IRQ_EN);
	/* MSI masked: the message waits as a pending bit */
	ASSERT_EQ(0, cfg_wr(w, h, mask, 4, 1));
	wr32(w, h, REG(SOFTEE_TESTDEV_DOORBELL), 1);
	run(w, 100 * US);
	EXPECT_EQ(0, h->msis);
	EXPECT_EQ(1, cfg_rd32(w, h, pend));
	EXPECT_EQ(0, cfg_wr(w, h, pend, 4, 0));		/* pending is read-only */
	EXPECT_EQ(1, cfg_rd32(w, h, pend));
	ASSERT_EQ(0, cfg_wr(w, h, mask, 4, 0));
	RUN_UNTIL(w, h->msis == 1, 1 * MS);
	EXPECT_EQ(1, h->msis);
	EXPECT_EQ(MSI_ADDR, h->msi_addr);
	EXPECT_EQ(MSI_DATA, h->msi_data);
	EXPECT_EQ(0, cfg_rd32(w, h, pend));
	/* MSI disabled (and no INTx): lost, counted */
	ASSERT_EQ(0, cfg_wr(w, h, SOFTEE_TESTDEV_CAP_MSI + 2, 2, 0));
	wr32(w, h, REG(SOFTEE_TESTDEV_DOORBELL), 1);
	run(w, 100 * US);
	EXPECT_EQ(1, h->msis);
	EXPECT_EQ(1, rd32(w, h, REG(SOFTEE_TESTDEV_IRQ_LOST)));

	/* MSI-X: vector 1 is the doorbell's; masked vector and masked function hold it in the PBA */
	ASSERT_EQ(0, cfg_wr(w, h, SOFTEE_TESTDEV_CAP_MSIX + 2, 2,
			    SOFTEE_MSIX_FLAGS_ENABLE | SOFTEE_MSIX_FLAGS_MASKALL));
	wr32(w, h, REG(SOFTEE_TESTDEV_MSIX_TABLE + 16), (uint32_t)MSIX_ADDR(1));
	wr32(w, h, REG(SOFTEE_TESTDEV_MSIX_TABLE + 20), 0);
	wr32(w, h, REG(SOFTEE_TESTDEV_MSIX_TABLE + 24), MSIX_DATA(1));
	wr32(w, h, REG(SOFTEE_TESTDEV_DOORBELL), 1);
	run(w, 100 * US);
	EXPECT_EQ(1, h->msis);
	EXPECT_EQ(2, rd32(w, h, REG(SOFTEE_TESTDEV_MSIX_PBA)));
	ASSERT_EQ(0, cfg_wr(w, h, SOFTEE_TESTDEV_CAP_MSIX + 2, 2, SOFTEE_MSIX_FLAGS_ENABLE));
	run(w, 100 * US);
	EXPECT_EQ(1, h->msis);				/* the vector is still masked */
	wr32(w, h, REG(SOFTEE_TESTDEV_MSIX_TABLE + 28), 0);
	RUN_UNTIL(w, h->msis == 2, 1 * MS);
	EXPECT_EQ(2, h->msis);
	EXPECT_EQ(MSIX_ADDR(1), h->msi_addr);
	EXPECT_EQ(MSIX_DATA(1), h->msi_data);
	EXPECT_EQ(0, rd32(w, h, REG(SOFTEE_TESTDEV_MSIX_PBA)));
	/* unmasked: at once; MSI-X wins over an enabled MSI */
	ASSERT_EQ(0, cfg_wr(w, h, SOFTEE_TESTDEV_CAP_MSI + 2, 2, SOFTEE_MSI_FLAGS_ENABLE));
	wr32(w, h, REG(SOFTEE_TESTDEV_DOORBELL), 1);
	RUN_UNTIL(w, h->msis == 3, 1 * MS);
	EXPECT_EQ(MSIX_ADDR(1), h->msi_addr);
	EXPECT_EQ(4, rd32(w, h, REG(SOFTEE_TESTDEV_COUNTER)));
	EXPECT_EQ(3, rd32(w, h, REG(SOFTEE_TESTDEV_IRQ_COUNT)));
	EXPECT_EQ(0, h->proto_err);
}

/* TLPs the box must refuse, through the transport and straight into its entry point. */
TEST_F(box, malformed_tlps)
{
	struct world *w = self->w;
	struct host *h = &w->host[0];
	const struct softee_box_stats *bs = softee_box_stats(w->box);
	struct softee_peer *bp = softee_transport_find_peer(softee_box_transport(w->box),
							     w->port[1]->mac);
	uint64_t ur0, drop0;
	uint8_t tlp[64], junk[SOFTEE_TLP_MAX_SIZE], tlp_big[SOFTEE_TLP_MAX_SIZE];
	uint32_t i, v, valid = 0;
	int tag;

	enumerate(_metadata, w, h, false);
	ASSERT_NE(NULL, bp);
	ur0 = bs->ur_sent;
	drop0 = bs->posted_dropped;
	/* CfgRd1 (no bridge here) and IORd (no I/O BARs): UR */
	{
		struct softee_tlp t = { .kind = SOFTEE_TLP_CFGRD1, .len_dw = 1, .first_be = 0xf,
					.target = SOFTEE_BDF(2, 0, 0) };

		tag = host_request(w, h, &t);
		EXPECT_EQ(SOFTEE_TLP_CPL_UR, host_wait(w, h, tag));
		t.kind = SOFTEE_TLP_IORD;
		t.addr = 0xcf8;
		tag = host_request(w, h, &t);
		EXPECT_EQ(SOFTEE_TLP_CPL_UR, host_wait(w, h, tag));
	}
	/* a read with a reserved bit, with TH, MRdLk: UR to the requester and tag they carry */
	{
		struct softee_tlp t = { .kind = SOFTEE_TLP_MRD, .requester = HOST_BDF, .tag = 0x77,
					.len_dw = 1, .first_be = 0xf, .addr = REG(0) };
		int n = softee_tlp_encode(&t, tlp, sizeof(tlp));
		struct cpl_slot *s = &h->cpl[0x77];

		ASSERT_EQ(12, n);
		tlp[1] |= 0x80;				/* reserved (T9) */
		memset(s, 0, offsetof(struct cpl_slot, data));
		s->busy = true;
		ASSERT_EQ(0, host_send_raw(w, h, tlp, 12));
		EXPECT_EQ(SOFTEE_TLP_CPL_UR, host_wait(w, h, 0x77));
		tlp[1] &= 0x7f;
		tlp[1] |= 0x01;				/* TH */
		s->busy = true;
		s->done = false;
		ASSERT_EQ(0, host_send_raw(w, h, tlp, 12));
		EXPECT_EQ(SOFTEE_TLP_CPL_UR, host_wait(w, h, 0x77));
		tlp[1] &= 0xfe;
		tlp[0] = SOFTEE_TLP_TYPE_MEMLK;		/* MRdLk */
		s->busy = true;
		s->done = false;
		ASSERT_EQ(0, host_send_raw(w, h, tlp, 12));
		EXPECT_EQ(SOFTEE_TLP_CPL_UR, host_wait(w, h, 0x77));
		/* a CfgRd0 of 2 DWs (config is 1 DW only) */
		tlp[0] = SOFTEE_TLP_TYPE_CFG0;
		tlp[3] = 2;
		s->busy = true;
		s->done = false;
		ASSERT_EQ(0, host_send_raw(w, h, tlp, 12));
		EXPECT_EQ(SOFTEE_TLP_CPL_UR, host_wait(w, h, 0x77));
	}
	EXPECT_EQ(ur0 + 6, bs->ur_sent);
	/* posted: a message, a poisoned MWr, an MWr with a reserved bit: dropped */
	{
		uint8_t msg[16] = { 0x34, 0, 0, 0, 0, 0, 0, 0x7f };	/* Msg, routed to RC */
		uint32_t one = 1;
		struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .requester = HOST_BDF, .len_dw = 1,
					.first_be = 0xf, .addr = REG(SOFTEE_TESTDEV_SCRATCH),
					.data = (const uint8_t *)&one, .ep = true };
		int n;

		wr32(w, h, REG(SOFTEE_TESTDEV_SCRATCH), 5);
		ASSERT_EQ(0, host_send_raw(w, h, msg, 16));
		n = softee_tlp_encode(&t, tlp, sizeof(tlp));
		ASSERT_EQ(16, n);
		ASSERT_EQ(0, host_send_raw(w, h, tlp, 16));
		t.ep = false;
		n = softee_tlp_encode(&t, tlp, sizeof(tlp));
		tlp[2] |= 0x08;				/* AT */
		ASSERT_EQ(0, host_send_raw(w, h, tlp, 16));
		EXPECT_EQ(5, rd32(w, h, REG(SOFTEE_TESTDEV_SCRATCH)));
		EXPECT_EQ(drop0 + 3, bs->posted_dropped);
	}
	/* a completion nobody waits for */
	{
		uint8_t d[4] = { 0 };
		struct softee_tlp c = { .kind = SOFTEE_TLP_CPLD, .completer = HOST_BDF,
					.requester = EP_BDF, .tag = 200, .len_dw = 1,
					.byte_count = 4, .data = d };
		int n = softee_tlp_encode(&c, tlp, sizeof(tlp));

		ASSERT_LT(0, n);
		ASSERT_EQ(0, host_send_raw(w, h, tlp, (uint32_t)n));
		run(w, 50 * US);
		EXPECT_EQ(1, bs->cpl_unexpected);
	}
	EXPECT_EQ(0, h->cpl_unexpected);

	/*
	 * Garbage straight into the entry point: every length from 0 to 64 and some
	 * large ones, random bytes, then random bytes with a plausible DW0.  The box
	 * must stay up and keep answering.
	 */
	fill(junk, sizeof(junk), 77);
	for (i = 0; i < 20000; i++) {
		uint32_t len = i < 65 ? i : 1 + (uint32_t)((i * 2654435761u) % sizeof(junk));

		fill(junk, len < 64 ? 64 : len, i);
		if (i & 1) {
			/* a DW0 whose Length matches what follows: it reaches the field checks */
			uint32_t hdr = (junk[0] & 0x20) ? 16 : 12, dw;

			if (len < hdr + 4)
				len = hdr + 4;
			dw = (junk[0] & 0x40) ? (len - hdr) / 4 : 1;
			junk[0] &= 0x7f;
			junk[2] = (uint8_t)((junk[2] & 0x7c) | ((dw >> 8) & 3));
			junk[3] = (uint8_t)dw;
			len = (junk[0] & 0x40) ? hdr + 4 * dw : hdr;
			if (dw > 1024 || !dw)
				continue;
		}
		softee_box_rx_tlp(w->box, bp, junk, len);
		if (!(i % 64))
			step(w);
	}
	/*
	 * Well-formed TLPs with random fields, aimed at the BARs and the config
	 * space: random register writes (DMAs to random host addresses
	 * included), random reads, completions for random tags.
	 */
	for (i = 0; i < 20000; i++) {
		static const uint8_t kinds[] = { SOFTEE_TLP_MRD, SOFTEE_TLP_MWR, SOFTEE_TLP_CFGRD0,
						 SOFTEE_TLP_CFGWR0, SOFTEE_TLP_CPL, SOFTEE_TLP_CPLD,
						 SOFTEE_TLP_IOWR, SOFTEE_TLP_CFGWR1 };
		uint64_t r[4];
		struct softee_tlp t = { 0 };
		int n;

		fill((uint8_t *)r, sizeof(r), 1000 + i);
		fill(junk, 4096, i);
		t.kind = kinds[r[0] % sizeof(kinds)];
		t.requester = (uint16_t)(r[0] >> 8);
		t.tag = (uint8_t)(r[0] >> 24);
		t.first_be = (r[0] >> 32) & 0xf;
		t.last_be = (r[0] >> 36) & 0xf;
		t.len_dw = 1 + (uint16_t)((r[1] & 1) ? r[1] % 1024 : r[1] % 4);
		t.addr = ((r[2] & 1) ? BAR0_ADDR : BAR2_ADDR) + ((r[2] >> 8) % 0x2000 & ~3ULL);
		t.target = (uint16_t)r[3] & 0x0f07;
		t.reg = (uint16_t)((r[3] >> 16) % 80);
		t.status = (uint8_t)((r[3] >> 32) % 5);
		t.byte_count = 1 + (uint16_t)((r[3] >> 40) % 4096);
		t.lower_addr = (uint8_t)((r[3] >> 52) & 0x7f);
		t.data = junk;
		if (t.kind != SOFTEE_TLP_MRD && t.kind != SOFTEE_TLP_MWR)
			t.len_dw = t.kind == SOFTEE_TLP_CPL ? 0 : t.kind == SOFTEE_TLP_CPLD ? t.len_dw : 1;
		if (t.kind != SOFTEE_TLP_MRD && t.kind != SOFTEE_TLP_MWR && t.kind != SOFTEE_TLP_CPLD)
			t.last_be = 0;
		n = softee_tlp_encode(&t, tlp_big, sizeof(tlp_big));
		if (n < 0) {
			softee_tlp_set_range(&t, t.addr + (r[1] >> 20) % 4, (uint32_t)(r[1] >> 32) % 64);
			n = softee_tlp_encode(&t, tlp_big, sizeof(tlp_big));
		}
		if (n < 0)
			continue;
		valid++;
		softee_box_rx_tlp(w->box, bp, tlp_big, (uint32_t)n);
		if (!(i % 16))
			step(w);
	}
	run(w, 2 * MS);
	/* the box still works (garbage CfgWr0 may have moved the BARs: assign them again) */
	w->target = EP_BDF;
	enumerate(_metadata, w, h, false);
	v = cfg_rd32(w, h, 0);
	EXPECT_EQ((uint32_t)SOFTEE_TESTDEV_DEVICE_ID << 16 | SOFTEE_TESTDEV_VENDOR_ID, v);
	EXPECT_LT(1000, bs->rx_malformed);
	EXPECT_LT(5000, valid);
	TH_LOG("fuzz: %u well-formed, %llu malformed, %llu UR, %llu posted dropped, %u log lines",
	       valid, (unsigned long long)bs->rx_malformed, (unsigned long long)bs->ur_sent,
	       (unsigned long long)bs->posted_dropped, w->log_lines);
	EXPECT_GT(2000u, w->log_lines);			/* rate-limited */
}

/* The host goes away in the middle of a DMA, and a new one configures the device again. */
TEST_F(box, host_lost_mid_dma)
{
	struct world *w = self->w;
	struct host *h = &w->host[0];
	struct world_cfg wc = { .hosts = 1, .box_group = 1, .host_group = { 1 } };
	const struct softee_box_stats *bs = softee_box_stats(w->box);
	uint32_t st;

	enumerate(_metadata, w, h, false);
	h->ignore_mrd = true;
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_HOST_LO), (uint32_t)h->mem_base);
	wr32(w, h, REG(SOFTEE_TESTDEV_DMA_LEN), 1u << 20);
	wr32(w, h, REG(SOFTEE_TESTDEV_CTRL), SOFTEE_TESTDEV_CTRL_START | SOFTEE_TESTDEV_CTRL_IRQ_EN);
	run(w, 200 * US);
	EXPECT_LT(0, h->mrd);
	EXPECT_LT(0, softee_box_stats(w->box)->tags_busy_max);
	/* the host says it leaves and is gone */
	softee_transport_leave(h->t, w->now);
	softee_transport_poll(h->t, w->now);
	softee_transport_destroy(h->t);
	h->t = NULL;
	run(w, 5 * MS);
	EXPECT_EQ(1, w->ep->stats.resets);
	EXPECT_EQ(0, w->ep->command);
	EXPECT_EQ(NULL, softee_box_ep_host(w->box, w->ep));
	EXPECT_EQ(0, bs->cpl_timeouts);		/* the reads were failed, not timed out */
	/* a new host: the device is back in its power-on state, and works */
	h->ignore_mrd = false;
	h->msis = 0;
	host_start(_metadata, w, 0, &wc);
	EXPECT_EQ(0, cfg_rd32(w, h, 0x10));
	EXPECT_EQ(0, cfg_rd32(w, h, SOFTEE_TESTDEV_CAP_MSI + 4));
	enumerate(_metadata, w, h, false);
	EXPECT_EQ(0, rd32(w, h, REG(SOFTEE_TESTDEV_DMA_COUNT)));
	fill(h->mem, 8192, 3);
	st = dma(w, h, h->mem_base, 0, 8192, SOFTEE_TESTDEV_DIR_TO_DEV, true);
	EXPECT_EQ(SOFTEE_TESTDEV_STATUS_DONE, st);
	EXPECT_EQ(softee_testdev_crc32(0, h->mem, 8192), rd32(w, h, REG(SOFTEE_TESTDEV_CRC)));
	EXPECT_EQ(1, h->msis);
}

/* ---- the control commands --------------------------------------------------------------- */

/* A small JSON checker: the end of the value at p, or NULL. */
static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				int k;

				for (k = 1; k <= 4; k++)
					if (!strchr("0123456789abcdefABCDEF", p[k]) || !p[k])
						return NULL;
				p += 4;
			} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
		p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';

		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				p = json_string(json_ws(p));
				if (!p)
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = json_value(p);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (!strncmp(p, "true", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (!strncmp(p, "null", 4))
		return p + 4;
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		char *end;

		strtod(p, &end);
		return end > p ? end : NULL;
	}
	return NULL;
}

static bool json_ok(const char *s)
{
	const char *e = json_value(s);

	return e && *json_ws(e) == '\0';
}

TEST_F(box, control_commands)
{
	static const char *const cmds[] = {
		"status", "counters", "peers", "config 0", "help", "set-group 1",
		"bogus", "config 9", "config", "set-group 70000", "set-group x", "", "status extra",
	};
	struct world *w = self->w;
	struct host *h = &w->host[0];
	char *out = malloc(65536);
	unsigned int i;
	size_t n;

	ASSERT_NE(NULL, out);
	enumerate(_metadata, w, h, false);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char line[64];
		bool good = i < 6;

		snprintf(line, sizeof(line), "%s --json", cmds[i]);
		n = softee_box_ctl(w->box, line, out, 65536);
		EXPECT_EQ(strlen(out), n);
		EXPECT_TRUE(json_ok(out)) {
			TH_LOG("not JSON: %s", out);
		}
		EXPECT_EQ(good, strstr(out, "\"ok\":true") == out + 1) {
			TH_LOG("%s: %s", line, out);
		}
		n = softee_box_ctl(w->box, cmds[i], out, 65536);
		if (good) {
			EXPECT_EQ(0, strcmp(out + n - 3, "ok\n")) {
				TH_LOG("%s: %s", cmds[i], out);
			}
		} else {
			EXPECT_EQ(0, strncmp(out, "error: ", 7));
		}
	}
	n = softee_box_ctl(w->box, "status", out, 65536);
	EXPECT_NE(NULL, strstr(out, "group: 1\n"));
	EXPECT_NE(NULL, strstr(out, "endpoints.0.model: test\n"));
	EXPECT_NE(NULL, strstr(out, "endpoints.0.bus_master: true\n"));
	EXPECT_NE(NULL, strstr(out, "endpoints.0.bars.1.base: 0x800000000\n")) {
		TH_LOG("%s", out);
	}
	n = softee_box_ctl(w->box, "config 0", out, 65536);
	EXPECT_NE(NULL, strstr(out, "vendor: 0x50f7\n"));
	EXPECT_NE(NULL, strstr(out, "caps.0.id: msi\n"));
	EXPECT_NE(NULL, strstr(out, "caps.0.address: 0xfee01000\n"));
	EXPECT_NE(NULL, strstr(out, "raw.00: f7 50 57 7e"));
	n = softee_box_ctl(w->box, "counters --json", out, 65536);
	EXPECT_NE(NULL, strstr(out, "\"cfg_writes\":"));
	/* a small buffer truncates, never overflows */
	memset(out, 'x', 100);
	n = softee_box_ctl(w->box, "status", out, 16);
	EXPECT_GT(16u, n);
	EXPECT_EQ('\0', out[n]);
	EXPECT_EQ('x', out[16]);
	free(out);
}

/* ---- groups ------------------------------------------------------------------------------- */

FIXTURE(group) {
	struct world *w;
};

FIXTURE_SETUP(group)
{
	struct world_cfg wc = { .hosts = 2, .heartbeats = true, .box_group = 1,
				.host_group = { 1, 2 } };

	self->w = calloc(1, sizeof(*self->w));
	ASSERT_NE(NULL, self->w);
	world_init(_metadata, self->w, &wc);
}

FIXTURE_TEARDOWN(group)
{
	world_fini(self->w);
}

TEST_F(group, change_at_run_time)
{
	struct world *w = self->w;
	struct host *a = &w->host[0], *b = &w->host[1];
	uint64_t mwr_a;
	char out[256];
	uint32_t st;

	/* heartbeats: A finds the box of its group; B, of group 2, never sees it */
	ASSERT_TRUE(RUN_UNTIL(w, a->peer && a->peer->session, 20 * MS));
	run(w, 10 * MS);
	EXPECT_EQ(0, b->ups);
	EXPECT_LT(0, softee_transport_liveness(b->t)->stats.hb_other_group);
	enumerate(_metadata, w, a, false);
	fill(a->mem, 4096, 1);
	st = dma(w, a, a->mem_base, 0, 4096, SOFTEE_TESTDEV_DIR_TO_DEV, true);
	EXPECT_EQ(SOFTEE_TESTDEV_STATUS_DONE, st);

	/* the operator moves the box to group 2 */
	mwr_a = a->mwr;
	softee_box_ctl(w->box, "set-group 2", out, sizeof(out));
	EXPECT_STREQ("group: 2\nok\n", out);
	ASSERT_TRUE(RUN_UNTIL(w, b->peer && b->peer->session, 20 * MS));
	ASSERT_TRUE(RUN_UNTIL(w, a->downs > 0, 20 * MS));
	EXPECT_EQ(1, w->ep->stats.resets);
	EXPECT_EQ(-ENOTCONN, mmio_rd(w, a, REG(0), &st, 4));
	EXPECT_EQ(2, softee_box_group(w->box));

	/* B finds a device in its power-on state, configures it, and it works */
	EXPECT_EQ(0, cfg_rd32(w, b, 0x10));
	enumerate(_metadata, w, b, false);
	EXPECT_EQ(softee_transport_find_peer(softee_box_transport(w->box), w->port[2]->mac),
		  softee_box_ep_host(w->box, w->ep));
	fill(b->mem, 65536, 2);
	st = dma(w, b, b->mem_base, 0, 65536, SOFTEE_TESTDEV_DIR_TO_DEV, true);
	EXPECT_EQ(SOFTEE_TESTDEV_STATUS_DONE, st);
	EXPECT_EQ(softee_testdev_crc32(0, b->mem, 65536), rd32(w, b, REG(SOFTEE_TESTDEV_CRC)));
	st = dma(w, b, b->mem_base + 65536, 0, 65536, SOFTEE_TESTDEV_DIR_TO_HOST, true);
	EXPECT_EQ(SOFTEE_TESTDEV_STATUS_DONE, st);
	EXPECT_EQ(0, memcmp(b->mem, b->mem + 65536, 65536));
	EXPECT_EQ(mwr_a, a->mwr);		/* nothing of B's reached A */
	EXPECT_EQ(1, softee_box_stats(w->box)->group_changes);
}

/* ---- CRC ---------------------------------------------------------------------------------- */

TEST(crc32)
{
	static uint8_t buf[1 << 20];
	unsigned int len, off;

	EXPECT_EQ(0xcbf43926u, softee_crc32(0, "123456789", 9));
	EXPECT_EQ(0xcbf43926u, softee_testdev_crc32(0, "123456789", 9));
	EXPECT_EQ(0, softee_crc32(0, "", 0));
	fill(buf, sizeof(buf), 5);
	/*
	 * Every length up to past 4 blocks of 64 and every alignment: the
	 * folding (64 bytes and more) and the tables against the bitwise
	 * reference, through each of its tails (len % 64, len % 16).
	 */
	for (off = 0; off < 16; off++)
		for (len = 0; len < 600; len++) {
			ASSERT_EQ(softee_testdev_crc32(0, buf + off, len), softee_crc32(0, buf + off, len));
			ASSERT_EQ(softee_testdev_crc32(0, buf + off, len),
				  softee_crc32_tables(0, buf + off, len));
		}
	/* a DMA's size, and all ones or zeros (what the register folding must not lose) */
	EXPECT_EQ(softee_testdev_crc32(0, buf + 3, sizeof(buf) - 3), softee_crc32(0, buf + 3, sizeof(buf) - 3));
	memset(buf, 0xff, 4096);
	EXPECT_EQ(softee_testdev_crc32(0, buf, 4096), softee_crc32(0, buf, 4096));
	memset(buf, 0, 4096);
	EXPECT_EQ(softee_testdev_crc32(0, buf, 4096), softee_crc32(0, buf, 4096));
	fill(buf, 4096, 9);
	/* continuable, from a register that is not the initial one */
	EXPECT_EQ(softee_crc32(0, buf, 3000), softee_crc32(softee_crc32(0, buf, 123), buf + 123, 2877));
	EXPECT_EQ(softee_crc32(0, buf, 300), softee_crc32(softee_crc32(0, buf, 123), buf + 123, 177));
}

TEST_HARNESS_MAIN
