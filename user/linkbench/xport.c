// SPDX-License-Identifier: GPL-2.0
/*
 * The transport ends: "host" and "box", each a softee transport over the
 * chosen link, one process each.  --test says what they do:
 *
 *   tx    the host sends --count MWr of --size bytes to the box
 *   rx    the box sends them to the host
 *   rtt   the host reads --size bytes (MRd) --count times, one at a time;
 *         the box answers each with CplD
 *   hb    both only exchange heartbeats for --duration-ms; the box may move
 *         to --new-group --group-change-ms after its session came up; the
 *         host sends a small MWr every 10 ms to the peer it learnt
 *
 * The sender of a stream waits for its peer (a heartbeat of the group),
 * queues the TLPs as fast as the transport takes them and stops the clock
 * when the peer has acked the last; then it leaves (a LEAVE reset), which
 * ends the receiver.  The receiver checks that every TLP arrives once, in
 * order, intact.  --loss-ppm puts the fault injector under both ends.
 *
 * Lines: "linkbench: event NAME ... wall_ns=N" as things happen (the tests
 * compare wall_ns with their own clock), "linkbench: result ..." at the end.
 * The socket backend waits in its blocking receive (poll_wait); DPDK polls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <softee/fault.h>
#include <softee/tlp.h>
#include <softee/transport.h>

#include "linkbench.h"

#define XP_ADDR		0x40000000ull	/* where the MWr go, and MRd read */
#define XP_HB_MWR_NS	10000000ull	/* hb test: the host's MWr period */
#define XP_QUIET_NS	200000000l	/* off the link before closing it */
/*
 * A receiver that has every TLP waits this long for the sender's leave,
 * which the fault injector may drop: less than the sender stays quiet, so
 * that it has stopped bursting before the sender closes.  (A memif box
 * that lingered 3 s once polled on into the host's close and faulted in
 * the PMD: user/netdev/dpdk.c.)
 */
#define XP_LINGER_NS	(XP_QUIET_NS / 2)

struct xp {
	const struct lb_opts *o;
	struct softee_transport *t;
	struct softee_netdev *nd, *fault;	/* the backend; the fault injector on it */
	struct softee_netdev *link;		/* the meter on top: what the transport uses */
	bool wait_mode;				/* socket: block in receive */
	uint8_t role, peer_role;
	struct softee_peer *peer;		/* the session we test */
	bool peer_left;				/* the peer went down after being up */
	uint64_t start_ns;
	/* Receiving a stream */
	uint64_t rx_tlps, rx_bad, rx_ooo, rx_expect;
	uint64_t rx_first_ns, rx_last_ns, rx_cpu0, rx_cpu1;
	/* The loop: when the last poll started, the longest time between two */
	uint64_t now_ns, gap_max_ns;
	/* rtt */
	bool cpl_got;
	uint8_t cpl_tag;
	/* The TLP templates */
	uint8_t mwr[SOFTEE_TLP_MAX_SIZE];
	uint32_t mwr_len, mwr_hdr, mwr_size;
	uint8_t pattern[SOFTEE_TLP_MAX_DATA];
	struct softee_tlp_stats tlp_stats;
};

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t xp_clock(void *opaque)
{
	(void)opaque;
	return lb_now_ns();
}

static const char *role_name(uint8_t role)
{
	return role == SOFTEE_ROLE_HOST ? "host" : role == SOFTEE_ROLE_BOX ? "box" : "?";
}

/* ---- TLPs ----------------------------------------------------------------------- */

static int xp_build_mwr(struct xp *x)
{
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_MWR,
		.requester = x->role == SOFTEE_ROLE_HOST ? SOFTEE_BDF(0, 0, 0) : SOFTEE_BDF(1, 0, 0),
		.data = x->pattern,
	};
	uint32_t i;
	int ret;

	for (i = 0; i < sizeof(x->pattern); i++)
		x->pattern[i] = (uint8_t)(i * 13 + 5);
	ret = softee_tlp_set_range(&t, XP_ADDR, x->mwr_size);
	if (ret)
		return ret;
	ret = softee_tlp_encode(&t, x->mwr, sizeof(x->mwr));
	if (ret < 0)
		return ret;
	x->mwr_len = (uint32_t)ret;
	x->mwr_hdr = softee_tlp_hdr_len(&t);
	return 0;
}

