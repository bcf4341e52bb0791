// SPDX-License-Identifier: GPL-2.0
/*
 * The device's MSIs (softee/msi.h): a device MWr into the local APICs'
 * window is an interrupt.  It is injected with KVM_SIGNAL_MSI on the VM fd
 * and never written to memory.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "poller_int.h"

int softee_msi_signal(int vm_fd, uint64_t address, uint32_t data)
{
	struct kvm_msi msi;
	int ret;

	memset(&msi, 0, sizeof(msi));
	msi.address_lo = (uint32_t)address;
	msi.address_hi = (uint32_t)(address >> 32);
	msi.data = data;
	ret = ioctl(vm_fd, KVM_SIGNAL_MSI, &msi);
	return ret < 0 ? -errno : ret;
}

void pmsi_deliver(struct softee_poller *p, struct pdev *d, const struct softee_tlp *t)
{
	uint64_t a;
	uint32_t l, data = 0, i;
	int ret;

	softee_tlp_range(t, &a, &l);
	/* The message data: the enabled bytes of the first DW, little endian. */
	for (i = 0; i < 4; i++)
		if (t->first_be & (1u << i))
			data |= (uint32_t)t->data[i] << (8 * i);
	if (l == 0 || l > 4 || !d) {
		if (d)
			PCNT(d->c.msi_errors, 1);
		else
			PCNT(p->st.rx_unexpected, 1);	/* from no device of ours */
		plog_rl(p, &p->log_ts, &p->log_n,
			"msi: a %u-byte write to 0x%llx from %04x is no MSI: dropped", l,
			(unsigned long long)a, t->requester);
		return;
	}
	/*
	 * Through the module when it can: KVM refuses VM ioctls from any
	 * process but the VMM's, and a poller attached to a running QEMU is
	 * another process.
	 */
	if (p->trap && p->sess.fd > 0 && (p->sess.attach.features & SOFTEE_FEAT_MSI)) {
		ret = __softee_signal_msi(p->sess.fd, t->addr, data);
	} else if (p->cfg.vm_fd <= 0) {
		PCNT(d->c.msi_errors, 1);
		return;
	} else {
		ret = softee_msi_signal(p->cfg.vm_fd, t->addr, data);
	}
	if (ret > 0) {
		PCNT(d->c.msi, 1);
		p->msi_sent = true;
	} else if (ret == 0) {
		PCNT(d->c.msi_blocked, 1);
	} else {
		PCNT(d->c.msi_errors, 1);
		plog_rl(p, &d->log_ts, &d->log_n, "msi: KVM_SIGNAL_MSI 0x%llx/0x%x: %s",
			(unsigned long long)t->addr, data, strerror(-ret));
	}
}
