/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * softee - the ABI between softee.ko and user space.
 *
 * This header is the contract: fixed-width types only, explicit padding,
 * no pointers.  Every ioctl struct starts with __u32 size and carries
 * __u32 flags; the kernel copies min(size, its size) bytes, answers E2BIG
 * when the caller's struct is longer and the extra bytes are not zero, and
 * EINVAL when a flag or a reserved field it does not understand is set.
 * The layout is pinned by static asserts at the end of this file, which
 * both the module and user space compile.
 */
#ifndef _UAPI_SOFTEE_H
#define _UAPI_SOFTEE_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define SOFTEE_DEVICE		"/dev/softee"
#define SOFTEE_API_VERSION	1

/**
 * DOC: General ioctl format
 *
 * ioctls are _IO(SOFTEE_TYPE, nr): the size of the argument travels in its
 * first field, not in the command number, so structs can grow.  The caller
 * zeroes what it does not use.
 *
 * /dev/softee takes SOFTEE_ATTACH; everything else is an ioctl on the
 * session fd that SOFTEE_ATTACH returns.  Both need CAP_SYS_ADMIN.
 *
 * What each errno means here:
 *
 * - EPERM:	  the caller lacks CAP_SYS_ADMIN.
 * - EFAULT:	  the argument pointer is bad, or the answer cannot be
 *		  written back.
 * - EINVAL:	  size smaller than the first release of the struct, an
 *		  unknown flag, a reserved field not zero, or a field out of
 *		  its documented range (ring count, ring size, length, bus,
 *		  BDF, ECAM base alignment and bus range).
 * - E2BIG:	  size larger than the kernel's struct and the extra bytes
 *		  are not zero: the caller uses a newer ABI than this module;
 *		  or size larger than a page.
 * - EBADF:	  vm_fd is not an open file descriptor.
 * - ENOTTY:	  vm_fd is open but is not a KVM VM; or an unknown ioctl.
 * - EBUSY:	  the VM already has a softee session.
 * - EOVERFLOW:  base + len wraps, or a PIO region goes past port 0xffff;
 *		  or a config trap's ECAM window ends past 2^52.
 * - EEXIST:	  the region overlaps another region of the session; or the
 *		  BDF is trapped already, or the ports 0xcf8-0xcff or an ECAM
 *		  page are claimed by both a region and a config trap.
 * - EADDRNOTAVAIL: the MMIO region (or ECAM page) overlaps guest RAM (a
 *		  memslot); the guest's accesses there never leave the guest.
 * - ENOSPC:	  the session has SOFTEE_MAX_REGIONS regions or
 *		  SOFTEE_MAX_CFG config traps, or KVM's I/O bus is full.
 * - ENOENT:	  no region, config trap or ring with that id.
 * - ENOMEM:	  out of memory.
 * - EMFILE:	  SOFTEE_ATTACH: no fd is free below RLIMIT_NOFILE for the
 *		  session.
 * - EOPNOTSUPP:  SOFTEE_SIGNAL_MSI where the module found no
 *		  kvm_send_userspace_msi at load (SOFTEE_FEAT_MSI clear).
 * - ENXIO:	  SOFTEE_SIGNAL_MSI: KVM found no vCPU to offer the
 *		  message to (a VM without vCPUs).
 */
#define SOFTEE_TYPE		0xE5

#define SOFTEE_ATTACH		_IO(SOFTEE_TYPE, 0x00)
#define SOFTEE_REGION_ADD	_IO(SOFTEE_TYPE, 0x01)
#define SOFTEE_REGION_DEL	_IO(SOFTEE_TYPE, 0x02)
#define SOFTEE_SET_TIMEOUT	_IO(SOFTEE_TYPE, 0x03)
#define SOFTEE_GET_STATS	_IO(SOFTEE_TYPE, 0x04)
#define SOFTEE_CFG_ADD		_IO(SOFTEE_TYPE, 0x05)
#define SOFTEE_CFG_DEL		_IO(SOFTEE_TYPE, 0x06)
#define SOFTEE_SIGNAL_MSI	_IO(SOFTEE_TYPE, 0x07)