/* The seq-th MWr of a stream: the template with seq in its first 8 data bytes. */
static const uint8_t *xp_mwr(struct xp *x, uint64_t seq)
{
	memcpy(x->mwr + x->mwr_hdr, &seq, sizeof(seq));
	return x->mwr;
}

static int xp_send_mrd(struct xp *x, uint8_t tag)
{
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_MRD,
		.requester = SOFTEE_BDF(0, 0, 0),
		.tag = tag,
	};
	uint8_t buf[SOFTEE_TLP_HDR4];
	int ret = softee_tlp_set_range(&t, XP_ADDR, x->o->size);

	if (ret)
		return ret;
	ret = softee_tlp_encode(&t, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	return softee_transport_send_tlp(x->peer, buf, (uint32_t)ret);
}

/* The box: every completion of a read, its data from the pattern. */
static void xp_answer_mrd(struct xp *x, struct softee_peer *p, const struct softee_tlp *req)
{
	uint8_t buf[SOFTEE_TLP_MAX_SIZE], data[SOFTEE_TLP_MAX_DATA + 4];
	uint32_t done = 0;
	int n;

	for (;;) {
		struct softee_tlp cpl;

		n = softee_tlp_cpl_split(req, done, 256, 64, &cpl);
		if (n <= 0)
			break;
		memset(data, 0, sizeof(data));
		memcpy(data + (cpl.lower_addr & 3), x->pattern, (uint32_t)n);
		cpl.completer = SOFTEE_BDF(1, 0, 0);
		cpl.status = SOFTEE_TLP_CPL_SC;
		cpl.data = data;
		n = softee_tlp_encode(&cpl, buf, sizeof(buf)) < 0 ? -EINVAL : n;
		if (n < 0 || softee_transport_send_tlp(p, buf, softee_tlp_encoded_len(&cpl)))
			break;	/* the read times out at the host: counted there */
		done += (uint32_t)n;
	}
}

static void xp_rx(void *opaque, struct softee_peer *p, const uint8_t *tlp, uint32_t len)
{
	struct xp *x = opaque;
	struct softee_tlp t;
	uint64_t seq;

	if (softee_tlp_decode(&t, tlp, len, &x->tlp_stats) < 0) {
		x->rx_bad++;
		return;
	}
	switch (t.kind) {
	case SOFTEE_TLP_MWR:
		if (p != x->peer)
			return;
		/* Times to the poll's start: no clock read per TLP. */
		if (!x->rx_tlps)
			x->rx_first_ns = x->now_ns, x->rx_cpu0 = lb_cpu_ns();
		x->rx_last_ns = x->now_ns;
		if ((uint32_t)t.len_dw * 4 != x->mwr_size) {
			x->rx_bad++;
			return;
		}
		memcpy(&seq, t.data, sizeof(seq));
		if (memcmp(t.data + 8, x->pattern + 8, x->mwr_size - 8)) {
			x->rx_bad++;
			return;
		}
		if (seq != x->rx_expect)
			x->rx_ooo++;
		x->rx_expect = seq + 1;
		x->rx_tlps++;
		if (x->rx_tlps == x->o->count)
			x->rx_cpu1 = lb_cpu_ns();
		break;
	case SOFTEE_TLP_MRD:
		xp_answer_mrd(x, p, &t);
		break;
	case SOFTEE_TLP_CPLD:
		/* The last completion of the read: it covers the bytes left. */
		if (t.tag == x->cpl_tag && t.byte_count <= (uint32_t)t.len_dw * 4)
			x->cpl_got = true;
		break;
	default:
		x->rx_bad++;
	}
}

/* ---- events --------------------------------------------------------------------- */

