/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softee.ko internals: sessions, rings and regions.
 *
 * A session binds one KVM VM to one user-space consumer (the poller).  It
 * owns the rings (one per vCPU, in vmalloc memory the consumer mmaps) and
 * the regions (kvm_io_devices on KVM's MMIO or PIO bus).  Lifetimes:
 *
 *  - the session file holds a reference on the module (fops owner) and on
 *    the VM (kvm_get_kvm), so neither goes away under it;
 *  - regions exist only inside a session; removing one (or closing the
 *    session) first marks it dead, which ends every read waiting on it,
 *    then unregisters it from KVM's bus (whose synchronize_srcu waits for
 *    vCPUs still inside the callbacks), then frees it;
 *  - the ring memory is freed when the last reference to the session file
 *    goes, which an mmap of it also holds;
 *  - config traps (cfg.c) are regions of bus SOFTEE_BUS_CFG, found by the
 *    session's CONFIG_DATA device through cfgs[] (published with RCU, read
 *    inside the vCPU's kvm->srcu section); removing one clears its slot and
 *    waits for kvm->srcu before freeing it.
 */
#ifndef _SOFTEE_KMOD_H
#define _SOFTEE_KMOD_H

#include <linux/kvm_host.h>
#include <kvm/iodev.h>
#include <linux/mutex.h>
#include <linux/percpu.h>

#include "../uapi/softee.h"
#include "compat.h"

#define SOFTEE_MAX_RING_BYTES	(64UL << 20)	/* all rings of a session */
#define SOFTEE_REGION_MAX_LEN	(1ULL << 30)	/* KVM's io range len is int */

struct softee_session;

/* The kernel's view of one ring.  Only the vCPU that owns it writes here. */
struct softee_kring {
	u32 *prod;			/* shared, kernel writes */
	u32 *flags;			/* shared, kernel writes */
	u32 *cons;			/* shared, user writes: untrusted */
	struct softee_ring_entry *ent;	/* shared */
	u32 head;			/* private producer index */
	u32 nr;				/* entries, a power of two */
	u32 mask;
	bool broken;			/* corrupt: no longer used */
	bool stalled;			/* the consumer missed a deadline */
	u32 stall_cons;			/* cons when it did */
	u64 stall_probe_at;		/* the next read that waits (ns) */
	struct softee_counters c;	/* written by the owning vCPU only */
} ____cacheline_aligned_in_smp;

struct softee_region_k {
	struct kvm_io_device dev;	/* a config trap's: its ECAM page */
	struct softee_session *s;
	u32 id;
	u32 flags;
	u8 bus;
	bool registered;
	bool dead;			/* WRITE_ONCE by del/close */
	u64 base;			/* config trap: SOFTEE_CFG_ADDR(bdf, 0) */
	u64 len;			/* config trap: 4096 */
	u32 bdf;			/* config trap */
	u64 ecam;			/* config trap with F_ECAM: its page */
	struct softee_counters __percpu *pc;
};

struct softee_session {
	struct kvm *kvm;
	u32 id;
	bool dead;			/* WRITE_ONCE at close */
	bool timestamps;		/* SOFTEE_ATTACH_F_TIMESTAMPS */
	u32 timeout_us;			/* READ_ONCE on the data path */
	u32 nr_rings;
	u32 ring_entries;
	u32 ring_bytes;
	size_t mmap_bytes;
	void *mem;			/* vmalloc_user: all rings */
	struct softee_kring *rings;
	atomic64_t no_ring;

	struct mutex lock;		/* regions[], cfgs[], the debugfs view */
	struct softee_region_k *regions[SOFTEE_MAX_REGIONS];

	/*
	 * Config traps.  The CONFIG_ADDRESS (0xcf8) and CONFIG_DATA (0xcfc)
	 * devices are on KVM's PIO bus while at least one trap exists.
	 */
	struct softee_region_k __rcu *cfgs[SOFTEE_MAX_CFG];
	u32 nr_cfgs;			/* under lock */
	u32 cfg_latch;			/* the guest's last 4-byte 0xcf8 write;
					 * WRITE_ONCE/READ_ONCE by vCPUs */
	bool cf8_on, cfc_on;		/* on the bus; the destructors clear */
	struct kvm_io_device cf8_dev;
	struct kvm_io_device cfc_dev;
	atomic64_t cfg_declined;

	struct list_head node;		/* softee_sessions, under softee_lock */
	struct dentry *dbg;
};

/* main.c */
extern struct mutex softee_lock;
extern struct dentry *softee_debugfs_root;

/* symbols.c: KVM's unexported io bus functions, found at load. */
int softee_resolve_symbols(void);
bool softee_have_send_msi(void);
int softee_send_msi(struct kvm *kvm, struct kvm_msi *msi);
int softee_io_bus_register(struct kvm *kvm, enum kvm_bus bus, gpa_t addr,
			   int len, struct kvm_io_device *dev);
int softee_io_bus_unregister(struct kvm *kvm, enum kvm_bus bus,
			     struct kvm_io_device *dev);

/* session.c */
long softee_attach(void __user *uarg);
int softee_uarg_in(void *k, size_t ksize, size_t min, void __user *u,
		   u32 *usize);
int softee_uarg_out(void __user *u, u32 usize, const void *k, size_t ksize);
void softee_session_sum(struct softee_session *s, struct softee_counters *c);

/* region.c */
int softee_region_add(struct softee_session *s, void __user *uarg);
int softee_region_del(struct softee_session *s, void __user *uarg);
void softee_region_remove_all(struct softee_session *s);
void softee_region_sum(struct softee_region_k *r, struct softee_counters *out);

/* cfg.c */
int softee_cfg_add(struct softee_session *s, void __user *uarg);
int softee_cfg_del(struct softee_session *s, void __user *uarg);
void softee_cfg_remove_all(struct softee_session *s);
int softee_cfg_region_conflict(struct softee_session *s, u8 bus, u64 base,
			       u64 len);

/* ring.c */
void softee_ring_init(struct softee_session *s);
void softee_ring_mark(struct softee_session *s, u32 flag);
u32 softee_ring_state(const struct softee_session *s, const struct softee_kring *k);
void softee_ring_write(struct softee_region_k *r, struct kvm_vcpu *vcpu,
		       gpa_t addr, int len, const void *val);
void softee_ring_read(struct softee_region_k *r, struct kvm_vcpu *vcpu,
		      gpa_t addr, int len, void *val);
void softee_counters_add(struct softee_counters *to,
			 const struct softee_counters *from);

/* debugfs.c */
void softee_debugfs_add(struct softee_session *s);
void softee_debugfs_del(struct softee_session *s);

#endif /* _SOFTEE_KMOD_H */
