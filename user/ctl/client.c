// SPDX-License-Identifier: GPL-2.0
/*
 * softeectl's control-socket client: one request, one answer, under one
 * deadline.  Both daemons serve their sockets from a loop that also does
 * other work (the box's is its data loop), so a daemon that is stuck must
 * cost the operator a clear timeout, never a hung CLI: every wait is a
 * poll() bounded by what is left of the deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "softeectl.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(long long deadline)
{
	long long l = deadline - now_ms();

	return l < 0 ? 0 : (int)l;
}

/* Wait for EVENTS on fd until the deadline: 1 ready, 0 timed out, -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	for (;;) {
		n = poll(&pfd, 1, left_ms(deadline));
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Has the answer ended?  Returns its length without the framing, or -1. */
static long answer_end(const char *buf, size_t len, enum ctl_framing fr)
{
	const char *nl;

	if (fr == CTL_END_LINE) {
		nl = memchr(buf, '\n', len);
		return nl ? nl - buf : -1;
	}
	/* An empty line: "\n\n" anywhere, or a "\n" that is the first byte. */
	if (len && buf[0] == '\n')
		return 0;
	for (nl = buf; (nl = memchr(nl, '\n', len - (size_t)(nl - buf))) &&
	     (size_t)(nl - buf) + 1 < len; nl++)
		if (nl[1] == '\n')
			return nl - buf;
	return -1;
}

static enum ctl_err fail(enum ctl_err e, char *err, size_t errlen, const char *path,
			 const char *what, int errnum)
{
	snprintf(err, errlen, "%s: %s%s%s", path, what, errnum ? ": " : "",
		 errnum ? strerror(errnum) : "");
	return e;
}

enum ctl_err ctl_request(const char *path, const char *line, enum ctl_framing fr, int timeout_ms,
			 char **out, size_t *len, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long deadline = now_ms() + timeout_ms;
	size_t cap = 4096, have = 0, reqlen, off = 0;
	enum ctl_err e = CTL_OK;
	char *buf = NULL, *req;
	long end = -1;
	int fd, r;

	*out = NULL;
	*len = 0;
	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(CTL_UNREACHABLE, err, errlen, path, "socket path too long", 0);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(CTL_IO, err, errlen, path, "socket", errno);
	/*
	 * A unix socket connects at once or says EAGAIN (its backlog is full:
	 * the daemon is alive but busy), which is worth retrying until the
	 * deadline.  ENOENT, ECONNREFUSED, EACCES: nobody to talk to.
	 */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if ((errno == EAGAIN || errno == EINTR) && left_ms(deadline)) {
			usleep(10000);
			continue;
		}
		if (errno == EINPROGRESS) {
			int so = 0;
			socklen_t sl = sizeof(so);

			if (wait_fd(fd, POLLOUT, deadline) <= 0) {
				e = fail(CTL_TIMEOUT, err, errlen, path, "connect timed out", 0);
				goto out;
			}
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl);
			if (!so)
				break;
			errno = so;
		}
		e = fail(errno == EAGAIN ? CTL_TIMEOUT : CTL_UNREACHABLE, err, errlen, path,
			 "cannot connect", errno);
		goto out;
	}

	reqlen = strlen(line) + 1;
	req = malloc(reqlen + 1);
	if (!req) {
		e = fail(CTL_IO, err, errlen, path, "request", ENOMEM);
		goto out;
	}
	memcpy(req, line, reqlen - 1);
	req[reqlen - 1] = '\n';
	while (off < reqlen) {
		ssize_t w = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			r = wait_fd(fd, POLLOUT, deadline);
			if (r > 0)
				continue;
			if (!r) {
				e = fail(CTL_TIMEOUT, err, errlen, path, "the daemon does not take the request", 0);
				free(req);
				goto out;
			}
			errno = -r;
		}
		e = fail(CTL_IO, err, errlen, path, "sending the request", errno);
		free(req);
		goto out;
	}
	free(req);

	buf = malloc(cap);
	if (!buf) {
		e = fail(CTL_IO, err, errlen, path, "answer", ENOMEM);
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (have + 1 >= cap) {
			char *nb;

			if (cap >= CTL_ANSWER_MAX) {
				e = fail(CTL_IO, err, errlen, path, "answer too long", 0);
				goto out;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				e = fail(CTL_IO, err, errlen, path, "answer", ENOMEM);
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + have, cap - 1 - have, 0);
		if (n > 0) {
			have += (size_t)n;
			end = answer_end(buf, have, fr);
			if (end >= 0)
				break;
			continue;
		}
		if (n == 0) {
			/* The daemon closed: what it sent is the answer (a busy box says so, then closes). */
			if (!have) {
				e = fail(CTL_IO, err, errlen, path, "the daemon closed the connection without an answer", 0);
				goto out;
			}
			end = (long)have;
			break;
		}
		if (errno == EAGAIN || errno == EINTR) {
			r = wait_fd(fd, POLLIN, deadline);
			if (r > 0)
				continue;
			if (!r)
				e = fail(CTL_TIMEOUT, err, errlen, path, "no answer in time (--timeout-ms)", 0);
			else
				e = fail(CTL_IO, err, errlen, path, "waiting for the answer", -r);
			goto out;
		}
		e = fail(CTL_IO, err, errlen, path, "reading the answer", errno);
		goto out;
	}
	/* Without the framing, and without a trailing newline. */
	while (end > 0 && (buf[end - 1] == '\n' || buf[end - 1] == '\r'))
		end--;
	buf[end] = 0;
	*out = buf;
	*len = (size_t)end;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return e;
}
