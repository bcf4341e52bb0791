// SPDX-License-Identifier: GPL-2.0
/*
 * softee-box's NVMe controller, in one process.  A fake host on the
 * simulated link plays the Linux nvme driver: it enumerates the function,
 * programs BAR0 and MSI-X, enables the controller with an admin queue in
 * its guest memory (a buffer), identifies it, creates I/O queue pairs and
 * moves data, answering the box's MRd with CplD from guest memory, applying
 * its MWr, and counting MSI-X messages per vector.  The namespace is a
 * temporary file, which the test also reads directly.  Time is simulated.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include <softee/box.h>
#include <softee/endpoint.h>
#include <softee/nvme.h>
#include <softee/prng.h>
#include <softee/sim.h>
#include <softee/tlp.h>
#include <softee/transport.h>

#define US		1000ULL
#define MS		1000000ULL

#define HOST_BDF	SOFTEE_BDF(0, 0, 0)
#define EP_BDF		SOFTEE_BDF(1, 0, 0)
#define BAR0_ADDR	0xc0000000ULL
#define MSI_BASE	0xfee00000ULL		/* vector v: MSI_BASE + 16 v, data MSI_DATA(v) */
#define MSI_DATA(v)	(0x100u + (v))
#define MAX_VEC		8

/* Guest memory and where the driver keeps things in it */
#define GUEST_BASE	0x10000000ULL
#define GUEST_SIZE	(8u << 20)
#define G_ASQ		(GUEST_BASE + 0x0000)
#define G_ACQ		(GUEST_BASE + 0x1000)
#define G_SQ(q)		(GUEST_BASE + 0x10000ULL * (q))
#define G_CQ(q)		(GUEST_BASE + 0x10000ULL * (q) + 0x8000)
#define G_DATA		(GUEST_BASE + 0x100000)		/* 2 MiB */
#define G_DATA2		(GUEST_BASE + 0x200000)		/* 1 MiB */
#define G_LIST		(GUEST_BASE + 0x300000)		/* PRP lists */
#define G_SCRATCH	(GUEST_BASE + 0x400000)		/* the garbage test's, 4 MiB */
#define SCRATCH_SIZE	(4u << 20)
#define AQ_SIZE		32
#define IOQ_SIZE	64

#define NS_BYTES	(8u << 20)
#define LBA		512u
#define NS_BLOCKS	(NS_BYTES / LBA)
#define NQUEUES		4		/* I/O queue pairs of the model */
#define PAGE		4096u

struct cpl_slot {
	bool busy, done, bad;
	uint8_t status;
	uint32_t want, got;
	uint64_t addr;
	uint8_t data[SOFTEE_TLP_MAX_DATA];
};

struct host {
	struct softee_transport *t;
	struct softee_peer *peer;
	uint8_t *mem;
	struct cpl_slot *cpl;
	uint8_t next_tag;
	bool hold_data;				/* leave the box's reads of G_DATA unanswered */
	unsigned int msix[MAX_VEC];
	unsigned int msi_bad;
	uint64_t mrd, mrd_ur, mwr_outside, proto_err;
};

struct queue {
	uint16_t qid;
	uint32_t size, cq_size;
	uint64_t sq, cq;
	uint32_t tail, head;
	bool phase;
	uint16_t next_cid;
};

