// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI of softee.ko, without running a guest: struct sizes
 * (lib/kmod_sizes.h: too short, too long with garbage, too long zeroed,
 * exact, each made so that it fails without the module's check), bad
 * arguments, limits and errnos, mmap bounds; SOFTEE_SIGNAL_MSI on a VM
 * with an in-kernel irqchip.  Needs the module (runs in the test VM).
 */
#include <errno.h>
#include <setjmp.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "kmod_sizes.h"
#include "softee.h"

/* The raw ioctl: -errno or the result. */
static long __ioc(int fd, unsigned long cmd, void *arg)
{
	long r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

/*
 * What both fixtures stand on: /dev/softee, /dev/kvm and a VM with 2 MiB
 * of RAM at gpa.  This harness runs a test's body even when its setup says
 * SKIP, so a skip leaves through the harness's own jump buffer, as a failed
 * ASSERT does, and the body never runs.
 */
#define SETUP_SKIP(fmt, ...) SKIP(longjmp(_metadata->env, 1), fmt, ##__VA_ARGS__)

struct vm_base {
	int dev;		/* /dev/softee */
	int kvm;		/* /dev/kvm */
	int vm;
	void *ram;
};

static void vm_base_setup(struct __test_metadata *_metadata, struct vm_base *b,
			  uint64_t gpa)
{
	struct kvm_userspace_memory_region mr = {
		.slot = 0, .guest_phys_addr = gpa, .memory_size = 2 << 20,
	};

	b->dev = b->kvm = b->vm = -1;
	b->dev = open(SOFTEE_DEVICE, O_RDWR);
	if (b->dev < 0)
		SETUP_SKIP("%s: %s (softee.ko not loaded)", SOFTEE_DEVICE, strerror(errno));
	b->kvm = open("/dev/kvm", O_RDWR);
	if (b->kvm < 0)
		SETUP_SKIP("/dev/kvm: %s", strerror(errno));
	b->vm = ioctl(b->kvm, KVM_CREATE_VM, 0);
	ASSERT_LE(0, b->vm);
	b->ram = mmap(NULL, mr.memory_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, b->ram);
	mr.userspace_addr = (uintptr_t)b->ram;
	ASSERT_EQ(0, ioctl(b->vm, KVM_SET_USER_MEMORY_REGION, &mr));
}

static void vm_base_teardown(struct vm_base *b)
{
	if (b->vm >= 0)
		close(b->vm);
	if (b->kvm >= 0)
		close(b->kvm);
	if (b->dev >= 0)
		close(b->dev);
}

FIXTURE(kmod) {
	struct vm_base b;	/* RAM at 0 */
};

FIXTURE_SETUP(kmod)
{
	vm_base_setup(_metadata, &self->b, 0);
}

FIXTURE_TEARDOWN(kmod)
{
	vm_base_teardown(&self->b);
}

static struct softee_attach attach_args(int vm_fd)
{
	return (struct softee_attach){
		.size = sizeof(struct softee_attach), .vm_fd = vm_fd, .nr_rings = 2,
	};
}

static int attach(int dev, int vm_fd)
{
	struct softee_attach a = attach_args(vm_fd);

	return __ioc(dev, SOFTEE_ATTACH, &a);
}

TEST_F(kmod, attach_exact)
{
	struct softee_attach a = attach_args(self->b.vm);
	int s = __ioc(self->b.dev, SOFTEE_ATTACH, &a);
	void *p;

	ASSERT_LE(0, s);
	EXPECT_EQ(SOFTEE_FEAT_MMIO | SOFTEE_FEAT_PIO,
		  a.features & (SOFTEE_FEAT_MMIO | SOFTEE_FEAT_PIO));
	EXPECT_NE(0, a.features & SOFTEE_FEAT_TIMESTAMPS);
	EXPECT_NE(0, a.features & SOFTEE_FEAT_MSI);	/* kvm_send_userspace_msi found */
	EXPECT_NE(0, a.features & SOFTEE_FEAT_STALL);
	EXPECT_EQ(SOFTEE_RING_DEFAULT_ENTRIES, a.ring_entries);
	EXPECT_EQ(SOFTEE_TIMEOUT_DEFAULT_US, a.timeout_us);
	EXPECT_EQ(a.ring_entries, a.ring_off.ring_entries);
	EXPECT_EQ(a.ring_entries - 1, a.ring_off.ring_mask);
	EXPECT_EQ(sizeof(struct softee_ring_entry), a.ring_off.entry_size);
	EXPECT_EQ((uint64_t)a.ring_bytes * 2, a.mmap_bytes);
	EXPECT_LE(a.ring_off.entries + a.ring_entries * 64, a.ring_bytes);
	/* prod and cons on separate cache lines */
	EXPECT_LE(64, a.ring_off.cons - a.ring_off.prod);
	EXPECT_NE(0, fcntl(s, F_GETFD) & FD_CLOEXEC);

	p = mmap(NULL, a.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, *(uint32_t *)((char *)p + a.ring_off.prod));
	EXPECT_EQ(0, munmap(p, a.mmap_bytes));
	/* beyond the rings */
	p = mmap(NULL, a.mmap_bytes + 4096, PROT_READ, MAP_SHARED, s, 0);
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, s, a.mmap_bytes);
	EXPECT_EQ(MAP_FAILED, p);
	/* one ring alone */
	p = mmap(NULL, a.ring_bytes, PROT_READ, MAP_SHARED, s, a.ring_bytes);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, a.ring_bytes);
	close(s);
}

