// SPDX-License-Identifier: GPL-2.0
/*
 * softee end to end, in one process: a micro-VM guest (poller_e2e_guest.c)
 * uses the box's test endpoint through the poller.
 *
 *	guest --MMIO--> exit path (or softee.ko) --ring--> poller library
 *	      --TLPs--> transport --simulated segment (+ faults)--> softee-box
 *	library with the test endpoint; DMA and MSIs come back the same way.
 *
 * The guest reads the device's IDs through the BARs the poller assigned,
 * writes and reads registers and device memory, DMAs 1 MiB each way and
 * checks both CRCs, takes the MSI in an IDT handler; DMA aimed outside its
 * RAM is refused and the RAM hash does not change; the box lost in the
 * middle of a DMA makes every read end with all ones within the timeout,
 * and a box that comes back is configured again at the same addresses.
 *
 * Variants: the exit path on a clean link and with 5% loss + reordering;
 * softee.ko (runs in the test VM; skipped where /dev/softee is missing).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include <microvm/microvm.h>
#include <softee/barrier.h>
#include <softee/box.h>
#include <softee/endpoint.h>
#include <softee/fault.h>
#include <softee/poller.h>
#include <softee/sim.h>
#include <softee/testdev.h>
#include <softee/tlp.h>

#include <softee/e2e.h>
#include <softee/e2e_host.h>

#define PE_GROUP	7
#define PE_RAM		(64ULL << 20)
#define PE_DMA_LEN	(1u << 20)
#define PE_MMIO_BASE	0xc0000000ULL
#define PE_MMIO_LEN	0x10000000ULL
#define PE_HB_NS	20000000ULL	/* 20 ms heartbeats ... */
#define PE_HB_MISS	10		/* ... a lost box is seen in 200 ms (2 busy cores) */
#define MS		1000000ULL

/* ---- a link two threads may share: the simulated segment under one lock ---- */

struct lockdev {
	struct softee_netdev nd;
	struct softee_netdev *inner;
	pthread_mutex_t *mu;
};

static int ld_tx(struct softee_netdev *nd, const struct softee_txframe *f, unsigned int n)
{
	struct lockdev *l = nd->priv;
	int r;

	pthread_mutex_lock(l->mu);
	r = softee_netdev_tx(l->inner, f, n);
	pthread_mutex_unlock(l->mu);
	return r;
}

static int ld_rx(struct softee_netdev *nd, unsigned int max, uint32_t timeout_us,
		 softee_rx_fn fn, void *opaque)
{
	struct lockdev *l = nd->priv;
	int r;

	(void)timeout_us;
	pthread_mutex_lock(l->mu);
	r = softee_netdev_rx(l->inner, max, 0, fn, opaque);
	pthread_mutex_unlock(l->mu);
	return r;
}

static void ld_close(struct softee_netdev *nd)
{
	free(nd->priv);
}

static const struct softee_netdev_ops ld_ops = {
	.name = "locked", .tx_burst = ld_tx, .rx_burst = ld_rx, .close = ld_close,
};

static struct softee_netdev *lockdev(struct softee_netdev *inner, pthread_mutex_t *mu)
{
	struct lockdev *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->inner = inner;
	l->mu = mu;
	l->nd.ops = &ld_ops;
	l->nd.priv = l;
	l->nd.mtu = inner->mtu;
	l->nd.blocking_rx = inner->blocking_rx;
	memcpy(l->nd.mac, inner->mac, SOFTEE_ETH_ALEN);
	return &l->nd;
}

/* ---- the box, in its own thread ------------------------------------------------- */

struct pe_box {
	struct softee_box *box;
	struct softee_netdev *nd;
	pthread_t th;
	int stop;
	bool running;
};

static void *pe_box_main(void *arg)
{
	struct pe_box *bx = arg;
	struct softee_wait wc = SOFTEE_WAIT_INIT(SOFTEE_WAIT_SLEEP);
	struct softee_waiter w;
	bool idle = false;

	wc.sleep_max_ns = 100000;
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	while (!softee_load_acquire(&bx->stop)) {
		int r = softee_box_poll(bx->box, softee_now_ns());

		if (r > 0 || softee_box_busy(bx->box)) {
			idle = false;
			continue;
		}
		if (!idle) {
			softee_waiter_start(&w, &wc, SOFTEE_WAIT_FOREVER);
			idle = true;
		}
		softee_waiter_step(&w);
	}
	return NULL;
}

