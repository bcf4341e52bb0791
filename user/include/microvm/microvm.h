/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A micro-VM on /dev/kvm for tests and tools: a 64-bit long-mode guest
 * whose code is C compiled into the host program (user/microvm/README.md).
 *
 * The guest starts in 64-bit mode at ring 0 with interrupts off:
 *  - guest-physical memory 0 .. 4 GiB is mapped 1:1 with 2 MiB pages, so
 *    RAM (at 0, ram_bytes) and MMIO holes above it (0xC0000000 ..
 *    0xFEBFFFFF, say) are reachable at their own addresses;
 *  - the host program's image (every PT_LOAD segment of the executable)
 *    is copied into guest RAM and mapped at the same virtual addresses it
 *    has in the host, so a guest function's host address is its guest
 *    address and guest code needs no relocation;
 *  - a GDT (code 0x08, data 0x10, TSS 0x18), an IDT whose 256 vectors go
 *    to microvm_guest_set_handler() hooks, and each vCPU's own stack.
 *
 * Each vCPU is driven by one host thread (microvm_vcpu_start).  Guest
 * accesses to ranges registered with microvm_add_exit_handler() are handled
 * in that thread; ucalls (GUEST_SYNC, GUEST_ASSERT...) come back from
 * microvm_vcpu_run().
 *
 * Naming follows softee (STYLE.md 20): __microvm_x() returns -errno and
 * prints nothing, microvm_x() prints what went wrong.
 */
#ifndef _MICROVM_MICROVM_H
#define _MICROVM_MICROVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/kvm.h>

#include <microvm/ucall.h>

#define MICROVM_MAX_VCPUS	64
#define MICROVM_RAM_DEFAULT	(64ULL << 20)
#define MICROVM_RAM_MAX		(2ULL << 30)	/* stays below 0xC0000000 */
#define MICROVM_STACK_BYTES	(64ULL << 10)
#define MICROVM_MAX_EXIT_HANDLERS 16

/* microvm_config.flags */
#define MICROVM_F_IRQCHIP	(1U << 0) /* KVM_CREATE_IRQCHIP: in-kernel LAPIC,
					   * IOAPIC (0xFEC00000) and PIC */

/* Where the in-kernel irqchip sits, for callers checking their ranges. */
#define MICROVM_IOAPIC_BASE	0xFEC00000ULL
#define MICROVM_LAPIC_BASE	0xFEE00000ULL
#define MICROVM_LAPIC_END	0xFEE01000ULL

struct microvm;
struct microvm_vcpu;

struct microvm_config {
	uint32_t nr_vcpus;	/* 1..MICROVM_MAX_VCPUS */
	uint32_t flags;		/* MICROVM_F_* */
	uint64_t ram_bytes;	/* 0 = MICROVM_RAM_DEFAULT; a multiple of 2 MiB */
};


/* One access that left the guest (KVM_EXIT_MMIO or KVM_EXIT_IO). */
struct microvm_access {
	uint8_t bus;		/* MICROVM_BUS_* */
	uint8_t is_write;
	uint8_t len;		/* 1, 2, 4, 8 */
	uint64_t addr;		/* guest-physical address or port */
	uint8_t *data;		/* len bytes: written value, or fill for a read */
};

/*
 * Handles an access in the vCPU's thread; for a read it fills a->data.
 * 0 to resume the guest; a negative errno makes microvm_vcpu_run() return it.
 */
typedef int (*microvm_exit_fn)(struct microvm_vcpu *v, struct microvm_access *a,
			       void *opaque);

/* Called after every return of KVM_RUN in a vCPU thread, before dispatch. */
typedef void (*microvm_exit_hook_fn)(struct microvm_vcpu *v, void *opaque);

typedef void *(*microvm_vcpu_fn)(struct microvm_vcpu *v, void *arg);

/* ---- the VM ---------------------------------------------------------------- */

int __microvm_create(const struct microvm_config *cfg, struct microvm **out);
/* NULL after printing why (e.g. "/dev/kvm: No such file or directory: ..."). */
struct microvm *microvm_create(const struct microvm_config *cfg);
void microvm_destroy(struct microvm *vm);

int microvm_kvm_fd(const struct microvm *vm);	/* /dev/kvm */
int microvm_vm_fd(const struct microvm *vm);	/* KVM_CREATE_VM's */
uint32_t microvm_nr_vcpus(const struct microvm *vm);
struct microvm_vcpu *microvm_vcpu(const struct microvm *vm, uint32_t idx);
uint64_t microvm_ram_bytes(const struct microvm *vm);
bool microvm_has_irqchip(const struct microvm *vm);

/* Host pointer to guest-physical gpa..gpa+len in RAM, or NULL. */
void *microvm_gpa2hva(const struct microvm *vm, uint64_t gpa, uint64_t len);
/* Host pointer to the guest's copy of what the guest sees at gva, or NULL. */
void *microvm_gva2hva(const struct microvm *vm, uint64_t gva, uint64_t len);