static void attach_done(struct __test_metadata *_metadata, void *ctx, long ret, void *arg)
{
	struct softee_attach *a = arg;

	(void)ctx;
	EXPECT_NE(0, a->features & SOFTEE_FEAT_MMIO);	/* the answer came back */
	close(ret);
}

TEST_F(kmod, attach_sizes)
{
	struct softee_attach a = attach_args(self->b.vm);
	struct ksz_call c = {
		.name = "SOFTEE_ATTACH", .fd = self->b.dev, .cmd = SOFTEE_ATTACH,
		.arg = &a, .ksize = sizeof(a), .min = sizeof(a), .done = attach_done,
	};

	ksz_check(_metadata, &c);
	EXPECT_EQ(-ENOTTY, __ioc(self->b.dev, _IO(SOFTEE_TYPE, 0x7f), &a));
}

/*
 * The session fd cannot be had (EMFILE) or the answer cannot be written
 * back (EFAULT): no session is left behind, the VM can be attached again.
 */
TEST_F(kmod, attach_unwinds)
{
	struct softee_attach *ro;
	struct rlimit old, lim;
	int s, next;

	next = open("/dev/null", O_RDONLY);	/* the lowest free fd */
	ASSERT_LE(0, next);
	close(next);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	lim = old;
	lim.rlim_cur = next;	/* no fd is free below the limit */
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &lim));
	EXPECT_EQ(-EMFILE, attach(self->b.dev, self->b.vm));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	s = attach(self->b.dev, self->b.vm);
	EXPECT_LE(0, s);
	close(s);

	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	*ro = attach_args(self->b.vm);
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	EXPECT_EQ(-EFAULT, __ioc(self->b.dev, SOFTEE_ATTACH, ro));
	munmap(ro, 4096);
	s = attach(self->b.dev, self->b.vm);
	EXPECT_LE(0, s);
	close(s);
}

TEST_F(kmod, attach_not_a_vm)
{
	int null = open("/dev/null", O_RDWR);

	EXPECT_EQ(-EBADF, attach(self->b.dev, -1));
	EXPECT_EQ(-EBADF, attach(self->b.dev, 100000));
	EXPECT_EQ(-ENOTTY, attach(self->b.dev, null));
	EXPECT_EQ(-ENOTTY, attach(self->b.dev, self->b.kvm));	/* /dev/kvm, not a VM */
	EXPECT_EQ(-ENOTTY, attach(self->b.dev, self->b.dev));
	close(null);
}

