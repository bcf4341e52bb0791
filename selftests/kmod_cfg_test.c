// SPDX-License-Identifier: GPL-2.0
/*
 * Config space traps of softee.ko (SOFTEE_CFG_ADD/DEL) with a guest
 * running: a micro-VM whose guest (kmod_cfg_guest.c) makes type 1
 * (0xcf8/0xcfc) and ECAM config accesses, a consumer thread on the rings,
 * and the micro-VM's exit handlers standing in for the VMM.
 *
 *  cfg.*      type 1 accesses of 1, 2 and 4 bytes at 0xcfc..0xcff to a
 *             trapped BDF reach the ring (bus CFG, BDF and register in
 *             addr), reads get the completion; every 0xcf8 write still
 *             exits to the VMM; other BDFs, the enable bit clear and
 *             narrow 0xcf8 writes go to the VMM; the ECAM page of the
 *             trapped BDF reaches the ring and its neighbours exit;
 *             timeouts read all ones; two vCPUs under a guest lock.
 *  cfg_ioctl.* the arguments of SOFTEE_CFG_ADD/DEL and their errnos.
 *  cfg_life.* a trap removed, the session closed, the VM closed and the
 *             VMM killed, while a config read waits.
 *
 * Needs softee.ko and /dev/kvm (runs in the test VM).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_sizes.h"
#include "kmod_util.h"
#include "kmod_cfg.h"

#define KC_BDF		SOFTEE_CFG_BDF(0, 0x10, 0)	/* 00:10.0, the remote device */
#define KC_BDF2		SOFTEE_CFG_BDF(0, 0x11, 0)
#define KC_ECAM		0xb0000000ULL		/* bus 0, as q35's MCFG */
#define KC_ECAM_PAGE(bdf) (KC_ECAM + ((uint64_t)(bdf) << 12))
#define KC_SCRIPT_CAP	1024
#define KC_LOG_CAP	512
#define KC_LONG_US	8000000		/* a timeout nobody should wait for */
#define KC_PROMPT_NS	2000000000ULL	/* "promptly", under TCG */
#define KC_EXIT_VALUE	0x5a5aa5a5c3c33c3cULL	/* what the "VMM" answers */

struct kc_script {
	struct kc_step *steps;		/* the guest's copy */
	uint64_t gpa;
	uint32_t n, cap;
	uint32_t vcpu;
	uint32_t seq;			/* the next ring entry of this vCPU */
	uint32_t nr_cf8;		/* 0xcf8 dword writes made */
};

/* KVM_EXIT_IO/MMIO seen by the micro-VM's exit handlers: the "VMM". */
struct kc_exit {
	uint8_t bus, is_write, len;
	uint64_t addr, data;
};

struct kc_exits {
	uint32_t n;			/* atomic: exits, all vCPUs */
	uint32_t cf8_writes;		/* atomic: dword writes to 0xcf8 */
	struct kc_exit a[KC_LOG_CAP];	/* the first ones */
};

struct kc_env {
	struct kt_vm m;			/* the micro-VM, the session, the threads */
	struct kc_script sc[KT_MAX_VCPUS];
	struct kc_exits exits;
	uint64_t lock_gpa;		/* the guest's config lock */
	bool hold;			/* vCPUs wait at each SYNC for a release */
};

static int kc_exit_fn(struct microvm_vcpu *v, struct microvm_access *a, void *opaque)
{
	struct kc_exits *x = opaque;
	uint32_t i = __atomic_fetch_add(&x->n, 1, __ATOMIC_RELAXED);
	uint64_t value = KC_EXIT_VALUE;
	struct kc_exit *e;

	(void)v;
	if (!a->is_write)
		memcpy(a->data, &value, a->len);
	if (a->is_write && a->bus == MICROVM_BUS_PIO && a->addr == KC_PORT_ADDR && a->len == 4)
		__atomic_fetch_add(&x->cf8_writes, 1, __ATOMIC_RELAXED);
	if (i >= KC_LOG_CAP)
		return 0;
	e = &x->a[i];
	e->bus = a->bus;
	e->is_write = a->is_write;
	e->len = a->len;
	e->addr = a->addr;
	e->data = 0;
	if (a->is_write)
		memcpy(&e->data, a->data, a->len);
	return 0;
}

/*
 * The micro-VM with nr_vcpus, a session (one ring per vCPU, timeout_us, 0
 * for the default), exit handlers for the config ports and bus 0's ECAM
 * window, a guest lock and an empty script per vCPU.  No trap yet.
 */
static int kc_env_open(struct kc_env *e, uint32_t nr_vcpus, uint32_t timeout_us)
{
	struct microvm_config cfg = { .nr_vcpus = nr_vcpus };
	struct kt_vm *m = &e->m;
	uint32_t i;
	int ret;

	m->nr_vcpus = nr_vcpus;
	m->nr_rings = nr_vcpus;
	m->bus = SOFTEE_BUS_CFG;
	m->vm = microvm_create(&cfg);
	if (!m->vm)
		return -ENODEV;
	ret = softee_session_open(&m->s, microvm_vm_fd(m->vm), nr_vcpus, 0, timeout_us, 0);
	if (ret)
		return ret;
	m->have_s = true;
	ret = microvm_add_exit_handler(m->vm, MICROVM_BUS_PIO, KC_PORT_ADDR, 8, kc_exit_fn,
				       &e->exits);
	if (!ret)
		ret = microvm_add_exit_handler(m->vm, MICROVM_BUS_MMIO, KC_ECAM, 1 << 20,
					       kc_exit_fn, &e->exits);
	if (ret)
		return ret;
	e->lock_gpa = microvm_alloc(m->vm, 64, 64);
	if (!e->lock_gpa)
		return -ENOMEM;
	for (i = 0; i < nr_vcpus; i++) {
		struct kc_script *sc = &e->sc[i];

		sc->gpa = microvm_alloc(m->vm, KC_SCRIPT_CAP * sizeof(struct kc_step), 64);
		sc->steps = microvm_gpa2hva(m->vm, sc->gpa, KC_SCRIPT_CAP * sizeof(struct kc_step));
		if (!sc->gpa || !sc->steps)
			return -ENOMEM;
		sc->cap = KC_SCRIPT_CAP;
		sc->vcpu = i;
	}
	return 0;
}

/* ---- scripts ---------------------------------------------------------------- */

