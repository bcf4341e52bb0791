// SPDX-License-Identifier: GPL-2.0
/*
 * The TLP codec: known-answer vectors written byte by byte from the field
 * layouts of the PCIe Base Specification 3.0 (section 2.2), round trips of
 * every kind, every malformation refused with its reason and counted, the
 * byte <-> DW helpers and the split completions of a read.
 */
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"
#include <softee/prng.h>
#include <softee/tlp.h>

/* Encode t and compare with the expected bytes; decode them back. */
static int kat(struct __test_metadata *_metadata, const struct softee_tlp *t,
	       const uint8_t *want, size_t want_len)
{
	uint8_t buf[SOFTEE_TLP_MAX_SIZE];
	struct softee_tlp_stats st = { 0 };
	struct softee_tlp d;
	int n;

	n = softee_tlp_encode(t, buf, sizeof(buf));
	EXPECT_EQ((int)want_len, n);
	if (n == (int)want_len)
		EXPECT_EQ(0, memcmp(buf, want, want_len));
	n = softee_tlp_decode(&d, want, want_len, &st);
	EXPECT_EQ((int)want_len, n);
	EXPECT_EQ(1, st.ok);
	EXPECT_EQ(t->kind, d.kind);
	return n;
}

/* A 3DW MWr of one DW to 0xFEE00000 with data 0x4041: the MSI a device sends. */
TEST(kat_msi_mwr32)
{
	static const uint8_t data[4] = { 0x41, 0x40, 0x00, 0x00 };	/* little-endian 0x4041 */
	static const uint8_t want[] = {
		0x40, 0x00, 0x00, 0x01,	/* Fmt 010 (3DW, data) Type 00000; TC 0; Length 1 */
		0x01, 0x00, 0x00, 0x0f,	/* Requester 01:00.0, Tag 0, Last BE 0000, First BE 1111 */
		0xfe, 0xe0, 0x00, 0x00,	/* Address[31:2] = 0xFEE00000 */
		0x41, 0x40, 0x00, 0x00,	/* data */
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_MWR, .len_dw = 1, .requester = SOFTEE_BDF(1, 0, 0),
		.first_be = 0xf, .addr = 0xfee00000, .data = data,
	};

	kat(_metadata, &t, want, sizeof(want));
}

/* A 4DW MRd: 16 DW at 0x1_2345_6780, tag 0x2A, requester 03:00.0, relaxed ordering. */
TEST(kat_mrd64)
{
	static const uint8_t want[] = {
		0x20, 0x00, 0x20, 0x10,	/* Fmt 001 (4DW, no data); Attr[1:0] = 10 (RO); Length 16 */
		0x03, 0x00, 0x2a, 0xff,	/* Requester 03:00.0, Tag 0x2A, Last BE 1111, First BE 1111 */
		0x00, 0x00, 0x00, 0x01,	/* Address[63:32] */
		0x23, 0x45, 0x67, 0x80,	/* Address[31:2] */
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_MRD, .attr = SOFTEE_TLP_ATTR_RO, .len_dw = 16,
		.requester = SOFTEE_BDF(3, 0, 0), .tag = 0x2a, .first_be = 0xf, .last_be = 0xf,
		.addr = 0x123456780ULL,
	};
	struct softee_tlp d;

	ASSERT_EQ(16, kat(_metadata, &t, want, sizeof(want)));
	softee_tlp_decode(&d, want, sizeof(want), NULL);
	EXPECT_EQ(0x123456780ULL, d.addr);
	EXPECT_TRUE(d.addr64);
	EXPECT_EQ(SOFTEE_TLP_ATTR_RO, d.attr);
	EXPECT_EQ(0x2a, d.tag);
}

/* TC, EP, TD and IDO land where DW0 puts them. */
TEST(kat_dw0_bits)
{
	static const uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t want[] = {
		0x40, 0x54, 0xd0, 0x02,	/* TC 5, IDO; TD, EP, Attr 01 (NS), Length 2 */
		0x00, 0x08, 0x07, 0x3c,	/* 00:01.0, Tag 7, Last BE 0011, First BE 1100 */
		0x00, 0x00, 0x10, 0x04,
		1, 2, 3, 4, 5, 6, 7, 8,
		0xde, 0xad, 0xbe, 0xef,	/* digest: carried, not checked */
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_MWR, .tc = 5, .attr = SOFTEE_TLP_ATTR_IDO | SOFTEE_TLP_ATTR_NS,
		.td = true, .ep = true, .len_dw = 2, .requester = SOFTEE_BDF(0, 1, 0), .tag = 7,
		.first_be = 0xc, .last_be = 0x3, .addr = 0x1004, .data = data, .digest = 0xdeadbeef,
	};
	struct softee_tlp d;

	kat(_metadata, &t, want, sizeof(want));
	ASSERT_EQ((int)sizeof(want), softee_tlp_decode(&d, want, sizeof(want), NULL));
	EXPECT_EQ(5, d.tc);
	EXPECT_TRUE(d.td);
	EXPECT_TRUE(d.ep);
	EXPECT_EQ(SOFTEE_TLP_ATTR_IDO | SOFTEE_TLP_ATTR_NS, d.attr);
	EXPECT_EQ(0xdeadbeef, d.digest);
}

/* CfgRd0 of byte offset 0x104 (extended space) of 00:03.1. */
TEST(kat_cfgrd0)
{
	static const uint8_t want[] = {
		0x04, 0x00, 0x00, 0x01,	/* Fmt 000 Type 00100; Length 1 */
		0x00, 0x00, 0x05, 0x0f,	/* Requester 00:00.0, Tag 5, BEs 0000/1111 */
		0x00, 0x19, 0x01, 0x04,	/* Bus 0, Dev 3 Fn 1, Ext Reg 1, Reg 1 (0x104 = DW 0x41) */
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_CFGRD0, .len_dw = 1, .tag = 5, .first_be = 0xf,
		.target = SOFTEE_BDF(0, 3, 1), .reg = 0x104 / 4,
	};
	struct softee_tlp d;

	kat(_metadata, &t, want, sizeof(want));
	softee_tlp_decode(&d, want, sizeof(want), NULL);
	EXPECT_EQ(SOFTEE_BDF(0, 3, 1), d.target);
	EXPECT_EQ(0x41, d.reg);
}