TEST_F(kmod, attach_bad_params)
{
	struct softee_attach a;

#define BAD(field, value) do {						\
		a = attach_args(self->b.vm);				\
		a.field = value;					\
		EXPECT_EQ(-EINVAL, __ioc(self->b.dev, SOFTEE_ATTACH, &a)) \
			TH_LOG(#field " = " #value);			\
	} while (0)
	BAD(flags, 2);
	BAD(nr_rings, 0);
	BAD(nr_rings, SOFTEE_MAX_RINGS + 1);
	BAD(ring_entries, 3);
	BAD(ring_entries, 4);
	BAD(ring_entries, 100);
	BAD(ring_entries, SOFTEE_RING_MAX_ENTRIES * 2);
	BAD(timeout_us, SOFTEE_TIMEOUT_MAX_US + 1);
	BAD(__reserved, 1);
	BAD(features, 1);
	BAD(ring_off.prod, 1);
	/* more ring memory than a session may have */
	a = attach_args(self->b.vm);
	a.nr_rings = SOFTEE_MAX_RINGS;
	a.ring_entries = SOFTEE_RING_MAX_ENTRIES;
	EXPECT_EQ(-EINVAL, __ioc(self->b.dev, SOFTEE_ATTACH, &a));
#undef BAD
}

TEST_F(kmod, attach_busy)
{
	int s1 = attach(self->b.dev, self->b.vm), s2;

	ASSERT_LE(0, s1);
	EXPECT_EQ(-EBUSY, attach(self->b.dev, self->b.vm));
	close(s1);
	s2 = attach(self->b.dev, self->b.vm);
	EXPECT_LE(0, s2);
	close(s2);
}

TEST_F(kmod, not_root)
{
	pid_t pid = fork();
	int st;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534))
			_exit(3);
		if (open(SOFTEE_DEVICE, O_RDWR) >= 0)
			_exit(1);
		/* an fd passed down from root is still refused */
		_exit(__ioc(self->b.dev, SOFTEE_ATTACH, &(struct softee_attach){
			.size = sizeof(struct softee_attach), .vm_fd = self->b.vm,
			.nr_rings = 1 }) == -EPERM ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		TH_LOG("the child ended with status 0x%x", st);
	}
}

FIXTURE(session) {
	struct vm_base b;	/* RAM at 1 MiB */
	int s;			/* its session */
};

FIXTURE_SETUP(session)
{
	self->s = -1;
	vm_base_setup(_metadata, &self->b, 0x100000);
	self->s = attach(self->b.dev, self->b.vm);
	ASSERT_LE(0, self->s);
}

FIXTURE_TEARDOWN(session)
{
	if (self->s >= 0)
		close(self->s);
	vm_base_teardown(&self->b);
}

static long region_add(int s, uint8_t bus, uint64_t base, uint64_t len,
		       uint32_t flags)
{
	struct softee_region r = {
		.size = sizeof(r), .flags = flags, .bus = bus, .base = base,
		.len = len,
	};
	long ret = __ioc(s, SOFTEE_REGION_ADD, &r);

	return ret < 0 ? ret : r.id;
}

static long region_del(int s, uint32_t id)
{
	struct softee_region_del d = { .size = sizeof(d), .id = id };

	return __ioc(s, SOFTEE_REGION_DEL, &d);
}

/* A good region, for the size checks: the first of the session, id 0. */
static const struct softee_region good_region = {
	.size = sizeof(struct softee_region), .bus = SOFTEE_BUS_MMIO, .base = 0xc0000000,
	.len = 4096,
};

static void region_add_done(struct __test_metadata *_metadata, void *ctx, long ret, void *arg)
{
	struct softee_region *r = arg;

	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, r->id);
	EXPECT_EQ(0, region_del(*(int *)ctx, r->id));
}

static void region_del_done(struct __test_metadata *_metadata, void *ctx, long ret, void *arg)
{
	(void)arg;
	EXPECT_EQ(0, ret);
	/* the region it removed, back for the next call */
	EXPECT_EQ(0, region_add(*(int *)ctx, good_region.bus, good_region.base,
				good_region.len, 0));
}

