// SPDX-License-Identifier: GPL-2.0
/*
 * KVM in Debian's 6.1 does not export kvm_io_bus_register_dev() and
 * kvm_io_bus_unregister_dev().  Find them at load through
 * kallsyms_lookup_name(), itself found with a kprobe (it is not exported
 * either since 5.7).  Both live in kvm.ko, which cannot unload while this
 * module, which uses kvm.ko's exports, is loaded.
 */
#include <linux/kprobes.h>
#include <linux/module.h>

#include "softee.h"

typedef unsigned long (*kallsyms_lookup_name_t)(const char *name);
typedef int (*send_msi_t)(struct kvm *kvm, struct kvm_msi *msi);
static send_msi_t softee_send_msi_fn;	/* optional: SOFTEE_SIGNAL_MSI without it is EOPNOTSUPP */
typedef int (*io_bus_register_t)(struct kvm *kvm, enum kvm_bus bus_idx,
				 gpa_t addr, int len, struct kvm_io_device *dev);
typedef int (*io_bus_unregister_t)(struct kvm *kvm, enum kvm_bus bus_idx,
				   struct kvm_io_device *dev);

static io_bus_register_t softee_register_fn;
static io_bus_unregister_t softee_unregister_fn;

static kallsyms_lookup_name_t softee_find_kallsyms(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	kallsyms_lookup_name_t fn;
	int ret;

	ret = register_kprobe(&kp);
	if (ret < 0) {
		pr_err("softee: cannot find kallsyms_lookup_name: register_kprobe failed (%d); is CONFIG_KPROBES on?\n",
		       ret);
		return NULL;
	}
	fn = (kallsyms_lookup_name_t)kp.addr;
	unregister_kprobe(&kp);
	return fn;
}

int softee_resolve_symbols(void)
{
	kallsyms_lookup_name_t lookup = softee_find_kallsyms();

	if (!lookup)
		return -ENOENT;

	softee_register_fn =
		(io_bus_register_t)lookup("kvm_io_bus_register_dev");
	softee_unregister_fn =
		(io_bus_unregister_t)lookup("kvm_io_bus_unregister_dev");
	softee_send_msi_fn = (send_msi_t)lookup("kvm_send_userspace_msi");
	if (!softee_register_fn || !softee_unregister_fn) {
		pr_err("softee: KVM's kvm_io_bus_register_dev/kvm_io_bus_unregister_dev not found in kallsyms; load kvm first (modprobe kvm) on a kernel with CONFIG_KALLSYMS_ALL\n");
		return -ENOENT;
	}
	return 0;
}

bool softee_have_send_msi(void)
{
	return softee_send_msi_fn;
}

/* KVM_SIGNAL_MSI's work, for a VM whose VMM is another process. */
int softee_send_msi(struct kvm *kvm, struct kvm_msi *msi)
{
	if (!softee_send_msi_fn)
		return -EOPNOTSUPP;
	return softee_send_msi_fn(kvm, msi);
}

/* Caller holds kvm->slots_lock. */
int softee_io_bus_register(struct kvm *kvm, enum kvm_bus bus, gpa_t addr,
			   int len, struct kvm_io_device *dev)
{
	lockdep_assert_held(&kvm->slots_lock);
	return softee_register_fn(kvm, bus, addr, len, dev);
}

/* Caller holds kvm->slots_lock. */
int softee_io_bus_unregister(struct kvm *kvm, enum kvm_bus bus,
			     struct kvm_io_device *dev)
{
	lockdep_assert_held(&kvm->slots_lock);
	return softee_unregister_fn(kvm, bus, dev);
}