/* Limits.  The kernel checks every value against them. */
#define SOFTEE_MAX_RINGS		1024	/* rings (vCPUs) per session */
#define SOFTEE_RING_MIN_ENTRIES		8
#define SOFTEE_RING_MAX_ENTRIES		65536
#define SOFTEE_RING_DEFAULT_ENTRIES	256
#define SOFTEE_MAX_REGIONS		64	/* regions per session */
#define SOFTEE_MAX_CFG			16	/* config traps (BDFs) per session */
#define SOFTEE_TIMEOUT_DEFAULT_US	50000	/* 50 ms */
#define SOFTEE_TIMEOUT_MAX_US		10000000 /* 10 s */

/* SOFTEE_ATTACH answers with these in softee_attach.features. */
#define SOFTEE_FEAT_MMIO	(1U << 0)	/* MMIO regions */
#define SOFTEE_FEAT_PIO		(1U << 1)	/* port I/O regions */
#define SOFTEE_FEAT_NULL	(1U << 2)	/* SOFTEE_REGION_F_NULL */
#define SOFTEE_FEAT_STATS	(1U << 3)	/* SOFTEE_GET_STATS */
#define SOFTEE_FEAT_DEBUGFS	(1U << 4)	/* /sys/kernel/debug/softee */
#define SOFTEE_FEAT_TIMESTAMPS	(1U << 5)	/* SOFTEE_ATTACH_F_TIMESTAMPS */
#define SOFTEE_FEAT_CFG		(1U << 6)	/* SOFTEE_CFG_ADD/DEL, SOFTEE_BUS_CFG */
#define SOFTEE_FEAT_MSI		(1U << 7)	/* SOFTEE_SIGNAL_MSI */
#define SOFTEE_FEAT_STALL	(1U << 8)	/* stalled rings fail fast (below),
						 * unless stall_probe_ms is 0 */

/* softee_attach.flags */
#define SOFTEE_ATTACH_F_TIMESTAMPS (1U << 0)	/* fill entry.time_ns */

/**
 * DOC: Ring layout
 *
 * One ring per vCPU (ring i serves the vCPU whose kvm vcpu_idx is i).  All
 * rings live in one mapping of the session fd at SOFTEE_OFF_RINGS, ring i
 * at i * ring_bytes.  Within a ring the offsets come from
 * struct softee_ring_offsets; today's module lays a ring out as:
 *
 *   byte 0               64                128                      ring_bytes
 *   +--------------------+-----------------+--------------------------+
 *   | prod  flags  ...   | cons  ...       | entry[0] | entry[1] | ...|
 *   +--------------------+-----------------+--------------------------+
 *     kernel writes        user writes        64 bytes each,
 *     (own cache line)     (own cache line)   ring_entries of them
 *
 * Indices run free as __u32 and are masked with ring_mask only to pick an
 * entry.  prod - cons is the number of entries the consumer has not
 * retired; a value above ring_entries means user space broke the ring: the
 * kernel then sets SOFTEE_RING_F_CORRUPT and stops using it.
 *
 * Producing (kernel, at a guest access):
 *	fill entry[prod & mask], entry.done = ~entry.seq;
 *	smp_store_release(&prod, prod + 1)   pairs with the consumer's acquire
 * Consuming (user space):
 *	p = load_acquire(&prod); while (cons != p) { handle entry[cons & mask];
 *	   for a read: write data, status; store_release(&entry.done, seq); }
 *	store_release(&cons, new cons)     pairs with the kernel's acquire
 *
 * A write is posted: the vCPU goes on as soon as the entry is published.
 * A read waits on its own entry until done == seq (load-acquire, pairs with
 * the consumer's release), then takes data (and status) once.  After
 * timeout_us it completes with all ones, as a PCIe completion timeout does.
 * The kernel never reads anything else the consumer writes.
 *
 * A ring whose consumer lets an access reach the timeout (a read's
 * completion, or room for a write or a read) is stalled
 * (SOFTEE_RING_F_STALLED, SOFTEE_FEAT_STALL), as a PCIe port contains a
 * link that went down: a read then completes at once with all ones and is
 * not queued (counted in stalled), and a write that finds the ring full is
 * dropped at once (counted in drops); a write that finds room is queued as
 * usual.  The ring's first access after the consumer retired an entry
 * (cons moved) ends the stall.  One read per stall_probe_ms (module
 * parameter, default 1000; 0 turns stalling off), or per four timeouts if
 * that is longer, still goes to the consumer and waits as usual: answered,
 * it ends the stall.  So a dead consumer costs a vCPU one timeout, not one
 * per access (a rep insb of 1024 trapped ports is 1024 accesses), and
 * then a fifth of its time at most.  Rings stall one by one: each vCPU
 * finds out with its own first timeout.
 */
