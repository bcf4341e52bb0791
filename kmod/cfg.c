// SPDX-License-Identifier: GPL-2.0
/*
 * Config space traps: the PCI configuration space of chosen BDFs goes to
 * the rings, every other config cycle still reaches the VMM.
 *
 * Three kinds of kvm_io_device do it:
 *
 *  - CONFIG_ADDRESS, port 0xcf8, one per session: a 4-byte write is
 *    recorded, then declined, so that KVM still exits to the VMM with it
 *    (kvm_io_bus_write() goes on to the next device and, when none takes
 *    the access, returns -EOPNOTSUPP and the vCPU exits).  The VMM's own
 *    latch must see every CONFIG_ADDRESS write, or it would answer a later
 *    CONFIG_DATA access for the wrong function.  Reads are declined: the
 *    VMM has the same value.
 *  - CONFIG_DATA, ports 0xcfc-0xcff, one per session: takes an access when
 *    the recorded address is enabled and names a trapped BDF, and declines
 *    the rest.
 *  - the ECAM page of a trapped BDF, one per trap that asked for it.
 *
 * Both port devices are registered with the first trap and unregistered
 * with the last; the recorded address starts at 0 (disabled) each time,
 * so until the guest writes 0xcf8 again the VMM answers, which it does
 * from its own, always current, latch.
 *
 * The recorded address is per VM, like the chipset's and the VMM's.  Two
 * vCPUs that write 0xcf8 and touch 0xcfc without a lock race on it exactly
 * as they would on hardware; a guest that serialises the pair (Linux's
 * pci_config_lock, firmware running on one CPU) gets the same order here
 * and in the VMM, since each 0xcf8 write reaches both before the vCPU
 * goes on.  What the module cannot see: the VMM resetting its latch (a
 * system reset), and the later elements of a string "rep outsl" to 0xcf8,
 * of which KVM hands only the first to devices.  Neither is done by a
 * guest that expects its next CONFIG_DATA access to mean anything.
 *
 * The trapped BDFs are found through s->cfgs[], published with
 * rcu_assign_pointer() under s->lock and read by the CONFIG_DATA device
 * inside the vCPU's kvm->srcu read section (KVM calls every io device
 * there); removal clears the slot, marks the trap dead (which ends its
 * waiting reads) and waits for kvm->srcu before freeing it.
 */
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "softee.h"

#define SOFTEE_CF8		0xcf8
#define SOFTEE_CFC		0xcfc
#define SOFTEE_CF8_ENABLE	(1U << 31)
#define SOFTEE_CFG_PAGE		4096ULL
#define SOFTEE_ECAM_ALIGN	(1ULL << 20)
/* x86's largest MAXPHYADDR: no guest-physical address lies above it. */
#define SOFTEE_ECAM_LIMIT	(1ULL << 52)

static inline struct softee_region_k *to_cfg(struct kvm_io_device *dev)
{
	return container_of(dev, struct softee_region_k, dev);
}

/* Can one config TLP (one dword, byte enables) carry it? */
static bool softee_cfg_len_ok(u32 reg, int len)
{
	return (len == 1 || len == 2 || len == 4) && (reg & 3) + len <= 4;
}

/*
 * A trap on its way out declines at once rather than queue into a ring
 * nobody will answer: the VMM has this config cycle back from the moment
 * removal (or the session's release) starts, not from when it ends.
 */
static bool softee_cfg_dead(const struct softee_region_k *r)
{
	return READ_ONCE(r->dead) || READ_ONCE(r->s->dead);
}

static void softee_cfg_decline(struct softee_session *s)
{
	/* The access exits to user space, which costs far more than this. */
	atomic64_inc(&s->cfg_declined);
}

/* ---- CONFIG_ADDRESS --------------------------------------------------------- */