struct world {
	uint64_t now;
	struct softee_netdev *port[2];
	struct softee_box *box;
	struct softee_endpoint *ep;
	struct host h;
	char path[64];
	int fd;					/* the backing file, for the test's own checks */
	uint32_t msix_cap;
	struct queue aq, ioq[NQUEUES + 1];
	unsigned int log_lines;
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
	if (getenv("BOX_TEST_VERBOSE"))
		fprintf(stderr, "# box %s: %s\n", softee_log_level_name(level), msg);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
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

static uint8_t *gmem(struct world *w, uint64_t addr)
{
	return w->h.mem + (addr - GUEST_BASE);
}

/* ---- the fake host on the link ----------------------------------------------------------- */

static bool in_guest(uint64_t a, uint32_t n)
{
	return a >= GUEST_BASE && a - GUEST_BASE <= GUEST_SIZE && n <= GUEST_SIZE - (a - GUEST_BASE);
}

static void host_send(struct host *h, const struct softee_tlp *t)
{
	uint8_t buf[SOFTEE_TLP_MAX_SIZE];
	int n = softee_tlp_encode(t, buf, sizeof(buf));

	if (n < 0 || softee_transport_send_tlp(h->peer, buf, (uint32_t)n))
		h->proto_err++;
}

static void on_box_mrd(struct host *h, const struct softee_tlp *t)
{
	uint64_t start;
	uint32_t len, done = 0;
	struct softee_tlp c;
	int n;

	softee_tlp_range(t, &start, &len);
	h->mrd++;
	if (h->hold_data && start >= G_DATA && start < G_LIST)
		return;
	if (!in_guest(start, len)) {
		struct softee_tlp u = {
			.kind = SOFTEE_TLP_CPL, .completer = HOST_BDF, .status = SOFTEE_TLP_CPL_UR,
			.requester = t->requester, .tag = t->tag, .byte_count = len ? len : 1,
			.lower_addr = start & 0x7f,
		};

		h->mrd_ur++;
		host_send(h, &u);
		return;
	}
	while ((n = softee_tlp_cpl_split(t, done, 256, 64, &c)) > 0) {
		c.completer = HOST_BDF;
		c.status = SOFTEE_TLP_CPL_SC;
		c.data = h->mem + (((start + done) & ~3ULL) - GUEST_BASE);
		host_send(h, &c);
		done += (uint32_t)n;
	}
}

static void on_box_mwr(struct host *h, const struct softee_tlp *t)
{
	uint64_t start;
	uint32_t len;

	softee_tlp_range(t, &start, &len);
	if (start >= MSI_BASE && start < MSI_BASE + 16 * MAX_VEC) {
		uint32_t v = (uint32_t)(start - MSI_BASE) / 16;

		if (len != 4 || (start & 15) || le32(t->data) != MSI_DATA(v))
			h->msi_bad++;
		else
			h->msix[v]++;
		return;
	}
	if (!in_guest(start, len)) {
		h->mwr_outside++;
		return;
	}
	memcpy(h->mem + (start - GUEST_BASE), t->data + (start & 3), len);
}

static void on_cpl(struct host *h, const struct softee_tlp *t)
{
	struct cpl_slot *s = &h->cpl[t->tag];
	uint32_t la = t->lower_addr, n;

	if (!s->busy || s->done) {
		h->proto_err++;
		return;
	}
	if (t->status != SOFTEE_TLP_CPL_SC || t->kind == SOFTEE_TLP_CPL) {
		s->status = t->status;
		s->done = true;
		return;
	}
	n = 4u * t->len_dw - (la & 3);
	if (n > t->byte_count)
		n = t->byte_count;
	memcpy(s->data + s->got, t->data + (la & 3), n);
	s->got += n;
	if (s->got >= s->want)
		s->done = true;
}

static void host_rx(void *opaque, struct softee_peer *p, const uint8_t *tlp, uint32_t len)
{
	struct host *h = opaque;
	struct softee_tlp t;

	(void)p;
	if (softee_tlp_decode(&t, tlp, len, NULL) != (int)len) {
		h->proto_err++;
		return;
	}
	if (t.kind == SOFTEE_TLP_CPL || t.kind == SOFTEE_TLP_CPLD)
		on_cpl(h, &t);
	else if (t.kind == SOFTEE_TLP_MRD)
		on_box_mrd(h, &t);
	else if (t.kind == SOFTEE_TLP_MWR)
		on_box_mwr(h, &t);
	else
		h->proto_err++;
}

static void host_event(void *opaque, struct softee_peer *p, enum softee_transport_event ev)
{
	struct host *h = opaque;

	if (p && p->live->role == SOFTEE_ROLE_BOX && ev == SOFTEE_TEV_PEER_UP)
		h->peer = p;
}

static void step(struct world *w)
{
	if (w->h.t)
		softee_transport_poll(w->h.t, w->now);
	softee_box_poll(w->box, w->now);
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

static int host_send_raw(struct world *w, const void *tlp, uint32_t len)
{
	int ret;

	while ((ret = softee_transport_send_tlp(w->h.peer, tlp, len)) == -EAGAIN)
		step(w);
	return ret;
}

/* A non-posted request and its completion: the status, or -ETIMEDOUT. */
static int host_rpc(struct world *w, struct softee_tlp *t, uint32_t want)
{
	uint8_t buf[SOFTEE_TLP_MAX_SIZE];
	struct cpl_slot *s;
	int len, ret;

	t->requester = HOST_BDF;
	t->tag = w->h.next_tag++;
	s = &w->h.cpl[t->tag];
	memset(s, 0, offsetof(struct cpl_slot, data));
	s->busy = true;
	s->want = want;
	len = softee_tlp_encode(t, buf, sizeof(buf));
	if (len < 0)
		return len;
	ret = host_send_raw(w, buf, (uint32_t)len);
	if (ret)
		return ret;
	if (!RUN_UNTIL(w, s->done, 50 * MS))
		return -ETIMEDOUT;
	s->busy = false;
	return s->status;
}

static uint32_t cfg_rd32(struct world *w, uint32_t off)
{
	struct softee_tlp t = { .kind = SOFTEE_TLP_CFGRD0, .len_dw = 1, .first_be = 0xf,
				.target = EP_BDF, .reg = (uint16_t)(off / 4) };
	int ret = host_rpc(w, &t, 4);

	return ret == SOFTEE_TLP_CPL_SC ? le32(w->h.cpl[t.tag].data) : 0xffffffff;
}

static int cfg_wr(struct world *w, uint32_t off, uint32_t len, uint32_t val)
{
	uint32_t sh = off & 3;
	uint8_t d[4];
	struct softee_tlp t = { .kind = SOFTEE_TLP_CFGWR0, .len_dw = 1,
				.first_be = (uint8_t)(((1u << len) - 1) << sh), .target = EP_BDF,
				.reg = (uint16_t)(off / 4), .data = d };

	val <<= 8 * sh;
	d[0] = (uint8_t)val;
	d[1] = (uint8_t)(val >> 8);
	d[2] = (uint8_t)(val >> 16);
	d[3] = (uint8_t)(val >> 24);
	return host_rpc(w, &t, 4);
}

static uint32_t rd32(struct world *w, uint64_t addr)
{
	struct softee_tlp t = { .kind = SOFTEE_TLP_MRD };

	softee_tlp_set_range(&t, addr, 4);
	if (host_rpc(w, &t, 4) != SOFTEE_TLP_CPL_SC)
		return 0xdeadbeef;
	return le32(w->h.cpl[t.tag].data);
}

static uint64_t rd64(struct world *w, uint64_t addr)
{
	return rd32(w, addr) | (uint64_t)rd32(w, addr + 4) << 32;
}

static void wr32(struct world *w, uint64_t addr, uint32_t v)
{
	uint8_t stage[8] = { 0 }, tlp[SOFTEE_TLP_MAX_SIZE];
	struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .requester = HOST_BDF, .data = stage };
	int n;

	softee_tlp_set_range(&t, addr, 4);
	stage[0] = (uint8_t)v;
	stage[1] = (uint8_t)(v >> 8);
	stage[2] = (uint8_t)(v >> 16);
	stage[3] = (uint8_t)(v >> 24);
	n = softee_tlp_encode(&t, tlp, sizeof(tlp));
	if (n > 0)
		host_send_raw(w, tlp, (uint32_t)n);
}

static void wr64(struct world *w, uint64_t addr, uint64_t v)
{
	wr32(w, addr, (uint32_t)v);
	wr32(w, addr + 4, (uint32_t)(v >> 32));
}

#define REG(r)		(BAR0_ADDR + (r))

/* ---- the world --------------------------------------------------------------------------- */

static void host_start(struct __test_metadata *_metadata, struct world *w)
{
	struct softee_transport_cfg tc = {
		.nd = w->port[1], .group = 1, .role = SOFTEE_ROLE_HOST, .no_heartbeats = true,
		.seed = 100 + w->now, .txq_bytes = 4u << 20, .rx = host_rx, .event = host_event,
		.opaque = &w->h, .clock = fake_clock, .name = "host",
	};

	w->h.peer = NULL;
	ASSERT_EQ(0, softee_transport_create(&w->h.t, &tc, w->now));
	ASSERT_NE(NULL, softee_transport_add_peer(softee_box_transport(w->box), w->port[1]->mac,
						  SOFTEE_ROLE_HOST, w->now));
	ASSERT_NE(NULL, softee_transport_add_peer(w->h.t, w->port[0]->mac, SOFTEE_ROLE_BOX, w->now));
	ASSERT_NE(NULL, w->h.peer);
}

static void world_init(struct __test_metadata *_metadata, struct world *w, const char *extra)
{
	struct softee_sim_cfg sc = { .ports = 2, .clock = &w->now, .latency_ns = 2 * US,
				     .queue_frames = 4096 };
	struct softee_box_cfg bc = {
		.xport = { .group = 1, .no_heartbeats = true, .seed = 7 },
		.clock = fake_clock, .cpl_timeout_ns = 2 * MS,
		.log = box_log, .log_opaque = w, .log_level = SOFTEE_LOG_DEBUG,
	};
	char spec[256], err[256];
	int fd;

	w->now = 1 * MS;
	the_clock = &w->now;
	snprintf(w->path, sizeof(w->path), "/tmp/box_nvme_test.XXXXXX");
	fd = mkstemp(w->path);
	ASSERT_LE(0, fd);
	close(fd);
	snprintf(spec, sizeof(spec), "nvme,file=%s,size=%u,queues=%u,create%s", w->path, NS_BYTES,
		 NQUEUES, extra ? extra : "");
	ASSERT_EQ(0, softee_sim_create(w->port, &sc));
	bc.xport.nd = w->port[0];
	ASSERT_EQ(0, softee_box_create(&w->box, &bc, w->now));
	err[0] = '\0';
	ASSERT_EQ(0, softee_endpoint_create(spec, &w->ep, err, sizeof(err))) {
		TH_LOG("%s", err);
	}
	ASSERT_EQ(0, softee_box_add_endpoint(w->box, w->ep));
	w->fd = open(w->path, O_RDWR);
	ASSERT_LE(0, w->fd);
	w->h.mem = calloc(1, GUEST_SIZE + 8);
	w->h.cpl = calloc(256, sizeof(*w->h.cpl));
	ASSERT_NE(NULL, w->h.mem);
	ASSERT_NE(NULL, w->h.cpl);
	host_start(_metadata, w);
}

static void world_fini(struct world *w)
{
	if (!w)
		return;
	if (w->box)
		softee_box_destroy(w->box);
	if (w->h.t)
		softee_transport_destroy(w->h.t);
	if (w->port[0])
		softee_netdev_close(w->port[0]);
	if (w->port[1])
		softee_netdev_close(w->port[1]);
	if (w->fd > 0)
		close(w->fd);
	if (w->path[0])
		unlink(w->path);
	free(w->h.mem);
	free(w->h.cpl);
	free(w);
}

static const char *describe(struct world *w)
{
	static char buf[256];

	buf[0] = '\0';
	w->ep->ops->describe(w->ep, buf, sizeof(buf));
	return buf;
}

/* ---- the driver -------------------------------------------------------------------------- */

/* What Linux's PCI core and nvme_pci_enable do: BAR0, bus mastering, MSI-X unmasked. */
static void enumerate(struct __test_metadata *_metadata, struct world *w)
{
	uint32_t cap, v, nvec;

	ASSERT_EQ(0x010802u, cfg_rd32(w, 0x08) >> 8);
	ASSERT_EQ(0, cfg_wr(w, 0x10, 4, 0xffffffff));
	ASSERT_EQ(0, cfg_wr(w, 0x14, 4, 0xffffffff));
	EXPECT_EQ(0xffffc004u, cfg_rd32(w, 0x10));	/* 16 KiB, 64-bit, non-prefetchable */
	EXPECT_EQ(0xffffffffu, cfg_rd32(w, 0x14));
	ASSERT_EQ(0, cfg_wr(w, 0x10, 4, (uint32_t)BAR0_ADDR));
	ASSERT_EQ(0, cfg_wr(w, 0x14, 4, (uint32_t)(BAR0_ADDR >> 32)));
	/* the capability list: MSI-X */
	ASSERT_TRUE(cfg_rd32(w, 0x04) & (SOFTEE_PCI_STATUS_CAP_LIST << 16));
	w->msix_cap = 0;
	for (cap = cfg_rd32(w, 0x34) & 0xfc; cap; cap = (v >> 8) & 0xfc) {
		v = cfg_rd32(w, cap);
		if ((v & 0xff) == SOFTEE_PCI_CAP_ID_MSIX)
			w->msix_cap = cap;
	}
	ASSERT_NE(0, w->msix_cap);
	nvec = (cfg_rd32(w, w->msix_cap) >> 16 & SOFTEE_MSIX_FLAGS_QSIZE) + 1;
	ASSERT_EQ(NQUEUES + 1, nvec);
	ASSERT_EQ(0x2000u, cfg_rd32(w, w->msix_cap + SOFTEE_MSIX_TABLE));	/* BAR0 0x2000 */
	ASSERT_EQ(0x3000u, cfg_rd32(w, w->msix_cap + SOFTEE_MSIX_PBA));
	ASSERT_EQ(0, cfg_wr(w, w->msix_cap + 2, 2,
			    SOFTEE_MSIX_FLAGS_ENABLE | SOFTEE_MSIX_FLAGS_MASKALL));
	ASSERT_EQ(0, cfg_wr(w, 0x04, 2, SOFTEE_PCI_COMMAND_MEMORY | SOFTEE_PCI_COMMAND_MASTER));
	for (v = 0; v < nvec; v++) {
		uint64_t e = REG(0x2000 + 16 * v);

		EXPECT_EQ(1u, rd32(w, e + 12));		/* masked at reset */
		wr64(w, e, MSI_BASE + 16 * v);
		wr32(w, e + 8, MSI_DATA(v));
		wr32(w, e + 12, 0);
	}
	ASSERT_EQ(0, cfg_wr(w, w->msix_cap + 2, 2, SOFTEE_MSIX_FLAGS_ENABLE));
}

static void queue_init(struct queue *q, uint16_t qid, uint32_t size, uint64_t sq, uint64_t cq)
{
	q->qid = qid;
	q->size = size;
	q->cq_size = size;
	q->sq = sq;
	q->cq = cq;
	q->tail = q->head = 0;
	q->phase = true;
	q->next_cid = (uint16_t)(qid * 0x1000);
}

static uint32_t csts(struct world *w)
{
	return rd32(w, REG(NVME_REG_CSTS));
}

/* CC.EN 0 (wait for RDY 0), admin queue, CC.EN 1: true once RDY. */
static bool nvme_enable(struct world *w)
{
	wr32(w, REG(NVME_REG_CC), 0);
	if (!RUN_UNTIL(w, !(csts(w) & NVME_CSTS_RDY), 10 * MS))
		return false;
	memset(gmem(w, G_ASQ), 0, AQ_SIZE * NVME_SQE_SIZE);
	memset(gmem(w, G_ACQ), 0, AQ_SIZE * NVME_CQE_SIZE);
	queue_init(&w->aq, 0, AQ_SIZE, G_ASQ, G_ACQ);
	wr32(w, REG(NVME_REG_AQA), (AQ_SIZE - 1) << 16 | (AQ_SIZE - 1));
	wr64(w, REG(NVME_REG_ASQ), G_ASQ);
	wr64(w, REG(NVME_REG_ACQ), G_ACQ);
	wr32(w, REG(NVME_REG_CC), NVME_CC_EN | 6u << NVME_CC_IOSQES_SHIFT |
	     4u << NVME_CC_IOCQES_SHIFT);
	return RUN_UNTIL(w, csts(w) & (NVME_CSTS_RDY | NVME_CSTS_CFS), 10 * MS) == NVME_CSTS_RDY;
}

/* Put an SQE in the queue and ring the doorbell; its CID. */
static uint16_t submit(struct world *w, struct queue *q, struct nvme_sqe *s)
{
	uint8_t *slot = gmem(w, q->sq + (uint64_t)q->tail * NVME_SQE_SIZE);

	s->cid = q->next_cid++;
	memcpy(slot, s, sizeof(*s));
	q->tail = (q->tail + 1) % q->size;
	wr32(w, REG(NVME_REG_SQTDBL(q->qid, 0)), q->tail);
	return s->cid;
}

static bool cqe_ready(struct world *w, struct queue *q)
{
	const uint8_t *e = gmem(w, q->cq + (uint64_t)q->head * NVME_CQE_SIZE);

	return (e[14] & 1) == q->phase;
}

/* Take the next CQE (without ringing the doorbell if !db). */
static bool reap_db(struct world *w, struct queue *q, struct nvme_cqe *c, uint64_t max, bool db)
{
	if (!RUN_UNTIL(w, cqe_ready(w, q), max))
		return false;
	memcpy(c, gmem(w, q->cq + (uint64_t)q->head * NVME_CQE_SIZE), sizeof(*c));
	if (++q->head == q->cq_size) {
		q->head = 0;
		q->phase = !q->phase;
	}
	if (db)
		wr32(w, REG(NVME_REG_CQHDBL(q->qid, 0)), q->head);
	return true;
}

static bool reap(struct world *w, struct queue *q, struct nvme_cqe *c)
{
	return reap_db(w, q, c, 100 * MS, true);
}

static int cqe_status(const struct nvme_cqe *c)
{
	return (le16toh(c->status) >> 1) & 0x7ff;
}

/* Submit, wait: the status ((SCT << 8) | SC), -1 on timeout, -2 on a CQE of another command. */
static int cmd(struct world *w, struct queue *q, struct nvme_sqe *s, struct nvme_cqe *out)
{
	struct nvme_cqe c;
	uint16_t cid = submit(w, q, s);

	if (!reap(w, q, &c))
		return -1;
	if (out)
		*out = c;
	if (le16toh(c.cid) != cid || le16toh(c.sqid) != q->qid)
		return -2;
	return cqe_status(&c);
}

static int identify(struct world *w, uint8_t cns, uint32_t nsid, uint64_t buf)
{
	struct nvme_sqe s = { .opcode = NVME_ADM_IDENTIFY, .nsid = nsid, .prp1 = buf,
			      .cdw10 = cns };

	return cmd(w, &w->aq, &s, NULL);
}

static int set_feature(struct world *w, uint32_t fid, uint32_t dw11, uint32_t *dw0)
{
	struct nvme_sqe s = { .opcode = NVME_ADM_SET_FEATURES, .cdw10 = fid, .cdw11 = dw11 };
	struct nvme_cqe c;
	int ret = cmd(w, &w->aq, &s, &c);

	if (dw0)
		*dw0 = le32toh(c.dw0);
	return ret;
}

static int get_feature(struct world *w, uint32_t fid, uint32_t sel, uint32_t dw11, uint32_t *dw0)
{
	struct nvme_sqe s = { .opcode = NVME_ADM_GET_FEATURES,
			      .cdw10 = fid | sel << NVME_FEAT_SEL_SHIFT, .cdw11 = dw11 };
	struct nvme_cqe c;
	int ret = cmd(w, &w->aq, &s, &c);

	if (dw0)
		*dw0 = le32toh(c.dw0);
	return ret;
}

static int create_cq(struct world *w, uint16_t qid, uint32_t size, uint64_t base, uint32_t dw11)
{
	struct nvme_sqe s = { .opcode = NVME_ADM_CREATE_CQ, .prp1 = base,
			      .cdw10 = (size - 1) << 16 | qid, .cdw11 = dw11 };

	return cmd(w, &w->aq, &s, NULL);
}

static int create_sq(struct world *w, uint16_t qid, uint32_t size, uint64_t base, uint32_t dw11)
{
	struct nvme_sqe s = { .opcode = NVME_ADM_CREATE_SQ, .prp1 = base,
			      .cdw10 = (size - 1) << 16 | qid, .cdw11 = dw11 };

	return cmd(w, &w->aq, &s, NULL);
}

static int delete_q(struct world *w, uint8_t opc, uint16_t qid)
{
	struct nvme_sqe s = { .opcode = opc, .cdw10 = qid };

	return cmd(w, &w->aq, &s, NULL);
}

/* An I/O queue pair q on vector q, as Linux makes them. */
static void make_ioq(struct __test_metadata *_metadata, struct world *w, uint16_t q,
		     uint32_t cq_size, uint32_t sq_size)
{
	memset(gmem(w, G_CQ(q)), 0, cq_size * NVME_CQE_SIZE);
	ASSERT_EQ(0, create_cq(w, q, cq_size, G_CQ(q),
			       NVME_QUEUE_PC | NVME_CQ_IEN | (uint32_t)q << 16));
	ASSERT_EQ(0, create_sq(w, q, sq_size, G_SQ(q), NVME_QUEUE_PC | (uint32_t)q << 16));
	queue_init(&w->ioq[q], q, sq_size, G_SQ(q), G_CQ(q));
	w->ioq[q].cq_size = cq_size;
}

/* Enumerate, enable, identify, all the queues allocated, two I/O queue pairs made. */
static void bring_up(struct __test_metadata *_metadata, struct world *w)
{
	uint32_t dw0 = 0;

	enumerate(_metadata, w);
	ASSERT_TRUE(nvme_enable(w));
	ASSERT_EQ(0, identify(w, NVME_ID_CNS_CTRL, 0, G_DATA));
	ASSERT_EQ(0, set_feature(w, NVME_FEAT_NUM_QUEUES, 0xfffeu << 16 | 0xfffeu, &dw0));
	ASSERT_EQ((NQUEUES - 1) << 16 | (NQUEUES - 1), dw0);
	make_ioq(_metadata, w, 1, IOQ_SIZE, IOQ_SIZE);
	make_ioq(_metadata, w, 2, IOQ_SIZE, IOQ_SIZE);
}

static int rw(struct world *w, struct queue *q, uint8_t opc, uint64_t slba, uint32_t nlb,
	      uint64_t prp1, uint64_t prp2, struct nvme_cqe *c)
{
	struct nvme_sqe s = { .opcode = opc, .nsid = 1, .prp1 = prp1, .prp2 = prp2,
			      .cdw10 = (uint32_t)slba, .cdw11 = (uint32_t)(slba >> 32),
			      .cdw12 = nlb - 1 };

	return cmd(w, q, &s, c);
}

/* ---- config space and registers ---------------------------------------------------------- */

FIXTURE(nvme) {
	struct world *w;
};

FIXTURE_SETUP(nvme)
{
	self->w = calloc(1, sizeof(*self->w));
	ASSERT_NE(NULL, self->w);
	world_init(_metadata, self->w, NULL);
}

FIXTURE_TEARDOWN(nvme)
{
	world_fini(self->w);
}

TEST_F(nvme, registers)
{
	struct world *w = self->w;
	uint64_t cap;

	enumerate(_metadata, w);
	EXPECT_EQ(0x50f7u, cfg_rd32(w, 0) & 0xffff);
	cap = rd64(w, REG(NVME_REG_CAP));
	EXPECT_EQ(1023u, cap & NVME_CAP_MQES_MASK);
	EXPECT_TRUE(cap & NVME_CAP_CQR);
	EXPECT_NE(0, (cap >> NVME_CAP_TO_SHIFT) & 0xff);
	EXPECT_EQ(0, (cap >> NVME_CAP_DSTRD_SHIFT) & 0xf);
	EXPECT_TRUE(cap & NVME_CAP_CSS_NVM);
	EXPECT_EQ(0, (cap >> NVME_CAP_MPSMIN_SHIFT) & 0xf);
	EXPECT_EQ(NVME_VS(1, 4, 0), rd32(w, REG(NVME_REG_VS)));
	EXPECT_EQ(0, csts(w));
	/* INTMS sets, INTMC clears */
	wr32(w, REG(NVME_REG_INTMS), 0x5);
	EXPECT_EQ(0x5u, rd32(w, REG(NVME_REG_INTMC)));
	wr32(w, REG(NVME_REG_INTMC), 0x1);
	EXPECT_EQ(0x4u, rd32(w, REG(NVME_REG_INTMS)));
	/* an admin queue that is not page aligned: fatal status, never ready */
	wr32(w, REG(NVME_REG_AQA), 0x001f001f);
	wr64(w, REG(NVME_REG_ASQ), G_ASQ);
	wr64(w, REG(NVME_REG_ACQ), G_ACQ);
	EXPECT_EQ(G_ACQ, rd64(w, REG(NVME_REG_ACQ)));
	wr64(w, REG(NVME_REG_ACQ), G_ACQ + 0x100);
	EXPECT_EQ(G_ACQ, rd64(w, REG(NVME_REG_ACQ)));	/* bits 11:0 are reserved */
	wr32(w, REG(NVME_REG_CC), NVME_CC_EN | 1u << NVME_CC_MPS_SHIFT);	/* 8 KiB pages */
	run(w, 100 * US);
	EXPECT_EQ(NVME_CSTS_CFS, csts(w));
	/* a reset clears it, and a good configuration gets ready */
	ASSERT_TRUE(nvme_enable(w));
	EXPECT_EQ(NVME_CSTS_RDY, csts(w));
	EXPECT_EQ(NVME_CC_EN | 6u << 16 | 4u << 20, rd32(w, REG(NVME_REG_CC)));
	EXPECT_EQ(0, identify(w, NVME_ID_CNS_CTRL, 0, G_DATA));
	/*
	 * Admin completions raise vector 0.  The MSI-X write follows the CQE's
	 * (PCIe orders posted writes): a driver may see the entry first.
	 */
	EXPECT_TRUE(RUN_UNTIL(w, w->h.msix[0] > 0, 1 * MS));
	EXPECT_EQ(0, w->h.msi_bad);
	EXPECT_EQ(0, w->h.proto_err);
}

TEST_F(nvme, identify)
{
	struct world *w = self->w;
	uint8_t *d = gmem(w, G_DATA), nguid[16];

	enumerate(_metadata, w);
	ASSERT_TRUE(nvme_enable(w));
	/* the controller, through a PRP1 in the middle of a page and PRP2 */
	memset(gmem(w, G_DATA), 0xee, 3 * PAGE);
	{
		struct nvme_sqe s = { .opcode = NVME_ADM_IDENTIFY, .prp1 = G_DATA + 0x800,
				      .prp2 = G_DATA + PAGE, .cdw10 = NVME_ID_CNS_CTRL };
		struct nvme_cqe c;

		ASSERT_EQ(0, cmd(w, &w->aq, &s, &c));
		d = gmem(w, G_DATA + 0x800);
		EXPECT_EQ(0x50f7u, le32(d) & 0xffff);
		EXPECT_EQ(0, memcmp(d + NVME_IDC_MN, "softee-box NVMe ", 16));
		EXPECT_EQ(6, d[NVME_IDC_MDTS]);
		EXPECT_EQ(NVME_VS(1, 4, 0), le32(d + NVME_IDC_VER));
		EXPECT_EQ(0x66, d[NVME_IDC_SQES]);
		EXPECT_EQ(0x44, d[NVME_IDC_CQES]);
		EXPECT_EQ(1u, le32(d + NVME_IDC_NN));
		EXPECT_EQ(3, d[NVME_IDC_AERL]);
		EXPECT_TRUE(d[NVME_IDC_VWC] & NVME_VWC_PRESENT);
		EXPECT_TRUE(le32(d + NVME_IDC_ONCS) & NVME_ONCS_WRITE_ZEROES);
		EXPECT_EQ(0, memcmp(d + NVME_IDC_SUBNQN, "nqn.", 4));
		EXPECT_EQ(0xee, *gmem(w, G_DATA + 0x7ff));	/* nothing before PRP1 */
		EXPECT_EQ(0xee, *gmem(w, G_DATA + 0x1800));	/* nor after the 4 KiB */
		EXPECT_EQ(0, le16toh(c.status) & NVME_CQE_DNR);
		EXPECT_EQ(1, le16toh(c.sqhd));
	}
	/* the namespace */
	d = gmem(w, G_DATA);
	ASSERT_EQ(0, identify(w, NVME_ID_CNS_NS, 1, G_DATA));
	EXPECT_EQ(NS_BLOCKS, le64(d + NVME_IDNS_NSZE));
	EXPECT_EQ(NS_BLOCKS, le64(d + NVME_IDNS_NCAP));
	EXPECT_EQ(0, d[NVME_IDNS_NLBAF]);
	EXPECT_EQ(9u, (le32(d + NVME_IDNS_LBAF0) >> 16) & 0xff);
	memcpy(nguid, d + NVME_IDNS_NGUID, 16);
	/* the active list, from NSID 0 and from NSID 1 */
	ASSERT_EQ(0, identify(w, NVME_ID_CNS_NS_ACTIVE, 0, G_DATA));
	EXPECT_EQ(1u, le32(d));
	EXPECT_EQ(0u, le32(d + 4));
	ASSERT_EQ(0, identify(w, NVME_ID_CNS_NS_ACTIVE, 1, G_DATA));
	EXPECT_EQ(0u, le32(d));
	/* the descriptor list: the same NGUID */
	ASSERT_EQ(0, identify(w, NVME_ID_CNS_NS_DESC, 1, G_DATA));
	EXPECT_EQ(NVME_NIDT_NGUID, d[0]);
	EXPECT_EQ(16, d[1]);
	EXPECT_EQ(0, memcmp(d + 4, nguid, 16));
	EXPECT_EQ(0, d[20]);				/* the list ends */
	/* what is not there */
	EXPECT_EQ(NVME_SC_INVALID_NS, identify(w, NVME_ID_CNS_NS, 2, G_DATA));
	EXPECT_EQ(NVME_SC_INVALID_NS, identify(w, NVME_ID_CNS_NS, 0, G_DATA));
	EXPECT_EQ(NVME_SC_INVALID_NS, identify(w, NVME_ID_CNS_NS_DESC, 7, G_DATA));
	EXPECT_EQ(NVME_SC_INVALID_NS, identify(w, NVME_ID_CNS_NS_ACTIVE, 0xfffffffe, G_DATA));
	EXPECT_EQ(NVME_SC_INVALID_FIELD, identify(w, 0x10, 0, G_DATA));
	EXPECT_EQ(NVME_SC_INVALID_FIELD, identify(w, 0x06, 0, G_DATA));
	/* a PRP1 that is not dword aligned */
	{
		struct nvme_sqe s = { .opcode = NVME_ADM_IDENTIFY, .prp1 = G_DATA + 2,
				      .cdw10 = NVME_ID_CNS_CTRL };
		struct nvme_cqe c;

		EXPECT_EQ(NVME_SC_PRP_INVALID_OFFSET, cmd(w, &w->aq, &s, &c));
		EXPECT_TRUE(le16toh(c.status) & NVME_CQE_DNR);
	}
	/* data to outside guest memory: posted writes, dropped by the host (no error to see) */
	EXPECT_EQ(0, identify(w, NVME_ID_CNS_CTRL, 0, 0x7000000000ULL));
	EXPECT_LT(0, w->h.mwr_outside);
	EXPECT_NE(NULL, strstr(describe(w), "prp:1,xfer:0"));
}

TEST_F(nvme, admin_commands)
{
	struct world *w = self->w;
	uint8_t *d = gmem(w, G_DATA);
	uint32_t dw0 = 0;
	unsigned int i;

	enumerate(_metadata, w);
	ASSERT_TRUE(nvme_enable(w));
	/* features */
	ASSERT_EQ(0, get_feature(w, NVME_FEAT_NUM_QUEUES, 0, 0, &dw0));
	EXPECT_EQ((NQUEUES - 1) << 16 | (NQUEUES - 1), dw0);
	ASSERT_EQ(0, set_feature(w, NVME_FEAT_NUM_QUEUES, 63u << 16 | 63u, &dw0));
	EXPECT_EQ((NQUEUES - 1) << 16 | (NQUEUES - 1), dw0);	/* as many as there are */
	EXPECT_EQ(NVME_SC_INVALID_FIELD, set_feature(w, NVME_FEAT_NUM_QUEUES, 0xffff, NULL));
	ASSERT_EQ(0, set_feature(w, NVME_FEAT_ARBITRATION, 0x01020304, NULL));
	ASSERT_EQ(0, get_feature(w, NVME_FEAT_ARBITRATION, NVME_FEAT_SEL_CURRENT, 0, &dw0));
	EXPECT_EQ(0x01020304u, dw0);
	ASSERT_EQ(0, get_feature(w, NVME_FEAT_ARBITRATION, NVME_FEAT_SEL_DEFAULT, 0, &dw0));
	EXPECT_EQ(0u, dw0);
	ASSERT_EQ(0, get_feature(w, NVME_FEAT_ARBITRATION, NVME_FEAT_SEL_CAPS, 0, &dw0));
	EXPECT_EQ(NVME_FEAT_CAP_CHANGEABLE, dw0);
	EXPECT_EQ(NVME_SC_INVALID_FIELD, get_feature(w, NVME_FEAT_ARBITRATION, 4, 0, NULL));
	EXPECT_EQ(0, set_feature(w, NVME_FEAT_POWER_MGMT, 0, NULL));
	EXPECT_EQ(NVME_SC_INVALID_FIELD, set_feature(w, NVME_FEAT_POWER_MGMT, 1, NULL));
	ASSERT_EQ(0, get_feature(w, NVME_FEAT_TEMP_THRESH, 0, 0, &dw0));
	EXPECT_EQ(343u, dw0);
	ASSERT_EQ(0, set_feature(w, NVME_FEAT_TEMP_THRESH, 1u << 20 | 250, NULL));
	ASSERT_EQ(0, get_feature(w, NVME_FEAT_TEMP_THRESH, 0, 1u << 20, &dw0));
	EXPECT_EQ(250u, dw0);
	EXPECT_EQ(NVME_SC_INVALID_FIELD, set_feature(w, NVME_FEAT_TEMP_THRESH, 1u << 16 | 300, NULL));
	EXPECT_EQ(NVME_SC_INVALID_FIELD, set_feature(w, NVME_FEAT_TEMP_THRESH, 2u << 20 | 300, NULL));
	ASSERT_EQ(0, set_feature(w, NVME_FEAT_VOLATILE_WC, 0, NULL));
	ASSERT_EQ(0, get_feature(w, NVME_FEAT_VOLATILE_WC, 0, 0, &dw0));
	EXPECT_EQ(0u, dw0);
	ASSERT_EQ(0, set_feature(w, NVME_FEAT_VOLATILE_WC, 1, NULL));
	ASSERT_EQ(0, set_feature(w, NVME_FEAT_IRQ_COALESCE, 0x0a05, NULL));
	ASSERT_EQ(0, get_feature(w, NVME_FEAT_IRQ_COALESCE, 0, 0, &dw0));
	EXPECT_EQ(0x0a05u, dw0);
	ASSERT_EQ(0, set_feature(w, NVME_FEAT_ASYNC_EVENT, 0x1ff, NULL));
	EXPECT_EQ(NVME_SC_INVALID_FIELD, set_feature(w, NVME_FEAT_AUTO_PST, 0, NULL));
	EXPECT_EQ(NVME_SC_INVALID_FIELD, get_feature(w, NVME_FEAT_KATO, 0, 0, NULL));
	EXPECT_EQ(NVME_SC_INVALID_FIELD, set_feature(w, 0x80, 0, NULL));
	EXPECT_EQ(NVME_SC_FEAT_NOT_SAVEABLE,
		  set_feature(w, NVME_FEAT_ARBITRATION | 1u << 31, 0, NULL));
	/* log pages */
	{
		struct nvme_sqe s = { .opcode = NVME_ADM_GET_LOG_PAGE, .nsid = NVME_NSID_ALL,
				      .prp1 = G_DATA, .cdw10 = (512 / 4 - 1) << 16 | NVME_LOG_SMART };

		memset(d, 0xee, PAGE);
		ASSERT_EQ(0, cmd(w, &w->aq, &s, NULL));
		EXPECT_EQ(313u, le32(d + NVME_SMART_TEMP) & 0xffff);
		EXPECT_EQ(100, d[NVME_SMART_AVAIL_SPARE]);
		EXPECT_EQ(0xee, d[512]);
		s.cdw10 = (512 / 4 - 1) << 16 | NVME_LOG_FW_SLOT;
		ASSERT_EQ(0, cmd(w, &w->aq, &s, NULL));
		EXPECT_EQ(1, d[NVME_FW_SLOT_AFI]);
		EXPECT_EQ(0, memcmp(d + NVME_FW_SLOT_FRS1, "1.0", 3));
		s.cdw10 = (64 / 4 - 1) << 16 | NVME_LOG_ERROR;
		ASSERT_EQ(0, cmd(w, &w->aq, &s, NULL));
		s.cdw10 = (512 / 4 - 1) << 16 | 0x7f;
		EXPECT_EQ(NVME_SC_LOG_INVALID, cmd(w, &w->aq, &s, NULL));
		/* past the page's end, and an offset that is not a dword */
		s.cdw10 = (4 - 1) << 16 | NVME_LOG_SMART;
		s.cdw12 = 512;
		EXPECT_EQ(NVME_SC_INVALID_FIELD, cmd(w, &w->aq, &s, NULL));
		s.cdw12 = 2;
		EXPECT_EQ(NVME_SC_INVALID_FIELD, cmd(w, &w->aq, &s, NULL));
		s.cdw12 = 0;
		s.nsid = 1;		/* no per-namespace SMART */
		EXPECT_EQ(NVME_SC_INVALID_FIELD, cmd(w, &w->aq, &s, NULL));
	}
	/* Abort: never aborts */
	{
		struct nvme_sqe s = { .opcode = NVME_ADM_ABORT, .cdw10 = 0x1234u << 16 | 1 };
		struct nvme_cqe c;

		ASSERT_EQ(0, cmd(w, &w->aq, &s, &c));
		EXPECT_EQ(1u, le32toh(c.dw0) & 1);
	}
	/* Keep Alive, and opcodes the controller does not have */
	{
		struct nvme_sqe s = { .opcode = NVME_ADM_KEEP_ALIVE };

		EXPECT_EQ(0, cmd(w, &w->aq, &s, NULL));
		s.opcode = NVME_ADM_FORMAT_NVM;
		EXPECT_EQ(NVME_SC_INVALID_OPCODE, cmd(w, &w->aq, &s, NULL));
		s.opcode = 0xc1;
		EXPECT_EQ(NVME_SC_INVALID_OPCODE, cmd(w, &w->aq, &s, NULL));
		s.opcode = NVME_ADM_IDENTIFY;
		s.flags = 0x40;		/* SGL */
		s.cdw10 = NVME_ID_CNS_CTRL;
		EXPECT_EQ(NVME_SC_INVALID_FIELD, cmd(w, &w->aq, &s, NULL));
	}
	/* AERs: AERL + 1 held without completion, one more is over the limit */
	for (i = 0; i < 4; i++) {
		struct nvme_sqe s = { .opcode = NVME_ADM_ASYNC_EVENT };

		submit(w, &w->aq, &s);
	}
	run(w, 500 * US);
	EXPECT_FALSE(cqe_ready(w, &w->aq));
	{
		struct nvme_sqe s = { .opcode = NVME_ADM_ASYNC_EVENT };

		EXPECT_EQ(NVME_SC_AER_LIMIT, cmd(w, &w->aq, &s, NULL));
	}
	EXPECT_EQ(0, identify(w, NVME_ID_CNS_CTRL, 0, G_DATA));	/* the queue goes on */
	/* a reset drops them: four may be held again */
	ASSERT_TRUE(nvme_enable(w));
	for (i = 0; i < 4; i++) {
		struct nvme_sqe s = { .opcode = NVME_ADM_ASYNC_EVENT };

		submit(w, &w->aq, &s);
	}
	run(w, 500 * US);
	EXPECT_FALSE(cqe_ready(w, &w->aq));
	EXPECT_EQ(0, identify(w, NVME_ID_CNS_CTRL, 0, G_DATA));
	EXPECT_EQ(0, w->h.proto_err);
}

TEST_F(nvme, queue_errors)
{
	struct world *w = self->w;
	const uint32_t pc = NVME_QUEUE_PC, ien = NVME_CQ_IEN;

	enumerate(_metadata, w);
	ASSERT_TRUE(nvme_enable(w));
	ASSERT_EQ(0, set_feature(w, NVME_FEAT_NUM_QUEUES, 2u << 16 | 2u, NULL));	/* 3 each */
	/* Create I/O CQ */
	EXPECT_EQ(NVME_SC_QID_INVALID, create_cq(w, 0, 16, G_CQ(1), pc | ien));
	EXPECT_EQ(NVME_SC_QID_INVALID, create_cq(w, 4, 16, G_CQ(4), pc | ien));	/* > NCQA */
	EXPECT_EQ(NVME_SC_QID_INVALID, create_cq(w, 0xffff, 16, G_CQ(1), pc | ien));
	EXPECT_EQ(NVME_SC_QUEUE_SIZE, create_cq(w, 1, 1, G_CQ(1), pc | ien));
	EXPECT_EQ(NVME_SC_QUEUE_SIZE, create_cq(w, 1, 1025, G_CQ(1), pc | ien));
	EXPECT_EQ(NVME_SC_INVALID_FIELD, create_cq(w, 1, 16, G_CQ(1), ien));	/* PC 0 */
	EXPECT_EQ(NVME_SC_IV_INVALID, create_cq(w, 1, 16, G_CQ(1), pc | ien | 5u << 16));
	EXPECT_EQ(NVME_SC_PRP_INVALID_OFFSET, create_cq(w, 1, 16, G_CQ(1) + 0x10, pc | ien));
	EXPECT_EQ(0, create_cq(w, 1, 1024, G_CQ(1), pc | ien | 1u << 16));
	EXPECT_EQ(NVME_SC_QID_INVALID, create_cq(w, 1, 16, G_CQ(1), pc | ien));	/* in use */
	/* Create I/O SQ */
	EXPECT_EQ(NVME_SC_QID_INVALID, create_sq(w, 0, 16, G_SQ(1), pc | 1u << 16));
	EXPECT_EQ(NVME_SC_QID_INVALID, create_sq(w, 4, 16, G_SQ(1), pc | 1u << 16));
	EXPECT_EQ(NVME_SC_QUEUE_SIZE, create_sq(w, 1, 1, G_SQ(1), pc | 1u << 16));
	EXPECT_EQ(NVME_SC_INVALID_FIELD, create_sq(w, 1, 16, G_SQ(1), 1u << 16));
	EXPECT_EQ(NVME_SC_CQ_INVALID, create_sq(w, 1, 16, G_SQ(1), pc | 2u << 16));	/* none */
	EXPECT_EQ(NVME_SC_CQ_INVALID, create_sq(w, 1, 16, G_SQ(1), pc));		/* admin */
	EXPECT_EQ(0, create_sq(w, 1, 16, G_SQ(1), pc | 1u << 16));
	EXPECT_EQ(NVME_SC_QID_INVALID, create_sq(w, 1, 16, G_SQ(1), pc | 1u << 16));
	EXPECT_EQ(0, create_sq(w, 2, 16, G_SQ(2), pc | 1u << 16));	/* two SQs, one CQ */
	/* Number of Queues only before the first queue */
	EXPECT_EQ(NVME_SC_CMD_SEQ_ERROR, set_feature(w, NVME_FEAT_NUM_QUEUES, 0, NULL));
	/* Delete: a CQ in use, queues that are not there */
	EXPECT_EQ(NVME_SC_QUEUE_DELETE, delete_q(w, NVME_ADM_DELETE_CQ, 1));
	EXPECT_EQ(NVME_SC_QID_INVALID, delete_q(w, NVME_ADM_DELETE_SQ, 0));
	EXPECT_EQ(NVME_SC_QID_INVALID, delete_q(w, NVME_ADM_DELETE_CQ, 0));
	EXPECT_EQ(NVME_SC_QID_INVALID, delete_q(w, NVME_ADM_DELETE_SQ, 3));
	EXPECT_EQ(NVME_SC_QID_INVALID, delete_q(w, NVME_ADM_DELETE_CQ, 3));
	EXPECT_EQ(NVME_SC_QID_INVALID, delete_q(w, NVME_ADM_DELETE_SQ, 0x100));
	EXPECT_EQ(0, delete_q(w, NVME_ADM_DELETE_SQ, 1));
	EXPECT_EQ(NVME_SC_QUEUE_DELETE, delete_q(w, NVME_ADM_DELETE_CQ, 1));
	EXPECT_EQ(0, delete_q(w, NVME_ADM_DELETE_SQ, 2));
	EXPECT_EQ(0, delete_q(w, NVME_ADM_DELETE_CQ, 1));
	EXPECT_EQ(NVME_SC_QID_INVALID, delete_q(w, NVME_ADM_DELETE_SQ, 1));
	/* and again from scratch */
	EXPECT_EQ(0, create_cq(w, 3, 16, G_CQ(3), pc | ien | 3u << 16));
	EXPECT_EQ(0, create_sq(w, 3, 16, G_SQ(3), pc | 3u << 16));
	/* a doorbell past the queue's end, or of a queue that is not there, is ignored */
	wr32(w, REG(NVME_REG_SQTDBL(3, 0)), 16);
	wr32(w, REG(NVME_REG_SQTDBL(1, 0)), 1);
	wr32(w, REG(NVME_REG_CQHDBL(3, 0)), 5);		/* nothing was posted */
	run(w, 200 * US);
	EXPECT_NE(NULL, strstr(describe(w), "baddb=3"));
	EXPECT_EQ(0, identify(w, NVME_ID_CNS_CTRL, 0, G_DATA));
}

/* ---- data -------------------------------------------------------------------------------- */

static void file_check(struct __test_metadata *_metadata, struct world *w, uint64_t off,
		       const uint8_t *want, uint32_t len)
{
	uint8_t *b = malloc(len);

	ASSERT_NE(NULL, b);
	ASSERT_EQ((ssize_t)len, pread(w->fd, b, len, (off_t)off));
	EXPECT_EQ(0, memcmp(b, want, len));
	free(b);
}

/*
 * Write from one buffer and read back into another, both described by
 * the same PRP layout; the data and the file must match.
 */
struct layout {
	uint64_t prp1, prp2;		/* of the write; the read's are +RD_SHIFT */
	uint32_t pages[80];		/* guest pages (offsets from G_DATA) of the data after PRP1 */
	uint32_t npages;
};

#define RD_SHIFT	(G_DATA2 - G_DATA)

static void gather(struct world *w, const struct layout *l, uint64_t shift, uint8_t *out,
		   uint32_t len)
{
	uint32_t first = PAGE - (uint32_t)(l->prp1 & (PAGE - 1)), i, off;

	if (first > len)
		first = len;
	memcpy(out, gmem(w, l->prp1 + shift), first);
	for (off = first, i = 0; off < len; i++) {
		uint32_t n = len - off < PAGE ? len - off : PAGE;

		memcpy(out + off, gmem(w, G_DATA + l->pages[i] + shift), n);
		off += n;
	}
}

static void scatter(struct world *w, const struct layout *l, uint64_t shift, const uint8_t *in,
		    uint32_t len)
{
	uint32_t first = PAGE - (uint32_t)(l->prp1 & (PAGE - 1)), i, off;

	if (first > len)
		first = len;
	memcpy(gmem(w, l->prp1 + shift), in, first);
	for (off = first, i = 0; off < len; i++) {
		uint32_t n = len - off < PAGE ? len - off : PAGE;

		memcpy(gmem(w, G_DATA + l->pages[i] + shift), in + off, n);
		off += n;
	}
}

/* A PRP list for l's pages at list (+shift), chained at page ends. */
static uint64_t write_list(struct world *w, const struct layout *l, uint64_t list, uint64_t shift,
			   uint64_t next_page)
{
	uint64_t at = list;
	uint32_t i;

	for (i = 0; i < l->npages; i++) {
		uint64_t e = G_DATA + l->pages[i] + shift;

		/* the last slot of a page points on if more entries follow */
		if (((at + 8) & (PAGE - 1)) == 0 && i + 1 < l->npages) {
			uint64_t v = htole64(next_page);

			memcpy(gmem(w, at), &v, 8);
			at = next_page;
			next_page += PAGE;
		}
		e = htole64(e);
		memcpy(gmem(w, at), &e, 8);
		at += 8;
	}
	return list;
}

static void roundtrip(struct __test_metadata *_metadata, struct world *w, struct queue *q,
		      struct layout *l, uint64_t slba, uint32_t len, uint64_t list, uint64_t seed)
{
	uint8_t *src = malloc(len), *dst = malloc(len);
	unsigned int vec = q->qid, before = w->h.msix[vec];
	struct nvme_cqe c;
	uint64_t p2w = l->prp2, p2r = l->prp2;

	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, dst);
	fill(src, len, seed);
	scatter(w, l, 0, src, len);
	if (list) {
		p2w = write_list(w, l, list, 0, G_LIST + 0x40000);
		p2r = write_list(w, l, list + 0x20000, RD_SHIFT, G_LIST + 0x80000);
	} else if (l->npages) {
		p2r = p2w + RD_SHIFT;
	}
	ASSERT_EQ(0, rw(w, q, NVME_CMD_WRITE, slba, len / LBA, l->prp1, p2w, &c));
	EXPECT_EQ(q->qid, le16toh(c.sqid));
	file_check(_metadata, w, slba * LBA, src, len);
	ASSERT_EQ(0, rw(w, q, NVME_CMD_READ, slba, len / LBA, l->prp1 + RD_SHIFT, p2r, &c));
	gather(w, l, RD_SHIFT, dst, len);
	EXPECT_EQ(0, memcmp(src, dst, len));
	EXPECT_EQ(q->tail, le16toh(c.sqhd));
	/* each completion raised the queue's own vector */
	EXPECT_LE(before + 1, w->h.msix[vec]);
	free(src);
	free(dst);
}

