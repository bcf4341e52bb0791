// SPDX-License-Identifier: GPL-2.0
/*
 * The frame codec: round trips with and without an 802.1Q tag, the CRC
 * catching every single-bit flip, every truncation refused, each header
 * check with its counter, CRC-32C itself, and the wire efficiency of
 * packing 256-byte MWr TLPs into 1500-byte frames.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include <softee/frame.h>
#include <softee/prng.h>
#include <softee/sim.h>
#include <softee/tlp.h>
#include <softee/transport.h>

/* The harness ends each test with _exit(): flush what we print. */
#define note(...) do { ksft_print_msg(__VA_ARGS__); fflush(stdout); } while (0)

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };

/* An MWr of dws DWs at addr, data from seed; returns its size. */
static int make_mwr(uint8_t *buf, size_t cap, uint64_t addr, uint32_t dws, uint8_t seed)
{
	uint8_t data[4096];
	struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .len_dw = dws, .first_be = 0xf,
				.last_be = dws > 1 ? 0xf : 0, .addr = addr, .data = data };
	uint32_t i;

	for (i = 0; i < 4 * dws; i++)
		data[i] = seed + i;
	return softee_tlp_encode(&t, buf, cap);
}

static struct softee_frame_hdr hdr(bool vlan)
{
	struct softee_frame_hdr h = {
		.vlan = vlan, .pcp = 5, .type = SOFTEE_FRAME_DATA,
		.flags = SOFTEE_FRAME_F_ACK | SOFTEE_FRAME_F_TSECR, .group = 42,
		.seq = 0xfffffffe, .ack = 0x12345678, .tsval = 0xa1b2c3d4, .tsecr = 0x01020304,
	};

	memcpy(h.dst, mac_b, 6);
	memcpy(h.src, mac_a, 6);
	return h;
}

/* A data frame of three TLPs; returns its length. */
static uint32_t build3(uint8_t *buf, uint32_t cap, bool vlan, uint8_t (*tlps)[300], int *lens)
{
	struct softee_frame_hdr h = hdr(vlan);
	struct softee_frame_build b;
	int i;

	lens[0] = make_mwr(tlps[0], 300, 0xfee00000, 1, 1);
	lens[1] = make_mwr(tlps[1], 300, 0x123456000ULL, 64, 2);
	lens[2] = make_mwr(tlps[2], 300, 0x1000, 3, 3);
	softee_frame_begin(&b, buf, cap, &h);
	for (i = 0; i < 3; i++)
		if (softee_frame_add_tlp(&b, tlps[i], lens[i]))
			return 0;
	return softee_frame_finish(&b);
}

static void round_trip(struct __test_metadata *_metadata, bool vlan)
{
	uint8_t buf[1600], tlps[3][300];
	struct softee_frame_stats st = { 0 };
	struct softee_frame f;
	uint32_t len, off = 0, tl;
	const uint8_t *tlp;
	int lens[3], i;

	len = build3(buf, sizeof(buf), vlan, tlps, lens);
	ASSERT_EQ(softee_frame_hdr_len(vlan) + lens[0] + lens[1] + lens[2] + 4, len);
	ASSERT_EQ(0, softee_frame_parse(&f, buf, len, 0, &st));
	EXPECT_EQ(1, st.ok);
	EXPECT_EQ(0, memcmp(f.h.dst, mac_b, 6));
	EXPECT_EQ(0, memcmp(f.h.src, mac_a, 6));
	EXPECT_EQ(vlan, f.h.vlan);
	if (vlan)
		EXPECT_EQ(5, f.h.pcp);
	EXPECT_EQ(SOFTEE_ETHERTYPE, f.h.ethertype);
	EXPECT_EQ(SOFTEE_FRAME_DATA, f.h.type);
	EXPECT_EQ(SOFTEE_FRAME_F_ACK | SOFTEE_FRAME_F_TSECR, f.h.flags);
	EXPECT_EQ(42, f.h.group);
	EXPECT_EQ(3, f.h.tlp_count);
	EXPECT_EQ(0xfffffffe, f.h.seq);
	EXPECT_EQ(0x12345678, f.h.ack);
	EXPECT_EQ(0xa1b2c3d4, f.h.tsval);
	EXPECT_EQ(0x01020304, f.h.tsecr);
	for (i = 0; softee_frame_next_tlp(&f, &off, &tlp, &tl); i++) {
		ASSERT_LT(i, 3);
		ASSERT_EQ((uint32_t)lens[i], tl);
		EXPECT_EQ(0, memcmp(tlp, tlps[i], tl));
	}
	EXPECT_EQ(3, i);
	/* Ethernet padding after the CRC is ignored */
	memset(buf + len, 0, 20);
	EXPECT_EQ(0, softee_frame_parse(&f, buf, len + 20, 0, NULL));
}

