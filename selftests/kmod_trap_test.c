// SPDX-License-Identifier: GPL-2.0
/*
 * The trap path of softee.ko with a guest running: a micro-VM whose guest
 * (kmod_trap_guest.c) runs a script of MMIO or port accesses to a region
 * the module traps, and a consumer thread on the mmap'd rings.
 *
 *  trap.*  (MMIO and PIO): writes arrive in order with their data; reads
 *          return the completion's data (or all ones for a bad status);
 *          timeouts; a full ring; an access across a region's edge exits
 *          to user space; the null region; several vCPUs at once; a
 *          vCPU without a ring.
 *  life.*  lifetimes: a region removed, the session closed, the rings
 *          unmapped, the VM gone, the process killed, all while the guest
 *          is busy or waiting; the debugfs view.
 *
 * Needs softee.ko and /dev/kvm (runs in the test VM).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "kmod_trap.h"

#define KT_MMIO_BASE	0xc0000080ULL
#define KT_PIO_BASE	0x5000ULL
#define KT_REGION_LEN	0x100ULL	/* not a page: an access can cross its end */
#define KT_SCRIPT_CAP	1024
#define KT_LONG_US	8000000		/* a timeout nobody should wait for */
#define KT_PROMPT_NS	2000000000ULL	/* "promptly", under TCG */

struct kt_script {
	struct kt_step *steps;		/* the guest's copy */
	uint64_t gpa;
	uint32_t n, cap;
	uint32_t vcpu;
	uint32_t seq;			/* the next ring entry of this vCPU */
};

/* KVM_EXIT_MMIO/IO seen by the micro-VM's exit handler. */
struct kt_exit {
	uint8_t bus, is_write, len;
	uint64_t addr, data;
};

struct kt_exits {
	uint64_t read_value;		/* what reads get */
	uint32_t n;			/* atomic: exits, all vCPUs */
	struct kt_exit a[64];		/* the first ones */
};

struct kt_env {
	struct kt_vm m;			/* the micro-VM, the session, the threads */
	struct kt_script sc[KT_MAX_VCPUS];
	struct kt_exits exits;
};

static int kt_exit_fn(struct microvm_vcpu *v, struct microvm_access *a, void *opaque)
{
	struct kt_exits *x = opaque;
	uint32_t i = __atomic_fetch_add(&x->n, 1, __ATOMIC_RELAXED);
	struct kt_exit *e;

	(void)v;
	if (!a->is_write)
		memcpy(a->data, &x->read_value, a->len);
	if (i >= sizeof(x->a) / sizeof(x->a[0]))
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
 * The micro-VM, the session and a region of KT_REGION_LEN on bus (kt_vm_open),
 * and an empty script per vCPU.  0 or -errno (the libraries print why).
 *
 * The MMIO region lies inside one page: KVM splits an access that crosses
 * a page boundary in two, and an access across the region's start would
 * then reach the module in part.
 */
static int kt_env_open(struct kt_env *e, uint32_t nr_vcpus, uint32_t ring_entries,
		       uint32_t timeout_us, uint8_t bus, uint32_t region_flags)
{
	uint32_t i;
	int ret;

	ret = kt_vm_open(&e->m, nr_vcpus, e->m.nr_rings, ring_entries, timeout_us, bus,
			 bus == SOFTEE_BUS_PIO ? KT_PIO_BASE : KT_MMIO_BASE, KT_REGION_LEN,
			 region_flags);
	if (ret)
		return ret;
	for (i = 0; i < nr_vcpus; i++) {
		struct kt_script *sc = &e->sc[i];

		sc->gpa = microvm_alloc(e->m.vm, KT_SCRIPT_CAP * sizeof(struct kt_step), 64);
		sc->steps = microvm_gpa2hva(e->m.vm, sc->gpa, KT_SCRIPT_CAP * sizeof(struct kt_step));
		if (!sc->gpa || !sc->steps)
			return -ENOMEM;
		sc->cap = KT_SCRIPT_CAP;
		sc->vcpu = i;
	}
	return 0;
}

/* ---- scripts ---------------------------------------------------------------- */

static void kt_add(struct kt_script *sc, uint8_t kind, uint8_t bus, uint8_t len,
		   uint64_t addr, uint8_t check, uint64_t data)
{
	struct kt_step *s;

	if (sc->n >= sc->cap) {
		fprintf(stderr, "# script of vCPU %u is full\n", sc->vcpu);
		abort();
	}
	s = &sc->steps[sc->n++];
	s->kind = kind;
	s->bus = bus;
	s->len = len;
	s->check = check;
	s->addr = addr;
	s->data = data;
}

/* A write inside the region: it becomes the next ring entry. */
static void kt_ring_write(struct kt_script *sc, uint8_t bus, uint8_t len, uint64_t addr,
			  uint64_t data)
{
	kt_add(sc, KT_WRITE, bus, len, addr, KT_CHECK_NONE, data);
	sc->seq++;
}

/* A read inside the region, answered by a kt_consumer with err_every. */
static void kt_ring_read(struct kt_script *sc, uint8_t bus, uint8_t len, uint64_t addr,
			 uint32_t err_every)
{
	uint64_t want = kt_is_err(err_every, sc->seq) ? ~0ULL :
			kt_answer(sc->vcpu, addr, sc->seq);

	kt_add(sc, KT_READ, bus, len, addr, KT_CHECK_EQ, want);
	sc->seq++;
}

static void kt_sync(struct kt_script *sc, uint64_t stage)
{
	kt_add(sc, KT_SYNC, 0, 0, 0, KT_CHECK_NONE, stage);
}

/* The i-th access size: 1, 2, 4, 8 in turn (port I/O has no 8). */
static uint8_t kt_size(uint8_t bus, uint32_t i)
{
	static const uint8_t sizes[] = { 1, 2, 4, 8 };

	return sizes[i % (bus == SOFTEE_BUS_PIO ? 3 : 4)];
}

/* A naturally aligned offset in the region for the i-th access of len. */
static uint64_t kt_off(uint32_t i, uint8_t len)
{
	return ((uint64_t)i * 40 + (uint64_t)len * (i % 3)) % (KT_REGION_LEN - 8) & ~(uint64_t)(len - 1);
}

static int kt_start(struct kt_env *e, uint32_t vcpu, bool auto_resume)
{
	struct kt_script *sc = &e->sc[vcpu];

	e->m.vc[vcpu].auto_resume = auto_resume;
	return kt_vcpu_start(&e->m.vc[vcpu], microvm_vcpu(e->m.vm, vcpu), kt_guest_script, 2,
			     sc->gpa, sc->n, 0, 0);
}

static int kt_stats(struct kt_env *e, uint32_t scope, uint32_t index, struct softee_counters *c)
{
	struct softee_stats st;
	int ret = softee_get_stats(e->m.s.fd, scope, index, &st);

	*c = st.c;
	return ret;
}

/* A ring's counters and its SOFTEE_RING_F_* as GET_STATS gives them. */
static int kt_ring_stats(struct kt_env *e, uint32_t ring, struct softee_counters *c,
			 uint32_t *flags)
{
	struct softee_stats st;
	int ret = softee_get_stats(e->m.s.fd, SOFTEE_STATS_RING, ring, &st);

	*c = st.c;
	*flags = st.ring_flags;
	return ret;
}

/* Session, each ring, the region: the session is the sum of the rings. */
static void kt_check_sums(struct __test_metadata *_metadata, struct kt_env *e,
			  struct softee_counters *session)
{
	struct softee_counters sum, reg;

	ASSERT_EQ(0, kt_vm_counters(&e->m, session, &sum, &reg, NULL));
	if (!kt_counters_equal(&sum, session) || !kt_counters_equal(&reg, session)) {
		kt_counters_print("session", session);
		kt_counters_print("sum of rings", &sum);
		kt_counters_print("region", &reg);
	}
	EXPECT_TRUE(kt_counters_equal(&sum, session));
	EXPECT_TRUE(kt_counters_equal(&reg, session));
}

/*
 * Compare a logged ring entry with what the script made; the first few
 * differences are logged.  Returns 1 if it differs.
 */
static int kt_entry_check(struct kt_env *e, const struct softee_ring_entry *x, uint32_t vcpu,
			  uint32_t seq, uint8_t op, uint8_t len, uint64_t addr, uint64_t data,
			  uint64_t t0, uint64_t t1, int *logged)
{
	const char *what = NULL;

	if (x->seq != seq)
		what = "seq";
	else if (x->op != op)
		what = "op";
	else if (x->bus != e->m.bus)
		what = "bus";
	else if (x->len != len)
		what = "len";
	else if (x->addr != addr)
		what = "addr";
	else if (x->offset != addr - e->m.base)
		what = "offset";
	else if (x->region != e->m.region)
		what = "region";
	else if (x->vcpu != vcpu)
		what = "vcpu";
	else if (x->data != data)
		what = "data";
	else if (op == SOFTEE_OP_WRITE && x->done != ~seq)
		what = "done (a write's is ~seq)";
	else if (x->time_ns < t0 || x->time_ns > t1)
		what = "time_ns";
	else if (x->__pad || x->__reserved)
		what = "reserved fields";
	if (!what)
		return 0;
	if ((*logged)++ < 4)
		fprintf(stderr, "# vCPU %u entry %u: %s differs: seq=%u op=%u bus=%u len=%u "
			"addr=0x%llx offset=0x%llx region=%u vcpu=%u data=0x%llx done=0x%x; "
			"expected seq=%u op=%u len=%u addr=0x%llx data=0x%llx\n",
			vcpu, seq, what, x->seq, x->op, x->bus, x->len,
			(unsigned long long)x->addr, (unsigned long long)x->offset, x->region,
			x->vcpu, (unsigned long long)x->data, x->done, seq, op, len,
			(unsigned long long)addr, (unsigned long long)data);
	return 1;
}

static bool kt_debugfs_exists(uint32_t session_id)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/kernel/debug/softee/%u", session_id);
	return stat(path, &st) == 0;
}