TEST_F(nvme, io_prp)
{
	struct world *w = self->w;
	struct layout l;
	uint32_t i;

	bring_up(_metadata, w);
	/* PRP1 only: 512 bytes in the middle of a page, then a whole page */
	memset(&l, 0, sizeof(l));
	l.prp1 = G_DATA + 0x600;
	roundtrip(_metadata, w, &w->ioq[1], &l, 10, 512, 0, 1);
	l.prp1 = G_DATA;
	roundtrip(_metadata, w, &w->ioq[2], &l, 100, PAGE, 0, 2);
	/* PRP1 + PRP2: 4 KiB across a page boundary, and 8 KiB page aligned */
	l.prp1 = G_DATA + 0x800;
	l.prp2 = G_DATA + 5 * PAGE;
	l.pages[0] = 5 * PAGE;
	l.npages = 1;
	roundtrip(_metadata, w, &w->ioq[1], &l, 200, PAGE, 0, 3);
	l.prp1 = G_DATA + 2 * PAGE;
	roundtrip(_metadata, w, &w->ioq[2], &l, 300, 2 * PAGE, 0, 4);
	/* a list: 64 KiB, PRP1 at an offset, pages scattered backwards */
	memset(&l, 0, sizeof(l));
	l.prp1 = G_DATA + 0x200;
	for (i = 0; i < 16; i++)
		l.pages[i] = (40 - 2 * i) * PAGE;
	l.npages = 16;
	roundtrip(_metadata, w, &w->ioq[1], &l, 1000, 16 * PAGE, G_LIST, 5);
	/* a list that starts 4 entries before its page ends: it chains, twice for MDTS */
	memset(&l, 0, sizeof(l));
	l.prp1 = G_DATA + 60 * PAGE;
	for (i = 0; i < 63; i++)
		l.pages[i] = (100 + i) * PAGE;		/* contiguous: one transfer */
	l.npages = 31;
	roundtrip(_metadata, w, &w->ioq[2], &l, 5000, 32 * PAGE, G_LIST + PAGE - 32, 6);
	l.npages = 63;
	roundtrip(_metadata, w, &w->ioq[1], &l, 9000, 64 * PAGE, G_LIST + 3 * PAGE - 8, 7);
	/* the last LBA */
	memset(&l, 0, sizeof(l));
	l.prp1 = G_DATA;
	roundtrip(_metadata, w, &w->ioq[1], &l, NS_BLOCKS - 1, 512, 0, 8);
	EXPECT_EQ(0, w->h.msi_bad);
	EXPECT_EQ(0, w->h.proto_err);
	EXPECT_EQ(0, w->h.mrd_ur);
	EXPECT_LT(0, w->h.msix[1]);
	EXPECT_LT(0, w->h.msix[2]);
	EXPECT_NE(NULL, strstr(describe(w), "err=op:0,fld:0,ns:0,lba:0,prp:0,xfer:0"));
}

