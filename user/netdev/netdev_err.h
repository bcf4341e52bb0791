/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The backends' error messages (softee/netdev_open.h's err, errlen):
 * printf into the caller's buffer, if it gave one.
 */
#ifndef _SOFTEE_NETDEV_ERR_H
#define _SOFTEE_NETDEV_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline __attribute__((format(printf, 3, 4))) void
netdev_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#endif /* _SOFTEE_NETDEV_ERR_H */
