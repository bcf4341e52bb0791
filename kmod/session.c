// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions: SOFTEE_ATTACH and the session fd (ioctls, mmap of the rings,
 * release).
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "softee.h"

static LIST_HEAD(softee_sessions);	/* under softee_lock */
static DEFINE_IDA(softee_ids);

/*
 * Copy an extensible ioctl struct in: its first __u32 is its size.  A size
 * below @min (the first release of the struct) is EINVAL; bytes past
 * @ksize must be zero (copy_struct_from_user answers E2BIG otherwise).
 */
int softee_uarg_in(void *k, size_t ksize, size_t min, void __user *u,
		   u32 *usize)
{
	u32 size;
	int ret;

	if (get_user(size, (u32 __user *)u))
		return -EFAULT;
	if (size < min)
		return -EINVAL;
	/* copy_struct_from_user checks every byte past ksize: not 4 GiB of them */
	if (size > PAGE_SIZE)
		return -E2BIG;
	ret = copy_struct_from_user(k, ksize, u, size);
	if (ret)
		return ret;
	*usize = size;
	return 0;
}

/* Copy an answer back, no more than the caller's struct holds. */
int softee_uarg_out(void __user *u, u32 usize, const void *k, size_t ksize)
{
	return copy_to_user(u, k, min_t(size_t, usize, ksize)) ? -EFAULT : 0;
}

static u32 softee_timeout_or_default(u32 us)
{
	return us ? us : SOFTEE_TIMEOUT_DEFAULT_US;
}

static long softee_set_timeout(struct softee_session *s, void __user *u)
{
	struct softee_timeout t;
	u32 usize;
	int ret;

	ret = softee_uarg_in(&t, sizeof(t), sizeof(t), u, &usize);
	if (ret)
		return ret;
	if (t.flags || t.old_us || t.timeout_us > SOFTEE_TIMEOUT_MAX_US)
		return -EINVAL;
	t.old_us = READ_ONCE(s->timeout_us);
	WRITE_ONCE(s->timeout_us, softee_timeout_or_default(t.timeout_us));
	return softee_uarg_out(u, usize, &t, sizeof(t));
}

void softee_session_sum(struct softee_session *s, struct softee_counters *c)
{
	u32 i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < s->nr_rings; i++)
		softee_counters_add(c, &s->rings[i].c);
	c->no_ring = atomic64_read(&s->no_ring);
	c->cfg_declined = atomic64_read(&s->cfg_declined);
}

static long softee_get_stats(struct softee_session *s, void __user *u)
{
	struct softee_stats st;
	struct softee_region_k *r;
	u32 usize, idx;
	int ret;

	ret = softee_uarg_in(&st, sizeof(st), offsetof(struct softee_stats, c),
			     u, &usize);
	if (ret)
		return ret;
	/* outputs too must come in zero: they may be inputs one day */
	if (st.flags || st.__reserved || st.ring_flags || memchr_inv(&st.c, 0, sizeof(st.c)))
		return -EINVAL;

	idx = st.index;
	st.ring_flags = 0;
	switch (st.scope) {
	case SOFTEE_STATS_SESSION:
		if (idx)
			return -EINVAL;
		softee_session_sum(s, &st.c);
		break;
	case SOFTEE_STATS_RING:
		if (idx >= s->nr_rings)
			return -ENOENT;
		idx = array_index_nospec(idx, s->nr_rings);
		st.c = s->rings[idx].c;
		st.ring_flags = softee_ring_state(s, &s->rings[idx]);
		break;
	case SOFTEE_STATS_REGION:
		if (idx >= SOFTEE_MAX_REGIONS)
			return -ENOENT;
		idx = array_index_nospec(idx, SOFTEE_MAX_REGIONS);
		mutex_lock(&s->lock);
		r = s->regions[idx];
		if (r)
			softee_region_sum(r, &st.c);
		mutex_unlock(&s->lock);
		if (!r)
			return -ENOENT;
		break;
	default:
		return -EINVAL;
	}
	return softee_uarg_out(u, usize, &st, sizeof(st));
}