static void xp_event(void *opaque, struct softee_peer *p, enum softee_transport_event ev)
{
	struct xp *x = opaque;
	char mac[18];
	uint64_t t_ms = (lb_now_ns() - x->start_ns) / 1000000;

	if (!p) {
		printf("linkbench: event %s group=%u t_ms=%llu wall_ns=%llu\n",
		       softee_transport_event_name(ev), softee_transport_group(x->t),
		       (unsigned long long)t_ms, (unsigned long long)wall_ns());
		return;
	}
	printf("linkbench: event %s mac=%s role=%s group=%u reason=%s t_ms=%llu wall_ns=%llu\n",
	       softee_transport_event_name(ev), lb_mac_str(p->live->mac, mac),
	       role_name(p->live->role), p->live->group,
	       ev == SOFTEE_TEV_PEER_DOWN ? softee_down_reason_name(p->live->down_reason) : "-",
	       (unsigned long long)t_ms, (unsigned long long)wall_ns());
	if (ev == SOFTEE_TEV_PEER_UP && !x->peer && p->live->role == x->peer_role)
		x->peer = p;
	if (ev == SOFTEE_TEV_PEER_DOWN && p == x->peer)
		x->peer_left = true;
}

/* ---- the loop ------------------------------------------------------------------- */

static int xp_poll(struct xp *x)
{
	uint64_t t0 = lb_now_ns();
	int ret;

	if (x->now_ns && t0 - x->now_ns > x->gap_max_ns)
		x->gap_max_ns = t0 - x->now_ns;
	x->now_ns = t0;
	if (x->wait_mode)
		ret = softee_transport_poll_wait(x->t, 1000);
	else
		ret = softee_transport_poll(x->t, t0);
	if (ret < 0)
		fprintf(stderr, "linkbench: transport poll: %s\n", strerror(-ret));
	return ret < 0 ? ret : 0;
}

/* Poll until the test's peer is up (or the wait runs out). */
static int xp_wait_peer(struct xp *x)
{
	uint64_t until = lb_now_ns() + x->o->wait_ms * 1000000ull;

	while (!lb_quit && !(x->peer && x->peer->session)) {
		if (xp_poll(x))
			return -EIO;
		if (lb_now_ns() > until) {
			fprintf(stderr, "linkbench: %s: no %s of group %u heard in %u ms\n",
				role_name(x->role), role_name(x->peer_role), x->o->group, x->o->wait_ms);
			return -ETIMEDOUT;
		}
	}
	return lb_quit ? -EINTR : 0;
}

static void xp_print_stats(struct xp *x, const char *what, uint64_t tlps, uint64_t ns,
			   uint64_t cpu_ns, const struct softee_transport_stats *s0,
			   const struct softee_transport_stats *s1, const struct lb_meter_stats *m0)
{
	const struct lb_meter_stats *m1 = lb_meter_stats(x->link);
	double secs = (double)ns / 1e9;
	uint64_t wire = s1->tx_wire_bytes - s0->tx_wire_bytes;
	/* The framing's efficiency: data frames once each, and our control frames. */
	uint64_t wire1 = (m1->fresh_wire - m0->fresh_wire) + (m1->ctl_wire - m0->ctl_wire);

	printf("linkbench: result test=%s role=%s tlps=%llu size=%u secs=%.6f tlps_per_s=%.0f "
	       "mb_s=%.3f cpu_ns=%llu wire_bytes=%llu payload_bytes=%llu wire_eff=%.4f "
	       "wire_eff_all=%.4f resent_wire_bytes=%llu "
	       "tx_frames=%llu tx_data=%llu tx_retrans=%llu timeouts=%llu fast_retrans=%llu probes=%llu "
	       "tx_busy=%llu tx_paced=%llu rx_frames=%llu rx_ooo_drops=%llu rx_dup_drops=%llu "
	       "rx_bad=%llu tlps_per_frame=%.2f rate_Bps=%llu srtt_ns=%llu\n",
	       what, role_name(x->role), (unsigned long long)tlps, x->mwr_size, secs,
	       secs > 0 ? (double)tlps / secs : 0.0,
	       secs > 0 ? (double)tlps * x->mwr_size / secs / 1e6 : 0.0,
	       (unsigned long long)cpu_ns, (unsigned long long)wire,
	       (unsigned long long)(tlps * x->mwr_size),
	       wire1 ? (double)(tlps * x->mwr_size) / (double)wire1 : 0.0,
	       wire ? (double)(tlps * x->mwr_size) / (double)wire : 0.0,
	       (unsigned long long)(m1->resent_wire - m0->resent_wire),
	       (unsigned long long)(s1->tx_frames - s0->tx_frames),
	       (unsigned long long)(s1->tx_data - s0->tx_data),
	       (unsigned long long)(s1->tx_retrans - s0->tx_retrans),
	       (unsigned long long)(s1->timeouts - s0->timeouts),
	       (unsigned long long)(s1->fast_retrans - s0->fast_retrans),
	       (unsigned long long)(s1->probes - s0->probes),
	       (unsigned long long)(s1->tx_busy - s0->tx_busy),
	       (unsigned long long)(s1->tx_paced - s0->tx_paced),
	       (unsigned long long)(s1->rx_frames - s0->rx_frames),
	       (unsigned long long)(s1->rx_ooo_drops - s0->rx_ooo_drops),
	       (unsigned long long)(s1->rx_dup_drops - s0->rx_dup_drops),
	       (unsigned long long)(s1->rx_bad - s0->rx_bad),
	       s1->tx_data > s0->tx_data ?
			(double)(s1->tx_tlps - s0->tx_tlps) / (double)(s1->tx_data - s0->tx_data) : 0.0,
	       x->peer ? (unsigned long long)x->peer->rc.rate_Bps : 0ull,
	       x->peer ? (unsigned long long)x->peer->rc.srtt_ns : 0ull);
}

