// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile consumer: softee.ko must survive user space writing anything
 * into its rings while a guest traps through them (STYLE.md 9-11).
 *
 *  targeted.*  one bad index, exactly: cons one past prod, or one entry too
 *              far behind, breaks the ring (SOFTEE_RING_F_CORRUPT, counted
 *              once, logged once, reads all ones at once, the ring stays
 *              off); cons exactly a ring behind is a full ring, not a
 *              corrupt one.
 *  hostile.*   a forked process maps the rings and writes seeded random
 *              values into every field of every ring (cons, prod, flags,
 *              every entry field) while two vCPUs write and read: the guest
 *              finishes, every access is accounted for exactly once, the
 *              rings end up corrupt and switched off, and the kernel log
 *              has no warning (vm-run checks the whole log too).
 *
 * Needs softee.ko and /dev/kvm (runs in the test VM).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kmod_util.h"

#define KH_MMIO_BASE	0xc0000000ULL
#define KH_PIO_BASE	0x5000ULL
#define KH_LEN		0x100ULL

/* Guest code, kmod_hostile_guest.c. */
void kh_guest_traffic(uint64_t base, uint64_t bus, uint64_t count, uint64_t phases);
void kh_guest_targeted(uint64_t base, uint64_t bus, uint64_t nreads);

#define KH_REQUIRE_MODULE() do {						\
		if (access(SOFTEE_DEVICE, F_OK))				\
			SKIP(return, "%s: %s (softee.ko not loaded)",		\
			     SOFTEE_DEVICE, strerror(errno));			\
		if (access("/dev/kvm", F_OK))					\
			SKIP(return, "/dev/kvm: %s", strerror(errno));		\
	} while (0)

/* Lines of the kernel log that say something went wrong in the kernel. */
static int kh_kernel_complaints(void)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "Oops", "Call Trace", "general protection",
		"soft lockup", "rcu_sched self-detected stall",
	};
	unsigned int i;
	int n = 0, c;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = kt_kmsg_count(bad[i]);
		n += c > 0 ? c : 0;
	}
	return n;
}

/* How often the module said it switched this ring off, so far. */
static int kh_corrupt_reports(uint32_t session_id, uint32_t ring)
{
	char needle[64];

	snprintf(needle, sizeof(needle), "softee: session %u ring %u: ", session_id, ring);
	return kt_kmsg_count(needle);
}

static void kh_set_cons(struct softee_ring *r, uint32_t cons)
{
	__atomic_store_n(r->cons, cons, __ATOMIC_RELEASE);
}

/* ---- one bad index ---------------------------------------------------------- */

FIXTURE(targeted) {
	struct kt_vm m;
};

FIXTURE_VARIANT(targeted) {
	int32_t delta;		/* cons = prod + delta */
	bool corrupt;		/* ... breaks the ring */
	uint32_t timeout_us;
};

#define KH_ENTRIES	8

FIXTURE_VARIANT_ADD(targeted, cons_past_prod) {
	.delta = 1, .corrupt = true, .timeout_us = 2000000,
};

FIXTURE_VARIANT_ADD(targeted, cons_too_far_behind) {
	.delta = -(KH_ENTRIES + 1), .corrupt = true, .timeout_us = 2000000,
};

FIXTURE_VARIANT_ADD(targeted, cons_a_ring_behind) {
	.delta = -KH_ENTRIES, .corrupt = false, .timeout_us = 2000000,
};

