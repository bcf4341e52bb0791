// SPDX-License-Identifier: GPL-2.0
/* The links under a daemon's transport (softee/netdev_stack.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <softee/netdev_stack.h>

int softee_netdev_stack_open(struct softee_netdev_stack *st, const char *spec,
			     const struct softee_netdev_conf *conf,
			     const struct softee_split_conf *split,
			     const struct softee_fault_cfg *fault, char *err, size_t errlen)
{
	struct softee_netdev *nd;
	char why[SOFTEE_NETDEV_ERRLEN];
	int ret;

	memset(st, 0, sizeof(*st));
	ret = softee_netdev_open(spec, conf, &st->link, err, errlen);
	if (ret)
		return ret;
	if (split) {
		/* The wrapper owns the link from here on. */
		ret = softee_netdev_split(st->link, split, &nd, why, sizeof(why));
		if (ret) {
			if (err)
				snprintf(err, errlen, "the split layout: %s", why);
			softee_netdev_close(st->link);
			st->link = NULL;
			return ret;
		}
		st->link = nd;
	}
	st->top = st->link;
	if (fault) {
		ret = softee_fault_create(&st->fault, st->link, fault);
		if (ret) {
			if (err)
				snprintf(err, errlen, "the fault injector: %s", strerror(-ret));
			softee_netdev_close(st->link);
			st->link = NULL;
			st->top = NULL;
			return ret;
		}
		st->top = st->fault;
	}
	return 0;
}

const char *softee_netdev_stack_layout(const struct softee_netdev_stack *st, char *buf,
				       size_t len)
{
	struct softee_split_stats ss;

	if (!len)
		return buf;
	buf[0] = '\0';
	/* (not a split wrapper: -EINVAL) */
	if (!st->link || softee_split_get_stats(st->link, &ss))
		return buf;
	snprintf(buf, len, "TX on %s %d, RX on %s %d (-1: floats)",
		 ss.tx_lcore ? "lcore" : "CPU", ss.tx_cpu - 1,
		 ss.rx_lcore ? "lcore" : "CPU", ss.rx_cpu - 1);
	return buf;
}

void softee_netdev_stack_close(struct softee_netdev_stack *st)
{
	if (st->fault)
		softee_netdev_close(st->fault);
	if (st->link)
		softee_netdev_close(st->link);
	memset(st, 0, sizeof(*st));
}