#define SOFTEE_OFF_RINGS	0ULL	/* mmap offset of ring 0 */

#define SOFTEE_RING_F_CORRUPT	(1U << 0) /* indices made no sense; ring off */
#define SOFTEE_RING_F_DEAD	(1U << 1) /* session torn down (after the
					   * last mapping: no consumer sees it) */
#define SOFTEE_RING_F_STALLED	(1U << 2) /* the consumer missed a deadline:
					   * accesses fail fast (above) */

/* Offsets (in bytes, from the start of a ring) and sizes of a ring. */
struct softee_ring_offsets {
	__u32 prod;		/* __u32; kernel writes, release */
	__u32 flags;		/* __u32 SOFTEE_RING_F_*; kernel writes */
	__u32 cons;		/* __u32; user writes, release */
	__u32 entries;		/* struct softee_ring_entry[ring_entries] */
	__u32 ring_entries;	/* a power of two */
	__u32 ring_mask;	/* ring_entries - 1 */
	__u32 entry_size;	/* sizeof(struct softee_ring_entry) */
	__u32 __reserved;
};

/* softee_ring_entry.op */
#define SOFTEE_OP_WRITE		0
#define SOFTEE_OP_READ		1

/* softee_ring_entry.bus and softee_region.bus */
#define SOFTEE_BUS_MMIO		0
#define SOFTEE_BUS_PIO		1
/* softee_ring_entry.bus only: a config access to a trapped BDF */
#define SOFTEE_BUS_CFG		2

/*
 * A BDF as softee carries it: bus << 8 | device << 3 | function, 0..0xffff
 * (segment 0).  A SOFTEE_BUS_CFG entry's addr is SOFTEE_CFG_ADDR(bdf, reg):
 * the BDF above the 4 KiB register offset, as ECAM lays config space out
 * (without the ECAM base); its offset is reg, its len 1, 2 or 4 and
 * reg % 4 + len <= 4 (one dword, one CfgRd0/CfgWr0 with byte enables).
 */
#define SOFTEE_CFG_BDF(bus, dev, fn) \
	((((bus) & 0xff) << 8) | (((dev) & 0x1f) << 3) | ((fn) & 0x7))
#define SOFTEE_CFG_ADDR(bdf, reg)	(((__u64)(bdf) << 12) | ((reg) & 0xfff))
#define SOFTEE_CFG_ADDR_BDF(addr)	((__u32)((addr) >> 12) & 0xffff)
#define SOFTEE_CFG_ADDR_REG(addr)	((__u32)(addr) & 0xfff)

/*
 * One guest access.  K: the kernel writes it before publishing prod; the
 * consumer may only read it.  U: the consumer writes it (reads only).
 */
struct softee_ring_entry {
	__u32 seq;		/* K: the producer index of this entry */
	__u32 done;		/* U: = seq when a read's data and status are
				 *    valid (store-release); K sets ~seq */
	__u8 op;		/* K: SOFTEE_OP_* */
	__u8 bus;		/* K: SOFTEE_BUS_* */
	__u8 len;		/* K: 1..8 bytes (KVM splits an access that
				 *    crosses a page: 3 + 5 for 8 at 0xffd) */
	__u8 __pad;
	__u32 region;		/* K: region id; config trap id for _CFG */
	__aligned_u64 addr;	/* K: guest-physical address or port;
				 *    SOFTEE_CFG_ADDR(bdf, reg) for _CFG */
	__aligned_u64 offset;	/* K: addr - region base; reg for _CFG */
	__aligned_u64 data;	/* K (write) / U (read): value, little endian,
				 *    the low len bytes count */
	__u32 status;		/* U (read): 0 = data valid; anything else
				 *    completes the read with all ones */
	__u32 vcpu;		/* K: vcpu_idx */
	__aligned_u64 time_ns;	/* K: CLOCK_MONOTONIC at the trap, with
				 *    SOFTEE_ATTACH_F_TIMESTAMPS; else 0 */
	__aligned_u64 __reserved;
};