FIXTURE_SETUP(targeted)
{
	KH_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(targeted)
{
	kt_vm_close(&self->m);
}

TEST_F(targeted, bad_cons)
{
	const uint32_t nreads = 5;
	struct kt_vm *m = &self->m;
	struct kt_vcpu *kv = &m->vc[0];
	struct softee_counters c, sum, reg;
	uint64_t took, timeout_ns = (uint64_t)variant->timeout_us * 1000;
	struct softee_ring *r;
	uint32_t flags, id;
	int reports0, complaints0;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, kt_vm_open(m, 1, 0, KH_ENTRIES, variant->timeout_us, SOFTEE_BUS_MMIO,
				KH_MMIO_BASE, KH_LEN, 0));
	r = &m->s.rings[0];
	id = m->s.attach.session_id;
	reports0 = kh_corrupt_reports(id, 0);
	complaints0 = kh_kernel_complaints();

	ASSERT_EQ(0, kt_vcpu_start(kv, microvm_vcpu(m->vm, 0), kh_guest_targeted, 3,
				   m->base, m->bus, nreads, 0));
	ASSERT_TRUE(kt_vcpu_wait_stage(kv, 1, 10000));
	ASSERT_EQ(3, kt_ring_prod(r));
	kh_set_cons(r, 3 + variant->delta);
	kt_vcpu_release(kv, 1);
	ASSERT_TRUE(kt_vcpu_wait_stage(kv, 2, 10000));
	kt_vcpu_release(kv, 2);
	ASSERT_TRUE(kt_vcpu_wait_stage(kv, 3, 20000));
	took = kv->t_stage[3] - kv->t_stage[2];
	TH_LOG("%u reads took %.1f ms (timeout %u us)", nreads, took / 1e6, variant->timeout_us);

	ASSERT_EQ(0, kt_vm_counters(m, &c, &sum, &reg, &flags));
	EXPECT_TRUE(kt_counters_equal(&c, &sum));
	EXPECT_TRUE(kt_counters_equal(&c, &reg));
	EXPECT_EQ(3, c.writes);
	EXPECT_EQ(0, c.reads);
	EXPECT_EQ(1, c.drops);			/* the write after the change */
	EXPECT_EQ(3, kt_ring_prod(r));		/* nothing published since */
	if (variant->corrupt) {
		/* all ones at once: the five reads took less than one timeout */
		EXPECT_GT(timeout_ns, took);
		EXPECT_EQ(1, c.corrupt);
		EXPECT_EQ(nreads, c.aborted);
		EXPECT_EQ(0, c.timeouts);
		EXPECT_EQ(0, c.ring_full);
		EXPECT_NE(0, flags & SOFTEE_RING_F_CORRUPT);
		EXPECT_NE(0, kt_ring_flags(r) & SOFTEE_RING_F_CORRUPT);
		EXPECT_EQ(1, kh_corrupt_reports(id, 0) - reports0);
	} else {
		/*
		 * A full ring: the write waited for the timeout and stalled
		 * the ring, and the reads ended at once.
		 */
		EXPECT_GT(timeout_ns, took);
		EXPECT_EQ(0, c.corrupt);
		EXPECT_EQ(0, c.timeouts);
		EXPECT_EQ(1, c.ring_full);
		EXPECT_EQ(nreads, c.stalled);
		EXPECT_EQ(0, c.aborted);
		EXPECT_EQ(0, flags & SOFTEE_RING_F_CORRUPT);
		EXPECT_NE(0, flags & SOFTEE_RING_F_STALLED);
		EXPECT_EQ(0, kh_corrupt_reports(id, 0) - reports0);
	}

	/* cons right again: a broken ring stays off, a full one works again */
	kh_set_cons(r, 3);
	kt_vcpu_release(kv, 3);
	ASSERT_TRUE(kt_vcpu_wait_stage(kv, 4, 20000));
	kt_vcpu_release(kv, 4);
	ASSERT_TRUE(kt_vcpu_wait_done(kv, 10000));
	ASSERT_EQ(MICROVM_UCALL_DONE, kv->result);
	ASSERT_EQ(0, kt_vm_counters(m, &c, &sum, &reg, &flags));
	if (variant->corrupt) {
		EXPECT_EQ(1, c.corrupt);		/* counted once */
		EXPECT_EQ(3, c.writes);
		EXPECT_EQ(2, c.drops);
		EXPECT_EQ(nreads + 1, c.aborted);
		EXPECT_EQ(3, kt_ring_prod(r));
		EXPECT_EQ(1, kh_corrupt_reports(id, 0) - reports0);	/* said once */
	} else {
		EXPECT_EQ(0, c.corrupt);
		EXPECT_EQ(4, c.writes);
		EXPECT_EQ(1, c.reads);
		EXPECT_EQ(1, c.timeouts);		/* nobody answered it */
		EXPECT_EQ(nreads, c.stalled);
		EXPECT_EQ(5, kt_ring_prod(r));
	}
	EXPECT_EQ(0, kh_kernel_complaints() - complaints0);
}

/* ---- random values everywhere ----------------------------------------------- */

enum { KH_PLAUSIBLE, KH_CHAOS };

/* Between the test and its hostile child. */
struct kh_shared {
	int mode;			/* KH_* */
	int stop;
	uint64_t sweeps[2];		/* over every ring, per mode */
	uint32_t saw_corrupt[KT_MAX_VCPUS];	/* SOFTEE_RING_F_CORRUPT seen */
};