TEST_F(session, region_sizes)
{
	struct softee_region_del d = { .size = sizeof(d), .id = 0 };
	struct ksz_call add = {
		.name = "SOFTEE_REGION_ADD", .fd = self->s, .cmd = SOFTEE_REGION_ADD,
		.arg = &good_region, .ksize = sizeof(good_region), .min = sizeof(good_region),
		.done = region_add_done, .ctx = &self->s,
	};
	struct ksz_call del = {
		.name = "SOFTEE_REGION_DEL", .fd = self->s, .cmd = SOFTEE_REGION_DEL,
		.arg = &d, .ksize = sizeof(d), .min = sizeof(d),
		.done = region_del_done, .ctx = &self->s,
	};

	ksz_check(_metadata, &add);
	ASSERT_EQ(0, region_add(self->s, good_region.bus, good_region.base, good_region.len, 0));
	ksz_check(_metadata, &del);
	EXPECT_EQ(0, region_del(self->s, 0));
	EXPECT_EQ(-ENOENT, region_del(self->s, 0));
}

/*
 * The answer cannot be written back: EFAULT, and the region stays, as
 * documented (user space finds it by its stats, or closes the session).
 */
TEST_F(session, region_add_fault)
{
	struct softee_stats st = { .size = sizeof(st), .scope = SOFTEE_STATS_REGION };
	struct softee_region *ro;

	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	*ro = good_region;
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	EXPECT_EQ(-EFAULT, __ioc(self->s, SOFTEE_REGION_ADD, ro));
	munmap(ro, 4096);
	EXPECT_EQ(0, __ioc(self->s, SOFTEE_GET_STATS, &st));
	EXPECT_EQ(-EEXIST, region_add(self->s, good_region.bus, good_region.base, good_region.len, 0));
	EXPECT_EQ(0, region_del(self->s, 0));
}

TEST_F(session, region_bad)
{
	EXPECT_EQ(-EINVAL, region_add(self->s, SOFTEE_BUS_MMIO, 0xc0000000, 0, 0));
	EXPECT_EQ(-EINVAL, region_add(self->s, 2, 0xc0000000, 16, 0));
	EXPECT_EQ(-EINVAL, region_add(self->s, SOFTEE_BUS_MMIO, 0xc0000000, 16, 0x80));
	EXPECT_EQ(-EINVAL, region_add(self->s, SOFTEE_BUS_MMIO, 0xc0000000, (1ULL << 30) + 1, 0));
	EXPECT_EQ(-EOVERFLOW, region_add(self->s, SOFTEE_BUS_MMIO, ~0ULL - 8, 16, 0));
	EXPECT_EQ(-EOVERFLOW, region_add(self->s, SOFTEE_BUS_PIO, 0xfff8, 16, 0));
	EXPECT_EQ(-EOVERFLOW, region_add(self->s, SOFTEE_BUS_PIO, 0x10000, 1, 0));
	/* guest RAM is at [1 MiB, 3 MiB) */
	EXPECT_EQ(-EADDRNOTAVAIL, region_add(self->s, SOFTEE_BUS_MMIO, 0x200000, 16, 0));
	EXPECT_EQ(-EADDRNOTAVAIL, region_add(self->s, SOFTEE_BUS_MMIO, 0xff000, 0x1001, 0));
	EXPECT_EQ(-EADDRNOTAVAIL, region_add(self->s, SOFTEE_BUS_MMIO, 0x2ff000, 0x2000, 0));
	/* next to RAM is fine, and the same numbers as ports are fine */
	EXPECT_LE(0, region_add(self->s, SOFTEE_BUS_MMIO, 0xff000, 0x1000, 0));
	EXPECT_LE(0, region_add(self->s, SOFTEE_BUS_MMIO, 0x300000, 0x1000, 0));
	EXPECT_LE(0, region_add(self->s, SOFTEE_BUS_PIO, 0x2000, 0x10, 0));
	/* reserved fields */
	{
		struct softee_region r = { .size = sizeof(r), .base = 0xd0000000, .len = 16 };

		r.__pad[1] = 1;
		EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_REGION_ADD, &r));
		r.__pad[1] = 0;
		r.__reserved[1] = 1;
		EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_REGION_ADD, &r));
		r.__reserved[1] = 0;
		r.id = 3;
		EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_REGION_ADD, &r));
	}
}