/* ---- the trap path, MMIO and PIO -------------------------------------------- */

FIXTURE(trap) {
	struct kt_env e;
	long stall_was;		/* stall_probe_ms before the test */
};

FIXTURE_VARIANT(trap) {
	uint8_t bus;
};

FIXTURE_VARIANT_ADD(trap, mmio) {
	.bus = SOFTEE_BUS_MMIO,
};

FIXTURE_VARIANT_ADD(trap, pio) {
	.bus = SOFTEE_BUS_PIO,
};

#define KT_REQUIRE_MODULE() do {						\
		if (access(SOFTEE_DEVICE, F_OK))				\
			SKIP(return, "%s: %s (softee.ko not loaded)",		\
			     SOFTEE_DEVICE, strerror(errno));			\
		if (access("/dev/kvm", F_OK))					\
			SKIP(return, "/dev/kvm: %s", strerror(errno));		\
	} while (0)

/* The harness runs a test body after a SKIP in its setup: leave at once. */
#define KT_SKIPPED() (_metadata->skip)

/*
 * A stalled ring lets one read through per stall_probe_ms: so long here
 * that none does, unless a test says otherwise.
 */
#define KT_STALL_PIN_MS	600000

FIXTURE_SETUP(trap)
{
	self->stall_was = -1;
	KT_REQUIRE_MODULE();
	self->stall_was = kt_stall_probe_ms(KT_STALL_PIN_MS);
	ASSERT_LE(0, self->stall_was);
}

FIXTURE_TEARDOWN(trap)
{
	kt_vm_close(&self->e.m);
	if (self->stall_was >= 0)
		kt_stall_probe_ms(self->stall_was);
}

TEST_F(trap, writes_in_order)
{
	struct kt_env *e = &self->e;
	const uint32_t n = 160;
	struct kt_script *sc = &e->sc[0];
	struct softee_counters c;
	uint64_t t0, t1, bytes = 0;
	int bad = 0, logged = 0;
	uint32_t i;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 1, 0, 0, variant->bus, 0));
	for (i = 0; i < n; i++) {
		uint8_t len = kt_size(e->m.bus, i);

		kt_ring_write(sc, e->m.bus, len, e->m.base + kt_off(i, len), kt_answer(99, i, len));
		bytes += len;
	}
	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 1, true, 0, n));
	t0 = kt_now_ns();
	ASSERT_EQ(0, kt_start(e, 0, true));
	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 20000));
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, n, 5000));
	t1 = kt_now_ns();
	kt_consumer_stop(&e->m.c);

	ASSERT_EQ(n, e->m.c.log_n[0]);
	EXPECT_EQ(0, e->m.c.ring_err);
	for (i = 0; i < n; i++) {
		const struct kt_step *s = &sc->steps[i];

		bad += kt_entry_check(e, &e->m.c.log[0][i], 0, i, SOFTEE_OP_WRITE, s->len, s->addr,
				      s->data & kt_mask(s->len), t0, t1, &logged);
		if (i && e->m.c.log[0][i].time_ns < e->m.c.log[0][i - 1].time_ns)
			bad++;
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(n, kt_ring_prod(&e->m.s.rings[0]));

	kt_check_sums(_metadata, e, &c);
	EXPECT_EQ(n, c.writes);
	EXPECT_EQ(bytes, c.write_bytes);
	EXPECT_EQ(0, c.reads);
	EXPECT_EQ(0, c.drops);
	EXPECT_EQ(0, c.ring_full);
	EXPECT_EQ(0, c.no_ring);
}

TEST_F(trap, reads_answered)
{
	struct kt_env *e = &self->e;
	const uint32_t n = 120, err_every = 5;
	struct kt_script *sc = &e->sc[0];
	struct softee_counters c;
	uint64_t t0, t1, rbytes = 0, nerr = 0;
	int bad = 0, logged = 0;
	uint32_t i;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 1, 0, 0, variant->bus, 0));
	/* write, read, write, read...; every 5th entry's read is answered with
	 * a bad status and must read as all ones */
	for (i = 0; i < n; i++) {
		uint8_t len = kt_size(e->m.bus, i / 2);
		uint64_t addr = e->m.base + kt_off(i, len);

		if (i % 2 == 0) {
			kt_ring_write(sc, e->m.bus, len, addr, kt_answer(7, addr, i));
			continue;
		}
		nerr += kt_is_err(err_every, sc->seq);
		rbytes += len;
		kt_ring_read(sc, e->m.bus, len, addr, err_every);
	}
	ASSERT_LT(0, nerr);
	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 1, true, err_every, n));
	t0 = kt_now_ns();
	ASSERT_EQ(0, kt_start(e, 0, true));
	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 20000));
	/* the guest checked every read */
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, n, 5000));
	t1 = kt_now_ns();
	kt_consumer_stop(&e->m.c);

	ASSERT_EQ(n, e->m.c.log_n[0]);
	for (i = 0; i < n; i++) {
		const struct kt_step *s = &sc->steps[i];
		const struct softee_ring_entry *x = &e->m.c.log[0][i];
		bool rd = s->kind == KT_READ;

		/* a read's entry holds the consumer's answer (logged after it) */
		bad += kt_entry_check(e, x, 0, i, rd ? SOFTEE_OP_READ : SOFTEE_OP_WRITE, s->len,
				      s->addr, rd ? kt_answer(0, s->addr, i) : s->data & kt_mask(s->len),
				      t0, t1, &logged);
		if (rd && (x->done != i || x->status != kt_is_err(err_every, i)))
			bad++;
	}
	EXPECT_EQ(0, bad);

	kt_check_sums(_metadata, e, &c);
	EXPECT_EQ(n / 2, c.writes);
	EXPECT_EQ(n / 2, c.reads);
	EXPECT_EQ(rbytes, c.read_bytes);
	EXPECT_EQ(n / 2, c.completions);
	EXPECT_EQ(nerr, c.errors);
	EXPECT_EQ(0, c.timeouts);
	EXPECT_EQ(0, c.aborted);
}