static int pe_box_start(struct pe_box *bx)
{
	struct softee_box_cfg bc = {
		.xport = { .nd = bx->nd, .group = PE_GROUP, .hb_period_ns = PE_HB_NS,
			   .hb_miss = PE_HB_MISS, .name = "e2e-box",
			   .rate = { .no_pacing = true } },
		.log_level = getenv("PE_VERBOSE") ? SOFTEE_LOG_INFO : SOFTEE_LOG_ERR,
	};
	struct softee_endpoint *ep;
	int ret;

	ret = softee_box_create(&bx->box, &bc, softee_now_ns());
	if (ret)
		return ret;
	ret = softee_testdev_create(&ep, NULL, 0);
	if (!ret)
		ret = softee_box_add_endpoint(bx->box, ep);
	if (ret < 0)
		return ret;
	bx->stop = 0;
	ret = pthread_create(&bx->th, NULL, pe_box_main, bx);
	if (ret)
		return -ret;
	bx->running = true;
	return 0;
}

/* The box stops answering, as if killed: no goodbye, its heartbeats stop. */
static void pe_box_kill(struct pe_box *bx)
{
	if (!bx->running)
		return;
	softee_store_release(&bx->stop, 1);
	pthread_join(bx->th, NULL);
	bx->running = false;
}

static void pe_box_destroy(struct pe_box *bx)
{
	pe_box_kill(bx);
	softee_box_destroy(bx->box);
	bx->box = NULL;
}

/*
 * TLPs the decoder refuses, one of each reason a frame can carry (a frame
 * holds only TLPs whose size DW0 gives: not SHORT or LENGTH).
 */
static const struct {
	enum softee_tlp_err why;
	uint32_t len;
	uint8_t b[20];
} pe_bad_tlps[] = {
	/* MWr, 1 DW, with a Last DW BE */
	{ SOFTEE_TLP_ERR_BE_1DW, 16, { 0x40, 0, 0, 1, 0x01, 0, 0, 0xff, 0xc0, 0, 0, 0 } },
	/* MWr, 2 DW, First DW BE 0 */
	{ SOFTEE_TLP_ERR_BE_ZERO, 20, { 0x40, 0, 0, 2, 0x01, 0, 0, 0xf0, 0xc0, 0, 0, 0 } },
	/* MWr, 2 DW at an address not QW aligned, First DW BE 0101 */
	{ SOFTEE_TLP_ERR_BE_NONCONTIG, 20, { 0x40, 0, 0, 2, 0x01, 0, 0, 0xf5, 0xc0, 0, 0, 4 } },
	/* MWr with the reserved LN bit */
	{ SOFTEE_TLP_ERR_RESERVED, 16, { 0x40, 0x02, 0, 1, 0x01, 0, 0, 0x0f, 0xc0, 0, 0, 0 } },
	/* MWr with AT 01 (translated) */
	{ SOFTEE_TLP_ERR_UNSUPPORTED, 16, { 0x40, 0, 0x04, 1, 0x01, 0, 0, 0x0f, 0xc0, 0, 0, 0 } },
	/* MWr, 2 DW at 0xffc: across a 4 KiB boundary */
	{ SOFTEE_TLP_ERR_4K, 20, { 0x40, 0, 0, 2, 0x01, 0, 0, 0xff, 0xc0, 0, 0x0f, 0xfc } },
	/* Cpl with the reserved status 011, byte count 4 */
	{ SOFTEE_TLP_ERR_STATUS, 12, { 0x0a, 0, 0, 0, 0x01, 0, 0x60, 0x04, 0, 0, 0, 0 } },
	/* CfgRd0 with TC 1 (config requests are TC 0) */
	{ SOFTEE_TLP_ERR_FIXED, 12, { 0x04, 0x10, 0, 1, 0x01, 0, 0, 0x0f, 0x01, 0, 0, 0 } },
	/* a message (Fmt 001, Type 10000) */
	{ SOFTEE_TLP_ERR_FMT_TYPE, 16, { 0x30, 0, 0, 0 } },
};