TEST_F(session, region_overlap)
{
	long a = region_add(self->s, SOFTEE_BUS_MMIO, 0xc0000000, 0x1000, 0);

	ASSERT_LE(0, a);
	EXPECT_EQ(-EEXIST, region_add(self->s, SOFTEE_BUS_MMIO, 0xc0000000, 0x1000, 0));
	EXPECT_EQ(-EEXIST, region_add(self->s, SOFTEE_BUS_MMIO, 0xbffff000, 0x1001, 0));
	EXPECT_EQ(-EEXIST, region_add(self->s, SOFTEE_BUS_MMIO, 0xc0000fff, 1, 0));
	EXPECT_LE(0, region_add(self->s, SOFTEE_BUS_MMIO, 0xc0001000, 0x1000, 0));
	EXPECT_LE(0, region_add(self->s, SOFTEE_BUS_MMIO, 0xbffff000, 0x1000, 0));
	/* the same range on the other bus does not overlap */
	EXPECT_LE(0, region_add(self->s, SOFTEE_BUS_PIO, 0x1000, 0x1000, 0));
	/* removed, the range is free again */
	EXPECT_EQ(0, region_del(self->s, a));
	EXPECT_EQ(a, region_add(self->s, SOFTEE_BUS_MMIO, 0xc0000000, 0x1000, 0));
}

TEST_F(session, region_limit)
{
	int i;

	for (i = 0; i < SOFTEE_MAX_REGIONS; i++)
		ASSERT_EQ(i, region_add(self->s, SOFTEE_BUS_MMIO, 0xc0000000 + i * 0x1000ULL, 0x1000, 0));
	EXPECT_EQ(-ENOSPC, region_add(self->s, SOFTEE_BUS_MMIO, 0xd0000000, 0x1000, 0));
	EXPECT_EQ(0, region_del(self->s, 17));
	EXPECT_EQ(17, region_add(self->s, SOFTEE_BUS_MMIO, 0xd0000000, 0x1000, 0));
	EXPECT_EQ(-ENOENT, region_del(self->s, SOFTEE_MAX_REGIONS));
	EXPECT_EQ(-ENOENT, region_del(self->s, ~0U));
	{
		struct softee_region_del d = { .size = sizeof(d), .id = 1, .flags = 1 };

		EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_REGION_DEL, &d));
	}
}

static void timeout_done(struct __test_metadata *_metadata, void *ctx, long ret, void *arg)
{
	struct softee_timeout *t = arg, back = { .size = sizeof(back) };

	EXPECT_EQ(0, ret);
	EXPECT_EQ(SOFTEE_TIMEOUT_DEFAULT_US, t->old_us);
	/* back to the default: the call did set the new value */
	EXPECT_EQ(0, __ioc(*(int *)ctx, SOFTEE_SET_TIMEOUT, &back));
	EXPECT_EQ(t->timeout_us, back.old_us);
}