/*
 * A consumer on the vCPU's own CPU: the vCPU's wait hands it the core
 * (ring.c, softee_wait_step) instead of spinning it away.  With spin_us at
 * its ceiling, a wait that kept the core would cost every read a whole
 * spin (1 ms) before the consumer could run.
 */
TEST_F(trap, reads_with_consumer_on_the_same_cpu)
{
	struct kt_env *e = &self->e;
	const uint32_t n = 200;
	struct kt_script *sc = &e->sc[0];
	struct softee_counters c;
	cpu_set_t one, was;
	uint64_t t0, took;
	long spin_was;
	uint32_t i;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 1, 0, KT_LONG_US, variant->bus, 0));
	for (i = 0; i < n; i++)
		kt_ring_read(sc, e->m.bus, 4, e->m.base + kt_off(i, 4), 0);
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(was), &was));
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	/* the vCPU's and the consumer's threads inherit it */
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	spin_was = kt_param("spin_us", 1000);
	ASSERT_LE(0, spin_was);
	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 1, true, 0, n));
	t0 = kt_now_ns();
	ASSERT_EQ(0, kt_start(e, 0, true));
	EXPECT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 20000));
	took = kt_now_ns() - t0;
	EXPECT_TRUE(kt_consumer_wait_seen(&e->m.c, n, 5000));
	kt_consumer_stop(&e->m.c);
	kt_param("spin_us", spin_was);
	sched_setaffinity(0, sizeof(was), &was);

	/* the guest checked every read */
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);
	TH_LOG("%u reads on one CPU: %.1f us each", n, took / 1e3 / n);
	/* a wait that kept the core: a whole spin each, measured on this clock */
	EXPECT_GT(n * 800000ULL, took);
	kt_check_sums(_metadata, e, &c);
	EXPECT_EQ(n, c.reads);
	EXPECT_EQ(n, c.completions);
	EXPECT_EQ(0, c.timeouts);
}

TEST_F(trap, read_timeout)
{
	struct kt_env *e = &self->e;
	/* long enough that nreads timeouts would take longer than one and "promptly" */
	const uint32_t nreads = 6, timeout_us = 500000;
	struct kt_script *sc = &e->sc[0];
	struct softee_counters c;
	uint64_t took, want = (uint64_t)timeout_us * 1000;
	struct softee_ring_entry *x;
	uint32_t old_us = 0, i, flags = 0;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 1, 0, 0, variant->bus, 0));
	ASSERT_EQ(0, softee_set_timeout(e->m.s.fd, timeout_us, &old_us));
	EXPECT_EQ(SOFTEE_TIMEOUT_DEFAULT_US, old_us);

	/*
	 * Nobody consumes: the first read ends at the timeout with all ones,
	 * and stalls the ring; the others end at once, unqueued.
	 */
	kt_sync(sc, 1);
	for (i = 0; i < nreads; i++) {
		uint8_t len = kt_size(e->m.bus, i);

		kt_add(sc, KT_READ, e->m.bus, len, e->m.base + kt_off(i, len), KT_CHECK_EQ, ~0ULL);
	}
	kt_sync(sc, 2);
	/* and the vCPU goes on */
	kt_add(sc, KT_WRITE, e->m.bus, 4, e->m.base, KT_CHECK_NONE, 0x600d);
	ASSERT_EQ(0, kt_start(e, 0, true));
	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 20000));
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);
	EXPECT_EQ(nreads, e->m.vc[0].arg_stage[2]);	/* all-ones reads */

	took = e->m.vc[0].t_stage[2] - e->m.vc[0].t_stage[1];
	TH_LOG("%u reads with a %u us timeout took %.1f ms", nreads, timeout_us, took / 1e6);
	EXPECT_LE(want, took);
	EXPECT_GT(want + KT_PROMPT_NS, took);	/* not one timeout per read */

	kt_check_sums(_metadata, e, &c);
	EXPECT_EQ(1, c.reads);
	EXPECT_EQ(1, c.timeouts);
	EXPECT_EQ(nreads - 1, c.stalled);
	EXPECT_EQ(0, c.completions);
	EXPECT_EQ(0, c.aborted);
	/* a write that finds room is queued on a stalled ring */
	EXPECT_EQ(1, c.writes);
	EXPECT_EQ(0, c.drops);
	EXPECT_EQ(0, kt_ring_stats(e, 0, &c, &flags));
	EXPECT_EQ(SOFTEE_RING_F_STALLED, flags);
	EXPECT_EQ(SOFTEE_RING_F_STALLED, kt_ring_flags(&e->m.s.rings[0]));
	/* in the ring: the first read, unanswered, and the write */
	EXPECT_EQ(2, kt_ring_prod(&e->m.s.rings[0]));
	x = softee_ring_entry_at(&e->m.s.rings[0], 0);
	EXPECT_EQ(SOFTEE_OP_READ, x->op);
	EXPECT_EQ(~0u, x->done);
	x = softee_ring_entry_at(&e->m.s.rings[0], 1);
	EXPECT_EQ(SOFTEE_OP_WRITE, x->op);
	EXPECT_EQ(0x600d, x->data);
}