TEST_F(nvme, io_commands_and_errors)
{
	struct world *w = self->w;
	struct queue *q;
	uint8_t buf[8192], *d = gmem(w, G_DATA);
	struct nvme_cqe c;
	uint64_t e;

	bring_up(_metadata, w);
	q = &w->ioq[1];
	/* Write Zeroes in the middle of written data */
	fill(d, 8192, 9);
	memcpy(buf, d, sizeof(buf));
	ASSERT_EQ(0, rw(w, q, NVME_CMD_WRITE, 64, 16, G_DATA, G_DATA + PAGE, NULL));
	ASSERT_EQ(0, rw(w, q, NVME_CMD_WRITE_ZEROES, 66, 4, 0, 0, NULL));
	memset(buf + 2 * LBA, 0, 4 * LBA);
	file_check(_metadata, w, 64 * LBA, buf, sizeof(buf));
	memset(d, 0xee, 8192);
	ASSERT_EQ(0, rw(w, q, NVME_CMD_READ, 64, 16, G_DATA, G_DATA + PAGE, NULL));
	EXPECT_EQ(0, memcmp(buf, d, sizeof(buf)));
	/* Flush, of the namespace and of all; FUA */
	{
		struct nvme_sqe s = { .opcode = NVME_CMD_FLUSH, .nsid = 1 };

		EXPECT_EQ(0, cmd(w, q, &s, NULL));
		s.nsid = NVME_NSID_ALL;
		EXPECT_EQ(0, cmd(w, q, &s, NULL));
		s.nsid = 2;
		EXPECT_EQ(NVME_SC_INVALID_NS, cmd(w, q, &s, NULL));
		s = (struct nvme_sqe){ .opcode = NVME_CMD_WRITE, .nsid = 1, .prp1 = G_DATA,
				       .cdw10 = 7, .cdw12 = NVME_RW_FUA };
		EXPECT_EQ(0, cmd(w, q, &s, NULL));
		s = (struct nvme_sqe){ .opcode = NVME_CMD_DSM, .nsid = 1, .prp1 = G_DATA };
		EXPECT_EQ(0, cmd(w, q, &s, NULL));
	}
	/* LBA Out of Range: past the end, straddling it, and a 64-bit wrap */
	EXPECT_EQ(NVME_SC_LBA_RANGE, rw(w, q, NVME_CMD_READ, NS_BLOCKS, 1, G_DATA, 0, &c));
	EXPECT_TRUE(le16toh(c.status) & NVME_CQE_DNR);
	EXPECT_EQ(NVME_SC_LBA_RANGE, rw(w, q, NVME_CMD_WRITE, NS_BLOCKS - 1, 2, G_DATA, 0, NULL));
	EXPECT_EQ(NVME_SC_LBA_RANGE, rw(w, q, NVME_CMD_READ, ~0ULL, 2, G_DATA, 0, NULL));
	EXPECT_EQ(NVME_SC_LBA_RANGE, rw(w, q, NVME_CMD_WRITE_ZEROES, NS_BLOCKS - 2, 3, 0, 0, NULL));
	/* MDTS: 256 KiB + one block */
	EXPECT_EQ(NVME_SC_INVALID_FIELD, rw(w, q, NVME_CMD_READ, 0, 513, G_DATA, G_LIST, NULL));
	/* opcodes and namespaces */
	{
		struct nvme_sqe s = { .opcode = 0x7f, .nsid = 1 };

		EXPECT_EQ(NVME_SC_INVALID_OPCODE, cmd(w, q, &s, NULL));
		s.opcode = NVME_CMD_COMPARE;
		EXPECT_EQ(NVME_SC_INVALID_OPCODE, cmd(w, q, &s, NULL));
		s = (struct nvme_sqe){ .opcode = NVME_CMD_READ, .nsid = 2, .prp1 = G_DATA };
		EXPECT_EQ(NVME_SC_INVALID_NS, cmd(w, q, &s, NULL));
		s.nsid = 0;
		EXPECT_EQ(NVME_SC_INVALID_NS, cmd(w, q, &s, NULL));
		s.nsid = 1;
		s.flags = 0x01;		/* fused */
		EXPECT_EQ(NVME_SC_INVALID_FIELD, cmd(w, q, &s, NULL));
		s.flags = 0x80;		/* SGL */
		EXPECT_EQ(NVME_SC_INVALID_FIELD, cmd(w, q, &s, NULL));
	}
	/* PRPs: PRP1 not a dword, PRP2 not a page, a list not a qword, a list entry with an offset */
	EXPECT_EQ(NVME_SC_PRP_INVALID_OFFSET, rw(w, q, NVME_CMD_READ, 0, 1, G_DATA + 1, 0, NULL));
	EXPECT_EQ(NVME_SC_PRP_INVALID_OFFSET,
		  rw(w, q, NVME_CMD_READ, 0, 8, G_DATA + 0x200, G_DATA + PAGE + 0x200, NULL));
	EXPECT_EQ(NVME_SC_PRP_INVALID_OFFSET,
		  rw(w, q, NVME_CMD_READ, 0, 24, G_DATA, G_LIST + 4, NULL));
	e = htole64(G_DATA + PAGE);
	memcpy(gmem(w, G_LIST), &e, 8);
	e = htole64(G_DATA + 2 * PAGE + 8);
	memcpy(gmem(w, G_LIST + 8), &e, 8);
	EXPECT_EQ(NVME_SC_PRP_INVALID_OFFSET,
		  rw(w, q, NVME_CMD_WRITE, 0, 24, G_DATA, G_LIST, NULL));
	/* a list whose every page's last slot points to itself: bounded, then an error */
	e = htole64(G_LIST + PAGE - 8);
	memcpy(gmem(w, G_LIST + PAGE - 8), &e, 8);
	EXPECT_EQ(NVME_SC_INVALID_FIELD,
		  rw(w, q, NVME_CMD_READ, 0, 24, G_DATA, G_LIST + PAGE - 8, NULL));
	/* data the host has not got: the transfer fails, the file is untouched */
	EXPECT_EQ(NVME_SC_DATA_XFER_ERROR,
		  rw(w, q, NVME_CMD_WRITE, 64, 1, 0x7000000000ULL, 0, &c));
	EXPECT_FALSE(le16toh(c.status) & NVME_CQE_DNR);
	file_check(_metadata, w, 64 * LBA, buf, LBA);
	EXPECT_EQ(0, rw(w, q, NVME_CMD_READ, 64, 16, G_DATA, 0x7000000000ULL, NULL));
	EXPECT_LT(0, w->h.mwr_outside);		/* posted: the host drops them */
	EXPECT_NE(NULL, strstr(describe(w), "xfer:1,"));
	/* and the queue still works */
	ASSERT_EQ(0, rw(w, q, NVME_CMD_READ, 64, 16, G_DATA, G_DATA + PAGE, NULL));
	EXPECT_EQ(0, memcmp(buf, d, sizeof(buf)));
	EXPECT_NE(NULL, strstr(describe(w), "lba:4"));
	EXPECT_EQ(0, w->h.proto_err);
}