TEST(kat_cfgwr0)
{
	static const uint8_t data[4] = { 0x06, 0x00, 0x00, 0x00 };	/* command: MEM | MASTER */
	static const uint8_t want[] = {
		0x44, 0x00, 0x00, 0x01,	/* Fmt 010 Type 00100 */
		0x00, 0x00, 0x01, 0x03,	/* Tag 1, First BE 0011 (the 16-bit command register) */
		0x02, 0x00, 0x00, 0x04,	/* Bus 2, 00.0, register 1 (offset 4) */
		0x06, 0x00, 0x00, 0x00,
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_CFGWR0, .len_dw = 1, .tag = 1, .first_be = 0x3,
		.target = SOFTEE_BDF(2, 0, 0), .reg = 1, .data = data,
	};

	kat(_metadata, &t, want, sizeof(want));
}

/* The CplD that answers the CfgRd0 above. */
TEST(kat_cpld_cfg)
{
	static const uint8_t data[4] = { 0x86, 0x80, 0x0e, 0x10 };
	static const uint8_t want[] = {
		0x4a, 0x00, 0x00, 0x01,	/* Fmt 010 Type 01010; Length 1 */
		0x00, 0x19, 0x00, 0x04,	/* Completer 00:03.1, SC, BCM 0, Byte Count 4 */
		0x00, 0x00, 0x05, 0x00,	/* Requester 00:00.0, Tag 5, Lower Address 0 */
		0x86, 0x80, 0x0e, 0x10,
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_CPLD, .len_dw = 1, .completer = SOFTEE_BDF(0, 3, 1),
		.status = SOFTEE_TLP_CPL_SC, .byte_count = 4, .tag = 5, .data = data,
	};

	kat(_metadata, &t, want, sizeof(want));
}

/* A Cpl with Unsupported Request: no data, Length reserved (0). */
TEST(kat_cpl_ur)
{
	static const uint8_t want[] = {
		0x0a, 0x00, 0x00, 0x00,	/* Fmt 000 Type 01010; Length reserved */
		0x01, 0x00, 0x20, 0x04,	/* Completer 01:00.0, Status 001 (UR), Byte Count 4 */
		0x00, 0x08, 0x09, 0x00,	/* Requester 00:01.0, Tag 9 */
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_CPL, .completer = SOFTEE_BDF(1, 0, 0),
		.status = SOFTEE_TLP_CPL_UR, .byte_count = 4, .requester = SOFTEE_BDF(0, 1, 0),
		.tag = 9,
	};

	kat(_metadata, &t, want, sizeof(want));
}

/*
 * A 256-byte read at 0x10000040 completed in 128-byte pieces (MPS 128,
 * RCB 64): two CplDs, Byte Count 256 then 128, Lower Address 0x40 both.
 */
TEST(kat_split_cpld)
{
	static const uint8_t want1[] = {
		0x4a, 0x00, 0x00, 0x20,	/* CplD, Length 32 */
		0x01, 0x00, 0x01, 0x00,	/* Completer 01:00.0, SC, Byte Count 0x100 */
		0x00, 0x00, 0x11, 0x40,	/* Tag 0x11, Lower Address 0x40 */
	};
	static const uint8_t want2[] = {
		0x4a, 0x00, 0x00, 0x20,
		0x01, 0x00, 0x00, 0x80,	/* Byte Count 0x80 */
		0x00, 0x00, 0x11, 0x40,	/* 0x100000c0 & 0x7f */
	};
	static uint8_t data[128];
	uint8_t buf[256];
	struct softee_tlp req = { .kind = SOFTEE_TLP_MRD, .tag = 0x11 }, cpl;

	ASSERT_EQ(0, softee_tlp_set_range(&req, 0x10000040, 256));
	ASSERT_EQ(64, req.len_dw);
	ASSERT_EQ(128, softee_tlp_cpl_split(&req, 0, 128, 64, &cpl));
	cpl.completer = SOFTEE_BDF(1, 0, 0);
	cpl.data = data;
	ASSERT_EQ(12 + 128, softee_tlp_encode(&cpl, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, want1, sizeof(want1)));
	ASSERT_EQ(128, softee_tlp_cpl_split(&req, 128, 128, 64, &cpl));
	cpl.completer = SOFTEE_BDF(1, 0, 0);
	cpl.data = data;
	ASSERT_EQ(12 + 128, softee_tlp_encode(&cpl, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, want2, sizeof(want2)));
	EXPECT_EQ(0, softee_tlp_cpl_split(&req, 256, 128, 64, &cpl));
}

/* Byte Count 4096 and Length 1024 are written as 0. */
TEST(kat_max_sizes)
{
	static uint8_t data[4096];
	uint8_t buf[SOFTEE_TLP_MAX_SIZE];
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_CPLD, .len_dw = 1024, .byte_count = 4096, .data = data,
	}, d;

	ASSERT_EQ(12 + 4096, softee_tlp_encode(&t, buf, sizeof(buf)));
	EXPECT_EQ(0, buf[2] & 3);
	EXPECT_EQ(0, buf[3]);
	EXPECT_EQ(0, buf[6] & 0xf);
	EXPECT_EQ(0, buf[7]);
	ASSERT_EQ(12 + 4096, softee_tlp_decode(&d, buf, 12 + 4096, NULL));
	EXPECT_EQ(1024, d.len_dw);
	EXPECT_EQ(4096, d.byte_count);
	EXPECT_EQ(12 + 4096, softee_tlp_size(buf, sizeof(buf)));
}

/*
 * Decode want and compare every field with what the vector was written
 * from (e): the decoder must find each where the spec puts it.
 */
