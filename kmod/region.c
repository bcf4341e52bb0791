// SPDX-License-Identifier: GPL-2.0
/*
 * Regions: ranges of the guest's MMIO or port space, each a kvm_io_device
 * on KVM's bus.  KVM calls the device for any access that overlaps it;
 * an access that does not fit inside the region is declined, so it exits
 * to the VMM as if softee were not there.
 */
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "softee.h"

static inline struct softee_region_k *to_region(struct kvm_io_device *dev)
{
	return container_of(dev, struct softee_region_k, dev);
}

static bool softee_region_fits(const struct softee_region_k *r, gpa_t addr,
			       int len)
{
	return addr >= r->base && len > 0 && len <= 8 &&
	       addr - r->base + len <= r->len;
}

static int softee_io_write(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			   gpa_t addr, int len, const void *val)
{
	struct softee_region_k *r = to_region(dev);

	if (!softee_region_fits(r, addr, len))
		return -EOPNOTSUPP;
	if (r->flags & SOFTEE_REGION_F_NULL) {
		this_cpu_inc(r->pc->writes);
		this_cpu_add(r->pc->write_bytes, len);
		return 0;
	}
	softee_ring_write(r, vcpu, addr, len, val);
	return 0;
}

static int softee_io_read(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			  gpa_t addr, int len, void *val)
{
	struct softee_region_k *r = to_region(dev);

	if (!softee_region_fits(r, addr, len))
		return -EOPNOTSUPP;
	if (r->flags & SOFTEE_REGION_F_NULL) {
		this_cpu_inc(r->pc->reads);
		this_cpu_add(r->pc->read_bytes, len);
		memset(val, 0, len);
		return 0;
	}
	softee_ring_read(r, vcpu, addr, len, val);
	return 0;
}

/*
 * KVM calls this only when it tears a bus down with the device still on
 * it.  The session holds a VM reference and unregisters every region
 * before dropping it, so that happens only when KVM fails to shrink a bus
 * (kvm_io_bus_unregister_dev under memory pressure drops the whole bus).
 * The session still owns the memory; just note the device is off the bus.
 */
static void softee_io_destructor(struct kvm_io_device *dev)
{
	WRITE_ONCE(to_region(dev)->registered, false);
}

static const struct kvm_io_device_ops softee_io_ops = {
	.read		= softee_io_read,
	.write		= softee_io_write,
	.destructor	= softee_io_destructor,
};

static enum kvm_bus softee_kvm_bus(u8 bus)
{
	return bus == SOFTEE_BUS_PIO ? KVM_PIO_BUS : KVM_MMIO_BUS;
}

void softee_region_sum(struct softee_region_k *r, struct softee_counters *out)
{
	int cpu;

	memset(out, 0, sizeof(*out));
	for_each_possible_cpu(cpu)
		softee_counters_add(out, per_cpu_ptr(r->pc, cpu));
}

static int softee_region_check(const struct softee_region *a)
{
	if (a->flags & ~SOFTEE_REGION_F_NULL)
		return -EINVAL;
	if (a->bus != SOFTEE_BUS_MMIO && a->bus != SOFTEE_BUS_PIO)
		return -EINVAL;
	if (memchr_inv(a->__pad, 0, sizeof(a->__pad)) || a->id ||
	    a->__reserved[0] || a->__reserved[1])
		return -EINVAL;
	if (!a->len || a->len > SOFTEE_REGION_MAX_LEN)
		return -EINVAL;
	if (a->base + a->len < a->base)
		return -EOVERFLOW;
	if (a->bus == SOFTEE_BUS_PIO && a->base + a->len > 0x10000)
		return -EOVERFLOW;
	return 0;
}

/* Caller holds s->lock and kvm->slots_lock. */
static int softee_region_conflict(struct softee_session *s,
				  const struct softee_region *a)
{
	int i, ret;

	for (i = 0; i < SOFTEE_MAX_REGIONS; i++) {
		struct softee_region_k *o = s->regions[i];

		if (o && o->bus == a->bus && a->base < o->base + o->len &&
		    o->base < a->base + a->len)
			return -EEXIST;
	}
	/* Config traps' ports and ECAM pages are theirs alone. */
	ret = softee_cfg_region_conflict(s, a->bus, a->base, a->len);
	if (ret)
		return ret;
	if (a->bus == SOFTEE_BUS_MMIO &&
	    softee_overlaps_memslot(s->kvm, a->base, a->len))
		return -EADDRNOTAVAIL;
	return 0;
}

