// SPDX-License-Identifier: GPL-2.0
/* A whole answer to a control client, never blocking for long (softee/send.h). */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include <softee/send.h>
#include <softee/wait.h>

int softee_send_all(int fd, const void *buf, size_t len, unsigned int timeout_ms)
{
	uint64_t until = softee_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	const char *p = buf;

	while (len) {
		ssize_t k = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (k > 0) {
			p += k;
			len -= (size_t)k;
			continue;
		}
		if (k < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (softee_now_ns() > until)
			return -ETIMEDOUT;
		poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, 10);
	}
	return 0;
}