static struct kc_step *kc_add(struct kc_script *sc, uint8_t kind, uint8_t len, uint64_t addr,
			      uint8_t check, uint64_t data)
{
	struct kc_step *s;

	if (sc->n >= sc->cap) {
		fprintf(stderr, "# script of vCPU %u is full\n", sc->vcpu);
		abort();
	}
	s = &sc->steps[sc->n++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->len = len;
	s->check = check;
	s->addr = addr;
	s->data = data;
	return s;
}

/* A type 1 write to bdf's reg (enable: bit 31 of CONFIG_ADDRESS). */
static void kc_conf1_write(struct kc_script *sc, uint32_t bdf, uint32_t reg, uint8_t len,
			   uint64_t data, int enable)
{
	struct kc_step *s = kc_add(sc, KC_CONF1_WRITE, len, KC_PORT_DATA + (reg & 3),
				   KC_CHECK_NONE, data);

	s->cf8 = kc_cf8(bdf, reg, enable);
	sc->nr_cf8++;
}

/* A type 1 read, checked against want. */
static void kc_conf1_read(struct kc_script *sc, uint32_t bdf, uint32_t reg, uint8_t len,
			  uint8_t check, uint64_t want, int enable)
{
	struct kc_step *s = kc_add(sc, KC_CONF1_READ, len, KC_PORT_DATA + (reg & 3), check, want);

	s->cf8 = kc_cf8(bdf, reg, enable);
	sc->nr_cf8++;
}

/* What the kt_consumer answers this vCPU's next entry, a read of bdf's reg. */
static uint64_t kc_ring_answer(struct kc_script *sc, uint32_t bdf, uint32_t reg)
{
	return kt_answer(sc->vcpu, SOFTEE_CFG_ADDR(bdf, reg), sc->seq);
}

/* A type 1 write / read to a trapped BDF: the vCPU's next ring entry. */
static void kc_ring_conf1_write(struct kc_script *sc, uint32_t bdf, uint32_t reg, uint8_t len,
				uint64_t data)
{
	kc_conf1_write(sc, bdf, reg, len, data, 1);
	sc->seq++;
}

static void kc_ring_conf1_read(struct kc_script *sc, uint32_t bdf, uint32_t reg, uint8_t len)
{
	kc_conf1_read(sc, bdf, reg, len, KC_CHECK_EQ, kc_ring_answer(sc, bdf, reg), 1);
	sc->seq++;
}

static void kc_ring_ecam_write(struct kc_script *sc, uint32_t bdf, uint32_t reg, uint8_t len,
			       uint64_t data)
{
	kc_add(sc, KC_MMIO_WRITE, len, KC_ECAM_PAGE(bdf) + reg, KC_CHECK_NONE, data);
	sc->seq++;
}

static void kc_ring_ecam_read(struct kc_script *sc, uint32_t bdf, uint32_t reg, uint8_t len)
{
	kc_add(sc, KC_MMIO_READ, len, KC_ECAM_PAGE(bdf) + reg, KC_CHECK_EQ,
	       kc_ring_answer(sc, bdf, reg));
	sc->seq++;
}

static void kc_sync(struct kc_script *sc, uint64_t stage)
{
	kc_add(sc, KC_SYNC, 0, 0, KC_CHECK_NONE, stage);
}

static int kc_start(struct kc_env *e, uint32_t vcpu, bool locked)
{
	struct kc_script *sc = &e->sc[vcpu];

	e->m.vc[vcpu].auto_resume = !e->hold;
	return kt_vcpu_start(&e->m.vc[vcpu], microvm_vcpu(e->m.vm, vcpu), kc_guest_script, 3,
			     sc->gpa, sc->n, locked ? e->lock_gpa : 0, 0);
}

/* Run vCPU 0's script to its end; true if the guest finished cleanly. */
static bool kc_run(struct kc_env *e, unsigned int timeout_ms)
{
	if (kc_start(e, 0, false))
		return false;
	if (!kt_vcpu_wait_done(&e->m.vc[0], timeout_ms))
		return false;
	return e->m.vc[0].result == MICROVM_UCALL_DONE;
}

static int kc_session_counters(struct kc_env *e, struct softee_counters *c)
{
	struct softee_stats st;
	int ret = softee_get_stats(e->m.s.fd, SOFTEE_STATS_SESSION, 0, &st);

	*c = st.c;
	return ret;
}

/*
 * Compare a logged ring entry with what the script made; the first few
 * differences are logged.  Returns 1 if it differs.
 */
static int kc_entry_check(const struct softee_ring_entry *x, uint32_t vcpu, uint32_t seq,
			  uint8_t op, uint8_t len, uint32_t id, uint32_t bdf, uint32_t reg,
			  uint64_t data, int *logged)
{
	const char *what = NULL;

	if (x->seq != seq)
		what = "seq";
	else if (x->op != op)
		what = "op";
	else if (x->bus != SOFTEE_BUS_CFG)
		what = "bus";
	else if (x->len != len)
		what = "len";
	else if (x->addr != SOFTEE_CFG_ADDR(bdf, reg))
		what = "addr";
	else if (SOFTEE_CFG_ADDR_BDF(x->addr) != bdf || SOFTEE_CFG_ADDR_REG(x->addr) != reg)
		what = "addr's BDF and register";
	else if (x->offset != reg)
		what = "offset";
	else if (x->region != id)
		what = "region (the trap's id)";
	else if (x->vcpu != vcpu)
		what = "vcpu";
	else if (x->data != data)
		what = "data";
	else if (op == SOFTEE_OP_WRITE && x->done != ~seq)
		what = "done (a write's is ~seq)";
	else if (x->__pad || x->__reserved || x->time_ns)
		what = "reserved fields or time_ns";
	if (!what)
		return 0;
	if ((*logged)++ < 4)
		fprintf(stderr, "# vCPU %u entry %u: %s differs: seq=%u op=%u bus=%u len=%u "
			"addr=0x%llx offset=0x%llx region=%u vcpu=%u data=0x%llx; expected op=%u "
			"len=%u bdf=0x%x reg=0x%x data=0x%llx\n",
			vcpu, seq, what, x->seq, x->op, x->bus, x->len,
			(unsigned long long)x->addr, (unsigned long long)x->offset, x->region,
			x->vcpu, (unsigned long long)x->data, op, len, bdf, reg,
			(unsigned long long)data);
	return 1;
}

/* What one step should have put in the ring, from the script. */
static int kc_step_check(const struct kc_script *sc, uint32_t i, const struct softee_ring_entry *x,
			 uint32_t seq, uint32_t id, int *logged)
{
	const struct kc_step *s = &sc->steps[i];
	bool rd = s->kind == KC_CONF1_READ || s->kind == KC_MMIO_READ;
	uint32_t bdf, reg;

	if (s->kind == KC_CONF1_READ || s->kind == KC_CONF1_WRITE) {
		bdf = (s->cf8 >> 8) & 0xffff;
		reg = (s->cf8 & 0xfc) | (s->addr & 3);
	} else {
		bdf = (s->addr - KC_ECAM) >> 12;
		reg = s->addr & 0xfff;
	}
	return kc_entry_check(x, sc->vcpu, seq, rd ? SOFTEE_OP_READ : SOFTEE_OP_WRITE, s->len, id,
			      bdf, reg, rd ? kt_answer(sc->vcpu, SOFTEE_CFG_ADDR(bdf, reg), seq) :
			      s->data & kt_mask(s->len), logged);
}

/* Every 1-, 2- and 4-byte access that fits a dword at offsets 0..3. */
static const struct {
	uint8_t off, len;
} kc_shapes[] = {
	{ 0, 1 }, { 1, 1 }, { 2, 1 }, { 3, 1 }, { 0, 2 }, { 1, 2 }, { 2, 2 }, { 0, 4 },
};
#define KC_NR_SHAPES (sizeof(kc_shapes) / sizeof(kc_shapes[0]))

#define KC_REQUIRE_MODULE() do {						\
		if (access(SOFTEE_DEVICE, F_OK))				\
			SKIP(return, "%s: %s (softee.ko not loaded)",		\
			     SOFTEE_DEVICE, strerror(errno));			\
		if (access("/dev/kvm", F_OK))					\
			SKIP(return, "/dev/kvm: %s", strerror(errno));		\
	} while (0)