/* ---- interrupts -------------------------------------------------------------------------- */

TEST_F(nvme, msix_masking)
{
	struct world *w = self->w;
	struct queue *q;
	uint64_t e1 = REG(0x2000 + 16 * 1);
	unsigned int n;

	bring_up(_metadata, w);
	q = &w->ioq[1];
	/* vector 1 masked: no message, its pending bit set; unmasked: the message */
	wr32(w, e1 + 12, 1);
	n = w->h.msix[1];
	ASSERT_EQ(0, rw(w, q, NVME_CMD_READ, 0, 1, G_DATA, 0, NULL));
	run(w, 100 * US);
	EXPECT_EQ(n, w->h.msix[1]);
	EXPECT_EQ(0x2u, rd32(w, REG(0x3000)));
	wr32(w, e1 + 12, 0);
	EXPECT_TRUE(RUN_UNTIL(w, w->h.msix[1] == n + 1, 1 * MS));
	EXPECT_EQ(0u, rd32(w, REG(0x3000)));
	/* the function mask */
	ASSERT_EQ(0, cfg_wr(w, w->msix_cap + 2, 2,
			    SOFTEE_MSIX_FLAGS_ENABLE | SOFTEE_MSIX_FLAGS_MASKALL));
	ASSERT_EQ(0, rw(w, &w->ioq[2], NVME_CMD_READ, 0, 1, G_DATA, 0, NULL));
	run(w, 100 * US);
	EXPECT_EQ(0x4u, rd32(w, REG(0x3000)));
	n = w->h.msix[2];
	ASSERT_EQ(0, cfg_wr(w, w->msix_cap + 2, 2, SOFTEE_MSIX_FLAGS_ENABLE));
	EXPECT_TRUE(RUN_UNTIL(w, w->h.msix[2] == n + 1, 1 * MS));
	EXPECT_EQ(0u, rd32(w, REG(0x3000)));
	/* a CQ without IEN raises nothing */
	ASSERT_EQ(0, create_cq(w, 3, 16, G_CQ(3), NVME_QUEUE_PC | 3u << 16));
	ASSERT_EQ(0, create_sq(w, 3, 16, G_SQ(3), NVME_QUEUE_PC | 3u << 16));
	queue_init(&w->ioq[3], 3, 16, G_SQ(3), G_CQ(3));
	memset(gmem(w, G_CQ(3)), 0, 16 * NVME_CQE_SIZE);
	n = w->h.msix[3];
	ASSERT_EQ(0, rw(w, &w->ioq[3], NVME_CMD_READ, 0, 1, G_DATA, 0, NULL));
	run(w, 100 * US);
	EXPECT_EQ(n, w->h.msix[3]);
	EXPECT_EQ(0, w->h.msi_bad);
}

