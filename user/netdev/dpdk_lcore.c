// SPDX-License-Identifier: GPL-2.0
/*
 * DPDK lcores for libsoftee.a's threads (softee/netdev_split.h): what
 * softee_dpdk_eal_init() installs, so that the split layout can start a
 * loop on a worker lcore, and a pthread can take an lcore id, without
 * libsoftee.a linking DPDK itself.  launch and wait run on the main lcore,
 * as rte_eal_remote_launch() and rte_eal_wait_lcore() ask; enter and leave
 * on the thread they are for.
 */
#include <errno.h>

#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

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

static int dpdk_lcore_enter(void)
{
	/* An lcore of the EAL's, or one registered already: keep it. */
	if (rte_lcore_id() != LCORE_ID_ANY)
		return -1;
	/* All RTE_MAX_LCORE ids taken: the thread works without a cache. */
	if (rte_thread_register())
		return -1;
	return (int)rte_lcore_id();
}

/* The mbufs this lcore's caches hold go back to their pools first. */
static void cache_flush(struct rte_mempool *mp, void *arg)
{
	struct rte_mempool_cache *c = rte_mempool_default_cache(mp, rte_lcore_id());

	(void)arg;
	if (c)
		rte_mempool_cache_flush(c, mp);
}

static void dpdk_lcore_leave(void)
{
	rte_mempool_walk(cache_flush, NULL);
	rte_thread_unregister();
}

const struct softee_split_lcore_ops softee_dpdk_lcore_ops = {
	.launch = dpdk_lcore_launch,
	.wait = dpdk_lcore_wait,
	.enter = dpdk_lcore_enter,
	.leave = dpdk_lcore_leave,
};