static uint64_t kh_rand(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

#define KH_W32(p, v) __atomic_store_n((uint32_t *)(p), (uint32_t)(v), __ATOMIC_RELAXED)
#define KH_W64(p, v) __atomic_store_n((uint64_t *)(p), (uint64_t)(v), __ATOMIC_RELAXED)

/*
 * One pass over a ring.  The flags word gets random bits, except that the
 * kernel's SOFTEE_RING_F_CORRUPT is neither set nor cleared (two atomic
 * operations, so a bit the kernel sets in between survives): whoever sees
 * it knows the kernel set it.
 *
 * KH_CHAOS: every other 32-bit word of the ring gets a random value.
 * KH_PLAUSIBLE: values that look right, so the kernel keeps using the ring
 * and takes garbage completions: cons somewhere in [prod - entries, prod],
 * each entry's done = its seq half of the time with random data and
 * status, random op/bus/len/region/addr/offset/vcpu/time; prod and seq are
 * left alone.
 */
static void kh_scribble(uint8_t *ring, const struct softee_attach *a, int mode,
			uint64_t *rng, uint32_t *saw_corrupt)
{
	const struct softee_ring_offsets *o = &a->ring_off;
	uint32_t *flags = (uint32_t *)(ring + o->flags), prod, seq, i;
	struct softee_ring_entry *e;

	if (__atomic_load_n(flags, __ATOMIC_ACQUIRE) & SOFTEE_RING_F_CORRUPT)
		*saw_corrupt = 1;
	__atomic_fetch_and(flags, SOFTEE_RING_F_CORRUPT, __ATOMIC_RELAXED);
	__atomic_fetch_or(flags, (uint32_t)kh_rand(rng) & ~SOFTEE_RING_F_CORRUPT,
			  __ATOMIC_RELAXED);

	if (mode == KH_CHAOS) {
		for (i = 0; i < a->ring_bytes / 4; i++)
			if (i * 4 != o->flags)
				KH_W32(ring + 4 * i, kh_rand(rng));
		return;
	}
	prod = __atomic_load_n((uint32_t *)(ring + o->prod), __ATOMIC_ACQUIRE);
	for (i = 0; i < o->entries / 4; i++)	/* the padding of both header lines */
		if (i * 4 != o->prod && i * 4 != o->flags && i * 4 != o->cons)
			KH_W32(ring + 4 * i, kh_rand(rng));
	KH_W32(ring + o->cons, prod - kh_rand(rng) % (o->ring_entries + 1));
	for (i = 0; i < o->ring_entries; i++) {
		e = (struct softee_ring_entry *)(ring + o->entries + (size_t)i * o->entry_size);
		seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
		KH_W32(&e->op, kh_rand(rng));	/* op, bus, len, __pad */
		KH_W32(&e->region, kh_rand(rng));
		KH_W64(&e->addr, kh_rand(rng));
		KH_W64(&e->offset, kh_rand(rng));
		KH_W64(&e->data, kh_rand(rng));
		KH_W32(&e->status, kh_rand(rng) % 4 ? 0 : kh_rand(rng));
		KH_W32(&e->vcpu, kh_rand(rng));
		KH_W64(&e->time_ns, kh_rand(rng));
		KH_W64(&e->__reserved, kh_rand(rng));
		__atomic_store_n(&e->done, kh_rand(rng) % 2 ? seq : (uint32_t)kh_rand(rng),
				 __ATOMIC_RELEASE);
	}
}

/* The hostile child: its own mapping of the rings, until told to stop. */
static int kh_hostile(struct kh_shared *sh, int session_fd, const struct softee_attach *a,
		      uint64_t seed)
{
	uint64_t rng = seed;
	uint8_t *map;
	uint32_t i;
	int mode;

	map = mmap(NULL, a->mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, session_fd,
		   SOFTEE_OFF_RINGS);
	if (map == MAP_FAILED)
		return 1;
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		mode = __atomic_load_n(&sh->mode, __ATOMIC_ACQUIRE);
		for (i = 0; i < a->nr_rings; i++)
			kh_scribble(map + (size_t)i * a->ring_bytes, a, mode, &rng,
				    &sh->saw_corrupt[i]);
		__atomic_fetch_add(&sh->sweeps[mode], 1, __ATOMIC_RELEASE);
	}
	munmap(map, a->mmap_bytes);
	return 0;
}

FIXTURE(hostile) {
	struct kt_vm m;
	struct kh_shared *sh;
	pid_t child;
};

FIXTURE_VARIANT(hostile) {
	uint8_t bus;
	uint64_t base;
	uint64_t seed;
};

FIXTURE_VARIANT_ADD(hostile, mmio) {
	.bus = SOFTEE_BUS_MMIO, .base = KH_MMIO_BASE, .seed = 0x50f7ee0000000001ULL,
};

FIXTURE_VARIANT_ADD(hostile, pio) {
	.bus = SOFTEE_BUS_PIO, .base = KH_PIO_BASE, .seed = 0x50f7ee0000000002ULL,
};

