// SPDX-License-Identifier: GPL-2.0
/*
 * Raw frames straight through a backend, no transport: does the link carry
 * frames intact, in order, and how fast.
 *
 * A raw frame: Ethernet header (--ethertype; with --vlan TCI an 802.1Q tag
 * before it, which the receiver must see too), then
 *	0  "SRAW"		magic
 *	4  seq			u64, little endian
 *	12 timestamp		u64 ns, the sender's CLOCK_MONOTONIC
 *	20 pattern		byte i = (seq * 7 + i) & 0xff, to the end
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "linkbench.h"

#define RAW_MAGIC	"SRAW"
#define RAW_MIN		(18 + 20)

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);	/* x86: little endian */
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* The Ethernet header's length, and where the EtherType sits. */
static uint32_t raw_hdr(const struct lb_opts *o)
{
	return o->vlan >= 0 ? 18 : 14;
}

static void raw_fill(uint8_t *f, uint32_t len, const struct lb_opts *o, const uint8_t *src,
		     uint64_t seq)
{
	uint32_t h = raw_hdr(o), i;
	uint8_t *pl = f + h;

	memcpy(f, o->dst, SOFTEE_ETH_ALEN);
	memcpy(f + 6, src, SOFTEE_ETH_ALEN);
	if (o->vlan >= 0) {
		f[12] = 0x81;
		f[13] = 0x00;
		f[14] = (uint8_t)(o->vlan >> 8);
		f[15] = (uint8_t)o->vlan;
	}
	f[h - 2] = o->ethertype >> 8;
	f[h - 1] = o->ethertype & 0xff;
	memcpy(pl, RAW_MAGIC, 4);
	put64(pl + 4, seq);
	put64(pl + 12, lb_now_ns());
	for (i = 20; i < len - h; i++)
		pl[i] = (uint8_t)(seq * 7 + i);
}

/* 1: ours and intact, 0: not ours, -1: ours but damaged (or lost its tag). */
static int raw_check(const uint8_t *f, uint32_t len, const struct lb_opts *o, uint64_t *seq,
		     uint64_t *ts)
{
	uint32_t h = 14, i;
	const uint8_t *pl;
	bool tagged;

	if (len < 14)
		return 0;		/* a runt: not even an EtherType */
	tagged = f[12] == 0x81 && f[13] == 0x00;
	if (tagged)
		h = 18;
	if (len < h + 20 || f[h - 2] != o->ethertype >> 8 || f[h - 1] != (o->ethertype & 0xff) ||
	    memcmp(f + h, RAW_MAGIC, 4))
		return 0;
	pl = f + h;
	*seq = get64(pl + 4);
	*ts = get64(pl + 12);
	if (tagged != (o->vlan >= 0) ||
	    (tagged && ((f[14] << 8 | f[15]) & 0xfff) != (o->vlan & 0xfff)))
		return -1;
	for (i = 20; i < len - h; i++)
		if (pl[i] != (uint8_t)(*seq * 7 + i))
			return -1;
	return 1;
}

/* Send all n frames, spinning while the backend is full. */
static int raw_tx_all(struct softee_netdev *nd, struct softee_txframe *f, unsigned int n)
{
	unsigned int off = 0;

	while (off < n && !lb_quit) {
		int r = softee_netdev_tx(nd, f + off, n - off);

		if (r < 0)
			return r;
		off += (unsigned int)r;
	}
	return 0;
}

static void raw_result_tx(struct softee_netdev *nd, uint64_t frames, uint64_t t0, uint64_t c0)
{
	double secs = (double)(lb_now_ns() - t0) / 1e9;

	printf("linkbench: result mode=raw-send frames=%llu secs=%.6f fps=%.0f tx_syscalls=%llu "
	       "tx_dropped=%llu cpu_ns=%llu\n",
	       (unsigned long long)frames, secs, secs > 0 ? (double)frames / secs : 0.0,
	       (unsigned long long)nd->stats.tx_syscalls, (unsigned long long)nd->stats.tx_dropped,
	       (unsigned long long)(lb_cpu_ns() - c0));
}