/*
 * The box sends the host each of pe_bad_tlps; the poller counts each
 * under its reason.  The box's thread is stopped for it and this one
 * drives the box; then the thread goes on.
 */
static void pe_bad_tlps_from_box(struct __test_metadata *_metadata, struct pe_box *bx,
				 struct softee_poller *p)
{
	const unsigned int n = sizeof(pe_bad_tlps) / sizeof(pe_bad_tlps[0]);
	struct softee_poller_stats before, now;
	struct softee_transport *t;
	struct softee_peer *host = NULL;
	struct softee_tlp dec;
	unsigned int i, left;
	uint64_t dl;
	int k;

	for (i = 0; i < n; i++)
		ASSERT_EQ(-(int)pe_bad_tlps[i].why,
			  softee_tlp_decode(&dec, pe_bad_tlps[i].b, pe_bad_tlps[i].len, NULL)) {
			TH_LOG("bad TLP %u is not refused for %s", i,
			       softee_tlp_err_name(pe_bad_tlps[i].why));
		}
	pe_box_kill(bx);
	t = softee_box_transport(bx->box);
	for (k = 0; k < SOFTEE_LIVENESS_MAX_PEERS && !host; k++) {
		struct softee_peer *pe = softee_transport_peer(t, k);

		if (pe && pe->session)
			host = pe;
	}
	ASSERT_NE(NULL, host);
	softee_poller_get_stats(p, &before);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, softee_transport_send_tlp(host, pe_bad_tlps[i].b, pe_bad_tlps[i].len));
	dl = softee_now_ns() + 5000000000ULL;
	do {
		softee_box_poll(bx->box, softee_now_ns());
		usleep(100);
		softee_poller_get_stats(p, &now);
		for (i = 0, left = 0; i < n; i++)
			left += now.rx_tlp_err[pe_bad_tlps[i].why] == before.rx_tlp_err[pe_bad_tlps[i].why];
	} while (left && softee_now_ns() < dl);
	for (i = 0; i < n; i++)
		EXPECT_EQ(1, now.rx_tlp_err[pe_bad_tlps[i].why] - before.rx_tlp_err[pe_bad_tlps[i].why]) {
			TH_LOG("refused for %s", softee_tlp_err_name(pe_bad_tlps[i].why));
		}
	EXPECT_EQ(n, now.rx_bad_tlps - before.rx_bad_tlps);
	/* the box's thread again: its heartbeats keep the session up */
	bx->stop = 0;
	ASSERT_EQ(0, pthread_create(&bx->th, NULL, pe_box_main, bx));
	bx->running = true;
}

/* ---- the exit path's glue: the VMM's side ---------------------------------------- */

FIXTURE(e2e) {
	struct softee_netdev *port[2], *fault[2], *ld[2];
	pthread_mutex_t mu;
	struct pe_box bx;
	struct microvm *vm;
	struct microvm_vcpu *v;
	struct softee_poller *p;
	struct softee_poller_exit *x;
	struct softee_poller_dev_info info;
	struct pe_params *prm;
	uint64_t prm_gpa;
	uint64_t t0;
	FILE *log;			/* the poller's log lines: printed if the test fails */
	char ctl[64];			/* its control socket */
};

FIXTURE_VARIANT(e2e) {
	const char *name;
	bool kmod;
	uint32_t drop_ppm, reorder_ppm;
	uint32_t timeout_us;		/* read completion timeout (50 ms) */
	uint32_t dma_len;		/* bytes each way (1 MiB) */
};

FIXTURE_VARIANT_ADD(e2e, exit) {
	.name = "exit",
	.kmod = false,
};

FIXTURE_VARIANT_ADD(e2e, exit_loss5_reorder) {
	.name = "exit_loss5_reorder",
	.kmod = false,
	.drop_ppm = 50000,
	.reorder_ppm = 20000,
	/*
	 * Go-Back-N under 5% loss: a register read queued behind 1 MiB of
	 * DMA completions can take longer than 50 ms.
	 */
	.timeout_us = 1000000,
};

FIXTURE_VARIANT_ADD(e2e, kmod) {
	.name = "kmod",
	.kmod = true,
	.timeout_us = 1000000,		/* the test VM runs under TCG: everything is slow */
	.dma_len = 256 * 1024,
};

