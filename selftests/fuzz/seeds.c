// SPDX-License-Identifier: GPL-2.0
/*
 * Seed inputs for the fuzz harnesses, built with the codecs themselves:
 * valid TLPs of every kind, frames of every type, and a short session for
 * the transport harness.  Usage: seeds DIR (writes DIR/{tlp,frame,transport}/).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <softee/frame.h>
#include <softee/tlp.h>

static const char *dir;

static void put(const char *h, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, h, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

static int tlps(uint8_t (*out)[64], int *len)
{
	static const uint8_t data[32] = { 0x41, 0x40 };
	struct softee_tlp t[] = {
		{ .kind = SOFTEE_TLP_MWR, .len_dw = 1, .first_be = 0xf, .addr = 0xfee00000, .data = data },
		{ .kind = SOFTEE_TLP_MWR, .len_dw = 8, .first_be = 0xe, .last_be = 0x7,
		  .addr = 0x123456780ULL, .data = data, .td = true },
		{ .kind = SOFTEE_TLP_MRD, .len_dw = 16, .first_be = 0xf, .last_be = 0xf, .addr = 0x10000040, .tag = 3 },
		{ .kind = SOFTEE_TLP_MRD, .len_dw = 1, .addr = 0x2000 },
		{ .kind = SOFTEE_TLP_CFGRD0, .len_dw = 1, .first_be = 0xf, .target = 0x19, .reg = 0x41 },
		{ .kind = SOFTEE_TLP_CFGWR1, .len_dw = 1, .first_be = 0x3, .target = 0x200, .reg = 1, .data = data },
		{ .kind = SOFTEE_TLP_IORD, .len_dw = 1, .first_be = 0x1, .addr = 0xcf8 },
		{ .kind = SOFTEE_TLP_CPL, .status = SOFTEE_TLP_CPL_UR, .byte_count = 4, .completer = 0x100 },
		{ .kind = SOFTEE_TLP_CPLD, .len_dw = 4, .byte_count = 200, .lower_addr = 0x40, .data = data },
	};
	int i, n = sizeof(t) / sizeof(t[0]);

	for (i = 0; i < n; i++) {
		len[i] = softee_tlp_encode(&t[i], out[i], 64);
		if (len[i] < 0) {
			fprintf(stderr, "seed TLP %d: %d\n", i, len[i]);
			exit(1);
		}
	}
	return n;
}

static const uint8_t mac_t[6] = { 0x02, 0, 0, 0, 0, 1 };	/* the sim's port 0 */
static const uint8_t mac_p[6] = { 0x02, 0, 0, 0, 0, 2 };	/* and port 1 */

static uint32_t frame(uint8_t *buf, uint8_t type, uint8_t flags, bool vlan, uint32_t seq,
		      uint32_t ack, const uint8_t (*t)[64], const int *tl, int nt,
		      const void *body, uint32_t blen)
{
	struct softee_frame_hdr h = { .type = type, .flags = flags, .vlan = vlan, .group = 9,
				      .seq = seq, .ack = ack, .tsval = 1000, .tsecr = 900 };
	struct softee_frame_build b;
	int i;

	memcpy(h.dst, type == SOFTEE_FRAME_HEARTBEAT ? (const uint8_t *)"\xff\xff\xff\xff\xff\xff" : mac_t, 6);
	memcpy(h.src, mac_p, 6);
	softee_frame_begin(&b, buf, 1518, &h);
	for (i = 0; i < nt; i++)
		softee_frame_add_tlp(&b, t[i], tl[i]);
	if (body)
		softee_frame_add_bytes(&b, body, blen);
	return softee_frame_finish(&b);
}

int main(int argc, char **argv)
{
	static const char *const hs[] = { "tlp", "frame", "transport" };
	struct softee_frame_hb hb = { .role = SOFTEE_ROLE_BOX, .period_ms = 1, .node_id = 2,
				      .incarnation = 5, .name = "seed" };
	uint8_t t[16][64], body[SOFTEE_HB_LEN], reset[4] = { SOFTEE_RESET_RESYNC };
	uint8_t buf[1600], rec[8192];
	char path[4096], name[32];
	int tl[16], n, i;
	uint32_t len, r = 0;

	if (argc != 2)
		return 2;
	dir = argv[1];
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, hs[i]);
		if (mkdir(path, 0755) && errno != EEXIST)
			return 1;
	}
	n = tlps(t, tl);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "tlp%d", i);
		put("tlp", name, t[i], tl[i]);
	}
	softee_frame_hb_put(body, &hb);
	/* frames: byte 0 is the harness's control byte (1: fix the CRC) */
	struct { const char *name; uint8_t type, flags; bool vlan; int nt; const void *b; uint32_t bl; } fs[] = {
		{ "data", SOFTEE_FRAME_DATA, SOFTEE_FRAME_F_SYN, false, 3, NULL, 0 },
		{ "data_vlan", SOFTEE_FRAME_DATA, SOFTEE_FRAME_F_ACK | SOFTEE_FRAME_F_TSECR, true, 9, NULL, 0 },
		{ "ack", SOFTEE_FRAME_ACK, SOFTEE_FRAME_F_ACK | SOFTEE_FRAME_F_NAK, false, 0, NULL, 0 },
		{ "hb", SOFTEE_FRAME_HEARTBEAT, 0, false, 0, body, sizeof(body) },
		{ "reset", SOFTEE_FRAME_RESET, 0, false, 0, reset, sizeof(reset) },
	};
	for (i = 0; i < (int)(sizeof(fs) / sizeof(fs[0])); i++) {
		buf[0] = 1;
		len = frame(buf + 1, fs[i].type, fs[i].flags, fs[i].vlan, 7, 3, t, tl, fs[i].nt,
			    fs[i].b, fs[i].bl);
		put("frame", fs[i].name, buf, len + 1);
	}
	/* a session: heartbeat, SYN data, more data, a NAK, a reset; ctl 0x17 = fix CRC, our MACs, 1 tick */
#define REC(ctl, l) do { rec[r] = (ctl); rec[r + 1] = (l) >> 8; rec[r + 2] = (l); \
			 memcpy(rec + r + 3, buf, (l)); r += 3 + (l); } while (0)
	len = frame(buf, SOFTEE_FRAME_HEARTBEAT, 0, false, 0, 0, t, tl, 0, body, sizeof(body));
	REC(0x13, len);
	len = frame(buf, SOFTEE_FRAME_DATA, SOFTEE_FRAME_F_SYN, false, 100, 0, t, tl, 3, NULL, 0);
	REC(0x1f, len);
	len = frame(buf, SOFTEE_FRAME_DATA, 0, false, 101, 0, t + 3, tl + 3, 3, NULL, 0);
	REC(0x17, len);
	len = frame(buf, SOFTEE_FRAME_DATA, 0, false, 103, 0, t + 6, tl + 6, 3, NULL, 0);
	REC(0x17, len);
	len = frame(buf, SOFTEE_FRAME_ACK, SOFTEE_FRAME_F_ACK | SOFTEE_FRAME_F_NAK, false, 0, 0, t, tl, 0, NULL, 0);
	REC(0x2f, len);
	len = frame(buf, SOFTEE_FRAME_RESET, 0, false, 0, 1, t, tl, 0, reset, sizeof(reset));
	REC(0x37, len);
	put("transport", "session", rec, r);
	return 0;
}