/* Send the stream; the clock runs from the first TLP queued to the last acked. */
static int xp_send_stream(struct xp *x)
{
	const struct softee_transport_stats *st = softee_transport_stats(x->t);
	struct softee_transport_stats s0;
	struct lb_meter_stats m0;
	uint64_t queued = 0, acked0, t0, c0, t1, c1;
	int ret;

	ret = xp_wait_peer(x);
	if (ret)
		return ret;
	s0 = *st;
	m0 = *lb_meter_stats(x->link);
	acked0 = x->peer->stats.tlps_acked;
	t0 = lb_now_ns();
	c0 = lb_cpu_ns();
	while (!lb_quit) {
		while (queued < x->o->count) {
			ret = softee_transport_send_tlp(x->peer, xp_mwr(x, queued), x->mwr_len);
			if (ret == -EAGAIN)
				break;
			if (ret) {
				fprintf(stderr, "linkbench: send_tlp: %s after %llu\n", strerror(-ret),
					(unsigned long long)queued);
				return ret;
			}
			queued++;
		}
		if (xp_poll(x))
			return -EIO;
		if (x->peer->stats.tlps_acked - acked0 >= x->o->count)
			break;
		if (!x->peer->session) {
			fprintf(stderr, "linkbench: the session ended after %llu of %llu TLPs acked\n",
				(unsigned long long)(x->peer->stats.tlps_acked - acked0),
				(unsigned long long)x->o->count);
			return -ECONNRESET;
		}
	}
	t1 = lb_now_ns();
	c1 = lb_cpu_ns();
	xp_print_stats(x, x->o->test, x->o->count, t1 - t0, c1 - c0, &s0, st, &m0);
	return lb_quit ? -EINTR : 0;
}

/* Receive the stream until the last TLP, then until the sender leaves. */
static int xp_recv_stream(struct xp *x)
{
	const struct softee_transport_stats *st = softee_transport_stats(x->t);
	struct softee_transport_stats s0;
	uint64_t until = 0, idle_limit = x->o->timeout_ms * 1000000ull, last = 0;
	int ret;

	ret = xp_wait_peer(x);
	if (ret)
		return ret;
	s0 = *st;
	last = lb_now_ns();
	while (!lb_quit && !x->peer_left) {
		uint64_t before = x->rx_tlps, now;

		if (xp_poll(x))
			return -EIO;
		now = x->now_ns;
		if (x->rx_tlps != before)
			last = now;
		if (x->rx_tlps >= x->o->count && !until)
			until = now + XP_LINGER_NS;
		if ((until && now > until) || (!until && now - last > idle_limit && x->rx_tlps) ||
		    (!x->rx_tlps && now - last > x->o->wait_ms * 1000000ull))
			break;
	}
	printf("linkbench: result test=%s role=%s rx_tlps=%llu rx_bad=%llu rx_ooo=%llu "
	       "rx_secs=%.6f rx_cpu_ns=%llu peer_left=%d rx_frames=%llu rx_dup_drops=%llu "
	       "rx_ooo_drops=%llu rx_crc_errors=%llu tx_acks=%llu\n",
	       x->o->test, role_name(x->role), (unsigned long long)x->rx_tlps,
	       (unsigned long long)x->rx_bad, (unsigned long long)x->rx_ooo,
	       (double)(x->rx_last_ns - x->rx_first_ns) / 1e9,
	       (unsigned long long)((x->rx_cpu1 ? x->rx_cpu1 : lb_cpu_ns()) - x->rx_cpu0),
	       x->peer_left, (unsigned long long)(st->rx_frames - s0.rx_frames),
	       (unsigned long long)(st->rx_dup_drops - s0.rx_dup_drops),
	       (unsigned long long)(st->rx_ooo_drops - s0.rx_ooo_drops),
	       (unsigned long long)(st->rx_crc_errors - s0.rx_crc_errors),
	       (unsigned long long)(st->tx_acks - s0.tx_acks));
	return x->rx_tlps == x->o->count && !x->rx_bad && !x->rx_ooo ? 0 : -EIO;
}