TEST_F(trap, ring_full)
{
	struct kt_env *e = &self->e;
	/* long enough that six timeouts would take longer than one and "promptly" */
	const uint32_t entries = 8, timeout_us = 500000, ndrop = 4, nfull_reads = 2;
	struct kt_script *sc = &e->sc[0];
	struct softee_counters c;
	uint64_t kept[16], kept_addr[16], took;
	uint32_t nkept = 0, i;
	int bad = 0, logged = 0;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 1, entries, timeout_us, variant->bus, 0));
	ASSERT_EQ(entries, e->m.s.attach.ring_entries);
	ASSERT_EQ(timeout_us, e->m.s.attach.timeout_us);

	kt_sync(sc, 1);
	/* fill the ring; nobody consumes */
	for (i = 0; i < entries; i++) {
		kept_addr[nkept] = e->m.base + 2 * i;
		kept[nkept++] = 0x1000 + i;
		kt_ring_write(sc, e->m.bus, 2, e->m.base + 2 * i, 0x1000 + i);
	}
	/*
	 * The first of these waits for the timeout and is dropped, and stalls
	 * the ring: the others are dropped at once.
	 */
	for (i = 0; i < ndrop; i++)
		kt_add(sc, KT_WRITE, e->m.bus, 2, e->m.base + 0x40, KT_CHECK_NONE, 0xdead);
	/* a read on the stalled ring: all ones at once */
	for (i = 0; i < nfull_reads; i++)
		kt_add(sc, KT_READ, e->m.bus, 4, e->m.base + 0x44, KT_CHECK_EQ, ~0ULL);
	kt_sync(sc, 2);
	/* with a consumer again, everything goes through */
	for (i = 0; i < 3; i++) {
		kept_addr[nkept] = e->m.base + 0x10 + 2 * i;
		kept[nkept++] = 0x2000 + i;
		kt_ring_write(sc, e->m.bus, 2, e->m.base + 0x10 + 2 * i, 0x2000 + i);
	}
	kt_ring_read(sc, e->m.bus, 4, e->m.base + 0x48, 0);

	ASSERT_EQ(0, kt_start(e, 0, false));
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 1, 10000));
	kt_vcpu_release(&e->m.vc[0], 1);
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 2, 10000));
	took = e->m.vc[0].t_stage[2] - e->m.vc[0].t_stage[1];
	TH_LOG("%u accesses on a full ring took %.1f ms", ndrop + nfull_reads, took / 1e6);
	EXPECT_LE((uint64_t)timeout_us * 1000, took);
	EXPECT_GT((uint64_t)timeout_us * 1000 + KT_PROMPT_NS, took);

	kt_check_sums(_metadata, e, &c);
	EXPECT_EQ(entries, c.writes);
	EXPECT_EQ(ndrop, c.drops);
	EXPECT_EQ(1, c.ring_full);		/* only the first waited */
	EXPECT_EQ(nfull_reads, c.stalled);	/* the writes are drops */
	EXPECT_EQ(0, c.timeouts);		/* a write is a drop */
	EXPECT_EQ(0, c.reads);			/* never queued */
	EXPECT_EQ(entries, kt_ring_prod(&e->m.s.rings[0]));
	for (i = 0; i < entries; i++)
		EXPECT_EQ(0x1000 + i, softee_ring_entry_at(&e->m.s.rings[0], i)->data);

	/* drain the full ring before the guest goes on, so it finds room */
	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 1, true, 0, 16));
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, entries, 5000));
	kt_vcpu_release(&e->m.vc[0], 2);
	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 10000));
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, nkept + 1, 5000));
	kt_consumer_stop(&e->m.c);

	/* exactly what was kept, in order, with no gap where the drops were */
	ASSERT_EQ(nkept + 1, e->m.c.log_n[0]);
	for (i = 0; i < nkept; i++)
		bad += kt_entry_check(e, &e->m.c.log[0][i], 0, i, SOFTEE_OP_WRITE, 2,
				      kept_addr[i], kept[i], 0, UINT64_MAX, &logged);
	bad += kt_entry_check(e, &e->m.c.log[0][nkept], 0, nkept, SOFTEE_OP_READ, 4,
			      e->m.base + 0x48, kt_answer(0, e->m.base + 0x48, nkept), 0, UINT64_MAX,
			      &logged);
	EXPECT_EQ(0, bad);

	/* the consumer came back: the ring is not stalled any more */
	kt_check_sums(_metadata, e, &c);
	EXPECT_EQ(nkept, c.writes);
	EXPECT_EQ(1, c.reads);
	EXPECT_EQ(1, c.completions);
	EXPECT_EQ(ndrop, c.drops);
	EXPECT_EQ(1, c.ring_full);
	EXPECT_EQ(nfull_reads, c.stalled);	/* the writes are drops */
	EXPECT_EQ(0, kt_ring_flags(&e->m.s.rings[0]));
}

/*
 * Ring 0 after one timeout and one read that the stall ended at once:
 * stalled still (and, counted in the ring, those two), or over after two
 * more reads were answered.
 */
static void kt_check_stall(struct __test_metadata *_metadata, struct kt_env *e, bool over)
{
	struct softee_counters c;
	uint32_t flags = 0;

	if (over)
		kt_check_sums(_metadata, e, &c);
	ASSERT_EQ(0, kt_ring_stats(e, 0, &c, &flags));
	EXPECT_EQ(over ? 0 : SOFTEE_RING_F_STALLED, flags);
	EXPECT_EQ(flags, kt_ring_flags(&e->m.s.rings[0]));
	EXPECT_EQ(1, c.timeouts);
	EXPECT_EQ(1, c.stalled);
	if (over) {
		EXPECT_EQ(3, c.reads);
		EXPECT_EQ(2, c.completions);
	}
}

/*
 * A stalled ring comes back when its consumer retires an entry: here the
 * write that the stalled ring still queued.
 */
TEST_F(trap, stall_ends_when_consumed)
{
	struct kt_env *e = &self->e;
	const uint32_t timeout_us = 5000;
	struct kt_script *sc = &e->sc[0];
	struct softee_counters c;
	uint64_t took;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 1, 0, timeout_us, variant->bus, 0));
	ASSERT_NE(0, e->m.s.attach.features & SOFTEE_FEAT_STALL);
	kt_sync(sc, 1);
	/* nobody consumes: a timeout, then a read that ends at once */
	kt_add(sc, KT_READ, e->m.bus, 4, e->m.base, KT_CHECK_EQ, ~0ULL);
	sc->seq++;				/* queued, unanswered */
	kt_add(sc, KT_READ, e->m.bus, 4, e->m.base + 4, KT_CHECK_EQ, ~0ULL);
	kt_ring_write(sc, e->m.bus, 4, e->m.base + 8, 0x5a5a);
	kt_sync(sc, 2);
	/* the consumer is back: answered */
	kt_ring_read(sc, e->m.bus, 4, e->m.base + 12, 0);
	kt_ring_read(sc, e->m.bus, 2, e->m.base + 16, 0);

	ASSERT_EQ(0, kt_start(e, 0, false));
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 1, 10000));
	kt_vcpu_release(&e->m.vc[0], 1);
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 2, 10000));
	took = e->m.vc[0].t_stage[2] - e->m.vc[0].t_stage[1];
	TH_LOG("a timeout, a read on the stalled ring and a write took %.1f ms", took / 1e6);
	EXPECT_LE((uint64_t)timeout_us * 1000, took);
	EXPECT_GT((uint64_t)timeout_us * 1000 + KT_PROMPT_NS, took);
	kt_check_stall(_metadata, e, false);
	ASSERT_EQ(0, kt_stats(e, SOFTEE_STATS_RING, 0, &c));
	EXPECT_EQ(1, c.reads);
	EXPECT_EQ(1, c.writes);

	/* the answers must not race a short timeout under TCG */
	ASSERT_EQ(0, softee_set_timeout(e->m.s.fd, KT_LONG_US, NULL));
	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 1, true, 0, 0));
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, 2, 5000));
	kt_vcpu_release(&e->m.vc[0], 2);
	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 10000));
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);
	kt_consumer_stop(&e->m.c);
	kt_check_stall(_metadata, e, true);
}

/*
 * A consumer that took a read and never answered it comes back with
 * nothing left to retire: the stalled ring finds out with the probe, the
 * one read per stall_probe_ms, or per four timeouts if longer, that still
 * waits.
 */
