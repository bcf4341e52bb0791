// SPDX-License-Identifier: GPL-2.0
/*
 * The micro-VM library (user/microvm): ucalls, a failed guest assertion's
 * file and line, an unhandled exception's report, MMIO and port exits with
 * their data, an MSI to a guest IDT handler through the in-kernel irqchip,
 * ioeventfd and coalesced MMIO, vCPUs in threads.  Needs /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include <microvm/microvm.h>

#include "microvm_test.h"

FIXTURE(vm) {
	struct microvm *vm;
	struct microvm_vcpu *v;
	struct microvm_ucall uc;
};

FIXTURE_SETUP(vm)
{
	struct microvm_config cfg = { .nr_vcpus = 2, .flags = MICROVM_F_IRQCHIP };

	/*
	 * This harness runs a test's body even when its setup says SKIP:
	 * leave through the harness's jump buffer, as a failed ASSERT does.
	 */
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(longjmp(_metadata->env, 1), "no /dev/kvm");
	self->vm = microvm_create(&cfg);
	ASSERT_NE(NULL, self->vm);
	self->v = microvm_vcpu(self->vm, 0);
}

FIXTURE_TEARDOWN(vm)
{
	microvm_destroy(self->vm);
}

static int mt_run(struct microvm_vcpu *v, uint64_t what, uint64_t arg,
		  struct microvm_ucall *uc)
{
	int ret = microvm_vcpu_set_entry(v, mt_guest_main, 2, what, arg);

	return ret ? ret : microvm_vcpu_run(v, uc);
}

TEST_F(vm, sync_then_done)
{
	ASSERT_EQ(MICROVM_UCALL_SYNC, mt_run(self->v, MT_SYNC, 41, &self->uc));
	ASSERT_EQ(7, self->uc.args[0]);
	ASSERT_EQ(41, self->uc.args[1]);
	ASSERT_EQ(MICROVM_UCALL_SYNC, microvm_vcpu_run(self->v, &self->uc));
	ASSERT_EQ(42, self->uc.args[1]);
	ASSERT_EQ(MICROVM_UCALL_DONE, microvm_vcpu_run(self->v, &self->uc));
}

TEST_F(vm, assertion_has_file_line_values)
{
	char buf[512];
	FILE *f;

	ASSERT_EQ(MICROVM_UCALL_ABORT, mt_run(self->v, MT_ASSERT, 5, &self->uc));
	ASSERT_EQ(3, self->uc.nr_args);
	ASSERT_EQ(5, self->uc.args[0]);
	ASSERT_EQ(3, self->uc.args[1]);
	ASSERT_EQ(10, self->uc.args[2]);
	f = fmemopen(buf, sizeof(buf), "w");
	ASSERT_NE(NULL, f);
	microvm_ucall_print(self->v, &self->uc, "", f);
	fclose(f);
	ASSERT_NE(NULL, strstr(buf, "selftests/microvm_test_guest.c:"));
	ASSERT_NE(NULL, strstr(buf, "v == 3"));
	ASSERT_NE(NULL, strstr(buf, "0x5, 0x3, 0xa"));
}

TEST_F(vm, exception_is_reported)
{
	ASSERT_EQ(MICROVM_UCALL_EXCEPTION, mt_run(self->v, MT_FAULT, 0, &self->uc));
	ASSERT_EQ(14, self->uc.args[0]);		/* #PF */
	ASSERT_EQ(MT_UNMAPPED, self->uc.args[3]);	/* cr2 */
}

static int mt_mmio(struct microvm_vcpu *v, struct microvm_access *a, void *opaque)
{
	uint64_t *log = opaque, d = 0;

	(void)v;
	if (a->is_write) {
		memcpy(&d, a->data, a->len);
		log[log[0]++ + 1] = (a->addr << 8 | a->len) ^ d;
		return 0;
	}
	if (a->bus == MICROVM_BUS_MMIO)
		d = a->addr == MT_MMIO_BASE + 4 ? 0xa5a5a5a5 : 0x0123456789abcdefULL;
	else
		d = a->addr == MT_PIO_BASE + 1 ? 0x5a : 0xfeedf00d;
	memcpy(a->data, &d, a->len);
	return 0;
}