/**
 * struct softee_attach - SOFTEE_ATTACH: start a session on a KVM VM
 * @size:	sizeof(struct softee_attach)
 * @flags:	SOFTEE_ATTACH_F_*: TIMESTAMPS has the module read the clock for
 *		every entry (a few ns on a host, microseconds under emulation)
 * @vm_fd:	a KVM VM fd (KVM_CREATE_VM's, or one taken with pidfd_getfd)
 * @nr_rings:	rings to create, 1..SOFTEE_MAX_RINGS; vCPU i uses ring i
 * @ring_entries: entries per ring, a power of two in
 *		SOFTEE_RING_MIN_ENTRIES..SOFTEE_RING_MAX_ENTRIES; 0 = default
 * @timeout_us:	read completion timeout, 1..SOFTEE_TIMEOUT_MAX_US; 0 = default
 * @features:	out: SOFTEE_FEAT_*
 * @ring_bytes:	out: bytes from one ring to the next in the mapping
 * @mmap_bytes:	out: length to mmap at SOFTEE_OFF_RINGS (all rings)
 * @session_id:	out: the session's name under /sys/kernel/debug/softee/
 * @__reserved:	must be 0
 * @ring_off:	out: the layout of each ring
 *
 * Returns the session fd (O_CLOEXEC).  The session holds a reference on
 * the VM until it is closed.
 */
struct softee_attach {
	__u32 size;
	__u32 flags;
	__s32 vm_fd;
	__u32 nr_rings;
	__u32 ring_entries;
	__u32 timeout_us;
	__u32 features;
	__u32 ring_bytes;
	__aligned_u64 mmap_bytes;
	__u32 session_id;
	__u32 __reserved;
	struct softee_ring_offsets ring_off;
};

/* softee_region.flags */
#define SOFTEE_REGION_F_NULL	(1U << 0) /* in-kernel null device: writes
					   * are counted and dropped, reads
					   * return 0; no ring (a baseline) */

/**
 * struct softee_region - SOFTEE_REGION_ADD
 * @size:	sizeof(struct softee_region)
 * @flags:	SOFTEE_REGION_F_*
 * @bus:	SOFTEE_BUS_MMIO or SOFTEE_BUS_PIO
 * @__pad:	must be 0
 * @id:		out: the region id, carried in every ring entry
 * @base:	guest-physical address or first port
 * @len:	bytes (ports), > 0
 * @__reserved:	must be 0
 */
struct softee_region {
	__u32 size;
	__u32 flags;
	__u8 bus;
	__u8 __pad[3];
	__u32 id;
	__aligned_u64 base;
	__aligned_u64 len;
	__aligned_u64 __reserved[2];
};

/**
 * struct softee_region_del - SOFTEE_REGION_DEL
 * @size:	sizeof(struct softee_region_del)
 * @flags:	must be 0
 * @id:		the region to remove; its waiting reads complete with all ones
 * @__reserved:	must be 0
 */
struct softee_region_del {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __reserved;
};

/**
 * struct softee_timeout - SOFTEE_SET_TIMEOUT
 * @size:	sizeof(struct softee_timeout)
 * @flags:	must be 0
 * @timeout_us:	in: new timeout, 1..SOFTEE_TIMEOUT_MAX_US; 0 = default
 * @old_us:	out: the previous timeout
 */
struct softee_timeout {
	__u32 size;
	__u32 flags;
	__u32 timeout_us;
	__u32 old_us;
};