TEST_F(trap, stall_probe)
{
	struct kt_env *e = &self->e;
	/* the consumer takes the read within it; the probe comes in 1 s */
	const uint32_t timeout_us = 250000, probe_ms = 500;
	struct kt_script *sc = &e->sc[0];

	if (KT_SKIPPED())
		return;
	ASSERT_LE(0, kt_stall_probe_ms(probe_ms));
	ASSERT_EQ(0, kt_env_open(e, 1, 0, timeout_us, variant->bus, 0));
	kt_add(sc, KT_READ, e->m.bus, 4, e->m.base, KT_CHECK_EQ, ~0ULL);
	sc->seq++;				/* taken, never answered */
	kt_add(sc, KT_READ, e->m.bus, 4, e->m.base + 4, KT_CHECK_EQ, ~0ULL);
	kt_sync(sc, 1);
	kt_ring_read(sc, e->m.bus, 4, e->m.base + 8, 0);	/* the probe */
	kt_ring_read(sc, e->m.bus, 1, e->m.base + 12, 0);

	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 1, false, 0, 0));
	ASSERT_EQ(0, kt_start(e, 0, false));
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 1, 10000));
	kt_consumer_stop(&e->m.c);
	EXPECT_EQ(1, e->m.c.seen);
	kt_check_stall(_metadata, e, false);

	kt_consumer_free(&e->m.c);
	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 1, true, 0, 0));
	usleep(1500 * 1000);
	kt_vcpu_release(&e->m.vc[0], 1);
	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 10000));
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);
	kt_consumer_stop(&e->m.c);
	kt_check_stall(_metadata, e, true);
}

/* stall_probe_ms=0: no stalling, every read waits its own timeout. */
TEST_F(trap, stall_off)
{
	struct kt_env *e = &self->e;
	const uint32_t nreads = 3, timeout_us = 5000;
	struct kt_script *sc = &e->sc[0];
	struct softee_counters c;
	uint32_t i;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 1, 0, timeout_us, variant->bus, 0));
	for (i = 0; i < nreads; i++)
		kt_add(sc, KT_READ, e->m.bus, 4, e->m.base + 4 * i, KT_CHECK_EQ, ~0ULL);
	ASSERT_LE(0, kt_stall_probe_ms(0));	/* the teardown puts it back */
	ASSERT_EQ(0, kt_start(e, 0, true));
	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 20000));
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);

	kt_check_sums(_metadata, e, &c);
	EXPECT_EQ(nreads, c.reads);
	EXPECT_EQ(nreads, c.timeouts);
	EXPECT_EQ(0, c.stalled);
	EXPECT_EQ(0, kt_ring_flags(&e->m.s.rings[0]));
}

TEST_F(trap, straddle_exits)
{
	struct kt_env *e = &self->e;
	struct kt_script *sc = &e->sc[0];
	struct kt_exits *x = &e->exits;
	const uint64_t rv = 0x0123456789abcdefULL;
	struct {
		uint8_t is_write, len;
		uint64_t off;		/* from the region's base */
	} want[8];
	struct softee_counters c;
	uint32_t nwant = 0, i;
	int64_t off;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 1, 0, 0, variant->bus, 0));
	x->read_value = rv;
	/* user space sees what is not wholly inside the region */
	ASSERT_EQ(0, microvm_add_exit_handler(e->m.vm, e->m.bus, e->m.base - 0x10, e->m.len + 0x20,
					      kt_exit_fn, x));

#define KT_OUT(w, l, o) do {								\
		want[nwant].is_write = (w); want[nwant].len = (l); want[nwant].off = (o);	\
		nwant++;								\
		kt_add(sc, (w) ? KT_WRITE : KT_READ, e->m.bus, (l), e->m.base + (o),	\
		       (w) ? KT_CHECK_NONE : KT_CHECK_EQ, (w) ? 0x5a000000 + (o) : rv);	\
	} while (0)
	/* the last two bytes: the module's */
	kt_ring_write(sc, e->m.bus, 2, e->m.base + e->m.len - 2, 0x4242);
	KT_OUT(1, 4, e->m.len - 2);		/* across the end */
	KT_OUT(0, 4, e->m.len - 2);
	KT_OUT(1, 4, (uint64_t)-2);		/* across the start */
	KT_OUT(0, 2, (uint64_t)-1);
	KT_OUT(1, 1, e->m.len);			/* just past the end */
	if (e->m.bus == SOFTEE_BUS_MMIO) {
		KT_OUT(1, 8, e->m.len - 4);
		KT_OUT(0, 8, e->m.len - 4);
	}
#undef KT_OUT
	kt_ring_read(sc, e->m.bus, 2, e->m.base + e->m.len - 2, 0);

	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 1, true, 0, 16));
	ASSERT_EQ(0, kt_start(e, 0, true));
	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 20000));
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, 2, 5000));
	kt_consumer_stop(&e->m.c);

	ASSERT_EQ(nwant, x->n);
	for (i = 0; i < nwant; i++) {
		off = (int64_t)(x->a[i].addr - e->m.base);
		EXPECT_EQ(e->m.bus, x->a[i].bus);
		EXPECT_EQ(want[i].is_write, x->a[i].is_write);
		EXPECT_EQ(want[i].len, x->a[i].len);
		EXPECT_EQ((int64_t)want[i].off, off);
		if (want[i].is_write)
			EXPECT_EQ((0x5a000000 + want[i].off) & kt_mask(want[i].len), x->a[i].data);
	}
	/* only the two accesses inside went to the ring */
	ASSERT_EQ(2, e->m.c.log_n[0]);
	EXPECT_EQ(SOFTEE_OP_WRITE, e->m.c.log[0][0].op);
	EXPECT_EQ(0x4242, e->m.c.log[0][0].data);
	EXPECT_EQ(SOFTEE_OP_READ, e->m.c.log[0][1].op);
	EXPECT_EQ(e->m.base + e->m.len - 2, e->m.c.log[0][1].addr);
	kt_check_sums(_metadata, e, &c);
	EXPECT_EQ(1, c.writes);
	EXPECT_EQ(1, c.reads);
}

TEST_F(trap, null_region)
{
	struct kt_env *e = &self->e;
	const uint32_t nw = 24, nr = 12;
	struct kt_script *sc = &e->sc[0];
	struct softee_counters c, reg;
	uint64_t wbytes = 0, rbytes = 0;
	uint32_t i;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 1, 0, 0, variant->bus, SOFTEE_REGION_F_NULL));
	ASSERT_NE(0, e->m.s.attach.features & SOFTEE_FEAT_NULL);
	for (i = 0; i < nw; i++) {
		uint8_t len = kt_size(e->m.bus, i);

		kt_add(sc, KT_WRITE, e->m.bus, len, e->m.base + kt_off(i, len), KT_CHECK_NONE, ~0ULL);
		wbytes += len;
	}
	for (i = 0; i < nr; i++) {
		uint8_t len = kt_size(e->m.bus, i);

		kt_add(sc, KT_READ, e->m.bus, len, e->m.base + kt_off(i, len), KT_CHECK_EQ, 0);
		rbytes += len;
	}
	ASSERT_EQ(0, kt_start(e, 0, true));
	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 20000));
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);	/* reads were 0 */

	ASSERT_EQ(0, kt_stats(e, SOFTEE_STATS_REGION, e->m.region, &reg));
	EXPECT_EQ(nw, reg.writes);
	EXPECT_EQ(nr, reg.reads);
	EXPECT_EQ(wbytes, reg.write_bytes);
	EXPECT_EQ(rbytes, reg.read_bytes);
	EXPECT_EQ(0, reg.completions);
	EXPECT_EQ(0, reg.timeouts);
	/* nothing in the ring, nothing counted on it */
	EXPECT_EQ(0, kt_ring_prod(&e->m.s.rings[0]));
	ASSERT_EQ(0, kt_stats(e, SOFTEE_STATS_SESSION, 0, &c));
	EXPECT_EQ(0, c.writes);
	EXPECT_EQ(0, c.reads);
	ASSERT_EQ(0, kt_stats(e, SOFTEE_STATS_RING, 0, &c));
	EXPECT_EQ(0, c.writes + c.reads);
}

