/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The links a daemon puts under its transport, bottom up: the link of a
 * spec (softee/netdev_open.h), the split wrapper right on it for
 * --layout split (softee/netdev_split.h; its TX and RX threads call the
 * link at once, which the fault injector does not allow: it sends held
 * frames from rx_burst), and the fault injector (softee/fault.h) above
 * both, still below the transport.
 *
 *	struct softee_netdev_stack st;
 *
 *	if (softee_netdev_stack_open(&st, spec, NULL, split ? &sc : NULL,
 *				     fault ? &fc : NULL, err, sizeof(err)))
 *		errx(1, "%s", err);
 *	... the transport on st.top ...
 *	softee_netdev_stack_close(&st);
 */
#ifndef _SOFTEE_NETDEV_STACK_H
#define _SOFTEE_NETDEV_STACK_H

#include <stddef.h>

#include <softee/fault.h>
#include <softee/netdev_open.h>
#include <softee/netdev_split.h>

struct softee_netdev_stack {
	struct softee_netdev *top;	/* what the transport runs on */
	struct softee_netdev *link;	/* the link, or the split wrapper that owns it */
	struct softee_netdev *fault;	/* the injector, or NULL */
};

/*
 * Open the stack: split and fault may be NULL (not wanted).  0 with st
 * filled, or -errno with nothing left open and a message in err that says
 * which layer failed.
 */
int softee_netdev_stack_open(struct softee_netdev_stack *st, const char *spec,
			     const struct softee_netdev_conf *conf,
			     const struct softee_split_conf *split,
			     const struct softee_fault_cfg *fault, char *err, size_t errlen);

/* "TX on lcore 1, RX on CPU -1 (floats)" for a split stack, else "". */
const char *softee_netdev_stack_layout(const struct softee_netdev_stack *st, char *buf,
				       size_t len);

/* Close from the top down; st is zeroed. */
void softee_netdev_stack_close(struct softee_netdev_stack *st);

#endif /* _SOFTEE_NETDEV_STACK_H */