TEST_F(nvme, cq_full)
{
	struct world *w = self->w;
	struct queue *q;
	struct nvme_cqe c;
	bool seen[8] = { false };
	unsigned int i, got = 0;
	uint8_t *cq;

	bring_up(_metadata, w);
	/* a CQ of 4 entries (3 usable) under an SQ of 16 */
	memset(gmem(w, G_CQ(3)), 0, PAGE);
	ASSERT_EQ(0, create_cq(w, 3, 4, G_CQ(3), NVME_QUEUE_PC | NVME_CQ_IEN | 3u << 16));
	ASSERT_EQ(0, create_sq(w, 3, 16, G_SQ(3), NVME_QUEUE_PC | 3u << 16));
	q = &w->ioq[3];
	queue_init(q, 3, 16, G_SQ(3), G_CQ(3));
	q->cq_size = 4;
	for (i = 0; i < 8; i++) {
		struct nvme_sqe s = { .opcode = NVME_CMD_READ, .nsid = 1, .prp1 = G_DATA + i * PAGE,
				      .cdw10 = i };

		submit(w, q, &s);
	}
	run(w, 2 * MS);
	cq = gmem(w, G_CQ(3));
	/* three posted, the fourth slot untouched: the CQ is full */
	for (i = 0; i < 3; i++)
		EXPECT_EQ(1, cq[16 * i + 14] & 1);
	EXPECT_EQ(0, cq[16 * 3 + 14] & 1);
	EXPECT_NE(NULL, strstr(describe(w), "cqfull="));
	EXPECT_EQ(NULL, strstr(describe(w), "cqfull=0 "));
	/* consume them one by one; the rest come as room appears, phase flipping at the wrap */
	while (got < 8 && reap_db(w, q, &c, 5 * MS, true)) {
		uint16_t cid = le16toh(c.cid) - 0x3000;

		EXPECT_EQ(0, cqe_status(&c));
		ASSERT_LT(cid, 8);
		EXPECT_FALSE(seen[cid]);
		seen[cid] = true;
		got++;
	}
	EXPECT_EQ(8, got);
	EXPECT_FALSE(RUN_UNTIL(w, cqe_ready(w, q), 500 * US));	/* nothing more */
	EXPECT_EQ(0, w->h.proto_err);
}