static void kat_fields(struct __test_metadata *_metadata, const struct softee_tlp *e,
		       const uint8_t *want, size_t want_len)
{
	struct softee_tlp d;

	ASSERT_EQ((int)want_len, softee_tlp_decode(&d, want, want_len, NULL));
	EXPECT_EQ(e->kind, d.kind);
	EXPECT_EQ(e->tc, d.tc);
	EXPECT_EQ(e->attr, d.attr);
	EXPECT_EQ(e->td, d.td);
	EXPECT_EQ(e->ep, d.ep);
	EXPECT_EQ(e->addr64, d.addr64);
	EXPECT_EQ(e->len_dw, d.len_dw);
	EXPECT_EQ(e->requester, d.requester);
	EXPECT_EQ(e->tag, d.tag);
	EXPECT_EQ(e->first_be, d.first_be);
	EXPECT_EQ(e->last_be, d.last_be);
	EXPECT_EQ(e->addr, d.addr);
	EXPECT_EQ(e->target, d.target);
	EXPECT_EQ(e->reg, d.reg);
	EXPECT_EQ(e->completer, d.completer);
	EXPECT_EQ(e->status, d.status);
	EXPECT_EQ(e->bcm, d.bcm);
	EXPECT_EQ(e->byte_count, d.byte_count);
	EXPECT_EQ(e->lower_addr, d.lower_addr);
	EXPECT_EQ(e->digest, d.digest);
	if (e->data) {
		ASSERT_NE(NULL, d.data);
		EXPECT_EQ(0, memcmp(e->data, d.data, 4u * e->len_dw));
	} else {
		EXPECT_EQ(NULL, d.data);
	}
}

/*
 * A 4DW MWr (Fmt 011): 2 DW at 0x42_8765_4320 from 0a:1f.7, tag 0x9C,
 * TC 3, No Snoop, with a digest.
 */
