// SPDX-License-Identifier: GPL-2.0
/*
 * The AF_PACKET socket backend: the paper's conventional software ExpEther,
 * kept as the baseline every benchmark compares with and as the fallback
 * where DPDK cannot run.  One send() per frame and one recv per frame.
 * When the caller may wait and nothing is there, the thread sleeps in
 * ppoll() until a frame comes or the timeout ends (not SO_RCVTIMEO: it
 * rounds up to jiffies, and a 100 us wait measured 8-12 ms here, which
 * delays the transport's acks and timers by as much).  So a busy link
 * costs one system call per frame each way; an idle one, three per wake.
 *
 * The socket is bound to one interface, ignores its own outgoing frames
 * (PACKET_IGNORE_OUTGOING) and, when given an EtherType, lets the kernel
 * drop everything else.  The kernel strips a received 802.1Q tag into the
 * packet's metadata; it is put back (PACKET_AUXDATA), so the transport sees
 * the frame as it was sent.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <softee/netdev_open.h>
#include "netdev_err.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING	23
#endif

#define SOCKET_BUF_DEFAULT	(4u << 20)
#define VLAN_HLEN		4

static const struct softee_netdev_ops socket_ops;

struct socket_priv {
	int fd;
	int ifindex;
	uint64_t missed;		/* the kernel's drops so far (it resets its count on read) */
	char ifname[IF_NAMESIZE];
	/* A received frame; VLAN_HLEN in front to put a stripped tag back. */
	uint8_t buf[VLAN_HLEN + SOFTEE_NETDEV_MAX_FRAME + 64];
};


static int socket_tx_burst(struct softee_netdev *nd, const struct softee_txframe *f,
			   unsigned int n)
{
	struct socket_priv *p = nd->priv;
	unsigned int i;

	for (i = 0; i < n; i++) {
		ssize_t r;

		nd->stats.tx_syscalls++;
		r = send(p->fd, f[i].data, f[i].len, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR) {
				i--;
				continue;
			}
			if (errno == EAGAIN || errno == ENOBUFS)
				break;		/* full: the rest may be retried */
			if (errno == EMSGSIZE || errno == EINVAL) {
				nd->stats.tx_dropped++;	/* too long: taken, dropped */
				continue;
			}
			return i ? (int)i : -errno;
		}
		nd->stats.tx_frames++;
		nd->stats.tx_bytes += f[i].len;
	}
	return (int)i;
}

/* Sleep until a frame is there or timeout_us passed: 1 if one is, 0, -errno. */
static int socket_wait(struct softee_netdev *nd, uint32_t timeout_us)
{
	struct socket_priv *p = nd->priv;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	struct timespec ts = {
		.tv_sec = timeout_us / 1000000,
		.tv_nsec = (long)(timeout_us % 1000000) * 1000,
	};
	int r;

	nd->stats.rx_syscalls++;
	r = ppoll(&pfd, 1, &ts, NULL);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r > 0 && (pfd.revents & (POLLERR | POLLNVAL)))
		return -EIO;
	return r > 0;
}

/*
 * Receive one frame into p->buf; returns its length and where it starts,
 * 0 when there is none (or it was dropped), or -errno.
 */
static int socket_recv_one(struct softee_netdev *nd, const uint8_t **frame)
{
	struct socket_priv *p = nd->priv;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	struct iovec iov = {
		.iov_base = p->buf + VLAN_HLEN,
		.iov_len = sizeof(p->buf) - VLAN_HLEN,
	};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	uint8_t *start = p->buf + VLAN_HLEN;
	ssize_t r;

	nd->stats.rx_syscalls++;
	r = recvmsg(p->fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
	if (r < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -errno;
	if ((size_t)r > iov.iov_len || (size_t)r > SOFTEE_NETDEV_MAX_FRAME ||
	    (msg.msg_flags & MSG_TRUNC) || r < ETH_HLEN) {
		nd->stats.rx_dropped++;
		return 0;
	}
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		struct tpacket_auxdata aux;
		uint16_t tpid, tci;

		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA ||
		    c->cmsg_len < CMSG_LEN(sizeof(aux)))
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		if (!(aux.tp_status & TP_STATUS_VLAN_VALID))
			continue;
		if ((size_t)r + VLAN_HLEN > SOFTEE_NETDEV_MAX_FRAME) {
			nd->stats.rx_dropped++;
			return 0;
		}
		/* Put the tag back between the source MAC and the EtherType. */
		tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : ETH_P_8021Q;
		tci = aux.tp_vlan_tci;
		memmove(p->buf, start, 2 * ETH_ALEN);
		start = p->buf;
		start[12] = tpid >> 8;
		start[13] = tpid & 0xff;
		start[14] = tci >> 8;
		start[15] = tci & 0xff;
		r += VLAN_HLEN;
	}
	*frame = start;
	return (int)r;
}