TEST_F(trap, several_vcpus)
{
	struct kt_env *e = &self->e;
	const uint32_t nv = 4, n = 40;
	struct softee_counters c;
	int bad = 0, logged = 0;
	uint32_t v, i;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, nv, 0, 0, variant->bus, 0));
	for (v = 0; v < nv; v++) {
		for (i = 0; i < n; i++) {
			uint8_t len = kt_size(e->m.bus, i / 2 + v);
			uint64_t addr = e->m.base + kt_off(i + v, len);

			if (i % 2)
				kt_ring_read(&e->sc[v], e->m.bus, len, addr, 0);
			else
				kt_ring_write(&e->sc[v], e->m.bus, len, addr, kt_answer(100 + v, addr, i));
		}
	}
	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, nv, true, 0, n));
	for (v = 0; v < nv; v++)
		ASSERT_EQ(0, kt_start(e, v, true));
	for (v = 0; v < nv; v++) {
		ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[v], 30000));
		EXPECT_EQ(MICROVM_UCALL_DONE, e->m.vc[v].result) TH_LOG("vCPU %u", v);
	}
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, nv * n, 5000));
	kt_consumer_stop(&e->m.c);

	/* each ring holds its own vCPU's accesses, all of them, in order */
	for (v = 0; v < nv; v++) {
		EXPECT_EQ(n, e->m.c.log_n[v]);
		for (i = 0; i < e->m.c.log_n[v] && i < n; i++) {
			const struct kt_step *s = &e->sc[v].steps[i];
			bool rd = s->kind == KT_READ;

			bad += kt_entry_check(e, &e->m.c.log[v][i], v, i,
					      rd ? SOFTEE_OP_READ : SOFTEE_OP_WRITE, s->len, s->addr,
					      rd ? kt_answer(v, s->addr, i) : s->data & kt_mask(s->len),
					      0, UINT64_MAX, &logged);
		}
	}
	EXPECT_EQ(0, bad);
	kt_check_sums(_metadata, e, &c);
	EXPECT_EQ(nv * n / 2, c.writes);
	EXPECT_EQ(nv * n / 2, c.reads);
	EXPECT_EQ(nv * n / 2, c.completions);
	EXPECT_EQ(0, c.timeouts + c.drops + c.aborted + c.no_ring);
}

TEST_F(trap, vcpu_without_ring)
{
	struct kt_env *e = &self->e;
	struct softee_counters c, sum, reg;
	uint32_t i;

	if (KT_SKIPPED())
		return;
	/* two vCPUs, one ring: vCPU 1's writes are dropped, its reads all ones */
	e->m.nr_rings = 1;
	ASSERT_EQ(0, kt_env_open(e, 2, 0, 0, variant->bus, 0));
	ASSERT_EQ(1, e->m.s.nr_rings);
	kt_ring_write(&e->sc[0], e->m.bus, 4, e->m.base, 0xf00d);
	for (i = 0; i < 3; i++)
		kt_add(&e->sc[1], KT_WRITE, e->m.bus, 2, e->m.base + 2 * i, KT_CHECK_NONE, i);
	for (i = 0; i < 2; i++)
		kt_add(&e->sc[1], KT_READ, e->m.bus, 4, e->m.base + 4 * i, KT_CHECK_EQ, ~0ULL);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, kt_start(e, i, true));
		ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[i], 20000));
		ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[i].result);
	}
	ASSERT_EQ(0, kt_vm_counters(&e->m, &c, &sum, &reg, NULL));
	EXPECT_EQ(5, c.no_ring);
	EXPECT_EQ(5, reg.no_ring);
	EXPECT_EQ(0, sum.no_ring);		/* no ring to count it in */
	EXPECT_EQ(1, c.writes);
	EXPECT_EQ(0, c.reads + c.drops + c.timeouts + c.aborted);
	EXPECT_EQ(1, kt_ring_prod(&e->m.s.rings[0]));
	EXPECT_EQ(0xf00d, softee_ring_entry_at(&e->m.s.rings[0], 0)->data);
}

/* ---- lifetimes -------------------------------------------------------------- */

FIXTURE(life) {
	struct kt_env e;
};

FIXTURE_SETUP(life)
{
	KT_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(life)
{
	kt_vm_close(&self->e.m);
}

TEST_F(life, region_removed_while_waiting)
{
	struct kt_env *e = &self->e;
	struct kt_script *sc = &e->sc[0];
	struct softee_counters c;
	struct softee_stats st;
	uint64_t t0, t_del, took;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 1, 0, KT_LONG_US, SOFTEE_BUS_MMIO, 0));
	e->exits.read_value = 0x77665544;
	ASSERT_EQ(0, microvm_add_exit_handler(e->m.vm, e->m.bus, e->m.base, e->m.len, kt_exit_fn,
					      &e->exits));
	kt_sync(sc, 1);
	kt_add(sc, KT_READ, e->m.bus, 4, e->m.base + 8, KT_CHECK_EQ, ~0ULL);	/* nobody answers */
	kt_sync(sc, 2);
	/* the range is the VMM's again */
	kt_add(sc, KT_READ, e->m.bus, 4, e->m.base + 8, KT_CHECK_EQ, 0x77665544);
	kt_add(sc, KT_WRITE, e->m.bus, 2, e->m.base + 0x10, KT_CHECK_NONE, 0xbeef);

	ASSERT_EQ(0, kt_start(e, 0, true));
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 1, 10000));
	/* the read is queued: the vCPU waits on it */
	ASSERT_TRUE(kt_wait_prod(&e->m.s.rings[0], 1, 10000));
	usleep(50000);
	EXPECT_FALSE(kt_vcpu_wait_stage(&e->m.vc[0], 2, 0));

	t0 = kt_now_ns();
	ASSERT_EQ(0, softee_region_del(e->m.s.fd, e->m.region));
	t_del = kt_now_ns() - t0;
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 2, 10000));
	took = e->m.vc[0].t_stage[2] - t0;
	TH_LOG("REGION_DEL took %.1f ms, the read ended %.1f ms after it began",
	       t_del / 1e6, took / 1e6);
	EXPECT_GT(KT_PROMPT_NS, t_del);
	EXPECT_GT(KT_PROMPT_NS, took);
	EXPECT_EQ(1, e->m.vc[0].arg_stage[2]);	/* all ones */

	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 10000));
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);
	/* later accesses exited to user space, and left the ring alone */
	ASSERT_EQ(2, e->exits.n);
	EXPECT_EQ(0, e->exits.a[0].is_write);
	EXPECT_EQ(e->m.base + 8, e->exits.a[0].addr);
	EXPECT_EQ(1, e->exits.a[1].is_write);
	EXPECT_EQ(0xbeef, e->exits.a[1].data);
	EXPECT_EQ(1, kt_ring_prod(&e->m.s.rings[0]));

	ASSERT_EQ(0, kt_stats(e, SOFTEE_STATS_SESSION, 0, &c));
	EXPECT_EQ(1, c.reads);
	EXPECT_EQ(1, c.aborted);
	EXPECT_EQ(0, c.timeouts);
	EXPECT_EQ(0, c.completions);
	EXPECT_EQ(-ENOENT, __softee_get_stats(e->m.s.fd, SOFTEE_STATS_REGION, e->m.region, &st));
}