TEST(round_trip_untagged)
{
	round_trip(_metadata, false);
}

TEST(round_trip_vlan)
{
	round_trip(_metadata, true);
}

/* The layout drawn in Documentation/wire.rst, checked byte by byte. */
TEST(layout_bytes)
{
	uint8_t buf[128], tlp[16];
	struct softee_frame_hdr h = hdr(true);
	struct softee_frame_build b;
	uint32_t len, crc;
	int n;

	n = make_mwr(tlp, sizeof(tlp), 0xfee00000, 1, 0x41);
	ASSERT_EQ(16, n);
	h.pcp = 3;
	h.group = 0x123;
	softee_frame_begin(&b, buf, sizeof(buf), &h);
	softee_frame_add_tlp(&b, tlp, n);
	len = softee_frame_finish(&b);
	ASSERT_EQ(14 + 4 + 24 + 16 + 4, len);
	EXPECT_EQ(0, memcmp(buf, mac_b, 6));
	EXPECT_EQ(0, memcmp(buf + 6, mac_a, 6));
	EXPECT_EQ(0x81, buf[12]);
	EXPECT_EQ(0x00, buf[13]);
	EXPECT_EQ(0x61, buf[14]);	/* PCP 3, DEI 0, VID 0x123 */
	EXPECT_EQ(0x23, buf[15]);
	EXPECT_EQ(0x88, buf[16]);
	EXPECT_EQ(0xb5, buf[17]);
	EXPECT_EQ(0x11, buf[18]);	/* version 1, type 1 (data) */
	EXPECT_EQ(0x06, buf[19]);	/* ACK | TSECR */
	EXPECT_EQ(0x01, buf[20]);	/* group */
	EXPECT_EQ(0x23, buf[21]);
	EXPECT_EQ(0x00, buf[22]);	/* TLP count 1 */
	EXPECT_EQ(0x01, buf[23]);
	EXPECT_EQ(0x00, buf[24]);	/* payload length 16 */
	EXPECT_EQ(0x10, buf[25]);
	EXPECT_EQ(0xff, buf[26]);	/* seq 0xfffffffe */
	EXPECT_EQ(0xfe, buf[29]);
	EXPECT_EQ(0x12, buf[30]);	/* ack */
	EXPECT_EQ(0x78, buf[33]);
	EXPECT_EQ(0xa1, buf[34]);	/* tsval */
	EXPECT_EQ(0x01, buf[38]);	/* tsecr */
	EXPECT_EQ(0x40, buf[42]);	/* the TLP: MWr */
	crc = softee_crc32c(softee_crc32c(0, buf, 12), buf + 18, 24 + 16);
	EXPECT_EQ(crc >> 24, buf[58]);
	EXPECT_EQ(crc & 0xff, buf[61]);
}