static int socket_rx_burst(struct softee_netdev *nd, unsigned int max, uint32_t timeout_us,
			   softee_rx_fn fn, void *opaque)
{
	unsigned int n = 0;
	bool may_wait = timeout_us != 0;
	int ret;

	while (n < max) {
		const uint8_t *frame = NULL;
		int len = socket_recv_one(nd, &frame);

		if (len < 0)
			return n ? (int)n : len;
		if (len == 0) {
			/* Nothing there: sleep once for the first frame, if allowed. */
			if (n || !may_wait)
				break;
			may_wait = false;
			ret = socket_wait(nd, timeout_us);
			if (ret < 0)
				return ret;
			if (!ret)
				break;
			continue;
		}
		nd->stats.rx_frames++;
		nd->stats.rx_bytes += (uint32_t)len;
		fn(opaque, frame, (uint32_t)len);
		n++;
	}
	return (int)n;
}

int softee_socket_rx_missed(struct softee_netdev *nd, uint64_t *missed)
{
	struct socket_priv *p = nd->priv;
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (nd->ops != &socket_ops)
		return -EINVAL;
	if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return -errno;
	p->missed += st.tp_drops;
	*missed = p->missed;
	return 0;
}

static void socket_close(struct softee_netdev *nd)
{
	struct socket_priv *p = nd->priv;

	if (p)
		close(p->fd);
	free(p);
	free(nd);
}

static const struct softee_netdev_ops socket_ops = {
	.name = "socket",
	.tx_burst = socket_tx_burst,
	.rx_burst = socket_rx_burst,
	.close = socket_close,
};

/* "IFNAME[,proto=0xNNNN][,buf=BYTES]" into the name and the conf. */
static int socket_parse(const char *args, char *ifname, struct softee_netdev_conf *c,
			char *err, size_t errlen)
{
	const char *comma = strchr(args, ',');
	size_t len = comma ? (size_t)(comma - args) : strlen(args);

	if (len == 0 || len >= IF_NAMESIZE) {
		netdev_seterr(err, errlen, "socket: bad interface name '%.*s' (want socket:IFNAME[,proto=0xNNNN][,buf=BYTES])",
		       (int)len, args);
		return -EINVAL;
	}
	memcpy(ifname, args, len);
	ifname[len] = '\0';
	while (comma) {
		const char *opt = comma + 1;
		char *end;
		unsigned long v;

		comma = strchr(opt, ',');
		if (!strncmp(opt, "proto=", 6)) {
			v = strtoul(opt + 6, &end, 0);
			if (end == opt + 6 || (*end && *end != ',') || v > 0xffff || v < 0x600)
				goto bad;
			c->ethertype = (uint16_t)v;
		} else if (!strncmp(opt, "buf=", 4)) {
			v = strtoul(opt + 4, &end, 0);
			if (end == opt + 4 || (*end && *end != ',') || v == 0 || v > (1ul << 30))
				goto bad;
			c->sock_buf = (uint32_t)v;
		} else {
			goto bad;
		}
		continue;
bad:
		netdev_seterr(err, errlen, "socket: %s: bad option '%.*s' (known: proto=0xNNNN (>= 0x600), buf=BYTES)",
		       ifname, (int)(comma ? (size_t)(comma - opt) : strlen(opt)), opt);
		return -EINVAL;
	}
	return 0;
}

/* SO_xxxBUFFORCE (root) lifts the sysctl caps; without it, ask politely. */
static void socket_set_buf(int fd, int force, int plain, uint32_t bytes)
{
	int v = (int)bytes;

	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)))
		setsockopt(fd, SOL_SOCKET, plain, &v, sizeof(v));
}