TEST(kat_mwr64)
{
	static const uint8_t data[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	static const uint8_t want[] = {
		0x60, 0x30, 0x90, 0x02,	/* Fmt 011 Type 00000; TC 011; TD 1, EP 0, Attr 01; Length 2 */
		0x0a, 0xff, 0x9c, 0x7e,	/* Requester 0a:1f.7 (00001010 11111 111), Tag, Last BE 0111, First BE 1110 */
		0x00, 0x00, 0x00, 0x42,	/* Address[63:32] */
		0x87, 0x65, 0x43, 0x20,	/* Address[31:2], R R */
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0xca, 0xfe, 0xf0, 0x0d,	/* digest */
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_MWR, .tc = 3, .attr = SOFTEE_TLP_ATTR_NS, .td = true,
		.addr64 = true, .len_dw = 2, .requester = SOFTEE_BDF(0x0a, 0x1f, 7), .tag = 0x9c,
		.first_be = 0xe, .last_be = 0x7, .addr = 0x4287654320ULL, .data = data,
		.digest = 0xcafef00d,
	};

	kat(_metadata, &t, want, sizeof(want));
	kat_fields(_metadata, &t, want, sizeof(want));
	/* addr64 is not needed above 4 GiB: the encoder picks 4DW itself */
	t.addr64 = false;
	kat(_metadata, &t, want, sizeof(want));
}

/* A 4DW MWr with every high address bit that can be set: 1 DW at 0xFEDC_BA98_7654_3210. */
TEST(kat_mwr64_high)
{
	static const uint8_t data[4] = { 0xa5, 0x5a, 0x0f, 0xf0 };
	static const uint8_t want[] = {
		0x60, 0x04, 0x40, 0x01,	/* Fmt 011; IDO (byte 1 bit 2); EP; Length 1 */
		0x00, 0x00, 0x00, 0x03,	/* Requester 00:00.0, Tag 0, Last BE 0000, First BE 0011 */
		0xfe, 0xdc, 0xba, 0x98,
		0x76, 0x54, 0x32, 0x10,
		0xa5, 0x5a, 0x0f, 0xf0,
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_MWR, .attr = SOFTEE_TLP_ATTR_IDO, .ep = true, .addr64 = true,
		.len_dw = 1, .first_be = 0x3, .addr = 0xfedcba9876543210ULL, .data = data,
	};

	kat(_metadata, &t, want, sizeof(want));
	kat_fields(_metadata, &t, want, sizeof(want));
}

/* A 3DW MRd (Fmt 000): 1 DW at 0xF000_0104, bytes 1..2, from 80:00.1, tag 0xFF, RO and NS. */
TEST(kat_mrd32)
{
	static const uint8_t want[] = {
		0x00, 0x00, 0x30, 0x01,	/* Fmt 000 Type 00000; TC 0; Attr 11; Length 1 */
		0x80, 0x01, 0xff, 0x06,	/* Requester 80:00.1, Tag 0xFF, Last BE 0000, First BE 0110 */
		0xf0, 0x00, 0x01, 0x04,	/* Address[31:2], R R */
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_MRD, .attr = SOFTEE_TLP_ATTR_RO | SOFTEE_TLP_ATTR_NS, .len_dw = 1,
		.requester = SOFTEE_BDF(0x80, 0, 1), .tag = 0xff, .first_be = 0x6,
		.addr = 0xf0000104,
	};

	kat(_metadata, &t, want, sizeof(want));
	kat_fields(_metadata, &t, want, sizeof(want));
}

/* A 3DW MRd of 1024 DW (Length written 0) at 0x2000 from 00:02.0, TC 7. */
TEST(kat_mrd32_1024)
{
	static const uint8_t want[] = {
		0x00, 0x70, 0x00, 0x00,	/* Fmt 000 Type 00000; TC 111; Length 0 = 1024 */
		0x00, 0x10, 0x01, 0xff,	/* Requester 00:02.0, Tag 1, Last BE 1111, First BE 1111 */
		0x00, 0x00, 0x20, 0x00,
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_MRD, .tc = 7, .len_dw = 1024, .requester = SOFTEE_BDF(0, 2, 0),
		.tag = 1, .first_be = 0xf, .last_be = 0xf, .addr = 0x2000,
	};

	kat(_metadata, &t, want, sizeof(want));
	kat_fields(_metadata, &t, want, sizeof(want));
}

/* A Cpl with Completer Abort (Status 100): Byte Count 0x104, Lower Address 0x7C. */
TEST(kat_cpl_ca)
{
	static const uint8_t want[] = {
		0x0a, 0x00, 0x00, 0x00,	/* Fmt 000 Type 01010; Length reserved */
		0x05, 0x02, 0x81, 0x04,	/* Completer 05:00.2; Status 100, BCM 0, Byte Count 0001 00000100 */
		0x00, 0x10, 0x33, 0x7c,	/* Requester 00:02.0, Tag 0x33, R, Lower Address 1111100 */
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_CPL, .completer = SOFTEE_BDF(5, 0, 2), .status = SOFTEE_TLP_CPL_CA,
		.byte_count = 0x104, .requester = SOFTEE_BDF(0, 2, 0), .tag = 0x33,
		.lower_addr = 0x7c,
	};

	kat(_metadata, &t, want, sizeof(want));
	kat_fields(_metadata, &t, want, sizeof(want));
}

/* A Cpl with Configuration Request Retry Status (Status 010) to a CfgRd0 of 4 bytes. */
TEST(kat_cpl_crs)
{
	static const uint8_t want[] = {
		0x0a, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x40, 0x04,	/* Completer 01:00.0; Status 010, BCM 0, Byte Count 4 */
		0x00, 0x00, 0x07, 0x00,	/* Requester 00:00.0, Tag 7, Lower Address 0 */
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_CPL, .completer = SOFTEE_BDF(1, 0, 0), .status = SOFTEE_TLP_CPL_CRS,
		.byte_count = 4, .tag = 7,
	};

	kat(_metadata, &t, want, sizeof(want));
	kat_fields(_metadata, &t, want, sizeof(want));
}

/* BCM (DW1 bit 12) on a successful CplD: Byte Count 0xA04, Lower Address 0x44. */
TEST(kat_cpld_bcm)
{
	static const uint8_t data[4] = { 0xde, 0xc0, 0xad, 0x0b };
	static const uint8_t want[] = {
		0x4a, 0x00, 0x00, 0x01,	/* Fmt 010 Type 01010; Length 1 */
		0x02, 0x08, 0x1a, 0x04,	/* Completer 02:01.0; Status 000, BCM 1, Byte Count 1010 00000100 */
		0x03, 0x00, 0xa0, 0x44,	/* Requester 03:00.0, Tag 0xA0, Lower Address 1000100 */
		0xde, 0xc0, 0xad, 0x0b,
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_CPLD, .len_dw = 1, .completer = SOFTEE_BDF(2, 1, 0),
		.status = SOFTEE_TLP_CPL_SC, .bcm = true, .byte_count = 0xa04,
		.requester = SOFTEE_BDF(3, 0, 0), .tag = 0xa0, .lower_addr = 0x44, .data = data,
	};

	kat(_metadata, &t, want, sizeof(want));
	kat_fields(_metadata, &t, want, sizeof(want));
}

/* Status, BCM and Byte Count side by side in DW1 bits 15..0, each at its largest. */
TEST(kat_cpl_ca_bcm)
{
	static const uint8_t want[] = {
		0x0a, 0x00, 0x00, 0x00,
		0xff, 0xff, 0x9f, 0xff,	/* Completer ff:1f.7; Status 100, BCM 1, Byte Count 0xFFF */
		0xff, 0xff, 0xff, 0x7f,	/* Requester ff:1f.7, Tag 0xFF, R 0, Lower Address 0x7F */
	};
	struct softee_tlp t = {
		.kind = SOFTEE_TLP_CPL, .completer = SOFTEE_BDF(0xff, 0x1f, 7),
		.status = SOFTEE_TLP_CPL_CA, .bcm = true, .byte_count = 0xfff,
		.requester = SOFTEE_BDF(0xff, 0x1f, 7), .tag = 0xff, .lower_addr = 0x7f,
	};

	kat(_metadata, &t, want, sizeof(want));
	kat_fields(_metadata, &t, want, sizeof(want));
}

/* The spec wants 3DW below 4 GiB; a 4DW one there is accepted and counted. */
TEST(addr64_below_4g)
{
	static const uint8_t tlp[] = {
		0x20, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0f,
		0x00, 0x00, 0x00, 0x00, 0xfe, 0xe0, 0x00, 0x00,
	};
	struct softee_tlp_stats st = { 0 };
	struct softee_tlp t = { .kind = SOFTEE_TLP_MRD, .len_dw = 1, .first_be = 0xf,
				.addr = 0xfee00000 }, d;
	uint8_t buf[32];

	ASSERT_EQ(16, softee_tlp_decode(&d, tlp, sizeof(tlp), &st));
	EXPECT_EQ(1, st.addr64_below_4g);
	EXPECT_EQ(0xfee00000, d.addr);
	/* the encoder writes 3DW there unless told */
	EXPECT_EQ(12, softee_tlp_encode(&t, buf, sizeof(buf)));
	t.addr64 = true;
	EXPECT_EQ(16, softee_tlp_encode(&t, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, tlp, 16));
}

/* ---- malformations ------------------------------------------------------- */

struct bad {
	const char *what;
	uint8_t b[24];
	uint8_t len;
	enum softee_tlp_err err;
};

static const struct bad bads[] = {
	{ "3 bytes", { 0x00, 0x00, 0x00 }, 3, SOFTEE_TLP_ERR_SHORT },
	{ "MRd cut at 11", { 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0x0f, 0, 0, 0 }, 11, SOFTEE_TLP_ERR_SHORT },
	{ "4DW MRd cut at 12", { 0x20, 0, 0, 1, 0, 0, 0, 0x0f, 0, 0, 0, 1 }, 12, SOFTEE_TLP_ERR_SHORT },
	{ "TLP prefix", { 0x80, 0, 0, 0 }, 16, SOFTEE_TLP_ERR_FMT_TYPE },
	{ "Fmt 101", { 0xa0, 0, 0, 0 }, 16, SOFTEE_TLP_ERR_FMT_TYPE },
	{ "Msg", { 0x30, 0, 0, 0 }, 16, SOFTEE_TLP_ERR_FMT_TYPE },
	{ "MRdLk", { 0x01, 0, 0, 1, 0, 0, 0, 0x0f }, 12, SOFTEE_TLP_ERR_FMT_TYPE },
	{ "4DW CfgRd0", { 0x24, 0, 0, 1, 0, 0, 0, 0x0f }, 16, SOFTEE_TLP_ERR_FMT_TYPE },
	{ "MWr length 4, 2 DW there", { 0x40, 0, 0, 4, 0, 0, 0, 0xff, 0, 0, 0x10, 0 }, 20,
	  SOFTEE_TLP_ERR_LENGTH },
	{ "TD without digest", { 0x40, 0, 0x80, 1, 0, 0, 0, 0x0f, 0, 0, 0x10, 0 }, 16,
	  SOFTEE_TLP_ERR_LENGTH },
	{ "1 DW, Last BE 1111", { 0x40, 0, 0, 1, 0, 0, 0, 0xff, 0, 0, 0x10, 0 }, 16,
	  SOFTEE_TLP_ERR_BE_1DW },
	{ "2 DW, First BE 0", { 0x40, 0, 0, 2, 0, 0, 0, 0xf0, 0, 0, 0x10, 0 }, 20,
	  SOFTEE_TLP_ERR_BE_ZERO },
	{ "2 DW, Last BE 0", { 0x00, 0, 0, 2, 0, 0, 0, 0x0f, 0, 0, 0x10, 0 }, 12,
	  SOFTEE_TLP_ERR_BE_ZERO },
	{ "3 DW, First BE 0101", { 0x00, 0, 0, 3, 0, 0, 0, 0xf5, 0, 0, 0x10, 0 }, 12,
	  SOFTEE_TLP_ERR_BE_NONCONTIG },
	{ "3 DW, Last BE 1010", { 0x00, 0, 0, 3, 0, 0, 0, 0xaf, 0, 0, 0x10, 0 }, 12,
	  SOFTEE_TLP_ERR_BE_NONCONTIG },
	{ "2 DW not QW aligned, First BE 0101", { 0x00, 0, 0, 2, 0, 0, 0, 0x15, 0, 0, 0x10, 4 },
	  12, SOFTEE_TLP_ERR_BE_NONCONTIG },
	{ "R bit 7 of byte 1 (T9)", { 0x00, 0x80, 0, 1, 0, 0, 0, 0x0f, 0, 0, 0x10, 0 }, 12,
	  SOFTEE_TLP_ERR_RESERVED },
	{ "R bit 3 of byte 1 (T8)", { 0x00, 0x08, 0, 1, 0, 0, 0, 0x0f, 0, 0, 0x10, 0 }, 12,
	  SOFTEE_TLP_ERR_RESERVED },
	{ "R bit 1 of byte 1 (LN)", { 0x00, 0x02, 0, 1, 0, 0, 0, 0x0f, 0, 0, 0x10, 0 }, 12,
	  SOFTEE_TLP_ERR_RESERVED },
	{ "address bits 1:0", { 0x00, 0, 0, 1, 0, 0, 0, 0x0f, 0, 0, 0x10, 1 }, 12,
	  SOFTEE_TLP_ERR_RESERVED },
	{ "4DW address bits 1:0", { 0x20, 0, 0, 1, 0, 0, 0, 0x0f, 0, 0, 0, 1, 0, 0, 0, 2 }, 16,
	  SOFTEE_TLP_ERR_RESERVED },
	{ "Cfg byte 10 high nibble", { 0x04, 0, 0, 1, 0, 0, 0, 0x0f, 0, 0, 0x10, 0 }, 12,
	  SOFTEE_TLP_ERR_RESERVED },
	{ "Cfg byte 11 bits 1:0", { 0x04, 0, 0, 1, 0, 0, 0, 0x0f, 0, 0, 0, 2 }, 12,
	  SOFTEE_TLP_ERR_RESERVED },
	{ "Cpl byte 11 bit 7", { 0x0a, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0x80 }, 12,
	  SOFTEE_TLP_ERR_RESERVED },
	{ "Cpl with a Length", { 0x0a, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 0 }, 12,
	  SOFTEE_TLP_ERR_RESERVED },
	{ "Cpl with TH", { 0x0a, 0x01, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0 }, 12,
	  SOFTEE_TLP_ERR_RESERVED },
	{ "CfgRd0 TC 1", { 0x04, 0x10, 0, 1, 0, 0, 0, 0x0f, 0, 0, 0, 0 }, 12, SOFTEE_TLP_ERR_FIXED },
	{ "CfgRd0 Attr NS", { 0x04, 0, 0x10, 1, 0, 0, 0, 0x0f, 0, 0, 0, 0 }, 12, SOFTEE_TLP_ERR_FIXED },
	{ "CfgRd0 Length 2", { 0x04, 0, 0, 2, 0, 0, 0, 0x0f, 0, 0, 0, 0 }, 12, SOFTEE_TLP_ERR_FIXED },
	{ "CfgRd0 Last BE", { 0x04, 0, 0, 1, 0, 0, 0, 0x1f, 0, 0, 0, 0 }, 12, SOFTEE_TLP_ERR_BE_1DW },
	{ "IORd Length 2", { 0x02, 0, 0, 2, 0, 0, 0, 0x1f, 0, 0, 0, 0 }, 12, SOFTEE_TLP_ERR_FIXED },
	{ "MRd with TH", { 0x00, 0x01, 0, 1, 0, 0, 0, 0x0f, 0, 0, 0x10, 0 }, 12,
	  SOFTEE_TLP_ERR_UNSUPPORTED },
	{ "MRd with AT", { 0x00, 0, 0x04, 1, 0, 0, 0, 0x0f, 0, 0, 0x10, 0 }, 12,
	  SOFTEE_TLP_ERR_UNSUPPORTED },
	{ "MRd across 4 KiB", { 0x00, 0, 0, 2, 0, 0, 0, 0xff, 0, 0, 0x0f, 0xfc }, 12,
	  SOFTEE_TLP_ERR_4K },
	{ "Cpl status 011", { 0x0a, 0, 0, 0, 0, 0, 0x60, 4, 0, 0, 0, 0 }, 12, SOFTEE_TLP_ERR_STATUS },
	{ "Cpl status 111", { 0x0a, 0, 0, 0, 0, 0, 0xe0, 4, 0, 0, 0, 0 }, 12, SOFTEE_TLP_ERR_STATUS },
};

TEST(malformed_rejected_and_counted)
{
	struct softee_tlp_stats st = { 0 };
	uint64_t want[SOFTEE_TLP_ERR_MAX] = { 0 };
	struct softee_tlp t;
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		ret = softee_tlp_decode(&t, bads[i].b, bads[i].len, &st);
		EXPECT_EQ(-(int)bads[i].err, ret) {
			TH_LOG("%s: got %s, want %s", bads[i].what,
			       ret < 0 ? softee_tlp_err_name(-ret) : "ok",
			       softee_tlp_err_name(bads[i].err));
		}
		want[bads[i].err]++;
	}
	for (i = 1; i < SOFTEE_TLP_ERR_MAX; i++)
		EXPECT_EQ(want[i], st.err[i]) {
			TH_LOG("counter %s", softee_tlp_err_name(i));
		}
	EXPECT_EQ(0, st.ok);
}

