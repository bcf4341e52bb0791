// SPDX-License-Identifier: GPL-2.0
/*
 * The example frames of Documentation/wire.rst are the codec's output:
 * each dump is read from the page and compared, byte for byte, with the
 * frame the codec builds from the fields the page describes.  A codec or
 * a page that drifts from the other fails here.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include <softee/frame.h>
#include <softee/tlp.h>

#define WIRE_RST	"Documentation/wire.rst"
#define DUMP_MAX	256

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };

/*
 * The dump of the literal block after the paragraph of WIRE_RST whose
 * first line with marker comes first: each indented line's leading
 * two-digit hex words, up to the block's end.  Its length, or -1 (no file, no marker, no dump).
 */
static int doc_dump(const char *marker, uint8_t *out, int cap)
{
	char line[512], *p, *end;
	bool found = false, past_text = false, in_block = false;
	FILE *f = fopen(WIRE_RST, "r");
	int n = 0;
	long v;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!found) {
			found = strstr(line, marker) != NULL;
			continue;
		}
		if (line[0] == '\n') {
			if (in_block)
				break;
			past_text = true;	/* the blank line before the block */
			continue;
		}
		if (!past_text)
			continue;	/* the rest of the marker's paragraph */
		if (line[0] != ' ')
			break;
		in_block = true;
		for (p = line; *p == ' '; p++)
			;
		for (;;) {
			if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
			    (p[2] != ' ' && p[2] != '\n'))
				break;
			v = strtol(p, &end, 16);
			if (end != p + 2 || n == cap) {
				fclose(f);
				return -1;
			}
			out[n++] = (uint8_t)v;
			p += 2;
			if (*p != ' ' || p[1] == ' ')	/* two spaces: a comment follows */
				break;
			p++;
		}
	}
	fclose(f);
	return found && n ? n : -1;
}

/* The page's two TLPs: the MSI write of its TLP section and a 1-DW read. */
static int msi_mwr(uint8_t *buf)
{
	static const uint8_t data[4] = { 0x41, 0x40, 0x00, 0x00 };
	struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .len_dw = 1, .requester = 0x0100,
				.first_be = 0xf, .addr = 0xfee00000, .data = data };

	return softee_tlp_encode(&t, buf, 64);
}

static int mrd(uint8_t *buf)
{
	struct softee_tlp t = { .kind = SOFTEE_TLP_MRD, .len_dw = 1, .requester = 0x0100,
				.tag = 7, .first_be = 0xf, .addr = 0xfebf0010 };

	return softee_tlp_encode(&t, buf, 64);
}

static struct softee_frame_hdr data_hdr(bool vlan)
{
	struct softee_frame_hdr h = {
		.vlan = vlan, .type = SOFTEE_FRAME_DATA,
		.flags = SOFTEE_FRAME_F_ACK | SOFTEE_FRAME_F_TSECR, .group = 7,
		.seq = 0x100, .ack = 0x2a, .tsval = 0x3b9aca00, .tsecr = 0x3b9ac000,
	};

	memcpy(h.dst, mac_b, 6);
	memcpy(h.src, mac_a, 6);
	return h;
}

static void same(struct __test_metadata *_metadata, const char *marker,
		 const uint8_t *built, uint32_t len)
{
	uint8_t doc[DUMP_MAX];
	int n = doc_dump(marker, doc, sizeof(doc)), i;

	ASSERT_LT(0, n) {
		TH_LOG("no dump after \"%s\" in %s (run from the top of the tree)", marker, WIRE_RST);
	}
	ASSERT_EQ(len, (uint32_t)n);
	for (i = 0; i < n && built[i] == doc[i]; i++)
		;
	EXPECT_EQ(n, i) {
		TH_LOG("byte %d: the codec gives %02x, the page %02x", i, built[i], doc[i]);
	}
}

/* The page's data frame: the MSI write, and the read unless one_tlp; its length. */
static uint32_t data_frame(struct __test_metadata *_metadata, uint8_t *buf, bool vlan,
			   bool one_tlp)
{
	struct softee_frame_hdr h = data_hdr(vlan);
	struct softee_frame_build b;
	uint8_t tlp[64];
	int n;

	EXPECT_EQ(0, softee_frame_begin(&b, buf, DUMP_MAX, &h));
	n = msi_mwr(tlp);
	EXPECT_EQ(16, n);
	EXPECT_EQ(0, softee_frame_add_tlp(&b, tlp, n));
	if (!one_tlp) {
		n = mrd(tlp);
		EXPECT_EQ(12, n);
		EXPECT_EQ(0, softee_frame_add_tlp(&b, tlp, n));
	}
	return softee_frame_finish(&b);
}

TEST(data_frame_two_tlps)
{
	uint8_t buf[DUMP_MAX];

	same(_metadata, "this dump is the codec's output", buf,
	     data_frame(_metadata, buf, false, false));
}

TEST(data_frame_tagged)
{
	uint8_t buf[DUMP_MAX];

	same(_metadata, "The same frame with one TLP and an 802.1Q tag (VID 7)::", buf,
	     data_frame(_metadata, buf, true, true));
}

TEST(heartbeat)
{
	struct softee_frame_hdr h = {
		.type = SOFTEE_FRAME_HEARTBEAT, .group = 7, .seq = 5, .tsval = 0x3b9aca00,
	};
	struct softee_frame_hb hb = { .role = SOFTEE_ROLE_BOX, .period_ms = 100, .node_id = 2,
				      .incarnation = 0x1234abcd, .name = "box-a" };
	uint8_t buf[DUMP_MAX], body[SOFTEE_HB_LEN];
	struct softee_frame_build b;

	memset(h.dst, 0xff, 6);
	memcpy(h.src, mac_b, 6);
	softee_frame_hb_put(body, &hb);
	ASSERT_EQ(0, softee_frame_begin(&b, buf, sizeof(buf), &h));
	ASSERT_EQ(0, softee_frame_add_bytes(&b, body, SOFTEE_HB_LEN));
	same(_metadata, "Example (box-a, node 2, group 7)::", buf, softee_frame_finish(&b));
}

TEST_HARNESS_MAIN
