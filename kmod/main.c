// SPDX-License-Identifier: GPL-2.0
/*
 * softee.ko: traps a KVM guest's accesses to marked MMIO and port I/O
 * regions and hands them to user space through per-vCPU shared-memory
 * rings, with no exit to the VMM and no syscall on the data path.
 *
 * /dev/softee takes one ioctl, SOFTEE_ATTACH, which returns a session fd;
 * everything else happens on the session (session.c).
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "softee.h"

DEFINE_MUTEX(softee_lock);
struct dentry *softee_debugfs_root;

static int softee_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}

static long softee_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case SOFTEE_ATTACH:
		return softee_attach((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations softee_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= softee_open,
	.unlocked_ioctl	= softee_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice softee_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "softee",
	.fops	= &softee_dev_fops,
	.mode	= 0600,
};

static int __init softee_init(void)
{
	int ret;

	ret = softee_resolve_symbols();
	if (ret)
		return ret;

	softee_debugfs_root = debugfs_create_dir("softee", NULL);

	ret = misc_register(&softee_misc);
	if (ret) {
		pr_err("softee: misc_register failed (%d)\n", ret);
		goto err_debugfs;
	}
	pr_info("softee: loaded, ABI %d, /dev/softee\n", SOFTEE_API_VERSION);
	return 0;

err_debugfs:
	debugfs_remove_recursive(softee_debugfs_root);
	return ret;
}

/*
 * Every session file holds a module reference (fops owner), and regions
 * live only inside sessions, so nothing of ours is registered with KVM
 * by the time this runs.
 */
static void __exit softee_exit(void)
{
	misc_deregister(&softee_misc);
	debugfs_remove_recursive(softee_debugfs_root);
	pr_info("softee: unloaded\n");
}

module_init(softee_init);
module_exit(softee_exit);

MODULE_DESCRIPTION("softee: KVM MMIO/PIO trapping into shared-memory rings");
MODULE_LICENSE("GPL");