static int xp_rtt(struct xp *x)
{
	double *us = calloc(x->o->count ? x->o->count : 1, sizeof(*us));
	uint64_t i, n = 0, lost = 0, c0, t0;
	int ret;

	if (!us)
		return -ENOMEM;
	ret = xp_wait_peer(x);
	if (ret)
		goto out;
	c0 = lb_cpu_ns();
	t0 = lb_now_ns();
	for (i = 0; i < x->o->count && !lb_quit; i++) {
		uint64_t s = lb_now_ns();

		x->cpl_tag = (uint8_t)i;
		x->cpl_got = false;
		ret = xp_send_mrd(x, x->cpl_tag);
		if (ret) {
			fprintf(stderr, "linkbench: MRd: %s\n", strerror(-ret));
			goto out;
		}
		while (!x->cpl_got && !lb_quit && lb_now_ns() - s < 1000000000ull && x->peer->session)
			if (xp_poll(x)) {
				ret = -EIO;
				goto out;
			}
		if (x->cpl_got)
			us[n++] = (double)(lb_now_ns() - s) / 1e3;
		else
			lost++;
	}
	printf("linkbench: result test=rtt role=host samples=%llu lost=%llu rtt_p50_us=%.2f "
	       "rtt_p99_us=%.2f rtt_min_us=%.2f secs=%.6f cpu_ns=%llu\n",
	       (unsigned long long)n, (unsigned long long)lost, lb_percentile(us, n, 50),
	       lb_percentile(us, n, 99), n ? us[0] : 0.0, (double)(lb_now_ns() - t0) / 1e9,
	       (unsigned long long)(lb_cpu_ns() - c0));
	ret = lost ? -EIO : 0;
out:
	free(us);
	return ret;
}

/* The box's side of rtt (and of anything it only answers): until the host leaves. */
static int xp_serve(struct xp *x)
{
	int ret = xp_wait_peer(x);

	if (ret)
		return ret;
	while (!lb_quit && !x->peer_left)
		if (xp_poll(x))
			return -EIO;
	printf("linkbench: result test=%s role=box served=1\n", x->o->test);
	return 0;
}