FIXTURE_SETUP(hostile)
{
	KH_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(hostile)
{
	int st;

	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, &st, 0);
	}
	kt_vm_close(&self->m);
	if (self->sh)
		munmap(self->sh, sizeof(*self->sh));
}

TEST_F_TIMEOUT(hostile, random_everywhere, 60)
{
	const uint32_t nv = 2, count = 150, entries = 16;
	struct kt_vm *m = &self->m;
	struct softee_counters c, sum, reg, ring;
	struct softee_stats st;
	uint32_t flags[KT_MAX_VCPUS], id, v;
	int reports0[KT_MAX_VCPUS], complaints0, status;
	uint64_t t0;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, kt_vm_open(m, nv, 0, entries, 1000, variant->bus, variant->base, KH_LEN, 0));
	id = m->s.attach.session_id;
	for (v = 0; v < nv; v++)
		reports0[v] = kh_corrupt_reports(id, v);
	complaints0 = kh_kernel_complaints();
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);

	/* before any thread of ours exists */
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0)
		_exit(kh_hostile(self->sh, m->s.fd, &m->s.attach, variant->seed));

	t0 = kt_now_ns();
	for (v = 0; v < nv; v++)
		ASSERT_EQ(0, kt_vcpu_start(&m->vc[v], microvm_vcpu(m->vm, v), kh_guest_traffic, 4,
					   m->base, m->bus, count, 2));
	/* phase 1 under plausible garbage; then every word random */
	for (v = 0; v < nv; v++)
		ASSERT_TRUE(kt_vcpu_wait_stage(&m->vc[v], 1, 30000)) TH_LOG("vCPU %u", v);
	__atomic_store_n(&self->sh->mode, KH_CHAOS, __ATOMIC_RELEASE);
	while (__atomic_load_n(&self->sh->sweeps[KH_CHAOS], __ATOMIC_ACQUIRE) < 2) {
		ASSERT_GT(t0 + 30000000000ULL, kt_now_ns());
		usleep(1000);
	}
	for (v = 0; v < nv; v++)
		kt_vcpu_release(&m->vc[v], 2);
	/* no hung vCPU: the guests finish */
	for (v = 0; v < nv; v++) {
		ASSERT_TRUE(kt_vcpu_wait_done(&m->vc[v], 30000)) TH_LOG("vCPU %u", v);
		EXPECT_EQ(MICROVM_UCALL_DONE, m->vc[v].result);
	}
	TH_LOG("guests done after %.1f ms; %" PRIu64 " plausible and %" PRIu64 " random sweeps",
	       (kt_now_ns() - t0) / 1e6, self->sh->sweeps[KH_PLAUSIBLE],
	       self->sh->sweeps[KH_CHAOS]);
	__atomic_store_n(&self->sh->stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	ASSERT_EQ(0, kt_vm_counters(m, &c, &sum, &reg, flags));
	kt_counters_print("session", &c);
	EXPECT_TRUE(kt_counters_equal(&c, &sum));
	EXPECT_TRUE(kt_counters_equal(&c, &reg));
	/* every guest access is accounted for exactly once */
	EXPECT_EQ((uint64_t)nv * count * 2, c.writes + c.drops);
	EXPECT_EQ((uint64_t)nv * count * 2, c.completions + c.timeouts + c.aborted + c.stalled);
	EXPECT_LE(c.errors, c.completions);
	EXPECT_EQ(0, c.no_ring);
	/* each ring was found corrupt once, said so once, and stays off */
	EXPECT_EQ(nv, c.corrupt);
	for (v = 0; v < nv; v++) {
		ASSERT_EQ(0, softee_get_stats(m->s.fd, SOFTEE_STATS_RING, v, &st));
		ring = st.c;
		EXPECT_EQ(1, ring.corrupt) TH_LOG("ring %u", v);
		EXPECT_NE(0, flags[v] & SOFTEE_RING_F_CORRUPT) TH_LOG("ring %u", v);
		EXPECT_EQ(1, self->sh->saw_corrupt[v]) TH_LOG("ring %u", v);
		EXPECT_EQ(1, kh_corrupt_reports(id, v) - reports0[v]) TH_LOG("ring %u", v);
		/* the ring was off for all of phase 2: every read all ones */
		EXPECT_EQ(count, m->vc[v].arg_stage[2] - m->vc[v].arg_stage[1]) TH_LOG("vCPU %u", v);
	}
	EXPECT_EQ(0, kh_kernel_complaints() - complaints0);
}

TEST_HARNESS_MAIN