/* The harness runs a test body after a SKIP in its setup: leave at once. */
#define KC_SKIPPED() (_metadata->skip)

/* ---- the trap path ---------------------------------------------------------- */

FIXTURE(cfg) {
	struct kc_env e;
};

FIXTURE_SETUP(cfg)
{
	KC_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(cfg)
{
	kt_vm_close(&self->e.m);
}

TEST_F(cfg, conf1_trapped)
{
	static const uint32_t regs[] = { 0x00, 0x04, 0x10, 0x3c, 0x40, 0xfc };
	struct kc_env *e = &self->e;
	struct kc_script *sc = &e->sc[0];
	struct softee_counters c;
	uint32_t id, i, r, n = 0, nw = 0, nr = 0;
	int bad = 0, logged = 0;
	char path[96], line[1024];
	bool saw_cfg = false;
	FILE *fp;

	if (KC_SKIPPED())
		return;
	ASSERT_EQ(0, kc_env_open(e, 1, 0));
	ASSERT_NE(0, e->m.s.attach.features & SOFTEE_FEAT_CFG);
	ASSERT_EQ(0, softee_cfg_add(e->m.s.fd, KC_BDF, 0, 0, 0, 0, &id));
	/* every shape, at registers across the header, written then read */
	for (r = 0; r < sizeof(regs) / sizeof(regs[0]); r++) {
		for (i = 0; i < KC_NR_SHAPES; i++) {
			uint32_t reg = regs[r] + kc_shapes[i].off;
			uint8_t len = kc_shapes[i].len;

			kc_ring_conf1_write(sc, KC_BDF, reg, len, kt_answer(42, reg, n) & kt_mask(len));
			kc_ring_conf1_read(sc, KC_BDF, reg, len);
			n += 2;
			nw++;
			nr++;
		}
	}
	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 1, true, 0, n));
	ASSERT_TRUE(kc_run(e, 30000));
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, n, 5000));
	kt_consumer_stop(&e->m.c);

	ASSERT_EQ(n, e->m.c.log_n[0]);
	EXPECT_EQ(0, e->m.c.ring_err);
	for (i = 0; i < n; i++)
		bad += kc_step_check(sc, i, &e->m.c.log[0][i], i, id, &logged);
	EXPECT_EQ(0, bad);

	/* the VMM saw every 0xcf8 write, with its value, and nothing else */
	ASSERT_EQ(sc->nr_cf8, e->exits.n);
	for (i = 0; i < e->exits.n && i < KC_LOG_CAP; i++) {
		const struct kc_exit *x = &e->exits.a[i];

		EXPECT_EQ(MICROVM_BUS_PIO, x->bus);
		EXPECT_EQ(1, x->is_write);
		EXPECT_EQ(4, x->len);
		EXPECT_EQ(KC_PORT_ADDR, x->addr);
		EXPECT_EQ(sc->steps[i].cf8, x->data);
	}

	ASSERT_EQ(0, kc_session_counters(e, &c));
	EXPECT_EQ(nw, c.writes);
	EXPECT_EQ(nr, c.reads);
	EXPECT_EQ(nw, c.cfg_writes);
	EXPECT_EQ(nr, c.cfg_reads);
	EXPECT_EQ(nr, c.completions);
	EXPECT_EQ(0, c.cfg_declined);
	EXPECT_EQ(0, c.timeouts + c.drops + c.aborted + c.errors);

	/* the debugfs view names the trap */
	if (!(e->m.s.attach.features & SOFTEE_FEAT_DEBUGFS))
		return;
	snprintf(path, sizeof(path), "/sys/kernel/debug/softee/%u/stats",
		 e->m.s.attach.session_id);
	fp = fopen(path, "r");
	ASSERT_NE(NULL, fp);
	while (fgets(line, sizeof(line), fp)) {
		if (strncmp(line, "cfg 0 00:10.0 ", 14))
			continue;
		saw_cfg = true;
		EXPECT_NE(NULL, strstr(line, " cfg_reads=48 ")) TH_LOG("%s", line);
	}
	fclose(fp);
	EXPECT_TRUE(saw_cfg);
}