/* The other side of the BE rules: what the spec allows is accepted. */
TEST(byte_enables_allowed)
{
	static const uint8_t ok[][12] = {
		{ 0x00, 0, 0, 1, 0, 0, 0, 0x00, 0, 0, 0x10, 0 },	/* zero-length read */
		{ 0x00, 0, 0, 1, 0, 0, 0, 0x05, 0, 0, 0x10, 0 },	/* 1 DW, non-contiguous */
		{ 0x00, 0, 0, 2, 0, 0, 0, 0x5a, 0, 0, 0x10, 0 },	/* 2 DW at a QW: any */
		{ 0x00, 0, 0, 3, 0, 0, 0, 0x1c, 0, 0, 0x10, 0 },	/* 3 DW contiguous */
		{ 0x00, 0, 0, 2, 0, 0, 0, 0xff, 0, 0, 0x0f, 0xf8 },	/* ends at 4 KiB exactly */
	};
	struct softee_tlp t;
	unsigned int i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		EXPECT_EQ(12, softee_tlp_decode(&t, ok[i], 12, NULL)) {
			TH_LOG("vector %u", i);
		}
}

/* No read past the buffer: every prefix of a valid TLP is refused. */
TEST(every_truncation)
{
	static uint8_t data[64];
	uint8_t buf[128];
	struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .len_dw = 16, .first_be = 0xf,
				.last_be = 0xf, .addr = 0x123400000ULL, .data = data, .td = true }, d;
	int n, i, ret;

	n = softee_tlp_encode(&t, buf, sizeof(buf));
	ASSERT_EQ(16 + 64 + 4, n);
	for (i = 0; i < n; i++) {
		ret = softee_tlp_decode(&d, buf, i, NULL);
		EXPECT_TRUE(ret == -SOFTEE_TLP_ERR_SHORT || ret == -SOFTEE_TLP_ERR_LENGTH);
	}
	EXPECT_EQ(n, softee_tlp_decode(&d, buf, n, NULL));
}