TEST_F(vm, mmio_and_pio_exits)
{
	uint64_t log[16] = { 0 };

	ASSERT_EQ(0, microvm_add_exit_handler(self->vm, MICROVM_BUS_MMIO, MT_MMIO_BASE, 0x100,
					      mt_mmio, log));
	ASSERT_EQ(0, microvm_add_exit_handler(self->vm, MICROVM_BUS_PIO, MT_PIO_BASE, 8,
					      mt_mmio, log));
	ASSERT_EQ(-EEXIST, microvm_add_exit_handler(self->vm, MICROVM_BUS_MMIO,
						    MT_MMIO_BASE + 0x80, 8, mt_mmio, log));
	ASSERT_EQ(-EEXIST, microvm_add_exit_handler(self->vm, MICROVM_BUS_PIO,
						    MICROVM_UCALL_PORT, 1, mt_mmio, log));
	ASSERT_EQ(MICROVM_UCALL_DONE, mt_run(self->v, MT_MMIO, 0, &self->uc));
	ASSERT_EQ(4, log[0]);
	ASSERT_EQ((MT_MMIO_BASE << 8 | 4) ^ 0x11223344, log[1]);
	ASSERT_EQ(((MT_MMIO_BASE + 8) << 8 | 8) ^ 0x5566778899aabbccULL, log[2]);
	ASSERT_EQ(((MT_MMIO_BASE + 3) << 8 | 1) ^ 0xdd, log[3]);
	ASSERT_EQ(((uint64_t)MT_PIO_BASE << 8 | 2) ^ 0xbeef, log[4]);
}

TEST_F(vm, unhandled_exit_stops_the_vcpu)
{
	ASSERT_EQ(-EIO, mt_run(self->v, MT_WRITES, 1, &self->uc));
}

TEST_F(vm, msi_reaches_the_guest_handler)
{
	ASSERT_EQ(MICROVM_UCALL_SYNC, mt_run(self->v, MT_MSI, 0, &self->uc));
	/* Physical destination APIC 0, fixed delivery. */
	ASSERT_EQ(1, microvm_signal_msi(self->vm, 0xfee00000, MT_VECTOR));
	ASSERT_EQ(MICROVM_UCALL_DONE, microvm_vcpu_run(self->v, &self->uc));
}

static int mt_count(struct microvm_vcpu *v, struct microvm_access *a, void *opaque)
{
	(void)v;
	(void)a;
	__atomic_fetch_add((uint64_t *)opaque, 1, __ATOMIC_RELAXED);
	return 0;
}

static void mt_drained(const struct kvm_coalesced_mmio *e, void *opaque)
{
	(void)e;
	(*(uint64_t *)opaque)++;
}

TEST_F(vm, ioeventfd_and_coalesced)
{
	uint64_t exits = 0, drained = 0, n = 0;
	int efd;

	efd = microvm_ioeventfd_add(self->vm, MICROVM_BUS_MMIO, MT_MMIO_BASE, 4, false, 0);
	ASSERT_LE(0, efd);
	ASSERT_EQ(MICROVM_UCALL_DONE, mt_run(self->v, MT_WRITES, 1000, &self->uc));
	ASSERT_EQ(sizeof(n), read(efd, &n, sizeof(n)));
	ASSERT_EQ(1000, n);
	microvm_destroy(self->vm);

	self->vm = microvm_create(&(struct microvm_config){ .nr_vcpus = 1 });
	ASSERT_NE(NULL, self->vm);
	self->v = microvm_vcpu(self->vm, 0);
	ASSERT_EQ(0, microvm_coalesced_add(self->vm, MICROVM_BUS_MMIO, MT_MMIO_BASE, 0x100));
	ASSERT_EQ(0, microvm_add_exit_handler(self->vm, MICROVM_BUS_MMIO, MT_MMIO_BASE, 0x100,
					      mt_count, &exits));
	/* Nobody drains while it runs: past the ring's size writes exit. */
	ASSERT_EQ(MICROVM_UCALL_DONE, mt_run(self->v, MT_WRITES, 1000, &self->uc));
	drained = 0;
	microvm_coalesced_drain(self->vm, mt_drained, &drained);
	ASSERT_EQ(1000, drained + exits);
	ASSERT_LT(0, drained);
	ASSERT_LT(0, exits);
}

static void *mt_thread(struct microvm_vcpu *v, void *arg)
{
	struct microvm_ucall uc;
	int ret;

	(void)arg;
	do
		ret = microvm_vcpu_run(v, &uc);
	while (ret == MICROVM_UCALL_SYNC);
	return (void *)(intptr_t)ret;
}

TEST_F(vm, vcpus_in_threads)
{
	uint64_t count = 0;
	uint32_t i;

	ASSERT_EQ(0, microvm_add_exit_handler(self->vm, MICROVM_BUS_MMIO, MT_MMIO_BASE, 0x100,
					      mt_count, &count));
	for (i = 0; i < 2; i++) {
		struct microvm_vcpu *v = microvm_vcpu(self->vm, i);

		ASSERT_EQ(0, microvm_vcpu_set_entry(v, mt_guest_main, 2, (uint64_t)MT_WRITES,
						    (uint64_t)500));
		ASSERT_EQ(0, microvm_vcpu_start(v, mt_thread, NULL));
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(MICROVM_UCALL_DONE,
			  (int)(intptr_t)microvm_vcpu_join(microvm_vcpu(self->vm, i)));
	ASSERT_EQ(1000, count);
}

TEST_HARNESS_MAIN