static int softee_cf8_write(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			    gpa_t addr, int len, const void *val)
{
	struct softee_session *s = container_of(dev, struct softee_session,
						cf8_dev);
	u32 v;

	/*
	 * Only a dword write at 0xcf8 is CONFIG_ADDRESS: byte writes in
	 * 0xcf8-0xcfb are other registers (0xcf9 is reset control), and the
	 * VMM ignores them as the address too.
	 */
	if (addr == SOFTEE_CF8 && len == 4) {
		memcpy(&v, val, sizeof(v));
		WRITE_ONCE(s->cfg_latch, v);
	}
	/* Declined, so the VMM records it too (see the top of this file). */
	return -EOPNOTSUPP;
}

static int softee_cf8_read(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			   gpa_t addr, int len, void *val)
{
	return -EOPNOTSUPP;
}

static void softee_cf8_destructor(struct kvm_io_device *dev)
{
	struct softee_session *s = container_of(dev, struct softee_session,
						cf8_dev);

	/* As softee_io_destructor: only when KVM drops a whole bus. */
	WRITE_ONCE(s->cf8_on, false);
}

static const struct kvm_io_device_ops softee_cf8_ops = {
	.read		= softee_cf8_read,
	.write		= softee_cf8_write,
	.destructor	= softee_cf8_destructor,
};

/* ---- CONFIG_DATA ------------------------------------------------------------ */

/*
 * The trap this CONFIG_DATA access is for, and its SOFTEE_CFG_ADDR in
 * *cfg_addr; NULL to decline.  Runs inside the vCPU's kvm->srcu section.
 */
static struct softee_region_k *softee_cfc_target(struct softee_session *s,
						 gpa_t port, int len,
						 u64 *cfg_addr)
{
	u32 latch = READ_ONCE(s->cfg_latch);
	struct softee_region_k *r;
	u32 bdf, reg;
	int i;

	if (!(latch & SOFTEE_CF8_ENABLE))
		return NULL;
	/* KVM calls us for any overlap: keep what lies inside the dword. */
	if (port < SOFTEE_CFC || port - SOFTEE_CFC + len > 4 ||
	    !softee_cfg_len_ok(port & 3, len))
		return NULL;
	/* Bits 30:24 are reserved (AMD's extended-register bits included). */
	bdf = (latch >> 8) & 0xffff;
	reg = (latch & 0xfc) | (port & 3);
	for (i = 0; i < SOFTEE_MAX_CFG; i++) {
		r = srcu_dereference(s->cfgs[i], &s->kvm->srcu);
		if (r && r->bdf == bdf) {
			if (softee_cfg_dead(r))
				return NULL;
			*cfg_addr = SOFTEE_CFG_ADDR(bdf, reg);
			return r;
		}
	}
	return NULL;
}

static int softee_cfc_write(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			    gpa_t addr, int len, const void *val)
{
	struct softee_session *s = container_of(dev, struct softee_session,
						cfc_dev);
	struct softee_region_k *r;
	u64 cfg_addr;

	r = softee_cfc_target(s, addr, len, &cfg_addr);
	if (!r) {
		softee_cfg_decline(s);
		return -EOPNOTSUPP;
	}
	softee_ring_write(r, vcpu, cfg_addr, len, val);
	return 0;
}

static int softee_cfc_read(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			   gpa_t addr, int len, void *val)
{
	struct softee_session *s = container_of(dev, struct softee_session,
						cfc_dev);
	struct softee_region_k *r;
	u64 cfg_addr;

	r = softee_cfc_target(s, addr, len, &cfg_addr);
	if (!r) {
		softee_cfg_decline(s);
		return -EOPNOTSUPP;
	}
	softee_ring_read(r, vcpu, cfg_addr, len, val);
	return 0;
}

static void softee_cfc_destructor(struct kvm_io_device *dev)
{
	struct softee_session *s = container_of(dev, struct softee_session,
						cfc_dev);

	WRITE_ONCE(s->cfc_on, false);
}

static const struct kvm_io_device_ops softee_cfc_ops = {
	.read		= softee_cfc_read,
	.write		= softee_cfc_write,
	.destructor	= softee_cfc_destructor,
};

/* ---- the ECAM page ---------------------------------------------------------- */