static int xp_hb(struct xp *x)
{
	const struct softee_liveness *l = softee_transport_liveness(x->t);
	uint64_t end = x->start_ns + x->o->duration_ms * 1000000ull, change = 0;
	uint64_t next_mwr = 0, mwr_ok = 0, mwr_notconn = 0, seq = 0;
	bool changed = !x->o->group_change_ms;
	int ret;

	while (!lb_quit && lb_now_ns() < end) {
		uint64_t now = lb_now_ns();

		/* The group change comes that long after the session started. */
		if (!changed && !change && x->peer && x->peer->session)
			change = now + x->o->group_change_ms * 1000000ull;
		if (!changed && change && now >= change) {
			uint64_t wall = wall_ns();	/* before: the peer may hear of it at once */

			changed = true;
			ret = softee_transport_set_group(x->t, (uint16_t)x->o->new_group, now);
			printf("linkbench: event set_group group=%u ret=%d t_ms=%llu wall_ns=%llu\n",
			       x->o->new_group, ret, (unsigned long long)((now - x->start_ns) / 1000000),
			       (unsigned long long)wall);
		}
		if (x->role == SOFTEE_ROLE_HOST && x->peer && now >= next_mwr) {
			next_mwr = now + XP_HB_MWR_NS;
			ret = softee_transport_send_tlp(x->peer, xp_mwr(x, seq), x->mwr_len);
			if (!ret)
				mwr_ok++, seq++;
			else if (ret == -ENOTCONN)
				mwr_notconn++;
		}
		if (xp_poll(x))
			return -EIO;
	}
	printf("linkbench: result test=hb role=%s group=%u hb_tx=%llu hb_rx=%llu hb_other_group=%llu "
	       "ups=%llu downs=%llu mwr_ok=%llu mwr_notconn=%llu rx_tlps=%llu rx_bad=%llu rx_ooo=%llu "
	       "rx_not_ours=%llu\n",
	       role_name(x->role), softee_transport_group(x->t),
	       (unsigned long long)l->stats.hb_tx, (unsigned long long)l->stats.hb_rx,
	       (unsigned long long)l->stats.hb_other_group, (unsigned long long)l->stats.ups,
	       (unsigned long long)l->stats.downs, (unsigned long long)mwr_ok,
	       (unsigned long long)mwr_notconn, (unsigned long long)x->rx_tlps,
	       (unsigned long long)x->rx_bad, (unsigned long long)x->rx_ooo,
	       (unsigned long long)softee_transport_stats(x->t)->rx_not_ours);
	return 0;
}