/* ---- reset, shutdown, host lost ---------------------------------------------------------- */

TEST_F(nvme, reset_and_shutdown)
{
	struct world *w = self->w;
	uint8_t *d = gmem(w, G_DATA);
	struct queue *q;

	bring_up(_metadata, w);
	fill(d, 4096, 11);
	ASSERT_EQ(0, rw(w, &w->ioq[1], NVME_CMD_WRITE, 8, 8, G_DATA, 0, NULL));
	/* CC.EN 1 -> 0: not ready, the queues are gone */
	wr32(w, REG(NVME_REG_CC), 0);
	EXPECT_TRUE(RUN_UNTIL(w, !(csts(w) & NVME_CSTS_RDY), 1 * MS));
	q = &w->ioq[1];
	{
		struct nvme_sqe s = { .opcode = NVME_CMD_READ, .nsid = 1, .prp1 = G_DATA };

		submit(w, q, &s);
	}
	run(w, 300 * US);
	EXPECT_FALSE(cqe_ready(w, q));
	/* 0 -> 1: the admin queue works, I/O queue 1 can be made again */
	ASSERT_TRUE(nvme_enable(w));
	EXPECT_EQ(0, identify(w, NVME_ID_CNS_CTRL, 0, G_DATA + PAGE));
	EXPECT_EQ(NVME_SC_QID_INVALID, delete_q(w, NVME_ADM_DELETE_SQ, 1));
	make_ioq(_metadata, w, 1, IOQ_SIZE, IOQ_SIZE);
	memset(d, 0, 4096);
	ASSERT_EQ(0, rw(w, &w->ioq[1], NVME_CMD_READ, 8, 8, G_DATA, 0, NULL));
	fill(d + 8192, 4096, 11);
	EXPECT_EQ(0, memcmp(d, d + 8192, 4096));
	/* a normal shutdown: complete; a new enable clears it */
	wr32(w, REG(NVME_REG_CC), rd32(w, REG(NVME_REG_CC)) | NVME_CC_SHN_NORMAL);
	EXPECT_TRUE(RUN_UNTIL(w, (csts(w) & NVME_CSTS_SHST_MASK) == NVME_CSTS_SHST_CMPLT, 1 * MS));
	EXPECT_TRUE(csts(w) & NVME_CSTS_RDY);
	ASSERT_TRUE(nvme_enable(w));
	EXPECT_EQ(NVME_CSTS_RDY, csts(w));
	EXPECT_EQ(0, identify(w, NVME_ID_CNS_CTRL, 0, G_DATA + PAGE));
}

