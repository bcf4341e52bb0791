/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Answers on a control socket.  A client may close before it reads (no
 * SIGPIPE may end the daemon for that) or stop reading (no daemon thread
 * may block on it for good): softee_send_all sends LEN bytes without
 * blocking, waiting at most TIMEOUT_MS for room; 0, -ETIMEDOUT (drop the
 * client), or the negative errno of the send (EPIPE: it went away).
 */
#ifndef _SOFTEE_SEND_H
#define _SOFTEE_SEND_H

#include <stddef.h>

int softee_send_all(int fd, const void *buf, size_t len, unsigned int timeout_ms);

#endif /* _SOFTEE_SEND_H */