FIXTURE_SETUP(e2e)
{
	uint32_t tmo_us = variant->timeout_us ? variant->timeout_us : 50000;
	struct microvm_config vc = { .nr_vcpus = 1, .flags = MICROVM_F_IRQCHIP, .ram_bytes = PE_RAM };
	struct softee_poller_cfg pc = {
		.group = PE_GROUP, .name = "e2e-host", .hb_period_ns = PE_HB_NS, .hb_miss = PE_HB_MISS,
		.mmio_base = PE_MMIO_BASE, .mmio_len = PE_MMIO_LEN,
		/*
		 * The simulated segment has no bottleneck to pace for, and on a
		 * busy 2-core machine thread wake-ups look like queueing delay
		 * to the delay-based rate control, which still cuts a sender
		 * its window holds back (Documentation/wire.rst): measure, do
		 * not hold frames back.
		 */
		.rate = { .no_pacing = true },
		.cpl_timeout_ns = (uint64_t)tmo_us * 1000,
	};
	struct softee_sim_cfg sc = { .ports = 2, .queue_frames = 4096 };
	int i, ret;

	memset(self, 0, sizeof(*self));
	self->t0 = softee_now_ns();
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	if (variant->kmod && access(SOFTEE_DEVICE, R_OK | W_OK))
		SKIP(return, "no %s: the module variant runs in the test VM", SOFTEE_DEVICE);

	self->log = getenv("PE_VERBOSE") ? stderr : tmpfile();
	pc.log = self->log;
	snprintf(self->ctl, sizeof(self->ctl), "/tmp/softee-pe-%d.sock", (int)getpid());
	pc.ctl_path = self->ctl;
	pthread_mutex_init(&self->mu, NULL);
	ASSERT_EQ(0, softee_sim_create(self->port, &sc));
	for (i = 0; i < 2; i++) {
		struct softee_netdev *nd = self->port[i];

		if (variant->drop_ppm || variant->reorder_ppm) {
			struct softee_fault_cfg fc = {
				.seed = 42 + i, .drop_ppm = variant->drop_ppm,
				.reorder_ppm = variant->reorder_ppm, .reorder_hold_ns = 200000,
			};

			ASSERT_EQ(0, softee_fault_create(&self->fault[i], nd, &fc));
			nd = self->fault[i];
		}
		self->ld[i] = lockdev(nd, &self->mu);
		ASSERT_NE(NULL, self->ld[i]);
	}
	self->bx.nd = self->ld[1];
	ASSERT_EQ(0, pe_box_start(&self->bx));

	self->vm = microvm_create(&vc);
	ASSERT_NE(NULL, self->vm);
	self->v = microvm_vcpu(self->vm, 0);
	pc.nd = self->ld[0];
	pc.vm_fd = microvm_vm_fd(self->vm);
	ASSERT_EQ(0, softee_poller_create(&self->p, &pc));
	ASSERT_EQ(0, softee_poller_add_ram(self->p, 0, PE_RAM,
					   microvm_gpa2hva(self->vm, 0, PE_RAM)));
	if (variant->kmod) {
		ret = softee_poller_attach_kmod(self->p, microvm_vm_fd(self->vm), 1, 0, tmo_us);
		ASSERT_EQ(0, ret);
	} else {
		ASSERT_EQ(0, softee_poller_attach_exit(self->p, 1, 0, tmo_us, &self->x));
		ASSERT_EQ(0, microvm_add_exit_handler(self->vm, MICROVM_BUS_MMIO, PE_MMIO_BASE,
						      PE_MMIO_LEN, pe_exit_access, self->x));
	}
	ASSERT_EQ(0, softee_poller_start(self->p));
	ASSERT_EQ(0, softee_poller_wait_ready(self->p, 1, 10000 * MS));
	ASSERT_EQ(0, softee_poller_dev_info(self->p, 0, &self->info));
	TH_LOG("device %04x:%04x ready after %.1f ms: BAR0 0x%llx+0x%llx BAR2 0x%llx+0x%llx, MSI 0x%llx/0x%x",
	       self->info.vendor, self->info.device, (softee_now_ns() - self->t0) / 1e6,
	       (unsigned long long)self->info.bar[0].addr, (unsigned long long)self->info.bar[0].size,
	       (unsigned long long)self->info.bar[2].addr, (unsigned long long)self->info.bar[2].size,
	       (unsigned long long)self->info.msi_addr, self->info.msi_data[0]);

	/* The guest's parameters and DMA buffers, in its RAM. */
	ASSERT_EQ(0, pe_params_setup(self->vm, &self->info, PE_RAM,
				     variant->dma_len ? variant->dma_len : PE_DMA_LEN,
				     &self->prm_gpa, &self->prm));
}