/* ---- round trips ----------------------------------------------------------- */

static void random_tlp(struct softee_prng *r, struct softee_tlp *t, uint8_t *data)
{
	static const uint8_t kinds[] = {
		SOFTEE_TLP_MRD, SOFTEE_TLP_MWR, SOFTEE_TLP_IORD, SOFTEE_TLP_IOWR,
		SOFTEE_TLP_CFGRD0, SOFTEE_TLP_CFGWR0, SOFTEE_TLP_CFGRD1, SOFTEE_TLP_CFGWR1,
		SOFTEE_TLP_CPL, SOFTEE_TLP_CPLD,
	};
	static const uint8_t status[] = { 0, 1, 2, 4 };
	uint64_t addr;
	uint32_t len, i;

	memset(t, 0, sizeof(*t));
	t->kind = kinds[softee_prng_below(r, sizeof(kinds))];
	t->td = softee_prng_below(r, 4) == 0;
	t->digest = softee_prng_next(r);
	t->ep = softee_prng_below(r, 8) == 0;
	t->requester = softee_prng_next(r);
	t->tag = softee_prng_next(r);
	switch (t->kind) {
	case SOFTEE_TLP_MRD:
	case SOFTEE_TLP_MWR:
		t->tc = softee_prng_below(r, 8);
		t->attr = softee_prng_below(r, 8);
		addr = softee_prng_next(r) >> (1 + softee_prng_below(r, 63));
		len = softee_prng_below(r, 4096 - (addr & 0xfff) + 1);
		if (len > 4096)
			len = 4096;
		softee_tlp_set_range(t, addr, len);
		t->addr64 = t->addr <= 0xffffffffULL && softee_prng_below(r, 8) == 0;
		break;
	case SOFTEE_TLP_IORD:
	case SOFTEE_TLP_IOWR:
		softee_tlp_set_range(t, softee_prng_next(r) & 0xfffc, 0);
		t->first_be = softee_prng_below(r, 16);
		break;
	case SOFTEE_TLP_CPL:
	case SOFTEE_TLP_CPLD:
		t->tc = softee_prng_below(r, 8);
		t->attr = softee_prng_below(r, 8);
		t->completer = softee_prng_next(r);
		/* 2.2.9: only a successful completion carries data */
		t->status = t->kind == SOFTEE_TLP_CPLD ? SOFTEE_TLP_CPL_SC : status[softee_prng_below(r, 4)];
		t->bcm = softee_prng_below(r, 2);
		t->byte_count = 1 + softee_prng_below(r, 4096);
		t->lower_addr = softee_prng_below(r, 128);
		t->len_dw = t->kind == SOFTEE_TLP_CPLD ? 1 + softee_prng_below(r, 1024) : 0;
		break;
	default:
		t->len_dw = 1;
		t->first_be = softee_prng_below(r, 16);
		t->target = softee_prng_next(r);
		t->reg = softee_prng_below(r, 1024);
		break;
	}
	for (i = 0; i < 4u * t->len_dw; i++)
		data[i] = softee_prng_next(r);
	t->data = softee_tlp_kind_has_data(t->kind) ? data : NULL;
}