/* Every single-bit flip is refused (bar the tag's priority bits). */
static void every_bit_flip(struct __test_metadata *_metadata, bool vlan)
{
	uint8_t buf[1600], tlps[3][300];
	struct softee_frame_stats st = { 0 };
	struct softee_frame f;
	uint32_t len, bit, refused = 0, pcp_ok = 0;
	int lens[3], ret;

	len = build3(buf, sizeof(buf), vlan, tlps, lens);
	ASSERT_LT(0, len);
	for (bit = 0; bit < len * 8; bit++) {
		buf[bit / 8] ^= 1 << (bit % 8);
		ret = softee_frame_parse(&f, buf, len, 0, &st);
		/* PCP and DEI (byte 14, bits 7..4) are not protected: switches rewrite them */
		if (vlan && bit / 8 == 14 && bit % 8 >= 4) {
			EXPECT_EQ(0, ret);
			pcp_ok++;
		} else {
			EXPECT_NE(0, ret) {
				TH_LOG("bit %u (byte %u) flipped, frame accepted", bit, bit / 8);
			}
			refused++;
		}
		buf[bit / 8] ^= 1 << (bit % 8);
	}
	EXPECT_EQ(0, softee_frame_parse(&f, buf, len, 0, NULL));
	EXPECT_EQ(vlan ? 4 : 0, pcp_ok);
	/* nearly all of them by the CRC */
	EXPECT_LT(len * 8 - 200, st.err[SOFTEE_FRAME_ERR_CRC]);
	note("%u flips refused: crc %lu, ethertype %lu, version %lu, length %lu, vlan %lu, short %lu\n",
		       refused, (unsigned long)st.err[SOFTEE_FRAME_ERR_CRC],
		       (unsigned long)st.err[SOFTEE_FRAME_ERR_ETHERTYPE],
		       (unsigned long)st.err[SOFTEE_FRAME_ERR_VERSION],
		       (unsigned long)st.err[SOFTEE_FRAME_ERR_LENGTH],
		       (unsigned long)st.err[SOFTEE_FRAME_ERR_VLAN],
		       (unsigned long)st.err[SOFTEE_FRAME_ERR_SHORT]);
}

TEST(crc_catches_every_bit_flip)
{
	every_bit_flip(_metadata, false);
}

TEST(crc_catches_every_bit_flip_vlan)
{
	every_bit_flip(_metadata, true);
}

/* Two- and three-bit errors too, many random ones. */
TEST(crc_catches_random_multi_bit)
{
	uint8_t buf[1600], tlps[3][300];
	struct softee_prng r;
	struct softee_frame f;
	uint32_t len, i, k, bits[3];
	int lens[3];

	softee_prng_seed(&r, 7);
	len = build3(buf, sizeof(buf), false, tlps, lens);
	for (i = 0; i < 200000; i++) {
		uint32_t nb = 2 + softee_prng_below(&r, 2);

		for (k = 0; k < nb; k++) {
			bits[k] = softee_prng_below(&r, len * 8);
			buf[bits[k] / 8] ^= 1 << (bits[k] % 8);
		}
		if (!(nb == 2 && bits[0] == bits[1]))
			ASSERT_NE(0, softee_frame_parse(&f, buf, len, 0, NULL));
		for (k = 0; k < nb; k++)
			buf[bits[k] / 8] ^= 1 << (bits[k] % 8);
	}
}

TEST(every_truncation_refused)
{
	uint8_t buf[1600], tlps[3][300];
	struct softee_frame f;
	uint32_t len, i;
	int lens[3], v;

	for (v = 0; v < 2; v++) {
		len = build3(buf, sizeof(buf), v, tlps, lens);
		for (i = 0; i < len; i++)
			ASSERT_NE(0, softee_frame_parse(&f, buf, i, 0, NULL)) {
				TH_LOG("truncated to %u of %u accepted", i, len);
			}
		ASSERT_EQ(0, softee_frame_parse(&f, buf, len, 0, NULL));
	}
}