FIXTURE_TEARDOWN(e2e)
{
	char line[512];
	int i;

	if (self->p)
		softee_poller_destroy(self->p);
	if (self->vm)
		microvm_destroy(self->vm);
	if (self->bx.box)
		pe_box_destroy(&self->bx);
	if (self->log && self->log != stderr) {
		if (!_metadata->passed) {
			rewind(self->log);
			while (fgets(line, sizeof(line), self->log))
				fprintf(stderr, "# poller: %s", line);
		}
		fclose(self->log);
	}
	for (i = 0; i < 2; i++) {
		if (self->ld[i])
			softee_netdev_close(self->ld[i]);
		if (self->fault[i])
			softee_netdev_close(self->fault[i]);
		if (self->port[i])
			softee_netdev_close(self->port[i]);
	}
}

/* Run the guest until its next ucall; print anything that is not a SYNC or DONE. */
static int pe_run(struct __test_metadata *_metadata, FIXTURE_DATA(e2e) *self,
		  struct microvm_ucall *uc)
{
	int r = pe_run_guest(self->v, uc, stderr);

	if (r != MICROVM_UCALL_SYNC && r != MICROVM_UCALL_DONE)
		TH_LOG("the guest stopped: %d", r);
	return r;
}

static void pe_counters(struct __test_metadata *_metadata, FIXTURE_DATA(e2e) *self)
{
	struct softee_poller_dev_info in;
	const struct softee_poller_counters *c = &in.c;

	ASSERT_EQ(0, softee_poller_dev_info(self->p, 0, &in));
	TH_LOG("mmio reads %llu writes %llu (MWr %llu, merged %llu), read latency mean %.1f us max %.1f us",
	       (unsigned long long)c->mmio_reads, (unsigned long long)c->mmio_writes,
	       (unsigned long long)c->mwr_tlps, (unsigned long long)c->mwr_merged,
	       c->cpl_ok ? c->read_lat_ns_sum / 1e3 / c->cpl_ok : 0.0, c->read_lat_ns_max / 1e3);
	TH_LOG("dma reads %llu (%llu bytes) writes %llu (%llu bytes) rejected %llu, msi %llu, timeouts %llu, fail_fast %llu, retransmissions %llu",
	       (unsigned long long)c->dma_reads, (unsigned long long)c->dma_read_bytes,
	       (unsigned long long)c->dma_writes, (unsigned long long)c->dma_write_bytes,
	       (unsigned long long)c->dma_rejected, (unsigned long long)c->msi,
	       (unsigned long long)c->cpl_timeouts, (unsigned long long)c->fail_fast,
	       (unsigned long long)in.s.retrans);
}

/* ---- the control socket from outside -------------------------------------------- */

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Ask LINE; the answer (up to its empty line) in out, or NULL after 2 s. */
static char *ctl_ask(const char *path, const char *line, char *out, size_t len)
{
	uint64_t until = softee_now_ns() + 2000000000ULL;
	int fd = ctl_connect(path);
	size_t got = 0;
	ssize_t r;

	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (got + 1 < len && softee_now_ns() < until) {
		if (poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 100) <= 0)
			continue;
		r = read(fd, out + got, len - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		out[got] = 0;
		if (strstr(out, "\n\n"))
			break;
	}
	close(fd);
	out[got] = 0;
	return strstr(out, "\n\n") ? out : NULL;
}

/* Many requests, none of their answers read: then close, or hold it open. */
static int ctl_flood(const char *path)
{
	int fd = ctl_connect(path), i;

	for (i = 0; fd >= 0 && i < 64; i++)
		if (write(fd, "counters\n", 9) != 9)
			break;
	return fd;
}