/**
 * DOC: Config space traps
 *
 * SOFTEE_CFG_ADD traps the PCI configuration space of one BDF, so that a
 * guest under an unmodified VMM sees a device there while the VMM keeps
 * answering for every other BDF:
 *
 *  - port 0xcf8 (CONFIG_ADDRESS): a 4-byte write is recorded per VM and
 *    then declined, so that it still exits to the VMM, whose own latch
 *    must follow the guest's; reads and narrower writes are declined;
 *  - ports 0xcfc-0xcff (CONFIG_DATA): when the recorded address has bit
 *    31 (enable) set and names a trapped BDF, an access that stays inside
 *    the dword becomes a SOFTEE_BUS_CFG ring entry for register
 *    (address & 0xfc) + (port - 0xcfc); anything else is declined;
 *  - with SOFTEE_CFG_F_ECAM, the BDF's 4 KiB page of the ECAM window,
 *    ecam_base + (bus << 20 | dev << 15 | fn << 12), as ACPI's MCFG
 *    gives ecam_base (the address of bus 0, whatever ecam_bus_start is):
 *    1-, 2- and 4-byte accesses inside a dword become ring entries, the
 *    rest (8 bytes, across a dword) is declined.
 *
 * A declined access exits to the VMM as if softee were not there.  Reads
 * wait for their completion as MMIO reads do (all ones at the timeout).
 * The recorded address is per VM, as the chipset's is: a guest that does
 * not serialise its CONFIG_ADDRESS/CONFIG_DATA pairs across vCPUs races
 * as it would on hardware.
 */

/* softee_cfg.flags */
#define SOFTEE_CFG_F_ECAM	(1U << 0) /* trap the BDF's ECAM page too */

/**
 * struct softee_cfg - SOFTEE_CFG_ADD
 * @size:	sizeof(struct softee_cfg)
 * @flags:	SOFTEE_CFG_F_*
 * @bdf:	SOFTEE_CFG_BDF(bus, dev, fn), 0..0xffff
 * @id:		out: the trap's id, carried in its ring entries' region
 * @ecam_base:	with SOFTEE_CFG_F_ECAM: the window's guest-physical base
 *		(bus 0), 1 MiB aligned; else 0
 * @ecam_bus_start: with SOFTEE_CFG_F_ECAM: first bus the window decodes
 * @ecam_bus_end: with SOFTEE_CFG_F_ECAM: last bus; the BDF's bus must lie
 *		in [start, end]; else both 0
 * @__pad:	must be 0
 * @__reserved:	must be 0
 */
struct softee_cfg {
	__u32 size;
	__u32 flags;
	__u32 bdf;
	__u32 id;
	__aligned_u64 ecam_base;
	__u8 ecam_bus_start;
	__u8 ecam_bus_end;
	__u8 __pad[6];
	__aligned_u64 __reserved[2];
};

/**
 * struct softee_cfg_del - SOFTEE_CFG_DEL
 * @size:	sizeof(struct softee_cfg_del)
 * @flags:	must be 0
 * @id:		the trap to remove; its waiting reads complete with all ones
 * @__reserved:	must be 0
 */
struct softee_cfg_del {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __reserved;
};

/* What happened, per session, ring (vCPU) or region. */
struct softee_counters {
	__aligned_u64 writes;		/* posted writes queued */
	__aligned_u64 reads;		/* reads queued */
	__aligned_u64 write_bytes;
	__aligned_u64 read_bytes;
	__aligned_u64 completions;	/* reads completed by the consumer */
	__aligned_u64 errors;		/* ... with status != 0 */
	__aligned_u64 timeouts;		/* reads completed by the timeout */
	__aligned_u64 ring_full;	/* accesses that waited for ring space */
	__aligned_u64 drops;		/* writes dropped: ring full or off */
	__aligned_u64 corrupt;		/* corrupt-ring events */
	__aligned_u64 aborted;		/* reads ended by a fatal signal, region
					 * removal, session close or a bad ring */
	__aligned_u64 no_ring;		/* accesses from a vCPU with no ring */
	__aligned_u64 cfg_reads;	/* config reads queued (also in reads) */
	__aligned_u64 cfg_writes;	/* config writes queued (also in writes) */
	__aligned_u64 cfg_declined;	/* config data or ECAM accesses handed to
					 * the VMM (session scope only) */
	__aligned_u64 stalled;		/* reads a stalled ring ended at once
					 * (all ones; not queued, so not in reads
					 * or timeouts) */
	__aligned_u64 __reserved[8];
};