/* The register of an access inside r's ECAM page, or -1 to decline. */
static int softee_ecam_reg(const struct softee_region_k *r, gpa_t addr,
			   int len)
{
	u64 reg;

	if (addr < r->ecam || softee_cfg_dead(r))
		return -1;
	reg = addr - r->ecam;
	if (reg >= SOFTEE_CFG_PAGE || !softee_cfg_len_ok(reg, len))
		return -1;
	return reg;
}

static int softee_ecam_write(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			     gpa_t addr, int len, const void *val)
{
	struct softee_region_k *r = to_cfg(dev);
	int reg = softee_ecam_reg(r, addr, len);

	if (reg < 0) {
		softee_cfg_decline(r->s);
		return -EOPNOTSUPP;
	}
	softee_ring_write(r, vcpu, SOFTEE_CFG_ADDR(r->bdf, reg), len, val);
	return 0;
}

static int softee_ecam_read(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			    gpa_t addr, int len, void *val)
{
	struct softee_region_k *r = to_cfg(dev);
	int reg = softee_ecam_reg(r, addr, len);

	if (reg < 0) {
		softee_cfg_decline(r->s);
		return -EOPNOTSUPP;
	}
	softee_ring_read(r, vcpu, SOFTEE_CFG_ADDR(r->bdf, reg), len, val);
	return 0;
}

static void softee_ecam_destructor(struct kvm_io_device *dev)
{
	WRITE_ONCE(to_cfg(dev)->registered, false);
}

static const struct kvm_io_device_ops softee_ecam_ops = {
	.read		= softee_ecam_read,
	.write		= softee_ecam_write,
	.destructor	= softee_ecam_destructor,
};

/* ---- the port devices ------------------------------------------------------- */

/* Caller holds s->lock and kvm->slots_lock. */
static int softee_cfg_io_on(struct softee_session *s)
{
	struct kvm *kvm = s->kvm;
	int ret;

	/* Nothing can run the old devices any more: unregistering waited. */
	WRITE_ONCE(s->cfg_latch, 0);
	kvm_iodevice_init(&s->cf8_dev, &softee_cf8_ops);
	kvm_iodevice_init(&s->cfc_dev, &softee_cfc_ops);
	ret = softee_io_bus_register(kvm, KVM_PIO_BUS, SOFTEE_CF8, 4,
				     &s->cf8_dev);
	if (ret)
		return ret;
	s->cf8_on = true;
	ret = softee_io_bus_register(kvm, KVM_PIO_BUS, SOFTEE_CFC, 4,
				     &s->cfc_dev);
	if (ret) {
		if (READ_ONCE(s->cf8_on))
			softee_io_bus_unregister(kvm, KVM_PIO_BUS, &s->cf8_dev);
		s->cf8_on = false;
		return ret;
	}
	s->cfc_on = true;
	return 0;
}

/* Caller holds s->lock and kvm->slots_lock. */
static void softee_cfg_io_off(struct softee_session *s)
{
	struct kvm *kvm = s->kvm;

	if (READ_ONCE(s->cfc_on))
		softee_io_bus_unregister(kvm, KVM_PIO_BUS, &s->cfc_dev);
	if (READ_ONCE(s->cf8_on))
		softee_io_bus_unregister(kvm, KVM_PIO_BUS, &s->cf8_dev);
	s->cfc_on = false;
	s->cf8_on = false;
}

/* ---- SOFTEE_CFG_ADD / SOFTEE_CFG_DEL ---------------------------------------- */

static struct softee_region_k *softee_cfg_slot(struct softee_session *s,
					       u32 id)
{
	return rcu_dereference_protected(s->cfgs[id],
					 lockdep_is_held(&s->lock));
}