TEST_F(life, session_closed_while_waiting)
{
	struct kt_env *e = &self->e;
	struct kt_script *sc = &e->sc[0];
	uint32_t id;
	uint64_t t0, took;
	void *map;
	size_t bytes;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 1, 0, KT_LONG_US, SOFTEE_BUS_MMIO, 0));
	id = e->m.s.attach.session_id;
	kt_sync(sc, 1);
	kt_add(sc, KT_READ, e->m.bus, 8, e->m.base, KT_CHECK_EQ, ~0ULL);
	kt_sync(sc, 2);

	ASSERT_EQ(0, kt_start(e, 0, true));
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 1, 10000));
	ASSERT_TRUE(kt_wait_prod(&e->m.s.rings[0], 1, 10000));

	/* the fd alone: the mapping still holds the session, the read waits */
	map = e->m.s.map;
	bytes = e->m.s.attach.mmap_bytes;
	e->m.s.map = NULL;
	softee_session_close(&e->m.s);
	e->m.have_s = false;
	EXPECT_FALSE(kt_vcpu_wait_stage(&e->m.vc[0], 2, 300));
	EXPECT_TRUE(kt_debugfs_exists(id) || access("/sys/kernel/debug/softee", F_OK));

	/* the last reference: the read ends at once with all ones */
	t0 = kt_now_ns();
	ASSERT_EQ(0, munmap(map, bytes));
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 2, 10000));
	took = e->m.vc[0].t_stage[2] - t0;
	TH_LOG("the read ended %.1f ms after the last unmap", took / 1e6);
	EXPECT_GT(KT_PROMPT_NS, took);
	EXPECT_EQ(1, e->m.vc[0].arg_stage[2]);
	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 10000));
	EXPECT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);
	EXPECT_FALSE(kt_debugfs_exists(id));
}

TEST_F(life, munmap_during_traffic)
{
	struct kt_env *e = &self->e;
	struct kt_script *sc = &e->sc[0];
	const uint32_t n1 = 40, n2 = 80;
	struct softee_counters c;
	struct softee_ring r;
	uint64_t ones;
	void *map;
	uint32_t i;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 1, 0, 5000, SOFTEE_BUS_MMIO, 0));
	for (i = 0; i < n1; i++) {
		if (i % 2)
			kt_ring_read(sc, e->m.bus, 4, e->m.base + 4 * (i % 16), 0);
		else
			kt_ring_write(sc, e->m.bus, 4, e->m.base + 4 * (i % 16), i);
	}
	kt_sync(sc, 1);
	/* the rings go away somewhere in here: answered, then all ones */
	for (i = 0; i < n2; i++) {
		uint64_t addr = e->m.base + 8 * (i % 16);

		kt_add(sc, KT_READ, e->m.bus, 8, addr, KT_CHECK_EQ_OR_ONES,
		       kt_answer(0, addr, sc->seq++));
	}
	kt_sync(sc, 2);

	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 1, true, 0, 0));
	ASSERT_EQ(0, kt_start(e, 0, true));
	ASSERT_TRUE(kt_vcpu_wait_stage(&e->m.vc[0], 1, 20000));
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, n1 + 4, 10000));
	kt_consumer_stop(&e->m.c);
	ASSERT_EQ(0, munmap(e->m.s.map, e->m.s.attach.mmap_bytes));
	e->m.s.map = NULL;

	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 20000));
	/* no read got anything but its answer or all ones */
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);
	ones = e->m.vc[0].arg_stage[2];
	TH_LOG("%" PRIu64 " of %u reads timed out after the unmap", ones, n2);
	EXPECT_LT(0, ones);

	/*
	 * The fd still works, and of the reads nobody answered, the first
	 * timed out and stalled the ring, and the others ended at once.
	 */
	ASSERT_EQ(0, kt_stats(e, SOFTEE_STATS_SESSION, 0, &c));
	EXPECT_LE(1, c.timeouts);
	EXPECT_EQ(ones, c.timeouts + c.stalled);
	EXPECT_EQ(n1 / 2 + n2, c.reads + c.stalled);
	EXPECT_EQ(c.reads, c.completions + c.timeouts);
	/* and a new mapping shows the same rings */
	map = mmap(NULL, e->m.s.attach.ring_bytes, PROT_READ, MAP_SHARED, e->m.s.fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, softee_ring_init(&r, map, e->m.s.attach.ring_bytes, &e->m.s.attach.ring_off));
	EXPECT_EQ(n1 + n2 - c.stalled, kt_ring_prod(&r));
	munmap(map, e->m.s.attach.ring_bytes);
}

/* Guest traffic that never ends: write, read, again. */
static void kt_forever(struct kt_env *e, uint32_t vcpu)
{
	struct kt_script *sc = &e->sc[vcpu];

	kt_add(sc, KT_WRITE, e->m.bus, 4, e->m.base + 4 * vcpu, KT_CHECK_NONE, 0x1000 + vcpu);
	kt_add(sc, KT_READ, e->m.bus, 4, e->m.base + 0x20 + 4 * vcpu, KT_CHECK_NONE, 0);
	kt_add(sc, KT_JUMP, 0, 0, 0, KT_CHECK_NONE, 0);
}

TEST_F(life, vm_exit_during_traffic)
{
	struct kt_env *e = &self->e;
	struct softee_counters c1, c2;
	uint32_t v, id;
	uint64_t seen;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 2, 0, 20000, SOFTEE_BUS_MMIO, 0));
	for (v = 0; v < 2; v++)
		kt_forever(e, v);
	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 2, true, 0, 0));
	for (v = 0; v < 2; v++)
		ASSERT_EQ(0, kt_start(e, v, true));
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, 60, 20000));

	/* the VMM goes: vCPU threads stopped, VM and vCPU fds closed */
	for (v = 0; v < 2; v++) {
		kt_vcpu_stop(&e->m.vc[v]);
		EXPECT_EQ(-EINTR, e->m.vc[v].result);
	}
	microvm_destroy(e->m.vm);
	e->m.vm = NULL;

	/* the session still works and nothing moves any more */
	ASSERT_EQ(0, kt_stats(e, SOFTEE_STATS_SESSION, 0, &c1));
	EXPECT_LT(20, c1.writes);
	usleep(100000);
	seen = __atomic_load_n(&e->m.c.seen, __ATOMIC_ACQUIRE);
	EXPECT_EQ(c1.writes + c1.reads, seen);
	ASSERT_EQ(0, kt_stats(e, SOFTEE_STATS_SESSION, 0, &c2));
	EXPECT_TRUE(kt_counters_equal(&c1, &c2));
	EXPECT_EQ(0, softee_region_del(e->m.s.fd, e->m.region));
	EXPECT_EQ(0, softee_region_add(e->m.s.fd, SOFTEE_BUS_PIO, 0x6000, 8, 0, &id));
	/* then the session closes (teardown): the VM's last reference */
}

TEST_F(life, session_closed_during_traffic)
{
	struct kt_env *e = &self->e;
	uint32_t v;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 2, 0, 20000, SOFTEE_BUS_MMIO, 0));
	/* after the close the VMM handles the range */
	ASSERT_EQ(0, microvm_add_exit_handler(e->m.vm, e->m.bus, e->m.base, e->m.len, kt_exit_fn,
					      &e->exits));
	for (v = 0; v < 2; v++)
		kt_forever(e, v);
	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 2, true, 0, 0));
	for (v = 0; v < 2; v++)
		ASSERT_EQ(0, kt_start(e, v, true));
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, 60, 20000));
	kt_consumer_stop(&e->m.c);
	softee_session_close(&e->m.s);
	e->m.have_s = false;
	/* the guests go on, through exits now; the log holds the first 64 */
	for (v = 0; v < 2; v++) {
		EXPECT_FALSE(kt_vcpu_wait_done(&e->m.vc[v], 200));
		kt_vcpu_stop(&e->m.vc[v]);
	}
	EXPECT_LT(0, __atomic_load_n(&e->exits.n, __ATOMIC_RELAXED));
}