/* softee_stats.scope */
#define SOFTEE_STATS_SESSION	0	/* index must be 0 */
#define SOFTEE_STATS_RING	1	/* index = ring (vCPU) */
#define SOFTEE_STATS_REGION	2	/* index = region id */

/**
 * struct softee_stats - SOFTEE_GET_STATS
 * @size:	sizeof(struct softee_stats)
 * @flags:	must be 0
 * @scope:	SOFTEE_STATS_*
 * @index:	which ring or region
 * @ring_flags:	out: SOFTEE_RING_F_* (scope RING), else 0
 * @__reserved:	must be 0
 * @c:		out: the counters
 */
struct softee_stats {
	__u32 size;
	__u32 flags;
	__u32 scope;
	__u32 index;
	__u32 ring_flags;
	__u32 __reserved;
	struct softee_counters c;
};

/**
 * DOC: MSIs into the guest
 *
 * SOFTEE_SIGNAL_MSI delivers a message-signalled interrupt to the VM, as
 * KVM_SIGNAL_MSI does.  The poller needs it because KVM answers every VM
 * ioctl from a process other than the VMM's with EIO: a poller that took
 * a running QEMU's VM fd with pidfd_getfd cannot inject into it itself.
 * Needs the VM's in-kernel irqchip (EINVAL otherwise).  Returns what
 * KVM's injection returns: > 0 the number of vCPUs whose local APIC took
 * it, 0 when none did (the destination's APIC is software-disabled, or no
 * vCPU has its APIC ID), or -1 with errno.
 */

/**
 * struct softee_msi - SOFTEE_SIGNAL_MSI
 * @size:	sizeof(struct softee_msi)
 * @flags:	0
 * @address_lo:	the message address, as the device wrote it (0xfeexxxxx)
 * @address_hi:	its upper half
 * @data:	the message data
 * @__pad:	must be 0
 * @__reserved: must be 0
 */
struct softee_msi {
	__u32 size;
	__u32 flags;
	__u32 address_lo;
	__u32 address_hi;
	__u32 data;
	__u32 __pad;
	__aligned_u64 __reserved[2];
};