static long softee_signal_msi(struct softee_session *s, void __user *u)
{
	struct softee_msi m;
	struct kvm_msi km = {};
	u32 usize;
	int ret;

	ret = softee_uarg_in(&m, sizeof(m), sizeof(m), u, &usize);
	if (ret)
		return ret;
	if (m.flags || m.__pad || m.__reserved[0] || m.__reserved[1])
		return -EINVAL;
	km.address_lo = m.address_lo;
	km.address_hi = m.address_hi;
	km.data = m.data;
	ret = softee_send_msi(s->kvm, &km);
	/*
	 * KVM found no vCPU to offer the message to (a VM without vCPUs; a
	 * VM with vCPUs answers 0 for an APIC ID none has): a bare -1, which
	 * user space would read as EPERM (no CAP_SYS_ADMIN).  Say what it is.
	 */
	return ret == -1 ? -ENXIO : ret;
}

static long softee_session_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	struct softee_session *s = file->private_data;
	void __user *u = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case SOFTEE_REGION_ADD:
		return softee_region_add(s, u);
	case SOFTEE_REGION_DEL:
		return softee_region_del(s, u);
	case SOFTEE_SET_TIMEOUT:
		return softee_set_timeout(s, u);
	case SOFTEE_GET_STATS:
		return softee_get_stats(s, u);
	case SOFTEE_CFG_ADD:
		return softee_cfg_add(s, u);
	case SOFTEE_CFG_DEL:
		return softee_cfg_del(s, u);
	case SOFTEE_SIGNAL_MSI:
		return softee_signal_msi(s, u);
	default:
		return -ENOTTY;
	}
}

/*
 * The rings, whole or in part.  The pages are the kernel's (vmalloc_user,
 * zeroed); unmapping them changes nothing for the kernel, which keeps them
 * until the session is released.
 */
static int softee_session_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct softee_session *s = file->private_data;
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long off = vma->vm_pgoff << PAGE_SHIFT;

	if (off >= s->mmap_bytes || len > s->mmap_bytes - off)
		return -EINVAL;
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	return remap_vmalloc_range(vma, s->mem, vma->vm_pgoff);
}

static void softee_session_free(struct softee_session *s)
{
	vfree(s->mem);
	kfree(s->rings);
	ida_free(&softee_ids, s->id);
	kfree(s);
}

/*
 * The last reference to the session file is gone (fd closed and rings
 * unmapped).  Waiting reads end at once (dead), regions and config traps
 * leave KVM's buses, and the VM reference goes last.
 */
static int softee_session_release(struct inode *inode, struct file *file)
{
	struct softee_session *s = file->private_data;
	struct kvm *kvm = s->kvm;

	WRITE_ONCE(s->dead, true);
	softee_ring_mark(s, SOFTEE_RING_F_DEAD);
	softee_debugfs_del(s);
	softee_region_remove_all(s);
	softee_cfg_remove_all(s);

	mutex_lock(&softee_lock);
	list_del(&s->node);
	mutex_unlock(&softee_lock);

	softee_session_free(s);
	kvm_put_kvm(kvm);
	return 0;
}

static const struct file_operations softee_session_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= softee_session_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= softee_session_mmap,
	.release	= softee_session_release,
	.llseek		= noop_llseek,
};

static int softee_attach_check(const struct softee_attach *a)
{
	if ((a->flags & ~SOFTEE_ATTACH_F_TIMESTAMPS) || a->__reserved ||
	    a->features || a->ring_bytes ||
	    a->mmap_bytes || a->session_id ||
	    memchr_inv(&a->ring_off, 0, sizeof(a->ring_off)))
		return -EINVAL;
	if (!a->nr_rings || a->nr_rings > SOFTEE_MAX_RINGS)
		return -EINVAL;
	if (a->ring_entries &&
	    (a->ring_entries < SOFTEE_RING_MIN_ENTRIES ||
	     a->ring_entries > SOFTEE_RING_MAX_ENTRIES ||
	     !is_power_of_2(a->ring_entries)))
		return -EINVAL;
	if (a->timeout_us > SOFTEE_TIMEOUT_MAX_US)
		return -EINVAL;
	return 0;
}

static struct softee_session *softee_session_alloc(struct softee_attach *a)
{
	u32 entries = a->ring_entries ?: SOFTEE_RING_DEFAULT_ENTRIES;
	struct softee_session *s;
	size_t ring_bytes, total;
	int id;