TEST_F(cfg, conf1_declined)
{
	/* not trapped: another device, bus, function; and 00:10.0 disabled */
	static const uint32_t others[] = { KC_BDF2, SOFTEE_CFG_BDF(1, 0x10, 0), SOFTEE_CFG_BDF(0, 0x10, 1),
					   SOFTEE_CFG_BDF(0, 0x0f, 7) };
	struct kc_env *e = &self->e;
	struct kc_script *sc = &e->sc[0];
	struct softee_counters c;
	uint32_t id, b, i, nx = 0, ndeclined = 0, want_cf8;
	uint64_t v = KC_EXIT_VALUE;

	if (KC_SKIPPED())
		return;
	ASSERT_EQ(0, kc_env_open(e, 1, 0));
	ASSERT_EQ(0, softee_cfg_add(e->m.s.fd, KC_BDF, 0, 0, 0, 0, &id));
	for (b = 0; b <= sizeof(others) / sizeof(others[0]); b++) {
		uint32_t bdf = b < sizeof(others) / sizeof(others[0]) ? others[b] : KC_BDF;
		int enable = b < sizeof(others) / sizeof(others[0]);

		for (i = 0; i < KC_NR_SHAPES; i++) {
			uint8_t len = kc_shapes[i].len;
			uint32_t reg = 0x10 + kc_shapes[i].off;

			kc_conf1_write(sc, bdf, reg, len, 0x1000 + i, enable);
			kc_conf1_read(sc, bdf, reg, len, KC_CHECK_EQ, v, enable);
			nx += 4;	/* two 0xcf8 writes, two data accesses */
			ndeclined += 2;
		}
	}
	kc_sync(sc, 1);
	/*
	 * Only a dword write is CONFIG_ADDRESS: after the trapped BDF is
	 * latched, a word write at 0xcf8 and a read of 0xcf8 go to the VMM
	 * and leave the latch alone, so the data read still reaches the ring.
	 */
	want_cf8 = kc_cf8(KC_BDF, 0x08, 1);
	kc_add(sc, KC_PIO_WRITE, 4, KC_PORT_ADDR, KC_CHECK_NONE, want_cf8);
	kc_add(sc, KC_PIO_WRITE, 2, KC_PORT_ADDR, KC_CHECK_NONE, 0);
	kc_add(sc, KC_PIO_WRITE, 1, KC_PORT_ADDR + 3, KC_CHECK_NONE, 0);
	kc_add(sc, KC_PIO_READ, 4, KC_PORT_ADDR, KC_CHECK_EQ, v);
	kc_add(sc, KC_PIO_READ, 2, KC_PORT_DATA + 2, KC_CHECK_EQ,
	       kc_ring_answer(sc, KC_BDF, 0x0a));
	sc->seq++;
	nx += 4;
	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 1, true, 0, 8));
	ASSERT_TRUE(kc_run(e, 30000));
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, 1, 5000));
	kt_consumer_stop(&e->m.c);

	/* the ring holds the one access to the latched, trapped BDF */
	ASSERT_EQ(1, e->m.c.log_n[0]);
	{
		int logged = 0;

		EXPECT_EQ(0, kc_entry_check(&e->m.c.log[0][0], 0, 0, SOFTEE_OP_READ, 2, id, KC_BDF,
					    0x0a, kt_answer(0, SOFTEE_CFG_ADDR(KC_BDF, 0x0a), 0),
					    &logged));
	}

	/* everything else reached the VMM, in order, with its data */
	ASSERT_EQ(nx, e->exits.n);
	for (i = 0; i + 4 < nx && i < KC_LOG_CAP; i += 2) {
		const struct kc_step *s = &sc->steps[i / 2];
		const struct kc_exit *a = &e->exits.a[i], *d = &e->exits.a[i + 1];

		EXPECT_TRUE(a->is_write && a->len == 4 && a->addr == KC_PORT_ADDR &&
			    a->data == s->cf8) TH_LOG("exit %u", i);
		EXPECT_TRUE(d->bus == MICROVM_BUS_PIO && d->len == s->len && d->addr == s->addr &&
			    d->is_write == (s->kind == KC_CONF1_WRITE))
			TH_LOG("exit %u: len %u port 0x%llx", i + 1, d->len,
			       (unsigned long long)d->addr);
		if (s->kind == KC_CONF1_WRITE)
			EXPECT_EQ(s->data & kt_mask(s->len), d->data);
	}
	EXPECT_EQ(want_cf8, e->exits.a[nx - 4].data);
	EXPECT_EQ(2, e->exits.a[nx - 3].len);
	EXPECT_EQ(1, e->exits.a[nx - 2].len);
	EXPECT_EQ(KC_PORT_ADDR + 3, e->exits.a[nx - 2].addr);
	EXPECT_EQ(0, e->exits.a[nx - 1].is_write);
	EXPECT_EQ(KC_PORT_ADDR, e->exits.a[nx - 1].addr);

	ASSERT_EQ(0, kc_session_counters(e, &c));
	EXPECT_EQ(ndeclined, c.cfg_declined);
	EXPECT_EQ(1, c.cfg_reads);
	EXPECT_EQ(0, c.cfg_writes + c.writes);
}

TEST_F(cfg, ecam)
{
	static const uint32_t regs[] = { 0x000, 0x03c, 0x100, 0x404, 0xffc };
	const uint32_t below = SOFTEE_CFG_BDF(0, 0x0f, 7), above = SOFTEE_CFG_BDF(0, 0x10, 1);
	struct kc_env *e = &self->e;
	struct kc_script *sc = &e->sc[0];
	struct softee_counters c;
	uint32_t id, r, i, n = 0, nr = 0;
	int bad = 0, logged = 0;
	uint64_t v = KC_EXIT_VALUE;

	if (KC_SKIPPED())
		return;
	ASSERT_EQ(0, kc_env_open(e, 1, 0));
	ASSERT_EQ(0, softee_cfg_add(e->m.s.fd, KC_BDF, SOFTEE_CFG_F_ECAM, KC_ECAM, 0, 255, &id));
	for (r = 0; r < sizeof(regs) / sizeof(regs[0]); r++) {
		for (i = 0; i < KC_NR_SHAPES; i++) {
			uint32_t reg = regs[r] + kc_shapes[i].off;
			uint8_t len = kc_shapes[i].len;

			kc_ring_ecam_write(sc, KC_BDF, reg, len, kt_answer(7, reg, n) & kt_mask(len));
			kc_ring_ecam_read(sc, KC_BDF, reg, len);
			n += 2;
			nr++;
		}
	}
	/* the same registers through 0xcf8/0xcfc land in the same place */
	kc_ring_conf1_write(sc, KC_BDF, 0x04, 2, 0x0406);
	kc_ring_conf1_read(sc, KC_BDF, 0x00, 4);
	n += 2;
	nr++;
	kc_sync(sc, 1);
	/* the neighbouring functions' pages are the VMM's */
	kc_add(sc, KC_MMIO_READ, 4, KC_ECAM_PAGE(below) + 0xffc, KC_CHECK_EQ, v);
	kc_add(sc, KC_MMIO_WRITE, 4, KC_ECAM_PAGE(below) + 0xffc, KC_CHECK_NONE, 0xb0b0);
	kc_add(sc, KC_MMIO_READ, 2, KC_ECAM_PAGE(above), KC_CHECK_EQ, v);
	kc_add(sc, KC_MMIO_WRITE, 1, KC_ECAM_PAGE(above) + 4, KC_CHECK_NONE, 0xb1);
	/* as are accesses no config TLP carries: 8 bytes, across a dword */
	kc_add(sc, KC_MMIO_READ, 8, KC_ECAM_PAGE(KC_BDF) + 8, KC_CHECK_EQ, v);
	kc_add(sc, KC_MMIO_WRITE, 2, KC_ECAM_PAGE(KC_BDF) + 3, KC_CHECK_NONE, 0xcafe);

	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 1, true, 0, n + 8));
	ASSERT_TRUE(kc_run(e, 30000));
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, n, 5000));
	kt_consumer_stop(&e->m.c);

	ASSERT_EQ(n, e->m.c.log_n[0]);
	for (i = 0; i < n; i++)
		bad += kc_step_check(sc, i, &e->m.c.log[0][i], i, id, &logged);
	EXPECT_EQ(0, bad);

	/* the VMM: two 0xcf8 writes, then the six accesses in order */
	ASSERT_EQ(8, e->exits.n);
	EXPECT_EQ(KC_PORT_ADDR, e->exits.a[0].addr);
	EXPECT_EQ(KC_PORT_ADDR, e->exits.a[1].addr);
	for (i = 2; i < 8; i++) {
		const struct kc_step *s = &sc->steps[sc->n - 8 + i];
		const struct kc_exit *x = &e->exits.a[i];

		EXPECT_TRUE(x->bus == MICROVM_BUS_MMIO && x->addr == s->addr && x->len == s->len &&
			    x->is_write == (s->kind == KC_MMIO_WRITE))
			TH_LOG("exit %u: bus %u addr 0x%llx len %u", i, x->bus,
			       (unsigned long long)x->addr, x->len);
		if (s->kind == KC_MMIO_WRITE)
			EXPECT_EQ(s->data & kt_mask(s->len), x->data);
	}

	ASSERT_EQ(0, kc_session_counters(e, &c));
	EXPECT_EQ(nr, c.cfg_reads);
	EXPECT_EQ(n - nr, c.cfg_writes);
	EXPECT_EQ(2, c.cfg_declined);		/* the page's own, not the neighbours' */
	EXPECT_EQ(nr, c.completions);
}