/* The ABI, pinned.  Both the module and user space compile these. */
#ifdef __cplusplus
#define __SOFTEE_ASSERT(e, m) static_assert(e, m)
#else
#define __SOFTEE_ASSERT(e, m) _Static_assert(e, m)
#endif
#define __SOFTEE_OFF(t, f, o) \
	__SOFTEE_ASSERT(__builtin_offsetof(struct t, f) == (o), #t "." #f)
#define __SOFTEE_SIZE(t, s) \
	__SOFTEE_ASSERT(sizeof(struct t) == (s), "sizeof " #t)

__SOFTEE_SIZE(softee_ring_entry, 64);
__SOFTEE_OFF(softee_ring_entry, seq, 0);
__SOFTEE_OFF(softee_ring_entry, done, 4);
__SOFTEE_OFF(softee_ring_entry, op, 8);
__SOFTEE_OFF(softee_ring_entry, bus, 9);
__SOFTEE_OFF(softee_ring_entry, len, 10);
__SOFTEE_OFF(softee_ring_entry, region, 12);
__SOFTEE_OFF(softee_ring_entry, addr, 16);
__SOFTEE_OFF(softee_ring_entry, offset, 24);
__SOFTEE_OFF(softee_ring_entry, data, 32);
__SOFTEE_OFF(softee_ring_entry, status, 40);
__SOFTEE_OFF(softee_ring_entry, vcpu, 44);
__SOFTEE_OFF(softee_ring_entry, time_ns, 48);
__SOFTEE_OFF(softee_ring_entry, __reserved, 56);

__SOFTEE_SIZE(softee_ring_offsets, 32);
__SOFTEE_OFF(softee_ring_offsets, prod, 0);
__SOFTEE_OFF(softee_ring_offsets, flags, 4);
__SOFTEE_OFF(softee_ring_offsets, cons, 8);
__SOFTEE_OFF(softee_ring_offsets, entries, 12);
__SOFTEE_OFF(softee_ring_offsets, ring_entries, 16);
__SOFTEE_OFF(softee_ring_offsets, ring_mask, 20);
__SOFTEE_OFF(softee_ring_offsets, entry_size, 24);

__SOFTEE_SIZE(softee_attach, 80);
__SOFTEE_OFF(softee_attach, size, 0);
__SOFTEE_OFF(softee_attach, flags, 4);
__SOFTEE_OFF(softee_attach, vm_fd, 8);
__SOFTEE_OFF(softee_attach, nr_rings, 12);
__SOFTEE_OFF(softee_attach, ring_entries, 16);
__SOFTEE_OFF(softee_attach, timeout_us, 20);
__SOFTEE_OFF(softee_attach, features, 24);
__SOFTEE_OFF(softee_attach, ring_bytes, 28);
__SOFTEE_OFF(softee_attach, mmap_bytes, 32);
__SOFTEE_OFF(softee_attach, session_id, 40);
__SOFTEE_OFF(softee_attach, ring_off, 48);

__SOFTEE_SIZE(softee_region, 48);
__SOFTEE_OFF(softee_region, flags, 4);
__SOFTEE_OFF(softee_region, bus, 8);
__SOFTEE_OFF(softee_region, id, 12);
__SOFTEE_OFF(softee_region, base, 16);
__SOFTEE_OFF(softee_region, len, 24);
__SOFTEE_OFF(softee_region, __reserved, 32);

__SOFTEE_SIZE(softee_region_del, 16);
__SOFTEE_OFF(softee_region_del, id, 8);

__SOFTEE_SIZE(softee_timeout, 16);
__SOFTEE_OFF(softee_timeout, timeout_us, 8);
__SOFTEE_OFF(softee_timeout, old_us, 12);

__SOFTEE_SIZE(softee_cfg, 48);
__SOFTEE_OFF(softee_cfg, flags, 4);
__SOFTEE_OFF(softee_cfg, bdf, 8);
__SOFTEE_OFF(softee_cfg, id, 12);
__SOFTEE_OFF(softee_cfg, ecam_base, 16);
__SOFTEE_OFF(softee_cfg, ecam_bus_start, 24);
__SOFTEE_OFF(softee_cfg, ecam_bus_end, 25);
__SOFTEE_OFF(softee_cfg, __pad, 26);
__SOFTEE_OFF(softee_cfg, __reserved, 32);

__SOFTEE_SIZE(softee_cfg_del, 16);
__SOFTEE_OFF(softee_cfg_del, id, 8);

__SOFTEE_SIZE(softee_counters, 192);
__SOFTEE_OFF(softee_counters, writes, 0);
__SOFTEE_OFF(softee_counters, no_ring, 88);
__SOFTEE_OFF(softee_counters, cfg_reads, 96);
__SOFTEE_OFF(softee_counters, cfg_writes, 104);
__SOFTEE_OFF(softee_counters, cfg_declined, 112);
__SOFTEE_OFF(softee_counters, stalled, 120);
__SOFTEE_OFF(softee_counters, __reserved, 128);
__SOFTEE_SIZE(softee_stats, 216);
__SOFTEE_OFF(softee_stats, scope, 8);
__SOFTEE_OFF(softee_stats, index, 12);
__SOFTEE_OFF(softee_stats, ring_flags, 16);
__SOFTEE_OFF(softee_stats, c, 24);

__SOFTEE_SIZE(softee_msi, 40);
__SOFTEE_OFF(softee_msi, address_lo, 8);
__SOFTEE_OFF(softee_msi, address_hi, 12);
__SOFTEE_OFF(softee_msi, data, 16);
__SOFTEE_OFF(softee_msi, __reserved, 24);

#endif /* _UAPI_SOFTEE_H */