static int raw_send(struct softee_netdev *nd, const struct lb_opts *o)
{
	struct softee_txframe *f = calloc(o->burst, sizeof(*f));
	uint8_t *buf = calloc(o->burst, o->size);
	uint64_t seq = 0, t0, c0;
	unsigned int i;
	int ret = 0;

	if (!f || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	t0 = lb_now_ns();
	c0 = lb_cpu_ns();
	while (seq < o->count && !lb_quit) {
		unsigned int k = o->count - seq < o->burst ? (unsigned int)(o->count - seq) : o->burst;

		for (i = 0; i < k; i++) {
			raw_fill(buf + (size_t)i * o->size, o->size, o, nd->mac, seq + i);
			f[i].data = buf + (size_t)i * o->size;
			f[i].len = o->size;
		}
		ret = raw_tx_all(nd, f, k);
		if (ret) {
			fprintf(stderr, "linkbench: raw-send: tx: %s\n", strerror(-ret));
			goto out;
		}
		seq += k;
		if (o->gap_us)
			nanosleep(&(struct timespec){ .tv_sec = o->gap_us / 1000000,
						      .tv_nsec = (o->gap_us % 1000000) * 1000l }, NULL);
	}
	raw_result_tx(nd, seq, t0, c0);
out:
	free(f);
	free(buf);
	return ret;
}

struct raw_rx {
	const struct lb_opts *o;
	uint64_t frames, bad, lost, ooo, other, bytes;
	uint64_t next;			/* the sequence number expected next */
	uint64_t first_ns, last_ns;
};

static void raw_rx_one(void *opaque, const uint8_t *f, uint32_t len)
{
	struct raw_rx *r = opaque;
	uint64_t seq, ts;
	int ok = raw_check(f, len, r->o, &seq, &ts);

	if (ok == 0) {
		r->other++;
		return;
	}
	r->last_ns = lb_now_ns();
	if (!r->frames && !r->bad)
		r->first_ns = r->last_ns;
	if (ok < 0) {
		r->bad++;
		return;
	}
	r->frames++;
	r->bytes += len;
	if (seq > r->next)
		r->lost += seq - r->next;
	else if (seq < r->next)
		r->ooo++;
	if (seq >= r->next)
		r->next = seq + 1;
}

static int raw_recv(struct softee_netdev *nd, const struct lb_opts *o)
{
	struct raw_rx r = { .o = o };
	uint64_t start = lb_now_ns(), c0 = lb_cpu_ns();
	double secs;

	lb_ready(nd);
	while (!lb_quit && r.frames < o->count) {
		uint64_t now;
		int n = softee_netdev_rx(nd, 64, 100000, raw_rx_one, &r);

		if (n < 0) {
			fprintf(stderr, "linkbench: raw-recv: rx: %s\n", strerror(-n));
			return n;
		}
		if (n)
			continue;
		now = lb_now_ns();
		if (r.last_ns ? now - r.last_ns > o->timeout_ms * 1000000ull
			      : now - start > o->wait_ms * 1000000ull)
			break;
	}
	uint64_t missed = 0;

	softee_netdev_rx_missed(nd, &missed);
	/* Whatever was never seen after the last one counts as lost too. */
	if (r.next < o->count && r.frames)
		r.lost += o->count - r.next;
	secs = (double)(r.last_ns - r.first_ns) / 1e9;
	printf("linkbench: result mode=raw-recv frames=%llu bad=%llu lost=%llu ooo=%llu other=%llu "
	       "secs=%.6f fps=%.0f mb_s=%.2f rx_syscalls=%llu rx_dropped=%llu rx_missed=%llu cpu_ns=%llu\n",
	       (unsigned long long)r.frames, (unsigned long long)r.bad, (unsigned long long)r.lost,
	       (unsigned long long)r.ooo, (unsigned long long)r.other, secs,
	       secs > 0 ? (double)(r.frames - 1) / secs : 0.0,
	       secs > 0 ? (double)r.bytes / secs / 1e6 : 0.0,
	       (unsigned long long)nd->stats.rx_syscalls, (unsigned long long)nd->stats.rx_dropped,
	       (unsigned long long)missed, (unsigned long long)(lb_cpu_ns() - c0));
	return 0;
}

/* raw-echo: frames back to their sender, batched per RX burst. */
struct raw_echo {
	const struct lb_opts *o;
	const uint8_t *mac;
	uint8_t (*buf)[SOFTEE_NETDEV_MAX_FRAME];
	struct softee_txframe f[64];
	unsigned int n;
	uint64_t echoed;
};

static void raw_echo_one(void *opaque, const uint8_t *f, uint32_t len)
{
	struct raw_echo *e = opaque;
	uint8_t *b = e->buf[e->n];

	uint64_t seq, ts;

	if (len > SOFTEE_NETDEV_MAX_FRAME || raw_check(f, len, e->o, &seq, &ts) == 0)
		return;
	memcpy(b, f + 6, SOFTEE_ETH_ALEN);
	memcpy(b + 6, e->mac, SOFTEE_ETH_ALEN);
	memcpy(b + 12, f + 12, len - 12);
	e->f[e->n].data = b;
	e->f[e->n].len = len;
	e->n++;
}

static int raw_echo(struct softee_netdev *nd, const struct lb_opts *o)
{
	struct raw_echo e = { .o = o, .mac = nd->mac };
	int ret = 0;

	e.buf = malloc(64 * sizeof(*e.buf));
	if (!e.buf)
		return -ENOMEM;
	lb_ready(nd);
	while (!lb_quit && e.echoed < o->count) {
		int n = softee_netdev_rx(nd, 64, 100000, raw_echo_one, &e);

		if (n < 0) {
			ret = n;
			break;
		}
		if (e.n) {
			ret = raw_tx_all(nd, e.f, e.n);
			if (ret)
				break;
			e.echoed += e.n;
			e.n = 0;
		}
	}
	if (ret)
		fprintf(stderr, "linkbench: raw-echo: %s\n", strerror(-ret));
	printf("linkbench: result mode=raw-echo frames=%llu\n", (unsigned long long)e.echoed);
	free(e.buf);
	return ret;
}

struct raw_pong {
	const struct lb_opts *o;
	uint64_t want;
	bool got;
};

static void raw_pong_one(void *opaque, const uint8_t *f, uint32_t len)
{
	struct raw_pong *p = opaque;
	uint64_t seq, ts;

	if (raw_check(f, len, p->o, &seq, &ts) == 1 && seq == p->want)
		p->got = true;
}

static int raw_ping(struct softee_netdev *nd, const struct lb_opts *o)
{
	double *rtt = calloc(o->count ? o->count : 1, sizeof(*rtt));
	uint8_t *buf = malloc(o->size);
	uint64_t i, n = 0, lost = 0;
	int ret = 0;

	if (!rtt || !buf) {
		free(rtt);
		free(buf);
		return -ENOMEM;
	}
	for (i = 0; i < o->count && !lb_quit; i++) {
		struct raw_pong p = { .o = o, .want = i };
		struct softee_txframe f = { .data = buf, .len = o->size };
		uint64_t t0;

		raw_fill(buf, o->size, o, nd->mac, i);
		t0 = lb_now_ns();
		ret = raw_tx_all(nd, &f, 1);
		if (ret)
			break;
		while (!p.got && lb_now_ns() - t0 < 1000000000ull && !lb_quit) {
			ret = softee_netdev_rx(nd, 64, 10000, raw_pong_one, &p);
			if (ret < 0)
				goto out;
			ret = 0;
		}
		if (p.got)
			rtt[n++] = (double)(lb_now_ns() - t0) / 1e3;
		else
			lost++;
	}
	printf("linkbench: result mode=raw-ping samples=%llu lost=%llu rtt_p50_us=%.2f rtt_p99_us=%.2f\n",
	       (unsigned long long)n, (unsigned long long)lost, lb_percentile(rtt, n, 50),
	       lb_percentile(rtt, n, 99));
out:
	if (ret)
		fprintf(stderr, "linkbench: raw-ping: %s\n", strerror(-ret));
	free(rtt);
	free(buf);
	return ret;
}

int lb_raw(const char *mode, const struct lb_opts *o)
{
	struct softee_netdev *nd;
	int ret;

	if (o->size < RAW_MIN || o->size > SOFTEE_NETDEV_MAX_FRAME) {
		fprintf(stderr, "linkbench: raw frames are %u..%u bytes\n", RAW_MIN, SOFTEE_NETDEV_MAX_FRAME);
		return -EINVAL;
	}
	ret = lb_open(o, &nd);
	if (ret)
		return ret;
	if (!strcmp(mode, "raw-send")) {
		lb_ready(nd);
		ret = raw_send(nd, o);
	} else if (!strcmp(mode, "raw-recv")) {
		ret = raw_recv(nd, o);
	} else if (!strcmp(mode, "raw-echo")) {
		ret = raw_echo(nd, o);
	} else if (!strcmp(mode, "raw-ping")) {
		lb_ready(nd);
		ret = raw_ping(nd, o);
	} else {
		fprintf(stderr, "linkbench: unknown mode '%s'\n", mode);
		ret = -EINVAL;
	}
	/* Off the link a moment before closing it (memif: user/netdev/dpdk.c). */
	nanosleep(&(struct timespec){ .tv_nsec = 200000000l }, NULL);
	softee_netdev_close(nd);
	return ret;
}