/* Rewrite a field, fix the CRC, parse: the check behind the CRC answers. */
static int tamper(uint8_t *buf, uint32_t len, uint32_t off, uint8_t val)
{
	struct softee_frame_stats st = { 0 };
	struct softee_frame f;
	uint32_t plen = buf[14 + 6] << 8 | buf[14 + 7], crc;
	int ret;

	buf[off] = val;
	crc = softee_crc32c(softee_crc32c(0, buf, 12), buf + 14, 24 + plen);
	buf[14 + 24 + plen] = crc >> 24;
	buf[14 + 24 + plen + 1] = crc >> 16;
	buf[14 + 24 + plen + 2] = crc >> 8;
	buf[14 + 24 + plen + 3] = crc;
	ret = softee_frame_parse(&f, buf, len, 0, &st);
	if (ret < 0 && st.err[-ret] != 1)
		return 1000;	/* not counted */
	return ret;
}

TEST(header_checks)
{
	uint8_t buf[1600], orig[1600], tlps[3][300];
	struct softee_frame_hdr h = hdr(false);
	struct softee_frame_build b;
	struct softee_frame f;
	uint32_t len;
	int lens[3];

	len = build3(orig, sizeof(orig), false, tlps, lens);
#define T(off, val, err) do {						\
		memcpy(buf, orig, len);					\
		EXPECT_EQ(-(err), tamper(buf, len, off, val)) {		\
			TH_LOG("byte %d = 0x%x", off, val);		\
		}							\
	} while (0)
	T(14, 0x21, SOFTEE_FRAME_ERR_VERSION);
	T(14, 0x01, SOFTEE_FRAME_ERR_VERSION);
	T(14, 0x15, SOFTEE_FRAME_ERR_TYPE);
	T(14, 0x10, SOFTEE_FRAME_ERR_TYPE);
	T(15, 0x10, SOFTEE_FRAME_ERR_FLAGS);		/* reserved flag */
	T(15, 0x08, SOFTEE_FRAME_ERR_FLAGS);		/* NAK without ACK */
	T(19, 2, SOFTEE_FRAME_ERR_TLP);			/* count 2 of 3 */
	T(19, 4, SOFTEE_FRAME_ERR_TLP);			/* count 4 of 3 */
	T(19, 0, SOFTEE_FRAME_ERR_TLP);
	T(14 + 24 + 3, 2, SOFTEE_FRAME_ERR_TLP);	/* first TLP's Length: tiling broken */
	T(14 + 24, 0x80, SOFTEE_FRAME_ERR_TLP);		/* a TLP prefix */
	T(14, 0x12, SOFTEE_FRAME_ERR_BODY);		/* ack with a payload */
	T(14, 0x13, SOFTEE_FRAME_ERR_FLAGS);		/* heartbeat with flags */
#undef T
	/* payload length past the end: refused before the CRC */
	memcpy(buf, orig, len);
	buf[20] = 0x7f;
	EXPECT_EQ(-SOFTEE_FRAME_ERR_LENGTH, softee_frame_parse(&f, buf, len, 0, NULL));
	/* another EtherType, or a configured one */
	memcpy(buf, orig, len);
	EXPECT_EQ(-SOFTEE_FRAME_ERR_ETHERTYPE, softee_frame_parse(&f, buf, len, 0x88b6, NULL));
	h.ethertype = 0x88b6;
	softee_frame_begin(&b, buf, sizeof(buf), &h);
	softee_frame_add_tlp(&b, tlps[0], lens[0]);
	len = softee_frame_finish(&b);
	EXPECT_EQ(0, softee_frame_parse(&f, buf, len, 0x88b6, NULL));
	EXPECT_EQ(-SOFTEE_FRAME_ERR_ETHERTYPE, softee_frame_parse(&f, buf, len, 0, NULL));
	/* a tag whose VID is not the group */
	h = hdr(true);
	softee_frame_begin(&b, buf, sizeof(buf), &h);
	softee_frame_add_tlp(&b, tlps[0], lens[0]);
	len = softee_frame_finish(&b);
	buf[15] ^= 1;
	EXPECT_EQ(-SOFTEE_FRAME_ERR_VLAN, softee_frame_parse(&f, buf, len, 0, NULL));
}