static void softee_region_free(struct softee_region_k *r)
{
	free_percpu(r->pc);
	kfree(r);
}

int softee_region_add(struct softee_session *s, void __user *u)
{
	struct softee_region_k *r;
	struct softee_region a;
	struct kvm *kvm = s->kvm;
	u32 usize;
	int ret, id;

	ret = softee_uarg_in(&a, sizeof(a), sizeof(a), u, &usize);
	if (ret)
		return ret;
	ret = softee_region_check(&a);
	if (ret)
		return ret;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	r->pc = alloc_percpu(struct softee_counters);
	if (!r->pc) {
		kfree(r);
		return -ENOMEM;
	}
	r->s = s;
	r->flags = a.flags;
	r->bus = a.bus;
	r->base = a.base;
	r->len = a.len;
	kvm_iodevice_init(&r->dev, &softee_io_ops);

	mutex_lock(&s->lock);
	mutex_lock(&kvm->slots_lock);
	for (id = 0; id < SOFTEE_MAX_REGIONS && s->regions[id]; id++)
		;
	if (id == SOFTEE_MAX_REGIONS) {
		ret = -ENOSPC;
		goto err_unlock;
	}
	ret = softee_region_conflict(s, &a);
	if (ret)
		goto err_unlock;
	r->id = id;
	ret = softee_io_bus_register(kvm, softee_kvm_bus(a.bus), a.base,
				     a.len, &r->dev);
	if (ret)
		goto err_unlock;
	r->registered = true;
	s->regions[id] = r;
	mutex_unlock(&kvm->slots_lock);
	mutex_unlock(&s->lock);

	a.id = id;
	ret = softee_uarg_out(u, usize, &a, sizeof(a));
	/*
	 * The region stays on a failed copy-out: user space can find it by
	 * its stats or remove it by closing the session.
	 */
	return ret;

err_unlock:
	mutex_unlock(&kvm->slots_lock);
	mutex_unlock(&s->lock);
	softee_region_free(r);
	return ret;
}

/*
 * Take a region out: end its waiting reads (dead), then leave KVM's bus,
 * whose synchronize_srcu waits for every vCPU still in our callbacks.
 * Caller holds s->lock.
 */
static void softee_region_remove(struct softee_session *s,
				 struct softee_region_k *r)
{
	struct kvm *kvm = s->kvm;

	WRITE_ONCE(r->dead, true);
	mutex_lock(&kvm->slots_lock);
	if (READ_ONCE(r->registered))
		softee_io_bus_unregister(kvm, softee_kvm_bus(r->bus), &r->dev);
	mutex_unlock(&kvm->slots_lock);
	s->regions[r->id] = NULL;
	softee_region_free(r);
}

int softee_region_del(struct softee_session *s, void __user *u)
{
	struct softee_region_del d;
	struct softee_region_k *r;
	u32 usize, id;
	int ret;

	ret = softee_uarg_in(&d, sizeof(d), sizeof(d), u, &usize);
	if (ret)
		return ret;
	if (d.flags || d.__reserved)
		return -EINVAL;
	if (d.id >= SOFTEE_MAX_REGIONS)
		return -ENOENT;
	id = array_index_nospec(d.id, SOFTEE_MAX_REGIONS);

	mutex_lock(&s->lock);
	r = s->regions[id];
	if (r)
		softee_region_remove(s, r);
	mutex_unlock(&s->lock);
	return r ? 0 : -ENOENT;
}

void softee_region_remove_all(struct softee_session *s)
{
	int i;

	mutex_lock(&s->lock);
	for (i = 0; i < SOFTEE_MAX_REGIONS; i++)
		if (s->regions[i])
			softee_region_remove(s, s->regions[i]);
	mutex_unlock(&s->lock);
}