TEST_F(cfg, read_timeout)
{
	struct kc_env *e = &self->e;
	struct kc_script *sc = &e->sc[0];
	/* long enough that nreads timeouts would take longer than one and "promptly" */
	const uint32_t timeout_us = 1000000, nreads = 4;
	struct softee_counters c;
	uint64_t took, want = (uint64_t)timeout_us * 1000;
	struct softee_ring_entry *x;
	uint32_t id;

	if (KC_SKIPPED())
		return;
	ASSERT_EQ(0, kc_env_open(e, 1, timeout_us));
	ASSERT_EQ(0, softee_cfg_add(e->m.s.fd, KC_BDF, SOFTEE_CFG_F_ECAM, KC_ECAM, 0, 0, &id));
	/*
	 * Nobody consumes: the first read ends at the timeout with all ones
	 * and stalls the ring; the others end at once, unqueued.
	 */
	kc_sync(sc, 1);
	kc_conf1_read(sc, KC_BDF, 0x00, 4, KC_CHECK_EQ, ~0ULL, 1);
	kc_conf1_read(sc, KC_BDF, 0x0e, 1, KC_CHECK_EQ, ~0ULL, 1);
	kc_conf1_read(sc, KC_BDF, 0x02, 2, KC_CHECK_EQ, ~0ULL, 1);
	kc_add(sc, KC_MMIO_READ, 4, KC_ECAM_PAGE(KC_BDF) + 0x100, KC_CHECK_EQ, ~0ULL);
	kc_sync(sc, 2);
	/* and the vCPU goes on: a posted write */
	kc_conf1_write(sc, KC_BDF, 0x04, 2, 0x0007, 1);
	ASSERT_TRUE(kc_run(e, 30000));
	EXPECT_EQ(nreads, e->m.vc[0].arg_stage[2]);	/* all-ones reads */
	took = e->m.vc[0].t_stage[2] - e->m.vc[0].t_stage[1];
	TH_LOG("%u config reads with a %u us timeout took %.1f ms", nreads, timeout_us,
	       took / 1e6);
	EXPECT_LE(want, took);
	EXPECT_GT(want + KC_PROMPT_NS, took);	/* not one timeout per read */

	ASSERT_EQ(0, kc_session_counters(e, &c));
	EXPECT_EQ(1, c.cfg_reads);
	EXPECT_EQ(1, c.timeouts);
	EXPECT_EQ(nreads - 1, c.stalled);
	EXPECT_EQ(1, c.cfg_writes);		/* queued: the ring had room */
	EXPECT_EQ(0, c.completions + c.aborted);
	EXPECT_EQ(2, kt_ring_prod(&e->m.s.rings[0]));
	x = softee_ring_entry_at(&e->m.s.rings[0], 0);
	EXPECT_EQ(SOFTEE_OP_READ, x->op);
	EXPECT_EQ(SOFTEE_BUS_CFG, x->bus);
	EXPECT_EQ(~0u, x->done);
	x = softee_ring_entry_at(&e->m.s.rings[0], 1);
	EXPECT_EQ(SOFTEE_OP_WRITE, x->op);
	EXPECT_EQ(SOFTEE_BUS_CFG, x->bus);
}

/*
 * Two vCPUs, two trapped functions, one CONFIG_ADDRESS: under the guest's
 * lock (as Linux's pci_config_lock) each data access reaches the ring of
 * its own vCPU with its own BDF, never the other's.
 */
TEST_F(cfg, two_vcpus_locked)
{
	const uint32_t nv = 2, n = 80;
	const uint32_t bdfs[2] = { KC_BDF, KC_BDF2 };
	struct kc_env *e = &self->e;
	struct softee_counters c;
	uint32_t ids[2], v, i;
	int bad = 0, logged = 0;

	if (KC_SKIPPED())
		return;
	ASSERT_EQ(0, kc_env_open(e, nv, 0));
	for (v = 0; v < nv; v++) {
		ASSERT_EQ(0, softee_cfg_add(e->m.s.fd, bdfs[v], 0, 0, 0, 0, &ids[v]));
		for (i = 0; i < n; i++) {
			uint32_t reg = (i * 12 + v * 4) & 0xfc;

			if (i % 2)
				kc_ring_conf1_read(&e->sc[v], bdfs[v], reg + (i & 2), 2);
			else
				kc_ring_conf1_write(&e->sc[v], bdfs[v], reg, 4, 0x100 * v + i);
		}
	}
	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, nv, true, 0, n));
	for (v = 0; v < nv; v++)
		ASSERT_EQ(0, kc_start(e, v, true));
	for (v = 0; v < nv; v++) {
		ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[v], 60000));
		EXPECT_EQ(MICROVM_UCALL_DONE, e->m.vc[v].result) TH_LOG("vCPU %u", v);
	}
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, nv * n, 5000));
	kt_consumer_stop(&e->m.c);
	for (v = 0; v < nv; v++) {
		ASSERT_EQ(n, e->m.c.log_n[v]);
		for (i = 0; i < n; i++)
			bad += kc_step_check(&e->sc[v], i, &e->m.c.log[v][i], i, ids[v], &logged);
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(nv * n, e->exits.cf8_writes);
	EXPECT_EQ(nv * n, e->exits.n);
	ASSERT_EQ(0, kc_session_counters(e, &c));
	EXPECT_EQ(nv * n / 2, c.cfg_reads);
	EXPECT_EQ(nv * n / 2, c.cfg_writes);
	EXPECT_EQ(0, c.cfg_declined + c.timeouts + c.aborted);
}

