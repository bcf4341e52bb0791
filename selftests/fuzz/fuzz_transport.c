// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for a live transport: a sequence of frames from a
 * hostile or broken peer, with time passing and TLPs going the other way,
 * into a transport on a simulated link.  Looks for crashes, leaks, reads
 * out of bounds and undefined behaviour in the receive path and the
 * session state behind it (Go-Back-N, resets, heartbeats, the peer table).
 *
 * Input: records of [ctl][len hi][len lo][len bytes of frame].
 *	ctl bit 0: fix the frame's CRC		bit 1: source = the known peer
 *	ctl bit 2: destination = the transport	bit 3: then queue a TLP to the peer
 *	ctl bits 4-7: advance time by that many x 37 us before polling
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <softee/sim.h>
#include <softee/tlp.h>
#include <softee/transport.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drop(void *opaque, const uint8_t *frame, uint32_t len)
{
	(void)opaque;
	(void)frame;
	(void)len;
}

static void on_tlp(void *opaque, struct softee_peer *p, const uint8_t *tlp, uint32_t len)
{
	struct softee_tlp t;

	(void)opaque;
	(void)p;
	softee_tlp_decode(&t, tlp, len, NULL);	/* what an owner does with it */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mwr[16] = { 0x40, 0, 0, 1, 0, 0, 0, 0x0f, 0xfe, 0xe0, 0, 0, 1, 2, 3, 4 };
	uint64_t now = 1000000;
	struct softee_sim_cfg sc = { .clock = &now, .latency_ns = 1000, .queue_frames = 64 };
	struct softee_netdev *port[2];
	struct softee_transport *t;
	struct softee_peer *p;
	struct softee_txframe f;
	uint8_t frame[SOFTEE_NETDEV_MAX_FRAME];
	size_t off = 0, len;
	uint8_t ctl;

	if (softee_sim_create(port, &sc))
		return 0;
	struct softee_transport_cfg tc = {
		.nd = port[0], .group = 9, .seed = 1, .hb_period_ns = 1000000,
		.gbn = { .window = 16, .rto_min_ns = 10000, .rto_init_ns = 50000, .max_retries = 5 },
		.txq_bytes = 16384, .rx = on_tlp,
	};
	if (softee_transport_create(&t, &tc, now))
		goto out_sim;
	p = softee_transport_add_peer(t, port[1]->mac, SOFTEE_ROLE_BOX, now);
	while (off + 3 <= size) {
		ctl = data[off];
		len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		if (len > sizeof(frame))
			len = sizeof(frame);
		memcpy(frame, data + off, len);
		off += len;
		if ((ctl & 2) && len >= 12)
			memcpy(frame + 6, port[1]->mac, 6);
		if ((ctl & 4) && len >= 6)
			memcpy(frame, port[0]->mac, 6);
		if (ctl & 1)
			fix_crc(frame, len);
		f.data = frame;
		f.len = len;
		if (len >= 12)
			softee_netdev_tx(port[1], &f, 1);
		if ((ctl & 8) && p && p->session)
			softee_transport_send_tlp(p, mwr, sizeof(mwr));
		now += (ctl >> 4) * 37000ULL;
		softee_transport_poll(t, now);
		softee_netdev_rx(port[1], 64, 0, drop, NULL);
	}
	/* and let the timers run out */
	for (int i = 0; i < 20; i++) {
		now += 500000;
		softee_transport_poll(t, now);
		softee_netdev_rx(port[1], 64, 0, drop, NULL);
	}
	softee_transport_destroy(t);
out_sim:
	softee_netdev_close(port[0]);
	softee_netdev_close(port[1]);
	return 0;
}
