/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences, in one place.  Core files never test
 * LINUX_VERSION_CODE; they call what this header provides.
 */
#ifndef _SOFTEE_COMPAT_H
#define _SOFTEE_COMPAT_H

#include <linux/version.h>
#include <linux/kvm_host.h>

/* True when the running kernel is in [a.b.c, d.e.f). */
#define SOFTEE_KERNEL_RANGE(a, b, c, d, e, f)			\
	(LINUX_VERSION_CODE >= KERNEL_VERSION(a, b, c) &&	\
	 LINUX_VERSION_CODE < KERNEL_VERSION(d, e, f))

#if !SOFTEE_KERNEL_RANGE(5, 17, 0, 6, 6, 0)
#error "softee is built and tested against Linux 6.1 (Debian 12); this kernel's KVM internals were not checked"
#endif

/*
 * Does [gpa, gpa + len) overlap a memslot of any address space?  Caller
 * holds kvm->slots_lock.  The memslot hash and the bkt cursor arrived in
 * 5.17.
 */
static inline bool softee_overlaps_memslot(struct kvm *kvm, u64 gpa, u64 len)
{
	struct kvm_memory_slot *slot;
	int as, bkt;

	for (as = 0; as < KVM_ADDRESS_SPACE_NUM; as++) {
		struct kvm_memslots *slots = __kvm_memslots(kvm, as);

		kvm_for_each_memslot(slot, bkt, slots) {
			u64 start = (u64)slot->base_gfn << PAGE_SHIFT;
			u64 end = start + ((u64)slot->npages << PAGE_SHIFT);

			if (gpa < end && start < gpa + len)
				return true;
		}
	}
	return false;
}

#endif /* _SOFTEE_COMPAT_H */