TEST_F(session, timeout)
{
	struct softee_timeout t = { .size = sizeof(t), .timeout_us = 1234 };
	struct ksz_call c = {
		.name = "SOFTEE_SET_TIMEOUT", .fd = self->s, .cmd = SOFTEE_SET_TIMEOUT,
		.arg = &t, .ksize = sizeof(t), .min = sizeof(t),
		.done = timeout_done, .ctx = &self->s,
	};

	ksz_check(_metadata, &c);

	ASSERT_EQ(0, __ioc(self->s, SOFTEE_SET_TIMEOUT, &t));
	EXPECT_EQ(SOFTEE_TIMEOUT_DEFAULT_US, t.old_us);
	t.timeout_us = 0;	/* back to the default */
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_SET_TIMEOUT, &t));	/* old_us is output */
	t.old_us = 0;
	ASSERT_EQ(0, __ioc(self->s, SOFTEE_SET_TIMEOUT, &t));
	EXPECT_EQ(1234, t.old_us);
	t.old_us = 0;
	t.timeout_us = SOFTEE_TIMEOUT_MAX_US + 1;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_SET_TIMEOUT, &t));
	t.timeout_us = SOFTEE_TIMEOUT_MAX_US;
	EXPECT_EQ(0, __ioc(self->s, SOFTEE_SET_TIMEOUT, &t));
	EXPECT_EQ(SOFTEE_TIMEOUT_DEFAULT_US, t.old_us);
	t.old_us = 0;
	t.timeout_us = 10;
	t.flags = 1;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_SET_TIMEOUT, &t));
}

/*
 * SOFTEE_SIGNAL_MSI on a VM without an in-kernel irqchip: KVM's EINVAL,
 * whatever the message.  The size and field checks are the msi fixture's,
 * on a VM that has one; delivery itself is checked end to end by
 * e2e_netns.sh --kmod, whose guest counts the device's MSIs.
 */
TEST_F(session, signal_msi_no_irqchip)
{
	struct softee_msi m = { .size = sizeof(m), .address_lo = 0xfee00000, .data = 0x41 };

	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_SIGNAL_MSI, &m));
}

static void stats_done(struct __test_metadata *_metadata, void *ctx, long ret, void *arg)
{
	struct softee_stats *st = arg;

	(void)ctx;
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, st->ring_flags);
}

TEST_F(session, stats)
{
	struct softee_stats st = { .size = sizeof(st), .scope = SOFTEE_STATS_RING, .index = 1 };
	struct ksz_call c = {
		.name = "SOFTEE_GET_STATS", .fd = self->s, .cmd = SOFTEE_GET_STATS,
		.arg = &st, .ksize = sizeof(st), .min = offsetof(struct softee_stats, c),
		.done = stats_done,
	};
	struct {
		struct softee_stats st;
		uint32_t tail;
	} big;
	long id;

	/* the counters are the struct's only optional part */
	ksz_check(_metadata, &c);

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	EXPECT_EQ(0, __ioc(self->s, SOFTEE_GET_STATS, &st));
	EXPECT_EQ(0, st.c.writes);
	/* the outputs must come in zero */
	st.c.reads = 1;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_GET_STATS, &st));
	st.c.reads = 0;
	st.c.__reserved[7] = 1;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_GET_STATS, &st));
	st.c.__reserved[7] = 0;
	st.ring_flags = 1;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_GET_STATS, &st));
	st.ring_flags = 0;
	st.__reserved = 1;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_GET_STATS, &st));
	st.__reserved = 0;
	st.index = 1;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_GET_STATS, &st));
	st.scope = SOFTEE_STATS_RING;
	EXPECT_EQ(0, __ioc(self->s, SOFTEE_GET_STATS, &st));
	st.index = 2;	/* two rings */
	EXPECT_EQ(-ENOENT, __ioc(self->s, SOFTEE_GET_STATS, &st));
	st.scope = SOFTEE_STATS_REGION;
	st.index = 0;
	EXPECT_EQ(-ENOENT, __ioc(self->s, SOFTEE_GET_STATS, &st));
	st.index = SOFTEE_MAX_REGIONS;
	EXPECT_EQ(-ENOENT, __ioc(self->s, SOFTEE_GET_STATS, &st));
	id = region_add(self->s, SOFTEE_BUS_MMIO, 0xc0000000, 0x1000, 0);
	ASSERT_LE(0, id);
	st.index = id;
	EXPECT_EQ(0, __ioc(self->s, SOFTEE_GET_STATS, &st));
	/* outputs back to zero: each refusal below has its own reason */
	memset(&st.c, 0, sizeof(st.c));
	st.ring_flags = 0;
	st.scope = 3;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_GET_STATS, &st));
	st.scope = 0;
	st.index = 0;
	st.flags = 2;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_GET_STATS, &st));
	/*
	 * A caller built before the counters grew (152 bytes, 15 counters and
	 * one reserved word) gets what fits, and nothing past its size.
	 */
	memset(&big, 0xa5, sizeof(big));
	memset(&big.st, 0, 152);
	big.st.size = 152;
	EXPECT_EQ(0, __ioc(self->s, SOFTEE_GET_STATS, &big));
	EXPECT_EQ(152, big.st.size);
	EXPECT_EQ(0, big.st.c.stalled);			/* its reserved word */
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, big.st.c.__reserved[0]);	/* past 152 */
	EXPECT_EQ(0xa5a5a5a5u, big.tail);
}