TEST(round_trip_every_kind)
{
	static uint8_t data[4096], buf[SOFTEE_TLP_MAX_SIZE], buf2[SOFTEE_TLP_MAX_SIZE];
	struct softee_prng r;
	struct softee_tlp t, d;
	unsigned int seen[SOFTEE_TLP_KIND_MAX] = { 0 };
	int i, n, m;

	softee_prng_seed(&r, 1);
	for (i = 0; i < 200000; i++) {
		random_tlp(&r, &t, data);
		n = softee_tlp_encode(&t, buf, sizeof(buf));
		ASSERT_LT(0, n) {
			TH_LOG("encode %s failed", softee_tlp_kind_name(t.kind));
		}
		ASSERT_EQ(n, (int)softee_tlp_encoded_len(&t));
		ASSERT_EQ(n, softee_tlp_size(buf, n));
		ASSERT_EQ(n, softee_tlp_decode(&d, buf, n, NULL));
		ASSERT_EQ(t.kind, d.kind);
		ASSERT_EQ(t.tc, d.tc);
		ASSERT_EQ(t.attr, d.attr);
		ASSERT_EQ(t.td, d.td);
		ASSERT_EQ(t.ep, d.ep);
		ASSERT_EQ(t.len_dw, d.len_dw);
		ASSERT_EQ(t.requester, d.requester);
		ASSERT_EQ(t.tag, d.tag);
		ASSERT_EQ(t.first_be, d.first_be);
		ASSERT_EQ(t.last_be, d.last_be);
		ASSERT_EQ(t.addr, d.addr);
		ASSERT_EQ(t.target, d.target);
		ASSERT_EQ(t.reg, d.reg);
		ASSERT_EQ(t.completer, d.completer);
		ASSERT_EQ(t.status, d.status);
		ASSERT_EQ(t.bcm, d.bcm);
		ASSERT_EQ(t.byte_count, d.byte_count);
		ASSERT_EQ(t.lower_addr, d.lower_addr);
		if (t.td)
			ASSERT_EQ(t.digest, d.digest);
		if (t.data)
			ASSERT_EQ(0, memcmp(t.data, d.data, 4u * t.len_dw));
		m = softee_tlp_encode(&d, buf2, sizeof(buf2));
		ASSERT_EQ(n, m);
		ASSERT_EQ(0, memcmp(buf, buf2, n));
		seen[t.kind]++;
	}
	for (i = 1; i < SOFTEE_TLP_KIND_MAX; i++)
		EXPECT_LT(1000, seen[i]);
}

/* The encoder refuses what the decoder would. */
TEST(encode_refuses)
{
	static uint8_t data[8];
	uint8_t buf[64];
	struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .len_dw = 2, .first_be = 0xf,
				.last_be = 0, .addr = 0x1000, .data = data };

	EXPECT_EQ(-EINVAL, softee_tlp_encode(&t, buf, sizeof(buf)));	/* Last BE 0 */
	t.last_be = 0xf;
	t.addr = 0x1ffc;
	EXPECT_EQ(-EINVAL, softee_tlp_encode(&t, buf, sizeof(buf)));	/* crosses 4 KiB */
	t.addr = 0x1001;
	EXPECT_EQ(-EINVAL, softee_tlp_encode(&t, buf, sizeof(buf)));	/* not DW aligned */
	t.addr = 0x1000;
	EXPECT_EQ(-ENOSPC, softee_tlp_encode(&t, buf, 12 + 7));
	EXPECT_EQ(20, softee_tlp_encode(&t, buf, 20));
	t.data = NULL;
	EXPECT_EQ(-EINVAL, softee_tlp_encode(&t, buf, sizeof(buf)));
	t = (struct softee_tlp){ .kind = SOFTEE_TLP_CPL, .status = 3, .byte_count = 4 };
	EXPECT_EQ(-EINVAL, softee_tlp_encode(&t, buf, sizeof(buf)));
	t.status = 0;
	t.byte_count = 0;
	EXPECT_EQ(-EINVAL, softee_tlp_encode(&t, buf, sizeof(buf)));
	t = (struct softee_tlp){ .kind = 0 };
	EXPECT_EQ(-EINVAL, softee_tlp_encode(&t, buf, sizeof(buf)));
	/* data with a completion that did not succeed: a CplD must be SC */
	t = (struct softee_tlp){ .kind = SOFTEE_TLP_CPLD, .status = SOFTEE_TLP_CPL_UR,
				 .byte_count = 4, .len_dw = 1, .data = data };
	EXPECT_EQ(-EINVAL, softee_tlp_encode(&t, buf, sizeof(buf)));
	t.status = SOFTEE_TLP_CPL_SC;
	ASSERT_EQ(16, softee_tlp_encode(&t, buf, sizeof(buf)));
	buf[6] |= 0x20;		/* Completion Status 001b (UR): decoded, refused */
	{
		struct softee_tlp d;

		EXPECT_EQ(-SOFTEE_TLP_ERR_FIXED, softee_tlp_decode(&d, buf, 16, NULL));
	}
}

/* ---- bytes <-> DWs ----------------------------------------------------------- */