static int softee_cfg_check(const struct softee_cfg *c)
{
	u32 bus = c->bdf >> 8;

	if (c->flags & ~SOFTEE_CFG_F_ECAM)
		return -EINVAL;
	if (c->bdf > 0xffff || c->id ||
	    memchr_inv(c->__pad, 0, sizeof(c->__pad)) ||
	    c->__reserved[0] || c->__reserved[1])
		return -EINVAL;
	if (!(c->flags & SOFTEE_CFG_F_ECAM)) {
		if (c->ecam_base || c->ecam_bus_start || c->ecam_bus_end)
			return -EINVAL;
		return 0;
	}
	if (!IS_ALIGNED(c->ecam_base, SOFTEE_ECAM_ALIGN) ||
	    c->ecam_bus_start > c->ecam_bus_end ||
	    bus < c->ecam_bus_start || bus > c->ecam_bus_end)
		return -EINVAL;
	/* The window [base, base + (end + 1) MiB) must be addressable. */
	if (c->ecam_base >= SOFTEE_ECAM_LIMIT ||
	    ((u64)c->ecam_bus_end + 1) * SOFTEE_ECAM_ALIGN >
	    SOFTEE_ECAM_LIMIT - c->ecam_base)
		return -EOVERFLOW;
	return 0;
}

static bool softee_overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * Would a region [base, base + len) on bus take accesses a config trap
 * needs?  For softee_region_add; caller holds s->lock.
 */
int softee_cfg_region_conflict(struct softee_session *s, u8 bus, u64 base,
			       u64 len)
{
	struct softee_region_k *r;
	int i;

	if (bus == SOFTEE_BUS_PIO)
		return s->nr_cfgs &&
		       softee_overlaps(base, len, SOFTEE_CF8, 8) ? -EEXIST : 0;
	for (i = 0; i < SOFTEE_MAX_CFG; i++) {
		r = softee_cfg_slot(s, i);
		if (r && (r->flags & SOFTEE_CFG_F_ECAM) &&
		    softee_overlaps(base, len, r->ecam, SOFTEE_CFG_PAGE))
			return -EEXIST;
	}
	return 0;
}

/* Caller holds s->lock and kvm->slots_lock. */
static int softee_cfg_conflict(struct softee_session *s,
			       const struct softee_region_k *n)
{
	struct softee_region_k *o;
	int i;

	for (i = 0; i < SOFTEE_MAX_CFG; i++) {
		o = softee_cfg_slot(s, i);
		if (!o)
			continue;
		if (o->bdf == n->bdf)
			return -EEXIST;
		if ((o->flags & n->flags & SOFTEE_CFG_F_ECAM) && o->ecam == n->ecam)
			return -EEXIST;
	}
	for (i = 0; i < SOFTEE_MAX_REGIONS; i++) {
		o = s->regions[i];
		if (!o)
			continue;
		if (o->bus == SOFTEE_BUS_PIO &&
		    softee_overlaps(o->base, o->len, SOFTEE_CF8, 8))
			return -EEXIST;
		if ((n->flags & SOFTEE_CFG_F_ECAM) && o->bus == SOFTEE_BUS_MMIO &&
		    softee_overlaps(o->base, o->len, n->ecam, SOFTEE_CFG_PAGE))
			return -EEXIST;
	}
	if ((n->flags & SOFTEE_CFG_F_ECAM) &&
	    softee_overlaps_memslot(s->kvm, n->ecam, SOFTEE_CFG_PAGE))
		return -EADDRNOTAVAIL;
	return 0;
}

static void softee_cfg_free(struct softee_region_k *r)
{
	free_percpu(r->pc);
	kfree(r);
}

static struct softee_region_k *softee_cfg_alloc(struct softee_session *s,
						const struct softee_cfg *c)
{
	struct softee_region_k *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return NULL;
	r->pc = alloc_percpu(struct softee_counters);
	if (!r->pc) {
		kfree(r);
		return NULL;
	}
	r->s = s;
	r->flags = c->flags;
	r->bus = SOFTEE_BUS_CFG;
	r->bdf = c->bdf;
	r->base = SOFTEE_CFG_ADDR(c->bdf, 0);
	r->len = SOFTEE_CFG_PAGE;
	if (c->flags & SOFTEE_CFG_F_ECAM)
		r->ecam = c->ecam_base + SOFTEE_CFG_ADDR(c->bdf, 0);
	kvm_iodevice_init(&r->dev, &softee_ecam_ops);
	return r;
}