/* ---- the ioctls ------------------------------------------------------------- */

FIXTURE(cfg_ioctl) {
	struct kc_env e;
};

FIXTURE_SETUP(cfg_ioctl)
{
	KC_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(cfg_ioctl)
{
	kt_vm_close(&self->e.m);
}

static long kc_ioc(int fd, unsigned long cmd, void *arg)
{
	long r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

static int kc_add_raw(int fd, uint32_t bdf, uint32_t flags, uint64_t base, uint8_t start,
		      uint8_t end)
{
	return __softee_cfg_add(fd, bdf, flags, base, start, end, NULL);
}

/* A good trap, for the size checks: the first of the session, id 0. */
static const struct softee_cfg kc_good_cfg = { .size = sizeof(struct softee_cfg), .bdf = KC_BDF };

static void kc_add_done(struct __test_metadata *_metadata, void *ctx, long ret, void *arg)
{
	struct softee_cfg *c = arg;

	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, c->id);
	EXPECT_EQ(0, softee_cfg_del(*(int *)ctx, c->id));
}

static void kc_del_done(struct __test_metadata *_metadata, void *ctx, long ret, void *arg)
{
	(void)arg;
	EXPECT_EQ(0, ret);
	/* the trap it removed, back for the next call */
	EXPECT_EQ(0, kc_add_raw(*(int *)ctx, KC_BDF, 0, 0, 0, 0));
}

TEST_F(cfg_ioctl, add_arguments)
{
	struct kc_env *e = &self->e;
	struct softee_cfg a;
	struct ksz_call sizes = {
		.name = "SOFTEE_CFG_ADD", .cmd = SOFTEE_CFG_ADD, .arg = &kc_good_cfg,
		.ksize = sizeof(kc_good_cfg), .min = sizeof(kc_good_cfg), .done = kc_add_done,
	};
	int fd;

	if (KC_SKIPPED())
		return;
	ASSERT_EQ(0, kc_env_open(e, 1, 0));
	fd = e->m.s.fd;

	sizes.fd = fd;
	sizes.ctx = &fd;
	ksz_check(_metadata, &sizes);

	/* fields */
	EXPECT_EQ(-EINVAL, kc_add_raw(fd, 0x10000, 0, 0, 0, 0));	/* bad BDF */
	EXPECT_EQ(-EINVAL, kc_add_raw(fd, ~0U, 0, 0, 0, 0));
	EXPECT_EQ(-EINVAL, kc_add_raw(fd, KC_BDF, 2, 0, 0, 0));	/* unknown flag */
	EXPECT_EQ(-EINVAL, kc_add_raw(fd, KC_BDF, 0x80000000, 0, 0, 0));
	EXPECT_EQ(-EINVAL, kc_add_raw(fd, KC_BDF, 0, KC_ECAM, 0, 0));	/* ECAM fields, no flag */
	EXPECT_EQ(-EINVAL, kc_add_raw(fd, KC_BDF, 0, 0, 0, 1));
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.bdf = KC_BDF;
	a.id = 1;				/* an output field, set on input */
	EXPECT_EQ(-EINVAL, kc_ioc(fd, SOFTEE_CFG_ADD, &a));
	a.id = 0;
	a.__pad[5] = 1;
	EXPECT_EQ(-EINVAL, kc_ioc(fd, SOFTEE_CFG_ADD, &a));
	a.__pad[5] = 0;
	a.__reserved[1] = 1;
	EXPECT_EQ(-EINVAL, kc_ioc(fd, SOFTEE_CFG_ADD, &a));

	/* the ECAM window */
	EXPECT_EQ(-EINVAL, kc_add_raw(fd, KC_BDF, SOFTEE_CFG_F_ECAM, KC_ECAM + 0x1000, 0, 255));
	EXPECT_EQ(-EINVAL, kc_add_raw(fd, KC_BDF, SOFTEE_CFG_F_ECAM, KC_ECAM, 2, 1));
	EXPECT_EQ(-EINVAL, kc_add_raw(fd, KC_BDF, SOFTEE_CFG_F_ECAM, KC_ECAM, 1, 255));
	EXPECT_EQ(-EINVAL, kc_add_raw(fd, SOFTEE_CFG_BDF(9, 0, 0), SOFTEE_CFG_F_ECAM, KC_ECAM, 0, 8));
	EXPECT_EQ(-EOVERFLOW, kc_add_raw(fd, KC_BDF, SOFTEE_CFG_F_ECAM, 0xfffffffffff00000ULL,
					 0, 0));
	EXPECT_EQ(-EOVERFLOW, kc_add_raw(fd, KC_BDF, SOFTEE_CFG_F_ECAM, (1ULL << 52) - (1 << 20),
					 0, 1));
	EXPECT_EQ(0, kc_add_raw(fd, KC_BDF, SOFTEE_CFG_F_ECAM, (1ULL << 52) - (1 << 20), 0, 0));
	EXPECT_EQ(0, softee_cfg_del(fd, 0));
	/* the page in guest RAM (the micro-VM's is at 0) */
	EXPECT_EQ(-EADDRNOTAVAIL, kc_add_raw(fd, KC_BDF, SOFTEE_CFG_F_ECAM, 0, 0, 0));

	/* a bus decoded by a window that does not start at bus 0 */
	EXPECT_EQ(0, kc_add_raw(fd, SOFTEE_CFG_BDF(3, 1, 2), SOFTEE_CFG_F_ECAM, KC_ECAM, 2, 3));
	EXPECT_EQ(0, softee_cfg_del(fd, 0));

	/* SOFTEE_BUS_CFG is a ring entry's bus, not a region's */
	EXPECT_EQ(-EINVAL, __softee_region_add(fd, SOFTEE_BUS_CFG, 0xc0000000, 0x1000, 0, NULL));
}

TEST_F(cfg_ioctl, limits_and_conflicts)
{
	struct kc_env *e = &self->e;
	uint32_t id, rid, i;
	int fd;

	if (KC_SKIPPED())
		return;
	ASSERT_EQ(0, kc_env_open(e, 1, 0));
	fd = e->m.s.fd;

	/* duplicate BDF, with or without ECAM */
	ASSERT_EQ(0, softee_cfg_add(fd, KC_BDF, SOFTEE_CFG_F_ECAM, KC_ECAM, 0, 255, &id));
	EXPECT_EQ(0, id);
	EXPECT_EQ(-EEXIST, kc_add_raw(fd, KC_BDF, 0, 0, 0, 0));
	EXPECT_EQ(-EEXIST, kc_add_raw(fd, KC_BDF, SOFTEE_CFG_F_ECAM, KC_ECAM + (1 << 20), 0, 255));
	/* another BDF whose page, through another window, is the same page */
	EXPECT_EQ(-EEXIST, kc_add_raw(fd, SOFTEE_CFG_BDF(1, 0x10, 0), SOFTEE_CFG_F_ECAM,
				      KC_ECAM - (1 << 20), 0, 255));

	/* regions may not take the config ports or a trapped ECAM page */
	EXPECT_EQ(-EEXIST, __softee_region_add(fd, SOFTEE_BUS_PIO, 0xcfc, 4, 0, NULL));
	EXPECT_EQ(-EEXIST, __softee_region_add(fd, SOFTEE_BUS_PIO, 0xc00, 0x100, 0, NULL));
	EXPECT_EQ(-EEXIST, __softee_region_add(fd, SOFTEE_BUS_MMIO, KC_ECAM_PAGE(KC_BDF) + 0x800,
					       4, 0, NULL));
	EXPECT_EQ(0, __softee_region_add(fd, SOFTEE_BUS_MMIO, KC_ECAM_PAGE(KC_BDF2), 0x1000, 0,
					 &rid));
	EXPECT_EQ(0, __softee_region_add(fd, SOFTEE_BUS_PIO, 0xd00, 4, 0, NULL));
	/* and a trap may not take a region's page */
	EXPECT_EQ(-EEXIST, kc_add_raw(fd, KC_BDF2, SOFTEE_CFG_F_ECAM, KC_ECAM, 0, 255));
	EXPECT_EQ(0, softee_cfg_add(fd, KC_BDF2, 0, 0, 0, 0, NULL));

	/* too many */
	for (i = 2; i < SOFTEE_MAX_CFG; i++)
		ASSERT_EQ(0, softee_cfg_add(fd, SOFTEE_CFG_BDF(2, i, 0), 0, 0, 0, 0, &id)) TH_LOG("%u", i);
	EXPECT_EQ(SOFTEE_MAX_CFG - 1, id);
	EXPECT_EQ(-ENOSPC, kc_add_raw(fd, SOFTEE_CFG_BDF(3, 0, 0), 0, 0, 0, 0));
	/* a freed id is reused */
	ASSERT_EQ(0, softee_cfg_del(fd, 5));
	ASSERT_EQ(0, softee_cfg_add(fd, SOFTEE_CFG_BDF(3, 0, 0), 0, 0, 0, 0, &id));
	EXPECT_EQ(5, id);

	/* all gone: the ports are free for a region again */
	for (i = 0; i < SOFTEE_MAX_CFG; i++)
		ASSERT_EQ(0, softee_cfg_del(fd, i));
	EXPECT_EQ(0, __softee_region_add(fd, SOFTEE_BUS_PIO, 0xcf8, 8, 0, &rid));
	/* and now a trap may not take them */
	EXPECT_EQ(-EEXIST, kc_add_raw(fd, KC_BDF, 0, 0, 0, 0));
	ASSERT_EQ(0, softee_region_del(fd, rid));
	EXPECT_EQ(0, kc_add_raw(fd, KC_BDF, 0, 0, 0, 0));
}

TEST_F(cfg_ioctl, del_arguments)
{
	struct kc_env *e = &self->e;
	struct softee_cfg_del d;
	struct ksz_call sizes = {
		.name = "SOFTEE_CFG_DEL", .cmd = SOFTEE_CFG_DEL, .arg = &d, .ksize = sizeof(d),
		.min = sizeof(d), .done = kc_del_done,
	};
	int fd;

	if (KC_SKIPPED())
		return;
	ASSERT_EQ(0, kc_env_open(e, 1, 0));
	fd = e->m.s.fd;
	ASSERT_EQ(0, softee_cfg_add(fd, KC_BDF, 0, 0, 0, 0, NULL));

	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	sizes.fd = fd;
	sizes.ctx = &fd;
	ksz_check(_metadata, &sizes);

	d.flags = 1;
	EXPECT_EQ(-EINVAL, kc_ioc(fd, SOFTEE_CFG_DEL, &d));
	d.flags = 0;
	d.__reserved = 1;
	EXPECT_EQ(-EINVAL, kc_ioc(fd, SOFTEE_CFG_DEL, &d));
	EXPECT_EQ(-ENOENT, __softee_cfg_del(fd, 1));
	EXPECT_EQ(-ENOENT, __softee_cfg_del(fd, SOFTEE_MAX_CFG));
	EXPECT_EQ(-ENOENT, __softee_cfg_del(fd, ~0U));
	EXPECT_EQ(0, __softee_cfg_del(fd, 0));
	EXPECT_EQ(-ENOENT, __softee_cfg_del(fd, 0));
}

/* ---- lifetimes -------------------------------------------------------------- */

FIXTURE(cfg_life) {
	struct kc_env e;
};

FIXTURE_SETUP(cfg_life)
{
	KC_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(cfg_life)
{
	kt_vm_close(&self->e.m);
}

TEST_F(cfg_life, del_while_waiting)
{
	struct kc_env *e = &self->e;
	struct kc_script *sc = &e->sc[0];
	struct softee_counters c;
	uint64_t t0, t_del, took;
	uint32_t id;

	if (KC_SKIPPED())
		return;
	ASSERT_EQ(0, kc_env_open(e, 1, KC_LONG_US));
	ASSERT_EQ(0, softee_cfg_add(e->m.s.fd, KC_BDF, SOFTEE_CFG_F_ECAM, KC_ECAM, 0, 255, &id));
	/* the guest goes past stage 2 only once CFG_DEL has returned */
	e->hold = true;
	kc_sync(sc, 1);
	kc_conf1_read(sc, KC_BDF, 0x00, 4, KC_CHECK_EQ, ~0ULL, 1);	/* nobody answers */
	kc_sync(sc, 2);
	/* the BDF is the VMM's again, both ways */
	kc_conf1_read(sc, KC_BDF, 0x00, 4, KC_CHECK_EQ, KC_EXIT_VALUE, 1);
	kc_add(sc, KC_MMIO_READ, 4, KC_ECAM_PAGE(KC_BDF), KC_CHECK_EQ, KC_EXIT_VALUE);

	ASSERT_EQ(0, kc_start(e, 0, false));
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 1, 10000));
	kt_vcpu_release(&e->m.vc[0], 1);
	ASSERT_TRUE(kt_wait_prod(&e->m.s.rings[0], 1, 10000));
	usleep(50000);
	EXPECT_FALSE(kt_vcpu_wait_stage(&e->m.vc[0], 2, 0));

	t0 = kt_now_ns();
	ASSERT_EQ(0, softee_cfg_del(e->m.s.fd, id));
	t_del = kt_now_ns() - t0;
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 2, 10000));
	took = e->m.vc[0].t_stage[2] - t0;
	TH_LOG("CFG_DEL took %.1f ms, the read ended %.1f ms after it began", t_del / 1e6,
	       took / 1e6);
	EXPECT_GT(KC_PROMPT_NS, t_del);
	EXPECT_GT(KC_PROMPT_NS, took);
	EXPECT_EQ(1, e->m.vc[0].arg_stage[2]);	/* all ones */
	kt_vcpu_release(&e->m.vc[0], 2);
	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 10000));
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);

	/* 0xcf8, 0xcf8, 0xcfc, the ECAM read: all the VMM's; the ring untouched */
	ASSERT_EQ(4, e->exits.n);
	EXPECT_EQ(KC_PORT_DATA, e->exits.a[2].addr);
	EXPECT_EQ(KC_ECAM_PAGE(KC_BDF), e->exits.a[3].addr);
	EXPECT_EQ(1, kt_ring_prod(&e->m.s.rings[0]));
	ASSERT_EQ(0, kc_session_counters(e, &c));
	EXPECT_EQ(1, c.cfg_reads);
	EXPECT_EQ(1, c.aborted);
	/* the last trap took the port devices with it: nothing left to decline */
	EXPECT_EQ(0, c.cfg_declined);
	EXPECT_EQ(-ENOENT, __softee_cfg_del(e->m.s.fd, id));
}