int lb_xport(const struct lb_opts *o)
{
	struct softee_transport_cfg cfg = { 0 };
	struct xp *x;
	const char *test = o->test;
	bool host = !strcmp(o->role, "host");
	int ret;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->o = o;
	x->role = host ? SOFTEE_ROLE_HOST : SOFTEE_ROLE_BOX;
	x->peer_role = host ? SOFTEE_ROLE_BOX : SOFTEE_ROLE_HOST;
	x->start_ns = lb_now_ns();
	/* Streams carry --size bytes per MWr; rtt reads --size bytes; hb sends 64. */
	x->mwr_size = !strcmp(test, "tx") || !strcmp(test, "rx") ? o->size : 64;
	if (x->mwr_size < 8 || x->mwr_size > SOFTEE_TLP_MAX_DATA || (x->mwr_size & 3) ||
	    o->size < 1 || o->size > SOFTEE_TLP_MAX_DATA) {
		fprintf(stderr, "linkbench: --size: 8..4096 bytes, a multiple of 4 (rtt: 1..4096)\n");
		ret = -EINVAL;
		goto out_free;
	}
	ret = xp_build_mwr(x);
	if (ret) {
		fprintf(stderr, "linkbench: cannot build the MWr: %s\n", strerror(-ret));
		goto out_free;
	}

	ret = lb_open(o, &x->nd);
	if (ret)
		goto out_free;
	x->wait_mode = x->nd->blocking_rx;
	x->fault = x->nd;
	if (o->loss_ppm || o->fault) {
		struct softee_fault_cfg fc = {
			.seed = o->seed ^ (host ? 0xf00d : 0xbeef),
			.drop_ppm = o->loss_ppm,
		};
		char err[160];

		if (o->fault && softee_fault_parse(o->fault, &fc, err, sizeof(err))) {
			fprintf(stderr, "linkbench: --fault: %s\n", err);
			ret = -EINVAL;
			goto out_close;
		}

		ret = softee_fault_create(&x->fault, x->nd, &fc);
		if (ret) {
			fprintf(stderr, "linkbench: fault injector: %s\n", strerror(-ret));
			goto out_close;
		}
	}
	ret = lb_meter_create(&x->link, x->fault);
	if (ret)
		goto out_fault;

	cfg.nd = x->link;
	cfg.ethertype = o->ethertype;
	cfg.group = (uint16_t)o->group;
	cfg.role = x->role;
	cfg.name = host ? "linkbench-host" : "linkbench-box";
	cfg.hb_period_ns = (uint64_t)o->hb_ms * 1000000ull;
	cfg.hb_miss = o->hb_miss;
	cfg.rx = xp_rx;
	cfg.event = xp_event;
	cfg.opaque = x;
	cfg.clock = xp_clock;
	cfg.seed = o->seed ^ (host ? 0x1234 : 0x5678);
	cfg.gbn.window = o->window;
	cfg.gbn.ack_every = o->ack_every;
	cfg.gbn.rto_min_ns = (uint64_t)o->rto_min_us * 1000;
	cfg.rate.rate_max_Bps = (uint64_t)o->rate_max_mbs * 1000000;
	cfg.rate.target_delay_ns = (uint64_t)o->target_delay_us * 1000;
	cfg.rate.no_pacing = o->no_pacing;
	/* Without packing: a frame that holds exactly one of our MWr. */
	if (o->no_pack)
		cfg.mtu = SOFTEE_FRAME_OVERHEAD + x->mwr_len;
	ret = softee_transport_create(&x->t, &cfg, lb_now_ns());
	if (ret) {
		fprintf(stderr, "linkbench: softee_transport_create: %s (mtu %u, link %s mtu %u)\n",
			strerror(-ret), cfg.mtu, x->nd->ops->name, x->nd->mtu);
		goto out_meter;
	}
	lb_ready(x->nd);

	if (!strcmp(test, "tx"))
		ret = host ? xp_send_stream(x) : xp_recv_stream(x);
	else if (!strcmp(test, "rx"))
		ret = host ? xp_recv_stream(x) : xp_send_stream(x);
	else if (!strcmp(test, "rtt"))
		ret = host ? xp_rtt(x) : xp_serve(x);
	else if (!strcmp(test, "hb"))
		ret = xp_hb(x);
	else {
		fprintf(stderr, "linkbench: unknown --test '%s' (tx, rx, rtt, hb)\n", test);
		ret = -EINVAL;
	}

	{
		const struct softee_liveness *l = softee_transport_liveness(x->t);
		const struct softee_transport_stats *st = softee_transport_stats(x->t);
		uint64_t missed = 0;

		softee_netdev_rx_missed(x->nd, &missed);
		printf("linkbench: stats role=%s hb_tx=%llu hb_rx=%llu hb_other_group=%llu ups=%llu "
		       "downs=%llu rx_frames=%llu rx_bad=%llu rx_crc_errors=%llu rx_self=%llu "
		       "rx_unknown_peer=%llu tx_frames=%llu tx_busy=%llu link_tx_dropped=%llu "
		       "link_rx_dropped=%llu link_rx_missed=%llu poll_gap_max_us=%llu\n",
		       role_name(x->role), (unsigned long long)l->stats.hb_tx,
		       (unsigned long long)l->stats.hb_rx, (unsigned long long)l->stats.hb_other_group,
		       (unsigned long long)l->stats.ups, (unsigned long long)l->stats.downs,
		       (unsigned long long)st->rx_frames, (unsigned long long)st->rx_bad,
		       (unsigned long long)st->rx_crc_errors, (unsigned long long)st->rx_self,
		       (unsigned long long)st->rx_unknown_peer, (unsigned long long)st->tx_frames,
		       (unsigned long long)st->tx_busy, (unsigned long long)x->nd->stats.tx_dropped,
		       (unsigned long long)x->nd->stats.rx_dropped, (unsigned long long)missed,
		       (unsigned long long)(x->gap_max_ns / 1000));
	}

	/*
	 * Tell the peer, give the reset a poll to leave, then keep off the
	 * link a moment before closing it: the peer, hearing we left, stops
	 * and closes too, and neither closes under the other's burst (memif,
	 * see user/netdev/dpdk.c).
	 */
	softee_transport_leave(x->t, lb_now_ns());
	softee_transport_poll(x->t, lb_now_ns());
	softee_transport_destroy(x->t);
	nanosleep(&(struct timespec){ .tv_nsec = XP_QUIET_NS }, NULL);
out_meter:
	softee_netdev_close(x->link);
out_fault:
	if (x->fault != x->nd)
		softee_netdev_close(x->fault);
out_close:
	softee_netdev_close(x->nd);
out_free:
	free(x);
	return ret;
}