TEST(control_frames)
{
	uint8_t buf[256], body[SOFTEE_HB_LEN], reset[SOFTEE_RESET_LEN] = { SOFTEE_RESET_LEAVE };
	struct softee_frame_hb hb = { .role = SOFTEE_ROLE_BOX, .period_ms = 100, .node_id = 7,
				      .incarnation = 0xcafe, .name = "box-7" }, hb2;
	struct softee_frame_hdr h = hdr(false);
	struct softee_frame_build b;
	struct softee_frame f;
	uint32_t len;

	h.type = SOFTEE_FRAME_HEARTBEAT;
	h.flags = 0;
	softee_frame_hb_put(body, &hb);
	softee_frame_begin(&b, buf, sizeof(buf), &h);
	ASSERT_EQ(0, softee_frame_add_bytes(&b, body, sizeof(body)));
	len = softee_frame_finish(&b);
	ASSERT_EQ(0, softee_frame_parse(&f, buf, len, 0, NULL));
	ASSERT_EQ(SOFTEE_FRAME_HEARTBEAT, f.h.type);
	ASSERT_EQ(0, softee_frame_hb_get(&hb2, f.payload, f.payload_len));
	EXPECT_EQ(0, memcmp(&hb, &hb2, sizeof(hb)));
	EXPECT_EQ(-EINVAL, softee_frame_hb_get(&hb2, f.payload, SOFTEE_HB_LEN - 1));

	h.type = SOFTEE_FRAME_ACK;
	h.flags = SOFTEE_FRAME_F_ACK | SOFTEE_FRAME_F_NAK;
	softee_frame_begin(&b, buf, sizeof(buf), &h);
	len = softee_frame_finish(&b);
	ASSERT_EQ(0, softee_frame_parse(&f, buf, len, 0, NULL));
	EXPECT_EQ(0, f.payload_len);
	EXPECT_EQ(0x12345678, f.h.ack);
	h.flags = 0;					/* an ack must say ACK */
	softee_frame_begin(&b, buf, sizeof(buf), &h);
	len = softee_frame_finish(&b);
	EXPECT_EQ(-SOFTEE_FRAME_ERR_FLAGS, softee_frame_parse(&f, buf, len, 0, NULL));

	h.type = SOFTEE_FRAME_RESET;
	softee_frame_begin(&b, buf, sizeof(buf), &h);
	softee_frame_add_bytes(&b, reset, sizeof(reset));
	len = softee_frame_finish(&b);
	ASSERT_EQ(0, softee_frame_parse(&f, buf, len, 0, NULL));
	EXPECT_EQ(SOFTEE_RESET_LEAVE, f.payload[0]);
	h.type = SOFTEE_FRAME_RESET;			/* without its body */
	softee_frame_begin(&b, buf, sizeof(buf), &h);
	len = softee_frame_finish(&b);
	EXPECT_EQ(-SOFTEE_FRAME_ERR_BODY, softee_frame_parse(&f, buf, len, 0, NULL));
}