/*
 * Guest RAM for the test's own use, mapped 1:1 (the GPA is the guest's
 * pointer).  0 when RAM is exhausted.  Zeroed.
 */
uint64_t microvm_alloc(struct microvm *vm, uint64_t bytes, uint64_t align);

/*
 * Copy the host's current value of a global (or any object of the image)
 * into the guest's copy of it.  The guest's copy was taken at
 * microvm_create(); this refreshes it before the vCPUs run.
 */
void microvm_sync_to_guest(struct microvm *vm, const void *host_obj, size_t len);
void microvm_sync_from_guest(struct microvm *vm, void *host_obj, size_t len);
#define MICROVM_SYNC_GLOBAL_TO_GUEST(vm, g)   microvm_sync_to_guest((vm), &(g), sizeof(g))
#define MICROVM_SYNC_GLOBAL_FROM_GUEST(vm, g) microvm_sync_from_guest((vm), &(g), sizeof(g))

/*
 * Accesses to [base, base + len) on bus that exit to user space go to fn.
 * Set up before the vCPUs run.  -EEXIST on overlap with another handler or
 * the ucall port, -ENOSPC past MICROVM_MAX_EXIT_HANDLERS.
 */
int microvm_add_exit_handler(struct microvm *vm, uint8_t bus, uint64_t base,
			     uint64_t len, microvm_exit_fn fn, void *opaque);
void microvm_set_exit_hook(struct microvm *vm, microvm_exit_hook_fn fn, void *opaque);

/* KVM_IOEVENTFD: the eventfd (closed by microvm_destroy) or -errno. */
int microvm_ioeventfd_add(struct microvm *vm, uint8_t bus, uint64_t addr,
			  uint32_t len, bool datamatch, uint64_t data);

/*
 * KVM_REGISTER_COALESCED_MMIO (or _PIO) zone.  Writes there are queued in
 * KVM's ring with no exit until it is full; then they exit as usual (have
 * an exit handler for the zone).  Drain with microvm_coalesced_drain().
 */
int microvm_coalesced_add(struct microvm *vm, uint8_t bus, uint64_t base, uint32_t len);

/* Hands each queued write to fn, oldest first; returns how many. */
typedef void (*microvm_coalesced_fn)(const struct kvm_coalesced_mmio *e, void *opaque);
unsigned int microvm_coalesced_drain(struct microvm *vm, microvm_coalesced_fn fn,
				     void *opaque);

/* KVM_SIGNAL_MSI (needs MICROVM_F_IRQCHIP): 1 delivered, 0 blocked, -errno. */
int microvm_signal_msi(struct microvm *vm, uint64_t address, uint32_t data);

/* ---- vCPUs ----------------------------------------------------------------- */

uint32_t microvm_vcpu_id(const struct microvm_vcpu *v);
int microvm_vcpu_fd(const struct microvm_vcpu *v);
struct microvm *microvm_vcpu_vm(const struct microvm_vcpu *v);
struct kvm_run *microvm_vcpu_kvm_run(const struct microvm_vcpu *v);

/*
 * Where the vCPU starts: guest_fn(args...) on its own stack, up to six
 * uint64_t arguments (cast each).  When guest_fn returns, the guest sends
 * MICROVM_UCALL_DONE.
 */
int microvm_vcpu_set_entry(struct microvm_vcpu *v, const void *guest_fn,
			   unsigned int nargs, ...);

/*
 * KVM_RUN until the guest makes a ucall: copies it to *uc and returns its
 * cmd (> 0).  Accesses to registered ranges are handled on the way.
 * -EINTR after microvm_vcpu_kick(); -EIO after an unexpected exit (printed
 * with the guest's registers); a handler's negative errno.
 */
int microvm_vcpu_run(struct microvm_vcpu *v, struct microvm_ucall *uc);

/* Make KVM_RUN return (-EINTR from microvm_vcpu_run) as soon as it can. */
void microvm_vcpu_kick(struct microvm_vcpu *v);

/* Run fn(v, arg) in a new thread that drives this vCPU. */
int microvm_vcpu_start(struct microvm_vcpu *v, microvm_vcpu_fn fn, void *arg);
void *microvm_vcpu_join(struct microvm_vcpu *v);

/* The guest registers, for a message. */
void microvm_vcpu_dump(struct microvm_vcpu *v, FILE *f);

/*
 * Print a ucall the way a person wants to read it: an assertion's file,
 * line, condition and values; an exception's vector and RIP (with an
 * addr2line hint); a GUEST_PRINT line.  prefix starts the line.
 */
void microvm_ucall_print(struct microvm_vcpu *v, const struct microvm_ucall *uc,
			 const char *prefix, FILE *f);

#endif /* _MICROVM_MICROVM_H */