TEST_F_TIMEOUT(e2e, registers_dma_msi_and_bad_dma, 120)
{
	struct softee_poller_dev_info in;
	struct microvm_ucall uc;
	uint64_t h0 = 0, h1, hlen;
	const uint8_t *hstart;
	char *answer;
	int r;

	if (!self->p)
		return;				/* skipped in setup */
	self->prm->prog = PE_PROG_BASIC;
	ASSERT_EQ(0, microvm_vcpu_set_entry(self->v, pe_guest_main, 1, self->prm_gpa));
	/* What the DMA outside RAM must not change: the buffers and all RAM above them. */
	hstart = microvm_gpa2hva(self->vm, self->prm->buf_a, PE_RAM - self->prm->buf_a);
	hlen = PE_RAM - self->prm->buf_a;
	ASSERT_NE(NULL, hstart);
	for (;;) {
		r = pe_run(_metadata, self, &uc);
		if (r != MICROVM_UCALL_SYNC)
			break;
		if (uc.args[0] == PE_S_BAD_BEFORE) {
			h0 = pe_ram_hash(hstart, hlen);
		} else if (uc.args[0] == PE_S_BAD_AFTER) {
			h1 = pe_ram_hash(hstart, hlen);
			EXPECT_EQ(h0, h1);
		}
	}
	ASSERT_EQ(MICROVM_UCALL_DONE, r);
	EXPECT_EQ(self->prm->crc_to_dev, self->prm->crc_to_host);
	EXPECT_EQ(0, memcmp(microvm_gpa2hva(self->vm, self->prm->buf_a, self->prm->len),
			    microvm_gpa2hva(self->vm, self->prm->buf_b, self->prm->len), self->prm->len));
	EXPECT_LE(2, self->prm->irqs);
	pe_counters(_metadata, self);
	ASSERT_EQ(0, softee_poller_dev_info(self->p, 0, &in));
	EXPECT_EQ(SOFTEE_PDEV_READY, in.state);
	EXPECT_LE(2 * self->prm->len, in.c.dma_read_bytes + in.c.dma_write_bytes);
	EXPECT_LE(4, in.c.dma_rejected);
	EXPECT_LE(2, in.c.msi);
	EXPECT_EQ(0, in.c.msi_errors);
	EXPECT_EQ(0, in.c.cpl_errors);
	/* The control socket's view of it. */
	answer = malloc(65536);
	ASSERT_NE(NULL, answer);
	ASSERT_LT(0, softee_poller_ctl_command(self->p, "devices json", answer, 65536));
	EXPECT_NE(NULL, strstr(answer, "\"vendor\":20727,\"device\":32343"));
	EXPECT_NE(NULL, strstr(answer, "\"state\":\"ready\""));
	ASSERT_LT(0, softee_poller_ctl_command(self->p, "counters", answer, 65536));
	EXPECT_NE(NULL, strstr(answer, "session: up"));
	/* the rate control's settings, as the session runs with them */
	ASSERT_LT(0, softee_poller_ctl_command(self->p, "counters json", answer, 65536));
	EXPECT_NE(NULL, strstr(answer, "\"md_num\":1,\"md_den\":2,\"target_delay_ns\":500000,"
				       "\"interval_ns\":100000,\"bucket_bytes\":65536,")) {
		TH_LOG("%s", answer);
	}
	EXPECT_NE(NULL, strstr(answer, "\"samples\":"));
	/* TLPs from the box the decoder refuses, counted by reason */
	pe_bad_tlps_from_box(_metadata, &self->bx, self->p);
	ASSERT_LT(0, softee_poller_ctl_command(self->p, "counters json", answer, 65536));
	EXPECT_NE(NULL, strstr(answer, "\"rx_tlp_errors\":{\"short\":0,\"fmt_type\":1,")) {
		TH_LOG("%s", answer);
	}
	EXPECT_EQ(-EINVAL, softee_poller_ctl_command(self->p, "frobnicate", answer, 65536));
	/*
	 * Clients that go away before they read (no SIGPIPE may end the
	 * process: this one's) or stop reading (no answer may hold the
	 * socket's thread for long): others are still answered.
	 */
	for (r = 0; r < 4; r++) {
		int fd = ctl_flood(self->ctl);

		ASSERT_LE(0, fd);
		close(fd);
	}
	{
		int stuck = ctl_flood(self->ctl);
		uint64_t t = softee_now_ns();

		ASSERT_LE(0, stuck);
		usleep(100000);
		EXPECT_NE(NULL, ctl_ask(self->ctl, "status\n", answer, 65536));
		EXPECT_GT(1000000000ULL, softee_now_ns() - t);
		close(stuck);
	}
	EXPECT_NE(NULL, ctl_ask(self->ctl, "counters\n", answer, 65536));
	EXPECT_NE(NULL, strstr(answer, "session: up"));
	free(answer);
}