TEST_F(cfg_life, session_closed_while_waiting)
{
	struct kc_env *e = &self->e;
	struct kc_script *sc = &e->sc[0];
	uint64_t t0, took;
	void *map;
	size_t bytes;

	if (KC_SKIPPED())
		return;
	ASSERT_EQ(0, kc_env_open(e, 1, KC_LONG_US));
	ASSERT_EQ(0, softee_cfg_add(e->m.s.fd, KC_BDF, SOFTEE_CFG_F_ECAM, KC_ECAM, 0, 255, NULL));
	kc_sync(sc, 1);
	kc_add(sc, KC_MMIO_READ, 4, KC_ECAM_PAGE(KC_BDF) + 0x40, KC_CHECK_EQ, ~0ULL);
	kc_sync(sc, 2);
	/* after the close the VMM answers */
	kc_conf1_read(sc, KC_BDF, 0x00, 2, KC_CHECK_EQ, KC_EXIT_VALUE, 1);

	ASSERT_EQ(0, kc_start(e, 0, false));
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 1, 10000));
	ASSERT_TRUE(kt_wait_prod(&e->m.s.rings[0], 1, 10000));

	/* the fd alone: the mapping still holds the session, the read waits */
	map = e->m.s.map;
	bytes = e->m.s.attach.mmap_bytes;
	e->m.s.map = NULL;
	softee_session_close(&e->m.s);
	e->m.have_s = false;
	EXPECT_FALSE(kt_vcpu_wait_stage(&e->m.vc[0], 2, 300));

	/* the last reference: the read ends at once with all ones */
	t0 = kt_now_ns();
	ASSERT_EQ(0, munmap(map, bytes));
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 2, 10000));
	took = e->m.vc[0].t_stage[2] - t0;
	TH_LOG("the config read ended %.1f ms after the last unmap", took / 1e6);
	EXPECT_GT(KC_PROMPT_NS, took);
	EXPECT_EQ(1, e->m.vc[0].arg_stage[2]);
	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 10000));
	EXPECT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);
	EXPECT_EQ(2, e->exits.n);		/* 0xcf8 and 0xcfc */
}