/* fd over a unix socket (SCM_RIGHTS); 0 or -1. */
static int kt_send_fd(int sock, int fd)
{
	char buf[CMSG_SPACE(sizeof(int))] = { 0 }, ch = 'f';
	struct iovec iov = { .iov_base = &ch, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = buf, .msg_controllen = sizeof(buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

/* The fd kt_send_fd sent, or -1. */
static int kt_recv_fd(int sock)
{
	char buf[CMSG_SPACE(sizeof(int))] = { 0 }, ch;
	struct iovec iov = { .iov_base = &ch, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = buf, .msg_controllen = sizeof(buf) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * A VMM killed while its vCPU waits on a read: the read ends at once (all
 * ones to the vCPU, counted as aborted, not as a timeout).  The session
 * goes to this process first, so that its counters outlive the VMM.
 */
TEST_F(life, fatal_signal_while_waiting)
{
	struct kt_env *e = &self->e;
	struct softee_stats st;
	uint64_t t0, took;
	int sp[2], wst, fd;
	struct pollfd p;
	pid_t pid;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* a VMM whose vCPU waits on a read nobody answers */
		close(sp[0]);
		if (kt_env_open(e, 1, 0, KT_LONG_US, SOFTEE_BUS_MMIO, 0))
			_exit(2);
		kt_add(&e->sc[0], KT_READ, e->m.bus, 4, e->m.base, KT_CHECK_NONE, 0);
		if (kt_start(e, 0, true) || !kt_wait_prod(&e->m.s.rings[0], 1, 10000))
			_exit(3);
		if (kt_send_fd(sp[1], e->m.s.fd))
			_exit(4);
		for (;;)
			pause();
	}
	close(sp[1]);
	p.fd = sp[0];
	p.events = POLLIN;
	ASSERT_EQ(1, poll(&p, 1, 20000));
	fd = kt_recv_fd(sp[0]);
	close(sp[0]);
	ASSERT_LE(0, fd);
	usleep(20000);
	t0 = kt_now_ns();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &wst, 0));
	took = kt_now_ns() - t0;
	TH_LOG("the killed VMM was gone %.1f ms later", took / 1e6);
	EXPECT_TRUE(WIFSIGNALED(wst));
	EXPECT_GT(KT_PROMPT_NS, took);

	ASSERT_EQ(0, softee_get_stats(fd, SOFTEE_STATS_SESSION, 0, &st));
	TH_LOG("reads=%llu aborted=%llu timeouts=%llu", (unsigned long long)st.c.reads,
	       (unsigned long long)st.c.aborted, (unsigned long long)st.c.timeouts);
	EXPECT_EQ(1, st.c.reads);
	EXPECT_EQ(1, st.c.aborted);
	EXPECT_EQ(0, st.c.timeouts);
	close(fd);
}

/* "name=value" pairs after the label of a line of the debugfs file. */
static int kt_parse_counters(const char *line, struct softee_counters *c)
{
	static const char *const names[] = {
		"writes", "reads", "write_bytes", "read_bytes", "completions", "errors",
		"timeouts", "ring_full", "drops", "corrupt", "aborted", "no_ring",
		"cfg_reads", "cfg_writes", "cfg_declined", "stalled",
	};
	uint64_t *v = (uint64_t *)c;
	const char *p;
	size_t i, found = 0;
	char key[32];

	memset(c, 0, sizeof(*c));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(key, sizeof(key), " %s=", names[i]);
		p = strstr(line, key);
		if (!p)
			continue;
		v[i] = strtoull(p + strlen(key), NULL, 10);
		found++;
	}
	return (int)found;
}

TEST_F(life, debugfs_stats)
{
	struct kt_env *e = &self->e;
	struct kt_script *sc = &e->sc[0];
	struct softee_counters c, f;
	char path[96], line[1024], head[64];
	bool saw_session = false, saw_ring = false, saw_region = false;
	uint32_t id, i;
	FILE *fp;

	if (KT_SKIPPED())
		return;
	ASSERT_EQ(0, kt_env_open(e, 1, 0, 0, SOFTEE_BUS_MMIO, 0));
	if (!(e->m.s.attach.features & SOFTEE_FEAT_DEBUGFS))
		SKIP(return, "the module has no debugfs view (SOFTEE_FEAT_DEBUGFS)");
	id = e->m.s.attach.session_id;
	for (i = 0; i < 10; i++)
		kt_ring_write(sc, e->m.bus, 4, e->m.base + 4 * i, i);
	for (i = 0; i < 5; i++)
		kt_ring_read(sc, e->m.bus, 2, e->m.base + 2 * i, 3);
	ASSERT_EQ(0, kt_consumer_start(&e->m.c, e->m.s.rings, 1, true, 3, 0));
	ASSERT_EQ(0, kt_start(e, 0, true));
	ASSERT_TRUE(kt_vcpu_wait_done(&e->m.vc[0], 20000));
	ASSERT_EQ(MICROVM_UCALL_DONE, e->m.vc[0].result);
	ASSERT_TRUE(kt_consumer_wait_seen(&e->m.c, 15, 5000));

	snprintf(path, sizeof(path), "/sys/kernel/debug/softee/%u/stats", id);
	fp = fopen(path, "r");
	ASSERT_NE(NULL, fp) TH_LOG("%s: %s", path, strerror(errno));
	snprintf(head, sizeof(head), "session %u: rings=1 ", id);
	while (fgets(line, sizeof(line), fp)) {
		fprintf(stderr, "# %s", line);
		if (!strncmp(line, "session:", 8)) {
			saw_session = true;
			ASSERT_EQ(16, kt_parse_counters(line, &f));
			ASSERT_EQ(0, kt_stats(e, SOFTEE_STATS_SESSION, 0, &c));
		} else if (!strncmp(line, "ring 0 ", 7)) {
			saw_ring = true;
			ASSERT_EQ(16, kt_parse_counters(line, &f));
			ASSERT_EQ(0, kt_stats(e, SOFTEE_STATS_RING, 0, &c));
		} else if (!strncmp(line, "region 0 mmio 0xc0000080+0x100:", 31)) {
			saw_region = true;
			ASSERT_EQ(16, kt_parse_counters(line, &f));
			ASSERT_EQ(0, kt_stats(e, SOFTEE_STATS_REGION, e->m.region, &c));
		} else {
			EXPECT_EQ(0, strncmp(line, head, strlen(head))) TH_LOG("line: %s", line);
			continue;
		}
		EXPECT_EQ(10, f.writes);
		EXPECT_EQ(5, f.reads);
		EXPECT_EQ(2, f.errors);
		EXPECT_TRUE(kt_counters_equal(&c, &f));
	}
	fclose(fp);
	EXPECT_TRUE(saw_session);
	EXPECT_TRUE(saw_ring);
	EXPECT_TRUE(saw_region);

	kt_consumer_stop(&e->m.c);
	softee_session_close(&e->m.s);
	e->m.have_s = false;
	EXPECT_FALSE(kt_debugfs_exists(id));
}

TEST_HARNESS_MAIN