/* The enables of a byte range, bit by bit, from first principles. */
static void enables_naive(uint64_t addr, uint32_t len, uint32_t *dws, uint8_t *fbe, uint8_t *lbe)
{
	uint64_t base = addr & ~3ULL, a;
	uint32_t n = 0;
	uint8_t be[1100] = { 0 };

	for (a = addr; a < addr + len; a++)
		be[(a - base) / 4] |= 1 << ((a - base) % 4);
	n = len ? (uint32_t)((addr + len - 1 - base) / 4 + 1) : 1;
	*dws = n;
	*fbe = be[0];
	*lbe = n > 1 ? be[n - 1] : 0;
}

TEST(byte_ranges)
{
	struct softee_tlp t = { .kind = SOFTEE_TLP_MRD };
	uint32_t off, len, dws, back_len;
	uint64_t back;
	uint8_t fbe, lbe;

	for (off = 0; off < 16; off++) {
		for (len = 0; len <= 300; len++) {
			uint64_t addr = 0x7000 + off;

			ASSERT_EQ(0, softee_tlp_set_range(&t, addr, len));
			enables_naive(addr, len, &dws, &fbe, &lbe);
			ASSERT_EQ(dws, t.len_dw);
			ASSERT_EQ(fbe, t.first_be);
			ASSERT_EQ(lbe, t.last_be);
			ASSERT_EQ(addr & ~3ULL, t.addr);
			softee_tlp_range(&t, &back, &back_len);
			ASSERT_EQ(len, back_len);
			if (len)
				ASSERT_EQ(addr, back);
		}
	}
	EXPECT_EQ(-EINVAL, softee_tlp_set_range(&t, 0xffe, 4));		/* crosses 4 KiB */
	EXPECT_EQ(0, softee_tlp_set_range(&t, 0xffc, 4));
	EXPECT_EQ(0, softee_tlp_set_range(&t, 0x1000, 4096));
	EXPECT_EQ(1024, t.len_dw);
	EXPECT_EQ(-EINVAL, softee_tlp_set_range(&t, 0x1000, 4097));
	/* 1-DW non-contiguous: the range spans the holes (Byte Count rules, 2.3.1.1) */
	t.len_dw = 1;
	t.first_be = 0x9;
	t.last_be = 0;
	t.addr = 0x100;
	softee_tlp_range(&t, &back, &back_len);
	EXPECT_EQ(0x100, back);
	EXPECT_EQ(4, back_len);
	t.first_be = 0x6;
	softee_tlp_range(&t, &back, &back_len);
	EXPECT_EQ(0x101, back);
	EXPECT_EQ(2, back_len);
}

/* Split completions cover the read exactly, on RCB boundaries, within MPS. */
TEST(split_completions)
{
	static const uint32_t mps[] = { 64, 128, 256, 512, 4096 };
	struct softee_prng r;
	struct softee_tlp req = { .kind = SOFTEE_TLP_MRD, .tag = 3 }, cpl;
	uint32_t i, k, done, len, rcb, max;
	uint64_t addr, cur;
	int n;

	softee_prng_seed(&r, 2);
	for (i = 0; i < 20000; i++) {
		addr = (softee_prng_next(&r) & 0xffff0000) | softee_prng_below(&r, 4096);
		len = 1 + softee_prng_below(&r, 4096 - (addr & 0xfff));
		rcb = softee_prng_below(&r, 2) ? 64 : 128;
		max = mps[softee_prng_below(&r, 5)];
		if (max < rcb)
			max = rcb;
		ASSERT_EQ(0, softee_tlp_set_range(&req, addr, len));
		done = 0;
		cur = addr;
		for (k = 0; (n = softee_tlp_cpl_split(&req, done, max, rcb, &cpl)) > 0; k++) {
			ASSERT_EQ(len - done, cpl.byte_count);
			ASSERT_EQ(cur & 0x7f, cpl.lower_addr);
			ASSERT_LE(4u * cpl.len_dw, max);
			ASSERT_EQ(((cur + n + 3) & ~3ULL) - (cur & ~3ULL), 4ULL * cpl.len_dw);
			if (done + n < len)
				ASSERT_EQ(0, (cur + n) % rcb);
			ASSERT_EQ(3, cpl.tag);
			done += n;
			cur += n;
		}
		ASSERT_EQ(0, n);
		ASSERT_EQ(len, done);
	}
	/* the last page of the 64-bit space (found by fuzz_tlp: cur + max wrapped) */
	ASSERT_EQ(0, softee_tlp_set_range(&req, 0xffffffffffffff00ULL, 132));
	ASSERT_EQ(128, softee_tlp_cpl_split(&req, 0, 128, 64, &cpl));
	ASSERT_EQ(4, softee_tlp_cpl_split(&req, 128, 128, 64, &cpl));
	EXPECT_EQ(4, cpl.byte_count);
	EXPECT_EQ(1, cpl.len_dw);
	EXPECT_EQ(0, softee_tlp_cpl_split(&req, 132, 128, 64, &cpl));
	/* zero-length read: one CplD, Byte Count 1 */
	softee_tlp_set_range(&req, 0x2000, 0);
	ASSERT_EQ(1, softee_tlp_cpl_split(&req, 0, 128, 64, &cpl));
	EXPECT_EQ(1, cpl.byte_count);
	EXPECT_EQ(1, cpl.len_dw);
	/* config read: Byte Count 4, Lower Address 0 */
	req = (struct softee_tlp){ .kind = SOFTEE_TLP_CFGRD0, .len_dw = 1, .first_be = 0x3 };
	ASSERT_EQ(4, softee_tlp_cpl_split(&req, 0, 128, 64, &cpl));
	EXPECT_EQ(4, cpl.byte_count);
	EXPECT_EQ(0, cpl.lower_addr);
	EXPECT_EQ(-EINVAL, softee_tlp_cpl_split(&req, 0, 100, 64, &cpl));
}

TEST_HARNESS_MAIN