TEST_F_TIMEOUT(e2e, box_lost_mid_dma_then_back, 120)
{
	struct softee_poller_dev_info in;
	struct microvm_ucall uc;
	uint64_t t_kill = 0, t_lost = 0, end;
	int r;

	if (!self->p)
		return;				/* skipped in setup */
	self->prm->prog = PE_PROG_LOST;
	ASSERT_EQ(0, microvm_vcpu_set_entry(self->v, pe_guest_main, 1, self->prm_gpa));
	for (;;) {
		r = pe_run(_metadata, self, &uc);
		if (r != MICROVM_UCALL_SYNC)
			break;
		if (uc.args[0] == PE_S_DMA_RUNNING) {
			pe_box_kill(&self->bx);
			t_kill = softee_now_ns();
		} else if (uc.args[0] == PE_S_LOST) {
			t_lost = softee_now_ns();
			EXPECT_EQ(200, uc.args[1]);
			/* All ones within the timeout, then at once: no vCPU waits long. */
			EXPECT_GT(1000 * MS + 4ULL * (variant->timeout_us ? variant->timeout_us : 50000) * 1000,
				  t_lost - t_kill);
			/* The device is marked down once heartbeats stop. */
			end = softee_now_ns() + 2000 * MS;
			do {
				ASSERT_EQ(0, softee_poller_dev_info(self->p, 0, &in));
				if (in.state == SOFTEE_PDEV_DOWN)
					break;
				usleep(5000);
			} while (softee_now_ns() < end);
			EXPECT_EQ(SOFTEE_PDEV_DOWN, in.state);
			EXPECT_LT(0, in.c.fail_fast + in.c.cpl_timeouts);
			/* A box comes back (a new one, on the same port): configured again. */
			pe_box_destroy(&self->bx);
			ASSERT_EQ(0, pe_box_start(&self->bx));
			ASSERT_EQ(0, softee_poller_wait_ready(self->p, 1, 5000 * MS));
			ASSERT_EQ(0, softee_poller_dev_info(self->p, 0, &in));
			EXPECT_EQ(self->info.bar[0].addr, in.bar[0].addr);
			EXPECT_EQ(self->info.bar[2].addr, in.bar[2].addr);
			EXPECT_EQ(2, in.c.configured);
			EXPECT_EQ(1, in.c.downs);
		}
	}
	ASSERT_EQ(MICROVM_UCALL_DONE, r);
	TH_LOG("the box lost: all ones after %.1f ms", (t_lost - t_kill) / 1e6);
	pe_counters(_metadata, self);
	/*
	 * This guest wrote only BAR0, registers (not prefetchable): each write
	 * is an MWr of its own, adjacent or not (PCIe combines only
	 * prefetchable memory).
	 */
	ASSERT_EQ(0, softee_poller_dev_info(self->p, 0, &in));
	EXPECT_EQ(0, in.c.mwr_merged);
	EXPECT_LE(6, in.c.mwr_tlps);
}

/*
 * `poller_e2e_test --variant NAME` runs that variant only: the test VM runs
 * "kmod" (tests.list).  The others are taken off the fixture's list rather
 * than skipped, so that a skip still means a requirement is missing.
 */
static int pe_only(const char *name)
{
	struct __fixture_variant_metadata *v;

	for (v = _e2e_fixture_object.variant; v; v = v->next) {
		if (!strcmp(v->name, name)) {
			_e2e_fixture_object.variant = v;
			v->next = NULL;
			v->prev = v;
			return 0;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--variant")) {
		if (pe_only(argv[2])) {
			fprintf(stderr, "%s: --variant: no variant '%s' (exit, exit_loss5_reorder or kmod)\n",
				argv[0], argv[2]);
			return 2;
		}
	} else if (argc > 1) {
		fprintf(stderr, "usage: %s [--variant exit|exit_loss5_reorder|kmod]\n", argv[0]);
		return 2;
	}
	return test_harness_run(argc, argv);
}