int softee_socket_open(const char *args, const struct softee_netdev_conf *conf,
		       struct softee_netdev **ndp, char *err, size_t errlen)
{
	struct softee_netdev_conf c = conf ? *conf : (struct softee_netdev_conf){ 0 };
	struct softee_netdev *nd = NULL;
	struct socket_priv *p = NULL;
	struct sockaddr_ll sll = { 0 };
	struct ifreq ifr = { 0 };
	char ifname[IF_NAMESIZE];
	int one = 1, ret;

	ret = socket_parse(args, ifname, &c, err, errlen);
	if (ret)
		return ret;
	nd = calloc(1, sizeof(*nd));
	p = calloc(1, sizeof(*p));
	if (!nd || !p) {
		ret = -ENOMEM;
		netdev_seterr(err, errlen, "socket: %s: out of memory", ifname);
		goto err_free;
	}
	p->fd = -1;
	memcpy(p->ifname, ifname, sizeof(ifname));
	p->ifindex = (int)if_nametoindex(ifname);
	if (!p->ifindex) {
		ret = -errno;
		netdev_seterr(err, errlen, "socket: no interface '%s' in this network namespace: %s",
		       ifname, strerror(errno));
		goto err_free;
	}
	/* Protocol 0 until bound: no frame of another interface sneaks in. */
	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		ret = -errno;
		netdev_seterr(err, errlen, "socket: %s: socket(AF_PACKET, SOCK_RAW): %s%s", ifname,
		       strerror(errno), errno == EPERM ? " (needs CAP_NET_RAW)" : "");
		goto err_free;
	}

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(p->fd, SIOCGIFFLAGS, &ifr)) {
		ret = -errno;
		netdev_seterr(err, errlen, "socket: %s: SIOCGIFFLAGS: %s", ifname, strerror(errno));
		goto err_close;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		ret = -ENETDOWN;
		netdev_seterr(err, errlen, "socket: %s is down (ip link set %s up)", ifname, ifname);
		goto err_close;
	}
	if (ioctl(p->fd, SIOCGIFHWADDR, &ifr)) {
		ret = -errno;
		netdev_seterr(err, errlen, "socket: %s: SIOCGIFHWADDR: %s", ifname, strerror(errno));
		goto err_close;
	}
	if (ifr.ifr_hwaddr.sa_family != 1 /* ARPHRD_ETHER */) {
		ret = -EPROTONOSUPPORT;
		netdev_seterr(err, errlen, "socket: %s is not an Ethernet interface (hardware type %u)",
		       ifname, ifr.ifr_hwaddr.sa_family);
		goto err_close;
	}
	memcpy(nd->mac, ifr.ifr_hwaddr.sa_data, SOFTEE_ETH_ALEN);
	if (ioctl(p->fd, SIOCGIFMTU, &ifr)) {
		ret = -errno;
		netdev_seterr(err, errlen, "socket: %s: SIOCGIFMTU: %s", ifname, strerror(errno));
		goto err_close;
	}
	nd->mtu = (uint32_t)ifr.ifr_mtu;
	nd->blocking_rx = true;
	if (nd->mtu + ETH_HLEN + VLAN_HLEN > SOFTEE_NETDEV_MAX_FRAME)
		nd->mtu = SOFTEE_NETDEV_MAX_FRAME - ETH_HLEN - VLAN_HLEN;

	if (setsockopt(p->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) ||
	    (!c.ethertype &&
	     setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)))) {
		ret = -errno;
		netdev_seterr(err, errlen, "socket: %s: setsockopt(SOL_PACKET): %s", ifname, strerror(errno));
		goto err_close;
	}
	socket_set_buf(p->fd, SO_RCVBUFFORCE, SO_RCVBUF, c.sock_buf ? c.sock_buf : SOCKET_BUF_DEFAULT);
	socket_set_buf(p->fd, SO_SNDBUFFORCE, SO_SNDBUF, c.sock_buf ? c.sock_buf : SOCKET_BUF_DEFAULT);

	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(c.ethertype ? c.ethertype : ETH_P_ALL);
	sll.sll_ifindex = p->ifindex;
	if (bind(p->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		ret = -errno;
		netdev_seterr(err, errlen, "socket: %s: bind(ifindex %d): %s", ifname, p->ifindex,
		       strerror(errno));
		goto err_close;
	}

	nd->ops = &socket_ops;
	nd->priv = p;
	*ndp = nd;
	return 0;

err_close:
	close(p->fd);
err_free:
	free(p);
	free(nd);
	return ret;
}