TEST_F(session, session_outlives_vm_fd)
{
	/* The VMM closes its VM fd: the session keeps the VM until closed. */
	EXPECT_LE(0, region_add(self->s, SOFTEE_BUS_MMIO, 0xc0000000, 0x1000, 0));
	close(self->b.vm);
	self->b.vm = -1;
	EXPECT_LE(0, region_add(self->s, SOFTEE_BUS_MMIO, 0xc0001000, 0x1000, 0));
	EXPECT_EQ(0, region_del(self->s, 0));
}

/*
 * Every session ioctl needs CAP_SYS_ADMIN too, checked before its
 * argument: a session fd passed down to an unprivileged process is
 * refused, and so is a bad pointer or an unknown command there.
 */
TEST_F(session, not_root)
{
	static const unsigned long cmds[] = {
		SOFTEE_REGION_ADD, SOFTEE_REGION_DEL, SOFTEE_SET_TIMEOUT, SOFTEE_GET_STATS,
		SOFTEE_CFG_ADD, SOFTEE_CFG_DEL, SOFTEE_SIGNAL_MSI, _IO(SOFTEE_TYPE, 0x7f),
	};
	struct softee_timeout t = { .size = sizeof(t), .timeout_us = 1234 };
	pid_t pid = fork();
	unsigned int i;
	int st;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534))
			_exit(100);
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			if (__ioc(self->s, cmds[i], (void *)8) != -EPERM)
				_exit(1 + i);
		}
		_exit(__ioc(self->s, SOFTEE_SET_TIMEOUT, &t) == -EPERM ? 0 : 99);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		TH_LOG("the child ended with status 0x%x (1 + the index of the command that was not EPERM)",
		       st);
	}
	/* root's own call went through: the child changed nothing */
	t.timeout_us = 0;
	EXPECT_EQ(0, __ioc(self->s, SOFTEE_SET_TIMEOUT, &t));
	EXPECT_EQ(SOFTEE_TIMEOUT_DEFAULT_US, t.old_us);
	EXPECT_EQ(-ENOTTY, __ioc(self->s, _IO(SOFTEE_TYPE, 0x7f), &t));
	EXPECT_EQ(-ENOTTY, __ioc(self->s, SOFTEE_ATTACH, &t));
}

/*
 * SOFTEE_SIGNAL_MSI where it can deliver: a VM with an in-kernel irqchip
 * (KVM_CREATE_IRQCHIP, before any vCPU) and a session.  The tests add
 * vCPU 0 (APIC ID 0) themselves, with msi_vcpu().
 */
FIXTURE(msi) {
	struct vm_base b;	/* RAM at 0 */
	int s;
	int vcpu;
};

FIXTURE_SETUP(msi)
{
	self->s = self->vcpu = -1;
	vm_base_setup(_metadata, &self->b, 0);
	ASSERT_EQ(0, ioctl(self->b.vm, KVM_CREATE_IRQCHIP, 0));
	self->s = attach(self->b.dev, self->b.vm);
	ASSERT_LE(0, self->s);
}

FIXTURE_TEARDOWN(msi)
{
	if (self->vcpu >= 0)
		close(self->vcpu);
	if (self->s >= 0)
		close(self->s);
	vm_base_teardown(&self->b);
}