TEST(builder_limits)
{
	uint8_t buf[1518 + 4], tlp[300];
	struct softee_frame_hdr h = hdr(false);
	struct softee_frame_build b;
	struct softee_frame f;
	uint32_t len;
	int n, k = 0;

	n = make_mwr(tlp, sizeof(tlp), 0x1000, 64, 9);	/* 268 bytes */
	ASSERT_EQ(-ENOSPC, softee_frame_begin(&b, buf, 14 + 27, &h));
	softee_frame_begin(&b, buf, softee_frame_max_len(1500, false), &h);
	EXPECT_EQ(1472, softee_frame_room(&b));
	while (!softee_frame_add_tlp(&b, tlp, n))
		k++;
	EXPECT_EQ(5, k);				/* 5 x 268 = 1340 <= 1472 */
	EXPECT_EQ(-EINVAL, softee_frame_add_tlp(&b, tlp, n - 4));	/* size != DW0's */
	len = softee_frame_finish(&b);
	EXPECT_EQ(14 + 24 + 5 * 268 + 4, len);
	EXPECT_EQ(0, softee_frame_parse(&f, buf, len, 0, NULL));
	/* restamp: new ack and timestamps, CRC follows */
	softee_frame_restamp(buf, len, SOFTEE_FRAME_F_ACK, 99, 1, 2);
	ASSERT_EQ(0, softee_frame_parse(&f, buf, len, 0, NULL));
	EXPECT_EQ(99, f.h.ack);
	EXPECT_EQ(1, f.h.tsval);
	EXPECT_EQ(2, f.h.tsecr);
	EXPECT_EQ(SOFTEE_FRAME_F_ACK, f.h.flags);
}

/* A closed frame has no CRC until restamped; then it is the finished one's twin. */
TEST(close_then_restamp_equals_finish)
{
	uint8_t a[1600], b2[1600], tlps[3][300];
	struct softee_frame_hdr h = hdr(true);
	struct softee_frame_build b;
	struct softee_frame f;
	uint32_t la, lb;
	int lens[3], i;

	la = build3(a, sizeof(a), true, tlps, lens);
	ASSERT_NE(0, la);
	memset(b2, 0xa5, sizeof(b2));		/* what a slot held before */
	softee_frame_begin(&b, b2, sizeof(b2), &h);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, softee_frame_add_tlp(&b, tlps[i], lens[i]));
	lb = softee_frame_close(&b);
	ASSERT_EQ(la, lb);
	EXPECT_EQ(0, memcmp(a, b2, la - SOFTEE_FRAME_CRC));	/* all but the CRC */
	EXPECT_NE(0, softee_frame_parse(&f, b2, lb, 0, NULL));	/* 0xa5a5a5a5 is no CRC */
	softee_frame_restamp(a, la, SOFTEE_FRAME_F_ACK, 7, 8, 9);
	softee_frame_restamp(b2, lb, SOFTEE_FRAME_F_ACK, 7, 8, 9);
	EXPECT_EQ(0, memcmp(a, b2, la));
	ASSERT_EQ(0, softee_frame_parse(&f, b2, lb, 0, NULL));
	EXPECT_EQ(3, f.h.tlp_count);
	EXPECT_EQ(7, f.h.ack);
}

TEST(crc32c_vectors)
{
	static const char check[] = "123456789";
	static const uint32_t lens[] = { 191, 192, 193, 199, 200, 383, 384, 767, 768, 769,
					 959, 960, 1500, 1514, 2303, 2304, 4000 };
	uint8_t buf[4096];
	struct softee_prng r;
	uint32_t i, a, b, n, off;

	EXPECT_EQ(0xe3069283, softee_crc32c(0, check, 9));
	EXPECT_EQ(0xe3069283, softee_crc32c_sw(0, check, 9));
	/* continuable */
	EXPECT_EQ(0xe3069283, softee_crc32c(softee_crc32c(0, check, 4), check + 4, 5));
	/* 32 bytes of zeros (RFC 3720, B.4): 0x8a9136aa */
	memset(buf, 0, 32);
	EXPECT_EQ(0x8a9136aa, softee_crc32c(0, buf, 32));
	memset(buf, 0xff, 32);
	EXPECT_EQ(0x62a8ab43, softee_crc32c(0, buf, 32));
	softee_prng_seed(&r, 3);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = softee_prng_next(&r);
	for (i = 0; i < 2000; i++) {
		off = softee_prng_below(&r, 64);
		n = softee_prng_below(&r, sizeof(buf) - off);
		a = softee_crc32c(0, buf + off, n);
		b = softee_crc32c_sw(0, buf + off, n);
		ASSERT_EQ(a, b);
	}
	/* Around the three-chain block sizes (3 x 64, 3 x 256), from any start. */
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (off = 0; off < 9; off++) {
			uint32_t init = softee_prng_next(&r);

			a = softee_crc32c(init, buf + off, lens[i]);
			b = softee_crc32c_sw(init, buf + off, lens[i]);
			ASSERT_EQ(a, b) TH_LOG("length %u offset %u", lens[i], off);
		}
	}
}