TEST_F(nvme, host_lost_mid_io)
{
	struct world *w = self->w;
	uint8_t *d = gmem(w, G_DATA);

	bring_up(_metadata, w);
	/* a 64 KiB write whose data reads the host never answers */
	w->h.hold_data = true;
	{
		struct nvme_sqe s = { .opcode = NVME_CMD_WRITE, .nsid = 1, .prp1 = G_DATA,
				      .prp2 = G_LIST, .cdw12 = 127 };
		uint64_t e;
		unsigned int i;

		for (i = 0; i < 15; i++) {
			e = htole64(G_DATA + (i + 1) * PAGE);
			memcpy(gmem(w, G_LIST + 8 * i), &e, 8);
		}
		submit(w, &w->ioq[1], &s);
	}
	run(w, 100 * US);
	EXPECT_LT(1, w->h.mrd);
	/* the host leaves */
	softee_transport_leave(w->h.t, w->now);
	softee_transport_poll(w->h.t, w->now);
	softee_transport_destroy(w->h.t);
	w->h.t = NULL;
	run(w, 5 * MS);
	EXPECT_EQ(1, w->ep->stats.resets);
	EXPECT_NE(NULL, strstr(describe(w), "rdy=0"));
	/* a new host finds a device at power-on, and it works */
	w->h.hold_data = false;
	memset(w->h.msix, 0, sizeof(w->h.msix));
	host_start(_metadata, w);
	EXPECT_EQ(0, cfg_rd32(w, 0x10) & ~0xfu);
	bring_up(_metadata, w);
	fill(d, 8192, 12);
	ASSERT_EQ(0, rw(w, &w->ioq[2], NVME_CMD_WRITE, 0, 16, G_DATA, G_DATA + PAGE, NULL));
	file_check(_metadata, w, 0, d, 8192);
	EXPECT_TRUE(RUN_UNTIL(w, w->h.msix[2] > 0, 1 * MS));	/* behind the CQE */
}

/* ---- garbage ----------------------------------------------------------------------------- */

/* A pointer for a garbage command: mostly into the scratch area, sometimes anywhere. */
static uint64_t rnd_ptr(struct softee_prng *r)
{
	uint32_t k = softee_prng_below(r, 10);
	uint64_t off = softee_prng_below(r, SCRATCH_SIZE);

	if (k < 6)
		return G_SCRATCH + (off & ~(uint64_t)(PAGE - 1));
	if (k < 8)
		return G_SCRATCH + (off & ~3ULL);
	if (k < 9)
		return G_SCRATCH + off;
	return softee_prng_next(r) | 1ULL << 40;	/* outside the guest: UR */
}

static void rnd_sqe(struct softee_prng *r, struct nvme_sqe *s, bool admin)
{
	static const uint8_t io_ops[] = { 0x00, 0x01, 0x02, 0x08, 0x09, 0x04, 0x05 };
	static const uint8_t adm_ops[] = { 0x01, 0x02, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x18, 0x10,
					   0x80, 0x7c };
	uint32_t *dw = &s->cdw10;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	if (admin)
		s->opcode = softee_prng_below(r, 4) ? adm_ops[softee_prng_below(r, sizeof(adm_ops))] :
			    (uint8_t)softee_prng_next(r);
	else
		s->opcode = softee_prng_below(r, 4) ? io_ops[softee_prng_below(r, sizeof(io_ops))] :
			    (uint8_t)softee_prng_next(r);
	/* Delete queues and AERs (held forever by design) stay out of the admin garbage. */
	if (admin && (s->opcode == NVME_ADM_DELETE_SQ || s->opcode == NVME_ADM_DELETE_CQ ||
		      s->opcode == NVME_ADM_ASYNC_EVENT))
		s->opcode = NVME_ADM_IDENTIFY;
	s->flags = softee_prng_below(r, 10) ? 0 : (uint8_t)softee_prng_next(r);
	s->nsid = softee_prng_below(r, 4) ? 1 : (uint32_t)softee_prng_next(r);
	s->prp1 = rnd_ptr(r);
	s->prp2 = rnd_ptr(r);
	s->mptr = softee_prng_next(r);
	for (i = 0; i < 6; i++)
		dw[i] = (uint32_t)softee_prng_next(r);
	if (!admin && softee_prng_below(r, 3)) {
		/* mostly plausible LBAs and lengths, so that data moves */
		uint64_t slba = softee_prng_below(r, NS_BLOCKS + 8);

		s->cdw10 = (uint32_t)slba;
		s->cdw11 = 0;
		s->cdw12 = (s->cdw12 & 0xffff0000u) |
			   softee_prng_below(r, softee_prng_below(r, 4) ? 64 : 600);
	}
	if (admin && softee_prng_below(r, 2))
		s->cdw10 &= 0xff00ffffu;	/* small log pages, small queue sizes */
}

/*
 * Scratch qwords, what a PRP list there holds: mostly scratch pages (so
 * that data moves), some with an offset, some outside the guest.
 */
static void fill_scratch(struct world *w, struct softee_prng *r)
{
	uint64_t *p = (uint64_t *)gmem(w, G_SCRATCH);
	uint32_t i, k;

	for (i = 0; i < SCRATCH_SIZE / 8; i++) {
		k = softee_prng_below(r, 1000);
		p[i] = htole64(k < 990 ? G_SCRATCH + (softee_prng_below(r, SCRATCH_SIZE) & ~(PAGE - 1)) :
			       k < 995 ? rnd_ptr(r) : softee_prng_next(r) | 1ULL << 40);
	}
}

TEST_F(nvme, garbage_sqes)
{
	struct world *w = self->w;
	struct softee_prng r;
	unsigned int round, total = 0, completed = 0, qi;
	struct nvme_cqe c;
	uint8_t *d = gmem(w, G_DATA);
	uint64_t seed = getenv("NVME_SEED") ? strtoull(getenv("NVME_SEED"), NULL, 0) : 0x5eed;

	TH_LOG("seed 0x%llx (NVME_SEED to change)", (unsigned long long)seed);
	softee_prng_seed(&r, seed);
	bring_up(_metadata, w);
	fill_scratch(w, &r);
	for (round = 0; round < 120; round++) {
		struct queue *qs[3] = { &w->aq, &w->ioq[1], &w->ioq[2] };

		for (qi = 0; qi < 3; qi++) {
			struct queue *q = qs[qi];
			unsigned int n = 1 + softee_prng_below(&r, 12), i, got = 0;
			uint16_t first = q->next_cid;

			for (i = 0; i < n; i++) {
				struct nvme_sqe s;

				rnd_sqe(&r, &s, qi == 0);
				submit(w, q, &s);
			}
			total += n;
			/* every command completes, once, with its own CID */
			while (got < n && reap(w, q, &c)) {
				uint16_t cid = le16toh(c.cid);

				EXPECT_LT((uint16_t)(cid - first), n);
				EXPECT_EQ(q->qid, le16toh(c.sqid));
				got++;
			}
			ASSERT_EQ(n, got) {
				TH_LOG("round %u queue %u: %u of %u completed; %s", round, q->qid, got,
				       n, describe(w));
			}
			completed += got;
		}
	}
	EXPECT_EQ(total, completed);
	TH_LOG("%u garbage commands: %s", total, describe(w));
	EXPECT_EQ(NVME_CSTS_RDY, csts(w));
	/* the controller still does real work */
	fill(d, 4096, 13);
	ASSERT_EQ(0, rw(w, &w->ioq[1], NVME_CMD_WRITE, 77, 8, G_DATA, 0, NULL));
	file_check(_metadata, w, 77 * LBA, d, 4096);
	EXPECT_EQ(0, identify(w, NVME_ID_CNS_CTRL, 0, G_DATA));
	EXPECT_EQ(0, w->h.proto_err);
}

/* ---- the spec string --------------------------------------------------------------------- */

TEST(spec_strings)
{
	static const struct {
		const char *spec, *msg;
	} bad[] = {
		{ "nvme", "file=PATH is required" },
		{ "nvme,size=1M", "file=PATH is required" },
		{ "nvme,file=", "needs a path" },
		{ "nvme,file=/nonexistent/dir/x,size=1M,create", "No such file" },
		{ "nvme,file=/tmp/box_nvme_spec_nope", "add 'create'" },
		{ "nvme,file=@,lbasize=1024", "bad lbasize" },
		{ "nvme,file=@,queues=0", "bad queues" },
		{ "nvme,file=@,queues=65", "bad queues" },
		{ "nvme,file=@,size=abc", "bad size" },
		{ "nvme,file=@,size=0", "bad size" },
		{ "nvme,file=@,size=99999999999T", "bad size" },
		{ "nvme,file=@,colour=blue", "unknown key 'colour'" },
		{ "nvme,file=@,creat", "not key=value" },
		{ "nvme,file=@,create", "empty" },
		{ "nvme,file=@,size=1000,create", "not a multiple" },
		{ "nvme,file=@,size=1M", "add 'create' to extend" },
		{ "nvme,file=/dev/null,size=1M", "not a regular file" },
		{ "test,file=x", "unknown key 'file'" },
		{ "nvmf", "unknown model 'nvmf' (models: test, nvme)" },
	};
	char path[64], spec[160], err[256], *at;
	struct softee_endpoint *ep;
	unsigned int i;
	int fd;

	snprintf(path, sizeof(path), "/tmp/box_nvme_spec.XXXXXX");
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	close(fd);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		at = strchr(bad[i].spec, '@');
		if (at)
			snprintf(spec, sizeof(spec), "%.*s%s%s", (int)(at - bad[i].spec), bad[i].spec,
				 path, at + 1);
		else
			snprintf(spec, sizeof(spec), "%s", bad[i].spec);
		err[0] = '\0';
		EXPECT_GT(0, softee_endpoint_create(spec, &ep, err, sizeof(err)));
		EXPECT_EQ(NULL, ep);
		EXPECT_NE(NULL, strstr(err, bad[i].msg)) {
			TH_LOG("'%s': '%s', wanted '%s'", spec, err, bad[i].msg);
		}
	}
	/* good ones: sizes with suffixes, 4 KiB blocks, the file's own size */
	snprintf(spec, sizeof(spec), "nvme,file=%s,size=2M,lbasize=4096,queues=2,create,mps=512",
		 path);
	ASSERT_EQ(0, softee_endpoint_create(spec, &ep, err, sizeof(err))) {
		TH_LOG("%s", err);
	}
	ep->ops->describe(ep, err, sizeof(err));
	EXPECT_NE(NULL, strstr(err, "blocks=512*4096"));
	EXPECT_STREQ("nvme", ep->model);
	ep->ops->destroy(ep);
	snprintf(spec, sizeof(spec), "nvme,file=%s", path);
	ASSERT_EQ(0, softee_endpoint_create(spec, &ep, err, sizeof(err)));
	ep->ops->describe(ep, err, sizeof(err));
	EXPECT_NE(NULL, strstr(err, "blocks=4096*512"));
	ep->ops->destroy(ep);
	unlink(path);
}

TEST_HARNESS_MAIN
