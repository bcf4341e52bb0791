// SPDX-License-Identifier: GPL-2.0
/*
 * The split layout's loops on DPDK lcores (softee/netdev_split.h): what
 * softee_dpdk_eal_init() installs, so that libsoftee.a's wrapper can start
 * a loop on a worker lcore without linking DPDK itself.  Both calls run on
 * the main lcore, as rte_eal_remote_launch() and rte_eal_wait_lcore() ask.
 */
#include <errno.h>

#include <rte_launch.h>
#include <rte_lcore.h>

#include <softee/netdev_split.h>

static int dpdk_lcore_launch(unsigned int lcore, int (*fn)(void *), void *arg)
{
	if (lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcore) ||
	    lcore == rte_get_main_lcore() || rte_lcore_id() != rte_get_main_lcore())
		return -ENODEV;
	/* -EBUSY: the lcore runs something already (the other loop, say). */
	return rte_eal_remote_launch(fn, arg, lcore);
}

static void dpdk_lcore_wait(unsigned int lcore)
{
	rte_eal_wait_lcore(lcore);
}

const struct softee_split_lcore_ops softee_dpdk_lcore_ops = {
	.launch = dpdk_lcore_launch,
	.wait = dpdk_lcore_wait,
};
