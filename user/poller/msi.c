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

/* Inject one queued MSI; counts it.  Returns 1 when a vCPU took it.  (M) */
static int msi_inject(struct softee_poller *p, const struct pmsi *m)
{
	struct pdev *d = m->d;
	int ret;

	/*
	 * Through the module when it can: KVM refuses VM ioctls from any
	 * process but the VMM's, and a poller attached to a running QEMU is
	 * another process.
	 */
	if (p->trap && p->sess.fd > 0 && (p->sess.attach.features & SOFTEE_FEAT_MSI)) {
		ret = __softee_signal_msi(p->sess.fd, m->addr, m->data);
	} else if (p->cfg.vm_fd <= 0) {
		PCNT(d->c.msi_errors, 1);
		return 0;
	} else {
		ret = softee_msi_signal(p->cfg.vm_fd, m->addr, m->data);
	}
	if (ret > 0) {
		PCNT(d->c.msi, 1);
		return 1;
	}
	if (ret == 0) {
		PCNT(d->c.msi_blocked, 1);
	} else {
		PCNT(d->c.msi_errors, 1);
		plog_rl(p, &p->msi_log_ts, &p->msi_log_n, "msi: KVM_SIGNAL_MSI 0x%llx/0x%x: %s",
			(unsigned long long)m->addr, m->data, strerror(-ret));
	}
	return 0;
}

/* Inject the queue in order.  (M) */
static int msi_flush_locked(struct softee_poller *p)
{
	uint32_t i;
	int n = 0;

	for (i = 0; i < p->msiq_n; i++)
		n += msi_inject(p, &p->msiq[i]);
	softee_store_release(&p->msiq_n, 0);
	return n;
}

/*
 * Inject the MSIs the passes took.  Called by the data thread after it let
 * go of the passes, and before any read is completed: a completion must not
 * pass an MSI the device sent before it (PCIe ordering: completions never
 * pass posted writes).  Whoever comes second waits on msi_mu until the
 * first has injected them all.  Returns the number of MSIs a vCPU took.
 */
int pmsi_flush(struct softee_poller *p)
{
	int n;

	if (!softee_load_acquire(&p->msiq_n))
		return 0;
	pthread_mutex_lock(&p->msi_mu);
	n = msi_flush_locked(p);
	pthread_mutex_unlock(&p->msi_mu);
	return n;
}

/*
 * The same after a vCPU's pass (ppoller_help), without waiting: msi_mu
 * held means another thread is injecting, and it takes ours too (they
 * were queued under msi_mu before it took it).
 */
void pmsi_flush_try(struct softee_poller *p)
{
	if (!softee_load_acquire(&p->msiq_n) || pthread_mutex_trylock(&p->msi_mu))
		return;
	msi_flush_locked(p);
	pthread_mutex_unlock(&p->msi_mu);
}

/*
 * An MSI from the device: checked here, queued for pmsi_flush.  The
 * device's writes before it have landed in guest memory already.
 */
void pmsi_deliver(struct softee_poller *p, struct pdev *d, const struct softee_tlp *t)
{
	uint64_t a;
	uint32_t l, data = 0, i;

	softee_tlp_range(t, &a, &l);
	/* The message data: the enabled bytes of the first DW, little endian. */
	for (i = 0; i < 4; i++)
		if (t->first_be & (1u << i))
			data |= (uint32_t)t->data[i] << (8 * i);
	pthread_mutex_lock(&p->msi_mu);
	if (l == 0 || l > 4 || !d) {
		if (d)
			PCNT(d->c.msi_errors, 1);
		else
			PCNT(p->st.rx_unexpected, 1);	/* from no device of ours */
		plog_rl(p, &p->log_ts, &p->log_n,
			"msi: a %u-byte write to 0x%llx from %04x is no MSI: dropped", l,
			(unsigned long long)a, t->requester);
	} else {
		if (p->msiq_n == POLLER_MSIQ)
			msi_flush_locked(p);
		p->msiq[p->msiq_n] = (struct pmsi){ .d = d, .addr = t->addr, .data = data };
		softee_store_release(&p->msiq_n, p->msiq_n + 1);
	}
	pthread_mutex_unlock(&p->msi_mu);
}