/* ---- wire efficiency ------------------------------------------------------- */

/*
 * 256-byte MWr TLPs from A to B over a simulated 1500-byte link: packed
 * (queue many, then poll) and one per frame (poll after each).  Payload
 * bytes over the bytes A puts on the wire, preamble, FCS and gap counted.
 */
static double wire_eff(struct __test_metadata *_metadata, bool packed, uint32_t n_tlps)
{
	uint64_t now = 0, delivered = 0;
	struct softee_netdev *port[2];
	struct softee_sim_cfg sc = { .clock = &now };
	struct softee_transport *a, *b;
	struct softee_peer *pa;
	uint8_t tlp[300];
	uint32_t sent = 0;
	int len;

	ASSERT_EQ(0, softee_sim_create(port, &sc));
	struct softee_transport_cfg ca = { .nd = port[0], .group = 1, .no_heartbeats = true,
					   .seed = 1 };
	struct softee_transport_cfg cb = ca;

	cb.nd = port[1];
	cb.rx = NULL;
	ASSERT_EQ(0, softee_transport_create(&a, &ca, now));
	ASSERT_EQ(0, softee_transport_create(&b, &cb, now));
	pa = softee_transport_add_peer(a, port[1]->mac, SOFTEE_ROLE_BOX, now);
	ASSERT_NE(NULL, softee_transport_add_peer(b, port[0]->mac, SOFTEE_ROLE_HOST, now));
	ASSERT_NE(NULL, pa);
	len = make_mwr(tlp, sizeof(tlp), 0x80000000, 64, 1);
	ASSERT_EQ(268, len);
	while (delivered < n_tlps && now < 10000000000ULL) {
		while (sent < n_tlps && !softee_transport_send_tlp(pa, tlp, len)) {
			sent++;
			if (!packed)
				break;
		}
		softee_transport_poll(a, now);
		softee_transport_poll(b, now);
		delivered = softee_transport_stats(b)->rx_tlps;
		now += 1000;
	}
	EXPECT_EQ(n_tlps, delivered);
	const struct softee_transport_stats *s = softee_transport_stats(a);
	double eff = (double)n_tlps * 256 / s->tx_wire_bytes;

	note("%s: %u TLPs of 256 B in %lu data frames, %lu wire bytes (incl. preamble 8, FCS 4, gap 12): efficiency %.4f\n",
		       packed ? "packed" : "single", n_tlps, (unsigned long)s->tx_data,
		       (unsigned long)s->tx_wire_bytes, eff);
	softee_transport_destroy(a);
	softee_transport_destroy(b);
	softee_netdev_close(port[0]);
	softee_netdev_close(port[1]);
	return eff;
}

TEST(wire_efficiency_256B_mwr)
{
	double packed = wire_eff(_metadata, true, 100000);
	double single = wire_eff(_metadata, false, 20000);

	EXPECT_LE(0.90, packed);
	EXPECT_GE(0.80, single);
	/* the arithmetic: 5 x 256 / (8 + 14 + 24 + 5 x 268 + 4 + 4 + 12) = 0.9104 */
	EXPECT_LE(0.9100, packed);
	EXPECT_GE(0.9105, packed);
	/* 256 / (8 + 14 + 24 + 268 + 4 + 4 + 12) = 0.7665 */
	EXPECT_LE(0.7660, single);
}

TEST_HARNESS_MAIN