#define MSI_ADDR(apic_id)	(0xfee00000u | (apic_id) << 12)	/* physical, fixed */
#define MSI_VECTOR		0x41
#define APIC_SPIV		0xf0
#define APIC_SPIV_ENABLED	(1u << 8)

/*
 * vCPU 0.  Its local APIC comes out of reset enabled in the APIC base MSR
 * but software-disabled (SPIV 0xff), and KVM accepts no fixed interrupt
 * there; sw_enable sets SPIV's enable bit, as a guest's kernel does.
 */
static void msi_vcpu(struct __test_metadata *_metadata, FIXTURE_DATA(msi) *self, bool sw_enable)
{
	struct kvm_lapic_state lapic;
	uint32_t spiv;

	self->vcpu = ioctl(self->b.vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, self->vcpu);
	if (!sw_enable)
		return;
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_LAPIC, &lapic));
	memcpy(&spiv, lapic.regs + APIC_SPIV, sizeof(spiv));
	spiv |= APIC_SPIV_ENABLED;
	memcpy(lapic.regs + APIC_SPIV, &spiv, sizeof(spiv));
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_LAPIC, &lapic));
}

static void msi_done(struct __test_metadata *_metadata, void *ctx, long ret, void *arg)
{
	(void)ctx;
	(void)arg;
	EXPECT_EQ(1, ret);	/* one vCPU reached */
}

TEST_F(msi, sizes)
{
	struct softee_msi m = {
		.size = sizeof(m), .address_lo = MSI_ADDR(0), .data = MSI_VECTOR,
	};
	struct ksz_call c = {
		.name = "SOFTEE_SIGNAL_MSI", .fd = self->s, .cmd = SOFTEE_SIGNAL_MSI,
		.arg = &m, .ksize = sizeof(m), .min = sizeof(m), .done = msi_done,
	};

	msi_vcpu(_metadata, self, true);
	ksz_check(_metadata, &c);
}

TEST_F(msi, fields)
{
	struct softee_msi m = {
		.size = sizeof(m), .address_lo = MSI_ADDR(0), .data = MSI_VECTOR,
	};

	msi_vcpu(_metadata, self, true);
	EXPECT_EQ(1, __ioc(self->s, SOFTEE_SIGNAL_MSI, &m));
	m.flags = 1;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_SIGNAL_MSI, &m));
	m.flags = 1u << 31;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_SIGNAL_MSI, &m));
	m.flags = 0;
	m.__pad = 1;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_SIGNAL_MSI, &m));
	m.__pad = 0;
	m.__reserved[0] = 1;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_SIGNAL_MSI, &m));
	m.__reserved[0] = 0;
	m.__reserved[1] = 1ULL << 63;
	EXPECT_EQ(-EINVAL, __ioc(self->s, SOFTEE_SIGNAL_MSI, &m));
	m.__reserved[1] = 0;
	EXPECT_EQ(1, __ioc(self->s, SOFTEE_SIGNAL_MSI, &m));
	/* an APIC ID no vCPU has: KVM drops the message, 0 vCPUs reached */
	m.address_lo = MSI_ADDR(5);
	EXPECT_EQ(0, __ioc(self->s, SOFTEE_SIGNAL_MSI, &m));
}

/* A VM with no vCPU: KVM finds no destination at all (its bare -1). */
TEST_F(msi, no_vcpu)
{
	struct softee_msi m = {
		.size = sizeof(m), .address_lo = MSI_ADDR(0), .data = MSI_VECTOR,
	};

	EXPECT_EQ(-ENXIO, __ioc(self->s, SOFTEE_SIGNAL_MSI, &m));
}

/* The destination's APIC is software-disabled: not accepted, 0. */
TEST_F(msi, apic_disabled)
{
	struct softee_msi m = {
		.size = sizeof(m), .address_lo = MSI_ADDR(0), .data = MSI_VECTOR,
	};

	msi_vcpu(_metadata, self, false);
	EXPECT_EQ(0, __ioc(self->s, SOFTEE_SIGNAL_MSI, &m));
}

TEST_HARNESS_MAIN