	ring_bytes = PAGE_ALIGN(128 + (size_t)entries *
				sizeof(struct softee_ring_entry));
	total = ring_bytes * a->nr_rings;
	if (total > SOFTEE_MAX_RING_BYTES)
		return ERR_PTR(-EINVAL);

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	id = ida_alloc(&softee_ids, GFP_KERNEL);
	if (id < 0)
		goto err_free;
	s->id = id;
	s->rings = kcalloc(a->nr_rings, sizeof(*s->rings), GFP_KERNEL_ACCOUNT);
	if (!s->rings)
		goto err_ida;
	s->mem = vmalloc_user(total);
	if (!s->mem)
		goto err_rings;

	mutex_init(&s->lock);
	atomic64_set(&s->no_ring, 0);
	atomic64_set(&s->cfg_declined, 0);
	s->nr_rings = a->nr_rings;
	s->ring_entries = entries;
	s->ring_bytes = ring_bytes;
	s->mmap_bytes = total;
	s->timeout_us = softee_timeout_or_default(a->timeout_us);
	s->timestamps = a->flags & SOFTEE_ATTACH_F_TIMESTAMPS;
	softee_ring_init(s);
	return s;

err_rings:
	kfree(s->rings);
err_ida:
	ida_free(&softee_ids, s->id);
err_free:
	kfree(s);
	return ERR_PTR(-ENOMEM);
}

static void softee_attach_answer(struct softee_attach *a,
				 const struct softee_session *s)
{
	a->features = SOFTEE_FEAT_MMIO | SOFTEE_FEAT_PIO | SOFTEE_FEAT_NULL |
		      SOFTEE_FEAT_STATS | SOFTEE_FEAT_TIMESTAMPS | SOFTEE_FEAT_CFG |
		      SOFTEE_FEAT_STALL |
		      (softee_have_send_msi() ? SOFTEE_FEAT_MSI : 0) |
		      (IS_ERR_OR_NULL(s->dbg) ? 0 : SOFTEE_FEAT_DEBUGFS);
	a->ring_entries = s->ring_entries;
	a->timeout_us = s->timeout_us;
	a->ring_bytes = s->ring_bytes;
	a->mmap_bytes = s->mmap_bytes;
	a->session_id = s->id;
	a->ring_off = (struct softee_ring_offsets) {
		.prod = 0,
		.flags = 4,
		.cons = 64,
		.entries = 128,
		.ring_entries = s->ring_entries,
		.ring_mask = s->ring_entries - 1,
		.entry_size = sizeof(struct softee_ring_entry),
	};
}

long softee_attach(void __user *u)
{
	struct softee_session *s, *other;
	struct softee_attach a;
	struct file *file;
	struct fd vm;
	struct kvm *kvm;
	u32 usize;
	int ret, fd;

	ret = softee_uarg_in(&a, sizeof(a), sizeof(a), u, &usize);
	if (ret)
		return ret;
	ret = softee_attach_check(&a);
	if (ret)
		return ret;

	vm = fdget(a.vm_fd);
	if (!vm.file)
		return -EBADF;
	if (!file_is_kvm(vm.file)) {
		fdput(vm);
		return -ENOTTY;
	}
	kvm = vm.file->private_data;
	kvm_get_kvm(kvm);
	fdput(vm);

	s = softee_session_alloc(&a);
	if (IS_ERR(s)) {
		ret = PTR_ERR(s);
		goto err_kvm;
	}
	s->kvm = kvm;

	mutex_lock(&softee_lock);
	list_for_each_entry(other, &softee_sessions, node) {
		if (other->kvm == kvm) {
			mutex_unlock(&softee_lock);
			ret = -EBUSY;
			goto err_session;
		}
	}
	list_add(&s->node, &softee_sessions);
	mutex_unlock(&softee_lock);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_list;
	}
	file = anon_inode_getfile("[softee]", &softee_session_fops, s, O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_fd;
	}

	softee_debugfs_add(s);
	softee_attach_answer(&a, s);
	ret = softee_uarg_out(u, usize, &a, sizeof(a));
	if (ret) {
		/* release() undoes the rest, including the VM reference. */
		fput(file);
		put_unused_fd(fd);
		return ret;
	}
	fd_install(fd, file);
	return fd;

err_fd:
	put_unused_fd(fd);
err_list:
	mutex_lock(&softee_lock);
	list_del(&s->node);
	mutex_unlock(&softee_lock);
err_session:
	softee_session_free(s);
err_kvm:
	kvm_put_kvm(kvm);
	return ret;
}
