// SPDX-License-Identifier: GPL-2.0
/*
 * The link factory: "BACKEND:ARGS" to an open softee_netdev.  The socket
 * backend is always there; others (DPDK) register themselves when their
 * library is initialised, so that a program that does not link DPDK still
 * links, and says clearly why "dpdk:" does not work for it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <softee/netdev_open.h>

#define NETDEV_BACKENDS_MAX	8
#define NETDEV_PREFIX_MAX	16

static struct {
	char prefix[NETDEV_PREFIX_MAX];
	softee_netdev_open_fn fn;
	softee_netdev_missed_fn missed;
} backends[NETDEV_BACKENDS_MAX] = {
	{ "socket", softee_socket_open, softee_socket_rx_missed },
};
static pthread_mutex_t backends_lock = PTHREAD_MUTEX_INITIALIZER;

int softee_netdev_register(const char *prefix, softee_netdev_open_fn fn,
			   softee_netdev_missed_fn missed)
{
	int i, ret = -ENOSPC;

	if (!prefix || !*prefix || strlen(prefix) >= NETDEV_PREFIX_MAX || strchr(prefix, ':') || !fn)
		return -EINVAL;
	pthread_mutex_lock(&backends_lock);
	for (i = 0; i < NETDEV_BACKENDS_MAX; i++) {
		if (!backends[i].fn || !strcmp(backends[i].prefix, prefix)) {
			snprintf(backends[i].prefix, sizeof(backends[i].prefix), "%s", prefix);
			backends[i].fn = fn;
			backends[i].missed = missed;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&backends_lock);
	return ret;
}

int softee_netdev_open(const char *spec, const struct softee_netdev_conf *conf,
		       struct softee_netdev **nd, char *err, size_t errlen)
{
	softee_netdev_open_fn fn = NULL;
	const char *colon;
	size_t plen;
	int i;

	if (err && errlen)
		err[0] = '\0';
	colon = spec ? strchr(spec, ':') : NULL;
	if (!colon || colon == spec || !colon[1]) {
		if (err)
			snprintf(err, errlen, "netdev: bad link spec '%s' (want socket:IFNAME or dpdk:DEVARGS)",
				 spec ? spec : "(null)");
		return -EINVAL;
	}
	plen = (size_t)(colon - spec);
	pthread_mutex_lock(&backends_lock);
	for (i = 0; i < NETDEV_BACKENDS_MAX && backends[i].fn; i++) {
		if (strlen(backends[i].prefix) == plen && !strncmp(backends[i].prefix, spec, plen)) {
			fn = backends[i].fn;
			break;
		}
	}
	pthread_mutex_unlock(&backends_lock);
	if (!fn) {
		if (err) {
			if (plen == 4 && !strncmp(spec, "dpdk", 4))
				snprintf(err, errlen, "netdev: '%s': the DPDK backend is not initialised "
					 "(the program must link libsoftee_dpdk.a and call softee_dpdk_eal_init() first)",
					 spec);
			else
				snprintf(err, errlen, "netdev: '%s': unknown backend '%.*s' (known: socket, dpdk)",
					 spec, (int)plen, spec);
		}
		return -ENOENT;
	}
	return fn(colon + 1, conf, nd, err, errlen);
}

int softee_netdev_rx_missed(struct softee_netdev *nd, uint64_t *missed)
{
	softee_netdev_missed_fn fn = NULL;
	int i;

	if (!nd || !nd->ops || !nd->ops->name)
		return -EINVAL;
	pthread_mutex_lock(&backends_lock);
	for (i = 0; i < NETDEV_BACKENDS_MAX && backends[i].fn; i++)
		if (!strcmp(backends[i].prefix, nd->ops->name))
			fn = backends[i].missed;
	pthread_mutex_unlock(&backends_lock);
	return fn ? fn(nd, missed) : -ENOTSUP;
}