/*
 * The VMM stops its vCPU (which waits on a config read) and closes the VM:
 * the session still holds the VM, and traps come and go on it cleanly.
 */
TEST_F(cfg_life, vm_closed_while_waiting)
{
	struct kc_env *e = &self->e;
	struct softee_counters c;
	uint32_t id;

	if (KC_SKIPPED())
		return;
	ASSERT_EQ(0, kc_env_open(e, 1, 20000));
	ASSERT_EQ(0, softee_cfg_add(e->m.s.fd, KC_BDF, SOFTEE_CFG_F_ECAM, KC_ECAM, 0, 255, &id));
	kc_conf1_read(&e->sc[0], KC_BDF, 0x00, 4, KC_CHECK_NONE, 0, 1);
	kc_add(&e->sc[0], KC_MMIO_READ, 4, KC_ECAM_PAGE(KC_BDF), KC_CHECK_NONE, 0);
	ASSERT_EQ(0, kc_start(e, 0, false));
	ASSERT_TRUE(kt_wait_prod(&e->m.s.rings[0], 1, 10000));

	kt_vcpu_stop(&e->m.vc[0]);
	microvm_destroy(e->m.vm);
	e->m.vm = NULL;

	ASSERT_EQ(0, kc_session_counters(e, &c));
	EXPECT_LE(1, c.cfg_reads);
	EXPECT_EQ(c.cfg_reads, c.timeouts);
	EXPECT_EQ(0, softee_cfg_del(e->m.s.fd, id));
	EXPECT_EQ(0, softee_cfg_add(e->m.s.fd, KC_BDF2, SOFTEE_CFG_F_ECAM, KC_ECAM, 0, 255, &id));
	EXPECT_EQ(0, softee_cfg_add(e->m.s.fd, KC_BDF, 0, 0, 0, 0, NULL));
	/* then the session closes (teardown) with both traps: the VM's last reference */
}

/* The VMM is killed while its vCPU waits on a config read: it goes at once. */
TEST_F(cfg_life, vmm_killed_while_waiting)
{
	struct kc_env *e = &self->e;
	int pfd[2], st;
	uint64_t t0, took;
	struct pollfd p;
	pid_t pid;
	char ch;

	if (KC_SKIPPED())
		return;
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pfd[0]);
		if (kc_env_open(e, 1, KC_LONG_US) ||
		    softee_cfg_add(e->m.s.fd, KC_BDF, 0, 0, 0, 0, NULL))
			_exit(2);
		kc_conf1_read(&e->sc[0], KC_BDF, 0x08, 4, KC_CHECK_NONE, 0, 1);
		if (kc_start(e, 0, false) || !kt_wait_prod(&e->m.s.rings[0], 1, 10000))
			_exit(3);
		if (write(pfd[1], "r", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(pfd[1]);
	p.fd = pfd[0];
	p.events = POLLIN;
	ASSERT_EQ(1, poll(&p, 1, 20000));
	ASSERT_EQ(1, read(pfd[0], &ch, 1));
	usleep(20000);
	t0 = kt_now_ns();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	took = kt_now_ns() - t0;
	close(pfd[0]);
	TH_LOG("the killed VMM was gone %.1f ms later", took / 1e6);
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_GT(KC_PROMPT_NS, took);
}

TEST_HARNESS_MAIN