int softee_cfg_add(struct softee_session *s, void __user *u)
{
	struct kvm *kvm = s->kvm;
	struct softee_region_k *r;
	struct softee_cfg c;
	bool io_new = false;
	u32 usize;
	int ret, id;

	ret = softee_uarg_in(&c, sizeof(c), sizeof(c), u, &usize);
	if (ret)
		return ret;
	ret = softee_cfg_check(&c);
	if (ret)
		return ret;
	r = softee_cfg_alloc(s, &c);
	if (!r)
		return -ENOMEM;

	mutex_lock(&s->lock);
	mutex_lock(&kvm->slots_lock);
	for (id = 0; id < SOFTEE_MAX_CFG && softee_cfg_slot(s, id); id++)
		;
	ret = softee_cfg_conflict(s, r);
	if (ret)
		goto err_unlock;
	if (id == SOFTEE_MAX_CFG) {
		ret = -ENOSPC;
		goto err_unlock;
	}
	r->id = id;
	if (!s->nr_cfgs) {
		ret = softee_cfg_io_on(s);
		if (ret)
			goto err_unlock;
		io_new = true;
	}
	if (r->flags & SOFTEE_CFG_F_ECAM) {
		ret = softee_io_bus_register(kvm, KVM_MMIO_BUS, r->ecam,
					     SOFTEE_CFG_PAGE, &r->dev);
		if (ret)
			goto err_io;
		r->registered = true;
	}
	/* Pairs with srcu_dereference() in softee_cfc_target(). */
	rcu_assign_pointer(s->cfgs[id], r);
	s->nr_cfgs++;
	mutex_unlock(&kvm->slots_lock);
	mutex_unlock(&s->lock);

	c.id = id;
	/* As for regions: the trap stays on a failed copy-out. */
	return softee_uarg_out(u, usize, &c, sizeof(c));

err_io:
	if (io_new)
		softee_cfg_io_off(s);
err_unlock:
	mutex_unlock(&kvm->slots_lock);
	mutex_unlock(&s->lock);
	softee_cfg_free(r);
	return ret;
}

/*
 * Take a trap out: end its waiting reads (dead), unpublish it, take its
 * ECAM page (and with the last trap the port devices) off KVM's buses,
 * then wait until no vCPU can still be in our callbacks with it: a
 * CONFIG_DATA access that found it in cfgs[] holds kvm->srcu.  Caller
 * holds s->lock.
 */
static void softee_cfg_remove(struct softee_session *s,
			      struct softee_region_k *r)
{
	struct kvm *kvm = s->kvm;

	WRITE_ONCE(r->dead, true);
	RCU_INIT_POINTER(s->cfgs[r->id], NULL);
	s->nr_cfgs--;
	mutex_lock(&kvm->slots_lock);
	if (READ_ONCE(r->registered))
		softee_io_bus_unregister(kvm, KVM_MMIO_BUS, &r->dev);
	if (!s->nr_cfgs)
		softee_cfg_io_off(s);
	mutex_unlock(&kvm->slots_lock);
	synchronize_srcu(&kvm->srcu);
	softee_cfg_free(r);
}

int softee_cfg_del(struct softee_session *s, void __user *u)
{
	struct softee_cfg_del d;
	struct softee_region_k *r;
	u32 usize, id;
	int ret;

	ret = softee_uarg_in(&d, sizeof(d), sizeof(d), u, &usize);
	if (ret)
		return ret;
	if (d.flags || d.__reserved)
		return -EINVAL;
	if (d.id >= SOFTEE_MAX_CFG)
		return -ENOENT;
	id = array_index_nospec(d.id, SOFTEE_MAX_CFG);

	mutex_lock(&s->lock);
	r = softee_cfg_slot(s, id);
	if (r)
		softee_cfg_remove(s, r);
	mutex_unlock(&s->lock);
	return r ? 0 : -ENOENT;
}

void softee_cfg_remove_all(struct softee_session *s)
{
	struct softee_region_k *r;
	int i;

	mutex_lock(&s->lock);
	for (i = 0; i < SOFTEE_MAX_CFG; i++) {
		r = softee_cfg_slot(s, i);
		if (r)
			softee_cfg_remove(s, r);
	}
	mutex_unlock(&s->lock);
}
